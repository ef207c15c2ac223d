"""The GitHub workflows cannot run here: check that they parse, are well-formed, point at
files that exist, lint their shell steps with shellcheck, and cover what they promise.
(actionlint from PyPI needs a download at install time, so it is not used.) zizmor and
check-jsonschema, from the test extra, audit them and validate them against the workflow schema."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
# An action is pinned by its full commit; the comment says which release that commit is.
PINNED = re.compile(r"^ *(?:- )?uses: [\w-]+/[\w-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*$")
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


def test_the_workflows_are_the_three_known_ones():
    assert NAMES == ["ci.yml", "e2e.yml", "release.yml"]


@pytest.mark.parametrize("name", NAMES)
def test_the_workflow_is_well_formed(name):
    doc = load(name)
    # only the release job may write, and only what it needs
    assert doc["name"] and doc["on"] and doc["permissions"] == ({} if name == "release.yml" else {"contents": "read"})
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
        if "uses" in step and step["uses"].startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, job_name
        shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
        assert shell is None or shell in SHELLS, shell


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_by_commit(name):
    lines = [line for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert PINNED.match(line), line


def _tool(name: str) -> str:
    """A tool of the test extra: beside the interpreter running the suite (tools/test.py's venv)."""
    found = shutil.which(name, path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    assert found, f"{name} is in the test extra: run the suite with python3 tools/test.py"
    return found


def test_zizmor_finds_nothing_at_its_default_level():
    out = subprocess.run([_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "NO_COLOR": "1"})
    assert out.returncode == 0 and "No findings to report" in out.stdout, out.stdout + out.stderr


def test_zizmor_would_find_an_unpinned_action(tmp_path):
    """The check above can fail: the same zizmor flags what the workflows used to do."""
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "ci.yml").write_text((WORKFLOWS / "ci.yml").read_text(encoding="utf-8").replace(
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "actions/checkout@v4"))
    out = subprocess.run([_tool("zizmor"), "--offline", "--no-progress", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0 and "unpinned-uses" in out.stdout, out.stdout + out.stderr


def test_the_workflows_validate_against_the_github_workflow_schema():
    out = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                          *(str(WORKFLOWS / n) for n in NAMES)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_release_ships_the_zipapp_the_scripts_and_their_checksums_with_provenance(tmp_path):
    from tools.build_release import FILES, build

    doc = load("release.yml")
    assert doc["on"] == {"push": {"tags": ["v*"]}}
    job = doc["jobs"]["release"]
    assert job["permissions"] == {"contents": "write", "id-token": "write", "attestations": "write"}
    run = "\n".join(s.get("run", "") for s in job["steps"])
    assert "python tools/build_release.py -o dist" in run and "sha256sum -c SHA256SUMS" in run
    attest = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/attest-build-provenance@"))
    published = re.findall(r"dist/([\w.]+)", run.split("gh release create", 1)[1])
    assert sorted(published) == sorted([*FILES, "SHA256SUMS"])
    assert sorted(attest["with"]["subject-path"].split()) == sorted(f"dist/{n}" for n in published)
    sums = build(tmp_path / "dist")  # the very step, run here
    check = subprocess.run(["sha256sum", "-c", sums.name], cwd=sums.parent, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == len(FILES), check.stdout
    again = build(tmp_path / "again")
    assert again.read_bytes() == sums.read_bytes()  # reproducible: the same sources, the same digests


@pytest.mark.parametrize("name", NAMES)
def test_every_file_it_names_exists(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8").replace("\\", "/")
    named = set(re.findall(r"(?:bootstrap/bootstrap\.\w+|tools/[\w.]+\.py|\.ci/run|tests/test_\w+\.py)", text))
    assert named
    for path in named:
        assert (REPO / path).is_file(), path


@pytest.mark.parametrize("name", NAMES)
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
