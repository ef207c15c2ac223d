"""The rewriter against generated environments (hypothesis): text files, package scripts and
scripts written after install with arbitrary `#!` options, generated entry points, zipapps and
binaries with placeholders, moved through a short place, a long one, one with spaces and
non-ASCII characters, and back. After each move every script prints what it printed before
(activated, as conda's `/usr/bin/env` lines need), every archive opens, every binary holds the
new place in its padded strings, no file but conda-meta/history names an old place, and no `#!`
option ever ran as shell code. A move refused is refused before anything changed, naming only
files no rewrite can keep working (a script written after install, a zipapp, that /usr/bin/env
would have to run).

MAMBABOOT_PROPERTY_EXAMPLES=N runs N examples (default: few enough for the default suite);
MAMBABOOT_FUZZ_PROFILE=deep explores, and a failure prints the seed that replays it
(tests/support/fuzzprofile.py)."""

import json
import os
import subprocess
import sys
import zipapp
import zipfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mambaboot.relocate import rewrite, scan
from tests.support import fuzzprofile, standin_install
from tests.support.channel import LONG_PLACEHOLDER, PLACEHOLDER
from tests.test_relocate import ENTRY_BODY

EXAMPLES = fuzzprofile.examples("MAMBABOOT_PROPERTY_EXAMPLES", 6)
# Options python accepts that change nothing it prints here; one that is shell code if a shell reads it.
OPTIONS = ["", " -E", " -s", " -B", " -Wignore", " -Xdev", " -X$(touch${IFS}PWNED)", " -X`touch${IFS}PWNED`"]
SEPARATORS = [" ", "=", "\n", ":", '"', "'", "("]
ENDINGS = ["/", "\n", ":", " ", '"', "/lib:"]

text_piece = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\0"), max_size=30)
script = st.fixed_dictionaries({
    "options": st.sampled_from(OPTIONS), "docstring": st.booleans(), "future": st.booleans(),
    "package": st.booleans(),
})
environment = st.fixed_dictionaries({
    "texts": st.lists(st.lists(st.tuples(text_piece, st.sampled_from(SEPARATORS), st.sampled_from(ENDINGS)),
                               min_size=1, max_size=4), max_size=3),
    "scripts": st.lists(script, min_size=1, max_size=4),
    "entry_points": st.integers(0, 2),
    "zipapps": st.integers(0, 2),
    "binaries": st.integers(0, 2),
})


def _binary(prefix: str, i: int) -> bytes:
    shipped = b"\x7fELF\x02\x01\x01\0" + f"{LONG_PLACEHOLDER}/lib/b{i}".encode() + b"\0" + b"\x01tail\0"
    return standin_install._binary(shipped, LONG_PLACEHOLDER.encode(), prefix.encode())


def _script(prefix: str, name: str, spec: dict) -> str:
    head = f"#!{prefix}/bin/python{spec['options']}\n"
    body = '"""A script."""\n' if spec["docstring"] else ""
    body += "from __future__ import annotations\n" if spec["future"] else ""
    return head + body + f"import sys\nprint('{name}', sys.flags.ignore_environment)\n"


def _build(root: Path, prefix: Path, spec: dict) -> dict:
    """The environment as installers and the user left it at prefix; returns what to check."""
    for d in ("bin", "conda-meta", "share", "lib"):
        (prefix / d).mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(sys.executable)
    (prefix / "conda-meta" / "history").write_text(f"==> cmd: create -p {prefix}\n")
    paths, runs = [], []
    for i, pieces in enumerate(spec["texts"]):
        text = "data\n" + "".join(f"{piece}{sep}{prefix}{end}" for piece, sep, end in pieces)
        (prefix / "share" / f"t{i}.txt").write_text(text, encoding="utf-8")
    for i, one in enumerate(spec["scripts"]):
        name = f"s{i}"
        (prefix / "bin" / name).write_text(_script(str(prefix), name, one), encoding="utf-8")
        (prefix / "bin" / name).chmod(0o755)
        if one["package"]:
            paths.append({"_path": f"bin/{name}", "prefix_placeholder": PLACEHOLDER, "file_mode": "text"})
        runs.append(name)
    for i in range(spec["entry_points"]):
        name = f"ep{i}"
        (prefix / "bin" / name).write_bytes(f"#!{prefix}/bin/python\n".encode() + ENTRY_BODY)
        (prefix / "bin" / name).chmod(0o755)
        runs.append(name)
    for i in range(spec["zipapps"]):
        source = root / f"zsrc{i}"
        source.mkdir(exist_ok=True)
        (source / "__main__.py").write_text(f"print('zapp{i}')\n")
        zipapp.create_archive(source, prefix / "bin" / f"z{i}", interpreter=f"{prefix}/bin/python")
        runs.append(f"z{i}")
    for i in range(spec["binaries"]):
        (prefix / "lib" / f"b{i}.so").write_bytes(_binary(str(prefix), i))
        paths.append({"_path": f"lib/b{i}.so", "prefix_placeholder": LONG_PLACEHOLDER, "file_mode": "binary"})
    record = {"name": "gen", "version": "1", "build": "0", "paths_data": {"paths": paths}}
    (prefix / "conda-meta" / "gen-1-0.json").write_text(json.dumps(record))
    return {"runs": runs, "binaries": spec["binaries"]}


def _run_all(root: Path, prefix: Path, runs: list) -> dict:
    env = {"PATH": f"{prefix}/bin:/usr/bin:/bin", "PYTHONPATH": str(root / "mods"), "HOME": str(root)}
    out = {}
    for name in runs:
        proc = subprocess.run([str(prefix / "bin" / name)], capture_output=True, text=True, env=env, cwd=str(root),
                              timeout=60)
        out[name] = (proc.returncode, proc.stdout)
    return out


def _naming(prefix: Path, old: str) -> list:
    needle = old.encode()
    found = []
    for path in prefix.rglob("*"):
        rel = path.relative_to(prefix).as_posix()
        if path.is_symlink() or not path.is_file() or rel == "conda-meta/history":
            continue
        if needle in path.read_bytes():
            found.append(rel)
    return found


def _move(prefix: Path, new: Path) -> list:
    """scan, check, rename, rewrite, as `move` does; what a refusal named (nothing changed then)."""
    findings = scan.find(str(prefix), str(prefix), False)
    try:
        rewrite.check(str(prefix), findings, str(prefix), str(new), False)
    except rewrite.Refused as exc:
        return exc.paths
    os.rename(prefix, new)
    rewrite.relocate(str(new), findings, str(prefix), str(new), False)
    return []


def _works_as_before(root: Path, prefix: Path, before: dict, spec: dict, run: dict) -> None:
    after = _run_all(root, prefix, run["runs"])
    for name, result in after.items():
        first = (prefix / "bin" / name).read_bytes().split(b"\n", 1)[0]
        if first.startswith(b"#!/usr/bin/env ") and b" " in first[len(b"#!/usr/bin/env "):]:
            # conda's line for a package's script with options: the kernel hands env "NAME OPTIONS"
            # as one word (replace_long_shebang keeps them); it runs nothing, no shell either
            assert result[0] != 0, name
        else:
            assert result == before[name], (name, result, before[name])
        if name.startswith("z"):
            with zipfile.ZipFile(prefix / "bin" / name) as zf:
                assert zf.testzip() is None
    for i in range(run["binaries"]):
        assert (prefix / "lib" / f"b{i}.so").read_bytes() == _binary(str(prefix), i)
    assert not (root / "PWNED").exists(), "a #! option ran as shell code"


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=EXAMPLES)
@given(spec=environment)
def test_generated_environments_survive_three_moves_and_back(tmp_path_factory, spec):
    root = tmp_path_factory.mktemp("prop")
    (root / "mods").mkdir()
    (root / "mods" / "tool").mkdir()
    (root / "mods" / "tool" / "__init__.py").write_text("")
    (root / "mods" / "tool" / "cli.py").write_text("def main():\n    print('entry point')\n")
    first = root / "s1"
    run = _build(root, first, spec)
    before = _run_all(root, first, run["runs"])
    assert all(code == 0 for code, _ in before.values()), before
    long_name = "l" * max(1, 118 - len(f"#!{root}//e2/bin/python"))
    places = [root / long_name / "e2", root / "é n ü" / "e3", first]
    olds, prefix = [], first
    for new in places:
        new.parent.mkdir(exist_ok=True)
        refused = _move(prefix, new)
        if refused:
            kinds = {f.path: f.kind for f in scan.find(str(prefix), str(prefix), False)}
            assert all(kinds[p] in (scan.SCRIPT, scan.ARCHIVE) for p in refused), (refused, kinds)
            for p in refused:  # each for want of a #! line the kernel runs at the new place
                line = (prefix / p).read_bytes().split(b"\n", 1)[0].replace(str(prefix).encode(), str(new).encode())
                assert b" " in os.fsencode(new) or len(line) > rewrite.MAX_SHEBANG, (p, line)
            assert not new.exists()
            for p in refused:  # what no rewrite keeps working goes; the rest moves
                (prefix / p).unlink()
                run["runs"].remove(p.rsplit("/", 1)[-1])
            assert _move(prefix, new) == []
        olds.append(str(prefix))
        prefix = new
        _works_as_before(root, prefix, before, spec, run)
        for old in olds:
            if old != str(prefix):
                assert _naming(prefix, old) == [], old
