"""A Reporter that remembers what it was told, for tests of library code."""

from typing import List, Optional


class Recorder:
    def __init__(self) -> None:
        self.steps: List[str] = []
        self.warnings: List[str] = []
        self.details: List[str] = []

    def step(self, message: str) -> None:
        self.steps.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def detail(self, message: str) -> None:
        self.details.append(message)

    def progress(self, done: int, total: Optional[int]) -> None:
        pass
