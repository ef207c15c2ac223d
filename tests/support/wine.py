"""Wine's cmd.exe for running generated batch files on Linux.

One Wine prefix per test session (creating one costs ~10 s); a wineserver kept alive for
a while makes each later `wine cmd /c` start in well under a second. Wine's cmd is close to,
not identical with, Windows' cmd; the differences that matter here:
- it expands % again inside the text a %VAR% expanded to, so a path holding % cannot be
  tested (Windows expands once; the scripts take the prefix from %~dp0 through a FOR
  variable, which Windows does not re-expand);
- a quoted wildcard ("C:\\dir\\*.bat") matches nothing in FOR, and `call "%%VAR%%"` loses
  the rest of the calling script; the generated scripts avoid both forms.
"""

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import pip._vendor.distlib as _distlib


def windows_path(path: os.PathLike) -> str:
    """How Wine names a Linux path (drive Z: is the Linux root)."""
    return "Z:" + str(Path(path)).replace("/", "\\")


@dataclass
class Wine:
    prefix: Path
    workdir: Path

    @property
    def env(self) -> Dict[str, str]:
        # a bare environment: Wine otherwise hands every Linux variable to Windows programs
        return {
            "HOME": str(self.prefix.parent), "PATH": "/usr/bin:/bin", "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml=", "LANG": "C.UTF-8",
        }

    def start(self) -> None:
        """Create the prefix (wineboot) and keep a wineserver up between runs."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["wineboot", "--init"], env=self.env, capture_output=True, check=True, timeout=300)
        subprocess.run(["wineserver", "-p30"], env=self.env, check=True, timeout=60)

    def stop(self) -> None:
        """Stop this prefix's wineserver (and what runs in it), then delete the prefix."""
        subprocess.run(["wineserver", "-k"], env=self.env, capture_output=True, timeout=60)
        shutil.rmtree(self.prefix)

    def batch(self, name: str, lines: List[str], timeout: int = 120) -> Tuple[int, str, str]:
        """Write lines as NAME.bat (CRLF) and run it with `wine cmd /c`; (returncode, stdout, stderr)."""
        script = self.workdir / f"{name}.bat"
        script.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        # files, not pipes: Wine's helper processes hold inherited pipes open for seconds
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(["wine", "cmd", "/c", windows_path(script)], env=self.env, cwd=str(self.workdir),
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout)
            return proc.returncode, _text(out), _text(err)


def _text(f) -> str:
    f.seek(0)
    return f.read().decode("utf-8", "replace").replace("\r\n", "\n")


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
