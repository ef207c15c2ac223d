"""mambaboot.pyz: reproducible, self-contained, runnable by another interpreter.

The end-to-end scenarios themselves run through the zipapp in test_create.py and
test_adopt.py (tests marked @both_entries); this file checks the artifact.
"""

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mambaboot import __version__
from tests.conftest import REPO, RUNTIME_PYTHON
from tools.build_zipapp import DATA_SUFFIXES, WHEELS, build, bundled, pins, sources

DEBIAN_PYTHON = "/usr/bin/python3.11"  # not the interpreter running the tests (.ci/run installs it)


def test_the_documented_command_builds_the_same_bytes_twice(tmp_path):
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"build{n}" / "mambaboot.pyz"
        proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_zipapp.py"), "-o", str(out)],
                              cwd=str(tmp_path), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        outputs.append(out.read_bytes())
        digest = hashlib.sha256(outputs[-1]).hexdigest()
        assert out.with_name("mambaboot.pyz.sha256").read_text() == f"{digest}  mambaboot.pyz\n"
        assert digest in proc.stdout
        # sha256sum's own line: `sha256sum -c` passes where the archive is, as it is left
        check = subprocess.run(["sha256sum", "-c", "mambaboot.pyz.sha256"], cwd=str(out.parent),
                               capture_output=True, text=True)
        assert (check.returncode, check.stdout) == (0, "mambaboot.pyz: OK\n"), check.stderr
    assert outputs[0] == outputs[1]


def _pythons_before_3_11():
    """The Pythons this machine has whose marshal writes a set constant in hash order (3.9 and
    3.10), one per version: MAMBABOOT_TEST_PYTHON, Debian's, pyenv's. Found where they are."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates = [Path(RUNTIME_PYTHON), Path("/usr/bin/python3.9"), Path("/usr/bin/python3.10"),
                  *sorted(pyenv.glob("3.*/bin/python3.*"))]
    found = {}
    for python in candidates:
        if not (re.fullmatch(r"python3(\.\d+)?", python.name) and os.access(python, os.X_OK)):
            continue
        out = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() in ("3.9", "3.10"):
            found.setdefault(out.stdout.strip(), python)
    return sorted(found.items())


def test_the_build_is_the_same_under_any_hash_seed(tmp_path):
    """Built twice under two hash seeds, by this Python and by every 3.9 and 3.10 found, the
    archive is the same bytes (before 3.11 marshal wrote a set constant in the order of the
    builder's salted hashes). Where no older Python is found, this Python and the scan below
    (no set constant in the sources) stand for them."""
    for version, python in [("this", Path(sys.executable)), *_pythons_before_3_11()]:
        digests = set()
        for seed in ("1", "2"):
            out = tmp_path / f"{version}-{seed}" / "mambaboot.pyz"
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}, "PYTHONHASHSEED": seed}
            proc = subprocess.run([str(python), str(REPO / "tools" / "build_zipapp.py"), "-o", str(out)], env=env,
                                  capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
            digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
        assert len(digests) == 1, f"{python} ({version}) built different archives under two hash seeds"


def test_no_module_holds_a_set_constant():
    """What makes the bytecode depend on hash order before 3.11: a frozenset in a code object's
    constants. CPython folds a set display of constants into one (`{"a", "b"}`, as a value or
    after `in`), so the sources spell such a set frozenset(("a", "b")). Checked on the syntax
    (any Python >= 3.9 may fold it) and on what this Python compiled."""
    import types

    def constants(code):
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from constants(const)
            else:
                yield code, const

    found = []
    for name, path in sources():
        if not name.endswith(".py"):
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{name}:{node.lineno}: a set of constants" for node in ast.walk(ast.parse(text))
                  if isinstance(node, ast.Set) and all(isinstance(e, ast.Constant) for e in node.elts)]
        found += [f"{name}: {code.co_name} holds {sorted(map(repr, const))}"
                  for code, const in constants(compile(text, name, "exec")) if isinstance(const, frozenset)]
    assert found == []


def test_the_archive_holds_exactly_the_package_in_a_fixed_form(zipapp):
    with zipfile.ZipFile(zipapp) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    modules = ["__main__.py"] + [name for name, _ in sources()] + [name for name, _ in bundled()]
    assert names == [n for m in modules for n in ((m, m + "c") if m.endswith(".py") else (m,))]
    assert modules[1:] == sorted(modules[1:])
    assert "ruamel/yaml/parser.py" in names and "ruamel/yaml/LICENSE" in names, "ruamel.yaml and its licence"
    assert "ruamel/yaml/cyaml.py" not in names, "nothing of ruamel's C parser"
    assert "mambaboot/cli.py" in names and "mambaboot/commands/adopt.pyc" in names
    assert not [n for n in names if "__pycache__" in n or not n.endswith((".py", ".pyc", "LICENSE") + DATA_SUFFIXES)]
    assert "mambaboot/shell/activation/activate.sh" in names, "the activation templates go in"
    assert {(i.date_time, i.external_attr >> 16, i.compress_type, i.create_system) for i in infos} == {
        ((1980, 1, 1, 0, 0, 0), 0o100644, zipfile.ZIP_STORED, 3)
    }


def test_a_bundled_wheel_is_used_only_with_its_pinned_digest(tmp_path):
    """The wheel pyproject.toml pins, byte for byte: one changed byte and the build stops before writing."""
    (project, name, sha256), = pins()
    assert project == "ruamel.yaml" and (WHEELS / name).is_file()
    data = bytearray((WHEELS / name).read_bytes())
    data[-1] ^= 1
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / name).write_bytes(bytes(data))
    with pytest.raises(SystemExit, match=f"not the {sha256} pyproject.toml pins"):
        build(tmp_path / "x.pyz", wheels=tmp_path / "wheels")
    assert not (tmp_path / "x.pyz").exists()


def test_a_source_change_changes_the_archive(tmp_path):
    package = tmp_path / "mambaboot"
    shutil.copytree(REPO / "src" / "mambaboot", package, ignore=shutil.ignore_patterns("__pycache__"))
    first = build(tmp_path / "a.pyz", package)
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.pyc").write_bytes(b"stale")
    assert build(tmp_path / "b.pyz", package) == first, "bytecode never goes in"
    with open(package / "cli.py", "a") as f:
        f.write("\n")
    assert build(tmp_path / "c.pyz", package) != first


def test_it_runs_alone_under_another_python(zipapp, tmp_path):
    """Debian's python3.11, isolated (-I), from a directory holding nothing but the archive."""
    lonely = tmp_path / "lonely" / "mambaboot.pyz"
    lonely.parent.mkdir()
    shutil.copy(zipapp, lonely)
    assert Path(DEBIAN_PYTHON).resolve() != Path(sys.executable).resolve()
    for argv in ([DEBIAN_PYTHON, "-I", str(lonely), "--version"], [str(lonely), "--version"]):
        out = subprocess.run(argv, capture_output=True, text=True, cwd=str(tmp_path), env={"PATH": "/usr/bin:/bin"})
        assert (out.returncode, out.stdout.strip()) == (0, f"mambaboot {__version__}"), out.stderr
    out = subprocess.run([DEBIAN_PYTHON, "-I", str(lonely), "adopt", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "the environment directory (it must hold conda-meta/)" in out.stdout
    # its bundled ruamel.yaml reads an environment file, and names where one goes wrong
    (tmp_path / "environment.yml").write_text("name: x\ndependencies:\n- numpy\n  pip: y\n")
    out = subprocess.run([DEBIAN_PYTHON, "-I", str(lonely), "create", "--dry-run", "--offline", "-f", "environment.yml",
                          "--prefix", str(tmp_path / "env")], capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode == 2 and "line 4, column 6: mapping values are not allowed here" in out.stderr, out.stderr


def test_a_whole_create_runs_through_it_under_another_python(world, zipapp, channel, standin):
    world.command = [DEBIAN_PYTHON, "-I", str(zipapp)]
    before = world.outside()
    r = world.create("deb", "--python", "3.11", "-c", channel, "--micromamba", str(standin), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["python_version"] == "3.11.2"
    assert world.outside(world.envs / "deb_3_11") == before


def test_the_sources_are_python_3_9_syntax():
    for name, path in sources():
        if not name.endswith(".py"):
            continue
        ast.parse(path.read_text(encoding="utf-8"), filename=name, feature_version=(3, 9))


def test_bytecode_goes_in_beside_each_module_and_is_used_or_ignored_by_magic(zipapp, tmp_path):
    """Each NAME.pyc is an unchecked-hash pyc (flags 0b01: no timestamp, no source re-read) of
    this Python; zipimport loads it. A Python with another magic number ignores it and compiles
    the .py (tried here by spoiling the magic)."""
    import importlib.util

    with zipfile.ZipFile(zipapp) as archive:
        pycs = {i.filename: archive.read(i) for i in archive.infolist() if i.filename.endswith(".pyc")}
    assert pycs and {(d[:4], int.from_bytes(d[4:8], "little")) for d in pycs.values()} == {
        (importlib.util.MAGIC_NUMBER, 0b01)}
    probe = "import sys, mambaboot.cli as c; print(c.__file__)"
    used = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(zipapp)!r}); {probe}"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert Path(used) == Path(zipapp, "mambaboot", "cli.pyc")  # zipimport joins with os.sep: \ on Windows
    spoiled = tmp_path / "spoiled.pyz"
    with zipfile.ZipFile(zipapp) as src, zipfile.ZipFile(spoiled, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"\0\0\0\0" + data[4:] if info.filename.endswith(".pyc") else data)
    out = subprocess.run([sys.executable, "-I", str(spoiled), "--version"], capture_output=True, text=True)
    assert (out.returncode, out.stdout.strip()) == (0, f"mambaboot {__version__}"), out.stderr


def test_the_wheel_and_the_zipapp_carry_the_same_templates():
    """pyproject's package-data and the zipapp builder name the same templates, and every one exists."""
    import fnmatch
    import re

    text = (REPO / "pyproject.toml").read_text()
    patterns = re.findall(r'"(\*\.[a-z0-9]+)"', text.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0])
    assert sorted(p[1:] for p in patterns) == sorted(DATA_SUFFIXES)
    package = REPO / "src" / "mambaboot"
    data = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.suffix in DATA_SUFFIXES)
    assert data and all(d.startswith("shell/activation/") for d in data)
    assert all(any(fnmatch.fnmatch(d.rsplit("/", 1)[1], p) for p in patterns) for d in data)
    assert [n for n, _ in sources() if not n.endswith(".py")] == ["mambaboot/" + d for d in data]
