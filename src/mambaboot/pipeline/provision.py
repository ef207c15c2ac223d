"""Provisioning: what runs once an environment has verified, inside it, activated.

First the environment file's `pip:` section (with the environment's own pip), then the
user's post-scripts, in order: their "build and operational phase". Each child starts from
the clean baseline with the environment activated, so `python`, `conda` and `mamba` are the
environment's own. A failure leaves the environment in place; its record says
`provisioning-failed` and which step failed, and `mambaboot provision` continues from there.
"""

import json
import os
import shutil
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from mambaboot.common import fsops, winsys
from mambaboot.common.errors import ProvisionError, UsageError
from mambaboot.common.report import Reporter
from mambaboot.engine import child
from mambaboot.environment import diskusage, record
from mambaboot.pipeline import verify
from mambaboot.shell import isolation
from mambaboot.shell.activation import environ as activation

PIP_REQUIREMENTS = "pip-requirements.txt"
_PIP_PROBE = (
    "import importlib.metadata as m, json; print(json.dumps(sorted("
    "({'name': d.metadata['Name'], 'version': d.version} for d in m.distributions()"
    " if (d.read_text('INSTALLER') or '').strip() == 'pip'), key=lambda p: p['name'].lower())))"
)


@dataclass(frozen=True)
class Steps:
    pip: Tuple[str, ...] = ()  # requirement lines still to install
    pip_dir: Optional[str] = None  # where pip runs: relative paths in the lines are relative to it
    scripts: Tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pip or self.scripts)


def interpreter(script: str, windows: bool, environ: Mapping[str, str]) -> List[str]:
    """The child shell that matches the script, as an argument list ending with the script."""
    ext = os.path.splitext(script)[1].lower()
    if ext in (".bat", ".cmd"):
        return winsys.command_processor(environ, windows) + ["/d", "/c", script]
    if ext == ".ps1":
        return ["powershell" if windows else "pwsh", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", script]
    return ["sh", script]


def _path_of(env: Mapping[str, str]) -> str:
    return next((v for k, v in env.items() if k.upper() == "PATH"), "")


def check_scripts(scripts: Sequence[str], windows: bool, environ: Mapping[str, str]) -> None:
    """Refuse, before anything is created, scripts that are missing or have no shell to run them."""
    search = _path_of(isolation.baseline(environ, windows))
    for script in scripts:
        if not os.path.isfile(script):
            raise UsageError(f"--post-script {script}: no such file")
        shell = interpreter(script, windows, environ)[0]
        if shutil.which(shell, path=search) is None:
            raise UsageError(f"--post-script {script} needs {shell}, which is not on PATH")


def remaining(rec: Mapping[str, Any], scripts: Sequence[str]) -> Steps:
    """What `mambaboot provision` runs: an unfinished pip section, then the scripts given, or
    without any, the recorded scripts from the one that failed (or was never reached) on."""
    state = rec.get("provisioning") or {}
    pip = state.get("pip") or {}
    pip_lines = () if pip.get("installed", True) else tuple(pip.get("requirements") or ())
    if not scripts:
        done = set(state.get("done") or ())
        scripts = [s for s in state.get("scripts") or () if s not in done]
    return Steps(pip_lines, pip.get("cwd"), tuple(scripts))


class _Run:
    """One provisioning run, keeping the record's account of it current after every step."""

    def __init__(self, prefix: str, steps: Steps, environ: Mapping[str, str], windows: bool, cache_dir: str,
                 reporter: Reporter):
        self.prefix, self.steps, self.windows, self.reporter = prefix, steps, windows, reporter
        self.env = activation.activated(isolation.baseline(environ, windows), prefix, windows)
        self.pip_env = dict(
            self.env, PIP_CACHE_DIR=os.path.join(cache_dir, "pip"), PIP_NO_INPUT="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            # "only in a virtualenv" guards a base Python; this is the environment's own pip.
            PIP_REQUIRE_VIRTUALENV="0",
        )
        self.state: Dict[str, Any] = {
            "scripts": list(steps.scripts), "done": [], "failed": None,
            "pip": {"requirements": list(steps.pip), "cwd": steps.pip_dir, "installed": not steps.pip},
        }

    def save(self, **changes: Any) -> Dict[str, Any]:
        self.state["updated"] = record.now()
        return record.update(self.prefix, provisioning=self.state, **changes)

    def fail(self, step: str, message: str, **detail: Any) -> ProvisionError:
        self.state["failed"] = dict(detail, step=step, at=record.now())
        self.save(state=record.PROVISIONING_FAILED)
        return ProvisionError(f"{message}\nthe environment stays at {self.prefix} (state: provisioning-failed); "
                              f"continue with: mambaboot provision {self.prefix}")

    def echo(self, line: str) -> None:
        self.reporter.step(f"  | {line}")

    def pip(self) -> None:
        requirements = os.path.join(self.prefix, record.RECORD_DIR, PIP_REQUIREMENTS)
        fsops.atomic_write(requirements, ("\n".join(self.steps.pip) + "\n").encode(), mode=fsops.user_mode(0o666))
        rec = self.save()
        rel = f"{record.RECORD_DIR}/{PIP_REQUIREMENTS}"
        if rel not in rec.get("files", []):
            self.save(files=rec.get("files", []) + [rel])
        python, problem = verify.resolve("python", self.env, self.prefix)
        if problem:
            raise self.fail("pip", f"pip section: {problem}")
        self.reporter.step(f"pip: installing {len(self.steps.pip)} requirement line(s) with {python} -m pip")
        cmd = [python, "-m", "pip", "install", "-r", requirements]
        try:
            code, tail = child.stream(cmd, self.pip_env, self.echo, cwd=self.steps.pip_dir)
        except OSError as exc:
            raise self.fail("pip", f"pip section: cannot start {python}: {exc}") from None
        if code != 0:
            raise self.fail("pip", f"pip section failed (exit {code}):\n{child.shown(tail)}", exit_code=code)
        code, tail = child.stream([python, "-c", _PIP_PROBE], self.pip_env, keep=1)
        try:
            installed = json.loads(tail[-1]) if code == 0 else None
        except (ValueError, IndexError):
            installed = None
        if installed is None:
            raise self.fail("pip", f"pip section: cannot list what pip installed (exit {code}): {tail[-1:]}")
        self.state["pip"]["installed"] = True
        self.save(pip_packages=installed)
        self.reporter.step("pip: " + (", ".join(f"{p['name']} {p['version']}" for p in installed) or "nothing new"))

    def script(self, script: str) -> None:
        cmd = interpreter(script, self.windows, self.env)
        shell = shutil.which(cmd[0], path=_path_of(self.env))
        if shell is None:
            raise self.fail("script", f"post-script {script}: {cmd[0]} is not on PATH", script=script)
        self.reporter.step(f"post-script: {script} ({os.path.basename(cmd[0])})")
        try:
            code, tail = child.stream([shell] + cmd[1:], self.env, self.echo, cwd=self.prefix)
        except OSError as exc:
            raise self.fail("script", f"post-script {script}: cannot start {shell}: {exc}", script=script) from None
        if code != 0:
            raise self.fail("script", f"post-script {script} failed (exit {code}):\n{child.shown(tail)}",
                            script=script, exit_code=code)
        self.state["done"].append(script)
        self.save()

    def run(self) -> Dict[str, Any]:
        self.save(state=record.PROVISIONING)
        current = ("pip", None)
        try:
            if self.steps.pip:
                self.pip()
            for script in self.steps.scripts:
                current = ("script", script)
                self.script(script)
        except ProvisionError:
            raise
        except BaseException:  # interrupted: say where, so `provision` can continue
            step, script = current
            self.fail(step, "interrupted", **({"script": script} if script else {}), interrupted=True)
            raise
        usage = diskusage.measure(self.prefix)
        rec = self.save(state=record.COMPLETE, provisioned=record.now(), size=usage.to_dict())
        return rec["provisioning"]


def run(prefix: str, steps: Steps, environ: Mapping[str, str], windows: bool, cache_dir: str,
        reporter: Reporter) -> Dict[str, Any]:
    """Run the steps; the record's `provisioning` entry afterwards. Raises ProvisionError (exit 8)."""
    return _Run(prefix, steps, environ, windows, cache_dir, reporter).run()
