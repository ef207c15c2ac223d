"""The private world micromamba runs in, so that nothing it does escapes the prefix and cache.

micromamba 2.x appends every prefix to ~/.conda/environments.txt, creates ~/.mamba/pkgs,
may default its root prefix under the user's data dir and reads rc files from HOME. We give
it a HOME (and every per-user dir a platform derives from it) that we own and delete.
It lives inside the cache dir, so even a SIGKILL leaves nothing outside prefix and cache.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import confined, fileid, filelock, newdirs, proof, removal
from mambaboot.common import isolation


HOME_PREFIX = "home-"
# Written into each home as it is made: `cache clean` looks only at a home that holds it (a
# regular file, the user's own, as the home itself), never another directory named home-*,
# and deletes it only when it also carries the mark (common/files/proof.py) of the token its
# lock file holds: a home-* that someone else put into a shared cache is never deleted.
MARKER = ".mambaboot-home"
_TOKEN_LIMIT = 64


def owner_lock(home: str) -> str:
    """Held for as long as the run that owns the home lives: `cache clean` tells stale homes by it."""
    return home + ".lock"


class private_home:
    """with private_home(cache_dir) as home: a new private HOME, removed at the end. A plain
    class, not contextlib's generator: contextlib imports functools and collections, ~3 ms
    of create's start-up here (measured with -X importtime)."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir

    def __enter__(self) -> str:
        self.home = os.path.join(self.cache_dir, "tmp", HOME_PREFIX + os.urandom(6).hex())
        # Locked before the home exists and until it is gone, so no live home is ever unlocked.
        # Transient: the lock file, and CACHE/tmp when this run made it, go with the home.
        self.lock = filelock.FileLock(owner_lock(self.home), new=True, transient=True)
        try:
            self.lock.__enter__()
        except BaseException:
            self.lock = None
            raise
        self.token = proof.new_token()
        try:
            os.write(self.lock.fileno(), self.token.encode("ascii"))
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise
        tmp, name = confined.split(self.home)  # CACHE/tmp, which the lock made
        with tmp:
            try:
                tmp.mkdir(name, 0o700)
            except BaseException:
                self.lock.__exit__(None, None, None)
                raise
            try:
                tmp.write_new(f"{name}/{MARKER}", b"a private HOME mambaboot made for one run; deleted after it\n", 0o600)
                with tmp.sub(name) as home:
                    proof.write_mark(home, self.token, proof.HOME)
            except BaseException:
                self.__exit__()
                raise
        return self.home

    def __exit__(self, *exc) -> None:
        try:
            proof.remove_marked(self.home, self.token, "made it as a private home", proof.HOME)
        except FileNotFoundError:
            pass
        finally:
            self.lock.__exit__(None, None, None)


def child_environ(environ, home: str, pkgs_dirs, windows: bool,
                  net=None) -> dict[str, str]:
    """net: engine.network.Settings, or None (imported only then: `cache` reads owner_lock here)."""
    env = isolation.baseline(environ, windows)
    for key in [k for k in env if k.upper() in _REDIRECTED]:
        del env[key]
    tmp = os.path.join(home, "tmp")
    newdirs.make_dirs(tmp)
    redirected = {
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "TMPDIR": tmp,
        "TEMP": tmp,
        "TMP": tmp,
    }
    if windows:
        drive, rest = os.path.splitdrive(home)
        redirected.update(
            USERPROFILE=home,
            HOMEDRIVE=drive,
            HOMEPATH=rest,
            APPDATA=os.path.join(home, "AppData", "Roaming"),
            LOCALAPPDATA=os.path.join(home, "AppData", "Local"),
        )
    env.update(redirected)
    if net is not None:  # what the scrub and the private home dropped but the network needs
        from mambaboot.engine import network

        env.update(network.engine_environ(net))
        network.install_credentials(net, home)
    # Comma-separated on every platform: that is how conda and micromamba split it.
    env["CONDA_PKGS_DIRS"] = ",".join(pkgs_dirs)
    return env


# not a set literal, whose constant makes the zipapp's bytecode differ per build (tools/build_zipapp.py)
_REDIRECTED = frozenset((
    "HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "TMPDIR", "TEMP", "TMP",
))


class Stale:
    """A private home whose run is gone: its path, what was seen of it (guarded.Seen; None: only
    its lock file is left), and whether its lock file is there (free, a regular file of ours)."""

    def __init__(self, path: str, seen, lock: bool) -> None:
        self.path, self.seen, self.lock = path, seen, lock


def stale_homes(tmp: str) -> list:
    """The private homes in tmp (CACHE/tmp) this tool made whose run is gone: a directory named
    home-*, reached through no link (tmp included), the user's own and holding MARKER (a regular
    file, the user's own too), whose lock file is missing or free. Anything else named so, a
    home-* of another user in a shared or linked tmp among them, is not ours to judge."""
    from mambaboot.common.files import guarded

    by_fd = removal.BY_DESCRIPTOR
    try:
        fd = os.open(tmp, removal.DIRECTORY_FLAGS) if by_fd else None
        if fd is None and (fileid.is_link(tmp) or not os.path.isdir(tmp)):  # pragma: no cover - Windows
            return []
    except OSError:  # missing, or a link: O_NOFOLLOW
        return []
    try:
        names = os.listdir(fd if by_fd else tmp)
        homes = sorted(n for n in names if n.startswith(HOME_PREFIX) and not n.endswith(".lock"))
        found = []
        for name in homes:
            seen = _seen_home(tmp, fd, name, guarded)
            lock = _lock_state(tmp, fd, name + ".lock") if seen is not None else None
            if lock in ("missing", "free"):
                found.append(Stale(seen.path, seen, lock == "free"))
        for name in names:  # a lock whose home is gone: a run killed between the two deletions
            home = name[: -len(".lock")]
            if name.startswith(HOME_PREFIX) and name.endswith(".lock") and home not in homes \
                    and _lock_state(tmp, fd, name) == "free":
                found.append(Stale(os.path.join(tmp, home), None, True))
        return sorted(found, key=lambda s: s.path)
    finally:
        if fd is not None:
            os.close(fd)


def _ours(st: os.stat_result) -> bool:
    geteuid = getattr(os, "geteuid", None)  # Windows: no owner in a stat
    return geteuid is None or st.st_uid == geteuid()


def _lstat(name: str, fd, base: str) -> os.stat_result:
    return os.stat(name, dir_fd=fd, follow_symlinks=False) if fd is not None else os.lstat(os.path.join(base, name))


def _seen_home(tmp: str, fd, name: str, guarded):
    import stat

    path = os.path.join(tmp, name)
    try:
        if fd is not None:
            home = os.open(name, removal.DIRECTORY_FLAGS, dir_fd=fd)  # a link is not followed
            try:
                st, mark = os.fstat(home), _lstat(MARKER, home, path)
            finally:
                os.close(home)
        else:  # pragma: no cover - Windows
            if fileid.is_link(path):
                return None
            st, mark = os.lstat(path), os.lstat(os.path.join(path, MARKER))
    except OSError:
        return None
    if not (stat.S_ISDIR(st.st_mode) and stat.S_ISREG(mark.st_mode) and _ours(st) and _ours(mark)):
        return None
    return guarded.Seen(path, fileid.identity(st), MARKER, fileid.identity(mark))


def _lock_state(tmp: str, fd, name: str) -> str:
    """missing | free | held | foreign (not a regular file of ours: never taken for a lock)."""
    import stat

    from mambaboot.common.errors import TargetRefused

    try:
        st = _lstat(name, fd, tmp)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "foreign"
    if not stat.S_ISREG(st.st_mode) or not _ours(st):
        return "foreign"
    try:
        return "held" if filelock.held(os.path.join(tmp, name)) else "free"
    except TargetRefused:  # made a link since
        return "foreign"


def _token(home: str) -> str | None:
    """The token a home's lock file holds (private_home wrote it there), or None."""
    try:
        data = confined.read_file(owner_lock(home), _TOKEN_LIMIT)
    except OSError:
        return None
    text = data.decode("ascii", "replace").strip()
    return text if proof.is_token(text) else None


def remove_stale(stale: Stale) -> bool:
    """Delete a stale home (and its lock file) if it still is the one stale_homes() saw; False:
    it is not (replaced, or linked, meanwhile), and nothing of it was deleted."""
    if stale.seen is not None:
        token = _token(stale.path) if stale.lock else None
        try:
            proof.remove_marked(stale.path, token, "made it as a private home", proof.HOME,
                                expected=stale.seen.directory)
        except proof.NotOurs:
            return False
    if stale.lock:
        removal.unlink_quietly(owner_lock(stale.path))
    return True
