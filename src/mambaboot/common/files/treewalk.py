"""Walking a tree: with a stack, never a recursion per directory level, never through a link,
and never deeper than MAX_DEPTH levels.

A tree deeper than that is refused (TooDeep, naming its first directory past the bound) before
the walk's caller acts on any of it: a package nests its files a dozen levels deep, a Python
tree with vendored node_modules a few dozen; MAX_DEPTH is far past that, and well below what
the operating system can name (a path of MAX_DEPTH one-letter directories is 512 bytes, against
PATH_MAX's 4096 on Linux and 1024 on macOS).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.errors import TooDeep

MAX_DEPTH = 256
# Windows cannot open a directory (os.open) nor list one by descriptor: there a tree is walked by path
BY_DESCRIPTOR = os.open in os.supports_dir_fd and os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")
DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def too_deep(where: str) -> TooDeep:
    return TooDeep(f"{where} is nested deeper than {MAX_DEPTH} directory levels below the environment, more than "
                   "any environment holds; mambaboot does not walk so deep a tree, and nothing was done to it: "
                   "move that tree out of the environment (or delete it) first", where)


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False) and not (getattr(entry, "is_junction", None) and entry.is_junction())
    except OSError:
        return False


def walk(top: str):
    """os.walk(top) as (directory, [subdirectory names], [other names]), top-down, each list sorted:
    a link (or a junction) is among the other names, never walked into; a directory that cannot
    be listed is passed over, as os.walk does. TooDeep past MAX_DEPTH levels, before the
    directory past it is yielded. os.walk itself recurses per level before Python 3.12."""
    pending = [(top, 0)]
    while pending:
        path, depth = pending.pop()
        try:
            with os.scandir(path) as found:
                entries = list(found)
        except OSError:
            continue
        dirs = sorted(e.name for e in entries if _is_dir(e))
        held = set(dirs)
        others = sorted(e.name for e in entries if e.name not in held)
        yield path, dirs, others
        if dirs and depth >= MAX_DEPTH:
            raise too_deep(os.path.join(path, dirs[0]))
        pending.extend((os.path.join(path, name), depth + 1) for name in reversed(dirs))


def by_directory(top: str):
    """(a directory's path ending in a separator, its entries but its directories) of top and of
    every directory below it, none walked into through a link, each listed by its descriptor
    (POSIX: BY_DESCRIPTOR), so that an entry's stat (DirEntry.stat: fstatat(dir_fd, name)) looks
    up its name alone, not its whole path from the root; valid until the next step. One
    descriptor is open at a time. For reading only (a size): not bounded in depth, as nothing is
    done to the tree; a directory that cannot be opened or listed is passed over."""
    pending = [top]
    while pending:
        where = os.path.join(pending.pop(), "")
        try:
            fd = os.open(where, DIRECTORY_FLAGS)
        except OSError:
            continue
        try:
            try:
                entries = _listed(fd)
            except OSError:
                continue
            others = []
            for entry in entries:
                if _is_dir(entry):
                    pending.append(where + entry.name)
                else:
                    others.append(entry)
            yield where, others
        finally:
            os.close(fd)


def _listed(fd: int) -> list:
    with os.scandir(fd) as found:
        return list(found)


def descend(top: int, where: str = "", listing=_listed, skip: frozenset = frozenset()):
    """(depth, relative path with '/', descriptor, its entries) of the directory top (depth 0,
    path "") and of every directory below it, in pre-order, each opened relative to its parent
    (O_NOFOLLOW: a directory swapped for a link is refused, never followed). A descriptor is
    valid until the next step. One descriptor is open per level of the current path. listing(fd):
    a directory's entries; skip: names at the top left out. where: top's name, for TooDeep."""
    entries = listing(top)
    yield 0, "", top, entries
    opened = [(top, [e.name for e in reversed(entries) if e.name not in skip and e.is_dir(follow_symlinks=False)])]
    names: list = []
    try:
        while opened:
            fd, pending = opened[-1]
            if not pending:
                opened.pop()
                if fd != top:
                    os.close(fd)
                if names:
                    names.pop()
                continue
            name = pending.pop()
            if len(opened) > MAX_DEPTH:
                raise too_deep(os.path.join(where, *names, name))
            child = os.open(name, DIRECTORY_FLAGS, dir_fd=fd)
            opened.append((child, []))
            names.append(name)
            entries = listing(child)
            opened[-1] = (child, [e.name for e in reversed(entries) if e.is_dir(follow_symlinks=False)])
            yield len(names), "/".join(names), child, entries
    finally:
        for fd, _ in opened:
            if fd != top:
                os.close(fd)


def refuse_deeper(top, where: str) -> None:
    """TooDeep when the directory top (a path, or a descriptor) holds a tree deeper than MAX_DEPTH
    levels, looked at before anything is changed; a directory that cannot be opened or listed
    is passed over (what acts on the tree meets it, and says so)."""
    if isinstance(top, str) and not BY_DESCRIPTOR:  # pragma: no cover - Windows opens no directory
        for _ in walk(top):
            pass
        return
    fd = os.open(top, DIRECTORY_FLAGS) if isinstance(top, str) else top
    try:
        for _ in descend(fd, where, _listed_or_none):
            pass
    except TooDeep:
        raise
    except OSError:
        pass
    finally:
        if fd is not top:
            os.close(fd)


def _listed_or_none(fd: int) -> list:
    try:
        return _listed(fd)
    except OSError:
        return []
