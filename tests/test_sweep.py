"""What the next run of a place collects of a killed run's (environment/settle.py,
common/files/leftovers.py) is what that place's own lock proves: another place an intent names is
looked at only when its own lock holds that intent; a nested place with a lock of its own, or an
environment of its own, is never walked into; and a temporary's name is recognised exactly,
whatever the length of the name it was made for. The live runs here are held mid-way by a
SIGSTOP they send themselves at a point (tests/support/killpoints.py), never by a sleep."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import copy_env
from tests.support.interrupt import Held, killed_at
from tests.support.snapshot import snapshot
from tests.support.intents import lock_of as _lock
from tests.test_recovery import _kill_leaving_a_partial

SCHEME = "mambaboot-tmp-"
TOKEN = "0123456789abcdef" * 2


def _plant(place: Path, **body) -> Path:
    lock = _lock(place)
    lock.write_text(json.dumps({"tool": "mambaboot", "pid": 1, "token": TOKEN, "stage": "begun",
                                "place1": str(place), **body}))
    return lock


@pytest.mark.parametrize("command", [["activate-scripts"], ["remove", "--yes"]])
def test_an_intent_naming_another_place_never_walks_it_nor_locks_beside_it(world, made_env, command):
    """A lock file planted beside e, its intent naming a second place holding a file of the user's
    whose name fits the temporary scheme: the next run of e keeps that file, makes no lock beside
    the second place (its parent is never written), and settles e."""
    e = copy_env(made_env, world.envs / "e")
    other = world.root / "other" / "place2"
    other.mkdir(parents=True)
    kept = other / f".notes.txt.{SCHEME}{'ab' * 16}"
    kept.write_text("the user's\n")
    _plant(e, operation="activate-scripts", place2=str(other))
    tree, written = snapshot(other.parent), os.stat(other.parent).st_mtime_ns
    r = world.run(*command[:1], str(e), *command[1:])
    assert r.returncode == 0, r.stderr
    assert snapshot(other.parent) == tree and kept.read_text() == "the user's\n", r.stderr
    assert os.stat(other.parent).st_mtime_ns == written, "a lock was made and deleted beside the other place"
    assert not _lock(e).exists()


@pytest.mark.parametrize("command", [["activate-scripts"], ["remove", "--yes"]])
def test_an_intent_naming_a_place_whose_parent_is_missing_blocks_nothing(world, made_env, command):
    e = copy_env(made_env, world.envs / "e")
    gone = world.root / "gone" / "place2"
    _plant(e, operation="activate-scripts", place2=str(gone))
    r = world.run(*command[:1], str(e), *command[1:])
    assert r.returncode == 0, r.stderr
    assert not gone.parent.exists() and not _lock(e).exists(), r.stderr


def test_a_live_run_in_a_nested_environment_keeps_its_temporary_while_the_parent_is_settled(world, made_env):
    """A killed activate-scripts of base leaves its temporary; a live activate-scripts of
    base/envs/inner (holding inner's own lock) is held once it has written its own; the next run
    of base collects the killed run's and never walks into inner: the live run finishes."""
    base = copy_env(made_env, world.envs / "base")
    inner = copy_env(made_env, base / "envs" / "inner")
    killed = killed_at(world, "confined._fill#1>", ["activate-scripts", str(base)])
    assert killed.returncode == -9, killed.stderr
    dead = [p for p in base.rglob(f"*{SCHEME}*")]
    assert dead, "the killed run left no temporary"
    with Held(world, "confined._fill#1>", ["activate-scripts", str(inner)]) as live:
        mine = [p for p in inner.rglob(f"*{SCHEME}*")]
        assert mine and _lock(inner).exists(), "the held run wrote no temporary"
        r = world.run("activate-scripts", str(base))
        assert r.returncode == 0, r.stderr
        assert all(p.exists() for p in mine), r.stderr
        assert not any(p.exists() for p in dead if inner not in p.parents), r.stderr
        code, err = live.go()
    assert code == 0, err
    assert not list(inner.rglob(f"*{SCHEME}*")) and not _lock(inner).exists(), err


LONG = 230  # bytes of an output's name: legal (NAME_MAX 255), too long to keep whole in its temporary's


@pytest.mark.parametrize("command", ["pack", "lock"])
def test_a_killed_writer_of_a_long_named_output_is_settled_by_the_next_run(world, made_env, command):
    out = world.root / "out"
    out.mkdir()
    suffix = ".tar.gz" if command == "pack" else ".txt"
    target = out / ("o" * (LONG - len(suffix)) + suffix)
    args = [command, str(made_env), "-o", str(target)]
    _kill_leaving_a_partial(world, args, target)
    r = world.run(*args)
    assert r.returncode == 0, r.stderr
    assert sorted(out.iterdir()) == [target], r.stderr
    assert "what a killed mambaboot run was writing" in r.stderr, r.stderr


def test_a_live_writers_partial_with_a_longer_name_is_never_deleted(world, made_env):
    """A killed `lock -o A` (A 230 bytes) and a live `pack -o A.tar.gz` held once its partial file
    is made: the next `lock -o A` settles the killed one and leaves the live one's partial; the
    live pack finishes."""
    out = world.root / "out"
    out.mkdir()
    a = out / ("a" * LONG)
    _kill_leaving_a_partial(world, ["lock", str(made_env), "-o", str(a)], a)
    dead = {p for p in out.iterdir() if SCHEME in p.name}
    packed = Path(str(a) + ".tar.gz")
    with Held(world, "outputfile.staging#1>", ["pack", str(made_env), "-o", str(packed)]) as live:
        mine = {p for p in out.iterdir() if SCHEME in p.name} - dead
        assert len(dead) == 1 and len(mine) == 1, (dead, mine)
        r = world.run("lock", str(made_env), "-o", str(a))
        assert r.returncode == 0, r.stderr
        assert all(p.exists() for p in mine) and not any(p.exists() for p in dead), r.stderr
        code, err = live.go()
    assert code == 0, err
    assert sorted(out.iterdir()) == sorted([a, packed]), err


def test_a_live_writers_partial_inside_a_place_is_kept_whatever_the_length_of_its_name(world, made_env):
    """A live `pack -o BASE/sub/NAME` (NAME 250 bytes: its lock beside it is named by a key, its
    partial file by another) held once its partial is made, while the next run of BASE settles a
    killed one and walks BASE: the live run's partial is kept, and the pack finishes."""
    base = copy_env(made_env, world.envs / "base")
    killed = killed_at(world, "confined._fill#1>", ["activate-scripts", str(base)])
    assert killed.returncode == -9, killed.stderr
    sub = base / "sub"
    sub.mkdir()
    packed = sub / ("p" * (250 - len(".tar.gz")) + ".tar.gz")
    with Held(world, "outputfile.staging#1>", ["pack", str(made_env), "-o", str(packed)]) as live:
        mine = [p for p in sub.iterdir() if SCHEME in p.name]
        assert len(mine) == 1 and mine[0].name.startswith(".~"), mine
        r = world.run("activate-scripts", str(base))
        assert r.returncode == 0, r.stderr
        assert mine[0].exists(), r.stderr
        code, err = live.go()
    assert code == 0, err
    assert sorted(sub.iterdir()) == [packed], err
