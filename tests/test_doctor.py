"""`mambaboot doctor`: every finding from fakes (environment, files, registry), and
--undo-shell-init proven to remove only the marked blocks and hooks, keeping backups."""

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from mambaboot.common import winsys
from mambaboot.common.host import Host
from mambaboot.common import isolation
from mambaboot.common import quoting
from mambaboot.shell import doctor, shellinit
from tests.conftest import MAMBABOOT, _clean_environ, copy_env
from tests.support import pwsh
from tests.support.interrupt import killed_at
from tests.support.intents import lock_of as _lock
from tests.support.snapshot import diff, snapshot

CONDA_BLOCK = """# >>> conda initialize >>>
# !! Contents within this block are managed by 'conda init' !!
__conda_setup="$('/opt/conda/bin/conda' 'shell.bash' 'hook' 2> /dev/null)"
eval "$__conda_setup"
# <<< conda initialize <<<
"""
MAMBA_BLOCK = """# >>> mamba initialize >>>
export MAMBA_EXE='/opt/micromamba';
eval "$("$MAMBA_EXE" shell hook --shell zsh)"
# <<< mamba initialize <<<
"""
PS_BLOCK = """#region conda initialize\r
# !! Contents within this block are managed by 'conda init' !!\r
(& "C:\\Miniconda3\\Scripts\\conda.exe" "shell.powershell" "hook") | Out-String | Invoke-Expression\r
#endregion\r
"""


def machine(environ, windows=False, files=(), envs=(), home="/home/u", cwd="/work", realpath=lambda p: p,
            subdir=None):
    files, envs = set(files), set(envs)
    environ = {("USERPROFILE" if windows else "HOME"): home, **environ}
    sep = "\\" if windows else "/"

    def listdir(directory):
        return sorted({f[len(directory) + 1:].split(sep)[0] for f in files if f.startswith(directory + sep)})

    return Host(environ=environ, windows=windows, subdir=subdir or ("win-64" if windows else "linux-64"), cwd=cwd,
                is_env_root=envs.__contains__, is_file=files.__contains__, is_executable=lambda p: True,
                realpath=realpath, listdir=listdir)


def severities(findings):
    return [(f.check, f.severity) for f in findings]


# ------------------------------------------------------------------ variables


@pytest.mark.parametrize("value, error", [("1", True), ("0", False)])
def test_registry_paths_allowed_for_conda_forge_python_are_an_error_on_windows(value, error):
    """conda-forge's python reads the registry's PythonPath only with CONDA_PY_ALLOW_REG_PATHS
    set and not 0 (python-feedstock's patch); then no activation keeps those entries out."""
    found = doctor.check_variables(machine({"CONDA_PY_ALLOW_REG_PATHS": value}, windows=True, home="C:\\Users\\u"))
    if error:
        assert severities(found) == [("variables", "error")], found
        assert "CONDA_PY_ALLOW_REG_PATHS=1 is set" in found[0].message and "PythonPath" in found[0].message
    else:
        assert [f for f in found if f.severity == "error"] == [], found


@pytest.mark.parametrize("name", ["PYTHONHOME", "PYTHONPATH", "PYTHON_ENVS"])
def test_variables_steering_python_are_errors(name):
    found = doctor.check_variables(machine({name: "/x"}))
    assert severities(found) == [("variables", "error")] and f"{name}=/x" in found[0].message and found[0].fix


def test_two_active_environments_and_stacked_activations_are_errors():
    found = doctor.check_variables(machine({"CONDA_PREFIX": "/a", "VIRTUAL_ENV": "/v", "CONDA_SHLVL": "1"}))
    assert severities(found) == [("variables", "error")] and "two environments" in found[0].message
    found = doctor.check_variables(machine({"CONDA_PREFIX": "/b", "CONDA_PREFIX_1": "/a", "CONDA_SHLVL": "2"}))
    assert severities(found) == [("variables", "error")] and "stacked" in found[0].message


def test_a_hook_without_an_environment_is_an_error_as_create_refuses_it_and_stray_settings_warnings():
    environ = {"CONDA_SHLVL": "0", "CONDA_EXE": "/c", "_CE_M": "", "MAMBA_ROOT_PREFIX": "/r",
               "CONDA_PKGS_DIRS": "/cache", "PATH": "/bin"}
    found = doctor.check_variables(machine(environ))
    assert severities(found) == [("variables", "error"), ("variables", "warning")]
    assert "shell hook ran" in found[0].message and "refuse" in found[0].message
    assert isolation.contamination(environ, False) == [("CONDA_SHLVL", "0")]  # what create refuses (exit 3)
    assert "CONDA_EXE, MAMBA_ROOT_PREFIX, _CE_M" in found[1].message and "CONDA_PKGS_DIRS" not in found[1].message
    assert "conda and mamba read them" in found[1].message


def test_one_activated_environment_is_fine():
    env = {"CONDA_PREFIX": "/e", "CONDA_SHLVL": "1", "CONDA_DEFAULT_ENV": "/e", "CONDA_PROMPT_MODIFIER": "(/e) "}
    assert severities(doctor.check_variables(machine(env))) == [("variables", "ok")]
    cmd_state = {"_MAMBABOOT_ACTIVE": "C:\\e", "_MAMBABOOT_OLD_PATH": "C:\\Windows"}  # activate.bat's, for deactivate.bat
    assert severities(doctor.check_variables(machine(dict(env, **cmd_state), windows=True))) == [("variables", "ok")]


@pytest.mark.parametrize("name", ["PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONUTF8",
                                  "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONNOUSERSITE", "PYTHONUSERBASE"])
def test_python_variables_that_change_no_interpreter_or_package_are_not_findings(name):
    assert doctor.check_variables(machine({name: "1"})) == []


def test_python_variables_that_change_which_files_a_python_takes_are_warnings_where_they_do():
    found = doctor.check_variables(machine({"PYTHONPLATLIBDIR": "lib64"}))
    assert severities(found) == [("variables", "warning")] and "lib-dynload" in found[0].message
    assert doctor.check_variables(machine({"PYTHONEXECUTABLE": "/x"})) == [], "read on macOS only"
    found = doctor.check_variables(machine({"PYTHONEXECUTABLE": "/x"}, subdir="osx-arm64"))
    assert severities(found) == [("variables", "warning")] and "sys.executable" in found[0].message


def test_packages_in_a_user_site_are_warnings_unless_the_user_site_is_off():
    site = "/home/u/.local/lib/python3.11/site-packages"
    files = {f"{site}/requests/__init__.py", f"{site}/requests-2.0.dist-info/METADATA", "/home/u/.local/lib/python3.12/x"}
    found = doctor.check_user_site(machine({}, files=files))
    assert severities(found) == [("user-site", "warning")]
    assert found[0].message.startswith(f"{site} (the user site) holds 2 entries (requests, requests-2.0.dist-info)")
    assert "PYTHONNOUSERSITE=1" in found[0].fix
    off = doctor.check_user_site(machine({"PYTHONNOUSERSITE": "1"}, files=files))
    assert severities(off) == [("user-site", "ok")] and "this shell sets PYTHONNOUSERSITE" in off[0].message
    assert doctor.check_user_site(machine({}, files={"/home/u/.local/lib/python3.11/other/x"})) == [], "no site-packages"
    moved = doctor.check_user_site(machine({"PYTHONUSERBASE": "/ub"}, files={"/ub/lib/python3.12/site-packages/m.py"}))
    assert [f.message.split(":")[0] for f in moved] == ["/ub/lib/python3.12/site-packages (PYTHONUSERBASE) holds 1 entry (m.py)"]
    appdata = "C:\\Users\\u\\AppData\\Roaming"
    win = doctor.check_user_site(machine({"APPDATA": appdata}, windows=True,
                                         files={appdata + "\\Python\\Python311\\site-packages\\numpy\\__init__.py"}))
    assert severities(win) == [("user-site", "warning")] and "Python311\\site-packages" in win[0].message


def test_windows_fix_for_an_environment_named_with_dollar_and_percent_names_a_line_for_each_shell(tmp_path):
    """Doctor on Windows, an environment whose name holds $(...) and %PATH%: its fix gives cmd.exe's
    line and PowerShell's, each reading the path literally (no one line is right in both)."""
    from tests.test_quoting import shown_on_windows

    root = tmp_path / "lab $(whoami) %PATH%"
    (root / "conda-meta").mkdir(parents=True)
    appdata = "C:\\Users\\u\\AppData\\Roaming"
    m = machine({"APPDATA": appdata}, windows=True, files={appdata + "\\Python\\Python311\\site-packages\\x.py"})
    (found,) = [f for f in doctor.check_user_site(m, [str(root)]) if f.message.startswith(str(root))]
    assert found.severity == "warning" and found.fix.endswith("in PowerShell   (sets it there for every activation, "
                                                            "conda's and mamba's included)")
    lines = shown_on_windows(found.fix)
    argv = ["mambaboot", "activate-scripts", str(root)]
    assert pwsh.words(lines["powershell"]) == argv
    assert lines["cmd"] == "mambaboot activate-scripts " + quoting.cmd_prompt(str(root))


def test_windows_variable_names_are_case_insensitive():
    found = doctor.check_variables(machine({"PythonPath": "C:\\x"}, windows=True))
    assert severities(found) == [("variables", "error")]


# ------------------------------------------------------------------ PATH


def test_more_than_one_environment_on_path_is_an_error_grouped_by_environment():
    env = {"PATH": "/opt/conda/bin:/opt/conda/condabin:/usr/bin:/home/u/venv/bin", "CONDA_PREFIX": "/opt/conda"}
    found = doctor.check_path(machine(env, envs={"/opt/conda", "/home/u/venv"}))
    assert severities(found) == [("path", "error")]
    assert found[0].message == ("PATH holds 2 Python environments: /opt/conda (/opt/conda/bin, /opt/conda/condabin); "
                                "/home/u/venv (/home/u/venv/bin)")


def test_an_environment_on_path_must_be_the_active_one():
    m = machine({"PATH": "/e/bin:/usr/bin"}, envs={"/e"})
    assert severities(doctor.check_path(m)) == [("path", "error")] and "nothing activated it" in doctor.check_path(m)[0].message
    m = machine({"PATH": "/e/bin:/usr/bin", "CONDA_PREFIX": "/f"}, envs={"/e", "/f"})
    assert [f.message for f in doctor.check_path(m)] == ["PATH holds the environment /e but the active one is /f",
                                                          "/f is marked active but none of its directories is on PATH"]
    assert severities(doctor.check_path(machine({"PATH": "/e/bin", "CONDA_PREFIX": "/e"}, envs={"/e"}))) == [("path", "ok")]


def test_windows_path_entries_group_case_insensitively():
    env = {"Path": "C:\\E;c:\\e\\Library\\bin;C:\\E\\Scripts;C:\\Windows", "CONDA_PREFIX": "c:\\e"}
    found = doctor.check_path(machine(env, windows=True, envs={"C:\\E", "c:\\e"}))
    assert severities(found) == [("path", "ok")]


# ------------------------------------------------------------------ fallbacks


def test_a_distributions_python_later_on_path_is_no_finding():
    """Debian's /usr/bin/python3 (or macOS's): never reached while an environment is active, and
    not the user's to take off PATH; without one, it is what the user runs on purpose."""
    files = {"/e/bin/python", "/e/bin/python3", "/usr/bin/python3", "/bin/python3", "/usr/local/bin/python3"}
    active = machine({"PATH": "/e/bin:/usr/local/bin:/usr/bin:/bin", "CONDA_PREFIX": "/e"}, files=files, envs={"/e"})
    bare = machine({"PATH": "/usr/local/bin:/usr/bin:/bin"}, files=files, envs={"/e"})
    for m in (active, bare):
        assert doctor.check_fallbacks(m) + doctor.check_shadowing(m) == []
    assert [f for f in doctor.examine(active) if f.severity != "ok"] == []


def test_a_python_before_the_active_environment_on_path_is_an_error():
    files = {"/home/u/.pyenv/shims/python", "/home/u/.pyenv/shims/python3", "/e/bin/python", "/e/bin/python3",
             "/usr/bin/python3"}
    m = machine({"PATH": "/home/u/.pyenv/shims:/e/bin:/usr/bin", "CONDA_PREFIX": "/e"}, files=files, envs={"/e"})
    found = doctor.check_shadowing(m)
    assert severities(found) == [("shadow", "error")] * 2
    assert found[0].message == ("`python` runs /home/u/.pyenv/shims/python, not the active environment's /e/bin/python: "
                                "/home/u/.pyenv/shims comes before it on PATH")
    assert "after activation" in found[0].fix
    bare = machine({"PATH": "/e/bin:/usr/bin", "VIRTUAL_ENV": "/e"}, files={"/e/bin/python", "/usr/bin/python3"}, envs={"/e"})
    assert [f.message for f in doctor.check_shadowing(bare)] == ["the active environment /e has no python3: `python3` runs /usr/bin/python3"]


def test_a_python_in_the_current_directory_shadows_the_environment_in_cmd():
    files = {"C:\\work\\python.exe", "C:\\e\\python.exe"}
    m = machine({"PATH": "C:\\e;C:\\e\\Scripts", "CONDA_PREFIX": "C:\\e"}, windows=True, files=files, envs={"C:\\e"},
                cwd="C:\\work")
    assert [(f.check, f.severity, f.message.split(",")[0]) for f in doctor.check_shadowing(m)] == [
        ("shadow", "error", "`python` runs C:\\work\\python.exe")]
    m.cwd = "C:\\elsewhere"
    assert doctor.check_shadowing(m) == []


def test_the_windows_store_alias_is_named_with_its_fix():
    apps = "C:\\Users\\u\\AppData\\Local\\Microsoft\\WindowsApps"
    m = machine({"PATH": f"C:\\Windows;{apps}"}, windows=True, files={apps + "\\python.exe", apps + "\\python3.exe"})
    found = doctor.check_fallbacks(m)
    assert severities(found) == [("fallback", "warning")]
    assert found[0].message.startswith("the Windows Store python alias is reachable")
    assert "App execution aliases" in found[0].fix


# ------------------------------------------------------------------ Windows: wrappers, AutoRun, long paths


E = "C:\\e"


def test_mamba_resolving_to_the_exe_before_the_bat_wrapper_is_a_warning():
    files = {f"{E}\\Scripts\\mamba.exe", f"{E}\\condabin\\mamba.bat", f"{E}\\condabin\\conda.bat", f"{E}\\Scripts\\conda.exe"}
    wrong = machine({"PATH": f"{E}\\Scripts;{E}\\condabin"}, windows=True, files=files, cwd="C:\\work")
    found = doctor.check_wrappers(wrong)
    assert severities(found) == [("wrappers", "warning")] * 2
    assert found[0].message.startswith(f"mamba resolves to {E}\\Scripts\\mamba.exe, not to the wrapper {E}\\condabin\\mamba.bat")
    right = machine({"PATH": f"{E}\\condabin;{E}\\Scripts"}, windows=True, files=files, cwd="C:\\work")
    assert severities(doctor.check_wrappers(right)) == [("wrappers", "ok")] * 2


def test_after_our_activation_the_wrappers_win_and_the_prefix_python_still_answers():
    """The real win-64 layout: mamba 2.x's Library\\bin\\mamba.exe, conda's Scripts\\conda.exe and
    Library\\bin\\conda.bat (conda/core/initialize.py `make_install_plan`), the condabin wrappers;
    a python.bat in condabin must still not come before the prefix's python.exe."""
    from mambaboot.shell.activation import environ

    files = {f"{E}\\Library\\bin\\mamba.exe", f"{E}\\Scripts\\conda.exe", f"{E}\\Library\\bin\\conda.bat",
             f"{E}\\condabin\\mamba.bat", f"{E}\\condabin\\conda.bat", f"{E}\\condabin\\python.bat",
             f"{E}\\python.exe", f"{E}\\Scripts\\python.exe"}
    path = ";".join(environ.path_entries(E, True) + ["C:\\Windows\\system32"])
    m = machine({"PATH": path, "CONDA_PREFIX": E}, windows=True, files=files, envs={E}, cwd="C:\\work")
    assert [(f.severity, f.message) for f in doctor.check_wrappers(m)] == [
        ("ok", f"mamba resolves to the wrapper {E}\\condabin\\mamba.bat"),
        ("ok", f"conda resolves to the wrapper {E}\\condabin\\conda.bat")]
    assert doctor.resolve(m, "python") == f"{E}\\python.exe"
    assert doctor.check_shadowing(m) == []


def test_the_wrapper_fix_names_what_puts_condabin_first():
    files = {f"{E}\\Library\\bin\\mamba.exe", f"{E}\\condabin\\mamba.bat"}
    m = machine({"PATH": f"{E};{E}\\Library\\bin;{E}\\condabin"}, windows=True, files=files, cwd="C:\\work")
    found, = doctor.check_wrappers(m)
    assert found.severity == "warning" and "bypassed" in found.message
    assert found.fix.startswith(f"put {E}\\condabin before {E}\\Library\\bin in PATH: ") and "activate.bat" in found.fix


def test_pathext_order_decides_within_a_directory_and_the_current_directory_comes_first():
    files = {f"{E}\\condabin\\mamba.bat", f"{E}\\condabin\\mamba.exe", "C:\\work\\conda.exe", f"{E}\\condabin\\conda.bat"}
    m = machine({"PATH": f"{E}\\condabin", "PATHEXT": ".EXE;.BAT"}, windows=True, files=files, cwd="C:\\work")
    assert doctor.resolve(m, "mamba") == f"{E}\\condabin\\mamba.exe"
    assert doctor.resolve(m, "conda") == "C:\\work\\conda.exe"
    m = machine({"PATH": f"{E}\\condabin", "PATHEXT": ".BAT;.EXE"}, windows=True, files=files, cwd="C:\\work")
    assert doctor.resolve(m, "mamba") == f"{E}\\condabin\\mamba.bat"


@pytest.fixture
def registry(monkeypatch):
    """A fake HKCU/HKLM Command Processor key and LongPathsEnabled."""
    values = {}
    writes = []
    monkeypatch.setattr(winsys, "read_autorun", lambda hive: values.get(hive))
    monkeypatch.setattr(winsys, "write_autorun", lambda hive, value, kind: writes.append((hive, value, kind)))
    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: True)
    monkeypatch.setattr(winsys, "smart_app_control", lambda: 0)
    monkeypatch.setattr(winsys, "documents_dir", lambda: None)
    return values, writes


def test_autorun_hooks_are_errors_and_other_autoruns_are_not(registry):
    values, _ = registry
    values["HKCU"] = ('"C:\\tools\\init.bat" & "C:\\e\\condabin\\mamba_hook.bat"', winsys.REG_SZ)
    values["HKLM"] = ('if exist "C:\\m\\condabin\\conda_hook.bat" "C:\\m\\condabin\\conda_hook.bat"', winsys.REG_EXPAND_SZ)
    found = doctor.check_autorun()
    assert severities(found) == [("autorun", "error")] * 2
    assert "(HKLM)" in found[1].message and "administrator" in found[1].fix
    values.clear()
    values["HKCU"] = ('"C:\\tools\\init.bat"', winsys.REG_SZ)
    assert doctor.check_autorun() == []


@pytest.mark.parametrize("state, severity", [(True, "ok"), (False, "warning"), (None, "warning")])
def test_long_paths(registry, monkeypatch, state, severity):
    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: state)
    found = doctor.check_long_paths(machine({"LOCALAPPDATA": "C:\\L"}, windows=True, cwd="C:\\work"))
    assert severities(found) == [("long-paths", severity)]
    assert severity == "ok" or "LongPathsEnabled /t REG_DWORD /d 1" in found[0].fix


@pytest.mark.parametrize("state, found", [
    (1, ("warning", "Smart App Control is on: Windows refuses to start a program or load an extension module")),
    (2, ("ok", "Smart App Control is evaluating: it blocks nothing now")), (0, ("ok", "Smart App Control is off")),
    (None, None)])
def test_smart_app_control_is_said_with_what_it_blocks_and_whose_choice_it_is(registry, monkeypatch, state, found):
    """Smart App Control's state, VerifiedAndReputablePolicyState under HKLM's CI\\Policy (faked here):
    on, it refuses what is unsigned and unknown to Microsoft in every folder (4551), which no
    folder or option gets past; turning it off is the user's choice in Windows Security. Not
    there (Windows 10): nothing said."""
    monkeypatch.setattr(winsys, "smart_app_control", lambda: state)
    said = doctor.check_smart_app_control()
    if found is None:
        assert said == []
        return
    (finding,) = said
    assert (finding.check, finding.severity) == ("smart-app-control", found[0]) and finding.message.startswith(found[1])
    if state == 1:
        assert "no folder or option of mambaboot helps" in finding.message and "Windows Security" in finding.fix


def test_windows_examination_runs_every_check(registry, tmp_path):
    checks = {f.check for f in doctor.examine(machine({"PATH": "C:\\e\\condabin", "CONDA_PREFIX": "C:\\e"}, windows=True,
                                                      envs={"C:\\e"}, files={"C:\\e\\condabin\\mamba.bat"},
                                                      home=str(tmp_path)))}
    assert checks == {"variables", "path", "wrappers", "long-paths", "smart-app-control"}


# ------------------------------------------------------------------ shell init


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".config" / "fish").mkdir(parents=True)
    (home / ".config" / "powershell").mkdir(parents=True)
    (home / ".bashrc").write_text("alias ll='ls -l'\n\n" + CONDA_BLOCK + "export EDITOR=vi\n")
    (home / ".zshrc").write_text(MAMBA_BLOCK + "setopt autocd\n")
    (home / ".bash_profile").write_text("[ -f ~/.bashrc ] && . ~/.bashrc\n")
    (home / ".config" / "fish" / "config.fish").write_text(
        "set -x A 1\n# >>> conda initialize >>>\neval /opt/conda/bin/conda 'shell.fish' 'hook' $argv | source\n"
        "# <<< conda initialize <<<\n")
    (home / ".config" / "powershell" / "Microsoft.PowerShell_profile.ps1").write_bytes(
        b"\xef\xbb\xbfSet-Alias g git\r\n" + PS_BLOCK.encode())
    return home


def test_init_blocks_in_rc_files_and_profiles_are_errors(tmp_path):
    home = _home(tmp_path)
    (home / ".tcshrc").write_text("# >>> conda initialize >>>\nsource /opt/conda/etc/profile.d/conda.csh\n")  # no end
    found = doctor.check_shell_init(machine({}, home=str(home)))
    where = [(Path(f.message.split(" lines ")[0]).name, f.severity) for f in found if " lines " in f.message]
    assert where == [(".bashrc", "error"), (".zshrc", "error"), ("config.fish", "error"),
                     ("Microsoft.PowerShell_profile.ps1", "error")]
    assert ".bashrc lines 3-7: a 'conda initialize' block" in found[0].message
    assert found[-1].message.endswith("has no end marker; left alone, remove it by hand") and found[-1].severity == "error"


def test_windows_powershell_profiles_are_found_in_the_documents_folder(registry, monkeypatch, tmp_path):
    docs = tmp_path / "OneDrive" / "Documents"
    (docs / "WindowsPowerShell").mkdir(parents=True)
    (docs / "WindowsPowerShell" / "profile.ps1").write_text(PS_BLOCK)
    monkeypatch.setattr(winsys, "documents_dir", lambda: str(docs))
    found = doctor.check_shell_init(machine({}, windows=True, home=str(tmp_path / "home")))
    assert len(found) == 1 and "profile.ps1 lines 1-4" in found[0].message


def _doctor(*args, home: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([*MAMBABOOT, "doctor", *args], env=_clean_environ(HOME=str(home), **env),
                          capture_output=True, text=True, timeout=60)


def test_doctor_command_exit_codes_and_json(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    clean = _doctor(home=home)
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].startswith("doctor: 0 error(s)")
    (home / ".bashrc").write_text(CONDA_BLOCK)
    dirty = _doctor("--json", home=home, PYTHONPATH="/x")
    assert dirty.returncode == 11
    out = json.loads(dirty.stdout)
    assert out["ok"] is False
    assert {(f["check"], f["severity"]) for f in out["findings"]} >= {("variables", "error"), ("shell-init", "error")}
    assert all(f["fix"] for f in out["findings"] if f["severity"] != "ok")


def test_a_stock_debian_shell_is_clean_with_or_without_an_environment(made_env, tmp_path):
    """Debian's own python3 in /usr/bin on PATH and variables that change how a Python behaves,
    not which one runs or what it imports: nothing to warn about, activated or not."""
    home = tmp_path / "home"
    home.mkdir()
    assert os.access("/usr/bin/python3", os.X_OK), "the distribution's python"
    harmless = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"}
    activated = {**harmless, "PATH": f"{made_env}/bin:/usr/bin:/bin", "CONDA_PREFIX": str(made_env), "CONDA_SHLVL": "1"}
    for env in (harmless, activated):
        proc = _doctor("--json", home=home, **env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert [f for f in json.loads(proc.stdout)["findings"] if f["severity"] != "ok"] == []


@pytest.mark.parametrize("own_conda", [True, False], ids=["own-conda", "no-conda"])
def test_a_shell_the_scripts_activated_holds_nothing_to_fix(made_env, tmp_path, own_conda):
    """activate.sh sets CONDA_EXE, _CONDA_EXE, CONDA_PYTHON_EXE, _CONDA_ROOT (its own conda's) and
    MAMBA_ROOT_PREFIX: doctor names the active environment instead of asking to remove them."""
    prefix = copy_env(made_env, tmp_path / "env")
    if not own_conda:
        (prefix / "bin" / "conda").unlink()
    home = tmp_path / "home"
    home.mkdir()
    doctor_cmd = " ".join(shlex.quote(a) for a in [*MAMBABOOT, "doctor", "--json"])
    script = f"MAMBABOOT_ENV={shlex.quote(str(prefix))}; . \"$MAMBABOOT_ENV/.mambaboot/activate.sh\"\n{doctor_cmd}\n"
    proc = subprocess.run(["dash", "-c", script], env=_clean_environ(HOME=str(home)), capture_output=True, text=True,
                          timeout=60)
    variables = [(f["severity"], f["message"]) for f in json.loads(proc.stdout)["findings"] if f["check"] == "variables"]
    assert variables == [("ok", f"one environment is active: {prefix} (CONDA_PREFIX)")], proc.stderr


def test_variables_that_are_not_what_activation_sets_stay_warnings(tmp_path):
    (tmp_path / "e" / "conda-meta").mkdir(parents=True)
    e = str(tmp_path / "e")
    env = {"CONDA_PREFIX": e, "CONDA_SHLVL": "1", "MAMBA_ROOT_PREFIX": e, "CONDA_EXE": "/opt/conda/bin/conda"}
    found = doctor.check_variables(machine(env, files={f"{e}/bin/conda"}))
    assert severities(found) == [("variables", "warning")] and found[0].message.startswith(
        "conda/mamba settings in this shell: CONDA_EXE (")
    found = doctor.check_variables(machine(dict(env, CONDA_EXE=f"{e}/bin/conda"), files={f"{e}/bin/conda"}))
    assert severities(found) == [("variables", "ok")]
    # without its own conda, activation sets no CONDA_EXE: one there came from elsewhere
    assert severities(doctor.check_variables(machine(dict(env, CONDA_EXE=f"{e}/bin/conda")))) == [("variables", "warning")]
    # on Windows, names in any case and conda's Windows layout
    w = {"CONDA_PREFIX": "C:\\e", "Conda_Exe": "C:\\e\\Scripts\\conda.exe", "mamba_root_prefix": "C:\\e"}
    m = Host(environ=w, windows=True, subdir="win-64", cwd="C:\\", isdir=lambda p: p == "C:\\e\\conda-meta",
             is_file=lambda p: p == "C:\\e\\Scripts\\conda.exe")
    assert severities(doctor.check_variables(m)) == [("variables", "ok")]


def test_undo_shell_init_removes_only_the_marked_blocks_and_keeps_backups(tmp_path):
    home = _home(tmp_path)
    originals = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    before = snapshot(home)

    dry = _doctor("--undo-shell-init", "--dry-run", home=home)
    assert dry.returncode == 0 and "# >>> conda initialize >>>" in dry.stdout
    assert f"would remove {home / '.bashrc'} lines " in dry.stdout and "removed" not in dry.stdout
    assert snapshot(home) == before

    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "would remove" not in proc.stdout and f"removing {home / '.bashrc'} lines " in proc.stdout
    assert proc.stdout.splitlines()[-1] == "removed: 4 of 4 (each kept in the backup named above)"
    assert (home / ".bashrc").read_text() == "alias ll='ls -l'\n\nexport EDITOR=vi\n"
    assert (home / ".zshrc").read_text() == "setopt autocd\n"
    assert (home / ".config" / "fish" / "config.fish").read_text() == "set -x A 1\n"
    assert (home / ".config" / "powershell" / "Microsoft.PowerShell_profile.ps1").read_bytes() == \
        b"\xef\xbb\xbfSet-Alias g git\r\n"
    changes = diff(before, snapshot(home))
    backups = [p for p in changes if ".mambaboot-backup-" in p]
    assert len(backups) == 4 and all(changes[p][0] is None for p in backups)
    assert set(changes) - set(backups) == {".bashrc", ".zshrc", ".config/fish/config.fish",
                                           ".config/powershell/Microsoft.PowerShell_profile.ps1"}
    for backup in backups:
        original = home / backup.split(".mambaboot-backup-")[0]
        assert (home / backup).read_bytes() == originals[original]
    assert _doctor("--undo-shell-init", home=home).stdout.strip() == "no conda/mamba shell init found"


def test_undo_takes_only_the_hook_out_of_autorun_and_keeps_a_reg_backup(registry, tmp_path):
    values, writes = registry
    values["HKCU"] = ('"C:\\tools\\init.bat" & "C:\\e\\condabin\\mamba_hook.bat"', winsys.REG_SZ)
    values["HKLM"] = ('"C:\\m\\condabin\\conda_hook.bat"', winsys.REG_EXPAND_SZ)
    m = machine({}, windows=True, home=str(tmp_path))
    done = doctor.undo_shell_init(m, [], shellinit.find_autoruns())
    assert writes == [("HKCU", '"C:\\tools\\init.bat"', winsys.REG_SZ), ("HKLM", None, winsys.REG_EXPAND_SZ)]
    assert done.failures == [] and len(done.backups) == 2
    reg = Path(done.backups[0]).read_bytes().decode("utf-16")
    assert reg.startswith("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Command Processor]")
    assert '"AutoRun"="\\"C:\\\\tools\\\\init.bat\\" & \\"C:\\\\e\\\\condabin\\\\mamba_hook.bat\\""' in reg
    assert "hex(2):22,00,43,00" in Path(done.backups[1]).read_bytes().decode("utf-16")


def test_undo_reports_an_autorun_it_may_not_change(registry, monkeypatch, tmp_path):
    values, _ = registry
    values["HKLM"] = ('"C:\\m\\condabin\\conda_hook.bat"', winsys.REG_SZ)

    def denied(hive, value, kind):
        raise PermissionError(13, "Access is denied")

    monkeypatch.setattr(winsys, "write_autorun", denied)
    done = doctor.undo_shell_init(machine({}, windows=True, home=str(tmp_path)), [], shellinit.find_autoruns())
    assert done.failures == ["AutoRun (HKLM): Access is denied (HKLM needs an administrator)"]
    assert list(tmp_path.iterdir()) == []  # no backup of a value that did not change


# Bare hook lines as the conda/micromamba docs tell users to write them, one per shell
# (forms from conda/core/initialize.py and libmamba/src/core/shell_init.cpp 2.8.1).
BARE = {
    ".bashrc": 'eval "$(micromamba shell hook --shell bash)"\n',
    ".bash_profile": 'eval "$(/opt/conda/bin/conda shell.bash hook)"\n',
    ".zshrc": 'eval "$(\'/opt/conda/bin/conda\' \'shell.zsh\' \'hook\' 2> /dev/null)"\n',
    ".xonshrc": "execx($(micromamba shell hook -s xonsh))\n",
    ".config/fish/config.fish": "conda shell.fish hook | source\n",
    ".config/powershell/Microsoft.PowerShell_profile.ps1":
        "(& conda 'shell.powershell' 'hook') | Out-String | Invoke-Expression\r\n",
    ".config/powershell/profile.ps1": "micromamba shell hook -s powershell | Out-String | Invoke-Expression\r\n",
}


def test_bare_hook_lines_are_reported_like_blocks_and_left_alone_by_undo(tmp_path):
    home = tmp_path / "home"
    for name, line in BARE.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("# eval \"$(conda shell.bash hook)\" is commented out\nexport A=1\n" + line)
    (home / ".tcshrc").write_text(CONDA_BLOCK)  # a hook line inside a block: reported once, as the block
    found = doctor.check_shell_init(machine({}, home=str(home)))
    lines = sorted(f.message for f in found if " line 3: " in f.message)
    assert lines == sorted(f"{home / name} line 3: `{line.strip()}` runs a conda/mamba shell hook in every new shell"
                           for name, line in BARE.items())
    assert len(found) == len(BARE) + 1 and all(f.severity == "error" and f.fix for f in found)
    assert all(f.fix.startswith("delete line 3 of ") for f in found if " line 3: " in f.message)

    before = snapshot(home)
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 0, proc.stderr
    assert f"not touched: {home / '.bashrc'} line 3: `eval \"$(micromamba shell hook --shell bash)\"`" in proc.stdout
    assert "no conda/mamba shell init found" not in proc.stdout
    assert {p for p in diff(before, snapshot(home)) if ".mambaboot-backup-" not in p} == {".tcshrc"}
    assert all((home / name).read_bytes().endswith(line.encode()) for name, line in BARE.items())
    assert _doctor(home=home).returncode == 11, "the bare lines are still there: a finding"


def test_undo_refuses_a_block_without_an_end_marker_and_changes_nothing(tmp_path):
    home = _home(tmp_path)
    (home / ".tcshrc").write_text("set x=1\n# >>> conda initialize >>>\nsource /opt/conda/etc/profile.d/conda.csh\n")
    before = snapshot(home)
    for args in (["--undo-shell-init"], ["--undo-shell-init", "--dry-run"]):
        proc = _doctor(*args, home=home)
        assert proc.returncode == 11, proc.stdout
        assert f"refused: {home / '.tcshrc'}:2: '# >>> conda initialize >>>' has no end marker" in proc.stdout
        assert snapshot(home) == before  # the well-formed blocks in the other files stay too
    out = json.loads(_doctor("--undo-shell-init", "--json", home=home).stdout)
    assert out["refused"] is True and out["problems"][0].startswith(f"{home / '.tcshrc'}:2:")
    assert snapshot(home) == before


def test_undo_edits_the_file_a_symlinked_rc_file_points_to(tmp_path):
    home = tmp_path / "home"
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    home.mkdir()
    (dotfiles / "bashrc").write_text("alias ll='ls -l'\n" + CONDA_BLOCK)
    (home / ".bashrc").symlink_to(dotfiles / "bashrc")
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (home / ".bashrc").is_symlink() and Path(str((home / ".bashrc").resolve())) == dotfiles / "bashrc"
    assert (dotfiles / "bashrc").read_text() == "alias ll='ls -l'\n"
    assert sorted(p.name for p in dotfiles.iterdir()) == ["bashrc"]
    backup, = [p for p in home.iterdir() if ".mambaboot-backup-" in p.name]
    assert not backup.is_symlink() and backup.read_text() == "alias ll='ls -l'\n" + CONDA_BLOCK


# ------------------------------------------------------------------ a stale PYTHONHOME


def test_a_stale_pythonhome_is_named_as_one_with_what_to_run():
    home = "/opt/gone"
    found = doctor.check_variables(machine({"PYTHONHOME": home}))
    assert "is not a Python home" in found[0].message and doctor.SURVIVE in found[0].message
    import sys

    real = machine({"PYTHONHOME": home}, files={f"{home}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/os.py"})
    assert "is not a Python home" not in doctor.check_variables(real)[0].message


def test_the_documented_commands_survive_a_stale_pythonhome(zipapp, tmp_path):
    from tests.conftest import REPO, RUNTIME_PYTHON

    home = tmp_path / "home"
    home.mkdir()
    stale = _clean_environ(HOME=str(home), PYTHONHOME=str(tmp_path / "gone"), PYTHONPATH=str(tmp_path / "gone-too"))

    def started(*argv, cwd=None):
        return subprocess.run([RUNTIME_PYTHON, *argv], env=stale, cwd=cwd, capture_output=True, text=True, timeout=60)

    # The premise: without -E/-I Python itself dies, as the pip console script does.
    dead = started(str(zipapp), "doctor")
    assert dead.returncode != 0 and "doctor:" not in dead.stdout and "encodings" in dead.stderr
    # What doctor and the guide say to run instead: the zipapp with -I, the installed package with -E
    # (here the checkout's src/ stands for site-packages: -m puts the current directory first).
    for proc in (started("-I", str(zipapp), "doctor"), started("-E", "-m", "mambaboot", "doctor", cwd=str(REPO / "src"))):
        assert proc.returncode == 11 and "Traceback" not in proc.stderr, proc.stderr  # an error finding
        assert f"PYTHONHOME={tmp_path / 'gone'} is set" in proc.stdout and "is not a Python home" in proc.stdout
        assert f"PYTHONPATH={tmp_path / 'gone-too'} is set" in proc.stdout


# ------------------------------------------------------------------ only well-formed blocks, never an edit lost

def _refused(reliability, home: Path, name: str, text: str, *where: str):
    """Undo refuses the file (exit 11, nothing changed anywhere, no backup), naming its lines;
    doctor reports the same, so the two never disagree about the file."""
    (home / name).write_text(text)
    before = snapshot(home)
    proc = _doctor("--undo-shell-init", home=home)
    check = _doctor(home=home)
    ok = (proc.returncode == 11 and all(f"refused: {home / name}:{w}" in proc.stdout for w in where)
          and snapshot(home) == before
          and check.returncode == 11 and all(f"{home / name}:{w}" in check.stdout for w in where))
    reliability.record("undo-shell-init: a block not well formed refused, nothing changed", ok)
    assert ok, proc.stdout + proc.stderr + check.stdout
    return proc.stdout


def test_a_second_start_marker_before_the_end_is_refused_and_the_lines_between_kept(tmp_path, reliability):
    home = tmp_path / "home"
    home.mkdir()
    out = _refused(reliability, home, ".bashrc", "alias ll='ls -l'\n# >>> conda initialize >>>\nexport MY_TOKEN=kept\n"
                   "export EDITOR=vi\n" + CONDA_BLOCK, "2-5")
    assert "followed at line 5 by '# >>> conda initialize >>>' before its end marker" in out


def test_a_start_marker_inside_a_heredoc_is_refused_and_the_heredoc_left_whole(tmp_path, reliability):
    home = tmp_path / "home"
    home.mkdir()
    out = _refused(reliability, home, ".bashrc", "cat > ~/notes.txt <<EOF\n# >>> conda initialize >>>\nEOF\necho after\n"
                   + CONDA_BLOCK, "2")
    assert "is inside the heredoc or quoted text opened at line 1" in out
    out = _refused(reliability, home, ".zshrc", "cat <<-'END'\n" + MAMBA_BLOCK + "echo the heredoc never ends\n", "2", "5")
    assert "which never ends" in out


def test_nested_blocks_are_refused_leaving_no_stray_marker(tmp_path, reliability):
    home = tmp_path / "home"
    home.mkdir()
    nested = ("# >>> conda initialize >>>\n" + CONDA_BLOCK + 'eval "$(conda shell.bash hook)"\n'
              "# <<< conda initialize <<<\nexport EDITOR=vi\n")
    out = _refused(reliability, home, ".bashrc", nested, "1-2", "8")
    assert "closes no block" in out


def test_a_line_of_the_users_inside_a_block_is_refused(tmp_path, reliability):
    home = tmp_path / "home"
    home.mkdir()
    out = _refused(reliability, home, ".bashrc", CONDA_BLOCK.replace("eval", "export MY_TOKEN=kept\neval"), "1-6")
    assert "holds line 4 (`export MY_TOKEN=kept`), which neither conda nor mamba writes there" in out


def test_the_blocks_conda_and_mamba_write_are_taken_out(tmp_path):
    """Each form upstream writes (conda 26.7.1 and mamba 2.8.1, initialize.py and shell_init.cpp)."""
    home = tmp_path / "home"
    (home / ".config" / "fish").mkdir(parents=True)
    (home / ".config" / "powershell").mkdir(parents=True)
    blocks = {
        ".bashrc": (
            "# >>> conda initialize >>>\n# !! Contents within this block are managed by 'conda init' !!\n"
            "__conda_setup=\"$('/opt/conda/bin/conda' 'shell.bash' 'hook' 2> /dev/null)\"\n"
            "if [ $? -eq 0 ]; then\n    eval \"$__conda_setup\"\nelse\n"
            "    if [ -f \"/opt/conda/etc/profile.d/conda.sh\" ]; then\n        . \"/opt/conda/etc/profile.d/conda.sh\"\n"
            "    else\n        export PATH=\"/opt/conda/bin:$PATH\"\n    fi\nfi\nunset __conda_setup\n\n"
            "if [ -f \"/opt/conda/etc/profile.d/mamba.sh\" ]; then\n    . \"/opt/conda/etc/profile.d/mamba.sh\"\nfi\n"
            "# <<< conda initialize <<<\n"),
        ".zshrc": (
            "# >>> mamba initialize >>>\n# !! Contents within this block are managed by 'micromamba shell init' !!\n"
            "export MAMBA_EXE='/home/u/.local/bin/micromamba';\nexport MAMBA_ROOT_PREFIX='/home/u/micromamba';\n"
            "__mamba_setup=\"$(\"$MAMBA_EXE\" shell hook --shell zsh --root-prefix \"$MAMBA_ROOT_PREFIX\" 2> /dev/null)\"\n"
            "if [ $? -eq 0 ]; then\n    eval \"$__mamba_setup\"\nelse\n"
            "    alias micromamba=\"$MAMBA_EXE\"  # Fallback on help from micromamba activate\nfi\n"
            "unset __mamba_setup\n# <<< mamba initialize <<<\n"),
        ".tcshrc": (
            "# >>> conda initialize >>>\n# !! Contents within this block are managed by 'conda init' !!\n"
            "if ( -f \"/opt/conda/etc/profile.d/conda.csh\" ) then\n    source \"/opt/conda/etc/profile.d/conda.csh\"\n"
            "else\n    setenv PATH \"/opt/conda/bin:$PATH\"\nendif\n# <<< conda initialize <<<\n"),
        ".xonshrc": (
            "# >>> mamba initialize >>>\n# !! Contents within this block are managed by 'micromamba shell init' !!\n"
            "$MAMBA_EXE = \"/home/u/bin/micromamba\"\n$MAMBA_ROOT_PREFIX = \"/home/u/micromamba\"\n"
            "import sys as _sys\nfrom types import ModuleType as _ModuleType\n_mod = _ModuleType(\"xontrib.mamba\",\n"
            "                   'Autogenerated from $($MAMBA_EXE shell hook -s xonsh -r $MAMBA_ROOT_PREFIX)')\n"
            "__xonsh__.execer.exec($($MAMBA_EXE shell hook -s xonsh -r $MAMBA_ROOT_PREFIX),\n"
            "                      glbs=_mod.__dict__,\n"
            "                      filename='$($MAMBA_EXE shell hook -s xonsh -r $MAMBA_ROOT_PREFIX)')\n"
            "_sys.modules[\"xontrib.mamba\"] = _mod\ndel _sys, _mod, _ModuleType\n# <<< mamba initialize <<<\n"),
        ".config/fish/config.fish": (
            "# >>> conda initialize >>>\n# !! Contents within this block are managed by 'conda init' !!\n"
            "if test -f /opt/conda/bin/conda\n    eval /opt/conda/bin/conda \"shell.fish\" \"hook\" $argv | source\nelse\n"
            "    if test -f \"/opt/conda/etc/fish/conf.d/conda.fish\"\n        . \"/opt/conda/etc/fish/conf.d/conda.fish\"\n"
            "    else\n        set -x PATH \"/opt/conda/bin\" $PATH\n    end\nend\n# <<< conda initialize <<<\n"
            "# >>> mamba initialize >>>\n# !! Contents within this block are managed by 'micromamba shell init' !!\n"
            "set -gx MAMBA_EXE \"/home/u/bin/micromamba\"\nset -gx MAMBA_ROOT_PREFIX \"/home/u/micromamba\"\n"
            "$MAMBA_EXE shell hook --shell fish --root-prefix $MAMBA_ROOT_PREFIX | source\n# <<< mamba initialize <<<\n"),
        ".config/powershell/profile.ps1": (
            "#region conda initialize\r\n# !! Contents within this block are managed by 'conda init' !!\r\n"
            "If (Test-Path \"/opt/conda/bin/conda\") {\r\n"
            "    (& \"/opt/conda/bin/conda\" \"shell.powershell\" \"hook\") | Out-String | ?{$_} | Invoke-Expression\r\n"
            "}\r\n#endregion\r\n\r\n#region mamba initialize\r\n"
            "# !! Contents within this block are managed by 'mamba shell init' !!\r\n"
            "$Env:MAMBA_ROOT_PREFIX = \"/home/u/micromamba\"\r\n$Env:MAMBA_EXE = \"/home/u/bin/micromamba\"\r\n"
            "(& $Env:MAMBA_EXE 'shell' 'hook' -s 'powershell' -r $Env:MAMBA_ROOT_PREFIX) | Out-String | Invoke-Expression\r\n"
            "#endregion\r\n"),
    }
    for name, block in blocks.items():
        (home / name).write_text("# mine\n" + block + "# mine too\n", newline="")
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 0, proc.stdout
    for name in blocks:
        left = (home / name).read_bytes().decode()
        assert left in ("# mine\n# mine too\n", "# mine\n\r\n# mine too\n"), (name, left)


def _bashrc(world, text=CONDA_BLOCK):
    rc = world.home / ".bashrc"
    rc.write_text("export EDITOR=vi\n" + text + "alias ll='ls -l'\n")
    return rc


def test_an_edit_made_while_undo_runs_is_kept_and_the_file_left_as_it_was(world, tmp_path, reliability):
    """The file is edited after undo read it and before it is replaced (at undo's first fsync,
    its backup's): the edit is there afterwards, the block too, and no backup misleads."""
    from tests.support.probed import run_probed

    rc = _bashrc(world)
    edit = "export EDITED_MEANWHILE=1\n"
    probe = ("import os\nreal, done = os.fsync, []\n"
             "def fsync(fd):\n    if not done:\n        done.append(1)\n"
             f"        open({str(rc)!r}, 'a').write({edit!r})\n    real(fd)\n"
             "os.fsync = fsync\n")
    original = rc.read_text()
    r = run_probed(world, tmp_path / "out", probe, "doctor", "--undo-shell-init")
    ok = (r.returncode == 11 and f"failed: {rc}: changed while mambaboot was editing it" in r.stdout
          and rc.read_text() == original + edit and sorted(p.name for p in world.home.iterdir()) == [".bashrc"])
    reliability.record("undo-shell-init: an edit made while it runs kept", ok)
    assert ok, (r.stdout + r.stderr, rc.read_text())


def test_undo_keeps_the_files_owner_mode_and_hard_links(world, reliability):
    rc = _bashrc(world)
    dotfiles = world.root / "dotfiles"
    dotfiles.mkdir()
    os.link(rc, dotfiles / "bashrc")
    os.chmod(rc, 0o640)
    owner = (4321, 4321) if os.geteuid() == 0 else (os.getuid(), os.getgid())  # as root: a user's file
    os.chown(rc, *owner)
    plain = world.home / ".zshrc"
    plain.write_text(MAMBA_BLOCK + "setopt autocd\n")
    os.chmod(plain, 0o600)
    os.chown(plain, *owner)
    inode = rc.stat().st_ino
    r = world.run("doctor", "--undo-shell-init")
    kept = [((p.stat().st_uid, p.stat().st_gid), p.stat().st_mode & 0o7777)
            for name in (".bashrc", ".zshrc") for p in sorted(world.home.glob(name + "*"))]
    ok = (r.returncode == 0
          and (dotfiles / "bashrc").read_text() == rc.read_text() == "export EDITOR=vi\nalias ll='ls -l'\n"
          and rc.stat().st_ino == inode and rc.stat().st_nlink == 2 and plain.read_text() == "setopt autocd\n"
          and kept == [(owner, 0o640)] * 2 + [(owner, 0o600)] * 2)  # each file, then its backup
    reliability.record("undo-shell-init: owner, mode and hard links kept", ok)
    assert ok, (r.stdout + r.stderr, kept, rc.stat())


# ------------------------------------------------------------------ other Pythons, named


def _named(m):
    return [(f.severity, f.message.split(" on PATH")[0]) for f in doctor.check_fallbacks(m)]


def test_each_tools_python_on_path_is_named_with_its_fix():
    h = "/home/u"
    uv_real = f"{h}/.local/share/uv/python/cpython-3.12.7-linux-x86_64-gnu/bin/python3.12"
    files = {f"{h}/.pyenv/shims/python", f"{h}/.asdf/shims/python3", f"{h}/.local/share/mise/shims/python",
             f"{h}/.local/share/mise/installs/python/3.12/bin/python3", f"{h}/.local/bin/python3.12",
             "/opt/homebrew/bin/python3", "/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3",
             "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3", f"{h}/mine/python"}
    links = {f"{h}/.local/bin/python3.12": uv_real,
             "/opt/homebrew/bin/python3": "/opt/homebrew/Cellar/python@3.12/3.12.7/bin/python3.12"}
    path = [f"{h}/.pyenv/shims", f"{h}/.asdf/shims", f"{h}/.local/share/mise/shims",
            f"{h}/.local/share/mise/installs/python/3.12/bin", f"{h}/.local/bin", "/opt/homebrew/bin",
            "/Library/Frameworks/Python.framework/Versions/3.12/bin", f"{h}/mine", "/usr/local/bin", "/usr/bin", "/bin"]
    m = machine({"PATH": ":".join(path)}, files=files, realpath=lambda p: links.get(p, p))
    assert _named(m) == [("warning", "pyenv's shims"), ("warning", "asdf's shims"), ("warning", "mise"), ("warning", "mise"),
                         ("warning", "uv's Python installs (`uv python install`)"), ("warning", "Homebrew's python"),
                         ("warning", "the python.org installer"), ("warning", "a Python that belongs to no environment")]
    assert all(f.fix for f in doctor.check_fallbacks(m))


def test_windows_pythons_are_named_pyenv_win_python_org_and_the_py_launcher():
    u = "C:\\Users\\u"
    files = {f"{u}\\.pyenv\\pyenv-win\\shims\\python.bat", f"{u}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
             "C:\\Program Files\\Python311\\python.exe", "C:\\Windows\\py.exe",
             f"{u}\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe"}
    path = [f"{u}\\.pyenv\\pyenv-win\\shims", f"{u}\\AppData\\Local\\Programs\\Python\\Python312",
            "C:\\Program Files\\Python311", "C:\\Windows", f"{u}\\AppData\\Local\\Microsoft\\WindowsApps"]
    m = machine({"PATH": ";".join(path)}, windows=True, home=u, files=files)
    assert [s for s, _ in _named(m)] == ["warning"] * 5
    messages = [f.message for f in doctor.check_fallbacks(m)]
    assert messages[0].startswith("pyenv-win's shims") and "python.org installer" in messages[1] \
        and "python.org installer" in messages[2] and messages[3].startswith("the py launcher") \
        and messages[4].startswith("the Windows Store python alias")


def test_a_conda_base_and_a_virtualenv_on_path_are_named():
    files = {"/opt/miniconda3/condabin/conda", "/work/.venv/pyvenv.cfg"}
    for entry, kind in (("/opt/miniconda3/bin", "the conda installation"), ("/work/.venv/bin", "the virtualenv")):
        m = machine({"PATH": f"{entry}:/usr/bin"}, files=files, envs={"/opt/miniconda3", "/work/.venv"})
        (finding,) = doctor.check_path(m)
        assert finding.severity == "error" and finding.message.startswith(f"PATH holds {kind}"), finding


def test_start_up_lines_of_pyenv_mise_and_asdf_are_errors(tmp_path):
    home = tmp_path
    (home / ".bashrc").write_text('# eval "$(pyenv init -)"\nexport PYENV_ROOT="$HOME/.pyenv"\neval "$(pyenv init -)"\n')
    (home / ".zshrc").write_text('eval "$(mise activate zsh)"\n. "$HOME/.asdf/asdf.sh"\n')
    (home / ".config" / "fish" / "conf.d").mkdir(parents=True)
    (home / ".config" / "fish" / "conf.d" / "pyenv.fish").write_text("pyenv init - fish | source\n")
    m = Host(environ={"HOME": str(home)}, windows=False, subdir="linux-64", cwd="/")
    found = [(f.severity, f.message.split(":")[0], f.message.split("puts ")[1].split("'s")[0])
             for f in doctor.check_startup(m)]
    assert found == [("error", f"{home}/.bashrc line 3", "pyenv"), ("error", f"{home}/.zshrc line 1", "mise"),
                     ("error", f"{home}/.zshrc line 2", "asdf"),
                     ("error", f"{home}/.config/fish/conf.d/pyenv.fish line 1", "pyenv")]


def test_doctor_names_pyenv_uvs_pythons_and_a_conda_init_block_on_one_machine(tmp_path):
    """A developer's machine: pyenv set up as its README says, uv's Pythons installed with
    `uv python install 3.12 --default`, and a conda init block. uv's layout, as uv makes it: the
    interpreter in $XDG_DATA_HOME/uv/python/<implementation>-<version>-<os>-<arch>-<libc>/, and
    python3.12 (with --default, python and python3 too) linked to it from the executable
    directory, ~/.local/bin (uv docs/reference/storage.md, "Python installations", "Python
    executables"; crates/uv-python/src/managed.rs)."""
    home = tmp_path / "home"
    shims = home / ".pyenv" / "shims"
    shims.mkdir(parents=True)
    for name in ("python", "python3"):
        (shims / name).write_text("#!/bin/sh\n")
        (shims / name).chmod(0o755)
    real, local_bin = _uv_links(home)
    (home / ".bashrc").write_text('export PYENV_ROOT="$HOME/.pyenv"\neval "$(pyenv init -)"\n' + CONDA_BLOCK)
    proc = _doctor("--json", home=home, PATH=f"{shims}:{local_bin}:/usr/bin:/bin")
    assert proc.returncode == 11, proc.stdout + proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    def found(check, severity, start):
        return any(f["check"] == check and f["severity"] == severity and f["message"].startswith(start) for f in findings)

    assert found("fallback", "warning", f"pyenv's shims on PATH: {shims}/python")
    assert found("fallback", "warning", f"uv's Python installs (`uv python install`) on PATH: {local_bin}/python")
    assert found("start-up", "error", f"{home}/.bashrc line 2: `eval \"$(pyenv init -)\"` puts pyenv's Python first")
    assert any(f["check"] == "shell-init" and "conda initialize" in f["message"] for f in findings)
    assert not any("/usr/bin/python3" in f["message"] for f in findings)


def _uv_links(home):
    """`uv python install --default` under home: the interpreter, and python3.12, python3 and
    python linked to it from ~/.local/bin; (its bin directory, ~/.local/bin)."""
    real = home / ".local" / "share" / "uv" / "python" / "cpython-3.12.7-linux-x86_64-gnu" / "bin"
    real.mkdir(parents=True)
    (real / "python3.12").write_text("")
    (real / "python3.12").chmod(0o755)
    local_bin = home / ".local" / "bin"
    local_bin.mkdir()
    for name in ("python3.12", "python3", "python"):
        (local_bin / name).symlink_to(real / "python3.12")
    return real, local_bin


def test_the_advice_for_uvs_links_typed_in_sh_deletes_exactly_them(tmp_path):
    """uv's python links in a directory whose path holds a space and shell syntax: the command
    doctor advises, typed in dash as shown, deletes those links and nothing else, and runs
    nothing the path holds."""
    home = tmp_path / "my home $(touch PWNED) `touch PWNED` it's"
    real, local_bin = _uv_links(home)
    (local_bin / "other").write_text("kept")
    (tmp_path / "my").mkdir()
    proc = _doctor("--json", home=home, PATH=f"{local_bin}:/usr/bin:/bin")
    (fix,) = [f["fix"] for f in json.loads(proc.stdout)["findings"] if f["message"].startswith("uv's Python installs")]
    command = fix.split(f"remove the python links uv made in {local_bin} (`", 1)[1].split("`), or install", 1)[0]
    typed = subprocess.run(["dash"], input=command + "\n", capture_output=True, text=True, cwd=str(tmp_path))
    assert typed.returncode == 0, (command, typed.stderr)
    assert sorted(p.name for p in local_bin.iterdir()) == ["other"] and (real / "python3.12").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my", home.name], "the advice ran what the path holds"


def test_pyenv_win_as_its_package_lays_it_out_is_named():
    """pyenv-win's own files (the package installs the tree its installer copies to
    %USERPROFILE%\\.pyenv), with the shims `pyenv rehash` writes where its libexec/libs/pyenv-lib.vbs
    says: strPyenvHome\\shims, a NAME.bat and a NAME per executable."""
    import importlib.metadata

    dist = importlib.metadata.distribution("pyenv-win")
    lib = Path(dist.locate_file("pyenv-win/libexec/libs/pyenv-lib.vbs")).read_text(errors="replace")
    assert 'strDirShims  = strPyenvHome & "\\shims"' in lib and 'filespec = strDirShims &"\\"& baseName &".bat"' in lib
    u = "C:\\Users\\u"
    home = f"{u}\\.pyenv"
    files = {home + "\\" + str(f).replace("/", "\\") for f in dist.files if str(f).startswith("pyenv-win/")}
    assert f"{home}\\pyenv-win\\bin\\pyenv.bat" in files
    files |= {f"{home}\\pyenv-win\\shims\\{n}" for n in ("python.bat", "python", "python3.bat", "python3")}
    m = machine({"PATH": f"{home}\\pyenv-win\\bin;{home}\\pyenv-win\\shims;C:\\Windows\\system32"}, windows=True,
                home=u, files=files)
    (finding,) = doctor.check_fallbacks(m)
    assert finding.severity == "warning" and finding.message.startswith(
        f"pyenv-win's shims on PATH: {home}\\pyenv-win\\shims\\python.bat, {home}\\pyenv-win\\shims\\python3.bat")
    assert "pyenv-win\\bin" in finding.fix


@pytest.mark.parametrize("user", ["u", "a-rather-long-user-name-x"])
def test_long_paths_off_measures_the_default_cache_for_the_default_channels(registry, monkeypatch, user):
    """micromamba 2.x extracts each package into <cache>\\<scheme>\\<host>\\<channel>\\<subdir>\\: the
    per-user cache under a long user name leaves too little room; <drive>\\CACHE, where it exists, fits."""
    from mambaboot.common import cachepaths

    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: False)
    home = f"C:\\Users\\{user}"
    m = machine({"LOCALAPPDATA": home + "\\AppData\\Local"}, windows=True, home=home, cwd="C:\\work")
    pkgs = home + "\\AppData\\Local\\mambaboot\\Cache\\Python\\pkgs"
    length = max(cachepaths.deepest(pkgs, "conda-forge", s) for s in ("win-64", "noarch"))
    found = doctor.check_long_paths(m)
    if length <= 260:
        assert severities(found) == [("long-paths", "warning")]
    else:
        assert severities(found) == [("long-paths", "warning")] * 2
        assert f"{pkgs} leaves too little room" in found[1].message and f"{length - 260} too many" in found[1].message
        assert "LongPathsEnabled" in found[1].fix
    drive = Host(environ=m.environ, windows=True, subdir="win-64", cwd="C:\\work", isdir=lambda p: p == "C:\\CACHE",
                 is_file=lambda p: False, listdir=lambda p: [])
    assert severities(doctor.check_long_paths(drive)) == [("long-paths", "warning")]


# ------------------------------------------------------------------ the user's own text, read as it is


def test_rc_files_with_a_mark_and_a_stray_byte_are_inspected_and_rewritten_byte_for_byte(tmp_path):
    """A ~/.bashrc saved with a UTF-8 byte-order mark that holds one Latin-1 byte: doctor finds the
    block, and undo takes out exactly its bytes, the mark and the stray byte kept."""
    home = tmp_path / "home"
    home.mkdir()
    mine, theirs = b"\xef\xbb\xbfexport CITY=Z\xfcrich\n", b"alias ll='ls -l'\r\n"
    (home / ".bashrc").write_bytes(mine + CONDA_BLOCK.encode() + theirs)
    found = _doctor(home=home)
    assert found.returncode == 11 and "Traceback" not in found.stderr, found.stderr
    assert f"{home / '.bashrc'} lines 2-6: a 'conda initialize' block" in found.stdout
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (home / ".bashrc").read_bytes() == mine + theirs


def test_a_profile_that_cannot_be_written_back_byte_for_byte_is_named_and_left_as_it_is(tmp_path):
    """A UTF-16 PowerShell profile cut short by a byte: doctor reads it with replacement and names
    its block; undo names the file, changes nothing anywhere, and exits 11."""
    home = tmp_path / "home"
    (home / ".config" / "powershell").mkdir(parents=True)
    profile = home / ".config" / "powershell" / "profile.ps1"
    profile.write_bytes(("\ufeffSet-Alias g git\r\n" + PS_BLOCK).encode("utf-16-le")[:-1])
    (home / ".bashrc").write_text(CONDA_BLOCK)
    found = _doctor(home=home)
    assert found.returncode == 11 and "Traceback" not in found.stderr, found.stderr
    assert f"{profile}:2-5: the 'conda initialize' block is in a file mambaboot cannot write back byte for byte " \
           "(it is UTF-16 text with an odd number of bytes)" in found.stdout
    before = snapshot(home)
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 11 and f"refused: {profile}:2-5:" in proc.stdout, proc.stdout + proc.stderr
    assert snapshot(home) == before


def test_a_line_end_the_shell_does_not_see_starts_no_block(tmp_path):
    """bash reads a lone carriage return (or a form feed) as part of its line: a marker after one
    is inside the user's line, so no block starts there and nothing of that line is taken out."""
    home = tmp_path / "home"
    home.mkdir()
    rc = home / ".bashrc"
    rc.write_bytes(b"echo mine\r" + CONDA_BLOCK.encode() + b"echo also\x0c" + MAMBA_BLOCK.encode())
    before = snapshot(home)
    proc = _doctor("--undo-shell-init", home=home)
    assert proc.returncode == 11, proc.stdout + proc.stderr
    assert f"refused: {rc}:5: '# <<< conda initialize <<<' closes no block" in proc.stdout
    assert snapshot(home) == before


# ------------------------------------------------------------------ what killed runs left


def _unfinished(world, *args, cwd=None):
    """doctor's unfinished findings (check, severity, message, fix), from a clean shell; it exits 0."""
    r = world.run("doctor", "--json", *args, env={"PATH": "/usr/bin:/bin"}, cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return [f for f in r.json()["findings"] if f["check"] == "unfinished"]


def _killed_left(world, made_env, channel, standin, operation):
    """(places, the command that settles what is left, the options this world adds to it, the stage)
    of operation, killed as its intent had just said that stage."""
    x, y = world.envs / "x", world.envs / "y"
    cache = ["--cache-dir", str(world.cache)]
    if operation == "create":
        args, stage = ["create", "--prefix", str(x)], "finishing"
        options = [*cache, "-c", channel, "--micromamba", str(standin)]
    else:
        copy_env(made_env, x)
        args, stage = (["remove", str(x)], "deleting") if operation == "remove" else (["move", str(x), str(y)], "rewriting")
        options = [*cache, *(["--yes"] if operation == "remove" else [])]
    proc = killed_at(world, f"placelock.stage:{stage}+done", [*args, *options])
    assert proc.returncode == -9 and _lock(x).is_file(), (proc.returncode, proc.stderr)
    return ([x, y] if operation == "move" else [x]), args, options, stage


@pytest.mark.parametrize("operation", ["create", "remove", "move"])
def test_doctor_names_what_a_killed_run_left_with_the_command_that_settles_it_and_changes_nothing(
        world, made_env, channel, standin, operation):
    """A create, remove or move killed in a stage that leaves something to settle: doctor names the
    place, the operation and its stage, with the command that settles it (`doctor --settle`), the
    same as `list` gives (a warning: any run of the place settles it first), from the envs root (the
    current directory) and from the PREFIX named (gone, for a killed remove: the intent beside it
    still names it); it changes nothing, takes no lock; once that command ran, nothing is named, and
    the killed command runs again."""
    places, args, options, stage = _killed_left(world, made_env, channel, standin, operation)
    nowhere = world.root / "empty"
    nowhere.mkdir()
    before = (snapshot(world.root), snapshot(world.cache))
    found = _unfinished(world)
    assert len(found) == len(places), found
    for place, f in zip(sorted(places), sorted(found, key=lambda f: f["message"])):
        assert f["severity"] == "warning" and f"a mambaboot {operation} of {place} " in f["message"], found
        assert f"killed at its stage {stage} " in f["message"], found
        assert f"`mambaboot doctor --settle {place}` settles it" in f["fix"], found
    named = _unfinished(world, "--envs-dir", str(nowhere), str(places[-1]))
    assert [(f["message"], f["fix"]) for f in named] == [(f["message"], f["fix"]) for f in found if
                                                         f" of {places[-1]} " in f["message"]], named
    text = world.run("doctor", env={"PATH": "/usr/bin:/bin"})
    listed = world.run("list", "--cache-dir", str(world.cache))
    for f in found:
        assert f"warning: {f['message']}\n    fix: {f['fix']}\n" in text.stdout, text.stdout
        if operation != "move":
            assert f"{f['message']}; {f['fix']}" in listed.stderr, listed.stderr  # stdout: the table alone
    if operation == "move":  # list warns of one move once, naming both places, with the same command
        said = f"a move of {places[0]} to {places[1]} did not finish (killed at its stage {stage}); "
        assert listed.stderr.count(said) == 1 and "`mambaboot doctor --settle " in listed.stderr, listed.stderr
    assert (snapshot(world.root), snapshot(world.cache)) == before, "doctor changed nothing"
    r = world.run("doctor", "--settle", str(places[0]))  # the command it names, typed as shown
    assert r.returncode == 0, r.stdout + r.stderr
    assert _unfinished(world) == []
    if operation != "remove":  # finished by the settling; the others run again from what it left
        r = world.run(*args, *options)
        assert r.returncode == 0, r.stderr
    assert _unfinished(world, *(str(p) for p in places if p.exists())) == []
