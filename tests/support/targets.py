"""Targets that create and the bootstrap scripts must refuse (exit 4) and leave as they are."""

from pathlib import Path

USER_DIR, HOLDS_PYTHON, IS_FILE, OURS, LINK = "user-dir", "holds-python", "is-file", "ours", "link"


def occupy(prefix: Path, how: str, python_name: str = "bin/python3") -> None:
    """Put something at prefix the way a user's machine might have it."""
    if how == USER_DIR:
        prefix.mkdir()
        (prefix / "thesis.txt").write_text("precious")
    elif how == HOLDS_PYTHON:
        (prefix / python_name).parent.mkdir(parents=True, exist_ok=True)
        (prefix / python_name).write_text("#!/bin/sh\n")
    elif how == IS_FILE:
        prefix.write_text("a file")
    elif how == OURS:  # an environment mambaboot manages: create --force's business, never a script's
        (prefix / ".mambaboot").mkdir(parents=True)
        (prefix / ".mambaboot" / "record.json").write_text('{"tool": "mambaboot", "state": "complete"}')
    elif how == LINK:
        (prefix.parent / "elsewhere").mkdir()
        prefix.symlink_to(prefix.parent / "elsewhere")
    else:
        raise ValueError(how)
