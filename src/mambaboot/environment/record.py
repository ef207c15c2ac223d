"""The environment's record: what mambaboot made, from what, and whether it finished.

It lives in PREFIX/.mambaboot/ (never conda-meta/, where conda parses every *.json as a
package). While micromamba runs the prefix cannot hold it (micromamba refuses a non-empty
target), so a pending marker in the cache says "this prefix is ours, in progress" from
before micromamba starts until the in-prefix record exists.
"""

import datetime
import hashlib
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

from mambaboot import __version__
from mambaboot.common import fsops
from mambaboot.common.errors import MambabootError

RECORD_DIR = ".mambaboot"
RECORD_FILE = "record.json"
TOOL = "mambaboot"
LOCK_FILE = "lock.txt"
INCOMPLETE = "incomplete"
COMPLETE = "complete"
PROVISIONING = "provisioning"  # post-creation steps under way (or killed while they ran)
PROVISIONING_FAILED = "provisioning-failed"
FINISHED = (COMPLETE, PROVISIONING, PROVISIONING_FAILED)  # the environment itself was made and verified


def record_path(prefix: str) -> str:
    return os.path.join(prefix, RECORD_DIR, RECORD_FILE)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def read(prefix: str) -> Optional[Dict[str, Any]]:
    """The record, or None when the prefix has none (or one that is not ours)."""
    try:
        with open(record_path(prefix), "rb") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def made_by_someone_else(data: Optional[Dict[str, Any]]) -> bool:
    """An adopted environment is managed by mambaboot but was made by someone else: like a
    foreign one, neither `create --force` nor `remove` deletes it without the user's --force
    (and `create --force` never replaces it at all: remove it first)."""
    return bool(data and data.get("adopted"))


def update(
    prefix: str, *, add_files: Iterable[str] = (), add_patched: Iterable[str] = (), missing_ok: bool = False,
    **changes: Any,
) -> Optional[Dict[str, Any]]:
    """Read, change and write the record: set `changes`, and list more of our files (and files we
    patched) without dropping those already listed. No record: None with missing_ok, else an error."""
    data = read(prefix)
    if data is None:
        if missing_ok:
            return None
        raise MambabootError(f"{record_path(prefix)} is missing or unreadable")
    data.update(changes)
    for key, more in (("files", add_files), ("patched", add_patched)):
        more = set(more)
        if more:
            data[key] = sorted(set(data.get(key, [])) | more)
    write(prefix, data)
    return data


def provenance(inputs: Dict[str, Any], version: str, source: str, sha256: str) -> Dict[str, Any]:
    """What made an environment: the plan's inputs and the micromamba that ran them.

    `create` and a bootstrap script's hand-over to `adopt` both record exactly this, so the
    two paths give the same record for the same inputs.
    """
    return {
        "inputs": inputs,
        "platform": inputs["subdir"],
        "micromamba": {"version": version, "source": source, "sha256": sha256},
    }


def write(prefix: str, data: Dict[str, Any]) -> str:
    os.makedirs(os.path.join(prefix, RECORD_DIR), exist_ok=True)
    data = dict(data, tool=TOOL, mambaboot_version=__version__, format=1)
    path = record_path(prefix)
    fsops.atomic_write(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode=fsops.user_mode(0o666))
    return path


def _prefix_key(prefix: str) -> str:
    return hashlib.sha256(os.path.normcase(os.path.abspath(prefix)).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _marker_path(cache_dir: str, prefix: str) -> str:
    return os.path.join(cache_dir, "pending", _prefix_key(prefix) + ".json")


def target_lock(cache_dir: str, prefix: str) -> fsops.FileLock:
    """Held for a whole create of prefix: a second run for the same target is refused at once
    instead of racing it (micromamba's `create -y` would delete the first one's prefix)."""
    return fsops.FileLock(os.path.join(cache_dir, "pending", _prefix_key(prefix) + ".lock"), blocking=False)


def mark_pending(cache_dir: str, prefix: str, owner_lock: Optional[str] = None) -> str:
    """owner_lock: a lock file the run holds while it lives (see sandbox.owner_lock)."""
    path = _marker_path(cache_dir, prefix)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    body = {"tool": TOOL, "prefix": prefix, "pid": os.getpid(), "started": now(), "owner_lock": owner_lock}
    fsops.atomic_write(path, json.dumps(body, ensure_ascii=False).encode())
    return path


def _load_marker(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("prefix"), str) else None


def pending_names(cache_dir: str) -> Optional[set]:
    """The file names in the pending directory, listed once for many pending_marker calls."""
    try:
        return set(os.listdir(os.path.join(cache_dir, "pending")))
    except OSError:
        return set()


def pending_marker(cache_dir: str, prefix: str, names: Optional[set] = None) -> Optional[Dict[str, Any]]:
    """names: pending_names(cache_dir), when many prefixes are looked up (no open per miss)."""
    path = _marker_path(cache_dir, prefix)
    if names is not None and os.path.basename(path) not in names:
        return None
    data = _load_marker(path)
    return data if data is not None and data["prefix"] == prefix else None


def pending(cache_dir: str, prefix: str) -> bool:
    """True when a mambaboot run is creating this prefix, or was interrupted doing it."""
    return pending_marker(cache_dir, prefix) is not None


def owner_running(marker: Dict[str, Any]) -> bool:
    lock = marker.get("owner_lock")
    return isinstance(lock, str) and fsops.held(lock)


def markers(cache_dir: str) -> List[Tuple[str, Dict[str, Any]]]:
    """(marker path, body) of every pending marker in the cache."""
    directory = os.path.join(cache_dir, "pending")
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for name in names:
        data = _load_marker(os.path.join(directory, name)) if name.endswith(".json") else None
        if data is not None:
            found.append((os.path.join(directory, name), data))
    return found


def clear_pending(cache_dir: str, prefix: str) -> None:
    try:
        os.unlink(_marker_path(cache_dir, prefix))
    except FileNotFoundError:
        pass
