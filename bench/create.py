"""Benchmark: `mambaboot create` versus the same engine invoked directly, and how its own time grows.

For each point (packages, files) a channel is built (the test suite's benchmark channel and
micromamba stand-in), its package cache warmed, and N creates of each side run interleaved, so
drift hits both sides. mambaboot's own time at a point is the difference of the medians; over
all points it is fitted by least squares to

    overhead = a + b * packages + c * files      (targets: a < 80 ms, c < 2 us/file)

with the package and file counts read from the created environment. The same fit is made of
mambaboot's own time measured from inside each run (the whole run less the engine's), which the
machine's noise reaches far less than a difference of two runs, and of that time less what
create waits, its own work done, for the environment's python, conda and mamba to answer
verification: mambaboot's code alone, the goal's measure. That wait is the installed conda's
start, not ours: ~30 ms for the stand-in's, far more for a real one before conda 26.5.0 (its
`--version` built the whole parser and loaded the plugins: conda/cli/main.py main_subshell in
24.11), less since (conda/conda 7bfdf3916, "Fast path for conda --version / -V", #15878).
A fit's verdict is only as good as its noise: where its largest residual is wider than the
distance between its fixed part and the target, it says so. Also printed: the ratio at
each point, what verification costs at the ~70-package point, `mambaboot --version` against
`python -c pass`, and the machine's load (these machines are shared: only figures measured side
by side mean anything).

    python bench/create.py [-n N] [--quick] [--micromamba PATH] [--python PATH]

With --micromamba PATH (a real micromamba) both sides run that engine at one realistic point,
about 70 packages and 10,000 files, and the verdict is the goal's measure against the engine's own
run inside mambaboot: the median over runs of each run less its engine (create's own time, its
wait on verification's programs included), at most 5% of the engine's median run; the wait and
mambaboot's code alone are printed beside it, and the side-by-side difference of medians as a
figure, not a verdict (it is noisy, even negative, where each side's run is ~0.8 s).

With --python PATH mambaboot is run by that interpreter (a plain `python -m venv`'s, say) instead of
the one running the benchmark, which needs the test command's libraries to build the channel.

Points: 3 packages (python, conda, mamba: ~1,400 files), then 70, 300 and 1000 packages at
~10,000 and ~50,000 files; --quick measures 3, 70 and 1000 at ~10,000 and 70 at ~50,000.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence, Tuple

from _common import REPO, mambaboot_by, clean_env, settle, timed, workspace  # noqa: E402  (also puts the repo on sys.path)

from tests.support.channel import build_benchmark_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402

POINTS = ((3, 0), (70, 10_000), (300, 10_000), (1000, 10_000), (70, 50_000), (300, 50_000), (1000, 50_000))
QUICK = ((3, 0), (70, 10_000), (1000, 10_000), (70, 50_000))
TARGET_A_MS, TARGET_C_US = 80, 2


def fit(rows: Sequence[Tuple[float, float, float]]) -> Tuple[float, float, float]:
    """(a, b, c) minimising sum (a + b*x + c*y - z)^2 over rows (x, y, z): the normal
    equations, solved by Gaussian elimination with partial pivoting."""
    basis = [(1.0, x, y) for x, y, _ in rows]
    m = [[sum(u[i] * u[j] for u in basis) for j in range(3)] + [sum(u[i] * r[2] for u, r in zip(basis, rows))]
         for i in range(3)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(3):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [a - f * b for a, b in zip(m[r], m[col])]
    return tuple(m[i][3] / m[i][i] for i in range(3))


def verdict(a_ms: float, c_us: float, worst_ms: float) -> str:
    """Met or not, and whether the fit's noise could turn the fixed part's answer."""
    met = a_ms < TARGET_A_MS and c_us < TARGET_C_US
    said = f"{'met' if met else 'NOT met'}; largest residual {worst_ms:.0f} ms"
    margin = abs(a_ms - TARGET_A_MS)
    if worst_ms > margin:
        said += f", wider than the fixed part's {margin:.0f} ms from the target: undecided by this fit"
    return said


TARGET_SHARE = 0.05


def engine_verdict(runs: Sequence[float], engines: Sequence[float], waits: Sequence[float]) -> str:
    """The --micromamba verdict line: create's own time (each run less its engine, its wait on
    verification's programs included: median over runs) against the engine's median run, with the
    wait and mambaboot's code alone (the own time less that wait) beside it. Times in seconds, one of
    each per run."""
    engine = statistics.median(engines)
    code = statistics.median(t - e - w for t, e, w in zip(runs, engines, waits))
    own = statistics.median(t - e for t, e in zip(runs, engines))
    share = own / engine
    return (f"verdict: {'met' if share <= TARGET_SHARE else 'NOT met'}: own time {own * 1000:.0f} ms, "
            f"{share * 100:.1f}% of the engine's run {engine * 1000:.0f} ms (target: at most {TARGET_SHARE:.0%}); "
            f"of it waiting on verification's programs {statistics.median(waits) * 1000:.0f} ms, mambaboot's code "
            f"{code * 1000:.0f} ms ({code / engine * 100:.1f}%) ({len(runs)} runs)")


def counted(prefix: Path) -> Tuple[int, int]:
    """(packages, files) as the environment's conda-meta lists them."""
    records = [json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json")]
    return len(records), sum(len(r.get("files") or ()) for r in records)


# mambaboot with the engine's run timed from inside (child.stream is where create waits for it),
# and the time it then waits on verification's programs once its own work is done (Checks.result,
# wrapped once the engine has run: verify is imported while the engine runs, and importing it
# sooner would move that import before the engine). Its own time is the whole run less the
# engine; less the wait too, it is mambaboot's code alone. One line per run: "engine wait".
_ENGINE_TIMED = (
    "import sys, time; sys.path.insert(0, sys.argv.pop(1)); out = sys.argv.pop(1)\n"
    "from mambaboot.engine import child\n"
    "real = child.stream\n"
    "spent = []\n"
    "def waited(result):\n"
    "    def timed_result(self):\n"
    "        start = time.perf_counter()\n"
    "        try:\n            return result(self)\n"
    "        finally:\n"
    "            open(out, 'a').write(f'{spent[0]} {time.perf_counter() - start}\\n')\n"
    "    return timed_result\n"
    "def stream(*a, **k):\n"
    "    start = time.perf_counter()\n"
    "    try:\n        return real(*a, **k)\n"
    "    finally:\n"
    "        spent.append(time.perf_counter() - start)\n"
    "        checks = sys.modules['mambaboot.pipeline.verify'].Checks\n"
    "        checks.result = waited(checks.result)\n"
    "child.stream = stream\n"
    "from mambaboot.cli import entry; entry(sys.argv[1:])"
)


def measure_point(root: Path, standin: Path, env: dict, packages: int, files: int, n: int, python: str):
    """(packages, files, [direct s], [mambaboot s], [mambaboot's engine s], [its wait on verification s],
    directory) at one point."""
    here = root / f"p{packages}-{files}"
    for d in ("envs", "direct"):
        (here / d).mkdir(parents=True)
    channel = channel_url(build_benchmark_channel(here / "channel", packages, files))
    extra = ["bench-meta"] if packages > 3 else []  # three: python, conda and mamba alone
    cache = here / "cache"
    env_direct = {**env, "CONDA_PKGS_DIRS": str(cache / "Python" / "pkgs")}  # where mambaboot keeps packages
    engine_log = here / "engine.txt"

    # Whatever the last run left to write out (50k hard links, a deleted tree) is written, and its
    # journal work done, before the next starts: otherwise the next one pays for it (_common.settle).
    def direct(i: int) -> float:
        prefix = here / "direct" / f"d{i}"
        settle(here)
        # The engine's command line as mambaboot gives it (engine/micromamba.py create_command):
        # shortcuts off, the same specs; only the root prefix is the environment, not a private home.
        return timed([str(standin), "create", "--yes", "--no-rc", "--override-channels", "-c", channel,
                      "--prefix", str(prefix), "--root-prefix", str(prefix), "--no-shortcuts",
                      "python", "conda", "mamba", *extra], env_direct)

    def tool(i: int) -> float:
        settle(here)
        return timed([python, "-c", _ENGINE_TIMED, str(REPO / "src"), str(engine_log),
                      "create", f"t{i}", "-q", "-c", channel, "--micromamba", str(standin),
                      "--cache-dir", str(cache), "--envs-dir", str(here / "envs"),
                      *[a for p in extra for a in ("--package", p)]], env)

    tool(-1)  # warms the package cache (and the index cache) both sides use
    direct(-1)
    got = counted(here / "direct" / "d-1")
    engine_log.unlink()
    ds, ts = [], []
    for i in range(n):
        # Each side goes first every other round: drift within a round hits both ways.
        if i % 2:
            ts.append(tool(i))
            ds.append(direct(i))
        else:
            ds.append(direct(i))
            ts.append(tool(i))
        shutil.rmtree(here / "direct" / f"d{i}")
        shutil.rmtree(here / "envs" / f"t{i}")
    runs = [line.split() for line in engine_log.read_text().splitlines()]
    return (*got, ds, ts, [float(r[0]) for r in runs], [float(r[1]) for r in runs], here)


def verification_ms(prefix: Path, env: dict, n: int) -> float:
    """The three programs create's verification runs in parallel, warm: the environment's python and
    conda (a python program) and mamba (a native one, as mamba 2 is)."""
    def once() -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen([str(prefix / "bin" / tool), *arg], env=env, stdout=subprocess.DEVNULL)
                 for tool, arg in (("python", ["-c", "import json, sys"]), ("conda", ["--version"]),
                                   ("mamba", ["--version"]))]
        for p in procs:
            p.wait()
        return time.perf_counter() - start
    return statistics.median(once() for _ in range(n)) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=None, help="runs per side and point (median; default 5, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="four points instead of seven")
    parser.add_argument("--micromamba", metavar="PATH", help="a real micromamba: one point, ~70 packages, ~10,000 files")
    parser.add_argument("--python", metavar="PATH", default=sys.executable,
                        help="the interpreter that runs mambaboot (default: this one)")
    args = parser.parse_args()
    n = args.n or (3 if args.quick else 5)
    mambaboot = mambaboot_by(args.python)
    before = os.getloadavg()
    results = []
    with workspace() as root:
        standin = Path(args.micromamba).absolute() if args.micromamba else make_standin(root / "micromamba")
        env = clean_env(root)
        verify = None
        for packages, files in ((70, 10_000),) if args.micromamba else (QUICK if args.quick else POINTS):
            pk, fi, ds, ts, engine, waits, here = measure_point(root, standin, env, packages, files, n, args.python)
            d, t = statistics.median(ds), statistics.median(ts)
            own = statistics.median(a - b for a, b in zip(ts, engine))
            code = statistics.median(a - b - c for a, b, c in zip(ts, engine, waits))
            results.append((pk, fi, t - d, min(ts) - min(ds), own, code))
            print(f"{pk:5d} packages {fi:6d} files: direct engine {d * 1000:6.0f} ms, mambaboot {t * 1000:6.0f} ms "
                  f"(ratio {t / d:.3f}, difference of medians {(t - d) * 1000:5.0f} ms, of minimums "
                  f"{(min(ts) - min(ds)) * 1000:5.0f} ms); own time (run less its engine) {own * 1000:5.0f} ms, "
                  f"of it waiting on verification's programs {statistics.median(waits) * 1000:3.0f} ms",
                  flush=True)
            if args.micromamba:
                print(f"side by side against {standin} run directly: {(t / d - 1) * 100:+.1f}% of the median "
                      "(not the verdict: a difference of two noisy runs)", flush=True)
                print(engine_verdict(ts, engine, waits), flush=True)
            if packages == 70 and verify is None:
                subprocess.run([*mambaboot, "create", "v", "-q", "-c", channel_url(here / "channel"),
                                "--micromamba", str(standin), "--cache-dir", str(here / "cache"),
                                "--envs-dir", str(here / "envs"), "--package", "bench-meta"], env=env, check=True,
                               stdout=subprocess.DEVNULL)
                verify = verification_ms(here / "envs" / "v", env, n)
            shutil.rmtree(here)
        startup = [(timed([args.python, "-c", "pass"], env), timed([*mambaboot, "--version"], env))
                   for _ in range(max(n, 10))]
    after = os.getloadavg()
    base = statistics.median(p[0] for p in startup)
    if args.micromamba:  # one point: no fit
        print(f"load average before {before[0]:.2f}, after {after[0]:.2f} ({os.cpu_count()} CPUs)")
        return 0
    fixed = {}
    for k, what in ((5, "mambaboot's code, the goal (each run less its engine and its wait on verification's programs)"),
                    (4, "own time (each run less its engine, median)"),
                    (2, "side by side (difference of medians)"), (3, "side by side (difference of minimums)")):
        a, b, c = fit([(r[0], r[1], r[k]) for r in results])
        worst = max(abs(a + b * r[0] + c * r[1] - r[k]) for r in results)
        fixed[k] = a
        print(f"fit, {what}: {a * 1000:.0f} ms + {b * 1e6:.0f} us/package + {c * 1e6:.2f} us/file "
              f"(a < {TARGET_A_MS} ms, c < {TARGET_C_US} us/file: {verdict(a * 1000, c * 1e6, worst * 1000)})")
    print(f"  {len(results)} points, {n} runs per side each")
    if verify is not None:
        print(f"  of the fixed part: verification (python, conda and mamba of the new env, warm, in parallel) ~{verify:.0f} ms")
    # An absolute target on a shared machine moves with its load: the same fixed parts counted in
    # this run's Python starts (the 80 ms was ~4-5 of the 15-22 ms it measured them at).
    print(f"  fixed parts in this run's python -c pass: code {fixed[5] / base:.1f}, own time {fixed[4] / base:.1f}")
    ver = statistics.median(p[1] for p in startup)
    print(f"startup: python -c pass {base * 1000:.1f} ms, mambaboot --version {ver * 1000:.1f} ms, "
          f"ratio {ver / base:.2f} (target <= 1.3)")
    print(f"load average before {before[0]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} "
          f"({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
