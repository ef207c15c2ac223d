"""`mambaboot create`: a new, verified environment.

`create` with its options spelled out (cli._fast_tabled, with FLAGS, VALUED, REPEATED and
POSITIONAL below) calls run() without argparse: nothing argparse-level at the top here.
"""

import os

from mambaboot.commands._common import (
    add_cache_option,
    add_command,
    add_micromamba_options,
    add_output_options,
    add_spec_options,
    create_inputs,
    read_lock,
    reporter,
)


def register(subparsers) -> None:
    p = add_command(
        subparsers, "create", help="create a new environment",
        description="Create a standalone environment with Python, conda and mamba in an empty or new directory.",
        example="mambaboot create myenv --python 3.12      # -> ./myenv_3_12 (or $PY_ENVS/myenv_3_12)",
        codes=(3, 4, 5, 6, 7, 8),
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="environment name (default: py); --python 3.12 appends _3_12")
    where = p.add_argument_group("where")
    where.add_argument("-p", "--prefix", metavar="PATH", help="exact environment directory (instead of NAME)")
    where.add_argument("--envs-dir", metavar="DIR", help="parent of NAME (default: $PY_ENVS, "
                       r"<drive>\dev\Anaconda\envs on Windows, else the current directory)")
    add_cache_option(where)
    what = p.add_argument_group("what")
    what.add_argument("--python", metavar="VERSION", help="Python version, e.g. 3.12 or 3.12.4")
    add_spec_options(what)
    what.add_argument("-f", "--file", metavar="FILE", help="conda environment file (name, channels, dependencies, "
                      "pip:); python/conda/mamba are added when it does not name them; NAME, --python and "
                      "--channel given here override it")
    what.add_argument("--from-lock", metavar="FILE", help="install exactly the packages of this lock (an @EXPLICIT "
                      "file with hashes, e.g. PREFIX/.mambaboot/lock.txt or `mambaboot lock` output, or a conda-lock "
                      "file, of which this machine's platform); no solve")
    what.add_argument("--offline", action="store_true", help="no downloads: everything must be in the package cache")
    after = p.add_argument_group("after creation")
    after.add_argument("--overlay", dest="overlays", action="append", default=[], metavar="DIR",
                       help="copy DIR's contents into the environment (repeatable); never overwrites what is there")
    after.add_argument("--post-script", dest="post_scripts", action="append", default=[], metavar="PATH",
                       help="run PATH inside the activated environment once it verified (repeatable, in order): "
                       ".bat/.cmd in cmd.exe, .ps1 in PowerShell, anything else with sh; failure: exit 8")
    add_micromamba_options(p.add_argument_group("micromamba"))
    behaviour = p.add_argument_group("behaviour")
    behaviour.add_argument("--force", action="store_true",
                           help="replace the target if it is an environment mambaboot created (never anything else)")
    behaviour.add_argument("--ignore-active-env", action="store_true",
                           help="proceed in a shell with an active environment (children still get a clean one)")
    behaviour.add_argument("--no-cache-link", action="store_true", help="do not link PREFIX/pkgs to the package cache")
    behaviour.add_argument("--keep-failed", action="store_true",
                           help="keep an environment that failed after micromamba ran, for inspection")
    behaviour.add_argument("--dry-run", action="store_true", help="print the plan and run the checks; write nothing")
    add_output_options(p, verbose_help="show micromamba's command line and output")
    p.set_defaults(run=run)


def _read_env_file(path: str):
    from mambaboot.pipeline import envfile

    return envfile.read(path)


# The parser's options as cli._spelled_out reads them: spelling -> the Namespace attribute.
# The parser above is the reference; tests/test_startup_structure.py checks that these name
# exactly its options, each with its action, and that both read command lines the same way.
FLAGS = {"--offline": "offline", "--allow-http": "allow_http", "--force": "force",
         "--ignore-active-env": "ignore_active_env", "--no-cache-link": "no_cache_link",
         "--keep-failed": "keep_failed", "--dry-run": "dry_run", "--json": "json",
         "-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
VALUED = {"-p": "prefix", "--prefix": "prefix", "--envs-dir": "envs_dir", "--cache-dir": "cache_dir",
          "--python": "python", "-f": "file", "--file": "file", "--from-lock": "from_lock",
          "--micromamba": "micromamba", "--micromamba-version": "micromamba_version",
          "--micromamba-url": "micromamba_url", "--micromamba-sha256": "micromamba_sha256"}
REPEATED = {"--package": "packages", "-c": "channels", "--channel": "channels",
            "--overlay": "overlays", "--post-script": "post_scripts"}
POSITIONAL, POSITIONAL_REQUIRED = "name", False


def defaults() -> dict:
    """What the parser gives an option that is not on the command line."""
    return {**{k: False for k in FLAGS.values()}, **{k: None for k in VALUED.values()},
            **{k: [] for k in REPEATED.values()}, POSITIONAL: None}


def run(args) -> int:  # argparse's Namespace, or cli's _Arguments for a spelled-out command line
    from mambaboot.common import host, output
    from mambaboot.engine import network
    from mambaboot.pipeline import create
    from mambaboot.pipeline.plan import make_plan

    h = host.current()
    inputs = create_inputs(
        args, prefix=args.prefix, force=args.force, env_file=_read_env_file(args.file) if args.file else None,
        lock=read_lock(args.from_lock, h.subdir) if args.from_lock else None, lock_path=args.from_lock,
        offline=args.offline, overlays=tuple(args.overlays), post_scripts=tuple(args.post_scripts),
    )
    plan = make_plan(h, inputs)
    rep = reporter(args)
    if args.dry_run:
        # The checks first: a plan that the shell or the target refuses is not shown as one that would run.
        create.preflight(plan, h, args.ignore_active_env, rep)
        if args.json:
            output.emit_json({"dry_run": True, "plan": plan.to_dict()})
        else:
            print(output.plan_text(plan.to_dict()))
        create.report_network(network.read(h.environ, h.windows), rep, plan)
        return 0
    result = create.create(plan, h, rep, ignore_active_env=args.ignore_active_env, keep_failed=args.keep_failed)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.plan.prefix} (python {result.finished.verification.python_version})")
    return 0
