"""The private world micromamba runs in, so that nothing it does escapes the prefix and cache.

micromamba 2.x appends every prefix to ~/.conda/environments.txt, creates ~/.mamba/pkgs,
may default its root prefix under the user's data dir and reads rc files from HOME. We give
it a HOME (and every per-user dir a platform derives from it) that we own and delete.
It lives inside the cache dir, so even a SIGKILL leaves nothing outside prefix and cache.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import newdirs, workdir
from mambaboot.common import isolation

HOME = "home"  # its kind: CACHE/tmp/mambaboot-tmp-<TOKEN>-home (common/files/tempname.py)


def private_home(cache_dir: str) -> workdir.WorkDir:
    """with private_home(cache_dir) as home: a new private HOME in CACHE/tmp, removed at the end
    (a work directory of the run: common/files/workdir.py)."""
    return workdir.WorkDir(os.path.join(cache_dir, "tmp"), HOME)


def child_environ(environ, home: str, pkgs_dirs, windows: bool, net=None) -> dict[str, str]:
    """net: engine.network.Settings, or None (imported only then)."""
    env = isolation.baseline(environ, windows)
    for key in [k for k in env if k.upper() in _REDIRECTED]:
        del env[key]
    tmp = os.path.join(home, "tmp")
    newdirs.make_dirs(tmp)
    env.update(HOME=home, TMPDIR=tmp, TEMP=tmp, TMP=tmp, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               XDG_STATE_HOME=os.path.join(home, ".local", "state"))
    if windows:
        drive, rest = os.path.splitdrive(home)
        env.update(USERPROFILE=home, HOMEDRIVE=drive, HOMEPATH=rest, APPDATA=os.path.join(home, "AppData", "Roaming"),
                   LOCALAPPDATA=os.path.join(home, "AppData", "Local"))
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
