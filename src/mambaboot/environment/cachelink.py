"""PREFIX/pkgs -> the shared package cache, so the environment's own mamba reuses it.

The user's bootstrap script made this link by hand; conda and mamba look for a pkgs
directory in the prefix they run from.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import fsops, winsys


def link_cache(prefix: str, pkgs_dir: str, windows: bool) -> str | None:
    """Create the link and return its kind; None when PREFIX/pkgs already holds a real directory.

    An empty pkgs/ (some engines leave one) is replaced; one with content belongs to
    someone and stays as it is.
    """
    link = os.path.join(prefix, "pkgs")
    if fsops.is_link(link):
        fsops.remove_link(link)
    elif os.path.isdir(link):
        if os.listdir(link):
            return None
        os.rmdir(link)
    os.makedirs(pkgs_dir, exist_ok=True)
    return winsys.link_directory(pkgs_dir, link, windows)
