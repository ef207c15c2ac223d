"""`mambaboot shell`: the user's shell with an environment active; `exit` returns to the parent."""

from mambaboot.commands._common import CHILD_MEANINGS, add_command
from mambaboot.commands.options import flag, positional, table, value

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment"),
    value("--shell", metavar="PROGRAM", help="start this program instead (e.g. powershell, pwsh, zsh)"),
    flag("--ignore-active-env",
         help="start it even though this shell holds an environment (the new shell gets a clean one)"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "shell", help="start a shell with an environment active",
        description="Start your shell (COMSPEC, i.e. cmd.exe, on Windows; $SHELL elsewhere) with the environment "
        "activated from a clean baseline, like `run`. Leave it with `exit`: the shell you started it from is "
        "untouched. Refuses (exit 3) in a shell that already holds an environment: one environment per "
        "shell ancestry.",
        example="mambaboot shell ./py_3_12",
        options=OPTIONS, run=run, codes=(3, 7, 126, 127), meanings=CHILD_MEANINGS,
    )


def run(args) -> int:
    import os
    import sys

    from mambaboot.commands.run import start
    from mambaboot.common import isolation
    from mambaboot.shell import run as shell_run
    from mambaboot.shell import startup

    windows = sys.platform == "win32"
    if not args.ignore_active_env:
        isolation.check_shell(os.environ, windows)
    program = shell_run.user_shell(os.environ, windows, args.shell)
    kind = startup.kind(program, windows)
    # Only a shell reading a terminal is interactive and reads start-up files; one reading a
    # pipe or a file runs as `run` starts any program.
    if kind is None or not sys.stdin.isatty():
        return start(args.prefix, [program], "shell")
    return _interactive(args.prefix, program, kind, windows)


def _interactive(prefix: str, program: str, kind: str, windows: bool) -> int:
    import os

    from mambaboot.common import errors, host, output
    from mambaboot.shell import doctor, startup
    from mambaboot.shell import run as shell_run
    from mambaboot.shell.activation import sources

    prefix = sources.require_environment(prefix, "shell")
    base, env, src = shell_run.activation(prefix, os.environ, windows)
    found = shell_run.which(program, env, windows)
    if found is None:
        raise errors.CommandNotFound(f"{program}: command not found in the environment's PATH ({prefix} first, then the clean baseline)")
    hooks = []
    if kind in ("bash", "zsh"):
        hooks = shell_run.posix_hooks(prefix, src)
    elif kind == "fish":
        hooks = shell_run.posix_hooks(prefix, src, ".fish")
    else:
        for warning in shell_run.prepare(prefix, [found], os.environ, windows).warnings:
            output.TextReporter().warn(warning)
    made = startup.prepare(kind, found, prefix, base, env, hooks, doctor.startup_advice(host.current()), windows)
    try:
        return shell_run.child(shell_run.Launch(made.argv, made.env, []))
    finally:
        made.remove()
