"""Find the files of an environment that name the directory it lives in.

Two sources, neither of which reads every byte of the environment:
- the package records, conda-meta/*.json `paths_data`: every file the installer wrote the
  prefix into has a `prefix_placeholder` and a `file_mode` (text or binary). The length of the
  placeholder is how much room a binary file has for a prefix: the installer replaced it with
  the prefix padded with NULs (libmamba link.cpp LinkFile::create_prefix_replaced, 2.8.1; conda
  core/portability.py binary_replace), so a later prefix may use up to that many characters;
- the places where files are written after install: scripts and pip launchers in bin/ and
  Scripts/ (shebangs, `Scripts\\*.exe` = launcher + shebang + zip), *.pth files and
  direct_url.json in site-packages, conda-meta/history and conda-meta/state, PREFIX/.condarc,
  micromamba's .bat files in condabin/, and our own PREFIX/.mambaboot/.

deep_scan() reads everything, for `audit`: what it finds that the cheap scan did not is named.

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
POST_INSTALL_DIRS = ("bin", "Scripts", "condabin", RECORD_DIR, "etc/conda/activate.d", "etc/conda/deactivate.d")
POST_INSTALL_FILES = (".condarc", "conda-meta/state", "conda-meta/history")
SCRIPT_HEAD = 2  # bytes read to tell a script (#!) or a Windows executable (MZ) from the rest
# Characters that may continue a path component: /env must not match inside /env2 or /env-old.
_PATH_CHAR = rb"[A-Za-z0-9_.+~\-]"


class Finding:
    """One file that holds the prefix. capacity: for binary files, the most characters a prefix may have."""

    __slots__ = ("path", "kind", "capacity", "source")

    def __init__(self, path, kind, capacity=None, source=""):
        self.path = path  # relative, with '/'
        self.kind = kind
        self.capacity = capacity
        self.source = source  # "package record" or "post-install"

    def to_dict(self):
        out = {"path": self.path, "kind": self.kind, "source": self.source}
        if self.capacity is not None:
            out["capacity"] = self.capacity
        return out

    @classmethod
    def from_dict(cls, data):
        return cls(data["path"], data["kind"], data.get("capacity"), data.get("source", ""))


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


def _records(prefix):
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except OSError:
        return
    for name in names:
        try:
            with open_regular(os.path.join(meta, name)) as f:
                raw = f.read()
        except OSError:
            continue
        if b"prefix_placeholder" not in raw:  # most packages: no need to parse
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            yield data


def recorded(prefix):
    """{relative path: Finding} of the files the package records say hold the prefix."""
    found = {}
    for data in _records(prefix):
        paths = (data.get("paths_data") or {}).get("paths") or []
        for entry in paths:
            placeholder = entry.get("prefix_placeholder")
            if not placeholder or entry.get("path_type", "hardlink") == "softlink":
                continue
            rel = str(entry.get("_path", "")).replace("\\", "/")
            if entry.get("file_mode", TEXT) == BINARY:
                found[rel] = Finding(rel, BINARY, len(placeholder), "package record")
            else:
                found[rel] = Finding(rel, TEXT, None, "package record")
    return found


def open_regular(path):
    """open(path, "rb") for a regular file, OSError for anything else: a fifo in the environment
    (bin/ holds whatever was put there) would hold a read forever, a device never end it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _head(path, size):
    try:
        with open_regular(path) as f:
            return f.read(size)
    except OSError:
        return b""


def _site_packages(prefix):
    places = [os.path.join(prefix, "Lib", "site-packages")]
    lib = os.path.join(prefix, "lib")
    try:
        places += [os.path.join(lib, n, "site-packages") for n in os.listdir(lib) if n.startswith("python")]
    except OSError:
        pass
    return [p for p in places if os.path.isdir(p)]


def post_install(prefix):
    """Relative paths of the files written after install that may hold the prefix."""
    found = []

    def add(path):
        if os.path.isfile(path) and not os.path.islink(path):
            found.append(os.path.relpath(path, prefix).replace(os.sep, "/"))

    for rel in POST_INSTALL_FILES:
        add(os.path.join(prefix, *rel.split("/")))
    for rel in POST_INSTALL_DIRS:
        directory = os.path.join(prefix, *rel.split("/"))
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if rel in ("bin", "Scripts") and _head(path, SCRIPT_HEAD) not in (b"#!", b"MZ"):
                continue  # neither a script nor a Windows executable: an installed binary is in the records
            add(path)
    for site in _site_packages(prefix):
        for name in sorted(os.listdir(site)):
            path = os.path.join(site, name)
            if name.endswith(".pth"):
                add(path)
            elif name.endswith(".dist-info"):
                add(os.path.join(path, "direct_url.json"))
    return found


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


def classify_post_install(prefix, rel, data):
    if rel == "conda-meta/history":
        return HISTORY
    if rel == RECORD_FILE:
        return RECORD
    if launcher_parts(data) is not None:
        return LAUNCHER
    if data.startswith(b"MZ"):
        return None  # an executable without an appended script: conda's cli-64.exe copies, no prefix
    return BINARY if b"\0" in data else TEXT


def find(prefix, location, windows):
    """Every file of the environment at `prefix` that names `location` (where its files say it
    lives), from the package records and the post-install places: a list of Findings."""
    rx = pattern(location, windows)
    found = recorded(prefix)
    for rel in post_install(prefix):
        if rel in found:
            continue
        data = _read(prefix, rel)
        if data is None or not rx.search(data):
            continue
        kind = classify_post_install(prefix, rel, data)
        if kind is not None:
            found[rel] = Finding(rel, kind, len(location) if kind == BINARY else None, "post-install")
    out = []
    for rel in sorted(found):
        finding = found[rel]
        if finding.source == "package record":
            data = _read(prefix, rel)
            if data is None or not rx.search(data):
                continue  # the file is gone or no longer names the prefix (rewritten by its owner)
            if windows and finding.kind == BINARY:
                # conda and libmamba rewrite only distlib launchers in Windows binaries (binary_replace)
                finding.kind = LAUNCHER if launcher_parts(data) is not None else finding.kind
        out.append(finding)
    return out


def deep_scan(prefix, location, windows, known=()):
    """Every regular file under prefix that names location and is not in `known`: Findings of kind
    bytecode, history or unknown. Reads every byte: for `audit`, never for `move`."""
    rx = pattern(location, windows)
    known = set(known)
    out = []
    for root, dirs, files in os.walk(prefix):
        rel_root = os.path.relpath(root, prefix).replace(os.sep, "/")
        if rel_root == ".":
            rel_root = ""
            dirs[:] = [d for d in dirs if d != "pkgs"]  # the package cache link
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            rel = f"{rel_root}/{name}" if rel_root else name
            path = os.path.join(root, name)
            if rel in known or os.path.islink(path):
                continue
            if not _contains(path, rx):
                continue
            if name.endswith((".pyc", ".pyo")):
                kind = BYTECODE
            elif rel == "conda-meta/history":
                kind = HISTORY
            else:
                kind = UNKNOWN
            out.append(Finding(rel, kind, None, "full scan"))
    return out


def _contains(path, rx, chunk=1 << 20):
    overlap = 4096
    try:
        with open_regular(path) as f:
            tail = b""
            while True:
                block = f.read(chunk)
                if not block:
                    return False
                if rx.search(tail + block):
                    return True
                tail = block[-overlap:]
    except OSError:
        return False


def _read(prefix, rel):
    try:
        with open_regular(os.path.join(prefix, *rel.split("/"))) as f:
            return f.read()
    except OSError:
        return None


_SHEBANG_PREFIX = re.compile(rb"^#!(/.*?)/bin/python[0-9.]*\s*$")


def location(prefix, windows):
    """Where the environment's files say it lives (the directory they name), and how we know.

    `pack`'s note first (an unpacked archive), then our record's inputs, then the shebang of a
    package's Python script; else the prefix itself.
    """
    packed = os.path.join(prefix, RECORD_DIR, PACKED_FILE)
    for path, keys in ((packed, ("prefix",)), (os.path.join(prefix, RECORD_DIR, "record.json"), ("inputs", "prefix"))):
        try:
            with open_regular(path) as f:
                value = json.load(f)
            for key in keys:
                value = value[key]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(value, str) and value:
            return value, path
    if not windows:
        for rel, finding in sorted(recorded(prefix).items()):
            if finding.kind == TEXT and rel.startswith("bin/"):
                first = (_head(os.path.join(prefix, rel), 4096).split(b"\n", 1) or [b""])[0]
                m = _SHEBANG_PREFIX.match(first)
                if m:
                    return m.group(1).decode("utf-8", "surrogateescape"), rel
    return prefix, None
