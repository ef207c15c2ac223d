"""Whether an environment is in use right now by the calling shell or by the Python running mambaboot: what `move` and
`remove` refuse to take from under it (another mambaboot run's use is its place's lock: placelock.Intent)."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import sys

from mambaboot.common.errors import ShellContaminated
from mambaboot.common.files import fileid


def refuse_active(host, prefix: str) -> None:
    """An environment active in the calling shell is neither moved nor removed: that shell's PATH
    would point at nothing. Nor is the one whose Python runs mambaboot (refuse_running)."""
    for var in ("CONDA_PREFIX", "MAMBABOOT_ENV"):
        value = host.get(var)
        if value and fileid.within(value, prefix):  # by identity: a link to it, another letter case, a place in it
            raise ShellContaminated(f"{prefix} is active in this shell ({var}={value}); deactivate it first")
    refuse_running(prefix, "moved or removed")


def refuse_running(prefix: str, what: str) -> None:
    """The environment whose Python runs mambaboot (as the bootstrap scripts' `python.exe mambaboot.pyz` does) is never
    moved, removed or replaced by that run: Windows refuses to delete a running program and the DLLs it has loaded, or
    to rename a directory holding them, so a remove would leave python.exe without its Lib; and where the rename goes
    through (Linux, Wine) the run loses every module it has yet to import, its sys.path naming the old place (under
    Wine: "No module named 'hmac'", exit 1, the move half done)."""
    for mine in (sys.executable, sys.prefix):
        if mine and fileid.within(mine, prefix):
            raise ShellContaminated(f"{prefix} holds the Python running mambaboot ({mine}), so it cannot be {what} "
                                    "by this run; run mambaboot with another Python")
