"""`mambaboot run` and `mambaboot shell`: the real commands on an environment made by create."""

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from mambaboot.shell.activation import environ
from tests.conftest import MAMBABOOT, _clean_environ, copy_env


def _run(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*MAMBABOOT, *args], env=env or _clean_environ(), capture_output=True, text=True, timeout=60, **kw)


PROBE = "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'env': dict(os.environ)}))"


def test_run_uses_the_environment_from_a_clean_baseline(made_env, tmp_path):
    other = tmp_path / "other-env"
    (other / "conda-meta").mkdir(parents=True)
    (other / "bin").mkdir()
    dirty = _clean_environ(PATH=f"{other}/bin:{os.environ['PATH']}", PYTHONPATH="/poison", CONDA_PREFIX=str(other),
                           VIRTUAL_ENV="/venv", MAMBA_ROOT_PREFIX="/r", _MAMBABOOT_OLD_PATH="/x", KEEP_ME="yes")
    proc = _run("run", str(made_env), "--", "python", "-c", PROBE, env=dirty)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["prefix"] == str(made_env)
    clean = {k: v for k, v in dirty.items()
             if k not in ("PYTHONPATH", "CONDA_PREFIX", "VIRTUAL_ENV", "MAMBA_ROOT_PREFIX", "_MAMBABOOT_OLD_PATH")}
    clean["PATH"] = os.environ["PATH"]
    assert out["env"] == environ.activated(clean, str(made_env), windows=False)
    assert out["env"]["KEEP_ME"] == "yes"


def test_run_passes_stdin_stdout_stderr_and_the_exit_code(made_env):
    proc = _run("run", str(made_env), "--", "python", "-c",
                "import sys; data = sys.stdin.read(); print(data.upper()); print('err', file=sys.stderr); sys.exit(42)",
                input="hello")
    assert (proc.returncode, proc.stdout, proc.stderr) == (42, "HELLO\n", "err\n")


def test_run_without_the_double_dash_and_with_options_of_the_command(made_env):
    proc = _run("run", str(made_env), "python", "-c", "import sys; print(sys.argv[1:])", "--version", "-q")
    assert proc.stdout.strip() == "['--version', '-q']", proc.stderr


def test_a_missing_command_is_127_with_a_clear_message(made_env):
    proc = _run("run", str(made_env), "--", "no-such-command", "x")
    assert proc.returncode == 127
    assert proc.stderr.startswith("mambaboot: error: no-such-command: command not found in the environment's PATH")
    assert "Traceback" not in proc.stderr


# What bash and dash answer for each (checked: `bash -c ./x; echo $?`): 127 only when nothing
# is there to run (a missing #! interpreter is ENOENT too), 126 for anything that is there
# but cannot be executed.
CANNOT_RUN = {
    "no-exec-bit": ("echo hi\n", 0o644, 126),
    "bad-interpreter": ("#!/nonexistent/interpreter\n", 0o755, 127),
    "not-a-program": ("\x7fELF garbage", 0o755, 126),
    "a-directory": (None, None, 126),
    "missing": (False, None, 127),
}


def _cannot_run(tmp_path, kind):
    content, mode, code = CANNOT_RUN[kind]
    target = tmp_path / "bin" / kind
    target.parent.mkdir(exist_ok=True)
    if content is None:
        target.mkdir()
    elif content is not False:
        target.write_text(content)
        target.chmod(mode)
    return target, code


@pytest.mark.parametrize("hooks", [False, True], ids=["exec", "through-activate.d"])
@pytest.mark.parametrize("kind", sorted(CANNOT_RUN))
def test_a_command_that_cannot_run_gets_the_shells_exit_code(made_env, tmp_path, kind, hooks):
    prefix = made_env
    if hooks:
        prefix = copy_env(made_env, tmp_path / "env")
        (prefix / "etc" / "conda" / "activate.d").mkdir(parents=True, exist_ok=True)
        (prefix / "etc" / "conda" / "activate.d" / "a.sh").write_text("X=1\n")
    target, code = _cannot_run(tmp_path, kind)
    for how in ([str(target)], [f"./bin/{kind}"]):
        proc = _run("run", str(prefix), "--", *how, cwd=str(tmp_path))
        assert proc.returncode == code, (how, proc.stderr)
        assert "Traceback" not in proc.stderr and kind in proc.stderr


def test_a_path_search_that_finds_only_a_file_without_the_exec_bit_is_126(made_env, tmp_path):
    target, _ = _cannot_run(tmp_path, "no-exec-bit")
    env = _clean_environ(PATH=f"{target.parent}:{os.environ['PATH']}")
    proc = _run("run", str(made_env), "--", "no-exec-bit", env=env)
    assert proc.returncode == 126 and "cannot execute" in proc.stderr, proc.stderr


@pytest.mark.parametrize("kind", ["a-directory", "missing", "no-exec-bit"])
def test_the_windows_child_path_maps_exec_failures_the_same_way(tmp_path, kind):
    from mambaboot.common import errors
    from mambaboot.shell import run as shell_run

    target, code = _cannot_run(tmp_path, kind)
    with pytest.raises(errors.MambabootError) as caught:
        shell_run.wait(shell_run.Launch([str(target)], dict(os.environ), []))
    assert caught.value.exit_code == code


@pytest.mark.parametrize("args, message", [
    (["run", "/nonexistent/env", "--", "python"], "/nonexistent/env does not exist"),
    (["lock", "/nonexistent/env"], "/nonexistent/env does not exist"),
    (["run", "{tmp}", "--", "python"], "is not a conda environment (it has no conda-meta directory)"),
    (["lock", "{tmp}"], "is not a conda environment (it has no conda-meta directory)"),
    (["run", "."], "no command given"),
])
def test_bad_input_is_a_usage_error(made_env, args, message, tmp_path):
    proc = _run(*[str(made_env) if a == "." else a.format(tmp=tmp_path) for a in args], cwd=str(tmp_path))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_reaches_the_command_and_its_exit_code_comes_back(made_env):
    code = ("import signal, sys\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
            "print('ready', flush=True)\n"
            "signal.pause()\n")
    proc = subprocess.Popen([*MAMBABOOT, "run", str(made_env), "--", "python", "-c", code], env=_clean_environ(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends to the process
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 7, err


def test_run_sources_activate_d_sh_scripts_before_the_command(made_env, tmp_path):
    prefix = copy_env(made_env, tmp_path / "env")
    hooks = prefix / "etc" / "conda" / "activate.d"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "a.sh").write_text('export MB_ORDER="a"\nset -- clobbered\n')  # runs in a function: argv survives
    (hooks / "~z.sh").write_text('export MB_ORDER="$MB_ORDER z $CONDA_PREFIX"\n')
    proc = _run("run", str(prefix), "--", "python", "-c", "import os, sys; print(os.environ['MB_ORDER'], sys.argv[1:])", "arg")
    assert proc.stdout.strip() == f"a z {prefix} ['arg']", proc.stderr


def test_run_sources_hooks_with_bash_when_there_is_one_as_conda_run_does(made_env, tmp_path):
    """conda run: `which("bash") or which("sh")` (conda/utils.py wrap_subprocess_call). A hook
    in bash's syntax works; with no bash on PATH the hooks fall back to sh, where it fails."""
    prefix = copy_env(made_env, tmp_path / "env")
    hooks = prefix / "etc" / "conda" / "activate.d"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "b.sh").write_text('if [[ -n "${BASH_VERSION-}" ]]; then export MB_SHELL=bash; fi\n')
    show = ("python", "-c", "import os; print(os.environ.get('MB_SHELL', 'none'))")
    proc = _run("run", str(prefix), "--", *show)
    assert proc.returncode == 0 and proc.stdout.strip() == "bash", proc.stderr
    no_bash = tmp_path / "no-bash"
    no_bash.mkdir()
    for tool in ("sh", "dash"):
        (no_bash / tool).symlink_to(f"/bin/{tool}")
    proc = _run("run", str(prefix), "--", *show, env=_clean_environ(PATH=str(no_bash)))
    assert proc.stdout.strip() == "none", proc.stderr  # dash: `[[` is not found, the hook goes on


def _shell(prefix: Path, stdin: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MAMBABOOT, "shell", str(prefix), *extra], input=stdin, env=env, capture_output=True,
                          text=True, timeout=60)


def test_shell_starts_the_users_shell_inside_and_exit_returns(made_env, tmp_path):
    env = _clean_environ(SHELL="/bin/bash", HOME=str(tmp_path))
    commands = 'echo "$0|$CONDA_PREFIX"; command -v python; python -c "import sys; print(sys.prefix)"; exit 5\n'
    proc = _shell(made_env, commands, env)
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout.splitlines() == [f"/bin/bash|{made_env}", str(made_env / "bin" / "python"), str(made_env)]


def test_the_parent_shell_is_untouched(made_env, tmp_path):
    parent = f"""export -p > {tmp_path}/before
printf 'echo inside=$CONDA_PREFIX\\nexit\\n' | {shlex.join(MAMBABOOT)} shell {shlex.quote(str(made_env))}
export -p > {tmp_path}/after
echo "outside=${{CONDA_PREFIX-unset}}"
"""
    proc = subprocess.run(["bash", "-c", parent], env=_clean_environ(SHELL="/bin/sh", HOME=str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == [f"inside={made_env}", "outside=unset"], proc.stderr
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()


def test_shell_refuses_inside_another_environment_unless_told(made_env, tmp_path):
    env = _clean_environ(SHELL="/bin/sh", HOME=str(tmp_path), VIRTUAL_ENV="/some/venv")
    proc = _shell(made_env, "echo started\n", env)
    assert proc.returncode == 3 and "VIRTUAL_ENV=/some/venv" in proc.stderr and proc.stdout == ""
    proc = _shell(made_env, 'echo "started ${VIRTUAL_ENV-clean}"\n', env, "--ignore-active-env")
    assert proc.returncode == 0 and proc.stdout.strip() == "started clean"


def test_shell_program_can_be_chosen(made_env, tmp_path):
    proc = _shell(made_env, "echo $CONDA_PREFIX\n", _clean_environ(HOME=str(tmp_path)), "--shell", "dash")
    assert proc.stdout.strip() == str(made_env), proc.stderr


def test_windows_run_warns_about_bat_hooks_it_cannot_run(made_env, tmp_path):
    from mambaboot.shell import run as shell_run

    from mambaboot.environment import roothook

    prefix = copy_env(made_env, tmp_path / "env")
    roothook.write(str(prefix), windows=True)  # mambaboot's own: `run` sets MAMBA_ROOT_PREFIX itself
    (prefix / "etc" / "conda" / "activate.d" / "x.bat").write_text("@set X=1\n")
    tool = tmp_path / "tool.exe"
    tool.write_text("")
    prepared = shell_run.prepare(str(prefix), ["tool"], {"PATH": str(tmp_path), "PATHEXT": ".COM;.EXE"}, windows=True)
    assert prepared.warnings and "x.bat" in prepared.warnings[0] and "mambaboot-root" not in prepared.warnings[0]
    assert prepared.argv == [str(tool)]


def test_windows_run_starts_the_program_past_the_condabin_wrappers(tmp_path):
    """The wrappers come first in an activated shell; `run` has no shell to reactivate, and a .bat
    child would have cmd.exe parse `numpy>=1.26` as a redirection: it starts Library\\bin\\mamba.exe."""
    from mambaboot.shell import run as shell_run
    from mambaboot.shell.activation import environ

    prefix = str(tmp_path / "env")
    entries = environ.path_entries(prefix, True)
    condabin, library_bin = entries[1], entries[4]
    for path in (os.path.join(condabin, "mamba.bat"), os.path.join(library_bin, "mamba.exe")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
    os.makedirs(os.path.join(prefix, "conda-meta"))
    prepared = shell_run.prepare(prefix, ["mamba", "install", "numpy>=1.26"], {"PATH": "", "PATHEXT": ".COM;.EXE;.BAT"},
                                 windows=True)
    assert prepared.argv == [os.path.join(library_bin, "mamba.exe"), "install", "numpy>=1.26"]
    path = next(v for k, v in prepared.env.items() if k.upper() == "PATH").split(";")
    assert path[:2] == [prefix, condabin]  # the child's PATH: the wrappers first, as in the shell


def test_windows_run_starts_condas_exe_not_its_library_bin_wrapper(tmp_path):
    """conda puts a second cmd wrapper on PATH past condabin: Library\\bin\\conda.bat, which only
    CALLs condabin\\conda.bat (conda 26.7.1 conda/shell/Library/bin/conda.bat). PATH order finds it
    before Scripts\\conda.exe; `run` starts the .exe, so `numpy>=1.26` reaches conda as typed."""
    from mambaboot.shell import run as shell_run
    from mambaboot.shell.activation import environ

    prefix = str(tmp_path / "env")
    entries = environ.path_entries(prefix, True)
    library_bin, scripts = entries[4], entries[5]
    for path in (os.path.join(entries[1], "conda.bat"), os.path.join(library_bin, "conda.bat"),
                 os.path.join(scripts, "conda.exe"), os.path.join(library_bin, "other.bat")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
    os.makedirs(os.path.join(prefix, "conda-meta"))
    environ_ = {"PATH": "", "PATHEXT": ".COM;.EXE;.BAT;.CMD"}
    prepared = shell_run.prepare(prefix, ["conda", "install", "numpy>=1.26"], environ_, windows=True)
    assert prepared.argv == [os.path.join(scripts, "conda.exe"), "install", "numpy>=1.26"]
    # only conda's wrapper is passed over: another .bat there runs, and so does the wrapper asked for by name
    assert shell_run.prepare(prefix, ["other"], environ_, windows=True).argv == [os.path.join(library_bin, "other.bat")]
    assert shell_run.prepare(prefix, ["conda.bat"], environ_, windows=True).argv == [os.path.join(library_bin, "conda.bat")]
