"""`mambaboot adopt`: take an existing conda environment under management.

`adopt` with its options spelled out, as the bootstrap scripts hand over (cli._fast_tabled, with
FLAGS, VALUED, REPEATED and POSITIONAL below), calls run() without argparse: nothing argparse-level
at the top.
"""

from mambaboot.commands._common import (
    add_cache_option,
    add_command,
    add_micromamba_options,
    add_output_options,
    add_spec_options,
    create_inputs,
    reporter,
)

_HANDOVER = ("name", "envs_dir", "packages", "channels", "micromamba", "micromamba_version", "micromamba_url",
             "micromamba_sha256")


def register(subparsers) -> None:
    p = add_command(
        subparsers, "adopt", help="take an existing conda environment under management",
        description="Run every step of create after micromamba on an existing conda environment (made by "
        "micromamba, conda, mamba or a bootstrap script): package-cache link, verification, record. An environment "
        "mambaboot already manages is checked again and keeps its record. Nothing that was in PREFIX is ever "
        "deleted.",
        example="mambaboot adopt ~/envs/old_3_11 --python 3.11",
        codes=(3, 4, 7),
    )
    p.add_argument("prefix", metavar="PREFIX", help="the environment directory (it must hold conda-meta/)")
    p.add_argument("--python", metavar="VERSION", help="the Python version the environment must have (default: any)")
    add_cache_option(p)
    p.add_argument("--no-cache-link", action="store_true", help="do not link PREFIX/pkgs to the package cache")
    p.add_argument("--ignore-active-env", action="store_true",
                   help="proceed in a shell with an active environment (children still get a clean one)")
    handover = p.add_argument_group(
        "hand-over from a bootstrap script",
        "what the script was asked for (create's options) and the micromamba it ran; the record is then the one "
        "create writes for the same inputs",
    )
    handover.add_argument("--name", metavar="NAME", help="the NAME the script was given")
    handover.add_argument("--envs-dir", metavar="DIR", help="the parent directory the script chose")
    add_spec_options(handover)
    add_micromamba_options(handover)
    handover.add_argument("--micromamba-version-used", metavar="VERSION", help="what the binary's --version said")
    handover.add_argument("--micromamba-sha256-used", metavar="HEX", help="the sha256 the script verified")
    add_output_options(p)
    p.set_defaults(run=run)


# The parser's options as cli._spelled_out reads them (see commands/create.py; the same test).
FLAGS = {"--no-cache-link": "no_cache_link", "--ignore-active-env": "ignore_active_env", "--allow-http": "allow_http",
         "--json": "json", "-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
VALUED = {"--python": "python", "--cache-dir": "cache_dir", "--name": "name", "--envs-dir": "envs_dir",
          "--micromamba": "micromamba", "--micromamba-version": "micromamba_version",
          "--micromamba-url": "micromamba_url", "--micromamba-sha256": "micromamba_sha256",
          "--micromamba-version-used": "micromamba_version_used", "--micromamba-sha256-used": "micromamba_sha256_used"}
REPEATED = {"--package": "packages", "-c": "channels", "--channel": "channels"}
POSITIONAL, POSITIONAL_REQUIRED = "prefix", True


def defaults() -> dict:
    """What the parser gives an option that is not on the command line."""
    return {**{k: False for k in FLAGS.values()}, **{k: None for k in VALUED.values()},
            **{k: [] for k in REPEATED.values()}, POSITIONAL: None}


def run(args) -> int:  # argparse's Namespace, or cli's _Arguments for a spelled-out command line
    from mambaboot.common import host, output, pathrules
    from mambaboot.common.errors import UsageError
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
    result = adopt.adopt_prefix(
        args.prefix, host.current(), rep, python=args.python, cache_dir=args.cache_dir,
        link_cache=not args.no_cache_link, ignore_active_env=args.ignore_active_env, handover=handover, engine=engine,
    )
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.prefix} (python {result.finished.verification.python_version})")
    return 0

