"""Regular expressions compiled where they are first used, not when their module is imported.

A module's patterns are many and a run uses few: compiling them all at import cost a create
~20 ms of CPU for patterns it never matched. `lazy(pattern, flags)` stands for `re.compile(pattern,
flags)`: every attribute of the compiled pattern (match, search, sub, findall, ...) compiles it
the first time and is the compiled pattern's from then on.

Standard library only, and nothing from mambaboot (no `from __future__` either: pack's unpack
script carries this module with relocate/scan.py, each after the other in one file).
"""


class lazy:  # noqa: N801 - read as re.compile is
    __slots__ = ("_source", "_compiled")

    def __init__(self, pattern, flags=0):
        self._source = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name):
        compiled = self._compiled
        if compiled is None:
            import re

            compiled = self._compiled = re.compile(*self._source)
        return getattr(compiled, name)
