"""The cache directory: what it holds, and cleaning out what nothing uses.

Package caches hold extracted packages and their archives. conda hard-links an extracted
package's files into environments, so a file there with more than one link is one an
environment still shares: such a package is kept (and named), never silently removed.
Each package cache is locked the way micromamba locks it while we look and delete, so a
concurrent create waits rather than finds half a package.

Besides: micromamba binaries (reported, kept), pip's cache (removable), private homes left
by killed runs (removed once no live run holds their lock), and pending markers whose
environment no longer exists.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import fsops
from mambaboot.environment import diskusage, record

ARCHIVE_SUFFIXES = (".tar.bz2", ".conda")
MAMBA_LOCK_POS = 21  # the byte libmamba locks in pkgs.lock


class Package:
    def __init__(self, stem: str) -> None:
        self.stem = stem
        self.extracted: str | None = None
        self.archives: list[str] = []
        self.side_files: list[str] = []  # e.g. rattler's <stem>.lock
        self.bytes = 0
        self.in_use = False

    def paths(self) -> list[str]:
        return ([self.extracted] if self.extracted else []) + self.archives + self.side_files


def _stem(name: str) -> str | None:
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def packages(pkgs_dir: str, total: list[int] | None = None) -> list[Package]:
    """Every package in a package cache, in either layout: conda's flat one
    (`pkgs/<name-version-build>/` beside its archive) and micromamba's since 2.6.0, which nests
    the same pair under the package's URL directory, "://" -> "/" and ":" "\\" -> "_"
    (`pkgs/https/conda.anaconda.org/conda-forge/linux-64/<name-version-build>/`;
    `package_cache_folder_relative_path`, libmamba/src/core/package_cache.cpp, mamba PR 4163)."""
    found: list[Package] = []
    # One walk: the bytes of everything else (the index cache, lock files) are added up on the way.
    _scan(pkgs_dir, found, 0, total if total is not None else [0], set())
    return sorted(found, key=lambda p: (p.stem, p.paths()[0] if p.paths() else ""))


# https/host/channel/.../subdir: a URL directory is a handful of levels deep; deeper is not a cache.
_MAX_DEPTH = 12


def _scan(directory: str, found: list[Package], depth: int, total: list[int], seen: set) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    here: dict[str, Package] = {}
    names = {e.name for e in entries}
    nested = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if os.path.isfile(os.path.join(entry.path, "info", "index.json")):
                pkg = here.setdefault(entry.name, Package(entry.name))
                usage = diskusage.measure(entry.path, seen=seen)
                pkg.extracted, pkg.in_use = entry.path, usage.shared_files > 0
                pkg.bytes += usage.bytes
                total[0] += usage.bytes
            elif depth < _MAX_DEPTH:
                nested.append(entry.path)
            else:
                total[0] += diskusage.measure(entry.path, seen=seen).bytes
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if st.st_nlink == 1 or key not in seen:
            seen.add(key)
            total[0] += st.st_size
        if entry.is_file(follow_symlinks=False) and _stem(entry.name):
            pkg = here.setdefault(_stem(entry.name), Package(_stem(entry.name)))
            pkg.archives.append(entry.path)
            pkg.bytes += st.st_size
    for pkg in here.values():
        if pkg.stem + ".lock" in names:
            pkg.side_files.append(os.path.join(directory, pkg.stem + ".lock"))
    found.extend(here.values())
    for path in nested:
        _scan(path, found, depth + 1, total, seen)


def _prune_empty(pkgs_dir: str, paths: list[str]) -> None:
    """Remove the URL directories (2.6 layout) that cleaning left empty, never pkgs_dir itself."""
    top = os.path.normcase(os.path.abspath(pkgs_dir))
    for path in paths:
        parent = os.path.dirname(path)
        while os.path.normcase(os.path.abspath(parent)) != top and os.path.normcase(parent).startswith(top):
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)


def _size(path: str) -> int:
    return diskusage.measure(path).bytes if os.path.isdir(path) else 0


def _stale_homes(cache_dir: str):  # -> iterator of (home, [path, ...])
    """(home, paths to delete) for every private home whose run is gone (its lock is free)."""
    tmp = os.path.join(cache_dir, "tmp")
    try:
        names = sorted(os.listdir(tmp))
    except OSError:
        return
    homes = {n[: -len(".lock")] if n.endswith(".lock") else n for n in names if n.startswith("home-")}
    if not homes:
        return
    from mambaboot.engine import sandbox  # its owner_lock name; the rest of it only when there are homes

    for home in sorted(homes):
        path = os.path.join(tmp, home)
        if not fsops.held(sandbox.owner_lock(path)):
            yield path, [p for p in (path, sandbox.owner_lock(path)) if os.path.lexists(p)]


def _orphaned_markers(cache_dir: str) -> list[str]:
    return [path for path, marker in record.markers(cache_dir)
            if not os.path.lexists(marker["prefix"]) and not record.owner_running(marker)]


def info(cache_dir: str, pkgs_dirs) -> dict:
    caches = []
    for pkgs_dir in pkgs_dirs:
        total = [0]
        pkgs = packages(pkgs_dir, total)
        caches.append({
            "path": pkgs_dir,
            "packages": len(pkgs),
            "in_use": sum(p.in_use for p in pkgs),
            "archives": sum(len(p.archives) for p in pkgs),
            "package_bytes": sum(p.bytes for p in pkgs),
            "bytes": total[0],  # with repodata and everything else
        })
    store = os.path.join(cache_dir, "micromamba")
    binaries = store_bytes = 0
    for path, st in diskusage.walk(store):
        binaries += os.path.basename(path) in ("micromamba", "micromamba.exe")
        store_bytes += st.st_size
    homes = list(_stale_homes(cache_dir))
    return {
        "cache_dir": cache_dir,
        "package_caches": caches,
        "micromamba": {"path": store, "binaries": binaries, "bytes": store_bytes},
        "pip": {"path": os.path.join(cache_dir, "pip"), "bytes": _size(os.path.join(cache_dir, "pip"))},
        "stale_homes": {"count": len(homes), "bytes": sum(_size(h) for h, _ in homes)},
        "orphaned_markers": len(_orphaned_markers(cache_dir)),
    }


def clean(cache_dir: str, pkgs_dirs, dry_run: bool = False) -> dict:
    import contextlib  # not for info: cache info starts faster without it

    removed: list[str] = []
    kept: list[str] = []
    freed = 0
    for pkgs_dir in pkgs_dirs:
        if not os.path.isdir(pkgs_dir):
            continue
        # A dry run only looks: it writes nothing, not even the lock file.
        locked = contextlib.nullcontext() if dry_run else fsops.FileLock(
            os.path.join(pkgs_dir, "pkgs.lock"), offset=MAMBA_LOCK_POS)
        with locked:
            for pkg in packages(pkgs_dir):
                if pkg.in_use:
                    kept.append(pkg.stem)
                    continue
                removed.append(pkg.stem)
                freed += pkg.bytes
                if not dry_run:
                    for path in pkg.paths():
                        fsops.remove_any(path)
                    _prune_empty(pkgs_dir, pkg.paths())
    homes = list(_stale_homes(cache_dir))
    markers = _orphaned_markers(cache_dir)
    pip_cache = os.path.join(cache_dir, "pip")
    pip_bytes = _size(pip_cache)
    if not dry_run:
        for _, paths in homes:
            for path in paths:
                fsops.remove_any(path)
        for path in markers:
            os.unlink(path)
        if os.path.isdir(pip_cache):
            fsops.remove_tree(pip_cache)
    return {
        "dry_run": dry_run,
        "removed_packages": removed,
        "package_bytes": freed,
        "kept_in_use": kept,
        "stale_homes": [h for h, _ in homes],
        "orphaned_markers": len(markers),
        "pip_cache_bytes": pip_bytes,
    }
