"""The confined file layer, through the command: no write or delete through a link inside an
environment, a cache or a home; no write through a hard link shared with the package cache; no
delete across a mount point; no wait on a fifo; no path read from a file that leads outside."""

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import copy_env
from tests.support.snapshot import diff, snapshot

ROW = "confined layer: nothing written, deleted or waited on through a link, hard link, mount or fifo"
# Every command below must end well within this (a fifo opened for reading blocks forever).
BOUND = 60


def _env(world, made_env, name="env"):
    return copy_env(made_env, world.envs / name)


def _bounded(world):
    """world.run with BOUND as its time limit."""
    def run(*args):
        try:
            proc = subprocess.run([*world.command, *args], env=world.env, cwd=str(world.envs), capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL, timeout=BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"mambaboot {' '.join(args)} did not end within {BOUND} s: it waited on a fifo")
        return proc
    return run


def _shared_dir(world, name="shared"):
    shared = world.root / name
    shared.mkdir()
    (shared / "theirs.sh").write_text("echo theirs\n")
    return shared


def _no_traceback(r):
    assert "Traceback" not in r.stderr, r.stderr


def _held(reliability, ok: bool) -> bool:
    """The row's outcome: each test calls it last, after its other assertions, so that a pass is
    recorded only for a test that passed."""
    reliability.record(ROW, ok)
    return ok


# --------------------------------------------------------------------------- links inside an environment


def _linked_activate_d(world, made_env):
    """An environment whose etc/conda/activate.d is a link to a shared directory of the user's."""
    prefix = _env(world, made_env)
    shared = _shared_dir(world)
    hooks = prefix / "etc" / "conda" / "activate.d"
    if hooks.exists():
        shutil.rmtree(hooks)
    hooks.parent.mkdir(parents=True, exist_ok=True)
    hooks.symlink_to(shared)
    return prefix, shared, hooks


@pytest.mark.parametrize("command", ["activate-scripts", "adopt"])
def test_a_linked_activate_d_gets_nothing_written_into_it(world, made_env, command, reliability):
    prefix, shared, hooks = _linked_activate_d(world, made_env)
    before = snapshot(shared)
    r = world.run(command, str(prefix), *(["--cache-dir", str(world.cache)] if command == "adopt" else []))
    _no_traceback(r)
    assert r.returncode == 4, r.stderr
    assert str(hooks) in r.stderr and "link" in r.stderr
    assert _held(reliability, diff(before, snapshot(shared)) == {}), "written into the directory the link names"


def test_move_writes_nothing_into_a_linked_activate_d(world, made_env, reliability):
    prefix, shared, hooks = _linked_activate_d(world, made_env)
    before = snapshot(shared)
    moved = world.envs / "moved"
    r = world.run("move", str(prefix), str(moved))
    _no_traceback(r)
    # refused at the link, once it is inside the new place, and put back whole
    assert r.returncode == 4, r.stderr
    assert f"{moved / 'etc' / 'conda' / 'activate.d'} is a link" in r.stderr, r.stderr
    assert "put back" in r.stderr and hooks.is_symlink() and not moved.exists()
    assert _held(reliability, diff(before, snapshot(shared)) == {}), "written into the directory the link names"


def test_adopt_replaces_nothing_in_a_linked_record_directory(world, made_env, reliability):
    prefix = _env(world, made_env)
    mine = world.root / "mine"
    shutil.copytree(prefix / ".mambaboot", mine)
    (mine / "lock.txt").write_text("my own lock\n")
    shutil.rmtree(prefix / ".mambaboot")
    (prefix / ".mambaboot").symlink_to(mine)
    before = snapshot(mine)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    _no_traceback(r)
    assert r.returncode == 4, r.stderr
    assert _held(reliability, diff(before, snapshot(mine)) == {}), "the user's files behind the link were changed"


# --------------------------------------------------------------------------- links inside the cache


@pytest.mark.parametrize("kind", ["environments"])
def test_cache_clean_deletes_nothing_through_a_linked_notes_directory(world, kind, reliability):
    (world.cache).mkdir(parents=True, exist_ok=True)
    theirs = world.root / "theirs"
    theirs.mkdir()
    # A file shaped like a stale note: a prefix that does not exist.
    (theirs / "a.json").write_text(json.dumps({"prefix": str(world.root / "gone")}))
    (world.cache / kind).symlink_to(theirs)
    before = snapshot(theirs)
    r = world.run("cache", "clean", "--cache-dir", str(world.cache))
    _no_traceback(r)
    assert r.returncode == 0, r.stderr  # the linked directory is not the cache's: passed over, not an error
    assert _held(reliability, diff(before, snapshot(theirs)) == {}), "a file behind the link was deleted"


# --------------------------------------------------------------------------- a link in the home


def test_remove_leaves_a_linked_environments_txt_a_link(world, made_env, reliability):
    prefix = _env(world, made_env)
    dotfiles = world.root / "dotfiles"
    dotfiles.mkdir()
    listed = dotfiles / "environments.txt"
    listed.write_text(f"{prefix}\n/some/other/env\n")
    (world.home / ".conda").mkdir()
    link = world.home / ".conda" / "environments.txt"
    link.symlink_to(listed)
    r = world.run("remove", "--yes", str(prefix))
    _no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert not prefix.exists()
    assert _held(reliability, link.is_symlink() and os.readlink(link) == str(listed)), "the link was replaced by a copy"


# --------------------------------------------------------------------------- hard links shared with the cache


def test_a_condarc_hard_linked_from_the_cache_is_not_written_through(world, made_env, reliability):
    prefix = _env(world, made_env)
    (prefix / ".condarc").unlink(missing_ok=True)
    extracted = world.cache / "pkgs" / "some-pkg-1.0-0"
    extracted.mkdir(parents=True)
    shipped = extracted / ".condarc"
    shipped.write_text("channels:\n  - somewhere\n")
    os.link(shipped, prefix / ".condarc")  # as the installer links a package's files
    was = shipped.read_bytes()
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    _no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert os.stat(shipped).st_nlink == 1 and (prefix / ".condarc").read_bytes() != was
    assert _held(reliability, shipped.read_bytes() == was), "the package cache's file was rewritten through the hard link"


# --------------------------------------------------------------------------- a mount point inside


def _run_with_bind(world, source, point, *args):
    """mambaboot args run with source bind-mounted at point, in a private mount namespace (root's,
    else a user namespace's): the bind mount ends with the run."""
    namespace = ["unshare", "-m", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["-r"])
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    proc = subprocess.run(
        [*namespace, "sh", "-c", script, "sh", str(source), str(point), *world.command, *args],
        env=world.env, cwd=str(world.envs), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    _no_traceback(proc)
    return proc


def test_remove_refuses_an_environment_with_a_mount_inside_before_deleting_anything(world, made_env, tmp_path, reliability):
    prefix = _env(world, made_env)
    users = tmp_path / "users-data"
    users.mkdir()
    (users / "precious.txt").write_text("keep me\n")
    (prefix / "mnt").mkdir()
    inside = snapshot(prefix)
    proc = _run_with_bind(world, users, prefix / "mnt", "remove", "--yes", str(prefix))
    assert proc.returncode == 4, proc.stderr
    assert str(prefix / "mnt") in proc.stderr and "mount" in proc.stderr
    assert diff(inside, snapshot(prefix)) == {}, "something was deleted before the refusal"
    assert _held(reliability, (users / "precious.txt").read_text() == "keep me\n"), "the mounted directory's contents were deleted"


def test_create_force_refuses_an_environment_with_a_mount_inside_before_changing_anything(world, channel, standin,
                                                                                          tmp_path, reliability):
    """Replacing an environment deletes the old one: with a directory mounted inside, that deletion
    would reach into it, so --force refuses before it sets anything aside (never a new environment
    in place and an old one that cannot be deleted)."""
    assert world.create("-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "py"
    users = tmp_path / "users-data"
    users.mkdir()
    (users / "precious.txt").write_text("keep me\n")
    (prefix / "mnt").mkdir()
    inside, around = snapshot(prefix), sorted(p.name for p in world.envs.iterdir())
    proc = _run_with_bind(world, users, prefix / "mnt", "create", "--cache-dir", str(world.cache), "--force",
                          "-c", channel, "--micromamba", str(standin))
    assert proc.returncode == 4, proc.stderr
    assert f"{prefix / 'mnt'} is a mount point inside {prefix}" in proc.stderr and "nothing was changed" in proc.stderr
    assert diff(inside, snapshot(prefix)) == {} and sorted(p.name for p in world.envs.iterdir()) == around
    assert _held(reliability, (users / "precious.txt").read_text() == "keep me\n")


@pytest.mark.parametrize("kind", ["environments"])
def test_cache_clean_deletes_no_note_in_a_directory_mounted_in_the_cache(world, made_env, tmp_path, kind, reliability):
    _env(world, made_env)
    users = tmp_path / "users-notes"
    users.mkdir()
    note = users / ("0" * 32 + ".json")
    note.write_text(json.dumps({"prefix": str(tmp_path / "gone")}))  # a note of an environment that is gone
    (world.cache / kind).mkdir(parents=True, exist_ok=True)
    proc = _run_with_bind(world, users, world.cache / kind, "cache", "clean", "--cache-dir", str(world.cache))
    assert proc.returncode == 0, proc.stderr
    assert _held(reliability, note.exists()), "a note in the directory mounted in the cache was deleted"


def test_activate_scripts_writes_no_hook_into_a_mounted_activate_d(world, made_env, tmp_path, reliability):
    prefix = _env(world, made_env)
    users = tmp_path / "users-dir"
    users.mkdir()
    (prefix / "etc" / "conda" / "activate.d").mkdir(parents=True, exist_ok=True)
    proc = _run_with_bind(world, users, prefix / "etc" / "conda" / "activate.d", "activate-scripts", str(prefix))
    assert proc.returncode == 4, proc.stderr
    assert "mount point" in proc.stderr
    assert _held(reliability, list(users.iterdir()) == []), "a hook was written into the mounted directory"


def test_activate_scripts_writes_no_script_into_a_mounted_record_directory(world, made_env, tmp_path, reliability):
    """.mambaboot itself bind-mounted from a directory of the user's: the scripts would land there
    (the hostile-tree fuzzer found it); every directory the layer writes into is checked."""
    prefix = _env(world, made_env)
    users = tmp_path / "users-record-dir"
    users.mkdir()
    proc = _run_with_bind(world, users, prefix / ".mambaboot", "activate-scripts", str(prefix))
    assert proc.returncode == 4, proc.stderr
    assert "mount point" in proc.stderr and str(prefix / ".mambaboot") in proc.stderr
    assert _held(reliability, list(users.iterdir()) == []), "a script was written into the mounted directory"


# --------------------------------------------------------------------------- fifos


@pytest.mark.parametrize("kind", ["environments"])
def test_a_fifo_among_the_cache_notes_never_blocks(world, made_env, kind, reliability):
    _env(world, made_env)
    (world.cache / kind).mkdir(parents=True)
    os.mkfifo(world.cache / kind / ("0" * 32 + ".json"))
    run = _bounded(world)
    for args in (["cache", "info"], ["cache", "clean", "--dry-run"], ["cache", "clean"], ["list"]):
        extra = ["--cache-dir", str(world.cache)] if args[0] == "cache" else ["--envs-dir", str(world.envs)]
        r = run(*args, *extra)  # it ended: a fifo is no note, passed over
        _no_traceback(r)
        assert r.returncode == 0, (args, r.stderr)
    _held(reliability, True)


@pytest.mark.parametrize("command", ["list", "remove", "adopt"])
def test_a_fifo_in_place_of_the_record_never_blocks(world, made_env, command, reliability):
    prefix = _env(world, made_env)
    (prefix / ".mambaboot" / "record.json").unlink()
    os.mkfifo(prefix / ".mambaboot" / "record.json")
    args = {"list": ["list", "--envs-dir", str(world.envs)], "remove": ["remove", "--yes", "--force", str(prefix)],
            "adopt": ["adopt", str(prefix), "--cache-dir", str(world.cache)]}[command]
    r = _bounded(world)(*args)  # it ended: a record that is a fifo is no record (a foreign environment)
    _no_traceback(r)
    assert r.returncode == 0, r.stderr
    _held(reliability, True)


# --------------------------------------------------------------------------- a path read from a file


def test_provision_refuses_a_record_whose_lock_leads_outside(world, made_env, reliability):
    prefix = _env(world, made_env)
    victim = world.envs.parent / "victim.txt"
    victim.write_text("the user's\n")
    path = prefix / ".mambaboot" / "record.json"
    rec = json.loads(path.read_text())
    rec["lock"] = "../../victim.txt"
    path.write_text(json.dumps(rec))
    r = world.run("provision", str(prefix), "--cache-dir", str(world.cache))
    _no_traceback(r)
    assert r.returncode == 4, r.stderr
    assert "../../victim.txt" in r.stderr
    assert _held(reliability, victim.read_text() == "the user's\n")



# --------------------------------------------------------------------------- the layer's own promises


def test_a_root_never_leads_out(tmp_path):
    from mambaboot.common.files.confined import Root
    from mambaboot.common.errors import Escapes, NotRegular

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "secret").write_text("x")
    top = tmp_path / "top"
    (top / "d").mkdir(parents=True)
    (top / "link").symlink_to(tmp_path / "out")
    (top / "file-link").symlink_to(tmp_path / "out" / "secret")
    os.mkfifo(top / "fifo")
    with Root.open(str(top)) as root:
        for way in ("link/secret", "../out/secret", str(tmp_path / "out" / "secret"), "d/../../out/secret", "file-link"):
            with pytest.raises(Escapes):
                root.read_bytes(way)
        for act in (lambda: root.write_replace("link/new", b"x"), lambda: root.makedirs("link/a/b"),
                    lambda: root.unlink("link/secret"), lambda: root.remove_tree("link/secret"),
                    lambda: root.sub("link"), lambda: root.rename("d", "link/d")):
            with pytest.raises(Escapes):
                act()
        with pytest.raises(NotRegular):
            root.read_bytes("fifo")
        with pytest.raises(NotRegular):
            root.read_bytes("d")
        root.unlink("link")  # the link itself is an entry: removed, its target kept
    assert (tmp_path / "out" / "secret").read_text() == "x" and sorted(os.listdir(tmp_path / "out")) == ["secret"]


def test_a_replace_is_a_new_file_and_a_link_is_replaced_not_followed(tmp_path):
    from mambaboot.common.files.confined import Root

    shared = tmp_path / "cache-file"
    shared.write_text("the cache's\n")
    top = tmp_path / "top"
    top.mkdir()
    os.link(shared, top / "hard")
    (top / "soft").symlink_to(shared)
    with Root.open(str(top)) as root:
        root.write_replace("hard", b"ours\n", 0o644)
        root.write_replace("soft", b"ours too\n", 0o644)
    assert shared.read_text() == "the cache's\n" and os.stat(shared).st_nlink == 1
    assert (top / "hard").read_text() == "ours\n" and not (top / "soft").is_symlink()
    assert sorted(os.listdir(top)) == ["hard", "soft"], "no temporary file left"
