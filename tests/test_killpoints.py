"""SIGKILL at 20 evenly spread points of a create: the invariant holds at every one.

Invariant: nothing outside the prefix and the cache changed; the prefix either does not
exist, or is recognisably ours and unfinished (record `incomplete`, or the run's intent left
beside it: .NAME.mambaboot-lock), or is complete and works; the next create settles what the
intent says, explains what remains and --force replaces it; what the engine was writing when
killed, before the place could carry the run's mark, is named with the command that clears it.
"""

import json
import shutil
import subprocess
import tarfile
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_env
from tests.support.interrupt import KILLER, killed_at
from tests.support.snapshot import diff

POINTS = 20
MARK = ".mambaboot-claim"  # common/files/proof.py's MARK


def _killable(world, n, prefix, cache, channel, env):
    count_file = world.root.parent / "calls"
    proc = subprocess.run(
        [sys.executable, str(KILLER), str(n), str(count_file), "--", "create", "--prefix", str(prefix),
         "--cache-dir", str(cache), "-c", channel],
        env={**world.env, **env}, cwd=str(world.envs), capture_output=True, text=True, start_new_session=True,
        timeout=600,
    )
    return proc, count_file


def _intent(prefix: Path) -> Path:
    """Where a create of prefix keeps its lock and intent (environment/placelock.py)."""
    return prefix.parent / f".{prefix.name}.mambaboot-lock"


def _staged(prefix: Path) -> list:
    """The directory a killed create's intent says it was making beside prefix (proof.NEW's set-aside name), if any."""
    try:
        named = json.loads(_intent(prefix).read_bytes().rstrip(b" ") or b"{}").get("staged")
    except FileNotFoundError:
        return []
    return [Path(named)] if isinstance(named, str) and Path(named).parent == prefix.parent else []


def _set_aside_by_its_run(aside: Path, place: Path, kind: str) -> bool:
    """aside is the name tempname's scheme gives place set aside as kind by the run whose intent
    is in place's lock, and carries that run's mark for the role kind names."""
    from mambaboot.common.files import tempname

    token = json.loads(_intent(place).read_bytes().rstrip(b" "))["token"]
    mark = (aside / MARK).read_text().split()
    return aside.name == tempname.set_aside(place.name, token, kind) and mark[1:3] == [token, kind]


def _state(prefix: Path):
    try:
        return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]
    except FileNotFoundError:
        return None


def test_sigkill_anywhere_leaves_nothing_half_made(world, channel, release_server, reliability):
    # Packages stay warm across points; each point has its own cache root, so the
    # micromamba download is part of every run (and of the points that can land in it).
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base,
           "CONDA_PKGS_DIRS": str(world.root.parent / "pkgs")}
    proc, count_file = _killable(world, 0, world.envs / "calibrate", world.root.parent / "cache-cal", channel, env)
    assert proc.returncode == 0, proc.stderr
    total = int(count_file.read_text())
    assert total > POINTS * 10

    for i in range(POINTS):
        n = int(total * (i + 0.5) / POINTS)
        prefix, cache = world.envs / f"k{i}", world.root.parent / f"cache{i}"
        before = world.outside(prefix)
        proc, _ = _killable(world, n, prefix, cache, channel, env)
        killed = proc.returncode == -9
        state = _state(prefix)
        ours_unfinished = state == "incomplete" or _intent(prefix).exists()
        if not prefix.exists():
            held = killed
        elif state == "complete":
            held = subprocess.run([str(prefix / "bin" / "python"), "-c", "pass"]).returncode == 0
        else:
            held = killed and ours_unfinished
        # beside the prefix, only its lock and the directory its intent names as being made there
        staged = _staged(prefix)
        held = held and diff(before, world.outside(prefix, _intent(prefix), *staged)) == {}

        # the next create of the same target: explains, and --force (ours, so allowed) replaces
        retry = world.run("create", "--prefix", str(prefix), "--cache-dir", str(cache), "-c", channel, env=env)
        if retry.returncode == 4 and "nothing in it proves which" in retry.stderr:
            # killed while the engine wrote there, before the directory could carry a mark: named with
            # what clears it, nothing deleted (proof.py); the user deletes it as told
            held = held and f"rm -rf {prefix}" in retry.stderr and state is None
            shutil.rmtree(prefix)
            retry = world.run("create", "--prefix", str(prefix), "--cache-dir", str(cache), "-c", channel, env=env)
        if prefix.exists() and (state is not None or ours_unfinished) and retry.returncode == 4:
            held = held and "--force" in retry.stderr
            retry = world.run("create", "--prefix", str(prefix), "--cache-dir", str(cache), "-c", channel,
                              "--force", env=env)
        held = held and retry.returncode == 0 and _state(prefix) == "complete" and not _intent(prefix).exists()
        held = held and not any(p.exists() for p in staged)  # settled by the next create
        reliability.record("SIGKILL points: invariant held", held)
        assert held, f"point {i} (call {n} of {total}): rc={proc.returncode} state={state}\n{proc.stderr}\n{retry.stderr}"


def _killed_at(world, at, *args):
    """mambaboot args, SIGKILLed as the run reaches `at` (module.function+K: tests/support/killpoints.py)."""
    return killed_at(world, at, list(args))


def _finished_by(world, prefix, then, channel, standin):
    if then == "remove":
        return world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    return world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))


@pytest.mark.parametrize("then", ["remove", "create"])
def test_a_remove_killed_while_deleting_is_finished_by_the_next_remove_or_create(world, made_env, channel, standin,
                                                                                  then):
    """Killed once the environment is renamed aside and partly deleted: what remains carries
    remove's mark (the last thing it deletes), and the next remove or create finishes it."""
    prefix = copy_env(made_env, world.envs / "x")
    files = sum(1 for _ in prefix.rglob("*"))
    proc = _killed_at(world, "removal._delete_files+150", "remove", str(prefix), "--yes", "--cache-dir",
                      str(world.cache))
    assert proc.returncode == -9, proc.stderr
    aside = list(world.envs.glob(".x.mambaboot-tmp-*-removing"))
    assert not prefix.exists() and len(aside) == 1, proc.stderr
    assert 0 < sum(1 for _ in aside[0].rglob("*")) < files, "killed half way through the deletion"
    assert (aside[0] / MARK).is_file() and _set_aside_by_its_run(aside[0], prefix, "removing")
    r = _finished_by(world, prefix, then, channel, standin)
    assert r.returncode == 0, r.stderr
    assert f"finished removing {prefix}: a killed remove had left {aside[0]} half deleted" in r.stderr
    assert [p.name for p in world.envs.iterdir()] == (["x"] if then == "create" else [])


@pytest.mark.parametrize("then", ["remove", "create"])
def test_a_move_killed_while_deleting_its_source_is_finished_by_the_next_remove_or_create(
        world, made_env, channel, standin, second_volume, then):
    """A move to another file system, killed once its source is renamed aside and partly
    deleted: what remains holds the move's mark (deleted last), its intent in the lock of both
    places names it, and the next run finishes it."""
    src, dst = copy_env(made_env, world.envs / "x"), second_volume / "x"
    files = sum(1 for _ in src.rglob("*"))
    proc = _killed_at(world, "removal._delete_files+150", "move", str(src), str(dst), "--cache-dir", str(world.cache))
    assert proc.returncode == -9, proc.stderr
    aside = list(world.envs.glob(".x.mambaboot-tmp-*-source"))
    assert not src.exists() and len(aside) == 1 and (dst / "conda-meta").is_dir(), proc.stderr
    assert 0 < sum(1 for _ in aside[0].rglob("*")) < files, "killed half way through the deletion"
    assert (aside[0] / MARK).is_file() and str(aside[0]) in _intent(src).read_text()
    assert _set_aside_by_its_run(aside[0], src, "source")
    r = _finished_by(world, src, then, channel, standin)
    assert r.returncode == 0, r.stderr
    assert f"finished: a move of {src} to {dst} had verified; {src} was deleted" in r.stderr
    assert [p.name for p in world.envs.iterdir()] == (["x"] if then == "create" else [])


def test_a_remove_killed_between_its_mark_and_its_rename_leaves_a_mark_nothing_minds(world, made_env):
    """Killed after the mark is written, before the rename: the environment is whole, with a mark
    no other command is misled by (list, audit, pack without it, move, a later remove)."""
    prefix = copy_env(made_env, world.envs / "x")
    proc = _killed_at(world, "guarded._doomed+0", "remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert proc.returncode == -9, proc.stderr
    assert (prefix / MARK).is_file() and sorted(p.name for p in world.envs.iterdir()) == [".x.mambaboot-lock", "x"]
    listed = world.run("list", "--json", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache))
    assert [(e["name"], e["state"]) for e in listed.json()["environments"]] == [("x", "complete")], listed.stderr
    audit = world.run("audit", str(prefix))
    assert audit.returncode == 0 and MARK not in audit.stdout + audit.stderr, audit.stderr
    packed = world.run("pack", str(prefix), "-o", str(world.tmp / "x.tar.gz"))
    assert packed.returncode == 0, packed.stderr
    with tarfile.open(world.tmp / "x.tar.gz") as tar:
        names = tar.getnames()
    assert "conda-meta" in names and MARK not in names
    moved = world.run("move", str(prefix), str(world.envs / "y"), "--cache-dir", str(world.cache))
    assert moved.returncode == 0, moved.stderr
    assert not (world.envs / "y" / MARK).exists(), "the move's own mark replaced it, and went with the move"
    r = world.run("remove", str(world.envs / "y"), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 0 and list(world.envs.iterdir()) == [], r.stderr
