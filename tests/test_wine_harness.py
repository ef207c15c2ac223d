"""tests/support/wine.py runs a script again only when Wine's start.exe reports that the cmd.exe
it started died before it had started (NOT_STARTED), and only once: here `wine` is replaced by a
stand-in that gives that outcome first, so both ways are made on purpose."""

import subprocess

import pytest

from tests.support import wine as winemod
from tests.support.wine import NOT_STARTED, Wine, windows_path


def _fake_wine(monkeypatch, outcomes, on_run=lambda: None):
    """Each `wine cmd /c` writes the next (returncode, stdout, stderr) of outcomes."""
    runs = []

    def run(argv, stdout, stderr, **kwargs):
        code, out, err = outcomes[len(runs)]
        runs.append(argv)
        on_run()
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
    return w


def test_a_script_cmd_never_started_is_run_again_once(fake, monkeypatch):
    runs = _fake_wine(monkeypatch, [(1, NOT_STARTED, ""), (3, "ran\n", "")])
    with pytest.warns(RuntimeWarning, match="could not start cmd.exe"):
        assert fake.batch("b", ["@echo off"]) == (3, "ran\n", "")
    assert len(runs) == 2 and fake.not_started == 1


def test_only_once(fake, monkeypatch):
    runs = _fake_wine(monkeypatch, [(1, NOT_STARTED, "")] * 3)
    with pytest.warns(RuntimeWarning):
        assert fake.batch("b", ["@echo off"]) == (1, NOT_STARTED, "")
    assert len(runs) == 2


@pytest.mark.parametrize("outcome", [(2, NOT_STARTED, ""), (1, NOT_STARTED, "x"), (1, NOT_STARTED + "ran\n", ""),
                                     (1, "ShellExecuteEx failed: File not found.\n", "")])
def test_any_other_outcome_is_kept(fake, monkeypatch, outcome):
    runs = _fake_wine(monkeypatch, [outcome, (0, "", "")])
    assert fake.batch("b", ["@echo off"]) == outcome
    assert len(runs) == 1 and fake.not_started == 0


def test_run_bat_runs_again_only_while_the_stand_ins_log_is_unchanged(fake, monkeypatch, tmp_path):
    log = tmp_path / "log.jsonl"
    env = {"STANDIN_LOG": windows_path(log)}
    runs = _fake_wine(monkeypatch, [(1, NOT_STARTED, ""), (0, "ok\n", "")])
    with pytest.warns(RuntimeWarning):
        assert fake.run_bat(tmp_path / "s.bat", [], env=env).stdout == "ok\n"
    assert len(runs) == 2

    def the_script_ran():
        with log.open("a") as f:
            f.write("{}\n")

    runs = _fake_wine(monkeypatch, [(1, NOT_STARTED, ""), (0, "ok\n", "")], on_run=the_script_ran)
    r = fake.run_bat(tmp_path / "s.bat", [], env=env)
    assert (r.returncode, r.stdout, r.stderr) == (1, NOT_STARTED, "")
    assert len(runs) == 1 and fake.not_started == 1
