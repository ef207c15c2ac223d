"""`mambaboot audit` and `mambaboot move` end to end: an environment with every kind of
prefix-bearing file (text, binary with NUL padding, long shebang) is moved again and again,
across file systems, and works each time."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.channel import build_channel, channel_url, pip_spec, prefixy_spec
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


def test_a_prefix_too_long_for_a_binary_is_refused_before_anything_changes(env_world):
    world, prefix = env_world
    inside = snapshot(prefix)
    target = world.root / ("x" * 200) / ("y" * 60)
    target.parent.mkdir()
    r = move(world, prefix, target)
    assert r.returncode == 10, r.stderr
    assert "lib/libprefixy.so: room for 255 characters" in r.stderr and "too many" in r.stderr
    assert not target.exists() and snapshot(prefix) == inside


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
    assert world.run("run", str(by_hand), "--", "prefixy").returncode != 0
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


def test_a_copy_that_fails_is_deleted_and_the_source_kept(env_world, monkeypatch):
    """In process: the copy to another file system runs out of space half way."""
    import errno
    import shutil as shutil_module

    from mambaboot.pipeline import move as move_pipeline

    world, prefix = env_world
    inside = snapshot(prefix)
    target = world.root / "other-fs" / "env"
    target.parent.mkdir()
    real_copy, real_copytree = shutil_module.copy2, shutil_module.copytree

    def full_disk(src, dst, **kw):
        if "libprefixy" in str(src):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_copy(src, dst, **kw)

    def copytree(src, dst, symlinks=False, ignore=None, copy_function=None, *rest):
        return real_copytree(src, dst, symlinks, ignore, full_disk, *rest)

    monkeypatch.setattr(shutil_module, "copytree", copytree)
    with pytest.raises(OSError):
        move_pipeline.copy_verified(str(prefix), str(target))
    assert not target.exists() and snapshot(prefix) == inside
