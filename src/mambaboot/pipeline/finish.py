"""Everything after the engine: what turns a conda prefix into a managed, verified environment.

`create` is "engine + finish"; `mambaboot adopt` runs finish() alone on a prefix that
micromamba, conda or mamba made. Order matters: the record of a new environment says
`incomplete` before any other file of ours is written, and `complete` only after verification
passed; an environment checked again keeps the record it had until then.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.files import confined
from mambaboot.common.errors import UsageError
from mambaboot.common.report import Reporter
from mambaboot.common.values import factory, value
from mambaboot.environment import record
from mambaboot.pipeline import verify
from mambaboot.common import isolation
from mambaboot.shell.activation import environ as activation

# What finish needs once verification is under way is imported then, where it is used: adopt
# has no engine run to hide these imports behind (json, re
# and urllib.parse among them), and so they overlap the environment's conda starting instead of
# coming before it. create imports them while its engine runs (prepare).
LATER = ("mambaboot.environment.cachelink", "mambaboot.environment.condameta", "mambaboot.environment.condarc",
         "mambaboot.environment.lockfile", "mambaboot.environment.roothook", "mambaboot.relocate.batscripts",
         "mambaboot.shell.activation.generate", "mambaboot.common.usersite",
         "mambaboot.environment.cacheusers", "json")

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text)
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from mambaboot.environment import condameta, lockfile
    from mambaboot.relocate import batscripts as prefixes


@value
class FinishInputs:
    prefix: str
    windows: bool
    requested_python: str | None
    pkgs_dir: str | None  # link PREFIX/pkgs here; None: no link
    provenance: Mapping[str, object] = factory(dict)  # inputs, platform, micromamba
    created: str | None = None  # keep an earlier creation time (re-adoption)
    lock: lockfile.Lock | None = None  # what must be installed, exactly (create --from-lock)
    env_vars: Sequence[tuple[str, str]] = ()  # an environment file's variables, for conda-meta/state
    # The engine made the prefix in this run (create): what finish writes there before the
    # record says `complete` is not synced file by file (confined.write_file); that record is.
    fresh: bool = False
    scripts: Mapping[str, bytes] | None = None  # prepare(prefix, windows), made while the engine ran
    # Told (a path relative to the prefix, its bytes) before .condarc or conda-meta/state is written: adopt's
    # snapshot keeps what it wrote, so its put-back takes back that and nothing a user wrote since
    ahead: Callable[[str, bytes], None] | None = None


@value
class Finished:
    packages: list[condameta.Package]
    verification: verify.Verification
    record_path: str
    cache_link: str | None
    files: list[str]

    def summary(self) -> dict[str, object]:
        """What create and adopt print about the environment they finished."""
        v = self.verification
        return {
            "python_version": v.python_version,
            "conda_version": v.conda_version,
            "mamba_version": v.mamba_version,
            "packages": [{"name": p.name, "version": p.version, "build": p.build} for p in self.packages],
            "record": self.record_path,
            "cache_link": self.cache_link,
        }


def finish(inputs: FinishInputs, environ: Mapping[str, str], reporter: Reporter) -> Finished:
    prefix = inputs.prefix
    files: list[str] = [f"{record.RECORD_DIR}/{record.RECORD_FILE}"]  # relative, with '/' on every platform
    body: dict[str, object] = dict(inputs.provenance)
    body.update(state=record.INCOMPLETE, created=inputs.created or record.utc(), files=files)
    # Verification runs the environment's own programs while the rest is done: at once (it
    # writes nothing, so it may start before the record does), or once conda-meta/state holds an
    # environment file's variables, which activation reads there; on a Windows layout only once
    # the scripts among the programs are patched.
    patched = _runnable_scripts(inputs, reporter)  # before anything runs them, verification first
    checks = None
    # Whatever ends the run from here until every check is collected (an interruption included,
    # which may arrive before result() is under way) stops the checks first: none goes on
    # running in the prefix that the rollback is putting back.
    try:
        if not (inputs.windows or inputs.env_vars):
            checks = _checks(inputs, environ)
        if inputs.created is None:  # a new environment; one checked again (re-adopted, moved) keeps
            # its record as it was until it verified: put back by a failure, an interruption or a
            # kill's settling, it is as it was, complete or not (the move's intent says it moves)
            record.write(prefix, body, sync=not inputs.fresh)
        link = _link(inputs, files, reporter)
        _write_env_vars(inputs, files, reporter)  # before the scripts, which are written from it
        if checks is None and not inputs.windows:
            checks = _checks(inputs, environ)
        # The one pass over conda-meta: the packages, and on a Windows layout
        # the files' entries that name the scripts to patch (no .bat has a use elsewhere).
        from mambaboot.environment import condameta

        meta = condameta.summary(prefix, paths=inputs.windows)
        made = portable(prefix, inputs.windows, paths=meta.paths or (), sync=not inputs.fresh, scripts=inputs.scripts)
        files.extend(made.files)
        patched += [c.path for c in made.patch.changed]
        if patched:
            body["patched"] = patched
        reporter.step(made.summary())
        if checks is None:
            checks = _checks(inputs, environ)
        packages = meta.packages
        lock_file = _write_lock(inputs, packages, files, reporter)
        _write_condarc(inputs, packages, files, reporter)
        verification = checks.result()
    except BaseException:
        if checks is not None:
            checks.cancel()
        raise
    reporter.step(
        f"verify: python {verification.python_version} ({verification.python}), "
        f"conda {verification.conda_version}, mamba {verification.mamba_version}"
    )
    _note_user_site(inputs, verification.python_version, reporter)
    if inputs.lock is not None:
        from mambaboot.environment import lockfile

        lockfile.check(inputs.lock, packages)
        reporter.step(f"lock: all {len(packages)} packages match the lock (name, version, build, hashes)")
    body.update(
        state=record.COMPLETE, completed=record.utc(), verification=verification.to_dict(),
        packages=[p.to_dict() for p in packages], lock=lock_file,
    )
    path = record.write(prefix, body)
    reporter.step(f"record: {path} ({len(packages)} packages)")
    _note_cache_user(inputs)
    return Finished(packages, verification, path, link, files)


def _note_user_site(inputs: FinishInputs, version: str, reporter: Reporter) -> None:
    """Say so when the user site of the environment's Python version holds packages, and whether
    the environment sees them (it does not when its state sets PYTHONNOUSERSITE, as finish writes it)."""
    from mambaboot.common import host, usersite
    from mambaboot.environment import prefixstate

    major_minor = version.split(".")[:2]
    want = ("python" + "".join(major_minor)) if inputs.windows else ("python" + ".".join(major_minor))
    try:
        sites = usersite.user_sites(host.current())
    except (OSError, ValueError):  # no usable home: there is no user site to speak of
        return
    for site, held, where in sites:
        if os.path.basename(os.path.dirname(site)).lower().split("-")[0] != want:
            continue
        text = usersite.describe(site, held, where)
        if prefixstate.read(inputs.prefix).get("env_vars", {}).get("PYTHONNOUSERSITE"):
            reporter.step(f"user site: {text}; this environment does not see it (PYTHONNOUSERSITE in "
                          f"{prefixstate.STATE_FILE}); every other Python {'.'.join(major_minor)} started without it imports them")
        else:
            reporter.warn(f"user site: {text}, and this environment imports them ahead of its own packages: "
                          f"the environment file sets PYTHONNOUSERSITE empty")


def _note_cache_user(inputs: FinishInputs) -> None:
    """Note the environment in the cache it was made with: `cache clean` keeps what it installed,
    its copied files included (environment/cacheusers.py)."""
    cache_dir = (inputs.provenance.get("inputs") or {}).get("cache_dir")
    if isinstance(cache_dir, str) and cache_dir:
        from mambaboot.common.files import newdirs
        from mambaboot.environment import cacheusers

        newdirs.make_dirs(cache_dir)  # a cache named for adopt or move that is not there yet: made, as create makes it
        cacheusers.register(cache_dir, inputs.prefix)


def _runnable_scripts(inputs: FinishInputs, reporter: Reporter) -> list[str]:
    """A POSIX prefix with a space: the `#!` lines micromamba left in the packages' scripts, which
    no kernel runs, rewritten as conda writes them (relocate/audit.py fix_shebangs)."""
    if inputs.windows or " " not in inputs.prefix:
        return []
    from mambaboot.relocate import audit

    changed = audit.fix_shebangs(inputs.prefix)
    if changed:
        reporter.step(f"shebangs: {len(changed)} package scripts start with conda's lines for a prefix with a space")
    return changed


def _checks(inputs: FinishInputs, environ: Mapping[str, str]) -> verify.Checks:
    """The environment's python, conda and mamba started, found as a clean shell with it activated finds them."""
    activated = activation.activated(isolation.baseline(environ, inputs.windows), inputs.prefix, inputs.windows)
    if not inputs.env_vars:  # started before conda-meta/state gets them (finish): as it will hold them
        from mambaboot.environment import prefixstate

        activated.update(prefixstate.STANDALONE)
    return verify.start(activated, inputs.prefix, inputs.requested_python)


def _write_lock(inputs: FinishInputs, packages: list[condameta.Package], files: list[str],
                reporter: Reporter) -> str | None:
    """PREFIX/.mambaboot/lock.txt: what this environment holds, to recreate it exactly."""
    from mambaboot.environment import lockfile

    try:
        text = lockfile.for_environment(packages, inputs.provenance, shared=False)
    except UsageError as exc:
        reporter.warn(f"no lock written: {exc}")
        return None
    rel = f"{record.RECORD_DIR}/{record.LOCK_FILE}"
    confined.write_in(inputs.prefix, rel, text.encode(), mode=confined.user_mode(0o666), sync=not inputs.fresh)
    files.append(rel)
    return rel


def _write_env_vars(inputs: FinishInputs, files: list[str], reporter: Reporter) -> None:
    """conda-meta/state's env_vars: the standalone variables and an environment file's (prefixstate)."""
    from mambaboot.environment import prefixstate

    prefixstate.write(inputs.prefix, inputs.env_vars, sync=not inputs.fresh, ahead=inputs.ahead)
    files.append(prefixstate.STATE_FILE)  # holds them now, whether this run or an earlier one wrote them
    if inputs.env_vars:
        reporter.step(f"variables: {len(inputs.env_vars)} in {prefixstate.STATE_FILE}, set by every activation")
    reporter.step(standalone_summary())


def standalone_summary() -> str:
    from mambaboot.environment import prefixstate

    names = ", ".join(f"{k}={v}" for k, v in prefixstate.STANDALONE)
    return (f"standalone: {names} in {prefixstate.STATE_FILE}: no user site-packages under conda's, mamba's "
            "or mambaboot's activation")


def _write_condarc(inputs: FinishInputs, packages: list[condameta.Package], files: list[str],
                   reporter: Reporter) -> str | None:
    """PREFIX/.condarc with the channels the environment came from and condarc.SETTINGS, unless
    there is one; then only the settings it lacks are added."""
    from mambaboot.environment import condarc

    given = inputs.provenance.get("inputs") or {}
    channels = list(given.get("channels") or ()) or condarc.channels_of(p.url for p in packages)
    done = condarc.ensure(inputs.prefix, channels, list(given.get("pkgs_dirs") or ()), sync=not inputs.fresh,
                          ahead=inputs.ahead)
    if done.file:
        files.append(done.file)
    if done.written:
        reporter.step(f"condarc: {done.file} names {len(channels)} channel(s) for the environment's own conda and mamba")
    elif done.added:
        reporter.step(f"condarc: added {', '.join(done.added)} to {os.path.join(inputs.prefix, condarc.FILE)}, "
                      "its other settings as they were")
    if done.warning:
        reporter.warn(f"condarc: {done.warning}")
    return done.file


@value
class Portable:
    scripts: list[str]
    patch: prefixes.Report
    hooks: list[str] = factory(list)  # roothook's, in etc/conda/

    @property
    def files(self) -> list[str]:
        """What this wrote into the environment (patched files belong to their packages)."""
        return self.scripts + self.hooks + self.patch.backups

    def summary(self) -> str:
        text = f"scripts: {len(self.scripts)} activation scripts in {record.RECORD_DIR}/"
        if self.hooks:
            text += f", {len(self.hooks)} hooks in etc/conda/ that make it its mamba's root prefix"
        if self.patch.changed:
            text += f", {len(self.patch.changed)} Windows scripts made location-independent"
        return text


# The other files finish writes into a new prefix through the file layer, unsynced: the record that says
# `incomplete`, conda-meta/state, the three variables' scripts, the lock and .condarc (the one that says `complete`
# is synced, made beside its place)
BLANKS = 7


def prepare(prefix: str, windows: bool, stage: str | None = None) -> tuple[dict[str, bytes], confined.Premade | None]:
    """What finish needs that does not depend on what the engine puts there, made while create's
    engine runs: the modules it imports once verification is under way (LATER), and the shells'
    activation scripts, which depend on the prefix's path alone (~4 ms the first time, templates
    read and patterns compiled; FinishInputs.scripts); with stage (a new directory of the run's own),
    those scripts and the hooks made there as files, and a blank one for each other file finish writes
    into the prefix (confined.Premade, to lend to finish), none synced (a fresh prefix's)."""
    import importlib

    # and conda-meta/state's, which adopt's verification needs before it starts (_checks)
    for name in (*LATER, "mambaboot.environment.prefixstate"):
        importlib.import_module(name)
    from mambaboot.environment import roothook
    from mambaboot.shell.activation import generate

    scripts = generate.shells(prefix, windows)
    if stage is None:
        return scripts, None
    items = [*roothook.render(windows).items(), *scripts.items()]
    try:
        return scripts, confined.Premade(stage, items, confined.user_mode(0o666), sync=False, blanks=BLANKS)
    except OSError:  # (a full disk): written after the engine as without it, where such a failure is said
        return scripts, None


def portable(prefix: str, windows: bool, *, written: Iterable[str] = (), backup: bool = False,
             dry_run: bool = False, paths: Iterable[dict] | None = None, sync: bool = True,
             scripts: Mapping[str, bytes] | None = None) -> Portable:
    """Activation without hooks: our activation scripts, and micromamba's scripts patched; and
    under conda's own activation, the etc/conda hooks that make the environment its mamba's root.
    paths: the records' paths_data entries, read already (else the patch reads what it needs).
    sync: of the activation scripts (confined.write_file); scripts: prepare(prefix, windows)."""
    from mambaboot.environment import roothook
    from mambaboot.relocate import batscripts as prefixes
    from mambaboot.shell.activation import generate, sources

    sources.read(prefix)  # variables' data no script can be made from: refused (exit 7) before a hook is written
    # The hooks first: the cmd scripts hold the list of hooks they run (vars.bat), made from what is there.
    hooks = roothook.write(prefix, windows, dry_run=dry_run, sync=sync)
    scripts = generate.write(prefix, windows, dry_run=dry_run, sync=sync, made=scripts)
    return Portable(scripts, prefixes.patch(prefix, written, backup=backup, dry_run=dry_run, paths=paths), hooks)


def _link(inputs: FinishInputs, files: list[str], reporter: Reporter) -> str | None:
    pkgs = os.path.join(inputs.prefix, "pkgs")
    if inputs.pkgs_dir is None:
        reporter.step("cache link: skipped")
        return None
    from mambaboot.common import winsys
    from mambaboot.environment import cachelink

    try:
        link = cachelink.link_cache(inputs.prefix, inputs.pkgs_dir, inputs.windows)
    except OSError as exc:
        if not winsys.links_unsupported(exc):
            raise
        # as --no-cache-link: the environment's conda and mamba keep their own package cache
        code = f"WinError {exc.winerror}" if getattr(exc, "winerror", None) else f"errno {exc.errno}"
        reporter.warn(f"cache link: not made, as with --no-cache-link: {pkgs}'s file system cannot link to a "
                      f"directory ({exc.strerror or exc}, {code})")
        return None
    if link:
        files.append("pkgs")
        reporter.step(f"cache link: {pkgs} -> {inputs.pkgs_dir} ({link})")
    else:
        reporter.step(f"cache link: {pkgs} already holds files; left as it is")
    return link
