"""Properties of the source itself."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "mambaboot"
SPAWNERS = {"run", "Popen", "call", "check_call", "check_output"}


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def offenders(root: Path):
    problems = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            where = f"{path.relative_to(root)}:{call.lineno}"
            for kw in call.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    problems.append(f"{where}: shell=")
            if owner == "os" and name in ("system", "popen") or name.startswith("spawn") and owner == "os":
                problems.append(f"{where}: os.{name}")
            if owner == "subprocess" and name in SPAWNERS and call.args:
                first = call.args[0]
                if isinstance(first, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    problems.append(f"{where}: subprocess.{name} with a string command")
    return problems


def test_no_shell_anywhere_in_the_package():
    """Subprocesses get argument lists: no shell=True, no os.system/popen, no string commands."""
    assert offenders(SRC) == []


def test_the_checker_catches_what_it_looks_for(tmp_path):
    """The test above can fail: planted offenders are found."""
    (tmp_path / "bad.py").write_text("import os, subprocess\nsubprocess.run('ls', shell=True)\nos.system('x')\n")
    assert offenders(tmp_path) == [
        "bad.py:2: shell=", "bad.py:2: subprocess.run with a string command", "bad.py:3: os.system",
    ]


ARCHITECTURE = SRC.parent.parent / "docs" / "architecture.md"


def _map_rows():
    """docs/architecture.md's table: room -> the text of its row."""
    rows = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows[cells[0].strip("`").rstrip("/")] = cells[1]
    return rows


def test_the_architecture_map_matches_the_folders():
    rows = _map_rows()
    rooms = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms | {"cli.py"} == set(rows), "every room is in docs/architecture.md, and nothing else"
    unnamed = []
    for room in rooms - {"commands"}:
        for module in (SRC / room).rglob("*.py"):
            if module.name != "__init__.py" and f"`{module.stem}`" not in rows[room] and f"`{module.parent.name}/`" not in rows[room]:
                unnamed.append(str(module.relative_to(SRC)))
    assert unnamed == [], "modules the map does not name"


# docs/architecture.md: imports go one way, down; shell and relocate are one level.
LAYERS = {"cli": 6, "__main__": 7, "commands": 5, "pipeline": 4, "shell": 3, "relocate": 3, "environment": 2,
          "engine": 1, "common": 0}


def upward_imports(src: Path) -> list:
    """Every `import mambaboot.ROOM...` that names a room above the importing module's own."""
    found = []
    for module in src.rglob("*.py"):
        room = module.relative_to(src).parts[0]
        room = room[:-3] if room.endswith(".py") else room
        if room not in LAYERS:
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[0] == "mambaboot" and len(parts) > 1 and LAYERS.get(parts[1], -1) > LAYERS[room]:
                    found.append(f"{module.relative_to(src)} imports {name}")
    return found


def test_imports_go_down_the_layers_only(tmp_path):
    assert upward_imports(SRC) == []
    # The check sees what it is for: an engine module reaching up into the pipeline.
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text("from mambaboot.pipeline.plan import Plan\nimport mambaboot.common.files.fsops\n")
    assert upward_imports(tmp_path) == ["engine/x.py imports mambaboot.pipeline.plan"]


def test_nothing_below_the_commands_imports_a_command_or_the_cli():
    upward = []
    for module in SRC.rglob("*.py"):
        room = module.relative_to(SRC).parts[0]
        if room in ("commands", "cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[:2] in (
                ["mambaboot", "commands"], ["mambaboot", "cli"]
            ):
                upward.append(f"{module.relative_to(SRC)} imports {node.module}")
    assert upward == []
