"""PREFIX/.condarc: the configuration an installer gives its base, so that the environment's own
conda and mamba can install packages without any file outside the environment.

conda stopped adding `defaults` implicitly in 25.9 and raises NoChannelsConfiguredError with no
channel since 26.1 (conda/core/solve.py); installers such as Miniforge ship a `.condarc` in the
base prefix for that reason. The environment's conda reads `$CONDA_ROOT/.condarc`, and conda sets
CONDA_ROOT to its own `sys.prefix` when unset (conda/__init__.py; SEARCH_PATH in
conda/base/constants.py), as well as `$CONDA_PREFIX/.condarc`. libmamba (mamba 2.x) reads
`ROOT/.condarc` and `TARGET/.condarc` (`compute_default_rc_sources`, libmamba/src/api/
configuration.cpp), and every way into an environment sets its root prefix to the environment.

The file is the user's once written: it is never overwritten, only created where missing.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import json
import os
from collections.abc import Iterable, Sequence

from mambaboot.common import fsops

FILE = ".condarc"
HEADER = "# Written by mambaboot when it made this environment: the channels it was created"


def channels_of(urls: Iterable[str]) -> list[str]:
    """The channels packages came from (`CHANNEL/SUBDIR/FILE` URLs), first seen first."""
    channels: list[str] = []
    for url in urls:
        channel = url.rsplit("/", 2)[0] if url.count("/") >= 3 else ""
        if channel and channel not in channels:
            channels.append(channel)
    return channels


def render(channels: Sequence[str], pkgs_dirs: Sequence[str]) -> str:
    # JSON strings are YAML double-quoted scalars: any path or URL is carried exactly.
    lines = [HEADER,
             "# from and its package cache, so this environment's own conda and mamba can install.",
             "# It is yours now: mambaboot never overwrites it.",
             "channels:"]
    lines += [f"  - {json.dumps(c, ensure_ascii=False)}" for c in channels]
    if pkgs_dirs:
        lines.append("pkgs_dirs:")
        lines += [f"  - {json.dumps(p, ensure_ascii=False)}" for p in pkgs_dirs]
    return "\n".join(lines) + "\n"


def ours(prefix: str) -> bool:
    """Whether PREFIX/.condarc is one mambaboot wrote (its first line says so)."""
    try:
        with open(os.path.join(prefix, FILE), "rb") as f:
            return f.readline().rstrip(b"\r\n") == HEADER.encode()
    except OSError:
        return False


def write_if_missing(prefix: str, channels: Sequence[str], pkgs_dirs: Sequence[str], sync: bool = True) -> str | None:
    """Write PREFIX/.condarc unless one exists (or there is no channel to name). The relative
    path when the file there is ours (written now or before), else None. sync: see
    fsops.atomic_write_many."""
    path = os.path.join(prefix, FILE)
    if os.path.lexists(path):
        return FILE if ours(prefix) else None
    if not channels:
        return None
    fsops.atomic_write(path, render(channels, pkgs_dirs).encode("utf-8"), mode=fsops.user_mode(0o666), sync=sync)
    return FILE
