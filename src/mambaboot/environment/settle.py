"""The one routine that settles what an operation left unfinished at a place, from its intent
(environment/placelock.py), for its own failure path and for the next run alike. What each row (operation x stage) does,
and why each act is proven by the place itself: docs/reliability.md, "The settle table"."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import itertools
import os

from mambaboot.common import output, quoting
from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import confined, fsops, leftovers, noreplace, proof, removal, tempname
from mambaboot.environment import record  # placelock's import of it: nothing more at start-up


class Stuck(TargetRefused):
    """What an intent asks for cannot be done with proof: named; the intent stays."""


class At:
    """One settling: the intent (its stage rewritten as each step is done), the place whose lock was taken, the places
    whose own lock holds the intent (the only ones acted on), the steps a move's rows need, what was done."""

    def __init__(self, intent: dict, place: str, held: list, steps) -> None:
        self.intent, self.place, self.held, self.steps, self.token = intent, place, held, steps, intent.get("token")
        self.done: list[str] = []


def run(intent: dict, place: str, steps: dict | None = None, held: list | None = None, commit=lambda body: None) -> list[str]:
    """Settle intent (placelock.INTENT's shape) at place; what was done, one sentence each. steps: the move rows' steps
    (pipeline/movesteps.py). held: a killed run's places whose own lock holds its intent, the only ones looked at (None:
    the calling run's own). A row is one step, each of which can be done again, then the stage whose row does the rest:
    commit(body) writes the intent at that stage into the locks before the next step (git's lockfile.c rule: the lock's
    content is the truth until commit), so a settling killed anywhere is settled by the next run."""
    operation, stage = intent.get("operation"), intent.get("stage")
    if TABLE.get((operation, stage)) is None:
        raise Stuck(f"{place}: an unfinished {operation} left its intent at stage {stage!r}, which this mambaboot "
                    f"does not know how to settle; nothing was changed: {CLEAR.format(lock=fsops.place_lock(place))}")
    locks = {fsops.place_lock(p): p for p in held or [place]}
    if held is not None and unsettled_move(intent) and \
            not all(_absolute(intent.get(k)) and fsops.place_lock(intent[k]) in locks for k in ("from", "to")):
        raise Stuck(f"{place}: the intent of an unfinished move left beside it names {intent.get('from')} and "
                    f"{intent.get('to')}, but the lock of one of them does not hold it, so nothing proves that "
                    f"move ran there; nothing was changed; if no move is going, delete {fsops.place_lock(place)} "
                    "and run again")
    at = At(dict(intent), place, list(locks.values()), steps)
    if held is not None:  # a killed run's: what it wrote under its token, first (a directory its rows take back is
        for each in locks.values():  # then as it made it); a live run's own are renamed or deleted by itself
            at.done += leftovers.collect(each)
    step, after = TABLE[(operation, stage)]
    while step is not None:
        step(at)
        at.intent = dict(at.intent, stage=after)
        commit(at.intent)
        step, after = TABLE[(operation, after)]
    return at.done


def places(intent: dict) -> list[str]:
    """The places an intent names (place1, place2, ...: what its run held), absolute paths only."""
    named = itertools.takewhile(lambda p: isinstance(p, str), (intent.get(f"place{i}") for i in range(1, 9)))
    return [place for place in named if _absolute(place)]


def _identity(intent: dict, key: str) -> tuple | None:
    """The identity at the intent's key (proof.identity_text's; None: none): a condition besides a mark, no proof."""
    text = intent.get(key)
    parts = text.split(":") if isinstance(text, str) else []
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def _absolute(value) -> bool:
    return isinstance(value, str) and "\0" not in value and os.path.isabs(value) \
        and os.path.dirname(os.path.normpath(value)) != os.path.normpath(value)


def _sibling(intent: dict, place: str, key: str, role: str, what: str) -> str | None:
    """The intent's place named key, only when it is its run's name for what beside place (tempname.set_aside)."""
    aside, token = intent.get(key), intent.get("token")
    if not isinstance(aside, str):
        return None
    if not proof.is_token(token) or aside != tempname.set_aside(place, token, role):
        raise Stuck(f"{place}: the intent left beside it names {aside} as {what}, which is no name mambaboot "
                    "gives it; nothing was changed")
    return aside


@proof.rule("nothing lost")
def _rmdir(path: str) -> bool:
    """rmdir alone, which takes an empty directory and nothing else (never a link): what a run made and was killed
    before it could mark. False: left as it is."""
    parent, name = confined.split(path)
    with parent:
        try:
            parent.rmdir(name)
        except OSError:
            return False
    return True


@proof.rule("mark")
def _put_back(at: At) -> None:
    """create --force's old environment, set aside, renamed back into place (never over anything), its mark dropped."""
    place = at.place
    aside = _sibling(at.intent, place, "aside", proof.OLD, "its old environment")
    if aside is None:
        return
    if os.path.lexists(aside):
        if not proof.holds_mark(aside, at.token, proof.OLD):
            raise proof.refused(aside, f"set it aside to replace {place}")
        try:  # never over what is at the place, made there a moment ago too
            confined.rename_beside(aside, place, noreplace.rename_dir)
        except FileExistsError:
            raise Stuck(f"{place} holds something the create that replaced it did not make; the old environment it "
                        f"set aside is kept at {aside}: look at both, then remove one and rename the other") from None
        at.done.append(f"put back the old environment at {place} (the create that replaced it did not finish)")
    if proof.drop_mark(place, proof.OLD, at.token) and not at.done:
        at.done.append(f"the old environment is at {place}, as before the create that replaced it")


def new_left(intent: dict, place: str) -> str:
    """What the engine's directory of a create killed in its engine stage is: "gone", "old" (put back), "new" (marked),
    "empty" or "stuck" (it proves nothing: left to the user, the old environment kept set aside meanwhile)."""
    if not os.path.lexists(place):
        return "gone"
    for role in (proof.OLD, proof.NEW):
        if proof.holds_mark(place, intent.get("token"), role):
            return role
    try:
        with proof.place(place) as root:
            return "stuck" if root.listdir() else "empty"
    except OSError:  # no directory, or one reached through a link: it proves nothing
        return "stuck"


@proof.rule("mark")
def _undo_new(at: At) -> None:
    """The new prefix: deleted (emptied: the user's empty directory kept) only while it carries the run's mark, which
    the engine's directory can carry only once the engine made conda-meta (micromamba 2.8.1 takes an existing folder only
    when empty, and removes one holding conda-meta whole: libmamba/src/api/create.cpp `create()`); empty, by rmdir alone.
    Anything else proves nothing (an identity an intent recorded proves nothing: an inode number is reused at once): it
    is named and left, and the old environment stays set aside, named, until the user has cleared the place."""
    intent, place = at.intent, at.place
    staged = _sibling(intent, place, "staged", proof.NEW, "the directory it was making")
    if staged is not None and _rmdir(staged):  # killed before its rename: empty, the only state rmdir takes
        at.done.append(f"removed the empty directory {staged} an unfinished create of {place} had made")
    made, left = intent.get("made") == "1", new_left(intent, place)
    if left == proof.NEW:
        proof.remove_marked(place, at.token, "made it", proof.NEW, keep=not made)
        at.done.append(f"removed the unfinished environment at {place}")
    elif left == "empty" and made and _rmdir(place):  # nothing anyone could lose: the way cleared for _put_back
        at.done.append(f"removed the empty directory {place} the unfinished create had made")
    elif left == "empty":
        at.done.append(f"left the empty directory {place} as it is (a create takes it as it is; "
                       f"{removal.by_hand(place, 'empty')} deletes it)")
    elif left == "stuck":
        raise Stuck(stuck(intent, place))


def stuck(intent: dict, place: str, windows: bool = os.name == "nt", shown=str) -> str:
    """What a create killed while its engine wrote place left there, and what the user does about it (settle's
    refusal, and list's and doctor's advice)."""
    listed = output.some(sorted(os.listdir(place)), 5) if os.path.isdir(place) and not os.path.islink(place) else "no directory"
    aside = intent.get("aside") if isinstance(intent.get("aside"), str) and os.path.lexists(intent["aside"]) else None
    again = quoting.advice(["mambaboot", "doctor", "--settle", place], windows, "`mambaboot doctor --settle PREFIX`")
    return (f"{shown(place)} holds what a mambaboot create killed while it made an environment there left ({shown(listed)}), "
            "or what was put there since: nothing in it proves which, so nothing was deleted"
            + (f"; the environment it replaced is kept at {shown(aside)}" if aside else "")
            + f"; look at it: if it is that unfinished environment, delete it ({removal.by_hand(place, windows=windows)})"
            + (f" and {again} puts the old one back" if aside else "")
            + f"; if it is yours, delete {shown(fsops.place_lock(place))} (the killed run's intent)")


@proof.rule("mark")
def _drop_old(at: At) -> None:
    """create verified: the old environment set aside deleted through its mark, the new one's mark dropped."""
    aside = _sibling(at.intent, at.place, "aside", proof.OLD, "its old environment")
    if aside is not None and os.path.lexists(aside):
        proof.remove_marked(aside, at.token, f"set it aside to replace {at.place}", proof.OLD)
        at.done.append(f"deleted the old environment {aside} (the new one at {at.place} verified)")
    proof.drop_mark(at.place, proof.NEW)


@proof.rule("mark")
def _removing(at: At) -> None:
    """remove's set-aside (what it renamed to `aside`; not renamed yet: the place is whole, and only
    its mark goes) and deleting (`doomed`: that, or the place itself where the rename was refused)."""
    intent, place = at.intent, at.place
    key = "aside" if intent.get("stage") == "set-aside" else "doomed"
    doomed = place if key == "doomed" and intent.get(key) == place else \
        _sibling(intent, place, key, proof.REMOVING, "what remove set aside" if key == "aside" else "what remove was deleting")
    if doomed is not None and os.path.lexists(doomed):
        proof.remove_marked(doomed, at.token, f"set it aside to remove {place}", proof.REMOVING)
        at.done.append(f"finished removing {place}: a killed remove had left {doomed} half deleted")
    elif doomed is not None and key == "aside":
        proof.drop_mark(place, proof.REMOVING, at.token)


# A move's `how` (pipeline/move.py). FINISHED: a move of SRC to DST killed once it verified,
# finished by the next `move SRC DST`, which adopts DST again and has nothing else to put back.
RENAMED, COPIED, IN_PLACE, FINISHED = "renamed", "copied", "in place", "finished"


def move_shaped(intent: dict) -> bool:
    """Whether a move's intent has the shape of one mambaboot writes (its places, how and token)."""
    return all(_absolute(intent.get(k)) for k in ("from", "to", "old")) and proof.is_token(intent.get("token")) \
        and intent.get("how") in (RENAMED, COPIED, IN_PLACE, FINISHED) \
        and all(_identity(intent, k) is not None for k in ("source", "copy") if intent.get(k) is not None)


def _move_fields(intent: dict, place: str) -> tuple:
    if not (move_shaped(intent) and os.path.normcase(place) in map(os.path.normcase, (intent["from"], intent["to"]))):
        raise Stuck(f"{place}: the intent of an unfinished move left beside it is not one mambaboot writes "
                    "(its places, how or token); nothing was changed")
    return tuple(intent[k] for k in ("from", "to", "old", "how", "token"))


@proof.rule("mark")
def _move_back(at: At) -> None:
    """Before `verified`: the move put back (steps["undo"]: its files, record and scripts name SRC's old place again)."""
    src, dst, old, how, token = _move_fields(at.intent, at.place)
    if how == COPIED:
        act = f"copied {src} there"
        partial = _sibling(at.intent, dst, "partial", proof.COPY, "the move's copy")
        dropped = partial is not None and os.path.lexists(partial)
        if dropped:
            proof.remove_marked(partial, token, act, proof.COPY)  # made, killed before its mark: empty, for rmdir alone
        copy = _identity(at.intent, "copy")
        if copy is not None and proof.holds_mark(dst, token, proof.COPY, copy):
            proof.remove_marked(dst, token, act, proof.COPY, expected=copy)
            dropped = True
        elif copy is not None and _rmdir(dst):  # the copy, emptied to its mark by a settling killed in turn, the mark gone
            dropped = True
        if proof.drop_mark(src, proof.SOURCE, token) or dropped:
            at.done.append(f"put back: a move of {src} to {dst} did not verify; the copy was deleted and {src} is as it was")
        return
    source = _identity(at.intent, "source")
    renamed = how == RENAMED and proof.holds_mark(dst, token, proof.SOURCE, source)
    if renamed:
        if os.path.lexists(src):
            raise Stuck(f"{src} holds something the move of it to {dst} did not leave there; the environment it "
                        f"moved is at {dst}: look at both, then remove one and move the other")
        noreplace.rename_dir(dst, src)
    if not proof.holds_mark(src, token, proof.SOURCE, source):
        return  # nothing of this move is at SRC: it never claimed it, or this was settled already
    _snapshot_back(at, src, "")  # what its re-adopt changed, first: the rewrite is undone from there
    _drop_snapshot(src, token)
    _rmdir(os.path.join(src, record.RECORD_DIR))  # made by the re-adopt of an environment that had none: empty again
    at.done += at.steps["undo"](src, dst, old, renamed)
    proof.drop_mark(src, proof.SOURCE)
    at.done.append(f"put back: a move of {src} to {dst} did not verify; " +
                   (f"{src} names {old} again, as before" if how == IN_PLACE else f"{src} is as it was"))


@proof.rule("mark")
def _unclaim(at: At) -> None:
    """Begun: the mark a move wrote in SRC before its first act is all it left; dropped under SRC's own lock."""
    src = at.intent.get("from")  # only a place whose lock this settling holds with the intent in it
    if isinstance(src, str) and os.path.normcase(src) in map(os.path.normcase, at.held) and \
            proof.drop_mark(src, proof.SOURCE, at.token):
        at.done.append(f"dropped the mark of a mambaboot move of {src} stopped before it moved anything: it is as it was")


@proof.rule("mark")
def _move_forward(at: At) -> None:
    """At `verified` or later: the move is finished."""
    src, dst, old, how, token = _move_fields(at.intent, at.place)
    finished = False
    if how == COPIED:
        source = _identity(at.intent, "source")
        aside = _sibling(at.intent, src, "aside", proof.SOURCE, "the moved source")
        if aside is not None and os.path.lexists(aside):  # set aside by a run killed since: what is left of it
            proof.remove_marked(aside, token, f"moved it to {dst}", proof.SOURCE, expected=source)
            finished = True
        if os.path.lexists(src):  # the one set-aside (guarded.py), by the mark the move wrote at its start; refused
            from mambaboot.common.files import guarded  # only here: not at the start of list, doctor, pack

            try:  # a rename (a file in it open on Windows): deleted in place, the mark last
                with guarded.set_aside(guarded.Seen(src, source), aside and proof.SOURCE, token, claimed=proof.SOURCE) as gone:
                    gone.delete()
            except guarded.Changed:  # unmarked: rmdir alone if emptied to its mark by a killed run; else not the move's
                proof.remove_marked(src, token, f"moved it to {dst}", proof.SOURCE, expected=source)
            finished = True
    if how == FINISHED or proof.holds_mark(dst, token, proof.SOURCE) or proof.holds_mark(dst, token, proof.COPY):
        _drop_snapshot(dst, token)  # its re-adopt verified: its snapshot is all that is left of it
    for role in (proof.SOURCE, proof.COPY):
        proof.drop_mark(dst, role, token)
    at.done.append(f"finished: a move of {src} to {dst} had verified" + (f"; {src} was deleted" if finished else ""))


def _snapshot_back(at: At, place: str, what: str) -> None:
    """What an adopt (or a move's re-adopt) changed at place put back from the snapshot it saved there under the
    intent's token (environment/adoptundo.py), read through its mark, kept for the next step to drop. what: the run."""
    from mambaboot.environment import adoptundo

    snapshot = adoptundo.load(place, at.token)
    for path in adoptundo.restore(place, snapshot, at.token) if snapshot is not None else ():
        at.done.append(f"kept {path} as it is: not what an unfinished adopt of {place} wrote there, it is yours")
    if snapshot is not None and what:
        at.done.append(f"put back {place} as it was before {what}")


def _drop_snapshot(place: str, token) -> None:
    """The snapshot an adopt saved at place under token deleted through its mark (adoptundo, imported only here)."""
    from mambaboot.environment import adoptundo

    adoptundo.drop(place, token)


def unsettled_move(intent: dict | None) -> bool:
    """Whether intent is a move's that left something to settle (for `list`'s state)."""
    row = TABLE.get(("move", intent.get("stage"))) if intent and intent.get("operation") == "move" else None
    return row is not None and row[0] not in (None, _unclaim)  # begun: its mark goes with any run of SRC


@proof.rule("mark")
def _adopt_back(at: At) -> None:
    """An adopt that did not finish, or a move's re-adopt of DST finishing a killed move (which had
    verified: nothing else of it is left), put back from its snapshot (dropped by the next row)."""
    place, what = at.place, "an adopt of it that did not finish"
    if at.intent.get("operation") == "move":
        src, place, *_ = _move_fields(at.intent, place)
        what = f"a mambaboot move of {src} to {place} that did not finish adopted it again (the move itself had finished)"
    _snapshot_back(at, place, what)


@proof.rule("mark")
def _adopt_dropped(at: At) -> None:
    """The snapshot dropped through its mark; then the record dir, where the adopt's intent says it made it (`made`),
    once empty again, by rmdir alone: one there before the adopt is never taken."""
    _drop_snapshot(at.place, at.token)
    if at.intent.get("made") == "1" and os.path.isdir(at.place):
        _rmdir(os.path.join(at.place, record.RECORD_DIR))


SET_ASIDE_AS = {proof.OLD: "the old environment", proof.NEW: "the new environment being made", proof.COPY: "the copy",
                proof.REMOVING: "what is being removed", proof.SOURCE: "the source of a move"}


# What clears an intent the table does not know, as git names a stale index.lock.
CLEAR = "look at the place (and what the intent names), then delete {lock} (that run's intent) and run again"
# Two acts stay a live run's own, as they prove more than any row can: create, engine: the directory it made, emptied
# through the descriptor held open since (pipeline/create.py _Rollback.undo), then these rows; remove, set-aside: a
# directory swapped in between the check and the rename, named back by identity (common/files/guarded.py set_aside).
TABLE = {  # (operation, stage): (its step, the stage that settles the rest) (docs/reliability.md, "The settle table")
    ("create", "begun"): (None, None), ("create", "set-aside"): (_put_back, "begun"),
    ("create", "engine"): (_undo_new, "set-aside"), ("create", "finishing"): (_undo_new, "set-aside"),
    ("create", "verified"): (_drop_old, "done"), ("create", "done"): (None, None),
    ("adopt", "begun"): (None, None), ("adopt", "saving"): (_adopt_dropped, "begun"),
    ("adopt", "adopting"): (_adopt_back, "saving"), ("adopt", "adopted"): (_adopt_dropped, "begun"),
    ("remove", "begun"): (None, None), ("remove", "set-aside"): (_removing, "begun"),
    ("remove", "deleting"): (_removing, "begun"),
    ("move", "begun"): (_unclaim, "ended"), ("move", "copying"): (_move_back, "ended"),
    ("move", "rewriting"): (_move_back, "ended"), ("move", "verified"): (_move_forward, "ended"),
    ("move", "deleting-source"): (_move_forward, "ended"), ("move", "re-adopting"): (_adopt_back, "verified"),
    ("move", "ended"): (None, None),
    ("pack", "begun"): (None, None), ("provision", "begun"): (None, None),
    ("activate-scripts", "begun"): (None, None), ("settle", "begun"): (None, None),
}
