"""SIGKILL between the write of a file's new text and its rename over the file
(common/files/filerewrite.py: `.FILE.mambaboot-tmp-<the run's token>` beside it, synced). In an
environment, under its lock, the next run that holds the lock deletes it; beside a user's shell
startup file, under no lock, the next `doctor --undo-shell-init` names it and leaves it. Either way
the file itself is as it was, and nothing else changed."""

import json
from pathlib import Path

import pytest

from tests.conftest import copy_env
from tests.support.interrupt import killed_at
from tests.support.snapshot import diff, snapshot
from tests.test_doctor import CONDA_BLOCK
from tests.support.intents import lock_of as _lock

BETWEEN = "filerewrite._staged#1>"  # the first call once the new text is synced: before its rename
MINE = "channels:\n  - mine  # my channel\nregister_envs: true\n"  # lacks settings adopt appends


def _temps(directory: Path, of: str) -> set:
    return {p.name for p in directory.iterdir() if p.name.startswith(f".{of}.mambaboot-tmp-")}


def _beyond_bytecode(changes: dict) -> set:
    return {path for path in changes if "__pycache__" not in path}


def test_an_adopt_killed_before_its_condarc_is_renamed_is_settled_by_the_next_run(world, made_env):
    prefix = copy_env(made_env, world.envs / "x")
    assert world.run("adopt", str(prefix)).returncode == 0  # its files name where it is now
    rc = prefix / ".condarc"
    rc.write_text(MINE)
    other = prefix / "..condarc.tmp-0123456789ab"  # no name of the scheme: not the run's to delete
    other.write_bytes(b"another run's\n")
    before = snapshot(world.root)

    killed = killed_at(world, BETWEEN, ["adopt", str(prefix)])
    assert killed.returncode == -9, killed.stderr
    (name,) = _temps(prefix, ".condarc")
    left = prefix / name
    assert rc.read_text() == MINE and left.read_text().startswith(MINE + "# Added by mambaboot:\n")
    after_kill = snapshot(world.root)

    again = world.run("adopt", str(prefix))
    assert again.returncode == 0, again.stderr
    assert f"warning: deleted {left}, what a killed mambaboot run was writing under another name (the file it " \
           "was for was not changed)" in again.stderr
    assert not _lock(prefix).exists() and _temps(prefix, ".condarc") == set() and other.exists()
    assert other.read_bytes() == b"another run's\n"
    # what the settling changed: the new text deleted, nothing else; then what adopt itself does
    settled = diff(after_kill, snapshot(world.root))
    assert settled[str(left.relative_to(world.root))] == (after_kill[str(left.relative_to(world.root))], None)
    assert _beyond_bytecode(diff(before, snapshot(world.root))) == {
        str(p.relative_to(world.root)) for p in (rc, prefix / ".mambaboot" / "record.json")}
    assert rc.read_text().startswith(MINE + "# Added by mambaboot:\n") and rc.read_text().count("register_envs") == 1


def test_an_adopt_settles_only_a_regular_file_under_its_killed_runs_name(world, made_env):
    """A link planted under the killed run's very name is not followed nor deleted: named."""
    prefix = copy_env(made_env, world.envs / "x")
    (prefix / ".condarc").write_text(MINE)
    killed = killed_at(world, BETWEEN, ["adopt", str(prefix)])
    assert killed.returncode == -9, killed.stderr
    (name,) = _temps(prefix, ".condarc")
    left = prefix / name
    target = world.root / "elsewhere"
    target.write_text("the user's\n")
    left.unlink()
    left.symlink_to(target)
    again = world.run("adopt", str(prefix))
    assert again.returncode == 0, again.stderr
    assert f"warning: left {left} as it is: it is not a regular file of yours" in again.stderr
    assert left.is_symlink() and target.read_text() == "the user's\n"


@pytest.mark.parametrize("command", ["activate-scripts", "pack"])
def test_another_command_of_the_place_settles_the_killed_adopt_and_says_so(world, made_env, command):
    """The next run that takes the place's lock settles the intent, whichever command it is, and
    says what it deleted, as adopt does."""
    prefix = copy_env(made_env, world.envs / "x")
    (prefix / ".condarc").write_text(MINE)
    killed = killed_at(world, BETWEEN, ["adopt", str(prefix)])
    assert killed.returncode == -9, killed.stderr
    (name,) = _temps(prefix, ".condarc")
    left = prefix / name
    assert left.is_file()
    args = [command, str(prefix)] + (["-o", str(world.root / "x.tar.gz")] if command == "pack" else [])
    again = world.run(*args)
    assert f"warning: deleted {left}, what a killed mambaboot run was writing" in again.stderr, again.stderr
    assert not left.exists() and (prefix / ".condarc").read_text() == MINE


@pytest.mark.parametrize("at, of, what", [
    ("filerewrite.write_all#1+0", ".bashrc.mambaboot-backup-", "is a backup of {rc} that a mambaboot run was "
     "writing when it was stopped, before it changed {rc}: delete {left}"),
    ("filerewrite._staged#2>", ".bashrc", "is new text for {rc} that a mambaboot run was writing when it was "
     "stopped, before it replaced {rc}: compare the two, then delete {left}"),
], ids=["backup", "startup file"])
def test_an_undo_shell_init_killed_before_its_rename_is_named_by_the_next_one_and_left(world, at, of, what):
    rc = world.home / ".bashrc"
    original = "export EDITOR=vi\n" + CONDA_BLOCK + "alias ll='ls -l'\n"
    rc.write_text(original)
    killed = killed_at(world, at, ["doctor", "--undo-shell-init"])
    assert killed.returncode == -9, killed.stdout + killed.stderr
    left = [p for p in world.home.iterdir() if p.name.startswith(f".{of}") and ".mambaboot-tmp-" in p.name]
    assert len(left) == 1 and rc.read_text() == original, sorted(p.name for p in world.home.iterdir())
    left = left[0]
    said = f"warning: {left} " + what.format(rc=rc, left=left)
    before = snapshot(world.root)

    plain = world.run("doctor", "--json")  # the check of shell init names it too
    assert {"check": "shell-init", "severity": "warning", "message": said[len("warning: "):],
            "fix": "look at it, then delete it by hand"} in json.loads(plain.stdout)["findings"], plain.stdout
    assert snapshot(world.root) == before

    dry = world.run("doctor", "--undo-shell-init", "--dry-run")
    assert dry.returncode == 0 and said in dry.stderr, dry.stderr
    assert snapshot(world.root) == before

    done = world.run("doctor", "--undo-shell-init")
    assert done.returncode == 0 and said in done.stderr, done.stdout + done.stderr
    changes = diff(before, snapshot(world.root))
    assert str(left.relative_to(world.root)) not in changes, "never deleted: nothing proves it is mambaboot's"
    assert rc.read_text() == "export EDITOR=vi\nalias ll='ls -l'\n"


def test_a_move_killed_before_its_condarc_is_renamed_is_settled_by_the_next_move(world, made_env):
    """The new text is in the environment the move renamed: the next move deletes it where it is, then
    puts the environment back (settle.py's table: what a killed run wrote under its token goes first),
    then it moves again."""
    src, dst = copy_env(made_env, world.envs / "a"), world.envs / "b"
    (src / ".condarc").write_text(MINE)
    killed = killed_at(world, BETWEEN, ["move", str(src), str(dst)])
    assert killed.returncode == -9, killed.stderr
    (name,) = _temps(dst, ".condarc")
    assert (dst / ".condarc").read_text() == MINE
    again = world.run("move", str(src), str(dst))
    assert again.returncode == 0, again.stderr
    assert f"warning: deleted {dst / name}, what a killed mambaboot run was writing under another name" \
        in again.stderr
    assert not src.exists() and _temps(dst, ".condarc") == set()
    assert (dst / ".condarc").read_text().startswith(MINE + "# Added by mambaboot:\n")
