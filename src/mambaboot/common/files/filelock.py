"""An advisory inter-process lock on a lock file: concurrent runs share one cache, and a run's
private places are held while it lives."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import sys

from mambaboot.common.files.fileid import identity, is_link
from mambaboot.common.files.confined import NOT_FOR_OTHERS
from mambaboot.common.files.newdirs import make_dirs, remove_empty_dirs
from mambaboot.common.files.removal import unlink_quietly


# Each try that finds no file after O_CREAT follows a directory or a lock file taken away by another
# run in between: a few in a row are a race, this many a place where no file can be made (/proc
# answers O_CREAT with ENOENT), and the lock is refused rather than tried for ever.
RETRIES = 100
# rw for the owner and the group, never for everyone whatever the umask (confined.NOT_FOR_OTHERS):
# a lock file anyone may write is one anyone may fill
LOCK_MODE = 0o666 & ~NOT_FOR_OTHERS


class FileLock:
    """Exclusive advisory lock on a lock file; blocks until acquired.

    Non-blocking (blocking=False), entering raises BlockingIOError while another process holds it.
    With offset, only that byte is locked, the way libmamba locks a package cache's pkgs.lock
    (a POSIX record lock there, which never conflicts with a whole-file flock). new: the file
    must not exist yet (a lock of a fresh name: nobody else's file is taken for it).

    A link in the lock file's place is refused (TargetRefused), never followed: opening it with
    O_CREAT would create whatever file it names, wherever that is.

    The file stays, unless transient=True: then the lock file, and the directories made for it
    that are empty then, go when the lock is released, so that a run leaves no lock behind.
    On POSIX the file is unlinked while still locked, and a lock taken is kept only if the path
    still names the file locked (else the file was unlinked meanwhile by its holder, and the
    lock is taken again on the file now there): two runs never both hold one. On Windows, where
    a file open elsewhere cannot be deleted, it is deleted after it is closed, when no other run
    has it open.
    """

    def __init__(self, path: str, blocking: bool = True, offset: int | None = None, new: bool = False,
                 transient: bool = False):
        self.path = path
        self.blocking = blocking
        self.offset = offset
        self.new = new
        self.transient = transient
        self._fd: int | None = None
        self._made: list = []

    def __enter__(self) -> "FileLock":
        for _ in range(RETRIES):
            made = make_dirs(os.path.dirname(self.path) or ".")
            self._made = self._made or made
            try:
                fd = open_lock_file(self.path, self.new)
            except FileNotFoundError:  # its directory was removed (a transient lock's) meanwhile
                continue
            try:
                _lock(fd, self.blocking, self.offset)
                if self.transient and not _WINDOWS and not _same_file(fd, self.path):
                    _unlock(fd, self.offset)
                    os.close(fd)
                    continue
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return self
        from mambaboot.common.errors import TargetRefused

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


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return identity(st) == identity(mine)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_lock_file(path: str, new: bool = False) -> int:
    """A descriptor of the lock file at path, made if missing (new: made, or FileExistsError)."""
    if not _NOFOLLOW and is_link(path):  # pragma: no cover - Windows: no O_NOFOLLOW, ask first
        raise _link_refused(path)
    if _WINDOWS:
        return _open_shared(path, new)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | (os.O_EXCL if new else 0), LOCK_MODE)
    except OSError as exc:
        # O_NOFOLLOW on a link: ELOOP (Linux, macOS), EMLINK (FreeBSD), EFTYPE (NetBSD).
        if exc.errno not in (errno.EEXIST, errno.EISDIR) and is_link(path):
            raise _link_refused(path) from None
        raise


def _link_refused(path: str) -> Exception:
    from mambaboot.common.errors import TargetRefused

    return TargetRefused(f"{path} is a link; a lock file is never opened through one (that would create or lock "
                         "the file it names): remove the link")


def held(path: str) -> bool:
    """True while some process holds the lock on path (a missing file is held by nobody).
    Looks without creating the file: a lock its holder took away is not made again here."""
    try:
        fd = _open_shared(path, False, create=False) if _WINDOWS else os.open(path, os.O_RDWR | _NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno != errno.EISDIR and is_link(path):
            raise _link_refused(path) from None
        raise
    try:
        try:
            _lock(fd, False)
        except BlockingIOError:
            return True
        _unlock(fd)
        return False
    finally:
        os.close(fd)


_WINDOWS = sys.platform == "win32"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI
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

    # CreateFile's share modes and dispositions (Microsoft Learn, "CreateFileW function")
    _SHARE_READ_WRITE, _CREATE_NEW, _OPEN_EXISTING, _OPEN_ALWAYS = 0x1 | 0x2, 1, 3, 4

    def _open_shared(path: str, new: bool, create: bool = True) -> int:
        """The lock file opened as os.open opens it on Windows (read and write, sharing read and
        write), through CreateFile, whose FILE_FLAG_OPEN_REPARSE_POINT opens a link made since
        is_link looked as itself, never followed (Windows has no O_NOFOLLOW)."""
        import _winapi

        how = _CREATE_NEW if new else _OPEN_ALWAYS if create else _OPEN_EXISTING
        # FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT
        handle = _winapi.CreateFile(path, _winapi.GENERIC_READ | _winapi.GENERIC_WRITE, _SHARE_READ_WRITE, 0, how,
                                    0x80 | 0x00200000, 0)
        return msvcrt.open_osfhandle(handle, os.O_RDWR)

else:
    import fcntl

    def _lock(fd: int, blocking: bool = True, offset: int | None = None) -> None:
        mode = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
        if offset is None:
            fcntl.flock(fd, mode)
        else:
            fcntl.lockf(fd, mode, 1, offset)

    def _unlock(fd: int, offset: int | None = None) -> None:
        if offset is None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
