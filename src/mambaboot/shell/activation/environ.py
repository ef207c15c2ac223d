"""The variables conda's activation sets for a prefix, computed without running conda.

Shell scripts render this per shell; `verify` and `run` apply it to a child's environment.
"""

import os
import posixpath

from mambaboot.shell.activation import sources

# What conda's activation sets besides PATH and the environment's own variables, and
# MAMBA_ROOT_PREFIX: without it mamba 2.x takes the grandparent of its own prefix as its root
# when that holds pkgs/, conda-meta/ or envs/ (`get_root_prefix()` in libmamba/src/api/
# configuration.cpp, since 2.0.6), i.e. `<drive>\dev\Anaconda` for `...\Anaconda\envs\NAME`,
# with that directory's package cache and rc files. Every way in makes the environment its own root.
CONDA_VARS = ("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER", "MAMBA_ROOT_PREFIX")
# What conda exports about itself (context.conda_exe_vars_dict; get_export_unset_vars adds them to every
# activation, the two None ones as unsets) when the conda doing it is the environment's own: then
# sys.prefix, hence context.root_prefix, is the environment, and `_default_env` names it "base".
EXE_VARS = ("CONDA_EXE", "_CONDA_EXE", "_CE_M", "_CE_CONDA", "CONDA_PYTHON_EXE", "_CONDA_ROOT")
# Windows only: the batch file a mamba started in the environment calls to activate it before a
# package's post-link script and before it compiles a noarch package's .py files. libmamba 2.8.1's
# wrap_call (libmamba/src/core/util.cpp 1445-1494) takes CONDA_BAT, else <root prefix>\condabin\<its
# own name> without ".bat", which never exists (1464-1465), and whenever the file it took is missing calls
# init_root_prefix_cmdexe (1466-1470; shell_init.cpp 799-888), which writes condabin\mamba.bat,
# _mamba_activate.bat, condabin\activate.bat, Scripts\activate.bat and mamba_hook.bat anew with
# absolute paths; then its wrapper runs `CALL "<that file>" activate <prefix>` and stops when that
# fails (1492-1493). A transaction unlinks every package it replaces before it links any
# (transaction.cpp 708, 749): while it relinks conda (an update of conda or of Python's minor
# version), condabin\conda.bat is gone, the CALL fails, and the post-link scripts and the .pyc
# compilation of the packages linked meanwhile are skipped without a word (run_script ignores the
# exit status, link.cpp 667-689; the compilation's is only logged, transaction_context.cpp 305-313)
# while conda-meta lists the .pyc files (link.cpp 1358-1366). So CONDA_BAT names mambaboot's own
# PREFIX\.mambaboot\conda_bat.bat (cmd.conda_bat), which no package owns and no transaction removes:
# asked to activate the environment already active it returns at once, and otherwise calls
# condabin\conda.bat (as conda's condabin\conda_hook.bat sets CONDA_BAT, conda 26.7.1), else
# condabin\mamba.bat. Without that file (an environment whose scripts an older mambaboot wrote),
# the first of the other two present, else unset: a missing file would both rewrite and fail.
BAT_VAR = "CONDA_BAT"
BAT_FILE = "conda_bat.bat"  # in PREFIX\.mambaboot\ (record.RECORD_DIR), written by cmd.render
BAT_CANDIDATES = (".mambaboot\\" + BAT_FILE, "condabin\\conda.bat", "condabin\\mamba.bat")  # relative to the prefix
# MSYS2 trees conda >= 24.7 puts on PATH, the first present only (`_get_path_dirs`, conda/activate.py)
MSYS2_VARIANTS = ("ucrt64", "clang64", "mingw64", "clangarm64")
# Where that tree goes among path_entries on Windows: after the prefix and condabin.
VARIANT_AT = 2


def path_entries(prefix: str, windows: bool, variant=None) -> list:
    """Directories prepended to PATH, first wins.

    POSIX: conda's order (`_get_path_dirs`, then `_add_prefix_to_path` puts the activating
    conda's condabin after them: this environment's, as its own conda is the one that manages it).

    Windows: conda's directories (conda/activate.py `_get_path_dirs`; libmamba's
    `get_path_dirs`, libmamba/src/util/environment.cpp, the same list), with condabin moved up
    to right after the prefix. cmd.exe and PowerShell run the first `mamba`/`conda` found, PATH
    directory by PATH directory, each by PATHEXT order: in conda's order mamba 2.x's
    Library\\bin\\mamba.exe (mamba feedstock recipe/build_mamba.bat, `cmake --install`) comes
    before the condabin\\mamba.bat that its `shell hook --shell cmd.exe` writes (same file;
    libmamba/src/core/shell_init.cpp `init_root_prefix_cmdexe`), and a bare `mamba activate` or
    `mamba install` bypasses the wrapper that activates and reactivates. conda never meets this
    because its own hook defines DOSKEY macros (conda/shell/condabin/conda_hook.bat), which we do
    not run. After the prefix, not before it: the prefix's python.exe stays the first `python`,
    whatever condabin holds; and the prefix holds no mamba.* or conda.* (conda's
    `make_install_plan`, conda/core/initialize.py, puts conda.exe in Scripts, its .bat wrappers in
    condabin and Library\\bin)."""
    if not windows:
        return [posixpath.join(prefix, "bin"), posixpath.join(prefix, "condabin")]
    import ntpath  # not imported for POSIX: `run` pays every import at start-up

    j = ntpath.join
    entries = [prefix, j(prefix, "condabin"), j(prefix, "Library", "mingw-w64", "bin"), j(prefix, "Library", "usr", "bin"),
               j(prefix, "Library", "bin"), j(prefix, "Scripts"), j(prefix, "bin")]
    if variant:
        entries.insert(VARIANT_AT, j(prefix, "Library", variant, "bin"))
    return entries


def wrappers_past_condabin(prefix: str) -> tuple:
    """Windows: the cmd wrapper conda puts on PATH outside condabin. Library\\bin\\conda.bat only
    CALLs condabin\\conda.bat (conda/shell/Library/bin/conda.bat, installed by `make_install_plan`,
    conda/core/initialize.py; conda 26.7.1), and in PATH order it comes before Scripts\\conda.exe."""
    import ntpath

    return (ntpath.join(prefix, "Library", "bin", "conda.bat"),)


def msys2_variant(prefix: str, windows: bool):  # -> str or None
    if windows:
        for variant in MSYS2_VARIANTS:
            if os.path.isdir(os.path.join(prefix, "Library", variant)):
                return variant
    return None


def conda_exe(prefix: str, windows: bool) -> str:
    if windows:
        import ntpath

        return ntpath.join(prefix, "Scripts", "conda.exe")
    return posixpath.join(prefix, "bin", "conda")


def prompt_name(prefix: str, windows: bool) -> str:
    """What the prompt shows: the environment's directory name, as `env_prompt: "({name}) "` in
    the .condarc mambaboot writes makes conda show it (condarc.py). conda's own default,
    `({default_env}) `, is "base" for every environment its own conda activates, and the full
    path otherwise: neither tells one environment from another at a glance."""
    if windows:
        import ntpath

        return ntpath.basename(prefix)
    return posixpath.basename(prefix)


def conda_bat(prefix: str, is_file=os.path.isfile):
    """What activation sets CONDA_BAT to on Windows (BAT_VAR): None when the environment has no such file."""
    import ntpath

    return next((p for p in (ntpath.join(prefix, n) for n in BAT_CANDIDATES) if is_file(p)), None)


def conda_values(prefix: str, windows: bool = False, own=None, is_file=os.path.isfile) -> dict:
    """conda's variables (None: unset). The environment's own conda names it "base"; without
    one, conda names an environment outside its envs_dirs by its full path. The prompt shows
    prompt_name(prefix) either way. own: whether it has its own conda (None: look). On
    Windows CONDA_BAT too (conda_bat)."""
    own = is_file(conda_exe(prefix, windows)) if own is None else own
    name = "base" if own else prefix
    values = dict(zip(CONDA_VARS, (prefix, "1", name, f"({prompt_name(prefix, windows)}) ", prefix)))
    if own:
        if windows:
            import ntpath

            python = ntpath.join(prefix, "python.exe")
        else:
            python = posixpath.join(prefix, "bin", "python")
        exe = conda_exe(prefix, windows)
        values.update(zip(EXE_VARS, (exe, exe, None, None, python, prefix)))
    if windows:
        values[BAT_VAR] = conda_bat(prefix, is_file)
    return values


def activated(baseline, prefix: str, windows: bool, env_vars=None) -> dict:
    """baseline (already clean) with this environment activated, as conda would leave it:
    PATH, conda's variables, then the environment's own variables (env_vars.d, state; env_vars:
    sources.read(prefix).env_vars when the caller has read them already)."""
    env = dict(baseline)

    def key(name: str) -> str:  # Windows variable names are case-insensitive
        return next((k for k in env if k.upper() == name.upper()), name) if windows else name

    path_key = key("PATH")
    sep = ";" if windows else ":"
    rest = env.get(path_key, "")
    env[path_key] = sep.join(path_entries(prefix, windows, msys2_variant(prefix, windows)) + ([rest] if rest else []))
    for name, value in conda_values(prefix, windows).items():
        if value is None:
            env.pop(key(name), None)
        else:
            env[key(name)] = value
    for name, value in sources.read(prefix).env_vars if env_vars is None else env_vars:
        env[key(name)] = value
    return env
