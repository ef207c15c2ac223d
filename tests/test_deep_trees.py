"""A directory nested far deeper than any environment holds, inside one: every command that walks
the environment names it (exit 4) and changes nothing; none recurses per level (exit 1, a
RecursionError), none stops half-way through a remove."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, RUNTIME_PYTHON
from tests.support.interrupt import killed_at
from tests.support.snapshot import diff, snapshot

LEVELS = 1000
MAX_DEPTH = 256  # the bound docs/reference.md states
MARK = ".mambaboot-claim"  # common/files/proof.py's MARK
NAME = "level"  # 1000 levels of it: a path of 6 KB, longer than PATH_MAX


def build_deep(top, levels: int = LEVELS, name: str = NAME) -> str:
    """levels directories, each inside the last, made relative to its parent's descriptor (no
    path could name the deepest one), a file at the bottom; the first one's path."""
    os.makedirs(top)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        made = os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.close(made)
    finally:
        os.close(fd)
    return str(top)


def rm_rf(path) -> None:
    subprocess.run(["rm", "-rf", "--", str(path)], check=True)


@pytest.fixture
def deep_env(world, channel, standin):
    r = world.create("deep", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "deep"
    build_deep(prefix / "share" / "deep")
    try:
        yield world, prefix
    finally:
        rm_rf(world.root)


def _refused(r, prefix) -> None:
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert f"deeper than {MAX_DEPTH} directory levels" in r.stderr, r.stderr
    assert str(prefix / "share" / "deep") in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr


def test_remove_refuses_a_tree_too_deep_before_deleting_anything_and_list_shows_no_leftover(deep_env):
    world, prefix = deep_env
    before = snapshot(prefix, exclude=[prefix / "share" / "deep"])
    for _ in range(2):  # the second time too: nothing was left half-removed by the first
        r = world.run("remove", "deep", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
        _refused(r, prefix)
        assert sorted(os.listdir(world.envs)) == ["deep"], "kept under its own name, nothing set aside"
        assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), "--json", "--size")
    assert r.returncode == 0, r.stderr
    assert [e["prefix"] for e in r.json()["environments"]] == [str(prefix)]


def test_a_remove_killed_while_it_walks_a_tree_too_deep_has_changed_nothing(deep_env):
    """The walk that finds the tree too deep comes before the mark and the rename: killed during it, the environment is
    under its own name, unmarked, and the next remove names the depth and changes nothing (no set-aside left whose
    deletion the same depth refuses for ever)."""
    world, prefix = deep_env
    before = snapshot(prefix, exclude=[prefix / "share" / "deep"])
    args = ["remove", "deep", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs)]
    assert killed_at(world, "removal.scan+20", args).returncode == -9
    assert [n for n in os.listdir(world.envs) if "mambaboot-tmp" in n] == [] and not (prefix / MARK).exists()
    assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}
    _refused(world.run(*args), prefix)
    assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}


def test_audit_and_pack_refuse_a_tree_too_deep(deep_env):
    world, prefix = deep_env
    _refused(world.run("audit", str(prefix)), prefix)
    out = world.root / "deep.tar.gz"
    _refused(world.run("pack", str(prefix), "-o", str(out)), prefix)
    assert not os.path.lexists(out), "no archive left behind"
    assert not [n for n in os.listdir(world.root) if n.startswith(".deep.tar.gz")]


def test_create_force_refuses_a_tree_too_deep_before_changing_anything(deep_env, channel, standin):
    world, prefix = deep_env
    before = snapshot(prefix, exclude=[prefix / "share" / "deep"])
    r = world.create("deep", "--force", "-c", channel, "--micromamba", str(standin))
    _refused(r, prefix)
    assert sorted(os.listdir(world.envs)) == ["deep"]
    assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}


def test_move_across_file_systems_refuses_a_tree_too_deep(deep_env, second_volume):
    world, prefix = deep_env
    dst = second_volume / "moved"
    r = world.run("move", str(prefix), str(dst), "--cache-dir", str(world.cache))
    _refused(r, prefix)
    assert not os.path.lexists(dst) and os.listdir(second_volume) in ([], ["lost+found"])
    assert sorted(os.listdir(world.envs)) == ["deep"]


def test_a_tree_as_deep_as_the_bound_is_removed(world, channel, standin):
    r = world.create("deep", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "deep"
    build_deep(prefix / "share" / "deep", MAX_DEPTH - 2)  # share/deep/ + levels below the top
    r = world.run("remove", "deep", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
    assert r.returncode == 0, r.stderr
    assert not os.path.lexists(prefix)


# mambaboot as it runs on Windows: no descriptor-relative calls, every directory walked and
# removed by path, and a directory never opened (os.open refuses one there, EACCES)
BY_PATH = [RUNTIME_PYTHON, "-c", f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); import os; "
           "os.open = lambda p, *a, _open=os.open, **k: (_ for _ in ()).throw(PermissionError(13, 'Permission denied', p)) "
           "if isinstance(p, str) and not k.get('dir_fd') and os.path.isdir(p) else _open(p, *a, **k); "
           "from mambaboot.common.files import confined, guarded, treewalk; "
           "confined.BY_DESCRIPTOR = guarded._BY_DESCRIPTOR = treewalk.BY_DESCRIPTOR = False; "
           "from mambaboot.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_remove_by_path_as_on_windows_refuses_a_tree_too_deep_and_removes_one_as_deep_as_the_bound(
        world, channel, standin):
    """The deletion by path (Windows) lists the tree with a stack too: a tree too deep is named as
    the user knows it, the environment gets its name back and nothing is deleted (no exit 1 with
    the environment half-removed under another name); one as deep as the bound goes."""
    r = world.create("deep", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "deep"
    build_deep(prefix / "share" / "deep", LEVELS, "d")  # one letter a level: a path still names the bottom
    world.command = BY_PATH
    before = snapshot(prefix, exclude=[prefix / "share" / "deep"])
    try:
        for _ in range(2):
            r = world.run("remove", "deep", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
            _refused(r, prefix)
            assert sorted(os.listdir(world.envs)) == ["deep"], "kept under its own name, nothing set aside"
            assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}
        rm_rf(prefix / "share" / "deep")
        build_deep(prefix / "share" / "deep", MAX_DEPTH - 2, "d")
        r = world.run("remove", "deep", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
        assert r.returncode == 0, r.stderr
        assert not os.path.lexists(prefix) and os.listdir(world.envs) == []
    finally:
        rm_rf(world.root)


def test_create_force_by_path_as_on_windows_refuses_a_tree_too_deep_before_changing_anything(deep_env, channel, standin):
    world, prefix = deep_env
    world.command = BY_PATH
    before = snapshot(prefix, exclude=[prefix / "share" / "deep"])
    r = world.create("deep", "--force", "-c", channel, "--micromamba", str(standin))
    _refused(r, prefix)
    assert sorted(os.listdir(world.envs)) == ["deep"]
    assert diff(before, snapshot(prefix, exclude=[prefix / "share" / "deep"])) == {}


def test_the_bound_is_one_number():
    from mambaboot.common.files import treewalk
    from mambaboot.relocate import scan

    assert treewalk.MAX_DEPTH == scan.MAX_DEPTH == MAX_DEPTH
    reference = (Path(__file__).parent.parent / "docs" / "reference.md").read_text()
    assert f"a directory nested deeper than {MAX_DEPTH} levels inside a tree to be walked" in reference
    assert f"goes down at most {MAX_DEPTH}\n  directory levels" in reference
