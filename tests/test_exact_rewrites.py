"""A file mambaboot edits keeps every byte it did not mean to change; a text it reads is split
into lines where its format says (never at U+2028, U+0085, form feed or vertical tab)."""

import os
import stat
import subprocess

import pytest

from tests.support.hostiletree import unmount_all
from tests.test_adopt import engine_only

# Valid JSON whose numbers and keys json.loads + json.dumps would not give back: a number past
# a float, more digits than a float keeps, a key given twice, its own spacing.
STATE = ('{\n  "big": 1e400,\n  "digits": 0.10000000000000000000000000001,\n'
         '  "env_vars": {\n    "A": "first",\n    "A": "second"\n  },\n  "env_vars_note": "x"\n}\n')
STATE_ADDED = STATE.replace('"env_vars": {\n', '"env_vars": {\n    "PYTHONNOUSERSITE": "1",\n')


def test_adding_the_variable_to_conda_meta_state_changes_only_that_key(world, channel, standin):
    r = world.create("exact", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    state = world.envs / "exact" / "conda-meta" / "state"
    state.write_text(STATE)
    state.chmod(0o644)
    r = world.run("activate-scripts", str(world.envs / "exact"))
    assert r.returncode == 0, r.stderr
    assert state.read_text() == STATE_ADDED
    assert stat.S_IMODE(state.stat().st_mode) == 0o644


def test_a_failed_adoption_puts_conda_meta_state_back_with_its_mode_and_owner(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    state = prefix / "conda-meta" / "state"
    state.write_text(STATE)
    state.chmod(0o644)  # a shared environment: others activate it too
    os.chown(state, 4321, 4322)  # its owner's, not the one adopting it (the suite runs as root)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache), "--python", "3.12")
    assert r.returncode == 7, r.stderr
    assert state.read_text() == STATE
    assert stat.S_IMODE(state.stat().st_mode) == 0o644
    assert (state.stat().st_uid, state.stat().st_gid) == (4321, 4322)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert state.read_text() == STATE_ADDED


ODD = ["/envs/line\u2028sep", "/envs/next\x85line", "/envs/form\ffeed", "/envs/vertical\vtab"]


def test_remove_drops_only_its_own_line_from_environments_txt(world, channel, standin):
    r = world.create("gone", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    listed = world.home / ".conda" / "environments.txt"
    listed.parent.mkdir()
    others = "".join(f"{p}\n" for p in ODD) + "/envs/windows-made\r\n# a comment\n"
    listed.write_bytes((others + f"{world.envs / 'gone'}\n" + "/envs/last-without-newline").encode())
    r = world.run("remove", "gone", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
    assert r.returncode == 0, r.stderr
    assert listed.read_bytes() == (others + "/envs/last-without-newline").encode()


@pytest.mark.parametrize("source_name, point_name", [
    ("the user's\x85data", "mounted"),
    # the kernel writes space, tab, newline and backslash as \040, \011, \012, \134 (proc(5))
    ("data", "mounted here\twith a\nnewline, a \\ and\u2028"),
])
def test_remove_sees_a_bind_mount_whose_source_holds_u0085_and_deletes_nothing_through_it(
        world, channel, standin, source_name, point_name):
    r = world.create("bound", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "bound"
    source = world.root / source_name
    source.mkdir()
    (source / "precious.txt").write_text("the user's\n")
    point = prefix / "share" / point_name
    point.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(source), str(point)], check=True)
    try:
        r = world.run("remove", "bound", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
        assert r.returncode == 4, r.stderr
        assert f"{point.parent}/" in r.stderr and " is a mount point" in r.stderr, r.stderr  # its name escaped, as said to a terminal
    finally:
        unmount_all(world.root)  # wherever it is now
    assert (source / "precious.txt").read_text() == "the user's\n"
    assert (prefix / "conda-meta").is_dir(), "nothing was deleted"


def test_a_condarc_written_for_a_cache_path_holding_u0085_is_read_back(world, channel, standin):
    cache = world.root / "cache\x85dir"
    r = world.run("create", "odd", "--cache-dir", str(cache), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    rc = (world.envs / "odd" / ".condarc").read_text()
    assert str(cache) in rc
    r = world.run("adopt", str(world.envs / "odd"), "--cache-dir", str(cache))
    assert r.returncode == 0, r.stderr
    assert "warning: condarc" not in r.stderr, r.stderr
