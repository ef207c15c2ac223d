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


def test_top_level_help_is_static_and_equal_to_what_argparse_prints():
    """`--help` prints commands.TOP_LEVEL_HELP without building a parser; that text must stay
    what argparse builds from the command modules (at 80 columns)."""
    env = dict(os.environ, PYTHONPATH=str(SRC), COLUMNS="80")
    regenerate = ("COLUMNS=80 PYTHONPATH=src python3 -c \"from mambaboot.cli import _parser; "
                  "print(_parser([]).format_help(), end='')\"")
    built = subprocess.run([sys.executable, "-c", "from mambaboot.cli import _parser; "
                            "print(_parser([]).format_help(), end='')"],
                           capture_output=True, text=True, env=env, check=True).stdout
    from mambaboot.commands import TOP_LEVEL_HELP

    assert TOP_LEVEL_HELP == built, f"commands/__init__.py TOP_LEVEL_HELP is stale; paste the output of: {regenerate}"
    for flag in ("--help", "-h"):
        shown = subprocess.run([sys.executable, "-m", "mambaboot", flag], capture_output=True, text=True, env=env)
        assert shown.returncode == 0 and shown.stdout == built
    # what this interpreter's site imports anyway (a .pth may pull in typing) is not ours
    baseline = set(subprocess.run([sys.executable, "-c", "import runpy, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                                  capture_output=True, text=True).stderr.splitlines())
    ours = _imported("--help") - baseline
    assert not ours & {"argparse", "typing", "dataclasses", "shutil", "mambaboot.commands._common"}, ours


def test_run_prefix_dash_dash_command_needs_no_parser_and_means_what_the_parser_says():
    from mambaboot import cli
    from mambaboot.commands import run

    for argv in (["run", "./env", "--", "python", "-c", "pass"], ["run", "p q", "--", "--help", "--"],
                 ["run", "env", "--", "-x"]):
        args = cli._parser(argv).parse_args(argv)
        calls = []
        real = run.start
        run.start = lambda prefix, command: calls.append((prefix, command))
        try:
            cli._fast_run(argv)()
        finally:
            run.start = real
        assert calls == [(args.prefix, run.command_line(args))], argv
    for argv in (["run", "--help"], ["run", "-p", "--", "x"], ["run", "env", "x"], ["run", "env", "--"]):
        assert cli._fast_run(argv) is None, argv
    baseline = set(subprocess.run([sys.executable, "-c", "import runpy, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                                  capture_output=True, text=True).stderr.splitlines())
    ours = _imported("run", str(SRC), "--", "true") - baseline
    assert "mambaboot.commands.run" in ours and not ours & {"argparse", "shutil", "dataclasses"}, ours
