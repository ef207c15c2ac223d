"""SIGKILL at 20 evenly spread points of a create: the invariant holds at every one.

Invariant: nothing outside the prefix and the cache changed; the prefix either does not
exist, or is recognisably ours and unfinished (record `incomplete` or a pending marker), or
is complete and works; the next create explains and --force replaces it.
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.support.snapshot import diff

KILLER = Path(__file__).parent / "support" / "killpoints.py"
POINTS = 20


def _killable(world, n, prefix, cache, channel, env):
    count_file = world.root.parent / "calls"
    proc = subprocess.run(
        [sys.executable, str(KILLER), str(n), str(count_file), "--", "create", "--prefix", str(prefix),
         "--cache-dir", str(cache), "-c", channel],
        env={**world.env, **env}, cwd=str(world.envs), capture_output=True, text=True, start_new_session=True,
        timeout=600,
    )
    return proc, count_file


def _pending_marker(cache: Path) -> bool:
    return any(cache.glob("pending/*.json"))


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
        ours_unfinished = state == "incomplete" or _pending_marker(cache)
        if not prefix.exists():
            held = killed
        elif state == "complete":
            held = subprocess.run([str(prefix / "bin" / "python"), "-c", "pass"]).returncode == 0
        else:
            held = killed and ours_unfinished
        held = held and diff(before, world.outside(prefix)) == {}

        # the next create of the same target: explains, and --force (ours, so allowed) replaces
        retry = world.run("create", "--prefix", str(prefix), "--cache-dir", str(cache), "-c", channel, env=env)
        if prefix.exists() and (state is not None or ours_unfinished) and retry.returncode == 4:
            held = held and "--force" in retry.stderr
            retry = world.run("create", "--prefix", str(prefix), "--cache-dir", str(cache), "-c", channel,
                              "--force", env=env)
        held = held and retry.returncode == 0 and _state(prefix) == "complete" and not _pending_marker(cache)
        reliability.record("SIGKILL points: invariant held", held)
        assert held, f"point {i} (call {n} of {total}): rc={proc.returncode} state={state}\n{proc.stderr}\n{retry.stderr}"
