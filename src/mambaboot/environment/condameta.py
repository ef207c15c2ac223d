"""Reading what is installed in a prefix from its conda-meta records."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import json
import os
import re
from collections.abc import Iterator

from mambaboot.common.errors import MambabootError
from mambaboot.common.values import value


@value
class Package:
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    url: str
    sha256: str | None
    md5: str | None
    depends: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name, "version": self.version, "build": self.build,
            "build_number": self.build_number, "subdir": self.subdir, "url": self.url,
            "sha256": self.sha256, "md5": self.md5,
        }


def _record_paths(prefix: str) -> list[str]:
    meta = os.path.join(prefix, "conda-meta")
    try:
        return [os.path.join(meta, n) for n in sorted(os.listdir(meta)) if n.endswith(".json")]
    except OSError as exc:
        raise MambabootError(f"cannot read {meta}: {exc.strerror}") from None


def _unreadable(path: str, exc: Exception) -> MambabootError:
    return MambabootError(f"unreadable package record {path}: {exc}")


def _records(prefix: str) -> Iterator[dict]:
    for path in _record_paths(prefix):
        try:
            with open(path, "rb") as f:
                yield json.load(f)
        except (OSError, ValueError) as exc:
            raise _unreadable(path, exc) from None


# A record's paths_data holds an entry per file; create needs only their sizes, so it is not
# decoded: its value ends at the first '}' that is followed by another key or by the record's end
# (its entries are flat objects, and no string holds an unescaped quote), the sizes are summed
# where they stand, and the rest is decoded with paths_data as null. A record shaped otherwise
# fails that decode and is decoded whole. Both writers' records read lightly: micromamba's
# (libmamba/src/core/link.cpp: `out_json["paths_data"] = paths_json`, flat entries of _path,
# path_type, sha256, sha256_in_prefix, size_in_bytes, ...; written with `dump(4)`, keys sorted
# by nlohmann's std::map) and rattler's (the test stand-in's: 2 spaces, paths_data before "link").
_PATHS_DATA = re.compile(rb'"paths_data"\s*:\s*\{')
_PATHS_DATA_END = re.compile(rb'\}\s*(?:,\s*"|\}\s*\Z)')
_SIZE = re.compile(rb'"size_in_bytes"\s*:\s*(\d+)')


class Summary:
    """What create reads from conda-meta, in one pass: the packages, the files and bytes the
    records declare (no lstat of every file; `list --size` measures), and with paths=True every
    record's paths_data entries (a Windows layout's scripts to patch are found in them)."""

    def __init__(self, packages: list[Package], files: int, size: int, paths: list[dict] | None):
        self.packages = packages
        self.files = files
        self.bytes = size
        self.paths = paths

    def size(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}


def _light(raw: bytes) -> tuple[dict, int] | None:
    """(the record without its paths_data, the bytes it declares), or None: decode it whole."""
    key = _PATHS_DATA.search(raw)
    if key is None:
        return None
    start = key.end() - 1
    end = _PATHS_DATA_END.search(raw, start)
    if end is None:
        return None
    try:
        record = json.loads(raw[:start] + b"null" + raw[end.start() + 1:])
    except ValueError:
        return None
    if not isinstance(record, dict) or "paths_data" not in record or record["paths_data"] is not None:
        return None
    return record, sum(map(int, _SIZE.findall(raw, start, end.start() + 1)))


def summary(prefix: str, paths: bool = False) -> Summary:
    packages: list[Package] = []
    entries: list[dict] | None = [] if paths else None
    files = size = 0
    for path in _record_paths(prefix):
        try:
            with open(path, "rb") as f:
                raw = f.read()
            light = None if paths else _light(raw)
            if light is None:
                record = json.loads(raw)
                listed = (record.get("paths_data") or {}).get("paths") or ()
                size += sum(int(e.get("size_in_bytes") or 0) for e in listed)
                if entries is not None:
                    entries.extend(listed)
            else:
                record, declared = light
                size += declared
            packages.append(_package(record))
        except (OSError, ValueError) as exc:
            raise _unreadable(path, exc) from None
        files += len(record.get("files") or ())
    packages.sort(key=lambda p: p.name)
    return Summary(packages, files, size, entries)


def _package(record: dict) -> Package:
    return Package(
        name=record["name"], version=str(record["version"]), build=record.get("build", ""),
        build_number=int(record.get("build_number", 0)), subdir=record.get("subdir", ""),
        url=record.get("url", ""), sha256=record.get("sha256"), md5=record.get("md5"),
        depends=tuple(record.get("depends") or ()),
    )


def installed(prefix: str) -> list[Package]:
    """Every package record in PREFIX/conda-meta, sorted by name."""
    packages = [_package(record) for record in _records(prefix)]
    packages.sort(key=lambda p: p.name)
    return packages


def installed_files(prefix: str) -> dict[str, str]:
    """Every file a package installed (path relative to the prefix, '/'-separated) -> package name."""
    owners: dict[str, str] = {}
    for record in _records(prefix):
        for path in record.get("files") or ():
            owners[path.replace("\\", "/")] = record["name"]
    return owners
