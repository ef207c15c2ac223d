"""Every act of every operation that changes a place or a file the user named, each one a kill point
(tests/support/crashmatrix.py): the next runs of the place settle it, nothing of the user's is lost or changed,
nothing is left unnamed, and what list and doctor advise, typed as shown, exits 0."""

import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.support.crashmatrix import Matrix, Operation, _complete
from tests.support.server import AssetServer

KILLED = "crash-matrix: kill points"
DEPTH_TWO = "crash-matrix: at depth two"
REMOVED = "crash-matrix: removed instead"
OPERATIONS = "crash-matrix: operations"


def _env(world) -> Path:
    return world.envs / "e"


def _moved(world) -> Path:
    return world.envs / "f"


def _create_args(world, channel, standin, *extra):
    return ["create", "-q", "--prefix", str(_env(world)), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin), *extra]


def _made(channel, standin, then=None):
    def setup(world):
        made = world.run(_create_args(world, channel, standin))
        assert made.code == 0, made.said()
        if then:
            then(world)
    return setup


def _foreign(channel, standin):
    def setup(world):
        subprocess.run([str(standin), "create", "-y", "-p", str(_env(world)), "-c", channel, "python", "conda", "mamba"],
                       env=world.env, check=True, capture_output=True)
    return setup


def _complete_at(place):
    return lambda world: None if _complete(place(world)) else f"{place(world)} is not a complete environment"


def _gone(place):
    return lambda world: None if not place(world).exists() else f"{place(world)} is still there"


def _archive(world) -> Path:
    return world.project / "e.tar.gz"


def _locked(world) -> Path:
    return world.project / "lock.txt"


def _a_whole_archive(world):
    try:
        with tarfile.open(_archive(world)) as tar:
            names = tar.getnames()
    except (OSError, tarfile.TarError) as exc:
        return f"{_archive(world)} is no whole archive: {exc}"
    return None if any(n.endswith(".mambaboot/unpack.py") for n in names) else "the archive lacks its unpack script"


def _a_lock(world):
    text = _locked(world).read_text() if _locked(world).is_file() else ""
    return None if "@EXPLICIT" in text else f"{_locked(world)} is no whole lock"


def _lock_beside(channel, standin):
    """An environment of the user's (kept, never touched) and a lock of it in the project, for create --from-lock."""
    def setup(world):
        theirs = world.envs / "theirs"
        made = world.run(["create", "-q", "--prefix", str(theirs), "--cache-dir", str(world.cache), "-c", channel,
                          "--micromamba", str(standin)])
        assert made.code == 0, made.said()
        locked = world.run(["lock", str(theirs), "-o", str(_locked(world))])
        assert locked.code == 0, locked.said()
    return setup


def _post_script(world):
    script = world.project / "post.sh"
    script.write_text('echo provisioned > "$CONDA_PREFIX/provisioned.txt"\n')


def _killed_create_left_its_home(channel, standin):
    """A cache with an environment removed (its packages unused) and the work directory a killed create left."""
    def setup(world):
        _made(channel, standin)(world)
        gone = world.run(["remove", "--yes", str(_env(world))])
        assert gone.code == 0, gone.said()
        killed = world.run(_create_args(world, channel, standin), kill="spawn")  # its engine about to start
        assert killed.code == -9, killed.said()
        settled = world.run(["doctor", "--settle", str(_env(world))])
        assert settled.code == 0, settled.said()
    return setup


def operations(channel, standin, volume: Path, releases: str = ""):
    other_fs = lambda world: volume / "f"  # noqa: E731
    return [
        Operation("create", lambda w: _create_args(w, channel, standin), lambda w: [_env(w)],
                  done=_complete_at(_env), finished=lambda w: _complete(_env(w)), gives_up=True),
        Operation("create, its engine downloaded", lambda w: _create_args(w, channel, standin)[:-2], lambda w: [_env(w)],
                  done=_complete_at(_env), finished=lambda w: _complete(_env(w)),
                  env={"MAMBABOOT_RELEASES_URL": releases}, gives_up=True),
        Operation("create --force", lambda w: _create_args(w, channel, standin, "--force"), lambda w: [_env(w)],
                  setup=_made(channel, standin), old=_env, new=_env, done=_complete_at(_env), put_back=True,
                  gives_up=True),
        Operation("create --from-lock", lambda w: ["create", "-q", "--from-lock", str(_locked(w)), "--prefix",
                                                   str(_env(w)), "--cache-dir", str(w.cache), "--micromamba", str(standin)],
                  lambda w: [_env(w)], setup=_lock_beside(channel, standin), done=_complete_at(_env),
                  finished=lambda w: _complete(_env(w)), gives_up=True),
        Operation("adopt", lambda w: ["adopt", "--cache-dir", str(w.cache), str(_env(w))], lambda w: [_env(w)],
                  setup=_foreign(channel, standin), old=_env, new=_env, done=_complete_at(_env), put_back=True,
                  gives_up=True, foreign=True),
        Operation("move", lambda w: ["move", str(_env(w)), str(_moved(w))], lambda w: [_env(w), _moved(w)],
                  setup=_made(channel, standin), old=_env, new=_moved, done=_complete_at(_moved),
                  finished=lambda w: _complete(_moved(w)) and not _env(w).exists(), put_back=True,
                  gives_up=True),
        Operation("move to another file system", lambda w: ["move", str(_env(w)), str(other_fs(w))],
                  lambda w: [_env(w), other_fs(w)], setup=_made(channel, standin), old=_env, new=other_fs,
                  done=_complete_at(other_fs), finished=lambda w: _complete(other_fs(w)) and not _env(w).exists(),
                  put_back=True, outside=[volume], gives_up=True),
        Operation("remove", lambda w: ["remove", "--yes", str(_env(w))], lambda w: [_env(w)],
                  setup=_made(channel, standin), done=_gone(_env), finished=lambda w: not _env(w).exists(),
                  put_back=True),
        Operation("pack -o", lambda w: ["pack", str(_env(w)), "-o", str(_archive(w))], lambda w: [_env(w), _archive(w)],
                  setup=_made(channel, standin), done=_a_whole_archive, finished=lambda w: _archive(w).exists()),
        Operation("lock -o", lambda w: ["lock", str(_env(w)), "-o", str(_locked(w))], lambda w: [_locked(w)],
                  setup=_made(channel, standin), done=_a_lock),
        Operation("cache clean", lambda w: ["cache", "clean", "--cache-dir", str(w.cache)], lambda w: [w.cache],
                  setup=_killed_create_left_its_home(channel, standin), own_packages=True),
        Operation("provision", lambda w: ["provision", "--post-script", str(w.project / "post.sh"), str(_env(w))],
                  lambda w: [_env(w)], setup=_made(channel, standin, _post_script),
                  done=lambda w: None if (_env(w) / "provisioned.txt").is_file() else "the post-script did not run",
                  gives_up=True),
        Operation("activate-scripts", lambda w: ["activate-scripts", str(_env(w))], lambda w: [_env(w)],
                  setup=_made(channel, standin), done=_complete_at(_env), gives_up=True),
    ]


# The operations this file runs; tests/test_crash_matrix_create.py runs the rest (CREATES): two files of about the same
# length: --dist loadfile runs each whole on one worker, so the two halves run side by side wherever they come.
CREATES = ["create", "create, its engine downloaded", "create --force", "create --from-lock", "adopt"]
NAMES = ["move", "move to another file system", "remove", "pack -o", "lock -o", "cache clean", "provision",
         "activate-scripts"]


@pytest.fixture(scope="module")
def crash_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    (base / "pkgs").mkdir()
    return base


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    """Another file system for a move's copy: a tmpfs mounted for the module (the suite runs as root, as in its
    container), else /dev/shm."""
    mnt = tmp_path_factory.mktemp("crash-volume")
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(mnt)],
                                                   capture_output=True).returncode == 0
    target = mnt if mounted else Path("/dev/shm") / f"mambaboot-crash-{uuid.uuid4().hex}"
    target.mkdir(exist_ok=True)
    assert os.stat(target).st_dev != os.stat(mnt.parent).st_dev, "no second file system for the move"
    yield target
    subprocess.run(["umount", str(mnt)] if mounted else ["rm", "-rf", str(target)], check=True)


@pytest.fixture(scope="module")
def releases(fault_standin):
    """The stand-in served as the pinned release, for the create that downloads its engine."""
    from mambaboot.common.host import current
    from mambaboot.pipeline.plan import PINNED_MICROMAMBA

    with AssetServer() as server:
        server.add_release(PINNED_MICROMAMBA, current().subdir, fault_standin.read_bytes())
        yield f"{server.url}/mamba-org/micromamba-releases/releases"


@pytest.mark.parametrize("name", NAMES)
def test_every_kill_point_is_settled(name, crash_base, volume, channel, standin, releases, reliability):
    every_kill_point_is_settled(name, crash_base, volume, channel, standin, releases, reliability)


def every_kill_point_is_settled(name, crash_base, volume, channel, standin, releases, reliability):
    op = next(o for o in operations(channel, standin, volume, releases) if o.name == name)
    matrix = Matrix(op, crash_base, crash_base / "pkgs")
    try:
        matrix.prepare()
        replay = os.environ.get("MAMBABOOT_CRASH_POINTS")  # "K" or "K:J", comma-separated: a failure's points again
        if replay:
            for point in replay.split(","):
                matrix.point(*(int(n) for n in point.split(":")))
        else:
            matrix.run_all()
    finally:
        matrix.world.close()
    for ok in matrix.judged:
        reliability.record(KILLED, ok)
    for ok in matrix.judged_two:
        reliability.record(DEPTH_TWO, ok)
    for ok in matrix.judged_removed:
        reliability.record(REMOVED, ok)
    reliability.record(OPERATIONS, not matrix.broken)
    assert not matrix.broken, f"{matrix.summary()}; {len(matrix.broken)} broken:\n\n" + "\n\n".join(matrix.broken[:12])


@pytest.mark.parametrize("mutation, name, near, seen", [
    ("mark-first", "remove", "removal.", ""),  # killed as the tree goes, its mark gone first: what is left proves nothing
    ("unsaid", "create --force", "", ""),  # killed once the old environment is set aside: `begun` puts nothing back
    # killed as it takes its locks, the destination's made but blank on the other file system: the same move again takes
    # it, but a remove of the source instead leaves it there for good
    ("free-lock-kept", "move to another file system", "placelock.", "removed instead"),
])
def test_the_enumerator_fails_a_mambaboot_made_wrong(mutation, name, near, seen, crash_base, volume, channel, standin,
                                                    releases):
    """The enumerator's own negative control: a deletion that drops its mark first, a run whose stages are not
    written into its intent before their acts, or a settle that leaves a lock a killed run blanked, breaks an invariant
    at some kill point it tries (only the points whose act is in the code named are tried, at depth one and two; "":
    every point, in order, up to the first broken), seen by the check named."""
    op = next(o for o in operations(channel, standin, volume, releases) if o.name == name)
    matrix = Matrix(op, crash_base, crash_base / "pkgs")
    try:
        matrix.prepare()
        matrix.world.mutation = mutation
        for k in matrix.kill_points():
            if any(near in a["where"] for a in matrix.calibration.acts if a["n"] == k):
                matrix.point(k)
            if matrix.broken:
                break
    finally:
        matrix.world.close()
    assert matrix.broken, f"{mutation}: no kill point of {name} broke an invariant ({matrix.summary()})"
    assert seen in matrix.broken[0], matrix.broken[0]
