"""conda-meta/state's "env_vars": the variables every activation of the environment sets, and
the ones that keep it standalone.

conda stores `conda env config vars set` there (PrefixData.set_environment_env_vars,
conda/core/prefix_data.py, 26.x: {"env_vars": {...}} merged into what is there, ensure_ascii
off; the file is constants.PREFIX_STATE_FILE, conda/base/constants.py). Every activation reads it:
conda's (`_get_environment_env_vars`, conda/activate.py: env_vars.d's files sorted, then the
state's "env_vars", later ones winning), mamba's (`Activator::get_environment_vars`,
libmamba/src/core/activation.cpp, 2.8.1: the same two sources in the same order), and
mambaboot's own scripts, `run` and `shell` (shell/activation/envvars.py). Both conda and libmamba
save a value the shell had before under `__CONDA_SHLVL_<n>_<NAME>` and give it back on
deactivation (conda's `build_activate`/`build_deactivate`; libmamba's `build_activate`/
`build_deactivate`), and unset the variable when the shell had none; mambaboot's scripts do the
same (activate.sh `_mambaboot_save`).

STANDALONE: CPython adds the user site (~/.local/lib/pythonX.Y/site-packages,
%APPDATA%\\Python\\PythonXY\\site-packages) to every interpreter of that version, ahead of the
environment's own site-packages, unless PYTHONNOUSERSITE is set (Lib/site.py
`check_enableusersite`, 3.9 to 3.13). A venv leaves it out by itself; a conda environment does
not. So the variable lives in the environment: whatever activates it turns the user site off.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat
from collections.abc import Sequence

from mambaboot.common import jsontext, shapes, untrusted
from mambaboot.common.errors import VerifyError
from mambaboot.common.files import confined

STATE_FILE = "conda-meta/state"
STANDALONE = (("PYTHONNOUSERSITE", "1"),)
# Its shape: an object whose env_vars is an object (conda/core/prefix_data.py,
# PrefixData.set_environment_env_vars and _get_environment_state_file); the rest is kept as it is.
SHAPE = {"env_vars": shapes.optional(dict)}


def read(prefix: str) -> dict:
    """The state file as a dict ({} when there is none); VerifyError when conda could not read it either."""
    return _load(prefix)[1]


def _load(prefix: str) -> tuple:
    """(the state file's bytes, or None when there is none; read()'s dict), from one read."""
    path = os.path.join(prefix, *STATE_FILE.split("/"))
    try:
        raw = untrusted.read_bytes_in(prefix, STATE_FILE)
        return raw, shapes.check(untrusted.json(raw, path), SHAPE, path, "conda's state file")
    except FileNotFoundError:
        return None, {}
    except OSError as exc:
        raise VerifyError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # UntrustedInput, or not of its shape: named, as activation names it
        raise VerifyError(str(exc)) from None


def wanted(env_vars: Sequence[tuple[str, str]] = ()) -> dict:
    """STANDALONE, then the environment file's variables (a file that names one of them wins)."""
    return {**dict(STANDALONE), **dict(env_vars)}


def missing(state: dict, env_vars: Sequence[tuple[str, str]] = ()) -> dict:
    """What of wanted(env_vars) the state (read()) does not hold yet."""
    held = state.get("env_vars", {})
    return {k: v for k, v in wanted(env_vars).items() if held.get(k) != v}


def write(prefix: str, env_vars: Sequence[tuple[str, str]] = (), *, sync: bool = True,
          dry_run: bool = False, ahead=None) -> dict:
    """Merge wanted(env_vars) into the state's "env_vars", keeping every other byte of the file
    as it is (a number as written, a key given twice, its spacing, its mode); what changed ({}
    when the file held it all already: nothing is written). ahead(STATE_FILE, bytes): told first."""
    raw, state = _load(prefix)
    changed = missing(state, env_vars)
    if changed and not dry_run:
        if raw is None:
            mode = confined.user_mode(0o666)
        else:
            with confined.Root.open(prefix) as root:
                mode = stat.S_IMODE(root.lstat(STATE_FILE).st_mode)
        data = _text(raw, changed)
        if ahead is not None:
            ahead(STATE_FILE, data)
        confined.write_in(prefix, STATE_FILE, data, mode=mode, sync=sync)
    return changed


def _text(raw: bytes | None, changed: dict) -> bytes:
    if raw is None:
        return ('{"env_vars": ' + jsontext.dumps_flat(changed) + "}").encode("utf-8")
    return _edited(raw.decode("utf-8"), changed).encode("utf-8")


def _edited(text: str, changed: dict) -> str:
    """text (conda-meta/state, read() took it) with changed set in its "env_vars": the value of a
    variable there replaced where it is written, a new one inserted first, "env_vars" itself
    inserted first when missing; where a key is given twice, the last (the one json, conda and
    mamba keep). Nothing else is re-written."""
    at = len(text) - len(text.lstrip(" \t\n\r\ufeff"))  # untrusted.json took a byte-order mark too
    top, _ = jsontext.members(text, at)
    given = [m for m in top if m[0] == "env_vars"]
    if not given:
        return _inserted(text, at, top, ['"env_vars": ' + jsontext.dumps_flat(changed)])
    _, _, start, end = given[-1]
    if text[start] != "{":  # null
        return text[:start] + jsontext.dumps_flat(changed) + text[end:]
    inner, _ = jsontext.members(text, start)
    last = {key: (vs, ve) for key, _, vs, ve in inner}
    new = [jsontext.dumps_flat({k: v})[1:-1] for k, v in changed.items() if k not in last]
    for vs, ve, value in sorted(((*last[k], v) for k, v in changed.items() if k in last), reverse=True):
        text = text[:vs] + jsontext.dumps_flat({"": value})[5:-1] + text[ve:]
    return _inserted(text, start, inner, new) if new else text


def _inserted(text: str, brace: int, members: list, new: list) -> str:
    """new members put first in the object whose "{" is at brace, spaced as its first one is."""
    if not members:
        return text[:brace + 1] + ", ".join(new) + text[brace + 1:]
    first = members[0][1]
    space = text[brace + 1:first]
    between = "," + space if space.strip(" ") else ", "
    return text[:first] + between.join(new) + between + text[first:]
