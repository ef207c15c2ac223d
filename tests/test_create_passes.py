"""`create` after the engine (issue 16, goal 2): one pass over conda-meta, no size scan.

Counted by wrapping open() and os.scandir in the mambaboot process (the engine and the
verification run in children, which are not counted); never timed.
"""

import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = r"""
import builtins, collections, json, os, sys
sys.path.insert(0, sys.argv[1])
opened, listed = collections.Counter(), collections.Counter()
real_open, real_scandir = builtins.open, os.scandir
def counting_open(file, *a, **k):
    opened[os.fspath(file) if isinstance(file, (str, bytes, os.PathLike)) else repr(file)] += 1
    return real_open(file, *a, **k)
def counting_scandir(path="."):
    listed[os.fspath(path)] += 1
    return real_scandir(path)
builtins.open, os.scandir = counting_open, counting_scandir
from mambaboot.cli import main
code = main(sys.argv[3:])
with real_open(sys.argv[2], "w") as f:
    json.dump({"code": code, "opened": opened, "listed": listed}, f)
"""


def test_create_reads_each_package_record_once_and_walks_no_tree(world, channel, standin, tmp_path):
    out = tmp_path / "counts.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(SRC), str(out), "create", "one", "-q",
                           "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)],
                          env=world.env, cwd=str(world.envs), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts = json.loads(out.read_text())
    assert counts["code"] == 0
    meta = world.envs / "one" / "conda-meta"
    records = sorted(str(p) for p in meta.glob("*.json"))
    assert len(records) >= 3
    assert {p: counts["opened"].get(p, 0) for p in records} == {p: 1 for p in records}
    # no walk of the prefix: nothing below it is listed (a size scan would list every directory)
    # but the three directories conda's activation reads, which the activation scripts are made from
    prefix = str(world.envs / "one")
    activation = {f"{prefix}/etc/conda/{d}" for d in ("env_vars.d", "activate.d", "deactivate.d")}
    assert [p for p in counts["listed"] if p.startswith(prefix + "/") and p not in activation] == []
    rec = json.loads((world.envs / "one" / ".mambaboot" / "record.json").read_text())
    declared = sum(e.get("size_in_bytes", 0) for p in records
                   for e in json.loads(Path(p).read_text())["paths_data"]["paths"])
    assert rec["size"] == {"files": sum(len(json.loads(Path(p).read_text())["files"]) for p in records),
                           "bytes": declared} and declared > 1_000_000
