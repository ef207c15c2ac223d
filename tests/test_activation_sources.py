"""What activation reads from an environment, and activated() applying it (as verify and run do)."""

import json
import subprocess

import pytest

from mambaboot.common.errors import VerifyError
from mambaboot.shell.activation import environ, sources
from tests.conftest import MAMBABOOT, _clean_environ


@pytest.fixture
def env(tmp_path):
    (tmp_path / "conda-meta").mkdir()
    for d in ("env_vars.d", "activate.d", "deactivate.d"):
        (tmp_path / "etc" / "conda" / d).mkdir(parents=True)
    return tmp_path


def _write(env, rel, data):
    (env / rel).write_text(data if isinstance(data, str) else json.dumps(data))


def test_variables_merge_in_conda_order_and_the_unset_marker_and_path_are_left_out(env):
    """conda/activate.py `_get_environment_env_vars` + `_build_activate_stack`: every file of env_vars.d
    (not only *.json) sorted, then state; PATH is reserved; "***unset***" is not set (nor unset)."""
    _write(env, "etc/conda/env_vars.d/b.json", {"A": "b", "N": 3, "GONE": "x", "PATH": "/pkg"})
    _write(env, "etc/conda/env_vars.d/a.json", {"A": "a", "ONLY_A": "1"})
    _write(env, "etc/conda/env_vars.d/c.txt", {"C": "any file name"})
    _write(env, "conda-meta/state", {"env_vars": {"A": "state", "GONE": "***unset***", "PATH": "/state"}})
    src = sources.read(str(env))
    assert src.env_vars == (("A", "state"), ("ONLY_A", "1"), ("N", "3"), ("C", "any file name"))
    assert [rel for rel, _ in src.data] == ["etc/conda/env_vars.d/a.json", "etc/conda/env_vars.d/b.json",
                                            "etc/conda/env_vars.d/c.txt", "conda-meta/state"]


def test_activated_applies_them_after_condas_variables(env):
    _write(env, "etc/conda/env_vars.d/a.json", {"MB_X": "1", "KEEP": "***unset***"})
    got = environ.activated({"PATH": "/usr/bin", "KEEP": "old"}, str(env), windows=False)
    # without a conda of its own, conda names it by its full path (conda/activate.py `_default_env`)
    assert got == {"PATH": f"{env}/bin:{env}/condabin:/usr/bin", "MB_X": "1", "KEEP": "old", "CONDA_PREFIX": str(env),
                   "CONDA_SHLVL": "1", "CONDA_DEFAULT_ENV": str(env), "CONDA_PROMPT_MODIFIER": f"({env.name}) ",
                   "MAMBA_ROOT_PREFIX": str(env)}
    win = environ.activated({"Path": "C:\\W", "keep": "old"}, str(env), windows=True)
    assert win["keep"] == "old" and win["Path"].endswith(";C:\\W") and win["MB_X"] == "1"


def test_hooks_sort_by_code_point_and_windows_extensions_ignore_case(env):
    for name in ("~last.sh", "b.sh", "A.sh", "x.SH", "Y.BAT", "a.bat", "p.Ps1", ".hidden.sh"):
        (env / "etc" / "conda" / "activate.d" / name).write_text("")
    src = sources.read(str(env))
    assert src.hook_names("etc/conda/activate.d", ".sh") == ("A.sh", "b.sh", "~last.sh")
    assert src.hook_names("etc/conda/activate.d", ".bat") == ("Y.BAT", "a.bat")
    assert src.hook_names("etc/conda/activate.d", ".ps1") == ("p.Ps1",)


# (file, its data, what activation's reader says, what activate-scripts says: it reads
# conda-meta/state first, through its declared shape, to add PYTHONNOUSERSITE)
@pytest.mark.parametrize("rel, data, message, command_says", [
    ("etc/conda/env_vars.d/a.json", "{not json", "is not valid JSON", None),
    ("etc/conda/env_vars.d/a.json", ["A"], "expected a JSON object", None),
    ("etc/conda/env_vars.d/a.json", {"A-B": "x"}, "not a valid environment variable name", None),
    ("conda-meta/state", {"env_vars": "x"}, "expected a JSON object",
     "conda-meta/state: field env_vars is not an object (as conda's state file)"),
])
def test_broken_data_fails_loudly(env, rel, data, message, command_says):
    _write(env, rel, data)
    with pytest.raises(VerifyError, match=message):
        sources.read(str(env))
    proc = subprocess.run([*MAMBABOOT, "activate-scripts", str(env)], env=_clean_environ(), capture_output=True, text=True)
    assert proc.returncode == 7 and (command_says or message) in proc.stderr and "Traceback" not in proc.stderr
    assert not (env / ".mambaboot").exists()
