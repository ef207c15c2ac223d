"""The cache directory: what it holds, and cleaning out what nothing uses.

Package caches hold extracted packages and their archives. A package is in use, kept (and
named), never silently removed, when an environment that uses the cache installed it (its
conda-meta names it; cacheusers.py), or when a file of it has more than one link: conda and
micromamba hard-link an extracted package's files into environments, which covers environments
mambaboot never saw, as long as one of the package's files is linked.
Each package cache is locked the way micromamba locks it while we look and delete, so a
concurrent create waits rather than finds half a package.

Besides: micromamba binaries (reported, kept), pip's cache (removable), the work directories
killed runs left in CACHE/tmp and the temporary directory (private homes, scratch: removed once
no live run holds their lock, common/files/workdir.py), and the downloads left under the
temporary name in the stores (named, never removed: common/files/partials.py).

`info` reads what each extracted package measured (SizeMemo): an extracted package is
never changed in place, only replaced whole, so its size is walked again only once its
directory or its record of the extraction is another file. `info` is read-only: it writes the
memo no more than anything else. `clean` deletes, walks every file of every package each time,
and writes the memo of what it kept, for the next `info`.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.files import confined, fileid, filelock, fsops, leftovers, partials, workdir
from mambaboot.environment import cacheusers, diskusage

ARCHIVE_SUFFIXES = (".tar.bz2", ".conda")
_MEMO = "memo/package-sizes"
# A line a package (about 300 bytes): far more than any cache holds. A bigger file is no memo of
# ours, ignored (NotRegular is an OSError), never read whole.
_MEMO_LIMIT = 64 << 20
PKGS_LOCK = "pkgs.lock"  # a package cache's lock file, as libmamba names it
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


class SizeMemo:
    """What each extracted package measured, remembered in one file of the cache,
    CACHE/memo/package-sizes (text, as micromamba.py's `verified`: json would import re, ~10 ms,
    about what all the rest of a remembered cache's info costs beyond Python's start): a header
    line, then per package "<identity>\t<files> <bytes>\t<sample>\t<directory>".

    An extracted package is immutable once extracted: libmamba (package_fetcher.cpp,
    PackageFetcher::extract) removes the directory, extracts the archive into it and only then
    writes info/repodata_record.json (PackageFetcher::write_repodata_record); conda does the same
    (conda/core/path_actions.py, ExtractPackageAction: rm_rf, extract, then repodata_record.json).
    rattler (and the tests' stand-in) writes no such record: it extracts into a temporary
    directory renamed into place and bumps the revision in <stem>.lock beside it for every
    extraction (rattler_cache package_cache/mod.rs, validate_package_common). So the identity is
    the directory's and that record's fsops.stat_stamp (device, inode, size, mtime, ctime): a new
    extraction moves it. Without either record (an extraction under way, a layout we do not know)
    nothing is remembered. The identity is taken before the walk, so a package replaced while it
    is walked is walked again next time.

    in_use stays exact: a package is in use when any of its files has another link, and the
    sample (the first file that had one, else the first regular file outside info/) is lstat'ed
    each time; only when it has no other link is the whole package walked again, which is then
    the answer. A remembered package's files do not join the hard links the walk counts once
    (`seen`): packages of one cache share no files (each is extracted from its own archive).
    When a walk finds that they do (a tool that hard-links duplicates), which package counts a
    shared file depends on the walk's order, so nothing is remembered (`repeated`).

    Writing is best effort (a read-only cache keeps working, walking each time); a memo that
    cannot be read, or a line of it that cannot be parsed, is ignored and written anew. Only the
    packages this run found are written back: removed ones drop out."""

    HEADER = "mambaboot package sizes 1"

    def __init__(self, cache_dir: str, trusted: bool = True) -> None:
        """trusted: what the memo holds is taken (else it is only written: clean walks every package anyway)."""
        self.cache_dir = cache_dir
        self.path = os.path.join(cache_dir, *_MEMO.split("/"))
        self.known: dict[str, list[str]] = {}  # directory: [identity, "files bytes", sample]
        try:
            lines = confined.read_in(cache_dir, _MEMO, _MEMO_LIMIT).decode("utf-8", "surrogateescape").split("\n") \
                if trusted else []
        except OSError:
            lines = []
        if lines[:1] == [self.HEADER]:
            for line in lines[1:]:
                fields = line.split("\t")
                if len(fields) == 4:
                    self.known[fields[3]] = fields[:3]
        self.now: dict[str, list[str]] = {}
        self.repeated = 0  # files the walk did not count twice: then remember nothing

    def measure(self, directory: str, seen: set) -> tuple[int, bool]:
        """(bytes, in use) of an extracted package."""
        key = _identity(directory)
        entry = self.known.get(directory)
        if key is not None and entry is not None and entry[0] == key and _shares_links(directory, entry[2]):
            figures = entry[1].split(" ")
            if len(figures) == 2 and figures[1].isdigit():
                self.now[directory] = entry
                return int(figures[1]), True
        usage = diskusage.measure(directory, seen=seen, sample=True)
        self.repeated += usage.repeated
        if key is not None and usage.sample \
                and not any(c in text for text in (directory, usage.sample) for c in "\t\n"):
            self.now[directory] = [key, f"{usage.files} {usage.bytes}", usage.sample]
        return usage.bytes, usage.shared_files > 0

    def save(self) -> None:
        if self.repeated:
            self.now = {}
        if self.now == self.known:
            return
        lines = [self.HEADER] + ["\t".join([*self.now[d], d]) for d in sorted(self.now)]
        try:  # not the cache itself: info makes no cache
            confined.write_in(self.cache_dir, _MEMO, ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), locked=filelock.hold)
        except OSError:
            pass  # a read-only cache: measured again next time


def _identity(directory: str) -> str | None:
    """The directory's and its extraction record's stat, as the memo keeps them; None without a record."""
    for extraction in (os.path.join(directory, "info", "repodata_record.json"), directory + ".lock"):
        try:
            r = os.lstat(extraction)
        except OSError:
            continue
        if not stat.S_ISREG(r.st_mode):
            continue
        try:
            d = os.lstat(directory)
        except OSError:
            return None
        return f"{fsops.stat_stamp(d)} {fsops.stat_stamp(r)}"
    return None


def _shares_links(directory: str, sample: str) -> bool:
    """Whether the remembered sample, a file inside the package, has another link now."""
    if os.path.isabs(sample) or os.path.normpath(sample) != sample or sample.split(os.sep)[0] == os.pardir:
        return False  # not a path inside the package: not the memo we wrote
    try:
        st = os.lstat(os.path.join(directory, sample))
    except OSError:
        return False
    return st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode)


def packages(pkgs_dir: str, total: list[int] | None = None, memo: SizeMemo | None = None,
             named: set[str] | frozenset[str] = frozenset()) -> list[Package]:
    """Every package in a package cache, in either layout: conda's flat one
    (`pkgs/<name-version-build>/` beside its archive) and micromamba's since 2.6.0, which nests
    the same pair under the package's URL directory, "://" -> "/" and ":" "\\" -> "_"
    (`pkgs/https/<channel host>/conda-forge/linux-64/<name-version-build>/`;
    `package_cache_folder_relative_path`, libmamba/src/core/package_cache.cpp, mamba PR 4163)."""
    found: list[Package] = []
    # One walk: the bytes of everything else (the index cache, lock files) are added up on the way.
    _scan(pkgs_dir, found, 0, total if total is not None else [0], set(), memo)
    for pkg in found:
        pkg.in_use = pkg.in_use or pkg.stem in named  # named: cacheusers.named(), what environments installed
    return sorted(found, key=lambda p: (p.stem, p.paths()[0] if p.paths() else ""))


# https/host/channel/.../subdir: a URL directory is a handful of levels deep; deeper is not a cache.
_MAX_DEPTH = 12


def _scan(directory: str, found: list[Package], depth: int, total: list[int], seen: set,
          memo: SizeMemo | None) -> None:
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
                if memo is None:
                    usage = diskusage.measure(entry.path, seen=seen)
                    size, pkg.in_use = usage.bytes, usage.shared_files > 0
                else:
                    size, pkg.in_use = memo.measure(entry.path, seen)
                pkg.extracted = entry.path
                pkg.bytes += size
                total[0] += size
            elif depth < _MAX_DEPTH:
                nested.append(entry.path)
            else:
                usage = diskusage.measure(entry.path, seen=seen)
                total[0] += usage.bytes
                if memo is not None:
                    memo.repeated += usage.repeated
            continue
        try:
            st = fileid.entry_lstat(entry)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if st.st_nlink == 1 or key not in seen:
            seen.add(key)
            total[0] += st.st_size
        elif memo is not None:
            memo.repeated += 1
        if entry.is_file(follow_symlinks=False) and _stem(entry.name):
            pkg = here.setdefault(_stem(entry.name), Package(_stem(entry.name)))
            pkg.archives.append(entry.path)
            pkg.bytes += st.st_size
    for pkg in here.values():
        if pkg.stem + ".lock" in names:
            pkg.side_files.append(os.path.join(directory, pkg.stem + ".lock"))
    found.extend(here.values())
    for path in nested:
        _scan(path, found, depth + 1, total, seen, memo)


def _prune_empty(cache: confined.Root, pkgs_dir: str, paths: list[str]) -> None:
    """Remove the URL directories (2.6 layout) that cleaning left empty, never pkgs_dir itself."""
    for path in paths:
        parent = os.path.dirname(os.path.relpath(path, pkgs_dir))
        while parent not in ("", os.curdir):
            try:
                cache.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)


def _lstat_mode(root: confined.Root, rel: str) -> int:
    try:
        return root.lstat(rel).st_mode
    except OSError:
        return 0


def _size(path: str) -> int:
    return diskusage.measure(path).bytes if os.path.isdir(path) else 0


def info(cache_dir: str, pkgs_dirs) -> dict:
    caches = []
    memo = SizeMemo(cache_dir)
    named = cacheusers.named(cache_dir)
    for pkgs_dir in pkgs_dirs:
        total = [0]
        pkgs = packages(pkgs_dir, total, memo, named)
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
    # CACHE/tmp alone, not the temporary directory too (workdir.stale_for): info starts faster without tempfile
    homes = workdir.stale(os.path.join(cache_dir, "tmp"))
    proven = [h for h in homes if h.proven]
    partial = partials.found(cache_dir)
    return {
        "cache_dir": cache_dir,
        "package_caches": caches,
        "micromamba": {"path": store, "binaries": binaries, "bytes": store_bytes},
        "pip": {"path": os.path.join(cache_dir, "pip"), "bytes": _size(os.path.join(cache_dir, "pip"))},
        "stale_homes": {"count": len(proven), "bytes": sum(_size(h.path) for h in proven)},
        "unproven_homes": {"count": len(homes) - len(proven),
                           "bytes": sum(_size(h.path) for h in homes if not h.proven)},
        "partial_downloads": {"count": len(partial), "bytes": sum(size for _, size in partial)},
    }


def clean(cache_dir: str, pkgs_dirs, dry_run: bool = False) -> dict:
    import contextlib  # not for info: cache info starts faster without it

    removed, kept = [], []
    named = cacheusers.named(cache_dir)
    # clean walks every file anyway: it leaves the memo `info` reads (none of it trusted here:
    # known stays empty, so every package is walked), without the packages it deleted
    memo = None if dry_run or not os.path.isdir(cache_dir) else SizeMemo(cache_dir, trusted=False)  # no cache: none made for it
    for pkgs_dir in filter(os.path.isdir, pkgs_dirs):
        # A dry run only looks: it writes nothing, not even the lock file.
        with contextlib.nullcontext() if dry_run else filelock.FileLock(os.path.join(pkgs_dir, PKGS_LOCK), offset=MAMBA_LOCK_POS):
            for pkg in packages(pkgs_dir, named=named, memo=memo):
                (kept if pkg.in_use else removed).append(pkg)
                if pkg.in_use or dry_run:  # a dry run deletes nothing, and has no memo
                    continue
                if memo is not None:
                    memo.now.pop(pkg.extracted, None)
                with confined.Root.open(pkgs_dir) as cache:
                    for path in pkg.paths():
                        cache.remove_any(os.path.relpath(path, pkgs_dir))
                    _prune_empty(cache, pkgs_dir, pkg.paths())
    if memo is not None:
        memo.save()
    found = workdir.stale_for(cache_dir)
    gone = cacheusers.forget_stale(cache_dir, dry_run)
    pip_bytes = _size(os.path.join(cache_dir, "pip"))
    homes = [h for h in found if h.proven and (dry_run or workdir.remove_stale(h))]
    # the notes' and the memo's temporaries a killed writer left: each locked by its writer while it exists
    dead = [] if dry_run else killed_writers(cache_dir)
    if not dry_run:
        with confined.Root.open(cache_dir) as cache:
            if stat.S_ISDIR(_lstat_mode(cache, "pip")):
                cache.remove_tree("pip")
    return {
        "dry_run": dry_run,
        "removed_packages": [p.stem for p in removed],
        "package_bytes": sum(p.bytes for p in removed),
        "kept_in_use": [p.stem for p in kept],
        "stale_homes": [h.path for h in homes],
        "unproven_homes": [dict(zip(("path", "why", "clear"), (h.path, *h.unproven()))) for h in found if not h.proven],
        # never deleted: no lock tells a killed run's from a bootstrap script's writing it now
        "partial_downloads": [dict(zip(("path", "why", "clear"), (p, *partials.named(p)))) for p, _ in partials.found(cache_dir)],
        "gone_environments": gone,
        "killed_writers": dead,  # one sentence each: what was deleted, or left and why
        "pip_cache_bytes": pip_bytes,
    }



def url_folder(url: str) -> str:
    """The directory micromamba >= 2.6 keeps a package under, relative to the package cache: its
    URL's directory, "://" -> "/", ':' and '\\' -> '_' (`package_cache_folder_relative_path`,
    libmamba/src/core/package_cache.cpp, 2.8.1; relocate/scan.py has its own copy, as it imports
    nothing from mambaboot)."""
    return url.rsplit("/", 1)[0].replace("://", "/").replace(":", "_").replace("\\", "_")


def holds(pkgs_dir: str, url: str, filename: str, sha256: str | None, md5: str | None) -> bool:
    """Whether the package cache holds the package at url as libmamba 2.8.1 takes it without
    downloading (`has_valid_extracted_dir`, `has_valid_tarball`, libmamba/src/core/package_cache.cpp):
    its extracted directory, whose info/repodata_record.json records the same sha256 (else md5), or
    its archive with that digest; flat (conda, micromamba < 2.6) or under the URL's directory."""
    from mambaboot.common import untrusted

    stem = _stem(filename)
    if stem is None or not (sha256 or md5):
        return False
    algo, expected = ("sha256", sha256) if sha256 else ("md5", md5)
    for place in (pkgs_dir, os.path.join(pkgs_dir, *url_folder(url).split("/"))):
        known = None
        f = confined.open_regular(os.path.join(place, stem, "info", "repodata_record.json"))
        if f is not None:
            with f:
                try:  # a record anything could have written: the one reader's limits
                    known = untrusted.json(f.read(), os.path.join(place, stem, "info", "repodata_record.json")).get(algo)
                except (OSError, ValueError, AttributeError):
                    pass
        if known == expected:
            return True
        f = confined.open_regular(os.path.join(place, filename))
        if f is not None:
            with f:
                if fsops.file_digest(f, algo) == expected:
                    return True
    return False


def killed_writers(cache_dir: str, dry_run: bool = False) -> list[str]:
    """What killed writers of the cache's notes and memo (written under no lock of the cache: confined.write_locked)
    left, deleted once their lock is free; one sentence each (dry_run: their paths, nothing changed)."""
    return [said for where in (cacheusers.DIRECTORY, os.path.dirname(_MEMO))
            for said in leftovers.collect_unlocked(os.path.join(cache_dir, where), dry_run)]
