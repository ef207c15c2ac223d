"""An environment as a gzip-compressed tar archive, for `pack`: the bytes tarfile writes in its GNU
format (tarfile.TarFile.add, TarInfo.create_gnu_header, 3.9-3.14), without tarfile's work per
file (a TarInfo built and copied, the owner's names looked up again, the content copied 16 KiB at
a time through gzip's Python layer): each header is made here, headers and contents gather into
pieces of about a MiB, and zlib compresses each piece and writes the gzip container itself
(wbits 31). Most of pack's time is then the compression's (docs/benchmarks.md).

Members: directories (their names ending in '/'), regular files, symbolic links as links, a file
hard-linked to one already in the archive as a link to it (tarfile's rule: same inode and device);
names and link targets longer than 100 bytes through GNU's ././@LongLink records; numbers past
their octal fields in GNU's base-256. Every file is read through the file layer
(common/files/confined.py): never through a link, a regular file only.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat
import zlib

from mambaboot.common.errors import NotPortable

BLOCK = 512
RECORD = 20 * BLOCK  # tarfile.RECORDSIZE: the archive's length is a multiple of it
_PIECE = 1 << 20
_GNU_MAGIC = b"ustar  \0"
_REGULAR, _HARDLINK, _SYMLINK, _DIRECTORY = b"0", b"1", b"2", b"5"
_LONG_NAME, _LONG_LINK = b"L", b"K"
_GZIP = 31  # zlib's wbits for a gzip header and trailer around the deflate stream


def _number(n: int, digits: int) -> bytes:
    """tarfile.itn in GNU format: octal, or base-256 (a leading 0o200 or 0o377) past it."""
    if 0 <= n < 8 ** (digits - 1):
        return b"%0*o\0" % (digits - 1, n)
    if not -256 ** (digits - 1) <= n < 256 ** (digits - 1):
        raise ValueError("overflow in number field")
    return (b"\x80" if n >= 0 else b"\xff") + (n % 256 ** (digits - 1)).to_bytes(digits - 1, "big")


def _text(data: bytes, length: int) -> bytes:
    return data[:length] + bytes(length - len(data[:length]))


def _byte_sum(data: bytes) -> int:
    """The sum of data's bytes, at most 256 of them: Adler-32's first half is 1 + that sum modulo
    65521, which 256 bytes cannot reach (RFC 1950 8.2), and zlib adds in C what sum() would box
    byte by byte."""
    return (zlib.adler32(data) & 0xFFFF) - 1


_NO_DEVICE = bytes(16 + 155 + 12)  # devmajor, devminor, prefix: empty, as tarfile writes them; the block's end


def _block(name: bytes, mode: int, owner: bytes, size: int, mtime: int, kind: bytes, link: bytes,
           names: bytes) -> bytes:
    """One header block, as tarfile's TarInfo._create_header makes it (no device fields). owner: the
    uid and gid fields; names: the magic, uname and gname fields."""
    head = b"".join((_text(name, 100), _number(mode & 0o7777, 8), owner, _number(size, 12), _number(mtime, 12),
                     b"        ", kind, _text(link, 100), names, _NO_DEVICE))
    checksum = _byte_sum(head[:256]) + _byte_sum(head[256:])  # the checksum field counted as 8 spaces
    return head[:148] + b"%06o\0" % checksum + head[155:]


_LONG_OWNER = _number(0, 8) * 2
_LONG_NAMES = _GNU_MAGIC + bytes(64)


def _long(data: bytes, kind: bytes) -> bytes:
    """A ././@LongLink record holding data (a name or a link target past 100 bytes), then its blocks."""
    data += b"\0"
    return (_block(b"././@LongLink", 0, _LONG_OWNER, len(data), 0, kind, b"", _LONG_NAMES)
            + data + bytes(-len(data) % BLOCK))


def header(name: str, st_mode: int, uid: int, gid: int, size: int, mtime: float, kind: bytes, link: str = "",
           uname: str = "", gname: str = "") -> bytes:
    """A member's header blocks in GNU format (TarInfo.create_gnu_header), names in the file system's
    encoding with surrogate escapes, as tarfile writes them on POSIX."""
    return _header(name, st_mode, _owner(uid, gid, uname, gname), size, mtime, kind, link)


def _owner(uid: int, gid: int, uname: str, gname: str) -> tuple:
    return (_number(uid, 8) + _number(gid, 8),
            _GNU_MAGIC + _text(os.fsencode(uname), 32) + _text(os.fsencode(gname), 32))


def _header(name: str, st_mode: int, owner: tuple, size: int, mtime: float, kind: bytes, link: str = "") -> bytes:
    raw = os.fsencode(name + "/" if kind == _DIRECTORY and not name.endswith("/") else name)
    target = os.fsencode(link) if link else b""
    blocks = _long(target, _LONG_LINK) if len(target) > 100 else b""
    if len(raw) > 100:
        blocks += _long(raw, _LONG_NAME)
    return blocks + _block(raw, st_mode, owner[0], size, int(mtime), kind, target, owner[1])


def _looked_up(module: str, call: str, number: int) -> str:
    try:
        return getattr(__import__(module), call)(number)[0]
    except (ImportError, KeyError):
        return ""


class Writer:
    """The archive, written compressed into out (a binary file)."""

    def __init__(self, out, level: int) -> None:
        self.out = out
        self.zip = zlib.compressobj(level, zlib.DEFLATED, _GZIP)
        self.pending = bytearray()
        self.offset = 0  # bytes of the tar stream so far
        self.owners: dict = {}  # (uid, gid) -> their header fields, the names looked up once, as tarfile looks them up
        self.linked: dict = {}  # (inode, device) -> the name it was archived as

    def _put(self, *pieces) -> None:
        for data in pieces:
            self.pending += data
            self.offset += len(data)
        if len(self.pending) >= _PIECE:
            self.out.write(self.zip.compress(self.pending))
            self.pending.clear()

    def add(self, root, rel: str, name: str, st: os.stat_result) -> None:
        """The entry rel of the confined Root root, lstat st, as the member name."""
        mode = st.st_mode
        owner = self.owners.get((st.st_uid, st.st_gid))
        if owner is None:
            owner = self.owners[(st.st_uid, st.st_gid)] = _owner(
                st.st_uid, st.st_gid, _looked_up("pwd", "getpwuid", st.st_uid), _looked_up("grp", "getgrgid", st.st_gid))
        if stat.S_ISDIR(mode):
            self._put(_header(name, mode, owner, 0, st.st_mtime, _DIRECTORY))
        elif stat.S_ISLNK(mode):
            self._put(_header(name, mode, owner, 0, st.st_mtime, _SYMLINK, root.readlink(rel)))
        elif stat.S_ISREG(mode):
            inode = (st.st_ino, st.st_dev)
            if st.st_nlink > 1 and inode in self.linked and self.linked[inode] != name:
                self._put(_header(name, mode, owner, 0, st.st_mtime, _HARDLINK, self.linked[inode]))
                return
            if inode[0]:
                self.linked[inode] = name
            self._content(root, rel, _header(name, mode, owner, st.st_size, st.st_mtime, _REGULAR), st.st_size)
        else:
            raise NotPortable(f"{root.where(rel)} is neither a file, a directory nor a link (it appeared while the "
                              "environment was packed); nothing was written")

    def _content(self, root, rel: str, head: bytes, size: int) -> None:
        left = size
        with root.open_read(rel) as f:
            while left or head:
                data = f.read(min(left, _PIECE)) if left else b""
                if left and not data:
                    raise NotPortable(f"{root.where(rel)} became shorter while the environment was packed; "
                                      "nothing was written")
                left -= len(data)
                self._put(head, data, b"" if left else bytes(-size % BLOCK))
                head = b""

    def add_data(self, name: str, data: bytes, mtime: int) -> None:
        """A regular file of mode 0o644 holding data, owned by no one (tarfile.TarInfo's defaults)."""
        self._put(header(name, 0o644, 0, 0, len(data), mtime, _REGULAR), data, bytes(-len(data) % BLOCK))

    def close(self) -> None:
        """The two zero blocks that end the archive, its length made a multiple of RECORD."""
        end = self.offset + 2 * BLOCK
        self._put(bytes(2 * BLOCK + -end % RECORD))
        self.out.write(self.zip.compress(self.pending) + self.zip.flush())
        self.pending.clear()
