"""Cache and environment on two volumes (issue 16, goal 5), on a real second file system.

micromamba hard-links a package's files from the package cache when it can and copies them
when it cannot (2.8.1 libmamba/src/core/link.cpp ``create_or_link``: hard link, falling back
to a copy across devices; the stand-in's rattler does the same). A copied environment costs
the disk twice and is slow to make: `create` warns with the volumes' figures before the
engine runs, and `list --size` and `doctor` say which environments are copies.
"""

import json
import os


def test_an_environment_on_another_volume_is_warned_about_and_shown_as_a_copy(world, channel, standin,
                                                                              second_volume):
    far = second_volume / "envs"
    r = world.create("far", "-q", "--envs-dir", str(far), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert "another volume" in r.stderr and "copy every package file" in r.stderr
    assert f"device {os.stat(world.cache).st_dev:#x}" in r.stderr and str(second_volume) in r.stderr
    near = world.create("near", "-q", "-c", channel, "--micromamba", str(standin))
    assert near.returncode == 0 and "another volume" not in near.stderr, near.stderr

    listed = world.run("list", "--json", "--size", "--cache-dir", str(world.cache), str(far / "far"),
                       "--envs-dir", str(world.envs))
    assert listed.returncode == 0, listed.stderr
    copy = {e["name"]: e["copy"] for e in listed.json()["environments"]}
    assert copy == {"far": True, "near": False}
    unmeasured = world.run("list", "--json", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs)).json()
    assert [e["copy"] for e in unmeasured["environments"]] == [None]
    text = world.run("list", "--size", "--cache-dir", str(world.cache), str(far / "far"),
                     "--envs-dir", str(world.envs)).stdout
    assert [line.split()[0] for line in text.splitlines() if "(copy)" in line] == ["far"]

    for name, prefix, severity in (("far", far / "far", "warning"), ("near", world.envs / "near", "ok")):
        d = world.run("doctor", "--json", env={"CONDA_PREFIX": str(prefix)})
        found = [f for f in json.loads(d.stdout)["findings"] if f["check"] == "copies"]
        assert [f["severity"] for f in found] == [severity], (name, found)


class _WindowsListing:
    """A directory entry as CPython lists it on Windows: its stat() (from the listing) has
    st_nlink, st_ino and st_dev set to zero (documented for os.DirEntry.stat: "Call os.stat()
    to get these attributes"); everything else is the real entry's."""

    def __init__(self, entry):
        self._entry, self.name, self.path = entry, entry.name, entry.path

    def __getattr__(self, name):
        return getattr(self._entry, name)

    def stat(self, *, follow_symlinks=True):
        st = list(self._entry.stat(follow_symlinks=follow_symlinks))
        st[1] = st[2] = st[3] = 0  # st_ino, st_dev, st_nlink
        return os.stat_result(st)


class _WindowsScandir:
    def __init__(self, real, where):
        self._listing = real(where)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._listing.close()

    def __iter__(self):
        return (_WindowsListing(e) for e in self._listing)


def test_links_to_the_cache_are_seen_where_a_listing_has_no_link_counts(tmp_path, monkeypatch):
    """On Windows, the measures behind `list --size`, `doctor`'s copies check, `remove`'s report
    and `cache info`/`clean`'s in-use packages lstat each file: its listing says no file has
    another link, which would make every environment a copy and every cached package unused."""
    from mambaboot.common.files import confined, fileid
    from mambaboot.environment import diskusage, pkgcache

    pkg = tmp_path / "pkgs" / "tool-1.0-0"
    (pkg / "info").mkdir(parents=True)
    (pkg / "info" / "index.json").write_text("{}")
    (pkg / "lib").mkdir()
    (pkg / "lib" / "tool.py").write_text("x" * 10)
    env = tmp_path / "env"
    (env / "lib").mkdir(parents=True)
    os.link(pkg / "lib" / "tool.py", env / "lib" / "tool.py")
    (env / "own.txt").write_text("abc")

    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda where=".": _WindowsScandir(real, where))
    monkeypatch.setattr(fileid, "LISTING_HAS_LINKS", False)
    monkeypatch.setattr(confined, "BY_DESCRIPTOR", False)  # remove by path, as on Windows
    assert next(iter(os.scandir(env / "lib"))).stat().st_nlink == 0, "the stand-in lists as Windows does"

    usage = diskusage.measure(str(env))
    assert (usage.files, usage.bytes, usage.shared_files, usage.shared_bytes) == (2, 13, 1, 10)
    assert diskusage.shares_links(str(env)) is True
    assert pkgcache.info(str(tmp_path / "cache"), [str(tmp_path / "pkgs")])["package_caches"][0]["in_use"] == 1
    tally = diskusage.Tally()
    confined.remove_named(str(env), tally)
    assert tally.usage() == usage and not env.exists()
