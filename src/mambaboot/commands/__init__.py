"""One module per command (pipx's layout): each has `register(subparsers)` and `run(args) -> int`.

Each command module declares its options as a table (OPTIONS, commands/options.py) and imports
nothing else heavy at the top, argparse included: a command line spelled out whole is read from
the table without it. The pipeline is imported inside run(), so building the parser (and `--help`,
`--version`) stays cheap.
"""

NAMES = (
    "create", "adopt", "lock", "provision", "list", "remove", "cache", "activate_scripts", "run", "shell", "doctor",
    "audit", "move", "pack",
)

# `mambaboot --help`, printed as it is: building the whole parser for it costs more than starting
# Python. What argparse prints at 80 columns; tests/test_startup_structure.py keeps it equal
# (its failure message says how to print the text to paste after a change).
TOP_LEVEL_HELP = """\
usage: mambaboot [-h] [--version] COMMAND ...

Bootstrap a self-contained conda environment (Python + conda + mamba) with micromamba, leaving nothing behind outside it and the package cache.

positional arguments:
  COMMAND
    create          create a new environment
    adopt           take an existing conda environment under management
    lock            write a lock file (exact packages with hashes, any
                    platform) or an SBOM
    provision       run post-scripts in an environment (or continue a failed
                    provisioning)
    list            list environments and their state
    remove          delete an environment (asks first)
    cache           show or clean the package cache
    activate-scripts
                    write portable activation scripts into an environment
    run             run a command inside an environment
    shell           start a shell with an environment active
    doctor          check this shell and machine for other Pythons and shell
                    hooks
    audit           list the files that name the environment's location, and
                    what move does with each
    move            move or rename an environment and make it work there
                    (repeatable)
    pack            pack an environment into an archive that unpacks anywhere
                    without mambaboot

options:
  -h, --help        show this help message and exit
  --version         show program's version number and exit

example:
  mambaboot create myenv --python 3.12
  mambaboot run ./myenv_3_12 -- python -V

exit codes:
    0  success
    1  unexpected error: a bug in mambaboot (MAMBABOOT_DEBUG=1 shows the traceback)
    2  usage error: bad option, name, prefix character or version, a path that does not exist, or a file mambaboot refuses to read (named)
    3  the shell already has a Python/conda environment active
    4  the target exists and is not ours to replace (or cannot be written)
    5  micromamba could not be obtained (download failed, digest mismatch, missing binary)
    6  micromamba failed to create the environment (its own error text is shown)
    7  the environment failed verification (expected and found are shown), does not match its lock, or its env_vars data is unreadable
    8  a provisioning step (pip section or post-script) failed; the environment stays, recorded provisioning-failed
    9  the operating system refused a file operation (permission, disk full, read-only file system); the file is named
   10  move, pack: a file cannot follow the environment (named); nothing was changed
   11  doctor: a check found an error, or --undo-shell-init left something undone
  126  run: the command cannot be executed
  127  run: the command is not found in the environment
  130  interrupted by Ctrl-C; 143 by SIGTERM, 129 by SIGHUP (the terminal closed)
  141  the output's reader went away (a pipe closed early, as | head -1 does): nothing more is said
"""
