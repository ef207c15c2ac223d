"""Rewrite the files scan.py found so that they name the environment's new directory.

- text: every spelling of the old prefix becomes the same spelling of the new one, exactly; a
  `#!` line (or the `'''exec'` lines written in its place) naming an interpreter inside the
  environment is written for the new place by the installers' rules (shebang(), below); never
  on Windows;
- binary: conda's rule (binary_replace): inside each NUL-terminated string the prefix is replaced
  and the string padded with NULs to its old length; the room each file has is measured in it
  (the installer's NUL padding, bounded by the placeholder's length where that is known) and a
  prefix that does not fit is refused by check() before any file is touched, naming the file and
  the characters too many;
- launcher: distlib's `launcher + shebang + zip` is rebuilt with the new shebang (conda
  replace_pyzzer_entry_point_shebang), the zip kept byte for byte (its offsets are counted from
  its own start, so a longer or shorter shebang before it is fine);
- link: an absolute symbolic link into the environment gets the same target at the new place.

Files are replaced through a new file renamed over the old one: a file hard-linked into the
package cache is never written through. Every directory on the way is opened without following
links (O_NOFOLLOW, relative to the directory before it): nothing is read or written through a
link, so nothing outside the environment is changed. Standard library only (see scan.py).
"""

import datetime
import errno
import json
import os
import re
import stat
import sys

from mambaboot.common.files import renameat, tempname  # unpack: the same script (pack inlines these modules)
from mambaboot.relocate import scan  # unpack: the same script (pack inlines these modules)

Refused = scan.Refused
MAX_SHEBANG = 127 if sys.platform.startswith("linux") else 512  # libmamba link.hpp, conda portability.py


def _pairs(old, new, windows):
    """{old spelling: new spelling}, in scan.spellings' forms."""
    forms = [(old, new)]
    if windows:
        forms += [(old.replace("\\", "/"), new.replace("\\", "/")),
                  (old.replace("\\", "\\\\"), new.replace("\\", "\\\\"))]
    return {o.encode("utf-8", "surrogateescape"): n.encode("utf-8", "surrogateescape") for o, n in forms}


def replace_text(data, rx, news):
    return rx.sub(lambda m: news.get(m.group(0)) or _casefold_lookup(news, m.group(0)), data)


def _casefold_lookup(news, found):
    for old, new in news.items():
        if old.lower() == found.lower():
            return new
    return found


# ------------------------------------------------------------------ #! lines


# conda's pattern of a `#!` line: the executable is the text up to the first unescaped space, the
# rest of the line its options (conda/core/portability.py SHEBANG_REGEX, 26.x; libmamba
# link.hpp shebang_regex, 2.8.1, the same).
_EXEC_FORMS = (
    # conda (generate_shebang_for_entry_point) and libmamba (link.cpp python_shebang, 2.8.1)
    (b"conda", b"'''exec' \"", b"\" \"$0\" \"$@\" #'''\n"),
    # distlib, as pip writes it (ScriptMaker._build_shebang)
    (b"distlib", b"'''exec' \"", b"\" \"$0\" \"$@\"\n' '''\n"),
)


def _interpreter(data, old):
    """(interpreter's path after old, options, end of the lines, form) when data starts with lines
    that run an interpreter inside old, in any form an installer writes:
    - `#!OLD/bin/python OPTIONS` (as the link writes the placeholder's line), form b"";
    - `#!/bin/sh` then `'''exec' "OLD/bin/python" "$0" "$@" #'''` (conda, libmamba: form
      b"conda"), or distlib's `'''exec' ... "$@"` then `' '''` (pip: form b"distlib"); text an
      older rewrite put between the quoted path and "$0" is taken as options;
    - libmamba's replace_long_shebang of a line past 127 characters whose prefix holds a space: the
      line cut at the first space, `#!/usr/bin/env ` + the last component before it + the rest
      (link.cpp, 2.8.1: `/a b/.../bin/python` becomes `#!/usr/bin/env a b/.../bin/python`).
    None otherwise (a `#!/usr/bin/env NAME` line names no prefix and stays)."""
    if not data.startswith(b"#!"):
        return None
    esc = re.escape(old)
    m = re.match(rb"#![ ]*" + esc + rb"(/[^ \t\n]*)([^\n]*)(\n|$)", data)
    if m:
        return m.group(1), m.group(2), m.end(), b""
    for form, before, after in _EXEC_FORMS:
        m = re.match(rb"#!/bin/sh\n" + re.escape(before) + esc + rb"(/[^\"\n]*)\"([^\n]*?)"
                     + re.escape(after[1:]), data)
        if m:
            return m.group(1), m.group(2), m.end(), form
    m = re.match(rb"#!/bin/sh\n'''exec' \"" + esc + rb"(/[^\"\n]*)\"([^\n]*?) \"\$0\" \"\$@\"(\n|$)", data)
    if m:
        return m.group(1), m.group(2), m.end(), b"conda"
    if b" " in old:
        cut = old.index(b" ")
        mangled = old[:cut].rsplit(b"/", 1)[-1] + old[cut:]
        m = re.match(rb"#!/usr/bin/env " + re.escape(mangled) + rb"(/[^ \t\n]*)([^\n]*)(\n|$)", data)
        if m:
            return m.group(1), m.group(2), m.end(), b""
    return None


class NeedsEnv(Refused):
    """A script written after install would have to run its interpreter through /usr/bin/env:
    which one runs would then depend on PATH."""


_SH_LIVE = (b'"', b"$", b"`", b"\\", b"\n")  # what sh interprets inside "...", and the end of the line


def sh_quoted(path):
    """path inside sh's double quotes; Refused when it holds what sh would interpret there (the
    prefix rule, common/prefixchars.py, already keeps those out of a prefix)."""
    live = [c.decode() for c in _SH_LIVE if c in path]
    if live:
        raise Refused(f"{path!r} holds {', '.join(map(repr, live))}, which sh would interpret inside \"...\"")
    return b'"' + path + b'"'


def first_lines(prefix, tail, options, kind, form=b""):
    """The first lines of a file of `kind` (scan.py) that runs PREFIX+tail with `options`:
    - `#!PREFIX/... OPTIONS` when the kernel can run it: no space in the prefix, and at most
      127 bytes on Linux (512 elsewhere: MAX_SHEBANG_LENGTH, conda/core/portability.py and
      libmamba link.hpp);
    - else, for an entry point the installer generated (it has no options): its own two lines,
      `#!/bin/sh` + `'''exec' "PREFIX/bin/python" "$0" "$@" #'''` (conda
      generate_shebang_for_entry_point, 26.x; libmamba link.cpp python_shebang, 2.8.1), or
      distlib's (`... "$@"` + `' '''`) when that is what it had: valid sh and valid Python
      before a body known to start with neither a docstring nor `from __future__`;
    - else, for a package's own file: `#!/usr/bin/env NAME OPTIONS`, options as they were (conda
      replace_long_shebang, 26.x: the environment must be active, as conda says);
    - else (a script written after install, a zipapp) NeedsEnv: /usr/bin/env would run whichever
      NAME comes first on PATH where the environment is not active.
    Options are only ever put on a `#!` line, which the kernel hands to the interpreter as one
    argument: never where a shell would read them."""
    name = tail.rsplit(b"/", 1)[-1]
    line = b"#!" + prefix + tail + options
    if b" " not in prefix and len(line) <= MAX_SHEBANG:
        return line + b"\n"
    if kind == scan.ENTRY_POINT and not options.strip():
        _, before, after = _EXEC_FORMS[1] if form == b"distlib" else _EXEC_FORMS[0]
        return b"#!/bin/sh\n" + before[:-1] + sh_quoted(prefix + tail) + after[1:]
    if kind == scan.TEXT or kind == scan.ENTRY_POINT:
        return b"#!/usr/bin/env " + name + options + b"\n"
    raise NeedsEnv(f"its #! line would become `#!/usr/bin/env {name.decode('utf-8', 'replace')}`, which runs "
                   "whatever comes first on PATH where the environment is not active")


def _text(data, old, new, rx, news, kind):
    found = _interpreter(data, old.encode("utf-8", "surrogateescape"))
    if found is None:
        return replace_text(data, rx, news)
    tail, options, end, form = found
    head = first_lines(new.encode("utf-8", "surrogateescape"), tail, options, kind, form)
    if end == len(data) and not data.endswith(b"\n"):
        head = head[:-1]  # a script of one line without its newline stays one
    return head + replace_text(data[end:], rx, news)


def replace_archive(data, old, new, rx):
    """A `#!` line + zip: the line written for the new place, the archive byte for byte (see
    scan.zip_start: readers find it from its end). Refused when the archive itself names old."""
    head = scan.archive_head(data)
    if head is None:
        raise Refused("not a #! line followed by a zip")
    if rx.search(data, len(head)):
        raise Refused("the zip after its #! line names the old place; a rewrite would break the archive")
    found = _interpreter(head, old.encode("utf-8", "surrogateescape"))
    if found is None:
        raise Refused("its #! line names the old place but runs no interpreter inside it")
    tail, options, _, _ = found
    archive = data[len(head):]
    if scan.zip_start(data) == 0:
        archive = _offsets_from_own_start(archive, len(head))
    return first_lines(new.encode("utf-8", "surrogateescape"), tail, options, scan.ARCHIVE) + archive


def _offsets_from_own_start(archive, shift):
    """The zip with its offsets counted from its own start, not the file's (python -m zipapp
    counts from the file's): zipimport takes bytes before an archive only when they are at least
    as long as its offsets say (_read_directory: arc_offset >= 0), so a shorter #! line would
    leave it unreadable. Each central directory entry's local header offset and the end record's
    directory offset go down by `shift`; the entries themselves are kept byte for byte."""
    end = archive.rfind(b"PK\x05\x06")
    size = int.from_bytes(archive[end + 12:end + 16], "little")
    out = bytearray(archive)
    pos = end - size
    while pos < end:
        if out[pos:pos + 4] != b"PK\x01\x02":
            raise Refused("its zip's central directory is not where its end record says")
        offset = int.from_bytes(out[pos + 42:pos + 46], "little")
        if offset == 0xFFFFFFFF or offset < shift:
            raise Refused("its zip's offsets cannot be counted from the archive's start (zip64, or before it)")
        out[pos + 42:pos + 46] = (offset - shift).to_bytes(4, "little")
        pos += 46 + sum(int.from_bytes(out[pos + i:pos + i + 2], "little") for i in (28, 30, 32))
    cd = int.from_bytes(out[end + 16:end + 20], "little")
    out[end + 16:end + 20] = (cd - shift).to_bytes(4, "little")
    return bytes(out)


# ------------------------------------------------------------------ binaries


def _strings(rx):
    """Each NUL-terminated string that holds the prefix, with the NULs after it."""
    return re.compile(rx.pattern + rb"[^\0]*\0+", rx.flags)


def binary_room(data, rx, capacity, old_size):
    """The longest prefix every string holding the prefix has room for: per occurrence, the NULs
    after its string (one kept to end it) shared among its occurrences, bounded by the
    placeholder's length (capacity) where it is known. None: no string ends in a NUL."""
    room = None
    for m in _strings(rx).finditer(data):
        chunk = m.group(0)
        body = chunk.rstrip(b"\0")
        count = len(rx.findall(body))
        here = old_size + (len(chunk) - len(body) - 1) // max(count, 1)
        room = here if room is None else min(room, here)
    if capacity is not None:
        room = capacity if room is None else min(room, capacity)
    return room


def replace_binary(data, rx, news, capacity, old_size):
    """conda's binary_replace for our prefixes: pad each NUL-terminated string back to its length.

    A string may grow into its NUL padding up to `capacity` characters per prefix (the
    installer's placeholder length) and never past the NULs that are there."""

    def one(m):
        chunk = m.group(0)
        body = chunk.rstrip(b"\0")
        count = len(rx.findall(body))
        new_body = replace_text(body, rx, news)
        growth = len(new_body) - len(body)
        room = len(chunk) - len(body) - 1  # keep one terminating NUL
        if capacity is not None:
            room = min(room, count * max(capacity - old_size, 0))
        if growth > room:
            raise Refused(f"a string does not fit: {body[:200]!r}")
        return new_body + b"\0" * (len(chunk) - len(new_body))

    out = _strings(rx).sub(one, data)
    if len(out) != len(data):
        raise Refused("binary length changed")  # cannot happen: every string keeps its length
    return out


def check(prefix, findings, old, new, windows):
    """Refuse, before anything changes, what cannot follow the environment: a file reached through
    a link that leaves it, a binary with no room for the new prefix (each file measured)."""
    strays = [f.path for f in findings if scan.safe_relative(f.path) != f.path]
    if strays:  # a pack's note is data from elsewhere: none of it may lead out of the environment
        raise Refused(f"not paths inside the environment: {', '.join(map(repr, strays))}", strays)
    outside = [f for f in findings if f.kind == scan.OUTSIDE]
    if outside:
        lines = "\n".join(f"  {f.path}: {f.source.split(': ', 1)[-1]}" for f in outside)
        raise Refused(f"{len(outside)} file(s) naming {old} are reached through a link that leaves the environment; "
                      f"nothing is written outside it:\n{lines}\nreplace the link by what it points to, or fix "
                      "those files yourself", [f.path for f in outside])
    big = [f.path for f in findings if f.kind == scan.TOO_BIG]
    if big:
        raise Refused(f"{len(big)} file(s) naming {old} are larger than the {scan.READ_LIMIT >> 20} MiB read of a "
                      f"file whole, and are not rewritten: {', '.join(big)}; move them out of the environment, or "
                      "fix them yourself", big)
    if windows:
        return  # conda and libmamba leave Windows binaries alone (binary_replace)
    _check_files(prefix, findings, old, new)
    size = len(new.encode("utf-8", "surrogateescape"))
    old_size = len(old.encode("utf-8", "surrogateescape"))
    rx = scan.pattern(old, windows)
    short = []
    for f in findings:
        if f.kind != scan.BINARY:
            continue
        data = read(prefix, f.path)
        room = binary_room(data, rx, f.capacity, old_size) if data is not None else None
        if room is not None and size > room:
            short.append((f.path, room))
    if short:
        lines = "\n".join(f"  {path}: room for {room} characters, {size - room} too many" for path, room in short)
        raise Refused(f"{new} ({size} characters) is too long for {len(short)} binary file(s) that hold the prefix "
                      f"with NUL padding:\n{lines}\nchoose a shorter path", [p for p, _ in short])


_CHECKED = (scan.SCRIPT, scan.ENTRY_POINT, scan.ARCHIVE, scan.ZIPPED)


def _check_files(prefix, findings, old, new):
    """Refuse the files whose new content cannot be written: a script written after install that
    would need /usr/bin/env, a zip a rewrite would break. Each named, with why."""
    refused = []
    for f in findings:
        if f.kind not in _CHECKED:
            continue
        data = read(prefix, f.path)
        if data is None:
            continue
        try:
            new_content(data, f, old, new, False)
        except Refused as exc:
            refused.append((f.path, str(exc).split(": ", 1)[-1] if str(exc).startswith(f.path + ": ") else str(exc)))
    if refused:
        lines = "\n".join(f"  {path}: {why}" for path, why in refused)
        raise Refused(f"{len(refused)} file(s) naming {old} cannot be written for {new}:\n{lines}",
                      [p for p, _ in refused])


def replace_launcher(data, rx, news):
    parts = scan.launcher_parts(data)
    if parts is None:
        return data
    launcher, bang, archive = parts
    return launcher + replace_text(bang, rx, news) + archive


def new_content(data, finding, old, new, windows):
    rx = scan.pattern(old, windows)
    news = _pairs(old, new, windows)
    if finding.kind in (scan.TEXT, scan.ENTRY_POINT, scan.SCRIPT):
        if windows:
            return replace_text(data, rx, news)
        try:
            return _text(data, old, new, rx, news, finding.kind)
        except Refused as exc:
            raise Refused(f"{finding.path}: {exc}", [finding.path]) from None
    if finding.kind == scan.ARCHIVE and not windows:
        try:
            return replace_archive(data, old, new, rx)
        except Refused as exc:
            raise Refused(f"{finding.path}: {exc}", [finding.path]) from None
    if finding.kind == scan.ZIPPED:
        raise Refused(f"{finding.path}: it holds a zip archive that names the old place; a rewrite would break "
                      "the archive's offsets and checksums", [finding.path])
    if finding.kind == scan.LAUNCHER:
        return replace_launcher(data, rx, news)
    if finding.kind == scan.RECORD:
        return moved_record(data, old, new)
    if finding.kind == scan.BINARY:
        if windows:
            return data  # conda and libmamba leave Windows binaries alone (binary_replace)
        try:
            return replace_binary(data, rx, news, finding.capacity, len(old.encode("utf-8", "surrogateescape")))
        except Refused as exc:
            raise Refused(f"{finding.path}: {exc}", [finding.path]) from None
    return data  # harmless kinds are left as they are


def moved_record(data, old, new):
    """Our record names the new place in `inputs.prefix` and lists the move; the places it moved
    through stay as they were written."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return data
    if not isinstance(body, dict):
        return data
    # a field not of the record's shape (environment/record.py) is taken as absent, never a failure
    inputs, moves = body.get("inputs"), body.get("moves")
    body["inputs"] = dict(inputs if isinstance(inputs, dict) else {}, prefix=new)
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    body["moves"] = (moves if isinstance(moves, list) else []) + [{"from": old, "to": new, "at": when}]
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


# ------------------------------------------------------------------ files, never through a link

_DIR_FD = os.open in getattr(os, "supports_dir_fd", set()) and hasattr(os, "O_NOFOLLOW")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _through_link(prefix, rel, part):
    return Refused(f"{rel}: {part} is a link; nothing is read or written through a link", [rel])


def _below(fd, prefix, parts, i):
    """An fd of the directory parts[i] in the directory fd (parts[:i] of prefix), opened without following a link."""
    try:
        return os.open(parts[i], os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=fd)
    except OSError as exc:
        if os.path.islink(os.path.join(prefix, *parts[:i + 1])):
            raise _through_link(prefix, "/".join(parts), "/".join(parts[:i + 1])) from None
        raise exc


def _parent(prefix, rel):
    """An fd of rel's directory, every directory on the way opened without following a link."""
    parts = rel.split("/")
    fd = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    try:
        for i in range(len(parts) - 1):
            nxt = _below(fd, prefix, parts, i)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_path(prefix, rel):
    """Without dir_fd (Windows): no component on the way may be a link or a junction."""
    path = prefix
    for i, part in enumerate(rel.split("/")[:-1]):
        path = os.path.join(path, part)
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or getattr(st, "st_reparse_tag", 0):
            raise _through_link(prefix, rel, "/".join(rel.split("/")[:i + 1]))


def read(prefix, rel):
    """The bytes of a regular file of the environment, or None (gone, or not a regular file)."""
    if not _DIR_FD:
        _check_path(prefix, rel)
        return scan.read_regular(os.path.join(prefix, *rel.split("/")), limit=scan.READ_LIMIT)
    try:
        fd = _parent(prefix, rel)
    except FileNotFoundError:
        return None
    try:
        return scan.read_regular(rel.rsplit("/", 1)[-1], dir_fd=fd, limit=scan.READ_LIMIT)
    finally:
        os.close(fd)


class _Files:
    """The files of one relocation, read and replaced by descriptor (POSIX).

    The directories on the way to the last file are kept open (each opened without following a
    link, below the one before it): the findings come sorted, so most files need none opened.

    A file's new text goes into a file of its own under the run's temporary name, which then
    swaps names with the file (renameat2 RENAME_EXCHANGE, renameat.py): the file's name holds
    its whole old text or its whole new text at every moment, and a file hard-linked into the
    package cache is never written through. What the swap took out, the old inode now under the
    temporary name, takes the next file's new text in turn when it is the relocation's alone: a
    regular file of the user's that owns the next file (owner and group the same), no other name
    (one link), no extended attribute (an SELinux label, an ACL), and open nowhere else (a program
    running it, a library mapped by one, a script a shell reads: a write lease, fcntl(2)
    F_SETLEASE, is granted only then, and held while it is written). Else it is deleted, as the
    rename over the file would have, and the new text gets a new file. On the benchmark's ext4 a
    new inode and the freeing of the old one (its blocks discarded) cost ~0.1-1 ms each; reused,
    a file costs a write (docs/benchmarks.md). Without the swap (another system, a file system
    that refuses the flag), each new text is a new file renamed over the file.

    A kill leaves at most one file under the temporary name: the next run holding the
    environment's lock deletes it (common/files/leftovers.py)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.root = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        self.open = []  # [(name, fd)]: the directories on the way to the last file, from the top
        self.spare = None  # (its directory's fd, its name, the identity it must have): what the last swap took out
        # only where what a swap takes out can be proven nobody else's (a write lease: Linux); elsewhere a swap and
        # the deletion after it would cost what the rename over the file costs
        self.swap = renameat.rename_with(renameat.EXCHANGE) if sys.platform.startswith("linux") else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self._drop_spare()
        finally:
            for _, fd in self.open:
                os.close(fd)
            os.close(self.root)

    def parent(self, rel):
        """An fd of rel's directory (this object's: not to be closed)."""
        parts = rel.split("/")
        kept = 0
        while kept < min(len(self.open), len(parts) - 1) and self.open[kept][0] == parts[kept]:
            kept += 1
        while len(self.open) > kept:
            os.close(self.open.pop()[1])
        fd = self.open[-1][1] if self.open else self.root
        for i in range(kept, len(parts) - 1):
            fd = _below(fd, self.prefix, parts, i)
            self.open.append((parts[i], fd))
        return fd

    def read(self, rel):
        try:
            fd = self.parent(rel)
        except FileNotFoundError:
            return None
        return scan.read_regular(rel.rsplit("/", 1)[-1], dir_fd=fd, limit=scan.READ_LIMIT)

    def replace(self, rel, data):
        at = self.parent(rel)
        name = rel.rsplit("/", 1)[-1]
        st = os.stat(name, dir_fd=at, follow_symlinks=False)
        taken = self._spare_for(st)
        if taken is not None and self._put(taken, at, name, data, st):
            return
        tmp, where = tempname.temp_name(name), os.dup(at)
        try:
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, st.st_mode & 0o7777, dir_fd=at)
        except BaseException:
            os.close(where)
            raise
        self._put((out, where, tmp, 0, False), at, name, data, st)

    def _put(self, taken, at, name, data, st):
        """The file taken (fd open for writing, its directory's own fd, its name, its size, whether it is
        what the last swap took out) holds data and takes name's place in at; False (nothing changed,
        the file deleted) when a swap cannot reach at from a spare's directory (another file system)."""
        out, where, tmp, size, spare = taken
        try:
            try:
                _write_new_text(out, data, st.st_mode, size)
            finally:
                os.close(out)
            # a swap only with the regular file that was read, still there: what took its place meanwhile (a
            # directory) is never swapped out into the temporary name; it meets the rename, which refuses a directory
            swap = self.swap if _still(at, name, st) else None
            code = swap(tmp, name, where, at) if swap is not None else errno.ENOSYS
            if code == errno.EXDEV and spare:
                _unlink_quietly(where, tmp)
                os.close(where)
                return False
            if code in renameat.RENAME_UNSUPPORTED or code == errno.ENOENT:  # ENOENT: the file went meanwhile
                if swap is not None and code != errno.ENOENT:
                    self.swap = None  # the file system refuses the flag: renamed from now on
                _rename_new_text(tmp, name, where, at)
                os.close(where)
            elif code:
                raise OSError(code, os.strerror(code), name)
            else:
                self.spare = (where, tmp, (st.st_dev, st.st_ino))
        except BaseException:
            _unlink_quietly(where, tmp)
            os.close(where)
            raise
        return True

    def _spare_for(self, st):
        """(fd open for writing, directory fd, name, size) of what the last swap took out, when it may take the
        new text of the file whose lstat is st (see the class); else None, and it is deleted."""
        if self.spare is None:
            return None
        where, tmp, identity = self.spare
        self.spare = None
        out = None
        try:
            now = os.stat(tmp, dir_fd=where, follow_symlinks=False)
            if (now.st_dev, now.st_ino) != identity:
                os.close(where)  # not what the swap put there: left as it is
                return None
            if (stat.S_ISREG(now.st_mode) and now.st_nlink == 1 and now.st_dev == st.st_dev
                    and now.st_uid == st.st_uid == os.geteuid() and now.st_gid == st.st_gid):
                out = os.open(tmp, os.O_WRONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=where)
                opened = os.fstat(out)
                if (opened.st_dev, opened.st_ino, opened.st_nlink) == (*identity, 1) and _alone(out):
                    return out, where, tmp, opened.st_size, True
        except OSError:
            pass
        if out is not None:
            os.close(out)
        _unlink_quietly(where, tmp)
        os.close(where)
        return None

    def _drop_spare(self):
        if self.spare is not None:
            where, tmp, identity = self.spare
            self.spare = None
            try:
                now = os.stat(tmp, dir_fd=where, follow_symlinks=False)
                if (now.st_dev, now.st_ino) == identity:
                    os.unlink(tmp, dir_fd=where)
            except OSError:
                pass
            finally:
                os.close(where)


def _alone(fd):
    """Whether the file open for writing at fd is open nowhere else, and no extended attribute
    rides on it: the write lease fcntl(2) grants only then (another's open, a mapping of it, a
    program running it refuse it), held until fd is closed; its breaking signalled by SIGURG,
    which no one here handles, rather than SIGIO, which would end this process."""
    try:
        if os.listxattr(fd):
            return False
    except OSError:
        pass  # a file system without them
    except AttributeError:
        return False  # no way to look
    try:
        import fcntl
        import signal

        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        return True
    except (ImportError, AttributeError, OSError):
        return False


def _still(fd, name, st):
    """Whether name in the directory fd is still a regular file with the identity st gave (a number
    freed meanwhile may come back on anything else: a directory made in the file's place)."""
    try:
        now = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def _unlink_quietly(fd, name):
    try:
        os.unlink(name, dir_fd=fd)
    except OSError:
        pass


def _replace_file(prefix, rel, data, files=None):
    """rel's content becomes data: through files (a _Files of prefix, POSIX), else a new file renamed over it."""
    if _DIR_FD:
        if files is not None:
            return files.replace(rel, data)
        with _Files(prefix) as one:
            return one.replace(rel, data)
    name = rel.rsplit("/", 1)[-1]
    tmp = tempname.temp_name(name)
    _check_path(prefix, rel)
    path = os.path.join(prefix, *rel.split("/"))
    mode = os.lstat(path).st_mode
    tmp_path = os.path.join(os.path.dirname(path), tmp)
    with open(tmp_path, "wb") as f:
        f.write(data)
    try:
        os.chmod(tmp_path, mode & 0o7777)
    except OSError:
        pass
    os.replace(tmp_path, path)


def _write_new_text(out, data, mode, size=0):
    """The file out (size bytes long) holds data, with mode. Until _Files._put gives it the file's
    place, a kill leaves it under the run's temporary name, which the next run holding the
    environment's lock deletes."""
    view, done = memoryview(data), 0
    while done < len(data):
        done += os.pwrite(out, view[done:], done)
    if size > len(data):
        os.ftruncate(out, len(data))
    try:
        os.fchmod(out, mode & 0o7777)
    except OSError:
        pass


def _rename_new_text(tmp, name, where, at):
    os.replace(tmp, name, src_dir_fd=where, dst_dir_fd=at)


def _retarget(prefix, rel, rx, news):
    """Point an absolute link into the environment at the same place in the new one."""
    name = rel.rsplit("/", 1)[-1]
    if not _DIR_FD:
        _check_path(prefix, rel)
        path = os.path.join(prefix, *rel.split("/"))
        target = os.readlink(path)
        new = os.fsdecode(replace_text(os.fsencode(target), rx, news))
        if new != target:
            os.unlink(path)
            os.symlink(new, path)
        return new != target
    fd = _parent(prefix, rel)
    try:
        try:
            target = os.readlink(name, dir_fd=fd)
        except OSError:
            return False  # gone, or not a link any more
        new = os.fsdecode(replace_text(os.fsencode(target), rx, news))
        if new == target:
            return False
        tmp = tempname.temp_name(name)
        os.symlink(new, tmp, dir_fd=fd)
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        return True
    finally:
        os.close(fd)


def relocate(prefix, findings, old, new, windows):
    """Rewrite every finding in prefix from old to new; returns the relative paths changed."""
    check(prefix, findings, old, new, windows)
    changed = []
    rx = scan.pattern(old, windows)
    news = _pairs(old, new, windows)
    files = _Files(prefix) if _DIR_FD else None
    try:
        # Our record last: until it names the new place, scan.location still finds the old one, so a
        # run cut short (killed, disk full) is finished by running it again (`move X X`, unpack.py).
        for finding in sorted(findings, key=lambda f: f.kind == scan.RECORD):
            if finding.kind == scan.LINK:
                if _retarget(prefix, finding.path, rx, news):
                    changed.append(finding.path)
                continue
            try:
                data = files.read(finding.path) if files is not None else read(prefix, finding.path)
            except scan.TooBig:
                if finding.kind in scan.HARMLESS:
                    continue  # a log or bytecode too big to read whole: left as it is, as harmless as ever
                raise Refused(f"{finding.path} grew larger than the {scan.READ_LIMIT >> 20} MiB read of a file "
                              "whole while the move ran; it was not rewritten", [finding.path]) from None
            if data is None:
                continue
            out = new_content(data, finding, old, new, windows)
            if out != data:
                _replace_file(prefix, finding.path, out, files)
                changed.append(finding.path)
    finally:
        if files is not None:
            files.close()
    return changed


def fix_shebangs(prefix, findings):
    """Write the `#!` lines of the text files found for the prefix they are in (first_lines()):
    micromamba leaves `#!/a b/bin/python` in a package's scripts, which no kernel runs. A move
    to where it is, text only; POSIX. Returns the relative paths changed."""
    return relocate(prefix, [f for f in findings if f.kind in (scan.TEXT, scan.ENTRY_POINT)], prefix, prefix, False)
