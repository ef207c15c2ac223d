"""The hostile-tree fuzzer: hypothesis turns a real environment, its cache and its home into
hostile trees (links in and out, fifos, sockets, hard links shared with the cache or the user,
bind mounts, odd names, deep, huge, BOM-prefixed or NUL-holding files, files with no permission;
the per-target locks and create --force's claim mark as any of these or held by another process,
pending markers whose owner is alive, long dead or no lock at all) and every command that reads or
writes them runs against each, `create --force` of the environment and `create` of a new one
beside it included. What must hold whatever the tree:

- nothing outside the environment and the cache changes (the user's sentinel directory, the
  home, the working and temporary directories), and the package cache's files keep their inode,
  content and mode and gain no link; only `cache clean` deletes from it, whole entries only;
- no exit 1 (mambaboot's own bug) and no traceback;
- every command ends within a bound (its whole process group is killed past it): a lock held by
  another process is refused, never waited for;
- when the tree also lies (tests/support/lyingtree.py: journals, pointers, notes, records and
  lock entries naming other directories of the world, with their identities, a token, marks
  absent, the liar's own or copied): no directory a lie names changes, and a read-only command
  (list, audit, cache info, doctor, lock to stdout) changes nothing at all in the world.

Bounded for CI (the "ci" profile): each command's corpus examples (CORPUS, then a lying tree
from LYING_CORPUS: together they hold every kind of lie), then
MAMBABOOT_FUZZ_EXAMPLES drawn ones (MAMBABOOT_FUZZ_CREATE_EXAMPLES for the two creates, the
slowest: each runs a whole create; derandomized: the same every run; 0: the corpus only). A
deliberate run that explores: MAMBABOOT_FUZZ_PROFILE=deep (hundreds of examples per command, a
new seed each run, a saved database; tests/support/fuzzprofile.py). A failure notes the
mutations, a listing of the tree they made, and the seed that replays it.
"""

import os
from pathlib import Path

import hypothesis
import pytest
from hypothesis import Phase, given, note
from hypothesis import strategies as st

from mambaboot.common.files import fsops
from tests.conftest import MAMBABOOT, _clean_environ
from tests.support import fuzzprofile
from tests.support import hostiletree as ht
from tests.support import lyingtree as lt

EXAMPLES = fuzzprofile.examples("MAMBABOOT_FUZZ_EXAMPLES", 3)
CREATE_EXAMPLES = fuzzprofile.examples("MAMBABOOT_FUZZ_CREATE_EXAMPLES", 1, slow=True)
LIES = int(os.environ.get("MAMBABOOT_FUZZ_LIES", "0"))  # at least this many lies per drawn example (a run on lying)
SHRINK = bool(os.environ.get("MAMBABOOT_FUZZ_SHRINK"))  # off: a hang makes each shrinking step cost TIMEOUT
TIMEOUT = float(os.environ.get("MAMBABOOT_FUZZ_TIMEOUT", "60"))
MEMORY = 2 << 30  # address space per command: a whole huge file read into memory fails, not the machine
CATEGORY = "hostile trees: nothing outside changed, no exit 1, bounded"

COMMANDS = ["list", "adopt", "audit", "move", "pack", "remove", "cache info", "cache clean", "activate-scripts",
            "run", "provision", "lock", "doctor", "lock cyclonedx", "create --force", "create"]
CREATES = ("create --force", "create")


class Fuzz:
    """The session's template world, the example's world, and what the mutations need to know."""

    def __init__(self, base: Path, channel: str, standin: Path):
        self.engine = ["-c", channel, "--micromamba", str(standin)]
        template, self.world = ht.World(base / "template"), ht.World(base / "world")
        maker = self.world
        maker.layout()
        env = maker.environ(_clean_environ())
        import subprocess

        made = subprocess.run([*MAMBABOOT, "create", "-q", "--prefix", str(maker.prefix),
                               "--cache-dir", str(maker.cache), "-c", channel, "--micromamba", str(standin)],
                              env=env, cwd=str(maker.cwd), capture_output=True, text=True, timeout=600)
        assert made.returncode == 0, made.stderr
        maker.plant_sentinel()
        lt.plant_other_env(maker, {"tool": "mambaboot"})
        ht.plant_read_back(maker)
        # each example's world is a copy of this one at the same place: the environment's
        # record names its prefix as create wrote it
        ht.copy_tree(self.world.root, template.root)
        self.restorer = ht.Restorer(template.root, self.world)
        w = self.world
        self.meta_names = sorted(os.listdir(w.prefix / "conda-meta"))
        python_record = next(n for n in self.meta_names if n.startswith("python-"))
        stem = python_record[: -len(".json")]
        self.cache_entry = next(Path(d) for d, dirs, _ in os.walk(w.pkgs) if os.path.basename(d) == stem)
        self.cache_file = next(Path(d) / f for d, _, files in os.walk(self.cache_entry) for f in files
                               if f.endswith(".py"))
        note_key = next(n for n in os.listdir(w.cache / "environments"))[: -len(".json")]
        assert note_key == fsops.path_key(str(w.prefix)), "the target lock's name is the notes' key"
        self.places = ht.places(w, python_record, note_key) + ht.read_back_places(w, _engine_memo(w))
        self.bind_ok = ht.bind_available(base)
        self.env = w.environ(_clean_environ())

    def argv(self, command: str) -> list:
        w = self.world
        prefix, cache = str(w.prefix), ["--cache-dir", str(w.cache)]
        return [*MAMBABOOT, *{
            "list": ["list", "--envs-dir", str(w.root / "envs"), *cache, "--size", prefix],
            "adopt": ["adopt", prefix, *cache],
            "audit": ["audit", prefix],
            "move": ["move", prefix, str(w.moved), *cache],
            "pack": ["pack", prefix, "-o", str(w.out / "env.tar.gz")],
            "remove": ["remove", prefix, "--yes", *cache],
            "cache info": ["cache", "info", *cache],
            "cache clean": ["cache", "clean", *cache],
            "activate-scripts": ["activate-scripts", prefix],
            "run": ["run", prefix, "--", "true"],
            "provision": ["provision", prefix, *cache],
            "lock": ["lock", prefix],
            "doctor": ["doctor", prefix],
            "lock cyclonedx": ["lock", prefix, "--format", "cyclonedx"],
            # replacing the hostile environment (set aside with a mark, deleted only with it), and
            # a new one beside it, with the hostile cache and home
            "create --force": ["create", "-q", "--prefix", prefix, "--force", *cache, *self.engine],
            "create": ["create", "-q", "--prefix", str(w.created), *cache, *self.engine],
        }[command]]


@pytest.fixture(scope="session")
def fuzz(tmp_path_factory, channel, standin):
    f = Fuzz(tmp_path_factory.mktemp("fuzz"), channel, standin)
    yield f
    ht.unmount_all(f.world.root)


def mutations(fuzz: Fuzz, rotate: int):
    """Two to five mutations, each a place and what it becomes. The lists are rotated per command,
    so that each command's first examples differ."""
    def turned(items):
        items = list(items)
        k = rotate % len(items)
        return items[k:] + items[:k]

    file_kinds = [k for k in ht.FILE_KINDS if k != "bind mount" or fuzz.bind_ok]
    dir_kinds = [k for k in ht.DIR_KINDS if k != "bind mount" or fuzz.bind_ok]

    @st.composite
    def one(draw):
        place = draw(st.sampled_from(turned(fuzz.places)))
        if place.role == "dir":
            kind = draw(st.sampled_from(turned(dir_kinds)))
            if kind == "odd names":
                return ht.Mutation(place, kind, odd_name=draw(st.sampled_from(turned(ht.ODD_NAMES))),
                                   odd_kind=draw(st.sampled_from(ht.ODD_ENTRY_KINDS)))
            return ht.Mutation(place, kind)
        kind = draw(st.sampled_from(turned(["content"] * 3 + file_kinds)))  # content mostly: it has most variety
        payload = ""
        if kind == "content":
            payloads = ht.ROLE_PAYLOADS[place.role] + ht.GENERIC_PAYLOADS
            if place.role == "script":  # a shell sources it: its size and form are the shell's business
                payloads = [p for p in payloads if p not in ("huge", "deep")]
            payload = draw(st.sampled_from(turned(payloads)))
        return ht.Mutation(place, kind, payload=payload)

    lie = st.builds(lt.Lie, file=st.sampled_from(turned(lt.FILES)), victim=st.sampled_from(turned(lt.VICTIMS)),
                    how=st.sampled_from(lt.HOWS), stage=st.sampled_from(lt.STAGES), side=st.sampled_from(lt.SIDES),
                    mark=st.sampled_from(turned(lt.MARKS)))
    hostile = st.lists(one(), min_size=0 if LIES else 2, max_size=2 if LIES else 5)
    return st.tuples(hostile, st.lists(lie, min_size=LIES, max_size=max(LIES, 3))).map(lambda t: t[0] + t[1])


def check(fuzz: Fuzz, command: str, muts) -> ht.Outcome:
    w = fuzz.world
    applier = ht.Applier(w, fuzz.cache_entry, fuzz.cache_file, fuzz.bind_ok)
    liar = lt.Liar(w, applier)
    try:
        for m in muts:
            (liar.apply if isinstance(m, lt.Lie) else applier.apply)(m)
        mutated = {rel for rel, sig in ht.signature(w.root).items() if fuzz.restorer.baseline.get(rel) != sig}
        note("mutations:\n  " + "\n  ".join(applier.applied))
        note(f"the tree they made (entries new or changed, under {w.root}):\n" + ht.listing(w.root, mutated))
        outside, cache = ht.outside_snapshot(w), ht.cache_snapshot(w)
        allowed = ht.allowed_outside(command, w, outside)
        named = lt.named_snapshot(liar.named)
        everything = ht.tree_snapshot(w.root) if command in lt.READ_ONLY else {}
        argv = fuzz.argv(command)
        code, out, err = ht.run_command(argv, fuzz.env, w.cwd, TIMEOUT, MEMORY)
        outcome = ht.Outcome(argv[len(MAMBABOOT):], code, out, err)
        p = outcome.problems
        if code is None:
            p.append(f"did not end within {TIMEOUT:g} s (its process group was killed)")
        elif code == 1 or code < 0:
            p.append(f"exit {code}")
        if "Traceback" in out + err:
            p.append("a traceback in its output")
        p += ht.outside_problems(w, outside, ht.outside_snapshot(w), allowed)
        p += ht.cache_problems(command, cache, ht.cache_after(w, cache), ht.entries_of(fuzz.meta_names))
        p += [f"a command ran: {rel} appeared" for rel in ht.named_pwned(w)]
        p += [f"{aside} was set aside without the mark it is deleted by" for aside in w.set_aside()
              if not (aside / ".mambaboot-claim").is_file()]
        p += lt.named_problems(named, lt.named_snapshot(liar.named))
        if command in lt.READ_ONLY:
            p += lt.read_only_problems(command, w, everything, ht.tree_snapshot(w.root))
        if p:
            note(f"mambaboot {' '.join(outcome.command)} -> exit {code}\nstdout: {out[-2000:]}\nstderr: {err[-3000:]}")
        return outcome
    finally:
        applier.release()
        fuzz.restorer.restore()


# Each command's first example, every run: trees that broke these commands before, as a
# (place, kind, payload or odd name) list; drawn examples follow.
CORPUS = {
    "list": [("pending marker", "fifo", ""), ("record", "content", "deep"),
             ("a directory of the environment", "deep tree", "")],
    "adopt": [("record dir", "symlink out", ""), ("prefix .condarc", "hard link from the cache", ""),
              ("CACHE/environments", "symlink out", "")],
    "audit": [("conda-meta record", "content", "deep"), ("conda-meta record", "content", "huge"),
              ("a directory of the environment", "deep tree", "")],
    "move": [("activate.d", "bind mount", ""), ("prefix .condarc", "content", "deep block"),
             ("a directory of the environment", "deep tree", "")],
    "pack": [("conda-meta/state", "fifo", ""), ("record", "content", "nul"),
             ("a directory of the environment", "deep tree", "")],
    "remove": [("a directory of the environment", "bind mount", ""), ("environments.txt", "symlink out", ""),
               ("target lock", "content", "held by another process"), ("conda-meta", "deep tree", "")],
    "cache info": [("cache note", "fifo", ""), ("another pending marker", "content", "deep"),
                   ("new prefix's pending marker", "content", "owner lock a directory")],
    "cache clean": [("CACHE/pending", "symlink out", ""), ("CACHE/environments", "bind mount", "")],
    "activate-scripts": [("activate.d", "bind mount", ""), ("conda-meta/state", "content", "lone surrogate")],
    "run": [("conda-meta/state", "content", "hostile variables"), ("env_vars.d", "odd names", "$(touch PWNED).json"),
            ("env_vars.d", "odd names", "next\x85line.json")],
    "provision": [("record", "content", "lock outside"), ("pending marker", "content", "owner lock outside")],
    "lock": [("lock.txt", "content", "bad url"), ("conda-meta record", "content", "nul")],
    "doctor": [("record", "content", "wrong types"), ("home .condarc", "content", "deep"),
               ("another pending marker", "content", "owner lock a user's file")],
    "lock cyclonedx": [("direct_url.json", "content", "url outside"), ("size memo", "content", "memo outside")],
    "create --force": [("claim mark", "symlink out", ""), ("pending marker", "content", "owner lock a directory"),
                       ("target lock", "fifo", ""), ("a directory of the environment", "deep tree", "")],
    "create": [("new prefix's lock", "symlink to a missing file", ""),
               ("new prefix's pending marker", "content", "owner alive"), ("home .condarc", "no permission", "")],
}


# Each command's second example: a tree that lies (lyingtree.Lie: file, victim, how, stage,
# side, mark), and nothing else hostile. Together they hold every file a lie is written as,
# every how and stage of a journal, every victim and every kind of mark; the commands that
# settle a move (move, remove) get a verified copy's journal whose source is a victim.
def _lies(*lies) -> list:
    return [lt.Lie(*lie) for lie in lies]


C, V, R, I = "copied", "verified", "renamed", "in place"
FROM, TO = lt.SIDES
NONE, LIARS, COPIED_MARK, MOVED_MARK = lt.MARKS
LYING_CORPUS = {
    "list": _lies(("journal", "project", C, V, FROM, COPIED_MARK), ("pending note", "home"),
                  ("cache note", "another environment")),
    "adopt": _lies(("journal", "another environment", R, "rewriting", TO, LIARS), ("record", "project"),
                   ("intent", "another environment", C, V, FROM, MOVED_MARK)),
    "audit": _lies(("journal", "home", I, V, FROM, NONE), ("lock entries", "project")),
    "move": _lies(("pointer", "project", C, V, FROM, COPIED_MARK), ("cache note", "project"),
                  ("move intent", "project", R, "rewriting", TO, LIARS),
                  ("move intent", "another environment", "finished", "re-adopting", TO, COPIED_MARK)),
    "pack": _lies(("journal", "cache root", R, V, FROM, LIARS), ("record", "home")),
    "remove": _lies(("journal", "another environment", C, V, FROM, COPIED_MARK),
                    ("pending note", "project", C, V, FROM, COPIED_MARK), ("intent", "project", C, V, FROM, LIARS),
                    ("move intent", "another environment", C, V, FROM, COPIED_MARK)),
    "cache info": _lies(("pending note", "project", C, V, FROM, COPIED_MARK), ("cache note", "cache root"),
                        ("journal in another environment", "project", C, "rewriting", TO)),
    "cache clean": _lies(("pending note", "project", C, V, FROM, COPIED_MARK), ("pending note", "another environment"),
                         ("cache note", "home"), ("pointer", "cache root", R, "rewriting", TO)),
    "activate-scripts": _lies(("journal", "project", C, "rewriting", FROM, COPIED_MARK),
                              ("lock entries", "another environment")),
    "run": _lies(("journal", "home", I, "rewriting", TO), ("record", "another environment")),
    "provision": _lies(("journal", "project", R, "rewriting", FROM, LIARS), ("lock entries", "cache root"),
                       ("record", "project"), ("intent", "project", C, "rewriting", FROM, MOVED_MARK)),
    "lock": _lies(("journal", "another environment", R, V, TO), ("lock entries", "home")),
    "doctor": _lies(("move intent", "another environment", C, V, FROM, LIARS),
                    ("journal in another environment", "project", R, V, FROM)),
    "lock cyclonedx": _lies(("journal", "cache root", C, V, TO, COPIED_MARK), ("record", "cache root")),
    "create --force": _lies(("pending note, its owner dead", "project"), ("journal", "project", C, V, FROM, LIARS),
                            ("record", "project"), ("intent", "another environment", C, V, FROM, COPIED_MARK)),
    "create": _lies(("pointer", "project", C, V, FROM, COPIED_MARK), ("pending note", "project"),
                    ("pending note, its owner alive", "another environment"),
                    ("intent", "project", C, "rewriting", FROM, LIARS)),
}


def _engine_memo(w: ht.World) -> str:
    """The micromamba digest memo create left in the cache, below it ('' if none)."""
    store = w.cache / "micromamba"
    found = sorted(Path(d) / "verified" for d, _, files in os.walk(store) if "verified" in files)
    return str(found[0].relative_to(w.cache)) if found else ""


def corpus(fuzz: Fuzz, command: str) -> list:
    by_name = {p.name: p for p in fuzz.places}
    found = []
    for name, kind, extra in CORPUS[command]:
        if kind == "bind mount" and not fuzz.bind_ok:
            kind = "symlink out"
        if kind == "odd names":
            found.append(ht.Mutation(by_name[name], kind, odd_name=extra, odd_kind="file"))
        else:
            found.append(ht.Mutation(by_name[name], kind, payload=extra))
    return found


def test_the_corpus_names_every_command():
    assert set(CORPUS) == set(COMMANDS) == set(LYING_CORPUS)


def test_the_lying_corpus_holds_every_kind_of_lie():
    lies = [lie for tree in LYING_CORPUS.values() for lie in tree]
    journals = [lie for lie in lies if lie.file in ("journal", "journal in another environment", "pointer")]
    assert {lie.file for lie in lies} == set(lt.FILES)
    assert {lie.victim for lie in lies} == set(lt.VICTIMS)
    assert {lie.mark for lie in lies} == set(lt.MARKS)
    assert {(lie.how, lie.stage) for lie in journals} == {(h, s) for h in lt.HOWS for s in lt.STAGES}
    assert {lie.side for lie in journals} == set(lt.SIDES)
    for settling in ("move", "remove"):
        assert any(lie in journals and (lie.how, lie.stage, lie.side) == (C, V, FROM) for lie in LYING_CORPUS[settling])
    # a killed move's intent at each stage whose row acts, the re-adopt of a move finishing a killed one included
    intents = {(lie.how, lie.stage) for lie in lies if lie.file == "move intent"}
    assert {stage for _, stage in intents} >= {"rewriting", "verified", "re-adopting"} and ("finished", "re-adopting") in intents


@pytest.mark.parametrize("command", COMMANDS)
def test_hostile_trees(fuzz, reliability, command):
    def example(muts):
        outcome = check(fuzz, command, muts)
        reliability.record(CATEGORY, not outcome.problems)
        assert not outcome.problems, "\n".join(outcome.problems)

    run = hypothesis.example(muts=LYING_CORPUS[command])(example)
    run = hypothesis.example(muts=corpus(fuzz, command))(run)
    run = given(muts=mutations(fuzz, COMMANDS.index(command)))(run)
    drawn = CREATE_EXAMPLES if command in CREATES else EXAMPLES
    phases = [Phase.explicit] + [Phase.reuse, Phase.generate] * (drawn > 0) + [Phase.shrink] * SHRINK
    fuzzprofile.seeded(fuzzprofile.chosen(max_examples=max(drawn, 1), phases=phases)(run))()
