"""Holding Ctrl-C and SIGTERM off a step that must not stop half-way.

Once an environment has been renamed aside for removal, stopping the deletion would leave a
half-deleted directory under a name nobody knows; finishing it takes a moment and is what the
user asked for. The signal is remembered and acted on as soon as the step is done.
"""

import contextlib
import signal
import threading

from mambaboot.common.errors import Interrupted

_HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held():
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    caught = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in _HELD}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        if caught[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(caught[0], "SIGTERM")
