"""relocate/scan and rewrite against the installers' own rules: an environment installed at A
and moved to B holds the same bytes as one installed at B (the stand-in reproduces libmamba's
text, long-shebang and NUL-padded binary replacement), and pip's own distlib launcher is rebuilt
with the new interpreter and its zip intact."""

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from mambaboot.relocate import rewrite, scan
from tests.support import standin_install
from tests.support.channel import LONG_PLACEHOLDER, PLACEHOLDER
from tests.support.snapshot import snapshot

LIB = (b"\x7fELF" + b"\0" * 4 + f"{LONG_PLACEHOLDER}/lib/x".encode() + b"\0"
       + f"{LONG_PLACEHOLDER}/a:{LONG_PLACEHOLDER}/b".encode() + b"\0tail\0")
SCRIPT = f"#!{PLACEHOLDER}/bin/python\nDATA = '{PLACEHOLDER}/share'\n".encode()


def _installed(prefix: str):
    return {
        "lib": standin_install._binary(LIB, LONG_PLACEHOLDER.encode(), prefix.encode()),
        "script": standin_install._long_shebang(SCRIPT.replace(PLACEHOLDER.encode(), prefix.encode())),
    }


def _move(files, old: str, new: str, capacity=len(LONG_PLACEHOLDER)):
    """The files as move rewrites them, the binary's room measured in it (and bounded by the
    placeholder's length when the package cache still says it)."""
    import tempfile

    findings = {"lib": scan.Finding("lib", scan.BINARY, capacity), "script": scan.Finding("script", scan.TEXT)}
    with tempfile.TemporaryDirectory() as prefix:
        for name, data in files.items():
            Path(prefix, name).write_bytes(data)
        rewrite.relocate(prefix, list(findings.values()), old, new, windows=False)
        return {name: Path(prefix, name).read_bytes() for name in files}


@pytest.mark.parametrize("a, b", [
    ("/opt/envs/a", "/opt/envs/b"),
    ("/opt/envs/a", "/o"),
    ("/o", "/opt/envs/much/longer/than/before"),
    ("/opt/envs/a", "/" + "x" * 200),  # B's shebang is past 127 characters: /usr/bin/env, as installed
    ("/" + "y" * 254, "/z"),
])
def test_moved_equals_installed_there(a, b):
    moved = _move(_installed(a), a, b)
    fresh = _installed(b)
    assert moved["lib"] == fresh["lib"]
    if len(f"#!{a}/bin/python") <= standin_install.MAX_SHEBANG_LENGTH:
        assert moved["script"] == fresh["script"]
    else:  # installed at A with /usr/bin/env: nothing names A in the #! line, and it still works
        assert moved["script"].splitlines()[0] == b"#!/usr/bin/env python"


def test_moves_in_a_row_keep_the_binary_room():
    files, where = _installed("/a"), "/a"
    for nxt in ("/" + "b" * 250, "/c", "/" + "d" * 254, "/e/f"):
        files, where = _move(files, where, nxt), nxt
        assert files["lib"] == _installed(nxt)["lib"]
        # a #!/usr/bin/env line (from a long prefix) names no prefix and stays: it works on any PATH
        assert files["script"].splitlines()[1] == _installed(nxt)["script"].splitlines()[1]
        assert files["script"].splitlines()[0] == b"#!/usr/bin/env python"


@pytest.mark.parametrize("capacity", [len(LONG_PLACEHOLDER), None])
def test_a_prefix_past_the_placeholder_is_refused_with_the_count(capacity):
    """With the package cache's placeholder or without it (micromamba records none): the room is
    the NUL padding the installer left in the file."""
    with pytest.raises(rewrite.Refused) as info:
        _move(_installed("/a"), "/a", "/" + "x" * 259, capacity)
    assert "lib: room for 255 characters, 5 too many" in str(info.value)
    moved = _move(_installed("/a"), "/a", "/" + "x" * 254, capacity)
    assert moved["lib"] == _installed("/" + "x" * 254)["lib"]


def test_a_prefix_inside_a_longer_name_is_left_alone():
    data = b"/opt/env/bin:/opt/env2/bin:/opt/env-old:/x/opt/env:/opt/env/opt/env -I/opt/env/include /opt/env\n"
    out = rewrite.new_content(data, scan.Finding("f", scan.TEXT), "/opt/env", "/srv/e", windows=False)
    assert out == b"/srv/e/bin:/opt/env2/bin:/opt/env-old:/x/opt/env:/srv/e/opt/env -I/srv/e/include /srv/e\n"


def _pip_launcher(dest: Path, executable: str) -> bytes:
    """An entry-point .exe as pip makes it on Windows: its vendored distlib ScriptMaker, launcher t64.exe."""
    from pip._vendor import distlib
    from pip._vendor.distlib.scripts import ScriptMaker

    maker = ScriptMaker(None, str(dest), add_launchers=True)
    maker._is_nt = True  # what os.name == "nt" sets; the rest is distlib's own _write_script
    maker._get_launcher = lambda kind: (Path(distlib.__file__).parent / f"{kind}64.exe").read_bytes()
    maker.executable = executable
    maker.variants = {""}
    (made,) = maker.make("tool = tool_module:main")
    return Path(made).read_bytes()


def test_windows_spellings_and_pip_launchers(tmp_path, monkeypatch):
    # distlib stamps the launcher's zip with the clock, in two-second steps, unless this is set:
    # the two launchers below, made moments apart, could straddle a step
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    prefix = tmp_path / "env"
    (prefix / "Scripts").mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    (prefix / "etc").mkdir()
    old, new = "C:\\Users\\me\\envs\\old", "D:\\lab\\env"
    launcher = _pip_launcher(prefix / "Scripts", old + "\\python.exe")
    assert launcher.startswith(b"MZ") and b"#!C:\\Users\\me\\envs\\old\\python.exe" in launcher
    (prefix / "etc" / "fwd.txt").write_text("home = c:/users/me/envs/old/Lib\n")  # installers write '/'
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"DATA": old + "\\share"}}))
    record = {"name": "x", "version": "1", "build": "0", "paths_data": {"paths": [
        {"_path": "etc/fwd.txt", "prefix_placeholder": PLACEHOLDER, "file_mode": "text"}]}}
    (prefix / "conda-meta" / "x-1-0.json").write_text(json.dumps(record))
    found = {f.path: f.kind for f in scan.find(str(prefix), old, windows=True)}
    assert found == {"Scripts/tool.exe": scan.LAUNCHER, "etc/fwd.txt": scan.TEXT, "conda-meta/state": scan.TEXT}
    changed = rewrite.relocate(str(prefix), scan.find(str(prefix), old, True), old, new, True)
    assert sorted(changed) == sorted(found)
    rebuilt = (prefix / "Scripts" / "tool.exe").read_bytes()
    assert rebuilt == _pip_launcher(tmp_path / "fresh", new + "\\python.exe"), "as pip would make it for the new place"
    with zipfile.ZipFile(io.BytesIO(rebuilt)) as zf:
        assert "__main__.py" in zf.namelist() and b"tool_module" in zf.read("__main__.py")
    assert (prefix / "etc" / "fwd.txt").read_text() == "home = D:/lab/env/Lib\n"
    assert json.loads((prefix / "conda-meta" / "state").read_text()) == {"env_vars": {"DATA": new + "\\share"}}
    assert scan.find(str(prefix), old, True) == []


def test_a_moved_windows_environment_runs_under_wine(wine, tmp_path):
    """A Windows-layout environment (micromamba's .bat files patched, our activation scripts, a
    distlib launcher whose #! line names a script in the environment) moved, rewritten, then run
    by Wine's cmd at the new place."""
    from mambaboot.pipeline import finish
    from tests.support import winenv
    from tests.support.wine import launcher_exe, windows_path

    old_dir, new_dir = tmp_path / "envs" / "old-env", tmp_path / "moved" / "new-env"
    winenv.build(old_dir, tmp_path / "stub", "C:\\CACHE\\micromamba\\2.8.1-0-win-64\\micromamba.exe")
    old, new = windows_path(old_dir), windows_path(new_dir)
    finish.portable(str(old_dir), True, written=[old])
    (old_dir / "Scripts" / "hello.bat").write_bytes(b"@echo hello from %~dp0\r\n")
    launcher_exe(old_dir / "Scripts" / "hello.exe", f"C:\\windows\\system32\\cmd.exe /d /c {old}\\Scripts\\hello.bat")
    new_dir.parent.mkdir()
    os.rename(old_dir, new_dir)
    findings = {f.path: f.kind for f in scan.find(str(new_dir), old, True)}
    assert findings.get("Scripts/hello.exe") == scan.LAUNCHER, findings
    rewrite.relocate(str(new_dir), scan.find(str(new_dir), old, True), old, new, True)
    left = {f.path: f.kind for f in scan.find(str(new_dir), old, True)}
    assert left == {"conda-meta/history": scan.HISTORY}, "only the log of past commands keeps the old place"
    code, out, err = wine.batch("moved", [
        "@echo off", f'call "{new}\\.mambaboot\\activate.bat"', "echo prefix=[%CONDA_PREFIX%]",
        f'"{new}\\Scripts\\hello.exe"', f'call "{new}\\Library\\bin\\tool-env.bat"', "echo tool=[%TOOL_HOME%]",
    ])
    assert code == 0, out + err
    lines = out.splitlines()
    assert f"prefix=[{new}]" in lines
    assert f"hello from {new}\\Scripts\\" in lines
    assert f"tool=[{new}\\Library\\share\\tool]" in lines


def test_a_rewrite_cut_short_is_finished_by_running_it_again(tmp_path, monkeypatch):
    prefix = tmp_path / "env"
    old, new = "/old/place/env", str(prefix)
    (prefix / ".mambaboot").mkdir(parents=True)
    (prefix / "bin").mkdir()
    (prefix / ".mambaboot" / "record.json").write_text(json.dumps({"tool": "mambaboot", "inputs": {"prefix": old}}))
    for name in ("a", "b", "c"):
        (prefix / "bin" / name).write_text(f"#!{old}/bin/python\n")
    real, calls = rewrite._replace_file, []

    def dies_on_the_second(prefix, rel, data, *files):
        calls.append(rel)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(prefix, rel, data, *files)

    monkeypatch.setattr(rewrite, "_replace_file", dies_on_the_second)
    with pytest.raises(OSError):
        rewrite.relocate(str(prefix), scan.find(str(prefix), old, False), old, new, False)
    assert scan.location(str(prefix), False)[0] == old, "the record is rewritten last"
    monkeypatch.setattr(rewrite, "_replace_file", real)
    rewrite.relocate(str(prefix), scan.find(str(prefix), old, False), old, new, False)
    assert scan.location(str(prefix), False)[0] == new
    assert all((prefix / "bin" / n).read_text() == f"#!{new}/bin/python\n" for n in "abc")


@pytest.mark.parametrize("swap", [True, False], ids=["names swapped", "renamed over"])
def test_a_rewrite_takes_few_new_files_and_nothing_another_holds(tmp_path, monkeypatch, swap):
    """Each file's new text takes its place at once; what the swap of names took out takes the next
    file's new text when nothing else holds it, so 30 files cost 4 new inodes here rather than 30
    (docs/benchmarks.md): one to start, and one after each old inode something else holds, which
    keeps its old text: another name of it (a hard link into the package cache), a reader that has
    it open, an extended attribute on it. Where names cannot be swapped, each new text is a new
    file renamed over the old one. Modes are kept; no temporary is left."""
    if not swap:
        monkeypatch.setattr(rewrite.renameat, "rename_with", lambda how: None)
    prefix, old = tmp_path / "env", "/old/place/env"
    (prefix / "bin").mkdir(parents=True)
    text = "#!{}/bin/python\nDATA = '{}/share'\n"
    for i in range(30):
        (prefix / "bin" / f"s{i}").write_text(text.format(old, old))
    (prefix / "bin" / "s3").chmod(0o750)
    os.link(prefix / "bin" / "s5", tmp_path / "cached")
    os.setxattr(prefix / "bin" / "s15", "user.mark", b"x")
    before = sorted(p.name for p in (prefix / "bin").iterdir())
    made, real_open = [], os.open

    def counted(path, flags, *args, **kwargs):  # a freed inode's number may come back: new files are counted
        made.extend([path] if flags & os.O_CREAT else [])
        return real_open(path, flags, *args, **kwargs)

    with open(prefix / "bin" / "s10") as held:
        findings = scan.find(str(prefix), old, False)
        monkeypatch.setattr(os, "open", counted)
        assert len(rewrite.relocate(str(prefix), findings, old, str(prefix), False)) == len(findings) == 30
        monkeypatch.setattr(os, "open", real_open)
        assert held.read() == text.format(old, old)
    assert sorted(p.name for p in (prefix / "bin").iterdir()) == before
    assert all((prefix / "bin" / name).read_text() == text.format(prefix, prefix) for name in before)
    assert len(made) == (4 if swap else 30), made
    assert (tmp_path / "cached").read_text() == text.format(old, old)
    assert [name for name in before if os.listxattr(prefix / "bin" / name)] == []
    assert (prefix / "bin" / "s3").stat().st_mode & 0o777 == 0o750
    assert {(prefix / "bin" / name).stat().st_mode & 0o777 for name in before if name != "s3"} == {0o644}


def test_what_takes_a_files_place_during_its_rewrite_is_not_swapped_away(tmp_path, monkeypatch):
    """A directory made where a file was, between the file's read and its replacement, stays at its
    name (the rename refuses to replace it): nothing is moved under the run's temporary name."""
    prefix, old = tmp_path / "env", "/old/place/env"
    (prefix / "bin").mkdir(parents=True)
    for name in ("a", "b"):
        (prefix / "bin" / name).write_text(f"#!{old}/bin/python\n")
    real = rewrite._write_new_text

    def then_a_directory(out, data, mode, size=0):
        real(out, data, mode, size)
        if not (prefix / "bin" / "b").is_dir() and (prefix / "bin" / "a").read_text().startswith(f"#!{prefix}"):
            (prefix / "bin" / "b").unlink()
            (prefix / "bin" / "b").mkdir()
            (prefix / "bin" / "b" / "kept").write_text("the user's")

    findings = scan.find(str(prefix), old, False)
    monkeypatch.setattr(rewrite, "_write_new_text", then_a_directory)
    with pytest.raises(OSError):
        rewrite.relocate(str(prefix), findings, old, str(prefix), False)
    assert (prefix / "bin" / "b" / "kept").read_text() == "the user's"
    assert sorted(p.name for p in (prefix / "bin").iterdir()) == ["a", "b"]


ENTRY_BODY = (b"# -*- coding: utf-8 -*-\nimport re\nimport sys\n\nfrom tool.cli import main\n\n"
              b"if __name__ == '__main__':\n"
              b"    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n"
              b"    sys.exit(main())\n")


def test_each_kind_of_script_gets_its_installers_first_lines():
    """A package's file: conda's replace_long_shebang (portability.py, 26.x), `#!/usr/bin/env NAME
    OPTIONS` for a place with a space or past the limit, options kept. An entry point the
    installer generated: its own `'''exec'` lines (generate_shebang_for_entry_point; libmamba
    python_shebang, 2.8.1). A script written after install: refused where /usr/bin/env is needed."""
    package, entry, script = (scan.Finding("bin/tool", k) for k in (scan.TEXT, scan.ENTRY_POINT, scan.SCRIPT))
    data = b"#!/opt/env/bin/python3.11 -E\nHOME = '/opt/env/share'\n"
    spaced = rewrite.new_content(data, package, "/opt/env", "/srv/my env", False)
    assert spaced == b"#!/usr/bin/env python3.11 -E\nHOME = '/srv/my env/share'\n"
    assert rewrite.new_content(data, package, "/opt/env", "/srv/env", False) == (
        b"#!/srv/env/bin/python3.11 -E\nHOME = '/srv/env/share'\n")
    perl = b"#!/opt/env/bin/perl -w\nprint 1;\n"
    assert rewrite.new_content(perl, package, "/opt/env", "/srv/my env", False) == b"#!/usr/bin/env perl -w\nprint 1;\n"
    generated = b"#!/opt/env/bin/python3.11\n" + ENTRY_BODY
    assert scan.generated_entry_point(generated) and not scan.generated_entry_point(data)
    header = b"#!/bin/sh\n'''exec' \"/srv/my env/bin/python3.11\" \"$0\" \"$@\" #'''\n"
    assert rewrite.new_content(generated, entry, "/opt/env", "/srv/my env", False) == header + ENTRY_BODY
    assert rewrite.new_content(header + ENTRY_BODY, entry, "/srv/my env", "/srv/env", False) == (
        b"#!/srv/env/bin/python3.11\n" + ENTRY_BODY), "back to the line installed there"
    distlib = b"#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" \"$@\"\n' '''\n" + ENTRY_BODY
    assert rewrite.new_content(distlib, entry, "/a b", "/c d", False) == distlib.replace(b"/a b", b"/c d")
    assert rewrite.new_content(data, script, "/opt/env", "/srv/env", False).startswith(b"#!/srv/env/bin/python3.11 -E\n")
    with pytest.raises(rewrite.Refused, match="bin/tool: .*#!/usr/bin/env python3.11"):
        rewrite.new_content(data, script, "/opt/env", "/srv/my env", False)
    # micromamba's own line for a long prefix with a space (replace_long_shebang cuts it at the space)
    long = "/srv/my env/" + "d" * 120
    cut = ("#!/usr/bin/env my env/" + "d" * 120 + "/bin/python3.11\nx = 1\n").encode()
    assert cut == standin_install._long_shebang(f"#!{long}/bin/python3.11\nx = 1\n".encode())
    assert rewrite.new_content(cut, package, long, long, False) == b"#!/usr/bin/env python3.11\nx = 1\n"


def test_no_text_of_a_shebang_line_reaches_a_shell():
    """Options are handed to the interpreter by the kernel as one argument; they never go into the
    `'''exec'` line sh reads, whatever the kind of file."""
    data = b"#!/opt/env/bin/python -c$(touch${IFS}PWNED)\nx = 1\n"
    for kind in (scan.TEXT, scan.ENTRY_POINT):
        out = rewrite.new_content(data, scan.Finding("bin/t", kind), "/opt/env", "/my env", False)
        assert out == b"#!/usr/bin/env python -c$(touch${IFS}PWNED)\nx = 1\n"
    with pytest.raises(rewrite.Refused):
        rewrite.sh_quoted(b"/a$(b)")


def test_scan_reads_with_the_limits_of_the_bounded_reader():
    """scan is copied into pack archives and cannot import the reader: its limits are written
    again there, and must stay the reader's."""
    from mambaboot.common import untrusted

    assert scan.JSON_LIMIT == scan.READ_LIMIT == untrusted.PACKAGE_RECORD and scan.JSON_DEPTH == untrusted.DEPTH


def test_a_file_larger_than_the_limit_is_searched_in_pieces(tmp_path, monkeypatch):
    """A prefix that straddles two pieces is found; one followed by a path character is not it."""
    monkeypatch.setattr(scan, "READ_LIMIT", 1 << 10)
    prefix = tmp_path / "env"
    (prefix / "share").mkdir(parents=True)
    for name, tail in (("names", b"/lib\0"), ("longer", b"2/lib\0")):
        with open(prefix / "share" / name, "wb") as f:
            f.truncate(3 << 20)
            f.seek((1 << 20) - 5)
            f.write(str(prefix).encode() + tail)
    found = {f.path: f.kind for f in scan.find(str(prefix), str(prefix), False)}
    assert found == {"share/names": scan.TOO_BIG}, found


@pytest.mark.parametrize("native", [True, False], ids=["renameat2", "own claim"])
def test_a_directory_is_renamed_only_onto_a_name_that_is_free(tmp_path, monkeypatch, native):
    """rename_dir never replaces what is at the new name, an empty directory included (which rename(2) would replace):
    by the kernel's flag, or where there is none by an empty directory of its own claimed with mkdir; refused, nothing
    changed and no claim left. By path and by directory descriptor alike."""
    from mambaboot.common.files import noreplace

    monkeypatch.setattr(noreplace, "_native", [] if native else [None])
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("mine")
    for taken in ("empty", "full", "file"):
        dst = tmp_path / taken
        dst.mkdir() if taken != "file" else dst.write_text("theirs")
        if taken == "full":
            (dst / "g").write_text("theirs")
        before = snapshot(tmp_path)
        with pytest.raises(FileExistsError):
            noreplace.rename_dir(str(src), str(dst))
        assert snapshot(tmp_path) == before, taken
    noreplace.rename_dir(str(src), str(tmp_path / "new"))
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        noreplace.rename_dir("new", "newer", src_dir_fd=fd, dst_dir_fd=fd)
        with pytest.raises(FileExistsError):
            noreplace.rename_dir("newer", "empty", src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        os.close(fd)
    assert (tmp_path / "newer" / "sub" / "f").read_text() == "mine" and not src.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file", "full", "newer"]
