"""PowerShell activation (Windows PowerShell 5.1 and pwsh): activate.ps1 and deactivate.ps1.

$PSScriptRoot gives the script's own location. Every value is a single-quoted literal
(quote()), variables are read and written through [Environment] so that an absent variable
is told apart and put back as absent, and the files carry a UTF-8 byte order mark, without
which Windows PowerShell 5.1 reads them in the ANSI code page.
"""

from typing import Dict, List, Optional

from mambaboot.shell.activation import environ
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.ps1"
DEACTIVATE = "deactivate.ps1"
# PowerShell ends a single-quoted string at any of these; inside one, each is written twice.
_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote(value: Optional[str]) -> str:
    """A PowerShell expression with exactly this string value ($null for None)."""
    if value is None:
        return "$null"
    return "'" + "".join(c + c if c in _QUOTES else c for c in value) + "'"


def _array(values) -> str:
    return "@(" + ", ".join(quote(v) for v in values) + ")"


def _usage() -> List[str]:
    return [". PREFIX\\.mambaboot\\activate.ps1", "undo: . PREFIX\\.mambaboot\\deactivate.ps1"]


def _join(rel: str, windows: bool) -> str:
    return rel.replace("/", "\\") if windows else rel


def _activate(model: Model) -> List[str]:
    w = model.windows
    # [IO.File]::ReadAllText drops a byte order mark
    data = "; ".join(f"{quote(_join(rel, w))} = {quote(None if text is None else text[text.startswith(chr(0xFEFF)):])}"
                     for rel, text in model.data_text())
    listings = "; ".join(
        f"{quote(_join(d, w))} = @{{ Pattern = {quote('*' + ext)}; Names = {_array(names)} }}"
        for d, ext, names in model.listings(".ps1")
    )
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$($global:_MambabootActive.Prefix)"),
        REFUSE=_array(model.refuse_if_set), BUSY=busy("$name=$value"), DATA=data, LISTINGS=listings, STALE=STALE,
        SAVED=_array(model.saved()), ENTRIES=", ".join("$prefix + " + quote(s) for s in model.path_suffixes),
        SETS="; ".join(f"{quote(k)} = {quote(v)}" for k, v in model.sets), VARIANTS=_array(environ.MSYS2_VARIANTS),
        WINDOWS="$true" if w else "$false", SEP="\\" if w else "/",
        CONDA_EXE=quote("Scripts\\conda.exe" if w else "bin/conda"), PYTHON_EXE=quote("python.exe" if w else "bin/python"),
        DEACTIVATE_HOOKS=_array(model.hooks("deactivate", ".ps1")), DEACTIVATE_DIR=quote(_join("etc/conda/deactivate.d/", w)),
        ACTIVATE_HOOKS=_array(model.hooks("activate", ".ps1")), ACTIVATE_DIR=quote(_join("etc/conda/activate.d/", w)),
    )


def render(model: Model) -> Dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote("mambaboot: " + NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate}, "\r\n", bom=True)
