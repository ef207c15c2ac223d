"""The one reader for text mambaboot did not write itself and cannot trust: records, conda-meta,
conda-meta/state, the cache's notes, lock files, environment files, .condarc, environments.txt.

Whatever such a file holds, reading it ends in a value or in UntrustedInput, whose message
names the file and what is wrong: never a hang (a fifo is not waited on), never a memory
blow-up (a size limit), never a RecursionError (a nesting limit, checked before parsing), and
never a NUL or a lone surrogate handed on where no path, variable or shell can hold one.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import jsontext

# The file layer and the errors are imported where a file is opened or refused: `run` checks an
# environment's variables with json() below, and its start-up pays for every import.

# Sizes no genuine file of its kind comes near, and nesting none needs (conda-meta's deepest
# is 4: record, paths_data, paths, entry). A limit is a refusal to read, not a truncation.
MiB = 1 << 20
SMALL = 1 * MiB  # the cache's notes, conda-meta/state
TEXT = 16 * MiB  # locks, .condarc, environments.txt
# environment files: a name, a few channels and at most a few hundred specs (an exported one with
# a thousand packages is ~40 KiB), and parsed as YAML in a few seconds even at this size
ENV_FILE = 1 * MiB
RECORD = 64 * MiB  # PREFIX/.mambaboot/record.json (a package list)
PACKAGE_RECORD = 256 * MiB  # conda-meta/*.json: one entry per file of the package
DEPTH = 64

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def refuse(path: str, problem: str) -> UntrustedInput:
    from mambaboot.common.errors import UntrustedInput

    return UntrustedInput(f"{path}: {problem}", path=path, problem=problem)


def _opened(path: str, follow: bool, top: str | None = None, rel: str | None = None, how=None):
    """The file opened through the confined layer (common/files/confined.py), its refusals said as
    UntrustedInput: a regular file only, a fifo never waited on, and no link followed below a
    directory of ours. follow: a file the user named, read through its links as they meant it;
    top and rel: rel reached below top one component at a time; within: top, opened already."""
    from mambaboot.common.errors import Escapes, NotRegular
    from mambaboot.common.files import confined

    try:
        if how is not None:
            return how()
        if top is not None:
            with confined.Root.open(top) as root:
                return root.open_read(rel)
        if follow:
            return confined.open_named(path)
        root, name = confined.split(path)
        with root:
            return root.open_read(name)
    except Escapes:
        raise refuse(path, "is a symbolic link (or lies behind one), which is not followed here") from None
    except NotRegular as exc:
        raise refuse(path, str(exc).replace(exc.filename or path, "", 1).strip() or "is not a regular file") from None
    except ValueError:  # a NUL in the name
        raise refuse(path, "the name holds a NUL character") from None


def _limited(f, path: str, limit: int) -> bytes:
    from mambaboot.common.files import confined

    with f:
        data = confined.read_at_most(f, limit)
    if len(data) > limit:
        raise refuse(path, f"is bigger than {limit // MiB} MiB, more than such a file ever holds")
    return data


def read_bytes(path: str, limit: int = TEXT, follow: bool = True) -> bytes:
    """The file's bytes; UntrustedInput when it is not a regular file or is bigger than limit.
    follow=False: a symbolic link at its name is refused (a file inside an environment or the
    cache, where a link would lead the read elsewhere); a file the user named is read through
    its links."""
    return _limited(_opened(path, follow), path, limit)


def read_bytes_in(top: str, rel: str, limit: int = TEXT) -> bytes:
    """read_bytes of rel below the directory top, no link followed on the way."""
    path = os.path.join(top, *rel.split("/"))
    return _limited(_opened(path, False, top, rel), path, limit)


def read_each_in(top: str, directory: str, names, limit: int = TEXT):
    """(path, bytes) of each name in directory below top ('/'-separated), each read as
    read_bytes_in reads it, the directory reached once (below top, no link followed) rather than
    once a file: conda-meta's records, one per package."""
    from mambaboot.common.files import confined

    names = list(names)
    if not names:
        return
    base = os.path.join(top, *directory.split("/"))
    first = os.path.join(base, names[0])  # what a refusal on the way to the directory names
    with _opened(first, False, how=lambda: confined.Root.open(top)) as root, \
            _opened(first, False, how=lambda: root.sub(directory)) as inner:
        for name in names:
            path = os.path.join(base, name)
            yield path, _limited(_opened(path, False, how=lambda: inner.open_read(name)), path, limit)


def text(data: bytes, path: str, utf16: bool = False) -> str:
    """UTF-8 text, with or without a byte-order mark (which is dropped), holding no NUL.
    utf16: UTF-16 with its byte-order mark is read too, what Windows PowerShell 5.1's `>` writes
    (conda reads an environment file so: load_file, conda/env/env.py, 26.x, decodes UTF-16 when
    UTF-8 fails; without a mark its text is UTF-8 with a NUL in every other byte, which conda's
    YAML reader refuses too)."""
    if utf16 and data[:2] in UTF16_BOMS:
        try:
            decoded = data[2:].decode(UTF16_BOMS[data[:2]])
        except UnicodeDecodeError as exc:
            raise refuse(path, f"is not UTF-16 text, though it starts with UTF-16's byte-order mark "
                               f"(byte {exc.start + 2})") from None
        return _no_nul(decoded, path)
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        decoded = data.decode("utf-8")  # strict: an encoded surrogate is refused too
    except UnicodeDecodeError as exc:
        raise refuse(path, f"is not UTF-8 text (byte {exc.start})") from None
    if utf16 and "\0" in decoded[:2]:
        raise refuse(path, "looks like UTF-16 text without a byte-order mark; save it as UTF-8 "
                           "(or as UTF-16 with its mark, as Windows PowerShell writes it)")
    return _no_nul(decoded, path)


def _no_nul(decoded: str, path: str) -> str:
    if "\0" in decoded:
        raise refuse(path, f"holds a NUL character (line {decoded.count(chr(10), 0, decoded.index(chr(0))) + 1})")
    return decoded


def lines(text: str) -> list:
    """text's lines as Python reads a file in text mode (universal newlines: conda's lock and
    environments files, a .pth file) and YAML 1.2 reads its lines: ended by "\n", "\r\n" or "\r"
    only, never at U+0085, U+2028, form feed or vertical tab, as str.splitlines would."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_user_text(path: str, limit: int = TEXT) -> str:
    """A text file the user named (an environment file, a lock), as text() reads it with utf16: the
    limit counts characters of UTF-16 (two bytes each), so the same text fits in either encoding."""
    data = read_bytes(path, 2 * limit)
    if data[:2] not in UTF16_BOMS and len(data) > limit:
        raise refuse(path, f"is bigger than {limit // MiB} MiB, more than such a file ever holds")
    return text(data, path, utf16=True)


def read_text(path: str, limit: int = TEXT, follow: bool = True) -> str:
    return text(read_bytes(path, limit, follow), path)


# A JSON string (escapes included), what is left of the text to count nesting in, and its
# innermost pairs: compiled when a text has more brackets than the limit (re is not imported
# at start-up: remove and a create's wait before its engine read records and notes).
_PATTERNS: list = []


def _patterns() -> list:
    if not _PATTERNS:
        import re

        _PATTERNS.extend((re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S), re.compile(r"[^\[\]{}]+"),
                          re.compile(r"\[\]|\{\}")))
    return _PATTERNS


def _nesting_beyond(body: str, depth: int) -> bool:
    """Whether brackets outside strings nest deeper than depth: innermost pairs taken away a
    level at a time, never recursion. Unbalanced text is left to the parser to refuse."""
    if body.count("[") + body.count("{") <= depth:
        return False
    string, not_bracket, innermost = _patterns()
    brackets = not_bracket.sub("", string.sub("", body))
    for _ in range(depth):
        brackets, taken = innermost.subn("", brackets)
        if not brackets or not taken:
            return False
    return bool(innermost.search(brackets))


def nesting(value: object) -> int:
    """How many lists and dicts value nests, itself counted (a scalar: 0), as json() counts its
    brackets: what a value is, written into a file this layer reads back, must stay within DEPTH.
    Walked without recursion: the value may come from a file nested as deep as its reader allows."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, (list, tuple)):
            continue
        deepest = max(deepest, level)
        todo.extend((v, level + 1) for v in item)
    return deepest


def json(data: bytes | str, path: str, depth: int = DEPTH, strings: bool = True) -> object:
    """The JSON value data holds. strings: every key and string value is checked to hold no
    NUL and no lone surrogate (what `\\u0000` and `\\ud800` escapes write)."""
    body = data if isinstance(data, str) else text(data, path)
    if _nesting_beyond(body, depth):
        raise refuse(path, f"is JSON nested deeper than {depth} levels")
    try:
        value = jsontext.loads(body)
    except RecursionError:  # pragma: no cover - the nesting check comes first
        raise refuse(path, f"is JSON nested deeper than {depth} levels") from None
    except ValueError as exc:
        raise refuse(path, f"is not valid JSON ({exc})") from None
    # A raw NUL or surrogate cannot be in strict UTF-8 JSON text: only an escape can write one
    # (else no walk over a big record; a false alarm, an escaped backslash or \ud7ff, only costs the walk).
    # Text without a backslash holds no escape: one search for a character (memchr) rather than
    # three for a string, ~1 ms over conda-meta's records after create's engine.
    if strings and "\\" in body and ("\\u0000" in body or "\\ud" in body or "\\uD" in body):
        check_strings(value, path)
    return value


def read_json(path: str, limit: int = SMALL, follow: bool = False, depth: int = DEPTH, strings: bool = True) -> object:
    return json(read_bytes(path, limit, follow), path, depth, strings)


def read_json_in(top: str, rel: str, limit: int = SMALL, depth: int = DEPTH) -> object:
    """read_json of rel below the directory top, no link followed on the way."""
    return json(read_bytes_in(top, rel, limit), os.path.join(top, *rel.split("/")), depth)


def unusable(value: str) -> str | None:
    """What in value no path, variable or shell can hold (None: nothing)."""
    if "\0" in value:
        return "a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not a character)"
    return None


def check_string(value: str, path: str, where: str) -> str:
    """value, when a path, a variable or a shell can hold it; UntrustedInput naming where."""
    wrong = unusable(value)
    if wrong:
        raise refuse(path, f"{where} holds {wrong}: {value!r}")
    return value


def check_strings(value: object, path: str) -> None:
    """Every string in a parsed value (keys too), without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if unusable(item):
                check_string(item, path, "a string")
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def yaml(data: bytes | str, path: str, depth: int = DEPTH, marks: dict | None = None) -> object:
    """The YAML data holds, read by ruamel.yaml as conda reads it (common/yamlread: nested at most
    depth levels, no alias, within its time); marks: filled with where each node starts (yamlread.parse)."""
    from mambaboot.common import yamlread

    try:
        return yamlread.parse(data if isinstance(data, str) else text(data, path), max_depth=depth, marks=marks)
    except yamlread.YamlError as exc:
        raise refuse(path, str(exc)) from None


def within(root: str, relative: str, path: str, where: str) -> str:
    """root joined with relative (a '/'-separated name read from a file), when it stays below
    root: no absolute name, no '..', no drive, no NUL. UntrustedInput naming where otherwise."""
    check_string(relative, path, where)
    parts = relative.replace("\\", "/").split("/")
    if (not relative or relative.startswith(("/", "\\")) or os.path.isabs(relative) or ":" in parts[0]  # a drive
            or any(p in ("", ".", "..") for p in parts)):
        raise refuse(path, f"{where} {relative!r} does not name a file inside {root}")
    return os.path.join(root, *parts)
