"""mambaboot: bootstrap self-contained conda environments with micromamba, then get out of the way.

The package, room by room (data flows down: cli -> plan -> steps -> result -> output):

    cli.py         parse the command line, call one command, map typed errors to exit codes
    commands/      one module per command: its options and the call into the rooms below
    pipeline/      plan (pure: inputs + host -> plan) and the steps of create/adopt: engine run,
                   finish (cache link, scripts, verify, record, lock), verify, provision,
                   move (rename or copy, rewrite, finish), pack (archive + unpack script)
    engine/        obtaining micromamba (download, digest) and running it sandboxed, with the
                   user's network settings carried in; child processes and signal holding
    environment/   the environment on disk: record, lock file, conda-meta, inventory, target
                   checks, cache link, overlays, disk usage, the package cache, deletion
    relocate/      prefix rewriting: files that name where the environment lives (scan,
                   rewrite, audit; the pack archive's unpack script; batscripts)
    shell/         the shell side: activation scripts per shell, run/shell, isolation (what a
                   clean shell is), shell-init blocks, doctor
    common/        shared helpers every room may use: errors, output/report, fsops, winsys,
                   host facts, default locations, path rules, the YAML subset

Rooms import `common/` freely and each other sideways; nothing imports `commands/` or `cli`.
"""

__version__ = "0.1.0"
