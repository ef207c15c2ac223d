"""The GitHub workflows cannot run here: check that they parse, are well-formed, point at
files that exist, lint their shell steps with shellcheck, and cover what they promise.
(actionlint from PyPI needs a download at install time, so it is not used.) zizmor and
check-jsonschema, from the test extra, audit them and validate them against the workflow schema."""

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest
import yaml

from tests.conftest import REPO
from tests.support import newer

WORKFLOWS = REPO / ".github" / "workflows"
NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
# An action is pinned by its full commit; the comment says which release that commit is.
PINNED = re.compile(r"^ *(?:- )?uses: (?P<action>[\w-]+/[\w-]+)@(?P<commit>[0-9a-f]{40}) # (?P<release>v(?P<major>\d+)\.\d+\.\d+)$")
# The first major version of each action whose action.yml says `runs.using: node24` (GitHub has
# retired node20), read in each repository at that tag: actions/checkout v5.0.0, setup-python
# v6.0.0, astral-sh/setup-uv v7.0.0; attest-build-provenance is composite, and from v3.0.0 on
# runs only node24 actions (actions/attest v3.0.0 and its own predicate action).
FIRST_ON_NODE24 = {"actions/checkout": 5, "actions/setup-python": 6, "astral-sh/setup-uv": 7,
                   "actions/attest-build-provenance": 3}
SHELLS = {"bash", "sh", "cmd", "pwsh", "powershell"}
CONTEXTS = ("matrix", "runner", "github", "env", "steps")


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
        for index, step in enumerate(job["steps"]):
            for step_id in re.findall(r"\$\{\{\s*steps\.([\w-]+)\.", yaml.safe_dump(step)):
                assert step_id in [s.get("id") for s in job["steps"][:index]], f"{job_name}: no earlier step {step_id}"
    for job_name, job, step in steps(doc):
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step and step["uses"].startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, job_name
        shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
        assert shell is None or shell in SHELLS, shell


def _pins() -> list:
    """(workflow, action, commit, release, major) of every `uses:` line."""
    found = []
    for name in NAMES:
        for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
            if "uses:" in line:
                m = PINNED.match(line)
                assert m, f"{name}: not pinned by commit with its release (# vX.Y.Z): {line.strip()}"
                found.append((name, m["action"], m["commit"], m["release"], int(m["major"])))
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_by_commit(name):
    pins = [pin for pin in _pins() if pin[0] == name]
    assert pins and len(pins) == sum("uses" in step for _, _, step in steps(load(name))), "a `uses:` not on its own line"


def test_an_action_is_the_same_release_wherever_it_is_used():
    releases = {}
    for _, action, commit, release, _ in _pins():
        releases.setdefault(action, set()).add((commit, release))
    assert all(len(r) == 1 for r in releases.values()), releases


def test_every_action_runs_on_node24():
    for name, action, _, release, major in _pins():
        assert action in FIRST_ON_NODE24, f"{name}: {action}: find its first major on node24 and add it above"
        assert major >= FIRST_ON_NODE24[action], f"{name}: {action} {release} runs on node20, which GitHub retired"


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
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    pinned = re.search(r"actions/checkout@[0-9a-f]{40} # v\S+", text).group(0)
    (bad / "ci.yml").write_text(text.replace(pinned, "actions/checkout@v7"))
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
    assert "python tools/build_release.py -o dist --release-url \"$RELEASE_URL\"" in run and "sha256sum -c SHA256SUMS" in run
    # the one place the release's address is held: where GitHub serves this tag's release files
    build_step = next(s for s in job["steps"] if "tools/build_release.py" in s.get("run", ""))
    assert build_step["env"]["RELEASE_URL"] == (
        "${{ github.server_url }}/${{ github.repository }}/releases/download/${{ github.ref_name }}")
    attest = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/attest-build-provenance@"))
    published = re.findall(r"dist/([\w.]+)", run.split("gh release create", 1)[1])
    assert sorted(published) == sorted([*FILES, "SHA256SUMS"])
    assert sorted(attest["with"]["subject-path"].split()) == sorted(f"dist/{n}" for n in published)
    url = "https://example.org/owner/mambaboot/releases/download/v1.0.0"
    sums = build(tmp_path / "dist", release_url=url)  # the very step, run here
    check = subprocess.run(["sha256sum", "-c", sums.name], cwd=sums.parent, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == len(FILES), check.stdout
    again = build(tmp_path / "again", release_url=url)
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
    assert linux["container"]["image"] == "debian:bookworm"
    assert any(s.get("run", "").endswith(".ci/run") for s in linux["steps"])
    for job_name, job in doc["jobs"].items():  # mambaboot on the matrix Python, the harness on its own
        assert "MAMBABOOT_TEST_PYTHON" in yaml.safe_dump(job) and _harness_python(job) >= newer.OLDEST, job_name


def _suite_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").rglob("*.py")))


def test_the_linux_container_allows_what_the_suite_does_there_and_no_more():
    """Docker's defaults refuse what the suite does as root in the container; each option is
    there because the suite does one of these things (and goes when it no longer does)."""
    suite = _suite_text()
    needed = set()
    if '"--addr-no-randomize"' in suite:  # setarch -R (tests/support/wine.py): personality(ADDR_NO_RANDOMIZE)
        needed.add(("--security-opt", "seccomp=unconfined"))  # Docker's seccomp profile allows no such flag
    if '"chattr", "+i"' in suite:
        needed.add(("--cap-add", "LINUX_IMMUTABLE"))
    if '"mount", "-t", "tmpfs"' in suite:
        needed |= {("--cap-add", "SYS_ADMIN"), ("--security-opt", "apparmor=unconfined")}  # docker-default denies mount
    assert len(needed) == 4, "the suite no longer does what this test knows of: update it"
    options = load("ci.yml")["jobs"]["linux"]["container"]["options"].split()
    assert "--privileged" not in options
    assert set(zip(options[::2], options[1::2])) == needed and len(options) == 2 * len(needed), options


# -- each job installs what the tests it selects import -----------------------------------------

# import name -> distribution, where they differ; pip: every virtual environment the jobs make
# has it (tests/support/wine.py reads its vendored distlib)
DISTRIBUTION = {"yaml": "pyyaml", "rattler": "py-rattler", "_pytest": "pytest", "packageurl": "packageurl-python",
                "cyclonedx": "cyclonedx-python-lib", "ruamel": "ruamel.yaml"}
OWN = {"tests", "tools", "mambaboot"}
IN_EVERY_VENV = {"pip"}


def _test_extra(dependencies: bool = False) -> dict:
    """pyproject.toml's test extra: {distribution: its environment marker, or ""}; with dependencies,
    the project's own too ([project] dependencies: ruamel.yaml), which `pip install -e .[test]` installs."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    extra = {}
    keys = r"test|dependencies" if dependencies else r"test"
    for requirement in (r for found in re.findall(rf"^(?:{keys}) = (\[.*?\])$", text, re.M | re.S)
                        for r in ast.literal_eval(found)):
        spec, _, marker = requirement.partition(";")
        extra[re.match(r"[\w.-]+", spec).group(0).lower()] = marker.strip()
    return extra


def _stdlib(name: str) -> bool:
    if hasattr(sys, "stdlib_module_names"):
        return name in sys.stdlib_module_names
    spec = importlib.util.find_spec(name)
    origin = (spec and spec.origin) or ""
    return origin in ("built-in", "frozen") or (
        origin.startswith(sysconfig.get_paths()["stdlib"]) and "-packages" not in origin)


def _module_file(dotted: str):
    """This repository's module of that name (tests put tools/ and bench/ on sys.path too, and the
    stand-in micromamba tests/support), or None."""
    for top in (REPO, REPO / "tools", REPO / "bench", REPO / "tests" / "support"):
        path = top.joinpath(*dotted.split("."))
        found = next((f for f in (path.with_suffix(".py"), path / "__init__.py") if f.is_file()), None)
        if found:
            return found
    return None


def _distributions(files) -> set:
    """The distributions the files import, at any depth, following this repository's own modules."""
    todo, seen, found = list(files), set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "newer_only":
                names = [node.args[0].value]  # tests/support/newer.py's import
            else:
                continue
            for dotted in names:
                root = dotted.split(".")[0]
                if root in OWN or _module_file(root):
                    todo.extend(f for f in [_module_file(dotted)] if f)
                elif not _stdlib(root) and root not in IN_EVERY_VENV:
                    found.add(DISTRIBUTION.get(root, root.replace("_", "-")).lower())
    return found


def _harness_python(job: dict) -> tuple:
    """The Python the job runs the tests with: `uv venv --python X` (linux), or the last
    setup-python that puts its Python on PATH (portable)."""
    for step in job["steps"]:
        m = re.search(r"uv venv --seed --python (\d+)\.(\d+) ", step.get("run", ""))
        if m:
            return int(m.group(1)), int(m.group(2))
    on_path = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")
               and s.get("with", {}).get("update-environment", True) is not False]
    return tuple(int(n) for n in on_path[-1]["with"]["python-version"].split("."))


def _selected(job: dict) -> list:
    """The test files the job runs: the pytest command's, or all of them through .ci/run."""
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    named = re.findall(r"tests/test_\w+\.py", runs.split("pytest", 1)[1]) if "-m pytest" in runs else []
    if not named:
        assert runs.rstrip().endswith(".ci/run") and "python3 tools/test.py" in (REPO / ".ci" / "run").read_text()
        return sorted((REPO / "tests").glob("test_*.py"))
    return [REPO / n for n in named]


@pytest.mark.parametrize("job_name", ["linux", "portable"])
def test_the_job_installs_the_test_extra_with_everything_its_tests_import(job_name):
    job = load("ci.yml")["jobs"][job_name]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    if job_name == "linux":  # .ci/run -> tools/test.py, which installs the project with its test extra
        assert re.search(r'pip", "install", "-q", "-e", f"\{REPO\}\[test\]"', (REPO / "tools" / "test.py").read_text())
    else:
        assert re.search(r'pip install -e "\.\[test\]"', runs), runs
    extra = _test_extra(dependencies=True)
    imported = _distributions([REPO / "tests" / "conftest.py", *_selected(job)])
    if job_name == "linux":  # and what tools/test.py installs without its dependencies (NO_DEPS says why)
        no_deps = re.search(r"^NO_DEPS = \((.*)\)$", (REPO / "tools" / "test.py").read_text(), re.M).group(1)
        for name in re.findall(r'"([A-Za-z0-9_.-]+)==', no_deps):
            imported.discard(name)
    assert imported - set(extra) == set(), "imported by the tests, not in pyproject's test extra"
    harness = _harness_python(job)
    for distribution in imported:
        marker = extra[distribution]
        if marker:
            oldest = re.fullmatch(r"python_version >= '(\d+)\.(\d+)'", marker)
            assert oldest, f"{distribution}: {marker}: a marker this test does not read"
            assert harness >= tuple(map(int, oldest.groups())), f"{job_name}: its tests need {distribution}, {marker}"


def test_the_extra_marks_exactly_the_newer_only_packages():
    """What installs on Python >= 3.10 only is marked so in pyproject and known to tests/support/newer.py."""
    marked = {name: marker for name, marker in _test_extra().items() if marker}
    assert marked == {name: "python_version >= '%d.%d'" % newer.OLDEST for name in newer.PACKAGES}


def test_a_newer_only_package_fails_on_an_older_harness_saying_what_to_do():
    with pytest.raises(ImportError, match="installs on Python >= 3.10 only and the tests run on 3.9: .*"
                                          "MAMBABOOT_TEST_PYTHON"):
        newer.newer_only("tree_sitter_powershell", version=(3, 9, 18))
    assert newer.newer_only("tree_sitter_powershell").language  # here, the harness has it


def test_e2e_makes_activates_checks_and_removes_on_each_system():
    doc = load("e2e.yml")
    assert {"ubuntu-latest", "macos-latest", "windows-latest"} <= matrix_values(doc, "os")
    text = (WORKFLOWS / "e2e.yml").read_text(encoding="utf-8")
    # the two Windows happy paths run with a PATH holding a missing drive and a quoted entry
    # (on a drive the runner is checked not to have), each with the default name, as a user types it
    for step, guard, call in (
            ("bootstrap.bat makes an environment (cmd.exe)", "if exist Q:\\ exit /b 1",
             '"%GITHUB_WORKSPACE%\\bootstrap\\bootstrap.bat" py 3.12'),
            ("bootstrap.ps1 makes an environment (Windows PowerShell 5.1)", "if (Test-Path -LiteralPath 'Q:\\') { throw",
             "powershell -NoProfile -ExecutionPolicy Bypass -File \"$env:GITHUB_WORKSPACE\\bootstrap\\bootstrap.ps1\" py '3.12'")):
        run = next(s["run"] for _, _, s in steps(doc) if s.get("name") == step)
        lines = run.splitlines()
        assert lines[0].startswith(guard) and "Q:\\offline\\bin;\"" in lines[1] and "\\quoted entry\";" in lines[1], run
        assert call in lines[2], run
    assert next(s for _, _, s in steps(doc) if s.get("name", "").startswith("bootstrap.ps1"))["shell"] == "powershell"
    for promise in ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1", "mambaboot create", "tools/build_zipapp.py",
                    r'condabin\mamba.bat" activate', ".mambaboot/activate.sh", r".mambaboot\activate.bat",
                    r".mambaboot\activate.ps1", "doctor", "remove", "--yes", "test ! -e", "Test-Path -LiteralPath $prefix"):
        assert promise in text, promise


def _windows_step(name: str) -> dict:
    job = load("e2e.yml")["jobs"]["windows"]
    return next(s for s in job["steps"] if s.get("name", "").startswith(name))


def test_e2e_windows_steps_run_in_shells_every_windows_runner_has_and_parse():
    """windows-11-arm may lack pwsh: every step of the Windows job names cmd or Windows PowerShell
    5.1 (`powershell`), which every Windows has, and tries pwsh only where it is found; each
    PowerShell step parses with the real grammar."""
    from tests.support import pwsh

    job = load("e2e.yml")["jobs"]["windows"]
    for step in job["steps"]:
        if "run" in step:
            assert step.get("shell") in ("cmd", "powershell"), step["name"]
            if step["shell"] == "powershell":
                pwsh.parse(step["run"].encode("utf-8"))
    assert "Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue" in _windows_step(
        ".mambaboot\\activate.ps1 works")["run"]


def test_e2e_each_policy_and_mode_is_proven_in_force_by_what_it_refuses():
    """A policy or mode set in a child could silently not take: each case checks it is in force and
    then that it refuses what it must (a negative control that fails without it) before the line
    runs: `. activate.ps1` under Restricted and AllSigned, a .NET call in ConstrainedLanguage; the
    package hook is left out with one warning naming it and both ways out, or run, never an error."""
    run = _windows_step("the PowerShell activation line works under Restricted")["run"]
    refused_file = "try { . (Join-Path ' + $quoted + ' ''.mambaboot\\activate.ps1'') } catch { $refused = $true }; if (-not $refused) { exit 12 }"
    refused_net = "try { [System.IO.Path]::GetTempPath() | Out-Null } catch { $refused = $true }; if (-not $refused) { exit 12 }"
    assert refused_file in run and refused_net in run
    for policy, control, hook in (("Restricted", "$refusedFile", "skipped"), ("AllSigned", "$refusedFile", "skipped"),
                                  ("RemoteSigned", None, "ran")):
        case = next(ln for ln in run.splitlines() if f"-ExecutionPolicy {policy} -Force" in ln)
        assert f"if ([string](Get-ExecutionPolicy) -ne ''{policy}'') {{ exit 11 }}" in case, case
        assert (control is None or control in case) and case.rstrip(" ,)").endswith(f"'{hook}'"), case
    clm = next(ln for ln in run.splitlines() if 'LanguageMode = "ConstrainedLanguage"' in ln)
    assert "-ne ''ConstrainedLanguage'') { exit 11 }" in clm and "$refusedNet" in clm
    assert "$command = \"$setup; $proof; `$ErrorActionPreference = 'Stop'; `$warned = @($line 3>&1); $hooked;" in run
    for said in ("e2e-hook.ps1", "activate.bat", "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned"):
        assert f"$said.Contains(''{said}'')" in run, said
    hook = _windows_step("an environment with a package .ps1 hook")["run"]
    assert "activate.d\\e2e-hook.ps1" in hook and "deactivate.d\\e2e-hook.ps1" in hook


def test_e2e_locks_a_machine_down_for_a_fresh_powershell_and_unlocks_it_whatever_happens():
    """A ConstrainedLanguage set in the session is no lockdown: __PSLockdownPolicy at machine scope is
    what PowerShell's SystemPolicy reads as it starts (wldpNativeMethods.cs), so a fresh `powershell`
    runs there, proves the mode and a .NET call refused, runs mambaboot's root hook and the line, and
    the variable goes in a `finally` (the runner's later steps would be locked down too)."""
    run = _windows_step("a machine lockdown (__PSLockdownPolicy)")["run"]
    lock, fresh = run.index("SetEnvironmentVariable('__PSLockdownPolicy', '4', 'Machine')"), run.index("powershell -NoProfile")
    unlock = run.index("SetEnvironmentVariable('__PSLockdownPolicy', $null, 'Machine')")
    assert run.index("try {") < lock < fresh < run.index("} finally {") < unlock
    for control in ("-ne ''ConstrainedLanguage'') { exit 11 }", "[System.IO.Path]::GetTempPath()",
                    "etc\\conda\\activate.d\\~mambaboot-root.ps1", "if ($env:MAMBA_ROOT_PREFIX -ne ' + $quoted + ') { exit 13 }",
                    "$env:E2E_HOOK_RAN -ne ''yes''"):
        assert control in run, control


def test_e2e_runs_the_line_with_set_strictmode_latest_in_a_profile_proven_in_force():
    run = _windows_step("the PowerShell activation line works with Set-StrictMode")["run"]
    assert "Set-Content -LiteralPath $profileFile -Value 'Set-StrictMode -Version Latest'" in run
    assert "try { `$e2eNeverSet | Out-Null; exit 11 } catch { }" in run  # an unset variable must throw
    child = next(ln for ln in run.splitlines() if "-EncodedCommand" in ln)
    assert "-NoProfile" not in child and "-ExecutionPolicy Bypass" in child
    assert "} finally {" in run and "Remove-Item -LiteralPath $profileFile" in run


def test_e2e_proves_a_pushd_drive_mapped_to_a_share_then_sees_it_refused():
    run = _windows_step("a current directory on a drive pushd mapped to a share")["run"]
    lines = run.splitlines()
    assert lines[1] == 'pushd "%SHARED%" || exit /b 1' and lines[2].startswith('"%SystemRoot%\\System32\\net.exe" use %CD:~0,2%')
    for said, words in (("shared-bat.txt", "or a drive mapped to one, as net use and pushd map them"),
                        ("shared-create.txt", "is on a drive mapped to a network share")):
        assert f'/c:"{words}" "%RUNNER_TEMP%\\{said}" || exit /b 1' in run
    assert 'if not "%RC%"=="2" exit /b 1' in run and 'if not "%CREATE_RC%"=="2" exit /b 1' in run


def test_e2e_has_a_proxy_refuse_connect_for_each_downloader():
    from mambaboot.engine.download import PROXY_HINTS
    from tests.support import netproxy

    run = _windows_step("a proxy that refuses CONNECT")["run"]
    assert "from netproxy import ConnectProxy" in run and "refuse=" in run
    assert "refuse" in netproxy.ConnectProxy.__init__.__code__.co_varnames
    assert set(PROXY_HINTS) == {403, 407} and "foreach ($code in '403', '407')" in run
    for who in ("bootstrap.bat", "bootstrap.ps1", "create"):
        assert f'throw "{who}: $said"' in run, who
