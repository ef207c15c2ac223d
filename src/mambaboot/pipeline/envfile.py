"""conda's environment.yml: name, channels, dependencies and a `pip:` section."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import re

from mambaboot.common import patterns, untrusted, urlrule
from mambaboot.common.errors import UsageError
from mambaboot.common.values import value
from mambaboot.shell.activation.sources import valid_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# conda's VALID_KEYS (conda/env/env.py, 26.x); not a set literal, whose constant makes the zipapp's
# bytecode differ per build (tools/build_zipapp.py)
_KNOWN_KEYS = frozenset(("name", "channels", "dependencies", "prefix", "variables"))
# An environment file holds a handful of keys: past this many that conda does not know, it is no
# environment file (the warning would name them all, and each is held against the known ones).
MAX_UNKNOWN_KEYS = 100
# conda's own pseudo-channel: "do not add defaults". We never add any, so it means nothing here.
_NO_DEFAULTS = "nodefaults"


@value
class EnvFile:
    path: str
    name: str | None
    channels: tuple[str, ...]
    dependencies: tuple[str, ...]
    pip: tuple[str, ...]  # requirement lines, as conda hands them to pip in a requirements file
    ignored: tuple[str, ...] = ()  # keys read and deliberately not used (with why)
    # `variables:` as `conda env export` writes them (conda/env/env.py), stored the way
    # `conda env config vars set` stores them: conda-meta/state {"env_vars": {...}}.
    variables: tuple[tuple[str, str], ...] = ()
    # the channels as written, when `$VAR` in them was expanded: what the record keeps (a token
    # set in a variable is not written to disk), as conda-lock keeps the variable's name (used_env_vars)
    channels_written: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # said as they are (ignored: said as what is ignored)
    # said when the file's channels are the ones used (no --channel given): _no_known_channel
    channels_warnings: tuple[str, ...] = ()
    # micromamba's `sel(X)` entries under dependencies, (X, spec) in order: dependencies holds those
    # true for the platform the file was read for
    selectors: tuple[tuple[str, str], ...] = ()


def package_name(spec: str) -> str:
    """The package a match spec names: `conda-forge::numpy>=2` -> numpy."""
    spec = spec.split("::", 1)[-1].strip()
    return re.split(r"[\s=<>!~\[;]", spec, maxsplit=1)[0].lower()


def read(path: str, environ: Mapping[str, str] | None = None, windows: bool = False,
         subdir: str | None = None) -> EnvFile:
    """The file as conda reads it (untrusted.read_user_text: UTF-8 or UTF-16 with its mark, CRLF or
    LF); environ: what `$VAR` in its channels names (None: the channels stay as written); subdir: the
    platform micromamba's `sel(...)` entries are applied for (None: this machine's)."""
    try:
        text = untrusted.read_user_text(path, untrusted.ENV_FILE)
    except OSError as exc:
        raise UsageError(f"cannot read environment file {path}: {exc.strerror}") from None
    path = os.path.abspath(path)
    marks: dict = {}
    return _parsed(untrusted.yaml(text, path, marks=marks), path, environ, windows, marks, subdir)


def parse(text: str, path: str, environ: Mapping[str, str] | None = None, subdir: str | None = None) -> EnvFile:
    marks: dict = {}
    return _parsed(untrusted.yaml(text.encode("utf-8", "surrogatepass"), path, marks=marks), path, environ,
                   marks=marks, subdir=subdir)


def one_selection(ef: EnvFile, subdirs: list[str]) -> None:
    """UsageError when ef's selectors pick different specs for two of subdirs (one plan serves them all)."""
    def picked(subdir: str) -> list[str]:
        return [spec for expr, spec in ef.selectors if _selected(f"sel({expr})", subdir, ef.path, "")]

    first = picked(subdirs[0])
    for subdir in subdirs[1:]:
        if picked(subdir) != first:
            raise UsageError(f"{ef.path}: its micromamba selectors (`sel(...)`) pick other packages for {subdirs[0]} "
                             f"than for {subdir}: lock one platform at a time (--platform P), each read for its own")


def _subdir() -> str:
    from mambaboot.common import host

    return host.current().subdir


# micromamba's selectors (truthy_values and detail::eval_selector, libmamba/src/api/install.cpp,
# 2.8.1): `sel(X)`, X exactly one of these, true when the target platform's name starts so (unix:
# every platform but win-*)
_SELECTORS = ("unix", "linux", "osx", "win")


def _selected(key: str, subdir: str | None, path: str, at: str) -> bool:
    """Whether micromamba takes `key`'s spec for subdir; a selector it cannot parse is refused, as it refuses it."""
    expr = key[4:-1] if key.endswith(")") else None
    if expr not in _SELECTORS:
        raise UsageError(f"{path}: {at}`{key}` is no selector micromamba reads: `sel(X)`, X one of "
                         f"{', '.join(_SELECTORS)}, without spaces")
    subdir = subdir or _subdir()
    windows = subdir.startswith("win")
    return (expr == "win") == windows and (expr in ("win", "unix") or subdir.startswith(expr))


def _at(marks: dict, *where) -> str:
    """`line L, column C: ` of the node at where (keys and indices from the top), as editors count."""
    mark = marks.get(where)
    return f"line {mark[0]}, column {mark[1]}: " if mark else ""


# `$NAME` and `${NAME}`, NAME as os.path.expandvars reads it (posixpath._varprog: \w+, ASCII)
_VARIABLE = re.compile(r"\$(\w+|\{([^}]*)\})", re.ASCII)


def expand_channel(channel: str, environ: Mapping[str, str], windows: bool = False) -> tuple[str, tuple[str, ...]]:
    """A channel with its variables replaced by their values, as conda does (_expand_channels,
    conda/env/env.py, 26.7: os.path.expandvars on every channel; on Windows ntpath's, which reads
    `%VAR%` too, names case-insensitively, and nothing inside single quotes), and the names of
    those not set: expandvars leaves such a reference as it is written, so the literal `${TOKEN}`
    reaches the server; the caller names them."""
    unset: list[str] = []
    if windows:
        upper = {k.upper(): v for k, v in environ.items()}

        def lookup(name: str, written: str) -> str:
            if name.upper() in upper:
                return upper[name.upper()]
            if name:
                unset.append(name)
            return written

        return _expand_nt(channel, lookup), tuple(dict.fromkeys(unset))

    def value_of(match) -> str:
        name = match.group(2) if match.group(2) is not None else match.group(1)
        if name not in environ:
            if name:
                unset.append(name)
            return match.group(0)
        return environ[name]

    return (_VARIABLE.sub(value_of, channel) if "$" in channel else channel), tuple(dict.fromkeys(unset))


# what ntpath.expandvars takes for a name after `$` (string.ascii_letters + digits + '_-')
_NT_NAME = re.compile(r"[A-Za-z0-9_-]*")


def _expand_nt(text: str, lookup) -> str:
    """ntpath.expandvars (CPython 3.9-3.13) with the environment's lookup given: `'...'` copied as
    it is, `%%` and `$$` one character, `%NAME%`, `${NAME}` and `$NAME`; lookup(name, written)
    gives the value, or the reference as written when it is not set."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            end = text.find("'", i + 1)
            end = n - 1 if end < 0 else end
            out.append(text[i:end + 1])
            i = end + 1
        elif c == "%" and text[i + 1:i + 2] == "%" or c == "$" and text[i + 1:i + 2] == "$":
            out.append(c)
            i += 2
        elif c == "%" or c == "$" and text[i + 1:i + 2] == "{":
            start, close = (i + 1, "%") if c == "%" else (i + 2, "}")
            end = text.find(close, start)
            if end < 0:
                out.append(text[i:])
                break
            out.append(lookup(text[start:end], text[i:end + 1]))
            i = end + 1
        elif c == "$":
            name = _NT_NAME.match(text, i + 1).group(0)
            out.append(lookup(name, "$" + name))
            i += 1 + len(name)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def unset_warning(channel: str, unset: tuple[str, ...]) -> str:
    return (f"channel {urlrule.shown(channel)!r} names the environment variable{'s' if len(unset) > 1 else ''} "
            f"{', '.join(unset)}, which {'are' if len(unset) > 1 else 'is'} not set: used as written, as conda "
            "uses it (a server will not know a literal `${NAME}`); set it, or write the channel out")


def _unknown_keys(doc: dict, path: str) -> tuple[str, ...]:
    """What the keys conda does not know come to: ignored with a warning, as conda ignores them
    (validate_keys, conda/env/env.py, 26.7: "The following section ... is invalid and will be
    ignored"); a close misspelling of a known key the file lacks is refused, as ignoring
    `dependecies` would make an environment without any of the file's packages. conda refuses such a
    file named environment.yml too: that name picks its CEP-24 reader (_detect_filename_env_spec,
    conda/plugins/manager.py), whose can_handle refuses a file without `dependencies`
    (get_schema_errors, conda/env/env.py; conda/env/specs/cep_24.py); another name falls back to
    the older reader, which warns and ignores the key."""
    import difflib

    keys = set(doc)  # once: a file's keys are untrusted, and may be hundreds of thousands
    unknown = sorted(str(k) for k in keys - _KNOWN_KEYS)
    if len(unknown) > MAX_UNKNOWN_KEYS:  # each is compared with the known ones, and the warning names each
        raise UsageError(f"{path}: {len(unknown)} keys conda does not know ({', '.join(map(repr, unknown[:3]))}, ...): "
                         f"not an environment file (conda reads {', '.join(sorted(_KNOWN_KEYS))}; mambaboot reads "
                         f"one with at most {MAX_UNKNOWN_KEYS} others)")
    missing, present = sorted(_KNOWN_KEYS - keys), sorted(_KNOWN_KEYS & keys)
    for key in unknown:
        close = difflib.get_close_matches(key, missing, n=1, cutoff=0.8)
        if close:
            raise UsageError(f"{path}: unknown key {key!r}: did you mean {close[0]!r}? (conda reads "
                             f"{', '.join(sorted(_KNOWN_KEYS))}; a misspelt key would be ignored, and the "
                             "environment made without what it holds)")
    if not unknown:
        return ()
    # a misspelling of a key the file also has: its value is ignored, said with the key it is close to
    unknown = [key + "".join(f" (close to {c!r})" for c in difflib.get_close_matches(
        key, present, n=1, cutoff=0.8)) for key in unknown]
    return (f"key{'s' if len(unknown) > 1 else ''} conda does not know: {', '.join(unknown)} (conda ignores "
            f"{'them' if len(unknown) > 1 else 'it'} too; it reads {', '.join(sorted(_KNOWN_KEYS))})",)


def _parsed(doc: object, path: str, environ: Mapping[str, str] | None = None, windows: bool = False,
            marks: dict | None = None, subdir: str | None = None) -> EnvFile:
    marks = marks or {}
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: {_at(marks)}expected a mapping with name, channels and dependencies")
    unknown = _unknown_keys(doc, path)
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise UsageError(f"{path}: {_at(marks, 'name')}name must be a string")
    channels = tuple(c for c in _strings(doc.get("channels"), ("channels",), path, marks) if c != _NO_DEFAULTS)
    written, unset = channels, ()
    if environ is not None:
        expanded = [expand_channel(c, environ, windows) for c in channels]
        channels = tuple(c for c, _ in expanded)
        unset = tuple(unset_warning(c, names) for c, (_, names) in zip(written, expanded) if names)
    specs: list[str] = []
    pip: list[str] = []
    other: list[str] = []  # mappings' keys conda and micromamba ignore
    selectors: list[tuple[str, str]] = []
    left_out: list[str] = []  # selectors' specs not for subdir
    for n, item in enumerate(_list(doc.get("dependencies"), ("dependencies",), path, marks)):
        if isinstance(item, str):
            specs.append(_spec(item, marks.get(("dependencies", n)), path, _at(marks, "dependencies", n)))
            continue
        if item is None:  # conda: "'None' is an invalid type for a 'dependency'" (dependencies_validation)
            raise UsageError(f"{path}: {_at(marks, 'dependencies', n)}an empty item under dependencies: write "
                             "its spec after the `-`, or remove the line")
        if not isinstance(item, dict):
            raise UsageError(f"{path}: {_at(marks, 'dependencies', n)}dependencies may hold specs and mappings "
                             f"(`pip:`, micromamba's `sel(...)`), not {item!r}")
        # conda keeps a mapping's keys beside its specs and uses `pip` only (Dependencies.parse and
        # to_environment_model, conda/env/env.py, 26.7.1); micromamba merges a `sel(...)` key's spec
        # when the selector holds for the target platform, hands `pip` to pip and skips the rest
        # (read_yaml_file, libmamba/src/api/install.cpp, 2.8.1).
        for key, value in item.items():
            at = _at(marks, "dependencies", n, key)
            if key == "pip":
                if not isinstance(value, list):  # conda hands pip a requirements file, one line per item
                    raise UsageError(f"{path}: {at}`- pip:` needs a list of requirements, one `- REQUIREMENT` a "
                                     f"line under it, not {value!r}")
                pip += _strings(value, ("dependencies", n, "pip"), path, marks)
            elif isinstance(key, str) and key.startswith("sel("):
                if isinstance(value, str):
                    selectors.append((key[4:-1] if key.endswith(")") else key, value))
                if _selected(key, subdir, path, at):
                    if not isinstance(value, str):  # micromamba: "Complicated selection merge not implemented yet."
                        raise UsageError(f"{path}: {at}`- {key}:` holds one spec, as micromamba reads a selector, "
                                         f"not {value!r}")
                    specs.append(value)
                else:
                    left_out.append(f"{key}: {value}")
            elif key == "conda":
                # conda's Dependencies.parse puts it in place of the specs read so far; micromamba skips it
                raise UsageError(f"{path}: {at}`- conda:` under dependencies: conda would read it in place of the "
                                 "specs listed before it, micromamba skips it; list its specs as the others are")
            else:
                other.append(str(key))
    ignored = unknown + (("prefix (machine-specific; the prefix comes from NAME or --prefix)",) if "prefix" in doc else ())
    ignored += tuple(f"dependencies: {key} (a mapping conda and micromamba ignore too)" for key in other)
    if left_out:
        ignored += (f"dependencies: {', '.join(left_out)} (micromamba's selectors, not for {subdir or _subdir()}: "
                    "applied as micromamba applies them; conda ignores every `sel(...)` entry)",)
    variables = _variables(doc.get("variables"), path, marks)
    if any(k == "PATH" for k, _ in variables):  # conda's RESERVED_ENV_VARS: activation never sets it
        ignored += ("variables: PATH (reserved: conda's activation never sets it from there)",)
        variables = tuple((k, v) for k, v in variables if k != "PATH")
    untrusted.check_strings(doc, path)  # names, channels and specs reach the engine's command line
    return EnvFile(path, name, channels, tuple(specs), tuple(pip), ignored, variables,
                   written if written != channels else (), unset, _no_known_channel(written), tuple(selectors))


def _spec(item: str, mark: tuple | None, path: str, at: str) -> str:
    """item, a dependency, when conda takes it for one; UsageError naming where it is otherwise.
    conda reads the file with ruamel's round-trip loader and takes a string that MatchSpec parses
    and a mapping, nothing else (dependencies_validation, conda/env/env.py, 26.7.1): an unquoted
    `3.5` or `true` is a number or a boolean to YAML, refused as "an invalid type for a 'dependency'"."""
    from mambaboot.common import yamlread

    style = mark[2] if mark is not None and len(mark) > 2 else None
    if style == "" or style == "\n":
        kind = yamlread.plain_type(item)
        if kind is not None:
            what = {"bool": "a boolean", "timestamp": "a date"}.get(kind, "a number")
            raise UsageError(f"{path}: {at}`{item}` under dependencies is {what} to YAML, not a package spec "
                             "(conda refuses it too); quote it if it is meant as one")
    if style == "\n" and (" - " in item or item.endswith(" -")):
        # conda's MatchSpec takes `python=3.11 - uv` (version `3.11-`, build `uv`), micromamba refuses
        # its build string: either way not the two specs the lines say
        raise UsageError(f"{path}: {at}`{item}` is one spec to YAML: a line indented deeper than the `-` above "
                         "it continues that item; start each `- ` in the column of the others")
    problem = _matchspec_problem(item)
    if problem:
        raise UsageError(f"{path}: {at}`{item}` is no package spec conda reads: {problem}")
    return item


# conda's _BRACKETS_RE, _PARENS_RE, _NAME_VERSION_RE and _CEP26_NAME_RE and _VIRTUAL_ (match_spec.py, 26.7.1)
_BRACKETS, _PARENS = patterns.lazy(r".*(?:(\[.*\]))"), patterns.lazy(r".*(?:(\(.*\)))")
_NAME_VERSION = patterns.lazy(r"([^ =<>!~]+)?([><!=~ ].+)?")
_NAME_CHARS = patterns.lazy(r"[^a-z0-9._-]")
_CEP26 = patterns.lazy(r"^(([a-z0-9])|([a-z0-9_](?!_)))[._-]?([a-z0-9]+(\.|-|_|$))*$")
_CEP26_VIRTUAL = patterns.lazy(r"^__[a-z0-9][._-]?([a-z0-9]+(\.|-|_|$))*$")


def _matchspec_problem(spec: str) -> str | None:
    """Why conda's MatchSpec refuses spec, for the refusals found before its version and build are
    parsed (_parse_spec_str and _validate_package_name, conda/models/match_spec.py, 26.7.1, the
    parser of the classic and libmamba solvers); None when it gets past them. The version and build
    are left to the engine: this refuses a subset of what conda refuses, never more."""
    if not spec or spec.endswith("@"):  # MatchSpec() ("*"); a feature, conda's backward compatibility
        return None
    if "#" in spec:
        spec = spec[:spec.index("#")]
    spec = spec.split(" if ", 1)[0]
    if spec.lower().endswith((".conda", ".tar.bz2", ".whl")):  # a package file, read as a URL or path
        return None
    for part in (_BRACKETS, _PARENS):
        found = part.match(spec)
        if found:
            spec = spec.replace(found.group(1), "")
    spec = spec.rsplit(":", 2)[-1]  # the channel and namespace
    name, rest = _NAME_VERSION.match(spec).groups()
    if name is None:
        return f"no package name found in {spec!r}"
    if rest and "[" in rest.strip():
        return "multiple brackets sections not allowed"
    if "*" in name:
        return None
    name = name.lower()
    bad = _NAME_CHARS.findall(name)
    if bad:
        return f"package name contains invalid characters ({''.join(dict.fromkeys(bad))})"
    if not (_CEP26.match(name) or _CEP26_VIRTUAL.match(name)):
        return "invalid package name"
    return None


# conda-forge and defaults, as a name or as the last part of a URL
_KNOWN_CHANNELS = re.compile(r"(^|/)(conda-forge|defaults|pkgs/main)/?$")
# A channel on this machine: a file:// URL, or what conda takes for a path (PATH_MATCH_REGEX and
# is_path, conda/common/path/__init__.py: ./ .. ~ / a drive letter \\ //, never with "://").
_LOCAL_CHANNEL = re.compile(r"file://|(?!.*://)(\./|\.\.|~|/|[a-zA-Z]:[/\\]|\\\\|//)", re.IGNORECASE)


def _no_known_channel(channels: tuple[str, ...]) -> tuple[str, ...]:
    """A warning when channels name neither conda-forge nor defaults (`pytorch` and `nvidia` alone):
    such a file was written for a conda that added `defaults` to them (before 25.9: "Adding 'defaults'
    to channel list implicitly is deprecated and will be removed in 25.9", Context.channels,
    conda/base/context.py, 24.x-25.7); conda 25.9 and later with no .condarc pass them as written,
    as mambaboot does, and a package only those channels lacked fails to solve."""
    # A file naming only channels on this machine was written for a mirror kept there on purpose
    # (an offline machine): pointing it at conda-forge is advice against its reason to be.
    if not channels or any(_KNOWN_CHANNELS.search(c) for c in channels) \
            or all(_LOCAL_CHANNEL.match(c) for c in channels):
        return ()
    return (f"its channels ({', '.join(urlrule.shown(c) for c in channels)}) name neither conda-forge nor defaults: they are used as "
            "written, as conda 25.9 and later use them with no .condarc (an older conda added defaults); "
            "add `- conda-forge` to them if a package comes from nowhere else",)


def _variables(value: object, path: str, marks: dict) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {_at(marks, 'variables')}variables must be a mapping of NAME: value")
    found = []
    for key, item in value.items():
        # What the activation scripts can set in every shell (they refuse other names, exit 7,
        # which would come only after micromamba ran): refuse it now, before anything is written.
        if not isinstance(key, str) or not valid_name(key):
            raise UsageError(f"{path}: variables: {key!r} is not a variable name every shell can set")
        if isinstance(item, (dict, list)) or item is None:
            raise UsageError(f"{path}: {_at(marks, 'variables', key)}variables: {key} must have a single value, "
                             f"not {item!r}")
        # Checked now, not after micromamba ran: no variable of any shell holds a NUL or a lone surrogate.
        found.append((key, untrusted.check_string(str(item), path, f"variables: {key}")))
    return tuple(found)


def _list(value: object, where: tuple, path: str, marks: dict) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{path}: {_at(marks, *where)}{_named(where)} must be a list")
    return value


def _strings(value: object, where: tuple, path: str, marks: dict) -> list[str]:
    items = _list(value, where, path, marks)
    for n, item in enumerate(items):
        if not isinstance(item, str):
            raise UsageError(f"{path}: {_at(marks, *where, n)}every entry of {_named(where)} must be a string, "
                             f"not {item!r}")
    return items


def _named(where: tuple) -> str:
    """("dependencies", 3, "pip") -> `dependencies: pip`, as the messages name a section."""
    return ": ".join(str(k) for k in where if isinstance(k, str))
