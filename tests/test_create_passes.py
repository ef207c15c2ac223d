"""`create` after the engine: one pass over conda-meta, no walk of the prefix (no size is
recorded: the environment's own conda and mamba change it), and the reader that makes the pass cheap (paths_data's sizes summed without
decoding its entries).

Counted by wrapping open() and os.scandir in the mambaboot process (the engine and the
verification run in children, which are not counted); never timed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mambaboot.environment import condameta

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = r"""
import builtins, collections, json, os, sys
sys.path.insert(0, sys.argv[1])
from mambaboot.common.files import treewalk  # what it finds os.open and os.scandir able to do: before they are wrapped
opened, listed, by_fd = collections.Counter(), collections.Counter(), collections.Counter()
real_open, real_scandir = builtins.open, os.scandir
def counting_open(file, *a, **k):
    opened[os.fspath(file) if isinstance(file, (str, bytes, os.PathLike)) else repr(file)] += 1
    return real_open(file, *a, **k)
real_os_open = os.open
def counting_os_open(file, *a, **k):  # the confined layer opens by name relative to a directory's descriptor
    opened["name:" + os.path.basename(os.fspath(file))] += 1
    return real_os_open(file, *a, **k)
def counting_scandir(path="."):
    if isinstance(path, int):  # a directory's descriptor: its entries are stat'ed relative to it
        by_fd[os.readlink(f"/proc/self/fd/{path}")] += 1
    else:
        listed[os.fspath(path)] += 1
    return real_scandir(path)
synced = []
real_fsync = os.fsync
def logging_fsync(fd):  # which file, and for the intent's lock file the stage it says
    try:
        held = os.pread(fd, 4096, 0).strip()
    except OSError:  # opened for writing only: none of the lock's
        held = b""
    synced.append([os.path.basename(os.readlink(f"/proc/self/fd/{fd}")), json.loads(held).get("stage") if held.startswith(b"{") else None])
    return real_fsync(fd)
builtins.open, os.scandir, os.open, os.fsync = counting_open, counting_scandir, counting_os_open, logging_fsync
from mambaboot.cli import main
code = main(sys.argv[3:])
with real_open(sys.argv[2], "w") as f:
    json.dump({"code": code, "opened": opened, "listed": listed, "by_fd": by_fd, "synced": synced, "modules": sorted(sys.modules)}, f)
"""


def test_create_reads_each_record_once_walks_no_prefix_and_imports_no_downloader(world, channel, standin, tmp_path):
    out = tmp_path / "counts.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(SRC), str(out), "create", "one", "-q",
                           "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)],
                          env=world.env, cwd=str(world.envs), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts = json.loads(out.read_text())
    assert counts["code"] == 0
    meta = world.envs / "one" / "conda-meta"
    records = sorted(str(p) for p in meta.glob("*.json"))
    assert len(records) >= 3
    assert {p: counts["opened"].get(p, 0) + counts["opened"].get("name:" + os.path.basename(p), 0)
            for p in records} == {p: 1 for p in records}
    # no walk of the prefix (no size measured): no directory below it listed by its descriptor,
    # and none by path but the three conda's activation reads, which the activation scripts are made from
    prefix = os.path.realpath(world.envs / "one")
    activation = {f"{prefix}/etc/conda/{d}" for d in ("env_vars.d", "activate.d", "deactivate.d")}
    walked = {p: n for p, n in counts["by_fd"].items() if p == prefix or p.startswith(prefix + "/")}
    assert walked == {}
    by_path = {os.path.realpath(p) for p in counts["listed"] if p.startswith(str(world.envs / "one") + "/")}
    assert by_path <= activation, by_path - activation
    # the intent's stages are synced up to `verified`; `done`, which settles as `verified` does, is not
    stages = [stage for name, stage in counts["synced"] if name == ".one.mambaboot-lock"]
    assert stages[-1] == "verified" and "finishing" in stages and "done" not in stages, stages
    rec = json.loads((world.envs / "one" / ".mambaboot" / "record.json").read_text())
    assert rec["state"] == "complete" and "size" not in rec
    # a given micromamba is not downloaded: no urllib.request, ssl, http.client (~30 ms) for it
    assert not {"urllib.request", "ssl", "http.client"} & set(counts["modules"])


# --------------------------------------------------------------------------- the reader


def _entry(path, size, **extra):
    return {"_path": path, "path_type": "hardlink", "sha256": "ab" * 32, "size_in_bytes": size, **extra}


ODD = ["a}, \"b\": {", "x}}", "size_in_bytes\": 99, \"", "paths_data\": {}", "d\\\\\"}", "e]", "paths"]


@pytest.mark.parametrize("shape", ["paths-first", "version-first", "paths_data-first", "paths_data-last", "compact",
                                   "libmamba"])
def test_summary_reads_what_a_whole_decode_reads_without_decoding_paths_data(tmp_path, shape):
    """Whatever the key order and spacing, and with paths that look like JSON, the light read
    (paths_data cut where it stands) gives what decoding everything gives."""
    paths = [_entry(name, 10 + i) for i, name in enumerate(ODD)] + [_entry("share/t", 7, file_mode="text")]
    pd = {"paths": paths, "paths_version": 1}
    if shape == "version-first":
        pd = {"paths_version": 1, "paths": paths}
    record = {"name": "odd", "version": "1.0", "build": "0", "build_number": 0, "subdir": "noarch",
              "url": "https://example.invalid/noarch/odd-1.0-0.tar.bz2", "md5": "c" * 32, "sha256": "d" * 64,
              "depends": ["python"], "files": [e["_path"] for e in paths], "link": {"source": "x", "type": 1}}
    items = list(record.items())
    at = {"paths_data-first": 0, "paths_data-last": len(items)}.get(shape, 7)
    items.insert(at, ("paths_data", pd))
    if shape == "libmamba":  # what micromamba writes: nlohmann's dump(4), keys sorted (libmamba/src/core/link.cpp)
        text = json.dumps(dict(items), indent=4, sort_keys=True)
    else:
        text = json.dumps(dict(items), separators=(",", ":")) if shape == "compact" else json.dumps(dict(items), indent=1)
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    (meta / "odd-1.0-0.json").write_text(text)
    assert condameta._light(text.encode(), "record.json") is not None, "the light read applies"
    got = condameta.summary(str(tmp_path))
    assert got.paths is None
    assert got.packages == condameta.installed(str(tmp_path))
    whole = condameta.summary(str(tmp_path), paths=True)
    assert (whole.packages, whole.paths) == (got.packages, paths)


def test_summary_decodes_whole_a_record_it_cannot_read_lightly(tmp_path):
    """Entries holding a list (not conda's shape), a path ending in "}]", no paths_data at all, or a
    paths_data with no "paths": decoded whole."""
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    listed = {"name": "l", "version": "1", "files": ["c"],
              "paths_data": {"paths": [_entry("c", 5, parts=[{"k": 1}], more=1)], "paths_version": 1}}
    bare = {"name": "b", "version": "2", "files": ["d"]}
    bracket = {"name": "k", "version": "1", "files": ["f}]"],  # cut after "f}]": the decode refuses it
               "paths_data": {"paths_version": 1, "paths": [_entry("f}]", 8)]}}
    no_paths = {"name": "p", "version": "3", "files": ["e"], "paths_data": {"paths_version": 1},
                "extra": [{"paths": [_entry("e", 60)]}]}
    for rec in (listed, bare, bracket, no_paths):
        text = json.dumps(rec, indent=2)
        assert condameta._light(text.encode(), "record.json") is None, rec["name"]
        (meta / f"{rec['name']}.json").write_text(text)
    got = condameta.summary(str(tmp_path))
    assert [p.name for p in got.packages] == ["b", "k", "l", "p"]


def test_an_entry_holding_an_object_reads_lightly_as_a_whole_decode_does(tmp_path):
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    rec = {"name": "n", "version": "1", "files": ["a", "b"],
           "paths_data": {"paths": [_entry("a", 3, extra={"size_in_bytes": 50}, more=1), _entry("b", 4)],
                          "paths_version": 1}}
    text = json.dumps(rec, indent=2)
    (meta / "n.json").write_text(text)
    assert condameta._light(text.encode(), "record.json") == {**rec, "paths_data": None, "files": None}
    got, whole = condameta.summary(str(tmp_path)), condameta.summary(str(tmp_path), paths=True)
    assert got.packages == whole.packages and whole.paths == rec["paths_data"]["paths"]


def test_summary_reads_of_a_record_only_what_create_uses(tmp_path):
    """A record's files (thousands of paths) are create's to skip: summary neither sums nor checks
    them, and its light read cuts paths_data out before the decode; installed_files, which uses
    them, refuses a record whose files are not paths."""
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    rec = {"name": "n", "version": "1", "files": [1, 2],
           "paths_data": {"paths": [_entry("a", 3), _entry("b", 4)], "paths_version": 1}}
    (meta / "n-1-0.json").write_text(json.dumps(rec, indent=2))
    got = condameta.summary(str(tmp_path))
    assert [p.name for p in got.packages] == ["n"] and not hasattr(got, "bytes") and not hasattr(got, "files")
    with pytest.raises(Exception, match="files"):
        condameta.installed_files(str(tmp_path))


_JSONISH = st.text(alphabet='ab/{}[]",:\\ \n\u00e9', max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    paths=st.lists(st.tuples(_JSONISH, st.integers(0, 10**12), st.booleans()), max_size=6),
    version_first=st.booleans(), at=st.integers(0, 12), indent=st.sampled_from([None, 0, 1, 2, 4]),
    sort=st.booleans(),
)
def test_the_light_read_is_a_whole_decode_or_declines(paths, version_first, at, indent, sort):
    """Any paths, any key order and spacing: what the light read gives is what decoding everything
    gives, or it gives nothing (and the record is decoded whole)."""
    entries = [_entry(name, size) if sized else {"_path": name, "path_type": "softlink"} for name, size, sized in paths]
    pd = {"paths_version": 1, "paths": entries} if version_first else {"paths": entries, "paths_version": 1}
    items = [("name", "odd"), ("version", "1"), ("build", "0"), ("depends", ["x [y]"]), ("files", [n for n, _, _ in paths]),
             ("link", {"source": "}]", "type": 1}), ("url", "u")]
    items.insert(min(at, len(items)), ("paths_data", pd))
    record = dict(items)
    text = json.dumps(record, indent=indent, sort_keys=sort, ensure_ascii=indent == 4)
    light = condameta._light(text.encode(), "record.json")
    if light is not None:
        # files is cut where its paths hold no backslash and it comes before paths_data
        assert light == {**record, "paths_data": None, "files": light["files"]}
        cut = "\\" not in json.dumps(record["files"], ensure_ascii=indent == 4) and text.index('"files"') < text.index('"paths_data"')
        assert light["files"] == (None if cut else record["files"])


@pytest.mark.parametrize("names", [["a", "b"], [], ["]", "x]"], ["[", "]["], ['a"]', "b"], ["c\\]", "d"], ["],", "]}"]])
def test_the_light_read_cuts_files_out_as_it_cuts_paths_data(names):
    """A record's files, a path each (most of what is left once paths_data is cut), are not decoded
    either where they come first, as both writers put them, and no path holds a backslash (else
    they are decoded, with what a path may hold); paths with brackets and quotes in them too."""
    pd = {"paths": [_entry(n, 1) for n in names], "paths_version": 1}
    record = {"depends": ["x [y]"], "files": names, "name": "n", "paths_data": pd, "version": "1"}
    text = json.dumps(record, indent=4, sort_keys=True)
    light = condameta._light(text.encode(), "record.json")
    backslash = any("\\" in n or '"' in n for n in names)
    assert light == {**record, "paths_data": None, "files": names if backslash else None}


def test_the_light_read_of_a_path_of_brackets_is_linear():
    """A path of 4 million ']' (a record may hold 256 MiB) is crossed in one step, not each bracket
    counted from the list's start again: that walk is ~8e12 bytes, and no run ends it. Run apart,
    ended by its own timeout, which fails it, as the hostile bounds' runs are."""
    code = (
        "import json, sys; from mambaboot.environment import condameta\n"
        "path = 'a' + ']' * 4_000_000\n"
        "record = {'files': [path, 'b'], 'name': 'n', 'paths_data': {'paths': [], 'paths_version': 1}, 'version': '1'}\n"
        "light = condameta._light(json.dumps(record, indent=1).encode(), 'record.json')\n"
        "sys.exit(light != {**record, 'files': None, 'paths_data': None})\n"
    )
    src = str(Path(condameta.__file__).parents[2])
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": src}, timeout=120)
    assert done.returncode == 0


def test_summary_reaches_conda_meta_once_for_all_its_records(tmp_path, monkeypatch):
    """The records are read below one descriptor of conda-meta (untrusted.read_each_in), not each
    from the prefix down: ~70 records in a realistic create, ~1000 in a large one."""
    from mambaboot.common.files import confined

    meta = tmp_path / "conda-meta"
    meta.mkdir()
    for i in range(5):
        (meta / f"p{i}-1-0.json").write_text(json.dumps({"name": f"p{i}", "version": "1", "files": []}))
    opened, real = [], confined.Root.open.__func__
    monkeypatch.setattr(confined.Root, "open", classmethod(lambda cls, path: opened.append(path) or real(cls, path)))
    got = condameta.summary(str(tmp_path))
    assert [p.name for p in got.packages] == [f"p{i}" for i in range(5)]
    assert opened == [str(tmp_path)], opened


def test_a_link_at_conda_meta_is_refused_by_the_one_read(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "p-1-0.json").write_text(json.dumps({"name": "p", "version": "1"}))
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / "conda-meta").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Exception, match="symbolic link"):
        condameta.summary(str(prefix))
