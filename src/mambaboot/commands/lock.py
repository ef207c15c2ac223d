"""`mambaboot lock`: write the lock of an environment, or of specs for any platforms (solved, nothing
created), as an @EXPLICIT file, a conda-lock file or a CycloneDX bill of materials."""

import os

from mambaboot.commands._common import CACHE_DIR, MICROMAMBA, SPECS, add_command
from mambaboot.commands.options import OPTIONAL, fixed, flag, group, positional, repeated, table, value

FORMATS = ("explicit", "conda-lock", "cyclonedx")

OPTIONS = table(
    positional("prefix", "PREFIX", "the environment directory (or a lock file, for --format cyclonedx of one of "
               "its platforms)", OPTIONAL),
    value("-o", "--output", metavar="FILE", help="write the lock here (default, or `-`: standard output); a "
          "device or a named pipe is written as the shell's `>` writes it, a regular file is replaced whole"),
    value("--format", choices=FORMATS, help="explicit, conda-lock or cyclonedx (default: by the output's "
          "name: *-lock.yml conda-lock, *.cdx.json cyclonedx, else explicit)"),
    repeated("--platform", dest="platforms", metavar="PLATFORM",
             help="lock for this platform, e.g. linux-64, win-64, osx-arm64 (repeatable)"),
    group("specs (without PREFIX)",
          value("--python", metavar="VERSION", help="Python version, e.g. 3.12"),
          SPECS,
          value("-f", "--file", metavar="FILE", help="conda environment file, as create reads it"),
          flag("--offline", help="solve from the index the package cache holds")),
    CACHE_DIR,
    group("micromamba", MICROMAMBA),
    group("output", flag("-q", "--quiet", help="no step lines"),
          flag("-v", "--verbose", help="show micromamba's command lines")),
    fixed("json", False),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "lock", help="write a lock file (exact packages with hashes, any platform) or an SBOM",
        description="Without --platform, write an @EXPLICIT lock of what PREFIX holds (one URL with its sha256 per "
        "package, md5 sums and the platform in comments), read from its conda-meta; works for any conda environment. "
        "pip packages that mambaboot installed (its record lists them) follow as `# pip:` comment lines with their "
        "artefact's sha256. `mambaboot create NAME --from-lock FILE` recreates it exactly; micromamba and conda read "
        "it too. The lock is what conda-meta holds now: when that differs from mambaboot's record, a warning names the "
        "differences; PREFIX/.mambaboot/lock.txt keeps the lock of what it was made with. "
        "Without PREFIX, lock the specs given as create takes them (--file, --python, --package, --channel) for each "
        "--platform (default: this machine's): micromamba solves each one, nothing is created. With PREFIX and "
        "--platform, the other platforms solve the specs its record holds. --format conda-lock writes conda-lock's "
        "unified file (every platform in one; the default for an output named *-lock.yml, as micromamba chooses), "
        "--format cyclonedx a CycloneDX 1.6 JSON bill of materials (the default for *.cdx.json).",
        example="mambaboot lock --file environment.yml --platform linux-64 --platform win-64 --platform osx-arm64 "
        "-o team-lock.yml",
        options=OPTIONS, run=run, codes=(4, 5, 6),
    )


def format_for(output, given):
    """The format asked for, else the one the output's name implies (micromamba reads `*-lock.yml`
    and `*-lock.yaml` as conda-lock's: is_conda_env_lockfile_name, libmamba/src/core/env_lockfile.cpp, 2.8.1)."""
    if given:
        return given
    from mambaboot.environment import condalock

    if output and condalock.is_lock_name(output):
        return "conda-lock"
    if output and output.lower().endswith((".cdx.json", ".bom.json")):
        return "cyclonedx"
    return "explicit"


def run(args) -> int:
    import sys

    from mambaboot.common.files import confined, outputfile
    from mambaboot.common.errors import UsageError

    if args.output == outputfile.STDOUT:
        args.output = None
    fmt = format_for(args.output, args.format)
    if args.output:
        outputfile.kind(args.output)  # a directory: refused before anything is solved
        from mambaboot.environment import condalock

        if fmt == "explicit" and condalock.is_lock_name(args.output):
            raise UsageError(f"{args.output}: micromamba reads a file named *-lock.yml as conda-lock's format, "
                             "not as @EXPLICIT; name it otherwise, or use --format conda-lock")
        if fmt == "conda-lock" and not condalock.is_lock_name(args.output):
            sys.stderr.write(f"warning: micromamba reads {args.output} as a conda-lock file only when its name ends "
                             "in -lock.yml or -lock.yaml (mambaboot reads it either way)\n")
    given_specs = args.python or args.packages or args.channels or args.file
    if args.prefix and given_specs:
        raise UsageError("give PREFIX or specs (--file, --python, --package, --channel), not both")
    if args.prefix and os.path.isfile(args.prefix):
        text, summary = _from_lock_file(args, fmt)
    elif args.prefix:
        text, summary = _from_prefix(args, fmt)
    else:
        text, summary = _from_specs(args, fmt)
    # a lock is handed to others: each of its renderers writes every URL without its password or
    # token, as conda's `conda list --explicit` does; the installing side supplies its own
    if args.output and args.output != outputfile.STDOUT:
        for done in outputfile.put(args.output, text.encode(), mode=confined.user_mode(0o666)):
            sys.stderr.write(f"warning: {done}\n")  # a dead writer's partial file, collected
        if not args.quiet:
            sys.stderr.write(f"lock: {summary} -> {args.output}\n")
    else:
        sys.stdout.write(text)
    return 0


def _one_platform(fmt: str, platforms) -> None:
    from mambaboot.common.errors import UsageError

    if fmt != "conda-lock" and len(platforms) > 1:
        raise UsageError(f"--format {fmt} describes one platform, and {len(platforms)} were asked for "
                         f"({', '.join(platforms)}); use --format conda-lock (or an output named *-lock.yml) "
                         "for one file of every platform")


def _from_lock_file(args, fmt: str):
    """A bill of materials of one platform of a lock (conda-lock's or @EXPLICIT)."""
    from mambaboot.common import host
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import sbom

    if fmt != "cyclonedx":
        raise UsageError(f"{args.prefix} is a file: give an environment directory, or --format cyclonedx for the "
                         "bill of materials of a lock")
    _one_platform(fmt, args.platforms)
    from mambaboot.commands._common import read_lock

    platform = args.platforms[0] if args.platforms else host.current().subdir
    lock = read_lock(args.prefix, platform)
    packages = [_entry_package(e) for e in lock.entries]
    name = os.path.basename(args.prefix)
    return (sbom.render(name, lock.platform or platform, packages, {}, lock.pip),
            f"bill of materials of {len(packages)} packages ({lock.platform or platform})")


def _entry_package(entry):
    from mambaboot.environment.condameta import Package

    name, version, build = entry.key
    return Package(name, version, build, 0, entry.subdir, entry.url, entry.sha256, entry.md5)


def _from_prefix(args, fmt: str):
    from mambaboot.common import host
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import condameta, lockfile, record
    from mambaboot.shell.activation import sources

    prefix = sources.require_environment(args.prefix, "lock")
    packages = condameta.installed(prefix)
    if not packages:
        raise UsageError(f"{prefix} has no packages to lock")
    rec = record.read(prefix) or {}
    platform = rec.get("platform") or lockfile.platform_of(packages) or host.current().subdir
    changed = _changed(prefix, rec, packages)
    if changed:
        import sys

        from mambaboot.common import output

        output.say(f"warning: {changed}", sys.stderr)
    pip = lockfile.pip_entries(rec.get("pip_packages") or ())
    others = [p for p in dict.fromkeys(args.platforms) if p != platform]
    _one_platform(fmt, [platform, *others] if others else [platform])
    if fmt == "cyclonedx":
        from mambaboot.environment import sbom

        text = sbom.render(os.path.basename(prefix.rstrip("\\/")), platform, packages, condameta.licenses(prefix),
                           sbom.pip_installed(prefix, pip))
        return text, f"bill of materials of {len(packages)} packages of {prefix}"
    if fmt == "explicit":
        text = lockfile.for_environment(packages, rec, platform)
        return text, f"{len(packages)} packages{f' and {len(pip)} pip packages' if pip else ''} of {prefix}"
    inputs = rec.get("inputs") if isinstance(rec.get("inputs"), dict) else {}
    specs, channels = tuple(inputs.get("specs") or ()), tuple(inputs.get("channels") or ())
    # made from a conda-lock file: its other platforms, written back as that file held them
    held = (inputs.get("lock") or {}).get("carried") or {}
    carried = {p: v for p, v in held.items() if p != platform and (not others or p in others)}
    others = [p for p in others if p not in carried]
    if others and not (specs and channels):
        had = f"; the lock it was made from held {', '.join(sorted(held))} besides {platform}" if held else ""
        raise UsageError(f"{prefix} has no record of the specs and channels it was made from (it was not made by "
                         f"mambaboot's create, or from a lock){had}; lock from specs instead: mambaboot lock --file "
                         "FILE " + " ".join(f"--platform {p}" for p in [platform, *others]))
    solved, pips = {platform: packages}, {platform: pip}
    pip_lines = tuple(inputs.get("pip") or ())
    if others:
        from mambaboot.pipeline import envfile

        # the record keeps an environment file's channels as written, `${VAR}` and all
        written = channels
        expanded = [envfile.expand_channel(c, host.current().environ, host.current().windows) for c in channels]
        channels = tuple(c for c, _ in expanded)
        for c, (_, unset) in zip(written, expanded):
            if unset:
                import sys

                from mambaboot.common import output

                output.say(f"warning: {prefix}'s record: {envfile.unset_warning(c, unset)}", sys.stderr)
        plan = _plan(args, specs=specs, channels=channels, python=inputs.get("python"))
        theirs = _solve(args, plan, others)
        solved.update(theirs)
        if pip_lines:  # the environment file's section, for the other platforms' wheels
            from mambaboot.commands._common import reporter
            from mambaboot.pipeline import locking

            h = host.current()
            pips.update(locking.lock_pip(pip_lines, inputs.get("pip_dir"), theirs, h.environ, h.windows,
                                         reporter(args)))
    else:
        written = channels
    text, summary = _unified(solved, pips, written or _channels_of(packages), [prefix], specs, pip_lines, carried)
    return lockfile.with_added(text, rec.get("lock_added"), "version: 1"), summary


def _channels_of(packages) -> tuple:
    from mambaboot.environment import sbom

    return tuple(dict.fromkeys(sbom.channel_of(p.url) for p in packages))


def _unified(solved, pip, channels, sources, specs, pip_specs, carried=None):
    from mambaboot.environment import condalock

    carried = carried or {}
    hashes = {p: condalock.content_hash(p, channels, specs, pip_specs) for p in solved}
    text = condalock.render(solved, pip, channels, sources, hashes, carried)
    counts = ", ".join([f"{p}: {len(v)}" for p, v in solved.items()]
                       + [f"{p}: {len(v['package'])} entries as the lock it was made from held them"
                          for p, v in carried.items()])
    n = len(solved) + len(carried)
    return text, f"conda-lock file of {n} platform{'s' if n > 1 else ''} ({counts})"


def _plan(args, specs=None, channels=None, python=None, platforms=None):
    """A create plan for the specs (its prefix is never made): what to solve, with which engine and cache;
    platforms: those locked, for which an environment file's micromamba selectors are applied."""
    from mambaboot.commands._common import create_inputs
    from mambaboot.common import host
    from mambaboot.pipeline.plan import make_plan

    h = host.current()
    env_file = None
    if args.file:
        from mambaboot.pipeline import envfile

        env_file = envfile.read(args.file, h.environ, h.windows, (platforms or [h.subdir])[0])
        envfile.one_selection(env_file, platforms or [h.subdir])
    from types import SimpleNamespace

    inputs = create_inputs(
        SimpleNamespace(**{**vars(args), "name": None, "envs_dir": None, "ignore_active_env": True,
                           "no_cache_link": True, "python": python or args.python}),
        env_file=env_file, offline=args.offline,
    )
    plan = make_plan(h, inputs)
    if specs is not None:
        from mambaboot.common.values import replace

        plan = replace(plan, specs=tuple(specs), channels=tuple(channels))
    return plan


def _solve(args, plan, platforms):
    from mambaboot.commands._common import reporter
    from mambaboot.common import host
    from mambaboot.pipeline import locking

    return locking.solve_platforms(plan, locking.check_platforms(platforms), host.current(), reporter(args))


def _from_specs(args, fmt: str):
    from mambaboot.common import host
    from mambaboot.common.errors import UsageError
    from mambaboot.environment import lockfile
    from mambaboot.pipeline import locking

    if not (args.python or args.packages or args.channels or args.file):
        raise UsageError("give PREFIX, or the specs to lock (--file, --python, --package, --channel)")
    if args.platforms:
        platforms = locking.check_platforms(args.platforms)
    else:  # this machine's own, as create would install it
        from mambaboot.commands._common import reporter

        h = host.current()
        said = host.own_packages(h)
        if said:
            reporter(args).warn(said)
        platforms = (h.subdir,)
    _one_platform(fmt, platforms)
    plan = _plan(args, platforms=platforms)
    solved = _solve(args, plan, platforms)
    pip = {}
    if plan.pip:
        from mambaboot.commands._common import reporter

        h = host.current()
        pip = locking.lock_pip(plan.pip, plan.pip_dir, solved, h.environ, h.windows, reporter(args))
    if fmt == "cyclonedx":
        from mambaboot.environment import sbom

        (platform, packages), = solved.items()
        licenses = {p.name: p.license for p in packages if p.license}
        return (sbom.render(plan.name, platform, packages, licenses, pip.get(platform, ())),
                f"bill of materials of {len(packages)} packages ({platform})")
    if fmt == "explicit":
        (platform, packages), = solved.items()
        return lockfile.render(packages, platform, pip=pip.get(platform, ())), f"{len(packages)} packages ({platform})"
    sources = [os.path.basename(plan.env_file)] if plan.env_file else ["command line"]
    return _unified(solved, pip, plan.channels_written or plan.channels, sources, plan.specs, plan.pip)


def _changed(prefix: str, rec: dict, packages) -> str:
    """One line naming how conda-meta differs from the record ("" when it does not, or there is none)."""
    from mambaboot.environment import lockfile, record

    if not isinstance(rec.get("packages"), list):
        return ""
    removed, added = lockfile.since_recorded(rec["packages"], packages)
    if not removed and not added:
        return ""
    shown = [f"+{k}" for k in added] + [f"-{k}" for k in removed]
    from mambaboot.common import output

    listing = output.some(shown, 6)
    when = str(rec.get("completed") or rec.get("created") or "")[:19].replace("T", " ")
    pip = (" its `# pip:` lines are those mambaboot's pip installed then, not checked against the environment;"
           if rec.get("pip_packages") else "")
    held = os.path.join(prefix, *record.lock_entry(prefix, rec).split("/")) if rec.get("lock") else None
    then = f" {held} is what it held then;" if held else ""
    return (f"{prefix} changed since mambaboot recorded it ({when} UTC): {listing}; this lock is what it holds "
            f"now;{pip}{then}".rstrip(";"))
