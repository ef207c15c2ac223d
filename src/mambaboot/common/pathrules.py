"""Which names and prefixes can work, decided before anything touches the disk.

conda packages write the prefix verbatim into their own scripts: POSIX packages quote it
as '...' in sh, Windows packages put it into .bat files where cmd.exe expands % and !.
A prefix carrying those characters installs "fine" and breaks later, so we refuse it now.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

from mambaboot.common import prefixchars
from mambaboot.common.errors import UsageError

# The characters themselves, and why: common/prefixchars.py (the unpack script of a pack shares them).
# Checked with re on a Windows host only: on the others create starts without importing re
# (with enum, which it imports, ~12 ms here before the engine could start); what every host
# checks is spelled out below.
_RESERVED = r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)(\..*)?$"
# Paths longer than MAX_PATH fail inside deep package trees unless LongPathsEnabled is set.
WINDOWS_MAX_PATH = 260
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")


_control = prefixchars.control_character


def _refuse_control(what: str, value: str) -> None:
    why = prefixchars.has_control(what, value)
    if why:
        raise UsageError(why)


def is_dotted_number(text: str, fewest: int, most: int) -> bool:
    """fewest to most runs of ASCII digits joined by dots, and nothing else (no sign, no
    space, no trailing newline, no other script's digits)."""
    parts = text.split(".")
    return fewest <= len(parts) <= most and all(p and _DIGITS.issuperset(p) for p in parts)


def is_sha256_hex(text: str) -> bool:
    """64 lowercase hex digits, and nothing else."""
    return len(text) == 64 and _HEX.issuperset(text)


def check_text(what: str, value: str) -> None:
    """A path or name that is not valid Unicode (undecodable bytes on the command line, which
    Python keeps as lone surrogates) cannot be written into JSON, scripts or conda's files."""
    why = prefixchars.not_utf8(what, value)
    if why:
        raise UsageError(why)


def check_prefix(prefix: str, windows: bool) -> list[str]:
    """Raise UsageError naming the first character packages cannot survive; return warnings."""
    why = prefixchars.refusal(prefix, windows)
    if why:
        raise UsageError(why)
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
# Every name mambaboot gives beside an environment fits whatever the environment's own name: its
# temporaries and set-asides (`.NAME.mambaboot-tmp-<TOKEN>[-KIND]`, up to 57 more characters)
# shorten NAME from its end to stay within 255 bytes (common/files/tempname.py), and its lock
# falls back to a key (common/files/fsops.py place_lock). The environment's own name is still
# held 28 short of the limit, where set-asides once needed the room: no name refused before is
# accepted now, none accepted before is refused. On Windows a set-aside's path is that much
# longer than the environment's: the files deepest in it pass MAX_PATH (without long paths) up
# to 57 characters sooner while it is deleted (`remove`, `create --force`) than in place, which
# risks_max_path counts.
NAME_MAX = 255
SIBLING_EXTRA = 28


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


# The deepest file a create installs on Windows, below the package's root (in the environment and
# in its cache folder alike): conda's own compiled module. conda-forge builds conda once per Python
# (conda-feedstock recipe/recipe.yaml, win_64_python3.1x variants, with rattler-build), and
# rattler-build compiles every .py of a package that is not noarch into __pycache__/NAME.<cache
# tag>.pyc inside it (crates/rattler_build_core/src/post_process/python.rs, `python`, `compile_pyc`);
# conda 26.x's deepest module is conda/plugins/subcommands/doctor/health_checks/requests_ca_bundle.py
# (conda/conda, tags 26.5.3 to 26.7.1), and every cache tag (cpython-310 ... cpython-314) is as long.
# pip, noarch, compiles at link deepest to Lib/site-packages/pip/_internal/resolution/resolvelib/
# __pycache__/found_candidates.cpython-3XX.pyc, shorter.
DEEPEST_PACKAGE_FILE = ("Lib/site-packages/conda/plugins/subcommands/doctor/health_checks/__pycache__/"
                        "requests_ca_bundle.cpython-312.pyc")
PACKAGE_DEPTH = len(DEEPEST_PACKAGE_FILE)


def longest_place(prefix: str) -> int:
    """The length of the longest path the environment at prefix is at while a run holds it: its
    own, or the longest name it is set aside under beside it (common/files/tempname.py set_aside:
    deleted there by `remove` and `create --force`, copied there by a move)."""
    from mambaboot.common.files import tempname

    stem = prefix.rstrip("\\/")
    cut = max(stem.rfind("/"), stem.rfind("\\")) + 1
    token = "0" * 32  # every token is as long
    aside = max(len(tempname.set_aside(stem[cut:], token, kind)) for kind in tempname.SET_ASIDE)
    return max(len(prefix), cut + aside)


def risks_max_path(prefix: str, depth: int = PACKAGE_DEPTH) -> bool:
    """Package files nest ~depth characters deep below every place the environment is at:
    past this, some pass MAX_PATH."""
    return longest_place(prefix) > WINDOWS_MAX_PATH - depth


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

