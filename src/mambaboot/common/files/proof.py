"""Authority comes from the place, never from what names it.

A journal, pointer, note or record can say anything (an environment received from someone else may hold one naming a
directory of the user's, with its identity copied). So a destructive act (delete, rename aside, finish or put back) on
a place mambaboot made or claimed happens only when the place carries the proof, read back at the moment of the act
through the directory descriptor the act uses: a mark file at its top (MARK) holding the random token the operation's
intent holds, the place's role (an old environment put back by hand over the new one is not the new one), and the
identity of the directory it was written in (not a copy's). Anything else is NotOurs: named and left (exit 4)."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import confined, removal, tempname
from mambaboot.common.files.tempname import is_token  # a token's shape: intents' fields are checked by it too

MARK = ".mambaboot-claim"
_MAGIC = "mambaboot-claim"

# A mark names the place it proves by its role: a mark moved, or left, elsewhere (an old environment
# set aside then renamed back by hand over the new one) proves nothing there.
HOME = "home"  # a private HOME in CACHE/tmp (engine/sandbox.py)
OLD = "old"  # create --force's old environment, set aside
NEW = "new"  # create's new prefix, once its engine is done: written in its conda-meta (CONTENTS)
REMOVING = "removing"  # remove's environment, set aside to be deleted
SOURCE = "source"  # a move's source (renamed to DST with it, or set aside once copied)
COPY = "copy"  # a move's copy
UNDO = "undo"  # what an adopt saved of a prefix before changing it (environment/adoptundo.py)
ROLES = (HOME, OLD, NEW, REMOVING, SOURCE, COPY, UNDO)
# The new prefix's mark is written inside what it proves, the directory the engine made for the environment's own
# metadata (micromamba 2.8.1 makes it first: libmamba/src/api/install.cpp `create_target_directory`, conda-meta/history):
# the prefix's contents emptied by hand (`rm -rf PREFIX/*`) take it with them, so what is put there later is unproven.
CONTENTS = "conda-meta"


class NotOurs(TargetRefused):
    """A place a record names, without the mark that would prove mambaboot made or claimed it."""


# Each function that decides "ours: may be deleted or renamed", by the code it runs, with the name of its rule
# (environment/stateinventory.py PROOF_RULES): the crash matrix holds every deletion and rename of a place to having one
# of them below it (tests/test_crash_matrix.py).
RULED: dict = {}


def rule(name: str):
    """Tag a function that decides a place is ours to delete or rename with the name of the rule it decides by."""
    def tag(fn):
        RULED[fn.__code__] = name
        return fn
    return tag


def _at(role: str) -> str:
    """The directory below the place where role's mark is written ("" for the place itself)."""
    return CONTENTS if role == NEW else ""


def identity_text(ident) -> str:
    """A directory's identity as a mark (and an intent: environment/settle.py) writes it."""
    return f"{ident[0]}:{ident[1]}"


def _fields(token: str, role: str, root: confined.Root, inner: confined.Root) -> str:
    dirs = (inner, root) if _at(role) else (root,)
    return " ".join([_MAGIC, token, role, *(identity_text(d.identity) for d in dirs)])


def write_mark(where, token: str, role: str, sync: bool = True) -> None:
    """Mark the directory where (a Root, or its path) as the place of role claimed by the operation holding token.
    Anything but a file in the mark's place is no mark of ours: refused, named, nothing changed. sync: fsync'ed first."""
    assert role in ROLES, role
    # _at(role): the engine made it; made here when it failed before
    with place(where) as root, root.sub(_at(role), create=True) as inner:
        st = inner.lstat(MARK) if inner.exists(MARK) else None
        if st is not None and not stat.S_ISREG(st.st_mode):
            what = "a directory" if stat.S_ISDIR(st.st_mode) else "a link" if stat.S_ISLNK(st.st_mode) else "not a file"
            raise TargetRefused(f"{inner.where(MARK)} is {what}, where mambaboot writes the one-line file that "
                                "marks a place an operation of its own has claimed; it is not mambaboot's: move it "
                                "out of the way (or delete it) and run again; nothing was changed")
        inner.write_replace(MARK, f"{_fields(token, role, root, inner)}\n".encode("ascii"), sync=sync)


def holds_mark(where, token, role: str, expected: tuple | None = None) -> bool:
    """Whether the directory where (a Root, or its path: no directory there, False) carries the mark of token for role,
    written in it (not copied or moved in, nor written for another role), and (expected) has that identity."""
    if not is_token(token):
        return False
    try:
        with place(where) as root, root.sub(_at(role)) as inner:
            if expected is not None and root.identity != tuple(expected):
                return False
            text, wanted = inner.read_bytes(MARK, 256).decode("ascii"), _fields(token, role, root, inner)
    except (OSError, UnicodeDecodeError):
        return False
    # hmac.compare_digest without hmac, which imports hashlib (OpenSSL): the same constant-time
    # comparison (CPython's Lib/hmac.py takes it from _operator, or its twin from _hashlib)
    from _operator import _compare_digest

    return _compare_digest(text.strip(), wanted)


def drop_mark(where, role: str, token=None) -> bool:
    """Role's mark in the directory where (a Root, or its path) goes (token: only when it is token's); whether one
    went. A mark left (no directory, or it cannot be deleted) proves nothing to any other operation: no failure."""
    try:
        with place(where) as root:
            if token is not None and not holds_mark(root, token, role):
                return False
            root.unlink(os.path.join(_at(role), MARK))
            return True
    except OSError:
        return False


def refused(place: str, act: str) -> NotOurs:
    return NotOurs(f"{place} does not carry the mark of the mambaboot operation that {act}: a record names it, "
                   "but nothing proves mambaboot made or claimed it; it was left as it is")


def place(where) -> confined.Root:
    """The directory at the path where, itself never a link (its parent taken as it is), as a Root;
    a Root given: a Root of its own of the same directory."""
    if not isinstance(where, str):
        return where.sub("")  # the same directory (contextlib's nullcontext costs create's start-up its import)
    parent, name = confined.split(where)
    with parent:
        return parent.sub(name)


@rule("mark")
def remove_marked(path: str, token, act: str, role: str, expected: tuple | None = None, keep: bool = False) -> None:
    """Delete the directory at path and all below it (keep: the directory stays), only when it carries token's mark for
    role (and, expected: has that identity), read through the descriptor the deletion then uses, the name checked again
    before its rmdir. The mark goes last: cut short, what remains still proves whose it is, for the next run; cut short
    after the mark went, what remains is empty (but the empty directory the mark was in), and goes by rmdir alone, which
    takes nothing else: nothing of anyone's to lose (the `nothing lost` rule, docs/reliability.md)."""
    last = (_at(role), MARK) if _at(role) else (MARK,)
    parent, name = confined.split(path)
    with parent:
        try:
            root = parent.sub(name)
        except OSError:
            raise refused(path, act) from None
        with root:
            if emptied(root, role):
                return _take_emptied(parent, name, root, role, keep, path, act)
            if not holds_mark(root, token, role, expected):
                raise refused(path, act)
            if not keep:  # the directory whose mark was read, held open meanwhile: its identity is no other's
                try:
                    return parent.remove_tree(name, expected=root.identity, last=last)
                except confined.NotTheSame:
                    raise refused(path, act) from None
            if root.fd is None:  # pragma: no cover - Windows: by path, each entry looked at first
                for entry in [n for n in root.listdir() if n not in last] + [n for n in last if n in root.listdir()]:
                    root.remove_any(entry)
            else:
                removal.remove_contents(root.fd, where=path, last=last)


def emptied(root: confined.Root, role: str = "") -> bool:
    """Whether root holds nothing but what a killed run was writing under another name (a mark's new text before its
    rename among them: tempname's names, regular files), and (role's mark written below it) that directory, itself
    holding no more: made, killed before its mark was in place, or emptied to its mark. _take_emptied takes it."""
    entries = _live(root)
    if entries != [_at(role)]:
        return not entries
    try:
        with root.sub(_at(role)) as inner:
            return not _live(inner)
    except OSError:  # not a directory of its own: something of someone's
        return False


def _live(root: confined.Root, dead: bool = False) -> list:
    """The names in root that are not (dead: that are) a killed run's text under a temporary name (_dead_text)."""
    return [n for n in root.listdir() if _dead_text(root, n) == dead]


def _dead_text(root: confined.Root, name: str) -> bool:
    """A regular file under a temporary name of another run's (tempname: a killed one's, the `nothing lost` rule)."""
    found = tempname.parse_temp(name)
    try:
        return bool(found) and found[0] is not None and not tempname.is_own(found[1]) and \
            stat.S_ISREG(root.lstat(name).st_mode)
    except OSError:
        return False


@rule("nothing lost")
def _take_emptied(parent: confined.Root, name: str, root: confined.Root, role: str, keep: bool, path: str, act: str) -> None:
    """What a deletion through a mark left once the mark went (or a directory made, killed before its mark): a killed
    run's text under a temporary name unlinked, then rmdir alone takes it (keep: the directory stays)."""
    try:
        for inner in ([_at(role)] if _at(role) and root.exists(_at(role)) else []) + [""]:  # root's own last
            with root.sub(inner) as here:
                for dead in _live(here, dead=True):
                    here.unlink(dead)
            if inner:
                root.rmdir(inner)
        if not keep:
            parent.rmdir(name)
    except OSError:  # filled meanwhile: not empty, so not for rmdir, and it proves nothing
        raise refused(path, act) from None
