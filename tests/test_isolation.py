import pytest

from mambaboot.common.errors import ShellContaminated
from mambaboot.shell import isolation
from mambaboot.shell.activation import environ as activation


@pytest.mark.parametrize("var", isolation.CONTAMINATING)
def test_each_contaminating_variable_is_named_with_its_value(var):
    with pytest.raises(ShellContaminated) as info:
        isolation.check_shell({"PATH": "/usr/bin", var: "/some/value"}, windows=False)
    assert f"{var}=/some/value" in str(info.value)


def test_clean_shell_passes_and_empty_values_do_not_count():
    isolation.check_shell({"PATH": "/usr/bin", "PYTHONPATH": ""}, windows=False)


def test_windows_variable_names_are_case_insensitive():
    assert isolation.contamination({"Conda_Prefix": "C:\\x"}, windows=True) == [("CONDA_PREFIX", "C:\\x")]
    assert isolation.contamination({"Conda_Prefix": "/x"}, windows=False) == []


def test_baseline_scrubs_conda_and_python_variables_and_keeps_the_rest():
    env = {
        "PATH": "/usr/bin", "HOME": "/h", "CONDA_PKGS_DIRS": "/p", "MAMBA_ROOT_PREFIX": "/r",
        "PYTHONSTARTUP": "/s", "CONDA_BAT": "x", "_CE_CONDA": "", "VIRTUAL_ENV": "/v", "LANG": "C",
    }
    assert isolation.baseline(env, windows=False, is_env_root=lambda p: False) == {
        "PATH": "/usr/bin", "HOME": "/h", "LANG": "C",
    }


def test_baseline_path_drops_every_entry_of_any_python_environment():
    envs = {"/opt/conda", "/home/u/venv", "C:\\Miniconda3"}
    path = "/opt/conda/bin:/opt/conda/condabin:/usr/bin:/home/u/venv/bin:/bin"
    assert isolation.clean_path(path, False, envs.__contains__) == "/usr/bin:/bin"
    win = "C:\\Miniconda3;C:\\Miniconda3\\Library\\mingw-w64\\bin;C:\\miniconda3\\scripts;C:\\Windows\\system32"
    assert isolation.clean_path(win, True, lambda p: p.lower() == "c:\\miniconda3") == "C:\\Windows\\system32"


def test_activation_order_matches_conda_with_condabin_before_the_exes():
    entries = activation.path_entries("C:\\e", windows=True)
    assert entries[0] == "C:\\e"
    assert entries.index("C:\\e\\condabin") < entries.index("C:\\e\\Scripts")
    assert entries.index("C:\\e\\condabin") < entries.index("C:\\e\\Library\\bin")
    assert entries[2:] == ["C:\\e\\Library\\mingw-w64\\bin", "C:\\e\\Library\\usr\\bin", "C:\\e\\Library\\bin",
                           "C:\\e\\Scripts", "C:\\e\\bin"]
    assert activation.path_entries("/e", windows=False) == ["/e/bin"]


def test_activated_environment_sets_condas_variables():
    env = activation.activated({"PATH": "/usr/bin"}, "/e", windows=False)
    assert env["PATH"] == "/e/bin:/usr/bin"
    assert (env["CONDA_PREFIX"], env["CONDA_SHLVL"], env["CONDA_DEFAULT_ENV"]) == ("/e", "1", "/e")
    assert env["CONDA_PROMPT_MODIFIER"] == "(/e) "
