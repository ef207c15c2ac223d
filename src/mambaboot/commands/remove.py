"""`mambaboot remove`: delete an environment mambaboot created, after asking.

`remove NAME|PREFIX` with its options spelled out is read from OPTIONS without argparse
(commands/options.py): nothing argparse-level at the top here.
"""

from mambaboot.commands._common import CACHE_DIR, add_command, place_intent
from mambaboot.commands.options import flag, positional, table, value

OPTIONS = table(
    positional("target", "NAME|PREFIX", "a NAME under the envs root, or a path"),
    value("--envs-dir", metavar="DIR", help="where NAME is looked up (default: as for create)"),
    CACHE_DIR,
    flag("-y", "--yes", help="do not ask (needed without a terminal)"),
    flag("--force", help="also remove a conda environment mambaboot did not create"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "remove", help="delete an environment (asks first)",
        description="Delete an environment mambaboot created, after showing its size and asking. Links inside "
        "it (PREFIX/pkgs into the package cache) are removed, never followed. A directory that is not a conda "
        "environment is never deleted; a conda environment mambaboot did not create needs --force. The "
        "environment active in this shell (CONDA_PREFIX, MAMBABOOT_ENV) is refused.",
        example="mambaboot remove myenv_3_12",
        options=OPTIONS, run=run, codes=(3, 4),
    )


def _confirmed(question: str) -> bool:
    import sys

    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run(args) -> int:
    return start(args.target, args.envs_dir, args.cache_dir, args.yes, args.force, args.json)


def start(target: str, envs_dir, cache_dir_option, yes: bool, force: bool, as_json: bool) -> int:
    from mambaboot.common import host
    from mambaboot.common.files import tempname
    from mambaboot.environment import busy, delete
    from mambaboot.common.locations import resolve_cache_dir, resolve_envs_dir

    h = host.current()
    if delete.looks_like_path(target):
        prefix = h.path.abspath(h.path.expanduser(target))
    else:
        prefix = h.path.join(resolve_envs_dir(h, envs_dir), target)
    busy.refuse_active(h, prefix)
    cache_dir = resolve_cache_dir(h, cache_dir_option, prefix)
    with place_intent("remove", prefix, token=tempname.run_token()) as intent:  # held until the deletion is done
        return _locked(h, prefix, cache_dir, yes, force, as_json, intent)


def _locked(h, prefix: str, cache_dir: str, yes: bool, force: bool, as_json: bool, intent) -> int:
    import sys

    from mambaboot.common import output
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import delete
    from mambaboot.environment.diskusage import human
    from mambaboot.common.locations import resolve_pkgs_dirs

    # what a killed run left (a remove, a move, a create): its intent, settled as the lock was taken
    settled = intent.settled
    for done in settled:
        sys.stderr.write(f"mambaboot: {done}\n")
    if settled and not h.path.lexists(prefix):  # finished now: a killed remove, or a move away
        if as_json:
            output.emit_json({"prefix": prefix, "removed": any(d.startswith("finished removing") for d in settled),
                              "settled": settled})
        return 0
    # Asked first: measured first, to show; with --yes, counted while deleting (one walk).
    candidate = delete.inspect(prefix, cache_dir, resolve_pkgs_dirs(h, cache_dir), force, measure=not yes)

    def summary(u) -> str:
        shared = f"; {human(u.shared_bytes)} of it is shared with the package cache and stays there" if u.shared_bytes else ""
        return f"{prefix} ({candidate.state}): {u.files} files, {human(u.bytes)}{shared}"

    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"not removing {summary(candidate.usage)}: no terminal to ask on; pass --yes to confirm")
        if not _confirmed(f"remove {summary(candidate.usage)}?"):
            sys.stderr.write("nothing was removed\n")
            if as_json:
                output.emit_json({"prefix": prefix, "removed": False})
            return 0
    u = delete.remove(candidate, h.home(), intent)
    sys.stderr.write(f"removed {summary(u)}\n")
    if as_json:
        output.emit_json({"prefix": prefix, "removed": True, "state": candidate.state, **u.to_dict()})
    return 0
