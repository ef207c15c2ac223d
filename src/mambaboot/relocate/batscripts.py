"""Hard-coded prefixes in an environment's Windows scripts, rewritten to be computed from
each script's own location (%~dp0), so the environment works wherever it is copied.

micromamba writes condabin\\mamba.bat, micromamba.bat, mamba_hook.bat, activate.bat (and
Scripts\\activate.bat) with `@SET "MAMBA_EXE=<absolute>"` and `@SET "MAMBA_ROOT_PREFIX=
<absolute>"` in them, and mamba_hook.bat forgets MAMBA_ROOT_PREFIX altogether, which is why
`micromamba activate` fails after the hook. Candidates are found cheaply, never by reading
every byte of the environment: the .bat/.cmd files directly in condabin\\ and Scripts\\
(where micromamba writes) plus those the package records list with a text-mode
prefix_placeholder (conda-meta/*.json paths_data: exactly the files the installer wrote
the prefix into).

A line `@SET "NAME=<prefix>\\rest"` becomes `@FOR %%P IN ("%~dp0..\\rest") DO @SET
"NAME=%%~fP"`: the value is a normal absolute path again, computed when the script runs. Any
other mention of the prefix becomes the relative form (%~dp0.. from condabin). MAMBA_EXE
pointing outside the environment (the bootstrap micromamba in the package cache) is pointed
at the environment's own mamba (Library\\bin\\mamba.exe) when it has one. Rewriting twice
changes nothing the second time.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import ntpath
import os
import re
from collections.abc import Iterable

from mambaboot.common import patterns
from mambaboot.common.files import confined
from mambaboot.common.values import factory, value
from mambaboot.environment import record
from mambaboot.relocate import scan

SCRIPT_EXTS = (".bat", ".cmd")
SCANNED_DIRS = ("condabin", "Scripts")
OWN_MAMBA = ("Library", "bin", "mamba.exe")
BACKUP_DIR = "backup"
_SET = patterns.lazy(r'^(?P<indent>[ \t]*)@?[ \t]*set[ \t]+"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>[^"]*)"[ \t]*$', re.I)
_SETS_ROOT = patterns.lazy(r'set[ \t]+"?MAMBA_ROOT_PREFIX=', re.I)
_SETS_EXE = patterns.lazy(r'set[ \t]+"?MAMBA_EXE=', re.I)


@value
class Change:
    path: str  # relative, with '/'
    notes: tuple[str, ...]
    leftovers: tuple[int, ...] = ()  # line numbers still naming the prefix in a form we do not rewrite


@value(frozen=False)
class Report:
    changed: list[Change] = factory(list)
    backups: list[str] = factory(list)
    leftovers: list[Change] = factory(list)

    def to_dict(self) -> dict:
        return {
            "patched": [{"path": c.path, "notes": list(c.notes)} for c in self.changed],
            "backups": self.backups,
            "unpatched": [{"path": c.path, "lines": list(c.leftovers)} for c in self.leftovers],
        }


def _scripts_in(paths: Iterable[dict]) -> list[str]:
    return [rel for rel, entry in ((str(e.get("_path", "")).replace("\\", "/"), e) for e in paths)
            if isinstance(entry, dict) and scan.linked_text(entry) and rel.lower().endswith(SCRIPT_EXTS)]


def _recorded_scripts(prefix: str, paths: Iterable[dict] | None = None) -> list[str]:
    """Scripts the package records say had the prefix written into them (text mode).
    paths: every record's paths_data entries, when the caller read them already (create)."""
    if paths is None:
        paths = [entry for _, _, entries in scan.records(prefix, strict=False) for entry in entries]
    return _scripts_in(paths)


def candidates(prefix: str, paths: Iterable[dict] | None = None) -> list[str]:
    """Relative paths ('/') of the scripts that may carry the prefix."""
    found = set(_recorded_scripts(prefix, paths))
    for directory in SCANNED_DIRS:
        try:
            names = os.listdir(os.path.join(prefix, directory))
        except OSError:
            continue
        found.update(f"{directory}/{n}" for n in names
                     if n.lower().endswith(SCRIPT_EXTS) and os.path.isfile(os.path.join(prefix, directory, n)))
    return sorted(p for p in found if os.path.isfile(os.path.join(prefix, *p.split("/"))))


def _spellings(written: Iterable[str]) -> str | None:
    """A regex for any spelling of the prefixes: either slash, any case (Windows paths)."""
    alternatives = []
    for prefix in sorted({w.rstrip("\\/") for w in written if w}, key=len, reverse=True):
        alternatives.append(r"[\\/]+".join(re.escape(p) for p in re.split(r"[\\/]+", prefix)))
    return "(?:" + "|".join(alternatives) + ")" if alternatives else None


def _base(rel: str) -> str:
    """The prefix seen from the script's own directory: %~dp0.. per level (%~dp0. at the top)."""
    depth = rel.count("/")
    return "%~dp0" + ("\\".join([".."] * depth) if depth else ".")


def _for_set(indent: str, name: str, path: str) -> str:
    return f'{indent}@FOR %%P IN ("{path}") DO @SET "{name}=%%~fP"'


def rewrite(text: str, rel: str, written: Iterable[str], own_mamba: str | None) -> tuple[str, list[str], list[int]]:
    """(new text, notes, line numbers still naming the prefix or an outside MAMBA_EXE).

    own_mamba: the environment's mamba relative to its root ('Library\\bin\\mamba.exe'), if any.
    """
    spelled = _spellings(written)
    # the prefix as a whole path component: not C:\env inside C:\env2
    exact = re.compile(spelled + r"(?=[\\/\";%']|[ \t]*$)", re.I) if spelled else None
    base = _base(rel)
    notes: list[str] = []
    out: list[str] = []
    leftovers: list[int] = []
    hook = rel.lower().startswith("condabin/") and rel.lower().endswith("hook.bat")
    needs_root = hook and _SETS_EXE.search(text) is not None and _SETS_ROOT.search(text) is None
    # cmd.exe ends a line at "\n" only: a form feed, U+2028 or U+0085 is part of the line it is
    # in (str.splitlines would end a line there and find a SET that cmd never runs as one)
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    for number, line in enumerate(lines, 1):
        body = line.rstrip("\r\n")
        eol = line[len(body):]
        m = _SET.match(body)
        name, value = (m.group("name"), m.group("value")) if m else ("", "")
        head = exact.match(value) if exact and m else None
        rest = value[head.end():].lstrip("\\/") if head else ""
        if head and not re.search(r'[;%"]', rest):  # one path: make it absolute again when run
            body = _for_set(m.group("indent"), name, base + ("\\" + rest.replace("/", "\\") if rest else ""))
            notes.append(f"{name}: computed from the script's location")
        elif exact and exact.search(body):
            body = exact.sub(lambda _: base, body)
            notes.append("the prefix in a command: computed from the script's location")
        elif name.upper() == "MAMBA_EXE" and ntpath.isabs(value):
            if own_mamba:
                body = _for_set(m.group("indent"), name, f"{base}\\{own_mamba}")
                notes.append(f"MAMBA_EXE: {value} (outside the environment) -> its own {own_mamba}")
            else:
                leftovers.append(number)
        if spelled and re.search(spelled, body, re.I):
            leftovers.append(number)
        if needs_root and name.upper() == "MAMBA_EXE":
            eol = eol or "\r\n"
            body += eol + _for_set(m.group("indent"), "MAMBA_ROOT_PREFIX", base)
            notes.append("MAMBA_ROOT_PREFIX: added (the hook did not set it)")
            needs_root = False
        out.append(body + eol)
    return "".join(out), notes, leftovers


def patch(prefix: str, written: Iterable[str] = (), backup: bool = False, dry_run: bool = False,
          paths: Iterable[dict] | None = None) -> Report:
    """Rewrite every candidate script of `prefix`. `written`: how the prefix is spelled in the
    files (default: the prefix itself; also give the old location of a moved environment).
    paths: the records' paths_data entries, read already (() on a POSIX layout: none to look at)."""
    spellings = [prefix, *written]
    own = os.path.join(prefix, *OWN_MAMBA)
    own_mamba = "\\".join(OWN_MAMBA) if os.path.isfile(own) else None
    report = Report()
    for rel in candidates(prefix, paths):
        path = os.path.join(prefix, *rel.split("/"))
        raw = confined.read_in(prefix, rel)
        text = raw.decode("utf-8", "surrogateescape")
        new, notes, leftovers = rewrite(text, rel, spellings, own_mamba)
        if leftovers:
            report.leftovers.append(Change(rel, (), tuple(leftovers)))
        if new == text:
            continue
        report.changed.append(Change(rel, tuple(notes)))
        if dry_run:
            continue
        if backup:
            kept = _backup(prefix, rel, raw)
            if kept:
                report.backups.append(kept)
        confined.write_in(prefix, rel, new.encode("utf-8", "surrogateescape"), mode=os.lstat(path).st_mode & 0o7777)
    return report


def _backup(prefix: str, rel: str, raw: bytes) -> str | None:
    """Keep the original once (a later run must not overwrite it with an already patched copy)."""
    kept_rel = f"{record.RECORD_DIR}/{BACKUP_DIR}/{rel}"
    kept = os.path.join(prefix, *kept_rel.split("/"))
    if os.path.lexists(kept):
        return None
    confined.write_in(prefix, kept_rel, raw)
    return kept_rel
