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
    return Seen(path, fileid.identity(os.lstat(path)), witness, _witnessed(path, witness))


def _witnessed(path: str, witness: str | None, link: bool = True) -> tuple | None:
    """The identity of witness below path by its path (None: none; not link: a link is none either)."""
    inner = os.path.join(path, witness or "")
    try:
        return None if witness is None or not link and fileid.is_link(inner) else fileid.identity(os.lstat(inner))
    except OSError:
        return None


def _changed(path: str) -> Changed:
    return Changed(f"{path} is not the directory that was checked any more (renamed, replaced or linked "
                   "meanwhile); nothing was removed")


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

    def __init__(self, checked: Seen, tag: str | None, token: str, kept: bool = False,
                 claimed: str | None = None) -> None:
        self.checked, self.tag, self.token, self.kept, self.claimed = checked, tag, token, kept, claimed
        self.path = checked.path
        self._parent = self._fd = self._tree = self._here = None

    @proof.rule("mark")
    def __enter__(self) -> "set_aside":
        try:
            self._set_aside()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for fd in (self._fd, self._parent):
            if fd is not None:
                os.close(fd)
        self._fd = self._parent = None

    def _set_aside(self) -> None:
        path = self.checked.path
        parent, name = os.path.split(path)
        if _BY_DESCRIPTOR:
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
            self._here = confined.Root(path, self._fd, held)  # borrowed: closed by __exit__
            try:  # the witness below it, no component followed if a link
                now = held, fileid.identity(self._here.lstat(self.checked.witness)) if self.checked.witness else None
            except OSError:  # Escapes too: a link on the way
                now = held, None
        else:  # pragma: no cover - Windows: each name below is a path, no descriptor held
            name = self._here = path
            now = self._now(path)
        if now is None or not self._matches(*now) or (  # the claim read back through the descriptor compared
                self.claimed and not proof.holds_mark(self._here, self.token, self.claimed)):
            raise _changed(path)
        if self.tag is None:
            return
        if self._fd is not None:
            self._tree = removal.scanned(self._fd, path, (proof.MARK,))  # the one walk, before anything changes
        else:  # pragma: no cover - Windows
            treewalk.refuse_deeper(path, path)
        if not self.claimed:  # through the descriptor compared: into that directory and no other
            proof.write_mark(self._here, self.token, self.tag)
        doomed = tempname.set_aside(name, self.token, self.tag)  # the name the run's intent says (settle.py checks it)
        try:
            os.rename(name, doomed, src_dir_fd=self._parent, dst_dir_fd=self._parent)
        except OSError:  # a mount point, or (Windows) a file in it open: deleted in place, what the descriptor reaches
            if self.kept:
                self._unmark()
                raise
            return
        moved = self._now(doomed)
        if moved is None or not self._matches(*moved):
            # Swapped between the comparison and the rename: not ours; put back unless something took its name meanwhile
            if moved is not None and removal.lstat_at(name, self._parent) is None:
                os.rename(doomed, name, src_dir_fd=self._parent, dst_dir_fd=self._parent)
            self._unmark()
            raise _changed(path)
        self.path = os.path.join(parent, os.path.basename(doomed))

    def _now(self, name: str) -> tuple | None:
        """(lstat, the witness's identity) of name; None: gone, or (Windows) a link now. The directory held open: its
        witness is the one read through its descriptor."""
        try:
            st = os.stat(name, dir_fd=self._parent, follow_symlinks=False)
            if self._fd is not None:
                return st, self.checked.witnessed
            if fileid.is_link(name):
                return None
        except OSError:
            return None
        return st, _witnessed(name, self.checked.witness, link=False)

    def _matches(self, st: os.stat_result, witnessed) -> bool:
        return stat.S_ISDIR(st.st_mode) and fileid.identity(st) == self.checked.directory and witnessed == self.checked.witnessed

    def _unmark(self) -> None:
        """The directory is not set aside after all: the mark written for it goes."""
        if not self.claimed:  # else no mark was written
            proof.drop_mark(self._here, self.tag)  # by path on Windows

    @proof.rule("mark")
    def delete(self, tally=None) -> None:
        """Delete it all: by the descriptor held since the comparison, then its name, if still that directory. A mount
        point or a depth refused here came since the set-aside: the run's intent keeps it (environment/settle.py)."""
        if self._fd is None:  # pragma: no cover - Windows
            return confined.remove_named(self.path, tally, last=(proof.MARK,))
        removal.remove_contents(self._fd, tally, self.checked.path, (proof.MARK,), self._tree)
        now = removal.lstat_at(os.path.basename(self.path), self._parent)
        if now is not None and fileid.identity(now) == fileid.identity(os.fstat(self._fd)):
            removal.remove_dir(os.path.basename(self.path), self._parent)
