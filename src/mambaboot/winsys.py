"""The Windows-only corner, behind plain functions that tests can replace.

Everything else in mambaboot is platform-neutral; anything that needs the registry,
junctions or other Win32 calls lives here.
"""

import os
import sys
from typing import List, Mapping

from mambaboot.errors import UsageError


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


def command_processor(environ: Mapping[str, str], windows: bool = sys.platform == "win32") -> List[str]:
    """How to start cmd.exe: %COMSPEC% (where Windows says it is), else cmd.exe from PATH."""
    if not windows:
        raise UsageError("a .bat/.cmd script needs cmd.exe, which only Windows has")
    comspec = next((v for k, v in environ.items() if k.upper() == "COMSPEC" and v), None)
    return [comspec or "cmd.exe"]
