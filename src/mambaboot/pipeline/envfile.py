"""conda's environment.yml: name, channels, dependencies and a `pip:` section."""

import os
import re
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from mambaboot.common import yamlsubset
from mambaboot.common.errors import UsageError

_KNOWN_KEYS = {"name", "channels", "dependencies", "prefix"}
# conda's own pseudo-channel: "do not add defaults". We never add any, so it means nothing here.
_NO_DEFAULTS = "nodefaults"


@dataclass(frozen=True)
class EnvFile:
    path: str
    name: Optional[str]
    channels: Tuple[str, ...]
    dependencies: Tuple[str, ...]
    pip: Tuple[str, ...]  # requirement lines, as conda hands them to pip in a requirements file
    ignored: Tuple[str, ...] = ()  # keys read and deliberately not used (with why)


def package_name(spec: str) -> str:
    """The package a match spec names: `conda-forge::numpy>=2` -> numpy."""
    spec = spec.split("::", 1)[-1].strip()
    return re.split(r"[\s=<>!~\[;]", spec, maxsplit=1)[0].lower()


def read(path: str) -> EnvFile:
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read environment file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"environment file {path} is not UTF-8 text: {exc}") from None
    return parse(text, os.path.abspath(path))


def parse(text: str, path: str) -> EnvFile:
    try:
        doc = yamlsubset.parse(text)
    except yamlsubset.YamlError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: expected a mapping with name, channels and dependencies")
    unknown = sorted(set(doc) - _KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"{path}: unsupported key(s) {', '.join(unknown)}; mambaboot reads name, channels, dependencies "
            "(set variables with `conda env config vars set` in a --post-script)"
        )
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise UsageError(f"{path}: name must be a string")
    channels = tuple(c for c in _strings(doc.get("channels"), "channels", path) if c != _NO_DEFAULTS)
    specs: List[str] = []
    pip: List[str] = []
    for item in _list(doc.get("dependencies"), "dependencies", path):
        if isinstance(item, str):
            specs.append(item)
        elif isinstance(item, dict) and list(item) == ["pip"]:
            pip += _strings(item["pip"], "dependencies: pip", path)
        else:
            raise UsageError(f"{path}: dependencies may hold specs and one `pip:` list, not {item!r}")
    ignored = ("prefix (machine-specific; the prefix comes from NAME or --prefix)",) if "prefix" in doc else ()
    return EnvFile(path, name, channels, tuple(specs), tuple(pip), ignored)


def _list(value: Any, key: str, path: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{path}: {key} must be a list")
    return value


def _strings(value: Any, key: str, path: str) -> List[str]:
    items = _list(value, key, path)
    if not all(isinstance(v, str) for v in items):
        raise UsageError(f"{path}: every entry of {key} must be a string")
    return items
