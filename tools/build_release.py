"""Build the files a release ships into one directory (what .github/workflows/release.yml runs):

    python3 tools/build_release.py -o dist --release-url https://HOST/OWNER/REPO/releases/download/TAG

mambaboot.pyz (reproducible, with its .sha256 for `bootstrap --zipapp URL`), the three
bootstrap scripts, and SHA256SUMS over all of them; both checksum files are in the format
`sha256sum -c` reads ("<hex>  <name>", one per line), so each passes `sha256sum -c` in the
output directory.

--release-url is the address the release's files will be downloaded from. Each script's copy
gets it in its one release line (empty in the checkout: a script run from a checkout names no
release), so that the script alone, downloaded without mambaboot.pyz, fetches RELEASE/SHA256SUMS
and RELEASE/mambaboot.pyz and runs the zipapp only if its digest is the one SHA256SUMS gives.
The workflow is the one place that address is held; nothing here names a host. Without the
option the scripts are copied as they are in the checkout.
"""

import argparse
import hashlib
import sys
from pathlib import Path

try:
    from tools.build_zipapp import build as build_zipapp, checksum_line
except ImportError:  # run as a script: its own directory is sys.path[0]
    from build_zipapp import build as build_zipapp, checksum_line

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1")
FILES = ("mambaboot.pyz", "mambaboot.pyz.sha256", *SCRIPTS)


class ReleaseUrlError(ValueError):
    """A release address a script's quoting cannot hold, or no address at all."""


def _sh(url: str) -> str:
    if "'" in url:  # sh's single quotes hold every character but their own
        raise ReleaseUrlError(f"--release-url {url!r} holds ', which bootstrap.sh's single quotes cannot hold")
    return f"mb_release='{url}'"


def _bat(url: str) -> str:
    # Inside set "...": a " would end the value, and cmd expands % in a batch file's text
    # (a literal one would have to be doubled, and would be a variable again in any later CALL).
    for c in '"%':
        if c in url:
            raise ReleaseUrlError(f"--release-url {url!r} holds {c}, which bootstrap.bat's set \"...\" cannot hold")
    return f'set "MB_RELEASE={url}"'


def _ps1(url: str) -> str:
    # A single-quoted string holds every character; its own quote is written twice
    # (about_Quoting_Rules). The file is ASCII (see _check), so no curly quote counts as one.
    return "$Release = '" + url.replace("'", "''") + "'"


# The one line of each script that names its release: empty as the checkout holds it, and how a
# URL is written into it by that script's quoting rules.
RELEASE_LINES = {
    "bootstrap.sh": ("mb_release=", _sh),
    "bootstrap.bat": ('set "MB_RELEASE="', _bat),
    "bootstrap.ps1": ("$Release = ''", _ps1),
}


def check_release_url(url: str) -> str:
    """The URL without trailing slashes, or ReleaseUrlError: printable ASCII without spaces (a
    URL's characters, RFC 3986), and a scheme the scripts download from."""
    if not url or any(not ("!" <= c <= "~") for c in url):
        raise ReleaseUrlError(f"--release-url {url!r} must be printable ASCII without spaces")
    if not url.lower().startswith(("https://", "http://", "file://")):
        raise ReleaseUrlError(f"--release-url {url!r} is not an https:// URL")
    return url.rstrip("/")


def stamp(name: str, text: bytes, url: str) -> bytes:
    """The script's text with its release line naming url; its line ending kept."""
    empty, write = RELEASE_LINES[name]
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.rstrip(b"\r\n") == empty.encode("ascii")]
    if len(found) != 1:
        raise ReleaseUrlError(f"{name} holds {len(found)} empty release lines ({empty}), not one")
    line = lines[found[0]]
    ending = line[len(line.rstrip(b"\r\n")):]
    lines[found[0]] = write(check_release_url(url)).encode("ascii") + ending
    return b"".join(lines)


def build(out: Path, release_url: str = None) -> Path:
    """Write the release files into out; return the path of SHA256SUMS."""
    if release_url is not None:
        check_release_url(release_url)  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    build_zipapp(out / "mambaboot.pyz")
    for name in SCRIPTS:
        text = (REPO / "bootstrap" / name).read_bytes()
        if release_url is not None:
            text = stamp(name, text, release_url)
        (out / name).write_bytes(text)
    sums = out / "SHA256SUMS"
    sums.write_text("".join(checksum_line(hashlib.sha256((out / n).read_bytes()).hexdigest(), n) for n in FILES),
                    encoding="ascii")
    return sums


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the release files and their SHA256SUMS.")
    parser.add_argument("-o", "--output", default="dist", help="directory to write them to (default: %(default)s)")
    parser.add_argument("--release-url", metavar="URL",
                        help="the address the release's files are downloaded from, written into each bootstrap script")
    args = parser.parse_args(argv)
    try:
        sums = build(Path(args.output), args.release_url)
    except ReleaseUrlError as e:
        parser.error(str(e))
    sys.stdout.write(sums.read_text(encoding="ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
