"""Literal quoting for every shell mambaboot writes text for: the one way a value from the disk or
the user (a path, a file name, a variable's name or value) reaches generated shell text.

Each function returns text that the shell reads back as exactly the value, or raises ValueError
when that shell cannot hold it (NUL anywhere; line breaks in cmd). Nothing the value holds is
ever code: no expansion, substitution, globbing or operator survives quoting.

Standard library only, no annotations that need a newer Python, no `from __future__` and no
import: this source is copied into PREFIX/.mambaboot/envvars.py (see packagedata.standalone),
which the environment's own python runs without mambaboot.
"""


def _no_nul(value, shell):
    if "\0" in value:
        raise ValueError("a {} word cannot hold a NUL character".format(shell))


def sh(value):
    """One POSIX sh word (bash, dash, zsh, ksh) that expands to exactly value: inside '...'
    nothing is special but ' itself, written as '\\''."""
    _no_nul(value, "shell")
    return "'" + value.replace("'", "'\\''") + "'"


def fish(value):
    """One fish word that expands to exactly value: inside '...' fish treats \\ and ' only."""
    _no_nul(value, "fish")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# cmd's operators; ^ escapes each of them outside quotes
_CMD_OPERATORS = '^&|<>()"'


def _cmd_line(value):
    for bad, what in (("\r", "carriage return"), ("\n", "line feed"), ("\0", "NUL")):
        if bad in value:
            raise ValueError("a cmd line cannot hold a {}".format(what))


def cmd(value):
    """Text for `set NAME=<here>` in a batch file, with delayed expansion off, that sets exactly
    value: every operator escaped with ^, % doubled. An empty value deletes the variable (cmd
    has no empty variables). With delayed expansion on, cmd would take ! and the ^ before it
    a second time: the callers refuse a value with ! in that mode (see cmd_safe_delayed)."""
    _cmd_line(value)
    return "".join("^" + c if c in _CMD_OPERATORS else "%%" if c == "%" else c for c in value)


def cmd_in_quotes(text):
    """Literal text inside a batch file's "...", as in `set "X=<here>"`, `if exist "<here>"` or
    `"<here>" args`: only % is live there (doubled). A " would end the quotes, so it is refused
    (no Windows file name holds one)."""
    _cmd_line(text)
    if '"' in text:
        raise ValueError("{!r}: a double quote cannot be put inside a batch file's quotes".format(text))
    return text.replace("%", "%%")


def cmd_prompt(value):
    """One argument typed at cmd.exe's prompt (or read by `cmd /c`) that the program, splitting its
    command line by the C runtime's rules, reads as exactly value. Inside "..." cmd takes every
    operator and ^ literally, but expands %NAME% even there; so each % stands outside the quotes,
    followed by a ", which makes any %NAME% it could start name a variable whose name begins with
    a quote (none has one; at the prompt an undefined %NAME% stays as typed). Backslashes before
    each closing " are doubled, as the C runtime reads them. No " (no Windows file name holds one).
    ! stays literal with delayed expansion off, the prompt's default."""
    _cmd_line(value)
    if '"' in value:
        raise ValueError("{!r}: a double quote cannot be typed inside cmd's quotes".format(value))

    def quoted(part):
        tail = len(part) - len(part.rstrip("\\"))
        return '"' + part + "\\" * tail + '"'

    return "%".join(quoted(part) for part in value.split("%"))


def cmd_safe_delayed(text):
    """Whether text is read the same by cmd with delayed expansion on: ! (and a ^ on a line
    with a !) would be taken as syntax there."""
    return "!" not in text


# PowerShell ends a single-quoted string at any of these; inside one, each is written twice.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell(value):
    """A PowerShell expression with exactly this string value: one single-quoted literal, where
    nothing expands ($null for None)."""
    if value is None:
        return "$null"
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


# Bare, each of these is itself to cmd (no operator) and to PowerShell (no quote, variable, escape,
# operator or comment); letters and digits of any script are too.
_WINDOWS_PLAIN = frozenset("\\/:._-+")
# Inside "...", cmd expands %NAME% and PowerShell $name, $(...) and ` escapes; PowerShell ends the
# string at any of its double quotes.
_WINDOWS_LIVE_IN_QUOTES = frozenset('"%$`\u201c\u201d\u201e\r\n\0')


def _windows_bare(value):
    # to PowerShell a word starting with - is a parameter, which 5.1 splits at a . or : before passing
    # it on (`--` it passes as typed); one starting with a digit may be read as a number (0x10, 1e3,
    # 1kb), not as the text; a lone + or : is an operator or a label
    if value == "--" or value[:1] == "-" and value[1:2].isalpha():
        return all(c.isalnum() or c == "-" for c in value)
    return value[:1] not in ("", "-", "+", ":") and not value.lstrip(".")[:1].isdigit() and all(
        c.isalnum() or c in _WINDOWS_PLAIN for c in value)


def _windows_word(value):
    """One word that cmd's prompt and Windows PowerShell 5.1 both read as exactly value, or None.
    "..." keeps spaces and operators in both, but only without what either expands there, and
    without a trailing backslash (the C runtime would read \\" as a quote). PowerShell 5.1 drops
    an empty argument instead of passing it."""
    if _windows_bare(value):
        return value
    if value and not value.endswith("\\") and not any(c in _WINDOWS_LIVE_IN_QUOTES for c in value):
        return '"' + value + '"'
    return None


def windows_lines(argv, bare):
    """The line for cmd.exe's prompt and the line for PowerShell that run argv: each word for which
    bare(word) holds as typed (it must read literally bare in both), the others quoted for each
    shell (cmd_prompt, powershell); in PowerShell a quoted first word needs `&` to be run."""
    cmd_words = [a if bare(a) else cmd_prompt(a) for a in argv]
    ps_words = [a if bare(a) else powershell(a) for a in argv]
    return " ".join(cmd_words), ("" if bare(argv[0]) else "& ") + " ".join(ps_words)


_SH_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+:,./_-")


def _command_lines(argv, windows, powershell_argv=None, powershell_line=None):
    """A command to show the user (a suggested fix), as [(None, line)] when one line is right in
    every shell they may type it in (POSIX sh; on Windows, when each argument is one word both cmd
    and PowerShell read literally), else [("cmd.exe", line), ("PowerShell", line)]; always the two
    with powershell_argv, PowerShell's own command for what argv does in cmd, or powershell_line,
    that command's line ready made. ValueError when a value cannot be typed at all (NUL; on Windows
    a line break or a double quote)."""
    if not windows:
        return [(None, " ".join(a if a and all(c in _SH_PLAIN for c in a) else sh(a) for a in argv))]
    words = [_windows_word(a) for a in argv]
    if powershell_argv is None and powershell_line is None and None not in words and _windows_bare(argv[0]):
        return [(None, " ".join(words))]
    cmd_line, ps_line = windows_lines(argv, _windows_bare)
    if powershell_argv is not None:
        ps_line = windows_lines(powershell_argv, _windows_bare)[1]
    return [("cmd.exe", cmd_line), ("PowerShell", powershell_line if powershell_line is not None else ps_line)]


def command_line(argv, windows, ticks=False, rest="", powershell_argv=None, powershell_line=None):
    """_command_lines as text: the one line (in backticks with ticks), or each line in backticks
    followed by its shell's name. rest (e.g. " ...") is added to the end of each line."""
    lines = _command_lines(argv, windows, powershell_argv, powershell_line)
    if len(lines) == 1:
        return "`{}{}`".format(lines[0][1], rest) if ticks else lines[0][1] + rest
    return ", ".join("`{}{}` in {}".format(line, rest, shell) for shell, line in lines)


# What advice says where no line can be typed as the command (see advice)
UNTYPABLE = "no command line can name it (its path holds a control character)"


def advice(argv, windows, fallback=UNTYPABLE, ticks=True, rest="", powershell_argv=None, powershell_line=None):
    """The one way a command the user is told to type (a fix, a deletion by hand, the run that
    settles a place) is written: command_line, each value one literal word of the shell it is
    typed in; else fallback, text that says what to do without a command, when no line the
    terminal shows can be typed as the command: a value holding a character the output escapes
    rather than shows (a line break, any control or format character: common/output.shown), or one
    the shell cannot hold (NUL; on Windows a double quote)."""
    if not all(str(a).isprintable() for a in [*argv, *(powershell_argv or ()), *([powershell_line] if powershell_line else [])]):
        return fallback
    try:
        return command_line(argv, windows, ticks=ticks, rest=rest, powershell_argv=powershell_argv,
                            powershell_line=powershell_line)
    except ValueError:
        return fallback
