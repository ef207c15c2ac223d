"""`mambaboot list`: the environments under the envs root (and any given path), with their state."""

from mambaboot.commands._common import add_command
from mambaboot.commands.options import ANY, flag, positional, table, value

OPTIONS = table(
    positional("paths", "PATH", "also list these environments", ANY),
    value("--envs-dir", metavar="DIR", help="envs root (default: $PY_ENVS, "
          r"<drive>\dev\Anaconda\envs on Windows, else the current directory)"),
    # Nothing of the cache is read any more; still accepted, so that a command line that names it goes on working.
    value("--cache-dir", metavar="DIR", help="accepted and not read: nothing list says is in the cache"),
    flag("--size", help="measure each environment's size now (walks every file)"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "list", help="list environments and their state",
        description="List every environment under the envs root (and each PATH given): name, state "
        "(complete, incomplete, provisioning, provisioning-failed, foreign, moving), Python version, package count, "
        "and creation time. The package count is what conda-meta holds now, followed by \"(N at creation)\" "
        "when that differs from the record. --size adds each environment's size, measured now (none is recorded: "
        "the environment's own conda and mamba change it), and marks \"(copy)\" an environment that shares no "
        "hard link with the package cache.",
        example="mambaboot list --size", options=OPTIONS, run=run,
    )


def _row(env, measured: bool) -> list:
    from mambaboot.environment.diskusage import human

    size = [("-" if env.size is None else human(env.size)) + (" (copy)" if env.copy else "")] if measured else []
    state = env.state + (f" ({env.failed})" if env.failed else "")
    packages = "-" if env.packages is None else str(env.packages)
    if env.changed:  # its own conda or mamba installed or removed packages since
        packages += f" ({env.packages_at_creation} at creation)"
    return [env.name, state, env.python_version or "-", packages, *size, (env.created or "-")[:19].replace("T", " "),
            env.prefix]


def _moving(h, left: list, paths: list) -> tuple[list, set]:
    """One sentence for each move that did not finish (its intent, in the lock of both its places, found under the
    envs root (left), at the paths given and beside them: shell/unfinished.found), naming what settles it: list changes nothing.
    The places are the intent's own words: only the settling checks them against the mark the move left in them. Also
    the keys (token, else place) of the moves said, whose locks are not named again one by one."""
    from mambaboot.environment import settle
    from mambaboot.shell import unfinished

    said: dict = {}
    for place, path, body in left + unfinished.found(None, paths, beside=True):  # the envs root read once, by run
        if settle.unsettled_move(body) and _move_key(place, body) not in said:
            what = (f"a move of {unfinished.field(body.get('from'))} to {unfinished.field(body.get('to'))} did not "
                    f"finish (killed at its stage {unfinished.field(body.get('stage'))})" if settle.move_shaped(body)
                    else f"{unfinished.field(path)} holds a move's intent")
            said[_move_key(place, body)] = f"{what}; {unfinished.advice(h.windows, place, path, body)}"
    return list(said.values()), set(said)


def _move_key(place: str, body: dict) -> str:
    """One killed move, whichever of its places' locks it is read from: its token."""
    return body.get("token") or place


def run(args) -> int:
    import os
    import sys

    from mambaboot.common import host, output
    from mambaboot.environment import inventory
    from mambaboot.shell import unfinished
    from mambaboot.common.locations import resolve_envs_dir

    h = host.current()
    envs_dir = resolve_envs_dir(h, args.envs_dir)
    envs = inventory.scan(envs_dir, args.paths, args.size)
    # What a killed run left (its intent, beside the place): named here; the next run of that place settles it.
    left = unfinished.found(envs_dir)
    # A move killed half way is listed as moving, never as complete, and never settled here.
    moves, moves_said = _moving(h, left, args.paths)
    for said in moves:
        output.say(f"mambaboot: {said}", sys.stderr)
    if args.json:
        output.emit_json({"envs_dir": envs_dir, "environments": [e.to_dict() for e in envs],
                          "leftovers": [{"prefix": p, "old": i["aside"]} for p, _, i in left
                                        if isinstance(i.get("aside"), str) and os.path.lexists(i["aside"])],
                          "unfinished": [{"prefix": p, "intent": f, "operation": i.get("operation"),
                                          "stage": i.get("stage")} for p, f, i in left]})
        return 0
    rows = [["NAME", "STATE", "PYTHON", "PKGS", *(["SIZE"] if args.size else []), "CREATED (UTC)", "PREFIX"]] + [
        [output.shown(c) for c in _row(e, args.size)] for e in envs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    if not envs:
        output.say(f"(no environments under {envs_dir})")
    for prefix, path, body in left:
        if body.get("operation") == "move" and _move_key(prefix, body) in moves_said:
            continue  # said once above, for both its places
        # on stderr, as a killed move's sentence: stdout holds the table alone
        output.say(f"unfinished: {unfinished.said(prefix, path, body)}; {unfinished.advice(h.windows, prefix, path, body)}",
                   sys.stderr)
    return 0
