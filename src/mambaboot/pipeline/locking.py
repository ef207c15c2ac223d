"""Locking from specs for any platforms, creating nothing: the engine solves each platform in
a dry run (engine/solve.py) inside the same private home and package cache a create uses."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import fsops
from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host
from mambaboot.common.report import Reporter
from mambaboot.engine import micromamba, network, sandbox, solve
from mambaboot.pipeline.plan import Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

# The platforms conda-forge builds for: what `--platform` may name (conda's KNOWN_SUBDIRS, less the
# retired ones). A misspelt platform would otherwise solve to "nothing provides python".
PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l", "linux-32",
             "osx-64", "osx-arm64", "win-64", "win-32", "win-arm64", "emscripten-wasm32", "wasi-wasm32",
             "zos-z")


def check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    """The platforms asked for, each once, in the order given; an unknown one: exit 2."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise UsageError(f"--platform {unknown[0]!r} is not a conda platform; known: {', '.join(PLATFORMS)}")
    return tuple(dict.fromkeys(platforms))


def solve_platforms(plan: Plan, platforms: Sequence[str], host: Host, reporter: Reporter) -> dict[str, list]:
    """platform -> the packages micromamba's solve picks for it (engine.solve.Solved), in the order asked."""
    net = network.read(host.environ, host.windows)
    made = fsops.make_dirs(plan.cache_dir)
    try:
        with sandbox.private_home(plan.cache_dir) as home:
            env = sandbox.child_environ(host.environ, home, plan.pkgs_dirs, host.windows, net)
            binary = micromamba.obtain(plan.micromamba, plan.cache_dir, env, reporter.progress, net)
            reporter.step(f"micromamba: {binary.version} (sha256 {binary.sha256[:12]})")
            root = micromamba.root_prefix(home, plan.windows)
            # A target that never exists: the dry run writes nothing there, nor anywhere but the home.
            target = os.path.join(home, "solve-target")
            solved = {}
            for platform in platforms:
                cmd = solve.command(binary.path, plan.channels, plan.specs, platform, target, root, plan.offline)
                reporter.detail("$ " + " ".join(cmd))
                solved[platform] = solve.run(cmd, env, platform)
                reporter.step(f"solved {platform}: {len(solved[platform])} packages")
            return solved
    finally:
        fsops.remove_empty_dirs(made)
