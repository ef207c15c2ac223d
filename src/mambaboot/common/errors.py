"""Typed errors. Library code raises these; only the CLI turns them into exit codes."""


class MambabootError(Exception):
    """Anything mambaboot expected could go wrong. The message is shown as-is to the user."""

    exit_code = 1


class UsageError(MambabootError):
    """Bad arguments, or a value that can never work (e.g. a prefix character packages break on)."""

    exit_code = 2


class ShellContaminated(MambabootError):
    """The calling shell already has a Python/conda environment in it."""

    exit_code = 3


class TargetRefused(MambabootError):
    """The target prefix is not something we may create into or replace."""

    exit_code = 4


class ObtainError(MambabootError):
    """micromamba could not be obtained: download failed, digest mismatch, missing binary."""

    exit_code = 5


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
    """SIGINT or SIGTERM arrived; exit code follows the shell convention 128 + signal."""

    def __init__(self, signum: int, name: str):
        super().__init__(f"interrupted by {name}")
        self.exit_code = 128 + signum


# An OSError that reached the CLI: not a bug of ours and not bad input, but the machine saying
# no (EACCES, ENOSPC, EROFS, EIO). Exit 1 stays reserved for bugs.
SYSTEM_REFUSED = 9
# doctor's answer "a rule is broken": a finding about the machine, not a bug and not bad input.
DOCTOR_FOUND = 11


EXIT_CODES = (
    (0, "success"),
    (1, "unexpected error (a bug: please report it)"),
    (2, "usage error: bad option, name, prefix character or version"),
    (ShellContaminated.exit_code, "the shell already has a Python/conda environment active"),
    (TargetRefused.exit_code, "the target prefix exists and is not ours to replace"),
    (ObtainError.exit_code, "micromamba could not be downloaded or failed verification"),
    (EngineError.exit_code, "micromamba failed to create the environment"),
    (VerifyError.exit_code, "the new environment failed verification"),
    (ProvisionError.exit_code, "a provisioning step (pip section or post-script) failed; the environment stays"),
    (SYSTEM_REFUSED, "the operating system refused a file operation (permission, disk full, read-only); "
                     "the message names the file"),
    (NotPortable.exit_code, "move, pack: a file cannot follow the environment (named); nothing was changed"),
    (DOCTOR_FOUND, "doctor: a check found an error, or --undo-shell-init left something undone"),
    (CommandNotExecutable.exit_code, "run: the command cannot be executed"),
    (CommandNotFound.exit_code, "run: the command is not found in the environment"),
    (130, "interrupted (Ctrl-C); 143 for SIGTERM"),
)
