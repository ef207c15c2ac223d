"""docs/reliability.md's state inventory is derived from the one table in the code
(environment/stateinventory.py), both ways: every row of the docs is a row of the table and the other way round, with
its constant, proof rules, lock kind and kind of state; the counts and the rules' words come from the table; every
function that writes a file or a directory through the file layer either writes a kind of state the table lists or
is named here with why what it writes remembers nothing; and every constant the table names is used. The recovery
code, counted over every module that implements it, stays within a budget below what it was."""

import importlib
import re

from tests.conftest import REPO

from mambaboot.environment import stateinventory as si

SRC = REPO / "src" / "mambaboot"
DOC = REPO / "docs" / "reliability.md"

# The file layer's writers: a call of one of these writes a file or a directory, or a name for one.
WRITERS = ("write_in", "write_many_in", "write_file", "write_new", "open_new", "write_replace", "write_many",
           "write_locked", "write_mark", "temp_name", "sibling", "set_aside", "WorkDir", "FileLock")
# The functions that call one of them for what remembers nothing for mambaboot (what the user asked for, a work
# directory's contents, or the layer itself), each with why; a row's writers name the others
# (environment/stateinventory.py). A function, never a whole module: a new call in a module already here still has
# to say what it writes.
_LAYER = "the layer itself: one of its writers calling another; what it writes is its caller's"
NOTHING_REMEMBERED = {
    "common/files/confined.py:Root.write_replace": _LAYER,
    "common/files/confined.py:Root.write_new": _LAYER,
    "common/files/confined.py:write_file": _LAYER,
    "common/files/confined.py:write_in": _LAYER,
    "common/files/confined.py:write_many_in": _LAYER,
    "common/files/tempname.py:sibling": "a temporary name made, written by its callers",
    "common/files/tempname.py:set_aside": "a set-aside's name made, written by its callers",
    "common/pathrules.py:longest_place": "a set-aside's name measured, not made: a name too long is refused up front",
    "environment/placelock.py:owner": "a set-aside's name read back from an intent, not made",
    "environment/settle.py:_sibling": "a set-aside's name an intent holds, compared with the one its run gives",
    "environment/roothook.py:write": "the environment's etc/conda hooks: the environment itself",
    "environment/condarc.py:ensure": "the environment's .condarc: the environment itself",
    "environment/prefixstate.py:write": "the environment's conda-meta/state: the environment itself",
    "environment/overlay.py:_copy": "a file of the environment the user asked for",
    "environment/delete.py:unregister": "~/.conda/environments.txt without the lines of an environment removed",
    "engine/network.py:install_credentials": "the engine's authentication.json in its private home (a work directory)",
    "pipeline/create.py:_build": "the lock the engine installs, in its private home (a work directory)",
    "pipeline/movecopy.py:_copy_file": "a file of the environment, copied: the environment itself",
    "relocate/batscripts.py:patch": "the environment's Windows scripts, rewritten for its place",
    "relocate/batscripts.py:_backup": "their originals in PREFIX/.mambaboot/backup/, the user's: named, never read",
    "shell/shellinit.py:remove_autorun": "a .reg backup of the AutoRun value it changes, the user's: named, never read",
    "shell/startup.py:_write": "a shell's start-up files in its work directory (the row of the work directory)",
    "common/files/outputfile.py:write": "the -o FILE the user asked for",
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
    "common/files/removal.py:_remove_scanned", "environment/pkgcache.py:clean",
    "environment/pkgcache.py:killed_writers",
    "shell/activation/envvars.py:_replaced", "commands/list.py:_moving", "shell/doctor.py:check_unfinished",
    "shell/doctor.py:check_work_dirs", "commands/doctor.py:_settle",
    "commands/_common.py:place_intent",
)
# RECOVERY's lines together (every line counted, blank ones too): only ever lowered.
RECOVERY_BUDGET = 2983


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
        for module in collectors:
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


def _definitions(rel: str) -> dict:
    """{name: node} of a module's top-level functions and classes' methods ("function", "Class.method"; a class's own
    statements under "Class"), its other statements under "" (the module's top level). A function nested in one of
    them is its outer one's: it runs only as that one's part."""
    import ast

    found = {}
    for node in ast.parse((SRC / rel).read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            found.setdefault(node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else "", []).append(node)
            continue
        for item in node.body:
            named = isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            found.setdefault(f"{node.name}.{item.name}" if named else node.name, []).append(item)
    return found


def _call_sites() -> dict:
    """{"module.py:function": lines}: each call of a file-layer writer in the source, by the definition it is in
    ("module.py" alone at a module's top level)."""
    import ast

    sites = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "environment/stateinventory.py":
            continue
        for name, nodes in _definitions(rel).items():
            for call in (c for node in nodes for c in ast.walk(node) if isinstance(c, ast.Call)):
                if getattr(call.func, "attr", getattr(call.func, "id", None)) in WRITERS:
                    sites.setdefault(f"{rel}:{name}" if name else rel, []).append(call.lineno)
    return sites


def test_every_call_of_a_writer_writes_a_listed_kind_and_every_listed_kind_is_written():
    """Each call of the file layer's writers is accounted for by the function it is in: a row's writer, or named in
    NOTHING_REMEMBERED with why; a new call in a function neither names fails here until the inventory says what it
    writes. Each writer a row names is there (a bootstrap script holding the row's names), and each row is written."""
    sites = _call_sites()
    listed = {w for row in si.STATE for w in row[2] if not w.startswith("bootstrap/")}
    unlisted = {site: lines for site, lines in sites.items() if site not in listed | set(NOTHING_REMEMBERED)}
    assert not unlisted, f"calls of a writer in functions no row of environment/stateinventory.py lists: {unlisted}"
    stale = sorted(set(NOTHING_REMEMBERED) - set(sites))
    assert not stale, f"named here as writers, but they call no writer: {stale}"
    sources = {path: path.read_text(encoding="utf-8") for path in SRC.rglob("*.py")
               if path.name != "stateinventory.py"}
    for name, constants, writers_of, *_ in si.STATE:
        mod = importlib.import_module("mambaboot." + constants[0][:-3].replace("/", "."))
        for each in constants[1:]:  # defined, and used where the state is written or read
            uses = sum(len(re.findall(rf"\b{each}\b", text)) for text in sources.values())
            assert uses >= 2, (name, each, uses)
        written = False
        for writer in writers_of:
            if writer.startswith("bootstrap/"):  # a script spells the names out: each one is in it
                text = (REPO / writer).read_text(encoding="utf-8")
                assert all(getattr(mod, each) in text for each in constants[1:]), (name, writer)
                written = True
                continue
            rel, _, function = writer.partition(":")
            assert function in _definitions(rel), f"{name}: its writer {writer} is no definition of {rel}"
            written = written or writer in sites or any(c in sources[SRC / rel] for c in constants[1:])
        assert written, (name, writers_of)


def test_the_recovery_code_stays_within_its_budget():
    """Every module that implements recovery, named, their lines together (blank ones too) within the design's budget:
    a second mechanism beside one that exists, or a check copied where one serves, fails here."""
    counts = {entry: recovery_lines(entry) for entry in RECOVERY}
    assert sum(counts.values()) <= RECOVERY_BUDGET, (sum(counts.values()), counts)
    said = re.sub(r"\s+", " ", DOC.read_text(encoding="utf-8"))
    assert all(f"`{entry}`" in said for entry in RECOVERY), "docs/reliability.md names every part counted"
