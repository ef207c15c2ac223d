"""The network settings a run carries from the user's world into micromamba's private one.

micromamba runs with `--no-rc`, a private HOME and no CONDA_*/MAMBA_* variables, so that no
user configuration changes what gets installed. That also drops what a machine behind a
company proxy needs to reach a channel at all. We carry exactly these, and nothing else:

- proxies: HTTP_PROXY/http_proxy, HTTPS_PROXY/https_proxy, ALL_PROXY, NO_PROXY stay in the
  environment (libcurl reads them; it honours only the lower-case `http_proxy`), and
  `proxy_servers` from the user's rc files becomes those variables, as libmamba gives it
  precedence over them (CURLOPT_PROXY, libmamba/src/download/curl.cpp). A per-host key
  (`https://host`) cannot be expressed that way and is reported as not carried.
- the CA: `ssl_verify` (a file or directory) and `cacert_path` from MAMBA_SSL_VERIFY /
  MAMBA_CACERT_PATH or the rc files, else (not on Windows, where it would replace the certificate
  store Schannel checks against: see `read`) REQUESTS_CA_BUNDLE, else SSL_CERT_FILE. It is
  passed as MAMBA_SSL_VERIFY, which every micromamba reads (`set_env_var_names()` on
  `ssl_verify`, libmamba/src/api/configuration.cpp, 1.5.12 to 2.8.1) as YAML (`yaml_text`
  says how it is written so): since 2.0 an unset
  ssl_verify becomes "<system>", the fixed list of system bundles in
  libmamba/src/download/downloader.cpp, and REQUESTS_CA_BUNDLE/SSL_CERT_FILE go unread.
  `ssl_verify: false` is refused: we never download an engine or packages unverified.
- `ssl_no_revoke` (Windows' schannel revocation check a proxy blocks): MAMBA_SSL_NO_REVOKE or
  the rc files, passed as MAMBA_SSL_NO_REVOKE=true (see `flag` for why never another spelling).
- `channel_alias`: MAMBA_CHANNEL_ALIAS, so channel names resolve through the company mirror.
- credentials: `~/.mamba/auth/authentication.json` (read from the user's home only,
  `Context::authentication_info`, libmamba/src/core/context.cpp) is copied into the private
  home for the run; `~/.netrc` is named by NETRC, which libmamba hands to curl
  (CURLOPT_NETRC_FILE, curl.cpp) in place of $HOME/.netrc.
- CONDA_OVERRIDE_* (virtual packages: libmamba/src/core/virtual_packages.cpp) describe the
  machine, not an environment, and are kept.

The rc files read are libmamba's system and user ones, in its order
(`Configuration::compute_default_rc_sources`, 2.8.1), later files winning.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): collections is not imported at start-up
    from collections.abc import Mapping

# base64, json, shutil and common/yamlread (ruamel.yaml) are imported only where a machine's settings need them:
# a run with no credentials and no rc file that mentions the network needs none of them.

# The MAMBA_* variables the bootstrap scripts leave to micromamba (they read no rc files).
SCRIPT_CARRIED = ("MAMBA_SSL_VERIFY", "MAMBA_CACERT_PATH", "MAMBA_SSL_NO_REVOKE", "MAMBA_CHANNEL_ALIAS")
_KEYS = ("proxy_servers", "ssl_verify", "cacert_path", "ssl_no_revoke", "channel_alias")
# re is imported where an rc file is read: create's start-up imports no re (common/pathrules.py)
_MENTIONS = r"^(%s)\s*:" % "|".join(_KEYS)
# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
_FALSE = frozenset(("false", "0", "<false>", "no", "off"))
_TRUE = frozenset(("", "true", "1", "<true>", "<system>", "yes", "on"))
# A boolean as people write one: yaml-cpp's own words (convert<bool>::decode, yaml-cpp
# src/convert.cpp: y/n, yes/no, true/false, on/off) and the 1/0 this tool's docs once gave.
_ON = ("y", "yes", "true", "on", "1")
_OFF = ("n", "no", "false", "off", "0")


class Settings:
    """What was found, each value with the place it came from (for the report and errors)."""

    def __init__(self) -> None:
        self.proxies: dict[str, tuple[str, str]] = {}  # scheme -> (url, source), from rc files
        self.ca: tuple[str, str] | None = None  # (path, source)
        self.no_revoke: str | None = None  # source
        self.channel_alias: tuple[str, str] | None = None
        self.auth_file: str | None = None
        self.netrc: str | None = None
        self.overrides: dict[str, str] = {}  # CONDA_OVERRIDE_* and MAMBA_SSL_NO_REVOKE as given
        self.not_carried: list[str] = []

    def describe(self) -> list[str]:
        from mambaboot.common import urlrule

        lines = [f"proxy for {scheme}: {urlrule.shown(url, proxy=True)} (from {src})"
                 for scheme, (url, src) in sorted(self.proxies.items())]
        if self.ca:
            lines.append(f"CA certificates: {self.ca[0]} (from {self.ca[1]})")
        if self.no_revoke:
            lines.append(f"no certificate revocation check (from {self.no_revoke})")
        if self.channel_alias:
            lines.append(f"channel alias: {urlrule.shown(self.channel_alias[0])} (from {self.channel_alias[1]})")
        if self.auth_file:
            lines.append(f"credentials: {self.auth_file}")
        if self.netrc:
            lines.append(f"credentials: {self.netrc}")
        lines += [f"{k}={v}" for k, v in sorted(self.overrides.items()) if k.upper().startswith("CONDA_OVERRIDE_")]
        return lines


def read(environ: Mapping[str, str], windows: bool) -> Settings:
    """The settings of the calling user; UsageError when one cannot be honoured."""
    get = _getter(environ, windows)
    s = Settings()
    merged: dict[str, tuple[object, str]] = {}
    for path in rc_files(environ, windows):
        for key, value in _network_keys(path).items():
            if key == "proxy_servers" and isinstance(value, dict) and isinstance(merged.get(key, (None,))[0], dict):
                value = {**merged[key][0], **value}  # a mapping merges key by key
            merged[key] = (value, _shrink(path, environ, windows))

    proxies = merged.get("proxy_servers")
    if proxies is not None:
        value, src = proxies
        if not isinstance(value, dict):
            raise UsageError(f"proxy_servers in {src} is not a mapping of scheme to proxy URL")
        for key, url in value.items():
            if key in ("http", "https") and isinstance(url, str) and url:
                s.proxies[key] = (_proxy(url, f"proxy_servers {key!r} in {src}"), src)
            else:
                s.not_carried.append(f"proxy_servers {key!r} in {src}: only the keys http and https can be "
                                     "carried over; set HTTPS_PROXY and NO_PROXY for per-host proxies")

    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        if get(var):
            _proxy(get(var), var)

    for name, var in (("ssl_verify", "MAMBA_SSL_VERIFY"), ("cacert_path", "MAMBA_CACERT_PATH")):
        given = get(var)
        if given is not None:
            merged[name] = (_unquoted(given), var)
    verify = merged.get("ssl_verify")
    if verify is not None and str(verify[0]).strip().lower() in _FALSE:
        instead = ("remove it (Windows' certificate store, where a company deploys its proxy's root, is checked then), "
                   "or set it to your company's CA file" if windows else
                   "set ssl_verify (or REQUESTS_CA_BUNDLE) to your company's CA bundle instead")
        raise UsageError(f"ssl_verify is off in {verify[1]}; mambaboot does not download without checking "
                         f"certificates: {instead}")
    candidates = []
    if verify is not None and str(verify[0]).strip().lower() not in _TRUE:
        candidates.append(verify)
    if merged.get("cacert_path") and str(merged["cacert_path"][0]).strip():
        candidates.insert(0, merged["cacert_path"])  # libmamba: cacert_path overrides a path in ssl_verify
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if get(var) and windows and not candidates:
            # micromamba on Windows is libcurl with Schannel: given no CA file (ssl_verify unset:
            # `<system>`, which download/downloader.cpp turns into "" on Windows) Schannel checks
            # against Windows' certificate store, where a company's inspection root is deployed;
            # a CA file (CURLOPT_CAINFO, download/curl.cpp) replaces that store (curl#3727), and
            # micromamba never reads these variables itself. Python's ssl keeps the store too
            # (load_default_certs) unless given a file: neither of our downloads takes the variable.
            s.not_carried.append(
                f"{var} ({get(var)}): on Windows micromamba checks certificates against Windows' certificate "
                "store, which a CA file would replace (then hosts the bundle does not cover fail); set "
                "ssl_verify (MAMBA_SSL_VERIFY or .condarc) to that file to use it instead of the store")
            break
        if get(var):
            candidates.append((get(var), var))
    if candidates:
        path, src = str(candidates[0][0]), candidates[0][1]
        path = os.path.expanduser(path) if not windows else path
        if not os.path.exists(path):
            raise UsageError(f"the CA certificates named by {src} do not exist: {path}")
        s.ca = (os.path.abspath(path), src)
        yaml_text(s.ca[0], src)  # refused now, before anything is downloaded

    revoke = get("MAMBA_SSL_NO_REVOKE")
    if revoke:  # the environment wins over the rc files, as in libmamba's Configurable::compute
        s.no_revoke = "MAMBA_SSL_NO_REVOKE" if flag(revoke, "MAMBA_SSL_NO_REVOKE") else None
    elif merged.get("ssl_no_revoke") is not None:
        value, src = merged["ssl_no_revoke"]
        s.no_revoke = src if flag(value, f"ssl_no_revoke in {src}") else None

    alias = get("MAMBA_CHANNEL_ALIAS")
    if alias:
        s.channel_alias = (alias, "MAMBA_CHANNEL_ALIAS")
    elif merged.get("channel_alias") and str(merged["channel_alias"][0]).strip():
        s.channel_alias = (str(merged["channel_alias"][0]).strip(), merged["channel_alias"][1])
    if s.channel_alias:
        _readable(s.channel_alias[0], f"channel_alias in {s.channel_alias[1]}")

    home = user_home(environ, windows)
    if home:
        auth = os.path.join(home, ".mamba", "auth", "authentication.json")
        if os.path.isfile(auth):
            _check_auth(auth)
            s.auth_file = auth
        if not get("NETRC"):
            for name in (".netrc", "_netrc") if windows else (".netrc",):
                if os.path.isfile(os.path.join(home, name)):
                    s.netrc = os.path.join(home, name)
                    break
    s.overrides = {k: v for k, v in environ.items() if (k.upper() if windows else k).startswith("CONDA_OVERRIDE_")}
    return s


def flag(value: object, where: str) -> bool:
    """A boolean setting as the user wrote it (True, 1, yes, On, ...); UsageError naming where
    for anything else, which micromamba would stop on too."""
    word = str(value).strip().lower()  # a bool from an rc file prints as True/False
    if word in _ON or word in _OFF:
        return word in _ON
    raise UsageError(f"{where} is {str(value)!r}, which is neither true nor false: set it to true or false")


def yaml_text(value: str, where: str) -> str:
    """value written so that libmamba reads it back unchanged from a MAMBA_* variable.

    libmamba reads every configurable's variable as a YAML document (`Configurable::compute`,
    libmamba/include/mamba/api/configuration.hpp, through `Source<T>::deserialize`,
    configuration_impl.hpp: `YAML::Load(value).as<T>()`), so a bare path is cut at " #" (a
    comment), throws on a leading @ or ` (reserved) and turns into a mapping at ": ". In single
    quotes YAML takes every character as it is but the quote itself, written twice (YAML 1.2
    section 7.3.2); only a line break would still be folded, and no path needs one.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(f"{where} holds a control character, which micromamba cannot read back: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def _unquoted(value: str) -> str:
    """A MAMBA_* path the user (or a bootstrap script) wrote in YAML's single quotes, as libmamba
    reads it (`yaml_text`); any other value as it is."""
    inner = value.strip()
    if len(inner) >= 2 and inner[0] == inner[-1] == "'" and "'" not in inner[1:-1].replace("''", ""):
        return inner[1:-1].replace("''", "'")
    return value


def _readable(url: str, where: str) -> str:
    """url, when urllib can read it (common/urlrule.py); UsageError naming where otherwise."""
    from mambaboot.common import urlrule

    reason = urlrule.unreadable(url)
    if reason:
        raise UsageError(f"{where}: {urlrule.refused(url)} {reason}")
    return url


def _proxy(url: str, where: str) -> str:
    """A proxy's url, when urllib reads it as a URL and as a proxy: urllib's ProxyHandler
    (urllib/request.py _parse_proxy) raises, quoting the whole value, for a scheme followed by
    one "/" (`http:/me:pw@proxy`), and that would be said, password and all, as mambaboot's bug."""
    from mambaboot.common import urlrule

    scheme, colon, rest = url.partition(":")
    if colon and "/" not in scheme and rest.startswith("/") and not rest.startswith("//"):
        raise UsageError(f"{where}: {urlrule.refused(url)} is no proxy URL: its scheme is not followed by //")
    return _readable(url, where)


def engine_environ(s: Settings) -> dict[str, str]:
    """What to add to micromamba's (already scrubbed, private-home) environment."""
    env = dict(s.overrides)
    for scheme, (url, _) in s.proxies.items():
        env[f"{scheme}_proxy"] = url
        if scheme == "https":  # libcurl reads both cases for https; ours must win over either
            env["HTTPS_PROXY"] = url
    if s.ca:
        env["MAMBA_SSL_VERIFY"] = yaml_text(s.ca[0], s.ca[1])
    if s.no_revoke:
        # libmamba reads the variable twice: as YAML into the ssl_no_revoke configurable, where
        # "1" stops micromamba 2.8.1 with "Bad conversion" (mamba-org/mamba#2751), and raw in
        # `get_env_remote_params` (libmamba/src/download/downloader.cpp), where anything but "0"
        # turns the check off, "false" included. So: "true", or the variable left out.
        env["MAMBA_SSL_NO_REVOKE"] = "true"
    if s.channel_alias:
        env["MAMBA_CHANNEL_ALIAS"] = s.channel_alias[0]
    if s.netrc:
        env["NETRC"] = s.netrc
    return env


def install_credentials(s: Settings, home: str) -> None:
    """The auth file where libmamba looks for it: the (private, deleted after the run) home."""
    if s.auth_file:
        from mambaboot.common.files import confined

        data = confined.read_named(s.auth_file)
        with confined.Root.open(home) as private:
            private.makedirs(".mamba/auth", 0o700)
            private.write_replace(".mamba/auth/authentication.json", data, 0o600)


def handlers(s: Settings) -> list:
    """The same proxy and CA for our own downloads (urllib reads the proxy variables itself)."""
    import ssl  # with urllib.request ~30 ms: only a run that downloads pays for them
    import urllib.request

    found = []
    if s.proxies:
        proxies = urllib.request.getproxies()
        proxies.update({scheme: url for scheme, (url, _) in s.proxies.items()})
        found.append(urllib.request.ProxyHandler(proxies))
    if s.ca:
        path = s.ca[0]
        try:
            context = ssl.create_default_context(**({"capath": path} if os.path.isdir(path) else {"cafile": path}))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"the CA certificates named by {s.ca[1]} ({path}) cannot be read: {exc}") from None
        found.append(urllib.request.HTTPSHandler(context=context))
    return found


def rc_files(environ: Mapping[str, str], windows: bool) -> list[str]:
    """libmamba's system and user rc files that exist, lowest precedence first."""
    get = _getter(environ, windows)
    home = user_home(environ, windows) or ""
    if windows:
        system = [r"C:\ProgramData\conda\.condarc", r"C:\ProgramData\conda\condarc",
                  r"C:\ProgramData\conda\condarc.d", r"C:\ProgramData\conda\.mambarc"]
        # libmamba asks Windows for the Roaming AppData known folder; APPDATA names it.
        config = get("XDG_CONFIG_HOME") or get("APPDATA") or ""
    else:
        system = [f"{base}/{name}" for base in ("/etc/conda", "/var/lib/conda")
                  for name in (".condarc", "condarc", "condarc.d", ".mambarc")]
        config = get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    join = os.path.join
    user = [join(config, "conda", n) for n in (".condarc", "condarc", "condarc.d")] if config else []
    user += [join(home, ".conda", n) for n in (".condarc", "condarc", "condarc.d")] + [join(home, ".condarc")]
    if get("XDG_CONFIG_HOME"):
        user += [join(get("XDG_CONFIG_HOME"), "conda", n) for n in (".condarc", "condarc", "condarc.d")]
    if get("CONDARC"):
        user.append(get("CONDARC"))
    user += [join(config, "mamba", n) for n in (".mambarc", "mambarc", "mambarc.d")] if config else []
    user += [join(home, ".mamba", n) for n in (".mambarc", "mambarc", "mambarc.d")] + [join(home, ".mambarc")]
    if get("MAMBARC"):
        user.append(get("MAMBARC"))
    found, seen = [], set()
    for path in system + (user if home else []):
        if path in seen:
            continue
        seen.add(path)
        if os.path.isdir(path):
            found += sorted(join(path, n) for n in os.listdir(path) if n.endswith((".yml", ".yaml")))
        elif os.path.isfile(path):
            found.append(path)
    return found


def user_home(environ: Mapping[str, str], windows: bool) -> str | None:
    """libmamba's `user_home_dir` (libmamba/src/util/environment.cpp)."""
    get = _getter(environ, windows)
    if windows:
        return get("USERPROFILE") or ((get("HOMEDRIVE") or "") + (get("HOMEPATH") or "")) or None
    return get("HOME") or None


def _network_keys(path: str) -> dict[str, object]:
    import re

    from mambaboot.common import untrusted
    from mambaboot.common.errors import UntrustedInput

    try:
        text = untrusted.read_text(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not re.search(_MENTIONS, text, re.M):
        return {}  # nothing of ours in it: what else it says is not our business
    try:
        data = untrusted.yaml(text, path)
    except UntrustedInput as exc:
        raise UntrustedInput(f"{path} sets network options in YAML mambaboot cannot read ({exc.problem}); "
                             "write them as plain `key: value` lines or use the environment variables "
                             "HTTPS_PROXY and REQUESTS_CA_BUNDLE", path, exc.problem) from None
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in _KEYS if data.get(k) is not None}


def _check_auth(path: str) -> None:
    """Refuse what libmamba would choke on, before the engine runs with it."""
    import base64

    from mambaboot.common import untrusted

    try:
        data = untrusted.read_json(path, limit=untrusted.TEXT, follow=True)
        for host, entry in data.items():
            if entry.get("type") == "BasicHTTPAuthentication":
                base64.b64decode(entry["password"], validate=True)
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} cannot be read as micromamba's credentials file: {exc}") from None


def _getter(environ: Mapping[str, str], windows: bool):
    if not windows:
        return environ.get
    folded = {k.upper(): v for k, v in environ.items()}
    return lambda name: folded.get(name.upper())


def _shrink(path: str, environ: Mapping[str, str], windows: bool) -> str:
    home = user_home(environ, windows)
    if home and path.startswith(home.rstrip("/\\") + os.sep):
        return "~" + path[len(home.rstrip("/\\")):]
    return path
