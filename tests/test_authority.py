"""Authority comes from the target: a journal, pointer or note names places, it never makes
mambaboot delete, rename or rewrite them. Each lie here is one an attacker can write (an
environment received from someone else, a shared cache), with the identities the victim's
directories really have; each command runs on it through `mambaboot`, and the victim's
directory stays as it was."""

import json
import os
from pathlib import Path

import pytest

from mambaboot.common.files import fsops, proof
from tests.conftest import copy_env
from tests.support.snapshot import snapshot

TOKEN = "ab" * 16  # the attacker's token: they may write it anywhere they can write


def _identity(path: Path) -> list:
    st = os.lstat(path)
    return [st.st_dev, st.st_ino]


def _project(world) -> Path:
    """A directory of the user's that a lying file names."""
    project = world.home / "my-project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    (project / "notes.txt").write_text("years of work\n")
    return project


def _journal(where: Path, **fields) -> None:
    (where / ".mambaboot").mkdir(exist_ok=True)
    (where / ".mambaboot" / "moving.json").write_text(json.dumps({"tool": "mambaboot", **fields}))


def _attacker_mark(where: Path) -> None:
    """The mark an attacker can write in a directory of their own: right token, right identity."""
    dev, ino = _identity(where)
    (where / proof.MARK).write_text(f"mambaboot-claim {TOKEN} {proof.SOURCE} {dev}:{ino}\n")


def _received(world, made_env, project: Path, mark: bool = True, **fields) -> Path:
    """An environment received from someone else, whose journal calls the user's project the
    verified copy's source."""
    env = copy_env(made_env, world.envs / "received")
    journal = {"from": str(project), "to": str(env), "old": str(project), "how": "copied", "stage": "verified",
               "source": _identity(project), "copy": _identity(env), "token": TOKEN}
    journal.update(fields)
    _journal(env, **journal)
    if mark:
        _attacker_mark(env)
    return env


def _everything(world) -> dict:
    return {"root": snapshot(world.root), "cache": snapshot(world.cache) if world.cache.exists() else {}}


def test_a_pointer_in_a_shared_cache_never_deletes_through_list(world, made_env):
    project = _project(world)
    attacker = world.root / "attacker"
    attacker.mkdir()
    (attacker / "conda-meta").mkdir()
    _journal(attacker, **{"from": str(project), "to": str(attacker), "old": str(project), "how": "copied",
                          "stage": "verified", "source": _identity(project), "token": TOKEN})
    _attacker_mark(attacker)
    (world.cache / "moving").mkdir(parents=True)
    (world.cache / "moving" / (fsops.path_key(str(project)) + ".json")).write_text(json.dumps(
        {"tool": "mambaboot", "prefix": str(project), "from": str(project), "to": str(attacker)}))
    before = _everything(world)
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert _everything(world) == before
    r = world.run("remove", str(project), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 4 and (project / "notes.txt").exists(), r.stderr


@pytest.mark.parametrize("lie", [{"copy": 5, "stage": "rewriting"}, {"old": "/", "how": "renamed", "stage": "rewriting"}])
@pytest.mark.parametrize("command", ["list", "remove", "move"])
def test_a_journal_of_the_wrong_shape_is_no_journal_and_never_exit_1(world, made_env, lie, command):
    project = _project(world)
    env = copy_env(made_env, world.envs / "received")
    fields = {"from": str(project), "to": str(env), "old": str(project), "how": "copied", "stage": "verified",
              "source": _identity(project), "token": TOKEN, **lie}
    _journal(env, **fields)
    _attacker_mark(env)
    args = {"list": ["list", "--envs-dir", str(world.envs)],
            "remove": ["remove", str(env), "--yes"],
            "move": ["move", str(env), str(world.envs / "elsewhere")]}[command]
    r = world.run(*args, "--cache-dir", str(world.cache))
    assert r.returncode not in (1,) and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert (project / "notes.txt").exists()


def _settling(world, command: str, env: Path, elsewhere: Path, channel, standin):
    """Run one of the commands that settle what a killed run left at env (move: to elsewhere)."""
    args = {"remove": ["remove", str(env), "--yes", "--cache-dir", str(world.cache)],
            "move": ["move", str(env), str(elsewhere), "--cache-dir", str(world.cache)],
            "create --force": ["create", "-q", "--force", "--prefix", str(env), "--cache-dir", str(world.cache),
                               "-c", channel, "--micromamba", str(standin)]}[command]
    return world.run(*args)


def test_a_received_moved_away_note_never_deletes_the_environment_it_is_in(world, made_env, channel, standin):
    """A killed move's source, half deleted in place: finished only when it carries the move's mark."""
    other = copy_env(made_env, world.envs / "other")
    env = copy_env(made_env, world.envs / "received")
    (env / ".mambaboot" / "moved-away.json").write_text(json.dumps(
        {"tool": "mambaboot", "from": str(env), "to": str(other), "token": TOKEN}))
    tree = snapshot(env)
    r = world.create("-q", "--prefix", str(env), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4, r.stderr  # it exists, and is not deleted on a note's word
    assert snapshot(env) == tree


def test_an_unmarked_partial_copy_is_left_alone(world, made_env, channel, standin):
    """A sibling named as a move's copy, holding an unheld note, but no mark: left as it is."""
    prefix = world.envs / "target"
    partial = world.envs / f".target.mambaboot-tmp-{TOKEN}-copy"
    partial.mkdir()
    (partial / "data.txt").write_text("someone's\n")
    (partial / ".mambaboot-partial-copy").write_text(json.dumps(
        {"tool": "mambaboot", "source": str(made_env), "destination": str(prefix), "token": TOKEN}))
    tree = snapshot(partial)
    r = world.create("-q", "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert snapshot(partial) == tree


def _hostile(world, made_env) -> dict:
    """A tree that lies in every file a read-only command reads: a received environment whose
    journal calls the user's project a verified copy's source, a pointer in the cache leading to
    it, a moved-away note, a partial copy and an old --force copy with notes of ours, a stale-looking
    private home, a journal of the wrong shape. Returns the places the commands are given."""
    project = _project(world)
    env = _received(world, made_env, project)
    (env / ".mambaboot" / "moved-away.json").write_text(json.dumps(
        {"tool": "mambaboot", "from": str(env), "to": str(made_env), "token": TOKEN}))
    (world.cache / "moving").mkdir(parents=True)
    (world.cache / "moving" / (fsops.path_key(str(project)) + ".json")).write_text(json.dumps(
        {"tool": "mambaboot", "prefix": str(project), "from": str(project), "to": str(env)}))
    _lying_intent(world, project)
    partial = world.envs / f".received.mambaboot-tmp-{TOKEN}-copy"
    copy_env(made_env, partial)
    (partial / ".mambaboot-partial-copy").write_text(json.dumps(
        {"tool": "mambaboot", "source": str(project), "destination": str(env), "token": TOKEN}))
    old = copy_env(made_env, world.envs / f".received.mambaboot-tmp-{TOKEN}-old")
    _attacker_mark(old)
    home = world.cache / "tmp" / f"mambaboot-tmp-{TOKEN}-home"
    (home / "tmp").mkdir(parents=True)
    (home / ".mambaboot-home").write_text("")
    _attacker_mark(home)
    (world.cache / "tmp" / f"mambaboot-tmp-{TOKEN}-home.lock").write_text(TOKEN)
    bad = copy_env(made_env, world.envs / "bad")
    _journal(bad, **{"from": "/", "to": str(bad), "old": "/", "how": "renamed", "stage": "rewriting",
                     "copy": 5, "token": TOKEN})
    return {"project": project, "env": env, "bad": bad}


READ_ONLY = {
    "list": lambda w, p: ["list", "--envs-dir", str(w.envs), "--cache-dir", str(w.cache), str(p["project"])],
    "list --size --json": lambda w, p: ["list", "--size", "--json", "--envs-dir", str(w.envs),
                                        "--cache-dir", str(w.cache)],
    "audit": lambda w, p: ["audit", str(p["env"])],
    "audit (bad journal)": lambda w, p: ["audit", str(p["bad"])],
    "cache info": lambda w, p: ["cache", "info", "--cache-dir", str(w.cache)],
    "doctor": lambda w, p: ["doctor", str(p["env"]), str(p["bad"])],
    "lock": lambda w, p: ["lock", str(p["env"]), "-o", str(w.tmp / "env.lock")],
}


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_read_only_commands_change_nothing_on_a_lying_tree(world, made_env, command):
    places = _hostile(world, made_env)
    output = world.tmp / "env.lock"
    before = snapshot(world.root, exclude=[output]), snapshot(world.cache)
    r = world.run(*READ_ONLY[command](world, places), cwd=world.home)
    assert r.returncode != 1 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert (snapshot(world.root, exclude=[output]), snapshot(world.cache)) == before, r.stderr


def test_an_old_copy_without_the_mark_of_its_create_force_is_left_alone(world, made_env):
    """Named as create --force names the old environment it sets aside, holding a record of
    ours, beside an environment that verified: deleted only with the mark whose token the intent
    of the create --force that set it aside holds; with no such intent, nothing even looks at it."""
    prefix = copy_env(made_env, world.envs / "x")
    old = copy_env(made_env, world.envs / f".x.mambaboot-tmp-{TOKEN}-old")
    (old / "mine.txt").write_text("someone's\n")
    tree = snapshot(old)
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert snapshot(old) == tree


def _lying_intent(world, place: Path, pid: int = 1, stage: str = "finishing", aside: Path = None) -> Path:
    """An intent beside place, as a killed create leaves it (environment/placelock.py), with the
    liar's token: a create that made place and had its engine done, set aside at `aside`."""
    intent = place.parent / f".{place.name}.mambaboot-lock"
    body = {"tool": "mambaboot", "operation": "create", "pid": pid, "token": TOKEN, "stage": stage, "made": "1",
            "place1": str(place)}
    if aside is not None:
        body["aside"] = str(aside)
    intent.write_text(json.dumps(body))
    return intent


def test_a_lying_intent_does_not_make_force_replace_a_users_directory(world, channel, standin):
    """--force replaces only environments mambaboot created: an intent beside a directory of the
    user's is no proof that an interrupted create made it."""
    project = _project(world)
    _lying_intent(world, project)
    tree = snapshot(project)
    r = world.create("--prefix", str(project), "--force", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "nothing in it proves which, so nothing was deleted" in r.stderr, r.stderr
    assert snapshot(project) == tree


@pytest.mark.parametrize("stage", ["set-aside", "engine", "finishing", "verified"])
def test_a_lying_intent_and_a_planted_old_copy_do_not_delete_a_users_directory(world, channel, standin, stage):
    """A killed --force's old copy is put back only over what that run left: an intent naming the
    user's directory and an 'old copy' beside it, carrying the liar's own mark, are no such run."""
    project = _project(world)
    planted = project.parent / f".{project.name}.mambaboot-tmp-{TOKEN}-old"
    _lying_intent(world, project, stage=stage, aside=planted)
    (planted / ".mambaboot").mkdir(parents=True)
    (planted / ".mambaboot" / "record.json").write_text(json.dumps({"tool": "mambaboot", "state": "complete"}))
    _attacker_mark(planted)
    tree, planted_tree = snapshot(project), snapshot(planted)
    r = world.create("--prefix", str(project), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert snapshot(project) == tree, r.stderr
    # the planted copy carries its writer's mark: who wrote it there could delete it as well
    assert snapshot(planted) == planted_tree or stage == "verified" and not planted.exists(), r.stderr


@pytest.mark.parametrize("pid", ["pid 1", "this test's pid", "a dead pid"])
def test_an_intent_naming_a_project_with_any_pid_changes_nothing_there(world, channel, standin, pid):
    """Alive or not, a pid is no proof of anything: the project is neither busy nor ours, for
    every command that reads the intents; the intent, not settled, stays."""
    project = _project(world)
    marker = _lying_intent(world, project, {"pid 1": 1, "this test's pid": os.getpid(),
                                            "a dead pid": (1 << 22) + 1}[pid])
    world.cache.mkdir(exist_ok=True)  # a cache in use
    tree = snapshot(project)
    for command in (["list", "--envs-dir", str(project.parent), "--cache-dir", str(world.cache)],
                    ["cache", "info", "--cache-dir", str(world.cache)],
                    ["cache", "clean", "--cache-dir", str(world.cache)],
                    ["create", "--prefix", str(project), "--cache-dir", str(world.cache), "-c", channel,
                     "--micromamba", str(standin)]):
        r = world.run(*command)
        assert r.returncode in (0, 4) and "Traceback" not in r.stderr, (command, r.returncode, r.stderr)
        assert snapshot(project) == tree, command
    assert r.returncode == 4 and "nothing in it proves which, so nothing was deleted" in r.stderr, r.stderr
    assert marker.exists()


# Named as what a killed remove, or a killed move deleting its source, leaves beside an
# environment: finished only when the directory carries the mark of the run that set it aside.
NAMED_TOKEN = "0123456789ab" + "cd" * 10  # the name's token: only the mark's place is wrong
SIBLINGS = {"removing": f".x.mambaboot-tmp-{NAMED_TOKEN}-removing", "moved-away": f".x.mambaboot-tmp-{NAMED_TOKEN}-source"}
ROLES = {"removing": proof.REMOVING, "moved-away": proof.SOURCE}  # the role of the mark each would carry


def _named_sibling(world, made_env, kind: str, mark: str) -> tuple:
    """An environment x, and beside it a directory of the user's named as `kind` names it. mark:
    "none", or "copied" (a mark of NAMED_TOKEN written in another directory, copied in; a
    moved-away one also holds a note of ours with that token)."""
    prefix = copy_env(made_env, world.envs / "x")
    sibling = world.envs / SIBLINGS[kind]
    (sibling / "src").mkdir(parents=True)
    (sibling / "src" / "main.py").write_text("print('mine')\n")
    (sibling / "notes.txt").write_text("years of work\n")
    if kind == "moved-away":
        (sibling / ".mambaboot").mkdir()
        (sibling / ".mambaboot" / "moved-away.json").write_text(json.dumps(
            {"tool": "mambaboot", "from": str(prefix), "to": str(made_env), "token": NAMED_TOKEN}))
    if mark == "copied":
        elsewhere = world.root / "elsewhere"
        elsewhere.mkdir()
        dev, ino = _identity(elsewhere)
        (elsewhere / proof.MARK).write_text(f"mambaboot-claim {NAMED_TOKEN} {ROLES[kind]} {dev}:{ino}\n")
        (sibling / proof.MARK).write_bytes((elsewhere / proof.MARK).read_bytes())
    return prefix, sibling


@pytest.mark.parametrize("mark", ["none", "copied"])
@pytest.mark.parametrize("kind", sorted(SIBLINGS))
@pytest.mark.parametrize("command", ["remove", "create --force", "move"])
def test_a_directory_named_as_a_killed_removal_leaves_is_left_alone_without_its_mark(
        world, made_env, channel, standin, command, kind, mark):
    prefix, sibling = _named_sibling(world, made_env, kind, mark)
    tree = snapshot(sibling)
    r = _settling(world, command, prefix, world.envs / "y", channel, standin)
    assert sibling.is_dir() and snapshot(sibling) == tree, r.stderr
    assert r.returncode == 0, r.stderr  # found only through its run's intent: a name, or a note in it, is nothing


@pytest.mark.parametrize("command", ["remove", "create --force", "move"])
def test_a_directory_named_and_marked_as_a_killed_remove_leaves_is_not_deleted_without_its_intent(
        world, made_env, channel, standin, command):
    """A directory of the user's named as remove sets an environment aside, carrying a mark its
    writer made in it (its own identity, the name's token): no intent
    names it, so no run finishes deleting it."""
    prefix, sibling = _named_sibling(world, made_env, "removing", "none")
    dev, ino = _identity(sibling)
    (sibling / proof.MARK).write_text(f"mambaboot-claim {NAMED_TOKEN} {proof.REMOVING} {dev}:{ino}\n")
    tree = snapshot(sibling)
    r = _settling(world, command, prefix, world.envs / "y", channel, standin)
    assert r.returncode == 0, r.stderr
    assert sibling.is_dir() and snapshot(sibling) == tree, r.stderr


def test_remove_of_a_place_that_is_gone_never_finishes_a_directory_without_the_mark(world, made_env):
    """Nothing at PREFIX, a directory of the user's named as a killed remove of PREFIX names
    its remnant: named, left alone, and no "removed" (PREFIX does not exist)."""
    prefix, sibling = _named_sibling(world, made_env, "removing", "copied")
    os.rename(prefix, world.root / "kept")
    tree = snapshot(sibling)
    r = world.run("remove", str(prefix), "--yes", "--json", "--cache-dir", str(world.cache))
    assert sibling.is_dir() and snapshot(sibling) == tree, r.stderr
    assert r.returncode not in (0, 1) and "does not exist" in r.stderr, (r.returncode, r.stderr)
