"""Removing an environment, and nothing else.

Only a conda environment is ever deleted, only one mambaboot created unless forced, and
never through a link: PREFIX/pkgs (a junction on Windows, a symlink elsewhere) points into
the shared package cache, and descending into it would wipe the cache. The environment is
first renamed aside, so a failure half-way leaves an obviously dead directory rather than a
half-working environment under its old name.

Only the directory that was checked is deleted: the checks remember it by identity (its own,
and its record's or conda-meta's), and the deletion acts on that identity, not on the name,
which may have come to mean another directory while the user was asked (common/files/guarded.py).
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import untrusted

from mambaboot.common.files import confined, fileid, guarded, proof, tempname
from mambaboot.common.errors import CrossesMount, TargetRefused, TooDeep
from mambaboot.engine import signals
from mambaboot.environment import diskusage, inventory, record, target


class Candidate:
    """usage: measured beforehand (to show before asking); None: counted while deleting.
    seen: the directory the checks looked at (guarded.Seen), the only one remove() deletes."""

    def __init__(self, prefix: str, state: str, usage: diskusage.Usage | None, seen: guarded.Seen) -> None:
        self.prefix, self.state, self.usage, self.seen = prefix, state, usage, seen


def looks_like_path(target: str) -> bool:
    return target in (".", "..") or target.startswith("~") or any(sep in target for sep in ("/", "\\", os.sep))


def inspect(prefix: str, cache_dir: str, pkgs_dirs, force: bool, measure: bool = True) -> Candidate:
    """Decide, by looking only, whether prefix may be removed; measure what it holds."""
    if not os.path.lexists(prefix):
        from mambaboot.common.errors import no_such_path

        raise no_such_path(prefix, "remove")
    if fileid.is_link(prefix):
        raise TargetRefused(f"{prefix} is a link; mambaboot never removes through a link (give the real path)")
    if not os.path.isdir(prefix):
        raise TargetRefused(f"{prefix} is a file, not an environment; it was left untouched")
    before = guarded.seen(prefix, _witness(prefix))
    env = inventory.describe(prefix)
    if env is None:
        raise TargetRefused(f"{prefix} is not a conda environment (no conda-meta, no mambaboot record); "
                            "it is never deleted")
    if env.state == inventory.FOREIGN and not force:
        raise TargetRefused(f"{prefix} is a conda environment mambaboot did not create; pass --force to remove it")
    if record.made_by_someone_else(record.read(prefix)) and not force:
        raise TargetRefused(f"{prefix} is an environment mambaboot adopted, not created; pass --force to remove it")
    for cache in (cache_dir, *pkgs_dirs):
        if os.path.isdir(cache) and fileid.within(cache, prefix):
            raise TargetRefused(f"the package cache {cache} lives inside {prefix}; removing it would delete the cache")
    target.refuse_nested(prefix)
    usage = diskusage.measure(prefix) if measure else None
    after = guarded.seen(prefix, before.witness)
    if (after.directory, after.witnessed) != (before.directory, before.witnessed):
        raise TargetRefused(f"{prefix} changed while it was being checked; nothing was removed")
    return Candidate(prefix, env.state, usage, before)


def _witness(prefix: str) -> str | None:
    """What vouches for the environment besides its directory: its record, else conda-meta
    (a directory renamed away and another made in its place may get the same inode number;
    both rarely)."""
    for witness in (os.path.join(record.RECORD_DIR, record.RECORD_FILE), "conda-meta"):
        if os.path.lexists(os.path.join(prefix, witness)):
            return witness
    return None


def remove(candidate: Candidate, home: str, intent) -> diskusage.Usage:
    """What was removed: the candidate's measurement, or else what was counted while deleting
    (one walk instead of two: each file's lstat just before its unlink; common/files/removal.py halves
    the work between two processes, so counting costs no more than `rm -rf` given two cores).
    intent: the place's (placelock.Intent, its token the mark's): each stage said in it before
    its first act, so that a kill is settled as this run's own failure is (environment/settle.py)."""
    prefix = candidate.prefix
    tally = diskusage.Tally() if candidate.usage is None else None
    with signals.held():  # from the rename on, finish: never leave half an environment behind
        # The mark proves the set-aside name was given by this run (a user's directory may bear it too).
        intent.stage("set-aside", aside=tempname.set_aside(prefix, intent.token, proof.REMOVING))
        with guarded.set_aside(candidate.seen, proof.REMOVING, intent.token) as aside:
            intent.stage("deleting", doomed=aside.path)
            try:
                aside.delete(tally)
            except (CrossesMount, TooDeep):  # come since the set-aside refused them: nothing deleted, the intent keeps it
                raise
            except OSError as exc:  # the intent tries again, and else stays: the next run finishes it
                raise TargetRefused(f"could not remove all of {prefix}: {exc}; what remains is at {aside.path}, "
                                    f"and the next mambaboot run on {prefix} finishes deleting it") from None
        unregister(home, prefix)
    return candidate.usage if tally is None else tally.usage()


def unregister(home: str, prefix: str) -> str | None:
    """Drop prefix from ~/.conda/environments.txt, where conda and micromamba list the
    environments they made (never mambaboot's, which sandboxes micromamba; a foreign one may be).
    A link there (to a dotfiles repository, say) is the user's arrangement: left as it is, never
    replaced by a copy nor written through, like a file that is not a regular one.

    Only the lines naming prefix go; every other byte stays. Lines end at "\n" only: conda writes
    each prefix and "\n" (envs_manager.register_env, _rewrite_environments_txt: "\n".join), and
    reads them back by iterating the file in text mode (gateways/disk/read.py yield_lines: universal
    newlines, "\n", "\r\n" or "\r", then line.strip()), conda 26.x; str.splitlines would also end
    a line at U+2028, U+0085, form feed or vertical tab, which a path may hold."""
    path = os.path.join(home, ".conda", "environments.txt")
    rel = ".conda/environments.txt"
    try:  # a file others write: a link, or one that cannot be trusted, is left as it is
        raw = untrusted.read_bytes_in(home, rel)
        lines = untrusted.text(raw, path).split("\n")
        with confined.Root.open(home) as root:
            mode = root.lstat(rel).st_mode & 0o777
    except (OSError, ValueError):
        return None
    key = os.path.normcase(os.path.normpath(prefix))
    kept = [line for line in lines if not line or key not in {  # as conda reads it, or as written
        os.path.normcase(os.path.normpath(seen)) for seen in (line.strip(), line.rstrip("\r")) if seen}]
    if len(kept) == len(lines):
        return None
    bom = untrusted.BOM if raw.startswith(untrusted.BOM) else b""
    confined.write_in(home, rel, bom + "\n".join(kept).encode("utf-8"), mode=mode)
    return path
