"""Whether an environment is in use right now, by the calling shell or by another mambaboot run:
what `move` and `remove` refuse to take from under it.

- Active in this shell: CONDA_PREFIX or MAMBABOOT_ENV names it, in any spelling (a link to it,
  another case on Windows): compared by identity, since the shell's PATH points into the
  directory itself, whatever it was called when activated.
- Being changed by another run: the place's lock is held (environment/placelock.py: every
  command that changes a place holds it for its whole run, move for both of its places).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.errors import ShellContaminated
from mambaboot.environment import placelock

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


def refuse_busy(prefix: str) -> None:
    """Refuse prefix while another mambaboot run changes it."""
    placelock.refuse_held(prefix)
