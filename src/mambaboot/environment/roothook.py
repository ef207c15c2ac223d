"""The environment as its own mamba's root prefix, under any activation that runs etc/conda hooks.

libmamba (mamba 2.x) takes its root prefix from `-r/--root-prefix`, else MAMBA_ROOT_PREFIX, else
MAMBA_DEFAULT_ROOT_PREFIX, else from where libmamba itself lies: the environment holding
`lib/libmamba.so` (Windows: `Library/bin/libmamba.dll`), or rather, since 2.0.6, that
environment's parent's parent whenever that holds pkgs/, conda-meta/ or envs/, both resolved
with weakly_canonical (`get_root_prefix()` in libmamba/src/api/configuration.cpp, 2.8.1). So
every environment in a directory named `envs` gets the directory above as its mamba's root:
that directory's .condarc, its pkgs/ cache, and with no environment active it is also the
target. No rc file can say otherwise: the `root_prefix` Configurable has
`set_env_var_names()` but no `set_rc_configurable()`.

conda's activation sets its variables, then runs PREFIX/etc/conda/activate.d/*<ext> for its
shell (`.sh` for the POSIX shells, and xonsh off Windows; `.fish`, `.bat` for cmd.exe, `.ps1`
for PowerShell, `.csh`); deactivation runs deactivate.d/*<ext> first, in reverse, then unsets
(`_get_activate_scripts`, `_yield_commands`, `script_extension` in conda/activate.py, 26.7.1).
mamba's own activation does the same (`get_activate_scripts` in libmamba/src/core/activation.cpp),
and so do mambaboot's scripts. The hooks written here export MAMBA_ROOT_PREFIX=$CONDA_PREFIX
while the environment is active and put the shell's own value back afterwards, for the shells
mambaboot writes activation scripts for (no csh). They hold no path, so a moved, renamed or
unpacked environment needs nothing.

The shell's value is saved in _MAMBABOOT_ROOT_HAD (1 or 0) and _MAMBABOOT_ROOT_OLD by the first
activation that finds none saved, and put back (both dropped) by the deactivation. Saving only
then keeps conda's stacking exact: `conda activate --stack B` runs none of A's deactivate.d, and
deactivating B runs B's deactivate.d, then A's activate.d again. They are exported, as conda's own
saved values (`__CONDA_SHLVL_<n>_<name>`) are, so a shell started from the activated one
deactivates exactly too; mambaboot's children never see them (shell/isolation.py).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import confined

NAME = "~mambaboot-root"  # `~`: after the packages' hooks on activation, before them on deactivation
ACTIVATE_DIR = "etc/conda/activate.d"
DEACTIVATE_DIR = "etc/conda/deactivate.d"
DIRECTORIES = (ACTIVATE_DIR, DEACTIVATE_DIR, "etc/conda", "etc")  # the hooks' own and those above, deepest first
# The shells whose activation scripts mambaboot writes for such an environment (shell/activation/generate.py)
EXTENSIONS = {False: (".sh", ".fish", ".ps1"), True: (".bat", ".ps1")}
# libmamba >= 2.0.6 looks at the grandparent; 2.0.0 to 2.0.5 took the grandparent of the first `mamba`
# on PATH (`get_root_prefix_from_mamba_bin`), and 1.x took conda's root prefix, the environment itself.
GRANDPARENT_RULE = (2, 0, 6)
MARKERS = ("pkgs", "conda-meta", "envs")  # `validate_existing_root_prefix`

_HEAD = ("Written by mambaboot. While an activation (conda's, mamba's, mambaboot's) holds this environment, "
         "MAMBA_ROOT_PREFIX names it, so its mamba 2.x takes it as its root prefix: without that variable "
         "libmamba 2.0.6 and later takes the environment's grandparent when that holds pkgs/, conda-meta/ or envs/. "
         "The shell's own value is kept in _MAMBABOOT_ROOT_HAD/_MAMBABOOT_ROOT_OLD (by the first activation: "
         "a stacked one keeps it) and put back on deactivation.")

_SH_ACTIVATE = """\
if [ -n "${CONDA_PREFIX-}" ]; then
    if [ -z "${_MAMBABOOT_ROOT_HAD-}" ]; then
        if [ -n "${MAMBA_ROOT_PREFIX+x}" ]; then
            export _MAMBABOOT_ROOT_HAD=1 _MAMBABOOT_ROOT_OLD="$MAMBA_ROOT_PREFIX"
        else
            export _MAMBABOOT_ROOT_HAD=0
        fi
    fi
    export MAMBA_ROOT_PREFIX="$CONDA_PREFIX"
fi
true
"""
_SH_DEACTIVATE = """\
case ${_MAMBABOOT_ROOT_HAD-} in
    1) export MAMBA_ROOT_PREFIX="${_MAMBABOOT_ROOT_OLD-}" ;;
    0) unset MAMBA_ROOT_PREFIX ;;
esac
unset _MAMBABOOT_ROOT_HAD _MAMBABOOT_ROOT_OLD
true
"""
# -g: the global variable, as activate.fish saves it; a universal one shows through again once it is erased
_FISH_ACTIVATE = """\
if set -q CONDA_PREFIX; and test -n "$CONDA_PREFIX"
    if not set -q -g _MAMBABOOT_ROOT_HAD
        if set -q -g MAMBA_ROOT_PREFIX
            set -gx _MAMBABOOT_ROOT_HAD 1
            set -gx _MAMBABOOT_ROOT_OLD $MAMBA_ROOT_PREFIX
        else
            set -gx _MAMBABOOT_ROOT_HAD 0
        end
    end
    set -gx MAMBA_ROOT_PREFIX $CONDA_PREFIX
end
true
"""
_FISH_DEACTIVATE = """\
if set -q -g _MAMBABOOT_ROOT_HAD
    if test "$_MAMBABOOT_ROOT_HAD" = 1
        set -gx MAMBA_ROOT_PREFIX $_MAMBABOOT_ROOT_OLD
    else
        set -e -g MAMBA_ROOT_PREFIX
    end
    set -e -g _MAMBABOOT_ROOT_HAD
    set -e -g _MAMBABOOT_ROOT_OLD
end
true
"""
# Dot-sourced (conda's `. "script"`): the script block keeps its variables out of the caller's scope.
# The Env: drive only, no .NET method: conda's and mamba's PowerShell activation run this file in the
# session's language mode, and ConstrainedLanguage (AppLocker, App Control) refuses a method call on any
# type but a few core ones (about_Language_Modes). An absent variable is no item there (read through
# the pipeline, as Set-StrictMode -Version 2 throws on a member of $null), and Windows keeps no empty one.
_PS1_ACTIVATE = """\
& {
    $prefix = Get-Item -LiteralPath 'Env:CONDA_PREFIX' -ErrorAction SilentlyContinue | ForEach-Object { $_.Value }
    if (-not $prefix) { return }
    if (-not (Test-Path -LiteralPath 'Env:_MAMBABOOT_ROOT_HAD')) {
        $old = Get-Item -LiteralPath 'Env:MAMBA_ROOT_PREFIX' -ErrorAction SilentlyContinue | ForEach-Object { $_.Value }
        if ($null -eq $old) {
            Set-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_HAD' -Value '0'
        } else {
            Set-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_HAD' -Value '1'
            Set-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_OLD' -Value $old
        }
    }
    Set-Item -LiteralPath 'Env:MAMBA_ROOT_PREFIX' -Value $prefix
}
"""
_PS1_DEACTIVATE = """\
& {
    $had = Get-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_HAD' -ErrorAction SilentlyContinue | ForEach-Object { $_.Value }
    if ($null -eq $had) { return }
    $old = Get-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_OLD' -ErrorAction SilentlyContinue | ForEach-Object { $_.Value }
    if ($had -eq '1' -and $old) {
        Set-Item -LiteralPath 'Env:MAMBA_ROOT_PREFIX' -Value $old
    } else {
        Remove-Item -LiteralPath 'Env:MAMBA_ROOT_PREFIX' -ErrorAction SilentlyContinue
    }
    Remove-Item -LiteralPath 'Env:_MAMBABOOT_ROOT_HAD', 'Env:_MAMBABOOT_ROOT_OLD' -ErrorAction SilentlyContinue
}
"""
# cmd: conda runs each hook as `CALL "script" || (fail the activation)` (conda/shell/condabin/
# _conda_activate.bat), so every way out is EXIT /B 0. A value is copied with !VAR! when the
# caller has delayed expansion on (%VAR% would lose its "!"), else with %VAR% inside quotes,
# which keeps & | < > ^ ( ) of a path; no block, whose text %VAR% would expand before it runs.
_BAT_ACTIVATE = """\
@IF NOT DEFINED CONDA_PREFIX EXIT /B 0
@IF DEFINED _MAMBABOOT_ROOT_HAD GOTO _mambaboot_root_set
@SET "_MAMBABOOT_ROOT_HAD=0"
@IF NOT DEFINED MAMBA_ROOT_PREFIX GOTO _mambaboot_root_set
@SET "_MAMBABOOT_ROOT_HAD=1"
@IF "!!"=="" GOTO _mambaboot_root_keep_delayed
@SET "_MAMBABOOT_ROOT_OLD=%MAMBA_ROOT_PREFIX%"
@GOTO _mambaboot_root_set
:_mambaboot_root_keep_delayed
@SET "_MAMBABOOT_ROOT_OLD=!MAMBA_ROOT_PREFIX!"
:_mambaboot_root_set
@IF "!!"=="" GOTO _mambaboot_root_set_delayed
@SET "MAMBA_ROOT_PREFIX=%CONDA_PREFIX%"
@EXIT /B 0
:_mambaboot_root_set_delayed
@SET "MAMBA_ROOT_PREFIX=!CONDA_PREFIX!"
@EXIT /B 0
"""
_BAT_DEACTIVATE = """\
@IF NOT DEFINED _MAMBABOOT_ROOT_HAD EXIT /B 0
@IF NOT "%_MAMBABOOT_ROOT_HAD%"=="1" GOTO _mambaboot_root_unset
@IF "!!"=="" GOTO _mambaboot_root_back_delayed
@SET "MAMBA_ROOT_PREFIX=%_MAMBABOOT_ROOT_OLD%"
@GOTO _mambaboot_root_done
:_mambaboot_root_back_delayed
@SET "MAMBA_ROOT_PREFIX=!_MAMBABOOT_ROOT_OLD!"
@GOTO _mambaboot_root_done
:_mambaboot_root_unset
@SET "MAMBA_ROOT_PREFIX="
:_mambaboot_root_done
@SET "_MAMBABOOT_ROOT_HAD="
@SET "_MAMBABOOT_ROOT_OLD="
@EXIT /B 0
"""
# extension -> (comment leader, newline, activate body, deactivate body)
_SCRIPTS = {
    ".sh": ("#", "\n", _SH_ACTIVATE, _SH_DEACTIVATE),
    ".fish": ("#", "\n", _FISH_ACTIVATE, _FISH_DEACTIVATE),
    ".ps1": ("#", "\r\n", _PS1_ACTIVATE, _PS1_DEACTIVATE),
    ".bat": ("@REM", "\r\n", _BAT_ACTIVATE, _BAT_DEACTIVATE),
}


def _comment(leader: str, text: str, width: int = 96) -> list[str]:
    lines, line = [], leader
    for word in text.split():
        if len(line) + 1 + len(word) > width and line != leader:
            lines.append(line)
            line = leader
        line += " " + word
    return lines + [line]


def render(windows: bool) -> dict[str, bytes]:
    """Relative path (with '/') -> content of each hook for an environment of this layout."""
    hooks = {}
    for ext in EXTENSIONS[windows]:
        leader, newline, activate, deactivate = _SCRIPTS[ext]
        for directory, body in ((ACTIVATE_DIR, activate), (DEACTIVATE_DIR, deactivate)):
            lines = _comment(leader, _HEAD) + body.splitlines()
            hooks[f"{directory}/{NAME}{ext}"] = (newline.join(lines) + newline).encode("ascii")
    return hooks


def write(prefix: str, windows: bool, dry_run: bool = False, sync: bool = True) -> list[str]:
    """Write (or with dry_run only name) the hooks; returns their relative paths. A file of that
    name is mambaboot's own and is written again, so it always says what this version says."""
    hooks = render(windows)
    if not dry_run:  # below the prefix never through a link: a linked activate.d is someone else's, and
        # a directory mounted there elsewhere's, as a link is: both directories checked against one mount table
        confined.write_many_in(prefix, hooks.items(), mode=confined.user_mode(0o666), sync=sync)
    return sorted(hooks)


def missing(prefix: str, windows: bool) -> list[str]:
    """What write() would add: the hook files, then the directories, that are not there now
    (relative to prefix, with '/')."""
    hooks = list(render(windows))
    with confined.Root.open(prefix) as root:
        return [p for p in hooks + list(DIRECTORIES) if not root.exists(p)]  # deepest first


def take_back(prefix: str, paths: list[str]) -> None:
    """Remove what write() added of missing()'s list: the hook files (their name is this module's
    own), then the directories it made, each only while empty (rmdir takes nothing with it)."""
    with confined.Root.open(prefix) as root:
        for rel in paths:
            try:
                if is_own(rel.rpartition("/")[2]):
                    root.unlink(rel)
                else:
                    root.rmdir(rel)
            except OSError:  # gone already, or a directory something else put a file into meanwhile: it stays
                pass


def is_own(name: str) -> bool:
    """Whether a hook file's name is one of these (for callers that set the variable themselves)."""
    return os.path.splitext(name)[0] == NAME


def present(prefix: str, windows: bool) -> bool:
    return all(os.path.isfile(os.path.join(prefix, *rel.split("/"))) for rel in render(windows))


def _version(text: str) -> tuple[int, ...]:
    """'2.8.1' -> (2, 8, 1): the leading digits of each dot-separated part, up to the first part without any."""
    parts = []
    for part in text.split("."):
        digits = ""
        for c in part:
            if not c.isdigit():
                break
            digits += c
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def mamba_version(prefix: str) -> tuple[int, ...] | None:
    """The version of the libmamba (else mamba) package installed in prefix, from its conda-meta
    record's name NAME-VERSION-BUILD.json; None without either."""
    try:
        names = os.listdir(os.path.join(prefix, "conda-meta"))
    except OSError:
        return None
    found = {}
    for name in names:
        if name.endswith(".json") and name.count("-") >= 2:
            package, version, _ = name[:-len(".json")].rsplit("-", 2)
            if package in ("libmamba", "mamba"):
                found[package] = _version(version)
    return found.get("libmamba", found.get("mamba"))


def libmamba_root(prefix: str) -> str:
    """The root prefix libmamba 2.8.1 installed in prefix takes without -r or MAMBA_ROOT_PREFIX:
    the grandparent when it holds pkgs/, conda-meta/ or envs/, else the environment (the shared
    libmamba conda-forge ships is built with MAMBA_USE_INSTALL_PREFIX_AS_BASE). realpath resolves
    links as weakly_canonical does; `fs::exists` follows them too."""
    own = os.path.realpath(prefix)
    grandparent = os.path.realpath(os.path.dirname(os.path.dirname(own)))
    return grandparent if holds_markers(grandparent) else own


def holds_markers(directory: str) -> list[str]:
    return [m for m in MARKERS if os.path.exists(os.path.join(directory, m))]
