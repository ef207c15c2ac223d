"""What an environment's activation reads from disk, the way conda reads it.

- variables: etc/conda/env_vars.d/*.json (sorted), then conda-meta/state's "env_vars"; later
  files override earlier ones, and the value "***unset***" (conda's marker for
  `conda env config vars unset`) means "unset this variable while active";
- hook scripts: etc/conda/activate.d/*.<ext> and deactivate.d/*.<ext>, sorted by code point
  as conda sorts them (shell globs sort by locale, which breaks the `~name` run-last idiom);
- the data files themselves, so generated scripts can notice they are out of date.
"""

import os
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

from mambaboot.common.errors import UsageError, VerifyError

UNSET = "***unset***"
STATE = "conda-meta/state"
ENV_VARS_DIR = "etc/conda/env_vars.d"
HOOK_DIRS = ("etc/conda/activate.d", "etc/conda/deactivate.d")
HOOK_EXTS = (".sh", ".fish", ".bat", ".ps1")
_NAME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_FIRST | frozenset("0123456789")


class Sources(NamedTuple):  # not a dataclass: `run` starts faster without importing dataclasses
    env_vars: Tuple[Tuple[str, Optional[str]], ...]  # in conda's order; None: unset while active
    data: Tuple[Tuple[str, Optional[bytes]], ...]  # relative path -> bytes (None: absent)
    hooks: Mapping[Tuple[str, str], Tuple[str, ...]]  # (dir, ext) -> names

    def hook_names(self, directory: str, ext: str) -> Tuple[str, ...]:
        return self.hooks.get((directory, ext), ())

    @property
    def env_var_files(self) -> Tuple[str, ...]:
        return tuple(rel for rel, _ in self.data if rel != STATE)


def require_environment(prefix: str) -> str:
    """The absolute prefix, when it is a conda environment at all (it has conda-meta/)."""
    prefix = os.path.abspath(prefix)
    if not os.path.lexists(prefix):
        raise UsageError(f"{prefix} does not exist")
    if not os.path.isdir(os.path.join(prefix, "conda-meta")):
        raise UsageError(f"{prefix} is not a conda environment (it has no conda-meta directory)")
    return prefix


def _listing(prefix: str, rel: str) -> List[str]:
    try:
        names = os.listdir(os.path.join(prefix, *rel.split("/")))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise VerifyError(f"cannot read {os.path.join(prefix, rel)}: {exc.strerror}") from None
    return sorted(n for n in names if not n.startswith(".") and os.path.isfile(os.path.join(prefix, rel, n)))


def _read(prefix: str, rel: str) -> Optional[bytes]:
    try:
        with open(os.path.join(prefix, *rel.split("/")), "rb") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise VerifyError(f"cannot read {os.path.join(prefix, rel)}: {exc.strerror}") from None


def _variables(prefix: str, rel: str, raw: bytes, key: Optional[str]) -> Dict[str, str]:
    import json

    where = os.path.join(prefix, rel)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerifyError(f"{where} is not valid JSON ({exc}); conda could not activate this environment either") from None
    if key is not None:
        doc = doc.get(key, {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        raise VerifyError(f"{where}: expected a JSON object of variable names to values")
    found = {}
    for name, value in doc.items():
        if not valid_name(name):
            raise VerifyError(f"{where}: {name!r} is not a valid environment variable name")
        found[name] = value if isinstance(value, str) else json.dumps(value)
    return found


def valid_name(name: str) -> bool:
    """A name every supported shell can set and unset (POSIX sh is the narrowest)."""
    return bool(name) and name[0] in _NAME_FIRST and all(c in _NAME_REST for c in name)


def read(prefix: str) -> Sources:
    data: List[Tuple[str, Optional[bytes]]] = []
    merged: Dict[str, str] = {}
    for name in _listing(prefix, ENV_VARS_DIR):
        if name.endswith(".json"):
            rel = f"{ENV_VARS_DIR}/{name}"
            raw = _read(prefix, rel) or b""
            data.append((rel, raw))
            merged.update(_variables(prefix, rel, raw, None))
    state = _read(prefix, STATE)
    data.append((STATE, state))
    if state is not None and state.strip():
        merged.update(_variables(prefix, STATE, state, "env_vars"))
    hooks = {}
    for directory in HOOK_DIRS:
        names = _listing(prefix, directory)
        for ext in HOOK_EXTS:
            # cmd and PowerShell match *.bat/*.ps1 regardless of case; sh and fish globs do not
            fold = str.lower if ext in (".bat", ".ps1") else str
            hooks[(directory, ext)] = tuple(n for n in names if fold(n).endswith(ext))
    env_vars = tuple((k, None if v == UNSET else v) for k, v in merged.items())
    return Sources(env_vars=env_vars, data=tuple(data), hooks=hooks)
