"""Each command's --help lists the exit codes that command can end with, and only those:
the ones the guide's exit-code table (§5.14) says come "from" it."""

import re
import subprocess

import pytest

from mambaboot.commands import NAMES
from tests.conftest import MAMBABOOT, REPO, _clean_environ

COMMANDS = sorted(n.replace("_", "-") for n in NAMES)


def _guide_codes() -> dict:
    """command -> the exit codes §5.14 of the guide lists for it (143 is told with 130)."""
    text = (REPO / "docs" / "guide.md").read_text(encoding="utf-8")
    table = text.split("### 5.14 Exit codes", 1)[1].split("\n### ", 1)[0]
    found = {c: set() for c in COMMANDS}
    for m in re.finditer(r"^\| (\d+) \|.*\| ([^|]+) \|$", table, re.M):
        code, origin = int(m.group(1)), m.group(2)
        for command in COMMANDS if origin.strip() == "all" else re.findall(r"`([a-z-]+)`", origin):
            if code != 143:
                found[command].add(code)
    return found


OWN_CODES = _guide_codes()


def _help(*args: str) -> str:
    proc = subprocess.run([*MAMBABOOT, *args, "--help"], env=_clean_environ(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _codes(text: str) -> dict:
    table = text.split("exit codes:\n", 1)[1]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^ +(\d+)  (.*)$", table, re.M)}


def test_the_guide_table_is_read():
    assert OWN_CODES["create"] == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 141} and OWN_CODES["lock"] == {0, 1, 2, 9, 130, 141}


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
