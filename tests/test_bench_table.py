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
