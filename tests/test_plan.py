"""Planning is pure: every rule is checked here against a fake Host, Windows included."""

import ntpath
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mambaboot.common import pathrules
from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host, conda_subdir
from mambaboot.pipeline.plan import PINNED_MICROMAMBA, CreateInputs, make_plan


def posix_host(env=None, dirs=(), cwd="/work"):
    return Host(environ=dict(env or {"HOME": "/home/u"}), windows=False, subdir="linux-64", cwd=cwd,
                isdir=lambda p: p in dirs)


def windows_host(env=None, dirs=(), cwd="D:\\projects"):
    env = dict(env or {"USERPROFILE": "C:\\Users\\u", "LOCALAPPDATA": "C:\\Users\\u\\AppData\\Local"})
    return Host(environ=env, windows=True, subdir="win-64", cwd=cwd, isdir=lambda p: p in dirs)


def test_default_name_is_py_in_current_directory():
    plan = make_plan(posix_host(), CreateInputs())
    assert plan.name == "py"
    assert plan.prefix == "/work/py"
    assert plan.specs == ("python", "conda", "mamba")
    assert plan.channels == ("conda-forge",)


def test_python_version_suffixes_name_like_the_users_script():
    plan = make_plan(posix_host(), CreateInputs(name="myenv", python="3.12"))
    assert plan.name == "myenv_3_12"
    assert plan.prefix == "/work/myenv_3_12"
    assert plan.specs[0] == "python=3.12"


def test_extra_packages_and_channels_are_kept_in_order():
    plan = make_plan(posix_host(), CreateInputs(packages=("uv", "numpy>=2"), channels=("a", "b")))
    assert plan.specs == ("python", "conda", "mamba", "uv", "numpy>=2")
    assert plan.channels == ("a", "b")


def test_py_envs_naming_no_directory_is_refused_not_passed_over():
    env = {"HOME": "/home/u", "PY_ENVS": "/envs"}
    assert make_plan(posix_host(env, dirs={"/envs"}), CreateInputs()).prefix == "/envs/py"
    with pytest.raises(UsageError, match="PY_ENVS names /envs, which is not a directory"):
        make_plan(posix_host(env, dirs=set()), CreateInputs())
    assert make_plan(posix_host({"HOME": "/home/u"}, dirs=set()), CreateInputs()).prefix == "/work/py", "unset: cwd"


def test_envs_dir_option_wins_over_py_envs():
    env = {"HOME": "/home/u", "PY_ENVS": "/envs"}
    plan = make_plan(posix_host(env, dirs={"/envs"}), CreateInputs(envs_dir="rel/envs"))
    assert plan.prefix == "/work/rel/envs/py"


def test_windows_drive_conventions_apply_when_present():
    host = windows_host(dirs={"D:\\dev\\Anaconda\\envs", "D:\\CACHE"})
    plan = make_plan(host, CreateInputs(python="3.12"))
    assert plan.prefix == "D:\\dev\\Anaconda\\envs\\py_3_12"
    assert plan.cache_dir == "D:\\CACHE"
    assert plan.pkgs_dirs == ("D:\\CACHE\\Python\\pkgs",)
    assert plan.micromamba.url.endswith("/micromamba-win-64")


def test_windows_falls_back_to_cwd_and_user_cache():
    plan = make_plan(windows_host(cwd="C:\\projects"), CreateInputs())
    assert plan.prefix == "C:\\projects\\py"
    assert plan.cache_dir == ntpath.join("C:\\Users\\u\\AppData\\Local", "mambaboot", "Cache")
    assert not [w for w in plan.warnings if "another volume" in w]


HOME_SHARE = {"USERPROFILE": "C:\\Users\\u", "LOCALAPPDATA": "C:\\Users\\u\\AppData\\Local",
              "HOMESHARE": "\\\\fs\\users$\\u", "HOMEDRIVE": "H:", "HOMEPATH": "\\"}


@pytest.mark.parametrize("cwd", ["\\\\fs\\users$\\u\\Downloads", "//fs/users$/u/Downloads", "H:\\Downloads"])
def test_a_current_directory_on_a_network_share_is_no_default_place(cwd):
    """A Downloads folder redirected to a share (Folder Redirection), or the network home drive:
    every package file would go over the network; named, it is the user's choice, and the cache
    is then the user's own, never a CACHE folder made at the share's root."""
    with pytest.raises(UsageError, match="is on a network share.*pass --envs-dir DIR on a local disk, or set PY_ENVS"):
        make_plan(windows_host(env=HOME_SHARE, cwd=cwd), CreateInputs())
    plan = make_plan(windows_host(env=HOME_SHARE, cwd=cwd), CreateInputs(envs_dir=cwd))
    assert plan.cache_dir == "C:\\Users\\u\\AppData\\Local\\mambaboot\\Cache"
    share = ntpath.splitdrive(ntpath.normpath(cwd))[0]
    there = make_plan(windows_host(env=HOME_SHARE, cwd=cwd, dirs={share + "\\CACHE"}), CreateInputs(envs_dir=cwd))
    assert there.cache_dir == share + "\\CACHE", "one there already is used"


@pytest.mark.parametrize("user", ["José", "张三", "Jane O'Brien"])
def test_a_profile_with_non_ascii_characters_is_no_default_cache(user):
    """micromamba on Windows converts paths to the ANSI code page, and a package cache holding a
    character that page lacks fails (mamba-org/mamba#3097, #3228: "No mapping for the Unicode
    character exists in the target multi-byte code page"): the default cache is then the
    environment's drive's CACHE, never one under a profile like C:\\Users\\José; an ASCII profile keeps
    its own, and a cache the user names is taken as named."""
    profile = f"C:\\Users\\{user}"
    env = {"USERPROFILE": profile, "LOCALAPPDATA": profile + "\\AppData\\Local"}
    plan = make_plan(windows_host(env=env, cwd=profile + "\\Downloads"), CreateInputs(python="3.12"))
    assert plan.prefix == profile + "\\Downloads\\py_3_12"
    expected = "C:\\CACHE" if not user.isascii() else ntpath.join(profile, "AppData", "Local", "mambaboot", "Cache")
    assert plan.cache_dir == expected and plan.pkgs_dirs[0].startswith(expected)
    named = make_plan(windows_host(env=env, cwd=profile), CreateInputs(cache_dir=profile + "\\cache"))
    assert named.cache_dir == profile + "\\cache"


def test_windows_default_cache_follows_the_environments_drive_not_the_cwd():
    """micromamba hard-links only within a volume: --envs-dir D:\\envs run from C: gets D:\\CACHE."""
    plan = make_plan(windows_host(cwd="C:\\work"), CreateInputs(envs_dir="D:\\envs"))
    assert plan.prefix == "D:\\envs\\py" and plan.cache_dir == "D:\\CACHE"
    assert plan.pkgs_dir == "D:\\CACHE\\Python\\pkgs"
    assert not [w for w in plan.warnings if "another volume" in w]
    # the existing <drive>\\CACHE of the target's drive wins, whatever the cwd
    plan = make_plan(windows_host(cwd="D:\\work", dirs={"E:\\CACHE"}), CreateInputs(prefix="E:\\x\\env"))
    assert plan.cache_dir == "E:\\CACHE"


def test_a_given_cache_on_another_volume_is_warned_with_its_figures():
    plan = make_plan(windows_host(cwd="C:\\work"), CreateInputs(envs_dir="D:\\envs", cache_dir="C:\\cache"))
    [warning] = [w for w in plan.warnings if "another volume" in w]
    assert "C: versus D:" in warning and "copy every package file" in warning and "D:\\CACHE" in warning
    devices = {"/mnt/fast": 7, "/home/u/.cache": 3}
    host = posix_host()
    host = type(host)(**{**host.__dict__, "device": lambda p: next(
        (d for root, d in devices.items() if p.startswith(root)), None)})
    plan = make_plan(host, CreateInputs(prefix="/mnt/fast/env"))
    [warning] = [w for w in plan.warnings if "another volume" in w]
    assert "device 0x3" in warning and "device 0x7" in warning and "/home/u/.cache/mambaboot/Python/pkgs" in warning
    devices["/home/u/.cache"] = 7
    assert not [w for w in make_plan(host, CreateInputs(prefix="/mnt/fast/env")).warnings if "another volume" in w]


def test_conda_pkgs_dirs_first_entry_is_the_package_cache():
    env = {"HOME": "/home/u", "CONDA_PKGS_DIRS": "/a/pkgs, /b/pkgs"}
    plan = make_plan(posix_host(env), CreateInputs(cache_dir="/c"))
    assert plan.pkgs_dirs == ("/a/pkgs", "/b/pkgs")
    assert plan.pkgs_dir == "/a/pkgs"


def test_default_cache_follows_xdg():
    plan = make_plan(posix_host({"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}), CreateInputs())
    assert plan.cache_dir == "/xdg/mambaboot"
    assert plan.pkgs_dir == "/xdg/mambaboot/Python/pkgs"


@pytest.mark.parametrize("prefix, char", [("/x/it's", "'"), ("/x/a\nb", "U+000A"), ("/x/a:b", ":"),
                                          ("/x/a$b", "'\\$'"), ("/x/a`b", "'`'"), ('/x/a"b', "'\""), ("/x/a\\b", "'\\\\\\\\'"),
                                          ("/x/\udcff", "not valid UTF-8")])
def test_posix_prefix_characters_packages_break_on_are_refused(prefix, char):
    with pytest.raises(UsageError, match=char.replace("+", r"\+")):
        make_plan(posix_host(), CreateInputs(prefix=prefix))


@pytest.mark.parametrize("prefix", ["D:\\a%b", "D:\\a!b", "D:\\a|b", "D:\\a;b", "D:\\x\\CON", "D:\\x\\nul.txt", "D:\\x\\trail."])
def test_windows_prefix_rules(prefix):
    with pytest.raises(UsageError):
        make_plan(windows_host(), CreateInputs(prefix=prefix))


@pytest.mark.parametrize("prefix", ["/x/with space", "/x/ünï", "/x/a&b|c;d#e~f(g)h<i>^!%*?[]{}"])
def test_posix_accepts_other_characters(prefix):
    assert make_plan(posix_host(), CreateInputs(prefix=prefix)).prefix == prefix


@pytest.mark.parametrize("enabled, warned", [(False, True), (None, True), (True, False)])
def test_long_windows_prefix_warns_unless_long_paths_are_enabled(monkeypatch, enabled, warned):
    from mambaboot.common import winsys
    from mambaboot.pipeline import create
    from tests.support.recorder import Recorder

    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: enabled)
    plan = make_plan(windows_host(), CreateInputs(prefix="D:\\" + "a" * 200))
    seen = Recorder()
    create.preflight(plan, windows_host(), False, seen)
    assert any("LongPathsEnabled" in w for w in seen.warnings) == warned
    short = make_plan(windows_host(), CreateInputs(prefix="D:\\short"))
    seen = Recorder()
    create.preflight(short, windows_host(), False, seen)
    assert seen.warnings == []


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/abs", "a\\b", "-x"])
def test_names_that_are_not_names_are_refused(name):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(name=name))


@pytest.mark.parametrize("version", ["3.x", "abc", "3.12; rm -rf /", ">=3.10,<3.13", "", "3..1", "3.12\n", "\u0663.12",
                                     "3.12.1.1", " 3.12", "3.12."])
def test_python_versions_that_are_not_versions_are_refused(version):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(python=version))


@pytest.mark.parametrize("version", ["2.1", "2.1.0\n", "2.1.0-", "2.1.0-x", "2.1.0-1-2", "v2.1.0"])
def test_micromamba_versions_that_are_not_releases_are_refused(version):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(micromamba_version=version))


_CHARS = st.sampled_from(["0", "1", "9", "a", "f", "g", "A", ".", "-", " ", "\n", "\x00", "\x1f", "\x7f", "\u0663", "\u00e9"])


@settings(max_examples=400, deadline=None)
@given(text=st.lists(_CHARS, max_size=8).map("".join), hexes=st.integers(0, 3))
def test_the_checks_without_re_are_the_full_matches_they_replace(text, hexes):
    """pathrules' checks read what re.fullmatch of the old patterns does (re's ^...$ also let a
    trailing newline through, which they do not)."""
    import re

    assert pathrules.is_dotted_number(text, 1, 3) == bool(re.fullmatch(r"[0-9]+(\.[0-9]+){0,2}", text))
    assert pathrules.is_dotted_number(text, 3, 3) == bool(re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", text))
    digest = "0af9" * (16 - hexes) + text
    assert pathrules.is_sha256_hex(digest) == bool(re.fullmatch(r"[0-9a-f]{64}", digest))
    found = re.search(r"[\x00-\x1f\x7f]", text)
    assert pathrules._control(text) == (found.group() if found else None)


@pytest.mark.parametrize("field, value", [("packages", ("-y",)), ("channels", ("--offline",)), ("channels", (" ",))])
def test_values_that_would_read_as_micromamba_options_are_refused(field, value):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(**{field: value}))


def test_prefix_and_name_together_are_refused():
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(name="a", prefix="/b"))


def test_micromamba_sources():
    host = posix_host()
    assert make_plan(host, CreateInputs()).micromamba.version == PINNED_MICROMAMBA
    assert make_plan(host, CreateInputs(micromamba_version="2.7.0")).micromamba.url.endswith("/download/2.7.0-0/micromamba-linux-64")
    assert "/latest/download/" in make_plan(host, CreateInputs(micromamba_version="latest")).micromamba.url
    local = make_plan(posix_host({"HOME": "/h", "MAMBABOOT_MICROMAMBA": "bin/mm"}), CreateInputs()).micromamba
    assert (local.kind, local.path) == ("local", "/work/bin/mm")
    mirror = make_plan(host, CreateInputs(micromamba_url="https://mirror/mm")).micromamba
    assert (mirror.kind, mirror.sha256_url) == ("mirror", "https://mirror/mm.sha256")


def test_moving_sources_are_keyed_by_digest_and_pinned_ones_by_version():
    host = posix_host()
    pinned = make_plan(host, CreateInputs()).micromamba
    assert pinned.cache_key(None) == f"{PINNED_MICROMAMBA}-linux-64"
    mirror = make_plan(host, CreateInputs(micromamba_url="https://mirror/mm")).micromamba
    assert mirror.cache_key("a" * 64) != mirror.cache_key("b" * 64)
    other = make_plan(host, CreateInputs(micromamba_url="https://other/mm")).micromamba
    assert mirror.cache_key("a" * 64) != other.cache_key("a" * 64)


@pytest.mark.parametrize("url", ["http://example.invalid/mm", "ftp://x/mm", "mm"])
def test_insecure_or_odd_mirror_urls_are_refused(url):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(micromamba_url=url))


def test_plain_http_is_allowed_for_loopback_or_when_asked():
    make_plan(posix_host(), CreateInputs(micromamba_url="http://127.0.0.1:8000/mm"))
    make_plan(posix_host(), CreateInputs(micromamba_url="http://example.invalid/mm", allow_http=True))


@pytest.mark.parametrize("bad", ["abc", "0" * 63, "g" * 64])
def test_bad_expected_digest_is_refused(bad):
    with pytest.raises(UsageError):
        make_plan(posix_host(), CreateInputs(micromamba_sha256=bad))


@pytest.mark.parametrize("system, machine, subdir", [
    ("Linux", "x86_64", "linux-64"), ("Linux", "aarch64", "linux-aarch64"), ("Linux", "ppc64le", "linux-ppc64le"),
    ("Darwin", "x86_64", "osx-64"), ("Darwin", "arm64", "osx-arm64"), ("Windows", "AMD64", "win-64"),
])
def test_conda_subdir(system, machine, subdir):
    assert conda_subdir(system, machine) == subdir


@pytest.mark.parametrize("build, subdir", [(22000, "win-64"), (26100, "win-64"), (19045, "win-arm64"), (0, "win-arm64")])
def test_arm64_windows_takes_win_64_from_windows_11_on(build, subdir):
    """As the bootstrap scripts decide: conda-forge builds conda for win-arm64 for Python 3.14 only, and
    Windows 11 (build 22000 on) runs x64 programs under its x64 emulation; Windows 10 on ARM runs
    none, and only micromamba's win-arm64 build runs there."""
    assert conda_subdir("Windows", "ARM64", build) == subdir
    assert conda_subdir("Windows", "AMD64", build) == "win-64"


ARM64_EMULATED = ("ARM64: using win-64 (x64) under Windows 11's x64 emulation: conda-forge builds conda for "
                  "win-arm64 for Python 3.14 only (conda/conda#15448)")


@pytest.mark.parametrize("processor", [{"PROCESSOR_ARCHITECTURE": "ARM64"},
                                       {"PROCESSOR_ARCHITECTURE": "x86", "PROCESSOR_ARCHITEW6432": "ARM64"}])
def test_create_says_in_one_line_that_arm64_windows_11_gets_win_64(processor):
    from mambaboot.common import host

    machine = Host(environ={**processor, "USERPROFILE": "C:\\Users\\u"}, windows=True, subdir="win-64", cwd="C:\\")
    assert host.own_packages(machine) == ARM64_EMULATED
    told = Host(environ={"PROCESSOR_ARCHITECTURE": "AMD64"}, windows=True, subdir="win-64", cwd="C:\\")
    assert host.own_packages(told) is None, "a bootstrap script's hand-over has said it already"
    assert host.own_packages(posix_host()) is None


def test_arm64_windows_10_is_refused_before_anything_naming_what_is_missing():
    from mambaboot.common import host
    from mambaboot.common.errors import ObtainError

    machine = Host(environ={"PROCESSOR_ARCHITECTURE": "ARM64"}, windows=True, subdir="win-arm64", cwd="C:\\")
    with pytest.raises(ObtainError) as refused:
        host.own_packages(machine)
    assert refused.value.exit_code == 5
    assert str(refused.value) == ("ARM64 Windows 10 runs no x64 program, and mambaboot makes no win-arm64 environment "
                                  "(conda-forge builds conda there for Python 3.14 only: conda/conda#15448); use "
                                  "Windows 11 or an x64 machine")


def test_default_channels_come_from_the_environment_when_not_given():
    host = posix_host({"HOME": "/h", "MAMBABOOT_CHANNELS": "file:///m/a, file:///m/b"})
    assert make_plan(host, CreateInputs()).channels == ("file:///m/a", "file:///m/b")
    assert make_plan(host, CreateInputs(channels=("x",))).channels == ("x",)
    with pytest.raises(UsageError):
        make_plan(posix_host({"HOME": "/h", "MAMBABOOT_CHANNELS": "-x"}), CreateInputs())


@pytest.mark.parametrize("channel, subdir, folder", [
    # libmamba's own cases (libmamba/tests/src/core/test_package_fetcher.cpp, "package_cache_folder_relative_path")
    ("http://localhost:8000/mychannel", "noarch", "http/localhost_8000/mychannel/noarch"),
    ("file:///C:/Users/name/packages", "win-64", "file//C_/Users/name/packages/win-64"),
    ("https://user:pass@repo.example.com/channel/noarch", "noarch", "https/repo.example.com/channel/noarch"),
    ("https://repo.example.com/t/secret-token/chan", "win-64", "https/repo.example.com/chan/win-64"),
])
def test_the_cache_folder_is_libmambas(channel, subdir, folder):
    from mambaboot.common import cachepaths

    assert cachepaths.folder(channel, subdir) == folder


@pytest.mark.parametrize("channel, folder", [
    # libmamba 2.8.1: a path is a channel when util::is_explicit_path says so (a drive letter and a
    # separator, /, ~, ./, ../); resolve_path_location makes it a file URL (util::abs_path_to_url,
    # percent-encoded but for the drive's colon), whose folder repeats the whole path
    ("C:\\Users\\Jane Doe\\Documents\\GitHub\\mambaboot\\tryout\\channel",
     "file//C_/Users/Jane%20Doe/Documents/GitHub/mambaboot/tryout/channel/win-64"),
    ("D:/mirror/conda-forge/", "file//D_/mirror/conda-forge/win-64"),
    ("./channel", "file//D_/projects/channel/win-64"),
    ("../channels/José", "file//D_/channels/Jos%C3%A9/win-64"),
    # not explicit there (a backslash after the dot): a name, below the channel alias
    (".\\channel", "https/" + "h" * 18 + "/._channel/win-64"),
    ("file:///C:/Users/Jane Doe/chan", "file//C_/Users/Jane%20Doe/chan/win-64"),
])
def test_a_channel_given_as_a_path_is_kept_in_a_folder_repeating_its_whole_path(channel, folder):
    from mambaboot.common import cachepaths

    assert cachepaths.folder(channel, "win-64", cwd="D:\\projects") == folder


def test_no_cache_fits_and_the_warning_says_what_does(monkeypatch):
    """The try-out in a folder deeper than a user's Documents, with real micromamba: its channel's
    folder alone leaves no room for any cache; the warning never advises a length no cache can
    have, and names LongPathsEnabled and a shorter channel path instead. In a shallower one only
    a shorter cache fits, and the warning advises its length."""
    from mambaboot.common import cachepaths, winsys
    from mambaboot.pipeline import create
    from tests.support.recorder import Recorder

    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: False)
    deep = "C:\\Users\\Jane Doe\\Documents\\GitHub\\mambaboot\\tryout"
    assert len(deep) == 51
    deeper = deep + "\\" + "x" * 30
    plan = make_plan(windows_host(), CreateInputs(prefix=deeper + "\\demo_3_12", cache_dir=deeper + "\\cache",
                                                  channels=(deeper + "\\channel",)))
    seen = Recorder()
    create.preflight(plan, windows_host(), False, seen)
    said, = seen.warnings
    assert not re.search(r"at most -?\d+ characters", said), said
    shortest = len(cachepaths.SHORTEST_PKGS)
    assert f"no cache can leave room: the shortest pkgs directory ({cachepaths.SHORTEST_PKGS}, {shortest} characters)" in said
    assert "LongPathsEnabled" in said and "a shorter path for the channel" in said, said
    # where a cache can fit, the length it advises is one a cache can have
    deep = "C:\\Users\\Jane Doe\\Documents\\tryout"
    plan = make_plan(windows_host(), CreateInputs(prefix=deep + "\\demo_3_12", cache_dir=deep + "\\cache",
                                                  channels=(deep + "\\channel",)))
    seen = Recorder()
    create.preflight(plan, windows_host(), False, seen)
    said, = seen.warnings
    most = int(re.search(r"at most (-?\d+) characters", said).group(1))
    assert shortest <= most < len(plan.pkgs_dirs[0]), said
    fits = "C:\\" + "c" * (most - len(cachepaths.SHORTEST_PKGS) + 1)
    assert cachepaths.overrun(ntpath.join(fits, "Python", "pkgs"), plan.channels, ("win-64", "noarch"),
                              cwd="D:\\projects") is None


def test_a_named_channel_lies_below_the_channel_alias():
    from mambaboot.common import cachepaths

    assert cachepaths.folder("conda-forge", "win-64", "https://mirror.example/conda") == "https/mirror.example/conda/conda-forge/win-64"
    # libmamba's default alias: https plus an 18-character host
    assert len(cachepaths.folder("conda-forge", "win-64")) == len("https/") + 18 + len("/conda-forge/win-64")


def test_a_prefix_whose_set_aside_name_passes_max_path_warns(monkeypatch):
    """The prefix leaves room for package files, the name it is set aside under beside it (a
    remove's, a create --force's old one, a move's copy: `.NAME.mambaboot-tmp-<TOKEN>-removing`)
    does not: the warning counts that longer path, and names it; one shorter still says nothing."""
    from mambaboot.common import winsys
    from mambaboot.common.files import tempname
    from mambaboot.pipeline import create
    from tests.support.recorder import Recorder

    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: False)
    room = pathrules.WINDOWS_MAX_PATH - pathrules.PACKAGE_DEPTH
    reference = (Path(__file__).parent.parent / "docs" / "reference.md").read_text(encoding="utf-8")
    assert f"A prefix longer than {room} characters gets a warning about long paths" in reference
    name = "e" * 60
    prefix = "D:\\" + "p" * (room - 4 - len(name)) + "\\" + name
    aside = ntpath.join(ntpath.dirname(prefix), tempname.set_aside(name, "0" * 32, "removing"))
    assert len(prefix) <= room < len(aside), "only the set-aside passes"
    seen = Recorder()
    create.preflight(make_plan(windows_host(), CreateInputs(prefix=prefix, cache_dir="D:\\CACHE")), windows_host(),
                     False, seen)
    said, = seen.warnings
    assert f"prefix is {len(prefix)} characters long ({len(aside)} under the name it is set aside under" in said
    short = "D:\\" + "p" * (room - 4 - len(name) - 57) + "\\" + name
    seen = Recorder()
    create.preflight(make_plan(windows_host(), CreateInputs(prefix=short, cache_dir="D:\\CACHE")), windows_host(),
                     False, seen)
    assert seen.warnings == [] and pathrules.longest_place(short) == room


@pytest.mark.parametrize("enabled", [False, None, True])
def test_a_cache_too_deep_for_max_path_warns_with_the_figures(monkeypatch, enabled):
    """The prefix fits; the cache, where micromamba extracts each package first, does not."""
    from mambaboot.common import cachepaths, pathrules, winsys
    from mambaboot.pipeline import create
    from tests.support.recorder import Recorder

    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: enabled)
    deep = "D:\\" + "c" * 80
    plan = make_plan(windows_host(), CreateInputs(prefix="D:\\short", cache_dir=deep))
    seen = Recorder()
    create.preflight(plan, windows_host(), False, seen)
    pkgs = plan.pkgs_dirs[0]
    length = max(cachepaths.deepest(pkgs, "conda-forge", s) for s in ("win-64", "noarch"))
    if enabled:
        assert seen.warnings == []
        return
    said, = seen.warnings
    over = length - pathrules.WINDOWS_MAX_PATH
    assert f"the package cache {pkgs} leaves too little room" in said and f"about {length} characters" in said
    assert f"{over} too many" in said and f"at most {len(pkgs) - over} characters long" in said
    fits = make_plan(windows_host(), CreateInputs(prefix="D:\\short", cache_dir="D:\\CACHE"))
    seen = Recorder()
    create.preflight(fits, windows_host(), False, seen)
    assert seen.warnings == []
