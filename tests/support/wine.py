"""Wine's cmd.exe for the whole suite: one Wine prefix and one wineserver per test session.

Creating a prefix costs ~10 s; a wineserver kept alive for the session makes each later
`wine cmd /c` start in well under a second. Two ways in:

    wine.batch("name", ["@echo off", ...])          # lines written as NAME.bat, run with cmd /c
    wine.run_bat(script, ["demo", "3.12"], env={...}, cwd="Z:\\...")   # as a user types it
    wine.typed(["tar -xf ..."], env={...}, cwd=path)   # lines typed at cmd's prompt, not a batch file

run_bat is for bootstrap.bat: the stand-ins (tests/support/winstandin.c, compiled with
mingw-w64 on first use) are curl.exe, certutil.exe and net.exe in the prefix's system32 directory,
where bootstrap.bat calls them by full path as Windows ships them (Wine's own certutil.exe and
net.exe are replaced, loaded as native programs by WINEDLLOVERRIDES), and micromamba.exe / python.exe
wherever a test puts the binary; they log each run, and their own path, to STANDIN_LOG.

Wine's cmd is close to, not identical with, Windows' cmd; the differences that matter here:
- it expands % again inside the text a %VAR% expanded to, so a path holding % cannot be
  tested (Windows expands once; the scripts take the prefix from %~dp0 through a FOR
  variable, which Windows does not re-expand);
- a quoted wildcard ("C:\\dir\\*.bat") matches nothing in FOR, and `call "%%VAR%%"` loses
  the rest of the calling script; the generated scripts avoid both forms.
- `%VAR:~N,1%` with N past the end of the value may give text from beyond it (Windows: empty),
  so a length check by offset cannot be trusted under Wine for a value shorter than N.

Every Wine process runs with address-space randomisation off (WINE below: `setarch -R`, a
personality flag every process it forks and execs inherits). Debian's wine64 has no
wine64-preloader, the program that reserves Windows' fixed addresses before Linux maps anything
else; Wine's loader then reserves them itself, late (dlls/ntdll/unix/virtual.c, mmap_init:
"if we don't have a preloader, try to reserve the space now"), and /usr/lib/wine/wine64 is a
non-PIE program at 0x7d000000 whose brk heap Linux starts at a random page up to 1 GiB above
it. About once in 8,000 process starts (the ~132 KiB of heap that exists by then, out of 1 GiB)
that heap holds 0x7ffe0000, the shared user data page: virtual_alloc_first_teb cannot map it
("failed to map the shared user data: c0000018", an ERR that WINEDEBUG=-all hides) and the
process exits before it ever talks to the wineserver. Its parent's NtCreateUserProcess then has
no exit status and returns STATUS_INTERNAL_ERROR (dlls/ntdll/unix/process.c): for the cmd.exe
that `wine cmd /c` starts through start.exe, start.exe prints "ShellExecuteEx failed: Internal
error." and exits 1; for the `cmd /c` that `for /f ('...')` starts, cmd says it "Can't recognize
'CMD.EXE /C ...'". Full suite runs, which start far more Wine processes than a loop of one
script does, met it twice in two runs.
Without randomisation the heap starts at 0x7d005000, always far below 0x7ffe0000.
"""

import contextlib
import functools
import io
import json
import os
import platform
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Dict, Iterable, List, Optional, Tuple

import pip._vendor.distlib as _distlib


# The session's own directory (the pytest run's temporary root, which holds every test's tmp_path
# and the Wine prefix) is drive Z:, so a drive's root that a test's files are on (the bootstrap
# scripts' <drive>\\CACHE and <drive>\\dev\\Anaconda\\envs) is that directory, never the host's `/`.
# The host's root, which a new Wine prefix maps to Z:, is HOST_DRIVE instead, for what lies
# outside the session (the checkout's fixtures); Wine names a current directory by the drive it
# lies on.
SESSION_DRIVE = "Z"
HOST_DRIVE = "Y"
_session_root: Optional[Path] = None


def windows_path(path: os.PathLike) -> str:
    """How Wine names a Linux path: on the session's drive (Z:) when it lies in the session's
    directory, else on HOST_DRIVE, the Linux root (Z:, the root, before the session started)."""
    path = Path(path)
    if _session_root is None:
        return "Z:" + str(path).replace("/", "\\")
    if path == _session_root or _session_root in path.parents:
        return f"{SESSION_DRIVE}:\\" + "\\".join(path.relative_to(_session_root).parts)
    return f"{HOST_DRIVE}:" + str(path).replace("/", "\\")


def file_url(path) -> str:
    return "file:///" + windows_path(path).replace("\\", "/")


# How every Wine program is started: no address-space randomisation (see the module docstring)
NO_ASLR = ["setarch", platform.machine(), "--addr-no-randomize"]
WINE = [*NO_ASLR, "wine"]

SOURCE = Path(__file__).with_name("winstandin.c")
COMPILER = "x86_64-w64-mingw32-gcc"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Wine:
    root: Path
    calls: int = 0
    drives: Dict[str, Path] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        return self.root / "prefix"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def tools(self) -> Path:
        return self.root / "tools"

    @property
    def system32(self) -> Path:
        return self.prefix / "drive_c" / "windows" / "system32"

    @property
    def env(self) -> Dict[str, str]:
        # a bare environment: Wine otherwise hands every Linux variable to Windows programs
        return {
            "HOME": str(self.root / "home"), "PATH": "/usr/bin:/bin", "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all", "LANG": "C.UTF-8",
            # no Mono/Gecko installer prompts on the first start; the stand-ins over Wine's own programs
            "WINEDLLOVERRIDES": "mscoree,mshtml=;certutil.exe,curl.exe,net.exe=n",
        }

    def start(self) -> None:
        """Create the prefix (wineboot) and keep its wineserver up until stop(); the session's
        directory (root's parent) becomes drive SESSION_DRIVE."""
        global _session_root
        for d in (self.workdir, self.tools, self.root / "home", self.prefix):
            d.mkdir(parents=True, exist_ok=True)
        subprocess.run([*NO_ASLR, "wineboot", "--init"], env=self.env, capture_output=True, check=True, timeout=300)
        self.map_drive(HOST_DRIVE, Path("/"))
        self.map_drive(SESSION_DRIVE, self.root.parent)
        _session_root = self.root.parent
        subprocess.run(["wineserver", "-p"], env=self.env, check=True, timeout=60)
        # Start the prefix's services (services.exe, winedevice, rpcss...) now, with no pipe to
        # inherit: started by a test's child instead, they would hold that test's stdout pipe
        # open for the rest of the session, and a reader waiting for EOF would wait forever.
        subprocess.run([*WINE, "cmd", "/c", "exit"], env=self.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=300)

    def stop(self) -> None:
        """Stop this prefix's wineserver (and what runs in it), then delete the prefix."""
        global _session_root
        subprocess.run(["wineserver", "-k"], env=self.env, capture_output=True, timeout=60)
        shutil.rmtree(self.prefix)
        _session_root = None

    @functools.cached_property
    def standin(self) -> Path:
        """The Windows stand-in program, compiled once; also curl.exe, certutil.exe and net.exe in system32."""
        standin = self.root / "standin.exe"
        subprocess.run([COMPILER, "-municode", "-O2", "-s", "-Wall", "-Werror", "-o", str(standin), str(SOURCE)],
                       check=True, capture_output=True)
        for name in ("curl.exe", "certutil.exe", "net.exe"):
            shutil.copy(standin, self.system32 / name)
        return standin

    def batch(self, name: str, lines: List[str], timeout: int = 120) -> Tuple[int, str, str]:
        """Write lines as NAME.bat (CRLF) and run it with `wine cmd /c`; (returncode, stdout, stderr)."""
        script = self.workdir / f"{name}.bat"
        script.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        out, err = script.with_suffix(".out"), script.with_suffix(".err")
        code = self._cmd(script, self.env, str(self.workdir), out, err, timeout)
        return code, _read(out), _read(err)

    def _cmd(self, script: Path, env: Dict[str, str], cwd: str, out: Path, err: Path, timeout: int) -> int:
        """`wine cmd /c script`, output to the files out and err (not pipes: Wine's helper processes
        may inherit the handles and outlive the run, and a pipe would then never report its end)."""
        with open(out, "wb") as o, open(err, "wb") as e:
            return subprocess.run([*WINE, "cmd", "/c", windows_path(script)], env=env, cwd=cwd,
                                  stdin=subprocess.DEVNULL, stdout=o, stderr=e, timeout=timeout).returncode

    def typed(self, lines: List[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> Run:
        """lines as a user types them at cmd's prompt (`cmd /q /k` reading its input), whose rules
        differ from a batch file's: an undefined %NAME% stays as typed, %% is no escape."""
        self.calls += 1
        base = self.root / "calls" / f"typed-{self.calls}"
        base.parent.mkdir(exist_ok=True)
        typed = base.with_suffix(".in")
        typed.write_bytes(("\r\n".join([*lines, "exit"]) + "\r\n").encode("utf-8"))
        out, err = base.with_suffix(".out"), base.with_suffix(".err")
        with open(typed, "rb") as i, open(out, "wb") as o, open(err, "wb") as e:
            code = subprocess.run([*WINE, "cmd", "/q", "/k"], env={**self.env, **(env or {})}, cwd=str(cwd or self.root),
                                  stdin=i, stdout=o, stderr=e, timeout=120).returncode
        return Run(code, _read(out), _read(err))

    @contextlib.contextmanager
    def windows_build(self, build: int):
        """Every Windows program started meanwhile is told it runs on Windows 10.0.BUILD (22000 is
        Windows 11's first build; Windows 11 keeps 10.0). Wine 8 knows no Windows 11 by name, but with
        no `Version` set under HKCU\\Software\\Wine (the suite sets none but AppDefaults for a test's
        cmd.exe) each process reads HKLM's `CurrentVersion` and `CurrentBuildNumber` as it starts
        (dlls/ntdll/version.c: version_init, get_nt_registry_version). What was there comes back."""
        key = "HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion"
        code, out, _ = self.batch("version-read", [f'@reg query "{key}" /v CurrentVersion',
                                                    f'@reg query "{key}" /v CurrentBuildNumber'])
        old = dict(line.split()[0::2] for line in out.splitlines() if line.strip().startswith("Current"))
        assert code == 0 and set(old) == {"CurrentVersion", "CurrentBuildNumber"}, out
        def put(values):
            assert self.batch("version-set", [f'@reg add "{key}" /v {k} /d {v} /f >nul' for k, v in values.items()])[0] == 0
        put({"CurrentVersion": "10.0", "CurrentBuildNumber": str(build)})
        try:
            said = self.batch("version-ver", ["@ver"])[1]
            assert f"10.0.{build}" in said, said  # the programs started from now on see it
            yield
        finally:
            put(old)

    def map_drive(self, letter: str, target: Path) -> None:
        """Make LETTER: a drive whose root is target (for the <drive>\\... rules)."""
        link = self.prefix / "dosdevices" / f"{letter.lower()}:"
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        self.drives[letter.upper()] = target

    def unix(self, windows_path: str) -> Path:
        """The Unix path of a Windows path on a mapped drive (or Z:, the root, before start())."""
        p = PureWindowsPath(windows_path)
        drive = p.drive.rstrip(":").upper()
        root = self.drives[drive] if drive in self.drives else Path("/") if drive == "Z" else self.drives[drive]
        return root.joinpath(*p.parts[1:])

    def run_bat(self, script: Path, args: Iterable[str], env: Optional[Dict[str, str]] = None,
                cwd: Optional[str] = None, before: Iterable[str] = ()) -> Run:
        """Run script with args quoted as a user types them in cmd.exe.
        cwd is a Windows path (any drive); before: cmd lines run first (e.g. set X=...)."""
        self.standin  # noqa: B018 -- curl.exe and certutil.exe must exist before the script looks for them
        self.calls += 1
        wrapper = self.root / "calls" / f"call-{self.calls}.bat"
        wrapper.parent.mkdir(exist_ok=True)
        quoted = " ".join('"' + a.replace("%", "%%") + '"' for a in args)
        lines = ["@echo off", *before]
        if cwd:
            lines.append(f'cd /d "{cwd}"')
        lines.append(f'"{windows_path(script)}" {quoted}')
        wrapper.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        out, err = wrapper.with_suffix(".out"), wrapper.with_suffix(".err")
        full_env = {**self.env, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "WINEPATH": windows_path(self.tools), **(env or {})}
        code = self._cmd(wrapper, full_env, str(self.root), out, err, 300)
        return Run(code, _read(out), _read(err))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")


def read_log(path: Path) -> List[dict]:
    """The stand-ins' log: one JSON object per run."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_set_dump(path: Path) -> Dict[str, str]:
    """Parse the output of cmd's `set > file`: one NAME=value per line."""
    found = {}
    for line in path.read_bytes().decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition("=")
        if sep and name:
            found[name] = value
    return found


def launcher_exe(dest: Path, command: str) -> Path:
    """A real Windows console program that runs `command "<its own path>" ARGS...`, waits,
    passes stdin/stdout/stderr through and exits with the command's exit code.

    It is the script launcher pip ships (distlib's t64.exe): it runs the #! line found before
    the zip archive appended to it. Here the #! line is cmd.exe running a batch file, so a
    batch file can stand in for a Windows executable (mamba.exe) where a .bat cannot: cmd
    never returns to a script that starts another .bat without CALL.
    """
    launcher = (Path(_distlib.__file__).parent / "t64.exe").read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("__main__.py", "")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(launcher + f"#!{command}\r\n".encode() + archive.getvalue())
    return dest
