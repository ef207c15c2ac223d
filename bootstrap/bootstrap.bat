@echo off
rem bootstrap.bat [NAME] [PY_VERSION] [options]: with no Python, refuse a contaminated shell, get and verify
rem micromamba (and mambaboot.pyz), make a private Python in a work directory of its own, hand over to "mambaboot
rem create" on it. Exit codes are create's (2 usage, 3 shell, 4 target, 5 download, 6 micromamba, 7 no Python).
rem cmd.exe's rules kept: delayed expansion OFF (but where PATH is measured); values expanded only in double quotes,
rem never through CALL (it doubles carets, expands %% again); curl.exe and certutil.exe by full path (by name, cmd
rem looks in the current directory first); no FOR /F over a deciding command: its child cmd runs AutoRun (cmd /?, /D).
setlocal EnableExtensions DisableDelayedExpansion

rem Opened by a double-click, cmd runs this file as cmd.exe /c ""PATH" " (ss64, "CMDCMDLINE") and
rem closes the window when it ends: then, and only without arguments, it waits for a key at the end.
if not [%1]==[] goto :mb_main
set "MB_CC=%CMDCMDLINE%" & if not defined MB_CC goto :mb_main
set "MB_CC=%MB_CC:"=%"
set "MB_CC=%MB_CC:* /c =%"
if /i not "%MB_CC%"=="%~f0 " goto :mb_main
call :mb_main
set "MB_RC=%ERRORLEVEL%"
echo.&pause
exit /b %MB_RC%

:mb_main
set "MB_PINNED=2.8.1-0" & set "MB_RELEASES=https://github.com/mamba-org/micromamba-releases/releases"
rem The release this copy belongs to: empty here, named in a release's copy (tools/build_release.py).
set "MB_RELEASE="
for %%V in (MB_NAME MB_NAME_SET MB_PYTHON MB_CHARGS MB_PKGARGS MB_GIVEN MB_MM_VERSION MB_MM_URL MB_MM_SHA MB_ALLOW_HTTP MB_ENVS MB_CACHE MB_ZIPAPP MB_ZIPAPP_SHA MB_TMPDIR MB_VAL MB_MSG2 MB_MSG3 MB_PROXY_VAR MB_SUMS MB_FOUND) do set "%%V="
set "MB_SELF=%~dp0" & set "MB_CWD=%CD%" & set "MB_NPOS=0" & set "MB_RC=2" & set "MB_MM_PATH=%MAMBABOOT_MICROMAMBA%"
if defined ALL_PROXY set "MB_PROXY_VAR=ALL_PROXY"
if defined HTTPS_PROXY set "MB_PROXY_VAR=HTTPS_PROXY"
set "MB_PROXY_HINT=behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)"
if defined MB_PROXY_VAR set "MB_PROXY_HINT=%MB_PROXY_VAR% names the proxy it went through; if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
set "MB_SYS32=%SystemRoot%\System32" & if not defined SystemRoot set "MB_SYS32=%windir%\System32"

:mb_args
if [%1]==[] goto :mb_args_done
set "MB_ARG=%~1"
if not defined MB_ARG goto :mb_positional
if "%MB_ARG%"=="/?" goto :mb_usage
if not "%MB_ARG:~0,1%"=="-" goto :mb_positional
for %%H in (-h --help) do if "%MB_ARG%"=="%%H" goto :mb_usage
if "%MB_ARG%"=="--allow-http" (set "MB_ALLOW_HTTP=1" & set "MB_GIVEN=%MB_GIVEN% --allow-http" & shift & goto :mb_args)
set "MB_OPT=" & for %%O in (-c --channel --package --envs-dir --cache-dir --micromamba --micromamba-version --micromamba-url --micromamba-sha256 --zipapp --zipapp-sha256) do if "%MB_ARG%"=="%%O" set "MB_OPT=%%O"
if not defined MB_OPT (set "MB_VAL=%MB_ARG%" & set "MB_MSG=is not an option of bootstrap.bat (see --help)" & goto :mb_fail)
set "MB_VAL=%MB_OPT%" & if [%2]==[] (set "MB_MSG=needs a value" & goto :mb_fail)
set "MB_VAL=%~2" & if not defined MB_VAL (set "MB_VAL=%MB_OPT%" & set "MB_MSG=needs a non-empty value" & goto :mb_fail)
if "%MB_VAL:~0,1%"=="-" (set "MB_MSG=is a value for %MB_OPT% that starts with -" & goto :mb_fail)
rem VARIABLE.--option: the option is its "extension", the variable its "name" (for /?: ~x, ~n).
for %%M in (ENVS.--envs-dir CACHE.--cache-dir MM_PATH.--micromamba MM_VERSION.--micromamba-version MM_URL.--micromamba-url MM_SHA.--micromamba-sha256 ZIPAPP.--zipapp ZIPAPP_SHA.--zipapp-sha256) do if ".%MB_OPT%"=="%%~xM" set "MB_%%~nM=%MB_VAL%"
if "%MB_VAL:~-1%"=="\" set "MB_VAL=%MB_VAL%\"
for %%C in (-c --channel) do if "%MB_OPT%"=="%%C" set MB_CHARGS=%MB_CHARGS% -c "%MB_VAL%"
if "%MB_OPT%"=="--package" set MB_PKGARGS=%MB_PKGARGS% --package "%MB_VAL%"
set "MB_VAL=" & shift & shift & goto :mb_args
:mb_positional
set /a MB_NPOS+=1
if %MB_NPOS%==1 (set "MB_NAME=%MB_ARG%" & set "MB_NAME_SET=1")
if %MB_NPOS%==2 set "MB_PYTHON=%MB_ARG%"
if %MB_NPOS% gtr 2 (set "MB_VAL=%MB_ARG%" & set "MB_MSG=is one argument too many: give at most NAME and PY_VERSION" & goto :mb_fail)
shift & goto :mb_args

:mb_usage
echo usage: bootstrap.bat [NAME] [PY_VERSION] [options]  (quote values holding spaces or = , ; ^& ^< ^> ^| ^^)
echo Creates NAME_3_12 for PY_VERSION 3.12 (default NAME: py) by "mambaboot.pyz create" on a private Python
echo made with micromamba, in --envs-dir, else %%PY_ENVS%%, else DRIVE:\dev\Anaconda\envs if it exists, else here.
echo   -c, --channel CHANNEL (repeatable; default %%MAMBABOOT_CHANNELS%%, else conda-forge)
echo   --package SPEC (repeatable), e.g. --package "numpy>=2"    --envs-dir DIR    --cache-dir DIR
echo   --micromamba PATH (default %%MAMBABOOT_MICROMAMBA%%)    --micromamba-version V (default: pinned; or latest)
echo   --micromamba-url URL (a mirror, verified against URL.sha256)    --micromamba-sha256 HEX (instead)
echo   --allow-http (plain http:// off loopback)    --zipapp PATH-OR-URL (default: beside this script, else the one of this
echo     script's release, checked against its SHA256SUMS; a URL against URL.sha256 or --zipapp-sha256 HEX)
echo environment, as create reads it: PY_ENVS CONDA_PKGS_DIRS MAMBABOOT_CHANNELS MAMBABOOT_MICROMAMBA MAMBABOOT_RELEASES_URL MAMBABOOT_HTTP_TIMEOUT _DEADLINE _MAX_BYTES
exit /b 0

:mb_args_done
rem cmd reads no line over 8191 characters once expanded, and ends the batch (Microsoft Learn, "Command prompt line string
rem limitation"): :mb_clean_path copies PATH in a line some 90 longer. Measured on a "#"-led !PATH! copy from a negative
rem offset (ss64, "VarSubstring"; Wine reads past the end else).
set "MB_MSG=PATH is longer than 8000 characters, and cmd.exe cannot read a line longer than 8191 characters with it expanded; shorten PATH for this cmd (set PATH=...) or use bootstrap.ps1" & set "MB_T="
setlocal EnableDelayedExpansion
set "MB_T=#!PATH!"
set "MB_T=%MB_T:~-8001,1%"
set "MB_T=%MB_T:#=%"
if defined MB_T (endlocal & set "MB_T=1") else endlocal
if defined MB_T goto :mb_fail

rem The bounds of mambaboot's own downloads (engine/download.py): curl.exe reads --max-time 0 as no limit.
set "MB_CONNECT=30" & set "MB_DEADLINE=1800" & set "MB_MAX_BYTES=268435456"
if defined MAMBABOOT_HTTP_TIMEOUT set "MB_CONNECT=%MAMBABOOT_HTTP_TIMEOUT%"
if defined MAMBABOOT_HTTP_DEADLINE set "MB_DEADLINE=%MAMBABOOT_HTTP_DEADLINE%"
if defined MAMBABOOT_HTTP_MAX_BYTES set "MB_MAX_BYTES=%MAMBABOOT_HTTP_MAX_BYTES%"
set "MB_MSG=is not a whole number, 1 or more"
set "MB_VAL=MAMBABOOT_HTTP_TIMEOUT=%MB_CONNECT%" & set "MB_T=%MB_CONNECT%" & call :mb_is_number
if errorlevel 1 goto :mb_fail
set "MB_VAL=MAMBABOOT_HTTP_DEADLINE=%MB_DEADLINE%" & set "MB_T=%MB_DEADLINE%" & call :mb_is_number
if errorlevel 1 goto :mb_fail
set "MB_VAL=MAMBABOOT_HTTP_MAX_BYTES=%MB_MAX_BYTES%" & set "MB_T=%MB_MAX_BYTES%" & call :mb_is_number
if errorlevel 1 goto :mb_fail

rem MAMBA_SSL_NO_REVOKE: true or unset, as libmamba reads it as YAML (yaml-cpp fails on 1, 0) and raw.
set "MB_T=false" & if defined MAMBA_SSL_NO_REVOKE set "MB_T="
for %%B in (y yes true on 1) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=true"
for %%B in (n no false off 0) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=false"
if not defined MB_T (set "MB_VAL=MAMBA_SSL_NO_REVOKE=%MAMBA_SSL_NO_REVOKE%" & set "MB_MSG=is neither true nor false: set it to true or false" & goto :mb_fail)
set "MAMBA_SSL_NO_REVOKE=" & if "%MB_T%"=="true" set "MAMBA_SSL_NO_REVOKE=true"

rem The name as create checks it (pathrules), so that the target looked at below is create's.
if not defined MB_NAME_SET set "MB_NAME=py"
set "MB_VAL=%MB_NAME%" & set "MB_MSG=is not a valid environment name: one directory name, not a path" & if not defined MB_NAME goto :mb_fail
if not "%MB_NAME:\=%%MB_NAME:/=%"=="%MB_NAME%%MB_NAME%" goto :mb_fail
set "MB_MSG=ends in a dot or a space, which Windows drops from names" & for %%C in ("." " ") do if "%MB_NAME:~-1%"==%%C goto :mb_fail
set "MB_T=" & for /f "delims=." %%B in ("%MB_NAME%") do set "MB_T=%%B"
set "MB_MSG=is a reserved Windows device name" & for %%R in (CON PRN AUX NUL COM0 COM1 COM2 COM3 COM4 COM5 COM6 COM7 COM8 COM9 LPT0 LPT1 LPT2 LPT3 LPT4 LPT5 LPT6 LPT7 LPT8 LPT9 CONIN$ CONOUT$) do if /i "%MB_T%"=="%%R" goto :mb_fail
set "MB_ENVNAME=%MB_NAME%" & set "MB_T=%MB_PYTHON%" & set "MB_VAL=%MB_PYTHON%"
set "MB_MSG=is not a version; give one like 3.12 or 3.12.4" & if defined MB_PYTHON call :mb_is_version
if defined MB_PYTHON if errorlevel 1 goto :mb_fail
if defined MB_PYTHON set "MB_ENVNAME=%MB_NAME%_%MB_PYTHON:.=_%"

rem create, told only a --envs-dir given, resolves PY_ENVS itself (and refuses one naming no directory).
set "MB_GIVEN_ENVS=%MB_ENVS%" & if not defined MB_ENVS set "MB_ENVS=%PY_ENVS%"
if defined MB_ENVS goto :mb_envs_found
set "MB_ENVS=%MB_CWD:~0,2%\dev\Anaconda\envs"
if exist "%MB_ENVS%\" goto :mb_envs_found
set "MB_ENVS=%MB_CWD%"
rem Never a default not meant: cmd starts a script from a share in Windows' directory, an elevated one in System32 (cmd /?); nor a share: a UNC %%CD%% (kept under DisableUNCCheck), a drive net use or pushd mapped, which "net use X:" names (ss64, PUSHD).
set "MB_VAL=" & set "MB_MSG=the current directory is Windows' own, where cmd.exe starts a script opened from a network share or as administrator; pass --envs-dir DIR or set PY_ENVS" & if defined SystemRoot for %%W in ("%SystemRoot%" "%SystemRoot%\System32") do if /i "%MB_CWD%"==%%W goto :mb_fail
set "MB_VAL=%MB_CWD%" & set "MB_MSG=is in OneDrive, which would upload every file of the environment and may keep only placeholders of them (Files On-Demand); pass --envs-dir DIR outside it, or set PY_ENVS" & set "MB_HIT="
for %%U in ("%OneDrive%" "%OneDriveCommercial%" "%OneDriveConsumer%") do (set "MB_UNDER=%%~U" & call :mb_is_under)
if defined MB_HIT goto :mb_fail
set "MB_MSG=is on your network home drive (HOMESHARE), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS" & if defined HOMESHARE if defined HOMEDRIVE if /i "%MB_CWD:~0,2%"=="%HOMEDRIVE%" goto :mb_fail
set "MB_MSG=is on a network share (a folder redirected there, as Downloads may be, or a drive mapped to one, as net use and pushd map them), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS" & if "%MB_CWD:~0,2%"=="\\" goto :mb_fail
"%MB_SYS32%\net.exe" use %MB_CWD:~0,2% >nul 2>nul
if not errorlevel 1 goto :mb_fail
:mb_envs_found
set "MB_T=%MB_ENVS%" & call :mb_full
set "MB_ENVS=%MB_T%"
if "%MB_ENVS:~-1%"=="\" (set "MB_PREFIX=%MB_ENVS%%MB_ENVNAME%") else set "MB_PREFIX=%MB_ENVS%\%MB_ENVNAME%"

rem Packages write the prefix into .bat files, where cmd.exe expands % and !; PATH splits at ;
rem (Microsoft Learn, "set"); no Windows name holds < > | ? * or a second : (pathrules.check_prefix).
set "MB_VAL=%MB_PREFIX%" & set "MB_MSG=is a prefix with a character packages or Windows cannot take (a percent sign, an exclamation mark, a semicolon, an angle bracket, a vertical bar, a question mark, an asterisk or a second colon); choose another path" & set "MB_T="
for /f "delims=%%!;<>|?*" %%X in ("%MB_PREFIX%") do set "MB_T=%%X"
if not "%MB_T%"=="%MB_PREFIX%" goto :mb_fail
set "MB_T=%MB_PREFIX:~2%"
if not "%MB_T::=%"=="%MB_T%" goto :mb_fail

rem The cache as create resolves it (common/locations.py): the target drive's CACHE if it exists, else the user's cache if
rem on that drive (or the target on a share) and all ASCII (micromamba fails on a character the ANSI code page lacks:
rem mamba-org/mamba#3097, #3228), else that CACHE; a relative USERPROFILE refused (common/host.py).
if defined MB_CACHE goto :mb_cache_found
set "MB_DRIVE=%MB_PREFIX:~0,2%" & set "MB_T="
if "%MB_DRIVE%"=="\\" for /f "tokens=1,2 delims=\" %%A in ("%MB_PREFIX%") do set "MB_DRIVE=\\%%A\%%B"
set "MB_CACHE=%MB_DRIVE%\CACHE" & set "MB_HD=#" & set "MB_SHARE=" & if defined HOMESHARE set "MB_HD=%HOMEDRIVE%"
for %%D in ("\\" "%MB_HD%") do if /i "%MB_DRIVE:~0,2%"==%%D set "MB_SHARE=1"
if exist "%MB_CACHE%\" goto :mb_cache_found
if defined LOCALAPPDATA set "MB_T=%LOCALAPPDATA%\mambaboot\Cache"
if defined MB_T call :mb_is_absolute
if defined MB_T if not errorlevel 1 goto :mb_user_cache
set "MB_T=%USERPROFILE%" & if not defined USERPROFILE set "MB_T=%HOMEDRIVE%%HOMEPATH%"
call :mb_is_absolute
if errorlevel 1 (set "MB_VAL=" & set "MB_MSG=USERPROFILE is not an absolute path: the cache would land in the current directory; set USERPROFILE to your home directory or pass --cache-dir DIR" & goto :mb_fail)
set "MB_T=%MB_T%\AppData\Local\mambaboot\Cache"
:mb_user_cache
rem All ASCII when FOR /F, splitting at every printable ASCII character, finds no token (ss64, FOR /F).
set "MB_X=" & for /f "delims=!#$%%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ " %%X in ("%MB_T%") do set "MB_X=1"
if defined MB_X goto :mb_cache_found
if /i "%MB_T:~0,2%"=="%MB_DRIVE%" set "MB_CACHE=%MB_T%"
if defined MB_SHARE for %%D in ("\\" "%MB_HD%") do if /i "%MB_T:~0,2%"==%%D set "MB_SHARE="
if defined MB_SHARE set "MB_CACHE=%MB_T%"
:mb_cache_found
set "MB_T=%MB_CACHE%" & call :mb_full
set "MB_CACHE=%MB_T%"

rem CONDA_PKGS_DIRS, comma-separated, is the YAML list "[VALUE]" to libmamba (configuration_impl.hpp).
set "MB_LIST=" & set "MB_AS_C=" & set "MB_REST=%CONDA_PKGS_DIRS%"
call :mb_each
set "MB_PKGS=%MB_LIST%" & if not defined MB_PKGS set "MB_PKGS=%MB_CACHE%\Python\pkgs"
set "MB_VAL=%MB_PKGS%" & set "MB_MSG=holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS" & set "MB_T="
for /f "delims=[]{}#" %%X in ("%MB_PKGS%") do set "MB_T=%%X"
if not "%MB_T%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:: =%"=="%MB_PKGS%" goto :mb_fail
rem The private Python's channels are the environment's: -c, else MAMBABOOT_CHANNELS, else conda-forge.
set "MB_LIST=" & set "MB_AS_C=1" & set "MB_REST=%MAMBABOOT_CHANNELS%" & set MB_MMCH=%MB_CHARGS%
if not defined MB_MMCH call :mb_each
if not defined MB_MMCH set MB_MMCH=%MB_LIST%
if not defined MB_MMCH set MB_MMCH= -c "conda-forge"

set "MB_MSG=is not a sha256 hex digest" & set "MB_VAL=%MB_MM_SHA%" & set "MB_D=%MB_MM_SHA%" & call :mb_is_digest
if errorlevel 1 goto :mb_fail
set "MB_MM_SHA=%MB_D%" & set "MB_VAL=%MB_ZIPAPP_SHA%" & set "MB_D=%MB_ZIPAPP_SHA%" & call :mb_is_digest
if errorlevel 1 goto :mb_fail
set "MB_ZIPAPP_SHA=%MB_D%"

rem The machine's processor is PROCESSOR_ARCHITEW6432 to a 32-bit cmd (Microsoft Learn, "WOW64 Implementation Details").
set "MB_ARCH=%PROCESSOR_ARCHITECTURE%" & set "MB_SUBDIR="
if defined PROCESSOR_ARCHITEW6432 set "MB_ARCH=%PROCESSOR_ARCHITEW6432%"
if /i "%MB_ARCH%"=="AMD64" set "MB_SUBDIR=win-64"
if /i not "%MB_ARCH%"=="ARM64" goto :mb_arch_known
rem ARM64: conda-forge's win-arm64 has conda for Python 3.14 only (conda/conda#15448): win-64 under Windows 11's x64
rem emulation (build 22000 on; Microsoft Learn, "How emulation works on Arm"), the build being ver's third number
rem ("[Version 10.0.22631.4460]"); create takes the processor it is told.
set "MB_T=" & set "MB_B=0"
for /f "delims=" %%L in ('ver') do set "MB_T=%%L"
if defined MB_T for /f "tokens=3 delims=.]" %%B in ("%MB_T%") do set "MB_B=%%B"
for /f "delims=0123456789" %%X in ("%MB_B%") do set "MB_B=0"
if %MB_B% lss 22000 (set "MB_VAL=" & set "MB_RC=5" & set "MB_MSG=ARM64 Windows 10 runs no x64 program, and mambaboot makes no win-arm64 environment (conda-forge builds conda there for Python 3.14 only: conda/conda#15448); use Windows 11 or an x64 machine" & goto :mb_fail)
echo bootstrap: ARM64: using win-64 (x64) under Windows 11's x64 emulation: conda-forge builds conda for win-arm64 for Python 3.14 only (conda/conda#15448) 1>&2
set "MB_SUBDIR=win-64" & set "PROCESSOR_ARCHITECTURE=AMD64" & set "PROCESSOR_ARCHITEW6432="
:mb_arch_known
set "MB_KIND=local"
if defined MB_MM_PATH goto :mb_source_done
if not defined MB_SUBDIR (set "MB_VAL=%MB_ARCH%" & set "MB_RC=5" & set "MB_MSG=is a processor micromamba has no Windows build for (win-64 is for AMD64, and for ARM64 under Windows 11); pass --micromamba PATH to a micromamba.exe that runs here" & goto :mb_fail)
set "MB_KIND=mirror" & set "MB_URL=%MB_MM_URL%" & set "MB_U=%MB_MM_URL%" & set "MB_UOPT=--micromamba-url"
if defined MB_MM_URL goto :mb_source_url
set "MB_KIND=release" & set "MB_VERSION=%MB_MM_VERSION%" & set "MB_BASE=%MAMBABOOT_RELEASES_URL%"
if not defined MB_VERSION set "MB_VERSION=%MB_PINNED%"
if not defined MB_BASE set "MB_BASE=%MB_RELEASES%"
:mb_base_trim
if "%MB_BASE:~-1%"=="/" (set "MB_BASE=%MB_BASE:~0,-1%" & goto :mb_base_trim)
set "MB_URL=%MB_BASE%/latest/download/micromamba-%MB_SUBDIR%"
if "%MB_VERSION%"=="latest" goto :mb_release_url
rem A version that names no release is the server's HTTP error (curl's exit 22), said as one.
set "MB_X="
for /f "delims=0123456789.-" %%X in ("%MB_VERSION%") do set "MB_X=1"
if defined MB_X (set "MB_VAL=%MB_VERSION%" & set "MB_MSG=is not like 2.8.1, 2.8.1-0 or latest" & goto :mb_fail)
if "%MB_VERSION:-=%"=="%MB_VERSION%" set "MB_VERSION=%MB_VERSION%-0"
set "MB_URL=%MB_BASE%/download/%MB_VERSION%/micromamba-%MB_SUBDIR%"
:mb_release_url
set "MB_UOPT=MAMBABOOT_RELEASES_URL" & set "MB_U=%MB_BASE%"
:mb_source_url
call :mb_check_url
if errorlevel 1 goto :mb_fail
:mb_source_done

rem Without --zipapp: the one beside this script, else its release's, checked against SHA256SUMS.
if defined MB_ZIPAPP goto :mb_zipapp_named
set "MB_ZIPAPP=%MB_SELF%mambaboot.pyz"
if exist "%MB_ZIPAPP%" goto :mb_zipapp_named
if not defined MB_RELEASE goto :mb_zipapp_named
set "MB_UOPT=the release this script names" & set "MB_U=%MB_RELEASE%"
call :mb_check_url
if errorlevel 1 goto :mb_fail
set "MB_SUMS=%MB_RELEASE%/SHA256SUMS" & set "MB_ZIPAPP=%MB_RELEASE%/mambaboot.pyz"
:mb_zipapp_named
set "MB_ZIPAPP_URL=" & set "MB_UOPT=--zipapp" & if not "%MB_ZIPAPP:://=%"=="%MB_ZIPAPP%" set "MB_ZIPAPP_URL=%MB_ZIPAPP%"
set "MB_U=%MB_ZIPAPP_URL%"
if defined MB_ZIPAPP_URL call :mb_check_url
if defined MB_ZIPAPP_URL if errorlevel 1 goto :mb_fail
if defined MB_ZIPAPP_URL goto :mb_zipapp_checked
if not exist "%MB_ZIPAPP%" (set "MB_VAL=%MB_ZIPAPP%" & set "MB_MSG=is not there: put mambaboot.pyz beside this script, or pass --zipapp PATH-OR-URL" & goto :mb_fail)
set "MB_T=%MB_ZIPAPP%" & call :mb_full
set "MB_ZIPAPP=%MB_T%"
:mb_zipapp_checked

for %%V in (CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV) do if defined %%V set "MB_FOUND=1"
if not defined MB_FOUND goto :mb_shell_clean
echo bootstrap: error: this shell already has a Python environment in it: 1>&2
for %%V in (CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV) do if defined %%V set %%V>&2
echo open a clean shell (or deactivate it) 1>&2
exit /b 3
:mb_shell_clean
echo shell: clean 1>&2

rem By looking only, before any download, what create would surely refuse (exit 4); the rest is create's.
set "MB_RC=4" & set "MB_VAL=%MB_PREFIX%" & set "MB_ATTR="
if exist "%MB_PREFIX%" for %%A in ("%MB_PREFIX%") do set "MB_ATTR=%%~aA"
if not defined MB_ATTR echo target: "%MB_PREFIX%" does not exist yet 1>&2
if not defined MB_ATTR goto :mb_target_ok
set "MB_MSG=is not a directory; nothing was changed" & if not "%MB_ATTR:~0,1%"=="d" goto :mb_fail
set "MB_MSG=holds an environment mambaboot manages; use mambaboot create --force to replace it" & if exist "%MB_PREFIX%\.mambaboot\record.json" goto :mb_fail
echo target: "%MB_PREFIX%" is a directory; create checks it under the place's lock 1>&2
:mb_target_ok

rem Writes from here: CACHE\tmp\mambaboot-tmp-TOKEN-bootstrap, named as tempname.py names a run's, for
rem "cache clean" and "doctor"; mkdir fails on one that exists. Downloads land here, verified first.
set "MB_VAL=%MB_CACHE%\tmp" & set "MB_MSG=cannot be written, or had no free name for this run's work directory in 20 tries" & set "MB_TRIES=0"
if not exist "%MB_CACHE%\tmp\" mkdir "%MB_CACHE%\tmp" 2>nul
:mb_work_next
set /a MB_TRIES+=1
if %MB_TRIES% gtr 20 goto :mb_fail
call :mb_token
mkdir "%MB_CACHE%\tmp\mambaboot-tmp-%MB_TOKEN%-bootstrap" 2>nul
if errorlevel 1 goto :mb_work_next
set "MB_TMPDIR=%MB_CACHE%\tmp\mambaboot-tmp-%MB_TOKEN%-bootstrap"
> "%MB_TMPDIR%\.mambaboot-home" echo a work directory mambaboot made for one run; deleted after it
set "MB_HOME=%MB_TMPDIR%\home"
mkdir "%MB_HOME%\tmp"

set "MB_RC=5" & set "MB_VAL=" & if not defined MB_ZIPAPP_URL goto :mb_zipapp_ready
set "MB_U=%MB_ZIPAPP_URL%" & set "MB_EXPECT=%MB_ZIPAPP_SHA%"
if not defined MB_EXPECT call :mb_digest
if not defined MB_EXPECT goto :mb_fail
set "MB_ZIPAPP=%MB_CACHE%\zipapp\%MB_EXPECT:~0,16%\mambaboot.pyz"
set "MB_F=%MB_ZIPAPP%" & call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
:mb_zipapp_ready

rem micromamba in create's cache layout: a pinned release's directory keeps its digest; a moving URL's is named by digests.
if not "%MB_KIND%"=="local" goto :mb_download
set "MB_T=%MB_MM_PATH%" & call :mb_full
set "MB_BIN=%MB_T%" & set "MB_F=%MB_T%" & set "MB_HOW=given"
if not exist "%MB_BIN%" (set "MB_VAL=%MB_BIN%" & set "MB_MSG=is not there (micromamba)" & goto :mb_fail)
call :mb_sha256
if errorlevel 1 goto :mb_fail
set "MB_SHA=%MB_GOT%"
if defined MB_MM_SHA if /i not "%MB_SHA%"=="%MB_MM_SHA%" (set "MB_MSG=does not have the expected sha256 %MB_MM_SHA% but %MB_SHA%" & goto :mb_fail)
goto :mb_have_binary
:mb_download
set "MB_EXPECT=%MB_MM_SHA%" & set "MB_SUMS=" & set "MB_NOTES=" & set "MB_U=%MB_URL%"
if "%MB_KIND%"=="release" if not "%MB_VERSION%"=="latest" set "MB_NOTES=%MB_CACHE%\micromamba\%MB_VERSION%-%MB_SUBDIR%"
if defined MB_NOTES if not defined MB_EXPECT if exist "%MB_NOTES%\sha256" for /f "usebackq tokens=1" %%D in ("%MB_NOTES%\sha256") do set "MB_EXPECT=%%D"
if not defined MB_EXPECT call :mb_digest
if not defined MB_EXPECT goto :mb_fail
set "MB_SHA=%MB_EXPECT%"
if defined MB_NOTES goto :mb_notes_known
<nul set /p "=%MB_URL%" > "%MB_TMPDIR%\url.txt"
set "MB_F=%MB_TMPDIR%\url.txt" & call :mb_sha256
if errorlevel 1 goto :mb_fail
set "MB_NOTES=%MB_CACHE%\micromamba\%MB_KIND%-%MB_GOT:~0,12%-%MB_SHA:~0,16%"
:mb_notes_known
set "MB_BIN=%MB_NOTES%\micromamba.exe"
set "MB_F=%MB_BIN%" & call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
if "%MB_HOW%"=="cached" goto :mb_have_binary
<nul set /p "=%MB_SHA%" > "%MB_TMPDIR%\sha256"
move /y "%MB_TMPDIR%\sha256" "%MB_NOTES%\sha256" >nul
:mb_have_binary
echo micromamba: "%MB_BIN%" (%MB_HOW%, sha256 %MB_SHA:~0,12%) 1>&2

rem The private Python: the user's version (create finds it cached), but 3.12 for one below 3.9.
set "MB_SPEC_PY=python" & set "MB_T=3" & set "MB_X=99" & if defined MB_PYTHON set "MB_SPEC_PY=python=%MB_PYTHON%"
if defined MB_PYTHON for /f "tokens=1,2 delims=." %%A in ("%MB_PYTHON%") do (set "MB_T=%%A" & if not "%%B"=="" set "MB_X=%%B")
if %MB_T%==3 if %MB_X% lss 9 set "MB_T=2"
if %MB_T% lss 3 (set "MB_SPEC_PY=python=3.12" & echo python: mambaboot runs on Python 3.9 or later: its private Python is 3.12, the environment's %MB_PYTHON% 1>&2)
rem The root prefix is private; shortcuts off (menuinst ignores the private APPDATA): engine\micromamba.py.
set MB_RUN_ARGS=create --yes --no-rc --override-channels%MB_MMCH% --prefix "%MB_TMPDIR%\python" --root-prefix "%MB_HOME%\root" --no-shortcuts --lock-timeout 600 "%MB_SPEC_PY%"
call :mb_sandboxed
set "MB_ENGINE_RC=%ERRORLEVEL%"
rem create runs where the user started this; Wine's endlocal goes back to the last pushd's directory.
cd /d "%MB_CWD%" & if "%MB_ENGINE_RC%"=="0" goto :mb_engine_done
type "%MB_TMPDIR%\micromamba.txt" 1>&2 & set "MB_RC=6" & set "MB_VAL=" & set "MB_MSG=micromamba create failed (exit %MB_ENGINE_RC%) making this run's private Python; nothing else was changed"
rem micromamba's Schannel checks revocation (mamba-org/mamba#2751, #3346) against Windows' store, which a CA file replaces (curl#3727).
set "MB_MSG2=if it could not reach the channel: %MB_PROXY_HINT%"
set "MB_MSG3=if it failed on a certificate: behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation); if its certificate is not trusted, have the company's root certificate put in Windows' certificate store, which micromamba checks against (MAMBA_SSL_VERIFY=PATH of a CA bundle replaces that store, it does not add to it)"
rem A solve that failed is no network's doing (libmamba's words: "Could not solve for environment specs").
"%MB_SYS32%\find.exe" "Could not solve" "%MB_TMPDIR%\micromamba.txt" >nul 2>nul
if not errorlevel 1 (set "MB_MSG2=micromamba found no package for the Python asked for in the channels given, which is no network fault: check PY_VERSION and -c" & set "MB_MSG3=")
set "MB_CODE=%MB_ENGINE_RC%" & set "MB_WHAT=micromamba.exe" & call :mb_blocked
goto :mb_fail
:mb_engine_done
set "MB_RC=7" & set "MB_VAL=%MB_TMPDIR%\python\python.exe" & set "MB_MSG=is missing although micromamba finished" & if not exist "%MB_TMPDIR%\python\python.exe" goto :mb_fail
rmdir /s /q "%MB_HOME%"

set "MB_Q=%MB_CACHE%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
set MB_CREATE="%MB_NAME%" --cache-dir "%MB_Q%"
set "MB_Q=%MB_ENVS%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
if defined MB_GIVEN_ENVS set MB_CREATE=%MB_CREATE% --envs-dir "%MB_Q%"
if defined MB_PYTHON set MB_CREATE=%MB_CREATE% --python "%MB_PYTHON%"
rem Hand-over, a line expanded before it runs: the script's variables are gone when python starts.
> "%MB_TMPDIR%\names.txt" set MB_
setlocal
(for /f "usebackq delims==" %%V in ("%MB_TMPDIR%\names.txt") do set "%%V=") & "%MB_TMPDIR%\python\python.exe" -I "%MB_ZIPAPP%" create %MB_CREATE%%MB_CHARGS%%MB_PKGARGS%%MB_GIVEN% --micromamba "%MB_BIN%" --micromamba-sha256 "%MB_SHA%"
endlocal & set "MB_RC=%ERRORLEVEL%"
set "MB_MSG2=" & set "MB_WHAT=the private python.exe"
set "MB_CODE=%MB_RC%" & call :mb_blocked
if defined MB_MSG2 (set "MB_VAL=" & set "MB_MSG=the private Python could not run" & set "MB_RC=5" & goto :mb_fail)
if not "%MB_RC%"=="0" (rmdir /s /q "%MB_TMPDIR%" & exit /b %MB_RC%)
echo next: call "%MB_PREFIX%\.mambaboot\activate.bat" 1>&2
rem PowerShell ends '...' at five quotes, four outside this ASCII script (about_Quoting_Rules): mambaboot's powershell.line says it.
"%MB_TMPDIR%\python\python.exe" -I -X utf8 -c "import sys; sys.path.insert(0, sys.argv[1]); from mambaboot.shell.activation.powershell import line; sys.stderr.write('next in PowerShell: ' + line(sys.argv[2]) + chr(10))" "%MB_ZIPAPP%" "%MB_PREFIX%" & rmdir /s /q "%MB_TMPDIR%"
exit /b 0

:mb_fail
rem The one way out on errors; messages on lines of their own (after an IF, a ( can open a block).
if not defined MB_VAL goto :mb_fail_plain
call :mb_shown
echo bootstrap: error: "%MB_VAL%" %MB_MSG% 1>&2
goto :mb_fail_details
:mb_fail_plain
echo bootstrap: error: %MB_MSG% 1>&2
:mb_fail_details
if not defined MB_MSG2 goto :mb_fail_cleanup
echo   %MB_MSG2% 1>&2
if not defined MB_MSG3 goto :mb_fail_cleanup
echo   %MB_MSG3% 1>&2
:mb_fail_cleanup
if defined MB_TMPDIR if exist "%MB_TMPDIR%\" rmdir /s /q "%MB_TMPDIR%"
exit /b %MB_RC%

:mb_shown
rem MB_VAL with a URL's user:password before its host (the authority's first @) shown as ***@ (urlrule.py).
set "MB_R=%MB_VAL:*://=%" & set "MB_Y="
if not "%MB_R%"=="%MB_VAL%" for /f "tokens=1 delims=/?#" %%H in ("%MB_R%") do set "MB_Y=%%H"
if defined MB_Y if not "%MB_Y:@=%"=="%MB_Y%" for /f "delims=:" %%S in ("%MB_VAL%") do set "MB_VAL=%%S://***@%MB_R:*@=%"
exit /b 0

:mb_token
rem MB_TOKEN: 32 hex digits from %%RANDOM%%, after skipping the clock's hundredths (cmd seeds it per second).
set "MB_N=%TIME:~-2%"
if "%MB_N:~0,1%"=="0" set "MB_N=%MB_N:~1%"
for /l %%I in (0,1,%MB_N%) do call :mb_token_digit
set "MB_TOKEN=" & for /l %%I in (1,1,32) do call :mb_token_digit
exit /b 0
:mb_token_digit
set /a "MB_N=%RANDOM% %% 16" & set "MB_X=0123456789abcdef"
call set "MB_D=%%MB_X:~%MB_N%,1%%"
set "MB_TOKEN=%MB_TOKEN%%MB_D%"
exit /b 0

:mb_is_absolute
rem MB_T starts from a root: a drive's (C:\ or C:/), a UNC share or the current drive's (\ or /).
set "MB_X=" & for %%R in ("%MB_T:~1,2%" "%MB_T:~0,1%") do for %%S in (":\" ":/" "\" "/") do if %%R==%%S set "MB_X=1"
if defined MB_X exit /b 0
exit /b 1

:mb_is_under
rem MB_HIT set when MB_CWD is MB_UNDER or a directory under it (never a sibling that only starts alike).
if not defined MB_UNDER exit /b 0
if "%MB_UNDER:~-1%"=="\" set "MB_UNDER=%MB_UNDER:~0,-1%"
set "MB_X=" & call set "MB_X=%%MB_CWD:*%MB_UNDER%\=%%"
if /i "%MB_CWD%"=="%MB_UNDER%" set "MB_HIT=1"
if /i "%MB_UNDER%\%MB_X%"=="%MB_CWD%" set "MB_HIT=1"
exit /b 0

:mb_full
rem MB_T: made absolute against the current directory, without a trailing \ (but C:\ stays).
for %%I in ("%MB_T%") do set "MB_T=%%~fI"
if not "%MB_T:~-1%"=="\" exit /b 0
if not "%MB_T:~-2%"==":\" set "MB_T=%MB_T:~0,-1%"
exit /b 0

:mb_each
rem MB_REST's comma-separated entries, trimmed, onto MB_LIST: -c "CHANNEL" with MB_AS_C, else absolute, by commas.
if not defined MB_REST exit /b 0
set "MB_E=" & set "MB_T="
for /f "tokens=1* delims=," %%A in ("%MB_REST%") do (set "MB_E=%%A" & set "MB_REST=%%B")
if not defined MB_E exit /b 0
for /f "tokens=* delims= " %%T in ("%MB_E%") do set "MB_T=%%T"
if not defined MB_T goto :mb_each
:mb_each_trim
if "%MB_T:~-1%"==" " (set "MB_T=%MB_T:~0,-1%" & goto :mb_each_trim)
if defined MB_AS_C if "%MB_T:~-1%"=="\" set "MB_T=%MB_T%\"
if defined MB_AS_C set MB_LIST=%MB_LIST% -c "%MB_T%"
if defined MB_AS_C goto :mb_each
call :mb_full
if defined MB_LIST (set "MB_LIST=%MB_LIST%,%MB_T%") else set "MB_LIST=%MB_T%"
goto :mb_each

:mb_is_number
rem MB_T is a whole number of 1 to 18 digits (:mb_curl compares sizes as 20).
rem A character not in delims makes FOR /F find a token (ss64, FOR /F): so in the checks below.
set "MB_X="
for /f "delims=0123456789" %%X in ("%MB_T%") do set "MB_X=1"
if defined MB_X exit /b 1
if "%MB_T:~0,1%"=="0" exit /b 1
if not "%MB_T:~0,18%"=="%MB_T%" exit /b 1
exit /b 0

:mb_is_version
rem MB_T is a version of 1 to 3 dot-separated numbers.
set "MB_X="
for /f "delims=0123456789." %%X in ("%MB_T%") do set "MB_X=1"
for %%C in ("%MB_T:~0,1%" "%MB_T:~-1%") do if %%C=="." set "MB_X=1"
if not "%MB_T:..=%"=="%MB_T%" exit /b 1
for /f "tokens=4 delims=." %%X in ("%MB_T%") do set "MB_X=1"
if defined MB_X exit /b 1
exit /b 0

:mb_is_digest
rem MB_D: 64 hex digits, made lowercase (the form create compares and names directories by); or none.
set "MB_X=" & if not defined MB_D exit /b 0
for /f "delims=0123456789abcdefABCDEF" %%X in ("%MB_D%") do set "MB_X=1"
if defined MB_X exit /b 1
if "%MB_D:~63,1%"=="" exit /b 1
if not "%MB_D:~64%"=="" exit /b 1
for %%L in (a b c d e f) do call set "MB_D=%%MB_D:%%L=%%L%%"
exit /b 0

:mb_blocked
rem MB_MSG2 set when MB_CODE is what cmd sets failing to start a program Windows blocks, after its words ("This program is
rem blocked by group policy..."): AppLocker or SRP (1260), an antivirus (225), App Control or Smart App Control (4551: no folder helps, Microsoft Support, "Smart App Control"; winsys.py's words): Microsoft Learn, "System Error Codes".
for %%C in (1260 225) do if "%MB_CODE%"=="%%C" set "MB_MSG2=Windows refused to start %MB_WHAT% (exit %%C; its words above): a policy (AppLocker, Software Restriction Policies) or an antivirus blocks it there; ask your administrator which folders may run programs, and pass one as --cache-dir (and --micromamba PATH)"
if "%MB_CODE%"=="4551" set "MB_MSG2=Windows refused to start %MB_WHAT% (exit 4551; its words above): an App Control policy or Smart App Control blocks it. Under an App Control policy, ask your administrator which folders may run programs, and pass one as --cache-dir (and --micromamba PATH). Smart App Control (Windows 11's, in Windows Security: App and browser control) refuses a program that is unsigned and unknown to Microsoft's reputation service in every folder, so no folder helps; whether it is on is your choice there"
for %%C in (1260 4551 225) do if "%MB_CODE%"=="%%C" set "MB_MSG3="
exit /b 0

:mb_check_url
rem MB_U given by MB_UOPT: https:// or file://, or http:// to loopback or with --allow-http (urlrule.py).
set "MB_VAL=%MB_U%" & set "MB_MSG=(%MB_UOPT%) is not an https:// URL" & set "MB_HOST="
if /i "%MB_U:~0,8%"=="https://" exit /b 0
if /i "%MB_U:~0,7%"=="file://" exit /b 0
if /i not "%MB_U:~0,7%"=="http://" exit /b 1
if defined MB_ALLOW_HTTP exit /b 0
for /f "tokens=1 delims=/" %%H in ("%MB_U:~7%") do set "MB_HOST=%%H"
if defined MB_HOST set "MB_HOST=%MB_HOST:*@=%"
if "%MB_HOST:~0,5%"=="[::1]" exit /b 0
for /f "tokens=1 delims=:" %%H in ("%MB_HOST%") do set "MB_HOST=%%H"
if /i "%MB_HOST%"=="localhost" exit /b 0
if "%MB_HOST%"=="127.0.0.1" exit /b 0
set "MB_MSG=(%MB_UOPT%) uses plain http; use https, or pass --allow-http if you trust the network"
exit /b 1

:mb_sha256
rem MB_F -> MB_GOT, its sha256 as certutil computes it (lowercase, without the spaces of old Windows).
set "MB_GOT=" & set "MB_MSG2=" & set "MB_WHAT=certutil.exe"
"%MB_SYS32%\certutil.exe" -hashfile "%MB_F%" SHA256 > "%MB_TMPDIR%\hash.txt"
set "MB_CODE=%ERRORLEVEL%"
call :mb_blocked
if "%MB_CODE%"=="0" for /f "usebackq skip=1 delims=" %%H in ("%MB_TMPDIR%\hash.txt") do if not defined MB_GOT set "MB_GOT=%%H"
if defined MB_GOT set "MB_D=%MB_GOT: =%"
if defined MB_GOT call :mb_is_digest
if defined MB_GOT if not errorlevel 1 (set "MB_GOT=%MB_D%" & exit /b 0)
set "MB_GOT=" & set "MB_VAL=%MB_F%" & set "MB_MSG=could not be hashed with certutil -hashfile" & exit /b 5

:mb_digest
rem MB_U -> MB_EXPECT: MB_SUMS's digest for exactly mambaboot.pyz (sha256sum's "DIGEST  NAME", binary "DIGEST *NAME"), else MB_U.sha256's first word.
set "MB_NAME_OUT=digest.txt" & set "MB_CURL_URL=%MB_U%.sha256" & set "MB_MSG=could not be read: without the published digest the download cannot be verified"
if defined MB_SUMS (set "MB_CURL_URL=%MB_SUMS%" & set "MB_MSG=could not be read: without it mambaboot.pyz cannot be verified")
set "MB_VAL=%MB_CURL_URL%" & set "MB_D="
call :mb_curl
if errorlevel 1 goto :mb_digest_failed
if not defined MB_SUMS for /f "usebackq tokens=1" %%D in ("%MB_TMPDIR%\digest.txt") do if not defined MB_D set "MB_D=%%D"
if defined MB_SUMS for /f "usebackq tokens=1,2" %%D in ("%MB_TMPDIR%\digest.txt") do if not defined MB_D if "%%E"=="mambaboot.pyz" set "MB_D=%%D"
if defined MB_SUMS for /f "usebackq tokens=1,2" %%D in ("%MB_TMPDIR%\digest.txt") do if not defined MB_D if "%%E"=="*mambaboot.pyz" set "MB_D=%%D"
set "MB_MSG=does not hold a sha256 digest" & if defined MB_SUMS set "MB_MSG=has no sha256 line for mambaboot.pyz: it cannot be verified"
if not defined MB_D exit /b 5
call :mb_is_digest
if errorlevel 1 exit /b 5
set "MB_EXPECT=%MB_D%" & exit /b 0
:mb_digest_failed
if defined MB_SUMS exit /b 5
if "%MB_CURL_RC%"=="22" set "MB_MSG3=pass --micromamba-sha256 HEX or --zipapp-sha256 HEX if you know the digest"
exit /b 5

:mb_fetch_verified
rem MB_U -> MB_F if its sha256 is MB_EXPECT: a copy with it is kept; else downloaded here, verified, renamed.
set "MB_HOW=cached" & set "MB_KEEP=%MB_F%" & set "MB_GOT=" & if exist "%MB_F%" call :mb_sha256
if /i "%MB_GOT%"=="%MB_EXPECT%" exit /b 0
set "MB_HOW=downloaded" & set "MB_VAL=%MB_U%" & set "MB_MSG=could not be downloaded" & set "MB_CURL_URL=%MB_U%"
for %%F in ("%MB_F%") do (set "MB_NAME_OUT=%%~nxF" & if not exist "%%~dpF" mkdir "%%~dpF")
call :mb_curl
if errorlevel 1 exit /b 5
set "MB_F=%MB_TMPDIR%\%MB_NAME_OUT%" & call :mb_sha256
if errorlevel 1 (set "MB_F=%MB_KEEP%" & exit /b 5)
set "MB_F=%MB_KEEP%" & set "MB_VAL=%MB_U%" & set "MB_MSG=does not match its published digest:"
set "MB_MSG2=expected sha256 %MB_EXPECT%" & set "MB_MSG3=downloaded      %MB_GOT% (nothing was kept)"
if /i not "%MB_GOT%"=="%MB_EXPECT%" exit /b 5
rem A program holding the old file open (an antivirus scanning it) makes MoveFileEx refuse.
set "MB_VAL=%MB_F%" & set "MB_MSG3=" & set "MB_MSG=could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied"
set "MB_MSG2=wait for the scan to end or close that program, then run this again"
move /y "%MB_TMPDIR%\%MB_NAME_OUT%" "%MB_F%" >nul
if errorlevel 1 exit /b 5
set "MB_MSG2=" & exit /b 0

:mb_curl
rem MB_CURL_URL -> MB_TMPDIR\MB_NAME_OUT, MB_MSG2 saying what to do on failure. -o is relative: a curl.exe built without
rem Unicode file names opens it in the ANSI code page. Every redirect stays https (urlrule.py). Schannel fails with exit 35
rem where revocation servers cannot be reached, as behind a TLS-inspecting proxy (curl issues 3727, 12239, 14315).
set "MB_REDIR==https" & set "MB_NOREVOKE="
if defined MB_ALLOW_HTTP set "MB_REDIR==http,https"
if defined MAMBA_SSL_NO_REVOKE set "MB_NOREVOKE= --ssl-no-revoke"
set "MB_MSG2=%MB_SYS32%\curl.exe is not there (Windows 10 1803 and later ship it); pass --micromamba PATH"
if not exist "%MB_SYS32%\curl.exe" exit /b 5
rem Bounded as mambaboot bounds a download: seconds to connect, seconds per attempt, after which no retry starts (exit 28),
rem bytes (--max-filesize: exit 63). A curl.exe before 8.4.0 lets a body without Content-Length pass --max-filesize (curl's
rem manual): the size that arrived refuses it then, as 63, compared as 20 digits (cmd's numbers are 32-bit).
pushd "%MB_TMPDIR%"
"%MB_SYS32%\curl.exe" -fsSL%MB_NOREVOKE% --retry 3 --connect-timeout %MB_CONNECT% --max-time %MB_DEADLINE% --retry-max-time %MB_DEADLINE% --max-filesize %MB_MAX_BYTES% --max-redirs 10 --proto-redir %MB_REDIR% -w "%%{http_code} %%{http_connect}\n" -o "%MB_NAME_OUT%" "%MB_CURL_URL%" > status.txt
set "MB_CURL_RC=%ERRORLEVEL%"
set "MB_STATUS=000" & set "MB_TUNNEL=000" & if exist status.txt for /f "usebackq tokens=1,2" %%A in ("status.txt") do (set "MB_STATUS=%%A" & set "MB_TUNNEL=%%B")
set "MB_SIZE=0" & if exist "%MB_NAME_OUT%" for %%F in ("%MB_NAME_OUT%") do set "MB_SIZE=%%~zF"
popd
set "MB_X=00000000000000000000%MB_SIZE%" & set "MB_Y=00000000000000000000%MB_MAX_BYTES%" & set "MB_MSG2="
if "%MB_X:~-20%" gtr "%MB_Y:~-20%" set "MB_CURL_RC=63"
if "%MB_CURL_RC%"=="0" exit /b 0
if exist "%MB_TMPDIR%\%MB_NAME_OUT%" del /f /q "%MB_TMPDIR%\%MB_NAME_OUT%"
set "MB_MSG2=it is larger than MAMBABOOT_HTTP_MAX_BYTES=%MB_MAX_BYTES% bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
if "%MB_CURL_RC%"=="63" exit /b 5
set "MB_MSG2=curl.exe failed with exit 28: no whole answer within MAMBABOOT_HTTP_DEADLINE=%MB_DEADLINE% seconds (MAMBABOOT_HTTP_TIMEOUT=%MB_CONNECT% seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
if "%MB_CURL_RC%"=="28" exit /b 5
rem curl.exe and libcurl take HTTPS_PROXY, else ALL_PROXY (curl's manual); libmamba never sets CURLOPT_PROXYAUTH (Basic only). A proxy refusing the tunnel: exit 56, its status in %%{http_connect} (curl's manual, --write-out), said in download.py PROXY_HINTS' words.
set "MB_MSG2=curl.exe failed with exit %MB_CURL_RC%; %MB_PROXY_HINT%"
if "%MB_TUNNEL%"=="403" set "MB_MSG2=curl.exe failed with exit %MB_CURL_RC%: the proxy answered HTTP 403 to its CONNECT; the proxy refused to reach that host, as a company web filter does for a host or a category it blocks: no password changes that; ask your network's administrators to allow the host, or get micromamba from a mirror you can reach with --micromamba-url"
if "%MB_TUNNEL%"=="407" set "MB_MSG2=curl.exe failed with exit %MB_CURL_RC%: the proxy answered HTTP 407 to its CONNECT; the proxy asks to be logged on to: give its user and password in HTTPS_PROXY, before its host (USER:PASSWORD@HOST:PORT); if it takes only your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
rem -f: exit 22 for every status from 400 (curl's manual, --fail); -w %%{http_code} says which: status_hint's advice.
set "MB_X=curl.exe failed with exit 22: the server answered HTTP %MB_STATUS%" & if not "%MB_CURL_RC%"=="22" goto :mb_curl_blocked
set "MB_MSG2=%MB_X%, an HTTP error, not the network: check --micromamba-version, --micromamba-url, --zipapp and MAMBABOOT_RELEASES_URL"
for %%S in (404 410) do if "%MB_STATUS%"=="%%S" set "MB_MSG2=%MB_X%: the server has no such file: check --micromamba-version and the address (--micromamba-url, --zipapp, MAMBABOOT_RELEASES_URL)"
for %%S in (401 403 407) do if "%MB_STATUS%"=="%%S" set "MB_MSG2=%MB_X%: the server or a proxy on the way refused it, as a company proxy or web filter does for a host it blocks: ask your network's administrators to allow the host (or for the proxy's user and password, given in HTTPS_PROXY), or get micromamba from a mirror you can reach with --micromamba-url"
set "MB_Y=%MB_STATUS%#" & if "%MB_STATUS%"=="429" set "MB_Y=5xx#"
if "%MB_Y:~0,1%%MB_Y:~3%"=="5#" set "MB_MSG2=%MB_X%: the server is busy or failing: try again later, or use a mirror (--micromamba-url, MAMBABOOT_RELEASES_URL)"
:mb_curl_blocked
if "%MB_CURL_RC%"=="35" set "MB_MSG2=curl.exe failed with exit 35 (the TLS handshake); behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation)"
set "MB_CODE=%MB_CURL_RC%" & set "MB_WHAT=curl.exe" & call :mb_blocked
exit /b 5

:mb_sandboxed
rem Run micromamba as create does, its output kept: every conda/mamba/python variable (isolation.py, CONDARC and MAMBARC too)
rem gone but what create carries (network.py SCRIPT_CARRIED), no other environment on PATH, a private home and temp
rem (libmamba reads credentials there: they go with it).
setlocal
if not defined NETRC for %%N in (.netrc _netrc) do if not defined NETRC if exist "%USERPROFILE%\%%N" set "NETRC=%USERPROFILE%\%%N"
if exist "%USERPROFILE%\.mamba\auth\authentication.json" mkdir "%MB_HOME%\.mamba\auth" 2>nul
if exist "%USERPROFILE%\.mamba\auth\authentication.json" copy /y "%USERPROFILE%\.mamba\auth\authentication.json" "%MB_HOME%\.mamba\auth\authentication.json" >nul
rem The names are read from a file the built-in set wrote, never by FOR /F over "set" (AutoRun: see the top).
set > "%MB_TMPDIR%\names.txt"
for /f "usebackq delims==" %%V in ("%MB_TMPDIR%\names.txt") do (set "MB_V=%%V" & call :mb_scrub)
set "CONDARC=" & set "MAMBARC="
call :mb_clean_path
for %%V in (HOME USERPROFILE) do set "%%V=%MB_HOME%"
set "HOMEDRIVE=%MB_HOME:~0,2%" & set "HOMEPATH=%MB_HOME:~2%"
set "APPDATA=%MB_HOME%\AppData\Roaming" & set "LOCALAPPDATA=%MB_HOME%\AppData\Local"
set "XDG_CONFIG_HOME=%MB_HOME%\.config" & set "XDG_CACHE_HOME=%MB_HOME%\.cache"
set "XDG_DATA_HOME=%MB_HOME%\.local\share" & set "XDG_STATE_HOME=%MB_HOME%\.local\state"
for %%V in (TMPDIR TEMP TMP) do set "%%V=%MB_HOME%\tmp"
set "CONDA_PKGS_DIRS=%MB_PKGS%"
"%MB_BIN%" %MB_RUN_ARGS% < nul > "%MB_TMPDIR%\micromamba.txt" 2>&1
exit /b %ERRORLEVEL%

:mb_scrub
set "MB_X=" & set "MB_Y=" & for %%K in (MAMBA_SSL_VERIFY MAMBA_CACERT_PATH MAMBA_SSL_NO_REVOKE MAMBA_CHANNEL_ALIAS) do if /i "%MB_V%"=="%%K" set "MB_X=1"
if /i "%MB_V:~0,15%"=="CONDA_OVERRIDE_" set "MB_X=1"
for %%P in ("%MB_V:~0,4%" "%MB_V:~0,6%" "%MB_V:~0,7%" "%MB_V:~0,11%") do for %%S in (CONDA_ MAMBA_ PYTHON _CE_ __CONDA VIRTUAL_ENV _MAMBABOOT_) do if /i %%P=="%%S" set "MB_Y=1"
if defined MB_Y if not defined MB_X set "%MB_V%="
exit /b 0

:mb_clean_path
rem PATH without the entries of a Python environment: a root, or one joined with isolation._ENV_SUBDIRS.
set "MB_REST=%PATH:"=%" & set "MB_CLEAN="
:mb_clean_next
if not defined MB_REST goto :mb_clean_done
set "MB_E="
rem eol=| (no path holds one): the default eol ; reads a PATH starting with ; as a comment, leaving none (for /?).
for /f "eol=| tokens=1* delims=;" %%A in ("%MB_REST%") do (set "MB_E=%%A" & set "MB_REST=%%B")
if not defined MB_E goto :mb_clean_done
set "MB_T=%MB_E%" & set "MB_HIT=" & call :mb_full
set "MB_ROOT=%MB_T%" & set "MB_P=%MB_T%\" & call :mb_env_root
for %%L in (1 2 3) do call :mb_env_up
if defined MB_HIT goto :mb_clean_next
if defined MB_CLEAN (set "MB_CLEAN=%MB_CLEAN%;%MB_E%") else set "MB_CLEAN=%MB_E%"
goto :mb_clean_next
:mb_clean_done
set "PATH=%MB_CLEAN%" & exit /b 0

:mb_env_up
rem One level up, MB_P (ending in \): the root when MB_T is it joined with one of those subdirectories.
for %%I in ("%MB_P:~0,-1%") do set "MB_P=%%~dpI"
set "MB_ROOT=" & for %%S in (bin Scripts condabin Library\bin Library\usr\bin Library\mingw-w64\bin) do if /i "%MB_P%%%S"=="%MB_T%" set "MB_ROOT=%MB_P:~0,-1%"
if defined MB_ROOT call :mb_env_root
exit /b 0

:mb_env_root
if exist "%MB_ROOT%\conda-meta\" set "MB_HIT=1"
if exist "%MB_ROOT%\pyvenv.cfg" set "MB_HIT=1"
exit /b 0
