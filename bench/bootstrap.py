"""Benchmark: what a bootstrap script adds to `mambaboot create` for its private Python.

bootstrap.sh makes a private Python with micromamba in a work directory of its own and hands over
to `mambaboot.pyz create` on it; `create` alone, on the same inputs (the suite's channel, the
micromamba stand-in given as --micromamba, one package cache, warmed by a first run of each), is
the baseline. The two run interleaved, each first every other round (_common.alternated), and
the ratio of the medians is printed with the difference: the script's extra time, which is the
private Python's micromamba run and the zipapp's start. Wall time: the script's cost is mostly
child processes. These machines are shared: only the ratio, measured side by side, means anything.

    python bench/bootstrap.py [-n N]
"""

import shutil
import statistics
import sys

from _common import REPO, alternated, clean_env, runs, timed, workspace  # noqa: E402  (also puts the repo on sys.path)

from tests.support.channel import build_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402
from tools.build_zipapp import build  # noqa: E402

SCRIPT = REPO / "bootstrap" / "bootstrap.sh"


def main() -> int:
    n = runs(__doc__, 5)
    with workspace("envs", "cache") as root:
        standin = make_standin(root / "standin" / "micromamba")
        channel = channel_url(build_channel(root / "channel"))
        zipapp = root / "mambaboot.pyz"
        build(zipapp)
        env = clean_env(root)
        common = ["-c", channel, "--micromamba", str(standin), "--cache-dir", str(root / "cache"),
                  "--envs-dir", str(root / "envs")]
        sides = (
            ["sh", str(SCRIPT), "demo", *common, "--zipapp", str(zipapp)],
            [sys.executable, str(zipapp), "create", "demo", *common],
        )

        def side(i: int, k: int) -> float:
            took = timed(sides[k], env)
            shutil.rmtree(root / "envs" / "demo")
            return took

        for k in (0, 1):  # warm-up: the package cache filled, both pythons' files read once
            side(-1, k)
        script, alone = alternated(n, side)
    a, b = statistics.median(script), statistics.median(alone)
    print(f"bootstrap.sh (private Python + create): median {a * 1000:.0f} ms over {n} runs")
    print(f"mambaboot create alone, same inputs:     median {b * 1000:.0f} ms over {n} runs")
    print(f"ratio {a / b:.2f}; the script's extra time {1000 * (a - b):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
