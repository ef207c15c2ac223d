"""Hostile text in every file mambaboot reads but did not write, through the command: a clear
refusal naming the file (never exit 1, never a traceback), and nothing written outside."""

import json
import os
from pathlib import Path

import pytest

from mambaboot.common import untrusted, yamlread
from mambaboot.common.errors import UntrustedInput
from tests.conftest import copy_env
from tests.support.snapshot import diff

SHA = "a" * 64
DEEP = 1500  # past Python's recursion limit: each level costs the parsers a frame or more


def _no_crash(r, *codes):
    assert "Traceback" not in r.stderr and r.returncode != 1, r.stderr
    if codes:
        assert r.returncode in codes, (r.returncode, r.stderr)


def _deep_json(depth=DEEP):
    return "[" * depth + "]" * depth


def _deep_yaml(depth=DEEP):
    return "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "x: y\n"


def _env(made_env, tmp_path) -> Path:
    return copy_env(made_env, tmp_path / "env")


# -- the reader itself ------------------------------------------------------------------


def test_nesting_is_bounded_without_recursion():
    with pytest.raises(UntrustedInput, match="nested deeper than 64"):
        untrusted.json(_deep_json(100_000).encode(), "f.json")
    # the bound itself, far below the parser's recursion limit: 64 levels read, 65 refused
    assert untrusted.json(_deep_json(64).encode(), "f.json") == json.loads(_deep_json(64))
    with pytest.raises(UntrustedInput, match="nested deeper than 64"):
        untrusted.json(_deep_json(65).encode(), "f.json")
    with pytest.raises(UntrustedInput, match="nested deeper"):
        untrusted.yaml(_deep_yaml().encode(), "f.yml")
    with pytest.raises(yamlread.YamlError, match="nested deeper"):
        yamlread.parse("".join(" " * i + "- \n" for i in range(0, 3000, 2)) + " " * 3000 + "x")
    with pytest.raises(UntrustedInput, match=r"line 1, column 65: nested deeper than mambaboot reads \(64 levels\)"):
        untrusted.yaml("[" * 200_000, "f.yml")  # flow nesting: refused at the bound, never a RecursionError
    # brackets inside strings are no nesting; what genuine files hold reads as before
    assert untrusted.json(b'{"a": "' + b"[" * 500 + b'", "b": [[{"c": 1}]]}', "f") == {"a": "[" * 500, "b": [[{"c": 1}]]}
    assert untrusted.json(json.dumps([[1]] * 1000).encode(), "f") == [[1]] * 1000


def test_yaml_aliases_are_refused_and_a_read_is_bounded_in_time():
    """Billion laughs: each line's alias repeats the line above nine times, 9**9 strings if expanded."""
    laughs = "a0: &a0 lol\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    with pytest.raises(UntrustedInput, match="line 2, column 10: an alias"):
        untrusted.yaml(laughs, "f.yml")
    ticks = iter(range(10**6))  # a clock that moves a minute per look: the bound is passed, never waited for
    with pytest.raises(yamlread.YamlError, match=r"took longer than 69 s"):
        yamlread.parse("- [x]\n" * 100_000, clock=lambda: float(next(ticks)) * 60)  # ruamel's read (a flow list)
    assert yamlread.parse("- x\n" * 3000, clock=lambda: 0.0) == ["x"] * 3000


@pytest.mark.parametrize("data, problem", [
    (b'{"a": "x\\u0000y"}', "NUL"),
    (b'{"a": "\\ud800"}', "lone surrogate"),
    (b'{"\\ud800": 1}', "lone surrogate"),
    (b'{"a": "x\x00y"}', "NUL"),
    (b'{"a": "\xff"}', "not UTF-8"),
    (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
])
def test_strings_no_path_or_variable_can_hold_are_refused(data, problem):
    with pytest.raises(UntrustedInput, match=problem) as caught:
        untrusted.json(data, "/x/state")
    assert str(caught.value).startswith("/x/state: ")


def test_a_byte_order_mark_is_read_past():
    assert untrusted.json(b'\xef\xbb\xbf{"a": 1}', "f") == {"a": 1}
    assert untrusted.yaml(b"\xef\xbb\xbfenv_prompt: x\n", "f") == {"env_prompt": "x"}


def test_size_and_kind_of_file_are_bounded(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b" " * (untrusted.MiB + 1))
    with pytest.raises(UntrustedInput, match="bigger than 1 MiB"):
        untrusted.read_json(str(big))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UntrustedInput, match="not a regular file"):  # not waited on
        untrusted.read_bytes(str(fifo))
    (tmp_path / "link").symlink_to(big)
    with pytest.raises(UntrustedInput, match="symbolic link"):
        untrusted.read_bytes(str(tmp_path / "link"), follow=False)



class _Asked:
    """A file whose reads say how much each asked for; grow: bytes appended to it before the first."""

    def __init__(self, f, asked, grow):
        self.f, self.asked, self.grow = f, asked, grow

    def read(self, n=-1):
        if self.grow and not self.asked:
            with open(f"/proc/self/fd/{self.f.fileno()}", "ab") as g:
                g.write(self.grow)
        self.asked.append(n)
        return self.f.read(n)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_a_bounded_read_asks_for_what_the_file_holds_never_its_whole_limit(tmp_path, monkeypatch):
    # Windows' CPython allocates the size a read asks for before reading: 256 MiB for each
    # package record read with PACKAGE_RECORD, and for each file a scan reads (0.4 s each under Wine)
    from mambaboot.relocate import scan

    asked, grow = [], []
    fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _Asked(fdopen(*a, **k), asked, grow[0] if grow else b""))
    record = tmp_path / "python-3.12.9-0.json"
    record.write_text(json.dumps({"name": "python", "files": ["python.exe"] * 1000}))
    size = record.stat().st_size
    assert untrusted.read_json(str(record), limit=untrusted.PACKAGE_RECORD)["name"] == "python"
    assert scan.read_regular(str(record), limit=scan.READ_LIMIT) == record.read_bytes()
    assert asked and max(asked) <= size + 1, asked
    # a file that grew after its size was taken is still read whole, and refused past the limit
    grow.append(b" " * untrusted.MiB)
    grows = tmp_path / "grows"
    readers = ((lambda p, n: untrusted.read_bytes(p, limit=n), UntrustedInput),
               (lambda p, n: scan.read_regular(p, limit=n), scan.TooBig))
    for read, refused in readers:
        for limit in (2 * untrusted.MiB, untrusted.MiB):
            grows.write_bytes(b"x" * 10)
            asked.clear()
            if limit > untrusted.MiB:
                assert len(read(str(grows), limit)) == 10 + untrusted.MiB
            else:
                with pytest.raises(refused):
                    read(str(grows), limit)


@pytest.mark.parametrize("name", ["../../victim.txt", "/etc/passwd", "a/../../b", "", "a\0b", "C:/x", "a//b"])
def test_a_name_read_from_a_file_stays_below_its_root(name):
    with pytest.raises(UntrustedInput):
        untrusted.within("/p/.mambaboot", name, "/p/.mambaboot/record.json", "its lock entry")
    assert untrusted.within("/p/.mambaboot", "lock.txt", "r", "x") == os.path.join("/p/.mambaboot", "lock.txt")


# -- locks ------------------------------------------------------------------------------


HOSTILE_LOCK_LINES = [
    (f"http://[x/linux-64/python-3.11-0.conda#{SHA}", "Invalid IPv6 URL"),
    (f"https://h/c/linux-64/python%00-3.11-0.conda#{SHA}", "NUL"),
    (f"/tmp/py\0thon/linux-64/python-3.11-0.conda#{SHA}", "NUL"),
]


def _conda_lock(line: str, pip: bool = False) -> str:
    """A conda-lock file (version 1) of one package at the URL of an @EXPLICIT line."""
    url = json.dumps(line.split("#")[0])
    conda = ('- name: "python"\n  version: "3.11"\n  manager: "conda"\n  platform: "linux-64"\n'
             f'  dependencies: {{}}\n  url: {json.dumps("https://h/c/linux-64/python-3.11-0.conda") if pip else url}\n'
             f'  hash:\n    sha256: "{SHA}"\n')
    wheel = (f'- name: "w"\n  version: "1"\n  manager: "pip"\n  platform: "linux-64"\n  dependencies: {{}}\n'
             f'  url: {url}\n  hash:\n    sha256: "{SHA}"\n') if pip else ""
    return ('version: 1\nmetadata:\n  content_hash:\n    "linux-64": "x"\n  channels:\n  - url: "https://h/c"\n'
            '    used_env_vars: []\n  platforms:\n  - "linux-64"\n  sources:\n  - "environment.yml"\n'
            "package:\n" + conda + wheel)


# A raw NUL cannot be in a conda-lock file's YAML: the reader refuses the text before any URL.
@pytest.mark.parametrize("line, problem, form", [(*case, form) for case in HOSTILE_LOCK_LINES
                                                 for form in ("explicit", "conda-lock", "conda-lock pip")
                                                 if form == "explicit" or "\0" not in case[0]])
def test_a_hostile_lock_line_is_a_usage_error(world, standin, line, problem, form):
    """Both lock formats share one check of a package's URL and file name (and a pip entry's)."""
    if form == "explicit":
        lock = world.root / "x.lock"
        lock.write_text(f"# platform: linux-64\n@EXPLICIT\n{line}\n")
    else:
        lock = world.root / "x-lock.yml"
        lock.write_text(_conda_lock(line, pip=form.endswith("pip")))
    before = world.outside()
    r = world.create("x", "--from-lock", str(lock), "--micromamba", str(standin))
    _no_crash(r, 2)
    assert str(lock) in r.stderr and problem in r.stderr
    assert diff(before, world.outside()) == {}


# -- environment files and .condarc -----------------------------------------------------


@pytest.mark.parametrize("body, problem", [
    (_deep_yaml(1000), "nested deeper"),  # deeper than 64, within 1 MiB
    ('dependencies: [python]\nvariables:\n  A: "x\\0y"\n', "variables: A holds a NUL"),
    (b"dependencies: [python]\nvariables:\n  A: x\xed\xa0\x80y\n", "not UTF-8"),
    (b"dependencies: [python]\nvariables:\n  A: x\0y\n", "NUL"),
])
def test_a_hostile_environment_file_is_refused_before_the_engine_runs(world, standin, body, problem):
    env_file = world.root / "env.yml"
    (env_file.write_bytes if isinstance(body, bytes) else env_file.write_text)(body)
    before = world.outside()
    r = world.create("x", "-f", str(env_file), "--micromamba", str(standin))
    _no_crash(r, 2)
    assert str(env_file) in r.stderr and problem in r.stderr, r.stderr
    assert not (world.envs / "x").exists()
    assert diff(before, world.outside()) == {}


def test_a_user_condarc_nested_too_deep_is_named(world, standin):
    (world.home / ".condarc").write_text("proxy_servers:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(DEEP)))
    r = world.create("x", "--dry-run", "--micromamba", str(standin))
    _no_crash(r, 2)
    assert str(world.home / ".condarc") in r.stderr and "nested deeper" in r.stderr


def test_an_environment_condarc_nested_too_deep_is_left_as_it_is(world, made_env, tmp_path):
    prefix = _env(made_env, tmp_path)
    condarc = prefix / ".condarc"
    condarc.write_text(_deep_yaml())
    before = condarc.read_bytes()
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    _no_crash(r, 0)
    assert "nested deeper" in r.stderr and condarc.read_bytes() == before


def test_a_condarc_with_a_byte_order_mark_keeps_the_users_env_prompt(world, made_env, tmp_path):
    prefix = _env(made_env, tmp_path)
    condarc = prefix / ".condarc"
    mine = "\ufeffenv_prompt: '[mine] '\r\nchannels:\r\n  - mine\r\n".encode("utf-8")
    condarc.write_bytes(mine)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    _no_crash(r, 0)
    after = condarc.read_bytes()
    assert after.startswith(mine), "the user's bytes, BOM included, stay as they were"
    assert after.count(b"env_prompt") == 1
    assert untrusted.yaml(after, str(condarc))["env_prompt"] == "[mine] "


# -- an environment's own files ---------------------------------------------------------


def _record_file(prefix: Path) -> Path:
    return prefix / ".mambaboot" / "record.json"


@pytest.mark.parametrize("command", [("list",), ("remove", "--yes"), ("provision",), ("lock",), ("audit",)])
def test_a_record_nested_too_deep_is_no_record_of_ours(world, made_env, tmp_path, command):
    prefix = _env(made_env, tmp_path)
    _record_file(prefix).write_text('{"tool": "mambaboot", "x": ' + _deep_json() + "}")
    r = world.run(*command[:1], str(prefix), *command[1:])
    # a foreign environment: read-only commands answer for it, remove and provision refuse it
    _no_crash(r, 4 if command[0] in ("remove", "provision") else 0)
    assert prefix.exists()


@pytest.mark.parametrize("command", [("list",), ("remove", "--yes"), ("audit",)])
def test_a_record_cut_inside_a_string_is_no_record_of_ours(world, made_env, tmp_path, command):
    """json's C scanner, run without the json package (as list and remove read records), has no
    words for an unterminated string: that was a SystemError, exit 1."""
    prefix = _env(made_env, tmp_path)
    text = _record_file(prefix).read_text()
    _record_file(prefix).write_text(text[: text.index('"', text.index(":")) + 3])
    r = world.run(*command[:1], str(prefix), *command[1:])
    _no_crash(r, 4 if command[0] == "remove" else 0)
    assert prefix.exists()


def test_a_package_record_nested_too_deep_is_named(world, made_env, tmp_path):
    prefix = _env(made_env, tmp_path)
    meta = next((prefix / "conda-meta").glob("python-*.json"))
    meta.write_text('{"name": "python", "x": ' + _deep_json() + "}")
    for command in ("lock", "audit"):
        r = world.run(command, str(prefix))
        _no_crash(r, 4)
        assert meta.name in r.stderr and "nested deeper" in r.stderr, r.stderr


@pytest.mark.parametrize("field", ['"name": 5', '"version": ["3.11"]', '"depends": "python_abi"',
                                   '"paths_data": {"paths": [5]}'])
def test_a_package_record_not_of_its_shape_is_named(world, made_env, tmp_path, field):
    """A conda-meta record whose field is not of the type its shape declares: `lock` refuses the
    environment naming the record (exit 4), as for one it cannot read at all."""
    prefix = _env(made_env, tmp_path)
    meta = next((prefix / "conda-meta").glob("python-*.json"))
    meta.write_text(json.dumps({**json.loads(meta.read_text()), **json.loads("{" + field + "}")}))
    for args in (("lock",), ("lock", "--format", "cyclonedx")):
        r = world.run(*args[:1], str(prefix), *args[1:])
        _no_crash(r, 4)
        assert meta.name in r.stderr and f"field {field.split(chr(34))[1]}" in r.stderr, r.stderr


def test_a_huge_package_record_is_named_not_read(world, made_env, tmp_path):
    prefix = _env(made_env, tmp_path)
    meta = next((prefix / "conda-meta").glob("python-*.json"))
    with open(meta, "r+b") as f:  # sparse: a GiB that costs no disk
        f.truncate((1 << 30) + 1)
    for command in (("audit", str(prefix)), ("move", str(prefix), str(tmp_path / "moved"))):
        r = world.run(*command)
        _no_crash(r, 4)
        assert meta.name in r.stderr and "bigger than" in r.stderr, r.stderr
    assert prefix.is_dir() and not (tmp_path / "moved").exists()


@pytest.mark.parametrize("kind", ["lone surrogate", "socket"])
def test_move_refuses_unreadable_variables_before_moving(world, made_env, tmp_path, kind):
    import socket

    prefix = _env(made_env, tmp_path)
    state = prefix / "conda-meta" / "state"
    if kind == "socket":
        state.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(state))
        sock.close()
    else:
        state.write_text('{"env_vars": {"A": "\\udc80"}}')
    hooks = prefix / "etc" / "conda" / "activate.d"
    before = sorted(p.name for p in hooks.iterdir()) if hooks.is_dir() else []
    r = world.run("move", str(prefix), str(tmp_path / "moved"))
    _no_crash(r, 7)
    assert str(state) in r.stderr, r.stderr
    assert prefix.is_dir() and not (tmp_path / "moved").exists()
    r = world.run("activate-scripts", str(prefix))
    _no_crash(r, 7)
    assert (sorted(p.name for p in hooks.iterdir()) if hooks.is_dir() else []) == before, "a hook was written"


@pytest.mark.parametrize("state, problem", [
    ('{"env_vars": ' + _deep_json() + "}", "nested deeper"),
    ('{"env_vars": {"A": "x\\u0000y"}}', "NUL"),
    ('{"env_vars": {"A": "\\udc80"}}', "lone surrogate"),
])
def test_a_hostile_conda_meta_state_is_named(world, made_env, tmp_path, state, problem):
    prefix = _env(made_env, tmp_path)
    path = prefix / "conda-meta" / "state"
    path.write_text(state)
    for command in (("activate-scripts", str(prefix)), ("run", str(prefix), "--", "true"),
                    ("adopt", str(prefix), "--cache-dir", str(world.cache))):
        r = world.run(*command)
        _no_crash(r, 7)  # the environment's variables cannot be read, as for data conda cannot read
        assert str(path) in r.stderr and problem in r.stderr, (command, r.stderr)


@pytest.mark.parametrize("lock_entry", ["../victim.txt", ".mambaboot/../../victim.txt"])
def test_a_record_lock_entry_outside_the_environment_is_refused(world, made_env, tmp_path, lock_entry):
    prefix = _env(made_env, tmp_path)
    victim = tmp_path / "victim.txt"  # where the entry leads from the prefix
    victim.write_text("mine\n")
    rec = json.loads(_record_file(prefix).read_text())
    rec["lock"] = lock_entry
    rec["state"] = "provisioning"
    rec["provisioning"] = {"pip": {"requirements": [], "installed": False}}
    _record_file(prefix).write_text(json.dumps(rec, indent=2))
    r = world.run("provision", str(prefix), "--cache-dir", str(world.cache))
    _no_crash(r, 4)
    assert f"lock entry {lock_entry!r}" in r.stderr
    assert victim.read_text() == "mine\n"


@pytest.mark.parametrize("field", ['"provisioning": 5', '"verification": ["x"]', '"created": 5',
                                   '"pip_packages": [5]', '"files": 5', '"state": ["complete"]'])
def test_a_record_not_of_its_shape_is_no_record_of_ours(world, made_env, tmp_path, field):
    """A record whose field is not of the type the record's shape declares: every command passes
    over it as over a foreign environment's (remove refuses it, exit 4; list, which reads only
    its own few fields, shows it foreign when one of those is wrong)."""
    from mambaboot.environment import inventory

    prefix = _env(made_env, tmp_path)
    rec = json.loads(_record_file(prefix).read_text())
    rec.update(json.loads("{" + field + "}"))
    _record_file(prefix).write_text(json.dumps(rec, indent=2))
    listed = world.run("list", "--json", str(prefix))
    _no_crash(listed, 0)
    if field.split('"')[1] in inventory.SUMMARY:
        assert [e["state"] for e in json.loads(listed.stdout)["environments"] if e["prefix"] == str(prefix)] == \
            ["foreign"]
    for command in (("lock",), ("audit",)):
        _no_crash(world.run(command[0], str(prefix), *command[1:]))
    r = world.run("remove", "--yes", str(prefix))
    _no_crash(r, 4)
    assert prefix.exists()


@pytest.mark.parametrize("command, path", [
    ("provision", ("provisioning", "pip", "requirements")),
    ("adopt", ("inputs", "python")),
    ("adopt", ("inputs", "pkgs_dir")),
])
def test_a_record_field_read_by_a_command_is_checked_by_its_shape(world, made_env, tmp_path, command, path):
    """The fields provision (an unfinished pip section) and adopt (a managed environment checked
    again) read from the record, a number where text or a list belongs: the record is no record
    of ours (refused as a foreign environment's, or adopted as one), never exit 1."""
    prefix = _env(made_env, tmp_path)
    rec = json.loads(_record_file(prefix).read_text())
    if command == "provision":
        rec["state"] = "provisioning"
        rec["provisioning"] = {"pip": {"requirements": [], "installed": False}}
    where = rec
    for key in path[:-1]:
        where = where.setdefault(key, {})
    where[path[-1]] = 5
    _record_file(prefix).write_text(json.dumps(rec, indent=2))
    r = world.run(command, str(prefix), "--cache-dir", str(world.cache))
    _no_crash(r)
    assert r.returncode in (0, 4), (r.returncode, r.stderr)
    assert prefix.is_dir()


@pytest.mark.parametrize("kind", ["pending", "environments"])
def test_a_cache_note_nested_too_deep_is_ignored(world, kind):
    notes = world.cache / kind
    notes.mkdir(parents=True)
    (notes / "x.json").write_text('{"prefix": ' + _deep_json() + "}")
    for command in (("cache", "info"), ("cache", "clean", "--dry-run"), ("list",)):
        r = world.run(*command, "--cache-dir", str(world.cache))
        _no_crash(r, 0)


# -- shapes ------------------------------------------------------------------------------


def test_a_shape_is_checked_before_any_field_is_used(tmp_path):
    from mambaboot.common import shapes
    from mambaboot.common.files import fsops

    note = {"prefix": shapes.required(str, rule=shapes.keyed_place), "pid": shapes.optional(int),
            "files": shapes.optional(list, rule=shapes.each(str)),
            "tool": shapes.required(str, rule=shapes.exactly("mambaboot")),
            "inner": shapes.optional(dict, rule={"sha256": shapes.optional(str, None, rule=shapes.digest(64))})}
    path = f"/c/pending/{fsops.path_key('/envs/a')}.json"
    good = {"prefix": "/envs/a", "pid": 3, "files": ["x"], "tool": "mambaboot", "later": [1], "inner": {"sha256": None}}
    assert shapes.check(good, note, path) is good
    for bad, problem in [
        ([], "is not a JSON object"),
        ({**good, "pid": True}, "field pid is not an integer"),
        ({**good, "pid": "3"}, "field pid is not an integer"),
        ({**good, "files": ["x", 5]}, "field files[1] is not a string"),
        ({**good, "tool": "other"}, "field tool is 'other', not 'mambaboot'"),
        ({k: v for k, v in good.items() if k != "tool"}, "field tool is missing"),
        ({**good, "prefix": "envs/a"}, "field prefix 'envs/a' is not an absolute path"),
        ({**good, "prefix": "/envs/b"}, "is not the place this file's name is the key of"),
        ({**good, "inner": {"sha256": "ab"}}, "field inner.sha256 'ab' is not a hexadecimal digest of 64 digits"),
    ]:
        with pytest.raises(UntrustedInput, match=problem.replace("[", r"\[").replace("]", r"\]")):
            shapes.check(bad, note, path, "a note")
