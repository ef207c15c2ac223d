"""The declared shape of each file mambaboot reads back, checked in one place before any field
is used: which keys, of which types, and which fields are places and how they must relate to
the file's own location.

A shape is a dict, field -> Field, made with `required(...)` and `optional(...)`:

    NOTE = {"prefix": required(str, rule=absolute_place), "pid": optional(int)}
    note = shapes.check(untrusted.read_json(path), NOTE, path)

A Field names the types its value may have (None among them for a JSON null; an int is never a
bool), and optionally a rule: another shape (a nested object), `each(...)` (a list whose every
element, or an object whose every value, is checked), or a function (value, path) -> a problem,
or None when the value is right (the place, URL and digest rules below). Keys a shape does not
name are let through, untouched and unused: a later mambaboot may add fields. A value that does
not fit is UntrustedInput (common/errors.py; a ValueError too), whose message names the file and
the field: "no record of ours" to every reader that passes over a file it cannot trust.
`check_value` checks one value read from a file on its own (the URL on one line of a lock).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.errors import UntrustedInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class Field:
    __slots__ = ("types", "needed", "rule")

    def __init__(self, types: tuple, needed: bool, rule: object = None) -> None:
        self.types, self.needed, self.rule = types, needed, rule


class each:  # noqa: N801 - reads as a declaration: optional(list, rule=each(str))
    """A list whose every element, or an object whose every value, fits field (a type, a shape
    or a Field): a name -> constraint map is an object of strings."""

    __slots__ = ("field",)

    def __init__(self, field: object) -> None:
        self.field = field if isinstance(field, Field) else Field((dict,), True, field) if isinstance(field, dict) \
            else Field(field if isinstance(field, tuple) else (field,), True)


def required(*types: type, rule: object = None) -> Field:
    return Field(tuple(type(None) if t is None else t for t in types), True, rule)


def optional(*types: type, rule: object = None) -> Field:
    return Field(tuple(type(None) if t is None else t for t in types), False, rule)


def _fits(value: object, types: tuple) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
          bool: "true or false", type(None): "null"}


def _problem(value: object, field: Field, path: str, where: str) -> str | None:
    if not _fits(value, field.types):
        return f"{where} is not {' or '.join(_NAMES.get(t, t.__name__) for t in field.types)}"
    rule = field.rule
    if isinstance(rule, dict) and isinstance(value, dict):
        return _object_problem(value, rule, path, where)
    if isinstance(rule, each) and isinstance(value, (list, dict)):
        inner = rule.field
        # a record's `files` lists every file of its package: each of its types checked at C speed
        # (an exact type fits as _fits has it, bool only where named), one by one only to name a misfit
        if inner.rule is None and all(type(item) in inner.types
                                      for item in (value.values() if isinstance(value, dict) else value)):
            return None
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            at = f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]"
            problem = _problem(item, rule.field, path, at)
            if problem:
                return problem
        return None
    if callable(rule) and value is not None:
        wrong = rule(value, path)
        return f"{where} {wrong}" if wrong else None
    return None


def _object_problem(value: Mapping, shape: Mapping[str, Field], path: str, where: str) -> str | None:
    for key, field in shape.items():
        if key not in value:
            if field.needed:
                return f"{where + '.' if where else ''}{key} is missing"
            continue
        problem = _problem(value[key], field, path, f"{where + '.' if where else ''}{key}")
        if problem:
            return problem
    return None


def check(value: object, shape: Mapping[str, Field], path: str, what: str = "") -> dict:
    """value (parsed from the file at path), when it is an object of this shape; UntrustedInput
    naming path and the first field that does not fit otherwise. what: the kind of file, for
    the message ("a note of mambaboot's")."""
    if not isinstance(value, dict):
        problem = "is not a JSON object"
    else:
        problem = _object_problem(value, shape, path, "")
        problem = problem and f"field {problem}"
    if problem:
        raise _refused(path, problem, what)
    return value


def check_value(value: object, field: Field, path: str, where: str, what: str = "") -> object:
    """value, read from the file at path at where (a line, or a field), when it fits field;
    UntrustedInput naming path and where otherwise."""
    problem = _problem(value, field, path, where)
    if problem:
        raise _refused(path, problem, what)
    return value


def _refused(path: str, problem: str, what: str) -> UntrustedInput:
    kind = f" (as {what})" if what else ""
    return UntrustedInput(f"{path}: {problem}{kind}", path=path, problem=problem)


# -- places: how a field that names a place must relate to the file it is read from


def exactly(*allowed: object) -> Callable[[object, str], str | None]:
    """A rule: the value is one of these (a format marker: "tool": "mambaboot")."""
    return lambda value, path: None if value in allowed else f"is {value!r}, not {' or '.join(map(repr, allowed))}"


def absolute_place(value: str, path: str) -> str | None:
    """An absolute path (a prefix a note in the cache names), with no NUL in it."""
    if "\0" in value or not os.path.isabs(value):
        return f"{value!r} is not an absolute path"
    return None


def keyed_place(value: str, path: str) -> str | None:
    """The absolute path whose key names the file itself (CACHE/environments/<key>.json holds the
    prefix whose fsops.path_key is <key>): a note copied or written under another name is
    not the note of the place it names."""
    from mambaboot.common.files import fsops

    wrong = absolute_place(value, path)
    if wrong:
        return wrong
    if os.path.basename(path) != fsops.path_key(value) + ".json":
        return f"{value!r} is not the place this file's name is the key of"
    return None


def digest(length: int) -> Callable[[str, str], str | None]:
    """A rule: a hexadecimal digest of this many digits (64: a sha256)."""
    def rule(value: str, path: str) -> str | None:
        ok = len(value) == length and all(c in "0123456789abcdefABCDEF" for c in value)
        return None if ok else f"{value!r} is not a hexadecimal digest of {length} digits"
    return rule


def usable(value: str, path: str) -> str | None:
    """A string a path, a variable or a shell can hold: no NUL, no lone surrogate (a name, a version)."""
    from mambaboot.common import untrusted

    wrong = untrusted.unusable(value)
    return f"holds {wrong}: {value!r}" if wrong else None


def url(value: str, path: str) -> str | None:
    """A URL (or a path) that urllib reads (common/urlrule.py: a '[' that opens no IPv6 address
    is refused there) and whose text, %-escapes decoded, holds no NUL: no file name can hold one."""
    from urllib.parse import unquote  # not at start-up: few files name a URL

    from mambaboot.common import untrusted, urlrule

    wrong = untrusted.unusable(unquote(value))
    if wrong:
        return f"{urlrule.refused(value)} holds {wrong}"
    wrong = urlrule.unreadable(value)
    return f"{urlrule.refused(value)} {wrong}" if wrong else None


def package_url(value: str, path: str) -> str | None:
    """A url that names a conda package's archive (.conda or .tar.bz2), as a lock locks it."""
    wrong = url(value, path)
    if wrong or value.endswith((".conda", ".tar.bz2")):
        return wrong
    return f"{value!r} is not a package URL: it names no .conda or .tar.bz2 archive"
