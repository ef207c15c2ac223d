"""Locking from specs for any platforms, creating nothing: the engine solves each platform in
a dry run (engine/solve.py) inside the same private home and package cache a create uses."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import untrusted

from mambaboot.common.files import confined, newdirs
from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host
from mambaboot.common.report import Reporter
from mambaboot.engine import child, micromamba, network, sandbox, solve
from mambaboot.pipeline.plan import Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

# The platforms conda-forge builds for: what `--platform` may name (conda's KNOWN_SUBDIRS, less the
# retired ones). A misspelt platform would otherwise solve to "nothing provides python".
PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l", "linux-32",
             "osx-64", "osx-arm64", "win-64", "win-32", "win-arm64", "emscripten-wasm32", "wasi-wasm32",
             "zos-z")
PIP_SCRATCH = "piplock"  # the kind of a pip lock's work directory, in the temporary directory


def check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    """The platforms asked for, each once, in the order given; an unknown one: exit 2."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise UsageError(f"--platform {unknown[0]!r} is not a conda platform; known: {', '.join(PLATFORMS)}")
    return tuple(dict.fromkeys(platforms))


def solve_platforms(plan: Plan, platforms: Sequence[str], host: Host, reporter: Reporter) -> dict[str, list]:
    """platform -> the packages micromamba's solve picks for it (engine.solve.Solved), in the order asked."""
    net = network.read(host.environ, host.windows)
    made = newdirs.make_dirs(plan.cache_dir)
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
                reporter.detail(child.command(cmd))
                solved[platform] = solve.run(cmd, env, platform)
                reporter.step(f"solved {platform}: {len(solved[platform])} packages")
            return solved
    finally:
        newdirs.remove_empty_dirs(made)


# pip's platform tags for a conda platform: the wheels a python of that platform installs. pip
# widens a macOS tag to the older releases and universal2 itself, and manylinux2014 to 2010 and 1
# (_get_custom_platforms, pip/_internal/utils/compatibility_tags.py); the PEP 600 tags it takes as given.
_WHEEL_TAGS = {
    "linux-64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"),
    "linux-aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"),
    "linux-ppc64le": ("manylinux_2_17_ppc64le", "manylinux2014_ppc64le", "linux_ppc64le"),
    "osx-64": ("macosx_10_13_x86_64",),
    "osx-arm64": ("macosx_11_0_arm64",),
    "win-64": ("win_amd64",),
    "win-32": ("win32",),
    "win-arm64": ("win_arm64",),
}


def lock_pip(lines: Sequence[str], cwd: str | None, solved: dict[str, list], environ, windows: bool,
             reporter: Reporter) -> dict[str, list]:
    """platform -> the pip section's wheels for it (lockfile.PipEntry), chosen by pip itself: `install
    --dry-run --report` for that platform's tags and python, binary wheels only, as the section
    says where to find them (its --index-url or --find-links, relative to cwd). A platform whose
    wheels pip cannot resolve: exit 2, naming it with pip's words."""
    import subprocess  # only when locking a pip section
    import sys
    import tempfile

    from mambaboot.common import isolation
    from mambaboot.common.files import workdir
    from mambaboot.environment import lockfile
    from mambaboot.pipeline import provision

    locked = {}
    env = isolation.for_pip(environ, windows)
    with workdir.WorkDir(tempfile.gettempdir(), PIP_SCRATCH) as scratch:
        requirements = os.path.join(scratch, "requirements.txt")
        confined.write_file(requirements, ("\n".join(lines) + "\n").encode())
        for platform, packages in solved.items():
            python = next((p.version for p in packages if p.name == "python"), None)
            tags = _WHEEL_TAGS.get(platform)
            if not python or not tags:
                raise UsageError(f"the pip section cannot be locked for {platform}: "
                                 + ("its solve has no python" if not python else "pip has no wheel tags for it"))
            report = os.path.join(scratch, f"{platform}.json")
            cmd = isolation.python(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                   "--disable-pip-version-check", "--report", report, "--only-binary", ":all:",
                   "--python-version", ".".join(python.split(".")[:2]), "--implementation", "cp",
                   *[a for tag in tags for a in ("--platform", tag)],
                   # pip takes a platform's tags only for a --target; with --dry-run nothing lands there
                   "--target", os.path.join(scratch, "never"), "-r", requirements)
            reporter.detail(child.command(cmd))
            try:
                done = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                                      text=True, errors="replace")
            except OSError as exc:
                raise UsageError(f"cannot run pip to lock the pip section: {exc}") from None
            if done.returncode != 0:
                said = (done.stderr.strip() or done.stdout.strip()).splitlines()
                raise UsageError(f"the pip section cannot be locked for {platform} (python {python}, "
                                 f"{', '.join(tags)}): pip found no wheels to satisfy it:\n  "
                                 + "\n  ".join(said[-6:]))
            try:
                said = untrusted.read_json(report, limit=untrusted.TEXT)
                artefacts = provision.report_artefacts(said)
                versions = {lockfile.canonical_name(i["metadata"]["name"]): (i["metadata"]["name"], i["metadata"]["version"])
                            for i in said.get("install") or ()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise UsageError(f"cannot read pip's report for {platform}: {exc}") from None
            unpinned = [n for n, (url, sha) in artefacts.items() if not (url and sha)]
            if unpinned:
                raise UsageError(f"the pip section cannot be locked for {platform}: no artefact with a sha256 "
                                 f"for {', '.join(sorted(unpinned))}")
            locked[platform] = [lockfile.PipEntry(versions[n][0], versions[n][1], url, sha)
                                for n, (url, sha) in sorted(artefacts.items())]
            reporter.step(f"pip for {platform}: {len(locked[platform])} wheels")
    return locked
