"""Regular expressions compiled where they are first used, not when their module is imported.

A module's patterns are many and a run uses few: compiling them all at import cost a create
~20 ms of CPU for patterns it never matched. `lazy(pattern, flags)` stands for `re.compile(pattern,
flags)`: every attribute of the compiled pattern (match, search, sub, findall, ...) compiles it
the first time and is the compiled pattern's from then on.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


class lazy:  # noqa: N801 - read as re.compile is
    __slots__ = ("_source", "_compiled")

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name: str):
        compiled = self._compiled
        if compiled is None:
            import re

            compiled = self._compiled = re.compile(*self._source)
        return getattr(compiled, name)
