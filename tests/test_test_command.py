"""The one test command: the README names it, .ci/run runs exactly it, it installs what the
suite needs, and the suite passes from an activated virtual environment."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, _scrub_caller_environment
from tools import test as test_command

README = (REPO / "README.md").read_text(encoding="utf-8")
# The two tests that an activated venv broke before the suite scrubbed the caller's environment.
LEAKY = ["tests/test_run.py::test_run_uses_the_environment_from_a_clean_baseline",
         "tests/test_doctor.py::test_doctor_command_exit_codes_and_json"]


def readme_test_command() -> str:
    section = README.split("\n## Tests\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert block.count("\n") == 1, "the Tests section opens with the one command"
    return block.strip()


def test_ci_runs_exactly_the_readme_test_command():
    lines = [x for x in (REPO / ".ci" / "run").read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert readme_test_command() == "python3 tools/test.py"
    assert lines[-1] == readme_test_command()
    assert lines[:-1] == ["set -euo pipefail", 'cd "$(dirname "$0")/.."']  # nothing else runs or installs


def test_the_test_command_installs_what_ci_installed():
    packages = {package for _, package, _ in test_command.SYSTEM}
    assert {"python3.11", "bash", "dash", "zsh", "fish", "wine", "shellcheck", "gcc-mingw-w64-x86-64-win32",
            "e2fsprogs", "python3-pip-whl", "python3-venv"} <= packages
    assert all(why for _, _, why in test_command.SYSTEM)


def test_the_test_command_runs_pytest_in_its_place(tmp_path):
    """exec, not a child: pytest's exit code (5 when no test ran) and closing line are the command's."""
    empty = tmp_path / "tests"
    empty.mkdir()
    (empty / "test_nothing.py").write_text("")
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "test.py"), str(empty)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("no tests ran in ")


def test_the_caller_environment_is_scrubbed():
    environ = {"VIRTUAL_ENV": "/v", "VIRTUAL_ENV_PROMPT": "(v)", "CONDA_PREFIX": "/c", "CONDA_SHLVL": "1",
               "PYTHONPATH": "/p", "PYTHONHOME": "/h", "_OLD_VIRTUAL_PATH": "/usr/bin", "HOME": "/home/u",
               "PATH": os.pathsep.join(["/v/bin", "/c/bin/", "/usr/bin", "/bin"]), "MAMBABOOT_TEST_VIA": "checkout"}
    _scrub_caller_environment(environ)
    assert environ == {"HOME": "/home/u", "PATH": "/usr/bin:/bin", "MAMBABOOT_TEST_VIA": "checkout"}


@pytest.mark.parametrize("how", ["activated", "on PATH only"])
def test_the_suite_passes_from_an_activated_venv(tmp_path, how):
    """Activated, or only its bin directory on PATH (how CI puts its harness there)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    activated = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "PYTHONNOUSERSITE": "1"}
    if how == "activated":
        activated.update(VIRTUAL_ENV=str(venv), VIRTUAL_ENV_PROMPT="venv")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *LEAKY], cwd=REPO,
                          env=activated, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr


def test_a_session_that_writes_into_the_real_home_fails_naming_what_it_wrote(tmp_path):
    """tests/conftest.py's guard, in a session of its own whose HOME is a directory of this test:
    a test that leaves a file there fails the session with the file's name; one that leaves
    nothing passes."""
    home = tmp_path / "home"
    home.mkdir()
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_home.py").write_text("import os\n\n\ndef test_leak():\n"
                                        "    open(os.path.join(os.environ['HOME'], '.leak'), 'w').close()\n\n\n"
                                        "def test_nothing():\n    pass\n\n\n"
                                        "def test_history():\n"  # what the user's own shell does meanwhile
                                        "    open(os.path.join(os.environ['HOME'], '.bash_history'), 'a').write('ls\\n')\n")
    env = {**os.environ, "HOME": str(home)}
    for name, code in (("test_nothing", 0), ("test_history", 0), ("test_leak", 1)):
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                               f"{tests / 'test_home.py'}::{name}"], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr
    assert f"{home / '.leak'}: made" in proc.stdout and "the real home changed while the suite ran" in proc.stdout
    assert "another process of yours did meanwhile" in proc.stdout
