"""A file the user named for output (`-o FILE`), written as the user named it.

- `-`, /dev/stdout, /dev/stderr, /dev/fd/N: that stream of ours, as a shell's `>` does with them
  (bash takes these names as the descriptor itself, not the file it happens to be).
- A device, a fifo or a socket (or a link to one): opened and written as `>` does, never
  renamed over: a rename would replace /dev/full or a named pipe with a plain file.
- A regular file, or a new name: written beside it under the run's temporary name
  (`.NAME.mambaboot-tmp-<token>`: common/files/tempname.py, partial()) and
  renamed into place, so a reader sees the old file or the whole new one; its writer holds the
  file's place lock meanwhile (environment/outputlock.py), so what a killed run left is settled. A symbolic link to a regular file (or to a name not there
  yet) is followed, as `>` follows it: what it points to is replaced and the link stays a link.

Errors are OSErrors naming the file (the CLI's exit 9: "No space left on device: /dev/full").
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import re
import stat
import sys

from mambaboot.common.files import confined, tempname

STDOUT = "-"
STREAM_SCRATCH = "output"  # the kind of the work directory an output for a stream is built in
_scratch: dict = {}  # what staging() built for a stream -> its work directory
FILE, STREAM, DESCRIPTOR = "file", "stream", "descriptor"
_NAMED_FD = {"/dev/stdout": 1, "/dev/stderr": 2}
_FD = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")


def kind(path: str) -> tuple[str, str | int]:
    """(FILE, the path to replace), (STREAM, the path to open) or (DESCRIPTOR, the fd to write)."""
    if path == STDOUT:
        return DESCRIPTOR, 1
    if os.name != "nt":
        absolute = os.path.abspath(path)
        if absolute in _NAMED_FD:
            return DESCRIPTOR, _NAMED_FD[absolute]
        match = _FD.match(absolute)
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
    return FILE, os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)


def is_stream(path: str) -> bool:
    """Whether the output goes to a stream (stdout, a device, a fifo) rather than a file replaced whole."""
    return kind(path)[0] != FILE


def partial(where: str) -> str:
    """The name the regular file where is built at before it is renamed over it: this run's
    temporary name beside it (tempname.sibling), which carries the run's token."""
    return tempname.sibling(where)


def is_partial(name: str, where: str, token: str) -> bool:
    """Whether name is a partial file the run of token gives where (the case of the output's name
    aside: a case-insensitive file system finds one lock for both spellings)."""
    found = tempname.parse_temp(name) if "/" not in name and os.sep not in name else None
    base = os.path.basename(where)
    return (found is not None and found[0] is not None and found[2] is None and found[1] == token
            and (found[0] == tempname.of_name(base) or found[0].casefold() == base.casefold()))


def staging(path: str, staged: str | None = None, mode: int = 0o666):
    """(where to build an output before write(staged=...), that file opened for binary writing).
    A regular file's: staged, the name partial() gives beside it (one rename), made here, never
    through a link (FileExistsError if anything is there). A stream's (staged None): in a work
    directory of the run in the temporary directory (common/files/workdir.py), never in /dev;
    discard() deletes it."""
    if staged is not None:
        here, name = confined.split(staged)
        try:
            with here:
                return staged, here.open_new(name, mode)
        except OSError as exc:  # named by its whole path: "Permission denied: DIR/.FILE.mambaboot-tmp-…"
            if exc.errno is None:
                raise
            raise OSError(exc.errno, exc.strerror, staged) from None  # OSError(errno) is its subclass
    import tempfile

    from mambaboot.common.files import workdir

    work = workdir.WorkDir(tempfile.gettempdir(), STREAM_SCRATCH)
    made = os.path.join(work.__enter__(), STREAM_SCRATCH)
    try:
        with confined.Root.open(work.path) as here:
            out = here.open_new(STREAM_SCRATCH, 0o600)
    except BaseException:
        work.__exit__()
        raise
    _scratch[made] = work
    return made, out


def discard(staged: str) -> None:
    """Delete what staging() made (a stream's work directory with it); nothing there: nothing to do."""
    work = _scratch.pop(staged, None)
    if work is not None:
        work.__exit__()
        return
    here, name = confined.split(staged)
    with here:
        try:
            here.unlink(name)
        except FileNotFoundError:
            pass


def write(path: str, data: bytes | None = None, *, staged: str | None = None, replace: bool = True) -> str:
    """Write data (or the file at staged, which is consumed) to the output the user named; returns
    where it went (a regular file's real path, else the name as given). replace=False, with staged:
    a regular file that exists is not replaced (FileExistsError), not even one made meanwhile."""
    what, where = kind(path)
    if what == FILE:
        if staged is None:  # a stream a moment ago (environment/outputlock.py write), a file now
            confined.write_file(where, data)
        elif replace:
            confined.rename_beside(staged, where)
        else:
            from mambaboot.common.files import noreplace

            noreplace.rename_file(staged, where)
        return where
    try:
        if what == DESCRIPTOR:
            if where == 1:
                sys.stdout.flush()
            _send(where, data, staged)
        else:
            fd = confined.open_stream(where)  # blocks for a fifo's reader, as `>` does
            try:
                _send(fd, data, staged)
            finally:
                os.close(fd)
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, path) from None
        raise
    if staged is not None:
        discard(staged)
    return path


def _send(fd: int, data: bytes | None, staged: str | None) -> None:
    if staged is None:
        _write_all(fd, data)
        return
    here, name = confined.split(staged)
    with here, here.open_read(name) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            _write_all(fd, chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
