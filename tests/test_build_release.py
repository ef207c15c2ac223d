"""tools/build_release.py --release-url: the address a release's files are downloaded from,
written into each bootstrap script's copy by that script's quoting rules, and SHA256SUMS over
the copies as released. Each script's use of it runs in tests/test_bootstrap_sh.py and
tests/test_bootstrap_bat.py; PowerShell's reading of its line is checked by PowerShell's grammar."""

import hashlib
import re
import subprocess

import pytest

from tests.conftest import REPO
from tests.support import pwsh
from tools.build_release import RELEASE_LINES, SCRIPTS, ReleaseUrlError, build, stamp

URL = "https://example.org/owner/mambaboot/releases/download/v1.2.3"
# what a URL may hold that each quoting must keep as it is: $ ` & ! ; ( ) ^ and PowerShell's quote
AWKWARD = "https://example.org/a$b`c&d!e;f(g)^h'i/v1"


def _line(name: str, text: bytes) -> bytes:
    empty = RELEASE_LINES[name][0].split("=")[0].encode()
    (line,) = [x for x in text.splitlines() if x.startswith(empty + b"=") or x.startswith(empty + b" =")]
    return line


def _sh_value(line: bytes) -> str:
    return subprocess.run(["dash", "-c", line.decode() + '\nprintf %s "$mb_release"'], capture_output=True,
                          text=True, check=True).stdout


def _ps1_value(line: bytes) -> str:
    tree = pwsh.parse(line)
    (node,) = [n for n in pwsh.walk(tree.root) if n.type == "verbatim_string_characters"]
    return tree.source[node.start_byte + 1:node.end_byte - 1].decode().replace("''", "'")


def _bat_value(line: bytes) -> str:
    # set "NAME=VALUE": everything between the first = and the last " (ss64, SET), with
    # delayed expansion off; %% is the batch file's way of writing one %
    m = re.fullmatch(r'set "MB_RELEASE=(.*)"', line.decode())
    return m.group(1).replace("%%", "%")


def test_the_repositorys_scripts_name_no_release():
    for name in SCRIPTS:
        text = (REPO / "bootstrap" / name).read_bytes()
        assert _line(name, text).decode() == RELEASE_LINES[name][0], name


@pytest.mark.parametrize("url", [URL, URL + "/", "http://127.0.0.1:8080/rel", "file:///Z:/tmp/release"])
def test_each_copy_names_its_release_as_its_shell_reads_it_and_nothing_else_changes(url):
    expected = url.rstrip("/")
    for name, read in (("bootstrap.sh", _sh_value), ("bootstrap.ps1", _ps1_value), ("bootstrap.bat", _bat_value)):
        text = (REPO / "bootstrap" / name).read_bytes()
        stamped = stamp(name, text, url)
        assert read(_line(name, stamped)) == expected, name
        before, after = text.splitlines(keepends=True), stamped.splitlines(keepends=True)
        changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        assert len(before) == len(after) and len(changed) == 1, name
        assert after[changed[0]].endswith(b"\r\n") == before[changed[0]].endswith(b"\r\n"), "its line ending kept"


def test_powershells_quote_is_written_twice():
    text = (REPO / "bootstrap" / "bootstrap.ps1").read_bytes()
    line = _line("bootstrap.ps1", stamp("bootstrap.ps1", text, AWKWARD))
    assert _ps1_value(line) == AWKWARD
    pwsh.parse(stamp("bootstrap.ps1", text, AWKWARD))  # the whole script still parses


@pytest.mark.parametrize("name, url, says", [
    ("bootstrap.sh", AWKWARD, "holds '"),
    ("bootstrap.bat", URL + '/"x', 'holds "'),
    ("bootstrap.bat", URL + "/%PATH%", "holds %"),
    ("bootstrap.ps1", URL + "/a b", "printable ASCII without spaces"),
    ("bootstrap.ps1", URL + "/\u00e9", "printable ASCII without spaces"),
    ("bootstrap.sh", URL + "\n", "printable ASCII without spaces"),
    ("bootstrap.sh", "example.org/v1", "not an https:// URL"),
])
def test_a_url_a_scripts_quoting_cannot_hold_is_refused(name, url, says):
    with pytest.raises(ReleaseUrlError, match=re.escape(says)):
        stamp(name, (REPO / "bootstrap" / name).read_bytes(), url)


def test_a_refused_url_writes_nothing(tmp_path):
    with pytest.raises(ReleaseUrlError):
        build(tmp_path / "dist", release_url="no url")
    assert not (tmp_path / "dist").exists()
    made = subprocess.run(["python3", str(REPO / "tools" / "build_release.py"), "-o", str(tmp_path / "dist"),
                           "--release-url", URL + "/%x"], capture_output=True, text=True)
    assert made.returncode == 2 and "holds %" in made.stderr, made.stderr


def test_sha256sums_covers_the_copies_as_released(tmp_path):
    sums = build(tmp_path / "dist", release_url=URL)
    check = subprocess.run(["sha256sum", "-c", sums.name], cwd=sums.parent, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = dict(reversed(line.split("  ")) for line in sums.read_text().splitlines())
    for name in SCRIPTS:
        copy = (sums.parent / name).read_bytes()
        assert listed[name] == hashlib.sha256(copy).hexdigest() != hashlib.sha256(
            (REPO / "bootstrap" / name).read_bytes()).hexdigest()
        assert URL.encode() in copy


def test_cmd_reads_the_released_line_back_as_the_address(wine):
    """Wine's cmd, with delayed expansion off as bootstrap.bat runs: & ( ) ^ ! ' = stay plain
    inside set "...", so only " and % are refused."""
    url = "https://example.org/a$b`c&d!e;f(g)^h'i=j/v1"
    line = _line("bootstrap.bat", stamp("bootstrap.bat", (REPO / "bootstrap" / "bootstrap.bat").read_bytes(), url))
    code, out, err = wine.batch("release", ["@echo off", "setlocal EnableExtensions DisableDelayedExpansion",
                                            line.decode(), "set MB_RELEASE"])
    assert code == 0 and out.splitlines() == [f"MB_RELEASE={url}"] == [f"MB_RELEASE={_bat_value(line)}"], out + err
