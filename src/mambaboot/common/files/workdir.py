"""A run's own work directory: a private HOME in CACHE/tmp, the scratch of a pip download, and
in the temporary directory a shell's start-up files, a pip lock's scratch, an output built for a
stream. Named by the run's temporary name (`mambaboot-tmp-<TOKEN>-<KIND>`:
common/files/tempname.py), each holds, for whoever finds it after a kill:

- its lock file beside it (`NAME.lock`, holding the token), taken before the directory exists
  and held until it is gone: a held lock is a live run;
- MARKER, a regular file of the user's: a directory without it is not looked at;
- the mark (common/files/proof.py) of its lock file's token, for the role proof.HOME.

A work directory whose run is gone is deleted (`cache clean`: in CACHE/tmp and the temporary
directory) only when it is a directory of the user's, reached through no link, holding MARKER,
its lock file free (or missing: nothing is deleted then, the mark proves nothing without it),
and carrying the mark of the token its lock file and its name hold: a directory of that name
that someone else put into a shared cache or /tmp is never deleted. One of the user's that
cannot prove itself so (bootstrap.ps1's and bootstrap.bat's, which write no mark; a run killed
before its mark; a mark of another token) is named, with the command that deletes it by hand,
as git names a stale index.lock: `cache clean` leaves it, and `doctor` names both kinds.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.files import confined, fileid, filelock, proof, removal, tempname

# Written into each work directory as it is made: `cache clean` looks only at one that holds it
# (a regular file, the user's own, as the directory itself).
MARKER = ".mambaboot-home"
LOCK = ".lock"
# The kind of a bootstrap script's work directory (bootstrap/*): no lock, no mark, so never
# proven, and live or not no one can tell.
BOOTSTRAP = "bootstrap"
_TOKEN_LIMIT = 64


def owner_lock(path: str) -> str:
    """Held for as long as the run that owns the work directory lives: `cache clean` tells stale ones by it."""
    return path + LOCK


class WorkDir:
    """with WorkDir(parent, kind) as path: a new work directory of this run in parent, removed at
    the end. A plain class, not contextlib's generator: contextlib imports functools and
    collections, ~3 ms of create's start-up (measured with -X importtime)."""

    def __init__(self, parent: str, kind: str) -> None:
        self.path = os.path.join(parent, tempname.work_name(kind))
        self.lock = None

    def __enter__(self) -> str:
        # Locked before the directory exists and until it is gone, so no live one is ever unlocked.
        # Transient: the lock file, and the parent when this run made it, go with the directory.
        lock = filelock.FileLock(owner_lock(self.path), new=True, transient=True)
        lock.__enter__()
        self.lock, self.token = lock, tempname.run_token()
        try:
            os.write(lock.fileno(), self.token.encode("ascii"))
            parent, name = confined.split(self.path)  # the parent, which the lock made
        except BaseException:
            lock.__exit__(None, None, None)
            raise
        with parent:
            try:
                parent.mkdir(name, 0o700)
            except BaseException:
                lock.__exit__(None, None, None)
                raise
            try:
                parent.write_new(f"{name}/{MARKER}", b"a work directory mambaboot made for one run; deleted after it\n",
                                 0o600)
                with parent.sub(name) as here:
                    proof.write_mark(here, self.token, proof.HOME)
            except BaseException:
                self.__exit__()
                raise
        return self.path

    def __exit__(self, *exc) -> None:
        try:
            proof.remove_marked(self.path, self.token, "made it as a work directory", proof.HOME)
        except FileNotFoundError:
            pass
        finally:
            self.lock.__exit__(None, None, None)


class Stale:
    """A work directory whose run is gone: its path, what was seen of it (guarded.Seen; None: only
    its lock file is left, or proven False), whether its lock file is there (free, a regular file
    of ours), and whether it proves itself ours (False: it is named, never deleted)."""

    def __init__(self, path: str, seen, lock: bool, proven: bool = True) -> None:
        self.path, self.seen, self.lock, self.proven = path, seen, lock, proven

    def unproven(self) -> tuple:
        """(why, what clears it): the words for a stale work directory that proves nothing."""
        if tempname.parse_temp(os.path.basename(self.path))[2] == BOOTSTRAP:
            return (f"{self.path} is a bootstrap script's work directory, left by a script that was killed or that "
                    "is still running (a bootstrap script takes no lock, so nothing tells which): it was left as it is",
                    f"delete it yourself once no bootstrap script is running: `{removal.by_hand(self.path)}`")
        return (f"{self.path} is named as a work directory of a mambaboot run that is gone, but nothing in it "
                "proves mambaboot made it for the token its name holds (a run killed before it wrote its mark, "
                "or another's): it was left as it is",
                f"delete it yourself when no mambaboot or bootstrap run is going: `{removal.by_hand(self.path)}`")


def _work(name: str) -> bool:
    found = tempname.parse_temp(name)
    return found is not None and found[0] is None and found[2] is not None


def stale(parent: str) -> list:
    """The work directories in parent whose run is gone: named so, reached through no link (parent
    included), the user's own, whose lock file is missing or free. Proven: holding MARKER (a
    regular file, the user's own too) and the mark of the token its name and its lock file hold;
    the others are only named. Anything else named so (one of another user's in a shared or linked
    parent among them) is not ours to judge."""
    from mambaboot.common.files import guarded

    by_fd = removal.BY_DESCRIPTOR
    try:
        fd = os.open(parent, removal.DIRECTORY_FLAGS) if by_fd else None
        if fd is None and (fileid.is_link(parent) or not os.path.isdir(parent)):  # pragma: no cover - Windows
            return []
    except OSError:  # missing, or a link: O_NOFOLLOW
        return []
    try:
        names = os.listdir(fd if by_fd else parent)
        dirs = sorted(n for n in names if _work(n))
        found = []
        for name in dirs:
            seen = _seen(parent, fd, name, guarded)
            lock = _lock_state(parent, fd, name + LOCK) if seen is not None or _directory(parent, fd, name) else None
            if lock not in ("missing", "free"):
                continue
            path = os.path.join(parent, name)
            if seen is not None and _proven(seen, lock == "free"):
                found.append(Stale(path, seen, lock == "free"))
            else:
                found.append(Stale(path, None, lock == "free", proven=False))
        for name in names:  # a lock whose directory is gone: a run killed between the two deletions
            directory = name[: -len(LOCK)]
            if name.endswith(LOCK) and _work(directory) and directory not in dirs \
                    and _lock_state(parent, fd, name) == "free":
                found.append(Stale(os.path.join(parent, directory), None, True))
        return sorted(found, key=lambda s: s.path)
    finally:
        if fd is not None:
            os.close(fd)


def _lstat(name: str, fd, base: str) -> os.stat_result:
    return os.stat(name, dir_fd=fd, follow_symlinks=False) if fd is not None else os.lstat(os.path.join(base, name))


def _seen(parent: str, fd, name: str, guarded):
    path = os.path.join(parent, name)
    try:
        if fd is not None:
            here = os.open(name, removal.DIRECTORY_FLAGS, dir_fd=fd)  # a link is not followed
            try:
                st, mark = os.fstat(here), _lstat(MARKER, here, path)
            finally:
                os.close(here)
        else:  # pragma: no cover - Windows
            if fileid.is_link(path):
                return None
            st, mark = os.lstat(path), os.lstat(os.path.join(path, MARKER))
    except OSError:
        return None
    if not (stat.S_ISDIR(st.st_mode) and stat.S_ISREG(mark.st_mode) and fileid.ours(st) and fileid.ours(mark)):
        return None
    return guarded.Seen(path, fileid.identity(st), MARKER, fileid.identity(mark))


def _directory(parent: str, fd, name: str) -> bool:
    """A directory of the user's at name, not a link (nor a junction)."""
    try:
        st = _lstat(name, fd, parent)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and not fileid.is_link_stat(st) and fileid.ours(st)


def _proven(seen, lock: bool) -> bool:
    """Whether the directory seen carries the mark of the token its lock file (there: lock) and its
    name hold, and is still the one seen."""
    token = _token(seen.path) if lock else None
    if token is None:
        return False
    try:
        with proof.place(seen.path) as root:
            return proof.holds_mark(root, token, proof.HOME) and tuple(root.identity) == tuple(seen.directory)
    except OSError:
        return False


def _lock_state(parent: str, fd, name: str) -> str:
    """missing | free | held | foreign (not a regular file of ours: never taken for a lock)."""
    from mambaboot.common.errors import TargetRefused

    try:
        st = _lstat(name, fd, parent)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "foreign"
    if not stat.S_ISREG(st.st_mode) or not fileid.ours(st):
        return "foreign"
    try:
        return "held" if filelock.held(os.path.join(parent, name)) else "free"
    except TargetRefused:  # made a link since
        return "foreign"


def _token(path: str) -> str | None:
    """The token a work directory's lock file holds (WorkDir wrote it there) when its name holds
    it too, else None."""
    try:
        data = confined.read_file(owner_lock(path), _TOKEN_LIMIT)
    except OSError:
        return None
    text = data.decode("ascii", "replace").strip()
    found = tempname.parse_temp(os.path.basename(path))
    return text if proof.is_token(text) and found is not None and found[1] == text else None


def remove_stale(found: Stale) -> bool:
    """Delete a stale work directory (and its lock file) if it still is the one stale() saw;
    False: it is not (replaced, or linked, meanwhile, or unproven), and nothing of it was deleted."""
    if not found.proven:
        return False
    if found.seen is not None:
        token = _token(found.path) if found.lock else None
        try:
            proof.remove_marked(found.path, token, "made it as a work directory", proof.HOME,
                                expected=found.seen.directory)
        except proof.NotOurs:
            return False
    if found.lock:
        removal.unlink_quietly(owner_lock(found.path))
    return True
