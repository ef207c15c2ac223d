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

from mambaboot.common.pathrules import PACKAGE_DEPTH, WINDOWS_MAX_PATH

# A channel given by name lies below the channel alias: MAMBA_CHANNEL_ALIAS, else libmamba's
# default (`Context::channel_alias`, libmamba/include/mamba/core/context.hpp), an https URL whose
# host has 18 characters. Only the length counts here.
DEFAULT_ALIAS = "https://" + "h" * 18
# The package's own folder, <name>-<version>-<build>: room for the long ones (a python build
# string such as h0f3e0a4_100_cp312 and a long name together).
PACKAGE_DIR_ROOM = 60


def _without_secrets(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2]
    parts = path.split("/")
    if len(parts) > 1 and parts[0] == "t":
        parts = parts[2:]
    return scheme + sep + host + slash + "/".join(parts)


def folder(channel: str, subdir: str, alias: str | None = None) -> str:
    """The cache folder (relative to a pkgs dir) of channel's packages for subdir."""
    url = channel if "://" in channel else (alias or DEFAULT_ALIAS).rstrip("/") + "/" + channel.strip("/")
    url = _without_secrets(url).rstrip("/")
    if url.endswith("/" + subdir):
        url = url[: -len(subdir) - 1]
    url = url.replace("://", "/", 1).replace(":", "_").replace("\\", "_")
    return url + "/" + subdir


def deepest(pkgs_dir: str, channel: str, subdir: str, alias: str | None = None) -> int:
    """The length of the deepest file path a package of channel can give below pkgs_dir."""
    return len(pkgs_dir.rstrip("\\/")) + 1 + len(folder(channel, subdir, alias)) + 1 + PACKAGE_DIR_ROOM + 1 + PACKAGE_DEPTH


def overrun(pkgs_dir: str, channels, subdirs, alias: str | None = None) -> str | None:
    """What to tell a user whose cache leaves too little room under MAX_PATH (None: it fits)."""
    worst = max(((deepest(pkgs_dir, c, s, alias), c, s) for c in channels for s in subdirs), default=None)
    if worst is None or worst[0] <= WINDOWS_MAX_PATH:
        return None
    length, channel, subdir = worst
    over = length - WINDOWS_MAX_PATH
    shown = folder(channel, subdir, alias)
    if "://" not in channel and not alias:
        shown = shown.replace(DEFAULT_ALIAS.partition("://")[2], "<the default channel alias's host>", 1)
    return (f"the package cache {pkgs_dir} leaves too little room under MAX_PATH ({WINDOWS_MAX_PATH}) with "
            f"LongPathsEnabled off: {channel}'s {subdir} packages are kept in {shown}, and their "
            f"deepest files come to about {length} characters ({len(pkgs_dir)} the cache, "
            f"{len(folder(channel, subdir, alias)) + 1} that folder, {PACKAGE_DIR_ROOM + 1} a package's folder, "
            f"{PACKAGE_DEPTH + 1} its files), {over} too many; enable LongPathsEnabled (mambaboot doctor shows how), "
            f"or give a cache whose pkgs directory is at most {len(pkgs_dir) - over} characters long "
            "(--cache-dir, or a CACHE folder at the root of the environment's drive)")
