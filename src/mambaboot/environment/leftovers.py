"""What a killed `create --force` leaves: the old environment at a hidden sibling.

`create --force` renames the old environment to `.NAME.mambaboot-old-<12 hex>` and deletes it
only after the new one verified. A SIGKILL (or power loss) in between leaves that copy behind.
The next run that touches the target settles it: when the environment now at the target
verified (its record says so), the old copy is deleted; when it never did, the unfinished new
one is removed and the old one put back.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import fsops
from mambaboot.environment import record

TAG = "mambaboot-old"
REMOVING = "removing"  # remove renames an environment to .NAME.removing-<12 hex>, then deletes it


def find(prefix: str) -> list[str]:
    """The old copies of prefix left beside it, oldest first."""
    directory, base = os.path.split(prefix)
    return [old for p, old in in_directory(directory or ".") if os.path.basename(p) == base]


def in_directory(directory: str) -> list[tuple[str, str]]:
    """(prefix, old copy) for every old copy in directory, oldest first. A copy counts when it
    holds the record of an environment mambaboot created, or when the environment at its prefix
    verified (then it is what remains of the old one, killed while it was being deleted, after
    its record went). Anything else is not ours and is never touched."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in names:
        base = fsops.sibling_base(name, TAG)
        path = os.path.join(directory, name)
        if base is None or fsops.is_link(path) or not os.path.isdir(path):
            continue
        prefix = os.path.join(directory, base)
        rec = record.read(path)
        if rec is not None and not rec.get("adopted") or rec is None and _verified(prefix):
            found.append((prefix, path))
    return sorted(found, key=lambda pair: os.lstat(pair[1]).st_mtime)


def _verified(prefix: str) -> bool:
    current = record.read(prefix) if os.path.isdir(prefix) else None
    return current is not None and current.get("state") in record.FINISHED and not current.get("adopted")


def half_removed(prefix: str) -> list[str]:
    """What a killed `remove` of prefix left: the renamed environment, partly deleted. The
    name is one only mambaboot gives, and the user already chose to delete what it holds."""
    directory, base = os.path.split(prefix)
    try:
        names = sorted(n for n in os.listdir(directory or ".") if fsops.sibling_base(n, REMOVING) == base)
    except OSError:
        return []
    return [p for p in (os.path.join(directory, n) for n in names) if os.path.isdir(p) and not fsops.is_link(p)]


def settle(prefix: str, cache_dir: str) -> list[str]:
    """Finish a killed remove, then delete or put back every old copy a killed --force left;
    what was done, one sentence each. Call with the target's lock held."""
    done = []
    for doomed in half_removed(prefix):
        fsops.remove_tree(doomed)
        if not os.path.lexists(prefix):
            record.clear_pending(cache_dir, prefix)
        done.append(f"finished removing {prefix}: a killed remove had left {doomed} half deleted")
    for old in find(prefix):
        current = record.read(prefix) if os.path.isdir(prefix) else None
        if _verified(prefix):
            fsops.remove_tree(old)
            done.append(f"deleted the old environment a killed --force left at {old} (the new one at {prefix} verified)")
            continue
        unfinished = _ours_unfinished(prefix, cache_dir, current)
        if unfinished is None:
            done.append(f"left {old} alone: {prefix} now holds something that is not mambaboot's")
            continue
        if unfinished:
            fsops.remove_tree(prefix)
        os.rename(old, prefix)
        record.clear_pending(cache_dir, prefix)
        done.append(f"put back the old environment a killed --force left at {old} (the new one never verified)")
    return done


def settle_unlocked(prefix: str, cache_dir: str) -> list[str]:
    """settle() for a caller that does not hold the target's lock (remove): takes it, and
    leaves everything as it is while a create of this prefix runs (its old copy is in use)."""
    if not find(prefix) and not half_removed(prefix):
        return []
    try:
        with record.target_lock(cache_dir, prefix):
            return settle(prefix, cache_dir)
    except BlockingIOError:
        return []


def _ours_unfinished(prefix: str, cache_dir: str, current: dict | None) -> bool | None:
    """False: nothing at prefix; True: an unfinished environment of ours; None: something else."""
    if not os.path.lexists(prefix):
        return False
    if fsops.is_link(prefix) or not os.path.isdir(prefix):
        return None
    if current is not None and not current.get("adopted"):
        return True  # ours, and not finished (the caller checked)
    if record.pending(cache_dir, prefix):
        return True  # the engine was running: the marker says the prefix is ours
    return False if not os.listdir(prefix) else None
