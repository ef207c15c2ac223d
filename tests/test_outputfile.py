"""`-o FILE` writes what the user named as a shell's `>` would: a device or a named pipe is
written into, never replaced by a renamed file; a regular file is replaced whole; `-` is stdout."""

import io
import os
import stat
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from mambaboot.common.files import outputfile


def _reader(path: Path):
    """A reader on the fifo, as `cat pipe` would be: its bytes land in the returned list."""
    got = []

    def read():
        with open(path, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


@pytest.fixture
def lock_text(world, made_env):
    r = world.run("lock", str(made_env))
    assert r.returncode == 0, r.stderr
    assert "@EXPLICIT" in r.stdout
    return r.stdout


@pytest.mark.parametrize("target", ["-", "/dev/stdout", "/dev/fd/1"])
def test_lock_to_stdout_by_any_name(world, made_env, lock_text, target):
    r = world.run("lock", str(made_env), "-o", target)
    assert r.returncode == 0, r.stderr
    assert r.stdout == lock_text


@pytest.fixture
def full_disk(tmp_path):
    """A file system (a tmpfs of 1 MiB, mounted as root, as the suite runs in its container) filled
    to its last block by a file of its own."""
    where = tmp_path / "full"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    assert r.returncode == 0, f"a small file system is mounted for this test (as root): {r.stderr}"
    try:
        fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(fd)
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.mark.parametrize("command, name", [("lock", "env.lock"), ("pack", "env.tar.gz"), ("pack", "env.zip")])
def test_an_output_that_fills_its_disk_leaves_nothing_beside_it_and_names_it(world, made_env, full_disk, command, name):
    """The partial file written beside FILE is deleted when its writing fails, and the error names
    FILE: the disk is as full as before, not kept full by a hidden file."""
    output = full_disk / name
    r = world.run(command, str(made_env), "-o", str(output))
    assert r.returncode == 9, r.stderr
    assert f"mambaboot: error: No space left on device: {output}\n" in r.stderr, r.stderr
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


def test_lock_to_a_full_device_is_exit_9_and_the_device_stays(world, made_env):
    before = os.lstat("/dev/full")
    r = world.run("lock", str(made_env), "-o", "/dev/full")
    assert r.returncode == 9, r.stderr
    assert "No space left on device" in r.stderr and "/dev/full" in r.stderr
    after = os.lstat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_lock_into_a_named_pipe(world, made_env, lock_text, tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    thread, got = _reader(pipe)
    r = world.run("lock", str(made_env), "-o", str(pipe))
    thread.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert got == [lock_text.encode()]
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode), "still the user's pipe"


def test_lock_through_a_link_to_a_regular_file_replaces_what_it_points_to(world, made_env, lock_text, tmp_path):
    (tmp_path / "locks").mkdir()
    target = tmp_path / "locks" / "v1.lock"
    target.write_text("old\n")
    link = tmp_path / "current.lock"
    link.symlink_to(Path("locks") / "v1.lock")
    r = world.run("lock", str(made_env), "-o", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("locks", "v1.lock"), "the link stays a link"
    assert target.read_text() == lock_text


def test_lock_to_a_regular_file_replaces_it_whole(world, made_env, lock_text, tmp_path):
    out = tmp_path / "x.lock"
    out.write_text("old\n")
    inode = out.stat().st_ino
    r = world.run("lock", str(made_env), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == lock_text and out.stat().st_ino != inode, "a new file renamed into place"


def test_pack_into_a_named_pipe(world, made_env, tmp_path):
    pipe = tmp_path / "env.tar.gz"
    os.mkfifo(pipe)
    thread, got = _reader(pipe)
    r = world.run("pack", str(made_env), "-o", str(pipe))
    thread.join(timeout=120)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    names = tarfile.open(fileobj=io.BytesIO(got[0]), mode="r:gz").getnames()
    assert ".mambaboot/unpack.py" in names
    assert not list(tmp_path.glob("*partial*"))


def test_pack_to_a_full_device_is_exit_9(world, made_env, tmp_path):
    full = tmp_path / "full.tar.gz"
    full.symlink_to("/dev/full")
    r = world.run("pack", str(made_env), "-o", str(full))
    assert r.returncode == 9 and "No space left on device" in r.stderr, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode) and full.is_symlink()


def test_a_directory_is_refused():
    from mambaboot.common.errors import UsageError

    with pytest.raises(UsageError, match="that is a directory"):
        outputfile.kind("/")
