"""Holding Ctrl-C and SIGTERM off a step that must not stop half-way.

Once an environment has been renamed aside for removal, stopping the deletion would leave a
half-deleted directory under a name nobody knows; finishing it takes a moment and is what the
user asked for. The signal is remembered and acted on as soon as the step is done.
"""

try:  # the C module under `signal`, without the enum module `signal` imports (remove's start-up)
    import _signal as signal
except ImportError:  # pragma: no cover - every CPython has it
    import signal

_HELD = (signal.SIGINT, signal.SIGTERM)


class held:
    """with held(): ... -- the signals that arrive meanwhile are acted on at its end. Only the
    main thread gets signals, and only it may set their handlers: elsewhere nothing is held."""

    def __enter__(self) -> None:
        self.caught, self.previous = [], {}
        try:
            for s in _HELD:
                self.previous[s] = signal.signal(s, self._catch)
        except ValueError:  # not the main thread
            self._restore()

    def _catch(self, signum, frame) -> None:
        self.caught.append(signum)

    def _restore(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)
        self.previous = {}

    def __exit__(self, exc_type, *exc) -> None:
        self._restore()
        if self.caught and exc_type is None:  # else what went wrong is the news
            if self.caught[0] == signal.SIGINT:
                raise KeyboardInterrupt
            from mambaboot.common.errors import Interrupted

            raise Interrupted(self.caught[0], "SIGTERM")
