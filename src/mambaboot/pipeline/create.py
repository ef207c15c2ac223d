"""The create pipeline: check -> obtain -> engine -> finish (see finish.py) -> overlays, then
provisioning (pip section, post-scripts; see provision.py).

Every failure after the first write rolls back to what was there before, through the one
settle routine a killed run's intent goes through too (environment/settle.py): a prefix that
did not exist is removed, an empty one emptied, and a replaced (--force) environment moved
back into place; only what this run made, proved by its mark or its identity, is deleted. Provisioning runs after
that point: its failure leaves the verified environment in place, recorded as such.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import output, pathrules, urlrule

from mambaboot.common.files import confined, fileid, newdirs, noreplace, proof, removal, tempname
from mambaboot.common.errors import EngineError, HostUnreachable, ObtainError, TargetRefused, UsageError
from mambaboot.common.host import Host
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.engine import child, micromamba, network, sandbox, signals
from mambaboot.environment import placelock, record, settle, target
from mambaboot.pipeline.plan import Plan
from mambaboot.pipeline import movesteps
from mambaboot.common import isolation

# typing's flag without importing typing (PEP 781): true to a type checker only. The modules
# below are imported where they are used: finish and provision while the engine runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from mambaboot.environment import overlay
    from mambaboot.pipeline import finish


@value
class CreateResult:
    plan: Plan
    binary: micromamba.Binary
    finished: finish.Finished
    replaced: bool
    overlays: list[overlay.Applied]
    provisioning: dict[str, object] | None

    def to_dict(self) -> dict:
        return {
            "prefix": self.plan.prefix,
            "name": self.plan.name,
            **self.finished.summary(),
            "micromamba_version": self.binary.version,
            "micromamba_sha256": self.binary.sha256,
            "micromamba_source": urlrule.shown(self.binary.source),
            "packages": [{"name": p.name, "version": p.version, "build": p.build} for p in self.finished.packages],
            "record": self.finished.record_path,
            "lock": os.path.join(self.plan.prefix, record.RECORD_DIR, record.LOCK_FILE)
            if f"{record.RECORD_DIR}/{record.LOCK_FILE}" in self.finished.files else None,
            "cache_link": self.finished.cache_link,
            "replaced": self.replaced,
            "overlays": [o.to_dict() for o in self.overlays],
            "provisioning": _provisioning_shown(self.provisioning),
        }


def _provisioning_shown(provisioning: dict[str, object] | None) -> object:
    if provisioning is None:
        return None
    from mambaboot.pipeline import provision

    return provision.shown(provisioning)


def preflight(plan: Plan, host: Host, ignore_active_env: bool, reporter: Reporter) -> target.Target:
    """The checks that write nothing: shell, then target. --dry-run stops after these."""
    isolation.admit(host.environ, host.windows, ignore_active_env, reporter)
    for warning in plan.warnings:
        reporter.warn(warning)
    if host.windows:
        from mambaboot.common import winsys  # Windows alone: not on the way to every engine

        if winsys.long_paths_enabled() is not True:
            for said in max_path_overruns(plan, host):
                reporter.warn(said)
    tgt = target.inspect(plan.prefix, plan.cache_dir, plan.force)
    reporter.step(f"target: {plan.prefix} {tgt.detail}")
    if plan.overlays:
        from mambaboot.environment import overlay

        overlay.check_sources(plan.overlays)
    if plan.post_scripts:
        from mambaboot.pipeline import provision

        provision.check_scripts(plan.post_scripts, plan.windows, host.environ)
    return tgt


def max_path_overruns(plan: Plan, host: Host) -> list[str]:
    """On Windows with LongPathsEnabled off: where the plan's files would pass MAX_PATH, each said
    with what to do (the environment's own place, then the package cache's); [] when all fit. The
    one estimate: the Windows try-out (tools/tryout.py) checks its folder with it."""
    from mambaboot.common import cachepaths

    said = []
    if pathrules.risks_max_path(plan.prefix):
        said.append(
            f"prefix is {len(plan.prefix)} characters long ({pathrules.longest_place(plan.prefix)} under the name "
            "it is set aside under while it is replaced, removed or moved) and LongPathsEnabled is not set: package "
            f"files nested inside it may pass {pathrules.WINDOWS_MAX_PATH} characters and fail; enable it "
            "(mambaboot doctor shows how) or choose a shorter path"
        )
    channels = plan.lock.channels() if plan.lock else plan.channels
    for pkgs_dir in plan.pkgs_dirs[:1]:  # the one micromamba writes into
        overrun = cachepaths.overrun(pkgs_dir, channels, (plan.subdir, "noarch"), host.environ.get("MAMBA_CHANNEL_ALIAS"),
                                     host.cwd)
        if overrun:
            said.append(overrun)
    return said


def uses_network(plan: Plan) -> bool:
    """Whether this create may reach a network at all: a micromamba to download, a channel or a
    locked package not on disk (unless --offline), or a pip section (pip may fetch)."""
    if plan.micromamba.kind != "local" or plan.pip or (plan.lock is not None and plan.lock.pip):
        return True
    if plan.offline:
        return False
    if plan.lock is not None:
        return any(not e.url.startswith("file:") for e in plan.lock.entries)
    return any(not c.startswith("file:") for c in plan.channels)


def report_network(net: network.Settings, reporter: Reporter, plan: Plan) -> None:
    """The network settings carried in, only for a create that may use them (a file:// create has no
    use for them); a setting that cannot be carried is said either way."""
    for line in net.describe() if uses_network(plan) else ():
        reporter.step("network: " + line)
    for line in net.not_carried:
        reporter.warn("network setting not carried over: " + line)


class _Rollback:
    """What this run changes at the target, each stage said in its intent (placelock) before its first act there, so
    that a failure here and a kill are settled by the same routine (environment/settle.py) from the same stage."""

    def __init__(self, plan: Plan, tgt: target.Target, intent: placelock.Intent):
        self.plan, self.state, self.intent = plan, tgt.state, intent
        self.held = None  # the engine's directory, open from its making until it carries the mark

    def move_old_aside(self) -> None:
        # A rename in the same directory: atomic, and paths inside the old environment are valid again the moment it
        # moves back. A precondition: if it fails (a name too long, no permission on the parent), nothing changed.
        from mambaboot.common.files import guarded  # only here (--force): not on the way to every create's engine
        prefix, token = self.plan.prefix, self.intent.token
        self.intent.stage("set-aside", aside=tempname.set_aside(prefix, token, proof.OLD))
        try:  # the one set-aside (guarded.py): the directory judged ours, marked through the descriptor that is
            # renamed, its deletion's refusals (a mount below, a tree too deep) made first; its mark proves it
            # to the settle table, which puts it back or deletes it (settle.py)
            with guarded.set_aside(guarded.seen(prefix, record.RECORD_DIR), proof.OLD, token, kept=True):
                pass
        except TargetRefused:
            raise
        except OSError as exc:
            raise TargetRefused(f"cannot move the old environment {prefix} aside to replace it "
                                f"({exc.strerror or exc}); nothing was changed") from None

    @proof.rule("held")
    def make_target(self) -> None:
        """The engine's directory: made here (an empty one of the user's: taken as it is), and held open while the
        engine runs. Before the engine has made conda-meta/ it cannot carry a mark (micromamba 2.8.1 takes an existing
        empty folder, and refuses one that holds anything but conda-meta/, or removes that whole:
        libmamba/src/api/create.cpp `create()`), so a kill meanwhile leaves a directory that proves nothing (settle.py
        names it); this run's proof is the directory it holds open, whose inode no other can take meanwhile. Whatever
        appeared there since the target was judged is refused, and left as it is.
        Made here: under the intent's `staged` name first, then renamed into place, never over anything (a kill leaves at
        most an empty directory, which rmdir alone removes: docs/reliability.md, the temporary names)."""
        prefix, before = self.plan.prefix, self.intent.stage_name
        parent, name = confined.split(prefix)
        with parent:
            if self.state != target.EMPTY:
                staged = tempname.set_aside(prefix, self.intent.token, proof.NEW)
                self.intent.stage("engine", made="1", staged=staged)
                parent.mkdir(os.path.basename(staged))
                try:
                    noreplace.rename_dir(staged, prefix)
                except FileExistsError:
                    parent.rmdir(os.path.basename(staged))
                    self.intent.stage(before, made=None, staged=None)
                    raise TargetRefused(f"{prefix} appeared while this create ran; it was left as it is") from None
            root = parent.sub(name)
            if self.state == target.EMPTY:
                self.intent.stage("engine", made="0")
            entries = sorted(root.listdir())
            if entries:  # nothing of the engine's: nothing for the run's rollback to settle there
                root.close()
                self.intent.stage(before, made=None, staged=None)
                raise TargetRefused(f"{prefix} was given files while this create ran ({output.some(entries, 5)}); they were left as they are")
            self.held = root

    @proof.rule("held")
    def engine_done(self, failed: bool = False) -> None:
        """The engine's directory, held open since it was made (the engine's stage: held is None at any other), while
        its name still leads there: marked (the engine made the prefix: from now on it carries this run's mark), or
        (failed: this run's failure) emptied through the descriptor and, made here, removed: proven by the descriptor
        alone, nothing written into it (a full disk takes no mark). On Windows, no descriptor: marked."""
        held, self.held = self.held, None  # set by make_target, on the one way here
        parent, name = confined.split(self.plan.prefix)
        with held, parent:
            try:
                st = parent.lstat(name)
            except OSError:
                st = None
            if st is None or fileid.identity(st) != tuple(held.identity):
                raise TargetRefused(f"{self.plan.prefix} was replaced while this create ran; it was left as it is")
            if not failed or held.fd is None:
                proof.write_mark(held, self.intent.token, proof.NEW)
                self.intent.stage("finishing")
                return
            removal.remove_contents(held.fd, None, self.plan.prefix)
            if self.intent.facts.get("made") == "1":
                parent.rmdir(name)
        self.intent.stage("set-aside" if self.intent.facts.get("aside") else "begun", made=None, staged=None)

    def commit(self) -> None:
        settle.run(dict(self.intent.body(), stage="verified"), self.plan.prefix)
        # Not synced: a power loss that takes it leaves `verified`, synced before, whose settling (the old environment
        # deleted through its mark, the new one's mark dropped) is done already, as `done` would (docs/reliability.md,
        # the settle table).
        self.intent.stage("done", sync=False)


def create(plan: Plan, host: Host, reporter: Reporter, *, ignore_active_env: bool = False, keep_failed: bool = False) -> CreateResult:
    if not ignore_active_env:
        isolation.check_shell(host.environ, host.windows)  # refuse before the cache dir exists
    net = network.read(host.environ, host.windows)  # a setting we cannot honour: refused before any write
    if os.path.lexists(plan.cache_dir) and not os.path.isdir(plan.cache_dir):
        raise UsageError(f"cache directory {plan.cache_dir} exists and is not a directory; choose another --cache-dir")
    ancestor = target.first_existing_ancestor(plan.cache_dir)  # a file higher up: mkdir's bare ENOTDIR otherwise
    if ancestor and not os.path.lexists(plan.cache_dir) and not os.path.isdir(ancestor):
        raise UsageError(f"cache directory {plan.cache_dir} cannot be made: {ancestor} is not a directory; "
                         "choose another --cache-dir")
    if plan.force and os.path.isdir(plan.prefix):  # replacing it would delete the cache this run uses
        from mambaboot.environment import busy

        busy.refuse_running(plan.prefix, "replaced")
        for cache in (plan.cache_dir, *plan.pkgs_dirs):
            if fileid.within(cache, plan.prefix):
                raise TargetRefused(f"the cache {cache} lies inside {plan.prefix}, which --force would replace; "
                                    "nothing was changed: choose a --cache-dir outside it")
    made = newdirs.make_dirs(plan.cache_dir)
    if fileid.within(plan.pkgs_dir, plan.cache_dir):  # the cache's own layout: made as every directory of
        made += newdirs.make_dirs(plan.pkgs_dir)  # ours is, never writable by all (the engine's follows the umask)
    try:
        # The target's parent before its lock, which is a file there: no run changes a place without it.
        made += newdirs.make_dirs(os.path.dirname(plan.prefix))  # as the engine would (fs::create_directories)
        # The target is judged under its lock, after what a killed create left there is settled.
        with placelock.Intent("create", plan.prefix, token=tempname.run_token(), steps=movesteps.steps(host.windows),
                              say=reporter.warn) as intent:
            for done in intent.settled:
                reporter.warn(done)
            return _create_locked(plan, host, reporter, ignore_active_env, keep_failed, net, intent)
    finally:
        # A run that failed before anything a later run reuses (the engine, the package cache)
        # was kept leaves no empty cache directory behind; the lock, the private home and the
        # directories made for them went already.
        newdirs.remove_empty_dirs(made)


def _create_locked(plan: Plan, host: Host, reporter: Reporter, ignore_active_env: bool, keep_failed: bool,
                   net: network.Settings, intent: placelock.Intent) -> CreateResult:
    if not ignore_active_env:
        isolation.check_shell(host.environ, host.windows)
    tgt = preflight(plan, host, ignore_active_env, reporter)
    report_network(net, reporter, plan)
    if plan.lock is not None and plan.offline:
        _offline_lock_is_cached(plan)
    with sandbox.private_home(plan.cache_dir) as home:
        child_env = sandbox.child_environ(host.environ, home, plan.pkgs_dirs, host.windows, net)
        try:
            binary = micromamba.obtain(plan.micromamba, plan.cache_dir, child_env, reporter.progress, net)
        except HostUnreachable as exc:
            raise ObtainError(f"{exc}\n{offline_help(plan)}") from None
        how = "downloaded" if binary.downloaded else ("given" if plan.micromamba.kind == "local" else "cached")
        reporter.step(f"micromamba: {binary.version} ({how}, sha256 {binary.sha256[:12]})")
        _same_engine_as_lock(plan, binary)
        if plan.lock is not None:
            micromamba.check_reads_locks(binary.version, plan.lock_path)
        rollback = _Rollback(plan, tgt, intent)
        try:
            if tgt.state == target.OURS:
                rollback.move_old_aside()
            finished, applied = _build(plan, host, binary, child_env, home, reporter, rollback)
        except BaseException:
            # Ctrl-C pressed again, or first seen by our handler only now (the engine ended of it
            # and was reaped before), waits for the rollback: half of one is what it must not leave.
            # The intent settles it (placelock): rolled back from the stage it says, kept if that fails.
            with signals.held():
                if keep_failed and intent.stage_name == "finishing" and intent.facts.get("aside") is None \
                        and record.read(plan.prefix) is not None:
                    proof.drop_mark(plan.prefix, proof.NEW)
                    intent.stage("done")  # nothing to settle: kept as it is
                    reporter.warn(f"kept the failed environment for inspection: {plan.prefix} (state: incomplete)")
                elif rollback.held is not None:  # before the intent settles it: proven by the descriptor held
                    rollback.engine_done(failed=True)
            raise
        rollback.commit()
    provisioned = None
    if _provisions(plan):
        from mambaboot.pipeline import provision  # imported while the engine ran (_after_engine)

        steps = provision.Steps(plan.pip, plan.pip_dir, plan.post_scripts, plan.lock.pip if plan.lock else ())
        provisioned = provision.run(plan.prefix, steps, host.environ, plan.windows, plan.cache_dir, reporter)
    return CreateResult(plan=plan, binary=binary, finished=finished, replaced=tgt.state == target.OURS,
                        overlays=applied, provisioning=provisioned)


def offline_help(plan: Plan) -> str:
    """What this create needs the network for, and how to go on without it: said when the
    engine's download cannot connect at all, before anything else could be tried."""
    source = plan.micromamba
    url = urlrule.shown(source.url or "")
    engine = f"micromamba {source.version} ({url})" if source.kind == "release" else f"micromamba from {url}"
    remote = [urlrule.shown(c) for c in plan.channels if not c.startswith("file:")]
    needs = [engine]
    if plan.lock is not None and not plan.offline:
        needs.append(f"the packages {plan.lock_path} names")
    elif remote and not plan.offline:
        needs.append("the packages of the channel" + ("s " if len(remote) > 1 else " ") + ", ".join(remote))
    lines = [f"without a network this create cannot download {' nor '.join(needs)}; to go on offline:",
             "  --micromamba PATH        a micromamba binary you have (or MAMBABOOT_MICROMAMBA=PATH)"]
    if remote and plan.lock is None and not plan.offline:
        lines.append("  --channel file:///DIR    a channel on disk (DIR/<platform>/repodata.json beside its packages), "
                     "in place of each channel above")
    if not plan.offline:
        lines.append(f"  --offline                only packages the package cache {plan.pkgs_dirs[0]} holds from earlier creates")
    return "\n".join(lines)


def _offline_lock_is_cached(plan: Plan) -> None:
    """--offline with a lock: every package must already be in the package cache. libmamba's
    offline mode only keeps it from fetching channel indexes (subdir_index.cpp, channel_loader.cpp,
    2.8.1): the packages of an explicit install not in the cache it downloads all the same."""
    from mambaboot.environment import pkgcache

    missing = [e.filename for e in plan.lock.entries
               if not any(pkgcache.holds(d, e.url, e.filename, e.sha256, e.md5) for d in plan.pkgs_dirs)]
    if missing:
        shown = output.some(missing, 5)
        raise EngineError(f"--offline forbids downloading, and the package cache {plan.pkgs_dir} does not hold "
                          f"{len(missing)} of the {len(plan.lock.entries)} packages {plan.lock_path} names: {shown}\n"
                          f"run once with a network (without --offline), or give --cache-dir a cache that holds them")


def _same_engine_as_lock(plan: Plan, binary: micromamba.Binary) -> None:
    """A lock reproduces an environment with the micromamba that made it, unless the user
    names the binary to trust instead (--micromamba-sha256)."""
    lock = plan.lock
    if lock is None or not lock.micromamba_sha256 or plan.micromamba.expected_sha256:
        return
    if binary.sha256 != lock.micromamba_sha256:
        raise ObtainError(
            f"{plan.lock_path} was made with micromamba {lock.micromamba_version} (sha256 {lock.micromamba_sha256}),\n"
            f"but this run would use micromamba {binary.version} (sha256 {binary.sha256});\n"
            f"use --micromamba-version {lock.micromamba_version}, or accept this binary with "
            f"--micromamba-sha256 {binary.sha256}"
        )


def _provisions(plan: Plan) -> bool:
    """Whether anything is installed once the environment is made (provision.Steps would be true):
    provisioning, with its pip, its shells and its downloads' parsing, is imported only then."""
    return bool(plan.pip or plan.post_scripts or (plan.lock is not None and plan.lock.pip))


# In the private home: the files made while the engine runs (scripts and hooks, blanks for the rest finish
# writes), renamed into the prefix once it is done
PREMADE = "premade"


def _after_engine(plan: Plan, home: str):
    """What the run needs once the engine is done, imported and made while it runs (micromamba.run's
    meanwhile), as the engine leaves a core idle for most of its run: finish with verification,
    the activation scripts, the lock and provisioning, and the activation scripts that depend on
    the prefix's path alone (finish.prepare). ~50 ms of CPU on the bench's machine, where Python
    starts in ~18 ms: json with re and enum, subprocess and shutil for verification, urllib.parse
    for the lock; ~5 of them the scripts, made as files in the private home too, to be renamed into
    the prefix (confined.Premade). None of it is on the way to the engine or after it."""
    if _provisions(plan):
        import importlib

        importlib.import_module("mambaboot.pipeline.provision")
    from mambaboot.pipeline import finish

    return finish.prepare(plan.prefix, plan.windows, os.path.join(home, PREMADE))


def _build(plan: Plan, host: Host, binary: micromamba.Binary, child_env: dict, home: str,
           reporter: Reporter, rollback: _Rollback):
    explicit, lock, added = None, plan.lock, None
    if lock is not None and plan.lock_adds:
        from mambaboot.pipeline import lockcomplete

        lock, added = lockcomplete.complete(plan, binary.path, child_env, home, reporter)
    if lock is not None:
        from mambaboot.environment import lockfile

        # The engine gets the lock as we parsed and checked it, from a file only this run can touch.
        explicit = os.path.join(home, "lock.txt")
        confined.write_file(explicit, lockfile.explicit_text(lock).encode())
    cmd = micromamba.create_command(binary.path, plan, micromamba.root_prefix(home, plan.windows), explicit)
    reporter.detail(child.command(cmd))
    prepared = []
    transaction = micromamba.Transaction()
    rollback.make_target()
    try:
        micromamba.run(cmd, child_env, echo=reporter.detail, meanwhile=lambda: prepared.append(_after_engine(plan, home)),
                       transaction=transaction)
    except EngineError as exc:
        from mambaboot.environment import diskfull

        said = "\n".join([str(exc), *transaction.errors])
        full = diskfull.explain(plan.prefix, plan.pkgs_dirs, transaction.stems, transaction.download, said)
        if full is None:
            raise
        raise EngineError(f"{full}\n{exc}") from None
    micromamba.check_installed(plan.prefix)
    rollback.engine_done()
    reporter.step(f"engine: created {plan.prefix}")
    from mambaboot.pipeline import finish
    provenance = {"inputs": plan.to_dict(), "platform": plan.subdir,  # what made it: the plan and its engine
                  "micromamba": {"version": binary.version, "source": binary.source, "sha256": binary.sha256}}
    if added:
        provenance["lock_added"] = added  # what the lock lacked, and where it came from
    inputs = finish.FinishInputs(
        prefix=plan.prefix, windows=plan.windows, requested_python=plan.python,
        pkgs_dir=plan.pkgs_dir if plan.link_cache else None, provenance=provenance, lock=lock,
        env_vars=plan.env_vars, fresh=True, scripts=prepared[0][0],
    )
    with confined.lent(prepared[0][1]):  # its files are renamed into the prefix, not made there now
        finished = finish.finish(inputs, host.environ, reporter)
    applied = []
    if plan.overlays:
        from mambaboot.environment import condameta, overlay

        applied = overlay.apply(plan.prefix, plan.overlays, condameta.installed_files(plan.prefix))
        copied = [f for a in applied for f in a.files]
        finished.files.extend(copied)
        record.update(plan.prefix, files=finished.files, overlays=[a.to_dict() for a in applied])
        reporter.step(f"overlays: {len(copied)} file(s) from {len(applied)} director{'y' if len(applied) == 1 else 'ies'}")
    rollback.intent.stage("verified")
    return finished, applied
