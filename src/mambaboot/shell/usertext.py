"""The user's own text (an rc file, a profile) read as it is: whatever its bytes, a text to
inspect, and whether that text can be written back to exactly those bytes.

A file is the user's, not ours: a byte-order mark, a stray byte that is not UTF-8, a UTF-16
profile cut short by a byte, or line endings of every kind are read, never refused. Only a
rewrite needs more: the text minus a removed block must become the file's own bytes minus
that block's, which holds only when decoding and encoding again gives the very bytes read.
"""

import codecs
from typing import List, NamedTuple

# UTF-8 first: its mark is three bytes, none of which starts a UTF-16 mark.
_MARKS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class Text(NamedTuple):
    text: str  # without the byte-order mark
    mark: bytes  # the byte-order mark the file starts with (b"" for none)
    encoding: str
    unwritable: str  # why encode(text) would not give back the bytes read ("" when it would)


def decode(raw: bytes) -> Text:
    """raw as text. UTF-8 (with or without its mark) keeps a byte that is not UTF-8 as a lone
    surrogate (surrogateescape), which encodes back to that byte; UTF-16 (a PowerShell profile
    saved by Windows PowerShell 5.1) that does not decode is read with replacement characters
    and cannot be written back."""
    mark, encoding = next(((m, e) for m, e in _MARKS if raw.startswith(m)), (b"", "utf-8"))
    body = raw[len(mark):]
    if encoding == "utf-8":
        return Text(body.decode("utf-8", "surrogateescape"), mark, encoding, "")
    try:
        return Text(body.decode(encoding), mark, encoding, "")
    except UnicodeDecodeError as exc:
        why = "an odd number of bytes" if len(body) % 2 else f"a byte sequence that is not UTF-16 at byte {exc.start + len(mark)}"
        return Text(body.decode(encoding, "replace"), mark, encoding, f"it is UTF-16 text with {why}")


def encode(text: str, read: Text) -> bytes:
    """text as bytes of the file read (its mark, its encoding)."""
    return read.mark + text.encode(read.encoding, "surrogateescape" if read.encoding == "utf-8" else "strict")


def lines(text: str) -> List[str]:
    """The lines as the shells see them, each with its own ending: a line ends at a newline only
    (bash, zsh, fish and tcsh read "\\r" as part of the line; str.splitlines would also split at
    "\\f", "\\x85" or "\\u2028" inside one of the user's lines and so take part of it out)."""
    parts = text.split("\n")
    found = [part + "\n" for part in parts[:-1]]
    return found + [parts[-1]] if parts[-1] else found
