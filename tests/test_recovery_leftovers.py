"""What a killed run left that nothing collected before: the temporaries of the cache's notes and memo (written
beside them, each locked by its writer while it exists: a free lock proves its writer gone)."""

from pathlib import Path

from tests.support.interrupt import killed_at


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
