"""Small filesystem primitives with the guarantees the rest of the tool relies on.

- atomic_write: readers see the old file or the whole new one, never half of it;
- FileLock: an advisory inter-process lock (concurrent runs share one cache);
- remove_tree: deletes a tree we own without ever following a link out of it.
"""

import errno
import hashlib
import os
import stat
import sys
from typing import Optional


def user_mode(full: int) -> int:
    """full (0o777 or 0o666) narrowed by the user's umask, and never world-writable."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask & ~0o002


def unique_sibling(path: str, tag: str) -> str:
    """A fresh name beside path (tempfile costs ~9 ms to import; this is all we need of it)."""
    directory, base = os.path.split(path)
    return os.path.join(directory, f".{base}.{tag}-{os.urandom(6).hex()}")


def make_private_dir(parent: str, prefix: str) -> str:
    os.makedirs(parent, exist_ok=True)
    path = os.path.join(parent, prefix + os.urandom(6).hex())
    os.mkdir(path, 0o700)
    return path


def atomic_write(path: str, data: bytes, mode: Optional[int] = None) -> None:
    tmp = unique_sibling(path, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Busy(Exception):
    """A non-blocking FileLock is held by another process."""


class FileLock:
    """Exclusive advisory lock on a lock file; the file itself stays. The OS drops the lock
    when its holder dies, so a killed run never leaves a stale lock behind.

    blocking=False raises Busy at once instead of waiting.
    """

    def __init__(self, path: str, blocking: bool = True):
        self.path = path
        self.blocking = blocking
        self._fd: Optional[int] = None

    def __enter__(self) -> "FileLock":
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _lock(fd, self.blocking)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI
    import msvcrt

    def _lock(fd: int, blocking: bool) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
                return
            except OSError as exc:  # LK_LOCK gives up after ~10 s; keep waiting like flock does
                if not blocking:
                    raise Busy(str(exc)) from None
                if exc.errno != errno.EDEADLOCK:
                    raise

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, blocking: bool) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("held by another process") from None

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def is_link(path: str) -> bool:
    """A symlink, or on Windows a junction: both must be unlinked, never descended into."""
    if os.path.islink(path):
        return True
    isjunction = getattr(os.path, "isjunction", None)  # Python 3.12+
    if isjunction is not None:
        return isjunction(path)
    try:
        st = os.lstat(path)
    except OSError:
        return False
    reparse = getattr(st, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return bool(reparse)


def remove_link(path: str) -> None:
    """Remove a symlink or junction itself (a junction is removed like an empty directory)."""
    try:
        os.unlink(path)
    except (IsADirectoryError, PermissionError):
        os.rmdir(path)


def remove_tree(path: str) -> None:
    """Delete a directory tree we own. Links inside (PREFIX/pkgs -> cache) are removed, never
    followed; read-only files (common on Windows) are made writable first."""
    if is_link(path):
        remove_link(path)
        return
    with os.scandir(path) as entries:
        children = [entry.path for entry in entries]
    for child in children:
        remove_any(child)
    try:
        os.rmdir(path)
    except PermissionError:
        os.chmod(path, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        os.rmdir(path)


def remove_any(path: str) -> None:
    """Remove a link, a file or a whole directory tree, never following a link."""
    if is_link(path):
        remove_link(path)
    elif os.path.isdir(path):
        remove_tree(path)
    else:
        _remove_file(path)


def _remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except PermissionError:
        os.chmod(path, stat.S_IWRITE | stat.S_IREAD)
        os.unlink(path)


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
