"""`mambaboot adopt`: take an existing conda environment under management.

`adopt` with its options spelled out, as the bootstrap scripts hand over, is read from OPTIONS
without argparse (commands/options.py) and calls run(): nothing argparse-level at the top.
"""

from mambaboot.commands._common import (
    CACHE_DIR,
    MICROMAMBA,
    SPECS,
    add_command,
    create_inputs,
    output_options,
    reporter,
    warn_settled,
)
from mambaboot.commands.options import flag, group, positional, table, value

_HANDOVER = ("name", "envs_dir", "packages", "channels", "micromamba", "micromamba_version", "micromamba_url",
             "micromamba_sha256")

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment directory (it must hold conda-meta/)"),
    value("--python", metavar="VERSION", help="the Python version the environment must have (default: any)"),
    CACHE_DIR,
    flag("--no-cache-link", help="do not link PREFIX/pkgs to the package cache"),
    flag("--ignore-active-env", help="proceed in a shell with an active environment (children still get a clean one)"),
    group("hand-over from a bootstrap script",
          value("--name", metavar="NAME", help="the NAME the script was given"),
          value("--envs-dir", metavar="DIR", help="the parent directory the script chose"),
          SPECS,
          MICROMAMBA,
          value("--micromamba-version-used", metavar="VERSION", help="what the binary's --version said"),
          value("--micromamba-sha256-used", metavar="HEX", help="the sha256 the script verified"),
          description="what the script was asked for (create's options) and the micromamba it ran; the record is "
          "then the one create writes for the same inputs"),
    output_options(),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "adopt", help="take an existing conda environment under management",
        description="Run every step of create after micromamba on an existing conda environment (made by "
        "micromamba, conda, mamba or a bootstrap script): package-cache link, verification, record. An environment "
        "mambaboot already manages is checked again and keeps its record. Nothing that was in PREFIX is ever "
        "deleted.",
        example="mambaboot adopt ~/envs/old_3_11 --python 3.11",
        options=OPTIONS, run=run, codes=(3, 4, 7),
    )


def run(args) -> int:  # argparse's Namespace, or cli's for a command line options.read read
    from mambaboot.common import host, output, pathrules
    from mambaboot.common.errors import UsageError
    import os

    from mambaboot.common.files import tempname
    from mambaboot.environment import placelock, settle
    from mambaboot.pipeline import adopt

    used = (args.micromamba_version_used, args.micromamba_sha256_used)
    given = [name for name in _HANDOVER if getattr(args, name)]
    if any(used) and not all(used):
        raise UsageError("--micromamba-version-used and --micromamba-sha256-used come together")
    if given and not all(used):
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UsageError(f"{options}: only for a bootstrap script's hand-over (with --micromamba-*-used)")
    if args.python is not None:
        pathrules.check_python_version(args.python)
    handover = engine = None
    if all(used):
        handover = create_inputs(args)
        engine = adopt.Engine(
            args.micromamba_version_used, pathrules.check_sha256("--micromamba-sha256-used", args.micromamba_sha256_used),
        )
    rep = reporter(args)
    prefix = os.path.abspath(os.path.expanduser(args.prefix))
    with placelock.Intent("adopt", prefix, token=tempname.run_token(), say=rep.warn) as intent:  # settles its failure
        warn_settled(intent, rep)
        result = adopt.adopt_prefix(
            prefix, host.current(), rep, python=args.python, cache_dir=args.cache_dir,
            link_cache=not args.no_cache_link, ignore_active_env=args.ignore_active_env, handover=handover,
            engine=engine, intent=intent,
        )
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.prefix} (python {result.finished.verification.python_version})")
    return 0

