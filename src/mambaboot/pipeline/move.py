"""`mambaboot move SRC DST`: put an environment somewhere else and prove it works there.

Order: every check before anything changes (shell, source, destination, binary room); then
the files go (a rename on the same file system; on another one a copy beside DST, compared
with the source, then renamed to DST: pipeline/movecopy.py); then every file the scan found is
rewritten; then adopt's finish runs on the result (record, lock, pkgs link, activation
scripts, verification exactly as after create). Only when that passed is a copied source
deleted (environment/delete.py delete_moved). A failure after the rename puts the environment
back where it was; a failed copy is deleted and the source kept.

Neither rename ever replaces what is at its target (common/files/noreplace.py): a DST that another
run or the user made after the check is left as it is and the move refused. Both places are
locked for the whole run (environment/placelock.py: any other run of either is refused
meanwhile), the lock of each holding the move's intent (its places, once its journal may
exist), and what a killed move left at either is settled first (environment/leftovers.py, and
the move's journal, pipeline/movejournal.py: written into SRC before the rename, into the copy
before it becomes DST, marked verified after adopt's finish, dropped last).

The old prefix is where the files say the environment lives (scan.location), which is SRC
unless it was moved by hand: `move` then also repairs it (`move X X` repairs it in place). It
works on its own result again.
"""

import errno
import os
from typing import Any, Dict, List, Optional, Tuple

from mambaboot.common import pathrules

from mambaboot.common.files import confined, fileid, noreplace, proof
from mambaboot.common.errors import MambabootError, NotPortable, TargetRefused, UsageError
from mambaboot.common.host import Host
from mambaboot.common.locations import resolve_cache_dir
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.environment import busy, delete, leftovers, record
from mambaboot.pipeline import adopt, movecopy, movejournal
from mambaboot.relocate import audit, rewrite, scan
from mambaboot.common import isolation

RENAMED = movejournal.RENAMED
COPIED = movejournal.COPIED
IN_PLACE = movejournal.IN_PLACE  # SRC = DST: an environment moved by hand, repaired where it is
FINISHED = "finished"  # a killed move of SRC to DST, finished by this run (movejournal)


@value(frozen=False)
class MoveResult:
    source: str
    prefix: str
    how: str
    rewritten: List[str]
    adopted: adopt.AdoptResult

    def to_dict(self) -> Dict[str, Any]:
        return {"source": self.source, "how": self.how, "rewritten": self.rewritten, **self.adopted.to_dict()}


def _same(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def check_source(src: str) -> None:
    if not os.path.lexists(src):
        for remnant, who, token in leftovers.half_removed(src):
            if token is None:  # not proven ours: remove would leave it alone too
                continue
            raise TargetRefused(f"{src} does not exist; {remnant} is what {who} left of it, half deleted: "
                                f"`mambaboot remove {src}` finishes deleting it")
    adopt.check_prefix(src, "move")
    _refuse_mounts(src)


def _refuse_mounts(src: str) -> None:
    """A mount point below the environment cannot follow it: a rename carries it along, a copy
    copies what it shows, and the rewrite would write into the directory mounted there (someone's
    elsewhere: a bind mount of the same file system has the environment's st_dev)."""
    with confined.Root.open(src) as root:
        below = root.mounts_below()
    if below:
        raise NotPortable(f"{below[0]} is a mount point inside {src} (another file system, or a bind mount of a "
                          "directory elsewhere); nothing was changed: unmount it first")


def check_destination(src: str, old: str, dst: str) -> None:
    if os.path.lexists(dst) and busy.same_place(src, dst):  # proved by identity before any advice is given
        raise TargetRefused(f"{dst} is {src} itself, by another spelling (a linked directory, or another letter "
                            "case); nothing was changed")
    if os.path.lexists(dst):
        raise TargetRefused(f"{dst} already exists{_left_by_killed_move(old, dst)}; move never replaces anything")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        raise TargetRefused(f"{parent} does not exist; create the parent directory first")
    if fileid.within(dst, src):
        raise UsageError(f"{dst} is inside {src}")


def _left_by_killed_move(old: str, dst: str) -> str:
    """What to say of a DST a move killed after its copy became DST left (the source is intact)."""
    data = (record.read(dst) if os.path.isdir(dst) else None) or {}
    last = (data.get("moves") or [{}])[-1]
    if data.get("inputs", {}).get("prefix") != old and (last.get("from"), last.get("to")) != (old, dst):
        return ""
    return (f" (its record says it is a copy of the environment at {old}, made by a move that did not finish; "
            f"`mambaboot remove {dst}` deletes it)")


def _rename_or_copy(src: str, dst: str, begin) -> Tuple[str, tuple, Dict[str, Any]]:
    """How the files went, the identity of the directory now at dst, and the move's journal
    (begin(where, how, **identities) writes it): into SRC before a rename, into the copy before
    it becomes DST (on another file system SRC gets nothing but the move's mark)."""
    if os.lstat(src).st_dev == os.stat(os.path.dirname(dst)).st_dev:
        journal = begin(src, RENAMED)
        try:
            noreplace.rename_dir(src, dst)
            return RENAMED, fileid.identity(os.lstat(dst)), journal
        except BaseException as exc:
            movejournal.end(begin.intent, src)  # nothing moved: SRC as it was
            if isinstance(exc, FileExistsError):
                raise movecopy.appeared(dst, src) from None
            if not isinstance(exc, OSError) or exc.errno != errno.EXDEV:  # a bind mount: one device, two file systems
                raise
        proof.mark(src, begin.token)  # end() took it: the copy's source still needs it
    made: List[Dict[str, Any]] = []
    ident = movecopy.copy(src, dst, begin.token,
                          journal=lambda partial, copy: made.append(begin(partial, COPIED, copy=list(copy))))
    return COPIED, ident, made[0]


def move_environment(
    src: str, dst: str, host: Host, reporter: Reporter, *, cache_dir: Optional[str] = None,
    link_cache: bool = True, ignore_active_env: bool = False,
) -> MoveResult:
    src = os.path.abspath(os.path.expanduser(src))
    dst = os.path.abspath(os.path.expanduser(dst))
    busy.refuse_active(host.environ, src, host.windows)
    isolation.admit(host.environ, host.windows, ignore_active_env, reporter)
    pathrules.check_prefix(dst, host.windows)
    in_place = _same(src, dst)
    with busy.Claimed(resolve_cache_dir(host, cache_dir, src), src, dst) as claimed:
        places = (src,) if in_place else (src, dst)
        settled: List[movejournal.Settled] = []
        for done in claimed.settled:  # a killed create's intent at either place
            reporter.warn(done)
        for place in places:
            for done in leftovers.settle(place, claimed.cache_dir):
                reporter.warn(done)
            for one in movejournal.settle(place, host, reporter, claimed.cache_dir, held=places,
                                          left=claimed.stale.get(place)):
                reporter.warn(one.message)
                settled.append(one)
        for one in settled:
            if one.finished and not in_place and _same(one.source, src) and _same(one.prefix, dst) \
                    and not os.path.lexists(src):
                adopted = one.adopted or movejournal.finish(dst, host, reporter, cache_dir)
                return MoveResult(src, dst, FINISHED, one.rewritten, adopted)
        return _move_claimed(src, dst, in_place, host, reporter, cache_dir, link_cache, claimed)


class _Begin:
    """Writes the move's journal (movejournal.begin) for this move's places."""

    def __init__(self, intent: Any, src: str, dst: str, old: str, source: tuple, token: str) -> None:
        self.intent, self._args, self._source, self.token = intent, (src, dst, old), list(source), token

    def __call__(self, where: str, how: str, **identities: Any) -> Dict[str, Any]:
        return movejournal.begin(where, self.intent, *self._args, how, self.token, source=self._source,
                                 **identities)


def _move_claimed(src: str, dst: str, in_place: bool, host: Host, reporter: Reporter, cache_dir: Optional[str],
                  link_cache: bool, intent: Any) -> MoveResult:
    check_source(src)
    source = fileid.identity(os.lstat(src))
    old, _ = scan.location(src, host.windows)
    if in_place and _same(old, src):
        raise UsageError(f"{src} is already there, and its files say so")
    if not in_place:
        check_destination(src, old, dst)

    findings = audit.for_move(src, old, dst, host.windows)
    # adopt's finish writes the activation scripts from the variables' data: data it cannot read
    # (exit 7, the file named) is refused here, before the environment is moved
    from mambaboot.shell.activation import sources

    sources.read(src)
    by_hand = "" if _same(old, src) else f" (its files name {old}: it was moved without mambaboot)"
    reporter.step(f"scan: {len(findings)} files name {old}{by_hand}")

    # The proof that this move claimed SRC (common/files/proof.py), before anything else is
    # written: a killed move's journal is settled only where its places carry this token.
    token = intent.token = proof.new_token()
    proof.mark(src, token)
    begin = _Begin(intent, src, dst, old, source, token)
    try:
        if in_place:
            how, made, journal = IN_PLACE, source, begin(src, IN_PLACE)
        else:
            how, made, journal = _rename_or_copy(src, dst, begin)
    except BaseException:
        proof.unmark(src)
        raise
    reporter.step(f"move: {src} -> {dst} ({how})")
    try:
        changed = rewrite.relocate(dst, findings, old, dst, host.windows)
        _forget_pack_note(dst)
        reporter.step(f"rewrite: {len(changed)} files now name {dst}")
        adopted = adopt.adopt_prefix(
            dst, host, reporter, cache_dir=cache_dir, link_cache=link_cache, check_shell=False,
        )
        movejournal.verified(dst, journal)
    except BaseException:
        try:
            _undo(src, dst, how, made, old, host.windows, reporter)
        except BaseException:
            intent.keep()  # the journal and the intent stay, for the next run of either place
            raise
        movejournal.end(intent, None if how == COPIED else src)
        proof.unmark(src)
        raise
    if how == COPIED:
        delete.delete_moved(src, dst, source, token)
        reporter.step(f"source: {src} deleted after the copy verified")
    movejournal.end(intent, dst)
    return MoveResult(src, dst, how, changed, adopted)


def _forget_pack_note(prefix: str) -> None:
    from mambaboot.common.files import confined

    try:
        with confined.Root.open(prefix) as root:
            root.unlink(f"{scan.RECORD_DIR}/{scan.PACKED_FILE}")
    except FileNotFoundError:
        pass


def _undo(src: str, dst: str, how: str, made: tuple, old: str, windows: bool, reporter: Reporter) -> None:
    """Put things back as they were: the renamed environment goes back, the copy this run made is
    deleted (only while dst still is that directory)."""
    if how == COPIED:
        confined.remove_named(dst, expected=made)
        reporter.warn(f"the copy at {dst} was deleted; {src} is as it was")
        return
    findings = [f for f in scan.find(dst, dst, windows) if f.kind != scan.RECORD]
    rewrite.relocate(dst, findings, dst, old, windows)
    record.update(dst, missing_ok=True, inputs=dict((record.read(dst) or {}).get("inputs") or {}, prefix=old),
                  moves=((record.read(dst) or {}).get("moves") or [])[:-1])
    if how != IN_PLACE:
        noreplace.rename_dir(dst, src)
    _scripts_again(src, windows, reporter)
    reporter.warn(f"{src} names {old} again, as before" if how == IN_PLACE else f"the environment was put back at {src}")


def _scripts_again(prefix: str, windows: bool, reporter: Reporter) -> None:
    """The activation scripts adopt wrote at the new place carry more than its path (each
    activate.sh starts with a digest of where it lives), so a text rewrite cannot take them back:
    they are written again for the place the environment is back at."""
    from mambaboot.shell.activation import generate

    try:
        generate.write(prefix, windows)
    except (OSError, MambabootError) as exc:
        reporter.warn(f"the activation scripts of {prefix} could not be written again ({exc}); "
                      f"run `mambaboot activate-scripts {prefix}`")
