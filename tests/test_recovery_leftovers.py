"""What a killed run left that no intent row collected before: a move's mark in its source when
it was killed at `begun`, and the temporaries of the cache's notes and memo (written beside them,
each locked by its writer while it exists: a free lock proves its writer gone)."""

from pathlib import Path

from tests.conftest import copy_env
from tests.support.interrupt import killed_at
from tests.support.intents import intent_of as _intent

MARK = ".mambaboot-claim"  # common/files/proof.py's MARK


def test_a_move_killed_as_it_began_leaves_its_mark_to_the_next_run_of_the_place(world, made_env):
    src, dst = copy_env(made_env, world.envs / "a"), world.envs / "b"
    proc = killed_at(world, "proof.write_mark+done", ["move", str(src), str(dst), "--cache-dir", str(world.cache)])
    assert proc.returncode == -9, proc.stderr
    assert (src / MARK).is_file() and _intent(src)["stage"] == "begun"
    r = world.run("activate-scripts", str(src))
    assert r.returncode == 0, r.stderr
    assert not (src / MARK).exists() and f"dropped the mark of a mambaboot move of {src}" in r.stderr, r.stderr
    assert not dst.exists()


def test_a_move_killed_as_it_began_is_settled_by_the_same_move_again(world, made_env):
    src, dst = copy_env(made_env, world.envs / "a"), world.envs / "b"
    args = ["move", str(src), str(dst), "--cache-dir", str(world.cache)]
    assert killed_at(world, "proof.write_mark+done", args).returncode == -9
    r = world.run(*args)
    assert r.returncode == 0, r.stderr
    assert not (dst / MARK).exists() and not src.exists(), r.stderr


def _temporaries(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir() if ".mambaboot-tmp-" in p.name) if directory.is_dir() else []


def test_cache_clean_deletes_what_a_killed_writer_left_of_the_cache_notes_and_memo_and_keeps_a_live_ones(
        world, channel, standin):
    import fcntl

    prefix, notes, memo = world.envs / "e", world.cache / "environments", world.cache / "memo"
    create = ["create", "-q", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
              "--micromamba", str(standin)]
    assert killed_at(world, "confined._replaced+0", create).returncode == -9  # its cache note written, not renamed
    assert len(_temporaries(notes)) == 1
    clean = ["cache", "clean", "--cache-dir", str(world.cache)]
    assert killed_at(world, "confined._replaced+0", clean).returncode == -9  # the memo written, not renamed
    assert len(_temporaries(memo)) == 1
    live = notes / f".{'0' * 32}.json.mambaboot-tmp-{'b' * 32}-locked"
    with open(live, "wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a writer at work: its own lock on its temporary
        r = world.run(*clean)
        assert r.returncode == 0, r.stderr
        assert _temporaries(notes) == [live.name] and _temporaries(memo) == [], r.stderr
    assert r.stdout.count("what a killed mambaboot run was writing under another name") == 2, r.stdout
    r = world.run(*clean)
    assert r.returncode == 0 and _temporaries(notes) == [] and (memo / "package-sizes").is_file(), r.stderr
