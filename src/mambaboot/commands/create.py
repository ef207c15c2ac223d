"""`mambaboot create`: a new, verified environment."""

import argparse

from mambaboot.commands._common import (
    add_cache_option, add_command, add_micromamba_options, add_output_options, add_spec_options, create_inputs, reporter,
)


def register(subparsers) -> None:
    p = add_command(
        subparsers, "create", help="create a new environment",
        description="Create a standalone environment with Python, conda and mamba in an empty or new directory.",
        example="mambaboot create myenv --python 3.12      # -> ./myenv_3_12 (or $PY_ENVS/myenv_3_12)",
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


def run(args: argparse.Namespace) -> int:
    from mambaboot import create, host, output
    from mambaboot.plan import make_plan

    h = host.current()
    plan = make_plan(h, create_inputs(args, prefix=args.prefix, force=args.force))
    rep = reporter(args)
    if args.dry_run:
        if args.json:
            output.emit_json({"dry_run": True, "plan": plan.to_dict()})
        else:
            print(output.plan_text(plan.to_dict()))
        create.preflight(plan, h, args.ignore_active_env, rep)
        return 0
    result = create.create(plan, h, rep, ignore_active_env=args.ignore_active_env, keep_failed=args.keep_failed)
    if args.json:
        output.emit_json(result.to_dict())
    else:
        rep.step(f"done: {result.plan.prefix} (python {result.finished.verification.python_version})")
    return 0
