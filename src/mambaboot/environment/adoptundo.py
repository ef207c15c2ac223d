"""What an adopt of a prefix may change (_files(), the pkgs link, the root hooks), saved inside the place before it
changes anything (the record dir's `mambaboot-tmp-<TOKEN>-undo`, marked for its intent's token, role proof.UNDO) and
put back, read only through that mark, as conda rolls back a transaction: docs/reliability.md ("Killed")."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import hashlib
import json
import os
import stat
import types

from mambaboot.common import shapes, untrusted, winsys
from mambaboot.common.errors import Escapes, TargetRefused
from mambaboot.common.files import confined, filerewrite, proof, tempname
from mambaboot.environment import condarc, prefixstate, record, roothook

SNAPSHOT = proof.UNDO  # the kind of an adopt's snapshot's name: the role of its mark
MANIFEST = "manifest.json"
Snapshot = types.SimpleNamespace  # what adopt may change in prefix, as it was (the fields of _SHAPE; files: _files())
# The user's files: each put back only while it holds, byte for byte, what this adopt wrote there (wrote: their digests)
_USERS = (prefixstate.STATE_FILE, condarc.FILE)
_COPY = {"copy": shapes.required(str, rule=lambda v, p: None if _plain(v) else "is no copy's name"),
         "mode": shapes.required(int), "uid": shapes.required(int), "gid": shapes.required(int)}
_SHAPE = {
    "windows": shapes.required(bool), "link": shapes.optional(str, None), "empty_pkgs": shapes.required(bool),
    "hooks": shapes.required(list, rule=shapes.each(shapes.required(str, rule=lambda v, p: None if _hook(v) else "is no root hook"))),
    "files": shapes.required(dict, rule=shapes.each(shapes.optional(dict, None, rule=_COPY))),
    "wrote": shapes.optional(dict, rule=shapes.each(shapes.required(str))),
}


def _hook(rel: str) -> bool:
    """Whether rel is one of what roothook.missing() lists (a root hook file, or a directory of them)."""
    return rel in roothook.DIRECTORIES or rel in roothook.render(False) or rel in roothook.render(True)


def take(prefix: str, windows: bool) -> Snapshot:
    """What adopting prefix may change, read now (each file bounded as every reader of it is)."""
    with confined.Root.open(prefix) as root:
        link = root.readlink("pkgs") if _kind(root, "pkgs") == stat.S_IFLNK else None
        return Snapshot(windows=windows, link=link, hooks=roothook.missing(prefix, windows), files=_files(root), wrote={},
                        empty_pkgs=link is None and _kind(root, "pkgs") == stat.S_IFDIR and not root.listdir("pkgs"))


def where(token: str) -> str:
    """The saved snapshot of the adopt holding token, relative to the prefix, in its record dir (with "/")."""
    return f"{record.RECORD_DIR}/{tempname.temp_name(None, SNAPSHOT, token)}"


def save(prefix: str, token: str, snap: Snapshot, path: str = "", data: bytes = b"") -> None:
    """Write snap inside prefix, marked for token: the mark first (what drop() takes it by), the copies, the manifest last.
    path: adopt is to write data there (one of _USERS): the manifest again with data's digest, as a journal, ahead."""
    with confined.Root.open(prefix) as root:
        if not path:
            root.makedirs(record.RECORD_DIR)
            root.mkdir(where(token), 0o700)
        with root.sub(where(token)) as here:
            if path:
                snap.wrote[path] = hashlib.sha256(data).hexdigest()
            else:
                proof.write_mark(here, token, proof.UNDO)
                snap.files = {rel: read and _save(here, f"c{i}", read) for i, (rel, read) in enumerate(sorted(snap.files.items()))}
            manifest = json.dumps({**vars(snap), "hooks": list(snap.hooks)}, sort_keys=True)  # files: the copies now
            here.write_replace(MANIFEST, manifest.encode("utf-8", "surrogateescape"), 0o600)


def load(prefix: str, token) -> Snapshot | None:
    """The snapshot the adopt holding token saved in prefix, read back through its mark; None when
    there is none (not saved yet, or put back and dropped already). TargetRefused: a directory of
    that name that does not prove itself, or a manifest not of its shape: nothing is put back."""
    if not proof.is_token(token):
        return None
    try:
        with confined.Root.open(prefix) as root, root.sub(where(token)) as here:
            if proof.emptied(here):  # made, killed before its mark; or emptied as it was dropped: nothing to put back
                return None
            if not proof.holds_mark(here, token, proof.UNDO):
                raise proof.refused(here.path, "saved what an adopt changes there")
            data = untrusted.json(here.read_bytes(MANIFEST, untrusted.SMALL), here.where(MANIFEST))
            found = shapes.check(data, _SHAPE, here.where(MANIFEST), "an adopt's snapshot")
            if not all(map(_adopts, found["files"])):
                raise TargetRefused(f"{here.where(MANIFEST)} names a file adopt does not change; nothing was put back")
            return Snapshot(**{"wrote": {}, **found, "files": {path: copy and _load(here, copy) for path, copy in found["files"].items()}})
    except (FileNotFoundError, NotADirectoryError, Escapes):
        return None


@proof.rule("mark")
def restore(prefix: str, snap: Snapshot, token: str) -> list:
    """Put back what adopting prefix changed as snap says it was, and only that (docs/reliability.md, "Killed"): one of
    _USERS changed since this adopt wrote it is the user's, kept and named in what is returned; the snapshot (token's)
    left for its drop, the record dir itself for the rmdir of the row after (settle.py). Each step does nothing when
    done already, so a put-back cut short is done again whole by the next run."""
    kept, saved = [], where(token)
    with confined.Root.open(prefix) as root:
        roothook.take_back(prefix, snap.hooks)
        now = _files(root)
        for path in sorted({**snap.files, **now}.keys() - {*_USERS, record.RECORD_DIR, saved}):
            was, read = snap.files.get(path), now.get(path)
            if path not in snap.files and read is not None:  # adopt added it
                root.unlink(path)
            elif was is not None and (read is None or read.data != was.data
                                      or stat.S_IMODE(read.stat.st_mode) != was.stat.st_mode):
                filerewrite.write_copy(root.where(path), was)
        for path in _USERS:
            was, data = snap.files.get(path, False), getattr(now.get(path), "data", None)  # False: not there then
            if was is None or data == getattr(was, "data", None):
                continue  # not read then (left), or as it was
            if data is None or hashlib.sha256(data).hexdigest() != snap.wrote.get(path):  # changed since: the user's
                kept.append(root.where(path))
            elif was is False:
                root.unlink(path)
            else:
                filerewrite.write_copy(root.where(path), was)  # its bytes, owner and mode as they were
        if _kind(root, "pkgs") == stat.S_IFLNK and root.readlink("pkgs") != snap.link:
            root.unlink("pkgs")
            if snap.link is not None:
                winsys.link_directory(snap.link, os.path.join(prefix, "pkgs"), snap.windows)
            elif snap.empty_pkgs:
                root.mkdir("pkgs")
    return kept


def drop(prefix: str, token) -> None:
    """The saved snapshot deleted through its mark (the adopt finished, or was put back)."""
    if proof.is_token(token) and os.path.lexists(path := os.path.join(prefix, *where(token).split("/"))):
        proof.remove_marked(path, token, "saved what an adopt changes there", proof.UNDO)


def _plain(name) -> bool:
    """A name of one entry in a directory (no separator, no parent)."""
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _adopts(path: str) -> bool:
    """Whether path (read from a manifest) is one _files() lists, none outside these."""
    top, _, name = path.partition("/")
    return path in (*_USERS, record.RECORD_DIR) or (top == record.RECORD_DIR and _plain(name))


def _save(here: confined.Root, name: str, kept) -> dict:
    here.write_replace(name, kept.data, 0o600)
    return {"copy": name, "mode": stat.S_IMODE(kept.stat.st_mode), "uid": kept.stat.st_uid, "gid": kept.stat.st_gid}


def _load(here: confined.Root, found: dict) -> types.SimpleNamespace:
    """A copy's bytes with the stat fields put back with them (filerewrite.write_copy's `read`)."""
    data = filerewrite.Read(here.where(found["copy"]), untrusted.RECORD).data  # bounded as the file's own reader
    fields = (found["mode"], 0, 0, 1, found["uid"], found["gid"], len(data), 0, 0, 0)
    return types.SimpleNamespace(data=data, stat=os.stat_result(fields))


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


def _files(root: confined.Root) -> dict:
    """Each file adopt may change that is there now: its Read, or None when it is not read and so
    left (_regular); the record dir itself, when it is a directory: None."""
    found = {path: _regular(root, path) for path in _USERS if _kind(root, path) is not None}
    if _kind(root, record.RECORD_DIR) == stat.S_IFDIR:
        found[record.RECORD_DIR] = None
        for name in root.listdir(record.RECORD_DIR):
            found[f"{record.RECORD_DIR}/{name}"] = _regular(root, f"{record.RECORD_DIR}/{name}")
    return found
