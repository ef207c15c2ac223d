"""Rename to a name that must not exist, without ever replacing what is there.

os.rename cannot promise it on POSIX: rename(2) silently replaces an empty directory at the new name, and a check
before it leaves a window for another process (a second `move` there, a user's mkdir) to make one. So, best first:

- Linux: renameat2(RENAME_NOREPLACE) (glibc 2.28+; Linux 3.15+, where the file system supports the flag: ext4, xfs,
  btrfs, tmpfs do) fails with EEXIST instead, atomically.
- macOS: renameatx_np(RENAME_EXCL) (10.12+, <stdio.h>), the same on APFS and HFS+.
- Windows: os.rename (MoveFileExW without MOVEFILE_REPLACE_EXISTING) never replaces anything.
- Elsewhere, or where the file system refuses the flag: a directory's name is claimed with mkdir (which fails when
  anything is there), checked by identity, and the directory renamed onto that claim, the empty directory rename(2) may
  replace. Another process would have to delete our claim and make an empty directory of its own in its place: no one's
  data can be lost that way. A file is hard-linked to the name (link(2) never replaces), then unlinked.

rename_dir and rename_file take os.replace's arguments, dir_fds too (confined.Root.rename(how=) renames by either).
"""

from __future__ import annotations

import errno
import os
import sys

from mambaboot.common.files import fileid, renameat

_native = []  # [the no-replace rename or None], looked up once


def rename_dir(src: str, dst: str, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None) -> None:
    """Rename the directory src to dst (each relative to its dir_fd, if given, as os.rename takes
    them); FileExistsError when anything is at dst (nothing changed)."""
    if _natively(src, dst, src_dir_fd, dst_dir_fd):
        return

    def at_dst() -> tuple:
        return fileid.identity(os.stat(dst, dir_fd=dst_dir_fd, follow_symlinks=False))

    os.mkdir(dst, 0o700, dir_fd=dst_dir_fd)  # fails when anything is there: what is there then is this call's
    claim = at_dst()  # its identity, checked at the moment of taking it back
    try:
        os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
    except BaseException as exc:
        try:
            if at_dst() == claim:
                os.rmdir(dst, dir_fd=dst_dir_fd)  # our claim, still empty; never anything else
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):  # someone filled the claim
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst) from None
        raise


def rename_file(src: str, dst: str, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None) -> None:
    """Rename the file src to dst (as rename_dir); FileExistsError when anything is at dst (nothing changed)."""
    if not _natively(src, dst, src_dir_fd, dst_dir_fd):
        os.link(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
        os.unlink(src, dir_fd=src_dir_fd)


def _natively(src: str, dst: str, src_dir_fd: int | None = None, dst_dir_fd: int | None = None) -> bool:
    """Renamed by the system's own no-replace rename; False where there is none to be had."""
    if sys.platform == "win32":
        os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
        return True
    if not _native:
        _native.append(renameat.rename_with(renameat.NOREPLACE))
    code = _native[0] and _native[0](src, dst, src_dir_fd, dst_dir_fd)  # None: there is none
    if code == 0:
        return True
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), dst)
    if code is not None and code not in renameat.RENAME_UNSUPPORTED:
        raise OSError(code, os.strerror(code), src, None, dst)
    return False

