"""`mambaboot create` end to end: the real command, the stand-in engine, the local channel."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from mambaboot.environment import roothook
from tests.support.entries import both_entries
from tests.support.probed import FSYNC_PROBE, create_probed, run_probed, synced
from tests.support.snapshot import diff, snapshot
from tests.support.targets import HOLDS_PYTHON, IS_FILE, USER_DIR, occupy


def _python_reports(prefix: Path) -> dict:
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c",
         "import sys, json; print(json.dumps({'prefix': sys.prefix, 'version': sys.version.split()[0]}))"],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout)


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())


@both_entries
def test_happy_path_creates_a_verified_recorded_environment(world, channel, standin):
    before = world.outside()
    r = world.create("demo", "--python", "3.11", "-c", channel, "--micromamba", str(standin), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    prefix = world.envs / "demo_3_11"
    assert out["prefix"] == str(prefix)
    assert out["python_version"] == "3.11.2"
    assert out["micromamba_version"] == "2.8.1"
    names = {p["name"] for p in out["packages"]}
    assert {"python", "conda", "mamba"} <= names
    assert all(set(p) == {"name", "version", "build"} for p in out["packages"])

    assert _python_reports(prefix) == {"prefix": str(prefix), "version": "3.11.2"}
    record = _record(prefix)
    assert record["state"] == "complete"
    assert record["micromamba"]["sha256"] == out["micromamba_sha256"]
    assert {p["name"] for p in record["packages"]} == names
    scripts = {f".mambaboot/{a}activate.{ext}" for a in ("", "de") for ext in ("sh", "fish", "ps1")}
    scripts |= {".mambaboot/vars.sh", ".mambaboot/vars.fish", ".mambaboot/vars.ps1", ".mambaboot/envvars.py"}  # the variables, kept live
    hooks = set(roothook.render(False))  # etc/conda/{activate,deactivate}.d/~mambaboot-root.*
    assert set(record["files"]) == {".mambaboot/record.json", ".mambaboot/lock.txt", ".condarc", "pkgs",
                                    "conda-meta/state"} | scripts | hooks
    assert json.loads((prefix / "conda-meta" / "state").read_text()) == {"env_vars": {"PYTHONNOUSERSITE": "1"}}
    assert {p.name for p in (prefix / ".mambaboot").iterdir()} == {"record.json", "lock.txt"} | {s.split("/")[1] for s in scripts}
    assert os.readlink(prefix / "pkgs") == str(world.cache / "Python" / "pkgs")
    assert not list((prefix / "conda-meta").glob("*mambaboot*"))
    # the scripts made while the engine ran (finish.prepare) are those the environment gives now
    from mambaboot.shell.activation import generate

    assert {rel: (prefix / rel).read_bytes() for rel in scripts} == generate.render(str(prefix), False)
    # one line per step on stderr, in pipeline order
    steps = [line.split(":", 1)[0] for line in r.stderr.splitlines()]
    assert steps == ["shell", "target", "micromamba", "engine", "cache link", "standalone", "scripts", "condarc", "verify",
                     "record"]

    # nothing outside the prefix and the cache changed, although the engine tried
    assert diff(before, world.outside(prefix)) == {}


def test_only_the_intent_the_mark_and_the_complete_record_are_synced(world, channel, standin, tmp_path):
    """The intent beside the prefix and the run's mark in it (what tell an interrupted create
    after a power loss) and the record that says `complete` are synced; what finish writes into
    the prefix the engine has just made (the record that says `incomplete`, activation scripts,
    lock, .condarc) is not, as the engine syncs none of its own files there (libmamba calls no fsync)."""
    out = tmp_path / "synced.txt"
    r = create_probed(world, out, FSYNC_PROBE, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "py"
    assert (prefix / ".mambaboot" / "activate.sh").is_file() and _record(prefix)["state"] == "complete"
    files = synced(out)
    assert [name for d, name in files if d == prefix / ".mambaboot"] == ["record.json"]
    assert [name for d, name in files if d == prefix / "conda-meta"] == [".mambaboot-claim"]  # proof.NEW's place
    assert not [name for d, name in files if d == prefix]
    assert not [name for d, name in files if prefix in d.parents and d not in (prefix / ".mambaboot", prefix / "conda-meta")]
    assert [d for d, name in files if name.endswith(".json")] == [prefix / ".mambaboot"]
    assert {name for d, name in files if d == world.envs} == {"py.mambaboot-lock"}
    # the private home's mark is not synced: its lock's token and marker are not either, so after a power loss
    # it proves nothing with or without it (named by `cache clean`, never deleted: common/files/workdir.py)
    assert not [name for d, name in files if world.cache / "tmp" in d.parents], files


def test_the_intent_is_synced_from_the_first_stage_that_has_something_to_settle(world, channel, standin, tmp_path):
    """The intent is synced before each act its settle row undoes (docs/reliability.md, "Killed"); a create's first
    text, `begun`, settles nothing (environment/settle.py: its `begun` row is empty) and is not synced: the stage after
    it is, before the first act at the place. (A move's `begun` drops the mark it writes in its source: synced.)"""
    from mambaboot.environment import settle

    assert settle.TABLE[("create", "begun")][0] is None and settle.TABLE[("move", "begun")][0], settle.TABLE
    out = tmp_path / "stages.txt"
    probe = ("import os, json\nreal = os.fsync\n"
             "def fsync(fd):\n"
             "    if os.readlink(f'/proc/self/fd/{fd}').endswith('.mambaboot-lock'):\n"
             "        open(out, 'a').write(json.loads(os.pread(fd, 65536, 0))['stage'] + '\\n')\n"
             "    real(fd)\n"
             "os.fsync = fsync\n")
    r = create_probed(world, out, probe, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    stages = out.read_text().split()
    # before the engine: the directory's staged name before it is made, its identity before its rename
    assert stages[:2] == ["engine", "finishing"] and "begun" not in stages, stages


def test_a_moves_first_stage_is_synced_before_the_mark_it_settles(world, channel, standin, tmp_path):
    """A move's `begun` row drops the mark it writes in its source: the move says `begun` again, with its places,
    synced, before it writes the mark (the lock's first text, unsynced, has no facts), so a power loss never leaves
    the mark with no intent naming it."""
    assert world.create("-c", channel, "--micromamba", str(standin)).returncode == 0
    out = tmp_path / "synced.txt"
    probe = ("import os, json\nreal = os.fsync\n"
             "def fsync(fd):\n"
             "    link = os.readlink(f'/proc/self/fd/{fd}')\n"
             "    stage = json.loads(os.pread(fd, 65536, 0))['stage'] if link.endswith('.mambaboot-lock') else None\n"
             "    open(out, 'a').write(f'{stage or os.path.basename(link)}\\n')\n"
             "    real(fd)\n"
             "os.fsync = fsync\n")
    r = run_probed(world, out, probe, "move", str(world.envs / "py"), str(world.envs / "moved"))
    assert r.returncode == 0, r.stderr
    synced = out.read_text().split()
    claim = next(i for i, name in enumerate(synced) if "mambaboot-claim" in name)
    assert "begun" in synced[:claim], synced


def test_the_engine_side_effects_are_real_without_the_sandbox(world, channel, standin):
    """Control for the test above: the stand-in really does write where micromamba writes."""
    prefix = world.envs / "direct"
    env = {**world.env}
    subprocess.run([str(standin), "create", "-y", "-p", str(prefix), "-c", channel, "python"],
                   env=env, check=True, capture_output=True)
    assert str(prefix) in (world.home / ".conda" / "environments.txt").read_text()
    assert (world.home / ".mamba" / "pkgs").is_dir()


def test_a_poisoned_condarc_has_no_effect(world, channel, standin):
    poisoned = world.home / "poisoned-pkgs"
    (world.home / ".condarc").write_text(
        f"channels:\n  - http://127.0.0.1:9/unreachable\npkgs_dirs:\n  - {poisoned}\n"
    )
    (world.home / ".mambarc").write_text("channels:\n  - http://127.0.0.1:9/unreachable\n")
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert not poisoned.exists()
    assert diff(before, world.outside(world.envs / "py")) == {}


def test_quiet_and_verbose(world, channel, standin):
    r = world.create("-q", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0 and r.stderr == ""
    r = world.create("v", "-v", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0
    assert "--no-rc" in r.stderr and "--root-prefix" in r.stderr


def test_download_from_release_url_is_verified_and_cached(world, channel, release_server):
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    r1 = world.create("one", "-c", channel, env=env)
    assert r1.returncode == 0, r1.stderr
    r2 = world.create("two", "-c", channel, env=env, )
    assert r2.returncode == 0, r2.stderr
    path = release_server.asset_url.split(release_server.url, 1)[1]
    assert release_server.count("GET", path) == 1, "the second run must use the cache"
    assert "(downloaded," in r1.stderr and "(cached," in r2.stderr


@both_entries
def test_shell_with_an_active_environment_is_refused(world, channel, standin):
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(standin), env={"VIRTUAL_ENV": "/somewhere/venv"})
    assert r.returncode == 3
    assert "VIRTUAL_ENV=/somewhere/venv" in r.stderr
    assert diff(before, world.outside()) == {}
    assert not world.cache.exists()


def test_ignore_active_env_proceeds_with_a_clean_child(world, channel, standin):
    r = world.create("-c", channel, "--micromamba", str(standin), "--ignore-active-env",
                     env={"CONDA_PREFIX": "/elsewhere", "PYTHONPATH": "/bogus"})
    assert r.returncode == 0, r.stderr
    assert "ignoring the active environment" in r.stderr


@both_entries
@pytest.mark.parametrize("setup", [USER_DIR, HOLDS_PYTHON, IS_FILE])
def test_existing_targets_are_refused_and_left_intact(world, channel, standin, setup):
    occupy(world.envs / "py", setup)
    before = snapshot(world.root)
    for extra in ([], ["--force"]):
        r = world.create("-c", channel, "--micromamba", str(standin), *extra)
        assert r.returncode == 4, r.stderr
        assert "Traceback" not in r.stderr
    assert diff(before, snapshot(world.root)) == {}


def test_force_replaces_only_our_environment(world, channel, standin):
    assert world.create("-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "py"
    first = _record(prefix)["created"]
    r = world.create("-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "--force" in r.stderr
    (prefix / "marker-from-old").write_text("x")
    r = world.create("-c", channel, "--micromamba", str(standin), "--force", "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["replaced"] is True
    assert not (prefix / "marker-from-old").exists()
    assert _record(prefix)["state"] == "complete" and _record(prefix)["created"] >= first
    assert [p.name for p in world.envs.iterdir()] == ["py"], "the old environment was deleted after success"


@both_entries
def test_wrong_published_digest_is_exit_5_and_leaves_no_binary(world, channel, release_server):
    release_server.add(release_server.asset_url.split(release_server.url, 1)[1] + ".sha256", b"0" * 64)
    r = world.create("-c", channel, env={"MAMBABOOT_RELEASES_URL": release_server.releases_base})
    assert r.returncode == 5, r.stderr
    assert "does not match" in r.stderr
    binaries = [p for p in world.cache.rglob("*") if p.is_file() and p.name.startswith(("micromamba", ".download"))]
    assert binaries == []
    assert not (world.envs / "py").exists()


@pytest.mark.parametrize("url", ["https://[x", "http://]x/", "https://h:99999/m"])
@pytest.mark.parametrize("where", ["--micromamba-url", "MAMBABOOT_RELEASES_URL", "--channel", "MAMBABOOT_CHANNELS",
                                   "HTTPS_PROXY", "proxy_servers", "channel_alias"])
def test_a_url_urllib_cannot_read_is_refused_where_it_was_given(world, channel, standin, where, url):
    """Given on the command line, in a variable or in ~/.condarc: exit 2 naming where, before
    anything is made."""
    env, args = {}, ["-c", channel, "--micromamba", str(standin)]
    if where == "--micromamba-url":
        args = ["-c", channel, "--micromamba-url", url, "--micromamba-sha256", "0" * 64]
    elif where == "MAMBABOOT_RELEASES_URL":
        args, env = ["-c", channel], {where: url}
    elif where == "--channel":
        args += ["-c", url]
    elif where in ("MAMBABOOT_CHANNELS", "HTTPS_PROXY"):
        args, env = ["--micromamba", str(standin)], {where: url}
    else:
        (world.home / ".condarc").write_text(
            f"proxy_servers:\n  https: '{url}'\n" if where == "proxy_servers" else f"channel_alias: '{url}'\n")
    r = world.create(*args, env=env)
    assert r.returncode == 2, r.stderr
    assert where in r.stderr and repr(url) in r.stderr and "is not a URL urllib can read" in r.stderr, r.stderr
    assert not (world.envs / "py").exists() and not world.cache.exists()


@pytest.mark.parametrize("location", ["http://]x/", "https://[x/m"])
def test_a_redirect_to_a_url_urllib_cannot_read_is_exit_5_naming_it(world, channel, release_server, location):
    """A server's Location is held to the same check as a URL given: a download failure (exit
    5) naming the redirect, nothing downloaded and nothing made."""
    path = release_server.asset_url.split(release_server.url, 1)[1]
    from tests.support.server import Fault

    release_server.faults(path, [Fault.redirect(location)])
    r = world.create("-c", channel, env={"MAMBABOOT_RELEASES_URL": release_server.releases_base})
    assert r.returncode == 5, r.stderr
    assert f"redirects to {location!r}, which is not a URL urllib can read" in r.stderr, r.stderr
    assert [p for p in world.cache.rglob("*") if p.is_file() and p.name.startswith(("micromamba", ".download"))] == []
    assert not (world.envs / "py").exists()


@pytest.mark.parametrize("fault, settings, said", [
    ("trickle", {"MAMBABOOT_HTTP_MIN_RATE": "1000", "MAMBABOOT_HTTP_RATE_TIME": "0.05"},
     "slower than 1000 bytes a second"),
    ("trickle", {"MAMBABOOT_HTTP_MIN_RATE": "0", "MAMBABOOT_HTTP_DEADLINE": "0.2"},
     "took longer than 0.2 seconds (MAMBABOOT_HTTP_DEADLINE)"),
    ("endless", {"MAMBABOOT_HTTP_MAX_BYTES": "1000000"},
     "is larger than the 1000000 bytes a download may be (MAMBABOOT_HTTP_MAX_BYTES)"),
    (None, {"MAMBABOOT_HTTP_MAX_BYTES": "1000"}, "is larger than the 1000 bytes a download may be"),
], ids=["too-slow", "past-the-deadline", "endless", "announced-too-big"])
def test_a_download_is_bounded_in_time_rate_and_size(world, channel, release_server, fault, settings, said):
    """A server trickling a byte every 10 ms never trips the per-read timeout, and an endless body
    would fill the disk: the overall deadline, the minimum rate and the size bound end each (the
    limits made tiny through their variables), exit 5, nothing kept."""
    from tests.support.server import Fault

    path = release_server.asset_url.split(release_server.url, 1)[1]
    if fault:
        release_server.faults(path, [getattr(Fault, fault)()])
    r = world.create("-c", channel, env={"MAMBABOOT_RELEASES_URL": release_server.releases_base,
                                         "MAMBABOOT_HTTP_ATTEMPTS": "1", **settings})
    assert r.returncode == 5, r.stderr
    assert said in r.stderr, r.stderr
    assert [p for p in world.cache.rglob("*") if p.is_file() and p.name.startswith(("micromamba", ".download"))] == []
    assert not (world.envs / "py").exists()


def test_missing_local_micromamba_is_exit_5(world, channel):
    r = world.create("-c", channel, "--micromamba", str(world.root / "nope"))
    assert r.returncode == 5 and "not found" in r.stderr


@both_entries
def test_engine_failure_is_exit_6_with_its_text_and_nothing_left(world, channel, standin):
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(standin), "--package", "no-such-package")
    assert r.returncode == 6, r.stderr
    assert "no-such-package" in r.stderr
    assert diff(before, world.outside()) == {}
    assert list(world.cache.glob("pending/*.json")) == [], "no pending marker is left"


# What a later run reuses, as paths in the cache: the package cache (extracted packages, the
# index cache, micromamba's pkgs.lock), a downloaded engine, the memos of a given engine.
REUSABLE = ("Python/pkgs/", "micromamba/local/", "micromamba/versions/", "micromamba/2.8.1-0-")


def _left(before: dict, after: dict) -> list:
    """What a run added to, changed in or took from the cache outside what a later run reuses
    (a directory that leads to a reusable file is part of it; the package cache is the
    engine's, whole)."""
    reused = [k for k, v in after.items() if v[0] != "dir" and k.startswith(REUSABLE)]
    needed = {str(Path(k).parents[i]) for k in reused for i in range(len(Path(k).parents) - 1)}
    return sorted(k for k in set(before) | set(after)
                  if before.get(k) != after.get(k) and not (k + "/").startswith(REUSABLE) and k not in needed)


@pytest.mark.parametrize("cache", ["new", "used"])
def test_a_failed_create_leaves_only_what_a_later_run_reuses_in_the_cache(world, channel, standin, cache):
    """A solve that fails, and a download that cannot even start (a refused connection): the
    cache afterwards is the cache before, but for the package cache, the index and the engine's
    files a later run takes up again (no lock file, no empty tmp/, pending/ or micromamba/)."""
    if cache == "used":
        assert world.create("ok", "-c", channel, "--micromamba", str(standin)).returncode == 0
    before = snapshot(world.cache) if world.cache.exists() else {}
    r = world.create("bad", "-c", channel, "--micromamba", str(standin), "--package", "no-such-package")
    assert r.returncode == 6, r.stderr
    after = snapshot(world.cache)
    assert _left(before, after) == []
    assert any(k.startswith("Python/pkgs/") for k in set(after) - set(before)) or cache == "used", "reusable: kept"
    from tests.support.server import refused_url

    releases = refused_url("/releases")
    r = world.create("offline", "-c", channel, env={"MAMBABOOT_RELEASES_URL": releases})
    assert r.returncode == 5, r.stderr
    assert _left(after, snapshot(world.cache)) == []
    if cache == "new":
        fresh = world.root / "fresh-cache"
        r = world.run("create", "offline", "--cache-dir", str(fresh), "-c", channel,
                      env={"MAMBABOOT_RELEASES_URL": releases})
        assert r.returncode == 5 and not fresh.exists(), "nothing reusable: not even the cache directory"


def test_engine_failure_in_an_empty_target_keeps_the_directory(world, channel, fault_standin):
    prefix = world.envs / "py"
    prefix.mkdir()
    r = world.create("-c", channel, "--micromamba", str(fault_standin), env={"STANDIN_FAIL": "1"})
    assert r.returncode == 6 and "injected failure" in r.stderr
    assert prefix.is_dir() and list(prefix.iterdir()) == []


@both_entries
def test_wrong_python_version_is_exit_7_and_rolled_back(world, liar_channel, standin):
    before = world.outside()
    r = world.create("--python", "3.12", "-c", liar_channel, "--micromamba", str(standin))
    assert r.returncode == 7, r.stderr
    assert "expected 3.12, found 3.11.2" in r.stderr
    assert diff(before, world.outside()) == {}


def test_keep_failed_keeps_an_incomplete_environment_for_inspection(world, liar_channel, channel, standin):
    r = world.create("--python", "3.12", "-c", liar_channel, "--micromamba", str(standin), "--keep-failed")
    assert r.returncode == 7
    prefix = world.envs / "py_3_12"
    assert _record(prefix)["state"] == "incomplete"
    r = world.create("--python", "3.11", "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "incomplete" in r.stderr and "--force" in r.stderr


@pytest.mark.parametrize("name", ["with space", "ünïcödé-環境", "a&b;c(d)e|f<g>h^!%#~*?[x]{y}", "with space & (parens) ;!%"])
def test_odd_names_work(world, channel, standin, name):
    r = world.create(name, "-c", channel, "--micromamba", str(standin), "--json")
    assert r.returncode == 0, r.stderr
    prefix = world.envs / name
    assert _python_reports(prefix)["prefix"] == str(prefix)


def test_quote_in_a_posix_prefix_is_refused_before_anything_is_written(world, channel, standin):
    before = world.outside()
    r = world.create("it's", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2
    assert "\"'\"" in r.stderr or "'''" in r.stderr or "character" in r.stderr
    assert diff(before, world.outside()) == {}
    assert not world.cache.exists()


def test_dry_run_writes_nothing_and_reports_the_real_exit_code(world, channel, standin):
    before = world.outside()
    r = world.create("x", "--python", "3.11", "-c", channel, "--micromamba", str(standin), "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    plan = r.json()["plan"]
    assert plan["prefix"] == str(world.envs / "x_3_11")
    assert plan["specs"] == ["python=3.11", "conda", "mamba"]
    (world.envs / "x_3_11").mkdir()
    (world.envs / "x_3_11" / "f").write_text("mine")
    before = world.outside()
    r = world.create("x", "--python", "3.11", "-c", channel, "--micromamba", str(standin), "--dry-run")
    assert r.returncode == 4
    r = world.create("x", "--python", "3.11", "--dry-run", env={"CONDA_SHLVL": "1"})
    assert r.returncode == 3
    assert diff(before, world.outside()) == {}
    assert not world.cache.exists()


@both_entries
@pytest.mark.parametrize("args", [["--python", "abc"], ["--python", "3.12; rm -rf /"], ["--package", "-y"], ["--bogus"]])
def test_usage_errors_are_exit_2_without_traceback(world, args):
    r = world.create(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_json_error_object_on_failure(world, channel):
    r = world.create("-c", channel, "--micromamba", str(world.root / "nope"), "--json")
    assert r.returncode == 5
    assert r.json() == {"error": r.json()["error"], "exit_code": 5}


def test_installed_console_script_and_module_entry_point_run(world):
    """The README's install gives a `mambaboot` command and `python -m mambaboot`."""
    import shutil
    import sys

    from mambaboot import __version__

    script = shutil.which("mambaboot", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert script, "pip install must provide the mambaboot console script"
    for argv in ([script, "--version"], [sys.executable, "-m", "mambaboot", "--version"]):
        out = subprocess.run(argv, capture_output=True, text=True, env=world.env)
        assert (out.returncode, out.stdout.strip()) == (0, f"mambaboot {__version__}")


def test_files_we_write_follow_the_umask_and_are_never_world_writable(world, channel, release_server):
    from tests.conftest import MAMBABOOT

    for umask, name in ((0o022, "u022"), (0o000, "u000")):
        proc = subprocess.run(
            [*MAMBABOOT, "create", name, "--cache-dir", str(world.cache), "-c", channel],
            env={**world.env, "MAMBABOOT_RELEASES_URL": release_server.releases_base}, cwd=str(world.envs),
            capture_output=True, text=True, preexec_fn=lambda u=umask: os.umask(u),
        )
        assert proc.returncode == 0, proc.stderr
        record_mode = (world.envs / name / ".mambaboot" / "record.json").stat().st_mode & 0o777
        binary = next(world.cache.glob("micromamba/*/micromamba"))
        assert record_mode == (0o644 if umask else 0o664)
        assert binary.stat().st_mode & 0o002 == 0


def test_create_force_refuses_a_base_holding_other_environments_as_remove_does(world, made_env, channel, standin):
    """`create --force` of a base whose envs/ holds an environment (and the user's files in it) is
    refused, exit 4, nothing changed, as `remove` of that base is: replacing it would delete them."""
    from tests.conftest import copy_env

    base = copy_env(made_env, world.envs / "base")
    inner = copy_env(made_env, base / "envs" / "inner")
    (inner / "notes.txt").write_text("the user's\n")
    before = snapshot(world.root)
    for args in (["create", "--prefix", str(base), "--force", "--cache-dir", str(world.cache), "-c", channel,
                  "--micromamba", str(standin)], ["remove", str(base), "--yes", "--cache-dir", str(world.cache)]):
        r = world.run(*args)
        assert r.returncode == 4 and f"{base} holds other environments ({inner})" in r.stderr, (args, r.stderr)
        assert snapshot(world.root) == before, (args, r.stderr)

