"""`mambaboot move`: move or rename an environment, rewrite what names its old place, verify it."""

from mambaboot.commands._common import CACHE_DIR, add_command, output_options, reporter
from mambaboot.commands.options import flag, positional, table

OPTIONS = table(
    positional("source", "SRC", "the environment directory (it must hold conda-meta/)"),
    positional("destination", "DST", "its new path (must not exist; its parent must)"),
    CACHE_DIR,
    flag("--no-cache-link", help="do not link DST/pkgs to the package cache"),
    flag("--ignore-active-env", help="proceed in a shell with another environment active (never the one being moved)"),
    output_options(),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "move", help="move or rename an environment and make it work there (repeatable)",
        description="Move SRC to DST (a rename on the same file system; otherwise a copy, compared with the "
        "source, which is deleted only after the moved environment passed verification), rewrite every file that "
        "names the old place (see audit), relink PREFIX/pkgs, rewrite the record, lock and activation scripts and "
        "verify the environment exactly as create does. A binary file with no room for DST is named and nothing "
        "is changed (exit 10); a failure later puts the environment back. Refuses an environment active in this "
        "shell. An environment moved by hand is repaired by moving it again.",
        example="mambaboot move ./py_3_12 /opt/envs/py_3_12",
        options=OPTIONS, run=run, codes=(3, 4, 7, 10),
    )


def run(args) -> int:
    from mambaboot.common import host, output
    from mambaboot.pipeline import move

    rep = reporter(args)
    result = move.move_environment(
        args.source, args.destination, host.current(), rep, cache_dir=args.cache_dir,
        link_cache=not args.no_cache_link, ignore_active_env=args.ignore_active_env,
    )
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.prefix} (python {result.adopted.finished.verification.python_version})")
    return 0
