"""What a path is, whatever its name: a link or not, which file (device and inode), and whether it
lies inside a directory; the checks an act on a place makes just before it acts."""

import os
import sys

from mambaboot.common.files import confined


def is_link(path: str) -> bool:
    """A symlink, or on Windows a junction: both must be unlinked, never descended into."""
    isjunction = getattr(os.path, "isjunction", None)  # Python 3.12+
    if isjunction is not None:
        return os.path.islink(path) or isjunction(path)
    try:
        return confined.is_link(os.lstat(path))
    except OSError:
        return False


def ours(st: os.stat_result) -> bool:
    """A file of this user's (Windows: no owner in a stat, every file)."""
    geteuid = getattr(os, "geteuid", None)  # Windows: no owner in a stat
    return geteuid is None or st.st_uid == geteuid()


def identity(st: os.stat_result) -> tuple:
    """What a file is, whatever its name: (st_dev, st_ino). os.stat fills both on Windows too
    (from the file's handle); a directory listing's stat does not there (see LISTING_HAS_LINKS)."""
    return (st.st_dev, st.st_ino)


def within(path: str, directory: str) -> bool:
    """path, its links resolved, is directory or lies under it: compared by identity, ancestor by
    ancestor, so neither a link, nor another spelling, nor a bind mount of directory escapes."""
    try:
        target = identity(os.stat(directory))
    except OSError:
        return False
    here, below = os.path.realpath(path), None
    while here != below:  # up to the top, its own dirname
        try:
            if identity(os.stat(here)) == target:
                return True
        except OSError:  # a part that does not exist yet (the file to be written)
            pass
        here, below = os.path.dirname(here), here
    return False


# On Windows a listing's stat has st_nlink, st_ino and st_dev set to zero (CPython's
# documentation of os.DirEntry.stat: "Call os.stat() to get these attributes"), so a file's
# other hard links (the package cache's) are invisible there unless the file itself is lstat'ed.
LISTING_HAS_LINKS = sys.platform != "win32"


def entry_lstat(entry: "os.DirEntry[str]") -> os.stat_result:
    """A listed entry's lstat with its link count and identity: the listing's own where it has
    them (POSIX: one lstat, cached by the entry), else the file's."""
    return entry.stat(follow_symlinks=False) if LISTING_HAS_LINKS else os.lstat(entry.path)
