"""A conda environment in the Windows layout, written file by file, for tests under Wine.

It holds what matters for activation and for micromamba's generated scripts:
conda-meta records (with paths_data listing prefix-placeholder files), etc/conda data,
conda's own portable scripts, and the scripts micromamba 2.x writes into condabin\\ with the
absolute prefix in them. Their text follows micromamba's templates (mamba-org/mamba,
libmamba/data/mamba.bat, micromamba.bat, mamba_hook.bat, _mamba_activate.bat) with the
placeholders filled in the way shell_init.cpp fills them: `@SET "MAMBA_EXE=<path>"` and
`@SET "MAMBA_ROOT_PREFIX=<root prefix>"`.

Library\\bin\\mamba.exe is a real Windows program (tests.support.wine.launcher_exe) running
STUB_MAMBA, a batch file standing in for mamba's `shell --shell cmd.exe activate|deactivate`:
like mamba it writes an activation script into %TMP% and prints its path; the script also
records which executable ran and which MAMBA_ROOT_PREFIX it saw.
"""

import json
from pathlib import Path
from typing import Dict, Optional

from tests.support.wine import launcher_exe, windows_path

PLACEHOLDER = "C:\\placeholder_prefix_for_tests"

MAMBA_BAT = r"""@REM micromamba 2.x condabin\mamba.bat (MAMBA_EXE and MAMBA_ROOT_PREFIX as it fills them in)

@SET "MAMBA_EXE={exe}"
@SET "MAMBA_ROOT_PREFIX={root}"

@IF [%1]==[activate]   "%~dp0_mamba_activate" %*
@IF [%1]==[deactivate] "%~dp0_mamba_activate" %*

@CALL "%MAMBA_EXE%" %*

@IF %errorlevel% NEQ 0 EXIT /B %errorlevel%

@IF [%1]==[install]   "%~dp0_mamba_activate" reactivate
@IF [%1]==[update]    "%~dp0_mamba_activate" reactivate
@IF [%1]==[remove]    "%~dp0_mamba_activate" reactivate

@EXIT /B %errorlevel%
"""

MICROMAMBA_BAT = r"""@REM micromamba 2.x condabin\micromamba.bat

@SET "MAMBA_EXE={exe}"
@SET "MAMBA_ROOT_PREFIX={root}"
@IF [%1]==[activate]   "%~dp0_micromamba_activate" %*
@IF [%1]==[deactivate] "%~dp0_micromamba_activate" %*

@SETLOCAL EnableDelayedExpansion
@SET PATH=!MAMBA_ROOT_PREFIX!;!MAMBA_ROOT_PREFIX!\Library\mingw-w64\bin;!MAMBA_ROOT_PREFIX!\Library\usr\bin;!MAMBA_ROOT_PREFIX!\Library\bin;!MAMBA_ROOT_PREFIX!\Scripts;!MAMBA_ROOT_PREFIX!\bin;%PATH%
@CALL %MAMBA_EXE% %*
@ENDLOCAL

@IF %errorlevel% NEQ 0 EXIT /B %errorlevel%
@EXIT /B %errorlevel%
"""

# libmamba/data/mamba_hook.bat with the markers filled in for an executable NAME.bat (the name
# and the macro follow the executable, mamba PR #3546; the file is always mamba_hook.bat).
HOOK_TEMPLATE = r"""@IF DEFINED CONDA_SHLVL GOTO :EOF

@FOR %%F in ("%~dp0") do @SET "__mambabin_dir=%%~dpF"
@SET "__mambabin_dir=%__mambabin_dir:~0,-1%"
@SET "PATH=%__mambabin_dir%;%PATH%"
@SET "MAMBA_BAT=%__mambabin_dir%\{name}.bat"
@FOR %%F in ("%__mambabin_dir%") do @SET "__mamba_root=%%~dpF"
@SET "MAMBA_EXE={exe}"
@SET __mambabin_dir=
@SET __mamba_root=

@DOSKEY {name}="%MAMBA_BAT%" $*

@SET CONDA_SHLVL=0
"""
MAMBA_HOOK_BAT = ("@REM micromamba 2.x condabin\\mamba_hook.bat (sets MAMBA_EXE, not MAMBA_ROOT_PREFIX)\n\n"
                  + HOOK_TEMPLATE.replace("{name}", "mamba"))

# micromamba's helper, step for step, except one line: micromamba hands the script path
# across ENDLOCAL with `FOR /F "delims=" %%A in (""!_TEMP_SCRIPT_PATH!"")`, and Wine's cmd
# does not expand !VAR! inside a FOR /F string; here it is carried by %-expansion instead.
MAMBA_ACTIVATE_BAT = r"""@REM micromamba 2.x condabin\_mamba_activate.bat (see the note in winenv.py)
@SETLOCAL EnableDelayedExpansion
@IF "%MAMBA_ROOT_PREFIX%" NEQ "" (
    @SET "_sysp=%MAMBA_ROOT_PREFIX%"
    @SET "PATH=!_sysp!;!_sysp!\Library\mingw-w64\bin;!_sysp!\Library\usr\bin;!_sysp!\Library\bin;!_sysp!\Scripts;!_sysp!\bin;%PATH%"
)
@FOR /L %%I IN (1,1,100) DO @(
    SET UNIQUE_DIR=%TMP%\conda-!RANDOM!
    MKDIR !UNIQUE_DIR! > NUL 2>&1
    IF NOT ERRORLEVEL 1 (
        SET UNIQUE=!UNIQUE_DIR!\conda.tmp
        TYPE NUL 1> !UNIQUE!
        GOTO tmp_file_created
    )
)
@ECHO Failed to create temp directory "%TMP%\conda-<RANDOM>\" & exit /b 1
:tmp_file_created

@"%MAMBA_EXE%" shell --shell cmd.exe %* 1>%UNIQUE%
@IF %ErrorLevel% NEQ 0 @EXIT /B %ErrorLevel%
@FOR /F %%i IN (%UNIQUE%) DO @SET _TEMP_SCRIPT_PATH=%%i
@RMDIR /S /Q %UNIQUE_DIR%
@ENDLOCAL & @SET "_TEMP_SCRIPT_PATH=%_TEMP_SCRIPT_PATH%"
@IF "%_TEMP_SCRIPT_PATH%" == "" @EXIT /B 1
@CALL "%_TEMP_SCRIPT_PATH%"
@DEL /F /Q "%_TEMP_SCRIPT_PATH%"
@SET _TEMP_SCRIPT_PATH=
@SET "PROMPT=%CONDA_PROMPT_MODIFIER%%PROMPT%"
"""

# conda's own wrappers find everything from %~dp0: nothing to patch, nothing may change.
CONDA_BAT = r"""@REM conda's condabin\conda.bat (portable)
@IF NOT DEFINED CONDA_EXE @SET "CONDA_EXE=%~dp0..\Scripts\conda.exe"
@CALL "%CONDA_EXE%" %*
"""
CONDA_ACTIVATE_BAT = r"""@REM conda's Scripts\activate.bat (portable)
@CALL "%~dp0..\condabin\conda.bat" activate %*
"""

# A package file with the prefix written in by the installer, outside condabin\ and Scripts\:
# found only through its conda-meta record.
TOOL_ENV_BAT = r"""@REM a package's helper script
@SET "TOOL_HOME={root}\Library\share\tool"
@SET "PATH={root}\Library\bin\tool;%PATH%"
"""

STUB_MAMBA = r"""@REM mamba.exe stand-in: %1 is the path of the executable that ran; then mamba's arguments
@ECHO OFF
@SET "STUB_EXE=%~1"
@SHIFT
@IF "%1 %2 %3"=="shell --shell cmd.exe" GOTO shell
@SET "STUB_ARGS="
:args
@IF "%~1"=="" GOTO shown
@SET "STUB_ARGS=%STUB_ARGS% %1"
@SHIFT
@GOTO args
:shown
@ECHO %STUB_EXE% (a stand-in) ran:%STUB_ARGS%
@EXIT /B 0
:shell
@SET "STUB_OUT=%TMP%\stub-mamba-%RANDOM%.bat"
@IF "%4"=="deactivate" GOTO deactivate
>"%STUB_OUT%" ECHO @SET "STUB_SAW_EXE=%STUB_EXE%"
>>"%STUB_OUT%" ECHO @SET "STUB_SAW_ROOT=%MAMBA_ROOT_PREFIX%"
>>"%STUB_OUT%" ECHO @SET "CONDA_PREFIX=%MAMBA_ROOT_PREFIX%"
>>"%STUB_OUT%" ECHO @SET CONDA_SHLVL=1
>>"%STUB_OUT%" ECHO @SET CONDA_DEFAULT_ENV=base
>>"%STUB_OUT%" ECHO @SET "CONDA_PROMPT_MODIFIER=(base) "
>>"%STUB_OUT%" ECHO @SET "PATH=%MAMBA_ROOT_PREFIX%;%MAMBA_ROOT_PREFIX%\condabin;%MAMBA_ROOT_PREFIX%\Library\bin;%MAMBA_ROOT_PREFIX%\Scripts;%PATH%"
@ECHO %STUB_OUT%
@EXIT /B 0
:deactivate
>"%STUB_OUT%" ECHO @SET CONDA_PREFIX=
>>"%STUB_OUT%" ECHO @SET CONDA_SHLVL=
@ECHO %STUB_OUT%
@EXIT /B 0
"""


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _record(name: str, version: str, paths: Dict[str, Optional[str]]) -> dict:
    """A conda-meta record; paths maps _path -> file_mode (None: no placeholder)."""
    entries = []
    for path, mode in paths.items():
        entry = {"_path": path, "path_type": "hardlink"}
        if mode:
            entry.update(file_mode=mode, prefix_placeholder=PLACEHOLDER)
        entries.append(entry)
    return {"name": name, "version": version, "build": "0", "build_number": 0, "subdir": "win-64",
            "url": "", "paths_data": {"paths": entries, "paths_version": 1}}


def build(prefix: Path, stub_dir: Path, cache_micromamba: str, seen_as: Optional[str] = None) -> Path:
    """Write the environment at `prefix`, seen by Windows as `seen_as` (a drive letter mapped to a
    folder above it), else as windows_path(prefix)."""
    root = seen_as or windows_path(prefix)
    own_exe = root + "\\Library\\bin\\mamba.exe"
    files = {
        "condabin/mamba.bat": MAMBA_BAT.format(exe=own_exe, root=root),
        "condabin/micromamba.bat": MICROMAMBA_BAT.format(exe=cache_micromamba, root=root),
        "condabin/mamba_hook.bat": MAMBA_HOOK_BAT.format(exe=own_exe),
        "condabin/_mamba_activate.bat": MAMBA_ACTIVATE_BAT,
        "condabin/_micromamba_activate.bat": MAMBA_ACTIVATE_BAT,
        "condabin/conda.bat": CONDA_BAT,
        "Scripts/activate.bat": CONDA_ACTIVATE_BAT,
        "Library/bin/tool-env.bat": TOOL_ENV_BAT.format(root=root),
        "Library/share/tool/README": "tool data\n",
        "python.exe": "not a real interpreter\n",
    }
    for rel, text in files.items():
        path = prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_crlf(text))
    for rel in ("Library/mingw-w64/bin", "Library/usr/bin", "bin", "etc/conda"):
        (prefix / rel).mkdir(parents=True, exist_ok=True)
    stub = stub_dir / "stub-mamba.bat"
    stub_dir.mkdir(parents=True, exist_ok=True)
    stub.write_bytes(_crlf(STUB_MAMBA))
    launcher_exe(prefix / "Library" / "bin" / "mamba.exe", f"C:\\windows\\system32\\cmd.exe /d /c {windows_path(stub)}")
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    records = [
        _record("python", "3.12.4", {"python.exe": None}),
        _record("conda", "24.11.3", {"condabin/conda.bat": None, "Scripts/activate.bat": None}),
        _record("mamba", "2.0.5", {"condabin/mamba.bat": "text", "condabin/mamba_hook.bat": "text",
                                   "Library/bin/mamba.exe": None}),
        _record("tool", "1.0", {"Library/bin/tool-env.bat": "text", "Library/share/tool/README": None}),
    ]
    for rec in records:
        (meta / f"{rec['name']}-{rec['version']}-0.json").write_text(json.dumps(rec))
    (meta / "history").write_text(f"==> 2025-01-01 00:00:00 <==\n# cmd: micromamba create -p {root}\n")
    return prefix


# What a bare `mamba` or `conda` reaches, recorded: each wrapper in condabin\ and Scripts\conda.exe
# append a line to %WRAPPER_LOG% (when set), then do what they did before.
WRAPPER_RECORD = '@IF DEFINED WRAPPER_LOG >>"%WRAPPER_LOG%" ECHO {name} %*\r\n'
STUB_CONDA = r"""@REM conda.exe stand-in: %1 is the path of the executable that ran; then conda's arguments
@SHIFT
@IF DEFINED WRAPPER_LOG >>"%WRAPPER_LOG%" ECHO Scripts\conda.exe %1 %2
@ECHO conda (test stand-in) args: %1 %2
"""


def record_wrappers(prefix: Path, stub_dir: Path) -> Path:
    """Make `prefix` (from build) the layout the real win-64 packages give: Library\\bin\\mamba.exe,
    Scripts\\conda.exe (a real program), and the wrappers condabin\\mamba.bat and conda.bat, all
    recording that they ran."""
    for name in ("mamba.bat", "conda.bat"):
        path = prefix / "condabin" / name
        path.write_bytes(WRAPPER_RECORD.format(name="condabin\\" + name).encode() + path.read_bytes())
    stub = stub_dir / "stub-conda.bat"
    stub.write_bytes(_crlf(STUB_CONDA))
    launcher_exe(prefix / "Scripts" / "conda.exe", f"C:\\windows\\system32\\cmd.exe /d /c {windows_path(stub)}")
    return prefix


# -- micromamba.exe's `shell hook --shell cmd.exe` -----------------------------------------------
# For cmd.exe, `shell hook` prints nothing: Activator::hook calls get_hook_contents, which calls
# init_root_prefix_cmdexe(root prefix) and logs "Hook installed" (libmamba/src/core/activation.cpp
# 676-688, libmamba/src/core/shell_init.cpp 738-888, mamba-org/mamba 2.8.1). That writes five
# files, named after the executable that runs (PR #3546), except the hook: condabin\<exe>.bat and
# condabin\_<exe>_activate.bat, condabin\activate.bat and Scripts\activate.bat (one text), and
# condabin\mamba_hook.bat. The texts are libmamba/data/mamba.bat, _mamba_activate.bat,
# activate.bat and mamba_hook.bat with the markers filled in: __MAMBA_DEFINE_MAMBA_EXE__ by
# `@SET "MAMBA_EXE=<this exe>"`, __MAMBA_DEFINE_ROOT_PREFIX__ by `@SET "MAMBA_ROOT_PREFIX=<root>"`,
# the names by the executable's stem (activate.bat has no marker for a path). Here for
# micromamba.exe, without the two licence comment lines each file starts with.
HOOK_EXE_BAT = r"""@SET "MAMBA_EXE={exe}"
{root_line}
@IF [%1]==[activate]   "%~dp0_micromamba_activate" %*
@IF [%1]==[deactivate] "%~dp0_micromamba_activate" %*

@CALL "%MAMBA_EXE%" %*

@IF %errorlevel% NEQ 0 EXIT /B %errorlevel%

@IF [%1]==[install]   "%~dp0_micromamba_activate" reactivate
@IF [%1]==[update]    "%~dp0_micromamba_activate" reactivate
@IF [%1]==[upgrade]   "%~dp0_micromamba_activate" reactivate
@IF [%1]==[remove]    "%~dp0_micromamba_activate" reactivate
@IF [%1]==[uninstall] "%~dp0_micromamba_activate" reactivate
@IF [%1]==[self-update] @CALL DEL /f %MAMBA_EXE%.bkup

@EXIT /B %errorlevel%
"""
HOOK_ACTIVATE_BAT = r"""@CALL "%~dp0..\condabin\mamba_hook.bat"
micromamba activate %*
"""
HOOK_HOOK_BAT = HOOK_TEMPLATE.replace("{name}", "micromamba")
ROOT_LINE = "@REM <the root prefix line>"

STUB_MICROMAMBA = r"""@REM micromamba.exe stand-in: %1 is the path of the executable that ran; then micromamba's arguments
@SETLOCAL
@SET "STUB_EXE=%~1"
@SHIFT
@IF "%1 %2 %3"=="shell --shell cmd.exe" GOTO activate
@IF NOT "%1 %2 %3 %4"=="shell hook --shell cmd.exe" GOTO usage
@IF "%5"=="--root-prefix" GOTO hook
@IF "%5"=="-r" GOTO hook
:usage
@ECHO micromamba.exe (test stand-in): only "shell hook --shell cmd.exe --root-prefix ROOT" and activation 1>&2
@EXIT /B 2
:activate
@SET "STUB_TARGET=%~5"
@IF "%~5"=="-p" SET "STUB_TARGET=%~6"
@IF "%STUB_TARGET%"=="" SET "STUB_TARGET=%MAMBA_ROOT_PREFIX%"
@SET "STUB_OUT=%TMP%\stub-micromamba-%RANDOM%.bat"
>"%STUB_OUT%" ECHO @SET "CONDA_PREFIX=%STUB_TARGET%"
>>"%STUB_OUT%" ECHO @SET CONDA_SHLVL=1
@ECHO %STUB_OUT%
@EXIT /B 0
:hook
@SET "ROOT=%~6"
@MKDIR "%ROOT%\condabin" 2>NUL
@MKDIR "%ROOT%\Scripts" 2>NUL
@CALL :fill "{parts}\exe" "%ROOT%\condabin\micromamba.bat"
@COPY /Y "{parts}\activate.bat" "%ROOT%\condabin\activate.bat" >NUL
@COPY /Y "{parts}\activate.bat" "%ROOT%\Scripts\activate.bat" >NUL
@COPY /Y "{parts}\_activate.bat" "%ROOT%\condabin\_micromamba_activate.bat" >NUL
@COPY /Y "{parts}\hook.bat" "%ROOT%\condabin\mamba_hook.bat" >NUL
@ECHO warning  libmamba Hook installed, now 'manually' execute: 1>&2
@ECHO warning  libmamba        CALL "%ROOT%\condabin\mamba_hook.bat" 1>&2
@EXIT /B 0
:fill
@TYPE "%~1.head" >"%~2"
@>>"%~2" ECHO @SET "MAMBA_ROOT_PREFIX=%ROOT%"
@TYPE "%~1.tail" >>"%~2"
@EXIT /B 0
"""


def hook_micromamba(exe: Path, seen_as: str, stub_dir: Path) -> Path:
    """A micromamba.exe at `exe` (seen by Windows as `seen_as`) whose `shell hook --shell cmd.exe
    --root-prefix ROOT` writes, and logs, what micromamba 2.8.1's does (see above), and whose
    `shell --shell cmd.exe activate [PREFIX]`, as _micromamba_activate.bat runs it, activates
    PREFIX, or with none the root prefix it finds in MAMBA_ROOT_PREFIX (as micromamba does:
    consolidate_prefix_options, micromamba/src/shell.cpp); nothing else."""
    parts = stub_dir / "hook-parts"
    parts.mkdir(parents=True, exist_ok=True)
    own = seen_as
    head, tail = HOOK_EXE_BAT.format(exe=own, root_line=ROOT_LINE).split(ROOT_LINE + "\n")
    (parts / "exe.head").write_bytes(_crlf(head))
    (parts / "exe.tail").write_bytes(_crlf(tail))
    (parts / "activate.bat").write_bytes(_crlf(HOOK_ACTIVATE_BAT))
    (parts / "hook.bat").write_bytes(_crlf(HOOK_HOOK_BAT.format(exe=own)))
    activate = MAMBA_ACTIVATE_BAT.replace("mamba 2.x condabin\\_mamba_activate.bat", "condabin\\_micromamba_activate.bat")
    (parts / "_activate.bat").write_bytes(_crlf(activate))
    stub = stub_dir / "stub-micromamba.bat"
    stub.write_bytes(_crlf(STUB_MICROMAMBA.replace("{parts}", windows_path(parts))))
    return launcher_exe(exe, f"C:\\windows\\system32\\cmd.exe /d /c {windows_path(stub)}")
