"""One lock per place, which is also the record of what the run holding it intends there: a file beside the place
(`.NAME.mambaboot-lock`, as git's index.lock sits beside the index: the same for every spelling of the place,
common/files/fsops.py `place_lock`), held by every command that changes the place until it is done. Its text is the
run's intent, rewritten at each stage: the run's one transaction, settled through the table (environment/settle.py)
when the run fails or by the next run when it was killed. What holds, and why: docs/reliability.md ("Killed",
"Concurrent runs", "The settle table")."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import errno
import os

from mambaboot.common import jsontext, quoting, shapes, untrusted
from mambaboot.common.errors import TargetRefused
from mambaboot.common.files import filelock, fsops, leftovers, proof, tempname
from mambaboot.environment import record, settle

TOOL = "mambaboot"
# The intent's shape (common/shapes.py): a file anyone who writes beside the place could plant.
INTENT = {
    "tool": shapes.required(str, rule=shapes.exactly(TOOL)),
    "operation": shapes.optional(str), "stage": shapes.optional(str), "token": shapes.optional(str, None),
    "pid": shapes.optional(int), "started": shapes.optional(str),
}
_PAD = 4096  # the intent is rewritten in one write of whole blocks covering the file, never truncated first

_held: set = set()  # the lock paths this process holds (a settle's nested Intent leaves them to their taker)


def intent(path: str, fd: int | None = None, blank: dict | None = None) -> dict | None:
    """The intent a lock file holds, blank for one blank, or None (missing, unreadable, not of its shape). fd: the
    locked descriptor, read through (on Windows the locked byte is read through no other)."""
    try:
        if fd is None:
            data = untrusted.read_bytes(path, untrusted.SMALL, follow=False)
        else:
            os.lseek(fd, 0, os.SEEK_SET)  # os.pread is POSIX only: Windows must settle a killed run too
            data = os.read(fd, untrusted.SMALL)
        return shapes.check(untrusted.json(data, path), INTENT, path, "a lock file of mambaboot's") if data.strip() else blank
    except (OSError, ValueError):
        return None


class Intent:
    """The locks of places, taken in the order given, each refused at once when held, never waited for, the intent
    written into each as it is taken; held until exit, then let go one by one, the lock of a place that is a directory
    last: what a kill as a move takes or lets go of them leaves, the place its user comes back to settles (_settle).
    say: where what the run's own settling did is said, one sentence each."""

    def __init__(self, operation: str, *places: str, steps: dict, token: str | None = None,
                 write: bool = True, settling: str | None = None, say=None) -> None:
        self.operation, self.token = operation, token
        self.places = list({fsops.place_lock(p): p for p in places}.items())
        self.stage_name = "begun"
        self.facts: dict = {}  # what the operation records for its settling, with its stage
        self.stale: dict = {}  # place -> the intent a killed run left in its lock (taken over here)
        self.settled: list = []  # what settling a killed run's intent did, one sentence each
        self.steps = steps  # the move rows' steps (settle.run): only runs that pass them settle a killed move
        self._writes = write  # False: the other places of an intent being settled, taken for its settling
        self.say = say or self.settled.append
        self._tokens = {settling} if settling else set()  # intents settled already (one in each of its locks)
        self._mine: dict = {}  # place -> the FileLock this Intent took (not one an outer Intent holds)

    def __enter__(self) -> "Intent":
        try:
            for path, place in self.places:
                self._take(path, place)
            for place, left in self.stale.items():  # a killed run's: settled before anything else is written
                self._settle(left, place)
            if self._writes:  # what a killed activation left in each record dir, written under no lock of the
                for place in self._mine:  # place: deleted once its own lock shows its writer gone
                    self.settled += leftovers.collect_unlocked(os.path.join(place, record.RECORD_DIR))
                # unsynced: `begun` with no facts settles nothing (settle.TABLE); each stage after it is synced before its act
                self.stage(self.stage_name, sync=False)
        except BaseException:  # not settled: each killed run's intent stays in its lock, as it was
            self._release(keep=self.stale)
            raise
        return self

    def _settle(self, left: dict, place: str) -> None:
        """One killed run's intent, once (it is in the lock of each of its places), with the locks of its places held: those
        this run holds, and each other place it names whose own lock holds that intent (its token), taken for it. A place named
        without that is never locked, walked or changed here (an intent is a claim, its lock the proof); a free blank lock
        beside it (its run killed before it wrote there) is taken, and so deleted, but proves nothing of the place."""
        token = left.get("token")
        if token is not None and token in self._tokens:
            return
        self._tokens.add(token)
        mine = dict(self.places)
        held = [place] + [mine[fsops.place_lock(p)] for p in settle.places(left) if fsops.place_lock(p) in mine]
        others = [p for p in settle.places(left) if fsops.place_lock(p) not in mine
                  and (_same(intent(fsops.place_lock(p)), token) or killed(p) == {})]
        with Intent(self.operation, *others, steps=self.steps, write=False, settling=token) as also:
            held += [p for p in others if _same(also.stale.get(p), token)]
            # each lock that holds the intent is rewritten with it, step by step
            locks = {id(lock): lock for lock in (self._mine.get(p) or also._mine.get(p) for p in held) if lock}.values()

            def commit(body: dict) -> None:
                for lock in locks:
                    _fill(lock.fileno(), body)

            self.settled += also.settled + settle.run(left, place, steps=self.steps, held=held, commit=commit)

    def _take(self, path: str, place: str) -> None:
        if path in _held:  # an outer Intent's, which writes, keeps and releases it
            return
        whose = owner(place)
        if whose is not None:
            what, op = settle.SET_ASIDE_AS.get(whose[3]), whose[2]
            raise TargetRefused(f"{place} is {what} of {whose[0]}, set aside by a mambaboot {op} of it that has not finished "
                                f"(its intent is in {whose[1]}): a part of that place, not an environment of its own; "
                                f"{quoting.advice(['mambaboot', 'doctor', '--settle', whose[0]], os.name == 'nt')} settles "
                                "it; nothing was changed")
        if not os.path.isdir(os.path.dirname(path)):  # FileLock would make it: only create makes a place's parent
            raise TargetRefused(f"{os.path.dirname(path)} does not exist: the lock of {place} cannot be made there; "
                                "create the parent directory first; nothing was changed")
        lock = filelock.FileLock(path, blocking=False, transient=True)
        try:
            lock.__enter__()
        except BlockingIOError:
            body = intent(path)  # on Windows unreadable under its holder's lock: unnamed
            who = f" (pid {body.get('pid')}, {body.get('operation')})" if body else ""
            raise TargetRefused(f"another mambaboot run{who} is changing {place} right now (it holds {path}); "
                                "nothing was changed") from None
        except OSError as exc:  # no change there without its lock (create makes the parent first)
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR):
                raise
            why = "is not writable" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "is not a directory"
            raise TargetRefused(f"{os.path.dirname(path)} {why} ({exc.strerror or exc}): the lock of {place} "
                                f"cannot be made there ({os.path.basename(path)}); nothing was changed") from None
        _held.add(path)
        self._mine[place] = lock
        previous = intent(path, lock.fileno())
        if previous:
            self.stale[place] = previous
        elif self._writes:  # unsynced, as `begun` is below
            _fill(lock.fileno(), self.body(), sync=False)

    def stage(self, name: str, sync: bool = True, **facts) -> None:
        """Said in every lock before the stage's first act (a kill in it finds it said), with facts
        (str values) for whoever settles it; sync=False only where the stage before settles to the same end."""
        self.stage_name = name
        self.facts.update(facts)
        body = self.body()
        for lock in self._mine.values():
            _fill(lock.fileno(), body, sync)

    def body(self) -> dict:
        return {"tool": TOOL, "pid": os.getpid(), "operation": self.operation, "token": self.token,
                "stage": self.stage_name, **self.facts, **{f"place{i}": p for i, (_, p) in enumerate(self.places, 1)}}

    def _fail(self) -> dict:
        """Settled through the table from the stage said, as a kill would be (signals held: half a put-back is what it
        must not leave); a settle that fails keeps the intent, named. The places whose intent stays."""
        from mambaboot.engine import signals

        place = self.places[0][1]
        said, kept = [], {}
        try:
            with signals.held():
                # each step changes the stage alone: the facts are the run's own already
                said = settle.run(self.body(), place, steps=self.steps, commit=lambda body: self.stage(body["stage"]))
        except Exception as exc:  # Stuck, NotOurs, OSError: what could not be put back stays named
            kept = self._mine
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
            said.append(f"{why}{where}; this {self.operation} was not settled: its intent stays in "
                        f"{fsops.place_lock(place)}, and the next mambaboot run on {place} settles it or names what it needs")
        for line in said:
            try:
                self.say(line)
            except OSError:  # the failure settled may be the reader's going: unsaid, it is no failed settle
                break
        return kept

    def _release(self, keep=()) -> None:
        """Unlocked, each lock emptied first (a finished run's intent never outlives it, whoever holds the file open)
        but those of the places in keep: what was begun there is not settled, and the intent stays for the next run."""
        for place, lock in sorted(self._mine.items(), key=lambda mine: os.path.isdir(mine[0])):
            lock.transient = place not in keep
            if lock.transient:
                _fill(lock.fileno(), None)
            _held.discard(lock.path)
            lock.__exit__(None, None, None)

    def __exit__(self, kind, *exc) -> None:  # a non-writing Intent's settling failed: the killed runs' intents stay
        self._release(keep=() if kind is None else self._fail() if self._writes else self.stale)


def _fill(fd: int, body: dict | None, sync: bool = True) -> None:
    """One write of body (None: blank) over the whole file, whatever it held before: what is left past the text is
    spaces, which the reader drops."""
    text = b"" if body is None else jsontext.dumps_flat(body).encode("utf-8", "surrogateescape")
    size = max(len(text), os.fstat(fd).st_size)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text + b" " * (size + (-size % _PAD) - len(text)))
    if text and sync:
        os.fsync(fd)  # what a power loss leaves must say where the run was


def owner(path: str) -> tuple | None:
    """(place, lock, operation, role) when path is a place set aside (tempname.SET_ASIDE) by the run of the intent beside it."""
    found = tempname.parse_temp(os.path.basename(path))
    directory = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if not found or found[0] is None or found[2] not in tempname.SET_ASIDE or not os.path.isdir(directory):
        return None
    for lock in sorted(os.path.join(directory, n) for n in os.listdir(directory) if fsops.PLACE_LOCK in n):
        body = intent(lock) or {}
        for place in settle.places(body) if body.get("token") == found[1] else ():
            if fsops.place_lock(place) == lock and os.path.basename(path) == \
                    os.path.basename(tempname.set_aside(place, found[1], found[2])):
                return place, lock, body.get("operation"), found[2]
    return None


def _same(body: dict | None, token) -> bool:
    """Whether a lock file's intent is the run of token's (a token of a run's shape)."""
    return bool(body) and proof.is_token(token) and body.get("token") == token


def unsettled(directory: str) -> list[tuple[str, str, dict]]:
    """(place, lock file, intent) for each lock file in directory that no run holds and whose intent names a place there.
    A lock named by a key (fsops.place_lock) is taken for the place its intent names only where that place's lock is this
    very file: the key proves it."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith("."))
    except OSError:
        return []
    found = [(n[1:-len(fsops.PLACE_LOCK) - 1], n) for n in names if n.endswith(f".{fsops.PLACE_LOCK}")]
    found += [(os.path.basename(p), n) for n in names if n.startswith(f".{fsops.PLACE_LOCK}-")
              for p in settle.places(intent(os.path.join(directory, n)) or {})
              if fsops.place_lock(p) == os.path.join(os.path.realpath(directory), n)]
    found = [(os.path.join(directory, name), os.path.join(directory, n)) for name, n in found]
    return [(place, path, body) for place, path in found for body in [killed(place, path)] if body is not None]


def killed(place: str, path: str | None = None) -> dict | None:
    """The intent a killed run left in place's lock (path: that file; no run holds it), {} for a lock file it left
    blank (killed as it ended: its intent emptied, the file not yet deleted), or None: for `list`, changing nothing."""
    path = path or fsops.place_lock(place)
    body = intent(path, blank={})
    try:
        return None if body is None or filelock.held(path) else body
    except (OSError, TargetRefused):
        return None
