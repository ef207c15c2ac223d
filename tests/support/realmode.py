"""The suite's real-engine mode: which micromamba and which packages the end-to-end tests use.

By default every end-to-end test runs on the stand-in micromamba (tests/support/
micromamba_standin.py) and on the test channel's small conda and mamba scripts. Two variables,
read here and by tools/test.py, put the real world in their place:

MAMBABOOT_TEST_MICROMAMBA=PATH   a real micromamba (upstream's release, or built from its
                                 source): every test that runs the engine runs this one. Tests
                                 that inject faults (a failure, a block, a record of the call)
                                 keep the stand-in through the ``fault_standin`` fixture.
MAMBABOOT_TEST_CHANNEL=DIR       a channel directory of real packages (a conda-forge mirror, or
                                 one made by hand): its packages replace the test channel's
                                 conda and mamba scripts in every channel the suite builds, so
                                 "the environment's own conda and mamba" are the real programs.
                                 The test channel's python and pip stay: their builds are what
                                 the suite's other channels vary (a python that lies about its
                                 version, a package with a long prefix).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ENGINE_VARIABLE = "MAMBABOOT_TEST_MICROMAMBA"
CHANNEL_VARIABLE = "MAMBABOOT_TEST_CHANNEL"
# Packages the test channel builds itself even when real packages are given.
OWN_PACKAGES = ("python", "pip")


class RealModeError(Exception):
    """A variable names something that is not there: the run must stop, not fall back."""


def engine() -> Optional[Path]:
    """The real micromamba given, or None (the stand-in)."""
    value = os.environ.get(ENGINE_VARIABLE)
    if not value:
        return None
    path = Path(value).absolute()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RealModeError(f"{ENGINE_VARIABLE}={value}: not an executable file")
    return path


def channel() -> Optional[Path]:
    """The channel of real packages given, or None (the test channel's scripts)."""
    value = os.environ.get(CHANNEL_VARIABLE)
    if not value:
        return None
    path = Path(value.replace("file://", "", 1) if value.startswith("file://") else value).absolute()
    if not any((path / subdir / "repodata.json").is_file() for subdir in ("noarch", "linux-64")):
        raise RealModeError(f"{CHANNEL_VARIABLE}={value}: no noarch/ or linux-64/ repodata.json there")
    return path


def package_name(file_name: str) -> str:
    """NAME of NAME-VERSION-BUILD.tar.bz2 / .conda (a name may hold dashes, version and build may not)."""
    stem = file_name[:-len(".tar.bz2")] if file_name.endswith(".tar.bz2") else file_name.rsplit(".", 1)[0]
    return stem.rsplit("-", 2)[0]


def real_archives(real: Path):
    """(subdir, archive path) of every real package the test channel takes."""
    for subdir in ("linux-64", "noarch"):
        folder = real / subdir
        if not folder.is_dir():
            continue
        for archive in sorted(folder.iterdir()):
            if archive.name.endswith((".tar.bz2", ".conda")) and package_name(archive.name) not in OWN_PACKAGES:
                yield subdir, archive


def describe() -> str:
    """One line for the test command to print: which mode this run is."""
    real_engine, real_channel = engine(), channel()
    if not real_engine and not real_channel:
        return "engine: the stand-in micromamba; conda and mamba: the test channel's scripts"
    parts = [f"engine: {real_engine}" if real_engine else "engine: the stand-in micromamba"]
    parts.append(f"conda and mamba from {real_channel}" if real_channel else "conda and mamba: the test channel's scripts")
    return "real mode: " + "; ".join(parts)
