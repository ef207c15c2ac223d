"""`mambaboot pack`: one archive holding an environment and its own unpack step, for offline machines."""

from mambaboot.commands._common import add_command, output_options, place_intent, reporter, warn_settled
from mambaboot.commands.options import flag, positional, table, value

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment directory (it must hold conda-meta/)"),
    value("-o", "--output", metavar="FILE", required=True, help="the archive to write: .tar.gz (or .tgz) or .zip"),
    flag("--force", help="replace FILE if it exists"),
    output_options(),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "pack", help="pack an environment into an archive that unpacks anywhere without mambaboot",
        description="Write the environment (without its PREFIX/pkgs link) into a .tar.gz or .zip archive, with "
        ".mambaboot/unpack.py: a standard-library script the environment's own python runs after extraction to "
        "rewrite every file that names the old place (move's rewrite). Per machine: "
        "`mkdir DIR && tar -xf FILE -C DIR`, then `DIR/bin/python DIR/.mambaboot/unpack.py` "
        "(Windows: `DIR\\python.exe DIR\\.mambaboot\\unpack.py`). Refuses, naming them, editable installs and "
        "links or .pth entries leading out of the environment (exit 10).",
        example="mambaboot pack ./py_3_12 -o py_3_12.tar.gz",
        options=OPTIONS, run=run, codes=(4, 10),
    )


def run(args) -> int:
    from mambaboot.common import host, output
    from mambaboot.pipeline import pack

    rep = reporter(args)
    with place_intent("pack", args.prefix) as intent:  # what it archives does not change meanwhile
        warn_settled(intent, rep)
        result = pack.pack(args.prefix, args.output, host.current().windows, rep, force=args.force)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        for shell, commands in result.to_dict()["unpack"].items():
            rep.step(f"unpack ({shell}): " + "  then  ".join(commands))
    return 0
