"""The YAML reader (common/yamlread) held to ruamel.yaml's round-trip loader, what conda 26.x reads
environment files with (conda/common/serialize/yaml.py, `_yaml`), on a corpus of real files:
tests/data/yaml-corpus/ (every version of the environment files in the history of a few public
repositories, SOURCES.tsv names each one's repository, path and commit), the ecosystem files and
the minimal copies of real files tests/data/ecosystem/real/ holds (SOURCES.md there).

Agreement: the same mappings (keys in the same order), lists and strings; null where ruamel reads
null; where ruamel's resolver types a scalar (`3.10` a float, `true` a bool), the reader keeps the
text as written, which ruamel reads back as that same value."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mambaboot.common import untrusted, yamlread

DATA = Path(__file__).parent / "data"
CORPUS = sorted([*(DATA / "yaml-corpus").glob("*.y*ml"), *(DATA / "ecosystem").glob("*.yml"),
                 *(DATA / "ecosystem" / "real").glob("*.y*ml")])


def _plain(value):
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def _disagreement(mine, theirs, where="") -> str | None:
    """Where mine and ruamel's value differ (None: nowhere), without recursion."""
    pending = [(mine, theirs, where or "/")]
    while pending:
        a, b, at = pending.pop()
        if isinstance(b, dict):
            if not isinstance(a, dict) or len(a) != len(b):
                return f"{at}: {a!r} is not the mapping {b!r}"
            for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                if not _same_scalar(ka, kb):
                    return f"{at}: key {ka!r} is not {kb!r}"
                pending.append((va, vb, f"{at}{ka}/"))
        elif isinstance(b, list):
            if not isinstance(a, list) or len(a) != len(b):
                return f"{at}: {a!r} is not the list {b!r}"
            pending += [(x, y, f"{at}{i}/") for i, (x, y) in enumerate(zip(a, b))]
        elif not _same_scalar(a, b):
            return f"{at}: {a!r} is not {b!r}"
    return None


def _same_scalar(mine, theirs) -> bool:
    if theirs is None or isinstance(theirs, str):
        return mine == theirs
    return isinstance(mine, str) and YAML(typ="rt").load(mine) == theirs


def test_the_corpus_is_the_files_its_sources_name():
    listed = {line.split("\t")[0] for line in (DATA / "yaml-corpus" / "SOURCES.tsv").read_text().splitlines()
              if line and not line.startswith("#")}
    assert listed == {p.name for p in (DATA / "yaml-corpus").glob("*.y*ml")}
    assert len(listed) >= 350 and len(CORPUS) >= len(listed) + 10


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_the_reader_reads_each_real_file_as_ruamel_does(path):
    text = untrusted.read_user_text(str(path))
    theirs = _plain(YAML(typ="rt").load(text))
    assert _disagreement(yamlread.parse(text), theirs) is None


def test_the_wrapped_and_continued_values_of_the_real_files_read_as_one_line():
    """What the hand-written reader refused: a quoted constraint conda-lock wrapped at 80 columns
    (Cantera/cantera-papers) and pip options continued over three lines (pysal/pysal ci/314-dev.yaml)."""
    lock = yamlread.parse((DATA / "ecosystem" / "real" / "cantera-papers-conda-lock.yml").read_text())
    fastapi = next(p for p in lock["package"] if p["name"] == "fastapi")
    assert fastapi["dependencies"]["pydantic"] == (">=1.6.2,<1.7 || >1.7,<1.7.1 || >1.7.1,<1.7.2 || >1.7.2,<1.7.3 "
                                                   "|| >1.7.3,<1.8 || >1.8,<1.8.1 || >1.8.1,<2.0.0")
    env = yamlread.parse((DATA / "ecosystem" / "real" / "pysal-314-dev.yaml").read_text())
    assert env["dependencies"][-1]["pip"][0] == ("--pre \\ --index-url https://example.invalid/"
                                                 "scientific-python-nightly-wheels/simple  \\ --extra-index-url "
                                                 "https://example.invalid/simple")
