"""PREFIX/.condarc: the configuration an installer gives its base, so that the environment's own
conda and mamba can install packages without any file outside the environment.

conda stopped adding `defaults` implicitly in 25.9 and raises NoChannelsConfiguredError with no
channel since 26.1 (conda/core/solve.py); installers such as Miniforge ship a `.condarc` in the
base prefix for that reason. The environment's conda reads `$CONDA_ROOT/.condarc`, and conda sets
CONDA_ROOT to its own `sys.prefix` when unset (conda/__init__.py; SEARCH_PATH in
conda/base/constants.py), as well as `$CONDA_PREFIX/.condarc`. libmamba (mamba 2.x) reads
`ROOT/.condarc` and `TARGET/.condarc` (`compute_default_rc_sources`, libmamba/src/api/
configuration.cpp), and every way into an environment sets its root prefix to the environment.

It also carries three settings (SETTINGS): the environment's own conda names it by its directory
in the prompt, keeps it out of the user's ~/.conda/environments.txt, and caches no channel
notices in the user's home. The file is the
user's once written: it is never overwritten. Where one exists, `adopt` (and `create`) append
the settings it lacks, with a comment line, keeping the user's own values, owner and mode; a
file the YAML reader (common/yamlread) cannot read is left as it is, with a warning.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import json
import os
from collections.abc import Iterable, Sequence

from mambaboot.common.files import confined, fileid
from mambaboot.common.values import value

FILE = ".condarc"
HEADER = "# Written by mambaboot when it made this environment: the channels it was created"
# (key, YAML value, why), each honoured by conda 26.x and, env_prompt only, by mamba 2.x:
# - env_prompt: conda formats it with name=basename(prefix) (conda/activate.py `_prompt_modifier`,
#   26.7.1); its default "({default_env}) " is "base" for the root prefix (`_default_env`), and the
#   environment is its own conda's root, so every environment would show "(base)". libmamba
#   reads it from the rc files too (`Configurable("env_prompt")...set_rc_configurable()`,
#   libmamba/src/api/configuration.cpp, 2.8.1), but its {name} is `prefix.stem()`
#   (libmamba/src/core/activation.cpp): `mamba activate` drops a last ".suffix" (proj_3 for proj_3.12).
# - register_envs: with it false conda's `register_env` (conda/core/envs_manager.py, since 23.9)
#   returns at once, where its first install would otherwise append the prefix to the user's
#   ~/.conda/environments.txt. (Its transaction still touches that file, creating it empty if
#   absent: `RegisterEnvironmentLocationAction.verify`, conda/core/path_actions.py, 26.7.1.)
#   libmamba's register_envs is not an rc setting (2.8.1); it registers only a prefix it
#   creates (`create_target_directory`, libmamba/src/api/install.cpp), never one it installs into.
# - number_channel_notices: with it 0 conda's `notices` wrapper around install, update and remove
#   does nothing (`is_channel_notices_enabled`, conda/notices/core.py, 26.7.1); otherwise it fetches
#   the channels' notices and caches them in the user's ~/.cache/conda/notices (`get_notices_cache_dir`,
#   conda/notices/cache.py), outside the environment. `conda notices` still shows them on demand.
SETTINGS = (
    ("env_prompt", '"({name}) "', "the prompt names this environment's directory, not \"base\" (its own conda's name for it)"),
    ("register_envs", "false", "its conda does not list it in ~/.conda/environments.txt"),
    ("number_channel_notices", "0", "its conda caches no channel notices in ~/.cache/conda (conda notices shows them)"),
)
ADDED = "# Added by mambaboot:"  # the comment line before settings appended to an existing file


def channels_of(urls: Iterable[str]) -> list[str]:
    """The channels packages came from (`CHANNEL/SUBDIR/FILE` URLs), first seen first."""
    channels: list[str] = []
    for url in urls:
        channel = url.rsplit("/", 2)[0] if url.count("/") >= 3 else ""
        if channel and channel not in channels:
            channels.append(channel)
    return channels


def _settings(keys) -> list[str]:
    return [line for key, text, why in SETTINGS if key in keys for line in (f"# {why}", f"{key}: {text}")]


def render(channels: Sequence[str], pkgs_dirs: Sequence[str]) -> str:
    # JSON strings are YAML double-quoted scalars: any path or URL is carried exactly.
    lines = [HEADER,
             "# from and its package cache, so this environment's own conda and mamba can install.",
             "# It is yours now: mambaboot never overwrites it."]
    if channels:
        lines.append("channels:")
        lines += [f"  - {json.dumps(c, ensure_ascii=False)}" for c in channels]
    if pkgs_dirs:
        lines.append("pkgs_dirs:")
        lines += [f"  - {json.dumps(p, ensure_ascii=False)}" for p in pkgs_dirs]
    lines += _settings([key for key, _, _ in SETTINGS])
    return "\n".join(lines) + "\n"


def ours(prefix: str) -> bool:
    """Whether PREFIX/.condarc is one mambaboot wrote (its first line says so)."""
    try:
        with confined.Root.open(prefix) as root, root.open_read(FILE) as f:
            return f.readline().rstrip(b"\r\n") == HEADER.encode()
    except OSError:
        return False


@value
class Outcome:
    """What ensure() did: file, the relative path when the file there is ours (for the record);
    written, whether it made the file; added, the settings it appended to an existing one;
    warning, why an existing file was left without some of them."""

    file: str | None
    written: bool = False
    added: tuple[str, ...] = ()
    warning: str | None = None


def ensure(prefix: str, channels: Sequence[str], pkgs_dirs: Sequence[str], sync: bool = True, ahead=None) -> Outcome:
    """PREFIX/.condarc written where there is none; where there is one, the SETTINGS it lacks
    appended. sync: see confined.write_file. ahead(FILE, bytes): told what is written, before."""
    path, ahead = os.path.join(prefix, FILE), ahead or (lambda rel, data: None)
    if not os.path.lexists(path):
        data = render(channels, pkgs_dirs).encode("utf-8")
        ahead(FILE, data)
        confined.write_file(path, data, mode=confined.user_mode(0o666), sync=sync)
        return Outcome(FILE, written=True)
    added, warning = _add_missing(path, ahead)
    return Outcome(FILE if ours(prefix) else None, added=added, warning=warning)


def _left(path: str, why: str, missing) -> tuple[tuple[str, ...], str]:
    wanted = "; ".join(f"{key}: {text}" for key, text, _ in SETTINGS if key in missing)
    return (), f"{path} {why}; left as it is, without {wanted} (add it yourself: see the guide's .condarc section)"


def _add_missing(path: str, ahead) -> tuple[tuple[str, ...], str | None]:
    """Append the SETTINGS the file lacks (a user's own value of one always wins), or say why not."""
    from mambaboot.common import untrusted
    from mambaboot.common.files import filerewrite
    from mambaboot.common.errors import UntrustedInput

    every = [key for key, _, _ in SETTINGS]
    if fileid.is_link(path) or not os.path.isfile(path):
        return _left(path, "is not a regular file", every)
    try:
        read = filerewrite.Read(path)
        # A byte-order mark (Notepad's) is no part of the first key, and stays where it is.
        bom = untrusted.BOM if read.data.startswith(untrusted.BOM) else b""
        text = untrusted.text(read.data, path)
        top = untrusted.yaml(text, path)
    except OSError as exc:
        return _left(path, f"cannot be read ({exc.strerror})", every)
    except UntrustedInput as exc:
        return _left(path, f"cannot be read safely ({exc.problem})", every)
    if top is not None and not isinstance(top, dict):
        return _left(path, "does not hold a mapping of settings", every)
    new, missing = _appended(text, top)
    if not missing:
        return (), None
    try:  # read again as a whole: the settings must land in the file's own top-level mapping
        after = untrusted.yaml(new, path)
    except UntrustedInput:
        after = None
    if not isinstance(after, dict) or any(after.get(key) is None for key in missing):
        return _left(path, "has a layout mambaboot cannot append to safely", missing)
    data = bom + new.encode("utf-8")
    ahead(FILE, data)
    try:  # a new file, never written in place: the installer may have hard-linked it from the package cache
        filerewrite.rewrite(read, data, keep_links=False)
    except OSError as exc:
        return _left(path, f"could not be written ({exc.strerror or exc})", missing)
    return tuple(missing), None


def _appended(text: str, top) -> tuple[str, list]:
    """(text with the SETTINGS its mapping top lacks appended, those keys)."""
    missing = [key for key, _, _ in SETTINGS if key not in (top or {})]
    newline = "\r\n" if "\r\n" in text else "\n"
    block = newline.join([ADDED] + _settings(missing)) + newline
    return text + ("" if not text or text.endswith("\n") else newline) + block, missing
