"""Build mambaboot.pyz, a single-file zipapp that any Python >= 3.9 runs:

    python3 tools/build_zipapp.py -o dist/mambaboot.pyz
    python dist/mambaboot.pyz create myenv --python 3.12

Reproducible: the same sources built by the same Python version give the same bytes on any
machine and any day. Entries are sorted, every timestamp is 1980-01-01, permissions are fixed,
nothing but the package's .py files, their bytecode and its activation templates (the package
data pyproject.toml names) goes in (never a __pycache__), and
entries are stored uncompressed so that no zlib version can change the output. Next to the
archive goes OUT.sha256, one line `DIGEST  NAME` (sha256sum's format, the archive's base name), so
that `sha256sum -c mambaboot.pyz.sha256` checks it in the archive's directory; the bootstrap
scripts' `--zipapp URL` read the first word of URL.sha256, the digest.

Bytecode: zipimport never writes a cache, so without it every run compiles every module it
imports. Each NAME.py gets NAME.pyc beside it (where zipimport looks first), compiled by this
Python with py_compile's UNCHECKED_HASH mode (no timestamp in it, and zipimport loads it without
re-reading the source), with the archive name as the file name (no build path inside). Another
Python version sees another magic number, ignores the .pyc and compiles the .py as before.

Hash order: before 3.11 marshal writes a frozenset constant's items in hash order, and str
hashes are salted per process, so a set constant in a module made every build differ (CPython
folds `x in {"a", "b"}` and a set display of constants into one). So the sources hold none
(frozenset(("a", "b")) builds the set at import instead; tests/test_zipapp.py scans for them),
and the compiling child runs with PYTHONHASHSEED=0 all the same, for a set constant the scan
could miss. That child is not `-I`: isolated mode ignores PYTHONHASHSEED like every PYTHON*
variable; it gets an environment with no other PYTHON* variable, no site (-S, -s), and the
scratch directory as its working directory (its sys.path[0]), which holds only the numbered copies.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "mambaboot"
SHEBANG = b"#!/usr/bin/env python3\n"
MAIN = b"import sys\n\nfrom mambaboot.cli import main\n\nsys.exit(main())\n"
_EPOCH = (1980, 1, 1, 0, 0, 0)
# the activation script templates, read with pkgutil.get_data (pyproject.toml's package-data names the same)
DATA_SUFFIXES = (".sh", ".fish", ".bat", ".ps1")


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix, so the mode below means the same wherever the build runs
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def sources(package: Path = SOURCE):
    """(archive name, path) of every module and template, in a fixed order."""
    found = []
    for directory, dirnames, filenames in os.walk(package):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for filename in filenames:
            if filename.endswith((".py",) + DATA_SUFFIXES):
                path = Path(directory, filename)
                found.append(("mambaboot/" + path.relative_to(package).as_posix(), path))
    return sorted(found)


_COMPILE = """
import json, py_compile, sys
for name, source, target in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


def bytecode(files):
    """{archive name: .pyc bytes} for [(archive name, source bytes)], compiled as described above."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i, (name, data) in enumerate(files):
            source = Path(tmp, f"{i}.py")
            source.write_bytes(data)
            jobs.append((name, str(source), str(Path(tmp, f"{i}.pyc"))))
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PYTHON")}
        subprocess.run([sys.executable, "-S", "-s", "-c", _COMPILE], input=json.dumps(jobs), text=True, check=True,
                       env=dict(env, PYTHONHASHSEED="0"), cwd=tmp)
        return {name: Path(target).read_bytes() for name, _, target in jobs}


def checksum_line(digest: str, name: str) -> str:
    """One line of `sha256sum` output: the digest, two spaces (text mode) and the file's name."""
    return f"{digest}  {name}\n"


def build(out: Path, package: Path = SOURCE) -> str:
    """Write the zipapp to out (atomically) and out.sha256 (`DIGEST  NAME`); return the digest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    files = [("__main__.py", MAIN)] + [(name, path.read_bytes()) for name, path in sources(package)]
    compiled = bytecode([(name, data) for name, data in files if name.endswith(".py")])
    with open(tmp, "wb") as f:
        f.write(SHEBANG)
        with zipfile.ZipFile(f, "w") as archive:
            for name, data in files:
                archive.writestr(_entry(name), data)
                if name in compiled:
                    archive.writestr(_entry(name + "c"), compiled[name])
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_name(out.name + ".sha256").write_text(checksum_line(digest, out.name), encoding="ascii")
    return digest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the mambaboot.pyz zipapp (reproducibly).")
    parser.add_argument("-o", "--output", default="dist/mambaboot.pyz", help="where to write it (default: %(default)s)")
    args = parser.parse_args(argv)
    digest = build(Path(args.output))
    print(f"{args.output} sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
