"""PREFIX/pkgs -> the shared package cache, so the environment's own mamba reuses it.

The user's bootstrap script made this link by hand; conda and mamba look for a pkgs
directory in the prefix they run from.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import stat

from mambaboot.common import winsys

from mambaboot.common.files import confined, newdirs


def link_cache(prefix: str, pkgs_dir: str, windows: bool) -> str | None:
    """Create the link and return its kind; None when PREFIX/pkgs already holds a real directory.

    An empty pkgs/ (some engines leave one) is replaced; one with content belongs to
    someone and stays as it is.
    """
    link = os.path.join(prefix, "pkgs")
    newdirs.make_dirs(pkgs_dir)
    with confined.Root.open(prefix) as root:
        found = _found(root)
        if found == "link" and _leads_to(root.readlink("pkgs"), pkgs_dir):
            # a move brings the link along: unlinking it to make the same one again would leave the
            # environment without it if the run were killed in between, and the put-back with it
            return "junction" if windows else "symlink"
        if found == "link":
            root.unlink("pkgs")
        elif found == "directory":
            if root.listdir("pkgs"):
                return None
            root.rmdir("pkgs")
    try:
        return winsys.link_directory(pkgs_dir, link, windows)
    except OSError:
        # CreateJunction makes the directory before it makes it a junction, and leaves it when
        # the second step fails (CPython Modules/_winapi.c, _winapi_CreateJunction_impl): an
        # empty directory at the place nothing was a moment ago is that one
        with confined.Root.open(prefix) as root:
            if _found(root) == "directory" and not root.listdir("pkgs"):
                root.rmdir("pkgs")
        raise


def _leads_to(target: str, pkgs_dir: str) -> bool:
    """Whether a link's text names pkgs_dir; a junction's reads back with the \\\\?\\ prefix."""
    if target.startswith("\\\\?\\"):
        target = target[4:]
    return os.path.normcase(os.path.normpath(target)) == os.path.normcase(os.path.normpath(pkgs_dir))


def _found(root: confined.Root) -> str | None:
    """What the prefix's pkgs is, seen by the Root that then acts on it (not by a path looked up
    again): "link" (a symlink or junction), "directory", None (nothing, or another kind of file)."""
    try:
        st = root.lstat("pkgs")
    except FileNotFoundError:
        return None
    if confined.is_link(st):
        return "link"
    return "directory" if stat.S_ISDIR(st.st_mode) else None
