"""Ctrl-C, SIGTERM and SIGHUP, whoever sees them first.

Holding them off a step that must not stop half-way: once an environment has been renamed aside
for removal, stopping the deletion would leave a half-deleted directory under a name nobody
knows; finishing it takes a moment and is what the user asked for. The signal is remembered and
acted on as soon as the step is done (held).

A child that ended by one of them is an interruption too (child_interrupted): Ctrl-C goes to the
whole foreground process group, and on a busy machine the engine may end of it, and be reaped,
before our own handler has run, or our handler may not run at all (SIGINT ignored by whoever
started us). micromamba exits 0 or 1 by itself, never 130 (micromamba/src/main.cpp, 2.8.1: an
interruption it catches is logged and returns 0, any other error 1), so 128 + N or death by
signal N is the signal's doing, not a failure of the engine's own.
"""

try:  # the C module under `signal`, without the enum module `signal` imports (remove's start-up)
    import _signal as signal
except ImportError:  # pragma: no cover - every CPython has it
    import signal

_HELD = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
# what ends a run as an interruption, with the name its message gives
_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):  # not on Windows
    _NAMES[signal.SIGHUP] = "SIGHUP (the terminal went away)"


# The signal the run is ending by, once one was acted on: the work under way is rolling back on
# its way out, and a second signal (Ctrl-C pressed again, or the same one seen late by our
# handler after the engine's exit said it) must not cut that short.
_ending: list = []
_ignored: dict = {}  # the handlers ignore_late() replaced, for the next run in this process


def reset() -> None:
    """A new run (cli.main, once per process but in the tests): no interruption yet."""
    _ending.clear()
    for s, handler in _ignored.items():
        signal.signal(s, handler)
    _ignored.clear()


def ignore_late() -> None:
    """The run ended of an interruption, rolled back and said so: a signal from here on (the same
    Ctrl-C, seen late) is ignored rather than handled. Python's finalization puts back the default
    action of each signal it has a handler for, and leaves an ignored one ignored
    (Modules/signalmodule.c, _PySignal_Fini): handled, a late one would end the process by the
    signal after its exit code was chosen."""
    for s in _HELD:
        if s not in _ignored:
            _ignored[s] = signal.signal(s, signal.SIG_IGN)


def ending() -> bool:
    return bool(_ending)


def on_signal(signum: int, frame=None) -> None:
    """The handler cli sets for SIGINT, SIGTERM and SIGHUP: interrupt, unless the run is ending of
    an interruption already."""
    if not _ending:
        interrupt(signum)


def interrupt(signum: int) -> None:
    """Raise what the signal means for the run: KeyboardInterrupt for SIGINT (cli: exit 130),
    Interrupted for the others (128 + signum); the work under way rolls back on its way out."""
    _ending.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    from mambaboot.common.errors import Interrupted

    raise Interrupted(signum, _NAMES.get(signum, f"signal {signum}"))


# Windows: what a console program ended by Ctrl-C exits with (STATUS_CONTROL_C_EXIT)
_CONTROL_C_EXIT = 0xC000013A


def child_interrupted(code: int) -> None:
    """For a child's exit code as subprocess and child.stream give it (-N: ended by signal N):
    raise as interrupt() does when it ended by SIGINT, SIGTERM or SIGHUP, or exited 128 + one
    of them, as a program stopped by it exits."""
    if code == _CONTROL_C_EXIT:
        interrupt(signal.SIGINT)
    signum = -code if code < 0 else code - 128 if code > 128 else 0
    if signum in _NAMES:
        interrupt(signum)


class held:
    """with held(): ... -- the signals that arrive meanwhile are acted on at its end. Only the
    main thread gets signals, and only it may set their handlers: elsewhere nothing is held."""

    def __enter__(self) -> None:
        self.caught, self.previous = [], {}
        try:
            for s in _HELD:
                if signal.getsignal(s) != signal.SIG_IGN:  # ignored stays ignored (nohup, a background job)
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
        # else what went wrong is the news, or the interruption under way is
        if self.caught and exc_type is None and not _ending:
            interrupt(self.caught[0])
