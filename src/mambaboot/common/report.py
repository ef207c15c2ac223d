"""How pipeline steps tell the caller what is happening, without printing themselves."""

from typing import Optional, Protocol


class Reporter(Protocol):
    def step(self, message: str) -> None:
        """One line per pipeline step."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the run."""

    def detail(self, message: str) -> None:
        """Only shown with --verbose (e.g. micromamba's command line and output)."""

    def progress(self, done: int, total: Optional[int]) -> None:
        """Download progress in bytes."""

