"""Rendering for the terminal: step lines and progress on stderr, results on stdout."""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import sys


def counted(n: int, one: str, many: str = "") -> str:
    """"1 entry", "2 entries": a count with its noun as English says it (many: one + "s" when not given)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def some(items, at_most: int) -> str:
    """"a, b, c and 4 more": the first at_most of items, and how many more there are."""
    items = list(items)
    more = len(items) - at_most
    return ", ".join(items[:at_most]) + (f" and {more} more" if more > 0 else "")


def shown(text: str, keep: str = "") -> str:
    """text as human-readable output writes it: each character a terminal would act on rather
    than show (C0 and C1 controls, DEL, line and paragraph separators, format characters such as
    bidirectional overrides, an undecodable byte's surrogate) written as Python writes it in a
    string, "\\x1b", "\\u202e", so that a name holding an escape sequence cannot drive the
    terminal or fake a line; keep: characters left as they are (a message's own newlines).
    Nothing else is changed: a URL in the text was written by common/urlrule.py where it was put in."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def say(line: str, stream=None) -> None:
    """A line of human-readable output (stdout unless stream), its names shown()."""
    print(shown(line, "\n"), file=sys.stdout if stream is None else stream)


class TextReporter:
    def __init__(self, quiet: bool = False, verbose: bool = False, stream=None):
        self.quiet = quiet
        self.verbose = verbose
        self.stream = sys.stderr if stream is None else stream  # the one of the moment, not of the import
        self._tty = self.stream.isatty()
        self._progress_shown = False

    def _line(self, text: str) -> None:
        if self._progress_shown:
            self.stream.write("\n")
            self._progress_shown = False
        self.stream.write(shown(text, "\n\t") + "\n")
        self.stream.flush()

    def step(self, message: str) -> None:
        if not self.quiet:
            self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"warning: {message}")

    def detail(self, message: str) -> None:
        if self.verbose:
            self._line(f"    {message}")

    def progress(self, done: int, total: int | None) -> None:
        if self.quiet or not self._tty:
            return
        mib = done / (1 << 20)
        text = f"  downloading micromamba: {mib:.1f} MiB" + (f" / {total / (1 << 20):.1f} MiB" if total else "")
        self.stream.write("\r" + text)
        self.stream.flush()
        self._progress_shown = True


def error(message: str, stream=None) -> None:
    stream = sys.stderr if stream is None else stream
    stream.write(f"mambaboot: error: {shown(message, chr(10) + chr(9))}\n")
    stream.flush()


def gone_readers() -> list | None:
    """[stdout] if its reader has gone (a pipe closed early), [] if not, or None where that cannot
    be asked (no poll: Windows). A pipe with no reader polls POLLERR on Linux (fs/pipe.c
    pipe_poll), POLLHUP on the BSDs and macOS; a file or a terminal polls neither. stderr is not
    asked: what cannot be written there is dropped where it is written (cli._Unfailing)."""
    import select

    if not hasattr(select, "poll"):
        return None
    fd = _descriptor(sys.stdout)
    if fd is None:
        return []
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return [sys.stdout] if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)) else []


def reader_gone_error(exc: OSError) -> bool:
    """An error a write to a pipe whose reader has gone raises: EPIPE, or EINVAL on Windows
    (python/cpython#79935)."""
    import errno

    return exc.errno in (errno.EPIPE, errno.EINVAL)


def failing_writes() -> list:
    """[stdout] if its write failed as a write to a pipe without a reader fails (a buffered stream
    keeps what it could not write, and its flush fails again), else []."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        if reader_gone_error(exc):
            return [sys.stdout]
    except (AttributeError, ValueError):  # replaced or closed (an embedding, a test's capture)
        pass
    return []


def _descriptor(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # replaced or closed (an embedding, a test's capture)
        return None


def to_null(stream) -> None:
    """stream's descriptor pointed at the null device: what is still buffered for it is dropped there."""
    fd = _descriptor(stream)
    if fd is None:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


# A standard stream the shell closed (`>&-`, `2>&-`, `<&-`): how the null device stands in for it.
# stdout read-only, so that a write fails with EBADF as it would on the closed descriptor (exit 9,
# as coreutils' close_stdout reports `ls >&-`); stderr write-only, so that progress nobody asked
# for is dropped and the run goes on (close_stdout checks stdout alone); stdin at end of file.
_STAND_INS = ((0, "stdin", os.O_RDONLY, "r"), (1, "stdout", os.O_RDONLY, "w"), (2, "stderr", os.O_WRONLY, "w"))


def stand_in_for_closed_streams() -> None:
    """Python leaves sys.stdin/stdout/stderr None for a descriptor closed at its start, and the
    first file mambaboot opened would take that number, and with it what a child writes to the
    stream (git's sanitize_stdfds and OpenSSH's sanitise_stdfd guard the same). The stand-in is
    not inherited: the program `run` or `shell` execs gets the stream closed, as the user gave it."""
    for fd, name, flags, mode in _STAND_INS:
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
            taken = True  # something of the interpreter's own holds the number now: leave it be
        except OSError:
            taken = False
        null = os.open(os.devnull, flags)
        if not taken and null != fd:
            os.dup2(null, fd, inheritable=False)
            os.close(null)
            null = fd
        setattr(sys, name, open(null, mode, encoding="utf-8", errors="backslashreplace", closefd=null != fd))


def emit_json(data: dict, stream=None) -> None:
    import json  # with re, ~10 ms: not for the commands that print text

    stream = sys.stdout if stream is None else stream
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        # A code page that cannot hold every character (Windows, output redirected: the ANSI one),
        # or a file name's undecodable bytes (surrogates): all of it \u-escaped, valid JSON in any.
        text = json.dumps(data, indent=2, sort_keys=True)
    stream.write(text + "\n")
    stream.flush()


def plan_text(plan: dict) -> str:
    mm = plan["micromamba"]
    source = mm["path"] if mm["kind"] == "local" else mm["url"]
    lock = plan.get("lock")
    specs = " ".join(plan["specs"])
    if lock:
        pip = f" and {len(lock['pip'])} pip packages" if lock.get("pip") else ""
        specs = f"exactly the {len(lock['entries'])} packages{pip} of {plan['lock_path']}"
        if plan.get("lock_adds"):
            specs += (f", with {', '.join(plan['lock_adds'])} added (the lock does not hold them), solved against "
                      f"its packages from {' '.join(plan['lock_channels'])}")
    rows = [
        ("prefix", plan["prefix"]),
        ("specs", specs),
        ("channels", " ".join(plan["channels"]) or "(from the lock's URLs)"),
        ("cache dir", plan["cache_dir"]),
        ("package cache", ",".join(plan["pkgs_dirs"])),
        ("micromamba", f"{mm['kind']}: {source}"),
        ("platform", plan["subdir"]),
    ]
    rows += [(label, " ".join(plan[key])) for label, key in
             (("pip", "pip"), ("overlays", "overlays"), ("post-scripts", "post_scripts")) if plan.get(key)]
    return "\n".join(f"{k:>14}: {v}" for k, v in rows)
