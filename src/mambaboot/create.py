"""The create pipeline: check -> obtain -> engine -> post-process -> verify -> record.

Every failure after the first write rolls back to exactly what was there before: a prefix
that did not exist is removed, an empty one emptied, and a replaced (--force) environment
moved back into place. Only files this run created are ever deleted.
"""

import os
from dataclasses import dataclass
from typing import List, Optional

from mambaboot import cachelink, condameta, fsops, isolation, micromamba, record, sandbox, target, verify
from mambaboot.activation import environ as activation
from mambaboot.host import Host
from mambaboot.plan import Plan
from mambaboot.report import Reporter
from mambaboot.verify import Verification

STEPS = 7


@dataclass(frozen=True)
class CreateResult:
    plan: Plan
    binary: micromamba.Binary
    packages: List[condameta.Package]
    verification: Verification
    record_path: str
    cache_link: Optional[str]
    replaced: bool

    def to_dict(self) -> dict:
        return {
            "prefix": self.plan.prefix,
            "name": self.plan.name,
            "python_version": self.verification.python_version,
            "conda_version": self.verification.conda_version,
            "mamba_version": self.verification.mamba_version,
            "micromamba_version": self.binary.version,
            "micromamba_sha256": self.binary.sha256,
            "micromamba_source": self.binary.source,
            "packages": [{"name": p.name, "version": p.version, "build": p.build} for p in self.packages],
            "record": self.record_path,
            "cache_link": self.cache_link,
            "replaced": self.replaced,
        }


def preflight(plan: Plan, host: Host, ignore_active_env: bool, reporter: Reporter) -> target.Target:
    """The checks that write nothing: shell, then target. --dry-run stops after these."""
    found = isolation.contamination(host.environ, host.windows)
    if found and ignore_active_env:
        reporter.warn("ignoring the active environment (" + ", ".join(v for v, _ in found) + "); children get a clean one")
    else:
        isolation.check_shell(host.environ, host.windows)
    reporter.step(f"[1/{STEPS}] shell is clean" if not found else f"[1/{STEPS}] shell check overridden")
    for warning in plan.warnings:
        reporter.warn(warning)
    tgt = target.inspect(plan.prefix, plan.cache_dir, plan.force)
    reporter.step(f"[2/{STEPS}] target {plan.prefix} {tgt.detail}")
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
        if self.state == target.EMPTY:
            if os.path.isdir(prefix) and not fsops.is_link(prefix):
                for name in os.listdir(prefix):
                    path = os.path.join(prefix, name)
                    if fsops.is_link(path) or not os.path.isdir(path):
                        fsops.remove_link(path) if fsops.is_link(path) else os.unlink(path)
                    else:
                        fsops.remove_tree(path)
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
        reporter.step(f"[3/{STEPS}] micromamba {binary.version} ({how}, sha256 {binary.sha256[:12]})")
        record.mark_pending(plan.cache_dir, plan.prefix)
        rollback = _Rollback(plan, tgt)
        finished = False
        try:
            if tgt.state == target.OURS:
                rollback.move_old_aside()
            result = _build(plan, host, binary, child_env, reporter)
            finished = True
        except BaseException:
            if keep_failed and rollback.aside is None and record.read(plan.prefix) is not None:
                reporter.warn(f"kept the failed environment for inspection: {plan.prefix} (state: incomplete)")
                record.clear_pending(plan.cache_dir, plan.prefix)
            else:
                rollback.undo()
                record.clear_pending(plan.cache_dir, plan.prefix)
            raise
        finally:
            if finished:
                rollback.commit()
    return CreateResult(**result, plan=plan, binary=binary, replaced=tgt.state == target.OURS)


def _build(plan: Plan, host: Host, binary: micromamba.Binary, child_env: dict, reporter: Reporter) -> dict:
    cmd = micromamba.create_command(binary.path, plan)
    reporter.detail("$ " + " ".join(cmd))
    micromamba.run(cmd, child_env, echo=reporter.detail)

    files = [os.path.join(record.RECORD_DIR, record.RECORD_FILE)]
    base = {
        "state": record.INCOMPLETE,
        "created": record.now(),
        "inputs": plan.to_dict(),
        "platform": plan.subdir,
        "micromamba": {"version": binary.version, "source": binary.source, "sha256": binary.sha256},
        "files": files,
    }
    # From here on the prefix itself says it is ours; the marker outside is no longer needed.
    record.write(plan.prefix, base)
    record.clear_pending(plan.cache_dir, plan.prefix)

    pkgs = os.path.join(plan.prefix, "pkgs")
    link = cachelink.link_cache(plan.prefix, plan.pkgs_dir, plan.windows) if plan.link_cache else None
    if link:
        files.append("pkgs")
        linked = f"[5/{STEPS}] linked {pkgs} -> {plan.pkgs_dir} ({link})"
    elif plan.link_cache:
        linked = f"[5/{STEPS}] {pkgs} already holds files; left as it is, not linked to the cache"
    else:
        linked = f"[5/{STEPS}] package cache link skipped (--no-cache-link)"

    baseline = isolation.baseline(host.environ, host.windows)
    checks = verify.start(activation.activated(baseline, plan.prefix, host.windows), plan.prefix, plan.python)
    try:
        packages = condameta.installed(plan.prefix)  # read while the checks run
    except BaseException:
        checks.cancel()
        raise
    reporter.step(f"[4/{STEPS}] created {plan.prefix}: {len(packages)} packages")
    reporter.step(linked)
    verification = checks.result()
    reporter.step(
        f"[6/{STEPS}] verified: python {verification.python_version} ({verification.python}), "
        f"conda {verification.conda_version}, mamba {verification.mamba_version}"
    )
    base["packages"] = [p.to_dict() for p in packages]
    base.update(state=record.COMPLETE, completed=record.now(), verification=verification.to_dict())
    path = record.write(plan.prefix, base)
    reporter.step(f"[7/{STEPS}] recorded {path}")
    return {"packages": packages, "verification": verification, "record_path": path, "cache_link": link}
