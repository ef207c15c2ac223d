"""pixi's lock file (pixi.lock, rattler-lock format versions 6 and 7), read as --from-lock installs it.

The format (rattler_lock, conda/rattler crates/rattler_lock/src/parse: models/v6 and models/v7,
their conda_package_data.rs and pypi_package_data.rs; conda 26.5 reads version 6 through its
conda-lockfiles plugin, `rattler-lock-v6`), and the rule mambaboot reads each field by:

- `version`: 6 or 7; another is refused, naming it (pixi rewrites an older file on `pixi lock`).
- `platforms` (7 only): the platforms it was solved for; `environments.NAME.packages` says the same.
- `environments`: NAME -> `channels`, `indexes` (PyPI's), `packages`: platform -> a list of
  references, `- conda: URL` or `- pypi: URL`, each naming an entry of `packages` by that location.
  `--environment NAME` chooses one (`default` by default); one the file lacks is refused, naming
  those it holds; a platform it has no packages for is refused, naming those it has.
- `packages`: one entry per artefact, its location under the key `conda` or `pypi`. A conda entry's
  `sha256` and `md5` (the hash fields flattened into the entry) pin its archive: it is installed as an
  @EXPLICIT line (URL and digest), checked by micromamba; one with neither digest, or whose location
  is no package archive (a source package pixi builds itself), is refused, named. name, version and
  build are those the archive's file name says (the entry may also say them). A PyPI entry's `name`,
  `version` and `sha256` make the `NAME @ URL --hash=sha256:HASH` line pip installs with
  --require-hashes --no-deps; a path (`pypi: .`, the project itself, which pixi installs editable)
  or an entry without its sha256 has no artefact to pin, and is refused as every unpinned pip entry is.
Every other field (depends, license, size, timestamp, requires_dist, requires_python) is not needed
to install exactly these artefacts, and is not read.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import re

from mambaboot.common import shapes, untrusted
from mambaboot.common.errors import UsageError
from mambaboot.environment.lockfile import ARTEFACT_URL, HASH, NO_ARTEFACT, Entry, Lock, PipEntry, place

WHAT = "a pixi lock file"
VERSIONS = ("6", "7")
DEFAULT_ENVIRONMENT = "default"
_NAME = re.compile(r"(^|[\\/])pixi\.lock$")
_ARCHIVE = (".conda", ".tar.bz2")
_TOP_KEYS = ("version", "environments", "packages")  # a tuple: a set constant makes the zipapp's build vary


def is_lock_name(path: str) -> bool:
    return bool(_NAME.search(path))


def looks_like(text: str) -> bool:
    """A top-level `environments:` and `packages:` key, which neither a conda-lock file nor an @EXPLICIT list has."""
    keys = {line.split(":", 1)[0] for line in untrusted.lines(text) if line[:1].isalpha() and ":" in line}
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
    env = environments[environment]
    packages = env.get("packages") if isinstance(env, dict) else None
    if not isinstance(packages, dict) or not packages.get(platform):
        held = ", ".join(str(p) for p in packages if packages[p]) if isinstance(packages, dict) else "none"
        raise UsageError(f"{source} holds no packages of environment {environment!r} for {platform}; "
                         f"it holds {held or 'none'}")
    index = _index(doc.get("packages"), source)
    entries, pip = [], []
    for number, ref in enumerate(packages[platform]):
        where = f"{source}: environments.{environment}.packages.{platform}[{number}]"
        if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in ("conda", "pypi"):
            raise UsageError(f"{where}: expected `- conda: URL` or `- pypi: URL`, not {ref!r}")
        (kind, location), = ref.items()
        item = index.get((kind, location))
        if item is None:
            raise UsageError(f"{where}: {kind} {location!r} has no entry in `packages`")
        if kind == "conda":
            entries.append(_conda(item, location, where, source, cwd))
        else:
            pip.append(_pypi(item, location, where, source))
    carried = {p: {"content_hash": "", "package": _as_conda_lock(refs, index, p)}
               for p, refs in packages.items() if p != platform and isinstance(refs, list)}
    return Lock(platform, tuple(entries), pip=tuple(pip), carried={p: v for p, v in carried.items() if v["package"]} or None)


def _as_conda_lock(refs: list, index: dict, platform: str) -> list:
    """The environment's entries for another platform as conda-lock's file writes them
    (condalock.PACKAGE), so that `mambaboot lock PREFIX --platform P` carries them out as a conda-lock
    file: name, version and build from the archive's file name (NAME-VERSION-BUILD), depends as
    conda-lock's name -> constraint, the digests as its hash. What cannot be written so (a reference
    without an entry, a source package, a PyPI path without a digest) is left out."""
    from mambaboot.environment.condalock import dependencies

    out = []
    for ref in refs:
        (kind, location), = ref.items() if isinstance(ref, dict) and len(ref) == 1 else ((None, None),)
        item = index.get((kind, location))
        if item is None:
            continue
        if kind == "conda" and location.endswith(_ARCHIVE) and (item.get("sha256") or item.get("md5")):
            stem = location.rsplit("/", 1)[-1].rsplit(".conda", 1)[0].rsplit(".tar.bz2", 1)[0]
            name, version, _ = stem.rsplit("-", 2)
            depends = item.get("depends") if isinstance(item.get("depends"), list) else []
            out.append({"name": name, "version": version, "manager": "conda", "platform": platform,
                        "dependencies": dependencies([str(d) for d in depends]), "url": location,
                        "hash": {k: str(item[k]) for k in ("md5", "sha256") if item.get(k)},
                        "category": "main", "optional": "false"})
        elif kind == "pypi" and "://" in location and item.get("sha256") and item.get("name"):
            out.append({"name": str(item["name"]), "version": str(item.get("version") or ""), "manager": "pip",
                        "platform": platform, "dependencies": {}, "url": location,
                        "hash": {"sha256": str(item["sha256"])}, "category": "main", "optional": "false"})
    return out


def _index(packages: object, source: str) -> dict:
    if not isinstance(packages, list):
        raise UsageError(f"{source}: `packages` must list the locked artefacts")
    index = {}
    for item in packages:
        if isinstance(item, dict):
            for kind in ("conda", "pypi"):
                if isinstance(item.get(kind), str):
                    index.setdefault((kind, item[kind]), item)
    return index


def _conda(item: dict, location: str, where: str, source: str, cwd: str) -> Entry:
    if not location.split("#", 1)[0].endswith(_ARCHIVE):
        raise UsageError(f"{where}: {location!r} is a source package pixi builds itself, no archive to install")
    md5, sha256 = (str(item.get(k) or "").lower() or None for k in ("md5", "sha256"))
    if not (md5 or sha256):
        raise UsageError(f"{where} ({location}): a lock must pin every package by an md5 or sha256 hash")
    if sha256:
        shapes.check_value(sha256, HASH["sha256"], source, f"{where}: sha256", WHAT)
    if md5:
        shapes.check_value(md5, HASH["md5"], source, f"{where}: md5", WHAT)
    return Entry(place(location, source, where, cwd, WHAT), sha256, md5)


def _pypi(item: dict, location: str, where: str, source: str) -> PipEntry:
    name, version = str(item.get("name") or ""), str(item.get("version") or "")
    sha256 = str(item.get("sha256") or "").lower() or None
    if not name:
        raise UsageError(f"{where}: the PyPI entry {location!r} has no name")
    if location.startswith(NO_ARTEFACT) or "://" not in location or not sha256:
        # a path (the project itself, editable) or a checkout: refused by the rule of unpinned entries
        return PipEntry(name, version, location, None, f"{where} ({name} @ {location})")
    shapes.check_value(location, ARTEFACT_URL, source, f"{where}: url", WHAT)
    shapes.check_value(sha256, HASH["sha256"], source, f"{where}: sha256", WHAT)
    return PipEntry(name, version, location, sha256, where)
