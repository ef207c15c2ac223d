"""Directories a run makes: which ones it made, said by identity, so that it takes back only
those, and only while they are empty and still the ones it made."""

import errno
import os
import stat

from mambaboot.common.files.confined import NOT_FOR_OTHERS
from mambaboot.common.files import proof
from mambaboot.common.files.fileid import identity


def make_dirs(path: str) -> list:
    """os.makedirs(path, exist_ok=True), saying which directories it made: [(path, (st_dev,
    st_ino))], outermost first, for remove_empty_dirs to take back what a run made."""
    missing, here = [], os.path.abspath(path)
    while not os.path.isdir(here) and here not in missing:  # the top's dirname is itself
        missing.append(here)
        here = os.path.dirname(here)
    made = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o777 & ~NOT_FOR_OTHERS)
        except FileExistsError:
            if not os.path.isdir(directory):  # a file (or a link) where a directory must be: say that
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory) from None
            continue  # another run made it: not ours to take back
        made.append((directory, identity(os.lstat(directory))))
    return made


@proof.rule("nothing lost")
def remove_empty_dirs(made: list) -> None:
    """Remove, innermost first, the directories make_dirs made that are empty now and still the
    ones it made (checked by identity just before: rmdir removes nothing but an empty directory,
    and never follows a link); stops at the first that stays."""
    for directory, expected in reversed(made):
        try:
            st = os.lstat(directory)
            if identity(st) != expected or not stat.S_ISDIR(st.st_mode):
                return
            os.rmdir(directory)
        except OSError:
            return
