import os

from mambaboot.common import winsys

from mambaboot.common.files import confined
from mambaboot.environment import cachelink


def test_posix_symlink(tmp_path):
    prefix, pkgs = tmp_path / "env", tmp_path / "cache" / "pkgs"
    prefix.mkdir()
    assert cachelink.link_cache(str(prefix), str(pkgs), windows=False) == "symlink"
    assert os.readlink(prefix / "pkgs") == str(pkgs) and pkgs.is_dir()


def test_windows_uses_a_junction(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(winsys, "create_junction", lambda target, link: made.append((target, link)))
    prefix = tmp_path / "env"
    prefix.mkdir()
    assert cachelink.link_cache(str(prefix), str(tmp_path / "pkgs"), windows=True) == "junction"
    assert made == [(str(tmp_path / "pkgs"), str(prefix / "pkgs"))]


def test_empty_pkgs_dir_is_replaced_and_a_full_one_kept(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "pkgs").mkdir(parents=True)
    assert cachelink.link_cache(str(prefix), str(tmp_path / "c"), windows=False) == "symlink"
    other = tmp_path / "env2"
    (other / "pkgs").mkdir(parents=True)
    (other / "pkgs" / "somebody.tar.bz2").write_bytes(b"x")
    assert cachelink.link_cache(str(other), str(tmp_path / "c"), windows=False) is None
    assert (other / "pkgs" / "somebody.tar.bz2").read_bytes() == b"x"


def test_remove_tree_never_follows_the_link_into_the_cache(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "pkg.tar.bz2").write_bytes(b"cached")
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "ro").write_text("x")
    os.chmod(prefix / "bin" / "ro", 0o444)
    os.symlink(cache, prefix / "pkgs")
    confined.remove_named(str(prefix))
    assert not prefix.exists()
    assert (cache / "pkg.tar.bz2").read_bytes() == b"cached"


def _no_junctions(made):
    """CreateJunction on a file system without reparse points (Wine's drives, FAT32, exFAT, many
    shares): the directory is made, then making it a junction fails with WinError 50, and the
    directory stays (CPython Modules/_winapi.c, _winapi_CreateJunction_impl)."""
    def create_junction(target, link):
        os.mkdir(link)
        made.append(link)
        exc = OSError(22, "The request is not supported")
        exc.winerror = 50  # set by CPython on Windows only
        raise exc

    return create_junction


def test_a_file_system_without_junctions_leaves_no_directory_behind(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(winsys, "create_junction", _no_junctions(made))
    prefix = tmp_path / "env"
    prefix.mkdir()
    try:
        cachelink.link_cache(str(prefix), str(tmp_path / "pkgs"), windows=True)
    except OSError as exc:
        assert exc.winerror == 50 and winsys.links_unsupported(exc)
    else:
        raise AssertionError("the failure was swallowed")
    assert made and not (prefix / "pkgs").exists()


def test_no_junctions_falls_back_as_no_cache_link_and_says_so_in_one_line(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from mambaboot.pipeline import finish
    from tests.support.recorder import Recorder

    monkeypatch.setattr(winsys, "create_junction", _no_junctions([]))
    prefix = tmp_path / "env"
    prefix.mkdir()
    files, reporter = [], Recorder()
    inputs = SimpleNamespace(prefix=str(prefix), pkgs_dir=str(tmp_path / "cache" / "pkgs"), windows=True)
    assert finish._link(inputs, files, reporter) is None
    assert files == [] and not (prefix / "pkgs").exists()
    assert reporter.warnings == [f"cache link: not made, as with --no-cache-link: {prefix / 'pkgs'}'s file system "
                                 "cannot link to a directory (The request is not supported, WinError 50)"]


def test_another_link_failure_is_not_taken_for_no_junctions(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from mambaboot.pipeline import finish
    from tests.support.recorder import Recorder

    def denied(target, link):
        exc = PermissionError(13, "Access is denied")
        exc.winerror = 5
        raise exc

    monkeypatch.setattr(winsys, "create_junction", denied)
    prefix = tmp_path / "env"
    prefix.mkdir()
    inputs = SimpleNamespace(prefix=str(prefix), pkgs_dir=str(tmp_path / "pkgs"), windows=True)
    try:
        finish._link(inputs, [], Recorder())
    except PermissionError as exc:
        assert exc.winerror == 5
    else:
        raise AssertionError("an access denied became a fallback")
