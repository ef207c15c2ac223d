"""Reading what is installed in a prefix from its conda-meta records."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
from collections.abc import Iterator

from mambaboot.common import shapes, untrusted
from mambaboot.common.errors import MambabootError, TargetRefused, UntrustedInput
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
    # a conda-meta the system will not list (another owner's environment): its OSError, which
    # names it, is exit 9 as every refused file operation
    return [os.path.join(meta, n) for n in sorted(os.listdir(meta)) if n.endswith(".json")]


def _unreadable(path: str, exc: Exception) -> MambabootError:
    """A record that cannot be read, or is not shaped as installers write it (relocate/scan.py
    says exactly what is wrong where move, pack and audit read it): the environment is refused."""
    if isinstance(exc, (AttributeError, TypeError, KeyError)):
        exc = f"not shaped as a package record ({type(exc).__name__}: {exc})"
    elif isinstance(exc, UntrustedInput):
        exc = exc.problem
    return TargetRefused(f"unreadable package record {path}: {exc}")


# What reading a record that is not shaped as installers write it raises (a list for an object).
_MISSHAPEN = (AttributeError, TypeError, KeyError)


def _read_raw(prefix: str, path: str) -> bytes:
    """A record below prefix: a regular file reached without a link, never waited on, bounded."""
    return untrusted.read_bytes_in(prefix, os.path.relpath(path, prefix).replace(os.sep, "/"), untrusted.PACKAGE_RECORD)


def _records(prefix: str) -> Iterator[dict]:
    for path in _record_paths(prefix):
        try:
            record = _read(path, _read_raw(prefix, path))
            if not isinstance(record, dict):
                raise TypeError("not a JSON object")
        except (OSError, ValueError, TypeError) as exc:
            raise _unreadable(path, exc) from None
        yield record


# A record's paths_data holds an entry per file, which create has no use for on a POSIX layout,
# so it is not decoded. Its entries are the list after its "paths" key: flat objects (conda's
# PathData), so that list ends at the first ']' that follows a '}' (or its '['), and paths_data
# at the '}' after it, past scalar members only (paths_version). Those are found with bytes.find,
# not a pattern: Python's re scans bytes ~50x slower than find. A ']' inside a path is skipped
# (no '}' before it), and one after a '}' in a path cuts the record where it fails the decode
# below; the rest is decoded with paths_data as null. A record shaped otherwise is decoded whole.
# Both writers' records read lightly: micromamba's (libmamba/src/core/link.cpp:
# `out_json["paths_data"] = paths_json`, flat entries of _path, path_type, sha256,
# sha256_in_prefix, size_in_bytes, ...; written with `dump(4)`, keys sorted by nlohmann's
# std::map) and rattler's (the test stand-in's: 2 spaces, paths_version first, paths_data before
# "link").
_BLANK = b" \t\r\n"


def _past_blanks(raw: bytes, i: int) -> int:
    while i < len(raw) and raw[i] in _BLANK:
        i += 1
    return i


def _value_of(raw: bytes, key: bytes, start: int, opening: bytes) -> int:
    """Where the value of the first `key` at or after start opens with `opening`, or -1."""
    at = raw.find(key, start)
    while at >= 0:
        colon = _past_blanks(raw, at + len(key))
        if raw[colon:colon + 1] == b":":
            value = _past_blanks(raw, colon + 1)
            if raw[value:value + 1] == opening:
                return value
        at = raw.find(key, at + 1)
    return -1


def _list_end(raw: bytes, opened: int) -> int:
    """The ']' that closes the list of flat objects opened at `opened`, or -1."""
    close = raw.find(b"]", opened)
    while close >= 0:
        before = close - 1
        while raw[before] in _BLANK:
            before -= 1
        if raw[before] == 0x7D or before == opened:  # '}' or the empty list's '['
            return close
        close = raw.find(b"]", close + 1)
    return -1


def _strings_end(raw: bytes, opened: int, stop: int) -> int:
    """The ']' before stop that closes the list opened at `opened` (files: a path each), or -1. Read
    only where nothing between holds a backslash, so that every '"' opens or closes a string: the
    first ']' after an even number of them is outside every string, and where it closes a list
    nested inside, the brackets left over fail the decode."""
    close, quotes, counted = raw.find(b"]", opened, stop), 0, opened
    while close >= 0:
        quotes += raw.count(b'"', counted, close)
        if quotes % 2 == 0:
            break
        # inside a string: past its closing '"' in one step, each byte counted once (a path of
        # brackets makes no quadratic walk)
        counted = raw.find(b'"', close, stop) + 1
        if counted == 0:
            return -1
        quotes += 1
        close = raw.find(b"]", counted, stop)
    return close if close >= 0 and raw.find(b"\\", opened, close) < 0 else -1


class Summary:
    """What create reads from conda-meta, in one pass: the packages, and with paths=True every
    record's paths_data entries (a Windows layout's scripts to patch are found in them)."""

    def __init__(self, packages: list[Package], paths: list[dict] | None):
        self.packages = packages
        self.paths = paths


# A package record's shape (common/shapes.py), as far as mambaboot reads it: libmamba writes
# name, version, build and subdir as strings, build_number as a number, depends as a list, and
# md5 and sha256 only when it has them (to_json(PackageInfo), libmamba/src/specs/package_info.cpp,
# 2.8.1; link.cpp adds files and paths_data); conda's PrefixRecord the same fields. Null is let
# through where a writer may leave a value out.
_OPT_STR = shapes.optional(str, None)
PACKAGE = {
    "name": shapes.required(str), "version": shapes.required(str), "build": shapes.optional(str),
    "build_number": shapes.optional(int), "subdir": shapes.optional(str), "url": _OPT_STR, "md5": _OPT_STR,
    "sha256": _OPT_STR, "depends": shapes.optional(list, None, rule=shapes.each(str)),
    "files": shapes.optional(list, None, rule=shapes.each(str)),
    "paths_data": shapes.optional(dict, None, rule={"paths": shapes.optional(list, None, rule=shapes.each({
        "size_in_bytes": shapes.optional(int, None)}))}),
}
# What summary reads of a record: not its files, which create has no use for (installed_files reads them).
SUMMARY = {key: field for key, field in PACKAGE.items() if key != "files"}


def _read(path: str, raw: bytes, shape: dict = PACKAGE) -> dict:
    """A package record, parsed as untrusted text (anything could have written it) and checked
    against its shape (of what the caller reads) before any field is used."""
    return shapes.check(untrusted.json(raw, path), shape, path, "a package record")


def _light(raw: bytes, path: str) -> dict | None:
    """The record without its paths_data, or None: decode it whole. Its files (a path each, before
    paths_data in both writers' records), most of what is left, are cut too where _strings_end finds
    their end: read as null."""
    start = _value_of(raw, b'"paths_data"', 0, b"{")
    if start < 0:
        return None
    opened = _value_of(raw, b'"paths"', start, b"[")
    if opened < 0 or raw.find(b"}", start, opened) >= 0:  # not paths_data's own
        return None
    close = _list_end(raw, opened)
    end = raw.find(b"}", close) if close >= 0 else -1
    if end < 0 or raw.find(b"{", close, end) >= 0 or raw.find(b"[", close, end) >= 0:
        return None
    head = raw[:start]
    files = _value_of(raw, b'"files"', 0, b"[")
    if 0 <= files < start:
        shut = _strings_end(raw, files, start)
        if shut >= 0:
            head = raw[:files] + b"null" + raw[shut + 1:start]
    try:
        record = _read(path, head + b"null" + raw[end + 1:], SUMMARY)
    except ValueError:
        return None
    if not isinstance(record, dict) or "paths_data" not in record or record["paths_data"] is not None:
        return None
    return record


def summary(prefix: str, paths: bool = False) -> Summary:
    packages: list[Package] = []
    entries: list[dict] | None = [] if paths else None
    records = _record_paths(prefix)
    reading = untrusted.read_each_in(prefix, "conda-meta", [os.path.basename(p) for p in records],
                                     untrusted.PACKAGE_RECORD)
    for path in records:
        try:
            _, raw = next(reading)
            record = None if paths else _light(raw, path)
            if record is None:
                record = _read(path, raw, SUMMARY)
                if entries is not None:
                    entries.extend((record.get("paths_data") or {}).get("paths") or ())
            packages.append(_package(record))
        except (OSError, ValueError, *_MISSHAPEN) as exc:
            reading.close()
            raise _unreadable(path, exc) from None
    reading.close()  # the directory it holds open
    packages.sort(key=lambda p: p.name)
    return Summary(packages, entries)


def _package(record: dict) -> Package:
    return Package(
        name=record["name"], version=str(record["version"]), build=record.get("build", ""),
        build_number=int(record.get("build_number", 0)), subdir=record.get("subdir", ""),
        url=record.get("url", ""), sha256=record.get("sha256"), md5=record.get("md5"),
        depends=tuple(record.get("depends") or ()),
    )


def installed(prefix: str) -> list[Package]:
    """Every package record in PREFIX/conda-meta, sorted by name."""
    try:
        packages = [_package(record) for record in _records(prefix)]
    except _MISSHAPEN as exc:
        raise _unreadable(os.path.join(prefix, "conda-meta"), exc) from None
    packages.sort(key=lambda p: p.name)
    return packages


def installed_files(prefix: str) -> dict[str, str]:
    """Every file a package installed (path relative to the prefix, '/'-separated) -> package name."""
    owners: dict[str, str] = {}
    try:
        for record in _records(prefix):
            for path in record.get("files") or ():
                owners[path.replace("\\", "/")] = record["name"]
    except _MISSHAPEN as exc:
        raise _unreadable(os.path.join(prefix, "conda-meta"), exc) from None
    return owners


def licenses(prefix: str) -> dict[str, str]:
    """Package name -> the licence its record names (conda-meta's `license`, from the package's
    index.json), for the packages that name one."""
    found: dict[str, str] = {}
    try:
        for record in _records(prefix):
            text = record.get("license")
            if isinstance(text, str) and text.strip():
                found[record["name"]] = text.strip()
    except _MISSHAPEN as exc:
        raise _unreadable(os.path.join(prefix, "conda-meta"), exc) from None
    return found
