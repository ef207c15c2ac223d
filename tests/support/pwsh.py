"""PowerShell parsed for real, without PowerShell: tree-sitter with the tree-sitter-powershell grammar.

    tree = parse(data)            # bytes (a UTF-8 BOM is dropped); fails on any ERROR or MISSING node
    single_quoted(tree)           # byte ranges of every '...' and @'...'@ literal
    code_only(tree)               # the text with comments gone and each string literal blanked to '' or ""
    commands(tree)                # the name of every command invoked
    words(line)                   # one command's words, each asserted to be read literally
"""

import re
from typing import Iterator, List, NamedTuple, Tuple

from tests.support.newer import newer_only

tree_sitter = newer_only("tree_sitter")
tree_sitter_powershell = newer_only("tree_sitter_powershell")

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_VERBATIM = ("verbatim_string_characters", "verbatim_here_string_characters")


class Tree(NamedTuple):
    source: bytes
    root: "tree_sitter.Node"


def walk(node) -> Iterator:
    yield node
    for child in node.children:
        yield from walk(child)


def parse(data: bytes) -> Tree:
    source = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    root = _PARSER.parse(source).root_node
    broken = [n for n in walk(root) if n.type == "ERROR" or n.is_missing]
    assert not broken and not root.has_error, "PowerShell does not parse: " + "; ".join(
        f"{'missing' if n.is_missing else 'error'} {n.type} at line {n.start_point[0] + 1}: "
        f"{source[n.start_byte:n.end_byte][:60]!r}" for n in broken)
    return Tree(source, root)


def single_quoted(tree: Tree) -> List[Tuple[int, int]]:
    return [(n.start_byte, n.end_byte) for n in walk(tree.root) if n.type in _VERBATIM]


def _outermost(tree: Tree, types) -> List:
    found, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        if node.type in types:
            found.append(node)
        else:
            stack.extend(node.children)
    return sorted(found, key=lambda n: n.start_byte)


def code_only(tree: Tree) -> str:
    out, at = [], 0
    for node in _outermost(tree, ("comment", "string_literal")):
        out.append(tree.source[at:node.start_byte].decode("utf-8"))
        if node.type == "string_literal":
            out.append("''" if node.children and node.children[0].type in _VERBATIM else '""')
        at = node.end_byte
    out.append(tree.source[at:].decode("utf-8"))
    return "".join(out)


def commands(tree: Tree) -> List[str]:
    return [tree.source[n.start_byte:n.end_byte].decode("utf-8") for n in walk(tree.root) if n.type == "command_name"]


def words(line: str) -> List[str]:
    """The words of one PowerShell command as it reads them: the command's name (a quoted one after
    `&`), then each parameter as written and each argument's value. Each must be literal: a bare
    word, a '...', or a "..." holding neither $ nor ` (the grammar leaves a lone $ and PowerShell's
    escapes unparsed, so they are refused here by PowerShell's own lexing rule)."""
    tree = parse(line.encode("utf-8"))
    live = [n.type for n in walk(tree.root) if n.type in ("sub_expression", "variable", "$")]
    assert not live, f"{line}: PowerShell would expand {live}"
    command = next(n for n in walk(tree.root) if n.type == "command")
    text = lambda n: tree.source[n.start_byte:n.end_byte].decode("utf-8")  # noqa: E731
    found = []
    for node in walk(command):
        if node.type in ("command_name", "command_parameter", "generic_token"):
            assert not set(text(node)) & set("$`'\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e"), text(node)
            found.append(text(node))
        elif node.type == "string_literal":
            (inner,) = node.children
            if inner.type == "verbatim_string_characters":
                # two of PowerShell's single quotes in a row stand for the second
                found.append(re.sub("([{0}])([{0}])".format(_SINGLE_QUOTES), r"\2", text(node)[1:-1]))
            else:
                assert inner.type == "expandable_string_literal" and not inner.children, text(node)
                assert not set(text(node)[1:-1]) & set("$`"), f"{text(node)}: PowerShell would expand it"
                found.append(text(node)[1:-1])
    return found


def windows_powershell_problems(code: str) -> List[str]:
    """Why a PowerShell example would not run as shown in Windows PowerShell 5.1, the PowerShell
    every Windows 10 and 11 has: `&&`/`||` (pipeline chains), `a ? b : c` and `??` are
    PowerShell 7 only; and a path left bare breaks on the first space (quote it)."""
    import re

    bare = re.sub(r"'[^']*'|\"[^\"]*\"|#.*", "", code)  # strings and comments out, roughly, for what no grammar parses
    problems = []
    if "??" in bare:
        problems.append("`??` is PowerShell 7 only")
    if re.search(r"\s\?\s[^{]*\s:\s", bare):
        problems.append("the ternary `a ? b : c` is PowerShell 7 only")
    if problems:
        return problems
    try:
        tree = parse(code.encode("utf-8"))
    except AssertionError as exc:
        return [str(exc)]
    for node in walk(tree.root):
        text = tree.source[node.start_byte:node.end_byte].decode("utf-8")
        if node.type == "pipeline_chain_tail":
            problems.append(f"`{text.strip()}` (a pipeline chain) is PowerShell 7 only: put the commands on separate lines")
        elif node.type in ("command_name", "generic_token") and ("\\" in text or "/" in text):
            problems.append(f"the path {text} is not quoted: write '{text}'")
    return problems
