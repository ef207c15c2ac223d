"""Hostile and odd input: success or a clear refusal (2/4), never a traceback, nothing touched."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.snapshot import diff, snapshot

METACHARS = "& | < > ^ % ! \" ' ; $ \\ ` ( )".split(" ")
NAMES = (
    ["", "..", ".", "/abs/path", "-leading", "a/b", "CON", "NUL", "COM1", "trailing.", "trailing ", " lead",
     "with space", "ünïcödé", "環境", "x" * 300, "new\nline", "tab\there"]
    + [f"m{c}x" for c in METACHARS]
)
PYTHONS = ["3.x", "abc", "3.12; rm -rf /", ">=3.10,<3.13", "", "3", "3.11", "3.11.2", "$(reboot)", "`id`"]
CHANNELS = ["--offline", "-x", "", " ", "file:///nonexistent/channel", "https://example.invalid/ch", "a b"]


def _check(world, reliability, category, args, allowed=(0, 2, 4)):
    before = snapshot(world.root)
    r = world.create(*args, "--dry-run")
    ok = r.returncode in allowed and "Traceback" not in r.stderr and diff(before, snapshot(world.root)) == {}
    if r.returncode != 0:
        ok = ok and "error:" in r.stderr
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (args, r.returncode, r.stderr)
    return r


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_names(world, reliability, name):
    r = _check(world, reliability, "name", ["--", name] if name.startswith("-") else [name])
    if "/" in name or name in ("", ".", "..") or name.startswith("-") or "\n" in name or "\t" in name:
        assert r.returncode == 2
    if set(name) & set("'\"$`\\"):  # live inside the "..." of an entry point's sh line (pathrules)
        assert r.returncode == 2


@pytest.mark.parametrize("version", PYTHONS, ids=repr)
def test_python_versions(world, reliability, version):
    r = _check(world, reliability, "python", ["--python", version])
    assert r.returncode == (0 if re.fullmatch(r"[0-9]+(\.[0-9]+){0,2}", version) else 2)


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_channels(world, reliability, channel):
    r = _check(world, reliability, "channel", [f"--channel={channel}"])
    assert r.returncode == (2 if channel.strip() == "" or channel.startswith("-") else 0)


def test_prefix_that_is_a_symlink_to_elsewhere_is_refused(world, reliability, channel, standin):
    elsewhere = world.root / "elsewhere"
    elsewhere.mkdir()
    (world.envs / "py").symlink_to(elsewhere)
    before = snapshot(world.root)
    r = world.create("-c", channel, "--micromamba", str(standin))
    reliability.record("hostile inputs: no traceback, nothing touched", r.returncode == 4)
    assert r.returncode == 4 and "symbolic link" in r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("name", ["CON", "trailing.", "m&x", "m;x", "m%x", "m!x"])
def test_odd_but_legal_posix_names_really_create(world, channel, standin, name):
    r = world.create(name, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert (world.envs / name / ".mambaboot" / "record.json").is_file()


def _long_prefix(world, length: int):
    prefix = world.root
    while len(str(prefix)) < length:
        prefix = prefix / ("d" * min(100, length - len(str(prefix)) - 1))
    assert len(str(prefix)) == length
    return prefix


def test_a_255_character_prefix_works_and_a_longer_one_is_refused(world, channel, standin):
    """255: the room conda-build leaves in binaries for the prefix, which micromamba writes past
    (libmamba link.cpp LinkFile::create_prefix_replaced pads with nothing and the file grows)."""
    r = world.create("--prefix", str(_long_prefix(world, 255)), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    longer = _long_prefix(world, 256)
    before = snapshot(world.root)
    r = world.create("--prefix", str(longer), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and "256 bytes long" in r.stderr and "at most 255" in r.stderr, r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.fixture
def immutable_dir(tmp_path):
    """A directory even root cannot write into (the tests run as root in CI)."""
    d = tmp_path / "readonly-envs"
    d.mkdir()
    subprocess.run(["chattr", "+i", str(d)], check=True)
    yield d
    subprocess.run(["chattr", "-i", str(d)], check=True)


def test_read_only_envs_dir_is_refused_cleanly(world, reliability, channel, standin, immutable_dir):
    r = world.create("--envs-dir", str(immutable_dir), "-c", channel, "--micromamba", str(standin))
    ok = r.returncode == 4 and "is not writable" in r.stderr and "Traceback" not in r.stderr and list(immutable_dir.iterdir()) == []
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, r.stderr


@pytest.fixture
def tiny_disk(tmp_path):
    """A 4 MiB filesystem: far too small for an environment."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_full_disk_is_a_message_and_leaves_nothing(world, reliability, channel, standin, tiny_disk):
    """micromamba says only "cannot copy: Input/output error" (the stand-in too): the message says
    which disk is full, what is free there and what the environment needs."""
    prefix = tiny_disk / "env"
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    ok = r.returncode == 6 and "Traceback" not in r.stderr and list(tiny_disk.iterdir()) == []
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (r.returncode, r.stderr)
    first = next(line for line in r.stderr.splitlines() if line.startswith("mambaboot: error:"))
    assert first.startswith(f"mambaboot: error: the disk holding {prefix} is full: "), first
    assert " free there, and the environment needs " in first and "choose another --prefix" in first


def test_a_full_disk_under_the_package_cache_is_named(world, reliability, channel, standin, tiny_disk):
    r = world.run("create", "py", "--cache-dir", str(tiny_disk), "-c", channel, "--micromamba", str(standin))
    ok = r.returncode == 6 and "Traceback" not in r.stderr and not (world.envs / "py").exists()
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (r.returncode, r.stderr)
    first = next(line for line in r.stderr.splitlines() if line.startswith("mambaboot: error:"))
    assert first.startswith(f"mambaboot: error: the disk holding the package cache {tiny_disk / 'Python' / 'pkgs'} "
                            "is full: "), first
    assert "to download" in first and "choose another --cache-dir" in first


def test_full_disk_in_the_cache_is_a_message(world, reliability, channel, release_server, tiny_disk):
    """The 'binary' does not fit in the cache: an I/O error, said in one line."""
    release_server.add_release("2.8.1-0", "linux-64", os.urandom(6 << 20))
    r = world.run("create", "--cache-dir", str(tiny_disk), "-c", channel,
                  env={"MAMBABOOT_RELEASES_URL": release_server.releases_base})
    ok = r.returncode == 5 and "Traceback" not in r.stderr and "No space left" in r.stderr
    ok = ok and [p for p in tiny_disk.rglob("*") if p.is_file() and not p.name.endswith(".lock")] == []
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (r.returncode, r.stderr, list(tiny_disk.rglob("*")))


def test_unset_home_and_temp(world, channel, standin):
    env = {k: v for k, v in world.env.items() if k not in ("HOME", "TMPDIR")}
    r = world.create("-c", channel, "--micromamba", str(standin), env=None)
    assert r.returncode == 0
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from mambaboot.cli import main; "
         "sys.exit(main(sys.argv[2:]))", str(Path(__file__).parent.parent / "src"),
         "create", "second", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)],
        env=env, cwd=str(world.envs), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("command", [["create", "e", "--dry-run"], ["list", "--json"], ["run", "rel", "--", "true"],
                                     ["adopt", "rel"], ["cache", "info"]])
def test_a_removed_current_directory_is_named(world, reliability, command):
    """getcwd and abspath fail with an ENOENT naming no file once the shell's directory is gone:
    exit 9 says it is the current directory, not a bare "No such file or directory"."""
    gone = world.root / "gone"
    gone.mkdir()
    before = snapshot(world.root, exclude=[gone])
    proc = subprocess.Popen([*world.command, *command], env=world.env, cwd=str(gone), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.rmdir(os.getcwd()))
    out, err = proc.communicate(timeout=120)
    ok = (proc.returncode == 9 and "No such file or directory: the current directory (removed" in err
          and "Traceback" not in err and not gone.exists() and diff(before, snapshot(world.root)) == {})
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (proc.returncode, err)
    if "--json" in command:
        assert json.loads(out)["exit_code"] == 9


_UNENCODABLE = ["ünï", "環境", "😀", os.fsdecode(b"\xff")]  # cp1252 holds only the first; UTF-8 not the last


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_names_the_output_encoding_cannot_hold_are_escaped_not_a_crash(world, reliability, encoding):
    """Windows encodes redirected output in its ANSI code page, and Python's stdout under a UTF-8
    locale refuses a file name's undecodable bytes: before, `list` ended halfway with exit 1."""
    for name in _UNENCODABLE:
        (world.envs / name / "conda-meta").mkdir(parents=True)
    def listed(*json_flag):
        return subprocess.run([*world.command, "list", "--envs-dir", str(world.envs), *json_flag],
                              env={**world.env, "PYTHONIOENCODING": encoding}, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=120)

    text, js = listed(), listed("--json")
    ok = (text.returncode, js.returncode) == (0, 0) and "\\udcff" in text.stdout.decode(encoding)
    names = sorted(e["name"] for e in json.loads(js.stdout.decode(encoding))["environments"]) if ok else None
    ok = ok and names == sorted(_UNENCODABLE)
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (text.returncode, text.stderr, js.returncode, js.stderr, names)


# ------------------------------------------------------------------ generated hostile input (hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# sh and cmd metacharacters, quotes, %, !, control characters, non-ASCII, path separators, and
# lone surrogates (what undecodable bytes on a command line become).
_HOSTILE_CHARS = st.sampled_from(list("&|<>^%!\"';$\\`()*?[]{}#,=~/: .-\t\n\x1b") + ["é", "環", "\udcff"])
_HOSTILE_TEXT = st.text(_HOSTILE_CHARS | st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40)
_GENERATED = settings(max_examples=int(os.environ.get("MAMBABOOT_TEST_EXAMPLES", "25")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check_generated(world, reliability, args, files=()):
    """Like _check, and also: no file named by the input appears anywhere."""
    r = _check(world, reliability, "generated", args)
    names = {os.path.basename(a.rstrip("/")) for a in args if a}
    for path in world.root.rglob("*"):
        assert path.name not in names or path.parent == world.root, (args, path)
    return r


@_GENERATED
@given(name=_HOSTILE_TEXT)
def test_generated_names(world, reliability, name):
    _check_generated(world, reliability, [name, "-c", "file:///nonexistent/channel"])


@_GENERATED
@given(option=st.sampled_from(["--python", "--package", "-c", "--micromamba-version", "--envs-dir", "--prefix"]),
       value=_HOSTILE_TEXT)
def test_generated_option_values(world, reliability, option, value):
    _check_generated(world, reliability, ["x", option, value] if option not in ("--prefix",) else [option, value])


@_GENERATED
@given(name=_HOSTILE_TEXT, spec=_HOSTILE_TEXT, channel=_HOSTILE_TEXT)
def test_generated_environment_files(world, reliability, name, spec, channel):
    import json as _json

    env_file = world.tmp / "environment.yml"
    # JSON strings are YAML double-quoted scalars: the values reach mambaboot exactly.
    env_file.write_text(f"name: {_json.dumps(name)}\nchannels:\n  - {_json.dumps(channel)}\n"
                        f"dependencies:\n  - {_json.dumps(spec)}\n", encoding="utf-8", errors="surrogateescape")
    before = snapshot(world.root)
    r = world.create("--file", str(env_file), "--dry-run")
    ok = r.returncode in (0, 2, 4) and "Traceback" not in r.stderr and diff(before, snapshot(world.root)) == {}
    reliability.record("hostile inputs: no traceback, nothing touched", ok)
    assert ok, (name, spec, channel, r.returncode, r.stderr)


def test_a_full_disk_met_while_packages_were_still_extracted_names_the_prefix(tmp_path, monkeypatch):
    """An engine that links while it still extracts (the stand-in's rattler; libmamba extracts
    every package first) fails with part of them in the cache: when the prefix's disk cannot hold
    even those, it is the prefix's disk that is named."""
    from mambaboot.environment import diskfull

    pkgs = tmp_path / "pkgs"
    (pkgs / "a-1.0-0" / "info").mkdir(parents=True)
    (pkgs / "a-1.0-0" / "info" / "index.json").write_text("{}")
    (pkgs / "a-1.0-0" / "data.bin").write_bytes(b"x" * 100_000)
    prefix = str(tmp_path / "env")
    monkeypatch.setattr(diskfull, "_free", lambda path: 1000 if path == prefix else 10 ** 12)
    line = diskfull.explain(prefix, [str(pkgs)], ["a-1.0-0", "b-1.0-0"], 0, "No space left on device (os error 28)")
    assert line is not None and line.startswith(f"the disk holding {prefix} "), line  # (here the cache's disk too)
    assert "at least " in line and "1 of its 2 packages" in line and "choose another --prefix" in line
    # the prefix's disk has room for what is extracted: not a case of the prefix, and no download to blame
    monkeypatch.setattr(diskfull, "_free", lambda path: 10 ** 12)
    assert diskfull.explain(prefix, [str(pkgs)], ["a-1.0-0", "b-1.0-0"], 0, "No space left on device") is None


# ------------------------------------------------------------------ hostile lock files (both formats)

LOCKS = "hostile lock files: exit 2 naming the file and the field"
_SHA, _MD5 = "a" * 64, "b" * 32
_URL = "https://h/c/linux-64/python-3.11-0.conda"
_PACKAGE = {"name": '"python"', "version": '"3.11"', "manager": '"conda"', "platform": '"linux-64"',
            "dependencies": "{}", "url": json.dumps(_URL), "hash": f'\n    md5: "{_MD5}"\n    sha256: "{_SHA}"',
            "category": '"main"', "optional": "false"}


def _entry(**fields: str) -> str:
    entry = {**_PACKAGE, **fields}
    return "- " + "\n  ".join(f"{k}:{'' if v.startswith(chr(10)) else ' '}{v}"
                              for k, v in entry.items() if v is not None)


def _conda_lock(package: str = "", **fields: str) -> str:
    """A conda-lock file (version 1, as conda-lock 4 writes it) of python, conda and mamba, python's
    fields' YAML text replaced by fields (None: left out), or its whole entry by package."""
    package = "\n".join([package or _entry(**fields)] + [
        _entry(name=json.dumps(name), url=json.dumps(f"https://h/c/linux-64/{name}-1-0.conda"))
        for name in ("conda", "mamba")])
    return ('version: 1\nmetadata:\n  content_hash:\n    "linux-64": "x"\n  channels:\n  - url: "https://h/c"\n'
            '    used_env_vars: []\n  platforms:\n  - "linux-64"\n  sources:\n  - "environment.yml"\n'
            f"package:\n{package}\n")


def _deep_dependencies(depth: int) -> str:
    return "".join("\n" + " " * (4 + i) + f"k{i}:" for i in range(depth)) + " x"


def _refused(world, reliability, lock: Path, standin, command: str, *wanted: str) -> str:
    """The lock refused with exit 2 by create --from-lock (or lock's bill of materials of it),
    naming the file and what is wanted, no traceback, nothing written outside."""
    before = world.outside()
    if command == "create":
        r = world.create("x", "--from-lock", str(lock), "--micromamba", str(standin))
    else:
        r = world.run("lock", str(lock), "--format", "cyclonedx", "-o", str(world.root / "bom.json"))
    ok = (r.returncode == 2 and "Traceback" not in r.stderr and str(lock) in r.stderr
          and all(w in r.stderr for w in wanted) and diff(before, world.outside()) == {})
    reliability.record(LOCKS, ok)
    assert ok, (r.returncode, r.stderr, wanted)
    return r.stderr


@pytest.mark.parametrize("command", ["create", "lock"])
@pytest.mark.parametrize("fields, package, wanted", [
    ({"hash": f'["{_SHA}"]'}, "", ["field package[0].hash is not an object"]),
    ({"url": "42"}, "", ["package[0].url '42' is not a package URL"]),
    ({}, '- "python"', ["field package[0] is not an object"]),
    ({"platform": None}, "", ["field package[0].platform is missing"]),
    ({"dependencies": _deep_dependencies(200)}, "", ["nested deeper than"]),
    ({"hash": f'\n    sha256: "{_SHA[:-1]}"'}, "",
     [f"field package[0].hash.sha256 {_SHA[:-1]!r} is not a hexadecimal digest of 64 digits"]),
    ({"hash": f'\n    md5: "{"z" * 32}"'}, "",
     [f"field package[0].hash.md5 {'z' * 32!r} is not a hexadecimal digest of 32 digits"]),
    ({"optional": "maybe"}, "", ["field package[0].optional is 'maybe', not true or false"]),
    ({"dependencies": '\n    "python": ["3"]'}, "", ["field package[0].dependencies.python is not a string"]),
    ({"name": '"py\\0thon"'}, "", ["field package[0].name", "NUL"]),
    ({"manager": '"pip"', "name": '"w\\0"', "url": '"https://h/w-1-py3-none-any.whl"'}, "",
     ["field package[0].name", "NUL"]),
], ids=["hash-list", "url-number", "entry-string", "no-platform", "deep", "sha256-length", "md5-not-hex",
        "optional-not-bool", "dependency-list", "name-nul", "pip-name-nul"])
def test_a_hostile_conda_lock_file_is_refused_naming_the_field(world, reliability, standin, command, fields,
                                                                package, wanted):
    lock = world.root / "x-lock.yml"
    lock.write_text(_conda_lock(package, **fields))
    _refused(world, reliability, lock, standin, command, *wanted)


@pytest.mark.parametrize("url, fragment, same", [
    ("42", _SHA, "'42' is not a package URL"),
    ("http://[x/linux-64/python-3.11-0.conda", _SHA,
     "'http://[x/linux-64/python-3.11-0.conda' is not a URL urllib can read (Invalid IPv6 URL)"),
    (_URL, "sha256:" + _SHA[:-1], f"{_SHA[:-1]!r} is not a hexadecimal digest of 64 digits"),
    (_URL, "g" * 64, f"{'g' * 64!r} is not a hexadecimal digest of 64 digits"),
    (_URL, "z" * 32, f"{'z' * 32!r} is not a hexadecimal digest of 32 digits"),
], ids=["url-number", "url-unparsed", "sha256-length", "sha256-not-hex", "md5-not-hex"])
def test_one_hostile_url_or_digest_is_told_alike_in_both_lock_formats(world, reliability, standin, url, fragment,
                                                                      same):
    explicit = world.root / "x.lock"
    explicit.write_text(f"# platform: linux-64\n@EXPLICIT\n{url}#{fragment}\n")
    digest = fragment.split(":")[-1]
    kind = "md5" if len(digest) == 32 else "sha256"
    unified = world.root / "x-lock.yml"
    unified.write_text(_conda_lock(url=json.dumps(url), hash=f'\n    {kind}: "{digest}"'))
    told = [_refused(world, reliability, lock, standin, "create", same) for lock in (explicit, unified)]
    assert "line 3" in told[0] and "package[0]" in told[1], told


# ------------------------------------------------------------------ hostile pixi.lock files, and pip names in every lock

_WHEEL = "https://h/w/mytool-1.0-py3-none-any.whl"
_INJECTED = "mytool\n--index-url https://evil.example/simple\n--trusted-host evil.example\n-r ~/.netrc"


def _pixi(ref: str = "", entry: str = "", other_ref: str = "", version: int = 7) -> str:
    """A pixi.lock (version 7) of python for linux-64 and osx-64; ref: a reference added to linux-64's
    list, other_ref: to osx-64's, entry: an entry added to `packages` (YAML text, indented as there)."""
    urls = {p: f"https://h/c/{p}/python-3.11-0.conda" for p in ("linux-64", "osx-64")}
    lists = "".join(f"      {p}:\n      - conda: {u}\n" + (f"      {r}\n" if r else "")
                    for (p, u), r in zip(urls.items(), (ref, other_ref)))
    entries = "".join(f"- conda: {u}\n  sha256: {_SHA}\n  md5: {_MD5}\n" for u in urls.values())
    table = "platforms:\n- name: linux-64\n- name: osx-64\n" if version == 7 else ""
    return (f"version: {version}\n{table}environments:\n  default:\n    channels:\n    - url: https://h/c/\n"
            f"    packages:\n{lists}packages:\n{entries}{entry}")


def _pypi_entry(name: str = "mytool", url: str = _WHEEL, version: str = "1.0", sha256: str = "c" * 64) -> str:
    return f"- pypi: {json.dumps(url)}\n  name: {json.dumps(name)}\n  version: {json.dumps(version)}\n  sha256: {sha256}\n"


@pytest.mark.parametrize("text, wanted", [
    (_pixi(ref="- conda: [a, b]"), ["environments.default.packages.linux-64[1].conda is not a string"]),
    (_pixi(other_ref="- conda: [a, b]"), ["environments.default.packages.osx-64[1].conda is not a string"]),
    (_pixi(other_ref="- conda: https://h/c/osx-64/foo.conda",
           entry=f"- conda: https://h/c/osx-64/foo.conda\n  sha256: {_SHA}\n"),
     ["packages.osx-64[1]", "'https://h/c/osx-64/foo.conda' is no NAME-VERSION-BUILD archive name"]),
    (_pixi(entry="- conda: [a, b]\n  sha256: x\n"), ["field packages[2].conda is not a string"]),
    (_pixi(ref="- conda: {a: b}"), ["environments.default.packages.linux-64[1].conda is not a string"]),
    (_pixi(ref="- pypi: 42"), ["linux-64[1]: pypi '42' has no entry"]),
    (_pixi(ref="- [conda, x]"), ["linux-64[1]: expected `- conda: URL`"]),
    (_pixi(ref=f"- pypi: {_WHEEL}", entry=_pypi_entry().replace('name: "mytool"', "name: [my, tool]")),
     ["linux-64[1]: name is not a string"]),
    (_pixi(ref=f"- pypi: {_WHEEL}", entry=_pypi_entry(sha256="[1, 2]")), ["linux-64[1]: sha256 is not a string"]),
    (_pixi(ref=f"- pypi: {_WHEEL}", entry=_pypi_entry().replace('version: "1.0"', "version: {a: 1}")),
     ["linux-64[1]: version is not a string"]),
    (_pixi().replace("- name: osx-64\n", "- name: [osx-64]\n"), ["field platforms[1].name is not a string"]),
    ("version: 7\nplatforms:\n- name: linux-64\nenvironments:\n  default:\n    packages: linux-64\npackages: []\n",
     ["environments.default.packages is not an object"]),
    (_pixi().replace("      osx-64:\n      - conda: https://h/c/osx-64/python-3.11-0.conda\n",
                     "      osx-64: {conda: x}\n"), ["environments.default.packages.osx-64 is not a list"]),
    (_pixi(entry=f"- conda: https://h/c/linux-64/python-3.11-0.conda\n  sha256: [{_SHA}]\n"
           ).replace(f"- conda: https://h/c/linux-64/python-3.11-0.conda\n  sha256: {_SHA}\n  md5: {_MD5}\n", "", 1),
     ["linux-64[0]: sha256 is not a string"]),
], ids=["conda-list", "other-platform-list", "other-platform-foo.conda", "entry-list", "conda-mapping", "pypi-number",
        "reference-list", "name-list", "sha256-list", "version-mapping", "platform-name-list", "packages-string",
        "platform-mapping", "digest-list"])
def test_a_hostile_pixi_lock_is_refused_naming_the_place(world, reliability, standin, text, wanted):
    lock = world.root / "pixi.lock"
    lock.write_text(text)
    _refused(world, reliability, lock, standin, "create", *wanted)


def _conda_lock_pip(name: str, url: str = _WHEEL, version: str = "1.0") -> str:
    return _conda_lock(_entry(name=json.dumps(name), url=json.dumps(url), version=json.dumps(version),
                              manager='"pip"', hash=f'\n    sha256: "{"c" * 64}"')
                       + "\n" + _entry())


@pytest.mark.parametrize("file_name, text, wanted", [
    ("pixi.lock", _pixi(ref=f"- pypi: {_WHEEL}", entry=_pypi_entry(_INJECTED)), "linux-64[1]: name"),
    ("pixi.lock", _pixi(ref=f"- pypi: {_WHEEL}", entry=_pypi_entry(version="1.0\n-r ~/.netrc")), "linux-64[1]: version"),
    ("pixi.lock", _pixi(ref=f"- pypi: {json.dumps(_WHEEL + ' --index-url https://evil.example/simple')}",
                        entry=_pypi_entry(url=_WHEEL + " --index-url https://evil.example/simple")), "linux-64[1]: url"),
    ("x-lock.yml", _conda_lock_pip(_INJECTED), "package[0]: name"),
    ("x-lock.yml", _conda_lock_pip("mytool", url=_WHEEL + "\n--trusted-host evil.example"), "package[0]: url"),
    ("x-lock.yml", _conda_lock_pip("mytool", url="direct+" + _WHEEL), "not an http, https or file URL"),
    ("x.lock", f"@EXPLICIT\n{_URL}#{_SHA}\n# pip: --trusted-host==1 {_WHEEL}#sha256={'c' * 64}\n", "line 3: name"),
    ("x.lock", f"@EXPLICIT\n{_URL}#{_SHA}\n# pip: mytool==1 --index-url=https://evil.example#sha256={'c' * 64}\n",
     "line 3: url"),
    ("x.lock", f"@EXPLICIT\n{_URL}#{_SHA}\n# pip -r @ {_WHEEL}#sha256={'c' * 64}\n", "line 3: name"),
], ids=["pixi-name", "pixi-version", "pixi-url", "conda-lock-name", "conda-lock-url", "conda-lock-scheme", "explicit-ours-name",
        "explicit-ours-url", "explicit-conda-lock-name"])
def test_a_pip_name_version_or_url_holding_lines_or_options_never_reaches_pip(world, reliability, standin, file_name,
                                                                               text, wanted):
    lock = world.root / file_name
    lock.write_text(text)
    said = _refused(world, reliability, lock, standin, "create", wanted)
    assert not list((world.root).rglob("pip-requirements.txt")), "no requirements file was written"
    assert "Traceback" not in said


_TOKEN = "tk-github-secret"


@pytest.mark.parametrize("file_name", ["x.lock", "x-lock.yml", "pixi.lock"])
def test_a_pip_url_naming_a_variable_is_refused_so_pip_never_expands_it(world, reliability, standin, made_env,
                                                                       file_name):
    """pip replaces `${NAME}` in each requirements line with the variable's value (req_file.py
    expand_env_variables): a received lock's URL would carry this machine's GITHUB_TOKEN to its server."""
    from tests.support.server import AssetServer

    world.env["GITHUB_TOKEN"] = _TOKEN
    with AssetServer() as server:
        server.add(f"/{_TOKEN}/mytool-1.0-py3-none-any.whl", b"not a wheel")
        url = server.url + "/${GITHUB_TOKEN}/mytool-1.0-py3-none-any.whl"
        text = {"x.lock": (made_env / ".mambaboot" / "lock.txt").read_text() + f"# pip: mytool==1.0 {url}#sha256={'c' * 64}\n",
                "x-lock.yml": _conda_lock_pip("mytool", url=url),
                "pixi.lock": _pixi(ref=f"- pypi: {url}", entry=_pypi_entry(url=url))}[file_name]
        lock = world.root / file_name
        lock.write_text(text)
        said = _refused(world, reliability, lock, standin, "create", "${GITHUB_TOKEN}", "pip would replace")
        assert server.requests == [], "pip fetched nothing"
    assert _TOKEN not in said
    where = {"x.lock": f"line {len(text.splitlines())}: url", "x-lock.yml": "package[0]: url",
             "pixi.lock": "linux-64[1]: url"}[file_name]
    assert where in said, said


# ------------------------------------------------------------------ the lock readers fuzzed with those shapes (hypothesis)

from tests.support import fuzzprofile  # noqa: E402

_FIELD = st.sampled_from(["name", "version", "url", "sha256", "location", "ref", "platform"])
_SHAPE = st.one_of(
    _HOSTILE_TEXT, st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(min_size=1, max_size=3), st.text(max_size=3), max_size=2),
    st.sampled_from([_INJECTED, "mytool\r\n-r ~/.netrc", "--index-url=https://evil.example/simple", "-e .",
                     "direct+" + _WHEEL, _WHEEL + " --hash=sha256:" + "0" * 64, "x.conda", "foo.conda", "a b"]),
)


def _requirement_lines(lock) -> list:
    from mambaboot.pipeline import provision

    return provision.locked_requirements([p for p in lock.pip if p.sha256], "/nonexistent/cache")


def _read(kind: str, text: str):
    from mambaboot.environment import condalock, lockfile, pixilock

    if kind == "pixi":
        return pixilock.parse(text, "pixi.lock", "/", "linux-64")
    if kind == "conda-lock":
        return condalock.parse(text, "x-lock.yml", "/").for_platform("linux-64", "x-lock.yml")
    return lockfile.parse(text, "x.lock", "/", "linux-64")


def _hostile_lock(kind: str, field: str, value: object) -> str:
    y = json.dumps(value)  # JSON is YAML's flow style: the value reaches the reader as drawn
    if kind == "pixi":
        entry = {"name": _pypi_entry().replace('name: "mytool"', f"name: {y}"),
                 "version": _pypi_entry().replace('version: "1.0"', f"version: {y}"),
                 "sha256": _pypi_entry().replace("sha256: " + "c" * 64, f"sha256: {y}")}.get(field, _pypi_entry())
        ref = f"- pypi: {_WHEEL}"
        if field in ("url", "location"):
            entry, ref = entry.replace(f'- pypi: "{_WHEEL}"', f"- pypi: {y}"), f"- pypi: {y}"
        if field == "ref":
            ref = f"- conda: {y}"
        if field == "platform":
            return _pixi(ref, entry).replace("- name: osx-64\n", f"- name: osx-64\n  subdir: {y}\n")
        return _pixi(ref, entry, other_ref=ref)
    if kind == "conda-lock":
        fields = {"name": "mytool", "url": _WHEEL, "version": "1.0"}
        if field in ("name", "url", "version"):
            text = _conda_lock_pip(**{**fields, field: "@@"})
            return text.replace('"@@"', y)
        if field == "sha256":
            return _conda_lock(_entry(hash=f"\n    sha256: {y}"))
        return _conda_lock(_entry(**{{"location": "url", "ref": "hash"}.get(field, field): y}))
    line = {"name": f"# pip {value} @ {_WHEEL}#sha256={'c' * 64}", "version": f"# pip: mytool=={value} {_WHEEL}#sha256={'c' * 64}",
            "url": f"# pip mytool @ {value}#sha256={'c' * 64}", "sha256": f"# pip mytool @ {_WHEEL}#sha256={value}",
            "location": f"{value}#{_SHA}", "ref": f"# pip mytool @ {_WHEEL}#{value}", "platform": f"# platform: {value}"}[field]
    return f"@EXPLICIT\n{_URL}#{_SHA}\n{line}\n"


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=fuzzprofile.examples("MAMBABOOT_FUZZ_EXAMPLES", 60))
@given(kind=st.sampled_from(["pixi", "conda-lock", "explicit"]), field=_FIELD, value=_SHAPE)
def test_lock_readers_take_a_hostile_shape_or_refuse_it_and_pip_gets_exactly_their_entries(kind, field, value):
    """Every reader, a drawn shape where a name, version, URL, digest, location or reference goes:
    a Lock or a UsageError, never another exception; and pip's requirements file holds exactly one
    line per pinned PyPI entry of the lock, `NAME @ URL --hash=sha256:HASH`, nothing else."""
    from mambaboot.common.errors import UsageError

    text = _hostile_lock(kind, field, value)
    try:
        lock = _read(kind, text)
    except UsageError:
        return
    lines = _requirement_lines(lock)
    pinned = [p for p in lock.pip if p.sha256]
    assert len(lines) == len(pinned)
    for line, entry in zip(lines, pinned):
        assert line == f"{entry.name} @ {entry.url} --hash=sha256:{entry.sha256}", line
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]* @ [^\s-]\S* --hash=sha256:[0-9a-f]{64}", line), line
        assert not entry.url.startswith("direct+"), entry


def test_pip_s_requirements_file_holds_the_lock_s_pypi_entries_line_for_line():
    """Each reader's pinned PyPI entries, in the lock's order, are the requirements file's lines."""
    pixi = _pixi(f"- pypi: {_WHEEL}\n      - pypi: direct+https://h/w/other-2.0-py3-none-any.whl",
                 _pypi_entry() + _pypi_entry("other", "direct+https://h/w/other-2.0-py3-none-any.whl", "2.0", "d" * 64))
    explicit = f"@EXPLICIT\n{_URL}#{_SHA}\n# pip mytool @ {_WHEEL}#sha256={'c' * 64}\n# pip: other==2.0 https://h/w/other-2.0-py3-none-any.whl#sha256={'d' * 64}\n"
    wanted = [f"mytool @ {_WHEEL} --hash=sha256:{'c' * 64}",
              f"other @ https://h/w/other-2.0-py3-none-any.whl --hash=sha256:{'d' * 64}"]
    assert _requirement_lines(_read("pixi", pixi)) == wanted
    assert _requirement_lines(_read("explicit", explicit)) == wanted
    conda_lock = _conda_lock(_entry(name='"mytool"', url=json.dumps(_WHEEL), manager='"pip"',
                                    hash=f'\n    sha256: "{"c" * 64}"'))
    assert _requirement_lines(_read("conda-lock", conda_lock)) == wanted[:1]
