"""`move` to another file system: copy the environment beside DST, compare, and only then make
it DST, never replacing anything that appeared there meanwhile.

- The copy goes into a directory this run makes itself, `.DST.mambaboot-new-<12 hex>` (mkdir
  fails when anything is there; its identity is kept), with a note at its top that this run
  holds locked while it lives (environment/leftovers.py: a note nobody holds is a killed move's
  partial copy, which the next run touching DST names and deletes).
- It stops at the first error. A full disk is said in one line: the file, and how much more the
  copy needed. What was copied is deleted: only that directory, checked by identity then.
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

from mambaboot.common import jsontext

from mambaboot.common.files import fsops, noreplace, proof
from mambaboot.common.errors import NotPortable, TargetRefused
from mambaboot.environment import leftovers, record
from mambaboot.environment.diskusage import human

_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_SPECIAL = ((stat.S_ISFIFO, "named pipe (fifo)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
            (stat.S_ISBLK, "block device"))


def appeared(dst: str, src: str) -> TargetRefused:
    return TargetRefused(f"{dst} appeared while {src} was being moved (another run or another program made it); "
                         f"move never replaces anything: it was left as it is, and {src} is as it was")


def listing(src: str) -> Tuple[List[Tuple[str, os.stat_result]], int]:
    """(relative path, lstat) of everything under src, directories before what they hold, and
    the bytes of its regular files; NotPortable naming the first entry a copy cannot take.
    The move's mark at its top is not copied: the copy gets its own (proof.py)."""
    out: List[Tuple[str, os.stat_result]] = []
    total = 0
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        with os.scandir(os.path.join(src, rel_dir) if rel_dir else src) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
            if rel == proof.MARK:
                continue
            st = fsops.entry_lstat(entry)
            for test, what in _SPECIAL:
                if test(st.st_mode):
                    raise NotPortable(f"{entry.path} is a {what}: a copy to another file system takes files, "
                                      "directories and links only; nothing was changed")
            out.append((rel, st))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
            elif stat.S_ISDIR(st.st_mode) and not _is_link(st, entry.path):
                pending.append(rel)
    return out, total


def _is_link(st: os.stat_result, path: str) -> bool:
    """A symlink, or on Windows a junction (a directory to its lstat)."""
    return stat.S_ISLNK(st.st_mode) or (sys.platform == "win32" and fsops.is_link(path))


def tree(root: str, skip: Tuple[str, ...] = ()) -> Dict[str, tuple]:
    """relative path -> (kind, size or link target): what a copy must reproduce."""
    out: Dict[str, tuple] = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, root)
            if rel in skip:
                continue
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            elif name in files:
                out[rel] = ("file", os.path.getsize(path))
            else:
                out[rel] = ("dir",)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]
    return out


def copy(src: str, dst: str, token: str, journal=None) -> tuple:
    """Copy src to dst as the module says; returns dst's identity (the directory this run made).
    token: the move's, marked into the copy first (proof.py), so that a killed move's copy is
    known as this move's by the copy itself.
    journal(partial, made): called once the copy is complete and compared, before it becomes dst."""
    entries, total = listing(src)
    partial = fsops.unique_sibling(dst, leftovers.COPYING)
    made = fsops.make_dir(partial, 0o700)
    note = None
    try:
        proof.mark(partial, token)
        note = _Note(partial, src, dst, token)
        _copy_entries(src, partial, entries, total, dst)
        before, after = tree(src, skip=(proof.MARK,)), tree(partial, skip=(leftovers.PARTIAL_NOTE, proof.MARK))
        if before != after:
            differ = sorted(set(before.items()) ^ set(after.items()))[:5]
            raise NotPortable(f"the copy of {src} differs from it: {differ}; nothing was moved")
        if journal is not None:
            journal(partial, made)
        note.drop()
        note = None
        try:
            noreplace.rename_dir(partial, dst)
        except FileExistsError:
            raise appeared(dst, src) from None
    except BaseException:
        if note is not None:
            note.release()
        try:
            fsops.remove_tree(partial, expected=made)
        except OSError:  # gone, or cannot go: the next run that touches DST names what is left
            pass
        raise
    return made


class _Note:
    """The partial copy's note (leftovers.PARTIAL_NOTE), locked by this run while it lives."""

    def __init__(self, partial: str, src: str, dst: str, token: str) -> None:
        self.path = os.path.join(partial, leftovers.PARTIAL_NOTE)
        self._lock = fsops.FileLock(self.path, blocking=False)
        self._lock.__enter__()
        body = {"tool": record.TOOL, "source": src, "destination": dst, "token": token, "pid": os.getpid(),
                "started": record.now()}
        os.write(self._lock.fileno(), jsontext.dumps_flat(body).encode("utf-8"))

    def drop(self) -> None:
        """Gone before the copy becomes DST; unlinked while still held where the system allows
        (POSIX), so no moment shows a note nobody holds."""
        try:
            os.unlink(self.path)
        except PermissionError:  # Windows: an open file cannot be unlinked
            self.release()
            os.unlink(self.path)
        self.release()

    def release(self) -> None:
        self._lock.__exit__(None, None, None)


def _copy_entries(src: str, into: str, entries, total: int, dst: str) -> None:
    done = 0
    linked: Dict[tuple, str] = {}  # identity -> its first copy: hard links stay hard links
    dirs = []
    for rel, st in entries:
        source, target = os.path.join(src, rel), os.path.join(into, rel)
        try:
            if _is_link(st, source):
                os.symlink(os.readlink(source), target, target_is_directory=os.path.isdir(source))
            elif stat.S_ISDIR(st.st_mode):
                os.mkdir(target, 0o700)
                dirs.append((source, target))
            elif st.st_nlink > 1 and fsops.identity(st) in linked:
                os.link(linked[fsops.identity(st)], target)
            else:
                _copy_file(source, target, st)
                shutil.copystat(source, target, follow_symlinks=False)
                if st.st_nlink > 1:
                    linked[fsops.identity(st)] = target
                done += st.st_size
        except OSError as exc:
            if exc.errno in _FULL:
                raise _full(src, dst, rel, exc, total - done, into) from None
            raise
    for source, target in reversed(dirs):  # after what they hold: their times and modes, as last set
        shutil.copystat(source, target, follow_symlinks=False)
    shutil.copystat(src, into, follow_symlinks=False)


def _copy_file(source: str, target: str, st: os.stat_result) -> None:
    fin = os.open(source, _READ)
    try:
        now = os.fstat(fin)
        if not stat.S_ISREG(now.st_mode) or fsops.identity(now) != fsops.identity(st):
            raise NotPortable(f"{source} changed while it was being copied; nothing was moved")
        fout = os.open(target, _WRITE, 0o600)
        try:
            _pump(fin, fout, st.st_size)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


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
