"""The create pipeline: check -> obtain -> engine -> finish (see adopt.py).

Every failure after the first write rolls back to exactly what was there before: a prefix
that did not exist is removed, an empty one emptied, and a replaced (--force) environment
moved back into place. Only files this run created are ever deleted.
"""

import os
from dataclasses import dataclass
from typing import Optional

from mambaboot import adopt, fsops, isolation, micromamba, record, sandbox, target
from mambaboot.host import Host
from mambaboot.plan import Plan
from mambaboot.report import Reporter


@dataclass(frozen=True)
class CreateResult:
    plan: Plan
    binary: micromamba.Binary
    finished: adopt.Finished
    replaced: bool

    def to_dict(self) -> dict:
        return {
            "prefix": self.plan.prefix,
            "name": self.plan.name,
            **self.finished.summary(),
            "micromamba_version": self.binary.version,
            "micromamba_sha256": self.binary.sha256,
            "micromamba_source": self.binary.source,
            "replaced": self.replaced,
        }


def preflight(plan: Plan, host: Host, ignore_active_env: bool, reporter: Reporter) -> target.Target:
    """The checks that write nothing: shell, then target. --dry-run stops after these."""
    isolation.admit(host.environ, host.windows, ignore_active_env, reporter)
    for warning in plan.warnings:
        reporter.warn(warning)
    tgt = target.inspect(plan.prefix, plan.cache_dir, plan.force)
    reporter.step(f"target: {plan.prefix} {tgt.detail}")
    return tgt


class _Rollback:
    """Remembers what this run changed in the target so a failure can put it back."""

    def __init__(self, plan: Plan, tgt: target.Target):
        self.plan = plan
        self.state = tgt.state
        self.aside: Optional[str] = None

    def move_old_aside(self) -> None:
        # A rename in the same directory: same filesystem, so atomic, and paths inside the
        # old environment are valid again the moment it moves back.
        self.aside = fsops.unique_sibling(self.plan.prefix, "mambaboot-old")
        os.rename(self.plan.prefix, self.aside)

    def undo(self) -> None:
        prefix = self.plan.prefix
        if self.state == target.EMPTY:  # the directory was the user's: empty it, keep it
            if os.path.isdir(prefix) and not fsops.is_link(prefix):
                for name in os.listdir(prefix):
                    fsops.remove_any(os.path.join(prefix, name))
        elif os.path.lexists(prefix):
            fsops.remove_tree(prefix)
        if self.aside:
            os.rename(self.aside, prefix)
            self.aside = None

    def commit(self) -> None:
        if self.aside:
            fsops.remove_tree(self.aside)
            self.aside = None


def create(plan: Plan, host: Host, reporter: Reporter, *, ignore_active_env: bool = False, keep_failed: bool = False) -> CreateResult:
    tgt = preflight(plan, host, ignore_active_env, reporter)
    os.makedirs(plan.cache_dir, exist_ok=True)
    with sandbox.private_home(plan.cache_dir) as home:
        child_env = sandbox.child_environ(host.environ, home, plan.pkgs_dirs, host.windows)
        binary = micromamba.obtain(plan.micromamba, plan.cache_dir, child_env, reporter.progress)
        how = "downloaded" if binary.downloaded else ("given" if plan.micromamba.kind == "local" else "cached")
        reporter.step(f"micromamba: {binary.version} ({how}, sha256 {binary.sha256[:12]})")
        record.mark_pending(plan.cache_dir, plan.prefix)
        rollback = _Rollback(plan, tgt)
        try:
            if tgt.state == target.OURS:
                rollback.move_old_aside()
            finished = _build(plan, host, binary, child_env, reporter)
        except BaseException:
            if keep_failed and rollback.aside is None and record.read(plan.prefix) is not None:
                reporter.warn(f"kept the failed environment for inspection: {plan.prefix} (state: incomplete)")
            else:
                rollback.undo()
            record.clear_pending(plan.cache_dir, plan.prefix)
            raise
        rollback.commit()
    return CreateResult(plan=plan, binary=binary, finished=finished, replaced=tgt.state == target.OURS)


def _build(plan: Plan, host: Host, binary: micromamba.Binary, child_env: dict, reporter: Reporter) -> adopt.Finished:
    cmd = micromamba.create_command(binary.path, plan)
    reporter.detail("$ " + " ".join(cmd))
    micromamba.run(cmd, child_env, echo=reporter.detail)
    reporter.step(f"engine: created {plan.prefix}")
    provenance = record.provenance(plan.to_dict(), binary.version, binary.source, binary.sha256)
    inputs = adopt.FinishInputs(
        prefix=plan.prefix, windows=plan.windows, requested_python=plan.python,
        pkgs_dir=plan.pkgs_dir if plan.link_cache else None, provenance=provenance,
    )
    finished = adopt.finish(inputs, host.environ, reporter)
    record.clear_pending(plan.cache_dir, plan.prefix)
    return finished
