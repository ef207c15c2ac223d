"""How much a tree holds, without following links out of it.

Files with more than one hard link are counted once and also reported as shared: conda
hard-links package files from the package cache, so deleting an environment does not free
them while the cache (or another environment) still holds them.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.files import fileid, treewalk

_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


class Usage:
    """files and bytes under a tree; shared_*: those with another hard link (counted once).
    measure(sample=True) also says: sample, a file to look at later (relative to the tree: the
    first found with another link, else the first regular file outside info/), and repeated, how
    many files were not counted because an earlier measurement sharing `seen` counted them."""

    __slots__ = ("files", "bytes", "shared_files", "shared_bytes", "sample", "repeated")

    def __init__(self, files: int, bytes: int, shared_files: int, shared_bytes: int,
                 sample: str | None = None, repeated: int = 0) -> None:
        self.files, self.bytes, self.shared_files, self.shared_bytes = files, bytes, shared_files, shared_bytes
        self.sample, self.repeated = sample, repeated

    def to_dict(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "shared_files": self.shared_files,
                "shared_bytes": self.shared_bytes}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Usage) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Usage({self.to_dict()})"


def walk(path: str):  # -> iterator of (path, os.stat_result)
    """lstat of every file under path, directories walked without following links out."""
    for entry in _files(path):
        try:
            yield entry.path, fileid.entry_lstat(entry)
        except OSError:
            continue


def _files(path: str):
    """Every entry under path but the directories walked into (files, links, junctions)."""
    stack = [path]
    while stack:
        for entry in _entries(stack.pop()):
            if entry.is_dir(follow_symlinks=False) and not (_WINDOWS and _junction(entry)):
                stack.append(entry.path)
            else:
                yield entry


def _entries(directory: str) -> list:
    try:
        with os.scandir(directory) as listing:
            return list(listing)
    except OSError:
        return []  # unreadable or vanished: count what can be seen


_WINDOWS = os.name == "nt"


def _junction(entry) -> bool:
    """A junction (PREFIX\\pkgs on Windows) lists as a directory: its reparse flag says link.
    Windows gives an entry's lstat with the listing, at no extra cost."""
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return True  # neither descended into nor counted
    return bool(getattr(st, "st_file_attributes", 0) & _REPARSE_POINT)


def shares_links(path: str) -> bool | None:
    """Whether any file under path has another hard link (stops at the first); None: no files.
    False is a copy: micromamba links from the package cache whenever it can."""
    found = False
    for _, st in walk(path):
        if stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1:
                return True
            found = True
    return False if found else None


class Tally:
    """Adds up lstat results into a Usage: a file once however many of its links are counted,
    as shared when it has another link. Files are counted as they are deleted, so a file's
    later links are known by identity (its link count drops as its links go); only a file seen
    with another link is known that way: a deleted file's inode number is soon reused.
    state() and absorb(state) carry a second process's count over (common/files/removal.py).

    A file's identity is its inode number on the first device seen (a tree is nearly always
    on one), else (device, inode): an int is cheaper to make, hash and send than a tuple."""

    def __init__(self) -> None:
        self.files = self.bytes = self.shared_files = self.shared_bytes = 0
        self.device = None
        self.linked: dict = {}  # identity -> size, of files seen with another link
        self.alone: list = []  # identities of those seen without: matched against another count only

    def add(self, st: os.stat_result) -> None:
        key = st.st_ino if st.st_dev == self.device else self._identity(st.st_dev, st.st_ino)
        if key in self.linked:
            return
        size = st.st_size
        if st.st_nlink > 1:
            self.linked[key] = size
            self.shared_files += 1
            self.shared_bytes += size
        else:
            self.alone.append(key)
        self.files += 1
        self.bytes += size

    def _identity(self, device: int, inode: int):
        if self.device is None:
            self.device = device
        return inode if device == self.device else (device, inode)

    def state(self) -> tuple:
        return (self.device, self.files - self.shared_files, self.bytes - self.shared_bytes, self.alone,
                list(self.linked.items()))

    def absorb(self, state) -> None:
        """Another process's count of the same tree's other files. A file with a link on each
        side is seen with another link by whichever side saw it first, and alone by the other:
        it stays one file, shared. Two files both seen alone are two (an inode number reused)."""
        device, files, size, alone, linked = state
        if self.device is None:
            self.device = device
        elif device is not None and device != self.device:  # its identities in this tally's terms
            def ours(key):
                return self._identity(*key) if isinstance(key, tuple) else self._identity(device, key)
            alone, linked = [ours(k) for k in alone], [(ours(k), s) for k, s in linked]
        if self.linked:
            for key in alone:
                if key in self.linked:
                    files -= 1
                    size -= self.linked[key]
        self.files += files
        self.bytes += size
        if linked:
            mine = set(self.alone)
            for key, shared in linked:
                if key in self.linked:
                    continue
                self.linked[key] = shared
                self.shared_files += 1
                self.shared_bytes += shared
                if key not in mine:  # else counted here already, alone: now known shared
                    self.files += 1
                    self.bytes += shared
        self.alone.extend(alone)

    def usage(self) -> Usage:
        return Usage(self.files, self.bytes, self.shared_files, self.shared_bytes)


def _listings(path: str):
    """(a directory's path ending in a separator, [(name, lstat)] of its entries but the
    directories walked into), one directory at a time, none followed out through a link. On
    POSIX each entry is lstat'ed by its name relative to its directory's descriptor
    (treewalk.by_directory): the kernel looks up ~10,000 names in a create, not as many paths."""
    if treewalk.BY_DESCRIPTOR and fileid.LISTING_HAS_LINKS:  # an entry's stat is then a whole lstat, link count too
        for where, entries in treewalk.by_directory(path):
            found = []
            for entry in entries:
                try:
                    found.append((entry.name, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue
            yield where, found
        return
    pending = [path]
    while pending:
        where = os.path.join(pending.pop(), "")
        found = []
        for entry in _entries(where):
            if entry.is_dir(follow_symlinks=False) and not (_WINDOWS and _junction(entry)):
                pending.append(entry.path)
                continue
            try:
                found.append((entry.name, fileid.entry_lstat(entry)))
            except OSError:
                continue
        yield where, found


def measure(path: str, exclude=(), seen: set[tuple[int, int]] | None = None, sample: bool = False) -> Usage:
    """exclude: files not to count (a record that holds the measurement itself); seen: the hard
    links already counted, shared by several measurements that make up one total; sample: find
    the Usage's sample (an extracted package's, for the package cache's memo)."""
    # Tally.add() inlined: cache info and list --size measure every file, and a Python call per
    # file costs a good part of its lstat
    skipped = set(exclude)
    names = {os.path.basename(p) for p in skipped}  # a test of the name alone for every other file
    seen = set() if seen is None else seen
    files = size = shared_files = shared_bytes = repeated = 0
    linked = None
    plain = None if sample else ""  # "": not looked for, one test per file
    info = os.path.join(path, "info", "")
    for where, found in _listings(path):
        for name, st in found:
            if name in names and where + name in skipped:
                continue
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    repeated += 1
                    continue
                seen.add(key)
                if not shared_files:
                    linked = where + name
                shared_files += 1
                shared_bytes += st.st_size
            elif plain is None and stat.S_ISREG(st.st_mode) and not where.startswith(info):
                plain = where + name
            files += 1
            size += st.st_size
    first = (linked or plain) if sample else None
    return Usage(files, size, shared_files, shared_bytes, first and os.path.relpath(first, path), repeated)


def environment_size(prefix: str) -> Usage:
    """An environment's size as `list --size` shows it: every file under the prefix counted as
    measure() counts it (a link as the link, a file with several hard links once), but the
    record itself, which mambaboot rewrites, the mark of a run that is making it (proof.MARK:
    gone once it is done), and the snapshot of an adopt under way (gone too: adoptundo.py)."""
    from mambaboot.common.files import proof
    from mambaboot.environment import record

    return measure(prefix, exclude=(record.record_path(prefix), os.path.join(prefix, proof.CONTENTS, proof.MARK),
                                    *_snapshots(prefix)))


def _snapshots(prefix: str) -> list:
    """The paths of the files of every adopt's snapshot in prefix (environment/adoptundo.py SNAPSHOT: its work name)."""
    from mambaboot.common.files import proof, tempname
    from mambaboot.environment import record

    top = os.path.join(prefix, record.RECORD_DIR)
    try:
        saved = [os.path.join(top, n) for n in os.listdir(top) if tempname.kind_of(n, beside=False) == proof.UNDO]
        return [os.path.join(d, n) for d in saved if not os.path.islink(d) for n in os.listdir(d)]
    except OSError:
        return []


def human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
