"""Overlays: template directories copied into the new environment, never over anything in it."""

import json
import os

from tests.support.snapshot import diff


def _template(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_overlays_are_copied_and_recorded(world, channel, standin):
    one = _template(world.root / "t1", {"__home__/notes.txt": "hi", "__AppData__/tool/settings.ini": "[x]\n"})
    two = _template(world.root / "t2", {"__shortcut__/start.bat": "@echo off\r\n"})
    os.symlink("notes.txt", one / "__home__" / "latest")
    r = world.create("ov", "-c", channel, "--micromamba", str(standin), "--overlay", str(one), "--overlay", str(two),
                     "--json")
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "ov"
    assert (prefix / "__home__" / "notes.txt").read_text() == "hi"
    assert (prefix / "__AppData__" / "tool" / "settings.ini").read_text() == "[x]\n"
    assert (prefix / "__shortcut__" / "start.bat").exists()
    assert os.readlink(prefix / "__home__" / "latest") == "notes.txt", "links are copied as links"
    rec = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    copied = {"__home__/notes.txt", "__home__/latest", "__AppData__/tool/settings.ini", "__shortcut__/start.bat"}
    assert copied <= set(rec["files"])
    assert [o["source"] for o in rec["overlays"]] == [str(one), str(two)]
    assert rec["state"] == "complete"
    assert "overlays: 4 file(s) from 2 directories" in r.stderr


def test_a_clash_with_a_package_file_is_exit_4_and_rolled_back(world, channel, standin):
    clashing = _template(world.root / "t", {"bin/python3.11": "not python", "__home__/ok.txt": "fine",
                                            "bin/conda": "not conda"})
    before = world.outside(clashing)
    r = world.create("ov", "-c", channel, "--micromamba", str(standin), "--overlay", str(clashing))
    assert r.returncode == 4, r.stderr
    assert "bin/python3.11" in r.stderr and "installed by package python" in r.stderr
    assert "bin/conda" in r.stderr and "installed by package conda" in r.stderr, "every clash is listed"
    assert "__home__/ok.txt" not in r.stderr
    assert not (world.envs / "ov").exists(), "rolled back like any other failure"
    assert diff(before, world.outside(clashing)) == {}


def test_two_overlays_may_not_supply_the_same_file(world, channel, standin):
    one = _template(world.root / "t1", {"__home__/a.txt": "1"})
    two = _template(world.root / "t2", {"__home__/a.txt": "2"})
    r = world.create("ov", "-c", channel, "--micromamba", str(standin), "--overlay", str(one), "--overlay", str(two))
    assert r.returncode == 4 and f"also in overlay {one}" in r.stderr
    assert not (world.envs / "ov").exists()


def test_reserved_places_are_refused_before_the_engine_runs(world, channel, fault_standin):
    bad = _template(world.root / "t", {"conda-meta/evil-1-0.json": "{}", "pkgs/x": "into the cache"})
    calls = world.root / "calls.jsonl"
    r = world.create("ov", "-c", channel, "--micromamba", str(fault_standin), "--overlay", str(bad),
                     env={"STANDIN_RECORD": str(calls)})
    assert r.returncode == 4, r.stderr
    assert "conda-meta/evil-1-0.json" in r.stderr and "pkgs/x" in r.stderr
    assert not calls.exists(), "micromamba never ran"
    assert not (world.envs / "ov").exists()


def test_a_missing_overlay_is_a_usage_error(world, channel, standin):
    r = world.create("ov", "-c", channel, "--micromamba", str(standin), "--overlay", str(world.root / "nope"))
    assert r.returncode == 2 and "not a directory" in r.stderr
