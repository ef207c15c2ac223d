"""Running a child to completion while its output streams to the user.

Interrupted (Ctrl-C, or SIGTERM turned into an exception), the child is stopped before the
exception goes on, so nothing we started outlives us.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import subprocess
from collections import deque
from collections.abc import Callable

Sink = Callable[[str], None]


def stream(cmd: list[str], env: dict[str, str], echo: Sink | None = None, cwd: str | None = None,
           keep: int = 40, meanwhile: Callable[[], None] | None = None) -> tuple[int, list[str]]:
    """(exit code, the last `keep` lines of stdout+stderr); OSError if it cannot start.
    meanwhile: called once the child has started, before its output is read (which waits in
    the pipe): work that overlaps the child's. If it raises, the child is stopped."""
    tail: deque = deque(maxlen=keep)
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1,
    )
    try:
        if meanwhile is not None:
            meanwhile()
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if echo:
                echo(line)
        code = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        proc.stdout.close()
    return code, list(tail)


def shown(tail: list[str]) -> str:
    return "\n".join(f"  | {line}" for line in tail if line.strip())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
