"""What a killed run left in a place under the run's temporary name (common/files/tempname.py), collected by the next
run of the place. Every such file is written by a run holding the place's lock (environment/placelock.py), and renamed
or deleted before the run lets it go: once a run holds the lock, a temporary of another run's token there is a killed
run's, deleted (in the place and beside it) when it is a regular file of the user's, never reached through a link;
anything else is named and left. A nested environment and a place with its own lock are their own runs' to judge. One
written under no lock of the place (tempname.UNLOCKED) is locked by its writer while it exists: collect_unlocked takes
one whose lock can be taken. A place set aside is settled by environment/settle.py alone."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import confined, fileid, filelock, fsops, proof, tempname, treewalk

NESTED = "conda-meta"  # what makes a directory below a place an environment of its own


@proof.rule("nothing lost")
def collect(place: str) -> list:
    """Delete the temporaries killed runs left in place (a directory: all below it, no link followed, no other file
    system entered) and beside it; what was done, one sentence each. Only with place's lock held."""
    directory, name = os.path.split(os.path.realpath(place))  # the place its lock is for
    key = tempname.of_name(name)
    return _sweep(directory, lambda here, entry, st, found: found[0] == key and _dead(found), name)


@proof.rule("free lock")
def collect_unlocked(directory: str, dry_run: bool = False) -> list:
    """Delete the temporaries written under no lock of the place in directory (not walked below) whose writer is
    gone, its lock on the file free: the whole proof, a place's or the cache's. What was done, one sentence each;
    dry_run: the paths it would delete, found without changing anything."""
    return _sweep(directory, lambda here, entry, st, found: found[0] is not None and found[2] in tempname.SELF_LOCKED
                  and writer_gone(here, entry, st), dry_run=dry_run)


def _sweep(directory: str, dead, below: str | None = None, dry_run: bool = False) -> list:
    """Delete (dry_run: list) each entry of directory that dead(Root, name, lstat, parse_temp's answer) judges a killed
    run's, and with below, those _collect_below finds in the directory below names."""
    done: list = []
    try:
        here = confined.Root.open(directory)
    except OSError:
        return done
    with here:
        try:
            entries = here.scandir()
        except OSError:  # Escapes too
            entries = []
        for entry, st in entries:
            found = tempname.parse_temp(entry)
            if found is not None and dead(here, entry, st, found):
                done.append(here.where(entry)) if dry_run else _drop(here, entry, st, done)
        try:
            if below is not None:
                with here.sub(below) as root:  # never through a link
                    _collect_below(root, done)
        except OSError:  # Escapes too
            pass
    return done


def writer_gone(here: confined.Root, rel: str, st: os.stat_result) -> bool:
    """Whether the writer of the regular file rel of the user's no longer holds its lock on it (a
    live one always does: it takes it before it writes a byte, or makes a work directory beside
    it: common/files/workdir.py). Anything else is left unjudged."""
    try:
        return stat.S_ISREG(st.st_mode) and fileid.ours(st) and not filelock.held(here.where(rel))
    except (OSError, TargetRefused):
        return False


def _dead(found) -> bool:
    """A sibling's name, written under the place's lock (no kind), by a run that is not this one."""
    return found[0] is not None and found[2] is None and not tempname.is_own(found[1])


def _collect_below(root: confined.Root, done: list) -> None:
    stack = [("", 0)]
    while stack:
        rel, depth = stack.pop()
        try:
            entries = root.scandir(rel)
        except OSError:  # Escapes too
            continue
        if depth and any(entry == NESTED for entry, _ in entries):
            continue  # an environment of its own, changed under its own lock: its own runs judge it
        # a place with a lock of its own beside it (a nested one): neither it nor a temporary made for it is this
        # place's; a lock named by a key (fsops.place_lock) may be any temporary's named by a key (tempname.of_name)
        owned = {n[1:-len(fsops.PLACE_LOCK) - 1] for n, _ in entries if n.endswith(f".{fsops.PLACE_LOCK}")}
        theirs = {tempname.of_name(n) for n in owned}
        keyed = any(n.startswith(f".{fsops.PLACE_LOCK}-") for n, _ in entries)
        for entry, st in entries:
            child = f"{rel}/{entry}" if rel else entry
            found = tempname.parse_temp(entry)
            if entry in owned or found is not None and (found[0] in theirs or keyed and (found[0] or "")[:1] == "~"):
                continue
            if found is not None and _dead(found):
                _drop(root, child, st, done)
            elif stat.S_ISDIR(st.st_mode) and not confined.is_link(st) and st.st_dev == root.dev \
                    and depth < treewalk.MAX_DEPTH:
                stack.append((child, depth + 1))


def _drop(here: confined.Root, rel: str, st: os.stat_result, done: list) -> None:
    where = here.where(rel)
    if not stat.S_ISREG(st.st_mode) or not fileid.ours(st):
        done.append(f"left {where} as it is: it is not a regular file of yours, so not what a killed mambaboot run "
                    "was writing under that name; look at it, then delete it by hand")
        return
    try:
        here.unlink(rel)
        done.append(f"deleted {where}, what a killed mambaboot run was writing under another name "
                    "(the file it was for was not changed)")
    except FileNotFoundError:
        pass
    except OSError as exc:  # Escapes too: a link on the way
        done.append(f"could not delete {where} ({getattr(exc, 'strerror', None) or exc}), what a killed mambaboot "
                    "run was writing under another name; delete it yourself")
