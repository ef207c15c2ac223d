"""Shared fixtures: the local channel, the micromamba stand-in, a loopback release server,
and a fresh 'world' (HOME, TMPDIR, XDG dirs) per test so side effects can be snapshotted."""

import collections
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.support.channel import build_channel, build_team_channel, channel_url, pip_spec
from tests.support import realmode
from tests.support.micromamba_standin import make_standin
from tests.support.server import AssetServer
from tests.support.snapshot import snapshot

REPO = Path(__file__).resolve().parent.parent


def _scrub_caller_environment(environ=os.environ) -> None:
    """Start from a clean shell whatever the caller's: an activated venv or conda environment
    (VIRTUAL_ENV, CONDA_*, PYTHON* and its bin directory on PATH), or a Python environment's
    directory on PATH with nothing activated (CI puts its harness venv there), would otherwise
    reach every mambaboot the suite starts, which rightly refuses such a shell or reports it.
    PATH loses what mambaboot's own baseline drops (common/isolation.py clean_path)."""
    from mambaboot.common import isolation

    active = [environ.get(var) for var in ("VIRTUAL_ENV", "CONDA_PREFIX")]
    bins = {os.path.join(p, "bin") for p in active if p}
    for name in list(environ):
        if name in ("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT") or name.startswith(("CONDA_", "PYTHON", "_OLD_VIRTUAL_")):
            del environ[name]
    if "PATH" in environ:
        kept = os.pathsep.join(e for e in environ["PATH"].split(os.pathsep) if e.rstrip("/") not in bins)
        environ["PATH"] = isolation.clean_path(kept, os.name == "nt")


_scrub_caller_environment()


def _restore_interrupt_signal() -> None:
    """A suite started in the background (`cmd &` in a script, nohup) inherits SIGINT ignored, and
    every process it starts would too: mambaboot rightly keeps an ignored SIGINT ignored, so the
    Ctrl-C tests would wait forever. Caught here, it is reset to the default in every child, as
    a terminal's job has it."""
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_restore_interrupt_signal()
# The interpreter that runs mambaboot itself; MAMBABOOT_TEST_PYTHON=python3.9 proves the
# oldest supported one while the harness (py-rattler needs >= 3.10) runs on this one.
RUNTIME_PYTHON = os.environ.get("MAMBABOOT_TEST_PYTHON", sys.executable)
# The checkout's code, whatever is installed: a worktree's tests test that worktree. Its folder takes
# the place `-c` gives the working directory on sys.path, as the installed command's own folder
# (a console script's) or archive (the zipapp) does: no module of the folder a run starts in is ours.
MAMBABOOT = [RUNTIME_PYTHON, "-c", f"import sys; sys.path[0] = {str(REPO / 'src')!r}; "
             "from mambaboot.cli import entry; entry(sys.argv[1:])"]
STANDIN_VERSION = "2.8.1"
# How World runs mambaboot by default: "checkout" (the code above) or "zipapp" (the built
# mambaboot.pyz); MAMBABOOT_TEST_VIA=zipapp runs the whole suite through the zipapp.
DEFAULT_ENTRY = os.environ.get("MAMBABOOT_TEST_VIA", "checkout")


# -- the real home stays as it was -------------------------------------------------------------


def _real_home_roots() -> List[Path]:
    """The real home: HOME, and the account's home a program falls back to when HOME is unset (as
    fish does), with the XDG base directories when they are set elsewhere."""
    import pwd

    found = {Path(os.path.expanduser("~")), Path(pwd.getpwuid(os.getuid()).pw_dir)}
    found |= {Path(os.environ[v]) for v in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
              if os.path.isabs(os.environ.get(v, ""))}
    found = {p.resolve() for p in found if p.is_dir()}
    return sorted(p for p in found if not any(o in p.parents for o in found))


def _legitimate_writers(basetemp: Path) -> List[Path]:
    """What pytest and pip write under a home by design, and nothing else:
    - this checkout, where pytest keeps .pytest_cache and hypothesis its .hypothesis (a
      developer's clone often lives in the home);
    - pytest's base temporary directories, of this session and others (TMPDIR may point into the
      home): basetemp is this session's, a pytest-xdist worker's is the session's popen-gwN;
    - pip's cache (PIP_CACHE_DIR, else $XDG_CACHE_HOME/pip, else ~/.cache/pip): pip keeps its
      downloads and built wheels there whenever it installs, as tools/test.py does when
      tests/test_test_command.py runs it."""
    cache = os.environ.get("XDG_CACHE_HOME") if os.path.isabs(os.environ.get("XDG_CACHE_HOME", "")) else None
    pip_cache = os.environ.get("PIP_CACHE_DIR") or os.path.join(cache or os.path.expanduser("~/.cache"), "pip")
    return [REPO.resolve(), basetemp.resolve().parent, Path(pip_cache).resolve()]


# The user's own shells and tools write these whenever the user works, during a long run too: no
# test writes them (each test's shells get a HOME of their own), so they are not compared.
USERS_OWN = (".bash_history", ".zsh_history", ".sh_history", ".histfile", ".python_history", ".lesshst",
             ".viminfo", ".local/share/fish/fish_history", ".local/state/less/history")


def _home_tree(root: Path, skip: List[Path]) -> Dict[str, tuple]:
    """Every entry under root by lstat: kind, mode, and for a file its size and mtime (a file
    written in place changes them), for a link its target. __pycache__ directories are left out:
    an interpreter installed in the home (pyenv's) caches its own modules' bytecode there as it
    imports them, whoever starts it."""
    import stat as st_

    skipped = {str(p) for p in skip} | {str(root / own) for own in USERS_OWN}
    tree: Dict[str, tuple] = {}
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            tree[directory] = ("unreadable", exc.errno)
            continue
        for entry in entries:
            if entry.path in skipped or entry.name == "__pycache__":
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st_.S_ISDIR(info.st_mode):
                tree[entry.path] = ("dir", info.st_mode)
                stack.append(entry.path)
            elif st_.S_ISLNK(info.st_mode):
                tree[entry.path] = ("link", os.readlink(entry.path))
            else:
                tree[entry.path] = ("file", info.st_mode, info.st_size, info.st_mtime_ns)
    return tree


@pytest.fixture(scope="session", autouse=True)
def real_home_untouched(tmp_path_factory, request):
    """Tests live in their own worlds: the whole session must leave the real home (and XDG
    directories) as it found it. Compared entry by entry at the end; any difference fails the
    session, naming what changed. In parallel each worker compares the whole home over its own
    tests: the other worker's tests write only where this one's may."""
    basetemp = tmp_path_factory.getbasetemp()
    skip = _legitimate_writers(basetemp.parent if hasattr(request.config, "workerinput") else basetemp)
    roots = _real_home_roots()
    before = {root: _home_tree(root, skip) for root in roots}
    yield
    changed = []
    for root in roots:
        changed += home_changes(before[root], _home_tree(root, skip))
    if changed:
        pytest.fail(home_verdict(changed), pytrace=False)


def home_changes(before: Dict[str, tuple], after: Dict[str, tuple]) -> List[str]:
    return [f"{path}: {'made' if path not in before else 'removed' if path not in after else 'changed'}"
            for path in sorted(set(before) | set(after)) if before.get(path) != after.get(path)]


def home_verdict(changed: List[str]) -> str:
    """What the guard says: the entries, and that the suite is one writer among others."""
    return (f"the real home changed while the suite ran ({len(changed)} "
            f"entr{'y' if len(changed) == 1 else 'ies'}; no test may write there): a test did, or another process "
            "of yours did meanwhile (the user's own shell history and the like are not compared); run the suite "
            "again to tell them apart:\n  " + "\n  ".join(changed[:30]))


@pytest.fixture(scope="session")
def channel(tmp_path_factory) -> str:
    return channel_url(build_channel(tmp_path_factory.mktemp("channel"), extra=[pip_spec()]))


@pytest.fixture(scope="session")
def team_channel(tmp_path_factory) -> str:
    """The suite's channel with win-64 and osx-arm64 packages beside it: a lock for a team's three
    platforms is a real solve on each (only this machine's packages are ever installed)."""
    return channel_url(build_team_channel(tmp_path_factory.mktemp("team-channel")))


@pytest.fixture(scope="session")
def liar_channel(tmp_path_factory) -> str:
    """A channel whose python package claims 3.12.0 but carries the 3.11 interpreter (with the
    test channel's conda and mamba in every mode: real ones are built for the python it is)."""
    return channel_url(build_channel(tmp_path_factory.mktemp("liar-channel"), python_version="3.12.0",
                                     real_packages=False))


@pytest.fixture(scope="session")
def fault_channel(tmp_path_factory) -> str:
    """The suite's channel with the test channel's conda and mamba scripts in every mode: for tests
    that inject a fault through the environment's own conda (STANDIN_INTERRUPTED=verify:...)."""
    return channel_url(build_channel(tmp_path_factory.mktemp("fault-channel"), extra=[pip_spec()],
                                     real_packages=False))


@pytest.fixture(scope="session")
def fault_standin(tmp_path_factory) -> Path:
    """The stand-in micromamba in every mode: for tests that inject a fault through it
    (STANDIN_FAIL, STANDIN_BLOCK_FIFO, STANDIN_RECORD, ...) or serve its bytes as a release."""
    return make_standin(tmp_path_factory.mktemp("standin") / "micromamba", version=STANDIN_VERSION)


@pytest.fixture(scope="session")
def standin(fault_standin) -> Path:
    """The engine the end-to-end tests run: the stand-in, or in real mode the real micromamba
    MAMBABOOT_TEST_MICROMAMBA names (tests/support/realmode.py)."""
    return realmode.engine() or fault_standin


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def zipapp(tmp_path_factory) -> Path:
    """mambaboot.pyz built from this checkout by the documented command's code."""
    from tools.build_zipapp import build

    out = tmp_path_factory.mktemp("zipapp") / "mambaboot.pyz"
    build(out)
    return out


@pytest.fixture
def entry(request) -> List[str]:
    """The command that runs mambaboot; tests marked with support.entries.both_entries get both."""
    via = getattr(request, "param", DEFAULT_ENTRY)
    if via == "zipapp":
        return [RUNTIME_PYTHON, str(request.getfixturevalue("zipapp"))]
    assert via == "checkout", f"MAMBABOOT_TEST_VIA={via!r}: use checkout or zipapp"
    return MAMBABOOT


@dataclass
class World:
    """A user's machine in miniature: everything a run could touch lives under root."""

    root: Path
    home: Path
    tmp: Path
    envs: Path
    cache: Path
    env: Dict[str, str] = field(default_factory=dict)
    command: List[str] = field(default_factory=lambda: MAMBABOOT)

    def run(self, *args: str, env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> Result:
        proc = subprocess.run(
            [*self.command, *args],
            env={**self.env, **(env or {})}, cwd=str(cwd or self.envs), capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=600,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def create(self, *args: str, **kw) -> Result:
        return self.run("create", "--cache-dir", str(self.cache), *args, **kw)

    def outside(self, *exclude: Path) -> dict:
        """Snapshot of everything under root except the given paths (the prefix, the cache)."""
        return snapshot(self.root, exclude=[self.cache, *exclude])


def _clean_environ(**overrides: str) -> Dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(overrides)
    return env


@pytest.fixture
def world(tmp_path, entry) -> World:
    root = tmp_path / "world"
    home, tmp, envs, cache = root / "home", root / "tmp", root / "envs", tmp_path / "cache"
    for d in (home, tmp, envs):
        d.mkdir(parents=True)
    env = _clean_environ(
        HOME=str(home), TMPDIR=str(tmp),
        XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"), XDG_STATE_HOME=str(home / ".local" / "state"),
        MAMBABOOT_HTTP_BACKOFF="0.01",  # retries stay real, just quick
    )
    return World(root=root, home=home, tmp=tmp, envs=envs, cache=cache, env=env, command=entry)


@pytest.fixture
def release_server(fault_standin):
    """Serves the stand-in as the official release asset of the pinned version."""
    from mambaboot.common.host import current
    from mambaboot.pipeline.plan import PINNED_MICROMAMBA

    with AssetServer() as server:
        url = server.add_release(PINNED_MICROMAMBA, current().subdir, fault_standin.read_bytes())
        server.asset_url = url
        server.releases_base = f"{server.url}/mamba-org/micromamba-releases/releases"
        yield server


@pytest.fixture(scope="session")
def made_env(tmp_path_factory, channel, standin) -> Path:
    """One environment made by `mambaboot create` (its path has a space, & and parentheses),
    shared by the session: read it, or copy it (copy_env) to change it."""
    root = tmp_path_factory.mktemp("made")
    (root / "home").mkdir()
    prefix = root / "envs" / "made env & (co)"
    env = _clean_environ(HOME=str(root / "home"), TMPDIR=str(root))
    proc = subprocess.run(
        [*MAMBABOOT, "create", "-q", "--prefix", str(prefix), "--cache-dir", str(root / "cache"),
         "-c", channel, "--micromamba", str(standin)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return prefix


def copy_env(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def wine(tmp_path_factory):
    """Wine's cmd: the one prefix and wineserver of the whole session (see tests/support/wine.py)."""
    from tests.support.wine import Wine

    w = Wine(root=tmp_path_factory.mktemp("wine"))
    w.start()
    yield w
    w.stop()  # a Wine prefix is ~700 MB: do not leave one per kept pytest run


@pytest.fixture(scope="session")
def winpython(wine, zipapp, tmp_path_factory):
    """The Windows CPython under the session's Wine, with a win-64 channel and engine stand-in made
    from it on first use (see tests/support/winpython.py)."""
    from tests.support.winpython import WinPython

    return WinPython(wine, tmp_path_factory.mktemp("winpython"), zipapp)


# -- the reliability table (issue: every figure must read N/N) --------------------------

_TALLY: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0])


class Reliability:
    def record(self, category: str, ok: bool) -> None:
        tally = _TALLY[category]
        tally[0] += 1
        tally[1] += int(bool(ok))


@pytest.fixture
def reliability() -> Reliability:
    return Reliability()


# The files that take longest, first (tools/test.py hands files out in collection order, --no-loadscope-reorder): the
# longest job first leaves the shortest for the end, so no worker idles while another runs a long file alone.
LONGEST_FIRST = ("test_crash_matrix.py", "test_crash_matrix_create.py", "test_recovery_proof.py", "test_recovery.py",
                 "test_bootstrap_sh.py", "test_create.py", "test_authority.py", "test_fuzz_trees.py",
                 "test_windows_python.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's own order kept


def pytest_sessionfinish(session):
    """In a pytest-xdist worker: hand this worker's rows to the controller, which prints the table."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability"] = {category: list(counts) for category, counts in _TALLY.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """In the controller: a worker's rows added to the session's, so the table counts every test
    whichever worker ran it (a worker that died has no rows to give: its tests are failures)."""
    merge_tally(_TALLY, getattr(node, "workeroutput", {}).get("reliability", {}))


def merge_tally(into: Dict[str, List[int]], rows: Dict[str, List[int]]) -> None:
    for category, (tried, held) in rows.items():
        into[category][0] += tried
        into[category][1] += held


def pytest_terminal_summary(terminalreporter):
    if not _TALLY:
        return
    terminalreporter.section("reliability")
    for category, (tried, held) in sorted(_TALLY.items()):
        terminalreporter.write_line(f"{category:<40} {held}/{tried}" + ("" if held == tried else "   <-- NOT N/N"))
    points, deeper, removed, ops = (_TALLY.get(f"crash-matrix: {row}", [0, 0])
                                    for row in ("kill points", "at depth two", "removed instead", "operations"))
    if ops[0]:  # tests/test_crash_matrix.py, in one line (docs/reliability.md); a point given up on breaks one too
        broken = sum(tried - held for tried, held in (points, deeper, removed))
        terminalreporter.write_line(f"crash-matrix: {points[0]} kill points over {ops[0]} operations, {deeper[0]} at "
                                    f"depth two, {broken} invariants broken")


# -- a second file system (move across devices, a cache on another volume) ---------------------


@pytest.fixture
def second_volume(tmp_path):
    """A directory on another file system than tmp_path: a tmpfs mounted for the test (allowed
    when the suite runs as root, as in its container), else /dev/shm, the tmpfs every Linux
    has. Neither: fail, never skip."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mnt)],
                             capture_output=True).returncode == 0 if os.geteuid() == 0 else False
    if mounted:
        target = mnt
    else:
        target = Path("/dev/shm") / f"mambaboot-test-{uuid.uuid4().hex}"
        target.mkdir()
    assert os.stat(target).st_dev != os.stat(tmp_path).st_dev, "no second file system for this test"
    try:
        yield target
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)], check=True)
        else:
            subprocess.run(["rm", "-rf", str(target)], check=True)
