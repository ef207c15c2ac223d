"""`mambaboot adopt`: bring an existing conda prefix under management with finish.finish().

Where the record's provenance comes from decides the case:
- a prefix mambaboot already manages: its recorded provenance and creation time are kept and
  everything is checked again; if that fails or is killed, what adopt wrote is put back as it
  was (the record dir's files, .condarc, conda-meta/state, the pkgs link: bytes, owner and mode),
  as conda rolls back a transaction (environment/adoptundo.py, by settle.py's adopt rows; inside a
  move, by its move rows), and
  the record, written only once verified, says what it said;
- any other conda prefix (micromamba, conda, mamba): recorded as `adopted`, which `create
  --force` never replaces. If adopting it fails, the files adopt added are taken away again.
Nothing that was in the prefix before is ever deleted.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import pathrules, values

from mambaboot.common.files import fileid
from mambaboot.common.errors import TargetRefused
from mambaboot.common.host import Host
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.environment import record
from mambaboot.pipeline import finish
from mambaboot.pipeline.plan import resolve_cache_dir, resolve_pkgs_dirs

MANAGED = "managed"
ADOPTED = "adopted"
# The parts of a record that say what made the environment; the rest finish() writes anew.
# pip_packages: what the pip section installed is part of what the environment holds, and of its lock
_PROVENANCE_KEYS = ("adopted", "inputs", "platform", "micromamba", "pip_packages", "moves")


@value
class AdoptResult:
    prefix: str
    case: str
    finished: finish.Finished

    def to_dict(self) -> dict[str, object]:
        return {"prefix": self.prefix, "adoption": self.case, **self.finished.summary()}


def check_prefix(prefix: str, command: str) -> None:
    """An existing conda environment, not through a link; command: the one the user ran (named when refused)."""
    if not os.path.lexists(prefix):
        from mambaboot.common.errors import no_such_path

        raise no_such_path(prefix, command)
    if fileid.is_link(prefix):
        raise TargetRefused(f"{prefix} is a link; give the real path of the environment instead")
    if not os.path.isdir(prefix):
        raise TargetRefused(f"{prefix} is not a directory; `mambaboot {command}` takes an existing conda environment")
    if not os.path.isdir(os.path.join(prefix, "conda-meta")):
        raise TargetRefused(f"{prefix} is not a conda environment (it has no conda-meta/); nothing was changed")


def adopt_prefix(
    prefix: str, host: Host, reporter: Reporter, *, python: str | None = None,
    cache_dir: str | None = None, link_cache: bool = True, intent,
) -> AdoptResult:
    """The caller has checked the shell (isolation.admit) and reported it.
    intent: the placelock.Intent of prefix, whose stages say what settles it; a move's (its re-adopt at its
    destination) leaves its snapshot in the place to the move's rows (docs/reliability.md, the temporary names)."""
    pathrules.check_prefix(prefix, host.windows)  # create's character policy: adopt writes scripts naming it
    check_prefix(prefix, "adopt")
    existing = record.read(prefix)
    if existing is not None:
        case, finish_inputs = MANAGED, _from_record(prefix, host, existing, python, cache_dir, link_cache)
        reporter.step(f"prefix: {prefix} is managed since {existing.get('created')} ({existing.get('state')}); checking it again")
    else:
        case, finish_inputs = ADOPTED, _foreign(prefix, host, python, cache_dir, link_cache)
        reporter.step(f"prefix: {prefix} is a conda environment")
    from mambaboot.environment import adoptundo

    snapshot = adoptundo.take(prefix, host.windows)
    finish_inputs = values.replace(finish_inputs, ahead=lambda rel, data: adoptundo.save(prefix, intent.token, snapshot, rel, data))
    if intent.operation == "move":  # the move's intent settles its failure and a kill alike, by its rows
        adoptundo.save(prefix, intent.token, snapshot)
        return AdoptResult(prefix, case, finish.finish(finish_inputs, host.environ, reporter))
    # Its failure and a kill are put back by settle.py's adopt rows alike; made: the record dir is this
    # run's to make, so the rows take it back once empty, never one there before (docs/reliability.md)
    intent.stage("saving", **({} if record.RECORD_DIR in snapshot.files else {"made": "1"}))
    adoptundo.save(prefix, intent.token, snapshot)
    intent.stage("adopting")
    finished = finish.finish(finish_inputs, host.environ, reporter)
    intent.stage("adopted")
    adoptundo.drop(prefix, intent.token)
    return AdoptResult(prefix, case, finished)


def _from_record(
    prefix: str, host: Host, existing: dict[str, object], python: str | None, cache_dir: str | None, link_cache: bool,
) -> finish.FinishInputs:
    inputs = existing.get("inputs") or {}
    if not link_cache:
        pkgs_dir = None
    elif cache_dir is not None:
        pkgs_dir = resolve_pkgs_dirs(host, resolve_cache_dir(host, cache_dir))[0]
    else:
        pkgs_dir = inputs.get("pkgs_dir") if inputs.get("link_cache") else None
    return finish.FinishInputs(
        prefix=prefix, windows=host.windows, requested_python=python or inputs.get("python"), pkgs_dir=pkgs_dir,
        provenance={k: existing[k] for k in _PROVENANCE_KEYS if k in existing}, created=existing.get("created"),
    )


def _foreign(prefix: str, host: Host, python: str | None, cache_dir: str | None, link_cache: bool) -> finish.FinishInputs:
    cache = resolve_cache_dir(host, cache_dir, prefix)
    pkgs_dirs = resolve_pkgs_dirs(host, cache)
    inputs = {
        "prefix": prefix, "name": os.path.basename(prefix), "python": python, "cache_dir": cache,
        "pkgs_dirs": list(pkgs_dirs), "pkgs_dir": pkgs_dirs[0], "link_cache": link_cache,
        "subdir": host.subdir, "windows": host.windows,
    }
    return finish.FinishInputs(
        prefix=prefix, windows=host.windows, requested_python=python, pkgs_dir=pkgs_dirs[0] if link_cache else None,
        provenance={"adopted": True, "platform": host.subdir, "inputs": inputs},
    )
