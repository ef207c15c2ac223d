"""`mambaboot provision`: run post-scripts in an environment mambaboot created, or continue
the provisioning a `create` left unfinished."""

from mambaboot.commands._common import CACHE_DIR, add_command, output_options, place_intent, reporter, warn_settled
from mambaboot.commands.options import flag, positional, repeated, table

OPTIONS = table(
    positional("prefix", "PREFIX", "an environment mambaboot created"),
    repeated("--post-script", dest="post_scripts", metavar="PATH",
             help="script to run (repeatable, in order): .bat/.cmd in cmd.exe, .ps1 in PowerShell, else sh"),
    CACHE_DIR,
    flag("--ignore-active-env", help="proceed in a shell with an active environment (children still get a clean one)"),
    output_options(verbose_help="show more detail"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "provision", help="run post-scripts in an environment (or continue a failed provisioning)",
        description="Run scripts inside the activated environment, from a clean baseline, as `create "
        "--post-script` does. Without --post-script, continue where the last provisioning stopped: an "
        "unfinished pip section, then the recorded scripts from the one that failed. On success the "
        "record's state is `complete`.",
        example="mambaboot provision ./myenv_3_12 --post-script setup.sh",
        options=OPTIONS, run=run, codes=(3, 4, 8),
    )


def run(args) -> int:
    import os

    from mambaboot.common import host
    from mambaboot.common.locations import resolve_cache_dir
    from mambaboot.common import isolation

    h = host.current()
    if not args.ignore_active_env:
        isolation.check_shell(h.environ, h.windows)
    prefix = os.path.abspath(args.prefix)
    cache_dir = resolve_cache_dir(h, args.cache_dir, prefix)
    with place_intent("provision", prefix) as intent:
        warn_settled(intent, reporter(args))
        return _locked(args, h, prefix, cache_dir)


def _locked(args, h, prefix: str, cache_dir: str) -> int:
    import os

    from mambaboot.common import output
    from mambaboot.common.errors import TargetRefused
    from mambaboot.environment import record
    from mambaboot.pipeline import provision

    if not os.path.lexists(prefix):
        from mambaboot.common.errors import no_such_path

        raise no_such_path(prefix, "provision")
    rec = record.read(prefix)
    if rec is None:
        raise TargetRefused(f"{prefix} is not an environment mambaboot created (no {record.RECORD_DIR}/{record.RECORD_FILE})")
    if rec.get("state") not in record.FINISHED:
        raise TargetRefused(f"{prefix} was never completed (state: {rec.get('state')}); "
                            "recreate it with `mambaboot create --force`")
    record.lock_entry(prefix, rec)  # a lock entry that leads elsewhere is refused before any step runs
    steps = provision.remaining(rec, [os.path.abspath(s) for s in args.post_scripts])
    provision.check_scripts(steps.scripts, h.windows, h.environ)
    rep = reporter(args)
    if not steps and rec.get("state") == record.COMPLETE:
        rep.step(f"provision: nothing to do; {prefix} is complete")
        result = rec.get("provisioning")
    else:
        result = provision.run(prefix, steps, h.environ, h.windows, cache_dir, rep)
        rep.step(f"done: {prefix} (state: complete)")
    if args.json:
        output.emit_json({"prefix": prefix, "state": record.COMPLETE, "provisioning": provision.shown(result)})
    return 0
