"""Which names and prefixes can work, decided before anything touches the disk.

conda packages write the prefix verbatim into their own scripts: POSIX packages quote it
as '...' in sh, Windows packages put it into .bat files where cmd.exe expands % and !.
A prefix carrying those characters installs "fine" and breaks later, so we refuse it now.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

from mambaboot.common.errors import UsageError

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
# - CONDA_PKGS_DIRS (the package cache only): see check_pkgs_dir.
_SH_DQUOTE = "entry points run the prefix through sh inside \"...\" ('''exec' \"PREFIX/bin/python\")"
_POSIX_FORBIDDEN = {
    "'": "packages quote the prefix as '...' in their sh scripts",
    '"': _SH_DQUOTE + ", which \" would end",
    "$": _SH_DQUOTE + ", where $ expands and $(...) runs a command",
    "`": _SH_DQUOTE + ", where `...` runs a command",
    "\\": _SH_DQUOTE + ", where \\ escapes",
    ":": "PATH's separator: the environment's directories could not be put on PATH",
}
_WINDOWS_FORBIDDEN = {
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
# Checked with re on a Windows host only: on the others create starts without importing re
# (with enum, which it imports, ~12 ms here before the engine could start); what every host
# checks is spelled out below.
_RESERVED = r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)(\..*)?$"
# Paths longer than MAX_PATH fail inside deep package trees unless LongPathsEnabled is set.
WINDOWS_MAX_PATH = 260
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")


def _control(text: str) -> str | None:
    """The first control character (U+0000-U+001F, U+007F) in text, or None."""
    if text.isprintable():  # control characters never are
        return None
    return next((ch for ch in text if ch < " " or ch == "\x7f"), None)


def _refuse_control(what: str, value: str) -> None:
    control = _control(value)
    if control:
        raise UsageError(f"{what} {value!r} contains the control character {_describe(control)}")


def is_dotted_number(text: str, fewest: int, most: int) -> bool:
    """fewest to most runs of ASCII digits joined by dots, and nothing else (no sign, no
    space, no trailing newline, no other script's digits)."""
    parts = text.split(".")
    return fewest <= len(parts) <= most and all(p and _DIGITS.issuperset(p) for p in parts)


def is_sha256_hex(text: str) -> bool:
    """64 lowercase hex digits, and nothing else."""
    return len(text) == 64 and _HEX.issuperset(text)


def _describe(ch: str) -> str:
    return repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"


def check_text(what: str, value: str) -> None:
    """A path or name that is not valid Unicode (undecodable bytes on the command line, which
    Python keeps as lone surrogates) cannot be written into JSON, scripts or conda's files."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} {value.encode('utf-8', 'backslashreplace').decode()!r} is not valid UTF-8") from None


def check_prefix(prefix: str, windows: bool) -> list[str]:
    """Raise UsageError naming the first character packages cannot survive; return warnings."""
    check_text("prefix", prefix)
    _refuse_control("prefix", prefix)
    forbidden = _WINDOWS_FORBIDDEN if windows else _POSIX_FORBIDDEN
    for ch, why in forbidden.items():
        if ch in prefix:
            raise UsageError(f"prefix {prefix!r} contains the character {ch!r}: {why}; choose another path")
    _check_lengths(prefix, windows)
    if not windows and len(prefix.encode("utf-8")) > BINARY_ROOM:
        raise UsageError(
            f"prefix is {len(prefix.encode('utf-8'))} bytes long; packages keep room for at most {BINARY_ROOM} in "
            "their binaries (conda-build's placeholder), and micromamba writes a longer prefix past it, which "
            "breaks those files; choose a shorter path"
        )
    warnings = []
    if windows:
        import re

        drive_less = prefix[2:] if re.match(r"^[A-Za-z]:", prefix) else prefix
        if ":" in drive_less:
            raise UsageError(f"prefix {prefix!r} contains ':' outside the drive letter")
        for part in re.split(r"[\\/]", drive_less):
            if re.match(_RESERVED, part, re.IGNORECASE):
                raise UsageError(f"prefix {prefix!r} uses the reserved Windows device name {part!r}")
            if part not in ("", ".", "..") and part[-1] in " .":
                raise UsageError(f"prefix {prefix!r} has a component ending in a dot or space: {part!r}")
    return warnings


# conda-build pads the build prefix to 255 characters (conda_build/config.py DEFAULT_PREFIX_LENGTH):
# the room a package's binaries keep for the install prefix. micromamba writes a longer prefix
# there all the same, with no padding, so the file grows and its offsets break
# (LinkFile::create_prefix_replaced, libmamba/src/core/link.cpp, 2.8.1). Windows binaries are not
# rewritten at all (binary_replace, conda/core/portability.py).
BINARY_ROOM = 255
# A file name is at most 255 bytes on Linux/macOS file systems and 255 UTF-16 units on NTFS.
# The environment's own name must leave room for the hidden siblings mambaboot renames it to
# (`.NAME.mambaboot-old-<12 hex>` while --force replaces it, `.NAME.removing-<12 hex>` while
# remove deletes it): at most 28 more characters.
NAME_MAX = 255
SIBLING_EXTRA = 28  # "." + NAME + ".mambaboot-old-" + 12 hex


def _units(part: str, windows: bool) -> int:
    return len(part.encode("utf-16-le", "surrogatepass")) // 2 if windows else len(part.encode("utf-8", "surrogateescape"))


def _check_lengths(prefix: str, windows: bool) -> None:
    parts = [p for p in (prefix.replace("\\", "/") if windows else prefix).split("/") if p]
    for i, part in enumerate(parts):
        limit = NAME_MAX - (SIBLING_EXTRA if i == len(parts) - 1 else 0)
        if _units(part, windows) > limit:
            raise UsageError(
                f"prefix component {part[:40]!r}... is {_units(part, windows)} {'characters' if windows else 'bytes'} "
                f"long; at most {limit} fit (file names stop at {NAME_MAX}, and mambaboot needs room for a sibling name)"
            )


def risks_max_path(prefix: str) -> bool:
    """Package files nest ~100 characters deep: past this, some pass MAX_PATH."""
    return len(prefix) > WINDOWS_MAX_PATH - 100


def check_name(name: str) -> None:
    """A NAME is one directory name under the envs dir, never a path."""
    check_text("environment name", name)
    if not name or name in (".", ".."):
        raise UsageError(f"invalid environment name {name!r}; use --prefix for a path")
    if "/" in name or "\\" in name:
        raise UsageError(f"environment name {name!r} looks like a path; use --prefix PATH instead")
    if name.startswith("-"):
        raise UsageError(f"environment name {name!r} starts with '-'")
    _refuse_control("environment name", name)


def check_python_version(version: str) -> None:
    if not is_dotted_number(version, 1, 3):
        raise UsageError(
            f"--python {version!r} is not a version; give one like 3.12 or 3.12.4 "
            "(any other constraint can go in --package)"
        )


def check_argument_value(option: str, value: str) -> None:
    """Values we hand to micromamba as separate arguments must not be mistaken for options."""
    check_text(option, value)
    if not value.strip():
        raise UsageError(f"{option} needs a non-empty value")
    if value.startswith("-"):
        raise UsageError(f"{option} value {value!r} starts with '-'")
    _refuse_control(f"{option} value", value)


def check_sha256(option: str, value: str) -> str:
    """A sha256 hex digest given on the command line, in the lowercase form digests are compared in."""
    digest = value.strip().lower()
    if not is_sha256_hex(digest):
        raise UsageError(f"{option} {value!r} is not a sha256 hex digest")
    return digest


# libmamba reads CONDA_PKGS_DIRS as YAML: `YAML::Load("[" + value + "]")`
# (libmamba/include/mamba/api/configuration_impl.hpp, 1.5.12 to 2.8.1). Inside a flow sequence
# a plain scalar cannot hold a flow indicator or `#` (a comment or a split), nor ": " (a
# mapping), nor start with an indicator that gives it another meaning (anchor, alias, tag,
# block scalar, quote, directive, reserved).
_YAML_FLOW = set("[]{},#")
_YAML_LEADING = set("&*!|>'\"%@`")


def check_pkgs_dir(path: str) -> None:
    """Refuse a package cache path micromamba would misread from CONDA_PKGS_DIRS."""
    check_text("package cache", path)
    bad = sorted(_YAML_FLOW & set(path))
    if ": " in path:
        bad.append(": ")
    if path[:1] in _YAML_LEADING or path[:2] in ("- ", "? ", ": "):
        bad.append(path[:1])
    if bad:
        shown = " ".join(repr(b) for b in dict.fromkeys(bad))
        raise UsageError(
            f"package cache {path!r} holds {shown}, which micromamba misreads in CONDA_PKGS_DIRS "
            "(it parses the value as a YAML list); choose another --cache-dir or CONDA_PKGS_DIRS"
        )

