"""Prove the new environment works the way a user's clean shell will see it.

Everything is resolved through PATH exactly as a shell would, from a clean baseline with
the environment activated: if activation or PATH order were wrong, we would find some
other interpreter (or none) and fail loudly here rather than in the user's hands later.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import shutil
import subprocess

from mambaboot.common import winsys
from mambaboot.common.errors import VerifyError
from mambaboot.engine import signals
from mambaboot.common.values import value

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (they stay text)
    from collections.abc import Mapping

# What the environment's python says about itself, importing nothing (json would bring re and
# enum along: ~3 ms of the interpreter's start): sys.prefix as the hex of its UTF-8, in which
# any str, undecodable bytes (surrogates) included, comes back exactly, then the version.
# Started as a user's shell starts it, with the environment's variables (a PYTHONHOME among them
# would show as a wrong sys.prefix), so not isolated (-I would ignore them; -P, which keeps them,
# is 3.11's): nothing of the folder it starts in runs, as it imports nothing (sys is built in), and
# `-c` puts that folder on sys.path only once site and sitecustomize are imported (CPython's
# Modules/main.c: pymain_run_python inserts path0 after the interpreter's initialisation).
_PROBE = "import sys; print(sys.prefix.encode('utf-8', 'surrogatepass').hex(), '%d.%d.%d' % sys.version_info[:3])"
TIMEOUT = 300


@value
class Verification:
    python: str
    python_version: str
    conda_version: str
    mamba_version: str

    def to_dict(self) -> dict:
        return {
            "python": self.python, "python_version": self.python_version,
            "conda_version": self.conda_version, "mamba_version": self.mamba_version,
        }


def _same(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _inside(path: str, prefix: str) -> bool:
    root = os.path.normcase(os.path.realpath(prefix))
    return os.path.normcase(os.path.realpath(path)).startswith(root.rstrip(os.sep) + os.sep)


def version_matches(found: str, requested: str | None) -> bool:
    """'3.12' accepts 3.12.x, '3.12.4' only 3.12.4: conda's `python=3.12` semantics."""
    if not requested:
        return True
    want = requested.split(".")
    return found.split(".")[: len(want)] == want


def resolve(command: str, env: Mapping[str, str], prefix: str) -> tuple[str | None, str | None]:
    path_value = next((v for k, v in env.items() if k.upper() == "PATH"), "")
    found = shutil.which(command, path=path_value)
    if found is None:
        return None, f"`{command}` is not found on the activated PATH"
    if not _inside(found, prefix):
        return found, f"`{command}` resolves to {found}, outside the environment"
    return found, None


class _Proc:
    """A started check; finish() collects it. Starting all checks before collecting any runs
    them in parallel without threads."""

    def __init__(self, argv: list[str], env: Mapping[str, str]):
        self.argv = argv
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, errors="replace",
            )
            self.error = ""
        except OSError as exc:
            self.proc, self.error = None, f"{exc}{winsys.blocked(exc, winsys.ENVIRONMENT_FOLDER)}"

    def finish(self) -> tuple[int, str, str]:
        if self.proc is None:
            return -1, "", self.error
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            return -1, "", f"timed out after {TIMEOUT} s"
        # Ctrl-C reaches the environment's python with us; it may end and be reaped before our
        # handler runs: an interruption, not a failed check
        signals.child_interrupted(self.proc.returncode)
        return self.proc.returncode, out.strip(), err.strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def _python_result(found: str, proc: _Proc, prefix: str, requested: str | None) -> tuple[dict[str, str], list[str]]:
    code, out, err = proc.finish()
    if code != 0:
        return {}, [f"python at {found} failed to start (exit {code}): {err[-500:]}"]
    try:
        hex_prefix, version = out.splitlines()[-1].split()
        sys_prefix = bytes.fromhex(hex_prefix).decode("utf-8", "surrogatepass")
    except (ValueError, IndexError):
        return {}, [f"python at {found} printed {out[:200]!r} instead of its prefix and version"]
    problems = []
    if not _same(sys_prefix, prefix):
        problems.append(f"python's sys.prefix: expected {prefix}, found {sys_prefix}")
    if not version_matches(version, requested):
        problems.append(f"python version: expected {requested}, found {version}")
    return {"python": found, "python_version": version}, problems


def _tool_result(tool: str, proc: _Proc) -> tuple[dict[str, str], list[str]]:
    code, out, err = proc.finish()
    if code != 0:
        return {}, [f"`{tool} --version` failed (exit {code}): {(err or out)[-500:]}"]
    line = out.splitlines()[0] if out else ""
    return {f"{tool}_version": line.split()[-1] if line else ""}, []


class Checks:
    """Verification under way: start() launches every check, result() waits for them."""

    def __init__(self, activated_env: Mapping[str, str], prefix: str, requested_python: str | None):
        self.prefix = prefix
        self.requested = requested_python
        self.problems: list[str] = []
        self.pending: list[tuple[str, str, _Proc]] = []
        # Looking must not change what is looked at: no __pycache__ written into the prefix.
        activated_env = {**activated_env, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            # A signal is acted on once every check started is in pending, where cancel() finds it:
            # one acted on inside Popen, after its fork, would leave a child nobody stops.
            with signals.held():
                for command, argv_tail in (("python", ["-c", _PROBE]), ("conda", ["--version"]), ("mamba", ["--version"])):
                    found, problem = resolve(command, activated_env, prefix)
                    if problem:
                        self.problems.append(problem)
                    else:
                        self.pending.append((command, found, _Proc([found, *argv_tail], activated_env)))
        except BaseException:
            self.cancel()
            raise

    def result(self) -> Verification:
        found: dict[str, str] = {}
        try:
            for command, path, proc in self.pending:
                if command == "python":
                    values, issues = _python_result(path, proc, self.prefix, self.requested)
                else:
                    values, issues = _tool_result(command, proc)
                found.update(values)
                self.problems.extend(issues)
        finally:
            self.cancel()
        if self.problems:
            raise VerifyError("the new environment failed verification:\n" + "\n".join(f"  - {p}" for p in self.problems))
        return Verification(found["python"], found["python_version"], found["conda_version"], found["mamba_version"])


    def cancel(self) -> None:
        """Every check still running stopped and reaped: a Ctrl-C meanwhile is acted on after the last."""
        with signals.held():
            for _, _, proc in self.pending:
                proc.stop()


def start(activated_env: Mapping[str, str], prefix: str, requested_python: str | None) -> Checks:
    return Checks(activated_env, prefix, requested_python)

