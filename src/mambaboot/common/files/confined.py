"""The one file layer for places mambaboot does not own outright: an environment, a package
cache, a home, a directory of the user's.

A Root is opened on a directory and holds a descriptor of it (its st_dev remembered); every
path given to it is relative to it, and is resolved one component at a time relative to the
descriptor of the one before, never following a link (O_NOFOLLOW), never going up (`..`),
never starting over (an absolute path). A link inside is an entry: it can be read (readlink),
made (symlink), renamed or removed, never gone through; a way through one raises Escapes. The
models are Go's os.Root and Rust's cap-std; on Linux, what openat2's RESOLVE_BENEATH |
RESOLVE_NO_SYMLINKS gives, with calls the stdlib has.

What it promises on top of that:
- reading opens nothing but a regular file, and never waits doing so (O_NONBLOCK: a fifo is
  refused, NotRegular, instead of blocking until a writer comes);
- a replace always writes a new file (a temporary beside it, synced, renamed over it): a file
  whose link count says it is shared (the package cache hard-links what it installs) is never
  written through;
- a tree is deleted by descriptor, and only when no mount point lies inside it (by st_dev, and on
  Linux by the kernel's mount table, which also names bind mounts of the same file system):
  CrossesMount, before anything is deleted; a sub() says whether it is itself a mount point
  (mounted()), so that notes are not deleted, nor hooks written, in a directory mounted there.

The root's own path is taken as the caller gives it, links and all: the user may reach an
environment through a link; what is below it is what is confined.

Windows has no directory descriptors for os calls (no dir_fd, no O_NOFOLLOW). There each
component is looked at (lstat) before the act and a link or junction (any reparse point) on the
way is refused the same; what cannot be promised there is the moment between that look and the
act: a component swapped for a junction in between is followed. A fifo cannot be made in a
directory there, so reading never blocks.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import stat
import sys

from mambaboot.common.files import removal, tempname, treewalk
from mambaboot.common.errors import Escapes, NotRegular

_WINDOWS = sys.platform == "win32"
BY_DESCRIPTOR = removal.BY_DESCRIPTOR and os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_PIECE = 1 << 20  # read_at_most's step past the size fstat gave
_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC | getattr(os, "O_BINARY", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | getattr(os, "O_BINARY", 0)
_REPARSE = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
# What open(O_NOFOLLOW) answers for a link: ELOOP (Linux, macOS), EMLINK (FreeBSD), EFTYPE (NetBSD);
# O_DIRECTORY on a file: ENOTDIR.
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK, getattr(errno, "EFTYPE", errno.ELOOP), errno.ENOTDIR}


def is_link(st: os.stat_result) -> bool:
    """A symlink, or on Windows any reparse point (a junction too: a directory to its lstat)."""
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_file_attributes", 0) & _REPARSE)



def parts(rel: str) -> list:
    """rel's components; Escapes for an absolute path, `..`, a drive, or a NUL."""
    text = rel.replace("\\", "/") if _WINDOWS else rel
    if "\0" in text or text.startswith("/") or (_WINDOWS and (":" in text or os.path.isabs(rel))):
        raise Escapes(f"{rel!r} does not lie inside the directory it must stay in", rel)
    found = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in found:
        raise Escapes(f"{rel!r} leads out of the directory it must stay in (`..`)", rel)
    return found


class NotTheSame(OSError):
    """Root.remove_tree(expected=): the path is no longer the directory this run made (or began
    with, for a move's source); nothing was deleted."""

    @classmethod
    def at(cls, path: str) -> "NotTheSame":
        return cls(errno.EEXIST, "no longer the directory this run began with; left as it is", path)


class Root:
    """A directory, and the only door to what is below it. Use as a context manager, or close()."""

    def __init__(self, path: str, fd: int | None, st: os.stat_result) -> None:
        self.path, self.fd, self.dev = path, fd, st.st_dev
        self.parent_dev = None  # a sub()'s: the st_dev of the root it was opened from
        self.identity = (st.st_dev, st.st_ino)

    @classmethod
    def open(cls, path: str) -> "Root":
        """The directory at path (followed, if a link: the way the user names it)."""
        if BY_DESCRIPTOR:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
            return cls(path, fd, os.fstat(fd))
        st = os.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", path)
        return cls(path, None, st)

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> "Root":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def where(self, rel: str = "") -> str:
        """The path rel stands for, for messages and for handing to another program."""
        found = parts(rel)
        return os.path.join(self.path, *found) if found else self.path

    # -- resolution ------------------------------------------------------------------------

    def _escapes(self, found: list, i: int) -> Escapes:
        where = os.path.join(self.path, *found[:i + 1])
        return Escapes(f"{where} is a link (or junction); mambaboot never reads, writes or deletes through one "
                       f"inside {self.path}", where)

    def _dir(self, found: list, create: bool = False, mode: int = 0o777):
        """(fd, path) of the directory found names, reached without a link: fd is a new descriptor
        to close (None on Windows, where path is the way)."""
        if not BY_DESCRIPTOR:
            here = self.path
            for i, part in enumerate(found):
                here = os.path.join(here, part)
                try:
                    st = os.lstat(here)
                except FileNotFoundError:
                    if not create:
                        raise
                    _mkdir(here, None, mode)
                    st = os.lstat(here)
                if is_link(st):
                    raise self._escapes(found, i)
                if not stat.S_ISDIR(st.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, "Not a directory", here)
            return None, here
        fd = os.dup(self.fd)
        try:
            for i, part in enumerate(found):
                try:
                    nxt = os.open(part, removal.DIRECTORY_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        _mkdir(part, fd, mode)
                    except FileExistsError:  # made meanwhile by another run: opened as any other
                        pass
                    try:
                        nxt = os.open(part, removal.DIRECTORY_FLAGS, dir_fd=fd)
                    except OSError as exc:
                        if exc.errno in _LINK_ERRNOS and _link_at(part, fd):
                            raise self._escapes(found, i) from None
                        raise
                except OSError as exc:
                    if exc.errno in _LINK_ERRNOS and _link_at(part, fd):
                        raise self._escapes(found, i) from None
                    raise
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd, os.path.join(self.path, *found)

    def _final(self, rel: str):
        """(components of the parent, last name); Escapes for the root itself."""
        found = parts(rel)
        if not found:
            raise Escapes(f"{self.path}: an entry below it was expected, not the directory itself", self.path)
        return found[:-1], found[-1]

    def _at(self, rel: str, create: bool = False):
        """A context of (dir_fd, name) to hand to an os call for rel's last component."""
        head, name = self._final(rel)
        return _At(self, head, name, create)

    # -- looking -----------------------------------------------------------------------------

    def lstat(self, rel: str) -> os.stat_result:
        found = parts(rel)
        if not found:
            return os.fstat(self.fd) if self.fd is not None else os.stat(self.path)
        with self._at(rel) as (fd, name):
            return os.stat(name, dir_fd=fd, follow_symlinks=False)

    def exists(self, rel: str) -> bool:
        """Something (a link too) is at rel, reached without a link."""
        try:
            self.lstat(rel)
        except (FileNotFoundError, NotADirectoryError, Escapes):
            return False
        return True

    def scandir(self, rel: str = "") -> list:
        """[(name, lstat)] of the directory rel, sorted by name."""
        fd, path = self._dir(parts(rel))
        try:
            with os.scandir(fd if fd is not None else path) as found:
                entries = [(e.name, e.stat(follow_symlinks=False) if fd is not None else os.lstat(e.path))
                           for e in found]
        finally:
            if fd is not None:
                os.close(fd)
        return sorted(entries)

    def listdir(self, rel: str = "") -> list:
        return [name for name, _ in self.scandir(rel)]

    def readlink(self, rel: str) -> str:
        with self._at(rel) as (fd, name):
            return os.readlink(name, dir_fd=fd)

    def sub(self, rel: str, create: bool = False, mode: int = 0o777) -> "Root":
        """The directory rel as a Root of its own (made, with the ones above it, if create)."""
        found = parts(rel)
        fd, path = self._dir(found, create, mode)
        try:
            st = os.fstat(fd) if fd is not None else os.stat(path)
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        root = Root(path, fd, st)
        root.parent_dev = self.dev
        return root

    def mounted(self, points: frozenset | None = None) -> bool:
        """Whether this directory, a sub(), is a mount point: another file system than its root's
        (st_dev), or on Linux a bind mount of a directory elsewhere (the kernel's mount table;
        points: that table as removal.mount_points() read it for this operation, read here if not given).
        What is below such a directory is not the root's to delete."""
        if self.fd is None:  # pragma: no cover - Windows: a mounted folder is a junction, refused as a link
            return False
        if self.parent_dev is not None and self.parent_dev != self.dev:
            return True
        try:
            here = os.readlink(f"/proc/self/fd/{self.fd}")
        except OSError:
            return False
        # the kernel names an open directory by its path, or that path and " (deleted)": only a path
        # the table names is a mount point
        return here.startswith("/") and here.rstrip("/") in (removal.mount_points() if points is None else points)

    # -- reading -----------------------------------------------------------------------------

    def open_read(self, rel: str):
        """rel opened for binary reading: a regular file only (NotRegular else), never waited on."""
        with self._at(rel) as (fd, name):
            if fd is None:
                st = os.lstat(name)
                if is_link(st):
                    raise Escapes(f"{name} is a link (or junction); it is not read through", name)
                if not stat.S_ISREG(st.st_mode):
                    raise _not_regular(name, st)
            try:
                handle = os.open(name, _READ, dir_fd=fd)
            except OSError as exc:
                if exc.errno in _LINK_ERRNOS and fd is not None and _link_at(name, fd):
                    raise Escapes(f"{self.where(rel)} is a link; it is not read through", self.where(rel)) from None
                raise
        st = os.fstat(handle)
        if not stat.S_ISREG(st.st_mode):
            os.close(handle)
            raise _not_regular(self.where(rel), st)
        return os.fdopen(handle, "rb")

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        """The content of the regular file rel; NotRegular past limit bytes."""
        with self.open_read(rel) as f:
            data = f.read() if limit is None else read_at_most(f, limit)
        if limit is not None and len(data) > limit:
            where = self.where(rel)
            raise NotRegular(f"{where} is larger than the {limit} bytes mambaboot reads of such a file", where)
        return data

    def read_text(self, rel: str, limit: int | None = None, errors: str = "strict") -> str:
        return self.read_bytes(rel, limit).decode("utf-8", errors)

    # -- writing -----------------------------------------------------------------------------

    def write_replace(self, rel: str, data: bytes, mode: int | None = None, sync: bool = True) -> None:
        """rel's content becomes data, all at once: a new file (mode, else 0o600 less the umask) is
        written beside it and renamed over it, so a link or a hard link there is replaced, never
        written through."""
        self.write_many([(rel, data)], mode, sync)

    def write_many(self, items, mode: int | None = None, sync: bool = True) -> None:
        """write_replace for each (rel, data): all are written (and synced) before the first rename.
        Under a Premade lent (lent()), each new file is one it made ahead, renamed to its place from there."""
        pending = []  # (at, the directory its new file is in, that file's name, name, data)
        premade = _LENT[-1] if _LENT else None
        stage = premade.open() if premade is not None else None
        source = _At(stage, [], "", False).enter() if stage is not None else None
        try:
            for rel, data in items:
                at = self._at(rel).enter()
                made = premade.take(source, rel, data, mode, sync) if source is not None else None
                if made is not None:
                    pending.append((at, source, made, at.name, data))
                    continue
                pending.append((at, at, None, at.name, data))
                pending[-1] = (at, at, _beside(at, data, mode, sync), at.name, data)
            while pending:
                at, where, tmp, name, data = pending[0]
                try:
                    os.replace(where.path_of(tmp), at.path_of(name), src_dir_fd=where.fd, dst_dir_fd=at.fd)
                except OSError as exc:
                    if where is at or exc.errno != errno.EXDEV:
                        raise
                    # the place is on another file system than the file made ahead: written beside it, as any other
                    pending[0] = (at, at, _beside(at, data, mode, sync), name, data)
                    continue
                pending.pop(0)
                at.exit()
        finally:
            for at, where, tmp, _, _ in pending:
                if tmp is not None and where is at:  # one made ahead stays with its directory's owner
                    try:
                        os.unlink(at.path_of(tmp), dir_fd=at.fd)
                    except OSError:
                        pass
                at.exit()
            if source is not None:
                source.exit()
                stage.close()

    def write_locked(self, rel: str, data: bytes, hold) -> None:
        """write_replace of a file any run writes, under no lock of a place (the cache's notes and memo): its temporary
        is open_locked's, renamed while still locked. One taken away before its rename is written again."""
        at = self._at(rel).enter()
        try:
            for _ in range(3):
                tmp, f = self.open_locked(rel, hold)
                with f:
                    f.write(data)
                    f.flush()
                    if not _WINDOWS and _replaced(at, tmp):  # still locked: the lock is the file's, whatever its name
                        return
                if _WINDOWS and _replaced(at, tmp):  # there a file open is not renamed
                    return
            raise OSError(errno.EAGAIN, "its new text was taken away three times before its rename", at.dir)
        finally:
            at.exit()

    def open_locked(self, rel: str, hold, mode: int = 0o666):
        """(name, file open for binary writing) of a new file beside rel under a temporary name that says its writer
        locks it (tempname.UNLOCKED), made new and locked by hold(fd) until it is closed, as git's `FILE.lock` is made
        with O_EXCL (lockfile.c lock_file, through tempfile.c create_tempfile_mode) and held while it is written: a
        collector deletes only one whose lock it can take, a dead writer's (common/files/leftovers.py
        collect_unlocked). One taken between its creation and its lock is made again under another name. hold:
        filelock.hold, given by the caller (filelock imports this module)."""
        at = self._at(rel).enter()
        try:
            for _ in range(3):
                tmp = tempname.temp_name(at.name, tempname.UNLOCKED)
                out, kept = os.fdopen(os.open(at.path_of(tmp), _NEW, mode & ~NOT_FOR_OTHERS, dir_fd=at.fd), "wb"), False
                try:
                    hold(out.fileno())
                    kept = os.path.samestat(os.fstat(out.fileno()), os.stat(at.path_of(tmp), dir_fd=at.fd,
                                                                            follow_symlinks=False))
                except FileNotFoundError:  # taken between its creation and its lock
                    pass
                finally:
                    if not kept:
                        out.close()
                if kept:
                    return tmp, out
            raise OSError(errno.EAGAIN, "its new file was taken away three times before it was locked", at.dir)
        finally:
            at.exit()

    def write_new(self, rel: str, data: bytes, mode: int = 0o666) -> None:
        """A new file rel holding data (FileExistsError if anything, a link too, is there)."""
        with self.open_new(rel, mode) as f:
            f.write(data)

    def open_new(self, rel: str, mode: int = 0o666):
        """A new file rel opened for binary writing (FileExistsError if anything is there)."""
        with self._at(rel) as (fd, name):
            return os.fdopen(os.open(name, _NEW, mode & ~NOT_FOR_OTHERS, dir_fd=fd), "wb")

    def mkdir(self, rel: str, mode: int = 0o777, exist_ok: bool = False) -> bool:
        """Make the directory rel (its parent must be there); True if this call made it."""
        with self._at(rel) as (fd, name):
            try:
                _mkdir(name, fd, mode)
                return True
            except FileExistsError:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if is_link(st) and exist_ok:
                    raise self._escapes(parts(rel), len(parts(rel)) - 1) from None
                if not exist_ok or not stat.S_ISDIR(st.st_mode):
                    raise
                return False

    def mounts_below(self) -> list:
        """The mount points strictly below this root (paths): what a rename carries along, a copy
        copies and a rewrite or a deletion would reach into."""
        return removal.mounts_below(self.fd) if self.fd is not None else []

    def refuse_mounted(self, rel: str, points: frozenset | None = None) -> None:
        """Escapes when rel, or a directory between this root and it, is a mount point: what is
        written there would land in another file system or a directory mounted from elsewhere.
        points: the kernel's mount table as removal.mount_points() read it for this operation;
        read here once for every directory on the way when not given."""
        if points is None and self.fd is not None:
            points = removal.mount_points()
        found = parts(rel)
        for i in range(len(found)):
            below = "/".join(found[:i + 1])
            with self.sub(below) as directory:
                if directory.mounted(points):
                    raise Escapes(f"{self.where(below)} is a mount point (another file system, or a bind mount of a "
                                  "directory elsewhere); mambaboot writes nothing into it", self.where(below))

    def makedirs(self, rel: str, mode: int = 0o777) -> list:
        """Make rel and the directories above it that are missing; the ones made, outermost first."""
        found, made = parts(rel), []
        for i in range(len(found)):
            if self.mkdir("/".join(found[:i + 1]), mode, exist_ok=True):
                made.append("/".join(found[:i + 1]))
        return made

    def symlink(self, target: str, rel: str, directory: bool = False) -> None:
        with self._at(rel) as (fd, name):
            os.symlink(target, name, directory, dir_fd=fd)

    def link(self, existing: str, rel: str) -> None:
        """A hard link rel to the entry existing, both below this root (never to a link's target)."""
        with self._at(existing) as (sfd, sname), self._at(rel) as (dfd, dname):
            os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)

    def stamp(self, rel: str, st: os.stat_result) -> None:
        """Give rel (the root itself for "") the mode and times st holds, as shutil.copystat does,
        never through a link: a link gets its times only where the system sets a link's own."""
        if not parts(rel):
            target = self.fd if self.fd is not None else self.path
            os.chmod(target, stat.S_IMODE(st.st_mode))
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
            return
        with self._at(rel) as (fd, name):
            kw = {"dir_fd": fd} if fd is not None else {}
            link = is_link(os.stat(name, follow_symlinks=False, **kw))
            if not link:
                os.chmod(name, stat.S_IMODE(st.st_mode), **kw)
            if not link or os.utime in os.supports_follow_symlinks:
                os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False, **kw)

    def chmod(self, rel: str, mode: int) -> None:
        """chmod rel itself; a link is refused (a chmod through it reaches its target)."""
        with self._at(rel) as (fd, name):
            if is_link(os.stat(name, dir_fd=fd, follow_symlinks=False)):
                raise Escapes(f"{self.where(rel)} is a link; its target's mode is not changed", self.where(rel))
            os.chmod(name, mode, dir_fd=fd)

    # -- renaming and deleting ---------------------------------------------------------------

    def rename(self, src: str, dst: str, how=None) -> None:
        """os.replace of src to dst, both below this root (the entry itself: a link moves as a link).
        how: another rename taking os.replace's arguments (noreplace.rename_dir: never over anything at dst)."""
        with self._at(src) as (sfd, sname), self._at(dst) as (dfd, dname):
            (how or os.replace)(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)

    def unlink(self, rel: str) -> None:
        """Remove the file or link rel (a junction too, on Windows)."""
        with self._at(rel) as (fd, name):
            try:
                os.unlink(name, dir_fd=fd)
            except (IsADirectoryError, PermissionError):
                if fd is not None or not is_link(os.lstat(name)):
                    raise
                os.rmdir(name)  # a junction goes like an empty directory, its target untouched

    def rmdir(self, rel: str) -> None:
        with self._at(rel) as (fd, name):
            removal.remove_dir(name, fd)

    def remove_tree(self, rel: str, tally=None, expected: tuple | None = None, last: tuple = ()) -> None:
        """Delete rel and all below it, by descriptor; a link at rel is removed itself. A mount point
        inside is refused (CrossesMount) before anything is deleted. last: names directly below rel
        deleted after everything else, in that order (removal.remove_contents). expected: the identity the
        directory had when this run made it (or began with); anything else at rel now raises
        NotTheSame and is left alone, checked on the opened directory and on its name again
        before the rmdir, so no swap in between can redirect the deletion."""
        def same(st: os.stat_result) -> os.stat_result:
            if expected is not None and (is_link(st) or (st.st_dev, st.st_ino) != tuple(expected)):
                raise NotTheSame.at(self.where(rel))
            return st

        with self._at(rel) as (fd, name):
            st = same(os.stat(name, dir_fd=fd, follow_symlinks=False))
            if is_link(st) or not stat.S_ISDIR(st.st_mode):
                return self.unlink(rel)
            if fd is None:  # pragma: no cover - Windows: by path, each entry's type looked at first
                return self._remove_by_path(rel, tally, last)
            try:
                top = os.open(name, removal.DIRECTORY_FLAGS, dir_fd=fd)
            except OSError as exc:  # a link (O_NOFOLLOW) or a file now where the directory was
                if expected is None or exc.errno not in _LINK_ERRNOS:
                    raise
                raise NotTheSame.at(self.where(rel)) from None
            try:
                same(os.fstat(top))
                removal.remove_contents(top, tally, self.where(rel), last)
            finally:
                os.close(top)
            same(os.stat(name, dir_fd=fd, follow_symlinks=False))  # again: the name may have changed hands meanwhile
            removal.remove_dir(name, fd)

    def _remove_by_path(self, rel: str, tally, last: tuple = ()) -> None:  # pragma: no cover - Windows
        """remove_tree by path: the tree listed whole first, with a stack (never a recursion per
        level; TooDeep past treewalk.MAX_DEPTH levels before anything is deleted), then deleted
        depth first, each directory's entries in listing order, last's after the others."""
        base = "/".join(parts(rel))
        listed = {base: sorted(self.scandir(rel), key=lambda e: last.index(e[0]) + 1 if e[0] in last else 0)}
        pending = [(base, 0)]
        while pending:
            directory, depth = pending.pop()
            for name, st in listed[directory]:
                if stat.S_ISDIR(st.st_mode) and not is_link(st):
                    if depth >= treewalk.MAX_DEPTH:
                        raise treewalk.too_deep(self.where(f"{directory}/{name}"))
                    listed[f"{directory}/{name}"] = self.scandir(f"{directory}/{name}")
                    pending.append((f"{directory}/{name}", depth + 1))
        going = [(base, tally, iter(listed.pop(base)))]
        while going:
            directory, counting, entries = going[-1]
            entry = next(entries, None)
            if entry is None:
                self.rmdir(directory)
                going.pop()
                continue
            name, st = entry
            inner = f"{directory}/{name}"
            counted = counting if directory != base or name not in last else None
            if stat.S_ISDIR(st.st_mode) and not is_link(st):
                going.append((inner, counted, iter(listed.pop(inner))))
                continue
            if counted is not None:
                counted.add(st)
            try:
                self.unlink(inner)
            except PermissionError:  # read-only (common on Windows): made writable first, never a link's target
                if is_link(st):
                    raise
                os.chmod(self.where(inner), stat.S_IWRITE | stat.S_IREAD)
                self.unlink(inner)

    def remove_any(self, rel: str) -> None:
        """Remove whatever is at rel (nothing there: no failure)."""
        try:
            self.remove_tree(rel)
        except FileNotFoundError:
            pass


class _At:
    """The parent directory of one entry of a Root, held open while an os call acts on the entry."""

    def __init__(self, root: Root, head: list, name: str, create: bool) -> None:
        self.root, self.head, self.name, self.create = root, head, name, create
        self.fd = self.dir = None

    def enter(self) -> "_At":
        self.fd, self.dir = self.root._dir(self.head, self.create)
        return self

    def exit(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def path_of(self, name: str) -> str:
        """name as an os call takes it: relative to fd, or (Windows) joined to the directory's path."""
        return name if self.fd is not None else os.path.join(self.dir, name)

    def __enter__(self):
        self.enter()
        return self.fd, self.path_of(self.name)

    def __exit__(self, *exc) -> None:
        self.exit()


def _replaced(at: _At, tmp: str) -> bool:
    try:
        os.replace(at.path_of(tmp), at.path_of(at.name), src_dir_fd=at.fd, dst_dir_fd=at.fd)
        return True
    except FileNotFoundError:
        return False


def _fill(fd: int, data: bytes, sync: bool) -> None:
    """The new file fd holds data (synced), and is closed: a replace's temporary, before its rename."""
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        if sync:
            os.fsync(f.fileno())


def _fill_as(at: _At, name: str, fd: int, data: bytes, mode: int | None, sync: bool) -> None:
    """The new file fd, name in at's directory, holds data (synced if sync), closed, then takes mode if given."""
    _fill(fd, data, sync)
    if mode is not None:
        os.chmod(at.path_of(name), mode, **({"dir_fd": at.fd} if at.fd is not None else {}))


def _beside(at: _At, data: bytes, mode: int | None, sync: bool) -> str:
    """The name of a new file beside at's entry holding data (mode, else 0o600 less the umask), to rename over it."""
    tmp = tempname.temp_name(at.name)
    fd = os.open(at.path_of(tmp), _NEW, 0o600, dir_fd=at.fd)
    try:
        _fill_as(at, tmp, fd, data, mode, sync)
    except BaseException:
        try:
            os.unlink(at.path_of(tmp), dir_fd=at.fd)
        except OSError:
            pass
        raise
    return tmp


class Premade:
    """Files made ahead of their writes (create makes them while its engine runs) in a directory of the run's own, to
    be moved to their places: while one is lent (lent()), write_many renames there the file made with the bytes it is
    asked to write, else a blank one it fills, in place of a new file beside the place (unless a write to be synced
    meets files that were not). The inode is made while the engine leaves a core idle, not after it: on the
    benchmark's machine each new file costs ~0.7 ms of kernel time, a rename ~0.02 (docs/benchmarks.md). A place on
    another file system (EXDEV) gets its file written beside it, as without this. The directory is made here, new,
    and is taken from only while it is the one made (its identity), and a blank only while it is the empty file made:
    what is renamed is this run's, never another's."""

    def __init__(self, directory: str, items, mode: int | None = None, sync: bool = False, blanks: int = 0) -> None:
        self.path, self.synced, self._ready, self._blanks = directory, sync, {}, []
        parent, name = split(directory)
        with parent:
            parent.mkdir(name, 0o700)
            with parent.sub(name) as root:
                self.identity = root.identity
                for rel, data in [*items, *[("blank", None)] * blanks]:
                    at = root._at(parts(rel)[-1]).enter()
                    try:
                        made = _beside(at, data or b"", None if data is None else mode, sync)
                        if data is None:
                            st = os.stat(at.path_of(made), dir_fd=at.fd, follow_symlinks=False)
                            self._blanks.append((made, (st.st_dev, st.st_ino)))
                        else:
                            self._ready[rel] = (made, data)
                    finally:
                        at.exit()

    def take(self, here: _At, rel: str, data: bytes, mode: int | None, sync: bool) -> str | None:
        """The name in here (its directory, open) of the file made for rel if it holds data, else of a blank one now
        holding data (mode); once. None: neither, or a write that must be synced where these were not (one synced
        is made beside its place, as docs/reliability.md says where each synced file is)."""
        if sync and not self.synced:
            return None
        name, held = self._ready.get(rel, (None, None))
        if name is not None and held == data:
            del self._ready[rel]
            return name
        while self._blanks:
            blank, identity = self._blanks.pop()
            try:
                fd = os.open(here.path_of(blank), os.O_WRONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_BINARY", 0),
                             dir_fd=here.fd)
            except OSError:
                continue
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != identity or st.st_size:
                os.close(fd)
                continue
            _fill_as(here, blank, fd, data, mode, sync)
            return blank
        return None

    def open(self) -> Root | None:
        """Its directory, if it is still the one made (else None: nothing is taken from it)."""
        try:
            root = Root.open(self.path)
        except OSError:
            return None
        if root.identity != self.identity:
            root.close()
            return None
        return root


_LENT: list = []  # the Premade lent to every write_many of this process, the innermost last


class lent:  # noqa: N801 - used as a function: with confined.lent(premade): ...
    """with lent(premade): every write_many of this process meanwhile takes its new files from premade (None: none)."""

    def __init__(self, premade: Premade | None) -> None:
        self.premade = premade

    def __enter__(self) -> None:
        if self.premade is not None:
            _LENT.append(self.premade)

    def __exit__(self, *exc) -> None:
        if self.premade is not None:
            _LENT.remove(self.premade)


def _mkdir(name: str, fd: int | None, mode: int) -> None:
    os.mkdir(name, mode & ~NOT_FOR_OTHERS, dir_fd=fd)


def _link_at(name: str, fd: int) -> bool:
    try:
        return is_link(os.stat(name, dir_fd=fd, follow_symlinks=False))
    except OSError:
        return False


def read_at_most(f, limit: int) -> bytes:
    """Up to limit + 1 bytes of the open file f: one more than limit says it is bigger. Asked for
    limit + 1 bytes at once, CPython allocates that much before it reads (FileIO.read makes a
    buffer of the size asked for), a commit of the whole limit on Windows; under Wine each such
    read of 256 MiB took 0.4 s, and a scan reads one per file. So the size fstat gives, then on,
    a piece at a time, while the file grew since."""
    want = min(os.fstat(f.fileno()).st_size, limit) + 1
    first = f.read(want)
    if len(first) < want:  # a short read is the file's end: the bytes as read, not copied twice
        return first
    data = bytearray(first)
    while len(data) == want <= limit:
        want = min(limit + 1, len(data) + _PIECE)
        data += f.read(want - len(data))
    return bytes(data)


def _not_regular(where: str, st: os.stat_result) -> NotRegular:
    kind = ("a fifo" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
            else "a directory" if stat.S_ISDIR(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
            or stat.S_ISBLK(st.st_mode) else "not a regular file")
    return NotRegular(f"{where} is {kind}, not a regular file; mambaboot reads only regular files", where)


def split(path: str):
    """(Root of path's directory, path's name): the way to act on one file named by a full path,
    the directories above it taken as they are (a caller anchors higher when they must not be)."""
    directory, name = os.path.split(path)
    return Root.open(directory or os.curdir), name


# Nothing mambaboot makes is writable by every user, whatever the umask (umask 000 would leave a
# directory or a lock file anyone could fill or replace things in): the bit is taken off every mode.
NOT_FOR_OTHERS = 0o002


def user_mode(full: int) -> int:
    """full (0o777 or 0o666) narrowed by the user's umask, and never world-writable."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask & ~NOT_FOR_OTHERS


def write_file(path: str, data: bytes, mode: int | None = None, sync: bool = True) -> None:
    """The file at path becomes data, all at once (Root.write_replace in its directory, taken as
    it is named; the file's own name never followed).

    sync=False: not synced. Readers still see the old file or the whole new one, but after a
    power loss the file may be empty: for files in a prefix the engine made in this very run,
    whose own files are not synced either (mamba-org/mamba at 03564bf has no fsync, fdatasync or
    FlushFileBuffers anywhere in libmamba/ or micromamba/; the tests' stand-in syncs nothing
    either), so a sync of ours would make the new environment no more durable, only the run wait
    for a journal commit per file."""
    root, name = split(path)
    with root:
        root.write_replace(name, data, mode, sync)


def remove_named(path: str, tally=None, expected: tuple | None = None, last: tuple = ()) -> None:
    """Root.remove_tree of the entry at path, in its directory taken as it is named."""
    root, name = split(path)
    with root:
        root.remove_tree(name, tally, expected, last)


def read_file(path: str, limit: int | None = None) -> bytes:
    """The regular file at path (never a fifo, never waited on; not through a link at its name)."""
    root, name = split(path)
    with root:
        return root.read_bytes(name, limit)


def rename_beside(path: str, to: str, how=None) -> None:
    """Rename the entry path to `to`, a name in the same directory (an environment set aside and
    back): relative to that directory's descriptor, the entry itself (a link moves as a link); how:
    as Root.rename takes it."""
    directory, name = os.path.split(path)
    if os.path.normcase(os.path.dirname(to) or os.curdir) != os.path.normcase(directory or os.curdir):
        raise Escapes(f"{to} is not beside {path}", to)
    with Root.open(directory or os.curdir) as root:
        root.rename(name, os.path.basename(to), how)


def read_named(path: str, limit: int | None = None) -> bytes:
    """A file the user named (an option's value, a setting): followed if a link, as they meant it,
    but still a regular file only and never waited on."""
    with open_named(path) as f:
        data = f.read() if limit is None else read_at_most(f, limit)
    if limit is not None and len(data) > limit:
        raise NotRegular(f"{path} is larger than the {limit} bytes mambaboot reads of such a file", path)
    return data


def open_stream(path: str) -> int:
    """A device, fifo or socket the user named for output, opened for writing as a shell's `>`
    opens it (followed if a link; waiting for a fifo's reader as `>` waits). Never creates and
    never truncates a file: a name that is a regular file by now is refused (NotRegular), for
    the caller to replace it whole instead."""
    handle = os.open(path, os.O_WRONLY | _CLOEXEC | getattr(os, "O_BINARY", 0))
    if stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise NotRegular(f"{path} became a regular file while it was opened", path)
    return handle


def open_named(path: str):
    """read_named's file, opened for binary reading."""
    handle = os.open(path, _READ & ~_NOFOLLOW)
    st = os.fstat(handle)
    if not stat.S_ISREG(st.st_mode):
        os.close(handle)
        raise _not_regular(path, st)
    return os.fdopen(handle, "rb")


def open_regular(path: str):
    """path opened for binary reading when it is a regular file, else None (not there, a link at its
    name, or a fifo, which is never waited on)."""
    try:
        directory, name = split(path)
        with directory:
            return directory.open_read(name)
    except OSError:
        return None


def read_in(top: str, rel: str, limit: int | None = None) -> bytes:
    """The regular file rel below the directory top, reached without a link."""
    with Root.open(top) as root:
        return root.read_bytes(rel, limit)


def write_in(top: str, rel: str, data: bytes, mode: int | None = None, sync: bool = True, locked=None) -> None:
    """write_replace of rel below top, the directories on the way made if missing (never through a link)."""
    write_many_in(top, [(rel, data)], mode, sync, locked)


def write_many_in(top: str, items, mode: int | None = None, sync: bool = True, locked=None) -> None:
    """locked (filelock.hold): each as write_locked writes it under its own lock (mode and sync unused)."""
    items = list(items)
    with Root.open(top) as root:
        points = None
        for directory in sorted(d for d in {rel.replace("\\", "/").rpartition("/")[0] for rel, _ in items} if d):
            root.makedirs(directory)
            if points is None and root.fd is not None:
                points = removal.mount_points()  # once for this write's directories
            root.refuse_mounted(directory, points)
        if locked is None:
            return root.write_many(items, mode, sync)
        for rel, data in items:
            root.write_locked(rel, data, locked)
