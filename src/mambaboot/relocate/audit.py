"""Which files of an environment name where it lives, and what `move` and `pack` do about each.

Every file is one of: rewritten (by move, and by pack's unpack), harmless (why) or blocking
(why). The cheap scan (scan.find) is what `move` rewrites; the full scan reads everything so
that nothing holding the prefix goes unnamed. Editable installs and links leading out of the
environment do not stop a move (what they point at stays where it is) but do stop `pack`.
"""

import json
import os
from typing import Any, Dict, List, Optional

from mambaboot.common.values import factory, value
from mambaboot.relocate import scan

REWRITTEN = "rewritten"
HARMLESS = "harmless"
BLOCKING = "blocking"

_WHY_REWRITTEN = {
    scan.TEXT: "text: every occurrence is replaced; a shebang too long for the kernel becomes /usr/bin/env",
    scan.RECORD: "mambaboot's record: its location is updated and the move added to its history",
    scan.LAUNCHER: "a distlib launcher (launcher + shebang + zip): rebuilt with the new shebang",
}


@value(frozen=False)
class Entry:
    path: str
    kind: str
    verdict: str
    why: str
    source: str

    def to_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "verdict": self.verdict, "why": self.why, "source": self.source}


@value(frozen=False)
class Audit:
    prefix: str
    location: str  # where the files say the environment lives
    location_from: Optional[str]
    entries: List[Entry] = factory(list)
    findings: List[scan.Finding] = factory(list)  # what move rewrites
    pack_blockers: List[Entry] = factory(list)

    @property
    def moved_by_hand(self) -> bool:
        return os.path.normcase(os.path.abspath(self.location)) != os.path.normcase(os.path.abspath(self.prefix))

    def count(self, verdict: str) -> int:
        return sum(1 for e in self.entries if e.verdict == verdict)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "prefix": self.prefix, "location": self.location, "location_from": self.location_from,
            "files": [e.to_dict() for e in self.entries],
            "counts": {v: self.count(v) for v in (REWRITTEN, HARMLESS, BLOCKING)},
            "pack_blockers": [e.to_dict() for e in self.pack_blockers],
        }


def _verdict(finding: scan.Finding, windows: bool) -> Entry:
    kind = finding.kind
    if kind in scan.HARMLESS:
        return Entry(finding.path, kind, HARMLESS, scan.HARMLESS[kind], finding.source)
    if kind == scan.BINARY:
        if windows:
            return Entry(finding.path, kind, BLOCKING, "a Windows binary naming the prefix: neither conda nor move "
                         "rewrites those", finding.source)
        room = f"a new prefix may have up to {finding.capacity} characters" if finding.capacity else "NUL-padded"
        return Entry(finding.path, kind, REWRITTEN, f"binary: replaced inside its NUL-padded strings ({room})",
                     finding.source)
    if kind in _WHY_REWRITTEN:
        return Entry(finding.path, kind, REWRITTEN, _WHY_REWRITTEN[kind], finding.source)
    return Entry(finding.path, kind, BLOCKING, "names the prefix, but neither a package record nor a place written "
                 "after install says so: move leaves it as it is", finding.source)


def _inside(path: str, prefix: str) -> bool:
    real = os.path.normcase(os.path.realpath(path))
    root = os.path.normcase(os.path.realpath(prefix))
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def outside_links(prefix: str) -> List[Entry]:
    """Editable installs (direct_url.json, PEP 610), .pth lines naming directories outside the
    prefix, and symbolic links leading out of it (the pkgs link to the cache excepted)."""
    found: List[Entry] = []
    for site in scan._site_packages(prefix):
        for name in sorted(os.listdir(site)):
            path = os.path.join(site, name)
            rel = os.path.relpath(path, prefix).replace(os.sep, "/")
            if name.endswith(".dist-info"):
                try:
                    with open(os.path.join(path, "direct_url.json"), "rb") as f:
                        data = json.load(f)
                except (OSError, ValueError):
                    continue
                if isinstance(data, dict) and (data.get("dir_info") or {}).get("editable"):
                    found.append(Entry(f"{rel}/direct_url.json", "editable", HARMLESS,
                                       f"an editable install of {data.get('url')}: its source stays outside the "
                                       "environment", "post-install"))
            elif name.endswith(".pth"):
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        lines = [line.strip() for line in f]
                except OSError:
                    continue
                for line in lines:
                    if line and not line.startswith(("#", "import")) and os.path.isabs(line) and not _inside(line, prefix):
                        found.append(Entry(rel, "pth", HARMLESS, f"adds {line}, outside the environment, to sys.path",
                                           "post-install"))
    for root, dirs, files in os.walk(prefix):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path) or os.path.dirname(path) == prefix and name == "pkgs":
                continue
            if not _inside(path, prefix):
                rel = os.path.relpath(path, prefix).replace(os.sep, "/")
                found.append(Entry(rel, "link", HARMLESS, f"a link to {os.readlink(path)}, outside the environment",
                                   "full scan"))
    return found


def audit(prefix: str, windows: bool, deep: bool = True) -> Audit:
    location, location_from = scan.location(prefix, windows)
    result = Audit(prefix, location, location_from)
    result.findings = scan.find(prefix, location, windows)
    found = list(result.findings)
    if deep:
        found += scan.deep_scan(prefix, location, windows, known=[f.path for f in found])
    result.entries = sorted((_verdict(f, windows) for f in found), key=lambda e: e.path)
    outside = outside_links(prefix)
    result.entries += outside
    result.pack_blockers = [e for e in result.entries if e.verdict == BLOCKING] + [
        Entry(e.path, e.kind, BLOCKING, e.why + "; it would not be in the archive", e.source) for e in outside
    ]
    return result
