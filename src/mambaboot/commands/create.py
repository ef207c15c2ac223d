"""`mambaboot create`: a new, verified environment.

`create` with its options spelled out is read from OPTIONS without argparse (commands/options.py)
and calls run(): nothing argparse-level at the top here.
"""


from mambaboot.commands._common import (
    CACHE_DIR,
    MICROMAMBA,
    SPECS,
    add_command,
    create_inputs,
    output_options,
    categories,
    read_lock,
    reporter,
)
from mambaboot.commands.options import OPTIONAL, flag, group, positional, repeated, table, value

OPTIONS = table(
    positional("name", "NAME", "environment name (default: py); --python 3.12 appends _3_12", OPTIONAL),
    group("where",
          value("-p", "--prefix", metavar="PATH", help="exact environment directory (instead of NAME)"),
          value("--envs-dir", metavar="DIR", help="parent of NAME (default: $PY_ENVS, "
                r"<drive>\dev\Anaconda\envs on Windows, else the current directory)"),
          CACHE_DIR),
    group("what",
          value("--python", metavar="VERSION", help="Python version, e.g. 3.12 or 3.12.4"),
          SPECS,
          value("-f", "--file", metavar="FILE", help="conda environment file (name, channels, dependencies, "
                "pip:); python/conda/mamba are added when it does not name them; NAME, --python and "
                "--channel given here override it"),
          value("--from-lock", metavar="FILE", help="install exactly the packages of this lock (an @EXPLICIT "
                "file with hashes, e.g. PREFIX/.mambaboot/lock.txt or `mambaboot lock` output, or a conda-lock "
                "file, of which this machine's platform); no solve"),
          repeated("--category", dest="categories", metavar="NAME",
                   help="a conda-lock file's category to install too (repeatable; default: main only, as "
                   "micromamba installs it; `conda-lock install` adds dev unless --no-dev)"),
          value("--environment", metavar="NAME", help="with a pixi.lock as --from-lock: the environment to "
                "install (default: default)"),
          flag("--offline", help="no downloads: everything must be in the package cache")),
    group("after creation",
          repeated("--overlay", dest="overlays", metavar="DIR",
                   help="copy DIR's contents into the environment (repeatable); never overwrites what is there"),
          repeated("--post-script", dest="post_scripts", metavar="PATH",
                   help="run PATH inside the activated environment once it verified (repeatable, in order): "
                   ".bat/.cmd in cmd.exe, .ps1 in PowerShell, anything else with sh; failure: exit 8")),
    group("micromamba", MICROMAMBA),
    group("behaviour",
          flag("--force", help="replace the target if it is an environment mambaboot created (never anything else)"),
          flag("--ignore-active-env",
               help="proceed in a shell with an active environment (children still get a clean one)"),
          flag("--no-cache-link", help="do not link PREFIX/pkgs to the package cache"),
          flag("--keep-failed", help="keep an environment that failed after micromamba ran, for inspection"),
          flag("--dry-run", help="print the plan and run the checks; write nothing")),
    output_options(verbose_help="show micromamba's command line and output"),
)


def register(subparsers) -> None:
    from mambaboot.shell.activation import powershell  # the PowerShell line, as every page gives it

    where = "C:\\envs\\myenv_3_12"
    add_command(
        subparsers, "create", help="create a new environment",
        description="Create a standalone environment with Python, conda and mamba in an empty or new directory.",
        example="mambaboot create myenv --python 3.12      # -> ./myenv_3_12 (or $PY_ENVS/myenv_3_12)\n\n"
                f"then, to use it in a new shell ({where} on Windows):\n"
                "  . ./myenv_3_12/.mambaboot/activate.sh               # sh, bash, zsh\n"
                f'  call "{where}\\.mambaboot\\activate.bat"  # cmd.exe\n'
                f"  {powershell.line(where)}\n"
                "      # PowerShell 5.1 and 7, under any execution policy and in ConstrainedLanguage mode",
        options=OPTIONS, run=run, codes=(3, 4, 5, 6, 7, 8),
    )


def _read_env_file(path: str, h):
    from mambaboot.pipeline import envfile

    return envfile.read(path, h.environ, h.windows, h.subdir)


def run(args) -> int:  # argparse's Namespace, or cli's for a command line options.read read
    from mambaboot.common import host, output
    from mambaboot.common.errors import UsageError
    from mambaboot.engine import network
    from mambaboot.pipeline import create
    from mambaboot.pipeline.plan import make_plan

    h = host.current()
    rep = reporter(args)
    said = host.own_packages(h)  # ARM64 Windows 10: refused before any file is read
    if said:
        rep.warn(said)
    chosen = categories(args)
    if args.environment and not args.from_lock:
        raise UsageError("--environment chooses an environment of a pixi.lock: give it with --from-lock")
    inputs = create_inputs(
        args, prefix=args.prefix, force=args.force, env_file=_read_env_file(args.file, h) if args.file else None,
        lock=read_lock(args.from_lock, h.subdir, chosen, args.environment) if args.from_lock else None,
        lock_path=args.from_lock,
        offline=args.offline, overlays=tuple(args.overlays), post_scripts=tuple(args.post_scripts),
    )
    plan = make_plan(h, inputs)
    if args.dry_run:
        # The checks first: a plan that the shell or the target refuses is not shown as one that would run.
        create.preflight(plan, h, args.ignore_active_env, rep)
        if args.json:
            output.emit_json({"dry_run": True, "plan": plan.shown()})
        else:
            output.say(output.plan_text(plan.shown()))  # said: no URL's password, no raw control character
        create.report_network(network.read(h.environ, h.windows), rep, plan)
        return 0
    result = create.create(plan, h, rep, ignore_active_env=args.ignore_active_env, keep_failed=args.keep_failed)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.plan.prefix} (python {result.finished.verification.python_version})")
    return 0
