"""Where the files mambaboot keeps per user go when HOME or the XDG variables are odd: a relative
base directory is ignored (the XDG Base Directory Specification: "If an implementation encounters
a relative path in any of these variables it should consider the path invalid and ignore it"),
and a relative home is refused, never resolved against the current directory."""

import pytest

from mambaboot.common.errors import UsageError
from mambaboot.pipeline.plan import CreateInputs, make_plan
from tests.support.snapshot import diff, snapshot
from tests.test_plan import posix_host, windows_host


@pytest.mark.parametrize("value", ["rel", "./cache", "~/cache", ""])
def test_a_relative_xdg_cache_home_is_ignored(value):
    plan = make_plan(posix_host({"HOME": "/home/u", "XDG_CACHE_HOME": value}), CreateInputs())
    assert plan.cache_dir == "/home/u/.cache/mambaboot"


def test_a_relative_localappdata_is_ignored():
    host = windows_host({"USERPROFILE": "C:\\Users\\u", "LOCALAPPDATA": "AppData\\Local"})
    assert make_plan(host, CreateInputs(prefix="C:\\envs\\e")).cache_dir == "C:\\Users\\u\\AppData\\Local\\mambaboot\\Cache"


@pytest.mark.parametrize("host", [posix_host({"HOME": "home/u"}), windows_host({"USERPROFILE": "Users\\u"}),
                                  windows_host({"USERPROFILE": "C:Users\\u"})],
                         ids=["HOME", "USERPROFILE", "USERPROFILE-drive-relative"])
def test_a_relative_home_is_refused(host):
    with pytest.raises(UsageError, match="not an absolute path"):
        make_plan(host, CreateInputs(prefix="C:\\envs\\e" if host.windows else "/envs/e"))


@pytest.mark.parametrize("profile", ["C:\\Users\\u", "C:/Users/u", "\\\\server\\share\\u", "\\Users\\u"])
def test_a_windows_home_from_a_root_is_absolute(profile):
    assert windows_host({"USERPROFILE": profile}).home() == profile


def test_a_given_cache_dir_needs_no_home():
    assert make_plan(posix_host({"HOME": "home/u"}), CreateInputs(cache_dir="/c")).cache_dir == "/c"


def test_cache_info_with_a_relative_xdg_cache_home_reads_the_home_cache_and_writes_nothing_here(world):
    here = world.root / "here"
    here.mkdir()
    before = snapshot(world.root)
    r = world.run("cache", "info", "--json", env={"XDG_CACHE_HOME": "relcache"}, cwd=here)
    assert r.returncode == 0, r.stderr
    assert r.json()["cache_dir"] == str(world.home / ".cache" / "mambaboot")
    assert diff(before, snapshot(world.root)) == {}


# every command that reads the home (list reads none: its envs root, then what it finds there)
@pytest.mark.parametrize("command", [["create", "e", "--dry-run"], ["cache", "clean", "--dry-run"], ["cache", "info"],
                                     ["doctor"]])
def test_a_relative_home_fails_loudly_and_nothing_lands_in_the_current_directory(world, command):
    here = world.root / "here"
    here.mkdir()
    env = {"HOME": "relhome", "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": ""}
    before = snapshot(world.root)
    r = world.run(*command, env=env, cwd=here)
    assert r.returncode == 2, r.stderr
    assert "HOME is 'relhome', not an absolute path" in r.stderr and "Traceback" not in r.stderr
    assert diff(before, snapshot(world.root)) == {}
