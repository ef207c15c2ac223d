"""The Windows-only corner, behind plain functions that tests can replace.

Everything else in mambaboot is platform-neutral; anything that needs the registry,
junctions or other Win32 calls lives here.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import sys

from mambaboot.common.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): collections is not imported at start-up
    from collections.abc import Mapping

# cmd.exe runs AutoRun from here (HKCU, then HKLM) before every command line it is given.
COMMAND_PROCESSOR = r"Software\Microsoft\Command Processor"
HIVES = ("HKCU", "HKLM")
REG_SZ = 1
REG_EXPAND_SZ = 2
_FILESYSTEM = r"SYSTEM\CurrentControlSet\Control\FileSystem"
# Windows starts no program a policy or an antivirus blocks, and says why in its own words with
# one of these codes (Microsoft Learn, "System Error Codes"): AppLocker or Software Restriction
# Policies 1260 (ERROR_ACCESS_DISABLED_BY_POLICY), App Control 4551
# (ERROR_SYSTEM_INTEGRITY_POLICY_VIOLATION), an antivirus 225 (ERROR_VIRUS_INFECTED).
_BLOCKED = (1260, 4551, 225)
# Where the programs mambaboot starts lie: the engine in the cache, Python in the environment.
ENGINE_FOLDER = "--cache-dir (or --micromamba PATH to a copy in one)"
ENVIRONMENT_FOLDER = "--envs-dir or --prefix"


def create_junction(target: str, link: str) -> None:  # pragma: no cover - Windows only
    """A directory junction: unlike a symlink it needs no privilege or developer mode."""
    import _winapi

    _winapi.CreateJunction(target, link)


# What a file system without directory links says when asked for one. Windows: FAT32, exFAT and
# many network shares have no reparse points (Microsoft Learn, "Reparse Point Operations":
# FILE_SUPPORTS_REPARSE_POINTS); FSCTL_SET_REPARSE_POINT, under CreateJunction, is then an
# unsupported request, STATUS_INVALID_DEVICE_REQUEST ([MS-FSA] 2.1.5.10: ERROR_INVALID_FUNCTION, 1)
# or ERROR_NOT_SUPPORTED (50: Wine's drives). POSIX: symlink(2) fails with EPERM where "the file
# system containing linkpath does not support the creation of symbolic links" (Linux man-pages,
# symlink(2)), EOPNOTSUPP on some others.
_NO_LINKS_WINERRORS = (1, 50)


# Smart App Control (Windows 11) is a code integrity policy of its own: its state is this value, which
# Windows Security writes (0 off, 1 on, 2 evaluation). No Microsoft page documents it (WinRT's
# SmartAppControlPolicy.IsEnabled, from build 23504, is the documented way, out of the standard
# library's reach); what it says is what Windows Security's switch writes, read alike by every
# script that reports it. On, it refuses a program unsigned and unknown to Microsoft's reputation
# service wherever it lies, with 4551 as App Control does (Microsoft Support, "Smart App Control").
_CI_POLICY = r"SYSTEM\CurrentControlSet\Control\CI\Policy"
SMART_APP_CONTROL = {0: "off", 1: "on", 2: "evaluating"}
SMART_APP_CONTROL_IS = ("Smart App Control (Windows 11's, in Windows Security: App & browser control) refuses a program "
                        "that is unsigned and unknown to Microsoft's reputation service in every folder, so no folder "
                        "helps; whether it is on is your choice there")


def blocked(exc: OSError, folder: str) -> str:
    """The way forward when Windows refused to start a program, to follow its own words (str(exc)
    holds them and the WinError code); "" for any other failure. folder: the option that puts
    the program in another folder, as bootstrap.bat words it for the programs it starts. 4551 is
    App Control's, or Smart App Control's: said as the latter when it is on here."""
    code = getattr(exc, "winerror", None)
    if code not in _BLOCKED:
        return ""
    if code == 4551 and smart_app_control() == 1:
        return f"\nWindows refused to start it: Smart App Control is on here. {SMART_APP_CONTROL_IS}"
    if code == 4551:
        return (f"\nWindows refused to start it: an App Control policy or Smart App Control blocks it. Under an App "
                f"Control policy, ask your administrator which folders may run programs, and pass one as {folder}. "
                f"{SMART_APP_CONTROL_IS}")
    return ("\nWindows refused to start it: a policy (AppLocker, Software Restriction Policies) or an "
            "antivirus blocks programs in that folder; ask your administrator which folders may run programs, and "
            f"pass one as {folder}")


def smart_app_control() -> int | None:
    """HKLM\\...\\CI\\Policy\\VerifiedAndReputablePolicyState (see SMART_APP_CONTROL); None when it is
    not there or cannot be read (Windows 10, Windows 11 before 22H2), or off Windows."""
    if sys.platform != "win32":
        return None
    import winreg  # pragma: no cover - Windows only

    try:  # pragma: no cover - Windows only
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, _CI_POLICY) as key:
            value, kind = winreg.QueryValueEx(key, "VerifiedAndReputablePolicyState")
    except OSError:  # pragma: no cover - Windows only
        return None
    return value if kind == winreg.REG_DWORD else None  # pragma: no cover - Windows only


def links_unsupported(exc: OSError) -> bool:
    """Whether exc says that the file system cannot hold a link to a directory at all."""
    import errno

    winerror = getattr(exc, "winerror", None)
    if winerror is not None:
        return winerror in _NO_LINKS_WINERRORS
    return exc.errno in (errno.EPERM, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP))


def link_directory(target: str, link: str, windows: bool = sys.platform == "win32") -> str:
    """Link `link` to directory `target`; returns the kind of link made."""
    if windows:
        create_junction(target, link)
        return "junction"
    os.symlink(target, link, target_is_directory=True)
    return "symlink"


def command_processor(environ: Mapping[str, str], windows: bool = sys.platform == "win32") -> list[str]:
    """How to start cmd.exe: %COMSPEC% (where Windows says it is), else cmd.exe from PATH."""
    if not windows:
        raise UsageError("a .bat/.cmd script needs cmd.exe, which only Windows has")
    comspec = next((v for k, v in environ.items() if k.upper() == "COMSPEC" and v), None)
    return [comspec or "cmd.exe"]


def _hive(name: str):  # pragma: no cover - Windows only
    import winreg

    return {"HKCU": winreg.HKEY_CURRENT_USER, "HKLM": winreg.HKEY_LOCAL_MACHINE}[name]


def read_autorun(hive: str) -> tuple[str, int] | None:  # pragma: no cover - Windows only
    """(value, registry type) of cmd's AutoRun in HKCU or HKLM; None when it is not set."""
    import winreg

    try:
        with winreg.OpenKey(_hive(hive), COMMAND_PROCESSOR) as key:
            value, kind = winreg.QueryValueEx(key, "AutoRun")
    except FileNotFoundError:
        return None
    return str(value), int(kind)


def write_autorun(hive: str, value: str | None, kind: int) -> None:  # pragma: no cover - Windows only
    """Set cmd's AutoRun (None deletes it). HKLM needs an elevated process."""
    import winreg

    with winreg.OpenKey(_hive(hive), COMMAND_PROCESSOR, 0, winreg.KEY_SET_VALUE) as key:
        if value is None:
            winreg.DeleteValue(key, "AutoRun")
        else:
            winreg.SetValueEx(key, "AutoRun", 0, kind, value)


def long_paths_enabled() -> bool | None:  # pragma: no cover - Windows only
    """HKLM\\...\\FileSystem\\LongPathsEnabled; None when it cannot be read."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, _FILESYSTEM) as key:
            return bool(winreg.QueryValueEx(key, "LongPathsEnabled")[0])
    except FileNotFoundError:
        return False
    except OSError:
        return None


def network_drive(path: str) -> bool:
    """Whether path lies on a drive letter mapped to a network share, as `net use` and `pushd
    \\\\server\\share` map one (ss64, PUSHD): GetDriveTypeW says DRIVE_REMOTE (4) of its root (Microsoft
    Learn, GetDriveTypeW). False for a UNC path (locations.on_share sees those), and off Windows."""
    if sys.platform != "win32" or path[1:2] != ":":
        return False
    import ctypes  # pragma: no cover - Windows only

    return ctypes.windll.kernel32.GetDriveTypeW(path[:2] + "\\") == 4  # pragma: no cover - Windows only


def documents_dir() -> str | None:  # pragma: no cover - Windows only
    """The user's Documents folder (often redirected, e.g. to OneDrive): PowerShell profiles live there."""
    import ctypes
    from ctypes import wintypes

    buf = ctypes.create_unicode_buffer(wintypes.MAX_PATH)
    # CSIDL_PERSONAL = 5, SHGFP_TYPE_CURRENT = 0
    if ctypes.windll.shell32.SHGetFolderPathW(None, 5, None, 0, buf) != 0:
        return None
    return buf.value
