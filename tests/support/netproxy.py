"""A company network on loopback: a test CA, a server certificate it signs, and a CONNECT proxy.

    ca = TestCA(tmp_path)                  # ca.pem, and server.pem/server.key for 127.0.0.1
    with AssetServer(tls=ca.server_context()) as server, ConnectProxy() as proxy:
        env = {"HTTPS_PROXY": proxy.url, "REQUESTS_CA_BUNDLE": str(ca.ca_pem)}

The proxy relays bytes only after a CONNECT, as corporate proxies do for https, and records
the targets it was asked for, so a test can tell "through the proxy" from "direct".
"""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import ssl
import threading
from pathlib import Path


class TestCA:
    __test__ = False  # not a pytest class

    def __init__(self, directory: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mambaboot test company CA")])
        ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_pem = directory / "ca.pem"
        self.ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.server_pem = directory / "server.pem"
        self.server_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.server_key = directory / "server.key"
        self.server_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_pem, self.server_key)
        return context


class ConnectProxy:
    """HTTP proxy on 127.0.0.1 that serves CONNECT only (anything else: 405). refuse: a status line
    (b"403 Forbidden", b"407 Proxy Authentication Required") it answers every CONNECT with, as a
    company proxy does for a blocked host or a user not logged on."""

    def __init__(self, refuse: bytes = b"") -> None:
        self.refuse = refuse
        self.targets: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ConnectProxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._listener.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target = head.split(b"\r\n", 1)[0].split(b" ")[:2]
            if method != b"CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.decode().rsplit(":", 1)
            self.targets.append(target.decode())
            if self.refuse:
                auth = b"Proxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\n" if self.refuse[:3] == b"407" else b""
                client.sendall(b"HTTP/1.1 " + self.refuse + b"\r\n" + auth + b"Content-Length: 0\r\n\r\n")
                return
            try:
                with socket.create_connection((host, int(port))) as upstream:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _relay(client, upstream, self._stop)
            except OSError:  # either side hung up mid-stream: a refused handshake, for one
                pass

    def stop(self) -> None:
        self._stop.set()
        try:  # close() alone does not wake a thread blocked in accept() on Linux
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._thread.join()

    def __enter__(self) -> "ConnectProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _relay(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    peers = {a: b, b: a}
    while not stop.is_set():
        readable, _, _ = select.select(list(peers), [], [], 1.0)
        for sock in readable:
            data = sock.recv(1 << 16)
            if not data:
                return
            peers[sock].sendall(data)
