"""`mambaboot cache info|clean`: sizes; cleaning only what nothing uses."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys

import pytest

from mambaboot.common.files import filelock
from mambaboot.environment import diskusage
from tests.conftest import MAMBABOOT
from tests.support.channel import PLACEHOLDER, PackageSpec, build_channel, channel_url
from tests.support.interrupt import paused
from tests.support.snapshot import diff, snapshot
from tests.support.wine import windows_path


def _cache(world, *args):
    r = world.run("cache", *args, "--cache-dir", str(world.cache), "--json")
    assert r.returncode == 0, r.stderr
    return r.json()


def test_info_reports_packages_binaries_and_leftovers(world, channel, release_server):
    env = {"MAMBABOOT_RELEASES_URL": release_server.releases_base}
    assert world.create("a", "-c", channel, "--package", "uv", env=env).returncode == 0
    info = _cache(world, "info")
    (pkgs,) = info["package_caches"]
    assert pkgs["path"] == str(world.cache / "Python" / "pkgs")
    installed = len(list((world.envs / "a" / "conda-meta").glob("*.json")))  # in real mode, conda's dependencies too
    assert pkgs["packages"] == installed and pkgs["bytes"] > pkgs["package_bytes"] > 1_000_000
    assert pkgs["in_use"] == pkgs["packages"], "the environment installed each (mamba's files, all copied, too)"
    assert info["micromamba"]["binaries"] == 1 and info["micromamba"]["bytes"] > 1000
    assert info["stale_homes"]["count"] == 0 and "orphaned_markers" not in info
    text = world.run("cache", "info", "--cache-dir", str(world.cache)).stdout
    assert "micromamba binaries" in text and f"{installed} packages" in text


def test_clean_keeps_what_environments_share_and_removes_the_rest(world, channel, standin):
    assert world.create("a", "-c", channel, "--micromamba", str(standin), "--package", "uv").returncode == 0
    assert world.create("b", "-c", channel, "--micromamba", str(standin)).returncode == 0
    assert world.run("remove", "a", "--yes", "--cache-dir", str(world.cache)).returncode == 0
    pkgs = world.cache / "Python" / "pkgs"
    b_before = snapshot(world.envs / "b")

    before = snapshot(world.cache)
    dry = _cache(world, "clean", "--dry-run")
    assert diff(before, snapshot(world.cache)) == {}, "--dry-run removes nothing"

    done = _cache(world, "clean")
    assert done["removed_packages"] == dry["removed_packages"]
    assert any(p.startswith("uv-") for p in done["removed_packages"]), "only the removed environment used uv"
    assert any(p.startswith("python-") for p in done["kept_in_use"]), "b still shares python's files"
    assert not list(pkgs.rglob("uv-*")), "its directory and its lock file are gone"
    for name in done["kept_in_use"]:  # in micromamba >= 2.6's layout, under the package's URL directory
        assert [d for d in pkgs.rglob(name) if (d / "info" / "index.json").is_file()]
    assert diff(b_before, snapshot(world.envs / "b")) == {}
    out = subprocess.run([str(world.envs / "b" / "bin" / "python"), "-c", "print(42)"], capture_output=True, text=True)
    assert out.stdout.strip() == "42"
    r = world.run("cache", "clean", "--cache-dir", str(world.cache))
    assert "kept" in r.stdout and "still use (installed, or sharing files by hard links)" in r.stdout


def test_clean_keeps_a_package_whose_files_were_all_copied(world, tmp_path, standin):
    """A package whose every file names the prefix (as the test channel's mamba) is copied file
    by file, so no hard link is left to say the environment uses it: its conda-meta names it,
    and that is what counts."""
    prefixed = PackageSpec(name="mb-prefixed", version="1.0",
                           files={"etc/mb-prefixed.sh": f"export MB_PREFIXED={PLACEHOLDER}\n"})
    channel = channel_url(build_channel(tmp_path / "channel", extra=[prefixed]))
    assert world.create("a", "-c", channel, "--micromamba", str(standin), "--package", "mb-prefixed").returncode == 0
    from mambaboot.environment import diskusage

    prefixed_pkg = next(p for p in _exact_packages(world) if p.stem.startswith("mb-prefixed-"))
    assert diskusage.measure(prefixed_pkg.extracted).shared_files == 0, "no file of it is linked into the environment"
    info = _cache(world, "info")["package_caches"][0]
    assert info["in_use"] == info["packages"]
    done = _cache(world, "clean")
    assert done["removed_packages"] == [] and prefixed_pkg.stem in done["kept_in_use"]
    assert os.path.isdir(prefixed_pkg.extracted)

    moved = world.envs / "moved"  # a move notes the new place; the old note is stale and dropped
    assert world.run("move", str(world.envs / "a"), str(moved), "--cache-dir", str(world.cache)).returncode == 0
    done = _cache(world, "clean")
    assert done["removed_packages"] == [] and done["gone_environments"] == 1
    assert world.run("remove", str(moved), "--yes", "--cache-dir", str(world.cache)).returncode == 0
    assert prefixed_pkg.stem in _cache(world, "clean")["removed_packages"]


MARKER = ".mambaboot-home"  # common/files/workdir.py's MARKER


def H(label: str) -> str:
    """The name a run gives its private home (common/files/tempname.py), its token made of label."""
    return f"mambaboot-tmp-{hashlib.md5(label.encode()).hexdigest()}-home"


def _home(tmp, label, lock: bool = False):
    """A private home as a run makes it (common/files/workdir.py): a directory holding the marker
    and the mark of the token its name and its lock file hold (lock: that lock file too, free)."""
    from mambaboot.common.files import confined, proof

    name = H(label)
    token = name.split("-")[2]
    (tmp / name / "tmp").mkdir(parents=True)
    (tmp / name / MARKER).write_text("")
    with confined.Root.open(str(tmp / name)) as root:
        proof.write_mark(root, token, proof.HOME)
    if lock:
        (tmp / f"{name}.lock").write_text(token)
    return tmp / name


def test_clean_removes_leftovers_of_dead_runs_only(world, channel, fault_standin):
    tmp = world.cache / "tmp"
    _home(tmp, "dead", lock=True)
    _home(tmp, "unlocked")  # its lock file gone: nothing holds the token its mark proves
    (tmp / (H("gone") + ".lock")).write_text("")  # killed between the home's removal and its lock's
    _home(tmp, "live")
    command = [*MAMBABOOT, "create", "killed", "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(fault_standin)]
    with paused(command, world.env, world.envs, world.root / "fifo") as proc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    planted = {H(label) for label in ("dead", "unlocked", "gone", "live")}
    killed_homes = sorted(p.name for p in tmp.iterdir() if p.name.startswith("mambaboot-tmp-")
                          and not p.name.endswith(".lock") and p.name not in planted)
    assert killed_homes, "SIGKILL left the run's private home behind"

    with filelock.FileLock(str(tmp / (H("live") + ".lock"))):  # a run that is alive right now
        info = _cache(world, "info")
        assert (info["stale_homes"]["count"], info["unproven_homes"]["count"]) == (2 + len(killed_homes), 1)
        done = _cache(world, "clean")
        assert [u["path"] for u in done["unproven_homes"]] == [str(tmp / H("unlocked"))]
        assert sorted(os.path.basename(h) for h in done["stale_homes"]) == sorted(
            [H("dead"), H("gone"), *killed_homes])
        assert sorted(p.name for p in tmp.iterdir()) == sorted([H("live"), H("live") + ".lock", H("unlocked")])
    assert (world.envs / ".killed.mambaboot-lock").is_file(), \
        "the killed create's intent stays beside it, for the next run of it to settle"


def _unmarked_home(tmp, label):
    """A private home of a run killed before it wrote its mark: `NAME.lock` beside it holding the
    token its name holds, the marker in it, and no mark."""
    name = H(label)
    (tmp / name).mkdir(parents=True)
    (tmp / f"{name}.lock").write_text(name.split("-")[2])
    (tmp / name / MARKER).write_text("a work directory mambaboot made for one run; deleted after it\n")
    return tmp / name


def _bootstrap_work(tmp, label, marker):
    """A work directory as the bootstrap scripts make it (CACHE/tmp/mambaboot-tmp-TOKEN-bootstrap):
    no lock file beside it, no mark in it; bootstrap.bat writes the marker, the other two do not."""
    path = tmp / f"mambaboot-tmp-{hashlib.md5(label.encode()).hexdigest()}-bootstrap"
    (path / "home" / "tmp").mkdir(parents=True)
    if marker:
        (path / MARKER).write_text("a work directory mambaboot made for one run; deleted after it\n")
    return path


def test_clean_names_each_stale_work_directory_it_cannot_prove(world):
    """A run killed before its mark (with the marker, or without), a marked home whose lock file
    holds another token: each kept and named, with why and the command that deletes it by hand; a
    bootstrap script's work directory (no lock: killed, or still running) kept and named as such; a
    home of ours carrying its mark is deleted; a live one (its lock held by another process),
    unmarked or marked, is neither deleted nor named. `cache info` counts as `clean` does, and
    `doctor` names the same, read-only."""
    tmp = world.cache / "tmp"
    unproven = [_unmarked_home(tmp, "unmarked"), tmp / H("no-marker"), _home(tmp, "other-token", lock=True)]
    scripts = [_bootstrap_work(tmp, "bat", marker=True), _bootstrap_work(tmp, "sh", marker=False)]
    unproven[1].mkdir()
    (tmp / (H("no-marker") + ".lock")).write_text("")
    (tmp / (H("other-token") + ".lock")).write_text("cd" * 16)
    ours = _home(tmp, "ours", lock=True)
    live = [_unmarked_home(tmp, "unmarked-live"), _home(tmp, "live", lock=True)]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom mambaboot.common.files import filelock\n"
         "locks = [filelock.FileLock(p) for p in sys.argv[1:]]\n[l.__enter__() for l in locks]\n"
         "print('held', flush=True)\nsys.stdin.read()", *(f"{p}.lock" for p in live)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        info = _cache(world, "info")
        assert (info["stale_homes"]["count"], info["unproven_homes"]["count"]) == (1, 5)
        before = snapshot(world.root), snapshot(world.cache)
        found = world.run("doctor", "--cache-dir", str(world.cache), "--json")
        assert (snapshot(world.root), snapshot(world.cache)) == before, "doctor deletes nothing"
        named = {f["message"].split(" ", 1)[0]: f["fix"] for f in found.json()["findings"] if f["check"] == "leftover"}
        assert named == {str(ours): f"`mambaboot doctor --settle --cache-dir {world.cache}` deletes it",
                         **{str(p): f"delete it yourself when no mambaboot or bootstrap run is going: `rm -rf {p}`"
                            for p in unproven},
                         **{str(p): f"delete it yourself once no bootstrap script is running: `rm -rf {p}`"
                            for p in scripts}}, found.stdout
        dry = _cache(world, "clean", "--dry-run")
        assert dry["stale_homes"] == [str(ours)] and (snapshot(world.root), snapshot(world.cache)) == before
        text = world.run("cache", "clean", "--cache-dir", str(world.cache))
        assert text.returncode == 0, text.stderr
        for p in unproven:
            assert (f"{p} is named as a work directory of a mambaboot run that is gone, but nothing in it proves "
                    f"mambaboot made it for the token its name holds") in text.stdout, text.stdout
            assert f"it was left as it is; delete it yourself when no mambaboot or bootstrap run is going: " \
                   f"`rm -rf {p}`" in text.stdout, text.stdout
            assert p.is_dir()
        for p in scripts:
            assert (f"{p} is a bootstrap script's work directory, left by a script that was killed or that is still "
                    "running (a bootstrap script takes no lock, so nothing tells which): it was left as it is; "
                    f"delete it yourself once no bootstrap script is running: `rm -rf {p}`") in text.stdout, text.stdout
            assert p.is_dir()
        assert not ours.exists() and not (tmp / (H("ours") + ".lock")).exists()
        assert all(p.is_dir() and p.with_name(p.name + ".lock").is_file() for p in live)
        assert not any(str(p) in text.stdout for p in live), text.stdout
        done = _cache(world, "clean")
        assert done["stale_homes"] == [] and [u["path"] for u in done["unproven_homes"]] == sorted(map(str, unproven + scripts))
        assert all(u["clear"].endswith(f"`rm -rf {u['path']}`") for u in done["unproven_homes"])
        for p in unproven + scripts:  # deleted by hand as said, the next clean takes a lock file left beside it
            shutil.rmtree(p)
        done = _cache(world, "clean")
        assert sorted(done["stale_homes"]) == sorted(map(str, unproven)) and done["unproven_homes"] == []
        assert sorted(p.name for p in tmp.iterdir()) == sorted(n for p in live for n in (p.name, p.name + ".lock"))
    finally:
        holder.communicate("")


def test_clean_and_doctor_name_each_partial_download_and_leave_it(world):
    """A download killed half way, as mambaboot's micromamba download (engine/download.py) and the
    bootstrap scripts' (micromamba, mambaboot.pyz, a note beside a local micromamba) leave it
    beside its final file: no lock tells
    a live bootstrap script's from a killed one's, so `doctor` and `cache clean` name each, with
    the command that deletes it by hand, and leave it byte for byte. A directory or a link of that
    name, and one reached through a link, is not named; nothing else changes."""
    def token(label):
        return hashlib.md5(label.encode()).hexdigest()

    key = world.cache / "micromamba" / "2.8.1-0-linux-64"
    zipapp = world.cache / "zipapp" / token("pyz")[:16]
    notes = world.cache / "micromamba" / "versions" / token("local")  # a local binary's notes
    for d in (key, zipapp, notes, world.root / "elsewhere"):
        d.mkdir(parents=True)
    (key / "sha256").write_text("ab" * 32)
    partial = [key / f".micromamba.mambaboot-tmp-{token('mm')}", zipapp / f".mambaboot.pyz.mambaboot-tmp-{token('pyz')}",
               notes / f".version.mambaboot-tmp-{token('note')}"]
    partial[0].write_bytes(b"\x7fELF" + bytes(range(256)) * 3)
    partial[1].write_bytes(b"PK\x03\x04 half a zipapp")
    partial[2].write_text("micromamba 2.8")
    (key / f".version.mambaboot-tmp-{token('dir')}").mkdir()  # a directory of that name
    (world.root / "elsewhere" / "file").write_text("not ours to name")
    os.symlink(world.root / "elsewhere" / "file", zipapp / f".mambaboot.pyz.mambaboot-tmp-{token('link')}")
    (world.root / "elsewhere" / f".micromamba.mambaboot-tmp-{token('behind')}").write_text("behind a link")
    os.symlink(world.root / "elsewhere", world.cache / "micromamba" / "linked")
    before = snapshot(world.root), snapshot(world.cache)

    found = world.run("doctor", "--cache-dir", str(world.cache), "--json")
    named = {f["message"].split(" ", 1)[0]: f for f in found.json()["findings"] if f["check"] == "leftover"}
    assert sorted(named) == sorted(map(str, partial)), found.stdout
    for p in partial:
        assert "a run killed mid-download left it, or one running now is writing it" in named[str(p)]["message"]
        assert named[str(p)]["fix"] == f"delete it yourself when no mambaboot or bootstrap run is going: `rm -f {p}`"
    assert (snapshot(world.root), snapshot(world.cache)) == before, "doctor deletes nothing"

    assert _cache(world, "info")["partial_downloads"] == {
        "count": 3, "bytes": sum(p.stat().st_size for p in partial)}
    assert "downloads under a temporary name, of a killed run or one running now: 3 (" in \
        world.run("cache", "info", "--cache-dir", str(world.cache)).stdout
    for args in (("--dry-run",), ()):
        done = _cache(world, "clean", *args)
        assert [u["path"] for u in done["partial_downloads"]] == sorted(map(str, partial))
        assert [u["clear"] for u in done["partial_downloads"]] == [named[u["path"]]["fix"] for u in done["partial_downloads"]]
        assert [u["why"] for u in done["partial_downloads"]] == [named[u["path"]]["message"] for u in done["partial_downloads"]]
    text = world.run("cache", "clean", "--cache-dir", str(world.cache))
    assert text.returncode == 0, text.stderr
    for p in partial:
        assert f"{named[str(p)]['message']}; {named[str(p)]['fix']}" in text.stdout, text.stdout
    assert str(world.root / "elsewhere") not in text.stdout and str(world.cache / "micromamba" / "linked") not in text.stdout
    assert (snapshot(world.root), snapshot(world.cache)) == before, "cache clean deletes none of them, nothing else"


def test_clean_deletes_no_home_it_did_not_make(world, reliability):
    """Only a directory carrying the mark of the token its name and its lock hold, the user's own,
    reached through no link, is a private home: a user's directory of a home's name, a link to a
    home, a home of another user, all stay; a home of ours whose marker is a link (the marker is a
    note, the mark the proof) goes, its link with it, what the link named kept."""
    tmp = world.cache / "tmp"
    (tmp / H("thesis")).mkdir(parents=True)
    (tmp / H("thesis") / "chapter1.txt").write_text("precious")
    elsewhere = _home(world.root, "elsewhere")
    os.symlink(elsewhere, tmp / H("linked"))
    _home(tmp, "marker-linked", lock=True)
    (tmp / H("marker-linked") / ".mambaboot-home").unlink()
    os.symlink(elsewhere / ".mambaboot-home", tmp / H("marker-linked") / ".mambaboot-home")
    kept = snapshot(elsewhere)
    if os.geteuid() == 0:  # as the suite runs in its container: a home of another user can be made
        alice = _home(tmp, "alice")
        for path in (alice, alice / ".mambaboot-home"):
            os.chown(path, 4321, 4321)
    assert _cache(world, "info")["stale_homes"]["count"] == 1
    done = _cache(world, "clean")
    ok = done["stale_homes"] == [str(tmp / H("marker-linked"))] and snapshot(elsewhere) == kept
    ok = ok and (tmp / H("thesis") / "chapter1.txt").read_text() == "precious" and (tmp / H("linked")).is_symlink()
    reliability.record("cache clean: no directory it did not make deleted", ok)
    assert ok, done
    # a directory of the user's, not a link, with a work directory's name: named, as nothing proves it
    assert [u["path"] for u in done["unproven_homes"]] == [str(tmp / H("thesis"))]


def test_clean_never_goes_through_a_linked_tmp(world, reliability):
    """CACHE/tmp a link to a directory others use: nothing in it is taken for a home of ours."""
    shared = world.root / "shared-tmp"
    _home(shared, "alice")
    (shared / H("alice") / "notes.txt").write_text("alice's")
    world.cache.mkdir()
    os.symlink(shared, world.cache / "tmp")
    before = snapshot(world.root)
    done = _cache(world, "clean")
    ok = done["stale_homes"] == [] and diff(before, snapshot(world.root)) == {}
    reliability.record("cache clean: no directory it did not make deleted", ok)
    assert ok


def test_a_lock_file_that_is_a_link_is_refused_not_followed(world, reliability):
    """pkgs.lock (opened to lock the package cache as micromamba does) a link to a missing file:
    the file it names is never created, and the message says why."""
    pkgs = world.cache / "Python" / "pkgs"
    pkgs.mkdir(parents=True)
    target = world.root / "made-through-the-link"
    os.symlink(target, pkgs / "pkgs.lock")
    r = world.run("cache", "clean", "--cache-dir", str(world.cache))
    ok = (r.returncode == 4 and f"{pkgs / 'pkgs.lock'} is a link; a lock file is never opened through one" in r.stderr
          and not os.path.lexists(target))
    reliability.record("cache clean: a lock file that is a link refused, nothing made through it", ok)
    assert ok, r.stderr


def test_a_home_replaced_after_it_was_listed_is_not_deleted(tmp_path):
    """Listed as stale, then swapped for another directory (even one with a marker of its own):
    the deletion compares identities and leaves both."""
    from mambaboot.common.files import workdir

    assert workdir.MARKER == MARKER
    tmp = tmp_path / "tmp"
    _home(tmp, "x", lock=True)
    (stale,) = workdir.stale(str(tmp))
    os.rename(tmp / H("x"), tmp_path / "away")
    _home(tmp, "x", lock=True)
    (tmp / H("x") / "keep.txt").write_text("keep")
    assert workdir.remove_stale(stale) is False
    assert (tmp / H("x") / "keep.txt").exists() and (tmp_path / "away" / workdir.MARKER).exists()
    (fresh,) = workdir.stale(str(tmp))
    assert workdir.remove_stale(fresh) is True and not (tmp / H("x")).exists()


def test_clean_deletes_no_home_without_the_mark_of_its_lock_token(world):
    """A home holding the marker, the user's own, its lock free, but not the mark of the token
    its lock file holds (copied in, or put there by someone else, its lock file written with
    another token): left as it is."""
    tmp = world.cache / "tmp"
    copied = _home(tmp, "copied", lock=True)
    (tmp / (H("copied") + ".lock")).write_text("cd" * 16)
    (copied / "notes.txt").write_text("someone's")
    before = snapshot(world.cache)
    done = _cache(world, "clean")
    assert done["stale_homes"] == [] and snapshot(world.cache) == before


def test_info_walks_the_cache_once(world, channel, standin, monkeypatch):
    """One walk: every directory of the cache is listed once, and the total (index cache, locks
    and all) is what a separate walk of the whole package cache finds."""
    from mambaboot.environment import diskusage, pkgcache

    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    pkgs_dir = str(world.cache / "Python" / "pkgs")
    whole = diskusage.measure(pkgs_dir).bytes
    listed = []
    real = os.scandir

    def scandir(p="."):
        if not isinstance(p, int):  # a descriptor: the cache's notes, read by the confined layer
            listed.append(os.fspath(p))
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    info = pkgcache.info(str(world.cache), [pkgs_dir])
    assert info["package_caches"][0]["bytes"] == whole
    assert len(listed) == len(set(listed)), [p for p in set(listed) if listed.count(p) > 1][:5]


# --------------------------------------------------------------------------- info's memo of package sizes


def _memo(world):
    return world.cache / "memo" / "package-sizes"


def _pkgs_dir(world) -> str:
    return str(world.cache / "Python" / "pkgs")


def _exact_packages(world) -> list:
    """Every package, measured by a walk of every file (what clean trusts), in use as clean sees it."""
    from mambaboot.environment import cacheusers, pkgcache

    return pkgcache.packages(_pkgs_dir(world), named=cacheusers.named(str(world.cache)))


def _exact(world) -> list:
    """(stem, bytes, in use) of every package, from a walk of every file."""
    return [(p.stem, p.bytes, p.in_use) for p in _exact_packages(world)]


def _remembered(world) -> list:
    """The same through info's memo (read, and written back as info does)."""
    from mambaboot.environment import pkgcache

    from mambaboot.environment import cacheusers

    memo = pkgcache.SizeMemo(str(world.cache))
    found = [(p.stem, p.bytes, p.in_use) for p in pkgcache.packages(_pkgs_dir(world), memo=memo,
                                                                     named=cacheusers.named(str(world.cache)))]
    memo.save()
    return found


def _entry(world, directory: str) -> list:
    """The memo's line for a package: [identity, "files bytes", sample]."""
    from mambaboot.environment import pkgcache

    return pkgcache.SizeMemo(str(world.cache)).known[directory]


def _remembered_bytes(world, directory: str) -> int:
    """The bytes the memo holds for a package's directory (its archive, where the engine keeps
    one, is counted apart)."""
    return int(_entry(world, directory)[1].split()[1])


def _tamper(world, directory: str, size: int) -> None:
    """The remembered bytes of one package set to size, nothing else changed."""
    lines = _memo(world).read_text().split("\n")
    for i, line in enumerate(lines):
        fields = line.split("\t")
        if len(fields) == 4 and fields[3] == directory:
            fields[1] = f"{fields[1].split()[0]} {size}"
            lines[i] = "\t".join(fields)
            break
    else:
        raise AssertionError(f"{directory} is not remembered")
    _memo(world).write_text("\n".join(lines))


def _in_use(world, minimum_links: int = 1):
    """An extracted package that environments share, with at least minimum_links linked files."""
    from mambaboot.environment import diskusage, pkgcache

    for pkg in pkgcache.packages(_pkgs_dir(world)):
        if pkg.in_use and diskusage.measure(pkg.extracted).shared_files >= minimum_links:
            return pkg
    raise AssertionError("no package in use")


def test_info_remembers_package_sizes_and_reports_what_a_cold_walk_reports(world, channel, standin, monkeypatch):
    """info with the memo clean left reports exactly what one without it does; it lists no
    directory of a package an environment shares (their sizes are remembered)."""
    from mambaboot.environment import pkgcache

    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin), "--package", "uv").returncode == 0
    cold = _cache(world, "info")
    assert not _memo(world).exists(), "info is read-only: it writes no memo"
    assert _cache(world, "clean")["removed_packages"] == []  # every package is the environment's: clean only remembers
    assert _memo(world).is_file()
    first = _cache(world, "info")
    second = _cache(world, "info")
    assert first == second == cold
    assert _remembered(world) == _exact(world)

    shared = [p.extracted for p in pkgcache.packages(_pkgs_dir(world)) if p.in_use]
    assert shared
    listed = []
    real = os.scandir

    def scandir(p="."):
        if not isinstance(p, int):  # a descriptor: the cache's notes, read by the confined layer
            listed.append(os.fspath(p))
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    assert pkgcache.info(str(world.cache), [_pkgs_dir(world)]) == cold
    inside = [p for p in listed for d in shared if p == d or p.startswith(d + os.sep)]
    assert not inside, inside[:5]


def test_a_remembered_size_holds_until_the_package_is_extracted_again(world, channel, standin):
    """Tampered figures of an unchanged package are reported (the memo is read); once its record
    of the extraction is another file (micromamba's info/repodata_record.json written again or
    replaced) the package is walked again."""
    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    _cache(world, "clean")
    pkg = _in_use(world)
    exact = sum(size for _, size, _ in _exact(world))
    _tamper(world, pkg.extracted, _remembered_bytes(world, pkg.extracted) + 1000)
    assert _cache(world, "info")["package_caches"][0]["package_bytes"] == exact + 1000

    # micromamba writes info/repodata_record.json after extracting: the identity follows it
    record = os.path.join(pkg.extracted, "info", "repodata_record.json")
    with open(record, "w") as f:
        f.write('{"name": "x"}')
    exact = sum(size for _, size, _ in _exact(world))
    assert _cache(world, "info")["package_caches"][0]["package_bytes"] == exact
    _cache(world, "clean")  # remembers it anew
    remembered = _remembered_bytes(world, pkg.extracted)
    _tamper(world, pkg.extracted, 7)
    assert _cache(world, "info")["package_caches"][0]["package_bytes"] == exact - remembered + 7
    fresh = record + ".new"
    with open(fresh, "w") as f:
        f.write('{"name": "x"}')
    os.replace(fresh, record)  # extracted again: another file
    assert _cache(world, "info")["package_caches"][0]["package_bytes"] == exact
    assert _remembered(world) == _exact(world)


def test_in_use_stays_exact_with_the_memo(world, channel, standin):
    """The remembered sample without another link sends the package to a full walk: still in use
    when another of its files is linked; not in use once the environment is removed."""
    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    before = _cache(world, "info")
    _cache(world, "clean")
    pkg = _in_use(world, minimum_links=2)
    sample = os.path.join(pkg.extracted, _entry(world, pkg.extracted)[2])
    ino = os.lstat(sample).st_ino
    twins = [os.path.join(d, n) for d, _, names in os.walk(world.envs / "a") for n in names
             if os.lstat(os.path.join(d, n)).st_ino == ino]
    assert len(twins) == 1 and os.lstat(sample).st_nlink == 2
    copy = twins[0] + ".copy"
    shutil.copy2(twins[0], copy)
    os.replace(copy, twins[0])  # the environment's file is another one now: the sample has one link
    assert os.lstat(sample).st_nlink == 1

    assert _cache(world, "info")["package_caches"][0]["in_use"] == before["package_caches"][0]["in_use"]
    _cache(world, "clean")  # the memo written anew, with another sample
    assert _remembered(world) == _exact(world)
    assert dict((s, u) for s, _, u in _exact(world))[pkg.stem]
    assert _entry(world, pkg.extracted)[2] != os.path.relpath(sample, pkg.extracted), "another linked file"

    assert world.run("remove", "a", "--yes", "--cache-dir", str(world.cache)).returncode == 0
    warm = _cache(world, "info")
    assert warm["package_caches"][0]["in_use"] == 0
    _memo(world).unlink()
    assert warm == _cache(world, "info")


def test_info_works_with_a_memo_it_cannot_read_or_write(world, channel, standin):
    """A corrupt memo, or a line of it that is not what clean wrote, is ignored (info writes
    nothing); a memo that cannot be written (here its directory is a file) costs a walk, not a failure."""
    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    cold = _cache(world, "info")
    assert _cache(world, "clean")["removed_packages"] == []  # leaves the memo
    pkg = _in_use(world)
    other = next(p for p in _exact_packages(world) if p.in_use and p.stem != pkg.stem
                 and diskusage.measure(p.extracted).shared_files)
    identity, _, sample = _entry(world, pkg.extracted)
    # (in micromamba's layout packages of another subdir, noarch, lie in another directory)
    outside = os.path.relpath(os.path.join(other.extracted, _entry(world, other.extracted)[2]), pkg.extracted)
    assert os.lstat(os.path.join(pkg.extracted, outside)).st_nlink > 1
    header = "mambaboot package sizes 1\n"
    for corrupt in ("\udcff\x00 not a memo\n\t\t\t\n",
                    header + f"1 2 3\t1 5\t{sample}\t{pkg.extracted}\n",  # another identity
                    header + f"{identity}\tx y\t{sample}\t{pkg.extracted}\n",  # no figures
                    header + f"{identity}\t1 5\t{os.path.dirname(sample)}\t{pkg.extracted}\n",  # a directory
                    header + f"{identity}\t1 5\t{outside}\t{pkg.extracted}\n",  # not in the package
                    header + f"{identity}\t1 5\t{os.path.join(pkg.extracted, outside)}\t{pkg.extracted}\n"):
        _memo(world).write_bytes(corrupt.encode("utf-8", "surrogateescape"))
        assert _cache(world, "info") == cold, corrupt
        assert _memo(world).read_bytes() == corrupt.encode("utf-8", "surrogateescape"), "info is read-only"
        assert _remembered(world) == _exact(world)

    with open(_memo(world), "wb") as f:  # a sparse memo bigger than any cache's: ignored, never read whole
        f.truncate(1 << 40)
    assert _cache(world, "info") == cold
    shutil.rmtree(world.cache / "memo")
    (world.cache / "memo").write_text("")
    assert _cache(world, "clean")["removed_packages"] == []
    assert _cache(world, "info") == cold
    assert (world.cache / "memo").read_text() == ""


def test_packages_that_share_files_are_not_remembered(world, channel, standin):
    """A tool that hard-links duplicates across packages makes which of them counts a shared file
    depend on the walk's order: then info remembers nothing, and stays what a cold walk says."""
    from mambaboot.environment import pkgcache

    assert world.create("a", "-q", "-c", channel, "--micromamba", str(standin)).returncode == 0
    first, second = _exact_packages(world)[:2]
    os.link(os.path.join(first.extracted, "info", "index.json"), os.path.join(second.extracted, "info", "twin.json"))
    cold = _cache(world, "info")
    assert _cache(world, "info") == cold
    assert pkgcache.SizeMemo(str(world.cache)).known == {}
    assert _remembered(world) == _exact(world)


def test_clean_after_info_removes_what_a_full_walk_finds_unused_and_the_memo_drops_it(world, channel, standin):
    """clean walks every file (it trusts no memo); the memo it leaves drops the removed packages."""
    assert world.create("a", "-c", channel, "--micromamba", str(standin), "--package", "uv").returncode == 0
    assert world.create("b", "-c", channel, "--micromamba", str(standin)).returncode == 0
    assert _cache(world, "clean")["removed_packages"] == []  # the memo holds uv's package, in use then
    assert world.run("remove", "a", "--yes", "--cache-dir", str(world.cache)).returncode == 0
    _cache(world, "info")
    unused = sorted(stem for stem, _, in_use in _exact(world) if not in_use)
    assert any(stem.startswith("uv-") for stem in unused)
    assert sorted(_cache(world, "clean")["removed_packages"]) == unused
    info = _cache(world, "info")
    assert info["package_caches"][0]["packages"] == len(_exact(world))
    remembered = _remembered(world)
    assert remembered == _exact(world)
    from mambaboot.environment import pkgcache

    assert all(os.path.isdir(d) for d in pkgcache.SizeMemo(str(world.cache)).known)
    assert not [d for d in pkgcache.SizeMemo(str(world.cache)).known if os.path.basename(d) in unused]


# Cache paths a shell would split, expand or run: the advice must reach each as one word
ADVISED_CACHES = ["my cache", "$(touch PWNED) `touch PWNED`", "c'q $HOME `touch PWNED` $(touch PWNED) 100% !x ; & | * ~"]


def _typed_advice(text: str, before: str) -> list:
    """The commands the lines of text advise after before, as shown: between their backticks."""
    return [line.split(before, 1)[1][:-1] for line in text.splitlines() if before in line and line.endswith("`")]


@pytest.mark.parametrize("shell", ["dash", "bash"])
@pytest.mark.parametrize("name", ADVISED_CACHES)
def test_the_advised_deletion_typed_in_sh_deletes_exactly_what_it_names(world, name, shell):
    """`cache clean` names a work directory it cannot prove and a download left under a temporary
    name (`.$(touch PWNED).mambaboot-tmp-...`), each with the command that deletes it by hand.
    Typed in sh as the terminal shows it, from the cache's parent, each deletes exactly the one it
    names: `/.../my` beside a cache at `/.../my cache` survives, nothing the path holds runs (no
    PWNED). A name holding a line break gets no command, and says so."""
    cache = world.root / name
    beside = world.root / "my"
    beside.mkdir()
    (beside / "yours").write_text("kept")
    home = _unmarked_home(cache / "tmp", "killed")
    key = cache / "micromamba" / "2.8.1-0-linux-64"
    key.mkdir(parents=True)
    partial = key / f".$(touch PWNED).mambaboot-tmp-{hashlib.md5(b'partial').hexdigest()}"
    partial.write_bytes(b"half a download")
    broken = key / f".a\nb.mambaboot-tmp-{hashlib.md5(b'broken').hexdigest()}"
    broken.write_bytes(b"half another")

    r = world.run("cache", "clean", "--cache-dir", str(cache))
    assert r.returncode == 0, r.stderr
    advised = _typed_advice(r.stdout, "bootstrap run is going: `")
    assert len(advised) == 2 and advised[0].startswith("rm -rf ") and advised[1].startswith("rm -f "), r.stdout
    for line in advised:
        typed = subprocess.run([shell], input=line + "\n", capture_output=True, text=True, cwd=str(world.root),
                               env={"PATH": "/usr/bin:/bin", "HOME": str(world.root)})
        assert typed.returncode == 0, (line, typed.stderr)
    assert not home.exists() and not partial.exists() and broken.is_file()
    assert (beside / "yours").read_text() == "kept" and (cache / "tmp").is_dir()
    assert not any(p.name.startswith("PWNED") for p in world.root.rglob("*")), "the advice ran what a name holds"
    assert "no command line can name it (its path holds a control character): delete it with a file manager" \
        in r.stdout, r.stdout


@pytest.mark.parametrize("what", ["tree", "file"])
def test_the_advised_deletion_typed_at_cmds_prompt_deletes_exactly_what_it_names(wine, tmp_path, what):
    """On Windows the deletion is advised for cmd.exe (its own rmdir /s /q, del /f /q) and for
    PowerShell (Remove-Item -LiteralPath): the cmd line typed at Wine's cmd prompt, where %NAME%
    expands even inside "...", deletes exactly the one it names and nothing beside it; the
    PowerShell line parses, in PowerShell's grammar, to Remove-Item with the path as one literal."""
    from mambaboot.common.files import removal
    from tests.support import pwsh
    from tests.test_quoting import shown_on_windows

    parent = tmp_path / "my cache"
    for name in ("my", "my cache"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "yours").write_text("kept")
    target = parent / "it's $HOME `x` 100% %PATH% !PATH! a;b & c ^ (d) {e} -f"
    (target / "sub").mkdir(parents=True) if what == "tree" else target.write_text("x")
    (target / "sub" / "f").write_text("x") if what == "tree" else None
    path = windows_path(target)
    lines = shown_on_windows(removal.by_hand(path, what, windows=True))
    assert pwsh.words(lines["powershell"]) == ["Remove-Item", "-LiteralPath", path,
                                               *(["-Recurse", "-Force"] if what == "tree" else ["-Force"])]
    wine.typed([lines["cmd"]], {}, tmp_path)
    assert not target.exists(), lines["cmd"]
    assert [(tmp_path / n / "yours").read_text() for n in ("my", "my cache")] == ["kept", "kept"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my", "my cache"]
