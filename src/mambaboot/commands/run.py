"""`mambaboot run`: run a command inside an environment, from a clean baseline.

`run PREFIX -- COMMAND` is read from OPTIONS without argparse (commands/options.py): only builtin
annotations here, and start() imports only what running needs (tests/test_startup_structure.py
pins it).
"""

from mambaboot.commands.options import REST, positional, table

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment"),
    positional("command", "-- COMMAND [ARGS...]", "what to run", REST),
)


def register(subparsers) -> None:
    from mambaboot.commands._common import CHILD_MEANINGS, add_command

    add_command(
        subparsers, "run", help="run a command inside an environment",
        description="Run COMMAND with the environment activated, starting from a clean baseline: your "
        "environment minus every other Python environment on PATH and every conda/mamba/Python variable. "
        "stdin, stdout, stderr, Ctrl-C and the exit code are the command's own. On Linux/macOS the "
        "environment's etc/conda/activate.d/*.sh scripts are sourced first; on Windows its .bat ones are "
        "not run (a warning names them).",
        example="mambaboot run ./py_3_12 -- python -c \"import sys; print(sys.prefix)\"",
        options=OPTIONS, run=run, codes=(7, 126, 127), meanings=CHILD_MEANINGS,
    )


def command_line(args) -> list:
    # older argparse keeps the "--" that separates the command from our options
    return args.command[1:] if args.command[:1] == ["--"] else args.command


def start(prefix: str, argv: list, command: str = "run") -> int:
    import os
    import sys

    from mambaboot.shell import run as shell_run
    from mambaboot.shell.activation import sources

    windows = sys.platform == "win32"
    prepared = shell_run.prepare(sources.require_environment(prefix, command), argv, os.environ, windows)
    if prepared.warnings:
        from mambaboot.common import output

        for warning in prepared.warnings:
            output.TextReporter().warn(warning)
    return shell_run.run(prepared, windows)


def run(args) -> int:
    return start(args.prefix, command_line(args))
