"""`move` to another file system: copy the environment beside DST, compare, and only then make
it DST, never replacing anything that appeared there meanwhile.

- The copy goes into a directory this run makes itself, `.DST.mambaboot-tmp-<TOKEN>-copy`
  (common/files/tempname.py set_aside, the run's token and the role of its mark), named
  in the move's intent before it is made (mkdir fails when anything is there), the move's mark
  written in it first: a killed move's partial copy is deleted by the next run of either place
  (environment/settle.py), through that mark.
- It stops at the first error. A full disk is said in one line: the file, and how much more the
  copy needed. What was copied is deleted by the move's settling, through its mark.
- Files are read only when they are regular files (opened without following a link, without
  waiting on a fifo); a fifo, socket or device in the environment is named and nothing is done.
  Hard links within the environment stay hard links.
- Complete and compared with the source, it is renamed to DST with a rename that never
  replaces (common/files/noreplace.py): a DST made meanwhile by another run or by the user is left as
  it is, the copy deleted, and the move refused.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
from typing import Dict, List, Tuple

from mambaboot.common.files import confined, fileid, noreplace, proof, treewalk
from mambaboot.common.errors import NotPortable, TargetRefused
from mambaboot.environment.diskusage import human

_CHUNK = 1 << 20
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_SPECIAL = ((stat.S_ISFIFO, "named pipe (fifo)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
            (stat.S_ISBLK, "block device"))
_DIRECTORY = getattr(stat, "FILE_ATTRIBUTE_DIRECTORY", 0x10)


def appeared(dst: str, src: str) -> TargetRefused:
    return TargetRefused(f"{dst} appeared while {src} was being moved (another run or another program made it); "
                         f"move never replaces anything: it was left as it is, and {src} is as it was")


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def listing(source: confined.Root) -> Tuple[List[Tuple[str, os.stat_result]], int]:
    """(relative path, lstat) of everything below source, directories before what they hold, and
    the bytes of its regular files; NotPortable naming the first entry a copy cannot take.
    The move's mark at its top is not copied: the copy gets its own (proof.py)."""
    out: List[Tuple[str, os.stat_result]] = []
    total = 0
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        for name, st in source.scandir(rel_dir):
            rel = _join(rel_dir, name)
            if rel == proof.MARK:
                continue
            for test, what in _SPECIAL:
                if test(st.st_mode):
                    raise NotPortable(f"{source.where(rel)} is a {what}: a copy to another file system takes "
                                      "files, directories and links only; nothing was changed")
            out.append((rel, st))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
            elif stat.S_ISDIR(st.st_mode) and not confined.is_link(st):
                if rel.count("/") >= treewalk.MAX_DEPTH:
                    raise treewalk.too_deep(source.where(rel))
                pending.append(rel)
    return out, total


def tree(root: confined.Root, skip: Tuple[str, ...] = ()) -> Dict[str, tuple]:
    """relative path -> (kind, size or link target): what a copy must reproduce."""
    out: Dict[str, tuple] = {}
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        for name, st in root.scandir(rel_dir):
            rel = _join(rel_dir, name)
            if rel in skip:
                continue
            if confined.is_link(st):
                out[rel] = ("link", root.readlink(rel))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
                pending.append(rel)
            else:
                out[rel] = ("file", st.st_size)
    return out


@proof.rule("mark")
def copy(src: str, dst: str, token: str, partial: str, became) -> None:
    """Copy src to dst as the module says, through partial, marked for the move's token first. became(made): called
    with the identity of the directory this run made once the copy is complete and compared, before it becomes dst."""
    with proof.place(src) as source:
        entries, total = listing(source)
        parent, name = confined.split(partial)  # dst's parent: partial is named beside it
        with parent:
            parent.mkdir(name, 0o700)  # fails when anything is there: what is there is this call's
            with parent.sub(name) as into:
                proof.write_mark(into, token, proof.COPY)
                _copy_entries(source, into, entries, total, dst)
                before, after = tree(source, (proof.MARK,)), tree(into, (proof.MARK,))
            if before != after:
                differ = sorted(set(before.items()) ^ set(after.items()))[:5]
                raise NotPortable(f"the copy of {src} differs from it: {differ}; nothing was moved")
            became(into.identity)
            try:
                noreplace.rename_dir(partial, dst)
            except FileExistsError:
                raise appeared(dst, src) from None


def _copy_entries(source: confined.Root, into: confined.Root, entries, total: int, dst: str) -> None:
    done = 0
    linked: Dict[tuple, str] = {}  # identity -> its first copy: hard links stay hard links
    dirs = []
    for rel, st in entries:
        try:
            if confined.is_link(st):
                into.symlink(source.readlink(rel), rel, directory=bool(getattr(st, "st_file_attributes", 0)
                                                                       & _DIRECTORY))
            elif stat.S_ISDIR(st.st_mode):
                into.mkdir(rel, 0o700)
                dirs.append((rel, st))
            elif st.st_nlink > 1 and fileid.identity(st) in linked:
                into.link(linked[fileid.identity(st)], rel)
            else:
                _copy_file(source, into, rel, st)
                if st.st_nlink > 1:
                    linked[fileid.identity(st)] = rel
                done += st.st_size
            if not stat.S_ISDIR(st.st_mode) or confined.is_link(st):
                into.stamp(rel, st)
        except OSError as exc:
            if exc.errno in _FULL:
                raise _full(source.path, dst, rel, exc, total - done, into.path) from None
            raise
    for rel, st in reversed(dirs):  # after what they hold: their times and modes, as last set
        into.stamp(rel, st)
    into.stamp("", source.lstat(""))


def _copy_file(source: confined.Root, into: confined.Root, rel: str, st: os.stat_result) -> None:
    with source.open_read(rel) as fin:
        now = os.fstat(fin.fileno())
        if fileid.identity(now) != fileid.identity(st):
            raise NotPortable(f"{source.where(rel)} changed while it was being copied; nothing was moved")
        with into.open_new(rel, 0o600) as fout:
            _pump(fin.fileno(), fout.fileno(), st.st_size)


def _pump(fin: int, fout: int, size: int) -> None:
    """All of fin into fout: sendfile where the kernel copies file to file (Linux), else by reads."""
    sendfile = getattr(os, "sendfile", None)
    offset = 0
    if sendfile is not None and sys.platform.startswith("linux"):
        try:
            while True:
                sent = sendfile(fout, fin, offset, max(size - offset, _CHUNK))
                if sent == 0:
                    return
                offset += sent
        except OSError as exc:
            if exc.errno in _FULL or offset:
                raise
    while True:
        block = os.read(fin, _CHUNK)
        if not block:
            return
        view = memoryview(block)
        while view:
            view = view[os.write(fout, view):]


def _full(src: str, dst: str, rel: str, exc: OSError, left: int, partial: str) -> OSError:
    """One line for a full disk: the file, and how much more room the copy needed."""
    try:
        short = left - shutil.disk_usage(partial).free
    except OSError:
        short = 0
    needs = f", and the copy needs about {human(short)} more" if short > 0 else ""
    return OSError(exc.errno, f"the disk holding {dst} is full: copying {os.path.join(src, rel)} failed "
                   f"({exc.strerror}){needs}; nothing was moved, {src} is as it was")
