"""Which URLs mambaboot reads and which a download may use: the one check for every URL, from the
user (an option, a channel), a variable, a config file or a server (a redirect's Location).

It never raises: urllib's own split refuses some text with ValueError (a '[' or ']' that makes
no IPv6 address: `https://[x`, `http://]x/`; a port that is not a number), and each such URL
is a reason here, said by the caller as a usage error (exit 2: the URL was given) or as a
download failure (exit 5: a server sent it).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1"))


def split(url: str):
    """(urlsplit(url), None) with its host and port read (where urllib raises, for a bad one),
    or (None, the reason urllib cannot read it): every URL mambaboot takes apart goes through here."""
    from urllib.parse import urlsplit  # with ipaddress ~3 ms: not for a create that names no URL

    try:
        parts = urlsplit(url)
        _ = (parts.hostname, parts.port)  # each may raise ValueError for what urlsplit let through
    except ValueError as exc:
        return None, f"is not a URL urllib can read ({exc})"
    return parts, None


def unreadable(url: str) -> str | None:
    """Why url is not a URL at all (None: it is one, of any scheme): a channel, a proxy or an
    alias handed on, which the rule of downloads does not apply to. An ASCII URL whose
    authority (after the first "//", up to "/", "?" or "#") holds no '[', ']' or ':' is one
    without urllib.parse (what urlsplit refuses is in the authority: brackets, a port, a
    non-ASCII character): a create's channels are read before its engine starts."""
    authority = url.replace("\t", "").replace("\r", "").replace("\n", "").partition("//")[2]  # urlsplit drops those
    for end in "/?#":
        authority = authority.partition(end)[0]
    if url.isascii() and not any(c in authority for c in "[]:"):
        return None
    return split(url)[1]


def refusal(url: str, allow_http: bool, *, first: bool = True) -> str | None:
    """Why url may not be fetched (None: it may). https always; plain http only from this
    machine (loopback) or with --allow-http; file:// only as the URL the user gave, never as
    a place a server redirects to; nothing urllib cannot read."""
    parts, wrong = split(url)
    if wrong:
        return wrong
    if parts.scheme == "https" or (parts.scheme == "file" and first):
        return None
    if parts.scheme == "http":
        if allow_http or (parts.hostname or "") in LOOPBACK:
            return None
        return "uses plain http; use https, or pass --allow-http if you trust the network"
    return "is not an https:// URL"
