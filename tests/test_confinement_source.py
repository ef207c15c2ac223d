"""Every file operation on an environment, a cache, a home or a user's directory goes through the
confined layer (common/files/confined.py): the source is checked for the calls that would go around it."""

import ast
import sys
from pathlib import Path

from tests.support.sourcenames import bound_names, called

SRC = Path(__file__).resolve().parent.parent / "src" / "mambaboot"

# Calls that act on a path by name, following whatever links are on the way.
FORBIDDEN = {
    "os": {"open", "replace", "rename", "renames", "unlink", "remove", "rmdir", "removedirs", "mkdir", "makedirs"},
    "shutil": {"rmtree", "copy", "copy2", "copyfile", "copytree", "move"},
}
PATH_METHODS = {"write_text", "write_bytes", "read_text", "read_bytes"}  # pathlib's

# The layer itself: the Root, and the primitives it is made of.
LAYER = {
    "common/files/confined.py": "the layer: a Root held by descriptor, every path below it resolved component by component",
    "common/files/removal.py": "deleting a tree by descriptor, refusing a mount point inside (the Root's remove_tree); "
                               "a run's own file unlinked by name (unlink_quietly)",
    "common/files/treewalk.py": "walking a tree by descriptor with a stack, never through a link, never past its depth bound",
    "common/files/filelock.py": "lock files (O_NOFOLLOW, kept open while held)",
    "common/files/newdirs.py": "the directories made for lock files and caches, taken back only while empty and the same",
    "common/files/guarded.py": "deleting a directory only while it is the one checked: by descriptor and identity",
    "common/files/noreplace.py": "a rename that never replaces (renameat2, link+unlink), on names its callers hold",
    "common/files/filerewrite.py": "a user's own file (an rc file) rewritten from one read, never through a link at its name",
}
# The exceptions outside it, each with its reason.
EXCEPTIONS = {
    "relocate/scan.py": "copied into `pack` archives, imports nothing of mambaboot; works by descriptor itself",
    "relocate/rewrite.py": "copied into `pack` archives with what it imports (common/files/tempname.py, "
                           "renameat.py); works by descriptor itself",
    "relocate/unpack.py": "the archive's own unpack script: runs where no mambaboot is installed",
    "shell/activation/envvars.py": "copied into the environment with what it imports and run by its python",
    "common/output.py": "the process's own streams (os.devnull, descriptors 0-2), no file of anyone's",
    "engine/child.py": "the read end of a pipe to a child process, no file",
}


def _module_calls(tree):
    imports_pathlib = any(isinstance(n, (ast.Import, ast.ImportFrom)) and (
        getattr(n, "module", None) == "pathlib" or any(a.name == "pathlib" for a in getattr(n, "names", ())))
        for n in ast.walk(tree))
    names = bound_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        full = called(node, names)
        owner, _, name = full.rpartition(".")
        if full in ("open", "io.open"):
            yield node.lineno, "open"
        elif owner in FORBIDDEN and name in FORBIDDEN[owner]:
            yield node.lineno, f"{owner}.{name}"
        elif imports_pathlib and isinstance(node.func, ast.Attribute) and node.func.attr in PATH_METHODS:
            yield node.lineno, f".{node.func.attr}"


def _found(src: Path, allowed: dict, finder) -> list:
    """"module:line: what" for each thing finder yields in a module not allowed it."""
    found = []
    for module in sorted(src.rglob("*.py")):
        rel = module.relative_to(src).as_posix()
        if rel not in allowed:
            found += [f"{rel}:{line}: {what}" for line, what in finder(ast.parse(module.read_text(), str(module)))]
    return found


def around_the_layer(src: Path) -> list:
    return _found(src, {**LAYER, **EXCEPTIONS}, _module_calls)


def test_file_operations_go_through_the_confined_layer():
    assert around_the_layer(SRC) == [], "use common/files/confined.py (a Root), or list the module with its reason"


def test_the_allow_lists_name_modules_that_exist_and_need_it():
    for rel in [*LAYER, *EXCEPTIONS]:
        assert (SRC / rel).is_file(), rel
    for rel in EXCEPTIONS:
        assert list(_module_calls(ast.parse((SRC / rel).read_text()))), f"{rel} needs no exception any more"


def test_the_checker_sees_each_way_around(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "x.py").write_text(
        "import os, shutil\nfrom pathlib import Path\n"
        "open('f')\nos.replace('a', 'b')\nos.unlink('a')\nshutil.rmtree('d')\nos.makedirs('d')\nPath('f').write_text('')\n"
        "root.unlink('a')\n")
    (tmp_path / "pipeline" / "y.py").write_text(
        "from os import unlink as gone, replace\nfrom shutil import rmtree\nimport os as o\n"
        "gone('a')\nreplace('a', 'b')\nrmtree('d')\no.rename('a', 'b')\nunlink('a')\n")
    assert around_the_layer(tmp_path) == [
        "pipeline/x.py:3: open", "pipeline/x.py:4: os.replace", "pipeline/x.py:5: os.unlink",
        "pipeline/x.py:6: shutil.rmtree", "pipeline/x.py:7: os.makedirs", "pipeline/x.py:8: .write_text",
        "pipeline/y.py:4: os.unlink", "pipeline/y.py:5: os.replace", "pipeline/y.py:6: shutil.rmtree",
        "pipeline/y.py:7: os.rename"]


# -------------------------------------------------------------------------- JSON only through the reader

# Every JSON text mambaboot did not write is parsed by the bounded reader (common/untrusted.py:
# size and nesting limits first, then its declared shape, common/shapes.py).
JSON_READER = {
    "common/untrusted.py": "the bounded reader",
    "common/jsontext.py": "json's C scanner, which the bounded reader calls once it checked size and nesting",
}
# Modules that run where no mambaboot is installed, and so parse JSON themselves, each with the
# same limits as the reader.
JSON_EXCEPTIONS = {
    "relocate/scan.py": "copied into pack archives: read_json bounds the size (JSON_LIMIT), refuses a link or "
                        "a fifo and checks nesting without recursion (nested_beyond) before json parses",
    "relocate/rewrite.py": "copied into pack archives: moved_record parses the record scan.read_json read, "
                           "bounded, and leaves one json refuses (RecursionError too) as it was",
    "shell/activation/envvars.py": "copied into the environment, run by its python: _read bounds the size as the "
                                   "reader does, and a RecursionError or MemoryError of json's scanner is refused",
}
_JSON_PARSERS = {"loads", "load", "raw_decode", "JSONDecoder"}


def _json_parses(tree):
    """(line, what) of each json parse in a module: json.loads/load (json imported under any
    name), `from json import loads`, json.JSONDecoder, and jsontext.loads."""
    aliases = {"jsontext"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "json"}
        elif isinstance(node, ast.ImportFrom) and node.module == "json":
            for a in node.names:
                if a.name in _JSON_PARSERS:
                    yield node.lineno, f"from json import {a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                and node.attr in _JSON_PARSERS:
            yield node.lineno, f"{node.value.id}.{node.attr}"


def json_outside_the_reader(src: Path) -> list:
    return _found(src, {**JSON_READER, **JSON_EXCEPTIONS}, _json_parses)


def test_json_is_parsed_only_by_the_bounded_reader():
    assert json_outside_the_reader(SRC) == [], "read it with common/untrusted.py (and its shape), or list the module"


def test_the_json_exceptions_exist_and_need_it():
    for rel in [*JSON_READER, *JSON_EXCEPTIONS]:
        assert (SRC / rel).is_file(), rel
    for rel in JSON_EXCEPTIONS:
        assert list(_json_parses(ast.parse((SRC / rel).read_text()))), f"{rel} needs no exception any more"


def test_the_json_checker_sees_each_way(tmp_path):
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "x.py").write_text(
        "import json\nimport json as j\nfrom json import loads\nfrom mambaboot.common import jsontext\n"
        "json.loads('1')\nj.load(f)\njsontext.loads('1')\njson.JSONDecoder().raw_decode('1')\njson.dumps(1)\n")
    assert sorted(json_outside_the_reader(tmp_path)) == sorted([
        "environment/x.py:3: from json import loads", "environment/x.py:5: json.loads", "environment/x.py:6: j.load",
        "environment/x.py:7: jsontext.loads", "environment/x.py:8: json.JSONDecoder"])


# -------------------------------------------------------------------------- no import cycles


def _imports(src: Path) -> dict:
    """module -> the mambaboot modules it imports, at its top or inside a function alike."""
    modules = {m.relative_to(src.parent).with_suffix("").as_posix().replace("/", "."): m for m in src.rglob("*.py")}
    modules = {name[: -len(".__init__")] if name.endswith(".__init__") else name: path for name, path in modules.items()}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                          for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def cycles(graph: dict) -> list:
    """Each cycle once, as a list of modules, found by depth-first search."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_module_imports_itself_round_about():
    assert cycles(_imports(SRC)) == []


def test_the_cycle_check_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
