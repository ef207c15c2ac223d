"""Every message names the true cause and every code means one thing: a path that does not exist
is exit 2 for every command, in one message naming the command; PY_ENVS naming no directory is
refused, never passed over for the current directory."""

import os
import shutil
import subprocess

import pytest

from tests.conftest import MAMBABOOT, _clean_environ


@pytest.mark.parametrize("command, extra", [
    ("run", ["--", "python"]), ("shell", []), ("lock", []), ("list", []), ("activate-scripts", []),
    ("remove", ["--yes"]), ("audit", []), ("move", ["{tmp}/elsewhere"]), ("pack", ["-o", "{tmp}/out.tar.gz"]),
    ("adopt", []), ("provision", []),
])
def test_a_path_that_does_not_exist_is_one_code_and_one_message_for_every_command(tmp_path, command, extra):
    missing = tmp_path / "nope"
    args = [command, str(missing), *(a.format(tmp=tmp_path) for a in extra)]
    proc = subprocess.run([*MAMBABOOT, *args], env=_clean_environ(HOME=str(tmp_path), TMPDIR=str(tmp_path)),
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1:]) == (
        2, [f"mambaboot: error: {missing} does not exist; `mambaboot {command}` takes an existing environment"]), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing made"


def test_py_envs_naming_a_directory_that_does_not_exist_fails_loudly(world, channel, standin):
    r = world.create("--python", "3.11", "-c", channel, "--micromamba", str(standin),
                     env={"PY_ENVS": str(world.root / "missing")})
    assert r.returncode == 2, r.stderr
    assert f"PY_ENVS names {world.root / 'missing'}, which is not a directory" in r.stderr
    assert list(world.envs.iterdir()) == [], "nothing in the current directory"


def test_counts_are_said_in_english(world, channel, standin):
    taken = world.envs / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    r = world.create("--prefix", str(taken), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and f"{taken} is a non-empty directory (1 entry)" in r.stderr, r.stderr


def test_a_file_channel_create_does_not_speak_of_the_network(world, channel, standin, tmp_path):
    pem = tmp_path / "company.pem"
    pem.write_text("")
    r = world.create("py", "-c", channel, "--micromamba", str(standin), "--dry-run",
                     env={"REQUESTS_CA_BUNDLE": str(pem)})
    assert r.returncode == 0, r.stderr
    assert "network:" not in r.stderr, "a file:// channel and a micromamba on disk: nothing goes over a network"
    r = world.create("py", "-c", channel, "--dry-run", env={"REQUESTS_CA_BUNDLE": str(pem)})
    assert f"network: CA certificates: {pem} (from REQUESTS_CA_BUNDLE)" in r.stderr, "micromamba is downloaded"


def test_a_dry_run_the_shell_check_refuses_shows_no_plan(world, channel, standin):
    r = world.create("py", "-c", channel, "--micromamba", str(standin), "--dry-run",
                     env={"VIRTUAL_ENV": str(world.root / "venv")})
    assert r.returncode == 3, r.stderr
    assert r.stdout == "", "no plan is printed for a create that would be refused"
    assert "this shell already has a Python environment in it" in r.stderr


@pytest.mark.parametrize("command,where", [("create", "tmp")])
def test_a_file_where_the_cache_keeps_a_directory_is_named_as_such(world, channel, standin, command, where):
    """A file at CACHE/tmp (where create's private homes live): the machine's refusal, exit 9,
    saying that a file stands where a directory must be, never a bare "File exists"."""
    made = world.envs / "py"
    if command != "create":
        assert world.create("-c", channel, "--micromamba", str(standin)).returncode == 0
    shutil.rmtree(world.cache / where, ignore_errors=True)
    world.cache.mkdir(exist_ok=True)
    (world.cache / where).write_text("mine")
    args = {"create": ["create", "--prefix", str(world.envs / "new"), "-c", channel, "--micromamba", str(standin)],
            "move": ["move", str(made), str(world.envs / "moved")]}[command]
    r = world.run(*args, "--cache-dir", str(world.cache))
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 9 and last.startswith(f"mambaboot: error: Not a directory: {world.cache / where}"), r.stderr
    assert "a file stands where this path needs a directory" in last, r.stderr
    assert (world.cache / where).read_text() == "mine"
    assert made.is_dir() == (command != "create") and not (world.envs / "new").exists()


@pytest.mark.parametrize("args, option", [
    (["remove", "--envs=--", "demo", "-y", "--force"], "--envs-dir"),  # abbreviated: argparse reads it
    (["remove", "--envs-dir=--", "demo", "-y", "--force"], "--envs-dir"),
    (["remove", "--envs-dir=", "demo", "-y", "--force"], "--envs-dir"),
    (["remove", "demo", "-y", "-y", "--force", "--envs-dir=--"], "--envs-dir"),  # repeated flag: argparse
    (["create", "demo", "--prefix", ""], "-p/--prefix"), (["create", "demo", "--pre=--"], "-p/--prefix"),
    (["create", "demo", "-c=--"], "-c/--channel"), (["shell", "demo", "--shell", ""], "--shell"),
    (["lock", "demo", "-o", ""], "-o/--output"), (["pack", "demo", "--out=--"], "-o/--output"),
    (["adopt", "demo", "--cache=--"], "--cache-dir"),
])
def test_an_empty_value_or_double_dash_is_refused_never_read_as_not_given(tmp_path, args, option):
    """`--OPT=--` and `--OPT=` (however the option is spelled) name nothing: refused, exit 2,
    before anything is done; never read as the option not given (its default: $PY_ENVS)."""
    envs = tmp_path / "envs"
    (envs / "demo" / "conda-meta").mkdir(parents=True)
    (envs / "demo" / "conda-meta" / "history").write_text("")
    proc = subprocess.run([*MAMBABOOT, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=_clean_environ(HOME=str(tmp_path), TMPDIR=str(tmp_path), PY_ENVS=str(envs)))
    assert proc.returncode == 2, proc.stderr
    assert f"argument {option}: " in proc.stderr.splitlines()[-1], proc.stderr
    assert (envs / "demo" / "conda-meta" / "history").exists(), "nothing removed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["envs"], "nothing made"


@pytest.mark.parametrize("args, metavar", [
    (["remove", "", "-y", "--force"], "NAME|PREFIX"),  # PY_ENVS/"" is the envs root itself
    (["lock", ""], "PREFIX"),  # read as no PREFIX given
    (["run", "", "--", "true"], "PREFIX"), (["shell", ""], "PREFIX"), (["pack", "", "-o", "x.tar.gz"], "PREFIX"),
    (["move", "envs/root", ""], "DST"), (["list", ""], "PATH"), (["doctor", ""], "PREFIX"), (["create", ""], "NAME"),
])
def test_an_empty_name_or_prefix_is_refused_never_read_as_the_envs_root_or_not_given(tmp_path, args, metavar):
    """An empty NAME, PREFIX or PATH names nothing: refused, exit 2, the argument named, before
    anything is done; never joined to the envs root (PY_ENVS itself, here an environment) nor
    read as the working directory or as no PREFIX given."""
    envs = tmp_path / "envs"
    (envs / "root" / "conda-meta").mkdir(parents=True)
    (envs / "root" / "conda-meta" / "history").write_text("")
    proc = subprocess.run([*MAMBABOOT, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=_clean_environ(HOME=str(tmp_path), TMPDIR=str(tmp_path), PY_ENVS=str(envs / "root")))
    assert proc.returncode == 2, proc.stderr
    assert f"argument {metavar}: an empty value names nothing" in proc.stderr.splitlines()[-1], proc.stderr
    assert (envs / "root" / "conda-meta" / "history").exists(), "nothing removed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["envs"] and os.listdir(envs) == ["root"], "nothing made"
