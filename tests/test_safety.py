"""Safety (issue 12): --force never loses the old environment, names that cannot work are refused
up front, https-only survives redirects."""

import subprocess
from pathlib import Path

import pytest

from tests.support.snapshot import diff, snapshot


def _created(world, channel, standin, name="keep"):
    r = world.create(name, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world.envs / name


def test_force_stops_with_nothing_changed_when_the_old_environment_cannot_move_aside(world, reliability, channel,
                                                                                    standin):
    prefix = _created(world, channel, standin)
    before = snapshot(world.root)
    subprocess.run(["chattr", "+i", str(world.envs)], check=True)  # no rename in here, even for root
    try:
        r = world.create("keep", "--force", "-c", channel, "--micromamba", str(standin))
    finally:
        subprocess.run(["chattr", "-i", str(world.envs)], check=True)
    # refused as its lock is taken (no change to a place without it), before any move aside
    ok = (r.returncode == 4 and "is not writable" in r.stderr and "nothing was changed" in r.stderr
          and diff(before, snapshot(world.root)) == {})
    reliability.record("--force: the old environment survives a failed move aside", ok)
    assert ok, r.stderr
    assert (prefix / ".mambaboot" / "record.json").is_file()


@pytest.mark.parametrize("length", [228, 240, 300])
def test_a_name_too_long_for_the_file_system_is_refused_up_front(world, channel, standin, length):
    before = world.outside()
    r = world.create("n" * length, "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2, r.stderr
    assert "at most 227 fit" in r.stderr
    assert diff(before, world.outside()) == {}


@pytest.fixture
def short_dir():
    """A directory with a short path: a 227-character name under the world's own directory would
    pass the 255 bytes a prefix may have (pathrules.BINARY_ROOM)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="mb-", dir="/tmp")
    yield path
    shutil.rmtree(path)


def test_the_longest_name_that_fits_can_be_created_and_replaced(world, channel, standin, short_dir):
    prefix = f"{short_dir}/{'n' * 227}"
    for extra in ((), ("--force",)):
        r = world.create("--prefix", prefix, *extra, "-c", channel, "--micromamba", str(standin))
        assert r.returncode == 0, r.stderr
    assert (Path(prefix) / ".mambaboot" / "record.json").is_file()


# ------------------------------------------------------------------ https-only survives redirects

from tests.support.server import AssetServer, Fault  # noqa: E402

# Never contacted: the rule refuses the hop before any connection (.invalid never resolves).
ELSEWHERE = "http://redirect-target.invalid/micromamba"


@pytest.fixture
def mirror(fault_standin):  # the stand-in in every mode: a real micromamba served alone lacks its libraries
    with AssetServer() as server:
        server.add("/mm", fault_standin.read_bytes())
        server.add("/mm.sha256", __import__("hashlib").sha256(fault_standin.read_bytes()).hexdigest().encode())
        yield server


def _create_from(world, channel, url):
    return world.create("py", "-c", channel, "--micromamba-url", url)


@pytest.mark.parametrize("case", ["to plain http elsewhere", "digest to plain http elsewhere", "to file://",
                                  "a loop", "too many hops"])
def test_redirects_that_break_the_rule_are_refused(world, reliability, channel, mirror, case):
    if case == "to plain http elsewhere":
        mirror.faults("/start", [Fault.redirect(ELSEWHERE)])
        mirror.add("/start.sha256", mirror._files["/mm.sha256"])
    elif case == "digest to plain http elsewhere":
        mirror.add("/start", mirror._files["/mm"])
        mirror.faults("/start.sha256", [Fault.redirect(ELSEWHERE + ".sha256")])
    elif case == "to file://":
        mirror.faults("/start", [Fault.redirect("file:///etc/passwd")])
        mirror.add("/start.sha256", mirror._files["/mm.sha256"])
    elif case == "a loop":
        mirror.faults("/start", [Fault.redirect("/loop")] * 30)
        mirror.faults("/loop", [Fault.redirect("/start")] * 30)
        mirror.add("/start.sha256", mirror._files["/mm.sha256"])
    else:
        for n in range(12):
            mirror.faults(f"/hop{n}" if n else "/start", [Fault.redirect(f"/hop{n + 1}")])
        mirror.add("/hop12", mirror._files["/mm"])
        mirror.add("/start.sha256", mirror._files["/mm.sha256"])
    before = world.outside()
    r = _create_from(world, channel, mirror.url + "/start")
    ok = r.returncode == 5 and "Traceback" not in r.stderr and not (world.envs / "py").exists() \
        and diff(before, world.outside()) == {}
    reliability.record("redirects: every hop held to https-only", ok)
    assert ok, r.stderr
    if "elsewhere" in case:
        assert "uses plain http" in r.stderr and "redirect-target.invalid" in r.stderr


def test_a_redirect_within_the_rule_is_followed(world, reliability, channel, mirror):
    with AssetServer() as other:  # another loopback server: plain http is allowed there
        other.add("/mm", mirror._files["/mm"])
        mirror.faults("/start", [Fault.redirect(other.url + "/mm")])
        mirror.add("/start.sha256", mirror._files["/mm.sha256"])
        r = _create_from(world, channel, mirror.url + "/start")
    ok = r.returncode == 0
    reliability.record("redirects: every hop held to https-only", ok)
    assert ok, r.stderr


# ------------------------------------------------------------------ every bad input has a documented code


def _run_bytes(world, *args):
    proc = subprocess.run([*[a.encode() if isinstance(a, str) else a for a in world.command], b"create",
                           b"--cache-dir", str(world.cache).encode(), *args],
                          env=world.env, cwd=str(world.envs), capture_output=True, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


@pytest.mark.parametrize("where", [[b"bad\xff\xfename"], [b"--prefix", b"/tmp/bad\xffprefix"],
                                   [b"x", b"--envs-dir", b"/tmp/bad\xffenvs"]])
def test_invalid_utf8_is_a_usage_error(world, channel, standin, where):
    before = world.outside()
    code, out, err = _run_bytes(world, *where, b"-c", channel.encode(), b"--micromamba", str(standin).encode())
    assert code == 2, err
    assert "not valid UTF-8" in err and "Traceback" not in err
    assert diff(before, world.outside()) == {}


def test_a_cache_dir_that_is_a_file_is_a_usage_error(world, channel, standin):
    a_file = world.tmp / "cache-file"
    a_file.write_text("mine")
    r = world.run("create", "py", "--cache-dir", str(a_file), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and "is not a directory" in r.stderr, r.stderr
    assert a_file.read_text() == "mine"


def test_a_cache_dir_below_a_file_is_a_usage_error(world, channel, standin):
    a_file = world.tmp / "cache-file"
    a_file.write_text("mine")
    before = snapshot(world.root)
    r = world.run("create", "py", "--cache-dir", str(a_file / "sub"), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and f"{a_file} is not a directory" in r.stderr, r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("args", [["create", "--bogus", "--json"], ["create", "--python", "--json"],
                                  ["list", "--json", "--nope"], ["remove", "--json"]])
def test_a_bad_command_line_with_json_prints_the_documented_object(world, args):
    import json

    r = world.run(*args)
    assert r.returncode == 2, r.stderr
    assert set(json.loads(r.stdout)) == {"error", "exit_code"} and json.loads(r.stdout)["exit_code"] == 2


# ------------------------------------------------------------------ remove and create --force agree


def test_an_adopted_environment_is_deleted_by_neither_without_force(world, channel, standin):
    prefix = world.envs / "theirs"
    proc = subprocess.run([str(standin), "create", "-y", "--no-rc", "-c", channel, "-p", str(prefix),
                           "-r", str(world.tmp / "root"), "python", "conda", "mamba"], capture_output=True, text=True,
                          env={**world.env, "CONDA_PKGS_DIRS": str(world.cache / "Python" / "pkgs")})
    assert proc.returncode == 0, proc.stderr
    assert world.run("adopt", str(prefix), "--cache-dir", str(world.cache)).returncode == 0
    before = snapshot(prefix)

    r = world.create("--prefix", str(prefix), "--force", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "adopted" in r.stderr and "remove --force" in r.stderr
    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 4 and "adopted" in r.stderr and "--force" in r.stderr
    assert diff(before, snapshot(prefix)) == {}

    r = world.run("remove", str(prefix), "--yes", "--force", "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert not prefix.exists()


# ------------------------------------------------------------------ no path becomes code

import os  # noqa: E402

# Each would be live inside sh's "..." of an entry point's '''exec' "PREFIX/bin/python" line.
LIVE_IN_DQUOTES = ["a $(touch pwned) b", "a `touch pwned` b", 'a " b', "a \\ b", "x$HOME", "long`id`" + "d" * 150]


@pytest.mark.parametrize("component", LIVE_IN_DQUOTES, ids=repr)
def test_a_prefix_that_sh_would_read_as_code_is_refused_before_anything_is_written(world, reliability, channel,
                                                                                  standin, component):
    before = snapshot(world.root)
    r = world.create("--prefix", str(world.root / component), "-c", channel, "--micromamba", str(standin))
    ok = (r.returncode == 2 and "entry points run the prefix through sh" in r.stderr
          and diff(before, snapshot(world.root)) == {} and not list(world.root.rglob("pwned")))
    reliability.record("prefix characters: refused up front, nothing written", ok)
    assert ok, r.stderr


def _foreign_env(path):
    (path / "conda-meta").mkdir(parents=True)
    (path / "bin").mkdir()
    return path


@pytest.mark.parametrize("command", [["adopt"], ["activate-scripts"]])
def test_adopt_and_activate_scripts_hold_the_same_character_policy(world, reliability, command):
    prefix = _foreign_env(world.root / "a $(touch pwned)")
    before = snapshot(world.root)
    r = world.run(*command, str(prefix), *(["--cache-dir", str(world.cache)] if command == ["adopt"] else []))
    ok = r.returncode == 2 and "'$'" in r.stderr and diff(before, snapshot(world.root)) == {}
    reliability.record("prefix characters: refused up front, nothing written", ok)
    assert ok, r.stderr


@pytest.mark.parametrize("name", ["a$b", "a`b", 'a"b'])
def test_bootstrap_sh_holds_the_same_character_policy(world, tmp_path, name):
    script = __import__("pathlib").Path(__file__).parent.parent / "bootstrap" / "bootstrap.sh"
    before = snapshot(world.root)
    r = subprocess.run(["dash", str(script), name], cwd=str(world.envs), capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"], "HOME": str(world.home)}, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "entry points run the prefix through sh" in r.stderr, r.stderr
    assert diff(before, snapshot(world.root)) == {}


INTERACTIVE = {"bash": ["bash", "--noprofile", "--norc", "--noediting", "-i"], "dash": ["dash", "-i"], "zsh": ["zsh", "-f", "-i"]}


@pytest.mark.parametrize("shell", sorted(INTERACTIVE))
def test_the_prompt_shows_a_moved_prefix_literally_and_runs_nothing(world, reliability, shell):
    made = _foreign_env(world.root / "plain")
    r = world.run("activate-scripts", str(made))
    assert r.returncode == 0, r.stderr
    # Moved after the scripts were written: they find themselves, so the prompt carries the new name.
    prefix = world.root / "e $HOME `touch pwned` %~ x"
    made.rename(prefix)
    stdin = f"MAMBABOOT_ENV='{prefix}'\n. \"$MAMBABOOT_ENV/.mambaboot/activate.sh\"\n:\nexit\n"
    proc = subprocess.run(INTERACTIVE[shell], input=stdin, capture_output=True, text=True, cwd=str(world.root),
                          env={"PATH": os.environ["PATH"], "HOME": str(world.home), "PS1": "> "}, timeout=60)
    ok = f"({prefix.name}) > " in proc.stderr and not list(world.root.rglob("pwned"))
    reliability.record("activation prompt: the directory name shown literally, nothing run", ok)
    assert ok, proc.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_the_machine_refusing_a_write_is_exit_9_not_a_bug(world, channel, standin, json_flag):
    """sysfs takes no new directories, not even from root: an OSError from deep inside the run.
    Exit 1 stays reserved for bugs (guide §5.14)."""
    r = world.create("py", "-c", channel, "--micromamba", str(standin), *json_flag, "--cache-dir", "/sys/mambaboot-cache")
    assert r.returncode == 9, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("mambaboot: error: ") and "/sys/mambaboot-cache" in r.stderr
    assert "Traceback" not in r.stderr
    if json_flag:
        import json

        assert json.loads(r.stdout)["exit_code"] == 9
