"""The facts about the machine that planning depends on, gathered in one place.

Planning is pure: it reads a Host, never os.environ or the platform directly, so the
Windows rules (drive-relative defaults, path characters) are testable on any machine.
"""

import ntpath
import os
import platform
import posixpath
import sys
from dataclasses import dataclass, field
from typing import Callable, List, Mapping, Optional

_MACHINES = {
    "x86_64": "64",
    "amd64": "64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
}


def conda_subdir(system: str, machine: str) -> str:
    """The conda platform name (and micromamba release asset suffix) for this machine."""
    system = system.lower()
    arch = _MACHINES.get(machine.lower(), machine.lower())
    if system.startswith("win"):
        return "win-64"
    if system == "darwin":
        return "osx-arm64" if arch in ("arm64", "aarch64") else "osx-64"
    if arch == "64":
        return "linux-64"
    return f"linux-{arch}"


@dataclass(frozen=True)
class Host:
    """The environment, the platform's conventions and the file-system probes that planning and
    doctor read; tests replace the probes to describe a machine that is not this one."""

    environ: Mapping[str, str]
    windows: bool
    subdir: str
    cwd: str
    isdir: Callable[[str], bool] = field(default=os.path.isdir, compare=False)
    is_file: Callable[[str], bool] = field(default=os.path.isfile, compare=False)
    is_executable: Callable[[str], bool] = field(default=lambda p: os.access(p, os.X_OK), compare=False)
    realpath: Callable[[str], str] = field(default=os.path.realpath, compare=False)
    # The volume a path is (or would be) on: st_dev of its nearest existing ancestor; None unknown.
    device: Callable[[str], Optional[int]] = field(default=lambda p: volume(p)[0], compare=False)
    # None: the rule in shell/isolation.py (a directory holding conda-meta/ or pyvenv.cfg)
    is_env_root: Optional[Callable[[str], bool]] = field(default=None, compare=False)

    @property
    def path(self):
        """The path module for this host's conventions."""
        return ntpath if self.windows else posixpath

    def get(self, name: str) -> str:
        """A variable's value ("" when unset); Windows names are case-insensitive."""
        if self.windows:
            return next((v for k, v in self.environ.items() if k.upper() == name), "")
        return self.environ.get(name, "")

    def same_key(self, path: str) -> str:
        """What two spellings of one path have in common on this host."""
        p = self.path
        return p.normcase(p.normpath(path)) if path else ""

    def path_entries(self) -> List[str]:
        """PATH's entries in order, each once."""
        seen, entries = set(), []
        for entry in self.get("PATH").split(";" if self.windows else ":"):
            key = self.same_key(entry)
            if entry and key not in seen:
                seen.add(key)
                entries.append(entry)
        return entries

    def home(self) -> str:
        env = self.environ
        if self.windows:
            return env.get("USERPROFILE") or self.path.join(env.get("HOMEDRIVE", "C:"), env.get("HOMEPATH", "\\"))
        return env.get("HOME") or os.path.expanduser("~")


def volume(path: str) -> "tuple[Optional[int], str]":
    """(st_dev, mount point) of the nearest existing ancestor of an absolute path; (None, "")
    when nothing of it exists. The mount point is the topmost ancestor on the same device."""
    if not os.path.isabs(path):
        return None, ""
    here = os.path.abspath(path)
    while True:
        try:
            dev = os.stat(here).st_dev
            break
        except OSError:
            parent = os.path.dirname(here)
            if parent == here:
                return None, ""
            here = parent
    while True:
        parent = os.path.dirname(here)
        try:
            if parent == here or os.stat(parent).st_dev != dev:
                return dev, here
        except OSError:
            return dev, here
        here = parent


def current() -> Host:
    return Host(
        environ=dict(os.environ),
        windows=sys.platform == "win32",
        subdir=conda_subdir(platform.system(), platform.machine()),
        cwd=os.getcwd(),
    )
