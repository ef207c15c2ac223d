"""`mambaboot activate-scripts`: activation without hooks for an existing environment."""

from mambaboot.commands._common import add_command, place_intent, warn_settled
from mambaboot.commands.options import flag, positional, repeated, table

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment"),
    repeated("--old-prefix", dest="old_prefixes", metavar="PATH",
             help="where the environment was before it was moved: that path is rewritten too (repeatable)"),
    flag("--backup", help="keep the original of each rewritten script under PREFIX/.mambaboot/backup/"),
    flag("--dry-run", help="show what would be written and rewritten; change nothing"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "activate-scripts", help="write portable activation scripts into an environment",
        description="Write activate/deactivate scripts for cmd.exe and PowerShell (Windows) or POSIX sh, fish and "
        "PowerShell (elsewhere) into PREFIX/.mambaboot/, and rewrite micromamba's Windows scripts "
        "(condabin\\mamba.bat, mamba_hook.bat, ...) to compute their paths from their own location, and write "
        "etc/conda/activate.d and deactivate.d hooks that make the environment its mamba's root prefix under conda's "
        "own activation, and set PYTHONNOUSERSITE=1 in conda-meta/state, which every activation (conda's and "
        "mamba's included) sets, so the environment's python sees no user site-packages. "
        "Works on any conda environment; `create` does it too. The scripts follow later changes "
        "to etc/conda (activate.d, env_vars.d) and `conda env config vars` by themselves, with the environment's "
        "own python; in an environment without one, run this again after such a change.",
        example="mambaboot activate-scripts ~/envs/py_3_12 && . ~/envs/py_3_12/.mambaboot/activate.sh",
        options=OPTIONS, run=run, codes=(4, 7),
        meanings={4: "PREFIX/etc/conda/activate.d or deactivate.d is a link or a mount point "
                     "(nothing is written into it)"},
    )


def run(args) -> int:
    from mambaboot.shell.activation import sources

    prefix = sources.require_environment(args.prefix, "activate-scripts")
    if args.dry_run:
        return _run(args, prefix)
    with place_intent("activate-scripts", prefix) as intent:
        warn_settled(intent)
        return _run(args, prefix)


def _run(args, prefix: str) -> int:
    import os
    import sys

    from mambaboot.common import output, pathrules, quoting
    from mambaboot.environment import prefixstate, record
    from mambaboot.pipeline import finish

    windows = sys.platform == "win32"
    pathrules.check_prefix(prefix, windows)  # the scripts name the prefix: create's character policy
    # Before the scripts, which are written from it: an environment made earlier becomes standalone.
    standalone = prefixstate.write(prefix, dry_run=args.dry_run)
    made = finish.portable(prefix, windows, written=args.old_prefixes, backup=args.backup, dry_run=args.dry_run)
    state_file = [prefixstate.STATE_FILE] if standalone else []
    recorded = not args.dry_run and record.update(
        prefix, add_files=made.files + state_file, add_patched=[c.path for c in made.patch.changed], missing_ok=True,
    ) is not None
    if args.json:
        output.emit_json({"prefix": prefix, "dry_run": args.dry_run, "scripts": made.scripts, "hooks": made.hooks,
                          "recorded": recorded,
                          "env_vars": [f"{k}={v}" for k, v in standalone.items()], **made.patch.to_dict()})
        return 0
    verb = "would write" if args.dry_run else "wrote"
    for name, value in standalone.items():
        print(f"{verb} {name}={value} into {prefixstate.STATE_FILE} (every activation sets it: no user site-packages)")
    for rel in made.scripts + made.hooks:
        print(f"{verb} {rel}")
    for change in made.patch.changed:
        print(f"{'would rewrite' if args.dry_run else 'rewrote'} {change.path}: " + "; ".join(change.notes))
    for kept in made.patch.backups:
        print(f"kept the original: {kept}")
    for left in made.patch.leftovers:
        print(f"left as it is: {left.path} lines {', '.join(map(str, left.leftovers))} still name an absolute path")
    if not args.dry_run:
        print("record: updated" if recorded else "record: none (not created by mambaboot; no record written)")
        script = os.path.join(prefix, ".mambaboot", "activate")
        if windows:  # cmd runs a batch file and comes back with call (Microsoft Learn, call); PowerShell reads
            # activate.ps1 as text, which runs under any execution policy (shell/activation/powershell.py)
            from mambaboot.shell.activation import powershell

            print("activate: " + quoting.advice(["call", script + ".bat"], True, powershell_line=powershell.line(prefix)))
        else:  # sh reads a script into the running shell with . (POSIX dot)
            print("activate: " + quoting.advice([".", script + ".sh"], False, ticks=False))
    return 0
