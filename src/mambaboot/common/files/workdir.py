"""A run's own work directory (docs/reliability.md's state inventory), named `mambaboot-tmp-<TOKEN>-<KIND>`
(common/files/tempname.py). Its lock file beside it (`NAME.lock`, holding the token) is taken before the directory
exists and held until it is gone: a held lock is a live run. `cache clean` deletes one only when it is a directory of
the user's reached through no link, its lock free, carrying the mark (common/files/proof.py) of the token its lock and
its name hold (or empty: killed before the mark, or emptied to it); else it is named with the command that deletes it,
as git names a stale index.lock. MARKER is a note for whoever finds one, proving nothing."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common.files import confined, fileid, filelock, leftovers, proof, removal, tempname

MARKER = ".mambaboot-home"
LOCK = ".lock"
# The kind of a bootstrap script's work directory (bootstrap/*): no lock, no mark, so never proven, live or not.
BOOTSTRAP = "bootstrap"
_ACT = "made it as a work directory"


class WorkDir:
    """with WorkDir(parent, kind) as path: a new work directory of this run in parent, removed at the end. A plain
    class, not contextlib's generator: contextlib imports functools and collections, ~3 ms of create's start-up."""

    def __init__(self, parent: str, kind: str) -> None:
        self.path = os.path.join(parent, tempname.temp_name(kind=kind))

    def __enter__(self) -> str:
        # Transient: the lock file, and the parent when this run made it, go with the directory.
        self.lock = filelock.FileLock(self.path + LOCK, new=True, transient=True).__enter__()
        self.token, made = tempname.run_token(), False
        try:
            os.write(self.lock.fileno(), self.token.encode("ascii"))
            parent, name = confined.split(self.path)  # the parent, which the lock made
            with parent:
                made = parent.mkdir(name, 0o700)
                with parent.sub(name) as here:  # the mark first: killed before it, the directory is empty (rmdir takes it)
                    # unsynced: nor is its lock's token, so a power loss may leave it unproven (named: stale)
                    proof.write_mark(here, self.token, proof.HOME, sync=False)
                parent.write_new(f"{name}/{MARKER}", b"a work directory mambaboot made for one run; deleted after it\n",
                                 0o600)
        except BaseException:
            self.__exit__() if made else self.lock.__exit__()
            raise
        return self.path

    @proof.rule("mark")
    def __exit__(self, *exc) -> None:
        try:
            proof.remove_marked(self.path, self.token, _ACT, proof.HOME)
        except FileNotFoundError:
            pass
        finally:
            self.lock.__exit__()


class Stale:
    """A work directory whose run is gone: its path, its identity as it was seen (None: only its
    lock file, free, is left), and whether it proves itself ours (False: named, never deleted)."""

    def __init__(self, path: str, identity: tuple | None, proven: bool) -> None:
        self.path, self.identity, self.proven = path, identity, proven

    def unproven(self) -> tuple:
        """(why, what clears it): the words for a stale work directory that proves nothing."""
        if tempname.kind_of(os.path.basename(self.path), False) == BOOTSTRAP:
            return (f"{self.path} is a bootstrap script's work directory, left by a script that was killed or that "
                    "is still running (a bootstrap script takes no lock, so nothing tells which): it was left as it is",
                    f"delete it yourself once no bootstrap script is running: {removal.by_hand(self.path)}")
        return (f"{self.path} is named as a work directory of a mambaboot run that is gone, but nothing in it "
                "proves mambaboot made it for the token its name holds (a run killed before it wrote its mark, "
                "or another's): it was left as it is",
                f"delete it yourself when no mambaboot or bootstrap run is going: {removal.by_hand(self.path)}")


def stale(parent: str) -> list:
    """The work directories in parent (reached through no link) whose run is gone: named so, directories of the user's,
    not links, whose lock file is missing or free; and a free lock file whose directory is gone. Proven: the mark of the
    token its name and lock hold, or nothing in it (_marked). Anything else is not ours to judge."""
    try:
        root = proof.place(parent)
    except OSError:  # Escapes too: a link on the way
        return []
    found = []
    with root:
        entries = dict(root.scandir())
        for name, st in entries.items():
            if name.endswith(LOCK) and tempname.kind_of(name[:-len(LOCK)], False) and name[:-len(LOCK)] not in entries:
                if leftovers.writer_gone(root, name, st):
                    found.append(Stale(root.where(name[:-len(LOCK)]), None, True))
            elif tempname.kind_of(name, False) and stat.S_ISDIR(st.st_mode) and not confined.is_link(st) and fileid.ours(st):
                lock = entries.get(name + LOCK)  # none: a bootstrap script's (it takes none), or another's; never proven
                if lock is None or leftovers.writer_gone(root, name + LOCK, lock):
                    proven = lock is not None and _marked(root, name, fileid.identity(st))
                    found.append(Stale(root.where(name), fileid.identity(st) if proven else None, proven))
    return sorted(found, key=lambda s: s.path)


def stale_for(cache: str) -> list:
    """The work directories killed runs left in the cache's tmp and in the temporary directory (stale): where runs make
    them (a private home, a pip download's scratch, a shell's start-up files, ...)."""
    import tempfile

    return [left for parent in dict.fromkeys((os.path.join(cache, "tmp"), tempfile.gettempdir())) for left in stale(parent)]


def _marked(root: confined.Root, name: str, identity: tuple) -> bool:
    """Whether the directory name carries the mark of the token its name holds, its lock file holding it too (WorkDir
    wrote it there), or is empty (made, killed before its mark; or emptied to it: rmdir alone takes it), and is still
    the one listed."""
    token = tempname.parse_temp(name)[1]
    try:
        held = root.read_bytes(name + LOCK, 64).decode("ascii", "replace").strip()
        with root.sub(name) as here:
            return (held == token and (proof.holds_mark(here, token, proof.HOME) or proof.emptied(here))
                    and tuple(here.identity) == identity)
    except OSError:  # Escapes too
        return False


@proof.rule("free lock")
def remove_stale(found: Stale) -> bool:
    """Delete a stale work directory (and its lock file) if it still is the one stale() saw;
    False: it is not (replaced, or linked, meanwhile, or unproven), and nothing of it was deleted."""
    if not found.proven:
        return False
    if found.identity is not None:
        try:
            token = tempname.parse_temp(os.path.basename(found.path))[1]  # proven: its lock file's too
            proof.remove_marked(found.path, token, _ACT, proof.HOME, expected=found.identity)
        except proof.NotOurs:
            return False
    removal.unlink_quietly(found.path + LOCK)
    return True
