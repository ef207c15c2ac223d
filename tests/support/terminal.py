"""A program on a pseudo-terminal of its own, driven as a user at a keyboard would.

The program is the session leader with the pty as its controlling terminal (pty.fork), so an
interactive shell behaves as in a terminal window: reads its start-up files, draws its prompt,
runs its prompt hooks. Synchronisation is by what appears on the screen (expect), never by time.
"""

import os
import pty
import re
import select
import time


class Terminal:
    def __init__(self, argv, env, cwd=None):
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the program
            try:
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        # everything the program wrote, kept whole; expect searches from the end of its last match
        self.pid, self.fd, self._transcript, self._at = pid, fd, "", 0

    def transcript(self) -> str:
        """Everything the program wrote so far, from its first byte (matched or not)."""
        return self._transcript

    @property
    def seen(self) -> str:
        """What the program wrote after the last match."""
        return self._transcript[self._at:]

    def expect(self, pattern: str, timeout: float = 60) -> "re.Match":
        """Wait until the output after the last match matches pattern (the match's positions are
        in the whole transcript)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self._transcript, self._at)
            if match:
                self._at = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} did not appear; the screen showed:\n{self.seen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the program and every other user of the terminal are gone
                    data = b""
                if not data:
                    raise AssertionError(f"{pattern!r}: the program ended; the screen showed:\n{self.seen}")
                self._transcript += data.decode("utf-8", "replace").replace("\r\n", "\n")

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def finish(self, timeout: float = 60) -> int:
        """Read what is left until the terminal closes (the program and its children are gone);
        the program's exit status."""
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(self.pid, 9)
                raise AssertionError(f"the program did not end; the screen showed:\n{self.seen}")
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            self._transcript += data.decode("utf-8", "replace").replace("\r\n", "\n")
        os.close(self.fd)
        return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
