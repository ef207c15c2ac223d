"""Whether an environment is in use right now, by the calling shell or by another mambaboot run:
what `move` and `remove` refuse to take from under it.

- Active in this shell: CONDA_PREFIX or MAMBABOOT_ENV names it, in any spelling (a link to it,
  another case on Windows): compared by identity, since the shell's PATH points into the
  directory itself, whatever it was called when activated.
- Being created or moved: the per-target lock in CACHE/pending/ is held (create holds it for its
  whole run, move for both of its places), or the pending marker's owner is alive.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import filelock, fsops
from mambaboot.common.errors import ShellContaminated, TargetRefused
from mambaboot.environment import record

ACTIVE_VARIABLES = ("CONDA_PREFIX", "MAMBABOOT_ENV")


def same_place(a: str, b: str) -> bool:
    """The same directory: by identity when both exist, else by spelling."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def refuse_active(environ, prefix: str, windows: bool) -> None:
    """An environment active in the calling shell is neither moved nor removed: that shell's PATH
    would point at nothing."""
    lookup = {k.upper(): v for k, v in environ.items()} if windows else environ
    for var in ACTIVE_VARIABLES:
        value = lookup.get(var)
        if value and same_place(value, prefix):
            raise ShellContaminated(f"{prefix} is active in this shell ({var}={value}); deactivate it first")


def working(prefix: str) -> TargetRefused:
    return TargetRefused(f"another mambaboot run is creating or moving {prefix} right now; nothing was changed")


def refuse_busy(cache_dir: str, prefix: str) -> None:
    """Refuse prefix while another mambaboot run creates or moves it."""
    _refuse_pending(cache_dir, prefix)
    if filelock.held(record.target_lock(cache_dir, prefix).path):
        raise working(prefix)


def _refuse_pending(cache_dir: str, prefix: str) -> None:
    """The pending marker's owner alive: a create under way (its pid said)."""
    marker = record.pending_marker(cache_dir, prefix)
    if marker is not None and record.owner_running(marker):
        raise TargetRefused(f"{prefix} is being created right now (mambaboot pid {marker.get('pid')}); nothing was changed")


class Claimed:
    """The target locks of the given places, held until exit: a create, move or remove of either
    by another run is refused meanwhile. Entering refuses (TargetRefused) what refuse_busy refuses."""

    def __init__(self, cache_dir: str, *prefixes: str) -> None:
        # One lock a place: a second flock of the same file by this process would wait on the first.
        self._prefixes = list({fsops.path_key(p): p for p in prefixes}.values())
        self._locks = [record.target_lock(cache_dir, p) for p in self._prefixes]
        self.cache_dir = cache_dir

    def __enter__(self) -> "Claimed":
        entered = []
        try:
            for lock, prefix in zip(self._locks, self._prefixes):
                _refuse_pending(self.cache_dir, prefix)
                try:
                    lock.__enter__()
                except BlockingIOError:
                    raise working(prefix) from None
                entered.append(lock)
        except BaseException:
            for lock in reversed(entered):
                lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for lock in reversed(self._locks):
            lock.__exit__(None, None, None)
