"""What an adopt of a prefix changes, saved before it changes anything and put back when the adopt
does not finish, as conda rolls back a transaction: the record dir's files (bytes, owner and mode),
.condarc, conda-meta/state, the pkgs link, the root hooks. The snapshot is kept inside the place
(the record dir's `mambaboot-tmp-<TOKEN>-undo`, carrying the mark of its intent's token for the
role proof.UNDO) and read back only through that mark, by settle.py's adopt and move rows, after a
failure and a kill alike: docs/reliability.md ("Killed").
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat
import types

from mambaboot.common import shapes, untrusted, winsys
from mambaboot.common.errors import Escapes, TargetRefused
from mambaboot.common.files import confined, filerewrite, proof, tempname
from mambaboot.environment import condarc, prefixstate, record, roothook

SNAPSHOT = proof.UNDO  # the kind of an adopt's snapshot's name: the role of its mark
MANIFEST = "manifest.json"
_COPY = {"copy": shapes.required(str, rule=lambda v, p: None if _plain(v) else "is no copy's name"),
         "mode": shapes.required(int), "uid": shapes.required(int), "gid": shapes.required(int)}
_SHAPE = {
    "windows": shapes.required(bool), "had_rc": shapes.required(bool), "rc": shapes.optional(dict, None, rule=_COPY),
    "link": shapes.optional(str, None), "empty_pkgs": shapes.required(bool),
    "hooks": shapes.required(list, rule=shapes.each(shapes.required(str, rule=lambda v, p: None if _hook(v) else "is no root hook"))),
    "had_state": shapes.required(bool), "state": shapes.optional(dict, None, rule=_COPY),
    "had_record_dir": shapes.required(bool),
    "files": shapes.required(dict, rule=shapes.each(shapes.optional(dict, None, rule=_COPY))),
}


def _hook(rel: str) -> bool:
    """Whether rel is one of what roothook.missing() lists (a root hook file, or a directory of them)."""
    return rel in roothook.DIRECTORIES or rel in roothook.render(False) or rel in roothook.render(True)


class Kept:
    """A file's bytes and the stat fields put back with them (filerewrite.write_copy's `read`)."""

    def __init__(self, data: bytes, mode: int, uid: int, gid: int) -> None:
        self.data = data
        self.stat = os.stat_result((mode, 0, 0, 1, uid, gid, len(data), 0, 0, 0))


class Snapshot(types.SimpleNamespace):
    """What adopt may change in prefix, as it was (the fields of _SHAPE; rc, state, files: what each file held)."""


def take(prefix: str, windows: bool) -> Snapshot:
    """What adopting prefix may change, read now (each file bounded as every reader of it is)."""
    with confined.Root.open(prefix) as root:
        link = root.readlink("pkgs") if _kind(root, "pkgs") == stat.S_IFLNK else None
        had_record_dir = _kind(root, record.RECORD_DIR) == stat.S_IFDIR
        return Snapshot(
            windows=windows, had_rc=root.exists(condarc.FILE), rc=_regular(root, condarc.FILE), link=link,
            empty_pkgs=link is None and _kind(root, "pkgs") == stat.S_IFDIR and not root.listdir("pkgs"),
            hooks=roothook.missing(prefix, windows), had_state=root.exists(prefixstate.STATE_FILE),
            state=_regular(root, prefixstate.STATE_FILE), had_record_dir=had_record_dir,
            files=_record_dir_files(root) if had_record_dir else {})


def where(token: str) -> str:
    """The saved snapshot of the adopt holding token, relative to the prefix, in its record dir (with "/")."""
    return f"{record.RECORD_DIR}/{tempname.saved_name(token, SNAPSHOT)}"


def save(prefix: str, token: str, snap: Snapshot) -> None:
    """Write snap inside prefix, marked for token: its mark first (a kill meanwhile leaves what
    drop() takes by it), each copy, then the manifest, synced, last."""
    import json

    rel = where(token)
    with confined.Root.open(prefix) as root:
        root.makedirs(record.RECORD_DIR)
        root.mkdir(rel, 0o700)
        with root.sub(rel) as here:
            proof.write_mark(here, token, proof.UNDO)
            copies = {"rc": _save(here, "rc", snap.rc), "state": _save(here, "state", snap.state),
                      "files": {name: _save(here, f"r{i}", kept) for i, (name, kept) in enumerate(sorted(snap.files.items()))}}
            manifest = {**vars(snap), "hooks": list(snap.hooks), **copies}
            here.write_replace(MANIFEST, json.dumps(manifest, sort_keys=True).encode("utf-8", "surrogateescape"), 0o600)


def load(prefix: str, token) -> Snapshot | None:
    """The snapshot the adopt holding token saved in prefix, read back through its mark; None when
    there is none (not saved yet, or put back and dropped already). TargetRefused: a directory of
    that name that does not prove itself, or a manifest not of its shape: nothing is put back."""
    if not proof.is_token(token):
        return None
    rel = where(token)
    try:
        with confined.Root.open(prefix) as root, root.sub(rel) as here:
            if not proof.holds_mark(here, token, proof.UNDO):
                raise proof.refused(root.where(rel), "saved what an adopt changes there")
            data = untrusted.json(here.read_bytes(MANIFEST, untrusted.SMALL), here.where(MANIFEST))
            found = shapes.check(data, _SHAPE, here.where(MANIFEST), "an adopt's snapshot")
            if any(not _plain(name) for name in found["files"]):
                raise TargetRefused(f"{here.where(MANIFEST)} names a file outside the record dir; nothing was put back")
            return Snapshot(**{**found, "rc": _load(here, found["rc"]), "state": _load(here, found["state"]),
                               "files": {name: _load(here, kept) for name, kept in found["files"].items()}})
    except (FileNotFoundError, NotADirectoryError, Escapes):
        return None


def restore(prefix: str, snap: Snapshot) -> list:
    """Put back what adopting prefix changed as snap says it was, and only that: conda-meta/state
    and .condarc only while each is exactly what adopt made of it (a file changed since, by the
    environment's own `conda env config vars set` or a line appended, is the user's: kept, and
    named in what is returned). Each step does nothing when done already, so a put-back cut short
    is done again whole by the next run."""
    state_path = os.path.join(prefix, *prefixstate.STATE_FILE.split("/"))
    kept = []
    with confined.Root.open(prefix) as root:
        roothook.take_back(prefix, snap.hooks)
        if snap.had_record_dir:
            _put_back_record_dir(root, snap.files)
        was = snap.state.data if snap.state is not None else None
        now = getattr(_regular(root, prefixstate.STATE_FILE), "data", None)
        if now != was and not (snap.had_state and was is None):  # else as it was, or unreadable then: left
            if now is None or now != prefixstate.written(was):
                kept.append(state_path)
            elif was is None:
                root.unlink(prefixstate.STATE_FILE)
            else:
                filerewrite.write_copy(state_path, snap.state)  # its bytes, owner and mode as they were
        if not (snap.had_rc and snap.rc is None) and not condarc.take_back(prefix, snap.rc.data if snap.rc else None):
            kept.append(os.path.join(prefix, condarc.FILE))
        if _kind(root, "pkgs") == stat.S_IFLNK and root.readlink("pkgs") != snap.link:
            root.unlink("pkgs")
            if snap.link is not None:
                winsys.link_directory(snap.link, os.path.join(prefix, "pkgs"), snap.windows)
            elif snap.empty_pkgs:
                root.mkdir("pkgs")
        if not snap.had_record_dir and _kind(root, record.RECORD_DIR) == stat.S_IFDIR:
            root.remove_tree(record.RECORD_DIR)  # the snapshot with it, last
    return kept


def drop(prefix: str, token) -> None:
    """The saved snapshot deleted through its mark (the adopt finished, or was put back)."""
    path = os.path.join(prefix, *where(token).split("/")) if proof.is_token(token) else None
    if path is not None and os.path.lexists(path):
        proof.remove_marked(path, token, "saved what an adopt changes there", proof.UNDO)


def files_saved(prefix: str) -> list:
    """The paths of the files of every snapshot in prefix (an adopt's under way: not the environment's own size)."""
    top = os.path.join(prefix, record.RECORD_DIR)
    try:
        # parse_temp: (None, TOKEN, SNAPSHOT) for a snapshot of any run
        saved = [os.path.join(top, n) for n in os.listdir(top) if (tempname.parse_temp(n) or ("",))[0::2] == (None, SNAPSHOT)]
        return [os.path.join(d, n) for d in saved if not os.path.islink(d) for n in os.listdir(d)]
    except OSError:
        return []


def _plain(name) -> bool:
    """A name of one entry in a directory (no separator, no parent)."""
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _save(here: confined.Root, name: str, kept) -> dict | None:
    if kept is None:
        return None
    here.write_replace(name, kept.data, 0o600)
    return {"copy": name, "mode": stat.S_IMODE(kept.stat.st_mode), "uid": kept.stat.st_uid, "gid": kept.stat.st_gid}


def _load(here: confined.Root, found: dict | None) -> Kept | None:
    if found is None:
        return None
    data = filerewrite.Read(here.where(found["copy"]), untrusted.RECORD).data  # bounded as the file's own reader
    return Kept(data, found["mode"], found["uid"], found["gid"])


def _kind(root: confined.Root, rel: str) -> int | None:
    try:
        return stat.S_IFMT(root.lstat(rel).st_mode)
    except (OSError, Escapes):
        return None


def _regular(root: confined.Root, rel: str) -> filerewrite.Read | None:
    """rel's bytes and stat, or None (a link: never followed, a directory, unreadable, too big)."""
    try:  # bounded as every reader of these files is: one bigger is refused by its own reader before adopt changes it
        return filerewrite.Read(root.where(rel), untrusted.RECORD)
    except OSError:
        return None


def _record_dir_files(root: confined.Root) -> dict:
    """name -> Kept of each regular file in the record dir (None: another kind, left)."""
    found = {}
    for name, st in root.scandir(record.RECORD_DIR):
        found[name] = _regular(root, f"{record.RECORD_DIR}/{name}") if stat.S_ISREG(st.st_mode) else None
    return found


def _put_back_record_dir(root: confined.Root, before: dict) -> None:
    """The record dir as it was: each regular file there before has its bytes, owner and mode again,
    each regular file adopt added is deleted; nothing else is touched (the snapshot, a directory)."""
    if _kind(root, record.RECORD_DIR) != stat.S_IFDIR:
        return
    now = _record_dir_files(root)
    for name in {**before, **now}:
        was, read, rel = before.get(name), now.get(name), f"{record.RECORD_DIR}/{name}"
        if name not in before and read is not None:
            root.unlink(rel)
        elif was is not None and (read is None or read.data != was.data or stat.S_IMODE(read.stat.st_mode) != was.stat.st_mode):
            filerewrite.write_copy(root.where(rel), was)
