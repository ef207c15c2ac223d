"""Find the files of an environment that name the directory it lives in.

Every file of the environment is looked at (a walk that follows no link); what each holds is
known from the installers' own evidence where there is some, and read where there is none:

- the package records, conda-meta/*.json `paths_data`. conda and rattler give a file's
  `prefix_placeholder` and `file_mode` (text or binary); micromamba gives neither, only
  `sha256` (the file as the package shipped it) and `sha256_in_prefix` (as linked), which differ
  exactly where the link wrote the prefix into the file (libmamba/src/core/link.cpp
  LinkPackage::execute, 2.8.1). The package cache still holds the package's own
  info/paths.json with placeholder and mode: it is found through the record's
  `extracted_package_dir`, else PREFIX/pkgs by the record's `url` and `fn` (either cache
  layout; package_cache_folder_relative_path, libmamba/src/core/package_cache.cpp), and
  trusted only for the entries whose sha256 agrees with the record's;
- a file the record vouches for (both hashes, equal, and the size it recorded) is as its package
  shipped it: it cannot name this environment and is not read. Every other file is read (those
  written after install: pip's scripts and launchers, .pth files, conda-meta/history and state,
  .condarc, our .mambaboot/; and any the records cannot vouch for) and named when it holds the
  prefix;
- a symbolic link whose absolute target is inside the environment is retargeted; a file the
  records or the places written after install reach through a link that leaves the environment
  is named (OUTSIDE), never written through.

A binary file's room for a longer prefix is measured in the file (rewrite.binary_room): the NULs
the installer padded each string with (libmamba link.cpp LinkFile::create_prefix_replaced;
conda core/portability.py binary_replace), bounded by the placeholder's length where it is known.

Nothing that is not a regular file is ever opened (a fifo would block the reader). A package
record that is not what an installer writes (not an object, a `_path` that is absolute or holds
`..`, a field of the wrong type) is refused (BadRecord), naming the file.

find(read_all=True), for `audit`, also reads the files the records vouch for and compiled
bytecode: what that finds and the cheap pass did not is named.

This module and rewrite.py use the standard library only and import nothing from mambaboot:
`pack` copies their source into the archive's unpack script.
"""

import json
import os
import re
import stat

TEXT = "text"
BINARY = "binary"
LAUNCHER = "launcher"  # distlib's launcher + shebang + zip (pip's Scripts\*.exe on Windows)
RECORD = "record"  # our record: its location is updated as data, its history of moves kept
LINK = "link"  # a symbolic link whose absolute target is inside the environment: retargeted
OUTSIDE = "outside"  # reached through a link that leaves the environment: never written
RECORD_FILE = ".mambaboot/record.json"
# Files that name the prefix and need nothing: why, per kind.
HISTORY = "history"
BYTECODE = "bytecode"
UNKNOWN = "unknown"
HARMLESS = {
    HISTORY: "conda-meta/history is a log of past commands; nothing reads a path from it to run",
    BYTECODE: "compiled bytecode: Python replaces the recorded source path with the real one when it imports "
              "the module (importlib's _fix_co_filename); only tracebacks of stale .pyc files could show it",
}
RECORD_DIR = ".mambaboot"
PACKED_FILE = "packed.json"  # written by `pack`: where the packed environment lived
# Where scripts are written after install: a link that takes one of these out of the environment
# is looked through (read only), so that what would need rewriting there is named.
POST_INSTALL_DIRS = ("bin", "Scripts", "condabin", RECORD_DIR, "etc/conda/activate.d", "etc/conda/deactivate.d")
# Characters that may continue a path component: /env must not match inside /env2 or /env-old.
_PATH_CHAR = rb"[A-Za-z0-9_.+~\-]"
_ARCHIVES = (".tar.bz2", ".conda")
_NOT_FILES = ("softlink", "directory")  # path_type of record entries that are no regular file


class Refused(Exception):
    """What was asked cannot be done; nothing was changed. Carries the offending files."""

    def __init__(self, message, paths=()):
        super().__init__(message)
        self.paths = list(paths)


class BadRecord(Refused):
    """A package record that is not what an installer writes."""


class Finding:
    """One file that holds the prefix. capacity: for binary files, the placeholder's length where a
    package record or the package cache gives it (the room is measured in the file besides)."""

    __slots__ = ("path", "kind", "capacity", "source")

    def __init__(self, path, kind, capacity=None, source=""):
        self.path = path  # relative, with '/'
        self.kind = kind
        self.capacity = capacity
        self.source = source  # "package record", "package cache", "post-install", "link", "full scan"

    def to_dict(self):
        out = {"path": self.path, "kind": self.kind, "source": self.source}
        if self.capacity is not None:
            out["capacity"] = self.capacity
        return out

    @classmethod
    def from_dict(cls, data):
        return cls(data["path"], data["kind"], data.get("capacity"), data.get("source", ""))

    def __repr__(self):
        return f"Finding({self.path!r}, {self.kind!r})"


def spellings(prefix, windows):
    """The byte strings a file may use to name the prefix, longest first. On Windows the installer
    writes text files with forward slashes (conda update_prefix, libmamba create_prefix_replaced)
    and JSON doubles backslashes."""
    forms = [prefix]
    if windows:
        forms += [prefix.replace("\\", "/"), prefix.replace("\\", "\\\\")]
    out = []
    for form in forms:
        data = form.encode("utf-8", "surrogateescape")
        if data not in out:
            out.append(data)
    return sorted(out, key=len, reverse=True)


def pattern(prefix, windows):
    """A regex for the prefix as a whole path: not /env inside /env2 or /x/env."""
    alternatives = b"|".join(re.escape(s) for s in spellings(prefix, windows))
    # nor /a inside /a/a (PREFIX/a), but -I/a/include and -L/a/lib as compilers' flags write it
    before = b"(?:(?<!" + _PATH_CHAR + b")|(?<=-[A-Za-z]))"
    return re.compile(before + b"(?:" + alternatives + b")(?!" + _PATH_CHAR + b")", re.I if windows else 0)


# ------------------------------------------------------------------ reading without surprises


_READ = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
         | getattr(os, "O_CLOEXEC", 0))


def read_regular(path, dir_fd=None):
    """The bytes of a regular file, or None: not there, not a regular file (a fifo, socket or
    device is never waited on: O_NONBLOCK, then fstat), or a link (O_NOFOLLOW). dir_fd: path is
    relative to that directory."""
    try:
        fd = os.open(path, _READ, dir_fd=dir_fd) if dir_fd is not None else os.open(path, _READ)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def safe_relative(path):
    """path with '/', or None when it is not a path inside the environment (absolute, a drive,
    a `..` component)."""
    if not isinstance(path, str) or not path or "\0" in path:
        return None
    norm = path.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or ".." in norm.split("/"):
        return None
    return norm


def _inside(path, prefix):
    real = os.path.normcase(os.path.realpath(path))
    root = os.path.normcase(os.path.realpath(prefix))
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


# ------------------------------------------------------------------ package records


_STRINGS = ("_path", "prefix_placeholder", "file_mode", "path_type", "sha256", "sha256_in_prefix")
_RECORD_STRINGS = ("name", "version", "build", "url", "fn", "extracted_package_dir")


def _bad(name, what):
    return BadRecord(f"conda-meta/{name} is not a package record an installer writes: {what}", [f"conda-meta/{name}"])


def _checked(name, data):
    """The record's paths_data entries, each checked; raise BadRecord naming what is wrong."""
    if not isinstance(data, dict):
        raise _bad(name, "not a JSON object")
    for key in _RECORD_STRINGS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _bad(name, f"{key} is not a string")
    files = data.get("files")
    if files is not None:
        if not isinstance(files, list):
            raise _bad(name, "files is not a list")
        for i, path in enumerate(files):
            if safe_relative(path) is None:
                raise _bad(name, f"files[{i}] {path!r} is not a path inside the environment")
    paths_data = data.get("paths_data")
    if paths_data is None:
        return []
    if not isinstance(paths_data, dict):
        raise _bad(name, "paths_data is not an object")
    entries = paths_data.get("paths")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise _bad(name, "paths_data.paths is not a list")
    for i, entry in enumerate(entries):
        where = f"paths_data.paths[{i}]"
        if not isinstance(entry, dict):
            raise _bad(name, f"{where} is not an object")
        for key in _STRINGS:
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise _bad(name, f"{where}.{key} is not a string")
        if safe_relative(entry.get("_path")) is None:
            raise _bad(name, f"{where}._path {entry.get('_path')!r} is not a path inside the environment")
        size = entry.get("size_in_bytes")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise _bad(name, f"{where}.size_in_bytes is not a size")
    return entries


def records(prefix, strict=True):
    """[(file name, record, its checked paths_data entries)] of conda-meta/*.json; strict=False
    leaves out a record that is not what installers write instead of refusing it."""
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except OSError:
        return []
    out = []
    for name in names:
        raw = read_regular(os.path.join(meta, name))
        if raw is None:
            continue
        try:
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise _bad(name, f"not JSON ({exc})") from None
            except RecursionError:  # json's scanner stops at the interpreter's limit (this script reads alone)
                raise _bad(name, "JSON nested deeper than Python reads") from None
            out.append((name, data, _checked(name, data)))
        except BadRecord:
            if strict:
                raise
    return out


def _stem(record):
    fn = record.get("fn") or ""
    for suffix in _ARCHIVES:
        if fn.endswith(suffix):
            return fn[: -len(suffix)]
    parts = [record.get(k) for k in ("name", "version", "build")]
    return "-".join(parts) if all(parts) else None


def _url_folder(url):
    """The directory micromamba >= 2.6 extracts a package under: its URL's directory, "://" -> "/",
    ':' and '\\' -> '_' (package_cache_folder_relative_path, libmamba/src/core/package_cache.cpp)."""
    directory = url.rsplit("/", 1)[0]
    return directory.replace("://", "/").replace(":", "_").replace("\\", "_")


def _cache_dirs(prefix, record):
    """Where the package's extracted directory may be: the record says, or PREFIX/pkgs (our link to
    the package cache) holds it flat (conda, micromamba < 2.6) or under its URL's directory."""
    places = []
    if record.get("extracted_package_dir"):
        places.append(record["extracted_package_dir"])
    stem = _stem(record)
    if stem:
        pkgs = os.path.join(prefix, "pkgs")
        places.append(os.path.join(pkgs, stem))
        if record.get("url"):
            places.append(os.path.join(pkgs, *_url_folder(record["url"]).split("/"), stem))
    return places


def _shipped(prefix, record):
    """{path: entry} of the package's own info/paths.json in the package cache; {} when gone."""
    for place in _cache_dirs(prefix, record):
        raw = read_regular(os.path.join(place, "info", "paths.json"))
        if raw is None:
            continue
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        entries = doc.get("paths") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            continue
        out = {}
        for entry in entries:
            if isinstance(entry, dict) and safe_relative(entry.get("_path")):
                out[safe_relative(entry["_path"])] = entry
        return out
    return {}


def _shipped_entry(shipped, rel):
    """The cache's entry for a file of the prefix; a noarch: python package ships site-packages/
    and python-scripts/, linked into the python's site-packages and bin/ (Scripts/)
    (get_python_noarch_target_path, libmamba link.cpp and conda/common/path/python.py)."""
    if rel in shipped:
        return shipped[rel]
    if "/site-packages/" in rel:
        return shipped.get("site-packages/" + rel.split("/site-packages/", 1)[1])
    for scripts in ("bin/", "Scripts/"):
        if rel.startswith(scripts):
            return shipped.get("python-scripts/" + rel[len(scripts):])
    return None


def linked_text(entry):
    """Whether a record's entry is a text file the link wrote the prefix into: its placeholder in
    text mode (conda, rattler), or (micromamba) hashes that differ without a placeholder to say."""
    if entry.get("prefix_placeholder"):
        return entry.get("file_mode", TEXT) != BINARY
    sha, in_prefix = entry.get("sha256"), entry.get("sha256_in_prefix")
    return bool(sha and in_prefix and sha != in_prefix)


class _Evidence:
    """What the installers say about one file of a record."""

    __slots__ = ("placeholder", "mode", "changed", "clean", "size", "source")

    def __init__(self, placeholder, mode, changed, clean, size, source):
        self.placeholder, self.mode, self.changed = placeholder, mode, changed
        self.clean, self.size, self.source = clean, size, source


def evidence(prefix, recs=None):
    """{relative path: _Evidence} for every regular file the package records name."""
    out = {}
    for _, record, entries in recs if recs is not None else records(prefix):
        shipped = None
        for entry in entries:
            rel = safe_relative(entry["_path"])
            if entry.get("path_type") in _NOT_FILES:
                continue
            placeholder, mode, source = entry.get("prefix_placeholder"), entry.get("file_mode"), "package record"
            sha, in_prefix = entry.get("sha256"), entry.get("sha256_in_prefix")
            changed = bool(sha and in_prefix and sha != in_prefix)
            if not placeholder and changed:
                if shipped is None:
                    shipped = _shipped(prefix, record)
                cached = _shipped_entry(shipped, rel)
                if cached is not None and cached.get("sha256") in (None, sha) \
                        and isinstance(cached.get("prefix_placeholder"), str):
                    placeholder, mode, source = cached["prefix_placeholder"], cached.get("file_mode"), "package cache"
            clean = bool(sha and in_prefix and sha == in_prefix and not placeholder)
            out[rel] = _Evidence(placeholder or None, mode if isinstance(mode, str) else None, changed, clean,
                                 entry.get("size_in_bytes"), source)
    return out


# ------------------------------------------------------------------ the walk


def _walk(prefix):
    """(relative path, DirEntry) of everything under prefix, links not followed, the PREFIX/pkgs
    link to the package cache left out."""
    stack = [("", prefix)]
    while stack:
        rel_dir, path = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = rel_dir + entry.name
            if not rel_dir and entry.name == "pkgs":
                continue
            yield rel, entry
            try:
                is_dir = entry.is_dir(follow_symlinks=False) and not _is_junction(entry)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append((rel + "/", entry.path))


def _is_junction(entry):
    check = getattr(entry, "is_junction", None)
    return bool(check and check())


def _is_link(entry):
    try:
        return entry.is_symlink() or _is_junction(entry)
    except OSError:
        return False


def launcher_parts(data):
    """(launcher, shebang, zip) of a distlib launcher executable, or None (conda portability.py
    replace_pyzzer_entry_point_shebang; libmamba link.cpp has_pyzzer_entrypoint, 2.8.1)."""
    if not data.startswith(b"MZ"):
        return None
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 20 > len(data):
        return None
    size = int.from_bytes(data[end + 12:end + 16], "little")
    offset = int.from_bytes(data[end + 16:end + 20], "little")
    start = end - size - offset
    if start <= 0:
        return None
    bang = data.rfind(b"#!", 0, start)
    if bang <= 0:
        return None
    return data[:bang], data[bang:start], data[start:]


def classify(rel, data):
    """The kind of a file that names the prefix, from what it is and holds; None: leave it."""
    if rel == "conda-meta/history":
        return HISTORY
    if rel == RECORD_FILE:
        return RECORD
    if rel.endswith((".pyc", ".pyo")):
        return BYTECODE
    if launcher_parts(data) is not None:
        return LAUNCHER
    if data.startswith(b"MZ"):
        return None  # an executable without an appended script: conda's cli-64.exe copies, no prefix
    return BINARY if b"\0" in data else TEXT


def _names(data, rx, quick):
    if quick is not None and not any(s in data for s in quick):
        return False  # bytes.find is far quicker than the pattern's look-behind on large files
    return rx.search(data) is not None


def _link_target_inside(target, rx):
    """Whether an absolute link target names the location (the environment or a path in it)."""
    data = target.encode("utf-8", "surrogateescape")
    return rx.match(data) is not None


def find(prefix, location, windows, read_all=False):
    """Every file of the environment at `prefix` that names `location` (where its files say it
    lives): a sorted list of Findings. read_all: also the files the records vouch for, and
    compiled bytecode (audit)."""
    rx = pattern(location, windows)
    quick = None if windows else spellings(location, windows)
    recs = records(prefix)
    known = evidence(prefix, recs)
    found = {}
    seen = set()
    for rel, entry in _walk(prefix):
        seen.add(rel)
        if _is_link(entry):
            _a_link(prefix, rel, entry.path, rx, quick, known, found)
            continue
        try:
            regular = entry.is_file(follow_symlinks=False)
        except OSError:
            regular = False
        if not regular or rel == f"{RECORD_DIR}/{PACKED_FILE}":
            continue  # fifos, sockets, devices are never opened; pack's note is read as such
        ev = known.get(rel)
        vouched = ev is not None and ev.clean and (ev.size is None or _size(entry) == ev.size)
        if not read_all and (vouched or rel.endswith((".pyc", ".pyo"))):
            continue
        data = read_regular(entry.path)
        if data is None or not _names(data, rx, quick):
            continue
        finding = _finding(rel, data, ev, vouched, windows)
        if finding is not None:
            found[rel] = finding
    for rel in known:
        if rel not in seen and not rel.startswith("pkgs/"):
            _through_a_link(prefix, rel, rx, quick, found)
    return [found[rel] for rel in sorted(found)]


def _size(entry):
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return None


def _finding(rel, data, ev, vouched, windows):
    kind = classify(rel, data)
    if kind is None:
        return None
    if vouched and kind != BYTECODE:
        return Finding(rel, UNKNOWN, None, "full scan")  # names the prefix though its record says not
    if ev is None or kind in (HISTORY, RECORD, BYTECODE):
        return Finding(rel, kind, None, "post-install")
    if ev.placeholder and kind != LAUNCHER:
        kind = BINARY if ev.mode == BINARY else TEXT
    capacity = len(ev.placeholder.encode("utf-8", "surrogateescape")) if ev.placeholder and kind == BINARY else None
    if windows and kind == BINARY and launcher_parts(data) is not None:
        kind = LAUNCHER  # conda and libmamba rewrite only distlib launchers in Windows binaries (binary_replace)
    return Finding(rel, kind, capacity, ev.source)


def _a_link(prefix, rel, path, rx, quick, known, found):
    """A link: retargeted when its absolute target is inside; looked through when it takes a file
    of a record, or a place written after install, out of the environment."""
    try:
        target = os.readlink(path)
    except OSError:
        return
    if os.path.isabs(target) and _link_target_inside(target, rx):
        found[rel] = Finding(rel, LINK, None, "link")
        return
    if _inside(path, prefix):
        return
    if rel in known or rel in POST_INSTALL_DIRS or os.path.dirname(rel) in POST_INSTALL_DIRS:
        _outside(prefix, rel, path, rx, quick, found)


def _through_a_link(prefix, rel, rx, quick, found):
    """A file a record names that the walk did not reach: a directory on its way is a link."""
    path = os.path.join(prefix, *rel.split("/"))
    if not os.path.lexists(path) or _inside(path, prefix):
        return  # gone, or reached by the walk at its real place
    _outside(prefix, rel, path, rx, quick, found)


def _outside(prefix, rel, path, rx, quick, found):
    """Name what outside the environment (a file, or a directory's files) names the location."""
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        items = [(f"{rel}/{n}", os.path.join(path, n)) for n in names]
    else:
        items = [(rel, path)]
    for item_rel, item in items:
        data = read_regular(os.path.realpath(item))
        if data is not None and _names(data, rx, quick):
            found[item_rel] = Finding(item_rel, OUTSIDE, None, "outside: " + os.path.realpath(item))


# ------------------------------------------------------------------ where the files say it lives


_SHEBANG_PREFIX = re.compile(rb"^#!(/.*?)/bin/python[0-9.]*[ \t]*(?:\n|$)")
_EXEC_PREFIX = re.compile(rb"^#!/bin/sh\n'''exec' \"(/[^\"\n]*?)/bin/python[0-9.]*\"")


def location(prefix, windows):
    """Where the environment's files say it lives (the directory they name), and how we know.

    `pack`'s note first (an unpacked archive), then our record's inputs, then the first lines of a
    package's Python script the link wrote the prefix into; else the prefix itself.
    """
    packed = os.path.join(prefix, RECORD_DIR, PACKED_FILE)
    for path, keys in ((packed, ("prefix",)), (os.path.join(prefix, RECORD_DIR, "record.json"), ("inputs", "prefix"))):
        raw = read_regular(path)
        try:
            value = json.loads(raw) if raw is not None else None
            for key in keys:
                value = value[key]
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
        if isinstance(value, str) and value:
            return value, path
    if not windows:
        try:
            known = evidence(prefix)
        except BadRecord:
            known = {}
        for rel in sorted(known):
            ev = known[rel]
            if rel.startswith("bin/") and (ev.changed or ev.placeholder):
                head = (read_regular(os.path.join(prefix, *rel.split("/"))) or b"")[:4096]
                m = _SHEBANG_PREFIX.match(head) or _EXEC_PREFIX.match(head)
                if m:
                    return m.group(1).decode("utf-8", "surrogateescape"), rel
    return prefix, None


def site_packages(prefix):
    places = [os.path.join(prefix, "Lib", "site-packages")]
    lib = os.path.join(prefix, "lib")
    try:
        places += [os.path.join(lib, n, "site-packages") for n in os.listdir(lib) if n.startswith("python")]
    except OSError:
        pass
    return [p for p in places if os.path.isdir(p) and not os.path.islink(p)]
