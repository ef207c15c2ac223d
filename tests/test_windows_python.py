"""The user's path on the real Windows CPython (the PSF's embeddable 3.12.9, tests/support/winpython.py)
under Wine: bootstrap.bat's hand-over to `python.exe mambaboot.pyz adopt`, and `mambaboot create`
run by that python, each then activated in a fresh cmd. Wine's drives hold no junctions (WinError
50, as a FAT32 stick or many network shares), so the cache link falls back, said in one line.

Few and whole: each start of a Windows program costs Wine a fraction of a second, a create about
a minute."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mambaboot.pipeline.plan import PINNED_MICROMAMBA
from tests.conftest import REPO
from tests.support.wine import file_url, read_set_dump
from tests.support.wine import windows_path as win

NO_LINK = "cache link: not made, as with --no-cache-link"


def _where(name: str) -> str:
    """where.exe's answer, every NAME.EXT along PATH in order (Wine 8's where.exe prints nothing)."""
    return f'for %%D in ("%PATH:;=" "%") do @for %%E in (%PATHEXT%) do @if exist "%%~D\\{name}%%E" echo %%~D\\{name}%%E'


def _activated(winpython, prefix: Path, tmp: Path) -> dict:
    """A fresh cmd: activate, ask python, where and mamba, deactivate; PATH before and after."""
    before, after = tmp / "before.txt", tmp / "after.txt"
    scripts = win(prefix / ".mambaboot")
    r = winpython.cmd([
        f'set > "{win(before)}"',
        f'call "{scripts}\\activate.bat"',
        "if errorlevel 1 exit /b 1",
        'python -c "import sys; print(\'prefix=\' + sys.prefix)"',
        _where("python"),
        _where("mamba"),
        "call mamba --version",
        f'call "{scripts}\\deactivate.bat"',
        f'set > "{win(after)}"',
        "exit /b 0",
    ])
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    return {"lines": lines, "stderr": r.stderr,
            "before": read_set_dump(before).get("PATH"), "after": read_set_dump(after).get("PATH")}


def _assert_activation_works(winpython, prefix: Path, tmp: Path) -> None:
    seen = _activated(winpython, prefix, tmp)
    lines = seen["lines"]
    assert f"prefix={win(prefix)}" in lines, seen
    pythons = [line for line in lines if line.lower().endswith("python.exe")]
    assert pythons == [win(prefix / "python.exe")], seen  # the environment's only: no other python on PATH
    mambas = [line for line in lines if "mamba." in line.lower()]
    assert mambas[0] == win(prefix / "condabin" / "mamba.bat"), seen  # the wrapper first
    assert "2.8.1" in lines, seen
    assert seen["before"] and seen["after"] == seen["before"], seen  # deactivate restores PATH exactly


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text(encoding="utf-8"))


def test_create_by_the_windows_python_activates_and_moves(winpython, tmp_path):
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    r = winpython.mambaboot(["create", "demo", "--python", "3.12", *winpython.create_args(),
                             "--envs-dir", win(envs), "--cache-dir", win(cache)])
    prefix = envs / "demo_3_12"
    assert r.returncode == 0, r.stderr
    # before: exit 141 and nothing said, CreateJunction's WinError 50 taken for a reader gone
    assert [line for line in r.stderr.splitlines() if NO_LINK in line] == [
        f"warning: {NO_LINK}: {win(prefix / 'pkgs')}'s file system cannot link to a directory "
        "(Request not supported, WinError 50)"], r.stderr
    assert not (prefix / "pkgs").exists()
    record = _record(prefix)
    assert (record["state"], record["platform"]) == ("complete", "win-64")
    assert record["verification"]["python_version"] == "3.12.9"
    _assert_activation_works(winpython, prefix, tmp_path)

    # move to another directory: the same fallback, and the record at the new place complete
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = other / "demo"
    r = winpython.mambaboot(["move", win(prefix), win(moved), "--cache-dir", win(cache)])
    assert r.returncode == 0, r.stderr
    assert NO_LINK in r.stderr
    assert not prefix.exists() and _record(moved)["state"] == "complete"
    _assert_activation_works(winpython, moved, tmp_path)


@pytest.fixture
def served(winpython, tmp_path):
    """bootstrap.bat beside the real mambaboot.pyz, micromamba's release served from a directory
    as tests/test_bootstrap_bat.py serves it (file:// through the curl.exe stand-in)."""
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(REPO / "bootstrap" / "bootstrap.bat", dist / "bootstrap.bat")
    shutil.copy(winpython.zipapp, dist / "mambaboot.pyz")
    release = tmp_path / "releases" / "download" / PINNED_MICROMAMBA
    release.mkdir(parents=True)
    data = winpython.engine.read_bytes()
    (release / "micromamba-win-64").write_bytes(data)
    (release / "micromamba-win-64.sha256").write_text(hashlib.sha256(data).hexdigest())
    winpython.wine.standin  # noqa: B018 -- curl.exe and certutil.exe in system32, as bootstrap.bat calls them
    return dist, tmp_path / "releases"


def test_bootstrap_bat_hands_over_to_the_windows_python_and_the_environment_activates(winpython, served, tmp_path):
    dist, releases = served
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    args = ["py", "3.12", "--channel", winpython.channel_url, "--envs-dir", win(envs), "--cache-dir", win(cache)]
    r = winpython.run(dist / "bootstrap.bat", args, env={"MAMBABOOT_RELEASES_URL": file_url(releases)}, cwd=envs)
    prefix = envs / "py_3_12"
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert f'engine: created "{win(prefix)}"' in r.stderr  # bootstrap.bat's own line, then adopt's
    assert NO_LINK in r.stderr and f"done: {win(prefix)}" in r.stderr, r.stderr
    record = _record(prefix)
    assert record["state"] == "complete" and record["verification"]["python_version"] == "3.12.9"
    _assert_activation_works(winpython, prefix, tmp_path)
