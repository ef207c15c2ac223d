"""Reading what is installed in a prefix from its conda-meta records."""

import json
import os
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from mambaboot.common.errors import MambabootError


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    url: str
    sha256: Optional[str]
    md5: Optional[str]
    depends: Tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name, "version": self.version, "build": self.build,
            "build_number": self.build_number, "subdir": self.subdir, "url": self.url,
            "sha256": self.sha256, "md5": self.md5,
        }


def _records(prefix: str) -> Iterator[dict]:
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except OSError as exc:
        raise MambabootError(f"cannot read {meta}: {exc.strerror}") from None
    for filename in names:
        path = os.path.join(meta, filename)
        try:
            with open(path, "rb") as f:
                yield json.load(f)
        except (OSError, ValueError) as exc:
            raise MambabootError(f"unreadable package record {path}: {exc}") from None


def records(prefix: str) -> List[dict]:
    """Every record of PREFIX/conda-meta, parsed once: `create` reads them in one pass and hands
    them to each step that needs them (packages, the declared size, the scripts to patch)."""
    return list(_records(prefix))


def declared_size(records_: Iterable[dict]) -> Dict[str, int]:
    """Files and bytes as the package records declare them (paths_data's size_in_bytes): what
    the record keeps at creation, without an lstat of every file; `list --size` measures."""
    files = size = 0
    for record in records_:
        files += len(record.get("files") or ())
        for entry in (record.get("paths_data") or {}).get("paths") or ():
            size += int(entry.get("size_in_bytes") or 0)
    return {"files": files, "bytes": size}


def installed(prefix: str, records_: Optional[Iterable[dict]] = None) -> List[Package]:
    """Every package record in PREFIX/conda-meta (or of records_, read already), sorted by name."""
    packages = [
        Package(
            name=record["name"], version=str(record["version"]), build=record.get("build", ""),
            build_number=int(record.get("build_number", 0)), subdir=record.get("subdir", ""),
            url=record.get("url", ""), sha256=record.get("sha256"), md5=record.get("md5"),
            depends=tuple(record.get("depends") or ()),
        )
        for record in (_records(prefix) if records_ is None else records_)
    ]
    packages.sort(key=lambda p: p.name)
    return packages


def installed_files(prefix: str) -> Dict[str, str]:
    """Every file a package installed (path relative to the prefix, '/'-separated) -> package name."""
    owners: Dict[str, str] = {}
    for record in _records(prefix):
        for path in record.get("files") or ():
            owners[path.replace("\\", "/")] = record["name"]
    return owners
