"""What a killed run leaves beside an environment, and how the next run settles it.

- `create --force` renames the old environment to `.NAME.mambaboot-old-<12 hex>` and deletes it
  only after the new one verified; its intent names it, and settles it (environment/settle.py).
- `remove` marks the environment (proof.py), renames it to `.NAME.removing-<12 hex>`, then
  deletes it, the mark last; its intent names it, and settles it (environment/settle.py).
- `move` to another file system copies into `.NAME.mambaboot-new-<12 hex>` (DST's sibling),
  with a note at its top (PARTIAL_NOTE) that the running move holds locked; only a complete
  copy is renamed to DST. A note nobody holds is a killed move's partial copy.
- `move` deletes its source only once the copy works: a note in it first (MOVED_NOTE, naming
  where it went and the move's token), then renamed to `.NAME.moved-away-<12 hex>` and deleted
  (in place where the rename is refused), the note and the move's mark last.
The next create, move or remove of that place settles each, saying what it did. Each is deleted
only while it carries the mark of the operation that left it: a name, a note or a record
anyone can write; what does not prove itself is named and left alone.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import shapes, untrusted
from mambaboot.common.files import confined, fileid, filelock, fsops, proof, removal
from mambaboot.environment import record

TAG = "mambaboot-old"
# Tags of at most 13 characters, as TAG: the room pathrules keeps for a sibling's name (SIBLING_EXTRA).
COPYING = "mambaboot-new"  # a move's copy, not yet DST
MOVED = "moved-away"  # a move's source, being deleted once the copy works
PARTIAL_NOTE = ".mambaboot-partial-copy"
MOVED_NOTE = os.path.join(record.RECORD_DIR, "moved-away.json")
MOVE_JOURNAL = os.path.join(record.RECORD_DIR, "moving.json")  # a move's journal (pipeline/movejournal.py; scan.JOURNAL)
_HALF_DONE = {MOVED: "a killed move, once its copy worked,"}
_MOVED_SHAPE = {"tool": shapes.required(str, rule=shapes.exactly(record.TOOL)),
                "token": shapes.required(str, rule=shapes.digest(32)), "to": shapes.optional(str)}


class LeftAlone(str):
    """A sentence of settle() naming what it found but did not touch (the others: what it did)."""


def _siblings(prefix: str, tag: str) -> list[str]:
    """The real directories (no link) beside prefix named as unique_sibling(prefix, tag) names them."""
    directory, base = os.path.split(prefix)
    try:
        names = sorted(n for n in os.listdir(directory or ".") if fsops.sibling_base(n, tag) == base)
    except OSError:
        return []
    return [p for p in (os.path.join(directory, n) for n in names) if os.path.isdir(p) and not fileid.is_link(p)]


def half_removed(prefix: str) -> list[tuple[str, str, str | None]]:
    """(path, who, token) for each directory named as what a killed `move` deleting prefix as its
    source leaves: the renamed environment, partly deleted. token: the move's, when the directory
    proves it was set aside by it (a mark of the token its note holds), else None: anyone can give
    a directory that name, and the mark is what mambaboot alone wrote."""
    found = []
    for tag, who in _HALF_DONE.items():
        for path in _siblings(prefix, tag):
            try:
                with proof.place(path) as root:
                    token = (_noted(root) or {}).get("token")
            except OSError:
                token = None
            found.append((path, who, token))
    return found


def _noted(root: confined.Root) -> dict | None:
    """The MOVED_NOTE in the directory root holds, read through it, when the directory carries
    the mark of the token the note holds."""
    rel = MOVED_NOTE.replace(os.sep, "/")
    try:
        raw = root.read_bytes(rel, untrusted.SMALL)
        note = shapes.check(untrusted.json(raw, root.where(rel)), _MOVED_SHAPE, root.where(rel), "a moved-away note")
    except (OSError, ValueError):
        return None
    return note if proof.holds_mark(root, note["token"]) else None


def read_note(path: str) -> dict | None:
    """A note of ours (PARTIAL_NOTE, a move's journal), or None: missing, a link or no regular file
    (a fifo would hold the read), unreadable, not ours."""
    if fileid.is_link(path) or not os.path.isfile(path):
        return None
    data = record.json_object(path)
    return data if data is not None and data.get("tool") == record.TOOL else None


def partial_copies(prefix: str) -> list[tuple[str, tuple, dict]]:
    """(path, identity, note) of every partial copy a killed move to prefix left: its note is ours
    and no running move holds it (a copy under way is never counted); the copy carries the mark
    of the token its note holds (proof.py; settle deletes it only while it still does)."""
    found = []
    for path in _siblings(prefix, COPYING):
        note_path = os.path.join(path, PARTIAL_NOTE)
        note = read_note(note_path)
        if note is None and not os.path.lexists(note_path):
            # complete, its note dropped, and killed before it became prefix: the move's journal
            # in it says whose it is (the caller holds prefix's lock, so no move is making it now)
            note = read_note(os.path.join(path, MOVE_JOURNAL))
            note = dict(note, source=note.get("from")) if note is not None else None
        if note is not None and proof.is_token(note.get("token")) and not filelock.held(note_path):
            found.append((path, fileid.identity(os.lstat(path)), note))
    return found


def moved_away(prefix: str) -> dict | None:
    """The note of a moved environment's source that a killed move left half deleted in place
    (where it could not be renamed aside), when the copy it names is an environment and prefix
    still carries the move's mark (proof.py)."""
    if fileid.is_link(prefix) or not os.path.isdir(prefix):
        return None
    try:
        with proof.place(prefix) as root:
            note = _noted(root)
    except OSError:
        return None
    to = note.get("to") if note else None
    return note if isinstance(to, str) and os.path.isdir(os.path.join(to, "conda-meta")) else None


def delete_noted_last(prefix: str, token: str) -> None:
    """Delete a moved environment's source in place, its MOVED_NOTE and the move's mark last: cut
    short, what is left still says what it is, and still proves whose it is."""
    keep = (os.path.normcase(MOVED_NOTE.split(os.sep)[0]), os.path.normcase(proof.MARK))
    note = os.path.basename(MOVED_NOTE)
    with proof.place(prefix) as root:  # below it, never through a link nor across a mount
        if not proof.holds_mark(root, token):
            raise proof.refused(prefix, "moved it")
        for name in root.listdir():
            if os.path.normcase(name) not in keep:
                root.remove_any(name)
        for name in root.listdir(record.RECORD_DIR):
            if name != note:
                root.remove_any(f"{record.RECORD_DIR}/{name}")
        root.remove_any(record.RECORD_DIR)
        root.remove_any(proof.MARK)
    removal.remove_dir(prefix)


def move_journal(prefix: str, left: dict | None) -> bool:
    """Whether a move's journal may concern prefix (its own, or one a killed move's intent left in
    prefix's lock, left, leads to): cheap, so that create and remove import the journal's code
    only when there is one."""
    return os.path.lexists(os.path.join(prefix, MOVE_JOURNAL)) or bool(left) and left.get("operation") == "move"


def moving_places(envs_dir: str, paths) -> list[tuple[str, dict | None]]:
    """(place, the intent a killed move left in its lock, or None) for each place a move's journal
    may concern: each directory under envs_dir and each of paths holding a journal, each whose
    lock (no run holding it) holds a killed move's intent. Cheap: one listing each."""
    from mambaboot.environment import placelock

    found: dict = {}
    for directory in [envs_dir] + sorted({os.path.dirname(os.path.abspath(p)) for p in paths}):
        for place, _, body in placelock.unsettled(directory):
            if body.get("operation") == "move":
                found.setdefault(place, body)
    try:
        names = sorted(os.listdir(envs_dir))
    except OSError:
        names = []
    for place in [os.path.join(envs_dir, n) for n in names] + [os.path.abspath(p) for p in paths]:
        if os.path.lexists(os.path.join(place, MOVE_JOURNAL)):
            found.setdefault(place, None)
    return list(found.items())


def settle(prefix: str, cache_dir: str) -> list[str]:
    """Finish a killed move's deletion of its source, delete a killed move's partial copy; what was
    done, one sentence each. Call with the place's lock held (a killed create --force's old copy
    and a killed remove are their intents' to settle: environment/settle.py)."""
    done = []
    for doomed, who, token in half_removed(prefix):
        try:
            if token is None:
                raise proof.refused(doomed, "set it aside")
            # a move's note (in RECORD_DIR) and the mark last: cut short, it still proves itself
            proof.remove_marked(doomed, token, "set it aside", last=(record.RECORD_DIR,))
        except proof.NotOurs:
            done.append(LeftAlone(f"left {doomed} alone: it is named as what {who} leaves half deleted, "
                                  "but does not carry the mark that would prove it"))
            continue
        done.append(f"finished removing {prefix}: {who} had left {doomed} half deleted")
    moved = moved_away(prefix)
    if moved is not None:
        delete_noted_last(prefix, moved["token"])
        done.append(f"finished deleting {prefix}: a killed move had copied it to {moved['to']} and left it half deleted")
    for partial, ident, note in partial_copies(prefix):
        try:
            proof.remove_marked(partial, note["token"], f"copied {note.get('source')} there")
        except proof.NotOurs:
            done.append(LeftAlone(f"left {partial} alone: it does not carry the mark of the move its note names"))
            continue
        done.append(f"deleted {partial}: a partial copy of {note.get('source')} that a killed move had left")
    return done
