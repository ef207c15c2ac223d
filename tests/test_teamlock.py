"""One lock for a team on three platforms (conda-lock's unified file), and a bill of materials.

The channel holds linux-64 packages (installed) and win-64 and osx-arm64 ones (solved for only),
so each platform's part of a lock is a real solve; conda-lock's own models and micromamba read
what we write, and cyclonedx-python-lib's validator checks the bill of materials."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from mambaboot.commands._common import lock_kind
from mambaboot.common.errors import UsageError
from mambaboot.environment import condalock, lockfile, sbom
from tests.support import condalockmodels
from tests.test_lock import _meta

PLATFORMS = ("win-64", "linux-64", "osx-arm64")


def _locked(text: str, platform: str) -> set:
    """(name, version, build, sha256) of a platform's conda packages, read by conda-lock's models."""
    parsed = condalockmodels.parse(text)
    return {(p.name, p.version, Path(p.url).name.rsplit("-", 1)[1].split(".")[0], p.hash.sha256)
            for p in parsed.package if p.platform == platform and p.manager == "conda"}


def _lock(world, standin, *args, cwd=None):
    return world.run("lock", "--cache-dir", str(world.cache), "--micromamba", str(standin), *args, cwd=cwd)


def test_a_team_lock_recreates_what_create_makes_and_each_platform_is_its_own_solve(world, team_channel, standin):
    out = world.root / "team-lock.yml"
    specs = ("--python", "3.11", "-c", team_channel)
    made = _lock(world, standin, *specs, *[a for p in PLATFORMS for a in ("--platform", p)], "-o", str(out))
    assert made.returncode == 0, made.stderr
    text = out.read_text()
    parsed = condalockmodels.parse(text)  # conda-lock's own parser takes it
    assert parsed.metadata.platforms == list(PLATFORMS)
    assert set(parsed.metadata.content_hash) == set(PLATFORMS)
    assert {p.platform for p in parsed.package} == set(PLATFORMS)

    direct = world.root / "envs" / "direct"
    assert world.create("-p", str(direct), *specs, "--micromamba", str(standin), "-q").returncode == 0
    assert _locked(text, "linux-64") == _meta(direct), "the lock's linux-64 part is what create installs"
    from_lock = world.root / "envs" / "from-lock"
    r = world.create("-p", str(from_lock), "--from-lock", str(out), "--micromamba", str(standin), "-q")
    assert r.returncode == 0, r.stderr
    assert _meta(from_lock) == _meta(direct)
    record = json.loads((from_lock / ".mambaboot" / "record.json").read_text())
    assert record["inputs"]["lock_path"] == str(out), "the record names the lock"

    for platform in ("win-64", "osx-arm64"):
        single = world.root / f"{platform}-lock.yml"
        alone = _lock(world, standin, *specs, "--platform", platform, "-o", str(single))
        assert alone.returncode == 0, alone.stderr
        assert _locked(text, platform) == _locked(single.read_text(), platform), f"{platform}: its own solve"
    win = _locked(text, "win-64")
    assert "ucrt" in {n for n, *_ in win} and all(v for *_, v in win), "win-64 packages, with their sha256"


def test_the_engine_itself_creates_from_our_unified_file(world, team_channel, standin):
    """The engine reads our file with no mambaboot between: by default that is the suite's
    stand-in, whose reading follows libmamba's (tests/support/micromamba_standin.py); the real
    micromamba only in the real-engine mode (MAMBABOOT_TEST_MICROMAMBA)."""
    out = world.root / "team-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "--platform", "linux-64",
                 "--platform", "win-64", "-o", str(out)).returncode == 0
    target = world.root / "by-micromamba"
    proc = subprocess.run([str(standin), "create", "-y", "-p", str(target), "-r", str(world.root / "mroot"),
                           "-f", str(out)], env={**world.env, "CONDA_PKGS_DIRS": str(world.root / "pkgs")},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert {m[:3] for m in _meta(target)} == {m[:3] for m in _locked(out.read_text(), "linux-64")}


def test_a_platform_the_lock_does_not_hold_is_refused_naming_those_it_holds(world, team_channel, standin):
    out = world.root / "elsewhere-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "--platform", "win-64",
                 "--platform", "osx-arm64", "-o", str(out)).returncode == 0
    r = world.create("-p", str(world.root / "x"), "--from-lock", str(out), "--micromamba", str(standin))
    assert r.returncode == 2
    assert "holds no packages for linux-64" in r.stderr and "win-64, osx-arm64" in r.stderr
    assert not (world.root / "x").exists()


def test_offline_from_a_unified_lock_refuses_what_the_cache_lacks(world, team_channel, standin):
    out = world.root / "t-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "-o", str(out)).returncode == 0
    r = world.run("create", "-p", str(world.root / "x"), "--from-lock", str(out), "--offline",
                  "--cache-dir", str(world.root / "empty-cache"), "--micromamba", str(standin))
    assert r.returncode == 6 and "does not hold" in r.stderr, r.stderr


def test_a_tampered_hash_in_a_unified_lock_is_refused(world, team_channel, standin):
    out = world.root / "t-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "-o", str(out)).returncode == 0
    text = out.read_text()
    sha = next(line.split('"')[1] for line in text.splitlines() if line.strip().startswith("sha256:"))
    out.write_text(text.replace(sha, "0" * 64, 1))
    r = world.create("-p", str(world.root / "x"), "--from-lock", str(out), "--micromamba", str(standin))
    # the engine refuses the archive (libmamba's words, package_fetcher.cpp validate_checksum): exit 6
    assert r.returncode == 6 and "incorrect SHA256" in r.stderr, r.stderr
    assert not list((world.root / "x" / "conda-meta").glob("python-*.json")), "no python was linked"


def test_a_lock_written_by_conda_lock_itself_installs(world, team_channel, standin):
    """conda-lock's models write the file as conda-lock does (PyYAML, md5 only, `dependencies: {}`)."""
    ours = world.root / "ours-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "-o", str(ours)).returncode == 0
    theirs = condalockmodels.parse(ours.read_text())
    for package in theirs.package:
        package.hash = condalockmodels.v1.HashModel(md5=package.hash.md5)  # what conda's solver gives it
        package.dependencies = {}
    written = world.root / "conda-lock.yml"
    written.write_text(condalockmodels.write(theirs))
    assert "dependencies: {}" in written.read_text()
    target = world.root / "envs" / "theirs"
    r = world.create("-p", str(target), "--from-lock", str(written), "--micromamba", str(standin), "-q")
    assert r.returncode == 0, r.stderr
    assert {m[:3] for m in _meta(target)} == {m[:3] for m in _locked(ours.read_text(), "linux-64")}


def test_lock_of_an_environment_adds_other_platforms_from_its_record(world, made_env, team_channel, standin):
    # made_env was made from the suite's channel: its record's channel has no win-64, so it names ours
    out = world.root / "env-lock.yml"
    r = _lock(world, standin, str(made_env), "--platform", "osx-arm64", "-o", str(out))
    assert r.returncode == 6 and "osx-arm64" in r.stderr, "its channel holds no osx-arm64 packages: said"
    prefix = world.root / "envs" / "team"
    assert world.create("-p", str(prefix), "--python", "3.11", "-c", team_channel, "--micromamba", str(standin),
                        "-q").returncode == 0
    r = _lock(world, standin, str(prefix), "--platform", "osx-arm64", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert _locked(out.read_text(), "linux-64") == _meta(prefix), "its own platform: what it holds"
    assert {n for n, *_ in _locked(out.read_text(), "osx-arm64")} >= {"python", "conda", "mamba"}


def test_the_format_follows_the_output_name_as_micromamba_chooses(world, made_env, standin):
    for name, starts in (("env-lock.yml", "# A conda-lock"), ("env.lock", "# mambaboot lock"),
                         ("env.cdx.json", "{")):
        r = _lock(world, standin, str(made_env), "-o", str(world.root / name))
        assert r.returncode == 0, r.stderr
        assert (world.root / name).read_text().startswith(starts), name
    r = _lock(world, standin, "--python", "3.11", "--platform", "linux-64", "--platform", "win-64",
              "--format", "explicit")
    assert r.returncode == 2 and "--format conda-lock" in r.stderr
    r = _lock(world, standin, str(made_env), "--format", "explicit", "-o", str(world.root / "x-lock.yml"))
    assert r.returncode == 2 and "micromamba reads a file named *-lock.yml" in r.stderr
    assert not (world.root / "x-lock.yml").exists()
    r = _lock(world, standin, str(made_env), "--format", "conda-lock", "-o", str(world.root / "x.yml"))
    assert r.returncode == 0 and "only when its name ends in -lock.yml" in r.stderr


def test_an_unknown_platform_is_a_usage_error(world, standin):
    r = _lock(world, standin, "--python", "3.11", "--platform", "windows-64")
    assert r.returncode == 2 and "windows-64" in r.stderr


def test_a_pip_section_is_locked_per_platform_or_refused_for_the_platform_without_wheels(world, team_channel,
                                                                                       standin):
    from tests.test_envfile import _wheel

    project = world.root / "project"
    wheels = project / "wheels"
    _wheel(wheels, "helper-mb", "2.0", "helper_mb", "VALUE = 2\n")
    _wheel(wheels, "hello-mb", "1.0", "hello_mb", "import helper_mb\n", requires=("helper-mb>=2",))
    _wheel(wheels, "native-mb", "1.0", "native_mb", "", tag="cp311-cp311-manylinux_2_17_x86_64")
    env_file = project / "environment.yml"
    section = "dependencies:\n  - python=3.11\n  - pip:\n    - --no-index\n    - --find-links ./wheels\n    - hello-mb==1.0\n"
    env_file.write_text(section)
    out = world.root / "pip-lock.yml"
    r = _lock(world, standin, "--file", str(env_file), "-c", team_channel, "--platform", "linux-64",
              "--platform", "win-64", "-o", str(out))
    assert r.returncode == 0, r.stderr
    parsed = condalockmodels.parse(out.read_text())
    for platform in ("linux-64", "win-64"):
        pip = {p.name: p for p in parsed.package if p.manager == "pip" and p.platform == platform}
        assert set(pip) == {"hello-mb", "helper-mb"}, platform
        assert all(len(p.hash.sha256) == 64 and p.url.startswith("file:") for p in pip.values())
    made = world.root / "envs" / "with-pip"
    r = world.create("-p", str(made), "--from-lock", str(out), "--micromamba", str(standin), "-q")
    assert r.returncode == 0, r.stderr
    assert {p["name"] for p in json.loads((made / ".mambaboot" / "record.json").read_text())["pip_packages"]} == {
        "hello-mb", "helper-mb"}

    direct = world.root / "envs" / "direct"
    r = world.create("-p", str(direct), "--file", str(env_file), "-c", team_channel, "--micromamba", str(standin), "-q")
    assert r.returncode == 0, r.stderr
    r = _lock(world, standin, str(direct), "--platform", "win-64", "-o", str(out))
    assert r.returncode == 0, r.stderr
    parsed = condalockmodels.parse(out.read_text())
    assert {(p.name, p.platform) for p in parsed.package if p.manager == "pip"} == {
        (n, p) for n in ("hello-mb", "helper-mb") for p in ("linux-64", "win-64")}, "from the record's pip section"

    later = subprocess.run([str(direct / "bin" / "python"), "-m", "pip", "install", "--no-index", "-q",
                            str(next(wheels.glob("native_mb-*.whl")))], env=world.env, capture_output=True, text=True)
    assert later.returncode == 0, later.stderr
    r = _lock(world, standin, str(direct), "--format", "cyclonedx")
    assert r.returncode == 0, r.stderr
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(r.stdout) is None
    pypi = {c["purl"]: c for c in json.loads(r.stdout)["components"] if c["purl"].startswith("pkg:pypi/")}
    assert set(pypi) == {"pkg:pypi/hello-mb@1.0", "pkg:pypi/helper-mb@2.0", "pkg:pypi/native-mb@1.0"}
    assert pypi["pkg:pypi/hello-mb@1.0"]["hashes"][0]["alg"] == "SHA-256", "the record's artefact sha256"

    env_file.write_text(section + "    - native-mb==1.0\n")
    r = _lock(world, standin, "--file", str(env_file), "-c", team_channel, "--platform", "linux-64",
              "--platform", "win-64", "-o", str(out))
    assert r.returncode == 2 and "cannot be locked for win-64" in r.stderr, r.stderr
    assert "linux-64" not in r.stderr.splitlines()[0], "the platform without wheels is the one named"


def test_locking_a_pip_section_gives_pip_no_secret_of_the_caller(world, team_channel, standin):
    # pip expands ${NAME} in requirements lines from its environment, an unset one left as written
    # (pip/_internal/req/req_file.py, expand_env_variables): the directory locked says what it had.
    from tests.test_envfile import _wheel

    project = world.root / "project"
    kept = _wheel(project / "wheels-${GITHUB_TOKEN}", "hello-mb", "1.0", "hello_mb", "")
    _wheel(project / "wheels-secret-xyz", "hello-mb", "1.0", "hello_mb", "LEAKED = 1\n")
    _wheel(project / "configured", "configured-mb", "1.0", "configured_mb", "")
    env_file = project / "environment.yml"
    env_file.write_text("dependencies:\n  - python=3.11\n  - pip:\n    - --no-index\n"
                        "    - --find-links ./wheels-${GITHUB_TOKEN}\n    - hello-mb==1.0\n    - configured-mb==1.0\n")
    out = world.root / "pip-lock.yml"
    r = world.run("lock", "--cache-dir", str(world.cache), "--micromamba", str(standin), "--file", str(env_file),
                  "-c", team_channel, "--platform", "linux-64", "-o", str(out),
                  env={"GITHUB_TOKEN": "secret-xyz", "PIP_FIND_LINKS": str(project / "configured")})
    assert r.returncode == 0, r.stderr
    pip = {p.name: p for p in condalockmodels.parse(out.read_text()).package if p.manager == "pip"}
    assert set(pip) == {"hello-mb", "configured-mb"}
    assert pip["hello-mb"].url == kept.as_uri()


def test_the_bill_of_materials_validates_and_is_reproducible(world, made_env, standin):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from packageurl import PackageURL

    first, second = (_lock(world, standin, str(made_env), "--format", "cyclonedx") for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout, "two runs on the same environment: the same bytes"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(first.stdout) is None
    bom = json.loads(first.stdout)
    meta = {m[0]: m for m in _meta(made_env)}
    assert {c["name"] for c in bom["components"]} == set(meta)
    for component in bom["components"]:
        purl = PackageURL.from_string(component["purl"])
        name, version, build, sha256 = meta[component["name"]]
        assert (purl.type, purl.name, purl.version, purl.qualifiers["build"]) == ("conda", name, version, build)
        rec = json.loads(next((made_env / "conda-meta").glob(f"{name}-{version}-{build}.json")).read_text())
        kind = "conda" if rec["url"].endswith(".conda") else "tar.bz2"
        assert (purl.qualifiers["subdir"], purl.qualifiers["type"]) == (rec["subdir"], kind), "as conda-meta records"
        assert purl.qualifiers["channel"].startswith("file:///")
        assert {"alg": "SHA-256", "content": sha256} in component["hashes"]
    python = next(c for c in bom["components"] if c["name"] == "python")
    assert python["licenses"] == [{"license": {"name": "Python-2.0"}}], "the licence conda-meta records"


def test_the_bill_of_materials_of_a_lock_platform_and_of_pip_packages(world, team_channel, standin, tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    out = tmp_path / "team-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "--platform", "linux-64", "--platform",
                 "win-64", "-o", str(out)).returncode == 0
    r = _lock(world, standin, str(out), "--platform", "win-64", "--format", "cyclonedx")
    assert r.returncode == 0, r.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(r.stdout) is None
    assert all("subdir=win-64" in c["purl"] for c in json.loads(r.stdout)["components"])
    from mambaboot.environment.condameta import Package

    python = Package("python", "3.11.2", "h0_0", 0, "linux-64", "file:///c/linux-64/python-3.11.2-h0_0.conda",
                     "a" * 64, None)
    text = sbom.render("e", "linux-64", [python], {}, [lockfile.PipEntry("Hello_MB", "1.0", "file:///w/h.whl", "d" * 64)])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    pip = json.loads(text)["components"][-1]
    assert pip["purl"] == "pkg:pypi/hello-mb@1.0" and pip["hashes"] == [{"alg": "SHA-256", "content": "d" * 64}]
    assert "type=conda" in json.loads(text)["components"][0]["purl"], "the archive's format"


@pytest.mark.parametrize("body, problem", [
    ("[" * 100_000 + "]" * 100_000,
     "nested deeper than 64 levels"),
    ('{"url": "file:///w/mine.whl", "archive_info": {"hashes": {"sha256": 5}}}',
     "field archive_info.hashes.sha256 is not a string"),
])
def test_a_hostile_direct_url_json_is_a_clear_refusal(world, made_env, standin, tmp_path, body, problem):
    """A distribution pip installed (a wheel can ship its own direct_url.json) whose direct_url.json
    is nested past any limit or holds a number for its sha256: the bill of materials is refused
    naming the file (exit 4, as an unreadable package record), no traceback."""
    from tests.conftest import copy_env

    prefix = copy_env(made_env, tmp_path / "env")
    info = prefix / "lib" / "python3.11" / "site-packages" / "mine-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mine\nVersion: 1.0\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "direct_url.json").write_text(body)
    r = _lock(world, standin, str(prefix), "--format", "cyclonedx")
    assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
    assert f"{info / 'direct_url.json'}: " in r.stderr and problem in r.stderr, r.stderr


# --------------------------------------------------------------------------- the format, without engine


def test_unified_file_round_trips_through_our_reader_and_conda_locks():
    from mambaboot.environment.condameta import Package

    def pkg(name, subdir, depends=()):
        return Package(name, "1.0", "0", 0, subdir, f"https://h/c/{subdir}/{name}-1.0-0.conda", "a" * 64, "b" * 32,
                       depends)

    solved = {"linux-64": [pkg("b", "linux-64", ("a >=1", "__glibc >=2.17")), pkg("a", "linux-64")],
              "win-64": [pkg("a", "win-64", ("__win",))]}
    pip = {"linux-64": [lockfile.PipEntry("w", "2.0", "https://h/w-2.0-py3-none-any.whl", "c" * 64)]}
    hashes = {p: condalock.content_hash(p, ["https://h/c"], ["a"], []) for p in solved}
    text = condalock.render(solved, pip, ["https://h/c"], ["environment.yml"], hashes)
    unified = condalock.parse(text, "x-lock.yml")
    linux = unified.for_platform("linux-64", "x-lock.yml")
    assert [e.filename for e in linux.entries] == ["a-1.0-0.conda", "b-1.0-0.conda"], "dependencies first"
    assert linux.pip[0].sha256 == "c" * 64 and linux.platforms() == ["linux-64"]
    with pytest.raises(UsageError, match="holds no packages for osx-arm64; it holds linux-64, win-64"):
        unified.for_platform("osx-arm64", "x-lock.yml")
    theirs = condalockmodels.parse(text)
    b = next(p for p in theirs.package if p.name == "b")
    assert b.dependencies == {"a": ">=1", "__glibc": ">=2.17"} and b.hash.md5 == "b" * 32
    assert condalock.content_hash("linux-64", ["https://h/c"], ["a"], []) == hashes["linux-64"]


@pytest.mark.parametrize("text, message", [
    ("version: 2\npackage: []\n", "version 1"),
    ("version: 1\nmetadata:\n  platforms: []\npackage: []\n", "metadata.platforms"),
    ('version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n- name: a\n  version: "1"\n  manager: conda\n'
     "  platform: linux-64\n  url: https://h/c/linux-64/a-1-0.conda\n  hash: {}\n", "by an md5 or sha256"),
    ('version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n- name: a\n  version: "1"\n  manager: conda\n'
     "  platform: osx-64\n  url: https://h/c/osx-64/a-1-0.conda\n  hash:\n    md5: " + "b" * 32 + "\n",
     "metadata.platforms does not list"),
    # an alias is refused for what it can expand to (common/yamlread); an anchor alone repeats
    # nothing and ruamel.yaml reads it, so the file's own fault is said
    ("version: 1\nmetadata: &x {}\npackage: *x\n", r"line 3, column 10: an alias \(\*x\)"),
    ("version: 1\npackage: &x []\n", "field metadata is missing"),
])
def test_bad_unified_files_are_usage_errors(text, message):
    said = []
    for platform in ("linux-64", "osx-64"):  # a bad entry is said for the platform it is for
        with pytest.raises(UsageError) as refused:
            condalock.parse(text, "x-lock.yml").for_platform(platform, "x-lock.yml")
        said.append(str(refused.value))
    assert any(re.search(message, s) for s in said), said


def test_a_conda_lock_file_is_told_by_name_or_content():
    assert condalock.is_lock_name("team-lock.yml") and condalock.is_lock_name(r"C:\x\conda-lock.yaml")
    assert not condalock.is_lock_name("lock.yml") and not condalock.is_lock_name("env.lock")
    assert lock_kind("# c\nversion: 1\nmetadata:\n  x: 1\npackage:\n- a\n", "lock.yml") == "conda-lock"
    assert lock_kind("# platform: linux-64\n@EXPLICIT\nhttps://h/c/linux-64/a-1-0.conda#" + "a" * 64,
                     "conda-lock.yml") == "explicit"


def test_the_dry_run_json_is_read_as_libmamba_writes_it():
    from mambaboot.common.errors import EngineError
    from mambaboot.engine import solve

    # to_json(PackageInfo), libmamba/src/specs/package_info.cpp 2.8.1: every key it writes
    entry = {"name": "python", "version": "3.11.2", "channel": "https://h/c/win-64", "subdir": "win-64",
             "url": "https://h/c/win-64/python-3.11.2-h0_0_cpython.conda", "fn": "python-3.11.2-h0_0_cpython.conda",
             "size": 1, "timestamp": 0, "build": "h0_0_cpython", "build_string": "h0_0_cpython", "build_number": 0,
             "license": "Python-2.0", "track_features": "", "md5": "B" * 32, "sha256": "A" * 64,
             "depends": ["ucrt >=10"], "constrains": []}
    text = "warning  libmamba something\n" + json.dumps(
        {"actions": {"FETCH": [entry], "LINK": [entry], "PREFIX": "/x"}, "dry_run": True, "prefix": "/x", "success": True})
    (python,) = solve.read(text, "win-64")
    assert (python.name, python.build, python.subdir, python.md5, python.sha256, python.depends, python.license) == (
        "python", "h0_0_cpython", "win-64", "b" * 32, "a" * 64, ("ucrt >=10",), "Python-2.0")
    for bad in ("", "not json {", json.dumps({"actions": {"FETCH": [], "PREFIX": "/x"}}),
                json.dumps({"actions": {"LINK": [{"name": "x"}]}})):
        with pytest.raises(EngineError, match="win-64"):
            solve.read(bad, "win-64")
    cmd = solve.command("mm", ["file:///c"], ["python=3.11"], "win-64", "/home/t", "/home/root")
    assert cmd[cmd.index("--platform") + 1] == "win-64" and {"--dry-run", "--json"} <= set(cmd)


def test_a_team_lock_nested_deeper_than_the_record_reads_is_refused_before_anything_is_written(
        world, team_channel, standin):
    """A conda-lock file's entry for another platform is carried into the record as written (for
    `lock` to write back): nested so that the lock's reader takes it but the record's does not
    (an osx-arm64 entry 60 levels deep: 63 in the lock, 67 in the record), the create is refused
    before anything is made, naming the lock; one a level shallower is carried, and read back."""
    out = world.root / "team-lock.yml"
    assert _lock(world, standin, "--python", "3.11", "-c", team_channel, "--platform", "linux-64",
                 "--platform", "osx-arm64", "-o", str(out)).returncode == 0
    text = out.read_text()

    def nested(levels: int) -> str:
        entry = ('- name: "deep"\n  version: "1"\n  manager: "conda"\n  platform: "osx-arm64"\n'
                 '  url: "https://example.invalid/osx-arm64/deep-1-0.conda"\n  hash: {md5: "' + "0" * 32 + '"}\n'
                 '  custom: ' + "[" * levels + '"x"' + "]" * levels + "\n")
        return text + entry

    deep = world.root / "deep-lock.yml"
    deep.write_text(nested(60))
    target = world.root / "envs" / "deep"
    r = world.create("-p", str(target), "--from-lock", str(deep), "--micromamba", str(standin), "-q")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert str(deep) in r.stderr and "osx-arm64" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not target.exists() and not list(target.parent.glob(f".{target.name}*")), "nothing was written"

    fits = world.root / "fits-lock.yml"
    fits.write_text(nested(57))  # 64 levels in the record: as deep as it is read
    r = world.create("-p", str(target), "--from-lock", str(fits), "--micromamba", str(standin), "-q")
    assert r.returncode == 0, r.stderr
    listed = world.run("list", "--json", str(target))
    assert [e["state"] for e in json.loads(listed.stdout)["environments"] if e["prefix"] == str(target)] == \
        ["complete"], listed.stdout
    again = world.root / "again-lock.yml"
    r = _lock(world, standin, str(target), "--platform", "osx-arm64", "-o", str(again))
    assert r.returncode == 0, r.stderr
    assert '"deep"' in again.read_text(), "the carried entry is written back"


def test_a_lock_names_a_private_channel_without_its_password_or_token_in_every_format(world, made_env, standin):
    """conda's `conda list --explicit` writes a URL without its auth (conda/common/url.py remove_auth,
    split_anaconda_token): so does every lock and bill of materials, on stdout or in a file."""
    from tests.conftest import copy_env

    prefix = copy_env(made_env, world.root / "private")
    for meta in (prefix / "conda-meta").glob("*.json"):
        rec = json.loads(meta.read_text())
        rec["url"] = rec["url"].replace("file://", "https://alice:pw-s3cret@private.example.invalid/t/tk-xxx", 1)
        meta.write_text(json.dumps(rec))
    outputs = []
    for fmt, name in (("explicit", "p.lock"), ("conda-lock", "p-lock.yml"), ("cyclonedx", "p.cdx.json")):
        shown = _lock(world, standin, str(prefix), "--format", fmt)
        written = _lock(world, standin, str(prefix), "-o", str(world.root / name))
        assert shown.returncode == 0 and written.returncode == 0, shown.stderr + written.stderr
        outputs += [shown.stdout, (world.root / name).read_text(), shown.stderr, written.stderr]
        assert "https://private.example.invalid/" in shown.stdout, f"{fmt}: the channel is still named"
    for text in outputs:
        assert "pw-s3cret" not in text and "tk-xxx" not in text and "alice" not in text, text
