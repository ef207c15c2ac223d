"""conda's environment.yml: name, channels, dependencies and a `pip:` section."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import re

from mambaboot.common import untrusted
from mambaboot.common.errors import UsageError
from mambaboot.common.values import value
from mambaboot.shell.activation.sources import valid_name

# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
_KNOWN_KEYS = frozenset(("name", "channels", "dependencies", "prefix", "variables"))
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


def package_name(spec: str) -> str:
    """The package a match spec names: `conda-forge::numpy>=2` -> numpy."""
    spec = spec.split("::", 1)[-1].strip()
    return re.split(r"[\s=<>!~\[;]", spec, maxsplit=1)[0].lower()


def read(path: str) -> EnvFile:
    try:
        data = untrusted.read_bytes(path)
    except OSError as exc:
        raise UsageError(f"cannot read environment file {path}: {exc.strerror}") from None
    path = os.path.abspath(path)
    return _parsed(untrusted.yaml(data, path), path)


def parse(text: str, path: str) -> EnvFile:
    return _parsed(untrusted.yaml(text.encode("utf-8", "surrogatepass"), path), path)


def _parsed(doc: object, path: str) -> EnvFile:
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: expected a mapping with name, channels and dependencies")
    unknown = sorted(set(doc) - _KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"{path}: unsupported key(s) {', '.join(unknown)}; mambaboot reads name, channels, dependencies "
            "and variables"
        )
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise UsageError(f"{path}: name must be a string")
    channels = tuple(c for c in _strings(doc.get("channels"), "channels", path) if c != _NO_DEFAULTS)
    specs: list[str] = []
    pip: list[str] = []
    for item in _list(doc.get("dependencies"), "dependencies", path):
        if isinstance(item, str):
            specs.append(item)
        elif isinstance(item, dict) and list(item) == ["pip"]:
            pip += _strings(item["pip"], "dependencies: pip", path)
        else:
            raise UsageError(f"{path}: dependencies may hold specs and one `pip:` list, not {item!r}")
    ignored = ("prefix (machine-specific; the prefix comes from NAME or --prefix)",) if "prefix" in doc else ()
    variables = _variables(doc.get("variables"), path)
    if any(k == "PATH" for k, _ in variables):  # conda's RESERVED_ENV_VARS: activation never sets it
        ignored += ("variables: PATH (reserved: conda's activation never sets it from there)",)
        variables = tuple((k, v) for k, v in variables if k != "PATH")
    untrusted.check_strings(doc, path)  # names, channels and specs reach the engine's command line
    return EnvFile(path, name, channels, tuple(specs), tuple(pip), ignored, variables)


def _variables(value: object, path: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise UsageError(f"{path}: variables must be a mapping of NAME: value")
    found = []
    for key, item in value.items():
        # What the activation scripts can set in every shell (they refuse other names, exit 7,
        # which would come only after micromamba ran): refuse it now, before anything is written.
        if not isinstance(key, str) or not valid_name(key):
            raise UsageError(f"{path}: variables: {key!r} is not a variable name every shell can set")
        if isinstance(item, (dict, list)) or item is None:
            raise UsageError(f"{path}: variables: {key} must have a single value, not {item!r}")
        # Checked now, not after micromamba ran: no variable of any shell holds a NUL or a lone surrogate.
        found.append((key, untrusted.check_string(str(item), path, f"variables: {key}")))
    return tuple(found)


def _list(value: object, key: str, path: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{path}: {key} must be a list")
    return value


def _strings(value: object, key: str, path: str) -> list[str]:
    items = _list(value, key, path)
    if not all(isinstance(v, str) for v in items):
        raise UsageError(f"{path}: every entry of {key} must be a string")
    return items
