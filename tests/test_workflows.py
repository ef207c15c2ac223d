"""The GitHub workflows cannot run here: check that they parse, are well-formed, point at
files that exist, lint their shell steps with shellcheck, and cover what they promise.
(actionlint from PyPI needs a download at install time, so it is not used.)"""

import re
import subprocess

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
SHELLS = {"bash", "sh", "cmd", "pwsh", "powershell"}
CONTEXTS = ("matrix", "runner", "github", "env")


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads a bare `on` key as true
    return doc


def steps(doc: dict):
    for job_name, job in doc["jobs"].items():
        for step in job["steps"]:
            yield job_name, job, step


def matrix_values(doc: dict, key: str) -> set:
    found = set()
    for job in doc["jobs"].values():
        matrix = job.get("strategy", {}).get("matrix", {})
        found |= {str(v) for v in matrix.get(key, [])}
        if key == "os" and "${{" not in job["runs-on"]:
            found.add(job["runs-on"])
    return found


@pytest.mark.parametrize("name", ["ci.yml", "e2e.yml"])
def test_the_workflow_is_well_formed(name):
    doc = load(name)
    assert doc["name"] and doc["on"] and doc["permissions"] == {"contents": "read"}
    for job_name, job in doc["jobs"].items():
        assert job["runs-on"] and job["steps"], job_name
        matrix = job.get("strategy", {}).get("matrix", {})
        text = yaml.safe_dump(job)
        for expression in re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", text):
            context, _, rest = expression.partition(".")
            assert context in CONTEXTS, expression
            if context == "matrix":
                assert rest in matrix, expression
    for job_name, job, step in steps(doc):
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
        shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
        assert shell is None or shell in SHELLS, shell


@pytest.mark.parametrize("name", ["ci.yml", "e2e.yml"])
def test_every_file_it_names_exists(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8").replace("\\", "/")
    named = set(re.findall(r"(?:bootstrap/bootstrap\.\w+|tools/[\w.]+\.py|\.ci/run|tests/test_\w+\.py)", text))
    assert named
    for path in named:
        assert (REPO / path).is_file(), path


@pytest.mark.parametrize("name", ["ci.yml", "e2e.yml"])
def test_its_posix_shell_steps_pass_shellcheck(name, tmp_path):
    doc = load(name)
    checked = 0
    for job_name, job, step in steps(doc):
        if "run" not in step:
            continue
        default = "sh" if "container" in job else ("bash" if "windows" not in job["runs-on"] else "pwsh")
        shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell") or default
        if shell not in ("bash", "sh"):
            continue
        script = tmp_path / f"step{checked}.sh"
        script.write_text(re.sub(r"\$\{\{[^}]*\}\}", "X", step["run"]))
        out = subprocess.run(["shellcheck", "-s", shell, str(script)], capture_output=True, text=True)
        assert out.returncode == 0, f"{job_name}: {step.get('name')}\n{out.stdout}"
        checked += 1
    assert checked


def test_ci_runs_the_suite_on_three_systems_with_two_pythons():
    doc = load("ci.yml")
    assert {"3.9", "3.12"} <= matrix_values(doc, "python")
    systems = matrix_values(doc, "os") | {job["runs-on"] for job in doc["jobs"].values()}
    assert {"ubuntu-latest", "macos-latest", "windows-latest"} <= systems
    linux = doc["jobs"]["linux"]
    assert linux["container"] == "debian:bookworm" and any(s.get("run", "").endswith(".ci/run") for s in linux["steps"])


def test_e2e_makes_activates_checks_and_removes_on_each_system():
    doc = load("e2e.yml")
    assert {"ubuntu-latest", "macos-latest", "windows-latest"} <= matrix_values(doc, "os")
    text = (WORKFLOWS / "e2e.yml").read_text(encoding="utf-8")
    for promise in ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1", "mambaboot create", "tools/build_zipapp.py",
                    r'condabin\mamba.bat" activate', ".mambaboot/activate.sh", r".mambaboot\activate.bat",
                    r".mambaboot\activate.ps1", "doctor", "remove", "--yes", "test ! -e", "Test-Path -LiteralPath $prefix"):
        assert promise in text, promise
