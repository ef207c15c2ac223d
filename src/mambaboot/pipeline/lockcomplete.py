"""A team's lock made into a standalone environment: what it lacks of python, conda and mamba
(plan.lock_adds) solved against exactly the locked packages, and installed with them.

The locked packages must not change. micromamba 2.8.1 has two ways to keep them: `install
--freeze-installed` into the created prefix (a Request::Freeze job per installed package,
create_install_request, libmamba/src/api/install.cpp), or every locked package pinned as an exact
spec, `NAME ==VERSION BUILD` (conda's "name version build" form, which libmamba parses to that
version and build string exactly: MatchSpec::parse, libmamba/tests/src/specs/test_match_spec.cpp,
`_libgcc_mutex 0.1 conda_forge` -> `_libgcc_mutex==0.1=conda_forge`; the `==` keeps the version
exact for every reader, as a strict one asks for a range operator). The second is
used: one dry run (engine/solve.py, as `lock` solves) says what the additions are, each with the
channel's sha256, and the create then installs the lock's archives and those in one @EXPLICIT
transaction, each checked by its hash: one engine run that writes the prefix, rolled back whole on
failure as every create is, and the verification against the lock covers the additions too.
The locked packages must be in the channels their URLs name for the pins to be solved; a solve that
fails or moves a locked package refuses the create, naming the way forward.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common.errors import EngineError
from mambaboot.common.values import replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from mambaboot.common.report import Reporter
    from mambaboot.environment.lockfile import Lock
    from mambaboot.pipeline.plan import Plan


def pins(lock: Lock) -> list[str]:
    """Each locked conda package as the exact spec NAME ==VERSION BUILD."""
    return [f"{name} =={version} {build}" for name, version, build in (e.key for e in lock.entries)]


def complete(plan: Plan, binary: str, env: Mapping[str, str], home: str, reporter: Reporter) -> tuple[Lock, dict]:
    """The lock with plan.lock_adds added, and what the record keeps of them: {"from": the channels,
    "lock": the lock's path, "packages": [{name, version, build, url, sha256}, ...]}."""
    from mambaboot.common import urlrule
    from mambaboot.engine import child, micromamba, solve
    from mambaboot.environment import lockfile

    lock, channels = plan.lock, plan.lock_channels
    named = ", ".join(urlrule.shown(c) for c in channels)
    wanted = ", ".join(plan.lock_adds)
    # A target that never exists: the dry run writes nothing there, nor anywhere but the home.
    cmd = solve.command(binary, channels, [*pins(lock), *plan.lock_adds], plan.subdir,
                        os.path.join(home, "solve-target"), micromamba.root_prefix(home, plan.windows), plan.offline)
    reporter.detail(child.command(cmd))
    forward = (f"either lock an environment that holds {wanted} (add them to the environment file the lock was made "
               f"from, and lock again), or create from that environment file (mambaboot create -f FILE)")
    try:
        solved = solve.run(cmd, env, plan.subdir)
    except EngineError as exc:
        raise EngineError(f"{plan.lock_path} does not lock {wanted}, and they cannot be added to its packages from "
                          f"{named}: {exc}\n{forward}") from None
    locked = {e.key[0]: e.key for e in lock.entries}
    moved = [f"{s.name}-{s.version}-{s.build}" for s in solved
             if s.name in locked and (s.name, s.version, s.build) != locked[s.name]]
    if moved:  # the exact pins forbid it; an engine that did would not install the lock
        raise EngineError(f"the solve adding {wanted} to {plan.lock_path} changed locked packages ({', '.join(moved)}); "
                          f"nothing was installed; {forward}")
    added = lockfile.dependency_order([s for s in solved if s.name not in locked])
    full = replace(lock, entries=lock.entries + tuple(lockfile.Entry(s.url, s.sha256, s.md5) for s in added))
    reporter.step(f"lock: adding {len(added)} packages the lock does not hold ({wanted} and what they need), "
                  f"solved against its {len(lock.entries)} packages from {named}")
    return full, {"lock": plan.lock_path, "from": list(channels), "packages": [
        {"name": s.name, "version": s.version, "build": s.build, "url": s.url, "sha256": s.sha256} for s in added]}
