"""`mambaboot shell`: the user's shell with an environment active; `exit` returns to the parent."""

import argparse

from mambaboot.commands._common import CHILD_MEANINGS, add_command


def register(subparsers) -> None:
    p = add_command(
        subparsers, "shell", help="start a shell with an environment active",
        description="Start your shell (COMSPEC, i.e. cmd.exe, on Windows; $SHELL elsewhere) with the environment "
        "activated from a clean baseline, like `run`. Leave it with `exit`: the shell you started it from is "
        "untouched. Refuses (exit 3) in a shell that already holds an environment: one environment per "
        "shell ancestry.",
        example="mambaboot shell ./py_3_12",
        codes=(3, 7, 126, 127), meanings=CHILD_MEANINGS,
    )
    p.add_argument("prefix", metavar="PREFIX", help="the environment")
    p.add_argument("--shell", metavar="PROGRAM", help="start this program instead (e.g. powershell, pwsh, zsh)")
    p.add_argument("--ignore-active-env", action="store_true",
                   help="start it even though this shell holds an environment (the new shell gets a clean one)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from mambaboot.commands.run import start
    from mambaboot.common import isolation
    from mambaboot.shell import run as shell_run

    windows = sys.platform == "win32"
    if not args.ignore_active_env:
        isolation.check_shell(os.environ, windows)
    return start(args.prefix, [shell_run.user_shell(os.environ, windows, args.shell)])
