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

from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, still_active

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


_HELPERS = r"""
_mambaboot_read() {
    # the whole file in _mambaboot_c (a last line without newline gets one); 1 if unreadable
    _mambaboot_c=
    [ -f "$1" ] && [ -r "$1" ] || return 1
    while IFS= read -r _mambaboot_l || [ -n "$_mambaboot_l" ]; do
        _mambaboot_c="$_mambaboot_c$_mambaboot_l
"
    done < "$1"
    _mambaboot_l=
}

_mambaboot_count() {
    _mambaboot_n=0
    for _mambaboot_f in "$@"; do
        if [ -f "$_mambaboot_f" ]; then _mambaboot_n=$((_mambaboot_n + 1)); fi
    done
}

_mambaboot_fail() {
    printf 'mambaboot: %s\n' "$1" >&2
    return 1
}
"""

_LOCATE = r"""
    _mambaboot_src=
    if [ -n "${BASH_VERSION-}" ]; then
        _mambaboot_src=$BASH_SOURCE
    elif [ -n "${ZSH_VERSION-}" ]; then
        eval '_mambaboot_src=${(%):-%x}'
        setopt localoptions nonomatch  # an unmatched glob stays as it is, as in sh
    elif [ -n "${MAMBABOOT_ENV-}" ]; then
        _mambaboot_src=$MAMBABOOT_ENV/.mambaboot/activate.sh
    fi
    unset MAMBABOOT_ENV
    if [ -z "$_mambaboot_src" ]; then
        _mambaboot_fail 'this shell cannot tell which file it is sourcing; name the environment: MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"'
        return 1
    fi
    case $_mambaboot_src in /*) ;; *) _mambaboot_src=$PWD/$_mambaboot_src ;; esac
    _mambaboot_p=${_mambaboot_src%/*}/../
    while :; do  # logical normalisation, as `cd` would do it: //, /./ and dir/../
        case $_mambaboot_p in
            *//*) _mambaboot_p=${_mambaboot_p%%//*}/${_mambaboot_p#*//} ;;
            */./*) _mambaboot_p=${_mambaboot_p%%/./*}/${_mambaboot_p#*/./} ;;
            /../*) _mambaboot_p=/${_mambaboot_p#/../} ;;
            */../*)
                _mambaboot_f=${_mambaboot_p%%/../*}
                _mambaboot_p=${_mambaboot_f%/*}/${_mambaboot_p#*/../} ;;
            *) break ;;
        esac
    done
    _mambaboot_p=${_mambaboot_p%/}
    if [ -z "$_mambaboot_p" ]; then _mambaboot_p=/; fi
    if [ ! -d "$_mambaboot_p/conda-meta" ] || [ ! "$_mambaboot_p/.mambaboot/activate.sh" -ef "$_mambaboot_src" ]; then
        _mambaboot_fail "$_mambaboot_src is not the activate.sh inside an environment's .mambaboot directory (source the file itself, not a link to it)"
        return 1
    fi
    case $_mambaboot_p in *:*)
        _mambaboot_fail "$_mambaboot_p holds a colon, PATH's separator, so its bin directory cannot go on PATH; move the environment"
        return 1 ;;
    esac
"""


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


def _activate_body(model: Model) -> List[str]:
    lines = [
        "_mambaboot_activate() {",
        f'    if [ -n "${{_mambaboot_active-}}" ]; then _mambaboot_fail "{still_active("$_mambaboot_active")}"; return 1; fi',
    ]
    for name in model.refuse_if_set:
        lines.append(f'    if [ -n "${{{name}-}}" ]; then _mambaboot_fail "{busy(f"{name}=${name}")}"; return 1; fi')
    lines += _LOCATE.strip("\n").split("\n")
    lines += _guard(model)
    for name in model.saved():
        lines.append(f'    if [ -n "${{{name}+x}}" ]; then {_V}had_{name}=1; {_V}old_{name}=${name}; else {_V}had_{name}=; fi')
    values = {
        "PATH": "\"" + ":".join(f"$_mambaboot_p{s}" for s in model.path_suffixes) + '${PATH:+:$PATH}"',
        "CONDA_PREFIX": '"$_mambaboot_p"',
        "CONDA_SHLVL": "1",
        "CONDA_DEFAULT_ENV": '"$_mambaboot_p"',
        "CONDA_PROMPT_MODIFIER": '"($_mambaboot_p) "',
        "MAMBA_ROOT_PREFIX": '"$_mambaboot_p"',
    }
    lines += [f"    export {name}={value}" for name, value in values.items()]
    lines += [f"    export {name}={quote(value)}" for name, value in model.sets]
    lines += [f"    unset {name}" for name in model.unsets]
    lines += [
        # The prompt shows the path literally: bash, dash and ksh expand $ and `...` in PS1 each time
        # they draw it, but not inside a variable's value, so PS1 names the variable; zsh expands
        # only %, which is doubled (and names the variable too when PROMPT_SUBST is on).
        f'    if [ -n "${{PS1+x}}" ]; then {_V}old_PS1=$PS1; {_V}prompt=$CONDA_PROMPT_MODIFIER',
        "        if [ -n \"${ZSH_VERSION-}\" ] && eval '_mambaboot_prompt=${_mambaboot_prompt//\\%/%%}; ! [[ -o promptsubst ]]'",
        f"        then PS1=${_V}prompt$PS1; else PS1='${{{_V}prompt-}}'$PS1; fi",
        "    fi",
        f"    {_V}active=$_mambaboot_p",
        "}",
    ]
    return lines


def _deactivate_function(model: Model) -> List[str]:
    lines = ["    _mambaboot_deactivate() {"]
    lines += [f'        . "${_V}active/etc/conda/deactivate.d/"{quote(n)}' for n in model.hooks("deactivate", ".sh")]
    for name in model.saved():
        lines.append(f'        if [ -n "${{{_V}had_{name}-}}" ]; then export {name}="${_V}old_{name}"; else unset {name}; fi')
        lines.append(f"        unset {_V}had_{name} {_V}old_{name}")
    lines += [
        f'        if [ -n "${{{_V}old_PS1+x}}" ]; then PS1=${_V}old_PS1; unset {_V}old_PS1 {_V}prompt; fi',
        f"        unset {_V}active",
        "        unset -f _mambaboot_deactivate",
        "    }",
    ]
    return lines


def _activate(model: Model) -> List[str]:
    lines = model.header("#", _usage())
    lines += [
        "",
        '# Executing this file would activate a child process that exits at once: say so instead.',
        'if { [ -n "${BASH_VERSION-}" ] && [ "${BASH_SOURCE-}" = "$0" ]; } || [ "${ZSH_EVAL_CONTEXT-}" = toplevel ]; then',
        '    printf "mambaboot: source this file, do not run it: . %s\\n" "$0" >&2',
        "    exit 2",
        "fi",
    ]
    lines += _HELPERS.rstrip("\n").split("\n")
    lines.append("")
    lines += _activate_body(model)
    lines += ["", "if _mambaboot_activate; then", "    _mambaboot_rc=0"]
    lines += _deactivate_function(model)
    lines += [f'    . "${_V}active/etc/conda/activate.d/"{quote(n)}' for n in model.hooks("activate", ".sh")]
    lines += [
        "else",
        "    _mambaboot_rc=1",
        "fi",
        "unset -f _mambaboot_activate _mambaboot_read _mambaboot_count _mambaboot_fail",
        "unset _mambaboot_src _mambaboot_p _mambaboot_c _mambaboot_l _mambaboot_n _mambaboot_f _mambaboot_stale",
        'case $_mambaboot_rc in 0) unset _mambaboot_rc ;; *) unset _mambaboot_rc; false ;; esac',
    ]
    return lines


def _deactivate(model: Model) -> List[str]:
    lines = model.header("#", _usage())
    lines += [
        "",
        "if command -v _mambaboot_deactivate >/dev/null 2>&1; then",
        "    _mambaboot_deactivate",
        "else",
        f"    printf 'mambaboot: %s\\n' {quote(NOT_ACTIVE)} >&2",
        "    false",
        "fi",
    ]
    return lines


def render(model: Model) -> Dict[str, bytes]:
    return encode({ACTIVATE: _activate(model), DEACTIVATE: _deactivate(model)})
