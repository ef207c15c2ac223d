"""The generated .bat scripts and the patched micromamba scripts, run by Wine's cmd on a
Windows-layout environment whose path holds spaces, &, ^, !, (, ), ;, "," and =.

Wine's cmd re-expands % inside expanded text (Windows does not), so no path here holds %:
that case is covered by the content test at the end, which proves the scripts never pass the
prefix through %VAR% expansion before it reaches a FOR variable.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from mambaboot.environment import roothook
from mambaboot.relocate import batscripts as prefixes
from mambaboot.shell.activation import cmd, environ, generate, sources
from mambaboot.shell.activation.model import STALE_CMD
from tests.support import winenv
from tests.support.wine import read_log, read_set_dump, windows_path

NASTY = "w env & (x) ^ y ! z,v=t"  # every cmd operator a Windows path can hold, but % and PATH's ;
CALM = "w env & (x) ^ y"  # no "!": usable with delayed expansion on
CACHE_MICROMAMBA = "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe"


def _add_environment_data(prefix: Path) -> None:
    conda = prefix / "etc" / "conda"
    for d in ("env_vars.d", "activate.d", "deactivate.d"):
        (conda / d).mkdir(parents=True, exist_ok=True)
    (conda / "env_vars.d" / "a.json").write_text(json.dumps(
        {"MB_A": "from a", "MB_OPS": 'a&b|c<d>e^f(g)h"i%PATH%j=k', "MB_GONE": "x"}))
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MB_GONE": "***unset***", "MB_STATE": "s"}}))
    hooks = {"a.bat": '@set "MB_ORDER=a"', "x.bat": '@set "MB_ORDER=%MB_ORDER% x"\r\n@set "MB_HOOK=%~dp0"',
             "~last.bat": '@set "MB_ORDER=%MB_ORDER% last"'}
    for name, text in hooks.items():
        (conda / "activate.d" / name).write_bytes((text + "\r\n").encode())
    (conda / "deactivate.d" / "x.bat").write_bytes(b'@set "MB_ORDER="\r\n@set "MB_HOOK="\r\n')


def _make(root: Path, name: str, own_conda: bool = False) -> Path:
    prefix = winenv.build(root / name, root / "stub", CACHE_MICROMAMBA)
    _add_environment_data(prefix)
    if own_conda:  # its own conda, and two MSYS2 trees of which conda puts the first present on PATH
        (prefix / "Scripts").mkdir(exist_ok=True)
        (prefix / "Scripts" / "conda.exe").write_bytes(b"")
        for variant in ("clang64", "ucrt64"):
            (prefix / "Library" / variant).mkdir(parents=True)
    roothook.write(str(prefix), windows=True)  # as create and adopt write them, before the scripts
    generate.write(str(prefix), windows=True)
    return prefix


@pytest.fixture(scope="module")
def envs(tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("winenvs")
    return {"nasty": _make(root, NASTY, own_conda=True), "calm": _make(root, CALM)}


def _expected(prefix: Path, before: Dict[str, str]) -> Dict[str, str]:
    """What activation must leave: environ.activated, computed for the path Windows sees."""
    win = windows_path(prefix)
    variant = environ.msys2_variant(str(prefix), windows=True)
    env = dict(before, PATH=";".join(environ.path_entries(win, True, variant) + [before["PATH"]]))
    own = (prefix / "Scripts" / "conda.exe").is_file()

    def is_file(path: str) -> bool:  # a path under win, looked up where Wine has it
        return path.startswith(win + "\\") and (prefix / path[len(win) + 1:].replace("\\", "/")).is_file()

    for name, value in environ.conda_values(win, True, own, is_file).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["PROMPT"] = env["CONDA_PROMPT_MODIFIER"] + before.get("PROMPT", "$P$G")
    env.update(sources.read(str(prefix)).env_vars)
    return env


def _round_trip(wine, prefix: Path, delayed: bool, extra: List[str] = ()) -> Tuple[str, str]:
    d = windows_path(prefix / ".mambaboot")
    work = windows_path(wine.workdir)
    lines = ["@echo off", "setlocal EnableDelayedExpansion" if delayed else "setlocal",
             'set "MB_A=caller\'s value"', 'set "MB_GONE=set by the caller"', *extra,
             f'set > "{work}\\before.txt"',
             f'set "D={d}"',
             'call "%D%\\activate.bat"', "echo activate=%errorlevel%", f'set > "{work}\\during.txt"',
             'call "%D%\\activate.bat"', "echo again=%errorlevel%", f'set > "{work}\\refused.txt"',
             'call "%D%\\deactivate.bat"', "echo deactivate=%errorlevel%", 'set "D="', f'set > "{work}\\after.txt"',
             f'call "{d}\\deactivate.bat"', "echo deactivate_again=%errorlevel%"]
    _, out, err = wine.batch("round_trip", lines)
    return out, err


@pytest.mark.parametrize("which, delayed", [("nasty", False), ("calm", True)])
def test_cmd_activation_round_trip(wine, envs, which, delayed):
    prefix = envs[which]
    out, err = _round_trip(wine, prefix, delayed)
    assert out.split() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], err
    before, during = read_set_dump(wine.workdir / "before.txt"), read_set_dump(wine.workdir / "during.txt")
    during.pop("D")
    state = {k: during.pop(k) for k in list(during) if k.startswith("_MAMBABOOT_")}
    expected = _expected(prefix, before)
    hooks = {k: during.pop(k) for k in ("MB_ORDER", "MB_HOOK")}
    assert during == expected
    assert during["MB_OPS"] == 'a&b|c<d>e^f(g)h"i%PATH%j=k'
    # conda's order (`_get_path_dirs`), condabin right after the prefix: its wrappers come first
    win = windows_path(prefix)
    want = [win, win + "\\condabin"] + ([win + "\\Library\\ucrt64\\bin"] if which == "nasty" else []) + [
        win + s for s in ("\\Library\\mingw-w64\\bin", "\\Library\\usr\\bin", "\\Library\\bin", "\\Scripts", "\\bin")]
    assert during["PATH"].split(";")[:len(want)] == want
    assert during["CONDA_DEFAULT_ENV"] == ("base" if which == "nasty" else win)
    # the prompt names the environment's directory, whatever CONDA_DEFAULT_ENV is
    assert during["CONDA_PROMPT_MODIFIER"] == f"({prefix.name}) " and during["PROMPT"].startswith(f"({prefix.name}) ")
    assert during["MB_GONE"] == "set by the caller"  # ***unset***: conda leaves it as it was
    assert hooks == {"MB_ORDER": "a x last", "MB_HOOK": windows_path(prefix / "etc/conda/activate.d") + "\\"}
    assert set(state) == {"_MAMBABOOT_ACTIVE", "_MAMBABOOT_NAMES"} | {f"_MAMBABOOT_OLD_{n}" for n in ("PATH", "PROMPT", "MB_A")} | {
        "_MAMBABOOT_ROOT_HAD", "_MAMBABOOT_ROOT_OLD"}  # the root hook's: it found activate.bat's value, the prefix
    assert state["_MAMBABOOT_ROOT_OLD"] == during["MAMBA_ROOT_PREFIX"] == windows_path(prefix)
    assert state["_MAMBABOOT_NAMES"] == "MB_A MB_OPS MB_STATE"  # what deactivation restores (conda's order)
    assert "still active" in err
    refused = read_set_dump(wine.workdir / "refused.txt")
    assert refused == read_set_dump(wine.workdir / "during.txt")
    assert read_set_dump(wine.workdir / "after.txt") == before
    assert "no environment was activated" in err


@pytest.mark.parametrize("present", [environ.BAT_CANDIDATES, environ.BAT_CANDIDATES[1:], environ.BAT_CANDIDATES[2:], ()],
                         ids=["own", "conda", "mamba", "none"])
def test_cmd_activation_sets_conda_bat_to_the_environments_own_and_puts_the_callers_back(wine, tmp_path, present):
    """The environment's mamba runs `CALL "%CONDA_BAT%" activate PREFIX` before a post-link script
    and, without CONDA_BAT naming a file that exists, first writes its activation scripts into its
    root prefix anew with absolute paths (libmamba 2.8.1 wrap_call, util.cpp 1445-1494). Activation
    names mambaboot's own .mambaboot\\conda_bat.bat, which no transaction deletes; without it (scripts
    an older mambaboot wrote) the environment's condabin\\conda.bat, else its mamba.bat, else unsets
    it: never a missing file, and never another installation's (the caller's value here).
    Deactivation puts it back."""
    prefix = _make(tmp_path, CALM)
    for rel in environ.BAT_CANDIDATES:
        if rel not in present:
            (prefix / rel.replace("\\", "/")).unlink()
    out, err = _round_trip(wine, prefix, False, ['set "CONDA_BAT=C:\\other conda\\condabin\\conda.bat"'])
    assert out.split() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], err
    during = read_set_dump(wine.workdir / "during.txt")
    assert during.get("CONDA_BAT") == (windows_path(prefix) + "\\" + present[0] if present else None)
    before = read_set_dump(wine.workdir / "before.txt")
    assert before["CONDA_BAT"] == "C:\\other conda\\condabin\\conda.bat"
    assert read_set_dump(wine.workdir / "after.txt") == before


def _libmamba_quoted(path: str) -> str:
    """A path as libmamba's wrapper writes it after `activate`: std::quoted, every backslash doubled
    (fs::u8path's operator<<, libmamba/include/mamba/fs/filesystem.hpp, 2.8.1)."""
    return '"' + path.replace("\\", "\\\\") + '"'


def test_conda_bat_returns_at_once_for_the_active_environment_and_passes_anything_else_on(wine, tmp_path):
    """mambaboot's CONDA_BAT, called as libmamba's wrapper calls it (`CALL "%CONDA_BAT%" activate
    PREFIX`, then `IF %ERRORLEVEL% NEQ 0 EXIT /b`: util.cpp 1492-1493): for the environment active
    here it returns 0 at once, in libmamba's spelling (backslashes doubled) and in the user's (another
    case), with condabin\\conda.bat there or gone (a transaction relinking conda deletes it first);
    for another environment it passes everything on to condabin\\conda.bat, else mamba.bat (each
    records that it ran), and with neither it says so and fails."""
    prefix = _make(tmp_path, CALM)
    winenv.record_wrappers(prefix, tmp_path / "stub")
    p, work = windows_path(prefix), windows_path(wine.workdir)
    other = "C:\\other env"

    def called(label, target):
        return [f'call "%CONDA_BAT%" activate {target}', f"echo {label}=%ERRORLEVEL%"]

    lines = ["@echo off", "setlocal", f'set "WRAPPER_LOG={work}\\conda-bat.log"', f'call "{p}\\.mambaboot\\activate.bat"',
             "if errorlevel 1 exit /b 3",
             *called("own", _libmamba_quoted(p)), *called("typed", f'"{p.upper()}"'),
             *called("other", _libmamba_quoted(other)),
             f'del "{p}\\condabin\\conda.bat"',
             *called("own_in_the_window", _libmamba_quoted(p)), *called("other_to_mamba", _libmamba_quoted(other)),
             f'del "{p}\\condabin\\mamba.bat"', *called("other_to_none", _libmamba_quoted(other))]
    log = wine.workdir / "conda-bat.log"
    log.unlink(missing_ok=True)
    _, out, err = wine.batch("conda_bat", lines)
    codes = dict(line.split("=", 1) for line in out.split() if "=" in line)
    assert {k: codes.get(k) for k in ("own", "typed", "own_in_the_window", "other_to_none")} == {
        "own": "0", "typed": "0", "own_in_the_window": "0", "other_to_none": "1"}, (out, err)
    ran = [line.split(" ", 2)[:2] for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    assert ran[:2] == [["condabin\\conda.bat", "activate"], ["Scripts\\conda.exe", "activate"]], ran
    assert ran[2:] == [["condabin\\mamba.bat", "activate"]], ran
    assert f'"{p}" has neither condabin\\conda.bat nor condabin\\mamba.bat' in err, err


@pytest.mark.parametrize("variable", ["CONDA_PREFIX", "VIRTUAL_ENV", "PYTHONHOME"])
def test_cmd_activation_refuses_a_cmd_with_another_environment(wine, envs, variable):
    d = windows_path(envs["nasty"] / ".mambaboot")
    work = windows_path(wine.workdir)
    code, out, err = wine.batch("busy", ["@echo off", f"set {variable}=C:\\other", f'set > "{work}\\before.txt"',
                                         f'set "D={d}"', 'call "%D%\\activate.bat"', "echo activate=%errorlevel%",
                                         'set "D="', f'set > "{work}\\after.txt"'])
    assert out.split() == ["activate=1"]
    assert f"already holds a Python environment ({variable} is set)" in err
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")


def test_cmd_copies_a_path_with_quoted_entries_exactly(wine, envs):
    quoted = "set PATH=" + cmd.quote('C:\\windows;"C:\\Program Files (x86)\\tool";C:\\other')
    out, err = _round_trip(wine, envs["nasty"], delayed=False, extra=[quoted])
    assert out.split() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], err
    assert read_set_dump(wine.workdir / "during.txt")["PATH"].endswith(';C:\\windows;"C:\\Program Files (x86)\\tool";C:\\other')
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")


def test_cmd_activates_with_a_long_path_and_delayed_expansion_off(wine, envs):
    """cmd reads no line longer than 8,191 characters once %VAR% is expanded (Microsoft's "Command
    prompt line string limitation"; Wine's cmd crashes past it): no line may expand PATH more
    than twice, so a PATH of a few thousand characters, common on company machines, activates."""
    parts = [f"C:\\tools\\{i:02d}\\" + "x" * 90 for i in range(32)]
    extra = ['set "PATH=C:\\windows"'] + [f'set "PATH=%PATH%;{part}"' for part in parts]
    out, err = _round_trip(wine, envs["calm"], delayed=False, extra=extra)
    assert out.split() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], err
    during = read_set_dump(wine.workdir / "during.txt")["PATH"]
    assert during.endswith(";C:\\windows;" + ";".join(parts)) and len(during) > 3000
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")


def _path_of(length: int) -> List[str]:
    """cmd lines that make PATH exactly length characters long, in entries of about 100."""
    entries, left = ["C:\\windows"], length - len("C:\\windows")
    while left:
        size = 100 if left >= 110 else left  # with its ";"
        entries.append(f"C:\\t{len(entries):03d}\\" + "x" * (size - 9))
        left -= size
    assert len(";".join(entries)) == length
    return ['set "PATH=C:\\windows"'] + [f'set "PATH=%PATH%;{e}"' for e in entries[1:]]


def test_cmd_refuses_a_path_longer_than_it_can_copy_with_delayed_expansion_off(wine, envs):
    """With delayed expansion off, one line expands PATH twice: past PATH_FITS characters that line
    would pass cmd's 8,191 (real cmd: "The input line is too long." and the batch ends half done;
    Wine's crashes). Refused at once, in words, nothing set; with delayed expansion on it activates.
    (Only activation here: Wine's cmd crashes when a batch file ends after deactivating from a PATH
    this long with delayed expansion off, once all its lines ran, as it never did at 3,000.)"""
    d = windows_path(envs["calm"] / ".mambaboot")
    work = windows_path(wine.workdir)

    def activate(length: int, delayed: bool) -> Tuple[str, str]:
        _, out, err = wine.batch("long", ["@echo off", "setlocal EnableDelayedExpansion" if delayed else "setlocal",
                                          *_path_of(length), f'set > "{work}\\before.txt"', f'call "{d}\\activate.bat"',
                                          "echo activate=%errorlevel%", f'set > "{work}\\during.txt"'])
        return out.strip(), err

    out, err = activate(cmd.PATH_FITS, delayed=False)
    assert out == "activate=0", err
    during = read_set_dump(wine.workdir / "during.txt")
    assert during["PATH"].endswith(";" + read_set_dump(wine.workdir / "before.txt")["PATH"])
    out, err = activate(cmd.PATH_FITS + 1, delayed=False)
    assert out == "activate=1"
    assert err.splitlines() == [f"mambaboot: PATH is longer than {cmd.PATH_FITS} characters, which cmd cannot copy "
                                "with delayed expansion off (a line holds at most 8191 characters); call this script "
                                "with it on (cmd /v:on) or shorten PATH"], err
    assert read_set_dump(wine.workdir / "during.txt") == read_set_dump(wine.workdir / "before.txt")
    out, err = activate(cmd.PATH_FITS + 1, delayed=True)
    assert out == "activate=0", err
    assert read_set_dump(wine.workdir / "during.txt")["CONDA_PREFIX"] == windows_path(envs["calm"])


def test_cmd_refuses_a_path_it_cannot_copy_without_delayed_expansion(wine, envs):
    """A PATH with a double quote and an operator breaks %PATH%; !PATH! copies it exactly."""
    quoted = "set PATH=" + cmd.quote('C:\\windows\\system32;"C:\\R&D tools";C:\\windows')
    out, err = _round_trip(wine, envs["calm"], delayed=False, extra=[quoted])
    assert out.split()[0] == "activate=1"
    assert "PATH holds a double quote together with a cmd operator character" in err
    assert read_set_dump(wine.workdir / "during.txt") == dict(read_set_dump(wine.workdir / "before.txt"),
                                                               D=windows_path(envs["calm"] / ".mambaboot"))
    out, err = _round_trip(wine, envs["calm"], delayed=True, extra=[quoted])
    assert out.split() == ["activate=0", "again=1", "deactivate=0", "deactivate_again=1"], err
    during = read_set_dump(wine.workdir / "during.txt")
    assert during["PATH"].endswith(';C:\\windows\\system32;"C:\\R&D tools";C:\\windows')
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")


def test_a_script_outside_its_environment_refuses(wine, envs, tmp_path):
    """The check that also catches a path corrupted by delayed expansion (a ! in it, which
    Wine's cmd cannot even call) or %~dp0 misreported by cmd for a quoted name found on PATH."""
    stray = tmp_path / "stray" / ".mambaboot"
    stray.mkdir(parents=True)
    shutil.copy(envs["calm"] / ".mambaboot" / "activate.bat", stray)
    code, out, err = wine.batch("stray", ["@echo off", f'call "{windows_path(stray)}\\activate.bat"',
                                          "echo activate=%errorlevel% [%CONDA_PREFIX%]"])
    assert out.strip() == "activate=1 []" and "cannot find the environment this script belongs to" in err


def test_a_path_holding_a_semicolon_is_refused(wine, tmp_path):
    prefix = _make(tmp_path, "a;b")
    code, out, err = wine.batch("semicolon", ["@echo off", f'call "{windows_path(prefix)}\\.mambaboot\\activate.bat"',
                                              "echo activate=%errorlevel% [%CONDA_PREFIX%]"])
    assert out.strip() == "activate=1 []" and "holds a semicolon, PATH's separator" in err


def test_after_activation_a_bare_mamba_and_conda_reach_the_condabin_wrappers(wine, tmp_path):
    """The layout of the real win-64 packages: Library\\bin\\mamba.exe, Scripts\\conda.exe and the
    wrappers condabin\\mamba.bat and conda.bat. cmd takes the first PATH directory holding a
    `mamba` by PATHEXT: condabin must come before Library\\bin and Scripts, or `mamba activate`
    and the reactivation after `mamba install` never happen."""
    prefix = winenv.record_wrappers(_make(tmp_path, "w env", own_conda=True), tmp_path / "stub")
    d, work = windows_path(prefix), windows_path(wine.workdir)
    log = wine.workdir / "wrappers.log"
    log.unlink(missing_ok=True)
    _, out, err = wine.batch("wrappers", [
        "@echo off", f'set "WRAPPER_LOG={work}\\wrappers.log"',
        f'call "{d}\\.mambaboot\\activate.bat"', "echo activate=%errorlevel%", f'set > "{work}\\activated.txt"',
        "call mamba activate", "echo mamba_activate=%errorlevel% saw=%STUB_SAW_EXE%", 'set "STUB_SAW_EXE="',
        "call mamba install toolz", "echo mamba_install=%errorlevel% saw=%STUB_SAW_EXE%",
        "call conda info", "echo conda_info=%errorlevel%"])
    lines = out.splitlines()
    assert "activate=0" in lines, err
    mamba_exe = d + "\\Library\\bin\\mamba.exe"
    assert f"mamba_activate=0 saw={mamba_exe}" in lines, out + err  # the wrapper's activation ran
    assert f"mamba_install=0 saw={mamba_exe}" in lines, out + err  # and its reactivation after install
    assert f"{mamba_exe} (a stand-in) ran: install toolz" in lines, out  # the install itself ran
    assert [x.strip() for x in log.read_text().splitlines()] == [
        "condabin\\mamba.bat activate", "condabin\\mamba.bat install toolz", "condabin\\conda.bat info",
        "Scripts\\conda.exe info"]
    # the environment's python.exe still answers a bare `python` (here a text file: cmd refuses it)
    activated = read_set_dump(wine.workdir / "activated.txt")
    from mambaboot.common.host import Host
    from mambaboot.shell import doctor

    m = Host(environ=activated, windows=True, subdir="win-64", cwd=work, is_file=lambda p: wine.unix(p).is_file(),
             isdir=lambda p: wine.unix(p).is_dir(), listdir=lambda p: sorted(os.listdir(wine.unix(p))))
    assert doctor.resolve(m, "python") == d + "\\python.exe"
    # doctor, in the shell our own script activated, finds the wrappers winning
    assert [(f.severity, f.message) for f in doctor.check_wrappers(m)] == [
        ("ok", f"mamba resolves to the wrapper {d}\\condabin\\mamba.bat"),
        ("ok", f"conda resolves to the wrapper {d}\\condabin\\conda.bat")]


def test_cmd_scripts_start_no_process_and_work_from_a_copy(wine, envs, tmp_path):
    """PATH empty of programs: any external command would fail. The copy activates where it is."""
    copy = tmp_path / "copied (2) & moved"
    shutil.copytree(envs["nasty"], copy)
    d = windows_path(copy / ".mambaboot")
    work = windows_path(wine.workdir)
    code, out, err = wine.batch("copy", ["@echo off", "set PATH=C:\\nonexistent", f'set "D={d}"',
                                         'call "%D%\\activate.bat"', "echo activate=%errorlevel%", f'set > "{work}\\copy.txt"',
                                         'call "%D%\\deactivate.bat"', "echo deactivate=%errorlevel% [%PATH%]"])
    assert out.splitlines() == ["activate=0", "deactivate=0 [C:\\nonexistent]"]
    assert err == ""
    assert read_set_dump(wine.workdir / "copy.txt")["CONDA_PREFIX"] == windows_path(copy)


def _install_later(prefix: Path) -> None:
    """What the environment's own conda does after creation: a package with cmd hooks, and
    `conda env config vars set` changing a value to one of the same length (only the content
    tells the change)."""
    conda = prefix / "etc" / "conda"
    (conda / "activate.d" / "new.bat").write_bytes(b'@set "MB_NEW=1"\r\n')
    # deactivate.d runs last first (`_get_deactivate_scripts`): x.bat has cleared MB_ORDER when new.bat runs
    (conda / "deactivate.d" / "new.bat").write_bytes(b'@set "MB_NEW="\r\n@set "MB_UNDONE=new %MB_ORDER%"\r\n')
    state = prefix / "conda-meta" / "state"
    before = state.read_bytes()
    state.write_bytes(before.replace(b'"MB_STATE": "s"', b'"MB_STATE": "t"'))
    assert len(state.read_bytes()) == len(before)


def test_cmd_activation_follows_what_the_environment_installs_later(wine, envs, tmp_path):
    """No mambaboot step: vars.bat notices the change, activate.bat has the environment's python
    write it again (the stand-in python.exe copies what envvars.py itself wrote on Linux for the
    same environment, and logs how it was started), then applies it; the next activation starts
    no process at all. Deactivation restores the names set at activation, though they changed since."""
    live = tmp_path / "live"
    shutil.copytree(envs["calm"], live)
    shutil.copy(wine.standin, live / "python.exe")
    _install_later(live)
    expected = tmp_path / "expected"
    shutil.copytree(live, expected)
    subprocess.run([sys.executable, "-I", "-S", str(expected / ".mambaboot" / "envvars.py"), str(expected)], check=True)
    assert (expected / ".mambaboot" / "vars.bat").read_bytes() != (live / ".mambaboot" / "vars.bat").read_bytes()
    d, log, work = windows_path(live / ".mambaboot"), tmp_path / "python.jsonl", windows_path(wine.workdir)
    later = (live / "etc" / "conda" / "env_vars.d" / "b.json")
    code, out, err = wine.batch("live", [
        "@echo off", f'set "STANDIN_LOG={windows_path(log)}"',
        f'set "STANDIN_PYTHON_COPY={windows_path(expected / ".mambaboot" / "vars.bat")}"', "set MB_A=kept",
        f'set > "{work}\\before.txt"', f'set "D={d}"',
        'call "%D%\\activate.bat"', "echo activate=%errorlevel% [%MB_NEW%] [%MB_STATE%] [%MB_ORDER%]",
        f'> "{windows_path(later)}" echo {{"MB_LATER": "1", "MB_A": "changed"}}',
        'call "%D%\\deactivate.bat"', "echo deactivate=%errorlevel% [%MB_NEW%] [%MB_UNDONE%]",
        'set "D="', 'set "MB_UNDONE="', f'set > "{work}\\after.txt"',
        f'call "{d}\\activate.bat"', "echo again=%errorlevel% [%MB_LATER%] [%MB_A%]"])
    runs = read_log(log)
    assert out.splitlines()[:2] == ["activate=0 [1] [t] [a x last]", "deactivate=0 [] [new ]"], err
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")
    assert (live / ".mambaboot" / "vars.bat").read_bytes() == (expected / ".mambaboot" / "vars.bat").read_bytes()
    p = windows_path(live)
    assert [r["argv"][1:] for r in runs[:1]] == [["-I", "-S", p + "\\.mambaboot\\envvars.py", p + "\\."]]
    # b.json was added after: stale again, and this stand-in writes the old fragment, so activation refuses
    assert out.splitlines()[2] == "again=1 [] [kept]" and "could not write it again" in err


def test_cmd_activation_refuses_what_it_cannot_read_again(wine, envs, tmp_path):
    """Changed data and no python that runs: refused, naming the way out, nothing changed."""
    copy = tmp_path / f"stale {CALM}"
    shutil.copytree(envs["calm"], copy)
    _install_later(copy)
    d, work = windows_path(copy / ".mambaboot"), windows_path(wine.workdir)
    code, out, err = wine.batch("stale", ["@echo off", f'set > "{work}\\before.txt"', f'call "{d}\\activate.bat"',
                                          "echo activate=%errorlevel%", f'set > "{work}\\after.txt"'])
    assert out.strip() == "activate=1"
    # whole: a path holding & echoed unquoted runs the rest of the line as a command
    assert err.strip().splitlines()[-1] == f'mambaboot: "{d}\\vars.bat" {STALE_CMD}'
    assert read_set_dump(wine.workdir / "after.txt") == read_set_dump(wine.workdir / "before.txt")
    generate.write(str(copy), windows=True)
    code, out, err = wine.batch("fresh", ["@echo off", f'call "{d}\\activate.bat"', "echo activate=%errorlevel% [%MB_NEW%]"])
    assert out.strip() == "activate=0 [1]", err


def test_the_prefix_reaches_the_scripts_only_through_a_for_variable(envs):
    """Windows expands %VAR% once, Wine twice; the prefix must never be expanded before
    %~dp0 is turned into _MAMBABOOT_P by FOR, so a % in the path survives on Windows."""
    for name in ("activate.bat", "deactivate.bat"):
        text = (envs["nasty"] / ".mambaboot" / name).read_text()
        lines = [line for line in text.splitlines() if "%~dp0" in line]
        assert lines == ['@for %%P in ("%~dp0..") do @set "_MAMBABOOT_P=%%~fP"']
        assert windows_path(envs["nasty"]) not in text and str(envs["nasty"]) not in text


# ---------------------------------------------------------------- micromamba's scripts


@pytest.fixture
def moved_envs(tmp_path):
    """Two copies of micromamba's layout, both moved after install: one patched, one not."""
    out = {}
    for kind in ("patched", "unpatched"):
        orig = winenv.build(tmp_path / f"orig {kind} (1) & x", tmp_path / "stub", CACHE_MICROMAMBA)
        if kind == "patched":
            prefixes.patch(str(orig), written=[windows_path(orig)])
        out[kind] = orig.rename(tmp_path / f"moved {kind} (2) & y")
    return out


def test_patched_mamba_bat_activates_from_a_clean_cmd_after_the_move(wine, moved_envs):
    work = windows_path(wine.workdir)
    for kind, prefix in moved_envs.items():
        d = windows_path(prefix)
        code, out, err = wine.batch(f"mamba_{kind}", [
            "@echo off", f'set "E={d}"', 'call "%E%\\condabin\\mamba.bat" activate', "echo activate=%errorlevel%",
            f'set > "{work}\\{kind}.txt"'])
        after = read_set_dump(wine.workdir / f"{kind}.txt")
        if kind == "unpatched":  # control: the hard-coded paths point where the environment was
            assert "STUB_SAW_ROOT" not in after and after.get("MAMBA_ROOT_PREFIX", "").startswith(
                windows_path(prefix.parent / "orig"))
            continue
        assert out.strip() == "activate=0", err
        assert after["STUB_SAW_EXE"] == d + "\\Library\\bin\\mamba.exe"  # the moved environment's own mamba ran
        assert after["STUB_SAW_ROOT"] == after["MAMBA_ROOT_PREFIX"] == after["CONDA_PREFIX"] == d
        assert after["PATH"].startswith(f"{d};{d}\\condabin;")


def test_patched_hook_sets_the_root_prefix_and_micromamba_bat_uses_the_own_mamba(wine, moved_envs, tmp_path):
    d = windows_path(moved_envs["patched"])
    work = windows_path(wine.workdir)
    code, out, err = wine.batch("hook", [
        "@echo off", f'set "E={d}"', 'call "%E%\\condabin\\mamba_hook.bat"', f'set > "{work}\\hook.txt"'])
    after = read_set_dump(wine.workdir / "hook.txt")
    assert after["MAMBA_ROOT_PREFIX"] == d
    assert after["MAMBA_EXE"] == d + "\\Library\\bin\\mamba.exe"
    assert after["CONDA_SHLVL"] == "0" and after["PATH"].startswith(d + "\\condabin;")
    # micromamba's own micromamba.bat leaves %MAMBA_EXE% and %PATH% unquoted: it needs a calm path
    calm = windows_path(moved_envs["patched"].rename(tmp_path / "calm"))
    code, out, err = wine.batch("micromamba", ["@echo off", f'call "{calm}\\condabin\\micromamba.bat" --version'])
    assert f'{calm}\\Library\\bin\\mamba.exe (a stand-in) ran: --version' in out, err


def test_vars_bat_leaves_to_activate_bat_exactly_what_activate_bat_saves():
    from mambaboot.shell.activation import envvars

    assert envvars.BAT_FIXED == ("PATH", *environ.CONDA_VARS, *environ.EXE_VARS, environ.BAT_VAR, "PROMPT")


@pytest.mark.parametrize("delayed", [False, True])
@pytest.mark.parametrize("caller", [None, "C:\\callers root & (x) ^ y"], ids=["unset", "set"])
def test_the_root_hooks_as_condas_cmd_activation_calls_them(wine, tmp_path, delayed, caller):
    """conda's cmd.exe activation: the variables, then `CALL "hook" || (fail)` for each activate.d
    .bat (conda/shell/condabin/_conda_activate.bat); deactivation the other way round. Stacked:
    B's activation keeps what A's saved, and A's activate.d runs again when B goes. conda refuses
    a prefix holding "^" in cmd.exe (CmdExeActivator._resolve_prefix), and one holding "!" cannot
    be activated with delayed expansion on."""
    names = ("a & (x), y=z", "b ! z" if not delayed else "b (c)")
    a, b = (windows_path(tmp_path / n) for n in names)
    for name in names:
        (tmp_path / name / "conda-meta").mkdir(parents=True)
        roothook.write(str(tmp_path / name), windows=True)
    work = windows_path(wine.workdir)

    def hook(prefix, phase):
        # conda's `||` looks at the ERRORLEVEL the hook leaves (Wine's cmd runs an `||` after any
        # `call`, so it is tested as such), here set to 5 first so the hook must clear it.
        return (f'cmd /c exit 5 & call "{prefix}\\etc\\conda\\{phase}.d\\~mambaboot-root.bat" & '
                f'if errorlevel 1 echo {phase} failed')

    lines = ["@echo off", "setlocal EnableDelayedExpansion" if delayed else "setlocal",
             *([f'set "MAMBA_ROOT_PREFIX={caller}"'] if caller else []), f'set > "{work}\\before.txt"',
             f'set "CONDA_PREFIX={a}"', 'set "CONDA_SHLVL=1"', hook(a, "activate"), f'set > "{work}\\a.txt"',
             f'set "CONDA_PREFIX={b}"', 'set "CONDA_SHLVL=2"', hook(b, "activate"), f'set > "{work}\\b.txt"',
             hook(b, "deactivate"), f'set "CONDA_PREFIX={a}"', 'set "CONDA_SHLVL=1"', hook(a, "activate"),
             f'set > "{work}\\a_again.txt"', hook(a, "deactivate"), 'set "CONDA_PREFIX="', 'set "CONDA_SHLVL="',
             f'set > "{work}\\after.txt"']
    _, out, err = wine.batch("root_hooks", lines)
    assert "failed" not in out, out + err
    dump = {name: read_set_dump(wine.workdir / f"{name}.txt") for name in ("before", "a", "b", "a_again", "after")}
    assert [dump[n]["MAMBA_ROOT_PREFIX"] for n in ("a", "b", "a_again")] == [a, b, a]
    assert (dump["b"]["_MAMBABOOT_ROOT_HAD"], dump["b"].get("_MAMBABOOT_ROOT_OLD")) == (("1", caller) if caller else ("0", None))
    assert dump["after"] == dump["before"]


@pytest.mark.parametrize("caller", [None, "keep"], ids=["unset", "set"])
def test_cmd_activation_turns_the_user_site_off_in_an_environment_made_earlier(wine, tmp_path, caller):
    """An environment made before PYTHONNOUSERSITE lived in conda-meta/state gets it as adopt and
    activate-scripts give it (environment/prefixstate.py, then the scripts), and cmd's activation sets
    it; deactivation gives back what the caller had."""
    from mambaboot.environment import prefixstate

    prefix = winenv.build(tmp_path / CALM, tmp_path / "stub", CACHE_MICROMAMBA)
    roothook.write(str(prefix), windows=True)
    assert prefixstate.write(str(prefix)) == {"PYTHONNOUSERSITE": "1"}
    generate.write(str(prefix), windows=True)
    d = windows_path(prefix / ".mambaboot")
    lines = ["@echo off", "setlocal", *([f'set "PYTHONNOUSERSITE={caller}"'] if caller else []),
             f'call "{d}\\activate.bat"', 'echo during=[%PYTHONNOUSERSITE%]',
             f'call "{d}\\deactivate.bat"', 'if defined PYTHONNOUSERSITE (echo after=[%PYTHONNOUSERSITE%]) else (echo after=unset)']
    code, out, err = wine.batch("nousersite", lines)
    assert (code, out.split()) == (0, ["during=[1]", f"after=[{caller}]" if caller else "after=unset"]), err
