"""YAML read by the parser conda reads it with, inside the bounds of untrusted input.

conda 26.x reads environment files and .condarc with ruamel.yaml's round-trip loader
(`_yaml`, `YAML(typ="rt")`, conda/common/serialize/yaml.py; its `read`), pure Python (the
round-trip loader has no C parser). Here the events come from ruamel's pure-Python safe parser,
`YAML(typ="safe", pure=True)` (what conda's `_yaml_safe` was before 26.x, conda/common/serialize.py):
the same scanner but for comments, which the round-trip one keeps and values never hold, and a
third faster. The values are composed from the events without recursion, so that what the
untrusted layer promises holds whatever the text: nesting deeper than max_depth, an alias (billion
laughs: `*a` repeated, each expanding the last), an explicit tag other than !!str/!!null, a merge
key (`<<`), a duplicate key or a second document is refused naming its line and column; so is a
read that takes longer than its time (`budget`: ruamel's Python reads a few MB a second).

Values: mappings are dicts, sequences lists; a scalar is the text ruamel read for it (a plain
value continued over lines and a quoted one wrapped onto the next line are folded as YAML folds
them), except the plain scalars YAML reads as null (empty, `~`, `null`, `Null`, `NULL`), which are
None. Keeping every other scalar as text is where this differs from ruamel's constructor, which
would make `3.10` a float (1.2's core schema): a version, a build string or a pin stays as written,
as conda's specs do (it str()s each one, MatchSpec). tests/test_yaml_agreement.py holds this
reader to ruamel.yaml on a corpus of real files.

The block YAML that pixi, conda-lock and conda write is read first by common/yamlblock, in one pass
over its lines (a 3 MB pixi.lock in a fraction of a second, where ruamel's Python takes several):
any text outside that subset, or that YAML refuses, is read here by ruamel, so that the value and
the refusal are always ruamel's.

ruamel.yaml is bundled into the zipapp (tools/build_zipapp.py) and imported here only, when a
YAML file outside that subset is read: a command that reads none pays nothing for it.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

from mambaboot.common import patterns

# Deeper than any settings, environment or lock file goes (a pixi.lock: 5).
MAX_DEPTH = 64
MiB = 1 << 20


def budget(text: str) -> float:
    """Seconds a read of text may take: several times what ruamel's Python needs on a slow, busy
    machine (~5 s a MiB), never more than a few minutes for the largest file the untrusted layer reads."""
    return 60.0 + 15.0 * len(text) / MiB


_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_CHECK_EVERY = 1024  # events between two looks at the clock


class YamlError(ValueError):
    pass


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


# What ruamel says of the mistakes real files hold, with what they mean in an environment file.
_HINTS = (
    ("mapping values are not allowed here",
     "a line that holds `key: value` continues the value above it: a continued value (one more "
     "indented than its key) cannot hold `: `; quote the value, or indent the key as its siblings are"),
    ("could not find expected ':'",
     "a line continues a key or a value where YAML allows no continuation: a key must end on its line"),
    ("found character '\\t' that cannot start any token", "tabs are not allowed for indentation"),
    ("expected <block end>", "a line is indented as none of the lines above it at its level is: "
     "items of one list, and keys of one mapping, start in one column"),
)


def _message(exc) -> str:
    """ruamel's error said on one line, with its line and column (1-based, as editors count)."""
    problem = getattr(exc, "problem", None)
    if problem is None:
        reason = getattr(exc, "reason", None)
        if reason is not None:  # ReaderError: a character YAML does not allow in a stream
            char = exc.character
            return f"character {char if isinstance(char, int) else '?':#06x} at position {exc.position}: {reason}"
        return str(exc).replace("\n", " ")
    said = f"{_where(exc.problem_mark)}: {problem}"
    context, mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        said += f" ({context}{' at ' + _where(mark) if mark is not None else ''})"
    for found, hint in _HINTS:
        if found in problem:
            said += f"; {hint}"
    return said


def parse(text: str, max_depth: int = MAX_DEPTH, seconds: float | None = None, clock=None,
          marks: dict | None = None) -> object:
    """The value of the one document text holds (None for none); YamlError naming the cause.
    marks: filled with where each node starts, (line, column), 1-based, by its path of keys and
    indices from the top (() for the top node; an item left empty: after its `-`; a mapping's value
    left empty: none); a scalar's has a third item, how it is written: its quote (`'` or `"`), a block
    scalar's `|` or `>`, "" plain on one line, "\n" plain over several (plain_type says what YAML
    makes of a plain one)."""
    from mambaboot.common import yamlblock

    try:
        return yamlblock.read(text, max_depth, marks)
    except yamlblock.Outside:
        if marks is not None:
            marks.clear()
    return _parse(text, max_depth, seconds, clock, marks)


def _parse(text: str, max_depth: int, seconds: float | None, clock, marks: dict | None) -> object:
    import time

    from ruamel.yaml import YAML, YAMLError, events

    from mambaboot.common.yamlblock import NULLS

    clock = clock or time.monotonic
    seconds = budget(text) if seconds is None else seconds
    deadline = clock() + seconds
    stack: list = []  # [container, the pending key of a mapping (_NONE: none), its path]
    result, documents, count = None, 0, 0
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            count += 1
            if count % _CHECK_EVERY == 0 and clock() > deadline:
                raise YamlError(f"{_where(event.start_mark)}: reading took longer than {seconds:.0f} s; "
                                "no environment file or lock comes near that")
            kind = type(event)
            if kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlError(f"{_where(event.start_mark)}: a second document (`---`), which ruamel.yaml "
                                    "refuses too (conda reads a file as one document)")
                continue
            if kind is events.AliasEvent:
                raise YamlError(f"{_where(event.start_mark)}: an alias (*{event.anchor}) is not read "
                                "(what it repeats can grow past any bound)")
            if kind in (events.MappingStartEvent, events.SequenceStartEvent):
                _tag(event, None)
                if len(stack) >= max_depth:
                    raise YamlError(f"{_where(event.start_mark)}: nested deeper than mambaboot reads "
                                    f"({max_depth} levels)")
                value = {} if kind is events.MappingStartEvent else []
                path = _path(stack, event, marks)
                if stack:
                    _add(stack, value, event)
                else:
                    result = value
                stack.append([value, _NONE, path])
                continue
            if kind in (events.MappingEndEvent, events.SequenceEndEvent):
                stack.pop()
                continue
            if kind is events.ScalarEvent:
                value = _tag(event, event.value)
                if value is _NONE:
                    value = None if event.style is None and event.value in NULLS else event.value
                # an empty value has a mark in a list only: ruamel puts a mapping's after the next token
                if marks is not None and (event.value or event.style is not None
                                          or stack and type(stack[-1][0]) is list):
                    path = _path(stack, event, marks)
                    if path is not None:  # how it was written: what a plain scalar is to YAML depends on it
                        style = event.style or ("\n" if event.end_mark.line > event.start_mark.line else "")
                        marks[path] += (style,)
                if stack:
                    _add(stack, value, event)
                else:
                    result = value
    except YamlError:
        raise
    except YAMLError as exc:
        raise YamlError(_message(exc)) from None
    except RecursionError:  # pragma: no cover - no recursion in ruamel's scanner and parser
        raise YamlError(f"nested deeper than mambaboot reads ({max_depth} levels)") from None
    return result


_NONE = object()  # no key read yet / no value decided by a tag


def _path(stack: list, event, marks: dict | None):
    """The path of the node event starts (None: a key, or no marks kept), its mark put into marks."""
    if marks is None:
        return None
    if not stack:
        path = ()
    else:
        container, key, above = stack[-1]
        if isinstance(container, list):
            path = above + (len(container),)
        elif key is _NONE:
            return None
        else:
            path = above + (key,)
    marks[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
    return path


def _tag(event, value):
    """_NONE, or the value an explicit !!str / !!null tag gives; another tag is refused."""
    tag = event.tag
    if tag is None or tag == "!":
        return _NONE
    if tag == _STR and value is not None:
        return value
    if tag == _NULL and value is not None:
        return None
    raise YamlError(f"{_where(event.start_mark)}: the tag {tag} is not read (conda's files use none)")


def _add(stack: list, value, event) -> None:
    """value put into the container on top of the stack: as an item, a key, or the pending key's value."""
    top = stack[-1]
    container = top[0]
    if isinstance(container, list):
        container.append(value)
        return
    if top[1] is _NONE:  # a key
        if isinstance(value, (dict, list)):
            raise YamlError(f"{_where(event.start_mark)}: a key that is a mapping or a list is not read")
        if value == "<<" and event.style is None:
            raise YamlError(f"{_where(event.start_mark)}: a merge key (<<) is not read")
        if value in container:
            raise YamlError(f"{_where(event.start_mark)}: duplicate key {value!r} (ruamel.yaml, which conda "
                            "reads it with, refuses it too)")
        top[1] = value
        return
    container[top[1]] = value
    top[1] = _NONE


# What YAML 1.2's core schema makes of a plain scalar besides a string, as ruamel's round-trip
# loader, which conda reads environment files with, resolves it (implicit_resolvers for (1, 2),
# ruamel/yaml/resolver.py, 0.18): by its first character, then its pattern.
_BOOLS = ("true", "True", "TRUE", "false", "False", "FALSE")
_NUMBER_START = "-+0123456789."
_TYPED = (
    ("float", patterns.lazy(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                            r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
                            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")),
    ("int", patterns.lazy(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")),
    ("timestamp", patterns.lazy(r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                                r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
                                r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")),
)


def plain_type(text: str) -> str | None:
    """"bool", "float", "int" or "timestamp" when YAML reads the plain scalar text as one (not a
    string); None for a string (and a null, which the reader gives as None)."""
    if not text or text[0] not in _NUMBER_START:
        return "bool" if text in _BOOLS else None
    for kind, pattern in _TYPED:
        if (kind != "timestamp" or text[0].isdigit()) and pattern.match(text):
            return kind
    return None
