"""Which environments there are and what state each is in, from their records alone.

Fast by design: per environment one record and one directory listing of conda-meta. A size only
when a fresh measurement is asked for (a walk of every file): the environment's own conda and
mamba install and remove packages without mambaboot, so no size is recorded to go stale. For
the same reason the package count is conda-meta's now, next to the record's from creation.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import quoting
from mambaboot.environment import diskusage, placelock, record, settle

FOREIGN = "foreign"  # a conda environment mambaboot did not create
MOVING = "moving"  # a killed move's intent in its lock: the next run of either place settles it
SUMMARY = ("created", "packages", "provisioning", "state", "verification")  # what describe() reads


class Environment:
    """One environment as `list` shows it. size_measured False: not measured (size None); failed:
    for provisioning-failed, the step (script) that failed; copy (measured only): True when no
    file shares a hard link (with the package cache): the engine copied every file, as
    micromamba does when cache and environment are on two volumes. packages:
    how many conda-meta holds now; packages_at_creation: how many the record lists (None:
    no finished record); changed: the two differ (None: one is unknown)."""

    FIELDS = ("name", "prefix", "state", "python_version", "packages", "packages_at_creation", "changed", "size",
              "size_measured", "created", "failed", "copy")

    def __init__(self, *, name: str, prefix: str, state: str, python_version: str | None,
                 packages: int | None, size: int | None, size_measured: bool, created: str | None,
                 failed: str | None, copy: bool | None = None, packages_at_creation: int | None = None) -> None:
        self.name, self.prefix, self.state, self.python_version = name, prefix, state, python_version
        self.packages, self.size, self.size_measured, self.created = packages, size, size_measured, created
        self.failed, self.copy, self.packages_at_creation = failed, copy, packages_at_creation

    @property
    def changed(self) -> bool | None:
        if self.packages is None or self.packages_at_creation is None:
            return None
        return self.packages != self.packages_at_creation

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS}


def _meta_names(prefix: str) -> list[str] | None:
    try:
        return [n for n in os.listdir(os.path.join(prefix, "conda-meta")) if n.endswith(".json")]
    except OSError:
        return None


def _python_from_meta(names: list[str]) -> str | None:
    for name in names:
        parts = name[: -len(".json")].rsplit("-", 2)
        if len(parts) == 3 and parts[0] == "python":
            return parts[1]
    return None


def _mtime(prefix: str) -> str | None:
    for path in (os.path.join(prefix, "conda-meta", "history"), os.path.join(prefix, "conda-meta")):
        try:
            stamp = os.stat(path).st_mtime
        except OSError:
            continue
        return record.utc(stamp)
    return None


def state_of(rec: dict | None, moving: bool = False) -> str:
    if moving:
        return MOVING
    if rec is not None and rec.get("state") not in record.FINISHED:
        return record.INCOMPLETE
    return rec["state"] if rec is not None else FOREIGN


def describe(prefix: str, measure: bool = False, whole: bool = True) -> Environment | None:
    """None when prefix is no environment: no conda-meta, no record of ours. whole False: the record's
    package list counted, not parsed (record.read with keys), for `list`; a decision to delete
    (remove) reads it whole, so that a record broken anywhere is no record."""
    rec = record.read(prefix, None if whole else SUMMARY)
    rec_ = rec or {}
    verification = rec_.get("verification") or {}
    names = _meta_names(prefix)  # what it holds now, whatever the record says it was made with
    if rec is None and names is None:
        return None
    current = len(names) if names is not None else None
    names = names or []
    failed = ((rec_.get("provisioning") or {}).get("failed") or {})
    size: int | None = None
    copy = None
    if measure:
        usage = diskusage.environment_size(prefix)
        size = usage.bytes
        copy = usage.files > 0 and usage.shared_files == 0
    return Environment(
        name=os.path.basename(prefix.rstrip("\\/")) or prefix,
        prefix=prefix,
        state=state_of(rec, settle.unsettled_move(placelock.killed(prefix))),
        python_version=_python_from_meta(names) or verification.get("python_version"),
        packages=current,
        packages_at_creation=_count(rec_["packages"]) if "packages" in rec_ else None,
        size=size,
        size_measured=measure,
        created=rec_.get("created") or _mtime(prefix),
        failed=failed.get("script") or failed.get("step"),
        copy=copy,
    )


def _count(packages) -> int | None:
    """The record's "packages": a list (read whole) or its length (read with keys)."""
    return len(packages) if isinstance(packages, list) else packages if isinstance(packages, int) else None


def _environments_in(directory: str) -> list[str]:
    """The names of the environments directly under directory (conda-meta or our record in them)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [e.name for e in entries if e.is_dir(follow_symlinks=False)
            and (os.path.isdir(os.path.join(e.path, "conda-meta")) or os.path.isdir(os.path.join(e.path, record.RECORD_DIR)))]


def scan(envs_dir: str, paths=(), measure: bool = False) -> list[Environment]:
    """Every environment directly under envs_dir, then each of paths (which must be environments)."""
    from mambaboot.common.errors import UsageError

    found: dict[str, Environment] = {}
    try:
        entries = sorted(os.scandir(envs_dir), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and placelock.owner(entry.path) is None:  # else part of its place
            env = describe(entry.path, measure, whole=False)
            if env is not None:
                found[env.prefix] = env
    for path in paths:
        prefix = os.path.abspath(path)
        if not os.path.lexists(prefix):
            from mambaboot.common.errors import no_such_path

            raise no_such_path(prefix, "list")
        if placelock.owner(prefix) is not None:  # part of a place an unfinished run set it aside from: named there
            continue
        env = found.get(prefix) or describe(prefix, measure, whole=False)
        if env is None:
            held = _environments_in(prefix)
            if held:
                raise UsageError(f"{prefix} is not an environment but a directory of {len(held)} "
                                 f"({', '.join(held[:3])}{', ...' if len(held) > 3 else ''}): list them with "
                                 + quoting.advice(["mambaboot", "list", "--envs-dir", prefix], os.name == "nt",
                                                  "mambaboot list --envs-dir"))
            raise UsageError(f"{prefix} is not an environment (no conda-meta, no mambaboot record)")
        found[prefix] = env
    return list(found.values())
