"""Prove the new environment works the way a user's clean shell will see it.

Everything is resolved through PATH exactly as a shell would, from a clean baseline with
the environment activated: if activation or PATH order were wrong, we would find some
other interpreter (or none) and fail loudly here rather than in the user's hands later.
"""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

from mambaboot.errors import VerifyError

_PROBE = (
    "import json, sys; print(json.dumps({'prefix': sys.prefix, 'executable': sys.executable,"
    " 'version': '%d.%d.%d' % sys.version_info[:3]}))"
)
TIMEOUT = 300


@dataclass(frozen=True)
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


def version_matches(found: str, requested: Optional[str]) -> bool:
    """'3.12' accepts 3.12.x, '3.12.4' only 3.12.4: conda's `python=3.12` semantics."""
    if not requested:
        return True
    want = requested.split(".")
    return found.split(".")[: len(want)] == want


def _resolve(command: str, env: Mapping[str, str], prefix: str) -> Tuple[Optional[str], Optional[str]]:
    path_value = next((v for k, v in env.items() if k.upper() == "PATH"), "")
    found = shutil.which(command, path=path_value)
    if found is None:
        return None, f"`{command}` is not found on the activated PATH"
    if not _inside(found, prefix):
        return found, f"`{command}` resolves to {found}, outside the environment"
    return found, None


def _run(argv: List[str], env: Mapping[str, str]) -> Tuple[int, str, str]:
    try:
        proc = subprocess.run(
            argv, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            errors="replace", timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, "", str(exc)
    return proc.returncode, proc.stdout.strip(), proc.stderr.strip()


def _check_python(env: Mapping[str, str], prefix: str, requested: Optional[str]) -> Tuple[Dict[str, str], List[str]]:
    found, problem = _resolve("python", env, prefix)
    if problem:
        return {}, [problem]
    code, out, err = _run([found, "-c", _PROBE], env)
    if code != 0:
        return {}, [f"python at {found} failed to start (exit {code}): {err[-500:]}"]
    try:
        info = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        return {}, [f"python at {found} printed {out[:200]!r} instead of its prefix and version"]
    problems = []
    if not _same(info["prefix"], prefix):
        problems.append(f"python's sys.prefix: expected {prefix}, found {info['prefix']}")
    if not version_matches(info["version"], requested):
        problems.append(f"python version: expected {requested}, found {info['version']}")
    return {"python": found, "python_version": info["version"]}, problems


def _check_tool(tool: str, env: Mapping[str, str], prefix: str) -> Tuple[Dict[str, str], List[str]]:
    found, problem = _resolve(tool, env, prefix)
    if problem:
        return {}, [problem]
    code, out, err = _run([found, "--version"], env)
    if code != 0:
        return {}, [f"`{tool} --version` failed (exit {code}): {(err or out)[-500:]}"]
    line = out.splitlines()[0] if out else ""
    return {f"{tool}_version": line.split()[-1] if line else ""}, []


def verify(activated_env: Mapping[str, str], prefix: str, requested_python: Optional[str]) -> Verification:
    """Run the independent checks in parallel; raise VerifyError listing every failure."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [
            pool.submit(_check_python, activated_env, prefix, requested_python),
            pool.submit(_check_tool, "conda", activated_env, prefix),
            pool.submit(_check_tool, "mamba", activated_env, prefix),
        ]
        results = [f.result() for f in futures]
    found: Dict[str, str] = {}
    problems: List[str] = []
    for values, issues in results:
        found.update(values)
        problems.extend(issues)
    if problems:
        raise VerifyError("the new environment failed verification:\n" + "\n".join(f"  - {p}" for p in problems))
    return Verification(found["python"], found["python_version"], found["conda_version"], found["mamba_version"])
