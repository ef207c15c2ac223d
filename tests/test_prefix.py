"""Making micromamba's Windows scripts location-independent (prefix.py), without Wine:
which files are found, what each rewrite produces, and what is never touched.
(test_activation_cmd.py runs the patched scripts in Wine's cmd.)"""

import json
import subprocess

import pytest

from mambaboot.relocate import batscripts as prefixes
from tests.conftest import MAMBABOOT, _clean_environ
from tests.support import winenv
from tests.support.snapshot import diff, snapshot
from tests.support.wine import windows_path

CACHE = "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe"


@pytest.fixture
def env(tmp_path):
    return winenv.build(tmp_path / "env", tmp_path / "stub", CACHE)


def test_candidates_come_from_condabin_scripts_and_the_package_records(env):
    (env / "Scripts" / "pip-script.py").write_text("not a batch file")
    (env / "condabin" / "nested").mkdir()
    assert prefixes.candidates(str(env)) == [
        "Library/bin/tool-env.bat",  # only a package record names it
        "Scripts/activate.bat",
        "condabin/_mamba_activate.bat", "condabin/_micromamba_activate.bat", "condabin/conda.bat",
        "condabin/mamba.bat", "condabin/mamba_hook.bat", "condabin/micromamba.bat",
    ]


def test_records_without_a_script_placeholder_are_not_even_parsed(env):
    (env / "conda-meta" / "broken-1.0-0.json").write_text("{not json at all")
    assert "Library/bin/tool-env.bat" in prefixes.candidates(str(env))


def test_patch_rewrites_only_what_names_the_prefix_and_is_idempotent(env):
    before = snapshot(env)
    report = prefixes.patch(str(env), written=[windows_path(env)])
    changed = {path for path, (old, new) in diff(before, snapshot(env)).items()}
    assert changed == {"condabin/mamba.bat", "condabin/micromamba.bat", "condabin/mamba_hook.bat", "Library/bin/tool-env.bat"}
    assert [c.path for c in report.changed] == sorted(changed)
    assert report.backups == [] and not (env / ".mambaboot").exists()  # backups only when asked
    again = snapshot(env)
    assert prefixes.patch(str(env), written=[windows_path(env)]).changed == []
    assert snapshot(env) == again


def test_the_rewritten_lines(env):
    prefixes.patch(str(env), written=[windows_path(env)])
    mamba = (env / "condabin" / "mamba.bat").read_text()
    assert '@FOR %%P IN ("%~dp0..\\Library\\bin\\mamba.exe") DO @SET "MAMBA_EXE=%%~fP"' in mamba
    assert '@FOR %%P IN ("%~dp0..") DO @SET "MAMBA_ROOT_PREFIX=%%~fP"' in mamba
    micromamba = (env / "condabin" / "micromamba.bat").read_text()
    assert CACHE not in micromamba  # the bootstrap binary in the cache: replaced by the environment's own mamba
    assert '@FOR %%P IN ("%~dp0..\\Library\\bin\\mamba.exe") DO @SET "MAMBA_EXE=%%~fP"' in micromamba
    hook = (env / "condabin" / "mamba_hook.bat").read_text().splitlines()
    exe = hook.index('@FOR %%P IN ("%~dp0..\\Library\\bin\\mamba.exe") DO @SET "MAMBA_EXE=%%~fP"')
    assert hook[exe + 1] == '@FOR %%P IN ("%~dp0..") DO @SET "MAMBA_ROOT_PREFIX=%%~fP"'
    tool = (env / "Library" / "bin" / "tool-env.bat").read_text()  # two levels below the prefix
    assert '@FOR %%P IN ("%~dp0..\\..\\Library\\share\\tool") DO @SET "TOOL_HOME=%%~fP"' in tool
    assert '@SET "PATH=%~dp0..\\..\\Library\\bin\\tool;%PATH%"' in tool
    for path in env.rglob("*.bat"):
        assert windows_path(env).lower() not in path.read_text().lower()
    assert (env / "condabin" / "mamba.bat").read_bytes().count(b"\r\n") == (env / "condabin" / "mamba.bat").read_bytes().count(b"\n")


@pytest.mark.parametrize("spelling", [
    "C:\\Envs\\Py", "c:\\envs\\py", "C:/Envs/Py", "C:\\Envs/Py",
])
def test_any_spelling_of_the_prefix_is_found(spelling):
    text, notes, left = prefixes.rewrite(f'@SET "X={spelling}\\bin"\r\n', "condabin/x.bat", ["C:\\Envs\\Py"], None)
    assert text == '@FOR %%P IN ("%~dp0..\\bin") DO @SET "X=%%~fP"\r\n' and left == []


def test_a_longer_name_is_not_the_prefix_and_is_reported():
    src = '@SET "X=C:\\Envs\\Py2\\bin"\n@CALL "C:\\Envs\\Py\\x.bat" %*\n'
    text, notes, left = prefixes.rewrite(src, "condabin/x.bat", ["C:\\Envs\\Py"], None)
    assert text == '@SET "X=C:\\Envs\\Py2\\bin"\n@CALL "%~dp0..\\x.bat" %*\n'
    assert left == [1]


def test_a_path_list_is_rewritten_in_place():
    src = '@SET "PATH=C:\\E;C:\\E\\Scripts;%PATH%"\n'
    text, _, _ = prefixes.rewrite(src, "Scripts/x.bat", ["C:\\E"], None)
    assert text == '@SET "PATH=%~dp0..;%~dp0..\\Scripts;%PATH%"\n'


def test_mamba_exe_outside_without_an_own_mamba_is_left_and_reported():
    text, notes, left = prefixes.rewrite('@SET "MAMBA_EXE=D:\\cache\\micromamba.exe"\n', "condabin/micromamba.bat", ["C:\\E"], None)
    assert text == '@SET "MAMBA_EXE=D:\\cache\\micromamba.exe"\n' and left == [1]


def test_backups_keep_the_first_original_only_when_asked(env):
    original = (env / "condabin" / "mamba.bat").read_bytes()
    report = prefixes.patch(str(env), written=[windows_path(env)], backup=True)
    assert ".mambaboot/backup/condabin/mamba.bat" in report.backups
    assert (env / ".mambaboot" / "backup" / "condabin" / "mamba.bat").read_bytes() == original
    (env / "condabin" / "mamba_hook.bat").write_text('@SET "MAMBA_EXE=%s\\x"\n' % windows_path(env))
    second = prefixes.patch(str(env), written=[windows_path(env)], backup=True)
    assert second.backups == []  # the hook's first original stays the backup
    assert (env / ".mambaboot" / "backup" / "condabin" / "mamba.bat").read_bytes() == original


def test_dry_run_changes_nothing(env):
    before = snapshot(env)
    report = prefixes.patch(str(env), written=[windows_path(env)], backup=True, dry_run=True)
    assert len(report.changed) == 4 and report.backups == []
    assert snapshot(env) == before


def test_a_linux_environment_has_nothing_to_patch(made_env):
    before = snapshot(made_env)
    assert prefixes.patch(str(made_env)).changed == []
    assert snapshot(made_env) == before


def test_activate_scripts_command_patches_a_moved_environment_and_updates_only_our_record(env, tmp_path):
    old = windows_path(env)
    moved = env.rename(tmp_path / "moved")
    proc = subprocess.run([*MAMBABOOT, "activate-scripts", str(moved), "--old-prefix", old, "--backup", "--json"],
                          env=_clean_environ(HOME=str(tmp_path)), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {c["path"] for c in out["patched"]} >= {"condabin/mamba.bat", "condabin/mamba_hook.bat"}
    assert out["recorded"] is False  # no record: not ours, and a record would make it replaceable by create --force
    assert not (moved / ".mambaboot" / "record.json").exists()
    assert all(old.lower() not in p.read_text().lower() for p in (moved / "condabin").glob("*.bat"))


def test_activate_scripts_refuses_a_directory_that_is_not_an_environment(tmp_path):
    proc = subprocess.run([*MAMBABOOT, "activate-scripts", str(tmp_path)], env=_clean_environ(), capture_output=True, text=True)
    assert proc.returncode == 2 and "is not a conda environment" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\u2028", "\u0085"])
def test_a_line_is_ended_only_where_cmd_ends_it(env, tmp_path, separator):
    """cmd.exe ends a line at "\\n" only: a form feed, vertical tab, U+2028 or U+0085 inside a line
    is part of it (str.splitlines would end it there). The prefix's spelling is all that changes:
    never a SET found after such a character, which cmd never runs as one."""
    old = windows_path(env)
    text = f'@echo off\r\necho x{separator}@SET "X={old}\\bin"\r\n@SET "Y={old}\\lib"\r\n'
    (env / "condabin" / "extra.bat").write_bytes(text.encode("utf-8"))
    moved = env.rename(tmp_path / "moved")
    proc = subprocess.run([*MAMBABOOT, "activate-scripts", str(moved), "--old-prefix", old],
                          env=_clean_environ(HOME=str(tmp_path)), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (moved / "condabin" / "extra.bat").read_bytes().decode("utf-8") == (
        f'@echo off\r\necho x{separator}@SET "X=%~dp0..\\bin"\r\n@FOR %%P IN ("%~dp0..\\lib") DO @SET "Y=%%~fP"\r\n')
