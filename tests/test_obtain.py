"""Obtaining micromamba: the cache is keyed, verified on use, and repaired when corrupted."""

import hashlib
import os
import sys
from urllib.parse import urlsplit

import pytest

from mambaboot.common.files import fsops
from mambaboot.common.errors import ObtainError
from mambaboot.common.host import current
from mambaboot.engine import micromamba
from mambaboot.pipeline.plan import PINNED_MICROMAMBA, CreateInputs, make_plan


def _source(server, **inputs):
    env = {"HOME": "/nonexistent", "MAMBABOOT_RELEASES_URL": server.releases_base}
    host = current().__class__(environ=env, windows=False, subdir=current().subdir, cwd="/")
    return make_plan(host, CreateInputs(**inputs)).micromamba


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_corrupted_cached_binary_is_detected_and_replaced(release_server, tmp_path, fault_standin):
    source = _source(release_server)
    first = micromamba.obtain(source, str(tmp_path), os.environ)
    assert first.downloaded and first.version == "2.8.1"
    with open(first.path, "ab") as f:
        f.write(b"tampered")
    again = micromamba.obtain(source, str(tmp_path), os.environ)
    assert again.downloaded, "a binary whose hash no longer matches must be fetched again"
    assert open(again.path, "rb").read() == fault_standin.read_bytes()


def _tamper_keeping_size_and_mtime(path):
    """Same length, the mtime put back: what only the ctime (and the content) still tells."""
    st = os.stat(path)
    data = bytearray(open(path, "rb").read())
    assert data[-1:] == b"\n"
    data[-1:] = b" "  # the stand-in still runs
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns


def test_a_verified_binary_is_hashed_again_once_anything_about_it_changes(release_server, tmp_path, fault_standin):
    """The digest of a cached or given binary is remembered with its stat (not hashed on every
    create); a change the size and mtime hide is still seen."""
    source = _source(release_server)
    first = micromamba.obtain(source, str(tmp_path), os.environ)
    assert not micromamba.obtain(source, str(tmp_path), os.environ).downloaded
    memo = os.path.join(os.path.dirname(first.path), "verified")
    assert open(memo).read().split()[-1] == first.sha256
    _tamper_keeping_size_and_mtime(first.path)
    again = micromamba.obtain(source, str(tmp_path), os.environ)
    assert again.downloaded and open(again.path, "rb").read() == fault_standin.read_bytes()

    given = tmp_path / "mine" / "micromamba"
    given.parent.mkdir()
    given.write_bytes(fault_standin.read_bytes())
    given.chmod(0o755)
    local = _source(release_server, micromamba=str(given))
    assert micromamba.obtain(local, str(tmp_path), os.environ).sha256 == first.sha256
    assert micromamba.obtain(local, str(tmp_path), os.environ).sha256 == first.sha256  # from the memo
    _tamper_keeping_size_and_mtime(given)
    assert micromamba.obtain(local, str(tmp_path), os.environ).sha256 == hashlib.sha256(given.read_bytes()).hexdigest()


def test_the_key_of_a_path_is_hashlib_s_sha256_with_or_without_the_interpreter_s_own(monkeypatch):
    """fsops.sha256_hex (path keys, a moving source's cache key, activate.sh's identity) uses the
    interpreter's own sha256 rather than load OpenSSL, and hashlib where there is none."""
    data = "/tmp/ké x\udcff".encode("utf-8", "surrogateescape")
    assert fsops.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    monkeypatch.setitem(sys.modules, "_sha2", None)  # importing a None entry raises ImportError
    monkeypatch.setitem(sys.modules, "_sha256", None)
    assert fsops.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert fsops.path_key("/a/b") == hashlib.sha256(os.path.normcase(os.path.abspath("/a/b")).encode()).hexdigest()[:32]


def test_missing_published_digest_is_refused_unless_given(release_server, tmp_path, fault_standin):
    release_server.remove(release_server.asset_url + ".sha256")
    with pytest.raises(ObtainError, match="--micromamba-sha256"):
        micromamba.obtain(_source(release_server), str(tmp_path), os.environ)
    assert [f for f in _files(tmp_path) if not f.endswith(".lock")] == []
    digest = hashlib.sha256(fault_standin.read_bytes()).hexdigest()
    got = micromamba.obtain(_source(release_server, micromamba_sha256=digest), str(tmp_path), os.environ)
    assert got.sha256 == digest


@pytest.mark.parametrize("fault", ["status", "truncate"])
def test_a_digest_given_by_hand_is_advised_only_where_the_server_said_it_has_none(release_server, tmp_path, monkeypatch,
                                                                                  fault):
    """A final HTTP status is the server's own answer: no such digest there, so the one the user may
    know is worth naming. A body cut short at every try is the network's doing, and would cut the
    binary's download short too: no advice that gets past nothing (the scripts say the same)."""
    from tests.support.server import Fault

    monkeypatch.setenv("MAMBABOOT_HTTP_BACKOFF", "0.01")
    path = urlsplit(release_server.asset_url + ".sha256").path
    release_server.faults(path, [Fault.status(403)] if fault == "status" else [Fault.truncate(3)] * 4)
    with pytest.raises(ObtainError) as failed:
        micromamba.obtain(_source(release_server), str(tmp_path), os.environ)
    said = str(failed.value).splitlines()[-1]
    assert said == "without it the binary cannot be verified" + (
        "; pass --micromamba-sha256 HEX if you know the digest" if fault == "status" else ""), str(failed.value)


def test_latest_and_mirror_are_keyed_by_their_digest(release_server, tmp_path, fault_standin):
    plat = current().subdir
    release_server.add_release(PINNED_MICROMAMBA, plat, fault_standin.read_bytes(), latest=True)
    latest = micromamba.obtain(_source(release_server, micromamba_version="latest"), str(tmp_path), os.environ)
    mirror = micromamba.obtain(_source(release_server, micromamba_url=release_server.asset_url), str(tmp_path), os.environ)
    pinned = micromamba.obtain(_source(release_server), str(tmp_path), os.environ)
    assert len({latest.path, mirror.path, pinned.path}) == 3
    assert latest.sha256 == mirror.sha256 == pinned.sha256
    assert os.path.basename(os.path.dirname(pinned.path)) == f"{PINNED_MICROMAMBA}-{plat}"


def test_pinned_release_in_cache_needs_no_network(release_server, tmp_path):
    micromamba.obtain(_source(release_server), str(tmp_path), os.environ)
    before = len(release_server.requests)
    micromamba.obtain(_source(release_server), str(tmp_path), os.environ)
    assert len(release_server.requests) == before


def test_a_download_uses_the_network_settings_it_is_given(release_server, tmp_path, monkeypatch):
    """create reads the proxy and CA once and hands them down: the digest, the binary and
    their retries read no rc file or variable again."""
    from mambaboot.engine import network
    from tests.support.server import Fault

    given = network.read({"HOME": "/nonexistent"}, False)
    monkeypatch.setattr(network, "read", lambda *a, **k: pytest.fail("network settings read again"))
    release_server.faults(release_server.asset_url, [Fault.status(503)])
    monkeypatch.setenv("MAMBABOOT_HTTP_BACKOFF", "0")
    got = micromamba.obtain(_source(release_server), str(tmp_path), os.environ, net=given)
    assert got.downloaded and got.version == "2.8.1"


# Windows refuses a program a policy blocks in CreateProcess, before it runs: an OSError holding
# Windows' words and code (AppLocker's 1260, ERROR_ACCESS_DISABLED_BY_POLICY). Made so here, for
# the engine's first run, the one every create makes of a binary new to it.
BLOCKED_PROBE = r"""
import subprocess, sys
sys.path.insert(0, sys.argv[1])
from mambaboot.common import winsys
winsys.smart_app_control = lambda: int(sys.argv[3])  # VerifiedAndReputablePolicyState, as the registry holds it
real = subprocess.run
def run(argv, *a, **k):
    if argv[1:] == ["--version"]:
        refused = OSError(13, "This program is blocked by group policy. For more information, contact your system administrator")
        refused.winerror = int(sys.argv[2])
        raise refused
    return real(argv, *a, **k)
subprocess.run = run
from mambaboot.cli import main
sys.exit(main(sys.argv[4:]))
"""


@pytest.mark.parametrize("code, sac", [(1260, 0), (4551, 0), (4551, 1), (225, 0), (5, 0)])
def test_an_engine_windows_blocks_is_said_in_windows_words_with_the_way_forward(world, channel, standin, code, sac):
    """AppLocker or Software Restriction Policies (1260), App Control or Smart App Control (4551), an
    antivirus (225): what Windows said, then which folder option gets past it, as bootstrap.bat says
    it; for 4551 also what Smart App Control means (no folder helps; whether it is on is the user's
    choice), said as the cause when its registry value (faked here) says it is on; any other failure
    to start (5, access denied) is said as it is, with no such advice."""
    import subprocess

    from mambaboot.common import winsys
    from tests.conftest import REPO

    r = subprocess.run([sys.executable, "-c", BLOCKED_PROBE, str(REPO / "src"), str(code), str(sac), "create", "demo",
                        "-c", channel, "--cache-dir", str(world.cache), "--micromamba", str(standin)],
                       env=world.env, cwd=str(world.envs), capture_output=True, text=True, timeout=600)
    assert r.returncode == 5, r.stderr
    said = f"mambaboot: error: {standin} does not run: [Errno 13] This program is blocked by group policy. For more " \
           "information, contact your system administrator"
    folder = "--cache-dir (or --micromamba PATH to a copy in one)"
    way = {1260: "Windows refused to start it: a policy (AppLocker, Software Restriction Policies) or an antivirus blocks "
                 f"programs in that folder; ask your administrator which folders may run programs, and pass one as {folder}",
           4551: ("Windows refused to start it: Smart App Control is on here. " + winsys.SMART_APP_CONTROL_IS if sac else
                  "Windows refused to start it: an App Control policy or Smart App Control blocks it. Under an App Control "
                  f"policy, ask your administrator which folders may run programs, and pass one as {folder}. "
                  + winsys.SMART_APP_CONTROL_IS)}
    way[225] = way[1260]
    assert r.stderr.splitlines()[-2:] == [said, way[code]] if code != 5 else r.stderr.splitlines()[-1] == said, r.stderr
    assert list(world.envs.iterdir()) == []


def test_an_environment_python_windows_blocks_is_said_with_the_folder_options(monkeypatch):
    """Verification starts the environment's own python: blocked there, the problem it reports
    holds Windows' words and the options that put the environment in another folder."""
    from mambaboot.pipeline import verify

    def refuse(*a, **k):
        refused = OSError(13, "This program is blocked by group policy")
        refused.winerror = 1260
        raise refused

    monkeypatch.setattr(verify.subprocess, "Popen", refuse)
    code, _, err = verify._Proc(["C:\\envs\\demo\\python.exe", "-c", "pass"], {}).finish()
    assert code == -1 and err.splitlines() == [
        "[Errno 13] This program is blocked by group policy",
        "Windows refused to start it: a policy (AppLocker, Software Restriction Policies) or an antivirus "
        "blocks programs in that folder; ask your administrator which folders may run programs, and pass one as "
        "--envs-dir or --prefix"]


@pytest.mark.parametrize("status, hint", [
    (404, "the server has no such file: check --micromamba-version"),
    (410, "the server has no such file: check --micromamba-version"),
    (401, "the server or a proxy on the way refused it"),
    (403, "the server or a proxy on the way refused it"),
    (407, "the server or a proxy on the way refused it"),
    (429, "the server is busy or failing: try again later, or use a mirror"),
    (500, "the server is busy or failing: try again later, or use a mirror"),
    (503, "the server is busy or failing: try again later, or use a mirror"),
])
def test_an_http_error_is_explained_by_its_status_through_the_command(world, release_server, status, hint):
    """curl and urllib both fail on every status >= 400; what to do differs: a wrong version or
    address (404, 410), a proxy or filter that refuses (401, 403, 407), a server busy or down."""
    from tests.support.server import Fault

    release_server.faults(urlsplit(release_server.asset_url + ".sha256").path, [Fault.status(status)] * 5)
    r = world.create("a", env={"MAMBABOOT_RELEASES_URL": release_server.releases_base, "MAMBABOOT_HTTP_BACKOFF": "0.01"})
    assert r.returncode == ObtainError.exit_code, r.stderr
    assert f"HTTP {status}" in r.stderr and hint in r.stderr, r.stderr
    others = [h for h in ("has no such file", "refused it", "busy or failing") if h not in hint]
    assert not any(h in r.stderr for h in others), r.stderr
