"""The downloads a run was writing into the cache's stores under the temporary name: a
micromamba binary (engine/download.py), micromamba or mambaboot.pyz (the
bootstrap scripts, under no lock at all), and the notes beside them (`sha256`, `version`): each
`.NAME.mambaboot-tmp-<TOKEN>` (common/files/tempname.py) beside its final file, in
`CACHE/micromamba/*/`, `CACHE/micromamba/{versions,local}/*/` and `CACHE/zipapp/*/`.

A run killed mid-download leaves one, and nothing tells it from one a bootstrap script running
now is writing: a script holds no lock while it downloads. So none is ever deleted: `doctor` and
`cache clean` name each (a regular file of the user's, reached through no link), with the
command that deletes it by hand when no mambaboot or bootstrap run is going, as git names a
stale index.lock. Only the stores' directories are listed: `cache info` and `doctor` start fast.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.errors import Escapes
from mambaboot.common.files import confined, fileid, removal, tempname

STORES = ("micromamba", "zipapp")
# The store's directories that hold the key directories of notes, not a binary of their own
# (engine/micromamba.py `_local`; the bootstrap scripts' copy of a local micromamba).
_NESTED = ("versions", "local")


class Partial:
    """A download found under the temporary name: its path and size."""

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size

    def named(self) -> tuple:
        """(why, what clears it): the words `doctor` and `cache clean` name it with."""
        return (f"{self.path} is a download mambaboot or a bootstrap script was writing under a temporary name "
                "(or a note beside one): a run killed mid-download left it, or one running now is writing it; "
                "it was left as it is",
                "delete it yourself when no mambaboot or bootstrap run is going: "
                f"`{removal.by_hand(self.path, tree=False)}`")


def _download(name: str) -> bool:
    found = tempname.parse_temp(name)
    return found is not None and found[0] is not None and found[2] is None


def _directories(root: confined.Root, rel: str) -> list:
    """The directories in rel (reached through no link), and rel's entries: ([subdirectory], [(name, lstat)])."""
    try:
        entries = root.scandir(rel)
    except (OSError, Escapes):
        return [], []
    return [f"{rel}/{n}" for n, st in entries if stat.S_ISDIR(st.st_mode) and not confined.is_link(st)], entries


def found(cache_dir: str) -> list:
    """Every Partial in the cache's stores, by path."""
    try:
        root = confined.Root.open(cache_dir)
    except OSError:
        return []
    out = []
    with root:
        for store in STORES:
            keys, _ = _directories(root, store)
            for key in keys:
                below, entries = _directories(root, key)
                if store == "micromamba" and key.rsplit("/", 1)[1] in _NESTED:
                    for nested in below:
                        out += _partials(root, nested, _directories(root, nested)[1])
                out += _partials(root, key, entries)
    return sorted(out, key=lambda p: p.path)


def _partials(root: confined.Root, rel: str, entries: list) -> list:
    return [Partial(root.where(f"{rel}/{n}"), st.st_size) for n, st in entries
            if _download(n) and stat.S_ISREG(st.st_mode) and fileid.ours(st)]
