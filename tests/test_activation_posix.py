"""The generated POSIX sh and fish scripts, sourced in real bash, dash, zsh and fish.

The environment is one made by `mambaboot create` (python resolves into it for real), with
variables (env_vars.d, conda-meta/state) and hook scripts (activate.d/deactivate.d) added,
then `mambaboot activate-scripts` run on it.
"""

import json
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from mambaboot.shell.activation import environ
from tests.conftest import MAMBABOOT, _clean_environ, copy_env
from tests.support.channel import channel_url, hooks_spec, index_channel, make_package

POSIX_SHELLS = {"bash": ["bash", "--noprofile", "--norc"], "dash": ["dash"], "zsh": ["zsh", "-f"]}
# Variables the caller had before activation: activation changes them, deactivation restores them.
BEFORE = {"MB_A": "caller's value", "MB_GONE": "set by the caller"}


def _add_environment_data(prefix: Path) -> None:
    conda = prefix / "etc" / "conda"
    for d in ("env_vars.d", "activate.d", "deactivate.d"):
        (conda / d).mkdir(parents=True, exist_ok=True)
    (conda / "env_vars.d" / "a.json").write_text(json.dumps(
        {"MB_A": "from a", "MB_QUOTE": "it's \"q\" $x `y` \\ z ; & | (p)", "MB_GONE": "x"}))
    (conda / "env_vars.d" / "b.json").write_text(json.dumps({"MB_A": "from b, which sorts after a"}))
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MB_STATE": "s", "MB_GONE": "***unset***"}}))
    # conda's order is by code point: a.sh, x.sh, ~last.sh (a locale's glob order may differ)
    hooks = {"a.sh": 'export MB_ORDER="a"', "x.sh": 'export MB_ORDER="$MB_ORDER x"; export MB_HOOK="hooked $CONDA_PREFIX"',
             "~last.sh": 'export MB_ORDER="$MB_ORDER last"',
             "x.fish": 'set -gx MB_HOOK "hooked $CONDA_PREFIX"'}
    for name, text in hooks.items():
        (conda / "activate.d" / name).write_text(text + "\n")
    (conda / "deactivate.d" / "x.sh").write_text("unset MB_HOOK MB_ORDER\n")
    (conda / "deactivate.d" / "x.fish").write_text("set -e MB_HOOK\n")


def _activate_scripts(prefix: Path, env: Dict[str, str]) -> None:
    proc = subprocess.run([*MAMBABOOT, "activate-scripts", str(prefix)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def hooked_env(made_env, tmp_path_factory) -> Path:
    prefix = copy_env(made_env, tmp_path_factory.mktemp("hooked") / "hooked env & (co)")
    _add_environment_data(prefix)
    _activate_scripts(prefix, _clean_environ(HOME=str(prefix.parent)))
    return prefix


def _shell_env(tmp: Path, **extra: str) -> Dict[str, str]:
    return _clean_environ(HOME=str(tmp), **BEFORE, **extra)


def _run(argv, script: str, tmp: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    driver = tmp / "driver"
    driver.write_text(script)
    return subprocess.run([*argv, str(driver)], env=env, cwd=str(tmp), capture_output=True, text=True, timeout=60)


def _env_file(path: Path) -> Dict[str, str]:
    """`env -0` output (values may hold newlines)."""
    return dict(item.split("=", 1) for item in path.read_text().split("\0") if item)


def _posix_round_trip(prefix: Path, tmp: Path) -> str:
    act, deact = prefix / ".mambaboot" / "activate.sh", prefix / ".mambaboot" / "deactivate.sh"
    return f"""
dump() {{ export -p > "$1"; printf 'PS1=%s\\n' "${{PS1-<unset>}}" >> "$1"; }}
PS1='$ '
dump {tmp}/before
MAMBABOOT_ENV='{prefix}'
. '{act}'; echo "activate=$?"
env -0 > {tmp}/during
command -v python > {tmp}/which
python -c 'import sys; print(sys.prefix)' > {tmp}/sys_prefix
if [ -n "${{ZSH_VERSION-}}" ]; then eval 'print -rn -- "${{(%)PS1}}"'; else eval "printf '%s' \\"$PS1\\""; fi > {tmp}/ps1
dump {tmp}/middle
MAMBABOOT_ENV='{prefix}'
. '{act}'; echo "again=$?"
dump {tmp}/after_refusal
. '{deact}'; echo "deactivate=$?"
dump {tmp}/after
set | grep -c '^_mambaboot' > {tmp}/leftovers
command -v _mambaboot_deactivate > {tmp}/functions
. '{deact}'; echo "deactivate_again=$?"
"""


@pytest.mark.parametrize("shell", sorted(POSIX_SHELLS))
def test_posix_activation_round_trip(shell, hooked_env, tmp_path):
    proc = _run(POSIX_SHELLS[shell], _posix_round_trip(hooked_env, tmp_path), tmp_path, _shell_env(tmp_path))
    lines = proc.stdout.splitlines()
    assert lines == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], proc.stderr
    # python resolves into the environment, and is the environment's
    assert (tmp_path / "which").read_text().strip() == str(hooked_env / "bin" / "python")
    assert (tmp_path / "sys_prefix").read_text().strip() == str(hooked_env)
    # exactly what conda (and mambaboot's run/verify) would set, hooks run in conda's order
    during = _env_file(tmp_path / "during")
    baseline = _shell_env(tmp_path)
    expected = environ.activated(baseline, str(hooked_env), windows=False)
    for name in set(expected) | set(baseline):
        if expected.get(name) != baseline.get(name):
            assert during.get(name) == expected.get(name), name
    # "***unset***" (conda env config vars unset): conda leaves the variable as the shell has it
    assert during["MB_GONE"] == "set by the caller" and during["MB_A"] == "from b, which sorts after a"
    assert during["MB_QUOTE"] == "it's \"q\" $x `y` \\ z ; & | (p)"
    assert during["MB_ORDER"] == "a x last"
    assert during["MB_HOOK"] == f"hooked {hooked_env}"
    assert during["PATH"].split(":")[:2] == [str(hooked_env / "bin"), str(hooked_env / "condabin")]
    # its own conda activates it as its root prefix: "base", and conda's own variables name that conda
    assert (during["CONDA_DEFAULT_ENV"], during["CONDA_EXE"], during["CONDA_PYTHON_EXE"]) == (
        "base", str(hooked_env / "bin" / "conda"), str(hooked_env / "bin" / "python"))
    assert "_CE_M" not in during and "_CE_CONDA" not in during
    # the prompt names the environment's directory (not "base", which every environment's own conda
    # would show, nor the full path), literally
    assert (tmp_path / "ps1").read_text() == f"({hooked_env.name}) $ " == "(hooked env & (co)) $ "
    # refused in a shell that holds an environment: nothing changed, loudly
    assert "is still active here" in proc.stderr
    assert (tmp_path / "after_refusal").read_text() == (tmp_path / "middle").read_text()
    # deactivation restores every variable, the prompt, and leaves nothing of ours
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()
    assert (tmp_path / "leftovers").read_text().strip() == "0"
    assert (tmp_path / "functions").read_text() == ""
    assert "no environment was activated" in proc.stderr


@pytest.mark.parametrize("variable", ["CONDA_PREFIX", "VIRTUAL_ENV", "PYTHONPATH", "CONDA_SHLVL"])
@pytest.mark.parametrize("shell", sorted(POSIX_SHELLS))
def test_posix_activation_refuses_a_shell_with_another_environment(shell, variable, hooked_env, tmp_path):
    script = f"""
export -p > {tmp_path}/before
MAMBABOOT_ENV='{hooked_env}'; . '{hooked_env}/.mambaboot/activate.sh'; echo "activate=$?"
unset MAMBABOOT_ENV
export -p > {tmp_path}/after
"""
    proc = _run(POSIX_SHELLS[shell], script, tmp_path, _shell_env(tmp_path, **{variable: "/some/other/env"}))
    assert proc.stdout.strip() == "activate=1"
    assert f"({variable}=/some/other/env)" in proc.stderr
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_a_copied_and_renamed_environment_activates_where_it_now_is(hooked_env, tmp_path):
    moved = copy_env(hooked_env, tmp_path / "renamed (copy)")
    for shell, argv in POSIX_SHELLS.items():
        script = f"""MAMBABOOT_ENV='{moved}'; . '{moved}/.mambaboot/activate.sh' && python -c 'import sys; print(sys.prefix)'
echo "$CONDA_PREFIX" """
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path))
        assert proc.stdout.splitlines() == [str(moved), str(moved)], (shell, proc.stderr)
    proc = _run(["fish", "--no-config"], f"source '{moved}/.mambaboot/activate.fish'; and python -c 'import sys; print(sys.prefix)'",
                tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == str(moved), proc.stderr


def test_every_way_in_names_the_environments_directory_in_the_prompt(made_env, tmp_path):
    """Not "(base)", which every environment's own conda shows, nor the full path; and the whole
    directory name, where mamba's `{name}` (libmamba `prefix.stem()`) would drop ".12"."""
    env = copy_env(made_env, tmp_path / "proj_3.12")
    show = 'printf "%s|%s|%s\\n" "$CONDA_PROMPT_MODIFIER" "$CONDA_DEFAULT_ENV" "$PS1"'
    want = "(proj_3.12) |base|(proj_3.12) > "
    for shell, argv in POSIX_SHELLS.items():
        script = f"""PS1='> '; MAMBABOOT_ENV='{env}'; . '{env}/.mambaboot/activate.sh'
eval "PS1=\\"$PS1\\""; {show}"""
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path))
        assert proc.stdout.splitlines() == [want], (shell, proc.stderr)
    script = f"""function fish_prompt; echo -n '> '; end
source '{env}/.mambaboot/activate.fish'; printf '%s|%s|%s\\n' $CONDA_PROMPT_MODIFIER $CONDA_DEFAULT_ENV (fish_prompt)"""
    proc = _run(["fish", "--no-config"], script, tmp_path, _shell_env(tmp_path))
    assert proc.stdout.splitlines() == [want], proc.stderr
    # `run` and `shell` set the same variables (the prompt itself is the started shell's own)
    proc = subprocess.run([*MAMBABOOT, "run", str(env), "--", "sh", "-c", 'printf "%s|%s\\n" "$CONDA_PROMPT_MODIFIER" "$CONDA_DEFAULT_ENV"'],
                          env=_shell_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == ["(proj_3.12) |base"], proc.stderr
    proc = subprocess.run([*MAMBABOOT, "shell", str(env), "--shell", "dash"], input='echo "$CONDA_PROMPT_MODIFIER|"\n',
                          env=_shell_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == ["(proj_3.12) |"], proc.stderr


def test_activation_starts_no_process(hooked_env, tmp_path):
    """With nothing on PATH, any external command the scripts ran would fail."""
    for shell, argv in POSIX_SHELLS.items():
        script = f"""PATH=/nonexistent
MAMBABOOT_ENV='{hooked_env}'; . '{hooked_env}/.mambaboot/activate.sh'; echo "activate=$?"
. '{hooked_env}/.mambaboot/deactivate.sh'; echo "deactivate=$? $PATH" """
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path))
        assert (proc.stdout.splitlines(), proc.stderr) == (["activate=0", "deactivate=0 /nonexistent"], ""), shell


@pytest.fixture
def conda_changed_env(hooked_env, tmp_path) -> Path:
    """hooked_env after its own conda installed a package with hooks in every shell and a variable
    (tests/support/channel.py hooks_spec), then `conda env config vars set/unset` (no mambaboot since)."""
    prefix = copy_env(hooked_env, tmp_path / "changed env")
    channel = tmp_path / "hooks-channel"
    spec = hooks_spec()
    make_package(spec, channel / spec.subdir)
    index_channel(channel)
    env = _clean_environ(HOME=str(tmp_path))
    # through the copy's own python: the copied bin/conda's shebang still names the original
    conda = [str(prefix / "bin" / "python"), str(prefix / "bin" / "conda")]
    for argv in (["install", "-c", channel_url(channel), "--override-channels", "mb-hooks"],
                 ["env", "config", "vars", "set", "MB_CFG=set by conda", "MB_A=state wins"],
                 ["env", "config", "vars", "unset", "MB_STATE"]):
        proc = subprocess.run([*conda, *argv], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert (prefix / "etc" / "conda" / "activate.d" / "mb-hooks.sh").is_file()
    return prefix


_LIVE = {"MB_PKG_HOOK": "on {p}", "MB_PKG_ORDER": "az", "MB_PKG_VAR": "from the package \u00fc", "MB_CFG": "set by conda",
         "MB_A": "state wins", "MB_STATE": None}


@pytest.mark.parametrize("shell", sorted(POSIX_SHELLS) + ["fish"])
def test_what_the_environments_own_conda_changes_applies_at_the_next_activation(shell, conda_changed_env, tmp_path):
    p = conda_changed_env
    tail = ".fish" if shell == "fish" else ".sh"
    activate, deactivate = f"'{p}/.mambaboot/activate{tail}'", f"'{p}/.mambaboot/deactivate{tail}'"
    if shell == "fish":
        script = (f"set -x | string collect > {tmp_path}/before\nsource {activate}; echo activate=$status\n"
                  f"env -0 > {tmp_path}/during\nsource {deactivate}; echo deactivate=$status\n"
                  f"echo undo=$MB_PKG_UNDO; set -e MB_PKG_UNDO\nset -x | string collect > {tmp_path}/after\n")
        argv = ["fish", "--no-config"]
    else:
        script = (f"export -p > {tmp_path}/before\nMAMBABOOT_ENV='{p}'; . {activate}; echo activate=$?\n"
                  f"env -0 > {tmp_path}/during\n. {deactivate}; echo deactivate=$?\n"
                  f"echo undo=$MB_PKG_UNDO; unset MB_PKG_UNDO\nexport -p > {tmp_path}/after\n")
        argv = POSIX_SHELLS[shell]
    for round_ in ("heals from the environment's python", "reads the fresh fragment"):
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path))
        # deactivate.d in reverse order: ~mb-hooks-last before mb-hooks
        assert proc.stdout.splitlines() == ["activate=0", "deactivate=0", "undo=za"], (round_, proc.stderr)
        during = _env_file(tmp_path / "during")
        for name, value in _LIVE.items():
            assert during.get(name) == (value.format(p=p) if value else None), (round_, name)
        expected = environ.activated(_shell_env(tmp_path), str(p), windows=False)
        variables = ("MB_PKG_VAR", "MB_CFG", "MB_A", "MB_STATE")  # what run/verify apply too (no hooks there)
        assert {k: during.get(k) for k in variables} == {k: expected.get(k) for k in variables}
        assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_without_a_python_to_reread_them_changed_variables_refuse(conda_changed_env, tmp_path):
    (conda_changed_env / "bin" / "python").unlink()
    for shell, argv in POSIX_SHELLS.items():
        proc = _run(argv, f"export -p > {tmp_path}/before\nMAMBABOOT_ENV='{conda_changed_env}'; "
                          f". '{conda_changed_env}/.mambaboot/activate.sh'; echo activate=$?\nexport -p > {tmp_path}/after",
                    tmp_path, _shell_env(tmp_path))
        assert proc.stdout.strip() == "activate=1", shell
        assert "changed after these activation scripts were generated; run: mambaboot activate-scripts" in proc.stderr
        assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_dash_is_told_where_the_environment_is(hooked_env, tmp_path):
    script = f""". '{hooked_env}/.mambaboot/activate.sh'; echo "activate=$? ${{CONDA_PREFIX-unset}}" """
    proc = _run(["dash"], script, tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == "activate=1 unset"
    assert 'MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"' in proc.stderr
    script = f"""MAMBABOOT_ENV='{hooked_env}'; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"; echo "$CONDA_PREFIX ${{MAMBABOOT_ENV-consumed}}" """
    proc = _run(["dash"], script, tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == f"{hooked_env} consumed", proc.stderr


def test_a_link_to_the_script_or_a_wrong_environment_name_is_refused(hooked_env, tmp_path):
    (tmp_path / "act.sh").symlink_to(hooked_env / ".mambaboot" / "activate.sh")
    proc = _run(POSIX_SHELLS["bash"], f". '{tmp_path}/act.sh'; echo \"activate=$? ${{CONDA_PREFIX-unset}}\"", tmp_path,
                _shell_env(tmp_path))
    assert proc.stdout.strip() == "activate=1 unset"
    assert "source the file itself, not a link to it" in proc.stderr
    proc = _run(["dash"], f"MAMBABOOT_ENV='{tmp_path}'; . '{hooked_env}/.mambaboot/activate.sh'; echo \"activate=$?\"",
                tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == "activate=1"


def test_dash_told_another_environment_refuses_rather_than_activating_it(hooked_env, made_env, tmp_path):
    """Both environments' activate.sh differ only in their first line: the check must not compare
    the file MAMBABOOT_ENV leads to with itself."""
    script = f"""export -p > {tmp_path}/before
MAMBABOOT_ENV='{made_env}'; . '{hooked_env}/.mambaboot/activate.sh'; echo "activate=$? ${{CONDA_PREFIX-unset}}"
export -p > {tmp_path}/after"""
    proc = _run(["dash"], script, tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == "activate=1 unset" and "MAMBABOOT_ENV names another environment" in proc.stderr
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()
    for shell in ("bash", "zsh"):  # they know which file they source: that one's environment
        proc = _run(POSIX_SHELLS[shell], script, tmp_path, _shell_env(tmp_path))
        assert proc.stdout.strip() == f"activate=0 {hooked_env}", (shell, proc.stderr)


@pytest.mark.parametrize("shell", sorted(POSIX_SHELLS) + ["fish"])
def test_a_non_ascii_prefix_activates_in_the_c_locale(shell, hooked_env, tmp_path):
    prefix = copy_env(hooked_env, tmp_path / "envs" / "ünïcode ñame")
    _activate_scripts(prefix, _shell_env(tmp_path))
    if shell == "fish":
        argv, script = ["fish", "--no-config"], f"source '{prefix}/.mambaboot/activate.fish'; echo $status $CONDA_PREFIX"
    else:
        argv, script = POSIX_SHELLS[shell], f"MAMBABOOT_ENV='{prefix}'; . '{prefix}/.mambaboot/activate.sh'; echo $? $CONDA_PREFIX"
    proc = _run(argv, script, tmp_path, _shell_env(tmp_path, LC_ALL="C"))
    assert proc.stdout.strip() == f"0 {prefix}", proc.stderr


@pytest.mark.parametrize("locale", [{"LANG": "en_US.UTF-8"}, {"LC_ALL": "en_US.UTF-8"}, {"LC_ALL": "C.UTF-8"}])
def test_hooks_run_in_code_point_order_whatever_the_locale_and_it_is_put_back(locale, hooked_env, tmp_path):
    """Outside the C locales the hooks are listed again under LC_ALL=C; the caller's LC_ALL comes back."""
    for shell, argv in POSIX_SHELLS.items():
        script = f"""MAMBABOOT_ENV='{hooked_env}'; . '{hooked_env}/.mambaboot/activate.sh'; echo "$MB_ORDER|${{LC_ALL-unset}}"
. '{hooked_env}/.mambaboot/deactivate.sh'; echo "${{LC_ALL-unset}}" """
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path, **locale))
        lc_all = locale.get("LC_ALL", "unset")
        assert proc.stdout.splitlines() == [f"a x last|{lc_all}", lc_all], (shell, proc.stderr)


def test_a_path_holding_a_colon_is_refused(hooked_env, tmp_path):
    prefix = copy_env(hooked_env, tmp_path / "a:b")
    for shell, argv in POSIX_SHELLS.items():
        proc = _run(argv, f"MAMBABOOT_ENV='{prefix}'; . '{prefix}/.mambaboot/activate.sh'; echo \"$? ${{CONDA_PREFIX-unset}}\"",
                    tmp_path, _shell_env(tmp_path))
        assert proc.stdout.strip() == "1 unset" and "holds a colon, PATH's separator" in proc.stderr, shell
    proc = _run(["fish", "--no-config"], f"source '{prefix}/.mambaboot/activate.fish'; echo $status", tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == "1" and "holds a colon" in proc.stderr


def test_an_environment_without_hooks_or_variables_activates_in_every_shell(made_env, tmp_path):
    for shell, argv in POSIX_SHELLS.items():
        script = f"""MAMBABOOT_ENV='{made_env}'; . '{made_env}/.mambaboot/activate.sh'; echo "$? $CONDA_PREFIX"
. '{made_env}/.mambaboot/deactivate.sh'; echo "$? ${{CONDA_PREFIX-unset}}" """
        proc = _run(argv, script, tmp_path, _shell_env(tmp_path))
        assert proc.stdout.splitlines() == [f"0 {made_env}", "0 unset"], (shell, proc.stderr)
    proc = _run(["fish", "--no-config"], f"source '{made_env}/.mambaboot/activate.fish'; echo $status $CONDA_PREFIX",
                tmp_path, _shell_env(tmp_path))
    assert proc.stdout.strip() == f"0 {made_env}", proc.stderr


def test_activate_scripts_lists_the_scripts_in_the_record_of_an_environment_it_made(hooked_env):
    record = json.loads((hooked_env / ".mambaboot" / "record.json").read_text())
    assert record["state"] == "complete"
    assert {f".mambaboot/{n}" for n in ("activate.sh", "deactivate.sh", "activate.fish", "deactivate.fish",
                                        "activate.ps1", "deactivate.ps1")} <= set(record["files"])


def test_running_the_script_instead_of_sourcing_it_says_so(hooked_env, tmp_path):
    for argv in (["bash"], ["zsh", "-f"]):
        proc = subprocess.run([*argv, str(hooked_env / ".mambaboot" / "activate.sh")], env=_shell_env(tmp_path),
                              capture_output=True, text=True)
        assert proc.returncode == 2 and "source this file, do not run it" in proc.stderr


def test_fish_activation_round_trip(hooked_env, tmp_path):
    act, deact = hooked_env / ".mambaboot" / "activate.fish", hooked_env / ".mambaboot" / "deactivate.fish"
    script = f"""
function fish_prompt; echo '> '; end
set -x | string collect > {tmp_path}/before
source '{act}'; echo activate=$status
env -0 > {tmp_path}/during
command -v python > {tmp_path}/which
python -c 'import sys; print(sys.prefix)' > {tmp_path}/sys_prefix
fish_prompt > {tmp_path}/prompt
source '{act}'; echo again=$status
source '{deact}'; echo deactivate=$status
set -x | string collect > {tmp_path}/after
fish_prompt > {tmp_path}/prompt_after
set -n | string match -q '_mambaboot*'; and echo leftover-variables
functions -n | string match -q '_mambaboot*'; and echo leftover-functions
source '{deact}'; echo deactivate_again=$status
"""
    proc = _run(["fish", "--no-config"], script, tmp_path, _shell_env(tmp_path))
    assert proc.stdout.splitlines() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], proc.stderr
    assert (tmp_path / "which").read_text().strip() == str(hooked_env / "bin" / "python")
    assert (tmp_path / "sys_prefix").read_text().strip() == str(hooked_env)
    during = _env_file(tmp_path / "during")
    expected = environ.activated(_shell_env(tmp_path), str(hooked_env), windows=False)
    baseline = _shell_env(tmp_path)
    for name in set(expected) | set(baseline):
        if expected.get(name) != baseline.get(name):
            assert during.get(name) == expected.get(name), name
    assert during["MB_GONE"] == "set by the caller" and during["MB_HOOK"] == f"hooked {hooked_env}"
    assert (tmp_path / "prompt").read_text() == f"({hooked_env.name}) > \n"
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()
    assert (tmp_path / "prompt_after").read_text() == "> \n"


@pytest.mark.parametrize("variable", ["CONDA_PREFIX", "VIRTUAL_ENV"])
def test_fish_activation_refuses_a_shell_with_another_environment(variable, hooked_env, tmp_path):
    script = f"""set -x | string collect > {tmp_path}/before
source '{hooked_env}/.mambaboot/activate.fish'; echo activate=$status
set -x | string collect > {tmp_path}/after"""
    proc = _run(["fish", "--no-config"], script, tmp_path, _shell_env(tmp_path, **{variable: "/other"}))
    assert proc.stdout.strip() == "activate=1" and f"({variable}=/other)" in proc.stderr
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_scripts_hold_no_absolute_path(hooked_env):
    for script in (hooked_env / ".mambaboot").iterdir():
        if script.suffix in (".sh", ".fish", ".ps1"):
            assert str(hooked_env) not in script.read_text(encoding="utf-8-sig"), script.name
            assert str(hooked_env.parent) not in script.read_text(encoding="utf-8-sig"), script.name


# File names a package or a user may leave in env_vars.d: each would run a command, or break the
# script, if it reached the shell unquoted or inside "...".
_HOSTILE_DATA_NAMES = ["$(touch PWNED).json", "`touch PWNED2`.json", "a'b \"c\" $HOME.json", "semi;touch PWNED3.json",
                       "sp ace\\*.json"]


@pytest.fixture
def hostile_names_env(made_env, tmp_path) -> Path:
    prefix = copy_env(made_env, tmp_path / "envs" / "hostile")
    env_vars = prefix / "etc" / "conda" / "env_vars.d"
    env_vars.mkdir(parents=True)
    for n, name in enumerate(_HOSTILE_DATA_NAMES):
        (env_vars / name).write_text(json.dumps({f"MB_H{n}": f"$(touch PWNED_V{n}) `touch PWNED_B{n}` {name}"}))
    _activate_scripts(prefix, _shell_env(tmp_path))
    return prefix


def _hostile_expected():
    return [f"$(touch PWNED_V{n}) `touch PWNED_B{n}` {name}" for n, name in enumerate(_HOSTILE_DATA_NAMES)]


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "changed since"])
@pytest.mark.parametrize("shell", sorted(POSIX_SHELLS) + ["fish"])
def test_file_names_in_env_vars_d_are_never_run(shell, stale, hostile_names_env, tmp_path, reliability):
    """A file named `$(touch PWNED).json` in env_vars.d: activation reads it as data (fresh, and
    after it changed, when the environment's python writes the fragments again) and runs nothing.
    The shell's cwd is where a `touch` would leave its file, and touch is on PATH."""
    prefix = hostile_names_env
    if stale:
        (prefix / "etc" / "conda" / "env_vars.d" / _HOSTILE_DATA_NAMES[0]).write_text(json.dumps({"MB_H0": "changed"}))
    work = tmp_path / "cwd"
    work.mkdir()
    show = " ".join(f'"$MB_H{n}"' for n in range(len(_HOSTILE_DATA_NAMES)))
    if shell == "fish":
        argv = ["fish", "--no-config"]
        script = f"source '{prefix}/.mambaboot/activate.fish'; echo activate=$status\nprintf '%s\\n' {show}\n"
    else:
        argv = POSIX_SHELLS[shell]
        script = f"MAMBABOOT_ENV='{prefix}'; . '{prefix}/.mambaboot/activate.sh'; echo activate=$?\nprintf '%s\\n' {show}\n"
    driver = tmp_path / "driver"
    driver.write_text(script)
    proc = subprocess.run([*argv, str(driver)], env=_shell_env(tmp_path), cwd=str(work), capture_output=True, text=True,
                          timeout=60)
    expected = _hostile_expected()
    if stale:
        expected[0] = "changed"
    ran = list(work.iterdir()) + list(tmp_path.glob("PWNED*")) + list(prefix.rglob("PWNED*"))
    reliability.record("activation: hostile file names, nothing run", proc.stdout.splitlines() == ["activate=0", *expected]
                       and not ran)
    assert proc.stdout.splitlines() == ["activate=0", *expected], proc.stderr
    assert ran == [], "a name ran as a command"


@pytest.mark.parametrize("options", ["failglob", "failglob dotglob nocaseglob nullglob"])
def test_bash_with_failglob_activates_and_keeps_its_options(options, hooked_env, made_env, tmp_path):
    """An empty or absent env_vars.d/ or activate.d/ (and a hidden file there, which conda reads
    but no glob lists) under bash's failglob, dotglob, nocaseglob: activation lists them as in a
    default shell, and the options are as they were after it and after deactivation."""
    prefix = copy_env(made_env, tmp_path / "envs" / "plain")
    (prefix / "etc" / "conda" / "env_vars.d").mkdir(parents=True)
    _activate_scripts(prefix, _shell_env(tmp_path))
    hidden = copy_env(hooked_env, tmp_path / "envs" / "hidden")
    (hidden / "etc" / "conda" / "env_vars.d" / ".hidden.json").write_text("{}")
    (hidden / "etc" / "conda" / "activate.d" / "A.SH").write_text("export MB_ORDER=wrong\n")
    for env in (made_env, prefix, hidden):
        script = f"""shopt -s {options}
MAMBABOOT_ENV='{env}'; . '{env}/.mambaboot/activate.sh'; echo "activate=$? $CONDA_PREFIX ${{MB_ORDER-}}"
shopt -p {options}
. '{env}/.mambaboot/deactivate.sh'; echo "deactivate=$? ${{CONDA_PREFIX-unset}}"
shopt -p {options}
"""
        proc = _run(POSIX_SHELLS["bash"], script, tmp_path, _shell_env(tmp_path))
        shopt = [f"shopt -s {o}" for o in options.split()]
        order = "a x last" if env == hidden else ""
        assert proc.stdout.splitlines() == [f"activate=0 {env} {order}", *shopt, "deactivate=0 unset", *shopt], (env, proc.stderr)
