"""The characters a prefix cannot hold, and why: the rule `create`, `adopt`, `move` and a pack's
unpack step share (common/pathrules.py raises it as a usage error).

Standard library only, no annotations that need a newer Python, no `from __future__` and no
import of mambaboot: `pack` copies this source into the archive's unpack script (relocate/unpack),
which the environment's own python runs on a machine without mambaboot.
"""

# Why each character, per platform (docs/guide.md "Which paths can be a prefix" says the same):
# - POSIX entry points: `#!/bin/sh` then `'''exec' "PREFIX/bin/python" "$0" "$@"` is what conda
#   writes when the interpreter path holds a space or passes the shebang limit (127 bytes on
#   Linux; conda/core/portability.py generate_shebang_for_entry_point), what micromamba writes for
#   the entry points it generates for noarch: python packages (libmamba/src/core/link.cpp
#   python_shebang, 1.5.x to 2.x), and what mambaboot writes into the packages' own scripts for a
#   prefix with a space, where micromamba leaves a `#!` line no kernel runs (relocate/rewrite.py
#   shebang). Inside sh's "...", $ ` \ and " are live: `$(cmd)` or a backtick runs cmd every time
#   the entry point starts. A long prefix takes that path too, so these four are refused whether
#   or not the prefix holds a space.
# - ' closes the '...' packages put the prefix in inside their own sh activate.d scripts.
# - : splits PATH, so PREFIX/bin could not be put on it.
# - Control characters (newline above all) split .pth lines, shell lines and YAML; invalid
#   UTF-8 (surrogate escapes from a non-UTF-8 argv) cannot be written into conda-meta JSON.
# - Windows: % and ! are expanded by cmd.exe in the packages' .bat files even inside quotes;
#   ; splits PATH; < > " | ? * are not allowed in file names at all.
SH_DQUOTE = "entry points run the prefix through sh inside \"...\" ('''exec' \"PREFIX/bin/python\")"
POSIX_FORBIDDEN = {
    "'": "packages quote the prefix as '...' in their sh scripts",
    '"': SH_DQUOTE + ", which \" would end",
    "$": SH_DQUOTE + ", where $ expands and $(...) runs a command",
    "`": SH_DQUOTE + ", where `...` runs a command",
    "\\": SH_DQUOTE + ", where \\ escapes",
    ":": "PATH's separator: the environment's directories could not be put on PATH",
}
WINDOWS_FORBIDDEN = {
    ";": "PATH's separator: the environment's directories could not be put on PATH",
    "%": "cmd.exe expands %...% inside the packages' .bat files",
    "!": "cmd.exe expands !...! inside the packages' .bat files (delayed expansion)",
    "<": "not allowed in Windows file names",
    ">": "not allowed in Windows file names",
    '"': "not allowed in Windows file names",
    "|": "not allowed in Windows file names",
    "?": "not allowed in Windows file names",
    "*": "not allowed in Windows file names",
}


def control_character(text):
    """The first control character (U+0000-U+001F, U+007F) in text, or None."""
    if text.isprintable():  # control characters never are
        return None
    return next((ch for ch in text if ch < " " or ch == "\x7f"), None)


def shown(ch):
    return repr(ch) if ch.isprintable() else "U+{:04X}".format(ord(ch))


def not_utf8(what, value):
    """Why value cannot be written into JSON, scripts or conda's files (undecodable bytes on the
    command line, which Python keeps as lone surrogates), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "{} {!r} is not valid UTF-8".format(what, value.encode("utf-8", "backslashreplace").decode())
    return None


def has_control(what, value):
    """Why value cannot be one line of a script, or None."""
    ch = control_character(value)
    return "{} {!r} contains the control character {}".format(what, value, shown(ch)) if ch else None


def refusal(prefix, windows):
    """Why packages cannot live at prefix, because of a character it holds; None when none stops them."""
    why = not_utf8("prefix", prefix) or has_control("prefix", prefix)
    if why:
        return why
    for ch, reason in (WINDOWS_FORBIDDEN if windows else POSIX_FORBIDDEN).items():
        if ch in prefix:
            return "prefix {!r} contains the character {!r}: {}; choose another path".format(prefix, ch, reason)
    return None
