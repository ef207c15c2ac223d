"""Parallel creates sharing one cache, and runs racing for the same target."""

import json
import subprocess

from tests.conftest import MAMBABOOT
from tests.support.interrupt import paused


def _start(world, *args, env=None):
    return subprocess.Popen(
        [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args], env={**world.env, **(env or {})},
        cwd=str(world.envs), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _state(prefix):
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]


def test_parallel_creates_share_one_cache_and_download_once(world, channel, release_server, reliability):
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    procs = [_start(world, f"env{i}", "-c", channel, env=env) for i in range(4)]
    results = [(p.wait(timeout=600), p.communicate()) for p in procs]
    for code, (out, err) in results:
        reliability.record("parallel runs", code == 0)
        assert code == 0, err
    assert release_server.count("GET", release_server.asset_url) == 1, "downloaded exactly once"
    for i in range(4):
        assert _state(world.envs / f"env{i}") == "complete"
    assert list(world.cache.rglob(".download-*")) == [] and list(world.cache.rglob(".*.tmp-*")) == []


def test_a_second_run_for_a_target_being_created_is_refused(world, channel, standin):
    args = ["-c", channel, "--micromamba", str(standin)]
    command = [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args]
    with paused(command, world.env, world.envs, world.root.parent / "fifo") as first:
        second = world.create(*args)
        assert second.returncode == 4, second.stderr
        assert "another mambaboot run is creating" in second.stderr
        # release the first run: it must finish untouched by the second
        with open(world.root.parent / "fifo", "wb", buffering=0) as release:
            release.write(b"x")
        first.wait(timeout=600)
    assert first.returncode == 0
    assert _state(world.envs / "py") == "complete"


def test_unsynchronised_race_has_exactly_one_winner(world, channel, standin):
    procs = [_start(world, "-c", channel, "--micromamba", str(standin)) for _ in range(2)]
    codes = sorted(p.wait(timeout=600) for p in procs)
    for p in procs:
        p.communicate()
    assert codes == [0, 4]
    assert _state(world.envs / "py") == "complete"
    out = subprocess.run([str(world.envs / "py" / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(world.envs / "py")


def test_an_environment_being_created_is_neither_moved_nor_removed(world, channel, standin):
    """As remove does, move refuses a prefix whose create is running: moved, it would be recorded
    complete at its new place, and the create would then fail."""
    args = ["-c", channel, "--micromamba", str(standin)]
    command = [*MAMBABOOT, "create", "--cache-dir", str(world.cache), *args]
    with paused(command, world.env, world.envs, world.root.parent / "fifo") as first:
        moved = world.run("move", str(world.envs / "py"), str(world.envs / "moved"), "--cache-dir", str(world.cache))
        assert moved.returncode == 4 and "being created right now" in moved.stderr, moved.stderr
        assert not (world.envs / "moved").exists()
        with open(world.root.parent / "fifo", "wb", buffering=0) as release:
            release.write(b"x")
        first.wait(timeout=600)
    assert first.returncode == 0
    assert _state(world.envs / "py") == "complete"
