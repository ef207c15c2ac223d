"""Setting a directory aside (create --force's old environment, what remove deletes) and deleting it, only while it
is still the one that was checked.

Between a check (an environment of ours? a home this tool made?) and the deletion it allows, the name can come to mean
another directory (the checked one renamed away and another, or a link, put in its place; `remove` asks on the
terminal in between, for as long as the user takes). So the check remembers what it saw by identity (st_dev, st_ino of
the directory, and of one entry inside that vouches for it: the record, the marker), and the deletion acts on that
identity only: on POSIX through the directory opened relative to its parent's descriptor without following a link,
compared, renamed aside inside that parent and compared again, then deleted by descriptor (common/files/removal.py);
on Windows (no dir_fd, no O_NOFOLLOW) by the same comparisons by path just before the rename and just after it.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os
import stat

from mambaboot.common.files import confined, fileid, proof, removal, tempname, treewalk
from mambaboot.common.errors import TargetRefused


class Changed(TargetRefused):
    """The directory at the path is not the one that was checked any more; nothing was deleted."""


class Seen:
    """A directory as a check saw it: its path, its identity, and the identity of `witness`
    (a path relative to it; None: none) as it was then (None: there was none)."""

    def __init__(self, path: str, directory: tuple, witness: str | None = None, witnessed: tuple | None = None):
        self.path, self.directory, self.witness, self.witnessed = path, directory, witness, witnessed


def seen(path: str, witness: str | None = None) -> Seen:
    """The directory at path as it is now, never through a link (a link has its own identity)."""
    witnessed = None
    if witness is not None:
        try:
            witnessed = fileid.identity(os.lstat(os.path.join(path, witness)))
        except OSError:
            pass
    return Seen(path, fileid.identity(os.lstat(path)), witness, witnessed)


def _changed(path: str) -> Changed:
    return Changed(f"{path} is not the directory that was checked any more (renamed, replaced or linked "
                   "meanwhile); nothing was removed")


def _witness_at(fd: int, witness: str) -> tuple | None:
    """The identity of witness under the directory descriptor fd, no component followed if a link."""
    parts = witness.replace("\\", "/").split("/")
    fds = []
    try:
        here = fd
        for part in parts[:-1]:
            here = os.open(part, removal.DIRECTORY_FLAGS, dir_fd=here)
            fds.append(here)
        return fileid.identity(os.stat(parts[-1], dir_fd=here, follow_symlinks=False))
    except OSError:
        return None
    finally:
        for opened in fds:
            os.close(opened)


_BY_DESCRIPTOR = removal.BY_DESCRIPTOR and os.rename in os.supports_dir_fd and os.stat in os.supports_dir_fd
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, getattr(errno, "EMLINK", errno.ELOOP))


class set_aside:
    """with set_aside(checked, role, token) as aside: the directory checked saw, renamed to the run's set-aside name for
    role (tempname.set_aside; role None: left where it is), if and only if it still is that directory; else Changed,
    nothing renamed or deleted. aside.delete(tally) deletes it; aside.path is where it is. token: role's mark (proof.py)
    written before the rename and deleted last, so what a cut leaves proves it is this run's. What its deletion would
    refuse (a mount point below, a tree too deep) is refused before the mark, while nothing changed. kept: it must move
    (create --force puts it back), so a rename refused is refused here, unmarked (remove deletes it in place). claimed:
    the role whose mark of token the run wrote at its start (a move's source): read back through the descriptor compared
    before anything else, never written, kept until the deletion."""

    def __init__(self, checked: Seen, tag: str | None, token: str | None = None, kept: bool = False,
                 claimed: str | None = None) -> None:
        assert tag is None or token, "a directory set aside carries its run's mark"
        self.checked, self.tag, self.token, self.kept, self.claimed = checked, tag, token, kept, claimed
        self._last = (proof.MARK,) if token else ()
        self.path = checked.path
        self._parent = self._fd = self._tree = None
        self._name = None

    @proof.rule("mark")
    def __enter__(self) -> "set_aside":
        try:
            if _BY_DESCRIPTOR:
                self._by_descriptor()
            else:  # pragma: no cover - Windows
                self._by_path()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        for fd in (self._fd, self._parent):
            if fd is not None:
                os.close(fd)
        self._fd = self._parent = None

    def _matches(self, st: os.stat_result, witnessed) -> bool:
        return stat.S_ISDIR(st.st_mode) and fileid.identity(st) == self.checked.directory and witnessed == self.checked.witnessed

    def _by_descriptor(self) -> None:
        path = self.checked.path
        parent, name = os.path.split(path)
        # The parent as named, links and all: the user may reach it through one. What is deleted is
        # decided by the directory's own identity below, not by the way there.
        self._parent = os.open(parent or os.curdir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            self._fd = os.open(name, removal.DIRECTORY_FLAGS, dir_fd=self._parent)
        except OSError as exc:
            if exc.errno in _GONE:  # gone, a file, or a link now
                raise _changed(path) from None
            raise
        held = os.fstat(self._fd)
        witnessed = _witness_at(self._fd, self.checked.witness) if self.checked.witness else None
        if not self._matches(held, witnessed):
            raise _changed(path)
        self._name = name
        root = confined.Root(path, self._fd, held)  # borrowed: closed by _close
        if self.claimed and not proof.holds_mark(root, self.token, self.claimed):  # read back through the descriptor
            raise _changed(path)
        if self.tag is None:
            return
        self._tree = removal.scanned(self._fd, path, self._last)  # the one walk, before anything changes
        if self.token and not self.claimed:  # through the descriptor compared: into that directory and no other
            proof.write_mark(root, self.token, self.tag)
        doomed = self._doomed(path)
        try:
            os.rename(name, doomed, src_dir_fd=self._parent, dst_dir_fd=self._parent)
        except OSError as exc:  # a mount point, say: deleted in place, what the descriptor reaches
            return self._unmoved(exc)
        try:
            moved = os.stat(doomed, dir_fd=self._parent, follow_symlinks=False)
        except OSError:
            moved = None
        if moved is None or fileid.identity(moved) != fileid.identity(held):
            # Swapped between the comparison and the rename: not ours; put back unless something took its name meanwhile
            if moved is not None and not _exists(name, self._parent):
                os.rename(doomed, name, src_dir_fd=self._parent, dst_dir_fd=self._parent)
            self._unmark()
            raise _changed(path)
        self._name, self.path = doomed, os.path.join(parent, doomed)

    def _by_path(self) -> None:  # pragma: no cover - Windows
        path = self.checked.path

        def current(where: str):  # None: gone, or a link now
            try:
                if fileid.is_link(where):
                    return None
                st = os.lstat(where)
            except OSError:
                return None
            witness = self.checked.witness
            witnessed = None
            if witness is not None:
                try:
                    inner = os.path.join(where, witness)
                    witnessed = None if fileid.is_link(inner) else fileid.identity(os.lstat(inner))
                except OSError:
                    pass
            return st, witnessed

        now = current(path)
        if now is None or not self._matches(*now):
            raise _changed(path)
        if self.claimed and not proof.holds_mark(path, self.token, self.claimed):
            raise _changed(path)
        if self.tag is None:
            return
        treewalk.refuse_deeper(path, path)
        if self.token and not self.claimed:
            proof.write_mark(path, self.token, self.tag)
        doomed = os.path.join(os.path.dirname(path), self._doomed(path))
        try:
            os.rename(path, doomed)
        except OSError as exc:  # e.g. a file in it is open: deleted in place, as far as possible
            return self._unmoved(exc)
        moved = current(doomed)
        if moved is None or not self._matches(*moved):
            if moved is not None and not os.path.lexists(path):
                os.rename(doomed, path)
            self._unmark()
            raise _changed(path)
        self.path = doomed

    def _unmoved(self, exc: OSError) -> None:
        if self.kept:
            self._unmark()
            raise exc

    def _doomed(self, path: str) -> str:
        """The set-aside's name, the one the run's intent says (settle.py checks it so)."""
        return os.path.basename(tempname.set_aside(path, self.token, self.tag))

    def _unmark(self) -> None:
        """The directory is not set aside after all: the mark written for it goes."""
        if not self.token or self.tag is None or self.claimed:  # no mark was written
            return
        where = self.checked.path if self._fd is None else confined.Root(self.checked.path, self._fd, os.fstat(self._fd))
        proof.drop_mark(where, self.tag)  # by path on Windows

    @proof.rule("mark")
    def delete(self, tally=None) -> None:
        """Delete it all: by the descriptor held since the comparison, then its name, if still that directory. A mount
        point or a depth refused here came since the set-aside: the run's intent keeps it (environment/settle.py)."""
        if self._fd is None:  # pragma: no cover - Windows
            confined.remove_named(self.path, tally, last=self._last)
            return
        removal.remove_contents(self._fd, tally, self.checked.path, self._last, self._tree)
        try:
            now = os.stat(self._name, dir_fd=self._parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if fileid.identity(now) == fileid.identity(os.fstat(self._fd)):
            removal.remove_dir(self._name, self._parent)


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
