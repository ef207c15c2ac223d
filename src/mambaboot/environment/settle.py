"""The one routine that settles what an operation left unfinished at a place, from its intent
(environment/placelock.py): the operation's own failure path calls it with the intent it holds, and the next run that
takes the place's lock with the intent a killed run left, so the same stage takes the same path either way. What each
row (operation x stage) does, and why each act is proven by the place itself: docs/reliability.md, "The settle table".
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import itertools
import os

from mambaboot.common import output, quoting
from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import confined, fileid, fsops, leftovers, noreplace, proof, removal, tempname
from mambaboot.environment import record  # placelock's import of it: nothing more at start-up


class Stuck(TargetRefused):
    """What an intent asks for cannot be done with proof: named; the intent stays."""


def run(intent: dict, place: str, steps: dict | None = None, held: list | None = None, commit=None) -> list[str]:
    """Settle intent (placelock.INTENT's shape) at place; what was done, one sentence each. steps: the move rows' steps
    (pipeline/movesteps.py), passed by the runs that may settle a killed move. held: a killed run's places whose own lock
    holds its intent, the only ones looked at (None: the calling run's own). commit(body): the intent replaced in its lock
    before the mark that proves the next step goes (git's lockfile.c rule: the lock's content is the truth until commit)."""
    operation, stage = intent.get("operation"), intent.get("stage")
    action = TABLE.get((operation, stage))
    if action is None:
        raise Stuck(f"{place}: an unfinished {operation} left its intent at stage {stage!r}, which this mambaboot "
                    f"does not know how to settle; nothing was changed: {CLEAR.format(lock=fsops.place_lock(place))}")
    if operation == "move" and action not in ((), (_unclaim,)) and steps is None:
        raise Stuck(f"{place}: a mambaboot move of {intent.get('from')} to {intent.get('to')} did not finish; "
                    + quoting.advice(["mambaboot", "move", str(intent.get("from")), str(intent.get("to"))], os.name == "nt",
                                     "`mambaboot move SOURCE DESTINATION`")
                    + " puts it back or finishes it first (a remove of either place settles it too); nothing was changed")
    locks = {fsops.place_lock(p): p for p in held or [place]}
    if operation == "move" and action not in ((), (_unclaim,)) and held is not None and \
            not all(_absolute(intent.get(k)) and fsops.place_lock(intent[k]) in locks for k in ("from", "to")):
        raise Stuck(f"{place}: the intent of an unfinished move left beside it names {intent.get('from')} and "
                    f"{intent.get('to')}, but the lock of one of them does not hold it, so nothing proves that "
                    f"move ran there; nothing was changed; if no move is going, delete {fsops.place_lock(place)} "
                    "and run again")
    done: list[str] = []
    for step in action:
        step(intent, place, done, steps, commit or (lambda body: None))
    if held is not None:  # a killed run's: what it wrote under its token is left (a live run's own
        for each in locks.values():  # are renamed or deleted by itself, and walking costs a whole tree)
            done += leftovers.collect(each)
    return done


def places(intent: dict) -> list[str]:
    """The places an intent names (place1, place2, ...: what its run held), absolute paths only."""
    named = itertools.takewhile(lambda p: isinstance(p, str), (intent.get(f"place{i}") for i in range(1, 9)))
    return [place for place in named if _absolute(place)]


def _identity(intent: dict, key: str = "target") -> tuple | None:
    """The identity the intent's key holds, as proof.identity_text writes it (None: none of that shape)."""
    text = intent.get(key)
    parts = text.split(":") if isinstance(text, str) else []
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def _absolute(value) -> bool:
    return isinstance(value, str) and "\0" not in value and os.path.isabs(value) \
        and os.path.dirname(os.path.normpath(value)) != os.path.normpath(value)


def _sibling(intent: dict, place: str, key: str, role: str, what: str) -> str | None:
    """The intent's place named key, only when it is the name its run gives what beside place
    (tempname.set_aside of the intent's token for role)."""
    aside, token = intent.get(key), intent.get("token")
    if not isinstance(aside, str):
        return None
    if not proof.is_token(token) or aside != tempname.set_aside(place, token, role):
        raise Stuck(f"{place}: the intent left beside it names {aside} as {what}, which is no name mambaboot "
                    "gives it; nothing was changed")
    return aside


def _rmdir(path: str, expected: tuple | None = None) -> bool:
    """Remove the directory at path with rmdir alone, which takes an empty directory and nothing
    else (never a link), and only while it has identity expected (when known): what a run made
    and was killed before it could mark. False: left as it is."""
    parent, name = confined.split(path)
    with parent:
        try:
            fileid.same_or_refuse(path, parent.lstat(name), expected)
            parent.rmdir(name)
        except OSError:
            return False
    return True


def _put_back(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    aside, token = _sibling(intent, place, "aside", proof.OLD, "its old environment"), intent.get("token")
    if aside is None:
        return
    if not os.path.lexists(aside):  # killed before the rename (or put back by hand): the old environment is in place
        if proof.drop_mark(place, proof.OLD, token):
            done.append(f"the old environment is at {place}, as before the create that replaced it")
        return
    if not proof.holds_mark(aside, token, proof.OLD):
        raise proof.refused(aside, f"set it aside to replace {place}")
    try:  # never over what is at the place, made there a moment ago too
        confined.rename_beside(aside, place, noreplace.rename_dir)
    except FileExistsError:
        raise Stuck(f"{place} holds something the create that replaced it did not make; the old environment it "
                    f"set aside is kept at {aside}: look at both, then remove one and rename the other") from None
    commit(dict(intent, stage="set-aside", made=None, staged=None, target=None))  # its mark still proves it
    proof.drop_mark(place, proof.OLD)
    done.append(f"put back the old environment at {place} (the create that replaced it did not finish)")


def new_left(intent: dict, place: str) -> str:
    """What the engine's directory of a create killed in its engine stage is: "gone", "old" (put back), "new" (marked),
    "empty", "aside" (it proves nothing, but the old environment waits set aside: renamed out of its way to the name the
    intent gave the engine's directory, which deletes nothing) or "stuck" (it proves nothing: left to the user)."""
    token = intent.get("token")
    if not os.path.lexists(place):
        return "gone"
    for role in (proof.OLD, proof.NEW):
        if proof.holds_mark(place, token, role):
            return role
    try:
        with proof.place(place) as root:
            if not root.listdir():
                return "empty"
    except OSError:  # no directory, or one reached through a link: it proves nothing
        return "stuck"
    staged = intent.get("staged")
    return "aside" if isinstance(staged, str) and not os.path.lexists(staged) and _old_waits(intent, place, place) else "stuck"


def _old_waits(intent: dict, place: str, path: str) -> bool:
    """Whether the old environment waits set aside while path is the engine's directory (by identity: enough to rename)."""
    aside = _sibling(intent, place, "aside", proof.OLD, "its old environment")
    try:
        return aside is not None and os.path.lexists(aside) and fileid.identity(os.lstat(path)) == _identity(intent)
    except OSError:
        return False


def _undo_new(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    """The new prefix: deleted (emptied: the user's empty directory kept) only while it carries the run's mark, which
    the engine's directory can carry only once the engine made conda-meta (micromamba 2.8.1 takes an existing folder only
    when empty, and removes one holding conda-meta whole: libmamba/src/api/create.cpp `create()`), or through the directory
    the failed run held open since it made it. An identity proves nothing to delete by (an inode number is reused at
    once): what cannot prove itself is renamed out of the old environment's way (new_left) or named, never deleted."""
    staged = _sibling(intent, place, "staged", proof.NEW, "the directory it was making")
    if staged is not None and os.path.lexists(staged):  # killed before its rename: empty, the only state rmdir takes
        if _rmdir(staged, _identity(intent)):
            done.append(f"removed the empty directory {staged} an unfinished create of {place} had made")
        elif not _old_waits(intent, place, staged):  # else moved out of the old one's way by a settling since killed
            raise Stuck(f"{staged} is not the empty directory the unfinished create made for {place}; it was left "
                        "as it is")
    token, made, left = intent.get("token"), intent.get("made") == "1", new_left(intent, place)
    if left == proof.NEW:
        proof.remove_marked(place, token, "made it", proof.NEW, keep=not made)
        done.append(f"removed the unfinished environment at {place}")
    elif left == "aside":
        confined.rename_beside(place, staged, noreplace.rename_dir)
        done.append(f"moved what a create killed while its engine wrote {place} left there to {staged}: nothing in "
                    f"it proves it is that create's, so it was not deleted ({removal.by_hand(staged)} deletes it)")
    elif left == "empty" and made and _rmdir(place):  # nothing anyone could lose: the way cleared for _put_back
        done.append(f"removed the empty directory {place} the unfinished create had made")
    elif left == "empty":
        done.append(f"left the empty directory {place} as it is (a create takes it as it is; "
                    f"{removal.by_hand(place, 'empty')} deletes it)")
    elif left == "stuck":
        shown = output.some(sorted(os.listdir(place)), 5) if os.path.isdir(place) and not os.path.islink(place) else "no directory"
        aside = intent.get("aside") if isinstance(intent.get("aside"), str) else None
        back = aside is not None and not os.path.lexists(aside)  # set aside, and back: maybe the old environment
        raise Stuck(f"{place} holds what a mambaboot create killed while it made an environment there left ({shown}), or "
                    f"{'the environment it had set aside, put back' if back else 'what was put there since'}: nothing in "
                    f"it proves which, so nothing was deleted{f'; the environment it replaced is kept at {aside}' if aside and not back else ''}; "
                    f"look at it: {'' if back else f'if it is that unfinished environment, delete it ({removal.by_hand(place)}) and run again; '}"
                    f"if it is yours, delete {fsops.place_lock(place)} (the killed run's intent) and run again")


def _drop_old(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    aside = _sibling(intent, place, "aside", proof.OLD, "its old environment")
    if aside is not None and os.path.lexists(aside):
        proof.remove_marked(aside, intent.get("token"), f"set it aside to replace {place}", proof.OLD)
        done.append(f"deleted the old environment {aside} (the new one at {place} verified)")
    proof.drop_mark(place, proof.NEW)


def _removing(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    """remove's set-aside (what it renamed to `aside`; not renamed yet: the place is whole, and only
    its mark goes) and deleting (`doomed`: that, or the place itself where the rename was refused)."""
    token, key = intent.get("token"), "aside" if intent.get("stage") == "set-aside" else "doomed"
    doomed = place if key == "doomed" and intent.get(key) == place else \
        _sibling(intent, place, key, proof.REMOVING, "what remove set aside" if key == "aside" else "what remove was deleting")
    if doomed is not None and os.path.lexists(doomed):
        proof.remove_marked(doomed, token, f"set it aside to remove {place}", proof.REMOVING)
        done.append(f"finished removing {place}: a killed remove had left {doomed} half deleted")
    elif doomed is not None and key == "aside":
        proof.drop_mark(place, proof.REMOVING, token)


# A move's `how` (pipeline/move.py). FINISHED: a move of SRC to DST killed once it verified,
# finished by the next `move SRC DST`, which adopts DST again and has nothing else to put back.
RENAMED, COPIED, IN_PLACE, FINISHED = "renamed", "copied", "in place", "finished"


def _move_fields(intent: dict, place: str) -> tuple:
    src, dst, old, how, token = (intent.get(k) for k in ("from", "to", "old", "how", "token"))
    if not (all(_absolute(p) for p in (src, dst, old)) and how in (RENAMED, COPIED, IN_PLACE, FINISHED) and proof.is_token(token)
            and all(_identity(intent, k) is not None for k in ("source", "copy") if intent.get(k) is not None)
            and any(os.path.normcase(p) == os.path.normcase(place) for p in (src, dst))):
        raise Stuck(f"{place}: the intent of an unfinished move left beside it is not one mambaboot writes "
                    "(its places, how or token); nothing was changed")
    return src, dst, old, how, token


def _move_back(intent: dict, place: str, done: list, steps, commit=None) -> None:
    """Before `verified`: the move is put back (steps["undo"]: its files, record and activation
    scripts name SRC's old place again)."""
    src, dst, old, how, token = _move_fields(intent, place)
    if how == COPIED:
        return _drop_copy(intent, src, dst, token, done)
    source = _identity(intent, "source")
    renamed = how == RENAMED and proof.holds_mark(dst, token, proof.SOURCE, source)
    if renamed:
        if os.path.lexists(src):
            raise Stuck(f"{src} holds something the move of it to {dst} did not leave there; the environment it "
                        f"moved is at {dst}: look at both, then remove one and move the other")
        noreplace.rename_dir(dst, src)
    if not proof.holds_mark(src, token, proof.SOURCE, source):
        return  # nothing of this move is at SRC: it never claimed it, or this was settled already
    _snapshot_back(src, token, done)  # what its re-adopt changed, first: the rewrite is undone from there
    done += steps["undo"](src, dst, old, renamed)
    proof.drop_mark(src, proof.SOURCE)
    done.append(f"put back: a move of {src} to {dst} did not verify; " +
                (f"{src} names {old} again, as before" if how == IN_PLACE else f"{src} is as it was"))


def _unclaim(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    """Begun: the mark a move wrote in SRC before its first act is all it left; dropped under SRC's own lock."""
    src = intent.get("from")
    if os.path.normcase(str(src)) == os.path.normcase(place) and proof.drop_mark(place, proof.SOURCE, intent.get("token")):
        done.append(f"dropped the mark of a mambaboot move of {src} stopped before it moved anything: it is as it was")


def _drop_copy(intent: dict, src: str, dst: str, token: str, done: list) -> None:
    act, dropped = f"copied {src} there", False
    partial = _sibling(intent, dst, "partial", proof.COPY, "the move's copy")
    if partial is not None and os.path.lexists(partial):
        if not _rmdir(partial):  # else made, killed before its mark: empty, the only state rmdir takes
            proof.remove_marked(partial, token, act, proof.COPY)
        dropped = True
    copy = _identity(intent, "copy")
    if copy is not None and proof.holds_mark(dst, token, proof.COPY, copy):
        proof.remove_marked(dst, token, act, proof.COPY, expected=copy)
        dropped = True
    if proof.drop_mark(src, proof.SOURCE, token) or dropped:
        done.append(f"put back: a move of {src} to {dst} did not verify; the copy was deleted and {src} is as it was")


def _move_forward(intent: dict, place: str, done: list, steps, commit=None) -> None:
    """At `verified` or later: the move is finished."""
    src, dst, old, how, token = _move_fields(intent, place)
    finished = False
    if how == COPIED:
        source = _identity(intent, "source")
        aside = _sibling(intent, src, "aside", proof.SOURCE, "the moved source")
        if aside is not None and os.path.lexists(aside):  # set aside by a run killed since: what is left of it
            proof.remove_marked(aside, token, f"moved it to {dst}", proof.SOURCE, expected=source)
            finished = True
        if os.path.lexists(src):  # the one set-aside (guarded.py), by the mark the move wrote at its start; refused
            from mambaboot.common.files import guarded  # only here: not at the start of list, doctor, pack

            try:  # a rename (a file in it open on Windows): deleted in place, the mark last
                with guarded.set_aside(guarded.Seen(src, source), aside and proof.SOURCE, token, claimed=proof.SOURCE) as gone:
                    gone.delete()
            except guarded.Changed:  # without that mark it is not the move's: named, and left
                raise proof.refused(src, f"moved it to {dst}") from None
            finished = True
    if how == FINISHED or proof.holds_mark(dst, token, proof.SOURCE) or proof.holds_mark(dst, token, proof.COPY):
        _adopt_dropped(intent, dst, done)  # its re-adopt verified: its snapshot is all that is left of it
    for role in (proof.SOURCE, proof.COPY):
        proof.drop_mark(dst, role, token)
    done.append(f"finished: a move of {src} to {dst} had verified" + (f"; {src} was deleted" if finished else ""))


def _snapshot_back(place: str, token, done: list, what: str = "", back: bool = True) -> None:
    """What an adopt (or a move's re-adopt) changed at place put back from the snapshot it saved there under token
    (environment/adoptundo.py), then dropped (back False, or cut short in its saving: dropped alone; made but not marked
    yet: by rmdir alone, as the engine's directory). what: the run it undoes, named once one was put back."""
    from mambaboot.environment import adoptundo

    saved = os.path.join(place, *adoptundo.where(token).split("/")) if proof.is_token(token) else ""
    if os.path.lexists(saved) and _rmdir(saved):
        return done.append(f"removed the empty directory {saved} an unfinished adopt of {place} had made")
    snapshot = adoptundo.load(place, token) if back else None
    for path in adoptundo.restore(place, snapshot) if snapshot is not None else ():
        done.append(f"kept {path} as it is: not what an unfinished adopt of {place} wrote there, it is yours")
    adoptundo.drop(place, token)
    if snapshot is not None and what:
        done.append(f"put back {place} as it was before {what}")


def move_shaped(intent: dict) -> bool:
    """Whether a move's intent has the shape of one mambaboot writes (its places, how and token)."""
    try:
        _move_fields(intent, str(intent.get("from")))
    except Stuck:
        return False
    return True


def unsettled_move(intent: dict | None) -> bool:
    """Whether intent is a move's that left something to settle (for `list`'s state)."""
    row = TABLE.get(("move", intent.get("stage"))) if intent and intent.get("operation") == "move" else ()
    return row not in ((), (_unclaim,))  # begun: its mark goes with any run of SRC, not only a move


def _adopt_back(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    """An adopt that did not finish, or a move's re-adopt of DST finishing a killed move (which had
    verified: nothing else of it is left), put back from its snapshot."""
    what = "an adopt of it that did not finish"
    if intent.get("operation") == "move":
        src, place, *_ = _move_fields(intent, place)
        what = f"a mambaboot move of {src} to {place} that did not finish adopted it again (the move itself had finished)"
    _snapshot_back(place, intent.get("token"), done, what)


def _adopt_dropped(intent: dict, place: str, done: list, steps=None, commit=None) -> None:
    """The snapshot dropped; then the record dir, where an adopt's intent says it made it (`made`; no move's has one),
    once empty again, by rmdir alone (as the engine's directory): one there before the adopt is never taken."""
    _snapshot_back(place, intent.get("token"), done, back=False)
    if intent.get("made") == "1" and os.path.isdir(place):
        _rmdir(os.path.join(place, record.RECORD_DIR))


SET_ASIDE_AS = {proof.OLD: "the old environment", proof.NEW: "the new environment being made", proof.COPY: "the copy",
                proof.REMOVING: "what is being removed", proof.SOURCE: "the source of a move"}


# What clears an intent the table does not know, as git names a stale index.lock.
CLEAR = "look at the place (and what the intent names), then delete {lock} (that run's intent) and run again"
# Two acts stay a live run's own, as they prove more than any row can: create, engine: the directory it made, emptied
# through the descriptor held open since (pipeline/create.py _Rollback.undo), then these rows; remove, set-aside: a
# directory swapped in between the check and the rename, named back by identity (common/files/guarded.py set_aside).
TABLE = {  # (operation, stage): what settles it, in order (docs/reliability.md, "The settle table")
    ("create", "begun"): (), ("create", "set-aside"): (_put_back,), ("create", "engine"): (_undo_new, _put_back),
    ("create", "finishing"): (_undo_new, _put_back), ("create", "verified"): (_drop_old,), ("create", "done"): (),
    ("adopt", "begun"): (), ("adopt", "saving"): (_adopt_dropped,), ("adopt", "adopting"): (_adopt_back,),
    ("adopt", "adopted"): (_adopt_dropped,),
    ("remove", "begun"): (), ("remove", "set-aside"): (_removing,), ("remove", "deleting"): (_removing,),
    ("move", "begun"): (_unclaim,), ("move", "copying"): (_move_back,), ("move", "rewriting"): (_move_back,),
    ("move", "verified"): (_move_forward,), ("move", "deleting-source"): (_move_forward,),
    ("move", "re-adopting"): (_adopt_back,), ("move", "ended"): (),
    ("pack", "begun"): (),
    ("provision", "begun"): (), ("activate-scripts", "begun"): (),
}
