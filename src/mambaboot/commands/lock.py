"""`mambaboot lock`: write the lock of any conda environment (it reads conda-meta)."""

import argparse

from mambaboot.commands._common import add_command


def register(subparsers) -> None:
    p = add_command(
        subparsers, "lock", help="write an environment's lock file (exact packages with hashes)",
        description="Write an @EXPLICIT lock of what PREFIX holds (one URL with its sha256 per package, md5 sums "
        "and the platform in comments), read from its conda-meta; works for any conda environment. pip packages "
        "that mambaboot installed (its record lists them) follow as `# pip:` comment lines with their artefact's sha256. "
        "`mambaboot create NAME --from-lock FILE` recreates it exactly; micromamba and conda read it too.",
        example="mambaboot lock ./myenv_3_12 -o myenv.lock",
    )
    p.add_argument("prefix", metavar="PREFIX", help="the environment directory")
    p.add_argument("-o", "--output", metavar="FILE", help="write the lock here (default: standard output)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from mambaboot.common import fsops, host
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import condameta, lockfile, record
    from mambaboot.shell.activation import sources

    prefix = sources.require_environment(args.prefix)
    packages = condameta.installed(prefix)
    if not packages:
        raise UsageError(f"{prefix} has no packages to lock")
    rec = record.read(prefix) or {}
    platform = rec.get("platform") or lockfile.platform_of(packages) or host.current().subdir
    text = lockfile.for_environment(packages, rec, platform)
    if args.output:
        fsops.atomic_write(os.path.abspath(args.output), text.encode(), mode=fsops.user_mode(0o666))
        pip = len(rec.get("pip_packages") or ())
        sys.stderr.write(f"lock: {len(packages)} packages{f' and {pip} pip packages' if pip else ''} of {prefix} -> {args.output}\n")
    else:
        sys.stdout.write(text)
    return 0
