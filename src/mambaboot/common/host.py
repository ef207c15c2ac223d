"""The facts about the machine that planning depends on, gathered in one place.

Planning is pure: it reads a Host, never os.environ or the platform directly, so the
Windows rules (drive-relative defaults, path characters) are testable on any machine.
"""

import os
import posixpath
import sys

_MACHINES = {
    "x86_64": "64",
    "amd64": "64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
}


def _account_home() -> str:
    """The home directory the password database gives this user (what a login would set HOME
    to), for a HOME that is unset or empty; "" when there is none."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError):
        return ""


# Windows 11's first build: from it on, ARM64 Windows runs x64 programs under its x64 emulation;
# Windows 10 on ARM runs x86 and ARM64 programs only (Microsoft Learn, "How emulation works on Arm").
WINDOWS_11_BUILD = 22000
# What create says, and how it refuses, on ARM64 Windows: the bootstrap scripts' words.
ARM64_EMULATED = ("ARM64: using win-64 (x64) under Windows 11's x64 emulation: conda-forge builds conda for "
                  "win-arm64 for Python 3.14 only (conda/conda#15448)")
ARM64_WINDOWS_10 = ("ARM64 Windows 10 runs no x64 program, and mambaboot makes no win-arm64 environment (conda-forge "
                    "builds conda there for Python 3.14 only: conda/conda#15448); use Windows 11 or an x64 machine")


def conda_subdir(system: str, machine: str, windows_build: int = 0) -> str:
    """The conda platform name (and micromamba release asset suffix) for this machine."""
    system = system.lower()
    arch = _MACHINES.get(machine.lower(), machine.lower())
    if system.startswith("win"):
        if arch in ("arm64", "aarch64"):
            # micromamba ships win-64 and win-arm64, but conda-forge builds conda for win-arm64 for
            # Python 3.14 only (conda-forge/conda-feedstock#314's win_arm64 variant; conda/conda#16540,
            # #15448): win-64 under Windows 11's emulation, every Python alike, as the bootstrap scripts
            # take it (docs/windows.md). On Windows 10 only the win-arm64 build runs
            # (`lock --platform P` solves there); what installs its own packages refuses (own_packages).
            return "win-64" if windows_build >= WINDOWS_11_BUILD else "win-arm64"
        return "win-64"
    if system == "darwin":
        return "osx-arm64" if arch in ("arm64", "aarch64") else "osx-64"
    if arch == "64":
        return "linux-64"
    return f"linux-{arch}"


class Host:
    """The environment, the platform's conventions and the file-system probes that planning and
    doctor read; tests replace the probes to describe a machine that is not this one.
    (A plain class: every command builds one, and `dataclasses` costs start-up time.)"""

    def __init__(
        self, *, environ: "Mapping[str, str]", windows: bool, subdir: str, cwd: str,
        isdir: "Callable[[str], bool]" = os.path.isdir,
        is_file: "Callable[[str], bool]" = os.path.isfile,
        is_executable: "Optional[Callable[[str], bool]]" = None,
        realpath: "Callable[[str], str]" = os.path.realpath,
        # The volume a path is (or would be) on: st_dev of its nearest existing ancestor; None unknown.
        device: "Optional[Callable[[str], Optional[int]]]" = None,
        # None: the rule in common/isolation.py (a directory holding conda-meta/ or pyvenv.cfg)
        is_env_root: "Optional[Callable[[str], bool]]" = None,
        # The names in a directory, sorted; [] for one that cannot be listed
        listdir: "Optional[Callable[[str], List[str]]]" = None,
    ) -> None:
        self.environ, self.windows, self.subdir, self.cwd = environ, windows, subdir, cwd
        self.isdir, self.is_file, self.realpath, self.is_env_root = isdir, is_file, realpath, is_env_root
        self.listdir = listdir or _listdir
        self.is_executable = is_executable or (lambda p: os.access(p, os.X_OK))
        self.device = device or (lambda p: volume(p)[0])

    def _facts(self) -> tuple:
        return (dict(self.environ), self.windows, self.subdir, self.cwd)

    def __eq__(self, other: object) -> bool:  # the facts, not the probes
        return isinstance(other, Host) and self._facts() == other._facts()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Host(windows={self.windows!r}, subdir={self.subdir!r}, cwd={self.cwd!r})"

    @property
    def path(self):
        """The path module for this host's conventions."""
        if self.windows:
            import ntpath  # ~1 ms with what it imports: only for a Windows host (tests make them anywhere)

            return ntpath
        return posixpath

    def get(self, name: str) -> str:
        """A variable's value ("" when unset); Windows names are case-insensitive."""
        if self.windows:
            return next((v for k, v in self.environ.items() if k.upper() == name), "")
        return self.environ.get(name, "")

    def same_key(self, path: str) -> str:
        """What two spellings of one path have in common on this host."""
        p = self.path
        return p.normcase(p.normpath(path)) if path else ""

    def path_entries(self) -> "List[str]":
        """PATH's entries in order, each once."""
        seen, entries = set(), []
        for entry in self.get("PATH").split(";" if self.windows else ":"):
            key = self.same_key(entry)
            if entry and key not in seen:
                seen.add(key)
                entries.append(entry)
        return entries

    def home(self) -> str:
        """The user's home directory. A relative one is refused: every path made from it (the
        cache, environments.txt, rc files) would land under whatever the current directory is."""
        env = self.environ
        if self.windows:
            name = "USERPROFILE"
            found = env.get(name) or self.path.join(env.get("HOMEDRIVE", "C:"), env.get("HOMEPATH", "\\"))
        else:
            name = "HOME"
            found = env.get(name) or _account_home()
        if not self.absolute(found):
            from mambaboot.common.errors import UsageError

            raise UsageError(f"{name} is {found!r}, not an absolute path: the files mambaboot keeps under your home "
                             f"directory would land in the current one; set {name} to your home directory")
        return found

    def base_dir(self, name: str) -> "str | None":
        """An XDG base directory variable (or LOCALAPPDATA), when it holds an absolute path: the
        XDG Base Directory Specification has a relative one ignored as invalid."""
        value = self.environ.get(name)
        return value if value and self.absolute(value) else None

    def absolute(self, path: str) -> bool:
        """Not relative to the current directory. On Windows: from a drive's root (C:\\, C:/), a
        UNC share, or the current drive's root (\\Users\\u), whatever ntpath.isabs says of the
        last (absolute before Python 3.13, not since); C:Users is relative."""
        if not self.windows:
            return self.path.isabs(path)
        return path[:1] in ("\\", "/") or (path[1:2] == ":" and path[2:3] in ("\\", "/"))


def own_packages(host: Host) -> "Optional[str]":
    """Before anything that installs this machine's own packages (create, `lock` without
    --platform): the line to say when they are not of the machine's processor (win-64 on ARM64
    Windows 11); ObtainError, as the scripts' exit 5, on ARM64 Windows 10, where no micromamba that
    runs can install conda. A bootstrap script's hand-over tells its child AMD64: said once."""
    if not host.windows:
        return None
    if host.subdir == "win-arm64":
        from mambaboot.common.errors import ObtainError

        raise ObtainError(ARM64_WINDOWS_10)
    processor = host.get("PROCESSOR_ARCHITEW6432") or host.get("PROCESSOR_ARCHITECTURE")
    return ARM64_EMULATED if host.subdir == "win-64" and processor.upper() == "ARM64" else None


def _listdir(path: str) -> "List[str]":
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


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
    windows = sys.platform == "win32"
    # os.uname() is what platform.system()/machine() read on POSIX, without importing platform.
    # A 32-bit Python on 64-bit Windows sees x86 in PROCESSOR_ARCHITECTURE and the machine's own
    # in PROCESSOR_ARCHITEW6432 (Microsoft Learn, "WOW64 Implementation Details"), as the bootstrap scripts read them.
    processor = os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE", "AMD64")
    system, machine = (("Windows", processor) if windows
                       else (os.uname().sysname, os.uname().machine))
    build = sys.getwindowsversion().build if windows else 0
    return Host(environ=dict(os.environ), windows=windows, subdir=conda_subdir(system, machine, build), cwd=os.getcwd())
