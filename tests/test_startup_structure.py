"""Start-up structure (issue 16.1): a command imports only its own module; --version needs no parser.
Checked through sys.modules after the run, never through a clock."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.probed import create_probed, run_probed

SRC = Path(__file__).resolve().parents[1] / "src"


def _imported(*args, status=0):
    """The modules a run of mambaboot ARGS imported; the run must have ended with STATUS (a run
    that fails early imports little, and would pass every "not imported" check)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    probe = ("import runpy, sys\nsys.argv = ['mambaboot', *sys.argv[1:]]\nstatus = 0\n"
             "try:\n    runpy.run_module('mambaboot', run_name='__main__')\n"
             "except SystemExit as e:\n    status = e.code if isinstance(e.code, int) else e.code is not None\n"
             "sys.stderr.write('\\n--- status %d\\n' % status + '\\n'.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
    said, _, modules = done.stderr.rpartition("\n--- status ")
    ended, _, modules = modules.partition("\n")
    assert done.returncode == 0 and ended == str(status), (args, done.returncode, done.stderr[-3000:])
    return set(modules.splitlines())


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
    # typing, hashlib (OpenSSL), datetime and shutil (argparse's terminal width): not for reading
    # records and listing directories
    light = {"mambaboot.pipeline.plan", "dataclasses", "platform", "typing", "hashlib", "datetime", "shutil"}
    for args, status in ((["list", "--envs-dir", str(tmp_path)], 0), (["cache", "info"], 0),
                         (["remove", str(tmp_path / "none")], 4)):  # 4: nothing there to remove
        modules = _imported(*args, *cache, status=status) - _site_imports()
        assert "mambaboot.common.locations" in modules, args
        assert not modules & light, (args, modules & light)


def _site_imports():
    """What this interpreter imports before any code of ours (a .pth may pull in typing)."""
    return set(subprocess.run([sys.executable, "-c", "import runpy, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                              capture_output=True, text=True).stderr.splitlines())


def test_a_command_leaves_the_interpreter_nothing_to_collect_at_exit(tmp_path):
    """cli.main freezes the garbage collector's objects by an exit handler (the interpreter's
    collections at exit otherwise cost ~8 ms of a create); a handler registered before main runs after it."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    probe = ("import atexit, gc, runpy, sys\n"
             "atexit.register(lambda: sys.stderr.write(f'frozen at exit: {gc.get_freeze_count() > 0}'))\n"
             "sys.argv = ['mambaboot', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('mambaboot', run_name='__main__')\nexcept SystemExit:\n    pass\n")
    done = subprocess.run([sys.executable, "-c", probe, "list", "--envs-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("frozen at exit: True"), done.stderr


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
    baseline = _site_imports()
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
    baseline = _site_imports()
    ours = _imported("run", str(SRC), "--", "true") - baseline
    assert "mambaboot.commands.run" in ours and not ours & {"argparse", "shutil", "dataclasses"}, ours


def _fast_path_agrees(module, fast, same, refused):
    """fast(argv) calls module.start as module.run(the parser's Namespace) does, for each argv in
    same, and leaves each in refused to the parser (None)."""
    from mambaboot import cli

    calls = []
    real = module.start
    module.start = lambda *a: calls.append(a)
    try:
        for argv in same:
            args = cli._parser(argv).parse_args(argv)
            args.run(args)
            fast(argv)()
            assert len(calls) == 2 and calls[0] == calls[1], (argv, calls)
            calls.clear()
    finally:
        module.start = real
    for argv in refused:
        assert fast(argv) is None, argv


def test_cache_info_needs_no_parser_and_means_what_the_parser_says(tmp_path):
    """`cache info [--cache-dir DIR] [--json]` is started without argparse (or json, which imports
    re): the same call the parser's Namespace makes; any other form goes to the parser."""
    from mambaboot import cli
    from mambaboot.commands import cache

    _fast_path_agrees(cache, cli._fast_cache_info,
                      (["cache", "info"], ["cache", "info", "--json"], ["cache", "info", "--cache-dir", "d e"],
                       ["cache", "info", "--cache-dir=d", "--json"], ["cache", "info", "--json", "--cache-dir", ""],
                       ["cache", "info", "--cache-dir="]),
                      (["cache", "clean"], ["cache", "info", "--cache-dir", "-x"], ["cache", "info", "--cache-dir"],
                       ["cache", "info", "--cache", "d"], ["cache", "info", "--json", "--json"], ["cache", "info", "-h"],
                       ["cache", "--json", "info"], ["cache", "info", "--dry-run"], ["cache", "info", "x"],
                       ["cache", "info", "--cache-dir", "a", "--cache-dir", "b"]))
    ours = _imported("cache", "info", "--cache-dir", str(tmp_path / "cache")) - _site_imports()
    assert "mambaboot.environment.pkgcache" in ours and not ours & {"argparse", "json", "re", "shutil"}, ours


def test_remove_needs_no_parser_and_means_what_the_parser_says(tmp_path):
    """`remove NAME|PREFIX` with -y/--yes, --force, --json, --envs-dir DIR, --cache-dir DIR, each
    spelled out once, in any order, is started without argparse: the same call the parser's
    Namespace makes; any other form goes to the parser (which says what is wrong with it)."""
    from mambaboot import cli
    from mambaboot.commands import remove

    _fast_path_agrees(remove, cli._fast_remove,
                      (["remove", "e"], ["remove", "--yes", "./e f"], ["remove", "e", "-y", "--force", "--json"],
                       ["remove", "--envs-dir", "d", "e", "--cache-dir=c"], ["remove", "--cache-dir", "", "e", "--yes"],
                       ["remove", "--envs-dir=", "--json", "e"]),
                      (["remove"], ["remove", "a", "b"], ["remove", "-x"], ["remove", "e", "--ye"], ["remove", "e", "-yq"],
                       ["remove", "e", "-y", "--yes"], ["remove", "e", "--envs-dir"], ["remove", "e", "--envs-dir", "-d"],
                       ["remove", "e", "--json=1"], ["remove", "--", "-e"], ["remove", "-h"], ["remov", "e"],
                       ["remove", "e", "--cache-dir", "a", "--cache-dir", "b"], ["list", "e"]))
    ours = _imported("remove", "--yes", str(tmp_path / "absent"), "--cache-dir", str(tmp_path / "cache")) - _site_imports()
    assert "mambaboot.environment.delete" in ours and not ours & {"argparse", "re", "enum", "threading", "shutil"}, ours


def _tabled_parsed(argv):
    """What the command's parser makes of argv (its Namespace's values, without the command's name
    and function), or None when it refuses argv."""
    from mambaboot import cli
    from mambaboot.common.errors import UsageError

    try:
        args = cli._parser(argv).parse_args(argv)
    except (UsageError, SystemExit):
        return None
    return {k: v for k, v in vars(args).items() if k not in ("command", "run")}


def _tabled_fast(argv, monkeypatch):
    """What cli._fast_tabled hands create.run or adopt.run for argv, or None when it leaves argv to
    the parser."""
    from mambaboot import cli
    from mambaboot.commands import adopt, create

    seen = []
    for command in (create, adopt):
        monkeypatch.setattr(command, "run", lambda args: seen.append(dict(vars(args))))
    monkeypatch.setattr(cli, "_no_collection_at_exit", lambda: None)
    action = cli._fast_tabled(argv)
    if action is None:
        return None
    action()
    return seen[0]


@pytest.mark.parametrize("name", ["create", "adopt"])
def test_each_table_names_exactly_its_parsers_options(name):
    """commands/create.py's and commands/adopt.py's FLAGS, VALUED, REPEATED and POSITIONAL: every
    option string of the command's parser, each with its attribute and kind of action
    (store_true, store, append), and its default; the positional's name and whether it is required."""
    import importlib

    from mambaboot import cli

    command = importlib.import_module(f"mambaboot.commands.{name}")
    subparsers = next(a for a in cli._parser([name])._actions if a.dest == "command")
    table = {}
    positionals = []
    for action in subparsers.choices[name]._actions:
        kind = type(action).__name__
        if kind == "_HelpAction":
            continue
        assert action.default == (command.defaults()[action.dest]), action.dest
        if not action.option_strings:
            positionals.append((action.dest, action.nargs != "?"))
        for spelling in action.option_strings:
            table[spelling] = ({"_StoreTrueAction": "flag", "_StoreAction": "valued", "_AppendAction": "repeated"}[kind],
                               action.dest)
    ours = {**{k: ("flag", v) for k, v in command.FLAGS.items()}, **{k: ("valued", v) for k, v in command.VALUED.items()},
            **{k: ("repeated", v) for k, v in command.REPEATED.items()}}
    assert ours == table
    assert positionals == [(command.POSITIONAL, command.POSITIONAL_REQUIRED)]
    assert set(command.defaults()) == {a.dest for a in subparsers.choices[name]._actions if a.dest != "help"}


def test_create_needs_no_parser_and_means_what_the_parser_says(monkeypatch):
    """`create [NAME]` with its options spelled out whole, each flag and valued option once and
    the repeatable ones any number of times, in any order, reaches create.run with what the
    parser's Namespace holds; any other form goes to the parser."""
    same = (["create"], ["create", "n"], ["create", "-q", "n"], ["create", "n", "-q", "--json"],
            ["create", "-c", "a", "n", "-c", "b", "--package=x", "--package", "y"],
            ["create", "--prefix", "./p q", "--python=3.12", "-v", "--dry-run"], ["create", "--python="],
            ["create", "--micromamba", "m", "--cache-dir", "", "--overlay", "o", "--post-script", "s", "e"],
            ["create", "-p=x", "--envs-dir=e", "-f", "f.yml", "--from-lock", "l", "--offline", "--force",
             "--ignore-active-env", "--no-cache-link", "--keep-failed", "--allow-http", "--micromamba-version",
             "2.1.0", "--micromamba-url", "u", "--micromamba-sha256", "h"])
    refused = (["create", "a", "b"], ["create", "--pyth", "3"], ["create", "-qv"], ["create", "-q", "--quiet"],
               ["create", "--python", "-3"], ["create", "--python"], ["create", "-ca"], ["create", "--", "n"],
               ["create", "-h"], ["create", "--json=1"], ["create", "--python", "3", "--python", "4"],
               ["create", "-"], ["creat", "n"], ["list"])
    for argv in same:
        fast = _tabled_fast(argv, monkeypatch)
        assert fast is not None and fast == _tabled_parsed(argv), argv
    for argv in refused:
        assert _tabled_fast(argv, monkeypatch) is None, argv


def test_adopt_needs_no_parser_and_means_what_the_parser_says(monkeypatch):
    """`adopt PREFIX` as the bootstrap scripts hand over (every option spelled out whole), and any
    other spelled-out form, reaches adopt.run with what the parser's Namespace holds; PREFIX is
    required; any other form goes to the parser."""
    sha = "a" * 64
    same = (["adopt", "p"], ["adopt", "--python", "3.12", "./p q"], ["adopt", "p", "-q", "--json", "--no-cache-link"],
            # bootstrap.sh's hand-over, word for word: the inputs, the channels and packages, the binary it ran
            ["adopt", "/e/demo", "--name", "demo", "--envs-dir", "/e", "--cache-dir", "/c", "--python", "3.12",
             "-c", "file:///ch", "-c", "b", "--package", "numpy>=1.26,<2", "--micromamba-version", "2.8.1",
             "--micromamba-version-used", "2.8.1", "--micromamba-sha256-used", sha],
            ["adopt", "p", "--channel=a", "--package=x", "--micromamba", "m", "--micromamba-url", "u",
             "--micromamba-sha256", sha, "--allow-http", "--ignore-active-env", "-v"])
    refused = (["adopt"], ["adopt", "a", "b"], ["adopt", "--pyth", "3", "p"], ["adopt", "p", "-qv"],
               ["adopt", "p", "--python"], ["adopt", "p", "--python", "-3"], ["adopt", "--", "p"], ["adopt", "-h"],
               ["adopt", "p", "--name", "a", "--name", "b"], ["adopt", "p", "--json=1"], ["adopt", "p", "--force"],
               ["adopt", "p", "--dry-run"], ["adop", "p"])
    for argv in same:
        fast = _tabled_fast(argv, monkeypatch)
        assert fast is not None and fast == _tabled_parsed(argv), argv
    for argv in refused:
        assert _tabled_fast(argv, monkeypatch) is None, argv


_WORDS = ["n", "m", "", "x=y", "-", "-x", "--", "-q", "--quiet", "-v", "--json", "--force",
          "--python", "--python=3", "-c", "--channel", "--channel=c", "--package", "-p", "--prefix=",
          "--pyth", "-qv", "-cX", "--overlay", "--dry-run", "--micromamba-sha256", "-f", "--name", "--envs-dir=e",
          "--micromamba-version-used", "--no-cache-link"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["create", "adopt"]), words=st.lists(st.sampled_from(_WORDS), max_size=7))
def test_what_the_fast_path_reads_the_parser_reads_the_same(monkeypatch, name, words):
    argv = [name, *words]
    fast = _tabled_fast(argv, monkeypatch)
    if fast is not None:
        assert fast == _tabled_parsed(argv), argv


# What `run PREFIX -- COMMAND` may import of its own, up to the exec: these modules and the
# standard library's smallest (os, its path module, stat). Each of the heavy ones below costs
# `run` more than all its work (typing with collections, functools, re; dataclasses with
# inspect; signal with enum; json with re), and `run` is the call scripts repeat.
RUN_PATH = {
    "mambaboot", "mambaboot.cli", "mambaboot.commands", "mambaboot.commands.run",
    "mambaboot.shell", "mambaboot.shell.run", "mambaboot.common", "mambaboot.common.isolation",
    "mambaboot.shell.activation", "mambaboot.shell.activation.environ", "mambaboot.shell.activation.sources",
    "mambaboot.shell.activation.envvars", "mambaboot.shell.quoting",
}
HEAVY = {"typing", "dataclasses", "argparse", "shutil", "subprocess", "json", "re", "enum", "signal", "inspect",
         "collections", "functools", "importlib", "ntpath", "tempfile", "pathlib"}


def test_run_imports_only_its_path_up_to_the_exec(tmp_path):
    """Up to os.execve (replaced here by a probe that reports sys.modules), in an environment
    without variables or hooks; under -I -S, so nothing but the interpreter's own start-up is
    subtracted."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    probe = ("import os, sys\nsys.path.insert(0, sys.argv.pop(1))\n"
             "def execve(path, argv, env):\n    sys.stderr.write('\\n'.join(sys.modules))\n    os._exit(0)\n"
             "os.execve = execve\nfrom mambaboot.cli import main\nmain(sys.argv[1:])\n")
    baseline = set(subprocess.run([sys.executable, "-I", "-S", "-c", "import os, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                                  capture_output=True, text=True).stderr.splitlines())
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(SRC), "run", str(prefix), "--", "true"],
                          capture_output=True, text=True, env={"PATH": os.environ.get("PATH", os.defpath)})
    assert done.returncode == 0, done.stderr
    ours = set(done.stderr.splitlines()) - baseline
    assert {m for m in ours if m.startswith("mambaboot")} == RUN_PATH
    assert not ours & HEAVY, ours & HEAVY


def test_create_imports_no_dataclasses_typing_pkgutil_or_datetime(world, channel, standin, tmp_path):
    """A whole create (engine, finish, verification): its value classes are common/values.py's,
    its annotations text, its templates read by common/packagedata.py and its times by `time`;
    dataclasses (with inspect, ast, dis), typing, pkgutil (importlib.util) and datetime cost a
    small create about a third of its own time (issue 16, goal 2)."""
    out = tmp_path / "modules.txt"
    probe = "import atexit\natexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
    r = create_probed(world, out, probe, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert (world.envs / "py" / ".mambaboot" / "activate.sh").is_file()
    ours = set(out.read_text().splitlines()) - _site_imports()
    assert "mambaboot.pipeline.finish" in ours
    assert not ours & {"dataclasses", "typing", "pkgutil", "datetime", "inspect", "importlib.util"}, ours


# What create needs only once the engine is done: imported while the engine runs
# (pipeline/create.py _after_engine), not before it starts.
AFTER_ENGINE = {
    "mambaboot.pipeline.finish", "mambaboot.pipeline.verify", "mambaboot.pipeline.provision",
    "mambaboot.shell.activation.generate", "mambaboot.relocate.batscripts", "mambaboot.environment.lockfile",
    "mambaboot.environment.condameta", "shutil", "urllib.parse", "json",
    # the engine is started by os.posix_spawn (engine/child.py): subprocess and what it brings load meanwhile
    "subprocess", "threading", "selectors", "signal",
}


def test_create_imports_what_follows_the_engine_only_once_it_runs(world, channel, standin, tmp_path):
    """sys.modules as the engine is started (the posix_spawn of `micromamba create`), and at exit;
    with the given micromamba's digest remembered (by a first create), no hashlib (OpenSSL) either."""
    out = tmp_path / "modules.txt"
    probe = ("import atexit, os\nreal = os.posix_spawn\n"
             "def spawn(path, args, *a, **k):\n"
             "    if list(args)[1:2] == ['create'] and not os.path.exists(out):\n"
             "        open(out, 'w').write('\\n'.join(sys.modules))\n"
             "    return real(path, args, *a, **k)\n"
             "os.posix_spawn = spawn\n"
             "atexit.register(lambda: open(out, 'a').write('\\n--- exit\\n' + '\\n'.join(sys.modules)))\n")
    for name in ("first", "py"):
        if out.exists():
            out.unlink()
        r = create_probed(world, out, probe, name, "-c", channel, "--micromamba", str(standin))
        assert r.returncode == 0, r.stderr
    before, _, at_exit = out.read_text().partition("\n--- exit\n")
    before, at_exit = set(before.splitlines()) - _site_imports(), set(at_exit.splitlines())
    assert "mambaboot.pipeline.create" in before
    assert AFTER_ENGINE <= at_exit
    assert not before & (AFTER_ENGINE | {"hashlib", "_hashlib"}), before & (AFTER_ENGINE | {"hashlib", "_hashlib"})
    # spelled out, the command line is read without argparse (cli._fast_tabled), and nothing
    # before the engine imports re (with enum), collections, functools or contextlib
    heavy = {"argparse", "gettext", "locale", "re", "enum", "collections", "functools", "contextlib", "typing"}
    assert not before & heavy, before & heavy


def test_adopt_starts_verification_before_it_imports_the_rest_of_finish(world, channel, standin, tmp_path):
    """adopt (the bootstrap scripts' hand-over) has no engine run to hide finish's imports behind:
    the environment's programs are started first, and what only the rest of finish needs (the
    one read of conda-meta, the scripts, lock and rc file: json, urllib's parsing, the lock's
    patterns) is imported while they run. Spelled out, the command line is read without argparse,
    and nothing on the way imports typing or dataclasses."""
    from mambaboot.pipeline import finish
    from tests.test_adopt import engine_only

    prefix = world.envs / "demo"
    engine_only(world, standin, channel, prefix)
    out = tmp_path / "modules.txt"
    probe = ("import atexit, subprocess\nreal = subprocess.Popen.__init__\n"
             "def init(self, args, *a, **k):\n"
             "    if not out.exists():\n"
             "        out.write_text(repr(list(args)) + '\\n' + '\\n'.join(sys.modules))\n"
             "    return real(self, args, *a, **k)\n"
             "subprocess.Popen.__init__ = init\n"
             "from pathlib import Path\nout = Path(out)\n"
             "atexit.register(lambda: out.write_text(out.read_text() + '\\n--- exit\\n' + '\\n'.join(sys.modules)))\n")
    r = run_probed(world, out, probe, "adopt", str(prefix), "--name", "demo", "--envs-dir", str(world.envs),
                   "--cache-dir", str(world.cache), "-c", channel, "--micromamba-version-used", "2.8.1",
                   "--micromamba-sha256-used", "0" * 64)
    assert r.returncode == 0, r.stderr
    assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    first, _, at_exit = out.read_text().partition("\n--- exit\n")
    started, *before = first.splitlines()
    assert started.startswith(repr([str(prefix / "bin" / "python")])[:-1]), started  # verification's first check
    before, at_exit = set(before), set(at_exit.splitlines())
    assert "mambaboot.pipeline.verify" in before
    later = set(finish.LATER)
    assert later <= at_exit
    heavy = {"argparse", "typing", "dataclasses"} - _site_imports()
    assert not before & (later | heavy), before & (later | heavy)


def test_the_pending_marker_is_what_json_writes_without_json():
    """The marker, written before the engine starts without the json package, holds the bytes
    json.dumps(ensure_ascii=False) would, whatever the prefix holds."""
    import json

    from mambaboot.common import jsontext
    from mambaboot.environment import record

    for prefix in ("/tmp/env", 'C:\\Users\\ä "q"\n\t\x01\u2028 \U0001f600', ""):
        for owner in (None, prefix + ".lock"):
            body = {"tool": record.TOOL, "prefix": prefix, "pid": 4321, "started": record.now(), "owner_lock": owner}
            assert jsontext.dumps_flat(body) == json.dumps(body, ensure_ascii=False)
    assert jsontext.dumps_flat({"a": True, "b": 1.5}) == json.dumps({"a": True, "b": 1.5})


def test_records_are_read_as_json_reads_them_without_json(tmp_path):
    """jsontext.loads (json's own C scanner) gives json.loads's value for every text json
    accepts, and a ValueError for every one it refuses, bytes or str; remove and list read
    records with it, without the json package (~7 ms of their start)."""
    import json

    texts = ['{"tool": "mamba', '[1 2]', '{"tool": "mambaboot", "n": [1, -2.5e3, true, false, null], "s": "\\u00e9\\ud83d\\ude00 \\"q\\""}',
             ' \n\t{"a": {"b": []}}\r\n', "[]", "0", '"x"', "NaN", "[Infinity, -Infinity]", "1e400",
             '{"a": 1, "a": 2}', "", " ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", '{"a" 1}', "\ufeff{}", '"\x01"',
             "tru", "[1] ", "01", '"\\ud800"', "é", '{"é": "€"}']
    datas = [data for text in texts for data in (text, text.encode("utf-8", "surrogatepass"), text.encode("utf-16"),
                                                 b"\xef\xbb\xbf" + text.encode())]
    expected = []
    for data in datas:
        try:
            expected.append(repr(("value", json.loads(data))))
        except ValueError:
            expected.append(repr(("refused",)))
    # in a process without the json package, as remove and list run (each text read with json
    # forgotten again): _json's errors need json.decoder, and anything but a ValueError is a crash
    probe = ("import ast, sys\nsys.path.insert(0, sys.argv[1])\nfrom mambaboot.common import jsontext\n"
             "for data in ast.literal_eval(sys.stdin.read()):\n"
             "    for name in [m for m in sys.modules if m.split('.')[0] == 'json']:\n        del sys.modules[name]\n"
             "    try:\n        print(repr(('value', jsontext.loads(data))))\n"
             "    except ValueError:\n        print(repr(('refused',)))\n")
    done = subprocess.run([sys.executable, "-I", "-c", probe, str(SRC)], input=repr(datas), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    got = done.stdout.splitlines()
    assert len(got) == len(datas)
    for data, g, e in zip(datas, got, expected):
        assert g == e, (data, g, e)
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    (env / ".mambaboot").mkdir()
    (env / ".mambaboot" / "record.json").write_text('{"tool": "mambaboot", "state": "complete"}')
    ours = _imported("remove", "--yes", str(env), "--cache-dir", str(tmp_path / "cache")) - _site_imports()
    assert "mambaboot.environment.record" in ours and "json" not in ours, ours
    assert not env.exists(), "the record was read (as mambaboot's) and the environment removed"
