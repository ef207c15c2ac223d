"""Run mambaboot with every act it makes on disk counted, and killed (SIGKILL to its process group, as a power
loss) just before act K: the crash-point enumerator's runner (tests/support/crashmatrix.py).

    python crashrun.py K COUNTER LOG -- mambaboot-args...
    python crashrun.py --serve     (a warm interpreter forking one such run per request: serve)

An act is what changes the disk or the run's hold on it, made through any layer: a file opened for writing, made,
renamed (the no-replace rename too), linked, unlinked, written, synced, truncated, its mode or owner changed; a
directory made or removed; a lock taken or dropped; a child started (the engine, verification's programs, pip)
and a child reaped (the engine's end). Every such call of the os, fcntl, io and subprocess modules is wrapped in this
process, before mambaboot is imported, so no module's spelling escapes it (the file layer calls os.NAME at the
moment of the act), and a process forked from it (removal.py's second deleter) counts into the same counter.

K = 0 kills nowhere: each act is written to LOG, one JSON line (n, kind, what, the innermost mambaboot frame,
and whether the run was settling a killed run's intent then: inside placelock.Intent.__enter__'s settling). A run
killed at K writes nothing to LOG: the disk it leaves is the point. The counter is a file shared by every process
of the run, its increments under flock, so two deleters never draw the same number.
"""

import builtins
import io
import json
import os
import signal
import struct
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
PACKAGE = os.path.join(SRC, "mambaboot") + os.sep
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

_real = {}


def install(target, counter: str, log: str) -> None:
    """Every act of this process (and of what it forks) counted in counter, written to log (target 0), or the run
    killed before act target (a number; or a kind: its first act of that kind)."""
    target, target_kind = (target, None) if isinstance(target, int) else (-1, target)
    import fcntl
    import subprocess

    real_open, real_write, real_flock = os.open, os.write, fcntl.flock
    count_fd = real_open(counter, os.O_RDWR | os.O_CREAT, 0o600)
    log_fd = real_open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if target == 0 and not target_kind else -1
    settling_codes: list = []
    ruled: list = []  # proof.RULED: the code of each function that decides a place is ours, with its rule

    def next_act() -> int:
        real_flock(count_fd, fcntl.LOCK_EX)
        try:
            data = os.pread(count_fd, 8, 0)
            n = (struct.unpack("<q", data)[0] if len(data) == 8 else 0) + 1
            os.pwrite(count_fd, struct.pack("<q", n), 0)
        finally:
            real_flock(count_fd, fcntl.LOCK_UN)
        return n

    def where_and_settling():
        """The innermost three frames of mambaboot's (module.function:line, innermost first), and whether a killed
        run's intent was being settled."""
        frame, where, settling, rule = sys._getframe(1), [], False, None
        while frame is not None:
            code = frame.f_code
            if len(where) < 3 and code.co_filename.startswith(PACKAGE):
                where.append(f"{os.path.basename(code.co_filename)[:-3]}.{code.co_name}:{frame.f_lineno}")
            if code in settling_codes:
                settling = True
            if rule is None and ruled:
                rule = ruled[0].get(code)
            frame = frame.f_back
        return " < ".join(where), settling, rule

    def act(kind: str, what) -> None:
        n = next_act()
        if n == target or kind == target_kind:
            os.killpg(0, signal.SIGKILL)  # as a power loss: the engine and any deleter go too
        if log_fd >= 0:
            where, settling, rule = where_and_settling()
            first = what[0] if isinstance(what, list) else what
            directory = kind in ("rmdir", "rename", "rename-noreplace") and isinstance(first, str) and os.path.isdir(first)
            line = json.dumps({"n": n, "kind": kind, "what": what, "where": where, "settling": settling, "rule": rule,
                               "dir": directory, "deleting": "removal." in where.replace("removal.unlink_quietly", "")})
            real_write(log_fd, line.encode() + b"\n")

    def name(path, dir_fd=None) -> str:
        path = os.fsdecode(path) if isinstance(path, (bytes, str, os.PathLike)) else str(path)
        if dir_fd is not None and not os.path.isabs(path):
            try:
                return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
            except OSError:
                return f"<fd {dir_fd}>/{path}"
        return path

    def fd_name(fd) -> str:
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except (OSError, TypeError):
            return f"<fd {fd}>"

    def wrap(module, attr, kind, describe, when=lambda *a, **k: True):
        original = getattr(module, attr)
        _real[(module.__name__, attr)] = original

        def wrapped(*a, **k):
            if when(*a, **k):
                act(kind, describe(*a, **k))
            return original(*a, **k)

        wrapped.__name__ = getattr(original, "__name__", attr)
        setattr(module, attr, wrapped)

    one = lambda path, *a, dir_fd=None, **k: name(path, dir_fd)  # noqa: E731
    two = lambda src, dst, *a, src_dir_fd=None, dst_dir_fd=None, **k: [name(src, src_dir_fd), name(dst, dst_dir_fd)]  # noqa: E731
    on_fd = lambda fd, *a, **k: fd_name(fd)  # noqa: E731
    wrap(os, "open", "open", one, when=lambda path, flags, *a, **k: bool(flags & _WRITING) and not str(path).startswith("/dev/"))
    for attr in ("mkdir", "rmdir", "unlink", "remove", "chmod", "chown", "lchown", "utime", "truncate"):
        if hasattr(os, attr):
            wrap(os, attr, attr, one)
    for attr in ("rename", "replace"):
        wrap(os, attr, attr, two)
    wrap(os, "link", "link", two)
    wrap(os, "symlink", "symlink", lambda src, dst, *a, dir_fd=None, **k: [name(src), name(dst, dir_fd)])
    wrap(os, "write", "write", on_fd, when=lambda fd, *a, **k: fd > 2)
    for attr in ("fsync", "fdatasync", "fchmod", "fchown", "ftruncate"):
        if hasattr(os, attr):
            wrap(os, attr, attr, on_fd)
    wrap(fcntl, "flock", "flock", lambda fd, op: [fd_name(fd), op])
    wrap(fcntl, "lockf", "lockf", lambda fd, op, *a: [fd_name(fd), op])
    wrap(os, "posix_spawn", "spawn", lambda path, argv, *a, **k: [os.fsdecode(x) for x in argv][:3])
    wrap(os, "fork", "fork", lambda: None)
    wrap(subprocess.Popen, "_execute_child", "spawn", lambda self, args, *a, **k: [str(x) for x in args][:3])

    real_waitpid = os.waitpid

    def waitpid(pid, options):  # a child's end is an act once it is reaped: a poll that finds it running is none
        got = real_waitpid(pid, options)
        if got[0] != 0:
            act("reaped", got[0])
        return got

    os.waitpid = waitpid
    real_io_open = io.open

    def io_open(file, mode="r", *a, **k):
        if isinstance(mode, str) and any(c in mode for c in "wax+") and not isinstance(file, int):
            act("open", name(file))
        return real_io_open(file, mode, *a, **k)

    io.open = builtins.open = io_open

    from mambaboot.common.files import noreplace
    from mambaboot.environment import placelock

    mutate(os.environ.get("MAMBABOOT_CRASH_MUTATION", ""))

    settling_codes.append(placelock.Intent._settle.__code__)
    from mambaboot.common.files import proof

    ruled.append(proof.RULED)
    wrap(noreplace, "_natively", "rename-noreplace", lambda src, dst, sfd=None, dfd=None: [name(src, sfd), name(dst, dfd)])


def mutate(mutation: str) -> None:
    """The enumerator's own check that it can fail (tests/test_crash_matrix.py): mambaboot made wrong on purpose.
    mark-first: a deletion through a mark deletes the mark first, then the rest; unsaid: a run's stages are not written
    into its lock before their acts (the intent stays at `begun`); free-lock-kept: a lock file a killed run left blank
    is no killed run's (placelock.killed), so a run that settles an intent naming its place leaves it."""
    if mutation == "mark-first":
        from mambaboot.common.files import removal

        real = removal.remove_contents

        def mark_first(top, tally=None, where="", last=(), tree=None):
            for name in reversed(last):
                try:
                    os.unlink(name, dir_fd=top)
                except IsADirectoryError:
                    pass
                except FileNotFoundError:
                    pass
            return real(top, tally, where, (), None)

        removal.remove_contents = mark_first
    elif mutation == "unsaid":
        from mambaboot.environment import placelock

        def unsaid(self, name, sync=True, **facts):  # the stage and its facts kept in memory, the lock not rewritten
            self.stage_name = name
            self.facts.update(facts)

        placelock.Intent.stage = unsaid
    elif mutation == "free-lock-kept":
        from mambaboot.environment import placelock

        killed = placelock.killed
        placelock.killed = lambda place, path=None: killed(place, path) or None
    else:
        assert not mutation, mutation


def serve() -> None:
    """A warm interpreter: mambaboot imported once, then one run a request (a JSON line on stdin: argv, kill, counter,
    log, cwd, out, err), each in a child forked for it, in a session of its own, its streams in the files named, its
    acts counted from 0; answered with two JSON lines: its pid as it starts, its exit code (-N: killed by signal N)."""
    sys.path.insert(0, SRC)
    import ctypes
    import importlib
    import pkgutil

    import mambaboot
    from mambaboot.cli import entry

    for found in pkgutil.walk_packages(mambaboot.__path__, "mambaboot."):  # what any command may import, warm
        if not found.name.endswith("__main__"):
            importlib.import_module(found.name)
    # The runs' orphans are this process's to reap (Linux: PR_SET_CHILD_SUBREAPER), so a point is judged only once
    # every process of its run is gone: a forked deleter killed in an rmdir under load ends it first.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    for line in sys.stdin:
        ask = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.setsid()
                os.chdir(ask["cwd"])
                fds = [os.open(os.devnull, os.O_RDONLY), os.open(ask["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                       os.open(ask["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
                for fd, std in zip(fds, (0, 1, 2)):
                    os.dup2(fd, std)
                    os.close(fd)
                sys.stdin = open(0, closefd=False)
                sys.stdout = open(1, "w", closefd=False)
                sys.stderr = open(2, "w", closefd=False)
                os.environ["MAMBABOOT_CRASH_MUTATION"] = ask.get("mutation", "")
                install(ask["kill"], ask["counter"], ask["log"])
                entry(ask["argv"])  # as the installed command ends: its exit handlers run, then os._exit
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # a traceback is the run's own answer: exit 1, as mambaboot's would be
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()
        status = os.waitpid(pid, 0)[1]
        while True:  # what the run forked (a deleter), SIGKILLed with it, ends its system call in flight first
            try:
                os.waitpid(-pid, 0)
            except ChildProcessError:
                break
        sys.stdout.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        sys.stdout.flush()


def main() -> None:
    target, counter, log, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[5:]
    sys.path.insert(0, SRC)
    install(target, counter, log)
    from mambaboot.cli import entry

    entry(args)


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["--serve"] else main()
