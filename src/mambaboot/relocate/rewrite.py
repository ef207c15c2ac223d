"""Rewrite the files scan.py found so that they name the environment's new directory.

- text: every spelling of the old prefix becomes the same spelling of the new one, exactly;
  then a shebang longer than the kernel reads becomes `#!/usr/bin/env NAME` (libmamba link.cpp
  replace_long_shebang, 2.8.1; conda core/portability.py replace_long_shebang: 127 on Linux,
  512 elsewhere; never on Windows);
- binary: conda's rule (binary_replace): inside each NUL-terminated string the prefix is replaced
  and the string padded with NULs to its old length; a prefix that does not fit is refused by
  check() before any file is touched, naming the file and the characters too many;
- launcher: distlib's `launcher + shebang + zip` is rebuilt with the new shebang (conda
  replace_pyzzer_entry_point_shebang), the zip kept byte for byte (its offsets are counted from
  its own start, so a longer or shorter shebang before it is fine).

Files are replaced through a new file renamed over the old one: a file hard-linked into the
package cache is never written through. Standard library only (see scan.py).
"""

import datetime
import json
import os
import re
import sys

from mambaboot.relocate import scan  # unpack: the same script (pack inlines both modules)

MAX_SHEBANG = 127 if sys.platform.startswith("linux") else 512
_SHEBANG = re.compile(rb"^(#![ ]*(/(?:\\ |[^ \n\r\t])*)(.*))$", re.M)


class Refused(Exception):
    """The move cannot be made as asked; nothing was changed. Carries the offending files."""

    def __init__(self, message, paths=()):
        super().__init__(message)
        self.paths = list(paths)


def check(findings, new):
    """Refuse, before anything changes, a new prefix that binary files have no room for."""
    size = len(new.encode("utf-8", "surrogateescape"))
    short = [(f.path, f.capacity) for f in findings if f.kind == scan.BINARY and f.capacity is not None and size > f.capacity]
    if short:
        lines = "\n".join(f"  {path}: room for {room} characters, {size - room} too many" for path, room in short)
        raise Refused(f"{new} ({size} characters) is too long for {len(short)} binary file(s) that hold the prefix "
                      f"with NUL padding:\n{lines}\nchoose a shorter path", [p for p, _ in short])


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


def shorten_shebang(data):
    """The long-shebang rule, applied to the first line only."""
    m = _SHEBANG.match(data)
    if not m or len(m.group(1)) <= MAX_SHEBANG:
        return data
    whole, executable, options = m.groups()
    name = executable.rsplit(b"/", 1)[-1]
    return b"#!/usr/bin/env " + name + options + data[len(whole):]


def _spaced_shebang(data, rx, new):
    """A #! line naming the prefix, when the new one holds a space: the kernel would split the
    interpreter's path there, so it becomes `#!/usr/bin/env NAME` (conda replace_prefix escapes
    the spaces, which replace_long_shebang then turns into exactly this)."""
    if b" " not in new.encode("utf-8", "surrogateescape") or not data.startswith(b"#!"):
        return data
    line, nl, rest = data.partition(b"\n")
    m = re.match(rb"#![ ]*(\S+)(.*)$", line, re.S)
    if not m or not rx.match(m.group(1)):
        return data
    return b"#!/usr/bin/env " + m.group(1).rsplit(b"/", 1)[-1] + m.group(2) + nl + rest


def replace_binary(data, rx, news, capacity, old_size):
    """conda's binary_replace for our prefixes: pad each NUL-terminated string back to its length.

    A string may grow into its NUL padding up to `capacity` characters per prefix (the
    installer's placeholder length) and never past the NULs that are there."""
    string = re.compile(rx.pattern + rb"[^\0]*\0+", rx.flags)

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

    out = string.sub(one, data)
    if len(out) != len(data):
        raise Refused("binary length changed")  # cannot happen: every string keeps its length
    return out


def replace_launcher(data, rx, news):
    parts = scan.launcher_parts(data)
    if parts is None:
        return data
    launcher, shebang, archive = parts
    return launcher + replace_text(shebang, rx, news) + archive


def new_content(data, finding, old, new, windows):
    rx = scan.pattern(old, windows)
    news = _pairs(old, new, windows)
    if finding.kind == scan.TEXT:
        if windows:
            return replace_text(data, rx, news)
        return shorten_shebang(replace_text(_spaced_shebang(data, rx, new), rx, news))
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
    except ValueError:
        return data
    if not isinstance(body, dict):
        return data
    body["inputs"] = dict(body.get("inputs") or {}, prefix=new)
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    body["moves"] = list(body.get("moves") or []) + [{"from": old, "to": new, "at": when}]
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def _replace_file(path, data):
    st = os.stat(path)
    tmp = f"{path}.mambaboot-move-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.chmod(tmp, st.st_mode & 0o7777)
    except OSError:
        pass
    os.replace(tmp, path)


def relocate(prefix, findings, old, new, windows):
    """Rewrite every finding in prefix from old to new; returns the relative paths changed."""
    check(findings, new)
    changed = []
    # Our record last: until it names the new place, scan.location still finds the old one, so a
    # run cut short (killed, disk full) is finished by running it again (`move X X`, unpack.py).
    for finding in sorted(findings, key=lambda f: f.kind == scan.RECORD):
        path = os.path.join(prefix, *finding.path.split("/"))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        out = new_content(data, finding, old, new, windows)
        if out != data:
            _replace_file(path, out)
            changed.append(finding.path)
    return changed
