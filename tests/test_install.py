"""The README's install lines, each run from (a copy of) this checkout into a temporary place
with no network, then the installed command run as the README says: `--version`, and the
README's try-out example (create, activate, python, deactivate, remove) with that command in
place of `python3 mambaboot.pyz`, as the README says an installed mambaboot does the same, called by its path (nothing activated, nothing added to PATH), in a directory
holding what `tools/tryout.py` prepares (the suite's channel and stand-in; tests/test_readme.py
runs the preparation itself). The build backend comes from tools/test.py's wheelhouse."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from mambaboot import __version__
from tests.conftest import REPO, RUNTIME_PYTHON
from tests.test_readme import tryout_example

WHEELHOUSE = REPO / ".venv" / "wheelhouse"
BIN = Path(sys.executable).parent  # pipx and uv come with the test extra
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_install_line(way: str) -> str:
    row = re.search(rf"^\| {re.escape(way)} \| `([^`]+)`", README, re.M)
    assert row, f"README's Install table has no row for {way}"
    return row.group(1)




@pytest.fixture
def checkout(tmp_path) -> Path:
    """This checkout's sources as `pip install .` reads them; a copy, because building writes
    build/ and *.egg-info into the source directory."""
    assert any(WHEELHOUSE.glob("setuptools-*.whl")), "no wheelhouse: run the suite with python3 tools/test.py"
    dest = tmp_path / "checkout"
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, dest / name)
    return dest


def _offline_env(world, tmp_path) -> dict:
    return {**world.env, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE),
            "UV_OFFLINE": "1", "UV_FIND_LINKS": str(WHEELHOUSE), "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"}


def _install(line: str, cwd: Path, env: dict) -> None:
    """Run the README's line as a shell would, with pip/pipx/uv being the test extra's."""
    proc = subprocess.run(["bash", "-euc", line], cwd=str(cwd), env={**env, "PATH": f"{BIN}:{env['PATH']}"},
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _use(command: List[str], world, channel, standin) -> None:
    """`mambaboot --version` and the README's try-out example through command."""
    version = subprocess.run([*command, "--version"], env=world.env, capture_output=True, text=True)
    assert (version.returncode, version.stdout) == (0, f"mambaboot {__version__}\n"), version.stderr
    prepared = world.envs / "tryout"
    prepared.mkdir()
    (prepared / "channel").symlink_to(channel.replace("file://", "", 1))
    (prepared / "micromamba").symlink_to(standin)
    example = tryout_example()
    assert re.findall(r"^python3 mambaboot\.pyz (\w+)", example, re.M) == ["create", "remove"], example
    script = re.sub(r"^python3 mambaboot\.pyz ", " ".join(map(shlex.quote, command)) + " ", example, flags=re.M)
    proc = subprocess.run(["bash", "-euc", script], cwd=str(world.envs), env=world.env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{prepared / 'demo_3_11'}\n"  # the activated python is the environment's
    assert not (prepared / "demo_3_11").exists()


def test_pipx_install(checkout, world, channel, standin, tmp_path):
    env = {**_offline_env(world, tmp_path), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(tmp_path / "pipx-bin"), "PIPX_MAN_DIR": str(tmp_path / "pipx-man"),
           "PIPX_DEFAULT_PYTHON": RUNTIME_PYTHON}
    line = readme_install_line("pipx")
    assert line == "pipx install ."
    _install(f'{line} --pip-args="--no-index --find-links {WHEELHOUSE}"', checkout, env)
    _use([str(tmp_path / "pipx-bin" / "mambaboot")], world, channel, standin)


def test_uv_tool_install(checkout, world, channel, standin, tmp_path):
    env = {**_offline_env(world, tmp_path), "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
           "UV_TOOL_BIN_DIR": str(tmp_path / "uv-bin"), "UV_PYTHON": RUNTIME_PYTHON}
    line = readme_install_line("uv")
    assert line == "uv tool install ."
    _install(line, checkout, env)
    _use([str(tmp_path / "uv-bin" / "mambaboot")], world, channel, standin)


def test_a_plain_venv(checkout, world, channel, standin, tmp_path):
    line = readme_install_line("a plain venv")
    assert line == "python3 -m venv mambaboot-venv && mambaboot-venv/bin/python -m pip install ."
    # python3 is the interpreter mambaboot runs on
    shim = tmp_path / "python-bin"
    shim.mkdir()
    (shim / "python3").symlink_to(RUNTIME_PYTHON)
    env = _offline_env(world, tmp_path)
    _install(line, checkout, {**env, "PATH": f"{shim}:{env['PATH']}"})
    _use([str(checkout / "mambaboot-venv" / "bin" / "mambaboot")], world, channel, standin)


def test_the_zipapp(checkout, world, channel, standin, tmp_path):
    line = readme_install_line("the zipapp")
    assert line == "python3 tools/build_zipapp.py -o dist/mambaboot.pyz"
    shutil.copytree(REPO / "tools", checkout / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    _install(line.replace("python3", shlex.quote(sys.executable), 1), checkout, world.env)
    _use([RUNTIME_PYTHON, str(checkout / "dist" / "mambaboot.pyz")], world, channel, standin)


def test_a_stale_pythonhome_kills_the_console_script_and_the_documented_command_survives(checkout, world, tmp_path):
    """pip's launcher starts Python without -E, so a stale PYTHONHOME kills `mambaboot` before our
    code runs; the reference's command (the script's own interpreter with -E) still runs doctor."""
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    documented = re.search(r'^("\$\(sed .*-E -m mambaboot doctor)$', reference, re.M).group(1)
    shim = tmp_path / "python-bin"
    shim.mkdir()
    (shim / "python3").symlink_to(RUNTIME_PYTHON)
    env = _offline_env(world, tmp_path)
    _install(readme_install_line("a plain venv"), checkout, {**env, "PATH": f"{shim}:{env['PATH']}"})
    bin_dir = checkout / "mambaboot-venv" / "bin"
    stale = {**world.env, "PATH": f"{bin_dir}:{world.env['PATH']}", "PYTHONHOME": str(tmp_path / "gone")}
    dead = subprocess.run(["mambaboot", "doctor"], env=stale, capture_output=True, text=True)
    assert dead.returncode != 0 and "encodings" in dead.stderr and "doctor:" not in dead.stdout
    proc = subprocess.run(["sh", "-c", documented], env=stale, capture_output=True, text=True)
    assert proc.returncode == 11 and "Traceback" not in proc.stderr, proc.stderr  # an error finding
    assert f"PYTHONHOME={tmp_path / 'gone'} is set" in proc.stdout and "is not a Python home" in proc.stdout
