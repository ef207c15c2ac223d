"""Real before/after snapshots of a directory tree, for 'nothing changed outside' checks."""

import hashlib
import os
import stat
from pathlib import Path
from typing import Dict, Iterable, Tuple


def snapshot(root: Path, exclude: Iterable[Path] = ()) -> Dict[str, Tuple]:
    """Map every path under root (relative) to (kind, mode, size, sha256 or link target).

    Directories count too, so a created-then-emptied directory is still a difference.
    mtimes are left out: reading a file must not count as a change.
    """
    root = Path(root)
    excluded = {os.path.normpath(str(p)) for p in exclude}
    result: Dict[str, Tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        kept = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if os.path.normpath(full) in excluded:
                continue
            kept.append(d)
            result[os.path.relpath(full, root)] = _entry(full)
        dirnames[:] = [d for d in kept if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.normpath(full) not in excluded:
                result[os.path.relpath(full, root)] = _entry(full)
    return result


def _entry(path: str) -> Tuple:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", stat.S_IMODE(st.st_mode))
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return ("file", stat.S_IMODE(st.st_mode), st.st_size, digest)


def diff(before: Dict[str, Tuple], after: Dict[str, Tuple]) -> Dict[str, Tuple]:
    keys = set(before) | set(after)
    return {k: (before.get(k), after.get(k)) for k in sorted(keys) if before.get(k) != after.get(k)}
