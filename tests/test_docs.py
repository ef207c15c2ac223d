"""Every command example in docs/ is executed here, so the docs cannot drift (the README's
try-out runs in tests/test_readme.py, exactly as written, with nothing prepared for it).

Markers (an HTML comment on the line before a fenced block):
- `<!-- runnable -->`, `<!-- runnable: exit=N -->` before a ```sh block: it runs in bash with
  `set -eu` in a fresh world, in document order, so later examples use what earlier ones made.
  Offline: MAMBABOOT_CHANNELS / MAMBABOOT_MICROMAMBA (documented variables) name the local test
  channel and the micromamba stand-in; the working directory holds `channel/`, `micromamba`, and
  `dist/` (the bootstrap scripts with mambaboot.pyz beside them, as a release ships them).
- `<!-- runnable: wine -->`, `<!-- runnable: wine exit=N -->` before a ```bat block: it runs in
  Wine's cmd, where D:\\dev\\Anaconda\\envs\\py_3_12 is a Windows-layout environment mambaboot
  made portable (see WINE_PREFIX_DOC), D:\\dev\\Anaconda\\envs\\my_env_3_12 one with
  micromamba's own scripts (GUIDE_PREFIX_DOC), and D:\\CACHE\\micromamba\\micromamba.exe a
  micromamba that answers `shell hook --shell cmd.exe --root-prefix ROOT` and the activation its
  scripts ask for (tests/support/winenv.py); like `set -e`, a top-level line that leaves
  ERRORLEVEL set ends the block.
- `<!-- runnable: wine prompt -->` before a ```bat block: its lines are typed at cmd's prompt, as
  a reader pastes them (an undefined %NAME% stays as typed, %% is no escape, cmd goes on after a
  failing line); the exit code is the last line's.
- `<!-- runnable: wine as=D:\\PATH\\NAME.bat -->` before a ```bat block: the block is saved as that
  file, so that %~dp0 is where the page says it lives, and called from a batch file.
- `<!-- runnable: wine python -->` before a ```bat block: it starts Python (or works on the
  environment such a block made, in document order), so it runs in Wine's cmd on the real Windows
  CPython (tests/support/winpython.py: an environment of that CPython, an
  engine stand-in that runs as a Windows program), not in the world above: the guide's by
  tests/test_windows_python.py::test_the_guide_s_python_recipes_run_on_the_windows_python, the
  install page's Windows try-out by ::test_the_windows_tryout_runs_as_written. An `<!-- output -->`
  after one is how its standard output ends (an engine's report before that is the stand-in's).
- `<!-- output -->` before a ```text block: the exact standard output of the block before it.
- `<!-- json-shape: FILE -->` before a ```json block: the keys (at every level) of the JSON an
  earlier block wrote to FILE.
- `<!-- quoted: NAME.bat lines N-M, SOURCE -->` before a ```bat block: lines quoted from someone
  else's script (the field notes' own), shown as they are written there, not a block to run.
- `<!-- sample: SOURCE -->` before a ```text block: what a program prints on Windows, derived from
  the upstream source it names (file and lines), where no run here can show it (a random file
  name, the reader's own PATH); a test checks its form against the facts of that source.
- `<!-- windows-ci: REASON -->` before a ```bat or ```powershell block: not run here, for the
  reason given (Wine has no PowerShell; the command downloads); the same commands run on a real
  Windows runner in .github/workflows/e2e.yml. Every ```powershell block is still parsed and
  checked for Windows PowerShell 5.1 syntax.
In docs/ every sh, bat, powershell and json block must carry one of these.
"""

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Optional
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import pytest

from mambaboot.common import isolation
from tests.conftest import MAMBABOOT, REPO
from tools.build_release import build as build_release

MARKER = re.compile(r"^<!-- (?P<body>runnable(?:: ?(?P<wine>wine)?(?: (?P<prompt>prompt)| (?P<python>python)| as=(?P<saved>\S+))?"
                    r"(?: ?exit=(?P<exit>\d+))?)?|output|"
                    r"json-shape: (?P<file>\S+)|windows-ci(?:: (?P<reason>\S.*?))?|quoted: (?P<source>\S.*?)|"
                    r"sample: (?P<derived>\S.*?)) -->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
# Which block languages each marker may precede.
ALLOWED = {"bash": ("sh", "bash"), "wine": ("bat",), "wine python": ("bat",), "output": ("text",), "json-shape": ("json",),
           "windows-ci": ("bat", "powershell"), "quoted": ("bat",), "sample": ("text",)}
MUST_BE_MARKED = ("sh", "bash", "console", "bat", "powershell", "json")
GUIDE = REPO / "docs" / "guide.md"
REFERENCE = REPO / "docs" / "reference.md"
# The Windows-layout environment the wine blocks see (tests/support/winenv.py writes it).
WINE_PREFIX_DOC = "D:\\dev\\Anaconda\\envs\\py_3_12"
# The field guide's one environment, made by hand (Micromamba_bootstrap.bat my_env 3.12): the wine
# blocks see it with micromamba's unpatched scripts (see windows_env).
GUIDE_PREFIX_DOC = "D:\\dev\\Anaconda\\envs\\my_env_3_12"


@dataclass(frozen=True)
class Block:
    kind: Optional[str]  # bash, wine, output, json-shape, windows-ci; None: not marked
    lang: str
    code: str
    line: int  # of the opening fence, 1-based
    exit: int = 0
    file: Optional[str] = None
    reason: Optional[str] = None  # why a windows-ci block cannot run here; where a quoted one is from
    prompt: bool = False  # wine: typed at cmd's prompt, not run as a batch file
    saved: Optional[str] = None  # wine: saved as this Windows path and called from there


def blocks(text: str) -> List[Block]:
    """Every fenced block, in order, with the marker before it (if any)."""
    lines = text.splitlines()
    found, pending = [], None
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()  # blocks may be indented inside a list item
        m = MARKER.match(line)
        if m:
            body = m.group("body")
            kind = ((("wine python" if m.group("python") else "wine") if m.group("wine") else "bash")
                    if body.startswith("runnable") else body.split(":")[0])
            pending = (kind, int(m.group("exit") or 0), m.group("file"), i + 1,
                       m.group("reason") or m.group("source") or m.group("derived"), bool(m.group("prompt")), m.group("saved"))
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            indent = len(lines[i]) - len(line)
            k = i + 1
            while not lines[k].lstrip().startswith("```"):
                k += 1
            code = "\n".join(text_line[indent:] for text_line in lines[i + 1:k])
            kind, expected, file, reason, prompt, saved = (
                (pending[0], pending[1], pending[2], pending[4], pending[5], pending[6]) if pending
                else (None, 0, None, None, False, None))
            found.append(Block(kind, fence.group(1), code, i + 1, expected, file, reason, prompt, saved))
            pending = None
            i = k + 1
            continue
        assert pending is None or not lines[i].strip(), f"line {pending[3]}: marker not followed by a fenced block"
        i += 1
    assert pending is None, f"line {pending[3]}: marker at the end of the file"
    return found


def runnable_blocks(text: str):
    """(expected exit code, code, line number) of each bash block, in order."""
    return [(b.exit, b.code, b.line) for b in blocks(text) if b.kind == "bash"]


# A line a user types at a Windows prompt: a program by its drive path, or a cmd built-in with its arguments.
WINDOWS_COMMAND = re.compile(r"^\s*(?:[A-Za-z]:\\\S*\.(?:exe|bat|cmd|ps1)\b|(?:call|mkdir|cd /d|set|copy|del|rmdir) \S)", re.I)
PAGES = sorted((REPO / "docs").glob("*.md"))
DOCS = [REPO / "README.md", *PAGES]


def test_marker_parser():
    text = ("x\n<!-- runnable -->\n```sh\necho a\n```\n<!-- output -->\n```text\na\n```\n"
            "<!-- runnable: exit=4 -->\n\n```sh\nfalse\n```\n```sh\nnot marked\n```\n"
            "<!-- runnable: wine exit=1 -->\n```bat\nexit /b 1\n```\n<!-- json-shape: x.json -->\n```json\n{}\n```\n")
    assert runnable_blocks(text) == [(0, "echo a", 3), (4, "false", 12)]
    assert [(b.kind, b.lang, b.exit, b.file) for b in blocks(text)] == [
        ("bash", "sh", 0, None), ("output", "text", 0, None), ("bash", "sh", 4, None), (None, "sh", 0, None),
        ("wine", "bat", 1, None), ("json-shape", "json", 0, "x.json")]
    typed = blocks("<!-- runnable: wine prompt -->\n```bat\nver\n```\n<!-- runnable: wine as=D:\\x\\y.bat exit=2 -->\n"
                   "```bat\nexit /b 2\n```\n")
    assert [(b.kind, b.prompt, b.saved, b.exit) for b in typed] == [("wine", True, None, 0), ("wine", False, "D:\\x\\y.bat", 2)]
    assert [b.kind for b in blocks("<!-- runnable: wine python -->\n```bat\npython -V\n```\n")] == ["wine python"]
    ci = blocks("<!-- windows-ci: Wine has no PowerShell -->\n```powershell\nx\n```\n<!-- windows-ci -->\n```bat\ny\n```\n")
    assert [(b.kind, b.reason) for b in ci] == [("windows-ci", "Wine has no PowerShell"), ("windows-ci", None)]
    derived = blocks("<!-- sample: x.cpp lines 1-2, y 2.8.1 -->\n```text\nC:\\t\\a.bat\n```\n")
    assert [(b.kind, b.lang, b.reason) for b in derived] == [("sample", "text", "x.cpp lines 1-2, y 2.8.1")]
    with pytest.raises(AssertionError, match="line 1: marker not followed"):
        blocks("<!-- runnable -->\nprose\n```sh\ntrue\n```\n")
    assert blocks("1. step\n\n   <!-- runnable: wine -->\n   ```bat\n   ver\n   ```\n") == [Block("wine", "bat", "ver", 4)]


@pytest.mark.parametrize("doc", sorted((REPO / "docs").glob("*.md")), ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_in_docs_is_run_or_says_where_it_is(doc):
    """A command shown in docs/ is run by this file (bash here, cmd in Wine), or declared as one
    only a real Windows runner can run; a JSON shape shown is checked against the real output."""
    previous = None
    for b in blocks(doc.read_text()):
        where = f"{doc.name}:{b.line}"
        if b.kind is None:
            assert b.lang not in MUST_BE_MARKED, f"{where}: a ```{b.lang} block needs a marker (see tests/test_docs.py)"
        else:
            assert b.lang in ALLOWED[b.kind], f"{where}: <!-- {b.kind} --> cannot mark a ```{b.lang} block"
        if b.kind == "output":
            assert previous is not None and previous.kind in ("bash", "wine", "wine python"), f"{where}: output of what?"
        if b.kind == "wine python":  # its runners read these two pages only
            assert doc.name in ("guide.md", "install.md"), f"{where}: no test runs <!-- runnable: wine python --> here"
        if b.kind == "windows-ci":
            assert b.reason, f"{where}: say why Wine's cmd cannot run it: <!-- windows-ci: REASON -->"
        if b.kind == "quoted":
            assert re.search(r"\.bat lines \d+-\d+, \S", b.reason or ""), \
                f"{where}: say whose script and which lines: <!-- quoted: NAME.bat lines N-M, SOURCE -->"
        if b.kind == "sample":
            assert re.search(r"\.(?:cpp|hpp|py|bat) lines \d+", b.reason or ""), \
                f"{where}: say which source it is derived from: <!-- sample: FILE lines N-M, ... -->"
        if b.kind is None and b.lang == "text":
            command = next((ln for ln in b.code.splitlines() if WINDOWS_COMMAND.match(ln)), None)
            assert command is None, f"{where}: a Windows command in a ```text block ({command!r}): make it a ```bat or ```powershell block"
        previous = b


EXCERPT = re.compile(r"an excerpt of (\S+?\.(?:bat|ps1))\b")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_an_excerpt_of_a_script_is_the_script_s_own_text(doc):
    """A block shown as an excerpt of a bootstrap script is a run of that script's lines, as they
    are now: an excerpt that drifts from the script it quotes shows the reader code that is not
    there."""
    for b in blocks(doc.read_text()):
        m = EXCERPT.search(b.reason or "")
        if not m:
            continue
        script = (REPO / "bootstrap" / m.group(1)).read_text().replace("\r\n", "\n")
        assert "\n" + b.code.strip("\n") + "\n" in "\n" + script, \
            f"{doc.name}:{b.line}: not the text of bootstrap/{m.group(1)} as it is now"


INLINE_POWERSHELL = re.compile(r"`([.&] [^`]*\.ps1[^`]*)`")


def test_the_windows_powershell_check_refuses_what_5_1_cannot_run():
    from tests.support import pwsh

    assert pwsh.windows_powershell_problems("& 'C:\\a b\\x.ps1' -y\nif ($LASTEXITCODE) { exit 1 }") == []
    for bad in (". C:\\envs\\py\\.mambaboot\\activate.ps1", "mambaboot create x && mambaboot list", "a || b",
                "$v = $x ? 1 : 2", "$v = $x ?? 2", "powershell -File .\\bootstrap.ps1 py '3.12'"):
        assert pwsh.windows_powershell_problems(bad), bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_powershell_line_shown_runs_in_windows_powershell_5_1(doc):
    """Each ```powershell block, and each inline `. X.ps1` / `& X.ps1`, parses with the real
    grammar, uses no PowerShell 7 syntax and quotes its paths."""
    from tests.support import pwsh

    text = doc.read_text(encoding="utf-8")
    shown = [(b.line, b.code) for b in blocks(text) if b.lang == "powershell"]
    shown += [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in INLINE_POWERSHELL.finditer(text)]
    found = [f"{doc.name}:{line}: {p}" for line, code in shown for p in pwsh.windows_powershell_problems(code)]
    assert not found, "\n".join(found)


# -- running the examples -------------------------------------------------------------------


def _wine_script(code: str, expected: int) -> List[str]:
    """The block as a batch file; for a block expected to succeed, any top-level line that
    leaves ERRORLEVEL set ends it with that code (cmd's own `set -e` does not exist)."""
    lines = ["@echo off"]
    depth = 0
    for line in code.splitlines():
        lines.append(line)
        text = line.strip()
        depth += text.endswith("(") - text.startswith(")")
        if expected == 0 and depth == 0 and text and not text.lower().startswith(("@echo", "rem ", "::", ":", "exit")):
            lines.append("@if errorlevel 1 exit /b %errorlevel%")
    return lines


@pytest.fixture
def windows_env(request, tmp_path):
    """Wine's cmd with drive D: holding a Windows-layout environment that mambaboot has made
    portable (activation scripts written, micromamba's scripts patched), as `create` leaves it."""
    from mambaboot.pipeline import finish
    from tests.support import winenv
    from tests.support.wine import windows_path

    wine = request.getfixturevalue("wine")
    drive = tmp_path / "drive-d"
    prefix = drive.joinpath(*WINE_PREFIX_DOC.split("\\")[1:])
    winenv.build(prefix, tmp_path / "stub", "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe")
    finish.portable(str(prefix), True, written=[windows_path(prefix)])
    # the guide's environment, made by hand: micromamba's scripts with its absolute D: path in them,
    # as the mamba package links them, until the guide's own patch makes them relative
    winenv.build(drive.joinpath(*GUIDE_PREFIX_DOC.split("\\")[1:]), tmp_path / "stub",
                 "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe", seen_as=GUIDE_PREFIX_DOC)
    # the guide's by-hand micromamba: `shell hook --shell cmd.exe` writes what 2.8.1's writes
    winenv.hook_micromamba(drive / "CACHE" / "micromamba" / "micromamba.exe", "D:\\CACHE\\micromamba\\micromamba.exe",
                           tmp_path / "stub")
    link = wine.prefix / "dosdevices" / "d:"
    old = os.readlink(link) if link.is_symlink() else None
    if old is not None:
        link.unlink()
    link.symlink_to(drive)
    wine.drives["D"] = drive
    yield wine
    del wine.drives["D"]
    link.unlink()
    if old is not None:
        link.symlink_to(old)


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None  # any scalar; null matches anything


def _shape_mismatch(documented, actual, where="$") -> Optional[str]:
    if documented is None or actual is None:
        return None
    if isinstance(documented, dict) and isinstance(actual, dict):
        if set(documented) != set(actual):
            return f"{where}: documented keys {sorted(documented)}, real {sorted(actual)}"
        return next((m for k in documented for m in [_shape_mismatch(documented[k], actual[k], f"{where}.{k}")] if m), None)
    if isinstance(documented, list) and isinstance(actual, list):
        return _shape_mismatch(documented[0], actual[0], f"{where}[0]") if documented and actual else None
    return f"{where}: documented {type(documented).__name__}, real {type(actual).__name__}"


@pytest.mark.parametrize("doc", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_documented_examples_run(doc, world, team_channel, standin, request):
    channel = team_channel  # the guide's team recipe locks for win-64 and osx-arm64 too
    found = blocks(doc.read_text())
    bindir = world.root / "bin"
    bindir.mkdir()
    shim = bindir / "mambaboot"
    launcher = " ".join(shlex.quote(a) for a in MAMBABOOT)
    shim.write_text(f'#!/bin/sh\nexec {launcher} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    work = world.envs
    (work / "channel").symlink_to(url2pathname(urlsplit(channel).path))
    (work / "micromamba").symlink_to(standin)
    build_release(work / "dist")
    # a clean shell: no other Python environment on PATH (a developer's venv would be one)
    path = isolation.clean_path(world.env["PATH"], windows=False)
    env = {**world.env, "PATH": f"{bindir}{os.pathsep}{path}",
           "MAMBABOOT_CHANNELS": channel, "MAMBABOOT_MICROMAMBA": str(standin)}
    wine = request.getfixturevalue("windows_env") if any(b.kind == "wine" for b in found) else None
    last_out = None
    for b in found:
        where = f"{doc.name}:{b.line}"
        if b.kind == "bash":
            proc = subprocess.run(["bash", "-c", "set -eu\n" + b.code], env=env, cwd=str(work),
                                  capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
            assert proc.returncode == b.exit, f"{where}: exit {proc.returncode}\n{b.code}\n{proc.stderr}"
            last_out = proc.stdout
        elif b.kind == "wine" and b.prompt:
            # typed at the prompt, as a reader pastes it: %% is no escape there, and cmd goes on
            # after a failing line, so the exit code is the last line's
            run = wine.typed(b.code.splitlines() + ["exit %errorlevel%"], cwd=wine.workdir)
            assert run.returncode == b.exit, f"{where}: exit {run.returncode}\n{b.code}\n{run.stdout}\n{run.stderr}"
            last_out = run.stdout
        elif b.kind == "wine":
            if b.saved:
                # saved where the page says, so that %~dp0 is that place, and called from a batch file
                saved = wine.unix(b.saved)
                saved.parent.mkdir(parents=True, exist_ok=True)
                saved.write_bytes(("\r\n".join(b.code.splitlines()) + "\r\n").encode())
                code, out, err = wine.batch("doc", ["@echo off", f'call "{b.saved}"', "exit /b %errorlevel%"])
                saved.unlink()
            else:
                code, out, err = wine.batch("doc", _wine_script(b.code, b.exit))
            assert code == b.exit, f"{where}: exit {code}\n{b.code}\n{out}\n{err}"
            last_out = out
        elif b.kind == "wine python":
            last_out = None  # run, and its output checked, on the Windows CPython (see the docstring)
        elif b.kind == "output" and last_out is not None:
            assert last_out.strip("\n") == b.code.strip("\n"), f"{where}: the block before printed\n{last_out}"
        elif b.kind == "json-shape":
            actual = json.loads((work / b.file).read_text())
            problem = _shape_mismatch(_shape(json.loads(b.code)), _shape(actual))
            assert problem is None, f"{where}: {b.file}: {problem}\nreal output:\n{json.dumps(actual, indent=2)}"


README_BUILD = re.compile(r"python3? (tools/build_(?:zipapp|release)\.py -o \S+?)(?=[`\s])")


def test_the_readme_check_passes_right_after_each_build_the_readme_shows(tmp_path):
    """The install page's "Check a download" block, run where each build command the README and
    that page show leaves its files (a fresh directory each), with nothing else done between: what
    a user who builds the zipapp or the release and then checks it does."""
    install = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    check = [b for b in blocks(_section(install, re.compile(r"^#+ Check a download"))) if b.kind == "bash"]
    assert len(check) == 1, "the check block"
    builds = sorted(set(README_BUILD.findall(readme + install)))
    assert builds, "the README shows how the files it checks are built"
    for n, build in enumerate(builds):
        work = tmp_path / str(n)
        work.mkdir()
        script, *args = shlex.split(build)
        made = subprocess.run([sys.executable, str(REPO / script), *args], cwd=str(work), capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        proc = subprocess.run(["bash", "-c", "set -eu\n" + check[0].code], cwd=str(work), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"after `{build}`: the check block failed\n{check[0].code}\n{proc.stdout}{proc.stderr}"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _headings(page) -> set:
    """The anchors of a page's headings (lines starting with # outside fenced blocks)."""
    found, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif line.startswith("#") and not fenced:
            found.add(_slug(line))
    return found


LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
SECTION_REF = re.compile(r"§(\d+(?:\.\d+)?)")


def _prose_lines(text: str):
    """(line number, line) of the lines outside fenced blocks."""
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield n, line


def _unlinked_section_refs(doc) -> List[str]:
    """Each § reference that is not the text of a link to a heading of that number."""
    bad = []
    for n, line in _prose_lines(doc.read_text(encoding="utf-8")):
        for text, target in LINK.findall(line):
            anchor = target.partition("#")[2]
            for number in SECTION_REF.findall(text):
                if not anchor.startswith(number.replace(".", "") + "-"):
                    bad.append(f"{doc.name}:{n}: §{number} links to #{anchor}")
        for number in SECTION_REF.findall(LINK.sub("", line)):
            bad.append(f"{doc.name}:{n}: §{number} is not a link")
    return bad


def test_the_section_reference_check_sees_what_it_must(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("## 2. Two\n\nsee [§2](#2-two), [guide §3.1](guide.md#31-x) and §4\n"
                    "and [§5.2](#21-wrong)\n```text\n§9 in a block\n```\n")
    assert _unlinked_section_refs(page) == ["page.md:3: §4 is not a link", "page.md:4: §5.2 links to #21-wrong"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_cross_references_lead_somewhere(doc):
    """Every link to a file of this repository leads to one, and its #anchor to a heading there;
    every § reference is a link to the section of that number."""
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto: ...
        path, _, anchor = target.partition("#")
        page = (doc.parent / path).resolve() if path else doc
        if path and REPO not in page.parents:
            # above the repository: GitHub resolves it from the page's own address, .../blob/BRANCH/PAGE;
            # only its releases are meant (the README's download needs no owner)
            shown = urljoin(f"https://github.com/OWNER/REPO/blob/main/{doc.relative_to(REPO).as_posix()}", target)
            assert shown.startswith("https://github.com/OWNER/REPO/releases/"), f"{doc.name}: link to {target} leads to {shown}"
            continue
        assert page.exists(), f"{doc.name}: link to {target}: no such file"
        if anchor:
            assert anchor in _headings(page), f"{doc.name}: link to {target}, which is no heading"
    assert _unlinked_section_refs(doc) == []


def _powershell_problem(code: str) -> Optional[str]:
    """Why code is not Windows PowerShell 5.1 (parsed with the real grammar; pipeline chains,
    `&&` and `||`, exist only from PowerShell 7), or None."""
    from tests.support import pwsh

    try:
        tree = pwsh.parse(code.encode("utf-8"))
    except AssertionError as exc:
        return str(exc)
    text = pwsh.code_only(tree)
    return "&& or || needs PowerShell 7" if "&&" in text or "||" in text else None


def test_the_powershell_check_sees_what_it_must():
    assert _powershell_problem(". 'D:\\envs\\py\\.mambaboot\\activate.ps1'\npython -V") is None
    assert _powershell_problem("python -V; if ($LASTEXITCODE) { exit 1 }") is None
    assert _powershell_problem("python -V && mamba --version") == "&& or || needs PowerShell 7"
    assert _powershell_problem("Write-Output '&& in a string is text'") is None
    assert "does not parse" in _powershell_problem("if (")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_powershell_block_parses_as_windows_powershell(doc):
    """A PowerShell example must be PowerShell: parsed with the real grammar, in Windows
    PowerShell 5.1's syntax."""
    for b in blocks(doc.read_text(encoding="utf-8")):
        if b.lang == "powershell":
            problem = _powershell_problem(b.code)
            assert problem is None, f"{doc.name}:{b.line}: {problem}"


# -- the command reference is complete --------------------------------------------------------


def _section(text: str, heading: re.Pattern) -> str:
    """The text from a heading matching `heading` to the next heading of the same or a higher level."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if heading.match(line))
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level), len(lines))
    return "\n".join(lines[start:end])


def _commands():
    from mambaboot.cli import _parser

    sub = next(a for a in _parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


def test_the_reference_names_every_command_and_every_option():
    reference = _section(REFERENCE.read_text(), re.compile(r"^## 3\. Commands"))
    for name, parser in _commands().items():
        text = _section(reference, re.compile(rf"^### 3\.\d+ `mambaboot {re.escape(name)}`"))
        for action in parser._actions:
            for option in action.option_strings:
                if option in ("-h", "--help"):
                    continue
                assert re.search(rf"`{re.escape(option)}[` =]", text), f"mambaboot {name}: {option} is not documented"


def test_the_reference_lists_every_exit_code_and_environment_variable():
    from mambaboot.common.errors import EXIT_CODES

    reference = _section(REFERENCE.read_text(), re.compile(r"^## 3\. Commands"))
    codes = _section(reference, re.compile(r"^### 3\.\d+ Exit codes"))
    for code, _ in EXIT_CODES + ((143, ""),):
        assert re.search(rf"^\| {code}\b", codes, re.M), f"exit code {code} is missing"
    variables = _section(reference, re.compile(r"^### 3\.\d+ Environment variables"))
    source = "\n".join(p.read_text() for p in (REPO / "src" / "mambaboot").rglob("*.py"))
    read = set(re.findall(r"(?<![A-Za-z0-9_])MAMBABOOT_[A-Z_]+", source)) | {"PY_ENVS", "CONDA_PKGS_DIRS"}
    for name in sorted(read):
        assert f"`{name}`" in variables, f"{name} is read by mambaboot but not documented"


def test_the_reference_states_the_download_bounds_the_code_has():
    """The defaults the reference gives for each download setting are the code's own."""
    from mambaboot.engine.download import MAX_ATTEMPTS, MAX_BYTES, MAX_SECONDS, Policy

    reference = " ".join(REFERENCE.read_text().split())
    p = Policy()
    for said in (f"| `MAMBABOOT_HTTP_TIMEOUT` | seconds per network operation (default {p.timeout:g}) |",
                 f"| `MAMBABOOT_HTTP_ATTEMPTS` | attempts per download (default {p.attempts}, at most {MAX_ATTEMPTS}) |",
                 f"| `MAMBABOOT_HTTP_BACKOFF` | seconds before the second attempt, doubling after, never past the "
                 f"deadline (default {p.backoff:g}) |",
                 "| `MAMBABOOT_HTTP_DEADLINE` | seconds a whole download may take, its retries included, from resolving "
                 "the host and connecting through the status line and headers to the body's last byte (default "
                 f"{p.deadline:g}) |",
                 f"(defaults {p.min_rate:g} and {p.rate_time:g}; a rate of 0: no check) |",
                 f"| `MAMBABOOT_HTTP_MAX_BYTES` | the longest body a download may have (default {p.max_bytes}, "
                 f"{p.max_bytes >> 20} MiB; at most {MAX_BYTES}, {MAX_BYTES >> 40} TiB) |",
                 f"setting in seconds is a number from 0 to {MAX_SECONDS} (a day)",
                 f"retried with doubling backoff, {p.attempts} attempts in all",
                 f"when it has taken longer than {p.deadline:g} seconds, retries included",
                 f"when a body arrives slower than {p.min_rate:g} bytes a second over {p.rate_time:g} seconds",
                 f"longer than {p.max_bytes} bytes ({p.max_bytes >> 20} MiB, `MAMBABOOT_HTTP_MAX_BYTES`)"):
        assert said in reference, said


def test_the_reference_states_the_input_bounds_the_code_has():
    """The environment file's limits, as the code has them."""
    from mambaboot.common import untrusted
    from mambaboot.pipeline import envfile

    reference = " ".join(REFERENCE.read_text().split())
    for said in (f"a file bigger than {untrusted.ENV_FILE >> 20} MiB, or with more than {envfile.MAX_UNKNOWN_KEYS} "
                 "keys conda does not know, is no environment file",):
        assert said in reference, said


def test_every_upstream_behaviour_names_tests_that_exist():
    """Reference §5: each behaviour relied on from upstream names the tests that fail when we get it
    wrong (or says why none runs here); a renamed or deleted test must not leave the row naming it."""
    section = _section(REFERENCE.read_text(encoding="utf-8"), re.compile(r"^## 5\. Upstream behaviours"))
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| behaviour")]
    assert len(rows) >= 10, "the table was not read"
    sources = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("*.py")}
    everywhere = "\n".join(sources.values())
    for row in rows:
        column = row.rstrip(" |").rsplit(" | ", 1)[-1]
        named = re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)`", column)
        assert named or "not exercised here" in column, f"names no test: {row[:120]}"
        for file, name in named:
            text = sources.get(file, "") if file else everywhere
            assert re.search(rf"^\s*def {name}\(", text, re.M), f"reference §5 names {file or ''}::{name}, which does not exist"


# -- the field guide keeps the field notes' facts -------------------------------------------------

# Commands, messages, registry values, names and statements as the field notes have them, word
# for word: the guide is their rewrite, so each must be findable in it as the notes wrote it.
FIELD_NOTES = (
    "Micromamba_bootstrap.bat my_env 3.12",
    'micromamba.exe create -p "%ENV_PREFIX%" python=3.12 mamba conda',
    'call "%ENV_PREFIX%\\condabin\\mamba.bat" activate',
    "mamba install numpy scipy",
    "DRIVE:\\path\\to\\envs\\my_env_3_12",
    "micromamba.exe activate <PREFIX>",
    "micromamba.exe activate --help",
    "critical libmamba Shell not initialized",
    "'micromamba' is running as a subprocess and can't modify the parent shell.",
    "Thus you must initialize your shell before using activate and deactivate.",
    '$ eval "$(micromamba.exe shell hook --shell )"',
    "To automatically initialize all future () shells, run:",
    "$ micromamba shell init --shell  --root-prefix=~/.local/share/mamba",
    "$ micromamba shell reinit --shell",
    "Otherwise, this may be an issue. In the meantime you can run commands. See:",
    "$ micromamba run --help",
    "Supported shells are {bash, zsh, csh, posix, xonsh, cmd.exe, powershell, fish, nu}.",
    "micromamba shell init --shell {SUPPORTED_SHELL} --root-prefix=~/.local/share/mamba",
    "micromamba shell init --shell cmd.exe --root-prefix=~/.local/share/mamba",
    "micromamba shell hook --shell cmd.exe --root-prefix={PREFIX}",
    "micromamba shell activate --shell cmd.exe -p {PREFIX}",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\FileSystem]",
    '"LongPathsEnabled"=dword:00000001',
    "[HKEY_CURRENT_USER\\SOFTWARE\\Microsoft\\Command Processor]",
    '"AutoRun"="G:\\dev\\Anaconda\\envs\\py\\condabin\\mamba_hook.bat"',
    "regedit.exe",
    "reg.exe",
    "{PREFIX}\\Scripts",
    "{PREFIX}\\condabin",
    "{env_root}/condabin",
    "{env_root}\\Scripts",
    "{env_root}\\Library\\bin",
    "mamba_hook.bat",
    "get_sed.bat",
    "install.bat",
    "install.ps1",
    "MAMBA_ROOT_PREFIX",
    "MAMBA_EXE",
    "is determined by *Path* order and *Path* resolution protocol",
    "While Linux distros commonly have a system Python installed, Windows does not.",
    "Micromamba is a subproject of the Mamba project.",
    "provides virtually no guidance",
    "this directory generally houses executables of installed package managers (conda, mamba, pip, wheel, etc.)",
    "no global variables or registry entries are modified",
    "uses only `cmd.exe` batch syntax - no PowerShell dependency",
    "environment can be reproduced entirely from script and version specifications",
    "No Python environment switching in spawn child shells.",
    "At most one environment per shell",
    "fail rather loudly",
    "Define essential variables manually.",
    "Micromamba is an excellent bootstrapper but an unreliable manager.",
    "transparent environment construction, deterministic behavior, and compatibility with standard Python tools",
    "easy to manage, version, and share",
    "shell hook logic and implicit state persistence",
    "once to bootstrap a self-contained environment",
    "https://github.com/mamba-org/micromamba-releases",
    "https://mamba.readthedocs.io/en/latest/installation/micromamba-installation.html",
    "https://github.com/mamba-org/mamba",
    "https://github.com/pchemguy/Field-Notes/tree/main/03-python-env-windows",
)


# The guide's budget: a new fact takes the place of words, not more of them.
GUIDE_BUDGET = (1193, 8299)  # lines, words


def test_the_guide_grows_no_longer():
    text = GUIDE.read_text(encoding="utf-8")
    size = (len(text.splitlines()), len(text.split()))
    assert size[0] <= GUIDE_BUDGET[0] and size[1] <= GUIDE_BUDGET[1], f"guide.md: {size} (lines, words); budget {GUIDE_BUDGET}"


def test_the_guide_holds_the_field_notes_facts_word_for_word():
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())  # prose is wrapped anywhere
    missing = [fact for fact in FIELD_NOTES if " ".join(fact.split()) not in text]
    assert not missing, "the guide lost these facts of the field notes:\n" + "\n".join(missing)


# Statements these pages once made that upstream source or Microsoft's documentation contradicts,
# each with the source that settles it; none may come back, and the guide keeps the correction.
CONTRADICTED = (
    # micromamba shell hook --shell cmd.exe writes five files: get_hook_contents calls
    # init_root_prefix_cmdexe (libmamba/src/core/shell_init.cpp, mamba 2.8.1)
    "prints, changes nothing",
    "`shell hook` and `shell activate` only print",
    # mamba remove falls back to CONDA_PREFIX (use_target_prefix_fallback, libmamba/src/api/remove.cpp)
    "`mamba remove` needs `-p`",
    "mamba 2.x needs `-p`",
    # condabin\<exe>.bat sets MAMBA_ROOT_PREFIX itself (libmamba/data/mamba.bat), and the activate
    # subcommand always fails (micromamba/src/activate.cpp): the variable neither helps nor is needed
    "while `MAMBA_ROOT_PREFIX` points at",
    "or `MAMBA_ROOT_PREFIX` set)",
    "always set `MAMBA_ROOT_PREFIX` before calling the wrapper",
    "`micromamba activate` needs it",
    # conda's Library\bin\conda.bat comes before Scripts (make_install_plan, conda/core/initialize.py)
    "a bare `conda` or `mamba` in cmd.exe runs the `.exe`",
    # cmd.exe runs AutoRun once, when it starts (cmd /?, switch /D)
    "before every command line",
    # curl.exe ships with Windows 10 1803 and later
    "Windows 10 or later (which ships",
    # double quotes are removed by the started program's argument parser
    "quotes are not removed",
    # Micromamba_bootstrap.bat echoes that line as [INFO] before activating; it is no failure message
    'failure is an error ("MUST use',
    # the default policy on client Windows is Restricted, whatever the file's origin
    # (about_Execution_Policies)
    "carries the \"mark of the web\", which the default policies refuse",
    # wrap_call (libmamba/src/core/util.cpp, mamba 2.8.1) tests for condabin\<exe> without the .bat,
    # which never exists: micromamba writes its scripts at every post-link script unless CONDA_BAT is set
    "has no `condabin\\<exe>.bat` yet",
    "lacks `condabin\\<exe>.bat`",
    "has no `condabin\\micromamba.bat` and",
    # mamba.bat activate orders PATH as conda does (Activator::add_prefix_to_path): condabin last
    "typed in cmd.exe under `conda activate` |",
    # libmamba reads MAMBA_SSL_NO_REVOKE as a YAML boolean, where 1 stops micromamba with "Bad
    # conversion" (Configurable::compute, libmamba/include/mamba/api/configuration.hpp; yaml-cpp
    # convert<bool>::decode; mamba-org/mamba#2751)
    "MAMBA_SSL_NO_REVOKE=1",
    # micromamba 2.0.2's init_root_prefix_cmdexe still opens condabin\mamba.bat (shell_init.cpp line
    # 713 at tag micromamba-2.0.2); mamba PR #3546 first ships in 2.0.3 (its CHANGELOG)
    "only micromamba 2.0.0 and 2.0.1",
    # the channel-hierarchical cache came with mamba PR #4163, first in 2.6.0 (tag 2.5.0's
    # package_cache.cpp has no package_cache_folder_relative_path)
    "micromamba 2.x keeps packages under",
    # with CONDA_PREFIX set mamba installs into it (target_prefix_hook, libmamba/src/api/
    # configuration.cpp, mamba 2.8.1); only the root (pkgs, .condarc) is the directory above envs
    "a bare `mamba` after `conda.bat activate`, installs into",
    # mamba.bat's line 7 sets MAMBA_ROOT_PREFIX in the calling shell (libmamba/data/mamba.bat)
    "and a mamba started without it needs `MAMBA_ROOT_PREFIX`",
    # PR #3532 reports `'micromamba' is not recognized` after calling the hook (the DOSKEY macro in a
    # batch file), not a line reaching nothing where CONDA_SHLVL was set
    "mamba PR #3532 reports the latter",
    # `shell hook --shell cmd.exe` writes condabin\<exe>.bat with absolute paths into its root prefix
    # (init_root_prefix_cmdexe, libmamba/src/core/shell_init.cpp lines 799-888): no portable hook
    "Only the portable `micromamba shell hook`",
    # cmd's move renames: MoveFile takes a new directory on the same drive only (Microsoft Learn,
    # move and MoveFile); Explorer is what copies, then deletes
    "`move` copies, then deletes",
    # CONDA_BAT is also what wrap_call CALLs to activate before a post-link script
    # (libmamba/src/core/util.cpp lines 1464-1465 and 1492, mamba 2.8.1)
    "micromamba writes no scripts into its root at post-link",
    # bootstrap/bootstrap.bat refuses an option it does not list, --overlay among them
    "`--overlay DIR` does step 9",
    # the mamba package ships the five scripts init_root_prefix_cmdexe writes (mamba-feedstock
    # recipe/build_mamba.bat runs `mamba.exe shell hook --shell cmd.exe "%PREFIX%"`, whose positional is the
    # root prefix, micromamba/src/shell.cpp line 49; ShellInitPathsWindowsCmd, shell_init.cpp lines 135-168;
    # recipe.yaml tests only condabin/mamba.bat): a transaction relinking mamba brings them back, CONDA_BAT
    # or not; and a CONDA_BAT naming conda.bat names nothing while conda is relinked (MTransaction::execute
    # unlinks all first, libmamba/src/core/transaction.cpp; wrap_call rewrites when the file is missing,
    # util.cpp 1466)
    "lasts only if every install has `CONDA_BAT` set",
    "wrote into its build prefix (`condabin\\mamba.bat`, `_mamba_activate.bat`, `mamba_hook.bat`)",
    "links its `condabin\\mamba.bat`, `_mamba_activate.bat`, `mamba_hook.bat` as shipped",
    "Undone by an install unless `CONDA_BAT` is set",
    "stops installs rewriting `condabin`",
    # shell activate refuses a missing prefix in shell_activate (libmamba/src/api/shell.cpp 121-125);
    # activation.cpp line 968 makes the temporary file
    "the prefix must exist (`CmdExeActivator::script`",
    # conda 24.7 and later put an MSYS2 Library\<variant>\bin second (conda/activate.py _get_path_dirs)
    "`Library\\mingw-w64\\bin`, `Library\\usr\\bin`, `Library\\bin`, `Scripts`, `bin`, then `condabin`; `mamba.bat activate` does the same:",
)
CORRECTIONS = (
    "init_root_prefix_cmdexe", "Hook installed, now 'manually' execute:", "use_target_prefix_fallback",
    "set_activate_command", "install_library_bin_conda_bat", "Overwriting root prefix is not permitted - aborting.",
    "Windows 10 version 1803", "CRYPT_E_NO_REVOCATION_CHECK", "MAMBA_SSL_NO_REVOKE", "--ssl-no-revoke",
    "ConstrainedLanguage", "Unblock-File", "'\"numpy>=2\"'", "What the notes observed", "What the source shows",
    "unless `CONDA_BAT` is set", "`mamba.bat activate` does the same", "package_cache_folder_relative_path",
    "micromamba 2.0.0 to 2.0.2", "tag micromamba-2.0.2", "micromamba 2.6.0 and later", "mamba PR #4163",
    "installs into the active environment", "target_prefix_hook", "`mamba.bat` set `MAMBA_ROOT_PREFIX` in the shell",
    "`'micromamba' is not recognized`", "fall back to the flat path", "conda reads only the top level",
    "`robocopy /XJ` skips junctions", "A drive letter is part of every absolute path", "### C.3 Variables",
    "@IF NOT DEFINED CONDA_EXE", "`DelayedExpansion`", "The entry stays after `deactivate`",
    '"%SystemRoot%\\System32\\curl.exe"', "--override-channels -c conda-forge",
    # an install's post-link scripts rewrite condabin unless CONDA_BAT is set (wrap_call), and
    # deactivation leaves CONDA_SHLVL=0, the condabin entry and MAMBA_* (activation.cpp)
    "`<root prefix>\\condabin\\mamba`, **without `.bat`**", "`micromamba/src/main.cpp` line 48",
    "`libmamba/src/core/util.cpp` lines 1445-1470", 'set "CONDA_BAT=%ENV_PREFIX%\\condabin\\conda.bat"',
    'find "dp0.."', "**sets `CONDA_SHLVL=0`**", "only a new cmd.exe is clean",
    "No `micromamba shell hook` either", "cmd's `move` refuses a directory on another volume",
    "would walk into the junction `PREFIX\\pkgs`", "`mklink /j` fails where `PREFIX\\pkgs` exists",
    "as of commit 4b94eba", "58812f1", "It takes no `--overlay`", "<!-- quoted: Micromamba_bootstrap.bat lines",
    "<!-- quoted: get_sed.bat lines",
    # a mamba update relinks the package's condabin scripts whatever CONDA_BAT says (mamba-feedstock
    # recipe); CONDA_BAT naming conda.bat fails while conda is relinked (transaction.cpp 708-790, util.cpp
    # 1466-1470); the post-link script's exit status goes unread (link.cpp 667-688)
    "whatever `CONDA_BAT` says", "fails while conda is relinked", "`libmamba/src/core/transaction.cpp` lines 708-790",
    "`--force-reinstall`", "<!-- runnable: wine as=D:\\dev\\Anaconda\\envs\\my_env_3_12\\__setup__\\relative.bat -->",
    # shell_activate's check (libmamba/src/api/shell.cpp 121-125) and its message
    "`libmamba/src/api/shell.cpp` lines 121-125", "Cannot activate, prefix does not exist at:",
    # conda >= 24.7: the first MSYS2 Library\<variant>\bin that exists (conda/activate.py 629-652); libmamba's
    # get_path_dirs has none (libmamba/src/util/environment.cpp 430-445)
    "`Library\\ucrt64\\bin`, `clang64`, `mingw64`, `clangarm64`", "with no MSYS2 variant",
    # install with the root prefix as target first touches ROOT\conda-meta\history (create_base,
    # libmamba/src/api/configuration.cpp 600-602; install.cpp 328)
    "`D:\\dev\\Anaconda\\conda-meta\\history`", "lines 600-602",
    # _mamba_activate.bat's own comment: it takes %TMP%'s 8.3 form and uses it unquoted
    "This method will not work if %TMP% contains any spaces.",
    # the mamba package ships the five scripts, its condabin\activate.bat and Scripts\activate.bat under
    # conda's names too (conda-feedstock recipe.yaml runs `conda init --install`: make_install_plan,
    # conda/core/initialize.py 425-441); on Windows micromamba keeps a file already there and records it
    # as the package's (LinkPackage::link_path, libmamba/src/core/link.cpp 902-929; files_record 1208-1218)
    "ships the five files `mamba.exe shell hook --shell cmd.exe` wrote into its build prefix",
    "on Windows micromamba keeps a file already there", "its `activate.bat` in place of conda's",
    "`libmamba/src/core/link.cpp` lines 902-929",
)


def test_no_page_repeats_a_statement_upstream_contradicts_and_the_guide_holds_the_corrections():
    pages = {doc.name: " ".join(doc.read_text(encoding="utf-8").split()) for doc in DOCS}
    found = [f"{name}: {wrong!r}" for name, text in pages.items() for wrong in CONTRADICTED if wrong in text]
    assert not found, "statements upstream source contradicts:\n" + "\n".join(found)
    missing = [fact for fact in CORRECTIONS if fact not in pages["guide.md"]]
    assert not missing, "the guide lost these corrections:\n" + "\n".join(missing)




# The guide is the user's own note: it states facts without attributing each to "your notes", and
# the test sandbox (the stand-in micromamba, the local channel) is described in testing.md, not there.
NOT_IN_THE_GUIDE = ("your notes", "from the field notes", "beyond the notes", "file://$pwd/channel", "local channel",
                    "./micromamba ")


def test_the_guide_reads_as_the_user_s_note_and_leaves_the_sandbox_to_testing_md():
    text = " ".join(GUIDE.read_text(encoding="utf-8").lower().split())
    found = [phrase for phrase in NOT_IN_THE_GUIDE if phrase in text]
    assert not found, f"the guide says {found}"

# What a fresh cmd.exe defines; a pasted block may read any other %NAME% only once it has set it,
# or once a script it calls (an activation, the hook) has.
FRESH_CMD = {"PATH", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "ERRORLEVEL", "CD",
             "COMSPEC", "SYSTEMROOT", "WINDIR", "PROMPT"}
SET_BY_ACTIVATION = {"CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "MAMBA_ROOT_PREFIX", "MAMBA_EXE", "MAMBA_BAT"}
ACTIVATES = re.compile(r'^call "[^"]*(?:\\(?:mamba|conda)\.bat" activate|\\activate\.bat"|%MAMBA_BAT%" activate)', re.I)
DEACTIVATES = re.compile(r'^call "[^"]*(?:\.bat" deactivate|\\deactivate\.bat")', re.I)


def fresh_shell_problems(code: str, expected_exit: int = 0) -> List[str]:
    """What stops a ```bat block from running as written in a fresh cmd.exe: a variable read before
    anything set it, a second activation on top of the first, an `if errorlevel` that may see a
    code left by an earlier command because the command before it was conditional."""
    problems, defined, called, active, previous = [], set(), False, 0, ""
    for raw in code.splitlines():
        line = raw.strip()
        lower = line.lower().lstrip("@")
        for name in re.findall(r"(?<!%)%([A-Za-z_][A-Za-z0-9_]*)%(?!%)", line):
            known = name.upper() in FRESH_CMD or name.upper() in defined or (called and name.upper() in SET_BY_ACTIVATION)
            if not known:
                problems.append(f"%{name}% is read before anything sets it: {line}")
        # after a guard (`if not errorlevel 1 X`) that skipped X, the older ERRORLEVEL is still the failure
        if re.match(r"if (not )?(errorlevel|%errorlevel%)", lower) and previous.startswith("if ") and \
                not previous.startswith("if not errorlevel "):
            problems.append(f"`{line}` follows a command that may not have run ({previous}): it sees an older ERRORLEVEL")
        setting = re.match(r'(?:for\s.*?\sdo\s+)?set\s+"?([A-Za-z_][A-Za-z0-9_]*)=', line, re.I)
        if setting:
            defined.add(setting.group(1).upper())
        if lower.startswith("call "):
            called = True
        if ACTIVATES.match(line):
            active += 1
            if active > 1 and expected_exit == 0:
                problems.append(f"a second activation on top of the first: {line}")
        elif DEACTIVATES.match(line):
            active = max(active - 1, 0)
        if line and not lower.startswith(("rem ", "::")):
            previous = lower
    return problems


def test_the_fresh_shell_check_sees_what_it_must():
    assert fresh_shell_problems('set "P=D:\\x"\ncall "%P%\\condabin\\mamba.bat" activate\necho %CONDA_PREFIX%') == []
    assert fresh_shell_problems('call "%ENV_PREFIX%\\condabin\\mamba.bat" activate')
    assert fresh_shell_problems('echo %CONDA_PREFIX%')
    assert fresh_shell_problems('call "D:\\e\\condabin\\mamba.bat" activate\ncall "D:\\e\\condabin\\conda.bat" activate')
    assert fresh_shell_problems('if not exist x.exe curl -o x.exe URL\nif errorlevel 1 exit /b 1')
    assert fresh_shell_problems('echo @echo %%CONDA_PREFIX%%> x.bat') == []


def test_every_cmd_block_of_the_guide_runs_as_written_from_a_fresh_shell():
    """Each ```bat block a reader may paste (run here in Wine or only on a Windows runner) stands on
    its own in a fresh cmd.exe: its variables defined, one activation, no inherited ERRORLEVEL."""
    found = [f"guide.md:{b.line}: {p}" for b in blocks(GUIDE.read_text(encoding="utf-8"))
             if b.lang == "bat" and b.kind != "quoted" for p in fresh_shell_problems(b.code, b.exit)]
    assert not found, "\n".join(found)


# cmd built-ins that only print, set the shell's own variables or steer the file: nothing to stop at.
# Any other command (a program, a `call` of a batch file, copy, move, mklink, find, dir, reg, pushd,
# cd, ...) can fail.
QUIET = {"echo", "echo.", "set", "setlocal", "endlocal", "rem", "exit", "goto", "popd", "shift", "title", "cls"}
# What runs a command only on a condition (`if /?`, `for /?`): the command is what follows.
IF_HEAD = re.compile(r'if\s+(?:/i\s+)?(?:not\s+)?(?:errorlevel\s+\S+|exist\s+(?:"[^"]*"|\S+)|defined\s+\S+|'
                     r'(?:"[^"]*"|[^\s=]+)\s*==\s*(?:"[^"]*"|\S+)|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S+)\s+', re.I)
FOR_HEAD = re.compile(r'for\s+(?:/\w\s+)?(?:"[^"]*"\s+)?%%?\w\s+in\s+\(.*?\)\s+do\s+', re.I)
# A line that looks at the ERRORLEVEL the line before left: true from N up (`if /?`, ERRORLEVEL number).
LOOKS = re.compile(r'if\s+(?:not\s+)?(?:errorlevel\s+\d+|%errorlevel%|!errorlevel!)', re.I)
# `if not errorlevel 1 NEXT`: NEXT runs only after a success; skipped, it leaves the ERRORLEVEL as it was.
GUARD = re.compile(r'if\s+not\s+errorlevel\s+\d+\s', re.I)
STOPS = re.compile(r'\(?\s*exit\s+/b\s+[1-9]', re.I)


def _chained(line: str) -> List[str]:
    """The commands a line chains with `&`, `&&`, `||` or `|`, outside quotes and ^-escapes (the `&`
    of a redirection such as `2>&1` separates nothing)."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(line):
        c = line[i]
        if c == "^" and not quoted:
            current, i = current + line[i:i + 2], i + 2
            continue
        if c in "&|" and not quoted and not current.endswith((">", "<")):
            parts.append(current.strip())
            current, i = "", i + (2 if line[i:i + 2] in ("&&", "||") else 1)
            continue
        quoted ^= c == '"'
        current, i = current + c, i + 1
    return [*parts, current.strip()]


def _batch_commands(line: str) -> List[bool]:
    """For each command a batch line runs, whether the line itself stops at its failure: an
    `exit /b N`, N not 0, chained after it (`X || exit /b 1`, `(X & exit /b 1)` in a failure's branch)."""
    found, parts = [], _chained(line)
    for k, part in enumerate(parts):
        text = part.lstrip("@ ")
        while True:
            head = IF_HEAD.match(text) or FOR_HEAD.match(text)
            if not head and not text.startswith("("):
                break
            text = text[head.end():] if head else text[1:].lstrip("@ ")
        words = text.split()
        if not words or words[0].lower().rstrip(")") in QUIET or words[0].startswith((":", ")")):
            continue
        if words[0].lower() == "call" and len(words) > 1 and words[1].startswith(":"):
            continue  # a subroutine of the same file: its own lines are held to this where they are
        found.append(any(STOPS.match(later) for later in parts[k + 1:]))
    return found


def unchecked_failures(code: str, expected_exit: int = 0) -> List[str]:
    """Each line of a cmd block whose command may fail with nothing stopping there."""
    if expected_exit:
        return []  # it shows a failure on purpose
    lines = [line.strip() for line in code.splitlines()
             if line.strip() and not line.strip().lower().lstrip("@").startswith(("rem ", "::"))]
    problems = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        following = "" if last else lines[i + 1].lstrip("@")
        if any(not (stops or last or LOOKS.match(following)) for stops in _batch_commands(line)):
            problems.append(f"nothing stops at a failure of: {line}")
        stopping = re.match(r"if\s+errorlevel\s+\d+\s", following, re.I) and STOPS.search(following)
        if GUARD.match(line.lstrip("@")) and not last and not (GUARD.match(following) or stopping):
            problems.append(f"runs after a failure the guard before it skipped past: {following}")
    return problems


def test_the_failure_check_sees_what_it_must():
    ok = ('@echo off\nsetlocal\nset "P=D:\\x"\ncall "%P%\\condabin\\mamba.bat" activate\nif errorlevel 1 exit /b 1\n'
          'robocopy a b /E\nif errorlevel 8 exit /b 1\nif exist x (echo x is there & exit /b 1)\n'
          'move a b > nul 2>&1\nif errorlevel 1 (move b a > nul & exit /b 1)\necho %P%\n'
          'for %%P in ("%~dp0..") do set "E=%%~fP"\ncall :sub\nmklink /j x y || exit /b 1\n'
          'copy a b\nif not errorlevel 1 dir b\nif not errorlevel 1 python -c "print(1)"\nif errorlevel 1 exit /b 1\n'
          'exit /b 0\n:sub\nset "K=1"\n')
    assert unchecked_failures(ok) == []
    for bad in ('call "D:\\e\\condabin\\mamba.bat" activate\necho %CONDA_PREFIX%',
                'if not exist x (\n  curl -o x URL\n)\nexit /b 0', "type nul > x\nfind \"a\" x",
                'for /d %%D in ("x\\*") do findstr /m a "%%D\\*"\necho done', 'pushd "%~dp0.."\nset "E=%CD%"\npopd',
                'mklink /j x y & echo made\necho done', '"%MM%" create -p x\ncall x.bat\nif errorlevel 1 exit /b 1',
                'call x.bat\nif not errorlevel 1 echo %X%\necho %Y%', 'copy a b\nif not errorlevel 1 dir b\ndel b'):
        assert unchecked_failures(bad), bad
    assert unchecked_failures("cmd /c exit 3\necho shown", 3) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_cmd_block_stops_at_a_failure(doc):
    """A ```bat block a reader runs (in a batch file or typed at the prompt; not one quoted from the
    notes' scripts, not one shown failing on purpose) goes no further after a command that failed,
    as cmd does it: each command, unless it only prints or sets variables (QUIET), a `call :label`
    (the label's lines are held to this themselves) or the block's last line (whose code is the
    block's), is followed on the next line by `if [not] errorlevel N` (ss64 "IF", "ERRORLEVEL": true
    from N up, whatever ran before) or has `exit /b N`, N not 0, chained after it on its own line
    (`X || exit /b 1`, ss64 "Conditional execution"; Wine's cmd runs `||`'s right side after a
    success too, docs/windows.md, so the blocks run here use the next line). At the prompt, where
    `exit /b` would close the window, `if not errorlevel 1 NEXT` runs the next line only after a
    success, and skips the rest once one failed (a skipped line leaves the ERRORLEVEL as it was): so
    the line after such a guard is one too, or stops. An excerpt of a bootstrap script is its text,
    checked as the script."""
    found = [f"{doc.name}:{b.line}: {p}" for b in blocks(doc.read_text(encoding="utf-8"))
             if b.lang == "bat" and b.kind != "quoted" and not EXCERPT.search(b.reason or "")
             for p in unchecked_failures(b.code, b.exit)]
    assert not found, "\n".join(found)

# The traps a reader of the guide must not miss, each set apart as a GitHub alert, with what its
# alert says.
TRAPS = {
    "a bare `mamba`": "A bare `mamba` is `Library\\bin\\mamba.exe`, not the wrapper",
    "`CONDA_BAT` and mamba updates": "A mamba update undoes the patch whatever `CONDA_BAT` says",
    "`deactivate`": "`deactivate` does not give the clean shell back",
    "`!ERRORLEVEL!`": "`!ERRORLEVEL!` is literal text without `setlocal EnableDelayedExpansion`",
    "`create --yes`": "`create --yes` first removes an existing conda prefix",
}
ALERT = re.compile(r"^\s*> \[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$")


def alerts(text: str) -> List[tuple]:
    """(kind, text) of each GitHub alert: a blockquote whose first line is `> [!KIND]` alone (GitHub
    Docs, "Basic writing and formatting syntax", Alerts), its text whitespace-joined."""
    lines, found = text.splitlines(), []
    for i, line in enumerate(lines):
        m = ALERT.match(line)
        if m:
            body = []
            for following in lines[i + 1:]:
                if not following.strip().startswith(">"):
                    break
                body.append(following.strip()[1:])
            found.append((m.group(1), " ".join(" ".join(body).split())))
    return found


def test_the_alert_reader_sees_what_it_must():
    assert alerts("> [!WARNING]\n> **A** b\n> c\n\ntext\n  > [!TIP]\n  > d\n") == [("WARNING", "**A** b c"), ("TIP", "d")]
    assert alerts("> [!WARNING] inline text is no alert\n") == []


def test_the_guide_sets_its_sharpest_traps_apart():
    found = alerts(GUIDE.read_text(encoding="utf-8"))
    traps = [said for kind, said in found if kind in ("WARNING", "CAUTION")]
    missing = [trap for trap, said in TRAPS.items() if not any(said in t for t in traps)]
    assert not missing, f"no warning sets apart {missing}"
    assert 4 <= len(traps) <= 6, f"{len(traps)} warnings: the sharpest traps only"


def test_the_guide_sets_the_three_activation_modes_side_by_side():
    section = _section(GUIDE.read_text(encoding="utf-8"), re.compile(r"^### 5\.6 "))
    rows = [[cell.strip() for cell in row.strip("|").split("|")] for row in section.splitlines() if row.startswith("| **")]
    assert [row[0].split("**")[1] for row in rows] == ["portable", "hook", "`shell init`"], rows
    portable, hook, init = (" ".join(row) for row in rows)
    assert '\\condabin\\mamba.bat" activate' in portable and "mamba_hook.bat" in hook and "AutoRun" in init


def test_the_guide_names_one_environment_throughout():
    """Every environment path the guide shows is the one it makes by hand in 4.1; the notes' recorded
    AutoRun value and the placeholders of its tables are theirs. Where mambaboot makes one (its
    appendices), it is the one `bootstrap.bat py 3.12` names as the README shows it, and the guide says
    which is which."""
    from mambaboot.pipeline.plan import env_name

    text = GUIDE.read_text(encoding="utf-8")
    ours = env_name("py", "3.12")
    named = set(re.findall(r"envs\\([A-Za-z0-9_.\-]+)", text))
    assert named - {"NAME_X_Y"} == {"my_env_3_12", "py", ours}, named
    assert text.count("envs\\py\\") == 1 and '"AutoRun"="G:\\dev\\Anaconda\\envs\\py\\condabin\\mamba_hook.bat"' in text
    before, appendices = text.split("\n## Appendix A. ", 1)
    assert ours not in before and not re.search(r"\\bootstrap\.bat'? my_env", text), "mambaboot's environment named otherwise"
    said = " ".join(appendices.split())
    assert f"`.\\bootstrap.bat py 3.12` makes `{ours}` (the README's), not [§4.1](#41-by-hand-with-micromamba-alone)'s `my_env_3_12`" in said
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("\n## On Windows, with no Python\n", 1)[1].split("\n## ", 1)[0]
    assert ".\\bootstrap.bat py 3.12" in readme and f"Downloads\\{ours}" in readme


def test_every_batch_file_of_the_guide_shows_only_its_output_and_leaves_the_shell_as_it_was():
    """A block shown as a batch file (not typed at the prompt, not quoted from the notes' scripts)
    starts with `@echo off`, as its shown output assumes, and one that sets a variable or activates
    keeps that to itself with `setlocal`."""
    found = []
    for b in blocks(GUIDE.read_text(encoding="utf-8")):
        if b.lang != "bat" or b.kind == "quoted" or b.prompt:
            continue
        lines = [line.strip() for line in b.code.splitlines() if line.strip()]
        if lines[0].lower() != "@echo off":
            found.append(f"guide.md:{b.line}: no @echo off first")
        if any(re.match(r"(?:if .*\)?\s*)?(?:set|call) ", line, re.I) for line in lines) and \
                not any(re.match(r"setlocal\b", line, re.I) for line in lines):
            found.append(f"guide.md:{b.line}: sets or activates without setlocal")
    assert not found, "\n".join(found)


# libmamba 2.8.1's first cmd.exe activation (Activator::build_activate, libmamba/src/core/activation.cpp
# lines 591-597, exported in this order; CmdExeActivator::script, lines 966-1005, one `@SET "KEY=VALUE"`
# line each) and the folders its PATH puts first (get_path_dirs, libmamba/src/util/environment.cpp lines
# 430-445), then the root prefix's condabin when PATH has none (add_prefix_to_path, activation.cpp 232-262).
ACTIVATION_KEYS = ["PATH", "CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER"]
PATH_DIRS = ["", "\\Library\\mingw-w64\\bin", "\\Library\\usr\\bin", "\\Library\\bin", "\\Scripts", "\\bin"]


def test_the_shell_activate_sample_is_what_libmamba_prints_and_writes():
    sample = next(b for b in blocks(GUIDE.read_text(encoding="utf-8"))
                  if b.kind == "sample" and "shell activate --shell cmd.exe -p " in b.code)
    lines = sample.code.splitlines()
    root = re.search(r'^D:\\>set "MAMBA_ROOT_PREFIX=([^"]+)"$', sample.code, re.M).group(1)
    at = next(i for i, line in enumerate(lines) if "shell activate --shell cmd.exe -p " in line)
    prefix = lines[at].rsplit(" -p ", 1)[1]
    printed = lines[at + 1]
    # TemporaryFile("mamba_act", ".bat") in the temporary folder: ten of [0-9a-z] between (libmamba/src/core/
    # util.cpp lines 261-265; generate_random_alphanumeric_string, libmamba/include/mamba/util/random.hpp)
    assert re.fullmatch(r"[A-Z]:\\.+\\Temp\\mamba_act[0-9a-z]{10}\.bat", printed), printed
    # printed without a line break (shell_activate, libmamba/src/api/shell.cpp line 129): cmd's next prompt
    # starts the next line, with no blank line between
    assert lines[at + 2] == f"D:\\>type {printed}", lines[at + 2]
    written = [re.fullmatch(r'@SET "([A-Z_]+)=(.*)"', line).groups() for line in lines[at + 3:]]
    assert [key for key, _ in written] == ACTIVATION_KEYS
    values = dict(written)
    path = values["PATH"].split(";")
    assert path[:7] == [prefix + tail for tail in PATH_DIRS] + [root + "\\condabin"], path
    name = prefix.rsplit("\\", 1)[1]
    # get_default_env: a prefix in an envs folder is named by its folder (activation.cpp 53-68); the
    # prompt modifier is env_prompt "({default_env}) " (libmamba/include/mamba/core/context.hpp)
    assert prefix.rsplit("\\", 2)[1] == "envs" and prefix != root
    assert (values["CONDA_PREFIX"], values["CONDA_SHLVL"], values["CONDA_DEFAULT_ENV"],
            values["CONDA_PROMPT_MODIFIER"]) == (prefix, "1", name, f"({name}) ")


def test_the_state_inventory_names_what_the_code_writes():
    """Each row of reliability.md's state inventory names a constant of the code, and its name
    column holds that constant's value: a renamed state file fails here until the table follows."""
    import importlib
    import re

    text = (REPO / "docs" / "reliability.md").read_text()
    section = text.split("## State inventory", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 10, rows
    # the kinds of state, each row's last column, are the ones the text lists, and no other
    kinds = {row.strip().strip("|").split("|")[-1].strip() for row in rows}
    said = section.split("The kinds of state, each row's last column: ", 1)[1].split(". Besides them", 1)[0]
    listed = {k.strip() for k in re.sub(r" \(.*?\)", "", re.sub(r"\s+", " ", said)).split(", ")}
    assert kinds == listed | {"a cache"}, (kinds, listed)
    for row in rows:
        name, constant = [cell.strip() for cell in row.strip("|").split("|")[:2]]
        module, *names = re.findall(r"`([^`]+)`", constant)
        mod = importlib.import_module("mambaboot." + module[:-3].replace("/", "."))
        for each in names:
            value = getattr(mod, each)
            assert isinstance(value, str) and value in name, (row, each, value)


def test_the_inventory_names_each_form_of_the_temporary_names_and_each_lock():
    """Each form tempname.py gives (made here by its own functions, the token and kinds replaced
    by their placeholders) is spelled in reliability.md's state inventory, and its list of locks
    names exactly the modules that take one (a FileLock, or flock/msvcrt.locking themselves)."""
    import re

    from mambaboot.common.files import tempname

    text = re.sub(r"\s+", " ", (REPO / "docs" / "reliability.md").read_text())
    section = text.split("## State inventory", 1)[1].split(" ## ", 1)[0]
    token = "0" * 32
    made = {tempname.temp_name("NAME"): "", tempname.temp_name("NAME", tempname.UNLOCKED): "",
            tempname.temp_name(kind="kind"): "<KIND>", tempname.set_aside("NAME", token, "new"): "<KIND>",
            tempname.temp_name(None, "undo", token): ""}
    for name, kind in made.items():
        form = re.sub(r"-\d+$", "", re.sub("[0-9a-f]{32}", "<TOKEN>", name))
        form = form.rsplit("-", 1)[0] + "-" + kind if kind else form
        assert f"`{form}`" in section, form
    assert "`~KEY`" in section and tempname.of_name("n" * 255).startswith("~")
    locks = section.split("The locks, each held only while its holder lives: ", 1)[1].split(". ", 1)[0]
    takers = {path.relative_to(REPO / "src" / "mambaboot").as_posix() for path in (REPO / "src" / "mambaboot").rglob("*.py")
              if re.search(r"FileLock\(|fcntl\.(flock|lockf)\(|msvcrt\.locking\(", path.read_text(encoding="utf-8"))}
    assert set(re.findall(r"\(`([a-z/_]+\.py)`\)", locks)) == takers - {"common/files/filelock.py"}, (locks, takers)


def test_every_name_mambaboot_gives_beside_a_place_is_in_the_state_inventory():
    """The other way round: every kind of set-aside the code gives a place (a directory renamed or
    made beside it under a name its intent holds: tempname.set_aside, guarded.set_aside) is in a
    row's name column, and is one of tempname's, so a new kind of leftover fails here until the
    inventory says who deletes it. The temporary name's writers: tests/test_temporaries.py."""
    import ast
    import importlib

    from mambaboot.common.files import tempname

    text = (REPO / "docs" / "reliability.md").read_text()
    names = " ".join(line.split("|")[1] for line in text.split("## State inventory", 1)[1].split("\n## ", 1)[0]
                     .splitlines() if line.startswith("| `"))
    kinds = {}
    for path in sorted((REPO / "src" / "mambaboot").rglob("*.py")):
        calls = [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Call) and len(node.args) >= 2
                 and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("set_aside",)]
        if not calls:
            continue
        module = importlib.import_module(".".join(path.relative_to(REPO / "src").with_suffix("").parts))
        for call in calls:
            for arg in call.args[1:]:
                try:
                    kind = eval(ast.unparse(arg), vars(module))  # a module's constant (a role of proof.py)
                except (NameError, AttributeError):
                    continue  # a parameter passed through (the helpers' own): named at their callers
                if isinstance(kind, str):
                    kinds[kind] = path.relative_to(REPO)
    assert set(kinds) == set(tempname.SET_ASIDE), kinds
    missing = {kind: str(where) for kind, where in kinds.items() if f".NAME.mambaboot-tmp-<TOKEN>-{kind}`" not in names}
    assert not missing, f"no row of the state inventory names these set-aside names: {missing}"


def test_the_windows_ledger_names_only_tests_that_exist():
    """Each test the Windows behaviour ledger says holds a behaviour is a test of that file: a
    renamed or removed test fails here until the ledger follows."""
    text = (REPO / "docs" / "windows.md").read_text(encoding="utf-8")
    named = []
    for line in text.splitlines():
        if not line.startswith("| "):
            continue
        held_by = line.rstrip(" |").rsplit(" | ", 1)[-1]
        current = None
        for file, name in re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)`", held_by):
            current = file or current
            assert current, f"{name} is named before its file: {line[:80]}"
            named.append((current, name))
    assert len(named) >= 20, named
    for file, name in named:
        assert re.search(rf"^def {name}\(", (REPO / "tests" / file).read_text(encoding="utf-8"), re.M), f"{file}::{name}"


def test_a_typed_certutil_is_windows_own_by_its_full_path():
    """Typed by name in the download directory, cmd runs a certutil.exe lying there before
    Windows' own (Microsoft Learn, "cmd": the current directory is searched first)."""
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    typed = [(doc.name, code) for doc in docs for code in re.findall(r"`([^`]*certutil[^`]*)`", doc.read_text(encoding="utf-8"))
             if re.search(r"(?i)certutil(\.exe)? -hashfile \S", code)]
    assert typed, "the docs show how to check a download in cmd.exe"
    assert [t for t in typed if not t[1].startswith("%SystemRoot%\\System32\\certutil.exe ")] == [], typed


def test_no_cmd_line_shown_ends_a_quoted_argument_with_the_current_directory():
    """At a drive's root %CD% is `X:\\`, and a backslash right before the closing quote escapes it
    for every program's argument parser (the C runtime's rules: Microsoft Learn, "Parsing C++
    command-line arguments"): `--envs-dir "%CD%"` there gives the program `X:" --channel ...` as one
    argument. A block a user pastes into cmd.exe says the current directory another way (`.`);
    cmd's own `set "NAME=%CD%"` is no program's argument."""
    for doc in DOCS:
        for b in blocks(doc.read_text(encoding="utf-8")):
            if b.lang == "bat":
                # cmd's own `set "NAME=%CD%"` takes the quotes itself: no program parses them
                found = [ln for ln in b.code.splitlines() if '%CD%"' in ln.replace("%%", "%")
                         and not re.match(r'\s*@?set\s+"', ln, re.I)]
                assert not found, f"{doc.name}:{b.line}: {found}"
    assert '%CD%"' in 'x --envs-dir "%CD%"', "the check sees the form it refuses"
