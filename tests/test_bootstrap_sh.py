"""bootstrap.sh for real: loopback release server, local channel, the stand-in engine, the
zipapp beside the script, and the hand-over to the new environment's own python."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from mambaboot.pipeline.plan import PINNED_MICROMAMBA
from mambaboot.common import isolation
from tests.conftest import REPO, Result
from tests.support.interrupt import paused
from tests.support.netproxy import TestCA
from tests.support.snapshot import diff, snapshot
from tests.support.targets import HOLDS_PYTHON, IS_FILE, LINK, OURS, USER_DIR, occupy

SCRIPT = REPO / "bootstrap" / "bootstrap.sh"
# When it ran, and what the environment measured then (the engine's own history file, with
# its command line, differs between two runs): not inputs, so not compared.
TIMESTAMPS = ("created", "completed")
SCHEME = r"mambaboot-tmp-[0-9a-f]{32}"  # a temporary's name carries its run's token
STEPS = {"shell", "target", "micromamba", "python", "engine", "cache link", "verify", "record", "done", "to use it"}


@pytest.fixture
def dist(tmp_path, zipapp) -> Path:
    """What a user downloads: the scripts with mambaboot.pyz beside them."""
    d = tmp_path / "dist with space"
    d.mkdir()
    shutil.copy(SCRIPT, d / "bootstrap.sh")
    shutil.copy(zipapp, d / "mambaboot.pyz")
    return d


def bootstrap(world, dist: Path, *args: str, env=None, shell: str = "dash", cwd=None, umask=None) -> Result:
    proc = subprocess.run(
        [*_argv0(shell), str(dist / "bootstrap.sh"), *args], preexec_fn=None if umask is None else lambda: os.umask(umask), env={**world.env, **(env or {})}, cwd=str(cwd or world.envs),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _state(prefix: Path) -> dict:
    """The record without its timestamps, and every other file mambaboot wrote, byte for byte."""
    ours = prefix / ".mambaboot"
    files = {str(p.relative_to(ours)): p.read_bytes() for p in sorted(ours.rglob("*")) if p.is_file()}
    record = json.loads(files.pop("record.json"))
    return {"record": {k: v for k, v in record.items() if k not in TIMESTAMPS}, "files": files}


def _server_path(server, url: str) -> str:
    return url.split(server.url, 1)[1]


SHELLS = ["dash", "bash", "zsh", "busybox"]


def _argv0(shell: str) -> list:
    return ["busybox", "sh"] if shell == "busybox" else [shell]


@pytest.mark.parametrize("shell", SHELLS)
def test_it_makes_the_environment_create_makes(world, dist, channel, release_server, shell):
    """The script makes a private Python and hands over to `mambaboot create`: the environment is
    create's own, and the micromamba it downloaded is where create finds it."""
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    args = ["-c", channel, "--package", "uv", "--cache-dir", str(world.cache)]
    before = world.outside()
    r = bootstrap(world, dist, "demo", "3.11", *args, env=env, shell=shell)
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "demo_3_11"
    assert diff(before, world.outside(prefix)) == {}, "HOME, TMPDIR and everything else untouched"
    steps = [line.split(":", 1)[0] for line in r.stderr.splitlines()]
    steps = [step for step in steps if step in STEPS]
    assert steps == ["micromamba", "python", "shell", "target", "micromamba", "engine",
                     "cache link", "verify", "record", "done", "to use it"], r.stderr
    assert "(downloaded, sha256" in r.stderr and "installing" not in r.stderr, "micromamba's own output is not shown"
    assert r.stderr.splitlines()[-1] == (f"to use it: MAMBABOOT_ENV='{prefix}'; "
                                         '. "$MAMBABOOT_ENV/.mambaboot/activate.sh"')
    assert list((world.cache / "tmp").iterdir()) == [], "the work directory is gone"
    scripted = _state(prefix)
    assert scripted["record"]["state"] == "complete" and "adopted" not in scripted["record"]

    shutil.rmtree(prefix)
    r = world.create("demo", "--python", "3.11", *args, env=env)
    assert r.returncode == 0, r.stderr
    assert "(cached," in r.stderr, "create found the binary the script cached, in create's own layout"
    assert release_server.count("GET", _server_path(release_server, release_server.asset_url)) == 1
    made = _state(prefix)
    for state in (made, scripted):  # handed over as --micromamba PATH: the same binary, said as given
        given = {k: state["record"]["inputs"].pop(k) for k in list(state["record"]["inputs"]) if k.startswith("micromamba")}
        state["record"]["micromamba"].pop("source")
    assert made == scripted
    assert given["micromamba"]["path"] == str(world.cache / "micromamba" / f"{PINNED_MICROMAMBA}-{_subdir()}" / "micromamba")


def test_micromamba_runs_exactly_as_create_runs_it(world, dist, channel, release_server, tmp_path):
    """Same command line, same sandboxed environment (CONDA_PKGS_DIRS included), HOME private."""
    log = tmp_path / "engine.jsonl"
    ca = TestCA(tmp_path / "pki").ca_pem
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base, "STANDIN_RECORD": str(log),
           "CONDA_PKGS_DIRS": " relative-pkgs , /nonexistent/second,", "MAMBA_ROOT_PREFIX": "/elsewhere",
           "PYTHONDONTWRITEBYTECODE": "1", "CONDARC": "/etc/poison",
           # a company network: carried over by both (engine/network.py)
           "REQUESTS_CA_BUNDLE": str(ca), "MAMBA_SSL_NO_REVOKE": "1", "CONDA_OVERRIDE_CUDA": "12.4"}
    (world.home / ".netrc").write_text("machine mirror.example login a password b\n")
    (world.home / ".mamba" / "auth").mkdir(parents=True)
    (world.home / ".mamba" / "auth" / "authentication.json").write_text("{}")
    prefix = world.envs / "same"
    assert world.create("same", "-c", channel, "--cache-dir", str(world.cache), env=env).returncode == 0
    shutil.rmtree(prefix)
    r = bootstrap(world, dist, "same", "-c", channel, "--cache-dir", str(world.cache), env=env)
    assert r.returncode == 0, r.stderr
    by_create, private, handed_over = [json.loads(line) for line in log.read_text().splitlines()]

    def argv(run):  # the root prefix is inside each run's own private home
        args = list(run["argv"][1:])
        at = args.index("--root-prefix") + 1
        args[at] = os.path.relpath(args[at], run["env"]["HOME"])
        return args
    assert argv(handed_over) == argv(by_create), "the environment is create's own run"
    # written out: the specs, the private root inside the private home, no rc files, no shortcuts
    assert argv(by_create) == ["create", "--yes", "--no-rc", "--override-channels", "-c", channel, "--prefix",
                               str(prefix), "--root-prefix", "root", "--no-shortcuts", "python", "conda", "mamba"]
    work = Path(private["env"]["HOME"]).parent
    assert re.fullmatch(SCHEME + "-bootstrap", work.name) and work.parent == world.cache / "tmp"
    assert argv(private) == ["create", "--yes", "--no-rc", "--override-channels", "-c", channel, "--prefix",
                             str(work / "python"), "--root-prefix", "root", "--no-shortcuts", "python"]
    assert private["cwd"] == by_create["cwd"]
    for run in (by_create, private):
        home = Path(run["env"]["HOME"])
        assert world.cache / "tmp" in home.parents
        assert run["env"]["CONDA_PKGS_DIRS"] == f"{world.envs}/relative-pkgs,/nonexistent/second", "one package cache"
        carried = {"CONDA_PKGS_DIRS", "MAMBA_SSL_VERIFY", "MAMBA_SSL_NO_REVOKE", "CONDA_OVERRIDE_CUDA"}
        assert not [k for k in run["env"] if k.startswith(("CONDA_", "MAMBA_", "PYTHON")) and k not in carried]
        assert run["rc_files"] == []
        # as libmamba reads them (YAML): the path in single quotes, a boolean yaml-cpp knows
        assert run["env"]["MAMBA_SSL_VERIFY"] == f"'{ca}'" and run["env"]["MAMBA_SSL_NO_REVOKE"] == "true"
        assert run["env"]["NETRC"] == str(world.home / ".netrc") and run["auth_file"]
    drop = {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "TMPDIR", "TEMP", "TMP",
            "PWD", "OLDPWD", "SHLVL", "_"}

    def comparable(run):
        e = run["env"]
        return ({k: v for k, v in e.items() if k not in drop},
                {k: os.path.relpath(e[k], e["HOME"]) for k in drop & set(e) if k.startswith(("XDG", "T"))})
    assert comparable(private) == comparable(by_create), "the private Python's micromamba runs sandboxed as create's"
    assert comparable(handed_over) == comparable(by_create)
    assert (prefix / "pkgs").readlink() == world.envs / "relative-pkgs"
    assert not list((world.cache / "tmp").iterdir()), "the work directory is gone"


def _channels(run: dict) -> list:
    argv = run["argv"]
    return [argv[at + 1] for at, word in enumerate(argv) if word == "-c"]


@pytest.mark.parametrize("given", ["-c", "MAMBABOOT_CHANNELS", "neither"])
def test_the_private_python_and_the_environment_come_from_the_same_channels(world, dist, fault_channel, fault_standin,
                                                                             tmp_path, given):
    """-c, else MAMBABOOT_CHANNELS as create reads it (comma-separated, blanks trimmed), else
    conda-forge: the private Python's channels are the environment's, and the hand-over passes
    -c only for the channels the user gave (create reads MAMBABOOT_CHANNELS itself). The engine's
    command lines are the stand-in's record (STANDIN_RECORD), in every mode."""
    channel, log = fault_channel, tmp_path / "engine.jsonl"
    args, env = ["--micromamba", str(fault_standin), "--cache-dir", str(world.cache)], {"STANDIN_RECORD": str(log)}
    if given == "-c":
        args += ["-c", channel]
        env["MAMBABOOT_CHANNELS"] = "file:///nowhere/mirror"
    elif given == "MAMBABOOT_CHANNELS":
        env["MAMBABOOT_CHANNELS"] = f" , {channel} ,"
    else:  # conda-forge, here the test channel through a channel alias (carried over as create carries it)
        alias = tmp_path / "alias"
        alias.mkdir()
        (alias / "conda-forge").symlink_to(Path(url2pathname(urlparse(channel).path)))
        env["MAMBA_CHANNEL_ALIAS"] = alias.as_uri()
    r = bootstrap(world, dist, *args, env=env)
    assert r.returncode == 0, r.stderr
    expected = ["conda-forge"] if given == "neither" else [channel]
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [_channels(run) for run in runs] == [expected, expected], "the private Python's, the environment's"


def test_a_mambaboot_channels_entry_micromamba_would_take_for_an_option_is_refused_before_any_download(world, dist):
    before = snapshot(world.root)
    r = bootstrap(world, dist, env={"MAMBABOOT_CHANNELS": "file:///m, -x"})
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == ["bootstrap: error: MAMBABOOT_CHANNELS value '-x' starts with '-'"]
    assert diff(before, snapshot(world.root)) == {}


def test_the_release_is_verified_before_it_runs_and_nothing_is_created(world, dist, channel, tmp_path):
    from tests.support.server import AssetServer

    ran = tmp_path / "it-ran"
    binary = f"#!/bin/sh\ntouch '{ran}'\necho 2.8.1\n".encode()
    with AssetServer() as server:
        url = server.add_release(PINNED_MICROMAMBA, _subdir(), binary, sha256_text="0" * 64)
        before = snapshot(world.root)
        r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache),
                      env={"MAMBABOOT_RELEASES_URL": f"{server.url}/mamba-org/micromamba-releases/releases"})
        assert server.count("GET", _server_path(server, url)) == 1
    assert r.returncode == 5, r.stderr
    assert "does not match its published digest" in r.stderr and "nothing was kept" in r.stderr
    assert not ran.exists()
    assert diff(before, snapshot(world.root)) == {}
    assert [p for p in world.cache.rglob("*") if p.is_file()] == []


def test_a_zipapp_url_is_verified_and_cached(world, dist, channel, standin, zipapp):
    from tests.support.server import AssetServer

    (dist / "mambaboot.pyz").unlink()
    with AssetServer() as server:
        url = server.add("/dl/mambaboot.pyz", zipapp.read_bytes())
        server.add("/dl/mambaboot.pyz.sha256", hashlib.sha256(b"something else").hexdigest().encode())
        common = ["-c", channel, "--cache-dir", str(world.cache), "--micromamba", str(standin), "--zipapp", url]
        r = bootstrap(world, dist, "bad", *common)
        assert r.returncode == 5 and "does not match" in r.stderr, r.stderr
        assert not (world.envs / "bad").exists()
        # what the build writes beside the archive, as a release publishes it: `DIGEST  mambaboot.pyz`
        server.add("/dl/mambaboot.pyz.sha256", zipapp.with_name("mambaboot.pyz.sha256").read_bytes())
        r = bootstrap(world, dist, "good", *common)
        assert r.returncode == 0, r.stderr
    assert (world.envs / "good" / ".mambaboot" / "record.json").is_file()
    assert [p.name for p in (world.cache / "zipapp").rglob("*.pyz")] == ["mambaboot.pyz"]


RELEASE_PATH = "/owner/mambaboot/releases/download/v1"


@pytest.fixture
def release(tmp_path):
    """A release as the workflow builds it (tools/build_release.py), served on loopback at the
    address written into its scripts; .files is its directory."""
    from tests.support.server import AssetServer
    from tools.build_release import build

    with AssetServer() as server:
        server.files = tmp_path / "release"
        build(server.files, release_url=server.url + RELEASE_PATH)
        for f in server.files.iterdir():
            server.add(f"{RELEASE_PATH}/{f.name}", f.read_bytes())
        yield server


def _alone(release, tmp_path) -> Path:
    """The one file a user downloads from the release page, alone in a folder."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    shutil.copy(release.files / "bootstrap.sh", folder / "bootstrap.sh")
    return folder


def test_the_script_alone_fetches_its_releases_zipapp_checked_against_sha256sums(world, channel, standin, release,
                                                                                tmp_path):
    r = bootstrap(world, _alone(release, tmp_path), "-c", channel, "--cache-dir", str(world.cache),
                  "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    assert [release.count("GET", f"{RELEASE_PATH}/{n}") for n in ("SHA256SUMS", "mambaboot.pyz")] == [1, 1]
    kept = list((world.cache / "zipapp").rglob("*.pyz"))
    assert [p.read_bytes() for p in kept] == [(release.files / "mambaboot.pyz").read_bytes()], "cached as --zipapp URL's"


def test_a_tampered_release_zipapp_is_exit_5_and_nothing_runs(world, channel, fault_standin, release, tmp_path):
    listed = hashlib.sha256((release.files / "mambaboot.pyz").read_bytes()).hexdigest()
    release.add(f"{RELEASE_PATH}/mambaboot.pyz", b"not the released zipapp")
    args = ["-c", channel, "--cache-dir", str(world.cache), "--micromamba", str(fault_standin)]
    folder = _alone(release, tmp_path)
    r = bootstrap(world, folder, *args)
    assert r.returncode == 5, r.stderr
    assert f"{release.url}{RELEASE_PATH}/mambaboot.pyz does not match" in r.stderr, r.stderr
    assert listed in r.stderr and hashlib.sha256(b"not the released zipapp").hexdigest() in r.stderr
    # a SHA256SUMS with no line for exactly mambaboot.pyz verifies nothing
    release.add(f"{RELEASE_PATH}/SHA256SUMS", f"{listed}  mambaboot.pyz.old\n{listed}  xmambaboot.pyz\n".encode())
    r = bootstrap(world, folder, *args)
    assert r.returncode == 5 and "SHA256SUMS has no sha256 line for mambaboot.pyz" in r.stderr, r.stderr
    assert not (world.envs / "py").exists()
    assert not list((world.cache / "zipapp").rglob("*.pyz")) and not (world.cache / "micromamba").exists()


def test_the_repositorys_script_alone_names_no_release_and_says_what_to_do(world, channel, standin, tmp_path):
    folder = tmp_path / "alone"
    folder.mkdir()
    shutil.copy(SCRIPT, folder / "bootstrap.sh")
    r = bootstrap(world, folder, "-c", channel, "--cache-dir", str(world.cache), "--micromamba", str(standin))
    assert r.returncode == 2 and "put it beside this script, or pass --zipapp" in r.stderr, r.stderr


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_a_server_that_never_answers_ends_at_the_deadline_with_exit_5(world, dist, channel, shell):
    """curl's --max-time (exit 28), from MAMBABOOT_HTTP_DEADLINE as mambaboot's own downloads
    take it: without one, a stalled server held the script for ever."""
    from tests.support.server import AssetServer, Fault

    with AssetServer() as server:
        url = server.add_release(PINNED_MICROMAMBA, _subdir(), b"never sent")
        server.faults(url + ".sha256", [Fault.stall()] * 4)
        before = snapshot(world.root)
        r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache), shell=shell,
                      env={"MAMBABOOT_RELEASES_URL": f"{server.url}/mamba-org/micromamba-releases/releases",
                           "MAMBABOOT_HTTP_DEADLINE": "1"})
        assert server.count("GET", url + ".sha256") == 1, "no retry starts after the deadline"
    assert r.returncode == 5, r.stderr
    assert r.stderr.splitlines()[-2:] == [
        f"bootstrap: error: could not read the published digest {url}.sha256: curl exit 28: no whole answer within "
        "MAMBABOOT_HTTP_DEADLINE=1 seconds (MAMBABOOT_HTTP_TIMEOUT=30 seconds to connect); on a slow network set "
        "MAMBABOOT_HTTP_DEADLINE to more seconds",
        f"without it {url} cannot be verified; pass --micromamba-sha256 or --zipapp-sha256 if you know its digest"]
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("fault", ["endless", "declared"])
def test_a_body_longer_than_the_bound_is_cut_off_and_nothing_is_kept(world, dist, channel, fault):
    """An endless body without Content-Length, which curl before 8.4.0 lets through whatever
    --max-filesize says, stops at MAMBABOOT_HTTP_MAX_BYTES; a Content-Length beyond it, before
    the body (curl's exit 63)."""
    from tests.support.server import AssetServer, Fault

    with AssetServer() as server:
        url = server.add_release(PINNED_MICROMAMBA, _subdir(), b"x" * 5000)
        if fault == "endless":
            server.faults(url, [Fault.endless()] * 4)
        before = snapshot(world.root)
        r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache), "--micromamba-sha256", "a" * 64,
                      env={"MAMBABOOT_RELEASES_URL": f"{server.url}/mamba-org/micromamba-releases/releases",
                           "MAMBABOOT_HTTP_MAX_BYTES": "1000"})
        assert server.count("GET", url) == 1
    assert r.returncode == 5, r.stderr
    assert r.stderr.splitlines()[-1] == (
        f"bootstrap: error: download of {url} failed: it is larger than MAMBABOOT_HTTP_MAX_BYTES=1000 bytes; set "
        "MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large; nothing was kept")
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("var", ["MAMBABOOT_HTTP_TIMEOUT", "MAMBABOOT_HTTP_DEADLINE", "MAMBABOOT_HTTP_MAX_BYTES"])
@pytest.mark.parametrize("value", ["0", "1.5", "ten", "", "1234567890123456789"])
def test_a_bound_that_is_no_whole_number_is_refused_with_exit_2(world, dist, var, value):
    """curl reads --max-time 0 as no limit at all."""
    before = snapshot(world.root)
    from tests.support.server import refused_url

    r = bootstrap(world, dist, env={var: value, "MAMBABOOT_RELEASES_URL": refused_url()})
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [f"bootstrap: error: {var}='{value}' is not a whole number >= 1"]
    assert diff(before, snapshot(world.root)) == {}


def test_an_unreadable_mamba_ssl_no_revoke_is_refused_with_exit_2(world, dist):
    """micromamba would stop on it (it reads the variable as a YAML boolean): said first, naming it."""
    from tests.support.server import refused_url

    before = snapshot(world.root)
    r = bootstrap(world, dist, env={"MAMBA_SSL_NO_REVOKE": "maybe", "MAMBABOOT_RELEASES_URL": refused_url()})
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == ["bootstrap: error: MAMBA_SSL_NO_REVOKE='maybe' is neither true nor false: "
                                     "set it to true or false"]
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("var", isolation.CONTAMINATING)
def test_a_contaminated_shell_is_refused_with_exit_3(world, dist, var):
    before = snapshot(world.root)
    r = bootstrap(world, dist, "x", "3.12", env={var: "/some/env"})
    assert r.returncode == 3, r.stderr
    assert f"{var}=/some/env" in r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("setup", [USER_DIR, HOLDS_PYTHON, IS_FILE, OURS, LINK])
def test_an_occupied_target_is_refused_with_exit_4_and_left_intact(world, dist, channel, standin, setup):
    """A link, a file, an environment of mambaboot's: refused before any download; a directory
    that holds anything else: by create, after the hand-over."""
    occupy(world.envs / "py_3_11", setup, python_name="bin/python3.11")
    before = snapshot(world.root)
    r = bootstrap(world, dist, "py", "3.11", "-c", channel, "--micromamba", str(standin), "--cache-dir",
                  str(world.cache))
    assert r.returncode == 4, r.stderr
    assert diff(before, snapshot(world.root)) == {}
    assert ("python: private" in r.stderr) == (setup in (USER_DIR, HOLDS_PYTHON)), r.stderr
    assert _work_dirs(world) == []


def test_an_empty_target_directory_is_used(world, dist, channel, standin):
    (world.envs / "py").mkdir()
    r = bootstrap(world, dist, "-c", channel, "--micromamba", str(standin), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert "is an empty directory" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["x", "three"], "is not a version"),
    (["x", "3.12.1.1"], "is not a version"),
    (["it's"], "contains the character"),
    (["x", "3.12", "extra"], "at most NAME and PY_VERSION"),
    (["--bogus"], "unknown option"),
    (["--package"], "needs a value"),
    (["--package", "-y"], "starts with '-'"),
    (["--micromamba-sha256", "abc"], "not a sha256"),
    (["--micromamba-version", "two"], "is not like 2.8.1"),
    (["--micromamba-url", "http://mirror.example/mm"], "plain http"),
    (["--micromamba-url", "ftp://mirror.example/mm"], "not an https"),
    (["--zipapp", "/nowhere/mambaboot.pyz"], "mambaboot.pyz not found"),
])
def test_usage_errors_are_exit_2_and_write_nothing(world, dist, args, message):
    before = snapshot(world.root)
    r = bootstrap(world, dist, *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("name, message", [
    ("", "create: argument NAME: an empty value names nothing"),
    ("a/b", "environment name 'a/b' looks like a path; use --prefix PATH instead"),
])
def test_a_name_is_creates_to_refuse_after_the_hand_over(world, dist, channel, standin, name, message):
    """create checks the name again under its lock: the script leaves it to create, whose words
    and exit code are the script's; nothing is made but the cache's, and the work directory goes."""
    before = world.outside()
    r = bootstrap(world, dist, name, "-c", channel, "--micromamba", str(standin), "--cache-dir", str(world.cache))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1] == f"mambaboot: error: {message}"
    assert world.outside() == before and _work_dirs(world) == []


def test_names_and_directories_follow_the_users_rules(world, dist, channel, standin, tmp_path):
    py_envs = tmp_path / "PY ENVS"
    py_envs.mkdir()
    common = ["-c", channel, "--micromamba", str(standin), "--cache-dir", str(world.cache)]
    r = bootstrap(world, dist, "named", "3.11", *common, env={"PY_ENVS": str(py_envs)})
    assert r.returncode == 0, r.stderr
    assert (py_envs / "named_3_11" / "bin" / "python").exists()
    r = bootstrap(world, dist, "given", *common, "--envs-dir", "sub dir")
    assert r.returncode == 0, r.stderr
    assert json.loads((world.envs / "sub dir" / "given" / ".mambaboot" / "record.json").read_text())["inputs"][
        "envs_dir"] == str(world.envs / "sub dir")


@pytest.mark.parametrize("shell", ["dash", "bash"])
@pytest.mark.parametrize("what", ["missing", "a file"])
def test_py_envs_naming_no_directory_is_refused_before_any_download(world, dist, release_server, tmp_path, shell,
                                                                    what):
    """As mambaboot refuses it: never the current directory instead."""
    py_envs = tmp_path / what
    if what == "a file":
        py_envs.write_text("not a directory")
    before = snapshot(world.root)
    r = bootstrap(world, dist, env={"PY_ENVS": str(py_envs), "MAMBABOOT_RELEASES_URL": release_server.releases_base},
                  shell=shell)
    assert r.returncode == 2, r.stderr
    assert (f"PY_ENVS names {py_envs}, which is not a directory (it does not exist, or is a file); create it, "
            "give --envs-dir, or unset PY_ENVS") in r.stderr
    assert diff(before, snapshot(world.root)) == {}, "nothing created, in the current directory or anywhere"
    assert release_server.requests == [], "refused before any download"


def test_the_default_cache_is_creates(world, dist, channel, standin):
    r = bootstrap(world, dist, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    record = json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())
    assert record["inputs"]["cache_dir"] == str(world.home / ".cache" / "mambaboot")
    assert (world.envs / "py" / "pkgs").readlink() == world.home / ".cache" / "mambaboot" / "Python" / "pkgs"


def test_a_relative_xdg_cache_home_is_ignored_as_mambaboot_ignores_it(world, dist, channel, standin):
    r = bootstrap(world, dist, "-c", channel, "--micromamba", str(standin), env={"XDG_CACHE_HOME": "relcache"})
    assert r.returncode == 0, r.stderr
    record = json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())
    assert record["inputs"]["cache_dir"] == str(world.home / ".cache" / "mambaboot")
    assert not (world.envs / "relcache").exists()


def test_a_relative_home_is_refused_before_anything_is_written(world, dist):
    before = world.outside()
    r = bootstrap(world, dist, env={"HOME": "relhome"})
    assert r.returncode == 2 and "HOME is 'relhome', not an absolute path" in r.stderr
    assert world.outside() == before


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_a_removed_current_directory_is_refused(world, dist, shell):
    """dash's `pwd -P` prints nothing and exits 0 in a removed directory: the prefix was /py."""
    gone = world.root / "gone"
    gone.mkdir()
    before = world.outside(gone)
    proc = subprocess.run([shell, str(dist / "bootstrap.sh"), "--micromamba", "/bin/false"], env=world.env, cwd=str(gone),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                          preexec_fn=lambda: os.rmdir(os.getcwd()))
    assert proc.returncode == 2 and "cannot read the current directory (removed" in proc.stderr, proc.stderr
    assert world.outside(gone) == before


def test_a_terminal_closing_under_the_engine_is_exit_129_and_leaves_no_private_home(world, dist, channel, fault_standin):
    """SIGHUP to the job (the terminal closed): without a trap the shell died at once and its
    private HOME stayed in the cache, for `cache clean` to find."""
    args = ["dash", str(dist / "bootstrap.sh"), "-c", channel, "--micromamba", str(fault_standin), "--cache-dir", str(world.cache)]
    with paused(args, world.env, world.envs, world.root.parent / "fifo") as proc:
        assert list((world.cache / "tmp").iterdir()), "the engine runs in the work directory"
        os.killpg(proc.pid, signal.SIGHUP)
        proc.communicate(timeout=120)
    assert proc.returncode == 129
    assert list((world.cache / "tmp").iterdir()) == []


def test_engine_failure_is_exit_6(world, dist, channel, fault_standin):
    r = bootstrap(world, dist, "-c", channel, "--micromamba", str(fault_standin), "--cache-dir", str(world.cache),
                  env={"STANDIN_FAIL": "1"})
    assert r.returncode == 6, r.stderr
    assert "injected failure" in r.stderr and "micromamba could not make the private Python (exit 1)" in r.stderr
    assert not (world.envs / "py").exists()
    assert not list((world.cache / "tmp").iterdir()), "the work directory is gone"


def test_the_hand_over_exit_code_is_the_scripts(world, dist, liar_channel, standin):
    """create's verification fails (exit 7): the script returns create's code, and create rolls
    its environment back as it always does; the work directory goes too."""
    r = bootstrap(world, dist, "liar", "3.12", "-c", liar_channel, "--micromamba", str(standin),
                  "--cache-dir", str(world.cache))
    assert r.returncode == 7, r.stderr
    assert "expected 3.12, found 3.11.2" in r.stderr and "to use it" not in r.stderr
    assert not (world.envs / "liar_3_12").exists()
    assert _work_dirs(world) == []


def test_the_script_is_clean_posix_sh():
    out = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    assert os.access(SCRIPT, os.X_OK)
    text = SCRIPT.read_text(encoding="ascii")
    assert f"mb_pinned={PINNED_MICROMAMBA}\n" in text
    assert "CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV" in text
    assert " ".join(isolation.CONTAMINATING) in text


def _subdir() -> str:
    from mambaboot.common.host import current

    return current().subdir


# ------------------------------------------------------------------ what the script leaves, and no more

def _work_dirs(world) -> list:
    tmp = world.cache / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else []


def _released_by_lines(proc, fifo: Path, line_start: str) -> None:
    """Read the script's stderr until a line starting with line_start (the stand-in has then exited)."""
    for line in proc.stderr:
        if line.startswith(line_start):
            return
    raise AssertionError(f"the script ended before saying {line_start!r}")


@pytest.mark.parametrize("step", ["private python", "create's engine"])
@pytest.mark.parametrize("shell", SHELLS)
def test_killed_at_each_step_it_leaves_only_its_work_directory_and_the_next_run_works(world, dist, channel,
                                                                                   fault_standin, step, shell):
    """SIGKILL to the whole job (a lost session) while micromamba runs for the private Python, and
    while create's own micromamba runs: the script's only leftover is its work directory, which
    `cache clean` and `doctor` name (and leave); a killed create's leftovers are create's to name
    (the next run hands over to create, which says what clears them); then the next run works."""
    fifo = world.root.parent / "fifo"
    os.mkfifo(fifo)
    args = [*_argv0(shell), str(dist / "bootstrap.sh"), "-c", channel, "--micromamba", str(fault_standin),
            "--cache-dir", str(world.cache)]
    proc = subprocess.Popen(args, env={**world.env, "STANDIN_BLOCK_FIFO": str(fifo)}, cwd=str(world.envs),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        writer = os.open(fifo, os.O_WRONLY)  # returns when the private Python's micromamba blocks on it
        if step == "create's engine":
            _go_on(writer)
            _released_by_lines(proc, fifo, "python: private")
            writer = os.open(fifo, os.O_WRONLY)  # create's micromamba, linking the environment
            assert (world.envs / "py" / "conda-meta").is_dir()
        work = [n for n in _work_dirs(world) if n.endswith("-bootstrap")]  # create's own beside it, in its step
        assert len(work) == 1 and re.fullmatch(SCHEME + "-bootstrap", work[0]), work
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
        os.close(writer)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=120)
    left = world.cache / "tmp" / work[0]
    assert work[0] in _work_dirs(world), "its work directory stays, for the user to see"
    if step == "private python":
        assert list(world.envs.iterdir()) == [], "nothing at the place"
    found = world.run("doctor", "--cache-dir", str(world.cache), "--json").json()
    assert [f["fix"] for f in found["findings"] if f["message"].startswith(str(left))] == [
        f"delete it yourself once no bootstrap script is running: `rm -rf {left}`"]
    clean = world.run("cache", "clean", "--cache-dir", str(world.cache))
    assert clean.returncode == 0 and f"{left} is a bootstrap script's work directory, left by a script that was killed or that " \
        "is still running" in clean.stdout, clean.stdout
    assert left.is_dir(), "named, never deleted: nothing proves its run is gone"
    if step == "create's engine":  # create's own leftovers, which create names, with what clears them
        r = bootstrap(world, dist, "-c", channel, "--micromamba", str(fault_standin), "--cache-dir", str(world.cache),
                      shell=shell)
        assert r.returncode == 4 and "holds what a mambaboot create killed while it made an environment there left" \
            in r.stderr, r.stderr
        shutil.rmtree(world.envs / "py")
    r = bootstrap(world, dist, "-c", channel, "--micromamba", str(fault_standin), "--cache-dir", str(world.cache),
                  shell=shell)
    assert r.returncode == 0, r.stderr
    assert json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    assert _work_dirs(world) == [work[0]], "the next run deletes only its own"


def _world_writable(root: Path) -> list:
    return [str(p) for p in [root, *root.rglob("*")] if not p.is_symlink() and p.lstat().st_mode & 0o002]


@pytest.mark.parametrize("shell", SHELLS)
def test_nothing_is_world_writable_under_umask_000(world, dist, channel, release_server, shell):
    """The cache's stores, the environment and the work directory, started with umask 000."""
    r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache), umask=0, shell=shell,
                  env={"MAMBABOOT_RELEASES_URL": release_server.releases_base})
    assert r.returncode == 0, r.stderr
    assert _world_writable(world.cache) == [] and _world_writable(world.envs / "py") == []
    assert (world.cache / "micromamba").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("where", ["the place", "the cached binary", "its digest note", "the zipapp"])
def test_a_fifo_where_a_file_was_expected_is_never_waited_on(world, dist, channel, release_server, where):
    """Read only what is a regular file: a fifo at the place is refused, one in the store replaced."""
    from mambaboot.common.host import current

    store = world.cache / "micromamba" / f"{PINNED_MICROMAMBA}-{current().subdir}"
    store.mkdir(parents=True)
    fifo = {"the place": world.envs / "py", "the cached binary": store / "micromamba",
            "its digest note": store / "sha256", "the zipapp": dist / "mambaboot.pyz"}[where]
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache),
                  env={"MAMBABOOT_RELEASES_URL": release_server.releases_base})
    if where == "the place":
        assert r.returncode == 4 and f"{fifo} is not a directory (a symbolic link, a file, a fifo or a device)" in r.stderr, r.stderr
    elif where == "the zipapp":
        assert r.returncode == 2 and "(or not a regular file)" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert fifo.is_file(), "replaced by the verified download"


@pytest.mark.parametrize("option", ["--micromamba-url", "MAMBABOOT_RELEASES_URL", "--zipapp", "plain http"])
def test_a_password_in_a_url_is_never_printed(world, dist, channel, option):
    from tests.support.server import AssetServer

    secret = "s3cr3t-pass"
    with AssetServer() as server:
        base = server.url.replace("://", f"://user:{secret}@")
        args, env = ["-c", channel, "--cache-dir", str(world.cache)], {}
        if option == "--micromamba-url":
            args += ["--micromamba-url", f"{base}/missing/micromamba"]
        elif option == "MAMBABOOT_RELEASES_URL":
            env["MAMBABOOT_RELEASES_URL"] = f"{base}/nowhere/releases"
        elif option == "--zipapp":
            args += ["--micromamba", "/bin/true", "--zipapp", f"{base}/dl/mambaboot.pyz"]
        else:
            args += ["--micromamba-url", f"http://user:{secret}@mirror.example/mm"]
        r = bootstrap(world, dist, *args, env=env)
    assert r.returncode in (2, 5), r.stderr
    assert secret not in r.stderr + r.stdout, r.stderr
    assert "user:***@" in r.stderr or "***@" in r.stderr, r.stderr


def test_an_http_error_is_answered_as_one_not_with_a_proxy(world, dist, channel):
    """curl's exit 22 (-f: the server answered 404): a wrong version or a missing asset."""
    from tests.support.server import AssetServer

    with AssetServer() as server:
        r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache), "--micromamba-version", "9.9.9",
                      env={"MAMBABOOT_RELEASES_URL": f"{server.url}/releases"})
    assert r.returncode == 5, r.stderr
    assert "curl exit 22" in r.stderr and "the server has no such file: check --micromamba-version" in r.stderr
    assert "PROXY" not in r.stderr


@pytest.mark.parametrize("status", [410, 403, 407, 503, 418])
def test_an_http_error_is_explained_by_its_status_as_create_explains_it(world, dist, channel, status):
    """curl -f fails every status from 400 with exit 22 and names the status in its error; the
    advice is the status's, in create's words (engine/download.py status_hint)."""
    from mambaboot.engine.download import status_hint
    from tests.support.server import AssetServer, Fault

    with AssetServer() as server:
        url = server.add_release(PINNED_MICROMAMBA, _subdir(), b"never sent")
        server.faults(url + ".sha256", [Fault.status(status)] * 4)
        r = bootstrap(world, dist, "-c", channel, "--cache-dir", str(world.cache),
                      env={"MAMBABOOT_RELEASES_URL": f"{server.url}/mamba-org/micromamba-releases/releases"})
    assert r.returncode == 5, r.stderr
    hint = status_hint(status).replace("(--micromamba-url, MAMBABOOT", "(--micromamba-url, --zipapp, MAMBABOOT") \
        if status == 410 else status_hint(status)
    said = re.search(rf"curl exit 22 \(curl: \(22\) The requested URL returned error: {status}[^)]*\): (.*)", r.stderr)
    assert said and said.group(1) == (hint or "the server answered with an HTTP error, not the network: check "
                                      f"--micromamba-version (a release that has micromamba-{_subdir()}), the mirror's "
                                      "URL, or --zipapp"), r.stderr


def test_two_bootstraps_and_a_create_racing_for_one_place_one_wins_the_others_exit_4(world, dist, channel,
                                                                                    fault_standin):
    """The place's lock is create's own: a create holding it (paused while its micromamba links)
    refuses both scripts' hand-overs with exit 4, and ends well itself. The scripts' own package
    cache is another: the paused create's micromamba holds its package cache's lock."""
    prefix = world.envs / "py"
    racing = {**world.env, "CONDA_PKGS_DIRS": str(world.root.parent / "racers-pkgs")}
    command = [*world.command, "create", "py", "-c", channel, "--micromamba", str(fault_standin),
               "--cache-dir", str(world.cache)]
    with paused(command, world.env, world.envs, world.root.parent / "fifo") as proc:
        assert (prefix / "conda-meta").is_dir()
        racers = [subprocess.Popen(
            ["dash", str(dist / "bootstrap.sh"), "-c", channel, "--micromamba", str(fault_standin),
             "--cache-dir", str(world.cache)], env=racing, cwd=str(world.envs), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for racer in racers:
            out, err = racer.communicate(timeout=600)
            assert racer.returncode == 4, err
            assert f"is changing {prefix} right now" in err, err
        _go_on(os.open(world.root.parent / "fifo", os.O_WRONLY))
        proc.wait(timeout=600)
    assert proc.returncode == 0
    assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    assert _work_dirs(world) == [], "each script deleted its own work directory"


def _go_on(writer: int) -> None:
    os.write(writer, b"1")
    os.close(writer)
