"""Recovery through the command: a marker or an intent record never makes a place ours, every
operation that changes a place holds that place's lock until it is done, a rollback deletes only
what its run made, advice never deletes the only copy, and whatever a killed run leaves is settled
or named. Each case is tried through `mambaboot` on the tree a user would have."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT, copy_env
from tests.support.snapshot import snapshot

SUPPORT = Path(__file__).parent / "support"
KILLER = SUPPORT / "killpoints.py"
PAUSER = SUPPORT / "pausepoints.py"


def _killed_at(world, at, *args, env=None):
    """mambaboot args, SIGKILLed as the run reaches `at` (module.function+K: tests/support/killpoints.py)."""
    return subprocess.run([sys.executable, str(KILLER), "-1", str(world.root.parent / "calls"), "--", *args],
                          env={**world.env, **(env or {}), "KILLPOINT_AT": at}, cwd=str(world.envs),
                          capture_output=True, text=True, start_new_session=True, timeout=600)


def _users_conda_env(place: Path) -> Path:
    """A conda environment of the user's own (made by conda, not by mambaboot), with their work in it."""
    (place / "conda-meta").mkdir(parents=True)
    (place / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n# cmd: conda create -p x\n")
    (place / "conda-meta" / "zlib-1.3-0.json").write_text(json.dumps({"name": "zlib", "version": "1.3"}))
    (place / "analysis.ipynb").write_text('{"cells": ["years of work"]}\n')
    return place


def _listed(world, envs_dir: Path) -> list:
    r = world.run("list", "--json", "--envs-dir", str(envs_dir), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    return r.json()["environments"]


# -- 1. a pending marker never makes a user's own conda environment ours -----------------------

def test_a_pending_marker_of_a_killed_create_never_makes_a_users_conda_environment_ours(world, channel, standin):
    """A create killed after its pending marker, before its engine made the prefix (power loss):
    the user later makes their own conda environment at that path. It is not mambaboot's: list
    does not show it incomplete, create does not offer --force, remove without --force refuses
    and deletes nothing, create --force does not replace it as an interrupted create of ours."""
    prefix = world.envs / "analysis"
    killed = _killed_at(world, "micromamba.create_command+0", "create", "--prefix", str(prefix),
                        "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin))
    assert killed.returncode == -9, killed.stderr
    assert list((world.cache / "pending").glob("*.json")), "the killed create left its pending marker"
    assert not prefix.exists()
    _users_conda_env(prefix)
    tree = snapshot(prefix)

    shown = [e for e in _listed(world, world.envs) if e.get("prefix") == str(prefix)]
    assert all(e.get("state") != "incomplete" for e in shown), shown

    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "pass --force" not in r.stderr and "interrupted" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree

    r = world.run("remove", str(prefix), "-y", "--cache-dir", str(world.cache))
    assert r.returncode == 4, r.stderr
    assert snapshot(prefix) == tree

    r = world.create("--prefix", str(prefix), "--force", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "interrupted" not in r.stderr, r.stderr
    assert snapshot(prefix) == tree
