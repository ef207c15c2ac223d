"""PowerShell activation (Windows PowerShell 5.1 and pwsh): activate.ps1 and deactivate.ps1.

$PSScriptRoot gives the script's own location. Every value is a single-quoted literal
(quote()), variables are read and written through [Environment] so that an absent variable
is told apart and put back as absent, and the files carry a UTF-8 byte order mark, without
which Windows PowerShell 5.1 reads them in the ANSI code page.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


from mambaboot.common import quoting
from mambaboot.shell.activation import environ, envvars
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.ps1"
DEACTIVATE = "deactivate.ps1"
quote = quoting.powershell


# What `conda activate` (deactivate, reactivate) says in a PowerShell activate.ps1 made ({0}: conda
# or mamba, {1}: the word, {2}: the prefix). The command shown expands $env:CONDA_PREFIX when typed,
# so it is exact for any prefix with no quoting at run time.
TOOL_REFUSAL = ("`{{0}} {{1}}` cannot change this PowerShell session (no conda or mamba shell hook is loaded "
                "here; on Windows it would run {{0}}.bat in a child cmd.exe and change nothing), and this shell "
                "holds {{2}}: one environment per shell. Leave it with "
                '. "$env:CONDA_PREFIX{sep}.mambaboot{sep}deactivate.ps1"; then, here or in a new PowerShell, '
                "dot-source the other environment's .mambaboot{sep}activate.ps1")
TOOL_MISSING = "{{0}}: not in {{1}} and not on PATH"


def _array(values) -> str:
    return "@(" + ", ".join(quote(v) for v in values) + ")"


def _usage() -> list[str]:
    return [". 'PREFIX\\.mambaboot\\activate.ps1'", "undo: . 'PREFIX\\.mambaboot\\deactivate.ps1'"]


def _activate(model: Model) -> list[str]:
    w = model.windows
    fixed = ("PATH", *environ.CONDA_VARS, *environ.EXE_VARS)
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$($global:_MambabootActive.Prefix)"),
        REFUSE=_array(model.refuse_if_set), BUSY=busy("$name=$value"), STALE=STALE,
        SAVED=", ".join(quote(n) for n in fixed), ENTRIES=", ".join("$prefix + " + quote(s) for s in model.path_suffixes),
        VARIANTS=_array(environ.MSYS2_VARIANTS), VARIANT_AT=str(environ.VARIANT_AT), WINDOWS="$true" if w else "$false", SEP="\\" if w else "/",
        CONDA_EXE=quote("Scripts\\conda.exe" if w else "bin/conda"), PYTHON_EXE=quote("python.exe" if w else "bin/python"),
        # mamba 2.x's program (the feedstock's build_mamba.bat installs it into Library\\bin)
        MAMBA_EXE=quote("Library\\bin\\mamba.exe" if w else "bin/mamba"),
        TOOL_REFUSAL=quote(TOOL_REFUSAL.format(sep="\\" if w else "/")), TOOL_MISSING=quote(TOOL_MISSING.format()),
    )


def render(model: Model) -> dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote("mambaboot: " + NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate}, "\r\n", bom=True)
