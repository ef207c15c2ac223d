"""Downloads against a loopback server that misbehaves on purpose."""

import errno
import hashlib
import os
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mambaboot.common.errors import HostUnreachable, ObtainError
from mambaboot.engine import download
from tests.support.server import AssetServer, Fault, refused_url

BODY = os.urandom(300_000)
DIGEST = hashlib.sha256(BODY).hexdigest()
FAST = download.Policy(timeout=0.5, attempts=3, backoff=0.01)


@pytest.fixture
def server():
    with AssetServer() as s:
        s.add("/asset", BODY)
        yield s


def _fetch(server, tmp_path, path="/asset", digest=DIGEST, policy=FAST):
    dest = tmp_path / "out"
    download.fetch_file(server.url + path, str(dest), digest, policy=policy)
    return dest


def _leftovers(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("fault", [Fault.status(500), Fault.status(503), Fault.truncate(1000), Fault.stall()],
                         ids=["500", "503", "truncated", "stalled"])
def test_transient_failures_are_retried_then_succeed(server, tmp_path, fault, reliability):
    server.faults("/asset", [fault, fault])
    ok = _fetch(server, tmp_path).read_bytes() == BODY
    ok = ok and server.count("GET", "/asset") == 3 and _leftovers(tmp_path) == ["out"]
    reliability.record("network fault cases handled", ok)
    assert ok


def test_retries_are_bounded_and_leave_nothing(server, tmp_path, reliability):
    server.faults("/asset", [Fault.status(503)] * 5)
    with pytest.raises(ObtainError, match="after 3 attempts: HTTP 503"):
        _fetch(server, tmp_path)
    assert server.count("GET", "/asset") == 3
    assert _leftovers(tmp_path) == []
    reliability.record("network fault cases handled", True)


def test_not_found_is_final_at_once(server, tmp_path, reliability):
    with pytest.raises(ObtainError, match="HTTP 404"):
        _fetch(server, tmp_path, path="/missing")
    assert server.count("GET", "/missing") == 1
    assert _leftovers(tmp_path) == []
    reliability.record("network fault cases handled", True)


def test_redirect_chain_is_followed(server, tmp_path, reliability):
    server.add("/hop2", b"")
    server.faults("/hop1", [Fault.redirect("/hop2")])
    server.faults("/hop2", [Fault.redirect("/asset")])
    assert _fetch(server, tmp_path, path="/hop1").read_bytes() == BODY
    reliability.record("network fault cases handled", True)


def test_digest_mismatch_keeps_nothing_and_is_not_retried(server, tmp_path, reliability):
    with pytest.raises(ObtainError, match="does not match"):
        _fetch(server, tmp_path, digest="0" * 64)
    assert server.count("GET", "/asset") == 1
    assert _leftovers(tmp_path) == []
    reliability.record("network fault cases handled", True)


def _no_retry(monkeypatch):
    monkeypatch.setattr(download.time, "sleep", lambda seconds: pytest.fail("retried a connection never made"))


def test_connection_refused_is_final_at_once(tmp_path, reliability, monkeypatch):
    _no_retry(monkeypatch)
    dest = tmp_path / "out"
    url = refused_url("/x")
    with pytest.raises(HostUnreachable, match=f"^cannot reach {url.split('/')[2]}: .*Connection refused; nothing was "
                                              f"downloaded from {url}$"):
        download.fetch_file(url, str(dest), DIGEST, policy=FAST)
    assert _leftovers(tmp_path) == []
    reliability.record("network fault cases handled", True)


@pytest.mark.parametrize("failure", [socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
                                     OSError(errno.ENETUNREACH, "Network is unreachable"),
                                     OSError(errno.EHOSTUNREACH, "No route to host"), TimeoutError("timed out")],
                         ids=["no-name", "no-network", "no-route", "connect-timeout"])
def test_no_connection_at_all_is_final_at_once(failure, monkeypatch):
    """What connecting raises offline (the name does not resolve, no route, no answer): the same
    on every try, and a try can wait out a resolver's or a connect timeout first."""
    _no_retry(monkeypatch)

    def connect(*args, **kwargs):
        raise failure

    monkeypatch.setattr(socket, "create_connection", connect)
    for name in ("http_proxy", "https_proxy", "all_proxy"):  # urllib's own opener reads them: none here
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with pytest.raises(HostUnreachable, match="^cannot reach releases.example: "):
        download.fetch_text("https://releases.example/x.sha256", policy=FAST)


def test_a_connection_that_breaks_is_still_retried(server, tmp_path):
    server.faults("/asset", [Fault.truncate(1000)])
    assert _fetch(server, tmp_path).read_bytes() == BODY


def test_fetch_text_reads_small_files_and_refuses_big_ones(server):
    server.add("/small", b"abc\n")
    assert download.fetch_text(server.url + "/small", policy=FAST) == "abc\n"
    with pytest.raises(ObtainError, match="larger"):
        download.fetch_text(server.url + "/asset", limit=100, policy=FAST)


@pytest.mark.parametrize("name, value", [("MAMBABOOT_HTTP_TIMEOUT", "soon"), ("MAMBABOOT_HTTP_ATTEMPTS", "0"),
                                         ("MAMBABOOT_HTTP_BACKOFF", "nan"), ("MAMBABOOT_HTTP_ATTEMPTS", "2.5"),
                                         ("MAMBABOOT_HTTP_DEADLINE", "inf"), ("MAMBABOOT_HTTP_MIN_RATE", "-1"),
                                         ("MAMBABOOT_HTTP_RATE_TIME", "x"), ("MAMBABOOT_HTTP_MAX_BYTES", "0")])
def test_a_bad_download_setting_is_a_usage_error(monkeypatch, name, value):
    from mambaboot.common.errors import UsageError

    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=name):
        download._policy_from_env()


@settings(max_examples=500, derandomize=True, database=None)
@given(st.lists(st.sampled_from(list("ab:/[]?#@%. 1\t\r\n\x00") + ["//", "://", "https://", "\uff03", "file:"]),
                max_size=14).map("".join))
def test_the_check_of_a_url_without_urllib_says_what_urllib_says(url):
    """urlrule.unreadable answers most URLs without importing urllib.parse (a create's channels
    are read before its engine starts): never otherwise than urlsplit, its host and its port."""
    from mambaboot.common import urlrule

    assert urlrule.unreadable(url) == urlrule.split(url)[1]
