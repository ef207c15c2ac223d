"""bootstrap.bat under Wine's cmd, with real Windows executables standing in for micromamba,
python, curl and certutil (tests/support/winstandin.c). What cmd.exe itself decides is real
here: argument handling, naming, directory and cache rules, refusals, exit codes, quoting.
The expected values come from mambaboot's own Python code for a Windows host."""

import contextlib
import hashlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from mambaboot.commands import create as create_command
from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host
from mambaboot.common.locations import resolve_envs_dir
from mambaboot.pipeline.plan import PINNED_MICROMAMBA, CreateInputs, make_plan, resolve_cache_dir, resolve_pkgs_dirs
from mambaboot.common import isolation
from mambaboot.shell.activation import powershell
from tests.conftest import REPO
from tests.support.snapshot import diff, snapshot
from tests.support.targets import HOLDS_PYTHON, IS_FILE, OURS, USER_DIR, occupy
from tests.support.wine import Wine, file_url, read_log
from tests.support.wine import windows_path as win

SCRIPT = REPO / "bootstrap" / "bootstrap.bat"
ODD = "a&b (c) ^d"  # cmd.exe's special characters, in every directory the script touches


@dataclass
class WinWorld:
    wine: Wine
    root: Path
    dist: Path
    envs: Path
    cache: Path
    releases: Path
    log: Path
    binary: bytes = field(repr=False)

    def run(self, *args: str, env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, before=(),
            cache: bool = True, cd: bool = True):
        """cd=False: the script starts where `before` left cmd, not in cwd (or envs)."""
        full = ["--cache-dir", win(self.cache), *args] if cache else list(args)
        base = {"MAMBABOOT_RELEASES_URL": file_url(self.releases), "STANDIN_LOG": win(self.log)}
        return self.wine.run_bat(self.dist / "bootstrap.bat", full, env={**base, **(env or {})},
                                 cwd=(cwd or win(self.envs)) if cd else None, before=before)

    def runs(self, role: Optional[str] = None) -> List[dict]:
        return [e for e in read_log(self.log) if role is None or e["role"] == role]

    def serve(self, version: str, data: bytes, digest_text: Optional[str] = None) -> None:
        d = self.releases / "download" / version
        d.mkdir(parents=True, exist_ok=True)
        (d / "micromamba-win-64").write_bytes(data)
        (d / "micromamba-win-64.sha256").write_text(digest_text or hashlib.sha256(data).hexdigest())


@pytest.fixture
def ww(wine, tmp_path) -> WinWorld:
    dist = tmp_path / f"dist {ODD}"
    dist.mkdir()
    shutil.copy(SCRIPT, dist / "bootstrap.bat")
    (dist / "mambaboot.pyz").write_bytes(b"the python stand-in does not read it")
    envs = tmp_path / f"envs {ODD}"
    envs.mkdir()
    w = WinWorld(wine, tmp_path, dist, envs, tmp_path / f"cache {ODD} !x", tmp_path / "releases",
                 tmp_path / "standin.jsonl", wine.standin.read_bytes())
    w.serve(PINNED_MICROMAMBA, w.binary)
    return w


def windows_host(ww: WinWorld, cwd: str, environ: Optional[Dict[str, str]] = None) -> Host:
    return Host(environ=environ or {}, windows=True, subdir="win-64", cwd=cwd,
                isdir=lambda p: ww.wine.unix(p).is_dir())


def test_it_runs_micromamba_like_create_and_hands_over_like_create(ww):
    (ww.root / "other-env" / "conda-meta").mkdir(parents=True)  # an environment on the user's PATH
    r = ww.run("demo", "3.12", "--channel", f"file:///Z:/chan {ODD}", "--package", "numpy>=1.26,<2",
               env={"CONDA_PKGS_DIRS": " relative pkgs , Z:\\abs\\pkgs,", "MAMBA_ROOT_PREFIX": "Z:\\elsewhere",
                    "PYTHONSTARTUP": "x.py", "STANDIN_PYTHON_EXIT": "0", "CONDARC": "Z:\\poison\\condarc",
                    # a company network: carried over as create does on Windows (engine/network.py)
                    "REQUESTS_CA_BUNDLE": "Z:\\pki\\company ca.pem", "MAMBA_SSL_NO_REVOKE": "1",
                    "CONDA_OVERRIDE_CUDA": "12.4"},
               before=[f'set "PATH={win(ww.root / "other-env" / "Scripts")};%PATH%"'])
    assert r.returncode == 0, r.stderr
    roles = [e["role"] for e in ww.runs()]
    assert roles == ["curl", "curl", "certutil", "micromamba", "python", "python-c"], roles
    steps = [line.split(":", 1)[0] for line in r.stderr.splitlines()]
    assert [s for s in steps if s in ("shell", "target", "micromamba", "next")] == ["shell", "target", "micromamba",
                                                                                    "next"], r.stderr
    assert "(downloaded, sha256" in r.stderr
    assert "Transaction finished" not in r.stderr + r.stdout, "micromamba's own output is not shown"

    cwd = win(ww.envs)
    user_env = {"CONDA_PKGS_DIRS": " relative pkgs , Z:\\abs\\pkgs,"}
    host = windows_host(ww, cwd, user_env)
    plan = make_plan(host, CreateInputs(name="demo", python="3.12", channels=(f"file:///Z:/chan {ODD}",),
                                        packages=("numpy>=1.26,<2",), cache_dir=win(ww.cache)))
    engine = ww.runs("micromamba")[0]
    binary = engine["argv"][0]
    assert binary == win(ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-win-64" / "micromamba.exe")
    env = engine["env"]
    home = env["USERPROFILE"]
    # written out, not rebuilt by the code under test: the private Python in the work directory, of
    # the user's version from the user's channels, the private root in the private home, Windows'
    # lock timeout; the user's packages are create's
    work = ww.wine.unix(home).parent  # the run's work directory, named as mambaboot names its own
    assert engine["argv"] == [binary, "create", "--yes", "--no-rc", "--override-channels", "-c", f"file:///Z:/chan {ODD}",
                              "--prefix", win(work / "python"), "--root-prefix", home + "\\root", "--no-shortcuts",
                              "--lock-timeout", "600", "python=3.12"]
    assert ww.wine.unix(home).name == "home" and work.parent == ww.cache / "tmp", home
    assert re.fullmatch("mambaboot-tmp-[0-9a-f]{32}-bootstrap", work.name), home
    assert {k: env[k] for k in ("HOME", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP", "HOMEDRIVE", "HOMEPATH")} == {
        "HOME": home, "APPDATA": home + "\\AppData\\Roaming", "LOCALAPPDATA": home + "\\AppData\\Local",
        "TEMP": home + "\\tmp", "TMP": home + "\\tmp", "HOMEDRIVE": home[:2], "HOMEPATH": home[2:]}
    assert env["CONDA_PKGS_DIRS"] == ",".join(plan.pkgs_dirs) == f"{cwd}\\relative pkgs,Z:\\abs\\pkgs"
    # as libmamba reads it (YAML): the flag a boolean yaml-cpp knows; a CA file never replaces
    # Windows' certificate store Schannel checks against (curl#3727)
    carried = {"CONDA_PKGS_DIRS": env["CONDA_PKGS_DIRS"], "MAMBA_SSL_NO_REVOKE": "true", "CONDA_OVERRIDE_CUDA": "12.4"}
    assert {k: v for k, v in env.items() if k.upper().startswith(("CONDA_", "MAMBA_", "PYTHON"))} == carried
    assert not [k for k in env if k.upper() in ("CONDARC", "MAMBARC")], "conda's and mamba's rc file variables stay out"
    assert not [e for e in env["PATH"].split(";") if "other-env" in e], "another environment never reaches micromamba"
    assert not list((ww.cache / "tmp").iterdir()), "the private home and temp dirs are gone"

    python = ww.runs("python")[0]
    assert python["argv"][:4] == [win(work / "python" / "python.exe"), "-I", win(ww.dist / "mambaboot.pyz"), "create"]
    args = create_command_args(python["argv"])
    digest = hashlib.sha256(ww.binary).hexdigest()
    assert (args.micromamba, args.micromamba_sha256) == (binary, digest), "the verified binary, by path"
    handed = make_plan(host, create_inputs(args)).to_dict()
    assert {k: v for k, v in handed.items() if k != "micromamba"} == {k: v for k, v in plan.to_dict().items()
                                                                      if k != "micromamba"}, "create's plan"
    assert handed["prefix"] == f"{cwd}\\demo_3_12"
    assert "other-env" in python["env"]["PATH"] and python["env"]["PYTHONSTARTUP"] == "x.py", "the user's own environment"
    assert not [e for e in python["env"]["PATH"].split(";") if "mambaboot-tmp-" in e], "the private Python on no PATH"
    assert not [k for k in python["env"] if k.upper().startswith("MB_")], "the script's variables are gone"
    assert f'next: call "{cwd}\\demo_3_12\\.mambaboot\\activate.bat"' in r.stderr.splitlines()[-1], r.stderr
    # and the line PowerShell runs under any execution policy, from mambaboot's own quoting on the
    # private Python, before its directory goes (the real one: test_windows_python.py)
    (line,) = ww.runs("python-c")
    assert line["argv"][:5] == [win(work / "python" / "python.exe"), "-I", "-X", "utf8", "-c"]
    assert line["argv"][6:] == [win(ww.dist / "mambaboot.pyz"), f"{cwd}\\demo_3_12"], line["argv"]
    assert _powershell_line(line["argv"][5], f"{cwd}\\demo_3_12") == powershell.line(f"{cwd}\\demo_3_12")

    notes = ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-win-64"
    assert (notes / "micromamba.exe").read_bytes() == ww.binary
    assert (notes / "sha256").read_text() == digest, "create's cache layout"


def _powershell_line(code: str, prefix: str) -> str:
    """What bootstrap.bat's -c CODE prints for prefix, run here on mambaboot's source."""
    done = subprocess.run([sys.executable, "-I", "-c", code, str(REPO / "src"), prefix], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout == "" and done.stderr.startswith("next in PowerShell: "), done
    return done.stderr[len("next in PowerShell: "):].rstrip("\n")


def test_the_powershell_line_doubles_every_quote_powershell_ends_a_string_at():
    """PowerShell ends a single-quoted string at ' and at the four typographic single quotes
    (about_Quoting_Rules), which an ASCII batch file cannot name: bootstrap.bat's line comes from
    mambaboot's own quoting, each of the five doubled."""
    code = next(ln for ln in SCRIPT.read_text(encoding="ascii").splitlines() if "sys.stderr.write('next in PowerShell" in ln)
    code = code.split(' -c "', 1)[1].split('" "%MB_ZIPAPP%"', 1)[0]
    prefix = "C:\\Users\\O\u2019Brien\\a'b \u2018c\u201a\u201b\\py_3_12"
    got = _powershell_line(code, prefix)
    assert got == powershell.line(prefix)
    assert got.endswith(" 'C:\\Users\\O\u2019\u2019Brien\\a''b \u2018\u2018c\u201a\u201a\u201b\u201b\\py_3_12'"), got


def create_command_args(argv: List[str]):
    """create's options as the script handed them over: argv is the private python's command line."""
    import argparse

    assert argv[1:2] == ["-I"] and argv[3] == "create", argv
    parser = argparse.ArgumentParser()
    create_command.register(parser.add_subparsers())
    return parser.parse_args(argv[3:])


def create_inputs(args) -> CreateInputs:
    from mambaboot.commands._common import create_inputs as inputs

    return inputs(args)


def _prefix_of(ww) -> str:
    """The prefix create, handed over to, makes: from its arguments, environment and directory."""
    python = ww.runs("python")[0]
    host = windows_host(ww, python["cwd"], python["env"])
    return make_plan(host, create_inputs(create_command_args(python["argv"]))).prefix


@pytest.mark.parametrize("asked, private", [("3.8", "3.12"), ("2", "3.12"), ("3.10", "3.10")])
def test_a_python_older_than_mambaboot_runs_on_gets_a_private_python_3_12(ww, asked, private):
    """mambaboot runs on 3.9 or later: for an older one the private Python is 3.12, a pinned,
    reproducible choice, said in one line; otherwise the one asked for, so that the package cache
    serves the environment too."""
    r = ww.run("old", asked)
    assert r.returncode == 0, r.stderr
    assert ww.runs("micromamba")[0]["argv"][-1] == f"python={private}"
    said = f"python: mambaboot runs on Python 3.9 or later: its private Python is 3.12, the environment's {asked}"
    assert (said in r.stderr) == (private != asked), r.stderr
    assert create_command_args(ww.runs("python")[0]["argv"]).python == asked


def test_without_c_the_private_python_comes_from_the_channels_create_reads(ww):
    """Without -c, MAMBABOOT_CHANNELS (comma-separated, as create reads it), else conda-forge: the
    private Python and the environment come from the same channels. The hand-over passes no -c:
    create reads the variable itself, from the user's environment it gets."""
    from mambaboot.common.locations import default_channels

    channels = f" file:///Z:/mirror {ODD} ,,Z:\\second\\ ,"
    r = ww.run(env={"MAMBABOOT_CHANNELS": channels})
    assert r.returncode == 0, r.stderr
    argv = ww.runs("micromamba")[0]["argv"]
    given = argv[argv.index("--override-channels") + 1:argv.index("--prefix")]
    assert given == ["-c", f"file:///Z:/mirror {ODD}", "-c", "Z:\\second\\"], argv
    assert tuple(given[1::2]) == default_channels(windows_host(ww, win(ww.envs), {"MAMBABOOT_CHANNELS": channels}))
    python = ww.runs("python")[0]
    assert create_command_args(python["argv"]).channels == [] and python["env"]["MAMBABOOT_CHANNELS"] == channels
    r = ww.run("two")
    assert r.returncode == 0, r.stderr
    argv = ww.runs("micromamba")[-1]["argv"]
    assert argv[argv.index("--override-channels") + 1:argv.index("--prefix")] == ["-c", "conda-forge"]


def test_a_second_run_uses_the_cache_and_returns_creates_exit_code(ww):
    assert ww.run("one").returncode == 0
    r = ww.run("two", env={"STANDIN_PYTHON_EXIT": "7"})
    assert r.returncode == 7, r.stderr
    assert "(cached, sha256" in r.stderr
    assert [e["role"] for e in ww.runs()].count("curl") == 2, "the second run downloads nothing"


def test_windows_7_certutil_output_is_understood(ww):
    r = ww.run(env={"STANDIN_CERTUTIL_STYLE": "spaced"})
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("how", ["published", "given"])
def test_a_wrong_digest_stops_before_micromamba_runs(ww, how):
    if how == "published":
        ww.serve(PINNED_MICROMAMBA, ww.binary, digest_text="0" * 64)
        r = ww.run()
    else:
        r = ww.run("--micromamba-sha256", "AB" * 32)
    assert r.returncode == 5, r.stderr
    assert "does not match its published digest" in r.stderr and "nothing was kept" in r.stderr
    assert ww.runs("micromamba") == [] and ww.runs("python") == []
    assert [p for p in ww.cache.rglob("*") if p.is_file()] == []
    assert not (ww.envs / "py").exists()


def test_a_failed_download_is_exit_5(ww):
    shutil.rmtree(ww.releases)
    r = ww.run()
    assert r.returncode == 5 and "could not be read" in r.stderr, r.stderr
    assert ww.runs("micromamba") == []


PROXY_LOGON = ("if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see "
               "docs/windows.md, section Proxies that ask for Windows logon")
PROXY_HINT = "behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)"
# micromamba checks certificates with Schannel where curl.exe may not have (mamba-org/mamba#2751, #3346)
TLS_HINT = ("behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's "
            "revocation); if its certificate is not trusted, have the company's root certificate put in Windows' "
            "certificate store, which micromamba checks against (MAMBA_SSL_VERIFY=PATH of a CA bundle replaces that "
            "store, it does not add to it)")


@pytest.mark.parametrize("proxy", [None, "HTTPS_PROXY", "ALL_PROXY", "both"])
def test_engine_failure_is_exit_6_naming_the_proxy_variable_micromamba_reads(ww, proxy):
    """micromamba never uses Windows' proxy settings: unless one is set, the failure names HTTPS_PROXY;
    with one set, the variable whose proxy it went through (HTTPS_PROXY before ALL_PROXY, as curl
    takes them), never the advice to set what is set; and, with or without one, TLS inspection,
    which stops micromamba's Schannel where the script's download passed."""
    env = {"STANDIN_FAIL": "1", **({proxy: "http://proxy.invalid:8080"} if proxy else {})}
    if proxy == "both":
        env = {"STANDIN_FAIL": "1", "ALL_PROXY": "http://all.invalid:8080", "HTTPS_PROXY": "http://u:p&ss@first.invalid:3128"}
        proxy = "HTTPS_PROXY"
    r = ww.run(env=env)
    assert r.returncode == 6, r.stderr
    assert "injected failure" in r.stderr, "micromamba's own words, shown when it fails"
    said = f"{proxy} names the proxy it went through; {PROXY_LOGON}" if proxy else PROXY_HINT
    assert _refusal(r) == ["bootstrap: error: micromamba create failed (exit 1) making this run's private Python; "
                           "nothing else was changed",
                           f"  if it could not reach the channel: {said}", f"  if it failed on a certificate: {TLS_HINT}"]
    assert ww.runs("python") == []
    assert not list((ww.cache / "tmp").iterdir())


@pytest.mark.parametrize("var", isolation.CONTAMINATING)
def test_a_contaminated_shell_is_refused_with_exit_3(ww, var):
    before = snapshot(ww.root)
    r = ww.run("x", "3.12", env={var: "C:\\some\\env"})
    assert r.returncode == 3, r.stderr
    assert f"{var}=C:\\some\\env" in r.stderr
    assert diff(before, snapshot(ww.root)) == {}


@pytest.mark.parametrize("setup", [IS_FILE, OURS])
def test_a_target_create_surely_refuses_is_refused_with_exit_4_and_left_intact(ww, setup):
    occupy(ww.envs / "py_3_12", setup, python_name="python.exe")
    before = snapshot(ww.root)
    r = ww.run("py", "3.12")
    assert r.returncode == 4, r.stderr
    assert diff(before, snapshot(ww.root)) == {}
    assert ww.runs() == []


@pytest.mark.parametrize("setup", [None, USER_DIR, HOLDS_PYTHON])
def test_any_other_target_is_left_to_create_which_checks_it_under_its_lock(ww, setup):
    """By looking only, the script refuses what create would surely refuse; a user's directory,
    empty or not, is create's to judge under the place's lock (the same exit 4)."""
    if setup:
        occupy(ww.envs / "py_3_12", setup, python_name="python.exe")
    else:
        (ww.envs / "py_3_12").mkdir()
    before = snapshot(ww.envs / "py_3_12")
    r = ww.run("py", "3.12")
    assert r.returncode == 0, r.stderr
    assert len(ww.runs("python")) == 1 and _prefix_of(ww) == win(ww.envs / "py_3_12")
    assert diff(before, snapshot(ww.envs / "py_3_12")) == {}


@pytest.mark.parametrize("args, message", [
    (["x", "three"], "is not a version"),
    (["x", "3.12.1.1"], "is not a version"),
    (["x", "3..1"], "is not a version"),
    (["x", "3.12", "extra"], "one argument too many"),
    (["--bogus"], "is not an option"),
    (["-v"], "is not an option"),
    (["--verbose"], "is not an option"),
    (["--package"], "needs a value"),
    (["--package", ""], "needs a non-empty value"),
    (["--package", "-y"], "starts with -"),
    ([""], "is not a valid environment name"),
    (["a\\b"], "not a path"),
    (["CON"], "reserved Windows device name"),
    (["x."], "ends in a dot"),
    (["x<y"], "cannot take"),
    (["x!y"], "cannot take"),
    (["--micromamba-sha256", "abc"], "not a sha256"),
    (["--micromamba-version", "two"], "is not like 2.8.1"),
    (["--micromamba-url", "http://mirror.example/mm"], "plain http"),
    (["--micromamba-url", "ftp://mirror.example/mm"], "not an https"),
    (["--zipapp", "Z:\\nowhere\\mambaboot.pyz"], "is not there"),
    # libmamba reads CONDA_PKGS_DIRS as YAML (tests/test_upstream_fidelity.py has the trap)
    (["--cache-dir", "Z:\\cache[1]"], "misreads in CONDA_PKGS_DIRS"),
    (["--cache-dir", "Z:\\cache#2"], "misreads in CONDA_PKGS_DIRS"),
    (["--cache-dir", "Z:\\a: b"], "misreads in CONDA_PKGS_DIRS"),
])
def test_usage_errors_are_exit_2_and_write_nothing(ww, args, message):
    before = snapshot(ww.root)
    r = ww.run(*args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert diff(before, snapshot(ww.root)) == {}
    assert ww.runs() == []


def test_help(ww):
    r = ww.run("--help", cache=False)
    assert r.returncode == 0 and "usage: bootstrap.bat [NAME] [PY_VERSION]" in r.stdout
    assert "--micromamba-url URL" in r.stdout and 'e.g. --package "numpy>=2"' in r.stdout


def test_py_envs_names_the_parent_when_it_is_a_directory(ww, tmp_path):
    py_envs = tmp_path / f"PY ENVS {ODD}"
    py_envs.mkdir()
    assert ww.run("named", "3.11", env={"PY_ENVS": win(py_envs)}).returncode == 0
    assert _prefix_of(ww) == win(py_envs / "named_3_11")


@pytest.mark.parametrize("what", ["missing", "a file"])
def test_py_envs_naming_no_directory_is_left_to_create_which_refuses_it(ww, tmp_path, what):
    """Never the next default instead: the script takes PY_ENVS as named and create, handed over
    to, refuses it in its own words (the same check, in one place); nothing is made there."""
    py_envs = tmp_path / f"{what} {ODD}"
    if what == "a file":
        py_envs.write_text("not a directory")
    r = ww.run(env={"PY_ENVS": win(py_envs)})
    assert r.returncode == 0, r.stderr
    python = ww.runs("python")[0]
    host = windows_host(ww, win(ww.envs), {"PY_ENVS": python["env"]["PY_ENVS"]})
    with pytest.raises(UsageError, match="PY_ENVS names .*, which is not a directory"):
        make_plan(host, create_inputs(create_command_args(python["argv"])))
    assert create_command_args(python["argv"]).envs_dir is None, "create resolves PY_ENVS itself"
    assert what == "a file" or not py_envs.exists()


def test_the_drive_rules_for_envs_and_cache(ww, tmp_path):
    """<drive>\\dev\\Anaconda\\envs and <drive>\\CACHE on the drive of the current directory."""
    drive = tmp_path / "drive-t"
    (drive / "work").mkdir(parents=True)
    ww.wine.map_drive("T", drive)
    r = ww.run("d", cwd="T:\\work", cache=False)
    assert r.returncode == 0, r.stderr
    assert _prefix_of(ww) == "T:\\work\\d", "neither exists: the current directory"
    (drive / "dev" / "Anaconda" / "envs").mkdir(parents=True)
    (drive / "CACHE").mkdir(exist_ok=True)  # Wine's own LOCALAPPDATA is on C:, another drive: made there
    ww.log.unlink()
    r = ww.run("d", "3.12", cwd="T:\\work", cache=False)
    assert r.returncode == 0, r.stderr
    host = windows_host(ww, "T:\\work")
    plan = make_plan(host, CreateInputs(name="d", python="3.12"))
    assert _prefix_of(ww) == plan.prefix == "T:\\dev\\Anaconda\\envs\\d_3_12"
    args = create_command_args(ww.runs("python")[0]["argv"])
    assert args.cache_dir == resolve_cache_dir(host, None, plan.prefix) == "T:\\CACHE"
    assert (drive / "CACHE" / "micromamba" / f"{PINNED_MICROMAMBA}-win-64" / "micromamba.exe").is_file()


def test_no_cache_folder_is_made_on_the_network_home_drive_as_create_makes_none(ww, tmp_path):
    """An environment named on the network home drive (HOMESHARE mapped to HOMEDRIVE) takes the
    user's own cache, as create's resolve_cache_dir does; a CACHE folder there already is used."""
    drive = tmp_path / "drive-h"
    (drive / "envs").mkdir(parents=True)
    ww.wine.map_drive("H", drive)
    local = tmp_path / "Local"
    share = ['set "HOMESHARE=\\\\server\\home\\me"', 'set "HOMEDRIVE=H:"', f'set "LOCALAPPDATA={win(local)}"']
    environ = {"HOMESHARE": "\\\\server\\home\\me", "HOMEDRIVE": "H:", "LOCALAPPDATA": win(local)}
    host = windows_host(ww, win(ww.envs), environ)
    for made in (False, True):
        if made:
            (drive / "CACHE").mkdir()
        before = len(ww.runs("python"))
        r = ww.run("s", "--envs-dir", "H:\\envs", before=share, cache=False)
        assert r.returncode == 0, r.stderr
        cache = create_command_args(ww.runs("python")[before]["argv"]).cache_dir
        assert cache == resolve_cache_dir(host, None, "H:\\envs\\s") == ("H:\\CACHE" if made else win(local) + "\\mambaboot\\Cache")
        assert sorted(p.name for p in drive.iterdir()) == (["CACHE", "envs"] if made else ["envs"])


def test_the_user_cache_dir_is_creates(ww, tmp_path):
    local = tmp_path / f"Local {ODD}"
    r = ww.run(before=[f'set "LOCALAPPDATA={win(local)}"'], cache=False)
    assert r.returncode == 0, r.stderr
    host = windows_host(ww, win(ww.envs), {"LOCALAPPDATA": win(local)})
    cache = resolve_cache_dir(host, None, _prefix_of(ww))
    assert create_command_args(ww.runs("python")[0]["argv"]).cache_dir == cache == win(local) + "\\mambaboot\\Cache"
    assert ww.runs("micromamba")[0]["env"]["CONDA_PKGS_DIRS"] == resolve_pkgs_dirs(host, cache)[0]


def test_the_default_cache_is_on_the_targets_drive_and_never_a_non_ascii_profile(ww, tmp_path):
    """create's resolve_cache_dir: <target's drive>\\CACHE when it exists; else the per-user cache
    only when it is on the target's drive and all ASCII (micromamba fails on a character the ANSI
    code page lacks: mamba-org/mamba#3097, #3228); else <target's drive>\\CACHE. (Wine's cmd reads
    the set lines' UTF-8 in its code page: a non-ASCII name stays one.)"""
    drive = tmp_path / "drive-t"
    (drive / "work").mkdir(parents=True)
    ww.wine.map_drive("T", drive)
    other = win(tmp_path / f"Local {ODD}")  # on Z:, another drive than T:
    cases = [({"LOCALAPPDATA": "T:\\Zo\u00eb\\AppData\\Local"}, []),
             ({"LOCALAPPDATA": "", "USERPROFILE": "T:\\Users\\\u5f20\u4e09"}, []),
             ({"LOCALAPPDATA": "T:\\Users\\u\\AppData\\Local"}, []),
             ({"LOCALAPPDATA": other}, []),
             ({"LOCALAPPDATA": other}, ["--envs-dir", win(ww.envs)])]
    chosen = []
    for i, (environ, args) in enumerate(cases):
        shutil.rmtree(drive / "CACHE", ignore_errors=True)  # made by the run before
        if i == len(cases) - 1:
            (drive / "CACHE").mkdir()  # the current directory's drive has one; the target's has none
        before = [f'set "{k}={v}"' for k, v in environ.items()]
        r = ww.run(f"c{i}", *args, before=before, cwd="T:\\work", cache=False)
        assert r.returncode == 0, r.stderr
        args = create_command_args(ww.runs("python")[-1]["argv"])
        host = windows_host(ww, "T:\\work", {k: v for k, v in environ.items() if v})
        expected = resolve_cache_dir(host, None, make_plan(host, create_inputs(args)).prefix)
        chosen.append(args.cache_dir)
        assert args.cache_dir == expected, (environ, args, r.stderr)
    assert chosen == ["T:\\CACHE", "T:\\CACHE", "T:\\Users\\u\\AppData\\Local\\mambaboot\\Cache", "T:\\CACHE",
                      other + "\\mambaboot\\Cache"]


def test_a_relative_localappdata_is_ignored_as_creates_ignores_it(ww, tmp_path):
    profile = tmp_path / f"profile {ODD}"
    r = ww.run(before=['set "LOCALAPPDATA=AppData\\Local"', f'set "USERPROFILE={win(profile)}"'], cache=False)
    assert r.returncode == 0, r.stderr
    host = windows_host(ww, win(ww.envs), {"LOCALAPPDATA": "AppData\\Local", "USERPROFILE": win(profile)})
    expected = resolve_cache_dir(host, None, _prefix_of(ww))
    assert expected == win(profile) + "\\AppData\\Local\\mambaboot\\Cache"
    assert create_command_args(ww.runs("python")[0]["argv"]).cache_dir == expected
    assert not (ww.envs / "AppData").exists()


@pytest.mark.parametrize("local", [None, "AppData\\Local"], ids=["unset", "relative"])
def test_a_relative_userprofile_is_refused_as_create_refuses_it(ww, local):
    before = snapshot(ww.root)
    r = ww.run(before=[f'set "LOCALAPPDATA={local or ""}"', 'set "USERPROFILE=Users\\u"'], cache=False)
    assert r.returncode == 2 and "USERPROFILE is not an absolute path" in r.stderr, r.stderr
    assert diff(before, snapshot(ww.root)) == {}
    host = windows_host(ww, win(ww.envs), {"USERPROFILE": "Users\\u", **({"LOCALAPPDATA": local} if local else {})})
    with pytest.raises(UsageError, match="USERPROFILE is 'Users.*', not an absolute path"):
        resolve_cache_dir(host, None)


def test_a_zipapp_url_and_a_local_micromamba(ww, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "mambaboot.pyz").write_bytes(b"zipapp bytes")
    # a release's line, as sha256sum writes it (tools/build_zipapp.py)
    (served / "mambaboot.pyz.sha256").write_text(f"{hashlib.sha256(b'zipapp bytes').hexdigest()}  mambaboot.pyz\n")
    local = tmp_path / f"bin {ODD}" / "micromamba.exe"
    local.parent.mkdir()
    local.write_bytes(ww.binary)
    r = ww.run("--zipapp", file_url(served / "mambaboot.pyz"), "--micromamba", win(local))
    assert r.returncode == 0, r.stderr
    assert "(given, sha256" in r.stderr
    assert ww.runs("micromamba")[0]["argv"][0] == win(local)
    zipapp = ww.runs("python")[0]["argv"][2]
    assert ww.wine.unix(zipapp).read_bytes() == b"zipapp bytes"
    assert ww.wine.unix(zipapp).parent.parent == ww.cache / "zipapp"
    assert create_command_args(ww.runs("python")[0]["argv"]).micromamba == win(local), "the given one, by its path"
    (served / "mambaboot.pyz.sha256").write_text("0" * 64)
    r = ww.run("again", "--zipapp", file_url(served / "mambaboot.pyz"), "--micromamba", win(local))
    assert r.returncode == 5 and "does not match" in r.stderr, r.stderr


def test_the_script_alone_fetches_its_releases_zipapp_checked_against_sha256sums(ww, tmp_path):
    """The one file a user downloads from a release page, alone in its folder, run with no
    arguments: the zipapp comes from the address tools/build_release.py wrote into it."""
    from tools.build_release import build

    release = tmp_path / "release"
    build(release, release_url=file_url(release))
    (ww.dist / "mambaboot.pyz").unlink()
    shutil.copy(release / "bootstrap.bat", ww.dist / "bootstrap.bat")
    r = ww.run()
    assert r.returncode == 0, r.stderr
    zipapp = ww.wine.unix(ww.runs("python")[0]["argv"][2])
    assert zipapp.read_bytes() == (release / "mambaboot.pyz").read_bytes()
    assert zipapp.parent.parent == ww.cache / "zipapp", "kept as --zipapp URL's is"

    listed = hashlib.sha256((release / "mambaboot.pyz").read_bytes()).hexdigest()
    (release / "mambaboot.pyz").write_bytes(b"not the released zipapp")
    before = len(ww.runs())
    r = ww.run("again", "--cache-dir", win(tmp_path / "fresh cache"), cache=False)
    assert r.returncode == 5, r.stderr
    assert f'"{file_url(release)}/mambaboot.pyz" does not match' in r.stderr, r.stderr
    assert listed in r.stderr and hashlib.sha256(b"not the released zipapp").hexdigest() in r.stderr
    assert [e["role"] for e in ww.runs()[before:]] == ["curl", "curl", "certutil"], "nothing else ran"
    assert not (ww.envs / "again").exists()


def test_a_mirror_is_cached_by_its_digest_as_create_does(ww, tmp_path):
    mirror = tmp_path / "mirror" / "mm.exe"
    mirror.parent.mkdir()
    mirror.write_bytes(ww.binary)
    (tmp_path / "mirror" / "mm.exe.sha256").write_text(hashlib.sha256(ww.binary).hexdigest())
    r = ww.run("--micromamba-url", file_url(mirror))
    assert r.returncode == 0, r.stderr
    digest = hashlib.sha256(ww.binary).hexdigest()
    plan = make_plan(windows_host(ww, win(ww.envs)), CreateInputs(micromamba_url=file_url(mirror)))
    assert (ww.cache / "micromamba" / plan.micromamba.cache_key(digest) / "micromamba.exe").is_file()


def test_the_script_keeps_to_safe_cmd_constructs():
    raw = SCRIPT.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n"), "CRLF line endings: cmd.exe misreads labels otherwise"
    text = raw.decode("ascii")
    # delayed expansion on only to measure PATH, in a setlocal ended on the next line
    measure = ('setlocal EnableDelayedExpansion\r\nset "MB_T=#!PATH!"\r\nset "MB_T=%MB_T:~-8001,1%"\r\nset "MB_T=%MB_T:#=%"\r\n'
               'if defined MB_T (endlocal & set "MB_T=1") else endlocal\r\n')
    assert text.count(measure) == 1
    assert "setlocal EnableExtensions DisableDelayedExpansion" in text and "EnableDelayedExpansion" not in text.replace(
        "DisableDelayedExpansion", "").replace(measure, "")
    assert f'set "MB_PINNED={PINNED_MICROMAMBA}"' in text
    assert " ".join(isolation.CONTAMINATING) in text
    for line in text.splitlines():
        code = line.strip()
        if code.lower().startswith("rem") or not code:
            continue
        if "%ERRORLEVEL%" in code:  # only where it is read after the command ran
            assert re.fullmatch(r'(exit /b %ERRORLEVEL%|(endlocal & )?set "MB_\w+=%ERRORLEVEL%")', code), code
        # CALL carries no value (what follows an & is a command of its own)
        for call in re.findall(r"\bcall\b[^&]*", code if not code.startswith("echo ") else ""):
            assert re.fullmatch(r'call (:\w+\)?|set "MB_\w+=%%MB_\w+:[^"]*%%")', call.strip()), call


def test_every_batch_file_is_stored_with_crlf_in_the_repository():
    """The blob, not the checkout: a copy from the repository's raw view or an archive is the
    blob, and cmd.exe misreads labels and GOTO in LF-only batch files (.gitattributes)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "*.bat"], cwd=REPO, capture_output=True, check=True)
    names = [n for n in listed.stdout.decode().split("\0") if n]
    assert "bootstrap/bootstrap.bat" in names
    for name in names:
        blob = subprocess.run(["git", "cat-file", "-p", f":{name}"], cwd=REPO, capture_output=True, check=True).stdout
        lines = blob.split(b"\n")
        assert lines[-1] == b"", f"{name} ends with a line break"
        assert [i + 1 for i, line in enumerate(lines[:-1]) if not line.endswith(b"\r")] == [], name


def _refusal(r) -> List[str]:
    """The refusal's lines, whole: Wine's cmd expands % again inside an expanded value where
    Windows' does not, so only the whole text shows that nothing was taken for an operator."""
    lines = [line.rstrip(" ") for line in r.stderr.splitlines()]  # echo keeps the space before 1>&2
    start = next(i for i, line in enumerate(lines) if line.startswith("bootstrap: error: "))
    return lines[start:]


def test_a_prefix_with_a_character_windows_cannot_take_is_refused_in_words_not_operators(ww):
    """cmd parses < > | in a value echoed unquoted as operators (real cmd: a syntax error that
    ends the batch; Wine's: the % in the text expanded again): the refusal names them in words."""
    before = snapshot(ww.root)
    r = ww.run("x<y")
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == [f'bootstrap: error: "{win(ww.envs)}\\x<y" is a prefix with a character packages or Windows '
                           "cannot take (a percent sign, an exclamation mark, a semicolon, an angle bracket, a vertical bar, a question "
                           "mark, an asterisk or a second colon); choose another path"]
    assert diff(before, snapshot(ww.root)) == {}
    text = SCRIPT.read_bytes().decode("ascii")
    for message in re.findall(r'set "MB_MSG\d?=([^"]*)"', text):
        assert not set(message) & set("<>|&"), message


@pytest.mark.parametrize("value, passed", [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("Off", False),
                                           ("false", False), (None, False)])
def test_mamba_ssl_no_revoke_reaches_curl_as_it_reaches_micromamba(ww, value, passed):
    """micromamba reads the variable as a YAML boolean (1 stops it: the stand-in refuses what
    yaml-cpp refuses) and raw (anything but 0 is on): it gets true or nothing."""
    r = ww.run(env={"MAMBA_SSL_NO_REVOKE": value} if value else {})
    assert r.returncode == 0, r.stderr
    curls = ww.runs("curl")
    assert len(curls) == 2 and all(("--ssl-no-revoke" in c["argv"]) == passed for c in curls), curls
    (engine,) = [e for e in ww.runs("micromamba") if "create" in e["argv"]]
    assert engine["env"].get("MAMBA_SSL_NO_REVOKE") == ("true" if passed else None)


def test_an_unreadable_mamba_ssl_no_revoke_is_refused_before_any_download(ww):
    before = snapshot(ww.root)
    r = ww.run(env={"MAMBA_SSL_NO_REVOKE": "maybe"})
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == ['bootstrap: error: "MAMBA_SSL_NO_REVOKE=maybe" is neither true nor false: set it to true or false']
    assert ww.runs() == [] and diff(before, snapshot(ww.root)) == {}


@pytest.mark.parametrize("var", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_file_variable_never_replaces_windows_certificate_store(ww, var):
    """micromamba on Windows is libcurl with Schannel, which checks against Windows' certificate
    store; a CA file given to it replaces that store (curl#3727), so create does not turn these
    variables into MAMBA_SSL_VERIFY on Windows (engine/network.py), nor does the script. What the
    user gives micromamba itself reaches it as given."""
    r = ww.run(env={var: "Z:\\pki\\company ca.pem"})
    assert r.returncode == 0, r.stderr
    (engine,) = [e for e in ww.runs("micromamba") if "create" in e["argv"]]
    assert "MAMBA_SSL_VERIFY" not in engine["env"] and engine["env"][var] == "Z:\\pki\\company ca.pem"
    r = ww.run("two", env={var: "Z:\\pki\\company ca.pem", "MAMBA_SSL_VERIFY": "Z:\\pki\\mine.pem",
                           "MAMBA_CACERT_PATH": "Z:\\pki\\root.pem"})
    assert r.returncode == 0, r.stderr
    engine = [e for e in ww.runs("micromamba") if "create" in e["argv"]][-1]
    assert (engine["env"]["MAMBA_SSL_VERIFY"], engine["env"]["MAMBA_CACERT_PATH"]) == ("Z:\\pki\\mine.pem",
                                                                                     "Z:\\pki\\root.pem")


@pytest.mark.parametrize("code, hint", [
    ("35", "curl.exe failed with exit 35 (the TLS handshake); behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true "
           "(Windows could not check the certificate's revocation)"),
    ("7", f"curl.exe failed with exit 7; {PROXY_HINT}"),
    ("28", "curl.exe failed with exit 28: no whole answer within MAMBABOOT_HTTP_DEADLINE=1800 seconds "
           "(MAMBABOOT_HTTP_TIMEOUT=30 seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"),
    ("63", "it is larger than MAMBABOOT_HTTP_MAX_BYTES=268435456 bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number "
           "of bytes if it really is that large"),
])
def test_a_failed_download_says_what_to_set(ww, code, hint):
    """The digest given by hand is advised only where the server answered that it has no such file
    (22): whatever else stopped the digest's download stops the binary's too, as the second run shows."""
    r = ww.run(env={"STANDIN_CURL_EXIT": code})
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64.sha256"
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be read: without the published digest the download '
                           "cannot be verified", f"  {hint}"]
    digest = hashlib.sha256(ww.binary).hexdigest()
    r = ww.run(env={"STANDIN_CURL_EXIT": code}, *["--micromamba-sha256", digest])
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64"
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be downloaded', f"  {hint}"]
    assert ww.runs("micromamba") == []


@pytest.mark.parametrize("status", ["404", "410", "401", "403", "407", "429", "500", "503", "418"])
def test_an_http_error_is_explained_by_its_status_as_create_explains_it(ww, status):
    """curl's -f fails every status from 400 with exit 22 (curl's manual, --fail); the status
    curl.exe wrote with -w %{http_code} decides the advice, the words create gives (a missing file,
    a proxy or filter that refuses, a busy server), and the digest by hand only where the server
    answered it has none."""
    from mambaboot.engine.download import status_hint

    r = ww.run(env={"STANDIN_CURL_STATUS": status})
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64.sha256"
    said = f"curl.exe failed with exit 22: the server answered HTTP {status}"
    hint = status_hint(int(status))
    if status in ("404", "410"):  # the script also downloads mambaboot.pyz
        hint = hint.replace("(--micromamba-url, ", "(--micromamba-url, --zipapp, ")
    advice = f"{said}: {hint}" if hint else (f"{said}, an HTTP error, not the network: check --micromamba-version, "
                                             "--micromamba-url, --zipapp and MAMBABOOT_RELEASES_URL")
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be read: without the published digest the download '
                           "cannot be verified", f"  {advice}",
                           "  pass --micromamba-sha256 HEX or --zipapp-sha256 HEX if you know the digest"]
    assert ww.runs("micromamba") == []


@pytest.mark.parametrize("code", ["403", "407"])
def test_a_proxy_refusing_connect_gets_the_proxys_hint_from_http_connect_as_create_says_it(ww, code):
    """A proxy that refuses the tunnel (a web filter's category block, 403; a logon it wants, 407) is
    curl's exit 56, with no status of the server (%{http_code} 000) and the proxy's in
    %{http_connect} (curl's manual, --write-out): said as the proxy's answer with its own hint,
    create's words (engine/download.py PROXY_HINTS), never the NTLM hint for a category block. The
    stand-in answers only the exact -w format, so a script asking for less gets 000 for both."""
    from mambaboot.engine.download import PROXY_HINTS

    r = ww.run(env={"STANDIN_CURL_CONNECT": code, "HTTPS_PROXY": "http://proxy.corp.example:8080"})
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64.sha256"
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be read: without the published digest the download '
                           "cannot be verified",
                           f"  curl.exe failed with exit 56: the proxy answered HTTP {code} to its CONNECT; {PROXY_HINTS[int(code)]}"]
    assert ww.runs("micromamba") == []


SECRET = "me:s3cret"


@pytest.mark.parametrize("args, env", [
    (["--micromamba-url", f"http://{SECRET}@mirror.example/mm"], {}),
    (["--micromamba-url", f"ftp://{SECRET}@mirror.example/mm"], {}),
    ([], {"MAMBABOOT_RELEASES_URL": f"http://{SECRET}@mirror.example/releases"}),
    (["--zipapp", f"http://{SECRET}@mirror.example/mambaboot.pyz"], {}),
    (["--micromamba-url", f"https://{SECRET}@mirror.example/a@b/mm"], {"STANDIN_CURL_STATUS": "404"}),
    (["--micromamba-url", f"https://{SECRET}@mirror.example/mm", "--micromamba-sha256", "0" * 64],
     {"STANDIN_CURL_EXIT": "7"}),
    ([], {"MAMBABOOT_RELEASES_URL": f"https://{SECRET}@mirror.example/releases", "STANDIN_CURL_EXIT": "7"}),
    (["--zipapp", f"https://{SECRET}@mirror.example/mambaboot.pyz"], {"STANDIN_CURL_EXIT": "7"}),
], ids=["plain-http", "not-https", "releases-http", "zipapp-http", "digest", "binary", "releases", "zipapp"])
def test_a_url_s_password_is_never_printed(ww, args, env):
    """Every path that prints a URL shows its user:password as ***@, as bootstrap.sh and create do."""
    r = ww.run(*args, env=env)
    assert r.returncode in (2, 5), r.stderr
    said = "\n".join(_refusal(r))
    assert "s3cret" not in r.stdout + r.stderr and "://***@mirror.example/" in said, said


def test_every_download_is_bounded_by_the_variables_mambaboot_reads(ww):
    """curl.exe's --connect-timeout, --max-time, --retry-max-time and --max-filesize, from
    MAMBABOOT_HTTP_TIMEOUT, _DEADLINE and _MAX_BYTES: without them a stalled server held the script."""
    r = ww.run(env={"MAMBABOOT_HTTP_TIMEOUT": "7", "MAMBABOOT_HTTP_DEADLINE": "90", "MAMBABOOT_HTTP_MAX_BYTES": "12345678"})
    assert r.returncode == 0, r.stderr
    curls = ww.runs("curl")
    bounds = ["--connect-timeout", "7", "--max-time", "90", "--retry-max-time", "90", "--max-filesize", "12345678"]
    assert len(curls) == 2 and all(" ".join(bounds) in " ".join(c["argv"]) for c in curls), curls


def test_a_body_longer_than_the_bound_is_refused_after_the_download_and_nothing_is_kept(ww):
    """A curl.exe before 8.4.0 does not apply --max-filesize to a body sent without Content-Length
    (the stand-in never applies it): the size of what arrived decides."""
    assert len(ww.binary) > 1000
    r = ww.run(env={"MAMBABOOT_HTTP_MAX_BYTES": "1000"})
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64"
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be downloaded',
                           "  it is larger than MAMBABOOT_HTTP_MAX_BYTES=1000 bytes; set MAMBABOOT_HTTP_MAX_BYTES to a "
                           "larger number of bytes if it really is that large"]
    assert [p for p in ww.cache.rglob("*") if p.is_file()] == []
    assert ww.runs("micromamba") == []
    assert not (ww.envs / "py").exists()


@pytest.mark.parametrize("var", ["MAMBABOOT_HTTP_TIMEOUT", "MAMBABOOT_HTTP_DEADLINE", "MAMBABOOT_HTTP_MAX_BYTES"])
@pytest.mark.parametrize("value", ["0", "1.5", "ten", "1234567890123456789"])
def test_a_bound_that_is_no_whole_number_is_refused_with_exit_2(ww, var, value):
    """curl.exe reads --max-time 0 as no limit at all."""
    before = snapshot(ww.root)
    r = ww.run(env={var: value})
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == [f'bootstrap: error: "{var}={value}" is not a whole number, 1 or more']
    assert diff(before, snapshot(ww.root)) == {}
    assert ww.runs() == []


def test_windows_programs_are_windows_own_never_ones_in_the_current_directory(ww):
    """By name, cmd finds curl.exe or certutil.exe in the current directory (a Downloads folder)
    before System32."""
    for name in ("curl.exe", "certutil.exe"):
        shutil.copy(ww.wine.standin, ww.envs / name)
    r = ww.run()
    assert r.returncode == 0, r.stderr
    used = [(e["role"], e["exe"]) for e in ww.runs() if e["role"] in ("curl", "certutil")]
    assert len(used) == 3 and {exe for _, exe in used} == {"C:\\windows\\system32\\curl.exe",
                                                           "C:\\windows\\system32\\certutil.exe"}, used


def test_downloads_go_to_a_relative_name_so_a_non_ansi_directory_is_no_obstacle(ww, tmp_path):
    """curl.exe built without Unicode file names cannot open -o outside the ANSI code page; the
    directory is its working directory instead (the stand-in fails on any non-ASCII -o)."""
    cache = tmp_path / "Zo\u00eb cache"
    r = ww.run("--cache-dir", win(cache), cache=False)
    assert r.returncode == 0, r.stderr
    for c in ww.runs("curl"):
        out = c["argv"][c["argv"].index("-o") + 1]
        assert "\\" not in out and " cache\\" in c["cwd"], c  # Wine reads the wrapper's UTF-8 in its own code page


@pytest.mark.parametrize("where", ["C:\\windows", "C:\\windows\\system32"])
def test_the_windows_directory_is_never_the_default_parent(ww, where):
    """Opened from a network share, cmd starts in the Windows directory; elevated, in System32."""
    r = ww.run(cwd=where)
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == ["bootstrap: error: the current directory is Windows' own, where cmd.exe starts a script "
                           "opened from a network share or as administrator; pass --envs-dir DIR or set PY_ENVS"]
    assert ww.runs() == []


def _long_path(length: int) -> Tuple[List[str], str]:
    """cmd lines making PATH exactly length characters long (with !PATH!: %PATH% would not fit a
    line), in entries shorter than MAX_PATH, and that PATH."""
    entries, left = ["C:\\windows\\system32", "C:\\windows"], length - len("C:\\windows\\system32;C:\\windows")
    while left:
        size = 200 if left >= 210 else left  # with its ";"
        entries.append(f"Z:\\p{len(entries):02d}\\" + "p" * (size - 8))
        left -= size
    path = ";".join(entries)
    assert len(path) == length
    return (["setlocal EnableDelayedExpansion", f'set "PATH={";".join(entries[:2])}"',
             *[f'set "PATH=!PATH!;{e}"' for e in entries[2:]],
             "setlocal DisableDelayedExpansion"], path)  # the arguments hold "!"


def test_a_path_longer_than_a_cmd_line_is_refused_before_anything_runs(ww):
    """mb_clean_path copies PATH in a line some 90 characters longer than PATH: 8000 is the most.
    (At 8000, Wine's cmd crashes when the batch file ends, once every line ran, as it does after
    activation with such a PATH: what ran is read from the stand-ins' log, not the exit code.)"""
    lines, path = _long_path(8000)
    r = ww.run(before=lines)
    assert "bootstrap: error" not in r.stderr and "File name is too long" not in r.stderr, r.stderr
    assert [e["env"]["PATH"] for e in ww.runs("micromamba")] == [path], "copied whole, in the sandbox"
    assert len(ww.runs("python")) == 1
    ww.log.unlink()
    lines, path = _long_path(8001)
    r = ww.run(before=lines)
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == ["bootstrap: error: PATH is longer than 8000 characters, and cmd.exe cannot read a line longer "
                           "than 8191 characters with it expanded; shorten PATH for this cmd (set PATH=...) or use "
                           "bootstrap.ps1"]
    assert ww.runs() == []


HANDED_OVER = "python stand-in: hand-over received"


def test_a_double_click_waits_for_a_key_at_the_end_and_nothing_else_does(ww, tmp_path):
    """Explorer starts a double-clicked batch file as `cmd.exe /c ""PATH" "` and closes the window
    when it ends: only then, and only without arguments, the script waits for a key, keeping its
    exit code. (Wine's cmd has no CMDCMDLINE of its own: the test sets Windows' value.)"""
    clicked = f'set "CMDCMDLINE=C:\\windows\\system32\\cmd.exe /c ""{win(ww.dist / "bootstrap.bat")}" ""'
    local = [f'set "LOCALAPPDATA={win(tmp_path / f"Local {ODD}")}"']
    waited = "Press any key to continue..."

    r = ww.run(before=[clicked, *local], env={"STANDIN_PYTHON_EXIT": "7"}, cache=False)
    assert r.returncode == 7, r.stderr
    assert r.stdout.replace("\r", "").strip().splitlines() == [HANDED_OVER, "", waited], r.stdout
    assert len(ww.runs("python")) == 1
    r = ww.run(before=[clicked, *local, 'set "MAMBABOOT_HTTP_TIMEOUT=0"'], cache=False)
    assert r.returncode == 2 and r.stdout.replace("\r", "").strip() == waited, r.stdout
    assert _refusal(r)[0].startswith('bootstrap: error: "MAMBABOOT_HTTP_TIMEOUT=0" is not'), r.stderr

    for before, args in (([clicked, *local], ["named"]),  # an argument: typed, never clicked
                         ([*local], []),  # no command line of Explorer's
                         (['set "CMDCMDLINE="C:\\windows\\system32\\cmd.exe" "', *local], [])):  # a cmd prompt
        where = tmp_path / f"elsewhere {len(ww.runs('python'))}"  # a fresh directory for the default name
        where.mkdir()
        r = ww.run(*args, before=before, cwd=win(where), cache=False)
        assert r.returncode == 0 and r.stdout.strip() == HANDED_OVER, (before, args, r.stdout, r.stderr)
    assert len(ww.runs("python")) == 4


def test_no_for_f_runs_a_command_that_decides_what_is_scrubbed_or_cleared():
    """FOR /F over a command runs it in a child cmd /c without /D, which runs the registry's
    AutoRun first and reads its output too (cmd /?; Raymond Chen, "Hidden gotcha: The command
    processor's AutoRun setting"): the names scrubbed before micromamba runs, and the script's
    own cleared before python starts, are read from a file written by the built-in set. Wine's
    cmd runs no AutoRun, so the runs of the other tests show only that the file way works."""
    text = SCRIPT.read_bytes().decode("ascii")
    commands = [line.strip() for line in text.splitlines()
                if re.match(r"(?i)\s*(\(\s*)?for /f\b", line) and re.search(r"\bin \((\'|`)", line)]
    # the one left: `ver`'s last line, which AutoRun's output comes before, read for the Windows build on ARM64
    assert commands == ['for /f "delims=" %%L in (\'ver\') do set "MB_T=%%L"'], commands
    assert 'set > "%MB_TMPDIR%\\names.txt"' in text and '> "%MB_TMPDIR%\\names.txt" set MB_' in text


def _hold(ww: WinWorld, path: Path) -> subprocess.Popen:
    """A Windows program that holds path open sharing nothing, as an antivirus scanning it does,
    until its stdin is closed; returned once it says it holds the file."""
    from tests.support.wine import WINE

    holder = ww.root / "hold.exe"
    shutil.copy(ww.wine.standin, holder)
    proc = subprocess.Popen([*WINE, win(holder), win(path)], env=ww.wine.env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_a_cached_binary_held_by_another_program_is_said_as_that_with_exit_5(ww):
    """An antivirus scanning micromamba.exe holds it: Windows refuses to replace it, and that is
    what is said, never a digest mismatch the download did not have."""
    notes = ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-win-64"
    notes.mkdir(parents=True)
    (notes / "micromamba.exe").write_bytes(b"a stale copy being scanned")
    holder = _hold(ww, notes / "micromamba.exe")
    try:
        r = ww.run()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert r.returncode == 5, r.stderr
    binary = win(notes / "micromamba.exe")
    assert _refusal(r) == [f'bootstrap: error: "{binary}" could not be replaced: another program holds it open (an '
                           "antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied",
                           "  wait for the scan to end or close that program, then run this again"]
    assert "does not match" not in r.stderr
    assert ww.runs("micromamba") == []
    assert [p.name for p in notes.iterdir()] == ["micromamba.exe"], "the download was not kept"


def test_a_failed_download_through_a_set_proxy_names_that_proxy_not_the_advice_to_set_it(ww):
    r = ww.run(env={"STANDIN_CURL_EXIT": "56", "ALL_PROXY": "http://proxy.invalid:8080"})
    assert r.returncode == 5, r.stderr
    url = f"{file_url(ww.releases)}/download/{PINNED_MICROMAMBA}/micromamba-win-64.sha256"
    assert _refusal(r) == [f'bootstrap: error: "{url}" could not be read: without the published digest the download '
                           "cannot be verified",
                           f"  curl.exe failed with exit 56; ALL_PROXY names the proxy it went through; {PROXY_LOGON}"]


@pytest.mark.parametrize("arch, wow64, subdir", [("x86", "AMD64", "win-64"), ("AMD64", None, "win-64")])
def test_the_build_is_the_machines_processors(ww, arch, wow64, subdir):
    """A 32-bit cmd sees x86, and the machine's processor in PROCESSOR_ARCHITEW6432 (WOW64)."""
    release = ww.releases / "download" / PINNED_MICROMAMBA
    before = [f'set "PROCESSOR_ARCHITECTURE={arch}"', f'set "PROCESSOR_ARCHITEW6432={wow64 or ""}"']
    r = ww.run(before=before)
    assert r.returncode == 0, r.stderr
    assert [c["argv"][-1] for c in ww.runs("curl")] == [f"{file_url(release)}/micromamba-{subdir}.sha256",
                                                       f"{file_url(release)}/micromamba-{subdir}"]
    engine = ww.runs("micromamba")[-1]
    assert engine["argv"][0] == win(ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-{subdir}" / "micromamba.exe")
    from mambaboot.common.host import conda_subdir
    assert conda_subdir("Windows", wow64 or arch) == subdir, "the plan create makes names the same build"


@pytest.mark.parametrize("arch, wow64", [("ARM64", None), ("x86", "ARM64")])
def test_arm64_windows_10_is_refused_up_front_naming_what_is_missing(ww, arch, wow64):
    """mambaboot makes no win-arm64 environment (conda-forge builds conda there for Python 3.14 only),
    and Windows 10 on ARM runs no x64 program: refused before any download, never a solve failure with
    network hints. Wine's cmd says 6.1.7601, or 10.0.18362 told it is Windows 10, or 10.0.21999, the
    last build before Windows 11's."""
    before = [f'set "PROCESSOR_ARCHITECTURE={arch}"', f'set "PROCESSOR_ARCHITEW6432={wow64 or ""}"']
    key = "HKCU\\Software\\Wine\\AppDefaults\\cmd.exe"
    for version in (None, "win10", 21999):
        if version == "win10":
            assert ww.wine.batch("win10", [f'reg add "{key}" /v Version /d {version} /f'])[0] == 0
        snap = snapshot(ww.root)
        try:
            with ww.wine.windows_build(version) if version == 21999 else contextlib.nullcontext():
                r = ww.run(before=before)
        finally:
            if version == "win10":
                ww.wine.batch("default", [f'reg delete "{key}" /f'])
        assert r.returncode == 5, r.stderr
        assert _refusal(r) == ["bootstrap: error: ARM64 Windows 10 runs no x64 program, and mambaboot makes no "
                               "win-arm64 environment (conda-forge builds conda there for Python 3.14 only: "
                               "conda/conda#15448); use Windows 11 or an x64 machine"]
        assert ww.runs() == [] and diff(snap, snapshot(ww.root)) == {}


@pytest.mark.parametrize("arch, wow64", [("ARM64", None), ("x86", "ARM64")])
def test_arm64_windows_11_takes_win_64_under_its_x64_emulation_and_says_so(ww, arch, wow64):
    """Windows 11 (build 22000 on; Wine told so through its registry) runs x64 programs on ARM64:
    the win-64 micromamba makes the private Python, one line says why, and create is handed the
    machine as AMD64, so its own plan is win-64 too."""
    from mambaboot.common.host import ARM64_EMULATED, conda_subdir

    release = ww.releases / "download" / PINNED_MICROMAMBA
    before = [f'set "PROCESSOR_ARCHITECTURE={arch}"', f'set "PROCESSOR_ARCHITEW6432={wow64 or ""}"']
    with ww.wine.windows_build(22000):
        r = ww.run(before=before)
    assert r.returncode == 0, r.stderr
    assert [line.rstrip() for line in r.stderr.splitlines() if "ARM64" in line] == [f"bootstrap: {ARM64_EMULATED}"]
    assert [c["argv"][-1] for c in ww.runs("curl")] == [f"{file_url(release)}/micromamba-win-64.sha256",
                                                       f"{file_url(release)}/micromamba-win-64"]
    engine = ww.runs("micromamba")[-1]
    assert engine["argv"][0] == win(ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-win-64" / "micromamba.exe")
    for run in (engine, ww.runs("python")[-1]):
        seen = {k.upper(): v for k, v in run["env"].items()}
        assert (seen.get("PROCESSOR_ARCHITECTURE"), seen.get("PROCESSOR_ARCHITEW6432", "")) == ("AMD64", ""), seen
    assert conda_subdir("Windows", "AMD64") == "win-64", "the plan create makes from what it is handed"


@pytest.mark.parametrize("arch", ["x86", "IA64"])
def test_a_processor_micromamba_has_no_build_for_is_refused_with_exit_5(ww, arch):
    before = snapshot(ww.root)
    r = ww.run(before=[f'set "PROCESSOR_ARCHITECTURE={arch}"', 'set "PROCESSOR_ARCHITEW6432="'])
    assert r.returncode == 5, r.stderr
    assert _refusal(r) == [f'bootstrap: error: "{arch}" is a processor micromamba has no Windows build for (win-64 is for '
                           "AMD64, and for ARM64 under Windows 11); pass --micromamba PATH to a micromamba.exe that runs here"]
    assert ww.runs() == []
    assert diff(before, snapshot(ww.root)) == {}


ONEDRIVE = ("is in OneDrive, which would upload every file of the environment and may keep only placeholders of them "
            "(Files On-Demand); pass --envs-dir DIR outside it, or set PY_ENVS")


@pytest.mark.parametrize("var", ["OneDrive", "OneDriveCommercial", "OneDriveConsumer"])
def test_a_double_click_from_a_onedrive_folder_never_puts_the_environment_there(ww, var):
    """Opened from a synced Desktop, the script runs in that folder; the current directory is only
    a default, so a parent the user names is taken, and a sibling that only starts alike is no
    OneDrive folder."""
    desktop = ww.root / "OneDrive - Corp" / "Desktop"
    desktop.mkdir(parents=True)
    before = snapshot(ww.root)
    r = ww.run(env={var: win(ww.root / "OneDrive - Corp") + "\\"}, cwd=win(desktop))
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == [f'bootstrap: error: "{win(desktop)}" {ONEDRIVE}']
    assert diff(before, snapshot(ww.root)) == {} and ww.runs() == []
    assert ww.run("--envs-dir", win(desktop), env={var: win(ww.root / "OneDrive - Corp")}, cwd=win(desktop)).returncode == 0
    sibling = ww.root / "OneDrive - Corp2"
    sibling.mkdir()
    assert ww.run(env={var: win(ww.root / "OneDrive - Corp")}, cwd=win(sibling)).returncode == 0


def test_a_double_click_from_a_network_home_drive_never_puts_the_environment_there(ww):
    # set in the shell: Wine gives every program its own HOMEDRIVE
    r = ww.run(before=['set "HOMESHARE=\\\\server\\home\\me"', 'set "HOMEDRIVE=Z:"'])
    assert r.returncode == 2, r.stderr
    assert _refusal(r) == [f'bootstrap: error: "{win(ww.envs)}" is on your network home drive (HOMESHARE), where every '
                           "file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS"]
    assert ww.runs() == []


SHARE = ("is on a network share (a folder redirected there, as Downloads may be, or a drive mapped to one, as net use "
         "and pushd map them), where every file of the environment would go over the network; pass --envs-dir DIR on a "
         "local disk, or set PY_ENVS")


def test_a_share_or_a_drive_mapped_to_one_is_never_the_default_parent_as_create_decides(ww, monkeypatch):
    """A current directory on a share, as Folder Redirection puts Downloads there, is refused as the
    default parent: a UNC one (cmd keeps one under DisableUNCCheck; Wine's cmd enters
    \\\\server\\share itself on pushd, served by its dosdevices\\unc link), and a drive mapped to one, as
    net use and Windows' pushd map one, which `net use X:` names (Wine has no network drive: a
    net.exe stand-in answers for the drive the test maps). Nothing runs, nothing is made; with the
    drive not mapped the same run makes the environment there. create decides alike."""
    from mambaboot.common import winsys

    share = ww.root / "share"
    (share / "Downloads").mkdir(parents=True)
    unc = ww.wine.prefix / "dosdevices" / "unc" / "fileserver"
    unc.mkdir(parents=True, exist_ok=True)
    (unc / "homes").symlink_to(share)
    mapped = ww.root / "mapped"
    mapped.mkdir()
    ww.wine.map_drive("N", mapped)
    try:
        before = snapshot(ww.root)
        r = ww.run(before=['pushd "\\\\fileserver\\homes\\Downloads"'], cd=False)
        assert r.returncode == 2, r.stderr
        assert _refusal(r) == [f'bootstrap: error: "\\\\fileserver\\homes\\Downloads" {SHARE}']
        r = ww.run(cwd="N:\\", env={"STANDIN_NET_DRIVES": "pN"})
        assert r.returncode == 2, r.stderr
        assert _refusal(r) == [f'bootstrap: error: "N:\\" {SHARE}']
        assert diff(before, snapshot(ww.root)) == {} and ww.runs() == []
        r = ww.run(cwd="N:\\", env={"STANDIN_NET_DRIVES": "p"})
        assert r.returncode == 0 and 'next: call "N:\\py\\.mambaboot\\activate.bat"' in r.stderr, r.stderr
        assert create_command_args(ww.runs("python")[-1]["argv"]).envs_dir is None, "create takes the current directory"
    finally:
        (unc / "homes").unlink()
        del ww.wine.drives["N"]
        (ww.wine.prefix / "dosdevices" / "n:").unlink()
    for cwd, drives, said in (("\\\\fileserver\\homes\\Downloads", "", "a network share,"),
                              ("N:\\", "N", "a drive mapped to a network share (as net use and pushd map one),")):
        monkeypatch.setattr(winsys, "network_drive", lambda path: path[:1].upper() in drives)
        with pytest.raises(UsageError) as refused:
            resolve_envs_dir(Host(environ={}, windows=True, subdir="win-64", cwd=cwd, isdir=lambda p: False), None)
        assert f"the current directory {cwd} is on {said} where every file" in refused.value.args[0], refused.value


@pytest.mark.parametrize("role", ["curl", "certutil", "micromamba", "python"])
def test_a_run_killed_at_any_step_leaves_only_its_work_directory_which_cache_clean_and_doctor_name(ww, role):
    """Ended outright (a closed window, Task Manager's "End task": the stand-in ends the cmd running the
    script) while it downloads, hashes, makes its private Python or has handed over: nothing but its
    work directory is left (the store holds only what is whole and verified), the next run works and
    leaves it (it may be a live run's), and mambaboot names it, deleting nothing."""
    import sys

    before = snapshot(ww.envs)
    ww.run("demo", "3.12", env={"STANDIN_KILL": role})
    assert ww.runs()[-1]["role"] == role, ww.runs()
    left = sorted((ww.cache / "tmp").iterdir())
    assert len(left) == 1 and re.fullmatch("mambaboot-tmp-[0-9a-f]{32}-bootstrap", left[0].name), left
    notes = ww.cache / "micromamba" / f"{PINNED_MICROMAMBA}-win-64"
    outside = {p.relative_to(ww.cache) for p in ww.cache.rglob("*") if p.is_file() and (ww.cache / "tmp") not in p.parents}
    assert outside <= {(notes / n).relative_to(ww.cache) for n in ("micromamba.exe", "sha256")}, outside
    assert diff(before, snapshot(ww.envs)) == {}, "the place is untouched"

    r = ww.run("demo", "3.12")
    assert r.returncode == 0, r.stderr
    assert sorted((ww.cache / "tmp").iterdir()) == left
    for command in (["cache", "clean"], ["doctor"]):
        named = subprocess.run([sys.executable, "-m", "mambaboot", *command, "--cache-dir", str(ww.cache)],
                               capture_output=True, text=True, timeout=300)
        assert f"{left[0]} is a bootstrap script's work directory" in named.stdout + named.stderr, (command, named)
    assert left[0].is_dir(), "named, never deleted"


@pytest.mark.parametrize("where", ["envs", "cwd"])
def test_a_semicolon_in_the_prefix_is_refused_before_any_download(ww, tmp_path, where):
    """PATH separates its entries with ; (Microsoft Learn, "set"): an environment whose prefix holds
    one could never be put on it, in --envs-dir or in the current directory alike."""
    parent = tmp_path / "a;b"
    parent.mkdir()
    before = snapshot(ww.root)
    r = ww.run("--envs-dir", win(parent)) if where == "envs" else ww.run(cwd=win(parent))
    assert r.returncode == 2, r.stderr
    assert _refusal(r)[0].startswith(f'bootstrap: error: "{win(parent)}\\py" is a prefix with a character'), r.stderr
    assert "a semicolon" in _refusal(r)[0]
    assert ww.runs() == [] and diff(before, snapshot(ww.root)) == {}


@pytest.mark.parametrize("path", [";{sys};{win}", "{sys};;{win};", ";;{sys}"])
def test_a_path_with_a_leading_semicolon_or_empty_entries_reaches_micromamba_whole(ww, path):
    """FOR /F's default eol is ; (for /?): a PATH starting with one read as a comment left micromamba
    with an empty PATH. Empty entries are dropped, the others kept in order. Wine's FOR /F reads such
    a line where Windows' skips it: every FOR /F that splits at ; sets its own eol (the script's text)."""
    text = SCRIPT.read_bytes().decode("ascii")
    splits = [line for line in text.splitlines() if re.match(r"(?i)\s*for /f\b", line) and "delims=;" in line]
    assert splits and all(re.search(r'"eol=\| [^"]*delims=;"', line) for line in splits), splits
    path = path.format(sys="C:\\windows\\system32", win="C:\\windows")
    r = ww.run(before=[f'set "PATH={path}"'])
    assert r.returncode == 0, r.stderr
    assert [e for e in ww.runs("micromamba")[0]["env"]["PATH"].split(";")] == [e for e in path.split(";") if e]


BLOCKED = "This program is blocked by group policy. For more information, contact your system administrator."


@pytest.mark.parametrize("role, code", [("curl", 5), ("certutil", 5), ("micromamba", 6), ("python", 5)])
def test_a_program_windows_blocks_is_said_with_its_message_and_code_never_a_network_hint(ww, role, code):
    """AppLocker, Software Restriction Policies, App Control or an antivirus: cmd prints Windows' words
    and sets the error code (1260, ERROR_ACCESS_DISABLED_BY_POLICY); the stand-in fails so. What the
    user sees is that message and that code, and the way forward, never proxy or TLS advice."""
    r = ww.run(env={"STANDIN_BLOCKED": role})
    assert r.returncode == code, r.stderr
    assert BLOCKED in r.stderr, "Windows' own words reach the user"
    assert "Windows refused to start" in r.stderr and "(exit 1260; its words above)" in r.stderr, r.stderr
    assert "HTTPS_PROXY" not in r.stderr and "TLS" not in r.stderr, r.stderr
    assert not list((ww.cache / "tmp").iterdir())


def test_app_control_or_smart_app_control_is_named_with_what_each_means_as_create_names_it(ww):
    """4551 is App Control's, or Smart App Control's (Windows 11's): the way forward names both,
    an administrator's folder for the first, and for the second that no folder helps and that
    whether it is on is the user's choice in Windows Security, in create's words (winsys.py; "&"
    is "and" here: cmd would read it as an operator in the echo)."""
    from mambaboot.common import winsys

    r = ww.run(env={"STANDIN_BLOCKED": "micromamba", "STANDIN_BLOCKED_CODE": "4551"})
    assert r.returncode == 6, r.stderr
    assert "An Application Control policy has blocked this file." in r.stderr
    (way,) = [line.strip() for line in r.stderr.splitlines() if line.startswith("  Windows refused to start")]
    assert way.startswith("Windows refused to start micromamba.exe (exit 4551; its words above): an App Control policy "
                          "or Smart App Control blocks it. Under an App Control policy, ask your administrator"), way
    assert way.endswith(winsys.SMART_APP_CONTROL_IS.replace("&", "and")), way


def test_a_solve_failure_gets_no_network_hints(ww):
    r = ww.run(env={"STANDIN_FAIL": "solve"})
    assert r.returncode == 6, r.stderr
    assert "Could not solve for environment specs" in r.stderr, "micromamba's own words"
    assert _refusal(r)[1:] == ["  micromamba found no package for the Python asked for in the channels given, which is no "
                               "network fault: check PY_VERSION and -c"], r.stderr
