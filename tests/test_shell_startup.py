"""`mambaboot shell` in real interactive bash, zsh and fish on a terminal of their own, for a user
whose start-up files put other Pythons first: pyenv's init, mise's, a conda init block that
activates its base, and a plain `export PATH=...`. After start-up `python` is the environment's
and the prompt names it; what cannot be undone (a prompt hook run before every prompt) is said
loudly before the first prompt."""

import os
import re
import stat
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT, _clean_environ
from tests.support.terminal import Terminal

PROMPT = re.escape("(made env & (co)) ")


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _python(directory: Path, says: str) -> None:
    _script(directory / "python", f"echo {says}\n")


def _home(tmp: Path) -> Path:
    """A user's home whose tools do, at start-up, what the real ones do to PATH."""
    home = tmp / "home"
    # pyenv: `pyenv init -` prints, first, the line putting its shims first (libexec/pyenv-init, print_path)
    _script(home / ".pyenv" / "bin" / "pyenv", """case "$1 $3" in
"init fish") echo "set -gx PATH '$PYENV_ROOT/shims' \\$PATH" ;;
"init "*) echo "export PATH=\\"$PYENV_ROOT/shims:\\${PATH}\\"" ;;
esac
""")
    _python(home / ".pyenv" / "shims", "pyenv")
    # mise: `mise activate SHELL --shims` puts its shims first; without --shims it defines a hook that
    # runs before every prompt and puts the tools' install directories first (src/shell/bash.rs, zsh.rs)
    _script(home / ".local" / "bin" / "mise", """case "$2 $3" in
"bash --shims"|"zsh --shims") echo "export PATH=\\"$HOME/.local/share/mise/shims:\\$PATH\\"" ;;
"fish --shims") echo "set -gx PATH '$HOME/.local/share/mise/shims' \\$PATH" ;;
"bash ") printf '%s\\n' '_mise_hook() { export PATH="$HOME/.local/share/mise/installs/python/3.12/bin:$PATH"; }' \\
    'PROMPT_COMMAND="_mise_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"' '_mise_hook' ;;
esac
""")
    _python(home / ".local" / "share" / "mise" / "shims", "mise")
    _python(home / ".local" / "share" / "mise" / "installs" / "python" / "3.12" / "bin", "mise-hook")
    _python(home / "mypython" / "bin", "mine")
    # a Miniconda base and what its `conda shell.bash hook` does with auto_activate_base
    base = tmp / "miniconda3"
    (base / "conda-meta").mkdir(parents=True)
    _python(base / "bin", "conda-base")
    _script(base / "bin" / "conda", f"""cat <<'HOOK'
export CONDA_EXE='{base}/bin/conda' CONDA_SHLVL=1 CONDA_PREFIX='{base}' CONDA_DEFAULT_ENV=base
export CONDA_PROMPT_MODIFIER='(base) ' PATH="{base}/bin:$PATH"
PS1="(base) $PS1"
HOOK
""")
    sh = f"""export PYENV_ROOT="$HOME/.pyenv"
export PATH="$PYENV_ROOT/bin:$PATH"
eval "$(pyenv init -)"
eval "$("$HOME/.local/bin/mise" activate SHELL --shims)"
# >>> conda initialize >>>
# !! Contents within this block are managed by 'conda init' !!
__conda_setup="$('{base}/bin/conda' 'shell.SHELL' 'hook' 2> /dev/null)"
if [ $? -eq 0 ]; then
    eval "$__conda_setup"
fi
unset __conda_setup
# <<< conda initialize <<<
export PATH="$HOME/mypython/bin:$PATH"
"""
    (home / ".bashrc").write_text(sh.replace("SHELL", "bash"))
    (home / ".zshrc").write_text(sh.replace("SHELL", "zsh"))
    fish = home / ".config" / "fish"
    fish.mkdir(parents=True)
    (fish / "config.fish").write_text("""set -gx PYENV_ROOT $HOME/.pyenv
$PYENV_ROOT/bin/pyenv init - fish | source
$HOME/.local/bin/mise activate fish --shims | source
set -gx PATH $HOME/mypython/bin $PATH
""")
    return home


def _env(tmp: Path, home: Path, shell: str, **extra) -> dict:
    (tmp / "tmp").mkdir(exist_ok=True)
    # fish's first interactive start in a home generates completions from man pages in the background
    # (__fish_config_interactive.fish), which would hold the terminal open after the shell ends
    (home / ".local" / "share" / "fish" / "generated_completions").mkdir(parents=True, exist_ok=True)
    return _clean_environ(HOME=str(home), SHELL=f"/usr/bin/{shell}", TMPDIR=str(tmp / "tmp"), TERM="dumb", **extra)


ASK = {  # prints which python runs and what it says, between markers the typed line cannot show
    "bash": 'echo "at=$(command -v python)=$((6*7))"; echo "prefix=$CONDA_PREFIX=$((6*7))"\n',
    "zsh": 'echo "at=$(command -v python)=$((6*7))"; echo "prefix=$CONDA_PREFIX=$((6*7))"\n',
    "fish": 'echo "at="(command -v python)"="(math 6 \\* 7); echo "prefix=$CONDA_PREFIX="(math 6 \\* 7)\n',
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_environment_comes_first_after_the_users_start_up_files(shell, made_env, tmp_path):
    home = _home(tmp_path)
    term = Terminal([*MAMBABOOT, "shell", str(made_env)], _env(tmp_path, home, shell))
    prompt = term.expect(PROMPT + r"[^\n]*")
    assert "(base)" not in prompt.group(0)
    term.send(ASK[shell])
    assert term.expect(r"at=([^\n=]*)=42").group(1) == str(made_env / "bin" / "python")
    assert term.expect(r"prefix=([^\n]*)=42").group(1) == str(made_env)
    term.send('echo "path=$PATH=="\n')
    path = term.expect(r"path=([^\n]*)==\n").group(1)
    term.send("exit 7\n")
    assert term.finish() == 7
    # from the first byte: the warning would print before the first prompt, matched long ago
    assert "WARNING" not in term.transcript()
    # our start-up directory is gone with the shell
    assert [n for n in os.listdir(tmp_path / "tmp") if n.startswith("mambaboot")] == []
    # the user's start-up files ran: their additions stay on PATH, after the environment; the base is gone
    path = [p for p in path.split(":")]
    assert path[:2] == [str(made_env / "bin"), str(made_env / "condabin")]
    assert {str(home / ".pyenv" / "shims"), str(home / "mypython" / "bin")} <= set(path)
    assert not any("miniconda3" in p for p in path)


def test_a_prompt_hook_that_puts_another_python_first_is_said_loudly(made_env, tmp_path):
    home = _home(tmp_path)
    (home / ".bashrc").write_text('eval "$("$HOME/.local/bin/mise" activate bash)"\n')
    term = Terminal([*MAMBABOOT, "shell", str(made_env)], _env(tmp_path, home, "bash"))
    warned = term.expect(r"WARNING: `python` in this shell is ([^\n,]*), not the environment's ([^\n:]*):")
    assert warned.groups() == (str(home / ".local/share/mise/installs/python/3.12/bin/python"),
                               str(made_env / "bin" / "python"))
    advice = term.expect(r"\.bashrc line 1: `([^`]*)` \(mise\): ([^\n]*)")
    assert "mise" in advice.group(1) and "activate" in advice.group(1) and advice.group(2).startswith("delete it")
    term.expect("mambaboot doctor")
    term.expect(PROMPT)
    term.send("exit\n")
    assert term.finish() == 0


@pytest.fixture(scope="module")
def odd_env(made_env, tmp_path_factory) -> Path:
    """made_env with a variable every shell quotes differently and an activate.d hook per shell."""
    import json

    from tests.conftest import copy_env

    prefix = copy_env(made_env, tmp_path_factory.mktemp("odd") / "it's $odd `env` \\ (x)")
    conda = prefix / "etc" / "conda"
    (conda / "env_vars.d").mkdir(parents=True, exist_ok=True)
    (conda / "env_vars.d" / "a.json").write_text(json.dumps({"MB_Q": "it's \"q\" $x `y` \\ z ; & | %p% (p)"}))
    (conda / "activate.d").mkdir(parents=True, exist_ok=True)
    (conda / "activate.d" / "h.sh").write_text('export MB_HOOK="hooked $CONDA_PREFIX"\n')
    (conda / "activate.d" / "h.fish").write_text('set -gx MB_HOOK "hooked $CONDA_PREFIX"\n')
    return prefix


SHOW = {
    "bash": """printf '<%s>\\n' "$MB_Q" "$MB_HOOK" "$ZDOTDIR" "$(command -v python)"; echo "end=$((6*7))"\n""",
    "zsh": """printf '<%s>\\n' "$MB_Q" "$MB_HOOK" "$ZDOTDIR" "$(command -v python)"; echo "end=$((6*7))"\n""",
    "fish": """printf '<%s>\\n' "$MB_Q" "$MB_HOOK" "$ZDOTDIR" (command -v python); echo "end="(math 6 \\* 7)\n""",
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_values_reach_the_shell_exactly_and_the_hooks_run(shell, odd_env, tmp_path):
    home = tmp_path / "home"
    zdot = tmp_path / "zdot dir"
    zdot.mkdir(parents=True)
    home.mkdir()
    # a user who keeps zsh's files in ZDOTDIR: theirs are read, and ZDOTDIR is theirs again inside
    (zdot / ".zshrc").write_text('export PATH="$HOME/mypython/bin:$PATH"\nMB_ZSHRC=read\n')
    _python(home / "mypython" / "bin", "mine")
    term = Terminal([*MAMBABOOT, "shell", str(odd_env)], _env(tmp_path, home, shell, ZDOTDIR=str(zdot)))
    term.expect(re.escape(f"({odd_env.name}) "))
    term.send(SHOW[shell])
    shown = term.expect(r"<([^\n]*)>\n<([^\n]*)>\n<([^\n]*)>\n<([^\n]*)>\n").groups()
    term.expect("end=42")
    assert shown == ("it's \"q\" $x `y` \\ z ; & | %p% (p)", f"hooked {odd_env}", str(zdot),
                     str(odd_env / "bin" / "python"))
    if shell == "zsh":
        term.send('echo "zshrc=$MB_ZSHRC="\n')
        term.expect("zshrc=read=")
    term.send("exit\n")
    assert term.finish() == 0


def test_a_piped_shell_reads_no_start_up_files_and_gets_none_of_ours(made_env, tmp_path):
    """Not on a terminal: not interactive, so nothing of the user's runs and ours is not needed."""
    import subprocess

    home = _home(tmp_path)
    proc = subprocess.run([*MAMBABOOT, "shell", str(made_env)], input='command -v python; echo "$0"\n',
                          env=_env(tmp_path, home, "bash"), capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == [str(made_env / "bin" / "python"), "/usr/bin/bash"], proc.stderr
    assert os.listdir(tmp_path / "tmp") == []


WINDOWS_VALUES = {"CONDA_PREFIX": "C:\\envs\\my env", "CONDA_PROMPT_MODIFIER": "(my env) ",
                  "MB_Q": 'it\'s "q" %p% ^c & d | e < f > g (h) !i!'}


def test_cmds_start_up_script_sets_the_environment_after_autorun(wine):
    """What cmd runs after AutoRun (/K): a conda hook's variables gone, ours exact, the environment
    first on PATH, the prompt prefixed."""
    from mambaboot.shell import startup
    from tests.support.wine import windows_path

    text = startup._cmd("C:\\envs\\my env", WINDOWS_VALUES, ["C:\\envs\\my env", "C:\\envs\\my env\\Scripts"])
    script = wine.workdir / "startup-activate.bat"
    script.write_bytes(text.encode("utf-8"))
    code, out, err = wine.batch("shell-startup", [
        "@echo off", "set CONDA_EXE=C:\\base\\Scripts\\conda.exe", "set CONDA_SHLVL=0", "set PROMPT=$P$G",
        f'call "{windows_path(script)}"',
        "echo exe=[%CONDA_EXE%]", "set MB_Q", "echo shlvl=[%CONDA_SHLVL%]", "echo prompt=[%PROMPT%]", "path"])
    assert code == 0, err
    lines = out.splitlines()
    assert "exe=[]" in lines
    assert "MB_Q=" + WINDOWS_VALUES["MB_Q"] in lines
    assert "shlvl=[]" in lines
    assert "prompt=[(my env) $P$G]" in lines
    assert next(ln for ln in lines if ln.upper().startswith("PATH=")).split("=", 1)[1].startswith(
        "C:\\envs\\my env;C:\\envs\\my env\\Scripts;")


def test_cmds_start_up_says_when_another_python_answers(wine, tmp_path):
    """As bash, zsh and fish do: after the start-up, the `python` cmd runs is checked (cmd's own
    search: the current directory first, then PATH, each by PATHEXT order), and another one
    is said loudly, with the advice exactly as given."""
    from mambaboot.shell import startup
    from tests.support.wine import windows_path

    prefix, here = tmp_path / "my env & (x)", tmp_path / "here"
    prefix.mkdir()
    (prefix / "python.exe").write_bytes(b"")
    here.mkdir()
    (here / "python.bat").write_bytes(b"@echo a python.bat\r\n")
    advice = 'mambaboot: your start-up files: a & b | c > d "q" %PATH% !x! ^y'
    pfx = windows_path(prefix)
    script = wine.workdir / "startup-check.bat"
    script.write_bytes(startup._cmd(pfx, {}, [pfx], advice).encode("utf-8"))
    for where, warned in ((here, True), (tmp_path, False)):
        code, out, err = wine.batch("shell-check", ["@echo off", f'cd /d "{windows_path(where)}"',
                                                    f'call "{windows_path(script)}"', "echo done=%errorlevel%"])
        assert "done=0" in out, err
        if warned:
            assert err.splitlines() == [
                f"mambaboot: WARNING: `python` in this shell is {windows_path(here)}\\python.bat, not the environment's "
                f"{pfx}\\python.exe: a start-up file or a prompt hook put it first.", advice], err
        else:
            assert "WARNING" not in err, err


def test_powershells_start_up_checks_which_python_answers():
    from mambaboot.shell import startup
    from tests.support import pwsh

    text = startup._powershell("C:\\envs\\my env", WINDOWS_VALUES, ["C:\\envs\\my env"], ";", "C:\\envs\\my env\\python.exe",
                               "advice: a 'b' $c `d")
    tree = pwsh.parse(text.encode("utf-8"))
    assert "Get-Command" in pwsh.commands(tree)
    assert "if ($_mambaboot_s -ne 'C:\\envs\\my env\\python.exe') {" in text
    assert "[Console]::Error.WriteLine('advice: a ''b'' $c `d')" in text


def test_powershells_start_up_command_and_script_parse():
    from mambaboot.shell import startup
    from tests.support import pwsh

    text = startup._powershell("C:\\envs\\my env", WINDOWS_VALUES, ["C:\\envs\\my env", "C:\\envs\\my 'env\\Scripts"], ";")
    tree = pwsh.parse(text.encode("utf-8"))
    assert "SetEnvironmentVariable" in pwsh.code_only(tree)
    made = startup.prepare("powershell", "pwsh", "C:\\envs\\my env", {}, {"PATH": "C:\\x", **WINDOWS_VALUES}, [], "", True)
    try:
        assert made.argv[:3] == ["pwsh", "-NoExit", "-Command"]
        pwsh.parse(made.argv[3].encode("utf-8"))
        script = os.path.join(made.directory, "activate.ps1")
        assert made.argv[3] == ". '" + script.replace("'", "''") + "'" and os.path.isfile(script)
    finally:
        made.remove()
    assert not os.path.exists(made.directory)
