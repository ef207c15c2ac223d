"""POSIX sh activation (bash, zsh, dash and other sh): activate.sh and deactivate.sh.

Finding its own location: bash says which file it is sourcing ($BASH_SOURCE), zsh too
(the %x prompt escape); dash and other plain sh cannot, so there the caller names the
environment in MAMBABOOT_ENV, which the script reads and unsets:

    MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"

Whichever way, the script only proceeds when PREFIX/.mambaboot/activate.sh is the very file
named (`-ef`), its first line is this script's own (every environment's activate.sh is the same
text but for that line, so dash cannot prove it found itself any other way) and
PREFIX/conda-meta exists, so a symlinked or misnamed script refuses instead of activating the
wrong directory. zsh takes the file from $funcsourcetrace, byte for byte in any locale.
Everything it runs is a shell builtin (but the environment's python once its variables changed).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import fsops
from mambaboot.common import quoting
from mambaboot.shell.activation import environ, envvars
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.sh"
DEACTIVATE = "deactivate.sh"
_V = "_mambaboot_"  # every variable and function the scripts leave behind starts with this


quote = quoting.sh


def _usage() -> list[str]:
    return [
        "bash, zsh:  . /path/to/env/.mambaboot/activate.sh",
        'dash, sh:   MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"',
        "undo:       . /path/to/env/.mambaboot/deactivate.sh",
    ]


def _identity(prefix: str) -> str:
    """activate.sh's first line: the same for the same place, another for each other environment."""
    digest = fsops.sha256_hex(os.path.realpath(prefix).encode("utf-8", "surrogateescape"))[:32]
    return f"# mambaboot activation {digest}"


def _activate(model: Model) -> list[str]:
    refuse = [f'    if [ -n "${{{name}-}}" ]; then _mambaboot_fail "{busy(f"{name}=${name}")}"; return 1; fi'
              for name in model.refuse_if_set]
    return fill(
        ACTIVATE, ID=_identity(model.prefix), HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$_mambaboot_active"), REFUSE=refuse,
        STALE=STALE, STALE_RC=str(envvars.STALE_RC), CONDA_VARS=" ".join(environ.CONDA_VARS + environ.EXE_VARS),
        PATH=":".join(f"$_mambaboot_p{s}" for s in model.path_suffixes),
    )


def render(model: Model) -> dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote(NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate})
