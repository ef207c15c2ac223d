"""Turn command-line inputs and the Host into an immutable plan. Pure: no writes, no network."""

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence, Tuple
from urllib.parse import urlsplit

from mambaboot import pathrules
from mambaboot.errors import UsageError
from mambaboot.host import Host

DEFAULT_NAME = "py"
DEFAULT_CHANNEL = "conda-forge"
PINNED_MICROMAMBA = "2.8.1-0"
RELEASES = "https://github.com/mamba-org/micromamba-releases/releases"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class CreateInputs:
    """What the user asked for, as the CLI parsed it; None means 'not given'."""

    name: Optional[str] = None
    prefix: Optional[str] = None
    envs_dir: Optional[str] = None
    python: Optional[str] = None
    packages: Sequence[str] = ()
    channels: Sequence[str] = ()
    cache_dir: Optional[str] = None
    micromamba: Optional[str] = None
    micromamba_version: Optional[str] = None
    micromamba_url: Optional[str] = None
    micromamba_sha256: Optional[str] = None
    allow_http: bool = False
    force: bool = False
    ignore_active_env: bool = False
    link_cache: bool = True


@dataclass(frozen=True)
class MicromambaSource:
    """Where the engine comes from. kind: 'local' (a path), 'release' (official), 'mirror' (a URL)."""

    kind: str
    subdir: str
    path: Optional[str] = None
    url: Optional[str] = None
    version: Optional[str] = None
    expected_sha256: Optional[str] = None

    @property
    def sha256_url(self) -> Optional[str]:
        return None if self.url is None else self.url + ".sha256"

    def cache_key(self, digest: Optional[str]) -> str:
        """A directory name that can only ever hold one binary.

        A pinned release is immutable, so its version names it. 'latest' and mirrors can
        change under the same URL, so their key includes the digest they published.
        """
        if self.kind == "release" and self.version != "latest":
            return f"{self.version}-{self.subdir}"
        assert digest, "a moving source is keyed by its digest"
        url_hash = hashlib.sha256((self.url or "").encode()).hexdigest()[:12]
        return f"{self.kind}-{url_hash}-{digest[:16]}"


@dataclass(frozen=True)
class Plan:
    name: str
    prefix: str
    envs_dir: Optional[str]
    python: Optional[str]
    specs: Tuple[str, ...]
    channels: Tuple[str, ...]
    cache_dir: str
    pkgs_dirs: Tuple[str, ...]
    micromamba: MicromambaSource
    subdir: str
    windows: bool
    force: bool
    link_cache: bool
    warnings: Tuple[str, ...] = field(default=())

    @property
    def pkgs_dir(self) -> str:
        """Where downloads land and what PREFIX/pkgs points at: the first CONDA_PKGS_DIRS entry."""
        return self.pkgs_dirs[0]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["pkgs_dir"] = self.pkgs_dir
        return data


def _user_cache_dir(host: Host) -> str:
    env, p = host.environ, host.path
    if host.windows:
        base = env.get("LOCALAPPDATA") or p.join(host.home(), "AppData", "Local")
        return p.join(base, "mambaboot", "Cache")
    if host.subdir.startswith("osx"):
        return p.join(host.home(), "Library", "Caches", "mambaboot")
    return p.join(env.get("XDG_CACHE_HOME") or p.join(host.home(), ".cache"), "mambaboot")


def _drive(host: Host) -> str:
    """The drive the user is working on; the user's own script used the drive it ran from."""
    drive = host.path.splitdrive(host.cwd)[0]
    return drive or "C:"


def _absolute(host: Host, path: str) -> str:
    p = host.path
    return p.normpath(p.join(host.cwd, p.expanduser(path)) if not p.isabs(path) else path)


def resolve_envs_dir(host: Host, given: Optional[str]) -> str:
    if given:
        return _absolute(host, given)
    py_envs = host.environ.get("PY_ENVS")
    if py_envs and host.isdir(py_envs):
        return _absolute(host, py_envs)
    if host.windows:
        conventional = host.path.join(_drive(host) + "\\", "dev", "Anaconda", "envs")
        if host.isdir(conventional):
            return conventional
    return host.cwd


def resolve_cache_dir(host: Host, given: Optional[str]) -> str:
    if given:
        return _absolute(host, given)
    if host.windows:
        drive_cache = _drive(host) + "\\CACHE"
        if host.isdir(drive_cache):
            return drive_cache
    return _user_cache_dir(host)


def resolve_pkgs_dirs(host: Host, cache_dir: str) -> Tuple[str, ...]:
    # conda reads CONDA_PKGS_DIRS as comma-separated, whatever the platform's pathsep.
    configured = [d.strip() for d in host.environ.get("CONDA_PKGS_DIRS", "").split(",") if d.strip()]
    if configured:
        return tuple(_absolute(host, d) for d in configured)
    return (host.path.join(cache_dir, "Python", "pkgs"),)


def env_name(name: Optional[str], python: Optional[str]) -> str:
    """NAME, suffixed _3_12 for --python 3.12, exactly as the user's bootstrap script names it."""
    base = name if name is not None else DEFAULT_NAME
    return f"{base}_{python.replace('.', '_')}" if python else base


def _check_url(url: str, option: str, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or parts.scheme == "file":
        return
    if parts.scheme == "http":
        if allow_http or (parts.hostname or "") in _LOOPBACK:
            return
        raise UsageError(f"{option} {url!r} uses plain http; use https, or pass --allow-http if you trust the network")
    raise UsageError(f"{option} {url!r} is not an https:// URL")


def micromamba_source(host: Host, inputs: CreateInputs) -> MicromambaSource:
    expected = inputs.micromamba_sha256
    if expected is not None:
        expected = pathrules.check_sha256("--micromamba-sha256", expected)
    local = inputs.micromamba or host.environ.get("MAMBABOOT_MICROMAMBA")
    if local:
        return MicromambaSource("local", host.subdir, path=_absolute(host, local), expected_sha256=expected)
    asset = f"micromamba-{host.subdir}"
    if inputs.micromamba_url:
        _check_url(inputs.micromamba_url, "--micromamba-url", inputs.allow_http)
        return MicromambaSource("mirror", host.subdir, url=inputs.micromamba_url, expected_sha256=expected)
    version = inputs.micromamba_version or PINNED_MICROMAMBA
    if version != "latest":
        if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?", version):
            raise UsageError(f"--micromamba-version {version!r} is not like 2.8.1, 2.8.1-0 or 'latest'")
        if "-" not in version:
            version += "-0"  # release tags carry a build number; 0 is the first build of a version
    base = host.environ.get("MAMBABOOT_RELEASES_URL", RELEASES).rstrip("/")
    _check_url(base, "MAMBABOOT_RELEASES_URL", inputs.allow_http)
    url = f"{base}/latest/download/{asset}" if version == "latest" else f"{base}/download/{version}/{asset}"
    return MicromambaSource("release", host.subdir, url=url, version=version, expected_sha256=expected)


def make_plan(host: Host, inputs: CreateInputs) -> Plan:
    if inputs.python is not None:
        pathrules.check_python_version(inputs.python)
    for spec in inputs.packages:
        pathrules.check_argument_value("--package", spec)
    for channel in inputs.channels:
        pathrules.check_argument_value("--channel", channel)
    if inputs.prefix:
        if inputs.name is not None or inputs.envs_dir is not None:
            raise UsageError("give either NAME (with --envs-dir) or --prefix, not both")
        prefix = _absolute(host, inputs.prefix)
        name = host.path.basename(prefix.rstrip("\\/")) or prefix
        envs_dir = None
    else:
        if inputs.name is not None:
            pathrules.check_name(inputs.name)
        name = env_name(inputs.name, inputs.python)
        envs_dir = resolve_envs_dir(host, inputs.envs_dir)
        prefix = host.path.join(envs_dir, name)
    warnings = pathrules.check_prefix(prefix, host.windows)
    cache_dir = resolve_cache_dir(host, inputs.cache_dir)
    python_spec = f"python={inputs.python}" if inputs.python else "python"
    return Plan(
        name=name,
        prefix=prefix,
        envs_dir=envs_dir,
        python=inputs.python,
        specs=(python_spec, "conda", "mamba", *inputs.packages),
        channels=tuple(inputs.channels) or (DEFAULT_CHANNEL,),
        cache_dir=cache_dir,
        pkgs_dirs=resolve_pkgs_dirs(host, cache_dir),
        micromamba=micromamba_source(host, inputs),
        subdir=host.subdir,
        windows=host.windows,
        force=inputs.force,
        link_cache=inputs.link_cache,
        warnings=tuple(warnings),
    )
