"""Turn command-line inputs and the Host into an immutable plan. Pure: no writes, no network."""

from __future__ import annotations  # annotations stay text: no typing at start-up

from mambaboot.common import output, pathrules, urlrule
from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host
from mambaboot.common.locations import (  # noqa: F401  (where the defaults live; commands import them from there)
    _absolute, cross_volume_warning, default_channels, resolve_cache_dir, resolve_envs_dir, resolve_pkgs_dirs,
)
from mambaboot.common.values import asdict, value
from mambaboot.engine.source import MicromambaSource

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): collections is not imported at start-up
    from collections.abc import Sequence

# typing's flag without importing typing (PEP 781): true to a type checker only. Lock and EnvFile
# are named in annotations only, which stay text: a create without a lock or an environment file
# imports neither module (nor urllib.parse, which the lock's imports).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from mambaboot.environment.lockfile import Lock
    from mambaboot.pipeline.envfile import EnvFile

DEFAULT_NAME = "py"
PINNED_MICROMAMBA = "2.8.1-0"
RELEASES = "https://github.com/mamba-org/micromamba-releases/releases"


@value
class CreateInputs:
    """What the user asked for, as the CLI parsed it; None means 'not given'."""

    name: str | None = None
    prefix: str | None = None
    envs_dir: str | None = None
    python: str | None = None
    packages: Sequence[str] = ()
    channels: Sequence[str] = ()
    cache_dir: str | None = None
    micromamba: str | None = None
    micromamba_version: str | None = None
    micromamba_url: str | None = None
    micromamba_sha256: str | None = None
    allow_http: bool = False
    force: bool = False
    ignore_active_env: bool = False
    link_cache: bool = True
    env_file: EnvFile | None = None
    lock: Lock | None = None
    lock_path: str | None = None
    offline: bool = False
    overlays: Sequence[str] = ()
    post_scripts: Sequence[str] = ()


@value
class Plan:
    name: str
    prefix: str
    envs_dir: str | None
    python: str | None
    specs: tuple[str, ...]
    channels: tuple[str, ...]
    cache_dir: str
    pkgs_dirs: tuple[str, ...]
    micromamba: MicromambaSource
    subdir: str
    windows: bool
    force: bool
    link_cache: bool
    warnings: tuple[str, ...] = ()
    lock: Lock | None = None  # install exactly these archives; specs and channels are then empty
    lock_path: str | None = None
    # what the lock lacks of ESSENTIAL (and pip, for its pip packages): solved against the locked
    # packages from lock_channels and installed with them (pipeline/lockcomplete.py)
    lock_adds: tuple[str, ...] = ()
    lock_channels: tuple[str, ...] = ()
    env_file: str | None = None
    pip: tuple[str, ...] = ()  # the environment file's pip section, installed after verification
    pip_dir: str | None = None  # relative paths in the pip section are relative to the file, as in conda
    offline: bool = False
    overlays: tuple[str, ...] = ()
    post_scripts: tuple[str, ...] = ()
    env_vars: tuple[tuple[str, str], ...] = ()  # the environment file's variables
    # the channels as the environment file writes them, `$VAR` and all, when channels holds them
    # expanded: what is shown and recorded as the channels (and written to PREFIX/.condarc, where
    # conda expands them itself). The packages' URLs hold them expanded: micromamba writes each
    # with its credentials into conda-meta (libmamba/src/solver/libsolv/helpers.cpp, set_url with
    # CondaURL::Credentials::Show, 2.8.1), and lock.txt and the record's packages list them so:
    # the environment's own files, which `mambaboot lock` hands on without them (docs/reference.md 1.6)
    channels_written: tuple[str, ...] = ()

    @property
    def pkgs_dir(self) -> str:
        """Where downloads land and what PREFIX/pkgs points at: the first CONDA_PKGS_DIRS entry."""
        return self.pkgs_dirs[0]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["pkgs_dir"] = self.pkgs_dir
        if self.channels_written:
            data["channels"] = list(self.channels_written)
        del data["channels_written"]
        return data

    def shown(self) -> dict:
        """to_dict() as the dry run shows it, as text and as --json: each URL (a channel, a spec,
        the micromamba's, a locked package's, one in a pip line) without its password or token
        (common/urlrule.py), every other value as it is."""
        data = urlrule.shown_fields(self.to_dict())
        for key in ("channels", "lock_channels", "specs"):
            data[key] = [urlrule.shown(c) for c in data[key]]
        data["pip"] = [urlrule.shown_in_words(line) for line in data["pip"]]
        return data


def env_name(name: str | None, python: str | None) -> str:
    """NAME, suffixed _3_12 for --python 3.12, exactly as the user's bootstrap script names it."""
    base = name if name is not None else DEFAULT_NAME
    return f"{base}_{python.replace('.', '_')}" if python else base


def _check_url(url: str, option: str, allow_http: bool) -> None:
    reason = urlrule.refusal(url, allow_http)
    if reason:
        raise UsageError(f"{option} {urlrule.refused(url)} {reason}")


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
        return MicromambaSource("mirror", host.subdir, url=inputs.micromamba_url, expected_sha256=expected,
                                allow_http=inputs.allow_http)
    version = inputs.micromamba_version or PINNED_MICROMAMBA
    if version != "latest":
        release, dash, build = version.partition("-")
        if not (pathrules.is_dotted_number(release, 3, 3) and (not dash or pathrules.is_dotted_number(build, 1, 1))):
            raise UsageError(f"--micromamba-version {version!r} is not like 2.8.1, 2.8.1-0 or 'latest'")
        if "-" not in version:
            version += "-0"  # release tags carry a build number; 0 is the first build of a version
    base = host.environ.get("MAMBABOOT_RELEASES_URL", RELEASES)
    _check_url(base, "MAMBABOOT_RELEASES_URL", inputs.allow_http)  # named as it was given
    base = base.rstrip("/")
    url = f"{base}/latest/download/{asset}" if version == "latest" else f"{base}/download/{version}/{asset}"
    return MicromambaSource("release", host.subdir, url=url, version=version, expected_sha256=expected,
                            allow_http=inputs.allow_http)


def _default_channels(host: Host) -> tuple[str, ...]:
    channels = default_channels(host)
    for channel in channels:
        _check_channel("MAMBABOOT_CHANNELS", channel)
    return channels


def _check_channel(where: str, channel: str) -> None:
    """A channel handed to micromamba: a name, a path or a URL (one urllib can read: any scheme,
    the engine fetches it)."""
    pathrules.check_argument_value(where, channel)
    reason = urlrule.unreadable(channel) if "://" in channel else None
    if reason:
        raise UsageError(f"{where} {urlrule.refused(channel)} {reason}")


_PINNED_PYTHON = r"^python\s*(?:==?|\s)\s*([0-9]+(?:\.[0-9]+){0,2})(?:\.\*)?$"
ESSENTIAL = ("python", "conda", "mamba")


def _check_lock(host: Host, inputs: CreateInputs) -> tuple[Lock, tuple[str, ...], list[str]]:
    """The lock, what it lacks of what an environment needs (added by the create, solved against
    it), and the warnings it calls for."""
    lock = inputs.lock
    if inputs.python or inputs.packages or inputs.channels or inputs.env_file:
        raise UsageError("--from-lock installs exactly the locked packages: "
                         "it cannot be combined with --python, --package, --channel or --file")
    from mambaboot.environment import lockfile, record

    record.check_carried(lock.carried, inputs.lock_path)
    platforms = lock.platforms()
    if platforms and platforms != [host.subdir]:
        raise UsageError(lockfile.wrong_platform(inputs.lock_path, platforms, host.subdir))
    locked = {e.key[0] for e in lock.entries}
    unpinned = [lockfile.unpinned_reason(p) for p in lock.pip if not p.sha256]
    if unpinned:
        raise UsageError(f"{inputs.lock_path} names pip packages without an artefact to pin: {'; '.join(unpinned)}; "
                         "it cannot be reproduced exactly. Build wheels of them, install those, and lock again")
    # A team's lock seldom locks conda and mamba (conda-lock's and `conda list --explicit`'s do not):
    # they, and pip for its pip packages, are added, the locked packages kept exactly.
    adds = tuple(n for n in (*ESSENTIAL, *(("pip",) if lock.pip else ())) if n not in locked)
    warnings = list(lock.warnings)
    unverified = lock.unverified()
    if unverified:
        shown = output.some((e.filename for e in unverified), 3)
        warnings.append(
            f"{inputs.lock_path}: {len(unverified)} of its {len(lock.entries)} packages carry no hash ({shown}), as "
            "`conda list --explicit` writes them: they are installed as conda installs them, and nothing verifies "
            "that they are the archives the lock meant; once created, `mambaboot lock PREFIX -o FILE` writes a "
            "lock that pins each by its sha256")
    return lock, adds, warnings


def _specs(inputs: CreateInputs) -> tuple[tuple[str, ...], str | None]:
    """What to ask the solver for, and the Python version verification must find.

    The file's dependencies come first, with python/conda/mamba (and pip, for a pip section)
    added when it does not name them; --python replaces the file's python spec.
    """
    ef = inputs.env_file
    from_file, named = [], set()
    if ef:
        from mambaboot.pipeline.envfile import package_name

        from_file = [s for s in ef.dependencies if not (inputs.python and package_name(s) == "python")]
        named = {package_name(s) for s in from_file}
    added = [(f"python={inputs.python}" if inputs.python and n == "python" else n) for n in ESSENTIAL if n not in named]
    if ef and ef.pip and "pip" not in named:
        added.append("pip")
    python = inputs.python
    if from_file:  # re only for an environment file's specs: create's start-up imports none (common/pathrules.py)
        import re

        for spec in from_file:
            match = re.match(_PINNED_PYTHON, spec.strip())
            if match and python is None:
                python = match.group(1)
    return tuple(added + from_file + list(inputs.packages)), python


def _engine_pkgs_dirs(host: Host, cache_dir: str) -> tuple[str, ...]:
    """The package caches micromamba will be handed in CONDA_PKGS_DIRS, each one it can read."""
    dirs = resolve_pkgs_dirs(host, cache_dir)
    for d in dirs:
        pathrules.check_pkgs_dir(d)
    return dirs


def make_plan(host: Host, inputs: CreateInputs) -> Plan:
    if inputs.python is not None:
        pathrules.check_python_version(inputs.python)
    for spec in inputs.packages:
        pathrules.check_argument_value("--package", spec)
    for channel in inputs.channels:
        _check_channel("--channel", channel)
    ef = inputs.env_file
    if ef:
        for spec in ef.dependencies:
            pathrules.check_argument_value(f"dependency in {ef.path}", spec)
        for channel in ef.channels:
            _check_channel(f"channel in {ef.path}", channel)
    lock, lock_adds, lock_warnings = _check_lock(host, inputs) if inputs.lock is not None else (None, (), [])
    given_name = inputs.name
    if inputs.prefix:
        if inputs.name is not None or inputs.envs_dir is not None:
            raise UsageError("give either NAME (with --envs-dir) or --prefix, not both")
        prefix = _absolute(host, inputs.prefix)
        name = host.path.basename(prefix.rstrip("\\/")) or prefix
        envs_dir = None
    else:
        if given_name is None and ef is not None:
            given_name = ef.name
        if given_name is not None:
            pathrules.check_name(given_name)
        name = env_name(given_name, inputs.python)
        envs_dir = resolve_envs_dir(host, inputs.envs_dir)
        prefix = host.path.join(envs_dir, name)
    warnings = pathrules.check_prefix(prefix, host.windows) + lock_warnings
    if ef:
        warnings += [f"{ef.path}: ignoring {what}" for what in ef.ignored]
        warnings += [f"{ef.path}: {what}" for what in ef.warnings]
        if not inputs.channels:
            warnings += [f"{ef.path}: {what}" for what in ef.channels_warnings]
    cache_dir = resolve_cache_dir(host, inputs.cache_dir, prefix)
    pkgs_dirs = _engine_pkgs_dirs(host, cache_dir)
    apart = cross_volume_warning(host, pkgs_dirs[0], prefix)
    if apart:
        warnings.append(apart)
    if lock:
        specs, channels, python = (), (), lock.python_version()
    else:
        specs, python = _specs(inputs)
        channels = tuple(inputs.channels) or (ef.channels if ef else ()) or _default_channels(host)
    written = ef.channels_written if ef and not inputs.channels and not lock else ()
    return Plan(
        name=name,
        prefix=prefix,
        envs_dir=envs_dir,
        python=python,
        specs=specs,
        channels=channels,
        cache_dir=cache_dir,
        pkgs_dirs=pkgs_dirs,
        micromamba=micromamba_source(host, inputs),
        subdir=host.subdir,
        windows=host.windows,
        force=inputs.force,
        link_cache=inputs.link_cache,
        warnings=tuple(warnings),
        lock=lock,
        lock_path=_absolute(host, inputs.lock_path) if inputs.lock_path else None,
        lock_adds=lock_adds,
        lock_channels=lock.channels() if lock_adds else (),
        env_file=ef.path if ef else None,
        pip=ef.pip if ef else (),
        pip_dir=host.path.dirname(ef.path) if ef and ef.pip else None,
        offline=inputs.offline,
        overlays=tuple(_absolute(host, d) for d in inputs.overlays),
        post_scripts=tuple(_absolute(host, s) for s in inputs.post_scripts),
        env_vars=ef.variables if ef else (),
        channels_written=written,
    )
