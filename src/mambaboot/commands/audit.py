"""`mambaboot audit`: which files of an environment name where it lives, and what move does about each."""

from mambaboot.commands._common import add_command
from mambaboot.commands.options import flag, positional, table

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment directory (it must hold conda-meta/)"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "audit", help="list the files that name the environment's location, and what move does with each",
        description="Find every file of a conda environment that holds its prefix (from the package records and "
        "the package cache's info/paths.json: placeholders, and sha256_in_prefix against sha256; and from reading "
        "every file they cannot vouch for, then every file) and classify each: rewritten by move, harmless (why) "
        "or blocking (why). Also lists what stops pack (editable installs, links and .pth entries leading out of "
        "the environment, fifos, sockets, devices). A package record that is not what installers write is exit 4. "
        "Changes nothing.",
        example="mambaboot audit ./py_3_12",
        options=OPTIONS, run=run, codes=(4,),
    )


def run(args) -> int:
    import os

    from mambaboot.common import host, output, quoting
    from mambaboot.pipeline import adopt
    from mambaboot.relocate import audit

    prefix = os.path.abspath(os.path.expanduser(args.prefix))
    adopt.check_prefix(prefix, "audit")
    result = audit.audit(prefix, host.current().windows)
    if args.json:
        output.emit_json(result.to_dict())
        return 0
    if result.moved_by_hand:
        print(f"location: the files name {result.location} (from {result.location_from}), not {prefix}: "
              f"run {quoting.advice(['mambaboot', 'move', prefix, 'DEST'], host.current().windows)} to make them agree")
    for entry in result.entries:
        print(f"{entry.verdict:<9}  {entry.path}  ({entry.kind}: {entry.why})")
    for entry in result.pack_blockers:
        if entry.verdict == audit.BLOCKING and entry.kind in ("editable", "pth", "link"):
            print(f"pack: {entry.path} stops pack: {entry.why}")
    counts = ", ".join(f"{result.count(v)} {v}" for v in (audit.REWRITTEN, audit.HARMLESS, audit.BLOCKING))
    print(f"audit: {len(result.entries)} files name {result.location}: {counts}")
    return 0
