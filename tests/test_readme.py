"""The README is a short landing page whose every claim a newcomer can check: its try-out runs
exactly as written, from a checkout, in a private HOME; its tables are mambaboot's own; it and the
pages in docs/ speak of the product, never of how it was made."""

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import List

import pytest

from mambaboot.common import isolation
from tests.conftest import REPO
from tests.test_docs import blocks

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
# A landing page read in under ten minutes at 200 words a minute, nothing it needs moved out of reach.
BUDGET = 2000  # words


def readme_examples() -> List[str]:
    """The README's runnable blocks, in order: the try-out's preparation, then its example."""
    return [b.code for b in blocks(README.read_text(encoding="utf-8")) if b.kind == "bash"]


def tryout_example() -> str:
    """The example that runs in the prepared directory (what follows `tools/tryout.py`)."""
    prepare, *rest = readme_examples()
    assert prepare.startswith("python3 tools/tryout.py ") and len(rest) == 1, readme_examples()
    return rest[0]


def test_the_readme_is_a_landing_page():
    words = len(README.read_text(encoding="utf-8").split())
    assert words <= BUDGET, f"README.md has {words} words; move detail into docs/ (budget {BUDGET})"


# Words that speak of how the project was made rather than of the product.
PROCESS = re.compile(r"\b(?:(?:this|last|previous|next|earlier|each|one|every) rounds?\b|rounds? \d|across rounds"
                     r"|goals?\b|issue \d|issue's|this issue|our issues?)", re.I)


def _own_commits(text: str) -> List[str]:
    """The hex words of text that name a commit of this repository."""
    words = sorted(set(re.findall(r"(?<![\w/#-])[0-9a-f]{7,40}(?![\w-])", text)))
    if not words:
        return []
    proc = subprocess.run(["git", "-C", str(REPO), "cat-file", "--batch-check"], input="".join(
        f"{w}^{{commit}}\n" for w in words), capture_output=True, text=True, check=True)
    return [w for w, line in zip(words, proc.stdout.splitlines()) if line.split()[1:2] == ["commit"]]


def test_the_process_check_sees_what_it_must():
    assert PROCESS.search("Against the revision before this round") and PROCESS.search("Goal 2 is measured")
    assert PROCESS.search("issue 16's figures") and PROCESS.search("3.2 last round, quiet")
    assert not PROCESS.search("round trips, `MB_GONE`") and not PROCESS.search("mamba-org/mamba issues #3684")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert _own_commits(f"bench/versus.py {head} -n 11; conda/conda#15878, sha256 ce41f57d") == [head]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_pages_speak_of_the_product_only(page):
    text = page.read_text(encoding="utf-8")
    found = [line.strip() for line in text.splitlines() if PROCESS.search(line)]
    assert not found, f"{page.name} speaks of how it was made:\n" + "\n".join(found)
    assert not _own_commits(text), f"{page.name} names commits of this repository: {_own_commits(text)}"


def _table(section: str) -> List[List[str]]:
    """The rows (cells split) of the first table in the README section with this heading."""
    text = README.read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]  # the header left out (the rule is "|---")
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_the_command_table_is_the_clis():
    from mambaboot.cli import _parser
    from mambaboot.common.errors import UsageError

    parser = _parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    rows = _table("Commands")
    named = {row[0].strip("`").split()[0] for row in rows}
    assert named == set(sub.choices), f"README's command table names {sorted(named)}, the CLI has {sorted(sub.choices)}"
    for row in rows:
        example = row[2].strip("`")
        argv = shlex.split(example.replace("\\|", "|"))
        assert argv[0] == "mambaboot" and argv[1] == row[0].strip("`").split()[0], row
        try:
            parser.parse_args(argv[1:])
        except (UsageError, SystemExit) as exc:  # the CLI's parser raises UsageError; argparse may exit
            pytest.fail(f"README's example `{example}` is not a valid command line: {exc}")


def test_the_exit_code_table_is_mambaboots():
    from mambaboot.common.errors import EXIT_CODES

    documented = [int(n) for row in _table("Exit codes") for n in row[0].split(" / ")]
    assert documented == [code for code, _ in EXIT_CODES]  # 143 and 129 are told with 130


# -- the try-out, exactly as written -------------------------------------------------------------


def _checkout(tmp_path: Path) -> Path:
    """Where a newcomer runs the README: a checkout (its tools/ and tests/ are this one's, so
    tools/tryout.py finds this checkout's .venv/, which the test command made)."""
    assert (REPO / ".venv" / "bin" / "python").exists(), "no .venv: run the suite with python3 tools/test.py"
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("tools", "tests"):
        (clone / name).symlink_to(REPO / name)
    return clone


def _tryout_env(world, bindir: Path) -> dict:
    from tests.support.channel import _cache_dir

    path = isolation.clean_path(world.env["PATH"], windows=False)
    # the repackaged python is the suite's to cache (the README's reader gets $TMPDIR's)
    return {**world.env, "PATH": f"{bindir}{os.pathsep}{path}", "MAMBABOOT_TEST_CACHE": str(_cache_dir())}


def test_the_readme_tryout_runs_as_written(world, tmp_path):
    """Every runnable block of the README, joined as one shell session, from a checkout with
    nothing prepared and nothing installed: the try-out makes its channel, engine and zipapp, and
    says the engine is a stand-in;
    create, activation, python, deactivation and remove work; HOME and the rest of the machine
    stay as they were."""
    clone = _checkout(tmp_path)
    env = _tryout_env(world, tmp_path / "bin")  # an empty bin: no mambaboot on PATH, none needed
    before = world.outside()
    script = "set -eu\n" + "\n".join(readme_examples())
    proc = subprocess.run(["bash", "-c", script], cwd=str(clone), env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tryout = clone / "tryout"
    lines = proc.stdout.splitlines()
    assert any("tryout/micromamba: NOT micromamba, but the test suite's stand-in" in x for x in lines), proc.stdout
    assert any("tryout/channel: a local linux-64 channel" in x for x in lines), proc.stdout
    # the activated environment's python, found through PATH, is the new environment's
    assert lines[-1] == str(tryout / "demo_3_11"), proc.stdout
    assert not (tryout / "demo_3_11").exists()  # removed
    assert any("tryout/mambaboot.pyz: this checkout's mambaboot as one file" in x for x in lines), proc.stdout
    assert sorted(p.name for p in tryout.iterdir()) == ["cache", "channel", "mambaboot.pyz", "mambaboot.pyz.sha256",
                                                        "micromamba"]
    assert world.outside() == before


def test_tryout_copies_a_given_micromamba_and_replaces_nothing(world, tmp_path, standin):
    """--micromamba PATH: a copy of that binary, said so, not the stand-in; a second run into the
    same directory stops and changes nothing."""
    clone = _checkout(tmp_path)
    env = _tryout_env(world, tmp_path)
    run = ["python3", "tools/tryout.py", "out", "--micromamba", str(standin)]
    first = subprocess.run(run, cwd=str(clone), env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"out/micromamba: a copy of {standin} (it says: 2.8.1)" in first.stdout
    assert "stand-in for micromamba" not in first.stdout
    assert (clone / "out" / "micromamba").read_bytes() == standin.read_bytes()
    made = {p: p.stat().st_mtime_ns for p in (clone / "out").rglob("*")}
    again = subprocess.run(run, cwd=str(clone), env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode != 0 and "out/channel exists: give a new DIR" in again.stderr, again.stderr
    assert {p: p.stat().st_mtime_ns for p in (clone / "out").rglob("*")} == made


def test_the_windows_tryout_refuses_a_folder_too_deep_for_max_path_before_any_work(world, tmp_path):
    """micromamba 2.6 and later name a file:// channel's cache folder after its whole path: from a
    folder this deep the try-out's create would pass MAX_PATH. tools/tryout.py --windows says so and
    what to do before anything (no install, no download, DIR not made), exit 2, instead of the
    create failing once all is prepared. A Linux folder is where Wine's Z: drive shows it."""
    clone = _checkout(tmp_path)
    env = _tryout_env(world, tmp_path / "bin")
    deep = tmp_path / ("x" * 60) / "tryout"
    run = ["python3", "tools/tryout.py", str(deep), "--windows"]
    r = subprocess.run(run, cwd=str(clone), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    windows = "Z:" + str(deep).replace("/", "\\")
    said = r.stderr
    assert said.startswith(f"tools/tryout.py: {windows} ({len(windows)} characters, where cmd.exe runs the try-out) is "
                           "too deep for it with LongPathsEnabled off: "), said
    assert "MAX_PATH (260)" in said and "micromamba 2.6 and later" in said and "--windows-dir" in said, said
    assert "enable LongPathsEnabled" in said and "--long-paths" in said, said
    assert not deep.parent.exists()


def windows_tryout_folder():
    """The install page's Windows try-out folder, and the longest it says one may be."""
    text = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    found = re.search(r"it runs from a folder\s+of at most (\d+) characters, such as `([^`]+)`", text)
    assert found, "install.md names the Windows try-out's folder and its longest length"
    return found.group(2), int(found.group(1))


def test_the_windows_tryouts_folder_is_where_cmd_sees_it_and_the_length_it_advises_fits():
    """WSL shows drive C: at /mnt/c; Wine shows / as Z:. The folder length the refusal advises is
    the longest that passes the check, the one create's MAX_PATH check makes, and the one the install
    page gives, with its example folder."""
    from tools import tryout

    assert tryout.windows_dir(Path("/mnt/c/Users/Jane Doe/tryout")) == "C:\\Users\\Jane Doe\\tryout"
    assert tryout.windows_dir(Path("/mnt/d")) == "D:\\"
    assert tryout.windows_dir(Path("/home/jane/tryout")) == "Z:\\home\\jane\\tryout"
    assert tryout.windows_dir(Path("/mnt/wsl/x")) == "Z:\\mnt\\wsl\\x"
    documented, longest = windows_tryout_folder()
    assert len(documented) <= longest and tryout.max_path_refusal(documented) is None, "the example folder fits"
    deep = documented + "\\" + "x" * 30
    said = tryout.max_path_refusal(deep)
    most = int(re.search(r"a folder of at most (\d+) characters", said).group(1))
    assert most == longest, "the install page gives the length the try-out advises"
    assert tryout.max_path_refusal("C:\\" + "t" * (most - 3)) is None
    assert tryout.max_path_refusal("C:\\" + "t" * (most - 2)) is not None


def test_the_readme_says_the_windows_tryouts_limits_before_they_bite():
    """The README's Windows try-out gives the longest folder the try-out takes (the install page's,
    which the test above holds to tools/tryout.py's own advice) and the terminal its block needs,
    before the reader runs anything; the folder it shows fits."""
    from tools import tryout

    text = README.read_text(encoding="utf-8").split("\n## Try it offline\n", 1)[1].split("\n## ", 1)[0]
    said = re.search(r"`DIR` must be a folder of at most (\d+) characters as Windows sees\s+it, such as `([^`]+)`", text)
    assert said, "the README gives the Windows try-out's longest folder"
    folder, longest = windows_tryout_folder()
    assert int(said.group(1)) == longest and said.group(2) == folder
    assert tryout.max_path_refusal(said.group(2)) is None
    assert "cmd.exe window" in text and "Invalid handle" in text


def test_what_the_tryout_writes_is_ignored_by_git(tmp_path):
    """`python3 tools/tryout.py tryout` writes into the checkout: git must not offer it for a commit."""
    for made in ("tryout/channel/noarch/repodata.json", "tryout/micromamba", "tryout/cache/x", ".tryout-venv/bin/python"):
        proc = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", made])
        assert proc.returncode == 0, f"{made} is not ignored"


def test_the_readme_says_what_the_test_command_needs():
    """Root for apt-get (tools/test.py stops without it), the network for .venv/ and the Windows
    CPython it fetches, the time it takes, and a home nothing else writes to (the suite checks it)."""
    from tools import test as test_command

    section = README.read_text(encoding="utf-8").split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    assert "os.geteuid() != 0" in Path(test_command.__file__).read_text(encoding="utf-8")
    for need in ("**root**", "apt-get", "**the network**", "`.venv/`", "Windows CPython", "**time**", "**a quiet home**"):
        assert need in section, need


@pytest.mark.parametrize("deeper", [0, 1])
def test_the_windows_tryouts_check_and_creates_warning_agree_at_the_boundary(monkeypatch, deeper):
    """The longest folder the try-out accepts, and one character more: create's own preflight, run
    as `create` runs it on Windows with LongPathsEnabled off for the install page's command line in
    that folder, warns exactly where the try-out refuses (once two estimates of one length: the
    try-out accepted a folder where create then said "34 too many")."""
    from mambaboot.common import winsys
    from mambaboot.common.host import Host
    from mambaboot.pipeline import create
    from mambaboot.pipeline.plan import CreateInputs, make_plan
    from tests.support.recorder import Recorder
    from tools import tryout

    _, longest = windows_tryout_folder()
    folder = "C:\\" + "t" * (longest + deeper - 3)
    monkeypatch.setattr(winsys, "long_paths_enabled", lambda: False)
    host = Host(environ={}, windows=True, subdir="win-64", cwd=folder, isdir=lambda p: False)
    line = [b for b in blocks((REPO / "docs" / "install.md").read_text(encoding="utf-8")) if b.kind == "wine python"]
    words = shlex.split(line[0].code.splitlines()[0].replace("%CD%", folder.replace("\\", "/")))
    assert words[2:4] == ["create", "demo"], words
    options = dict(zip(words[4::2], (w.replace("/", "\\") for w in words[5::2])))
    inputs = CreateInputs(name="demo", python=options["--python"], envs_dir=options["--envs-dir"],
                          channels=(options["--channel"],), micromamba=options["--micromamba"],
                          cache_dir=options["--cache-dir"])
    seen = Recorder()
    create.preflight(make_plan(host, inputs), host, False, seen)
    refused = tryout.max_path_refusal(folder)
    assert (refused is not None) == bool(deeper) == bool(seen.warnings), (refused, seen.warnings)
    if deeper:
        assert "1 too many" in seen.warnings[0], seen.warnings


def test_the_reliability_page_names_the_rows_the_suite_prints():
    """docs/reliability.md lists, without counts, exactly the rows the suite's reliability table
    prints, each with the test file that tries it."""
    recorded = {}
    sources = sorted((REPO / "tests").glob("test_*.py"))
    constants = {}  # a category named once and shared between test files by import
    for source in sources:
        constants.update(re.findall(r'^([A-Z_]+) = "([^"]+)"$', source.read_text(encoding="utf-8"), re.M))
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for literal, name in re.findall(r'reliability\.record\(\s*(?:"([^"]+)"|([A-Z_]+)\b)', text):
            category = literal or constants.get(name)
            assert category, f"{source.name}: reliability.record({name}) names no constant of the tests"
            recorded.setdefault(category, set()).add(source.name)
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([^`]+)` \| `tests/(test_\w+\.py)`", text, re.M))
    assert len(recorded) >= 10, "the suite's rows were not read"
    assert set(rows) == set(recorded), f"page: {sorted(rows)}\nsuite: {sorted(recorded)}"
    for category, file in rows.items():
        assert file in recorded[category], f"{category}: tried in {sorted(recorded[category])}, not {file}"
    checks = text.split("\n## How the suite checks them\n", 1)[1]
    assert not re.search(r"\b\d+/\d+\b", checks), "counts are the suite's to print, not the page's"


def test_tryout_never_takes_over_a_venv_it_did_not_make(tmp_path):
    """A .venv/ of the user's has no stamp of the test command:
    the try-out installs into its own directory instead of turning it into an editable install."""
    from tools import tryout

    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    stamp = venv / ".test-install"
    assert tryout.chosen_venv(venv, stamp) == tryout.TRYOUT_VENV != venv
    stamp.write_text("made by the test command")
    assert tryout.chosen_venv(venv, stamp) == venv


def test_the_tryouts_own_venv_gets_only_what_the_tryout_runs(tmp_path, monkeypatch):
    """.tryout-venv/ holds py-rattler and PyYAML as the test extra pins them, nothing else of the
    extra (no test tools, no editable install of the project)."""
    from tools import test as test_command
    from tools import tryout

    runs = []

    def run(argv, **kwargs):
        runs.append([str(a) for a in argv])
        if argv[1:3] == ["-m", "venv"]:
            (Path(argv[3]) / "bin").mkdir(parents=True)
            (Path(argv[3]) / "bin" / "python").touch()
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(test_command.subprocess, "run", run)
    venv = tmp_path / ".tryout-venv"
    tryout.tryout_venv_python(venv)
    extra = re.search(r'^test = \[(.*?)\]$', (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.M | re.S).group(1)
    pinned = {re.split(r"[=<>;\[ ]", r, 1)[0]: r for r in re.findall(r'"([^"]+)"', extra)}
    installs = [argv for argv in runs if "install" in argv]
    assert installs == [[str(venv / "bin" / "python"), "-m", "pip", "install", "-q", pinned["py-rattler"], pinned["pyyaml"]]]
    runs.clear()
    tryout.tryout_venv_python(venv)  # made: nothing again
    assert runs == []


# -- the README's Windows section, as a newcomer types it ------------------------------------

def windows_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## On Windows, with no Python\n", 1)[1].split("\n## ", 1)[0]


def github_resolves(link: str, page: str = "README.md", repository: str = "OWNER/mambaboot") -> str:
    """Where GitHub takes a relative link of a page it shows: relative to the page's own address,
    https://github.com/OWNER/REPO/blob/BRANCH/PAGE, so `../../releases/...` from the README at the
    repository's root is the repository's releases, whoever owns it (GitHub Docs, "Basic writing and
    formatting syntax", Relative links)."""
    from urllib.parse import urljoin

    return urljoin(f"https://github.com/{repository}/blob/main/{page}", link)


def test_the_windows_download_is_the_address_the_release_workflow_publishes_at():
    """The README's download links need no owner: relative links GitHub resolves to the newest
    release's assets (`/releases/latest/download/ASSET`, GitHub Docs "Linking to releases") of the very
    release the workflow builds (its RELEASE_URL, `.../releases/download/TAG`), and to that release's
    page."""
    workflow = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    release = re.search(r"^\s*RELEASE_URL: (.+)$", workflow, re.M).group(1)
    assert release == "${{ github.server_url }}/${{ github.repository }}/releases/download/${{ github.ref_name }}"
    latest = (release.replace("${{ github.server_url }}", "https://github.com")
              .replace("${{ github.repository }}", "OWNER/mambaboot")
              .replace("/releases/download/${{ github.ref_name }}", "/releases/latest/download/bootstrap.bat"))
    section = windows_section()
    assert "https://" not in section.split("<!--", 1)[0].split("\n2.", 1)[0], "the download names no host nor owner"
    links = re.findall(r"\]\((\.\./[^)\s]+)\)", section)
    assert [github_resolves(link) for link in links] == [
        latest, latest.replace("bootstrap.bat", "bootstrap.ps1"), latest.rsplit("/download/", 1)[0]], links
    # the reference's first-time setup downloads from the same address, named the same way
    setup = (REPO / "docs" / "reference.md").read_text(encoding="utf-8").split("\n### 4.5 ", 1)[1].split("\n### ", 1)[0]
    assert "OWNER" not in setup and "/releases/" not in re.sub(r"\]\([^)]*\)", "", setup), "the setup names no owner"
    links = re.findall(r"\]\((\.\./[^)\s]*releases[^)\s]*)\)", setup)
    assert [github_resolves(link, "docs/reference.md") for link in links] == [latest], links
    # the install page names the repository the same way
    assert "--repo OWNER/mambaboot" in (REPO / "docs" / "install.md").read_text(encoding="utf-8")


def test_the_install_lines_are_in_one_table_with_a_windows_line_for_each_way():
    """The README's Install table gives each way its line and its cmd.exe line; the install page
    links to it and repeats no install line, so the two cannot disagree."""
    install = README.read_text(encoding="utf-8").split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in install.splitlines()
            if row.startswith("| ") and not row.startswith("| way ")]
    header = next(row for row in install.splitlines() if row.startswith("| way "))
    assert [cell.strip() for cell in header.strip("|").split("|")][1:3] == ["install", "on Windows (cmd.exe)"], header
    assert [row[0] for row in rows] == ["pipx", "uv", "a plain venv", "the zipapp"], rows
    assert all(re.fullmatch(r"`[^`]+`", row[1]) and re.fullmatch(r"`[^`]+`", row[2]) for row in rows), rows
    page = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    checkout = page.split("\n## From a checkout\n", 1)[1].split("\n## ", 1)[0]
    assert "](../README.md#install)" in checkout
    shown = {code for row in rows for code in re.findall(r"`([^`]+)`", row[1] + row[2])}
    assert not [code for code in shown if f"`{code}`" in page], "the install page repeats an install line"


def test_a_clone_makes_the_windows_download_as_the_readme_says(tmp_path):
    """The README's way from a clone: the command it gives writes every file it names into the
    folder it names, and each script there, naming no release, runs the mambaboot.pyz beside it."""
    import sys

    section = windows_section()
    command = re.search(r"From a clone, `(python3 tools/build_release\.py [^`]+)`\s+writes (.+?) into `(\w+)`", section, re.S)
    assert command, section
    argv = shlex.split(command.group(1))
    named = re.findall(r"`([\w.]+)`", command.group(2))
    assert named == ["bootstrap.bat", "bootstrap.ps1", "mambaboot.pyz", "SHA256SUMS"]
    subprocess.run([sys.executable, str(REPO / argv[1]), *argv[2:]], cwd=tmp_path, check=True, capture_output=True)
    out = tmp_path / command.group(3)
    assert set(named) <= {p.name for p in out.iterdir()}
    assert b'set "MB_RELEASE="\r\n' in (out / "bootstrap.bat").read_bytes()
    assert "$Release = ''\n" in (out / "bootstrap.ps1").read_text(encoding="ascii")


def test_the_windows_block_runs_as_typed_in_cmd(wine, tmp_path):
    """Each ```bat line of the README's Windows section typed at Wine's cmd prompt in a profile's
    Downloads folder: `.\\bootstrap.bat` (here with --help: the real run downloads) runs the script
    from the current folder, and the activation line, typed as shown, activates the environment
    that lands there (`Downloads\\py_3_12`, a Windows-layout environment mambaboot made portable)."""
    from mambaboot.pipeline import finish
    from tests.support import winenv
    from tests.support.wine import windows_path

    lines = [b.code.strip() for b in blocks(windows_section()) if b.lang == "bat"]
    assert len(lines) == 2 and all("\n" not in x for x in lines), lines
    bootstrap, activate = lines
    assert bootstrap == ".\\bootstrap.bat py 3.12"
    profile = tmp_path / "Users" / "Jane Doe"
    downloads = profile / "Downloads"
    downloads.mkdir(parents=True)
    (downloads / "bootstrap.bat").write_bytes((REPO / "bootstrap" / "bootstrap.bat").read_bytes())
    prefix = downloads / "py_3_12"
    winenv.build(prefix, tmp_path / "stub", "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe")
    finish.portable(str(prefix), True, written=[windows_path(prefix)])
    profile_is = f'set "USERPROFILE={windows_path(profile)}"'  # Wine sets its own at start-up
    usage = wine.typed([bootstrap.split(" ", 1)[0] + " --help", "echo exit=%errorlevel%"], cwd=downloads)
    assert "exit=0" in usage.stdout and "--envs-dir DIR" in usage.stdout, (usage.stdout, usage.stderr)
    run = wine.typed([profile_is, activate, "echo prefix=%CONDA_PREFIX%"], cwd=downloads)
    assert f"prefix={windows_path(prefix)}" in run.stdout.splitlines(), (run.stdout, run.stderr)
