"""`conda shell.<shell> activate|deactivate|reactivate` for the test channel's conda stand-in.

What conda 26.7.1's activation prints (conda/activate.py), for the POSIX shells (PosixActivator:
posix, bash, dash, zsh, ash) and fish (FishActivator), when the conda doing it is the
environment's own (its ``sys.prefix`` is ``context.root_prefix`` and ``context.conda_prefix``):

* ``_yield_commands``: PATH (``export_path``), the deactivate.d scripts, the unsets, the plain
  sets (the prompt), the exports, then the activate.d scripts, each of the shell's own
  ``script_extension``, sorted by path (``_get_activate_scripts``; deactivate.d reversed);
* ``_build_activate_stack`` from level 0, stacked (``--stack``) or replacing the active
  environment (which runs its deactivate.d first), ``build_deactivate`` back to level 0 or to
  the environment below (running its activate.d again), ``build_reactivate``;
* the environment's own variables (env_vars.d, then conda-meta/state), a clobbered one saved in
  ``__CONDA_SHLVL_<old level>_<name>`` and put back on deactivation;
* ``context.conda_exe_vars_dict`` exported with every activation and deactivation;
* the templates as conda has them (values between single quotes, not escaped).

Left out: activation by name, ``auto_stack``, the prompt's stacked form (the prompt here is
``(<default env>) `` in front of PS1), csh, xonsh, cmd.exe and PowerShell. Standard library
only: it runs on the environment's python.
"""

import json
import os
import sys

UNSET = "***unset***"
POSIX = {"ext": ".sh", "unset": "export %s=''", "export": "export %s='%s'", "set": "%s='%s'",
         "script": '. "%s"', "join": "\n", "pathsep": ":", "prompt": "PS1"}
FISH = {"ext": ".fish", "unset": "set -e %s || true", "export": 'set -gx %s "%s"', "set": 'set -g %s "%s"',
        "script": 'source "%s"', "join": ";\n", "pathsep": '" "', "prompt": None}
SHELLS = {"posix": POSIX, "ash": POSIX, "bash": POSIX, "dash": POSIX, "zsh": POSIX, "fish": FISH}


def _root():
    return sys.prefix


def _exe_vars():
    exe = os.path.join(_root(), "bin", "conda")
    return {"CONDA_EXE": exe, "_CONDA_EXE": exe, "_CE_M": None, "_CE_CONDA": None,
            "CONDA_PYTHON_EXE": sys.executable, "_CONDA_ROOT": _root()}


def _export_unset(**kwargs):
    """get_export_unset_vars(export_metavars=True)."""
    export, unset = {}, []
    for name, value in list(kwargs.items()) + list(_exe_vars().items()):
        if value is None:
            unset.append(name)
        else:
            export[name] = value
    return export, unset


def _scripts(prefix, phase, ext):
    try:
        paths = [e.path for e in os.scandir(os.path.join(prefix, "etc", "conda", phase + ".d"))]
    except OSError:
        return ()
    return tuple(sorted((p for p in paths if p[-len(ext):] == ext), reverse=phase == "deactivate"))


def _env_vars(prefix):
    """_get_environment_env_vars."""
    found = {}
    directory = os.path.join(prefix, "etc", "conda", "env_vars.d")
    if os.path.exists(directory):
        for path in sorted(e.path for e in os.scandir(directory)):
            with open(path) as f:
                found.update(json.loads(f.read()))
    state = os.path.join(prefix, "conda-meta", "state")
    if os.path.exists(state):
        with open(state) as f:
            found.update(json.loads(f.read()).get("env_vars", {}))
    found.pop("PATH", None)
    return found


def _default_env(prefix):
    if os.path.normcase(prefix) == os.path.normcase(_root()):
        return "base"
    return os.path.basename(prefix) if os.path.basename(os.path.dirname(prefix)) == "envs" else prefix


def _path_list():
    return os.environ.get("PATH", "/usr/bin").split(":")


def _add_prefix_to_path(prefix):
    path = _path_list()
    if not int(os.environ.get("CONDA_SHLVL", "").strip() or 0) and not any(p.endswith("condabin") for p in path):
        path.insert(0, os.path.join(_root(), "condabin"))
    return [os.path.join(prefix, "bin")] + path


def _replace_prefix_in_path(old, new):
    path = _path_list()
    at = path.index(os.path.join(old, "bin")) if os.path.join(old, "bin") in path else 0
    if os.path.join(old, "bin") in path:
        del path[at]
    if new is not None:
        path.insert(at, os.path.join(new, "bin"))
    return path


def _level():
    return int(os.environ.get("CONDA_SHLVL", "").strip() or 0)


def activate(target, stack):
    prefix = os.path.abspath(os.path.expanduser(os.path.expandvars(target)))
    if not os.path.isdir(os.path.join(prefix, "conda-meta")):
        raise SystemExit("EnvironmentLocationNotFound: Not a conda environment: " + prefix)
    old_level, old_prefix = _level(), os.environ.get("CONDA_PREFIX")
    if old_prefix == prefix and old_level > 0:
        return reactivate()
    level, name = old_level + 1, _default_env(prefix)
    env_vars = {k: v for k, v in _env_vars(prefix).items() if v != UNSET}
    for clobbered in set(env_vars) & set(os.environ):
        env_vars["__CONDA_SHLVL_%d_%s" % (old_level, clobbered)] = os.environ[clobbered]
    common = dict(CONDA_PREFIX=prefix, CONDA_SHLVL=level, CONDA_DEFAULT_ENV=name, CONDA_PROMPT_MODIFIER="(%s) " % name)
    deactivate_scripts = ()
    if old_level == 0:
        path = _add_prefix_to_path(prefix)
    elif stack:
        path = _add_prefix_to_path(prefix)
        env_vars.update({"CONDA_PREFIX_%d" % old_level: old_prefix, "CONDA_STACKED_%d" % level: "true"})
    else:
        path = _replace_prefix_in_path(old_prefix, prefix)
        env_vars["CONDA_PREFIX_%d" % old_level] = old_prefix
        deactivate_scripts = ("deactivate", old_prefix)
    export, unset = _export_unset(PATH=path, **common, **env_vars)
    return {"unset": unset, "export": export, "deactivate": deactivate_scripts, "activate": ("activate", prefix),
            "prompt": common["CONDA_PROMPT_MODIFIER"]}


def deactivate():
    old_prefix, old_level = os.environ.get("CONDA_PREFIX"), _level()
    if not old_prefix or old_level < 1:
        return {"unset": [], "export": {}, "deactivate": (), "activate": (), "prompt": None}
    old_vars, new_level = _env_vars(old_prefix), old_level - 1
    if old_level == 1:
        export, unset = _export_unset(CONDA_PREFIX=None, CONDA_SHLVL=new_level, CONDA_DEFAULT_ENV=None,
                                      CONDA_PROMPT_MODIFIER=None)
        path = _replace_prefix_in_path(old_prefix, None)
        activate_scripts, prompt = (), ""
    else:
        new_prefix = os.environ["CONDA_PREFIX_%d" % new_level]
        name = _default_env(new_prefix)
        unset = ["CONDA_PREFIX_%d" % new_level]
        if "CONDA_STACKED_%d" % old_level in os.environ:
            path = _replace_prefix_in_path(old_prefix, None)
            unset.append("CONDA_STACKED_%d" % old_level)
        else:
            path = _replace_prefix_in_path(old_prefix, new_prefix)
        export, more = _export_unset(CONDA_PREFIX=new_prefix, CONDA_SHLVL=new_level, CONDA_DEFAULT_ENV=name,
                                     CONDA_PROMPT_MODIFIER="(%s) " % name, **_env_vars(new_prefix))
        unset += more
        activate_scripts, prompt = ("activate", new_prefix), "(%s) " % name
    for name in old_vars:
        saved = os.environ.get("__CONDA_SHLVL_%d_%s" % (new_level, name))
        if saved:
            export[name] = saved
        else:
            unset.append(name)
    return {"path": path, "unset": unset, "export": export, "deactivate": ("deactivate", old_prefix),
            "activate": activate_scripts, "prompt": prompt}


def reactivate():
    prefix, level = os.environ.get("CONDA_PREFIX"), _level()
    if not prefix or level < 1:
        return {"unset": [], "export": {}, "deactivate": (), "activate": (), "prompt": None}
    name = os.environ.get("CONDA_DEFAULT_ENV", _default_env(prefix))
    export, unset = _export_unset(PATH=_replace_prefix_in_path(prefix, prefix), CONDA_SHLVL=level,
                                  CONDA_PROMPT_MODIFIER="(%s) " % name)
    return {"unset": unset, "export": export, "deactivate": ("deactivate", prefix), "activate": ("activate", prefix),
            "prompt": "(%s) " % name}


def _commands(shell, built):
    """_yield_commands, in its order: deactivation changes PATH first (`export_path`), activation
    with the other variables."""
    lines = []
    if built.get("path") is not None:
        lines.append(shell["export"] % ("PATH", shell["pathsep"].join(built["path"])))
    if built["deactivate"]:
        lines += [shell["script"] % s for s in _scripts(built["deactivate"][1], "deactivate", shell["ext"])]
    lines += [shell["unset"] % name for name in built["unset"]]
    if shell["prompt"] and built["prompt"] is not None:
        modifier = os.environ.get("CONDA_PROMPT_MODIFIER") or ""
        ps1 = os.environ.get("PS1", "")
        ps1 = ps1.replace(modifier, "", 1) if modifier else ps1
        lines.append(shell["set"] % (shell["prompt"], built["prompt"] + ps1.replace("'", "'\"'\"'")))
    lines += [shell["export"] % (name, shell["pathsep"].join(value) if name == "PATH" else value)
              for name, value in built["export"].items()]
    if built["activate"]:
        lines += [shell["script"] % s for s in _scripts(built["activate"][1], "activate", shell["ext"])]
    return shell["join"].join(lines + [""])


def main(argv):
    """argv: shell.<name> activate [--stack|--no-stack] [PREFIX] | deactivate | reactivate"""
    shell = SHELLS.get(argv[0].split(".", 1)[1]) if argv and argv[0].startswith("shell.") else None
    if shell is None or len(argv) < 2:
        sys.stderr.write("conda (test stand-in): unsupported: %s\n" % " ".join(argv))
        return 2
    command, rest = argv[1], argv[2:]
    if command == "activate":
        stack = "--stack" in rest
        targets = [a for a in rest if a not in ("--stack", "--no-stack")]
        built = activate(targets[0] if targets else _root(), stack)
    elif command in ("deactivate", "reactivate") and not rest:
        built = deactivate() if command == "deactivate" else reactivate()
    else:
        sys.stderr.write("conda (test stand-in): unsupported: %s\n" % " ".join(argv))
        return 2
    sys.stdout.write(_commands(shell, built))
    return 0
