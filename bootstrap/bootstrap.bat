@echo off
rem bootstrap.bat [NAME] [PY_VERSION] [options]
rem
rem Makes a conda environment (Python, conda, mamba) on a Windows machine that has no Python. It does
rem only what needs no Python: check its inputs, obtain and verify micromamba (and mambaboot.pyz),
rem make a private Python with micromamba in a work directory of its own, and hand over to
rem "mambaboot create" run by that Python, which takes the place's lock and does everything else.
rem It changes no place and deletes nothing but its own work directory.
rem
rem Exit codes are create's: 2 usage, 3 the shell has an environment active, 4 target refused,
rem 5 micromamba (or the zipapp) could not be obtained or verified, 6 micromamba failed, 7 the
rem private Python is missing; after the hand-over, create's own.
rem
rem cmd.exe's rules kept here: delayed expansion OFF (but where PATH is measured), so a value
rem keeps its !; "if errorlevel N" is read when the line runs; a value is expanded only inside
rem double quotes, where & ( ) ^ < > | are plain, and never goes through CALL (which doubles
rem carets and expands %% again); refusal texts name < > | & in words (echo reads them
rem unquoted); curl.exe and certutil.exe by their full path in System32 (by name, cmd looks in the
rem current directory first); no FOR /F over a command that decides anything: its child cmd runs
rem without /D, so the registry's AutoRun runs first and its output is read too (cmd /?, /D).
setlocal EnableExtensions DisableDelayedExpansion

rem Opened by a double-click, cmd runs this file as Explorer's batfile association starts it,
rem cmd.exe /c ""PATH" " (ss64, "CMDCMDLINE"), and closes the window when it ends: then, and only
rem without arguments, it waits for a key at the end. The command line is read only in quotes.
if not [%1]==[] goto :mb_main
set "MB_CC=%CMDCMDLINE%"
if not defined MB_CC goto :mb_main
set "MB_CC=%MB_CC:"=%"
set "MB_CC=%MB_CC:* /c =%"
if /i not "%MB_CC%"=="%~f0 " goto :mb_main
call :mb_main
set "MB_RC=%ERRORLEVEL%"
echo.
pause
exit /b %MB_RC%

:mb_main
set "MB_PINNED=2.8.1-0"
set "MB_RELEASES=https://github.com/mamba-org/micromamba-releases/releases"
rem The release this copy belongs to: empty here, named in a release's copy (tools/build_release.py).
set "MB_RELEASE="
for %%V in (MB_CC MB_NAME MB_NAME_SET MB_PYTHON MB_CHARGS MB_SPECS MB_PKGARGS MB_GIVEN MB_MM_VERSION MB_MM_URL MB_MM_SHA MB_ALLOW_HTTP MB_ENVS MB_CACHE MB_ZIPAPP MB_ZIPAPP_SHA MB_HOME MB_TMPDIR MB_VAL MB_MSG2 MB_MSG3 MB_VERBOSE MB_PROXY_VAR) do set "%%V="
set "MB_SELF=%~dp0"
set "MB_CWD=%CD%"
set "MB_NPOS=0"
set "MB_MM_PATH=%MAMBABOOT_MICROMAMBA%"
set "MB_RC=2"
rem The proxy curl.exe and micromamba take for https: HTTPS_PROXY, else ALL_PROXY (curl's manual, ENVIRONMENT).
if defined ALL_PROXY set "MB_PROXY_VAR=ALL_PROXY"
if defined HTTPS_PROXY set "MB_PROXY_VAR=HTTPS_PROXY"
set "MB_SYS32=%SystemRoot%\System32"
if not defined SystemRoot set "MB_SYS32=%windir%\System32"

rem ------------------------------------------------------------------ arguments

:mb_args
if [%1]==[] goto :mb_args_done
set "MB_ARG=%~1"
if not defined MB_ARG goto :mb_positional
if "%MB_ARG%"=="/?" goto :mb_usage
if not "%MB_ARG:~0,1%"=="-" goto :mb_positional
if "%MB_ARG%"=="-h" goto :mb_usage
if "%MB_ARG%"=="--help" goto :mb_usage
if "%MB_ARG%"=="--allow-http" (set "MB_ALLOW_HTTP=1" & set "MB_GIVEN=%MB_GIVEN% --allow-http" & shift & goto :mb_args)
if "%MB_ARG%"=="-v" set "MB_ARG=--verbose"
if "%MB_ARG%"=="--verbose" (set "MB_VERBOSE=1" & set "MB_GIVEN=%MB_GIVEN% --verbose" & shift & goto :mb_args)
set "MB_OPT="
for %%O in (-c --channel --package --envs-dir --cache-dir --micromamba --micromamba-version --micromamba-url --micromamba-sha256 --zipapp --zipapp-sha256) do if "%MB_ARG%"=="%%O" set "MB_OPT=%%O"
set "MB_VAL=%MB_ARG%"
set "MB_MSG=is not an option of bootstrap.bat (see --help)"
if not defined MB_OPT goto :mb_fail
set "MB_VAL=%MB_OPT%"
set "MB_MSG=needs a value"
if [%2]==[] goto :mb_fail
set "MB_VAL=%~2"
if defined MB_VAL goto :mb_opt_value
set "MB_VAL=%MB_OPT%"
set "MB_MSG=needs a non-empty value"
goto :mb_fail
:mb_opt_value
set "MB_MSG=is a value for %MB_OPT% that starts with -"
if "%MB_VAL:~0,1%"=="-" goto :mb_fail
if "%MB_OPT%"=="--envs-dir" set "MB_ENVS=%MB_VAL%"
if "%MB_OPT%"=="--cache-dir" set "MB_CACHE=%MB_VAL%"
if "%MB_OPT%"=="--micromamba" set "MB_MM_PATH=%MB_VAL%"
if "%MB_OPT%"=="--micromamba-version" set "MB_MM_VERSION=%MB_VAL%"
if "%MB_OPT%"=="--micromamba-url" set "MB_MM_URL=%MB_VAL%"
if "%MB_OPT%"=="--micromamba-sha256" set "MB_MM_SHA=%MB_VAL%"
if "%MB_OPT%"=="--zipapp" set "MB_ZIPAPP=%MB_VAL%"
if "%MB_OPT%"=="--zipapp-sha256" set "MB_ZIPAPP_SHA=%MB_VAL%"
rem A value ends up between quotes on a command line: a trailing \ would escape the quote.
set "MB_Q=%MB_VAL%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
if "%MB_OPT%"=="--channel" set "MB_OPT=-c"
if "%MB_OPT%"=="-c" set MB_CHARGS=%MB_CHARGS% -c "%MB_Q%"
if "%MB_OPT%"=="--package" set MB_PKGARGS=%MB_PKGARGS% --package "%MB_Q%"
set "MB_VAL="
shift
shift
goto :mb_args

:mb_positional
set /a MB_NPOS+=1
if %MB_NPOS%==1 (set "MB_NAME=%MB_ARG%" & set "MB_NAME_SET=1")
if %MB_NPOS%==2 set "MB_PYTHON=%MB_ARG%"
set "MB_VAL=%MB_ARG%"
set "MB_MSG=is one argument too many: give at most NAME and PY_VERSION"
if %MB_NPOS% gtr 2 goto :mb_fail
set "MB_VAL="
shift
goto :mb_args

:mb_usage
echo usage: bootstrap.bat [NAME] [PY_VERSION] [options]
echo.
echo Creates NAME_3_12 for PY_VERSION 3.12 (default NAME: py) in --envs-dir, else in %%PY_ENVS%%
echo (which must then be a directory), else in DRIVE:\dev\Anaconda\envs if it exists, else in the
echo current directory, by "mambaboot.pyz create" run by a private Python this script makes with
echo micromamba in the cache (deleted afterwards).
echo.
echo options (quote any value holding spaces or = , ; ^& ^< ^> ^| ^^):
echo   -c, --channel CHANNEL      channel (repeatable; default conda-forge)
echo   --package SPEC             extra package (repeatable), e.g. --package "numpy>=2"
echo   --envs-dir DIR             parent of the environment
echo   --cache-dir DIR            cache root (default: DRIVE:\CACHE if it exists, else
echo                              %%LOCALAPPDATA%%\mambaboot\Cache)
echo   --micromamba PATH          use this micromamba.exe (default: %%MAMBABOOT_MICROMAMBA%%)
echo   --micromamba-version V     release to download (default: the pinned one; latest allowed)
echo   --micromamba-url URL       mirror: full URL of the binary; its digest is read from URL.sha256
echo   --micromamba-sha256 HEX    trust this digest instead of the published .sha256
echo   --allow-http               allow plain http:// for non-loopback URLs
echo   --zipapp PATH-OR-URL       mambaboot.pyz (default: beside this script, else the one of this
echo                              script's release, checked against its SHA256SUMS); a URL is
echo                              verified against URL.sha256 or --zipapp-sha256
echo   --zipapp-sha256 HEX        expected digest of --zipapp URL
echo   -v, --verbose              show micromamba's output, and create's details
echo.
echo environment: PY_ENVS, CONDA_PKGS_DIRS, MAMBABOOT_MICROMAMBA, MAMBABOOT_RELEASES_URL (a
echo mirror of the release tree), MAMBABOOT_HTTP_TIMEOUT, MAMBABOOT_HTTP_DEADLINE (seconds) and
echo MAMBABOOT_HTTP_MAX_BYTES (whole numbers), as for "mambaboot create".
exit /b 0

:mb_args_done

rem ------------------------------------------------------------------ checks that write nothing

rem cmd reads no line longer than 8191 characters once expanded, and ends the batch (Microsoft
rem Learn, "Command prompt line string limitation"): :mb_clean_path copies PATH in one line some 90
rem longer. Measured on a !PATH! copy behind a "#", from a negative offset (one larger than the
rem value starts at its beginning: ss64, "VarSubstring"; Wine reads past the end otherwise).
set "MB_MSG=PATH is longer than 8000 characters, and cmd.exe cannot read a line longer than 8191 characters with it expanded; shorten PATH for this cmd (set PATH=...) or use bootstrap.ps1"
set "MB_T="
setlocal EnableDelayedExpansion
set "MB_T=#!PATH!"
set "MB_T=%MB_T:~-8001,1%"
set "MB_T=%MB_T:#=%"
if defined MB_T (endlocal & set "MB_T=1") else endlocal
if defined MB_T goto :mb_fail

rem The bounds mambaboot's downloads take from the same variables (engine/download.py), whole
rem seconds and bytes: curl.exe reads --max-time 0 as no limit.
set "MB_MSG=is not a whole number, 1 or more"
set "MB_CONNECT=30"
if defined MAMBABOOT_HTTP_TIMEOUT set "MB_CONNECT=%MAMBABOOT_HTTP_TIMEOUT%"
set "MB_VAL=MAMBABOOT_HTTP_TIMEOUT=%MB_CONNECT%"
set "MB_T=%MB_CONNECT%"
call :mb_is_number
if errorlevel 1 goto :mb_fail
set "MB_DEADLINE=1800"
if defined MAMBABOOT_HTTP_DEADLINE set "MB_DEADLINE=%MAMBABOOT_HTTP_DEADLINE%"
set "MB_VAL=MAMBABOOT_HTTP_DEADLINE=%MB_DEADLINE%"
set "MB_T=%MB_DEADLINE%"
call :mb_is_number
if errorlevel 1 goto :mb_fail
set "MB_MAX_BYTES=268435456"
if defined MAMBABOOT_HTTP_MAX_BYTES set "MB_MAX_BYTES=%MAMBABOOT_HTTP_MAX_BYTES%"
set "MB_VAL=MAMBABOOT_HTTP_MAX_BYTES=%MB_MAX_BYTES%"
set "MB_T=%MB_MAX_BYTES%"
call :mb_is_number
if errorlevel 1 goto :mb_fail

rem MAMBA_SSL_NO_REVOKE goes on as true or not at all: libmamba reads it as YAML, where 1 and 0
rem stop micromamba (yaml-cpp's convert<bool>::decode), and raw in get_env_remote_params
rem (download/downloader.cpp), where anything but 0 turns the check off.
if not defined MAMBA_SSL_NO_REVOKE goto :mb_revoke_read
set "MB_T="
for %%B in (y yes true on 1) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=true"
for %%B in (n no false off 0) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=false"
set "MB_VAL=MAMBA_SSL_NO_REVOKE=%MAMBA_SSL_NO_REVOKE%"
set "MB_MSG=is neither true nor false: set it to true or false"
if not defined MB_T goto :mb_fail
if "%MB_T%"=="false" set "MB_T="
set "MAMBA_SSL_NO_REVOKE=%MB_T%"
:mb_revoke_read

if not defined MB_NAME_SET set "MB_NAME=py"
set "MB_VAL=%MB_NAME%"
set "MB_MSG=is not a valid environment name: one directory name, not a path"
if not defined MB_NAME goto :mb_fail
if "%MB_NAME%"=="." goto :mb_fail
if "%MB_NAME%"==".." goto :mb_fail
if not "%MB_NAME:\=%"=="%MB_NAME%" goto :mb_fail
if not "%MB_NAME:/=%"=="%MB_NAME%" goto :mb_fail
set "MB_MSG=ends in a dot or a space, which Windows drops from names"
if "%MB_NAME:~-1%"=="." goto :mb_fail
if "%MB_NAME:~-1%"==" " goto :mb_fail
set "MB_BASE="
for /f "delims=." %%B in ("%MB_NAME%") do set "MB_BASE=%%B"
set "MB_MSG=is a reserved Windows device name"
for %%R in (CON PRN AUX NUL COM0 COM1 COM2 COM3 COM4 COM5 COM6 COM7 COM8 COM9 LPT0 LPT1 LPT2 LPT3 LPT4 LPT5 LPT6 LPT7 LPT8 LPT9 CONIN$ CONOUT$) do if /i "%MB_BASE%"=="%%R" goto :mb_fail
set "MB_ENVNAME=%MB_NAME%"
if not defined MB_PYTHON goto :mb_named
set "MB_T=%MB_PYTHON%"
set "MB_VAL=%MB_PYTHON%"
set "MB_MSG=is not a version; give one like 3.12 or 3.12.4"
call :mb_is_version
if errorlevel 1 goto :mb_fail
set "MB_ENVNAME=%MB_NAME%_%MB_PYTHON:.=_%"
:mb_named

if defined MB_ENVS goto :mb_envs_found
if not defined PY_ENVS goto :mb_envs_drive
set "MB_ENVS=%PY_ENVS%"
rem A directory by its attributes (Wine's cmd finds "FILE\" to exist too); never the next default
rem instead: the environment would land where the user did not say.
set "MB_T="
if exist "%PY_ENVS%\" for %%I in ("%PY_ENVS%") do set "MB_T=%%~aI"
if defined MB_T if "%MB_T:~0,1%"=="d" goto :mb_envs_found
set "MB_T=%PY_ENVS%"
call :mb_full
echo bootstrap: error: PY_ENVS names "%MB_T%", which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS 1>&2
exit /b 2
:mb_envs_drive
set "MB_ENVS=%MB_CWD:~0,2%\dev\Anaconda\envs"
if exist "%MB_ENVS%\" goto :mb_envs_found
set "MB_ENVS=%MB_CWD%"
set "MB_VAL="
rem Never a default the user did not mean: cmd starts in the Windows directory a script opened
rem from a network share, an elevated one in System32 (cmd /?); a double-click runs it in its own
rem folder, which OneDrive may sync or a network home drive hold (Microsoft Learn, "OneDrive
rem Files On-Demand", "Folder Redirection"). A parent the user names is taken as named.
set "MB_MSG=the current directory is Windows' own, where cmd.exe starts a script opened from a network share or as administrator; pass --envs-dir DIR or set PY_ENVS"
if defined SystemRoot if /i "%MB_CWD%"=="%SystemRoot%" goto :mb_fail
if defined SystemRoot if /i "%MB_CWD%"=="%SystemRoot%\System32" goto :mb_fail
set "MB_VAL=%MB_CWD%"
set "MB_MSG=is in OneDrive, which would upload every file of the environment and may keep only placeholders of them (Files On-Demand); pass --envs-dir DIR outside it, or set PY_ENVS"
set "MB_UNDER=%OneDrive%"
call :mb_is_under
if not errorlevel 1 goto :mb_fail
set "MB_UNDER=%OneDriveCommercial%"
call :mb_is_under
if not errorlevel 1 goto :mb_fail
set "MB_UNDER=%OneDriveConsumer%"
call :mb_is_under
if not errorlevel 1 goto :mb_fail
set "MB_MSG=is on your network home drive (HOMESHARE), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS"
if defined HOMESHARE if defined HOMEDRIVE if /i "%MB_CWD:~0,2%"=="%HOMEDRIVE%" goto :mb_fail
set "MB_VAL="
:mb_envs_found
set "MB_T=%MB_ENVS%"
call :mb_full
set "MB_ENVS=%MB_T%"
if "%MB_ENVS:~-1%"=="\" (set "MB_PREFIX=%MB_ENVS%%MB_ENVNAME%") else set "MB_PREFIX=%MB_ENVS%\%MB_ENVNAME%"

rem Packages write the prefix into their own .bat files, where cmd.exe expands % and !; PATH
rem separates its entries with ; (Microsoft Learn, "set": PATH), so no prefix on it may hold one.
set "MB_T=%MB_PREFIX%"
set "MB_VAL=%MB_PREFIX%"
set "MB_MSG=is a prefix with a character packages or Windows cannot take (a percent sign, an exclamation mark, a semicolon, an angle bracket, a vertical bar, a question mark, an asterisk or a second colon); choose another path"
call :mb_bad_char
if errorlevel 1 goto :mb_fail

if defined MB_CACHE goto :mb_cache_found
set "MB_CACHE=%MB_CWD:~0,2%\CACHE"
if exist "%MB_CACHE%\" goto :mb_cache_found
rem A relative LOCALAPPDATA is ignored and a relative USERPROFILE refused, as mambaboot does
rem (common/host.py): either would put the cache under the current directory.
set "MB_T=%LOCALAPPDATA%"
if defined MB_T call :mb_is_absolute
if defined MB_T if not errorlevel 1 (set "MB_CACHE=%LOCALAPPDATA%\mambaboot\Cache" & goto :mb_cache_found)
set "MB_MSG=neither LOCALAPPDATA nor USERPROFILE is set; pass --cache-dir DIR"
if not defined USERPROFILE goto :mb_fail
set "MB_T=%USERPROFILE%"
set "MB_MSG=USERPROFILE is not an absolute path: the cache would land in the current directory; set USERPROFILE to your home directory or pass --cache-dir DIR"
call :mb_is_absolute
if errorlevel 1 goto :mb_fail
set "MB_CACHE=%USERPROFILE%\AppData\Local\mambaboot\Cache"
:mb_cache_found
set "MB_T=%MB_CACHE%"
call :mb_full
set "MB_CACHE=%MB_T%"

rem CONDA_PKGS_DIRS is comma-separated on every platform, as conda reads it.
set "MB_PKGS="
set "MB_REST=%CONDA_PKGS_DIRS%"
:mb_pkgs_next
if not defined MB_REST goto :mb_pkgs_done
set "MB_E="
for /f "tokens=1* delims=," %%A in ("%MB_REST%") do (set "MB_E=%%A" & set "MB_REST=%%B")
if not defined MB_E goto :mb_pkgs_done
set "MB_T="
for /f "tokens=* delims= " %%T in ("%MB_E%") do set "MB_T=%%T"
if not defined MB_T goto :mb_pkgs_next
:mb_pkgs_trim
if "%MB_T:~-1%"==" " (set "MB_T=%MB_T:~0,-1%" & goto :mb_pkgs_trim)
call :mb_full
if defined MB_PKGS (set "MB_PKGS=%MB_PKGS%,%MB_T%") else set "MB_PKGS=%MB_T%"
goto :mb_pkgs_next
:mb_pkgs_done
if not defined MB_PKGS set "MB_PKGS=%MB_CACHE%\Python\pkgs"
rem libmamba parses CONDA_PKGS_DIRS as the YAML list "[VALUE]" (configuration_impl.hpp), as
rem mambaboot's pathrules.check_pkgs_dir checks it.
set "MB_VAL=%MB_PKGS%"
set "MB_MSG=holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS"
if not "%MB_PKGS:[=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:]=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:{=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:}=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:#=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:: =%"=="%MB_PKGS%" goto :mb_fail

set "MB_MSG=is not a sha256 hex digest"
set "MB_VAL=%MB_MM_SHA%"
set "MB_D=%MB_MM_SHA%"
if defined MB_D call :mb_is_digest
if defined MB_D if errorlevel 1 goto :mb_fail
if defined MB_D set "MB_MM_SHA=%MB_D%"
set "MB_VAL=%MB_ZIPAPP_SHA%"
set "MB_D=%MB_ZIPAPP_SHA%"
if defined MB_D call :mb_is_digest
if defined MB_D if errorlevel 1 goto :mb_fail
if defined MB_D set "MB_ZIPAPP_SHA=%MB_D%"

rem The machine's processor: a 32-bit cmd on 64-bit Windows sees x86 in PROCESSOR_ARCHITECTURE,
rem the machine's in PROCESSOR_ARCHITEW6432 (Microsoft Learn, "WOW64 Implementation Details").
set "MB_ARCH=%PROCESSOR_ARCHITECTURE%"
if defined PROCESSOR_ARCHITEW6432 set "MB_ARCH=%PROCESSOR_ARCHITEW6432%"
set "MB_SUBDIR="
if /i "%MB_ARCH%"=="AMD64" set "MB_SUBDIR=win-64"
if /i not "%MB_ARCH%"=="ARM64" goto :mb_arch_known
rem ARM64: conda-forge's win-arm64 channel has no conda package (conda-forge.github.io#1940,
rem mamba#4393), so win-64 everywhere, under Windows 11's x64 emulation (build 22000 on; Windows 10
rem on ARM runs no x64 program: Microsoft Learn, "How emulation works on Arm"). The build is the
rem third number ver prints ("Microsoft Windows [Version 10.0.22631.4460]"); create, handed over
rem to, takes the processor it is told.
set "MB_T="
for /f "delims=" %%L in ('ver') do set "MB_T=%%L"
if defined MB_T set "MB_T=%MB_T:*Windows =%"
if defined MB_T set "MB_T=%MB_T:[Version =%"
set "MB_B=0"
if defined MB_T for /f "tokens=3 delims=.]" %%B in ("%MB_T%") do set "MB_B=%%B"
for /f "delims=0123456789" %%X in ("%MB_B%") do set "MB_B=0"
set "MB_VAL="
set "MB_MSG=ARM64 Windows 10 runs no x64 program, and conda-forge's win-arm64 channel has no conda package (conda-forge.github.io#1940, mamba#4393); use Windows 11 or an x64 machine"
if %MB_B% lss 22000 (set "MB_RC=5" & goto :mb_fail)
echo bootstrap: ARM64: using win-64 (x64) under Windows 11's x64 emulation: conda-forge's win-arm64 channel has no conda package (conda-forge.github.io#1940) 1>&2
set "MB_SUBDIR=win-64"
set "PROCESSOR_ARCHITECTURE=AMD64"
set "PROCESSOR_ARCHITEW6432="
:mb_arch_known
set "MB_KIND=local"
if defined MB_MM_PATH goto :mb_source_done
set "MB_VAL=%MB_ARCH%"
set "MB_MSG=is a processor micromamba has no Windows build for (win-64 is for AMD64, and for ARM64 under Windows 11); pass --micromamba PATH to a micromamba.exe that runs here"
if not defined MB_SUBDIR (set "MB_RC=5" & goto :mb_fail)
set "MB_KIND=mirror"
set "MB_URL=%MB_MM_URL%"
set "MB_UOPT=--micromamba-url"
if defined MB_MM_URL goto :mb_source_url
set "MB_KIND=release"
set "MB_VERSION=%MB_MM_VERSION%"
if not defined MB_VERSION set "MB_VERSION=%MB_PINNED%"
set "MB_BASE=%MAMBABOOT_RELEASES_URL%"
if not defined MB_BASE set "MB_BASE=%MB_RELEASES%"
:mb_base_trim
if "%MB_BASE:~-1%"=="/" (set "MB_BASE=%MB_BASE:~0,-1%" & goto :mb_base_trim)
set "MB_URL=%MB_BASE%/latest/download/micromamba-%MB_SUBDIR%"
if "%MB_VERSION%"=="latest" goto :mb_release_url
set "MB_VAL=%MB_VERSION%"
set "MB_MSG=is not like 2.8.1, 2.8.1-0 or latest"
call :mb_is_release
if errorlevel 1 goto :mb_fail
if "%MB_VERSION:-=%"=="%MB_VERSION%" set "MB_VERSION=%MB_VERSION%-0"
set "MB_URL=%MB_BASE%/download/%MB_VERSION%/micromamba-%MB_SUBDIR%"
:mb_release_url
set "MB_UOPT=MAMBABOOT_RELEASES_URL"
set "MB_U=%MB_BASE%"
call :mb_check_url
if errorlevel 1 goto :mb_fail
goto :mb_source_done
:mb_source_url
set "MB_U=%MB_URL%"
call :mb_check_url
if errorlevel 1 goto :mb_fail
:mb_source_done

rem Without --zipapp: the one beside this script, else the one of this copy's release, checked
rem against its line in the release's SHA256SUMS.
set "MB_SUMS="
if defined MB_ZIPAPP goto :mb_zipapp_named
set "MB_ZIPAPP=%MB_SELF%mambaboot.pyz"
if exist "%MB_ZIPAPP%" goto :mb_zipapp_named
if not defined MB_RELEASE goto :mb_zipapp_named
set "MB_UOPT=the release this script names"
set "MB_U=%MB_RELEASE%"
call :mb_check_url
if errorlevel 1 goto :mb_fail
set "MB_SUMS=%MB_RELEASE%/SHA256SUMS"
set "MB_ZIPAPP=%MB_RELEASE%/mambaboot.pyz"
:mb_zipapp_named
set "MB_ZIPAPP_URL="
if not "%MB_ZIPAPP:://=%"=="%MB_ZIPAPP%" set "MB_ZIPAPP_URL=%MB_ZIPAPP%"
set "MB_UOPT=--zipapp"
set "MB_U=%MB_ZIPAPP_URL%"
if defined MB_ZIPAPP_URL call :mb_check_url
if defined MB_ZIPAPP_URL if errorlevel 1 goto :mb_fail
if defined MB_ZIPAPP_URL goto :mb_zipapp_checked
set "MB_VAL=%MB_ZIPAPP%"
set "MB_MSG=is not there: put mambaboot.pyz beside this script, or pass --zipapp PATH-OR-URL"
if not exist "%MB_ZIPAPP%" goto :mb_fail
set "MB_T=%MB_ZIPAPP%"
call :mb_full
set "MB_ZIPAPP=%MB_T%"
:mb_zipapp_checked

set "MB_FOUND="
for %%V in (CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV) do if defined %%V set "MB_FOUND=1"
if not defined MB_FOUND goto :mb_shell_clean
echo bootstrap: error: this shell already has a Python environment in it: 1>&2
for %%V in (CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV) do if defined %%V set %%V>&2
echo open a clean shell (or deactivate it) 1>&2
exit /b 3
:mb_shell_clean
echo shell: clean 1>&2

rem Read only: a target create would refuse is refused before anything is downloaded (create
rem checks it again under the place's lock, which is create's alone). Missing, or an empty
rem directory: not a file, a link or an environment.
set "MB_RC=4"
set "MB_VAL=%MB_PREFIX%"
set "MB_MSG=is a file, not a directory; nothing was changed"
set "MB_ATTR="
if exist "%MB_PREFIX%" for %%A in ("%MB_PREFIX%") do set "MB_ATTR=%%~aA"
if not defined MB_ATTR echo target: "%MB_PREFIX%" does not exist yet 1>&2
if not defined MB_ATTR goto :mb_target_ok
if not "%MB_ATTR:~0,1%"=="d" goto :mb_fail
set "MB_MSG=is a link; give the real path of the environment instead"
if not "%MB_ATTR:l=%"=="%MB_ATTR%" goto :mb_fail
set "MB_MSG=holds an environment mambaboot manages; use mambaboot create --force to replace it"
if exist "%MB_PREFIX%\.mambaboot\record.json" goto :mb_fail
set "MB_MSG=already holds a Python; it was left untouched"
if exist "%MB_PREFIX%\python.exe" goto :mb_fail
if exist "%MB_PREFIX%\bin\python*" goto :mb_fail
set "MB_E="
rem Only a line that names an entry counts: AutoRun's output would make an empty directory look full.
for /f "usebackq delims=" %%F in (`dir /b /a "%MB_PREFIX%" 2^>nul`) do if exist "%MB_PREFIX%\%%F" set "MB_E=1"
set "MB_MSG=is a non-empty directory; it was left untouched"
if defined MB_E goto :mb_fail
echo target: "%MB_PREFIX%" is an empty directory 1>&2
:mb_target_ok

rem ------------------------------------------------------------------ from here on, writes: this run's work directory

rem CACHE\tmp\mambaboot-tmp-TOKEN-bootstrap, named as mambaboot names a run's work directory
rem (common/files/tempname.py), with its marker file: "mambaboot cache clean" and "doctor" name
rem one a killed run left (no lock, no mark: never deleted for the user). mkdir makes a new
rem directory or fails, so no two runs share one. Every download lands here first, verified, and is
rem then renamed into its store: a killed run leaves nothing else.
set "MB_VAL=%MB_CACHE%\tmp"
set "MB_MSG=cannot be written, or had no free name for this run's work directory in 20 tries"
if not exist "%MB_CACHE%\tmp\" mkdir "%MB_CACHE%\tmp" 2>nul
set "MB_TRIES=0"
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

set "MB_RC=5"
set "MB_VAL="
if not defined MB_ZIPAPP_URL goto :mb_zipapp_ready
set "MB_U=%MB_ZIPAPP_URL%"
set "MB_EXPECT=%MB_ZIPAPP_SHA%"
if not defined MB_EXPECT if defined MB_SUMS call :mb_listed
if not defined MB_EXPECT if defined MB_SUMS goto :mb_fail
if not defined MB_EXPECT call :mb_published
if not defined MB_EXPECT goto :mb_fail
set "MB_ZIPAPP=%MB_CACHE%\zipapp\%MB_EXPECT:~0,16%\mambaboot.pyz"
set "MB_F=%MB_ZIPAPP%"
set "MB_GOT="
if exist "%MB_ZIPAPP%" call :mb_sha256
if /i "%MB_GOT%"=="%MB_EXPECT%" goto :mb_zipapp_ready
call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
:mb_zipapp_ready

rem ------------------------------------------------------------------ micromamba: the cache layout is create's

set "MB_STORE=%MB_CACHE%\micromamba"
set "MB_HOW=cached"
if not "%MB_KIND%"=="local" goto :mb_download
set "MB_HOW=given"
set "MB_T=%MB_MM_PATH%"
call :mb_full
set "MB_BIN=%MB_T%"
set "MB_VAL=%MB_BIN%"
set "MB_MSG=is not there (micromamba)"
if not exist "%MB_BIN%" goto :mb_fail
set "MB_F=%MB_BIN%"
call :mb_sha256
if errorlevel 1 goto :mb_fail
set "MB_SHA=%MB_GOT%"
set "MB_MSG=does not have the expected sha256 %MB_MM_SHA% but %MB_SHA%"
if defined MB_MM_SHA if /i not "%MB_SHA%"=="%MB_MM_SHA%" goto :mb_fail
goto :mb_have_binary

:mb_download
rem A pinned release never changes, so its version names its directory and its digest is kept
rem there; latest and mirrors can change under one URL, so the digest names theirs.
set "MB_SHA=%MB_MM_SHA%"
set "MB_NOTES="
if not "%MB_KIND%"=="release" goto :mb_moving
if "%MB_VERSION%"=="latest" goto :mb_moving
set "MB_NOTES=%MB_STORE%\%MB_VERSION%-%MB_SUBDIR%"
if not defined MB_SHA if exist "%MB_NOTES%\sha256" for /f "usebackq tokens=1" %%D in ("%MB_NOTES%\sha256") do set "MB_SHA=%%D"
:mb_moving
set "MB_U=%MB_URL%"
set "MB_EXPECT=%MB_SHA%"
if not defined MB_SHA call :mb_published
if not defined MB_EXPECT goto :mb_fail
set "MB_SHA=%MB_EXPECT%"
if defined MB_NOTES goto :mb_notes_known
<nul set /p "=%MB_URL%" > "%MB_TMPDIR%\url.txt"
set "MB_F=%MB_TMPDIR%\url.txt"
call :mb_sha256
if errorlevel 1 goto :mb_fail
set "MB_NOTES=%MB_STORE%\%MB_KIND%-%MB_GOT:~0,12%-%MB_SHA:~0,16%"
:mb_notes_known
set "MB_BIN=%MB_NOTES%\micromamba.exe"
set "MB_F=%MB_BIN%"
set "MB_GOT="
if exist "%MB_BIN%" call :mb_sha256
if /i "%MB_GOT%"=="%MB_SHA%" goto :mb_have_binary
call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
<nul set /p "=%MB_SHA%" > "%MB_TMPDIR%\sha256"
move /y "%MB_TMPDIR%\sha256" "%MB_NOTES%\sha256" >nul
set "MB_HOW=downloaded"
:mb_have_binary
echo micromamba: "%MB_BIN%" (%MB_HOW%, sha256 %MB_SHA:~0,12%) 1>&2

rem ------------------------------------------------------------------ the private Python: micromamba, once, sandboxed

rem The user's Python version, so that create finds its package in the cache and downloads none
rem twice; mambaboot itself needs 3.9 or later, so an older one is not taken for it.
set "MB_SPEC_PY=python"
if defined MB_PYTHON set "MB_SPEC_PY=python=%MB_PYTHON%"
set "MB_T=3"
set "MB_X=99"
if defined MB_PYTHON for /f "tokens=1,2 delims=." %%A in ("%MB_PYTHON%") do (set "MB_T=%%A" & if not "%%B"=="" set "MB_X=%%B")
set "MB_OLD="
if %MB_T% lss 3 set "MB_OLD=1"
if %MB_T%==3 if %MB_X% lss 9 set "MB_OLD=1"
if defined MB_OLD set "MB_SPEC_PY=python>=3.9"
if defined MB_OLD echo python: mambaboot needs Python 3.9 or later: its private Python is one, the environment's %MB_PYTHON% 1>&2
set MB_MMCH=%MB_CHARGS%
if not defined MB_MMCH set MB_MMCH= -c "conda-forge"
rem The root prefix is private; shortcuts off (menuinst ignores the private APPDATA): engine\micromamba.py.
set MB_RUN_ARGS=create --yes --no-rc --override-channels%MB_MMCH% --prefix "%MB_TMPDIR%\python" --root-prefix "%MB_HOME%\root" --no-shortcuts --lock-timeout 600 "%MB_SPEC_PY%"
set "MB_RUN_OUT=%MB_TMPDIR%\micromamba.txt"
if defined MB_VERBOSE set "MB_RUN_OUT="
call :mb_sandboxed
set "MB_ENGINE_RC=%ERRORLEVEL%"
rem create runs where the user started this (relative channels); Wine's endlocal goes back to the
rem directory of the last pushd instead.
cd /d "%MB_CWD%"
if "%MB_ENGINE_RC%"=="0" goto :mb_engine_done
if defined MB_RUN_OUT type "%MB_RUN_OUT%" 1>&2
set "MB_RC=6"
set "MB_VAL="
set "MB_MSG=micromamba create failed (exit %MB_ENGINE_RC%) making this run's private Python; nothing else was changed"
rem micromamba reads a proxy from HTTPS_PROXY or ALL_PROXY only (libcurl's; --no-rc leaves out
rem .condarc's proxy_servers), never Windows' settings; it checks certificates with Schannel,
rem revocation included, where curl.exe may have been told not to (mamba-org/mamba#2751, #3346).
set "MB_MSG2=if it could not reach the channel: behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)"
if defined MB_PROXY_VAR set "MB_MSG2=if it could not reach the channel: %MB_PROXY_VAR% names the proxy it went through; if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
set "MB_MSG3=if it failed on a certificate: behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation) or REQUESTS_CA_BUNDLE=PATH of the company's CA bundle"
rem A solve that failed is no network's doing (libmamba's words: "Could not solve for environment specs").
if not defined MB_RUN_OUT goto :mb_fail
"%MB_SYS32%\find.exe" "Could not solve" "%MB_RUN_OUT%" >nul 2>nul
if not errorlevel 1 set "MB_MSG2=micromamba found no package for the Python asked for in the channels given, which is no network fault: check PY_VERSION and -c"
if not errorlevel 1 set "MB_MSG3="
set "MB_CODE=%MB_ENGINE_RC%"
set "MB_WHAT=micromamba.exe"
call :mb_blocked
goto :mb_fail
:mb_engine_done
set "MB_RC=7"
set "MB_VAL=%MB_TMPDIR%\python\python.exe"
set "MB_MSG=is missing although micromamba finished"
if not exist "%MB_VAL%" goto :mb_fail
rmdir /s /q "%MB_HOME%"

rem ------------------------------------------------------------------ hand-over: the rest is create's

set "MB_Q=%MB_ENVS%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
set MB_CREATE="%MB_NAME%" --envs-dir "%MB_Q%"
set "MB_Q=%MB_CACHE%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
set MB_CREATE=%MB_CREATE% --cache-dir "%MB_Q%"
if defined MB_PYTHON set MB_CREATE=%MB_CREATE% --python "%MB_PYTHON%"
rem The line is expanded before it runs: the script's variables are gone when python starts, and
rem the private Python is on no PATH. Their names come from a file the built-in set wrote (no
rem child cmd, no AutoRun); endlocal brings them back, create's exit code with them.
> "%MB_TMPDIR%\names.txt" set MB_
setlocal
(for /f "usebackq delims==" %%V in ("%MB_TMPDIR%\names.txt") do set "%%V=") & "%MB_TMPDIR%\python\python.exe" -I "%MB_ZIPAPP%" create %MB_CREATE%%MB_CHARGS%%MB_PKGARGS%%MB_GIVEN% --micromamba "%MB_BIN%" --micromamba-sha256 "%MB_SHA%"
endlocal & set "MB_RC=%ERRORLEVEL%"
rmdir /s /q "%MB_TMPDIR%"
set "MB_MSG2="
set "MB_CODE=%MB_RC%"
set "MB_WHAT=the private python.exe"
call :mb_blocked
if defined MB_MSG2 (set "MB_TMPDIR=" & set "MB_VAL=" & set "MB_MSG=the private Python could not run" & set "MB_RC=5" & goto :mb_fail)
if not "%MB_RC%"=="0" exit /b %MB_RC%
echo next: call "%MB_PREFIX%\.mambaboot\activate.bat" 1>&2
exit /b 0

rem ------------------------------------------------------------------ the way out on errors

:mb_fail
rem Messages are echoed on lines of their own: after an IF, a ( in the text can open a block.
if not defined MB_VAL goto :mb_fail_plain
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

rem ------------------------------------------------------------------ subroutines (they take no arguments that hold data)

:mb_token
rem MB_TOKEN: 32 lowercase hex digits from %%RANDOM%%, after skipping as many as the clock's
rem hundredths: cmd seeds it from the time in seconds, so two started in one second would draw alike.
set "MB_TOKEN="
set "MB_N=%TIME:~-2%"
if "%MB_N:~0,1%"=="0" set "MB_N=%MB_N:~1%"
for /l %%I in (0,1,%MB_N%) do call :mb_token_skip
for /l %%I in (1,1,32) do call :mb_token_digit
exit /b 0
:mb_token_skip
set /a "MB_X=%RANDOM%"
exit /b 0
:mb_token_digit
set /a "MB_N=%RANDOM% %% 16"
set "MB_X=0123456789abcdef"
call set "MB_D=%%MB_X:~%MB_N%,1%%"
set "MB_TOKEN=%MB_TOKEN%%MB_D%"
exit /b 0

:mb_is_absolute
rem MB_T starts from a root: a drive's (C:\ or C:/), a UNC share or the current drive's (\ or /).
if "%MB_T:~1,2%"==":\" exit /b 0
if "%MB_T:~1,2%"==":/" exit /b 0
if "%MB_T:~0,1%"=="\" exit /b 0
if "%MB_T:~0,1%"=="/" exit /b 0
exit /b 1

:mb_is_under
rem errorlevel 0 when MB_CWD is MB_UNDER or a directory under it (never a sibling that only starts alike).
if not defined MB_UNDER exit /b 1
if "%MB_UNDER:~-1%"=="\" set "MB_UNDER=%MB_UNDER:~0,-1%"
if /i "%MB_CWD%"=="%MB_UNDER%" exit /b 0
set "MB_X="
call set "MB_X=%%MB_CWD:*%MB_UNDER%\=%%"
if /i "%MB_UNDER%\%MB_X%"=="%MB_CWD%" exit /b 0
exit /b 1

:mb_full
rem MB_T: made absolute against the current directory, without a trailing \ (but C:\ stays).
for %%I in ("%MB_T%") do set "MB_T=%%~fI"
if not "%MB_T:~-1%"=="\" exit /b 0
if "%MB_T:~-2%"==":\" exit /b 0
set "MB_T=%MB_T:~0,-1%"
exit /b 0

:mb_is_number
rem MB_T is a whole number, 1 or more, of at most 18 digits: below 10^18, and the size check of
rem :mb_curl compares it as 20 characters.
set "MB_X="
for /f "delims=0123456789" %%X in ("%MB_T%") do set "MB_X=%%X"
if defined MB_X exit /b 1
if not defined MB_T exit /b 1
if "%MB_T:~0,1%"=="0" exit /b 1
set "MB_X=%MB_T:~0,18%"
if not "%MB_X%"=="%MB_T%" exit /b 1
exit /b 0

:mb_is_version
rem MB_T is a version with 1 to 3 dot-separated numbers.
set "MB_X="
for /f "delims=0123456789." %%X in ("%MB_T%") do set "MB_X=%%X"
if defined MB_X exit /b 1
if "%MB_T:~0,1%"=="." exit /b 1
if "%MB_T:~-1%"=="." exit /b 1
if not "%MB_T:..=%"=="%MB_T%" exit /b 1
set "MB_X="
for /f "tokens=4 delims=." %%X in ("%MB_T%") do set "MB_X=%%X"
if defined MB_X exit /b 1
exit /b 0

:mb_is_release
rem MB_VERSION is like 2.8.1 or 2.8.1-0.
if "%MB_VERSION:~-1%"=="-" exit /b 1
if not "%MB_VERSION:--=%"=="%MB_VERSION%" exit /b 1
set "MB_T="
set "MB_B="
set "MB_X="
for /f "tokens=1,2* delims=-" %%A in ("%MB_VERSION%") do (set "MB_T=%%A" & set "MB_B=%%B" & set "MB_X=%%C")
if defined MB_X exit /b 1
if not defined MB_T exit /b 1
if not "%MB_VERSION:~0,1%"=="%MB_T:~0,1%" exit /b 1
call :mb_is_version
if errorlevel 1 exit /b 1
set "MB_X="
for /f "tokens=3 delims=." %%X in ("%MB_T%") do set "MB_X=%%X"
if not defined MB_X exit /b 1
if not defined MB_B exit /b 0
set "MB_X="
for /f "delims=0123456789" %%X in ("%MB_B%") do set "MB_X=%%X"
if defined MB_X exit /b 1
exit /b 0

:mb_is_digest
rem MB_D: 64 hex digits, made lowercase (the form create compares and names directories by).
set "MB_X="
for /f "delims=0123456789abcdefABCDEF" %%X in ("%MB_D%") do set "MB_X=%%X"
if defined MB_X exit /b 1
if "%MB_D:~63,1%"=="" exit /b 1
if not "%MB_D:~64%"=="" exit /b 1
for %%L in (a b c d e f) do call set "MB_D=%%MB_D:%%L=%%L%%"
exit /b 0

:mb_bad_char
rem errorlevel 1 when MB_T holds % ! ; < > | ? * or a : after the drive.
set "MB_I=0"
:mb_bad_char_next
set "MB_C="
call set "MB_C=%%MB_T:~%MB_I%,1%%"
if not defined MB_C exit /b 0
if "%MB_C%"=="%%" exit /b 1
if "%MB_C%"=="!" exit /b 1
if "%MB_C%"==";" exit /b 1
if "%MB_C%"=="<" exit /b 1
if "%MB_C%"==">" exit /b 1
if "%MB_C%"=="|" exit /b 1
if "%MB_C%"=="?" exit /b 1
if "%MB_C%"=="*" exit /b 1
if "%MB_C%"==":" if %MB_I% gtr 1 exit /b 1
set /a MB_I+=1
goto :mb_bad_char_next

:mb_blocked
rem MB_MSG2 set when MB_CODE is what cmd sets as it fails to start a program Windows blocks (the
rem message it printed above: "This program is blocked by group policy..."): an AppLocker or
rem Software Restriction Policies rule (1260, ERROR_ACCESS_DISABLED_BY_POLICY), App Control or
rem Smart App Control (4551, ERROR_SYSTEM_INTEGRITY_POLICY_VIOLATION), an antivirus (225,
rem ERROR_VIRUS_INFECTED): Microsoft Learn, "System Error Codes". Never a network hint then.
for %%C in (1260 4551 225) do if "%MB_CODE%"=="%%C" set "MB_MSG2=Windows refused to start %MB_WHAT% (exit %%C; its words above): a policy (AppLocker, App Control, Software Restriction Policies) or an antivirus blocks it there; ask your administrator which folders may run programs, and pass one as --cache-dir (and --micromamba PATH)"
for %%C in (1260 4551 225) do if "%MB_CODE%"=="%%C" set "MB_MSG3="
exit /b 0

:mb_check_url
rem MB_U given by MB_UOPT: https:// or file://, or http:// to loopback (or with --allow-http).
set "MB_VAL=%MB_U%"
set "MB_MSG=(%MB_UOPT%) is not an https:// URL"
if /i "%MB_U:~0,8%"=="https://" exit /b 0
if /i "%MB_U:~0,7%"=="file://" exit /b 0
if /i not "%MB_U:~0,7%"=="http://" exit /b 1
if defined MB_ALLOW_HTTP exit /b 0
set "MB_HOST="
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
set "MB_GOT="
set "MB_MSG2="
"%MB_SYS32%\certutil.exe" -hashfile "%MB_F%" SHA256 > "%MB_TMPDIR%\hash.txt"
set "MB_CODE=%ERRORLEVEL%"
set "MB_WHAT=certutil.exe"
call :mb_blocked
if not "%MB_CODE%"=="0" goto :mb_sha256_failed
for /f "usebackq skip=1 delims=" %%H in ("%MB_TMPDIR%\hash.txt") do if not defined MB_GOT set "MB_GOT=%%H"
if not defined MB_GOT goto :mb_sha256_failed
set "MB_GOT=%MB_GOT: =%"
set "MB_D=%MB_GOT%"
call :mb_is_digest
if errorlevel 1 goto :mb_sha256_failed
set "MB_GOT=%MB_D%"
exit /b 0
:mb_sha256_failed
set "MB_VAL=%MB_F%"
set "MB_MSG=could not be hashed with certutil -hashfile"
exit /b 5

:mb_published
rem MB_U -> MB_EXPECT, the digest published at MB_U.sha256.
set "MB_VAL=%MB_U%.sha256"
set "MB_MSG=could not be read: without the published digest the download cannot be verified"
set "MB_NAME_OUT=published.sha256"
set "MB_CURL_URL=%MB_U%.sha256"
call :mb_curl
if errorlevel 1 goto :mb_published_failed
set "MB_MSG2="
set "MB_D="
for /f "usebackq tokens=1" %%D in ("%MB_TMPDIR%\published.sha256") do if not defined MB_D set "MB_D=%%D"
set "MB_MSG=does not hold a sha256 digest"
if not defined MB_D exit /b 5
call :mb_is_digest
if errorlevel 1 exit /b 5
set "MB_EXPECT=%MB_D%"
exit /b 0
:mb_published_failed
if defined MB_MSG2 (set "MB_MSG3=pass --micromamba-sha256 HEX or --zipapp-sha256 HEX if you know the digest") else set "MB_MSG2=pass --micromamba-sha256 HEX or --zipapp-sha256 HEX if you know the digest"
exit /b 5

:mb_listed
rem MB_SUMS -> MB_EXPECT, the digest on the line of that checksum file that names exactly
rem mambaboot.pyz (sha256sum's "DIGEST  NAME", or "DIGEST *NAME" in its binary mode).
set "MB_VAL=%MB_SUMS%"
set "MB_MSG=could not be read: without it mambaboot.pyz cannot be verified"
set "MB_NAME_OUT=SHA256SUMS"
set "MB_CURL_URL=%MB_SUMS%"
call :mb_curl
if errorlevel 1 exit /b 5
set "MB_D="
for /f "usebackq tokens=1,2" %%D in ("%MB_TMPDIR%\SHA256SUMS") do if not defined MB_D if "%%E"=="mambaboot.pyz" set "MB_D=%%D"
for /f "usebackq tokens=1,2" %%D in ("%MB_TMPDIR%\SHA256SUMS") do if not defined MB_D if "%%E"=="*mambaboot.pyz" set "MB_D=%%D"
set "MB_MSG=has no sha256 line for mambaboot.pyz: it cannot be verified"
if not defined MB_D exit /b 5
call :mb_is_digest
if errorlevel 1 exit /b 5
set "MB_EXPECT=%MB_D%"
exit /b 0

:mb_fetch_verified
rem MB_U -> MB_F only if its sha256 is MB_EXPECT: downloaded into the work directory, verified,
rem then renamed into place (whole and verified, or not at all).
for %%F in ("%MB_F%") do (set "MB_NAME_OUT=%%~nxF" & if not exist "%%~dpF" mkdir "%%~dpF")
set "MB_DL=%MB_TMPDIR%\%MB_NAME_OUT%"
set "MB_VAL=%MB_U%"
set "MB_MSG=could not be downloaded"
set "MB_CURL_URL=%MB_U%"
call :mb_curl
if errorlevel 1 exit /b 5
set "MB_KEEP=%MB_F%"
set "MB_F=%MB_DL%"
call :mb_sha256
if errorlevel 1 (set "MB_F=%MB_KEEP%" & exit /b 5)
set "MB_F=%MB_KEEP%"
set "MB_VAL=%MB_U%"
set "MB_MSG=does not match its published digest:"
set "MB_MSG2=expected sha256 %MB_EXPECT%"
set "MB_MSG3=downloaded      %MB_GOT% (nothing was kept)"
if /i not "%MB_GOT%"=="%MB_EXPECT%" exit /b 5
set "MB_MSG3="
rem A program that holds the old file open (an antivirus scanning micromamba.exe, another run
rem using it) makes Windows refuse to replace it (MoveFileEx): move says which above.
set "MB_VAL=%MB_F%"
set "MB_MSG=could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied"
set "MB_MSG2=wait for the scan to end or close that program, then run this again"
move /y "%MB_DL%" "%MB_F%" >nul
if errorlevel 1 exit /b 5
set "MB_MSG2="
exit /b 0

:mb_curl
rem MB_CURL_URL -> MB_TMPDIR\MB_NAME_OUT with Windows' curl.exe; on failure MB_MSG2 says what to
rem do. -o is a name relative to its working directory: a curl.exe built without Unicode file
rem names opens -o in the ANSI code page, where a user name in another script cannot be written.
rem Every redirect hop must stay https (http too with --allow-http): mambaboot's rule (urlrule.py).
set "MB_REDIR==https"
if defined MB_ALLOW_HTTP set "MB_REDIR==http,https"
rem Schannel checks revocation and fails with exit 35 (CRYPT_E_NO_REVOCATION_CHECK) where the
rem revocation servers cannot be reached, as behind a TLS-inspecting proxy (curl issues 3727,
rem 12239, 14315); MAMBA_SSL_NO_REVOKE (true by now, or undefined) turns it off for micromamba
rem and so here too.
set "MB_NOREVOKE="
if defined MAMBA_SSL_NO_REVOKE set "MB_NOREVOKE= --ssl-no-revoke"
set "MB_MSG2=%MB_SYS32%\curl.exe is not there (Windows 10 1803 and later ship it); pass --micromamba PATH"
if not exist "%MB_SYS32%\curl.exe" exit /b 5
rem Bounded as mambaboot bounds a download: MAMBABOOT_HTTP_TIMEOUT seconds to connect,
rem MAMBABOOT_HTTP_DEADLINE seconds for an attempt, after which no retry starts (--max-time,
rem --retry-max-time: exit 28), MAMBABOOT_HTTP_MAX_BYTES bytes (--max-filesize: exit 63, before
rem the body when its Content-Length says so). A curl.exe before 8.4.0 lets a body sent without
rem Content-Length through whatever --max-filesize says (curl's manual): its size, checked here,
rem refuses it afterwards, as 63. Both numbers are compared as 20 digits: cmd's numbers are 32-bit.
pushd "%MB_TMPDIR%"
"%MB_SYS32%\curl.exe" -fsSL%MB_NOREVOKE% --retry 3 --connect-timeout %MB_CONNECT% --max-time %MB_DEADLINE% --retry-max-time %MB_DEADLINE% --max-filesize %MB_MAX_BYTES% --max-redirs 10 --proto-redir %MB_REDIR% -o "%MB_NAME_OUT%" "%MB_CURL_URL%"
set "MB_CURL_RC=%ERRORLEVEL%"
set "MB_SIZE=0"
if exist "%MB_NAME_OUT%" for %%F in ("%MB_NAME_OUT%") do set "MB_SIZE=%%~zF"
popd
set "MB_X=00000000000000000000%MB_SIZE%"
set "MB_Y=00000000000000000000%MB_MAX_BYTES%"
if "%MB_X:~-20%" gtr "%MB_Y:~-20%" set "MB_CURL_RC=63"
set "MB_MSG2="
if "%MB_CURL_RC%"=="0" exit /b 0
if exist "%MB_TMPDIR%\%MB_NAME_OUT%" del /f /q "%MB_TMPDIR%\%MB_NAME_OUT%"
set "MB_MSG2=it is larger than MAMBABOOT_HTTP_MAX_BYTES=%MB_MAX_BYTES% bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
if "%MB_CURL_RC%"=="63" exit /b 5
set "MB_MSG2=curl.exe failed with exit 28: no whole answer within MAMBABOOT_HTTP_DEADLINE=%MB_DEADLINE% seconds (MAMBABOOT_HTTP_TIMEOUT=%MB_CONNECT% seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
if "%MB_CURL_RC%"=="28" exit /b 5
rem curl.exe reads the proxy only from HTTPS_PROXY, HTTP_PROXY and ALL_PROXY, never from
rem Windows' proxy settings; micromamba reads the same variables (libcurl's), never Windows' either.
set "MB_MSG2=curl.exe failed with exit %MB_CURL_RC%; behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)"
rem With a proxy set, which one it went through, and what a proxy that wants Windows logon means
rem for micromamba (libmamba sets CURLOPT_PROXY, never CURLOPT_PROXYAUTH: libcurl offers Basic only).
if defined MB_PROXY_VAR set "MB_MSG2=curl.exe failed with exit %MB_CURL_RC%; %MB_PROXY_VAR% names the proxy it went through; if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
if "%MB_CURL_RC%"=="22" set "MB_MSG2=curl.exe failed with exit 22: the server answered with an HTTP error, so there is no such file there: check --micromamba-version, --micromamba-url, --zipapp and MAMBABOOT_RELEASES_URL"
set "MB_CODE=%MB_CURL_RC%"
set "MB_WHAT=curl.exe"
call :mb_blocked
if "%MB_CURL_RC%"=="35" set "MB_MSG2=curl.exe failed with exit 35 (the TLS handshake); behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation)"
exit /b 5

:mb_sandboxed
rem Run micromamba (MB_BIN MB_RUN_ARGS) the way create does: every conda/mamba/python variable
rem gone, no other environment on PATH, a private home (and temp) that is deleted afterwards.
setlocal
rem The network and machine settings create carries too (engine/network.py), from the
rem environment only; libmamba reads credentials from the home that is about to be private.
set "MB_CA_UNSET="
if not defined MAMBA_SSL_VERIFY if not defined MAMBA_CACERT_PATH set "MB_CA_UNSET=1"
if defined MB_CA_UNSET if defined SSL_CERT_FILE set "MAMBA_SSL_VERIFY=%SSL_CERT_FILE%"
if defined MB_CA_UNSET if defined REQUESTS_CA_BUNDLE set "MAMBA_SSL_VERIFY=%REQUESTS_CA_BUNDLE%"
rem libmamba reads MAMBA_SSL_VERIFY as YAML (Source<T>::deserialize,
rem libmamba/include/mamba/api/configuration_impl.hpp), which cuts a bare path at " #" and stops
rem on a leading @: in single quotes YAML reads every character back, a quote written twice.
if defined MB_CA_UNSET if defined MAMBA_SSL_VERIFY set "MAMBA_SSL_VERIFY='%MAMBA_SSL_VERIFY:'=''%'"
if not defined NETRC if exist "%USERPROFILE%\.netrc" set "NETRC=%USERPROFILE%\.netrc"
if not defined NETRC if exist "%USERPROFILE%\_netrc" set "NETRC=%USERPROFILE%\_netrc"
if exist "%USERPROFILE%\.mamba\auth\authentication.json" mkdir "%MB_HOME%\.mamba\auth" 2>nul
if exist "%USERPROFILE%\.mamba\auth\authentication.json" copy /y "%USERPROFILE%\.mamba\auth\authentication.json" "%MB_HOME%\.mamba\auth\authentication.json" >nul
rem The names are read from a file, never from FOR /F over "set": its child cmd would run the
rem registry AutoRun first (see the top of this file), and what that prints or sets would decide.
set > "%MB_TMPDIR%\names.txt"
for /f "usebackq delims==" %%V in ("%MB_TMPDIR%\names.txt") do (set "MB_V=%%V" & call :mb_scrub)
call :mb_clean_path
set "HOME=%MB_HOME%"
set "USERPROFILE=%MB_HOME%"
set "HOMEDRIVE=%MB_HOME:~0,2%"
set "HOMEPATH=%MB_HOME:~2%"
set "APPDATA=%MB_HOME%\AppData\Roaming"
set "LOCALAPPDATA=%MB_HOME%\AppData\Local"
set "XDG_CONFIG_HOME=%MB_HOME%\.config"
set "XDG_CACHE_HOME=%MB_HOME%\.cache"
set "XDG_DATA_HOME=%MB_HOME%\.local\share"
set "XDG_STATE_HOME=%MB_HOME%\.local\state"
set "TMPDIR=%MB_HOME%\tmp"
set "TEMP=%MB_HOME%\tmp"
set "TMP=%MB_HOME%\tmp"
set "CONDA_PKGS_DIRS=%MB_PKGS%"
if defined MB_RUN_OUT goto :mb_sandboxed_capture
"%MB_BIN%" %MB_RUN_ARGS% < nul 1>&2
exit /b %ERRORLEVEL%
:mb_sandboxed_capture
"%MB_BIN%" %MB_RUN_ARGS% < nul > "%MB_RUN_OUT%" 2>&1
exit /b %ERRORLEVEL%

:mb_scrub
if /i "%MB_V%"=="MAMBA_SSL_VERIFY" exit /b 0
if /i "%MB_V%"=="MAMBA_CACERT_PATH" exit /b 0
if /i "%MB_V%"=="MAMBA_SSL_NO_REVOKE" exit /b 0
if /i "%MB_V%"=="MAMBA_CHANNEL_ALIAS" exit /b 0
if /i "%MB_V:~0,15%"=="CONDA_OVERRIDE_" exit /b 0
if /i "%MB_V:~0,6%"=="CONDA_" set "%MB_V%="
if /i "%MB_V:~0,6%"=="MAMBA_" set "%MB_V%="
if /i "%MB_V:~0,6%"=="PYTHON" set "%MB_V%="
if /i "%MB_V:~0,4%"=="_CE_" set "%MB_V%="
if /i "%MB_V:~0,7%"=="__CONDA" set "%MB_V%="
if /i "%MB_V:~0,11%"=="VIRTUAL_ENV" set "%MB_V%="
if /i "%MB_V:~0,11%"=="_MAMBABOOT_" set "%MB_V%="
rem conda and mamba read the file these two name (isolation.SCRUB_NAMES)
if /i "%MB_V%"=="CONDARC" set "%MB_V%="
if /i "%MB_V%"=="MAMBARC" set "%MB_V%="
exit /b 0

:mb_clean_path
rem PATH without the entries that belong to a Python environment (create's isolation.clean_path).
set "MB_REST=%PATH:"=%"
set "MB_CLEAN="
:mb_clean_next
if not defined MB_REST goto :mb_clean_done
set "MB_E="
rem eol=| (no path holds one): FOR /F's default eol ; would read a PATH starting with ; as a
rem comment, and micromamba would run with an empty PATH (for /?: eol, delims last).
for /f "eol=| tokens=1* delims=;" %%A in ("%MB_REST%") do (set "MB_E=%%A" & set "MB_REST=%%B")
if not defined MB_E goto :mb_clean_done
set "MB_HIT="
set "MB_R=%MB_E%"
if "%MB_R:~-1%"=="\" set "MB_R=%MB_R:~0,-1%"
set "MB_ROOT=%MB_R%"
call :mb_env_root
if /i "%MB_R:~-4%"=="\bin" call set "MB_ROOT=%%MB_R:~0,-4%%"
if /i "%MB_R:~-4%"=="\bin" call :mb_env_root
if /i "%MB_R:~-8%"=="\Scripts" call set "MB_ROOT=%%MB_R:~0,-8%%"
if /i "%MB_R:~-8%"=="\Scripts" call :mb_env_root
if /i "%MB_R:~-9%"=="\condabin" call set "MB_ROOT=%%MB_R:~0,-9%%"
if /i "%MB_R:~-9%"=="\condabin" call :mb_env_root
if /i "%MB_R:~-12%"=="\Library\bin" call set "MB_ROOT=%%MB_R:~0,-12%%"
if /i "%MB_R:~-12%"=="\Library\bin" call :mb_env_root
if /i "%MB_R:~-16%"=="\Library\usr\bin" call set "MB_ROOT=%%MB_R:~0,-16%%"
if /i "%MB_R:~-16%"=="\Library\usr\bin" call :mb_env_root
if /i "%MB_R:~-22%"=="\Library\mingw-w64\bin" call set "MB_ROOT=%%MB_R:~0,-22%%"
if /i "%MB_R:~-22%"=="\Library\mingw-w64\bin" call :mb_env_root
if defined MB_HIT goto :mb_clean_next
if defined MB_CLEAN (set "MB_CLEAN=%MB_CLEAN%;%MB_E%") else set "MB_CLEAN=%MB_E%"
goto :mb_clean_next
:mb_clean_done
set "PATH=%MB_CLEAN%"
exit /b 0

:mb_env_root
if exist "%MB_ROOT%\conda-meta\" set "MB_HIT=1"
if exist "%MB_ROOT%\pyvenv.cfg" set "MB_HIT=1"
exit /b 0
