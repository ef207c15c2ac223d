"""Post-scripts: run inside the activated environment from a clean baseline; failure is exit 8
with the environment kept and recorded; `mambaboot provision` continues."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

from mambaboot.common import winsys
from mambaboot.common.errors import ProvisionError, UsageError
from mambaboot.environment import lockfile, record
from mambaboot.pipeline import provision
from tests.support.recorder import Recorder
from tests.support.wine import WINE, windows_path

PROBE = """\
set -e
{
  echo "python=$(command -v python)"
  echo "conda=$(command -v conda)"
  echo "mamba=$(command -v mamba)"
  echo "prefix=$CONDA_PREFIX"
  echo "pwd=$(pwd)"
  echo "pythonpath=${PYTHONPATH-unset}"
  python -c 'import sys; print("sys.prefix=" + sys.prefix)'
  conda --version
} > "$OUT"
echo "probe ran"
"""


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())


def _seen(path: Path) -> dict:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line) | {"last": lines[-1]}


def test_post_scripts_run_in_the_activated_environment_from_a_clean_baseline(world, channel, standin):
    probe = world.root / "probe.sh"
    probe.write_text(PROBE)
    second = world.root / "second.sh"
    second.write_text('echo "second after first" >> "$OUT"\n')
    out = world.root / "seen.txt"
    r = world.create("prov", "-c", channel, "--micromamba", str(standin), "--post-script", str(probe),
                     "--post-script", str(second), "--ignore-active-env",
                     env={"OUT": str(out), "PYTHONPATH": "/bogus", "CONDA_PREFIX": "/elsewhere"})
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "prov"
    seen = _seen(out)
    assert seen["python"] == str(prefix / "bin" / "python"), "the environment's python comes first on PATH"
    assert seen["conda"] == str(prefix / "bin" / "conda") and seen["mamba"] == str(prefix / "bin" / "mamba")
    assert seen["prefix"] == str(prefix) and seen["sys.prefix"] == str(prefix)
    assert seen["pwd"] == str(prefix)
    assert seen["pythonpath"] == "unset", "the caller's PYTHONPATH never reaches a script"
    assert seen["last"] == "second after first", "scripts run in the order given"
    assert "  | probe ran" in r.stderr, "the script's output is shown"
    rec = _record(prefix)
    assert rec["state"] == "complete"
    assert rec["provisioning"]["done"] == [str(probe), str(second)]
    assert "size" not in rec, "no size recorded: the environment's own conda would make it stale"


def test_a_failing_script_is_exit_8_and_provision_continues(world, channel, standin):
    out = world.root / "log.txt"
    first = world.root / "first.sh"
    first.write_text('echo first >> "$OUT"\n')
    flaky = world.root / "flaky.sh"
    flaky.write_text('echo flaky-failed >> "$OUT"\necho "cannot go on" >&2\nexit 3\n')
    last = world.root / "last.sh"
    last.write_text('echo last >> "$OUT"\n')
    scripts = [a for s in (first, flaky, last) for a in ("--post-script", str(s))]
    r = world.create("prov", "-c", channel, "--micromamba", str(standin), *scripts, env={"OUT": str(out)})
    assert r.returncode == 8, r.stderr
    assert "flaky.sh failed (exit 3)" in r.stderr and "cannot go on" in r.stderr
    assert "mambaboot provision" in r.stderr
    prefix = world.envs / "prov"
    assert (prefix / "bin" / "python").exists(), "the environment stays"
    rec = _record(prefix)
    assert rec["state"] == "provisioning-failed"
    assert rec["provisioning"]["failed"]["script"] == str(flaky)
    assert rec["provisioning"]["failed"]["exit_code"] == 3
    assert out.read_text().split() == ["first", "flaky-failed"], "the next script did not run"

    listed = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), "--json").json()
    assert [(e["state"], e["failed"]) for e in listed["environments"]] == [("provisioning-failed", str(flaky))]

    flaky.write_text('echo flaky-fixed >> "$OUT"\n')
    r = world.run("provision", str(prefix), "--cache-dir", str(world.cache), env={"OUT": str(out)})
    assert r.returncode == 0, r.stderr
    assert out.read_text().split() == ["first", "flaky-failed", "flaky-fixed", "last"], \
        "continues with the failed script and the ones after it"
    rec = _record(prefix)
    assert rec["state"] == "complete" and "size" not in rec, "provision measures nothing"

    extra = world.root / "extra.sh"
    extra.write_text('echo extra >> "$OUT"\n')
    r = world.run("provision", str(prefix), "--post-script", str(extra), env={"OUT": str(out)})
    assert r.returncode == 0, r.stderr
    assert out.read_text().split()[-1] == "extra"
    r = world.run("provision", str(prefix))
    assert r.returncode == 0 and "nothing to do" in r.stderr


def test_missing_script_is_refused_before_anything_is_created(world, channel, standin):
    before = world.outside()
    r = world.create("prov", "-c", channel, "--micromamba", str(standin), "--post-script", str(world.root / "nope.sh"))
    assert r.returncode == 2 and "no such file" in r.stderr
    assert not (world.envs / "prov").exists()
    assert world.outside() == before


def test_provision_refuses_what_is_not_ours(world, channel, standin):
    plain = world.root / "plain"
    (plain / "conda-meta").mkdir(parents=True)
    r = world.run("provision", str(plain))
    assert r.returncode == 4 and "not an environment mambaboot created" in r.stderr


@pytest.mark.parametrize("script, windows, expected", [
    ("x.bat", True, ["C:\\Windows\\system32\\cmd.exe", "/d", "/c", "x.bat"]),
    ("X.CMD", True, ["C:\\Windows\\system32\\cmd.exe", "/d", "/c", "X.CMD"]),
    ("x.ps1", True, ["powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "x.ps1"]),
    ("x.ps1", False, ["pwsh", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "x.ps1"]),
    ("x.sh", True, ["sh", "x.sh"]),
    ("setup", False, ["sh", "setup"]),
])
def test_the_shell_matches_the_script(script, windows, expected):
    assert provision.interpreter(script, windows, {"ComSpec": "C:\\Windows\\system32\\cmd.exe"}) == expected


def test_a_batch_script_off_windows_is_a_usage_error():
    with pytest.raises(UsageError, match="only Windows"):
        provision.interpreter("x.bat", False, {})


# --------------------------------------------------------------------------- cmd.exe, via Wine


@pytest.mark.parametrize("code", [0, 3])
def test_a_batch_post_script_runs_in_cmd(tmp_path, monkeypatch, wine, code):
    prefix = tmp_path / "env"
    prefix.mkdir()
    record.write(str(prefix), {"state": record.COMPLETE, "files": [".mambaboot/record.json"]})
    script = tmp_path / "setup.bat"
    script.write_bytes(f'@echo off\r\necho prefix=%CONDA_PREFIX%> "%OUT%"\r\nexit /b {code}\r\n'.encode())
    out = tmp_path / "out.txt"
    monkeypatch.setattr(winsys, "command_processor", lambda environ, windows: [*WINE, "cmd"])
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WINEPREFIX": str(wine.prefix),
               "WINEDEBUG": "-all", "OUT": windows_path(out)}
    steps = provision.Steps(scripts=(windows_path(script),))
    if code:
        with pytest.raises(ProvisionError, match="exit 3"):
            provision.run(str(prefix), steps, environ, True, str(tmp_path / "cache"), Recorder())
    else:
        provision.run(str(prefix), steps, environ, True, str(tmp_path / "cache"), Recorder())
    assert out.read_text().strip() == f"prefix={prefix}"
    state = record.read(str(prefix))["state"]
    assert state == ("provisioning-failed" if code else "complete")


def test_pips_report_gives_each_artefact_and_only_archives_are_pinned(tmp_path):
    """The shapes pip's `install --report` uses (PEP 610 download_info)."""
    sha = "e" * 64
    report = {"version": "1", "install": [
        {"metadata": {"name": "Wheel_One", "version": "1"},
         "download_info": {"url": "https://files.example/w-1.whl", "archive_info": {"hashes": {"sha256": sha}}}},
        {"metadata": {"name": "old", "version": "2"},
         "download_info": {"url": "file:///w/old-2.tar.gz", "archive_info": {"hash": "sha256=" + sha.upper()}}},
        {"metadata": {"name": "nohash", "version": "3"}, "download_info": {"url": "file:///w/n.whl", "archive_info": {}}},
        {"metadata": {"name": "editable", "version": "4"},
         "download_info": {"url": "file:///src/e", "dir_info": {"editable": True}}},
        {"metadata": {"name": "vcs", "version": "5"},
         "download_info": {"url": "https://git.example/v", "vcs_info": {"vcs": "git", "commit_id": "abc"}}},
    ]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert provision.report_artefacts(json.loads(path.read_text())) == {
        "wheel-one": ("https://files.example/w-1.whl", sha), "old": ("file:///w/old-2.tar.gz", sha),
        "nohash": ("file:///w/n.whl", None), "editable": ("file:///src/e", None), "vcs": ("https://git.example/v", None),
    }


def test_a_hostile_url_in_pips_report_keeps_nothing_outside_the_wheelhouse(tmp_path):
    """pip's report is text from elsewhere: a URL urllib cannot read ended the run with a
    traceback (exit 1) after pip had installed, and a last segment that decodes to `../../NAME`
    put the copy outside the wheelhouse. Both are kept by no name; the readable one is kept."""
    wheel = tmp_path / "w-1-py3-none-any.whl"
    wheel.write_bytes(b"a wheel")
    sha = hashlib.sha256(b"a wheel").hexdigest()
    (tmp_path / "a" / "b").mkdir(parents=True)
    urls = {"broken": "https://[x/broken-1.whl", "escaping": f"file://{tmp_path}/a/b/..%2F..%2F{wheel.name}",
            "plain": wheel.as_uri()}
    report = {"install": [{"metadata": {"name": name, "version": "1"},
                           "download_info": {"url": url, "archive_info": {"hashes": {"sha256": sha}}}}
                          for name, url in urls.items()]}
    packages = provision._Run._pinned([{"name": name, "version": "1"} for name in urls],
                                      provision.report_artefacts(report))
    entries = list(lockfile.pip_entries(packages))
    cache = tmp_path / "cache"
    cache.mkdir()
    reporter = Recorder()
    run = provision._Run(str(tmp_path / "prefix"), provision.Steps(), {"PATH": "/usr/bin"}, False, str(cache), reporter)
    run._keep_copies(sys.executable, entries)
    kept = [p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()]
    assert kept == [f"pip/wheelhouse/{sha}/{wheel.name}"]
    assert reporter.warnings == [
        f"could not keep a copy of broken 1 ('{urls['broken']}' names no file), escaping 1 ('{urls['escaping']}' "
        "names no file); --from-lock will fetch them from their URLs"]
    assert provision.locked_requirements(entries, str(cache)) == [
        f"broken @ {urls['broken']} --hash=sha256:{sha}", f"escaping @ {urls['escaping']} --hash=sha256:{sha}",
        f"plain @ {(cache / 'pip' / 'wheelhouse' / sha / wheel.name).as_uri()} --hash=sha256:{sha}"]


@pytest.mark.parametrize("name, url", [
    ("mytool\n--index-url https://evil.example/simple", "https://h/w/mytool-1.0-py3-none-any.whl"),
    ("mytool", "https://h/w/mytool-1.0-py3-none-any.whl\n-r ~/.netrc"),
    ("--trusted-host", "https://h/w/mytool-1.0-py3-none-any.whl"),
], ids=["name-lines", "url-lines", "name-option"])
def test_a_recorded_pip_entry_that_is_not_one_line_never_reaches_pips_requirements(tmp_path, name, url):
    """`mambaboot provision` reads the entries still to install from the record, a file: each is
    checked again where pip's requirements file is written."""
    from mambaboot.common.errors import UsageError

    entries = lockfile.pip_entries([{"name": name, "version": "1.0", "url": url, "sha256": "c" * 64}])
    with pytest.raises(UsageError, match="the pip entry"):
        provision.locked_requirements(entries, str(tmp_path))
