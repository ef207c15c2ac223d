"""The Windows-only corner, behind plain functions that tests can replace.

Everything else in mambaboot is platform-neutral; anything that needs the registry,
junctions or other Win32 calls lives here.
"""

import os
import sys


def create_junction(target: str, link: str) -> None:  # pragma: no cover - Windows only
    """A directory junction: unlike a symlink it needs no privilege or developer mode."""
    import _winapi

    _winapi.CreateJunction(target, link)


def link_directory(target: str, link: str, windows: bool = sys.platform == "win32") -> str:
    """Link `link` to directory `target`; returns the kind of link made."""
    if windows:
        create_junction(target, link)
        return "junction"
    os.symlink(target, link, target_is_directory=True)
    return "symlink"


def batch_encoding(windows: bool = sys.platform == "win32") -> str:
    """The encoding cmd.exe reads batch files in: the console's (OEM) code page.

    Only tests render Windows scripts elsewhere; they use ASCII, so UTF-8 serves there.
    """
    if not windows:
        return "utf-8"
    import ctypes  # pragma: no cover - Windows only

    return f"cp{ctypes.windll.kernel32.GetOEMCP()}"  # pragma: no cover - Windows only
