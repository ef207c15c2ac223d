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

    _note(url.partition("//")[2].partition("/")[0])
    try:
        parts = urlsplit(url)
        _ = (parts.hostname, parts.port)  # each may raise ValueError for what urlsplit let through
    except ValueError as exc:
        return None, f"is not a URL urllib can read ({exc})"
    host = parts.hostname or ""
    try:
        # as the socket layer reads a host before it resolves it (socket.getaddrinfo encodes a str
        # with the "idna" codec; http.client's Host header too): an empty part between dots, or
        # one of 64 characters or more, is a UnicodeError there, after the run has begun
        host.encode("idna")
    except UnicodeError:
        return None, (f"is not a URL urllib can read (its host {host!r} has an empty part between dots, or one "
                      "longer than 63 characters)")
    return parts, None


def _plain_host(authority: str) -> bool:
    """Whether an ASCII authority's host passes the "idna" codec's check of an ASCII name
    (encodings/idna.py, Codec.encode: each part but a last empty one 1-63 characters)."""
    labels = authority.rpartition("@")[2].split(".")
    return all(0 < len(label) < 64 for label in labels[:-1]) and len(labels[-1]) < 64


def unreadable(url: str) -> str | None:
    """Why url is not a URL at all (None: it is one, of any scheme): a channel, a proxy or an
    alias handed on, which the rule of downloads does not apply to. An ASCII URL whose
    authority (after the first "//", up to "/", "?" or "#") holds no '[', ']' or ':' is one
    without urllib.parse (what urlsplit refuses is in the authority: brackets, a port, a
    non-ASCII character): a create's channels are read before its engine starts."""
    authority = url.replace("\t", "").replace("\r", "").replace("\n", "").partition("//")[2]  # urlsplit drops those
    for end in "/?#":
        authority = authority.partition(end)[0]
    _note(authority)
    if url.isascii() and not any(c in authority for c in "[]:") and _plain_host(authority):
        return None
    return split(url)[1]


HIDDEN = "***"
# The password of every URL read so far: a message may hold one
# where no "://" precedes it (http.client's "nonnumeric port: 'PASSWORD@host'", an engine's echo
# of the same), and each is masked wherever it appears. One of fewer than 4 characters is masked
# only inside a URL: anywhere, it would mask every such word of every line.
_SECRETS: set = set()
SHORTEST = 4


def _note(authority: str) -> None:
    userinfo, at, _ = authority.rpartition("@")
    if at:
        password = userinfo.partition(":")[2]  # a user alone is a name, shown by masked() only in a URL
        if len(password) >= SHORTEST:
            _SECRETS.add(password)
_AUTHORITY_ENDS = "/?#'\"<> \t\r\n\\"


def masked(text: str, *, drop: bool = False) -> str:
    """Redact a URL for people and files: text with each URL's userinfo (`user:password@`, a token
    as the user) and anaconda.org token (`/t/<token>`) written as *** (drop: removed, as conda's
    `conda list --explicit` writes a URL: conda/common/url.py remove_auth, split_anaconda_token),
    a URL urllib cannot read included. What every message, JSON document and written lock holds.
    Without a regular expression: every line said passes here, `run`'s start-up too."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    if "://" not in text:
        return text
    text = _tokens_hidden(text, "" if drop else "/t/" + HIDDEN)
    if "@" not in text:
        return text
    out, i = [], 0
    while True:
        start = text.find("://", i)
        if start < 0:
            return "".join(out) + text[i:]
        start += 3
        end = start
        while end < len(text) and text[end] not in _AUTHORITY_ENDS:
            end += 1
        at = text.rfind("@", start, end)
        if at < 0:
            out.append(text[i:end])
        else:
            out.append(text[i:start] + ("" if drop else HIDDEN + "@") + text[at + 1:end])
        i = end


# conda/common/url.py split_anaconda_token (conda 26.x; libmamba's util/url_manip.cpp
# split_anaconda_token the same): the token is `/t/` and the run of [a-zA-Z0-9-] after it
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_WORD_ENDS = " \t\r\n'\"<>"


def _tokens_hidden(text: str, replacement: str) -> str:
    """text with each `/t/<token>` inside a URL (after a "://" of the same word) as replacement."""
    i = text.find("/t/")
    while i >= 0:
        word_start = max(text.rfind(c, 0, i) for c in _WORD_ENDS) + 1
        end = i + 3
        while end < len(text) and text[end] in _TOKEN_CHARS:
            end += 1
        if end > i + 3 and "://" in text[word_start:i]:
            text = text[:i] + replacement + text[end:]
            end = i + len(replacement)
        i = text.find("/t/", end)
    return text


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
