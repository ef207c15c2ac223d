"""A move is its intent, in the lock of both places: SIGKILL as a move enters each stage of it
and at points spread over it (the rename or the copy, the rewrite of hundreds of files, adopt's
verification, the source's deletion), and the next `move` or `remove` puts it back (before it
verified) or finishes it (after), says which, and never calls a half-rewritten environment
complete; `list` shows it as moving, names the move that settles it, and changes nothing. The
same points hit by an exception end the same way."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.channel import build_channel, channel_url, prefixy_spec
from tests.support.interrupt import KILLER
from tests.support.snapshot import snapshot

MANY = 300  # files written after install that name the environment: the rewrite is most of a move


@pytest.fixture(scope="module")
def prefixy_channel(tmp_path_factory) -> str:
    return channel_url(build_channel(tmp_path_factory.mktemp("journal-channel"), extra=[prefixy_spec()]))


def _env(world, channel, standin) -> Path:
    prefix = world.envs / "a"
    r = world.create("-q", "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin), "--package", "prefixy")
    assert r.returncode == 0, r.stderr
    many = prefix / "share" / "many"
    many.mkdir(parents=True)
    for i in range(MANY):
        (many / f"f{i:03d}.txt").write_text(f"data={prefix}/share/x{i}\n")
    return prefix


def _killed_move(world, n, src, dst, marks=(), at=""):
    count_file = world.root.parent / "calls"
    proc = subprocess.run([sys.executable, str(KILLER), str(n), str(count_file), "--", "move", str(src), str(dst),
                           "--cache-dir", str(world.cache)],
                          env={**world.env, "KILLPOINT_MARKS": ",".join(s.strip() for s in marks),
                               "KILLPOINT_AT": at}, cwd=str(world.envs), capture_output=True, text=True, start_new_session=True,
                          timeout=600)
    return proc, count_file


def _names_only(prefix: Path, other: Path) -> bool:
    """Every file of share/many names prefix, none the other place."""
    texts = [p.read_text() for p in (prefix / "share" / "many").iterdir()]
    return len(texts) == MANY and all(f"={prefix}/" in t for t in texts)


def _listed(world, *prefixes: Path):
    """The state `list` gives the first of prefixes, and what it said; it is given only those that exist
    (a journal is found through the intent a killed move left in a place's lock as well)."""
    there = [str(p) for p in prefixes if p.exists()]
    r = world.run("list", *there, "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), "--json")
    assert r.returncode == 0, r.stderr
    return {e["prefix"]: e["state"] for e in r.json()["environments"]}.get(str(prefixes[0])), r.stderr


# Where a move is killed (module.function+K, tests/support/killpoints.py; `placelock.stage:S+done`:
# as its intent has just said stage S): as each stage is said, before the rename, before and in the
# rewrite, before adopt's finish, and as it ends.
STEPS = {"placelock.stage:begun": "done", "placelock.stage:rewriting": "done", "noreplace.rename_dir": 0,
         "rewrite.relocate": 0, "rewrite._replace_file": 400, "move._forget_pack_note": 0, "adopt.adopt_prefix": 0,
         "placelock.stage:verified": "done", "placelock.stage:ended": 0}
# To another file system: the checks done, the copy named, in the copy, the copy becoming DST, the rewrite, the
# finish, verified, the source's set-aside name said, in the source's deletion, as it ends.
COPY_STEPS = {"placelock.stage:begun": "done", "placelock.stage:copying": "done", "movecopy._copy_entries": 300, "placelock.stage:rewriting": "done",
              "noreplace.rename_dir": 0, "rewrite._replace_file": 400, "adopt.adopt_prefix": 0,
              "placelock.stage:verified": "done", "placelock.stage:deleting-source": "done",
              "removal.remove_contents": 40, "placelock.stage:ended": 0}


def _intent(place: Path):
    """The intent a killed move left in place's lock, when it has something left to settle."""
    try:
        body = json.loads((place.parent / f".{place.name}.mambaboot-lock").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return body if body.get("operation") == "move" and body.get("stage") not in ("begun", "ended") else None


def _calibrated(world, src, dst, steps):
    proc, count_file = _killed_move(world, 0, src, dst, marks=steps)
    assert proc.returncode == 0, proc.stderr
    marks = json.loads(Path(str(count_file) + ".marks").read_text())
    assert set(marks) == {s.strip() for s in steps}, marks
    return int(count_file.read_text()), marks


@pytest.mark.parametrize("where", ["one file system", "tmpfs"])
def test_a_move_killed_at_every_step_is_finished_or_put_back(world, prefixy_channel, standin, reliability,
                                                             second_volume, where):
    src = _env(world, prefixy_channel, standin)
    dst = world.envs / "b" if where == "one file system" else second_volume / "b"
    steps = STEPS if where == "one file system" else COPY_STEPS
    calibration = {(src, dst): _calibrated(world, src, dst, steps), (dst, src): _calibrated(world, dst, src, steps)}
    points = [("step", step) for step in steps] + [("spread", i) for i in range(3)]
    seen = set()
    for i, (what, which) in enumerate(points):
        total, marks = calibration[(src, dst)]
        if what == "step":  # killed as it enters the step (after K more calls), wherever that falls
            n, at = -1, f"{which.strip()}+{steps[which]}"
        else:
            n, at = int(total * (which + 0.5) / 3), ""
        proc, _ = _killed_move(world, n, src, dst, at=at)
        journal = [p for p in (src, dst) if _intent(p)]
        ok = True
        if journal and i % 2 == 0:  # list sees the intent: "moving", never "complete"; it changes nothing
            before = snapshot(world.root), snapshot(world.cache)
            r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache))
            ok = r.returncode == 0 and f"mambaboot move {src} {dst}" in r.stderr
            ok = ok and all(_listed(world, p)[0] == "moving" for p in journal if p.exists())
            ok = ok and (snapshot(world.root), snapshot(world.cache)) == before
        if journal:  # the same move again: finishes it (or puts it back, and moves)
            r = world.run("move", str(src), str(dst), "--cache-dir", str(world.cache))
            ok, said = ok and r.returncode == 0 and ("finished" in r.stderr or "put back" in r.stderr), r.stderr
        else:
            ok, said = True, ""
        seen.add("finished" if "finished: a move" in said else "put back" if "put back: a move" in said else "-")
        if src.exists() and not dst.exists():
            r = world.run("move", str(src), str(dst), "--cache-dir", str(world.cache))
            ok = ok and r.returncode == 0
        ok = ok and dst.exists() and not src.exists() and _names_only(dst, src)
        ok = ok and not list((world.cache / "moving").glob("*"))
        ok = ok and not list(dst.parent.glob(f".{dst.name}.*")) and not list(src.parent.glob(f".{src.name}.*"))
        ok = ok and world.run("run", str(dst), "--", "prefixy").stdout.strip() == f"prefixy ok {dst}"
        ok = ok and _listed(world, dst)[0] == "complete" and proc.returncode == -9
        reliability.record("move killed at every step: finished or put back, said", ok)
        assert ok, f"{what} {which} (call {n}): rc={proc.returncode}\n{proc.stderr}\n{said}"
        src, dst = dst, src
    assert seen == {"finished", "put back", "-"}, seen


def test_remove_of_either_place_settles_a_killed_move_first(world, prefixy_channel, standin):
    src, dst = _env(world, prefixy_channel, standin), world.envs / "b"
    # killed in its rewrite, SRC renamed to DST: a point named, not a call count, which falls elsewhere in
    # a real engine's environment (its records and scripts outnumber the stand-in's)
    proc, _ = _killed_move(world, -1, src, dst, at=f"rewrite._replace_file+{STEPS['rewrite._replace_file']}")
    assert proc.returncode == -9, proc.stderr
    assert (_intent(src) or {}).get("stage") == "rewriting" and not src.exists() and dst.exists()
    # the source is gone: `remove SRC` finds the move through the intent it left in SRC's lock,
    # beside it, and puts it back (it had not verified), then removes SRC as asked: no cache is
    # involved (this run uses another one)
    r = world.run("remove", str(src), "--yes", "--cache-dir", str(world.root / "another-cache"))
    assert r.returncode == 0 and f"put back: a move of {src} to {dst}" in r.stderr, r.stderr
    assert not src.exists() and not dst.exists() and list(world.envs.iterdir()) == [], r.stderr
