"""Locks: written at creation and by `mambaboot lock`; `create --from-lock` reproduces exactly."""

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mambaboot.common.errors import UsageError, VerifyError
from mambaboot.environment import condameta, lockfile
from tests.support.snapshot import diff, snapshot


def _meta(prefix: Path) -> set:
    """What 'identical conda-meta' means: the same names, versions, builds and sha256."""
    out = set()
    for path in (prefix / "conda-meta").glob("*.json"):
        rec = json.loads(path.read_text())
        out.add((rec["name"], rec["version"], rec["build"], rec["sha256"]))
    return out


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())


def _pkg(name, version="1.0", build="0", sha256="a" * 64, md5="b" * 32, depends=(), subdir="linux-64"):
    url = f"https://example.invalid/chan/{subdir}/{name}-{version}-{build}.tar.bz2"
    return condameta.Package(name, version, build, 0, subdir, url, sha256, md5, tuple(depends))


# --------------------------------------------------------------------------- the format


def test_render_orders_dependencies_first_and_parses_back():
    packages = [_pkg("mamba", depends=("conda >=24", "python")), _pkg("conda", depends=("python >=3.9",)),
                _pkg("python"), _pkg("tzdata", subdir="noarch")]
    text = lockfile.render(packages, "linux-64", {"version": "2.8.1", "sha256": "c" * 64})
    urls = [line for line in text.splitlines() if line.startswith("https://")]
    assert [u.rsplit("/", 1)[1].split("-")[0] for u in urls] == ["python", "tzdata", "conda", "mamba"]
    assert all(u.endswith("#" + "a" * 64) for u in urls), "sha256 as the bare fragment both readers accept"
    lock = lockfile.parse(text, "x.lock", "/")
    assert lock.platform == "linux-64" and lock.micromamba_version == "2.8.1" and lock.micromamba_sha256 == "c" * 64
    assert {e.key for e in lock.entries} == {(p.name, p.version, p.build) for p in packages}
    assert all(e.md5 == "b" * 32 for e in lock.entries), "md5 sums come back from the comments"
    lockfile.check(lock, packages)


@pytest.mark.parametrize("fragment, sha256, md5", [
    ("a" * 64, "a" * 64, None), ("sha256:" + "A" * 64, "a" * 64, None), ("b" * 32, None, "b" * 32),
    ("", None, None),  # `conda list --explicit` without --md5: installed as conda installs it, unverified
])
def test_every_hash_form_of_the_format_is_read(fragment, sha256, md5):
    lock = lockfile.parse(f"@EXPLICIT\nhttps://h/c/linux-64/x-1-0.conda#{fragment}\n", "f", "/")
    assert (lock.entries[0].sha256, lock.entries[0].md5) == (sha256, md5)
    assert lock.platforms() == ["linux-64"], "without a platform line, the URLs say it"


@pytest.mark.parametrize("text, message", [
    ("https://h/c/linux-64/x-1-0.conda#" + "a" * 64, "no @EXPLICIT"),
    ("@EXPLICIT\nhttps://h/c/linux-64/x-1-0.conda#xyz", "^f: line 2: .*neither a sha256 nor an md5"),
    ("@EXPLICIT\nnumpy>=2", "^f: line 2: .*not a package URL"),
    ("@EXPLICIT\n", "lists no packages"),
])
def test_bad_locks_are_usage_errors(text, message):
    with pytest.raises(UsageError, match=message):
        lockfile.parse(text, "f", "/")


def test_pip_entries_are_comment_lines_that_parse_back():
    pinned = lockfile.PipEntry("Hello_MB", "1.0", "file:///w/hello_mb-1.0-py3-none-any.whl", "d" * 64)
    local = lockfile.PipEntry("mine", "0.1", "file:///src/mine", None)
    text = lockfile.render([_pkg("python")], "linux-64", pip=[pinned, local])
    assert f"# pip: Hello_MB==1.0 file:///w/hello_mb-1.0-py3-none-any.whl#sha256={'d' * 64}" in text
    assert "# pip-unpinned: mine==0.1 file:///src/mine" in text
    body = text.split("@EXPLICIT", 1)[1]
    # what micromamba's read_lines() and conda's yield_lines() keep: no '#' line
    assert [line for line in body.splitlines() if line.strip() and not line.strip().startswith("#")] == [_pkg("python").url + "#" + "a" * 64]
    lock = lockfile.parse(text, "x.lock", "/")
    assert lock.pip == (pinned, local) and pinned.key == ("hello-mb", "1.0")
    assert lockfile.parse(lockfile.render([_pkg("python")], "linux-64"), "x", "/").pip == (), "no pip: still valid"


@pytest.mark.parametrize("line", ["# pip: hello==1.0 file:///w/h.whl", "# pip: hello file:///w/h.whl#sha256=" + "d" * 64,
                                  "# pip: hello==1.0 file:///w/h.whl#sha256=abc"])
def test_a_malformed_pip_line_is_a_usage_error(line):
    with pytest.raises(UsageError, match="not a pip entry"):
        lockfile.parse(f"@EXPLICIT\nhttps://h/c/linux-64/x-1-0.conda#{'a' * 64}\n{line}\n", "f", "/")


def test_check_names_each_difference():
    lock = lockfile.Lock("linux-64", (lockfile.Entry(_pkg("a").url, "a" * 64, None),
                                      lockfile.Entry(_pkg("b").url, "a" * 64, None)))
    with pytest.raises(VerifyError) as info:
        lockfile.check(lock, [_pkg("a", sha256="f" * 64), _pkg("c")])
    text = str(info.value)
    assert "missing: b-1.0-0" in text and "not in the lock: c-1.0-0" in text and "sha256 " + "f" * 64 in text


# --------------------------------------------------------------------------- end to end


def test_create_lock_remove_recreate_gives_identical_conda_meta(world, channel, standin):
    r = world.create("orig", "-c", channel, "--micromamba", str(standin), "--package", "uv")
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "orig"
    original = _meta(prefix)
    assert {"python", "pip", "conda", "mamba", "uv"} <= {m[0] for m in original}  # pip: micromamba 2.8.1 adds it
    written = (prefix / ".mambaboot" / "lock.txt").read_text()
    assert "# platform: linux-64" in written and f"# micromamba: 2.8.1 sha256 {_record(prefix)['micromamba']['sha256']}" in written
    assert ".mambaboot/lock.txt" in _record(prefix)["files"]

    lock = world.root / "orig.lock"
    r = world.run("lock", str(prefix), "-o", str(lock))
    assert r.returncode == 0, r.stderr
    assert lock.read_text() == written, "`mambaboot lock` writes what create wrote"
    assert "warning" not in r.stderr

    r = world.run("remove", str(prefix), "--yes", "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert not prefix.exists()

    r = world.create("orig", "--from-lock", str(lock), "--micromamba", str(standin), "--json")
    assert r.returncode == 0, r.stderr
    assert _meta(prefix) == original
    assert r.json()["python_version"] == "3.11.2"
    assert _record(prefix)["state"] == "complete"
    assert f"lock: all {len(original)} packages match the lock" in r.stderr


def test_lock_of_an_environment_that_changed_since_creation_says_so(world, channel, standin):
    assert world.create("grown", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "grown"
    made = (prefix / ".mambaboot" / "lock.txt").read_text()
    r = world.run("run", str(prefix), "--", "conda", "install", "-y", "uv")  # its own conda, without mambaboot
    assert r.returncode == 0, r.stderr
    uv = next(p for p in condameta.installed(str(prefix)) if p.name == "uv")
    r = world.run("lock", str(prefix), "-o", str(world.root / "now.lock"))
    assert r.returncode == 0, r.stderr
    warning = next(line for line in r.stderr.splitlines() if line.startswith("warning: "))
    assert f"{prefix} changed since mambaboot recorded it" in warning and f"+uv-{uv.version}-{uv.build}" in warning
    assert f"{prefix / '.mambaboot' / 'lock.txt'} is what it held then" in warning
    assert uv.url in (world.root / "now.lock").read_text(), "the lock is what the environment holds now"
    assert (prefix / ".mambaboot" / "lock.txt").read_text() == made


def test_lock_of_an_environment_the_engine_made_directly(world, channel, standin):
    direct = world.root / "direct"
    subprocess.run([str(standin), "create", "-y", "-p", str(direct), "-c", channel, "python", "conda", "mamba"],
                   env=world.env, check=True, capture_output=True)
    lock = world.root / "direct.lock"
    r = world.run("lock", str(direct), "-o", str(lock))
    assert r.returncode == 0, r.stderr
    text = lock.read_text()
    assert "# platform: linux-64" in text and "# micromamba:" not in text, "no record: nothing to say who built it"

    r = world.create("again", "--from-lock", str(lock), "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert _meta(world.envs / "again") == _meta(direct)


def test_lock_refuses_a_directory_that_is_no_environment(world):
    (world.root / "plain").mkdir()
    r = world.run("lock", str(world.root / "plain"))
    assert r.returncode == 2 and "not a conda environment" in r.stderr


def test_a_tampered_hash_is_refused_before_anything_is_linked(world, channel, standin):
    assert world.create("orig", "-c", channel, "--micromamba", str(standin)).returncode == 0
    text = (world.envs / "orig" / ".mambaboot" / "lock.txt").read_text()
    line = next(l for l in text.splitlines() if re.search(r"/conda-[0-9][^/]*$", l.split("#")[0])
                and not l.startswith("#"))
    url, digest = line.split("#")
    tampered = world.root / "tampered.lock"
    tampered.write_text(text.replace(line, f"{url}#{'0' * 64}"))
    target = world.envs / "t"
    target.mkdir()
    (world.root / "cold").mkdir()
    before = snapshot(world.envs)

    r = world.create("t", "--from-lock", str(tampered), "--micromamba", str(standin), "-v",
                     "--cache-dir", str(world.root / "cold"))
    assert r.returncode == 6, r.stderr
    # libmamba's words (package_fetcher.cpp validate_checksum, transaction.cpp), shown as it said them
    assert "tarball has incorrect SHA256" in r.stderr and f"Expected: {'0' * 64}" in r.stderr, r.stderr
    assert "Linking" not in r.stderr, "the engine stopped before its link phase"
    assert diff(before, snapshot(world.envs)) == {}, "the target is as it was (an empty directory)"
    pkgs = world.root / "cold" / "Python" / "pkgs"
    assert not list(pkgs.glob("*/info/index.json")), "nothing was even extracted"
    assert not list(pkgs.rglob("conda-[0-9]*")), "the bad archive never landed in the cache"


def test_warm_cache_and_offline_need_no_channel(world, channel, standin):
    copy = world.root / "channel-copy"
    shutil.copytree(urlsplit(channel).path, copy)
    assert world.create("orig", "-c", copy.as_uri(), "--micromamba", str(standin)).returncode == 0
    lock = world.envs / "orig" / ".mambaboot" / "lock.txt"
    shutil.copy(lock, world.root / "orig.lock")
    original = _meta(world.envs / "orig")
    shutil.rmtree(copy)

    r = world.create("again", "--from-lock", str(world.root / "orig.lock"), "--offline", "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert _meta(world.envs / "again") == original

    # control: offline really forbids fetching (a cold cache cannot work)
    r = world.create("cold", "--from-lock", str(world.root / "orig.lock"), "--offline", "--micromamba", str(standin),
                     "--cache-dir", str(world.root / "cold"))
    assert r.returncode == 6 and "--offline forbids downloading" in r.stderr, r.stderr


def _synthetic_lock(path: Path, platform: str = "linux-64", names=("python", "conda", "mamba")) -> Path:
    """A well-formed lock that planning must refuse before it would matter what its URLs hold."""
    packages = [_pkg(n, subdir=platform) for n in names]
    path.write_text(lockfile.render(packages, platform))
    return path


def test_a_lock_for_another_platform_names_both(world, standin):
    other = _synthetic_lock(world.root / "win.lock", "win-64")
    before = world.outside()
    r = world.create("w", "--from-lock", str(other), "--micromamba", str(standin))
    assert r.returncode == 2
    assert "win-64" in r.stderr and "linux-64" in r.stderr
    assert diff(before, world.outside()) == {}


@pytest.mark.parametrize("extra", [["--python", "3.11"], ["--package", "uv"], ["-c", "x"], ["--file", "env.yml"]])
def test_from_lock_replaces_specs_and_channels(world, standin, extra):
    (world.envs / "env.yml").write_text("dependencies: [python]\n")
    r = world.create("x", "--from-lock", str(_synthetic_lock(world.root / "x.lock")), *extra)
    assert r.returncode == 2 and "cannot be combined" in r.stderr


def test_a_lock_without_conda_and_mamba_plans_to_add_them(world, standin):
    only_python = _synthetic_lock(world.root / "py.lock", names=("python",))
    r = world.create("x", "--from-lock", str(only_python), "--micromamba", str(standin), "--dry-run")
    assert r.returncode == 0 and "with conda, mamba added" in r.stdout and "example.invalid/chan" in r.stdout


def test_from_lock_refuses_another_micromamba_unless_told_which_to_trust(world, channel, standin, tmp_path):
    from tests.support.micromamba_standin import make_standin

    assert world.create("orig", "-c", channel, "--micromamba", str(standin)).returncode == 0
    lock = world.envs / "orig" / ".mambaboot" / "lock.txt"
    other = make_standin(tmp_path / "other-micromamba", version="2.7.0")  # different bytes, different sha256
    before = snapshot(world.root)
    r = world.create("again", "--from-lock", str(lock), "--micromamba", str(other))
    assert r.returncode == 5, r.stderr
    assert "was made with micromamba 2.8.1" in r.stderr and "--micromamba-sha256" in r.stderr
    assert diff(before, snapshot(world.root)) == {}

    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    r = world.create("again", "--from-lock", str(lock), "--micromamba", str(other), "--micromamba-sha256", digest)
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- pip packages in locks


def _pip_set(prefix: Path) -> set:
    """(name, version, the wheel's files with their hashes) of every distribution pip installed;
    not what pip adds when installing (bytecode, INSTALLER, REQUESTED, direct_url.json)."""
    out = set()
    for dist in (prefix / "lib" / "python3.11" / "site-packages").glob("*.dist-info"):
        installer = dist / "INSTALLER"
        if installer.exists() and installer.read_text().strip() == "pip":
            meta = dict(line.split(": ", 1) for line in (dist / "METADATA").read_text().splitlines() if ": " in line)
            added = ("__pycache__", "INSTALLER", "REQUESTED", "direct_url.json", "RECORD")
            files = frozenset(line for line in (dist / "RECORD").read_text().splitlines()
                              if not any(a in line.split(",")[0] for a in added))
            out.add((meta["Name"], meta["Version"], files))
    return out


def _pip_lines(text: str) -> list:
    return [line for line in text.splitlines() if line.startswith(("# pip:", "# pip-unpinned:"))]


@pytest.fixture
def pip_env(world, channel, standin):
    """An environment made from a file whose pip section installs two local wheels, one the
    other's dependency; pip runs without rustup (see test_envfile)."""
    from tests.test_envfile import _wheel

    project = world.root / "project"
    helper = _wheel(project / "wheels", "helper-mb", "2.0", "helper_mb", "VALUE = 2\n")
    hello = _wheel(project / "wheels", "hello-mb", "1.0", "hello_mb", "import helper_mb\n", requires=("helper-mb>=2",))
    (project / "environment.yml").write_text(
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n    - --find-links ./wheels\n    - hello-mb==1.0\n"
    )
    path = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)
    world.env["PATH"] = path
    r = world.create("orig", "--file", str(project / "environment.yml"), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world.envs / "orig", project, {w.name: hashlib.sha256(w.read_bytes()).hexdigest() for w in (helper, hello)}


def test_pip_packages_round_trip_through_the_lock_offline_from_the_wheelhouse(world, standin, pip_env):
    prefix, project, digests = pip_env
    written = (prefix / ".mambaboot" / "lock.txt").read_text()
    wheels = project / "wheels"
    assert _pip_lines(written) == [
        f"# pip: hello-mb==1.0 {(wheels / 'hello_mb-1.0-py3-none-any.whl').as_uri()}#sha256={digests['hello_mb-1.0-py3-none-any.whl']}",
        f"# pip: helper-mb==2.0 {(wheels / 'helper_mb-2.0-py3-none-any.whl').as_uri()}#sha256={digests['helper_mb-2.0-py3-none-any.whl']}",
    ]
    lock = world.root / "orig.lock"
    r = world.run("lock", str(prefix), "-o", str(lock))
    assert r.returncode == 0, r.stderr
    assert lock.read_text() == written, "`mambaboot lock` includes the recorded pip packages"
    assert "and 2 pip packages" in r.stderr
    original = _pip_set(prefix)
    assert {n for n, _, _ in original} == {"hello-mb", "helper-mb"}

    r = world.create("copy", "--from-lock", str(lock), "--micromamba", str(standin), "--dry-run")
    assert r.returncode == 0 and "packages and 2 pip packages of" in r.stdout, r.stdout + r.stderr
    shutil.rmtree(wheels)  # the wheels are gone: the copies kept in the cache must do
    r = world.create("copy", "--from-lock", str(lock), "--micromamba", str(standin), "--offline")
    assert r.returncode == 0, r.stderr
    copy = world.envs / "copy"
    assert _pip_set(copy) == original, "the same distributions, installed from the same files"
    requirements = (copy / ".mambaboot" / "pip-requirements.txt").read_text()
    assert str(world.cache / "pip" / "wheelhouse") in requirements and "--hash=sha256:" in requirements
    assert _pip_lines((copy / ".mambaboot" / "lock.txt").read_text()) == _pip_lines(written), \
        "the copy's lock names the same artefacts"
    assert _record(copy)["state"] == "complete"


def test_adopting_again_keeps_the_pip_packages_and_their_lock_lines(world, pip_env):
    prefix, _, _ = pip_env
    lock, before = prefix / ".mambaboot" / "lock.txt", _record(prefix)["pip_packages"]
    written = lock.read_text()
    r = world.run("adopt", str(prefix))
    assert r.returncode == 0, r.stderr
    assert _record(prefix)["pip_packages"] == before and len(before) == 2
    assert lock.read_text() == written


def test_a_tampered_pip_hash_fails_the_pip_step_with_exit_8(world, standin, pip_env):
    prefix, _, digests = pip_env
    text = (prefix / ".mambaboot" / "lock.txt").read_text()
    good = digests["helper_mb-2.0-py3-none-any.whl"]
    tampered = world.root / "tampered.lock"
    tampered.write_text(text.replace(good, "0" * 64))
    r = world.create("t", "--from-lock", str(tampered), "--micromamba", str(standin))
    assert r.returncode == 8, r.stderr
    assert "DO NOT MATCH THE HASHES" in r.stderr and "pip section failed" in r.stderr
    assert _record(world.envs / "t")["state"] == "provisioning-failed"
    assert _pip_set(world.envs / "t") == set(), "pip installed nothing: it checks every hash first"


def test_a_lock_with_an_unpinned_pip_package_is_refused_before_anything_is_written(world, standin, pip_env):
    prefix, _, _ = pip_env
    unpinned = world.root / "unpinned.lock"
    unpinned.write_text((prefix / ".mambaboot" / "lock.txt").read_text() + "# pip-unpinned: mine==0.1 file:///src/mine\n"
                        "# pip-unpinned: vcs==2.0 git+https://example.invalid/vcs\n# pip-unpinned: uv==0.13.9 unknown-source\n")
    before = snapshot(world.root)
    r = world.create("u", "--from-lock", str(unpinned), "--micromamba", str(standin))
    assert r.returncode == 2, r.stderr
    assert "without an artefact to pin" in r.stderr
    # each named with its own cause, not one list under the directory/VCS/editable cause
    assert "mine==0.1: installed from a local directory (as editable or not), file:///src/mine" in r.stderr
    assert "vcs==2.0: installed from a VCS checkout, git+https://example.invalid/vcs" in r.stderr
    assert "uv==0.13.9: pip's report of the install names no source for it" in r.stderr
    assert "user site" in r.stderr.split("uv==0.13.9", 1)[1]
    assert diff(before, snapshot(world.root)) == {}


def test_pip_artefacts_from_a_url_are_kept_so_from_lock_needs_no_server(world, channel, standin):
    from tests.support.server import AssetServer
    from tests.test_envfile import _wheel

    built = world.root / "built"
    helper = _wheel(built, "helper-mb", "2.0", "helper_mb", "VALUE = 2\n")
    hello = _wheel(built, "hello-mb", "1.0", "hello_mb", "import helper_mb\n", requires=("helper-mb>=2",))
    world.env["PATH"] = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)
    with AssetServer() as server:
        urls = {w.name: server.add(f"/wheels/{w.name}", w.read_bytes()) for w in (helper, hello)}
        (world.root / "environment.yml").write_text(
            "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n"
            f"    - hello-mb @ {urls[hello.name]}\n    - helper-mb @ {urls[helper.name]}\n"
        )
        r = world.create("web", "--file", str(world.root / "environment.yml"), "-c", channel, "--micromamba", str(standin))
        assert r.returncode == 0, r.stderr
    written = (world.envs / "web" / ".mambaboot" / "lock.txt").read_text()
    assert _pip_lines(written) == [f"# pip: {n}=={v} {urls[w.name]}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}"
                                   for n, v, w in (("hello-mb", "1.0", hello), ("helper-mb", "2.0", helper))]
    lock = world.root / "web.lock"
    lock.write_text(written)
    # the server is gone: the copies in CACHE/pip/wheelhouse are what --from-lock installs
    r = world.create("again", "--from-lock", str(lock), "--micromamba", str(standin), "--offline")
    assert r.returncode == 0, r.stderr
    assert _pip_set(world.envs / "again") == _pip_set(world.envs / "web")
    assert _pip_lines((world.envs / "again" / ".mambaboot" / "lock.txt").read_text()) == _pip_lines(written)


def test_the_offline_check_takes_a_package_as_libmamba_does(tmp_path):
    """A cached package counts when its extracted directory's info/repodata_record.json records
    the lock's digest, or its archive has it, flat or under its URL's directory
    (libmamba/src/core/package_cache.cpp has_valid_extracted_dir, has_valid_tarball, 2.8.1); a
    wrong digest, or a fifo in the archive's place, does not (and the fifo is not waited on)."""
    import os

    from mambaboot.environment import pkgcache

    url = "https://example.invalid/conda-forge/linux-64/a-1.0-0.tar.bz2"
    data = b"the archive"
    sha256, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()
    flat, nested = tmp_path / "flat", tmp_path / "nested"
    flat.mkdir()
    (flat / "a-1.0-0.tar.bz2").write_bytes(data)
    deep = nested / "https" / "example.invalid" / "conda-forge" / "linux-64" / "a-1.0-0" / "info"
    deep.mkdir(parents=True)
    (deep / "repodata_record.json").write_text(json.dumps({"sha256": sha256, "md5": md5}))
    for pkgs in (flat, nested):
        assert pkgcache.holds(str(pkgs), url, "a-1.0-0.tar.bz2", sha256, None)
        assert pkgcache.holds(str(pkgs), url, "a-1.0-0.tar.bz2", None, md5)
        assert not pkgcache.holds(str(pkgs), url, "a-1.0-0.tar.bz2", "0" * 64, None)
    assert not pkgcache.holds(str(tmp_path / "empty"), url, "a-1.0-0.tar.bz2", sha256, None)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "a-1.0-0.tar.bz2")
    assert not pkgcache.holds(str(fifo), url, "a-1.0-0.tar.bz2", sha256, None)
