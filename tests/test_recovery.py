"""Recovery through the command: a marker or an intent record never makes a place ours, every
operation that changes a place holds that place's lock until it is done, a rollback deletes only
what its run made, advice never deletes the only copy, and whatever a killed run leaves is settled
or named. Each case is tried through `mambaboot` on the tree a user would have."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from mambaboot.common import jsontext
from mambaboot.common.files import fsops, proof, tempname
from tests.conftest import Result, copy_env
from tests.support.interrupt import Held, killed_at, paused
from tests.support.server import RELEASES_PATH, AssetServer
from tests.support.snapshot import snapshot

SUPPORT = Path(__file__).parent / "support"
PAUSER = SUPPORT / "pausepoints.py"


def _killed_at(world, at, *args, env=None):
    """mambaboot args, SIGKILLed as the run reaches `at` (module.function+K: tests/support/killpoints.py)."""
    return killed_at(world, at, list(args), env)


@contextlib.contextmanager
def _paused_at(world, where: str, *args: str):
    """mambaboot args, held where FUNCTION in FILE (pipeline/move.py:_rename_or_copy) first returns
    (tests/support/pausepoints.py) until the block ends; yields the running process, whose pid
    is the other run's. The block's end lets it go on, and waits for it."""
    fifo = world.root.parent / "pause"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, str(PAUSER), where, str(fifo), "--", *args], env=world.env,
                            cwd=str(world.envs), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    def unblock_if_it_ends():  # a run that ends without reaching the point must not hang the test
        proc.wait()
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    watcher = threading.Thread(target=unblock_if_it_ends, daemon=True)
    watcher.start()
    writer = os.open(fifo, os.O_WRONLY)  # returns once the run is held there (or has ended)
    try:
        assert proc.poll() is None, f"the run ended before it reached {where}: {proc.communicate()}"
        yield proc
    finally:
        os.close(writer)
        try:
            proc.stdout_text, proc.stderr_text = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        watcher.join(60)
        os.unlink(fifo)


def _refused_as_busy(r, other_pid: int) -> bool:
    """Refused at once for the other run: exit 4, naming it (its pid, or as another run of mambaboot)."""
    return r.returncode == 4 and (str(other_pid) in r.stderr or "another mambaboot run" in r.stderr)


def _run_beside(world, args):
    """A second run while `held` (the first run's process) is paused: refused at once, or it waits
    for the first run, saying so (then the first is let go before it is awaited). Returns
    (Result, False), or (the running process, True) when it waits."""
    proc = subprocess.Popen([*world.command, *args], env=world.env, cwd=str(world.envs), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = []
    for line in proc.stderr:  # ends when the run does, or at its word that it waits
        said.append(line)
        if "wait" in line.lower():
            return proc, True
    out = proc.stdout.read()
    proc.wait(timeout=600)
    return Result(proc.returncode, out, "".join(said)), False


def _users_conda_env(place: Path) -> Path:
    """A conda environment of the user's own (made by conda, not by mambaboot), with their work in it."""
    (place / "conda-meta").mkdir(parents=True)
    (place / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n# cmd: conda create -p x\n")
    (place / "conda-meta" / "zlib-1.3-0.json").write_text(json.dumps({"name": "zlib", "version": "1.3"}))
    (place / "analysis.ipynb").write_text('{"cells": ["years of work"]}\n')
    return place


def _identity(path: Path) -> list:
    st = os.lstat(path)
    return [st.st_dev, st.st_ino]


def _pending_marker(world, place: Path, **more) -> Path:
    """A pending marker naming place, written as record.mark_pending writes it (a shared cache's
    writer can write exactly this)."""
    marker = world.cache / "pending" / (fsops.path_key(str(place)) + ".json")
    marker.parent.mkdir(parents=True, exist_ok=True)
    body = {"tool": "mambaboot", "prefix": str(place), "pid": 1, "started": "2026-01-01T00:00:00+00:00",
            "owner_lock": None, **more}
    marker.write_bytes(jsontext.dumps_flat(body).encode())
    return marker


def _listed(world, envs_dir: Path) -> list:
    r = world.run("list", "--json", "--envs-dir", str(envs_dir), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    return r.json()["environments"]


# -- 1. a pending marker never makes a user's own conda environment ours -----------------------

@pytest.mark.parametrize("marker", ["left by a killed create", "planted in a shared cache"])
def test_a_pending_marker_never_makes_a_users_conda_environment_ours(world, channel, standin, marker):
    """A create killed after its pending marker, before its engine made the prefix (power loss),
    or a marker written in a shared cache: the user later makes their own conda environment at
    that path. It is not mambaboot's: list does not show it incomplete, create does not offer
    --force, remove without --force refuses and deletes nothing, create --force does not replace
    it as an interrupted create of ours."""
    prefix = world.envs / "analysis"
    if marker == "planted in a shared cache":
        _pending_marker(world, prefix)
    else:
        killed = _killed_at(world, "micromamba.create_command+0", "create", "--prefix", str(prefix),
                            "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin))
        assert killed.returncode == -9, killed.stderr
        assert (world.envs / ".analysis.mambaboot-lock").is_file(), "the killed create left its intent"
    assert not prefix.exists()
    _users_conda_env(prefix)
    tree = snapshot(prefix)

    shown = [e for e in _listed(world, world.envs) if e.get("prefix") == str(prefix)]
    assert all(e.get("state") != "incomplete" for e in shown), shown

    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "pass --force" not in r.stderr and "interrupted" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree

    r = world.run("remove", str(prefix), "-y", "--cache-dir", str(world.cache))
    assert r.returncode == 4, r.stderr
    assert snapshot(prefix) == tree

    r = world.create("--prefix", str(prefix), "--force", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "interrupted" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree


# -- 2. a planted set-aside copy never replaces a user's environment ---------------------------

TOKEN = "ab" * 16  # a planter's token: anyone may write it anywhere they can write


def test_a_planted_set_aside_copy_never_replaces_a_users_conda_environment(world):
    """Beside the user's own conda environment, a directory named as create --force names the old
    environment it sets aside, carrying its writer's own mark, and a marker (in a shared cache)
    holding that token: a plain create of the name neither deletes the user's environment nor
    renames the planted copy into its place."""
    prefix = _users_conda_env(world.envs / "analysis")
    _pending_marker(world, prefix, token=TOKEN)
    planted = world.envs / f".analysis.mambaboot-tmp-{TOKEN}-old"
    (planted / ".mambaboot").mkdir(parents=True)
    (planted / ".mambaboot" / "record.json").write_text(json.dumps({"tool": "mambaboot", "state": "complete"}))
    (planted / "planted.txt").write_text("not the user's\n")
    dev, ino = _identity(planted)
    (planted / proof.MARK).write_text(f"mambaboot-claim {TOKEN} {proof.OLD} {dev}:{ino}\n")
    tree, planted_tree = snapshot(prefix), snapshot(planted)
    r = world.create("analysis", "-c", "file:///nowhere", "--micromamba", "/nowhere/micromamba")
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree, r.stderr
    assert not (prefix / "planted.txt").exists() and snapshot(planted) == planted_tree, r.stderr


# -- 3. create's rollback deletes only what it made --------------------------------------------

class _HookedServer(AssetServer):
    """The release server, calling `before_engine` (once) as the first request for the engine
    arrives: the run is then between judging its target and running micromamba, and waits for
    the answer, so whatever the hook does is done at that moment, without timing."""

    before_engine = None

    def _take(self, method, path):
        hook, self.before_engine = (self.before_engine, None) if path.startswith(RELEASES_PATH) else (None, None)
        if hook is not None:
            hook()
        return super()._take(method, path)


@pytest.fixture
def hooked_release_server(fault_standin):
    from mambaboot.common.host import current
    from mambaboot.pipeline.plan import PINNED_MICROMAMBA

    with _HookedServer() as server:
        server.add_release(PINNED_MICROMAMBA, current().subdir, fault_standin.read_bytes())
        server.releases_base = f"{server.url}{RELEASES_PATH}"
        yield server


def _users_files(place: Path) -> None:
    place.mkdir(exist_ok=True)
    (place / "notes.txt").write_text("written while the engine was downloaded\n")
    (place / "src").mkdir()
    (place / "src" / "main.py").write_text("print('mine')\n")


@pytest.mark.parametrize("target", ["absent", "empty"])
def test_a_failed_create_deletes_none_of_what_a_user_put_at_the_target_meanwhile(
        world, channel, hooked_release_server, target):
    """The target is judged, then micromamba is downloaded; the user's files put there meanwhile
    make micromamba refuse the prefix ("Non-conda folder exists at prefix"; or the run sees them
    before it starts micromamba). Nothing of them is deleted, and the message says what was left."""
    prefix = world.envs / "py"
    if target == "empty":
        prefix.mkdir()
    hooked_release_server.before_engine = lambda: _users_files(prefix)
    r = world.create("--prefix", str(prefix), "-c", channel,
                     env={"MAMBABOOT_RELEASES_URL": hooked_release_server.releases_base})
    assert hooked_release_server.before_engine is None, "the engine was downloaded"
    assert r.returncode not in (0, 1) and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert (prefix / "notes.txt").read_text() == "written while the engine was downloaded\n", r.stderr
    assert (prefix / "src" / "main.py").read_text() == "print('mine')\n", r.stderr
    assert sorted(p.name for p in prefix.iterdir()) == ["notes.txt", "src"], r.stderr
    assert str(prefix) in r.stderr and ("notes.txt" in r.stderr or "left" in r.stderr), r.stderr


# -- 4. remove holds the place's lock until its deletion is done -------------------------------

@pytest.mark.parametrize("second", ["remove", "create", "move"])
def test_a_second_run_on_a_place_whose_remove_is_deleting_it_is_refused(world, made_env, channel, standin, second):
    """The first remove is held as its deletion starts (the environment renamed aside, carrying
    remove's mark): a second remove, create or move of the name is refused at once naming that
    run (or waits for it, saying so), never takes the renamed-aside tree for a killed remove's
    leftover; the first remove then finishes: nothing half deleted is left."""
    prefix = copy_env(made_env, world.envs / "x")
    cache = ["--cache-dir", str(world.cache)]
    commands = {
        "remove": ["remove", str(prefix), "-y", *cache],
        "create": ["create", "--prefix", str(prefix), *cache, "-c", channel, "--micromamba", str(standin)],
        "move": ["move", str(prefix), str(world.envs / "y"), *cache],
    }
    with _paused_at(world, "common/files/removal.py:_remove_scanned", "remove", str(prefix), "-y", *cache) as first:
        aside = list(world.envs.glob(".x.mambaboot-tmp-*-removing"))
        assert len(aside) == 1 and not prefix.exists(), "held with the environment renamed aside"
        tree = snapshot(aside[0])
        r, waited = _run_beside(world, commands[second])
        if not waited:
            assert _refused_as_busy(r, first.pid), (r.returncode, r.stderr)
            assert snapshot(aside[0]) == tree, r.stderr
    assert first.returncode == 0, first.stderr_text
    if waited:  # it went on once the first run was done
        out, err = r.communicate(timeout=600)
        assert r.returncode in (0, 4) and "Traceback" not in err, err
    left = sorted(p.name for p in world.envs.iterdir())
    assert not any(name.endswith("-removing") and ".mambaboot-tmp-" in name for name in left), left
    if not waited:
        assert left == [], left


# -- 5. advice never deletes the only copy ----------------------------------------------------

def _case_insensitive(directory: Path) -> bool:
    """Whether this file system finds a name by another letter case (macOS's, Windows'), tried on it."""
    probe = directory / "Case-Probe"
    probe.write_text("")
    try:
        return (directory / "case-probe").exists()
    finally:
        probe.unlink()


def test_a_move_to_the_same_place_by_another_spelling_never_advises_deleting_it(world, made_env):
    """DST is SRC by another spelling (through a linked parent directory; by another letter case
    where the file system ignores it): the move refuses with a clear message, exit 2 or 4, the
    environment stays as it was, and no advice names a command that deletes DST (the only copy)."""
    src = copy_env(made_env, world.envs / "x")
    alias = world.root / "alias"
    alias.symlink_to(world.envs, target_is_directory=True)
    spellings = [alias / "x"]
    if _case_insensitive(world.envs):
        spellings.append(world.envs / "X")
    tree = snapshot(world.envs)
    for dst in spellings:
        r = world.run("move", str(src), str(dst), "--cache-dir", str(world.cache))
        assert r.returncode in (2, 4) and "Traceback" not in r.stderr, (dst, r.returncode, r.stderr)
        assert "mambaboot remove" not in r.stderr and "rm -" not in r.stderr, (dst, r.stderr)
        assert "same" in r.stderr or str(src) in r.stderr, (dst, r.stderr)
        assert snapshot(world.envs) == tree, (dst, r.stderr)


# -- 6. a create killed once its record says complete is settled -----------------------------

def _everything(world) -> tuple:
    return snapshot(world.root), snapshot(world.cache) if world.cache.exists() else {}


def test_a_create_killed_after_its_record_says_complete_is_not_incomplete_for_ever(world, channel, standin):
    """Killed after its record says complete and its overlays are in, before its pending marker
    is cleared: list (which changes nothing) shows the verified environment complete; provision
    works on it; a create of it speaks of a complete environment, never an interrupted one."""
    prefix = world.envs / "x"
    overlay = world.root / "overlay"
    (overlay / "etc").mkdir(parents=True)
    (overlay / "etc" / "team.cfg").write_text("team = yes\n")
    killed = _killed_at(world, "settle.run+0", "create", "--prefix", str(prefix), "--cache-dir",
                        str(world.cache), "-c", channel, "--micromamba", str(standin), "--overlay", str(overlay))
    assert killed.returncode == -9, killed.stderr
    assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    assert (prefix / "etc" / "team.cfg").is_file()

    before = _everything(world)
    shown = [e for e in _listed(world, world.envs) if e.get("prefix") == str(prefix)]
    assert _everything(world) == before, "list changed nothing"
    assert [e.get("state") for e in shown] == ["complete"], shown

    script = world.root / "setup.sh"
    script.write_text("echo provisioned\n")
    r = world.run("provision", str(prefix), "--post-script", str(script), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr

    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "incomplete" not in r.stderr and "interrupted" not in r.stderr, r.stderr
    assert [e.get("state") for e in _listed(world, world.envs) if e.get("prefix") == str(prefix)] == ["complete"]


# -- 7. a record field outside the declared shape never makes move exit 1 --------------------

OFF_SHAPE = {  # a field mambaboot reads from the record, of a type it never writes there
    "moves": ("moves", None, 5),
    "inputs.channels": ("inputs", "channels", 5),
    "inputs.pkgs_dirs": ("inputs", "pkgs_dirs", 5),
    "provisioning.pip": ("provisioning", "pip", 5),
    "provisioning.done": ("provisioning", "done", 5),
}


@pytest.mark.parametrize("field", sorted(OFF_SHAPE))
def test_a_record_field_of_the_wrong_type_never_makes_move_exit_1(world, made_env, field):
    """move refuses before it changes anything (exit 4, naming the record and the field) or
    completes; no command on the environment exits 1, before the move (provision reads
    `provisioning`) nor after it (nothing is stuck)."""
    src = copy_env(made_env, world.envs / "x")
    path = src / ".mambaboot" / "record.json"
    rec = json.loads(path.read_text())
    top, sub, value = OFF_SHAPE[field]
    if sub is None:
        rec[top] = value
    else:
        rec.setdefault(top, {})[sub] = value
    path.write_text(json.dumps(rec, indent=2, sort_keys=True) + "\n")
    dst = world.envs / "y"
    cache = ["--cache-dir", str(world.cache)]
    r = world.run("provision", str(src), *cache)
    assert r.returncode != 1 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    tree = snapshot(world.envs)
    r = world.run("move", str(src), str(dst), *cache)
    assert r.returncode in (0, 4) and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    if r.returncode == 4:
        assert snapshot(world.envs) == tree, r.stderr
        assert "record.json" in r.stderr and (sub or top) in r.stderr, r.stderr
        place = src
    else:
        assert not src.exists() and (dst / "conda-meta").is_dir(), r.stderr
        place = dst
    for later in (["list", "--envs-dir", str(world.envs), *cache],
                  ["provision", str(place), *cache],
                  ["move", str(place), str(world.envs / "z"), *cache],
                  ["remove", str(place if (place).exists() else world.envs / "z"), "-y", *cache]):
        r = world.run(*later)
        assert r.returncode != 1 and "Traceback" not in r.stderr, (later, r.returncode, r.stderr)


# -- 8. create --force with its cache inside the environment it replaces ----------------------

def test_create_force_with_its_cache_inside_the_environment_it_replaces(world, made_env, channel, standin):
    """`create x --force --cache-dir x/sub`: refused up front (exit 2 or 4) with nothing changed,
    or done (exit 0) leaving nothing beside the new environment; never exit 4 after the old
    environment is gone."""
    prefix = copy_env(made_env, world.envs / "x")
    before = snapshot(world.root)
    r = world.run("create", "x", "--force", "--cache-dir", str(prefix / "sub"), "-c", channel,
                  "--micromamba", str(standin))
    assert r.returncode in (0, 2, 4) and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    if r.returncode != 0:
        assert snapshot(world.root) == before, r.stderr
    else:
        assert [p.name for p in world.envs.iterdir()] == ["x"], r.stderr
        assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
        assert subprocess.run([str(prefix / "bin" / "python"), "-c", "pass"]).returncode == 0


# -- 9. adopt, provision, activate-scripts and pack take the place's lock ---------------------

def _archive_names(path: Path) -> list:
    import tarfile
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    with tarfile.open(path) as t:
        return t.getnames()


@contextlib.contextmanager
def _holding(world, made_env, channel, engine, holder):
    """Another run holding a place mid-operation; yields (the place, that run's process). move:
    held once the environment is renamed to its new place (its journal there); create: held
    while its engine has made the prefix, before any record. engine: the stand-in in every mode,
    for only it blocks on a fifo (STANDIN_BLOCK_FIFO)."""
    cache = ["--cache-dir", str(world.cache)]
    if holder == "move":
        src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
        with _paused_at(world, "pipeline/move.py:_rename_or_copy", "move", str(src), str(dst), *cache) as proc:
            assert (dst / "conda-meta").is_dir() and not src.exists()
            yield dst, proc
    else:
        prefix = world.envs / "py"
        command = [*world.command, "create", "--prefix", str(prefix), *cache, "-c", channel,
                   "--micromamba", str(engine)]
        fifo = world.root.parent / "fifo"
        with paused(command, world.env, world.envs, fifo) as proc:
            assert (prefix / "conda-meta").is_dir()
            yield prefix, proc
            with open(fifo, "wb", buffering=0) as release:
                release.write(b"x")
            proc.wait(timeout=600)
    assert proc.returncode == 0, f"the {holder} it held went on and finished"


def _changing(world, command: str, place, out) -> list:
    """The arguments of adopt, provision, activate-scripts or pack (to out) of place."""
    script = world.root / "setup.sh"
    script.write_text("echo provisioned\n")
    return {"adopt": ["adopt", str(place), "--cache-dir", str(world.cache)],
            "provision": ["provision", str(place), "--post-script", str(script), "--cache-dir", str(world.cache)],
            "activate-scripts": ["activate-scripts", str(place)],
            "pack": ["pack", str(place), "-o", str(out)]}[command]


@pytest.mark.parametrize("command", ["adopt", "provision", "activate-scripts", "pack"])
@pytest.mark.parametrize("holder", ["move", "create"])
def test_a_place_another_run_holds_is_refused_by_every_command_that_changes_it(
        world, made_env, channel, standin, fault_standin, holder, command):
    """While a move or a create holds a place, adopt, provision, activate-scripts and pack of it
    are refused at once (exit 4) naming that run, and change nothing there; pack never puts the
    move's journal into an archive."""
    out = world.root / "packed.tar.gz"
    with _holding(world, made_env, channel, fault_standin, holder) as (place, other):
        args = _changing(world, command, place, out)
        tree = snapshot(place)
        r = world.run(*args)
        if out.exists():
            assert not [n for n in _archive_names(out) if "moving" in n], _archive_names(out)
        assert _refused_as_busy(r, other.pid), (r.returncode, r.stderr)
        assert snapshot(place) == tree, r.stderr


@pytest.mark.parametrize("command", ["adopt", "provision", "activate-scripts", "pack"])
def test_any_run_of_a_place_a_killed_move_left_settles_the_move_first(world, made_env, command):
    """A move killed once the environment is renamed to its new place, as its rewrite begins:
    adopt, provision, activate-scripts and pack of its destination settle it first, as every run
    that takes a place's lock does (it had not verified: put back, and said), then find no
    environment there any more; the move again moves it, with another cache."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    proc = _killed_at(world, "rewrite.relocate+0", "move", str(src), str(dst), "--cache-dir", str(world.cache))
    assert proc.returncode == -9 and (dst / "conda-meta").is_dir() and not src.exists(), proc.stderr
    out = world.root / "packed.tar.gz"
    r = world.run(*_changing(world, command, dst, out))
    assert f"put back: a move of {src} to {dst}" in r.stderr and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert r.returncode not in (0, 1) and not out.exists(), (r.returncode, r.stderr)
    assert sorted(p.name for p in world.envs.iterdir()) == ["x"], r.stderr
    r = world.run("move", str(src), str(dst), "--cache-dir", str(world.root / "another-cache"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in world.envs.iterdir()) == ["y"], r.stderr


# -- 10. a place's lock does not depend on the cache a run uses -------------------------------

@pytest.mark.parametrize("second", ["remove", "create --force", "move"])
@pytest.mark.parametrize("holder", ["move", "create"])
def test_runs_with_different_caches_on_one_place_exclude_each_other(world, made_env, channel, standin, fault_standin,
                                                                   holder, second):
    """A move or create holds a place with one --cache-dir; a remove, create --force or move of
    that place with another cache is refused at once (exit 4) naming that run, and changes
    nothing there; the first run finishes."""
    other = ["--cache-dir", str(world.root.parent / "another-cache")]
    with _holding(world, made_env, channel, fault_standin, holder) as (place, first):
        args = {"remove": ["remove", str(place), "-y", *other],
                "create --force": ["create", "--prefix", str(place), "--force", *other, "-c", channel,
                                   "--micromamba", str(standin)],
                "move": ["move", str(place), str(world.envs / "z"), *other]}[second]
        tree = snapshot(world.envs)
        r = world.run(*args)
        assert _refused_as_busy(r, first.pid), (r.returncode, r.stderr)
        assert snapshot(world.envs) == tree, r.stderr


# -- 11. whatever a killed run leaves is collected, or named with the command that clears it ---

def _files(root: Path) -> dict:
    return {k: v for k, v in snapshot(root).items() if v[0] != "dir"}


def _kill_leaving_a_partial(world, args, out: Path) -> subprocess.CompletedProcess:
    """args (writing out), SIGKILLed at the first point after it starts staging its output where
    a file other than out and its place lock is left beside it: found by trying each call from
    the output's staging on (tests/support/killpoints.py), as the first kill that leaves one."""
    for k in range(200):
        proc = _killed_at(world, f"outputfile.staging+{k}", *args)
        assert proc.returncode == -9 and not out.exists(), f"no kill point left a partial file: {proc.stderr}"
        if [p for p in out.parent.iterdir() if not p.name.endswith(".mambaboot-lock")]:
            return proc
    raise AssertionError("no kill point left a partial file")


_WRITERS = {"pack -o": lambda env, out: ["pack", str(env), "-o", str(out / "x.tar.gz")],
            "lock -o": lambda env, out: ["lock", str(env), "-o", str(out / "x.lock.txt")]}


def _leftovers_of(world, kind: str, made_env, channel, standin) -> dict:
    """Kill a run as `kind` names it; the files it left (path -> what), outside what it was working on."""
    out = world.root / "out"
    out.mkdir()
    before = _files(world.root)
    if kind == "a place's lock":  # killed under its lock, before anything else is written
        proc = _killed_at(world, "target.inspect+0", "create", "--prefix", str(world.envs / "new"), "-c", channel,
                          "--micromamba", str(standin))
        assert proc.returncode == -9, proc.stderr
    elif kind in _WRITERS:
        args = _WRITERS[kind](copy_env(made_env, world.envs / "x"), out)
        before = _files(world.root)
        _kill_leaving_a_partial(world, args, Path(args[-1]))
    else:  # the intent record of a move whose run is gone, killed once it renamed the environment
        src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
        tree = _files(src)
        proc = _killed_at(world, "rewrite.relocate+0", "move", str(src), str(dst))
        assert proc.returncode == -9 and dst.is_dir() and not src.exists(), proc.stderr
        before.update({str(Path("envs") / "y" / rel): what for rel, what in tree.items()})
    left = {p: w for p, w in _files(world.root).items() if before.get(p) != w}
    assert left, f"the killed {kind} left nothing to collect"
    return left, ([world.envs / "x", world.envs / "y"] if "move" in kind else [])


@pytest.mark.parametrize("kind", ["a place's lock", "pack -o", "lock -o", "a move's intent record"])
def test_what_a_killed_run_leaves_is_collected_or_named(world, made_env, channel, standin, kind):
    """Each file a killed run left (the default cache, in the world's home, included) is removed
    by `cache clean`, or named by `list`, `doctor` or `cache clean` (the file, the environment it
    is in, or the places of the operation it records) with the command that clears it. The
    partial file a killed `pack -o FILE` or `lock -o FILE` left beside FILE (and FILE's lock) is
    left as it is by `list` and `doctor`, and settled by the next run of that command writing FILE."""
    left, operation = _leftovers_of(world, kind, made_env, channel, standin)
    said = ""
    if kind in _WRITERS:
        assert any(".mambaboot-tmp-" in rel for rel in left), left
        tree = _files(world.root)
        for args in (["list", "--envs-dir", str(world.envs)], ["doctor"]):
            r = world.run(*args)
            assert r.returncode != 1 and "Traceback" not in r.stderr, (args, r.returncode, r.stderr)
        assert _files(world.root) == tree, "list and doctor change nothing"
        args = _WRITERS[kind](world.envs / "x", world.root / "out")
        r = world.run(*args)
        assert r.returncode == 0, r.stderr
        assert sorted((world.root / "out").iterdir()) == [Path(args[-1])], r.stderr  # the partial gone
        assert "what a killed mambaboot run was writing" in r.stderr, r.stderr
        return
    for args in (["list", "--envs-dir", str(world.envs)], ["doctor", str(world.envs / "y")] if "move" in kind
                 else ["doctor"], ["cache", "clean"]):
        r = world.run(*args)
        assert r.returncode != 1 and "Traceback" not in r.stderr, (args, r.returncode, r.stderr)
        said += r.stdout + r.stderr
    for rel in sorted(left):
        path = world.root / rel
        if not path.exists():
            continue  # collected
        places = [path] + [p for p in path.parents if world.envs in p.parents] + operation
        named = [p for p in places if str(p) in said]
        assert named, f"{path}, left by a killed {kind}, is neither collected nor named:\n{said}"
        assert any(c in said for c in ("cache clean", "mambaboot remove", "mambaboot move", "mambaboot create",
                                       "delete")), said


def _whole_archive(path: Path) -> bool:
    try:
        with tarfile.open(path) as tar:
            return "conda-meta" in tar.getnames()
    except (OSError, tarfile.TarError):
        return False


@pytest.mark.parametrize("command", ["pack", "lock"])
@pytest.mark.parametrize("at", ["outputfile.staging+0", "outputfile.staging#1>", "outputfile.write+0",
                                "outputfile.write#1>"])
def test_an_output_file_killed_at_each_step_is_the_old_file_or_the_whole_new_one(world, made_env, command, at):
    """Killed before its partial file is made, once it is, before its rename and after it: FILE is
    the user's old file or the whole new one, and the next run writing FILE leaves FILE alone beside it."""
    prefix = copy_env(made_env, world.envs / "x")
    out = world.root / "out" / ("x.tar.gz" if command == "pack" else "x.lock.txt")
    out.parent.mkdir()
    old = b"the user's previous file\n"
    out.write_bytes(old)
    args = [command, str(prefix), "-o", str(out), *(["--force"] if command == "pack" else [])]
    whole = _whole_archive if command == "pack" else (lambda p: p.is_file() and "@EXPLICIT" in p.read_text())
    proc = _killed_at(world, at, *args)
    assert proc.returncode == -9, proc.stderr
    assert out.read_bytes() == old or whole(out)
    again = world.run(*args)
    assert again.returncode == 0 and whole(out) and sorted(out.parent.iterdir()) == [out], again.stderr


@pytest.mark.parametrize("planted", ["a link of the partial's name", "a file of another name"])
def test_only_a_dead_writers_own_partial_file_is_collected(world, made_env, planted):
    """Beside `-o FILE`, a link of a partial file's name (to a file of the user's) or a file of a
    name no writer gives: the next `lock -o FILE` writes FILE and leaves each, and what it leads to."""
    out = world.root / "out"
    out.mkdir()
    target, token, victim = out / "x.lock.txt", "0123456789abcdef" * 2, world.root / "victim"
    victim.write_text("the user's\n")
    if planted.startswith("a link"):
        name = f".x.lock.txt.mambaboot-tmp-{token}-locked"
        (out / name).symlink_to(victim)
    else:
        name = f".x.lock.txt.partial-{token}"
        (out / name).write_text("the user's\n")
    r = world.run("lock", str(made_env), "-o", str(target))
    assert r.returncode == 0 and "@EXPLICIT" in target.read_text(), (r.returncode, r.stderr)
    assert sorted(p.name for p in out.iterdir()) == sorted([name, target.name]), r.stderr
    assert victim.read_text() == "the user's\n", r.stderr


@pytest.mark.parametrize("command", ["pack", "lock"])
def test_a_killed_output_writer_leaves_only_its_own_lock_the_partial_file(world, made_env, command):
    """Killed once its partial file is made, a `-o FILE` writer leaves beside FILE that file alone,
    named as locked by its writer (no lock file of FILE's): the next run writing FILE deletes it."""
    prefix = copy_env(made_env, world.envs / "x")
    out = world.root / "out" / ("x.tar.gz" if command == "pack" else "x.lock.txt")
    out.parent.mkdir()
    args = [command, str(prefix), "-o", str(out)]
    proc = _killed_at(world, "outputfile.staging#1>", *args)
    assert proc.returncode == -9, proc.stderr
    left = list(out.parent.iterdir())
    assert len(left) == 1 and left[0].name.endswith(f"-{tempname.UNLOCKED}"), left
    r = world.run(*args)
    assert r.returncode == 0 and sorted(out.parent.iterdir()) == [out], r.stderr
    assert f"deleted {left[0]}" in r.stderr, r.stderr


def test_a_live_writers_partial_of_the_same_file_is_kept(world, made_env):
    """A `lock -o FILE` held once its partial file is made, and a second `lock -o FILE` meanwhile:
    the second writes FILE and keeps the live one's partial; the live one then replaces FILE whole."""
    out = world.root / "out"
    out.mkdir()
    target = out / "x.lock.txt"
    with Held(world, "outputfile.staging#1>", ["lock", str(made_env), "-o", str(target)]) as live:
        mine = list(out.iterdir())
        assert len(mine) == 1, mine
        r = world.run("lock", str(made_env), "-o", str(target))
        assert r.returncode == 0 and "@EXPLICIT" in target.read_text(), r.stderr
        assert mine[0].exists(), r.stderr
        code, err = live.go()
    assert code == 0, err
    assert sorted(out.iterdir()) == [target] and "@EXPLICIT" in target.read_text(), err


# -- a move: one roll rule, and a killed move's intent kept until it is settled ---------------

def test_a_move_killed_before_it_verified_is_put_back_by_a_remove_of_its_destination(world, made_env):
    """Killed as adopt's finish begins (its files renamed and rewritten to DST), a move is put
    back, as its own failure at that point puts it back: `remove DST` settles it first, SRC is
    the environment it was, and nothing is left at DST to delete."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    before = snapshot(src, exclude=[src / ".mambaboot"])
    proc = _killed_at(world, "adopt.adopt_prefix+0", "move", str(src), str(dst), "--cache-dir", str(world.cache))
    assert proc.returncode == -9 and dst.is_dir() and not src.exists(), proc.stderr
    r = world.run("remove", str(dst), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 0 and f"put back: a move of {src} to {dst}" in r.stderr, r.stderr
    assert not dst.exists() and snapshot(src, exclude=[src / ".mambaboot"]) == before, r.stderr
    record = json.loads((src / ".mambaboot" / "record.json").read_text())
    assert record["inputs"]["prefix"] != str(dst) and not (src / proof.MARK).exists()
    assert sorted(p.name for p in world.envs.iterdir()) == ["x"], r.stderr


def test_list_names_one_killed_move_once(world, made_env):
    """A move killed once it renamed the environment leaves its intent in the lock of both places:
    `list` names that move once, with the command that settles it, not once per lock."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    proc = _killed_at(world, "rewrite.relocate+0", "move", str(src), str(dst))
    assert proc.returncode == -9 and dst.is_dir() and not src.exists(), proc.stderr
    r = world.run("list", "--envs-dir", str(world.envs))
    assert r.returncode == 0, r.stderr
    said = [line for line in (r.stdout + r.stderr).splitlines() if f"a move of {src} to {dst}" in line]
    assert len(said) == 1, r.stdout + r.stderr
    assert "`mambaboot doctor --settle " in said[0], said


def test_a_move_killed_as_it_takes_or_lets_go_its_locks_leaves_nothing_a_run_of_its_source_does_not_take(
        world, made_env):
    """A move's locks are taken source first, each saying the intent as it is taken, and let go the destination's last
    once the environment is there. Killed as it takes them (the source's says the move, the destination's is made and
    still blank), or at any call as it lets them go, the user's next run of where the environment is, a move elsewhere,
    settles what is left and takes the other place's blank lock with it: nothing stays beside a place the user may
    never name again."""
    points = ["placelock._fill#2+0"] + [f"placelock._release+{k}" for k in range(1, 40)]
    for n, at in enumerate(points):
        src, dst, other = copy_env(made_env, world.envs / f"x{n}"), world.root / f"elsewhere{n}" / "y", world.envs / f"z{n}"
        dst.parent.mkdir()
        proc = _killed_at(world, at, "move", str(src), str(dst))
        if proc.returncode == 0:  # the release ended before its k-th call: every point of it tried
            assert at.startswith("placelock._release+") and n > 2, (at, proc.stderr)
            break
        assert proc.returncode == -9, (at, proc.stderr)
        if n == 0:
            assert [os.path.exists(fsops.place_lock(str(p))) for p in (src, dst)] == [True, True]
        r = world.run("move", str(src if src.exists() else dst), str(other))
        assert r.returncode == 0 and "Traceback" not in r.stderr, (at, r.stderr)
        assert not list(dst.parent.iterdir()) and not [p for p in world.envs.iterdir() if "mambaboot" in p.name], at
        shutil.rmtree(other)


# -- the run's own failure: settled by its intent, kept when the put-back fails ---------------

FAULTER = SUPPORT / "faults.py"


def _faulted(world, faults: str, *args):
    """mambaboot args with OS errors injected (tests/support/faults.py: module:function#N=ERRNO)."""
    proc = subprocess.run([sys.executable, str(FAULTER), "--", *args], env={**world.env, "FAULTS": faults},
                          cwd=str(world.envs), capture_output=True, text=True, timeout=600)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _left_intent(place: Path, said: str = "") -> dict:
    lock = Path(fsops.place_lock(str(place)))
    assert lock.exists(), said
    return json.loads(lock.read_text())


@pytest.mark.parametrize("error", ["EACCES", "ENOSPC"])
def test_a_create_force_whose_put_back_fails_keeps_its_intent_for_the_next_run(world, made_env, channel, standin,
                                                                              error):
    """create --force fails after it set the old environment aside, and renaming it back fails too
    (denied, a full disk): the intent stays, naming where the old environment is, and the next
    run of the place puts it back, as it was."""
    prefix = copy_env(made_env, world.envs / "x")
    before = snapshot(prefix)
    r = _faulted(world, f"mambaboot.pipeline.create:_build#1=EIO,mambaboot.common.files.confined:rename_beside#1={error}",
                 "create", "x", "--force", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin))
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    left = _left_intent(prefix, r.stderr)
    assert (left["operation"], left["stage"]) == ("create", "set-aside"), left
    assert not prefix.exists() and Path(left["aside"]).is_dir() and "settles it" in r.stderr, r.stderr
    again = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))  # settles, then refuses
    assert again.returncode == 4 and f"put back the old environment at {prefix}" in again.stderr, again.stderr
    assert snapshot(prefix) == before and sorted(p.name for p in world.envs.iterdir()) == ["x"], again.stderr


def test_a_put_back_never_replaces_a_directory_made_at_the_place_meanwhile(world, made_env, channel, standin):
    """The next run of a place puts back the old environment a create --force set aside: an empty
    directory made at the place just before that rename (after any look at the place) is not
    replaced by it; the run stops naming both (exit 4), and the intent stays for the next run."""
    prefix = copy_env(made_env, world.envs / "x")
    r = _faulted(world, "mambaboot.pipeline.create:_build#1=EIO,mambaboot.common.files.confined:rename_beside#1=EACCES",
                 "create", "x", "--force", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin))
    left = _left_intent(prefix, r.stderr)
    assert left["stage"] == "set-aside" and not prefix.exists(), r.stderr
    args = ["create", "--cache-dir", str(world.cache), "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin)]
    with Held(world, "confined.rename_beside+0", args) as again:  # held as it is about to rename it back
        prefix.mkdir()
        code, err = again.go()
    assert code == 4 and f"{prefix} holds something" in err and left["aside"] in err, err
    assert list(prefix.iterdir()) == [] and Path(left["aside"], "conda-meta").is_dir(), err
    assert _left_intent(prefix, err) == left, err


@pytest.mark.parametrize("error", ["EACCES", "ENOSPC"])
def test_an_adopt_whose_put_back_fails_keeps_its_intent_for_the_next_run(world, made_env, channel, standin, error):
    """An adopt that fails (the Python it was asked for is not there) and whose restore fails too:
    the intent stays (adopting), and the next run of the place puts the environment back."""
    prefix = copy_env(made_env, world.envs / "x")
    assert world.run("adopt", str(prefix), "--cache-dir", str(world.cache)).returncode == 0
    (prefix / ".condarc").unlink()  # something for the adopt to change
    before = {k: v for k, v in snapshot(prefix).items() if "__pycache__" not in k}
    r = _faulted(world, f"mambaboot.environment.adoptundo:restore#1={error}",
                 "adopt", str(prefix), "--python", "3.12", "--cache-dir", str(world.cache))
    assert r.returncode == 7 and "Traceback" not in r.stderr, r.stderr
    left = _left_intent(prefix, r.stderr)
    assert (left["operation"], left["stage"]) == ("adopt", "adopting") and "settles it" in r.stderr, (left, r.stderr)
    again = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))  # settles, then refuses
    assert again.returncode == 4 and f"put back {prefix} as it was" in again.stderr, again.stderr
    assert {k: v for k, v in snapshot(prefix).items() if "__pycache__" not in k} == before


@pytest.mark.parametrize("operation", ["create", "adopt", "remove", "move", "pack", "lock", "provision",
                                       "activate-scripts", "bootstrap", "newer"])
def test_an_intent_at_a_stage_this_mambaboot_does_not_know_is_named_and_kept(world, made_env, operation):
    """For every operation (an old bootstrap script's, one of a newer mambaboot's too), an intent
    at a stage the table does not know is never acted on: every run that would change the place
    is refused (exit 4) naming the lock file to delete once looked at; place and intent stay."""
    prefix = copy_env(made_env, world.envs / "x")
    lock = Path(fsops.place_lock(str(prefix)))
    lock.write_text(json.dumps({"tool": "mambaboot", "pid": 1, "operation": operation, "stage": "zz-later",
                                "token": "0123456789abcdef" * 2, "place1": str(prefix)}))
    before = snapshot(world.root)
    for args in (["activate-scripts", str(prefix)], ["adopt", str(prefix)], ["remove", str(prefix), "--yes"]):
        r = world.run(*args, "--cache-dir", str(world.cache)) if args[0] != "activate-scripts" else world.run(*args)
        assert r.returncode == 4 and "'zz-later'" in r.stderr and f"delete {lock}" in r.stderr, (args, r.stderr)
        assert snapshot(world.root) == before, args


def test_a_finished_run_leaves_no_intent_in_a_lock_file_another_program_holds(world, made_env):
    """The lock file is emptied while still locked, before it is deleted: a program that holds it
    open as the run ends (on Windows, where it then cannot be deleted) finds no intent in it."""
    prefix = copy_env(made_env, world.envs / "x")
    lock = fsops.place_lock(str(prefix))
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]); from mambaboot.environment import placelock; "
            "i = placelock.Intent('activate-scripts', sys.argv[2], steps={}); i.__enter__(); "
            "fd = os.open(sys.argv[3], os.O_RDONLY); i.__exit__(None, None, None); "
            "os.lseek(fd, 0, 0); print(repr(os.read(fd, 8192).strip()))")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent.parent / "src"), str(prefix), lock],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "b''", out


def test_a_killed_adopts_put_back_keeps_what_the_user_changed_since(world, made_env, channel, standin):
    """An adopt of an environment of the user's, killed as it ends (conda-meta/state and .condarc
    written): the user then sets a variable with the environment's own conda (`conda env config
    vars set`, which rewrites conda-meta/state) and appends a line to .condarc. The next run (a
    remove, which then refuses the environment) puts back what the adopt changed, and only that:
    both files are kept as the user left them, and named."""
    from tests.test_adopt import engine_only

    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    assert not (prefix / "conda-meta" / "state").exists() and not (prefix / ".condarc").exists()
    proc = _killed_at(world, "placelock.stage:adopted+0", "adopt", str(prefix), "--cache-dir", str(world.cache))
    assert proc.returncode == -9, proc.stderr
    assert _left_intent(prefix)["stage"] == "adopting"
    state = prefix / "conda-meta" / "state"
    users_state = '{"env_vars": {"PYTHONNOUSERSITE": "1", "MINE": "kept"}}'
    state.write_text(users_state)
    users_rc = (prefix / ".condarc").read_text() + "channel_priority: strict\n"
    (prefix / ".condarc").write_text(users_rc)
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert state.read_text() == users_state and (prefix / ".condarc").read_text() == users_rc, r.stderr
    assert f"kept {state} as it is" in r.stderr and f"kept {prefix / '.condarc'} as it is" in r.stderr, r.stderr
    assert not Path(fsops.place_lock(str(prefix))).exists() and not (prefix / ".mambaboot").exists(), r.stderr


def test_a_create_on_a_full_volume_is_rolled_back_naming_what_was_full(world, made_env, channel, standin):
    """The environments' volume fills up while the engine links: create ends saying which disk was
    full and where, and leaves no half-made environment (its own rollback needs no mark written
    into a full disk: it holds the directory it made open, and a mark written there fails as a
    disk still full after the engine's own rollback fails it)."""
    size = sum(f.stat().st_size for f in made_env.rglob("*") if f.is_file() and not f.is_symlink())
    volume = world.root / "small"
    volume.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size // 2}", "tmpfs", str(volume)],
                             capture_output=True)
    assert mounted.returncode == 0, f"a small file system is mounted for this test (as root): {mounted.stderr}"
    try:
        r = _faulted(world, "mambaboot.common.files.proof:write_mark#2=ENOSPC", "create", "--prefix", str(volume / "x"), "--cache-dir", str(world.cache), "-c", channel,
                      "--micromamba", str(standin))
        assert r.returncode == 6 and "Traceback" not in r.stderr, (r.returncode, r.stderr[-3000:])
        assert f"mambaboot: error: the disk holding {volume / 'x'} is full" in r.stderr, r.stderr[-3000:]
        assert list(volume.iterdir()) == [], r.stderr  # nor its lock
    finally:
        subprocess.run(["umount", str(volume)], check=True)


def test_a_failed_move_of_an_environment_mambaboot_did_not_make_leaves_it_byte_identical(world, channel, standin):
    """A move of a conda environment made by micromamba alone, failing in its verification at the
    destination: put back, byte for byte (no `.mambaboot/` left in it), and nothing at DST."""
    from tests.test_adopt import engine_only

    src, dst = world.envs / "theirs", world.envs / "moved"
    engine_only(world, standin, channel, src)
    before = snapshot(src)
    r = _faulted(world, "mambaboot.pipeline.verify:start#1=EIO", "move", str(src), str(dst),
                 "--cache-dir", str(world.cache))
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert snapshot(src) == before and not dst.exists(), r.stderr
    assert sorted(p.name for p in world.envs.iterdir()) == ["theirs"], r.stderr


@pytest.mark.parametrize("edit", ["none", "pkgs_dirs taken out", "a channel added"])
def test_a_killed_adopts_put_back_takes_back_only_the_condarc_it_wrote(world, channel, standin, edit):
    """An adopt of an environment of the user's killed once it wrote .condarc; the user then edits
    that file in the very layout adopt writes (its pkgs_dirs block taken out, or a channel added).
    The next run (a remove, which then refuses the environment) puts back only what this adopt
    wrote, byte for byte: the edited file stays, named in one line; unedited, it goes."""
    from tests.test_adopt import engine_only

    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    proc = _killed_at(world, "placelock.stage:adopted+0", "adopt", str(prefix), "--cache-dir", str(world.cache))
    assert proc.returncode == -9 and _left_intent(prefix)["stage"] == "adopting", proc.stderr
    rc = prefix / ".condarc"
    lines = rc.read_text().splitlines(keepends=True)
    if edit == "pkgs_dirs taken out":
        at = lines.index("pkgs_dirs:\n")
        lines[at:] = [x for x in lines[at + 1:] if not x.startswith("  - ")]
    elif edit == "a channel added":
        lines.insert(lines.index("channels:\n") + 1, '  - "https://example.invalid/mine"\n')
    users = "".join(lines)
    rc.write_text(users)
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert not (prefix / "conda-meta" / "state").exists() and not (prefix / ".mambaboot").exists(), r.stderr
    if edit == "none":
        assert not rc.exists() and f"kept {rc}" not in r.stderr, r.stderr
    else:
        assert rc.read_text() == users and r.stderr.count(f"kept {rc} as it is") == 1, r.stderr


@pytest.mark.parametrize("command", ["adopt", "remove --force", "create --force", "activate-scripts"])
def test_an_adopt_killed_before_it_marked_its_snapshot_directory_blocks_nothing(world, made_env, channel, standin,
                                                                               command):
    """An adopt killed between making its snapshot directory and marking it leaves it empty and
    unmarked: the next run of the place removes it by rmdir alone (the rule of create's staged
    engine directory) and goes on; nothing else in the place is touched."""
    prefix = copy_env(made_env, world.envs / "x")
    proc = _killed_at(world, "proof.write_mark+0", "adopt", str(prefix), "--cache-dir", str(world.cache))
    assert proc.returncode == -9 and _left_intent(prefix)["stage"] == "saving", proc.stderr
    left = [p for p in (prefix / ".mambaboot").iterdir() if p.name.endswith("-undo")]
    assert len(left) == 1 and not list(left[0].iterdir()), left
    cache = ("--cache-dir", str(world.cache))
    if command == "create --force":
        r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin), "--force")
    else:
        args = {"adopt": ["adopt", str(prefix), *cache], "remove --force": ["remove", str(prefix), "--yes", "--force", *cache],
                "activate-scripts": ["activate-scripts", str(prefix)]}[command]
        r = world.run(*args)
    assert r.returncode == 0, r.stderr
    assert not left[0].exists() and not Path(fsops.place_lock(str(prefix))).exists(), r.stderr


@pytest.mark.parametrize("at", ["proof.write_mark+0", "placelock.stage:adopting+0"])
@pytest.mark.parametrize("before", ["no .mambaboot", "an empty .mambaboot of the user's"])
def test_an_adopt_killed_before_adopting_takes_back_the_record_dir_only_if_it_made_it(world, channel, standin,
                                                                                      at, before):
    """A foreign adopt killed while it saves its snapshot (before it changed anything): the next
    run takes back the `.mambaboot/` the adopt made (its intent says so, and it is empty again),
    never one that was there before, empty as it may be."""
    from tests.test_adopt import engine_only

    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    if before != "no .mambaboot":
        (prefix / ".mambaboot").mkdir()
    tree = snapshot(prefix)
    proc = _killed_at(world, at, "adopt", str(prefix), "--cache-dir", str(world.cache))
    assert proc.returncode == -9 and _left_intent(prefix)["stage"] == "saving", proc.stderr
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree and not Path(fsops.place_lock(str(prefix))).exists(), r.stderr
