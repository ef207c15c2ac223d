"""`mambaboot cache info|clean`: sizes; cleaning only what nothing uses."""

import os
import signal
import subprocess

from mambaboot.common import fsops
from mambaboot.environment import record
from tests.conftest import MAMBABOOT
from tests.support.interrupt import paused
from tests.support.snapshot import diff, snapshot


def _cache(world, *args):
    r = world.run("cache", *args, "--cache-dir", str(world.cache), "--json")
    assert r.returncode == 0, r.stderr
    return r.json()


def test_info_reports_packages_binaries_and_leftovers(world, channel, release_server):
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    assert world.create("a", "-c", channel, "--package", "uv", env=env).returncode == 0
    info = _cache(world, "info")
    (pkgs,) = info["package_caches"]
    assert pkgs["path"] == str(world.cache / "Python" / "pkgs")
    assert pkgs["packages"] == 4 and pkgs["bytes"] > pkgs["package_bytes"] > 1_000_000
    assert 1 <= pkgs["in_use"] < 4, "python's files are hard-linked; mamba's all carry the prefix (copied)"
    assert info["micromamba"]["binaries"] == 1 and info["micromamba"]["bytes"] > 1000
    assert info["stale_homes"]["count"] == 0 and info["orphaned_markers"] == 0
    text = world.run("cache", "info", "--cache-dir", str(world.cache)).stdout
    assert "micromamba binaries" in text and "4 packages" in text


def test_clean_keeps_what_environments_share_and_removes_the_rest(world, channel, standin):
    assert world.create("a", "-c", channel, "--micromamba", str(standin), "--package", "uv").returncode == 0
    assert world.create("b", "-c", channel, "--micromamba", str(standin)).returncode == 0
    assert world.run("remove", "a", "--yes", "--cache-dir", str(world.cache)).returncode == 0
    pkgs = world.cache / "Python" / "pkgs"
    b_before = snapshot(world.envs / "b")

    before = snapshot(world.cache)
    dry = _cache(world, "clean", "--dry-run")
    assert diff(before, snapshot(world.cache)) == {}, "--dry-run removes nothing"

    done = _cache(world, "clean")
    assert done["removed_packages"] == dry["removed_packages"]
    assert any(p.startswith("uv-") for p in done["removed_packages"]), "only the removed environment used uv"
    assert any(p.startswith("python-") for p in done["kept_in_use"]), "b still shares python's files"
    assert not list(pkgs.rglob("uv-*")), "its directory and its lock file are gone"
    for name in done["kept_in_use"]:  # in micromamba >= 2.6's layout, under the package's URL directory
        assert [d for d in pkgs.rglob(name) if (d / "info" / "index.json").is_file()]
    assert diff(b_before, snapshot(world.envs / "b")) == {}
    out = subprocess.run([str(world.envs / "b" / "bin" / "python"), "-c", "print(42)"], capture_output=True, text=True)
    assert out.stdout.strip() == "42"
    r = world.run("cache", "clean", "--cache-dir", str(world.cache))
    assert "kept" in r.stdout and "share by hard links" in r.stdout


def test_clean_removes_leftovers_of_dead_runs_only(world, channel, standin):
    tmp = world.cache / "tmp"
    (tmp / "home-dead" / "tmp").mkdir(parents=True)
    (tmp / "home-dead.lock").write_text("")
    (tmp / "home-old-version").mkdir()  # from before homes had locks: nobody can own it
    (tmp / "home-live").mkdir()
    orphan = record.mark_pending(str(world.cache), str(world.root / "never-made"))
    command = [*MAMBABOOT, "create", "killed", "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(standin)]
    with paused(command, world.env, world.envs, world.root / "fifo") as proc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    killed_homes = sorted(p.name for p in tmp.iterdir() if p.name.startswith("home-") and len(p.name) == 17)
    assert killed_homes, "SIGKILL left the run's private home behind"

    with fsops.FileLock(str(tmp / "home-live.lock")):  # a run that is alive right now
        info = _cache(world, "info")
        assert info["stale_homes"]["count"] == 2 + len(killed_homes)
        assert info["orphaned_markers"] == 1
        done = _cache(world, "clean")
        assert sorted(os.path.basename(h) for h in done["stale_homes"]) == sorted(
            ["home-dead", "home-old-version", *killed_homes])
        assert done["orphaned_markers"] == 1
        assert sorted(p.name for p in tmp.iterdir()) == ["home-live", "home-live.lock"]
    assert not os.path.exists(orphan)
    assert record.pending(str(world.cache), str(world.envs / "killed")), \
        "the marker of an environment that still exists is what makes it recognisably ours"


def test_info_walks_the_cache_once(world, channel, standin, monkeypatch):
    """One walk: every directory of the cache is listed once, and the total (index cache, locks
    and all) is what a separate walk of the whole package cache finds."""
    from mambaboot.environment import diskusage, pkgcache

    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    pkgs_dir = str(world.cache / "Python" / "pkgs")
    whole = diskusage.measure(pkgs_dir).bytes
    listed = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": listed.append(os.fspath(p)) or real(p))
    info = pkgcache.info(str(world.cache), [pkgs_dir])
    assert info["package_caches"][0]["bytes"] == whole
    assert len(listed) == len(set(listed)), [p for p in set(listed) if listed.count(p) > 1][:5]
