"""Properties of the source itself."""

import ast
from pathlib import Path

from tests.support.sourcenames import bound_names, called, imported_modules

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
        names = bound_names(tree)
        for call in _calls(tree):
            owner, _, name = called(call, names).rpartition(".")
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
    (tmp_path / "aliased.py").write_text("from subprocess import run, Popen as P\nimport subprocess as sp\n"
                                         "from os import system\nrun('ls')\nP(f'{x}')\nsp.call('a' + b)\n"
                                         "system('x')\nrun(['ls'])\n")
    assert offenders(tmp_path) == [
        "aliased.py:4: subprocess.run with a string command", "aliased.py:5: subprocess.Popen with a string command",
        "aliased.py:6: subprocess.call with a string command", "aliased.py:7: os.system",
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
            for name in imported_modules(node):
                parts = name.split(".")
                if parts[0] == "mambaboot" and len(parts) > 1 and LAYERS.get(parts[1], -1) > LAYERS[room]:
                    found.append(f"{module.relative_to(src)} imports {name}")
    return found


def test_imports_go_down_the_layers_only(tmp_path):
    assert upward_imports(SRC) == []
    # The check sees what it is for: an engine module reaching up into the pipeline.
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text("from mambaboot.pipeline.plan import Plan\nimport mambaboot.common.files.fsops\n"
                                              "from mambaboot import pipeline, common\n")
    assert sorted(upward_imports(tmp_path)) == ["engine/x.py imports mambaboot.pipeline",
                                                "engine/x.py imports mambaboot.pipeline.plan"]


def commands_or_cli_imported(src: Path) -> list:
    upward = []
    for module in sorted(src.rglob("*.py")):
        room = module.relative_to(src).parts[0]
        if room in ("commands", "cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            for name in imported_modules(node):
                if name.split(".")[:2] in (["mambaboot", "commands"], ["mambaboot", "cli"]):
                    upward.append(f"{module.relative_to(src)} imports {name}")
    return upward


def test_nothing_below_the_commands_imports_a_command_or_the_cli(tmp_path):
    assert commands_or_cli_imported(SRC) == []
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "x.py").write_text("from mambaboot import cli\nimport mambaboot.commands.run\n"
                                              "from mambaboot.commands._common import reporter\n")
    assert commands_or_cli_imported(tmp_path) == ["common/x.py imports mambaboot.cli",
                                                  "common/x.py imports mambaboot.commands.run",
                                                  "common/x.py imports mambaboot.commands._common"]


def test_each_error_kind_is_a_class_statement_with_its_base_and_exit_code():
    """A reader or an editor finds `class UsageError` where it is made; names, bases and exit codes
    as the CLI and the guide's table know them."""
    from mambaboot.common import errors

    tree = ast.parse((SRC / "common" / "errors.py").read_text())
    stated = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    kinds = {name: kind for name, kind in vars(errors).items()
             if isinstance(kind, type) and issubclass(kind, errors.MambabootError)}
    assert set(kinds) <= stated, set(kinds) - stated
    assert {name: ([b.__name__ for b in kind.__bases__], kind.exit_code) for name, kind in kinds.items()
            if name != "Interrupted"} == {
        "MambabootError": (["Exception"], 1), "UsageError": (["MambabootError"], 2),
        "ShellContaminated": (["MambabootError"], 3), "TargetRefused": (["MambabootError"], 4),
        "Unconfined": (["TargetRefused", "OSError"], 4), "Escapes": (["Unconfined"], 4),
        "NotRegular": (["Unconfined"], 4), "CrossesMount": (["Unconfined"], 4), "TooDeep": (["Unconfined"], 4),
        "ObtainError": (["MambabootError"], 5), "HostUnreachable": (["ObtainError"], 5),
        "CertificateUntrusted": (["ObtainError"], 5),
        "UntrustedInput": (["UsageError", "ValueError"], 2), "NoSuchPath": (["UsageError"], 2),
        "EngineError": (["MambabootError"], 6),
        "VerifyError": (["MambabootError"], 7), "ProvisionError": (["MambabootError"], 8),
        "NotPortable": (["MambabootError"], 10), "CommandNotExecutable": (["MambabootError"], 126),
        "CommandNotFound": (["MambabootError"], 127)}
    assert errors.UsageError("bad").args == ("bad",) and str(errors.UsageError("bad")) == "bad"
    assert errors.UsageError.__module__ == errors.__name__


def oldest_python_offenders(root: Path) -> list:
    """What Python 3.9 (pyproject's requires-python) cannot run: syntax newer than 3.9, and a
    PEP 604 union (`int | None`) in an annotation of a module that does not keep annotations as
    text (`from __future__ import annotations`): 3.9 evaluates it when the function is defined,
    and importing the module fails with TypeError."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        where = path.relative_to(root)
        try:
            tree = ast.parse(text, str(path), feature_version=(3, 9))
        except SyntaxError as exc:
            problems.append(f"{where}:{exc.lineno}: not Python 3.9 syntax")
            continue
        deferred = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                       and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
        if deferred:
            continue
        annotations = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
                annotations += [a.annotation for a in every if a is not None and a.annotation is not None]
                annotations += [node.returns] if node.returns is not None else []
            elif isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
        for annotation in annotations:
            if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(annotation)):
                problems.append(f"{where}:{annotation.lineno}: `|` in an annotation Python 3.9 evaluates")
    return problems


def test_every_module_imports_on_the_oldest_python():
    assert oldest_python_offenders(SRC) == []


def test_the_oldest_python_checker_catches_what_it_looks_for(tmp_path):
    (tmp_path / "evaluated.py").write_text("def f(x: int | None) -> None:\n    pass\n")
    (tmp_path / "returned.py").write_text("def f() -> 'ok' | None:\n    pass\n")
    (tmp_path / "newer.py").write_text("match x:\n    case 1:\n        pass\n")
    (tmp_path / "deferred.py").write_text("from __future__ import annotations\n\ndef f(x: int | None) -> None:\n    pass\n")
    (tmp_path / "quoted.py").write_text("def f(x: 'int | None') -> None:\n    pass\n")
    found = oldest_python_offenders(tmp_path)
    assert [line.split(":")[0] for line in found] == ["evaluated.py", "newer.py", "returned.py"], found


# The recovery machinery's budget: tests/test_state_inventory.py, over every module that implements it.


def test_the_bootstrap_scripts_stay_within_their_budget():
    """The scripts do only what needs no Python and hand the rest to `create`: together they stay
    within the non-blank lines that job takes, so a check copied back into three languages fails
    here and goes to `create` instead (docs/reference.md §1.8)."""
    scripts = sorted((SRC.parent.parent / "bootstrap").glob("bootstrap.*"))
    counts = {p.name: sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip()) for p in scripts}
    assert {"bootstrap.sh", "bootstrap.ps1", "bootstrap.bat"} <= set(counts), counts
    # 1500, and the lines of what only a script can do before any download or hand-over: a share as the
    # default place (bat, ps1), a proxy's refusal of CONNECT (bat: %{http_connect}), Smart App Control
    # named for a 4551, bootstrap.bat's PowerShell line from powershell.line
    assert sum(counts.values()) <= 1510, counts
