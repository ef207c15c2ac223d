"""A directory the operating system will not list, in an environment someone else owns: the
command that must read it says so (exit 9, naming it) and leaves nothing of its own behind."""

import os
import stat

import pytest

# Root lists any directory; these capabilities taken away from the command's process (and only
# from it) make a mode-000 directory as unreadable to it as another owner's is to a user.
UNPRIVILEGED = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


@pytest.fixture
def unlistable_meta(world, channel, standin):
    r = world.create("shared", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "shared"
    meta = prefix / "conda-meta"
    mode = stat.S_IMODE(os.stat(meta).st_mode)
    os.chmod(meta, 0)
    world.command = [*UNPRIVILEGED, *world.command]
    try:
        yield world, prefix
    finally:
        os.chmod(meta, mode)


def _refused(r, prefix):
    assert r.returncode == 9, (r.returncode, r.stderr)
    assert str(prefix / "conda-meta") in r.stderr, r.stderr
    assert "unexpected" not in r.stderr and "Traceback" not in r.stderr


def test_lock_of_an_environment_whose_conda_meta_cannot_be_listed_is_exit_9(unlistable_meta):
    world, prefix = unlistable_meta
    out = world.root / "lock.txt"
    _refused(world.run("lock", str(prefix), "-o", str(out)), prefix)
    assert not os.path.lexists(out)


@pytest.mark.parametrize("archive", ["env.tar.gz", "env.zip"])
def test_pack_of_an_environment_whose_conda_meta_cannot_be_listed_is_exit_9_and_leaves_no_archive(
        unlistable_meta, archive):
    world, prefix = unlistable_meta
    out = world.root / archive
    before = sorted(os.listdir(world.root))
    _refused(world.run("pack", str(prefix), "-o", str(out)), prefix)
    assert sorted(os.listdir(world.root)) == before, "no archive, whole or partial, left behind"
