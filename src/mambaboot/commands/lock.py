"""`mambaboot lock`: write the lock of any conda environment (it reads conda-meta)."""

import argparse

from mambaboot.commands._common import add_command


def register(subparsers) -> None:
    p = add_command(
        subparsers, "lock", help="write an environment's lock file (exact packages with hashes)",
        description="Write an @EXPLICIT lock of what PREFIX holds (one URL with its sha256 per package, md5 sums "
        "and the platform in comments), read from its conda-meta; works for any conda environment. pip packages "
        "that mambaboot installed (its record lists them) follow as `# pip:` comment lines with their artefact's sha256. "
        "`mambaboot create NAME --from-lock FILE` recreates it exactly; micromamba and conda read it too. The lock is "
        "what conda-meta holds now: when that differs from mambaboot's record (the environment's own conda or mamba "
        "installed or removed packages since), a warning names the differences; PREFIX/.mambaboot/lock.txt keeps the "
        "lock of what it was made with.",
        example="mambaboot lock ./myenv_3_12 -o myenv.lock",
    )
    p.add_argument("prefix", metavar="PREFIX", help="the environment directory")
    p.add_argument("-o", "--output", metavar="FILE", help="write the lock here (default, or `-`: standard output); a device or a named pipe is written "
                   "as the shell's `>` writes it, a regular file is replaced whole")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from mambaboot.common import fsops, host, outputfile
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
    changed = _changed(prefix, rec, packages)
    if changed:
        sys.stderr.write(f"warning: {changed}\n")
    if args.output and args.output != outputfile.STDOUT:
        outputfile.write(args.output, text.encode(), mode=fsops.user_mode(0o666))
        pip = len(rec.get("pip_packages") or ())
        sys.stderr.write(f"lock: {len(packages)} packages{f' and {pip} pip packages' if pip else ''} of {prefix} -> {args.output}\n")
    else:
        sys.stdout.write(text)
    return 0


def _changed(prefix: str, rec: dict, packages) -> str:
    """One line naming how conda-meta differs from the record ("" when it does not, or there is none)."""
    from mambaboot.environment import lockfile, record

    if not isinstance(rec.get("packages"), list):
        return ""
    removed, added = lockfile.since_recorded(rec["packages"], packages)
    if not removed and not added:
        return ""
    shown = [f"+{k}" for k in added] + [f"-{k}" for k in removed]
    listing = ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
    when = str(rec.get("completed") or rec.get("created") or "")[:19].replace("T", " ")
    pip = (" its `# pip:` lines are those mambaboot's pip installed then, not checked against the environment;"
           if rec.get("pip_packages") else "")
    then = f" {record.lock_path(prefix, rec)} is what it held then;" if rec.get("lock") else ""
    return (f"{prefix} changed since mambaboot recorded it ({when} UTC): {listing}; this lock is what it holds "
            f"now;{pip}{then}".rstrip(";"))
