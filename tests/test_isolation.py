import pytest

from mambaboot.common.errors import ShellContaminated
from mambaboot.common import isolation
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


@pytest.mark.parametrize("windows", [False, True])
def test_pip_gets_what_it_needs_of_the_baseline_and_no_other_secret(windows):
    env = {
        "PATH": "/usr/bin", "HOME": "/h", "LC_ALL": "C", "https_proxy": "http://p:3128", "NO_PROXY": "local",
        "SSL_CERT_FILE": "/ca.pem", "PIP_INDEX_URL": "https://u:t@idx/simple", "pip_config_file": "/pip.conf",
        "NETRC": "/n", "GITHUB_TOKEN": "secret", "AWS_SECRET_ACCESS_KEY": "k", "CONDA_PKGS_DIRS": "/p",
        "PYTHONPATH": "/x", "SystemRoot": "C:\\Windows", "AppData": "C:\\a",
        "CC": "gcc", "CFLAGS": "-O2", "INCLUDE": "C:\\vs\\include", "LIB": "C:\\vs\\lib", "DISTUTILS_USE_SDK": "1",
    }
    kept = isolation.for_pip(env, windows=windows, is_env_root=lambda p: False)
    dropped = {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CONDA_PKGS_DIRS", "PYTHONPATH"}
    assert kept == {k: v for k, v in env.items() if k not in dropped}


def test_baseline_path_drops_every_entry_of_any_python_environment():
    envs = {"/opt/conda", "/home/u/venv", "C:\\Miniconda3"}
    path = "/opt/conda/bin:/opt/conda/condabin:/usr/bin:/home/u/venv/bin:/bin"
    assert isolation.clean_path(path, False, envs.__contains__) == "/usr/bin:/bin"
    win = "C:\\Miniconda3;C:\\Miniconda3\\Library\\mingw-w64\\bin;C:\\miniconda3\\scripts;C:\\Windows\\system32"
    assert isolation.clean_path(win, True, lambda p: p.lower() == "c:\\miniconda3") == "C:\\Windows\\system32"


def test_activation_order_is_condas_with_condabin_after_the_prefix():
    """conda/activate.py `_get_path_dirs` (the first MSYS2 tree present, conda >= 24.7); on Windows
    condabin comes right after the prefix, so cmd finds its wrappers before Library\\bin's
    mamba.exe and Scripts' conda.exe, and the prefix's python.exe before anything in condabin."""
    assert activation.path_entries("C:\\e", windows=True) == [
        "C:\\e", "C:\\e\\condabin", "C:\\e\\Library\\mingw-w64\\bin", "C:\\e\\Library\\usr\\bin",
        "C:\\e\\Library\\bin", "C:\\e\\Scripts", "C:\\e\\bin"]
    assert activation.path_entries("C:\\e", windows=True, variant="ucrt64")[:3] == [
        "C:\\e", "C:\\e\\condabin", "C:\\e\\Library\\ucrt64\\bin"]
    assert activation.path_entries("/e", windows=False) == ["/e/bin", "/e/condabin"]


def test_the_first_msys2_tree_present_goes_on_path(tmp_path):
    assert activation.msys2_variant(str(tmp_path), windows=True) is None
    for variant in ("mingw64", "clang64"):
        (tmp_path / "Library" / variant).mkdir(parents=True)
    assert activation.msys2_variant(str(tmp_path), windows=True) == "clang64"
    assert activation.msys2_variant(str(tmp_path), windows=False) is None


def test_activated_environment_sets_condas_variables(tmp_path):
    env = activation.activated({"PATH": "/usr/bin", "_CE_M": "x"}, "/e", windows=False)
    assert env["PATH"] == "/e/bin:/e/condabin:/usr/bin"
    assert (env["CONDA_PREFIX"], env["CONDA_SHLVL"], env["CONDA_DEFAULT_ENV"]) == ("/e", "1", "/e")
    assert env["CONDA_PROMPT_MODIFIER"] == "(e) " and env["_CE_M"] == "x" and "CONDA_EXE" not in env
    # with its own conda, conda's root prefix is the environment: "base", and conda's own variables
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "conda").write_text("")
    env = activation.activated({"PATH": "/usr/bin", "_CE_M": "x"}, str(tmp_path), windows=False)
    assert (env["CONDA_DEFAULT_ENV"], env["CONDA_PROMPT_MODIFIER"]) == ("base", f"({tmp_path.name}) ")
    assert (env["CONDA_EXE"], env["_CONDA_EXE"], env["CONDA_PYTHON_EXE"], env["_CONDA_ROOT"]) == (
        f"{tmp_path}/bin/conda", f"{tmp_path}/bin/conda", f"{tmp_path}/bin/python", str(tmp_path))
    assert "_CE_M" not in env and "_CE_CONDA" not in env
