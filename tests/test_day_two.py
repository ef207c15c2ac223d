"""Day two: the environment manages itself with its own conda and mamba.

After mambaboot made it, and after its activation in bash, dash, zsh and fish (and through
`run`), the environment's conda and mamba install a package from the environment's channel,
update it, list it, find it with `mamba repoquery`, remove it, set and unset variables with
`conda env config vars`, and install a package whose activate.d hook the next activation runs.
No network (a file:// channel); nothing changes outside the prefix and the package cache but
what conda itself always writes; the record, `list` and `lock` stay truthful; `doctor` in the
activated shell finds nothing to fix.

In the real-engine mode (tests/support/realmode.py) these are the real conda and mamba; by
default the test channel's stand-ins, which model each of these commands on the same files.
"""

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT
from tests.support.channel import PackageSpec, build_channel, channel_url, hooks_spec
from tests.support.snapshot import diff

SHELLS = {"bash": ["bash", "--noprofile", "--norc"], "dash": ["dash"], "zsh": ["zsh", "-f"],
          "fish": ["fish", "--no-config", "--private"]}
DAYTWO = [PackageSpec(name="mb-daytwo", version=v, subdir="noarch", files={"share/mb-daytwo/VERSION": f"{v}\n"})
          for v in ("1.0", "1.1")]
# What conda 26.7.1 writes outside its prefix whatever its configuration: every transaction
# touches ~/.conda/environments.txt, creating it empty (RegisterEnvironmentLocationAction.verify,
# conda/core/path_actions.py); with register_envs: false (our .condarc) nothing is written into it.
CONDA_ALWAYS = {".conda", ".conda/environments.txt"}


@pytest.fixture
def own_env(world, tmp_path, standin):
    channel = channel_url(build_channel(tmp_path / "channel", extra=[*DAYTWO, hooks_spec()]))
    r = world.create("proj", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    return world, world.envs / "proj"


def _script(shell: str, prefix: Path, out: Path) -> str:
    """Activate, manage the environment with its own tools, activate again, deactivate."""
    q = shlex.quote
    doctor = " ".join(q(a) for a in [*MAMBABOOT, "doctor", "--json"])
    steps = [
        "conda install -y mb-daytwo=1.0",
        f"cat {q(str(prefix))}/share/mb-daytwo/VERSION",
        "mamba update -y mb-daytwo",
        f"cat {q(str(prefix))}/share/mb-daytwo/VERSION",
        "conda list mb-daytwo",
        "mamba repoquery search mb-daytwo",
        'mamba remove -y -p "$CONDA_PREFIX" mb-daytwo',
        "conda install -y mb-hooks",
        "conda env config vars set MB_DAY=two",
    ]
    if shell == "fish":
        act, deact = f"source {q(str(prefix))}/.mambaboot/activate.fish", f"source {q(str(prefix))}/.mambaboot/deactivate.fish"
        run = "".join(f"echo '== {s}'; {s}; echo \"rc=$status\"\n" for s in steps)
        show = 'echo "MB_DAY=$MB_DAY MB_PKG_HOOK=$MB_PKG_HOOK"'
    else:
        act = f"MAMBABOOT_ENV={q(str(prefix))}; . \"$MAMBABOOT_ENV/.mambaboot/activate.sh\""
        deact = f". {q(str(prefix))}/.mambaboot/deactivate.sh"
        run = "".join(f"echo '== {s}'; {s}; echo \"rc=$?\"\n" for s in steps)
        show = 'echo "MB_DAY=${MB_DAY-} MB_PKG_HOOK=${MB_PKG_HOOK-}"'
    return (f"{act}\n{run}{deact}\n{act}\n{show}\n{doctor} > {q(str(out))}\n{deact}\n{show}\n"
            f"{act}\nconda env config vars unset MB_DAY\n{deact}\n")


def _steps(stdout: str) -> list:
    """[(step, its output, its exit code)] of the script's '== step' ... 'rc=N' blocks."""
    found, step, lines = [], None, []
    for line in stdout.splitlines():
        if line.startswith("== "):
            step, lines = line[3:], []
        elif line.startswith("rc=") and step is not None:
            found.append((step, "\n".join(lines), int(line[3:])))
            step = None
        elif step is not None:
            lines.append(line)
    return found


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_the_environments_own_conda_and_mamba_manage_it_after_activation(shell, own_env, tmp_path):
    world, prefix = own_env
    before = world.outside(prefix)
    packages = len(list((prefix / "conda-meta").glob("*.json")))
    # The shell starts from the operating system's PATH alone: a Python manager on the harness's
    # PATH (pyenv's shims on a developer's machine) is what doctor rightly names, and is not this test's.
    env = dict(world.env, PATH=os.pathsep.join(("/usr/bin", "/bin")))
    if shell == "fish":  # fish's own files (its universal variables) go beside the world, not into it
        env.update(XDG_CONFIG_HOME=str(tmp_path / "fish-config"), XDG_DATA_HOME=str(tmp_path / "fish-data"))
    out = tmp_path / "doctor.json"
    proc = subprocess.run([*SHELLS[shell], "-c", _script(shell, prefix, out)], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    steps = _steps(proc.stdout)
    assert len(steps) == 9 and [s for s, _, rc in steps if rc] == [], proc.stdout + proc.stderr
    said = {s: out for s, out, _ in steps}
    assert [out.strip() for s, out, _ in steps if s.startswith("cat ")] == ["1.0", "1.1"], "installed, then updated"
    assert "1.1" in said["conda list mb-daytwo"] and "mb-daytwo" in said["mamba repoquery search mb-daytwo"]
    assert not (prefix / "share" / "mb-daytwo" / "VERSION").exists(), "removed"
    # the variable set by conda and the package's hook apply at the next activation, and go with it
    shown = [line for line in proc.stdout.splitlines() if line.startswith("MB_DAY=")]
    assert shown == [f"MB_DAY=two MB_PKG_HOOK=on {prefix}", "MB_DAY= MB_PKG_HOOK="], proc.stdout + proc.stderr
    state = json.loads((prefix / "conda-meta" / "state").read_text())
    # conda's unset leaves "***unset***" (conda/core/prefix_data.py unset_environment_env_vars)
    assert state.get("env_vars", {}).get("MB_DAY") in (None, "***unset***"), "unset again"
    # doctor, in the shell the scripts activated: one environment active, nothing to fix
    findings = json.loads(out.read_text())["findings"]
    assert [f for f in findings if f["severity"] != "ok"] == [], findings
    # nothing outside the prefix and the package cache, but the empty registry conda always touches
    changed = diff(before, world.outside(prefix))
    assert set(changed) <= {str(Path("home") / p) for p in CONDA_ALWAYS}, changed
    registry = world.home / ".conda" / "environments.txt"
    assert not registry.exists() or registry.read_text() == "", "the environment is not registered"
    # list and lock tell what the environment holds now (mb-hooks added), against the record
    listed = json.loads(world.run("list", "--json", str(prefix)).stdout)["environments"][0]
    assert (listed["packages"], listed["packages_at_creation"], listed["changed"]) == (packages + 1, packages, True)
    lock = world.run("lock", str(prefix), "-o", str(tmp_path / "now.txt"))
    assert lock.returncode == 0 and "+mb-hooks-1.0-0" in lock.stderr, lock.stderr
    assert "mb-hooks-1.0-0" in (tmp_path / "now.txt").read_text()


def test_run_drives_the_environments_own_conda_and_mamba(own_env):
    world, prefix = own_env
    before = world.outside(prefix)
    for argv in (["conda", "install", "-y", "mb-daytwo=1.0"], ["mamba", "update", "-y", "mb-daytwo"],
                 ["mamba", "remove", "-y", "-p", str(prefix), "mb-daytwo"]):
        r = world.run("run", str(prefix), "--", *argv)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        if argv[1] == "update":
            assert (prefix / "share" / "mb-daytwo" / "VERSION").read_text() == "1.1\n"
    assert not (prefix / "share" / "mb-daytwo").exists() or not any((prefix / "share" / "mb-daytwo").iterdir())
    changed = diff(before, world.outside(prefix))
    assert set(changed) <= {str(Path("home") / p) for p in CONDA_ALWAYS}, changed
