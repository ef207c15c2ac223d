"""How pipeline steps tell the caller what is happening, without printing themselves."""

from __future__ import annotations  # annotations stay text: no typing at start-up


class Reporter:
    """What a reporter provides (output.TextReporter is the CLI's). A plain class, not a
    typing.Protocol: it documents the interface and costs no typing import."""

    def step(self, message: str) -> None:
        """One line per pipeline step."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the run."""

    def detail(self, message: str) -> None:
        """Only shown with --verbose (e.g. micromamba's command line and output)."""

    def progress(self, done: int, total: int | None) -> None:
        """Download progress in bytes."""

