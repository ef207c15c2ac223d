"""Wine's cmd for bootstrap.bat: one WINEPREFIX per session, real Windows executables as stand-ins.

    wine.run_bat(script, ["demo", "3.12", "--package", "numpy>=2"], env={...}, cwd=path)

runs `wine cmd /c call-N.bat`, where call-N.bat holds the command line exactly as a user
types it in cmd.exe (every argument quoted). The stand-ins (tests/support/winstandin.c,
compiled with mingw-w64) are curl.exe and certutil.exe on WINEPATH, and micromamba.exe /
python.exe wherever a test puts the binary; they log each run to STANDIN_LOG.

Wine's cmd is close to, not the same as, Windows' cmd: bootstrap.bat keeps to what both
run the same way; what only real Windows can show is listed in the README.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Dict, Iterable, List, Optional

SOURCE = Path(__file__).with_name("winstandin.c")
COMPILER = "x86_64-w64-mingw32-gcc"


def win(path) -> str:
    """The Windows name of a Unix path (Wine maps / to Z:)."""
    return "Z:" + str(path).replace("/", "\\")


def file_url(path) -> str:
    return "file:///Z:" + str(path)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Wine:
    root: Path
    prefix: Path
    tools: Path
    standin: Path
    env: Dict[str, str]
    calls: int = 0
    drives: Dict[str, Path] = field(default_factory=dict)

    def map_drive(self, letter: str, target: Path) -> None:
        """Make LETTER: a drive whose root is target (for the <drive>\\... rules)."""
        link = self.prefix / "dosdevices" / f"{letter.lower()}:"
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        self.drives[letter.upper()] = target

    def unix(self, windows_path: str) -> Path:
        """The Unix path of a Windows path on Z: or a mapped drive."""
        p = PureWindowsPath(windows_path)
        drive = p.drive.rstrip(":").upper()
        root = Path("/") if drive == "Z" else self.drives[drive]
        return root.joinpath(*p.parts[1:])

    def run_bat(self, script: Path, args: Iterable[str], env: Optional[Dict[str, str]] = None,
                cwd: Optional[str] = None, before: Iterable[str] = ()) -> Run:
        """cwd is a Windows path (any drive); before: cmd lines run first (e.g. set X=...)."""
        self.calls += 1
        wrapper = self.root / "calls" / f"call-{self.calls}.bat"
        wrapper.parent.mkdir(exist_ok=True)
        quoted = " ".join('"' + a.replace("%", "%%") + '"' for a in args)
        lines = ["@echo off", *before]
        if cwd:
            lines.append(f'cd /d "{cwd}"')
        lines.append(f'"{win(script)}" {quoted}')
        wrapper.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        # Output goes to files, not pipes: Wine's helper processes may inherit the handles
        # and outlive the run, and a pipe would then never report its end.
        out, err = wrapper.with_suffix(".out"), wrapper.with_suffix(".err")
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.run(["wine", "cmd", "/c", win(wrapper)], env={**self.env, **(env or {})},
                                  cwd=str(self.root), stdout=o, stderr=e, stdin=subprocess.DEVNULL, timeout=300)
        return Run(proc.returncode, _text(out), _text(err))


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")


def read_log(path: Path) -> List[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def start(root: Path) -> Wine:
    """Compile the stand-ins, create the prefix and keep its wineserver up for the session."""
    standin = root / "standin.exe"
    subprocess.run([COMPILER, "-municode", "-O2", "-s", "-Wall", "-Werror", "-o", str(standin), str(SOURCE)],
                   check=True, capture_output=True)
    tools = root / "tools"
    tools.mkdir()
    for name in ("curl.exe", "certutil.exe"):
        shutil.copy(standin, tools / name)
    prefix = root / "prefix"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root / "home"), "LANG": "C.UTF-8",
        "WINEPREFIX": str(prefix), "WINEDEBUG": "-all", "WINEPATH": win(tools),
        "WINEDLLOVERRIDES": "mscoree,mshtml=",  # no Mono/Gecko installer prompts on the first start
    }
    (root / "home").mkdir()
    prefix.mkdir()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "stdin": subprocess.DEVNULL}
    subprocess.run(["wineserver", "-p"], env=env, check=True, **quiet)  # one server for the whole session
    subprocess.run(["wine", "cmd", "/c", "exit", "0"], env=env, check=True, timeout=300, **quiet)
    return Wine(root=root, prefix=prefix, tools=tools, standin=standin, env=env)


def stop(w: Wine) -> None:
    subprocess.run(["wineserver", "-k"], env=w.env, capture_output=True)
