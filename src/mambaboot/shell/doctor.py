"""Check this shell and machine against the rules: at most one environment in a shell,
activation without hooks, no silent fallback to another Python. A warning names a real risk on
this platform and a fix that makes sense there.

Every check reads a Host (the environment, the file system, and on Windows the registry
through winsys), so each finding can be produced with fakes. Findings are "error" (breaks a
rule: `doctor` exits 11), "warning" (works, but can fail silently) or "ok".

Where another Python comes from (pythons.py names the tool): what runs in every new shell's
start-up and puts a Python or an environment first (`pyenv init`, `mise activate`, asdf's line,
a `conda init` block or cmd AutoRun hook) is an error, since it comes back in every subshell,
after any activation; a Python merely reachable on PATH (a manager's shims, uv's or Homebrew's
python, python.org's, the py launcher, the Store alias) is a warning: a shell without an
environment runs it silently. An environment's or virtualenv's directory on PATH without an
activation is an error (check_path). The operating system's own /usr/bin/python3 is no finding.
"""

import ntpath
import os
from typing import Dict, Iterable, List, Optional

from mambaboot.common import winsys
from mambaboot.common.host import Host
from mambaboot.common.usersite import describe as describe_user_site, user_sites
from mambaboot.common.values import factory, value
from mambaboot.common import isolation

from mambaboot.common import quoting
from mambaboot.shell import pythons, shellinit

ERROR, WARNING, OK = "error", "warning", "ok"
UNDO = "mambaboot doctor --undo-shell-init"
_STEERING = ("PYTHONHOME", "PYTHONPATH", "PYTHON_ENVS")
_ACTIVE = ("CONDA_PREFIX", "VIRTUAL_ENV")
# Set by an activation (ours or conda's); reported only when they contradict each other.
_ACTIVATION = ("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER", "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT")
_DELIBERATE = ("CONDA_PKGS_DIRS",)  # a setting mambaboot itself honours
_REGISTRY_PATHS = "CONDA_PY_ALLOW_REG_PATHS"
# PYTHON* variables besides _STEERING that change which files an environment's python takes:
# (name, the platforms where it does, what goes wrong). Every other PYTHON* variable changes how
# a Python behaves, never which interpreter, standard library or packages it uses
# (PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED, PYTHONIOENCODING, PYTHONUTF8, PYTHONWARNINGS,
# PYTHONSTARTUP, which runs only at the interactive prompt, ...): doctor says nothing of them.
# PYTHONUSERBASE moves the user site, which check_user_site reports when it holds packages.
_PYTHON_RISKS = (
    ("PYTHONEXECUTABLE", ("osx",), "sys.executable becomes this path: pip, venv and whatever starts sys.executable "
     "run that program, not the environment's python"),
    ("PYTHONPLATLIBDIR", ("linux", "osx"), "every Python looks for its compiled standard modules "
     "(lib/pythonX.Y/lib-dynload) under this directory name instead: an environment's python whose "
     "library is in lib fails to import them"),
)
_OWN_STATE = "_MAMBABOOT_"  # what activate.bat keeps for deactivate.bat
_DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"


@value
class Finding:
    check: str
    severity: str
    message: str
    fix: str = ""

    def to_dict(self) -> dict:
        return {"check": self.check, "severity": self.severity, "message": self.message, "fix": self.fix}


def env_root(m: Host, entry: str) -> str:
    """The environment a PATH entry belongs to ("" for none)."""
    return isolation.environment_root(entry, m.is_env_root or isolation.looks_like_environment, m.windows)


def _active(m: Host) -> Dict[str, str]:
    return {name: m.get(name) for name in _ACTIVE if m.get(name)}


# What a Python started with `-I` or `-E` needs to survive a stale PYTHONHOME/PYTHONPATH: the
# pip console script's launcher passes neither, so it dies before any of our code runs.
SURVIVE = ("the python on the #! line of the mambaboot script with -E -m mambaboot doctor (Windows: the python.exe "
           "of the environment whose Scripts folder holds mambaboot.exe: in Scripts for a venv, above it otherwise), or python3 -I mambaboot.pyz doctor")


def _python_home(m: Host, home: str) -> bool:
    """Does home hold a standard library (what Python looks for at start-up: os.py), for this Python's version?"""
    import sys

    lib = m.path.join(home, "Lib") if m.windows else m.path.join(home, "lib", "python{}.{}".format(*sys.version_info[:2]))
    return m.is_file(m.path.join(lib, "os.py"))


def check_variables(m: Host) -> List[Finding]:
    found = []
    for name in _STEERING:
        if m.get(name):
            stale = name == "PYTHONHOME" and not _python_home(m, m.get(name).split(m.path.pathsep)[0])
            why = (" and is not a Python home (no standard library there): every Python started from here without -E or -I "
                   "dies at start-up, the mambaboot command included; run " + SURVIVE) if stale else ""
            found.append(Finding("variables", ERROR, f"{name}={m.get(name)} is set: it steers every Python started from here" + why,
                                 f"unset {name}, and remove it from your profile or the system environment variables"))
    active = _active(m)
    if len(active) > 1:
        found.append(Finding("variables", ERROR, "two environments are active: " + ", ".join(f"{k}={v}" for k, v in active.items()),
                             "open a new shell and activate only one environment"))
    shlvl = m.get("CONDA_SHLVL")
    stacked = sorted(k for k in m.environ if k.upper().startswith("CONDA_PREFIX_"))
    if (shlvl.isdigit() and int(shlvl) > 1) or stacked:
        found.append(Finding("variables", ERROR, f"conda activations are stacked here (CONDA_SHLVL={shlvl or 'unset'}"
                             + (", " + ", ".join(stacked) if stacked else "") + "): more than one environment in this shell",
                             "open a new shell and activate only one environment"))
    elif shlvl == "0" and not m.get("CONDA_PREFIX"):
        # an error, as create and the activation scripts refuse this shell (CONDA_SHLVL is in
        # isolation.CONTAMINATING, exit 3), whatever its value
        found.append(Finding("variables", ERROR, "CONDA_SHLVL=0: a conda/mamba shell hook ran in this shell; "
                             "create and the .mambaboot activate scripts refuse it",
                             f"open a new shell; remove the shell init ({UNDO}) and use the environment's "
                             ".mambaboot activate script"))
    for name, platforms, risk in _PYTHON_RISKS:
        if m.get(name) and m.subdir.startswith(platforms):
            found.append(Finding("variables", WARNING, f"{name}={m.get(name)} is set: {risk}",
                                 f"unset {name}, and remove it from your profile"))
    # conda-forge's python reads the registry's PythonPath keys (extra sys.path entries that no
    # activation and no PYTHONNOUSERSITE keeps out) only while this is set and not "0":
    # python-feedstock, recipe/patches "Disable registry lookup unless CONDA_PY_ALLOW_REG_PATHS is
    # not 0" (Modules/getpath.py for 3.11+, PC/getpathp.c before).
    allow = next((k for k in m.environ if k.upper() == _REGISTRY_PATHS), None) if m.windows else None
    if allow and m.environ[allow] not in ("", "0"):
        found.append(Finding("variables", ERROR, f"{_REGISTRY_PATHS}={m.environ[allow]} is set: every conda-forge python "
                             "started from here adds the registry's PythonPath entries to sys.path, whatever is activated",
                             f"unset {_REGISTRY_PATHS}, and remove it from your profile or the system environment variables"))
    known = set(_STEERING + _ACTIVATION + _DELIBERATE + (_REGISTRY_PATHS,)) | _set_by_activation(m)
    others = sorted(k for k in m.environ if isolation.scrubbed(k, m.windows)
                    and (k.upper() if m.windows else k) not in known and k not in stacked
                    and not k.upper().startswith((_OWN_STATE, "PYTHON")))
    if others:
        found.append(Finding("variables", WARNING, "conda/mamba settings in this shell: " + ", ".join(others)
                             + " (conda and mamba read them as configuration in every environment; "
                             "mambaboot's own children never see them)",
                             "remove them from your profile or the system environment variables unless you set them on purpose"))
    if len(active) == 1 and not found:
        (name, value), = active.items()
        found.append(Finding("variables", OK, f"one environment is active: {value} ({name})"))
    return found


def _set_by_activation(m: Host) -> set:
    """The names (upper-case on Windows) among conda's own variables and MAMBA_ROOT_PREFIX that
    hold exactly what activating the active environment sets (environ.conda_values: mambaboot's
    scripts, `run` and `shell`, and its own conda's activation): nothing to remove from a profile."""
    from mambaboot.shell.activation import environ

    prefix = m.get("CONDA_PREFIX")
    if not prefix or not m.isdir(m.path.join(prefix, "conda-meta")):
        return set()
    own = m.is_file(environ.conda_exe(prefix, m.windows))
    values = environ.conda_values(prefix, m.windows, own, m.is_file)
    names = {name for name in (*environ.EXE_VARS, "MAMBA_ROOT_PREFIX", environ.BAT_VAR)
             if values.get(name) is not None and m.get(name.upper() if m.windows else name) == values[name]}
    return {n.upper() for n in names} if m.windows else names


def check_path(m: Host) -> List[Finding]:
    groups: Dict[str, List[str]] = {}
    spelled: Dict[str, str] = {}  # one group per environment, however its entries are spelled
    for entry in m.path_entries():
        root = env_root(m, entry)
        if root:
            key = spelled.setdefault(m.same_key(root), root)
            groups.setdefault(key, []).append(entry)
    active = _active(m)
    active_root = next(iter(active.values()), "")
    found = []
    if len(groups) > 1:
        listing = "; ".join(f"{root} ({', '.join(entries)})" for root, entries in groups.items())
        found.append(Finding("path", ERROR, f"PATH holds {len(groups)} Python environments: {listing}",
                             "open a clean shell; take these directories out of your PATH setting"))
    elif len(groups) == 1:
        (root, entries), = groups.items()
        if not active_root:
            kind = _kind(m, root)
            found.append(Finding("path", ERROR, f"PATH holds {kind} {root} ({', '.join(entries)}) "
                                 "but nothing activated it (a PATH setting, a profile or an installer put it there)",
                                 _UNLISTED.get(kind, "take it out of your PATH setting; activate environments with "
                                               "their .mambaboot script")))
        elif m.same_key(root) != m.same_key(active_root):
            found.append(Finding("path", ERROR, f"PATH holds the environment {root} but the active one is {active_root}",
                                 "open a new shell and activate only one environment"))
        else:
            found.append(Finding("path", OK, f"PATH holds one environment, the active one: {root}"))
    if active_root and not any(m.same_key(r) == m.same_key(active_root) for r in groups):
        found.append(Finding("path", ERROR, f"{active_root} is marked active but none of its directories is on PATH",
                             "open a new shell and activate the environment again"))
    return found


_CONDA_BASE = "the conda installation (an Anaconda or Miniconda base)"
_VIRTUALENV = "the virtualenv"
_UNLISTED = {
    _CONDA_BASE: f"take it out of your PATH setting (its installer's 'Add to PATH', or `conda init`: {UNDO}); "
                 "activate environments with their .mambaboot script",
    _VIRTUALENV: "take its bin (Scripts) directory out of your PATH setting; `deactivate` in a shell that activated it",
}


def _kind(m: Host, root: str) -> str:
    """What an environment on PATH is, as its user knows it: a virtualenv (pyvenv.cfg), a conda
    installation's base (its condabin/conda, no .mambaboot of ours), or an environment."""
    j = m.path.join
    if m.is_file(j(root, "pyvenv.cfg")):
        return _VIRTUALENV
    conda = j(root, "condabin", "conda.bat") if m.windows else j(root, "condabin", "conda")
    if m.is_file(conda) and not m.isdir(j(root, ".mambaboot")):
        return _CONDA_BASE
    return "the environment"


def _store_alias(m: Host, directory: str) -> bool:
    return m.windows and m.same_key(directory).endswith(ntpath.normcase("\\Microsoft\\WindowsApps"))


def check_fallbacks(m: Host) -> List[Finding]:
    """Pythons reachable on PATH outside any environment, each named by the tool that put it there
    (pythons.classify); and on Windows the Store's python.exe alias, not a Python but a stub that
    opens the Store (or fails with exit 9009), and the py launcher."""
    found = []
    for entry in m.path_entries():
        if env_root(m, entry):
            continue  # check_path's
        if _store_alias(m, entry):
            here = [n for n in ("python.exe", "python3.exe") if m.is_file(m.path.join(entry, n))]
            if here:
                found.append(Finding("fallback", WARNING, "the Windows Store python alias is reachable on PATH: "
                                     + ", ".join(m.path.join(entry, n) for n in here)
                                     + " (a shell without an environment, or a broken activation, runs it silently)",
                                     "disable it: Settings > Apps > Advanced app settings > App execution aliases"))
            continue
        names = pythons.pythons_in(m, entry)
        source = pythons.classify(m, entry, names) if names else None
        if source:
            found.append(Finding("fallback", WARNING, f"{source.tool} on PATH: "
                                 + ", ".join(m.path.join(entry, n) for n in names)
                                 + " (a shell without an environment runs it silently)", source.fix))
        if pythons.py_launcher(m, entry):
            found.append(Finding("fallback", WARNING, f"the py launcher is on PATH: {m.path.join(entry, 'py.exe')} "
                                 "starts an installed python.org Python, never an environment's",
                                 "run `python` in an activated environment instead of `py`; or uninstall "
                                 "'Python Launcher' (Settings > Apps)"))
    return found


def _first_on_path(m: Host, name: str) -> Optional[str]:
    """What a shell runs for `name`: cmd.exe's search on Windows, the first executable file on PATH elsewhere."""
    if m.windows:
        return resolve(m, name)
    return next((m.path.join(e, name) for e in m.path_entries()
                 if m.is_file(m.path.join(e, name)) and m.is_executable(m.path.join(e, name))), None)


def check_shadowing(m: Host) -> List[Finding]:
    """With an environment active, `python` must run its python. Activation puts the
    environment first on PATH, so another Python can come first only when something changed PATH
    afterwards (a profile run again by a subshell: pyenv's init, a conda hook, a PATH line), or
    when the environment has no python of that name. A Python merely present later on PATH (a
    distribution's /usr/bin/python3) is no risk: it is never reached while the environment is active."""
    active = next(iter(_active(m).values()), "")
    if not active:
        return []
    found = []
    for name in ("python",) if m.windows else ("python", "python3"):
        first = _first_on_path(m, name)
        if first is None or m.same_key(env_root(m, m.path.dirname(first))) == m.same_key(active):
            continue
        own = [e for e in m.path_entries() if m.same_key(env_root(m, e)) == m.same_key(active)
               and m.is_file(m.path.join(e, name + (".exe" if m.windows else "")))]
        if own:
            found.append(Finding("shadow", ERROR, f"`{name}` runs {first}, not the active environment's "
                                 f"{m.path.join(own[0], name)}: {m.path.dirname(first)} comes before it on PATH",
                                 f"find what puts {m.path.dirname(first)} on PATH after activation (a profile line "
                                 "run again by a subshell: pyenv init, a conda hook, an export PATH=...), take it out, "
                                 "and activate again in a new shell"))
        else:
            found.append(Finding("shadow", ERROR, f"the active environment {active} has no {name}: `{name}` runs {first}",
                                 f"install python into {active}, or use the environment's own interpreter by its name"))
    return found


def check_user_site(m: Host, prefixes: Iterable[str] = ()) -> List[Finding]:
    """A user site that holds packages, and whether the environments (active, on PATH, named)
    see it: those whose conda-meta/state sets PYTHONNOUSERSITE (environment/prefixstate.py) do not."""
    from mambaboot.environment import prefixstate

    sites = user_sites(m)
    if not sites:
        return []
    found = []
    for site, held, where in sites:
        text = describe_user_site(site, held, where)
        if m.get("PYTHONNOUSERSITE"):
            found.append(Finding("user-site", OK, f"{text}: this shell sets PYTHONNOUSERSITE, so no Python started "
                                 "from it imports them"))
            continue
        found.append(Finding("user-site", WARNING, f"{text}: every Python of that version imports them ahead of its "
                             "own packages unless PYTHONNOUSERSITE is set (every activation of an environment "
                             "mambaboot made or adopted sets it)",
                             "install them into the environments that need them and remove them here "
                             "(pip uninstall with that Python), or set PYTHONNOUSERSITE=1 in your profile"))
    names = ", ".join(f"{k}={v}" for k, v in prefixstate.STANDALONE)
    for root in _environments(m, prefixes):
        try:
            lacking = prefixstate.missing(prefixstate.read(root))
        except (OSError, ValueError) as exc:  # VerifyError: the state file conda could not read either
            found.append(Finding("user-site", WARNING, f"{root}: cannot tell whether it sees the user site: {exc}"))
            continue
        if lacking:
            found.append(Finding("user-site", WARNING, f"{root}: sees the user site's packages when activated: its "
                                 f"{prefixstate.STATE_FILE} does not set {names}",
                                 f"{_command(m, 'mambaboot', 'activate-scripts', root)}   (sets it there for every "
                                 "activation, conda's and mamba's included)"))
        else:
            found.append(Finding("user-site", OK, f"{root}: sees no user site ({names} in its "
                                 f"{prefixstate.STATE_FILE}, set by every activation)"))
    return found


def _environments(m: Host, prefixes: Iterable[str] = ()) -> List[str]:
    """The conda environments doctor looks into: the active one, those on PATH, those named."""
    seen: Dict[str, str] = {}
    for root in [*_active(m).values(), *(env_root(m, e) for e in m.path_entries()), *prefixes]:
        if root:
            seen.setdefault(m.same_key(os.path.abspath(root)), os.path.abspath(root))
    return [root for root in seen.values() if os.path.isdir(os.path.join(root, "conda-meta"))]


def resolve(m: Host, command: str) -> Optional[str]:
    """What cmd.exe runs for a bare `command`: the current directory, then PATH, each by PATHEXT order."""
    exts = [e for e in (m.get("PATHEXT") or _DEFAULT_PATHEXT).split(";") if e]
    for directory in [m.cwd] + m.path_entries():
        for ext in exts:
            candidate = ntpath.join(directory, command + ext.lower())
            if m.is_file(candidate):
                return candidate
    return None


def check_wrappers(m: Host) -> List[Finding]:
    found = []
    for tool in ("mamba", "conda"):
        target = resolve(m, tool)
        if target is None:
            continue
        if ntpath.splitext(target)[1].lower() in (".bat", ".cmd"):
            found.append(Finding("wrappers", OK, f"{tool} resolves to the wrapper {target}"))
            continue
        wrapper = next((ntpath.join(d, tool + ".bat") for d in m.path_entries() if m.is_file(ntpath.join(d, tool + ".bat"))), None)
        if wrapper:
            found.append(Finding("wrappers", WARNING, f"{tool} resolves to {target}, not to the wrapper {wrapper}: "
                                 "the wrapper's activate/deactivate handling is bypassed",
                                 f"put {ntpath.dirname(wrapper)} before {ntpath.dirname(target)} in PATH: "
                                 "open a new shell and activate with the environment's .mambaboot\\activate.bat "
                                 "(or activate.ps1), which put condabin right after the prefix"))
    return found


def check_autorun() -> List[Finding]:
    return [Finding("autorun", ERROR, f"cmd AutoRun ({a.hive}) runs a conda/mamba hook in every cmd.exe: {a.value}",
                    f"{UNDO} (keeps a .reg backup)" + (", as administrator" if a.hive == "HKLM" else ""))
            for a in shellinit.find_autoruns()]


_LONG_PATHS_FIX = ("as administrator: reg add HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem "
                   "/v LongPathsEnabled /t REG_DWORD /d 1 /f")


def check_long_paths(m: Host) -> List[Finding]:
    """LongPathsEnabled, and with it off whether the cache `create` uses by default leaves room
    under MAX_PATH for the default channels' packages (common/cachepaths.py)."""
    enabled = winsys.long_paths_enabled()
    if enabled:
        return [Finding("long-paths", OK, "LongPathsEnabled=1")]
    what = "cannot be read" if enabled is None else "is off"
    found = [Finding("long-paths", WARNING, f"LongPathsEnabled {what}: package cache paths longer than 260 characters fail",
                     _LONG_PATHS_FIX)]
    from mambaboot.common import cachepaths, locations

    pkgs = locations.resolve_pkgs_dirs(m, locations.resolve_cache_dir(m, None, m.cwd))[0]
    said = cachepaths.overrun(pkgs, locations.default_channels(m), (m.subdir, "noarch"), m.get("MAMBA_CHANNEL_ALIAS") or None,
                              m.cwd)
    if said:
        message, _, fix = said.partition("; ")
        found.append(Finding("long-paths", WARNING, message + " (the default cache for an environment here)", fix))
    return found


def check_smart_app_control() -> List[Finding]:
    """Smart App Control's state (winsys.smart_app_control): on, it refuses micromamba.exe and any
    package's program or extension module that is unsigned and unknown to Microsoft's reputation
    service, in every folder (4551): said with what that means, as nothing mambaboot does gets past it."""
    state = winsys.smart_app_control()
    if state == 1:
        return [Finding("smart-app-control", WARNING, "Smart App Control is on: Windows refuses to start a program or load "
                        "an extension module (.exe, .dll, .pyd) that is unsigned and unknown to Microsoft's reputation "
                        "service, in every folder (error 4551): micromamba.exe, an environment's python.exe or a package's "
                        "unsigned module may be refused, and no folder or option of mambaboot helps",
                        "keep it and use only what it lets run, or turn it off in Windows Security (App & browser "
                        "control, Smart App Control settings): your choice, for the whole machine")]
    if state == 2:
        return [Finding("smart-app-control", OK, "Smart App Control is evaluating: it blocks nothing now, and Windows may "
                        "turn it on later, when it would refuse unsigned programs and modules in every folder")]
    if state == 0:
        return [Finding("smart-app-control", OK, "Smart App Control is off")]
    return []


def rc_files(m: Host) -> List[str]:
    return shellinit.rc_files(m.home(), m.environ, m.windows, winsys.documents_dir() if m.windows else None)


def startup_files(m: Host) -> List[str]:
    return pythons.start_up_files(m, rc_files(m))


def check_startup(m: Host) -> List[Finding]:
    return [Finding("start-up", ERROR, f"{s.path} line {s.line}: `{s.text}` puts {s.tool}'s Python first on PATH in "
                    "every new shell, after any activation (a subshell, `mambaboot shell`)", f"{s.fix}")
            for s in pythons.startup_lines(startup_files(m))]


def startup_advice(m: Host) -> str:
    """What `shell` prints when another Python came first: the start-up lines doctor knows."""
    found = [f"  {s.path} line {s.line}: `{s.text}` ({s.tool}): {s.fix}" for s in pythons.startup_lines(startup_files(m))]
    blocks = shellinit.find_blocks(rc_files(m))
    found += [f"  {b.path} lines {b.first}-{b.last}: a '{b.tool} initialize' block: {UNDO}" for b in blocks.blocks]
    found += [f"  {h.path} line {h.line}: `{h.text}` (a conda/mamba hook): delete it" for h in blocks.lines]
    head = "mambaboot: your start-up files that do this:\n" + "\n".join(found) + "\n" if found else ""
    return head + "mambaboot: run `mambaboot doctor` in this shell: it names what comes first and how to take it out."


def check_shell_init(m: Host) -> List[Finding]:
    found = shellinit.find_blocks(rc_files(m))
    return ([Finding("shell-init", ERROR, f"{b.path} lines {b.first}-{b.last}: a '{b.tool} initialize' block "
                     "runs a shell hook in every new shell", f"{UNDO} (keeps a backup of the file)") for b in found.blocks]
            + [Finding("shell-init", ERROR, f"{h.path} line {h.line}: `{h.text}` runs a conda/mamba shell hook in "
                       "every new shell", f"delete line {h.line} of {h.path} by hand ({UNDO} takes out only marked blocks)")
               for h in found.lines]
            + [Finding("shell-init", ERROR, p, "edit the file by hand") for p in found.problems]
            # named, never deleted: in a home under no lock, nothing proves they are mambaboot's
            + [Finding("shell-init", WARNING, left, "look at it, then delete it by hand")
               for left in shellinit.stopped_writes(rc_files(m))])


def check_copies(m: Host) -> List[Finding]:
    """Whether the active environment shares its files with the package cache (hard links) or is
    a copy: micromamba copies every file when the cache is on another volume."""
    from mambaboot.environment import diskusage

    prefix = m.get("CONDA_PREFIX")
    if not prefix or not m.isdir(m.path.join(prefix, "conda-meta")):
        return []
    linked = diskusage.shares_links(prefix)
    if linked is None:
        return []
    if linked:
        return [Finding("copies", OK, f"{prefix} shares its package files with the package cache (hard links)")]
    return [Finding("copies", WARNING, f"{prefix} is a copy: none of its files is hard-linked with the package "
                    "cache (the cache was on another volume, or links were refused)",
                    "recreate it with --cache-dir on the environment's volume")]


def _command(m: Host, *argv: str, ticks: bool = False, rest: str = "") -> str:
    """A suggested command, each path one word of the user's shell (on Windows, one line for cmd.exe
    and one for PowerShell when no line is right in both)."""
    return quoting.advice(argv, m.windows, ticks=ticks, rest=rest)


def check_named(prefixes: Iterable[str] = ()) -> List[Finding]:
    """Each PREFIX named that is there but no environment (a file, a device, a directory without
    conda-meta/, such as the envs root): an error naming what it is, as every other check would
    pass it by in silence. One a killed run left its intent beside is named by check_unfinished."""
    import stat

    from mambaboot.environment import placelock, record

    found = []
    for prefix in dict.fromkeys(os.path.abspath(p) for p in prefixes):
        try:
            mode = os.stat(prefix).st_mode
        except OSError:
            continue  # gone (a killed remove's): check_unfinished names it
        if stat.S_ISDIR(mode) and (os.path.isdir(os.path.join(prefix, "conda-meta"))
                                   or os.path.isdir(os.path.join(prefix, record.RECORD_DIR))):
            continue
        if placelock.killed(prefix) is not None:
            continue
        what = ("a directory with no conda-meta/ in it" if stat.S_ISDIR(mode) else "a regular file"
                if stat.S_ISREG(mode) else "a fifo" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a directory")
        found.append(Finding("prefix", ERROR, f"{prefix} is {what}, not an environment: nothing in it was checked",
                             "name an environment's directory (`mambaboot list` shows them)"))
    return found


def check_locations(m: Host, prefixes: Iterable[str] = ()) -> List[Finding]:
    """Environments (the active one, those on PATH, those named) whose files name another directory:
    moved without `mambaboot move`, their entry points and scripts point at where they were."""
    from mambaboot.relocate import scan

    found = []
    for root in _environments(m, prefixes):
        location, source = scan.location(root, m.windows)
        if m.same_key(os.path.abspath(location)) != m.same_key(root):
            found.append(Finding("location", ERROR, f"{root}: its files name {location} (from {source}): it was moved "
                                 "without mambaboot, and its entry points and scripts point at the old place",
                                 f"{_command(m, 'mambaboot', 'move', root, root)}   (rewrites them in place; "
                                 "`mambaboot audit` lists them)"))
        else:
            found.append(Finding("location", OK, f"{root}: its files name where it is"))
    return found


# Who wrote a cmd script that names the environment's path again, as doctor says it.
_BY_MAMBA = ("written anew by a mamba run: libmamba's init_root_prefix_cmdexe writes them when CONDA_BAT names "
             "no file before a package's post-link script or .pyc compilation (wrap_call), and at `mamba shell hook` "
             "or `shell init` for cmd.exe")


def _who_wrote(root: str, rels: List[str]) -> dict:
    """rel -> what wrote it: the package whose record lists it with the very bytes it holds now
    (sha256_in_prefix: what that package's link wrote, the environment's path in it, as a transaction
    installing it again writes it: `mamba update mamba`, a reinstall), else a mamba run (_BY_MAMBA)."""
    from mambaboot.common.files import confined, fsops
    from mambaboot.relocate import scan

    listed = {}
    for name, data, entries in scan.records(root, strict=False):
        for entry in entries:
            rel = str(entry.get("_path", "")).replace("\\", "/").lower()
            listed[rel] = (f"{data.get('name')} {data.get('version')} (conda-meta/{name})", entry.get("sha256_in_prefix"))
    said = {}
    for rel in rels:
        package, digest = listed.get(rel.lower(), (None, None))
        if package and digest:
            try:
                now = fsops.sha256_hex(confined.read_in(root, rel))
            except OSError:
                now = None
            if now == digest:
                said[rel] = f"put back by the package {package}, its own file with the environment's path written in " \
                            "by the transaction that installed it (`mamba update mamba`, a reinstall)"
                continue
        said[rel] = _BY_MAMBA + (f" (the package {package} lists it)" if package else "")
    return said


def check_scripts(m: Host, prefixes: Iterable[str] = ()) -> List[Finding]:
    """Windows environments with mambaboot's activation (the active one, those on PATH, those
    named) whose cmd scripts name the environment's absolute path again, and what wrote them (the
    package that ships it, or a mamba run: _who_wrote). A mamba run with no CONDA_BAT naming a file
    that exists writes condabin\\mamba.bat, _mamba_activate.bat, condabin\\activate.bat,
    Scripts\\activate.bat and mamba_hook.bat anew before a package's post-link script (libmamba 2.8.1
    wrap_call, util.cpp 1445-1494, calls init_root_prefix_cmdexe, shell_init.cpp 799-888); a transaction
    that links the mamba package again puts its condabin\\mamba.bat, _mamba_activate.bat and
    mamba_hook.bat back as linked, whatever CONDA_BAT says. batscripts.patch as a dry run finds them:
    nothing is written."""
    from mambaboot.environment import record
    from mambaboot.relocate import batscripts
    from mambaboot.shell.activation import environ

    found = []
    for root in _environments(m, prefixes):
        if not os.path.isdir(os.path.join(root, record.RECORD_DIR)):
            continue  # not made portable by mambaboot: micromamba's absolute paths are its own
        changed = [c.path for c in batscripts.patch(root, dry_run=True).changed]
        fix = f"{_command(m, 'mambaboot', 'activate-scripts', root, ticks=True)} makes them relative again"
        if changed:
            groups: dict = {}
            for rel, by in _who_wrote(root, changed).items():
                groups.setdefault(by, []).append(rel)
            said = "; ".join(f"{', '.join(rels)}: {by}" for by, rels in groups.items())
            found.append(Finding("scripts", WARNING, f"{root}: its cmd scripts name the environment's absolute path "
                                 f"again ({said}): copied or moved, the environment would run them from the old place",
                                 fix))
        elif not os.path.isfile(os.path.join(root, *environ.BAT_CANDIDATES[0].split("\\"))):
            found.append(Finding("scripts", WARNING, f"{root}: its activation scripts are an older mambaboot's, "
                                 f"without {environ.BAT_CANDIDATES[0]}: a transaction that relinks conda there skips "
                                 "the post-link scripts and .pyc files of the packages it links meanwhile", fix))
        else:
            found.append(Finding("scripts", OK, f"{root}: its Windows scripts find the environment from their own place"))
    return found


def check_mamba_root(m: Host, prefixes: Iterable[str] = ()) -> List[Finding]:
    """Named environments whose mamba, started without MAMBA_ROOT_PREFIX, takes another directory
    as its root prefix (environment/roothook.py says which and why)."""
    from mambaboot.environment import roothook

    found = []
    for prefix in dict.fromkeys(os.path.abspath(p) for p in prefixes):
        version = roothook.mamba_version(prefix)
        if not version or version < roothook.GRANDPARENT_RULE:
            continue
        root = roothook.libmamba_root(prefix)
        if m.same_key(root) == m.same_key(os.path.realpath(prefix)):
            found.append(Finding("mamba-root", OK, f"{prefix}: its mamba takes the environment as its root prefix"))
            continue
        hooks = "" if roothook.present(prefix, m.windows) else (
            f"; {_command(m, 'mambaboot', 'activate-scripts', prefix, ticks=True)} adds the etc/conda hooks that set it under "
            "conda's activation")
        found.append(Finding(
            "mamba-root", WARNING, f"{prefix}: its mamba {'.'.join(map(str, version))}, started without "
            f"MAMBA_ROOT_PREFIX (by its path, or under an activation that does not set it), takes {root} as its root "
            f"prefix, as that holds {', '.join(d + '/' for d in roothook.holds_markers(root))}: it reads {root}'s "
            f".condarc and package cache, and with no environment active installs into {root}",
            f"start it activated (the .mambaboot script, or conda's activation), or "
            f"{_command(m, 'mambaboot', 'run', prefix, '--', 'mamba', ticks=True, rest=' ...')}, or give it "
            f"{_command(m, '-r', prefix, ticks=True)}" + hooks))
    return found


def check_unfinished(m: Host, envs_dir: str, prefixes: Iterable[str] = ()) -> List[Finding]:
    """What killed runs left under the envs root and at the environments named, each with the command that settles
    it, as `list` names them (shell/unfinished.py). A warning: the next run of that place settles it first."""
    from mambaboot.shell import unfinished

    return [Finding("unfinished", WARNING, unfinished.said(place, path, body),
                    unfinished.advice(m.windows, place, path, body))
            for place, path, body in unfinished.found(envs_dir, prefixes)]


def check_work_dirs(m: Host, cache_dir: Optional[str] = None) -> List[Finding]:
    """What killed runs left in the cache (cache_dir: the one given, else `cache info`'s) and the temporary directory,
    each named with what deletes it: work directories (common/files/workdir.py), cache notes' new text, downloads under
    the temporary name in the cache's stores (common/files/partials.py). Warnings; nothing is deleted."""
    from mambaboot.common import locations
    from mambaboot.common.files import partials, workdir
    from mambaboot.environment import pkgcache

    cache = cache_dir or locations.resolve_cache_dir(m, None, m.cwd)
    settle = quoting.advice(["mambaboot", "doctor", "--settle", "--cache-dir", cache], m.windows,
                            "`mambaboot doctor --settle --cache-dir CACHE`")
    found = []
    for left in workdir.stale_for(cache):
        what = (f"{left.path} is a work directory of a mambaboot run that was killed" if left.identity else
                f"{left.path}{workdir.LOCK} is the lock file of a work directory of a mambaboot run that was "
                "killed, its directory gone")
        found.append(Finding("leftover", WARNING, *((what, f"{settle} deletes it") if left.proven else left.unproven())))
    found += [Finding("leftover", WARNING, f"{path} is the new text of a cache note a mambaboot run was writing when it "
                      "was killed", f"{settle} deletes it") for path in pkgcache.killed_writers(cache, dry_run=True)]
    return found + [Finding("leftover", WARNING, *partials.named(path)) for path, _ in partials.found(cache)]


def examine(m: Host, prefixes: Iterable[str] = (), envs_dir: Optional[str] = None,
            cache_dir: Optional[str] = None) -> List[Finding]:
    """Every check; envs_dir (None: not looked at) is the envs root whose leftovers are named,
    cache_dir (None: the default one) the cache whose work directories are."""
    findings = (check_variables(m) + check_path(m) + check_shadowing(m) + check_fallbacks(m) + check_user_site(m, prefixes)
                + check_copies(m) + check_locations(m, prefixes))
    findings += check_mamba_root(m, prefixes) + check_named(prefixes)
    if envs_dir is not None:
        findings += check_unfinished(m, envs_dir, prefixes)
    if m.windows:
        findings += (check_wrappers(m) + check_autorun() + check_long_paths(m) + check_smart_app_control()
                     + check_scripts(m, prefixes))
    return findings + check_shell_init(m) + check_startup(m) + check_work_dirs(m, cache_dir)


@value(frozen=False)
class Undone:
    backups: List[str] = factory(list)
    failures: List[str] = factory(list)


def undo_shell_init(m: Host, blocks: List[shellinit.Block], autoruns: List[shellinit.AutoRun]) -> Undone:
    """Remove exactly these blocks and AutoRun hook commands, each after backing it up."""
    done = Undone()
    for path in sorted({b.path for b in blocks}):
        try:
            backup = shellinit.remove_blocks(path, [b for b in blocks if b.path == path])
        except OSError as exc:
            done.failures.append(f"{path}: {exc.strerror}")
            continue
        if backup:
            done.backups.append(backup)
    for entry in autoruns:
        try:
            done.backups.append(shellinit.remove_autorun(entry, m.home()))
        except OSError as exc:
            done.failures.append(f"AutoRun ({entry.hive}): {exc.strerror or exc}"
                                 + (" (HKLM needs an administrator)" if entry.hive == "HKLM" else ""))
    return done
