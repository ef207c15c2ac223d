"""The variables conda's activation sets for a prefix, computed without running conda.

Shell scripts render this per shell; `verify` and `run` apply it to a child's environment.
"""

import ntpath
import posixpath
from typing import Dict, List, Mapping


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


def activated(baseline: Mapping[str, str], prefix: str, windows: bool) -> Dict[str, str]:
    """baseline (already clean) with this environment activated, as conda would leave it.

    conda names an environment outside its envs_dirs by its full path, in the prompt too.
    """
    env = dict(baseline)
    path_key = next((k for k in env if k.upper() == "PATH"), "PATH") if windows else "PATH"
    sep = ";" if windows else ":"
    rest = env.get(path_key, "")
    env[path_key] = sep.join(path_entries(prefix, windows) + ([rest] if rest else []))
    env.update(
        CONDA_PREFIX=prefix,
        CONDA_SHLVL="1",
        CONDA_DEFAULT_ENV=prefix,
        CONDA_PROMPT_MODIFIER=f"({prefix}) ",
    )
    return env
