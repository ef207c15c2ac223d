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
from collections.abc import Sequence

from mambaboot.common import shapes, untrusted
from mambaboot.common.errors import VerifyError
from mambaboot.common.files import confined

STATE_FILE = "conda-meta/state"
STANDALONE = (("PYTHONNOUSERSITE", "1"),)
# Its shape: an object whose env_vars is an object (conda/core/prefix_data.py,
# PrefixData.set_environment_env_vars and _get_environment_state_file); the rest is kept as it is.
SHAPE = {"env_vars": shapes.optional(dict)}


def read(prefix: str) -> dict:
    """The state file as a dict ({} when there is none); VerifyError when conda could not read it either."""
    path = os.path.join(prefix, *STATE_FILE.split("/"))
    try:
        return shapes.check(untrusted.read_json_in(prefix, STATE_FILE), SHAPE, path, "conda's state file")
    except FileNotFoundError:
        return {}
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
          dry_run: bool = False) -> dict:
    """Merge wanted(env_vars) into the state's "env_vars", keeping everything else in it; what
    changed ({} when the file held it all already: nothing is written)."""
    state = read(prefix)
    changed = missing(state, env_vars)
    if changed and not dry_run:
        import json  # not at the top: verification imports STANDALONE before finish needs json (adopt's start)

        state.setdefault("env_vars", {}).update(changed)
        confined.write_in(prefix, STATE_FILE, json.dumps(state, ensure_ascii=False).encode("utf-8"),
                          mode=confined.user_mode(0o666), sync=sync)
    return changed
