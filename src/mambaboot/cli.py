"""Command line: parse, call one function per command, map errors to exit codes. Thin.

Imports of the pipeline happen inside the command functions so that `--version` and
`--help` cost little more than starting Python.
"""

import argparse
import os
import signal
from typing import List, Optional

from mambaboot import __version__
from mambaboot.errors import EXIT_CODES, Interrupted, MambabootError


def _exit_code_help() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mambaboot",
        description="Bootstrap a self-contained conda environment (Python + conda + mamba) with micromamba, "
        "leaving nothing behind outside it and the package cache.",
        epilog=_exit_code_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mambaboot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    create = commands.add_parser(
        "create",
        help="create a new environment",
        description="Create a standalone environment with Python, conda and mamba in an empty or new directory.",
        epilog="example:\n  mambaboot create myenv --python 3.12      # -> ./myenv_3_12 (or $PY_ENVS/myenv_3_12)\n\n"
        + _exit_code_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument("name", nargs="?", metavar="NAME", help="environment name (default: py); "
                        "--python 3.12 appends _3_12")
    where = create.add_argument_group("where")
    where.add_argument("-p", "--prefix", metavar="PATH", help="exact environment directory (instead of NAME)")
    where.add_argument("--envs-dir", metavar="DIR", help="parent of NAME (default: $PY_ENVS, "
                       r"<drive>\dev\Anaconda\envs on Windows, else the current directory)")
    where.add_argument("--cache-dir", metavar="DIR", help=r"cache root (default: <drive>\CACHE on Windows if it "
                       "exists, else the user cache dir); packages go to DIR/Python/pkgs unless CONDA_PKGS_DIRS is set")
    what = create.add_argument_group("what")
    what.add_argument("--python", metavar="VERSION", help="Python version, e.g. 3.12 or 3.12.4")
    what.add_argument("--package", dest="packages", action="append", default=[], metavar="SPEC",
                      help="extra package spec (repeatable), e.g. --package uv")
    what.add_argument("-c", "--channel", dest="channels", action="append", default=[], metavar="CHANNEL",
                      help="channel (repeatable; default conda-forge); channels from rc files are never used")
    engine = create.add_argument_group("micromamba")
    engine.add_argument("--micromamba", metavar="PATH", help="use this micromamba binary "
                        "(default: $MAMBABOOT_MICROMAMBA, else download the release)")
    engine.add_argument("--micromamba-version", metavar="VERSION", help="release to download "
                        "(default: the pinned one; 'latest' allowed)")
    engine.add_argument("--micromamba-url", metavar="URL", help="mirror: full URL of the binary; "
                        "its digest is read from URL.sha256")
    engine.add_argument("--micromamba-sha256", metavar="HEX", help="trust this digest instead of the published .sha256")
    engine.add_argument("--allow-http", action="store_true", help="allow plain http:// for non-loopback URLs")
    behaviour = create.add_argument_group("behaviour")
    behaviour.add_argument("--force", action="store_true",
                           help="replace the target if it is an environment mambaboot created (never anything else)")
    behaviour.add_argument("--ignore-active-env", action="store_true",
                           help="proceed in a shell with an active environment (children still get a clean one)")
    behaviour.add_argument("--no-cache-link", action="store_true", help="do not link PREFIX/pkgs to the package cache")
    behaviour.add_argument("--keep-failed", action="store_true",
                           help="keep an environment that failed after micromamba ran, for inspection")
    behaviour.add_argument("--dry-run", action="store_true", help="print the plan and run the checks; write nothing")
    out = create.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    out.add_argument("-q", "--quiet", action="store_true", help="no step lines")
    out.add_argument("-v", "--verbose", action="store_true", help="show micromamba's command line and output")
    create.set_defaults(func=_cmd_create)
    return parser


def _cmd_create(args: argparse.Namespace) -> int:
    from mambaboot import create, host, output
    from mambaboot.plan import CreateInputs, make_plan

    h = host.current()
    inputs = CreateInputs(
        name=args.name, prefix=args.prefix, envs_dir=args.envs_dir, python=args.python,
        packages=tuple(args.packages), channels=tuple(args.channels), cache_dir=args.cache_dir,
        micromamba=args.micromamba, micromamba_version=args.micromamba_version,
        micromamba_url=args.micromamba_url, micromamba_sha256=args.micromamba_sha256,
        allow_http=args.allow_http, force=args.force, ignore_active_env=args.ignore_active_env,
        link_cache=not args.no_cache_link,
    )
    plan = make_plan(h, inputs)
    reporter = output.TextReporter(quiet=args.quiet, verbose=args.verbose)
    if args.dry_run:
        if args.json:
            output.emit_json({"dry_run": True, "plan": plan.to_dict()})
        else:
            print(output.plan_text(plan.to_dict()))
        create.preflight(plan, h, args.ignore_active_env, reporter)
        return 0
    result = create.create(plan, h, reporter, ignore_active_env=args.ignore_active_env, keep_failed=args.keep_failed)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        reporter.step(f"done: {result.plan.prefix} (python {result.verification.python_version})")
    return 0


def _raise_on_sigterm(signum, frame):
    raise Interrupted(signum, "SIGTERM")


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    want_json = getattr(args, "json", False)
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        return args.func(args)
    except MambabootError as exc:
        return _fail(str(exc), exc.exit_code, want_json)
    except KeyboardInterrupt:
        return _fail("interrupted by Ctrl-C", 130, want_json)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("MAMBABOOT_DEBUG"):
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (set MAMBABOOT_DEBUG=1 for details)", 1, want_json)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(message: str, code: int, want_json: bool) -> int:
    from mambaboot import output

    output.error(message)
    if want_json:
        output.emit_json({"error": message, "exit_code": code})
    return code
