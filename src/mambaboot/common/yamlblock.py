"""The block YAML that pixi (rattler_lock, through serde_yaml), conda-lock and conda write, read in
one pass over its lines: ruamel.yaml's pure-Python parser reads a few MB a second, and a team's
lock is 1-3 MB.

The subset: block mappings and sequences (a sequence at its key's own indentation too, as these
tools write it), `- key: value` entries, plain scalars on one line, single-quoted ones and
double-quoted ones without a backslash (wrapped over lines too, as conda-lock wraps a long
constraint), the empty flow collections `{}` and `[]`,
comments, LF or CRLF line ends. Anything else raises Outside before a value is given: flow
collections with something in them, anchors, aliases, tags, block scalars, plain scalars over
several lines, tabs, document markers and directives, quoted keys, a duplicate or merge key, nesting past
the limit, a character ruamel's reader refuses, and every text YAML refuses. common/yamlread then
reads the text with ruamel, so that the answer is ruamel's, as conda's is (its errors too).
tests/test_yaml_agreement.py holds the two to the same value on every corpus file and on generated
documents.

Values are yamlread's: dicts, lists, scalars as the text written, None for the plain nulls.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import re


class Outside(Exception):
    """The text is not in the subset (or is no YAML): read it with ruamel."""


# What the subset never holds: what ruamel's reader refuses (NON_PRINTABLE, ruamel/yaml/reader.py,
# 0.18), a tab, a byte-order mark (ruamel skips one at the start only), and the line breaks other
# than LF that ruamel's scanner knows (CR alone, NEL, LS, PS).
_OUTSIDE = re.compile("[^\x0A\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD\U00010000-\U0010FFFF]")
NULLS = ("", "~", "null", "Null", "NULL")  # the plain scalars YAML reads as null
# The characters a plain scalar may not start with (check_plain, ruamel/yaml/scanner.py): the subset
# takes `-` followed by something other than a space, and none of the others.
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
# ruamel reads no implicit key whose `:` is further from its start, the spaces before the `:` counted
# (stale_possible_simple_keys, ruamel/yaml/scanner.py: "could not find expected ':'")
_SIMPLE_KEY = 1024


def read(text: str, max_depth: int, marks: dict | None = None) -> object:
    """The value of text; Outside when it is not in the subset. marks: filled with each node's
    (line, column), 1-based, by its path of keys and indices, a scalar's with how it is written
    (as yamlread.parse gives them; a mapping's value left empty: none)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if _OUTSIDE.search(text) is not None:
        raise Outside
    # a frame: [indent, container, is a mapping, is a sequence at its key's indentation, path]
    stack: list = []
    # after `key:` or `-` with nothing after it: [mapping or sequence, key or index, its indentation, path]
    pending = None
    root = None
    number = 0
    lines = iter(text.split("\n"))
    for line in lines:
        number += 1
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(line) - len(content)
        first = content[0]
        item = first == "-" and (len(content) == 1 or content[1] == " ")
        if indent == 0 and (content[:3] in ("---", "...") and content[3:4] in ("", " ") or first == "%"):
            raise Outside  # a document marker or a directive
        if pending is not None:
            container, key, at, path = pending
            pending = None
            # the value below `key:` or `-`; a sequence may sit at its key's indentation, not its item's
            if indent > at or indent == at and item and type(container) is dict:
                if len(stack) >= max_depth:
                    raise Outside
                node = [] if item else {}
                container[key] = node
                stack.append([indent, node, not item, indent == at, path])
                if marks is not None:
                    marks[path] = (number, indent + 1)
        if not stack:
            if root is not None:
                raise Outside  # a second node at the top: no YAML
            root = [] if item else {}
            stack.append([indent, root, not item, False, ()])
            if marks is not None:
                marks[()] = (number, indent + 1)
        while stack and (stack[-1][0] > indent or stack[-1][3] and stack[-1][0] == indent and not item):
            stack.pop()
        if not stack or stack[-1][0] != indent:
            raise Outside  # indented as no open node is (a continued scalar, or no YAML)
        frame = stack[-1]
        if frame[2]:
            if item:
                raise Outside
            split = _key(content)
        else:
            if not item:
                raise Outside
            rest = content[1:].lstrip(" ")
            column = len(line) - len(rest)
            seq = frame[1]
            path = frame[4] + (len(seq),) if marks is not None else None
            if not rest or rest[0] == "#":  # an empty item, or one whose node is on the lines below
                pending = [seq, len(seq), indent, path]
                seq.append(None)
                if marks is not None:  # ruamel's empty scalar starts after the `-` (a node below moves it)
                    marks[path] = (number, indent + 2, "")
                continue
            if rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
                raise Outside  # `- - x`
            split = _key(rest)
            if split is None:
                start = number
                if rest[0] in "'\"" and _closing(rest, 1) < 0:
                    rest, number = _wrapped(rest, lines, number, frame[0])
                seq.append(_value(rest, stack, max_depth, marks, path, start, column))
                continue
            if len(stack) >= max_depth:
                raise Outside
            node = {}
            seq.append(node)
            frame = [column, node, True, False, path]
            stack.append(frame)
            if marks is not None:
                marks[path] = (number, column + 1)
        if split is None:
            raise Outside  # a scalar where a key belongs
        key, value = split
        mapping = frame[1]
        if key in NULLS:
            key = None
        elif key == "<<":
            raise Outside
        if key in mapping:
            raise Outside  # a duplicate key: ruamel's refusal says it
        path = frame[4] + (key,) if marks is not None else None
        if not value or value[0] == "#":
            mapping[key] = None
            pending = [mapping, key, frame[0], path]
            continue
        start, column = number, len(line) - len(value)
        if value[0] in "'\"" and _closing(value, 1) < 0:
            value, number = _wrapped(value, lines, number, frame[0])
        mapping[key] = _value(value, stack, max_depth, marks, path, start, column)
    return root


def _key(text: str):
    """(key, the rest after `: ` with its spaces stripped) when text is `key: ...`, else None."""
    first = text[0]
    if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " "):
        if first in "'\"[{":
            return None  # a quoted scalar or a flow collection: _value reads it (and a key after it is Outside)
        raise Outside
    at = text.find(": ")
    if at < 0:
        if not text.endswith(":"):
            return None
        at = len(text) - 1
    comment = text.find(" #")
    if 0 <= comment < at:
        return None  # `a #b: c`: the scalar a, then a comment
    if at >= _SIMPLE_KEY:
        raise Outside
    return text[:at].rstrip(" "), text[at + 1:].lstrip(" ")


def _value(text: str, stack: list, max_depth: int, marks, path, number: int, column: int):
    """The scalar or empty flow collection text starts with (what follows it: a comment only)."""
    first = text[0]
    if marks is not None:
        marks[path] = (number, column + 1) if first == "[" or first == "{" else \
            (number, column + 1, first if first == "'" or first == '"' else "")
    if first == "'" or first == '"':
        end = _closing(text, 1)
        if end < 0:
            raise Outside
        inner = text[1:end]
        if first == '"':
            if "\\" in inner:
                raise Outside
        else:
            inner = inner.replace("''", "'")
        _only_comment(text[end + 1:])
        return inner
    if first == "[" or first == "{":
        _only_comment(text[2:])
        if text[1:2] != ("]" if first == "[" else "}"):
            raise Outside
        if len(stack) >= max_depth:
            raise Outside
        return [] if first == "[" else {}
    if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " "):
        raise Outside
    comment = text.find(" #")
    if comment >= 0:
        text = text[:comment]
    text = text.rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise Outside  # `a: b: c`, which YAML refuses
    return None if text in NULLS else text


def _closing(text: str, start: int) -> int:
    """Where the quote text[0] opened closes, looking from start (-1: not on this line); `''` is a
    quote inside a single-quoted scalar."""
    quote = text[0]
    end = start - 1
    while True:
        end = text.find(quote, end + 1)
        if end < 0 or quote == '"' or text[end + 1:end + 2] != "'":
            return end
        end += 1


def _wrapped(text: str, lines, number: int, indent: int) -> tuple:
    """A quoted scalar wrapped over lines (conda-lock wraps long constraints at 80 columns), read
    on as one line with YAML's folding: a line break between two lines is a space, each empty line
    between them a line feed, the spaces around a break dropped; (that line, the last line's number).
    A continuation line not indented past the node holding the scalar is left to ruamel."""
    parts = [text.rstrip(" ")]
    empty = 0
    for line in lines:
        number += 1
        content = line.lstrip(" ")
        if not content:
            empty += 1
            continue
        if len(line) - len(content) <= indent:
            raise Outside
        parts.append("\n" * empty if empty else " ")
        empty = 0
        if _closing(text[0] + content, 1) >= 0:
            parts.append(content)  # a quote that ends a line closes the scalar: no `''` spans a break
            return "".join(parts), number
        parts.append(content.rstrip(" "))
    raise Outside  # never closed


def _only_comment(rest: str) -> None:
    stripped = rest.lstrip(" ")
    if stripped and (stripped[0] != "#" or len(stripped) == len(rest)):
        raise Outside
