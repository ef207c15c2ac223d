"""HTTP(S) downloads with a timeout, bounded retries with backoff, and whole-or-nothing files."""

import base64
import errno
import hashlib
import http.client
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Optional

from mambaboot.common import urlrule

from mambaboot.common.files import confined, removal, tempname
from mambaboot.common.errors import CertificateUntrusted, HostUnreachable, ObtainError, UsageError
from mambaboot.common.values import value

# Transient failures worth another try; anything else (404, 403, bad URL) is final.
# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
_RETRY_STATUS = frozenset((408, 425, 429, 500, 502, 503, 504))

Progress = Callable[[int, Optional[int]], None]


@value
class Policy:
    timeout: float = 30.0  # seconds per network operation (a connect, one read)
    attempts: int = 4
    backoff: float = 0.5  # seconds before the 2nd attempt; doubles each time
    max_redirects: int = 10
    # A whole download, its retries included, ends by this many seconds; and while a body is
    # read, each stretch of rate_time seconds must bring min_rate bytes a second (curl's
    # --speed-time and --speed-limit; 0: no such check): a server trickling a byte a second
    # never trips the per-read timeout. No body may be longer than max_bytes (micromamba's
    # releases are ~15 MB): an endless body without Content-Length would fill the disk.
    deadline: float = 1800.0
    min_rate: float = 1024.0
    rate_time: float = 30.0
    max_bytes: int = 256 << 20


def _policy_from_env() -> Policy:
    # Tests and slow networks tune these without new options; values are plain seconds, bytes.
    return Policy(
        timeout=_number("MAMBABOOT_HTTP_TIMEOUT", float, Policy.timeout),
        attempts=_number("MAMBABOOT_HTTP_ATTEMPTS", int, Policy.attempts, MAX_ATTEMPTS),
        backoff=_number("MAMBABOOT_HTTP_BACKOFF", float, Policy.backoff),
        deadline=_number("MAMBABOOT_HTTP_DEADLINE", float, Policy.deadline),
        min_rate=_number("MAMBABOOT_HTTP_MIN_RATE", float, Policy.min_rate, MAX_BYTES, "number of bytes a second"),
        rate_time=_number("MAMBABOOT_HTTP_RATE_TIME", float, Policy.rate_time),
        max_bytes=_number("MAMBABOOT_HTTP_MAX_BYTES", int, Policy.max_bytes, MAX_BYTES),
    )


# The largest value each setting may take: past it a number means nothing more (a day of waiting, a
# hundred tries, a terabyte), and the clocks and sockets it reaches have their own ceilings (a
# timeout too large for a timeval, a sleep too long for a timestamp: OverflowError).
MAX_SECONDS = 86400
MAX_ATTEMPTS = 100
MAX_BYTES = 1 << 40


def _number(name: str, kind, default, most: int = MAX_SECONDS, unit: str = "number of seconds"):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not (1 if kind is int else 0) <= value <= most:  # NaN and infinity too
        what = "a whole number" if kind is int else f"a {unit}"
        raise UsageError(f"{name}={raw!r} is not {what} from {1 if kind is int else 0} to {most}")
    return value


class _Clock:
    """A download's bounds over time (Policy.deadline, min_rate over rate_time) and size."""

    def __init__(self, url: str, policy: Policy) -> None:
        self.url, self.policy = url, policy
        self.ends = time.monotonic() + policy.deadline

    def left(self) -> None:
        """ObtainError once the deadline has passed: no further attempt, no further read."""
        if time.monotonic() > self.ends:
            raise self._expired()

    def _expired(self) -> ObtainError:
        return ObtainError(f"download of {urlrule.shown(self.url)} took longer than {self.policy.deadline:g} seconds "
                           "(MAMBABOOT_HTTP_DEADLINE); nothing was kept")

    def pause(self, seconds: float) -> None:
        """A backoff between attempts, never past the deadline (left() then ends the download)."""
        time.sleep(max(0.0, min(seconds, self.ends - time.monotonic())))

    def within(self, call: Callable[[], object]):
        """call()'s result (urllib's open: resolving, connecting, the TLS handshake, the status
        line and the headers), or ObtainError once the deadline passes first. Each of those reads
        waits at most the policy's timeout, but a server sending its headers a byte at a time
        never lets one wait that long, and a resolver keeps its own time: the call runs in a
        thread of its own, left behind at the deadline (a daemon: it ends with the process; a
        response it gets after that is closed by it). The wait is cut in slices, as a wait on a
        lock is not interrupted by Ctrl-C on Windows."""
        box: dict = {}
        lock, done = threading.Lock(), threading.Event()

        def run() -> None:
            try:
                got = call()
            except BaseException as exc:  # handed to the waiting thread, raised there
                with lock:
                    box["error"] = exc
            else:
                with lock:
                    if box.get("abandoned"):
                        got.close()
                    else:
                        box["value"] = got
            finally:
                done.set()

        threading.Thread(target=run, name="mambaboot-open", daemon=True).start()
        while not done.wait(max(0.0, min(0.5, self.ends - time.monotonic()))):
            if time.monotonic() >= self.ends:
                with lock:
                    if not box:
                        box["abandoned"] = True
                        raise self._expired()
                break
        if "error" in box:
            raise box["error"]
        return box["value"]

    def body(self, response, sink: Callable[[bytes], None], limit: int = 0) -> int:
        """Reads the response's body into sink, a read at a time (read1: what the socket has, so
        a trickle is seen as one), within the deadline, the rate and limit bytes (0: the
        policy's max_bytes); the bytes read."""
        policy, done = self.policy, 0
        bound = "expected of such a file" if limit else "a download may be (MAMBABOOT_HTTP_MAX_BYTES)"
        limit = min(limit or policy.max_bytes, policy.max_bytes)
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise ObtainError(f"{urlrule.shown(self.url)} is larger than the {limit} bytes {bound}: {length} bytes; nothing was kept")
        window, window_done = time.monotonic(), 0
        try:
            while True:
                chunk = response.read1(1 << 16)
                if not chunk:  # read1 says no more where the connection ended early: the length tells
                    if length and length.isdigit() and done != int(length):
                        raise _Transient(f"truncated body: got {done} of {length} bytes")
                    return done
                done += len(chunk)
                if done > limit:
                    raise ObtainError(f"{urlrule.shown(self.url)} is larger than the {limit} bytes {bound}; nothing was kept")
                sink(chunk)
                self.left()
                now = time.monotonic()
                window_done += len(chunk)
                if now - window >= policy.rate_time > 0:
                    if window_done < policy.min_rate * (now - window):
                        raise _Transient(f"slower than {policy.min_rate:g} bytes a second for {now - window:.3g} "
                                         "seconds (MAMBABOOT_HTTP_MIN_RATE, MAMBABOOT_HTTP_RATE_TIME)")
                    window, window_done = now, 0
        except (socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise _Transient(f"connection broke after {done} bytes: {type(exc).__name__}: {exc}") from None


# Where a company's inspection root is trusted: on Windows, Windows' certificate store, which both
# our downloads (Python's load_default_certs) and micromamba's (Schannel) check unless given a CA
# file; REQUESTS_CA_BUNDLE is not carried there (engine/network.py says why).
_TLS_HINT = ("the server's certificate is not trusted by Windows' certificate store, which mambaboot and micromamba "
             "check: behind a company proxy that inspects TLS, ask your administrator to deploy its root certificate "
             "there, or set ssl_verify (MAMBA_SSL_VERIFY or .condarc) to a CA file holding it, which then replaces "
             "the store for every host" if sys.platform == "win32" else
             "the server's certificate is not trusted here: behind a company proxy that inspects TLS, "
             "name its CA bundle with REQUESTS_CA_BUNDLE or ssl_verify in ~/.condarc (the guide's "
             "section on company networks lists everything that is read)")


class _Transient(Exception):
    status = 0


# What an HTTP status says to do (RFC 9110 section 15.5, 15.6; RFC 6585 section 4 for 429): a file the
# server has not; a server or a proxy on the way that refuses (a company proxy or web filter answers
# 403 or 407 for a host it blocks); a server busy or failing.
def status_hint(status: int) -> str:
    if status in (404, 410):
        return "the server has no such file: check --micromamba-version and the address (--micromamba-url, MAMBABOOT_RELEASES_URL)"
    if status in (401, 403, 407):
        return ("the server or a proxy on the way refused it, as a company proxy or web filter does for a host it blocks: "
                "ask your network's administrators to allow the host (or for the proxy's user and password, given in "
                "HTTPS_PROXY), or get micromamba from a mirror you can reach with --micromamba-url")
    if status == 429 or 500 <= status <= 599:
        return ("the server is busy or failing: try again later, or use a mirror (--micromamba-url, "
                "MAMBABOOT_RELEASES_URL)")
    return ""


# What a proxy's refusal of CONNECT says to do, in the bootstrap scripts' words: an https download through a
# proxy is a CONNECT first, and a refusal there is the proxy's status, never the server's (http.client's
# _tunnel: OSError "Tunnel connection failed: CODE REASON"; curl: exit 56 with the code in %{http_connect}).
# 403: a company web filter blocking the host or its category; 407: the proxy wants a logon (RFC 9110 15.5.4,
# 15.5.8), which a user:password in HTTPS_PROXY answers, and a Windows logon (NTLM, Negotiate) does not:
# libmamba 2.8.1 never sets CURLOPT_PROXYAUTH (download/curl.cpp).
PROXY_HINTS = {
    403: ("the proxy refused to reach that host, as a company web filter does for a host or a category it blocks: no "
          "password changes that; ask your network's administrators to allow the host, or get micromamba from a "
          "mirror you can reach with --micromamba-url"),
    407: ("the proxy asks to be logged on to: give its user and password in HTTPS_PROXY, before its host "
          "(USER:PASSWORD@HOST:PORT); if it takes only your Windows logon (NTLM or Negotiate), micromamba "
          "cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"),
}
_TUNNEL = "Tunnel connection failed: "


def _tunnel_refused(reason) -> int:
    """The status a proxy answered CONNECT with, from the OSError http.client raises for it; 0: none."""
    said = str(reason) if isinstance(reason, OSError) and getattr(reason, "errno", None) is None else ""
    code = said[len(_TUNNEL):len(_TUNNEL) + 3] if said.startswith(_TUNNEL) else ""
    return int(code) if code.isdigit() else 0


def _with_hint(message: str, status: int) -> str:
    hint = status_hint(status)
    return f"{message}\n{hint}" if hint else message


def _answered(message: str, status: int = 0) -> ObtainError:
    """The server's own answer that it will not give this file (a final HTTP status, a file:// path
    that is not there): no network fault, so what the caller can give instead (a digest) is worth
    saying; any other failure would stop the next download too. status: the HTTP one, if any."""
    failed = ObtainError(_with_hint(message, status))
    failed.answered, failed.status = True, status
    return failed


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most `limit` hops (urllib also stops loops), each one held to the rule the
    first URL met: a loopback or https URL must not hand the download to plain http elsewhere."""

    def __init__(self, limit: int, allow_http: bool):
        self.max_redirections = limit
        self.allow_http = allow_http

    def http_error_302(self, req, fp, code, msg, headers):
        # urllib reads the Location (urlparse, urljoin) before redirect_request sees it, raising
        # ValueError for one it cannot split: the server's text goes through the one check first
        location = headers.get("location") or headers.get("uri")
        reason = urlrule.unreadable(location) if location is not None else None
        if reason:
            fp.close()
            raise ObtainError(f"{urlrule.shown(req.full_url)} redirects to {urlrule.refused(location)}, which {reason}; "
                              "nothing was downloaded")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        reason = urlrule.refusal(newurl, self.allow_http, first=False)
        if reason:
            fp.close()
            raise ObtainError(f"{urlrule.shown(req.full_url)} redirects to {urlrule.shown(newurl)}, which {reason}; "
                              "nothing was downloaded")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(policy: Policy, allow_http: bool, net=None) -> urllib.request.OpenerDirector:
    """One opener for a whole download, its retries included. net: the network.Settings the
    run read already (create reads them once, for micromamba too); None: read them here."""
    # The proxy and CA micromamba is given (engine/network.py), so both reach the same hosts.
    from mambaboot.engine import network

    if net is None:
        net = network.read(os.environ, os.name == "nt")
    return urllib.request.build_opener(_CheckedRedirects(policy.max_redirects, allow_http), *network.handlers(net))


def _with_retries(url: str, attempt: Callable[[], object], policy: Policy, clock: _Clock):
    delay = policy.backoff
    last, status = "", 0
    for n in range(1, policy.attempts + 1):
        clock.left()
        try:
            return attempt()
        except _Transient as exc:
            last, status = str(exc), exc.status
            if n == policy.attempts:
                break
            clock.pause(delay)
            delay *= 2
    raise ObtainError(_with_hint(f"download of {urlrule.shown(url)} failed after {policy.attempts} attempts: {last}", status))


def _open(url: str, opener: urllib.request.OpenerDirector, policy: Policy, method: str = "GET",
          clock: "_Clock | None" = None):
    bare, userinfo = urlrule.credentials(url)
    request = urllib.request.Request(bare, headers={"User-Agent": "mambaboot"}, method=method)
    if userinfo is not None:
        # urllib sends no user and password from a URL: http.client would read `user:password@host` as
        # a host and a port, and fail saying so, password and all ("nonnumeric port: 'PASSWORD@host'").
        # Sent as curl sends them (Basic, to this host only: CURLOPT_UNRESTRICTED_AUTH off), in a header
        # no redirect carries on (urllib/request.py HTTPRedirectHandler.redirect_request copies
        # req.headers, never unredirected_hdrs)
        user, _, password = userinfo.partition(":")
        pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
        request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))
    if request.type == "file":
        _regular_file(url, request)
    try:
        return (clock or _Clock(url, policy)).within(lambda: opener.open(request, timeout=policy.timeout))
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in _RETRY_STATUS:
            again = _Transient(f"HTTP {exc.code} {exc.reason}")
            again.status = exc.code
            raise again from None
        raise _answered(f"download of {urlrule.shown(url)} failed: HTTP {exc.code} {exc.reason}", exc.code) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLError):  # another try meets the same certificate
            raise CertificateUntrusted(f"download of {urlrule.shown(url)} failed: {reason}\n{_TLS_HINT}") from None
        if isinstance(reason, FileNotFoundError):
            raise _answered(f"download of {urlrule.shown(url)} failed: {reason}") from None
        refused = _tunnel_refused(reason)
        if refused:  # the proxy's answer, the same on every try
            proxy = request.host.rpartition("@")[2]  # never a password
            hint = PROXY_HINTS.get(refused, "")
            raise ObtainError(f"download of {urlrule.shown(url)} failed: the proxy {proxy} answered HTTP {refused} to its CONNECT "
                              f"({reason})" + (f"\n{hint}" if hint else "")) from None
        if _unreachable(reason):
            # request.host: the proxy when one is used (urllib's ProxyHandler set_proxy), the URL's host otherwise
            target = urllib.parse.urlsplit(url).netloc.rpartition("@")[2]  # never a password
            host = request.host.rpartition("@")[2]
            what = target if host == target else f"the proxy {host} (for {target})"
            raise HostUnreachable(f"cannot reach {what}: {reason}; nothing was downloaded from {urlrule.shown(url)}") from None
        if isinstance(reason, (socket.timeout, TimeoutError, ConnectionError, OSError)):
            raise _Transient(f"{reason}") from None
        raise ObtainError(f"download of {urlrule.shown(url)} failed: {reason}") from None
    except (socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from None


def _regular_file(url: str, request: urllib.request.Request) -> None:
    """A file:// URL names a regular file, or ObtainError: urllib's FileHandler opens what the
    path names, and a fifo would block the download for ever (no timeout reaches a local open)."""
    import stat

    try:
        mode = os.stat(urllib.request.url2pathname(request.selector)).st_mode  # followed, as urllib opens it
    except (OSError, ValueError):
        return  # urllib says what is wrong with it
    if not stat.S_ISREG(mode):
        kind = ("a fifo" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "a socket"
                if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise ObtainError(f"{urlrule.shown(url)} names {kind}, not a regular file; nothing was downloaded")


# No connection was made at all: urllib wraps what connecting (and the TLS handshake) raised in
# URLError, and what comes after, from a connection made, bare. Offline, a host that does not
# resolve or answer fails the same way on every try, and a try can itself wait out a resolver's
# or a connect timeout, so these are not retried: the run says at once what it needed.
_NO_ROUTE = frozenset((errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.EADDRNOTAVAIL))


def _unreachable(reason) -> bool:
    return (isinstance(reason, (socket.gaierror, ConnectionRefusedError, socket.timeout, TimeoutError))
            or (isinstance(reason, OSError) and reason.errno in _NO_ROUTE))


def fetch_text(url: str, limit: int = 4096, policy: Optional[Policy] = None, allow_http: bool = False,
               net=None) -> str:
    policy = policy or _policy_from_env()
    opener = _opener(policy, allow_http, net)
    clock = _Clock(url, policy)

    def attempt() -> str:
        data = bytearray()
        with _open(url, opener, policy, clock=clock) as response:
            clock.body(response, data.extend, limit)
        return bytes(data).decode("utf-8", "replace")

    return _with_retries(url, attempt, policy, clock)


def missing(url: str, allow_http: bool = False, net=None) -> bool:
    """True when the server says url is not there (HTTP 404); any other answer or failure: False."""
    policy = _policy_from_env()
    try:
        with _open(url, _opener(policy, allow_http, net), policy, method="HEAD"):
            return False
    except ObtainError as exc:
        return getattr(exc, "status", 0) == 404
    except _Transient:
        return False


def fetch_file(
    url: str,
    dest: str,
    expected_sha256: str,
    progress: Optional[Progress] = None,
    policy: Optional[Policy] = None,
    allow_http: bool = False,
    net=None,
    mode: int = 0o600,
) -> None:
    """Download url to dest, atomically, only if its sha256 is the expected one.

    The body goes to a temporary file beside dest (made with mode) and is renamed into place
    only when it is complete and verified, so a failed, interrupted or tampered download never
    leaves a file, and a reader of dest never sees a partial one.
    """
    policy = policy or _policy_from_env()
    opener = _opener(policy, allow_http, net)
    directory = os.path.dirname(dest) or "."
    clock = _Clock(url, policy)

    def attempt() -> str:
        tmp = tempname.sibling(dest)  # what a kill leaves doctor and cache clean name (common/files/partials.py)
        with confined.Root.open(directory) as here:
            out = here.open_new(os.path.basename(tmp), mode)
        try:
            with out, _open(url, opener, policy, clock=clock) as response:
                digest = _copy(response, out, progress, clock)
                out.flush()
                os.fsync(out.fileno())
            if digest != expected_sha256:
                raise ObtainError(
                    f"{urlrule.shown(url)} does not match its published digest:\n  expected sha256 {expected_sha256}\n"
                    f"  downloaded      {digest}\nnothing was kept"
                )
            with confined.Root.open(directory) as here:
                here.rename(os.path.basename(tmp), os.path.basename(dest))
        except OSError as exc:  # network errors arrive as _Transient; this is the local disk
            removal.unlink_quietly(tmp)
            raise ObtainError(f"could not write {dest}: {exc.strerror or exc}") from None
        except BaseException:
            removal.unlink_quietly(tmp)
            raise

    _with_retries(url, attempt, policy, clock)


def _copy(response, out, progress: Optional[Progress], clock: _Clock) -> str:
    total = response.headers.get("Content-Length")
    total = int(total) if total and total.isdigit() else None
    digest = hashlib.sha256()
    got = [0]

    def sink(chunk: bytes) -> None:
        out.write(chunk)
        digest.update(chunk)
        got[0] += len(chunk)
        if progress:
            progress(got[0], total)

    clock.body(response, sink)
    return digest.hexdigest()
