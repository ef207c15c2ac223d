"""`mambaboot audit` and `mambaboot move` end to end: an environment with every kind of
prefix-bearing file (text, binary with NUL padding, long shebang) is moved again and again,
across file systems, and works each time."""

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.support.channel import build_channel, channel_url, pip_spec, prefixy_spec
from tests.support.interrupt import KILLER
from tests.support.snapshot import diff, snapshot


@pytest.fixture(scope="module")
def portable_channel(tmp_path_factory) -> str:
    return channel_url(build_channel(tmp_path_factory.mktemp("portable-channel"), extra=[pip_spec(), prefixy_spec()]))


@pytest.fixture
def env_world(world, portable_channel, standin):
    prefix = world.envs / "a"
    r = world.create("-q", "--prefix", str(prefix), "-c", portable_channel, "--micromamba", str(standin),
                     "--package", "pip", "--package", "prefixy")
    assert r.returncode == 0, r.stderr
    return world, prefix


def audit(world, prefix) -> dict:
    r = world.run("audit", str(prefix), "--json")
    assert r.returncode == 0, r.stderr
    return r.json()


def move(world, src, dst, *extra, env=None):
    return world.run("move", str(src), str(dst), "--cache-dir", str(world.cache), *extra, env=env)


def works(world, prefix: Path, linked: bool = True) -> None:
    """Entry points, imports, conda, and activation in bash, zsh, dash and fish: all at the new place."""
    r = world.run("run", str(prefix), "--", "prefixy")
    assert r.returncode == 0 and r.stdout.strip() == f"prefixy ok {prefix}", r.stdout + r.stderr
    r = world.run("run", str(prefix), "--", "python", "-c", "import pip, conda, sys; print(sys.prefix)")
    assert r.returncode == 0 and r.stdout.strip() == str(prefix), r.stderr
    for tool in ("conda", "pip", "mamba"):
        r = world.run("run", str(prefix), "--", tool, "--version")
        assert r.returncode == 0, (tool, r.stderr)
    activations = {
        "bash": f'. "{prefix}/.mambaboot/activate.sh" && command -v python && prefixy && conda --version',
        "zsh": f'. "{prefix}/.mambaboot/activate.sh" && command -v python && prefixy && conda --version',
        "dash": f'MAMBABOOT_ENV="{prefix}"; . "$MAMBABOOT_ENV/.mambaboot/activate.sh" && command -v python && prefixy',
        "fish": f'source "{prefix}/.mambaboot/activate.fish"; and command -v python; and prefixy; and conda --version',
    }
    # fish writes its own config and history under XDG dirs: outside the world that is snapshotted
    fish_home = world.root.parent / "fish-home"
    fish_env = {**world.env, "XDG_CONFIG_HOME": str(fish_home / "config"), "XDG_DATA_HOME": str(fish_home / "data")}
    for shell, script in activations.items():
        env = fish_env if shell == "fish" else world.env
        proc = subprocess.run([shell, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (shell, proc.stderr)
        assert proc.stdout.splitlines()[0] == f"{prefix}/bin/python", shell
        assert f"prefixy ok {prefix}" in proc.stdout.splitlines(), shell
    found = audit(world, prefix)
    assert found["location"] == str(prefix) and found["counts"]["blocking"] == 0, found
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert record["state"] == "complete" and record["inputs"]["prefix"] == str(prefix)
    if linked:
        assert (prefix / "pkgs").readlink() == world.cache / "Python" / "pkgs"


def test_audit_classifies_every_file_naming_the_prefix(env_world):
    world, prefix = env_world
    found = audit(world, prefix)
    by_path = {f["path"]: f for f in found["files"]}
    assert found["location"] == str(prefix)
    assert by_path["lib/libprefixy.so"]["kind"] == "binary" and by_path["lib/libprefixy.so"]["verdict"] == "rewritten"
    assert "up to 255 characters" in by_path["lib/libprefixy.so"]["why"]
    for rel in ("share/prefixy/where.txt", "bin/prefixy", "bin/pip", ".mambaboot/record.json"):
        assert by_path[rel]["verdict"] == "rewritten", rel
    assert by_path["conda-meta/history"]["verdict"] == "harmless"
    assert found["counts"]["blocking"] == 0
    text = world.run("audit", str(prefix))
    assert text.returncode == 0 and "rewritten  lib/libprefixy.so" in text.stdout


def test_move_three_times_and_across_file_systems(env_world, second_volume):
    world, prefix = env_world
    before = world.outside(prefix)
    # 1: same directory (rename)
    second = world.envs / "b"
    r = move(world, prefix, second, "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["how"] == "renamed" and not prefix.exists()
    works(world, second)
    # 2: another directory, deep enough that the entry points' shebangs pass 127 characters
    deep = world.root / ("d" * 60) / ("e" * 40) / "env"
    deep.parent.mkdir(parents=True)
    r = move(world, second, deep)
    assert r.returncode == 0, r.stderr
    assert (deep / "bin" / "prefixy").read_text().splitlines()[0] == "#!/usr/bin/env python"
    works(world, deep)
    # 3: another file system: copied, verified, then the source deleted
    # (second_volume: a tmpfs mounted for the test, conftest.py)
    third = second_volume / "c"
    r = move(world, deep, third, "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["how"] == "copied" and not deep.exists()
    works(world, third)
    # 4: and back, short again, to a path with a space (which no #! line can hold)
    back = world.envs / "at home"
    r = move(world, third, back)
    assert r.returncode == 0, r.stderr
    assert (back / "bin" / "prefixy").read_text().splitlines()[0] == "#!/usr/bin/env python"
    works(world, back)
    record = json.loads((back / ".mambaboot" / "record.json").read_text())
    assert [m["to"] for m in record["moves"]] == [str(second), str(deep), str(third), str(back)]
    assert [m["from"] for m in record["moves"]] == [str(prefix), str(second), str(deep), str(third)]
    assert world.outside(back, deep.parent.parent) == before


def _squeeze(prefix: Path, room: int) -> None:
    """Leave the first string of lib/libprefixy.so room for `room` more characters: a byte that is
    not NUL where its padding was (the file still says nothing else about its room)."""
    lib = prefix / "lib" / "libprefixy.so"
    data = bytearray(lib.read_bytes())
    end = data.index(b"/lib/prefixy\0") + len(b"/lib/prefixy")
    data[end + room + 1] = 0x01
    lib.write_bytes(bytes(data))


@pytest.mark.parametrize("cache", ["kept", "cleaned"])
def test_a_prefix_too_long_for_a_binary_is_refused_before_anything_changes(env_world, cache):
    """The room is measured in the file, whether or not the package cache still gives the
    placeholder's length (micromamba's records never do)."""
    world, prefix = env_world
    _squeeze(prefix, 5)
    if cache == "cleaned":
        shutil.rmtree(world.cache / "Python" / "pkgs")
    inside = snapshot(prefix)
    target = world.envs / ("a" + "x" * 10)
    r = move(world, prefix, target, "--no-cache-link")
    assert r.returncode == 10, r.stderr
    assert f"lib/libprefixy.so: room for {len(str(prefix)) + 5} characters, 5 too many" in r.stderr
    assert "nothing was changed" in r.stderr
    assert not target.exists() and snapshot(prefix) == inside
    r = move(world, prefix, world.envs / ("a" + "x" * 5), "--no-cache-link")
    assert r.returncode == 0, r.stderr


def test_move_refuses_bad_input_without_exit_1(env_world):
    world, prefix = env_world
    inside = snapshot(prefix)
    active = move(world, prefix, world.envs / "z", env={"CONDA_PREFIX": str(prefix)})
    assert active.returncode == 3 and "active in this shell" in active.stderr
    ignored = move(world, prefix, world.envs / "z", "--ignore-active-env", env={"CONDA_PREFIX": str(prefix)})
    assert ignored.returncode == 3
    (world.envs / "taken").mkdir()
    assert move(world, prefix, world.envs / "taken").returncode == 4
    assert move(world, world.envs / "taken", world.envs / "new").returncode == 4
    assert move(world, prefix, world.envs / "no" / "parent").returncode == 4
    assert move(world, prefix, prefix).returncode == 2
    assert move(world, prefix, prefix / "inner").returncode == 2
    assert world.run("audit", str(world.envs / "taken")).returncode == 4
    # create's character policy: DST is written into scripts that shells run
    before = snapshot(world.root)
    bad = move(world, prefix, world.envs / "a $(touch pwned)")
    assert bad.returncode == 2 and "'$'" in bad.stderr, bad.stderr
    assert snapshot(world.root) == before and not list(world.root.rglob("pwned"))
    assert snapshot(prefix) == inside


def _location_findings(world, prefix):
    r = world.run("doctor", str(prefix), "--json")
    return [f for f in r.json()["findings"] if f["check"] == "location"]


def test_doctors_repair_command_names_an_odd_path_as_one_word(env_world, tmp_path):
    """The fix doctor prints, typed into sh as it stands, gives `move` the path whole: spaces,
    ; & ( ) * # ! stay text."""
    world, prefix = env_world
    by_hand = world.envs / "by hand; (x) & y* #!"
    os.rename(prefix, by_hand)
    (doctor,) = _location_findings(world, by_hand)
    command = doctor["fix"].split("   (rewrites", 1)[0]
    shown = subprocess.run(["sh", "-c", "mambaboot() { printf '%s\\0' \"$@\"; }; " + command], cwd=str(tmp_path),
                           capture_output=True, text=True, check=True)
    assert shown.stdout.split("\0")[:-1] == ["move", str(by_hand), str(by_hand)]


def test_an_environment_moved_by_hand_is_named_and_repaired(env_world):
    world, prefix = env_world
    assert [f["severity"] for f in _location_findings(world, prefix)] == ["ok"]
    by_hand = world.envs / "by-hand"
    os.rename(prefix, by_hand)
    found = audit(world, by_hand)
    assert found["location"] == str(prefix)
    (doctor,) = _location_findings(world, by_hand)
    assert doctor["severity"] == "error" and f"its files name {prefix}" in doctor["message"]
    assert doctor["fix"].startswith(f"mambaboot move {by_hand} {by_hand}")
    stale = world.run("run", str(by_hand), "--", "prefixy")
    assert stale.returncode == 127 and "its #! interpreter is missing" in stale.stderr, stale.stderr
    r = move(world, by_hand, by_hand)
    assert r.returncode == 0, r.stderr
    assert "moved without mambaboot" in r.stderr and "(in place)" in r.stderr
    works(world, by_hand)
    assert [f["severity"] for f in _location_findings(world, by_hand)] == ["ok"]
    assert move(world, by_hand, by_hand).returncode == 2, "nothing to repair"
    os.rename(by_hand, world.envs / "by-hand-again")
    fixed = world.envs / "fixed"
    r = move(world, world.envs / "by-hand-again", fixed)
    assert r.returncode == 0, r.stderr
    works(world, fixed)
    r = world.run("adopt", str(fixed), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr


def test_a_move_that_fails_verification_is_put_back(env_world):
    world, prefix = env_world
    mamba = prefix / "bin" / "mamba"
    # fails only at the new place: verification there fails, after the files were rewritten
    mamba.write_text('#!/bin/sh\ncase "$0" in *broken*) echo "no" >&2; exit 3;; esac\necho "mamba 2.0.5"\n')
    record_before = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    inside = snapshot(prefix)
    r = move(world, prefix, world.envs / "broken")
    assert r.returncode == 7, r.stderr
    assert "put back" in r.stderr and not (world.envs / "broken").exists()
    assert audit(world, prefix)["location"] == str(prefix)
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert record["inputs"] == record_before["inputs"] and record.get("moves", []) == []
    changed = {p for p, (a, b) in diff(inside, snapshot(prefix)).items() if "__pycache__" not in p}
    assert changed <= {".mambaboot/record.json"}, changed


PAUSER = Path(__file__).parent / "support" / "pausepoints.py"
APPEARED = "move, pack: what appears at the destination meanwhile is kept"


@contextlib.contextmanager
def held_at(world, where: str, *args: str):
    """mambaboot ARGS, held where the function `where` (FILE:FUNCTION under src/mambaboot) first
    returns while the block runs; then let go and run to its end (held.result)."""
    fifo = world.root.parent / "hold"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, str(PAUSER), where, str(fifo), "--", *args], env=world.env,
                            cwd=str(world.envs), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    there = threading.Event()

    def release_if_it_ended_before():  # else the test's open below would wait for ever
        proc.wait()
        if not there.is_set():
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    watcher = threading.Thread(target=release_if_it_ended_before, daemon=True)
    watcher.start()
    writer = os.open(fifo, os.O_WRONLY)  # returns once the run is there
    there.set()
    try:
        assert proc.poll() is None, "the run ended before it got there: " + proc.communicate()[1]
        yield proc
    finally:
        os.close(writer)
        out, err = proc.communicate(timeout=600)
        proc.result = Result(proc.returncode, out, err)
        fifo.unlink()


@pytest.mark.parametrize("where", ["another file system", "the same file system"])
def test_a_destination_made_while_the_move_runs_is_never_replaced_nor_deleted(env_world, second_volume, where,
                                                                             reliability):
    """DST is checked, then the environment scanned, then the files go: a directory made at DST
    in between (here by the user) is left as it is, and the move refused with SRC as it was."""
    world, prefix = env_world
    inside = snapshot(prefix)
    dst = (second_volume if where == "another file system" else world.envs) / "c"
    with held_at(world, "pipeline/move.py:check_destination", "move", str(prefix), str(dst),
                 "--cache-dir", str(world.cache)) as held:
        dst.mkdir()  # empty: rename(2) would replace it; with a file in it: a failed copy deleted it
        if where == "another file system":
            (dst / "mine.txt").write_text("mine")
    r = held.result
    ok = r.returncode == 4 and f"{dst} appeared while" in r.stderr
    ok = ok and sorted(os.listdir(dst)) == ([] if where == "the same file system" else ["mine.txt"])
    ok = ok and snapshot(prefix) == inside
    ok = ok and sorted(p.name for p in dst.parent.iterdir() if p.name.startswith(".c.")) == []  # no copy left
    reliability.record(APPEARED, ok)
    assert ok, r.stderr


def test_two_moves_to_one_destination_one_wins_and_its_result_stays(env_world, second_volume, portable_channel, standin):
    """Two moves to the same DST on another file system: the second is refused at once, whatever
    cache each uses (the first holds DST's lock, which lives beside DST, not in a cache); the first
    then finishes, and the second's source is as it was."""
    world, first_src = env_world
    r = world.create("-q", "--prefix", str(world.envs / "b"), "-c", portable_channel, "--micromamba", str(standin),
                     "--package", "prefixy")
    assert r.returncode == 0, r.stderr
    second_src, dst = world.envs / "b", second_volume / "c"
    second_inside = snapshot(second_src)
    with held_at(world, "pipeline/move.py:check_destination", "move", str(first_src), str(dst),
                 "--cache-dir", str(world.cache)) as held:
        same_cache = move(world, second_src, dst)
        assert same_cache.returncode == 4 and "move) is changing" in same_cache.stderr, same_cache.stderr
        other_cache = world.run("move", str(second_src), str(dst), "--cache-dir", str(world.root / "other-cache"))
        assert other_cache.returncode == 4 and "move) is changing" in other_cache.stderr, other_cache.stderr
    r = held.result
    ok = r.returncode == 0 and not first_src.exists() and snapshot(second_src) == second_inside
    ran = world.run("run", str(dst), "--", "prefixy")
    ok = ok and ran.returncode == 0 and ran.stdout.strip() == f"prefixy ok {dst}"
    ok = ok and [p.name for p in second_volume.iterdir()] == ["c"]
    assert ok, r.stderr + ran.stderr


# ------------------------------------------------------------------ what names the old place, found without the records' help


def naming(root: Path, old: str) -> set:
    """Every regular file under root whose bytes hold `old` (the PREFIX/pkgs link left out), read
    whole: the check that does not trust the code it checks. Our record keeps the places it moved
    through in `moves` by design; the rest of it must not name the old place."""
    needle = old.encode()
    found = set()
    for here, dirs, files in os.walk(root):
        if Path(here) == root:
            dirs[:] = [d for d in dirs if d != "pkgs"]
        for name in files:
            path = Path(here, name)
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            if rel == ".mambaboot/record.json":
                body = json.loads(data)
                body.pop("moves", None)
                data = json.dumps(body).encode()
            if needle in data:
                found.add(rel)
    return found


def _not_needing_a_rewrite(rel: str) -> bool:
    return rel == "conda-meta/history" or ("/__pycache__/" in f"/{rel}" and rel.endswith(".pyc"))


@pytest.mark.parametrize("cache", ["kept", "cleaned"])
def test_after_a_move_nothing_names_the_old_place(env_world, cache):
    """The engine records no placeholders: what names the prefix is found from the package cache's
    info/paths.json, from sha256_in_prefix against sha256 and, for what no record vouches for, from
    the file's bytes; a binary's room is measured in it (with the cache gone, nothing else says it)."""
    world, prefix = env_world
    (prefix / "share" / "notes.txt").write_text(f"data lives in {prefix}/share\n")  # written after install
    lib = (prefix / "lib" / "libprefixy.so").read_bytes()
    (prefix / "lib" / "libcopy.so").write_bytes(lib)  # a binary no record names
    (prefix / "share" / "python-link").symlink_to(prefix / "bin" / "python3.11")  # absolute, inside
    before = naming(prefix, str(prefix))
    assert {"etc/profile.d/conda.sh", "etc/profile.d/mamba.sh", "bin/conda", "lib/libprefixy.so",
            "share/notes.txt", "lib/libcopy.so"} <= before
    if cache == "cleaned":
        shutil.rmtree(world.cache / "Python" / "pkgs")
    target = world.envs / "moved-elsewhere"
    r = move(world, prefix, target, "--no-cache-link")
    assert r.returncode == 0, r.stderr
    left = {rel for rel in naming(target, str(prefix)) if not _not_needing_a_rewrite(rel)}
    assert left == set(), left
    assert (target / "share" / "python-link").resolve() == (target / "bin" / "python3.11").resolve()
    assert (target / "share" / "notes.txt").read_text() == f"data lives in {target}/share\n"
    works(world, target, linked=False)
    r = world.run("run", str(target), "--", "python", "-c",
                  "import sys; d = open(sys.argv[1], 'rb').read(); print([s.decode() for s in d.split(b'\\0') if s.startswith(b'/')])",
                  str(target / "lib" / "libcopy.so"))
    assert r.stdout.strip() == str([f"{target}/lib/prefixy", f"{target}/share/prefixy:{target}/etc"]), r.stderr


# ------------------------------------------------------------------ hostile environments


def test_move_writes_nothing_through_a_link_out_of_the_environment(env_world):
    world, prefix = env_world
    elsewhere = world.root / "elsewhere"
    elsewhere.mkdir()
    hook = elsewhere / "hook.sh"
    hook.write_text(f'export TOOL_HOME="{prefix}/share/tool"\n')
    hooks = prefix / "etc" / "conda" / "activate.d"
    if hooks.is_dir():  # mambaboot's own root hook lives there: the link takes the directory's place
        for hook in hooks.iterdir():
            shutil.copy2(hook, elsewhere / hook.name)
        shutil.rmtree(hooks)
    hooks.parent.mkdir(parents=True, exist_ok=True)
    hooks.symlink_to(elsewhere)
    inside, outside = snapshot(prefix), snapshot(elsewhere)
    r = move(world, prefix, world.envs / "b")
    assert r.returncode == 10, r.stderr
    assert "etc/conda/activate.d/hook.sh" in r.stderr and "leaves the environment" in r.stderr
    assert snapshot(elsewhere) == outside and snapshot(prefix) == inside and not (world.envs / "b").exists()
    found = audit(world, prefix)
    assert {f["path"]: f["verdict"] for f in found["files"]}["etc/conda/activate.d/hook.sh"] == "blocking"

    # the same through a directory a package's record names a file in
    (prefix / "etc" / "conda" / "activate.d").unlink()
    share = prefix / "share" / "prefixy"
    shutil.move(str(share), str(elsewhere / "prefixy"))
    share.symlink_to(elsewhere / "prefixy")
    outside = snapshot(elsewhere)
    r = move(world, prefix, world.envs / "b")
    assert r.returncode == 10 and "share/prefixy/where.txt" in r.stderr, r.stderr
    assert snapshot(elsewhere) == outside


def _record(prefix: Path, body: dict) -> Path:
    path = prefix / "conda-meta" / "evil-1.0-0.json"
    path.write_text(json.dumps({"name": "evil", "version": "1.0", "build": "0", **body}))
    return path


@pytest.mark.parametrize("path", ["../../outside.txt", "/ABS/outside.txt", "share/../../../outside.txt"])
def test_a_record_naming_a_path_outside_is_refused(env_world, path):
    world, prefix = env_world
    victim = world.envs / "outside.txt"
    victim.write_text(f"{prefix}\n")
    path = path.replace("/ABS", str(world.envs))
    _record(prefix, {"files": [path], "paths_data": {"paths": [
        {"_path": path, "path_type": "hardlink", "prefix_placeholder": "/opt/anaconda1anaconda2anaconda3",
         "file_mode": "text", "sha256": "0" * 64, "sha256_in_prefix": "1" * 64}]}})
    inside = snapshot(prefix)
    for argv in (["move", str(prefix), str(world.envs / "b"), "--cache-dir", str(world.cache)],
                 ["pack", str(prefix), "-o", str(world.root / "env.tar.gz")], ["audit", str(prefix)]):
        r = world.run(*argv)
        assert r.returncode == 4, (argv, r.stderr)
        assert "conda-meta/evil-1.0-0.json" in r.stderr and "not a path inside the environment" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert victim.read_text() == f"{prefix}\n" and snapshot(prefix) == inside
    assert not (world.root / "env.tar.gz").exists() and not (world.envs / "b").exists()


@pytest.mark.parametrize("body", [
    {"paths_data": ["x"]},
    {"paths_data": {"paths": ["x"]}},
    {"paths_data": {"paths": [{"_path": 3}]}},
    {"paths_data": {"paths": [{"_path": "bin/x", "sha256": 5}]}},
    {"paths_data": {"paths": [{"_path": "bin/x", "size_in_bytes": "big"}]}},
    {"files": "bin/x"},
], ids=["paths_data-list", "paths-of-strings", "path-number", "sha-number", "size-text", "files-text"])
def test_a_malformed_package_record_is_named_not_a_crash(env_world, body):
    world, prefix = env_world
    _record(prefix, body)
    inside = snapshot(prefix)
    for argv in (["move", str(prefix), str(world.envs / "b"), "--cache-dir", str(world.cache)],
                 ["pack", str(prefix), "-o", str(world.root / "env.tar.gz")], ["audit", str(prefix)]):
        r = world.run(*argv)
        assert r.returncode == 4 and "conda-meta/evil-1.0-0.json" in r.stderr and "Traceback" not in r.stderr, \
            (argv, r.returncode, r.stderr)
    assert snapshot(prefix) == inside


def test_a_fifo_in_the_environment_is_never_opened(env_world):
    world, prefix = env_world
    for rel in ("bin/pipe", "share/pipe", "lib/python3.11/site-packages/x.pth"):
        os.mkfifo(prefix / rel)

    def run(*argv):
        proc = subprocess.run([*world.command, *argv], env=world.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        return proc.returncode, proc.stderr + proc.stdout

    proc = subprocess.run([*world.command, "audit", str(prefix), "--json"], env=world.env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert {"bin/pipe", "share/pipe"} <= {e["path"] for e in json.loads(proc.stdout)["pack_blockers"]}
    (prefix / "lib/python3.11/site-packages/x.pth").unlink()  # the environment's own python would wait on it
    code, out = run("pack", str(prefix), "-o", str(world.root / "env.zip"))
    assert code == 10 and "share/pipe" in out and "a named pipe" in out, out
    target = world.envs / "b"
    code, out = run("move", str(prefix), str(target), "--cache-dir", str(world.cache))
    assert code == 0, out
    assert all(stat.S_ISFIFO(os.lstat(target / rel).st_mode) for rel in ("bin/pipe", "share/pipe"))


def _address_space(limit: int):
    """For preexec_fn: the child may map at most limit bytes, so reading a GiB file whole fails."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_a_file_too_big_to_read_whole_is_searched_in_pieces_and_named(env_world):
    """A sparse GiB in the environment (a huge conda-meta/history, a stray image): move, audit and
    pack search it a piece at a time, in less memory than the file; one that names the prefix is
    named and refused, one that does not is no finding."""
    world, prefix = env_world
    gib = 1 << 30
    with open(prefix / "conda-meta" / "history", "ab") as f:
        os.truncate(f.fileno(), gib)
    with open(prefix / "share" / "zeros.img", "wb") as f:
        os.truncate(f.fileno(), gib)
    with open(prefix / "share" / "names.img", "wb") as f:
        os.truncate(f.fileno(), gib)
        f.seek(gib // 2 - 3)  # across two pieces of the search
        f.write(f"{prefix}/lib\0".encode())

    def run(*argv):
        proc = subprocess.run([*world.command, *argv], env=world.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300, preexec_fn=_address_space(gib // 2))
        return proc.returncode, proc.stderr + proc.stdout, proc.stdout

    code, out, stdout = run("audit", str(prefix), "--json")
    assert code == 0, out
    files = {e["path"]: e for e in json.loads(stdout)["files"]}
    assert files["share/names.img"]["verdict"] == "blocking" and "larger than" in files["share/names.img"]["why"]
    assert "share/zeros.img" not in files and files["conda-meta/history"]["verdict"] == "harmless", files
    code, out, _ = run("pack", str(prefix), "-o", str(world.root / "env.zip"))
    assert code == 10 and "share/names.img" in out, out
    before = snapshot(prefix)
    code, out, _ = run("move", str(prefix), str(world.envs / "b"), "--cache-dir", str(world.cache))
    assert code == 10 and "share/names.img" in out and "larger than" in out, out
    assert snapshot(prefix) == before and not (world.envs / "b").exists()
    (prefix / "share" / "names.img").unlink()
    code, out, _ = run("move", str(prefix), str(world.envs / "b"), "--cache-dir", str(world.cache))
    assert code == 0, out
    assert os.stat(world.envs / "b" / "share" / "zeros.img").st_size == gib


# ------------------------------------------------------------------ a prefix with a space


def test_a_prefix_with_a_space_creates_activates_moves_and_packs(world, portable_channel, standin):
    """micromamba leaves `#!/a b/bin/python` in the packages' scripts (it changes a `#!` line only
    past 127 characters: libmamba/src/core/link.cpp replace_long_shebang), which the kernel runs as
    `/a` with `b/bin/python`. mambaboot writes conda's line for a package's own script instead
    (conda/core/portability.py replace_long_shebang: `#!/usr/bin/env python`, which runs with the
    environment active), after the engine and on move."""
    prefix = world.envs / "my env"
    r = world.create("-q", "--prefix", str(prefix), "-c", portable_channel, "--micromamba", str(standin),
                     "--package", "prefixy")
    assert r.returncode == 0, r.stderr
    for script in ("conda", "pip", "prefixy"):
        head = (prefix / "bin" / script).read_text().splitlines()[:1]
        assert head == ["#!/usr/bin/env python"], (script, head)
    assert "bin/conda" in json.loads((prefix / ".mambaboot" / "record.json").read_text())["patched"]
    active = subprocess.run([str(prefix / "bin" / "conda"), "--version"], env={"PATH": f"{prefix}/bin:/usr/bin:/bin"},
                            capture_output=True, text=True)
    assert active.returncode == 0 and active.stdout.startswith("conda "), active.stderr
    works(world, prefix)
    moved = world.envs / "moved env"
    r = move(world, prefix, moved)
    assert r.returncode == 0, r.stderr
    works(world, moved)
    archive = world.root / "env.tar.gz"
    assert world.run("pack", str(moved), "-o", str(archive)).returncode == 0
    os.rename(moved, world.root / "gone")
    unpacked = world.root / "un packed"
    unpacked.mkdir()
    subprocess.run(["tar", "-xf", str(archive), "-C", str(unpacked)], check=True)
    fixed = subprocess.run([str(unpacked / "bin" / "python"), str(unpacked / ".mambaboot" / "unpack.py")],
                           env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stderr
    works(world, unpacked, linked=False)


def test_a_fifo_in_the_environment_never_holds_a_move(env_world, second_volume):
    """A read of a fifo waits for a writer: the scan opens no file that is not a regular one,
    and a copy to another file system names it instead of waiting."""
    world, prefix = env_world
    os.mkfifo(prefix / "bin" / "pipe")
    command = [*world.command, "move", str(prefix), str(second_volume / "c"), "--cache-dir", str(world.cache)]
    r = subprocess.run(command, env=world.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 10 and f"{prefix}/bin/pipe is a named pipe" in r.stderr, r.stderr
    assert not (second_volume / "c").exists() and list(second_volume.iterdir()) == []
    renamed = world.envs / "renamed"
    r = subprocess.run([*world.command, "move", str(prefix), str(renamed), "--cache-dir", str(world.cache)],
                       env=world.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert (renamed / "bin" / "pipe").is_fifo()


def test_an_environment_active_through_a_link_is_neither_moved_nor_removed(env_world):
    world, prefix = env_world
    inside = snapshot(prefix)
    link = world.root / "link-to-env"
    link.symlink_to(prefix)
    for var in ("CONDA_PREFIX", "MAMBABOOT_ENV"):
        r = move(world, prefix, world.envs / "z", "--ignore-active-env", env={var: str(link)})
        assert r.returncode == 3 and "active in this shell" in r.stderr, (var, r.stderr)
        r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache), env={var: str(link)})
        assert r.returncode == 3 and "active in this shell" in r.stderr, (var, r.stderr)
    assert snapshot(prefix) == inside and not (world.envs / "z").exists()


def test_the_environment_whose_python_runs_mambaboot_is_neither_moved_removed_nor_replaced(env_world, zipapp, standin):
    """The bootstrap scripts run `python.exe mambaboot.pyz` with the environment's own Python:
    Windows refuses to delete that python.exe and its DLLs (a remove would leave it without its
    Lib), and a rename under it loses every module the run has yet to import."""
    world, prefix = env_world
    inside = snapshot(prefix)
    own = [str(prefix / "bin" / "python"), str(zipapp)]
    runs = (["move", str(prefix), str(world.envs / "z")], ["remove", str(prefix), "--yes"],
            ["create", "--prefix", str(prefix), "--force", "-c", "file:///nowhere", "--micromamba", str(standin)])
    for args in runs:
        r = subprocess.run([*own, *args, "--cache-dir", str(world.cache)], env=world.env, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 3, (args, r.returncode, r.stderr)
        assert f"{prefix} holds the Python running mambaboot" in r.stderr and "another Python" in r.stderr, r.stderr
    assert snapshot(prefix) == inside and not (world.envs / "z").exists()

def test_move_reports_the_shell_once_with_another_environment_active(env_world):
    """move checks the shell and says so once; the adopt it runs at the new place does not do it again."""
    world, prefix = env_world
    r = move(world, prefix, world.envs / "b", "--ignore-active-env", env={"CONDA_SHLVL": "1"})
    assert r.returncode == 0, r.stderr
    said = (r.stdout + r.stderr).splitlines()
    assert [line for line in said if "shell:" in line] == ["shell: check overridden"], said
    assert len([line for line in said if "ignoring the active environment" in line]) == 1, said


@pytest.fixture
def small_volume(tmp_path):
    """mount(size) -> a directory on a tmpfs of that many bytes, for a disk that fills up."""
    mounted = []

    def mount(size: int) -> Path:
        where = tmp_path / f"small{len(mounted)}"
        where.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
        assert r.returncode == 0, f"a small file system is mounted for this test (as root): {r.stderr}"
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=True)


def test_a_disk_that_fills_up_stops_the_copy_at_once_and_says_so_in_one_line(env_world, small_volume):
    world, prefix = env_world
    inside = snapshot(prefix)
    size = sum(f.stat().st_size for f in prefix.rglob("*") if f.is_file() and not f.is_symlink())
    volume = small_volume(size // 2)
    r = move(world, prefix, volume / "c")
    assert r.returncode == 9, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("mambaboot:")]
    assert len(lines) == 1 and len(lines[0]) < 1000, r.stderr[:2000]  # not shutil.Error's list of every file
    assert f"the disk holding {volume / 'c'} is full: copying {prefix}/" in lines[0] and "more" in lines[0], lines
    assert f"{prefix} is as it was" in lines[0]
    assert snapshot(prefix) == inside and list(volume.iterdir()) == []


def _killed_move(world, n, src, dst, at=""):
    count_file = world.root.parent / "calls"
    proc = subprocess.run([sys.executable, str(KILLER), str(n), str(count_file), "--", "move", str(src), str(dst),
                           "--cache-dir", str(world.cache)],
                          env={**world.env, "KILLPOINT_AT": at}, cwd=str(world.envs), capture_output=True, text=True,
                          start_new_session=True, timeout=600)
    return proc, count_file


MARK = ".mambaboot-claim"  # common/files/proof.py's MARK
# Where a move to another file system is killed, by the step it is in (module.function+K: K calls
# after it first enters it; tests/support/killpoints.py): before the copy, in it, as the copy is
# compared and as it becomes DST, in the rewrite and the verification, as its intent says
# verified, as it names the source's set-aside name, in the source's deletion, and as it ends.
COPY_PHASES = ("movecopy.copy+0", "movecopy._copy_file+0", "movecopy._copy_entries+200", "movecopy.tree+50",
               "noreplace.rename_dir+0", "rewrite.relocate+0", "adopt.adopt_prefix+30", "placelock.stage:verified+done",
               "placelock.stage:deleting-source+done", "removal.remove_contents+0", "removal.remove_contents+60",
               "placelock.stage:ended+0")


def _state(prefix: Path):
    try:
        return json.loads((prefix / ".mambaboot" / "record.json").read_text())["state"]
    except (FileNotFoundError, ValueError):
        return None

