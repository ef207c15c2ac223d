"""Start-up structure (issue 16.1): a command imports only its own module; --version needs no parser.
Checked through sys.modules after the run, never through a clock."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _imported(*args):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    probe = ("import runpy, sys\nsys.argv = ['mambaboot', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('mambaboot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('\\n'.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
    return set(done.stderr.splitlines())


def test_version_builds_no_parser_and_imports_no_command():
    modules = _imported("--version")
    assert not {m for m in modules if m.startswith("mambaboot.commands.") and m != "mambaboot.commands._common"}
    assert "dataclasses" not in modules


def test_a_command_imports_only_its_own_module():
    modules = _imported("list", "--help")
    commands = {m for m in modules if m.startswith("mambaboot.commands.") and m != "mambaboot.commands._common"}
    assert commands == {"mambaboot.commands.list"}


def test_list_cache_and_remove_import_neither_the_planner_nor_dataclasses(tmp_path):
    """They need the default locations (common/locations.py), not plan.py and what it pulls in."""
    env_home = tmp_path / "home"
    env_home.mkdir()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    for args in (["list", "--envs-dir", str(tmp_path)], ["cache", "info"], ["remove", str(tmp_path / "none")]):
        modules = _imported(*args, *cache)
        assert "mambaboot.common.locations" in modules, args
        assert not modules & {"mambaboot.pipeline.plan", "dataclasses", "platform"}, (args, modules & {
            "mambaboot.pipeline.plan", "dataclasses", "platform"})
