"""May we create into this prefix? Decided by looking only; never deletes anything."""

import os

from mambaboot.common import quoting
from mambaboot.common.errors import TargetRefused
from mambaboot.common.output import counted
from mambaboot.common.values import value
from mambaboot.environment import record

ABSENT = "absent"
EMPTY = "empty"
OURS = "ours"  # a mambaboot environment (complete or interrupted) that --force may replace


@value
class Target:
    prefix: str
    state: str
    detail: str


def _holds_python(prefix: str) -> bool:
    """bin/python* (what glob would match, without glob's imports and patterns) or python.exe."""
    try:
        names = os.listdir(os.path.join(prefix, "bin"))
    except OSError:
        names = []
    return any(os.path.normcase(n).startswith("python") for n in names) or os.path.exists(
        os.path.join(prefix, "python.exe"))


def first_existing_ancestor(path: str) -> str:
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    return parent


def refuse_nested(prefix: str, why: str = "") -> None:
    """TargetRefused when prefix holds other environments (envs/NAME/conda-meta, as a base does):
    deleting or replacing it would delete them, and whatever the user keeps in them."""
    try:
        entries = [e for e in os.scandir(os.path.join(prefix, "envs")) if e.is_dir(follow_symlinks=False)]
    except OSError:
        entries = []
    nested = [e.path for e in entries if os.path.isdir(os.path.join(e.path, "conda-meta"))]
    if nested:
        raise TargetRefused(f"{prefix} holds other environments ({', '.join(nested)}){why}; remove those first; "
                            "nothing was changed")


def inspect(prefix: str, cache_dir: str, force: bool) -> Target:
    if os.path.islink(prefix):
        raise TargetRefused(f"{prefix} is a symbolic link; give the real path of the environment instead")
    if not os.path.lexists(prefix):
        ancestor = first_existing_ancestor(prefix)
        if ancestor and not os.path.isdir(ancestor):
            raise TargetRefused(f"cannot create {prefix}: {ancestor} is not a directory")
        if ancestor and not os.access(ancestor, os.W_OK):
            raise TargetRefused(f"cannot create {prefix}: {ancestor} is not writable")
        return Target(prefix, ABSENT, "does not exist yet")
    if not os.path.isdir(prefix):
        raise TargetRefused(f"{prefix} is a file, not a directory; nothing was changed")
    rec = record.read(prefix)
    if record.made_by_someone_else(rec):
        raise TargetRefused(f"{prefix} holds an environment mambaboot adopted, not created; --force never replaces "
                            f"it ({quoting.advice(['mambaboot', 'remove', '--force', prefix], os.name == 'nt', 'mambaboot remove --force')} "
                            "first, if you mean to)")
    if rec is not None:
        complete = rec is not None and rec.get("state") in record.FINISHED
        what = (
            f"an environment mambaboot created ({rec.get('created', 'unknown date')})"
            if complete
            else "an incomplete environment left by an interrupted mambaboot run"
        )
        if force:
            refuse_nested(prefix, "; --force never replaces an environment holding others")
            return Target(prefix, OURS, f"holds {what}; --force replaces it")
        raise TargetRefused(f"{prefix} holds {what}; pass --force to replace it")
    try:
        entries = os.listdir(prefix)
    except OSError as exc:
        raise TargetRefused(f"cannot read {prefix}: {exc.strerror}") from None
    hint = " (--force only replaces environments mambaboot created)" if force else ""
    if _holds_python(prefix):
        raise TargetRefused(f"{prefix} already holds a Python; it was left untouched{hint}")
    if entries:
        raise TargetRefused(f"{prefix} is a non-empty directory ({counted(len(entries), 'entry', 'entries')}); it was left untouched{hint}")
    if not os.access(prefix, os.W_OK):
        raise TargetRefused(f"{prefix} is not writable")
    return Target(prefix, EMPTY, "is an empty directory")
