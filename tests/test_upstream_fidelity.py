"""Upstream behaviours the stand-in reproduces (see docs/reference.md, "Upstream behaviours we depend on").

Each test runs the real `mambaboot` against a stand-in that behaves like the named micromamba
release, and a control shows that the stand-in really has the behaviour (the trap is armed).

What runs, by default: every engine here is the suite's stand-in micromamba, and the
environment's conda and mamba are the test channel's scripts, models we wrote from the upstream
sources each test cites, so by default these tests compare mambaboot with those models. The
tests taking `standins` (1.5.12, 2.0.5, 2.8.1) and `fault_standin` keep the stand-ins in every
mode; those taking `standin` run the real micromamba (and, with MAMBABOOT_TEST_CHANNEL, the real
conda and mamba) only in the real-engine mode (tests/support/realmode.py), where
test_the_standin_and_the_real_engine_link_alike also compares the two engines.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from mambaboot.common import yamlread
from tests.support import realmode
from tests.support.channel import MAMBA_VERSION, build_channel, channel_url, menu_spec, pip_spec
from tests.support.micromamba_standin import make_standin
from tests.support.snapshot import diff, snapshot

# The releases whose behaviour differs where we depend on it: 1.5 (last 1.x), 2.0 (md5-only
# locks), 2.8 (the pinned one).
VERSIONS = ["1.5.12", "2.0.5", "2.8.1"]


@pytest.fixture(scope="session")
def standins(tmp_path_factory):
    root = tmp_path_factory.mktemp("standins")
    return {v: make_standin(root / v / "micromamba", version=v) for v in VERSIONS}


@pytest.fixture(scope="session")
def menu_channel(tmp_path_factory) -> str:
    return channel_url(build_channel(tmp_path_factory.mktemp("menu-channel"), extra=[pip_spec(), menu_spec()]))


def _is_environment(prefix: Path) -> bool:
    return (prefix / "conda-meta").is_dir() and (prefix / ".mambaboot" / "record.json").is_file()


# ------------------------------------------------------------------ an existing empty target


def test_the_standin_refuses_an_existing_target_that_is_its_root_prefix(tmp_path, channel, standins):
    """The trap: `--prefix P --root-prefix P` on an existing empty P (libmamba create.cpp)."""
    target = tmp_path / "empty"
    target.mkdir()
    proc = subprocess.run([str(standins["2.8.1"]), "create", "-y", "--no-rc", "-c", channel, "-p", str(target),
                           "-r", str(target), "python"], capture_output=True, text=True, env={"HOME": str(tmp_path)})
    assert proc.returncode == 1 and "Overwriting root prefix is not permitted" in proc.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_an_existing_empty_target_directory_is_used(world, channel, standins, version):
    prefix = world.envs / "py"
    prefix.mkdir()
    before = world.outside(prefix)
    r = world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standins[version]))
    assert r.returncode == 0, r.stderr
    assert _is_environment(prefix)
    assert diff(before, world.outside(prefix)) == {}, "the private root prefix leaves nothing behind"


def test_from_lock_into_an_existing_empty_target(world, channel, standin):
    r = world.create("src", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    lock = world.envs / "src" / ".mambaboot" / "lock.txt"
    again = world.envs / "again"
    again.mkdir()
    r = world.create("--prefix", str(again), "--from-lock", str(lock), "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert _is_environment(again)


# ------------------------------------------------------------------ shortcuts


def test_no_start_menu_shortcuts(world, menu_channel, standins):
    programs = world.home / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs"
    env = {"STANDIN_KNOWN_FOLDER_PROGRAMS": str(programs)}  # the Known Folder API ignores our APPDATA
    r = world.create("gui", "-c", menu_channel, "--package", "menu-app", "--micromamba", str(standins["2.8.1"]),
                     env=env)
    assert r.returncode == 0, r.stderr
    assert (world.envs / "gui" / "Menu" / "menu-app.json").is_file(), "the package did carry a menu"
    assert not programs.exists(), "no shortcut reached the user's Start menu"

    # Control: micromamba's default (shortcuts on) does write there.
    proc = subprocess.run([str(standins["2.8.1"]), "create", "-y", "--no-rc", "-c", menu_channel, "-p",
                           str(world.tmp / "ctl"), "-r", str(world.tmp / "root"), "python", "menu-app"],
                          capture_output=True, text=True, env={"HOME": str(world.tmp), **env,
                                                               "CONDA_PKGS_DIRS": str(world.tmp / "pkgs")})
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in programs.iterdir()] == ["menu-app.lnk"]


# ------------------------------------------------------------------ locks need micromamba >= 2.1


def _lock_of_new_environment(world, channel, standin) -> Path:
    r = world.create("src", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world.envs / "src" / ".mambaboot" / "lock.txt"


@pytest.mark.parametrize("version", ["1.5.12", "2.0.5"])
def test_a_lock_is_refused_with_an_engine_that_reads_its_hashes_as_md5(world, channel, standin, standins, version):
    lock = _lock_of_new_environment(world, channel, standin)
    binary = standins[version]
    sha = __import__("hashlib").sha256(binary.read_bytes()).hexdigest()
    before = world.outside()
    r = world.create("copy", "--from-lock", str(lock), "--micromamba", str(binary), "--micromamba-sha256", sha)
    assert r.returncode == 2, r.stderr
    assert f"micromamba {version} reads a lock's sha256 hashes as md5" in r.stderr and "2.1.0" in r.stderr
    assert not (world.envs / "copy").exists()
    assert diff(before, world.outside()) == {}


def test_the_standin_2_0_checks_a_64_digit_lock_hash_as_md5(tmp_path, world, channel, standin, standins):
    """The trap: micromamba 2.0 fails a correct sha256 lock (specs/package_info.cpp from_url)."""
    lock = _lock_of_new_environment(world, channel, standin)
    proc = subprocess.run([str(standins["2.0.5"]), "create", "-y", "--no-rc", "-p", str(tmp_path / "x"),
                           "-r", str(tmp_path / "root"), "--file", str(lock)], capture_output=True, text=True,
                          env={"HOME": str(tmp_path), "CONDA_PKGS_DIRS": str(tmp_path / "pkgs")})
    assert proc.returncode == 1 and "tarball has incorrect MD5" in proc.stderr


def test_the_engine_gets_a_private_root_prefix_and_no_shortcuts(world, channel, fault_standin):
    record = world.tmp / "runs.jsonl"
    r = world.create("py", "-c", channel, "--micromamba", str(fault_standin), env={"STANDIN_RECORD": str(record)})
    assert r.returncode == 0, r.stderr
    argv = json.loads(record.read_text().splitlines()[-1])["argv"]
    root = Path(argv[argv.index("--root-prefix") + 1])
    assert root.parent.parent == world.cache / "tmp" and root.name == "root", "inside the private home"
    assert "--no-shortcuts" in argv


# ------------------------------------------------------------------ the environment's own conda and mamba


def _run(world, prefix, *cmd, env=None):
    return world.run("run", str(prefix), "--", *cmd, env=env)


def test_the_environments_own_conda_and_mamba_install_from_its_channel(world, menu_channel, standin):
    r = world.create("work", "-c", menu_channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "work"
    rc = (prefix / ".condarc").read_text()
    assert json.dumps(menu_channel) in rc and json.dumps(str(world.cache / "Python" / "pkgs")) in rc
    assert ".condarc" in json.loads((prefix / ".mambaboot" / "record.json").read_text())["files"]

    r = _run(world, prefix, "conda", "install", "-y", "menu-app")
    assert r.returncode == 0, r.stderr
    assert list((prefix / "conda-meta").glob("menu-app-*.json"))
    r = _run(world, prefix, "mamba", "install", "-y", "uv")
    assert r.returncode == 0, r.stderr
    shared = world.cache / "Python" / "pkgs"
    assert list(shared.rglob("uv-*")), "uv went to the shared package cache"
    assert not (world.home / ".mamba").exists() and not list(world.root.rglob("urls.txt")), "not to a new one"
    assert (prefix / "bin" / "uv").is_file()

    # Control: without the file, conda 26 has no channel at all.
    (prefix / ".condarc").unlink()
    r = _run(world, prefix, "conda", "install", "-y", "uv")
    assert r.returncode == 1 and "NoChannelsConfiguredError" in r.stderr


def test_adopt_adds_a_missing_condarc_and_never_overwrites_one(world, channel, standin):
    assert world.create("py", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "py"
    (prefix / ".condarc").unlink()
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert json.dumps(channel) in (prefix / ".condarc").read_text()
    (prefix / ".condarc").write_text("channels:\n  - mine\n")
    assert world.run("adopt", str(prefix), "--cache-dir", str(world.cache)).returncode == 0
    text = (prefix / ".condarc").read_text()  # only the settings it lacked, appended
    assert text.startswith("channels:\n  - mine\n# Added by mambaboot:\n")
    assert yamlread.parse(text) == {"channels": ["mine"], "env_prompt": "({name}) ", "register_envs": "false",
                                      "number_channel_notices": "0"}


def test_the_environments_own_conda_keeps_it_out_of_the_users_environments_txt(world, menu_channel, standin):
    """conda 26.7.1's first install would append the prefix to ~/.conda/environments.txt
    (`register_env`, conda/core/envs_manager.py); `register_envs: false` in PREFIX/.condarc stops it."""
    assert world.create("work", "-c", menu_channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "work"
    registry = world.home / ".conda" / "environments.txt"
    r = _run(world, prefix, "conda", "install", "-y", "menu-app")
    assert r.returncode == 0, r.stderr
    assert str(prefix) not in (registry.read_text() if registry.exists() else "")

    # Control: without the setting, the same install lists it.
    rc = prefix / ".condarc"
    rc.write_text(rc.read_text().replace("register_envs: false\n", ""))
    r = _run(world, prefix, "conda", "install", "-y", "uv")
    assert r.returncode == 0, r.stderr
    assert registry.read_text().splitlines() == [str(prefix)]


def test_the_condarcs_env_prompt_makes_condas_prompt_the_one_activation_sets(world, channel, standin):
    """conda 26.7.1 `_prompt_modifier` (conda/activate.py): context.env_prompt.format(default_env=...,
    stacked_env=..., prefix=prefix, name=basename(prefix)); for its own root, default_env is "base"."""
    assert world.create("--prefix", str(world.envs / "proj_3.12"), "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "proj_3.12"
    env_prompt = yamlread.parse((prefix / ".condarc").read_text())["env_prompt"]
    condas = env_prompt.format(default_env="base", stacked_env="base", prefix=str(prefix), name=os.path.basename(prefix))
    r = _run(world, prefix, "sh", "-c", 'printf "%s" "$CONDA_PROMPT_MODIFIER"')
    assert condas == r.stdout == "(proj_3.12) ", r.stderr


def test_mamba_uses_the_environment_as_its_root(world, channel, standin, tmp_path):
    """`<drive>\\dev\\Anaconda\\envs\\NAME`: the grandparent has its own pkgs/ and rc file."""
    anaconda = world.root / "Anaconda"
    (anaconda / "pkgs").mkdir(parents=True)
    (anaconda / ".condarc").write_text('channels:\n  - "file:///nowhere/other-channel"\n')
    prefix = anaconda / "envs" / "py"
    assert world.create("--prefix", str(prefix), "-c", channel, "--micromamba", str(standin)).returncode == 0

    r = _run(world, prefix, "mamba", "install", "-y", "uv")
    assert r.returncode == 0, r.stderr
    assert "other-channel" not in r.stdout + r.stderr and not list((anaconda / "pkgs").iterdir())

    # Control: mamba started without MAMBA_ROOT_PREFIX picks the grandparent (libmamba >= 2.0.6).
    proc = subprocess.run([str(prefix / "bin" / "mamba"), "install", "-y", "uv"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(world.home)})
    assert proc.returncode == 1 and "other-channel" in proc.stderr


def test_what_verification_starts_costs_what_it_costs_upstream(world, channel, standin):
    """create's verification starts the environment's python, conda and mamba; the stand-ins must
    not cost more than the real ones. mamba 2 is a C++ program that needs no python: conda-forge's
    mamba-feedstock builds it with BUILD_MAMBA=ON (recipe/build_mamba.sh) and its one run
    requirement is libmamba (recipe/meta.yaml). conda-forge's python ships its library compiled,
    so starting it compiles (and writes) nothing."""
    assert world.create("py", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "py"
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(world.home)}
    before = snapshot(prefix)
    proc = subprocess.run([str(prefix / "bin" / "python"), "-c", "import json, sys"], env=clean,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert diff(before, snapshot(prefix)) == {}, "the interpreter compiled part of its library at start"

    interpreter = prefix / "bin" / "python3.11"
    interpreter.rename(prefix / "hidden")
    try:
        mamba = subprocess.run([str(prefix / "bin" / "mamba"), "--version"], env=clean, capture_output=True, text=True)
        # Control: conda, a python program, cannot start without the interpreter its #! names.
        with pytest.raises(FileNotFoundError):
            subprocess.run([str(prefix / "bin" / "conda"), "--version"], env=clean, capture_output=True)
    finally:
        (prefix / "hidden").rename(interpreter)
    assert (mamba.returncode, mamba.stdout.strip()) == (0, MAMBA_VERSION), mamba.stderr


@pytest.mark.parametrize("shell", ["bash", "dash", "zsh", "fish"])
def test_activation_sets_mamba_root_prefix_and_deactivation_restores_the_callers(world, channel, standin, shell):
    assert world.create("py", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "py"
    scripts = prefix / ".mambaboot"
    if shell == "fish":
        body = (f"set -gx MAMBA_ROOT_PREFIX /callers; source {scripts}/activate.fish; echo $MAMBA_ROOT_PREFIX; "
                f"source {scripts}/deactivate.fish; echo $MAMBA_ROOT_PREFIX")
    else:
        body = (f"export MAMBA_ROOT_PREFIX=/callers; MAMBABOOT_ENV='{prefix}'; . '{scripts}/activate.sh'; "
                f"echo \"$MAMBA_ROOT_PREFIX\"; . '{scripts}/deactivate.sh'; echo \"$MAMBA_ROOT_PREFIX\"")
    proc = subprocess.run([shell, "-c", body], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(world.home)})
    assert proc.stdout.splitlines() == [str(prefix), "/callers"], proc.stderr


# ------------------------------------------------------------------ CONDA_PKGS_DIRS is YAML to libmamba


@pytest.mark.parametrize("cache_name", ["cache[1]", "cache{x}", "cache#2", "a: b"])
def test_a_cache_path_libmamba_misreads_is_refused_up_front(world, channel, standin, cache_name):
    before = world.outside()
    r = world.run("create", "py", "-c", channel, "--micromamba", str(standin), "--cache-dir",
                  str(world.tmp / cache_name))
    assert r.returncode == 2, r.stderr
    assert "misreads in CONDA_PKGS_DIRS" in r.stderr
    assert diff(before, world.outside()) == {}, "nothing written"
    r = world.create("py", "-c", channel, "--micromamba", str(standin),
                     env={"CONDA_PKGS_DIRS": str(world.tmp / cache_name)})
    assert r.returncode == 2 and "misreads in CONDA_PKGS_DIRS" in r.stderr


def test_bootstrap_sh_refuses_such_a_cache_too(world, channel, standin, zipapp, tmp_path):
    from tests.test_bootstrap_sh import SCRIPT

    r = subprocess.run(["dash", str(SCRIPT), "py", "-c", channel, "--micromamba", str(standin),
                        "--cache-dir", str(world.tmp / "cache[1]"), "--zipapp", str(zipapp)],
                       env=world.env, cwd=str(world.envs), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "misreads in CONDA_PKGS_DIRS" in r.stderr
    assert not (world.envs / "py").exists()


# ------------------------------------------------------------------ the package cache, both layouts


@pytest.mark.parametrize("version, nested", [("2.0.5", False), ("2.8.1", True)])
def test_cache_info_and_clean_see_both_layouts(world, channel, standins, version, nested):
    assert world.create("a", "-c", channel, "--package", "uv", "--micromamba", str(standins[version])).returncode == 0
    pkgs = world.cache / "Python" / "pkgs"
    flat = [d for d in pkgs.iterdir() if (d / "info" / "index.json").is_file()]
    assert bool(flat) != nested, "the stand-in uses this release's layout"
    info = json.loads(world.run("cache", "info", "--json", "--cache-dir", str(world.cache)).stdout)
    counted = info["package_caches"][0]
    assert counted["packages"] >= 4 and counted["in_use"] >= 1  # (a package whose files all hold the prefix is copied)

    assert world.run("remove", "a", "--yes", "--cache-dir", str(world.cache)).returncode == 0
    (pkgs / "pkgs.lock").unlink()
    before = __import__("tests.support.snapshot", fromlist=["snapshot"]).snapshot(world.cache)
    dry = json.loads(world.run("cache", "clean", "--dry-run", "--json", "--cache-dir", str(world.cache)).stdout)
    assert diff(before, __import__("tests.support.snapshot", fromlist=["snapshot"]).snapshot(world.cache)) == {}, \
        "a dry run writes nothing, not even pkgs.lock"
    assert any(p.startswith("uv-") for p in dry["removed_packages"])
    done = json.loads(world.run("cache", "clean", "--json", "--cache-dir", str(world.cache)).stdout)
    assert sorted(done["removed_packages"]) == sorted(dry["removed_packages"])
    assert not [p for p in pkgs.rglob("*") if p.suffix in (".bz2", ".conda") or (p / "info").is_dir()]
    assert not [p.name for p in pkgs.iterdir() if p.is_dir()], "the emptied URL directories are gone too"


# ------------------------------------------------------------------ variables: in environment.yml


def test_environment_file_variables_are_stored_as_conda_stores_them(world, channel, standin):
    env_file = world.tmp / "environment.yml"
    env_file.write_text(
        "name: withvars\nchannels:\n  - " + channel + "\ndependencies:\n  - python\nvariables:\n"
        "  MY_VAR: hello world\n  QUOTED: \"a 'b' $c\"\n  NUM: 3\n  PATH: /never\n"
    )
    r = world.create("--file", str(env_file), "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert "PATH" in r.stderr and "reserved" in r.stderr
    prefix = world.envs / "withvars"
    state = json.loads((prefix / "conda-meta" / "state").read_text())
    # as conda stores them, beside the variable that keeps every environment off the user site
    assert state == {"env_vars": {"PYTHONNOUSERSITE": "1", "MY_VAR": "hello world", "QUOTED": "a 'b' $c", "NUM": "3"}}

    r = _run(world, prefix, "python", "-c", "import os; print(os.environ['MY_VAR'], os.environ['QUOTED'])")
    assert r.returncode == 0 and r.stdout.strip() == "hello world a 'b' $c", r.stderr
    proc = subprocess.run(["bash", "-c", f". '{prefix}/.mambaboot/activate.sh'; echo \"$MY_VAR|$NUM\"; "
                           f". '{prefix}/.mambaboot/deactivate.sh'; echo \"${{MY_VAR-unset}}\""],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(world.home)})
    assert proc.stdout.splitlines() == ["hello world|3", "unset"], proc.stderr


# ------------------------------------------------------------------ release tags are VERSION-BUILD


def test_a_release_whose_build_is_not_0_is_refused_clearly_and_found_by_its_tag(world, channel, fault_standin):
    from mambaboot.common.host import current
    from tests.support.server import AssetServer

    with AssetServer() as server:  # serves the stand-in in every mode: a real one served alone lacks its libraries
        server.add_release("2.7.0-1", current().subdir, fault_standin.read_bytes())
        env = {"MAMBABOOT_RELEASES_URL": f"{server.url}/mamba-org/micromamba-releases/releases"}
        before = world.outside()
        r = world.create("py", "-c", channel, "--micromamba-version", "2.7.0", env=env)
        assert r.returncode == 5, r.stderr
        assert "no micromamba release tagged 2.7.0-0" in r.stderr and "--micromamba-version 2.7.0-1" in r.stderr
        assert diff(before, world.outside()) == {}
        r = world.create("py", "-c", channel, "--micromamba-version", "2.7.0-1", env=env)
        assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ what the engine writes when it links


@pytest.mark.parametrize("which", ["stand-in", "engine under test"])
def test_the_standin_links_as_libmamba_does(tmp_path, channel, standins, standin, which):
    """The engine's own output, read where mambaboot reads it (libmamba/src/core/link.cpp
    LinkPackage::execute, replace_long_shebang; libmamba/src/api/install.cpp create_install_request;
    libmamba/src/core/package_paths.cpp): records without placeholders, a prefix with a space left
    in the `#!` line, pip added to a request for python, the package cache's paths.json complete."""
    prefix = tmp_path / "with space" / "env"
    pkgs = tmp_path / "pkgs"
    engine = standins["2.8.1"] if which == "stand-in" else standin  # the real micromamba in real mode
    proc = subprocess.run([str(engine), "create", "-y", "--no-rc", "--override-channels", "-c", channel,
                           "-p", str(prefix), "-r", str(tmp_path / "root"), "python", "conda"],
                          capture_output=True, text=True, env={"HOME": str(tmp_path), "CONDA_PKGS_DIRS": str(pkgs)})
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json")]
    assert "pip" in {r["name"] for r in records}, "pip was not asked for, and is there"
    fields = {key for r in records for entry in r["paths_data"]["paths"] for key in entry}
    assert fields <= {"_path", "sha256_in_prefix", "sha256", "path_type", "size_in_bytes", "no_link"}, fields
    conda = next(r for r in records if r["name"] == "conda")
    changed = {e["_path"] for e in conda["paths_data"]["paths"] if e["sha256"] != e["sha256_in_prefix"]}
    assert "bin/conda" in changed and "etc/profile.d/conda.sh" in changed
    assert (prefix / "bin" / "conda").read_text().splitlines()[0] == f"#!{prefix}/bin/python", "no rule for a space"
    shipped = Path(conda["extracted_package_dir"]) / "info" / "paths.json"
    entries = json.loads(shipped.read_text())["paths"]
    assert {e["_path"]: e.get("file_mode") for e in entries if "prefix_placeholder" in e}["bin/conda"] == "text"
    for record in records:
        for entry in json.loads((Path(record["extracted_package_dir"]) / "info" / "paths.json").read_text())["paths"]:
            assert isinstance(entry.get("size_in_bytes"), int), (record["name"], entry)  # softlinks too


def _linked(engine: Path, channel: str, root: Path) -> dict:
    """What an engine wrote, where mambaboot reads it: per package, each path's record fields and
    whether its hashes differ (the link wrote the prefix in), and the first line of each script."""
    prefix = root / "with space" / "env"
    proc = subprocess.run([str(engine), "create", "-y", "--no-rc", "--override-channels", "-c", channel,
                           "-p", str(prefix), "-r", str(root / "root"), "python", "conda", "mamba"],
                          capture_output=True, text=True, env={"HOME": str(root), "CONDA_PKGS_DIRS": str(root / "pkgs")})
    assert proc.returncode == 0, proc.stderr
    seen = {}
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(path.read_text())
        for entry in record["paths_data"]["paths"]:
            changed = entry.get("sha256") != entry.get("sha256_in_prefix")
            seen[(record["name"], entry["_path"])] = (sorted(set(entry) - {"no_link"}), entry["path_type"], changed)
    heads = {}
    for script in sorted((prefix / "bin").iterdir()):
        if script.is_file() and not script.is_symlink():
            head = script.read_bytes()[:200]
            heads[script.name] = head.split(b"\n", 1)[0].replace(str(prefix).encode(), b"PREFIX") if head.startswith(b"#!") else None
    return {"records": seen, "heads": heads}


if realmode.engine() is not None:  # a mode of the suite: with a real micromamba given, the two are compared
    def test_the_standin_and_the_real_engine_link_alike(tmp_path, channel, standins, standin):
        """The same environment made by the stand-in and by the real micromamba: the same record
        fields for every path, the same files changed at link, the same first lines in bin/, so
        the stand-in the default suite runs on cannot drift from the engine again."""
        real, stand_in = _linked(standin, channel, tmp_path / "real"), _linked(standins["2.8.1"], channel, tmp_path / "stand-in")
        differ = {k: (real["records"].get(k), stand_in["records"].get(k))
                  for k in set(real["records"]) | set(stand_in["records"]) if real["records"].get(k) != stand_in["records"].get(k)}
        assert differ == {}, differ
        assert real["heads"] == stand_in["heads"]
