"""Benchmark: what `move` costs, and `pack` + unpack next to conda-pack on the same environment.

Prints, measured side by side in one run (these machines are noisy):
  - relocation (scan + rewrite, in process) on the benchmark environment (~70 packages, ~10,000
    files, ~1,000 of them naming the prefix); on the same environment with 20,000 more files that
    do not, installed by a package whose record vouches for them (it must cost about the same:
    move does not read a file its record vouches for); and on one with half the prefix-bearing
    files (it should cost about half);
  - `mambaboot move` end to end (rename + rewrite + verification), wall time, median of N;
  - `mambaboot pack` against `conda-pack` (from the test extra): archive size and pack time; then
    extraction plus `unpack.py` against extraction plus conda-pack's `conda-unpack`.

Times are CPU seconds (this machine is shared; wall time there is mostly other people's work),
except the end-to-end move. Uses the test suite's benchmark channel and micromamba stand-in.

Verdicts: `move: met` when the end-to-end move's median is within MOVE_TARGET seconds; `pack: met`
when pack's CPU time and extraction plus the fix's are each at most CPU_TARGET of conda-pack's (the
medians of runs interleaved with its), the archive at most SIZE_TARGET of conda-pack's. The load
average is printed before and after.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import MAMBABOOT, alternated, clean_env, runs, timed, workspace  # noqa: E402  (also puts the repo on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from mambaboot.relocate import rewrite, scan  # noqa: E402
from tests.support.channel import build_benchmark_channel, channel_url  # noqa: E402
from tests.support.micromamba_standin import make_standin  # noqa: E402

MOVE_TARGET = 1.0  # seconds, end to end
CPU_TARGET = 0.8  # pack, and extraction plus the fix, as a share of conda-pack's CPU time
SIZE_TARGET = 1.05  # the archive, as a share of conda-pack's


def _relocate(prefix: Path, new: Path) -> tuple:
    """(seconds, files rewritten) for scan + rewrite of prefix as if it were moved to new, then back."""
    start = time.process_time()  # CPU time: five agents share two cores here, wall time is noise
    findings = scan.find(str(prefix), str(prefix), False)
    rewrite.relocate(str(prefix), findings, str(prefix), str(new), False)
    took = time.process_time() - start
    back = scan.find(str(prefix), str(new), False)
    rewrite.relocate(str(prefix), back, str(new), str(prefix), False)
    return took, len(findings)


def _median_relocate(prefix: Path, count: int) -> tuple:
    _relocate(prefix, prefix.parent / "elsewhere-x")  # warm-up: file system caches, first writes
    results = [_relocate(prefix, prefix.parent / "elsewhere-x") for _ in range(count)]
    return statistics.median(r[0] for r in results), results[0][1]


def _pad(prefix: Path, files: int) -> None:
    """files more files, recorded as micromamba records a package's: sha256 and sha256_in_prefix equal."""
    import hashlib
    import json

    extra = prefix / "share" / "padding"
    extra.mkdir(parents=True)
    entries = []
    for i in range(files):
        data = f"nothing to see {i}\n".encode() * 20
        (extra / f"f{i:05d}.txt").write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        entries.append({"_path": f"share/padding/f{i:05d}.txt", "path_type": "hardlink", "sha256": digest,
                        "sha256_in_prefix": digest, "size_in_bytes": len(data)})
    record = {"name": "padding", "version": "1.0", "build": "0", "build_number": 0, "subdir": "noarch",
              "files": [e["_path"] for e in entries], "paths_data": {"paths": entries, "paths_version": 1}}
    (prefix / "conda-meta" / "padding-1.0-0.json").write_text(json.dumps(record, indent=4))


def move_verdict(median: float) -> str:
    return f"move: {'met' if median <= MOVE_TARGET else 'NOT met'}: {median:.2f} s (target: at most {MOVE_TARGET:g} s)"


def pack_verdict(pack: float, unpack: float, size: float) -> str:
    met = pack <= CPU_TARGET and unpack <= CPU_TARGET and size <= SIZE_TARGET
    return (f"pack: {'met' if met else 'NOT met'}: pack {pack:.2f}, extract + fix {unpack:.2f}, size {size:.2f} of "
            f"conda-pack (target: at most {CPU_TARGET:g}, {CPU_TARGET:g}, {SIZE_TARGET:g})")


def main() -> int:
    count = runs(__doc__, 5)
    before = os.getloadavg()
    try:
        return _measured(count)
    finally:
        after = os.getloadavg()
        print(f"load average before {before[0]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} "
              f"({os.cpu_count()} CPUs)")


def _measured(count: int) -> int:
    with workspace("envs") as root:
        env = clean_env(root)
        standin = make_standin(root / "micromamba")
        common = ["-q", "--micromamba", str(standin), "--cache-dir", str(root / "cache")]
        made = {}
        for label, n_files in (("full", 10_000), ("half", 5_000)):
            channel = channel_url(build_benchmark_channel(root / f"channel-{label}", n_files=n_files))
            prefix = root / "envs" / label
            subprocess.run([*MAMBABOOT, "create", "--prefix", str(prefix), "-c", channel, "--package", "bench-meta",
                            *common], env=env, check=True, stdout=subprocess.DEVNULL)
            made[label] = prefix
        padded = root / "envs" / "padded"
        shutil.copytree(made["full"], padded, symlinks=True)
        _pad(padded, 20_000)
        # a copy names the original's place: `move X X` makes it name its own
        subprocess.run([*MAMBABOOT, "move", str(padded), str(padded), "--cache-dir", str(root / "cache"), "-q"],
                       env=env, check=True)

        print("relocation (scan + rewrite, in process), CPU time, median of", count)
        rows = []
        for label, prefix in (("benchmark env", made["full"]), ("+20,000 files without the prefix", padded),
                              ("half the prefix-bearing files", made["half"])):
            files = sum(1 for _ in prefix.rglob("*"))
            took, rewritten = _median_relocate(prefix, count)
            rows.append((label, files, rewritten, took))
            print(f"  {label:<36} {files:>6} files, {rewritten:>5} rewritten: {took * 1000:7.1f} ms")
        ratio_size = rows[1][3] / rows[0][3]
        ratio_prefix = rows[2][3] / rows[0][3]
        print(f"  3x the files, same prefix-bearing ones: x{ratio_size:.2f} the time; "
              f"half the prefix-bearing files: x{ratio_prefix:.2f}")

        moves = []
        src = made["full"]
        for i in range(count):
            dst = root / "envs" / f"moved{i}"
            moves.append(timed([*MAMBABOOT, "move", str(src), str(dst), "--cache-dir", str(root / "cache"), "-q"], env))
            src = dst
        print(f"mambaboot move end to end (rename, rewrite, verify): median {statistics.median(moves):.2f} s")
        print(move_verdict(statistics.median(moves)), flush=True)

        try:
            import conda_pack  # noqa: F401  (only: is it installed?)
        except ImportError:
            print("conda-pack is not installed (pip install .[test]): pack comparison skipped")
            return 0
        print("pack + unpack, CPU time (user + system, children included), median of", count)
        # each side first every other round: an extraction pays for every inode deleted in the minutes
        # before it (docs/benchmarks.md, "What a new file costs"), and these pile up round by round,
        # so the side always first would see fewer of them
        sides = (lambda i: _ours(src, root / f"ours{i}", env), lambda i: _conda_pack(src, root / f"theirs{i}", env))
        ours, theirs = alternated(count, lambda i, k: sides[k](i))
        for label, side in (("mambaboot pack", ours), ("conda-pack", theirs)):
            size = side[0][0]
            print(f"  {label:<15} archive {size / 1e6:7.1f} MB  pack {statistics.median(s[1] for s in side):6.2f} s"
                  f"  extract + fix {statistics.median(s[2] for s in side):6.2f} s")
        pack_ratio = statistics.median(s[1] for s in ours) / statistics.median(s[1] for s in theirs)
        unpack_ratio = statistics.median(s[2] for s in ours) / statistics.median(s[2] for s in theirs)
        print(f"  mambaboot / conda-pack: pack x{pack_ratio:.2f}, extract + fix x{unpack_ratio:.2f}, "
              f"size x{ours[0][0] / theirs[0][0]:.2f}")
        print(pack_verdict(pack_ratio, unpack_ratio, ours[0][0] / theirs[0][0]))
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu(argv, **kw) -> float:
    """CPU seconds of a child (user + system): steadier than wall time on a shared machine."""
    before = _children_cpu()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return _children_cpu() - before


def _ours(prefix: Path, work: Path, env) -> tuple:
    work.mkdir()
    archive = work / "env.tar.gz"
    took = _cpu([*MAMBABOOT, "pack", str(prefix), "-o", str(archive), "-q"], env=env)
    target = work / "unpacked"
    target.mkdir()
    fixed = _cpu(["tar", "-xf", str(archive), "-C", str(target)])
    fixed += _cpu([str(target / "bin" / "python"), str(target / ".mambaboot" / "unpack.py")], env={"PATH": "/usr/bin:/bin"})
    size = archive.stat().st_size
    shutil.rmtree(work)
    return size, took, fixed


def _conda_pack(prefix: Path, work: Path, env) -> tuple:
    work.mkdir()
    archive = work / "env.tar.gz"
    took = _cpu([sys.executable, "-c", "import sys; from conda_pack.cli import main; sys.exit(main())",
                 "-p", str(prefix), "-o", str(archive), "-q", "--ignore-missing-files", "--ignore-editable-packages"],
                env=env)
    target = work / "unpacked"
    target.mkdir()
    fixed = _cpu(["tar", "-xf", str(archive), "-C", str(target)])
    fixed += _cpu([str(target / "bin" / "python"), str(target / "bin" / "conda-unpack")],
                  env={"PATH": f"{target / 'bin'}:/usr/bin:/bin"})
    size = archive.stat().st_size
    shutil.rmtree(work)
    return size, took, fixed


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    sys.exit(main())
