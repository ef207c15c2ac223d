"""`install` for the test channel's conda and mamba stand-ins (shipped inside the conda package).

Only what mambaboot depends on is modelled, each from upstream source:

* conda 26 reads its rc files from SEARCH_PATH (conda/base/constants.py): ``$CONDA_ROOT/...``
  (``CONDA_ROOT`` defaults to ``sys.prefix``, conda/__init__.py), the XDG/``~/.config``/
  ``~/.conda``/``~`` files, ``$CONDA_PREFIX/...`` and ``$CONDARC``; with no channel at all it
  raises NoChannelsConfiguredError (conda/core/solve.py, since 26.1: no implicit ``defaults``).
* conda 26.7.1 registers the environment it installs into: its transaction touches
  ``~/.conda/environments.txt`` (``RegisterEnvironmentLocationAction.verify``,
  conda/core/path_actions.py; the file is created empty if absent), then appends the prefix
  unless it is listed, and not at all when ``register_envs`` is false (``register_env``,
  conda/core/envs_manager.py). mamba 2.x registers only a prefix it creates
  (``create_target_directory``, libmamba/src/api/install.cpp), never one it installs into.
* mamba 2.x reads ``ROOT/{.condarc,condarc,condarc.d,.mambarc}``, the user files,
  ``$CONDA_PREFIX/...`` and ``TARGET/...``, a list setting merged from the highest precedence
  down: TARGET first, ROOT last (``compute_default_rc_sources`` reverses what it collected,
  ``Source<std::vector<T>>::merge`` in libmamba/include/mamba/api/configuration_impl.hpp); its
  root prefix is ``-r/--root-prefix``, else ``MAMBA_ROOT_PREFIX``, else ``MAMBA_DEFAULT_ROOT_PREFIX``,
  else the parent's parent of libmamba's own environment when that holds ``pkgs``, ``conda-meta``
  or ``envs``, else that environment (``get_root_prefix()``, ``root_prefix_hook``, 2.8.1; the
  grandparent since 2.0.6); its target ``-p/--prefix``, else ``CONDA_PREFIX``, else the root;
  packages go to ``ROOT/pkgs`` unless ``pkgs_dirs``/``CONDA_PKGS_DIRS`` say otherwise.

The "solve" installs exactly the named packages (newest version) from ``file://`` channels;
dependencies must already be there. Standard library only: it runs on the environment's python.
"""

import json
import os
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request

SUBDIR = "linux-64"
NO_CHANNELS = """
NoChannelsConfiguredError: No channels are configured. Conda requires at least one channel to search for packages.

You have attempted to install: {packages}
"""


def _rc_list(path, key):
    """The items of a top-level block list ``key:`` in a YAML rc file (plain or quoted scalars)."""
    items, inside = [], False
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return items
    for line in lines:
        stripped = line.split(" #", 1)[0].rstrip()
        if not stripped or stripped.lstrip().startswith("#"):
            continue
        if not line.startswith((" ", "-")):
            inside = stripped == key + ":"
            continue
        if inside and stripped.lstrip().startswith("- "):
            value = stripped.lstrip()[2:].strip()
            items.append(json.loads(value) if value.startswith('"') else value.strip("'"))
    return items


def _rc_scalar(path, key):
    """The value of a top-level ``key: value`` in a YAML rc file (None: not there)."""
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        if line.startswith(key + ":"):
            found = line[len(key) + 1:].split(" #", 1)[0].strip().strip("'\"")
    return found


def _register(prefix, rc):
    """conda's RegisterEnvironmentLocationAction: verify (touch), then execute (register_env)."""
    registry = os.path.join(os.path.expanduser("~"), ".conda", "environments.txt")
    os.makedirs(os.path.dirname(registry), exist_ok=True)
    open(registry, "a").close()
    setting = None
    for path in rc:  # a later file wins, as conda merges primitive parameters
        setting = _rc_scalar(path, "register_envs") or setting
    if setting is not None and setting.lower() in ("false", "no", "off"):
        return
    with open(registry, encoding="utf-8") as f:
        if prefix in f.read().splitlines():
            return
    with open(registry, "a", encoding="utf-8") as f:
        f.write(prefix + "\n")


def _expand(candidates):
    """Files named by a search path, with ``X.d/`` directories expanded to their *.yml files."""
    files = []
    for path in candidates:
        if path.endswith(".d") or path.endswith(".d/"):
            if os.path.isdir(path):
                files += sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith((".yml", ".yaml")))
        elif os.path.isfile(path):
            files.append(path)
    seen, unique = set(), []
    for f in files:
        if os.path.realpath(f) not in seen:
            seen.add(os.path.realpath(f))
            unique.append(f)
    return unique


def _user_files(home):
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    names = (".condarc", "condarc", "condarc.d")
    return ([os.path.join(xdg, "conda", n) for n in names] + [os.path.join(home, ".config", "conda", n) for n in names]
            + [os.path.join(home, ".conda", n) for n in names] + [os.path.join(home, ".condarc")])


def conda_rc_files():
    root = os.environ.get("CONDA_ROOT") or sys.prefix
    home = os.path.expanduser("~")
    names = (".condarc", "condarc", "condarc.d")
    candidates = ["/etc/conda/" + n for n in names] + [os.path.join(root, n) for n in names] + _user_files(home)
    if os.environ.get("CONDA_PREFIX"):
        candidates += [os.path.join(os.environ["CONDA_PREFIX"], n) for n in names]
    if os.environ.get("CONDARC"):
        candidates.append(os.environ["CONDARC"])
    return _expand(candidates)


def _weakly_canonical(path):
    return os.path.realpath(os.path.expanduser(path))


def mamba_root_prefix(given=None):
    """libmamba 2.8.1's root prefix: ``given`` (-r), the variables, else from libmamba's place."""
    explicit = given or os.environ.get("MAMBA_ROOT_PREFIX") or os.environ.get("MAMBA_DEFAULT_ROOT_PREFIX")
    if explicit:
        return _weakly_canonical(explicit)  # root_prefix_hook: weakly_canonical(expand_home(prefix))
    # libmamba lies in PREFIX/lib, this interpreter's prefix; dladdr names it as loaded and
    # get_root_prefix() takes weakly_canonical of its grandparent directory, then of that one's grandparent.
    own = _weakly_canonical(sys.prefix)
    inferred = _weakly_canonical(os.path.dirname(os.path.dirname(own)))
    if any(os.path.exists(os.path.join(inferred, d)) for d in ("pkgs", "conda-meta", "envs")):
        return inferred
    return own  # validated, or MAMBA_USE_INSTALL_PREFIX_AS_BASE (the shared libmamba): the environment either way


def mamba_rc_files(root, target):
    """Highest precedence first."""
    home = os.path.expanduser("~")
    names = (".condarc", "condarc", "condarc.d", ".mambarc")
    candidates = [os.path.join(root, n) for n in names] + _user_files(home)
    if os.environ.get("CONDA_PREFIX"):
        candidates += [os.path.join(os.environ["CONDA_PREFIX"], n) for n in names[:3]]
    if os.environ.get("CONDARC"):
        candidates.append(os.environ["CONDARC"])
    candidates += [os.path.join(target, n) for n in names]
    return list(reversed(_expand(candidates)))


def _parse(argv):
    channels, specs, override, prefixes = [], [], False, {}
    queue = list(argv)
    while queue:
        arg = queue.pop(0)
        if arg in ("-c", "--channel"):
            channels.append(queue.pop(0))
        elif arg in ("-r", "--root-prefix", "-p", "--prefix"):
            prefixes[arg.lstrip("-")[0]] = queue.pop(0)
        elif arg == "--override-channels":
            override = True
        elif arg in ("-y", "--yes", "-q", "--quiet"):
            pass
        elif arg.startswith("-"):
            raise SystemExit("unsupported option for the stand-in: " + arg)
        else:
            specs.append(arg)
    return channels, specs, override, prefixes


def _channel_url(channel, rc=()):
    """A channel name as libmamba makes it a URL: channel_alias + NAME (the `channel_alias`
    configurable, MAMBA_CHANNEL_ALIAS or an rc file's, libmamba/src/api/configuration.cpp 2.8.1);
    a URL stays as it is."""
    if "://" in channel:
        return channel
    alias = os.environ.get("MAMBA_CHANNEL_ALIAS")
    for path in rc:
        alias = alias or _rc_scalar(path, "channel_alias")
    return alias.rstrip("/") + "/" + channel if alias else channel


def _find(channels, name):
    """The newest package NAME, or the one NAME=VERSION names (conda's match spec, exact version)."""
    name, _, version = name.replace("==", "=").partition("=")
    for channel in channels:
        if not channel.startswith("file://"):
            raise SystemExit("the stand-in reads file:// channels only: " + channel)
        # url2pathname: file:///Z:/x is Z:\x on Windows (the Windows CPython runs this too)
        base = urllib.request.url2pathname(urllib.parse.urlparse(channel).path)
        for subdir in (SUBDIR, "noarch"):
            try:
                with open(os.path.join(base, subdir, "repodata.json"), encoding="utf-8") as f:
                    repodata = json.load(f)
            except OSError:
                continue
            found = [(fn, rec) for fn, rec in repodata.get("packages", {}).items()
                     if rec["name"] == name and (not version or rec["version"] == version)]
            if found:
                fn, rec = max(found, key=lambda item: [int(p) if p.isdigit() else 0 for p in item[1]["version"].split(".")])
                return channel.rstrip("/"), subdir, fn, rec, os.path.join(base, subdir, fn)
    return None


MAX_SHEBANG_LENGTH = 127  # libmamba link.hpp, Linux
# libmamba link.hpp shebang_regex (2.8.1): "#!", spaces, the executable (no unescaped space), the rest.
_SHEBANG_REGEX = re.compile(rb"#![ ]*(/(?:\\ |[^ \n\r\t])*)(.*)")


def _long_shebang(data):
    """libmamba link.cpp replace_long_shebang (2.8.1): a first line past 127 characters becomes
    `#!/usr/bin/env NAME OPTIONS`, NAME the last component of the text up to the first space. A
    prefix with a space is cut there (`#!/a b/bin/python` -> `#!/usr/bin/env a b/bin/python`),
    and a shorter line is kept as it is, space and all."""
    if not data.startswith(b"#!"):
        return data
    line, nl, rest = data.partition(b"\n")
    if len(line) <= MAX_SHEBANG_LENGTH:
        return data
    match = _SHEBANG_REGEX.fullmatch(line)
    if match is None:
        return data
    executable, options = match.groups()
    return b"#!/usr/bin/env " + executable.rsplit(b"/", 1)[-1] + options + nl + rest


def _binary(data, placeholder, prefix, refuse_longer=True):
    """libmamba link.cpp LinkFile::create_prefix_replaced (2.8.1), non-Windows: each occurrence and
    the rest of its NUL-terminated string, then (placeholder - prefix) NULs. libmamba itself pads
    with nothing when the prefix is longer (the file grows); conda refuses (_PaddingError in
    portability.py binary_replace), as this does with refuse_longer."""
    if refuse_longer and len(prefix) > len(placeholder):
        raise SystemExit("critical libmamba Padding error: the prefix is longer than the binary placeholder")
    padding = b"\0" * max(len(placeholder) - len(prefix), 0)
    buffer = bytearray(data)
    pos = buffer.find(placeholder)
    while pos >= 0:  # libmamba's loop: the rest of the string up to its NUL, then the padding
        end = buffer.find(b"\0", pos)
        end = len(buffer) if end < 0 else end
        buffer[pos:end] = prefix + bytes(buffer[pos + len(placeholder):end]) + padding
        pos = buffer.find(placeholder, pos + len(prefix))
    return bytes(buffer)


def relinked(data, placeholder, mode, prefix, refuse_longer=True):
    """A package file with a prefix placeholder as libmamba links it (LinkFile::create_prefix_replaced,
    2.8.1, non-Windows): text: every occurrence replaced, then the long-shebang rule on the first
    line only; binary: NUL-padded. No other rule: a prefix with a space is written as it is."""
    if mode == "binary":
        return _binary(data, placeholder, prefix, refuse_longer)
    return _long_shebang(data.replace(placeholder, prefix))


def _link(archive, prefix, rec, url, channel):
    placeholder = None
    with tarfile.open(archive) as tar:
        paths = json.load(tar.extractfile("info/paths.json"))["paths"]
        for entry in paths:
            member = tar.getmember(entry["_path"])
            dest = os.path.join(prefix, entry["_path"])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            data = tar.extractfile(member).read()
            placeholder = entry.get("prefix_placeholder")
            if placeholder:
                data = relinked(data, placeholder.encode(), entry.get("file_mode", "text"), prefix.encode())
            with open(dest, "wb") as f:
                f.write(data)
            os.chmod(dest, member.mode & 0o777)
    record = dict(rec, channel=channel, url=url, files=[e["_path"] for e in paths],
                  paths_data={"paths": paths, "paths_version": 1})
    name = "%s-%s-%s.json" % (rec["name"], rec["version"], rec["build"])
    with open(os.path.join(prefix, "conda-meta", name), "w", encoding="utf-8") as f:
        json.dump(record, f)


def install(argv, tool):
    """`conda install` / `mamba install` into the active (or own) environment."""
    extra, specs, override, prefixes = _parse(argv)
    if tool == "mamba":
        root = mamba_root_prefix(prefixes.get("r"))
        target = _weakly_canonical(prefixes.get("p") or os.environ.get("CONDA_PREFIX") or root)
        rc = mamba_rc_files(root, target)
    else:
        if prefixes:
            raise SystemExit("unsupported option for the conda stand-in: -r/-p")
        root = os.environ.get("CONDA_ROOT") or sys.prefix
        target = os.environ.get("CONDA_PREFIX") or sys.prefix
        rc = conda_rc_files()
    channels = list(extra)
    if not override:
        for path in rc:
            channels += [c for c in _rc_list(path, "channels") if c not in channels]
    if not channels and tool == "mamba":
        channels = ["conda-forge"]  # libmamba's default (Context::channels, libmamba/include/mamba/core/context.hpp)
    if not channels:
        sys.stderr.write(NO_CHANNELS.format(packages=", ".join(specs)))
        return 1
    channels = [_channel_url(c, rc) for c in channels] if tool == "mamba" else channels
    pkgs_dirs = [p for p in os.environ.get("CONDA_PKGS_DIRS", "").split(",") if p.strip()]
    for path in rc:
        pkgs_dirs += _rc_list(path, "pkgs_dirs")
    if not pkgs_dirs:
        pkgs_dirs = [os.path.join(root, "pkgs")]
    cache = pkgs_dirs[0]
    for spec in specs:
        found = _find(channels, spec)
        if found is None:
            sys.stderr.write("PackagesNotFoundError: %s (channels: %s)\n" % (spec, ", ".join(channels)))
            return 1
        channel, subdir, fn, rec, source = found
        _unlink_package(target, rec["name"])  # an update replaces what the package had installed
        os.makedirs(cache, exist_ok=True)
        local = os.path.join(cache, fn)
        if not os.path.exists(local):
            shutil.copyfile(source, local)
        _link(local, target, rec, "%s/%s/%s" % (channel, subdir, fn), channel)
        print("installed %s-%s from %s into %s (cache %s, rc %s)" % (spec, rec["version"], channel, target, cache,
                                                                      ",".join(rc) or "none"))
    if tool == "conda":
        _register(os.path.normpath(target), rc)
    return 0


def _records(target, name):
    meta = os.path.join(target, "conda-meta")
    for fn in sorted(os.listdir(meta)):
        if fn.endswith(".json") and fn.rsplit("-", 2)[0] == name:
            yield os.path.join(meta, fn)


def _unlink_package(target, name):
    for path in _records(target, name):
        with open(path, encoding="utf-8") as f:
            files = json.load(f).get("files", [])
        for rel in files:
            try:
                os.unlink(os.path.join(target, rel))
            except FileNotFoundError:
                pass
        os.unlink(path)


def remove(argv, tool):
    """`conda remove` / `mamba remove`: the named packages' files and records. mamba 2.x's remove
    keeps one fallback, the active environment: use_target_prefix_fallback (CONDA_PREFIX) on,
    use_default_prefix_fallback and use_root_prefix_fallback off (libmamba/src/api/remove.cpp 30-32,
    target_prefix_hook in libmamba/src/api/configuration.cpp, 2.8.1); with neither -p nor
    CONDA_PREFIX it refuses ("No target prefix specified", configuration.cpp 872)."""
    queue, target, names = list(argv), None, []
    while queue:
        arg = queue.pop(0)
        if arg in ("-p", "--prefix"):
            target = queue.pop(0)
        elif not arg.startswith("-"):
            names.append(arg)
    if target is None and tool == "mamba" and not os.environ.get("CONDA_PREFIX"):
        sys.stderr.write("error    libmamba No target prefix specified\ncritical libmamba Aborting.\n")
        return 1
    target = target or os.environ.get("CONDA_PREFIX") or sys.prefix
    for name in names:
        if not list(_records(target, name)):
            sys.stderr.write("PackagesNotFoundError: %s is not installed in %s\n" % (name, target))
            return 1
        _unlink_package(target, name)
        print("removed %s from %s" % (name, target))
    return 0


def repoquery(argv):
    """`mamba repoquery search NAME`: the channels' packages of that name, from the rc files."""
    if argv[:1] != ["search"] or len(argv) < 2:
        sys.stderr.write("mamba (test stand-in): repoquery search NAME only\n")
        return 2
    root = mamba_root_prefix()
    channels = []
    for path in mamba_rc_files(root, os.environ.get("CONDA_PREFIX") or root):
        channels += [c for c in _rc_list(path, "channels") if c not in channels]
    found = _find(channels, argv[1])
    if found is None:
        print("No entries matching \"%s\" found" % argv[1])
        return 0
    print("%s %s %s %s" % (found[3]["name"], found[3]["version"], found[3]["build"], found[0]))
    return 0


def env_config_vars(argv):
    """`conda env config vars set NAME=VALUE ...` / `unset NAME ...` on the active (or own) environment,
    as conda/core/prefix_data.py does it: state["env_vars"] updated, unset writes "***unset***" (PATH,
    reserved, is dropped instead), the file written by json.dumps(state, ensure_ascii=False)."""
    prefix = os.environ.get("CONDA_PREFIX") or sys.prefix
    path = os.path.join(prefix, "conda-meta", "state")
    state = json.load(open(path, encoding="utf-8")) if os.path.lexists(path) else {}
    current = state.get("env_vars")
    if argv[:1] == ["set"]:
        new = dict(arg.split("=", 1) for arg in argv[1:])
        if current:
            current.update(new)
        else:
            state["env_vars"] = new
    elif argv[:1] == ["unset"] and current:
        for name in argv[1:]:
            if name in current:
                if name == "PATH":
                    current.pop(name)
                else:
                    current[name] = "***unset***"
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(state, ensure_ascii=False))
    return 0
