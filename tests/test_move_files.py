"""`move` never breaks a file: each kind of script gets the first lines its installer writes for the
new place, a `#!` line before a zip is rewritten with the archive kept whole, and what no rewrite
can keep working is refused before anything changes, naming the file."""

import subprocess
import sys
import zipapp
import zipfile
from pathlib import Path

import pytest

from tests.support.channel import PLACEHOLDER, PackageSpec, build_channel, channel_url
from tests.support.snapshot import snapshot

# A package's own scripts: one that starts with a docstring and a __future__ import (nothing may go
# before them), one whose #! line carries options that are shell code if a shell ever reads them.
DOCTY = f'''#!{PLACEHOLDER}/bin/python
"""A tool with a docstring, then a __future__ import: both must stay first."""
from __future__ import annotations

import sys

print("docty ok " + sys.prefix)
'''
OPTIONED = f"""#!{PLACEHOLDER}/bin/python -X$(touch${{IFS}}PWNED)
import sys
print("optioned ok " + sys.prefix)
"""
# An entry point exactly as conda and libmamba generate it (create.py python_entry_point_template).
ENTRY = """# -*- coding: utf-8 -*-
import re
import sys

from epmod import main

if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


@pytest.fixture(scope="module")
def scripty_channel(tmp_path_factory) -> str:
    spec = PackageSpec(name="scripty", version="1.0", depends=("python >=3.9",),
                       files={"bin/docty": DOCTY, "bin/optioned": OPTIONED})
    return channel_url(build_channel(tmp_path_factory.mktemp("scripty-channel"), extra=[spec]))


def _create(world, prefix: Path, channel: str, standin) -> Path:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    r = world.create("-q", "--prefix", str(prefix), "-c", channel, "--micromamba", str(standin), "--package", "scripty")
    assert r.returncode == 0, r.stderr
    return prefix


def move(world, src, dst):
    return world.run("move", str(src), str(dst), "--cache-dir", str(world.cache))


def _site(prefix: Path) -> Path:
    return next(prefix.glob("lib/python3*/site-packages"))


def test_each_script_runs_after_a_move_into_a_path_with_a_space(world, scripty_channel, standin):
    prefix = _create(world, world.envs / "a", scripty_channel, standin)
    (_site(prefix) / "epmod.py").write_text("import sys\n\ndef main():\n    print('ep ok ' + sys.prefix)\n")
    ep = prefix / "bin" / "ep"
    ep.write_text(f"#!{prefix}/bin/python\n" + ENTRY)
    ep.chmod(0o755)
    dst = world.envs / "at home"
    r = move(world, prefix, dst)
    assert r.returncode == 0, r.stderr
    # a package's file: conda's replace_long_shebang, options kept on the #! line
    assert (dst / "bin" / "docty").read_text().splitlines()[0] == "#!/usr/bin/env python"
    r = world.run("run", str(dst), "--", "docty")
    assert r.returncode == 0 and r.stdout.strip() == f"docty ok {dst}", r.stdout + r.stderr
    assert (dst / "bin" / "optioned").read_text().splitlines()[0] == "#!/usr/bin/env python -X$(touch${IFS}PWNED)"
    world.run("run", str(dst), "--", "optioned", cwd=world.tmp)
    subprocess.run([str(dst / "bin" / "optioned")], cwd=str(world.tmp), capture_output=True)
    assert not (world.tmp / "PWNED").exists(), "a shebang's options were run as shell code"
    # the generated entry point: its own exec lines, the interpreter quoted; runs without activation
    lines = (dst / "bin" / "ep").read_text().splitlines()
    assert lines[:2] == ["#!/bin/sh", f"'''exec' \"{dst}/bin/python\" \"$0\" \"$@\" #'''"]
    proc = subprocess.run([str(dst / "bin" / "ep")], capture_output=True, text=True, env=world.env)
    assert proc.returncode == 0 and proc.stdout.strip() == f"ep ok {dst}", proc.stderr
    # and back: every first line as installed there
    r = move(world, dst, prefix)
    assert r.returncode == 0, r.stderr
    assert (prefix / "bin" / "ep").read_text() == f"#!{prefix}/bin/python\n" + ENTRY
    assert (prefix / "bin" / "optioned").read_text().splitlines()[0] == "#!/usr/bin/env python -X$(touch${IFS}PWNED)"
    r = world.run("audit", str(prefix), "--json")
    rules = {f["path"]: f for f in r.json()["files"]}
    assert rules["bin/ep"]["kind"] == "entry point" and "exec" in rules["bin/ep"]["why"]


def test_a_script_written_after_install_is_refused_where_only_usr_bin_env_could_run_it(world, scripty_channel,
                                                                                        standin):
    prefix = _create(world, world.envs / "a", scripty_channel, standin)
    mine = prefix / "bin" / "mine"
    mine.write_text(f'#!{prefix}/bin/python\n"""Mine."""\nfrom __future__ import annotations\nprint("mine ok")\n')
    mine.chmod(0o755)
    before = snapshot(prefix)
    r = move(world, prefix, world.envs / "at home")
    assert r.returncode == 10, r.stderr
    assert "bin/mine" in r.stderr and "/usr/bin/env" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(prefix) == before and not (world.envs / "at home").exists()
    r = world.run("audit", str(prefix), "--json")
    assert {f["path"]: f["kind"] for f in r.json()["files"]}["bin/mine"] == "script"
    # a place its #! line can hold: rewritten, and it runs
    r = move(world, prefix, world.envs / "b")
    assert r.returncode == 0, r.stderr
    proc = subprocess.run([str(world.envs / "b" / "bin" / "mine")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "mine ok", proc.stderr


def _zipapp(prefix: Path, name: str) -> Path:
    source = prefix.parent / f"{name}-src"
    source.mkdir()
    (source / "__main__.py").write_text("import sys\nprint('zapp ok ' + sys.prefix)\n")
    target = prefix / "bin" / name
    zipapp.create_archive(source, target, interpreter=f"{prefix}/bin/python")
    return target


def test_a_zipapp_moved_to_a_shorter_path_still_runs(world, scripty_channel, standin):
    room = 120 - len(f"#!{world.envs}//env/bin/python")  # a long #! line the kernel still runs (127 at most)
    deep = world.envs / ("d" * room) / "env"
    prefix = _create(world, deep, scripty_channel, standin)
    app = _zipapp(prefix, "zapp")
    proc = subprocess.run([str(app)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"zapp ok {prefix}", proc.stderr
    r = world.run("audit", str(prefix), "--json")
    assert {f["path"]: f["kind"] for f in r.json()["files"]}["bin/zapp"] == "archive"
    # a zip that names the prefix inside it: no rewrite keeps it whole; refused, nothing changed
    data = prefix / "share" / "data.zip"
    data.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("where.txt", f"prefix={prefix}\n")
    before = snapshot(prefix)
    short = world.envs / "z"
    r = move(world, prefix, short)
    assert r.returncode == 10 and "share/data.zip" in r.stderr and "zip" in r.stderr, r.stderr
    assert snapshot(prefix) == before
    data.unlink()
    for there in (short, deep):
        r = move(world, prefix, there)
        assert r.returncode == 0, r.stderr
        prefix = there
        app = prefix / "bin" / "zapp"
        proc = subprocess.run([str(app)], capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stdout.strip() == f"zapp ok {prefix}", proc.stderr
        assert app.read_bytes().startswith(f"#!{prefix}/bin/python\n".encode())
        with zipfile.ZipFile(app) as zf:
            assert zf.testzip() is None


def test_a_packed_environment_unpacked_into_a_path_with_a_space_runs_no_shebang_option(world, scripty_channel,
                                                                                        standin):
    prefix = _create(world, world.envs / "a", scripty_channel, standin)
    archive = world.root / "env.tar.gz"
    r = world.run("pack", str(prefix), "-o", str(archive))
    assert r.returncode == 0, r.stderr
    unpacked = world.root / "un packed"
    unpacked.mkdir()
    subprocess.run(["tar", "-xf", str(archive), "-C", str(unpacked)], check=True)
    fixed = subprocess.run([str(unpacked / "bin" / "python"), str(unpacked / ".mambaboot" / "unpack.py")],
                           env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stderr
    assert (unpacked / "bin" / "optioned").read_text().splitlines()[0] == "#!/usr/bin/env python -X$(touch${IFS}PWNED)"
    subprocess.run([str(unpacked / "bin" / "optioned")], cwd=str(world.tmp), capture_output=True,
                   env={"PATH": f"{unpacked}/bin:/usr/bin:/bin"})
    assert not (world.tmp / "PWNED").exists(), "a shebang's options were run as shell code"
    proc = subprocess.run([str(unpacked / "bin" / "docty")], capture_output=True, text=True,
                          env={"PATH": f"{unpacked}/bin:/usr/bin:/bin"})
    assert proc.returncode == 0 and proc.stdout.strip() == f"docty ok {unpacked}", proc.stderr
