"""The system's rename with a flag, where it has one: renameat2 on Linux (3.15+, glibc 2.28+; the
file system must take the flag: ext4, xfs, btrfs, tmpfs do), renameatx_np on macOS (10.12+,
<stdio.h>). Two flags: one that never replaces (RENAME_NOREPLACE, RENAME_EXCL: common/files/noreplace.py)
and one that swaps two names at once (RENAME_EXCHANGE, RENAME_SWAP: relocate/rewrite.py).

Reached through _ctypes alone: the ctypes package around it (its ~50 type classes, struct, types)
costs create ~2 ms before its engine starts, for one call. What it would do is done here:
CDLL(None) is _ctypes.dlopen(None, RTLD_LOCAL), its default mode, and a lookup of the name by
dlsym; a function is a CFuncPtr subclass with its calling convention in _flags_ (cdecl, errno
saved for get_errno) and its return type in _restype_ (Lib/ctypes/__init__.py, CDLL, CFUNCTYPE and
c_int). Without argtypes, bytes pass as char * and ints as int, which renameat2 and renameatx_np
take (int, const char *, int, const char *, unsigned int).

Standard library only, and nothing from mambaboot: pack's unpack script carries this module."""

import errno
import os
import sys

NOREPLACE = "noreplace"
EXCHANGE = "exchange"
# errno of a call or a flag the system or the file system does not have
RENAME_UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EINVAL), errno.EOPNOTSUPP)
_RENAME_AT_CWD = -2 if sys.platform == "darwin" else -100  # macOS sys/fcntl.h, linux/fcntl.h
# the call and its flags: linux/fs.h (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2), macOS sys/stdio.h
# (RENAME_EXCL 4, RENAME_SWAP 2)
_RENAME_CALLS = {"linux": ("renameat2", {NOREPLACE: 1, EXCHANGE: 2}),
                 "darwin": ("renameatx_np", {NOREPLACE: 4, EXCHANGE: 2})}
_rename_found = []  # [the system's call or None], looked up once


def rename_with(how):
    """A function (src, dst, src_dir_fd, dst_dir_fd) -> 0, or the errno it failed with, renaming
    with the flag how names (NOREPLACE, EXCHANGE); None where the system has no such call."""
    if not _rename_found:
        _rename_found.append(_rename_look_up())
    call = _rename_found[0]
    if call is None:
        return None
    flag = _RENAME_CALLS["linux" if sys.platform.startswith("linux") else sys.platform][1][how]
    import _ctypes

    def rename(src, dst, src_dir_fd=None, dst_dir_fd=None):
        at = [_RENAME_AT_CWD if fd is None else fd for fd in (src_dir_fd, dst_dir_fd)]
        if call(at[0], os.fsencode(src), at[1], os.fsencode(dst), flag) == 0:
            return 0
        return _ctypes.get_errno()

    return rename


def _rename_look_up():
    name = _RENAME_CALLS.get("linux" if sys.platform.startswith("linux") else sys.platform, (None,))[0]
    if not name:
        return None
    try:
        import _ctypes

        address = _ctypes.dlsym(_ctypes.dlopen(None, _ctypes.RTLD_LOCAL), name)
    except (ImportError, OSError, AttributeError):
        return None

    class Int(_ctypes._SimpleCData):
        _type_ = "i"

    class Call(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = Int

    return Call(address)
