"""Obtaining the micromamba binary (cache, download, verify) and running it.

The binary is executed only after its sha256 matched a digest we trust: the one published
next to the release asset, or one the user gave with --micromamba-sha256.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import pathrules, urlrule

from mambaboot.common.files import confined, fsops, newdirs
from mambaboot.common.errors import CertificateUntrusted, EngineError, HostUnreachable, ObtainError, UsageError
from mambaboot.common.values import value
from mambaboot.engine import child, signals
from mambaboot.engine.source import MicromambaSource

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): collections is not imported at start-up
    from collections.abc import Mapping


@value
class Binary:
    path: str
    sha256: str
    version: str
    source: str
    downloaded: bool


def _exe_name(subdir: str) -> str:
    return "micromamba.exe" if subdir.startswith("win") else "micromamba"


STORE = "micromamba"  # below the cache: a directory per release or URL (its key), the binary and its notes in it
VERIFIED = "verified"  # beside a binary: the digest it had when it was last read whole, with its stat
DIGEST = "sha256"  # beside a pinned release's binary: the published digest it was checked against, trusted offline
VERSION_NOTE = "version"  # beside a binary: what its --version said, asked once
# A binary the user names lives outside the store: its notes go in directories of their own, the digest's memo under a
# key of its path (another file there is hashed again), the version under its digest (the same bytes say the same).
LOCAL = "local"
VERSIONS = "versions"


def _store(cache_dir: str) -> str:
    return os.path.join(cache_dir, STORE)


def _no_such_release(source: MicromambaSource, exc: ObtainError, net=None) -> None:
    """A release tag that does not exist says so, and why a bare version may not be enough:
    micromamba-releases tags are VERSION-BUILD and the build is not always 0 (`2.0.0rc0-1`)."""
    if source.kind != "release" or source.version == "latest" or getattr(exc, "status", 0) != 404:
        return
    from mambaboot.engine import download

    if download.missing(source.url, source.allow_http, net):
        version, _, build = (source.version or "").partition("-")
        raise ObtainError(
            f"there is no micromamba release tagged {source.version}: release tags are VERSION-BUILD and the "
            f"build is not always {build or 0}; give the exact tag (e.g. --micromamba-version {version}-1) "
            "as listed on the releases page"
        ) from None


def _published_digest(source: MicromambaSource, net=None) -> str:
    from mambaboot.engine import download  # urllib and http.client cost ~30 ms: only when fetching

    url = source.sha256_url
    try:
        text = download.fetch_text(url, allow_http=source.allow_http, net=net)
    except (HostUnreachable, CertificateUntrusted):
        raise  # not a digest problem (no digest given by hand gets past it): create says what it needed the network for
    except ObtainError as exc:
        _no_such_release(source, exc, net)
        by_hand = "; pass --micromamba-sha256 HEX if you know the digest" if getattr(exc, "answered", False) else ""
        raise ObtainError(f"could not read the published digest {urlrule.shown(url)}: {exc}\n"
                          f"without it the binary cannot be verified{by_hand}") from None
    token = text.strip().split()[0].lower() if text.strip() else ""
    if not pathrules.is_sha256_hex(token):
        raise ObtainError(f"{urlrule.shown(url)} does not hold a sha256 digest (got {text[:80]!r})")
    return token


def obtain(source: MicromambaSource, cache_dir: str, environ: Mapping[str, str], progress=None, net=None) -> Binary:
    """The binary source names, verified and cached. net: the network.Settings the run read
    already (proxy, CA), so downloads reach the hosts micromamba will; None: read when needed."""
    if source.kind == "local":
        return _local(source, cache_dir, environ)
    store = _store(cache_dir)
    made = newdirs.make_dirs(store)
    try:
        return _obtain(source, store, environ, progress, net)
    except BaseException:
        newdirs.remove_empty_dirs(made)  # a failed first download leaves no empty store behind
        raise


def _obtain(source: MicromambaSource, store: str, environ: Mapping[str, str], progress, net) -> Binary:
    expected = source.expected_sha256
    pinned = source.kind == "release" and source.version != "latest"
    if expected is None and pinned:
        expected = _read(os.path.join(store, source.cache_key(None), DIGEST))
    if expected is None:
        expected = _published_digest(source, net)
    key_dir = os.path.join(store, source.cache_key(expected))
    binary = os.path.join(key_dir, _exe_name(source.subdir))
    # The store takes no lock (nor do the bootstrap scripts, which write it too): each writer
    # downloads under its own temporary name and renames the verified, executable file into
    # place in one step, so a reader sees no binary or a whole one, and nothing is deleted: a
    # download in flight is its writer's alone. Two runs at once may both download.
    downloaded = False
    if not (os.path.isfile(binary) and _digest(binary, os.path.join(key_dir, VERIFIED)) == expected):
        made = newdirs.make_dirs(key_dir)
        from mambaboot.engine import download

        try:
            download.fetch_file(source.url, binary, expected, progress, allow_http=source.allow_http, net=net,
                                mode=confined.user_mode(0o777))
        except ObtainError as exc:
            newdirs.remove_empty_dirs(made)
            _no_such_release(source, exc, net)
            raise
        except BaseException:
            newdirs.remove_empty_dirs(made)
            raise
        confined.write_file(os.path.join(key_dir, DIGEST), expected.encode())
        downloaded = True
    return Binary(binary, expected, _version(binary, key_dir, environ), source.url, downloaded)


def _local(source: MicromambaSource, cache_dir: str, environ: Mapping[str, str]) -> Binary:
    path = source.path
    if not os.path.isfile(path):
        raise ObtainError(f"micromamba not found at {path}")
    if not os.access(path, os.X_OK):
        raise ObtainError(f"{path} is not executable")
    memo_dir = os.path.join(_store(cache_dir), LOCAL, fsops.path_key(path))
    newdirs.make_dirs(memo_dir)
    digest = _digest(path, os.path.join(memo_dir, VERIFIED))
    if source.expected_sha256 and digest != source.expected_sha256:
        raise ObtainError(f"{path} has sha256 {digest}, not the expected {source.expected_sha256}")
    version_dir = os.path.join(_store(cache_dir), VERSIONS, digest[:32])
    newdirs.make_dirs(version_dir)
    return Binary(path, digest, _version(path, version_dir, environ), path, False)


def _digest(path: str, memo: str) -> str:
    """The binary's sha256, hashed again only when the file may have changed since the memo was
    written: a real micromamba is ~14 MB, ~13 ms of every create. "Changed" is any difference in
    device, inode, size, mtime or ctime, taken before hashing: a write moves ctime, which no
    unprivileged process can set back (git's index and rsync's quick check trust less). On
    Windows st_ctime is the creation time, so there the memo is trusted only as far as mtime,
    which a process that can write the user's cache could also restore; that process could
    as well rewrite mambaboot itself."""
    stamp = fsops.stat_stamp(os.stat(path))
    saved = (_read(memo) or "").split()
    if len(saved) == 6 and " ".join(saved[:5]) == stamp:
        return saved[5]
    with confined.open_named(path) as f:  # a regular file only (followed if a link: the user named it), never waited on
        digest = fsops.file_digest(f, "sha256")
    confined.write_file(memo, f"{stamp} {digest}".encode())
    return digest


def _read(path: str) -> str | None:
    try:
        return confined.read_file(path).decode("utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _version(binary: str, note_dir: str, environ: Mapping[str, str]) -> str:
    """micromamba --version, asked once per binary: the answer is kept beside it."""
    note = os.path.join(note_dir, VERSION_NOTE)
    cached = _read(note)
    if cached:
        return cached
    import subprocess  # once per binary: child.py says why not at the top

    try:
        out = subprocess.run(
            [binary, "--version"], env=dict(environ), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ObtainError(f"{binary} does not run: {exc}{_blocked(exc)}") from None
    signals.child_interrupted(out.returncode)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise ObtainError(f"{binary} --version failed (exit {out.returncode}): {out.stderr.strip()[:500]}")
    version = lines[-1].strip()
    confined.write_file(note, version.encode())
    return version


# A lock's `URL#<64 hex>` is read as a sha256 only from 2.1.0: 1.5.x stores any fragment as the
# md5 (libmamba/src/api/install.cpp), and so does 2.0.x up to 2.0.8
# (libmamba/src/specs/package_info.cpp `from_url`), which then fails every package or checks nothing.
LOCKS_NEED = (2, 1, 0)


def version_tuple(version: str) -> tuple[int, ...]:
    """'2.0.5' or '2.8.1-0' -> (2, 0, 5); anything unreadable -> ()."""
    import re  # only with a lock to install: create's start-up imports no re (common/pathrules.py)

    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(n) for n in match.groups()) if match else ()


def check_reads_locks(version: str, lock_path: str | None) -> None:
    """Refuse, before anything is written, an engine that would misread a lock's hashes."""
    found = version_tuple(version)
    if found and found < LOCKS_NEED:
        need = ".".join(map(str, LOCKS_NEED))
        raise UsageError(
            f"micromamba {version} reads a lock's sha256 hashes as md5 (fixed in {need}), so it cannot install "
            f"{lock_path or 'a lock'}; use --micromamba-version {need} or later"
        )


def root_prefix(home: str, windows: bool) -> str:
    """The root prefix micromamba runs with: a directory inside the private home, so anything
    it puts under its root (envs/, pkgs/, rc files) is deleted with the home.

    Never the target itself: libmamba refuses to create into an existing target that equals
    the root prefix ("Overwriting root prefix is not permitted - aborting.",
    libmamba/src/api/create.cpp `create()`, 1.5.12 and 2.0 to 2.8.1), so an existing empty
    target directory would fail. An explicit --root-prefix is taken as given, not validated
    (`root_prefix_hook` in libmamba/src/api/configuration.cpp only checks its own default).
    """
    return home + ("\\" if windows else "/") + "root"


def create_command(binary: str, plan, root: str, explicit_file: str | None = None) -> list[str]:
    """The engine's command line; with explicit_file (a lock) it installs exactly that, no solve.
    plan: what to create (pipeline.plan.Plan, read for its channels, prefix, windows, offline and
    specs: the engine does not import the layer above it)."""
    cmd = [binary, "create", "--yes", "--no-rc", "--override-channels"]
    for channel in plan.channels:
        cmd += ["-c", channel]
    cmd += ["--prefix", plan.prefix, "--root-prefix", root]
    # Shortcuts default to on (`shortcuts = true` in libmamba/include/mamba/core/context.hpp) and
    # menuinst finds the Start menu through the Known Folder API, which our private APPDATA does
    # not redirect: a package's menu/*.json would land in the user's real Start menu.
    # `--shortcuts,!--no-shortcuts` exists in micromamba/src/common_options.cpp since 1.5.
    cmd.append("--no-shortcuts")
    if plan.windows:
        cmd += ["--lock-timeout", "600"]  # the Windows lock gives up after 30 s otherwise
    if plan.offline:
        cmd.append("--offline")
    if explicit_file:
        return cmd + ["--file", explicit_file]
    return cmd + list(plan.specs)


class Transaction:
    """What micromamba printed of the transaction it ran: the packages it installs, one row of its
    table each (`+ NAME VERSION BUILD CHANNEL SIZE`), and the total download (`Total download:
    35MB`, sizes in powers of 1000): Transaction::print, libmamba/src/core/transaction.cpp, and
    to_human_readable_filesize, libmamba/src/core/progress_bar_impl.cpp (2.8.1)."""

    _UNITS = {"B": 1, "kB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12}

    def __init__(self) -> None:
        self.stems: list[str] = []  # NAME-VERSION-BUILD: the extracted package's directory name
        self.download: int | None = None
        self.errors: list[str] = []  # lines that say error: kept whole, the failure's tail may not hold them

    def feed(self, line: str) -> None:
        if "error" in line.lower():
            self.errors.append(line)
        words = line.split()
        if len(words) >= 4 and words[0] == "+":
            self.stems.append("-".join(words[1:4]))
        elif line.strip().startswith("Total download:"):
            figure = "".join(line.split(":", 1)[1].split())
            for unit in sorted(self._UNITS, key=len, reverse=True):
                if figure.endswith(unit):
                    try:
                        self.download = int(float(figure[: -len(unit)]) * self._UNITS[unit])
                    except ValueError:
                        pass
                    break


def _blocked(exc: OSError) -> str:
    """What Windows says of a program it would not start (winsys.blocked), imported by such a failure alone: not on
    the way to every engine."""
    from mambaboot.common import winsys

    return winsys.blocked(exc, winsys.ENGINE_FOLDER)


def run(cmd: list[str], env: dict[str, str], echo: child.Sink | None = None, keep: int = 40,
        meanwhile=None, transaction: Transaction | None = None) -> str:
    """Run micromamba, streaming its output to echo (if given); raise EngineError on failure.
    meanwhile: see child.stream; transaction: fed every line of the output."""
    sink = echo
    if transaction is not None:
        def sink(line: str) -> None:
            transaction.feed(line)
            if echo is not None:
                echo(line)
    try:
        code, tail = child.stream(cmd, env, sink, keep=keep, meanwhile=meanwhile)
    except OSError as exc:
        raise EngineError(f"could not start {cmd[0]}: {exc}{_blocked(exc)}") from None
    if code != 0:
        raise EngineError(f"micromamba {cmd[1]} failed (exit {code}):\n{child.shown(tail)}")
    return "\n".join(tail)


REQUIRED = ("python", "conda", "mamba")  # what every environment mambaboot makes must hold


def check_installed(prefix: str) -> None:
    """An engine that says it succeeded must have installed python, conda and mamba. micromamba
    signalled on its own (a SIGINT that reached only the engine) rolls the transaction back and
    still exits 0 ("Transaction interrupted, rollbacking": Transaction::execute returns false,
    libmamba/src/core/transaction.cpp, 2.8.1); interrupted before linking, it says "Interrupted by
    user" and exits 0 with nothing installed. conda-meta names each record it wrote
    NAME-VERSION-BUILD.json (LinkPackage::execute)."""
    try:
        names = os.listdir(os.path.join(prefix, "conda-meta"))
    except OSError:
        names = []
    present = {n[: -len(".json")].rsplit("-", 2)[0] for n in names if n.endswith(".json")}
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        raise EngineError(f"micromamba reported success but {'/'.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not installed in {prefix}")
