"""The part of YAML that conda environment files use, read with the standard library.

Block mappings and sequences (a sequence may sit at its key's own indentation, as `conda
env export` writes it), sequence items that are mappings (`- pip:`), flow sequences
(`[a, b]`), the empty flow mapping `{}` (PyYAML writes an empty dict so: conda-lock's
`dependencies: {}`), plain and quoted scalars, comments and a leading `---`. Scalars stay
strings. Anything else (anchors, tags, block scalars, other flow mappings) is refused with its
line number rather than misread.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import re

from mambaboot.common.values import value


class YamlError(ValueError):
    pass


@value
class _Line:
    number: int
    indent: int
    text: str

_UNSUPPORTED = {"&": "anchors", "*": "aliases", "!": "tags", "|": "block scalars", ">": "block scalars",
                "{": "flow mappings", "%": "directives", "@": "reserved characters", "`": "reserved characters"}
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0", "r": "\r"}


# Deeper than any settings or environment file goes, and far below Python's recursion limit,
# which each level of nesting costs a few frames of.
MAX_DEPTH = 64


def parse(text: str, max_depth: int = MAX_DEPTH) -> object:
    lines = _lines(text)
    if not lines:
        return None
    value, i = _block(lines, 0, lines[0].indent, max_depth)
    if i < len(lines):
        raise YamlError(f"line {lines[i].number}: unexpected indentation")
    return value


def _strip_comment(raw: str) -> str:
    quote = None
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or raw[i - 1] in " \t[,-:"):
            quote = ch
        elif ch == "#" and (i == 0 or raw[i - 1] in " \t"):
            return raw[:i].rstrip()
    return raw.rstrip()


def _lines(text: str) -> list[_Line]:
    """YAML 1.2's lines (the spec's §5.4: a line ends at "\n", "\r\n" or "\r" only; U+0085, U+2028,
    U+2029 are no line breaks in 1.2, nor are form feed and vertical tab, which str.splitlines
    also breaks at: a path holding one, as .condarc carries it, stays whole)."""
    out = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlError(f"line {number}: tabs are not allowed for indentation")
        body = _strip_comment(raw)
        stripped = body.strip()
        if not stripped or (not out and stripped == "---"):
            continue
        if stripped in ("---", "..."):
            raise YamlError(f"line {number}: only one document is supported")
        out.append(_Line(number, len(body) - len(body.lstrip()), stripped))
    return out


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _block(lines: list[_Line], i: int, indent: int, depth: int) -> tuple[object, int]:
    if _is_item(lines[i].text):
        return _sequence(lines, i, indent, depth)
    return _mapping(lines, i, indent, depth)


def _deeper(depth: int, line: _Line) -> int:
    if depth <= 0:
        raise YamlError(f"line {line.number}: nested deeper than mambaboot reads ({MAX_DEPTH} levels)")
    return depth - 1


def _sequence(lines: list[_Line], i: int, indent: int, depth: int) -> tuple[list[object], int]:
    depth = _deeper(depth, lines[i])
    items: list[object] = []
    while i < len(lines) and lines[i].indent == indent and _is_item(lines[i].text):
        line = lines[i]
        rest = line.text[1:].lstrip()
        if not rest:
            if i + 1 < len(lines) and lines[i + 1].indent > indent:
                value, i = _block(lines, i + 1, lines[i + 1].indent, depth)
            else:
                value, i = None, i + 1
        elif _split_key(rest, line.number) is not None:
            # "- key: value" opens a mapping whose keys line up with "key".
            inner = indent + (len(line.text) - len(rest))
            lines[i] = _Line(line.number, inner, rest)  # in place: no line before i is read again
            value, i = _mapping(lines, i, inner, depth)
        else:
            value, i = _scalar(rest, line.number), i + 1
        items.append(value)
    return items, i


def _mapping(lines: list[_Line], i: int, indent: int, depth: int) -> tuple[dict[str, object], int]:
    depth = _deeper(depth, lines[i])
    result: dict[str, object] = {}
    while i < len(lines) and lines[i].indent == indent and not _is_item(lines[i].text):
        line = lines[i]
        split = _split_key(line.text, line.number)
        if split is None:
            raise YamlError(f"line {line.number}: expected 'key: value', found {line.text!r}")
        key, rest = split
        if key in result:
            raise YamlError(f"line {line.number}: duplicate key {key!r}")
        i += 1
        if rest:
            result[key] = _scalar(rest, line.number)
        elif i < len(lines) and (lines[i].indent > indent or (lines[i].indent == indent and _is_item(lines[i].text))):
            result[key], i = _block(lines, i, lines[i].indent, depth)
        else:
            result[key] = None
    if i < len(lines) and lines[i].indent > indent:
        raise YamlError(f"line {lines[i].number}: unexpected indentation")
    return result, i


# A plain key may hold ':' not followed by a space, as YAML allows (`https://host: url`).
_KEY = re.compile(r"^(\"[^\"]*\"|'[^']*'|[^\s:#](?:[^:#]|:(?=[^\s]))*?)\s*:(?:\s+(.*))?$")


def _split_key(text: str, number: int):
    match = _KEY.match(text)
    if not match:
        return None
    key = match.group(1)
    return _scalar(key, number), (match.group(2) or "").strip()


def _scalar(text: str, number: int) -> object:
    if re.fullmatch(r"\{\s*\}", text):
        return {}
    if text.startswith("["):
        if not text.endswith("]"):
            raise YamlError(f"line {number}: a flow sequence must end on its line")
        return [_scalar(part, number) for part in _split_flow(text[1:-1], number)]
    if text[0] in _UNSUPPORTED:
        raise YamlError(f"line {number}: {_UNSUPPORTED[text[0]]} are not supported ({text!r})")
    if text[0] == "'":
        if len(text) < 2 or not text.endswith("'"):
            raise YamlError(f"line {number}: unterminated quote in {text!r}")
        return text[1:-1].replace("''", "'")
    if text[0] == '"':
        if len(text) < 2 or not text.endswith('"'):
            raise YamlError(f"line {number}: unterminated quote in {text!r}")
        return _unescape(text[1:-1], number)
    if text in ("~", "null", "Null", "NULL"):
        return None
    return text


def _unescape(body: str, number: int) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1: i + 2]
            if nxt not in _ESCAPES:
                raise YamlError(f"line {number}: unsupported escape \\{nxt}")
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _split_flow(body: str, number: int) -> list[str]:
    parts, current, quote = [], [], None
    for ch in body:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[]{}":
            raise YamlError(f"line {number}: nested flow collections are not supported")
        elif ch == ",":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if quote:
        raise YamlError(f"line {number}: unterminated quote")
    parts.append("".join(current).strip())
    if parts == [""]:
        return []
    if "" in parts:
        raise YamlError(f"line {number}: empty item in a flow sequence")
    return parts
