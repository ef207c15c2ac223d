"""A failed engine run that ran out of disk, said as such: which disk, what is free, what it needs.

micromamba does not say "disk full". A link that runs out of space fails in the C++ library's
copy (a short sendfile: ENOSPC, or EIO), and micromamba reports "Transaction cancelled while
linking package ...", "filesystem error: cannot copy: Input/output error [...] [...]", then rolls
the transaction back (rethrow_transaction_cancelled_after_rollback,
libmamba/src/core/transaction.cpp, 2.8.1). So once it failed with such words, the free space of
the disks involved is measured (shutil.disk_usage: os.statvfs's f_bavail on POSIX) and compared
with what the transaction needs, from what micromamba printed (engine/micromamba.py Transaction):
micromamba downloads and extracts every package into the cache before it links any
(Transaction::execute: fetch_extract_packages first), so when every package is extracted the
link into the prefix failed, and the prefix needs about their extracted size; when some are not,
the cache failed, and needs at least the download.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import shutil

from mambaboot.environment import diskusage, pkgcache

# What the engine's message holds when a write failed for want of space: libstdc++'s filesystem
# error for the link, the errno text for anything else (rattler, curl, libarchive).
_WORDS = ("No space left on device", "Input/output error", "cannot copy", "Disk quota exceeded", "os error 28")


def _existing(path: str) -> str:
    """path, or its nearest ancestor that exists (a rolled-back prefix is gone)."""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _free(path: str) -> int | None:
    try:
        return shutil.disk_usage(_existing(path)).free
    except OSError:
        return None


def _device(path: str) -> int | None:
    try:
        return os.stat(_existing(path)).st_dev
    except OSError:
        return None


def _extracted(pkgs_dirs, stems: list[str]) -> dict[str, int]:
    """stem -> bytes of its extracted directory, for the stems found in the package caches."""
    wanted = set(stems)
    found: dict[str, int] = {}
    for pkgs_dir in pkgs_dirs:
        for pkg in pkgcache.packages(pkgs_dir):
            if pkg.stem in wanted and pkg.extracted and pkg.stem not in found:
                found[pkg.stem] = diskusage.measure(pkg.extracted).bytes
    return found


def explain(prefix: str, pkgs_dirs, stems: list[str], download: int | None, message: str) -> str | None:
    """One line naming the full disk, its free space and what the run needs there; None when the
    failure is not one of space, or the disk it points at is not short of what is needed."""
    if not any(words in message for words in _WORDS) or not pkgs_dirs:
        return None
    cache = pkgs_dirs[0]
    extracted = _extracted(pkgs_dirs, stems)
    if stems and len(extracted) == len(set(stems)):
        where, path, need, option = prefix, prefix, sum(extracted.values()), "--prefix"
        what = f"about {diskusage.human(need)}, the extracted size of its {len(set(stems))} packages"
    elif extracted and (prefix_free := _free(prefix)) is not None and prefix_free < sum(extracted.values()):
        # An engine that links while it still extracts (rattler does; libmamba extracts first)
        # fails with part of the packages extracted: the prefix's disk cannot hold even those.
        where, path, need, option = prefix, prefix, sum(extracted.values()), "--prefix"
        what = (f"at least {diskusage.human(need)}, the extracted size of {len(extracted)} of its "
                f"{len(set(stems))} packages")
    else:
        where, path, need, option = f"the package cache {cache}", cache, download, "--cache-dir"
        what = f"at least {diskusage.human(need or 0)} to download, and room to extract it"
    free = _free(path)
    if free is None or not need or free >= need:
        return None
    if _device(prefix) == _device(cache):
        where = f"{prefix} and the package cache {cache}"
    return (f"the disk holding {where} is full: {diskusage.human(free)} free there, and the environment needs "
            f"{what}; free some space or choose another {option}")
