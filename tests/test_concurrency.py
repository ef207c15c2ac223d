"""Parallel creates sharing one cache, and runs racing for the same target."""

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT, copy_env
from tests.support import hostiletree
from tests.support.interrupt import paused
from tests.support.snapshot import snapshot


def _start(world, *args, env=None):
    return subprocess.Popen(
        [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args], env={**world.env, **(env or {})},
        cwd=str(world.envs), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _state(prefix):
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]


def test_parallel_creates_share_one_cache(world, channel, release_server, reliability):
    """The micromamba store takes no lock: each run downloads under its own temporary name and
    renames the verified binary into place, so runs at once each see a whole one."""
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    procs = [_start(world, f"env{i}", "-c", channel, env=env) for i in range(4)]
    results = [(p.wait(timeout=600), p.communicate()) for p in procs]
    for code, (out, err) in results:
        reliability.record("parallel runs", code == 0)
        assert code == 0, err
    assert 1 <= release_server.count("GET", release_server.asset_url) <= 4
    assert len(list((world.cache / "micromamba").glob("*/micromamba"))) == 1
    for i in range(4):
        assert _state(world.envs / f"env{i}") == "complete"
    assert list(world.cache.rglob("*mambaboot-tmp-*")) == []


def test_a_download_in_flight_in_the_store_is_never_deleted(world, channel, release_server):
    """A bootstrap script's download of micromamba under its temporary name, beside a binary that
    is no longer whole: the create that downloads it again replaces the binary and leaves the
    script's download as it is."""
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    first = world.create("first", "-c", channel, env=env)
    assert first.returncode == 0, first.stderr
    [binary] = (world.cache / "micromamba").glob("*/micromamba")
    whole = binary.read_bytes()
    binary.write_bytes(b"no longer whole")
    flight = binary.parent / f".micromamba.mambaboot-tmp-{'ab' * 16}"
    flight.write_bytes(b"half a download")
    again = world.create("again", "-c", channel, env=env)
    assert again.returncode == 0, again.stderr
    assert flight.read_bytes() == b"half a download" and binary.read_bytes() == whole, again.stderr


def test_a_second_run_for_a_target_being_created_is_refused(world, channel, fault_standin):
    args = ["-c", channel, "--micromamba", str(fault_standin)]
    command = [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args]
    with paused(command, world.env, world.envs, world.root.parent / "fifo") as first:
        second = world.create(*args)
        assert second.returncode == 4, second.stderr
        assert "another mambaboot run (pid" in second.stderr and "create) is changing" in second.stderr
        # release the first run: it must finish untouched by the second
        with open(world.root.parent / "fifo", "wb", buffering=0) as release:
            release.write(b"x")
        first.wait(timeout=600)
    assert first.returncode == 0
    assert _state(world.envs / "py") == "complete"


def test_unsynchronised_race_has_exactly_one_winner(world, channel, standin):
    procs = [_start(world, "-c", channel, "--micromamba", str(standin)) for _ in range(2)]
    codes = sorted(p.wait(timeout=600) for p in procs)
    for p in procs:
        p.communicate()
    assert codes == [0, 4]
    assert _state(world.envs / "py") == "complete"
    out = subprocess.run([str(world.envs / "py" / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(world.envs / "py")


def test_an_environment_being_created_is_neither_moved_nor_removed(world, channel, fault_standin):
    """As remove does, move refuses a prefix whose create is running: moved, it would be recorded
    complete at its new place, and the create would then fail."""
    args = ["-c", channel, "--micromamba", str(fault_standin)]
    command = [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args]
    with paused(command, world.env, world.envs, world.root.parent / "fifo") as first:
        moved = world.run("move", str(world.envs / "py"), str(world.envs / "moved"), "--cache-dir", str(world.cache))
        assert moved.returncode == 4 and "right now" in moved.stderr, moved.stderr
        assert not (world.envs / "moved").exists()
        with open(world.root.parent / "fifo", "wb", buffering=0) as release:
            release.write(b"x")
        first.wait(timeout=600)
    assert first.returncode == 0
    assert _state(world.envs / "py") == "complete"


def test_a_transient_lock_is_held_by_one_run_at_a_time_and_goes_with_it(tmp_path, monkeypatch):
    """The holder unlinks the lock file before it lets go; a run that opened that file before
    (and so locks a file no longer at the path) locks again the one at the path, so that a third
    run is refused rather than holding it too. The lock file and the directory made for it go."""
    import threading

    from mambaboot.common.files import filelock

    path = str(tmp_path / "made" / "x.lock")
    real, opened, go = filelock._lock, threading.Event(), threading.Event()
    worker = threading.Thread(target=lambda: second.__enter__())

    def lock(fd, blocking=True, offset=None):  # the second run, between its open and its lock
        if threading.current_thread() is worker and not opened.is_set():
            opened.set()
            assert go.wait(60)
        return real(fd, blocking, offset)

    monkeypatch.setattr(filelock, "_lock", lock)
    first, second = filelock.FileLock(path, transient=True), filelock.FileLock(path, transient=True)
    first.__enter__()
    worker.start()
    assert opened.wait(60)
    first.__exit__(None, None, None)  # the file the second run opened is unlinked now
    go.set()
    worker.join(60)
    assert not worker.is_alive() and second._fd is not None
    mine, there = os.fstat(second._fd), os.stat(path)
    assert (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino), "it holds the file at the path"
    with pytest.raises(BlockingIOError):
        with filelock.FileLock(path, blocking=False, transient=True):
            pass
    second.__exit__(None, None, None)
    assert not (tmp_path / "made").exists()
    assert not filelock.held(path) and not os.path.exists(path), "looking does not make the file again"


# -- the per-target lock and the pending marker, hostile ------------------------------------------

def _target_lock(world, prefix) -> Path:
    from mambaboot.common.files import fsops

    return Path(fsops.place_lock(str(prefix)))


@contextlib.contextmanager
def _held_by_another(path):
    """The lock another run would hold on path: this test process's own flock, released after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = hostiletree.hold(path)
    try:
        yield
    finally:
        os.close(fd)


def _commands(world, channel, standin, prefix):
    engine = ["-c", channel, "--micromamba", str(standin)]
    return {
        "create": ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), *engine],
        "create --force": ["create", "--prefix", str(prefix), "--force", "--cache-dir", str(world.cache), *engine],
        "remove": ["remove", str(prefix), "--yes", "--cache-dir", str(world.cache)],
        "move": ["move", str(prefix), str(world.envs / "moved"), "--cache-dir", str(world.cache)],
    }


@pytest.mark.parametrize("command", ["create", "create --force", "remove", "move"])
def test_a_target_lock_another_process_holds_is_refused_at_once(world, channel, standin, made_env, command):
    """Whatever holds the lock (here this test, with flock): busy, exit 4, at once; nothing changed."""
    prefix = world.envs / "new" if command == "create" else copy_env(made_env, world.envs / "env")
    with _held_by_another(_target_lock(world, prefix)):
        before = snapshot(world.root)
        r = world.run(*_commands(world, channel, standin, prefix)[command])
    assert r.returncode == 4 and "is changing" in r.stderr and "right now" in r.stderr, r.stderr
    assert snapshot(world.root) == before


@pytest.mark.parametrize("kind", ["fifo", "symlink to the user's file", "symlink to a missing file", "directory",
                                  "huge file", "no permission"])
@pytest.mark.parametrize("command", ["create", "remove", "move"])
def test_a_hostile_lock_file_is_refused_or_used_never_followed(world, channel, standin, made_env, command, kind):
    """A per-target lock file that is no regular file of the cache's: the command succeeds or
    refuses with a documented code, never hangs, and a link is never followed (the user's file it
    names is neither truncated nor created)."""
    users = world.root / "users-file.txt"
    users.write_text("the user's\n")
    missing = world.root / "created-through-the-link"
    prefix = world.envs / "new" if command == "create" else copy_env(made_env, world.envs / "env")
    lock = _target_lock(world, prefix)
    lock.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "symlink to the user's file":
        lock.symlink_to(users)
    elif kind == "symlink to a missing file":
        lock.symlink_to(missing)
    elif kind == "directory":
        lock.mkdir()
    elif kind == "huge file":
        with open(lock, "wb") as f:
            f.truncate((1 << 30) + 1)
    else:
        lock.write_text("")
        lock.chmod(0)
    r = world.run(*_commands(world, channel, standin, prefix)[command])
    assert r.returncode in (0, 4, 9) and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    if kind.startswith("symlink"):
        assert r.returncode == 4 and "is a link" in r.stderr, r.stderr
    assert users.read_text() == "the user's\n" and not os.path.lexists(missing)

