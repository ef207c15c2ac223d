"""Safety (issue 12): --force never loses the old environment, names that cannot work are refused
up front, https-only survives redirects."""

import subprocess

import pytest

from tests.support.snapshot import diff, snapshot


def _created(world, channel, standin, name="keep"):
    r = world.create(name, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world.envs / name


def test_force_stops_with_nothing_changed_when_the_old_environment_cannot_move_aside(world, reliability, channel,
                                                                                    standin):
    prefix = _created(world, channel, standin)
    before = snapshot(world.root)
    subprocess.run(["chattr", "+i", str(world.envs)], check=True)  # no rename in here, even for root
    try:
        r = world.create("keep", "--force", "-c", channel, "--micromamba", str(standin))
    finally:
        subprocess.run(["chattr", "-i", str(world.envs)], check=True)
    ok = (r.returncode == 4 and "cannot move the old environment" in r.stderr and "nothing was changed" in r.stderr
          and diff(before, snapshot(world.root)) == {})
    reliability.record("--force: the old environment survives a failed move aside", ok)
    assert ok, r.stderr
    assert (prefix / ".mambaboot" / "record.json").is_file()


@pytest.mark.parametrize("length", [228, 240, 300])
def test_a_name_too_long_for_the_file_system_is_refused_up_front(world, channel, standin, length):
    before = world.outside()
    r = world.create("n" * length, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2, r.stderr
    assert "at most 227 fit" in r.stderr
    assert diff(before, world.outside()) == {}


def test_the_longest_name_that_fits_can_be_created_and_replaced(world, channel, standin):
    prefix = _created(world, channel, standin, "n" * 227)
    r = world.create("n" * 227, "--force", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert (prefix / ".mambaboot" / "record.json").is_file()
