"""Benchmark: start-up and everyday commands, each a ratio against its baseline measured in the same run.

Every pair (or group) of commands is run interleaved, N times, and the medians compared; the
machine's load average is printed with the figures (these machines are shared and noisy: only
ratios measured side by side mean anything; the tests never time anything).

    python3 bench/perf.py [-n N]                     # print the figures
    python3 bench/perf.py --table docs/benchmarks.md # also rewrite that page's performance table

Rows (ROWS below; tests/test_bench_table.py checks the page's table has exactly these):
start-up (--version, --help) against `python -c pass`; `run` against the environment's python P
alone, mambaboot run by P's python (from the checkout, and as the zipapp: Python's runpy and its
imports come first), by this venv's python with its site and without;
`cache info` on the benchmark cache, with the package sizes `cache clean` leaves and (cache-info-cold) with
its memo removed before each run, as on its first run (and, for that one's floor, a bare walk that
lstat's each file) and `list` of 500 environments against `python -c pass`;
`remove --yes` against `rm -rf` of the same tree (written out to disk first, as an environment
made earlier is; and, remove-fresh, moments after it was copied); the zipapp against the checkout; `create` with
the package cache on another file system (a tmpfs: every file copied) against the same volume;
`create` of the 3-package environment as the bootstrap scripts hand over to it (their private
Python, made by micromamba, running `-I mambaboot.pyz create ... --micromamba M --micromamba-sha256
HEX`, the package cache warm) against the engine alone making the same environment from that cache.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import (  # noqa: E402  (also puts the repo on sys.path)
    MAMBABOOT, alternated, clean_env, engine_create, engine_made, fake_envs, handover, mambaboot_by, timed,
)

from tests.support.channel import build_benchmark_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402

# (key, what is measured, baseline, target ratio)
ROWS = (
    ("version", "`mambaboot --version`", "`python -c pass`", "1.3"),
    ("help", "`mambaboot --help`", "`python -c pass`", "1.3"),
    ("run", "`mambaboot run P -- python -c pass`, run by P's python", "P's python alone", "2.2"),
    ("run-zipapp", "the same, P's python running the zipapp", "P's python alone", "-"),
    ("run-venv", "the same, run by the venv's python (its site)", "P's python alone", "-"),
    ("run-lean", "the same, the venv's `python -I -S`", "P's python alone", "-"),
    ("cache-info", "`cache info` (~11k-file cache)", "`python -c pass`", "3"),
    ("cache-info-cold", "the same without its memo (a first run)", "`python -c pass`", "-"),
    ("cache-walk", "a bare scandir + lstat walk of it in Python", "`python -c pass`", "-"),
    ("list-500", "`list` of 500 environments", "`python -c pass`", "(< 150 ms)"),
    ("remove", "`remove --yes` (~10k files, on disk)", "`rm -rf` of a copy", "1.1"),
    ("remove-fresh", "the same, copies still being written out", "`rm -rf` of a copy", "-"),
    ("zipapp", "zipapp `list --help`", "checkout `list --help`", "-"),
    ("cross-volume", "`create` on a tmpfs, cache on disk (copies)", "cache on the tmpfs too (links)", "-"),
    ("handover", "`create` of the 3-package env as the bootstrap scripts hand over (their private Python, the zipapp)",
     "the engine alone making it", "-"),
)
def _remember_sizes(cache: Path) -> None:
    """The memo of package sizes `cache clean` writes after its walk, written here without the
    deletions clean would make in the benchmark cache."""
    from mambaboot.environment import cacheusers, pkgcache

    memo = pkgcache.SizeMemo(str(cache))
    memo.known = {}
    pkgcache.packages(str(cache / "Python" / "pkgs"), memo=memo, named=cacheusers.named(str(cache)))
    memo.save()


# The least an exact measure costs in Python: every file's lstat, nothing else (the floor of cache info's first run).
WALK = ("import os, sys\n"
        "def walk(d):\n"
        "    for e in os.scandir(d):\n"
        "        walk(e.path) if e.is_dir(follow_symlinks=False) else e.stat(follow_symlinks=False)\n"
        "walk(sys.argv[1])\n")
BEGIN, END = "<!-- bench/perf.py table: begin -->", "<!-- bench/perf.py table: end -->"
# The page whose table --table rewrites (tests/test_bench_table.py reads it).
PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _medians(n, env, *argvs, prepare=None):
    """Median seconds of each argv, run interleaved n times; prepare(i) runs before each round."""
    rounds = []
    for i in range(n):
        if prepare:
            prepare(i)
        rounds.append([timed(a, env) for a in argvs])
    return [statistics.median(r[k] for r in rounds) for k in range(len(argvs))]


def _second_volume(root: Path):
    """A directory on another file system, or None: /dev/shm (a tmpfs) when it is one."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.stat(shm).st_dev != os.stat(root).st_dev:
        d = Path(tempfile.mkdtemp(prefix="mambaboot-bench-", dir=shm))
        return d
    return None


def measure(n: int) -> dict:
    figures = {}
    with tempfile.TemporaryDirectory(prefix="mambaboot-bench-") as tmp:
        root = Path(tmp)
        for d in ("home", "tmp", "envs", "many", "rm"):
            (root / d).mkdir()
        env = clean_env(root)
        channel = channel_url(build_benchmark_channel(root / "channel"))
        standin = make_standin(root / "micromamba")
        cache = root / "cache"
        common = ["-q", "--micromamba", str(standin), "--cache-dir", str(cache)]
        subprocess.run([*MAMBABOOT, "create", "e", "-c", channel, "--package", "bench-meta", "--envs-dir",
                        str(root / "envs"), *common], env=env, check=True)
        prefix = root / "envs" / "e"
        floor = [sys.executable, "-c", "pass"]

        base, ver, hlp = _medians(max(n, 10), env, floor, [*MAMBABOOT, "--version"], [*MAMBABOOT, "--help"])
        figures["version"] = (ver, base)
        figures["help"] = (hlp, base)
        from tools.build_zipapp import build
        pyz = root / "mambaboot.pyz"
        build(pyz)
        # run by the environment's own python, as one runs mambaboot from the environment it made:
        # the venv's python pays for its site first (.pth files of an editable install and
        # setuptools' distutils shim: ~0.3-0.4x P's python alone here)
        own = str(prefix / "bin" / "python")
        lean = [sys.executable, "-I", "-S", *MAMBABOOT[1:]]  # without this interpreter's site-packages
        command = ["run", str(prefix), "--", "python", "-c", "pass"]
        direct, run, run_zipapp, run_venv, run_lean = _medians(
            max(n, 10), env, [own, "-c", "pass"], [*mambaboot_by(own), *command], [own, str(pyz), *command],
            [*MAMBABOOT, *command], [*lean, *command])
        figures["run"] = (run, direct)
        figures["run-zipapp"] = (run_zipapp, direct)
        figures["run-venv"] = (run_venv, direct)
        figures["run-lean"] = (run_lean, direct)
        info = [*MAMBABOOT, "cache", "info", "--cache-dir", str(cache)]
        _remember_sizes(cache)  # what `cache clean` leaves for info (info itself writes nothing)
        base, warm, walk = _medians(n, env, floor, info, [sys.executable, "-c", WALK, str(cache)])
        figures["cache-info"] = (warm, base)
        figures["cache-walk"] = (walk, base)
        base, cold = _medians(n, env, floor, info, prepare=lambda i: shutil.rmtree(cache / "memo", ignore_errors=True))
        figures["cache-info-cold"] = (cold, base)
        fake_envs(prefix, root / "many", 500)
        base, listing = _medians(n, env, floor, [*MAMBABOOT, "list", "--envs-dir", str(root / "many"),
                                                 "--cache-dir", str(cache)])
        figures["list-500"] = (listing, base)

        def copies(i):
            for side in ("a", "b"):
                shutil.copytree(prefix, root / "rm" / f"{side}{i}", symlinks=True)

        def removals(settled: bool):
            """(remove, rm -rf) medians; settled: everything written out before each side (_common.settle),
            as an environment made earlier is, and so neither pays for the other's writes (unsettled,
            the second side runs while the copies' writeback goes on)."""
            def side(i, k):
                if k == 0:
                    return timed(["rm", "-rf", str(root / "rm" / f"a{i}")], env)
                return timed([*MAMBABOOT, "remove", "--yes", str(root / "rm" / f"b{i}"), "--cache-dir", str(cache)], env)
            rm, remove = alternated(n, side, root if settled else None, before=copies)
            return statistics.median(remove), statistics.median(rm)
        figures["remove"] = removals(settled=True)
        figures["remove-fresh"] = removals(settled=False)

        checkout, zipapp = _medians(max(n, 10), env, [*MAMBABOOT, "list", "--help"],
                                    [sys.executable, str(pyz), "list", "--help"])
        figures["zipapp"] = (zipapp, checkout)

        figures["handover"] = _handover(n, root, env, standin, pyz)

        far = _second_volume(root)
        if far is not None:
            try:  # both environments on the tmpfs: only link versus copy differs
                def create(name, cache_dir):
                    return timed([*MAMBABOOT, "create", name, "-c", channel, "--package", "bench-meta", "-q",
                                  "--micromamba", str(standin), "--cache-dir", str(cache_dir),
                                  "--envs-dir", str(far / "envs")], env)
                create("warm", far / "cache")
                rounds = []
                for i in range(n):
                    rounds.append((create(f"f{i}", cache), create(f"n{i}", far / "cache")))
                    shutil.rmtree(far / "envs" / f"f{i}")
                    shutil.rmtree(far / "envs" / f"n{i}")
                figures["cross-volume"] = tuple(statistics.median(r[k] for r in rounds) for k in (0, 1))
            finally:
                shutil.rmtree(far, ignore_errors=True)
    return figures


def _handover(n: int, root: Path, env: dict, standin: Path, pyz: Path) -> tuple:
    """(hand-over, the engine alone) medians: `create` as a bootstrap script hands over to it, by a
    private Python micromamba made, against the engine's own create of the same environment from
    the same warm package cache; each side after _common.settle, both environments removed after
    each round."""
    from mambaboot.common.locations import PKGS_UNDER_CACHE

    channel, made = engine_made(root, standin, env)
    private, cache = str(made / "bin" / "python"), root / "handover-cache"
    alone = {**env, "CONDA_PKGS_DIRS": str(cache.joinpath(*PKGS_UNDER_CACHE))}

    def handed(name):
        return [private, "-I", str(pyz), *handover(root / "handed" / name, cache, channel, standin)]
    warm = subprocess.run(handed("warm"), env=env, capture_output=True, text=True)  # the package cache filled
    if warm.returncode:
        raise SystemExit(f"the hand-over's first create failed (exit {warm.returncode}):\n{warm.stderr}")

    def side(i, k):
        if k == 0:
            return timed(engine_create(standin, channel, root / "alone" / f"e{i}"), alone)
        return timed(handed(f"h{i}"), env)
    base, handed_over = alternated(n, side, root, after=lambda i: [shutil.rmtree(root / d, ignore_errors=True)
                                                                   for d in (f"alone/e{i}", f"handed/h{i}")])
    return statistics.median(handed_over), statistics.median(base)


def rows(figures: dict) -> list:
    out = []
    for key, what, baseline, target in ROWS:
        if key in figures:
            value, base = figures[key]
            out.append((key, what, f"{value * 1000:.0f} ms", baseline, f"{base * 1000:.0f} ms",
                        f"{value / base:.2f}x", target))
        else:
            out.append((key, what, "n/a", baseline, "n/a", "n/a", target))
    return out


def _shown(path: str) -> str:
    """A path as the page should name it: relative to the checkout when inside it."""
    repo = Path(__file__).resolve().parent.parent
    try:
        return str(Path(path).relative_to(repo))
    except ValueError:
        return path


def table(figures: dict, load: tuple, page: str = str(PAGE)) -> str:
    lines = [f"Measured by `.venv/bin/python bench/perf.py --table {_shown(page)}` (Python {sys.version.split()[0]} "
             f"at {_shown(sys.executable)}, which runs every row but run and run-zipapp (P's python: the "
             f"environment's), its site's .pth files included; "
             f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}):", "",
             "| row | measured | time | baseline | time | ratio | target |", "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows(figures)]
    return "\n".join(lines)


def write_table(page: Path, text: str) -> None:
    content = page.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(content):
        raise SystemExit(f"{page}: no {BEGIN} ... {END} markers")
    page.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", content), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5, help="rounds per figure (the median is reported)")
    parser.add_argument("--table", metavar="PAGE", help=f"rewrite the performance table in this file ({_shown(str(PAGE))})")
    args = parser.parse_args()
    before = os.getloadavg()
    figures = measure(args.n)
    load = os.getloadavg()
    print(f"load average before {before[0]:.2f}, after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for key, what, value, baseline, base, ratio, target in rows(figures):
        print(f"{key:15} {what}: {value} vs {baseline}: {base}; ratio {ratio} (target {target})")
    if args.table:
        write_table(Path(args.table), table(figures, load, str(Path(args.table).resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
