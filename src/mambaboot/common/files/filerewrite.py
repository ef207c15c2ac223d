"""Rewriting a user's file (an rc file, a profile) as it was read, or not at all.

- One read: what is kept, what is shown and the backup all come from the same bytes (Read).
- Nothing lost: just before the file is replaced, it is read again and compared with that
  read (device, inode, size, mtime and every byte); a file edited meanwhile is left as it is
  (ChangedMeanwhile). An edit in the microseconds between that comparison and the rename is the
  one window left: editors take no lock we could wait on.
- The file stays the user's: the new content is written to a sibling given the original's owner,
  group and mode (as root on a user's file too), synced, and renamed over it. A file with other
  hard links is rewritten in place instead (a rename would cut it off from them), as is one
  whose owner or group we may not give to a new file; the backup written first covers a crash
  half-way through such a write. Not so a file of an environment (keep_links=False): its other
  links are the package cache's, which must never change with it, so it always gets a new file.
- Only a regular file is read, never waited on (a fifo), never through a link at its name
  (common/files/confined.py).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import stat

from mambaboot.common.files import confined, removal, tempname

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class ChangedMeanwhile(OSError):
    """The file is not what was read any more; it was left as it is."""


class Read:
    """A file's bytes and its stat, from one open (path: no link at its end)."""

    def __init__(self, path: str, limit: int | None = None) -> None:
        """limit: refuse (EFBIG, an OSError) a file bigger than that many bytes, read no further."""
        self.path = path
        root, name = confined.split(path)
        with root, root.open_read(name) as f:
            self.stat = os.fstat(f.fileno())
            if limit is None:
                self.data = _read_all(f.fileno())
            else:
                self.data = confined.read_at_most(f, limit)
                if len(self.data) > limit:
                    raise OSError(errno.EFBIG, f"larger than {limit} bytes", path)

    def check(self, fd: int) -> None:
        """ChangedMeanwhile unless the open file fd still is what was read."""
        now, was = os.fstat(fd), self.stat
        os.lseek(fd, 0, os.SEEK_SET)
        # st_nlink too: a hard link made meanwhile would be cut off by the rename.
        if _stamp(now) != _stamp(was) or _read_all(fd) != self.data:
            raise ChangedMeanwhile(errno.EAGAIN, "changed while mambaboot was editing it (it is not what was read); "
                                   "nothing was changed in it, run again", self.path)


def _stamp(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_nlink)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def write_all(fd: int, data: bytes) -> None:
    """os.write until all of data is written (a write may take less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _OwnerRefused(Exception):
    pass


def _staged(path: str, data: bytes, like: os.stat_result, keep_owner: bool) -> str:
    """A synced sibling of path holding data (the run's temporary name: common/files/tempname.py),
    with like's owner, group and mode. keep_owner: _OwnerRefused when the owner or group cannot be
    given (else the file stays ours). In an environment, a kill before its rename leaves it for the
    next run of the place to collect (environment/settle.py); beside a user's shell startup file,
    for the next `doctor --undo-shell-init` to name (shell/shellinit.py)."""
    tmp = tempname.sibling(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        try:
            write_all(fd, data)
            if hasattr(os, "fchown"):
                try:
                    os.fchown(fd, like.st_uid, like.st_gid)  # before the mode: chown clears set-id bits
                except PermissionError:
                    if keep_owner:
                        raise _OwnerRefused() from None
            if hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(like.st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before Python 3.13
            os.chmod(tmp, stat.S_IMODE(like.st_mode))
    except BaseException:
        removal.unlink_quietly(tmp)
        raise
    return tmp


def write_copy(path: str, read: Read) -> None:
    """A new file at path holding what was read, owned and moded like the file it was read from."""
    tmp = _staged(path, read.data, read.stat, keep_owner=False)
    try:
        os.replace(tmp, path)
    except BaseException:
        removal.unlink_quietly(tmp)
        raise


def rewrite(read: Read, data: bytes, keep_links: bool = True) -> None:
    """Replace the contents of the file read came from with data, if it is unchanged since.
    keep_links=False: a new file whatever its link count (nor kept in place for its owner)."""
    if read.stat.st_nlink == 1 or not keep_links:
        try:
            tmp = _staged(read.path, data, read.stat, keep_owner=keep_links)
        except _OwnerRefused:
            pass
        else:
            try:
                fd = os.open(read.path, os.O_RDONLY | _NOFOLLOW)
                try:
                    read.check(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, read.path)
            except BaseException:
                removal.unlink_quietly(tmp)
                raise
            return
    fd = os.open(read.path, os.O_RDWR | _NOFOLLOW)
    try:
        read.check(fd)
        os.lseek(fd, 0, os.SEEK_SET)
        write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)
