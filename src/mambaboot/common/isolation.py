"""What a clean shell is: the contamination check and the sanitized baseline for children.

The user's rule is one environment per shell ancestry. A shell that already carries one
(conda's variables, a virtualenv, PYTHONPATH) is refused rather than silently mixed in,
and every child we start gets a baseline with all of that removed, whatever we were told.
"""

import os

# Any of these set means some Python environment is already live in this shell.
CONTAMINATING = (
    "CONDA_PREFIX",
    "CONDA_SHLVL",
    "CONDA_DEFAULT_ENV",
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHON_ENVS",
    "VIRTUAL_ENV",
)
# Removed from every child environment: conda/mamba state and anything steering Python
# (and the state of mambaboot's own cmd activation, _MAMBABOOT_OLD_PATH and the like).
SCRUB_PREFIXES = ("CONDA_", "MAMBA_", "PYTHON", "_CE_", "__CONDA", "VIRTUAL_ENV", "_MAMBABOOT_")
# And the two without a prefix: the configuration file each names is read by conda (its
# SEARCH_PATH's "$CONDARC", conda/base/constants.py, 26.x) and by mamba (MAMBARC and CONDARC,
# libmamba/src/api/configuration.cpp, 2.8.1), so the environment's own conda and mamba would
# take the user's settings from it instead of the environment's .condarc.
SCRUB_NAMES = ("CONDARC", "MAMBARC")
# Directories below an environment root that end up on PATH (conda's Windows layout included).
_ENV_SUBDIRS = (
    (),
    ("bin",),
    ("Scripts",),
    ("condabin",),
    ("Library", "bin"),
    ("Library", "usr", "bin"),
    ("Library", "mingw-w64", "bin"),
)
_ENV_SUBDIRS_FOLDED = tuple(tuple(x.lower() for x in sub) for sub in _ENV_SUBDIRS)  # Windows' names ignore case


def contamination(environ, windows: bool) -> list:
    """The offending (variable, value) pairs, in a stable order."""
    lookup = _casefolded(environ) if windows else environ
    found = []
    for var in CONTAMINATING:
        value = lookup.get(var.upper() if windows else var)
        if value:
            found.append((var, value))
    return found


def check_shell(environ, windows: bool) -> None:
    found = contamination(environ, windows)
    if found:
        from mambaboot.common.errors import ShellContaminated  # not at the top: `run` imports this module

        lines = "\n".join(f"  {var}={value}" for var, value in found)
        raise ShellContaminated(
            "this shell already has a Python environment in it:\n"
            f"{lines}\n"
            "open a clean shell (or deactivate it), or pass --ignore-active-env to proceed anyway"
        )


def admit(environ, windows: bool, ignore_active_env: bool, reporter) -> None:
    """The shell step every command that builds or adopts an environment starts with."""
    found = contamination(environ, windows)
    if found and ignore_active_env:
        reporter.warn("ignoring the active environment (" + ", ".join(v for v, _ in found) + "); children get a clean one")
    else:
        check_shell(environ, windows)
    reporter.step("shell: clean" if not found else "shell: check overridden")


def _casefolded(environ) -> dict:
    return {k.upper(): v for k, v in environ.items()}


def scrubbed(key: str, windows: bool) -> bool:
    """A conda/mamba/Python variable, which no child of ours inherits."""
    key = key.upper() if windows else key
    return key.startswith(SCRUB_PREFIXES) or key in SCRUB_NAMES


def environment_root(entry: str, is_env_root, windows: bool) -> str:
    """The Python environment a PATH entry belongs to, or '' when it belongs to none."""
    if windows:
        import ntpath as p  # `run` on POSIX, a start-up cost, has no use for it
    else:
        import posixpath as p
    parts = p.normpath(entry).replace("\\", "/").split("/") if windows else p.normpath(entry).split("/")
    folded = tuple(x.lower() for x in parts) if windows else tuple(parts)
    for sub in _ENV_SUBDIRS_FOLDED if windows else _ENV_SUBDIRS:
        n = len(sub)
        if n >= len(parts) or folded[len(parts) - n:] != sub:
            continue
        root = "/".join(parts[: len(parts) - n]) or "/"
        root = p.normpath(root)
        if is_env_root(root):
            return root
    return ""


def looks_like_environment(path: str) -> bool:
    """conda environments carry conda-meta/, virtualenvs pyvenv.cfg."""
    return os.path.isdir(os.path.join(path, "conda-meta")) or os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def clean_path(path_value: str, windows: bool, is_env_root=looks_like_environment) -> str:
    sep = ";" if windows else ":"
    known = {}  # PATH often names a directory twice: `run` pays each look (two stats) at start-up

    def once(root: str) -> bool:
        if root not in known:
            known[root] = is_env_root(root)
        return known[root]

    kept = [e for e in path_value.split(sep) if not (e and environment_root(e, once, windows))]
    return sep.join(kept)


def baseline(environ, windows: bool, is_env_root=looks_like_environment) -> dict:
    """The caller's environment minus every Python environment and conda/python variable."""
    env = {k: v for k, v in environ.items() if not scrubbed(k, windows)}
    for key in list(env):
        if key.upper() == "PATH":
            env[key] = clean_path(env[key], windows, is_env_root)
    return env


# What pip (and the environment's python under it) needs of the caller's environment: pip runs
# whatever the pip section or a lock names, sdists' build backends included, so it gets no
# tokens or keys it was never meant to see. Names compare in upper case (proxies are read in
# both cases, Windows' names in any case).
PIP_NAMES = frozenset((
    # to run at all: the search path, the user's home, a temporary directory, the locale
    "PATH", "HOME", "USERPROFILE", "TMP", "TEMP", "TMPDIR", "LANG", "LANGUAGE",
    # Windows' own: python needs SYSTEMROOT (sockets, random), subprocesses COMSPEC and PATHEXT
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT",
    # pip's configuration and cache directories: pip/_internal/utils/appdirs.py asks its vendored
    # platformdirs, which on Windows may read APPDATA, LOCALAPPDATA and ALLUSERSPROFILE
    # (platformdirs/windows.py, get_win_folder_from_env_vars) and elsewhere the XDG variables
    # (platformdirs/unix.py: user_config_dir, site_config_dir, user_cache_dir)
    "APPDATA", "LOCALAPPDATA", "ALLUSERSPROFILE", "PROGRAMDATA",
    "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_CACHE_HOME",
    # reaching an index: pip's vendored requests takes proxies from urllib.request.getproxies
    # (either case; pip/_vendor/requests/utils.py get_environ_proxies), its CA bundle from
    # REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (sessions.py merge_environment_settings) and
    # credentials from NETRC (utils.py get_netrc_auth); OpenSSL's default paths: SSL_CERT_FILE/DIR
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "FTP_PROXY",
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "NETRC",
    # Windows' processor (an x64 python under ARM64 emulation is told AMD64: the bootstrap scripts)
    "PROCESSOR_ARCHITECTURE", "PROCESSOR_ARCHITEW6432", "NUMBER_OF_PROCESSORS",
    # building an sdist: the compiler and its flags as setuptools' distutils takes them
    # (sysconfig.customize_compiler: CC, CXX, CPP, LDSHARED, AR, ARFLAGS, CFLAGS, CPPFLAGS, LDFLAGS),
    # pkg-config, macOS's SDK, Rust's toolchain (maturin, setuptools-rust), and a Visual Studio
    # developer prompt's INCLUDE, LIB and LIBPATH with the SDK switch of _msvccompiler
    # (DISTUTILS_USE_SDK, MSSdk): none a secret, and a build fails without them
    "CC", "CXX", "CPP", "LD", "LDSHARED", "AR", "ARFLAGS", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS",
    "PKG_CONFIG_PATH", "MACOSX_DEPLOYMENT_TARGET", "SDKROOT", "DEVELOPER_DIR", "CARGO_HOME", "RUSTUP_HOME",
    "INCLUDE", "LIB", "LIBPATH", "VCINSTALLDIR", "VCTOOLSINSTALLDIR", "VSINSTALLDIR", "WINDOWSSDKDIR",
    "WINDOWSSDKVERSION", "DISTUTILS_USE_SDK", "MSSDK",
))
# pip's own configuration: every option as PIP_<NAME> (pip/_internal/configuration.py,
# Configuration.get_environ_vars) and PIP_CONFIG_FILE (Configuration.iter_config_files); the locale.
PIP_PREFIXES = ("PIP_", "LC_")


def for_pip(environ, windows: bool, is_env_root=looks_like_environment) -> dict:
    """baseline with only what pip needs: PIP_NAMES, pip's own variables and the locale. The
    caller activates the environment on top of it, so conda's variables and the environment's
    own env_vars are there too."""
    return {k: v for k, v in baseline(environ, windows, is_env_root).items()
            if k.upper() in PIP_NAMES or k.upper().startswith(PIP_PREFIXES)}


def python(executable: str, *args: str) -> list[str]:
    """The command line of a Python mambaboot starts to run pip or to ask it what pip installed
    (its own Python for `lock`'s pip section, the environment's for `create`, `--from-lock` and
    `provision`): isolated, so that nothing of the folder it starts in (the environment file's,
    where pip reads the section's relative paths) or of the caller's runs in it. `-I`: in isolated
    mode neither the working directory (which `-m` and `-c` put first on sys.path) nor the user's
    site-packages is on sys.path, and no PYTHON* variable is read (CPython's "Command line and
    environment", -I, every Python since 3.4). `-P` and PYTHONSAFEPATH, which would keep those
    variables, exist from 3.11 only (the same page), and both an environment's python and the one
    mambaboot runs on (3.9 and later) may be older; what pip starts (a build backend) still gets
    the environment as it is: -I changes the interpreter's reading of it, not os.environ."""
    return [executable, "-I", *args]
