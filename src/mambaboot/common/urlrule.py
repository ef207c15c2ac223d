"""Which URLs a download may use: the one rule for the first URL and for every redirect hop."""

from __future__ import annotations  # annotations stay text: no typing at start-up

# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1"))


def refusal(url: str, allow_http: bool, *, first: bool = True) -> str | None:
    """Why url may not be fetched (None: it may). https always; plain http only from this
    machine (loopback) or with --allow-http; file:// only as the URL the user gave, never as
    a place a server redirects to."""
    from urllib.parse import urlsplit  # with ipaddress ~3 ms: not for a create that names no URL

    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "file" and first):
        return None
    if parts.scheme == "http":
        if allow_http or (parts.hostname or "") in LOOPBACK:
            return None
        return "uses plain http; use https, or pass --allow-http if you trust the network"
    return "is not an https:// URL"
