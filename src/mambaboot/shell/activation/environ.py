"""The variables conda's activation sets for a prefix, computed without running conda.

Shell scripts render this per shell; `verify` and `run` apply it to a child's environment.
"""

import ntpath
import posixpath
from typing import Dict, List, Mapping

from mambaboot.shell.activation import sources

# What conda's activation sets besides PATH and the environment's own variables, and
# MAMBA_ROOT_PREFIX: without it mamba 2.x takes the grandparent of its own prefix as its root
# when that holds pkgs/, conda-meta/ or envs/ (`get_root_prefix()` in libmamba/src/api/
# configuration.cpp, since 2.0.6), i.e. `<drive>\dev\Anaconda` for `...\Anaconda\envs\NAME`,
# with that directory's package cache and rc files. Every way in makes the environment its own root.
CONDA_VARS = ("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER", "MAMBA_ROOT_PREFIX")


def path_entries(prefix: str, windows: bool) -> List[str]:
    """Directories prepended to PATH, first wins.

    Windows follows conda's order, with condabin placed before Scripts and Library\\bin so
    that a bare `mamba`/`conda` resolves to the .bat wrappers rather than the .exe files.
    """
    if not windows:
        return [posixpath.join(prefix, "bin")]
    j = ntpath.join
    return [
        prefix,
        j(prefix, "condabin"),
        j(prefix, "Library", "mingw-w64", "bin"),
        j(prefix, "Library", "usr", "bin"),
        j(prefix, "Library", "bin"),
        j(prefix, "Scripts"),
        j(prefix, "bin"),
    ]


def conda_values(prefix: str) -> Dict[str, str]:
    """conda names an environment outside its envs_dirs by its full path, in the prompt too."""
    return dict(zip(CONDA_VARS, (prefix, "1", prefix, f"({prefix}) ", prefix)))


def activated(baseline: Mapping[str, str], prefix: str, windows: bool) -> Dict[str, str]:
    """baseline (already clean) with this environment activated, as conda would leave it:
    PATH, conda's variables, then the environment's own variables (env_vars.d, state)."""
    env = dict(baseline)

    def key(name: str) -> str:  # Windows variable names are case-insensitive
        return next((k for k in env if k.upper() == name.upper()), name) if windows else name

    path_key = key("PATH")
    sep = ";" if windows else ":"
    rest = env.get(path_key, "")
    env[path_key] = sep.join(path_entries(prefix, windows) + ([rest] if rest else []))
    env.update(conda_values(prefix))
    for name, value in sources.read(prefix).env_vars:
        if value is None:
            env.pop(key(name), None)
        else:
            env[key(name)] = value
    return env
