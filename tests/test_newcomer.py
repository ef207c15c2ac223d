"""What a new user reads first: output that says what it means, once, and only what applies."""

import re

from tests.conftest import copy_env


def test_audit_names_each_kind_once(world, made_env):
    r = world.run("audit", str(made_env))
    assert r.returncode == 0, r.stderr
    kinds = [re.search(r"  \(([\w-]+): ", line) for line in r.stdout.splitlines()]
    kinds = [k.group(1) for k in kinds if k]
    assert "text" in kinds, r.stdout
    for line in r.stdout.splitlines():
        assert not re.search(r"\(([\w-]+): \1: ", line), line


def test_cache_info_says_what_its_micromamba_numbers_are(world, channel, standin):
    assert world.create("a", "--python", "3.11", "-c", channel, "--micromamba", str(standin), "-q").returncode == 0
    r = world.run("cache", "info", "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    line = next(line for line in r.stdout.splitlines() if "micromamba binaries" in line)
    assert re.search(r": \d+ binar(y|ies), [\d.]+ \w?B in the directory$", line), line


def test_pack_of_a_linux_environment_prints_only_its_unpack_steps(world, made_env, tmp_path):
    r = world.run("pack", str(made_env), "-o", str(tmp_path / "env.tar.gz"))
    assert r.returncode == 0, r.stderr
    assert "unpack (posix)" in r.stderr and "windows" not in r.stderr.lower(), r.stderr
    out = world.run("pack", str(made_env), "-o", str(tmp_path / "env2.tar.gz"), "--json").json()
    assert list(out["unpack"]) == ["posix"]


def test_list_of_a_directory_of_environments_says_to_use_envs_dir(world, made_env, tmp_path):
    envs = tmp_path / "envs"
    envs.mkdir()
    copy_env(made_env, envs / "one")
    r = world.run("list", str(envs))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "a directory of 1 (one)" in r.stderr and f"--envs-dir {envs}" in r.stderr
    listed = world.run("list", "--envs-dir", str(envs), "--json")
    assert [e["prefix"] for e in listed.json()["environments"]] == [str(envs / "one")]
