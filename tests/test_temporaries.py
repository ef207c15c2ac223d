"""The temporary names (common/files/tempname.py): whatever a run killed between a
write and its rename leaves under the run's temporary name is collected by the next run of the
place (settle: common/files/leftovers.py), by `cache clean` (a work directory in CACHE/tmp or the
temporary directory: common/files/workdir.py), or named by `doctor`; and no other temporary name
is made anywhere in the source."""

import ast
import os
import re
from pathlib import Path

from tests.conftest import REPO, copy_env
from tests.support.interrupt import killed_at
from tests.support.intents import lock_of as _lock

SRC = REPO / "src" / "mambaboot"
SCHEME = "mambaboot-tmp-"


def _named(top: Path, *, scheme_only: bool = False) -> set:
    """The paths below top (links not followed) whose name is a temporary's: the scheme's, or
    (scheme_only False) any name a writer of an older version gave one."""
    older = re.compile(r"\.tmp-[0-9a-f]{12}$|\.mambaboot-move-\d+$|^mambaboot-(output|shell|pip-lock)-|^\.download-")
    found = set()
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            if SCHEME in name or (not scheme_only and older.search(name)):
                found.add(Path(directory) / name)
    return found


def test_a_write_killed_before_its_rename_is_collected_by_the_next_run_of_the_place(world, made_env):
    """SIGKILL between the write of a file's new text (activate-scripts' scripts and record, through
    the confined layer) and its rename over the file: the next run of the place, holding its lock,
    deletes what was left and says so; something of that name that is no file of a run's (a
    directory holding the user's file) is named and left as it is."""
    prefix = copy_env(made_env, world.envs / "x")
    killed = killed_at(world, "confined._fill#1>", ["activate-scripts", str(prefix)])
    assert killed.returncode == -9, killed.stderr
    left = _named(prefix)
    assert left and all(p.is_file() and not p.is_symlink() for p in left), left
    planted = prefix / ".mambaboot" / f".notes.txt.{SCHEME}{'ab' * 16}"
    planted.mkdir()
    (planted / "notes.txt").write_text("the user's\n")

    again = world.run("activate-scripts", str(prefix))
    assert again.returncode == 0, again.stderr
    assert _named(prefix) == {planted}, again.stderr
    for path in left:
        assert f"deleted {path}" in again.stderr, again.stderr
    assert f"left {planted} as it is" in again.stderr, again.stderr
    assert (planted / "notes.txt").read_text() == "the user's\n"
    assert not _lock(prefix).exists()


def test_a_place_set_aside_is_no_temporary_a_collector_judges(tmp_path):
    """A directory named as a place set aside (tempname.set_aside, another run's token, each kind;
    one even shaped as a work directory) is settled only from its run's intent, through its mark
    (environment/settle.py): the next run of the place (leftovers) and `cache clean` and `doctor`
    (workdir.stale) neither delete it nor name it."""
    from mambaboot.common.files import leftovers, tempname, workdir

    place = tmp_path / "x"
    place.mkdir()
    for kind in tempname.SET_ASIDE:
        aside = Path(tempname.set_aside(str(place), "cd" * 16, kind))
        aside.mkdir()
        (aside / "data.txt").write_text(kind)
        (aside / workdir.MARKER).write_text("")
        assert tempname.parse_temp(aside.name)[2] in tempname.SET_ASIDE, aside
    before = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers.collect(str(place)) == []
    assert workdir.stale(str(tmp_path)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert sorted((tmp_path / name / "data.txt").read_text() for name in before if name != "x") == sorted(
        tempname.SET_ASIDE)


def test_a_move_killed_before_a_rewritten_file_is_renamed_is_collected_by_the_next_move(world, made_env):
    """SIGKILL as the relocator has written a file's new text beside it (its temporary name) and
    not yet renamed it: the next `move` puts the move back, deletes what the killed run left, says
    so, and moves; no temporary is left anywhere."""
    src, dst = copy_env(made_env, world.envs / "a"), world.envs / "b"
    killed = killed_at(world, "rewrite._write_new_text#1>", ["move", str(src), str(dst)])
    assert killed.returncode == -9, killed.stderr
    left = _named(world.envs)
    assert len(left) == 1 and next(iter(left)).is_file(), left
    again = world.run("move", str(src), str(dst))
    assert again.returncode == 0, again.stderr
    assert _named(world.root) == set(), again.stderr
    assert "what a killed mambaboot run was writing under another name" in again.stderr, again.stderr
    assert not src.exists() and dst.is_dir()


def _killed_pack_to_a_fifo(world, made_env) -> Path:
    """`pack -o FIFO` killed once its archive is built, as it opens the fifo (no reader yet)."""
    fifo = world.root / "pipe.tar.gz"
    os.mkfifo(fifo)
    killed = killed_at(world, "confined.open_stream", ["pack", str(made_env), "-o", str(fifo)])
    assert killed.returncode == -9, killed.stderr
    left = [p for p in world.tmp.iterdir() if not p.name.endswith(".lock")]
    assert left, "the killed pack left nothing in the temporary directory"
    return left[0]


def test_a_killed_pack_to_a_fifo_leaves_a_work_directory_doctor_names_and_cache_clean_deletes(world, made_env):
    """What a killed `pack -o FIFO` built in the temporary directory: `doctor` names it (and
    deletes nothing), `cache clean` deletes it, and a work directory of a live run stays."""
    left = _killed_pack_to_a_fifo(world, made_env)
    doctor = world.run("doctor", "--json")
    assert str(left) in doctor.stdout and left.exists(), doctor.stdout
    world.cache.mkdir()
    clean = world.run("cache", "clean", "--cache-dir", str(world.cache))
    assert clean.returncode == 0, clean.stderr
    assert sorted(world.tmp.iterdir()) == [], clean.stdout
    assert SCHEME in left.name, left


def test_cache_clean_keeps_a_live_runs_work_directory_and_one_that_does_not_prove_itself(world):
    """In the temporary directory: a work directory whose lock a run holds, one whose lock holds
    another token than its name, a directory of the user's under the scheme's name: all kept."""
    from mambaboot.common.files import filelock, workdir

    tmp = str(world.tmp)
    with workdir.WorkDir(tmp, "shell") as live:
        lying = Path(tmp) / f"{SCHEME}{'cd' * 16}-shell"
        lying.mkdir()
        (lying / workdir.MARKER).write_text("")
        (Path(str(lying) + ".lock")).write_text("ef" * 16)
        mine = Path(tmp) / f"{SCHEME}{'01' * 16}-output"
        mine.mkdir()
        (mine / "thesis.txt").write_text("the user's\n")
        world.cache.mkdir()
        clean = world.run("cache", "clean", "--cache-dir", str(world.cache))
        assert clean.returncode == 0, clean.stderr
        assert os.path.isdir(live) and lying.is_dir() and (mine / "thesis.txt").exists()
        assert filelock.held(live + workdir.LOCK)


# -- the inventory: every writer of a temporary name, read from the source -------------------

MAKERS = ("sibling", "temp_name", "WorkDir", "private_home")


def _calls(tree) -> list:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in MAKERS]


def test_every_writer_of_a_temporary_name_goes_through_the_scheme():
    """No temporary name is made but by common/files/tempname.py: no tempfile.mk*, no
    TemporaryDirectory, no name of an older writer's scheme, no `.tmp`/`.partial` suffix by hand."""
    hand_made = re.compile(r"tempfile\.(mkstemp|mkdtemp|mktemp|NamedTemporaryFile|TemporaryDirectory|"
                           r"TemporaryFile|SpooledTemporaryFile)|[\"']\.(tmp|partial|part|new)[\"'-]|\.tmp\"|"
                           r"\.tmp-|mambaboot-move-|getpid\(\)\}\.")
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if hand_made.search(line.split("#", 1)[0]):
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not found, "a temporary name made by hand; use common/files/tempname.py:\n" + "\n".join(found)


def test_the_inventory_lists_every_writer_of_a_temporary_name():
    """Each module that makes a temporary name (a call of tempname's makers, a WorkDir) is named in
    docs/reliability.md's row of the scheme, so a new writer fails here until the inventory says
    who collects what it leaves."""
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = text.split("## State inventory", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `") and SCHEME in line.split("|")[1]]
    assert rows, "no row of the state inventory names the temporary-name scheme"
    row = " ".join(rows)
    writers = set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in ("common/files/tempname.py", "common/files/workdir.py"):
            continue
        if _calls(ast.parse(path.read_text(encoding="utf-8"))):
            writers.add(rel)
    assert {"common/files/confined.py", "relocate/rewrite.py", "engine/download.py", "shell/startup.py",
            "pipeline/locking.py", "common/files/outputfile.py", "engine/sandbox.py"} <= writers, writers
    missing = sorted(w for w in writers if f"`{w}`" not in row)
    assert not missing, f"writers of a temporary name the inventory's row does not name: {missing}"
