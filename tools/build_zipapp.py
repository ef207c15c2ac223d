"""Build mambaboot.pyz, a single-file zipapp that any Python >= 3.9 runs:

    python3 tools/build_zipapp.py -o dist/mambaboot.pyz
    python dist/mambaboot.pyz create myenv --python 3.12

Reproducible: the same sources give the same bytes on any machine and any day. Entries are
sorted, every timestamp is 1980-01-01, permissions are fixed, nothing but the package's .py
files goes in (no __pycache__), and entries are stored uncompressed so that no zlib version
can change the output. Next to the archive goes OUT.sha256 (bare hex digest, as micromamba
releases publish theirs), for `bootstrap --zipapp URL`.
"""

import argparse
import hashlib
import os
import sys
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "mambaboot"
SHEBANG = b"#!/usr/bin/env python3\n"
MAIN = b"import sys\n\nfrom mambaboot.cli import main\n\nsys.exit(main())\n"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix, so the mode below means the same wherever the build runs
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def sources(package: Path = SOURCE):
    """(archive name, path) of every module, in a fixed order."""
    found = []
    for directory, dirnames, filenames in os.walk(package):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for filename in filenames:
            if filename.endswith(".py"):
                path = Path(directory, filename)
                found.append(("mambaboot/" + path.relative_to(package).as_posix(), path))
    return sorted(found)


def build(out: Path, package: Path = SOURCE) -> str:
    """Write the zipapp to out (atomically) and out.sha256; return the digest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(SHEBANG)
        with zipfile.ZipFile(f, "w") as archive:
            archive.writestr(_entry("__main__.py"), MAIN)
            for name, path in sources(package):
                archive.writestr(_entry(name), path.read_bytes())
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_name(out.name + ".sha256").write_text(digest, encoding="ascii")
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
