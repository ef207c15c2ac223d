"""How much a tree holds, without following links out of it.

Files with more than one hard link are counted once and also reported as shared: conda
hard-links package files from the package cache, so deleting an environment does not free
them while the cache (or another environment) still holds them.
"""

import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Set, Tuple

_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


@dataclass(frozen=True)
class Usage:
    files: int
    bytes: int
    shared_files: int
    shared_bytes: int

    def to_dict(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "shared_files": self.shared_files,
                "shared_bytes": self.shared_bytes}


def _files(path: str) -> Iterator[Tuple[str, os.stat_result]]:
    """lstat of every file under path, directories walked without following links out."""
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue  # unreadable or vanished: count what can be seen
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            # A junction (PREFIX\\pkgs on Windows) stats as a directory: its reparse flag says link.
            if stat.S_ISDIR(st.st_mode) and not getattr(st, "st_file_attributes", 0) & _REPARSE_POINT:
                stack.append(entry.path)
            else:
                yield entry.path, st


def shares_links(path: str) -> Optional[bool]:
    """Whether any file under path has another hard link (stops at the first); None: no files.
    False is a copy: micromamba links from the package cache whenever it can."""
    found = False
    for _, st in _files(path):
        if stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1:
                return True
            found = True
    return False if found else None


def measure(path: str, exclude: Iterable[str] = ()) -> Usage:
    """exclude: files not to count (a record that holds the measurement itself)."""
    skipped = set(exclude)
    files = size = shared_files = shared = 0
    seen: Set[Tuple[int, int]] = set()
    for entry_path, st in _files(path):
        if entry_path in skipped:
            continue
        if st.st_nlink > 1:
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            shared_files += 1
            shared += st.st_size
        files += 1
        size += st.st_size
    return Usage(files, size, shared_files, shared)


def human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
