"""A micromamba 2.x stand-in: its command line, its side effects, a real solve + link.

Tests call ``make_standin(dest)`` to get an executable "micromamba" whose text is this file
with a shebang to the test interpreter (which has py-rattler) and the version substituted.
The solve and the link are done by py-rattler, so environments get real ``conda-meta``
records; around them the script reproduces what micromamba does to the machine (see
DESIGN.md section 2) so that tests can prove mambaboot's sandbox contains it:

* appends the prefix to ``~/.conda/environments.txt`` after every successful create;
* without ``CONDA_PKGS_DIRS``: uses ``ROOT/pkgs`` and ``~/.mamba/pkgs`` (both created/locked);
* without ``-r`` and ``MAMBA_ROOT_PREFIX``: creates ``$XDG_DATA_HOME/mamba`` or
  ``~/.local/share/mamba``;
* without ``--no-rc``: reads ``.condarc``/``.mambarc`` files and honours their ``channels``
  and ``pkgs_dirs``;
* holds an exclusive lock on ``pkgs.lock`` in every package cache for the whole transaction
  (libmamba's kind: a POSIX record lock on byte 21, ``_locking`` at offset 21 on Windows);
* ``create -y`` on an existing conda prefix deletes it first; an existing target that is the
  root prefix is refused ("Overwriting root prefix is not permitted - aborting.",
  libmamba/src/api/create.cpp ``create()``, 1.5.12 to 2.8.1), an empty one is used;
* shortcuts default to on: a package's ``Menu/*.json`` becomes a shortcut in the Programs known
  folder (libmamba/src/core/link.cpp, Windows only, for a prefix whose name does not start
  with ``_``); menuinst finds that folder with SHGetKnownFolderPath, which no environment
  variable redirects (libmamba/src/util/os_win.cpp), so the stand-in writes it to
  ``STANDIN_KNOWN_FOLDER_PROGRAMS`` whatever HOME/APPDATA say (unset: not Windows, nothing);
* links as libmamba does where mambaboot reads the result (``relink_as_libmamba``): records
  without ``prefix_placeholder``/``file_mode``, a ``#!`` line changed only past 127 characters (a
  prefix with a space stays in it), binary placeholders NUL-padded;
* version-dependent (``make_standin(version=...)``): from 2.6.0 a request naming python gets a
  ``pip`` spec (the channel must have pip), and packages go under their URL
  directory in the package cache (``pkgs/file/tmp/.../channel/linux-64/<pkg>/``; every package of
  a run under the first channel's folder for this platform, where micromamba splits by each
  package's own URL: the test channels' packages are linux-64); before 2.1.0 an @EXPLICIT line's ``#hash``
  is always an md5 (1.5.12 libmamba/src/api/install.cpp, 2.0.x specs/package_info.cpp
  ``from_url``), from 2.1.0 a 64-digit one is a sha256.

Faults as micromamba reports them: a link that runs out of disk space rolls back and says
"filesystem error: cannot copy: Input/output error" (libstdc++'s copy under libmamba's link), no
word of space; a SIGINT to the stand-in alone, while it links or waits on STANDIN_BLOCK_FIFO, rolls
back what it linked and exits 0 (``link``, ``roll_back``).

Fault injection (not micromamba variables, so mambaboot passes them through):
  STANDIN_FAIL=1         fail with ``critical libmamba injected failure`` before any change
  STANDIN_BLOCK_FIFO=P   after linking, block reading FIFO P until the test writes to it
  STANDIN_RECORD=P       append a JSON line {argv, env, cwd, rc_files} per run to P
  STANDIN_INTERRUPTED=W:H end as an engine the user's Ctrl-C reached first, with no signal sent to
                         anyone: at W (``version``: answering --version; ``create``: after linking),
                         H = ``exit`` exits 130, ``signal`` dies of SIGINT, ``late`` exits 130 and
                         sends SIGINT to its parent only once the prefix is deleted or moved (after
                         the parent reaped it and began to roll back), from a process of its own;
                         ``verify:exit`` and ``verify:signal``: the test channel's conda does the same
                         when verification asks its version; ``verify:stall``: that conda writes its
                         pid to the FIFO STANDIN_STALL_FIFO names, then runs until it is stopped

py-rattler is imported inside the functions that need it: ``--version`` and ``--help`` stay
instant, and tests can import ``make_standin`` cheaply.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

VERSION = "2.8.1"  # make_standin substitutes this line
# tests/support, for standin_install's libmamba link rules (the stand-in runs with -I, so nothing
# of the checkout is on its path): make_standin substitutes this line too.
SUPPORT_DIR = None

ON_WINDOWS = sys.platform == "win32"
HOST_PLATFORM = {"win32": "win-64", "darwin": "osx-64"}.get(sys.platform, "linux-64")


# --------------------------------------------------------------------------- test-side API


def make_standin(dest: os.PathLike[str] | str, *, version: str = "2.8.1") -> Path:
    """Write an executable micromamba stand-in at ``dest`` and return its path.

    The bytes depend only on ``version`` and the test interpreter's path, so a served
    "release asset" has a stable sha256 within a session.
    """
    dest = Path(dest)
    source = Path(__file__).read_text(encoding="utf-8")
    source, count = re.subn(r'^VERSION = "[^"]*"', f'VERSION = "{version}"', source, count=1, flags=re.M)
    if count != 1:
        raise RuntimeError("VERSION line not found in stand-in source")
    source = source.replace("\nSUPPORT_DIR = None\n", f"\nSUPPORT_DIR = {str(Path(__file__).parent)!r}\n", 1)
    # -I: the stand-in must not see PYTHON* variables or user site-packages of a fake HOME.
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(f"#!{sys.executable} -I\n{source}", encoding="utf-8")
    dest.chmod(0o755)
    return dest


# --------------------------------------------------------------------------- errors/output


class Failure(Exception):
    """A micromamba error: printed as ``critical libmamba <message>``, exit code 1."""


def finish(code: int) -> None:
    """Flush and leave without interpreter shutdown (py-rattler can crash there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def log(options: "Options", message: str) -> None:
    if options.verbose:
        print(f"info     libmamba {message}", file=sys.stderr)


# --------------------------------------------------------------------------- command line

HELP = f"""Version: {VERSION}

Usage: micromamba [OPTIONS] [SUBCOMMAND]

Options:
  -h,--help                   Print this help message and exit
  --version

Subcommands:
  create                      Create new environment
  info                        Information about micromamba
  env                         See `mamba env --help`

(mambaboot test stand-in: only the options above and those of `create` are modelled.)
"""

CREATE_HELP = """Create new environment
Usage: micromamba create [OPTIONS] [specs...]

Positionals:
  specs TEXT ...              Specs to install into the environment

Options:
  -h,--help                   Print this help message and exit
  -f,--file TEXT ...          File (yaml, explicit or plain)
  -n,--name TEXT              Name of the target prefix
  -p,--prefix TEXT            Path to the target prefix
  -r,--root-prefix TEXT       Path to the root prefix
  --rc-file TEXT ...          Paths to the configuration files to use
  --no-rc                     Disable the use of configuration files
  --no-env                    Disable the use of environment variables
  -c,--channel TEXT ...       Define the list of channels
  --override-channels         Override channels
  --strict-channel-priority   Enable strict channel priority
  --platform TEXT             The platform description
  --always-copy               Use copy instead of hard-link
  --no-pyc                    Do not compile .pyc files
  --shortcuts,--no-shortcuts{false}
                              Install start menu shortcuts on Windows (not implemented on Linux / macOS)
  --lock-timeout UINT         LockFile timeout
  -y,--yes                    Automatically answer yes on prompted questions
  --json                      Report all output as json
  --offline                   Force use cached repodata
  --dry-run                   Only display what would have been done
  -q,--quiet                  Set quiet mode (print less output)
  -v,--verbose                Set verbosity (higher verbosity with multiple -v, e.g. -vvv)
"""

# option -> (attribute, takes a value, repeatable)
_VALUE_OPTIONS = {
    "-p": "prefix", "--prefix": "prefix",
    "-r": "root_prefix", "--root-prefix": "root_prefix",
    "-n": "name", "--name": "name",
    "--platform": "platform",
    "--lock-timeout": "lock_timeout",
}
_LIST_OPTIONS = {"-c": "channels", "--channel": "channels", "-f": "files", "--file": "files", "--rc-file": "rc_files"}
_FLAGS = {
    "--no-rc": "no_rc", "--no-env": "no_env", "-y": "yes", "--yes": "yes", "--json": "json",
    "--offline": "offline", "--dry-run": "dry_run", "--override-channels": "override_channels",
    "--strict-channel-priority": "strict_channel_priority", "--always-copy": "always_copy",
    "--no-pyc": "no_pyc", "-q": "quiet", "--quiet": "quiet",
}


@dataclass
class Options:
    prefix: str | None = None
    root_prefix: str | None = None
    name: str | None = None
    platform: str | None = None
    lock_timeout: str | None = None
    channels: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rc_files: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    no_rc: bool = False
    no_env: bool = False
    yes: bool = False
    json: bool = False
    offline: bool = False
    dry_run: bool = False
    override_channels: bool = False
    strict_channel_priority: bool = False
    always_copy: bool = False
    no_pyc: bool = False
    shortcuts: bool = True  # `--shortcuts,!--no-shortcuts`, default on (context.hpp)
    quiet: bool = False
    verbose: int = 0
    help: bool = False


class UsageError(Exception):
    """A command-line error, reported the way CLI11 (micromamba's parser) does."""


def parse_create(args: list[str]) -> Options:
    options = Options()
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--":
            options.specs.extend(queue)
            break
        if not arg.startswith("-") or arg == "-":
            options.specs.append(arg)
            continue
        name, has_inline, inline = arg.partition("=") if arg.startswith("--") else (arg, False, "")
        if name in ("-h", "--help"):
            options.help = True
        elif re.fullmatch(r"-v+", name):
            options.verbose += len(name) - 1
        elif name == "--verbose":
            options.verbose += 1
        elif name in ("--shortcuts", "--no-shortcuts") and not has_inline:
            options.shortcuts = name == "--shortcuts"
        elif name in _FLAGS and not has_inline:
            setattr(options, _FLAGS[name], True)
        elif name in _VALUE_OPTIONS or name in _LIST_OPTIONS:
            if not has_inline and not queue:
                raise UsageError(f"{name} requires an argument")
            value = inline if has_inline else queue.pop(0)
            if name in _LIST_OPTIONS:
                getattr(options, _LIST_OPTIONS[name]).append(value)
            else:
                setattr(options, _VALUE_OPTIONS[name], value)
        else:
            raise UsageError(f"The following argument was not expected: {arg}")
    if options.lock_timeout is not None and not options.lock_timeout.isdigit():
        raise UsageError(f"--lock-timeout: Value {options.lock_timeout} could not be converted")
    return options


# --------------------------------------------------------------------------- YAML subset


def parse_yaml_subset(text: str) -> dict[str, object]:
    """Top-level ``key: scalar``, ``key: [a, b]`` and ``key:`` + ``- item`` lists.

    Deeper nesting (mappings in a condarc, a ``pip:`` section's items) is skipped: callers
    read only ``channels``, ``pkgs_dirs``, ``name`` and ``dependencies``.
    """
    doc: dict[str, object] = {}
    current: list | None = None
    item_indent: int | None = None
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0 and not stripped.startswith("-"):
            key, _, value = stripped.partition(":")
            value = value.strip()
            current, item_indent = None, None
            if value.startswith("[") and value.endswith("]"):
                doc[key.strip()] = [_unquote(v.strip()) for v in value[1:-1].split(",") if v.strip()]
            elif value:
                doc[key.strip()] = _unquote(value)
            else:
                current = doc.setdefault(key.strip(), [])
        elif stripped.startswith("-") and current is not None:
            item_indent = indent if item_indent is None else item_indent
            if indent == item_indent:
                current.append(_unquote(stripped[1:].strip()))
    return doc


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


# --------------------------------------------------------------------------- context


def home_dir() -> Path:
    var = "USERPROFILE" if ON_WINDOWS else "HOME"
    return Path(os.environ.get(var) or os.path.expanduser("~"))


def default_root_prefix() -> Path:
    if ON_WINDOWS:
        return Path(os.environ.get("APPDATA") or home_dir() / "AppData" / "Roaming") / "mamba"
    return Path(os.environ.get("XDG_DATA_HOME") or home_dir() / ".local" / "share") / "mamba"


def rc_candidates(root_prefix: Path) -> list[Path]:
    """micromamba's rc search path, lowest precedence first."""
    system = [Path("C:/ProgramData/conda")] if ON_WINDOWS else [Path("/etc/conda")]
    home = home_dir()
    xdg_config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    candidates = [d / n for d in system for n in (".condarc", "condarc", ".mambarc")]
    candidates += [root_prefix / ".condarc", root_prefix / "condarc", root_prefix / ".mambarc"]
    candidates += [xdg_config / "conda" / ".condarc", home / ".conda" / ".condarc"]
    candidates += [home / ".condarc", home / ".mambarc"]
    for var in ("CONDA_PREFIX", "MAMBA_ROOT_PREFIX"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]) / ".condarc")
    candidates += [Path(os.environ[v]) for v in ("CONDARC", "MAMBARC") if os.environ.get(v)]
    return candidates


@dataclass
class RcSettings:
    files: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    pkgs_dirs: list[str] = field(default_factory=list)
    network: dict = field(default_factory=dict)  # ssl_verify, cacert_path, proxy_servers, channel_alias


def read_rc(root_prefix: Path, options: Options) -> RcSettings:
    settings = RcSettings()
    if options.no_rc:
        paths = [Path(p) for p in options.rc_files]
    else:
        paths = rc_candidates(root_prefix) + [Path(p) for p in options.rc_files]
    seen: set[Path] = set()
    # Highest precedence first, as micromamba merges sequences.
    for path in reversed(paths):
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        doc = parse_yaml_subset(path.read_text(encoding="utf-8"))
        settings.files.append(str(path))
        settings.channels += [c for c in _as_list(doc.get("channels")) if c not in settings.channels]
        settings.pkgs_dirs += [os.path.expanduser(d) for d in _as_list(doc.get("pkgs_dirs"))]
        import yaml  # nested mappings (proxy_servers): libmamba reads rc files with yaml-cpp

        full = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("ssl_verify", "cacert_path", "proxy_servers", "channel_alias"):
            if full.get(key) is not None and key not in settings.network:  # highest precedence first
                settings.network[key] = full[key]
    return settings


# The configurables micromamba reads from MAMBA_<KEY> (`.set_env_var_names()`,
# libmamba/src/api/configuration.cpp 2.8.1) that the stand-in models, with their type.
ENV_CONFIGURABLES = {"MAMBA_SSL_NO_REVOKE": ("ssl_no_revoke", bool), "MAMBA_SSL_VERIFY": ("ssl_verify", str),
                     "MAMBA_CACERT_PATH": ("cacert_path", str), "MAMBA_CHANNEL_ALIAS": ("channel_alias", str)}
# yaml-cpp's convert<bool>::decode (src/convert.cpp, 0.8.0): these words, each in lower case, Capitalised or
# UPPER case only (IsFlexibleCase); nothing else, 1 and 0 included.
# What read_env_configurables read (the recorded environment keeps what was given).
ENV_READ: dict = {}
YAML_CPP_BOOLS = {"y": True, "yes": True, "true": True, "on": True, "n": False, "no": False, "false": False, "off": False}


def yaml_cpp_scalar(value: str, kind: type):
    """`Source<T>::deserialize` (libmamba/include/mamba/api/configuration_impl.hpp):
    `YAML::Load(value).as<T>()`, "" as an empty scalar; ValueError where yaml-cpp throws."""
    import yaml

    try:
        node = yaml.compose(value) if value else yaml.ScalarNode("tag:yaml.org,2002:str", "")
    except yaml.YAMLError as exc:  # a leading @ or `, an unclosed quote, ...
        raise ValueError(str(exc).splitlines()[0]) from None
    if node is None or node.tag == "tag:yaml.org,2002:null":
        node = yaml.ScalarNode("tag:yaml.org,2002:null", "null")  # as<std::string>() of a null node is "null"
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError("bad conversion")  # as<std::string>() of a map or sequence: TypedBadConversion
    if kind is bool:
        word = node.value
        rest = word[1:]  # IsFlexibleCase: all lower, or a capital then all lower or all upper ("" is either)
        flexible = word.islower() or (word[:1].isupper() and (not rest or rest.islower() or rest.isupper()))
        if not flexible or word.lower() not in YAML_CPP_BOOLS:
            raise ValueError("bad conversion")
        return YAML_CPP_BOOLS[word.lower()]
    return node.value


def read_env_configurables() -> None:
    """What `Configurable::compute` (libmamba/include/mamba/api/configuration.hpp) does with
    MAMBA_<KEY>: an unreadable value is logged and thrown, and micromamba ends with exit 1
    (micromamba/src/main.cpp: LOG_CRITICAL, return 1). What YAML read is what the stand-in
    uses (ENV_READ); `get_env_remote_params` (download/downloader.cpp) reads MAMBA_SSL_NO_REVOKE
    raw as well (anything but "0" turns the revocation check off), which it need not model."""
    ENV_READ.clear()
    for var, (name, kind) in ENV_CONFIGURABLES.items():
        value = os.environ.get(var)
        if value is None:
            continue
        try:
            read = yaml_cpp_scalar(value, kind)
        except ValueError:
            print(f"error    libmamba Bad conversion of configurable '{name}' from environment variable '{var}' "
                  f"with value '{value}' : yaml-cpp: error at line 1, column 1: bad conversion", file=sys.stderr)
            raise Failure("yaml-cpp: error at line 1, column 1: bad conversion") from None
        ENV_READ[var] = read


# libmamba/src/download/downloader.cpp (2.8.1; core/fetch.cpp in 1.5.12): "<system>" is the
# first of these that exists, on Linux.
SYSTEM_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
                   "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem")


# host -> rattler's BasicHTTP entry, for the stand-in's own requests (the index cache): curl sends
# the user and password it was given with the first request (CURLOPT_USERPWD, Basic).
CREDENTIALS: dict = {}


def apply_network(rc: RcSettings, options: Options) -> None:
    """libmamba's network configuration, imposed on the HTTP clients the stand-in uses
    (rattler's and urllib both honour SSL_CERT_FILE, HTTPS_PROXY and RATTLER_AUTH_FILE), so a
    setting micromamba would not see is not seen here either.

    - ssl_verify: MAMBA_SSL_VERIFY, else the rc files; `ssl_verify_hook`
      (libmamba/src/api/configuration.cpp): false -> no check, a non-empty cacert_path wins,
      empty/true -> "<system>", the fixed file list above. So REQUESTS_CA_BUNDLE and
      SSL_CERT_FILE go unread: the hook never leaves ssl_verify empty.
    - proxies: proxy_servers from the rc files (CURLOPT_PROXY), else libcurl's variables:
      http_proxy in lower case only, https_proxy or HTTPS_PROXY, all_proxy or ALL_PROXY.
    - credentials: ~/.mamba/auth/authentication.json under the user's home
      (`Context::authentication_info`, core/context.cpp), BasicHTTPAuthentication with a
      base64 password; NETRC or $HOME/.netrc (curl, CURLOPT_NETRC_OPTIONAL, download/curl.cpp).
    """
    if options.offline:
        return
    net = rc.network
    env = os.environ
    verify = str(ENV_READ.get("MAMBA_SSL_VERIFY") or net.get("ssl_verify") or "")
    cacert = str(ENV_READ.get("MAMBA_CACERT_PATH") or net.get("cacert_path") or "")
    if verify.lower() in ("false", "0", "<false>"):
        raise Failure("stand-in: ssl_verify false is not modelled")
    if cacert:
        ca = cacert
    elif verify.lower() in ("", "true", "1", "<true>", "<system>"):
        ca = next((p for p in SYSTEM_CA_FILES if os.path.exists(p)), "")
        if not ca:
            raise Failure("No CA certificates found on system, aborting")
    else:
        ca = verify
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        env.pop(var, None)
    env["SSL_CERT_DIR" if os.path.isdir(ca) else "SSL_CERT_FILE"] = ca

    servers = net.get("proxy_servers") or {}
    chosen = {
        "http": servers.get("http") or env.get("http_proxy") or env.get("all_proxy") or env.get("ALL_PROXY"),
        "https": servers.get("https") or env.get("https_proxy") or env.get("HTTPS_PROXY")
        or env.get("all_proxy") or env.get("ALL_PROXY"),
    }
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(var, None)
    for scheme, url in chosen.items():
        if url:
            env[f"{scheme}_proxy"] = env[f"{scheme.upper()}_PROXY"] = str(url)

    credentials = {}
    netrc_file = env.get("NETRC") or str(home_dir() / ".netrc")
    if os.path.isfile(netrc_file):
        import netrc

        for host, (login, _, password) in netrc.netrc(netrc_file).hosts.items():
            credentials[host] = {"BasicHTTP": {"username": login, "password": password}}
    auth = home_dir() / ".mamba" / "auth" / "authentication.json"
    if auth.is_file():
        import base64

        for key, entry in json.loads(auth.read_text(encoding="utf-8")).items():
            if entry.get("type") == "BasicHTTPAuthentication":
                host = re.split(r"[:/]", key, maxsplit=1)[0]  # rattler matches the host name alone
                credentials[host] = {"BasicHTTP": {"username": entry.get("user", ""),
                                                   "password": base64.b64decode(entry["password"]).decode()}}
    if net.get("channel_alias") and not ENV_READ.get("MAMBA_CHANNEL_ALIAS"):
        ENV_READ["MAMBA_CHANNEL_ALIAS"] = str(net["channel_alias"])  # read by make_channel, env first
    CREDENTIALS.clear()
    CREDENTIALS.update(credentials)
    env.pop("RATTLER_AUTH_FILE", None)
    if credentials:
        store = Path(env.get("TMPDIR") or "/tmp") / f"standin-auth-{os.getpid()}.json"
        store.write_text(json.dumps(credentials), encoding="utf-8")
        env["RATTLER_AUTH_FILE"] = str(store)


def _as_list(value: object) -> list[str]:
    return list(value) if isinstance(value, list) else ([value] if isinstance(value, str) else [])


def resolve_root_prefix(options: Options) -> tuple[Path, bool]:
    """(root prefix, whether it is micromamba's default that gets created)."""
    if options.root_prefix:
        return Path(os.path.abspath(options.root_prefix)), False
    if os.environ.get("MAMBA_ROOT_PREFIX"):
        return Path(os.path.abspath(os.environ["MAMBA_ROOT_PREFIX"])), False
    return default_root_prefix(), True


def resolve_pkgs_dirs(root_prefix: Path, rc: RcSettings) -> list[Path]:
    if os.environ.get("CONDA_PKGS_DIRS"):
        # Comma-separated, not os.pathsep (a conda convention).
        return [Path(os.path.abspath(p.strip())) for p in os.environ["CONDA_PKGS_DIRS"].split(",") if p.strip()]
    if rc.pkgs_dirs:
        return [Path(os.path.abspath(p)) for p in rc.pkgs_dirs]
    return [root_prefix / "pkgs", home_dir() / ".mamba" / "pkgs"]


def resolve_target(options: Options, root_prefix: Path, env_file: dict) -> Path:
    if options.prefix:
        return Path(os.path.abspath(options.prefix))
    name = options.name or env_file.get("name")
    if name:
        return root_prefix / "envs" / str(name)
    raise Failure("No target prefix specified: use -p/--prefix or -n/--name")


def record_run(rc: RcSettings) -> None:
    path = os.environ.get("STANDIN_RECORD")
    if not path:
        return
    entry = {"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(), "rc_files": rc.files,
             # libmamba's credentials file, in whatever home it was given (core/context.cpp)
             "auth_file": (home_dir() / ".mamba" / "auth" / "authentication.json").is_file()}
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry) + "\n")


# --------------------------------------------------------------------------- input files


@dataclass
class Inputs:
    specs: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    explicit: list[tuple[str, str | None]] = field(default_factory=list)  # (url, "sha256:<hex>")
    name: str | None = None


def read_inputs(options: Options) -> Inputs:
    inputs = Inputs(specs=list(options.specs))
    for file in options.files:
        text = Path(file).read_text(encoding="utf-8")
        if file.endswith(("-lock.yml", "-lock.yaml")):
            inputs.explicit += read_conda_lock(file, options.platform or HOST_PLATFORM)
            continue
        if "@EXPLICIT" in text:
            inputs.explicit += parse_explicit(text)
        elif file.endswith((".yml", ".yaml")):
            doc = parse_yaml_subset(text)
            inputs.channels += _as_list(doc.get("channels"))
            dependencies = _as_list(doc.get("dependencies"))
            if any(d.endswith(":") for d in dependencies):
                raise Failure(f"nested dependency sections (pip:) are not supported by the test stand-in: {file}")
            inputs.specs += dependencies
            inputs.name = inputs.name or (doc.get("name") if isinstance(doc.get("name"), str) else None)
        else:  # a plain spec list, one per line
            inputs.specs += [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]
    if inputs.explicit and inputs.specs:
        raise Failure("cannot mix an @EXPLICIT file with other specs")
    return inputs


def read_conda_lock(file: str, platform: str) -> list[tuple[str, str | None]]:
    """conda-lock's unified file as libmamba reads it (libmamba/src/core/env_lockfile_conda.cpp,
    2.8.1): version 1 only; at least one platform, source and content hash; each channel's url and
    used_env_vars; each package's md5 or sha256. The `main` category's conda packages of this
    platform are installed as an explicit list (create_explicit_transaction_from_lockfile,
    libmamba/src/core/transaction.cpp), none of them: a warning, and nothing installed."""
    import yaml

    try:
        doc = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise Failure(f"YAML parsing error while reading environment lockfile located at '{file}' : {exc}") from None
    if doc.get("version") != 1:
        raise Failure(f"Failed to read environment lockfile at '{file}' : unknown version '{doc.get('version')}'")
    meta = doc.get("metadata") or {}
    for key, what in (("platforms", "metadata.platform.*"), ("sources", "metadata.source.*"),
                      ("content_hash", "metadata.content_hash.*")):
        if not meta.get(key):
            raise Failure(f"at least one '{what}' must be specified, found none")
    for channel in meta.get("channels") or []:
        if not isinstance(channel, dict) or "url" not in channel or "used_env_vars" not in channel:
            raise Failure(f"invalid channel entry in {file}: {channel!r}")
    entries = []
    for package in doc.get("package") or []:
        digests = package.get("hash") or {}
        if not (digests.get("md5") or digests.get("sha256")):
            raise Failure("either package 'package.info.hash.md5' or 'package.info.hash.sha256' must be "
                          "specified, found none")
        if (package["manager"] != "conda" or package["platform"] != platform
                or package.get("category", "main") != "main"):
            continue
        checksum = f"sha256:{digests['sha256']}" if digests.get("sha256") else f"md5:{digests['md5']}"
        entries.append((package["url"], checksum))
    if not entries:
        print(f"warning  libmamba Selected packages for category 'main' are empty. The lockfile might not be "
              f"resolved for your platform ({platform}).", file=sys.stderr)
    return entries


def _names(specs: list[str]) -> set[str]:
    """The package names of match specs (MatchSpec::extract_name): what comes before a version,
    a build, a bracket or a space, after a channel."""
    return {re.split(r"[\s=<>!~\[;]", s.strip(), maxsplit=1)[0].split("::")[-1] for s in specs if s.strip()}


def cache_folder(channel: str) -> str:
    """Where 2.6+ puts a channel's packages inside a package cache: the URL directory with
    "://" -> "/" and ":" "\\" -> "_" (package_cache_folder_relative_path, package_cache.cpp).
    The stand-in links in one rattler call, so every package of a run goes under the first
    channel's folder for this platform (real micromamba splits by each package's own URL)."""
    url = channel.rstrip("/") + "/" + HOST_PLATFORM
    return url.replace("://", "/").replace(":", "_").replace("\\", "_").lstrip("/")


def explicit_channel(entries: list[tuple[str, str | None]]) -> str:
    return entries[0][0].rsplit("/", 2)[0]


def version_at_least(*wanted: int) -> bool:
    numbers = tuple(int(n) for n in re.findall(r"\d+", VERSION)[:3])
    return numbers >= wanted


def parse_explicit(text: str) -> list[tuple[str, str | None]]:
    md5_only = not version_at_least(2, 1)
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "@EXPLICIT":
            continue
        url, _, fragment = line.partition("#")
        checksum = None
        if md5_only and re.fullmatch(r"[0-9a-fA-F]+", fragment):
            checksum = "md5:" + fragment.lower()
        elif re.fullmatch(r"[0-9a-fA-F]{64}", fragment):
            checksum = "sha256:" + fragment.lower()
        elif re.fullmatch(r"[0-9a-fA-F]{32}", fragment):
            checksum = "md5:" + fragment.lower()
        elif fragment.startswith(("sha256:", "md5:")):
            checksum = fragment.lower()
        entries.append((url, checksum))
    return entries


# --------------------------------------------------------------------------- locking


MAMBA_LOCK_POS = 21  # libmamba locks this one byte of the lock file


class CacheLock:
    """Exclusive lock on ``<pkgs>/pkgs.lock`` held for the whole transaction."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "pkgs.lock"
        self.stream = open(self.path, "a+b")

    def acquire(self, timeout: float | None) -> None:
        # The blocking lock call runs in a thread so a timeout needs no polling;
        # on timeout the process exits and the stuck thread dies with it.
        errors: list[BaseException] = []
        worker = threading.Thread(target=self._lock_blocking, args=(errors,), daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise Failure(f"Could not lock '{self.path}': timed out after {timeout:g} s")
        if errors:
            raise Failure(f"Could not lock '{self.path}': {errors[0]}")

    def _lock_blocking(self, errors: list[BaseException]) -> None:
        try:
            if ON_WINDOWS:
                import msvcrt

                self.stream.seek(MAMBA_LOCK_POS)
                msvcrt.locking(self.stream.fileno(), msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.lockf(self.stream.fileno(), fcntl.LOCK_EX, 1, MAMBA_LOCK_POS)
        except OSError as exc:
            errors.append(exc)


def lock_caches(options: Options, pkgs_dirs: list[Path]) -> tuple[list[CacheLock], Path]:
    """Create and lock every usable pkgs dir; return the locks and the download target."""
    timeout = float(options.lock_timeout) if options.lock_timeout and int(options.lock_timeout) > 0 else None
    locks = []
    for directory in pkgs_dirs:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            lock = CacheLock(directory)
        except OSError as exc:
            log(options, f"Skipping unwritable package cache '{directory}': {exc}")
            continue
        lock.acquire(timeout)
        locks.append(lock)
    if not locks:
        raise Failure("No writable package cache directory found")
    return locks, locks[0].path.parent


# --------------------------------------------------------------------------- target prefix


def confirm(options: Options, question: str) -> None:
    """micromamba's prompt: ``-y`` answers yes; no TTY to ask means abort."""
    if options.yes:
        return
    print(f"{question} [Y/n] ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower() if sys.stdin.isatty() else None
    if answer not in ("", "y", "yes"):
        print("Aborted.")
        raise Failure("Aborted.")


def prepare_target(options: Options, prefix: Path, root_prefix: Path) -> None:
    """micromamba's rules for an existing target (libmamba/src/api/create.cpp, in this order);
    deletes an existing conda prefix."""
    if not os.path.lexists(prefix):
        return
    if os.path.abspath(prefix) == os.path.abspath(root_prefix):
        raise Failure("Overwriting root prefix is not permitted - aborting.")
    if not prefix.is_dir():
        raise Failure("Target prefix already exists and is not a folder - aborting.")
    if not any(prefix.iterdir()):
        print("warning  libmamba Using existing empty folder as target prefix", file=sys.stderr)
        return
    if (prefix / "conda-meta").is_dir():
        confirm(options, f"Found conda-prefix at '{prefix}'. Overwrite?")
        if not options.dry_run:
            shutil.rmtree(prefix)
        return
    if any(prefix.iterdir()):
        # logged, then thrown and logged again as critical by main (libmamba/src/api/create.cpp
        # `LOG_ERROR << message; throw mamba_error(...)`, micromamba/src/main.cpp, 2.8.1)
        print("error    libmamba Non-conda folder exists at prefix - aborting.", file=sys.stderr)
        raise Failure("Non-conda folder exists at prefix - aborting.")


def make_shortcuts(prefix: Path) -> None:
    """menuinst on Windows: every Menu/*.json becomes a shortcut in the Programs known folder."""
    programs = os.environ.get("STANDIN_KNOWN_FOLDER_PROGRAMS")
    if not programs or prefix.name.startswith("_"):
        return
    for menu in sorted((prefix / "Menu").glob("*.json")):
        Path(programs).mkdir(parents=True, exist_ok=True)
        (Path(programs) / f"{menu.stem}.lnk").write_text(str(prefix))


def register_env(prefix: Path) -> None:
    """Append to ~/.conda/environments.txt (once per prefix, as libmamba does)."""
    registry = home_dir() / ".conda" / "environments.txt"
    registry.parent.mkdir(parents=True, exist_ok=True)
    existing = registry.read_text(encoding="utf-8").splitlines() if registry.exists() else []
    if str(prefix) not in existing:
        with open(registry, "a", encoding="utf-8") as stream:
            stream.write(f"{prefix}\n")


def write_history(prefix: Path, records: list, specs: list[str]) -> None:
    lines = [
        f"==> {time.strftime('%Y-%m-%d %H:%M:%S')} <==",
        "# cmd: micromamba " + " ".join(sys.argv[1:]),
        "# conda version: 3.8.0",
        *(f"+{_channel_of(r)}{r.subdir}::{r.name.normalized}-{r.version}-{str(r.build)}" for r in records),
        "# update specs: " + json.dumps(specs),
    ]
    with open(prefix / "conda-meta" / "history", "a", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")


def _channel_of(record) -> str:
    channel = record.channel or record.url.rsplit("/", 2)[0] + "/"
    return channel if channel.endswith("/") else channel + "/"


def interrupted_at(where: str, prefix: Path | None = None) -> None:
    """STANDIN_INTERRUPTED (see the module's docstring): nothing unless it names this point."""
    at, _, how = os.environ.get("STANDIN_INTERRUPTED", "").partition(":")
    if at != where:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    if how == "signal":
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    if how == "late":
        _signal_parent_once_gone(prefix)
    os._exit(130)


def _signal_parent_once_gone(prefix: Path) -> None:
    """A process of its own (holding none of our output) watches prefix with inotify and sends
    SIGINT to our parent when the directory is deleted or moved; returns once it watches."""
    import ctypes
    import select
    import signal

    parent = os.getppid()
    ready_r, ready_w = os.pipe()
    if os.fork():
        os.close(ready_w)
        os.read(ready_r, 1)
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    libc = ctypes.CDLL(None, use_errno=True)
    in_move_self, in_delete_self = 0x800, 0x400
    fd = libc.inotify_init1(0)
    libc.inotify_add_watch(fd, str(prefix).encode(), in_move_self | in_delete_self)
    os.write(ready_w, b"1")
    if select.select([fd], [], [], 120)[0]:  # a bound, not a synchronisation: a bug leaves no process behind
        os.kill(parent, signal.SIGINT)
    os._exit(0)


def run_during() -> None:
    """STANDIN_RUN_DURING: a command line run to its end here, the prefix linked and this create
    not yet returned: what another program sees while this engine's caller holds what it holds
    (a bootstrap script's locks), with no timing. Its standard handles are NUL: what it sees, it
    writes where it was told."""
    line = os.environ.get("STANDIN_RUN_DURING")
    if line:
        import shlex
        import subprocess

        null = subprocess.DEVNULL
        subprocess.run(line if sys.platform == "win32" else shlex.split(line), stdin=null, stdout=null, stderr=null)


def block_on_fifo() -> None:
    fifo = os.environ.get("STANDIN_BLOCK_FIFO")
    if fifo:
        # Opening a FIFO for reading blocks until a writer opens it; read(1) until it writes.
        with open(fifo, "rb") as stream:
            stream.read(1)


# --------------------------------------------------------------------------- solve/install


def make_channel(name: str):
    import rattler

    if re.match(r"^[A-Za-z]:[\\/]|^/|^\.", name):  # local path
        name = Path(name).resolve().as_uri()
    elif "://" not in name and ENV_READ.get("MAMBA_CHANNEL_ALIAS"):  # a bare name: channel_alias + name
        name = ENV_READ["MAMBA_CHANNEL_ALIAS"].rstrip("/") + "/" + name
    return rattler.Channel(name)


def _index_cache_name(channel: str, subdir: str) -> str:
    """md5 of the subdir's URL, 8 hex digits (cache_name_from_url(SubdirIndexLoader::name()),
    libmamba/src/core/subdir_index.cpp, 2.8.1; the same in subdirdata.cpp, 1.5.12)."""
    import hashlib

    return hashlib.md5(f"{channel.rstrip('/')}/{subdir}/".encode()).hexdigest()[:8]


def _state_matches(state: dict, json_file: Path) -> bool:
    """A state file describes its .json only while size and mtime agree (SubdirMetadata::read)."""
    st = json_file.stat()
    return state.get("size") == st.st_size and state.get("mtime_ns") == st.st_mtime_ns


def _write_state(state_file: Path, json_file: Path, http: dict) -> None:
    st = json_file.stat()
    state_file.write_text(json.dumps({**http, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def fetch_index(options: Options, channel: str, subdir: str, pkgs_dir: Path) -> Path | None:
    """repodata.json of one http(s) subdir through micromamba's index cache, as 2.8.1 keeps it
    (SubdirIndexLoader::load_cache, build_index_request, use_existing_cache, finalize_transfer):
    ``<first writable pkgs dir>/cache/<md5[:8]>.json`` plus ``.state.json`` (url, etag, mod,
    cache_control, size, mtime_ns); younger than max-age (Cache-Control's, default 3600 s) or
    --offline: no request; older: a conditional GET (If-None-Match / If-Modified-Since), and
    a 304 only refreshes the file's time. A missing platform subdir is ignored, a missing
    noarch is not (``ignore_failure = !is_noarch()``). Local channels are never cached
    (``caching_is_forbidden``); the solve reads them where they are."""
    import urllib.error
    import urllib.parse
    import urllib.request

    cache_dir = pkgs_dir / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = _index_cache_name(channel, subdir)
    json_file, state_file = cache_dir / f"{name}.json", cache_dir / f"{name}.state.json"
    url = f"{channel.rstrip('/')}/{subdir}/repodata.json"
    state: dict = {}
    if json_file.is_file():
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            state = {}
        if state and not _state_matches(state, json_file):
            state = {}
    if state:
        match = re.search(r"max-age=(\d+)", state.get("cache_control", ""))
        max_age = int(match.group(1)) if match else 60 * 60
        if time.time() - json_file.stat().st_mtime < max_age or options.offline:
            return json_file
    elif options.offline:
        return None
    request = _request(url)
    basic = CREDENTIALS.get(urllib.parse.urlsplit(url).hostname or "", {}).get("BasicHTTP")
    if basic:
        import base64

        token = base64.b64encode(f"{basic['username']}:{basic['password']}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if state.get("etag"):
        request.add_header("If-None-Match", state["etag"])
    if state.get("mod"):
        request.add_header("If-Modified-Since", state["mod"])
    try:
        with urllib.request.urlopen(request) as response:
            body, headers = response.read(), response.headers
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and state:
            os.utime(json_file)
            _write_state(state_file, json_file, {k: state.get(k, "") for k in ("url", "etag", "mod", "cache_control")})
            return json_file
        if exc.code == 404 and subdir != "noarch":
            return None
        raise Failure(f"Unable to retrieve repodata (response: {exc.code}) for '{url}'") from None
    part = cache_dir / f"mambaf{os.getpid()}"
    part.write_bytes(body)
    os.replace(part, json_file)
    _write_state(state_file, json_file, {"url": url, "etag": headers.get("ETag", ""),
                                         "mod": headers.get("Last-Modified", ""),
                                         "cache_control": headers.get("Cache-Control", "")})
    return json_file


def _is_remote(channel: str) -> bool:
    return channel.startswith(("http://", "https://"))


def virtual_packages(platform: str) -> list:
    """This machine's virtual packages; for another platform, what libmamba offers for it
    (detail::dist_packages, libmamba/src/core/virtual_packages.cpp, 2.8.1): `__win` or `__unix`
    with `__linux`/`__osx` at version 0, and `__archspec` 1 of the platform's architecture."""
    import rattler

    if platform == HOST_PLATFORM:
        return rattler.VirtualPackage.detect()
    os_name, _, arch = platform.partition("-")
    found = [("__win", "0")] if os_name == "win" else [("__unix", "0")]
    found += [("__linux", "0")] if os_name == "linux" else [("__osx", "0")] if os_name == "osx" else []
    archspec = {"64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(arch, arch)
    packages = [rattler.GenericVirtualPackage(rattler.PackageName(n), rattler.Version(v), rattler.BuildString("0")) for n, v in found]
    return packages + [rattler.GenericVirtualPackage(rattler.PackageName("__archspec"), rattler.Version("1"), rattler.BuildString(archspec))]


def solve_from_index_cache(options: Options, channels: list[str], specs: list[str], pkgs_dir: Path) -> list:
    """The solve when a channel is remote: its index comes through micromamba's cache above."""
    import asyncio

    import rattler

    platform = options.platform or HOST_PLATFORM
    tiers = []
    for name in channels:
        channel = make_channel(name)
        found = []
        for subdir in (platform, "noarch"):
            if _is_remote(name):
                path = fetch_index(options, name, subdir, pkgs_dir)
            else:
                local = Path(channel.base_url.removeprefix("file://")) / subdir / "repodata.json"
                path = local if local.is_file() else None
            if path is not None:
                found.append(rattler.SparseRepoData(channel, subdir, path))
        if found:
            tiers.append(rattler.MultiSource(name, found) if len(found) > 1 else found[0])
    virtual = virtual_packages(platform)
    priority = rattler.ChannelPriority.Strict if options.strict_channel_priority else rattler.ChannelPriority.Flexible
    return asyncio.run(rattler.solve_with_sparse_repodata(
        [rattler.MatchSpec(s) for s in specs], tiers, virtual_packages=virtual, channel_priority=priority))


def solve(options: Options, channels: list[str], specs: list[str], cache: Path, pkgs_dir: Path | None = None) -> list:
    import asyncio

    import rattler

    if not channels:
        raise Failure("No channels specified (use -c/--channel)")
    if pkgs_dir is not None and any(_is_remote(c) for c in channels):
        return solve_from_index_cache(options, channels, specs, pkgs_dir)
    # Sharded repodata off: keeps the requests a test server sees to the classic files.
    config = rattler.SourceConfig(sharded_enabled=False,
                                  cache_action="force-cache-only" if options.offline else "cache-or-fetch")
    # No retries: an unreachable channel should fail now, not after a back-off.
    gateway = rattler.Gateway(cache_dir=cache / "cache", default_config=config,
                              client=rattler.Client.default_client(max_retries=0))
    platform = options.platform or HOST_PLATFORM
    virtual = virtual_packages(platform)
    priority = rattler.ChannelPriority.Strict if options.strict_channel_priority else rattler.ChannelPriority.Flexible
    return asyncio.run(rattler.solve(
        [make_channel(c) for c in channels], specs, gateway=gateway,
        platforms=[platform, "noarch"], virtual_packages=virtual, channel_priority=priority,
    ))


def _extracted_sha256(cache: Path, stem: str) -> str | None:
    """The sha256 the package cache recorded for an extracted package (rattler keeps it in
    ``<stem>.lock`` after an 8-byte revision; micromamba in ``info/repodata_record.json``)."""
    try:
        data = (cache / f"{stem}.lock").read_bytes()
    except OSError:
        return None
    return data[8:40].hex() if len(data) >= 40 and (cache / stem / "info" / "index.json").is_file() else None


def _request(url: str):
    """A request of url as libcurl makes it: a `user:password@` in it sent as Basic auth (the
    request's URL without it), which urllib alone would read as a host and a port."""
    import base64
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=host)) if at else url)
    if at:
        user, _, password = userinfo.partition(":")
        pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    return request


def hide_secrets(text: str) -> str:
    """libmamba's hide_secrets (libmamba/src/core/util.cpp, 2.8.1), which every line its console
    and its log write goes through (output.cpp Console::print, logging.cpp make_safe_log_record)."""
    text = re.sub(r"/t/([a-zA-Z0-9-_]{0,2}[a-zA-Z0-9-]*)", "/t/*****", text) if "/t/" in text else text
    return re.sub(r"(://|^)([^\s]+):([^\s]+)@", r"\1\2:*****@", text)


def _fetch_verified(url: str, local: Path, algo: str | None, expected: str | None) -> None:
    """Download to a side file, check the hash, then move into the cache: a bad archive never lands."""
    import hashlib
    import urllib.request

    part = local.with_name(f".{local.name}.part")
    with urllib.request.urlopen(_request(url)) as response:  # file:// and http(s)://
        part.write_bytes(response.read())
    if algo:
        actual = hashlib.new(algo, part.read_bytes()).hexdigest()
        if actual != expected:
            part.unlink()
            # libmamba 2.8.1 (PackageFetcher::validate_checksum, package_fetcher.cpp; transaction.cpp)
            name = algo.upper()
            sys.stderr.write(f"error    libmamba File not valid: {name} doesn't match expectation \"{local}\"\n"
                             f"    Expected: {expected}\n    Actual: {actual}\n{local.name} tarball has incorrect {name}\n")
            raise Failure("Found incorrect downloads. Aborting")
    os.replace(part, local)


def explicit_records(entries: list[tuple[str, str | None]], cache: Path, offline: bool) -> list:
    """Records for an @EXPLICIT file: exactly those archives, every one checked before any is
    linked, no solve. Like micromamba, an extracted package whose recorded sha256 is the
    expected one is used as it is; otherwise the archive in the cache, or a download
    (refused with --offline)."""
    import asyncio
    import hashlib

    import rattler

    records = []
    for url, checksum in entries:
        file_name = url.rsplit("/", 1)[-1]
        stem = re.sub(r"(\.tar\.bz2|\.conda)$", "", file_name)
        channel = url.rsplit("/", 2)[0] + "/"
        algo, expected = checksum.split(":", 1) if checksum else (None, None)
        if algo == "sha256" and _extracted_sha256(cache, stem) == expected:
            index = cache / stem / "info" / "index.json"
            package = rattler.PackageRecord.from_index_json(index, sha256=expected)
            records.append(rattler.RepoDataRecord(package, file_name, url, channel))
            continue
        local = cache / file_name
        if not (local.is_file() and algo and hashlib.new(algo, local.read_bytes()).hexdigest() == expected):
            if offline:
                raise Failure(f"{file_name} is not in the package cache and --offline forbids downloading it")
            _fetch_verified(url, local, algo, expected)
        from_archive = asyncio.run(rattler.RepoDataRecord.from_package_archive(local))
        # libmamba's record of an explicit package holds its md5 (repodata_record.json: the index.json
        # with the URL's checksum and the archive's digests); rattler's from the archive has none.
        from_archive.md5 = hashlib.md5(local.read_bytes()).digest()
        records.append(rattler.RepoDataRecord(from_archive, file_name, url, channel))
    return records


def install(options: Options, records: list, prefix: Path, cache: Path, specs: list[str]) -> None:
    import asyncio

    import rattler

    tag = prefix / "CACHEDIR.TAG"
    had_tag = tag.exists()
    config = None
    if options.always_copy:
        config = rattler.Config()
        for key in ("allow-hard-links", "allow-symbolic-links", "allow-ref-links"):
            config.set(key, "false")
    # py-rattler 0.28 passes requested_specs to Rust without unwrapping MatchSpec.
    requested = [rattler.MatchSpec(s)._match_spec for s in specs] or None
    # Link scripts are run by run_post_link: rattler ignores their failures, libmamba does not.
    asyncio.run(rattler.install(
        records, prefix, cache_dir=cache, show_progress=False, requested_specs=requested,
        platform=rattler.Subdir(options.platform) if options.platform else None,
        execute_link_scripts=False, config=config,
        client=rattler.Client.default_client(max_retries=0),  # with the auth middleware, as the solve
    ))
    # rattler tags the prefix as a cache dir (backup tools skip it); micromamba does not.
    if not had_tag and tag.exists():
        tag.unlink()


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # MAMBA_EMPTY_SHA


def relink_as_libmamba(prefix: Path) -> None:
    """Make what rattler linked what libmamba links (libmamba/src/core/link.cpp, the same from
    1.5.12 to 2.8.1), where the two differ and mambaboot reads the result:

    * a file with a prefix placeholder is linked again from the extracted package by libmamba's
      rule (LinkFile::create_prefix_replaced; standin_install.relinked): no shebang is touched
      but one past 127 characters (replace_long_shebang), so a prefix with a space stays in the
      `#!` line as it is (rattler writes `'''exec'` lines there), and a binary placeholder is
      padded, or the file grows when the prefix is longer (libmamba refuses nothing);
    * the record's paths_data entries hold `_path`, `sha256_in_prefix`, `sha256` (when the
      package gave one), `path_type`, `no_link` (when set) and `size_in_bytes` (when not 0):
      no `prefix_placeholder`, no `file_mode` (LinkPackage::execute). For a softlink,
      `sha256_in_prefix` is the sha256 of what it points to, of nothing when it dangles;
    * the record is written with four spaces and sorted keys (nlohmann::json dump(4)), with
      `package_tarball_full_path` and `extracted_package_dir` naming the package cache.
    """
    import hashlib

    sys.path.insert(0, SUPPORT_DIR)
    import standin_install

    def sha256(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(meta.read_text(encoding="utf-8"))
        source = Path(record["extracted_package_dir"])
        shipped = json.loads((source / "info" / "paths.json").read_text(encoding="utf-8"))["paths"]
        by_path = {e["_path"]: e for e in shipped}
        noarch_python = (record.get("noarch") or "") == "python"
        out = []
        for entry in (record.get("paths_data") or {}).get("paths") or []:
            kind = entry.get("path_type", "hardlink")
            if kind in GENERATED_PATH_TYPES:  # made at link, not shipped: libmamba records the path and kind alone
                out.append({"_path": entry["_path"], "path_type": kind})
                continue
            ship = by_path.get(_shipped_path(entry["_path"]) if noarch_python else entry["_path"], {})
            dest = prefix / entry["_path"]
            in_prefix = ship.get("sha256") or entry.get("sha256_in_prefix")
            if ship.get("prefix_placeholder") and kind != "softlink":
                data = standin_install.relinked((source / ship["_path"]).read_bytes(), ship["prefix_placeholder"].encode(),
                                                ship.get("file_mode", "text"), str(prefix).encode(), refuse_longer=False)
                part = dest.with_name(f".{dest.name}.standin")
                part.write_bytes(data)
                part.chmod((source / ship["_path"]).stat().st_mode & 0o7777)
                os.replace(part, dest)
                in_prefix = sha256(data)
            elif kind == "softlink":
                in_prefix = sha256(dest.read_bytes()) if dest.is_file() else EMPTY_SHA256
            linked = {"_path": entry["_path"], "sha256_in_prefix": in_prefix, "path_type": kind}
            if ship.get("sha256") and kind != "softlink":  # libmamba records no sha256 for a softlink
                linked["sha256"] = ship["sha256"]
            if ship.get("no_link"):
                linked["no_link"] = True
            if ship.get("size_in_bytes"):
                linked["size_in_bytes"] = ship["size_in_bytes"]
            out.append(linked)
        if noarch_python:
            out += _compiled(prefix, [e["_path"] for e in out])
            record["files"] = [e["_path"] for e in out]
        record["paths_data"] = {"paths": out, "paths_version": 1}
        record["package_tarball_full_path"] = str(source) + ".tar.bz2"
        meta.write_text(json.dumps(record, indent=4, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        _write_repodata_record(source, record)


def _write_repodata_record(source: Path, record: dict) -> None:
    """libmamba writes info/repodata_record.json into a package it extracts: index.json with the
    url, channel, fn and digests it fetched by (PackageFetcher::write_repodata_record,
    libmamba/src/core/package_fetcher.cpp, 2.8.1); mambaboot reads it to know what the cache holds."""
    target = source / "info" / "repodata_record.json"
    if target.exists():
        return
    data = json.loads((source / "info" / "index.json").read_text(encoding="utf-8"))
    data.update({k: record[k] for k in ("url", "channel", "fn", "md5", "sha256", "size") if record.get(k)})
    part = target.with_name(".repodata_record.json.standin")
    part.write_text(json.dumps(data, indent=4, sort_keys=True), encoding="utf-8")
    os.replace(part, target)


# Paths the link makes rather than copies (libmamba/src/core/link.cpp, 2.8.1: the entry points it
# writes for noarch: python packages, the bytecode it compiles): the real engine's record of them
# holds `_path` and `path_type` only (seen running it beside this stand-in).
GENERATED_PATH_TYPES = ("unix_python_entry_point", "windows_python_entry_point_script",
                        "windows_python_entry_point_exe", "pyc_file", "linked_package_record")


def _compiled(prefix: Path, paths: list) -> list:
    """libmamba compiles a noarch: python package's modules with the environment's python when it
    links them, and records each .pyc as a `pyc_file` (link.cpp compile_python_sources, 2.8.1)."""
    import py_compile

    made = []
    for rel in paths:
        if rel.endswith(".py") and "/site-packages/" in rel:
            source = prefix / rel
            pyc = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
            try:
                py_compile.compile(str(source), cfile=str(pyc), doraise=True)
            except py_compile.PyCompileError:
                continue
            made.append({"_path": pyc.relative_to(prefix).as_posix(), "path_type": "pyc_file"})
    return made


def _shipped_path(linked: str) -> str:
    """A noarch: python package's path as shipped: site-packages/ and python-scripts/ are linked
    into lib/pythonX.Y/site-packages/ and bin/ (get_python_noarch_target_path, link.cpp)."""
    if "/site-packages/" in linked and linked.startswith("lib/"):
        return "site-packages/" + linked.split("/site-packages/", 1)[1]
    if linked.startswith("bin/"):
        return "python-scripts/" + linked[len("bin/"):]
    return linked


def run_post_link(prefix: Path, records: list) -> None:
    """Run ``bin/.<name>-post-link.sh`` in dependency order; a failure fails the create."""
    import subprocess

    import rattler

    shell = shutil.which("bash") or "/bin/sh"
    for record in rattler.PackageRecord.sort_topologically(records):
        name = record.name.normalized
        script = prefix / "bin" / f".{name}-post-link.sh"
        if not script.is_file():
            continue
        env = {**os.environ, "PREFIX": str(prefix), "PKG_NAME": name,
               "PKG_VERSION": str(record.version), "PKG_BUILDNUM": str(record.build_number)}
        result = subprocess.run([shell, str(script)], env=env, cwd=prefix, stdout=sys.stderr)
        if result.returncode != 0:
            raise Failure(f"post-link script failed for package: {name}-{record.version}-{record.build}")
    show_messages(prefix)


def show_messages(prefix: Path) -> None:
    # Link scripts talk to the user through PREFIX/.messages.txt, shown once then removed.
    messages = prefix / ".messages.txt"
    if messages.is_file():
        print(messages.read_text(encoding="utf-8", errors="replace"))
        messages.unlink()


# --------------------------------------------------------------------------- reporting


def _human_size(size: int | None) -> str:
    size = size or 0
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return ""


def print_summary(prefix: Path, specs: list[str], records: list) -> None:
    rows = [(r.name.normalized, str(r.version), str(r.build), _channel_of(r).rstrip("/"), _human_size(r.size))
            for r in sorted(records, key=lambda r: r.name.normalized)]
    widths = [max(len(row[i]) for row in rows + [("Package", "Version", "Build", "Channel", "Size")])
              for i in range(5)]
    rule = "─" * (sum(widths) + 12)
    out = ["", "Transaction", "", f"  Prefix: {prefix}", "", "  Updating specs:", ""]
    out += [f"   - {s}" for s in specs] + ["", ""]
    out += ["  " + "  ".join(h.ljust(w) for h, w in zip(("Package", "Version", "Build", "Channel", "Size"), widths)).rstrip()]
    out += [rule, "  Install:", rule, ""]
    out += [("  + " + "  ".join(c.ljust(w) for c, w in zip(row, widths))).rstrip() for row in rows]
    out += ["", "  Summary:", "", f"  Install: {len(rows)} packages", "",
            f"  Total download: {_human_size(sum(r.size or 0 for r in records))}", "", rule, ""]
    print("\n".join(out))


def json_report(prefix: Path, records: list, dry_run: bool) -> str:
    link = []
    for r in records:
        doc = json.loads(r.to_json())
        channel = _channel_of(r).rstrip("/")
        doc.update(base_url=channel, channel=channel, dist_name=f"{r.name.normalized}-{r.version}-{str(r.build)}")
        link.append(doc)
    return json.dumps({
        "actions": {"FETCH": link, "LINK": link, "PREFIX": str(prefix)},
        "dry_run": dry_run, "prefix": str(prefix), "success": True,
    }, indent=4)


# --------------------------------------------------------------------------- commands


def cmd_create(args: list[str]) -> int:
    options = parse_create(args)
    if options.help:
        print(CREATE_HELP)
        return 0
    root_prefix, default_root = resolve_root_prefix(options)
    rc = read_rc(root_prefix, options)
    record_run(rc)
    if os.environ.get("STANDIN_FAIL") == "1":
        raise Failure("injected failure")
    inputs = read_inputs(options)
    prefix = resolve_target(options, root_prefix, {"name": inputs.name})
    if default_root:
        root_prefix.mkdir(parents=True, exist_ok=True)
    channels = options.channels + inputs.channels
    if not options.override_channels:
        channels += [c for c in rc.channels if c not in channels]
    specs = inputs.specs
    if version_at_least(2, 6) and not inputs.explicit and "python" in _names(specs) and "pip" not in _names(specs):
        # create_install_request (libmamba/src/api/install.cpp, from 2.6.0): a request naming
        # python gets a plain `pip` spec, so a channel without pip cannot create
        specs = specs + ["pip"]

    prepare_target(options, prefix, root_prefix)
    locks, cache = lock_caches(options, resolve_pkgs_dirs(root_prefix, rc))
    first_pkgs_dir = cache
    if version_at_least(2, 6) and (inputs.explicit or channels):
        cache = cache / cache_folder(explicit_channel(inputs.explicit) if inputs.explicit else channels[0])
        cache.mkdir(parents=True, exist_ok=True)
    log(options, f"package cache: {cache} (locked: {[str(l.path) for l in locks]})")
    apply_network(rc, options)
    records = (explicit_records(inputs.explicit, cache, options.offline) if inputs.explicit
               else solve(options, channels, specs, cache, first_pkgs_dir))

    if not options.json and not options.quiet:
        print_summary(prefix, specs, records)
    if options.dry_run:
        if options.json:
            print(json_report(prefix, records, dry_run=True))
        else:
            print("Dry run. Not executing the transaction.")
        return 0
    confirm(options, "Confirm changes:")
    linked = link(options, prefix, records, cache, specs)
    if version_at_least(2, 6):  # rattler locks its cache root; micromamba's nested folders hold no lock
        (cache / ".cache.lock").unlink(missing_ok=True)
    if not linked:
        # Transaction::execute returns false after the rollback, and micromamba exits 0
        # (libmamba/src/core/transaction.cpp, 2.8.1; seen running 2.8.1)
        return 0
    if options.json:
        print(json_report(prefix, records, dry_run=False))
    elif not options.quiet:
        print(f"\nTransaction finished\n\nTo activate this environment, use:\n\n    micromamba activate {prefix}\n\n"
              f"Or to execute a single command in this environment, use:\n\n    micromamba run -p {prefix} mycommand\n")
    return 0


def link(options: Options, prefix: Path, records: list, cache: Path, specs: list[str]) -> bool:
    """Create the prefix as micromamba does: history, link, register, (test hook). False: a SIGINT
    (to this process alone) interrupted it, and it was rolled back."""
    (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
    (prefix / "conda-meta" / "history").touch()
    if not options.json and not options.quiet:
        print("\nTransaction starting")
        for r in records:
            print(f"Linking {r.name.normalized}-{r.version}-{str(r.build)}")
    try:
        try:
            install(options, records, prefix, cache, specs)
        except Exception as exc:
            if not _out_of_space(exc) or "failed to link" not in str(exc):
                raise  # not space, or not the link: the message is rattler's (fetch, extract)
            roll_back(prefix)
            extract_all(options, records, cache)
            first = records[0]
            raise Failure(f"Transaction cancelled while linking package '{first.name.normalized}' ({first.build}).\n"
                          f"filesystem error: cannot copy: Input/output error [{cache / _stem(first)}] [{prefix}]\n"
                          "All changes from this transaction have been rolled back.") from None
        relink_as_libmamba(prefix)
        run_post_link(prefix, records)
        write_history(prefix, records, specs)
        if options.shortcuts:
            make_shortcuts(prefix)
        register_env(prefix)
        interrupted_at("create", prefix)
        block_on_fifo()
        run_during()
    except KeyboardInterrupt:
        roll_back(prefix)
        print("Transaction interrupted, rollbacking")
        return False
    return True


def extract_all(options: Options, records: list, cache: Path) -> None:
    """What libmamba has done by the time a link fails: every package fetched and extracted into
    the cache (Transaction::execute: fetch_extract_packages, then the links). rattler links each
    package as soon as it is extracted, so after its failure the rest are extracted here, by an
    install into a scratch prefix beside the cache, removed after."""
    scratch = cache / f".standin-extract-{os.getpid()}"
    try:
        install(options, records, scratch, cache, [])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stem(record) -> str:
    return re.sub(r"(\.tar\.bz2|\.conda)$", "", record.file_name)


def _out_of_space(exc: BaseException) -> bool:
    return "No space left on device" in str(exc) or "os error 28" in str(exc)


def roll_back(prefix: Path) -> None:
    """What libmamba's TransactionRollback undoes (libmamba/src/core/transaction.cpp, 2.8.1): every
    package linked is unlinked, its files and its conda-meta record removed; directories and
    conda-meta/history stay, as do files of a package whose link failed half way."""
    for meta in (prefix / "conda-meta").glob("*.json"):
        try:
            files = json.loads(meta.read_text(encoding="utf-8")).get("files") or []
        except (OSError, ValueError):
            files = []
        for rel in files:
            path = prefix / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
        meta.unlink()


def cmd_info(args: list[str]) -> int:
    root_prefix, _ = resolve_root_prefix(Options())
    print(f"       libmamba version : {VERSION}\n     micromamba version : {VERSION}\n"
          f"               platform : {HOST_PLATFORM}\n      base environment : {root_prefix}")
    return 0


def cmd_env(args: list[str]) -> int:
    if args[:1] != ["list"]:
        raise UsageError(f"The following argument was not expected: {' '.join(args) or 'env'}")
    registry = home_dir() / ".conda" / "environments.txt"
    print("Name  Active  Path")
    for line in registry.read_text(encoding="utf-8").splitlines() if registry.exists() else []:
        print(f"          {line}")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(HELP)
        return 0 if argv else 1
    if argv[0] == "--version":
        interrupted_at("version")
        print(VERSION)
        return 0
    commands = {"create": cmd_create, "info": cmd_info, "env": cmd_env}
    if argv[0] not in commands:
        raise UsageError(f"The following argument was not expected: {argv[0]}")
    read_env_configurables()  # every subcommand loads the configuration first
    return commands[argv[0]](argv[1:])


def run() -> None:
    try:
        code = main(sys.argv[1:])
    except UsageError as exc:
        print(f"{exc}\nRun with --help for more information.", file=sys.stderr)
        code = 1
    except Failure as exc:
        print(hide_secrets(f"critical libmamba {exc}"), file=sys.stderr)
        code = 1
    except Exception as exc:  # rattler errors: solver, fetch, link
        print(hide_secrets(f"critical libmamba {type(exc).__name__}: {exc}"), file=sys.stderr)
        code = 1
    finish(code)


if __name__ == "__main__":
    run()
