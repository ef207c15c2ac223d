"""The environment's record: what mambaboot made, from what, and whether it finished.

It lives in PREFIX/.mambaboot/ (never conda-meta/, where conda parses every *.json as a package). While micromamba runs
the prefix cannot hold it (micromamba refuses a non-empty target): until it does, the create's intent beside the prefix
(environment/placelock.py) says what is under way there."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot import __version__
from mambaboot.common import shapes, untrusted
from mambaboot.common.files import confined
from mambaboot.common.errors import Escapes, MambabootError, UsageError

RECORD_DIR = ".mambaboot"
RECORD_FILE = "record.json"
TOOL = "mambaboot"
LOCK_FILE = "lock.txt"
INCOMPLETE = "incomplete"
COMPLETE = "complete"
PROVISIONING = "provisioning"  # post-creation steps under way (or killed while they ran)
PROVISIONING_FAILED = "provisioning-failed"
FINISHED = (COMPLETE, PROVISIONING, PROVISIONING_FAILED)  # the environment itself was made and verified


# The record's shape (common/shapes.py), as far as mambaboot uses its fields: checked whole before any is read. A field
# it does not name is let through (a later mambaboot may write more; an earlier one wrote "size", stale now).
_STR, _OPT_STR = shapes.optional(str), shapes.optional(str, None)
_PIP_ENTRY = {"name": shapes.required(str), "version": shapes.required(str), "url": _OPT_STR, "sha256": _OPT_STR}
RECORD = {
    "tool": shapes.required(str, rule=shapes.exactly(TOOL)),
    "state": shapes.optional(str),
    "created": _STR, "completed": _STR, "provisioned": _STR, "platform": _OPT_STR,
    "adopted": shapes.optional(bool),
    "lock": _OPT_STR,  # a place: lock_entry() takes only the one finish writes
    "files": shapes.optional(list, rule=shapes.each(str)),
    "patched": shapes.optional(list, rule=shapes.each(str)),
    "packages": shapes.optional(list, rule=shapes.each(dict)),
    "pip_packages": shapes.optional(list, rule=shapes.each(_PIP_ENTRY)),
    "inputs": shapes.optional(dict, rule={"channels": shapes.optional(list, rule=shapes.each(str)),
                                          "pkgs_dirs": shapes.optional(list, rule=shapes.each(str)),
                                          # read by adopt (a managed environment checked again), move, lock
                                          "prefix": _OPT_STR, "python": _OPT_STR, "pkgs_dir": _OPT_STR,
                                          "link_cache": shapes.optional(bool, None),
                                          "specs": shapes.optional(list, None, rule=shapes.each(str)),
                                          "pip": shapes.optional(list, None, rule=shapes.each(str)),
                                          "pip_dir": _OPT_STR,
                                          "lock": shapes.optional(dict, None, rule={
                                              # Lock.carried: written back by `lock`
                                              "carried": shapes.optional(dict, None, rule=shapes.each({
                                                  "content_hash": _OPT_STR,
                                                  "package": shapes.required(list, rule=shapes.each(dict))}))})}),
    "moves": shapes.optional(list, rule=shapes.each({"from": _OPT_STR, "to": _OPT_STR, "at": _OPT_STR})),
    "micromamba": shapes.optional(dict, rule={"version": _OPT_STR, "source": _OPT_STR, "sha256": _OPT_STR}),
    "verification": shapes.optional(dict, rule={"python_version": _OPT_STR}),
    "provisioning": shapes.optional(dict, rule={"failed": shapes.optional(dict, None, rule={
        "script": _OPT_STR, "step": _OPT_STR}), "pip": shapes.optional(dict, rule={
            # read by provision (provision.remaining): what an unfinished pip section installs
            "requirements": shapes.optional(list, None, rule=shapes.each(str)), "cwd": _OPT_STR,
            "installed": shapes.optional(bool), "locked": shapes.optional(list, None, rule=shapes.each(_PIP_ENTRY))}),
        "done": shapes.optional(list, rule=shapes.each(str)), "scripts": shapes.optional(list, rule=shapes.each(str))}),
}
# What read(keys) gives: the package list counted, not parsed.
SUMMARY = dict(RECORD, packages=shapes.optional(int))


def check_carried(carried, source: str) -> None:
    """A lock's other platforms (Lock.carried: entries as another file held them) go into the record at
    inputs.lock.carried: nested deeper there than read() reads back (untrusted.DEPTH), the record would be no record of
    ours (foreign to remove, missing to provision). Refused (exit 2) before anything is written."""
    for platform, held in (carried or {}).items():
        depth = untrusted.nesting({"inputs": {"lock": {"carried": {platform: held}}}})  # the outer dict: the record
        if depth > untrusted.DEPTH:
            raise UsageError(f"{source}: its entries for {platform} nest too deep to be kept in mambaboot's record "
                             f"({depth} levels there; it is read to {untrusted.DEPTH}); nothing was written. conda-lock "
                             "writes no entry nested so: lock again, or leave that platform out of the lock")


def record_path(prefix: str) -> str:
    return os.path.join(prefix, RECORD_DIR, RECORD_FILE)


def utc(stamp: float | None = None) -> str:
    """A time (now, or a file's st_mtime) in UTC to the second, as datetime's isoformat() writes
    it (2026-11-23T10:00:00+00:00), without importing datetime (~3 ms of every create)."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(stamp))


_PACKAGES = '\n  "packages": [\n'  # the first line of a package list in write()'s layout (indent=2)


def read(prefix: str, keys: tuple | None = None) -> dict | None:
    """The record, or None when the prefix has none (or one that is not ours). keys: only the members named (and
    "tool"), and "packages" replaced by their number: for `list`, which reads every environment's record, while the
    package list is most of a record's bytes and of its parsing time. In write()'s layout it is counted unparsed, from
    its first line to its last (`  ]`), its elements separated by a comma and a line with exactly four spaces (a JSON
    text holds no raw newline: none of these is inside a string). What is skipped is not checked to be valid JSON:
    whatever decides something reads the record whole."""
    path = record_path(prefix)
    try:  # a link on the way, a fifo, a record nobody could trust (too big, too deep, a NUL): no record of ours
        text = untrusted.text(untrusted.read_bytes_in(prefix, f"{RECORD_DIR}/{RECORD_FILE}", untrusted.RECORD), path)
        start = text.find(_PACKAGES) if keys is not None else -1
        end = text.find("\n  ]", start) if start >= 0 else -1
        if end >= 0:
            count = text.count(",\n    ", start, end) - text.count(",\n     ", start, end) + 1
            text = f'{text[:start]}\n  "packages": {count}{text[end + 4:]}'
        data = untrusted.json(text, path)
        if keys is not None and isinstance(data, dict):
            data = {k: data[k] for k in (*keys, "tool") if k in data}
            if isinstance(data.get("packages"), list):  # another layout (edited by hand): read whole
                data["packages"] = len(data["packages"])
        return shapes.check(data, RECORD if keys is None else SUMMARY, path, "mambaboot's record")
    except (OSError, ValueError):
        return None


def made_by_someone_else(data: dict | None) -> bool:
    """An adopted environment is managed by mambaboot but was made by someone else: like a foreign one, neither
    `create --force` nor `remove` deletes it without the user's --force (`create --force` never replaces it at all)."""
    return bool(data and data.get("adopted"))


def update(prefix: str, *, add_files=(), add_patched=(), missing_ok: bool = False, **changes) -> dict | None:
    """Read, change and write the record: set `changes`, and list more of our files (and files we
    patched) without dropping those already listed. No record: None with missing_ok, else an error."""
    data = read(prefix)
    if data is None:
        if missing_ok:
            return None
        raise MambabootError(f"{record_path(prefix)} is missing or unreadable")
    data.update(changes)
    for key, more in (("files", add_files), ("patched", add_patched)):
        if more:
            data[key] = sorted(set(data.get(key, [])) | set(more))
    write(prefix, data)
    return data


def write(prefix: str, data: dict, sync: bool = True) -> str:
    """sync: see confined.write_file."""
    import json

    data = dict(data, tool=TOOL, mambaboot_version=__version__, format=1)
    confined.write_in(prefix, f"{RECORD_DIR}/{RECORD_FILE}", (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(),
                      mode=confined.user_mode(0o666), sync=sync)
    return record_path(prefix)


def lock_entry(prefix: str, rec: dict) -> str:
    """The record's `lock` entry, read from a file and so naming any place (a record edited to name
    ../../a-file-of-yours): only the one finish writes is taken (else Escapes, before anything is read or written)."""
    own = f"{RECORD_DIR}/{LOCK_FILE}"
    if rec.get("lock") != own:
        raise Escapes(f"{record_path(prefix)}: its lock entry {rec.get('lock')!r} is not {own}; "
                      "nothing was read or written there", str(rec.get("lock")))
    return own
