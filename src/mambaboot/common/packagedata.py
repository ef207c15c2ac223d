"""Files shipped beside our modules (activation templates, envvars.py), read from a
checkout, a wheel or the zipapp alike.

What `pkgutil.get_data` does, without importing `importlib.util` for it: ~9 ms of every
`create`, which reads its templates on each run (issue 16).
"""

import os
import sys


def read(package: str, name: str) -> bytes:
    module = sys.modules[package]  # the caller's own package: imported already
    return module.__loader__.get_data(os.path.join(os.path.dirname(module.__file__), name))


_IMPORT = "from mambaboot."


def _as_itself(line: str) -> str:
    """`from mambaboot.X import a, b  # ...` -> `a = b = sys.modules[__name__]`: one module is all of
    them (indented as it was: an import inside a function, which only that function's callers pay for)."""
    names = line.split(" import ", 1)[1].split("#", 1)[0]
    indent = line[:len(line) - len(line.lstrip())]
    return indent + " = ".join(n.strip() for n in names.split(",")) + " = sys.modules[__name__]\n"


def standalone(header: str, modules) -> bytes:
    """One self-contained script from these (package, file name) sources, in order, each one's
    imports of the others pointed at the script itself: what runs with a python that has no
    mambaboot (the environment's own). The modules import nothing but the standard library
    besides each other, and none defines a name another uses otherwise."""
    parts = [f"# {header} (standard library only).\nimport sys\n".encode()]
    for package, name in modules:
        lines = read(package, name).decode("utf-8").splitlines(keepends=True)
        lines = [_as_itself(line) if line.lstrip().startswith(_IMPORT) else line for line in lines]
        where = package.replace(".", "/")
        parts.append(f"\n# ---- {where}/{name}\n".encode() + "".join(lines).encode("utf-8"))
    return b"".join(parts)
