"""Which environments use a cache, so that `cache clean` keeps every package one of them installed.

A shared hard link says an environment uses an extracted package only while one of its files is
linked; a package whose every file names the prefix (conda's scripts, mamba's) is copied whole
(libmamba/src/core/link.cpp LinkFile::create_prefix_replaced writes a new file for each), and no
link remains. So every environment mambaboot finishes (create, adopt, move) is noted in the cache
it was made with, CACHE/environments/<key of its prefix>.json holding the prefix, and a package is in use when a noted environment's conda-meta names
it: conda and micromamba name each record after
the package, `<name>-<version>-<build>.json` (LinkPackage::execute: `m_pkg_info.str()`), which is
the extracted directory's name in the cache (its archive's name without the extension). A note
whose prefix holds no conda-meta any more (removed, moved away) is stale: ignored, and dropped by
`cache clean`.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common import jsontext, shapes, untrusted
from mambaboot.common.files import confined, filelock, fsops

DIRECTORY = "environments"
# A note: the prefix it names is the one whose key names the note itself (a note copied or written
# under another name is no note of the place it names).
NOTE = {"prefix": shapes.required(str, rule=shapes.keyed_place)}


def register(cache_dir: str, prefix: str) -> str:
    """Note that the environment at prefix uses this cache; returns the note's path."""
    name = fsops.path_key(prefix) + ".json"
    # Not synced: lost to a power cut, it costs only the copied packages' place in the cache (a
    # hard-linked file still says the package is in use), while a sync costs every create a flush.
    # Any run writes notes, under no lock of the cache: its temporary is its own lock (confined.Root.write_locked).
    confined.write_in(cache_dir, f"{DIRECTORY}/{name}", jsontext.dumps_flat({"prefix": prefix}).encode(), sync=False,
                      locked=filelock.hold)
    return os.path.join(cache_dir, DIRECTORY, name)


def _notes(cache_dir: str) -> list[tuple[str, str]]:
    """(note path, prefix) of every note in the cache; a linked or mounted DIRECTORY is not the
    cache's: its notes are neither read nor deleted."""
    try:
        with confined.Root.open(cache_dir) as cache, cache.sub(DIRECTORY) as notes:
            if notes.mounted():
                return []
            found = []
            for name, st in notes.scandir():
                if name.endswith(".json") and stat.S_ISREG(st.st_mode):
                    note = _note_in(notes, name)
                    if note is not None:
                        found.append((os.path.join(cache_dir, DIRECTORY, name), note["prefix"]))
            return found
    except OSError:
        return []


def _note_in(notes: confined.Root, name: str) -> dict | None:
    try:  # a note nobody could trust (too big, too deep, a NUL, not its shape) is no note of ours
        return shapes.check(untrusted.json(notes.read_bytes(name, untrusted.SMALL), notes.where(name)), NOTE,
                            notes.where(name), "a note of mambaboot's")
    except (OSError, ValueError):
        return None


def _drop(cache_dir: str, paths) -> None:
    """Delete notes _notes() found, never through a link nor in a DIRECTORY mounted there; one gone
    already is no failure."""
    if not paths:
        return
    with confined.Root.open(cache_dir) as cache, cache.sub(DIRECTORY) as notes:
        if notes.mounted():
            return
        for path in paths:
            try:
                notes.unlink(os.path.basename(path))
            except FileNotFoundError:
                pass


def _installed(prefix: str) -> list[str] | None:
    """The packages conda-meta names (<name>-<version>-<build>), or None: no environment there."""
    try:
        names = os.listdir(os.path.join(prefix, "conda-meta"))
    except OSError:
        return None
    return [n[: -len(".json")] for n in names if n.endswith(".json")]


def named(cache_dir: str) -> set[str]:
    """The packages (extracted directory names) that the environments using this cache installed."""
    found: set[str] = set()
    for _, prefix in _notes(cache_dir):
        found.update(_installed(prefix) or ())
    return found


def forget_stale(cache_dir: str, dry_run: bool = False) -> int:
    """Drop the notes of environments that are gone; returns how many there were."""
    stale = [path for path, prefix in _notes(cache_dir) if _installed(prefix) is None]
    if not dry_run:
        _drop(cache_dir, stale)
    return len(stale)
