"""tests/support/wine.py starts every Wine program without address-space randomisation (see its
module docstring: without wine64-preloader a randomised brk heap sometimes holds the shared user
data page, and the Wine process dies before it starts), and takes each run's outcome as it is:
here `subprocess.run` is replaced by a stand-in that records what would have been started."""

import subprocess
from pathlib import Path

import pytest

from tests.support import wine as winemod
from tests.support.wine import NO_ASLR, WINE, Wine, windows_path

# What start.exe printed when the cmd.exe it started died before it had started
NOT_STARTED = ("Application could not be started, or no application associated with the specified file.\n"
               "ShellExecuteEx failed: Internal error.\n\n")


def _fake_wine(monkeypatch, outcomes):
    """Each run writes the next (returncode, stdout, stderr) of outcomes."""
    runs = []

    def run(argv, stdout=None, stderr=None, **kwargs):
        code, out, err = outcomes[len(runs)]
        runs.append(argv)
        if stdout is not None and hasattr(stdout, "write"):
            stdout.write(out.replace("\n", "\r\n").encode())
            stderr.write(err.encode())
        return subprocess.CompletedProcess(argv, code)

    monkeypatch.setattr(winemod.subprocess, "run", run)
    return runs


@pytest.fixture
def fake(tmp_path, monkeypatch):
    w = Wine(root=tmp_path)
    w.workdir.mkdir()
    monkeypatch.setattr(Wine, "standin", tmp_path / "standin.exe")
    monkeypatch.setattr(winemod, "_session_root", winemod._session_root)  # start() sets it: the session's own back after
    return w


def test_no_aslr_is_setarch_addr_no_randomize():
    assert NO_ASLR[0] == "setarch" and NO_ASLR[2] == "--addr-no-randomize" and WINE == [*NO_ASLR, "wine"]
    flags = subprocess.run([*NO_ASLR, "cat", "/proc/self/personality"], capture_output=True, text=True, check=True)
    assert int(flags.stdout, 16) & 0x0040000  # ADDR_NO_RANDOMIZE, inherited by what it starts


def test_batch_and_run_bat_start_wine_without_randomisation(fake, monkeypatch, tmp_path):
    runs = _fake_wine(monkeypatch, [(3, "ran\n", ""), (0, "ok\n", "")])
    assert fake.batch("b", ["@echo off"]) == (3, "ran\n", "")
    assert fake.run_bat(tmp_path / "s.bat", []).stdout == "ok\n"
    assert [argv[:len(WINE) + 2] for argv in runs] == [[*WINE, "cmd", "/c"]] * 2


def test_prefix_is_made_and_started_without_randomisation(fake, monkeypatch):
    runs = _fake_wine(monkeypatch, [(0, "", "")] * 3)
    fake.start()
    assert runs[0][:len(NO_ASLR) + 1] == [*NO_ASLR, "wineboot"] and runs[2][:len(WINE)] == WINE


@pytest.mark.parametrize("outcome", [(1, NOT_STARTED, ""), (2, "", "x")])
def test_a_run_is_never_repeated(fake, monkeypatch, outcome):
    runs = _fake_wine(monkeypatch, [outcome, (0, "", "")])
    assert fake.batch("b", ["@echo off"]) == outcome
    assert len(runs) == 1


def test_the_sessions_files_are_on_a_drive_of_their_own_whose_root_is_not_the_hosts(wine, tmp_path):
    """A `/CACHE` (or any folder) at the host's root changes nothing a test sees: the session's
    files are on Z:, whose root is the session's directory, and the host's root is HOST_DRIVE. The
    host's root is stood in for by re-pointing HOST_DRIVE at a directory holding CACHE (the host's
    own `/` is never written)."""
    here = windows_path(tmp_path)
    assert here.startswith(winemod.SESSION_DRIVE + ":\\") and wine.unix(here) == tmp_path, here
    assert wine.unix(winemod.SESSION_DRIVE + ":\\") != Path("/")
    host = winemod.HOST_DRIVE
    assert windows_path(Path("/usr/bin")) == f"{host}:\\usr\\bin"
    host_root = tmp_path / "host-root"
    (host_root / "CACHE").mkdir(parents=True)
    probe = ["@echo off", 'if exist "\\CACHE\\" (echo root CACHE: seen) else (echo root CACHE: none)', "cd"]
    wine.map_drive(host, host_root)
    try:
        code, out, err = wine.batch("drive-probe", [probe[0], f'cd /d "{here}"', *probe[1:]])
        assert (code, out.splitlines()) == (0, ["root CACHE: none", here]), (out, err)
        # the probe can tell: from a folder on the host's drive, the root's CACHE is seen
        code, out, err = wine.batch("drive-probe", [probe[0], f"cd /d {host}:\\", *probe[1:]])
        assert out.splitlines()[0] == "root CACHE: seen", (out, err)
    finally:
        wine.map_drive(host, Path("/"))
    assert sorted(p.name for p in host_root.iterdir()) == ["CACHE"]
