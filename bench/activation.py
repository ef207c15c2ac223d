"""Benchmark: activation, `run` and `doctor`, against their floors, in one run.

Prints (these machines are noisy; only numbers measured side by side mean anything):
  - sourcing PREFIX/.mambaboot/activate.sh in bash versus `bash -c true` (target: < 5 ms more);
  - `mambaboot run PREFIX -- python -c pass` versus the environment's python directly
    (target: ratio <= 2; the tool's own Python start-up is the floor, so it is printed too,
    and the same run under `python -I -S`, which skips site-packages);
  - `mambaboot doctor` (target: < 150 ms), next to `python -c pass` for scale.

Uses an environment made by `mambaboot create` from the test suite's local channel and
micromamba stand-in, with this checkout's code.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import MAMBABOOT, clean_env, timed  # noqa: E402  (also puts the repo on sys.path)

from tests.support.channel import build_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402

# The same code without site-packages (stdlib only, as from a zipapp run with python -I -S):
# what is left is mambaboot's own cost, not the start-up of whatever Python runs it.
LEAN = [sys.executable, "-I", "-S", *MAMBABOOT[1:]]


def _medians(n: int, env: dict, *argvs) -> list:
    """Median seconds of each command, the commands interleaved so drift hits all alike."""
    for argv in argvs:  # warm-up, and proof that each command works (doctor: 1 means findings)
        code = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if code.returncode not in (0, 1) or (code.returncode and "doctor" not in argv):
            raise SystemExit(f"{argv[-3:]} failed ({code.returncode}): {code.stderr}")
    runs = [[timed(argv, env, check=False) for argv in argvs] for _ in range(n)]
    return [statistics.median(r[i] for r in runs) for i in range(len(argvs))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="runs per command (median is reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mambaboot-bench-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        (root / "tmp").mkdir()
        env = clean_env(root)
        prefix = root / "env"
        subprocess.run([*MAMBABOOT, "create", "-q", "--prefix", str(prefix), "--cache-dir", str(root / "cache"),
                        "-c", channel_url(build_channel(root / "channel")), "--micromamba", str(make_standin(root / "mm"))],
                       env=env, check=True)

        bare, sourced = _medians(args.n, env, ["bash", "-c", "true"],
                                 ["bash", "-c", f'. "{prefix}/.mambaboot/activate.sh"'])
        print(f"activate.sh: bash -c true {bare * 1000:.1f} ms, sourcing activate.sh {sourced * 1000:.1f} ms, "
              f"+{(sourced - bare) * 1000:.1f} ms (target < 5 ms)")

        direct, run, lean, floor = _medians(
            args.n, env, [str(prefix / "bin" / "python"), "-c", "pass"],
            [*MAMBABOOT, "run", str(prefix), "--", "python", "-c", "pass"],
            [*LEAN, "run", str(prefix), "--", "python", "-c", "pass"], [sys.executable, "-c", "pass"])
        print(f"run: python directly {direct * 1000:.1f} ms, mambaboot run {run * 1000:.1f} ms, "
              f"ratio {run / direct:.2f} (target <= 2; this interpreter's own start-up is {floor * 1000:.1f} ms); "
              f"with python -I -S {lean * 1000:.1f} ms, ratio {lean / direct:.2f}")

        floor, doctor = _medians(args.n, env, [sys.executable, "-c", "pass"], [*MAMBABOOT, "doctor", "--json"])
        print(f"doctor: {doctor * 1000:.1f} ms (target < 150 ms); python -c pass {floor * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
