@echo off
rem bootstrap.bat [NAME] [PY_VERSION] [options]
rem
rem Makes a conda environment (Python, conda, mamba) on a Windows machine that has no Python,
rem then hands over to the new environment's own python running "mambaboot.pyz adopt", which
rem does the rest exactly as "mambaboot create" would. This script does only what must happen
rem before a Python exists: check, download and verify micromamba, run it once, sandboxed. It
rem never deletes anything but its own temporary directories.
rem
rem Exit codes are create's: 2 usage, 3 the shell has an environment active, 4 target refused,
rem 5 micromamba (or the zipapp) could not be obtained or verified, 6 micromamba failed,
rem 7 the environment has no python; after the hand-over, adopt's own code.
rem
rem How this file stays correct in cmd.exe:
rem  - delayed expansion is OFF (but for the lines that measure PATH): a value holding ! stays intact, and errors are tested with
rem    "if errorlevel N", which is evaluated when the line runs (%%ERRORLEVEL%% inside a
rem    parenthesized block is expanded when the block is read, before the command ran);
rem  - values are only ever expanded inside double quotes, where & ( ) ^ < > | are plain;
rem  - values never go through CALL, which doubles carets and expands %% a second time;
rem  - nothing depends on a value read inside the block that set it;
rem  - refusal texts hold no < > | & : echo reads %%MB_MSG%% unquoted, and cmd parses what a
rem    %%VAR%% expanded to, so those would be operators there (words name them instead);
rem  - Windows' own programs (curl.exe, certutil.exe) are called by their full path in System32:
rem    by name, cmd looks in the current directory first (often Downloads), then on PATH.
rem  - no FOR /F over a command that decides anything: FOR /F runs it in a child "cmd /c",
rem    without /D, which runs the registry's Command Processor\AutoRun first and reads its output
rem    too (cmd's own help for /D; Raymond Chen, "Hidden gotcha: The command processor's AutoRun setting").
setlocal EnableExtensions DisableDelayedExpansion

rem Opened by a double-click, cmd runs this file as Explorer's batfile association ("%%1" %%*)
rem starts it, "C:\Windows\system32\cmd.exe /c ""C:\...\bootstrap.bat" "" (ss64, "CMDCMDLINE"),
rem and closes its window when the script ends, with every message in it: then the script runs
rem as a subroutine and waits for a key at the end. With any argument, or from any other
rem command line (a cmd prompt, another script, a CI runner), it never waits. The command line
rem is read only inside quotes, its own quotes removed, so no character of a path acts in it.
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
set "MB_CC="
set "MB_PINNED=2.8.1-0"
set "MB_RELEASES=https://github.com/mamba-org/micromamba-releases/releases"
rem The address of the release this copy belongs to: empty in the repository; a release's copy
rem names it (tools/build_release.py --release-url), so that this script alone fetches the zipapp.
set "MB_RELEASE="
set "MB_SELF=%~dp0"
set "MB_CWD=%CD%"
set "MB_NAME="
set "MB_NAME_SET="
set "MB_PYTHON="
set "MB_NPOS=0"
set "MB_CHARGS="
set "MB_SPECS="
set "MB_PKGARGS="
set "MB_GIVEN="
set "MB_MM_PATH=%MAMBABOOT_MICROMAMBA%"
set "MB_MM_VERSION="
set "MB_MM_URL="
set "MB_MM_SHA="
set "MB_ALLOW_HTTP="
set "MB_ENVS="
set "MB_CACHE="
set "MB_ZIPAPP="
set "MB_ZIPAPP_SHA="
set "MB_HOME="
set "MB_TMPDIR="
set "MB_VAL="
set "MB_MSG2="
set "MB_MSG3="
set "MB_RC=2"
rem The proxy curl.exe and micromamba take for an https URL: HTTPS_PROXY, else ALL_PROXY (curl's manual, ENVIRONMENT).
set "MB_PROXY_VAR="
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
if "%MB_ARG%"=="--allow-http" goto :mb_allow_http
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
if "%MB_OPT%"=="-c" set MB_CHARGS=%MB_CHARGS% -c "%MB_Q%"
if "%MB_OPT%"=="--channel" set MB_CHARGS=%MB_CHARGS% -c "%MB_Q%"
if "%MB_OPT%"=="--package" set MB_SPECS=%MB_SPECS% "%MB_Q%"
if "%MB_OPT%"=="--package" set MB_PKGARGS=%MB_PKGARGS% --package "%MB_Q%"
if "%MB_OPT:~0,12%"=="--micromamba" set MB_GIVEN=%MB_GIVEN% %MB_OPT% "%MB_Q%"
set "MB_VAL="
shift
shift
goto :mb_args

:mb_allow_http
set "MB_ALLOW_HTTP=1"
set MB_GIVEN=%MB_GIVEN% --allow-http
shift
goto :mb_args

:mb_positional
set /a MB_NPOS+=1
if %MB_NPOS%==1 set "MB_NAME=%MB_ARG%"
if %MB_NPOS%==1 set "MB_NAME_SET=1"
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
echo current directory; then runs "mambaboot.pyz adopt" with the new environment's python.
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
echo.
echo environment: PY_ENVS, CONDA_PKGS_DIRS, MAMBABOOT_MICROMAMBA, MAMBABOOT_RELEASES_URL (a
echo mirror of the release tree), MAMBABOOT_HTTP_TIMEOUT, MAMBABOOT_HTTP_DEADLINE (seconds) and
echo MAMBABOOT_HTTP_MAX_BYTES (whole numbers), as for "mambaboot create".
exit /b 0

:mb_args_done

rem ------------------------------------------------------------------ checks that write nothing

rem cmd.exe reads no line longer than 8191 characters once %%VAR%% is expanded ("The input line is
rem too long.", and the batch file ends: Microsoft's "Command prompt line string limitation");
rem this script copies PATH in one line with some 90 characters more (mb_clean_path), so a PATH
rem longer than 8000 is refused at once. PATH is copied with !PATH!, expanded after the line is
rem read, so neither its length nor its characters act in it (the only place delayed expansion is
rem on), behind a "#"; the 8001st character from the end of that copy is the "#" only when there
rem were no more (a negative offset larger than the value starts at its beginning: ss64,
rem "VarSubstring"), and one character is all %%VAR%% puts in the line. Never an offset past the
rem end, which Wine's cmd answers with stale memory; Wine has no substring of !VAR! at all.
set "MB_MSG=PATH is longer than 8000 characters, and cmd.exe cannot read a line longer than 8191 characters with it expanded; shorten PATH for this cmd (set PATH=...) or use bootstrap.ps1"
set "MB_T="
setlocal EnableDelayedExpansion
set "MB_T=#!PATH!"
set "MB_T=%MB_T:~-8001,1%"
set "MB_T=%MB_T:#=%"
if defined MB_T (endlocal & set "MB_T=1") else endlocal
if defined MB_T goto :mb_fail
set "MB_MSG="

rem The bounds mambaboot's own downloads take from the same variables (engine/download.py), here
rem in whole seconds and bytes: curl.exe reads --max-time 0 as no limit at all.
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
set "MB_VAL="

rem MAMBA_SSL_NO_REVOKE as a boolean, from whatever spelling was given (engine/network.py flag):
rem libmamba reads the variable as YAML, where 1 and 0 are no booleans and stop micromamba
rem (Configurable::compute, libmamba/include/mamba/api/configuration.hpp; yaml-cpp's
rem convert<bool>::decode), and raw in get_env_remote_params (download/downloader.cpp), where
rem anything but 0, false included, turns the check off: so it goes on as true or not at all.
if not defined MAMBA_SSL_NO_REVOKE goto :mb_revoke_read
set "MB_T="
for %%B in (y yes true on 1) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=true"
for %%B in (n no false off 0) do if /i "%MAMBA_SSL_NO_REVOKE%"=="%%B" set "MB_T=false"
set "MB_VAL=MAMBA_SSL_NO_REVOKE=%MAMBA_SSL_NO_REVOKE%"
set "MB_MSG=is neither true nor false: set it to true or false"
if not defined MB_T goto :mb_fail
set "MB_VAL="
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
call :mb_is_version 3
if errorlevel 1 goto :mb_fail
set "MB_ENVNAME=%MB_NAME%_%MB_PYTHON:.=_%"
:mb_named

if defined MB_ENVS goto :mb_envs_found
if not defined PY_ENVS goto :mb_envs_drive
set "MB_ENVS=%PY_ENVS%"
rem A directory by its attributes: Wine's cmd finds "FILE\" to exist too.
set "MB_T="
if exist "%PY_ENVS%\" for %%I in ("%PY_ENVS%") do set "MB_T=%%~aI"
if defined MB_T if "%MB_T:~0,1%"=="d" goto :mb_envs_found
rem Never the next default instead: the environment would land where the user did not say.
set "MB_T=%PY_ENVS%"
call :mb_full
echo bootstrap: error: PY_ENVS names "%MB_T%", which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS 1>&2
goto :mb_fail_cleanup
:mb_envs_drive
set "MB_ENVS=%MB_CWD:~0,2%\dev\Anaconda\envs"
if exist "%MB_ENVS%\" goto :mb_envs_found
set "MB_ENVS=%MB_CWD%"
set "MB_VAL="
rem cmd.exe starts in the Windows directory when the script is opened from a network share
rem ("UNC paths are not supported. Defaulting to Windows directory."), and an elevated one in
rem System32: never the place the user meant.
set "MB_MSG=the current directory is Windows' own, where cmd.exe starts a script opened from a network share or as administrator; pass --envs-dir DIR or set PY_ENVS"
if defined SystemRoot if /i "%MB_CWD%"=="%SystemRoot%" goto :mb_fail
if defined SystemRoot if /i "%MB_CWD%"=="%SystemRoot%\System32" goto :mb_fail
rem A double-click runs the script in its own folder: from a Desktop or Documents that OneDrive
rem syncs (OneDrive, OneDriveCommercial, OneDriveConsumer name its roots), or from a home drive
rem mapped to a network share (HOMESHARE, HOMEDRIVE), the environment would land there unasked
rem (Microsoft Learn, "OneDrive Files On-Demand"; "Folder Redirection"). Only this default is
rem refused: a parent the user names is the user's choice.
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
set "MB_MSG="
:mb_envs_found
set "MB_T=%MB_ENVS%"
call :mb_full
set "MB_ENVS=%MB_T%"
if "%MB_ENVS:~-1%"=="\" (set "MB_PREFIX=%MB_ENVS%%MB_ENVNAME%") else set "MB_PREFIX=%MB_ENVS%\%MB_ENVNAME%"

rem Packages write the prefix into their own .bat files, where cmd.exe expands % and !.
set "MB_T=%MB_PREFIX%"
set "MB_VAL=%MB_PREFIX%"
set "MB_MSG=is a prefix with a character packages or Windows cannot take (a percent sign, an exclamation mark, an angle bracket, a vertical bar, a question mark, an asterisk or a second colon); choose another path"
call :mb_bad_char
if errorlevel 1 goto :mb_fail

if defined MB_CACHE goto :mb_cache_found
set "MB_CACHE=%MB_CWD:~0,2%\CACHE"
if exist "%MB_CACHE%\" goto :mb_cache_found
rem A relative LOCALAPPDATA is ignored and a relative USERPROFILE refused, as mambaboot does
rem (common/host.py): either would put the cache under the current directory.
if not defined LOCALAPPDATA goto :mb_cache_profile
set "MB_T=%LOCALAPPDATA%"
call :mb_is_absolute
if errorlevel 1 goto :mb_cache_profile
set "MB_CACHE=%LOCALAPPDATA%\mambaboot\Cache"
goto :mb_cache_found
:mb_cache_profile
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
rem libmamba parses CONDA_PKGS_DIRS as the YAML list "[VALUE]" (configuration_impl.hpp): the rule of
rem mambaboot's pathrules.check_pkgs_dir (entries are absolute, so no leading indicator is possible).
set "MB_VAL=%MB_PKGS%"
set "MB_MSG=holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS"
if not "%MB_PKGS:[=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:]=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:{=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:}=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:#=%"=="%MB_PKGS%" goto :mb_fail
if not "%MB_PKGS:: =%"=="%MB_PKGS%" goto :mb_fail
set "MB_VAL="
set "MB_MSG="

if defined MB_MM_SHA (set "MB_D=%MB_MM_SHA%" & set "MB_VAL=%MB_MM_SHA%") else goto :mb_sha_given
set "MB_MSG=is not a sha256 hex digest"
call :mb_is_digest
if errorlevel 1 goto :mb_fail
set "MB_MM_SHA=%MB_D%"
:mb_sha_given
if defined MB_ZIPAPP_SHA (set "MB_D=%MB_ZIPAPP_SHA%" & set "MB_VAL=%MB_ZIPAPP_SHA%") else goto :mb_zsha_given
set "MB_MSG=is not a sha256 hex digest"
call :mb_is_digest
if errorlevel 1 goto :mb_fail
set "MB_ZIPAPP_SHA=%MB_D%"
:mb_zsha_given

rem The machine's processor: a 32-bit cmd on 64-bit Windows sees x86 in PROCESSOR_ARCHITECTURE and the
rem machine's own in PROCESSOR_ARCHITEW6432 (Microsoft Learn, "WOW64 Implementation Details"). micromamba
rem ships win-64 and win-arm64 builds; Windows 10 on ARM runs no x64 program, and Windows 11 on ARM
rem runs the arm64 one natively: each gets its own, and a processor with none is refused.
set "MB_ARCH=%PROCESSOR_ARCHITECTURE%"
if defined PROCESSOR_ARCHITEW6432 set "MB_ARCH=%PROCESSOR_ARCHITEW6432%"
set "MB_SUBDIR="
if /i "%MB_ARCH%"=="AMD64" set "MB_SUBDIR=win-64"
if /i "%MB_ARCH%"=="ARM64" set "MB_SUBDIR=win-arm64"
set "MB_KIND=local"
if defined MB_MM_PATH goto :mb_source_done
set "MB_VAL=%MB_ARCH%"
set "MB_MSG=is a processor micromamba has no Windows build for (win-64 is for AMD64, win-arm64 for ARM64); pass --micromamba PATH to a micromamba.exe that runs here"
if not defined MB_SUBDIR (set "MB_RC=5" & goto :mb_fail)
set "MB_VAL="
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

rem Without --zipapp: the one beside this script, else the one of the release this copy belongs
rem to, a --zipapp URL whose digest is its line in the release's SHA256SUMS.
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
if not defined MB_ZIPAPP_URL goto :mb_zipapp_path
set "MB_UOPT=--zipapp"
set "MB_U=%MB_ZIPAPP_URL%"
call :mb_check_url
if errorlevel 1 goto :mb_fail
goto :mb_zipapp_checked
:mb_zipapp_path
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

set "MB_RC=4"
set "MB_RECHECK="
call :mb_check_target
if errorlevel 1 exit /b %MB_RC%

rem ------------------------------------------------------------------ from here on, writes

rem The run's token, of the form mambaboot's own runs have (common/files/tempname.py run_token):
rem every temporary of this run carries it. Its work directory is mambaboot's (common/files/workdir.py):
rem CACHE\tmp\mambaboot-tmp-TOKEN-bootstrap, the private home in it, its lock file beside it
rem (NAME.lock, holding the token) held from before the directory exists until it is gone. cmd
rem holds a file the one way it can: :mb_held runs with its output redirected to it, which opens
rem it for writing and shares only reading (ss64, "Redirection"; the lock idiom `call :sub
rem 9>"%%lock%%"`): mambaboot and another bootstrap find it held (common/files/filelock.py). The
rem redirection is the CALL line's own, taken from it before CALL reads its command again (a
rem block's instead, `(call :sub) > FILE`, is lost by Wine's cmd inside a called label).
rem `mambaboot cache clean` names one a killed run left, whose lock is free then; it bears no
rem mark (cmd cannot read a directory's file ID), so it is never deleted for the user.
set "MB_VAL=%MB_CACHE%"
set "MB_MSG=cannot be written (the cache directory)"
if not exist "%MB_CACHE%\tmp\" mkdir "%MB_CACHE%\tmp" 2>nul
if not exist "%MB_CACHE%\tmp\" goto :mb_fail
set "MB_TRIES=0"
:mb_work_next
set /a MB_TRIES+=1
set "MB_VAL=%MB_CACHE%\tmp"
set "MB_MSG=cannot be written, or had no free name for this run's work directory (mambaboot-tmp-TOKEN-bootstrap and its lock) in 20 tries"
if %MB_TRIES% gtr 20 goto :mb_fail
call :mb_token
set "MB_TMPDIR=%MB_CACHE%\tmp\mambaboot-tmp-%MB_TOKEN%-bootstrap"
set "MB_WLOCK=%MB_TMPDIR%.lock"
if exist "%MB_WLOCK%" goto :mb_work_next
if exist "%MB_TMPDIR%" goto :mb_work_next
set "MB_HELD="
set "MB_DONE="
call :mb_held > "%MB_WLOCK%"
if not defined MB_HELD goto :mb_work_next
if not defined MB_DONE del /f /q "%MB_WLOCK%"
if not defined MB_DONE exit /b %MB_RC%

rem ------------------------------------------------------------------ hand-over: the rest is mambaboot's

set "MB_Q=%MB_ENVS%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
set MB_ADOPT=--name "%MB_NAME%" --envs-dir "%MB_Q%"
set "MB_Q=%MB_CACHE%"
if "%MB_Q:~-1%"=="\" set "MB_Q=%MB_Q%\"
set MB_ADOPT=%MB_ADOPT% --cache-dir "%MB_Q%"
if defined MB_PYTHON set MB_ADOPT=%MB_ADOPT% --python "%MB_PYTHON%"
rem The line is expanded before it runs: the script's own variables are gone when python starts.
rem Their names come from a file, as in :mb_sandboxed (no child cmd, no AutoRun).
rem The work directory is gone: its lock file, released, lists them, and goes too.
> "%MB_WLOCK%" set MB_
(for /f "usebackq delims==" %%V in ("%MB_WLOCK%") do set "%%V=") & del /f /q "%MB_WLOCK%" & "%MB_PREFIX%\python.exe" -I "%MB_ZIPAPP%" adopt "%MB_PREFIX%" %MB_ADOPT%%MB_MMCH%%MB_PKGARGS%%MB_GIVEN% --micromamba-version-used "%MB_MM_USED%" --micromamba-sha256-used "%MB_SHA%"
exit /b %ERRORLEVEL%

:mb_held
rem The run's work, with its output going to its work directory's lock file (see above): every
rem message goes to stderr, as everywhere in this file; the one line written here is the token.
set "MB_HELD=1"
echo %MB_TOKEN%
set "MB_VAL=%MB_TMPDIR%"
set "MB_MSG=could not be made (this run's work directory)"
mkdir "%MB_TMPDIR%" 2>nul
if errorlevel 1 (set "MB_TMPDIR=" & goto :mb_fail)
> "%MB_TMPDIR%\.mambaboot-home" echo a work directory mambaboot made for one run; deleted after it
set "MB_HOME=%MB_TMPDIR%\home"
mkdir "%MB_HOME%\tmp"
rem Another run's private home: one killed before its end (a closed window) leaves it, with the
rem copy of authentication.json it may hold. cmd cannot prove its run gone (it may be running
rem now), so it is named, never deleted: this script's (in its work directory), bootstrap.ps1's
rem and mambaboot's (mambaboot-tmp-TOKEN-home), an older copy's (home-*). Listed by dir into a
rem file: FOR over a quoted wildcard matches nothing in Wine's cmd, and FOR /F over a command
rem would run AutoRun.
set "MB_MSG2=is the private home of another run, left by one that did not finish or in use by one running now; it may hold a copy of your authentication.json: delete it when no bootstrap runs"
dir /b /ad "%MB_CACHE%\tmp\mambaboot-tmp-*-bootstrap" > "%MB_TMPDIR%\homes.txt" 2>nul
for /f "usebackq delims=" %%D in ("%MB_TMPDIR%\homes.txt") do if /i not "%MB_CACHE%\tmp\%%D"=="%MB_TMPDIR%" if exist "%MB_CACHE%\tmp\%%D\home\" echo bootstrap: warning: "%MB_CACHE%\tmp\%%D\home" %MB_MSG2% 1>&2
dir /b /ad "%MB_CACHE%\tmp\mambaboot-tmp-*-home" > "%MB_TMPDIR%\homes.txt" 2>nul
dir /b /ad "%MB_CACHE%\tmp\home-*" >> "%MB_TMPDIR%\homes.txt" 2>nul
for /f "usebackq delims=" %%D in ("%MB_TMPDIR%\homes.txt") do echo bootstrap: warning: "%MB_CACHE%\tmp\%%D" %MB_MSG2% 1>&2
set "MB_MSG2="

set "MB_RC=5"
set "MB_VAL="
if not defined MB_ZIPAPP_URL goto :mb_zipapp_ready
set "MB_U=%MB_ZIPAPP_URL%"
set "MB_EXPECT=%MB_ZIPAPP_SHA%"
if defined MB_EXPECT goto :mb_zipapp_digest
if defined MB_SUMS goto :mb_zipapp_listed
call :mb_published
if errorlevel 1 goto :mb_fail
goto :mb_zipapp_digest
:mb_zipapp_listed
call :mb_listed
if errorlevel 1 goto :mb_fail
:mb_zipapp_digest
set "MB_DIR=%MB_CACHE%\zipapp\%MB_EXPECT:~0,16%"
set "MB_ZIPAPP=%MB_DIR%\mambaboot.pyz"
if not exist "%MB_DIR%\" mkdir "%MB_DIR%"
set "MB_F=%MB_ZIPAPP%"
set "MB_GOT="
if exist "%MB_ZIPAPP%" call :mb_sha256
if /i "%MB_GOT%"=="%MB_EXPECT%" goto :mb_zipapp_ready
call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
:mb_zipapp_ready

rem ------------------------------------------------------------------ micromamba: the cache layout is create's

set "MB_STORE=%MB_CACHE%\micromamba"
if not exist "%MB_STORE%\" mkdir "%MB_STORE%"
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
set "MB_NOTES=%MB_STORE%\versions\%MB_SHA:~0,32%"
if not exist "%MB_NOTES%\" mkdir "%MB_NOTES%"
goto :mb_have_binary

:mb_download
rem A pinned release never changes, so its version names its directory and its digest is
rem kept there; latest and mirrors can change under one URL, so the digest names theirs.
set "MB_SHA=%MB_MM_SHA%"
set "MB_NOTES="
if not "%MB_KIND%"=="release" goto :mb_moving
if "%MB_VERSION%"=="latest" goto :mb_moving
set "MB_NOTES=%MB_STORE%\%MB_VERSION%-%MB_SUBDIR%"
if defined MB_SHA goto :mb_moving
if not exist "%MB_NOTES%\sha256" goto :mb_moving
for /f "usebackq tokens=1" %%D in ("%MB_NOTES%\sha256") do set "MB_SHA=%%D"
:mb_moving
set "MB_U=%MB_URL%"
set "MB_EXPECT=%MB_SHA%"
if defined MB_SHA goto :mb_digest_known
call :mb_published
if errorlevel 1 goto :mb_fail
set "MB_SHA=%MB_EXPECT%"
:mb_digest_known
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
if not exist "%MB_NOTES%\" mkdir "%MB_NOTES%"
for %%F in ("%MB_BIN%" "%MB_NOTES%\sha256" "%MB_NOTES%\version") do if exist "%%~F" del /f /q "%%~F"
set "MB_DIR=%MB_NOTES%"
set "MB_F=%MB_BIN%"
call :mb_fetch_verified
if errorlevel 1 goto :mb_fail
<nul set /p "=%MB_SHA%" > "%MB_NOTES%\.sha256.mambaboot-tmp-%MB_TOKEN%"
move /y "%MB_NOTES%\.sha256.mambaboot-tmp-%MB_TOKEN%" "%MB_NOTES%\sha256" >nul
set "MB_HOW=downloaded"

:mb_have_binary
set "MB_MM_USED="
if exist "%MB_NOTES%\version" for /f "usebackq tokens=*" %%L in ("%MB_NOTES%\version") do set "MB_MM_USED=%%L"
if defined MB_MM_USED goto :mb_version_known
set "MB_RUN_ARGS=--version"
set "MB_RUN_OUT=%MB_TMPDIR%\version.txt"
set "MB_VAL=%MB_BIN%"
set "MB_MSG=does not run: --version failed"
call :mb_sandboxed
if errorlevel 1 goto :mb_fail
for /f "usebackq tokens=*" %%L in ("%MB_RUN_OUT%") do set "MB_MM_USED=%%L"
set "MB_MSG=printed no version"
if not defined MB_MM_USED goto :mb_fail
set "MB_X="
for /f "delims=0123456789.-+_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" %%X in ("%MB_MM_USED%") do set "MB_X=%%X"
set "MB_MSG=printed a version this script does not trust to echo"
if defined MB_X goto :mb_fail
<nul set /p "=%MB_MM_USED%" > "%MB_NOTES%\.version.mambaboot-tmp-%MB_TOKEN%"
move /y "%MB_NOTES%\.version.mambaboot-tmp-%MB_TOKEN%" "%MB_NOTES%\version" >nul
:mb_version_known
echo micromamba: %MB_MM_USED% (%MB_HOW%, sha256 %MB_SHA:~0,12%) 1>&2

rem ------------------------------------------------------------------ the engine, once, sandboxed

set "MB_SPEC_PY=python"
if defined MB_PYTHON set "MB_SPEC_PY=python=%MB_PYTHON%"
set MB_MMCH=%MB_CHARGS%
if not defined MB_MMCH set MB_MMCH= -c "conda-forge"
rem The root prefix is private (never the target: libmamba refuses an existing target that is the
rem root prefix, create.cpp); shortcuts off (menuinst ignores the private APPDATA). See engine\micromamba.py.
set MB_RUN_ARGS=create --yes --no-rc --override-channels%MB_MMCH% --prefix "%MB_PREFIX%" --root-prefix "%MB_HOME%\root" --no-shortcuts --lock-timeout 600 "%MB_SPEC_PY%" conda mamba%MB_SPECS%
set "MB_RUN_OUT="
rem The lock is beside the prefix: its parent is made first, as create makes it before its lock.
set "MB_RC=4"
set "MB_VAL=%MB_ENVS%"
set "MB_MSG=could not be made (the environment's parent directory)"
if not exist "%MB_ENVS%\" mkdir "%MB_ENVS%" 2>nul
if not exist "%MB_ENVS%\" goto :mb_fail
call :mb_place_lock
if errorlevel 1 goto :mb_fail
set "MB_PLACE_HELD="
set "MB_ENGINE_RC="
call :mb_engine > "%MB_LOCK%"
set "MB_RC=4"
set "MB_VAL=%MB_LOCK%"
set "MB_MSG=is held by another mambaboot run or bootstrap changing the environment right now, or cannot be written (cmd said which above); nothing was changed"
if not defined MB_PLACE_HELD goto :mb_fail
rem Released: the intent emptied, then the file deleted (a handle another run holds on it makes
rem either fail; what is left then says nothing), as mambaboot's own lock goes on Windows.
(type nul > "%MB_LOCK%") 2>nul
del /f /q "%MB_LOCK%" 2>nul
if not defined MB_ENGINE_RC exit /b %MB_RC%
rmdir /s /q "%MB_HOME%"
set "MB_HOME="
set "MB_RC=6"
set "MB_VAL="
set "MB_MSG=micromamba create failed (exit %MB_ENGINE_RC%); nothing was deleted"
if not defined MB_EXISTED if exist "%MB_PREFIX%" set "MB_MSG=micromamba create failed (exit %MB_ENGINE_RC%) and left the prefix behind; nothing was deleted: remove it before trying again"
rem micromamba reads the proxy from HTTPS_PROXY or ALL_PROXY only (libcurl's variables; --no-rc
rem leaves out .condarc's proxy_servers), never from Windows' settings: as bootstrap.ps1 says it.
rem micromamba checks certificates with Schannel, revocation included, where curl.exe may have
rem been told not to (mamba-org/mamba#2751, #3346): a TLS-inspecting proxy can stop it only.
set "MB_MSG3=if it failed on a certificate: behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation) or REQUESTS_CA_BUNDLE=PATH of the company's CA bundle"
if not defined HTTPS_PROXY if not defined ALL_PROXY set "MB_MSG2=if it could not reach the channel: behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)"
if defined MB_PROXY_VAR set "MB_MSG2=if it could not reach the channel: %MB_PROXY_VAR% names the proxy it went through; if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
if not "%MB_ENGINE_RC%"=="0" goto :mb_fail
set "MB_MSG2="
set "MB_MSG3="
echo engine: created "%MB_PREFIX%" 1>&2

set "MB_RC=7"
set "MB_VAL=%MB_PREFIX%\python.exe"
set "MB_MSG=is missing although micromamba finished"
if not exist "%MB_PREFIX%\python.exe" goto :mb_fail
rmdir /s /q "%MB_TMPDIR%"
set "MB_DONE=1"
exit /b 0

:mb_place_lock
rem MB_LOCK: the place's lock file as mambaboot names it (environment/placelock.py,
rem common/files/fsops.py place_lock), .NAME.mambaboot-lock in the prefix's parent: one file
rem however the parent is spelled (a link among the parents reaches the same file; the prefix
rem itself is never a link here). errorlevel 1, MB_VAL and MB_MSG said: it holds what another
rem run left that is not a bootstrap script's intent (bootstrap.ps1 decides alike), which
rem mambaboot settles or names; never overwritten here. A bootstrap script's is taken over: the
rem target's check under the lock settles it as mambaboot would (settle.py, bootstrap rows).
for %%P in ("%MB_PREFIX%") do set "MB_LOCK=%%~dpP.%%~nxP.mambaboot-lock"
set "MB_X="
if exist "%MB_LOCK%" for %%A in ("%MB_LOCK%") do if %%~zA gtr 0 set "MB_X=1"
if not defined MB_X exit /b 0
rem Looked for by find.exe, which reads the file's text as text, never as cmd's syntax; a quote
rem in its string is written twice (Microsoft Learn, "find"): exit 0 found, 1 not, 2 unreadable
rem (a live mambaboot run's lock, whose first byte it holds). Wine's findstr finds anything.
set "MB_RC=4"
set "MB_VAL=%MB_LOCK%"
set "MB_MSG=holds the intent of a mambaboot run that did not finish, or of one running now; any mambaboot command on the environment settles it or names what to do; nothing was changed"
"%MB_SYS32%\find.exe" """operation"": ""bootstrap""" "%MB_LOCK%" >nul 2>nul
if errorlevel 1 exit /b 1
exit /b 0

:mb_engine
rem Runs with its output going to the place's lock file, held open by cmd while micromamba runs
rem (see :mb_held): its one line is the run's intent, which the next mambaboot run of the place
rem settles if this one is killed (environment/settle.py, bootstrap rows). It names no pid (cmd
rem has none to give) and no place (cmd writes the console's code page, not UTF-8): the lock's
rem place is its place. The target is checked again under the lock: another run may have made
rem it meanwhile.
set "MB_PLACE_HELD=1"
echo {"tool": "mambaboot", "operation": "bootstrap", "token": "%MB_TOKEN%", "stage": "engine"}
set "MB_RC=4"
set "MB_RECHECK=1"
call :mb_check_target
if errorlevel 1 exit /b %MB_RC%
set "MB_EXISTED="
if exist "%MB_PREFIX%" set "MB_EXISTED=1"
call :mb_sandboxed
set "MB_ENGINE_RC=%ERRORLEVEL%"
exit /b 0

:mb_check_target
rem MB_PREFIX is missing or an empty directory (not a link, a file or an environment); else
rem refused (exit 4) through :mb_fail. MB_RECHECK: checked again under the place's lock, quietly.
set "MB_VAL=%MB_PREFIX%"
if exist "%MB_PREFIX%\" goto :mb_target_dir
set "MB_MSG=is a file, not a directory; nothing was changed"
if exist "%MB_PREFIX%" goto :mb_fail
if not defined MB_RECHECK echo target: "%MB_PREFIX%" does not exist yet 1>&2
exit /b 0
:mb_target_dir
set "MB_ATTR="
for %%A in ("%MB_PREFIX%") do set "MB_ATTR=%%~aA"
set "MB_MSG=is a file, not a directory; nothing was changed"
if defined MB_ATTR if not "%MB_ATTR:~0,1%"=="d" goto :mb_fail
set "MB_MSG=is a link; give the real path of the environment instead"
if defined MB_ATTR if not "%MB_ATTR:l=%"=="%MB_ATTR%" goto :mb_fail
set "MB_MSG=holds an environment mambaboot manages; use mambaboot create --force to replace it"
if exist "%MB_PREFIX%\.mambaboot\record.json" goto :mb_fail
set "MB_MSG=already holds a Python; it was left untouched"
if exist "%MB_PREFIX%\python.exe" goto :mb_fail
if exist "%MB_PREFIX%\bin\python*" goto :mb_fail
set "MB_E="
rem Only a line that names an entry counts: FOR /F's child cmd runs the registry AutoRun first,
rem whose output would make an empty directory look non-empty (see the top of this file).
for /f "usebackq delims=" %%F in (`dir /b /a "%MB_PREFIX%" 2^>nul`) do if exist "%MB_PREFIX%\%%F" set "MB_E=1"
set "MB_MSG=is a non-empty directory; it was left untouched"
if defined MB_E goto :mb_fail
if not defined MB_RECHECK echo target: "%MB_PREFIX%" is an empty directory 1>&2
exit /b 0

:mb_token
rem MB_TOKEN: 32 lowercase hex digits drawn from %%RANDOM%%, after skipping as many as the clock's
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
if defined MB_HOME if exist "%MB_HOME%\" rmdir /s /q "%MB_HOME%"
if defined MB_TMPDIR if exist "%MB_TMPDIR%\" rmdir /s /q "%MB_TMPDIR%"
exit /b %MB_RC%

rem ------------------------------------------------------------------ subroutines (they take no arguments that hold data)

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
rem MB_T is a version with 1 to %1 dot-separated numbers.
set "MB_X="
for /f "delims=0123456789." %%X in ("%MB_T%") do set "MB_X=%%X"
if defined MB_X exit /b 1
if "%MB_T:~0,1%"=="." exit /b 1
if "%MB_T:~-1%"=="." exit /b 1
if not "%MB_T:..=%"=="%MB_T%" exit /b 1
set "MB_X="
if "%1"=="3" for /f "tokens=4 delims=." %%X in ("%MB_T%") do set "MB_X=%%X"
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
call :mb_is_version 3
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
rem errorlevel 1 when MB_T holds % ! < > | ? * or a : after the drive.
set "MB_I=0"
:mb_bad_char_next
set "MB_C="
call set "MB_C=%%MB_T:~%MB_I%,1%%"
if not defined MB_C exit /b 0
if "%MB_C%"=="%%" exit /b 1
if "%MB_C%"=="!" exit /b 1
if "%MB_C%"=="<" exit /b 1
if "%MB_C%"==">" exit /b 1
if "%MB_C%"=="|" exit /b 1
if "%MB_C%"=="?" exit /b 1
if "%MB_C%"=="*" exit /b 1
if "%MB_C%"==":" if %MB_I% gtr 1 exit /b 1
set /a MB_I+=1
goto :mb_bad_char_next

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
"%MB_SYS32%\certutil.exe" -hashfile "%MB_F%" SHA256 > "%MB_TMPDIR%\hash.txt"
if errorlevel 1 goto :mb_sha256_failed
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
set "MB_DIR=%MB_TMPDIR%"
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
set "MB_DIR=%MB_TMPDIR%"
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
rem MB_U -> MB_F (in MB_DIR) only if its sha256 is MB_EXPECT: whole and verified, or not at all.
for %%F in ("%MB_F%") do set "MB_NAME_OUT=.%%~nxF.mambaboot-tmp-%MB_TOKEN%"
set "MB_DL=%MB_DIR%\%MB_NAME_OUT%"
set "MB_VAL=%MB_U%"
set "MB_MSG=could not be downloaded"
set "MB_CURL_URL=%MB_U%"
call :mb_curl
if errorlevel 1 goto :mb_fetch_failed
set "MB_KEEP=%MB_F%"
set "MB_F=%MB_DL%"
call :mb_sha256
if errorlevel 1 (set "MB_F=%MB_KEEP%" & goto :mb_fetch_failed)
set "MB_F=%MB_KEEP%"
set "MB_VAL=%MB_U%"
set "MB_MSG=does not match its published digest:"
set "MB_MSG2=expected sha256 %MB_EXPECT%"
set "MB_MSG3=downloaded      %MB_GOT% (nothing was kept)"
if /i not "%MB_GOT%"=="%MB_EXPECT%" goto :mb_fetch_failed
set "MB_MSG2="
set "MB_MSG3="
rem A program that holds the old file open (an antivirus scanning micromamba.exe, another run
rem using it) makes Windows refuse to replace it: a sharing violation or access denied, which
rem move says above this message (MoveFileEx). The download was verified; only its place was refused.
set "MB_VAL=%MB_F%"
set "MB_MSG=could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied"
set "MB_MSG2=wait for the scan to end or close that program, then run this again"
move /y "%MB_DL%" "%MB_F%" >nul
if errorlevel 1 goto :mb_fetch_failed
set "MB_MSG2="
exit /b 0
:mb_fetch_failed
if exist "%MB_DL%" del /f /q "%MB_DL%"
exit /b 5

:mb_curl
rem MB_CURL_URL -> MB_DIR\MB_NAME_OUT with Windows' curl.exe; on failure MB_MSG2 says what to do.
rem The output is named relative to MB_DIR, its working directory: a curl.exe built without
rem Unicode file names opens -o in the ANSI code page, where a name outside it (a user name in
rem another script) cannot be written; the working directory is set by cmd, in Unicode.
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
pushd "%MB_DIR%"
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
if exist "%MB_DIR%\%MB_NAME_OUT%" del /f /q "%MB_DIR%\%MB_NAME_OUT%"
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
"%MB_BIN%" %MB_RUN_ARGS% < nul > "%MB_RUN_OUT%" 2> "%MB_RUN_OUT%.err"
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
for /f "tokens=1* delims=;" %%A in ("%MB_REST%") do (set "MB_E=%%A" & set "MB_REST=%%B")
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
