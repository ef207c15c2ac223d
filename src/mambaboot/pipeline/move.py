"""`mambaboot move SRC DST`: put an environment somewhere else and prove it works there.

Order: every check before anything changes (shell, source, destination, binary room); then
the files go (a rename on the same file system; on another one a copy, compared with the
source); then every file the scan found is rewritten; then adopt's finish runs on the
result (record, lock, pkgs link, activation scripts, verification exactly as after create).
Only when that passed is a copied source deleted. A failure after the rename puts the
environment back where it was; a failed copy is deleted and the source kept.

The old prefix is where the files say the environment lives (scan.location), which is SRC
unless it was moved by hand: `move` then also repairs it (`move X X` repairs it in place). It
works on its own result again.
"""

import errno
import os
import shutil
from typing import Any, Dict, List, Optional

from mambaboot.common import fsops, pathrules
from mambaboot.common.errors import MambabootError, NotPortable, TargetRefused, UsageError
from mambaboot.common.host import Host
from mambaboot.common.locations import resolve_cache_dir
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.environment import busy, record
from mambaboot.pipeline import adopt
from mambaboot.relocate import rewrite, scan
from mambaboot.shell import isolation

RENAMED = "renamed"
COPIED = "copied"
IN_PLACE = "in place"  # SRC = DST: an environment moved by hand, repaired where it is


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
    adopt.check_prefix(src)


def check_destination(src: str, dst: str) -> None:
    if os.path.lexists(dst):
        raise TargetRefused(f"{dst} already exists; move never replaces anything")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        raise TargetRefused(f"{parent} does not exist; create the parent directory first")
    inner = os.path.normcase(os.path.abspath(dst))
    if inner.startswith(os.path.normcase(os.path.abspath(src)).rstrip(os.sep) + os.sep):
        raise UsageError(f"{dst} is inside {src}")


def _tree(root: str) -> Dict[str, tuple]:
    """relative path -> (kind, size or link target): what a copy must reproduce."""
    out: Dict[str, tuple] = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            elif name in files:
                out[rel] = ("file", os.path.getsize(path))
            else:
                out[rel] = ("dir",)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]
    return out


def copy_verified(src: str, dst: str) -> None:
    """Copy src to dst (links as links, modes kept) and compare the two trees; a mismatch is an
    error. A copy that fails (disk full, interrupted) is deleted: it is ours, and only ours."""
    try:
        shutil.copytree(src, dst, symlinks=True)
        before, after = _tree(src), _tree(dst)
        if before != after:
            differ = sorted(set(before.items()) ^ set(after.items()))[:5]
            raise NotPortable(f"the copy of {src} at {dst} differs from it: {differ}")
    except BaseException:
        if os.path.lexists(dst):
            fsops.remove_tree(dst)
        raise


def _rename_or_copy(src: str, dst: str) -> str:
    try:
        os.rename(src, dst)
        return RENAMED
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    copy_verified(src, dst)
    return COPIED


def move_environment(
    src: str, dst: str, host: Host, reporter: Reporter, *, cache_dir: Optional[str] = None,
    link_cache: bool = True, ignore_active_env: bool = False,
) -> MoveResult:
    src = os.path.abspath(os.path.expanduser(src))
    dst = os.path.abspath(os.path.expanduser(dst))
    busy.refuse_active(host.environ, src, host.windows)
    isolation.admit(host.environ, host.windows, ignore_active_env, reporter)
    pathrules.check_prefix(dst, host.windows)
    with busy.Claimed(resolve_cache_dir(host, cache_dir, src), src, dst):
        return _move_claimed(src, dst, host, reporter, cache_dir, link_cache)


def _move_claimed(src: str, dst: str, host: Host, reporter: Reporter, cache_dir: Optional[str],
                  link_cache: bool) -> MoveResult:
    check_source(src)
    old, _ = scan.location(src, host.windows)
    in_place = _same(src, dst)
    if in_place and _same(old, src):
        raise UsageError(f"{src} is already there, and its files say so")
    if not in_place:
        check_destination(src, dst)

    findings = scan.find(src, old, host.windows)
    try:
        rewrite.check(findings, dst)
    except rewrite.Refused as exc:
        raise NotPortable(f"{exc}\nnothing was changed") from None
    by_hand = "" if _same(old, src) else f" (its files name {old}: it was moved without mambaboot)"
    reporter.step(f"scan: {len(findings)} files name {old}{by_hand}")

    how = IN_PLACE if in_place else _rename_or_copy(src, dst)
    reporter.step(f"move: {src} -> {dst} ({how})")
    try:
        changed = rewrite.relocate(dst, findings, old, dst, host.windows)
        _forget_pack_note(dst)
        reporter.step(f"rewrite: {len(changed)} files now name {dst}")
        adopted = adopt.adopt_prefix(
            dst, host, _Quiet(reporter), cache_dir=cache_dir, link_cache=link_cache, ignore_active_env=True,
        )
    except BaseException:
        _undo(src, dst, how, old, host.windows, reporter)
        raise
    if how == COPIED:
        fsops.remove_tree(src)
        reporter.step(f"source: {src} deleted after the copy verified")
    return MoveResult(src, dst, how, changed, adopted)


def _forget_pack_note(prefix: str) -> None:
    try:
        os.unlink(os.path.join(prefix, scan.RECORD_DIR, scan.PACKED_FILE))
    except FileNotFoundError:
        pass


def _undo(src: str, dst: str, how: str, old: str, windows: bool, reporter: Reporter) -> None:
    """Put things back as they were: the renamed environment goes back, a copy is deleted."""
    if how == COPIED:
        fsops.remove_tree(dst)
        reporter.warn(f"the copy at {dst} was deleted; {src} is as it was")
        return
    findings = [f for f in scan.find(dst, dst, windows) if f.kind != scan.RECORD]
    rewrite.relocate(dst, findings, dst, old, windows)
    record.update(dst, missing_ok=True, inputs=dict((record.read(dst) or {}).get("inputs") or {}, prefix=old),
                  moves=((record.read(dst) or {}).get("moves") or [])[:-1])
    if how != IN_PLACE:
        os.rename(dst, src)
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


class _Quiet:
    """adopt's steps, minus its shell line (move already checked the shell)."""

    def __init__(self, reporter: Reporter):
        self._reporter = reporter

    def step(self, message: str) -> None:
        if not message.startswith("shell:"):
            self._reporter.step(message)

    def warn(self, message: str) -> None:
        if "ignoring the active environment" not in message:
            self._reporter.warn(message)

    def detail(self, message: str) -> None:
        self._reporter.detail(message)

    def progress(self, done: int, total: Optional[int]) -> None:
        self._reporter.progress(done, total)
