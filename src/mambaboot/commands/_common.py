"""Argument groups and help text that several commands share."""

import argparse

from mambaboot.errors import EXIT_CODES


def exit_code_help() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES)


def add_command(subparsers, name: str, help: str, description: str, example: str) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name, help=help, description=description,
        epilog=f"example:\n  {example}\n\n{exit_code_help()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_output_options(parser: argparse.ArgumentParser, verbose_help: str = "show more detail") -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    out.add_argument("-q", "--quiet", action="store_true", help="no step lines")
    out.add_argument("-v", "--verbose", action="store_true", help=verbose_help)


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", metavar="DIR", help=r"cache root (default: <drive>\CACHE on Windows if it "
                        "exists, else the user cache dir); packages go to DIR/Python/pkgs unless CONDA_PKGS_DIRS is set")


def reporter(args: argparse.Namespace):
    from mambaboot import output

    return output.TextReporter(quiet=args.quiet, verbose=args.verbose)
