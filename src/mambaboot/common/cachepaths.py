"""How long the deepest path in a package cache gets on Windows, where MAX_PATH (260) holds
unless LongPathsEnabled is set: micromamba extracts every package into the cache before it
links the files into the environment, so the cache is as deep as the environment, and deeper.

libmamba 2.x (since 2.6, mamba-org/mamba PR #4163) keeps each package in
`<pkgs dir>\\<scheme>\\<host>\\<channel path>\\<subdir>\\<name-version-build>\\`:
`package_cache_folder_relative_path` (libmamba/src/core/package_cache.cpp at 2.8.1) takes the
directory of the package's URL, without user:password@ and /t/<token>, turns "://" into "/"
and every other ":" and "\\" into "_". Users meet it as paths near 245 characters with a cache
in a default user profile (mamba-org/mamba issue #4275).
"""

from __future__ import annotations

import ntpath
import re

from mambaboot.common import urlrule
from mambaboot.common.locations import PKGS_UNDER_CACHE
from mambaboot.common.pathrules import PACKAGE_DEPTH, WINDOWS_MAX_PATH

# A channel given by name lies below the channel alias: MAMBA_CHANNEL_ALIAS, else libmamba's
# default (`Context::channel_alias`, libmamba/include/mamba/core/context.hpp), an https URL whose
# host has 18 characters. Only the length counts here.
DEFAULT_ALIAS = "https://" + "h" * 18
# The package's own folder, <name>-<version>-<build>: room for the long ones (a python build
# string such as h0f3e0a4_100_cp312 and a long name together, as conda's dependencies
# conda-package-streaming and conda-libmamba-solver have).
PACKAGE_DIR_ROOM = 60


# The shortest package cache a user can give: a cache folder of one letter at a drive's root, with
# the pkgs directory create puts below it (locations.PKGS_UNDER_CACHE).
SHORTEST_PKGS = ntpath.join("C:\\C", *PKGS_UNDER_CACHE)


def _without_secrets(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2]
    parts = path.split("/")
    if len(parts) > 1 and parts[0] == "t":
        parts = parts[2:]
    return scheme + sep + host + slash + "/".join(parts)


def _explicit_path(channel: str) -> bool:
    """libmamba 2.8.1's `util::is_explicit_path` (libmamba/src/util/path_manip.cpp): what
    `UnresolvedChannel::parse` takes for a path, not a channel name."""
    return (channel.startswith(("~", "/", "./", "../")) or channel in (".", "..")
            or (len(channel) >= 3 and channel[0].isascii() and channel[0].isalpha() and channel[1] == ":"
                and channel[2] in "/\\"))


def _encoded(path: str) -> str:
    """`util::encode_percent(path, '/')` (libmamba/src/util/encoding.cpp): each byte of the UTF-8
    form but letters, digits, `-._~` and `/` as %XX; an existing %XX kept (the URL was encoded)."""
    out = []
    for i, byte in enumerate(path.encode("utf-8")):
        c = chr(byte)
        keep = (c.isascii() and c.isalnum()) or c in "-._~/" or (c == "%" and re.match(rb"%[0-9A-Fa-f]{2}", path.encode("utf-8")[i:]))
        out.append(c if keep else f"%{byte:02X}")
    return "".join(out)


def _as_url(channel: str, cwd: str | None) -> str | None:
    """The file URL libmamba makes of a channel given as a path or a file URL (None: neither):
    `resolve_path_location` (libmamba/src/specs/channel.cpp) joins a relative path to the current
    directory and calls `util::abs_path_to_url`, which percent-encodes all but a drive's colon; the
    URL's text (`URL::str`) then starts `file:///C:/` (libmamba/src/util/url.cpp, `set_path`)."""
    if channel.startswith("file://"):
        path = channel[len("file://"):]
    elif "://" not in channel and _explicit_path(channel):
        path = channel
        if path.startswith("."):
            if cwd is None:
                return None
            path = ntpath.join(cwd, path)
        if not path.startswith("~"):
            path = ntpath.normpath(path)
    else:
        return None
    path = path.replace("\\", "/").lstrip("/")
    if len(path) >= 2 and path[1] == ":":
        return "file:///" + path[:2] + _encoded(path[2:])
    return "file:///" + _encoded(path)


def folder(channel: str, subdir: str, alias: str | None = None, cwd: str | None = None) -> str:
    """The cache folder (relative to a pkgs dir) of channel's packages for subdir; cwd is where a
    relative channel path starts from."""
    url = _as_url(channel, cwd) or channel
    if "://" not in url:
        url = (alias or DEFAULT_ALIAS).rstrip("/") + "/" + channel.strip("/")
    url = _without_secrets(url).rstrip("/")
    if url.endswith("/" + subdir):
        url = url[: -len(subdir) - 1]
    url = url.replace("://", "/", 1).replace(":", "_").replace("\\", "_")
    return url + "/" + subdir


# (a package's own folder, the deepest file path inside it): the one room every MAX_PATH estimate
# counts, create's and the Windows try-out's (tools/tryout.py) alike
ANY_PACKAGE = (PACKAGE_DIR_ROOM, PACKAGE_DEPTH)


def deepest(pkgs_dir: str, channel: str, subdir: str, alias: str | None = None, cwd: str | None = None) -> int:
    """The length of the deepest file path a package of channel can give below pkgs_dir."""
    return (len(pkgs_dir.rstrip("\\/")) + 1 + len(folder(channel, subdir, alias, cwd)) + 1 + ANY_PACKAGE[0] + 1
            + ANY_PACKAGE[1])


def overrun(pkgs_dir: str, channels, subdirs, alias: str | None = None, cwd: str | None = None) -> str | None:
    """What to tell a user whose cache leaves too little room under MAX_PATH (None: it fits)."""
    worst = max(((deepest(pkgs_dir, c, s, alias, cwd), c, s) for c in channels for s in subdirs), default=None)
    if worst is None or worst[0] <= WINDOWS_MAX_PATH:
        return None
    length, channel, subdir = worst
    over = length - WINDOWS_MAX_PATH
    kept = folder(channel, subdir, alias, cwd)
    shown = kept
    if "://" not in channel and not _as_url(channel, cwd) and not alias:
        shown = shown.replace(DEFAULT_ALIAS.partition("://")[2], "<the default channel alias's host>", 1)
    said = (f"the package cache {pkgs_dir} leaves too little room under MAX_PATH ({WINDOWS_MAX_PATH}) with "
            f"LongPathsEnabled off: {urlrule.shown(channel)}'s {subdir} packages are kept in {shown}, and their "
            f"deepest files come to about {length} characters ({len(pkgs_dir)} the cache, "
            f"{len(kept) + 1} that folder, {ANY_PACKAGE[0] + 1} a package's folder, "
            f"{ANY_PACKAGE[1] + 1} its files), {over} too many")
    most = len(pkgs_dir) - over
    if most >= len(SHORTEST_PKGS):
        return (said + "; enable LongPathsEnabled (mambaboot doctor shows how), or give a cache whose pkgs "
                f"directory is at most {most} characters long (--cache-dir, or a CACHE folder at the root of the "
                "environment's drive)")
    if _as_url(channel, cwd):
        shorter = ("a shorter path for the channel (micromamba 2.6 and later repeat a local channel's whole "
                   "path in its folder in the cache)")
    else:
        shorter = "a channel alias or channel address shorter than that folder's"
    return (said + f", and no cache can leave room: the shortest pkgs directory ({SHORTEST_PKGS}, "
            f"{len(SHORTEST_PKGS)} characters) is still {len(SHORTEST_PKGS) - most} too long; enable "
            f"LongPathsEnabled (mambaboot doctor shows how), or give {shorter}")
