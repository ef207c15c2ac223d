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
