"""engine/child.stream: a child started by os.posix_spawn behaves as subprocess.Popen's does.

Each case runs both ways (the spawn: a path and no cwd; Popen: the same with a cwd) and the
spawn side checks posix_spawn really started it, so the comparison cannot be Popen twice.
"""

import os
import shutil

import pytest

from mambaboot.engine import child

SH = shutil.which("sh")
ENV = {"PATH": os.defpath, "LC_ALL": "C.UTF-8", "ONLY": "this"}


@pytest.fixture
def spawned(monkeypatch):
    """The pids os.posix_spawn started in this test."""
    pids, real = [], os.posix_spawn

    def spawn(*a, **k):
        pids.append(real(*a, **k))
        return pids[-1]

    monkeypatch.setattr(os, "posix_spawn", spawn)
    return pids


def both(spawned, tmp_path, cmd, **kw):
    """stream's answer each way: (spawn's, Popen's)."""
    got = child.stream(cmd, dict(ENV), **kw)
    assert len(spawned) == 1, "the first run was not started by posix_spawn"
    again = child.stream(cmd, dict(ENV), cwd=str(tmp_path), **kw)
    assert len(spawned) == 1, "the second run was not started by Popen"
    return got, again


def test_output_exit_code_and_environment_are_popens(spawned, tmp_path):
    script = ("printf 'out\\r\\nbad \\377 byte\\n'; echo err >&2; echo \"ONLY=$ONLY\"; "
              "cat; echo \"stdin ended\"; exit 3")
    lines = []
    got, again = both(spawned, tmp_path, [SH, "-c", script], echo=lines.append)
    assert got == again
    assert got == (3, ["out", "bad \ufffd byte", "err", "ONLY=this", "stdin ended"])
    assert lines == got[1] + again[1]


def test_the_tail_keeps_the_last_lines(spawned, tmp_path):
    got, again = both(spawned, tmp_path, [SH, "-c", "for i in 1 2 3 4 5; do echo $i; done"], keep=2)
    assert got == again == (0, ["4", "5"])


def test_a_signal_is_a_negative_code(spawned, tmp_path):
    # SIGUSR1: SIGINT, SIGTERM and SIGHUP are an interruption of the run (signals.child_interrupted)
    got, again = both(spawned, tmp_path, [SH, "-c", "kill -USR1 $$"])
    assert got == again == (-10, [])


def test_the_child_gets_sigpipe_and_sigxfsz_back_as_popen_gives_them(spawned, tmp_path):
    """Python ignores SIGPIPE (and SIGXFSZ); Popen's restore_signals undoes it for the child.
    (Read in /proc: the suite runs on Linux; the macOS and Windows jobs run a named few files.)"""
    got, again = both(spawned, tmp_path, [SH, "-c", "grep SigIgn /proc/$$/status"])
    # Signals 1-31 only: glibc's posix_spawn (sysdeps/unix/sysv/linux/spawni.c, __spawni_child)
    # sets its two internal signals (32, 33: below SIGRTMIN) to SIG_IGN in every child it
    # spawns, and glibc re-installs their handlers in a program that needs them.
    standard = [int(out[1][0].split()[1], 16) & ((1 << 31) - 1) for out in (got, again)]
    assert standard[0] == standard[1]
    assert not standard[0] & (1 << (13 - 1)) and not standard[0] & (1 << (25 - 1))  # SIGPIPE 13, SIGXFSZ 25


@pytest.mark.parametrize("make", ["missing", "not executable", "missing interpreter"])
def test_what_cannot_run_raises_popens_oserror(spawned, tmp_path, make):
    program = tmp_path / "prog"
    if make == "not executable":
        program.write_text("#!/bin/sh\necho hi\n")
    elif make == "missing interpreter":
        program.write_text("#!/no/such/interpreter\n")
        program.chmod(0o755)
    errors = []
    for cwd in (None, str(tmp_path)):
        with pytest.raises(OSError) as caught:
            child.stream([str(program)], dict(ENV), cwd=cwd)
        errors.append((type(caught.value), caught.value.errno))
    assert errors[0] == errors[1]
    assert spawned == [], "nothing was started"


def test_an_interrupted_stream_stops_and_reaps_its_child(spawned):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        child.stream(["/bin/sleep", "600"], dict(ENV), meanwhile=interrupted)
    with pytest.raises(ProcessLookupError):  # gone: neither running nor a zombie
        os.kill(spawned[0], 0)


def test_a_ctrl_c_acted_on_as_the_spawn_returns_stops_and_reaps_its_child(spawned, monkeypatch):
    """The signal arrives as posix_spawn returns, before stream holds the child: it is acted on
    once stream does, so the child is stopped too (else it runs on, unknown)."""
    import signal

    from mambaboot.engine import signals

    started = os.posix_spawn

    def spawn_then_ctrl_c(*a, **k):
        pid = started(*a, **k)
        os.kill(os.getpid(), signal.SIGINT)  # its handler runs as this returns
        return pid

    monkeypatch.setattr(os, "posix_spawn", spawn_then_ctrl_c)
    outlived = True
    try:
        with pytest.raises(KeyboardInterrupt):
            child.stream(["/bin/sleep", "600"], dict(ENV))
        try:
            os.kill(spawned[0], 0)
        except ProcessLookupError:  # gone: neither running nor a zombie
            outlived = False
    finally:
        signals.reset()
        if outlived:
            os.kill(spawned[0], signal.SIGKILL)
            os.waitpid(spawned[0], 0)
    assert not outlived


def test_a_child_that_ignores_sigterm_is_killed(spawned, monkeypatch):
    monkeypatch.setattr(child, "_ended_within", lambda proc, seconds: proc.ended_within(0))

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        child.stream([SH, "-c", "trap '' TERM; exec /bin/sleep 600"], dict(ENV), meanwhile=interrupted)
    with pytest.raises(ProcessLookupError):
        os.kill(spawned[0], 0)


def test_a_bare_name_is_looked_up_by_popen_in_the_childs_path(spawned, tmp_path):
    """posix_spawn would search our PATH, not the child's: a bare name goes to Popen."""
    (tmp_path / "only-here").write_text("#!/bin/sh\necho found\n")
    (tmp_path / "only-here").chmod(0o755)
    assert child.stream(["only-here"], {"PATH": str(tmp_path)}) == (0, ["found"])
    assert spawned == []

