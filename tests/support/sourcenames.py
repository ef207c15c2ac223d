"""What a module's names stand for, for the source checks: `from subprocess import run as go`
makes `go(...)` a call of subprocess.run, `import subprocess as sp` makes `sp.run(...)` one, and
`from mambaboot import pipeline` imports mambaboot.pipeline."""

import ast


def bound_names(tree: ast.AST) -> dict:
    """Each name an import binds anywhere in the module -> the dotted name it stands for."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:  # `import os.path` binds os
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def called(call: ast.Call, names: dict) -> str:
    """The dotted name a call calls, as far as the module's imports tell ("" when they do not):
    `sp.run(...)` with `import subprocess as sp` is subprocess.run; `open(...)` is open."""
    parts = []
    func = call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return ""
    parts.append(names.get(func.id, func.id))
    return ".".join(reversed(parts))


def imported_modules(node: ast.AST) -> list:
    """The modules an import statement imports: `import a.b` a.b; `from a.b import c` a.b (c may
    be a name in it); `from mambaboot import pipeline, cli`, from a top-level package,
    mambaboot.pipeline and mambaboot.cli."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if "." in node.module:
            return [node.module]
        return [f"{node.module}.{a.name}" for a in node.names]
    return []
