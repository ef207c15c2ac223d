"""A move's journal: whatever point a move is killed at, the next run that touches either place
finishes it or puts the source back, and says which.

The journal is `.mambaboot/moving.json` inside the environment (scan.JOURNAL), so it travels
with it: written into SRC before the rename (or into the copy before the copy becomes DST), it
names `from`, `to`, `old` (where the files said the environment lived), `how` and `stage`
("rewriting", then "verified" once adopt's verification passed), and the identities of the
directories involved. The move's intent, in the lock beside each of its places
(environment/placelock.py, stage "moving", naming `from` and `to`), finds it from the other
name (SRC is gone after a rename), with no cache involved. It is dropped last, once the move is
done or undone, and the intent says "ended".

Settling, for the journal found in directory L:
- renamed, or in place, and L is `to`: the files are there, maybe half rewritten: every file
  that still names `old` is rewritten, adopt's finish and verification run, the journal goes:
  finished;
- renamed and L is `from`: the rename never happened (or the undo renamed it back): nothing
  was rewritten there (the rewrite runs only at `to`): the journal goes: put back;
- copied, not verified: SRC was never touched: the copy at `to` (that very directory, by
  identity) is deleted: put back;
- copied and verified: SRC is deleted as the move would have (delete.delete_moved): finished.

Authority comes from the places, never from the journal (common/files/proof.py): the move
writes a mark holding a random token into SRC before anything else (it travels with a rename;
a copy gets its own, written in it when it is made), and the journal holds the token. Every
act of settling reads the mark back, by descriptor, in the place it acts on: the directory the
journal is in, and for a verified copy's source the source too. A journal whose places do not
carry its token (received with an environment, written by someone else into a shared cache)
settles nothing: NotOurs names the place (exit 4), and everything is left as it is. Only
`move`, `remove` and `create` settle (any other run of either place is refused while the
intent says "moving": environment/settle.py); `list` names the command that does.
"""

import contextlib
import os
from typing import Any, Dict, List, Optional

from mambaboot.common import jsontext

from mambaboot.common.files import confined, fileid, proof, removal
from mambaboot.common.errors import MambabootError, TargetRefused
from mambaboot.environment import busy, delete, leftovers, record
from mambaboot.environment import settle as table  # `settle` here is this module's own routine
from mambaboot.relocate import rewrite, scan

RENAMED = "renamed"
COPIED = "copied"
IN_PLACE = "in place"
REWRITING = "rewriting"
VERIFIED = "verified"


def path(prefix: str) -> str:
    return os.path.join(prefix, leftovers.MOVE_JOURNAL)


_HOW = (RENAMED, COPIED, IN_PLACE)
_STAGES = (REWRITING, VERIFIED)


def _place(value: Any) -> bool:
    """An absolute path that is not a file system's root (a journal's field, untrusted)."""
    return (isinstance(value, str) and "\0" not in value and os.path.isabs(value)
            and os.path.dirname(os.path.normpath(value)) != os.path.normpath(value))


def _identity(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value))


def shaped(data: Any) -> Optional[Dict[str, Any]]:
    """data when it has the shape of a journal of ours, else None. Checked whole before any field
    is used: a journal that fails is no journal of ours."""
    if not isinstance(data, dict) or data.get("tool") != record.TOOL:
        return None
    if not all(_place(data.get(k)) for k in ("from", "to", "old")):
        return None
    if data.get("how") not in _HOW or data.get("stage") not in _STAGES or not proof.is_token(data.get("token")):
        return None
    if not _identity(data.get("source")) or ("copy" in data and not _identity(data["copy"])):
        return None
    return data


def read(prefix: str) -> Optional[Dict[str, Any]]:
    """The journal in prefix, or None (none, a link, not ours, not a journal)."""
    if fileid.is_link(prefix) or not os.path.isdir(prefix):
        return None
    return shaped(leftovers.read_note(path(prefix)))


def begin(where: str, intent: Any, src: str, dst: str, old: str, how: str, token: str,
          **identities: Any) -> Dict[str, Any]:
    """Write the journal into `where` (SRC, or the copy about to become DST, both marked with
    token already), its places said first in the move's intent (the lock of each place);
    returns the journal."""
    journal = {"tool": record.TOOL, "from": src, "to": dst, "old": old, "how": how, "stage": REWRITING,
               "token": token, "pid": os.getpid(), "started": record.now(), **identities}
    intent.stage(table.MOVING, **{"from": src, "to": dst})
    write(where, journal)
    return journal


def write(where: str, journal: Dict[str, Any]) -> None:
    """The journal into the environment `where`, never through a link on the way (a linked .mambaboot)."""
    confined.write_in(where, leftovers.MOVE_JOURNAL.replace(os.sep, "/"), jsontext.dumps_flat(journal).encode("utf-8"))


def verified(where: str, journal: Dict[str, Any]) -> None:
    journal["stage"] = VERIFIED
    write(where, journal)


def end(intent: Any, where: Optional[str] = None) -> None:
    """The move is done or undone: the journal goes (from `where`, when it is still there), the
    intent (None: none of the move's own) says so, then the mark goes."""
    if where is not None:
        removal.unlink_quietly(path(where))
    if intent is not None:
        intent.stage("ended")
    if where is not None:
        proof.unmark(where)


class Settled:
    """What settling a journal did: `finished` (True: the move is complete at `to`; False: the
    source is back), one sentence, and for a finished rename what the rewrite and adopt gave."""

    def __init__(self, journal: Dict[str, Any], finished: bool, message: str, rewritten: Optional[List[str]] = None,
                 adopted: Any = None) -> None:
        self.source, self.prefix, self.how = journal["from"], journal["to"], journal["how"]
        self.finished, self.message, self.rewritten, self.adopted = finished, message, rewritten or [], adopted


def places_of(intent: Optional[Dict[str, Any]]) -> tuple:
    """The places a killed move's intent (a lock file's, placelock.INTENT) names, or ()."""
    if not intent or (intent.get("operation"), intent.get("stage")) != ("move", table.MOVING):
        return ()
    return tuple(p for p in (intent.get("to"), intent.get("from")) if _place(p))


def find(place: str, left: Optional[Dict[str, Any]] = None) -> Optional[tuple]:
    """(directory holding it, journal) of the move that touched `place`: its own journal, else the
    one in a place the killed move's intent left in place's lock names (left)."""
    journal = read(place)
    if journal is not None:
        return place, journal
    for where in places_of(left):
        journal = read(where)
        if journal is not None and place in (journal["from"], journal["to"]):
            return where, journal
    return None


def unsettled(places: List[tuple]) -> List[tuple]:
    """(directory holding it, journal) of each move one of places (place, the intent its lock
    holds, or None) names, each once, changing nothing (for `list`)."""
    found: Dict[str, tuple] = {}
    for place, left in places:
        one = find(place, left)
        if one is not None:
            found.setdefault(os.path.normcase(one[0]), one)
    return list(found.values())


def settle(place: str, host: Any, reporter: Any, cache_dir: str, held: tuple = (),
           left: Optional[Dict[str, Any]] = None) -> List[Settled]:
    """Finish or undo a killed move that touched `place` (left: the intent a killed run left in
    place's lock, as the caller took it). Both its places are locked (placelock.py) but those in
    `held` (the caller holds them already); a move that is running is left alone."""
    found = find(place, left)
    if found is None:
        return []
    where, journal = found
    others = [p for p in (journal["from"], journal["to"]) if not any(busy.same_place(p, h) for h in held)]
    with contextlib.ExitStack() as claims:
        claim = None
        try:
            if others:
                claim = claims.enter_context(busy.Claimed(cache_dir, *others))
        except table.Stuck:
            raise
        except TargetRefused:
            return []  # the move is running: it settles itself
        found = find(place, left)  # again, under the lock: it may have just finished
        if found is None:
            return []
        return [_settle(*found, host, reporter, cache_dir, claim)]


def _settle(where: str, journal: Dict[str, Any], host: Any, reporter: Any, cache_dir: str, claim: Any) -> Settled:
    """claim: the locks this settling took of the move's other places (None: none), whose intent says it ended."""
    src, dst, old, how, token = journal["from"], journal["to"], journal["old"], journal["how"], journal["token"]
    at_destination = busy.same_place(where, dst)
    act = f"moved {src} to {dst}"
    if how == COPIED:
        if journal["stage"] != VERIFIED:
            proof.remove_marked(where, token, act)
            end(claim)
            return Settled(journal, False, f"put back: a move of {src} to {dst} was killed before the copy verified; "
                           f"the copy at {dst} was deleted and {src} is as it was")
        proof.require(where, token, act)
        for done in leftovers.settle(src, cache_dir):
            reporter.warn(done)
        if os.path.isdir(src) and not fileid.is_link(src):
            delete.delete_moved(src, dst, tuple(journal["source"]), token)
        end(claim, where)
        return Settled(journal, True, f"finished: a move of {src} to {dst} was killed after the copy verified; "
                       f"{src} was deleted")
    proof.require(where, token, act)
    if not at_destination:
        end(claim, where)
        return Settled(journal, False, f"put back: a move of {src} to {dst} was killed before its files moved; "
                       f"{src} is as it was")
    if journal["stage"] == VERIFIED:  # killed as it ended: nothing left to do but drop the journal
        end(claim, where)
        return Settled(journal, True, f"finished: a move of {src} to {dst} was killed after it verified")
    try:
        findings = [f for f in scan.find(where, old, host.windows) if f.kind != scan.RECORD or _record_names(where, old)]
        rewritten = rewrite.relocate(where, findings, old, where, host.windows)
    except scan.Refused as exc:
        raise TargetRefused(f"the move's journal at {where} could not be settled: {exc}; "
                            f"`mambaboot move {where} {where}` repairs it in place") from None
    adopted = finish(where, host, reporter, cache_dir)
    end(claim, where)
    return Settled(journal, True, f"finished: a move of {src} to {dst} was killed while its files were rewritten; "
                   f"{len(rewritten)} more files now name {dst}, and it verified", rewritten, adopted)


def _record_names(prefix: str, old: str) -> bool:
    """Whether our record still says the environment lives at old (its move not yet listed)."""
    return ((record.read(prefix) or {}).get("inputs") or {}).get("prefix") == old


def finish(prefix: str, host: Any, reporter: Any, cache_dir: Optional[str]) -> Any:
    """adopt's finish for a moved environment, as `move` runs it (lazily imported: adopt is heavy)."""
    from mambaboot.pipeline import adopt

    return adopt.adopt_prefix(prefix, host, reporter, cache_dir=cache_dir, check_shell=False)


def settle_quietly(place: str, host: Any, reporter: Any, cache_dir: str, held: tuple = (),
                   left: Optional[Dict[str, Any]] = None) -> List[str]:
    """settle() for commands that only report: each sentence, or why it could not settle. A
    journal whose places lack its mark is refused (proof.NotOurs), never passed over."""
    try:
        return [s.message for s in settle(place, host, reporter, cache_dir, held, left)]
    except proof.NotOurs:
        raise
    except (OSError, MambabootError) as exc:
        return [f"a move killed at {place} could not be settled: {exc}"]
