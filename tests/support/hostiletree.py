"""Hostile trees for tests/test_fuzz_trees.py: a world (an environment made by `create`, its
cache, a home and a sentinel directory of the user's outside them) kept as a template and put
back before every example, the mutations hypothesis draws, and the snapshots the fuzzer's
invariants compare.

Linux only: fifos, unix sockets, bind mounts (when the suite runs as root and `mount --bind`
works; otherwise that mutation is never drawn).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HUGE = (1 << 30) + 1  # past any limit a reader of small metadata files can sanely have; sparse
DEEP = 5000  # nesting, past Python's recursion limit
DEEP_TREE = 300  # directory levels, past the bound every walk of a tree keeps (common/files/treewalk.py)
BIG_FILE = 16 << 20  # above this a file is compared by size and mtime, not read


# -- the world -----------------------------------------------------------------------------------


@dataclass
class World:
    """Where everything of one example lives: root holds all of it."""

    root: Path

    @property
    def prefix(self) -> Path:
        return self.root / "envs" / "fz env"

    @property
    def moved(self) -> Path:
        return self.root / "envs" / "moved"

    @property
    def created(self) -> Path:  # where `create` makes a new environment beside the fuzzed one
        return self.root / "envs" / "fz new"

    def intents(self) -> List[str]:
        """The lock files, each holding its run's intent, of the places commands change (environment/placelock.py)."""
        return [str(p.parent / f".{p.name}.mambaboot-lock") for p in (self.prefix, self.moved, self.created)]

    def set_aside(self) -> List[Path]:
        """The old environments create --force set aside (tempname.set_aside, proof.OLD's kind)."""
        return sorted((self.root / "envs").glob(f".{self.prefix.name}.mambaboot-tmp-*-old"))

    @property
    def xdg_cache(self) -> Path:
        return self.root / "xdg"

    @property
    def cache(self) -> Path:  # the default cache dir too: $XDG_CACHE_HOME/mambaboot
        return self.xdg_cache / "mambaboot"

    @property
    def pkgs(self) -> Path:
        return self.cache / "Python" / "pkgs"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def outside(self) -> Path:  # the sentinel: the user's files, which nothing may change
        return self.root / "outside"

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def environ(self, base: Dict[str, str]) -> Dict[str, str]:
        home = str(self.home)
        return {**base, "HOME": home, "TMPDIR": str(self.tmp), "XDG_CACHE_HOME": str(self.xdg_cache),
                "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
                "XDG_STATE_HOME": os.path.join(home, ".local", "state")}

    def layout(self) -> None:
        for d in (self.home, self.outside, self.cwd, self.tmp, self.out, self.root / "envs", self.xdg_cache):
            d.mkdir(parents=True, exist_ok=True)

    def plant_sentinel(self) -> None:
        """The user's files outside: each names the prefix (so that a rewrite of the prefix through
        a link shows), the notes look like the cache's own and name environments that are gone."""
        o, prefix = self.outside, str(self.prefix)
        (o / "victim.txt").write_text(f"the user's file, naming {prefix}\n")
        (o / "user.json").write_text(json.dumps({"prefix": "/nonexistent/gone", "note": prefix}))
        (o / "environments.txt").write_text(f"{prefix}\n/home/someone/other-env\n")
        (o / "condarc").write_text("channels: [the-users-own]\nenv_prompt: '(user) '\n")
        for sub in ("hooks", "notes", "bound", "deep/er"):
            (o / sub).mkdir(parents=True)
        (o / "hooks" / "user-hook.sh").write_text(f"# the user's shared hook for {prefix}\n")
        (o / "notes" / ("%032x.json" % 1)).write_text(json.dumps({"prefix": "/nonexistent/gone"}))
        (o / "notes" / ("%032x.json" % 2)).write_text(json.dumps({"prefix": str(o / "deep")}))
        (o / "bound" / "data.txt").write_text(f"on another mount: {prefix}\n")
        (o / "deep" / "er" / "file.txt").write_text("x\n")


def copy_tree(src: Path, dst: Path) -> None:
    """cp -a: hard links within the tree stay hard links (the environment's files and the cache's)."""
    subprocess.run(["cp", "-a", "--", str(src), str(dst)], check=True)


def mounts_under(root: Path) -> List[str]:
    """Mount points at or below root, deepest first (from /proc/self/mountinfo, where a space,
    tab, newline or backslash of a path is written as an octal escape)."""
    import re

    top = os.path.realpath(root)
    found = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), line.split(b" ")[4])
            point = os.fsdecode(raw)
            if point == top or point.startswith(top + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_all(root: Path) -> None:
    for point in mounts_under(root):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], check=True)
    assert not mounts_under(root), mounts_under(root)


def bind_available(scratch: Path) -> bool:
    """Whether this run may bind-mount (root, and the kernel lets it): else never drawn."""
    if os.geteuid() != 0:
        return False
    a, b = scratch / "bind-a", scratch / "bind-b"
    a.mkdir()
    b.mkdir()
    ok = subprocess.run(["mount", "--bind", str(a), str(b)], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(b)], check=True)
    a.rmdir()
    b.rmdir()
    return ok


def remove_tree(path: Path) -> None:
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=True)


# -- stat signatures: what changed, and putting back only that -----------------------------------


def _walk(root: Path):
    """(relative path, lstat) of every entry under root, never through a link or into a mount."""
    top = os.lstat(root).st_dev
    mounts = set(mounts_under(root))
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            p = os.path.join(d, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            yield os.path.relpath(p, root), st
            if stat.S_ISDIR(st.st_mode) and st.st_dev == top and p not in mounts:
                stack.append(p)


def signature(root: Path) -> Dict[str, tuple]:
    """Per entry what any change alters: a directory's own mode and inode (its entries count on
    their own), a file's inode, size, link count, mtime and ctime, a link's target."""
    sig = {}
    for rel, st in _walk(root):
        if stat.S_ISDIR(st.st_mode):
            sig[rel] = ("dir", st.st_mode, st.st_ino)
        elif stat.S_ISLNK(st.st_mode):
            sig[rel] = ("link", st.st_ino, os.readlink(os.path.join(root, rel)))
        else:
            sig[rel] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_ino, st.st_size, st.st_nlink, st.st_mtime_ns,
                        st.st_ctime_ns)
    return sig


class Restorer:
    """Puts the world back from its template: only the changed top-level parts of the environment,
    cache, home and sentinel when none of them holds a file hard-linked elsewhere, else all of it."""

    def __init__(self, template: Path, world: World):
        self.template, self.world = template, world
        linked = {rel for rel, st in _walk(template) if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1}
        self.costly = {self._unit(rel) for rel in linked}
        self.full()

    def _unit(self, rel: str) -> str:
        parts = rel.split(os.sep)
        for base in (self.world.prefix, self.world.cache, self.world.home, self.world.outside):
            b = os.path.relpath(base, self.world.root).split(os.sep)
            if parts[:len(b)] == b:
                return os.sep.join(parts[:len(b) + 1]) if len(parts) > len(b) else "*"
        return parts[0] if len(parts) > 1 or parts[0] not in ("envs", "xdg") else os.sep.join(parts[:2])

    def full(self) -> None:
        root = self.world.root
        unmount_all(root)
        if root.exists():
            remove_tree(root)
        copy_tree(self.template, root)
        self.baseline = signature(root)

    def restore(self) -> None:
        root = self.world.root
        unmount_all(root)
        now = signature(root)
        changed = {rel for rel in set(now) | set(self.baseline) if now.get(rel) != self.baseline.get(rel)}
        units = {self._unit(rel) for rel in changed}
        if "*" in units or any(u == c or c.startswith(u + os.sep) for u in units for c in self.costly):
            self.full()
            return
        for unit in sorted(units):
            if (root / unit).exists() or (root / unit).is_symlink():
                if (root / unit).is_dir() and not (root / unit).is_symlink():
                    remove_tree(root / unit)
                else:
                    os.unlink(root / unit)
            source = self.template / unit
            if source.exists() or source.is_symlink():
                copy_tree(source, root / unit)
        self.baseline = signature(root)
        assert not {k for k in set(self.baseline) | set(now) if self._unit(k) not in units
                    and self.baseline.get(k) != now.get(k)}


# -- snapshots for the invariants ----------------------------------------------------------------


def _digest(path: str, st: os.stat_result) -> str:
    if st.st_size > BIG_FILE:
        return f"size {st.st_size} mtime {st.st_mtime_ns}"
    h = hashlib.sha256()
    if not os.access(path, os.R_OK):  # a "no permission" mutation, where the suite is no superuser
        return f"unreadable, size {st.st_size} mtime {st.st_mtime_ns}"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_DIGESTS: Dict[tuple, str] = {}  # by path and stat: cp -a keeps mtimes, so a restored file is not read again


def outside_snapshot(world: World) -> Dict[str, tuple]:
    """Everything of the world but the environment (and where move, pack or create may write) and
    the cache: kind, mode, inode, and a regular file's content."""
    return tree_snapshot(world.root, skip=(world.prefix, world.moved, world.created, world.cache, world.out,
                                           *world.set_aside()), skip_names=tuple(world.intents()))


def tree_snapshot(root: Path, skip=(), skip_names=()) -> Dict[str, tuple]:
    """Every entry under root but those at or below skip, or whose path starts with one of
    skip_names: kind, mode, inode, a regular file's content (read again only when its stat changed)."""
    skip = {str(s) for s in skip}
    snap: Dict[str, tuple] = {}
    for rel, st in _walk(root):
        full = os.path.join(root, rel)
        if any(full == s or full.startswith(s + os.sep) for s in skip) or full.startswith(tuple(skip_names)):
            continue
        if stat.S_ISDIR(st.st_mode):
            snap[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_ino)
        elif stat.S_ISLNK(st.st_mode):
            snap[rel] = ("link", os.readlink(full))
        elif stat.S_ISREG(st.st_mode):
            key = (full, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if key not in _DIGESTS:
                _DIGESTS[key] = _digest(full, st)
            snap[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_ino, _DIGESTS[key])
        else:
            snap[rel] = (kind_of(st.st_mode), stat.S_IMODE(st.st_mode), st.st_ino)
    return snap




def cache_snapshot(world: World) -> Dict[str, tuple]:
    """Every regular file of the package cache: inode, link count, mode, stat times and content."""
    snap = {}
    if not world.pkgs.is_dir() or world.pkgs.is_symlink():
        return snap
    for rel, st in _walk(world.pkgs):
        if stat.S_ISREG(st.st_mode):
            full = os.path.join(world.pkgs, rel)
            key = (full, st.st_size, st.st_mtime_ns)
            if key not in _DIGESTS:
                _DIGESTS[key] = _digest(full, st)
            snap[rel] = (st.st_ino, st.st_nlink, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, _DIGESTS[key])
    return snap


def cache_after(world: World, before: Dict[str, tuple]) -> Dict[str, Optional[tuple]]:
    """The same for the files of `before`, reading again only those whose stat changed (None: gone)."""
    after: Dict[str, Optional[tuple]] = {}
    for rel, old in before.items():
        full = os.path.join(world.pkgs, rel)
        try:
            st = os.lstat(full)
        except OSError:
            after[rel] = None
            continue
        if not stat.S_ISREG(st.st_mode):
            after[rel] = (st.st_ino, st.st_nlink, st.st_mode, st.st_size, None, None, kind_of(st.st_mode))
            continue
        quick = (st.st_ino, st.st_nlink, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        after[rel] = old if quick == old[:6] else (*quick, _digest(full, st))
    return after


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISLNK, "link"), (stat.S_ISREG, "file"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "char device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "?"


def listing(root: Path, only: Optional[set] = None, limit: int = 200) -> str:
    """One line per entry (only those in `only` when given): kind, size, links, target, mount."""
    lines = []
    mounts = set(mounts_under(root))
    for rel, st in sorted(_walk(root)):
        if only is not None and rel not in only:
            continue
        full = os.path.join(root, rel)
        extra = f" -> {os.readlink(full)!r}" if stat.S_ISLNK(st.st_mode) else ""
        extra += " [mount point]" if os.path.realpath(full) in mounts and not stat.S_ISLNK(st.st_mode) else ""
        lines.append(f"  {kind_of(st.st_mode):<7} {st.st_size:>12} n{st.st_nlink:<3} {rel!r}{extra}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"  ... {len(lines) - limit} more"]
    return "\n".join(lines)


# -- mutations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A file or directory of the world that a command reads or writes."""

    name: str
    base: str  # prefix, cache, home
    rel: str
    role: str  # json-record, json-meta, json-state, json-note, json-envvars, lock, lockfile, claim, script, yaml,
    # envs-txt, text, dir


def places(world: World, meta_record: str, note_key: str) -> List[Place]:
    from mambaboot.common.files import fsops

    P = Place
    new_key = fsops.path_key(str(world.created))
    return [
        P("record", "prefix", ".mambaboot/record.json", "json-record"),
        P("lock.txt", "prefix", ".mambaboot/lock.txt", "lock"),
        P("activate.sh", "prefix", ".mambaboot/activate.sh", "text"),
        P("prefix .condarc", "prefix", ".condarc", "yaml"),
        P("conda-meta record", "prefix", f"conda-meta/{meta_record}", "json-meta"),
        P("conda-meta/state", "prefix", "conda-meta/state", "json-state"),
        P("conda-meta/history", "prefix", "conda-meta/history", "text"),
        P("env_vars.d file", "prefix", "etc/conda/env_vars.d/fuzz.json", "json-envvars"),
        P("activate.d hook", "prefix", "etc/conda/activate.d/~mambaboot-root.sh", "script"),
        P("pkgs link", "prefix", "pkgs", "text"),
        P("record dir", "prefix", ".mambaboot", "dir"),
        P("conda-meta", "prefix", "conda-meta", "dir"),
        P("activate.d", "prefix", "etc/conda/activate.d", "dir"),
        P("env_vars.d", "prefix", "etc/conda/env_vars.d", "dir"),
        P("a directory of the environment", "prefix", "share/fuzz-data", "dir"),
        P("cache note", "cache", f"environments/{note_key}.json", "json-note"),
        P("pending marker", "cache", f"pending/{note_key}.json", "json-note"),
        P("another cache note", "cache", "environments/%032x.json" % 7, "json-note"),
        P("another pending marker", "cache", "pending/%032x.json" % 7, "json-note"),
        # the locks (environment/placelock.py) of the environment and of create's new one, beside
        # them; a pending marker as older versions wrote them (cache clean collects them); and the
        # mark create --force writes into the old one
        P("target lock", "envs", f".{world.prefix.name}.mambaboot-lock", "lockfile"),
        P("new prefix's lock", "envs", f".{world.created.name}.mambaboot-lock", "lockfile"),
        P("new prefix's pending marker", "cache", f"pending/{new_key}.json", "json-note"),
        P("claim mark", "prefix", ".mambaboot-claim", "claim"),
        P("CACHE/environments", "cache", "environments", "dir"),
        P("CACHE/pending", "cache", "pending", "dir"),
        P("environments.txt", "home", ".conda/environments.txt", "envs-txt"),
        P("home .condarc", "home", ".condarc", "yaml"),
        P("home .mambarc", "home", ".mambarc", "yaml"),
    ]


FILE_KINDS = ["content", "fifo", "socket", "symlink out", "symlink into the cache", "dangling symlink",
              "symlink loop", "directory", "hard link from the cache", "hard link to the user's file", "bind mount",
              "no permission", "symlink to a missing file"]
DIR_KINDS = ["symlink out", "symlink into the cache", "bind mount", "fifo", "file", "odd names", "deep tree"]
ODD_ENTRY_KINDS = ["file", "fifo", "directory", "symlink out"]

GENERIC_PAYLOADS = ["deep", "huge", "bom", "nul", "bad utf-8", "lone surrogate", "empty", "truncated"]
ROLE_PAYLOADS = {
    "json-record": ["lock outside", "files outside", "wrong types", "not an object"],
    "json-meta": ["files outside", "wrong types", "not an object"],
    "json-state": ["hostile variables", "wrong types"],
    "json-note": ["prefix outside", "owner lock outside", "wrong types", "not an object", "owner alive",
                  "owner dead", "owner lock a user's file", "owner lock a directory"],
    "json-envvars": ["hostile variables", "wrong types"],
    "lock": ["bad url", "nul in path"],
    "lockfile": ["held by another process"],  # a run's lock: this test process holds it (flock)
    "claim": [],
    "yaml": ["env_prompt with bom", "duplicate keys", "alias bomb", "deep block", "python tag"],
    "envs-txt": ["crlf"],
    "script": [],
    "text": [],
}

ODD_NAMES = ["$(touch PWNED).json", "`touch PWNED`.sh", "new\nline.json", "ünï環境.json",
             os.fsdecode(b"\xff\xfe.json"),
             "x" * 250 + ".json", "-rf.json", " lead.sh", "a;touch PWNED;.sh", "%PATH%^!.bat", "*.json",
             "'q\".ps1", "$(touch PWNED)",
             # what str.splitlines breaks a line at, and a terminal acts on
             "line\u2028sep.json", "next\x85line.json", "form\ffeed.sh", "vertical\vtab.json", "\x1b[31mred.json"]


@dataclass
class Mutation:
    place: Place
    kind: str
    payload: str = ""
    odd_name: str = ""
    odd_kind: str = ""

    def __str__(self) -> str:
        what = self.kind + (f" ({self.payload})" if self.payload else "")
        if self.kind == "odd names":
            what += f": {self.odd_kind} named {self.odd_name!r}"
        return f"{self.place.name} [{self.place.base}/{self.place.rel}]: {what}"


def _deep_json() -> bytes:
    return ("[" * DEEP + "]" * DEEP).encode()


def payload_bytes(world: World, place: Place, payload: str, original: bytes) -> bytes:
    """The content a mutation writes (HUGE is written sparse by the caller)."""
    if place.role in READ_BACK_PAYLOADS and payload in READ_BACK_PAYLOADS[place.role]:
        return _read_back_payload(world, payload, original)
    prefix, outside = str(world.prefix), str(world.outside)
    victim = os.path.relpath(world.outside / "victim.txt", world.prefix)
    try:
        obj = json.loads(original.decode("utf-8")) if place.role.startswith("json") and original else {}
    except (ValueError, RecursionError):  # an earlier mutation's content: 5,000 deep, or not JSON
        obj = {}
    obj = obj if isinstance(obj, dict) else {}

    def merged(**extra) -> bytes:
        return json.dumps({**obj, **extra}).encode()

    yaml = place.role == "yaml"
    if payload == "deep":
        return (b"a: " + b"[" * DEEP + b"]" * DEEP + b"\n") if yaml else _deep_json()
    if payload == "bom":
        return b"\xef\xbb\xbf" + (original or b"{}")
    if payload == "nul":
        half = len(original) // 2
        return original[:half] + b"\x00" + original[half:] if original else b"\x00"
    if payload == "bad utf-8":
        return original + b"\xff\xfe\xed\xa0\x80\n"
    if payload == "lone surrogate":
        return merged(prefix="\ud800", fuzz="\udcff") if place.role.startswith("json") else original + b"\xed\xa0\x80\n"
    if payload == "empty":
        return b""
    if payload == "truncated":
        return original[: len(original) // 2]
    if payload == "lock outside":
        return merged(lock=victim)
    if payload == "files outside":
        if place.role == "json-record":
            return merged(files=[victim, str(world.outside / "victim.txt"), "../" * 3])
        return merged(files=[victim, "../../outside/hooks/user-hook.sh"], paths_data={"paths_version": 1, "paths": [
            {"_path": victim, "path_type": "hardlink", "file_mode": "text", "prefix_placeholder": prefix,
             "sha256": "0" * 64}]})
    if payload == "wrong types":
        if place.role == "json-note":
            return json.dumps({"prefix": 5, "owner_lock": ["x"], "pid": "x"}).encode()
        if place.role in ("json-state", "json-envvars"):
            return json.dumps({"env_vars": [1, 2], "FUZZ": {"a": 1}}).encode()
        return merged(files="x", state=5, inputs=[], provisioning="x", name=7, version=None, depends={})
    if payload == "not an object":
        return b"[1, 2, 3]"
    if payload == "prefix outside":
        return json.dumps({"prefix": outside + "/hooks"}).encode()
    if payload == "owner lock outside":
        return json.dumps({"tool": "mambaboot", "prefix": prefix, "pid": 1,
                           "owner_lock": outside + "/new-owner.lock"}).encode()
    if payload in OWNERS:  # the pid alive (this test's own) or long dead, the owner lock anything
        named = str(world.created) if "new prefix" in place.name else prefix
        pid, owner_lock = OWNERS[payload](world)
        return json.dumps({"tool": "mambaboot", "prefix": named, "pid": pid, "started": "2026-01-01T00:00:00+00:00",
                           "owner_lock": owner_lock}).encode()
    if payload == "hostile variables":
        bad = {"FUZZ_$(touch PWNED)": "$(touch PWNED)", "FUZZ_Q": "'\"`touch PWNED`\"'", "FUZZ_NL": "a\nb",
               "FUZZ_NUL": "a\x00b", "FUZZ_SURR": "\udcff", "FUZZ PCT": "%PATH%^!"}
        return json.dumps({"env_vars": bad} if place.role == "json-state" else bad).encode()
    if payload == "bad url":
        return b"@EXPLICIT\nhttp://[x/linux-64/a-1-0.conda#" + b"0" * 64 + b"\n"
    if payload == "nul in path":
        return (b"@EXPLICIT\nfile:///tmp/a\x00b/linux-64/a-1-0.conda\n"
                b"file:///tmp/a%00b/linux-64/b-1-0.conda#" + b"0" * 64 + b"\n")
    if payload == "env_prompt with bom":
        return b"\xef\xbb\xbfenv_prompt: '(mine) '\nchannels: [mine]\n"
    if payload == "duplicate keys":
        return b"env_prompt: a\nenv_prompt: b\nchannels: [x]\nchannels: [y]\n"
    if payload == "alias bomb":
        lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 9):
            prev = chr(ord("a") + i - 1)
            lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ", ".join([f"*{prev}"] * 9) + "]")
        return ("\n".join(lines) + "\n").encode()
    if payload == "deep block":
        return "".join(" " * i + f"k{i}:\n" for i in range(1500)).encode()
    if payload == "python tag":
        return b"channels: !!python/object/apply:os.system ['touch PWNED']\n"
    if payload == "crlf":
        return (prefix + "\r\n/other\r\n").encode()
    raise AssertionError(payload)


HELD_OWNER = "tmp/home-0123456789ab.lock"  # below the cache, where a run's owner lock is; held by the test
OWNERS = {
    "owner alive": lambda w: (os.getpid(), str(w.cache / HELD_OWNER)),
    "owner dead": lambda w: ((1 << 22) + 1, str(w.cache / "tmp" / "home-dead.lock")),
    "owner lock a user's file": lambda w: (1, str(w.outside / "victim.txt")),
    "owner lock a directory": lambda w: (1, str(w.outside / "hooks")),
}


def hold(path: Path) -> int:
    """A descriptor holding an exclusive flock on path (made if missing), as a live run would."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


class Applier:
    """Applies mutations to a world; a mutation whose place cannot be reached (a parent already
    replaced by an earlier one) is skipped and said so."""

    def __init__(self, world: World, cache_entry: Path, cache_file: Path, bind_ok: bool):
        self.world, self.cache_entry, self.cache_file, self.bind_ok = world, cache_entry, cache_file, bind_ok
        self.mounts: List[Path] = []
        self.applied: List[str] = []
        self.held: Dict[Path, int] = {}  # locks this process holds for the command's whole run

    def hold(self, path: Path) -> None:
        if path in self.held:  # a second flock of this process's own would conflict with its first
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.held[path] = hold(path)

    def release(self) -> None:
        for fd in self.held.values():
            os.close(fd)
        self.held.clear()

    def base(self, place: Place) -> Path:
        return {"prefix": self.world.prefix, "cache": self.world.cache, "home": self.world.home,
                "envs": self.world.prefix.parent}[place.base]

    def _reachable(self, path: Path) -> bool:
        """Every parent below the world's root a real directory (made if missing), no mount above."""
        if any(path == m or m in path.parents for m in self.mounts):
            return False
        rel = path.parent.relative_to(self.world.root)
        d = self.world.root
        for part in rel.parts:
            d = d / part
            try:
                st = os.lstat(d)
            except FileNotFoundError:
                d.mkdir()
                continue
            if not stat.S_ISDIR(st.st_mode):
                return False
        return True

    def _clear(self, path: Path) -> bytes:
        """Removes what is at path; returns a regular file's bytes (b'' otherwise)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return b""
        if stat.S_ISDIR(st.st_mode):
            unmount_all(path)  # an earlier mutation's bind mount inside: rm keeps to one file system
            remove_tree(path)
            return b""
        data = path.read_bytes() if stat.S_ISREG(st.st_mode) and st.st_size <= BIG_FILE else b""
        os.unlink(path)
        return data

    def _sentinel_for(self, place: Place, directory: bool) -> Path:
        o = self.world.outside
        if directory:
            return o / ("notes" if place.base == "cache" else "hooks")
        return o / {"envs-txt": "environments.txt", "yaml": "condarc", "json-note": "user.json"}.get(place.role,
                                                                                                     "victim.txt")

    def apply(self, m: Mutation) -> None:
        path = self.base(m.place) / m.place.rel
        if not self._reachable(path):
            self.applied.append(f"skipped (unreachable): {m}")
            return
        directory = m.place.role == "dir"
        if directory and m.kind == "odd names":
            self._odd(path, m)
        elif directory and m.kind == "deep tree":  # beside what the directory holds
            self._odd(path, Mutation(m.place, m.kind, odd_name="deep", odd_kind="directory"))
            os.makedirs(path / "deep" / os.path.join(*["d"] * DEEP_TREE))
        else:
            original = self._clear(path)
            self._make(path, m, original, directory)
        self.applied.append(str(m))

    def _make(self, path: Path, m: Mutation, original: bytes, directory: bool) -> None:
        kind = m.kind
        if kind == "content":
            if m.payload == "held by another process":
                self.hold(path)
            elif m.payload == "huge":
                with open(path, "wb") as f:
                    f.write(original)
                os.truncate(path, HUGE)
            else:
                path.write_bytes(payload_bytes(self.world, m.place, m.payload, original))
                if m.payload == "owner alive":
                    self.hold(self.world.cache / HELD_OWNER)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            make_socket(path)
        elif kind == "symlink out":
            os.symlink(self._sentinel_for(m.place, directory), path)
        elif kind == "symlink into the cache":
            os.symlink(self.cache_entry if directory else self.cache_file, path)
        elif kind == "symlink to a missing file":  # opened with O_CREAT through it, the file would appear
            os.symlink(self.world.outside / f"created-through-{path.name}", path)
        elif kind == "no permission":
            path.write_bytes(original or b"{}\n")
            os.chmod(path, 0)
        elif kind == "dangling symlink":
            os.symlink(self.world.root / "nowhere" / path.name, path)
        elif kind == "symlink loop":
            os.symlink(path.name, path)
        elif kind == "directory":
            path.mkdir()
            (path / "inner.json").write_text("{}")
        elif kind == "file":
            path.write_bytes(b"{}\n")
        elif kind == "hard link from the cache":
            # as a package that ships this file would have it: the cache's extracted copy, linked
            shipped = self.cache_entry / "fuzz-shipped" / m.place.base / m.place.rel
            shipped.parent.mkdir(parents=True, exist_ok=True)
            if not shipped.exists():  # a package's .condarc is its own, without mambaboot's settings
                own = b"channels: [the-packages-own]\n" if m.place.role == "yaml" else original or b"{}\n"
                shipped.write_bytes(own)
            os.link(shipped, path)
        elif kind == "hard link to the user's file":
            os.link(self._sentinel_for(m.place, False), path)
        elif kind == "bind mount":
            source = self._sentinel_for(m.place, False) if not directory else (
                self.world.outside / ("notes" if m.place.base == "cache" else "bound"))
            if directory:
                path.mkdir()
            else:
                path.write_bytes(b"")
            subprocess.run(["mount", "--bind", str(source), str(path)], check=True)
            self.mounts.append(path)
        else:
            raise AssertionError(kind)

    def _odd(self, directory: Path, m: Mutation) -> None:
        try:
            st = os.lstat(directory)
        except FileNotFoundError:
            directory.mkdir()
        else:
            if not stat.S_ISDIR(st.st_mode):
                self._clear(directory)
                directory.mkdir()
        path = directory / m.odd_name
        self._clear(path)
        if m.odd_kind == "file":
            body = b'{"FUZZ_ODD": "1"}' if m.odd_name.endswith(".json") else b"true\n"
            path.write_bytes(body)
        elif m.odd_kind == "fifo":
            os.mkfifo(path)
        elif m.odd_kind == "directory":
            path.mkdir()
        else:
            os.symlink(self.world.outside / "victim.txt", path)


def make_socket(path: Path) -> None:
    """A unix socket bound at path (bound from its directory: sun_path holds 108 bytes)."""
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path.name)
        s.close()
    finally:
        os.chdir(here)


# -- the invariants --------------------------------------------------------------------------------


@dataclass
class Outcome:
    command: List[str]
    returncode: Optional[int]  # None: it did not end in time
    stdout: str
    stderr: str
    problems: List[str] = field(default_factory=list)


def entries_of(names: List[str]) -> List[str]:
    """The package cache entries' names (<name>-<version>-<build>) from conda-meta record names."""
    return [n[: -len(".json")] for n in names if n.endswith(".json")]


def _engine_index_cache(rel: str) -> bool:
    """The engine's own cache of a channel's index (`cache/<hash>.json`, `.state.json`, `.solv`):
    libmamba rewrites it on every run for a file:// channel, whose cache it never trusts
    (`caching_is_forbidden()` is `is_local()`, libmamba/src/core/subdir_index.cpp, 2.8.1)."""
    parts = rel.split(os.sep)
    return len(parts) == 2 and parts[0] == "cache" and parts[1].endswith((".json", ".solv"))


def cache_problems(command: str, before: Dict[str, tuple], after: Dict[str, Optional[tuple]],
                   entries: List[str]) -> List[str]:
    """A package cache file keeps its inode, content and mode, and gains no link (but the links of
    the environment a create makes); only `cache clean` may delete, and only whole entries (a
    package directory, an archive)."""
    problems = []
    gone_ok: Dict[str, bool] = {}
    for rel, old in before.items():
        new = after[rel]
        if new is None:
            if command != "cache clean":
                problems.append(f"cache file deleted: {rel}")
                continue
            parts = rel.split(os.sep)
            entry_at = next((i for i, p in enumerate(parts) if p in entries or any(
                p.startswith(e) and p[len(e):] in (".conda", ".tar.bz2", ".lock") for e in entries)), None)
            if entry_at is None:
                continue  # the cache's own bookkeeping (urls, locks), not a package's file
            entry = os.sep.join(parts[: entry_at + 1])
            if entry not in gone_ok:
                gone_ok[entry] = not any(k.startswith(entry + os.sep) or k == entry for k, v in after.items()
                                         if v is not None)
            if not gone_ok[entry]:
                problems.append(f"cache clean deleted part of entry {entry}: {rel}")
            continue
        if command.startswith("create") and _engine_index_cache(rel):
            continue
        if new[0] != old[0]:
            problems.append(f"cache file replaced (inode {old[0]} -> {new[0]}): {rel}")
        elif new[6] != old[6]:
            problems.append(f"cache file content changed: {rel}")
        elif new[2] != old[2]:
            problems.append(f"cache file mode changed: {oct(old[2])} -> {oct(new[2])}: {rel}")
        elif new[1] > old[1] and not command.startswith("create"):  # a create links its new environment's files
            problems.append(f"cache file gained a link ({old[1]} -> {new[1]}): {rel}")
    return problems


def allowed_outside(command: str, world: World, before: Dict[str, tuple]) -> Dict[str, bytes]:
    """What remove may change outside: ~/.conda/environments.txt (or the file its link names,
    the link staying that link), only by dropping the prefix's lines. Their bytes before."""
    if command != "remove":
        return {}
    rel = os.path.join("home", ".conda", "environments.txt")
    if before.get(rel, ("",))[0] == "link":
        target = os.path.normpath(os.path.join(world.root, "home", ".conda", before[rel][1]))
        rel = os.path.relpath(target, world.root) if target.startswith(str(world.root) + os.sep) else ""
    if before.get(rel, ("",))[0] != "file" or before[rel][3].startswith("size "):
        return {}
    return {rel: (world.root / rel).read_bytes()}


def outside_problems(world: World, before: Dict[str, tuple], after: Dict[str, tuple],
                     allowed: Dict[str, bytes]) -> List[str]:
    """Nothing outside the environment and the cache changes (but what allowed_outside permits)."""
    problems = []
    for rel in sorted(set(before) | set(after)):
        b, a = before.get(rel), after.get(rel)
        if b == a:
            continue
        if rel in allowed and a is not None and a[0] == "file" and _only_dropped_prefix(world, rel, allowed[rel]):
            continue
        problems.append(f"outside changed: {rel}: {b} -> {a}")
    return problems


def _only_dropped_prefix(world: World, rel: str, before: bytes) -> bool:
    try:
        now = (world.root / rel).read_bytes()
    except OSError:
        return False
    kept = [line for line in before.splitlines() if line.strip() != os.fsencode(str(world.prefix))]
    return now.splitlines() == kept


def named_pwned(world: World) -> List[str]:
    return [rel for rel, _ in _walk(world.root) if os.path.basename(rel) == "PWNED"]


def run_command(argv: List[str], env: Dict[str, str], cwd: Path, timeout: float, memory: int) -> Tuple:
    """(returncode or None on timeout, stdout, stderr): in its own process group, killed whole."""
    import resource
    import signal

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    proc = subprocess.Popen(argv, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=limits)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    else:
        try:  # whatever it left running in its group goes too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# The other files mambaboot reads back, beyond the record, the notes and conda's own: the
# package cache's size memo (environment/pkgcache.py SizeMemo), the micromamba digest memo
# (engine/micromamba.py _digest) and a pip-installed distribution's PEP 610 direct_url.json
# (environment/sbom.py pip_installed, which `lock --format cyclonedx` reads).
PIP_DIST = "fuzzpip-1.0.dist-info"


def site_packages(world: World) -> str:
    lib = next(n for n in os.listdir(world.prefix / "lib") if n.startswith("python3"))
    return f"lib/{lib}/site-packages"


def plant_read_back(world: World) -> None:
    """A distribution the environment's pip installed (INSTALLER is pip), with its direct_url.json,
    so that the bill of materials reads it."""
    dist = world.prefix / site_packages(world) / PIP_DIST
    dist.mkdir(parents=True)
    (dist / "INSTALLER").write_text("pip\n")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fuzzpip\nVersion: 1.0\n")
    (dist / "direct_url.json").write_text(json.dumps(
        {"url": "file:///tmp/fuzzpip-1.0.tar.gz", "archive_info": {"hashes": {"sha256": "0" * 64}}}))


def read_back_places(world: World, engine_memo: str) -> List[Place]:
    """ENGINE_MEMO: the digest memo's path below the cache ('' when create left none)."""
    P = Place
    found = [P("size memo", "cache", "memo/package-sizes", "memo"),
             P("direct_url.json", "prefix", f"{site_packages(world)}/{PIP_DIST}/direct_url.json", "json-direct-url")]
    if engine_memo:
        found.append(P("micromamba digest memo", "cache", engine_memo, "memo"))
    return found


def _read_back_payload(world: World, payload: str, original: bytes) -> bytes:
    outside = str(world.outside)
    if payload == "memo outside":  # remembered sizes for directories and samples of the user's
        return (f"mambaboot package sizes 1\n0 0 0 0 0\t1 1\t{outside}/victim.txt\t{outside}\n"
                f"x\t1 1\t../../outside/victim.txt\t../../outside\n").encode()
    if payload == "memo lying numbers":
        return b"mambaboot package sizes 1\n\t99999999999999999999999 -5\t\t\n" + original + b"\nnot a digest\n"
    if payload == "url outside":
        return json.dumps({"url": f"file://{outside}/victim.txt\n$(touch PWNED)",
                           "archive_info": {"hashes": {"sha256": "$(touch PWNED)" * 5}}}).encode()
    return json.dumps({"url": ["x"], "archive_info": "x", "vcs_info": {"commit_id": 5}}).encode()  # "wrong types"


READ_BACK_PAYLOADS = {"memo": ["memo outside", "memo lying numbers"], "json-direct-url": ["url outside", "wrong types"]}
ROLE_PAYLOADS.update(READ_BACK_PAYLOADS)
