"""One routine settles what an operation left unfinished at a place, from its intent
(environment/placelock.py): the operation's own failure path calls it with the intent it holds,
and the next run that takes the place's lock calls it with the intent a killed run left, so
the same stage takes the same path either way. What to do is a table, operation x stage:

- create, begun: nothing was changed yet.
- create, set-aside (create --force renamed the old environment to the intent's `aside`, its
  mark of the run's token written first): put back: the old environment renamed into place.
- create, engine (mambaboot makes the target directory under the intent's `staged` name, says
  its identity, renames it into place; or takes the user's empty one, whose identity the intent
  holds; and the engine runs there): a staged directory still there is removed by rmdir alone
  (it can only be empty); roll back what the engine made (a directory without conda-meta holds
  nothing of the engine's: what is in it stays, named), then put back as above.
- create, finishing (the engine is done and the prefix carries the run's mark): the new prefix
  deleted through its mark (emptied, when it was the user's empty directory), then put back.
- create, verified (the new environment is complete): roll forward: the old environment set
  aside is deleted through its mark, the new one's mark dropped.
- create, done (provisioning runs): nothing; the record says where provisioning stopped.
- pack or lock, begun (the lock of its output FILE taken): nothing was made yet.
- pack or lock, writing (`-o FILE`, a regular file: outputlock.py): the partial file the intent
  names is deleted, only when that name is exactly the one the writer gives (`.NAME.partial-<the
  intent's token>` beside FILE) and a regular file there (never a link followed); anything else
  is named and left. FILE itself is the user's, old or new whole, and stays.
- remove, begun: nothing was changed yet (the checks, the question).
- remove, set-aside (the place is about to carry the run's mark and be renamed to the intent's
  `aside`, `.NAME.removing-<the token's first 12 hex>`): renamed already: roll forward, what
  is there deleted through its mark, the mark last; not renamed: nothing was deleted, the mark
  goes (as remove's own failure there puts it back).
- remove, deleting (the intent's `doomed`: the set-aside directory, or the place itself where the
  rename was refused): roll forward, what is left deleted through its mark, the mark last; the
  run's own failure there keeps its intent for this.
- move, begun or ended: nothing of the move is left to settle (its mark, if any, is harmless).
- move, moving (its intent, in the lock of both SRC and DST, names `from` and `to`; the move's
  journal is in the environment, pipeline/movejournal.py): finished or put back by the journal's
  own routine, which needs the engine's host: only a run that can (move, remove, create:
  MOVE_SETTLERS) takes the place; any other is refused, naming `mambaboot move FROM TO`.
- any other operation: its own leftovers prove themselves: nothing to do here.
- a stage the table does not know: named, and the intent kept for the user.

Every destructive act goes through the place's own proof (common/files/proof.py): the mark of
the intent's token, or, for the engine's directory before it could carry a mark, the identity
of the directory mambaboot made; an intent alone never makes a directory ours. What does not
prove itself is named and left as it is (NotOurs, exit 4): the intent stays for the next run.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import stat

from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import confined, fsops, proof, removal

OLD_TAG = "mambaboot-old"  # create --force's old environment: .NAME.mambaboot-old-<12 hex> (leftovers.TAG)
NEW = "mambaboot-new"  # create's new directory before it is renamed into place: .NAME.mambaboot-new-<the token's 12 first hex>
REMOVING = "removing"  # remove's place, set aside to be deleted: .NAME.removing-<the token's 12 first hex>


class Stuck(TargetRefused):
    """What an intent asks for cannot be done with proof: named; the intent stays."""


def run(intent: dict, place: str, by: str | None = None) -> list[str]:
    """Settle intent (a dict of placelock.INTENT's shape) at place; what was done, one sentence each.
    by: the operation of the run settling it (None: the intent's own run)."""
    if (intent.get("operation"), intent.get("stage")) == ("move", MOVING):
        if by in MOVE_SETTLERS:  # the caller settles it from the move's journal (pipeline/movejournal.py)
            return []
        raise Stuck(f"{place}: a mambaboot move of {intent.get('from')} to {intent.get('to')} did not finish; "
                    f"`mambaboot move {intent.get('from')} {intent.get('to')}` finishes it or puts it back first "
                    "(a remove of either place settles it too); nothing was changed")
    action = TABLE.get((intent.get("operation"), intent.get("stage")))
    if action is None:
        if intent.get("operation") in _SELF_SETTLED:
            return []
        raise Stuck(f"{place}: an unfinished mambaboot {intent.get('operation')} left its intent at stage "
                    f"{intent.get('stage')!r}, which this mambaboot does not know how to settle; nothing was changed")
    done: list[str] = []
    for step in action:
        step(intent, place, done)
    return done


def identity_text(ident) -> str:
    return f"{ident[0]}:{ident[1]}"


def _identity(intent: dict) -> tuple | None:
    text = intent.get("target")
    parts = text.split(":") if isinstance(text, str) else []
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def _sibling(intent: dict, place: str, key: str, tag: str, what: str) -> str | None:
    """The intent's place named key, only when it is the name mambaboot gives what beside place."""
    aside = intent.get(key)
    if not isinstance(aside, str):
        return None
    directory, name = os.path.split(aside)
    if directory != os.path.dirname(place) or fsops.sibling_base(name, tag) != os.path.basename(place):
        raise Stuck(f"{place}: the intent left beside it names {aside} as {what}, which is no name mambaboot "
                    "gives it; nothing was changed")
    return aside


def _aside(intent: dict, place: str) -> str | None:
    """The old environment's set-aside name, only when it is one create --force gives beside place."""
    return _sibling(intent, place, "aside", OLD_TAG, "its old environment")


def _unmark_if(place: str, token) -> None:
    """Killed before the rename: the place is whole, and only its mark of this token goes."""
    try:
        with proof.place(place) as root:
            if proof.holds_mark(root, token):
                proof.drop_mark(root)
    except OSError:
        pass


def _put_back(intent: dict, place: str, done: list) -> None:
    aside = _aside(intent, place)
    if aside is None:
        return
    token = intent.get("token")
    if not os.path.lexists(aside):  # killed before the rename: the old environment is still in place
        _unmark_if(place, token)
        return
    proof.require(aside, token, f"set it aside to replace {place}")
    if os.path.lexists(place):
        raise Stuck(f"{place} holds something the create that replaced it did not make; the old environment it "
                    f"set aside is kept at {aside}: look at both, then remove one and rename the other")
    confined.rename_beside(aside, place)
    proof.unmark(place)
    done.append(f"put back the old environment at {place} (the create that replaced it did not finish)")


def _undo_staged(intent: dict, place: str, done: list) -> None:
    """The directory create made under a name of its own (NEW), killed before it was renamed into
    place: removed with rmdir alone, which takes an empty directory and nothing else, and only
    while it is the directory the intent knows (by identity, once it said one)."""
    staged = _sibling(intent, place, "staged", NEW, "the directory it was making")
    if staged is None or not os.path.lexists(staged):
        return
    if not staged.endswith(f"-{str(intent.get('token'))[:12]}"):  # the name create gives it is its token's
        raise Stuck(f"{place}: the intent left beside it names {staged}, which is no name that create gives its "
                    "directory; nothing was changed")
    expected = _identity(intent)
    parent, name = confined.split(staged)
    with parent:
        try:
            with parent.sub(name) as root:
                ours = expected is None or tuple(root.identity) == expected
            if not ours:
                raise OSError(errno.EEXIST, "another directory")
            parent.rmdir(name)
        except OSError:
            raise Stuck(f"{staged} is not the empty directory the unfinished create made for {place}; it was left "
                        "as it is") from None
    done.append(f"removed the empty directory {staged} an unfinished create of {place} had made")


def _undo_engine(intent: dict, place: str, done: list) -> None:
    """The engine's directory, known by the identity mambaboot recorded as it made (or took) it."""
    _undo_staged(intent, place, done)
    expected = _identity(intent)
    made = intent.get("made") == "1"
    if expected is None or not os.path.lexists(place):
        return
    parent, name = confined.split(place)
    with parent:
        try:
            root = parent.sub(name)
        except OSError:
            raise Stuck(f"{place} is not the directory the unfinished create made; it was left as it is") from None
        with root:
            if tuple(root.identity) != expected:
                raise Stuck(f"{place} is not the directory the unfinished create made; it was left as it is")
            entries = sorted(root.listdir())
            if "conda-meta" in entries:  # the engine made an environment there: all of it goes
                if root.fd is None:  # pragma: no cover - Windows: by path, each entry looked at first
                    for entry in entries:
                        root.remove_any(entry)
                else:
                    removal.remove_contents(root.fd, None, place, ())
                entries = []
            elif entries:  # the engine made nothing: what is there is someone else's, and stays
                shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
                done.append(f"left {place} as it is: it holds {shown}, which the create did not make")
                return
        if made:
            parent.rmdir(name)
    done.append(f"removed what the unfinished create had made at {place}")


def _undo_marked(intent: dict, place: str, done: list) -> None:
    """The new prefix, carrying the run's mark: deleted (emptied: the user's empty directory kept)."""
    if not os.path.lexists(place):
        return
    token = intent.get("token")
    act = "made it"
    if intent.get("made") == "1":
        proof.remove_marked(place, token, act)
    else:
        proof.empty_marked(place, token, act)
    done.append(f"removed the unfinished environment at {place}")


def _drop_old(intent: dict, place: str, done: list) -> None:
    aside = _aside(intent, place)
    if aside is not None and os.path.lexists(aside):
        proof.remove_marked(aside, intent.get("token"), f"set it aside to replace {place}")
        done.append(f"deleted the old environment {aside} (the new one at {place} verified)")
    proof.unmark(place)


def _drop_partial(intent: dict, place: str, done: list) -> None:
    """The partial file of a killed `-o FILE` writer beside place (FILE), proven by its name."""
    from mambaboot.common.files import outputfile  # not at start-up: create's lock needs none of it

    name, token, operation = intent.get("partial"), intent.get("token"), intent.get("operation")
    if not (isinstance(name, str) and isinstance(token, str) and outputfile.is_partial(name, place, token)):
        raise Stuck(f"{place}: the intent left beside it names {name!r} as the partial file of an unfinished "
                    f"{operation} -o, which is no name that {operation} gives it; nothing was changed")
    directory = os.path.dirname(place)
    path = os.path.join(directory, name)
    with confined.Root.open(directory) as here:
        try:
            st = here.lstat(name)
        except FileNotFoundError:  # not made yet, or renamed over FILE already
            return
        if not stat.S_ISREG(st.st_mode):
            raise Stuck(f"{path} is not the partial file the unfinished {operation} -o {place} made (not a "
                        "regular file); it was left as it is")
        here.unlink(name)
    done.append(f"deleted {path}, the partial file of a {operation} -o {place} that did not finish")


def _removed_aside(intent: dict, place: str, done: list) -> None:
    aside = _sibling(intent, place, "aside", REMOVING, "what remove set aside")
    if aside is None:
        return
    if not os.path.lexists(aside):  # not renamed: nothing was deleted, the place is as it was
        _unmark_if(place, intent.get("token"))
        return
    _finish_removing(aside, intent, place, done)


def _removing(intent: dict, place: str, done: list) -> None:
    doomed = intent.get("doomed")
    if doomed != place:
        doomed = _sibling(intent, place, "doomed", REMOVING, "what remove was deleting")
    if doomed is not None and os.path.lexists(doomed):
        _finish_removing(doomed, intent, place, done)


def _finish_removing(doomed: str, intent: dict, place: str, done: list) -> None:
    proof.remove_marked(doomed, intent.get("token"), f"set it aside to remove {place}")
    done.append(f"finished removing {place}: a killed remove had left {doomed} half deleted")


MOVING = "moving"  # a move's stage once its journal may exist (pipeline/movejournal.py)
MOVE_SETTLERS = ("move", "remove", "create")
_SELF_SETTLED = ("adopt", "provision", "activate-scripts", "pack")
TABLE = {
    ("create", "begun"): (),
    ("create", "set-aside"): (_put_back,),
    ("create", "engine"): (_undo_engine, _put_back),
    ("create", "finishing"): (_undo_marked, _put_back),
    ("create", "verified"): (_drop_old,),
    ("create", "done"): (),  # provisioning: its own record says where it stopped (`mambaboot provision`)
    ("remove", "begun"): (),
    ("remove", "set-aside"): (_removed_aside,),
    ("remove", "deleting"): (_removing,),
    ("move", "begun"): (),  # the checks; at most the move's mark is in SRC, which nothing minds
    ("move", "ended"): (),  # done or undone, its journal gone
    ("pack", "begun"): (),  # the environment packed, or its output FILE before its partial file is named
    ("pack", "writing"): (_drop_partial,),
    ("lock", "begun"): (),
    ("lock", "writing"): (_drop_partial,),
}
