"""SIGKILL at each stage an operation's intent says (environment/placelock.py): as the stage is
about to be written (the previous stage's acts all done) and as soon as it is written (none of
its acts done), for every operation settle.py's table knows besides move (tests/test_move_journal.py
kills a move at each of its stages). The next run of the place settles what the intent says, as
the table says, and nothing is lost: the old environment of a `create --force` is back unless
the new one had verified, a remove is finished, an adopt is put back unless it had finished, and
nothing but the intent's own lock file is left beside the place.

The points are found by running each operation again, killed one point further each time, until
it finishes without reaching the point: every stage the operation writes is reached, however many
there are."""

import json
import subprocess
from pathlib import Path

from tests.conftest import copy_env
from tests.support.interrupt import killed_at
from mambaboot.common.files import tempname

STAGE = "placelock.stage"  # Intent.stage: the one place a stage is written
SENTINEL = "kept-by-the-user.txt"


def _lock(place: Path) -> Path:
    return place.parent / f".{place.name}.mambaboot-lock"


def _intent(place: Path) -> dict:
    text = _lock(place).read_bytes().rstrip(b" ")
    return json.loads(text) if text else {}


def _points():
    """Each stage's two kill points, in order: before the n-th stage write, then after it."""
    n = 1
    while True:
        yield n, f"{STAGE}#{n}+0"
        yield n, f"{STAGE}#{n}>"
        n += 1


def _each_point(world, args, place: Path, fresh, check, reliability):
    """Kill args at every stage point; after each, check(intent left) -> (held, what was seen);
    fresh() puts the place back as it was before the next point. Returns the stages seen."""
    stages = []
    for n, at in _points():
        fresh()
        proc = killed_at(world, at, args)
        if proc.returncode == 0:  # the run ended before its n-th stage: every point was tried
            assert n > 1, f"{args[0]} wrote no stage at all: {proc.stderr}"
            break
        assert proc.returncode == -9, (at, proc.returncode, proc.stderr)
        left = _intent(place) if _lock(place).exists() else {}
        stages.append(left.get("stage"))
        held, seen = check(left)
        reliability.record(STAGE_ROW, held)
        assert held, f"killed at {at} (stage {left.get('stage')!r}): {seen}"
    return stages


def _beside(world, place: Path) -> list:
    return sorted(p.name for p in place.parent.iterdir())


def _named_by_the_scheme(place: Path, left: dict) -> bool:
    """Each directory a killed run left beside place is a set-aside of the one temporary-name
    scheme (tempname.set_aside: `.NAME.mambaboot-tmp-<TOKEN>-<KIND>`), TOKEN its intent's, and the
    very name its intent holds: found from the intent and from the place alike."""
    from mambaboot.common.files import tempname

    for path in place.parent.iterdir():
        if path.name == place.name or not path.is_dir():
            continue
        found = tempname.parse_temp(path.name)
        if not (found is not None and found[2] in tempname.SET_ASIDE and found[1] == left.get("token")
                and str(path) in left.values() and path.name == tempname.set_aside(place.name, found[1], found[2])):
            return False
    return True


def _state(prefix: Path):
    try:
        return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]
    except (FileNotFoundError, NotADirectoryError):
        return None


STAGE_ROW = "killed at each stage of its intent: settled by the next run"


def test_a_create_killed_at_each_stage_is_settled_by_the_next_create(world, channel, standin, reliability):
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin)]
    state = {}

    def fresh():
        if prefix.exists():
            r = world.run("remove", str(prefix), "--yes", "--force", "--cache-dir", str(world.cache))
            assert r.returncode == 0, r.stderr
        assert _beside(world, prefix) == []
        state["before"] = world.outside(prefix, _lock(prefix))

    def check(left):
        named = _named_by_the_scheme(prefix, left)
        again = world.run(*args)
        if again.returncode == 4 and "--force" in again.stderr:  # complete already: replaced on request
            again = world.run(*args, "--force")
        complete = _state(prefix) == "complete"
        works = complete and subprocess.run([str(prefix / "bin" / "python"), "-c", "pass"]).returncode == 0
        unchanged = world.outside(prefix, _lock(prefix)) == state["before"]
        return (named and again.returncode == 0 and works and unchanged and _beside(world, prefix) == ["x"],
                (named, again.returncode, _beside(world, prefix), unchanged, again.stderr))

    stages = _each_point(world, args, prefix, fresh, check, reliability)
    assert {"engine", "finishing", "verified", "done"} <= set(stages), stages


def test_a_create_force_killed_at_each_stage_keeps_the_old_environment_until_the_new_one_verified(
        world, made_env, channel, standin, reliability):
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin), "--force"]

    def fresh():
        if prefix.exists():
            r = world.run("remove", str(prefix), "--yes", "--force", "--cache-dir", str(world.cache))
            assert r.returncode == 0, r.stderr
        copy_env(made_env, prefix)
        (prefix / SENTINEL).write_text("the old environment\n")
        assert _beside(world, prefix) == ["x"]

    def check(left):
        named = _named_by_the_scheme(prefix, left)
        # a plain create of the place: it settles the intent first, then finds an environment there
        again = world.run(*args[:-1])
        old_back = (prefix / SENTINEL).is_file()
        ok = (named and again.returncode == 4 and "--force" in again.stderr and _state(prefix) == "complete"
              and old_back == (left.get("stage") not in ("verified", "done")) and _beside(world, prefix) == ["x"])
        return ok, (named, again.returncode, old_back, _beside(world, prefix), again.stderr)

    stages = _each_point(world, args, prefix, fresh, check, reliability)
    assert {"set-aside", "engine", "finishing", "verified", "done"} <= set(stages), stages


def test_a_remove_killed_at_each_stage_is_finished_by_the_next_remove(world, made_env, reliability):
    prefix = world.envs / "x"
    args = ["remove", str(prefix), "--yes", "--cache-dir", str(world.cache)]

    def fresh():
        assert _beside(world, prefix) == []
        copy_env(made_env, prefix)

    def check(left):
        named = _named_by_the_scheme(prefix, left)
        again = world.run(*args)
        return (named and again.returncode == 0 and _beside(world, prefix) == [],
                (named, again.returncode, _beside(world, prefix), again.stderr))

    stages = _each_point(world, args, prefix, fresh, check, reliability)
    assert {"set-aside", "deleting"} <= set(stages), stages


def test_an_adopt_killed_at_each_stage_is_put_back_or_finished_by_the_next_run(world, made_env, channel, standin,
                                                                                 reliability):
    """An adopt of an environment mambaboot manages: killed before it finished (begun, saving,
    adopting) the next run of the place (a plain create, which then refuses the existing
    environment) puts back every file as it was, bytes and mode; killed once it had finished
    (adopted), only its snapshot is left, and deleted."""
    from tests.support.snapshot import snapshot

    prefix = world.envs / "x"
    args = ["adopt", str(prefix), "--cache-dir", str(world.cache)]
    state = {}

    def as_it_is():  # but for the bytecode verification's python writes
        return {k: v for k, v in snapshot(prefix).items() if "__pycache__" not in k}

    def fresh():
        if prefix.exists():
            r = world.run("remove", str(prefix), "--yes", "--force", "--cache-dir", str(world.cache))
            assert r.returncode == 0, r.stderr
        copy_env(made_env, prefix)
        assert world.run(*args).returncode == 0
        (prefix / ".condarc").chmod(0o600)
        (prefix / ".mambaboot" / "activate.sh").chmod(0o600)
        for hook in (prefix / "etc" / "conda" / "activate.d").glob("*mambaboot*"):
            hook.unlink()
        state["before"] = as_it_is()

    def check(left):
        again = world.run("create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
                          "--micromamba", str(standin))
        snapshots = sorted(p.name for p in (prefix / ".mambaboot").iterdir()
                           if (tempname.parse_temp(p.name) or (0, 0, None))[2] == "undo")
        as_before = as_it_is() == state["before"]
        ok = (again.returncode == 4 and "--force" in again.stderr and _state(prefix) == "complete"
              and _beside(world, prefix) == ["x"] and not snapshots
              and as_before == (left.get("stage") != "adopted"))
        return ok, (again.returncode, _beside(world, prefix), snapshots, as_before, again.stderr)

    stages = _each_point(world, args, prefix, fresh, check, reliability)
    assert {"saving", "adopting", "adopted"} <= set(stages), stages
