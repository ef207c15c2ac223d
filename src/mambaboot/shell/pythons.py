"""Which tool put a Python on PATH, or into a shell's start-up: named, with the way to undo it.

doctor reports these; `shell` names the start-up lines when something put another Python first.
Every layout below is the tool's own (each cites where it is defined); a directory that matches
none but holds a python is "a Python that belongs to no environment". The operating system's
own Python (/usr/bin, /bin: a Linux distribution's, macOS's stub) is the system's, not the
user's choice, and is never reported; nor is an unnamed python in /usr/local/bin (the machine
administrator's: a container image's, a `make altinstall`), where Homebrew's and python.org's are named.
"""

import re
from typing import List, Optional

from mambaboot.common import quoting, untrusted
from mambaboot.common.files import removal
from mambaboot.common.host import Host
from mambaboot.common.values import value
from mambaboot.shell import usertext

_OS_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin")
_ADMIN_DIRS = ("/usr/local/bin", "/usr/local/sbin")
_POSIX_NAMES = re.compile(r"^python(?:3(?:\.\d+)?)?$")
_WINDOWS_NAMES = re.compile(r"^python(?:3(?:\.\d+)?)?(?:w)?\.(?:exe|bat|cmd)$", re.I)  # pyenv-win's shims are .bat
# Start-up lines, outside comments, that put a Python manager's directory first on PATH in
# every new shell (a conda init block is shellinit's):
#   pyenv: `eval "$(pyenv init -)"`, `eval "$(pyenv init --path)"`, `pyenv init - fish | source`
#     (pyenv's README, "Set up your shell environment for Pyenv"); `pyenv virtualenv-init` too.
#   mise: `eval "$(mise activate bash)"`, `mise activate fish | source`, `mise activate pwsh | Out-String
#     | Invoke-Expression` (mise docs, "Getting started: Activate mise"; rtx is its old name).
#   asdf: `. "$HOME/.asdf/asdf.sh"` (asdf < 0.16), and since 0.16 a PATH line naming
#     ${ASDF_DATA_DIR:-$HOME/.asdf}/shims (asdf docs, "Getting started: Configure asdf").
_LINES = (
    ("pyenv", re.compile(r"\bpyenv\b.*\b(?:init|virtualenv-init)\b")),
    ("mise", re.compile(r"\b(?:mise|rtx)(?:\.exe)?[\"']?\s+activate\b")),
    ("asdf", re.compile(r"asdf\.(?:sh|fish|bash|elv|nu)\b|\.asdf/shims|ASDF_DATA_DIR.*shims")),
)
_LINE_FIX = {
    "pyenv": "delete it (and a PATH line naming pyenv's shims); pyenv stays installed: `pyenv exec python` runs its Python when you want it",
    "mise": "delete it; mise stays installed: `mise exec -- python` runs its Python when you want it",
    "asdf": "delete it; asdf stays installed: `asdf exec python` runs its Python when you want it",
}


@value
class Source:
    tool: str  # what put it there, as a user knows it
    fix: str


@value
class StartupLine:
    path: str
    line: int  # 1-based
    text: str
    tool: str

    @property
    def fix(self) -> str:
        return _LINE_FIX[self.tool]


def startup_lines(paths: List[str]) -> List[StartupLine]:
    """The lines of these start-up files that put pyenv's, mise's or asdf's Python first on PATH."""
    found = []
    for path in paths:
        try:  # the user's own file, read through their links, bounded and never waited on
            text = usertext.decode(untrusted.read_bytes(path)).text
        except (OSError, ValueError):
            continue
        for number, line in enumerate(usertext.lines(text), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            for tool, pattern in _LINES:
                if pattern.search(stripped):
                    found.append(StartupLine(path, number, stripped, tool))
                    break
    return found


def start_up_files(m: Host, rc_files: List[str]) -> List[str]:
    """The files an interactive or login shell of this user reads, beyond conda init's list."""
    home, j = m.home(), m.path.join
    config = m.get("XDG_CONFIG_HOME") or j(home, ".config")
    zdot = m.get("ZDOTDIR") or home
    more = [j(home, n) for n in (".profile", ".bash_login")]
    more += [j(zdot, n) for n in (".zshenv", ".zprofile", ".zshrc")]
    fish_conf = j(config, "fish", "conf.d")
    more += [j(fish_conf, n) for n in m.listdir(fish_conf) if n.endswith(".fish")]
    return list(dict.fromkeys(rc_files + more))


def pythons_in(m: Host, directory: str) -> List[str]:
    pattern = _WINDOWS_NAMES if m.windows else _POSIX_NAMES
    return [n for n in m.listdir(directory) if pattern.match(n) and m.is_file(m.path.join(directory, n))]


def _tail(m: Host, directory: str, *parts: str) -> bool:
    """Does directory end with these path components (case-insensitively on Windows)?"""
    want = m.same_key(m.path.join("x", *parts))[1:]
    return m.same_key(directory).endswith(want)


def _delete(m: Host, paths: List[str]) -> str:
    """The command that deletes these files, typed as shown: one rm, or on Windows cmd's and PowerShell's for each."""
    if m.windows:
        return " and ".join(removal.by_hand(path, "file", windows=True) for path in paths)
    return quoting.advice(["rm", *paths], False)


def classify(m: Host, directory: str, names: List[str]) -> Optional[Source]:
    """Who put this PATH directory, holding the pythons `names`, there; None for the OS's own."""
    p, home = m.path, m.home()
    key = m.same_key(directory)
    if not m.windows and key in _OS_DIRS:
        return None
    first = p.join(directory, names[0])
    real = m.realpath(first).replace("\\", "/")

    def under(variable: str, *default: str) -> bool:
        root = m.get(variable) or p.join(home, *default)
        return key == m.same_key(p.join(root, "shims"))

    if m.windows and (_tail(m, directory, ".pyenv", "pyenv-win", "shims") or _tail(m, directory, ".pyenv", "pyenv-win", "bin")):
        # pyenv-win's installer puts %USERPROFILE%\.pyenv\pyenv-win\bin and \shims on the user PATH
        # (pyenv-win's install-pyenv-win.ps1; `pyenv rehash` writes the shims, libexec/libs/pyenv-lib.vbs)
        return Source("pyenv-win's shims", "take %USERPROFILE%\\.pyenv\\pyenv-win\\bin and \\shims out of your user PATH "
                      "(Settings > System > About > Advanced system settings > Environment Variables); "
                      "`pyenv exec python` still runs its Python")
    if under("PYENV_ROOT", ".pyenv") or _tail(m, directory, ".pyenv", "shims"):
        return Source("pyenv's shims", "take pyenv's shims off PATH: delete `pyenv init` and the PATH line naming "
                      "pyenv/shims from your start-up files; `pyenv exec python` still runs its Python")
    if under("ASDF_DATA_DIR", ".asdf") or _tail(m, directory, ".asdf", "shims"):
        return Source("asdf's shims", "take asdf's shims off PATH (the line naming .asdf/shims or sourcing asdf.sh in your "
                      "start-up files); `asdf exec python` still runs its Python")
    if _tail(m, directory, "mise", "shims") or "/mise/installs/python/" in key.replace("\\", "/") + "/":
        return Source("mise", "delete `mise activate` (or the PATH line naming mise's shims) from your start-up files; "
                      "`mise exec -- python` still runs its Python")
    if "/uv/python/" in real or "/uv/python/" in key.replace("\\", "/"):
        # uv python install: the interpreters under $XDG_DATA_HOME/uv/python/<key>/, and python3.X
        # (with --default also python, python3) linked from the executable directory, ~/.local/bin
        # by default (uv docs/reference/storage.md, "Python executables", "Executable directory")
        return Source("uv's Python installs (`uv python install`)",
                      f"remove the python links uv made in {directory} "
                      f"({_delete(m, [p.join(directory, n) for n in names])}), "
                      "or install with `uv python install --no-bin`; uv and `uv run` still find its Pythons")
    if "/Cellar/" in real or key.startswith(("/opt/homebrew/", "/home/linuxbrew/.linuxbrew/")):
        return Source("Homebrew's python", "`brew unlink python@3.X` takes its python3 off Homebrew's bin directory "
                      "(the formulae that need it keep it)")
    if "/Library/Frameworks/Python.framework/" in real:
        return Source("the python.org installer", "take /Library/Frameworks/Python.framework/... out of PATH (its "
                      "installer's 'Update Shell Profile' line in ~/.zprofile or ~/.bash_profile)")
    if m.windows:
        win = key.replace("/", "\\")
        if re.search(r"\\programs\\python\\python3\d+(?:-32|-arm64)?(?:\\scripts)?$", win) or \
                re.search(r"^[a-z]:\\(?:program files(?: \(x86\))?\\)?python3\d+(?:-32|-arm64)?(?:\\scripts)?$", win):
            return Source("the python.org installer ('Add python.exe to PATH')",
                          "take it out of your PATH (Settings > System > About > Advanced system settings > Environment "
                          "Variables), or reinstall without 'Add python.exe to PATH'")
    if not m.windows and key in _ADMIN_DIRS:
        return None  # a python the machine's administrator installed there (make altinstall, an image's)
    return Source("a Python that belongs to no environment", f"take {directory} out of PATH, or its python out of {directory}")


def py_launcher(m: Host, directory: str) -> bool:
    """The python.org `py` launcher (C:\\Windows\\py.exe, or per user ...\\Programs\\Python\\Launcher)."""
    return m.windows and m.is_file(m.path.join(directory, "py.exe"))
