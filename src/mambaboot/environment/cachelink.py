"""PREFIX/pkgs -> the shared package cache, so the environment's own mamba reuses it.

The user's bootstrap script made this link by hand; conda and mamba look for a pkgs
directory in the prefix they run from.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import winsys

from mambaboot.common.files import confined, fileid, newdirs


def link_cache(prefix: str, pkgs_dir: str, windows: bool) -> str | None:
    """Create the link and return its kind; None when PREFIX/pkgs already holds a real directory.

    An empty pkgs/ (some engines leave one) is replaced; one with content belongs to
    someone and stays as it is.
    """
    link = os.path.join(prefix, "pkgs")
    with confined.Root.open(prefix) as root:
        if fileid.is_link(link):
            root.unlink("pkgs")
        elif os.path.isdir(link):
            if root.listdir("pkgs"):
                return None
            root.rmdir("pkgs")
    newdirs.make_dirs(pkgs_dir)
    return winsys.link_directory(pkgs_dir, link, windows)
