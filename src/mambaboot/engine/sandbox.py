"""The private world micromamba runs in, so that nothing it does escapes the prefix and cache: micromamba 2.x appends
every prefix to ~/.conda/environments.txt, creates ~/.mamba/pkgs and reads rc files from HOME. We give it a HOME (and
every per-user dir a platform derives from it) inside the cache dir, deleted after, so even a SIGKILL leaves nothing
outside prefix and cache."""

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
    tmp = os.path.join(home, "tmp")
    drive, rest = os.path.splitdrive(home)
    redirected = dict(HOME=home, TMPDIR=tmp, TEMP=tmp, TMP=tmp, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                      XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local", "share"),
                      XDG_STATE_HOME=os.path.join(home, ".local", "state"))
    on_windows = dict(USERPROFILE=home, HOMEDRIVE=drive, HOMEPATH=rest, APPDATA=os.path.join(home, "AppData", "Roaming"),
                      LOCALAPPDATA=os.path.join(home, "AppData", "Local"))
    env = isolation.baseline(environ, windows)  # less what the private home replaces, on every platform
    env = {k: v for k, v in env.items() if k.upper() not in redirected and k.upper() not in on_windows}
    newdirs.make_dirs(tmp)
    env.update(redirected, **(on_windows if windows else {}))
    if net is not None:  # what the scrub and the private home dropped but the network needs
        from mambaboot.engine import network

        env.update(network.engine_environ(net))
        network.install_credentials(net, home)
    # Comma-separated on every platform: that is how conda and micromamba split it.
    env["CONDA_PKGS_DIRS"] = ",".join(pkgs_dirs)
    return env
