"""The downloads a run was writing into the cache's stores under the temporary name (`.NAME.mambaboot-tmp-<TOKEN>`
beside its final file, in `CACHE/micromamba/*/`, `CACHE/micromamba/{versions,local}/*/` and `CACHE/zipapp/*/`). A
bootstrap script holds no lock while it downloads, so nothing tells a killed run's from one written now: none is
deleted; `doctor` and `cache clean` name each (a regular file of the user's, reached through no link) with the command
that deletes it by hand, as git names a stale index.lock. Only the stores' directories are listed."""

import stat

from mambaboot.common.files import confined, fileid, removal, tempname

ZIPAPP = "zipapp"  # the bootstrap scripts' store of mambaboot.pyz: a directory per digest
STORES = ("micromamba", ZIPAPP)
# The store's directories of key directories of notes, no binary: engine/micromamba.py `_local` (a bootstrap's too).
_NESTED = ("micromamba/versions", "micromamba/local")


def named(path: str) -> tuple:
    """(why, what clears it): the words `doctor` and `cache clean` name the download at path with."""
    return (f"{path} is a download mambaboot or a bootstrap script was writing under a temporary name "
            "(or a note beside one): a run killed mid-download left it, or one running now is writing it; "
            "it was left as it is",
            f"delete it yourself when no mambaboot or bootstrap run is going: {removal.by_hand(path, 'file')}")


def found(cache_dir: str) -> list:
    """(path, size) of every download in the cache's stores under the temporary name (in a key
    directory, reached through no link), by path."""
    out = []
    try:
        root = confined.Root.open(cache_dir)
    except OSError:
        return out
    with root:
        todo = list(STORES)
        while todo:
            rel = todo.pop()
            try:
                entries = root.scandir(rel)
            except OSError:  # Escapes too: a link on the way
                continue
            for name, st in entries:
                if stat.S_ISDIR(st.st_mode) and not confined.is_link(st):
                    if "/" not in rel or rel in _NESTED:
                        todo.append(f"{rel}/{name}")
                elif "/" in rel and tempname.kind_of(name) == "" and stat.S_ISREG(st.st_mode) and fileid.ours(st):
                    out.append((root.where(f"{rel}/{name}"), st.st_size))
    return sorted(out)
