"""What every benchmark here shares: this checkout's mambaboot, a clean environment, a timer."""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.support builds the channel and the micromamba stand-in


def mambaboot_by(python: str, src: Path = REPO / "src") -> List[str]:
    """The checkout's code (or the one in src), whatever is installed (as the tests run it), run by that python."""
    return [python, "-c", f"import sys; sys.path.insert(0, {str(src)!r}); "
            "from mambaboot.cli import entry; entry(sys.argv[1:])"]


MAMBABOOT = mambaboot_by(sys.executable)


def clean_env(root: Path) -> Dict[str, str]:
    """PATH and locale only, with HOME and TMPDIR inside the benchmark's own directory."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"))
    return env


def timed(argv: List[str], env: Dict[str, str], check: bool = True) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def settle(directory: Path) -> None:
    """Everything written out (os.sync), and the journal work a large deletion leaves behind done.
    On this ext4 (mounted with discard) the first fsync after deleting 50,000 files and os.sync
    still waits 50-80 ms, the next ~1 ms: a side that syncs (create marks its target durably
    before the engine starts) would pay for the round before's clean-up, one that does not would
    not. So each side starts after a sync and one fsync of a scratch file."""
    os.sync()
    fd = os.open(directory / ".settle", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0")
        os.fsync(fd)
    finally:
        os.close(fd)


def alternated(n: int, side, settle_in: "Path | None" = None, before=None, after=None) -> "tuple[list, list]":
    """(side 0's results, side 1's) of side(i, k) over n rounds, each side first every other round,
    so drift within a round hits both ways; settle_in: _common.settle there before each side;
    before(i) / after(i) around round i (its inputs made, its outputs taken away)."""
    results: "tuple[list, list]" = ([], [])
    for i in range(n):
        if before:
            before(i)
        for k in ((0, 1) if i % 2 == 0 else (1, 0)):
            if settle_in is not None:
                settle(settle_in)
            results[k].append(side(i, k))
        if after:
            after(i)
    return results


def runs(doc: str, default: int) -> int:
    """The benchmark's one option: how many runs per side (the median is reported)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=default, help="runs per side (median is reported)")
    return parser.parse_args().n


@contextlib.contextmanager
def workspace(*subdirs: str) -> Iterator[Path]:
    """A throwaway directory with home/, tmp/ and the given subdirectories."""
    with tempfile.TemporaryDirectory(prefix="mambaboot-bench-") as tmp:
        root = Path(tmp)
        for d in ("home", "tmp", *subdirs):
            (root / d).mkdir()
        yield root


def fake_envs(source: Path, root: Path, count: int, with_lib: bool = False) -> None:
    """count environments that look like `source` to `list`: its conda-meta names and its record
    (with_lib: and a copy of its lib/, something for --size to walk)."""
    record = json.loads((source / ".mambaboot" / "record.json").read_text())
    names = [p.name for p in (source / "conda-meta").glob("*.json")]
    for i in range(count):
        prefix = root / f"env{i:03d}"
        (prefix / "conda-meta").mkdir(parents=True)
        for name in names:
            (prefix / "conda-meta" / name).write_text("{}")
        (prefix / ".mambaboot").mkdir()
        rec = dict(record, inputs=dict(record["inputs"], prefix=str(prefix)))
        # laid out as record.write() lays out every record (list reads that layout fastest)
        (prefix / ".mambaboot" / "record.json").write_text(json.dumps(rec, indent=2, sort_keys=True) + "\n")
        if with_lib:
            shutil.copytree(source / "lib", prefix / "lib", symlinks=True)


def engine_create(standin: Path, channel: str, prefix: Path) -> List[str]:
    """The engine alone making the 3-package environment (python, conda, mamba) at prefix, much as
    create starts it (engine/micromamba.py: there the root prefix is a private one); CONDA_PKGS_DIRS
    names its package cache."""
    return [str(standin), "create", "--yes", "--no-rc", "--override-channels", "-c", channel, "--prefix", str(prefix),
            "--root-prefix", str(prefix), "python", "conda", "mamba"]


def engine_made(root: Path, standin: Path, env: Dict[str, str]) -> "tuple[str, Path]":
    """(channel URL, prefix): the 3-package environment (python, conda, mamba) made under root by
    the micromamba stand-in alone: an environment's python P, and the private Python a bootstrap
    script makes with micromamba before it hands over to `create`."""
    from tests.support.channel import build_benchmark_channel, channel_url

    channel = channel_url(build_benchmark_channel(root / "plain", 3))
    made = root / "made"
    subprocess.run(engine_create(standin, channel, made), env={**env, "CONDA_PKGS_DIRS": str(root / "plain-pkgs")},
                   check=True, stdout=subprocess.DEVNULL)
    return channel, made


def handover(prefix: Path, cache: Path, channel: str, micromamba: Path) -> List[str]:
    """`create PREFIX's name ...` as the bootstrap scripts hand over to it (docs/reference.md §1.8,
    step 7): what they were asked for, and the micromamba they verified, with its digest."""
    digest = hashlib.sha256(micromamba.read_bytes()).hexdigest()
    return ["create", prefix.name, "--envs-dir", str(prefix.parent), "--cache-dir", str(cache), "-c", channel,
            "--micromamba", str(micromamba), "--micromamba-sha256", digest]
