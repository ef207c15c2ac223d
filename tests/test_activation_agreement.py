"""conda's and mamba's activation set what mambaboot's scripts set, variable by variable: by
default as the stand-ins model them, with the real conda and mamba only in the real-engine mode.

In one environment mambaboot made, four clean shells (bash, dash, zsh, fish) each activate it one
way and print their whole exported environment and prompt: mambaboot's `.mambaboot/activate.*`,
the environment's conda (`conda shell.<shell> activate PREFIX`, conda 26.7.1 conda/activate.py),
its mamba with the root its users give it (`MAMBA_ROOT_PREFIX=PREFIX mamba shell activate`; `-r`
is not an option of `shell activate` in 2.8.1), and its mamba started by its path with nothing set
(libmamba 2.8.1 activation.cpp then takes the directory above `envs` as its root, guide §4.18).
What differs from mambaboot's must be exactly DIFFERENCES, and the guide's table (§3.3, "What
remains different") names each of its variables. In the real-engine mode (tests/support/realmode.py)
these are the real conda and mamba; by default the test channel's stand-ins, which model both
activations (tests/support/standin_activate.py).
"""

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SHELLS = {"bash": ["bash", "--noprofile", "--norc"], "dash": ["dash"], "zsh": ["zsh", "-f"],
          "fish": ["fish", "--no-config", "--private"]}
# What each shell sets for itself, whatever activated it.
SHELL_OWN = {"PWD", "OLDPWD", "SHLVL", "_"}
ABSENT = None


def _differences(shell: str, prefix: Path, root: Path) -> dict:
    """{way: {variable: (mambaboot's value, that way's value)}} that must remain (ABSENT: not set)."""
    fish = shell == "fish"
    bookkeeping = {"_MAMBABOOT_ROOT_HAD": ("1", "0"), "_MAMBABOOT_ROOT_OLD": (str(prefix), ABSENT)}
    conda_unsets = {} if fish else {"_CE_M": (ABSENT, ""), "_CE_CONDA": (ABSENT, "")}
    exe_vars = {"CONDA_EXE": (str(prefix / "bin" / "conda"), ABSENT),
                "_CONDA_EXE": (str(prefix / "bin" / "conda"), ABSENT),
                "CONDA_PYTHON_EXE": (str(prefix / "bin" / "python"), ABSENT),
                "_CONDA_ROOT": (str(prefix), ABSENT)}
    ours_path = f"{prefix}/bin:{prefix}/condabin:/usr/bin:/bin"
    return {
        "conda": {**conda_unsets, **bookkeeping},
        "mamba": exe_vars,
        "mamba by path": {**exe_vars, **bookkeeping,
                          "PATH": (ours_path, f"{prefix}/bin:{root}/condabin:/usr/bin:/bin"),
                          "CONDA_DEFAULT_ENV": ("base", prefix.name)},
    }


def _ways(shell: str, prefix: Path) -> dict:
    """{way: (shell lines that activate, extra environment)}."""
    q = shlex.quote
    conda, mamba = q(str(prefix / "bin" / "conda")), q(str(prefix / "bin" / "mamba"))
    if shell == "fish":
        ours = f"source {q(str(prefix / '.mambaboot' / 'activate.fish'))}"
        by_conda = f"{conda} shell.fish activate {q(str(prefix))} | source"
        by_mamba = f"{mamba} shell activate -s fish {q(str(prefix))} | source"
    else:
        ours = f"MAMBABOOT_ENV={q(str(prefix))}; . \"$MAMBABOOT_ENV/.mambaboot/activate.sh\"; unset MAMBABOOT_ENV"
        # As conda's shell function asks it (etc/profile.d/conda.sh `__conda_activate`), with the
        # prompt it is to extend.
        by_conda = f'eval "$(PS1="${{PS1-}}" {conda} shell.{shell} activate {q(str(prefix))})"'
        by_mamba = f'eval "$(PS1="${{PS1-}}" {mamba} shell activate -s {shell} {q(str(prefix))})"'
    return {"mambaboot": (ours, {}), "conda": (by_conda, {}), "mamba": (by_mamba, {"MAMBA_ROOT_PREFIX": str(prefix)}),
            "mamba by path": (by_mamba, {})}


def _activated(world, shell: str, lines: str, extra: dict) -> tuple:
    """(exported environment, prompt) after `lines` in a clean shell whose prompt was "> "; the
    prompt is PS1 expanded as the shell draws it (mambaboot's names a variable, so that the
    path's own characters stay literal), in fish CONDA_PROMPT_MODIFIER, which its prompt shows."""
    prompt = "echo $CONDA_PROMPT_MODIFIER" if shell == "fish" else r'eval "_drawn=\"$PS1\""; printf "%s" "$_drawn"'
    # bash drops an inherited PS1 when not interactive: the prompt is set where it is read.
    start = "" if shell == "fish" else "PS1='> '"
    script = f"{start}\n{lines}\nenv -0 > env.bin\n{prompt} > prompt.txt\n"
    work = world.tmp / shell
    work.mkdir(exist_ok=True)
    proc = subprocess.run([*SHELLS[shell], "-c", script], cwd=work, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(world.home), **extra})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = dict(item.split("=", 1) for item in (work / "env.bin").read_text().split("\0") if item)
    return {k: v for k, v in env.items() if k not in SHELL_OWN}, (work / "prompt.txt").read_text().rstrip("\n")


@pytest.mark.parametrize("shell", list(SHELLS))
def test_condas_and_mambas_activation_set_what_mambaboots_sets(world, channel, standin, shell):
    """By default "conda" and "mamba" here are the test channel's stand-ins (standin_activate.py,
    our model of conda 26.7.1's and libmamba 2.8.1's activation): the real ones only with
    MAMBABOOT_TEST_CHANNEL (the real-engine mode). tests/test_activation_literal.py holds
    conda's documented values written out."""
    assert world.create("proj", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "proj"
    found = {way: _activated(world, shell, lines, extra) for way, (lines, extra) in _ways(shell, prefix).items()}
    ours, our_prompt = found.pop("mambaboot")
    assert ours["CONDA_PREFIX"] == str(prefix) and ours["MAMBA_ROOT_PREFIX"] == str(prefix)
    got = {}
    for way, (env, prompt) in found.items():
        assert prompt == our_prompt and our_prompt == ("(proj) " if shell == "fish" else "(proj) > "), way
        got[way] = {k: (ours.get(k, ABSENT), env.get(k, ABSENT)) for k in set(ours) | set(env)
                    if ours.get(k, ABSENT) != env.get(k, ABSENT)}
    assert got == _differences(shell, prefix, world.root)


def test_the_reference_names_every_difference_that_remains():
    section = (REPO / "docs" / "reference.md").read_text().split("**What remains different.**", 1)[1].split("\n\n", 2)[1]
    named = set(re.findall(r"`([A-Z_][A-Z0-9_]*)`", "\n".join(line.split("|")[1] for line in section.splitlines()
                                                                   if line.startswith("| `"))))
    here = Path("/p/envs/proj")
    expected = {v for shell in SHELLS for way in _differences(shell, here, here.parent.parent).values() for v in way}
    assert named == expected
