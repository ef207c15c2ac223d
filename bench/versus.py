"""Benchmark: this checkout's mambaboot against an earlier revision's, command by command.

    python bench/versus.py REV [-n N]

REV's src/ is taken with `git archive` into a temporary directory; both sides run from source, by
the same interpreters, on the same channel, stand-in micromamba and cache, interleaved round by
round (each side goes first every other round, after _common.settle), so that drift and the
machine's load hit both. The stand-ins are this checkout's: a revision that drove micromamba
differently is measured as it drives today's stand-in. A command REV does not have, or that
fails there, is shown as n/a.

Rows: `--version` (by this interpreter); `run P -- python -c pass` (by P's python, as the bootstrap
scripts run mambaboot); `create` of the 3-package environment (python, conda, mamba) with a warm
cache; `create --dry-run -f environment.yml` (reading an environment file: its YAML reader's import and
read, the plan, no engine run); `create` as the bootstrap scripts hand over to it, by the private
Python micromamba made for them, under `-I`. Each row prints both medians and this checkout's time
as a share of REV's.
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from _common import REPO, alternated, clean_env, engine_made, handover, mambaboot_by, workspace  # noqa: E402  (also puts the repo on sys.path)

from tests.support.micromamba_standin import make_standin  # noqa: E402


def _src_of(rev: str, dest: Path) -> Path:
    """REV's src/ under dest."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "src"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest)
    return dest / "src"


def _once(argv, env) -> "float | None":
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start if done.returncode == 0 else None


def _remove(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _row(name: str, n: int, root: Path, sides, argv_of, before=None, after=None) -> None:
    """sides: (label, src) pairs; argv_of(src, i, k) -> argv for run i of side k; before/after(i) around round i."""
    times = alternated(n, lambda i, k: _once(argv_of(sides[k][1], i, k), ENV), root, before, after)
    medians = [None if None in t else statistics.median(t) for t in times]
    shown = "  ".join(f"{label} {'n/a' if m is None else f'{m * 1000:.1f} ms'}" for (label, _), m in zip(sides, medians))
    share = "n/a" if None in medians else f"{medians[0] / medians[1]:.2f}"
    print(f"{name:8} {shown}  this/REV {share}", flush=True)


def main() -> int:
    global ENV
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", metavar="REV", help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("-n", type=int, default=9, help="runs per side and row (the median is reported)")
    args = parser.parse_args()
    before = os.getloadavg()
    with workspace("envs") as root:
        sides = (("this", REPO / "src"), (args.rev, _src_of(args.rev, root / "rev")))
        ENV = clean_env(root)
        standin = make_standin(root / "micromamba")
        channel, made = engine_made(root, standin, ENV)
        own = str(made / "bin" / "python")
        create = ["-q", "-c", channel, "--micromamba", str(standin), "--cache-dir", str(root / "cache"),
                  "--envs-dir", str(root / "envs")]
        for k, (_, src) in enumerate(sides):  # warms the package cache and each side's memo of the micromamba
            subprocess.run([*mambaboot_by(sys.executable, src), "create", f"warm{k}", *create], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        _row("version", max(args.n, 15), root, sides, lambda src, i, k: [*mambaboot_by(sys.executable, src), "--version"])
        _row("run", max(args.n, 15), root, sides,
             lambda src, i, k: [*mambaboot_by(own, src), "run", str(made), "--", "python", "-c", "pass"])
        _row("create", args.n, root, sides,
             lambda src, i, k: [*mambaboot_by(sys.executable, src), "create", f"c{i}-{k}", *create],
             after=lambda i: _remove(root / "envs" / f"c{i}-0", root / "envs" / f"c{i}-1"))

        envfile = root / "environment.yml"
        envfile.write_text(f"name: e\nchannels:\n  - {channel}\ndependencies:\n  - python\n  - conda\n  - mamba\n",
                           encoding="utf-8")
        dry = ["--dry-run", "-f", str(envfile), "-q", "--micromamba", str(standin), "--cache-dir", str(root / "cache"),
               "--envs-dir", str(root / "envs")]  # the file's channel, no -c
        _row("envfile", max(args.n, 15), root, sides,
             lambda src, i, k: [*mambaboot_by(sys.executable, src), "create", *dry])

        # own is also what a bootstrap script's private Python is: micromamba's python, run under -I
        _row("handover", args.n, root, sides,
             lambda src, i, k: [own, "-I", *mambaboot_by(own, src)[1:], *handover(root / "handed" / f"h{i}-{k}",
                                                                                root / "cache", channel, standin)],
             after=lambda i: _remove(root / "handed" / f"h{i}-0", root / "handed" / f"h{i}-1"))
    after = os.getloadavg()
    print(f"load average before {before[0]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} "
          f"({os.cpu_count()} CPUs)")
    return 0


ENV: dict = {}

if __name__ == "__main__":
    sys.exit(main())
