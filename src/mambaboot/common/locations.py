"""Where things live by default: the envs directory, the cache root, the package caches.

Apart from plan.py because every command needs them and none of plan's weight (`list`,
`cache`, `remove` import only this, the Host and what they read): plain functions of a Host.
"""

from __future__ import annotations

from mambaboot.common.host import Host, volume


def _user_cache_dir(host: Host) -> str:
    p = host.path
    if host.windows:
        base = host.base_dir("LOCALAPPDATA") or p.join(host.home(), "AppData", "Local")
        return p.join(base, "mambaboot", "Cache")
    if host.subdir.startswith("osx"):
        return p.join(host.home(), "Library", "Caches", "mambaboot")
    return p.join(host.base_dir("XDG_CACHE_HOME") or p.join(host.home(), ".cache"), "mambaboot")


def _drive(host: Host) -> str:
    """The drive the user is working on; the user's own script used the drive it ran from."""
    drive = host.path.splitdrive(host.cwd)[0]
    return drive or "C:"


def _absolute(host: Host, path: str) -> str:
    p = host.path
    return p.normpath(p.join(host.cwd, p.expanduser(path)) if not p.isabs(path) else path)


def resolve_envs_dir(host: Host, given: str | None) -> str:
    if given:
        return _absolute(host, given)
    py_envs = host.environ.get("PY_ENVS")
    if py_envs:
        if host.isdir(py_envs):
            return _absolute(host, py_envs)
        # Never the current directory instead: an environment would land where the user did not say.
        from mambaboot.common.errors import UsageError

        raise UsageError(f"PY_ENVS names {_absolute(host, py_envs)}, which is not a directory (it does not exist, "
                         "or is a file); create it, give --envs-dir, or unset PY_ENVS")
    if host.windows:
        conventional = host.path.join(_drive(host) + "\\", "dev", "Anaconda", "envs")
        if host.isdir(conventional):
            return conventional
        _refuse_a_share(host)
    return host.cwd


def on_share(host: Host, path: str) -> bool:
    """Whether path is on a network share: a UNC path (\\\\server\\share\\..., where a Downloads or
    Documents folder redirected by Folder Redirection lives: Microsoft Learn, "Folder Redirection")
    or the drive the user's network home folder is mapped to (HOMESHARE on HOMEDRIVE: Microsoft
    Learn, "Recognized environment variables")."""
    drive = host.path.splitdrive(path)[0]
    if drive.startswith(("\\\\", "//")):
        return True
    home = host.environ.get("HOMEDRIVE", "")
    return bool(host.environ.get("HOMESHARE") and home and drive.upper() == home.upper())


def _refuse_a_share(host: Host) -> None:
    """Never an environment on a share by default, where every package file would go over the
    network (as the bootstrap scripts refuse it): a UNC path, the network home drive, or any drive
    mapped to a share (winsys.network_drive); named with --envs-dir or PY_ENVS, it is the user's."""
    from mambaboot.common import winsys

    how = "a network share" if on_share(host, host.cwd) else (
        "a drive mapped to a network share (as net use and pushd map one)" if winsys.network_drive(host.cwd) else "")
    if how:
        from mambaboot.common.errors import UsageError

        raise UsageError(f"the current directory {host.cwd} is on {how}, where every file of the environment "
                         "would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS")


def resolve_cache_dir(host: Host, given: str | None, target: str | None = None) -> str:
    """target: the environment this run makes. micromamba hard-links package files only within
    one volume (else it copies every file), so on Windows the default follows the target's drive:
    `<drive>\\CACHE` there, unless the per-user cache is on that drive already."""
    if given:
        return _absolute(host, given)
    if host.windows:
        drive = (host.path.splitdrive(target)[0] if target else "") or _drive(host)
        drive_cache = drive + "\\CACHE"
        if host.isdir(drive_cache):
            return drive_cache
        user = _user_cache_dir(host)
        if on_share(host, drive_cache) and not on_share(host, user) and user.isascii():
            return user  # a CACHE folder is never made on a share: only one there already is used
        if target and host.path.splitdrive(user)[0].upper() != drive.upper():
            return drive_cache
        if not user.isascii():
            # micromamba converts paths to the ANSI code page, and a package cache holding a
            # character that page lacks fails ("No mapping for the Unicode character exists in the
            # target multi-byte code page": mamba-org/mamba#3097, #3228); a profile like
            # C:\Users\José or C:\Users\张三 is no default cache (docs/windows.md)
            return drive_cache
        return user
    return _user_cache_dir(host)


def cross_volume_warning(host: Host, pkgs_dir: str, prefix: str) -> str | None:
    """The warning for a package cache on another volume than the environment, with the figures
    that show it (drives, or devices and mount points); None when they share one (or unknown)."""
    if host.windows:
        a, b = host.path.splitdrive(pkgs_dir)[0], host.path.splitdrive(prefix)[0]
        if not a or not b or a.upper() == b.upper():
            return None
        where = f"{a} versus {b}"
        fix = f"give --cache-dir on {b} (or create {b}\\CACHE)"
    else:
        a_dev, b_dev = host.device(pkgs_dir), host.device(prefix)
        if a_dev is None or b_dev is None or a_dev == b_dev:
            return None
        where = (f"device {a_dev:#x} mounted at {volume(pkgs_dir)[1] or '?'} versus device {b_dev:#x} "
                 f"mounted at {volume(prefix)[1] or '?'}")
        fix = "give --cache-dir on the environment's volume"
    return (f"the package cache {pkgs_dir} is on another volume than {prefix} ({where}): micromamba will copy "
            f"every package file instead of hard-linking it (twice the disk, and slower; about 2,000 files/s "
            f"on NTFS with Defender); {fix}")


# The package cache create gives micromamba below a cache folder (unless CONDA_PKGS_DIRS names one).
PKGS_UNDER_CACHE = ("Python", "pkgs")


def resolve_pkgs_dirs(host: Host, cache_dir: str) -> tuple[str, ...]:
    # conda reads CONDA_PKGS_DIRS as comma-separated, whatever the platform's pathsep.
    configured = [d.strip() for d in host.environ.get("CONDA_PKGS_DIRS", "").split(",") if d.strip()]
    if configured:
        return tuple(_absolute(host, d) for d in configured)
    return (host.path.join(cache_dir, *PKGS_UNDER_CACHE),)


DEFAULT_CHANNEL = "conda-forge"


def default_channels(host: Host) -> tuple[str, ...]:
    """MAMBABOOT_CHANNELS (comma-separated) for sites with their own mirror; else conda-forge."""
    configured = [c.strip() for c in host.environ.get("MAMBABOOT_CHANNELS", "").split(",") if c.strip()]
    return tuple(configured) or (DEFAULT_CHANNEL,)
