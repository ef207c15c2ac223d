"""Each command's --help lists the exit codes that command can end with, and only those:
the ones the reference's exit-code table (docs/reference.md, §3.14) says come "from" it."""

import json
import re
import subprocess

import pytest

from mambaboot.commands import NAMES
from tests.conftest import MAMBABOOT, REPO, _clean_environ

COMMANDS = sorted(n.replace("_", "-") for n in NAMES)


def _guide_codes() -> dict:
    """command -> the exit codes the reference's table lists for it (143 and 129 are told with 130)."""
    text = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    table = text.split("### 3.14 Exit codes", 1)[1].split("\n### ", 1)[0]
    found = {c: set() for c in COMMANDS}
    for m in re.finditer(r"^\| (\d+) \|.*\| ([^|]+) \|$", table, re.M):
        code, origin = int(m.group(1)), m.group(2)
        for command in COMMANDS if origin.strip() == "all" else re.findall(r"`([a-z-]+)`", origin):
            if code not in (129, 143):
                found[command].add(code)
    return found


OWN_CODES = _guide_codes()
EVERY_COMMANDS = set.intersection(*OWN_CODES.values())


def _section_codes() -> dict:
    """command -> the codes its reference section's "Exit codes:" paragraph names (§ references
    and the interrupted pair 130/143, told as 130, aside)."""
    text = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    found = {}
    for m in re.finditer(r"^### 3\.\d+ `mambaboot ([a-z-]+)`\n(.*?)(?=^##+ )", text, re.M | re.S):
        paragraph = m.group(2).split("\nExit codes:", 1)[1].split("\n\n", 1)[0]
        words = re.sub(r"\[[^\]]*§[\d.]+\]\([^)]*\)|§[\d.]+|/143|/129", "", paragraph)
        found[m.group(1)] = {int(n) for n in re.findall(r"(?<![\w.-])(\d{1,3})(?![\w.])", words)}
    return found


def _help(*args: str) -> str:
    proc = subprocess.run([*MAMBABOOT, *args, "--help"], env=_clean_environ(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _codes(text: str) -> dict:
    table = text.split("exit codes:\n", 1)[1]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^ +(\d+)  (.*)$", table, re.M)}


def test_the_reference_table_is_read():
    assert OWN_CODES["create"] == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 141} and OWN_CODES["lock"] == {0, 1, 2, 4, 5, 6, 9, 130, 141}


def test_the_reference_says_once_which_codes_every_command_has():
    text = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    bullet = text.split("- **Exit codes** every command can end with:", 1)[1].split("\n- ", 1)[0]
    assert EVERY_COMMANDS == {0, 1, 2, 9, 130, 141}
    assert {int(n) for n in re.findall(r"\b(\d+)\b", re.sub(r"\[§3.14\]\([^)]*\)|/143|/129", "", bullet))} == EVERY_COMMANDS


@pytest.mark.parametrize("command", sorted(OWN_CODES))
def test_a_commands_section_names_its_other_exit_codes(command):
    """Beyond every command's codes (which a section may still explain), exactly the table's."""
    assert _section_codes()[command] - EVERY_COMMANDS == OWN_CODES[command] - EVERY_COMMANDS


@pytest.mark.parametrize("command", sorted(OWN_CODES))
def test_a_command_lists_only_its_own_exit_codes(command):
    assert set(_codes(_help(command))) == OWN_CODES[command]


def test_doctor_says_what_its_exit_11_means():
    assert _codes(_help("doctor"))[11] == "doctor: a check found an error, or --undo-shell-init left something undone"


def test_run_says_the_other_codes_are_the_commands_own():
    assert "any other code not listed here is the command's own" in _codes(_help("run"))[0]


def test_the_top_level_help_has_an_example_and_every_exit_code():
    text = _help()
    assert "example:\n  mambaboot create myenv --python 3.12\n  mambaboot run ./myenv_3_12 -- python -V\n" in text
    assert set(_codes(text)) == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 126, 127, 130, 141}


def _words(cell: str) -> str:
    """A table cell's words: Markdown's code marks and escaped bars are not words."""
    return cell.replace("\\|", "|").replace("`", "").strip()


def _markdown_rows(path, heading: str) -> dict:
    """code -> its meaning, from the first table after heading."""
    text = (REPO / path).read_text(encoding="utf-8").split(heading, 1)[1]
    return {int(m.group(1)): _words(m.group(2))
            for m in re.finditer(r"^\| (\d+) \| ((?:[^|\\]|\\\|)+) \|", text.split("\n\n#", 1)[0], re.M)}


def test_help_readme_and_guide_word_each_exit_code_alike():
    """One table (common/errors.py EXIT_CODES) words each code: `mambaboot --help` prints it,
    README's table says exactly it, the reference's (§3.14) starts each meaning with it."""
    from mambaboot.common.errors import EXIT_CODES

    words = dict(EXIT_CODES)
    assert _codes(_help()) == words
    assert _markdown_rows("README.md", "## Exit codes\n") == words
    guide = _markdown_rows("docs/reference.md", "### 3.14 Exit codes\n")
    assert {code: guide[code][:len(said)] for code, said in words.items()} == words


@pytest.mark.parametrize("typed, near", [("craete", "create"), ("activate_scripts", "activate-scripts"),
                                         ("lst", "list"), ("zzz", None)])
def test_a_mistyped_command_is_told_the_nearest_one(typed, near):
    proc = subprocess.run([*MAMBABOOT, typed, "x", "--json"], env=_clean_environ(), capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    hint = f"; did you mean {near!r}?" if near else ""
    message = f"{typed!r} is not a mambaboot command{hint} (`mambaboot --help` lists them)"
    assert proc.stderr == f"mambaboot: error: {message}\n"
    assert json.loads(proc.stdout) == {"error": message, "exit_code": 2}


def test_create_s_help_gives_the_activation_line_of_each_shell():
    """The lines to use an environment are the ones every page gives: PowerShell's reads activate.ps1
    as text, so that no execution policy refuses it (shell/activation/powershell.line)."""
    from mambaboot.shell.activation import powershell

    text = _help("create")
    assert ". ./myenv_3_12/.mambaboot/activate.sh" in text
    assert 'call "C:\\envs\\myenv_3_12\\.mambaboot\\activate.bat"' in text
    assert "  " + powershell.line("C:\\envs\\myenv_3_12") + "\n" in text
