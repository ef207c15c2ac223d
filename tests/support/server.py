"""A loopback HTTP server for "release assets", with per-request fault injection.

    with AssetServer() as server:
        url = server.add_release("2.8.1-0", "linux-64", binary)
        server.faults(url_path, [Fault.status(503), Fault.truncate(100)])
        ...  # the first two GETs fail, the third is served normally

Faults never sleep: a stalled response blocks on an Event that ``stop()`` sets, so the
client's own timeout is what ends the request.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

RELEASES_PATH = "/mamba-org/micromamba-releases/releases"


@dataclass(frozen=True)
class Fault:
    """One misbehaving response; build with the class methods."""

    kind: str
    status_code: int = 200
    n_bytes: int = 0
    location: str = ""

    @classmethod
    def status(cls, code: int) -> "Fault":
        """Answer with HTTP ``code`` and a small text body."""
        return cls("status", status_code=code)

    @classmethod
    def truncate(cls, n_bytes: int) -> "Fault":
        """Announce the full Content-Length, send ``n_bytes`` of the body, close."""
        return cls("truncate", n_bytes=n_bytes)

    @classmethod
    def stall(cls) -> "Fault":
        """Send headers and a little of the body, then hang until the server stops."""
        return cls("stall")

    @classmethod
    def trickle(cls) -> "Fault":
        """Announce the full Content-Length, then send the body a byte every 10 ms: never a
        pause a per-read timeout would see, until the client gives up or the server stops."""
        return cls("trickle")

    @classmethod
    def slow_headers(cls) -> "Fault":
        """The status line, then one header a byte every 10 ms that never ends: every read sees a
        byte long before a per-read timeout, and the headers are never over."""
        return cls("slow_headers")

    @classmethod
    def endless(cls) -> "Fault":
        """No Content-Length: a body that never ends, until the client gives up or the server stops."""
        return cls("endless")

    @classmethod
    def redirect(cls, to_path: str) -> "Fault":
        """302 to ``to_path`` (a path on this server or an absolute URL)."""
        return cls("redirect", status_code=302, location=to_path)


class _Server(ThreadingHTTPServer):
    """A client that refuses our certificate (as it must, in the tests of an unknown CA) ends its
    connection in the handshake: that is kept, for the test to read, not printed as a traceback."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.handshakes_refused: list[str] = []

    def handle_error(self, request, client_address) -> None:
        import ssl
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ssl.SSLError):
            self.handshakes_refused.append(str(exc))
            return
        super().handle_error(request, client_address)


class AssetServer:
    """ThreadingHTTPServer on 127.0.0.1, port chosen by the OS, run in a daemon thread."""

    def __init__(self, tls: "ssl.SSLContext | None" = None, credentials: "tuple[str, str] | None" = None) -> None:
        self._lock = threading.Lock()
        # Basic auth, as a private channel behind a company mirror wants it: else 401.
        self._authorization = None if credentials is None else \
            "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        self.refused: list[str] = []
        self._files: dict[str, bytes] = {}
        self._faults: dict[str, collections.deque[Fault]] = {}
        self._requests: list[tuple[str, str]] = []
        self.cache_control = ""  # sent with every 200 when set, e.g. "max-age=0"
        self.not_modified = 0  # how many 304s were answered
        self._released = threading.Event()  # set by stop(): ends stalled responses
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._scheme = "http"
        if tls is not None:  # https: the handshake happens per connection, in the handler's thread
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)
            self._scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="AssetServer", daemon=True)
        self._thread.start()

    # -- lifecycle

    @property
    def handshakes_refused(self) -> list:
        """The TLS handshakes a client ended (its reason each): a client that refused the certificate."""
        return list(self._httpd.handshakes_refused)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def stop(self) -> None:
        """Release stalled responses, stop serving, close the socket. Idempotent."""
        self._released.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> "AssetServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- content

    def add(self, path: str, body: bytes) -> str:
        """Serve ``body`` at ``path``; returns its URL."""
        with self._lock:
            self._files[_normalize(path)] = bytes(body)
        return self.url + _normalize(path)

    def remove(self, path: str) -> None:
        """Stop serving ``path`` (a path or a URL on this server): it answers 404 from now on."""
        with self._lock:
            self._files.pop(_normalize(path), None)

    def add_release(self, version: str, plat: str, binary_bytes: bytes, *,
                    sha256_text: str | None = None, latest: bool = False) -> str:
        """Register micromamba-<plat> for ``version`` (e.g. "2.8.1-0") and its ``.sha256``.

        The checksum file is the bare lowercase hex digest, no newline, no file name (the
        real format); pass ``sha256_text`` to serve something else. ``latest`` also serves
        both under ``releases/latest/download/``. Returns the asset URL.
        """
        checksum = sha256_text if sha256_text is not None else hashlib.sha256(binary_bytes).hexdigest()
        dirs = [f"{RELEASES_PATH}/download/{version}"] + ([f"{RELEASES_PATH}/latest/download"] if latest else [])
        for directory in dirs:
            self.add(f"{directory}/micromamba-{plat}", binary_bytes)
            self.add(f"{directory}/micromamba-{plat}.sha256", checksum.encode("ascii"))
        return f"{self.url}{dirs[0]}/micromamba-{plat}"

    def faults(self, path: str, faults: list[Fault]) -> None:
        """Queue behaviours for the next requests to ``path`` (a path or a URL on this server)."""
        with self._lock:
            self._faults.setdefault(_normalize(path), collections.deque()).extend(faults)

    # -- observation

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def count(self, method: str, path: str) -> int:
        """How many ``method`` requests ``path`` (a path or a URL on this server) has received."""
        path = _normalize(path)
        with self._lock:
            return sum(1 for seen in self._requests if seen == (method, path))

    # -- used by the handler

    def _take(self, method: str, path: str) -> tuple[Fault | None, bytes | None]:
        with self._lock:
            self._requests.append((method, path))
            queue = self._faults.get(path)
            fault = queue.popleft() if queue else None
            return fault, self._files.get(path)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _normalize(path_or_url: str) -> str:
    """A request path without scheme, host or query string."""
    path = urlsplit(path_or_url).path
    return path if path.startswith("/") else "/" + path


def _make_handler(server: AssetServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a fault never poisons a kept-alive socket.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass  # tests inspect server.requests instead of stderr noise

        def _serve(self, *, send_body: bool) -> None:
            path = _normalize(self.path)
            if server._authorization and self.headers.get("Authorization") != server._authorization:
                server.refused.append(path)
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="channel"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            fault, body = server._take(self.command, path)
            if fault is not None:
                self._fault(fault, body or b"", send_body)
            elif body is None:
                self._text(404, "Not Found", send_body)
            elif self.headers.get("If-None-Match") == _etag(body):
                with server._lock:
                    server.not_modified += 1
                self.send_response(304)  # what a channel's CDN answers a revalidation that matches
                self.send_header("ETag", _etag(body))
                self.end_headers()
            else:
                self._headers(200, len(body), _etag(body))
                if send_body:
                    self.wfile.write(body)

        def _fault(self, fault: Fault, body: bytes, send_body: bool) -> None:
            if fault.kind == "status":
                self._text(fault.status_code, f"injected status {fault.status_code}", send_body)
            elif fault.kind == "redirect":
                location = fault.location if "://" in fault.location else server.url + _normalize(fault.location)
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif fault.kind == "truncate":
                self._headers(200, len(body))
                if send_body:
                    self.wfile.write(body[: fault.n_bytes])
                self.close_connection = True
            elif fault.kind in ("trickle", "endless"):
                self.send_response(200)
                if fault.kind == "trickle":
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                sent = 0
                try:  # until the client is gone (its connection reset) or the server stops
                    while send_body and not server._released.is_set() and (fault.kind == "endless" or sent < len(body)):
                        if fault.kind == "trickle":
                            self.wfile.write(body[sent:sent + 1])
                            self.wfile.flush()
                            sent += 1
                            server._released.wait(0.01)
                        else:
                            self.wfile.write(b"\0" * (1 << 16))
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif fault.kind == "slow_headers":
                self.close_connection = True
                try:  # until the client is gone (its connection reset) or the server stops
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    while not server._released.is_set():
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        server._released.wait(0.01)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif fault.kind == "stall":
                self._headers(200, len(body))
                if send_body:
                    self.wfile.write(body[: min(16, max(0, len(body) - 1))])
                self.wfile.flush()
                server._released.wait()
                self.close_connection = True

        def _headers(self, status: int, length: int, etag: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            if etag:
                self.send_header("ETag", etag)
            if server.cache_control:
                self.send_header("Cache-Control", server.cache_control)
            self.end_headers()

        def _text(self, status: int, text: str, send_body: bool) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if send_body:
                self.wfile.write(data)

    return Handler


# Bound and never listening, for the life of the test process: a connection to such a port is
# refused (RST), and no other process (another pytest-xdist worker's server) can take the port
# meanwhile, as it could once a socket closed.
_REFUSING: List[socket.socket] = []


def refused_url(path: str = "/") -> str:
    """An http URL on 127.0.0.1 whose port nothing listens on (connection refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _REFUSING.append(sock)
    return f"http://127.0.0.1:{sock.getsockname()[1]}{_normalize(path)}"
