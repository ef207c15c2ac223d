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

The prompt is ``env_prompt`` from the rc files (default ``({default_env}) ``), formatted with
``default_env``, ``prefix`` and ``name`` (basename of the prefix), in front of PS1
(``_prompt_modifier``).

`mamba shell activate|deactivate|reactivate -s SHELL [-p] [PREFIX]` (libmamba 2.8.1,
libmamba/src/core/activation.cpp) is the same builder with mamba's differences: its root is
libmamba's (``mamba_root_prefix``: ``MAMBA_ROOT_PREFIX``, else the grandparent rule), which gives
``base`` and the ``condabin`` put on PATH at the first activation (``get_default_env``,
``add_prefix_to_path``); it exports none of conda's ``CONDA_EXE`` variables; its ``env_prompt``
comes from its own rc files, with ``{name}`` the prefix's stem (``get_prompt_modifier``); fish's
PATH is one colon-joined string.

Left out: activation by name, ``auto_stack``, the prompt's stacked form, csh, xonsh, cmd.exe and
PowerShell. Standard library only: it runs on the environment's python.
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


# Who is activating: the environment's conda (its root is sys.prefix) or its mamba (mamba_main).
_WHO = {"mamba": False, "root": None}


def _root():
    return _WHO["root"] or sys.prefix


def _exe_vars():
    if _WHO["mamba"]:
        return {}
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


def _prompt(prefix, name):
    """``env_prompt`` of the rc files, the highest precedence one (conda: the last file; mamba:
    the first of mamba_rc_files), formatted as each does."""
    from conda._standin_install import _rc_scalar, conda_rc_files, mamba_rc_files

    files = mamba_rc_files(_root(), prefix) if _WHO["mamba"] else list(reversed(conda_rc_files()))
    template = next((v for v in (_rc_scalar(f, "env_prompt") for f in files) if v is not None), "({default_env}) ")
    base = os.path.basename(prefix)
    if _WHO["mamba"]:  # fs::u8path::stem(): the name less its last ".suffix" (not of a dot file)
        base = base[:base.rindex(".")] if "." in base[1:] else base
    for key, value in (("default_env", name), ("stacked_env", name), ("prefix", prefix), ("name", base)):
        template = template.replace("{%s}" % key, value)
    return template


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
    clobbered_vars = sorted(set(env_vars) & set(os.environ))
    # Both warn on stderr about a variable the environment overwrites: conda when its value
    # differs (conda/activate.py _build_activate_stack, "overwriting variable [...]"), libmamba
    # whenever it was set (activation.cpp get_environment_vars' callers, LOG_WARNING).
    if _WHO["mamba"] and clobbered_vars:
        sys.stderr.write("warning  libmamba WARNING: overwriting environment variables set in the machine\n"
                         "warning  libmamba Overwriting variables: %s\n" % ",".join(clobbered_vars))
    overwritten = [k for k in clobbered_vars if os.environ[k] != env_vars[k]]
    if not _WHO["mamba"] and overwritten:
        sys.stderr.write("WARNING: overwriting environment variables set in the machine\n"
                         "overwriting variable %s\n" % overwritten)
    for clobbered in clobbered_vars:
        env_vars["__CONDA_SHLVL_%d_%s" % (old_level, clobbered)] = os.environ[clobbered]
    common = dict(CONDA_PREFIX=prefix, CONDA_SHLVL=level, CONDA_DEFAULT_ENV=name,
                  CONDA_PROMPT_MODIFIER=_prompt(prefix, name))
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
        prompt = _prompt(new_prefix, name)
        export, more = _export_unset(CONDA_PREFIX=new_prefix, CONDA_SHLVL=new_level, CONDA_DEFAULT_ENV=name,
                                     CONDA_PROMPT_MODIFIER=prompt, **_env_vars(new_prefix))
        unset += more
        activate_scripts = ("activate", new_prefix)
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
    prompt = _prompt(prefix, os.environ.get("CONDA_DEFAULT_ENV", _default_env(prefix)))
    export, unset = _export_unset(PATH=_replace_prefix_in_path(prefix, prefix), CONDA_SHLVL=level,
                                  CONDA_PROMPT_MODIFIER=prompt)
    return {"unset": unset, "export": export, "deactivate": ("deactivate", prefix), "activate": ("activate", prefix),
            "prompt": prompt}


def _commands(shell, built):
    """_yield_commands, in its order: deactivation changes PATH first (`export_path`), activation
    with the other variables."""
    lines = []
    if built.get("path") is not None:
        lines.append(shell["export"] % ("PATH", shell["pathsep"].join(built["path"])))
    if built["deactivate"]:
        lines += [shell["script"] % s for s in _scripts(built["deactivate"][1], "deactivate", shell["ext"])]
    # libmamba's POSIX script unsets with `unset NAME` (PosixActivator::script, libmamba/src/core/
    # activation.cpp, 2.8.1), where conda's exports it empty (PosixActivator.unset_var_tmpl).
    unset = "unset %s" if _WHO["mamba"] and shell is POSIX else shell["unset"]
    lines += [unset % name for name in built["unset"]]
    if shell["prompt"] and built["prompt"] is not None:
        modifier = os.environ.get("CONDA_PROMPT_MODIFIER") or ""
        ps1 = os.environ.get("PS1", "")
        ps1 = ps1.replace(modifier, "", 1) if modifier else ps1
        lines.append(shell["set"] % (shell["prompt"], built["prompt"] + ps1.replace("'", "'\"'\"'")))
    pathsep = ":" if _WHO["mamba"] else shell["pathsep"]
    lines += [shell["export"] % (name, pathsep.join(value) if name == "PATH" else value)
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


def mamba_main(argv):
    """argv: shell activate|deactivate|reactivate -s SHELL [-p PREFIX | PREFIX]"""
    from conda._standin_install import mamba_root_prefix

    rest = list(argv[1:]) if argv[:1] == ["shell"] else []
    command = rest.pop(0) if rest else None
    shell, target = None, None
    while rest:
        arg = rest.pop(0)
        if arg in ("-s", "--shell") and rest:
            shell = SHELLS.get(rest.pop(0))
        elif arg in ("-p", "--prefix") and rest:
            target = rest.pop(0)
        elif not arg.startswith("-") and target is None:
            target = arg
        else:
            shell = None
            break
    if shell is None or command not in ("activate", "deactivate", "reactivate"):
        sys.stderr.write("mamba (test stand-in): unsupported: %s\n" % " ".join(argv))
        return 2
    _WHO.update(mamba=True, root=mamba_root_prefix())
    if command == "activate":
        built = activate(target or _root(), False)
    else:
        built = deactivate() if command == "deactivate" else reactivate()
    sys.stdout.write(_commands(shell, built))
    return 0
