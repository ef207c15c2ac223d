"""Overlays: template directories copied into a new environment (the user's `__shortcut__`,
`__home__`, `__AppData__` folders).

An overlay only adds: a path that already exists in the prefix (a package's file, a link,
another overlay's file) is a clash, and clashes are all reported before anything is copied.
Links inside an overlay are copied as links; links in the prefix are never written through.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import shutil
import stat
from collections.abc import Sequence

from mambaboot.common.files import confined, fileid, treewalk
from mambaboot.common.errors import TargetRefused, UsageError
from mambaboot.common.values import value

# Never ours to write into: conda's package records, our record, the link into the cache.
RESERVED = ("conda-meta", ".mambaboot", "pkgs")


@value
class Applied:
    source: str
    files: tuple[str, ...]  # relative to the prefix, '/'-separated

    def to_dict(self) -> dict:
        return {"source": self.source, "files": list(self.files)}


def _entries(source: str) -> list[tuple[str, str]]:
    """(relative path, absolute path) of every file and link in source, directories left out."""
    found = []
    for root, dirs, files in treewalk.walk(source):
        links = [d for d in dirs if fileid.is_link(os.path.join(root, d))]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in sorted(files + links):
            full = os.path.join(root, name)
            found.append((os.path.relpath(full, source).replace(os.sep, "/"), full))
    return found


def check_sources(overlays: Sequence[str]) -> None:
    """What can be refused before the engine runs: missing sources and reserved names."""
    for source in overlays:
        if not os.path.isdir(source):
            raise UsageError(f"--overlay {source}: not a directory")
    reserved = [f"{source}: {rel}" for source in overlays for rel, _ in _entries(source) if rel.split("/")[0] in RESERVED]
    if reserved:
        raise TargetRefused("overlays may not write into " + ", ".join(RESERVED) + ":\n"
                            + "\n".join(f"  - {r}" for r in reserved))


def _blocked(prefix: str, rel: str) -> str:
    """Why rel cannot be added to prefix, or '' if it can."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        parent = os.path.join(prefix, *parts[:depth])
        if fileid.is_link(parent):
            return f"{'/'.join(parts[:depth])} is a link"
        if os.path.lexists(parent) and not os.path.isdir(parent):
            return f"{'/'.join(parts[:depth])} is a file"
        if not os.path.lexists(parent):
            break
    return "exists" if os.path.lexists(os.path.join(prefix, *parts)) else ""


def apply(prefix: str, overlays: Sequence[str], owners: dict[str, str]) -> list[Applied]:
    """Copy every overlay into prefix, or copy nothing and raise TargetRefused naming each clash.

    owners maps package files (from conda-meta) to their package, for the message.
    """
    planned: dict[str, str] = {}
    clashes = []
    for source in overlays:
        for rel, _ in _entries(source):
            why = _blocked(prefix, rel)
            if rel in owners:
                why = f"installed by package {owners[rel]}"
            elif rel in planned:
                why = f"also in overlay {planned[rel]}"
            if why:
                clashes.append(f"{rel} (from {source}): {why}")
            planned.setdefault(rel, source)
    if clashes:
        raise TargetRefused("overlays never overwrite what is in the environment; clashes:\n"
                            + "\n".join(f"  - {c}" for c in clashes))
    applied = []
    with confined.Root.open(prefix) as root:  # below the prefix, never through a link
        for source in overlays:
            copied = []
            for rel, full in _entries(source):
                _copy(root, rel, full, os.path.join(prefix, *rel.split("/")))
                copied.append(rel)
            applied.append(Applied(source, tuple(copied)))
    return applied


def _copy(root: confined.Root, rel: str, full: str, dest: str) -> None:
    """shutil.copy2(full, dest, follow_symlinks=False), dest made below root: a link stays a link."""
    root.makedirs(rel.rpartition("/")[0])
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        root.symlink(os.readlink(full), rel)
    else:
        with confined.open_named(full) as fin, root.open_new(rel, stat.S_IMODE(st.st_mode)) as fout:
            shutil.copyfileobj(fin, fout)
    shutil.copystat(full, dest, follow_symlinks=False)
