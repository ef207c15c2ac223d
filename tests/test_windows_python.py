"""The user's path on the real Windows CPython (the PSF's embeddable 3.12.9, tests/support/winpython.py)
under Wine: bootstrap.bat's hand-over to `mambaboot.pyz create` on the private Python it makes, and
`mambaboot create` run by the embeddable python, each then activated in a fresh cmd. Wine's drives hold no junctions (WinError
50, as a FAT32 stick or many network shares), so the cache link falls back, said in one line.

Few and whole: each start of a Windows program costs Wine a fraction of a second, a create about
a minute."""

import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from mambaboot.pipeline.plan import PINNED_MICROMAMBA
from mambaboot.shell.activation import powershell
from tests.conftest import REPO
from tests.support.wine import file_url, read_set_dump
from tests.support.wine import windows_path as win

NO_LINK = "cache link: not made, as with --no-cache-link"


def _where(name: str) -> str:
    """where.exe's answer, every NAME.EXT along PATH in order (Wine 8's where.exe prints nothing)."""
    return f'for %%D in ("%PATH:;=" "%") do @for %%E in (%PATHEXT%) do @if exist "%%~D\\{name}%%E" echo %%~D\\{name}%%E'


def _activated(winpython, prefix: Path, tmp: Path) -> dict:
    """A fresh cmd: activate, ask python, where and mamba, deactivate; PATH before and after."""
    before, after = tmp / "before.txt", tmp / "after.txt"
    scripts = win(prefix / ".mambaboot")
    r = winpython.cmd([
        f'set > "{win(before)}"',
        f'call "{scripts}\\activate.bat"',
        "if errorlevel 1 exit /b 1",
        'python -c "import sys; print(\'prefix=\' + sys.prefix)"',
        _where("python"),
        _where("mamba"),
        "call mamba --version",
        f'call "{scripts}\\deactivate.bat"',
        f'set > "{win(after)}"',
        "exit /b 0",
    ])
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    return {"lines": lines, "stderr": r.stderr,
            "before": read_set_dump(before).get("PATH"), "after": read_set_dump(after).get("PATH")}


def _assert_activation_works(winpython, prefix: Path, tmp: Path) -> None:
    seen = _activated(winpython, prefix, tmp)
    lines = seen["lines"]
    assert f"prefix={win(prefix)}" in lines, seen
    pythons = [line for line in lines if line.lower().endswith("python.exe")]
    assert pythons == [win(prefix / "python.exe")], seen  # the environment's only: no other python on PATH
    mambas = [line for line in lines if "mamba." in line.lower()]
    assert mambas[0] == win(prefix / "condabin" / "mamba.bat"), seen  # the wrapper first
    assert "2.8.1" in lines, seen
    assert seen["before"] and seen["after"] == seen["before"], seen  # deactivate restores PATH exactly


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text(encoding="utf-8"))


def test_create_by_the_windows_python_activates_and_moves(winpython, tmp_path):
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    r = winpython.mambaboot(["create", "demo", "--python", "3.12", *winpython.create_args(),
                             "--envs-dir", win(envs), "--cache-dir", win(cache)])
    prefix = envs / "demo_3_12"
    assert r.returncode == 0, r.stderr
    # before: exit 141 and nothing said, CreateJunction's WinError 50 taken for a reader gone
    assert [line for line in r.stderr.splitlines() if NO_LINK in line] == [
        f"warning: {NO_LINK}: {win(prefix / 'pkgs')}'s file system cannot link to a directory "
        "(Request not supported, WinError 50)"], r.stderr
    assert not (prefix / "pkgs").exists()
    record = _record(prefix)
    assert (record["state"], record["platform"]) == ("complete", "win-64")
    assert record["verification"]["python_version"] == "3.12.9"
    _assert_activation_works(winpython, prefix, tmp_path)

    # move to another directory: the same fallback, and the record at the new place complete
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = other / "demo"
    r = winpython.mambaboot(["move", win(prefix), win(moved), "--cache-dir", win(cache)])
    assert r.returncode == 0, r.stderr
    assert NO_LINK in r.stderr
    assert not prefix.exists() and _record(moved)["state"] == "complete"
    _assert_activation_works(winpython, moved, tmp_path)


@pytest.mark.parametrize("processor", [["ARM64", ""], ["x86", "ARM64"]])
def test_create_on_arm64_windows_10_is_refused_before_the_engine_runs(winpython, tmp_path, processor):
    """Wine says Windows 7 (6.1.7601) unless told otherwise: below Windows 11's build no x64 program
    runs on ARM64, and mambaboot makes no win-arm64 environment: create refuses
    as the bootstrap scripts do, exit 5, before any download or engine run, and makes nothing (before:
    the engine ran for win-arm64, where the real one fails to solve and create names proxies)."""
    from tests.support.winpython import command_line

    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    arch, wow64 = processor
    r = winpython.cmd([f'set "PROCESSOR_ARCHITECTURE={arch}"', f'set "PROCESSOR_ARCHITEW6432={wow64}"',
                       command_line(winpython.python, [win(winpython.zipapp), "create", "demo", "--python", "3.12",
                                                       *winpython.create_args(), "--envs-dir", win(envs),
                                                       "--cache-dir", win(cache)]),
                       "exit /b %ERRORLEVEL%"])
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert r.stderr.splitlines() == [
        "mambaboot: error: ARM64 Windows 10 runs no x64 program, and mambaboot makes no win-arm64 environment "
        "(conda-forge builds conda there for Python 3.14 only: conda/conda#15448); use Windows 11 or an x64 machine"], r.stderr
    assert list(envs.iterdir()) == [] and not cache.exists()


def test_create_on_arm64_windows_11_makes_a_win_64_environment_and_says_why(winpython, tmp_path):
    """Windows 11 (build 22000 on; Wine told so through its registry) runs x64 programs on ARM64:
    create run directly by an ARM64 Python plans win-64, says why in one line, and completes."""
    from mambaboot.common.host import ARM64_EMULATED
    from tests.support.winpython import command_line

    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    with winpython.wine.windows_build(22000):
        r = winpython.cmd(['set "PROCESSOR_ARCHITECTURE=ARM64"', 'set "PROCESSOR_ARCHITEW6432="',
                           command_line(winpython.python, [win(winpython.zipapp), "create", "demo", "--python", "3.12",
                                                           *winpython.create_args(), "--envs-dir", win(envs),
                                                           "--cache-dir", win(cache)]),
                           "exit /b %ERRORLEVEL%"])
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert [line for line in r.stderr.splitlines() if "ARM64" in line] == [f"warning: {ARM64_EMULATED}"], r.stderr
    record = _record(envs / "demo_3_12")
    assert (record["state"], record["platform"]) == ("complete", "win-64")


def test_a_profile_named_outside_the_ansi_code_page_works_end_to_end(winpython, tmp_path):
    """A user 张三 on Windows whose ANSI code page is 1252 (Wine's for C.UTF-8, as an English
    Windows'): `create py` typed in Downloads lands in Downloads\\py_3_12 with its package cache on
    the drive's CACHE, never under the profile (micromamba cannot extract into a path the code page
    lacks: mamba#3097, #3228); the environment activates in cmd and `run` runs in it. The paths
    reach cmd through variables: a batch file's own text is read in the console's code page."""
    drive = tmp_path / "drive-u"
    downloads = drive / "Users" / "\u5f20\u4e09" / "Downloads"
    downloads.mkdir(parents=True)
    winpython.wine.map_drive("U", drive)
    profile = "U:\\Users\\\u5f20\u4e09"
    prefix = profile + "\\Downloads\\py_3_12"
    env = {"USERPROFILE": profile, "LOCALAPPDATA": profile + "\\AppData\\Local", "PFX": prefix}
    probe = '-c "import ctypes, sys; print(ctypes.windll.kernel32.GetACP(), ascii(sys.prefix))"'
    acp = winpython.cmd([f'"{win(winpython.python)}" {probe}'], env=env)
    assert acp.stdout.split()[0] == "1252", acp

    r = winpython.cmd(['cd /d "%PFX%\\.."', f'"{win(winpython.python)}" "{win(winpython.zipapp)}" create py --python 3.12 '
                       f'-c {winpython.channel_url} --micromamba "{win(winpython.engine)}"', "exit /b %ERRORLEVEL%"], env=env)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert sorted(p.name for p in drive.iterdir()) == ["CACHE", "Users"], "the cache is the drive's, not the profile's"
    assert [p.name for p in downloads.iterdir()] == ["py_3_12"] and not (downloads.parent / "AppData").exists()
    activated = winpython.cmd(['call "%PFX%\\.mambaboot\\activate.bat"', "if errorlevel 1 exit /b 1",
                               f"python {probe}", 'call "%PFX%\\.mambaboot\\deactivate.bat"', "exit /b 0"], env=env)
    assert activated.returncode == 0 and activated.stdout.split() == ["1252", ascii(prefix)], activated
    ran = winpython.cmd([f'"{win(winpython.python)}" "{win(winpython.zipapp)}" run "%PFX%" -- python {probe}',
                         "exit /b %ERRORLEVEL%"], env=env)
    assert ran.returncode == 0 and ran.stdout.split() == ["1252", ascii(prefix)], ran


@pytest.fixture
def served(winpython, tmp_path):
    """bootstrap.bat beside the real mambaboot.pyz, micromamba's release served from a directory
    as tests/test_bootstrap_bat.py serves it (file:// through the curl.exe stand-in)."""
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(REPO / "bootstrap" / "bootstrap.bat", dist / "bootstrap.bat")
    shutil.copy(winpython.zipapp, dist / "mambaboot.pyz")
    release = tmp_path / "releases" / "download" / PINNED_MICROMAMBA
    release.mkdir(parents=True)
    data = winpython.engine.read_bytes()
    (release / "micromamba-win-64").write_bytes(data)
    (release / "micromamba-win-64.sha256").write_text(hashlib.sha256(data).hexdigest())
    winpython.wine.standin  # noqa: B018 -- curl.exe and certutil.exe in system32, as bootstrap.bat calls them
    return dist, tmp_path / "releases"


# Run by the engine stand-in as it creates (STANDIN_RUN_DURING): only while the place's lock is held
# (create's engine run, not the private Python's), a second bootstrap.bat and a `mambaboot create` of
# the same place, each to its end, in the user's environment; what each returned and said.
RACE = r"""
import json, os, subprocess, sys
zipapp, prefix, spec = sys.argv[1:4]
sys.path.insert(0, zipapp)
from mambaboot.common.files import filelock, fsops
if not filelock.held(fsops.place_lock(prefix)):
    sys.exit(0)
with open(spec, encoding="utf-8") as f:
    spec = json.load(f)
seen = {}
for who, line in spec["lines"].items():
    r = subprocess.run(line, env=spec["env"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seen[who] = [r.returncode, r.stderr]
with open(spec["out"], "w", encoding="utf-8") as f:
    json.dump(seen, f)
"""


def test_bootstrap_bat_hands_over_to_create_on_its_private_python_and_wins_a_race(winpython, served, tmp_path):
    """bootstrap.bat makes its private Python with micromamba (the engine stand-in, from the win-64
    channel), hands over to `mambaboot.pyz create` on it, and the environment activates; while create's
    engine runs, a second bootstrap.bat and a `mambaboot create` of the same place are refused, exit 4,
    and nothing of theirs is left. The bootstrap's own work directory is gone. The second bootstrap
    looks at a directory, which is create's to judge: it makes its private Python (with a cache of its
    own: micromamba would wait for the first engine's package cache lock, which waits for this race)
    and the create it hands over to is refused under the place's lock."""
    from tests.support.winpython import cmd_quote

    dist, releases = served
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    prefix = envs / "py_3_12"
    args = ["py", "3.12", "--channel", winpython.channel_url, "--envs-dir", win(envs), "--cache-dir", win(cache)]
    user = {"MAMBABOOT_RELEASES_URL": file_url(releases)}
    race, spec, seen = tmp_path / "race.py", tmp_path / "race.json", tmp_path / "seen.json"
    race.write_text(RACE, encoding="utf-8")
    second = [*args[:-1], win(tmp_path / "cache2")]
    bat = " ".join(cmd_quote(a) for a in [win(dist / "bootstrap.bat"), *second]).replace("%%", "%")
    create = [win(winpython.python), win(winpython.zipapp), "create", "py", "--python", "3.12", *args[2:],
              "--micromamba", win(winpython.engine)]
    r = winpython.cmd(["set > " + cmd_quote(win(tmp_path / "env.txt"))], env=user, cwd=envs)
    assert r.returncode == 0, r.stderr
    env = read_set_dump(tmp_path / "env.txt")
    spec.write_text(json.dumps({"out": win(seen), "env": env,
                                "lines": {"bootstrap": f'cmd /d /s /c "{bat}"', "create": create}}), encoding="utf-8")
    during = " ".join(cmd_quote(w) for w in [win(winpython.python), win(race), win(winpython.zipapp), win(prefix),
                                             win(spec)]).replace("%%", "%")
    r = winpython.run(dist / "bootstrap.bat", args, env={**user, "STANDIN_RUN_DURING": during}, cwd=envs)
    assert r.returncode == 0, (r.stdout, r.stderr)
    raced = json.loads(seen.read_text(encoding="utf-8"))
    assert raced["bootstrap"][0] == 4 and f"is changing {win(prefix)} right now" in raced["bootstrap"][1], raced
    assert raced["create"][0] == 4, raced
    assert not list((cache / "tmp").iterdir()) and not list((tmp_path / "cache2" / "tmp").iterdir()), "no work directory left"
    lines = r.stderr.splitlines()
    assert f"engine: created {win(prefix)}" in lines and NO_LINK in r.stderr, r.stderr  # create's own report
    assert "micromamba activate" not in r.stderr + r.stdout, "micromamba's advice is not shown"
    assert lines[-2].rstrip() == f'next: call "{win(prefix)}\\.mambaboot\\activate.bat"', r.stderr
    assert lines[-1].rstrip() == "next in PowerShell: " + powershell.line(win(prefix)), r.stderr
    record = _record(prefix)
    assert record["state"] == "complete" and record["verification"]["python_version"] == "3.12.9"
    _assert_activation_works(winpython, prefix, tmp_path)


def test_the_windows_tryout_runs_as_written(winpython, tmp_path):
    """`tools/tryout.py DIR --windows`, then the install page's cmd block run in DIR as a reader
    pastes it into a batch file: the embeddable CPython in DIR runs mambaboot.pyz, the engine in DIR
    runs on it, and nothing of the try-out is outside DIR. DIR is the install page's example folder,
    on a drive of its own whatever the session's temporary directory, under MAX_PATH as Wine enforces
    it (no LongPathsEnabled): the try-out accepts it and the create there warns of nothing (the
    try-out checks with create's own estimate)."""
    import subprocess
    import sys

    from tests.test_docs import _wine_script, blocks
    from tests.test_readme import windows_tryout_folder

    documented, _ = windows_tryout_folder()
    drive = tmp_path / "drive-j"
    tryout = drive.joinpath(*documented[3:].split("\\"))
    where = "J:" + documented[2:]
    tryout.parent.mkdir(parents=True)
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "tryout.py"), str(tryout), "--windows",
                           "--windows-dir", where], cwd=str(tmp_path), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "tryout/micromamba.exe: NOT micromamba" in proc.stdout, proc.stdout
    # the try-out's channel holds packages no deeper than create's estimate counts on
    from mambaboot.common.cachepaths import ANY_PACKAGE

    for package in (tryout / "channel").glob("*/*.tar.bz2"):
        folder = package.name[:-len(".tar.bz2")]
        with tarfile.open(package) as archive:
            paths = [*archive.getnames(), f"conda-meta/{folder}.json"]
        assert len(folder) <= ANY_PACKAGE[0] and max(map(len, paths)) <= ANY_PACKAGE[1], package
    example = [b for b in blocks((REPO / "docs" / "install.md").read_text(encoding="utf-8")) if b.kind == "wine python"]
    assert len(example) == 1, example
    wine = winpython.wine
    wine.map_drive("J", drive)
    try:
        r = winpython.cmd([f'cd /d "{where}"', *_wine_script(example[0].code, 0)[1:]])
    finally:
        del wine.drives["J"]
        (wine.prefix / "dosdevices" / "j:").unlink()
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.splitlines() == [where + "\\demo_3_12"], (r.stdout, r.stderr)
    assert NO_LINK in r.stderr and f"removed {where}\\demo_3_12" in r.stderr + r.stdout, r.stderr
    assert "MAX_PATH" not in r.stderr, r.stderr
    assert sorted(p.name for p in tryout.iterdir()) == ["cache", "channel", "mambaboot.pyz", "mambaboot.pyz.sha256",
                                                          "micromamba.exe", "python"]


def test_the_guide_s_python_recipes_run_on_the_windows_python(winpython, tmp_path):
    """Every guide block that starts Python (`<!-- runnable: wine python -->`), run as the guide
    shows it in Wine's cmd, on the real Windows CPython: drive D: holds micromamba.exe where the
    guide keeps it (the engine stand-in, so the download is skipped, as on a second run), and
    `conda-forge` is the session's win-64 channel through MAMBA_CHANNEL_ALIAS, which micromamba
    and the environment's mamba read (mamba's channel when none is configured); the output the
    guide shows after a block is how the block's output ends (before it, the
    engine's report of its transaction, which is the stand-in's)."""
    from tests.test_docs import GUIDE, _wine_script, blocks

    found = blocks(GUIDE.read_text(encoding="utf-8"))
    recipes = [(b, after) for b, after in zip(found, [*found[1:], None]) if b.kind == "wine python"]
    assert recipes, "the guide has no recipe that starts Python"
    drive = tmp_path / "drive-d"
    engine = drive / "CACHE" / "micromamba" / "micromamba.exe"
    engine.parent.mkdir(parents=True)
    shutil.copy(winpython.engine, engine)
    alias = tmp_path / "channels"
    alias.mkdir()
    (alias / "conda-forge").symlink_to(winpython.channel)
    wine = winpython.wine
    link = wine.prefix / "dosdevices" / "d:"
    old = os.readlink(link) if link.is_symlink() else None
    # the engine registers what it creates in the profile's .conda\environments.txt: put back after
    registries = {p: p.read_bytes() for p in wine.prefix.glob("drive_c/users/*/.conda/environments.txt")}
    wine.map_drive("D", drive)
    try:
        for b, after in recipes:
            r = winpython.cmd(_wine_script(b.code, b.exit), env={"MAMBA_CHANNEL_ALIAS": file_url(alias)})
            assert r.returncode == b.exit, (f"guide.md:{b.line}", r.stdout, r.stderr)
            if after is not None and after.kind == "output":  # how the output ends: the engine's report is its own
                shown = after.code.strip("\n").splitlines()
                assert r.stdout.strip("\n").splitlines()[-len(shown):] == shown, (f"guide.md:{b.line}", r.stdout, r.stderr)
    finally:
        del wine.drives["D"]
        link.unlink()
        if old is not None:
            link.symlink_to(old)
        for registry in wine.prefix.glob("drive_c/users/*/.conda/environments.txt"):
            if registry in registries:
                registry.write_bytes(registries[registry])
            else:
                registry.unlink()


def test_create_refuses_a_network_share_as_its_default_place_and_takes_a_local_envs_dir(winpython, tmp_path):
    """A Downloads folder redirected to a share (Folder Redirection: \\\\server\\share\\...) as the
    current directory of the real Windows CPython: create's default would put every package file
    on the network, so it is refused, exit 2 and one line naming --envs-dir, before the engine runs
    and with nothing made; --envs-dir on a local disk is taken from there (the plan, --dry-run).
    Wine serves \\\\server\\share from its prefix's dosdevices\\unc\\server\\share link, and a
    Python's current directory may be a UNC path where cmd's may not (cd refuses one)."""
    share = tmp_path / "share"
    (share / "Downloads").mkdir(parents=True)
    unc = winpython.wine.prefix / "dosdevices" / "unc" / "server"
    unc.mkdir(parents=True, exist_ok=True)
    (unc / "share").symlink_to(share)
    envs, cache = tmp_path / "envs", tmp_path / "cache"
    envs.mkdir()
    where = "\\\\server\\share\\Downloads"

    def create(*more):
        argv = [win(winpython.zipapp), "create", "demo", "--python", "3.12", *winpython.create_args(),
                "--cache-dir", win(cache), *more]
        run = (f"import os, runpy, sys; os.chdir({where!r}); sys.argv = {argv!r}; "
               f"runpy.run_path(sys.argv[0], run_name='__main__')")
        return winpython.py(["-c", run])

    try:
        r = create()
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert r.stderr.splitlines() == [
            f"mambaboot: error: the current directory {where} is on a network share, where every file of the "
            "environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS"], r.stderr
        assert sorted(p.name for p in share.rglob("*")) == ["Downloads"] and not cache.exists()
        r = create("--envs-dir", win(envs), "--dry-run")
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert win(envs / "demo_3_12") in r.stdout + r.stderr, (r.stdout, r.stderr)
        assert sorted(p.name for p in share.rglob("*")) == ["Downloads"] and list(envs.iterdir()) == []
    finally:
        (unc / "share").unlink()


def test_a_bootstrap_bat_work_directory_left_by_ctrl_c_goes_with_the_cmd_line_cache_clean_names(winpython, tmp_path):
    """bootstrap.bat ended with Ctrl-C and "Terminate batch job (Y/N)?" Y leaves its work directory
    (CACHE\\tmp\\mambaboot-tmp-TOKEN-bootstrap: its marker, private home and Python; no lock, so no
    run can tell it from a live one's): `cache clean` on the Windows CPython keeps it and names the
    cmd.exe line that deletes it, which run by cmd deletes it and nothing else, in a cache whose
    path holds a space and a character cmd would expand unquoted."""
    import re

    cache = tmp_path / "Jane Doe & co" / "CACHE"
    work = cache / "tmp" / ("mambaboot-tmp-" + "0123456789abcdef" * 2 + "-bootstrap")
    (work / "python").mkdir(parents=True)
    (work / "home" / "root").mkdir(parents=True)
    (work / ".mambaboot-home").write_text("a work directory mambaboot made for one run; deleted after it\n")
    (work / "python" / "python.exe").write_bytes(b"MZ")
    kept = cache / "micromamba" / "keep.txt"
    kept.parent.mkdir(parents=True)
    kept.write_text("not the work directory's\n")
    r = winpython.mambaboot(["cache", "clean", "--cache-dir", win(cache)])
    assert r.returncode == 0, (r.stdout, r.stderr)
    said = r.stdout + r.stderr
    assert f"{win(work)} is a bootstrap script's work directory" in said and work.is_dir(), said
    line = re.search(r"`(rmdir /s /q [^`]+)` in cmd\.exe", said)
    assert line and line.group(1) == f'rmdir /s /q "{win(work)}"', said
    typed = winpython.cmd([line.group(1), "exit /b %ERRORLEVEL%"])
    assert typed.returncode == 0 and not work.exists(), typed
    assert kept.read_text() == "not the work directory's\n" and (cache / "tmp").is_dir()


def test_an_advised_command_names_exactly_its_path_whatever_a_password_holds_on_windows(winpython, tmp_path):
    """tests/test_redaction.py's property for the Windows forms of the advice: a create refused at
    `...\\ws-adv9pw $HOME\\envs\\X` (an adopted environment), run by the Windows CPython with a
    channel whose password is `adv9pw`, advises a line for cmd.exe and one for PowerShell (`$`
    is live in PowerShell's "..."), each naming exactly that path: typed at Wine's cmd prompt,
    the program word replaced by a program logging its argv, and read by PowerShell's grammar
    (a password's text rewritten into `***` would name another place)."""
    import re

    from tests.support import pwsh
    from tests.support.wine import read_log

    prefix = tmp_path / "ws-adv9pw $HOME" / "envs" / "X"
    (prefix / ".mambaboot").mkdir(parents=True)
    (prefix / ".mambaboot" / "record.json").write_text(json.dumps({"tool": "mambaboot", "state": "complete",
                                                                   "adopted": True}), encoding="utf-8")
    r = winpython.mambaboot(["create", "-p", win(prefix), "--force", "-c", "https://me:adv9pw@mirror.example.invalid/chan",
                             "--micromamba", win(winpython.engine)])
    assert r.returncode == 4 and "adopted, not created" in r.stderr, (r.stdout, r.stderr)
    assert "me:adv9pw" not in r.stdout + r.stderr, r.stderr
    advised = re.search(r"\(`(mambaboot .*?)` in cmd\.exe, `(mambaboot .*?)` in PowerShell first, if you mean to\)", r.stderr)
    assert advised, r.stderr
    cmd_line, ps_line = advised.groups()
    assert "***" not in cmd_line + ps_line, r.stderr
    argv = ["remove", "--force", win(prefix)]
    assert pwsh.words(ps_line) == ["mambaboot", *argv], ps_line
    shutil.copy(winpython.wine.standin, tmp_path / "argv.exe")
    log = tmp_path / "argv.jsonl"
    winpython.wine.typed(["argv" + cmd_line[len("mambaboot"):]], {"STANDIN_LOG": win(log)}, tmp_path)
    assert [run["argv"][1:] for run in read_log(log)] == [argv], cmd_line
