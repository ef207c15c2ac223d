"""Environment files: the YAML subset, conda's format, how they merge with the command line,
and `create --file` end to end with a pip section installed offline from a wheel directory."""

import base64
import hashlib
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mambaboot.common import yamlread
from mambaboot.common.errors import UsageError
from mambaboot.pipeline import envfile
from mambaboot.pipeline.plan import CreateInputs, make_plan
from tests.support.snapshot import diff
from tests.test_plan import posix_host

EXPORTED = """\
# what `conda env export` writes, more or less
name: analysis
channels:
- conda-forge
- nodefaults
dependencies:
- python=3.11.2=h0_cpython
- numpy>=1.26,<2  # a comment
- "quoted # kept"
- pip:
  - --no-index
  - --find-links ./wheels
  - 'hello-mb==1.0'
prefix: /home/someone/envs/analysis
"""


def test_yaml_reads_what_environment_files_hold():
    assert yamlread.parse(EXPORTED) == {
        "name": "analysis",
        "channels": ["conda-forge", "nodefaults"],
        "dependencies": ["python=3.11.2=h0_cpython", "numpy>=1.26,<2", "quoted # kept",
                         {"pip": ["--no-index", "--find-links ./wheels", "hello-mb==1.0"]}],
        "prefix": "/home/someone/envs/analysis",
    }


def test_yaml_indented_lists_flow_lists_quotes_nulls_and_continued_values():
    text = 'a:\n  - x\n  - [1, "two, three", \'4\']\nb: "tab\\tnew"\nc: ~\nd:\ne: it\'s fine\n'
    assert yamlread.parse(text) == {"a": ["x", ["1", "two, three", "4"]], "b": "tab\tnew", "c": None,
                                    "d": None, "e": "it's fine"}
    # a quoted value wrapped onto the next line (conda-lock at 80 columns) and a plain one continued:
    # folded into one line, as YAML folds them
    text = "pin: '>=1.6.2,<1.7 ||\n    >1.8'\npip:\n- --pre \\\n  --index-url x\n- numpy\nblock: |\n  two\n  lines\n"
    assert yamlread.parse(text) == {"pin": ">=1.6.2,<1.7 || >1.8", "pip": ["--pre \\ --index-url x", "numpy"],
                                    "block": "two\nlines\n"}


@pytest.mark.parametrize("text, message", [
    ("a: &anchor x\nb: *anchor\n", "line 2, column 4: an alias"),
    ("a: !!python/object x\n", "line 1, column 4: the tag"),
    ("<<: {b: c}\n", "merge key"),
    ("a: x\na: y\n", "line 2, column 1: duplicate key"),
    ("a:\n    - x\n  - y\n", "line 3, column 3: .* indented"),
    ("a: 'open\n", "end of stream .*quoted scalar at line 1, column 4"),
    ("a:\n\t- x\n", "tabs"),
    ("a: b\n  c: d\n", "line 2, column 4: .*continues the value above"),
    ("a: b\nc\nd: e\n", "line 3, column 1: .*no continuation"),
    ("a: 1\n---\nb: 2\n", "second document"),
])
def test_yaml_refuses_naming_line_and_column(text, message):
    with pytest.raises(yamlread.YamlError, match=message):
        yamlread.parse(text)


def test_conda_format():
    ef = envfile.parse(EXPORTED, "/p/environment.yml")
    assert ef.name == "analysis"
    assert ef.channels == ("conda-forge",), "nodefaults only tells conda not to add defaults"
    assert ef.dependencies == ("python=3.11.2=h0_cpython", "numpy>=1.26,<2", "quoted # kept")
    assert ef.pip == ("--no-index", "--find-links ./wheels", "hello-mb==1.0")
    assert ef.ignored and "prefix" in ef.ignored[0]


@pytest.mark.parametrize("text, message", [
    ("variables:\n  - A\n", "variables must be a mapping"),
    ("variables:\n  1A: x\n", "not a variable name every shell can set"),
    ("variables:\n  A-B: x\n", "not a variable name every shell can set"),
    ("dependecies:\n- python\n", "did you mean .dependencies."),
    ("dependencies:\n- pip: requests\n", "`- pip:` needs a list of requirements"),
    ("dependencies:\n- pip:\n    requests\n    numpy\n", "`- pip:` needs a list .* not 'requests numpy'"),
    ("dependencies:\n- conda:\n  - x\n", "line 3, column 3: `- conda:` under dependencies: conda would read it"),
    ("dependencies:\n- [x]\n", "line 2, column 3: dependencies may hold specs and mappings"),
    ("dependencies:\n- sel(linux ): x\n", "`sel\\(linux \\)` is no selector micromamba reads"),
    ("dependencies:\n- sel(bsd): x\n", "`sel\\(bsd\\)` is no selector micromamba reads"),
    ("dependencies:\n- sel(linux: x\n", "`sel\\(linux` is no selector micromamba reads"),
    ("dependencies:\n- sel(unix):\n  - x\n", "line 3, column 3: `- sel\\(unix\\):` holds one spec"),
    ("- a\n- b\n", "expected a mapping"),
    ("name: [a]\n", "name must be a string"),
    ("channels: x\n", "channels must be a list"),
])
def test_conda_format_errors_are_usage_errors(text, message):
    with pytest.raises(UsageError, match=message):
        envfile.parse(text, "/p/environment.yml")


@pytest.mark.parametrize("text, message", [
    ("dependencies: {python: 3.11}\n", "line 1, column 15: dependencies must be a list"),
    ("name: x\ndependencies:\n  python: 3.11\n", "line 3, column 3: dependencies must be a list"),
    ("channels:\n- conda-forge\n- [a]\n", "line 3, column 3: every entry of channels must be a string"),
    ("dependencies:\n- python\n- python=3.11\n- [a]\n", "line 4, column 3: dependencies may hold specs"),
    ("dependencies:\n- python\n- pip:\n  - x\n  - {y: z}\n",
     "line 5, column 5: every entry of dependencies: pip must be a string"),
    ("dependencies:\n- pip: requests\n", "line 2, column 8: `- pip:` needs a list"),
    ("name:\n  - a\n", "line 2, column 3: name must be a string"),
    ("variables: [A]\n", "line 1, column 12: variables must be a mapping"),
    ("variables:\n  A:\n    - x\n", "line 3, column 5: variables: A must have a single value"),
    ("- a\n", "line 1, column 1: expected a mapping"),
])
def test_shape_errors_name_their_line_and_column(text, message):
    """Read by either reader (a flow mapping is ruamel's, the block ones common/yamlblock's)."""
    with pytest.raises(UsageError, match=re.escape(message)):
        envfile.parse(text, "/p/environment.yml")


def test_a_mapping_conda_and_micromamba_ignore_is_taken_and_named():
    """openfe's environment.yml: `- run_constrained:` beside `- pip:`; conda 26 and micromamba
    create from it and ignore the entry (conda/env/env.py Dependencies.parse; libmamba install.cpp)."""
    text = ("name: openfe_env\nchannels:\n  - conda-forge\ndependencies:\n  - numpy\n  - pip\n  - pip:\n"
            "    - git+https://example.invalid/kartograf@main\n  - run_constrained:\n    # a pin\n"
            "    - smirnoff99frosst>=1.1.0.1\n")
    ef = envfile.parse(text, "/p/environment.yml")
    assert ef.dependencies == ("numpy", "pip") and ef.pip == ("git+https://example.invalid/kartograf@main",)
    assert [w for w in ef.ignored if "run_constrained" in w] == [
        "dependencies: run_constrained (a mapping conda and micromamba ignore too)"]


SELECTED = """\
channels:
  - conda-forge
dependencies:
  - sel(linux): cxx-compiler <1.11 #       GCC 13
  - sel(linux): sysroot_linux-64==2.17
  - sel(osx): cxx-compiler
  - sel(win): cxx-compiler
  - cmake >=3.16
  - sel(unix): make
  - {sel(win): winreg, sel(osx): libcxx}
"""


@pytest.mark.parametrize("subdir, specs", [
    ("linux-64", ("cxx-compiler <1.11", "sysroot_linux-64==2.17", "cmake >=3.16", "make")),
    ("linux-aarch64", ("cxx-compiler <1.11", "sysroot_linux-64==2.17", "cmake >=3.16", "make")),
    ("osx-arm64", ("cxx-compiler", "cmake >=3.16", "make", "libcxx")),
    ("win-64", ("cxx-compiler", "cmake >=3.16", "winreg")),
])
def test_micromambas_selectors_are_applied_for_the_target_platform(subdir, specs):
    """mamba's dev/environment-dev.yml: micromamba 2.8.1 merges a `sel(X)` entry's spec where it stands
    when X holds for the platform (unix: all but win-*; linux, osx, win: the subdir's start)."""
    ef = envfile.parse(SELECTED, "/p/environment.yml", subdir=subdir)
    assert ef.dependencies == specs
    left = [w for w in ef.ignored if "selectors" in w]
    assert len(left) == 1 and f"not for {subdir}" in left[0] and "conda ignores" in left[0]


def test_a_lock_for_platforms_the_selectors_pick_differently_for_is_refused():
    ef = envfile.parse(SELECTED, "/p/environment.yml", subdir="linux-64")
    envfile.one_selection(ef, ["linux-64", "linux-aarch64"])  # the same specs for both
    with pytest.raises(UsageError, match="pick other packages for linux-64 than for osx-arm64: lock one platform"):
        envfile.one_selection(ef, ["linux-64", "osx-arm64"])


@pytest.mark.parametrize("spec, name", [
    ("python", "python"), ("python=3.12", "python"), ("conda-forge::numpy>=2", "numpy"),
    ("Mamba 2.0.*", "mamba"), ("pip[version='>=24']", "pip"),
])
def test_package_name(spec, name):
    assert envfile.package_name(spec) == name


def _plan(text, **inputs):
    return make_plan(posix_host(), CreateInputs(env_file=envfile.parse(text, "/p/environment.yml"), **inputs))


def test_python_conda_mamba_and_pip_are_added_when_the_file_does_not_name_them():
    plan = _plan("dependencies:\n- numpy\n- pip:\n  - requests\n")
    assert plan.specs == ("python", "conda", "mamba", "pip", "numpy")
    assert plan.pip == ("requests",) and plan.pip_dir == "/p"
    plan = _plan("name: e\ndependencies:\n- mamba=2\n- python=3.11\n- conda\n")
    assert plan.specs == ("mamba=2", "python=3.11", "conda")
    assert plan.python == "3.11", "a pinned python in the file is what verification checks"
    assert plan.name == "e" and plan.prefix == "/work/e"


def test_the_command_line_overrides_name_channels_and_python():
    text = "name: fromfile\nchannels: [a, b]\ndependencies:\n- python=3.10\n- uv\n"
    plan = _plan(text, name="cli", channels=("c",), python="3.11", packages=("ruff",))
    assert plan.name == "cli_3_11" and plan.channels == ("c",)
    assert plan.specs == ("python=3.11", "conda", "mamba", "uv", "ruff")
    assert plan.python == "3.11"
    plan = _plan(text, prefix="/elsewhere/x")
    assert plan.prefix == "/elsewhere/x" and plan.channels == ("a", "b")


def test_file_specs_are_checked_like_command_line_values():
    # conda's name rule refuses it first; the command line's own (no spec starts with '-') holds after it
    with pytest.raises(UsageError, match="line 2, column 3: `--yes` is no package spec conda reads"):
        _plan("dependencies:\n- --yes\n")


# --------------------------------------------------------------------------- end to end


def _wheel(directory: Path, name: str, version: str, module: str, body: str, requires: tuple = (),
           tag: str = "py3-none-any") -> Path:
    """A real (tiny) wheel, written with zipfile; tag: its compatibility tag (one platform's, or any)."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    depends = "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{module}.py": body.encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{depends}".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: mambaboot-tests\nRoot-Is-Purelib: true\nTag: " + tag.encode() + b"\n",
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for path, data in files.items()
    ) + f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record.encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def test_create_from_an_environment_file_with_a_pip_section(world, channel, standin):
    project = world.root / "project"
    wheel = _wheel(project / "wheels", "hello-mb", "1.0", "hello_mb", "GREETING = 'hello from a wheel'\n")
    (project / "environment.yml").write_text(
        "name: ignored-by-cli\n"
        "channels:\n  - http://127.0.0.1:9/not-a-channel\n"
        "dependencies:\n  - python=3.11\n  - uv\n  - pip\n"
        "  - pip:\n    - --no-index\n    - --find-links ./wheels\n    - hello-mb==1.0\n"
    )
    before = world.outside(project)
    # pip's user agent runs `rustc --version`; a rustup proxy on PATH then writes ~/.rustup:
    # the environment's pip doing what it does anywhere, not mambaboot. Keep rustup out of it.
    path = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)
    r = world.create("fromfile", "--file", str(project / "environment.yml"), "-c", channel,
                     "--micromamba", str(standin), "--json", env={"PATH": path})
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "fromfile"
    assert not (world.envs / "ignored-by-cli").exists()
    out = r.json()
    assert {"python", "conda", "mamba", "uv", "pip"} <= {p["name"] for p in out["packages"]}
    greeting = subprocess.run([str(prefix / "bin" / "python"), "-c", "import hello_mb; print(hello_mb.GREETING)"],
                              capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert greeting.stdout.strip() == "hello from a wheel", greeting.stderr
    assert list((prefix / "lib" / "python3.11" / "site-packages").glob("hello_mb-1.0.dist-info"))

    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert record["state"] == "complete"
    assert record["pip_packages"] == [{"name": "hello-mb", "version": "1.0", "url": wheel.as_uri(),
                                       "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}], \
        "the exact artefact pip installed; pip's own (conda) package is not listed"
    assert record["provisioning"]["pip"]["installed"] is True
    assert {".mambaboot/pip-requirements.txt", ".mambaboot/pip-report.json"} <= set(record["files"])
    assert record["inputs"]["env_file"] == str(project / "environment.yml")
    # nothing outside the prefix and the cache changed (pip's cache is in the cache dir)
    assert diff(before, world.outside(prefix, project)) == {}


def test_pip_gets_its_configuration_and_proxies_but_not_the_callers_other_secrets(world, channel, standin):
    # pip expands ${NAME} in a requirements file from its own environment and leaves an unset one
    # as written (pip/_internal/req/req_file.py, expand_env_variables): the wheel directory it
    # reads says what it was given.
    project = world.root / "project"
    _wheel(project / "wheels-${GITHUB_TOKEN}", "hello-mb", "1.0", "hello_mb", "GREETING = 'no token'\n")
    _wheel(project / "wheels-secret-xyz", "hello-mb", "1.0", "hello_mb", "GREETING = 'the token'\n")
    _wheel(project / "wheels-kept", "proxied-mb", "1.0", "proxied_mb", "")
    _wheel(project / "configured", "configured-mb", "1.0", "configured_mb", "")
    (project / "environment.yml").write_text(
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n"
        "    - --find-links ./wheels-${GITHUB_TOKEN}\n    - --find-links ./wheels-${NO_PROXY}\n"
        "    - hello-mb==1.0\n    - proxied-mb==1.0\n    - configured-mb==1.0\n"
    )
    path = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)  # as above: no rustup
    r = world.create("secrets", "--file", str(project / "environment.yml"), "-c", channel, "--micromamba",
                     str(standin), env={"PATH": path, "GITHUB_TOKEN": "secret-xyz", "NO_PROXY": "kept",
                                        "PIP_FIND_LINKS": str(project / "configured")})
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "secrets"
    greeting = subprocess.run([str(prefix / "bin" / "python"), "-c", "import hello_mb; print(hello_mb.GREETING)"],
                              capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert greeting.stdout.strip() == "no token", greeting.stderr
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert {p["name"] for p in record["pip_packages"]} == {"hello-mb", "proxied-mb", "configured-mb"}


def test_a_failing_pip_section_is_exit_8_and_the_environment_stays(world, channel, standin):
    (world.root / "environment.yml").write_text(
        "dependencies:\n  - python\n  - pip:\n    - --no-index\n    - no-such-distribution==9\n"
    )
    r = world.create("pipfail", "--file", str(world.root / "environment.yml"), "-c", channel,
                     "--micromamba", str(standin))
    assert r.returncode == 8, r.stderr
    assert "pip section failed" in r.stderr and "no-such-distribution" in r.stderr
    record = json.loads((world.envs / "pipfail" / ".mambaboot" / "record.json").read_text())
    assert record["state"] == "provisioning-failed"
    assert record["provisioning"]["failed"]["step"] == "pip"
    assert (world.envs / "pipfail" / "bin" / "python").exists()


def test_a_bad_environment_file_is_exit_2_before_anything_happens(world, channel, standin):
    (world.root / "environment.yml").write_text("name: x\ndependencies:\n- python\n  pip: x\n")
    before = world.outside()
    r = world.create("--file", str(world.root / "environment.yml"), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and "line 4, column 6: mapping values are not allowed here" in r.stderr, r.stderr
    r = world.create("--file", str(world.root / "missing.yml"))
    assert r.returncode == 2 and "cannot read environment file" in r.stderr
    assert diff(before, world.outside()) == {}


@pytest.mark.parametrize("dependencies, message", [
    # a plain scalar that swallowed the next line: conda takes `python==3.11-=uv`, micromamba refuses it
    ("- python=3.11\n     - uv\n", "line 3, column 3: `python=3.11 - uv` is one spec to YAML"),
    ("- python\n- 3.5\n", "line 4, column 3: `3.5` under dependencies is a number to YAML"),
    ("- true\n", "line 3, column 3: `true` under dependencies is a boolean to YAML"),
    ("  - python\n  - # widgets\n  - numpy\n", "line 4, column 4: an empty item under dependencies"),
    ("- python\n  - # widgets\n", "line 3, column 3: `python -` is one spec to YAML"),
    ("- null\n", "line 3, column 3: an empty item under dependencies"),
    ("- numpy\n- foo__bar >=1\n", "line 4, column 3: `foo__bar >=1` is no package spec conda reads: invalid package name"),
    ("- '>=3.9'\n", "line 3, column 3: `>=3.9` is no package spec conda reads: no package name found"),
])
def test_a_dependency_conda_would_not_take_is_exit_2_naming_where(world, channel, standin, dependencies, message):
    (world.root / "environment.yml").write_text("name: x\ndependencies:\n" + dependencies)
    before = world.outside()
    r = world.create("--file", str(world.root / "environment.yml"), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and f"{world.root / 'environment.yml'}: {message}" in r.stderr, r.stderr
    assert diff(before, world.outside()) == {}


@pytest.mark.parametrize("spec", ["'3.5'", '"true"', "python 3.11.*", "conda-forge::numpy[build=py3*]", "__glibc",
                                  "numpy # a comment", "py*", "python=3.11 - uv", "_private >=1", "'2024-01-01'"])
def test_a_dependency_conda_takes_is_taken(spec):
    assert envfile.parse(f"dependencies:\n- {spec}\n", "e.yml").dependencies == (yamlread.parse(spec),)


# --------------------------------------------------------------------------- channel variables, as expandvars


_TRICKY = ["$A", "${A}", "%A%", "$a", "%a%", "${a}", "$$A", "%%A%%", "'$A'", "'%A%", "$A-B/x", "${A", "%A", "$",
           "${}", "$-", "%%", "$1", "x$A$B${C}%D%y", "'${A}'%A%'", "$ABSENT/${ABSENT}/%ABSENT%", "a'b$A"]


class _UpperKeys(dict):
    def __init__(self, items):
        super().__init__((k.upper(), v) for k, v in items.items())

    def __getitem__(self, key):
        return super().__getitem__(key.upper())


@pytest.mark.parametrize("windows", [False, True])
@given(st.lists(st.sampled_from(["$", "%", "{", "}", "'", "A", "B", "a", "-", "_", "/", "x", "ABSENT"]),
                max_size=12).map("".join) | st.sampled_from(_TRICKY))
@settings(max_examples=300, derandomize=True, database=None, deadline=None)
def test_a_channel_is_expanded_as_conda_expands_it_on_its_system(windows, channel):
    """conda expands with os.path.expandvars (conda/env/env.py, _expand_channels): posixpath's or
    ntpath's, each checked here against the standard library's own, on the same variables."""
    import ntpath
    import posixpath

    environ = {"A": "one", "B": "two/2", "C": "", "D": "%A%", "A-B": "dash"}
    with pytest.MonkeyPatch.context() as mp:  # Windows' os.environ: its names in upper case (os.py, encodekey)
        mp.setattr(os, "environ", _UpperKeys(environ) if windows else dict(environ))
        wanted = (ntpath if windows else posixpath).expandvars(channel)
    got, unset = envfile.expand_channel(channel, environ, windows)
    assert got == wanted
    known = {k.upper() if windows else k for k in environ}
    assert all(n and n in channel and (n.upper() if windows else n) not in known for n in unset), unset


def test_a_windows_channel_variable_is_named_case_insensitively():
    got, unset = envfile.expand_channel("https://h/%token%/${Token}/$TOKEN/%NOPE%", {"TOKEN": "t"}, True)
    assert (got, unset) == ("https://h/t/t/t/%NOPE%", ("NOPE",))
