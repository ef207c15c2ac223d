"""The performance table in docs/benchmarks.md is bench/perf.py's: the same rows, in the same order.
(The figures themselves are the bench's to measure; tests never time anything.)"""

import re
import sys

from tests.conftest import REPO


def _perf():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import perf
    finally:
        sys.path.remove(str(REPO / "bench"))
    return perf


def test_the_pages_table_has_exactly_the_benchs_rows():
    perf = _perf()
    assert perf.PAGE == REPO / "docs" / "benchmarks.md"
    text = perf.PAGE.read_text(encoding="utf-8")
    block = text.split(perf.BEGIN, 1)[1].split(perf.END, 1)[0]
    keys = [k for k in re.findall(r"^\| ([a-z0-9-]+) \|", block, re.M) if k != "row"]
    assert keys == [row[0] for row in perf.ROWS], "rerun: .venv/bin/python bench/perf.py --table docs/benchmarks.md"
    rendered = perf.table({"version": (0.02, 0.02)}, (1.0, 1.0, 1.0))
    assert [k for k in re.findall(r"^\| ([a-z0-9-]+) \|", rendered, re.M) if k != "row"] == keys
    # the table names the command that wrote it, and that command writes this page
    assert "`.venv/bin/python bench/perf.py --table docs/benchmarks.md`" in block
    assert rendered.startswith("Measured by `.venv/bin/python bench/perf.py --table docs/benchmarks.md` ")


def test_the_table_is_rewritten_in_place(tmp_path):
    perf = _perf()
    page = tmp_path / "page.md"
    page.write_text(f"before\n{perf.BEGIN}\nold\n{perf.END}\nafter\n", encoding="utf-8")
    perf.write_table(page, "new")
    assert page.read_text(encoding="utf-8") == f"before\n{perf.BEGIN}\nnew\n{perf.END}\nafter\n"


def test_the_handover_row_runs_create_as_bootstrap_sh_hands_over(tmp_path):
    """bench's hand-over is the scripts' (docs/reference.md §1.8): `create NAME` with the options
    bootstrap.sh's private Python gives it, in its order, and the digest of the engine it names."""
    import hashlib

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import _common
    finally:
        sys.path.remove(str(REPO / "bench"))
    engine = tmp_path / "micromamba"
    engine.write_bytes(b"an engine")
    argv = _common.handover(tmp_path / "envs" / "demo", tmp_path / "cache", "file:///channel", engine)
    script = (REPO / "bootstrap" / "bootstrap.sh").read_text(encoding="utf-8")
    line = re.search(r'^"\$mb_work/python/bin/python" -I "\$mb_zipapp" (create .*\\\n.*)$', script, re.M).group(1)
    assert argv[:2] == ["create", "demo"] and line.startswith('create "$mb_name" ')
    assert [a for a in argv if a.startswith("--")] == re.findall(r"(?<!\S)--[a-z0-9-]+", line)
    assert argv[argv.index("--micromamba") + 1] == str(engine)
    assert argv[argv.index("--micromamba-sha256") + 1] == hashlib.sha256(b"an engine").hexdigest()


def test_the_engines_verdict_is_the_own_time_against_the_engines_run():
    """bench/create.py --micromamba: met when each run less its engine (median), its wait on verification
    included, is at most 5% of the engine's median run; the wait and the code alone printed beside it."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import create
    finally:
        sys.path.remove(str(REPO / "bench"))
    engines = [0.800, 0.790, 0.810]
    waits = [0.010, 0.005, 0.015]
    # runs of the engine + 29 ms + the wait: 39 ms of own time, 4.9% of 800 ms
    line = create.engine_verdict([e + 0.029 + w for e, w in zip(engines, waits)], engines, waits)
    assert line.startswith("verdict: met: own time 39 ms, 4.9% of the engine's run 800 ms"), line
    assert "of it waiting on verification's programs 10 ms, mambaboot's code 29 ms (3.6%) (3 runs)" in line, line
    line = create.engine_verdict([e + 0.031 + w for e, w in zip(engines, waits)], engines, waits)
    assert line.startswith("verdict: NOT met: own time 41 ms, 5.1%"), line
    # the wait is part of create's own time: a long one fails it, however little code ran
    assert create.engine_verdict([1.0 + 0.01 + 0.5], [1.0], [0.5]).startswith("verdict: NOT met")


def test_the_move_benchs_verdicts():
    """bench/move.py: move met within a second end to end; pack met when its CPU time and extraction plus
    the fix's are each at most 0.8 of conda-pack's and the archive at most 1.05 of its size."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import move
    finally:
        sys.path.remove(str(REPO / "bench"))
    assert move.move_verdict(0.994) == "move: met: 0.99 s (target: at most 1 s)"
    assert move.move_verdict(1.004) == "move: NOT met: 1.00 s (target: at most 1 s)"
    assert move.pack_verdict(0.61, 0.8, 1.049) == ("pack: met: pack 0.61, extract + fix 0.80, size 1.05 of conda-pack "
                                                   "(target: at most 0.8, 0.8, 1.05)")
    for ratios in ((0.81, 0.5, 1.0), (0.5, 0.801, 1.0), (0.5, 0.5, 1.051)):
        assert move.pack_verdict(*ratios).startswith("pack: NOT met: "), ratios
