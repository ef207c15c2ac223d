"""Stop a running mambaboot at a known point, without sleeps.

The micromamba stand-in blocks on a FIFO after it has linked the environment
(STANDIN_BLOCK_FIFO). Opening the FIFO for writing returns only once the stand-in has
opened it for reading, so when `paused()` yields, mambaboot is mid-create: the prefix is
populated, no record exists yet, and the pending marker is the only proof it is ours.

`Held` stops a run at any point of its own (tests/support/killpoints.py with KILLPOINT_SIGNAL=STOP)
until the test lets it go on.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Iterator, List


def _hangup_at_default() -> None:
    """As a job in a terminal starts: a suite run under nohup (or a CI runner that ignores SIGHUP)
    would hand its ignored SIGHUP down, and mambaboot keeps an ignored SIGHUP ignored."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@contextlib.contextmanager
def paused(command: List[str], env: Dict[str, str], cwd: Path, fifo: Path,
           stderr=subprocess.PIPE) -> Iterator[subprocess.Popen]:
    """Run command (a full mambaboot command line) until the engine blocks on fifo.
    stderr: where its step lines go (a pipe of the test's own, to close while it is paused)."""
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        command, env={**env, "STANDIN_BLOCK_FIFO": str(fifo)},
        cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
        start_new_session=True,  # its own process group, like a job in a shell
        preexec_fn=_hangup_at_default,
    )
    # A run that ends before the stand-in opens the FIFO (an engine that never blocks there, a
    # refusal before the engine) would leave the open below waiting for ever: once the run is
    # gone, a reader of the test's own opens it, so the test fails naming what the run said.
    opened = threading.Event()
    watcher = threading.Thread(target=_release_when_gone, args=(proc, fifo, opened), daemon=True)
    watcher.start()
    try:
        writer = os.open(fifo, os.O_WRONLY)  # returns when the stand-in is blocked reading
    finally:
        opened.set()
    ended = proc.poll() is not None
    try:
        if not ended:
            yield proc
    finally:
        os.close(writer)  # EOF releases the stand-in if it is still there
        if proc.poll() is None:
            proc.kill()
        said = proc.communicate(timeout=120)
        watcher.join()
    if ended:
        raise AssertionError(f"the run ended (exit {proc.returncode}) before the engine blocked on {fifo}: {said}")


def _release_when_gone(proc: subprocess.Popen, fifo: Path, opened: threading.Event) -> None:
    """Once the run is gone, a reader held open until the test's writer has opened: one closed at once
    could come and go before that open began, which would then wait for ever (it did, in real mode)."""
    proc.wait()
    try:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        opened.wait()
    finally:
        os.close(reader)


KILLER = Path(__file__).parent / "killpoints.py"


def killed_at(world, at: str, args: list, env=None) -> subprocess.CompletedProcess:
    """mambaboot args, SIGKILLed as the run reaches `at` (module.function+K: killpoints.py), or
    sent the signal env's KILLPOINT_SIGNAL names (INT: a Ctrl-C, to the run alone)."""
    return subprocess.run([sys.executable, str(KILLER), "-1", str(world.root.parent / "calls"), "--", *args],
                          env={**world.env, **(env or {}), "KILLPOINT_AT": at}, cwd=str(world.envs),
                          capture_output=True, text=True, start_new_session=True, timeout=600)


class Held:
    """args run until it reaches the point at, where it stops itself (SIGSTOP), until go()."""

    def __init__(self, world, at: str, args: list, env=None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(KILLER), "-1", str(world.root.parent / "held-calls"), "--", *args],
            env={**world.env, **(env or {}), "KILLPOINT_AT": at, "KILLPOINT_SIGNAL": "STOP"}, cwd=str(world.envs),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        _, status = os.waitpid(self.proc.pid, os.WUNTRACED)  # returns once it has stopped itself
        assert os.WIFSTOPPED(status), f"the run did not reach {at}: {self.proc.communicate()}"

    def __enter__(self) -> "Held":
        return self

    def __exit__(self, *exc) -> None:  # a failed test leaves no run stopped for ever
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=600)

    def go(self) -> tuple:
        os.kill(self.proc.pid, signal.SIGCONT)
        out, err = self.proc.communicate(timeout=600)
        return self.proc.returncode, err
