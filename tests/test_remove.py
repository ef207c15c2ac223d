"""`mambaboot remove`: only environments, only ours unless forced, never through a link, and
nothing of the environment left anywhere afterwards."""

import json
import os
import signal
import stat
import shutil
import subprocess
from pathlib import Path

import pytest

from mambaboot.common.files import confined, fileid, proof, removal
from mambaboot.environment import diskusage
from tests.conftest import MAMBABOOT
from tests.support.interrupt import paused
from tests.support.snapshot import diff, snapshot


def _remove(world, *args, **kw):
    return world.run("remove", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs), *args, **kw)


def _make(world, channel, standin, name="victim"):
    r = world.create(name, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world.envs / name


def test_remove_never_touches_the_cache_behind_the_pkgs_link(world, channel, standin):
    prefix = _make(world, channel, standin)
    assert (prefix / "pkgs").is_symlink()
    shared = [p for p in prefix.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_nlink > 1]
    assert shared, "the environment shares files with the cache by hard links"
    cache_before = snapshot(world.cache)
    assert len(cache_before) > 1000
    r = _remove(world, "victim", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert not os.path.lexists(prefix)
    assert diff(cache_before, snapshot(world.cache)) == {}, "every cache file intact: same count, same hashes"
    out = r.json()
    assert out["removed"] is True and out["files"] > 1000 and out["shared_bytes"] > 0
    assert "shared with the package cache and stays there" in r.stderr
    assert list(world.envs.iterdir()) == [], "no trash left beside it"


def test_remove_handles_read_only_files_and_directories(world, channel, standin):
    prefix = _make(world, channel, standin)
    locked = prefix / "share" / "locked"
    locked.mkdir(parents=True)
    (locked / "ro.txt").write_text("read-only")
    os.chmod(locked / "ro.txt", 0o444)
    os.chmod(locked, 0o555)
    os.chmod(prefix / "bin" / "python3.11", 0o555)
    r = _remove(world, str(prefix), "--yes")
    assert r.returncode == 0, r.stderr
    assert not os.path.lexists(prefix)


@pytest.fixture(params=["one process", "two processes"])
def halves(request, monkeypatch):
    """Trees as small as a test's are removed by one process; "two processes" halves them too
    (common/files/removal.py), so both ways are checked on the same trees."""
    from mambaboot.common.files import removal

    monkeypatch.setattr(removal, "SPLIT_FROM", 0 if request.param == "two processes" else 10 ** 9)
    return request.param == "two processes"


@pytest.mark.parametrize("counted", [False, True], ids=["plain", "counted"])
def test_remove_tree_makes_read_only_things_writable_first(tmp_path, monkeypatch, counted, halves):
    """As Windows (or a non-root user) would: a read-only file or directory refuses unlinking."""
    real_unlink, real_rmdir = os.unlink, os.rmdir

    def strict(real):  # by path, or (POSIX) by name in the directory dir_fd
        def remove(path, *args, dir_fd=None, **kw):
            st = os.lstat(path, dir_fd=dir_fd)
            parent = os.fstat(dir_fd) if dir_fd is not None else os.lstat(os.path.dirname(path))
            if not stat.S_ISLNK(st.st_mode) and not st.st_mode & stat.S_IWUSR or not parent.st_mode & stat.S_IWUSR:
                raise PermissionError(13, "read-only", path)
            return real(path, *args, dir_fd=dir_fd, **kw)
        return remove

    tree = tmp_path / "tree"
    for sub in ("sub", "other"):
        (tree / sub).mkdir(parents=True)
        (tree / sub / "ro.txt").write_text("x")
        os.chmod(tree / sub / "ro.txt", 0o444)
        os.chmod(tree / sub, 0o555)
    monkeypatch.setattr(os, "unlink", strict(real_unlink))
    monkeypatch.setattr(os, "rmdir", strict(real_rmdir))
    tally = diskusage.Tally() if counted else None
    confined.remove_named(str(tree), tally)
    assert not tree.exists()
    assert tally is None or tally.files == 2


def _tree(root, dirs=150, files=3):
    """Directories several levels deep, each with files."""
    for d in range(dirs):
        sub = root / f"d{d // 10}" / f"e{d}"
        sub.mkdir(parents=True)
        for f in range(files):
            (sub / f"f{f}").write_bytes(b"x" * (d + f))
    return root


def _open_descriptors():
    return len(os.listdir("/proc/self/fd"))


class _Deleters:
    """Which processes unlink (os.unlink wrapped: each call appends its pid to a file, which
    a forked child's calls reach too)."""

    def __init__(self, path, monkeypatch):
        self.path, real = path, os.unlink

        def unlink(name, *args, **kw):
            with open(path, "a") as log:
                log.write(f"{os.getpid()}\n")
            return real(name, *args, **kw)
        monkeypatch.setattr(os, "unlink", unlink)

    def pids(self):
        return set(self.path.read_text().split())


def test_a_counted_remove_counts_what_a_measure_counts_and_never_follows_a_link(tmp_path, monkeypatch, halves):
    """Each file's lstat just before its unlink adds up to diskusage's measure beforehand: a
    link inside is counted and removed, its target kept; a file with two links in the tree is
    one file, shared, even when each link is deleted by another process (the second link's
    count has dropped to 1 by the time it is seen)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    tree = _tree(tmp_path / "tree")
    os.symlink(outside, tree / "d0" / "pkgs")
    os.link(tree / "d0" / "e0" / "f2", tree / "d14" / "twin")  # the first and the last subtree
    before = diskusage.measure(str(tree))
    keep = snapshot(outside)
    deleters = _Deleters(tmp_path / "pids", monkeypatch)
    fds = _open_descriptors()
    tally = diskusage.Tally()
    confined.remove_named(str(tree), tally)
    assert not os.path.lexists(tree)
    assert tally.usage() == before
    assert (before.files, before.shared_files, before.shared_bytes) == (150 * 3 + 1, 1, 2)  # the twin is f2
    assert diff(keep, snapshot(outside)) == {}
    assert _open_descriptors() == fds, "every directory descriptor closed"
    assert len(deleters.pids()) == (2 if halves else 1)
    assert os.getpid() in {int(p) for p in deleters.pids()}


def test_the_halves_are_whole_subtrees_of_about_equal_weight(tmp_path):
    """The child gets whole subtrees (it removes them itself), about half of the files; what
    the halving went into stays this process's, removed once both are done."""
    from mambaboot.common.files import removal

    tree = _tree(tmp_path / "tree", dirs=97, files=5)
    (tree / "top.txt").write_text("x")
    listed = removal._Tree()
    fd = os.open(tree, os.O_RDONLY)
    try:
        listed.scan(fd, None, 0)
    finally:
        os.close(fd)
    share = removal._Share(listed, True)
    files = [sum(len(listed.files[i]) for i in range(len(listed.names)) if share.owner[i] == side) for side in (0, 1)]
    assert sum(files) == 97 * 5 + 1 and abs(files[0] - files[1]) <= 20, files
    for i in range(1, len(listed.names)):
        if share.owner[i] == 1:
            assert share.whole[i] and all(share.owner[k] == 1 for k in range(i, listed.ends[i]))
    assert not share.whole[0] and share.owner[0] == 0


def test_a_counted_remove_that_fails_raises_and_leaves_the_rest(tmp_path, monkeypatch, halves):
    """A file that cannot be unlinked stops the removal (the caller names what remains): the
    error reaches the caller, from the child's share too, and no descriptor is left open."""
    tree = _tree(tmp_path / "tree")
    real_unlink = os.unlink
    for where in ("d0/e3", "d14/e143"):  # one in each half
        def refuse(path, *args, **kw):
            if path == "f1" and kw.get("dir_fd") is not None and os.path.samestat(
                    os.fstat(kw["dir_fd"]), os.stat(tree / where)):
                raise OSError(16, "busy", path)
            return real_unlink(path, *args, **kw)

        monkeypatch.setattr(os, "unlink", refuse)
        fds = _open_descriptors()
        with pytest.raises(OSError, match="busy"):
            confined.remove_named(str(tree), diskusage.Tally())
        assert (tree / where / "f1").exists()
        assert _open_descriptors() == fds
        monkeypatch.setattr(os, "unlink", real_unlink)
        confined.remove_named(str(tree))
        tree = _tree(tmp_path / "tree")


def test_a_file_put_in_meanwhile_is_removed_and_counted(tmp_path, monkeypatch, halves):
    """A directory that something wrote into after it was listed is emptied before its rmdir
    (and what was in it counted), rather than failing the removal half-way."""
    tree = _tree(tmp_path / "tree")
    before = diskusage.measure(str(tree))
    real_rmdir, late = os.rmdir, tmp_path / "late"  # a file: the child's rmdir may be the one

    def rmdir(path, *args, dir_fd=None, **kw):
        if path == "e77" and not late.exists():
            late.write_text("")
            fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
            try:
                os.close(os.open("late.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
                os.truncate(os.path.join(tree, "d7", "e77", "late.txt"), 5)
            finally:
                os.close(fd)
        return real_rmdir(path, *args, dir_fd=dir_fd, **kw)

    monkeypatch.setattr(os, "rmdir", rmdir)
    tally = diskusage.Tally()
    confined.remove_named(str(tree), tally)
    assert not tree.exists() and late.exists()
    assert (tally.files, tally.bytes) == (before.files + 1, before.bytes + 5)


def test_a_plain_directory_is_never_deleted(world):
    plain = world.envs / "thesis"
    plain.mkdir()
    (plain / "chapter1.txt").write_text("precious")
    (plain / "bin").mkdir()
    (plain / "bin" / "python").write_text("#!/bin/sh\n")
    before = snapshot(world.root)
    for extra in ([], ["--force"]):
        r = _remove(world, "thesis", "--yes", *extra)
        assert r.returncode == 4 and "not a conda environment" in r.stderr
    r = _remove(world, "nothing-here", "--yes")
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert diff(before, snapshot(world.root)) == {}


def test_a_record_broken_inside_its_package_list_is_no_record(world):
    """`list` counts the package list without parsing it (record.read with keys); remove decides on
    the whole record, so an environment whose record is broken anywhere is foreign to it."""
    env = world.envs / "broken"
    (env / "conda-meta").mkdir(parents=True)
    (env / ".mambaboot").mkdir()
    (env / ".mambaboot" / "record.json").write_text(
        '{\n  "packages": [\n    {"name": ]\n  ],\n  "state": "complete",\n  "tool": "mambaboot"\n}\n')
    before = snapshot(world.root)
    r = _remove(world, "broken", "--yes")
    assert r.returncode == 4 and "did not create" in r.stderr
    assert diff(before, snapshot(world.root)) == {}


def test_a_link_to_an_environment_is_refused(world, channel, standin):
    prefix = _make(world, channel, standin)
    os.symlink(prefix, world.root / "alias")
    r = _remove(world, str(world.root / "alias"), "--yes")
    assert r.returncode == 4 and "is a link" in r.stderr
    assert (prefix / "bin" / "python").exists()


def _answer(world, answer: bytes, *args):
    """Run remove with a terminal on stdin and type answer into it."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [*MAMBABOOT, "remove", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs), *args],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=world.env, cwd=str(world.envs), text=True,
        )
        os.write(master, answer)  # the terminal holds the line until the prompt reads it
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    return proc.returncode, err


def test_asks_first_and_no_removes_nothing(world, channel, standin):
    prefix = _make(world, channel, standin)
    before = snapshot(world.root)
    code, err = _answer(world, b"n\n", "victim")
    assert code == 0, err
    assert "remove " + str(prefix) in err and "files" in err and "[y/N]" in err
    assert "nothing was removed" in err
    assert diff(before, snapshot(world.root)) == {}
    code, err = _answer(world, b"y\n", "victim")
    assert code == 0, err
    assert not prefix.exists()


class _Asking:
    """remove running with a terminal on stdin, stopped at its question: the question is on
    stderr before the answer is read, so whatever the test does meanwhile happens between the
    checks and the deletion, as a user's other shell could."""

    def __init__(self, world, *args):
        self.master, slave = os.openpty()
        try:
            self.proc = subprocess.Popen(
                [*MAMBABOOT, "remove", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs), *args],
                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=world.env, cwd=str(world.envs),
            )
        finally:
            os.close(slave)
        self.asked = b""
        while b"[y/N] " not in self.asked:
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            assert chunk, self.asked
            self.asked += chunk

    def answer(self, text: bytes):
        try:
            os.write(self.master, text)
            out, err = self.proc.communicate(timeout=120)
        finally:
            os.close(self.master)
        return self.proc.returncode, (self.asked + err).decode()


def _put_in_place_of(prefix, world):
    """The environment renamed away (kept, to show it survives), a user's directory in its place."""
    away = world.root / "renamed-away"
    os.rename(prefix, away)
    prefix.mkdir()
    for n in range(5):
        (prefix / f"chapter{n}.txt").write_text("precious")
    return away


def _lock_of(prefix):
    """The lock the asking remove took (before any swap: a link put in place later leads elsewhere)."""
    from mambaboot.common.files import fsops

    return [Path(fsops.place_lock(str(prefix)))]


def _answered_yes_refuses(world, reliability, asking, prefix, held):
    """Answered "y" after the swap: exit 4 naming the path, and nothing anywhere changed. held:
    the running remove's lock, gone as it ends."""
    before = snapshot(world.root, exclude=held)
    code, err = asking.answer(b"y\n")
    ok = (code == 4 and f"{prefix} is not the directory that was checked any more" in err
          and "nothing was removed" in err and diff(before, snapshot(world.root, exclude=held)) == {})
    reliability.record("remove: the path swapped while asking is refused, nothing deleted", ok)
    assert ok, (code, err, diff(before, snapshot(world.root)))


def test_a_directory_put_in_place_of_the_environment_while_asking_is_not_removed(world, reliability, channel,
                                                                                 standin):
    prefix = _make(world, channel, standin)
    asking = _Asking(world, "victim")
    assert "remove " + str(prefix) in asking.asked.decode()
    held = _lock_of(prefix)
    away = _put_in_place_of(prefix, world)
    _answered_yes_refuses(world, reliability, asking, prefix, held)
    assert (away / "bin" / "python").exists()


def test_a_foreign_environment_put_in_place_while_asking_needs_force(world, reliability, channel, standin):
    prefix = _make(world, channel, standin)
    asking = _Asking(world, "victim")
    held = _lock_of(prefix)
    os.rename(prefix, world.root / "renamed-away")
    subprocess.run([str(standin), "create", "-y", "-p", str(prefix), "-c", channel, "python"],
                   env=world.env, check=True, capture_output=True)
    _answered_yes_refuses(world, reliability, asking, prefix, held)


def test_a_link_put_in_place_while_asking_is_not_followed(world, reliability, channel, standin):
    prefix = _make(world, channel, standin)
    asking = _Asking(world, "victim")
    held = _lock_of(prefix)
    away = world.root / "renamed-away"
    os.rename(prefix, away)
    os.symlink(away, prefix)
    _answered_yes_refuses(world, reliability, asking, prefix, held)
    assert (away / "bin" / "python").exists()


def test_an_environment_left_in_place_while_asking_is_removed(world, channel, standin):
    """The identity check refuses only what changed: the same directory, written into
    meanwhile, goes as before (and no trash is left beside it)."""
    prefix = _make(world, channel, standin)
    asking = _Asking(world, "victim")
    (prefix / "new-file.txt").write_text("written while asking")
    code, err = asking.answer(b"y\n")
    assert code == 0, err
    assert "removed " + str(prefix) in err
    assert list(world.envs.iterdir()) == []


def test_a_swap_between_the_comparison_and_the_rename_is_put_back(tmp_path, monkeypatch):
    """The narrowest window: the directory compared, then swapped just before the rename moves
    it aside. What was renamed is compared again, found foreign, and put back where it was."""
    from mambaboot.common.files import guarded

    env, other = tmp_path / "env", tmp_path / "other"
    for d in (env, other):
        (d / "conda-meta").mkdir(parents=True)
        (d / "file.txt").write_text(d.name)
    checked = guarded.seen(str(env), "conda-meta")
    real_rename = os.rename

    def swapping(src, dst, **kw):
        if dst.startswith(".env.mambaboot-tmp-") and dst.endswith("-removing"):
            real_rename(env, tmp_path / "env-away")
            real_rename(other, env)
        return real_rename(src, dst, **kw)

    monkeypatch.setattr(os, "rename", swapping)
    with pytest.raises(guarded.Changed, match="not the directory that was checked"):
        with guarded.set_aside(checked, "removing", os.urandom(16).hex()):
            pass
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env", "env-away"]
    assert (env / "file.txt").read_text() == "other" and (tmp_path / "env-away" / "file.txt").read_text() == "env"
    # the mark went into the directory checked, through its descriptor, and went again
    assert sorted(p.name for p in (tmp_path / "env-away").iterdir()) == ["conda-meta", "file.txt"]
    assert sorted(p.name for p in env.iterdir()) == ["conda-meta", "file.txt"]


def test_without_a_terminal_and_without_yes_nothing_happens(world, channel, standin):
    prefix = _make(world, channel, standin)
    before = snapshot(world.root)
    r = _remove(world, "victim")
    assert r.returncode == 2 and "pass --yes" in r.stderr
    assert diff(before, snapshot(world.root)) == {}
    assert prefix.exists()


def test_foreign_environments_need_force_and_leave_no_registration(world, channel, standin):
    alien = world.envs / "alien"
    subprocess.run([str(standin), "create", "-y", "-p", str(alien), "-c", channel, "python"],
                   env=world.env, check=True, capture_output=True)
    registry = world.home / ".conda" / "environments.txt"
    registry.write_text(registry.read_text() + "/some/other/env\n")
    assert str(alien) in registry.read_text()
    r = _remove(world, "alien", "--yes")
    assert r.returncode == 4 and "--force" in r.stderr
    assert alien.exists()
    r = _remove(world, "alien", "--yes", "--force")
    assert r.returncode == 0, r.stderr
    assert not alien.exists()
    assert registry.read_text() == "/some/other/env\n", "conda's registration of it went too, nothing else"


def test_an_interrupted_create_is_named_never_guessed_at_then_removed(world, channel, fault_standin):
    """A create killed while its engine runs leaves a directory that proves nothing (no mark yet:
    the intent's recorded identity is no proof, an inode number is reused): remove names it with
    what clears it and deletes nothing, as git names a stale index.lock; cleared so, the directory
    is a conda environment mambaboot did not finish, removed with --force."""
    command = [*MAMBABOOT, "create", "killed", "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(fault_standin)]
    with paused(command, world.env, world.envs, world.root / "fifo") as proc:
        r = _remove(world, "killed", "--yes")
        assert r.returncode == 4 and "right now" in r.stderr
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    intent = world.envs / ".killed.mambaboot-lock"
    assert intent.is_file()
    before = snapshot(world.envs)
    r = _remove(world, "killed", "--yes")
    assert r.returncode == 4 and "nothing was deleted" in r.stderr and f"delete {intent}" in r.stderr, r.stderr
    assert diff(before, snapshot(world.envs)) == {}
    intent.unlink()
    r = _remove(world, "killed", "--yes")
    assert r.returncode == 4 and "--force" in r.stderr, r.stderr
    r = _remove(world, "killed", "--yes", "--force")
    assert r.returncode == 0, r.stderr
    assert not (world.envs / "killed").exists() and not intent.exists()


def test_a_cache_inside_the_environment_is_refused(world, channel, standin):
    prefix = _make(world, channel, standin)
    (prefix / "own-pkgs").mkdir()
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache),
                  env={"CONDA_PKGS_DIRS": str(prefix / "own-pkgs")})
    assert r.returncode == 4 and "lives inside" in r.stderr
    assert (prefix / "bin" / "python").exists()


def test_a_provisioning_failed_environment_is_removable(world, channel, standin):
    failing = world.root / "fail.sh"
    failing.write_text("exit 1\n")
    r = world.create("pf", "-c", channel, "--micromamba", str(standin), "--post-script", str(failing))
    assert r.returncode == 8
    assert json.loads((world.envs / "pf" / ".mambaboot" / "record.json").read_text())["state"] == "provisioning-failed"
    assert _remove(world, "pf", "--yes").returncode == 0
    assert not (world.envs / "pf").exists()


def test_remove_yes_walks_the_environment_once_and_reports_what_it_deleted(world, channel, standin, monkeypatch):
    """With --yes nothing is shown before: the files are counted while they are deleted (one walk,
    as `rm -rf`), and the figures are those a measurement beforehand gives."""
    from mambaboot.environment import delete, diskusage, placelock

    prefix = _make(world, channel, standin)
    twin = _make(world, channel, standin, name="twin")
    expected = diskusage.measure(str(prefix)).to_dict()
    expected_twin = diskusage.measure(str(twin)).to_dict()
    names = {os.lstat(d).st_ino: os.path.basename(d) for d, _, _ in os.walk(prefix)}
    listed = []  # the directories listed, by inode: by path, or (POSIX) by descriptor
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": listed.append(os.stat(p).st_ino) or real(p))
    candidate = delete.inspect(str(prefix), str(world.cache), [], force=False, measure=False)
    with placelock.Intent("remove", str(prefix), steps={}, token=os.urandom(16).hex()) as intent:
        usage = delete.remove(candidate, str(world.home), intent)
    assert not prefix.exists() and usage.to_dict() == expected
    # each directory once; conda-meta and envs/ are also listed by the safety checks before, and
    # .mambaboot by the lock's collector of a killed activation's temporaries (leftovers.collect_unlocked,
    # every run holding a place's lock: one directory, not a walk)
    twice = {names.get(ino, ino) for ino in set(listed) if listed.count(ino) > 1}
    assert twice <= {"conda-meta", "envs", ".mambaboot"}, twice
    monkeypatch.undo()
    r = _remove(world, str(twin), "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert {k: r.json()[k] for k in expected_twin} == expected_twin


def _copied_move(world) -> tuple:
    """A move's source and its verified copy, with the intent of the move at deleting-source."""
    from mambaboot.common.files import tempname

    src, to = world.envs / "moved", world.envs / "copy"
    for prefix in (src, to):
        (prefix / "conda-meta").mkdir(parents=True)
        (prefix / "conda-meta" / "history").write_text("")
        (prefix / "lib").mkdir()
        (prefix / "lib" / "data.txt").write_text("data")
    token = os.urandom(16).hex()
    proof.write_mark(str(src), token, proof.SOURCE)  # as the move did when it began
    ident = fileid.identity(os.lstat(src))
    return src, to, {"tool": "mambaboot", "operation": "move", "pid": 1, "token": token, "stage": "deleting-source",
                     "from": str(src), "to": str(to), "old": str(src), "how": "copied", "source": f"{ident[0]}:{ident[1]}",
                     "aside": tempname.set_aside(str(src), token, proof.SOURCE), "place1": str(to), "place2": str(src)}


@pytest.mark.parametrize("by_descriptor", [True, False], ids=["descriptor", "path (Windows)"])
def test_a_moved_source_is_set_aside_by_its_mark_and_deleted(world, monkeypatch, by_descriptor):
    """A verified copy's source goes the way every set-aside goes (common/files/guarded.py): by the
    mark the move wrote when it began, to the name the intent gives, then deleted, the copy left."""
    from mambaboot.common.files import guarded
    from mambaboot.environment import settle

    monkeypatch.setattr(guarded, "_BY_DESCRIPTOR", by_descriptor)
    src, to, body = _copied_move(world)
    copy_before = snapshot(to)
    done = settle.run(body, str(src), steps={})
    assert done == [f"finished: a move of {src} to {to} had verified; {src} was deleted"]
    assert sorted(p.name for p in world.envs.iterdir()) == ["copy"] and snapshot(to) == copy_before


@pytest.mark.parametrize("by_descriptor", [True, False], ids=["descriptor", "path (Windows)"])
def test_a_moved_source_swapped_before_its_set_aside_is_put_back_not_deleted(world, monkeypatch, by_descriptor):
    """A directory put at a moved source's name between the check of its mark and the rename that
    sets the source aside is the user's: the set-aside compares what it renamed, renames it back
    and deletes nothing, and the source stays named by the move's intent."""
    from mambaboot.common.files import guarded
    from mambaboot.environment import settle

    monkeypatch.setattr(guarded, "_BY_DESCRIPTOR", by_descriptor)
    src, to, body = _copied_move(world)
    real_holds_mark = proof.holds_mark
    swapped = []

    def swap_after(where, *args, **kwargs):  # the source's mark read: another directory put in its place
        held = real_holds_mark(where, *args, **kwargs)
        if held and not swapped and str(getattr(where, "path", where)) == str(src):
            os.rename(src, world.envs / "elsewhere")
            (src / "mine").mkdir(parents=True)
            (src / "mine" / "notes.txt").write_text("mine")
            swapped.append(where)
        return held

    monkeypatch.setattr(proof, "holds_mark", swap_after)
    with pytest.raises(proof.NotOurs):
        settle.run(body, str(src), steps={})
    monkeypatch.undo()
    assert swapped and (src / "mine" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in world.envs.iterdir()) == ["copy", "elsewhere", "moved"]


def test_a_moved_source_cut_short_while_deleted_in_place_is_finished_by_remove(world, monkeypatch):
    """Where a move's source cannot be renamed aside (Windows: a file in it open), it is deleted
    in place, its mark last: cut short there (conda-meta already gone), the move's intent in its
    lock still says what it is: remove says so and finishes it, leaving the copy alone."""
    from mambaboot.environment import settle

    src, to, body = _copied_move(world)
    real_remove_contents = removal.remove_contents

    def refused(a, b, **kwargs):
        raise PermissionError(13, "in use", a)

    def cut_short(fd, *args, **kwargs):
        shutil.rmtree(src / "conda-meta")
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr(os, "rename", refused)
    monkeypatch.setattr(removal, "remove_contents", cut_short)
    with pytest.raises(KeyboardInterrupt):
        settle.run(body, str(src), steps={})
    monkeypatch.undo()
    assert removal.remove_contents is real_remove_contents
    for place in (src, to):  # what the killed move left in the lock of both places
        (place.parent / f".{place.name}.mambaboot-lock").write_text(json.dumps(body))
    assert src.is_dir() and not (src / "conda-meta").exists() and (src / proof.MARK).is_file()
    copy_before = snapshot(to)
    r = _remove(world, str(src), "--yes")
    assert r.returncode == 0, r.stderr
    assert f"finished: a move of {src} to {to} had verified; {src} was deleted" in r.stderr
    assert not src.exists() and snapshot(to) == copy_before
    assert sorted(p.name for p in world.envs.iterdir()) == ["copy"]


@pytest.mark.parametrize("stage", ["verified", "deleting-source"])
def test_a_moved_source_emptied_to_its_mark_before_its_rmdir_is_taken_by_rmdir_alone(world, stage):
    """Deleted in place (no set-aside named), the mark last: killed between the mark's unlink and the rmdir, the source
    is an empty directory with no mark. It holds nothing of anyone's (the `nothing lost` rule): the next run takes it by
    rmdir and finishes the move, where a refusal for want of its mark would refuse the place for ever."""
    from mambaboot.environment import settle

    src, to, body = _copied_move(world)
    body = {**body, "stage": stage}
    del body["aside"]
    shutil.rmtree(src)
    src.mkdir()
    copy_before = snapshot(to)
    done = settle.run(body, str(src), steps={})
    assert done == [f"finished: a move of {src} to {to} had verified; {src} was deleted"]
    assert sorted(p.name for p in world.envs.iterdir()) == ["copy"] and snapshot(to) == copy_before
    (src / "mine").mkdir(parents=True)  # not emptied: the user's, refused and left
    with pytest.raises(proof.NotOurs):
        settle.run(body, str(src), steps={})
    assert (src / "mine").is_dir()


def test_a_copy_emptied_to_its_mark_by_a_killed_put_back_is_taken_by_rmdir_alone(world):
    """Before `verified` a copied move is put back: its copy deleted through the copy's mark, the mark last. The
    settling run killed between the mark's unlink and the rmdir leaves the copy an empty directory with no mark; the
    next run takes it by rmdir alone (the `nothing lost` rule), where leaving it would make DST refuse every later move
    for ever ("already exists"). A copy with something in it and no mark is not the move's: left as it is."""
    from mambaboot.environment import settle

    src, to, body = _copied_move(world)
    shutil.rmtree(to)
    to.mkdir()  # what the killed put-back left of the copy
    ident = fileid.identity(os.lstat(to))
    body = {**body, "stage": "rewriting", "copy": f"{ident[0]}:{ident[1]}"}
    del body["aside"]
    source_before = {k: v for k, v in snapshot(src).items() if proof.MARK not in k}
    done = settle.run(body, str(src), steps={})
    assert done == [f"put back: a move of {src} to {to} did not verify; the copy was deleted and {src} is as it was"]
    assert sorted(p.name for p in world.envs.iterdir()) == ["moved"] and snapshot(src) == source_before
    (to / "mine").mkdir(parents=True)  # not emptied: not the move's, left as it is
    settle.run(body, str(src), steps={})
    assert (to / "mine").is_dir()


def test_the_mount_table_is_read_as_the_kernel_escapes_it():
    """proc(5): space, tab, newline and backslash in a mount point's path are written as \\ooo."""
    assert removal._unescape_mount("/mnt/a\\040b\\011c\\134d") == "/mnt/a b\tc\\d"
    assert removal._unescape_mount("/mnt/plain") == "/mnt/plain"
