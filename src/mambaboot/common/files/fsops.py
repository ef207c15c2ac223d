"""Small filesystem primitives with the guarantees the rest of the tool relies on.

- FileLock: an advisory inter-process lock (concurrent runs share one cache);
- hashing and naming: sha256 of data and files, fresh sibling names, path keys, identities.
Deleting a tree and replacing a file are the Root's (confined.py).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import stat
import sys

from mambaboot.common.files import confined
from mambaboot.common.files.confined import NotTheSame  # noqa: F401 (same_or_refuse raises it)
from mambaboot.common.files.removal import (BY_DESCRIPTOR, DIRECTORY_FLAGS, listing, remove_contents,  # noqa: F401
                                      remove_dir, unlink_at)


def user_mode(full: int) -> int:
    """full (0o777 or 0o666) narrowed by the user's umask, and never world-writable."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask & ~0o002


def unique_sibling(path: str, tag: str) -> str:
    """A fresh name beside path (tempfile costs ~9 ms to import; this is all we need of it)."""
    directory, base = os.path.split(path)
    return os.path.join(directory, f".{base}.{tag}-{os.urandom(6).hex()}")


def sibling_base(name: str, tag: str) -> str | None:
    """BASE when name is one unique_sibling gives (`.BASE.TAG-<12 hex>`), else None."""
    head, digits = name[:-12], name[-12:]
    suffix = f".{tag}-"
    if not (name.startswith(".") and head.endswith(suffix) and len(head) > len(suffix) + 1
            and len(digits) == 12 and all(c in "0123456789abcdef" for c in digits)):
        return None
    return head[1:-len(suffix)]


def unlink_quietly(path: str) -> None:
    """os.unlink(path), where a file already gone (or held open, on Windows) is no failure."""
    try:
        os.unlink(path)
    except OSError:
        pass


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
        while True:
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
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | (os.O_EXCL if new else 0), 0o666)
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
        fd = os.open(path, os.O_RDWR | _NOFOLLOW)
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


def make_dirs(path: str) -> list:
    """os.makedirs(path, exist_ok=True), saying which directories it made: [(path, (st_dev,
    st_ino))], outermost first, for remove_empty_dirs to take back what a run made."""
    missing = []
    here = os.path.abspath(path)
    while not os.path.isdir(here):
        missing.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    made = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
            continue  # another run made it: not ours to take back
        st = os.lstat(directory)
        made.append((directory, identity(st)))
    return made


def remove_empty_dirs(made: list) -> None:
    """Remove, innermost first, the directories make_dirs made that are empty now and still the
    ones it made (checked by identity just before: rmdir removes nothing but an empty directory,
    and never follows a link); stops at the first that stays."""
    for directory, expected in reversed(made):
        try:
            st = os.lstat(directory)
            if identity(st) != expected or not stat.S_ISDIR(st.st_mode):
                return
            os.rmdir(directory)
        except OSError:
            return


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


def identity(st: os.stat_result) -> tuple:
    """What a file is, whatever its name: (st_dev, st_ino). os.stat fills both on Windows too
    (from the file's handle); a directory listing's stat does not there (see LISTING_HAS_LINKS)."""
    return (st.st_dev, st.st_ino)


def make_dir(path: str, mode: int = 0o777) -> tuple:
    """mkdir, which fails when anything is at path (so what is there afterwards was made by this
    call), and the identity of what it made, for Root.remove_tree(expected=) to check at the moment of
    deletion."""
    os.mkdir(path, mode)
    return identity(os.lstat(path))


def same_or_refuse(path: str, st: os.stat_result, expected: tuple | None) -> None:
    """NotTheSame unless st (path's) is the directory with the identity expected (None: anything)."""
    if expected is not None and (identity(st) != expected or not stat.S_ISDIR(st.st_mode)):
        raise NotTheSame.at(path)


def within(path: str, directory: str) -> bool:
    """path, its links resolved, is directory or lies under it: compared by identity, ancestor by
    ancestor, so neither a link, nor another spelling, nor a bind mount of directory escapes."""
    try:
        target = identity(os.stat(directory))
    except OSError:
        return False
    here = os.path.realpath(path)
    while True:
        try:
            if identity(os.stat(here)) == target:
                return True
        except OSError:  # a part that does not exist yet (the file to be written)
            pass
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


_REPARSE = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


def _entry_is_link(entry: "os.DirEntry[str]") -> bool:
    # The entry's type comes with the listing (no system call on POSIX, none on Windows either,
    # where a junction shows as a directory with the reparse-point attribute).
    if entry.is_symlink():
        return True
    return sys.platform == "win32" and bool(getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0) & _REPARSE)


# On Windows a listing's stat has st_nlink, st_ino and st_dev set to zero (CPython's
# documentation of os.DirEntry.stat: "Call os.stat() to get these attributes"), so a file's
# other hard links (the package cache's) are invisible there unless the file itself is lstat'ed.
LISTING_HAS_LINKS = sys.platform != "win32"


def entry_lstat(entry: "os.DirEntry[str]") -> os.stat_result:
    """A listed entry's lstat with its link count and identity: the listing's own where it has
    them (POSIX: one lstat, cached by the entry), else the file's."""
    return entry.stat(follow_symlinks=False) if LISTING_HAS_LINKS else os.lstat(entry.path)


def _remove_file(path: str) -> None:
    unlink_at(path, None, False)


def stat_stamp(st: os.stat_result) -> str:
    """A file's identity and last change as memos in the cache keep them (device, inode, size,
    mtime, ctime): any write moves ctime, which no unprivileged process can set back."""
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def path_key(path: str) -> str:
    """32 hex digits naming a path in a flat directory of the cache (a pending marker, a given
    micromamba's memo): the same path, spelled in any case on Windows, gives the same key."""
    return sha256_hex(os.path.normcase(os.path.abspath(path)).encode("utf-8", "surrogateescape"))[:32]


def sha256_hex(data: bytes) -> str:
    """hashlib.sha256(data).hexdigest() for a few bytes (a path, a URL), without OpenSSL where the
    interpreter has its own sha256, the module hashlib falls back on: hashlib loads libcrypto and
    its configuration (~4 ms), and create needs a path's key before its engine starts."""
    try:
        from _sha2 import sha256  # CPython 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11 and earlier
        except ImportError:  # an interpreter built without them
            from hashlib import sha256
    return sha256(data).hexdigest()


def sha256_file(path: str) -> str:
    """A file's sha256: a regular file only (followed if a link: the user named it), never waited on."""
    with confined.open_named(path) as f:
        return file_digest(f, "sha256")


def file_digest(f, algo: str) -> str:
    """The hex digest of what is left to read in an open binary file, by chunks."""
    import hashlib  # loads OpenSSL (several times faster on megabytes): not at every command's start

    digest = hashlib.new(algo)
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def open_regular(path: str):
    """path opened for binary reading when it is a regular file, else None (not there, a link at its
    name, or a fifo, which is never waited on)."""
    try:
        directory, name = confined.split(path)
        with directory:
            return directory.open_read(name)
    except OSError:
        return None
