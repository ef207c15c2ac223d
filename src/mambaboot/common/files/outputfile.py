"""A file the user named for output (`-o FILE`), written as a shell's `>` writes it.

- `-`, /dev/stdout, /dev/stderr, /dev/fd/N: that stream of ours (bash takes these names as the descriptor itself).
- A device, a fifo or a socket (or a link to one): opened and written, never renamed over (a rename would replace
  /dev/full or a named pipe with a plain file).
- A regular file, or a new name: written beside it under the run's temporary name (confined.Root.open_locked) and
  renamed into place, so a reader sees the old file or the whole new one. That partial file is its own lock, as git's
  `FILE.lock` is (lockfile.h; lockfile.c lock_file makes it through tempfile.c create_tempfile_mode, O_CREAT|O_EXCL;
  here also locked by its writer until its rename): one whose lock can be taken is a dead writer's, deleted by the next
  run writing beside it (common/files/leftovers.py collect_unlocked). A link to a regular file (or to a name not there
  yet) is followed, as `>` follows it: what it points to is replaced, the link stays.

Errors are OSErrors naming the file (the CLI's exit 9: "No space left on device: /dev/full").
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import re
import stat
import sys

from mambaboot.common.files import confined, filelock, filerewrite, leftovers

STDOUT = "-"
STREAM_SCRATCH = "output"  # the kind of the work directory an output for a stream is built in
FILE, STREAM, DESCRIPTOR = "file", "stream", "descriptor"
_NAMED_FD = {"/dev/stdout": "/dev/fd/1", "/dev/stderr": "/dev/fd/2"}
_FD = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")


def kind(path: str) -> tuple[str, str | int]:
    """(FILE, the path to replace), (STREAM, the path to open) or (DESCRIPTOR, the fd to write)."""
    if path == STDOUT:
        return DESCRIPTOR, 1
    absolute = os.path.abspath(path)
    match = os.name != "nt" and _FD.match(_NAMED_FD.get(absolute, absolute))
    if match:
        return DESCRIPTOR, int(match.group(1))
    try:
        mode = os.stat(path).st_mode  # links followed, as `>` follows them
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):  # a usage error: -o names the file to write, never a directory to write into
            from mambaboot.common.errors import UsageError

            raise UsageError(f"-o {path}: that is a directory; name the file to write")
        return STREAM, path
    return FILE, os.path.realpath(path) if os.path.islink(path) else absolute


def staging(what: str, where, mode: int = 0o666):
    """(where to build an output before write(staged=...), that file opened for binary writing, None or the work
    directory it is in): a regular file's beside it, made new and locked until closed (confined.Root.open_locked); a
    stream's in a work directory of the run in the temporary directory (common/files/workdir.py), never in /dev."""
    if what == FILE:
        here, name = confined.split(where)
        try:
            with here:
                tmp, out = here.open_locked(name, filelock.hold, mode)
                return os.path.join(os.path.dirname(where), tmp), out, None
        except OSError as exc:  # named by the file the user named: "Permission denied: DIR/FILE"
            if exc.errno is None:
                raise
            raise OSError(exc.errno, exc.strerror, where) from None  # OSError(errno) is its subclass
    import tempfile

    from mambaboot.common.files import workdir

    work = workdir.WorkDir(tempfile.gettempdir(), STREAM_SCRATCH)
    made = os.path.join(work.__enter__(), STREAM_SCRATCH)
    try:
        with confined.Root.open(work.path) as here:
            return made, here.open_new(STREAM_SCRATCH, 0o600), work
    except BaseException:
        work.__exit__()
        raise


def discard(staged: str) -> None:
    """Delete the file staging() made (not its work directory: Staged's); nothing there: nothing to do."""
    here, name = confined.split(staged)
    with here:
        try:
            here.unlink(name)
        except FileNotFoundError:
            pass


def write(path: str, data: bytes | None = None, *, staged: str | None = None, replace: bool = True) -> str:
    """Write data (or the file at staged, consumed) to the output the user named; where it went (a regular file's real
    path, else the name as given). replace=False, with staged: an existing regular file is not replaced
    (FileExistsError), not even one made meanwhile."""
    what, where = kind(path)
    if what == FILE:
        if staged is None:  # a stream a moment ago (put), a file now
            confined.write_file(where, data)
        else:
            from mambaboot.common.files import noreplace

            confined.rename_beside(staged, where, None if replace else noreplace.rename_file)
        return where
    try:
        if where == 1:
            sys.stdout.flush()
        fd = where if what == DESCRIPTOR else confined.open_stream(where)  # blocks for a fifo's reader, as `>` does
        try:
            if staged is None:
                filerewrite.write_all(fd, data)
            else:
                here, name = confined.split(staged)
                with here, here.open_read(name) as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        filerewrite.write_all(fd, chunk)
        finally:
            if what == STREAM:
                os.close(fd)
    except OSError as exc:
        raise _named(exc, path) from None
    if staged is not None:
        discard(staged)
    return path


def _named(exc: OSError, output: str) -> OSError:
    """exc said of the output the user named ("No space left on device: FILE") when it names no file, as a write's."""
    return OSError(exc.errno, exc.strerror, output) if exc.filename is None else exc


class _Partial:
    """Staged.file: the partial file, each failure of a call on it (a write, or a seek, a flush or
    a close writing what is still buffered, on a full disk) said of the output the user named."""

    def __init__(self, file, output: str) -> None:
        self._file, self._output = file, output

    def __getattr__(self, name: str):
        found = getattr(self._file, name)
        return self._named_call(found) if callable(found) else found

    def _named_call(self, call):
        def named(*args, **kwargs):
            try:
                return call(*args, **kwargs)
            except OSError as exc:
                raise _named(exc, self._output) from None
        return named


class Staged:
    """with Staged(output) as out: build the output in out.file (binary), then out.commit(replace).
    out.settled: what collecting the partial files of dead writers beside it did, one sentence each."""

    def __init__(self, output: str, mode: int = 0o666) -> None:
        self.output, self.mode = output, mode
        self.path = self.file = self._work = None
        self.settled: list = []

    def __enter__(self) -> "Staged":
        what, where = kind(self.output)
        if what == FILE:
            self.settled = leftovers.collect_unlocked(os.path.dirname(where))
        self.path, file, self._work = staging(what, where, self.mode)
        self.file = _Partial(file, self.output)
        return self

    def commit(self, replace: bool = True) -> str:
        """The built output written to what the user named (write); where it went."""
        self.file.flush()
        if self._work is None:  # what is renamed over the user's file is whole after a power loss too
            self.file._named_call(os.fsync)(self.file.fileno())
        if os.name == "nt":  # there a file open is not renamed: its lock goes with it just before
            self.file.close()
        where = write(self.output, staged=self.path, replace=replace)  # elsewhere renamed still locked
        self.path = None  # renamed into place, or sent and deleted
        return where

    def __exit__(self, kind, *exc) -> None:
        try:  # entered: file is set
            self.file.close()
        except OSError:
            if kind is None:  # said; else what failed first is said
                raise
        finally:
            if self._work is not None:  # a stream's, written or not
                self._work.__exit__()
            elif self.path is not None:  # nothing of a failed output stays beside it
                discard(self.path)


def put(output: str, data: bytes, mode: int = 0o666) -> list:
    """data written to the output the user named; what collecting dead writers' partial files did."""
    if kind(output)[0] != FILE:  # a stream (stdout, a device, a fifo): written into, never replaced
        write(output, data)
        return []
    with Staged(output, mode) as out:
        out.file.write(data)
        out.commit()
        return out.settled
