"""Proof that cannot be borrowed, one lock for every spelling, an intent that always parses.

A killed run's intent names a place; what settles it acts only on what the place itself proves:
the mark of the run's token for its role (common/files/proof.py). An identity recorded in the
intent (an inode number, reused at once by the file system, or kept by a directory emptied in
place) never authorizes a deletion, nor a mark that was moved (an old environment put back by
hand) or that outlived what it marked (the contents deleted, the hidden mark left). What cannot
prove itself is named with what clears it, as git names a stale index.lock.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT, copy_env
from tests.support.interrupt import killed_at, paused
from tests.support.snapshot import snapshot
from tests.support.intents import intent_of as _intent, lock_of as _lock

SENTINEL = "kept-by-the-user.txt"
MARK = ".mambaboot-claim"  # common/files/proof.py's MARK


def _identity(path: Path) -> tuple:
    st = os.lstat(path)
    return st.st_dev, st.st_ino


def _users_environment(prefix: Path) -> None:
    """The user's own environment, made in the directory by hand (as `micromamba create -p` does
    in an empty folder): conda's metadata and files of theirs."""
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n# cmd: micromamba create\n")
    (prefix / "bin").mkdir()
    (prefix / "bin" / "tool").write_text("#!/bin/sh\necho the user's own\n")
    (prefix / SENTINEL).write_text("years of work\n")


def _remove_answered(world, answer: bytes, *args):
    """remove with a terminal on stdin, answer typed into it."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([*MAMBABOOT, "remove", "--cache-dir", str(world.cache), *args], stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=world.env, cwd=str(world.envs),
                                text=True)
        os.write(master, answer)
        out, err = proc.communicate(timeout=300)
    finally:
        os.close(slave)
        os.close(master)
    return proc.returncode, err


def _command(world, command: str, prefix: Path, channel: str, standin: Path):
    """Run command on prefix as a user would: (exit code, stderr)."""
    cache = ("--cache-dir", str(world.cache))
    if command == "remove answered n":
        return _remove_answered(world, b"n\n", str(prefix))
    if command == "pack":
        r = world.run("pack", str(prefix), "-o", str(world.root / "out.tar.gz"))
    elif command == "create":
        r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    elif command == "adopt":
        r = world.run("adopt", str(prefix), *cache)
    elif command == "list":
        r = world.run("list", "--envs-dir", str(prefix.parent), *cache)
    else:
        r = world.run(command, str(prefix))
    return r.returncode, r.stderr


COMMANDS = ["activate-scripts", "adopt", "pack", "provision", "remove answered n", "create"]


def _killed_while_the_engine_runs(world, prefix: Path, channel: str, engine: Path, fifo: Path, *extra: str) -> dict:
    """A create SIGKILLed, with its engine, while the engine runs in the prefix (the stand-in held
    after linking on STANDIN_BLOCK_FIFO): as a power loss, the OOM killer or a closed terminal
    leaves it. Its intent, at stage engine."""
    command = [*world.command, "create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(engine), *extra]
    with paused(command, world.env, world.envs, fifo) as proc:
        assert (prefix / "conda-meta").is_dir()
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its engine: one process group
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    left = _intent(prefix)
    assert left["stage"] == "engine", left
    return left


@pytest.mark.parametrize("command", COMMANDS)
def test_an_identity_in_the_intent_never_deletes_the_users_environment(world, channel, fault_standin, command):
    """A create killed while its engine runs; the user deletes the half-made directory and makes it
    again (`rm -rf x; mkdir x`), which ext4 most often gives the very inode the engine's directory
    had, and makes their own environment there. No command that takes the lock deletes it (the
    intent records no identity: none would prove anything): each names it with what clears it."""
    prefix = world.envs / "x"
    left = _killed_while_the_engine_runs(world, prefix, channel, fault_standin, world.root.parent / "fifo")
    assert "target" not in left, left
    shutil.rmtree(prefix)
    os.mkdir(prefix)
    _users_environment(prefix)
    tree = snapshot(prefix)
    code, err = _command(world, command, prefix, channel, fault_standin)
    assert snapshot(prefix) == tree, err
    assert code == 4 and "Traceback" not in err, err
    assert "nothing in it proves which" in err and f"rm -rf {prefix}" in err and str(_lock(prefix)) in err, err
    # the command it names clears it: the user's environment is theirs, the intent goes
    _lock(prefix).unlink()
    assert snapshot(prefix) == tree


@pytest.mark.parametrize("command", ["adopt", "create"])
def test_a_directory_emptied_in_place_keeps_its_identity_and_proves_nothing(world, channel, standin, command):
    """A create killed once its engine was done, before its mark: the user empties the directory
    in place (its identity kept) and makes their own environment there; nothing deletes it."""
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin)]
    killed = killed_at(world, "create.engine_done+0", args)
    assert killed.returncode == -9, killed.stderr
    left = _intent(prefix)
    assert left["stage"] == "engine" and (prefix / "conda-meta").is_dir(), left
    recorded = _identity(prefix)
    for entry in prefix.iterdir():  # what the engine made, deleted by hand; the directory kept
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    _users_environment(prefix)
    assert _identity(prefix) == recorded
    tree = snapshot(prefix)
    code, err = _command(world, command, prefix, channel, standin)
    assert snapshot(prefix) == tree, err
    assert code == 4 and "nothing in it proves which" in err and "Traceback" not in err, err


def test_a_create_killed_in_its_engine_after_the_directory_is_deleted_by_hand_goes_on(world, channel, standin):
    """The other way out the message names: the half-made directory deleted, the next create
    settles the intent (nothing at the place) and makes the environment."""
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin)]
    assert killed_at(world, "create.engine_done+0", args).returncode == -9
    shutil.rmtree(prefix)
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in world.envs.iterdir()) == ["x"]


def test_a_file_where_a_killed_create_was_making_its_directory_is_named_and_kept(world, channel, standin):
    """The half-made directory deleted by hand and a file of the user's put in its place: no
    directory there proves anything, so the next create names it (exit 4), deletes nothing and
    keeps the intent, as for a directory that proves nothing."""
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin)]
    assert killed_at(world, "create.engine_done+0", args).returncode == -9
    shutil.rmtree(prefix)
    prefix.write_text("the user's file\n")
    code, err = _command(world, "create", prefix, channel, standin)
    assert code == 4 and "nothing in it proves which" in err and "Traceback" not in err, err
    assert prefix.read_text() == "the user's file\n" and _intent(prefix)["stage"] == "engine"


def _force_killed_in_finishing(world, made_env, channel, standin) -> tuple:
    prefix = copy_env(made_env, world.envs / "x")
    (prefix / SENTINEL).write_text("the old environment\n")
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin), "--force"]
    killed = killed_at(world, "placelock.stage:finishing+done", args)
    assert killed.returncode == -9, killed.stderr
    aside = [p for p in world.envs.iterdir() if p.name.endswith("-old") and ".mambaboot-tmp-" in p.name]
    assert len(aside) == 1 and _intent(prefix)["stage"] == "finishing"
    return prefix, aside[0]


def _without_mark(tree: dict) -> dict:
    return {k: v for k, v in tree.items() if not str(k).endswith(MARK)}


@pytest.mark.parametrize("command", ["pack", "remove answered n", "list", "create"])
def test_an_old_environment_put_back_by_hand_is_never_deleted(world, made_env, channel, standin, command):
    """create --force killed as it finished the new environment; the user puts the old one back
    by hand (`rm -rf x; mv .x.mambaboot-tmp-*-old x`). It carries the run's token, in the mark of the
    environment set aside, not of the new prefix: what settles the intent keeps it."""
    prefix, aside = _force_killed_in_finishing(world, made_env, channel, standin)
    shutil.rmtree(prefix)
    aside.rename(prefix)
    tree = _without_mark(snapshot(prefix))
    code, err = _command(world, command, prefix, channel, standin)
    assert "Traceback" not in err, err
    assert (prefix / SENTINEL).read_text() == "the old environment\n", err
    assert _without_mark(snapshot(prefix)) == tree, err
    if command == "list":
        return
    # a later create of the place, as list advises, keeps it too: it is complete, --force replaces it
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "--force" in r.stderr, r.stderr
    assert _without_mark(snapshot(prefix)) == tree and not _lock(prefix).exists()


def test_a_mark_that_outlived_the_contents_it_marked_deletes_nothing(world, channel, standin):
    """A plain create killed as it finished; the user empties the directory (`rm -rf x/*`, which
    keeps hidden files) and puts files of their own there: `adopt x` deletes none of them."""
    prefix = world.envs / "x"
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel,
            "--micromamba", str(standin)]
    assert killed_at(world, "placelock.stage:finishing+done", args).returncode == -9
    for entry in prefix.iterdir():
        if not entry.name.startswith("."):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    (prefix / "notes").mkdir()
    (prefix / "notes" / SENTINEL).write_text("years of work\n")
    (prefix / "conda-meta").mkdir()  # even the name of conda's metadata
    tree = snapshot(prefix)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert snapshot(prefix) == tree, r.stderr
    assert r.returncode == 4 and "nothing in it proves which" in r.stderr, r.stderr


def test_a_long_intent_then_a_shorter_one_still_parses(world, channel, standin):
    """The lock file held a killed run's intent longer than a block; the next run's own intent,
    shorter, is written over it: the file holds that intent and nothing of the old one after it
    (read by a post-script while the run holds the lock)."""
    prefix = world.envs / "x"
    _lock(prefix).write_text(json.dumps({"tool": "mambaboot", "operation": "create", "pid": 1, "stage": "begun",
                                         "token": "ab" * 16, "started": "x" * 9000, "place1": str(prefix)}))
    out = world.root / "seen.json"
    script = world.root / "read-lock.sh"
    script.write_text(f"#!/bin/sh\ncat {shlex.quote(str(_lock(prefix)))} > {shlex.quote(str(out))}\n")
    script.chmod(0o755)
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin),
                     "--post-script", str(script))
    assert r.returncode == 0, r.stderr
    seen = json.loads(out.read_bytes().rstrip(b" "))
    assert seen["operation"] == "create" and seen["stage"] == "done" and seen.get("started") != "x" * 9000


def _busy_script(world, place: Path, out: Path) -> Path:
    """A post-script that runs `mambaboot activate-scripts PLACE` while the create holds its lock,
    and writes down its exit code."""
    script = world.root / "second-run.sh"
    command = shlex.join([*MAMBABOOT, "activate-scripts", str(place)])
    script.write_text(f"#!/bin/sh\n{command} 2>{shlex.quote(f'{out}.err')}\necho $? > {shlex.quote(str(out))}\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("spelling", ["a link to it", "a link to its parent"])
def test_every_spelling_of_a_place_takes_its_one_lock(world, channel, standin, spelling):
    """A run through a link to the environment (or to its parent) is another run on the same
    place: refused while the create holds the place's lock (exit 4), never run beside it."""
    prefix = world.envs / "x"
    link = world.root / "link"
    if spelling == "a link to it":
        link.symlink_to(prefix)
        through = link
    else:
        link.symlink_to(world.envs)
        through = link / "x"
    out = world.root / "second.txt"
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin),
                     "--post-script", str(_busy_script(world, through, out)))
    assert r.returncode == 0, r.stderr
    assert out.read_text().strip() == "4", Path(f"{out}.err").read_text()
    assert "is changing" in Path(f"{out}.err").read_text()


def test_a_create_whose_parent_is_missing_holds_its_lock(world, channel, standin):
    """create -p NEWDIR/env with NEWDIR not there yet: the parent is made first, then the lock taken,
    so a second run on the place meanwhile is refused."""
    prefix = world.envs / "new" / "deeper" / "x"
    out = world.root / "second.txt"
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin),
                     "--post-script", str(_busy_script(world, prefix, out)))
    assert r.returncode == 0, r.stderr
    assert out.read_text().strip() == "4", Path(f"{out}.err").read_text()
    assert not _lock(prefix).exists() and (prefix / "conda-meta").is_dir()


def _state(prefix: Path):
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]


@pytest.mark.parametrize("how", ["Ctrl-C", "SIGKILL, then settled by remove answered n"])
def test_a_move_stopped_in_its_verification_is_put_back_as_it_was(world, made_env, how):
    """A move of a complete environment stopped while the moved one is being checked again: put
    back (by the move itself, or by the next run that settles it), the record says complete, as
    it did."""
    src, dst = copy_env(made_env, world.envs / "e1"), world.envs / "e2"
    assert _state(src) == "complete"
    args = ["move", str(src), str(dst), "--cache-dir", str(world.cache)]
    if how == "Ctrl-C":
        proc = killed_at(world, "condameta.summary+0", args, {"KILLPOINT_SIGNAL": "INT"})
        assert proc.returncode == 130, proc.stderr
    else:
        proc = killed_at(world, "condameta.summary+0", args)
        assert proc.returncode == -9, proc.stderr
        code, err = _remove_answered(world, b"n\n", str(src))
        assert code == 0 and "put back" in err, err
    assert src.is_dir() and not dst.exists(), proc.stderr
    assert _state(src) == "complete", proc.stderr


@pytest.mark.parametrize("command, field, value", [
    ("provision", ("provisioning", "pip", "requirements"), 5),
    ("provision", ("provisioning", "pip", "locked"), [{"name": 5}]),
    ("adopt", ("inputs", "python"), 5),
    ("adopt", ("inputs", "pkgs_dir"), 5),
])
def test_a_record_field_out_of_its_shape_is_no_record_of_ours(world, made_env, command, field, value):
    """Every field read from the record is checked against its shape first: a record whose field
    does not fit is none of ours, said, never a traceback (exit 1)."""
    prefix = copy_env(made_env, world.envs / "x")
    path = prefix / ".mambaboot" / "record.json"
    data = json.loads(path.read_text())
    here = data
    for key in field[:-1]:
        here = here.setdefault(key, {})
    here[field[-1]] = value
    if field[0] == "provisioning":
        data["provisioning"]["pip"]["installed"] = False
    path.write_text(json.dumps(data))
    r = world.run(command, str(prefix), "--cache-dir", str(world.cache)) if command == "adopt" else \
        world.run(command, str(prefix))
    assert r.returncode not in (0, 1) or command == "adopt", r.stderr
    assert r.returncode != 1 and "Traceback" not in r.stderr, r.stderr


def test_advice_never_calls_a_finished_environment_a_killed_moves_leftover(world, made_env):
    """`move e1 e2` where e2 is a complete, verified environment of its own (here: made by an earlier
    move that finished, e1 made again since): refused, e2 named as existing, and never called what a
    killed move left, nor given a remove that would delete it. A killed move's DST is settled from
    its intent before any check."""
    e1, e2 = copy_env(made_env, world.envs / "e1"), world.envs / "e2"
    r = world.run("move", str(e1), str(e2), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    copy_env(made_env, e1)
    r = world.run("move", str(e1), str(e2), "--cache-dir", str(world.cache))
    assert r.returncode == 4 and f"{e2} already exists" in r.stderr, r.stderr
    assert "did not finish" not in r.stderr and "remove" not in r.stderr, r.stderr
    assert _state(e2) == "complete"


def _interrupted_at(world, at: str, how: str, args: list):
    """mambaboot args, stopped as the run reaches `at`: a Ctrl-C (SIGINT to it alone, handled by the
    run) or SIGKILL of its process group (settled by the next run of the place)."""
    return killed_at(world, at, args, {"KILLPOINT_SIGNAL": "INT"} if how == "Ctrl-C" else None)


def _as_it_was(prefix: Path) -> dict:
    """The environment's files, kinds and modes, but for the bytecode its own python writes when it
    runs (verification runs it) and the mark a run under way leaves."""
    return {k: v for k, v in snapshot(prefix).items() if "__pycache__" not in k and not k.endswith(MARK)}


def _work_for_an_adopt(src: Path) -> tuple:
    """What an adopt run on src (a move's at its destination too) changes again: a setting the user
    took out of .condarc, a variable out of conda-meta/state (both made private), the root hooks the
    user deleted. (.condarc, conda-meta/state)."""
    rc = src / ".condarc"
    rc.write_bytes(b"".join(line for line in rc.read_bytes().splitlines(True) if b"channel_notices" not in line))
    rc.chmod(0o600)
    state = src / "conda-meta" / "state"
    variables = json.loads(state.read_bytes())["env_vars"]
    state.write_text(json.dumps({"env_vars": dict(list(variables.items())[1:])}))
    state.chmod(0o640)
    # the activation scripts as that state says (a move writes them anew from the state it puts back)
    from mambaboot.shell.activation import generate

    generate.write(str(src), False)
    hooks = sorted((src / "etc" / "conda" / "activate.d").glob("*mambaboot*"))
    assert hooks
    for hook in hooks:
        hook.unlink()
    return rc, state


def _as_before_its_re_adopt(dst: Path, before: dict, kept: dict, record: bytes) -> None:
    """dst byte and mode as before (kept: .condarc and conda-meta/state as they were), the record too,
    and no root hook the user deleted."""
    assert _as_it_was(dst) == before
    assert (dst / ".mambaboot" / "record.json").read_bytes() == record, "the record as it was"
    assert {p: (p.read_bytes(), p.stat().st_mode) for p in kept} == kept, ".condarc and conda-meta/state as they were"
    assert not any((dst / "etc" / "conda" / "activate.d").glob("*mambaboot*")), "no root hook the user deleted"


def _finished_and_re_adopted(world, dst: Path) -> None:
    """dst's re-adopt finished: what it wrote kept, its snapshot dropped, dst complete."""
    assert not list((dst / ".mambaboot").glob("*-undo")), "the re-adopt's snapshot dropped"
    assert b"number_channel_notices" in (dst / ".condarc").read_bytes()
    assert "PYTHONNOUSERSITE" in json.loads((dst / "conda-meta" / "state").read_bytes())["env_vars"]
    assert list((dst / "etc" / "conda" / "activate.d").glob("*mambaboot*"))
    listed = world.run("list", "--json", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache))
    assert [e["state"] for e in json.loads(listed.stdout)["environments"]] == ["complete"], listed.stdout


@pytest.mark.parametrize("how", ["Ctrl-C", "kill"])
@pytest.mark.parametrize("operation", ["move", "re-adopt"])
def test_put_back_during_verification_is_as_it_was(world, made_env, operation, how):
    """A move, or an adopt of an environment mambaboot manages, stopped while it verifies the
    environment: put back (by its own failure path for a Ctrl-C, by the next run of the place for a
    kill), the record says what it said (complete stays complete), and its files and their modes are
    what they were (one made private by the user stays so), .condarc, conda-meta/state and the
    root hooks among them: a move's re-adopt saves its snapshot in the place under the move's
    token, put back by the move's rows of the table that settles a kill."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    cache = ["--cache-dir", str(world.cache)]
    assert world.run("adopt", str(src), *cache).returncode == 0  # its files name where it is now
    rc, state = _work_for_an_adopt(src)
    kept = {p: (p.read_bytes(), p.stat().st_mode) for p in (rc, state)}
    if operation == "re-adopt":  # a move writes the activation scripts anew where it puts them back
        (src / ".mambaboot" / "activate.sh").chmod(0o600)
    record_before = (src / ".mambaboot" / "record.json").read_bytes()
    assert json.loads(record_before)["state"] == "complete"
    before = _as_it_was(src)
    args = ["move", str(src), str(dst), *cache] if operation == "move" else ["adopt", str(src), *cache]
    stopped = _interrupted_at(world, "verify.result+0", how, args)
    assert stopped.returncode == (130 if how == "Ctrl-C" else -9), (stopped.returncode, stopped.stderr)
    if how == "kill":  # the next run of the place settles it (a remove answered n changes nothing else)
        code, err = _remove_answered(world, b"n\n", str(src))
        assert "Traceback" not in err, err
    assert not dst.exists()
    assert json.loads((src / ".mambaboot" / "record.json").read_bytes()) == json.loads(record_before), \
        "the record as it was"
    _as_before_its_re_adopt(src, before, kept, record_before)
    listed = world.run("list", "--json", "--envs-dir", str(world.envs), *cache)
    assert [e["state"] for e in json.loads(listed.stdout)["environments"]] == ["complete"], listed.stdout


@pytest.mark.parametrize("at", ["adoptundo._save+0", "finish._write_condarc+0", "placelock.stage:verified+done"])
def test_a_move_killed_in_its_re_adopt_is_put_back_or_finished(world, made_env, at):
    """A move SIGKILLed in the adopt it runs at its destination: saving its snapshot (nothing
    changed yet), writing, or once verified. The next run of the place (a remove answered n) puts it
    back (.condarc, conda-meta/state, root hooks and every other file as they were, byte and mode)
    or finishes it (the re-adopt's changes kept); either way no snapshot is left behind."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    cache = ["--cache-dir", str(world.cache)]
    assert world.run("adopt", str(src), *cache).returncode == 0
    rc, state = _work_for_an_adopt(src)
    before = _as_it_was(src)
    stopped = killed_at(world, at, ["move", str(src), str(dst), *cache])
    assert stopped.returncode == -9, (stopped.returncode, stopped.stderr)
    finished = at.startswith("placelock.stage:verified")
    code, err = _remove_answered(world, b"n\n", str(dst if finished else src))
    assert "Traceback" not in err, err
    if not finished:
        assert not dst.exists()
        assert _as_it_was(src) == before
        return
    assert not src.exists()
    _finished_and_re_adopted(world, dst)


def _a_killed_move_to_finish(world, made_env) -> tuple:
    """x moved to y by a move SIGKILLed as its intent said verified (x gone, y complete, the intent
    left in both locks for the next `move x y` to finish), then y changed as the user may change it
    (what its re-adopt writes again: .condarc and conda-meta/state made private, a variable and a
    setting taken out, the root hooks deleted, an activation script made private): (x, y, y before
    that re-adopt, (.condarc, conda-meta/state) of y). y before it: what the next run leaves of the
    killed move (its snapshot and its mark dropped as it is finished) and nothing else."""
    src, dst = copy_env(made_env, world.envs / "x"), world.envs / "y"
    cache = ["--cache-dir", str(world.cache)]
    assert world.run("adopt", str(src), *cache).returncode == 0
    stopped = killed_at(world, "placelock.stage:verified+done", ["move", str(src), str(dst), *cache])
    assert stopped.returncode == -9, (stopped.returncode, stopped.stderr)
    assert not src.exists() and _intent(dst)["stage"] == "verified"
    rc, state = _work_for_an_adopt(dst)
    (dst / ".mambaboot" / "activate.sh").chmod(0o600)
    before = {k: v for k, v in _as_it_was(dst).items() if "-undo" not in k}
    return src, dst, before, (rc, state)


@pytest.mark.parametrize("at, then", [("adoptundo._save+0", "remove"), ("finish._write_condarc+0", "remove"),
                                      ("finish._write_condarc+0", "move"), ("placelock.stage:verified+done", "remove")])
def test_a_move_finishing_a_killed_one_killed_in_its_re_adopt_is_put_back_or_finished(world, made_env, at, then):
    """`move x y` again after a move of x to y killed once it verified finishes it: it adopts y
    again, its snapshot saved in y under its own token and its intent saying so first. SIGKILLed
    in that re-adopt (saving its snapshot, writing, or once it verified), the next run of the place
    puts y back by the move rows of the table that settles a kill, byte and mode (the record dir's
    files, .condarc, conda-meta/state, the root hooks) as it was before that re-adopt, or finishes
    it (its changes kept); `move x y` once more puts it back and finishes the move. No snapshot is
    left behind either way."""
    src, dst, before, kept_files = _a_killed_move_to_finish(world, made_env)
    kept = {p: (p.read_bytes(), p.stat().st_mode) for p in kept_files}
    record = (dst / ".mambaboot" / "record.json").read_bytes()
    cache = ["--cache-dir", str(world.cache)]
    stopped = killed_at(world, at, ["move", str(src), str(dst), *cache])
    assert stopped.returncode == -9, (stopped.returncode, stopped.stderr)
    finished = at.startswith("placelock.stage:verified")
    if at.startswith("finish."):
        assert {k: v for k, v in _as_it_was(dst).items() if "-undo" not in k} != before, "the kill left it half done"
    if then == "move":
        again = world.run("move", str(src), str(dst), *cache)
        assert again.returncode == 0 and f"put back {dst}" in again.stderr, again.stderr
        assert not src.exists() and not _lock(dst).exists() and not _lock(src).exists()
        return _finished_and_re_adopted(world, dst)
    listed = world.run("list", "--envs-dir", str(world.envs), *cache)  # names what settles it, changes nothing
    assert listed.returncode == 0 and f"a move of {src} to {dst} did not finish" in listed.stderr, listed.stderr
    assert "`mambaboot doctor --settle " in listed.stderr, listed.stderr
    code, err = _remove_answered(world, b"n\n", str(dst))
    assert "Traceback" not in err, err
    assert not src.exists() and not _lock(dst).exists(), err
    assert not list((dst / ".mambaboot").glob("*-undo")), "the re-adopt's snapshot dropped"
    if finished:
        return _finished_and_re_adopted(world, dst)
    _as_before_its_re_adopt(dst, before, kept, record)


@pytest.mark.parametrize("how", ["Ctrl-C", "verification fails"])
def test_a_move_finishing_a_killed_one_that_fails_in_its_re_adopt_is_put_back_by_the_table(world, made_env, how):
    """The same re-adopt stopped by a Ctrl-C as it verifies, or failing its verification (the
    user's mamba broken there): its own failure path puts y back as it was before it (byte and
    mode), by the row of the table that settles a kill at that point, says so, and leaves no
    intent and no snapshot."""
    src, dst, before, kept_files = _a_killed_move_to_finish(world, made_env)
    if how == "verification fails":
        (dst / "bin" / "mamba").write_text('#!/bin/sh\necho "no" >&2\nexit 3\n')
        before = {k: v for k, v in _as_it_was(dst).items() if "-undo" not in k}
    kept = {p: (p.read_bytes(), p.stat().st_mode) for p in kept_files}
    record = (dst / ".mambaboot" / "record.json").read_bytes()
    args = ["move", str(src), str(dst), "--cache-dir", str(world.cache)]
    stopped = _interrupted_at(world, "verify.result+0", how, args) if how == "Ctrl-C" else world.run(*args)
    assert stopped.returncode == (130 if how == "Ctrl-C" else 7), (stopped.returncode, stopped.stderr)
    assert f"put back {dst}" in stopped.stderr, stopped.stderr
    assert not _lock(dst).exists() and not _lock(src).exists()
    assert not list((dst / ".mambaboot").glob("*-undo")), "the re-adopt's snapshot dropped"
    _as_before_its_re_adopt(dst, before, kept, record)


@pytest.mark.parametrize("at", ["finish._write_env_vars+0", "finish._write_condarc+0", "verify.result+0"])
def test_a_killed_adopt_of_a_managed_environment_is_put_back_as_it_was(world, made_env, at):
    """An adopt of an environment mambaboot manages, SIGKILLed while it writes or verifies: the next
    run of the place (a remove answered n) puts back what it changed by the snapshot it saved in the
    place (environment/adoptundo.py, through settle.py's adopt rows), as its own failure would: every
    file's bytes and mode as they were (.condarc and a script made private by the user, the record,
    a root hook the user deleted not added), the user's own file in the record dir kept, the
    snapshot and the intent gone."""
    src = copy_env(made_env, world.envs / "x")
    cache = ["--cache-dir", str(world.cache)]
    assert world.run("adopt", str(src), *cache).returncode == 0
    (src / ".condarc").chmod(0o600)
    (src / ".mambaboot" / "activate.sh").chmod(0o600)
    (src / ".mambaboot" / "notes.txt").write_bytes(b"the user's own\n")
    (src / ".mambaboot" / "notes.txt").chmod(0o640)
    hooks = sorted((src / "etc" / "conda" / "activate.d").glob("*mambaboot*"))
    for hook in hooks:
        hook.unlink()
    before = _as_it_was(src)
    stopped = killed_at(world, at, ["adopt", str(src), *cache])
    assert stopped.returncode == -9, (stopped.returncode, stopped.stderr)
    assert _as_it_was(src) != before, "the kill left the adopt half done"
    code, err = _remove_answered(world, b"n\n", str(src))
    assert "Traceback" not in err, err
    assert _as_it_was(src) == before
    assert not _lock(src).exists(), sorted(p.name for p in src.parent.iterdir())
    listed = world.run("list", "--json", "--envs-dir", str(world.envs), *cache)
    assert [e["state"] for e in json.loads(listed.stdout)["environments"]] == ["complete"], listed.stdout


def test_an_activations_new_text_is_collected_once_its_writer_is_gone(world, made_env):
    """An activation rewrites its fragments under no lock of the place (shell/activation/envvars.py),
    holding a lock on each new file while it exists: the next run holding the place's lock (a remove
    answered n) deletes the one a killed writer left (its lock free) and keeps one a live writer holds."""
    import fcntl

    prefix = copy_env(made_env, world.envs / "x")
    killed = prefix / ".mambaboot" / f".activate.sh.mambaboot-tmp-{'a' * 32}-activation"
    live = prefix / ".mambaboot" / f".activate.fish.mambaboot-tmp-{'b' * 32}-activation"
    killed.write_bytes(b"half of a fragment\n")
    live.write_bytes(b"a fragment being written\n")
    with open(live, "rb") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the live writer holds it
        code, err = _remove_answered(world, b"n\n", str(prefix))
        assert "Traceback" not in err, err
        assert not killed.exists(), err
        assert live.read_bytes() == b"a fragment being written\n"
    assert (prefix / ".mambaboot" / "record.json").exists()


def test_an_activation_holds_the_lock_on_its_new_text_until_it_is_renamed(tmp_path, monkeypatch):
    """The writer's side of that proof: each new fragment is locked from before its first byte
    until it is renamed over its file, so a run of the place never takes a live writer's for dead."""
    from mambaboot.common.files import filelock
    from mambaboot.shell.activation import envvars

    (tmp_path / ".mambaboot").mkdir()
    held, real = [], os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (held.append(filelock.held(src)), real(src, dst)))
    envvars.write(str(tmp_path), {"env_vars.sh": b"export A=1\n", "env_vars.fish": b"set -gx A 1\n"})
    assert held == [True, True]
    assert sorted(p.name for p in (tmp_path / ".mambaboot").iterdir()) == ["env_vars.fish", "env_vars.sh"]


@pytest.mark.parametrize("operation", ["adopt", "move"])
@pytest.mark.parametrize("mark", ["another token's", "none", "copied in"])
def test_an_adopts_snapshot_that_does_not_prove_itself_is_never_put_back(world, made_env, mark, operation):
    """A killed adopt's intent (stage adopting), or a killed move's that was adopting its
    destination again (stage re-adopting), and a snapshot in the place whose manifest says the
    record dir was not there before (putting it back would delete it): without the mark of the
    intent's token for the snapshot's role, written in that very directory, nothing is read or
    put back; the next run of the place names it (exit 4) and the intent stays."""
    prefix = copy_env(made_env, world.envs / "x")
    token = "c" * 32
    saved = prefix / ".mambaboot" / f"mambaboot-tmp-{token}-undo"  # the one temporary name's form (tempname.temp_name)
    saved.mkdir()
    (saved / "manifest.json").write_text(json.dumps({  # no ".mambaboot" among its files: the record dir was not there
        "windows": False, "link": None, "empty_pkgs": False, "hooks": [], "files": {}}))
    if mark == "another token's":
        st = os.stat(saved)
        (saved / MARK).write_text(f"mambaboot-claim {'d' * 32} undo {st.st_dev}:{st.st_ino}\n")
    elif mark == "copied in":  # the identity of another directory: a copy of a marked tree
        st = os.stat(prefix)
        (saved / MARK).write_text(f"mambaboot-claim {token} undo {st.st_dev}:{st.st_ino}\n")
    stage = "adopting" if operation == "adopt" else "re-adopting"
    body = {"tool": "mambaboot", "pid": 1, "operation": operation, "token": token, "stage": stage,
            "place1": str(prefix)}
    if operation == "move":  # `move gone x` run again, finishing a killed move of gone to x
        gone = world.envs / "gone"
        body.update({"from": str(gone), "to": str(prefix), "old": str(prefix), "how": "finished", "place2": str(gone)})
    _lock(prefix).write_text(json.dumps(body))
    if operation == "move":  # a move's intent is in the lock of both its places
        _lock(gone).write_text(json.dumps(body))
    before = snapshot(prefix)
    if operation == "adopt":
        r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
        code, err = r.returncode, r.stderr
    else:  # the runs that settle a killed move: a remove answered n
        code, err = _remove_answered(world, b"n\n", str(prefix))
    assert code == 4 and str(saved) in err, (code, err)
    assert snapshot(prefix) == before
    assert _intent(prefix)["stage"] == stage


def test_the_old_environment_a_create_force_set_aside_is_part_of_its_place_until_it_is_back(world, made_env, channel,
                                                                                             standin, fault_standin):
    """A create --force killed while its engine writes the place: the old environment, set aside
    under the run's token, is no environment of its own while the intent names it (`list` names it
    as the old environment of the unfinished create; remove, move, pack and adopt of it refuse,
    naming the place and the command that settles it). What the engine wrote proves nothing: no run
    renames or deletes it; the next create names it with both commands, and once the user deleted it
    as advised, `doctor --settle` puts the old environment back."""
    prefix = copy_env(made_env, world.envs / "x")
    (prefix / SENTINEL).write_text("the old environment\n")
    # held by the stand-in in every mode (only it blocks on the FIFO); the settling runs on the engine
    left = _killed_while_the_engine_runs(world, prefix, channel, fault_standin, world.root.parent / "fifo", "--force")
    aside = Path(left["aside"])
    assert (aside / SENTINEL).is_file(), left
    r = world.run("list", "--envs-dir", str(world.envs))
    assert r.returncode == 0 and aside.name not in r.stdout and f"old environment of {prefix} is kept at {aside}" in r.stderr, r
    listed = json.loads(world.run("list", "--json", "--envs-dir", str(world.envs), str(aside)).stdout)["environments"]
    assert str(aside) not in [e["prefix"] for e in listed], listed
    for args in (["remove", str(aside), "--yes", "--force"], ["move", str(aside), str(world.envs / "y")],
                 ["pack", str(aside), "-o", str(world.root / "out.tar.gz")], ["adopt", str(aside)]):
        r = world.run(*args)
        assert r.returncode == 4 and f"old environment of {prefix}" in r.stderr, (args, r.stderr)
        assert f"mambaboot doctor --settle {prefix}" in r.stderr and (aside / SENTINEL).is_file(), (args, r.stderr)
    args = ["create", "--prefix", str(prefix), "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)]
    r = world.run(*args)
    assert r.returncode == 4 and f"`rm -rf {prefix}`" in r.stderr and f"`mambaboot doctor --settle {prefix}`" in r.stderr
    assert (prefix / "conda-meta").is_dir() and (aside / SENTINEL).is_file(), r.stderr
    shutil.rmtree(prefix)  # as advised: what the engine wrote, deleted by hand
    r = world.run("doctor", "--settle", str(prefix))
    assert r.returncode == 0 and (prefix / SENTINEL).is_file(), r.stdout + r.stderr
    assert not aside.exists() and not _lock(prefix).exists(), sorted(p.name for p in prefix.parent.iterdir())
    r = world.run(*args, "--force")
    assert r.returncode == 0 and not (prefix / SENTINEL).exists() and not aside.exists(), r.stderr


def test_list_and_doctor_advise_for_a_create_killed_in_its_engine_only_what_settles_it(world, channel, standin,
                                                                                        fault_standin):
    """A plain create killed while its engine wrote the place: nothing there proves it is that
    create's, so the next create is refused there; `list` and `doctor` name what clears it by
    hand, never that refused create as what settles it."""
    prefix = world.envs / "x"
    _killed_while_the_engine_runs(world, prefix, channel, fault_standin, world.root.parent / "fifo")
    for args in (["list", "--envs-dir", str(world.envs)], ["doctor", "--envs-dir", str(world.envs)]):
        r = world.run(*args)
        said = r.stdout + r.stderr
        assert "create --prefix" not in said and f"rm -rf {prefix}" in said and str(_lock(prefix)) in said, said
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and f"rm -rf {prefix}" in r.stderr, r.stderr
