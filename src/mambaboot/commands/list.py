"""`mambaboot list`: the environments under the envs root (and any given path), with their state."""

from mambaboot.commands._common import CACHE_DIR, add_command
from mambaboot.commands.options import ANY, flag, positional, table, value

OPTIONS = table(
    positional("paths", "PATH", "also list these environments", ANY),
    value("--envs-dir", metavar="DIR", help="envs root (default: $PY_ENVS, "
          r"<drive>\dev\Anaconda\envs on Windows, else the current directory)"),
    CACHE_DIR,
    flag("--size", help="measure each environment's size now (walks every file)"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "list", help="list environments and their state",
        description="List every environment under the envs root (and each PATH given): name, state "
        "(complete, incomplete, provisioning, provisioning-failed, foreign, moving), Python version, package count, "
        "size and creation time. The package count is what conda-meta holds now, followed by \"(N at creation)\" "
        "when that differs from the record. Sizes are those recorded at creation unless --size measures them now; "
        "it also marks \"(copy)\" an environment that shares no hard link with the package cache.",
        example="mambaboot list --size", options=OPTIONS, run=run,
    )


def _row(env) -> list:
    from mambaboot.environment.diskusage import human

    size = ("-" if env.size is None else human(env.size)) + (" (copy)" if env.copy else "")
    state = env.state + (f" ({env.failed})" if env.failed else "")
    packages = "-" if env.packages is None else str(env.packages)
    if env.changed:  # its own conda or mamba installed or removed packages since
        packages += f" ({env.packages_at_creation} at creation)"
    return [env.name, state, env.python_version or "-", packages, size, (env.created or "-")[:19].replace("T", " "),
            env.prefix]


def _settle_moves(h, envs_dir: str, paths: list, cache_dir: str) -> list:
    from mambaboot.environment import leftovers

    places = leftovers.moving_places(envs_dir, paths, cache_dir)
    if not places:
        return []
    from mambaboot.common.report import Reporter
    from mambaboot.pipeline import movejournal

    return [done for place in places for done in movejournal.settle_quietly(place, h, Reporter(), cache_dir)]


def run(args) -> int:
    import sys

    from mambaboot.common import host, output
    from mambaboot.environment import inventory, leftovers
    from mambaboot.common.locations import resolve_cache_dir, resolve_envs_dir

    h = host.current()
    envs_dir = resolve_envs_dir(h, args.envs_dir)
    cache_dir = resolve_cache_dir(h, args.cache_dir)
    # A move killed half way is finished or undone first, and said: never listed as complete.
    for done in _settle_moves(h, envs_dir, args.paths, cache_dir):
        print(f"mambaboot: {done}", file=sys.stderr)
    envs = inventory.scan(envs_dir, resolve_cache_dir(h, args.cache_dir), args.paths, args.size)
    # What a killed `create --force` left: named here; the next create or remove settles it.
    left = leftovers.in_directory(envs_dir)
    if args.json:
        output.emit_json({"envs_dir": envs_dir, "environments": [e.to_dict() for e in envs],
                          "leftovers": [{"prefix": p, "old": o} for p, o in left]})
        return 0
    rows = [["NAME", "STATE", "PYTHON", "PKGS", "SIZE", "CREATED (UTC)", "PREFIX"]] + [_row(e) for e in envs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    if not envs:
        print(f"(no environments under {envs_dir})")
    for prefix, old in left:
        print(f"leftover of a killed create --force: {old} (the next create or remove of {prefix} settles it)")
    return 0
