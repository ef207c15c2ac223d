"""The one test command: the README names it, .ci/run runs exactly it, it installs what the
suite needs, and the suite passes from an activated virtual environment."""

import os
import re
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import REPO, _scrub_caller_environment
from tools import test as test_command

README = (REPO / "README.md").read_text(encoding="utf-8")
# The two tests that an activated venv broke before the suite scrubbed the caller's environment.
LEAKY = ["tests/test_run.py::test_run_uses_the_environment_from_a_clean_baseline",
         "tests/test_doctor.py::test_doctor_command_exit_codes_and_json"]


def own_tmpdir(tmp_path, env=None) -> dict:
    """A session started here keeps its temporary directories under this test's: pytest clears the
    older numbered directories of its TMPDIR as it starts, which under the machine's shared one can
    be gigabytes that earlier runs left (minutes of deleting, and the timeout)."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir(exist_ok=True)
    return {**(os.environ if env is None else env), "TMPDIR": str(tmp)}


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
                          env=own_tmpdir(tmp_path), capture_output=True, text=True, timeout=300)
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
    # A short TMPDIR of its own: the environments these tests make must keep their shebangs short.
    with tempfile.TemporaryDirectory(prefix="mb-") as tmp:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *LEAKY], cwd=REPO,
                              env={**activated, "TMPDIR": tmp}, capture_output=True, text=True, timeout=600)
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
    env = own_tmpdir(tmp_path, {**os.environ, "HOME": str(home)})
    for name, code in (("test_nothing", 0), ("test_history", 0), ("test_leak", 1)):
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                               f"{tests / 'test_home.py'}::{name}"], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr
    assert f"{home / '.leak'}: made" in proc.stdout and "the real home changed while the suite ran" in proc.stdout
    assert "another process of yours did meanwhile" in proc.stdout


_PARALLEL = ["-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]


@pytest.mark.parametrize("args, cores, added", [
    ([], 2, _PARALLEL),  # the whole suite, as CI runs it
    (["tests/test_run.py", "-x"], 8, _PARALLEL),  # never more workers than WORKERS
    (["tests/test_run.py"], 1, []),  # one core: in this process
    (["-n", "0", "--pdb"], 2, []),  # the caller's choice of workers stands
    (["-n4"], 2, []),
    (["--numprocesses=3"], 2, []),
    (["-p", "no:xdist", "-s"], 2, []),
])
def test_the_test_command_runs_the_tests_in_parallel_unless_told_otherwise(args, cores, added):
    assert test_command.WORKERS == 2
    assert test_command.parallel_args(args, cores) == added


def test_the_files_run_first_are_files_of_the_suite():
    """A renamed file named first would silently go back to its place among the rest."""
    from tests.conftest import LONGEST_FIRST

    assert all((REPO / "tests" / name).is_file() for name in LONGEST_FIRST), LONGEST_FIRST


def test_the_parallel_runner_is_in_the_test_extra():
    extra = re.search(r"^test = \[(.*?)\]$", (REPO / "pyproject.toml").read_text(), re.S | re.M).group(1)
    assert re.search(r'"pytest-xdist[>=<]', extra)


def _session(tmp_path, files: dict, *args: str, env=None) -> subprocess.CompletedProcess:
    """A pytest session of its own on the given test files, with this suite's conftest."""
    tests = tmp_path / "tests"
    tests.mkdir(exist_ok=True)
    for name, text in files.items():
        (tests / name).write_text(text)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                           *args, str(tests)], cwd=REPO, env=env or own_tmpdir(tmp_path), capture_output=True, text=True,
                          timeout=300)


def test_the_reliability_table_counts_every_workers_rows(tmp_path):
    """Rows recorded in two workers are printed once, added up, by the session that started them."""
    def rows(held: str) -> str:
        return ("import pytest\n\n\n@pytest.mark.parametrize('i', range(3))\n"
                f"def test_row(reliability, i):\n    reliability.record('row: shared', {held})\n"
                f"    reliability.record('row: ' + __name__, True)\n")
    proc = _session(tmp_path, {"test_one.py": rows("True"), "test_two.py": rows("i != 1")}, "-n", "2",
                    "--dist", "loadfile")
    assert proc.returncode == 0 and "6 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr
    section = proc.stdout.split(" reliability ", 1)[1].splitlines()[1:4]
    assert [line.split() for line in section] == [
        ["row:", "shared", "5/6", "<--", "NOT", "N/N"], ["row:", "test_one", "3/3"], ["row:", "test_two", "3/3"]]
    assert "bringing up nodes" in proc.stdout  # it did run in workers


def test_in_parallel_the_home_guard_leaves_out_pytests_own_directories_only(tmp_path):
    """TMPDIR inside the real home: every worker's directory is the session's, under pytest's own
    directory, where another pytest session started meanwhile makes its own (as the runs of this
    file do); none of that is a change of the home, while a test's file there still fails the session."""
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp")}
    another = ("import subprocess, sys\n\n\ndef test_another_session(tmp_path):\n"
               "    (tmp_path / 'test_x.py').write_text('def test_x(tmp_path):\\n    pass\\n')\n"
               "    subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',"
               " str(tmp_path / 'test_x.py')], check=True)\n\n\n"
               "def test_nothing():\n    pass\n")
    leak = "import os\n\n\ndef test_leak():\n    open(os.path.join(os.environ['HOME'], '.leak'), 'w').close()\n"
    proc = _session(tmp_path, {"test_meanwhile.py": another, "test_leak.py": leak}, "-n", "2", env=env)
    assert proc.returncode == 1 and "3 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr
    told = proc.stdout.split("the real home changed while the suite ran", 1)[-1]
    assert f"{home / '.leak'}: made" in told and str(home / "tmp") not in told, proc.stdout[-3000:]


# -- apt's locks: the test command waits as apt-get would, never a traceback -------------------

HOLD_LOCK = ("import fcntl, sys\n"
             "f = open(sys.argv[1], 'w')\n"
             "fcntl.lockf(f, fcntl.LOCK_EX)  # as apt takes its locks: an fcntl write lock\n"
             "print('held', flush=True)\n"
             "sys.stdin.read()\n")


def _missing_package(monkeypatch, tmp_path, runs, outcome=lambda argv: 0):
    """install_system_packages with wine missing, as root, apt-get replaced by a recorder."""
    monkeypatch.setattr(test_command, "_present", lambda what: what != "wine")
    monkeypatch.setattr(test_command.os, "geteuid", lambda: 0)
    monkeypatch.setattr(test_command, "LISTS_LOCK", str(tmp_path / "lists-lock"))

    def run(argv, **kwargs):
        runs.append(argv)
        return subprocess.CompletedProcess(argv, outcome(argv), "", "E: apt-get failed for a reason of its own\n")

    monkeypatch.setattr(test_command.subprocess, "run", run)


def test_apt_get_install_waits_for_dpkgs_lock():
    """apt 2.6's `debSystem::Lock` waits DPkg::Lock::Timeout seconds for dpkg's locks (0: it fails at
    once), which `apt-get install` takes."""
    argv = test_command.apt_get("install", "-y", "wine")
    assert argv[:3] == ["apt-get", "-o", f"DPkg::Lock::Timeout={test_command.APT_LOCK_WAIT}"]
    assert test_command.APT_LOCK_WAIT > 0 and argv[3:] == ["install", "-y", "wine"]


def test_apt_get_update_waits_for_the_lists_lock_another_apt_get_holds(tmp_path, monkeypatch):
    """`apt-get update` takes the lists lock without waiting (apt 2.6 `pkgAcquire::GetLock`): the test
    command waits for it first, and runs apt-get only once the other process let it go."""
    import threading

    lock = tmp_path / "lists-lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    runs, seen = [], []

    def free():
        import fcntl

        with open(lock, "w") as f:
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            return True

    _missing_package(monkeypatch, tmp_path, runs, lambda argv: seen.append(free()) or 0)
    waiting = threading.Event()
    releaser = threading.Thread(target=lambda: (waiting.wait(), holder.stdin.close(), holder.wait()))
    releaser.start()
    try:
        test_command.install_system_packages(packages=["wine"], say=lambda line: (print(line), "waiting" in line and waiting.set()))
    finally:
        waiting.set()
        releaser.join()
    assert [argv[3] for argv in runs] == ["update", "install"], runs
    assert seen[0] is True, "apt-get update ran while another process held the lists lock"


def test_a_failing_apt_get_is_said_in_one_line_never_a_traceback(tmp_path, monkeypatch, capsys):
    runs = []
    _missing_package(monkeypatch, tmp_path, runs, lambda argv: 100 if "install" in argv else 0)
    with pytest.raises(SystemExit) as exc:
        test_command.install_system_packages(packages=["wine"])
    assert str(exc.value) == ("tools/test.py: `apt-get install -y -qq wine` failed (exit 100): "
                              "E: apt-get failed for a reason of its own")
