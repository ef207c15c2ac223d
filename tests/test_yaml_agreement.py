"""The YAML reader (common/yamlread) held to ruamel.yaml's round-trip loader, what conda 26.x reads
environment files with (conda/common/serialize/yaml.py, `_yaml`), on a corpus of real files:
tests/data/yaml-corpus/ (every version of the environment files in the history of a few public
repositories, SOURCES.tsv names each one's repository, path and commit), the ecosystem files and
the minimal copies of real files tests/data/ecosystem/real/ holds (SOURCES.md there).

Agreement: the same mappings (keys in the same order), lists and strings; null where ruamel reads
null; where ruamel's resolver types a scalar (`3.10` a float, `true` a bool), the reader keeps the
text as written, which ruamel reads back as that same value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError

from mambaboot.common import untrusted, yamlblock, yamlread
from tests.support import fuzzprofile

DATA = Path(__file__).parent / "data"
CORPUS = sorted([*(DATA / "yaml-corpus").glob("*.y*ml"), *(DATA / "ecosystem").glob("*.yml"),
                 *(DATA / "ecosystem" / "real").glob("*.y*ml")])


def _plain(value):
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "TaggedScalar":  # `=`, YAML 1.1's value key: the text itself for conda's str()
        return str(value.value)
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


# The block reader (common/yamlblock): what it reads, it reads as ruamel does, node for node and
# position for position; what it does not read, it says so (Outside) and ruamel reads.

def _ruamel(text: str, marks: dict | None = None):
    """The value (or YamlError) and marks of text read by ruamel alone, as yamlread reads outside the subset."""
    return yamlread._parse(text, yamlread.MAX_DEPTH, None, None, marks)


def _block(text: str, marks: dict | None = None):
    """The block reader's value, or None when it leaves the text to ruamel."""
    try:
        return True, yamlblock.read(text, yamlread.MAX_DEPTH, marks)
    except yamlblock.Outside:
        return False, None


def _same_both_ways(text: str) -> bool:
    """Whether the block reader read text (else: Outside); what it read is ruamel's value with
    ruamel's marks, and ruamel reads the text without a refusal."""
    mine_marks, their_marks = {}, {}
    read, mine = _block(text, mine_marks)
    if not read:
        return False
    theirs = _ruamel(text, their_marks)  # a YamlError here: the block reader took what YAML refuses
    assert _disagreement(mine, theirs) is None and mine == theirs
    try:
        rt = _plain(YAML(typ="rt").load(text))
    except (ValueError, IndexError, DuplicateKeyError):  # the round-trip constructor's own failures, not its
        return True  # parser's: `._` taken for a float, `0x_` for an int it cannot index; `0` and `00` both 0
    assert _disagreement(mine, rt) is None
    assert mine_marks == their_marks
    return True


# The corpus's lock files the block reader leaves to ruamel: none (wrapped quoted constraints included).
LEFT_TO_RUAMEL: dict = {}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_the_block_reader_reads_each_real_file_as_ruamel_does_or_leaves_it(path):
    text = untrusted.read_user_text(str(path))
    read = _same_both_ways(text)
    if path.parent.name == "real" and "lock" in path.name and path.suffix != ".lock":
        assert read == (path.name not in LEFT_TO_RUAMEL)


def test_the_block_reader_reads_most_of_the_corpus():
    """A reader that left everything to ruamel would pass the test above: it reads most real files."""
    read = sum(_block(untrusted.read_user_text(str(p)))[0] for p in CORPUS)
    assert read >= 0.8 * len(CORPUS)


def test_the_corpus_locks_given_by_path_agree(request):
    """Real locks too big to keep in the repository (dask's 3 MB pixi.lock, pangeo's 1.4 MB
    conda-lock.yml): MAMBABOOT_TEST_YAML_FILES names them, separated by the path separator."""
    import os

    for name in filter(None, os.environ.get("MAMBABOOT_TEST_YAML_FILES", "").split(os.pathsep)):
        assert _same_both_ways(untrusted.read_user_text(name)), name


@pytest.mark.parametrize("text", [
    "a: 'it''s # not a comment' # but this is\nb: \"x: y\"\nc: x#y\nd: x # y\n",  # `#` and `: ` in values
    "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\ng: \"\"\nh: '~'\n~: k\n",  # empty values, nulls, a null key
    "a:\n- x\n- y: 1\n  z:\n  - w\nb:\n  - c\n",  # sequences at their key's indentation and deeper
    "- a: 1\n  b:\n    c: {}\n  d: []\n-   e: 2\n- f\n",  # compact entries, empty flow collections
    "é: ü\nemoji: 😀\nrtl: שלום\n'quoted': 1\n",  # unicode; a quoted key (left to ruamel)
    "a: 1\r\nb:\r\n- 2\r\n",  # CRLF
    "\ufeffa: 1\n",  # a byte-order mark
    "a: 1\na: 2\n",  # a duplicate key: refused (ruamel's refusal)
    "a: b: c\n", "- a\nb: c\n", "a: 1\n b: 2\n", "a:\n  b\n", "key: value\n  continued\n",
    "a: 'open\n  closed'\n", "a: \"x\\ty\"\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {}\n",
    "--- \na: 1\n", "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n", "a: |\n  x\n", "a: [1, 2]\n", "a:\tb\n",
    "a: 1\rb: 2\n", "a: x\u2028b: y\n", "a: x\x85\n", "? a\n: b\n", "-\n  a: 1\n", "- - a\n", "a: 'x'y\n",
    "a: 'x'#c\n", "a: {}x\n", "  a: 1\nb: 2\n", "a: -\n", "a:\n  - x\n  y: 1\n", "x" * 1100 + ": 1\n",
    "a: 'x\n  y'\n", "a: 'x  \n\n   y  z '\nb: 1\n", "- \"a\n  b\"\n- c\n", "a: 'it''s\n  ''ok'''\n",
    "a:\n  b: 'x\n  y'\n", "a: 'x\n\n\n  y'\n", "a: 'x\ny'\n", "a: 'x\n  y' z\n", "a: 'x\n  # y'\n",
    "- 'x\n  y\n- z'\n", "a: 'x\n---\n  y'\n", "a: 'x\n", "a: \"x\n  \\ty\"\n",
    "a #b: c\n", "a:b: c\n", "a:: b\n", "- -x\n- --pre\n", "-a: 1\n", "a: 1\n# end\n\n   \n", "",
    "# only a comment\n", "a:  \n   # nothing\nb: 1\n",
    "a" + " " * 1100 + ": 1\n", "- a" + " " * 1100 + ":\n",  # a short key far from its `:`, past ruamel's 1024
])
def test_edge_cases_read_as_ruamel_reads_them(text):
    try:
        theirs = _ruamel(text)
    except yamlread.YamlError as exc:
        assert not _block(text)[0], "the block reader took what YAML refuses"
        with pytest.raises(yamlread.YamlError, match=re.escape(str(exc))):
            yamlread.parse(text)
        return
    _same_both_ways(text)
    assert yamlread.parse(text) == theirs


# Documents in the block style these tools write, drawn: nested mappings and lists, scalars plain
# where plain is safe and quoted (both ways) otherwise, indentation 1-4, sequences at their key's
# indentation or deeper, compact entries, comments, blank lines, CRLF.
_PLAIN = re.compile(r"([A-Za-z0-9_./=<+é😀]|-[^ ])[^\n]*\Z")
_SCALARS = st.one_of(
    st.text(alphabet="abcxyz019._-=<>*+,:#'\"[]{}()| /@~é😀", max_size=12),
    st.sampled_from(["", "~", "null", "NULL", "3.10", "true", "-1", "--pre", "a: b", "a #b", "x#y", "'", "''"]))
_KEYS = st.text(alphabet="abcxyz019._-/ é", min_size=1, max_size=8).filter(lambda k: k.strip() == k and k[0] != "-")
_TREES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=25)


def _scalar(value: str, style: int) -> str:
    plain_ok = (bool(_PLAIN.match(value)) and ": " not in value and " #" not in value and not value.endswith((":", " "))
                and value not in yamlblock.NULLS)
    if plain_ok and style == 0:
        return value
    if style == 1 and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


def _render(tree, draw) -> str:
    """tree as block YAML, every choice drawn."""
    step = draw(st.integers(1, 4))
    lines: list = []

    def comment() -> str:
        return draw(st.sampled_from(["", "", "", "  # note", " #: x"]))

    def node(value, indent: int, prefix: str):
        """value written after prefix (a line's start: `key:` or `- `)."""
        if isinstance(value, dict) and value:
            if prefix.endswith("- ") and draw(st.booleans()):  # a compact entry: the first key on the item's line
                inner = indent + len(prefix) - len(prefix.lstrip(" ")) if False else len(prefix)
                entries(value, inner, prefix)
                return
            lines.append(prefix.rstrip(" ") + comment())
            entries(value, (len(prefix) - len(prefix.lstrip(" ")) if prefix.endswith("- ") else indent) + step, None)
        elif isinstance(value, list) and value:
            lines.append(prefix.rstrip(" ") + comment())
            base = len(prefix) - len(prefix.lstrip(" ")) if prefix.endswith("- ") else indent
            at = base if not prefix.endswith("- ") and draw(st.booleans()) else base + step
            for item in value:
                node(item, at, " " * at + "- ")
        elif isinstance(value, dict):
            lines.append(prefix + "{}" + comment())
        elif isinstance(value, list):
            lines.append(prefix + "[]" + comment())
        elif value is None or value == "" and draw(st.booleans()):
            lines.append(prefix.rstrip(" ") + comment())
        else:
            written = _scalar(value, draw(st.integers(0, 2)))
            if written[0] in "'\"" and " " in written and draw(st.booleans()):  # wrapped at a space, as conda-lock wraps
                cut = written.index(" ")
                # past the node holding it (a compact entry's mapping is at its key's column), as the subset asks
                deeper = " " * (indent + step + draw(st.integers(0, 2)))
                lines.append(prefix + written[:cut])
                lines.append(deeper + written[cut + 1:] + comment())
                return
            lines.append(prefix + written + comment())

    def entries(mapping: dict, column: int, first_prefix):
        for n, (key, value) in enumerate(mapping.items()):
            written = _scalar(key, 0) if _scalar(key, 0) == key else key
            start = first_prefix if n == 0 and first_prefix is not None else " " * column
            node(value, column, f"{start}{written}: ")
            if draw(st.integers(0, 5)) == 0:
                lines.append(draw(st.sampled_from(["", "# a comment", " " * column + "# indented"])))

    if isinstance(tree, dict) and tree:
        entries(tree, 0, None)
    elif isinstance(tree, list) and tree:
        for item in tree:
            node(item, 0, "- ")
    else:
        lines.append("a: " + (_scalar(tree, 2) if isinstance(tree, str) else "{}" if isinstance(tree, dict) else "[]"))
    end = "\r\n" if draw(st.integers(0, 4)) == 0 else "\n"
    return end.join(lines) + end


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=fuzzprofile.examples("MAMBABOOT_FUZZ_EXAMPLES", 200))
@given(st.data())
def test_drawn_block_documents_are_read_by_the_block_reader_as_ruamel_reads_them(data):
    text = _render(data.draw(_TREES), data.draw)
    if not _same_both_ways(text):
        # only what the subset leaves out on purpose: a key that is no plain scalar
        assert re.search(r"^[ -]*['\"]", text, re.M), text


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=fuzzprofile.examples("MAMBABOOT_FUZZ_EXAMPLES", 300))
@given(st.lists(st.tuples(st.integers(0, 6), st.text(alphabet="ab:-#'\" []{}~&*!|>?,\\é\t\r.%", max_size=10)),
                max_size=8))
def test_drawn_line_soup_is_read_as_ruamel_reads_it_or_left_to_it(lines):
    """Text mostly no YAML: what the block reader takes, ruamel takes too, as the same value."""
    text = "".join(" " * indent + body + "\n" for indent, body in lines)
    read, _ = _block(text)
    if read:
        _same_both_ways(text)
