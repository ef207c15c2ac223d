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
