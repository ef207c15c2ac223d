"""Activation against literal oracles: for one environment per shell, what the variables and PATH
must be afterwards is written out here, from conda's documented behaviour, and never computed by
mambaboot's own model of activation (shell/activation/environ.py), which the other activation
tests compare with. A wrong model passes those; it fails here.

What conda 26.7.1 does on a first activation (conda/conda, tag 26.7.1):
- conda/activate.py `_build_activate_stack`: with CONDA_SHLVL unset it exports PATH,
  CONDA_PREFIX=<prefix>, CONDA_SHLVL=1, CONDA_DEFAULT_ENV=`_default_env(prefix)` and
  CONDA_PROMPT_MODIFIER=`_prompt_modifier(...)`, then the environment's own variables
  (`_get_environment_env_vars`: etc/conda/env_vars.d, then conda-meta/state);
- `_default_env`: "base" when the prefix is context.root_prefix, which it is for the
  environment's own conda (its sys.prefix);
- `_prompt_modifier`: env_prompt, which the .condarc mambaboot writes sets to "({name}) ", the
  environment's directory name;
- `_get_path_dirs`: POSIX <prefix>/bin; Windows <prefix>, Library\\<first MSYS2 tree>\\bin,
  Library\\mingw-w64\\bin, Library\\usr\\bin, Library\\bin, Scripts, bin; `_add_prefix_to_path`
  inserts the activating conda's condabin first when no condabin is on PATH, then puts those
  directories before everything: prefix dirs, condabin, the caller's PATH;
- conda/base/context.py `conda_exe_vars_dict` (added to every activation by
  `get_export_unset_vars`): CONDA_EXE and _CONDA_EXE = <conda prefix>/bin/conda
  (Scripts\\conda.exe), CONDA_PYTHON_EXE = conda's sys.executable, _CONDA_ROOT = <conda prefix>,
  _CE_M and _CE_CONDA unset.
What mambaboot adds beyond conda is in MAMBABOOT_ADDS, in one place. Its own bookkeeping
(variables named _MAMBABOOT_*) is left out of the comparison.

PowerShell cannot run here: its oracle is the activation script's own text, parsed with the real
grammar, against the literal PATH list and assignments."""

import json
import re
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import MAMBABOOT, _clean_environ, copy_env

CALLER_PATH = "/usr/bin:/bin"
ENV_VAR = ("MB_LITERAL", "from env_vars.d: it's $x `y`")


def MAMBABOOT_ADDS(prefix: str) -> Dict[str, str]:
    """mambaboot's additions to conda's activation, the same in every shell: MAMBA_ROOT_PREFIX,
    without which mamba 2.x picks another root (libmamba/src/api/configuration.cpp,
    get_root_prefix); PYTHONNOUSERSITE, which keeps the user site out."""
    # PYTHONNOUSERSITE: the environment's conda-meta/state holds it, so every activation that
    # reads env_vars (conda's _get_environment_env_vars, libmamba's get_environment_vars) sets it
    return {"MAMBA_ROOT_PREFIX": prefix, "PYTHONNOUSERSITE": "1"}


# The PATH entries activation puts first on Windows, relative to the prefix ('' is the prefix),
# in order: the one place for cmd's and PowerShell's oracles.
# conda's order (_get_path_dirs, then _add_prefix_to_path's condabin) but for one change of
# mambaboot's: condabin right after the prefix, so cmd.exe finds condabin\mamba.bat and conda.bat
# before Library\bin\mamba.exe and Scripts\conda.exe (the field notes' PATH-order pitfall).
WINDOWS_PATH = ["", "\\condabin", "\\Library\\mingw-w64\\bin", "\\Library\\usr\\bin", "\\Library\\bin", "\\Scripts",
                "\\bin"]


def _posix_expected(p: str) -> Dict[str, str]:
    name = Path(p).name
    return {
        "PATH": f"{p}/bin:{p}/condabin:/usr/bin:/bin",
        "CONDA_PREFIX": p,
        "CONDA_SHLVL": "1",
        "CONDA_DEFAULT_ENV": "base",
        "CONDA_PROMPT_MODIFIER": f"({name}) ",
        "CONDA_EXE": f"{p}/bin/conda",
        "_CONDA_EXE": f"{p}/bin/conda",
        "CONDA_PYTHON_EXE": f"{p}/bin/python",
        "_CONDA_ROOT": p,
        ENV_VAR[0]: ENV_VAR[1],
        **MAMBABOOT_ADDS(p),
    }


def _changed(before: Dict[str, str], after: Dict[str, str], fold=lambda k: k) -> Dict[str, str]:
    """The variables activation set or changed (None: unset), bookkeeping left out."""
    b, a = {fold(k): v for k, v in before.items()}, {fold(k): v for k, v in after.items()}
    return {k: a.get(k) for k in set(a) | set(b) if a.get(k) != b.get(k) and not k.upper().startswith("_MAMBABOOT_")}


def _env0(text: str) -> Dict[str, str]:
    return dict(item.split("=", 1) for item in text.split("\0") if item)


@pytest.fixture(scope="module")
def literal_env(made_env, tmp_path_factory) -> Path:
    """made_env (made by `mambaboot create`, with its own conda) and one variable of its own."""
    prefix = copy_env(made_env, tmp_path_factory.mktemp("literal") / "lit env")
    (prefix / "etc" / "conda" / "env_vars.d").mkdir(parents=True, exist_ok=True)
    (prefix / "etc" / "conda" / "env_vars.d" / "lit.json").write_text(json.dumps(dict([ENV_VAR])))
    return prefix


# Source the script as its usage line says, then dump the environment NUL-separated (`; true`:
# zsh would exec the last command, and its SHLVL with it).
SH = 'env -0 > "$0.before"; MAMBABOOT_ENV=$1; . "$MAMBABOOT_ENV/.mambaboot/activate.sh" && env -0 > "$0.after"; true'
DUMP = {
    "bash": ["bash", "-c", SH], "dash": ["dash", "-c", SH], "zsh": ["zsh", "-c", SH],
    "fish": ["fish", "-c", 'env -0 > "$argv[1].before"; source "$argv[2]/.mambaboot/activate.fish"; '
                           'and env -0 > "$argv[1].after"'],
}


@pytest.mark.parametrize("shell", sorted(DUMP))
def test_posix_and_fish_activation_set_what_conda_sets(shell, literal_env, tmp_path):
    out = tmp_path / "dump"
    argv = [*DUMP[shell], str(out), str(literal_env)]
    proc = subprocess.run(argv, env=_clean_environ(HOME=str(tmp_path), PATH=CALLER_PATH), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = _changed(_env0(Path(f"{out}.before").read_text()), _env0(Path(f"{out}.after").read_text()))
    assert got == _posix_expected(str(literal_env))


def test_run_sets_what_conda_sets(literal_env, tmp_path):
    show = "import json, os, sys; sys.stdout.write(json.dumps(dict(os.environ)))"
    env = _clean_environ(HOME=str(tmp_path), PATH=CALLER_PATH)
    proc = subprocess.run([*MAMBABOOT, "run", str(literal_env), "--", "python", "-c", show], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _changed(env, json.loads(proc.stdout)) == _posix_expected(str(literal_env))


# --------------------------------------------------------------------------- Windows


@pytest.fixture(scope="module")
def windows_env(tmp_path_factory) -> Path:
    """A Windows-layout environment with its own conda (Scripts\\conda.exe) and one variable."""
    from mambaboot.environment import prefixstate, roothook
    from mambaboot.shell.activation import generate
    from tests.support import winenv

    root = tmp_path_factory.mktemp("winlit")
    prefix = winenv.build(root / "lit env", root / "stub", "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe")
    (prefix / "Scripts").mkdir(exist_ok=True)
    (prefix / "Scripts" / "conda.exe").write_bytes(b"")
    (prefix / "etc" / "conda" / "env_vars.d").mkdir(parents=True, exist_ok=True)
    (prefix / "etc" / "conda" / "env_vars.d" / "lit.json").write_text(json.dumps(dict([ENV_VAR])))
    roothook.write(str(prefix), windows=True)  # as create writes them, before the scripts
    prefixstate.write(str(prefix))  # and the variables every environment carries
    generate.write(str(prefix), windows=True)
    return prefix


def _windows_expected(p: str, caller_path: str) -> Dict[str, str]:
    name = p.rsplit("\\", 1)[1]
    return {
        "PATH": ";".join(p + s for s in WINDOWS_PATH) + ";" + caller_path,
        "CONDA_PREFIX": p,
        "CONDA_SHLVL": "1",
        "CONDA_DEFAULT_ENV": "base",
        "CONDA_PROMPT_MODIFIER": f"({name}) ",
        "CONDA_EXE": f"{p}\\Scripts\\conda.exe",
        "_CONDA_EXE": f"{p}\\Scripts\\conda.exe",
        "CONDA_PYTHON_EXE": f"{p}\\python.exe",
        "_CONDA_ROOT": p,
        # what a mamba started here calls before a post-link script (libmamba 2.8.1 wrap_call): as
        # conda's condabin\\conda_hook.bat sets it, a file no transaction deletes, mambaboot's own
        # (it calls the environment's conda.bat for any other environment)
        "CONDA_BAT": f"{p}\\.mambaboot\\conda_bat.bat",
        ENV_VAR[0]: ENV_VAR[1],
        **MAMBABOOT_ADDS(p),
    }


def test_cmd_activation_sets_what_conda_sets(wine, windows_env):
    from tests.support.wine import read_set_dump, windows_path

    p, work = windows_path(windows_env), windows_path(wine.workdir)
    code, out, err = wine.batch("literal", [
        "@echo off", "setlocal", "set PROMPT=$P$G", f'set > "{work}\\lit-before.txt"',
        f'call "{p}\\.mambaboot\\activate.bat"', "if errorlevel 1 exit /b 3", f'set > "{work}\\lit-after.txt"'])
    assert code == 0, out + err
    before = read_set_dump(wine.workdir / "lit-before.txt")
    got = _changed(before, read_set_dump(wine.workdir / "lit-after.txt"), fold=str.upper)
    caller_path = next(v for k, v in before.items() if k.upper() == "PATH")
    expected = {k.upper(): v for k, v in _windows_expected(p, caller_path).items()}
    # cmd's prompt takes conda's modifier in front (conda's cmd.exe activate sets PROMPT so)
    expected["PROMPT"] = f"({p.rsplit(chr(92), 1)[1]}) $P$G"
    assert got == expected


def test_powershell_activation_script_sets_what_conda_sets(windows_env):
    """The activation script's own text, parsed: its PATH list (after $prefix) and each value it
    gives conda's variables, against the literal ones."""
    from tests.support import pwsh

    text = (windows_env / ".mambaboot" / "activate.ps1").read_bytes()
    tree = pwsh.parse(text)
    code = text.decode("utf-8-sig").replace("\r\n", "\n")
    assert not tree.root.has_error
    entries = re.search(r"\$entries = @\(([^\n]*)\)\n", code).group(1)
    assert [e[len("$prefix + '"):-1] for e in entries.split(", ")] == WINDOWS_PATH
    assert "if ($saved['PATH']) { $entries += $saved['PATH'] }" in code, "the caller's PATH after them"
    sets = dict(re.findall(r"& \$setenv '(\w+)' ([^\n]*)\n", code))
    assert {k: sets[k] for k in ("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER",
                                 "MAMBA_ROOT_PREFIX", "CONDA_BAT")} == {
        "CONDA_PREFIX": "$prefix", "CONDA_SHLVL": "'1'", "CONDA_DEFAULT_ENV": "$name",
        "CONDA_PROMPT_MODIFIER": "('(' + ($prefix -replace '^.*[\\\\/]', '') + ') ')",
        "MAMBA_ROOT_PREFIX": "$prefix", "CONDA_BAT": "$bat"}
    # CONDA_BAT: the first of mambaboot's .mambaboot\\conda_bat.bat, condabin\\conda.bat and mamba.bat
    # present, else unset ($null)
    assert ("$bat = @('.mambaboot\\conda_bat.bat', 'condabin\\conda.bat', 'condabin\\mamba.bat') | "
            "ForEach-Object { Join-Path $prefix $_ } |\n"
            "            Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1") in code
    # its own conda: "base", and conda's variables naming that conda
    assert "$conda = Join-Path $prefix 'Scripts\\conda.exe'" in code and "$name = 'base'" in code
    assert ("@(@('CONDA_EXE', $conda), @('_CONDA_EXE', $conda), @('CONDA_PYTHON_EXE', (Join-Path $prefix "
            "'python.exe')),\n                            @('_CONDA_ROOT', $prefix), @('_CE_M', $null), "
            "@('_CE_CONDA', $null))") in code



def _text(tree, node) -> str:
    return tree.source[node.start_byte:node.end_byte].decode("utf-8")


def test_powershell_conda_and_mamba_activate_refuse_and_the_rest_runs_the_environments_programs(windows_env):
    """After activate.ps1, PowerShell's lookup (functions before programs) must not reach
    condabin\\conda.bat or mamba.bat, which run in a child cmd.exe: `conda activate other` there
    changes nothing, silently. The script defines `conda` and `mamba`, each starting the
    environment's own program (conda 26.7.1: Scripts\\conda.exe; mamba 2.8.1: Library\\bin\\mamba.exe)
    and refusing activate/deactivate/reactivate with what to type; deactivation takes them away."""
    from tests.support import pwsh

    text = (windows_env / ".mambaboot" / "activate.ps1").read_bytes()
    tree = pwsh.parse(text)
    functions = {next(_text(tree, c) for c in n.children if c.type == "function_name"): n
                 for n in pwsh.walk(tree.root) if n.type == "function_statement"}
    assert {"global:conda", "global:mamba"} <= set(functions)
    for name, program in (("conda", "Scripts\\conda.exe"), ("mamba", "Library\\bin\\mamba.exe")):
        words = [_text(tree, n) for n in pwsh.walk(functions[f"global:{name}"]) if n.type in ("string_literal", "variable")]
        assert words[-3:] == [f"'{name}'", f"'{program}'", "$args"], words
    code = text.decode("utf-8-sig").replace("\r\n", "\n")
    assert "$first = $rest | Select-Object -First 1" in code
    assert "if (@('activate', 'deactivate', 'reactivate') -contains $first) {" in code
    # the refusal shows a command that, typed in PowerShell, runs this environment's deactivate.ps1
    # (its braces doubled for -f, which fills the message in)
    shown = re.search(r"Leave it with (& \{\{.*?\}\} \$env:CONDA_PREFIX);", code).group(1)
    shown = shown.replace("{{", "{").replace("}}", "}")
    typed = pwsh.parse(shown.encode())
    assert [_text(typed, n) for n in pwsh.walk(typed.root) if n.type == "variable"] == [
        "$MambabootPrefix", "$MambabootPrefix", "$env:CONDA_PREFIX"]
    assert shown == ('& { param($MambabootPrefix) Invoke-Expression (Get-Content -Raw -LiteralPath '
                     '"$MambabootPrefix\\.mambaboot\\deactivate.ps1") } $env:CONDA_PREFIX')
    deactivate = _text(tree, functions["global:_MambabootDeactivate"])
    assert "Remove-Item -Path ('function:global:' + $name)" in deactivate and "$state.Tools" in deactivate
