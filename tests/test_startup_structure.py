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
    # the modules as the process ends (cli.entry ends it once the exit handlers have run)
    probe = ("import atexit, runpy, sys\nsys.argv = ['mambaboot', *sys.argv[1:]]\n"
             "atexit.register(lambda: sys.stderr.write('\\n--- modules\\n' + '\\n'.join(sys.modules)))\n"
             "runpy.run_module('mambaboot', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
    said, seen, modules = done.stderr.rpartition("\n--- modules\n")
    assert done.returncode == status and seen, (args, done.returncode, done.stderr[-3000:])
    return set(modules.splitlines())


def test_version_builds_no_parser_and_imports_no_command():
    modules = _imported("--version")
    assert not {m for m in modules if m.startswith("mambaboot.commands.") and m != "mambaboot.commands._common"}
    assert "dataclasses" not in modules


def test_a_command_imports_only_its_own_module():
    modules = _imported("list", "--help")
    shared = ("mambaboot.commands._common", "mambaboot.commands.options")
    commands = {m for m in modules if m.startswith("mambaboot.commands.") and m not in shared}
    assert commands == {"mambaboot.commands.list"}


def test_list_cache_and_remove_import_neither_the_planner_nor_dataclasses(tmp_path):
    """They need the default locations (common/locations.py), not plan.py and what it pulls in."""
    env_home = tmp_path / "home"
    env_home.mkdir()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    # typing, hashlib (OpenSSL), datetime and shutil (argparse's terminal width): not for reading
    # records and listing directories
    # and no YAML reader (ruamel.yaml): they read no YAML file
    light = {"mambaboot.pipeline.plan", "dataclasses", "platform", "typing", "hashlib", "datetime", "shutil",
             "mambaboot.common.yamlread", "mambaboot.common.yamlblock", "ruamel.yaml"}
    for args, status in ((["list", "--envs-dir", str(tmp_path)], 0), (["cache", "info"], 0),
                         (["remove", str(tmp_path / "none")], 2)):  # 2: a path that does not exist
        modules = _imported(*args, *cache, status=status) - _site_imports()
        assert "mambaboot.common.locations" in modules, args
        assert not modules & light, (args, modules & light)


def _site_imports():
    """What this interpreter imports before any code of ours (a .pth may pull in typing)."""
    return set(subprocess.run([sys.executable, "-c", "import runpy, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                              capture_output=True, text=True).stderr.splitlines())


def test_the_command_ends_after_its_exit_handlers_without_the_interpreters_teardown(tmp_path):
    """cli.entry, where the installed command starts, ends the process once the exit handlers have
    run and the streams are flushed: a handler registered before it runs and what it prints arrives,
    the exit code is the command's, and an object alive at exit is not torn down (the teardown that
    frees every object costs ~3 ms of a create)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    probe = ("import atexit, runpy, sys\n"
             "class Torn:\n    def __del__(self):\n        sys.stderr.write('torn down')\n"
             "kept = Torn()\n"
             "atexit.register(lambda: sys.stdout.write('handler ran'))\n"
             "sys.argv = ['mambaboot', *sys.argv[1:]]\n"
             "runpy.run_module('mambaboot', run_name='__main__')\n")
    for args, status in ((["list", "--envs-dir", str(tmp_path)], 0), (["nonsense"], 2)):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
        assert done.returncode == status, done.stderr
        assert done.stdout.endswith("handler ran"), done.stdout
        assert "torn down" not in done.stderr, done.stderr
    # the same probe ended by sys.exit is torn down: the check above can fail
    ended = probe.replace("runpy.run_module('mambaboot', run_name='__main__')", "sys.exit(0)")
    done = subprocess.run([sys.executable, "-c", ended], capture_output=True, text=True, env=env)
    assert done.stdout == "handler ran" and done.stderr == "torn down", (done.stdout, done.stderr)


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


def _parsed(argv):
    """What the parser makes of argv (its Namespace's values, without the command's name and
    function), or None when it refuses argv."""
    from mambaboot import cli
    from mambaboot.common.errors import UsageError

    try:
        args = cli._parser(argv).parse_args(argv)
    except (UsageError, SystemExit):
        return None
    return {k: v for k, v in vars(args).items() if k != "run" and not (k == "command" and v == argv[0])}


def _fast(argv, monkeypatch):
    """What cli._fast hands the command's run() for argv, or None when it leaves argv to the parser."""
    from mambaboot import cli

    fast = cli._fast(argv)
    if fast is None:
        return None
    name, action, want_json = fast
    seen = []
    monkeypatch.setattr(sys.modules[f"mambaboot.commands.{name.replace('-', '_')}"], "run",
                        lambda args: seen.append(dict(vars(args))))
    action()
    assert want_json == seen[0].get("json", False), argv
    return seen[0]


def _agrees(argv, monkeypatch) -> bool:
    """The fast path reads argv as the parser does, or leaves it to the parser; True when it read it.
    run's command is compared as run() takes it (commands/run.py command_line): argparse's
    REMAINDER keeps or drops the "--" before it by Python version. A command that itself starts
    with "--" is the words after the first "--", which argparse reads differently by version too."""
    from mambaboot.commands import run

    fast = _fast(argv, monkeypatch)
    if fast is None:
        return False
    parsed = _parsed(argv)
    if argv[0] == "run":
        fast["command"] = run.command_line(cli_arguments(fast))
        after = argv[argv.index("--") + 1:]
        if after[:1] == ["--"]:
            assert fast == {"prefix": argv[1], "command": after}, argv
            return True
        parsed["command"] = run.command_line(cli_arguments(parsed))
    assert fast == parsed, argv
    return True


def cli_arguments(values: dict):
    from mambaboot import cli

    return cli._Arguments(**values)


COMMANDS = sorted(n.replace("_", "-") for n in __import__("mambaboot.commands", fromlist=["NAMES"]).NAMES)


def _table(name):
    import importlib

    from mambaboot.commands import options

    return list(options.each(importlib.import_module(f"mambaboot.commands.{name.replace('-', '_')}").OPTIONS))


def _whole(name, spelling: int, joined: bool) -> list:
    """A command line giving every option of the command's table once (a repeatable one twice),
    spelled its first or last way, each value after "=" or as the next word, and its positionals."""
    from mambaboot.commands import options as o

    words, rest = [], []
    for option in _table(name):
        if option.kind in (o.ONE, o.OPTIONAL):
            words.append((option.choices or ("a b",))[0])
        elif option.kind == o.ANY:
            words += ["p1", "p 2"]
        elif option.kind == o.REST:
            rest = ["--", "cmd", "--help", "--"]
        elif option.kind == o.FLAG:
            words.append(option.spellings[spelling])
        elif option.kind in (o.VALUE, o.REPEATED):
            for text in (option.choices or ("v", "w x"))[: 2 if option.kind == o.REPEATED else 1]:
                words += [f"{option.spellings[spelling]}={text}"] if joined else [option.spellings[spelling], text]
    return [name, *words, *rest]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_spelled_out_is_read_without_the_parser_as_the_parser_reads_it(name, monkeypatch):
    """Each command's table (commands/options.py) gives both the parser and the fast path: a
    command line with every option, however spelled out whole, is read without argparse, to
    what the parser's Namespace holds; and the Namespace of an empty one holds every option's
    default."""
    from mambaboot.commands import options as o

    table = _table(name)
    for spelling in (0, -1):
        for joined in (False, True):
            argv = _whole(name, spelling, joined)
            assert _agrees(argv, monkeypatch), argv
    required = [w for option in table if option.kind == o.ONE for w in [(option.choices or ("p",))[0]]]
    required += [w for option in table if option.required for w in (option.spellings[0], "x")]
    required += ["--", "c"] if any(option.kind == o.REST for option in table) else []
    parsed = _parsed([name, *required])
    assert set(parsed) == {option.dest for option in table}
    assert _agrees([name, *required], monkeypatch)


def _vocabulary(name) -> tuple:
    """(well-formed, ill-formed): words and pairs of words a command line of this command can be
    made of: its options spelled out whole with a value from their choices, positional words;
    and what only the parser may read or refuse (abbreviations, a value starting with "-" or
    outside the choices, an empty value or "--", an empty positional word, "=" after a flag, -h,
    "--", clusters)."""
    from mambaboot.commands import options as o

    good, bad = [["n"], ["m o"], ["x=y"]], [["-"], ["-x"], ["--"], ["-h"], ["--help"], ["--json=1"], ["-qv"], [""]]
    for option in _table(name):
        for spelling in option.spellings:
            bad.append([spelling[:-1]])
            if option.kind == o.FLAG:
                good.append([spelling])
                bad.append([f"{spelling}=1"])
                continue
            texts = list(option.choices or ("v", "w x"))
            good += [[spelling, t] for t in texts] + [[f"{spelling}={t}"] for t in texts]
            bad += [[spelling, "-v"], [spelling], [spelling, ""], [f"{spelling}="], [f"{spelling}=--"],
                    [f"{spelling[:-1]}=--"], [f"{spelling[:-1]}="], [spelling[:-1], texts[0]]]
            bad += [[spelling, "other"]] if option.choices else []
        if option.choices and not option.spellings:
            good += [[c] for c in option.choices]
            bad.append(["other"])
    return good, bad


@pytest.mark.parametrize("name", COMMANDS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_what_the_fast_path_reads_the_parser_reads_the_same(name, monkeypatch, data):
    """Command lines drawn from each command's own vocabulary, well formed, and with one word
    that is not: whatever the fast path reads, the parser reads the same; the rest it leaves to
    the parser."""
    good, bad = _vocabulary(name)
    parts = data.draw(st.lists(st.sampled_from(good), max_size=7))
    if data.draw(st.booleans()):
        parts.insert(data.draw(st.integers(0, len(parts))), data.draw(st.sampled_from(bad)))
    argv = [name, *(w for part in parts for w in part)]
    _agrees(argv, monkeypatch)
    _values_are_strings(argv)


def _values_are_strings(argv) -> None:
    """Whatever the parser reads, by any way it reads it (abbreviated, repeated, "=--"), each
    option's value is a string naming something, or the option is not given: never an empty
    list or an empty string that a command would take for "not given" (its default instead)."""
    from mambaboot.commands import options as o

    parsed = _parsed(argv)
    if parsed is None:
        return
    for option in _table(argv[0]):
        value = parsed[option.dest]
        if option.kind == o.VALUE and value is not None:
            assert isinstance(value, str) and not o.refusal(value), (argv, option.dest, value)
        if option.kind == o.REPEATED:
            assert all(isinstance(v, str) and not o.refusal(v) for v in value), (argv, option.dest, value)
        if option.kind in (o.ONE, o.OPTIONAL, o.ANY):  # a NAME, PREFIX or PATH: never an empty word
            assert value != "" and "" not in (value if isinstance(value, list) else ()), (argv, option.dest, value)


@pytest.mark.parametrize("argv, read", [
    (["run", "./env", "--", "python", "-c", "pass"], True), (["run", "p q", "--", "--help", "--"], True),
    (["run", "env", "--", "-x"], True), (["run", "--help"], False), (["run", "-p", "--", "x"], False),
    (["run", "env", "x"], False), (["run", "env", "--"], False),
    (["run", "", "--", "x"], False), (["run", "env", "--", ""], True), (["remove", ""], False), (["list", "a", ""], False),
    (["cache", "info"], True), (["cache", "info", "--cache-dir=d", "--json"], True), (["cache", "--json", "info"], True),
    (["cache", "info", "--cache-dir="], False), (["cache", "info", "--cache-dir", "-x"], False),
    (["cache", "info", "--cache-dir=--"], False), (["remove", "--envs-dir=--", "e"], False),
    (["cache", "info", "--cache"], False), (["cache", "info", "--json", "--json"], False), (["cache", "inf"], False),
    (["cache", "info", "x"], False), (["cache", "info", "--cache-dir", "a", "--cache-dir", "b"], False),
    (["remove", "e"], True), (["remove", "--envs-dir", "d", "e", "--cache-dir=c"], True), (["remove"], False),
    (["remove", "a", "b"], False), (["remove", "e", "--ye"], False), (["remove", "e", "-yq"], False),
    (["remove", "e", "-y", "--yes"], False), (["remove", "--", "-e"], False), (["remov", "e"], False),
    (["create"], True), (["create", "-c", "a", "n", "-c", "b", "--package=x", "--package", "y"], True),
    (["create", "-p=x", "--python=3"], True), (["create", "--python="], False), (["create", "-p", ""], False), (["create", "a", "b"], False), (["create", "--pyth", "3"], False),
    (["create", "--python", "-3"], False), (["create", "-ca"], False), (["create", "--", "n"], False),
    (["creat", "n"], False),
    (["adopt", "/e/demo", "--cache-dir", "/c", "--python", "3.12", "--no-cache-link"], True),
    (["adopt"], False), (["adopt", "p", "--force"], False),
    (["list", "a", "b", "--size"], True), (["list", "a", "--size", "b"], False), (["doctor", "--json", "p", "q"], True),
    (["move", "a", "--json", "b"], True), (["pack", "p"], False), (["pack", "p", "-o", "f.zip"], True),
    (["lock", "--format", "cyclonedx"], True), (["lock", "--format", "yaml"], False),
    (["activate-scripts", "p"], True), (["activate_scripts", "p"], False), (["shell", "p", "--shell", "zsh"], True),
])
def test_these_command_lines_are_read_or_left_to_the_parser(argv, read, monkeypatch):
    """As a script writes them (the bootstrap scripts' hand-over word for word), and the forms
    that only the parser may read (abbreviations, an option twice, a value starting with "-",
    a positional after an option ending a run of them, which argparse refuses)."""
    assert _agrees(argv, monkeypatch) == read
    _values_are_strings(argv)


@pytest.mark.parametrize("name", COMMANDS)
def test_reading_a_command_line_imports_no_parser(name):
    """Up to the command's run(): the table, the command's module and what it imports at its top,
    and options.read of a whole command line, without argparse (with re, gettext, shutil), typing
    or dataclasses."""
    argv = _whole(name, 0, False)
    probe = ("import sys\nfrom mambaboot import cli\nfast = cli._fast(sys.argv[1:])\n"
             "assert fast is not None and fast[0] == sys.argv[1], fast\nsys.stderr.write('\\n'.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(SRC)))
    assert done.returncode == 0, done.stderr
    ours = set(done.stderr.splitlines()) - _site_imports()
    assert f"mambaboot.commands.{name.replace('-', '_')}" in ours
    assert not ours & {"argparse", "typing", "dataclasses", "shutil", "re", "gettext"}, ours


def test_the_fast_path_does_not_import_the_parser(tmp_path):
    # src/ is not a conda environment: run reads its command line and refuses it (exit 2)
    ours = _imported("run", str(SRC), "--", "true", status=2) - _site_imports()
    assert "mambaboot.commands.run" in ours and not ours & {"argparse", "shutil", "dataclasses"}, ours
    ours = _imported("cache", "info", "--cache-dir", str(tmp_path / "cache")) - _site_imports()
    assert "mambaboot.environment.pkgcache" in ours and not ours & {"argparse", "json", "re", "shutil"}, ours
    ours = _imported("remove", "--yes", str(tmp_path / "absent"), "--cache-dir", str(tmp_path / "cache"),
                     status=2) - _site_imports()  # 2: a path that does not exist
    assert "mambaboot.environment.delete" in ours and not ours & {"argparse", "re", "enum", "threading", "shutil"}, ours


# What `run PREFIX -- COMMAND` may import of its own, up to the exec: these modules and the
# standard library's smallest (os, its path module, stat). Each of the heavy ones below costs
# `run` more than all its work (typing with collections, functools, re; dataclasses with
# inspect; signal with enum; json with re), and `run` is the call scripts repeat.
RUN_PATH = {
    "mambaboot", "mambaboot.cli", "mambaboot.commands", "mambaboot.commands.run", "mambaboot.commands.options",
    "mambaboot.shell", "mambaboot.shell.run", "mambaboot.common", "mambaboot.common.isolation",
    "mambaboot.shell.activation", "mambaboot.shell.activation.environ", "mambaboot.shell.activation.sources",
    "mambaboot.shell.activation.envvars", "mambaboot.common.quoting", "mambaboot.common.jsontext",
}
HEAVY = {"typing", "dataclasses", "argparse", "shutil", "subprocess", "json", "re", "enum", "signal", "inspect",
         "collections", "functools", "importlib", "ntpath", "tempfile", "pathlib"}


@pytest.mark.parametrize("variables", [False, True])
def test_run_imports_only_its_path_up_to_the_exec(tmp_path, variables):
    """Up to os.execve (replaced here by a probe that reports sys.modules), in an environment
    without hooks, and without variables or with those every environment mambaboot makes has
    (conda-meta/state's PYTHONNOUSERSITE, and one from env_vars.d): they are read and checked
    by the bounded reader's rules without json, re or enum; under -I -S, so nothing but the
    interpreter's own start-up is subtracted."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    if variables:
        (prefix / "conda-meta" / "state").write_text('{\n  "env_vars": {\n    "PYTHONNOUSERSITE": "1"\n  }\n}\n')
        (prefix / "etc" / "conda" / "env_vars.d").mkdir(parents=True)
        (prefix / "etc" / "conda" / "env_vars.d" / "a.json").write_bytes(b'\xef\xbb\xbf{"A": "x"}')
    probe = ("import os, sys\nsys.path.insert(0, sys.argv.pop(1))\n"
             "def execve(path, argv, env):\n    sys.stderr.write('\\n'.join(sys.modules))\n    os._exit(0)\n"
             "os.execve = execve\nfrom mambaboot.cli import main\nmain(sys.argv[1:])\n")
    baseline = set(subprocess.run([sys.executable, "-I", "-S", "-c", "import os, sys; sys.stderr.write('\\n'.join(sys.modules))"],
                                  capture_output=True, text=True).stderr.splitlines())
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(SRC), "run", str(prefix), "--", "true"],
                          capture_output=True, text=True, env={"PATH": os.environ.get("PATH", os.defpath)})
    assert done.returncode == 0, done.stderr
    ours = set(done.stderr.splitlines()) - baseline
    readers = {"mambaboot.common.untrusted"} if variables else set()
    assert {m for m in ours if m.startswith("mambaboot")} == RUN_PATH | readers
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
    # the no-replace rename finds the system's call through _ctypes alone (common/files/noreplace.py)
    assert "_ctypes" in ours and "ctypes" not in ours
    # a create that reads no YAML file (no -f, no rc file naming network settings) never imports its reader
    assert not ours & YAML_READER, ours & YAML_READER


RUAMEL = {"ruamel", "ruamel.yaml"}
YAML_READER = {"mambaboot.common.yamlread", "mambaboot.common.yamlblock", *RUAMEL}


def test_an_environment_file_is_what_imports_the_yaml_reader(world, channel, tmp_path):
    """The YAML reader is imported where a YAML file is read (common/yamlread.parse), not before:
    the same dry run spelled on the command line imports none of it; ruamel.yaml only for a file
    outside the block subset common/yamlblock reads (here a flow list)."""
    (tmp_path / "env.yml").write_text(f"channels:\n  - {channel}\ndependencies:\n  - python\n", encoding="utf-8")
    (tmp_path / "flow.yml").write_text(f"channels: [{channel}]\ndependencies: [python]\n", encoding="utf-8")
    seen = {}
    for how, args in (("file", ["-f", str(tmp_path / "env.yml")]), ("flow", ["-f", str(tmp_path / "flow.yml")]),
                      ("line", ["-c", channel])):
        out = tmp_path / f"modules-{how}.txt"
        probe = "import atexit\natexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
        r = create_probed(world, out, probe, "--dry-run", *args)
        assert r.returncode == 0, r.stderr
        seen[how] = set(out.read_text().splitlines())
    assert YAML_READER - RUAMEL <= seen["file"] and not seen["file"] & RUAMEL, seen["file"] & YAML_READER
    assert YAML_READER <= seen["flow"]
    assert not seen["line"] & YAML_READER, seen["line"] & YAML_READER


# What create needs only once the engine is done: imported while the engine runs
# (pipeline/create.py _after_engine), not before it starts.
AFTER_ENGINE = {
    "mambaboot.pipeline.finish", "mambaboot.pipeline.verify",
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
    # spelled out, the command line is read without argparse (commands/options.py), and nothing
    # before the engine imports re (with enum), collections, functools or contextlib
    heavy = {"argparse", "gettext", "locale", "re", "enum", "collections", "functools", "contextlib", "typing"}
    assert not before & heavy, before & heavy
    # nothing to provision (no pip section, no post-script, no lock with pip packages): no provisioning
    assert "mambaboot.pipeline.provision" not in at_exit


# A probe's start: `ended` holds sys.modules as each run of the engine (child.stream) ended, empty while none has.
_ENGINE_ENDED = ("from mambaboot.engine import child\nreal_stream = child.stream\nended = []\n"
                 "def stream(*a, **k):\n"
                 "    try:\n        return real_stream(*a, **k)\n"
                 "    finally:\n        ended.append(list(sys.modules))\n"
                 "child.stream = stream\n")


def test_create_imports_nothing_once_its_engine_has_ended(world, channel, standin, tmp_path):
    """What finish and the run's end use is imported while the engine runs (finish.prepare): once
    the engine has ended a create imports no module, hmac's hashlib (the proof of a place's mark)
    among them."""
    out = tmp_path / "modules.txt"
    probe = (_ENGINE_ENDED + "import atexit\n"
             "atexit.register(lambda: open(out, 'w').write('\\n'.join(sorted(set(sys.modules) - set(ended[-1])))))\n")
    r = create_probed(world, out, probe, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert (world.envs / "py" / ".mambaboot" / "record.json").is_file()
    assert out.read_text().split() == []


def test_create_assembles_envvars_py_while_its_engine_runs(world, channel, standin, tmp_path):
    """PREFIX/.mambaboot/envvars.py depends on no file the engine writes: it is put together from
    mambaboot's sources with the scripts (finish.prepare), not after the engine."""
    out = tmp_path / "calls.txt"
    probe = (_ENGINE_ENDED + "from mambaboot.common import packagedata\nmade = packagedata.standalone\n"
             "def standalone(*a, **k):\n    open(out, 'a').write(('after' if ended else 'during') + '\\n')\n"
             "    return made(*a, **k)\n"
             "packagedata.standalone = standalone\n")
    r = create_probed(world, out, probe, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert (world.envs / "py" / ".mambaboot" / "envvars.py").is_file()
    assert out.read_text().split() == ["during"]


# Every file made new once the engine has ended, as (name as made, the directory it is in), one a line;
# os.open is wrapped only then, as the file layer decides at its import whether it may act by descriptor.
_MADE_AFTER = ("import os\nfrom mambaboot.engine import child\nreal_stream = child.stream\nreal_open = os.open\n"
               "def opened(path, flags, *a, dir_fd=None, **k):\n"
               "    if flags & os.O_CREAT:\n"
               "        where = os.readlink(f'/proc/self/fd/{dir_fd}') if dir_fd is not None else os.path.dirname(path)\n"
               "        open(out, 'a').write(f'{os.path.basename(path)} {where}\\n')\n"
               "    return real_open(path, flags, *a, dir_fd=dir_fd, **k)\n"
               "def stream(*a, **k):\n"
               "    try:\n        return real_stream(*a, **k)\n"
               "    finally:\n        os.open = opened\n        after_engine()\n"
               "child.stream = stream\n"
               "def after_engine():\n    pass\n")


def _scripts_and_hooks() -> set:
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    return {rel.rpartition("/")[2] for rel in [*roothook.render(False), *generate.shells("/p", False)]}


# What else finish writes into a new prefix through the file layer (finish.BLANKS of them), and the record that
# says `complete`, synced, made beside its place
FINISHED = {"record.json", "state", "vars.sh", "vars.fish", "vars.ps1", "lock.txt", ".condarc"}


def _as_made(prefix: Path) -> dict:
    """rel -> (bytes, permission bits) of what create writes into prefix once its engine is done,
    but the record (which holds times)."""
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    rels = [*roothook.render(False), *generate.render(str(prefix), False), ".mambaboot/lock.txt", ".condarc",
            "conda-meta/state"]
    return {rel: ((prefix / rel).read_bytes(), (prefix / rel).stat().st_mode & 0o7777) for rel in rels}


def _made(out: Path) -> list:
    """(name as the file layer names what it writes, the directory) of each file the probe saw made."""
    lines = [line.split(" ", 1) for line in out.read_text().splitlines()] if out.exists() else []
    return [(name[1:].rsplit(".mambaboot-tmp-", 1)[0] if ".mambaboot-tmp-" in name else name, Path(where))
            for name, where in lines]


def test_create_makes_the_files_it_writes_into_the_prefix_while_its_engine_runs(world, channel, standin, tmp_path):
    """What create writes into the prefix once its engine is done is made as files while the engine
    runs, in the run's private home (confined.Premade): the activation scripts and hooks with their
    bytes, which depend on the prefix's path alone, and blank files the rest is written into. Each is
    renamed into the prefix; after the engine no file is made new there, where each new file costs
    the run its inode, but the run's mark (what proves the prefix this run's)."""
    out = tmp_path / "made.txt"
    r = create_probed(world, out, _MADE_AFTER, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "py"
    made = _made(out)
    assert made, "the probe sees what is made after the engine"
    assert [name for name, where in made if prefix in (where, *where.parents)] == [".mambaboot-claim", "record.json"]
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    assert {rel: data for rel, (data, _) in _as_made(prefix).items() if not rel.startswith(("conda-meta/", ".condarc"))
            if not rel.endswith("lock.txt")} == {**roothook.render(False), **generate.render(str(prefix), False)}
    assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    assert not list(world.cache.rglob("premade")), "the private home goes with what it made ahead"


def test_a_create_whose_private_home_is_on_another_file_system_writes_its_files_in_place(world, channel, standin,
                                                                                        tmp_path):
    """A rename from the private home to the prefix on another file system fails (EXDEV): each file
    is then made beside its place, as any other, with the same bytes and mode as one made ahead."""
    r = world.create("ahead", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "made.txt"
    refused = tmp_path / "refused.txt"
    exdev = ("import errno\nreal_replace = os.replace\n"
             "def replace(src, dst, *, src_dir_fd=None, dst_dir_fd=None):\n"
             "    where = os.readlink(f'/proc/self/fd/{src_dir_fd}') if src_dir_fd is not None else os.path.dirname(src)\n"
             "    if os.path.basename(where) == 'premade':\n"
             f"        open({str(refused)!r}, 'a').write(os.path.basename(dst) + '\\n')\n"
             "        raise OSError(errno.EXDEV, 'Invalid cross-device link')\n"
             "    return real_replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)\n"
             "def after_engine():\n    os.replace = replace\n")
    r = create_probed(world, out, _MADE_AFTER + exdev, "beside", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    refused = refused.read_text().split()
    assert set(refused) == _scripts_and_hooks() | FINISHED, set(refused) ^ (_scripts_and_hooks() | FINISHED)
    assert _scripts_and_hooks() | FINISHED <= {name for name, _ in _made(out)}
    ahead, beside = world.envs / "ahead", world.envs / "beside"
    # the same modes; the same bytes but for the prefix's path, and the scripts that depend on it as made for it
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    made = {name: _as_made(world.envs / name) for name in ("ahead", "beside")}
    assert {rel: bits for rel, (_, bits) in made["ahead"].items()} == {rel: bits for rel, (_, bits) in made["beside"].items()}
    shells = set(generate.shells(str(beside), False))
    assert {rel: made["beside"][rel][0] for rel in shells} == generate.shells(str(beside), False)
    assert {rel: data.replace(bytes(ahead), b"@") for rel, (data, _) in made["ahead"].items() if rel not in shells} == \
        {rel: data.replace(bytes(beside), b"@") for rel, (data, _) in made["beside"].items() if rel not in shells}
    assert {rel: made["beside"][rel][0] for rel in roothook.render(False)} == roothook.render(False)
    assert not [p for p in beside.rglob("*") if ".mambaboot-tmp-" in p.name], "no temporary left in the prefix"


def test_a_create_that_cannot_make_its_files_ahead_writes_them_after_its_engine(world, channel, standin, tmp_path):
    """No room to make the files ahead while the engine runs (ENOSPC on their directory): they are
    written once the engine is done, as without it."""
    out = tmp_path / "made.txt"
    no_room = ("import errno\nreal_mkdir = os.mkdir\n"
               "def mkdir(path, *a, **k):\n"
               "    if os.path.basename(path) == 'premade':\n"
               "        raise OSError(errno.ENOSPC, 'No space left on device')\n"
               "    return real_mkdir(path, *a, **k)\n"
               "os.mkdir = mkdir\n")
    r = create_probed(world, out, _MADE_AFTER + no_room, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert _scripts_and_hooks() | FINISHED <= {name for name, _ in _made(out)}
    prefix = world.envs / "py"
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    made = _as_made(prefix)
    assert {rel: made[rel][0] for rel in [*roothook.render(False), *generate.render(str(prefix), False)]} == \
        {**roothook.render(False), **generate.render(str(prefix), False)}


def test_a_create_compiles_no_pattern_it_does_not_match(world, channel, standin, tmp_path):
    """The lock's and the Windows scripts' patterns (common/patterns.lazy) are compiled where one is
    first matched: a create on Linux writes its lock and matches none of them; a create with a
    post-script imports provisioning, which one without imports nowhere (the test above)."""
    out = tmp_path / "compiled.txt"
    probe = ("import atexit\n"
             "def said():\n"
             "    from mambaboot.common import patterns\n"
             "    found = [f'{m}.{k}' for m in ('mambaboot.environment.lockfile', 'mambaboot.relocate.batscripts')\n"
             "             for k, v in vars(sys.modules[m]).items() if isinstance(v, patterns.lazy)]\n"
             "    compiled = [f'{m}.{k}' for m in ('mambaboot.environment.lockfile', 'mambaboot.relocate.batscripts')\n"
             "                for k, v in vars(sys.modules[m]).items() if isinstance(v, patterns.lazy) and v._compiled]\n"
             "    open(out, 'w').write(f'{len(found)}\\n' + '\\n'.join(compiled))\n"
             "atexit.register(said)\n")
    r = create_probed(world, out, probe, "py", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    found, *compiled = out.read_text().splitlines()
    assert int(found) >= 13 and compiled == [], compiled
    script = tmp_path / "post.sh"
    script.write_text("true\n")
    out = tmp_path / "modules.txt"
    probe = "import atexit\natexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
    r = create_probed(world, out, probe, "post", "-c", channel, "--micromamba", str(standin), "--post-script", str(script))
    assert r.returncode == 0, r.stderr
    assert "mambaboot.pipeline.provision" in out.read_text().splitlines()


def test_adopt_starts_verification_before_it_imports_the_rest_of_finish(world, channel, standin, tmp_path):
    """adopt has no engine run to hide finish's imports behind:
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
    r = run_probed(world, out, probe, "adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"] == "complete"
    first, _, at_exit = out.read_text().partition("\n--- exit\n")
    started, *before = first.splitlines()
    assert started.startswith(repr([str(prefix / "bin" / "python")])[:-1]), started  # verification's first check
    before, at_exit = set(before), set(at_exit.splitlines())
    assert "mambaboot.pipeline.verify" in before
    later = set(finish.LATER)
    assert later <= at_exit
    # what adopt changes in a foreign environment is saved before it changes it (adoptundo: .condarc
    # and the root hooks, saved as json), and so before verification
    saved_first = {"json", "mambaboot.environment.condarc", "mambaboot.environment.roothook"}
    heavy = {"argparse", "typing", "dataclasses"} - _site_imports()
    assert not before & ((later - saved_first) | heavy), before & ((later - saved_first) | heavy)


def test_the_intent_is_what_json_writes_without_json():
    """The intent beside a place, written before the engine starts without the json package,
    holds the bytes json.dumps(ensure_ascii=False) would, whatever the prefix holds."""
    import json

    from mambaboot.common import jsontext
    from mambaboot.environment import placelock

    for prefix in ("/tmp/env", 'C:\\Users\\ä "q"\n\t\x01\u2028 \U0001f600', ""):
        for aside in (None, prefix + ".old"):
            body = {"tool": placelock.TOOL, "pid": 4321, "operation": "create", "token": "0" * 32, "stage": "set-aside",
                    "aside": aside, "place1": prefix}
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


def test_a_create_reads_the_mount_table_once_per_write_and_never_before_the_engine(world, channel, standin, tmp_path):
    """The kernel's mount table (/proc/self/mountinfo) is read once for all the directories one write
    checks (common/files/removal.mount_points), not once per directory on its way: a create reads it
    only after the engine has run, for each of finish's writes and the private home's removal."""
    out = tmp_path / "reads.txt"
    probe = ("import builtins, os\nreal_open, real_spawn = builtins.open, os.posix_spawn\nspawned = []\n"
             "def spawn(path, args, *a, **k):\n    spawned.append(1)\n    return real_spawn(path, args, *a, **k)\n"
             "def counted(name, *a, **k):\n"
             "    if name == '/proc/self/mountinfo':\n"
             "        real_open(out, 'a').write(('after' if spawned else 'before') + '\\n')\n"
             "    return real_open(name, *a, **k)\n"
             "os.posix_spawn, builtins.open = spawn, counted\n")
    r = create_probed(world, out, probe, "py", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    reads = out.read_text().split()
    assert "before" not in reads, reads
    # finish's writes (two of the record, the settings' script, the hooks, the scripts, the lock, the
    # cache's note of its user) and the removal of the engine's private home
    assert len(reads) <= 8, reads


def test_a_paths_key_tries_no_module_this_python_lacks(monkeypatch):
    """fsops.sha256_hex (a cache note's and a given micromamba's memo key, before create's engine
    starts) imports this interpreter's own sha256 module by its name here, not by trying the
    other's first: a failed import searches the whole of sys.path."""
    import builtins
    import hashlib

    from mambaboot.common.files import fsops

    tried, real = [], builtins.__import__

    def recorded(name, *args, **kwargs):
        tried.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", recorded)
    assert fsops.sha256_hex(b"a path") == hashlib.sha256(b"a path").hexdigest()
    assert tried == ["_sha2" if sys.version_info >= (3, 12) else "_sha256"], tried


def test_the_no_replace_rename_is_the_systems_own_call(tmp_path):
    """noreplace reaches renameat2(RENAME_NOREPLACE) through _ctypes alone (common/files/renameat.py): the call
    is found, renames, and refuses an existing directory with EEXIST by itself (not by the mkdir-claim fallback,
    which would hide a broken lookup behind the same FileExistsError). The same call with RENAME_EXCHANGE swaps
    two names (relocate/rewrite.py)."""
    import errno

    from mambaboot.common.files import renameat

    call = renameat.rename_with(renameat.NOREPLACE)
    assert call is not None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert call(tmp_path / "a", tmp_path / "b") == errno.EEXIST
    assert call(tmp_path / "a", tmp_path / "c") == 0
    (tmp_path / "b" / "in-b").touch()
    at = os.open(tmp_path, os.O_RDONLY)
    try:
        assert renameat.rename_with(renameat.EXCHANGE)("b", "c", at, at) == 0
    finally:
        os.close(at)
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["in-b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "c"]
