"""Which environments use a cache, so that `cache clean` keeps every package one of them installed.

A shared hard link says an environment uses an extracted package only while one of its files is
linked; a package whose every file names the prefix (conda's scripts, mamba's) is copied whole
(libmamba/src/core/link.cpp LinkFile::create_prefix_replaced writes a new file for each), and no
link remains. So every environment mambaboot finishes (create, adopt, move) is noted in the cache
it was made with, CACHE/environments/<key of its prefix>.json holding the prefix (a pending
marker's form: record.py), and a package is in use when a noted environment's conda-meta names
it: conda and micromamba name each record after
the package, `<name>-<version>-<build>.json` (LinkPackage::execute: `m_pkg_info.str()`), which is
the extracted directory's name in the cache (its archive's name without the extension). A note
whose prefix holds no conda-meta any more (removed, moved away) is stale: ignored, and dropped by
`cache clean`.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import jsontext

from mambaboot.common.files import confined, fsops
from mambaboot.environment import record

DIRECTORY = "environments"


def register(cache_dir: str, prefix: str) -> str:
    """Note that the environment at prefix uses this cache; returns the note's path."""
    name = fsops.path_key(prefix) + ".json"
    # Not synced: lost to a power cut, it costs only the copied packages' place in the cache (a
    # hard-linked file still says the package is in use), while a sync costs every create a flush.
    confined.write_in(cache_dir, f"{DIRECTORY}/{name}", jsontext.dumps_flat({"prefix": prefix}).encode(), sync=False)
    return os.path.join(cache_dir, DIRECTORY, name)


def _notes(cache_dir: str) -> list[tuple[str, str]]:
    return [(path, note["prefix"]) for path, note in record.markers(cache_dir, DIRECTORY)]


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
        record.drop_notes(cache_dir, stale)
    return len(stale)
