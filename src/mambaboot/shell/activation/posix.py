"""POSIX sh activation (bash, zsh, dash and other sh): activate.sh and deactivate.sh.

Finding its own location: bash says which file it is sourcing ($BASH_SOURCE), zsh too
(the %x prompt escape); dash and other plain sh cannot, so there the caller names the
environment in MAMBABOOT_ENV, which the script reads and unsets:

    MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"

Whichever way, the script only proceeds when PREFIX/.mambaboot/activate.sh is the very file
named (`-ef`) and PREFIX/conda-meta exists, so a symlinked or misnamed script refuses instead
of activating the wrong directory. Everything it runs is a shell builtin.
"""

from typing import Dict, List

from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.sh"
DEACTIVATE = "deactivate.sh"
_V = "_mambaboot_"  # every variable and function the scripts leave behind starts with this


def quote(value: str) -> str:
    """A single shell word that expands to exactly `value` (any text without NUL)."""
    if "\0" in value:
        raise ValueError("a shell variable cannot hold a NUL character")
    return "'" + value.replace("'", "'\\''") + "'"


def file_text(content: str) -> str:
    """What `_mambaboot_read` leaves in its variable for a file holding `content`."""
    return content if content == "" or content.endswith("\n") else content + "\n"


def _usage() -> List[str]:
    return [
        "bash, zsh:  . /path/to/env/.mambaboot/activate.sh",
        'dash, sh:   MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"',
        "undo:       . /path/to/env/.mambaboot/deactivate.sh",
    ]


def _guard(model: Model) -> List[str]:
    lines = ["    _mambaboot_stale="]
    for rel, text in model.data_text():
        path = f'"$_mambaboot_p/{rel}"'
        if text is None:
            lines.append(f"    if [ -e {path} ]; then _mambaboot_stale={quote(rel)}; fi")
        else:
            lines.append(f"    if ! _mambaboot_read {path} || [ \"$_mambaboot_c\" != {quote(file_text(text))} ]; then "
                         f"_mambaboot_stale={quote(rel)}; fi")
    for directory, ext, names in model.listings(".sh"):
        checks = [f'[ "$_mambaboot_n" != {len(names)} ]'] + [f'[ ! -f "$_mambaboot_p/{directory}/"{quote(n)} ]' for n in names]
        lines.append(f'    _mambaboot_count "$_mambaboot_p/{directory}/"*{ext}')
        lines.append(f"    if {' || '.join(checks)}; then _mambaboot_stale={quote(directory)}; fi")
    lines += [
        '    if [ -n "$_mambaboot_stale" ]; then',
        f'        _mambaboot_fail "$_mambaboot_stale {STALE} $_mambaboot_p"',
        "        return 1",
        "    fi",
    ]
    return lines


def _activate(model: Model) -> List[str]:
    save, restore = [], []
    for name in model.saved():
        save.append(f'    if [ -n "${{{name}+x}}" ]; then {_V}had_{name}=1; {_V}old_{name}=${name}; else {_V}had_{name}=; fi')
        restore.append(f'        if [ -n "${{{_V}had_{name}-}}" ]; then export {name}="${_V}old_{name}"; else unset {name}; fi')
        restore.append(f"        unset {_V}had_{name} {_V}old_{name}")
    values = {
        "PATH": "\"" + ":".join(f"$_mambaboot_p{s}" for s in model.path_suffixes) + '${PATH:+:$PATH}"',
        "CONDA_PREFIX": '"$_mambaboot_p"',
        "CONDA_SHLVL": "1",
        "CONDA_DEFAULT_ENV": '"$_mambaboot_p"',
        "CONDA_PROMPT_MODIFIER": '"($_mambaboot_p) "',
        "MAMBA_ROOT_PREFIX": '"$_mambaboot_p"',
    }
    sets = [f"    export {name}={value}" for name, value in values.items()]
    sets += [f"    export {name}={quote(value)}" for name, value in model.sets]
    sets += [f"    unset {name}" for name in model.unsets]
    refuse = [f'    if [ -n "${{{name}-}}" ]; then _mambaboot_fail "{busy(f"{name}=${name}")}"; return 1; fi'
              for name in model.refuse_if_set]
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$_mambaboot_active"), REFUSE=refuse,
        GUARD=_guard(model), SAVE=save, SETS=sets, RESTORE=restore,
        DEACTIVATE_HOOKS=[f'        . "${_V}active/etc/conda/deactivate.d/"{quote(n)}' for n in model.hooks("deactivate", ".sh")],
        ACTIVATE_HOOKS=[f'    . "${_V}active/etc/conda/activate.d/"{quote(n)}' for n in model.hooks("activate", ".sh")],
    )


def render(model: Model) -> Dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote(NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate})
