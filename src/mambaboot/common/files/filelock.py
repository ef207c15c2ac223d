"""An advisory inter-process lock on a lock file: concurrent runs share one cache, and a run's
private places are held while it lives."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import sys

from mambaboot.common.errors import TargetRefused
from mambaboot.common.files.fileid import identity, is_link
from mambaboot.common.files.confined import NOT_FOR_OTHERS
from mambaboot.common.files.newdirs import make_dirs, remove_empty_dirs
from mambaboot.common.files.removal import unlink_quietly

# Each try that finds no file after O_CREAT follows a directory or a lock file taken away by another run in between: a
# few in a row are a race, this many a place where no file can be made (/proc answers O_CREAT with ENOENT): refused.
RETRIES = 100
# rw for the owner and the group, never for everyone whatever the umask: a lock file anyone may write anyone may fill
LOCK_MODE = 0o666 & ~NOT_FOR_OTHERS
_WINDOWS = sys.platform == "win32"


class FileLock:
    """Exclusive advisory lock on a lock file, blocking until taken (blocking=False: BlockingIOError while another
    process holds it). offset: only that byte, as libmamba locks a package cache's pkgs.lock (a POSIX record lock, never in
    conflict with a whole-file flock). new: the file must not exist yet. A link in its place is refused, never followed.
    transient: the lock file, and the directories made for it that are empty then, go with the lock: on POSIX unlinked
    while still locked, a lock taken kept only if the path still names the file locked (two runs never both hold one);
    on Windows, where a file open elsewhere cannot be deleted, once closed."""

    def __init__(self, path: str, blocking: bool = True, offset: int | None = None, new: bool = False,
                 transient: bool = False):
        self.path, self.blocking, self.offset, self.new, self.transient = path, blocking, offset, new, transient
        self._fd, self._made = None, []

    def __enter__(self) -> "FileLock":
        for _ in range(RETRIES):
            made = make_dirs(os.path.dirname(self.path) or ".")
            self._made = self._made or made
            try:
                fd = _open(self.path, self.new)
            except FileNotFoundError:  # its directory was removed (a transient lock's) meanwhile
                continue
            try:
                _lock(fd, self.blocking, self.offset)
                if not self.transient or _WINDOWS or identity(os.stat(self.path)) == identity(os.fstat(fd)):
                    self._fd = fd
                    return self
            except FileNotFoundError:  # a transient lock's file unlinked by its holder since it was opened
                pass
            except BaseException:
                os.close(fd)
                raise
            _unlock(fd, self.offset)
            os.close(fd)
        raise TargetRefused(f"cannot make the lock file {self.path}: after {RETRIES} tries it is still not there "
                            "(a file system that makes no files there, such as /proc, or a directory removed as "
                            "fast as it is made); name a place on an ordinary disk")

    def fileno(self) -> int:
        """The locked file's descriptor, while held: on Windows the locked byte is written only through it."""
        assert self._fd is not None
        return self._fd

    def __exit__(self, *exc) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self.transient and not _WINDOWS:
                unlink_quietly(self.path)
        finally:
            _unlock(fd, self.offset)
            os.close(fd)
        if self.transient:
            if _WINDOWS:
                unlink_quietly(self.path)
            remove_empty_dirs(self._made)


def _open(path: str, new: bool = False, create: bool = True) -> int:
    """The lock file at path, made if missing and create (new: made, or FileExistsError), never a link."""
    try:
        if not _WINDOWS:
            return os.open(path, os.O_RDWR | os.O_NOFOLLOW | (os.O_CREAT if create else 0) | (os.O_EXCL if new else 0),
                           LOCK_MODE)
        if not is_link(path):  # pragma: no cover - no O_NOFOLLOW: ask first, then open a link made since as itself
            return _open_shared(path, new, create)
    except OSError as exc:
        # O_NOFOLLOW on a link: ELOOP (Linux, macOS), EMLINK (FreeBSD), EFTYPE (NetBSD).
        if exc.errno in (errno.EEXIST, errno.EISDIR) or not is_link(path):
            raise
    raise TargetRefused(f"{path} is a link; a lock file is never opened through one (that would create or lock "
                        "the file it names): remove the link")


def hold(fd: int) -> None:
    """Lock the file open at fd, a file this process has just made, until fd is closed (BlockingIOError if another
    holds it): the file is its own lock, as a writer's temporary is (common/files/leftovers.py writer_gone)."""
    _lock(fd, False)


def held(path: str) -> bool:
    """True while some process holds the lock on path (a missing file is held by nobody).
    Looks without creating the file: a lock its holder took away is not made again here."""
    try:
        fd = _open(path, create=False)
    except FileNotFoundError:
        return False
    try:
        _lock(fd, False)
        _unlock(fd)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


if _WINDOWS:  # pragma: no cover - exercised on Windows CI
    import msvcrt

    def _lock(fd: int, blocking: bool = True, offset: int | None = None) -> None:
        os.lseek(fd, offset or 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
                return
            except OSError as exc:  # LK_LOCK gives up after ~10 s; keep waiting like flock does
                if not blocking:
                    raise BlockingIOError(exc.errno, f"{exc.strerror} (locked by another process)") from None
                if exc.errno != errno.EDEADLOCK:
                    raise

    def _unlock(fd: int, offset: int | None = None) -> None:
        os.lseek(fd, offset or 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _open_shared(path: str, new: bool, create: bool) -> int:
        """As os.open opens it (read and write, sharing both), through CreateFile (Microsoft Learn,
        "CreateFileW function"): FILE_FLAG_OPEN_REPARSE_POINT opens a link made since as itself."""
        import _winapi

        how = 1 if new else 4 if create else 3  # CREATE_NEW, OPEN_ALWAYS, OPEN_EXISTING
        # FILE_SHARE_READ | FILE_SHARE_WRITE; FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT
        handle = _winapi.CreateFile(path, _winapi.GENERIC_READ | _winapi.GENERIC_WRITE, 0x1 | 0x2, 0, how,
                                    0x80 | 0x00200000, 0)
        return msvcrt.open_osfhandle(handle, os.O_RDWR)

else:
    import fcntl

    def _lock(fd: int, blocking: bool = True, offset: int | None = None) -> None:
        mode = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
        fcntl.flock(fd, mode) if offset is None else fcntl.lockf(fd, mode, 1, offset)

    def _unlock(fd: int, offset: int | None = None) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN) if offset is None else fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
