"""fish activation: activate.fish and deactivate.fish.

fish says which file it is sourcing (`status current-filename`), so the script finds the
environment from its own location; only fish builtins run (string, set, test, source).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


from mambaboot.common import quoting
from mambaboot.shell.activation import environ, envvars
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.fish"
DEACTIVATE = "deactivate.fish"
_V = "_mambaboot_"


quote = quoting.fish


def _usage() -> list[str]:
    return ["source /path/to/env/.mambaboot/activate.fish", "undo: source /path/to/env/.mambaboot/deactivate.fish"]


def _activate(model: Model) -> list[str]:
    refuse = []
    for name in model.refuse_if_set:
        refuse += [f'    if test -n "${name}"', f'        _mambaboot_fail "{busy(f"{name}=${name}")}"', "        return 1", "    end"]
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$_mambaboot_active"), REFUSE=refuse,
        STALE=STALE, STALE_RC=str(envvars.STALE_RC), CONDA_VARS=" ".join(environ.CONDA_VARS + environ.EXE_VARS),
        PATH=" ".join(f"$_mambaboot_p{s}" for s in model.path_suffixes),
    )


def render(model: Model) -> dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote(NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate})
