"""Build the files a release ships into one directory (what .github/workflows/release.yml runs):

    python3 tools/build_release.py -o dist

mambaboot.pyz (reproducible, with its .sha256 for `bootstrap --zipapp URL`), the three
bootstrap scripts as they are in the checkout, and SHA256SUMS over all of them; both checksum
files are in the format `sha256sum -c` reads ("<hex>  <name>", one per line), so each passes
`sha256sum -c` in the output directory.
"""

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

try:
    from tools.build_zipapp import build as build_zipapp, checksum_line
except ImportError:  # run as a script: its own directory is sys.path[0]
    from build_zipapp import build as build_zipapp, checksum_line

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1")
FILES = ("mambaboot.pyz", "mambaboot.pyz.sha256", *SCRIPTS)


def build(out: Path) -> Path:
    """Write the release files into out; return the path of SHA256SUMS."""
    out.mkdir(parents=True, exist_ok=True)
    build_zipapp(out / "mambaboot.pyz")
    for name in SCRIPTS:
        shutil.copyfile(REPO / "bootstrap" / name, out / name)
    sums = out / "SHA256SUMS"
    sums.write_text("".join(checksum_line(hashlib.sha256((out / n).read_bytes()).hexdigest(), n) for n in FILES),
                    encoding="ascii")
    return sums


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the release files and their SHA256SUMS.")
    parser.add_argument("-o", "--output", default="dist", help="directory to write them to (default: %(default)s)")
    sums = build(Path(parser.parse_args(argv).output))
    sys.stdout.write(sums.read_text(encoding="ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
