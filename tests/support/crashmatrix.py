"""The crash-point enumerator: every act an operation makes on disk, each one a kill point, and what the next runs of
the place must make of it (docs/reliability.md, "Every kill point").

An operation (Operation) runs once with its acts counted (tests/support/crashrun.py). Then, for every act k, the world
is put back as it was (a copy of hard links of a template, made once: mambaboot never writes into a file it did not
make, it replaces it; the template is checked unchanged at the end), the operation runs again killed (SIGKILL of its
process group, as a power loss) just before act k, and the point is judged (Point.judge):

- `list` and `doctor` of the place exit with a documented code, no traceback, and change nothing;
- every command they advise (the text in backticks of their lines that name the world), typed as shown in sh, exits 0;
- the old environment (`create --force`, `adopt`, `move`) is back whole, or the new one is complete;
- the same command again succeeds within two runs (or, for what proves nothing, `remove --yes` does);
- nothing of the user's changed (the home, the project, another environment: byte for byte);
- nothing is left unnamed: no mark, lock, intent, set-aside, temporary or snapshot remains anywhere in the world;
- and, killed there again, the user who gives up and removes its environments instead (`remove --yes`) is left with
  nothing of the run's, the user's files as they were (Matrix.removed_instead).

Depth two: the run that settles what the kill left (the first command advised, else the same command again) is itself
killed at each act it makes while settling (placelock.Intent's settling of a killed run's intent), and judged again.

Runs of acts that a loop repeats (a tree deleted file by file, a tree copied, the files finish writes) are long and
alike: of a run of more than LOOP_LONG acts drawn from at most LOOP_KINDS (kind, where) pairs, the first LOOP_KEEP, the
middle one and the last LOOP_KEEP are tried, and no run crosses an act that says or proves where the operation is
(loops; MAMBABOOT_CRASH_ALL=1 tries every act).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

RUNNER = Path(__file__).with_name("crashrun.py")
SRC = Path(__file__).resolve().parent.parent.parent / "src"
PYTHON = os.environ.get("MAMBABOOT_TEST_PYTHON", sys.executable)
LOOP_KINDS, LOOP_KEEP, LOOP_LONG = 6, 3, 12
# What mambaboot leaves only while a run is going (docs/reliability.md, "State inventory"): none may stay after the
# next runs of the place, unless list and doctor name it.
BARRIER_NAMES = (".mambaboot-lock", ".mambaboot-claim", "record.json")
LEFT_WORDS = ("mambaboot-tmp-", ".mambaboot-lock", ".mambaboot-claim")
TIMEOUT = 120


@dataclass
class Ran:
    argv: List[str]
    code: int
    out: str
    err: str
    acts: List[dict] = field(default_factory=list)

    def said(self) -> str:
        return f"$ mambaboot {' '.join(self.argv)}\n-> {self.code}\n{self.out}{self.err}"


class World:
    """A user's machine in miniature, at a fixed path (so a template copied there is the same machine): home, project
    (the user's files), envs, tmp (TMPDIR), cache (mambaboot's --cache-dir), bin (a `mambaboot` command for advice)."""

    def __init__(self, root: Path, pkgs: Optional[Path]):
        self.root, self.pkgs = root, pkgs
        self.home, self.project, self.envs = root / "home", root / "project", root / "envs"
        self.tmp, self.cache, self.bin = root / "tmp", root / "cache", root / "bin"
        self.counter = root.parent / f"{root.name}.counter"
        self.server: Optional[subprocess.Popen] = None
        self.mutation = ""  # crashrun.mutate: mambaboot made wrong on purpose
        self.trail: List[str] = []  # the runs of the point being judged, for its report
        self.pending = b""
        self.env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home), "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8", **({"CONDA_PKGS_DIRS": str(pkgs)} if pkgs else {}),
            "XDG_CONFIG_HOME": str(self.home / ".config"), "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local/share"), "XDG_STATE_HOME": str(self.home / ".local/state"),
        }

    def make(self) -> None:
        for d in (self.home, self.project, self.envs, self.tmp, self.bin):
            d.mkdir(parents=True, exist_ok=True)
        (self.home / ".bashrc").write_text("# the user's own\nexport EDITOR=vi\n")
        (self.project / "notes.txt").write_text("the user's work\n")
        command = self.bin / "mambaboot"
        command.write_text(f"#!/bin/sh\nexec {PYTHON} -c 'import sys; sys.path.insert(0, {str(SRC)!r}); "
                           "from mambaboot.cli import entry; entry()' \"$@\"\n")
        command.chmod(0o755)

    def run(self, argv: List[str], kill=0, log: bool = False) -> Ran:
        """mambaboot argv, killed before act kill (0: never; a kind of act: its first one), its acts read back when
        log: forked from a warm interpreter (crashrun.serve) started once with the world's environment."""
        base = self.root.parent / self.root.name
        log_file, out, err = (Path(f"{base}.{x}") for x in ("acts", "out", "err"))
        for f in (self.counter, log_file):
            if f.exists():
                f.unlink()
        server = self._server()
        server.stdin.write(json.dumps({"argv": argv, "kill": kill, "counter": str(self.counter), "cwd": str(self.project),
                                       "mutation": self.mutation,
                                       "log": str(log_file) if log else os.devnull, "out": str(out), "err": str(err)}) + "\n")
        server.stdin.flush()
        pid = json.loads(self._answer(server, None))["pid"]
        code = json.loads(self._answer(server, pid))["code"]
        acts = [json.loads(line) for line in log_file.read_text().splitlines()] if log and log_file.exists() else []
        self.trail.append(f"{' '.join(argv[:2])}{f' killed before act {kill}' if kill else ''} -> {code}")
        return Ran(argv, code, out.read_text(errors="replace"), err.read_text(errors="replace"), acts)

    def _server(self) -> subprocess.Popen:
        if self.server is None or self.server.poll() is not None:
            self.server = subprocess.Popen([PYTHON, str(RUNNER), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           text=True, env=self.env, cwd=str(self.root.parent), bufsize=1)
            self.pending = b""
        return self.server

    def _answer(self, server: subprocess.Popen, pid: Optional[int]) -> str:
        """The server's next line, within TIMEOUT: a run that hangs is killed with its session and fails the point."""
        import select

        fd = server.stdout.fileno()
        while b"\n" not in self.pending:
            if not select.select([fd], [], [], TIMEOUT)[0] and pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                continue
            chunk = os.read(fd, 4096)
            assert chunk, "the warm interpreter ended"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode()

    def close(self) -> None:
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait(timeout=TIMEOUT)
            self.server = None


    def sh(self, line: str) -> subprocess.CompletedProcess:
        self.trail.append(f"sh: {line}")
        return subprocess.run(["sh", "-c", line], env=self.env, cwd=str(self.project), capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def fingerprint(root: Path, skip=()) -> Dict[str, tuple]:
    """Every entry below root: (kind, mode, size, inode, mtime) or a link's target: what any write, replace or
    deletion changes (content compared only where the inode or time differ: contents_differ)."""
    found: Dict[str, tuple] = {}
    skipped = {os.path.normpath(str(s)) for s in skip}
    stack = [str(root)]
    while stack:
        top = stack.pop()
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            full = os.path.join(top, name)
            if full in skipped:
                continue
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode))
                stack.append(full)
            else:
                found[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, st.st_ino, st.st_mtime_ns)
    return found


def differences(before: Dict[str, tuple], root_before: Path, after: Dict[str, tuple], root_after: Path) -> List[str]:
    """What differs between two fingerprints, a file's content read only where its inode or time moved."""
    changed = []
    for rel in sorted(set(before) | set(after)):
        a, b = before.get(rel), after.get(rel)
        if a == b:
            continue
        if a and b and a[0] == b[0] == "file" and a[1:3] == b[1:3] and \
                (root_before / rel).read_bytes() == (root_after / rel).read_bytes():
            continue
        changed.append(f"{rel}: {a} -> {b}")
    return changed


def loops(acts: List[dict]) -> List[int]:
    """The acts to kill before: each one, but of a long run a loop repeats (more than LOOP_LONG acts drawn from at most
    LOOP_KINDS kinds, each its kind and where) its first and last LOOP_KEEP and its middle one. An act that says or proves
    where the run is (the intent's write, a mark's, a directory renamed, the engine started or ended) is a barrier:
    always tried, and no run crosses it."""
    if os.environ.get("MAMBABOOT_CRASH_ALL") == "1":
        return [a["n"] for a in acts]
    chosen, i = [], 0
    while i < len(acts):
        kinds, j = set(), i
        while j < len(acts) and not _barrier(acts[j]) and len(kinds | {(acts[j]["kind"], acts[j]["where"])}) <= LOOP_KINDS:
            kinds.add((acts[j]["kind"], acts[j]["where"]))
            j += 1
        run = [a["n"] for a in acts[i:j]]
        if len(run) > LOOP_LONG:
            chosen += run[:LOOP_KEEP] + [run[len(run) // 2]] + run[-LOOP_KEEP:]
            i = j
        else:
            chosen.append(acts[i]["n"])
            i += 1
    return chosen


def _barrier(act: dict) -> bool:
    """An act that says or proves where the operation is: a child started or reaped, a rename, or an act on a lock (its
    intent), a mark or a record; not every act below the code that decides by them (a tree deleted through its mark is
    a loop like any other)."""
    what = act["what"] if isinstance(act["what"], list) else [act["what"]]
    return act["kind"] in ("spawn", "reaped", "fork", "rename", "rename-noreplace") or \
        any(isinstance(w, str) and any(m in os.path.basename(w) for m in BARRIER_NAMES) for w in what)


# Acts after which the disk is as it was before them once the process is gone: a lock (the kernel drops it with the
# process) and a sync (a kill is no power loss of the page cache). Killed before one is killed before the next act.
NO_STATE = ("flock", "lockf", "fsync", "fdatasync")


def _writes_state(act: dict) -> bool:
    return act["kind"] not in NO_STATE


@dataclass
class Operation:
    """One operation of the matrix: its name, its command line (given the world), how the world looks before it
    (setup(world), run once into the template), the places it may change, and what its finished run leaves."""

    name: str
    argv: Callable[[World], List[str]]
    places: Callable[[World], List[Path]]
    setup: Callable[[World], None] = lambda world: None
    old: Optional[Callable[[World], Path]] = None  # an environment that must be back whole, or else
    new: Optional[Callable[[World], Path]] = None  # the one made in its stead complete
    done: Callable[[World], Optional[str]] = lambda world: None  # what is wrong with the finished state, or None
    finished: Callable[[World], bool] = lambda world: False  # its end reached: the same command again is not run
    put_back: bool = False  # its depth two exhaustive (else sampled)
    allowed: Callable[[World], List[Path]] = lambda world: []  # besides the places, the cache and TMPDIR
    outside: List[Path] = field(default_factory=list)  # directories outside the world it may write in (emptied each point)
    own_packages: bool = False  # the world's package cache is its own (CACHE/Python/pkgs), not the shared warm one
    # its places are environments, which a user who gives up on the operation removes instead (Matrix.removed_instead);
    # foreign: one mambaboot did not make, which `remove` refuses (exit 4) as it refused it before the operation
    gives_up: bool = False
    foreign: bool = False
    env: Dict[str, str] = field(default_factory=dict)  # the world's environment besides its own


class Matrix:
    """An Operation's kill points run in its world: what was tried, and what broke."""

    def __init__(self, op: Operation, base: Path, pkgs: Path, depth_two_sample: int = 3, seed: int = 90):
        self.op = op
        pkgs = None if op.own_packages else pkgs
        self.template = World(base / f"{_slug(op.name)}-template", pkgs)
        self.world = World(base / _slug(op.name), pkgs)
        self.world.env.update(op.env)
        self.acts_total = self.ended = 0
        self.judged: List[bool] = []  # each kill point judged: whether it held
        self.judged_two: List[bool] = []  # each point at depth two
        self.judged_removed: List[bool] = []  # each point given up on: its environments removed instead
        self.broken: List[str] = []
        self.sample, self.random = depth_two_sample, random.Random(seed)
        self.paths: set = set()  # the ways of settling tried at depth two

    def prepare(self) -> Ran:
        """The world made and set up at its own path (what names it names the world), kept as the template, and the
        operation run once on a copy, its acts counted."""
        self._reset_from(None)
        self.op.setup(self.world)
        if self.template.root.exists():
            shutil.rmtree(self.template.root)
        subprocess.run(["cp", "-a", str(self.world.root), str(self.template.root)], check=True)
        self.before = fingerprint(self.template.root)
        self.reset()
        self.calibration = self.world.run(self.op.argv(self.world), log=True)
        assert self.calibration.code == 0, self.calibration.said()
        self.acts_total = len(self.calibration.acts)
        self._ruled(self.calibration)
        return self.calibration

    def _ruled(self, ran: Ran) -> None:
        """Every deletion or rename of a place (a directory renamed or removed, a tree deleted) made below a function that
        decides by a proof rule (proof.RULED); a package cache's own entries are the cache's (`cache clean`)."""
        for a in ran.acts:
            what = a["what"][0] if isinstance(a["what"], list) else str(a["what"])
            if (a.get("dir") or a.get("deleting")) and not a.get("rule") and "/pkgs/" not in what:
                self.broken.append(f"{self.op.name}: `mambaboot {' '.join(ran.argv)}` {a['kind']} {what} at "
                                   f"{a['where']}: no function on the way decides it by a proof rule")

    def _reset_from(self, template: Optional[World]) -> None:
        w = self.world
        for outside in self.op.outside:
            subprocess.run(["find", str(outside), "-mindepth", "1", "-delete"], check=True)
        if w.root.exists() and subprocess.run(["rm", "-rf", str(w.root)], capture_output=True).returncode:
            subprocess.run(["chmod", "-R", "u+rwx", str(w.root)], capture_output=True)  # a mode a run left
            subprocess.run(["rm", "-rf", str(w.root)], check=True)
        if template is None:
            w.make()
        else:
            subprocess.run(["cp", "-al", str(template.root), str(w.root)], check=True)

    def reset(self) -> None:
        self._reset_from(self.template)

    def kill_points(self) -> List[int]:
        return loops([a for a in self.calibration.acts if _writes_state(a)])

    def run_all(self) -> None:
        for k in self.kill_points():
            self.point(k)
        after = fingerprint(self.template.root)
        moved = differences(self.before, self.template.root, after, self.template.root)
        if moved:
            self.broken.append(f"{self.op.name}: the template itself changed (a file written in place?): {moved[:5]}")

    def point(self, k: int, j: Optional[int] = None) -> None:
        """Killed before act k (and its settling run before its act j), then judged; at depth one, each act of the
        settling run's settling tried at depth two."""
        self.reset()
        w, argv = self.world, self.op.argv(self.world)
        w.trail = []
        label = f"{self.op.name}: killed before act {k} ({_act(self.calibration.acts, k)})"
        first = w.run(argv, kill=k)
        if first.code == 0:  # the run ended before k: two deleters drew the acts in another order
            self.ended += 1
            return
        if first.code != -signal.SIGKILL:
            self.broken.append(f"{label}: the run was not killed but ended: {first.said()}")
            return
        if j is not None:
            label += f", then its settling run killed before its act {j}"
            if self._settle_killed(argv, j):
                return
        problems, settler = self.judge(argv)
        (self.judged if j is None else self.judged_two).append(not problems)
        if problems:
            self.broken.append(label + ":\n  " + "\n  ".join(problems) + "\n  runs: " + "; ".join(w.trail))
        if settler is not None:
            self._ruled(settler)
        if j is None and self.op.gives_up:
            self.removed_instead(k, label)
        if j is None and settler is not None and not os.environ.get("NO_DEPTH_TWO"):
            settling = [a for a in settler.acts if a.get("settling") and _writes_state(a)]
            path = _path(settling)  # the way it settled: its acts' kinds and places in the code, loops as one
            if settling and path not in self.paths:  # each way of settling killed at each of its acts, once
                self.paths.add(path)
                acts = loops(settling)
                if not self.op.put_back and len(acts) > self.sample:
                    acts = sorted(self.random.sample(acts, self.sample))
                for n in acts:
                    self.point(k, n)

    def removed_instead(self, k: int, label: str) -> None:
        """Killed before act k again, then never run again: the user removes each of its environments that is there,
        or that list or doctor names, instead (`remove --yes`), as a run of the place that is not the operation's own,
        and no run of any other place; a refusal (4) is followed as list and doctor advise, then the removal again. Each
        exits 0 (2 where nothing is there once it ran, 4 for a foreign one, refused before the operation too), nothing
        of the user's changed, and nothing the killed run made is left anywhere (a lock beside a place no run names again, a mark, a parked
        directory) unless list and doctor name it."""
        self.reset()
        w, problems = self.world, []
        w.trail = []
        if w.run(self.op.argv(w), kill=k).code != -signal.SIGKILL:
            return  # ended before k: judged as such by point
        _, listed, doctor = self._advice()
        seen = listed.out + listed.err + doctor.out + doctor.err
        for place in self.op.places(w):  # where the user sees one, or list or doctor names it: no run of the others
            if not os.path.lexists(place) and str(place) not in seen:
                continue
            ran = w.run(["remove", "--yes", str(place)])
            if ran.code == 4 and not self.op.foreign:  # refused, named: what list and doctor advise, then again
                for line in self._advice()[0]:
                    w.run(_words(line)[1:]) if line.startswith("mambaboot ") else w.sh(line)
                ran = w.run(["remove", "--yes", str(place)])
            # 2: no such environment, gone meanwhile (the advice put it back elsewhere); 4: a foreign one, refused as
            # before the operation
            if ran.code not in (0, *(() if os.path.lexists(place) else (2,)), *((4,) if self.op.foreign else ())) \
                    or "Traceback" in ran.err:
                problems.append(f"removing it instead failed:\n{ran.said().strip()[-800:]}")
        problems += self._user_data() + self._left()
        self.judged_removed.append(not problems)
        if problems:
            self.broken.append(f"{label}, then its environments removed instead:\n  " + "\n  ".join(problems)
                               + "\n  runs: " + "; ".join(w.trail))

    def _settle_killed(self, argv: List[str], j: int) -> bool:
        """The advice followed as judge follows it, its first mambaboot command (else the same command again) killed
        before its act j. True: it ended before j (nothing to judge at depth two)."""
        advised = self._advice()[0]
        for line in advised:
            if line.startswith("mambaboot "):
                return self.world.run(_words(line)[1:], kill=j).code == 0
            self.world.sh(line)
        return self.world.run(argv, kill=j).code == 0

    def _advice(self):
        """What list and doctor advise for what killed runs left (their `unfinished` and `leftover` findings): each
        command in backticks, in order; and the two runs."""
        w = self.world
        there = [str(p) for p in self.op.places(w) if p.is_dir()]
        listed = w.run(["list", "--envs-dir", str(w.envs)])
        doctor = w.run(["doctor", "--json", "--envs-dir", str(w.envs), "--cache-dir", str(w.cache), *there])
        lines = [line for line in listed.err.splitlines() if line.startswith("unfinished:")]
        try:
            lines += [f["fix"] or "" for f in json.loads(doctor.out)["findings"] if f["check"] in ("unfinished", "leftover")]
        except (ValueError, KeyError, TypeError):
            pass  # judged as doctor's failure
        advised = [c for line in lines for c in _ticked(line) if c.split(" ")[0] in ("mambaboot", "rm", "rmdir")]
        return list(dict.fromkeys(advised)), listed, doctor

    def judge(self, argv: List[str]):
        """What is wrong after a kill, and the run that settled it (its acts logged)."""
        w, op, problems = self.world, self.op, []
        seen = fingerprint(w.root)
        advised, listed, doctor = self._advice()
        for ran, codes in ((listed, (0,)), (doctor, (0, 11))):
            if ran.code not in codes or "Traceback" in ran.err:
                problems.append(f"{ran.argv[0]} exited {ran.code}: {ran.err.strip()[-500:]}")
        now = fingerprint(w.root)
        if now != seen:
            problems.append("list or doctor changed the world: " + "; ".join(differences(seen, w.root, now, w.root)[:5]))
        settler = None
        for line in advised:
            if line.startswith("mambaboot "):
                ran = w.run(_words(line)[1:], log=settler is None)
                settler = settler or ran
                code, said = ran.code, ran.said()
            else:
                proc = w.sh(line)
                code, said = proc.returncode, f"$ {line}\n-> {proc.returncode}\n{proc.stdout}{proc.stderr}"
            if code != 0:
                problems.append(f"the advised `{line}` exited {code}:\n{said.strip()[-800:]}")
        if op.old is not None:
            why = self._old_or_new()
            if why:
                problems.append(why)
        # the world settled back to where it began: the calibration's run is the same command again, and it succeeded
        begun = not op.finished(w) and self._as_begun(fingerprint(w.root))  # judged as the calibration's run was: not again
        ends = [Ran(argv, 0, "", "")] if op.finished(w) or begun else []
        while len(ends) < 2 and not (ends and ends[-1].code == 0):
            ran = w.run(argv, log=settler is None)
            settler = settler or ran
            ends.append(ran)
        if ends[-1].code != 0:
            gone = w.run(["remove", "--yes", str(op.places(w)[0])])
            problems.append("stuck: the same command failed twice" + (
                "" if gone.code == 0 else " and remove --yes failed too") + ":\n"
                + "\n".join(r.said().strip()[-600:] for r in (*ends, gone)))
        elif not begun:
            wrong = op.done(w)
            if wrong:
                problems.append(f"after the same command succeeded: {wrong}")
        problems += self._user_data()
        problems += self._left()
        return problems, settler

    def _as_begun(self, now: Dict[str, tuple]) -> bool:
        """Whether the world (its fingerprint now) is as the template, but for the caches (what a run saves work with, no
        state) and TMPDIR, and the directories outside it as empty as each point begins them."""
        w, t = self.world, self.template
        skip = [os.path.relpath(p, w.root) for p in (w.cache, w.tmp)]
        if any(os.listdir(d) for d in self.op.outside):  # emptied at each point: a run's leftover there
            return False
        return not differences(_without(self.before, skip), t.root, _without(now, skip), w.root)

    def _old_or_new(self) -> Optional[str]:
        """The old environment back whole (every file's content as in the template), or the new one complete."""
        w, old = self.world, self.op.old(self.world)
        rel = os.path.relpath(old, w.root)
        template = self.template.root / rel
        changed = differences(_under(self.before, rel), template, fingerprint(old), old) if old.is_dir() else ["gone"]
        if not changed or _complete(self.op.new(w)):
            return None
        return f"neither is the old environment back whole at {old} ({changed[:6]}) nor the new one complete"

    def _user_data(self) -> List[str]:
        """Nothing outside the places, the cache, TMPDIR and what the operation may change differs from the template."""
        w, t = self.world, self.template
        mine = [p for p in (*self.op.places(w), w.cache, w.tmp, *self.op.allowed(w)) if w.root in p.parents]
        skip = [os.path.relpath(p, w.root) for p in mine]
        now = {k: v for k, v in fingerprint(w.root, mine).items() if not _beside_a_place(k, mine, w.root)}
        was = {k: v for k, v in _without(self.before, skip).items() if not _beside_a_place(k, mine, w.root)}
        changed = differences(was, t.root, now, w.root)
        return [f"the user's files changed: {changed[:8]}"] if changed else []

    def _left(self) -> List[str]:
        """What mambaboot's runs left in the world (a mark, a lock, a temporary name) that list and doctor do not name."""
        w = self.world
        left = [str(w.root / k) for k in fingerprint(w.root) if any(word in os.path.basename(k) for word in LEFT_WORDS)]
        left += [str(d / k) for d in self.op.outside for k in fingerprint(d)
                 if any(word in os.path.basename(k) for word in LEFT_WORDS)]
        if not left:
            return []
        _, listed, doctor = self._advice()
        said = listed.out + listed.err + doctor.out + doctor.err
        unnamed = [k for k in left if not _named(k, said)]
        return [f"left and not named by list or doctor: {unnamed[:8]}"] if unnamed else []

    def summary(self) -> str:
        return (f"{self.op.name}: {len(self.judged)} kill points of {self.acts_total} acts, {len(self.judged_two)} at "
                "depth two"
                + (f" ({self.ended} ended before their point)" if self.ended else ""))


def _without(fp: Dict[str, tuple], rels: List[str]) -> Dict[str, tuple]:
    """A fingerprint without the entries at or below rels."""
    return {k: v for k, v in fp.items() if not any(k == r or k.startswith(r + os.sep) for r in rels)}


def _under(fp: Dict[str, tuple], rel: str) -> Dict[str, tuple]:
    """The entries of a fingerprint below rel, relative to it."""
    return {k[len(rel) + 1:]: v for k, v in fp.items() if k.startswith(rel + os.sep)}


def _path(acts: List[dict]) -> tuple:
    """The way a settling went through the code: its barrier acts (what says or proves where it is: _barrier), each its
    kind and where; two settlings that differ only in how many files a loop between them handled go the same way."""
    path = []
    for act in acts:
        step = (act["kind"], act["where"])
        if _barrier(act) and (not path or path[-1] != step):
            path.append(step)
    return tuple(path)


def _named(path: str, said: str) -> bool:
    """Whether list's and doctor's words name path: itself, or the work directory or temporary it is part of (its
    lock file beside it, a file anywhere inside it), which they name whole with what deletes it."""
    while os.path.dirname(path) != path:
        if any(word in os.path.basename(path) for word in LEFT_WORDS) and \
                (path in said or (path.endswith(".lock") and path[:-len(".lock")] in said)):
            return True
        path = os.path.dirname(path)
    return False


def _complete(place: Path) -> bool:
    try:
        return json.loads((place / ".mambaboot" / "record.json").read_text()).get("state") == "complete"
    except (OSError, ValueError):
        return False


def _beside_a_place(rel: str, places: List[Path], root: Path) -> bool:
    """A sibling named for a place (.NAME.mambaboot-...): the place's own, judged by _left."""
    path = root / rel
    return any(path.parent == p.parent and path.name.startswith(f".{p.name}.mambaboot-") for p in places)


def _act(acts: List[dict], n: int) -> str:
    for a in acts:
        if a["n"] == n:
            return f"{a['kind']} {a['what']} at {a['where']}"
    return "?"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def _ticked(line: str) -> List[str]:
    parts = line.split("`")
    return [parts[i] for i in range(1, len(parts), 2)]


def _words(line: str) -> List[str]:
    import shlex

    return shlex.split(line)
