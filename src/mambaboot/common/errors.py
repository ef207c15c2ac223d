"""Typed errors. Library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations  # annotations stay text: no typing at start-up


class MambabootError(Exception):
    """Anything mambaboot expected could go wrong. The message is shown as-is to the user."""

    exit_code = 1


# Each kind: what goes wrong, and the code the CLI exits with (guide §5.14).
class UsageError(MambabootError):
    """Bad arguments, or a value that can never work (a prefix character packages break on)."""

    exit_code = 2


class ShellContaminated(MambabootError):
    """The calling shell already has a Python/conda environment in it."""

    exit_code = 3


class NoSuchPath(UsageError):
    """A path given as an existing environment does not exist: bad input for every command alike."""


def no_such_path(path: str, command: str) -> Exception:
    """The one refusal of a path that is not there, whichever command was given it."""
    return NoSuchPath(f"{path} does not exist; `mambaboot {command}` takes an existing environment")


class TargetRefused(MambabootError):
    """The target prefix is not something we may create into or replace."""

    exit_code = 4


class Unconfined(TargetRefused, OSError):
    """A path inside a confined root (common/files/confined.py) that cannot be used as asked: nothing was
    done to it. Also an OSError, so that code which passes over a file it cannot read passes over
    this one too."""

    def __init__(self, message: str, filename: str | None = None, code: int = 1) -> None:
        OSError.__init__(self, code, message, filename)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Escapes(Unconfined):
    """The path would lead out of its root: an absolute path, `..`, or a link (or junction) on the way."""


class NotRegular(Unconfined):
    """A file was to be read, and something else is there (a fifo, a socket, a device, a directory)
    or it is larger than the reader takes."""


class CrossesMount(Unconfined):
    """A tree to delete holds another file system's mount point: nothing in it was deleted."""


class TooDeep(Unconfined):
    """A tree to walk or delete is nested deeper than common/files/treewalk.MAX_DEPTH levels:
    nothing in it was read, copied or deleted."""


class ObtainError(MambabootError):
    """micromamba could not be obtained: download failed, digest mismatch, missing binary."""

    exit_code = 5


# A download that could not even connect: the machine is offline, or the host is not there for
# it. The same exit code; create says what it needed the network for, and how to go on without.
class HostUnreachable(ObtainError):
    """No connection to a download's host could be made (a name that does not resolve, no route,
    a refused or timed-out connection)."""


# A host whose certificate is not trusted here: every download from it meets the same one, so
# nothing else (a digest given by hand) gets past it.
class CertificateUntrusted(ObtainError):
    """A download's TLS handshake refused the server's certificate."""


class UntrustedInput(UsageError, ValueError):
    """A file mambaboot reads but did not write (an environment file, a lock, a .condarc, a
    record, conda-meta, a cache note) that it refuses to read: too big, nested too deep, not
    UTF-8, a NUL, not a regular file, or a name that leads outside. A usage error where the
    user gave the file; a ValueError too, so a reader that treats a malformed file of an
    environment as absent treats a hostile one the same way."""

    def __init__(self, message: str, path: str = "", problem: str = ""):
        super().__init__(message)
        self.path, self.problem = path, problem or message


class EngineError(MambabootError):
    """micromamba ran and failed."""

    exit_code = 6


class VerifyError(MambabootError):
    """The new environment does not behave as requested."""

    exit_code = 7


class ProvisionError(MambabootError):
    """A provisioning step (pip section, post-script) failed; the environment stays, its record says so."""

    exit_code = 8


class NotPortable(MambabootError):
    """move, pack: a file of the environment cannot follow it to the new place (the message names it)."""

    exit_code = 10


class CommandNotExecutable(MambabootError):
    """`run`: the command was found but cannot be executed (the shell's convention: 126)."""

    exit_code = 126


class CommandNotFound(MambabootError):
    """`run`: the command is not on the environment's PATH (the shell's convention: 127)."""

    exit_code = 127


class Interrupted(MambabootError):
    """SIGINT, SIGTERM or SIGHUP arrived; exit code follows the shell convention 128 + signal."""

    def __init__(self, signum: int, name: str):
        super().__init__(f"interrupted by {name}")
        self.exit_code = 128 + signum


# An OSError that reached the CLI: not a bug of ours and not bad input, but the machine saying
# no (EACCES, ENOSPC, EROFS, EIO). Exit 1 stays reserved for bugs.
SYSTEM_REFUSED = 9
# doctor's answer "a rule is broken": a finding about the machine, not a bug and not bad input.
DOCTOR_FOUND = 11
# Nobody reads our output any more (`mambaboot list | head -1` closed the pipe): what a shell
# reports for a program SIGPIPE ended (128 + 13), as `ls | head` ends ls. We do not die of the
# signal (Python ignores it). stdout's reader only: stderr's gone drops what it says (cli._Unfailing).
READER_GONE = 141


# What each exit code means, in the words `mambaboot --help` prints, README's table and the
# guide's (§5.14, which goes on to the details) use: tests/test_help.py holds them to these.
EXIT_CODES = (
    (0, "success"),
    (1, "unexpected error: a bug in mambaboot (MAMBABOOT_DEBUG=1 shows the traceback)"),
    (UntrustedInput.exit_code, "usage error: bad option, name, prefix character or version, a path that does "
                               "not exist, or a file mambaboot refuses to read (named)"),
    (ShellContaminated.exit_code, "the shell already has a Python/conda environment active"),
    (TargetRefused.exit_code, "the target exists and is not ours to replace (or cannot be written)"),
    (ObtainError.exit_code, "micromamba could not be obtained (download failed, digest mismatch, missing binary)"),
    (EngineError.exit_code, "micromamba failed to create the environment (its own error text is shown)"),
    (VerifyError.exit_code, "the environment failed verification (expected and found are shown), does not match "
                            "its lock, or its env_vars data is unreadable"),
    (ProvisionError.exit_code, "a provisioning step (pip section or post-script) failed; the environment stays, "
                               "recorded provisioning-failed"),
    (SYSTEM_REFUSED, "the operating system refused a file operation (permission, disk full, read-only file "
                     "system); the file is named"),
    (NotPortable.exit_code, "move, pack: a file cannot follow the environment (named); nothing was changed"),
    (DOCTOR_FOUND, "doctor: a check found an error, or --undo-shell-init left something undone"),
    (CommandNotExecutable.exit_code, "run: the command cannot be executed"),
    (CommandNotFound.exit_code, "run: the command is not found in the environment"),
    (130, "interrupted by Ctrl-C; 143 by SIGTERM, 129 by SIGHUP (the terminal closed)"),
    (READER_GONE, "the output's reader went away (a pipe closed early, as | head -1 does): nothing more is said"),
)
