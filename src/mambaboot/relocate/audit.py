"""Which files of an environment name where it lives, and what `move` and `pack` do about each.

Every file is one of: rewritten (by move, and by pack's unpack), harmless (why) or blocking
(why). The cheap scan (scan.find) is what `move` rewrites; the full scan also reads the files
the package records vouch for, so that nothing holding the prefix goes unnamed. Editable
installs and links leading out of the environment do not stop a move (what they point at stays
where it is) but do stop `pack`, as do fifos, sockets and devices.
"""

import os
import stat
from typing import Any, Dict, List, Optional

from mambaboot.common import untrusted, urlrule
from mambaboot.common.errors import NotPortable, TargetRefused
from mambaboot.common.files import treewalk
from mambaboot.common.values import factory, value
from mambaboot.relocate import rewrite, scan

REWRITTEN = "rewritten"
HARMLESS = "harmless"
BLOCKING = "blocking"

_WHY_REWRITTEN = {
    # Shown after the kind ("text: ..."), so the reason does not name it again.
    scan.TEXT: "a package's own file: every occurrence replaced; a #! line naming the environment's interpreter "
               "becomes #!/usr/bin/env NAME OPTIONS where the new place holds a space or the line passes the "
               "kernel's limit (conda's replace_long_shebang), else #!NEW/... OPTIONS",
    scan.ENTRY_POINT: "an entry point the installer generated: every occurrence replaced; where the new place holds "
                      "a space or the line passes the kernel's limit it gets its own #!/bin/sh + 'exec' lines, "
                      "the interpreter quoted for sh (conda generate_shebang_for_entry_point, libmamba "
                      "python_shebang), else #!NEW/...",
    scan.SCRIPT: "a script written after install: every occurrence replaced, its #! line becomes #!NEW/... OPTIONS; "
                 "a move to a place that line cannot hold (a space, past the kernel's limit) is refused for it, as "
                 "#!/usr/bin/env would run whatever is first on PATH",
    scan.ARCHIVE: "a #! line followed by a zip (a zipapp): a new #! line before the archive kept byte for byte; a "
                  "place that line cannot hold is refused for it",
    scan.RECORD: "mambaboot's record: its location is updated and the move added to its history",
    scan.LAUNCHER: "a distlib launcher (launcher + shebang + zip): rebuilt with the new shebang",
    scan.LINK: "an absolute symbolic link into the environment: pointed at the same file at the new place",
}
_SPECIAL = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"))


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


def _room(prefix: str, finding: scan.Finding, location: str) -> Optional[int]:
    data = rewrite.read(prefix, finding.path)
    if data is None:
        return finding.capacity
    size = len(location.encode("utf-8", "surrogateescape"))
    return rewrite.binary_room(data, scan.pattern(location, False), finding.capacity, size)


def _verdict(prefix: str, finding: scan.Finding, location: str, windows: bool) -> Entry:
    kind = finding.kind
    if kind in scan.HARMLESS:
        return Entry(finding.path, kind, HARMLESS, scan.HARMLESS[kind], finding.source)
    if kind == scan.BINARY:
        if windows:
            return Entry(finding.path, kind, BLOCKING, "a Windows binary naming the prefix: neither conda nor move "
                         "rewrites those", finding.source)
        room = _room(prefix, finding, location)
        room_text = f"a new prefix may have up to {room} characters" if room is not None else "no NUL after it"
        return Entry(finding.path, kind, REWRITTEN, f"replaced inside its NUL-padded strings ({room_text}, "
                     "measured in the file)", finding.source)
    if kind == scan.ZIPPED or kind == scan.ARCHIVE and _archive_names(prefix, finding, location):
        return Entry(finding.path, kind, BLOCKING, "holds a zip archive that names the prefix inside it: a rewrite "
                     "would break the archive's offsets and checksums, so move refuses", finding.source)
    if kind in _WHY_REWRITTEN:
        return Entry(finding.path, kind, REWRITTEN, _WHY_REWRITTEN[kind], finding.source)
    if kind == scan.TOO_BIG:
        return Entry(finding.path, kind, BLOCKING, f"larger than the {scan.READ_LIMIT >> 20} MiB move reads of a file "
                     "whole: searched in pieces, it names the prefix; move does not rewrite it and refuses",
                     finding.source)
    if kind == scan.OUTSIDE:
        return Entry(finding.path, kind, BLOCKING, f"reached through a link that leaves the environment "
                     f"({finding.source}): move writes nothing outside the environment and refuses", finding.source)
    return Entry(finding.path, kind, BLOCKING, "names the prefix, though its package record says the file is as its "
                 "package shipped it: move leaves it as it is", finding.source)


def _archive_names(prefix: str, finding: scan.Finding, location: str) -> bool:
    data = rewrite.read(prefix, finding.path) or b""
    head = scan.archive_head(data)
    return head is None or scan.pattern(location, False).search(data, len(head)) is not None


def _inside(path: str, prefix: str) -> bool:
    real = os.path.normcase(os.path.realpath(path))
    root = os.path.normcase(os.path.realpath(prefix))
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _special(mode: int) -> Optional[str]:
    for test, what in _SPECIAL:
        if test(mode):
            return what
    return None


def outside_links(prefix: str) -> List[Entry]:
    """Editable installs (direct_url.json, PEP 610), .pth lines naming directories outside the
    prefix, symbolic links leading out of it (the pkgs link to the cache excepted), and files that
    are none of file, directory or link (a fifo, a socket, a device: opened by nothing here)."""
    found: List[Entry] = []
    for site in scan.site_packages(prefix):
        for name in sorted(os.listdir(site)):
            path = os.path.join(site, name)
            rel = os.path.relpath(path, prefix).replace(os.sep, "/")
            if name.endswith(".dist-info"):
                try:
                    data = scan.read_json(os.path.join(path, "direct_url.json"))
                except ValueError:
                    continue
                dir_info = data.get("dir_info") if isinstance(data, dict) else None
                if isinstance(dir_info, dict) and dir_info.get("editable"):
                    found.append(Entry(f"{rel}/direct_url.json", "editable", HARMLESS,
                                       f"an editable install of {urlrule.shown(str(data.get('url')))}: its source stays outside the "
                                       "environment", "post-install"))
            elif name.endswith(".pth"):
                raw = scan.read_regular(path)
                lines = [line.strip() for line in untrusted.lines((raw or b"").decode("utf-8", "replace"))]
                for line in lines:
                    if line and not line.startswith(("#", "import")) and os.path.isabs(line) and not _inside(line, prefix):
                        found.append(Entry(rel, "pth", HARMLESS, f"adds {line}, outside the environment, to sys.path",
                                           "post-install"))
    walked = []
    for path, rel, mode in _not_directories(prefix):
        if stat.S_ISLNK(mode):
            if not _inside(path, prefix):
                walked.append((rel, "link", os.readlink(path)))
        elif _special(mode):
            walked.append((rel, "special", _special(mode)))
    # in treewalk.walk's order: a directory's own entries by name, then each directory below it by name
    for rel, kind, what in sorted(walked, key=lambda w: _walk_order(w[0])):
        if kind == "link":
            found.append(Entry(rel, "link", HARMLESS, f"a link to {what}, outside the environment", "full scan"))
        else:
            found.append(Entry(rel, "special", HARMLESS, f"{what}: a move keeps it, nothing reads it", "full scan"))
    return found


def _not_directories(prefix: str):
    """(path, relative path with '/', st_mode) of the entries below prefix that may be a link or
    a special file (every one but the directories, and where directories are listed by descriptor
    (POSIX) but the regular files), the top's pkgs left out. Listed by descriptor, what an entry is
    comes with its name (d_type): a link or a regular file needs no call, only what is neither its
    lstat, relative to its directory; elsewhere each is lstat'ed by its path."""
    top = os.path.join(prefix, "")
    if treewalk.BY_DESCRIPTOR:
        for where, entries in treewalk.by_directory(prefix):
            for entry in entries:
                if where == top and entry.name == "pkgs":
                    continue
                rel = where[len(top):].replace(os.sep, "/") + entry.name
                try:
                    if entry.is_symlink():
                        yield where + entry.name, rel, stat.S_IFLNK
                    elif not entry.is_file(follow_symlinks=False):
                        yield where + entry.name, rel, entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
        return
    for root, dirs, files in treewalk.walk(prefix):  # pragma: no cover - Windows lists no directory by descriptor
        for name in files:
            path = os.path.join(root, name)
            if os.path.dirname(path) == prefix and name == "pkgs":
                continue
            try:
                yield path, os.path.relpath(path, prefix).replace(os.sep, "/"), os.lstat(path).st_mode
            except OSError:
                continue


def _walk_order(rel: str) -> list:
    *dirs, name = rel.split("/")
    return [(1, d) for d in dirs] + [(0, name)]


def findings(prefix: str, location: str, windows: bool, read_all: bool = False) -> List[scan.Finding]:
    """scan.find, a malformed package record refused with exit 4 (it names the file)."""
    try:
        return scan.find(prefix, location, windows, read_all=read_all)
    except scan.BadRecord as exc:
        raise TargetRefused(f"{prefix}: {exc}; nothing was changed") from None
    except scan.TooDeep as exc:
        raise treewalk.too_deep(exc.where) from None


def for_move(prefix: str, old: str, new: str, windows: bool) -> List[scan.Finding]:
    """What a move from old to new rewrites in prefix, every refusal made before anything changes:
    a malformed package record (exit 4), a file behind a link leaving the environment or a binary
    without room (exit 10), each named."""
    found = findings(prefix, old, windows)
    try:
        rewrite.check(prefix, found, old, new, windows)
    except scan.Refused as exc:
        raise NotPortable(f"{exc}\nnothing was changed") from None
    return found


def fix_shebangs(prefix: str) -> List[str]:
    """The package scripts of a POSIX prefix holding a space, made runnable: micromamba writes
    `#!/a b/bin/python` into them (it changes a `#!` line only past 127 characters:
    replace_long_shebang, libmamba/src/core/link.cpp, 2.8.1), and the kernel would run `/a` with
    `b/bin/python` as its argument. They get the lines conda writes for such a prefix
    (rewrite.first_lines). Returns the relative paths changed."""
    return rewrite.fix_shebangs(prefix, findings(prefix, prefix, False))


def audit(prefix: str, windows: bool, deep: bool = True) -> Audit:
    location, location_from = scan.location(prefix, windows)
    result = Audit(prefix, location, location_from)
    found = findings(prefix, location, windows, read_all=deep)
    result.findings = [f for f in found if f.kind not in (scan.BYTECODE, scan.UNKNOWN)]
    result.entries = sorted((_verdict(prefix, f, location, windows) for f in found), key=lambda e: e.path)
    outside = outside_links(prefix)
    result.entries += outside
    result.pack_blockers = [e for e in result.entries if e.verdict == BLOCKING] + [
        Entry(e.path, e.kind, BLOCKING, e.why + "; it would not be in the archive", e.source) for e in outside
    ]
    return result
