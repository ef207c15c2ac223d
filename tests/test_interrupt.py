"""Interrupting create: Ctrl-C, SIGTERM and SIGHUP roll back; SIGKILL leaves a recognisably-ours prefix."""

import json
import os
import shutil
import signal
import sys

import pytest

from tests.conftest import MAMBABOOT
from tests.support.interrupt import Held, paused
from tests.support.snapshot import diff, snapshot


def _create_args(world, channel, standin, *extra):
    return [*MAMBABOOT, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin), *extra]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_interrupt_stops_the_engine_and_rolls_back(world, channel, fault_standin, signum, code):
    before = world.outside()
    with paused(_create_args(world, channel, fault_standin), world.env, world.envs, world.root.parent / "fifo") as proc:
        assert (world.envs / "py" / "conda-meta").is_dir(), "paused after linking"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1].startswith("mambaboot: error: interrupted")
    assert "Traceback" not in err
    assert diff(before, world.outside()) == {}
    assert not (world.envs / "py").exists()
    assert not (world.cache / "tmp").exists(), "the private HOME is removed, and tmp/ the run made for it"
    assert not (world.cache / "pending").exists(), "no marker, no lock file"


def _children(pid: int) -> list:
    """The processes whose parent is pid, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_an_engine_interrupted_on_its_own_is_an_engine_failure(world, channel, fault_standin):
    """A SIGINT that reaches micromamba alone: it rolls back and exits 0 ("Transaction interrupted,
    rollbacking": libmamba/src/core/transaction.cpp, 2.8.1). Its success is not believed. The
    signal is injected while the engine waits on STANDIN_BLOCK_FIFO: this test keeps the stand-in."""
    before = world.outside()
    with paused(_create_args(world, channel, fault_standin), world.env, world.envs, world.root.parent / "fifo") as proc:
        (engine,) = _children(proc.pid)
        os.kill(engine, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 6, err
    assert f"mambaboot: error: micromamba reported success but python/conda/mamba are not installed in " \
           f"{world.envs / 'py'}" in err, err
    assert "Traceback" not in err
    assert not (world.envs / "py").exists() and diff(before, world.outside()) == {}


def test_under_nohup_a_hangup_is_ignored_and_the_create_finishes(world, channel, fault_standin):
    """nohup leaves SIGHUP ignored for the run to outlive its terminal; mambaboot keeps it so
    (an ignored signal is dropped when sent: nothing is pending once kill returns)."""
    fifo = world.root.parent / "fifo"
    with paused(["nohup", *_create_args(world, channel, fault_standin)], world.env, world.envs, fifo) as proc:
        proc.send_signal(signal.SIGHUP)
        with open(fifo, "wb") as release:  # the stand-in reads one byte, then finishes
            release.write(b"go")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (world.envs / "py" / ".mambaboot" / "record.json").is_file()


def test_interrupt_restores_the_environment_being_replaced(world, channel, fault_standin):
    assert world.create("-c", channel, "--micromamba", str(fault_standin)).returncode == 0
    (world.envs / "py" / "user-note.txt").write_text("still here")
    before = world.outside()
    args = _create_args(world, channel, fault_standin, "--force")
    with paused(args, world.env, world.envs, world.root.parent / "fifo") as proc:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert diff(before, world.outside()) == {}, "the old environment is back, byte for byte"


def test_sigkill_leaves_an_environment_that_is_recognisably_ours(world, channel, fault_standin):
    with paused(_create_args(world, channel, fault_standin), world.env, world.envs, world.root.parent / "fifo") as proc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    prefix = world.envs / "py"
    assert (prefix / "conda-meta").is_dir() and not (prefix / ".mambaboot" / "record.json").exists()

    # What proves it ours is the killed run's intent, in its lock file beside the prefix, naming the
    # directory it made by identity: `list` names it and changes nothing; the next create settles it
    # through the routine a failure in the run itself takes, then creates.
    lock = world.envs / ".py.mambaboot-lock"
    assert lock.is_file()
    listed = world.run("list", "--envs-dir", str(world.envs), "--json")
    assert listed.returncode == 0 and [u["prefix"] for u in listed.json()["unfinished"]] == [str(prefix)]
    assert (prefix / "conda-meta").is_dir() and lock.is_file()

    # Killed while its engine ran, the directory carries no mark yet: the intent's recorded identity
    # is no proof (an inode number is reused), so the next create names it with what clears it and
    # deletes nothing; cleared so (`rm -rf PREFIX`), the create goes on.
    before = snapshot(world.envs)
    r = world.create("-c", channel, "--micromamba", str(fault_standin), "--json")
    assert r.returncode == 4 and "nothing in it proves which" in r.stderr and f"rm -rf {prefix}" in r.stderr, r.stderr
    assert diff(before, snapshot(world.envs)) == {}
    shutil.rmtree(prefix)
    r = world.create("-c", channel, "--micromamba", str(fault_standin), "--json")
    assert r.returncode == 0, r.stderr
    assert not lock.exists() and list(world.cache.glob("pending/*")) == []


def test_interrupting_remove_never_leaves_half_an_environment(world, channel, standin, reliability):
    """Ctrl-C at points spread over a `remove`: the environment is either untouched or all gone."""
    import subprocess
    import sys
    from pathlib import Path

    killer = Path(__file__).parent / "support" / "killpoints.py"
    count_file = world.root.parent / "calls"

    def remove(n, name):
        return subprocess.run(
            [sys.executable, str(killer), str(n), str(count_file), "--", "remove", name, "--yes",
             "--cache-dir", str(world.cache)],
            env={**world.env, "KILLPOINT_SIGNAL": "INT"}, cwd=str(world.envs), capture_output=True, text=True,
            timeout=600,
        )

    assert world.create("calibrate", "-c", channel, "--micromamba", str(standin)).returncode == 0
    assert remove(0, "calibrate").returncode == 0
    total = int(count_file.read_text())
    for i in range(5):
        name = f"r{i}"
        assert world.create(name, "-c", channel, "--micromamba", str(standin)).returncode == 0
        proc = remove(int(total * (i + 0.5) / 5), name)
        left = sorted(p.name for p in world.envs.iterdir())
        gone = name not in left
        intact = name in left and (world.envs / name / ".mambaboot" / "record.json").is_file()
        held = proc.returncode in (0, 130) and (gone or intact) and not any(n.endswith("-removing") and ".mambaboot-tmp-" in n for n in left)
        held = held and "Traceback" not in proc.stderr
        reliability.record("remove interrupted: all or nothing", held)
        assert held, (i, proc.returncode, left, proc.stderr)
        if intact:
            assert world.run("remove", name, "--yes", "--cache-dir", str(world.cache)).returncode == 0


ENGINE_FIRST = "Ctrl-C seen first by the engine: 130, rolled back"
CHILD_FIRST = "Ctrl-C seen first by verification's or provisioning's child: 130, as if seen first by mambaboot"


def _interrupted_run_rolled_back(world, r, before, reliability, child=False):
    last = r.stderr.strip().splitlines()[-1]
    held = r.returncode == 130 and last.startswith("mambaboot: error: interrupted by Ctrl-C") and "Traceback" not in r.stderr
    held = held and diff(before, world.outside()) == {} and not (world.cache / "tmp").exists()
    held = held and not (world.cache / "pending").exists()
    if child:
        reliability.record(CHILD_FIRST, held)
    else:
        reliability.record(ENGINE_FIRST, held)
    assert r.returncode == 130, r.stderr
    assert last.startswith("mambaboot: error: interrupted by Ctrl-C"), r.stderr
    assert "Traceback" not in r.stderr and "failed (exit" not in r.stderr
    assert diff(before, world.outside()) == {}
    assert not (world.cache / "tmp").exists() and not (world.cache / "pending").exists()


@pytest.mark.parametrize("how", ["exit", "signal"], ids=["exit 130", "killed by SIGINT"])
def test_an_engine_that_ctrl_c_ended_first_is_an_interruption(world, channel, fault_standin, how, reliability):
    """Ctrl-C reaches the whole group; the engine ends of it (exit 130, or killed by SIGINT) and is
    reaped before our handler runs, or ours never runs: the run ends with 130, rolled back. The
    stand-in sends no signal to anyone, so mambaboot sees nothing but the engine's end."""
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(fault_standin), env={"STANDIN_INTERRUPTED": f"create:{how}"})
    _interrupted_run_rolled_back(world, r, before, reliability)
    assert not (world.envs / "py").exists()


def test_a_version_probe_that_ctrl_c_ended_is_an_interruption(world, channel, fault_standin, reliability):
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(fault_standin), env={"STANDIN_INTERRUPTED": "version:exit"})
    _interrupted_run_rolled_back(world, r, before, reliability)
    assert "--version" not in r.stderr and not (world.envs / "py").exists()


@pytest.mark.parametrize("force", [False, True], ids=["new", "replacing"])
def test_ctrl_c_that_reaches_mambaboot_only_after_the_engine_was_reaped(world, channel, fault_standin, force, reliability):
    """The engine exits 130 with no signal sent; SIGINT reaches mambaboot only once the rollback
    has deleted or moved the new prefix (so after the engine was reaped). The rollback finishes
    (the environment being replaced is back, byte for byte) and the run ends with 130."""
    if force:
        assert world.create("-c", channel, "--micromamba", str(fault_standin)).returncode == 0
    before = world.outside()
    r = world.create("-c", channel, "--micromamba", str(fault_standin), *(["--force"] if force else []),
                     env={"STANDIN_INTERRUPTED": "create:late"})
    _interrupted_run_rolled_back(world, r, before, reliability)
    assert (world.envs / "py").exists() == force


@pytest.mark.parametrize("how", ["exit", "signal"], ids=["exit 130", "killed by SIGINT"])
def test_a_verification_child_that_ctrl_c_ended_first_is_an_interruption(world, fault_channel, fault_standin, how,
                                                                         reliability):
    """Verification's conda (the test channel's stand-in, in every mode) ends of Ctrl-C (exit 130,
    or killed by SIGINT) before mambaboot's handler runs, or ours never runs: the run ends with 130
    and the new environment is rolled back, as when the engine sees it first; never exit 7 (a
    failed verification)."""
    before = world.outside()
    r = world.create("-c", fault_channel, "--micromamba", str(fault_standin), env={"STANDIN_INTERRUPTED": f"verify:{how}"})
    _interrupted_run_rolled_back(world, r, before, reliability, child=True)
    assert "failed verification" not in r.stderr and not (world.envs / "py").exists()


@pytest.mark.parametrize("how", ["exit 130", "exec python -c 'import os, signal; signal.signal(signal.SIGINT, "
                                 "signal.SIG_DFL); os.kill(os.getpid(), signal.SIGINT)'"],
                         ids=["exit 130", "killed by SIGINT"])
def test_a_post_script_that_ctrl_c_ended_first_is_an_interruption(world, channel, fault_standin, how, reliability,
                                                                  tmp_path):
    """A post-script ends of Ctrl-C before mambaboot sees it: 130, and the record says where it was
    interrupted, as when mambaboot sees it first, so `provision` continues; never exit 8."""
    script = tmp_path / "post.sh"
    script.write_text(f"#!/bin/sh\n{how}\n")
    r = world.create("-c", channel, "--micromamba", str(fault_standin), "--post-script", str(script))
    last = r.stderr.strip().splitlines()[-1]
    failed = json.loads((world.envs / "py" / ".mambaboot" / "record.json").read_text())["provisioning"]["failed"]
    held = r.returncode == 130 and last.startswith("mambaboot: error: interrupted by Ctrl-C")
    held = held and "Traceback" not in r.stderr and "failed (exit" not in r.stderr and failed.get("interrupted") is True
    script.write_text("#!/bin/sh\nexit 0\n")
    again = world.run("provision", str(world.envs / "py"), "--cache-dir", str(world.cache))
    held = held and again.returncode == 0
    reliability.record(CHILD_FIRST, held)
    assert held, f"{r.returncode}\n{r.stderr}\n{failed}\n{again.stderr}"


def _running(pid: int) -> bool:
    """pid is a process that has not ended (a zombie has)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_ctrl_c_as_verification_is_collected_stops_every_check_first(world, fault_channel, fault_standin, tmp_path):
    """Ctrl-C reaching mambaboot alone as it turns to collect verification's results, its conda still
    running (held so until stopped): the checks it started are stopped and reaped before the rollback,
    none outlives the run, and the run is rolled back exactly."""
    fifo = tmp_path / "conda-pid"
    os.mkfifo(fifo)
    before = world.outside()
    args = ["create", "--cache-dir", str(world.cache), "-c", fault_channel, "--micromamba", str(fault_standin)]
    env = {"STANDIN_INTERRUPTED": "verify:stall", "STANDIN_STALL_FIFO": str(fifo)}
    with Held(world, "verify.result+0", args, env) as held:
        pid = int(fifo.read_text())  # returns once verification's conda runs and has said its pid
        try:
            os.kill(held.proc.pid, signal.SIGINT)
            code, err = held.go()
            outlived = _running(pid)
        finally:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert code == 130 and err.strip().splitlines()[-1].startswith("mambaboot: error: interrupted by Ctrl-C"), err
    assert not outlived, "verification's conda still runs after the run ended"
    assert diff(before, world.outside()) == {} and not (world.envs / "py").exists()


GROUP_DURING_VERIFY = "Ctrl-C to the whole group during verification: 130, rolled back exactly"


def test_ctrl_c_to_the_whole_group_during_verification_rolls_back_exactly(world, channel, standin, reliability):
    """Ctrl-C as a terminal sends it, to the run's whole process group (the environment's python,
    conda and mamba that verification started among them, at any point of their own start), at
    points spread from finish's start to the end of verification: whichever of mambaboot or a
    check sees it first, the run ends with 130, rolled back exactly, and no check outlives it."""
    import subprocess
    import sys
    from pathlib import Path

    killer = Path(__file__).parent / "support" / "killpoints.py"
    calls = world.root.parent / "calls"

    def create(n, name):
        return subprocess.run(
            [sys.executable, str(killer), str(n), str(calls), "--", "create", name, "--cache-dir", str(world.cache),
             "-c", channel, "--micromamba", str(standin)],
            env={**world.env, "KILLPOINT_SIGNAL": "INT", "KILLPOINT_GROUP": "1",
                 "KILLPOINT_MARKS": "finish.finish,finish._note_user_site"},
            cwd=str(world.envs), capture_output=True, text=True, timeout=600, start_new_session=True,
        )

    assert create(0, "calibrate").returncode == 0
    marks = json.loads(Path(str(calls) + ".marks").read_text())
    first, last = marks["finish.finish"], marks["finish._note_user_site"]
    before = world.outside()
    for i in range(5):
        r = create(first + (last - first) * (2 * i + 1) // 10, "py")
        prefix = str(world.envs / "py")
        left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _names(pid, prefix)]
        lines = r.stderr.strip().splitlines()
        held = r.returncode == 130 and lines[-1].startswith("mambaboot: error: interrupted by Ctrl-C")
        held = held and "Traceback" not in r.stderr and "failed verification" not in r.stderr and not left
        held = held and diff(before, world.outside()) == {} and not (world.envs / "py").exists()
        held = held and not (world.cache / "tmp").exists() and not (world.cache / "pending").exists()
        reliability.record(GROUP_DURING_VERIFY, held)
        assert held, (i, r.returncode, left, r.stderr)


def _names(pid: str, prefix: str) -> bool:
    """Process pid runs with prefix in its command line (one of verification's checks) and has not ended."""
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False
    return prefix.encode() in cmdline and _running(int(pid))


def test_a_ctrl_c_seen_as_the_process_exits_leaves_its_exit_code(world, channel, fault_standin):
    """The same Ctrl-C seen late, once the run has rolled back and said so, as the interpreter is
    torn down (here: from an object in sys.modules, destroyed after Python stopped handling
    signals): the process still exits 130, not by the signal."""
    from tests.conftest import REPO, RUNTIME_PYTHON

    script = (f"import os, signal, sys; sys.path.insert(0, {str(REPO / 'src')!r}); from mambaboot.cli import main\n"
              "class Late:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGINT)\n"
              "sys.modules['_late'] = Late()\nsys.exit(main(sys.argv[1:]))\n")
    import subprocess

    r = subprocess.run([RUNTIME_PYTHON, "-c", script, *_create_args(world, channel, fault_standin)[len(MAMBABOOT):]],
                       env={**world.env, "STANDIN_INTERRUPTED": "create:exit"}, cwd=str(world.envs),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 130, (r.returncode, r.stderr)
    assert r.stderr.strip().splitlines()[-1].startswith("mambaboot: error: interrupted by Ctrl-C")
    assert not (world.envs / "py").exists()


def test_a_run_that_ends_before_its_engine_blocks_fails_the_test_instead_of_hanging(tmp_path):
    """paused() against a run that never reaches the engine (a real micromamba, which knows no
    STANDIN_BLOCK_FIFO, or a refusal before the engine): the test fails, naming what it said."""
    command = [sys.executable, "-c", "import sys; print('refused before the engine', file=sys.stderr); sys.exit(2)"]
    with pytest.raises(AssertionError, match="exit 2.*refused before the engine"):
        with paused(command, dict(os.environ), tmp_path, tmp_path / "fifo"):
            pass
