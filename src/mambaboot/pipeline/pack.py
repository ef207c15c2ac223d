"""`mambaboot pack PREFIX -o FILE`: the environment in one archive, with its own unpack step.

The archive holds the environment's files at its top (extract it into the new directory),
minus the PREFIX/pkgs link to this machine's cache (and a mark a killed run left, proof.py),
plus .mambaboot/unpack.py (relocate/unpack: stdlib only, run by the environment's own python)
and .mambaboot/packed.json (where the files say the environment lives). `.tar.gz` everywhere (`tar -xf` is on Windows 10+ and every POSIX
system), `.zip` for Windows users. Links are stored as links, hard links once.

Refused, naming them: editable installs, links and .pth entries leading out of the environment
(what they point at would not be in the archive), and files audit calls blocking.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import json
import os
import stat
import time
import zipfile
from typing import Any, Dict, Iterator, List, Tuple

from mambaboot.common.files import confined, fileid, outputfile, proof, treewalk
from mambaboot.common.errors import NotPortable, TargetRefused, UsageError
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.pipeline import adopt, tarstream
from mambaboot.relocate import audit, scan, unpack
from mambaboot.common import quoting

FORMATS = (".tar.gz", ".tgz", ".zip")
COMPRESS_LEVEL = 4  # conda-pack's default too: compression is most of pack's time, level 9 saves little


@value
class Packed:
    prefix: str
    archive: str
    files: int
    size: int
    location: str
    system: str | None = None  # "posix" or "windows": where the environment's packages run (None: not known)

    def to_dict(self) -> Dict[str, Any]:
        return {"prefix": self.prefix, "archive": self.archive, "files": self.files, "size": self.size,
                "location": self.location, "unpack": unpack_commands(self.archive, self.system)}


def unpack_commands(archive: str, system: str | None = None) -> Dict[str, List[str]]:
    """The commands to type, by shell, for the system the environment is for (both systems when
    that is not known: a Linux environment's archive is never unpacked on Windows): sh's, and on
    Windows cmd.exe's and PowerShell's, whose quoting differs ("..." expands $(...) in PowerShell,
    '...' is no quote to cmd). The archive's name is one literal word of each shell; DIR, the
    user's directory, is quoted on Windows, where it is replaced by a path that may hold spaces."""
    name = os.path.basename(archive)
    fixed = ("mkdir", "tar", "-xf", "-C").__contains__  # the rest are quoted: DIR stands for a path
    windows = [quoting.windows_lines(argv, fixed) for argv in (
        ["mkdir", "DIR"], ["tar", "-xf", name, "-C", "DIR"], ["DIR\\python.exe", "DIR\\.mambaboot\\unpack.py"])]
    steps = {
        "posix": {"posix": ["mkdir DIR && " + quoting.command_line(["tar", "-xf", name, "-C", "DIR"], windows=False),
                            "DIR/bin/python DIR/.mambaboot/unpack.py"]},
        # one command a line, no `&&`: Windows PowerShell 5.1 refuses it
        "windows": {"cmd": [cmd for cmd, _ in windows], "powershell": [ps for _, ps in windows]},
    }
    if system in steps:
        return steps[system]
    return {shell: lines for by_shell in steps.values() for shell, lines in by_shell.items()}


def _system(prefix: str) -> str | None:
    from mambaboot.environment import condameta, lockfile

    platform = lockfile.platform_of(condameta.summary(prefix).packages)  # the records read without their files
    return None if platform is None else "windows" if platform.startswith("win-") else "posix"


def _format(path: str) -> str:
    lower = path.lower()
    for ext in FORMATS:
        if lower.endswith(ext):
            return "zip" if ext == ".zip" else "tar"
    raise UsageError(f"{path}: the archive name must end in {', '.join(FORMATS)}")


def _members(prefix: str) -> Iterator[Tuple[str, str]]:
    """(path on disk, name in the archive with '/'), directories before what they hold."""
    for root, dirs, files in treewalk.walk(prefix):
        rel_root = os.path.relpath(root, prefix).replace(os.sep, "/")
        rel_root = "" if rel_root == "." else rel_root + "/"
        if not rel_root:  # nor the mark a killed run may have left (proof.py): it proves nothing elsewhere
            dirs[:] = [d for d in dirs if d != "pkgs"]
            files = [f for f in files if f not in ("pkgs", proof.MARK)]
        elif rel_root == proof.CONTENTS + "/":
            files = [f for f in files if f != proof.MARK]
        for name in sorted(dirs):
            path = os.path.join(root, name)
            yield path, rel_root + name
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        for name in sorted(files):
            yield os.path.join(root, name), rel_root + name


def _extras(location: str, findings: List[scan.Finding]) -> Dict[str, bytes]:
    note = {"prefix": location, "packed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": [f.to_dict() for f in findings]}
    return {
        f"{scan.RECORD_DIR}/{unpack.UNPACK_SCRIPT}": unpack.script(),
        f"{scan.RECORD_DIR}/{scan.PACKED_FILE}": (json.dumps(note, indent=2) + "\n").encode(),
    }


def _walked(top: confined.Root) -> Iterator[Tuple[confined.Root, str, str, os.stat_result]]:
    """(the Root of its directory, its name there, its name in the archive, its lstat) of each entry
    below top, in _members' order, each directory listed by descriptor (its entries' lstat relative
    to it): top's pkgs and the marks left out as there."""
    pending = [("", 0)]
    while pending:
        rel_dir, depth = pending.pop()
        with top.sub(rel_dir) as here:
            entries = here.scandir()
            if not rel_dir:
                entries = [(n, st) for n, st in entries if n not in ("pkgs", proof.MARK)]
            elif rel_dir == proof.CONTENTS:
                entries = [(n, st) for n, st in entries if n != proof.MARK]
            dirs = [(n, st) for n, st in entries if stat.S_ISDIR(st.st_mode) and not confined.is_link(st)]
            held = {n for n, _ in dirs}
            head = rel_dir + "/" if rel_dir else ""
            for name, st in dirs + [(n, st) for n, st in entries if n not in held]:
                yield here, name, head + name, st
        if dirs and depth >= treewalk.MAX_DEPTH:
            raise treewalk.too_deep(os.path.join(top.path, head + dirs[0][0]))
        pending.extend((head + name, depth + 1) for name, _ in reversed(dirs))


def _write_tar(out, prefix: str, extras: Dict[str, bytes]) -> int:
    """The archive (tarstream: tarfile's GNU format, written without tarfile's work per file)."""
    count = 0
    writer = tarstream.Writer(out, COMPRESS_LEVEL)
    with confined.Root.open(prefix) as top:
        for here, name, arcname, st in _walked(top):
            if arcname not in extras:
                writer.add(here, name, arcname, st)
                count += 1
    now = int(time.time())
    for name, data in extras.items():
        writer.add_data(name, data, now)
        count += 1
    writer.close()
    return count


def _zip_name(path: str, name: str) -> str:
    """name, when a zip can hold it as it is. A zip names its members in CP437 or, flagged, in
    UTF-8 (APPNOTE 4.4.4, bit 11): a name whose bytes are not UTF-8 (decoded with surrogate
    escapes) has no faithful spelling there, where a tar keeps its bytes."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise NotPortable(f"{path}: its name is not UTF-8 text, which a .zip cannot hold as it is (a zip names "
                          "its files in UTF-8 or CP437); pack it as .tar.gz, which keeps a name's bytes; "
                          "nothing was written") from None
    return name


def _write_zip(out, prefix: str, extras: Dict[str, bytes]) -> int:
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for path, name in _members(prefix):
            if name in extras:
                continue
            name = _zip_name(path, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                # Info-ZIP's convention, which bsdtar (Windows' tar) and unzip follow: the target's
                # bytes as content, as they are (UTF-8 or not)
                info = zipfile.ZipInfo(name, time.localtime(st.st_mtime)[:6])
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                info.create_system = 3
                zf.writestr(info, os.fsencode(os.readlink(path)))
            elif stat.S_ISDIR(st.st_mode):
                zf.write(path, name + "/")
            else:
                zf.write(path, name)
            count += 1
        for name, data in extras.items():
            zf.writestr(name, data)
            count += 1
    return count


def pack(prefix: str, output: str, windows: bool, reporter: Reporter, *, force: bool = False) -> Packed:
    prefix = os.path.abspath(os.path.expanduser(prefix))
    output = os.path.abspath(os.path.expanduser(output))
    kind = _format(output)
    adopt.check_prefix(prefix, "pack")
    stream = outputfile.kind(output)[0] != outputfile.FILE  # a device or a named pipe is written into, never replaced
    if os.path.lexists(output) and not force and not stream:
        raise TargetRefused(f"{output} already exists; pass --force to replace it")
    if not stream and fileid.within(output, prefix):  # links resolved: a link into the environment is no way out of it
        raise UsageError(f"{output} is inside the environment it would hold ({prefix}, links followed): the archive "
                         "would hold its own partial file; write it outside the environment")
    found = audit.audit(prefix, windows, deep=False)
    if found.pack_blockers:
        lines = "\n".join(f"  {e.path}: {e.why}" for e in found.pack_blockers)
        raise NotPortable(f"{prefix} cannot be packed:\n{lines}\nnothing was written")
    reporter.step(f"audit: {len(found.findings)} files name {found.location}; unpack rewrites them")
    system = _system(prefix)  # read before the archive is written: a failure leaves none behind
    with outputfile.Staged(output) as out:  # a dead writer's partial file beside FILE is collected
        for done in out.settled:
            reporter.warn(done)
        writer = _write_zip if kind == "zip" else _write_tar
        count = writer(out.file, prefix, _extras(found.location, found.findings))
        size = out.file.tell()
        try:  # a file made at FILE while the archive was written is not replaced either, without --force
            out.commit(replace=force)
        except FileExistsError:
            raise TargetRefused(f"{output} appeared while the archive was written; it was left as it is "
                                "(pass --force to replace it)") from None
    reporter.step(f"archive: {output} ({count} entries, {size / 1e6:.1f} MB)")
    return Packed(prefix, output, count, size, found.location, system)
