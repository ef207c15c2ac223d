"""Lying trees for tests/test_fuzz_trees.py: files of the kinds mambaboot writes and reads back
(a move's journal in every `how` and stage, the pointers older versions left in the cache and a
killed move's intent beside the prefix, pending and environment
notes, the record, lock entries, a killed move's intent, a killed create's intent) that name OTHER existing directories of the
world: the user's project (the sentinel, full of files), another environment, the cache root and
the home. They copy those directories' identities ([st_dev, st_ino]) and carry a token, and the
claim marks beside them are absent, the attacker's own (right in the place the attacker owns),
copied into the victim from elsewhere (a copy proves nothing) or written in the victim for another
role than the lie gives it (a mark moved with its place proves nothing of another place).

What must hold beyond the hostile-tree invariants: no directory a lie names changes (the project
and the other environment: every entry's kind, mode, inode and content; the home and the cache
root, which commands may write in: their own identity), and a read-only command changes nothing
anywhere in the world.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from mambaboot.common.files import fsops, proof
from tests.support import hostiletree as ht

TOKEN = "5a" * 16  # the liar's token: it may be written anywhere the liar can write

# What a lie can be written as. "journal" is the environment's own .mambaboot/moving.json;
# "journal in another environment" the same file in the other environment (list walks it).
FILES = ["journal", "journal in another environment", "pointer", "pending note", "cache note", "record",
         "lock entries", "move intent", "pending note, its owner alive", "pending note, its owner dead", "intent"]
HOWS = ["renamed", "copied", "in place"]
STAGES = ["rewriting", "verified"]
SIDES = ["victim is from", "victim is to"]
VICTIMS = ["project", "another environment", "cache root", "home"]
MARKS = ["no mark", "the liar's mark", "a mark copied into the victim", "a mark of another role in the victim"]
READ_ONLY = ("list", "audit", "cache info", "doctor", "lock", "lock cyclonedx")  # lock writes to stdout here


@dataclass(frozen=True)
class Lie:
    file: str
    victim: str
    how: str = "copied"
    stage: str = "verified"
    side: str = "victim is from"
    mark: str = "no mark"

    def __str__(self) -> str:
        journal = f" {self.how}/{self.stage}, {self.side}" if "journal" in self.file or self.file == "pointer" else ""
        return f"lie: {self.file}{journal} naming the {self.victim}, {self.mark}"


def other_env(world: ht.World) -> Path:
    return world.root / "envs" / "other"


def plant_other_env(world: ht.World, record: dict) -> None:
    """Another environment of the user's beside the fuzzed one: conda's metadata, a record of
    ours, a file of its own."""
    other = other_env(world)
    (other / "conda-meta").mkdir(parents=True)
    (other / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n")
    (other / ".mambaboot").mkdir()
    (other / ".mambaboot" / "record.json").write_text(json.dumps({**record, "inputs": {"prefix": str(other)}}))
    (other / "bin").mkdir()
    (other / "bin" / "tool").write_text("#!/bin/sh\necho the other environment's own\n")


def victim_path(world: ht.World, victim: str) -> Path:
    return {"project": world.outside, "another environment": other_env(world), "cache root": world.cache,
            "home": world.home}[victim]


def _identity(path: Path) -> list:
    st = os.lstat(path)
    return [st.st_dev, st.st_ino]


def _mark_text(token: str, of: Path, role: str = proof.SOURCE) -> str:
    dev, ino = _identity(of)
    return f"mambaboot-claim {token} {role} {dev}:{ino}\n"


class Liar:
    """Writes lies into a world; a lie whose file cannot be reached (a parent replaced by a
    hostile mutation) is skipped and said so."""

    def __init__(self, world: ht.World, applier: ht.Applier):
        self.world, self.applier = world, applier
        self.named: Dict[str, Path] = {}

    def _write(self, path: Path, data: bytes) -> bool:
        if not self.applier._reachable(path):
            self.applier.applied.append(f"skipped (unreachable): {path}")
            return False
        self.applier._clear(path)
        path.write_bytes(data)
        return True

    def _json(self, path: Path, body: dict) -> bool:
        return self._write(path, json.dumps({"tool": "mambaboot", **body}).encode())

    def apply(self, lie: Lie) -> None:
        w = self.world
        victim = victim_path(w, lie.victim)
        self.named[lie.victim] = victim
        env = other_env(w) if lie.file == "journal in another environment" else w.prefix
        if lie.file in ("journal", "journal in another environment", "pointer"):
            src, dst = (victim, env) if lie.side == "victim is from" else (env, victim)
            journal = {"from": str(src), "to": str(dst), "old": str(src), "how": lie.how, "stage": lie.stage,
                       "source": _identity(src), "copy": _identity(dst), "token": TOKEN, "pid": 1}
            self._json(env / ".mambaboot" / "moving.json", journal)
            if lie.file == "pointer":  # found from either name, the victim's too, and create's new one:
                # the pointers older versions left in the cache, and a killed move's intent in the
                # lock beside the fuzzed prefix and create's new one (environment/placelock.py)
                for place in (victim, w.prefix, w.created):
                    self._json(w.cache / "moving" / (fsops.path_key(str(place)) + ".json"),
                               {"prefix": str(place), "from": str(src), "to": str(dst)})
                for place in (w.prefix, w.created):
                    self._json(place.parent / f".{place.name}.mambaboot-lock",
                               {"operation": "move", "pid": 1, "token": TOKEN, "stage": "moving", "from": str(src),
                                "to": str(dst), "place1": str(place)})
        elif lie.file in ("pending note", "cache note"):
            kind = "pending" if lie.file == "pending note" else "environments"
            for place in (victim, w.created) if kind == "pending" else (victim,):
                self._json(w.cache / kind / (fsops.path_key(str(place)) + ".json"),
                           {"prefix": str(place), "pid": 1, "started": "2026-01-01T00:00:00+00:00", "token": TOKEN})
        elif lie.file.startswith("pending note, its owner"):
            # alive: this test's pid, and an owner lock in the cache this test holds; dead: a pid
            # long gone, and the victim itself named as the owner's lock
            alive = lie.file.endswith("alive")
            owner = w.cache / ht.HELD_OWNER if alive else victim
            if alive:
                self.applier.hold(owner)
            self._json(w.cache / "pending" / (fsops.path_key(str(victim)) + ".json"),
                       {"prefix": str(victim), "pid": os.getpid() if alive else (1 << 22) + 1,
                        "started": "2026-01-01T00:00:00+00:00", "owner_lock": str(owner), "token": TOKEN})
        elif lie.file == "record":
            path = w.prefix / ".mambaboot" / "record.json"
            try:
                record = json.loads(path.read_bytes()) if path.is_file() and not path.is_symlink() else {}
            except (OSError, ValueError, RecursionError):
                record = {}
            record = record if isinstance(record, dict) else {}
            inputs = record.get("inputs") if isinstance(record.get("inputs"), dict) else {}
            self._json(path, {**record, "inputs": {**inputs, "prefix": str(victim)}, "lock": str(victim),
                              "replaced_mark": TOKEN, "files": [str(victim), str(victim / "victim.txt")]})
        elif lie.file == "intent":
            # a killed create's intent beside the fuzzed prefix and create's new one (the lock file
            # of environment/placelock.py): the victim named as the engine's directory (its
            # identity copied) and as the old environment set aside; stage "rewriting" is the
            # engine's, "verified" the new environment's
            dev, ino = _identity(victim)
            for place in (w.prefix, w.created):
                self._json(place.parent / f".{place.name}.mambaboot-lock",
                           {"operation": "create", "pid": 1, "token": TOKEN, "made": "1", "target": f"{dev}:{ino}",
                            "stage": "engine" if lie.stage == "rewriting" else "verified", "aside": str(victim),
                            "place1": str(place)})
        elif lie.file == "lock entries":
            sha = "0" * 64
            self._write(w.prefix / ".mambaboot" / "lock.txt", (
                f"@EXPLICIT\nfile://{victim}/noarch/victim-1-0.conda#{sha}\n"
                f"file://{victim}/linux-64/python-3.12.0-0.conda#{sha}\nfile://{victim}\n").encode())
        elif lie.file == "move intent":
            # a killed move's intent in the lock beside the fuzzed prefix and create's new one
            # (environment/placelock.py, environment/settle.py): the victim named as `from` or `to`
            # (its identity as the source's and the copy's), as the partial copy and as the source
            # set aside; stage "rewriting" puts a move back, "verified" finishes it
            dev, ino = _identity(victim)
            for place in (w.prefix, w.created):
                src, dst = (victim, place) if lie.side == "victim is from" else (place, victim)
                self._json(place.parent / f".{place.name}.mambaboot-lock",
                           {"operation": "move", "pid": 1, "token": TOKEN, "stage": lie.stage, "how": lie.how,
                            "from": str(src), "to": str(dst), "old": str(src), "source": f"{dev}:{ino}",
                            "copy": f"{dev}:{ino}", "partial": str(victim), "aside": str(victim),
                            "place1": str(src), "place2": str(dst)})
        else:
            raise AssertionError(lie.file)
        if lie.mark == "the liar's mark":  # right where the liar owns the place: the fuzzed environment
            self._write(env / proof.MARK, _mark_text(TOKEN, env).encode())
        elif lie.mark == "a mark copied into the victim":  # token and all, but written for another directory
            self._write(env / proof.MARK, _mark_text(TOKEN, env).encode())
            self._write(victim / proof.MARK, _mark_text(TOKEN, env).encode())
        elif lie.mark == "a mark of another role in the victim":  # written for it, its token, but a role
            # the lie does not give it (as an old environment set aside, then put back by hand)
            self._write(victim / proof.MARK, _mark_text(TOKEN, victim, proof.OLD).encode())
        self.applier.applied.append(str(lie))


# -- the invariants --------------------------------------------------------------------------------

_FULLY = ("project", "another environment")  # the home and the cache root: commands write in them


def named_snapshot(named: Dict[str, Path]) -> Dict[str, tuple]:
    """Each named directory's identity; for the project and the other environment every entry too."""
    snap = {}
    for victim, path in named.items():
        try:
            snap[victim] = (tuple(_identity(path)), ht.tree_snapshot(path) if victim in _FULLY else None)
        except OSError as exc:
            snap[victim] = (repr(exc), None)
    return snap


def named_problems(before: Dict[str, tuple], after: Dict[str, tuple]) -> List[str]:
    problems = []
    for victim, (identity, tree) in before.items():
        now_identity, now_tree = after[victim]
        if now_identity != identity:
            problems.append(f"a directory a lie names ({victim}) was replaced or is gone: {identity} -> {now_identity}")
        elif tree is not None and now_tree != tree:
            changed = sorted(k for k in set(tree) | set(now_tree) if tree.get(k) != now_tree.get(k))
            problems.append(f"a directory a lie names ({victim}) changed: {changed[:10]}")
    return problems


# The one write a read-only command documents: `cache info` remembers the package sizes it
# measured (environment/pkgcache.py SizeMemo), below the cache, and nowhere else.
DOCUMENTED_WRITES: Dict[str, tuple] = {}  # read-only commands write nothing at all


def read_only_problems(command: str, world: ht.World, before: Dict[str, tuple], after: Dict[str, tuple]) -> List[str]:
    if command not in READ_ONLY:
        return []
    cache = os.path.relpath(world.cache, world.root)
    allowed = {os.path.join(cache, rel) for rel in DOCUMENTED_WRITES.get(command, ())}
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and k not in allowed)
    return [f"read-only `{command}` changed {rel}: {before.get(rel)} -> {after.get(rel)}" for rel in changed[:20]]
