"""docs/reliability.md's state inventory is derived from the one table in the code
(environment/stateinventory.py), both ways: every row of the docs is a row of the table and the other way round, with
its constant, proof rules, lock kind and kind of state; the counts and the rules' words come from the table; every
module that writes a file or a directory through the file layer either writes a kind of state the table lists or is
named here with why what it writes remembers nothing; and every constant the table names is used. The recovery
code, counted over every module that implements it, stays within a budget below what it was."""

import importlib
import re

from tests.conftest import REPO

from mambaboot.environment import stateinventory as si

SRC = REPO / "src" / "mambaboot"
DOC = REPO / "docs" / "reliability.md"

# The file layer's writers: a call of one of these writes a file or a directory, or a name for one.
WRITES = re.compile(r"\b(write_in|write_many_in|write_file|write_new|open_new|write_replace|write_many|write_locked|"
                    r"write_mark|temp_name|sibling|set_aside|WorkDir|FileLock)\(")
# Modules that write through the file layer what remembers nothing for mambaboot (what the user asked for, or the
# layer itself), each with why.
NOTHING_REMEMBERED = {
    "common/files/confined.py": "the layer itself",
    "common/files/tempname.py": "the names themselves",
    "common/files/workdir.py": "the work directory's own module (its row's writers are its users)",
    "common/pathrules.py": "a set-aside name measured, not made: a name too long is refused up front",
    "environment/placelock.py": "its lock file (its own row); a set-aside's name read back, not made",
    "environment/settle.py": "names its rows read back from an intent; it makes none",
    "environment/roothook.py": "the environment's etc/conda hooks: the environment itself",
    "environment/condarc.py": "the environment's .condarc: the environment itself",
    "environment/prefixstate.py": "the environment's conda-meta/state: the environment itself",
    "environment/overlay.py": "a file of the environment the user asked for",
    "environment/delete.py": "~/.conda/environments.txt without the lines of an environment removed",
    "engine/network.py": "the engine's .condarc in its private home (a work directory)",
    "pipeline/create.py": "the environment's files the user asked for (and the mark, its row)",
    "relocate/batscripts.py": "the environment's Windows scripts, rewritten for its place",
    "shell/shellinit.py": "the user's shell start-up file, as asked",
    "shell/startup.py": "a shell's start-up files in its work directory (its row)",
    "pipeline/locking.py": "the lock the user asked for (and its work directory, its row)",
}
# Every module that implements recovery: intents and their table, marks, locks, temporaries and their collectors,
# set-asides, put-backs and the rollbacks of the runs that make them (the inventory itself is data: not counted); and
# where a module does more, the parts of it that do this ("module.py:Name" or "module.py:Class.method": their lines,
# decorators included). docs/reliability.md says the same list.
RECOVERY = (
    "environment/settle.py", "environment/placelock.py", "environment/adoptundo.py", "environment/record.py",
    "environment/busy.py", "common/files/workdir.py",
    "common/files/filelock.py", "common/files/proof.py", "common/files/tempname.py", "common/files/leftovers.py",
    "common/files/partials.py", "common/files/fsops.py", "common/files/noreplace.py", "common/files/guarded.py",
    "common/files/newdirs.py", "common/files/outputfile.py", "common/files/fileid.py", "engine/sandbox.py",
    "shell/unfinished.py", "pipeline/movesteps.py",
    "pipeline/create.py:_Rollback", "environment/delete.py:remove", "pipeline/move.py:_rename_or_copy",
    "pipeline/move.py:_move_claimed", "pipeline/move.py:_settle_own", "pipeline/movecopy.py:copy",
    "pipeline/adopt.py:adopt_prefix", "common/files/confined.py:Root.remove_tree", "common/files/confined.py:rename_beside",
    "common/files/removal.py:remove_contents", "common/files/removal.py:_remove_last",
    "common/files/removal.py:_remove_scanned", "environment/pkgcache.py:clean", "environment/pkgcache.py:_stale_homes",
    "environment/pkgcache.py:_noted", "environment/pkgcache.py:killed_writers", "environment/pkgcache.py:killed_writers_left",
    "shell/activation/envvars.py:_replaced", "commands/list.py:_moving", "shell/doctor.py:check_unfinished",
    "shell/doctor.py:check_work_dirs", "commands/doctor.py:_settle",
    "commands/_common.py:place_intent",
)
# RECOVERY's lines together (every line counted, blank ones too): only ever lowered.
RECOVERY_BUDGET = 3425


def recovery_lines(entry: str) -> int:
    """The lines of a RECOVERY entry: a whole module, or one definition in it (a class's method: Class.method)."""
    import ast

    rel, _, name = entry.partition(":")
    text = (SRC / rel).read_text(encoding="utf-8")
    if not name:
        return len(text.splitlines())
    body = ast.parse(text).body
    for part in name.split("."):
        found = [n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part]
        assert found, f"{entry}: no {part} there"
        body = found[0].body
    node = found[0]
    return node.end_lineno - min([d.lineno for d in node.decorator_list] + [node.lineno]) + 1


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split("## State inventory", 1)[1].split("\n## ", 1)[0]


def _rows() -> dict:
    found = {}
    for line in _section().splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            found[re.findall(r"`([^`]+)`", cells[0])[0]] = cells
    return found


def _words(cell: str) -> tuple:
    return tuple(re.findall(r"`([^`]+)`", cell))


def test_the_docs_inventory_is_the_table_in_the_code_both_ways():
    rows = _rows()
    assert list(rows) == [row[0] for row in si.STATE], (list(rows), [row[0] for row in si.STATE])
    for name, constants, writers, proof, lock, collectors, kind in si.STATE:
        cells = rows[name]
        assert _words(cells[1]) == constants, (name, cells[1])
        assert _words(cells[-3]) == proof and _words(cells[-2]) == ((lock,) if lock else ()), (name, cells[-3:])
        assert cells[-1] == kind, (name, cells[-1])
        assert set(proof) <= set(si.PROOF_RULES) and (lock is None or lock in si.LOCK_KINDS), name
        mod = importlib.import_module("mambaboot." + constants[0][:-3].replace("/", "."))
        for each in constants[1:]:
            assert getattr(mod, each) in cells[0], (name, each)
        for module in writers + collectors:
            assert (SRC / module).is_file(), (name, module)


def test_the_rules_and_their_counts_are_the_tables():
    """The proof rules and lock kinds, their number and their words, as the code's table says them."""
    section = re.sub(r"\s+", " ", _section())
    for table, word in ((si.PROOF_RULES, "proof rules (`PROOF_RULES`)"), (si.LOCK_KINDS, "(`LOCK_KINDS`)")):
        assert re.search(rf"\b{len(table)} {re.escape(word)}", section), word
        for key, text in table.items():
            assert f"- `{key}`: {text}." in section, key
    used = {rule for row in si.STATE for rule in row[3]} | {row[4] for row in si.STATE if row[4]}
    assert used == set(si.PROOF_RULES) | set(si.LOCK_KINDS), used  # no rule nor lock kind without its row
    assert len(si.PROOF_RULES) <= 4 and len(si.LOCK_KINDS) <= 3


def test_every_writer_in_the_source_writes_a_listed_kind_and_every_listed_kind_is_written():
    writers = {path.relative_to(SRC).as_posix() for path in SRC.rglob("*.py")
               if WRITES.search(path.read_text(encoding="utf-8"))} - {"environment/stateinventory.py"}
    listed = {module for row in si.STATE for module in row[2]}
    unlisted = sorted(writers - listed - set(NOTHING_REMEMBERED))
    assert not unlisted, f"modules writing state no row of environment/stateinventory.py lists: {unlisted}"
    stale = sorted(set(NOTHING_REMEMBERED) - writers)
    assert not stale, f"named here as writers, but they write nothing: {stale}"
    sources = {path: path.read_text(encoding="utf-8") for path in SRC.rglob("*.py")
               if path.name != "stateinventory.py"}
    for name, constants, writers_of, *_ in si.STATE:
        for each in constants[1:]:  # defined, and used where the state is written or read
            uses = sum(len(re.findall(rf"\b{each}\b", text)) for text in sources.values())
            assert uses >= 2, (name, each, uses)
        assert any(WRITES.search(sources[SRC / m]) or any(c in sources[SRC / m] for c in constants[1:])
                   for m in writers_of), (name, writers_of)


def test_the_recovery_code_stays_within_its_budget():
    """Every module that implements recovery, named, their lines together (blank ones too) within the design's budget:
    a second mechanism beside one that exists, or a check copied where one serves, fails here."""
    counts = {entry: recovery_lines(entry) for entry in RECOVERY}
    assert sum(counts.values()) <= RECOVERY_BUDGET, (sum(counts.values()), counts)
    said = re.sub(r"\s+", " ", DOC.read_text(encoding="utf-8"))
    assert all(f"`{entry}`" in said for entry in RECOVERY), "docs/reliability.md names every part counted"
