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
