"""Benchmark: recreating from a lock versus a normal create, and `mambaboot list` over 50 environments.

Prints, measured side by side in one run (these machines are noisy):
  - recreate: median of N `create --from-lock` runs / median of N normal creates, warm package
    cache for both (target: below 1, since a lock needs no solve);
  - list: median wall time of `mambaboot list` over 50 environments (target: under 0.5 s),
    next to `python -c pass` for scale, and `list --size` (which walks every file) for contrast.

Uses the test suite's benchmark channel (~70 packages, ~10,000 files) and micromamba stand-in.
"""

import os
import statistics
import sys

from _common import MAMBABOOT, fake_envs, runs, timed, workspace  # noqa: E402  (also puts the repo on sys.path)

from tests.support.channel import build_benchmark_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402


def main() -> int:
    count = runs(__doc__, 5)
    with workspace("envs", "many") as root:
        channel = channel_url(build_benchmark_channel(root / "channel"))
        standin = make_standin(root / "micromamba")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
        env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"))
        common = ["-q", "--micromamba", str(standin), "--cache-dir", str(root / "cache"), "--envs-dir", str(root / "envs")]

        def normal(i: int) -> float:
            return timed([*MAMBABOOT, "create", f"normal{i}", "-c", channel, "--package", "bench-meta", *common], env)

        normal(-1)  # warms the package cache and the micromamba version note
        lock = root / "envs" / "normal-1" / ".mambaboot" / "lock.txt"

        def from_lock(i: int) -> float:
            return timed([*MAMBABOOT, "create", f"locked{i}", "--from-lock", str(lock), *common], env)

        pairs = [(normal(i), from_lock(i)) for i in range(count)]  # interleaved: drift hits both sides
        n = statistics.median(p[0] for p in pairs)
        f = statistics.median(p[1] for p in pairs)
        print(f"recreate: normal create {n * 1000:.0f} ms, create --from-lock {f * 1000:.0f} ms, "
              f"ratio {f / n:.3f} (target < 1: no solve)")

        fake_envs(root / "envs" / "normal-1", root / "many", 50, with_lib=True)
        listing = [*MAMBABOOT, "list", "--envs-dir", str(root / "many"), "--cache-dir", str(root / "cache")]
        samples = [(timed([sys.executable, "-c", "pass"], env), timed(listing, env)) for _ in range(max(count, 10))]
        base = statistics.median(r[0] for r in samples)
        lst = statistics.median(r[1] for r in samples)
        sized = statistics.median(timed(listing + ["--size"], env) for _ in range(3))
        print(f"list: 50 environments in {lst * 1000:.0f} ms (target < 500 ms; python -c pass {base * 1000:.0f} ms); "
              f"with --size {sized * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
