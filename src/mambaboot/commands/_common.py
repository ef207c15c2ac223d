"""Argument groups and help text that several commands share."""

from __future__ import annotations  # annotations stay text: typing is not imported at start-up

from mambaboot.commands.options import Group, flag, group, repeated, value
from mambaboot.common.errors import EXIT_CODES, READER_GONE, SYSTEM_REFUSED

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): a spelled-out create imports neither
    import argparse
    from typing import Dict, Iterable, Optional

# Every command can end with these: success, a bug, a usage error, the system refusing a file
# operation (named in the message), an interruption, the output's reader gone.
EVERY_COMMAND = (0, 1, 2, SYSTEM_REFUSED, 130, READER_GONE)
# run and shell hand back their child's exit code, which can be any number.
CHILD_MEANINGS = {0: "the command succeeded; any other code not listed here is the command's own",
                  7: "the environment's activation data cannot be read"}
TOP_LEVEL_EXAMPLE = "mambaboot create myenv --python 3.12\n  mambaboot run ./myenv_3_12 -- python -V"


def exit_code_help(codes: Optional[Iterable[int]] = None, meanings: Optional[Dict[int, str]] = None) -> str:
    """The exit-code table: EVERY_COMMAND plus codes (None: all of them), with a command's own meanings."""
    table = {**dict(EXIT_CODES), **(meanings or {})}
    shown = sorted(table) if codes is None else sorted({*EVERY_COMMAND, *codes, *(meanings or {})})
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {table[code]}" for code in shown)


def top_level_help() -> str:
    return f"example:\n  {TOP_LEVEL_EXAMPLE}\n\n{exit_code_help()}"


def add_command(subparsers, name: str, help: str, description: str, example: str, options: tuple, run,
                codes: Iterable[int] = (), meanings: Optional[Dict[int, str]] = None) -> argparse.ArgumentParser:
    """The command's subparser, its arguments built from its table (commands/options.py) and run as
    what args.run calls. codes: the exit codes this command can end with beyond EVERY_COMMAND;
    meanings: its own wording."""
    import argparse  # here, not at the top: a spelled-out command is read by options.read

    from mambaboot.commands.options import add_to

    parser = subparsers.add_parser(
        name, help=help, description=description,
        epilog=f"example:\n  {example}\n\n{exit_code_help(codes, meanings)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_to(parser, options)
    parser.set_defaults(run=run)
    return parser


def output_options(verbose_help: str = "show more detail") -> Group:
    return group("output", flag("--json", help="print one JSON object on stdout"),
                 flag("-q", "--quiet", help="no step lines"), flag("-v", "--verbose", help=verbose_help))


CACHE_DIR = value("--cache-dir", metavar="DIR", help=r"cache root (default on Windows: <drive>\CACHE of the "
                  "environment's drive if it exists or the user cache dir is on another drive; else the user cache "
                  "dir); packages go to DIR/Python/pkgs unless CONDA_PKGS_DIRS is set")


def warn_settled(intent, rep=None) -> None:
    """What settling a killed run's intent did as the place's lock was taken, each a warning."""
    from mambaboot.common import output

    for done in intent.settled:
        (rep or output.TextReporter()).warn(done)


def reporter(args: argparse.Namespace):
    from mambaboot.common import output

    return output.TextReporter(quiet=args.quiet, verbose=args.verbose)


SPECS = (
    repeated("--package", dest="packages", metavar="SPEC", help="extra package spec (repeatable), e.g. --package uv"),
    repeated("-c", "--channel", dest="channels", metavar="CHANNEL",
             help="channel (repeatable; default conda-forge); channels from rc files are never used"),
)

MICROMAMBA = (
    value("--micromamba", metavar="PATH", help="use this micromamba binary "
          "(default: $MAMBABOOT_MICROMAMBA, else download the release)"),
    value("--micromamba-version", metavar="VERSION", help="release to download "
          "(default: the pinned one; 'latest' allowed)"),
    value("--micromamba-url", metavar="URL", help="mirror: full URL of the binary; its digest is read from URL.sha256"),
    value("--micromamba-sha256", metavar="HEX", help="trust this digest instead of the published .sha256"),
    flag("--allow-http", help="allow plain http:// for non-loopback URLs"),
)


def create_inputs(args: argparse.Namespace, **fixed):
    """CreateInputs from the options SPECS, MICROMAMBA and CACHE_DIR describe."""
    from mambaboot.pipeline.plan import CreateInputs

    return CreateInputs(
        name=args.name, envs_dir=args.envs_dir, python=args.python,
        packages=tuple(args.packages), channels=tuple(args.channels), cache_dir=args.cache_dir,
        micromamba=args.micromamba, micromamba_version=args.micromamba_version,
        micromamba_url=args.micromamba_url, micromamba_sha256=args.micromamba_sha256,
        allow_http=args.allow_http, ignore_active_env=args.ignore_active_env,
        link_cache=not args.no_cache_link, **fixed,
    )


def categories(args) -> tuple:
    """--category's names, `main` always among them; UsageError when one is given without --from-lock."""
    from mambaboot.common.errors import UsageError

    given = tuple(getattr(args, "categories", None) or ())
    if given and not getattr(args, "from_lock", None):
        raise UsageError("--category chooses among a conda-lock file's categories: give it with --from-lock")
    return tuple(dict.fromkeys(("main", *given)))


def read_lock(path: str, platform: str, categories: tuple = ("main",), environment: str | None = None):
    """A lock file as --from-lock installs it on `platform`: an @EXPLICIT list, conda-lock's unified
    file, of which the platform's part in those categories, or pixi's pixi.lock, of which that
    environment's part for the platform (environment: --environment, `default` when not given; only
    for pixi.lock). Its kind is what its content says (lock_kind), its name deciding only where the
    content says none, as micromamba decides by the name alone."""
    import os

    from mambaboot.common.errors import UsageError
    from mambaboot.environment import condalock, lockfile, pixilock

    from mambaboot.common import untrusted

    try:
        text = untrusted.read_user_text(path)  # UTF-16 too, as PowerShell's `>` writes it
    except OSError as exc:
        raise UsageError(f"cannot read lock file {path}: {exc.strerror or exc}") from None
    kind = lock_kind(text, path)
    if kind == "pixi":
        return pixilock.parse(text, path, os.getcwd(), platform, environment or pixilock.DEFAULT_ENVIRONMENT)
    if environment is not None:
        raise UsageError(f"--environment chooses an environment of a pixi.lock; {path} is not one")
    if kind == "conda-lock":
        return condalock.parse(text, path, os.getcwd(), categories).for_platform(platform, path)
    return lockfile.parse(text, path, os.getcwd(), platform)


def lock_kind(text: str, path: str) -> str:
    """"pixi", "conda-lock" or "explicit": by the content where it says (a pixi lock's top-level
    `version`, `environments` and `packages`; conda-lock's `version` and `package`, which a pixi.lock
    of version 1 to 3 has too, being conda-lock's format; an @EXPLICIT line), else by the name
    (pixi.lock; micromamba's names of conda-lock's format). UsageError for an environment file
    (`dependencies:`), which `-f` reads."""
    from mambaboot.common import untrusted
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import condalock, lockfile, pixilock

    lines = untrusted.lines(text)
    keys = {line.split(":", 1)[0] for line in lines if line[:1].isalpha() and ":" in line}
    if pixilock.looks_like(keys):
        return "pixi"
    if condalock.looks_like(keys):
        return "conda-lock"
    if any(line.strip() == lockfile.EXPLICIT for line in lines):
        return "explicit"
    if "dependencies" in keys:
        raise UsageError(f"{path} is a conda environment file (it has `dependencies:`), not a lock: create from it "
                         f"with -f {path}")
    return "pixi" if pixilock.is_lock_name(path) else "conda-lock" if condalock.is_lock_name(path) else "explicit"


def place_intent(operation: str, *places: str, **kw):
    """The places' locks and this run's intent (environment/placelock.py), with the steps that settle a killed move
    (pipeline/movesteps.py): any run that takes a place's lock settles whatever a killed run left there."""
    import sys

    from mambaboot.environment import placelock
    from mambaboot.pipeline import movesteps

    return placelock.Intent(operation, *places, steps=movesteps.steps(sys.platform == "win32"), **kw)
