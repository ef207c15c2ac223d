"""`mambaboot adopt`: take an existing conda environment under management."""

from mambaboot.commands._common import CACHE_DIR, add_command, output_options, place_intent, reporter, warn_settled
from mambaboot.commands.options import flag, positional, table, value

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment directory (it must hold conda-meta/)"),
    value("--python", metavar="VERSION", help="the Python version the environment must have (default: any)"),
    CACHE_DIR,
    flag("--no-cache-link", help="do not link PREFIX/pkgs to the package cache"),
    flag("--ignore-active-env", help="proceed in a shell with an active environment (children still get a clean one)"),
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
    from mambaboot.common import host, isolation, output, pathrules
    import os

    from mambaboot.common.files import tempname
    from mambaboot.pipeline import adopt

    if args.python is not None:
        pathrules.check_python_version(args.python)
    rep = reporter(args)
    prefix = os.path.abspath(os.path.expanduser(args.prefix))
    with place_intent("adopt", prefix, token=tempname.run_token(), say=rep.warn) as intent:  # settles its failure
        warn_settled(intent, rep)
        machine = host.current()
        isolation.admit(machine.environ, machine.windows, args.ignore_active_env, rep)
        result = adopt.adopt_prefix(prefix, machine, rep, python=args.python, cache_dir=args.cache_dir,
                                    link_cache=not args.no_cache_link, intent=intent)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.prefix} (python {result.finished.verification.python_version})")
    return 0

