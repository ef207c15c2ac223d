"""cmd.exe activation: activate.bat and deactivate.bat (call them; they change the caller's cmd).

Both are the same in every environment: what the environment holds (env_vars.d, conda-meta/state,
activate.d and deactivate.d) is in PREFIX\\.mambaboot\\vars.bat, which envvars.py writes. vars.bat
first checks, without starting a process, that what it was made from is unchanged; when it is
not (the environment's own conda installed a package with hooks, or `conda env config vars set`
ran), activate.bat runs the environment's python once on envvars.py to write it again, then
calls it anew (a batch file is never rewritten while cmd runs it).

cmd re-parses whatever a %VAR% expands to, so values are handled with care:
- the prefix comes from %~dp0 through a FOR variable (exact for any path Windows allows) and
  the script refuses unless PREFIX\\.mambaboot\\activate.bat and PREFIX\\conda-meta exist
  there, which also catches cmd's misreport of %~dp0 for a quoted name found through PATH;
- values from the environment are written unquoted with every operator escaped
  (quoting.cmd), so they are exact whatever they contain;
- values read at run time (PATH, PROMPT, earlier values of the variables it sets) are copied
  with %VAR% when delayed expansion is off (cmd's default); a value holding both a double
  quote and one of & | < > ^ cannot be copied that way and is refused, naming the variable.
  With delayed expansion on they are copied with !VAR!, which is exact for anything; then the
  path, the hook names and the values must not contain "!" (refused otherwise).
Hook scripts are started from a called label (see envvars.BAT_RUN), which keeps % and ^ in their paths.
Only cmd builtins run (set, if, for, call, goto, echo, pushd, popd), and python.exe when vars.bat is stale.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


from mambaboot.common.errors import VerifyError
from mambaboot.common import quoting
from mambaboot.shell.activation import environ, envvars
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE_CMD, Model, busy, encode

ACTIVATE = "activate.bat"
DEACTIVATE = "deactivate.bat"
CONDA_BAT = environ.BAT_FILE
_S = "_MAMBABOOT_"
quote = quoting.cmd
# cmd reads no line longer than 8,191 characters once %VAR% is expanded ("The input line is too
# long.", and the batch file ends: Microsoft's "Command prompt line string limitation"). With
# delayed expansion off, the copy checks expand PATH twice in one line, so a longer PATH is
# refused at once, in words, before anything is set.
PATH_FITS = 4000


def _ref(name: str, delayed: bool) -> str:
    return f"!{name}!" if delayed else f"%{name}%"


def _usage() -> list[str]:
    return ['call "PREFIX\\.mambaboot\\activate.bat"', 'undo: call "PREFIX\\.mambaboot\\deactivate.bat"']


def _header(model: Model) -> list[str]:
    return model.header("@REM", _usage()) + ['@if "!!"=="" (set "_MAMBABOOT_ON=1") else (set "_MAMBABOOT_ON=")']


def _locate() -> list[str]:
    return [
        f'@for %%P in ("%~dp0..") do @set "{_S}P=%%~fP"',
        f'@if not exist "%{_S}P%\\.mambaboot\\activate.bat" goto _mambaboot_lost',
        f'@if not exist "%{_S}P%\\conda-meta\\" goto _mambaboot_lost',
        f'@if not "%{_S}P:;=%"=="%{_S}P%" goto _mambaboot_separator',
    ]


def _fresh_vars(heal_failed: str) -> list[str]:
    """Call vars.bat's check; when stale, write it again with the environment's python (the
    prefix passed as PREFIX\\. so that a drive root's backslash cannot escape the quote), and
    check again. Leaves vars.bat's exit code in errorlevel; heal_failed is where to go when
    it cannot be made fresh."""
    p = f"%{_S}P%"
    return [
        f'@set "{_S}F={p}\\.mambaboot\\vars.bat"',
        f'@if not exist "{p}\\.mambaboot\\vars.bat" goto _mambaboot_heal',
        "@call :_mambaboot_run",
        f"@if errorlevel {envvars.STALE_RC} if not errorlevel {envvars.STALE_RC + 1} goto _mambaboot_heal",
        "@goto _mambaboot_fresh",
        ":_mambaboot_heal",
        f'@if not exist "{p}\\python.exe" goto {heal_failed}',
        f'@"{p}\\python.exe" -I -S "{p}\\.mambaboot\\envvars.py" "{p}\\."',
        f"@if errorlevel 1 goto {heal_failed}",
        "@call :_mambaboot_run",
        f"@if errorlevel {envvars.STALE_RC} if not errorlevel {envvars.STALE_RC + 1} goto {heal_failed}",
        ":_mambaboot_fresh",
    ]


def _path_fits() -> list[str]:
    """Delayed expansion off: go to _mambaboot_long when PATH is longer than PATH_FITS. Never an
    offset past a value's end, which Wine's cmd answers with stale memory: the last PATH_FITS + 1
    characters behind a "#", whose first character is "#" only when there were no more (a
    negative offset larger than the value starts at its beginning: ss64, "VarSubstring"). The
    quotes become "_" first, so that the value stays one quoted string, its length unchanged."""
    n = PATH_FITS + 1
    return ["@if defined _MAMBABOOT_ON goto _mambaboot_fits",
            "@if not defined PATH goto _mambaboot_fits",
            f'@set "{_S}T=%PATH:"=_%"',
            f'@set "{_S}T=#%{_S}T:~-{n}%"',
            f'@set "{_S}T=%{_S}T:~-{n},1%"',
            f'@set "{_S}T=%{_S}T:#=%"',
            f"@if defined {_S}T goto _mambaboot_long",
            ":_mambaboot_fits"]


def _copy_checks(names: tuple[str, ...]) -> list[str]:
    """Delayed expansion off: refuse values that %VAR% cannot copy (a " with an operator)."""
    return envvars.bat_copy_checks(names, "_mambaboot_checked") + [f"@if defined {_S}Q goto _mambaboot_quoted"]


def _sets(model: Model, delayed: bool) -> list[str]:
    p = _ref(f"{_S}P", delayed)
    raw = f"%{_S}P%"  # in `if exist` tests, expanded when the line is read either way
    lines = [f'@set "{_S}OLD_{name}={_ref(name, delayed)}"' for name in envvars.BAT_FIXED]
    head, rest = model.path_suffixes[:environ.VARIANT_AT], model.path_suffixes[environ.VARIANT_AT:]
    entries = ";".join(p + s for s in head) + _ref(f"{_S}V", delayed) + "".join(";" + p + s for s in rest)
    exe, python = "\\Scripts\\conda.exe", "\\python.exe"
    lines += [
        # the first MSYS2 tree present (`_get_path_dirs`, conda >= 24.7): tried last to first, the last set wins
        f'@set "{_S}V="',
        *[f'@if exist "{raw}\\Library\\{v}\\" set "{_S}V=;{p}\\Library\\{v}\\bin"' for v in reversed(environ.MSYS2_VARIANTS)],
        f'@set "{_S}T=;{_ref("PATH", delayed)}"',
        f'@if not defined PATH set "{_S}T="',
        f'@set "PATH={entries}{_ref(_S + "T", delayed)}"',
        f'@set "CONDA_PREFIX={p}"',
        "@set CONDA_SHLVL=1",
        f'@set "CONDA_DEFAULT_ENV={p}"',
        # its own conda activates it as its root: "base" and conda's own variables (environ.conda_values)
        f'@if exist "{raw}{exe}" set "CONDA_DEFAULT_ENV=base"',
        f'@if exist "{raw}{exe}" set "CONDA_EXE={p}{exe}"',
        f'@if exist "{raw}{exe}" set "_CONDA_EXE={p}{exe}"',
        f'@if exist "{raw}{exe}" set "CONDA_PYTHON_EXE={p}{python}"',
        f'@if exist "{raw}{exe}" set "_CONDA_ROOT={p}"',
        f'@if exist "{raw}{exe}" set "_CE_M="',
        f'@if exist "{raw}{exe}" set "_CE_CONDA="',
        # what the environment's mamba calls before a post-link script, so that it writes no scripts (environ.BAT_VAR)
        f'@set "{environ.BAT_VAR}="',
        *[f'@if exist "{raw}\\{n}" set "{environ.BAT_VAR}={p}\\{n}"' for n in reversed(environ.BAT_CANDIDATES)],
        # the environment's directory name, as its conda shows it (environ.prompt_name); the set is
        # read with %VAR% in both modes, as the `if exist` tests are: exact with delayed expansion
        # on too, where the path holds no "!" (refused), so no caret is taken from it
        f'@for %%I in ("{raw}") do @set "CONDA_PROMPT_MODIFIER=(%%~nxI) "',
        f'@set "MAMBA_ROOT_PREFIX={p}"',
        '@if not defined PROMPT set "PROMPT=$P$G"',
        f'@set "PROMPT={_ref("CONDA_PROMPT_MODIFIER", delayed)}{_ref("PROMPT", delayed)}"',
        f'@set "{_S}ACTIVE={p}"',
    ]
    return lines


def _clear(names: list[str]) -> str:
    return "@" + " & ".join(f'set "{n}="' for n in names)


_TEMPS = [f"{_S}{n}" for n in ("ON", "P", "T", "U", "W", "Q", "N", "F", "V", "L", "E")]
_RUN = list(envvars.BAT_RUN)


def _fail(label: str, message: str) -> list[str]:
    return [f":{label}", f"@>&2 echo mambaboot: {message}", "@goto _mambaboot_fail"]


def _activate(model: Model) -> list[str]:
    lines = _header(model)
    lines.append(f"@if defined {_S}ACTIVE goto _mambaboot_still")
    lines.append(f'@set "{_S}T="')
    lines += [f'@if defined {name} set "{_S}T={name}"' for name in model.refuse_if_set]
    lines.append(f"@if defined {_S}T goto _mambaboot_busy")
    lines += _locate()
    lines += _fresh_vars("_mambaboot_stale")
    lines += [f"@if errorlevel {envvars.QUOTED_RC} goto _mambaboot_quoted",
              f"@if errorlevel {envvars.BANG_RC} goto _mambaboot_bang",
              "@if errorlevel 1 goto _mambaboot_stale"]
    lines += _path_fits()
    lines += _copy_checks(tuple(n for n in envvars.BAT_FIXED if n not in model.refuse_if_set))
    lines += ["@if defined _MAMBABOOT_ON goto _mambaboot_delayed"]
    lines += _sets(model, delayed=False)
    lines += ["@goto _mambaboot_own", ":_mambaboot_delayed"]
    lines += _sets(model, delayed=True)
    lines += [":_mambaboot_own", f'@set "{_S}F=%{_S}P%\\.mambaboot\\vars.bat"', "@call :_mambaboot_run apply",
              _clear(_TEMPS), "@exit /b 0"]
    lines += _fail("_mambaboot_still", "an environment activated by mambaboot is still active in this cmd; "
                                       "deactivate it or open a new cmd")
    lines += _fail("_mambaboot_busy", busy(f"%{_S}T% is set").replace("shell", "cmd"))
    lines += _fail("_mambaboot_lost", "cannot find the environment this script belongs to; call it by its path "
                                      "(with delayed expansion on, that path must not contain an exclamation mark)")
    lines += _fail("_mambaboot_separator", "the environment's path holds a semicolon, PATH's separator, so its "
                                           "directories cannot go on PATH; move the environment")
    # the path in quotes: cmd parses what %VAR% expanded to, and a & in it would run the rest
    lines += _fail("_mambaboot_stale", f'"%{_S}P%\\.mambaboot\\vars.bat" {STALE_CMD}')
    lines += _fail("_mambaboot_bang", "this environment has names or values with an exclamation mark, which cmd "
                                      "corrupts with delayed expansion on; call this script with it off")
    lines += _fail("_mambaboot_quoted", f"%{_S}Q% holds a double quote together with a cmd operator character, which "
                                        "cmd cannot copy with delayed expansion off; call this script with it on")
    lines += _fail("_mambaboot_long", f"PATH is longer than {PATH_FITS} characters, which cmd cannot copy with delayed "
                                      "expansion off (a line holds at most 8191 characters); call this script with it on "
                                      "(cmd /v:on) or shorten PATH")
    lines += [":_mambaboot_fail", _clear(_TEMPS), "@exit /b 1"] + _RUN
    return lines


def _deactivate(model: Model) -> list[str]:
    lines = _header(model)
    lines.append(f"@if not defined {_S}ACTIVE goto _mambaboot_none")
    lines.append(_locate()[0])
    lines += [
        "@if defined _MAMBABOOT_ON goto _mambaboot_compare",
        f'@if /i not "%{_S}ACTIVE%"=="%{_S}P%" goto _mambaboot_other',
        "@goto _mambaboot_same",
        ":_mambaboot_compare",
        f'@if /i not "!{_S}ACTIVE!"=="!{_S}P!" goto _mambaboot_other',
        ":_mambaboot_same",
    ]
    # deactivate.d as it is now (conda lists it when deactivating); a vars.bat that cannot be made
    # fresh still runs the scripts it knows: deactivation never refuses
    lines += _fresh_vars("_mambaboot_fresh")
    lines += [f'@if exist "%{_S}F%" call :_mambaboot_run deactivate']
    lines += [f"@for %%N in ({envvars.BAT_FIXED[0]} %{_S}NAMES%) do @call :_mambaboot_restore %%N"]
    lines += [f"@call :_mambaboot_restore {name}" for name in envvars.BAT_FIXED[1:]]
    lines += [_clear([f"{_S}NAMES", f"{_S}ACTIVE"]), _clear(_TEMPS), "@exit /b 0"]
    lines += _fail("_mambaboot_none", NOT_ACTIVE.replace("this shell", "this cmd").replace("`", ""))
    lines += _fail("_mambaboot_other", "the active environment is not the one this script belongs to; "
                                       "use the deactivate.bat next to the activate.bat you called")
    lines += [":_mambaboot_fail", _clear(_TEMPS), "@exit /b 1"] + _RUN
    # Each variable back as it was (absent stays absent). Delayed expansion off, CALL expands the
    # saved value once more but never what it holds; the same " with an operator that %VAR% cannot
    # copy was refused when activating.
    lines += [":_mambaboot_restore",
              f'@if not defined {_S}OLD_%1 (set "%1=") & goto :eof',
              f'@if defined _MAMBABOOT_ON (set "%1=!{_S}OLD_%1!") else call set "%1=%%{_S}OLD_%1%%"',
              f'@set "{_S}OLD_%1="',
              "@goto :eof"]
    return lines
def conda_bat() -> list[str]:
    """PREFIX\\.mambaboot\\conda_bat.bat, what activation sets CONDA_BAT to (environ.BAT_VAR says why).
    libmamba's wrapper runs `CALL "<it>" activate "<prefix>"`, the prefix written by std::quoted,
    which doubles every backslash (fs::u8path's operator<<, libmamba/include/mamba/fs/filesystem.hpp):
    so the prefix is compared as %~f makes it (GetFullPathName), and again with its backslashes
    halved; CALL doubles carets (call /?), so both sides are compared without theirs. Anything else
    goes on to condabin\\conda.bat, else condabin\\mamba.bat, started without CALL: control passes to
    it and returns to this file's caller, with its arguments and the variables it sets as they are."""
    s, lead = _S, "@REM "
    return [
        lead + "mambaboot: CONDA_BAT of the environment this file belongs to, set by mambaboot's activation (do not edit).",
        lead + "A mamba calls it (CALL \"%CONDA_BAT%\" activate PREFIX) before a package's post-link script and before",
        lead + "compiling .py files; a transaction that relinks conda deletes condabin\\conda.bat meanwhile, never this file.",
        lead + "The environment active here already: nothing to do. Anything else: condabin\\conda.bat, else mamba.bat.",
        '@if /i not "%~1"=="activate" goto _mambaboot_pass',
        '@if "%~2"=="" goto _mambaboot_pass',
        "@if not defined CONDA_PREFIX goto _mambaboot_pass",
        "@setlocal DisableDelayedExpansion",
        f'@for %%P in ("%CONDA_PREFIX%") do @set "{s}B=%%~fP"',
        f'@for %%P in ("%~2") do @set "{s}A=%%~fP"',
        f'@if /i "%{s}A:^=%"=="%{s}B:^=%" goto _mambaboot_active',
        f'@set "{s}A=%~2"',
        f'@for %%P in ("%{s}A:\\\\=\\%") do @set "{s}A=%%~fP"',
        f'@if /i "%{s}A:^=%"=="%{s}B:^=%" goto _mambaboot_active',
        "@endlocal",
        ":_mambaboot_pass",
        '@if exist "%~dp0..\\condabin\\conda.bat" "%~dp0..\\condabin\\conda.bat" %*',
        '@if exist "%~dp0..\\condabin\\mamba.bat" "%~dp0..\\condabin\\mamba.bat" %*',
        # a FOR variable: what it holds is no operator to cmd
        '@for %%P in ("%~dp0..") do @>&2 echo mambaboot: CONDA_BAT: "%%~fP" has neither condabin\\conda.bat nor '
        "condabin\\mamba.bat to pass this on to",
        "@exit /b 1",
        ":_mambaboot_active",
        "@endlocal",
        "@exit /b 0",
    ]


def render(model: Model) -> dict[str, bytes]:
    encoding = envvars.bat_encoding()
    try:
        return encode({ACTIVATE: _activate(model), DEACTIVATE: _deactivate(model), CONDA_BAT: conda_bat()}, "\r\n",
                      encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise VerifyError(f"{bad!r} in this environment's variables cannot be written in a batch file "
                          f"(console code page {encoding}); cmd could not set it") from None
