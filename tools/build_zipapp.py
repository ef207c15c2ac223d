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

Bundled libraries: the wheels pyproject.toml's [tool.mambaboot.bundled] names (ruamel.yaml), each
taken from build/wheels/ (tools/test.py puts it there; missing, it is fetched with pip download),
checked against the sha256 written there before a byte of it is used, and its .py files and
licence put in beside the package, compiled like ours. Nothing compiled goes in (ruamel's
cyaml.py, the door to its C parser, stays out): the archive runs on any CPython, Windows' too.
ruamel/ gets an empty __init__.py: zipimport finds no namespace package without a directory entry.

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
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "src" / "mambaboot"
WHEELS = REPO / "build" / "wheels"
LEFT_OUT = ("ruamel/yaml/cyaml.py",)  # imports the C parser, whose absence ruamel.yaml expects
SHEBANG = b"#!/usr/bin/env python3\n"
MAIN = b"from mambaboot.cli import entry\n\nentry()\n"
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


def pins(pyproject: Path = REPO / "pyproject.toml") -> list:
    """[(project, wheel file name, sha256)] of [tool.mambaboot.bundled], each the version that
    [project] dependencies pins (read without tomllib, which Python < 3.11 lacks)."""
    text = pyproject.read_text(encoding="utf-8")
    section = text.split("\n[tool.mambaboot.bundled]\n", 1)[1].split("\n[", 1)[0]
    found = re.findall(r'^"([^"]+)" = \{ wheel = "([^"]+)", sha256 = "([0-9a-f]{64})" \}$', section, re.M)
    dependencies = re.search(r"^dependencies = \[(.*)\]$", text, re.M).group(1)
    for project, wheel, _ in found:
        if f'"{project}=={wheel.split("-")[1]}"' not in dependencies:
            raise SystemExit(f"pyproject.toml: the bundled {wheel} is not the version dependencies pins")
    return found


def wheel(project: str, name: str, sha256: str, wheels: Path = WHEELS) -> bytes:
    """The wheel's bytes, checked against sha256 (fetched into wheels when it is not there yet)."""
    path = wheels / name
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "-d", str(wheels), f"{project}=={name.split('-')[1]}"], check=True)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{path}: its sha256 is {digest}, not the {sha256} pyproject.toml pins; not bundled")
    return data


def bundled(wheels: Path = WHEELS) -> list:
    """(archive name, bytes) of every bundled library's modules and licence, in a fixed order."""
    files = {}
    for project, name, sha256 in pins():
        with zipfile.ZipFile(io.BytesIO(wheel(project, name, sha256, wheels))) as archive:
            for info in archive.infolist():
                member, top = info.filename, info.filename.split("/")[0]
                if member.endswith(".py") and ".dist-info" not in top and member not in LEFT_OUT:
                    files[member] = archive.read(info)
                    files.setdefault(top + "/__init__.py", b"")
                elif ".dist-info/" in member and member.rsplit("/", 1)[-1].startswith(("LICENSE", "COPYING")):
                    files[f"{project.replace('.', '/')}/{member.rsplit('/', 1)[-1]}"] = archive.read(info)
    return sorted(files.items())


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


def build(out: Path, package: Path = SOURCE, wheels: Path = WHEELS) -> str:
    """Write the zipapp to out (atomically) and out.sha256 (`DIGEST  NAME`); return the digest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    files = ([("__main__.py", MAIN)] + [(name, path.read_bytes()) for name, path in sources(package)]
             + bundled(wheels))
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
