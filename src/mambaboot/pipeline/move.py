"""`mambaboot move SRC DST`: put an environment somewhere else and prove it works there.

Order: every check before anything changes (shell, source, destination, binary room); then
the files go (a rename on the same file system; on another one a copy beside DST, compared
with the source, then renamed to DST: pipeline/movecopy.py); then every file the scan found is
rewritten; then adopt's finish runs on the result (record, lock, pkgs link, activation
scripts, verification exactly as after create). Only when that passed is a copied source
deleted.

Neither rename ever replaces what is at its target (common/files/noreplace.py): a DST that another
run or the user made after the check is left as it is and the move refused. Both places are
locked for the whole run (environment/placelock.py), the lock of each holding the move's intent:
its places, how, token, the identities, the siblings it makes, and its stage (begun, copying,
rewriting, verified, deleting-source; re-adopting for a run finishing a killed move), said before
each stage's first act. Whatever ends the move, its own failure or a kill, it is settled by one
table (environment/settle.py): before `verified` put back, from then on finished; what a killed
run left at either place is settled so as the locks are taken, before this move writes its own
intent.

The old prefix is where the files say the environment lives (scan.location), which is SRC
unless it was moved by hand: `move` then also repairs it (`move X X` repairs it in place). It
works on its own result again.
"""

import errno
import os
from typing import Any, Dict, List, Optional

from mambaboot.common import pathrules

from mambaboot.common.files import confined, fileid, noreplace, proof, tempname
from mambaboot.common.errors import NotPortable, TargetRefused, UsageError
from mambaboot.common.host import Host
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.environment import busy, placelock, settle
from mambaboot.pipeline import adopt, movecopy, movesteps
from mambaboot.relocate import audit, rewrite, scan
from mambaboot.common import isolation

RENAMED = settle.RENAMED
COPIED = settle.COPIED
IN_PLACE = settle.IN_PLACE  # SRC = DST: an environment moved by hand, repaired where it is
FINISHED = settle.FINISHED  # a killed move of SRC to DST that had verified, finished by this run
# The move's stages, each said in its intent before its first act (environment/settle.py's rows);
# re-adopting: this run finishing a killed move adopts DST again
COPYING, REWRITING, VERIFIED, DELETING_SOURCE = "copying", "rewriting", "verified", "deleting-source"
RE_ADOPTING = "re-adopting"
# A killed move of SRC to DST left at one of these is finished by `move SRC DST` (a re-adopt cut
# short was put back as the locks were taken: DST is the verified environment it was before it)
FORWARD = (VERIFIED, DELETING_SOURCE, RE_ADOPTING)


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


def check_destination(src: str, dst: str) -> None:
    try:  # the same directory, by identity (a linked directory, another letter case), before any advice
        same = os.path.samefile(src, dst)
    except OSError:  # nothing at DST yet
        same = False
    if same:
        raise TargetRefused(f"{dst} is {src} itself, by another spelling (a linked directory, or another letter "
                            "case); nothing was changed")
    if os.path.lexists(dst):
        # A killed move's DST was settled from its intent as the lock was taken: what is there now is not
        # that move's, and advice never names a remove of what may be the only copy.
        raise TargetRefused(f"{dst} already exists; move never replaces anything")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        raise TargetRefused(f"{parent} does not exist; create the parent directory first")
    if fileid.within(dst, src):
        raise UsageError(f"{dst} is inside {src}")


@proof.rule("mark")
def _rename_or_copy(src: str, dst: str, intent: Any) -> str:
    """How the files went, each stage said in the intent before its first act (on another file
    system SRC gets nothing but the move's mark)."""
    if os.lstat(src).st_dev == os.stat(os.path.dirname(dst)).st_dev:
        intent.stage(REWRITING, how=RENAMED)
        try:
            noreplace.rename_dir(src, dst)
            return RENAMED
        except FileExistsError:
            raise movecopy.appeared(dst, src) from None
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # a bind mount: one device, two file systems
                raise
    intent.stage(COPYING, how=COPIED, partial=tempname.set_aside(dst, intent.token, proof.COPY))
    movecopy.copy(src, dst, intent.token, intent.facts["partial"],
                  lambda made: intent.stage(REWRITING, copy=proof.identity_text(made)))
    return COPIED


def move_environment(
    src: str, dst: str, host: Host, reporter: Reporter, *, cache_dir: Optional[str] = None,
    link_cache: bool = True, ignore_active_env: bool = False,
) -> MoveResult:
    src = os.path.abspath(os.path.expanduser(src))
    dst = os.path.abspath(os.path.expanduser(dst))
    busy.refuse_active(host, src)
    isolation.admit(host.environ, host.windows, ignore_active_env, reporter)
    pathrules.check_prefix(dst, host.windows)
    in_place = _same(src, dst)
    places = (src,) if in_place else (src, dst)
    # What a killed run left at either place (its intent in the place's lock) is settled as the
    # locks are taken, before this move's own intent is written.
    with placelock.Intent("move", *places, token=tempname.run_token(), steps=movesteps.steps(host.windows),
                          say=reporter.warn) as intent:
        for done in intent.settled:
            reporter.warn(done)
        for left in intent.stale.values():
            if (not in_place and left.get("operation") == "move" and _same(left.get("from") or "", src)
                    and _same(left.get("to") or "", dst) and left.get("stage") in FORWARD
                    and not os.path.lexists(src) and os.path.isdir(dst)):  # this very move, finished now
                return _re_adopt(src, dst, host, reporter, cache_dir, intent)
        return _move_claimed(src, dst, in_place, host, reporter, cache_dir, link_cache, intent)


def _re_adopt(src: str, dst: str, host: Host, reporter: Reporter, cache_dir: Optional[str], intent: Any) -> MoveResult:
    """A killed move of SRC to DST, finished as the locks were taken, ends as every move does: DST
    adopted again. Its snapshot is saved in DST under this run's token once the intent says
    re-adopting, so its failure and a kill are put back by the one table alike; verified, the
    table drops it."""
    intent.stage(RE_ADOPTING, **{"from": src, "to": dst, "old": dst, "how": FINISHED})
    adopted = adopt.adopt_prefix(dst, host, reporter, cache_dir=cache_dir, intent=intent)
    intent.stage(VERIFIED)
    _settle_own(intent, dst, reporter)
    return MoveResult(src, dst, FINISHED, [], adopted)


def _move_claimed(src: str, dst: str, in_place: bool, host: Host, reporter: Reporter, cache_dir: Optional[str],
                  link_cache: bool, intent: Any) -> MoveResult:
    check_source(src)
    source = fileid.identity(os.lstat(src))
    old, _ = scan.location(src, host.windows)
    if in_place and _same(old, src):
        raise UsageError(f"{src} is already there, and its files say so")
    if not in_place:
        check_destination(src, dst)

    findings = audit.for_move(src, old, dst, host.windows)
    # adopt's finish writes the activation scripts from the variables' data: data it cannot read
    # (exit 7, the file named) is refused here, before the environment is moved
    from mambaboot.shell.activation import sources

    sources.read(src)
    by_hand = "" if _same(old, src) else f" (its files name {old}: it was moved without mambaboot)"
    reporter.step(f"scan: {len(findings)} files name {old}{by_hand}")

    # The proof that this move claimed SRC (common/files/proof.py), before anything else is
    # written: a killed move is settled only where its places carry this token.
    intent.stage("begun", **{"from": src, "to": dst, "old": old, "source": proof.identity_text(source)})
    proof.write_mark(src, intent.token, proof.SOURCE)
    if in_place:
        intent.stage(REWRITING, how=IN_PLACE)
    how = IN_PLACE if in_place else _rename_or_copy(src, dst, intent)
    reporter.step(f"move: {src} -> {dst} ({how})")
    changed = rewrite.relocate(dst, findings, old, dst, host.windows)
    _forget_pack_note(dst)
    reporter.step(f"rewrite: {len(changed)} files now name {dst}")
    adopted = adopt.adopt_prefix(dst, host, reporter, cache_dir=cache_dir, link_cache=link_cache, intent=intent)
    intent.stage(VERIFIED)
    if how == COPIED:  # the copy works: the source goes, set aside first, through its mark
        intent.stage(DELETING_SOURCE, aside=tempname.set_aside(src, intent.token, proof.SOURCE))
    _settle_own(intent, dst, reporter)
    if how == COPIED:
        reporter.step(f"source: {src} deleted after the copy verified")
    return MoveResult(src, dst, how, changed, adopted)


def _settle_own(intent: Any, place: str, reporter: Reporter) -> None:
    """The move's verified end: finished by the table that settles its failure and a kill alike (see the module)."""
    for done in settle.run(intent.body(), place, steps=intent.steps):
        if not done.startswith("finished"):
            reporter.warn(done)
    intent.stage("ended")


def _forget_pack_note(prefix: str) -> None:
    from mambaboot.common.files import confined

    try:
        with confined.Root.open(prefix) as root:
            root.unlink(f"{scan.RECORD_DIR}/{scan.PACKED_FILE}")
    except FileNotFoundError:
        pass
