"""fish activation: activate.fish and deactivate.fish.

fish says which file it is sourcing (`status current-filename`), so the script finds the
environment from its own location; only fish builtins run (string, set, test, source).
"""

from typing import Dict, List

from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, still_active

ACTIVATE = "activate.fish"
DEACTIVATE = "deactivate.fish"
_V = "_mambaboot_"


def quote(value: str) -> str:
    """A single fish word that expands to exactly `value` (any text without NUL)."""
    if "\0" in value:
        raise ValueError("a fish variable cannot hold a NUL character")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def file_text(content: str) -> str:
    """What `string collect` yields for a file holding `content` (trailing newlines trimmed)."""
    return content.rstrip("\n")


def _usage() -> List[str]:
    return ["source /path/to/env/.mambaboot/activate.fish", "undo: source /path/to/env/.mambaboot/deactivate.fish"]


_LOCATE = r"""
    set -l src $argv[1]
    if not string match -q -- '/*' $src
        set src $PWD/$src
    end
    # logical normalisation, as `cd` would do it: //, /./ and dir/../
    set -l _mambaboot_p (string replace -ra -- '/+' '/' $src/../../)
    set _mambaboot_p (string replace -ra -- '/\.(?=/)' '' $_mambaboot_p)
    while string match -qr -- '/[^/]+/\.\./' $_mambaboot_p
        set _mambaboot_p (string replace -r -- '/[^/]+/\.\./' '/' $_mambaboot_p)
    end
    set _mambaboot_p (string replace -r -- '^(/\.\.)+/' '/' $_mambaboot_p)
    set _mambaboot_p (string replace -r -- '(.)/$' '$1' $_mambaboot_p)
    if not test -d $_mambaboot_p/conda-meta; or not test -f $_mambaboot_p/.mambaboot/activate.fish
        _mambaboot_fail "$src is not the activate.fish inside an environment's .mambaboot directory (source the file itself, not a link to it)"
        return 1
    end
    if string match -q -- '*:*' $_mambaboot_p
        _mambaboot_fail "$_mambaboot_p holds a colon, PATH's separator, so its bin directory cannot go on PATH; move the environment"
        return 1
    end
"""


def _guard(model: Model) -> List[str]:
    lines = ["    set -l stale"]
    for rel, text in model.data_text():
        path = f"$_mambaboot_p/{rel}"
        if text is None:
            lines.append(f"    test -e {path}; and set stale {quote(rel)}")
        else:
            lines += [
                f"    if test -f {path}; and test -r {path}",
                f"        set -l content (string collect < {path})",
                f'        test "$content" = {quote(file_text(text))}; or set stale {quote(rel)}',
                "    else",
                f"        set stale {quote(rel)}",
                "    end",
            ]
    for directory, ext, names in model.listings(".fish"):
        lines.append(f"    set -l found $_mambaboot_p/{directory}/*{ext}")
        checks = [f"test (count $found) -ne {len(names)}"] + [f"not test -f $_mambaboot_p/{directory}/{quote(n)}" for n in names]
        lines.append(f"    if {'; or '.join(checks)}")
        lines += [f"        set stale {quote(directory)}", "    end"]
    lines += [
        "    if test -n \"$stale\"",
        f'        _mambaboot_fail "$stale {STALE} $_mambaboot_p"',
        "        return 1",
        "    end",
    ]
    return lines


def _deactivate_function(model: Model) -> List[str]:
    lines = ["function _mambaboot_deactivate"]
    lines += [f"    source $_mambaboot_active/etc/conda/deactivate.d/{quote(n)}" for n in model.hooks("deactivate", ".fish")]
    for name in model.saved():
        lines += [
            f"    if set -q -g {_V}had_{name}",
            f"        set -gx {name} ${_V}old_{name}",
            "    else",
            f"        set -e -g {name}",
            "    end",
            f"    set -e -g {_V}had_{name}",
            f"    set -e -g {_V}old_{name}",
        ]
    return lines + [
        "    if functions -q _mambaboot_old_fish_prompt",
        "        functions -e fish_prompt _mambaboot_status",
        "        functions -c _mambaboot_old_fish_prompt fish_prompt",
        "        functions -e _mambaboot_old_fish_prompt",
        "    end",
        "    set -e -g _mambaboot_active",
        "    functions -e _mambaboot_deactivate",
        "end",
    ]


def _activate(model: Model) -> List[str]:
    lines = model.header("#", _usage())
    lines += [
        "",
        "function _mambaboot_fail",
        "    printf 'mambaboot: %s\\n' $argv[1] >&2",
        "end",
        "",
        "function _mambaboot_activate",
        "    if set -q _mambaboot_active",
        f'        _mambaboot_fail "{still_active("$_mambaboot_active")}"',
        "        return 1",
        "    end",
    ]
    for name in model.refuse_if_set:
        lines += [
            f'    if test -n "${name}"',
            f'        _mambaboot_fail "{busy(f"{name}=${name}")}"',
            "        return 1",
            "    end",
        ]
    lines += _LOCATE.strip("\n").split("\n")
    lines += _guard(model)
    for name in model.saved():
        lines.append(f"    if set -q -g {name}; set -g {_V}had_{name} 1; set -g {_V}old_{name} ${name}; end")
    path = " ".join(f"$_mambaboot_p{s}" for s in model.path_suffixes)
    lines += [
        f"    set -gx PATH {path} $PATH",
        "    set -gx CONDA_PREFIX $_mambaboot_p",
        "    set -gx CONDA_SHLVL 1",
        "    set -gx CONDA_DEFAULT_ENV $_mambaboot_p",
        '    set -gx CONDA_PROMPT_MODIFIER "($_mambaboot_p) "',
        "    set -gx MAMBA_ROOT_PREFIX $_mambaboot_p",
    ]
    lines += [f"    set -gx {name} {quote(value)}" for name, value in model.sets]
    lines += [f"    set -e -g {name}" for name in model.unsets]
    lines += [
        "    if functions -q fish_prompt",
        "        functions -c fish_prompt _mambaboot_old_fish_prompt",
        "        function fish_prompt",
        "            set -l last $status",
        "            printf '%s' $CONDA_PROMPT_MODIFIER",
        "            _mambaboot_status $last",
        "            _mambaboot_old_fish_prompt",
        "        end",
        "        function _mambaboot_status",
        "            return $argv[1]",
        "        end",
        "    end",
        "    set -g _mambaboot_active $_mambaboot_p",
        "end",
        "",
        "if _mambaboot_activate (status current-filename)",
    ]
    lines += ["    " + line for line in _deactivate_function(model)]
    lines += [f"    source $_mambaboot_active/etc/conda/activate.d/{quote(n)}" for n in model.hooks("activate", ".fish")]
    lines += [
        "    functions -e _mambaboot_activate _mambaboot_fail",
        "else",
        "    functions -e _mambaboot_activate _mambaboot_fail",
        "    false",
        "end",
    ]
    return lines


def _deactivate(model: Model) -> List[str]:
    lines = model.header("#", _usage())
    lines += [
        "",
        "if functions -q _mambaboot_deactivate; and set -q _mambaboot_active",
        "    _mambaboot_deactivate",
        "else",
        f"    printf 'mambaboot: %s\\n' {quote(NOT_ACTIVE)} >&2",
        "    false",
        "end",
    ]
    return lines


def render(model: Model) -> Dict[str, bytes]:
    return encode({ACTIVATE: _activate(model), DEACTIVATE: _deactivate(model)})
