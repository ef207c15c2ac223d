"""One module per command (pipx's layout): each has `register(subparsers)` and `run(args) -> int`.

Command modules import only argparse-level things at the top; the pipeline is imported
inside run(), so building the parser (and `--help`, `--version`) stays cheap.
"""

NAMES = (
    "create", "adopt", "lock", "provision", "list", "remove", "cache", "activate_scripts", "run", "shell", "doctor",
    "audit", "move", "pack",
)
