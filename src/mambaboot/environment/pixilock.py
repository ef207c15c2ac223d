"""pixi's lock file (pixi.lock, rattler-lock format versions 6 and 7), read as --from-lock installs it.

The format (rattler_lock, conda/rattler crates/rattler_lock/src/parse: models/v6 and models/v7,
their conda_package_data.rs and pypi_package_data.rs; conda 26.5 reads version 6 through its
conda-lockfiles plugin, `rattler-lock-v6`), and the rule mambaboot reads each field by:

- `version`: 6 or 7; another is refused, naming it (pixi rewrites an older file on `pixi lock`).
- `platforms` (7 only): each platform the file was solved for, `name:` and optional `subdir:` and
  `virtual-packages:` (DeserializablePlatformData, crates/rattler_lock/src/parse/deserialize.rs;
  Platform::subdir, crates/rattler_lock/src/platform.rs, conda/rattler 92dc7743): a platform is the
  conda subdir it names, its name when it names none. Several of one subdir are variants solved for
  other virtual packages (`cuda-linux-64`, `x86-cuda13`). Version 6 has no table: a platform's name
  is its subdir (create_legacy_platforms, deserialize.rs).
- `environments`: NAME -> `channels`, `indexes` (PyPI's), `packages`: platform name -> a list of
  references, `- conda: URL`, `- conda_source: ID` (7: a source package) or `- pypi: URL`, each
  naming an entry of `packages` by that location (version 6 may add `name`, `version`, `build`,
  `subdir` to a conda reference, to tell entries of one location apart: LegacyPackageSelector,
  deserialize.rs; none matching is refused, as pixi refuses it). `--environment NAME` chooses one (`default` by default); one the file lacks is
  refused, naming those it holds; one without packages names those that have some; this machine's
  subdir is installed from the platform that names it (of several variants, the one named as the
  subdir, else refused, naming them); a subdir it has no packages for is refused, naming those it has.
- `packages`: one entry per artefact, its location under the key `conda`, `conda_source` or `pypi`.
  A conda entry's `sha256` and `md5` (the hash fields flattened into the entry) pin its archive: it
  is installed as an @EXPLICIT line (URL and digest), checked by micromamba; one with neither digest,
  or whose location is no package archive (a source package pixi builds itself, as every
  `conda_source` is), is refused, named. name, version and build are the entry's, else those the
  archive's file name says. A PyPI entry's `name`, `version` and `sha256` make the
  `NAME @ URL --hash=sha256:HASH` line pip installs with --require-hashes --no-deps (each checked by
  lockfile.pip_entry; a `direct+` before the URL's scheme is pixi's mark of a direct URL, stripped as
  pixi strips it before it installs: strip_direct_scheme, crates/pixi_install_pypi/src/utils.rs,
  prefix-dev/pixi 2b25fc76); a path (`pypi: .`, the project itself, which pixi installs editable)
  or an entry without its sha256 has no artefact to pin, and is refused as every unpinned pip entry is.
Every shape the format does not have (a list or a mapping where a location goes, a reference
that is no mapping) is refused naming its place in the file, in any platform's list.
Every other field (depends, license, size, timestamp, requires_dist, requires_python) is not needed
to install exactly these artefacts, and is not read.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import re

from mambaboot.common import shapes, untrusted, urlrule
from mambaboot.common.errors import UsageError
from mambaboot.environment.lockfile import HASH, NO_ARTEFACT, Entry, Lock, PipEntry, pip_entry, place

WHAT = "a pixi lock file"
VERSIONS = ("6", "7")
DEFAULT_ENVIRONMENT = "default"
_NAME = re.compile(r"(^|[\\/])pixi\.lock$")
_ARCHIVE = (".conda", ".tar.bz2")
_TOP_KEYS = ("version", "environments", "packages")  # a tuple: a set constant makes the zipapp's build vary
_KINDS = ("conda", "conda_source", "pypi")
_SELECTOR = ("name", "version", "build", "subdir")  # what a version 6 reference may add to tell entries apart
_DIRECT = "direct+"
_PLATFORM = {"name": shapes.required(str, rule=shapes.usable), "subdir": shapes.optional(str, None, rule=shapes.usable),
             "virtual-packages": shapes.optional(list, None, rule=shapes.each(str))}


def is_lock_name(path: str) -> bool:
    return bool(_NAME.search(path))


def looks_like(keys) -> bool:
    """Whether a file's top-level keys hold `version`, `environments` and `packages`, which neither a
    conda-lock file nor an @EXPLICIT list has."""
    return all(key in keys for key in _TOP_KEYS)


def parse(text: str, source: str, cwd: str, platform: str, environment: str = DEFAULT_ENVIRONMENT) -> Lock:
    doc = untrusted.yaml(text, source)
    version = doc.get("version") if isinstance(doc, dict) else None
    if version not in VERSIONS:
        raise UsageError(f"{source} is not a pixi lock file of version 6 or 7 (version: {version!r}); "
                         "`pixi lock` writes the current format")
    environments = doc.get("environments")
    if not isinstance(environments, dict) or environment not in environments:
        held = ", ".join(str(k) for k in environments) if isinstance(environments, dict) else "none"
        raise UsageError(f"{source} holds no environment {environment!r}; it holds {held} (--environment NAME)")
    subdir_of = _subdirs(doc, version, source)
    packages = _platform_lists(environments[environment], f"environments.{environment}", source)
    if not packages:
        raise UsageError(_none_held(environments, environment, subdir_of, platform, source))
    ours = [name for name in packages if subdir_of(name) == platform]
    if not ours:
        held = ", ".join(dict.fromkeys(subdir_of(n) for n in packages))
        raise UsageError(f"{source} holds no packages of environment {environment!r} for {platform}; it holds {held}")
    if len(ours) > 1 and platform not in ours:
        raise UsageError(f"{source}: environment {environment!r} holds {len(ours)} variants of {platform}, "
                         f"{', '.join(ours)}, each solved for other virtual packages (its `platforms`), and none "
                         f"named {platform}: mambaboot cannot tell which fits this machine; lock it with one "
                         f"platform for {platform}")
    name = platform if platform in ours else ours[0]
    index = _index(doc.get("packages"), source)
    refs = {n: [_reference(ref, f"{source}: environments.{environment}.packages.{n}[{i}]", source)
                for i, ref in enumerate(items)] for n, items in packages.items()}
    entries, pip = [], []
    for number, (kind, location, selector) in enumerate(refs[name]):
        where = f"{source}: environments.{environment}.packages.{name}[{number}]"
        item = _entry_for(index, kind, location, selector, where)
        if kind == "conda":
            entries.append(_conda(item, location, where, source, cwd))
        else:
            pip.append(_pypi(item, location, where, source))
    carried, warnings = {}, []
    by_subdir: dict = {}
    for other in refs:
        if other != name:
            by_subdir.setdefault(subdir_of(other), []).append(other)
    for subdir, names in by_subdir.items():
        if subdir == platform or len(names) > 1:
            variants = sorted({*names, name} if subdir == platform else names)
            warnings.append(f"{source}: environment {environment!r} holds {len(variants)} variants of {subdir} "
                            f"({', '.join(variants)}), each solved for other virtual packages; a conda-lock file "
                            f"holds one set of packages per platform, so "
                            + (f"only {name}'s is installed here and carried" if subdir == platform else
                               f"none is carried to `mambaboot lock --platform {subdir}`"))
            continue
        (only,) = names
        held = _as_conda_lock(refs[only], index, subdir, f"{source}: environments.{environment}.packages.{only}", source)
        if held:
            carried[subdir] = {"content_hash": "", "package": held}
    return Lock(platform, tuple(entries), pip=tuple(pip), carried=carried or None, warnings=tuple(warnings))


def _subdirs(doc: dict, version: str, source: str):
    """A platform's name -> the conda subdir it is (version 7's `platforms`; 6: the name itself)."""
    table = doc.get("platforms") if version != "6" else None
    if table is None:
        return lambda name: name
    table = shapes.check_value(table, shapes.required(list, rule=shapes.each(_PLATFORM)), source, "field platforms", WHAT)
    named = {p["name"]: p.get("subdir") or p["name"] for p in table}
    return lambda name: named.get(name, name)


def _none_held(environments: dict, environment: str, subdir_of, platform: str, source: str) -> str:
    """What to say of an environment that holds no packages: the environments that do, each with its
    platforms, and which of them are for `platform`, so that one message is enough to choose."""
    held = {}
    for name, env in environments.items():
        lists = _platform_lists(env, f"environments.{name}", source) if isinstance(env, dict) else {}
        if lists:
            held[str(name)] = list(dict.fromkeys(subdir_of(n) for n in lists))
    said = f"{source}: its environment {environment!r} holds no packages; "
    if not held:
        return said + "none of its environments does"
    fits = [name for name, subdirs in held.items() if platform in subdirs]
    return (said + "those that do: " + ", ".join(f"{name} ({', '.join(subdirs)})" for name, subdirs in held.items())
            + (f"; for {platform}: --environment {' or '.join(fits)}" if fits else f"; none for {platform}"))


def _platform_lists(env: object, where: str, source: str) -> dict:
    """An environment's platform -> its list of references, the platforms with none left out."""
    if not isinstance(env, dict):
        shapes.check_value(env, shapes.required(dict, None), source, f"field {where}", WHAT)
        return {}
    packages = shapes.check_value(env.get("packages"), shapes.optional(dict, None, rule=shapes.each(
        shapes.required(list, None))), source, f"field {where}.packages", WHAT)
    return {str(n): refs for n, refs in (packages or {}).items() if refs}


def _reference(ref: object, where: str, source: str) -> tuple:
    """(kind, location, selector) of `- conda: URL` (with version 6's selector fields), `- conda_source: ID`
    or `- pypi: URL`; anything else: exit 2 naming where."""
    kinds = [k for k in _KINDS if isinstance(ref, dict) and k in ref]
    extra = [k for k in ref if k not in _KINDS and k not in _SELECTOR] if isinstance(ref, dict) else []
    if len(kinds) != 1 or extra or (kinds[0] != "conda" and len(ref) != 1):
        raise UsageError(f"{where}: expected `- conda: URL`, `- conda_source: ID` or `- pypi: URL`, not {ref!r}")
    kind = kinds[0]
    location = shapes.check_value(ref[kind], shapes.required(str, rule=shapes.usable), source, f"{where}.{kind}", WHAT)
    selector = {k: ref[k] for k in _SELECTOR if k in ref}
    shapes.check_value(selector, shapes.required(dict, rule=shapes.each(shapes.required(str))), source, where, WHAT)
    return kind, location, selector


def _entry_for(index: dict, kind: str, location: str, selector: dict, where: str) -> dict:
    if kind == "conda_source":
        raise UsageError(f"{where}: {urlrule.shown(location)!r} is a source package pixi builds itself, no archive to install")
    items = index.get((kind, location))
    if not items:
        raise UsageError(f"{where}: {kind} {urlrule.shown(location)!r} has no entry in `packages`")
    # version 6: the first entry whose fields, or what its location says of those it leaves out, are the
    # selector's; none: pixi refuses the file (MissingPackage, resolve_legacy_conda_package and
    # legacy_package_matches_selector, crates/rattler_lock/src/parse/deserialize.rs, conda/rattler 92dc7743)
    derived = _derived(location)
    found = next((i for i in items if all(str(i[k]) == v if i.get(k) is not None else derived[k] == v
                                          for k, v in selector.items())), None)
    if found is None:
        said = ", ".join(f"{k} {v}" for k, v in selector.items())
        raise UsageError(f"{where}: no entry of `packages` at {kind} {urlrule.shown(location)!r} has the {said} its reference "
                         "names (pixi refuses the file so too)")
    return found


def _as_conda_lock(refs: list, index: dict, platform: str, where: str, source: str) -> list:
    """The environment's entries for another platform as conda-lock's file writes them
    (condalock.PACKAGE), so that `mambaboot lock PREFIX --platform P` carries them out as a conda-lock
    file: name, version and build the entry's or its archive's file name's (NAME-VERSION-BUILD), depends
    as conda-lock's name -> constraint, the digests as its hash. What cannot be written so (a source
    package, a PyPI path without a digest) is left out; what no pixi.lock holds (a reference without
    an entry, an archive whose entry and file name say no name, version and build): exit 2, naming it."""
    from mambaboot.environment.condalock import dependencies

    out = []
    for number, (kind, location, selector) in enumerate(refs):
        at = f"{where}[{number}]"
        if kind == "conda_source":
            continue
        item = _entry_for(index, kind, location, selector, at)
        if kind == "conda" and location.endswith(_ARCHIVE) and (item.get("sha256") or item.get("md5")):
            name, version, _ = _conda_key(item, location, at, source)
            depends = shapes.check_value(item.get("depends"), shapes.optional(list, None, rule=shapes.each(str)),
                                         source, f"{at}: depends", WHAT) or []
            hashes = {k: item[k] for k in ("md5", "sha256") if item.get(k)}
            shapes.check_value(hashes, shapes.required(dict, rule=HASH), source, f"{at}: hash", WHAT)
            out.append({"name": name, "version": version, "manager": "conda", "platform": platform,
                        "dependencies": dependencies(depends), "url": location,
                        "hash": hashes, "category": "main", "optional": "false"})
        elif kind == "pypi" and "://" in location and item.get("sha256") and item.get("name"):
            entry = _pypi(item, location, at, source)
            if entry.sha256 is None:  # a checkout (git+...): no artefact to pin
                continue
            out.append({"name": entry.name, "version": entry.version, "manager": "pip",
                        "platform": platform, "dependencies": {}, "url": entry.url,
                        "hash": {"sha256": entry.sha256}, "category": "main", "optional": "false"})
    return out


def _conda_key(item: dict, location: str, where: str, source: str) -> tuple:
    """(name, version, build): the entry's fields where it has them (rattler derives the rest from
    the file name: derived_fields, crates/rattler_lock/src/utils), else the archive's NAME-VERSION-BUILD."""
    derived = _derived(location)
    key = []
    for field in ("name", "version", "build"):
        value = shapes.check_value(item.get(field), shapes.optional(str, None, rule=shapes.usable), source,
                                   f"{where}: {field}", WHAT) or derived[field]
        if not value:
            raise UsageError(f"{where}: {urlrule.shown(location)!r} is no NAME-VERSION-BUILD archive name, and its entry says "
                             f"no {field}")
        key.append(value)
    return tuple(key)


def _derived(location: str) -> dict:
    """What rattler derives from a conda entry's location for the fields the entry leaves out
    (LocationDerivedFields, crates/rattler_lock/src/utils/derived_fields.rs): name, version and
    build from its archive's NAME-VERSION-BUILD, the subdir from the directory of a URL's archive."""
    stem = location.rsplit("/", 1)[-1].rsplit(".conda", 1)[0].rsplit(".tar.bz2", 1)[0]
    parts = stem.rsplit("-", 2) if stem.count("-") >= 2 else [None, None, None]
    path = location.split("://", 1)[1].split("/") if "://" in location else []
    return {**dict(zip(("name", "version", "build"), parts)), "subdir": path[-2] if len(path) > 2 else None}


def _index(packages: object, source: str) -> dict:
    """(kind, location) -> the entries of `packages` at it (version 6 may hold several: told apart by
    the reference's selector); an entry of another shape: exit 2, naming it."""
    if not isinstance(packages, list):
        raise UsageError(f"{source}: `packages` must list the locked artefacts")
    index: dict = {}
    for number, item in enumerate(packages):
        kinds = [k for k in _KINDS if isinstance(item, dict) and k in item]
        if len(kinds) != 1:
            raise UsageError(f"{source}: packages[{number}]: expected an entry with one of `conda: URL`, "
                             f"`conda_source: ID` or `pypi: URL`, not {item!r}"[:600])
        location = shapes.check_value(item[kinds[0]], shapes.required(str, rule=shapes.usable), source,
                                      f"field packages[{number}].{kinds[0]}", WHAT)
        index.setdefault((kinds[0], location), []).append(item)
    return index


def _conda(item: dict, location: str, where: str, source: str, cwd: str) -> Entry:
    if not location.split("#", 1)[0].endswith(_ARCHIVE):
        raise UsageError(f"{where}: {urlrule.shown(location)!r} is a source package pixi builds itself, no archive to install")
    md5, sha256 = (shapes.check_value(item.get(k), HASH[k], source, f"{where}: {k}", WHAT) for k in ("md5", "sha256"))
    if not (md5 or sha256):
        raise UsageError(f"{where} ({urlrule.shown(location)}): a lock must pin every package by an md5 or sha256 hash")
    return Entry(place(location, source, where, cwd, WHAT), sha256 and sha256.lower(), md5 and md5.lower())


def _pypi(item: dict, location: str, where: str, source: str) -> PipEntry:
    url = location[len(_DIRECT):] if location.startswith(_DIRECT) else location
    sha256 = item.get("sha256") or None
    if url.startswith(NO_ARTEFACT) or "://" not in url or not sha256:
        # a path (the project itself, editable) or a checkout: refused by the rule of unpinned entries
        entry = pip_entry(item.get("name"), item.get("version") or "", url, None, source, where, WHAT)
        return PipEntry(entry.name, entry.version, url, None, f"{where} ({entry.name} @ {urlrule.shown(location)})")
    return pip_entry(item.get("name"), item.get("version") or "", url, sha256, source, where, WHAT)
