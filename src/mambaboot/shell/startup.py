"""`mambaboot shell`: the user's own start-up files first, then the environment, then a check.

An interactive shell reads the user's start-up files after it starts: `eval "$(pyenv init -)"`,
a `conda init` block, `mise activate` or an `export PATH=...` there put another Python in front
of the environment the shell was started with. So, as `pixi shell` and conda-spawn do, the shell
starts with start-up files of ours, written into a private directory this run makes (removed
after the shell exits): they run the user's own files and then make the environment first again.

- bash: `--rcfile OURS -i`; ours sources ~/.bashrc (what an interactive non-login bash reads
  without --rcfile; /etc/bash.bashrc is read before either, bash's SYS_BASHRC).
- zsh: ZDOTDIR=ours. Our .zshenv runs the user's .zshenv ($ZDOTDIR, else HOME, as zsh looks)
  with the user's ZDOTDIR in place, remembers what it leaves ZDOTDIR as, and points zsh back at
  ours; our .zshrc restores the user's ZDOTDIR, runs their .zshrc, then activates. zsh reads
  .zprofile/.zlogin only for login shells, which this is not.
- fish: `--init-command` runs before config.fish and conf.d, so it only defines a handler for
  the first `fish_prompt` event (emitted before each prompt is drawn, after every config file):
  that handler activates, once.
- cmd.exe: `/K` runs our batch file after the AutoRun commands (cmd runs AutoRun first unless /D).
- PowerShell: `-NoExit -Command` runs our script after the profiles.

"Activates" means: every conda/mamba/Python variable the start-up files exported is dropped, the
environment's variables (environ.activated, the same `run` gives) are set, PATH becomes the
environment's directories followed by what the start-up left in PATH minus other environments,
its activate.d hooks run, and the prompt gets `(NAME) ` (after a conda-initialised base's
`(base) ` is taken off). Before the first prompt (after prompt hooks such as mise's have run)
`python` is checked, in every shell by its own rules (cmd.exe: the current directory, then PATH,
each by PATHEXT; PowerShell: aliases and functions, then PATH): anything but the environment's
prints a loud warning naming the start-up lines doctor recognises and the way to fix them.
"""

import os
import tempfile

from mambaboot.common import isolation

from mambaboot.common.files import confined, workdir
from mambaboot.shell.activation import environ
from mambaboot.common import quoting

SHELL = "shell"  # the kind of the start-up files' work directory, in the temporary directory
# What each kind of shell is called, by its program's base name (lower-case, without .exe).
KINDS = {"bash": "bash", "zsh": "zsh", "fish": "fish", "cmd": "cmd", "powershell": "powershell", "pwsh": "powershell"}


def kind(program: str, windows: bool):  # -> str or None
    name = program.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name.endswith(".exe"):
        name = name[:-4]
    return KINDS.get(name)


class Startup:
    """A shell's start-up directory of ours: argv to run, the environment for it, and the
    directory (a work directory of the run: common/files/workdir.py) to remove once the shell has exited."""

    __slots__ = ("argv", "env", "directory", "work")

    def __init__(self, argv: list, env: dict, work: workdir.WorkDir):
        self.argv, self.env, self.directory, self.work = argv, env, work.path, work

    def remove(self) -> None:
        self.work.__exit__()


def _write(directory: str, name: str, text: str) -> str:
    if name.endswith(".bat"):
        text = text.replace("\n", "\r\n")
    confined.write_in(directory, name, text.encode("utf-8"), mode=0o600, sync=False)
    return os.path.join(directory, name)


def _activated(base: dict, env: dict) -> dict:
    """What activation sets on top of the baseline (PATH aside)."""
    return {k: v for k, v in env.items() if k.upper() != "PATH" and base.get(k) != v}


def _python(prefix: str, windows: bool) -> str:
    if windows:
        import ntpath

        return ntpath.join(prefix, "python.exe")
    return os.path.join(prefix, "bin", "python")


def _scrub_pattern() -> str:
    return "|".join([*(p + "*" for p in isolation.SCRUB_PREFIXES), *isolation.SCRUB_NAMES])


def _scrub_regex() -> str:
    """The scrubbed variables' names as a regular expression's alternatives, anchored by the caller's "^(...)"."""
    return "|".join([*isolation.SCRUB_PREFIXES, *(n + "$" for n in isolation.SCRUB_NAMES)])


def prepare(kind_: str, program: str, prefix: str, base: dict, env: dict, hooks: list, warning: str,
            windows: bool) -> Startup:
    """The shell `program` (of kind_) started with our start-up after the user's: env is what
    `run` would give it, base the clean baseline it was made from, hooks the activate.d scripts
    to source, warning the text naming the start-up lines that put another Python first."""
    work = workdir.WorkDir(tempfile.gettempdir(), SHELL)
    directory = work.__enter__()
    try:
        values = _activated(base, env)
        entries = environ.path_entries(prefix, windows, environ.msys2_variant(prefix, windows))
        if kind_ in ("bash", "zsh"):
            body = _posix(kind_, prefix, values, entries, hooks, warning)
            if kind_ == "bash":
                rc = _write(directory, "bashrc", '[ -f ~/.bashrc ] && . ~/.bashrc\n' + body)
                argv = [program, "--rcfile", rc, "-i"]
            else:
                argv = [program, "-i"]
                env = dict(env, ZDOTDIR=directory)
                _zsh(directory, base.get("ZDOTDIR"), body)
        elif kind_ == "fish":
            script = _write(directory, "startup.fish", _fish(prefix, values, entries, hooks, warning))
            handler = (f"function _mambaboot_startup --on-event fish_prompt; functions -e _mambaboot_startup; "
                       f"source {quoting.fish(script)}; end")
            argv = [program, "--init-command", handler]
        elif kind_ == "cmd":
            script = _write(directory, "activate.bat", _cmd(prefix, values, entries, warning))
            argv = [program, "/K", f'"{script}"']
        else:
            script = _write(directory, "activate.ps1", _powershell(prefix, values, entries, ";" if windows else ":",
                                                                   _python(prefix, windows), warning))
            argv = [program, "-NoExit", "-Command", ". " + quoting.powershell(script)]
        return Startup(argv, env, work)
    except BaseException:
        work.__exit__()
        raise


def _zsh(directory: str, user_zdotdir, body: str) -> None:
    keep = (f"_mambaboot_zdotdir={quoting.sh(user_zdotdir)}; ZDOTDIR=$_mambaboot_zdotdir" if user_zdotdir is not None
            else "unset _mambaboot_zdotdir; unset ZDOTDIR")
    restore = ('if [ -n "${_mambaboot_zdotdir+x}" ]; then ZDOTDIR=$_mambaboot_zdotdir; else unset ZDOTDIR; fi; '
               "unset _mambaboot_zdotdir")
    _write(directory, ".zshenv",
           f"_mambaboot_own={quoting.sh(directory)}\n{keep}\n"
           '[ -f "${ZDOTDIR:-$HOME}/.zshenv" ] && . "${ZDOTDIR:-$HOME}/.zshenv"\n'
           # whatever the user's .zshenv left ZDOTDIR as is where their .zshrc is read from
           'if [ -n "${ZDOTDIR+x}" ]; then _mambaboot_zdotdir=$ZDOTDIR; else unset _mambaboot_zdotdir; fi\n'
           "ZDOTDIR=$_mambaboot_own; unset _mambaboot_own\n")
    _write(directory, ".zshrc", restore + "\n"
           '[ -f "${ZDOTDIR:-$HOME}/.zshrc" ] && . "${ZDOTDIR:-$HOME}/.zshrc"\n' + body)


def _posix(kind_: str, prefix: str, values: dict, entries: list, hooks: list, warning: str) -> str:
    ours = ":".join(entries)
    exported = "$(compgen -e)" if kind_ == "bash" else "${(k)parameters[(R)*export*]}"
    lines = [
        "_mambaboot_modifier=${CONDA_PROMPT_MODIFIER-}",
        f"for _mambaboot_v in {exported}; do",
        f"    case $_mambaboot_v in {_scrub_pattern()}) unset \"$_mambaboot_v\" ;; esac",
        "done",
        *(f"export {k}={quoting.sh(v)}" for k, v in sorted(values.items())),
        # the environment first, then what the start-up left on PATH but other environments
        f"_mambaboot_ours={quoting.sh(ours)}; _mambaboot_keep=; _mambaboot_rest=$PATH:",
        'while [ -n "$_mambaboot_rest" ]; do',
        '    _mambaboot_e=${_mambaboot_rest%%:*}; _mambaboot_rest=${_mambaboot_rest#*:}',
        '    case ":$_mambaboot_ours:$_mambaboot_keep:" in *":$_mambaboot_e:"*) continue ;; esac',
        '    _mambaboot_r=${_mambaboot_e%/*}',
        '    if [ -d "$_mambaboot_e/conda-meta" ] || [ -f "$_mambaboot_e/pyvenv.cfg" ] || [ -d "$_mambaboot_r/conda-meta" ] '
        '|| [ -f "$_mambaboot_r/pyvenv.cfg" ]; then continue; fi',
        '    _mambaboot_keep=$_mambaboot_keep:$_mambaboot_e',
        "done",
        "export PATH=$_mambaboot_ours$_mambaboot_keep",
        "unset _mambaboot_v _mambaboot_ours _mambaboot_keep _mambaboot_rest _mambaboot_e _mambaboot_r",
        *(f". {quoting.sh(h)}" for h in hooks),
        # a conda-initialised base's "(base) " goes; the environment's name comes first
        'if [ -n "$_mambaboot_modifier" ]; then case $PS1 in "$_mambaboot_modifier"*) PS1=${PS1#"$_mambaboot_modifier"} ;; esac; fi',
        "unset _mambaboot_modifier",
        f"_mambaboot_prompt={quoting.sh(values.get('CONDA_PROMPT_MODIFIER', ''))}",
    ]
    if kind_ == "zsh":  # zsh expands only % in a prompt: doubled, as activate.sh does
        lines.append("PS1=${_mambaboot_prompt//\\%/%%}$PS1")
    else:  # bash expands $ and `...` in PS1 each time, not inside a variable's value
        lines.append("PS1='${_mambaboot_prompt-}'$PS1")
    python = _python(prefix, False)
    lines += [
        "_mambaboot_check() {",
        "    [ -z \"${_mambaboot_checked-}\" ] || return 0",
        "    _mambaboot_checked=1",
        "    _mambaboot_w=$(command -v python 2>/dev/null)",
        f"    if [ \"$_mambaboot_w\" != {quoting.sh(python)} ]; then",
        f"        printf '%s\\n' \"mambaboot: WARNING: \\`python\\` in this shell is ${{_mambaboot_w:-nothing}}, not the "
        f"environment's {_sh_text(python)}: a start-up file or a prompt hook put it first.\" "
        f"{quoting.sh(warning)} >&2",
        "    fi",
        "    unset _mambaboot_w",
        "}",
    ]
    if kind_ == "zsh":
        lines.append("precmd_functions=(${precmd_functions[@]} _mambaboot_check)")
    else:
        lines.append('PROMPT_COMMAND="${PROMPT_COMMAND:+$PROMPT_COMMAND;}_mambaboot_check"')
    return "\n".join(lines) + "\n"


def _sh_text(text: str) -> str:
    """text inside a double-quoted sh word."""
    return "".join("\\" + c if c in '"$`\\' else c for c in text)


def _fish(prefix: str, values: dict, entries: list, hooks: list, warning: str) -> str:
    python = _python(prefix, False)
    pattern = _scrub_regex()
    lines = [
        "for v in (set -xn)",
        f"    string match -qr -- {quoting.fish('^(' + pattern + ')')} $v; and set -e $v",
        "end",
        *(f"set -gx {k} {quoting.fish(v)}" for k, v in sorted(values.items())),
        f"set -l ours {' '.join(quoting.fish(e) for e in entries)}",
        "set -l keep",
        "for e in $PATH",
        "    contains -- $e $ours $keep; and continue",
        "    set -l r (string replace -r -- '/[^/]*$' '' $e)",
        "    if test -d $e/conda-meta; or test -f $e/pyvenv.cfg; or test -d $r/conda-meta; or test -f $r/pyvenv.cfg",
        "        continue",
        "    end",
        "    set -a keep $e",
        "end",
        "set -gx PATH $ours $keep",
        *(f"source {quoting.fish(h)}" for h in hooks),
        f"set -g _mambaboot_prompt {quoting.fish(values.get('CONDA_PROMPT_MODIFIER', ''))}",
        "if functions -q fish_prompt",
        "    functions -c fish_prompt _mambaboot_user_prompt",
        "    function fish_prompt",
        "        set -l last $status",
        "        printf '%s' $_mambaboot_prompt",
        "        _mambaboot_status $last",
        "        _mambaboot_user_prompt",
        "    end",
        "    function _mambaboot_status",
        "        return $argv[1]",
        "    end",
        "end",
        "set -l w (command -v python)",
        "functions -q python; and set w 'the function python'",
        f"if test \"$w\" != {quoting.fish(python)}",
        "    test -n \"$w\"; or set w nothing",
        f"    printf '%s\\n' \"mambaboot: WARNING: `python` in this shell is $w, not the environment's \"{quoting.fish(python)}"
        f"\": a start-up file or a prompt hook put it first.\" {quoting.fish(warning)} >&2",
        "end",
    ]
    return "\n".join(lines) + "\n"


# What the warning says in every shell: which python answers, and the environment's.
def _not_ours(found: str, python: str) -> str:
    return (f"mambaboot: WARNING: `python` in this shell is {found}, not the environment's {python}: "
            "a start-up file or a prompt hook put it first.")


def _cmd(prefix: str, values: dict, entries: list, warning: str = "") -> str:

    # The variables AutoRun left (a conda hook's CONDA_*, ...) are cleared first: every variable's
    # name is compared with each scrubbed prefix by a substring, which needs no delayed expansion
    # (`set PREFIX` listing them would print an error for a prefix nothing has, and its stderr
    # cannot be silenced inside `for /f` under Wine's cmd).
    tests = [f'if /i "%_MAMBABOOT_N:~0,{len(p)}%"=="{p}" set "%_MAMBABOOT_N%="' for p in isolation.SCRUB_PREFIXES]
    tests += [f'if /i "%_MAMBABOOT_N%"=="{n}" set "%_MAMBABOOT_N%="' for n in isolation.SCRUB_NAMES]
    lines = ["@echo off",
             'for /f "delims==" %%V in (\'set\') do call :_mambaboot_clear "%%V"',
             'set "_MAMBABOOT_N="',
             *(f"set {k}={quoting.cmd(v)}" for k, v in sorted(values.items())),
             f"set PATH={quoting.cmd(';'.join(entries))};%PATH%",
             'if not defined PROMPT set "PROMPT=$P$G"',
             f"set PROMPT={quoting.cmd(values.get('CONDA_PROMPT_MODIFIER', ''))}%PROMPT%",
             *_cmd_check(prefix, warning),
             "goto :eof",
             ":_mambaboot_clear",
             'set "_MAMBABOOT_N=%~1"',
             *tests]
    return "\r\n".join(lines) + "\r\n"


def _cmd_check(prefix: str, warning: str) -> list:
    """Which `python` cmd runs now, by cmd's own search: the current directory, then PATH, each
    directory by PATHEXT order. The environment is first on PATH here (AutoRun ran before this
    script, nothing runs after it), so only the current directory or the environment itself
    can answer; with neither holding one, the first python.exe on PATH is named."""
    python = _python(prefix, True)
    quoted = quoting.cmd_in_quotes(prefix)
    lines = ['set "_MAMBABOOT_X=%PATHEXT%"',
             'if not defined _MAMBABOOT_X set "_MAMBABOOT_X=.COM;.EXE;.BAT;.CMD"',
             'set "_MAMBABOOT_W="',
             'for %%E in (%_MAMBABOOT_X%) do if not defined _MAMBABOOT_W if exist "%CD%\\python%%E" '
             'set "_MAMBABOOT_W=%CD%\\python%%E"',
             f'for %%E in (%_MAMBABOOT_X%) do if not defined _MAMBABOOT_W if exist "{quoted}\\python%%E" '
             f'set "_MAMBABOOT_W={quoted}\\python%%E"',
             'if not defined _MAMBABOOT_W for %%I in (python.exe) do set "_MAMBABOOT_W=%%~$PATH:I"',
             'if not defined _MAMBABOOT_W set "_MAMBABOOT_W=nothing"',
             'set "_MAMBABOOT_X="',
             f'if /i "%_MAMBABOOT_W%"=="{quoting.cmd_in_quotes(python)}" goto _mambaboot_checked']
    # Printed with every operator escaped; the found path and the prefix go in as FOR variables,
    # which cmd substitutes after it has parsed the line (a % or & in them stays text).
    head, tail = _not_ours("\0", "\1").split("\0")
    middle, tail = tail.split("\1")
    lines.append(f'for %%W in ("%_MAMBABOOT_W%") do for %%P in ("{quoting.cmd_in_quotes(python)}") do '
                 f">&2 echo {quoting.cmd(head)}%%~W{quoting.cmd(middle)}%%~P{quoting.cmd(tail)}")
    # plain `echo TEXT`: every line is said by mambaboot, never empty, never `on`, `off` or `/?`
    lines += [f">&2 echo {quoting.cmd(text)}" for text in warning.splitlines() if text.strip()]
    lines += [":_mambaboot_checked", 'set "_MAMBABOOT_W="']
    return lines


def _powershell(prefix: str, values: dict, entries: list, sep: str, python: str = "", warning: str = "") -> str:
    lines = ["foreach ($v in @(Get-ChildItem Env:)) {",
             "    if ($v.Name -match " + quoting.powershell("^(" + _scrub_regex() + ")")
             + ") { [Environment]::SetEnvironmentVariable($v.Name, $null) }",
             "}",
             *(f"[Environment]::SetEnvironmentVariable({quoting.powershell(k)}, {quoting.powershell(v)})" for k, v in sorted(values.items())),
             f"$env:PATH = {quoting.powershell(sep.join(entries))} + [IO.Path]::PathSeparator + $env:PATH",
             "$global:_MambabootPrompt = $function:prompt",
             "if ($global:_MambabootPrompt) { function global:prompt { $env:CONDA_PROMPT_MODIFIER + (& $global:_MambabootPrompt) } }"]
    # Which `python` answers after the profiles: PowerShell's precedence (alias, function, cmdlet,
    # then PATH, each directory by PATHEXT; never the current directory), as Get-Command lists it.
    # Windows PowerShell 5.1 syntax: no ternary, no ??.
    head, tail = _not_ours("\0", python).split("\0")
    lines += ["$_mambaboot_w = @(Get-Command python -ErrorAction SilentlyContinue)",
              "$_mambaboot_s = 'nothing'",
              "if ($_mambaboot_w.Count -gt 0) { $_mambaboot_s = 'the ' + $_mambaboot_w[0].CommandType + ' python' }",
              "if ($_mambaboot_w.Count -gt 0 -and $_mambaboot_w[0].CommandType -eq 'Application') "
              "{ $_mambaboot_s = $_mambaboot_w[0].Source }",
              f"if ($_mambaboot_s -ne {quoting.powershell(python)}) {{",
              f"    [Console]::Error.WriteLine({quoting.powershell(head)} + $_mambaboot_s + {quoting.powershell(tail)})",
              *(f"    [Console]::Error.WriteLine({quoting.powershell(t)})" for t in warning.splitlines()),
              "}",
              "Remove-Variable _mambaboot_w", "Remove-Variable _mambaboot_s"]
    return "\n".join(lines) + "\n"
