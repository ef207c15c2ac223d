"""The README's performance table is bench/perf.py's: the same rows, in the same order.
(The figures themselves are the bench's to measure; tests never time anything.)"""

import re
import sys

from tests.conftest import REPO


def test_the_readme_table_has_exactly_the_benchs_rows():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import perf
    finally:
        sys.path.remove(str(REPO / "bench"))
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split(perf.BEGIN, 1)[1].split(perf.END, 1)[0]
    keys = [k for k in re.findall(r"^\| ([a-z0-9-]+) \|", block, re.M) if k != "row"]
    assert keys == [row[0] for row in perf.ROWS], "rerun: python3 bench/perf.py --table README.md"
    rendered = perf.table({"version": (0.02, 0.02)}, (1.0, 1.0, 1.0))
    assert [k for k in re.findall(r"^\| ([a-z0-9-]+) \|", rendered, re.M) if k != "row"] == keys
