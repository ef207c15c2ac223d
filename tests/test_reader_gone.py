"""A reader of stdout that goes away (`mambaboot list | head -1`) ends a command with exit 141
and no noise; output refused for another reason (a full disk behind `>`) is exit 9 with a
message; an EPIPE that is not our output's fails loudly like any OSError. A stderr that cannot be
written (a full disk, closed, its reader gone) only drops what it says: every code stays the
run's own, and a create goes on. Ctrl-C, while the last output waits on a slow reader too, is
exit 130 with its one line."""

import contextlib
import fcntl
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mambaboot import cli
from tests.conftest import MAMBABOOT
from tests.support.interrupt import paused
from tests.support.snapshot import diff

READER_GONE = 141


@contextlib.contextmanager
def _closed_pipe():
    """The write end of a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        yield write_end
    finally:
        os.close(write_end)


def _run(world, args, **streams) -> subprocess.CompletedProcess:
    return subprocess.run([*MAMBABOOT, *args], env=world.env, cwd=str(world.envs),
                          **{"stdin": subprocess.DEVNULL, "timeout": 600, **streams})


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["create", "--help"], ["list"], ["list", "--json"],
                                  ["doctor"], ["cache", "info"]])
def test_a_closed_pipe_on_stdout_is_exit_141_and_silent(world, made_env, args):
    with _closed_pipe() as gone:
        r = _run(world, [*args, "--envs-dir", str(made_env.parent)] if args[0] == "list" else args,
                 stdout=gone, stderr=subprocess.PIPE)
    # before: "Exception ignored in: <_io.TextIOWrapper name='<stdout>'...> BrokenPipeError" and exit 120
    assert (r.returncode, r.stderr) == (READER_GONE, b"")


def test_both_streams_closed_is_exit_141_not_a_traceback(world, made_env):
    with _closed_pipe() as gone:
        r = _run(world, ["list", "--envs-dir", str(made_env.parent)], stdout=gone, stderr=gone)
    assert r.returncode == READER_GONE


def test_the_step_lines_reader_gone_mid_create_drops_them_and_the_create_completes(world, channel, fault_standin):
    """The step lines' reader goes while the engine runs: the next line fails to write, is dropped
    with every later one, and the create finishes as it would have (before: rolled back, 141)."""
    read_end, write_end = os.pipe()
    fifo = world.root.parent / "fifo"
    args = [*MAMBABOOT, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(fault_standin)]
    with paused(args, world.env, world.envs, fifo, stderr=write_end) as proc:
        os.close(write_end)
        assert (world.envs / "py" / "conda-meta").is_dir(), "paused after linking"
        os.close(read_end)  # the reader goes while the engine is blocked: mambaboot's next step line fails
        with open(fifo, "wb") as release:  # the stand-in reads one byte, then finishes
            release.write(b"go")
        proc.wait(timeout=120)
    assert proc.returncode == 0
    assert json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["state"] == "complete"


def _full():
    return open("/dev/full", "wb")


@pytest.mark.parametrize("args, code", [(["remove", "MISSING"], 2), (["create", "--python", "9.9.9.9.9"], 2),
                                        (["list"], 0), (["doctor", "--help"], 0)])
def test_stderr_on_a_full_disk_keeps_each_commands_code(world, made_env, args, code):
    """A failure keeps its code, a success stays one, whatever its message or step lines meet."""
    args = ([*args, "--envs-dir", str(made_env.parent)] if args[0] == "list" else
            ["remove", str(world.root / "missing")] if args == ["remove", "MISSING"] else args)
    with _full() as full:
        r = _run(world, args, stdout=subprocess.PIPE, stderr=full)
    assert r.returncode == code


def test_a_create_with_stderr_on_a_full_disk_completes(world, channel, standin):
    """Its step lines fail to write from the first: dropped, and the create goes on (before: rolled
    back at its first step line, exit 9)."""
    with _full() as full:
        dry = _run(world, ["create", "--dry-run", "-c", channel, "--micromamba", str(standin)], stdout=subprocess.PIPE,
                   stderr=full)
        r = _run(world, ["create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin),
                         "--json"], stdout=subprocess.PIPE, stderr=full)
    assert dry.returncode == 0 and b"prefix:" in dry.stdout
    assert r.returncode == 0 and json.loads(r.stdout)["prefix"] == str(world.envs / "py")
    assert json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["state"] == "complete"


F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named by Python 3.10 and later


@contextlib.contextmanager
def _stalled_reader():
    """The write end of a pipe whose reader reads nothing: a page long, and full already, so that
    the first write blocks as it does under a reader that stopped (`mambaboot list | less`)."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    try:
        yield write_end
    finally:
        os.close(read_end)
        with contextlib.suppress(OSError):
            os.close(write_end)


def _writing_to_a_pipe(pid: int) -> bool:
    """Whether the process sleeps in the kernel's pipe write (its wchan: pipe_write, or
    anon_pipe_write since Linux 6.x)."""
    with open(f"/proc/{pid}/wchan") as f:
        return "pipe_write" in f.read()


@pytest.mark.parametrize("args", [["list"], ["lock", "--format", "cyclonedx"]], ids=["last-flush", "a-write"])
def test_ctrl_c_while_the_output_waits_on_a_stalled_reader_is_130_and_one_line(world, made_env, args):
    """`list`'s few lines wait in its buffer until the last flush, after the command's own handler
    is put back; the bill of materials is written, and blocks, inside the command. Either way:
    exit 130, one line, no traceback (before: the last flush's KeyboardInterrupt, a traceback and
    death by SIGINT)."""
    args = [*args, "--envs-dir", str(made_env.parent)] if args[0] == "list" else [*args, str(made_env)]
    with _stalled_reader() as stalled:
        proc = subprocess.Popen([*MAMBABOOT, *args], env=world.env, cwd=str(world.envs), stdin=subprocess.DEVNULL,
                                stdout=stalled, stderr=subprocess.PIPE)
        os.close(stalled)
        deadline = time.monotonic() + 60
        while not _writing_to_a_pipe(proc.pid):  # the process's own state, observed: no fixed wait
            assert proc.poll() is None and time.monotonic() < deadline, "it never blocked on its output"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, b"mambaboot: error: interrupted by Ctrl-C\n")


@pytest.mark.parametrize("json", [[], ["--json"]])
def test_a_full_disk_behind_stdout_is_exit_9_with_a_message(world, made_env, json):
    """Text is written when main flushes; --json's write fails inside the command (emit_json
    flushes): either way one message says it was the output, and no JSON error follows it."""
    with open(os.devnull if sys.platform != "linux" else "/dev/full", "wb") as full:
        r = _run(world, ["list", "--envs-dir", str(made_env.parent), *json], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 9
    assert r.stderr.decode() == "mambaboot: error: cannot write the output: No space left on device\n"


def _closing(*fds):
    """What the shell's `>&-`, `2>&-` or `<&-` does: the child starts with these descriptors closed."""
    return lambda: [os.close(fd) for fd in fds]


@pytest.mark.parametrize("args", [["--version"], ["list"], ["list", "--json"], ["create", "--help"]])
def test_a_closed_stdout_is_exit_9_as_coreutils_reports_it(world, made_env, args):
    """Before: Python's sys.stdout was None, and every command a traceback and exit 1."""
    args = [*args, "--envs-dir", str(made_env.parent)] if args[0] == "list" else args
    r = _run(world, args, stderr=subprocess.PIPE, preexec_fn=_closing(1))
    assert (r.returncode, r.stderr) == (9, b"mambaboot: error: cannot write the output: Bad file descriptor\n")


def test_a_closed_stderr_keeps_a_failures_code_and_a_create_goes_on(world, channel, standin):
    r = _run(world, ["create", "--python", "9.9.9.9.9"], stdout=subprocess.PIPE, preexec_fn=_closing(2))
    assert (r.returncode, r.stdout) == (2, b""), "before: exit 1, the message unwritable to a None stderr"
    r = _run(world, ["create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)],
             stdout=subprocess.PIPE, preexec_fn=_closing(1, 2))
    assert r.returncode == 0
    assert json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["state"] == "complete"


def test_a_closed_stdin_is_no_terminal_to_ask_on(world, made_env):
    r = _run(world, ["remove", str(made_env)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_closing(0))
    assert r.returncode == 2 and b"no terminal to ask on" in r.stderr and made_env.is_dir()


def test_what_mambaboot_runs_gets_the_streams_closed_as_the_user_gave_them(world, made_env):
    """The null device stands in for a closed stream inside mambaboot only: a program it execs sees
    the descriptor closed (its python leaves sys.stdout None), not a stand-in."""
    probe = "import os, sys; os.write(2, repr((sys.stdout, sys.stdin is None)).encode())"
    r = _run(world, ["run", str(made_env), "--", "python", "-c", probe], stderr=subprocess.PIPE, preexec_fn=_closing(0, 1))
    assert (r.returncode, r.stderr) == (0, b"(None, True)")


def test_a_failed_command_keeps_its_code_when_its_reader_is_gone(world):
    with _closed_pipe() as gone:
        r = _run(world, ["audit", str(world.root / "no-such-env"), "--json"], stdout=gone, stderr=subprocess.PIPE)
    assert r.returncode == 2, r.stderr  # no such path: said on stderr; its JSON met the closed pipe
    assert r.stderr.decode().endswith("`mambaboot audit` takes an existing environment\n")
    assert b"Traceback" not in r.stderr and b"Exception ignored" not in r.stderr


def test_an_epipe_that_is_not_our_output_fails_loudly(monkeypatch, capsys):
    """A broken pipe of anything else (a socket, a child's stdin) is the machine saying no, with
    a message: only our own stdout or stderr losing its reader is taken quietly."""
    def broken():
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_fast", lambda argv: ("create", broken, False))
    assert cli.main(["create", "x"]) == 9
    assert capsys.readouterr().err == "mambaboot: error: Broken pipe\n"


class _Refusing(io.RawIOBase):
    """A stream's device refusing every write with this error (a pipe whose reader has gone:
    EPIPE, or EINVAL on Windows, python/cpython#79935)."""

    def __init__(self, error):
        self.error = error

    def writable(self):
        return True

    def write(self, data):
        raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), OSError(22, "Invalid argument")])
def test_where_streams_cannot_be_polled_our_failed_write_is_a_reader_gone(monkeypatch, capsys, error):
    """Windows has no poll for a pipe: a write of ours that failed is known by the stream still
    holding it, its next flush failing again."""
    from mambaboot.common import output

    stdout = io.TextIOWrapper(io.BufferedWriter(_Refusing(error)), line_buffering=True)

    def writes():
        print("a result")
        return 0

    monkeypatch.setattr(output, "gone_readers", lambda: None)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(cli, "_fast", lambda argv: ("create", writes, False))
    assert cli.main(["create", "x"]) == READER_GONE
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("error, said", [(OSError(22, "The request is not supported"), "The request is not supported"),
                                         (BrokenPipeError(32, "Broken pipe"), "Broken pipe"),
                                         (OSError(28, "No space left on device"), "No space left on device")])
def test_where_streams_cannot_be_polled_an_error_not_of_our_output_is_said_with_its_code(monkeypatch, capsys, error, said):
    """An EINVAL or EPIPE that is not a write of ours (CreateJunction's WinError 50 under Wine,
    a child's stdin) is said with its cause and Windows' code, exit 9: before, any EPIPE or EINVAL
    naming no file was taken for our reader gone, a silent exit 141."""
    from mambaboot.common import output

    error.winerror = 50 if error.errno == 22 else 232 if error.errno == 32 else 112

    def broken():
        raise error

    monkeypatch.setattr(output, "gone_readers", lambda: None)
    monkeypatch.setattr(cli, "_fast", lambda argv: ("create", broken, False))
    assert cli.main(["create", "x"]) == 9
    assert capsys.readouterr().err == f"mambaboot: error: {said} (WinError {error.winerror})\n"
