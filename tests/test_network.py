"""A user behind a company proxy with a company CA can create (issue 11, point 6).

The servers speak https with a certificate only a test CA vouches for and are reached through
a loopback CONNECT proxy. The settings are given where such a user has them: in the
environment, in ~/.condarc, in ~/.mamba/auth. The engine is the stand-in, which reads them
only the way libmamba does (tests/support/micromamba_standin.py, `apply_network`), so a
setting we fail to carry is a setting it does not see.
"""

import base64
import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mambaboot.common.host import current
from mambaboot.pipeline.plan import PINNED_MICROMAMBA
from tests.support.netproxy import ConnectProxy, TestCA
from tests.support.server import RELEASES_PATH, AssetServer, refused_url
from tests.support.snapshot import diff


@pytest.fixture
def company(tmp_path, fault_standin):
    """The release server, https with the company's certificate, behind the company proxy (it
    serves the stand-in in every mode: a real micromamba served alone lacks its libraries)."""
    ca = TestCA(tmp_path / "pki")
    with AssetServer(tls=ca.server_context()) as server, ConnectProxy() as proxy:
        server.add_release(PINNED_MICROMAMBA, current().subdir, fault_standin.read_bytes())
        server.ca, server.proxy = ca, proxy
        server.releases_base = server.url + RELEASES_PATH
        yield server


def _host(server) -> str:
    return urlsplit(server.url).netloc


def _binary_path() -> str:
    return f"{RELEASES_PATH}/download/{PINNED_MICROMAMBA}/micromamba-{current().subdir}"


def test_the_download_goes_through_the_proxy_and_trusts_the_ca_from_the_environment(world, channel, company):
    env = {"MAMBABOOT_RELEASES_URL": company.releases_base, "HTTPS_PROXY": company.proxy.url,
           "REQUESTS_CA_BUNDLE": str(company.ca.ca_pem)}
    r = world.create("py", "-c", channel, env=env)
    assert r.returncode == 0, r.stderr
    assert company.proxy.targets and set(company.proxy.targets) == {_host(company)}, "every request went through it"
    assert company.count("GET", _binary_path()) == 1
    assert f"network: CA certificates: {company.ca.ca_pem} (from REQUESTS_CA_BUNDLE)" in r.stderr


def test_the_download_reads_proxy_and_ca_from_the_users_condarc(world, channel, company):
    (world.home / ".condarc").write_text(
        f"channels:\n  - defaults\nproxy_servers:\n  https: {company.proxy.url}\nssl_verify: {company.ca.ca_pem}\n")
    r = world.create("py", "-c", channel, env={"MAMBABOOT_RELEASES_URL": company.releases_base})
    assert r.returncode == 0, r.stderr
    assert set(company.proxy.targets) == {_host(company)}
    assert f"network: proxy for https: {company.proxy.url} (from ~/.condarc)" in r.stderr


def test_an_untrusted_certificate_fails_at_once_with_a_hint(world, channel, company):
    """The control: the certificate really is one only the test CA vouches for. No retries:
    another attempt meets the same certificate."""
    r = world.create("py", "-c", channel, env={"MAMBABOOT_RELEASES_URL": company.releases_base,
                                               "HTTPS_PROXY": company.proxy.url})
    assert r.returncode == 5, r.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr and "REQUESTS_CA_BUNDLE" in r.stderr
    assert "--micromamba-sha256" not in r.stderr, "no digest given by hand gets past the certificate"
    assert len(company.proxy.targets) == 1, company.proxy.targets
    assert any("UNKNOWN_CA" in why for why in company.handshakes_refused), company.handshakes_refused


@pytest.mark.parametrize("status, hint", [(b"403 Forbidden", "company web filter"),
                                          (b"407 Proxy Authentication Required", "Proxies that ask for Windows logon")])
def test_a_proxy_that_refuses_connect_is_said_as_the_proxys_answer_with_its_own_hint(world, channel, company, status, hint):
    """A company proxy refuses the tunnel (CONNECT) itself: a web filter's category block (403), a
    logon it wants (407, NTLM offered). That is the proxy's answer, not the server's and not the
    network: said at once with the proxy's own hint, as bootstrap.bat says it from curl's
    %{http_connect} and bootstrap.ps1 from the proxy's status; nothing reaches the server."""
    with ConnectProxy(refuse=status) as proxy:
        r = world.create("py", "-c", channel, env={"MAMBABOOT_RELEASES_URL": company.releases_base,
                                                   "HTTPS_PROXY": proxy.url, "REQUESTS_CA_BUNDLE": str(company.ca.ca_pem)})
        where = urlsplit(proxy.url).netloc
    code = int(status[:3])
    assert r.returncode == 5, r.stderr
    assert f"the proxy {where} answered HTTP {code} to its CONNECT" in r.stderr, r.stderr
    assert hint in r.stderr and company.count("GET", _binary_path()) == 0
    assert len(proxy.targets) == 1, "no retry: the proxy answers the same"
    from mambaboot.engine import download

    assert download.PROXY_HINTS[code] in r.stderr, r.stderr.splitlines()


def test_on_windows_an_untrusted_certificate_points_at_windows_certificate_store(winpython, company, tmp_path):
    """Windows' own CPython under Wine, the same refused handshake: on Windows the store is what
    mambaboot and micromamba check, and REQUESTS_CA_BUNDLE is not carried there, so the hint names
    the store and ssl_verify, never the variable."""
    from tests.support.wine import windows_path as win

    envs = tmp_path / "envs"
    envs.mkdir()
    r = winpython.mambaboot(["create", "demo", "-c", winpython.channel_url, "--envs-dir", win(envs),
                             "--cache-dir", win(tmp_path / "cache")], env={"MAMBABOOT_RELEASES_URL": company.releases_base})
    assert r.returncode == 5, r.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr and "REQUESTS_CA_BUNDLE" not in r.stderr, r.stderr
    assert "--micromamba-sha256" not in r.stderr, "no digest given by hand gets past the certificate"
    assert (
        "the server's certificate is not trusted by Windows' certificate store, which mambaboot and micromamba check: "
        "behind a company proxy that inspects TLS, ask your administrator to deploy its root certificate there, or set "
        "ssl_verify (MAMBA_SSL_VERIFY or .condarc) to a CA file holding it, which then replaces the store for every "
        "host") in r.stderr.splitlines(), r.stderr
    assert any("UNKNOWN_CA" in why for why in company.handshakes_refused), company.handshakes_refused
    assert list(envs.iterdir()) == []


def test_an_unreadable_ca_bundle_is_refused_with_exit_2(world, channel, company, tmp_path):
    (tmp_path / "empty.pem").write_text("")
    r = world.create("py", "-c", channel, env={"MAMBABOOT_RELEASES_URL": company.releases_base,
                                               "REQUESTS_CA_BUNDLE": str(tmp_path / "empty.pem")})
    assert r.returncode == 2 and "REQUESTS_CA_BUNDLE" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("where", ["condarc", "environment"])
def test_ssl_verify_off_is_refused_before_anything_is_written(world, channel, where):
    env = {}
    if where == "condarc":
        (world.home / ".condarc").write_text("ssl_verify: false\n")
    else:
        env["MAMBA_SSL_VERIFY"] = "<false>"
    before = world.outside()
    r = world.create("py", "-c", channel, env=env)
    assert r.returncode == 2, r.stderr
    assert "does not download without checking certificates" in r.stderr
    assert diff(before, world.outside()) == {} and not world.cache.exists()


def test_a_per_host_proxy_is_named_as_not_carried(world, channel, standin):
    (world.home / ".mambarc").write_text("proxy_servers:\n  https://repo.example: http://127.0.0.1:9\n")
    r = world.create("py", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert "network setting not carried over: proxy_servers 'https://repo.example' in ~/.mambarc" in r.stderr


def test_rc_yaml_we_cannot_read_is_refused_only_when_it_sets_network_options(world, channel, standin):
    # an alias (which the reader refuses: common/yamlread), in settings none of ours
    (world.home / ".condarc").write_text("custom_channels: &c {a: b}\ncustom_multichannels: *c\n")
    assert world.create("ok", "-c", channel, "--micromamba", str(standin)).returncode == 0
    (world.home / ".condarc").write_text("x: &p 'http://127.0.0.1:9'\nproxy_servers: {https: *p}\n")
    r = world.create("no", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 2 and ".condarc sets network options in YAML mambaboot cannot read" in r.stderr, r.stderr
    assert "an alias (*p)" in r.stderr, r.stderr
    # a flow mapping is YAML conda and libmamba read, and so does mambaboot
    (world.home / ".condarc").write_text("proxy_servers: {https: 'http://127.0.0.1:9'}\n")
    assert world.create("flow", "-c", channel, "--micromamba", str(standin)).returncode == 0


def _serve_channel(server: AssetServer, channel: str, base: str) -> str:
    root = Path(urlsplit(channel).path)
    for path in root.rglob("*"):
        if path.is_file():
            server.add(f"{base}/{path.relative_to(root).as_posix()}", path.read_bytes())
    return server.url + base


@pytest.fixture
def private_channel(tmp_path, channel):
    """The test channel on a company mirror: https, the company CA, basic auth, behind the proxy."""
    ca = TestCA(tmp_path / "pki")
    with AssetServer(tls=ca.server_context(), credentials=("alice", "s3cret pass")) as server, \
            ConnectProxy() as proxy:
        server.channel_url = _serve_channel(server, channel, "/mirror/test")
        server.ca, server.proxy = ca, proxy
        yield server


def _company_home(world, mirror, *, with_auth: bool = True) -> None:
    (world.home / ".condarc").write_text(
        f"proxy_servers:\n  https: {mirror.proxy.url}\nssl_verify: {mirror.ca.ca_pem}\n")
    if with_auth:
        auth = world.home / ".mamba" / "auth"
        auth.mkdir(parents=True)
        secret = base64.b64encode(b"s3cret pass").decode()
        (auth / "authentication.json").write_text(json.dumps(
            {_host(mirror): {"type": "BasicHTTPAuthentication", "user": "alice", "password": secret}}))


def test_the_engine_reaches_a_private_mirror_with_the_users_proxy_ca_and_credentials(world, standin, private_channel):
    _company_home(world, private_channel)
    before = world.outside()
    r = world.create("py", "-c", private_channel.channel_url, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert set(private_channel.proxy.targets) == {_host(private_channel)}, "the engine went through the proxy"
    assert private_channel.refused == [], "every request carried the credentials"
    assert private_channel.count("GET", "/mirror/test/noarch/repodata.json") >= 1
    assert diff(before, world.outside(world.envs / "py")) == {}
    assert not list(world.cache.rglob("authentication.json")), "the copied credentials went with the private home"


def test_without_the_credentials_the_mirror_refuses_the_engine(world, standin, private_channel):
    """The control: the mirror really wants them, so the test above proves they were carried."""
    _company_home(world, private_channel, with_auth=False)
    r = world.create("py", "-c", private_channel.channel_url, "--micromamba", str(standin))
    assert r.returncode == 6, r.stderr
    assert private_channel.refused


def test_the_engine_gets_the_machine_and_network_variables_the_scrub_would_drop(world, channel, fault_standin, tmp_path):
    log = tmp_path / "runs.jsonl"
    ca = TestCA(tmp_path / "pki").ca_pem
    carried = {"MAMBA_SSL_NO_REVOKE": "true", "MAMBA_SSL_VERIFY": f"'{ca}'", "CONDA_OVERRIDE_CUDA": "12.4",
               "NO_PROXY": "localhost", "MAMBA_CHANNEL_ALIAS": "https://mirror.example/conda"}
    r = world.create("py", "-c", channel, "--micromamba", str(fault_standin),
                     env={**carried, "REQUESTS_CA_BUNDLE": "/nonexistent.pem", "MAMBA_ROOT_PREFIX": "/elsewhere",
                          "STANDIN_RECORD": str(log)})
    assert r.returncode == 0, r.stderr
    (run,) = [json.loads(line) for line in log.read_text().splitlines() if '"create"' in line]
    assert {k: run["env"].get(k) for k in carried} == carried
    assert run["env"].get("MAMBA_ROOT_PREFIX") != "/elsewhere", "other MAMBA_* variables are still scrubbed"


def test_which_ca_wins_follows_libmamba(world, channel, tmp_path):
    """Later rc files win; the environment wins over the rc files; cacert_path wins over a path
    in ssl_verify (`ssl_verify_hook`); REQUESTS_CA_BUNDLE only when none of them names one."""
    pems = {name: tmp_path / f"{name}.pem" for name in ("condarc", "mambarc", "env", "cacert", "requests")}
    for pem in pems.values():
        pem.write_text("")

    def shown(**env):
        r = world.create("py", "-c", channel, "--dry-run", env=env)
        assert r.returncode == 0, r.stderr
        return [line for line in r.stderr.splitlines() if line.startswith("network: CA")]

    assert shown(REQUESTS_CA_BUNDLE=str(pems["requests"])) == [
        f"network: CA certificates: {pems['requests']} (from REQUESTS_CA_BUNDLE)"]
    (world.home / ".condarc").write_text(f"ssl_verify: {pems['condarc']}\n")
    (world.home / ".mambarc").write_text(f"ssl_verify: '{pems['mambarc']}'\n")
    assert shown(REQUESTS_CA_BUNDLE=str(pems["requests"])) == [
        f"network: CA certificates: {pems['mambarc']} (from ~/.mambarc)"]
    assert shown(MAMBA_SSL_VERIFY=str(pems["env"])) == [f"network: CA certificates: {pems['env']} (from MAMBA_SSL_VERIFY)"]
    (world.home / ".condarc").write_text(f"cacert_path: {pems['cacert']}\n")
    assert shown(MAMBA_SSL_VERIFY=str(pems["env"])) == [f"network: CA certificates: {pems['cacert']} (from ~/.condarc)"]
    (world.home / ".condarc").write_text("ssl_verify: true\n")
    (world.home / ".mambarc").unlink()
    assert shown(REQUESTS_CA_BUNDLE=str(pems["requests"])) == [
        f"network: CA certificates: {pems['requests']} (from REQUESTS_CA_BUNDLE)"]
    assert shown() == []


@pytest.mark.parametrize("where", ["direct", "proxy"])
def test_without_a_network_create_fails_at_once_saying_what_it_needed_and_how_to_go_on(world, where):
    """The main command as a newcomer types it (the default micromamba download, the default
    channel) on a machine that reaches nothing: a connection refused on loopback, to the release
    host itself or to the proxy that stands for it. No retries (each would first wait 1000 s
    here, past the timeout), and the message names what the run needed and the offline way."""
    refused = refused_url("/releases")
    env = {**world.env, "MAMBABOOT_HTTP_BACKOFF": "1000", "MAMBABOOT_RELEASES_URL": refused}
    if where == "proxy":  # the release host is never resolved: only the proxy is connected to
        env.update(HTTPS_PROXY=refused_url(), MAMBABOOT_RELEASES_URL="https://releases.invalid/releases")
    proc = subprocess.run([*world.command, "create", "first", "--cache-dir", str(world.cache)], env=env,
                          cwd=str(world.envs), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 5, proc.stderr
    port = urlsplit(env["HTTPS_PROXY"] if where == "proxy" else refused).netloc
    reached = f"cannot reach the proxy {port} (for releases.invalid)" if where == "proxy" else f"cannot reach {port}"
    assert reached in proc.stderr
    assert f"cannot download micromamba {PINNED_MICROMAMBA} (" in proc.stderr
    assert "nor the packages of the channel conda-forge; to go on offline:" in proc.stderr
    for hint in ("--micromamba PATH", "--channel file:///DIR", f"--offline                only packages the package "
                 f"cache {world.cache / 'Python' / 'pkgs'} holds"):
        assert hint in proc.stderr
    assert "--micromamba-sha256" not in proc.stderr, "the digest is not what is missing"


def _recorded_create(world, channel, fault_standin, log: Path, env: dict):
    r = world.create("py", "-c", channel, "--micromamba", str(fault_standin), env={**env, "STANDIN_RECORD": str(log)})
    runs = [json.loads(line) for line in log.read_text().splitlines() if '"create"' in line] if log.exists() else []
    return r, runs


@pytest.mark.parametrize("value", ["1", "yes", "true", "ON"])
def test_mamba_ssl_no_revoke_reaches_micromamba_as_a_boolean_it_reads(world, channel, standin, value):
    """libmamba 2.8.1 reads MAMBA_SSL_NO_REVOKE as YAML, where 1 is no boolean (mamba-org/mamba#2751):
    whatever spelling the user gave, the engine (the real one in the real-engine mode) creates."""
    r = world.create("py", "-c", channel, "--micromamba", str(standin), env={"MAMBA_SSL_NO_REVOKE": value})
    assert r.returncode == 0, r.stderr
    assert "Bad conversion" not in r.stderr


@pytest.mark.parametrize("where, value, passed", [
    ("environment", "1", "true"), ("environment", "Yes", "true"), ("environment", "0", None),
    ("environment", "false", None), ("environment", "off", None),
    ("condarc", "true", "true"), ("condarc", "yes", "true"), ("condarc", "false", None)])
def test_mamba_ssl_no_revoke_is_passed_as_true_or_not_at_all(world, channel, fault_standin, tmp_path, where, value,
                                                              passed):
    """Never "false": libmamba's downloader reads the variable raw too, and anything but 0 turns the
    check off there (`get_env_remote_params`, download/downloader.cpp)."""
    env = {"MAMBA_SSL_NO_REVOKE": value} if where == "environment" else {}
    if where == "condarc":
        (world.home / ".condarc").write_text(f"ssl_no_revoke: {value}\n")
    r, (run,) = _recorded_create(world, channel, fault_standin, tmp_path / "runs.jsonl", env)
    assert r.returncode == 0, r.stderr
    assert run["env"].get("MAMBA_SSL_NO_REVOKE") == passed


@pytest.mark.parametrize("where", ["environment", "condarc"])
def test_an_unreadable_ssl_no_revoke_is_refused_naming_it(world, channel, where):
    env = {"MAMBA_SSL_NO_REVOKE": "maybe"} if where == "environment" else {}
    if where == "condarc":
        (world.home / ".condarc").write_text("ssl_no_revoke: maybe\n")
    before = world.outside()
    r = world.create("py", "-c", channel, env=env)
    assert r.returncode == 2, r.stderr
    named = "MAMBA_SSL_NO_REVOKE" if where == "environment" else "ssl_no_revoke in ~/.condarc"
    assert f"{named} is 'maybe', which is neither true nor false: set it to true or false" in r.stderr
    assert diff(before, world.outside()) == {} and not world.cache.exists()


def test_the_stand_in_refuses_what_libmamba_refuses(fault_standin, tmp_path):
    """So a spelling the real micromamba stops on cannot come back unseen (configuration.hpp
    `Configurable::compute`: the variable named, then exit 1)."""
    from tests.support.micromamba_standin import yaml_cpp_scalar

    for value in ("1", "0", "", "tRUE", "maybe"):
        with pytest.raises(ValueError):
            yaml_cpp_scalar(value, bool)
    assert [yaml_cpp_scalar(v, bool) for v in ("y", "Yes", "TRUE", "on", "N", "false", "OFF")] == [
        True, True, True, True, False, False, False]
    assert yaml_cpp_scalar("/pki/company ca #2.pem", str) == "/pki/company ca"
    assert yaml_cpp_scalar("'/pki/it''s #2.pem'", str) == "/pki/it's #2.pem"
    with pytest.raises(ValueError):
        yaml_cpp_scalar("@pki/ca.pem", str)
    r = subprocess.run([str(fault_standin), "create", "--prefix", str(tmp_path / "p"), "python"],
                       env={"PATH": "/usr/bin:/bin", "MAMBA_SSL_NO_REVOKE": "1"}, capture_output=True, text=True)
    assert r.returncode == 1
    assert ("error    libmamba Bad conversion of configurable 'ssl_no_revoke' from environment variable "
            "'MAMBA_SSL_NO_REVOKE' with value '1'") in r.stderr, r.stderr


@pytest.mark.parametrize("name", ["company ca #2.pem", "it's: a bundle.pem", "@bundle.pem"])
def test_a_ca_path_reaches_micromamba_as_yaml_reads_it(world, channel, fault_standin, tmp_path, name):
    """libmamba reads MAMBA_SSL_VERIFY as YAML (`Source<T>::deserialize`): a bare path is cut at
    " #", and ": " makes it a mapping. It goes in single quotes, and reads back whole."""
    from tests.support.micromamba_standin import yaml_cpp_scalar

    pem = tmp_path / "pki" / name
    pem.parent.mkdir()
    pem.write_bytes(TestCA(tmp_path / "ca").ca_pem.read_bytes())  # a CA the engine can load
    r, (run,) = _recorded_create(world, channel, fault_standin, tmp_path / "runs.jsonl", {"REQUESTS_CA_BUNDLE": str(pem)})
    assert r.returncode == 0, r.stderr
    assert yaml_cpp_scalar(run["env"]["MAMBA_SSL_VERIFY"], str) == str(pem)


def test_a_ca_path_with_a_hash_is_trusted_through_the_proxy(world, channel, company, tmp_path):
    """End to end: the download and the engine (which checks the CA file it was given) both read it."""
    pem = tmp_path / "company ca #2.pem"
    pem.write_bytes(company.ca.ca_pem.read_bytes())
    env = {"MAMBABOOT_RELEASES_URL": company.releases_base, "HTTPS_PROXY": company.proxy.url,
           "REQUESTS_CA_BUNDLE": str(pem)}
    r = world.create("py", "-c", channel, env=env)
    assert r.returncode == 0, r.stderr
    assert f"network: CA certificates: {pem} (from REQUESTS_CA_BUNDLE)" in r.stderr


@pytest.mark.parametrize("windows", [True, False])
def test_ssl_verify_off_points_where_the_platform_trusts_a_company_root(tmp_path, windows):
    """Off is refused everywhere; the way back is the platform's: on Windows the certificate store
    (ssl_verify unset) or a CA file in ssl_verify, never REQUESTS_CA_BUNDLE, which is not carried there."""
    from mambaboot.common.errors import UsageError
    from mambaboot.engine import network

    with pytest.raises(UsageError) as refused:
        network.read({"MAMBA_SSL_VERIFY": "false", "USERPROFILE" if windows else "HOME": str(tmp_path)}, windows=windows)
    way = str(refused.value).split("checking certificates: ", 1)[1]
    assert way == ("remove it (Windows' certificate store, where a company deploys its proxy's root, is checked then), or "
                   "set it to your company's CA file" if windows else
                   "set ssl_verify (or REQUESTS_CA_BUNDLE) to your company's CA bundle instead")


def test_on_windows_a_bundle_variable_never_replaces_the_certificate_store(tmp_path):
    """micromamba on Windows is libcurl with Schannel: with ssl_verify unset, libmamba 2.8.1 gives
    curl no CA file (`<system>` becomes "" on Windows, download/downloader.cpp) and Schannel checks
    against Windows' certificate store, where a company's inspection root is deployed; a CA file
    (CURLOPT_CAINFO, download/curl.cpp) replaces that store (curl#3727). So REQUESTS_CA_BUNDLE and
    SSL_CERT_FILE, which micromamba itself never reads there, are not turned into its ssl_verify on
    Windows (and our own downloads keep the store too), said in one line; ssl_verify or cacert_path
    given to micromamba's own settings is passed as asked. Elsewhere the variable is carried."""
    from mambaboot.engine import network

    pem = tmp_path / "company.pem"
    pem.write_text("")
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        s = network.read({var: str(pem), "USERPROFILE": str(tmp_path)}, windows=True)
        assert s.ca is None and "MAMBA_SSL_VERIFY" not in network.engine_environ(s) and network.handlers(s) == []
        said, = s.not_carried
        assert said.startswith(f"{var} ({pem}): on Windows micromamba checks certificates against Windows' certificate "
                               "store, which a CA file would replace"), said
        assert "ssl_verify" in said, said
        assert network.read({var: str(pem), "HOME": str(tmp_path)}, windows=False).ca == (str(pem), var)
    asked = network.read({"MAMBA_SSL_VERIFY": str(pem), "REQUESTS_CA_BUNDLE": str(pem), "USERPROFILE": str(tmp_path)},
                         windows=True)
    assert asked.ca == (str(pem), "MAMBA_SSL_VERIFY") and asked.not_carried == []


def test_a_token_kept_in_a_variable_is_as_written_in_the_channels_and_expanded_in_the_package_urls(world, standin,
                                                                                                   channel):
    """An environment file's channel `.../t/${MB_TOKEN}/chan`: the record's channels and
    PREFIX/.condarc keep `${MB_TOKEN}`; the packages' URLs hold the token, as micromamba writes
    them into conda-meta, and so do the record's packages and PREFIX/.mambaboot/lock.txt, the
    environment's own lists of them (docs/reference.md 1.6); `mambaboot lock` hands the lock on
    without it."""
    token = "tk-Zq9var"
    with AssetServer() as server:
        served = _serve_channel(server, channel, f"/t/{token}/chan")
        written = served.replace(token, "${MB_TOKEN}")
        (world.root / "environment.yml").write_text(f"channels: ['{written}']\ndependencies: [python]\n")
        r = world.create("tok", "-f", str(world.root / "environment.yml"), "--micromamba", str(standin), "-v",
                         env={"MB_TOKEN": token})
        assert r.returncode == 0, r.stderr
    prefix = world.envs / "tok"
    assert token not in r.stdout + r.stderr
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert record["inputs"]["channels"] == [written]
    assert all(f"/t/{token}/chan/" in p["url"] for p in record["packages"]), record["packages"]
    condarc = (prefix / ".condarc").read_text()
    assert "${MB_TOKEN}" in condarc and token not in condarc
    assert f"/t/{token}/chan/" in (prefix / ".mambaboot" / "lock.txt").read_text()
    assert any(token in meta.read_text() for meta in (prefix / "conda-meta").glob("*.json"))
    shared = world.run("lock", str(prefix))
    assert shared.returncode == 0 and token not in shared.stdout and f"{server.url}/chan/" in shared.stdout, shared.stdout
