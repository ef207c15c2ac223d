"""`mambaboot remove`: delete an environment mambaboot created, after asking."""

import argparse

from mambaboot.commands._common import add_cache_option, add_command


def register(subparsers) -> None:
    p = add_command(
        subparsers, "remove", help="delete an environment (asks first)",
        description="Delete an environment mambaboot created, after showing its size and asking. Links inside "
        "it (PREFIX/pkgs into the package cache) are removed, never followed. A directory that is not a conda "
        "environment is never deleted; a conda environment mambaboot did not create needs --force.",
        example="mambaboot remove myenv_3_12",
        codes=(4,),
    )
    p.add_argument("target", metavar="NAME|PREFIX", help="a NAME under the envs root, or a path")
    p.add_argument("--envs-dir", metavar="DIR", help="where NAME is looked up (default: as for create)")
    add_cache_option(p)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask (needed without a terminal)")
    p.add_argument("--force", action="store_true", help="also remove a conda environment mambaboot did not create")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run)


def _confirmed(question: str) -> bool:
    import sys

    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    import sys

    from mambaboot.common import host, output
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import delete, leftovers
    from mambaboot.environment.diskusage import human
    from mambaboot.common.locations import resolve_cache_dir, resolve_envs_dir, resolve_pkgs_dirs

    h = host.current()
    if delete.looks_like_path(args.target):
        prefix = h.path.abspath(h.path.expanduser(args.target))
    else:
        prefix = h.path.join(resolve_envs_dir(h, args.envs_dir), args.target)
    cache_dir = resolve_cache_dir(h, args.cache_dir, prefix)
    settled = leftovers.settle_unlocked(prefix, cache_dir)  # what a killed create --force or remove left
    for done in settled:
        sys.stderr.write(f"mambaboot: {done}\n")
    if settled and not h.path.lexists(prefix):  # the remove that was killed is finished now
        if args.json:
            output.emit_json({"prefix": prefix, "removed": True, "settled": settled})
        return 0
    # Asked first: measured first, to show; with --yes, counted while deleting (one walk).
    candidate = delete.inspect(prefix, cache_dir, resolve_pkgs_dirs(h, cache_dir), args.force, measure=not args.yes)

    def summary(u) -> str:
        shared = f"; {human(u.shared_bytes)} of it is shared with the package cache and stays there" if u.shared_bytes else ""
        return f"{prefix} ({candidate.state}): {u.files} files, {human(u.bytes)}{shared}"

    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"not removing {summary(candidate.usage)}: no terminal to ask on; pass --yes to confirm")
        if not _confirmed(f"remove {summary(candidate.usage)}?"):
            sys.stderr.write("nothing was removed\n")
            if args.json:
                output.emit_json({"prefix": prefix, "removed": False})
            return 0
    u = delete.remove(candidate, cache_dir, h.home())
    sys.stderr.write(f"removed {summary(u)}\n")
    if args.json:
        output.emit_json({"prefix": prefix, "removed": True, "state": candidate.state, **u.to_dict()})
    return 0
