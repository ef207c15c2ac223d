"""conda-lock's unified lock file (version 1): one file, every platform a team uses.

What we write is what conda-lock's own models describe (conda_lock/lockfile/v1/models.py,
conda-lock 4.x): `version: 1`; `metadata` with `content_hash` (one per platform), `channels`
(each `url` with `used_env_vars`), `platforms` and `sources`; `package`, one entry per package
and platform with name, version, manager (conda or pip), platform, dependencies (name ->
constraint), url, hash (md5 and sha256; conda-lock's model requires the md5 of a conda
package), category and optional. micromamba reads the same file for a name ending in
`-lock.yml` or `-lock.yaml` (is_conda_env_lockfile_name, libmamba/src/core/env_lockfile.cpp,
2.8.1): only version 1, and it requires at least one platform, one source, one content hash,
each channel's `url` and `used_env_vars`, and each package's md5 or sha256
(libmamba/src/core/env_lockfile_conda.cpp); it installs the `main` category's conda packages
for its platform. Every scalar is written double-quoted, as JSON spells strings, which YAML
reads alike; we read it back with common/untrusted's YAML reader (and conda-lock's own output
too), and check it against its declared shape (LOCK, below) before any field is used.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import hashlib
import json
import re

from mambaboot.common import shapes, untrusted, urlrule
from mambaboot.common.errors import UsageError
from mambaboot.common.values import value
from mambaboot.environment.lockfile import (
    ARTEFACT_URL, HASH, NO_ARTEFACT, Entry, Lock, PipEntry, dependency_order, pip_entry, place,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_FILE_NAME = re.compile(r"-lock\.ya?ml$")


def is_lock_name(path: str) -> bool:
    """A name micromamba reads as conda-lock's format (is_conda_env_lockfile_name, 2.8.1)."""
    return bool(_FILE_NAME.search(path.replace("\\", "/").rsplit("/", 1)[-1]))


def looks_like(keys) -> bool:
    """Whether a lock's top-level keys are conda-lock's rather than an @EXPLICIT list's: `version` and
    `package`, which no explicit file has."""
    return "version" in keys and "package" in keys


@value
class Unified:
    """A parsed unified lock: its platforms, and per platform the locked entries."""

    platforms: tuple[str, ...]
    conda: Mapping[str, tuple[Entry, ...]]
    pip: Mapping[str, tuple[PipEntry, ...]]
    problems: Mapping[str, str] | None = None  # platform -> what is wrong with the first bad entry for it
    written: Mapping[str, Mapping[str, object]] | None = None  # platform -> its content_hash and entries as written

    def for_platform(self, platform: str, source: str) -> Lock:
        """The lock of one platform, as --from-lock installs it; a platform not held: exit 2, naming those
        held; a bad entry for it: exit 2, naming the entry (one for another platform is not looked at)."""
        if self.problems and platform in self.problems:
            raise UsageError(self.problems[platform])
        if platform not in self.platforms or not self.conda.get(platform):
            raise UsageError(f"{source} holds no packages for {platform}; it holds "
                             f"{', '.join(p for p in self.platforms if self.conda.get(p)) or 'none'}")
        carried = {p: v for p, v in (self.written or {}).items() if p != platform and v["package"]}
        return Lock(platform, self.conda[platform], pip=self.pip.get(platform, ()), carried=carried or None)


def dependencies(depends: Sequence[str]) -> dict[str, str]:
    """A package's depends as conda-lock keeps them: name -> the rest of the spec ("*" for none).
    micromamba joins each pair back as `NAME CONSTRAINT` (env_lockfile_conda.cpp)."""
    out: dict[str, str] = {}
    for spec in depends:
        name, _, rest = spec.strip().partition(" ")
        rest = rest.strip() or "*"
        if name:
            out[name] = rest if out.get(name, "*") == "*" else out[name] if rest == "*" else f"{out[name]},{rest}"
    return dict(sorted(out.items()))


def content_hash(platform: str, channels: Sequence[str], specs: Sequence[str], pip: Sequence[str]) -> str:
    """What the lock was solved from, for one platform: equal inputs, equal hash (conda-lock keeps
    one per platform to tell a stale lock; it hashes its own spec model, so ours is ours)."""
    doc = {"platform": platform, "channels": list(channels), "specs": sorted(specs), "pip": list(pip)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def used_env_vars(channel: str) -> list[str]:
    """The variables a channel as written names (`${NAME}` or `$NAME`), as conda-lock lists them in
    the channel's used_env_vars (conda_lock/models/channel.py: the URL keeps `${NAME}`)."""
    return list(dict.fromkeys(a or b for a, b in re.findall(r"\$\{(\w+)\}|\$(\w+)", channel, re.ASCII)))


def _q(text: object) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def render(solved: Mapping[str, Sequence], pip: Mapping[str, Sequence[PipEntry]], channels: Sequence[str],
           sources: Sequence[str], hashes: Mapping[str, str], carried: Mapping[str, Mapping] | None = None) -> str:
    """The unified file. solved: platform -> packages (name, version, url, md5, sha256, depends);
    pip: platform -> pip entries; carried: platform -> {"content_hash", "package"}, the entries of a
    platform as another conda-lock file held them (Lock.carried), written back as they were. It is
    handed to others: every URL is written without its password or token (urlrule.without_auth),
    as `conda list --explicit` writes one."""
    channels = [urlrule.without_auth(c) for c in channels]
    carried = {p: v for p, v in (carried or {}).items() if p not in solved}
    hashes = {**hashes, **{p: v.get("content_hash") or "" for p, v in carried.items()}}
    lines = [
        "# A conda-lock lock file (version 1), written by mambaboot: exactly these packages per platform,",
        "# checked by hash. Recreate with: mambaboot create NAME --from-lock THIS_FILE",
        "# (micromamba create -p PREFIX -f THIS_FILE, for a name ending in -lock.yml, and conda-lock install read it too)",
        'version: 1',
        "metadata:",
        "  content_hash:",
        *[f"    {_q(p)}: {_q(hashes[p])}" for p in (*solved, *carried) if hashes[p]],
        "  channels:",
        *[f"  - url: {_q(c)}\n    used_env_vars: [{', '.join(_q(v) for v in used_env_vars(c))}]" for c in channels],
        "  platforms:",
        *[f"  - {_q(p)}" for p in (*solved, *carried)],
        "  sources:",
        *[f"  - {_q(s)}" for s in sources],
        "package:",
    ]
    for platform, packages in solved.items():
        unhashed = [f"{p.name}-{p.version}-{p.build}" for p in packages if not p.md5 or not p.url]
        if unhashed:
            raise UsageError(f"cannot write a conda-lock file for {platform}: conda-lock requires an md5 and a URL "
                             f"of every conda package, and these have none: {', '.join(unhashed)}")
        for p in dependency_order(packages):
            lines += _package(p.name, p.version, "conda", platform, dependencies(p.depends), p.url,
                              {"md5": p.md5, "sha256": p.sha256})
        for e in pip.get(platform, ()):
            lines += _package(e.name, e.version, "pip", platform, {}, e.url, {"sha256": e.sha256})
    for entries in carried.values():
        for item in entries.get("package") or ():
            lines += _as_written(item)
    return "\n".join(lines) + "\n"


def _as_written(item: Mapping) -> list[str]:
    """A package entry as the file it came from held it (parsed by untrusted.yaml: strings, lists
    and mappings; null as None), every scalar quoted but `optional`'s boolean and null, a `url`
    without its password or token."""
    lines = _block(item, "  ")
    return ["- " + lines[0][2:], *lines[1:]]


def _block(value: Mapping | list, indent: str) -> list[str]:
    out: list[str] = []
    for key, v in (value.items() if isinstance(value, dict) else ((None, v) for v in value)):
        head = f"{indent}{_q(key)}:" if key is not None else f"{indent}-"
        if key == "optional" and v in _YAML_BOOL:
            out.append(f"{head} {'true' if str(v).lower() in ('true', 'yes', 'on') else 'false'}")
        elif isinstance(v, (dict, list)) and v:
            out += [head, *_block(v, indent + "  ")]
        elif key == "url" and isinstance(v, str):
            out.append(f"{head} {_q(urlrule.without_auth(v))}")
        else:
            out.append(f"{head} {'{}' if v == {} else '[]' if v == [] else 'null' if v is None else _q(v)}")
    return out


def _package(name, version, manager, platform, deps, url, hashes) -> list[str]:
    out = [f"- name: {_q(name)}", f"  version: {_q(version)}", f"  manager: {_q(manager)}",
           f"  platform: {_q(platform)}"]
    out += ["  dependencies:", *[f"    {_q(k)}: {_q(v)}" for k, v in deps.items()]] if deps else ["  dependencies: {}"]
    out += [f"  url: {_q(urlrule.without_auth(url))}", "  hash:", *[f"    {k}: {_q(v)}" for k, v in hashes.items() if v]]
    return out + ['  category: "main"', "  optional: false"]


# The file's shape (common/shapes.py), as conda-lock's own models declare it
# (conda_lock/lockfile/v1/models.py, conda-lock 4.0.2: Lockfile, LockMeta, Channel,
# LockedDependency, HashModel; v2prelim/models.py converts that model and adds no field to the
# file): checked whole before any field is used. Its models forbid unknown keys; here they are let
# through, as conda-lock adds fields over versions. common/yamlread keeps every scalar as text, so a
# number is a string here and a boolean one of the words PyYAML (conda-lock's reader) takes for one
# (yaml/resolver.py, bool). Which fields must be there: what conda-lock's model requires, less
# metadata's content_hash, channels and sources, which mambaboot does not read.
_STRINGS = shapes.each(str)
_YAML_BOOL = ("true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
              "on", "On", "ON", "off", "Off", "OFF")


def _yaml_bool(value: str, path: str) -> str | None:
    return None if value in _YAML_BOOL else f"is {value!r}, not true or false"


_NAME = shapes.required(str, rule=shapes.usable)
PACKAGE = {
    "name": _NAME, "version": _NAME, "manager": shapes.required(str, rule=shapes.exactly("conda", "pip")),
    "platform": _NAME, "dependencies": shapes.optional(dict, rule=_STRINGS),
    "url": ARTEFACT_URL,  # a conda package's: PACKAGE_URL, checked by lockfile.place
    "hash": shapes.required(dict, rule=HASH),
    "source": shapes.optional(dict, None, rule={"type": shapes.required(str), "url": shapes.required(str)}),
    "build": shapes.optional(str, None), "category": shapes.optional(str),
    "optional": shapes.optional(str, rule=_yaml_bool),
}
LOCK = {
    "version": shapes.required(str),
    "metadata": shapes.required(dict, rule={
        "platforms": shapes.required(list, rule=shapes.each(_NAME)),
        "content_hash": shapes.optional(dict, rule=_STRINGS),
        "channels": shapes.optional(list, rule=shapes.each(shapes.required(str, dict, rule={
            "url": shapes.required(str), "used_env_vars": shapes.optional(list, rule=_STRINGS)}))),
        "sources": shapes.optional(list, rule=_STRINGS),
        **dict.fromkeys(("time_metadata", "git_metadata", "inputs_metadata", "custom_metadata"),
                        shapes.optional(dict, None)),
    }),
    "package": shapes.required(list, rule=shapes.each(shapes.required(dict))),  # each checked as PACKAGE, per platform
}
WHAT = "a conda-lock file"


def parse(text: str, source: str, cwd: str = "", categories: Sequence[str] = ("main",)) -> Unified:
    """cwd: what a package's location that is a plain path is relative to (lockfile.place). A package
    is checked for its own platform: what is wrong with one is said by for_platform for that
    platform only, so an odd entry for another platform refuses nothing here. categories: those
    installed (--category): `main` by default, as micromamba installs a conda-lock file (its
    `categories` default, libmamba/src/core/env_lockfile.cpp, 2.8.1); `conda-lock install` takes main,
    dev unless --no-dev, and each -E extra (_compute_filtered_categories and render_lockfile_for_platform,
    conda_lock/conda_lock.py, 4.0.2). A package in two chosen categories is installed once."""
    doc = untrusted.yaml(text, source)
    if not isinstance(doc, dict) or doc.get("version") != "1":
        found = doc.get("version") if isinstance(doc, dict) else None
        raise UsageError(f"{source} is not a conda-lock file of version 1 (version: {found!r}); micromamba and "
                         "mambaboot read version 1")
    doc = shapes.check(doc, LOCK, source, WHAT)
    platforms = doc["metadata"]["platforms"]
    if not platforms:
        raise UsageError(f"{source}: metadata.platforms must list the platforms it locks")
    conda: dict[str, list[Entry]] = {p: [] for p in platforms}
    pip: dict[str, list[PipEntry]] = {p: [] for p in platforms}
    problems: dict[str, str] = {}
    hashes = doc["metadata"].get("content_hash") or {}
    written = {p: {"content_hash": hashes.get(p, ""), "package": []} for p in platforms}
    for number, item in enumerate(doc["package"]):
        platform = item.get("platform")
        if isinstance(platform, str) and platform in written:
            written[platform]["package"].append(item)
        try:
            found = _locked_package(item, number, source, cwd, platforms, categories)
        except UsageError as exc:  # UntrustedInput too: a field that does not fit its shape
            if not isinstance(platform, str) or not platform:
                raise
            problems.setdefault(platform, str(exc))
            continue
        if isinstance(found, Entry) and found not in conda[platform]:
            conda[platform].append(found)
        elif isinstance(found, PipEntry) and found not in pip[platform]:
            pip[platform].append(found)
    return Unified(tuple(platforms), {p: tuple(v) for p, v in conda.items()}, {p: tuple(v) for p, v in pip.items()},
                   problems, written)


def _locked_package(item: dict, number: int, source: str, cwd: str, platforms,
                    categories: Sequence[str] = ("main",)) -> Entry | PipEntry | None:
    """One package entry as installed on its platform (None: not in the categories installed)."""
    where, name = f"{source}: package[{number}]", item.get("name")
    # A virtual package (`__glibc`, `__osx`: what the solve assumed of the machine) is no archive:
    # conda-lock's own render leaves them out (filter_virtual_packages_inplace, and `if not
    # p.name.startswith("__")`, render_lockfile_for_platform, conda_lock/conda_lock.py, 4.0.2)
    if isinstance(name, str) and name.startswith("__") and item.get("manager") == "conda":
        return None
    if isinstance(item.get("hash"), str):
        # `hash: "md5:HEX"`: conda-lock's development versions of Nov 2021 - Feb 2022 wrote the digest so
        # (LockedDependency.hash: str, conda_lock/src_parser/__init__.py, commit aace69d0); 1.0.0 made it
        # md5 and sha256 fields (HashModel, commit 6261a480), which conda-lock 1.0+ and micromamba read
        raise UsageError(f"{where} ({name}): hash is the string {item['hash']!r}, the format of conda-lock's "
                         "development versions before 1.0.0, which only they read; conda-lock 1.0 and later, "
                         "micromamba and mambaboot read `hash:` with md5 and sha256 fields: lock it again with a "
                         "current conda-lock (conda-lock lock --lockfile FILE)")
    pip_source = item.get("source") if isinstance(item.get("source"), dict) else {}
    unpinnable = item.get("manager") == "pip" and (
        str(pip_source.get("url") or item.get("url") or "").startswith(NO_ARTEFACT))
    shape = {**PACKAGE, "hash": shapes.required(dict)} if unpinnable else PACKAGE
    item = shapes.check_value(item, shapes.required(dict, rule=shape), source, f"field package[{number}]", WHAT)
    empty = [k for k in ("name", "version", "platform", "url") if not item[k]]
    if empty:
        raise UsageError(f"{where} lacks {', '.join(empty)}")
    if item.get("category", "main") not in categories:
        return None  # conda-lock writes `optional: true` for every category but main: the category decides
    platform = item["platform"]
    if platform not in platforms:
        raise UsageError(f"{where} ({name}) is for {platform}, which metadata.platforms does not list")
    if unpinnable:
        # conda-lock keeps a git dependency's commit as its `sha256` (pypi_solver.py, 4.0.2), no
        # artefact's digest: named as what it is, and refused by the rule of every unpinned pip entry
        url = str(pip_source.get("url") or item["url"])
        return pip_entry(name, item["version"], url, None, source, f"field package[{number}]", WHAT,
                         f"{where} ({name} @ {urlrule.shown(url)})")
    md5, sha256 = (str(item["hash"].get(k) or "").lower() or None for k in ("md5", "sha256"))
    if not (md5 or sha256):
        raise UsageError(f"{where} ({name}): a lock must pin every package by an md5 or sha256 hash")
    if item["manager"] == "pip":
        if not sha256:
            raise UsageError(f"{where} ({name}): a pip package needs its sha256")
        return pip_entry(name, item["version"], item["url"], sha256, source, f"field package[{number}]", WHAT,
                         f"{where} ({name})")
    return Entry(place(item["url"], source, f"field package[{number}].url", cwd, WHAT), sha256, md5)
