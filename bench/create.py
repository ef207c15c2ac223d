"""Benchmark: `mambaboot create` versus the same engine invoked directly, in one run.

Prints ratios (these machines are noisy; only ratios measured side by side mean anything):
  - create: median of N mambaboot runs / median of N direct engine runs, and the fixed
    overhead in ms (target: ratio <= 1.10, overhead <= 60 ms);
  - `python -m mambaboot --version` / `python -c pass` (target: <= 1.5x).

Uses the test suite's benchmark channel (~70 packages, ~10,000 files) and micromamba stand-in,
with a warm package cache, so both sides do the same solve and link.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import MAMBABOOT, clean_env, runs, timed, workspace  # noqa: E402  (also puts the repo on sys.path)

from tests.support.channel import build_benchmark_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402


def main() -> int:
    n = runs(__doc__, 5)
    with workspace("envs") as root:
        channel = channel_url(build_benchmark_channel(root / "channel"))
        standin = make_standin(root / "micromamba")
        cache = root / "cache"
        pkgs = cache / "Python" / "pkgs"
        env = clean_env(root)
        specs = ["python", "conda", "mamba", "bench-meta"]

        def direct(i: int) -> float:
            prefix = root / "envs" / f"direct{i}"
            return timed([str(standin), "create", "--yes", "--no-rc", "--override-channels", "-c", channel,
                           "--prefix", str(prefix), "--root-prefix", str(prefix), *specs],
                          {**env, "CONDA_PKGS_DIRS": str(pkgs)})

        def tool(i: int) -> float:
            return timed([*MAMBABOOT, "create", f"tool{i}", "-q", "-c", channel,
                           "--micromamba", str(standin), "--cache-dir", str(cache), "--envs-dir", str(root / "envs"),
                           "--package", "bench-meta"], env)

        tool(-1)  # warm the package cache and the micromamba version note
        direct(-1)
        pairs = [(direct(i), tool(i)) for i in range(n)]  # interleaved: drift hits both sides
        d = statistics.median(p[0] for p in pairs)
        t = statistics.median(p[1] for p in pairs)
        print(f"create: direct engine {d * 1000:.0f} ms, mambaboot {t * 1000:.0f} ms, "
              f"ratio {t / d:.3f} (target <= 1.10), fixed overhead {(t - d) * 1000:.0f} ms (target <= 60)")

        # Where the overhead goes: the tool's own interpreter start, and the verification that
        # runs the new environment's python, conda and mamba (in parallel) as a shell would.
        def verification(prefix: Path) -> float:
            start = time.perf_counter()
            procs = [subprocess.Popen([str(prefix / "bin" / tool), *arg], env=env, stdout=subprocess.DEVNULL)
                     for tool, arg in (("python", ["-c", "import json, sys"]), ("conda", ["--version"]),
                                       ("mamba", ["--version"]))]
            for p in procs:
                p.wait()
            return time.perf_counter() - start

        verify_ms = statistics.median(verification(root / "envs" / f"direct{i}") for i in range(n)) * 1000
        print(f"  of which: verification (3 interpreters of the new env, warm) ~{verify_ms:.0f} ms")

        py = [sys.executable]
        startup = [(timed(py + ["-c", "pass"], env), timed(py + ["-m", "mambaboot", "--version"], env))
                   for _ in range(max(n, 10))]
        base = statistics.median(p[0] for p in startup)
        ver = statistics.median(p[1] for p in startup)
        print(f"startup: python -c pass {base * 1000:.1f} ms, mambaboot --version {ver * 1000:.1f} ms, "
              f"ratio {ver / base:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
