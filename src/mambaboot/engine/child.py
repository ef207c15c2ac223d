"""Running a child to completion while its output streams to the user.

Interrupted (Ctrl-C, or SIGTERM turned into an exception), the child is stopped before the
exception goes on, so nothing we started outlives us. A child that Ctrl-C ended before we saw it
(it exited 130, or died of SIGINT) is the same interruption (signals.child_interrupted): the
engine, pip, a post-script alike.

On POSIX a child named by its path, in our working directory, is started with os.posix_spawn
(_Spawned) rather than subprocess: importing subprocess brings threading, selectors and
signal's enums, ~8 ms before create's engine could start (measured side by side); they load
while the engine runs instead. Windows, a bare command name (a PATH search in the child's
environment) and a cwd keep subprocess.Popen.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.engine import signals

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text): collections is not imported at start-up
    from collections.abc import Callable

Sink = "Callable[[str], None]"  # a line of output for the user


def stream(cmd: list[str], env: dict[str, str], echo: Sink | None = None, cwd: str | None = None,
           keep: int = 40, meanwhile: Callable[[], None] | None = None) -> tuple[int, list[str]]:
    """(exit code, the last `keep` lines of stdout+stderr); OSError if it cannot start.
    meanwhile: called once the child has started, before its output is read (which waits in
    the pipe): work that overlaps the child's. If it raises, the child is stopped."""
    tail: list[str] = []
    proc = None
    try:
        # A signal acted on as the spawn returns, before proc holds it, would leave a child nobody
        # stops (the engine writing into the prefix the rollback deletes): acted on once it does.
        with signals.held():
            if cwd is None and hasattr(os, "posix_spawn") and os.sep in cmd[0]:
                proc = _Spawned(cmd, env)
            else:
                import subprocess

                proc = subprocess.Popen(
                    cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
                )
        if meanwhile is not None:
            meanwhile()
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if len(tail) > keep:
                del tail[0]
            if echo:
                echo(line)
        code = proc.wait()
    except BaseException:
        if proc is not None:
            _stop(proc)
        raise
    finally:
        if proc is not None:
            proc.stdout.close()
    signals.child_interrupted(code)
    return code, tail


def shown(tail: list[str]) -> str:
    """The last lines a child wrote, as a failure quotes them: as the child wrote them. micromamba
    hides a URL's password and token in all it writes (Console::print and the log's
    make_safe_log_record pass every line through hide_secrets: libmamba/src/core/output.cpp,
    logging.cpp, 2.8.1), and pip in what it logs (pip/_internal/utils/misc.py redact_auth_from_url)."""
    return "\n".join(f"  | {line}" for line in tail if line.strip())


def command(cmd: list[str]) -> str:
    """A command line as -v shows it: `$ ` and its words, each URL among them without its password
    or token (common/urlrule.py shown: a channel given with its credentials)."""
    from mambaboot.common import urlrule

    return "$ " + " ".join(urlrule.shown(word) for word in cmd)


class _Spawned:
    """What stream needs of a subprocess.Popen(stdin=DEVNULL, stdout=PIPE, stderr=STDOUT,
    text=True, errors="replace"), started by os.posix_spawn: the same text (the locale's
    encoding, universal newlines), the same exit codes (-N for a signal), the same OSError when
    the program cannot be executed (glibc >= 2.24 and macOS report a failed exec from
    posix_spawn itself). Like Popen's restore_signals, SIGPIPE and SIGXFSZ, which Python
    ignores, are back to their defaults in the child; our descriptors are not inherited
    (Python opens them non-inheritable, PEP 446), so there is nothing to close."""

    def __init__(self, cmd: list[str], env: dict[str, str]):
        import _signal

        defaults = [getattr(_signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(_signal, name)]
        read_end, write_end = os.pipe()
        try:
            self.pid = os.posix_spawn(cmd[0], cmd, env, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, write_end, 2),
            ], setsigdef=defaults)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self.returncode: int | None = None
        self.stdout = open(read_end, "r", errors="replace")

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def ended_within(self, seconds: float) -> bool:
        """Polled as Popen.wait(timeout) polls on POSIX: a doubling sleep up to 50 ms."""
        import time

        deadline, delay = time.monotonic() + seconds, 0.0005
        while self.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            delay = min(delay * 2, left, 0.05)
            time.sleep(delay)
        return True

    def _signal(self, name: str) -> None:
        import _signal

        if self.poll() is None:  # never a pid that was reaped, which another process may have now
            os.kill(self.pid, getattr(_signal, name))

    def terminate(self) -> None:
        self._signal("SIGTERM")

    def kill(self) -> None:
        self._signal("SIGKILL")


def _stop(proc) -> None:
    """Stop a started child (a Popen or a _Spawned): SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    if not _ended_within(proc, 10):
        proc.kill()
        proc.wait()


def _ended_within(proc, seconds: float) -> bool:
    if isinstance(proc, _Spawned):
        return proc.ended_within(seconds)
    import subprocess

    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False
