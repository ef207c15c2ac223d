"""A regular output file (`pack -o FILE`, `lock -o FILE`) written under FILE's place lock
(placelock.py), so the partial file a killed run left beside FILE is settled by the next run
that writes FILE (settle.py: operation x "writing").

The partial file's name, the run's temporary name beside FILE (outputfile.partial), carries
the intent's token (the run's: common/files/tempname.py); it is in the intent (stage "writing", fact `partial`) before the file is made (O_EXCL,
never through a link), and the file is renamed over FILE, or deleted, before the lock is
dropped. A partial file that cannot be deleted keeps the intent (placelock.Intent) for the next run. A stream
(`-`, a device, a named pipe) takes no lock: it is built in the temporary directory.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import sys

from mambaboot.common.files import outputfile, tempname
from mambaboot.environment import placelock

STAGE = "writing"


class Staged:
    """with Staged(operation, output) as out: build the output in out.file (binary), then
    out.commit(replace). out.settled: what settling a killed run's partial file did."""

    def __init__(self, operation: str, output: str, mode: int = 0o666) -> None:
        self.operation, self.output, self.mode = operation, output, mode
        self.path = self.file = self._intent = None
        self.settled: list = []
        self._done = False

    def __enter__(self) -> "Staged":
        what, where = outputfile.kind(self.output)
        if what != outputfile.FILE:
            self.path, self.file = outputfile.staging(self.output)
            return self
        token = tempname.run_token()
        self._intent = placelock.Intent(self.operation, where, token=token)
        self._intent.__enter__()
        try:
            self.settled = self._intent.settled
            staged = outputfile.partial(where)
            self._intent.stage(STAGE, partial=os.path.basename(staged))
            self.path, self.file = outputfile.staging(self.output, staged, self.mode)
        except BaseException:
            self._intent.__exit__(*sys.exc_info())
            raise
        return self

    def commit(self, replace: bool = True) -> str:
        """The built output written to what the user named (outputfile.write); where it went."""
        self._close(sync=self._intent is not None)
        where = outputfile.write(self.output, staged=self.path, replace=replace)
        self._done = True
        return where

    def _close(self, sync: bool = False) -> None:
        if self.file is not None and not self.file.closed:
            self.file.flush()
            if sync:  # what is renamed over the user's file is whole after a power loss too
                os.fsync(self.file.fileno())
            self.file.close()

    def __exit__(self, *exc) -> None:
        failed = exc  # the intent settles a failure (the partial file deleted by its row), or keeps it
        try:
            self._close()
            if not self._done and self.path is not None:
                outputfile.discard(self.path)
        except BaseException:
            failed = sys.exc_info()
            raise
        finally:
            if self._intent is not None:
                self._intent.__exit__(*failed)


def write(operation: str, output: str, data: bytes, mode: int = 0o666) -> list:
    """data written to the output the user named; what settling a killed run's partial did."""
    if outputfile.is_stream(output):
        outputfile.write(output, data)
        return []
    with Staged(operation, output, mode) as out:
        out.file.write(data)
        out.commit()
        return out.settled
