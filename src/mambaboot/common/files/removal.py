"""Deleting a tree we own on POSIX: by descriptor, never through a link, halved between two
processes when it is big, counting what goes when asked.

The tree is listed once (names and types come with the listing), then its files are deleted
directory by directory, each name relative to its directory's descriptor (no path resolution
per file; a directory swapped for a link meanwhile is refused by O_NOFOLLOW, not followed).

Why two processes: an environment is thousands of files, and unlinking them is system time a
second core can share. Measured on 10k files against `rm -rf` (2 CPUs, ext4): one Python thread
unlinking is ~1.15x; two threads are ~0.95x, but with each file's lstat (the count) the
interpreter lock makes them ~1.3x; two processes, each with whole subtrees, ~1.0-1.1x with the
count. fork() is only used where it is safe: no other thread in this process (a lock another
thread holds would stay held in the child), and the child only makes system calls and leaves
with os._exit (no buffer flushed twice, no exit handler run).
"""

from __future__ import annotations  # `int | None` stays text: Python 3.9 cannot evaluate it

import errno
import marshal
import os
import stat
import sys

from mambaboot.common import quoting
from mambaboot.common.errors import CrossesMount
from mambaboot.common.files import treewalk

# POSIX: each name is removed relative to its directory's descriptor, as `rm -rf` (and
# shutil.rmtree) do: no path resolution per file, and a directory swapped for a link while we
# work is refused by O_NOFOLLOW instead of followed.
BY_DESCRIPTOR = (os.unlink in os.supports_dir_fd and os.rmdir in os.supports_dir_fd and os.scandir in os.supports_fd
                 and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY"))
DIRECTORY_FLAGS = treewalk.DIRECTORY_FLAGS


def listing(where) -> list:
    """The entries of a directory (a path, or a descriptor), the directory made writable first
    when it is read-only: its entries could not be unlinked."""
    with os.scandir(where) as found:
        entries = list(found)
    mode = stat.S_IMODE((os.fstat(where) if isinstance(where, int) else os.lstat(where)).st_mode)
    if entries and not mode & stat.S_IWRITE:
        os.chmod(where, mode | stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
    return entries


def unlink_at(name: str, fd: int | None, is_link: bool) -> None:
    """Unlink name (relative to the directory fd, or a path with fd None), made writable first
    if it refuses; never chmod a link, which would reach its target."""
    try:
        os.unlink(name, dir_fd=fd)
    except PermissionError:
        if is_link:
            raise
        os.chmod(name, stat.S_IWRITE | stat.S_IREAD, dir_fd=fd)
        os.unlink(name, dir_fd=fd)


def remove_dir(path: str, dir_fd: int | None = None) -> None:
    try:
        os.rmdir(path, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(path, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC, dir_fd=dir_fd)
        os.rmdir(path, dir_fd=dir_fd)


def unlink_quietly(path: str) -> None:
    """os.unlink(path), where a file already gone (or held open, on Windows) is no failure."""
    try:
        os.unlink(path)
    except OSError:
        pass


# What deletes each kind, by shell. cmd.exe has no rm: its own rmdir /s /q deletes a tree, rmdir an
# empty directory, del /f /q a file, read-only too (Microsoft Learn, Windows commands: rmdir, del).
# In PowerShell rmdir and del are aliases of Remove-Item, which reads no /s: its own line is
# Remove-Item -LiteralPath (no wildcard), -Recurse for a tree, -Force for a read-only or hidden file
# (Microsoft Learn, Remove-Item). POSIX: rm -rf, rm -f, rmdir (POSIX utilities rm, rmdir).
_BY_HAND = {"tree": (["rm", "-rf"], ["rmdir", "/s", "/q"], ["-Recurse", "-Force"]),
            "file": (["rm", "-f"], ["del", "/f", "/q"], ["-Force"]),
            "empty": (["rmdir"], ["rmdir"], [])}


def by_hand(path: str, what: str = "tree", windows: bool | None = None) -> str:
    """The command a user types to delete the tree (what="file": the file, "empty": the empty
    directory) at path, what nothing proves mambaboot's, or what no lock tells from a live run's:
    in backticks, each path one literal word of the shell it is typed in (quoting.advice), or
    what to do when no line can name it. windows: advice for Windows' shells (None: this host's)."""
    posix, cmd, powershell = _BY_HAND[what]
    if not (sys.platform == "win32" if windows is None else windows):
        return quoting.advice([*posix, path], False, _UNTYPABLE)
    return quoting.advice([*cmd, path], True, _UNTYPABLE,
                          powershell_argv=["Remove-Item", "-LiteralPath", path, *powershell])


_UNTYPABLE = quoting.UNTYPABLE + ": delete it with a file manager"


def _unescape_mount(field: str) -> str:
    # /proc/self/mountinfo writes space, tab, newline and backslash as \ooo (octal)
    if "\\" not in field:  # most paths: nothing to walk character by character
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points() -> frozenset:
    """Every mount point the kernel's table names (/proc/self/mountinfo, Linux), bind mounts of the
    same file system too, which st_dev cannot tell apart; empty where the kernel does not say
    (macOS: a mount there always has its own st_dev). Read once per operation, which checks all
    its directories against the same table: a mount made during a run is not what the check is
    for (a tree mounted inside before mambaboot acts is: docs/reliability.md, "Confined")."""
    try:
        with open("/proc/self/mountinfo", "rb") as f:  # a kernel file: never a fifo, never a link
            table = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return frozenset()
    # proc(5): one mount per line, ended by "\n" (the kernel escapes it, with space, tab and
    # backslash, in a path); any other character, U+0085 and U+2028 too, is part of the path
    return frozenset(_unescape_mount(fields[4]) for fields in (line.split(" ") for line in table.split("\n"))
                     if len(fields) > 4)


def mounts_below(fd: int) -> list:
    """The mount points strictly below the directory fd, by the table mount_points() reads; []
    where the kernel does not name the directory's path."""
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return []
    if not where.startswith("/") or where.endswith(" (deleted)"):
        return []
    prefix = where.rstrip("/") + "/"
    return sorted(point for point in mount_points() if point.startswith(prefix))


def refuse_mounts(fd: int, where: str) -> None:
    """CrossesMount naming the first mount point below the directory fd (where: its name, for the
    message), before anything is deleted: a tree we delete is one file system's, never another's."""
    below = mounts_below(fd)
    if below:
        raise _crosses(below[0], where)


def _crosses(mount: str, where: str) -> CrossesMount:
    return CrossesMount(f"{mount} is a mount point inside {where or 'what was to be deleted'} (another file system, or a "
                        "bind mount of a directory elsewhere); nothing was changed: unmount it first", mount)

# A directory's rmdir costs about as much wall time as a few unlinks (measured: ~365 empty
# directories take ~45 ms with `rm -rf`, 10k files ~115 ms), which the halving accounts for.
_DIRECTORY_WEIGHT = 4
# Below this, the second process costs more than it saves (fork, the child's share sent back).
SPLIT_FROM = 1500


class _Tree:
    """A directory tree as listed, in pre-order: node i's name (relative to its parent), depth,
    files [(name, is_link)], the index after its last descendant, and its subtree's weight."""

    def __init__(self, device=None) -> None:
        self.names, self.depths, self.files, self.ends, self.weights = [], [], [], [], []
        self.device = device  # the top's st_dev: a directory below on another one is a mount point

    def scan(self, fd: int, name, depth: int, where: str = "", skip: frozenset = frozenset()) -> int:
        """skip: names at this level left out (and never looked into). A stack, never a
        recursion per level; TooDeep past treewalk.MAX_DEPTH levels, before anything is deleted."""
        start = len(self.names)
        for d, rel, dfd, entries in treewalk.descend(fd, where, listing, skip):
            if self.device is None:
                self.device = os.fstat(dfd).st_dev
            elif os.fstat(dfd).st_dev != self.device:
                raise _crosses(f"{where}/{rel}" if where and rel else where or rel, where)
            self.names.append(rel.rsplit("/", 1)[-1] if rel else name)
            self.depths.append(depth + d)
            self.files.append([(e.name, e.is_symlink()) for e in entries
                               if (d or e.name not in skip) and not e.is_dir(follow_symlinks=False)])
        end = len(self.names)
        self.ends += [end] * (end - start)
        self.weights += [0] * (end - start)
        parents, on_the_way = [], []  # each node's parent; the nodes on the way to the current one
        for i in range(start, end):  # a node ends where the next one not below it begins
            while on_the_way and self.depths[on_the_way[-1]] >= self.depths[i]:
                self.ends[on_the_way.pop()] = i
            parents.append(on_the_way[-1] if on_the_way else None)
            on_the_way.append(i)
        for i in range(end - 1, start - 1, -1):  # a subtree's weight: its files' and its children's
            self.weights[i] += len(self.files[i]) + _DIRECTORY_WEIGHT
            if parents[i - start] is not None:
                self.weights[parents[i - start]] += self.weights[i]
        return start


class _Share:
    """Who deletes what: owner[i] deletes node i's files (0: this process, 1: the child); a
    node whose whole subtree has one owner is also removed by it, the others (the directories
    the halving went into) by this process once the child is done."""

    def __init__(self, tree: _Tree, split: bool) -> None:
        n = len(tree.names)
        self.owner, self.whole = [0] * n, [True] * n
        if split:
            self.whole[0] = False
            self._give(tree, 0, tree.weights[0] // 2)

    def _give(self, tree: _Tree, i: int, budget: int) -> int:
        """Give the child whole subtrees under node i, up to budget, going into a subtree only
        when it is bigger than what is left to give."""
        within = [(i, i + 1)]  # (node gone into, its next child): a stack, not a recursion per level
        while within and budget > _DIRECTORY_WEIGHT:
            node, c = within[-1]
            if c >= tree.ends[node]:
                within.pop()
                continue
            within[-1] = (node, tree.ends[c])
            if tree.weights[c] <= budget:
                for k in range(c, tree.ends[c]):
                    self.owner[k] = 1
                budget -= tree.weights[c]
            else:
                self.whole[c] = False
                within.append((c, c + 1))
        return budget

    def rest(self) -> "_Share":
        """Once both shares are done: the directories the halving went into, this process's,
        everything else gone (owned by the child, as far as this process is concerned)."""
        rest = _Share.__new__(_Share)
        rest.owner, rest.whole = [0 if not w else 1 for w in self.whole], [True] * len(self.whole)
        return rest


def scanned(top: int, where: str = "", last: tuple = (), device=None) -> _Tree:
    """The tree under the directory descriptor top as remove_contents deletes it, listed before anything changes:
    a mount point below or a tree too deep refused (where: top's name, for the message; device: the st_dev it
    must be on, else top's)."""
    refuse_mounts(top, where)
    tree = _Tree(device)
    tree.scan(top, None, 0, where, frozenset(last))
    return tree


def remove_contents(top: int, tally=None, where: str = "", last: tuple = (), tree: _Tree | None = None) -> None:
    """Delete everything under the directory descriptor top (top itself stays, for the caller
    to rmdir by its name). tally: add(lstat) for each file before it goes, and for a second
    process's share, state() of a fresh one of its type and absorb(state). A mount point below
    (where: top's name, for the message) is refused, CrossesMount, before anything is deleted.
    last: names at the top deleted after everything else, in that order, uncounted (what proves
    whose the tree is, not what it holds: cut short, what remains still proves it). tree: scanned(top, where, last)."""
    tree = tree or scanned(top, where, last)
    kept = [(name, st) for name in last for st in (lstat_at(name, top),) if st is not None]
    for name, st in kept:  # a file system mounted there is refused before anything goes, too
        if stat.S_ISDIR(st.st_mode) and st.st_dev != tree.device:
            raise _crosses(f"{where}/{name}", where)
    _remove_scanned(top, tree, tally)
    for name, st in kept:
        _remove_last(top, name, st, tree.device, last)


def lstat_at(name: str, fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove_last(top: int, name: str, st: os.stat_result, device, last: tuple) -> None:
    """A name of last: a directory among them has the files of last inside it deleted after the
    rest of it (a mark written inside what it proves)."""
    if not stat.S_ISDIR(st.st_mode):
        return unlink_at(name, top, stat.S_ISLNK(st.st_mode))
    fd = os.open(name, DIRECTORY_FLAGS, dir_fd=top)
    try:  # on the top's device: a file system mounted below is refused as anywhere in it
        remove_contents(fd, None, name, last, scanned(fd, name, last, device))
    finally:
        os.close(fd)
    remove_dir(name, top)


def _remove_scanned(top: int, tree: _Tree, tally) -> None:
    share, pid = _Share(tree, tree.weights[0] >= SPLIT_FROM and _can_fork()), None
    if not share.whole[0]:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no second process to be had: one does it all
            os.close(read_end)
            os.close(write_end)
            share = _Share(tree, False)
    if pid is None:
        return _delete(top, tree, share, 0, tally)
    if pid == 0:  # pragma: no cover - the child's lines run in the forked process
        _child(top, tree, share, type(tally)() if tally is not None else None, read_end, write_end)
    os.close(write_end)
    try:
        _delete(top, tree, share, 0, tally)
    finally:
        payload = _read_all(read_end)
        _, status = os.waitpid(pid, 0)
    failure, state = _received(payload, status)
    if failure is not None:
        raise OSError(*failure)
    if tally is not None:
        tally.absorb(state)
    _delete(top, tree, share.rest(), 0, tally, files=False)


def _child(top, tree, share, tally, read_end, write_end):  # pragma: no cover - runs in the child
    """The child's share, then one message: (None, the tally's state) or ((errno, text, name), None)."""
    try:
        os.close(read_end)
        try:
            _delete(top, tree, share, 1, tally)
            message = (None, tally.state() if tally is not None else None)
        except OSError as exc:
            message = ((exc.errno or errno.EIO, exc.strerror or str(exc), exc.filename), None)
        except BaseException as exc:
            message = ((errno.EIO, f"{type(exc).__name__}: {exc}", None), None)
        data = marshal.dumps(message)
        while data:
            data = data[os.write(write_end, data):]
    finally:
        os._exit(0)


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _received(payload: bytes, status: int):
    """(failure, state) from the child's message; a failure too when it sent none or did not exit 0."""
    try:
        failure, state = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        failure, state, status = None, None, status or -1
    if status != 0 and failure is None:
        failure = (errno.EIO, f"the second process deleting files ended with wait status {status}", None)
    return failure, state


def _delete(top: int, tree: _Tree, share: _Share, rank: int, tally, files: bool = True) -> None:
    """Delete the files of the nodes rank owns, and the subtrees it wholly owns, in pre-order
    with a stack of open directories (one per level), never entering the other's subtrees."""
    owner, whole, depths, names = share.owner, share.whole, tree.depths, tree.names
    stack = [(0, top)]
    try:
        if files and owner[0] == rank:
            _delete_files(top, tree.files[0], tally)
        i, n = 1, len(names)
        while i < n:
            while depths[stack[-1][0]] >= depths[i]:
                _leave(stack, share, rank, names, tally)
            if whole[i] and owner[i] != rank:
                i = tree.ends[i]
                continue
            fd = os.open(names[i], DIRECTORY_FLAGS, dir_fd=stack[-1][1])
            stack.append((i, fd))
            if files and owner[i] == rank:
                _delete_files(fd, tree.files[i], tally)
            i += 1
        while len(stack) > 1:
            _leave(stack, share, rank, names, tally)
    finally:
        for _, fd in stack[1:]:
            os.close(fd)


def _leave(stack, share: _Share, rank: int, names, tally) -> None:
    """Close the innermost directory; remove it when all of it was rank's."""
    j, fd = stack.pop()
    os.close(fd)
    if share.whole[j] and share.owner[j] == rank:
        _remove_dir(names[j], stack[-1][1], tally)


def _delete_files(fd: int, files, tally) -> None:
    add = tally.add if tally is not None else None
    for name, is_link in files:
        if add is not None:
            add(os.stat(name, dir_fd=fd, follow_symlinks=False))
        unlink_at(name, fd, is_link)


def _remove_dir(name: str, parent: int, tally) -> None:
    """rmdir; a directory something was put into meanwhile is emptied (and counted) first."""
    try:
        remove_dir(name, parent)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        fd = os.open(name, DIRECTORY_FLAGS, dir_fd=parent)
        try:
            late = _Tree()
            late.scan(fd, None, 0)
            _delete(fd, late, _Share(late, False), 0, tally)
        finally:
            os.close(fd)
        remove_dir(name, parent)


def _can_fork() -> bool:
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")  # not imported: no other thread was started by it
    return threading is None or threading.active_count() == 1
