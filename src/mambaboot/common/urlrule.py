"""Which URLs mambaboot reads and which a download may use: the one check for every URL, from the
user (an option, a channel), a variable, a config file or a server (a redirect's Location).

It never raises: urllib's own split refuses some text with ValueError (a '[' or ']' that makes
no IPv6 address: `https://[x`, `http://]x/`; a port that is not a number), and each such URL
is a reason here, said by the caller as a usage error (exit 2: the URL was given) or as a
download failure (exit 5: a server sent it).

And how a URL is written where it leaves: for a person (`shown`: a message, -v, --json) with its
password and token hidden, for others' locks (`without_auth`) without them. Each is given the URL
itself, where it is written, and reads it as a URL: no other text is searched for a password's
value, which a word, a digest's digits or a folder's name may also be.
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
        if "@" in url.partition("//")[2]:
            # urllib's words quote the authority, a password in it ("netloc 'me:pw@hóst' contains
            # invalid characters", "Port could not be cast to integer value as 'pw'"): not repeated
            return None, ("is not a URL urllib can read (its words are not repeated: they may quote a password; a "
                          "'/', '?', '#' or '@' in a user or password is written %2F, %3F, %23 or %40)")
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
    if url.isascii() and not any(c in authority for c in "[]:") and _plain_host(authority):
        return None
    return split(url)[1]


HIDDEN = "***"
# An anaconda.org token as libmamba's CondaURL reads one (libmamba/src/specs/conda_url.cpp, 2.8.1,
# token_and_prefix_len, is_token): the path's first segment after `/t/`, two or more letters, digits
# or "-", its first two also "_" (an anaconda.org user's name can hold one)
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


def _authority(url: str, ends: str, proxy: bool) -> tuple[int, int]:
    """(start, end) of url's authority: after a scheme's "://" (RFC 3986, 3.1: a letter, then
    letters, digits, "+", "-", "."), up to the first character of ends; (0, 0) when url has none.
    proxy: read as urllib's ProxyHandler reads a proxy (urllib/request.py _parse_proxy): without
    a scheme, `user:password@host:port`, all of it the authority; with one, the authority ends at
    the first "/" after an "@"."""
    scheme, sep, _ = url.partition("://")
    if sep and scheme[:1].isalpha() and all(c in _SCHEME_CHARS for c in scheme):
        start = len(scheme) + 3
    elif proxy:
        return 0, len(url)
    else:
        return 0, 0
    if proxy:
        end = url.find("/", max(start, url.find("@", start)))
        return start, len(url) if end < 0 else end
    end = min((i for i in (url.find(c, start) for c in ends) if i >= 0), default=len(url))
    return start, end


def _redacted(url: str, ends: str, userinfo: str, token: str, proxy: bool = False) -> str:
    start, end = _authority(url, ends, proxy)
    if end == 0:
        return url
    at = url.rfind("@", start, end)
    head = url[:start] + (userinfo + url[at + 1:end] if at >= 0 else url[start:end])
    rest = url[end:]
    if rest.startswith("/t/"):
        segment = rest[3:].partition("/")[0]
        if (len(segment) >= 2 and all(c in _TOKEN_CHARS or c == "_" for c in segment[:2])
                and all(c in _TOKEN_CHARS for c in segment[2:])):
            rest = token + rest[3 + len(segment):]
    return head + rest


def shown(url: str, *, proxy: bool = False) -> str:
    """url as a person sees it (a message, -v, --json): its userinfo (`user:password@`, a token as
    the user) written `***@` and an anaconda.org token `/t/***`; every other character as it is. The
    userinfo is what precedes the last "@" before the first "/" after "//", so that a password
    holding an unescaped "?" or "#" is hidden whole too; proxy: as urllib reads a proxy (_authority).
    What is not a URL (a channel's name, a path) is returned as it is: only a value that is a URL
    is passed here, at the point it is written."""
    return _redacted(url, "/", HIDDEN + "@", "/t/" + HIDDEN, proxy)


def shown_in_words(line: str) -> str:
    """A line of words, some of them URLs (a pip requirements line: `--index-url URL`,
    `--extra-index-url=URL`, `NAME @ URL`, `git+https://...`), with each URL shown(): a URL is
    the word's text from its scheme, up to the next whitespace, at which pip splits a line
    (pip/_internal/req/req_file.py: break_args_options, then a shell-like split of the options)."""
    out, i = [], 0
    while True:
        found = line.find("://", i)
        if found < 0:
            return "".join(out) + line[i:]
        start, end = found, found + 3
        while start > i and line[start - 1] in _SCHEME_CHARS:
            start -= 1
        while end < len(line) and not line[end].isspace():
            end += 1
        out.append(line[i:start] + shown(line[start:end]))
        i = end


def shown_fields(data):
    """data (dicts, lists and tuples, as a JSON document holds them) with each string under a key
    `url`, at any depth, shown(): a lock's entries, a pip package's source."""
    if isinstance(data, dict):
        return {k: shown(v) if k == "url" and isinstance(v, str) else shown_fields(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(shown_fields(v) for v in data)
    return data


def without_auth(url: str) -> str:
    """url as `conda list --explicit` writes it into a lock handed to others: without its
    userinfo and its anaconda.org token (conda/common/url.py remove_auth, split_anaconda_token;
    the token where libmamba's CondaURL has it), the authority RFC 3986's (up to "/", "?" or "#",
    as urllib.parse.urlsplit reads it); every other character as it is."""
    return _redacted(url, "/?#", "", "")


def credentials(url: str) -> tuple[str, str | None]:
    """(url without its userinfo, the userinfo without its "@", or None): what a download sends
    to the host, and the user and password it sends apart (the token, in the path, stays)."""
    start, end = _authority(url, "/?#", False)
    at = url.rfind("@", start, end)
    if at < 0:
        return url, None
    return url[:start] + url[at + 1:], url[start:at]


def refused(url: str) -> str:
    """url, quoted, as a refusal names it (`'URL' is not ...`). A refused URL may have no structure
    to go by (`http://me:pa/ss@proxy`: a password's unescaped "/" ends the authority early), so all
    that precedes its last "@" after its "//" (or, with no "//", from its start) is hidden."""
    start, _ = _authority(url, "/", True)
    at = url.rfind("@", start)
    return repr(shown(url[:start] + HIDDEN + url[at:] if at >= 0 else url, proxy=True))


def refusal(url: str, allow_http: bool, *, first: bool = True) -> str | None:
    """Why url may not be fetched (None: it may). https always; plain http only from this
    machine (loopback) or with --allow-http; file:// only as the URL the user gave, never as
    a place a server redirects to; nothing urllib cannot read; no user and password in a place a
    server redirects to (the first URL's go to its own host only: engine/download.py)."""
    parts, wrong = split(url)
    if wrong:
        return wrong
    if "@" in parts.netloc and not first:
        return "names a user and password, which a redirect does not carry"
    if parts.scheme == "https" or (parts.scheme == "file" and first):
        return None
    if parts.scheme == "http":
        if allow_http or (parts.hostname or "") in LOOPBACK:
            return None
        return "uses plain http; use https, or pass --allow-http if you trust the network"
    return "is not an https:// URL"
