"""Command line: parse, call one function per command, map errors to exit codes. Thin.

Imports of the pipeline happen inside the command functions so that `--version` and
`--help` cost little more than starting Python. common/errors.py too is imported only where an
error is raised or handled: `run`'s way to its exec raises none, and the two modules (a dozen
classes made) cost its start-up ~0.8 ms.
"""

import os
import sys

from mambaboot import __version__
from mambaboot.commands import NAMES, TOP_LEVEL_HELP


def _parser_class():
    import argparse  # not for --version or --help: their answers need no parser

    from mambaboot.common.errors import UsageError

    class _Parser(argparse.ArgumentParser):
        """argparse, but a bad command line is a typed error like any other: main() reports it,
        as JSON too when --json was asked for (argparse alone prints usage and exits 2)."""

        def error(self, message: str):
            self.print_usage(sys.stderr)
            command = self.prog.partition(" ")[2]  # "mambaboot create" -> "create"
            raise UsageError(f"{command}: {message}" if command else message)

        def _get_formatter(self):
            # argparse makes one on every add_argument, and without a width it imports shutil
            # (with bz2, lzma, zlib, fnmatch) for the terminal's: the same width, without them
            return self.formatter_class(prog=self.prog, width=_columns() - 2)

    return _Parser, argparse


def _columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _chosen(argv) -> tuple:
    """The command modules to register: only the named command's when argv names one, so a run
    imports and builds one subparser; every module when it names none (top-level help, errors)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    module = first.replace("-", "_") if first else None
    return (module,) if module in NAMES else NAMES


def _parser(argv=()):
    from mambaboot.commands._common import top_level_help

    _Parser, argparse = _parser_class()
    parser = _Parser(
        prog="mambaboot",
        description="Bootstrap a self-contained conda environment (Python + conda + mamba) with micromamba, "
        "leaving nothing behind outside it and the package cache.",
        epilog=top_level_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mambaboot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    import importlib

    for name in _chosen(argv):
        importlib.import_module(f"mambaboot.commands.{name}").register(commands)
    return parser


class _Arguments:
    """What the parser's Namespace holds, for a command line commands/options.py read (what
    types.SimpleNamespace gives, without importing types: ~1 ms of create's start-up)."""

    def __init__(self, **values) -> None:
        self.__dict__.update(values)


def _fast(argv):
    """(the command's name, its run() with what argv means, whether --json was asked for) when
    argv names a command whose table (its module's OPTIONS, commands/options.py) reads the rest;
    None leaves argv to the parser. No argparse, and so no re, enum, gettext or shutil: more than
    many a command's own work (run's, cache info's, remove's), ~15 ms of create's and adopt's
    start-up on a machine whose Python starts in ~18 ms (tests/test_startup_structure.py checks
    that both read every command line the same way)."""
    name = argv[0] if argv else ""
    module = name.replace("-", "_")
    if module not in NAMES or "_" in name:  # activate-scripts, not activate_scripts
        return None
    __import__(f"mambaboot.commands.{module}")
    command = sys.modules[f"mambaboot.commands.{module}"]
    from mambaboot.commands import options

    values = options.read(command.OPTIONS, argv[1:])
    if values is None:
        return None
    args = _Arguments(**values)
    return name, lambda: command.run(args), values.get("json", False)


def _not_a_command(argv) -> "str | None":
    """What to say when argv's first word names no command (None when it names one, or is an
    option): argparse lists every command; the nearest one (difflib's ratio) is what a typo needs."""
    word = argv[0] if argv else ""
    commands = [name.replace("_", "-") for name in NAMES]
    if not word or word.startswith("-") or word in commands:
        return None
    import difflib

    near = difflib.get_close_matches(word, commands, n=1)
    return (f"{word!r} is not a mambaboot command" + (f"; did you mean {near[0]!r}?" if near else "")
            + " (`mambaboot --help` lists them)")


def _interrupted(signum, frame) -> None:
    """The handler of SIGINT, SIGTERM and SIGHUP: the run ends as interrupted, the work under way
    rolling back on its way out (KeyboardInterrupt for Ctrl-C, Interrupted for the others). Once
    it is ending so, by a signal or by an engine that a signal ended first, another one (Ctrl-C
    pressed again, or the same one seen late) is noted only: the rollback is not cut short."""
    from mambaboot.engine import signals

    signals.on_signal(signum)


def _on_hangup(signal):
    """SIGHUP (the terminal closed under a create) undoes the run as SIGTERM does, where its
    default would end the process at once, leaving the prefix half made until the next run.
    Ignored, it stays ignored: nohup (and a shell's disown) mean the run is to outlive its
    terminal. The previous handler, or None where nothing was set (no SIGHUP: Windows)."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or signal.getsignal(hangup) != signal.SIG_DFL:
        return None
    return signal.signal(hangup, _interrupted)


def entry(argv=None) -> None:
    """Where the installed command starts (its console script, `python -m mambaboot`, the zipapp):
    main, then the process ends as the interpreter would end it, its exit handlers run (what others
    registered: a test's probe, a benchmark's timer) and its streams flushed, but without the
    teardown that follows, which collects garbage among every object still alive and frees each one
    (~8 ms of a create, ~3 once collection is skipped; docs/benchmarks.md): objects alive at exit are
    promised no __del__. Without atexit._run_exitfuncs (CPython's, what Py_FinalizeEx calls first) as
    sys.exit ends it. What cannot be written then (a handler's output on a full disk) is dropped,
    and Ctrl-C meanwhile is the run's 130: never the interpreter's 120, nor its traceback."""
    code = main(argv)
    import atexit

    handlers = getattr(atexit, "_run_exitfuncs", None)
    if handlers is None:
        sys.exit(code)
    try:
        handlers()  # and forgotten: an exit below does not run them again
    except KeyboardInterrupt:
        code = _ctrl_c()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            from mambaboot.common import output

            output.to_null(stream)
        except KeyboardInterrupt:
            code = _ctrl_c()
    os._exit(code)


class _Unfailing:
    """sys.stderr while a command runs: a write or a flush that fails (a full disk behind `2>`, the
    reader of its pipe gone) drops what it says, and the descriptor goes to the null device, where
    what is still buffered and every later line go too. A step line or a message that cannot be
    shown never fails the run nor changes its code: a create goes on, and a failure keeps its code.
    Here, not in common/output.py: `run`, whose way to its exec imports no more than it needs,
    writes only a failure's message."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __getattr__(self, name: str):
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError:
            self._dropped()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            self._dropped()

    def _dropped(self) -> None:
        from mambaboot.common import output

        output.to_null(self.stream)
        try:
            self.stream.flush()  # what it still holds, into the null device
        except (OSError, ValueError):
            pass


def main(argv=None) -> int:
    if sys.stdout is None or sys.stderr is None or sys.stdin is None:  # closed by the shell (`>&-`)
        from mambaboot.common import output

        output.stand_in_for_closed_streams()
    stderr = sys.stderr
    sys.stderr = stderr if isinstance(stderr, _Unfailing) else _Unfailing(stderr)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before the command's handler is set, or after it is put back: the last flush
        return _ctrl_c()
    finally:
        sys.stderr = stderr


def _ctrl_c() -> int:
    """Ctrl-C the command's own handler does not see (the output's last flush waiting on a slow
    reader, `mambaboot list | less`): exit 130 with its one line, nothing more of stdout, no
    traceback. A second one ends a wait of that line on the same reader (`2>&1 | less`), and one
    after it changes nothing."""
    from mambaboot.common import output
    from mambaboot.engine import signals

    output.to_null(sys.stdout)
    try:
        _fail("interrupted by Ctrl-C", 130, False)
    except KeyboardInterrupt:
        pass
    signals.ignore_late()
    return 130


def _main(argv) -> int:
    # A name its encoding cannot hold (環境 in a Windows code page, output redirected; a file name's
    # undecodable bytes under a UTF-8 locale) is escaped, as Python escapes it on stderr: strict,
    # it ended the command as a bug (exit 1) halfway through its output.
    if getattr(sys.stdout, "errors", None) == "strict":
        try:
            sys.stdout.reconfigure(errors="backslashreplace")
        except AttributeError:  # not a TextIOWrapper (an embedding's stream)
            pass
    code = _dispatch(sys.argv[1:] if argv is None else argv)
    signals = sys.modules.get("mambaboot.engine.signals")
    if signals is not None and signals.ending():  # interrupted: what stdout still holds is not waited on
        from mambaboot.common import output

        output.to_null(sys.stdout)
    # stdout written out here, not at the interpreter's exit: it would print "Exception ignored"
    # and exit 120. It may fail for a reader gone (EPIPE), or a full disk or a failing device behind `>`.
    exc = _stdout_error()
    if exc is None:
        return code
    if code:  # the command failed and said why (this write's error among it): its code says more
        from mambaboot.common import output

        output.to_null(sys.stdout)
        return code
    return _reader_gone(exc) or _unwritable(exc)


def _dispatch(argv: list) -> int:
    if argv == ["--version"]:  # the most frequent probe: no parser needed to answer it
        print(f"mambaboot {__version__}")
        return 0
    if argv in (["--help"], ["-h"]):  # the top-level help, as argparse would print it at 80 columns
        sys.stdout.write(TOP_LEVEL_HELP)
        return 0
    fast = _fast(argv)
    run_fast = fast is not None and fast[0] == "run"
    if not run_fast:
        # before the SIGTERM handler is set: it must not be the one importing them, half done
        from mambaboot.common.errors import UsageError
    if fast is not None:
        _, action, want_json = fast
    else:
        unknown = _not_a_command(argv)
        if unknown:
            return _fail(unknown, UsageError.exit_code, "--json" in argv)
        parser = _parser(argv)
        try:
            args = parser.parse_args(argv)
        except UsageError as exc:
            return _fail(str(exc), exc.exit_code, "--json" in argv)
        except SystemExit as done:  # a command's --help printed: main's last flush is still to come
            return done.code or 0
        want_json = getattr(args, "json", False)
        action = lambda: args.run(args)  # noqa: E731
    try:  # the C module under `signal`, without the enum module `signal` imports (run's start-up)
        import _signal as signal
    except ImportError:
        import signal
    signals = sys.modules.get("mambaboot.engine.signals")
    if signals is not None:  # another run in this process before (the tests'): this one starts uninterrupted
        signals.reset()
    previous = signal.signal(signal.SIGTERM, _interrupted)
    previous_hangup = _on_hangup(signal)
    # Ctrl-C the same way, unless it is ignored (a background job of a shell without job control)
    previous_int = signal.signal(signal.SIGINT, _interrupted) \
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler else None
    try:
        return action()
    except KeyboardInterrupt:
        return _fail("interrupted by Ctrl-C", 130, want_json)
    except Exception as exc:
        # A SIGTERM now ends the process as it would have without us: the handler must not be
        # the one to import common/errors.py half-imported here (run's path has not imported it).
        _restore(signal, previous, previous_hangup, previous_int)
        from mambaboot.common.errors import SYSTEM_REFUSED, MambabootError

        gone = _reader_gone(exc)  # a create under way has been rolled back on its way here
        if gone:
            return gone
        if isinstance(exc, MambabootError):
            return _fail(str(exc), exc.exit_code, want_json)
        if isinstance(exc, OSError) and exc.filename is None and _stdout_error():
            return _unwritable(exc)  # it was our output's write (`--json > full disk`): no JSON can follow
        if isinstance(exc, OSError):  # the machine said no (disk full, permission): say what and where
            return _fail(f"{exc.strerror or exc}{_code(exc)}{_where(exc)}", SYSTEM_REFUSED, want_json)
        # a bug: say so in one line; the traceback only on request
        if os.environ.get("MAMBABOOT_DEBUG"):
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (set MAMBABOOT_DEBUG=1 for details)", 1, want_json)
    finally:
        _restore(signal, previous, previous_hangup, previous_int)


def _restore(signal, previous, previous_hangup, previous_int) -> None:
    """The handlers as they were; but a run ending of an interruption ignores them to the end, so a
    signal seen late (the same Ctrl-C) changes nothing while the process exits."""
    signals = sys.modules.get("mambaboot.engine.signals")
    if signals is not None and signals.ending():
        signals.ignore_late()
        return
    signal.signal(signal.SIGTERM, previous)
    if previous_hangup is not None:
        signal.signal(signal.SIGHUP, previous_hangup)
    if previous_int is not None:
        signal.signal(signal.SIGINT, previous_int)


def _code(exc: OSError) -> str:
    """Windows' own code of the error (" (WinError 50)"): its text alone is translated, and many
    codes map to one errno (EINVAL), so the code is what a user can look up."""
    winerror = getattr(exc, "winerror", None)
    return f" (WinError {winerror})" if winerror else ""


def _where(exc: OSError) -> str:
    """What a refused file operation was about. One that names no file may be about the current
    directory, removed (or moved out of reach) since the shell entered it: getcwd, and every
    abspath of a relative path, then fail with a bare ENOENT."""
    import errno

    if exc.filename and exc.errno == errno.ENOTDIR:
        return f": {exc.filename} (a file stands where this path needs a directory: move it out of the way)"
    if exc.filename:
        return f": {exc.filename}"
    try:
        os.getcwd()
    except OSError:
        return ": the current directory (removed, or moved out of reach? cd to one that exists)"
    return ""


def _fail(message: str, code: int, want_json: bool) -> int:
    from mambaboot.common import output

    try:
        output.error(message)
        if want_json:
            output.emit_json({"error": message, "exit_code": code})
    except OSError as exc:  # the streams that would carry the message are gone or full: the code still says it
        _reader_gone(exc)
    return code


def _reader_gone(exc: BaseException) -> "int | None":
    """READER_GONE if exc is a write to our stdout or stderr whose reader closed the pipe, with the
    gone streams pointed at the null device, so the interpreter's own last flush of what is still
    buffered for them writes nowhere instead of failing again (the recipe of the `signal` module's
    documentation, "Note on SIGPIPE"); None for anything else, an EPIPE of a socket or a child's
    stdin included, which fails loudly like any OSError. Where a pipe's reader cannot be asked
    about (no poll: Windows), a write to a pipe whose reader has gone may fail with EINVAL instead
    of EPIPE (python/cpython#79935; pip's broken-stdout check takes both), and so may anything
    else (CreateJunction on a file system without junctions: WinError 50, EINVAL): there the
    error is ours only when our stream still holds what it could not write, and fails again."""
    if not isinstance(exc, OSError) or exc.filename is not None:
        return None
    from mambaboot.common import output
    from mambaboot.common.errors import READER_GONE

    gone = output.gone_readers()
    if gone is None:
        gone = output.failing_writes()
        ours = bool(gone) and output.reader_gone_error(exc)
    else:
        ours = isinstance(exc, BrokenPipeError) and bool(gone)
    if not ours:
        return None
    for stream in gone:
        output.to_null(stream)
    return READER_GONE


def _stdout_error() -> "OSError | None":
    """What stdout's flush raises, if anything: a failed write stays buffered, and fails again."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return exc
    return None


def _unwritable(exc: OSError) -> int:
    """stdout refused what was written to it (ENOSPC behind `> file`): the machine said no."""
    from mambaboot.common import output
    from mambaboot.common.errors import SYSTEM_REFUSED

    output.to_null(sys.stdout)  # what stays buffered goes nowhere at the interpreter's exit
    return _fail(f"cannot write the output: {exc.strerror or exc}", SYSTEM_REFUSED, False)
