"""Every message names the true cause and every code means one thing: a path that does not exist
is exit 2 for every command, in one message naming the command; PY_ENVS naming no directory is
refused, never passed over for the current directory."""

import subprocess

import pytest

from tests.conftest import MAMBABOOT, _clean_environ


@pytest.mark.parametrize("command, extra", [
    ("run", ["--", "python"]), ("shell", []), ("lock", []), ("list", []), ("activate-scripts", []),
    ("remove", ["--yes"]), ("audit", []), ("move", ["{tmp}/elsewhere"]), ("pack", ["-o", "{tmp}/out.tar.gz"]),
    ("adopt", []), ("provision", []),
])
def test_a_path_that_does_not_exist_is_one_code_and_one_message_for_every_command(tmp_path, command, extra):
    missing = tmp_path / "nope"
    args = [command, str(missing), *(a.format(tmp=tmp_path) for a in extra)]
    proc = subprocess.run([*MAMBABOOT, *args], env=_clean_environ(HOME=str(tmp_path), TMPDIR=str(tmp_path)),
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1:]) == (
        2, [f"mambaboot: error: {missing} does not exist; `mambaboot {command}` takes an existing environment"]), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing made"


def test_py_envs_naming_a_directory_that_does_not_exist_fails_loudly(world, channel, standin):
    r = world.create("--python", "3.11", "-c", channel, "--micromamba", str(standin),
                     env={"PY_ENVS": str(world.root / "missing")})
    assert r.returncode == 2, r.stderr
    assert f"PY_ENVS names {world.root / 'missing'}, which is not a directory" in r.stderr
    assert list(world.envs.iterdir()) == [], "nothing in the current directory"


def test_counts_are_said_in_english(world, channel, standin):
    taken = world.envs / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    r = world.create("--prefix", str(taken), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and f"{taken} is a non-empty directory (1 entry)" in r.stderr, r.stderr
