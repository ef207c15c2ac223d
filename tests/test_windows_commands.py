"""Every command of mambaboot through its command line on the real Windows CPython (the PSF's
embeddable 3.12.9, tests/support/winpython.py) under Wine, `python.exe mambaboot.pyz ...` as a
user types it in cmd. create's plain run, the bootstrap's adopt and a move to another directory
are tests/test_windows_python.py's; here the rest, chained on one environment in one scenario
(each step its exit code and its key line), since Wine takes seconds to start each command and
a create takes a minute: and a create killed while the engine runs, settled by the next create.

Wine's drives hold no junctions, so every environment here has no cache link (the fallback said
in one line, tests/test_windows_python.py)."""

import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

from mambaboot.common.files import removal
from mambaboot.shell.activation import powershell
from tests.support import wintransaction
from tests.support.wine import windows_path as win

AUTORUN_KEY = r"HKCU\Software\Microsoft\Command Processor"
HOOK = r"C:\Users\me\miniconda3\condabin\conda_hook.bat"


def _ok(r, *needles):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    for needle in needles:
        assert needle in r.stdout + r.stderr, (needle, r.stdout, r.stderr)
    return r


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text(encoding="utf-8"))


def test_every_command_runs_on_the_windows_python(winpython, tmp_path):
    mb = winpython.mambaboot
    envs, cache, other = tmp_path / "envs", tmp_path / "cache", tmp_path / "other"
    envs.mkdir()
    other.mkdir()
    where = ["--cache-dir", win(cache)]
    prefix = envs / "demo_3_12"
    _ok(mb(["create", "demo", "--python", "3.12", *winpython.create_args(), "--envs-dir", win(envs), *where]),
        f"done: {win(prefix)}")
    _ok(mb(["list", "--envs-dir", win(envs)]), "demo_3_12")
    r = _ok(mb(["run", win(prefix), "--", "python", "-c", "import sys; print(sys.prefix)"]))
    assert r.stdout.splitlines() == [win(prefix)], r.stdout
    _ok(mb(["audit", win(prefix)]), "audit: ")
    lock = tmp_path / "demo.lock"
    _ok(mb(["lock", win(prefix), "-o", win(lock)]), f"-> {win(lock)}")
    assert "# platform: win-64" in lock.read_text(encoding="utf-8")

    # --from-lock and --force at once: the environment replaced by exactly its locked packages
    before = _record(prefix)["created"]
    engine = winpython.create_args()[-2:]  # --micromamba EXE: the lock names its packages' channel
    assert engine[0] == "--micromamba"
    _ok(mb(["create", "--prefix", win(prefix), "--from-lock", win(lock), "--force", *engine, *where]),
        f"done: {win(prefix)}")
    assert _record(prefix)["state"] == "complete" and _record(prefix)["created"] != before

    _relink_conda_in_the_activated_environment(winpython, prefix)

    post = tmp_path / "post.bat"
    post.write_bytes(b'@echo off\r\npython -c "import sys; print(\'post-script in \' + sys.prefix)"\r\n')
    _ok(mb(["provision", win(prefix), "--post-script", win(post), *where]), f"post-script in {win(prefix)}")
    # and the PowerShell line that runs under any execution policy
    # one line for both shells, each run as its shell runs it (quoted for cmd only where needed)
    said = _ok(mb(["activate-scripts", win(prefix)]), f"`{powershell.line(win(prefix))}` in PowerShell").stdout
    bat = win(prefix / ".mambaboot" / "activate.bat")
    assert any(f"activate: `call {word}` in cmd.exe, `& {{" in said for word in (bat, f'"{bat}"')), said
    r = mb(["shell", win(prefix)], env={"CONDA_PREFIX": win(prefix), "CONDA_SHLVL": "1"})
    assert r.returncode == 3 and "this shell already has a Python environment in it" in r.stderr, r.stderr

    # doctor names an AutoRun planted in Wine's registry; --undo-shell-init deletes it, backup kept
    _ok(winpython.cmd([f'reg add "{AUTORUN_KEY}" /v AutoRun /t REG_SZ /d "{HOOK}" /f']))
    try:
        r = mb(["doctor"])
        assert r.returncode == 11 and f"cmd AutoRun (HKCU) runs a conda/mamba hook in every cmd.exe: {HOOK}" in r.stdout, r
        _ok(mb(["doctor", "--undo-shell-init"]), "removed: 1 of 1")
        r = _ok(mb(["doctor"]))
        assert "AutoRun" not in r.stdout, r.stdout
    finally:  # the session's Wine prefix is shared: nothing of this test stays in it
        winpython.cmd([f'reg delete "{AUTORUN_KEY}" /v AutoRun /f'])
        for backup in winpython.wine.prefix.glob("drive_c/users/*/mambaboot-autorun-HKCU.reg*"):
            backup.unlink()

    # pack to a zip, unpacked as its note says (Wine has no tar.exe: the zip read here), fixed by its python
    archive = tmp_path / "demo.zip"
    _ok(mb(["pack", win(prefix), "-o", win(archive)]), "unpack (cmd):")
    unpacked = other / "unpacked"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpacked)
    _ok(winpython.run(unpacked / "python.exe", [win(unpacked / ".mambaboot" / "unpack.py")]),
        f"unpack: {win(unpacked)}")
    _ok(mb(["adopt", win(unpacked), *where]), f"done: {win(unpacked)}")

    renamed = envs / "renamed_3_12"
    _ok(mb(["move", win(prefix), win(renamed), *where]), "(renamed)")
    # the environment's own python cannot remove it: Windows holds a running python.exe
    r = mb(["remove", win(renamed), "--yes", *where], python=renamed / "python.exe")
    assert r.returncode == 3 and "holds the Python running mambaboot" in r.stderr, r.stderr
    _ok(mb(["remove", win(renamed), "--yes", *where]), f"removed {win(renamed)}")
    assert not renamed.exists()
    _ok(mb(["cache", "info", *where]), "package cache")
    _ok(mb(["cache", "clean", *where]), "removed ")


def _scripts_finding(winpython, prefix: Path) -> dict:
    r = winpython.mambaboot(["doctor", win(prefix), "--json"])
    assert r.returncode in (0, 11), (r.stdout, r.stderr)
    (found,) = [f for f in json.loads(r.stdout)["findings"] if f["check"] == "scripts"]
    return found


def _relink_conda_in_the_activated_environment(winpython, prefix: Path) -> None:
    """A transaction in the activated environment relinking conda, as libmamba runs one (the engine
    stand-in's `install`, tests/support/wintransaction.py): every package it replaces unlinked before
    any is linked, so condabin\\conda.bat is gone while postlinked (noarch: python, with a post-link
    script) is linked, whose post-link script and .pyc compilation run after `CALL "%CONDA_BAT%"
    activate PREFIX`. First with CONDA_BAT naming condabin\\conda.bat (conda_hook.bat's value, an older
    mambaboot's): the CALL fails, both are skipped without a word, conda-meta lists .pyc files that
    are not there, and the wrapper writes condabin's scripts anew. Then with mambaboot's own, after
    activation: everything runs, and relinking mamba puts its condabin\\mamba.bat back with the path in
    it. doctor says which script what wrote; activate-scripts makes them relative again."""
    from tests.support.winpython import POSTLINKED_LOG, command_line

    activated = [f'call "{win(prefix / ".mambaboot" / "activate.bat")}"', "if errorlevel 1 exit /b 3"]

    def relink(*names, bat=None):
        _ok(winpython.cmd([*activated, *([f'set "CONDA_BAT={bat}"'] if bat else []),
                           command_line(winpython.engine, ["install", "-y", "-p", win(prefix), "--override-channels",
                                                           "-c", winpython.channel_url, "--force-reinstall", *names])]),
            "Unlinking conda", "Linking postlinked-1.0")

    log = prefix / POSTLINKED_LOG
    site = prefix / "Lib" / "site-packages" / "postlinked"
    pyc = [site / "__pycache__" / f"{m}.cpython-312.pyc" for m in ("__init__", "more")]

    def listed():
        (meta,) = (prefix / "conda-meta").glob("postlinked-*.json")
        return set(json.loads(meta.read_text(encoding="utf-8"))["files"])

    relink("postlinked", "conda", bat=win(prefix / "condabin" / "conda.bat"))
    assert not log.exists(), "the post-link script ran"
    assert (site / "more.py").is_file() and not any(p.exists() for p in pyc)
    assert {p.relative_to(prefix).as_posix() for p in pyc} <= listed(), "libmamba lists them all the same"
    found = _scripts_finding(winpython, prefix)
    assert found["severity"] == "warning" and "condabin/activate.bat" in found["message"], found
    assert "written anew by a mamba run" in found["message"], found

    relink("postlinked", "conda", "mamba")
    assert log.read_text().splitlines() == [f"postlinked 1.0 ran, python={win(prefix)}\\python.exe, "
                                            f"CONDA_PREFIX={win(prefix)}"], "once, in the environment"
    assert all(p.is_file() for p in pyc) and {p.relative_to(prefix).as_posix() for p in pyc} <= listed()
    said = _scripts_finding(winpython, prefix)["message"]
    (meta,) = (prefix / "conda-meta").glob("mamba-*.json")
    put_back = f"condabin/mamba.bat, condabin/mamba_hook.bat: put back by the package mamba "
    assert put_back in said and f"(conda-meta/{meta.name})" in said, said
    _ok(winpython.mambaboot(["activate-scripts", win(prefix)]), "rewrote condabin/mamba.bat")
    assert _scripts_finding(winpython, prefix)["severity"] == "ok"


def _processes(needle: str):
    """Linux pids of the Wine processes whose command line holds needle (Wine sets a Windows
    process's /proc cmdline to its own)."""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if needle in line:
                yield int(pid)


def test_a_create_killed_while_the_engine_runs_is_settled_by_the_next(winpython, tmp_path):
    """The Windows python running create and the engine it started are killed outright (as Task
    Manager's End task does) once the engine has put files in the prefix: nothing there proves whose
    they are, so the next create of the same name deletes nothing and names the cmd command that
    clears it; that command, run in cmd, lets the create after it make the environment."""
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    prefix = envs / "killed_3_12"
    args = ["create", "killed", "--python", "3.12", *winpython.create_args(), "--envs-dir", win(envs),
            "--cache-dir", win(cache)]
    first = []
    run = threading.Thread(target=lambda: first.append(winpython.mambaboot(args)))
    run.start()
    engine, zipapp = win(winpython.engine), win(winpython.zipapp)

    def engines():  # the create's own command line names the engine too (--micromamba)
        return [pid for pid in _processes(engine) if pid not in set(_processes(zipapp))]

    def linking():  # the engine at work: it has put something into the prefix
        return engines() and prefix.is_dir() and any(prefix.iterdir())

    deadline = time.monotonic() + 300
    while not linking() and run.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)  # a condition polled, with a deadline: the engine's first files are the kill point
    runs = list(_processes(zipapp))
    assert runs and linking(), "the create ended before its engine was seen linking"
    for pid in [*runs, *engines()]:
        os.kill(pid, signal.SIGKILL)
    run.join(timeout=120)
    assert first and "done:" not in first[0].stderr, first  # (Wine gives a killed process exit code 0)
    assert not (prefix / ".mambaboot" / "record.json").exists()
    left = sorted(p.relative_to(prefix) for p in prefix.rglob("*"))
    r = winpython.mambaboot(args)
    advised = removal.by_hand(win(prefix), windows=True)  # cmd's line, then PowerShell's
    clear = advised.split("`")[1]
    assert clear.startswith("rmdir /s /q ") and advised.endswith(" in PowerShell"), advised
    assert r.returncode == 4 and "nothing in it proves which" in r.stderr and advised in r.stderr, (r.stdout, r.stderr)
    assert sorted(p.relative_to(prefix) for p in prefix.rglob("*")) == left  # nothing deleted
    _ok(winpython.cmd([clear]))
    assert not prefix.exists()
    r = winpython.mambaboot(args)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert f"done: {win(prefix)}" in r.stderr, r.stderr
    assert _record(prefix)["state"] == "complete"


# What libmamba 2.8.1's init_root_prefix_cmdexe writes into the root prefix of a mamba named mamba.exe
WRAP_CALL_WRITES = {rel.format(name="mamba"): text.replace("{name}", "mamba")
                    for rel, text in wintransaction.WRAP_CALL_WRITES.items()}


def test_doctor_names_scripts_a_mamba_wrote_anew_and_activate_scripts_makes_them_relative(winpython, tmp_path):
    """A mamba that runs a post-link script with no CONDA_BAT naming a file that exists writes the
    root prefix's cmd scripts anew with absolute paths (libmamba 2.8.1 wrap_call, util.cpp
    1445-1494). `doctor PREFIX` names them (a warning, nothing written), `activate-scripts PREFIX`
    makes them relative again, and doctor is content."""
    from mambaboot.pipeline import finish
    from tests.support import winenv

    prefix = winenv.build(tmp_path / "rewritten env", tmp_path / "stub", "C:\\CACHE\\micromamba.exe")
    root = win(prefix)
    finish.portable(str(prefix), True, written=[root])  # as create leaves it (the files name the path Windows sees)

    def scripts_finding():
        return _scripts_finding(winpython, prefix)

    found = scripts_finding()
    assert found["severity"] == "ok", found
    for rel, text in WRAP_CALL_WRITES.items():
        (prefix / rel).write_bytes(text.format(exe=root + "\\Library\\bin\\mamba.exe", root=root).replace("\n", "\r\n").encode())
    before = {rel: (prefix / rel).read_bytes() for rel in WRAP_CALL_WRITES}
    found = scripts_finding()
    assert found["severity"] == "warning" and "activate-scripts" in found["fix"], found
    assert all(rel in found["message"] for rel in WRAP_CALL_WRITES), found
    assert "written anew by a mamba run" in found["message"] and "put back" not in found["message"], found
    assert {rel: (prefix / rel).read_bytes() for rel in WRAP_CALL_WRITES} == before, "doctor writes nothing"
    _ok(winpython.mambaboot(["activate-scripts", root]), "rewrote condabin/mamba.bat")
    assert not any(root.encode() in (prefix / rel).read_bytes() for rel in WRAP_CALL_WRITES)
    found = scripts_finding()
    assert found["severity"] == "ok", found
