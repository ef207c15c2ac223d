"""Run a program inside an environment: `mambaboot run` and `mambaboot shell`.

The child gets the clean baseline (isolation.baseline: no other Python environment on PATH,
no conda/python variables) with the environment activated exactly as verify sees it
(activation.environ.activated: PATH, conda's variables, env_vars.d and conda-meta/state).

activate.d scripts: on POSIX, when the environment has etc/conda/activate.d/*.sh, the
program is started through bash (the first on the caller's cleaned PATH), else /bin/sh, as
`conda run` does (`which("bash") or which("sh")`, conda/utils.py `wrap_subprocess_call`,
26.x): hooks written for bash work. The shell sources them in conda's order (each inside a
function, as conda's own shell functions do) and then execs the program, so their exported
variables reach it. On Windows the .bat hooks are not run (cmd would need the program's
command line rebuilt as one string); their names are returned as a warning. mambaboot's own
root hook is left out on both (`_others`).

On POSIX the program replaces this process (exec): stdin/stdout/stderr, signals (Ctrl-C
included) and the exit status are the program's own, and no Python stays around. On
Windows it runs as a child; Ctrl-C reaches it through the console while we ignore ours,
and its exit code is returned.
"""

import os

from mambaboot.common import isolation
from mambaboot.shell.activation import environ, sources

# $1: how many hooks follow; then the hooks; then the program and its arguments.
_SOURCE_HOOKS = (
    '_mambaboot_source() { . "$1"; }; _mambaboot_n=$1; shift; '
    'while [ "$_mambaboot_n" -gt 0 ]; do _mambaboot_source "$1"; shift; _mambaboot_n=$((_mambaboot_n - 1)); done; '
    'unset -f _mambaboot_source; unset _mambaboot_n; exec "$@"'
)
POSIX_SHELL = "/bin/sh"


class Launch:
    """What to exec: argv, its environment (dict) and warnings (list of str). A plain class and
    builtin annotations only: `run`'s own start-up is a cost every call pays, and typing,
    dataclasses, enum and re together cost more than all its work (tests/test_startup_structure.py)."""

    __slots__ = ("argv", "env", "warnings")

    def __init__(self, argv: list, env: dict, warnings: list):
        self.argv, self.env, self.warnings = argv, env, warnings


def which(command: str, env: dict, windows: bool, passed=frozenset()):  # -> str or None
    """What a shell runs for `command` with this environment's PATH (and PATHEXT on Windows).
    passed: files (lower case, `\\` only) a PATHEXT search goes past; one named with its extension is not.

    As bash and dash do: a command with a slash is taken as it is when anything is there (a
    file without the execute bit, a directory), and a PATH search that finds only files
    without the execute bit takes the first of them, so the exec fails and the exit code is
    126 ("cannot execute"), not 127 ("not found"). shutil.which would lose that difference,
    and importing shutil costs `run` a few milliseconds of start-up.
    """
    if windows:
        path = next((v for k, v in env.items() if k.upper() == "PATH"), "")
        pathext = next((v for k, v in env.items() if k.upper() == "PATHEXT"), "") or ".COM;.EXE;.BAT;.CMD"
        exts = [""] if os.path.splitext(command)[1] else [e.lower() for e in pathext.split(";") if e]
    else:
        path, exts = env.get("PATH", ""), [""]
    if not windows and "/" in command:
        return command if os.path.lexists(command) else None
    dirs = [""] if os.path.dirname(command) else [d for d in path.split(";" if windows else ":") if d]
    unusable = None
    for directory in dirs:
        for ext in exts:
            candidate = os.path.join(directory, command + ext)
            if ext and passed and candidate.replace("/", "\\").lower() in passed:
                continue
            if os.path.isfile(candidate):
                if windows or os.access(candidate, os.X_OK):
                    return candidate
                unusable = unusable or candidate
    return unusable


def exec_failure(program: str, exc: OSError) -> Exception:
    """The shell's exit code for a failed exec (bash's shell_execve, dash's exerror): ENOENT,
    which includes a script whose #! interpreter is missing, is 127; anything else (EACCES,
    ENOEXEC, EISDIR, ...) is 126."""
    # common.errors where an error is raised: a run that reaches its exec pays for none of it (cli.py)
    from mambaboot.common.errors import CommandNotExecutable, CommandNotFound

    if isinstance(exc, FileNotFoundError):
        return CommandNotFound(f"{program}: cannot execute: {exc.strerror} (or its #! interpreter is missing)")
    return CommandNotExecutable(f"{program}: cannot execute: {exc.strerror}")


def _others(hooks: tuple) -> tuple:
    """The hooks but mambaboot's root hook (environment/roothook.py): the child gets MAMBA_ROOT_PREFIX
    from environ.activated already, so that hook would only start a shell and hand the child its
    saved-value variables. Imported only when there are hooks: `run` pays for every import."""
    if not hooks:
        return hooks
    from mambaboot.environment import roothook

    return tuple(n for n in hooks if not roothook.is_own(n))


def activation(prefix: str, environ_: dict, windows: bool) -> tuple:
    """(the clean baseline, the environment activated on it, the environment's sources)."""
    base = isolation.baseline(environ_, windows)
    src = sources.read(prefix)  # once: its variables for the environment, its hooks
    return base, environ.activated(base, prefix, windows, src.env_vars), src


def posix_hooks(prefix: str, src, ext: str = ".sh") -> list:
    """The activate.d/*.sh (or *.fish) scripts `run` and `shell` source, in conda's order, but our own root hook."""
    names = _others(src.hook_names("etc/conda/activate.d", ext))
    return [os.path.join(prefix, "etc", "conda", "activate.d", n) for n in names]


def _past_wrappers(prefix: str, env: dict) -> tuple:
    """(env with the environment's condabin out of PATH, the other wrappers to pass over): where
    `run` looks for the program it starts on Windows. `run` starts one program: no shell is left to
    activate or reactivate, which is all the cmd wrappers (mamba.bat, conda.bat) add; and a .bat
    started as a child goes through cmd.exe, which parses every argument again (`numpy>=1.26`
    becomes a redirection). The child's PATH keeps condabin first, for the scripts the program runs."""
    condabin = environ.path_entries(prefix, True)[1]
    found = dict(env)
    for key, value in env.items():
        if key.upper() == "PATH":
            found[key] = ";".join(e for e in value.split(";") if e.lower() != condabin.lower())
    return found, frozenset(w.replace("/", "\\").lower() for w in environ.wrappers_past_condabin(prefix))


def prepare(prefix: str, argv: list, environ_: dict, windows: bool) -> Launch:
    if not argv:
        from mambaboot.common.errors import UsageError

        raise UsageError("no command given: mambaboot run PREFIX -- COMMAND [ARGS...]")
    base, env, src = activation(prefix, environ_, windows)
    lookup, passed = _past_wrappers(prefix, env) if windows else (env, frozenset())
    program = which(argv[0], lookup, windows, passed)
    if program is None:
        from mambaboot.common.errors import CommandNotFound

        raise CommandNotFound(f"{argv[0]}: command not found in the environment's PATH ({prefix} first, then the clean baseline)")
    if windows:
        hooks = _others(src.hook_names("etc/conda/activate.d", ".bat"))
        warnings = [f"activate.d scripts not run by `run`/`shell` on Windows: {', '.join(hooks)} "
                    "(use .mambaboot\\activate.bat in cmd for them)"] if hooks else []
        return Launch([program, *argv[1:]], env, warnings)
    hooks = posix_hooks(prefix, src)
    if hooks:
        shell = which("bash", base, False) or POSIX_SHELL
        return Launch([shell, "-c", _SOURCE_HOOKS, "mambaboot", str(len(hooks)), *hooks, program, *argv[1:]], env, [])
    return Launch([program, *argv[1:]], env, [])


def replace_process(launch: Launch):  # never returns
    """POSIX: become the program. Python ignores SIGPIPE; the program must not inherit that."""
    import sys

    try:  # the C module under `signal`: the same calls without the enum module `signal` imports
        import _signal as signal
    except ImportError:
        import signal

    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(launch.argv[0], launch.argv, launch.env)
    except OSError as exc:
        raise exec_failure(launch.argv[0], exc) from None


def wait(launch: Launch) -> int:
    """Windows: run the program as a child and return its exit code."""
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(launch.argv, env=launch.env)
    except OSError as exc:
        raise exec_failure(launch.argv[0], exc) from None
    finally:
        signal.signal(signal.SIGINT, previous)


def child(launch: Launch) -> int:
    """Run the program as a child and return its exit status as a shell reports it (128 + the
    signal that ended it). Ctrl-C and Ctrl-\\ reach it through the terminal; this process
    catches them with a handler that does nothing (not SIG_IGN, which the child would inherit)."""
    import signal
    import subprocess

    def ignore(signum, frame):
        pass

    names = [n for n in ("SIGINT", "SIGQUIT") if hasattr(signal, n)]
    previous = {n: signal.signal(getattr(signal, n), ignore) for n in names}
    try:
        code = subprocess.call(launch.argv, env=launch.env)
    except OSError as exc:
        raise exec_failure(launch.argv[0], exc) from None
    finally:
        for n, handler in previous.items():
            signal.signal(getattr(signal, n), handler)
    return 128 - code if code < 0 else code


def run(launch: Launch, windows: bool) -> int:
    if windows:
        return wait(launch)
    replace_process(launch)


def user_shell(environ_: dict, windows: bool, given) -> str:  # given: --shell or None
    """The shell `mambaboot shell` starts: --shell, else COMSPEC (Windows) or $SHELL."""
    if given:
        return given
    if windows:
        return next((v for k, v in environ_.items() if k.upper() == "COMSPEC"), "") or "cmd.exe"
    return environ_.get("SHELL") or POSIX_SHELL
