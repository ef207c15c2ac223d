"""A CycloneDX 1.6 bill of materials (JSON) of an environment, or of one platform of a lock.

Every conda package is a component with its package URL as the purl-spec's conda type writes
it: `pkg:conda/NAME@VERSION?build=B&channel=C&subdir=S&type=T` (qualifier keys sorted, values
percent-encoded; type `conda` or `tar.bz2`, the archive's format), its sha256 (and md5) and the
licence its record names. pip packages are `pkg:pypi/NAME@VERSION` (the name normalised as
PEP 503 does) with their artefact's sha256. The output depends only on its input: no timestamp,
and a serial number derived from the content, so two runs on the same environment are equal
byte for byte.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import hashlib
import json
import os
from urllib.parse import quote

from mambaboot import __version__
from mambaboot.common import shapes, urlrule
from mambaboot.environment.lockfile import canonical_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SPEC_VERSION = "1.6"


def _encode(text: str) -> str:
    return quote(text, safe="")


def _archive_type(url: str) -> str:
    return "tar.bz2" if url.endswith(".tar.bz2") else "conda"


def channel_of(url: str) -> str:
    """The channel a package URL comes from: the URL less its subdir and file name, and less its
    password or token, as a bill of materials is handed to others."""
    return urlrule.without_auth(url.rsplit("/", 2)[0] if url.count("/") >= 3 else url)


def conda_purl(name: str, version: str, build: str, subdir: str, url: str) -> str:
    qualifiers = {"build": build, "channel": channel_of(url), "subdir": subdir, "type": _archive_type(url)}
    query = "&".join(f"{k}={_encode(v)}" for k, v in sorted(qualifiers.items()) if v)
    return f"pkg:conda/{_encode(name.lower())}@{_encode(version)}?{query}"


def pypi_purl(name: str, version: str) -> str:
    return f"pkg:pypi/{_encode(canonical_name(name))}@{_encode(version)}"


def _hashes(sha256: str | None, md5: str | None = None) -> list[dict]:
    return [{"alg": alg, "content": h} for alg, h in (("SHA-256", sha256), ("MD5", md5)) if h]


def conda_component(p, license_: str | None) -> dict:
    """p: a package (name, version, build, subdir, url, sha256, md5)."""
    subdir = p.subdir or p.url.rsplit("/", 2)[-2]
    purl = conda_purl(p.name, p.version, p.build, subdir, p.url)
    component = {"type": "library", "bom-ref": purl, "name": p.name, "version": p.version, "purl": purl,
                 "hashes": _hashes(p.sha256, p.md5)}
    if license_:
        component["licenses"] = [{"license": {"name": license_}}]
    component["externalReferences"] = [{"type": "distribution", "url": urlrule.without_auth(p.url)}]
    return component


def pip_component(e) -> dict:
    """e: a pip entry (name, version, url, sha256)."""
    purl = pypi_purl(e.name, e.version)
    component = {"type": "library", "bom-ref": purl, "name": canonical_name(e.name), "version": e.version,
                 "purl": purl}
    if e.sha256:
        component["hashes"] = _hashes(e.sha256)
    if e.url and "://" in e.url:
        component["externalReferences"] = [{"type": "distribution", "url": urlrule.without_auth(e.url)}]
    return component


def render(name: str, platform: str, packages: Sequence, licenses: Mapping[str, str], pip: Sequence = ()) -> str:
    """The bill of materials. packages: conda packages (with depends); licenses: name -> licence text."""
    components = [conda_component(p, licenses.get(p.name)) for p in sorted(packages, key=lambda p: p.name)]
    components += [pip_component(e) for e in sorted(pip, key=lambda e: canonical_name(e.name))]
    refs = {p.name: c["bom-ref"] for p, c in zip(sorted(packages, key=lambda p: p.name), components)}
    root = f"mambaboot-environment:{name}:{platform}"
    dependencies = [{"ref": root, "dependsOn": sorted(c["bom-ref"] for c in components)}]
    for p in sorted(packages, key=lambda p: p.name):
        wanted = {d.split()[0] for d in getattr(p, "depends", ()) if d.split()}
        dependencies.append({"ref": refs[p.name], "dependsOn": sorted(refs[n] for n in wanted if n in refs)})
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "mambaboot", "version": __version__}]},
            "component": {"type": "application", "bom-ref": root, "name": name,
                          "properties": [{"name": "conda:platform", "value": platform}]},
        },
        "components": components,
        "dependencies": dependencies,
    }
    body = json.dumps(bom, indent=2, sort_keys=False, ensure_ascii=False)
    # A serial number that names this content: the same environment gives the same one.
    digest = bytearray(hashlib.sha256(body.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # a name-based UUID's version and variant bits (RFC 4122 §4.3)
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexed = digest.hex()
    serial = f"urn:uuid:{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": SPEC_VERSION, "serialNumber": serial,
                       **{k: v for k, v in bom.items() if k not in ("bomFormat", "specVersion")}},
                      indent=2, ensure_ascii=False) + "\n"


def pip_installed(prefix: str, recorded: Sequence) -> list:
    """The pip entries of what PREFIX's site-packages holds that conda did not install: those
    mambaboot's record lists (with their artefact's sha256), then any other distribution whose
    INSTALLER is not conda (the environment's own pip installed it later), with the archive's
    sha256 where its direct_url.json records one (PEP 610), else none."""
    import glob
    import os

    from mambaboot.environment.lockfile import PipEntry

    found = {canonical_name(e.name): e for e in recorded}
    places = glob.glob(os.path.join(glob.escape(prefix), "lib", "python*", "site-packages", "*.dist-info"))
    places += glob.glob(os.path.join(glob.escape(prefix), "Lib", "site-packages", "*.dist-info"))
    for place in sorted(places):
        if _read(prefix, os.path.join(place, "INSTALLER")).strip() in ("", "conda"):
            continue
        fields = dict(line.split(": ", 1) for line in _read(prefix, os.path.join(place, "METADATA")).splitlines()[:50]
                      if ": " in line and not line.startswith(" "))
        name, version = fields.get("Name"), fields.get("Version")
        if not name or not version or canonical_name(name) in found:
            continue
        url, sha256 = _direct_url(prefix, os.path.join(place, "direct_url.json"))
        found[canonical_name(name)] = PipEntry(name, version, url, sha256)
    return [found[k] for k in sorted(found)]


# PEP 610's direct_url.json, as far as it is read here: where the distribution came from and,
# for an archive, its hashes. A wheel can ship one, so anything may be in it.
DIRECT_URL = {
    "url": shapes.optional(str),
    "archive_info": shapes.optional(dict, rule={"hashes": shapes.optional(dict, rule={"sha256": shapes.optional(str)}),
                                                "hash": shapes.optional(str)}),
}


def _direct_url(prefix: str, path: str) -> tuple[str, str | None]:
    """(the URL, the archive's sha256 or None) a distribution's direct_url.json records; ("",
    None) without one. One that cannot be read as its shape says: TargetRefused naming it (the
    environment's own file, as an unreadable package record is)."""
    from mambaboot.common import untrusted
    from mambaboot.common.errors import TargetRefused

    rel = os.path.relpath(path, prefix).replace(os.sep, "/")
    try:
        direct = shapes.check(untrusted.json(untrusted.read_bytes_in(prefix, rel, untrusted.SMALL), path),
                              DIRECT_URL, path, "PEP 610's direct_url.json")
    except FileNotFoundError:
        return "", None
    except ValueError as exc:  # UntrustedInput
        raise TargetRefused(f"unreadable distribution record {exc}") from None
    except OSError:
        return "", None
    digest = ((direct.get("archive_info") or {}).get("hashes") or {}).get("sha256") or ""
    return direct.get("url") or "", digest.lower() if len(digest) == 64 else None


def _read(prefix: str, path: str) -> str:
    """A small file of a distribution below prefix: read through the confined layer (no link
    followed, never a fifo), bounded; what cannot be read is empty."""
    from mambaboot.common import untrusted

    try:
        return untrusted.read_bytes_in(prefix, os.path.relpath(path, prefix).replace(os.sep, "/"), 1 << 20
                                       ).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""
