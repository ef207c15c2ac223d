"""fish activation: activate.fish and deactivate.fish.

fish says which file it is sourcing (`status current-filename`), so the script finds the
environment from its own location; only fish builtins run (string, set, test, source).
"""

from typing import Dict, List

from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

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


def _activate(model: Model) -> List[str]:
    save, restore, refuse = [], [], []
    for name in model.saved():
        save.append(f"    if set -q -g {name}; set -g {_V}had_{name} 1; set -g {_V}old_{name} ${name}; end")
        restore += [
            f"        if set -q -g {_V}had_{name}",
            f"            set -gx {name} ${_V}old_{name}",
            "        else",
            f"            set -e -g {name}",
            "        end",
            f"        set -e -g {_V}had_{name}",
            f"        set -e -g {_V}old_{name}",
        ]
    for name in model.refuse_if_set:
        refuse += [f'    if test -n "${name}"', f'        _mambaboot_fail "{busy(f"{name}=${name}")}"', "        return 1", "    end"]
    path = " ".join(f"$_mambaboot_p{s}" for s in model.path_suffixes)
    sets = [
        f"    set -gx PATH {path} $PATH",
        "    set -gx CONDA_PREFIX $_mambaboot_p",
        "    set -gx CONDA_SHLVL 1",
        "    set -gx CONDA_DEFAULT_ENV $_mambaboot_p",
        '    set -gx CONDA_PROMPT_MODIFIER "($_mambaboot_p) "',
        "    set -gx MAMBA_ROOT_PREFIX $_mambaboot_p",
    ]
    sets += [f"    set -gx {name} {quote(value)}" for name, value in model.sets]
    sets += [f"    set -e -g {name}" for name in model.unsets]
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$_mambaboot_active"), REFUSE=refuse,
        GUARD=_guard(model), SAVE=save, SETS=sets, RESTORE=restore,
        DEACTIVATE_HOOKS=[f"        source $_mambaboot_active/etc/conda/deactivate.d/{quote(n)}" for n in model.hooks("deactivate", ".fish")],
        ACTIVATE_HOOKS=[f"    source $_mambaboot_active/etc/conda/activate.d/{quote(n)}" for n in model.hooks("activate", ".fish")],
    )


def render(model: Model) -> Dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote(NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate})
