"""`mambaboot pack` and the archive's own unpack step: extracted with `tar`/`unzip`, fixed by
the environment's own python with no mambaboot around, then working, adoptable and movable."""

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support import pwsh

from tests.support.entries import both_entries
from tests.support.snapshot import snapshot
from tests.test_move import APPEARED, env_world, held_at, move, portable_channel, works  # noqa: F401 (fixtures)


def _extract(archive: Path, into: Path) -> None:
    into.mkdir()
    if archive.suffix == ".zip":
        argv = ["unzip", "-q", str(archive), "-d", str(into)]
    else:
        argv = ["tar", "-xf", str(archive), "-C", str(into)]
    subprocess.run(argv, check=True, capture_output=True)


def _unpack(prefix: Path):
    # no mambaboot, no PATH to anything of ours: the environment's own python and the script
    return subprocess.run([str(prefix / "bin" / "python"), str(prefix / ".mambaboot" / "unpack.py")],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["env.tar.gz", "env.zip"])
def test_pack_unpack_then_adopt_and_move(env_world, name):
    world, prefix = env_world
    inside = snapshot(prefix)
    archive = world.root / name
    r = world.run("pack", str(prefix), "-o", str(archive), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["archive"] == str(archive) and out["location"] == str(prefix)
    assert out["unpack"]["posix"][1] == "DIR/bin/python DIR/.mambaboot/unpack.py"
    assert snapshot(prefix) == inside, "packing changes nothing in the environment"
    if name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
        assert "pkgs" not in names and ".mambaboot/unpack.py" in names and "bin/python" in names
    # the old place is gone on the new machine
    os.rename(prefix, world.root / "original-elsewhere")
    target = world.root / "lab" / "machine-7"
    target.parent.mkdir()
    _extract(archive, target)
    first = _unpack(target)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("files now name it") and " 0 files" not in first.stdout
    again = _unpack(target)
    assert again.returncode == 0 and again.stdout.strip() == f"unpack: {target}: 0 files now name it"
    assert not (target / ".mambaboot" / "packed.json").exists() and (target / ".mambaboot" / "unpack.py").exists()
    works(world, target, linked=False)
    r = world.run("adopt", str(target), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    moved = world.root / "lab" / "machine-7-moved"
    r = move(world, target, moved)
    assert r.returncode == 0, r.stderr
    works(world, moved)
    record = json.loads((moved / ".mambaboot" / "record.json").read_text())
    assert [m["to"] for m in record["moves"]] == [str(target), str(moved)]


def test_pack_refuses_editable_installs_and_outside_links(env_world):
    world, prefix = env_world
    site = prefix / "lib" / "python3.11" / "site-packages"
    info = site / "mine-0.1.dist-info"
    info.mkdir()
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///home/me/src/mine", "dir_info": {"editable": True}}))
    (prefix / "share" / "outside").symlink_to(world.home)
    archive = world.root / "env.tar.gz"
    r = world.run("pack", str(prefix), "-o", str(archive))
    assert r.returncode == 10, r.stderr
    assert "mine-0.1.dist-info/direct_url.json" in r.stderr and "share/outside" in r.stderr
    assert not archive.exists() and list(world.root.glob(".env.tar.gz*")) == []
    found = world.run("audit", str(prefix), "--json").json()
    assert {b["path"] for b in found["pack_blockers"]} == {
        "lib/python3.11/site-packages/mine-0.1.dist-info/direct_url.json", "share/outside"}
    assert world.run("pack", str(prefix), "-o", str(world.root / "env.rar")).returncode == 2
    shutil.rmtree(info)
    (prefix / "share" / "outside").unlink()
    assert world.run("pack", str(prefix), "-o", str(archive)).returncode == 0
    assert world.run("pack", str(prefix), "-o", str(archive)).returncode == 4
    assert world.run("pack", str(prefix), "-o", str(archive), "--force").returncode == 0


def test_a_name_a_zip_cannot_hold_is_refused_and_a_tar_keeps_it(env_world):
    """A file name whose bytes are not UTF-8 has no faithful spelling in a zip (UTF-8 or CP437):
    the zip is refused (exit 10, the file named, .tar.gz suggested) and nothing of it is left
    behind; the .tar.gz keeps the name's bytes. A link's target is stored as its bytes."""
    world, prefix = env_world
    share = os.fsencode(prefix / "share")
    (prefix / "share" / "here").write_text("target")
    os.symlink(b"h\xe9re", os.path.join(share, b"link"))  # dangling, its target's bytes not UTF-8
    archive = world.root / "env.zip"
    r = world.run("pack", str(prefix), "-o", str(archive))
    assert r.returncode == 0, r.stderr
    _extract(archive, world.root / "z")
    assert os.readlink(os.path.join(os.fsencode(world.root / "z"), b"share", b"link")) == b"h\xe9re"
    archive.unlink()
    with open(os.path.join(share, b"caf\xe9.txt"), "w") as f:
        f.write("latin-1 name")
    r = world.run("pack", str(prefix), "-o", str(archive))
    assert r.returncode == 10, r.stderr
    assert "share/caf\\udce9.txt: its name is not UTF-8 text" in r.stderr and ".tar.gz" in r.stderr, r.stderr
    assert not archive.exists() and list(world.root.glob(".env.zip*")) == [], "nothing of the zip left"
    archive = world.root / "env.tar.gz"
    assert world.run("pack", str(prefix), "-o", str(archive)).returncode == 0
    _extract(archive, world.root / "t")
    assert os.path.isfile(os.path.join(os.fsencode(world.root / "t"), b"share", b"caf\xe9.txt"))


@both_entries
def test_the_unpack_script_is_built_from_the_relocate_modules_in_either_build(env_world):
    """From the zipapp too: the modules' source is read with pkgutil, not from a file path."""
    from mambaboot.relocate import unpack

    world, prefix = env_world
    archive = world.root / "env.tar.gz"
    r = world.run("pack", str(prefix), "-o", str(archive), "-q")
    assert r.returncode == 0, r.stderr
    with tarfile.open(archive) as tar:
        script = tar.extractfile(".mambaboot/unpack.py").read()
        note = json.loads(tar.extractfile(".mambaboot/packed.json").read())
    assert script == unpack.script()
    assert note["prefix"] == str(prefix) and {"path": "lib/libprefixy.so", "kind": "binary", "source": "package cache",
                                              "capacity": 255} in note["files"]


def test_absolute_links_into_the_environment_follow_it(env_world):
    world, prefix = env_world
    (prefix / "share" / "python-link").symlink_to(prefix / "bin" / "python3.11")
    archive = world.root / "env.tar.gz"
    r = world.run("pack", str(prefix), "-o", str(archive))
    assert r.returncode == 0, r.stderr
    os.rename(prefix, world.root / "gone")
    target = world.root / "unpacked"
    _extract(archive, target)
    assert _unpack(target).returncode == 0
    assert os.readlink(target / "share" / "python-link") == str(target / "bin" / "python3.11")


def test_pack_refuses_an_output_a_link_leads_into_the_environment(env_world):
    """-o through a link into the environment: the archive would be written inside it, and hold
    its own partial file."""
    world, prefix = env_world
    inside = snapshot(prefix)
    link = world.root / "into-env"
    link.symlink_to(prefix / "share")
    r = world.run("pack", str(prefix), "-o", str(link / "env.tar.gz"))
    assert r.returncode == 2 and "is inside the environment it would hold" in r.stderr, r.stderr
    assert snapshot(prefix) == inside


def test_unpack_refuses_a_directory_whose_name_the_shell_would_run(env_world):
    """create's character rule holds for an archive's unpack step: a directory holding ' would
    end the '...' a package's sh script quotes the prefix in, and run the rest."""
    world, prefix = env_world
    archive = world.root / "env.tar.gz"
    assert world.run("pack", str(prefix), "-o", str(archive), "-q").returncode == 0
    lab = world.root / "lab"
    lab.mkdir()
    target = lab / "x'; touch PWNED; '"
    _extract(archive, target)

    def files():  # the python that runs unpack.py may write bytecode for the modules it imports
        return {k: v for k, v in snapshot(target).items() if "__pycache__" not in k}

    before = files()
    r = _unpack(target)
    assert r.returncode == 2 and "contains the character \"'\"" in r.stderr and "nothing was changed" in r.stderr, r
    assert files() == before
    subprocess.run(["sh", "-c", '. "$1/etc/profile.d/conda.sh"', "sh", str(target)], cwd=str(lab), capture_output=True)
    assert not (lab / "PWNED").exists()


def test_pack_never_replaces_a_file_made_at_its_output_while_it_writes(env_world, reliability):
    """Without --force the output is checked to be absent, then the archive written: a file made
    there meanwhile (here by the user) is left as it is, and the archive's partial file goes."""
    world, prefix = env_world
    archive = world.root / "env.tar.gz"
    with held_at(world, "pipeline/pack.py:_extras", "pack", str(prefix), "-o", str(archive)) as held:
        archive.write_text("mine")
    r = held.result
    ok = r.returncode == 4 and "appeared while the archive was written" in r.stderr
    ok = ok and archive.read_text() == "mine" and list(world.root.glob(".env.tar.gz*")) == []
    reliability.record(APPEARED, ok)
    assert ok, r.stderr


def test_an_archive_whose_note_names_a_path_outside_is_refused_by_unpack(env_world):
    """packed.json travels with the archive: unpack trusts no path in it that leads out."""
    world, prefix = env_world
    archive = world.root / "env.tar.gz"
    assert world.run("pack", str(prefix), "-o", str(archive)).returncode == 0
    target = world.root / "unpacked"
    _extract(archive, target)
    victim = world.root / "victim.txt"
    victim.write_text(f"{prefix}\n")
    note = target / ".mambaboot" / "packed.json"
    body = json.loads(note.read_text())
    body["files"].append({"path": "../victim.txt", "kind": "text", "source": "package record"})
    note.write_text(json.dumps(body))
    r = _unpack(target)
    assert r.returncode == 10 and "../victim.txt" in r.stderr, r.stderr
    assert victim.read_text() == f"{prefix}\n"


ODD_NAME = "lab env $(touch PWNED) `x` 'q' ; & (1) %PATH% ^a !b.tar.gz"


def test_the_unpack_commands_name_an_odd_archive_as_one_word(tmp_path):
    """What pack tells the user to type: the archive's name stays one argument of tar in sh
    (the shell that reads the POSIX line)."""
    from mambaboot.pipeline.pack import unpack_commands

    posix = unpack_commands(f"/somewhere/{ODD_NAME}")["posix"][0]
    script = "tar() { printf '%s\\0' \"$@\"; }; mkdir() { :; }; " + posix
    shown = subprocess.run(["sh", "-c", script], cwd=str(tmp_path), capture_output=True, text=True, check=True)
    assert shown.stdout.split("\0")[:-1] == ["-xf", ODD_NAME, "-C", "DIR"] and not list(tmp_path.iterdir())
    assert list(unpack_commands(ODD_NAME, "windows")) == ["cmd", "powershell"]


def test_the_windows_unpack_commands_read_the_odd_archive_literally_in_powershell():
    """In PowerShell a "..." expands $(...) and $name: each line parses (Windows PowerShell 5.1
    syntax) into literals only, the archive's name one of them, exactly."""
    from mambaboot.pipeline.pack import unpack_commands

    lines = unpack_commands(ODD_NAME, "windows")["powershell"]
    assert not [p for line in lines for p in pwsh.windows_powershell_problems(line)]
    assert [pwsh.words(line) for line in lines] == [
        ["mkdir", "DIR"], ["tar", "-xf", ODD_NAME, "-C", "DIR"], ["DIR\\python.exe", "DIR\\.mambaboot\\unpack.py"]]


def test_the_windows_unpack_commands_read_the_odd_archive_literally_in_cmd(wine, tmp_path):
    """Typed at Wine's cmd prompt, where %PATH% expands even inside "...": tar and python get
    exactly the archive's name and DIR's paths, and mkdir makes DIR."""
    from mambaboot.pipeline.pack import unpack_commands
    from tests.support.wine import read_log, windows_path

    cmd = unpack_commands(ODD_NAME, "windows")["cmd"]
    tools = tmp_path / "tools"
    tools.mkdir()
    shutil.copy(wine.standin, tools / "tar.exe")
    log = tmp_path / "log.jsonl"
    env = {"WINEPATH": windows_path(tools), "STANDIN_LOG": windows_path(log)}
    first = wine.typed(cmd[:2], env, tmp_path)
    assert (tmp_path / "DIR").is_dir(), first
    shutil.copy(wine.standin, tmp_path / "DIR" / "python.exe")
    wine.typed(cmd[2:], env, tmp_path)
    assert [run["argv"][1:] for run in read_log(log)] == [["-xf", ODD_NAME, "-C", "DIR"], ["DIR\\.mambaboot\\unpack.py"]]
    assert read_log(log)[1]["role"] == "python"


def _tree(prefix: Path) -> None:
    """What an environment may hold that a tar must keep: empty and exactly-a-block files, one past the
    writer's piece, names and link targets past 100 bytes, a name that is not UTF-8, hard links, a
    setuid file, links; and the pkgs link and marks pack leaves out."""
    from mambaboot.common.files import proof

    deep = prefix / "lib" / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / proof.MARK).write_text("a mark")
    (prefix / proof.MARK).write_text("a mark")
    (prefix / "pkgs").symlink_to(prefix.parent)
    (prefix / "empty").write_bytes(b"")
    (prefix / "block").write_bytes(b"b" * 512)
    (prefix / "big").write_bytes(os.urandom(1 << 20) + b"tail")
    (deep / "long-name.txt").write_text("deep")
    (prefix / "lib" / "far").symlink_to(deep / "long-name.txt")
    os.link(deep / "long-name.txt", prefix / "lib" / "hard")
    os.link(deep / "long-name.txt", deep / "hard-too")
    (prefix / "run").write_text("#!/bin/sh\n")
    (prefix / "run").chmod(0o4755)
    with open(os.path.join(os.fsencode(prefix), b"caf\xe9.txt"), "wb") as f:
        f.write(b"latin-1 name")


def test_the_archive_is_the_tar_tarfile_writes(tmp_path, monkeypatch):
    """pack writes its tar itself (pipeline/tarstream.py): byte for byte what tarfile writes in GNU
    format for the same members in the same order, pack's own files last."""
    import gzip
    import io
    import time

    from mambaboot.pipeline import pack

    prefix = tmp_path / "env"
    prefix.mkdir()
    _tree(prefix)
    extras = {".mambaboot/packed.json": b"{}\n", ".mambaboot/unpack.py": b"print()\n"}
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.75)
    ours = io.BytesIO()
    count = pack._write_tar(ours, str(prefix), extras)
    theirs = io.BytesIO()
    with tarfile.open(fileobj=theirs, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, name in pack._members(str(prefix)):
            tar.add(path, arcname=name, recursive=False)
        for name, data in extras.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    assert gzip.decompress(ours.getvalue()) == theirs.getvalue()
    with tarfile.open(fileobj=io.BytesIO(ours.getvalue())) as tar:
        names = tar.getnames()
    assert count == len(names) and "pkgs" not in names and ".mambaboot-claim" not in names
    assert "conda-meta/.mambaboot-claim" not in names and "run" in names


def test_numbers_past_their_octal_fields_are_written_as_tarfile_writes_them():
    from mambaboot.pipeline import tarstream

    for digits in (8, 12):
        for n in (0, 7, 8 ** (digits - 1) - 1, 8 ** (digits - 1), 2 ** 40, -1, -(2 ** 33), 256 ** (digits - 1) - 1,
                  -(256 ** (digits - 1))):
            assert tarstream._number(n, digits) == bytes(tarfile.itn(n, digits, tarfile.GNU_FORMAT)), (n, digits)
        for n in (256 ** (digits - 1), -(256 ** (digits - 1)) - 1):
            with pytest.raises(ValueError):
                tarfile.itn(n, digits, tarfile.GNU_FORMAT)
            with pytest.raises(ValueError):
                tarstream._number(n, digits)


def test_no_module_of_the_unpack_script_binds_a_name_another_binds():
    """The unpack script is its modules one after the other in one namespace (packagedata.standalone):
    a name bound at the top of two of them would be the last one's in all, as the kind of a script
    written after install (scan.SCRIPT) once was unpack's own file name. A name bound to the other
    module's very object (rewrite's Refused = scan.Refused) is the one exception."""
    import ast

    from mambaboot.common import packagedata
    from mambaboot.relocate import unpack

    bound: dict = {}
    for package, name in unpack._MODULES:
        tree = ast.parse(packagedata.read(package, name))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [(node.name, None)]
            elif isinstance(node, ast.Assign):
                value = ast.unparse(node.value)
                names = [(t.id, value) for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            for found, value in names:
                other = bound.get(found)
                assert other is None or value == f"{other[0].rsplit('.', 1)[-1]}.{found}", (found, name, other)
                bound.setdefault(found, (package + "." + name[:-3], value))


def test_the_unpack_script_rewrites_a_script_written_after_install(tmp_path):
    """The kinds in pack's note are the scan's own: a script written after install (its #! line naming
    the packed place) names the new one once the unpack script ran."""
    import sys

    from mambaboot.relocate import scan, unpack

    prefix, old = tmp_path / "env", "/old/packed/place"
    (prefix / ".mambaboot").mkdir(parents=True)
    (prefix / "bin").mkdir()
    (prefix / "bin" / "tool").write_text(f"#!{old}/bin/python\nprint('tool')\n")
    (prefix / ".mambaboot" / "unpack.py").write_bytes(unpack.script())
    note = {"prefix": old, "files": [scan.Finding("bin/tool", scan.SCRIPT, None, "post-install").to_dict()]}
    (prefix / ".mambaboot" / "packed.json").write_text(json.dumps(note))
    r = subprocess.run([sys.executable, str(prefix / ".mambaboot" / "unpack.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (prefix / "bin" / "tool").read_text() == f"#!{prefix}/bin/python\nprint('tool')\n", r.stdout


def test_links_leaving_the_environment_and_special_files_are_named_in_walk_order(tmp_path):
    """audit.outside_links reads what each entry is from its directory's listing: the same entries,
    in the order a walk meets them (treewalk.walk: a directory's own entries by name, then each
    directory below it), as an lstat of each entry by its path finds; the top's pkgs link left out."""
    import stat

    from mambaboot.common.files import treewalk
    from mambaboot.relocate import audit

    prefix, outside = tmp_path / "env", tmp_path / "outside"
    for d in ("bin", "lib/sub", "a-x"):
        (prefix / d).mkdir(parents=True)
    outside.mkdir()
    (prefix / "bin" / "out").symlink_to(outside)
    (prefix / "bin" / "in").symlink_to("../lib")
    (prefix / "lib" / "sub" / "far").symlink_to(outside / "file")
    (prefix / "a-x" / "up").symlink_to(tmp_path)
    (prefix / "pkgs").symlink_to(tmp_path)
    os.mkfifo(prefix / "lib" / "fifo")
    os.mkfifo(prefix / "zfifo")
    (prefix / "lib" / "regular").write_text("a file")
    expected = []
    for root, dirs, files in treewalk.walk(str(prefix)):
        for name in dirs + files:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            if path != str(prefix / "pkgs") and (stat.S_ISFIFO(mode) or stat.S_ISLNK(mode) and not audit._inside(path, str(prefix))):
                expected.append(os.path.relpath(path, prefix))
    assert [e.path for e in audit.outside_links(str(prefix))] == expected == [
        "zfifo", "a-x/up", "bin/out", "lib/fifo", "lib/sub/far"]
