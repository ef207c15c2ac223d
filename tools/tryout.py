#!/usr/bin/env python3
"""Prepare the README's offline try-out: `python3 tools/tryout.py DIR [--micromamba PATH | --windows
[--windows-dir WINPATH] [--long-paths]]`.

Writes DIR/channel, a local conda channel, DIR/micromamba, the engine `create` runs, and
DIR/mambaboot.pyz, this checkout's mambaboot as a zipapp, so that `python3 mambaboot.pyz create
... --channel "file://$PWD/channel" --micromamba ./micromamba` works in DIR with no network and
no install. The channel and the engine are the test suite's own fixtures, made the way the suite
makes them:

- the channel (tests/support/channel.py): a linux-64 channel in the real package format whose
  python is this machine's Debian python3.11 (statically linked and relocatable), with the
  suite's stand-in conda and mamba packages; indexed with py-rattler;
- the engine: with --micromamba PATH, a copy of that binary (a real micromamba); otherwise the
  suite's stand-in (tests/support/micromamba_standin.py), a Python script that answers
  micromamba 2.x's command line and solves and links with py-rattler. It is not micromamba,
  and this command says so.

What it installs: Debian's python3.11 and python3-venv with apt-get when missing (as the test
command does), and a virtual environment of its own, .tryout-venv/, with only py-rattler and
PyYAML, pinned as the test extra pins them (the test command's .venv/ is reused when that made it:
a .venv/ of yours is never touched). That install is the one step that needs the network; once it exists,
everything here runs offline. The channel's repackaged python is cached where the test suite
caches it ($TMPDIR/mambaboot-test-cache, or MAMBABOOT_TEST_CACHE). Linux only, as the channel's
python is.

With --windows, the same for cmd.exe on Windows (or Wine's cmd), from the test suite's Windows
fixtures (tests/support/winpython.py): DIR/python/, the Python Software Foundation's embeddable
CPython for Windows (fetched with pip, its digest pinned, into the venv's fixtures/), which runs
mambaboot.pyz; DIR/channel, a win-64 channel whose python is that CPython laid out as conda-forge
lays Python out on Windows; DIR/micromamba.exe, the suite's Windows stand-in for micromamba
(tests/support/winengine.py), a Windows program running on DIR/python/. Prepared on Linux
(WSL's Debian or Ubuntu will do, into a Windows folder), it is then used on Windows as it is.
Before anything is installed or made, DIR is checked with create's MAX_PATH check where cmd.exe
will see it (--windows-dir), and refused (exit 2) when too deep, unless --long-paths.
"""

import argparse
import ntpath
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WHO = "tools/tryout.py"
# The test command's entries for what this needs: the channel's python, and `python3 -m venv`.
SYSTEM_PACKAGES = ("python3.11", "python3-venv")
TRYOUT_VENV = REPO / ".tryout-venv"
# What the try-out runs beyond the standard library and pip: py-rattler (the channel's index, the
# stand-in's solve and link) and PyYAML (the stand-ins read YAML), pinned as the test extra pins them.
NEEDS = ("py-rattler", "pyyaml")


def _parse(argv):
    parser = argparse.ArgumentParser(prog=WHO, description="Prepare DIR/channel and DIR/micromamba for the "
                                     "README's offline try-out.")
    parser.add_argument("dir", metavar="DIR", help="where to write channel/ and micromamba (made if missing)")
    parser.add_argument("--micromamba", metavar="PATH",
                        help="copy this (real) micromamba to DIR/micromamba instead of the test suite's stand-in")
    parser.add_argument("--windows", action="store_true",
                        help="for cmd.exe: DIR/python (Windows CPython), a win-64 DIR/channel, DIR/micromamba.exe")
    parser.add_argument("--windows-dir", metavar="WINPATH",
                        help="with --windows: DIR's path where cmd.exe will run the try-out (default: C:\\... for "
                        "WSL's /mnt/c/..., else Z:\\... as Wine shows a Linux path), checked against MAX_PATH")
    parser.add_argument("--long-paths", action="store_true",
                        help="with --windows: LongPathsEnabled is set on the Windows that runs the try-out, so DIR "
                        "may be deeper than MAX_PATH allows")
    args = parser.parse_args(argv)
    if args.windows and args.micromamba is not None:
        parser.error("--windows brings its own stand-in: --micromamba is for the Linux try-out")
    if (args.windows_dir is not None or args.long_paths) and not args.windows:
        parser.error("--windows-dir and --long-paths are for the Windows try-out: add --windows")
    if args.windows_dir is not None and not (args.windows_dir[1:3] in (":\\", ":/") and args.windows_dir[:1].isalpha()):
        parser.error(f"--windows-dir {args.windows_dir!r}: give a path from a drive's root, as C:\\tryout")
    return args


def windows_dir(path: Path) -> str:
    """Where cmd.exe sees a Linux folder: WSL shows drive C: as /mnt/c (its default automount
    root, Microsoft Learn, "Working across file systems"); Wine shows / as drive Z: (its
    dosdevices/z: link, which winecfg makes)."""
    parts = path.parts
    if len(parts) >= 3 and parts[1] == "mnt" and len(parts[2]) == 1 and parts[2].isalpha():
        return parts[2].upper() + ":\\" + "\\".join(parts[3:])
    return "Z:\\" + "\\".join(parts[1:])


def _overruns(folder: str) -> list:
    """What create's MAX_PATH check (pipeline/create.py) finds for the install page's cmd block run
    in folder: `create demo --python 3.12 --envs-dir DIR --channel DIR\\channel --cache-dir DIR\\cache`."""
    from mambaboot.common.host import Host
    from mambaboot.pipeline.create import max_path_overruns
    from mambaboot.pipeline.plan import CreateInputs, make_plan

    host = Host(environ={}, windows=True, subdir="win-64", cwd=folder, isdir=lambda p: False)
    inputs = CreateInputs(name="demo", python="3.12", envs_dir=folder, channels=(ntpath.join(folder, "channel"),),
                          micromamba=ntpath.join(folder, "micromamba.exe"), cache_dir=ntpath.join(folder, "cache"))
    return max_path_overruns(make_plan(host, inputs), host)


def max_path_refusal(folder: str):
    """Why the Windows try-out cannot run in folder with LongPathsEnabled off, and what to do;
    None when it can."""
    from mambaboot.common import cachepaths, pathrules
    from mambaboot.common.errors import UsageError

    try:
        if not _overruns(folder):
            return None
    except UsageError as exc:  # a character create refuses in a prefix
        return f"{folder}: create would refuse it: {exc}"
    cache = ntpath.join(folder, "cache", "Python", "pkgs")
    deepest = max(cachepaths.deepest(cache, ntpath.join(folder, "channel"), subdir)
                  for subdir in ("win-64", "noarch"))
    root = folder[:2] + "\\"
    fits = [n for n in range(len(folder) - 1, len(root) - 1, -1) if not _overruns(root + "t" * (n - len(root)))]
    shorter = (f"prepare it in a folder of at most {fits[0]} characters (a space or a non-ASCII character counts "
               f"more: micromamba percent-encodes it), such as one at a drive's root (/mnt/c/tryout, which cmd.exe "
               "sees as C:\\tryout), or name it by a drive letter of its own (subst T: FOLDER) and give --windows-dir "
               "T:\\; or " if fits else "no folder is short enough: ")
    return (f"{folder} ({len(folder)} characters, where cmd.exe runs the try-out) is too deep for it with "
            f"LongPathsEnabled off: the package cache's deepest files there come to about {deepest} characters, past "
            f"MAX_PATH ({pathrules.WINDOWS_MAX_PATH}), as micromamba 2.6 and later repeat a local channel's whole path "
            f"in its folder in the cache; {shorter}enable LongPathsEnabled on the Windows that runs it (mambaboot "
            "doctor shows how) and pass --long-paths")


def chosen_venv(test_venv: Path, test_stamp: Path) -> Path:
    """The test command's venv when it made it (its stamp is there), else our own: a .venv/ the
    user made (the README's plain-venv install) must not become an editable install with test tools."""
    return test_venv if test_stamp.is_file() else TRYOUT_VENV


def tryout_venv_python(venv: Path = TRYOUT_VENV) -> Path:
    """Our own venv's python, with only what the try-out runs (made once, again when the pins change)."""
    from tools import test as test_command

    return test_command.venv_python(who=WHO, venv=venv, only=test_command.test_extra(*NEEDS))


def _in_venv(venv: Path) -> bool:
    return Path(sys.prefix).resolve() == venv.resolve()


def _fail(message: str) -> None:
    sys.exit(f"{WHO}: {message}")


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _copy_micromamba(source: Path, dest: Path) -> str:
    """Copy a real micromamba into place; what it says its version is."""
    if not source.is_file():
        _fail(f"--micromamba {source}: no such file")
    try:
        proc = subprocess.run([str(source), "--version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        _fail(f"--micromamba {source}: cannot run it: {exc.strerror}")
    if proc.returncode != 0 or not proc.stdout.strip():
        _fail(f"--micromamba {source}: `--version` exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    shutil.copy2(source, dest)
    return proc.stdout.strip().splitlines()[-1]


def _fresh(target: Path, *paths: Path) -> None:
    for path in paths:
        if os.path.lexists(path):
            _fail(f"{path} exists: give a new DIR (this command replaces nothing)")
    target.mkdir(parents=True, exist_ok=True)


def _zipapp(zipapp: Path, runner: str) -> None:
    from tools.build_zipapp import build as build_zipapp

    build_zipapp(zipapp)
    print(f"{WHO}: {_show(zipapp)}: this checkout's mambaboot as one file (tools/build_zipapp.py); "
          f"run it with {runner}, or use your installed mambaboot instead")


def prepare_windows(target: Path) -> None:
    """Write target/python, target/channel (win-64), target/micromamba.exe and target/mambaboot.pyz."""
    sys.path.insert(0, str(REPO))
    from tests.support import winpython

    python, channel, engine = target / "python", target / "channel", target / "micromamba.exe"
    _fresh(target, python, channel, engine, target / "mambaboot.pyz")
    shutil.copytree(winpython.embed_dir(), python)
    print(f"{WHO}: {_show(python)}: the Python Software Foundation's embeddable CPython "
          f"{winpython.PYTHON_VERSION} for Windows (its sdist's sha256 checked)")
    # the engine finds its python beside itself, so DIR can be copied to where cmd.exe runs it
    winpython.make_engine(engine, python=f"{winpython.LAUNCHER_DIR}\\python\\python.exe")
    print(f"{WHO}: {_show(engine)}: NOT micromamba, but the test suite's Windows stand-in for it "
          "(tests/support/winengine.py): it answers micromamba's command line, picks the newest match "
          f"of each spec and links as libmamba does, running on {_show(python)}")
    winpython.build_win_channel(channel)
    print(f"{WHO}: {_show(channel)}: a local win-64 channel: python ({_show(python)}'s CPython, laid out as "
          "conda-forge lays Python out on Windows), and the test suite's stand-in conda and mamba "
          "(tests/support/winpython.py)")
    _zipapp(target / "mambaboot.pyz", "python\\python.exe")


def prepare(target: Path, micromamba) -> None:
    """Write target/channel, target/micromamba and target/mambaboot.pyz; runs in the chosen venv
    (py-rattler)."""
    sys.path.insert(0, str(REPO))
    from tests.support.channel import PY_XY, build_channel
    from tests.support.micromamba_standin import VERSION, make_standin

    channel, engine, zipapp = target / "channel", target / "micromamba", target / "mambaboot.pyz"
    _fresh(target, channel, engine, zipapp)
    if micromamba is not None:
        said = _copy_micromamba(Path(micromamba), engine)
        print(f"{WHO}: {_show(engine)}: a copy of {micromamba} (it says: {said})")
    else:
        make_standin(engine, version=VERSION)
        print(f"{WHO}: {_show(engine)}: NOT micromamba, but the test suite's stand-in for micromamba {VERSION} "
              f"(tests/support/micromamba_standin.py): it answers micromamba's command line and solves and links "
              f"with py-rattler from {_show(Path(sys.executable))}. For a real one: --micromamba PATH")
    build_channel(channel)
    print(f"{WHO}: {_show(channel)}: a local linux-64 channel: python (this machine's python{PY_XY}, repackaged), "
          "and the test suite's stand-in conda and mamba (tests/support/channel.py)")
    _zipapp(zipapp, "python3")


def main(argv=None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux"):
        _fail("the try-out's channel is built from Debian's python3.11: Linux only")
    sys.path.insert(0, str(REPO))
    if args.windows and not args.long_paths:  # before anything is installed or made
        sys.path.insert(0, str(REPO / "src"))
        refusal = max_path_refusal(args.windows_dir or windows_dir(Path(args.dir).absolute()))
        if refusal:
            print(f"{WHO}: {refusal}", file=sys.stderr)
            sys.exit(2)
    from tools import test as test_command

    venv = chosen_venv(test_command.VENV, test_command.STAMP)
    if not _in_venv(venv):
        test_command.install_system_packages(SYSTEM_PACKAGES, who=WHO)
        python = (test_command.venv_python(who=WHO, venv=venv) if venv != TRYOUT_VENV
                  else tryout_venv_python(venv))
        if args.windows:
            test_command.windows_python(python, who=WHO, venv=venv)
        sys.stdout.flush()
        # Again in .venv, where py-rattler is; DIR made absolute so nothing depends on the re-run.
        again = [str(python), str(Path(__file__).resolve()), str(Path(args.dir).absolute())]
        if args.micromamba is not None:
            again += ["--micromamba", str(Path(args.micromamba).absolute())]
        if args.windows:
            again += ["--windows", "--long-paths"]  # checked above
        os.execv(again[0], again)
    if args.windows:
        prepare_windows(Path(args.dir).absolute())
    else:
        prepare(Path(args.dir).absolute(), args.micromamba)
    # py-rattler's runtime can crash the interpreter's shutdown (the stand-in leaves the same way)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
