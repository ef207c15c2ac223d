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
from typing import Any, Dict, Optional

from mambaboot import __version__, fsops

RECORD_DIR = ".mambaboot"
RECORD_FILE = "record.json"
TOOL = "mambaboot"
INCOMPLETE = "incomplete"
COMPLETE = "complete"


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


def _marker_path(cache_dir: str, prefix: str) -> str:
    key = hashlib.sha256(os.path.normcase(os.path.abspath(prefix)).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(cache_dir, "pending", key + ".json")


def mark_pending(cache_dir: str, prefix: str) -> str:
    path = _marker_path(cache_dir, prefix)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    body = {"tool": TOOL, "prefix": prefix, "pid": os.getpid(), "started": now()}
    fsops.atomic_write(path, json.dumps(body, ensure_ascii=False).encode())
    return path


def pending(cache_dir: str, prefix: str) -> bool:
    """True when an interrupted mambaboot run left this prefix behind."""
    try:
        with open(_marker_path(cache_dir, prefix), "rb") as f:
            return json.load(f).get("prefix") == prefix
    except (OSError, ValueError, AttributeError):
        return False


def clear_pending(cache_dir: str, prefix: str) -> None:
    try:
        os.unlink(_marker_path(cache_dir, prefix))
    except FileNotFoundError:
        pass
