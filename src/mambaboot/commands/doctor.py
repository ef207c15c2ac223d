"""`mambaboot doctor`: check this shell and machine against the rules, with a one-line fix each."""

from mambaboot.commands._common import add_command, place_intent
from mambaboot.commands.options import ANY, flag, positional, table, value
from mambaboot.common.errors import DOCTOR_FOUND

OPTIONS = table(
    positional("prefixes", "PREFIX", "also check that these environments' files name where they are (the active "
               "one and those on PATH are always checked), and whether their mamba would take another directory as "
               "its root prefix, and name what a killed run left there", ANY),
    value("--envs-dir", metavar="DIR", help="envs root whose leftovers of killed runs are named (default: as for "
          "list)"),
    value("--cache-dir", metavar="DIR", help="cache whose work directories left by killed runs (in DIR/tmp) are "
          "named (default: as for `cache info`)"),
    flag("--json", help="print one JSON object on stdout"),
    flag("--undo-shell-init", help="remove conda/mamba initialize blocks from rc files and profiles and their cmd "
         "AutoRun hooks (nothing else), after showing them; keeps a backup of each file and value"),
    flag("--dry-run", help="with --undo-shell-init: show what would be removed"),
    flag("--settle", help="settle what killed runs left at each PREFIX (without PREFIX: every place under the envs "
         "root), as the next run of the place would before its own work, and nothing else: put back or finish"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "doctor", help="check this shell and machine for other Pythons and shell hooks",
        description="Report variables that steer Python or conda, PATH entries of Python environments (more "
        "than one is an error), a Python that runs instead of the active environment's, Pythons outside every "
        "environment on PATH named by the tool that put them there (pyenv, asdf, mise, uv, Homebrew, python.org, "
        "the py launcher, the Store alias: warnings), start-up lines that put one first in every shell (pyenv init, "
        "mise activate, asdf: errors), packages in a user site, and shell init (rc-file blocks; on Windows cmd "
        "AutoRun hooks, which of mamba/conda .bat or .exe runs, LongPathsEnabled). Also what a killed mambaboot run "
        "left under the envs root and at each PREFIX, with the command that settles it, and the work directories "
        "killed runs left in the cache's tmp and the temporary directory, with what deletes each (warnings; "
        "nothing is settled or deleted here). The operating system's own /usr/bin/python3 is never reported. Exit 0 when nothing breaks "
        "a rule, 11 otherwise.",
        example="mambaboot doctor --undo-shell-init --dry-run",
        options=OPTIONS, run=run, codes=(4, DOCTOR_FOUND),
    )


def run(args) -> int:
    from mambaboot.common import errors, host
    from mambaboot.shell import doctor

    if args.dry_run and not args.undo_shell_init:
        raise errors.UsageError("--dry-run goes with --undo-shell-init")
    if args.settle and args.undo_shell_init:
        raise errors.UsageError("--settle and --undo-shell-init are two runs")
    machine = host.current()
    if args.undo_shell_init:
        return _undo(machine, args)
    if args.settle:
        return _settle(machine, args)
    import os

    from mambaboot.common.locations import resolve_cache_dir, resolve_envs_dir
    from mambaboot.environment import placelock

    for prefix in args.prefixes:  # a mistyped PREFIX: usage, as for every command that takes one
        # (one a killed remove took away is still named by the intent it left beside it)
        if not os.path.lexists(prefix) and placelock.killed(os.path.abspath(prefix)) is None:
            raise errors.no_such_path(prefix, "doctor")
    unreadable = []
    try:
        envs_dir = resolve_envs_dir(machine, args.envs_dir)
    except errors.UsageError as exc:  # PY_ENVS naming no directory: the other checks still run
        envs_dir = None
        unreadable.append(doctor.Finding("unfinished", doctor.WARNING, "what killed runs left under the envs root "
                                         f"was not looked for: {exc}", "mambaboot doctor --envs-dir DIR"))
    cache_dir = resolve_cache_dir(machine, args.cache_dir) if args.cache_dir else None
    findings = doctor.examine(machine, args.prefixes, envs_dir, cache_dir) + unreadable
    failed = any(f.severity == doctor.ERROR for f in findings)
    from mambaboot.common import output

    if args.json:
        output.emit_json({"ok": not failed, "findings": [f.to_dict() for f in findings]})
    else:
        for f in findings:
            output.say(f"{f.severity}: {f.message}")
            if f.fix:
                output.say(f"    fix: {f.fix}")
        counts = {s: sum(f.severity == s for f in findings) for s in (doctor.ERROR, doctor.WARNING)}
        print(f"doctor: {counts[doctor.ERROR]} error(s), {counts[doctor.WARNING]} warning(s)")
    return DOCTOR_FOUND if failed else 0


def _undo(machine, args) -> int:
    from mambaboot.shell import doctor, shellinit

    found = shellinit.find_blocks(doctor.rc_files(machine))
    blocks, problems = found.blocks, found.problems
    from mambaboot.common import output

    for left in shellinit.stopped_writes(doctor.rc_files(machine)):  # named, never deleted: no proof they are ours
        output.TextReporter().warn(left)
    autoruns = shellinit.find_autoruns() if machine.windows else []
    shown = {"blocks": [{"path": b.path, "first": b.first, "last": b.last, "text": b.text} for b in blocks],
             "autorun": [{"hive": a.hive, "value": a.value, "removed": list(a.hooks), "left": a.remaining}
                         for a in autoruns],
             "problems": problems,
             "bare_lines": [{"path": h.path, "line": h.line, "text": h.text} for h in found.lines]}
    if not args.json:
        # Said before anything is done: what a dry run would remove, what the real run is removing.
        verb = "would remove" if args.dry_run else "removing"
        for b in blocks:
            print(f"{verb} {b.path} lines {b.first}-{b.last}:")
            print("".join("    | " + line for line in b.text.splitlines(keepends=True)).rstrip("\n"))
        for a in autoruns:
            print(f"cmd AutoRun ({a.hive}): {a.value}")
            print(f"    {verb}: {' & '.join(a.hooks)}; left: {a.remaining or '(nothing: the value is deleted)'}")
        for p in problems:
            print(f"refused: {p}")
        for h in found.lines:
            print(f"not touched: {h.path} line {h.line}: `{h.text}` is a bare hook line; delete it by hand")
        if not blocks and not autoruns and not problems and not found.lines:
            print("no conda/mamba shell init found")
    if problems:
        # A block whose end cannot be found has no known extent: removing "up to the end of
        # the file" could take the user's own lines with it, so nothing is changed anywhere.
        if args.json:
            from mambaboot.common import output

            output.emit_json({"dry_run": args.dry_run, "refused": True, **shown})
        return DOCTOR_FOUND
    if args.dry_run:
        if args.json:
            from mambaboot.common import output

            output.emit_json({"dry_run": True, **shown})
        return 0
    done = doctor.undo_shell_init(machine, blocks, autoruns)
    if args.json:
        from mambaboot.common import output

        output.emit_json({"dry_run": False, **shown, "backups": done.backups, "failures": done.failures})
    else:
        for backup in done.backups:
            print(f"backup: {backup}")
        for failure in done.failures:
            print(f"failed: {failure}")
        if blocks or autoruns:
            print(f"removed: {len(done.backups)} of {len(set(b.path for b in blocks)) + len(autoruns)} "
                  "(each kept in the backup named above)" if not done.failures else
                  f"removed: {len(done.backups)}; {len(done.failures)} left as they were (named above)")
    return DOCTOR_FOUND if done.failures else 0


def _settle(machine, args) -> int:
    """What killed runs left at each place settled under its lock, by the table every run of the place settles it by
    (environment/settle.py), as a run that then does nothing: the command list and doctor advise for it."""
    import os

    from mambaboot.common import errors, output
    from mambaboot.common.locations import resolve_cache_dir, resolve_envs_dir
    from mambaboot.common.files import workdir
    from mambaboot.environment import pkgcache
    from mambaboot.shell import unfinished

    places = [os.path.abspath(p) for p in args.prefixes]
    try:
        places = places or [place for place, _, _ in unfinished.found(resolve_envs_dir(machine, args.envs_dir))]
    except errors.UsageError:  # PY_ENVS naming no directory: no place there to settle
        pass
    cache = resolve_cache_dir(machine, args.cache_dir)
    for left in workdir.stale_for(cache):  # a killed run's work directory, proven ours: deleted
        if left.proven and workdir.remove_stale(left):
            output.say(f"deleted {left.path}{'' if left.identity else workdir.LOCK}, left by a mambaboot run that was killed")
    for said in pkgcache.killed_writers(cache):  # a cache note's new text
        output.say(said)
    refused = []
    for place in dict.fromkeys(places):
        try:
            with place_intent("settle", place) as intent:
                for line in intent.settled or [f"nothing was left to settle at {place}"]:
                    output.say(line)
        except errors.TargetRefused as exc:
            refused.append(exc)
    for exc in refused[:-1]:
        output.say(f"error: {exc}")
    if refused:
        raise refused[-1]
    return 0

