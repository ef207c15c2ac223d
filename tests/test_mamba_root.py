"""The environment is its own mamba's root prefix however mamba is started: under conda's own
activation (the etc/conda hooks mambaboot writes), under mambaboot's (`run`, the .mambaboot
scripts), and by its path when told so; `doctor PREFIX` names an environment whose mamba would
take another root.

The layout is the user's: environments in `<drive>\\dev\\Anaconda\\envs`, below an Anaconda base
with its own conda-meta/, pkgs/ and a .condarc naming a channel of its own. A mamba whose root
is that base reads the base's .condarc, so the one package only the base's channel holds is
found: that is what each test watches, with an install from the environment's own channel
and a snapshot showing nothing changed outside the environment and the package cache.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.channel import PackageSpec, channel_url, index_channel, make_package
from tests.support.snapshot import diff

ONLY_THERE = "anaconda-only"
POSIX = {"bash": ["bash", "--noprofile", "--norc"], "dash": ["dash"], "zsh": ["zsh", "-f"]}


@pytest.fixture(scope="session")
def base_channel(tmp_path_factory) -> str:
    """The Anaconda base's own channel, with a package the environments' channel lacks."""
    dest = tmp_path_factory.mktemp("base-channel")
    for subdir in ("linux-64", "noarch"):
        (dest / subdir).mkdir()
    make_package(PackageSpec(name=ONLY_THERE, version="1.0", files={"share/anaconda-only.txt": "base\n"}),
                 dest / "linux-64")
    index_channel(dest)
    return channel_url(dest)


@pytest.fixture
def anaconda(world, base_channel) -> Path:
    base = world.root / "Anaconda"
    for d in ("conda-meta", "pkgs", "envs"):
        (base / d).mkdir(parents=True)
    (base / "conda-meta" / "history").write_text("")
    (base / ".condarc").write_text(f"channels:\n  - {json.dumps(base_channel)}\n")
    return base


def _create(world, prefix: Path, channel: str, standin) -> Path:
    r = world.create("-q", "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return prefix


def _shell(world, argv, script: str) -> subprocess.CompletedProcess:
    driver = world.root.parent / "driver"  # outside the world, whose snapshot the tests compare
    driver.write_text(script)
    return subprocess.run([*argv, str(driver)], env=world.env, cwd=str(world.root.parent), capture_output=True,
                          text=True, timeout=120)


# How each shell says the lines of the script below: sh (bash, dash, zsh) and fish.
_SAY = {
    False: {"set": "export MAMBA_ROOT_PREFIX='{}'", "unset": "unset MAMBA_ROOT_PREFIX",
            "conda": 'eval "$({} shell.posix {})"', "status": "$?",
            "after": 'printf "after=%s\\n" "${MAMBA_ROOT_PREFIX-<unset>}"',
            "left": 'printf "left=%s\\n" "$(env | grep -c "^_MAMBABOOT_")"'},
    True: {"set": "set -gx MAMBA_ROOT_PREFIX '{}'", "unset": "set -e MAMBA_ROOT_PREFIX",
           "conda": "{} shell.fish {} | source", "status": "$status",
           "after": 'if set -q MAMBA_ROOT_PREFIX; echo "after=$MAMBA_ROOT_PREFIX"; else; echo "after=<unset>"; end',
           "left": 'echo "left="(env | grep -c "^_MAMBABOOT_")'},
}


def _script(prefix: Path, caller, fish: bool = False) -> str:
    """conda's own activation of prefix, mamba's two installs, conda's deactivation."""
    say, conda = _SAY[fish], f"'{prefix}/bin/conda'"
    return "\n".join([
        say["set"].format(caller) if caller is not None else say["unset"],
        say["conda"].format(conda, f"activate '{prefix}'"),
        f'mamba install -y {ONLY_THERE} >&2; echo "only={say["status"]}"',
        f'mamba install -y uv >&2; echo "uv={say["status"]}"',
        'echo "root=$MAMBA_ROOT_PREFIX"',
        say["conda"].format(conda, "deactivate"),
        say["after"],
        say["left"],
        "",
    ])


def _outcome(proc: subprocess.CompletedProcess) -> dict:
    found = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    found["only"] = "found" if found.get("only") == "0" else "not found"
    return found


@pytest.mark.parametrize("caller", [None, "/callers root"], ids=["unset", "set"])
@pytest.mark.parametrize("shell", ["bash", "dash", "zsh", "fish"])
def test_under_condas_activation_mamba_takes_the_environment_as_its_root(world, anaconda, channel, standin,
                                                                          shell, caller):
    prefix = _create(world, anaconda / "envs" / "py", channel, standin)
    if shell == "fish":
        _shell(world, ["fish", "--no-config"], "true\n")  # fish makes its own directories in HOME once
    before = world.outside(prefix)
    if shell == "fish":
        proc = _shell(world, ["fish", "--no-config"], _script(prefix, caller, fish=True))
    else:
        proc = _shell(world, POSIX[shell], _script(prefix, caller))
    assert _outcome(proc) == {"only": "not found", "uv": "0", "root": str(prefix),
                              "after": "<unset>" if caller is None else caller, "left": "0"}, proc.stderr
    assert (prefix / "bin" / "uv").is_file() and not list((prefix / "conda-meta").glob(f"{ONLY_THERE}-*"))
    assert diff(before, world.outside(prefix)) == {}, "mamba wrote outside the environment and the cache"


def test_stacked_and_replaced_conda_activations_restore_the_root_exactly(world, anaconda, channel, standin):
    """conda runs no deactivate.d for --stack, and the lower environment's activate.d again when
    the upper one goes; a replacing activation runs the old one's deactivate.d first."""
    a = _create(world, anaconda / "envs" / "a", channel, standin)
    b = _create(world, anaconda / "envs" / "b", channel, standin)
    conda = f"'{a}/bin/conda' shell.posix"
    steps = [f"activate '{a}'", f"activate --stack '{b}'", "reactivate", "deactivate", f"activate '{b}'",
             "deactivate", "deactivate"]
    script = ["export MAMBA_ROOT_PREFIX='/callers root'"]
    for step in steps:
        script += [f'eval "$({conda} {step})"', 'printf "%s\\n" "${MAMBA_ROOT_PREFIX-<unset>}"']
    script.append('env | grep -c "^_MAMBABOOT_"')
    proc = _shell(world, POSIX["bash"], "\n".join(script) + "\n")
    assert proc.stdout.splitlines() == [str(a), str(b), str(b), str(a), str(b), str(a), "/callers root", "0"], \
        proc.stderr


@pytest.mark.parametrize("how", ["moved", "adopted"])
def test_a_moved_or_adopted_environment_is_its_mambas_root_under_condas_activation(world, anaconda, channel, standin,
                                                                                    how):
    prefix = anaconda / "envs" / "py"
    if how == "moved":
        first = _create(world, anaconda / "envs" / "first", channel, standin)
        r = world.run("move", str(first), str(prefix), "--cache-dir", str(world.cache))
    else:
        subprocess.run([str(standin), "create", "-y", "-p", str(prefix), "-c", channel, "python", "conda", "mamba"],
                       env=world.env, check=True, capture_output=True)
        r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    before = world.outside(prefix)
    proc = _shell(world, POSIX["bash"], _script(prefix, None))
    assert _outcome(proc) == {"only": "not found", "uv": "0", "root": str(prefix), "after": "<unset>", "left": "0"}, \
        proc.stderr
    assert diff(before, world.outside(prefix)) == {}


@pytest.mark.parametrize("where", ["bin/mamba", "condabin/mamba"])
def test_mamba_started_by_its_path_takes_the_root_it_is_given(world, anaconda, channel, standin, where):
    """With no activation nothing of the environment's runs: `-r PREFIX` (docs/guide.md, known issues)."""
    prefix = _create(world, anaconda / "envs" / "py", channel, standin)
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(world.home)}
    mamba = str(prefix / where)
    before = world.outside(prefix)
    only = subprocess.run([mamba, "install", "-r", str(prefix), "-y", ONLY_THERE], env=clean, capture_output=True,
                          text=True)
    uv = subprocess.run([mamba, "install", "-r", str(prefix), "-y", "uv"], env=clean, capture_output=True, text=True)
    assert only.returncode != 0 and uv.returncode == 0, only.stdout + only.stderr + uv.stderr
    assert (prefix / "bin" / "uv").is_file()
    assert diff(before, world.outside(prefix)) == {}

    # Control: without it, mamba 2.x takes the Anaconda base as its root, and as its target too.
    proc = subprocess.run([mamba, "install", "-y", ONLY_THERE], env=clean, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list((anaconda / "conda-meta").glob(f"{ONLY_THERE}-*.json"))


def test_run_sets_the_root_itself_and_does_not_source_the_root_hook(world, anaconda, channel, standin):
    prefix = _create(world, anaconda / "envs" / "py", channel, standin)
    assert (prefix / "etc" / "conda" / "activate.d" / "~mambaboot-root.sh").is_file()
    r = world.run("run", str(prefix), "--", "env")
    assert r.returncode == 0, r.stderr
    env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert env["MAMBA_ROOT_PREFIX"] == str(prefix)
    assert not [k for k in env if k.startswith("_MAMBABOOT_")]


# ------------------------------------------------------------------ doctor PREFIX


def _mamba_root_findings(world, *prefixes):
    r = world.run("doctor", *map(str, prefixes), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return [f for f in r.json()["findings"] if f["check"] == "mamba-root"]


def test_doctor_names_an_environment_whose_mamba_takes_another_root(world, anaconda, channel, standin):
    inside = _create(world, anaconda / "envs" / "py", channel, standin)
    apart = _create(world, world.tmp / "apart" / "py", channel, standin)
    link = world.root / "link"
    link.symlink_to(anaconda / "envs")
    found = _mamba_root_findings(world, inside, apart)
    assert [f["severity"] for f in found] == ["warning", "ok"]
    (warning,) = [f for f in found if f["severity"] == "warning"]
    assert warning["message"].startswith(f"{inside}: its mamba ") and f"takes {anaconda} as its root prefix" in \
        warning["message"] and "pkgs/" in warning["message"]
    assert f"-r {inside}" in warning["fix"] and f"mambaboot run {inside}" in warning["fix"]
    assert "activate-scripts" not in warning["fix"], "the hooks are there"
    # reached through a link, resolved as libmamba resolves it (the location check names the link an error)
    r = world.run("doctor", str(link / "py"), "--json")
    (through,) = [f for f in r.json()["findings"] if f["check"] == "mamba-root"]
    assert through["severity"] == "warning" and f"takes {anaconda} as its root prefix" in through["message"]

    # Without the hooks, the fix says how to get them.
    for hook in (inside / "etc" / "conda").glob("*.d/~mambaboot-root.*"):
        hook.unlink()
    (warning,) = _mamba_root_findings(world, inside)
    assert f"mambaboot activate-scripts {inside}" in warning["fix"]


def test_doctor_leaves_an_environment_without_mamba_2_alone(world, anaconda, channel, standin):
    prefix = _create(world, anaconda / "envs" / "py", channel, standin)
    # a python mamba: conda's root, the environment (and no libmamba 2, which the real channel's
    # mamba depends on, as conda-forge's does)
    for name in ("mamba", "libmamba"):
        for record in (prefix / "conda-meta").glob(f"{name}-[0-9]*.json"):
            record.rename(record.with_name(f"{name}-1.5.12-pyh0_0.json"))
    assert _mamba_root_findings(world, prefix) == []


# ------------------------------------------------------------------ the hooks' text


@pytest.mark.parametrize("windows", [False, True])
def test_the_powershell_hooks_parse_and_start_no_program(windows):
    """No PowerShell here (the Windows CI job activates for real): parsed by tree-sitter's grammar.
    They start no program and call no .NET method: the Env: drive's cmdlets only, which
    ConstrainedLanguage mode runs as FullLanguage does (tests/test_quoting.py walks them for that)."""
    from mambaboot.environment import roothook
    from tests.support import pwsh

    cmdlets = {"Get-Item", "Set-Item", "Remove-Item", "Test-Path", "ForEach-Object"}
    for rel, data in roothook.render(windows).items():
        if rel.endswith(".ps1"):
            tree = pwsh.parse(data)  # no ERROR or MISSING node
            assert set(pwsh.commands(tree)) <= cmdlets, rel
            assert "[Environment]" not in data.decode("ascii"), rel
