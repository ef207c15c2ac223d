"""`mambaboot list`: every environment under the envs root, each in its state."""

import json
import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import MAMBABOOT
from tests.support.interrupt import killed_at, paused
from tests.support.snapshot import snapshot

from mambaboot.common.files import fsops


def _list(world, *args):
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), *args)
    assert r.returncode == 0, r.stderr
    return r


def test_list_shows_each_state(world, channel, fault_standin, liar_channel):
    assert world.create("good", "--python", "3.11", "-c", channel, "--micromamba", str(fault_standin)).returncode == 0
    failing = world.root / "fail.sh"
    failing.write_text("exit 1\n")
    assert world.create("prov", "-c", channel, "--micromamba", str(fault_standin),
                        "--post-script", str(failing)).returncode == 8
    assert world.create("kept", "--python", "3.12", "-c", liar_channel, "--micromamba", str(fault_standin),
                        "--keep-failed").returncode == 7
    subprocess.run([str(fault_standin), "create", "-y", "-p", str(world.envs / "alien"), "-c", channel, "python"],
                   env=world.env, check=True, capture_output=True)
    command = [*MAMBABOOT, "create", "killed", "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(fault_standin)]
    with paused(command, world.env, world.envs, world.root / "fifo") as proc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    (world.envs / "just-a-folder").mkdir()
    (world.envs / "just-a-folder" / "notes.txt").write_text("not an environment")

    envs = {e["name"]: e for e in _list(world, "--json").json()["environments"]}
    assert {n: e["state"] for n, e in envs.items()} == {
        "good_3_11": "complete",
        "prov": "provisioning-failed",
        "kept_3_12": "incomplete",
        "alien": "foreign",
        "killed": "foreign",  # its killed run's intent beside it names it, but never makes it ours
    }
    good = envs["good_3_11"]
    assert good["prefix"] == str(world.envs / "good_3_11")
    held = len(list((world.envs / "good_3_11" / "conda-meta").glob("*.json")))
    assert good["python_version"] == "3.11.2" and good["packages"] == held >= 4  # python, pip, conda, mamba at least
    assert good["size"] is None and good["size_measured"] is False, "not measured unless --size, never recorded"
    assert good["created"].startswith("20")
    assert envs["prov"]["failed"] == str(failing)
    assert envs["alien"]["python_version"] == "3.11.2"
    assert envs["alien"]["packages"] == len(list((world.envs / "alien" / "conda-meta").glob("*.json")))
    assert envs["alien"]["size"] is None, "not measured unless --size"
    assert envs["killed"]["python_version"] == "3.11.2", "read from conda-meta: the record was never written"
    unfinished = _list(world, "--json").json()["unfinished"]
    assert [(u["prefix"], u["operation"]) for u in unfinished] == [(str(world.envs / "killed"), "create")]

    text = _list(world).stdout
    assert "provisioning-failed" in text and "foreign" in text and "just-a-folder" not in text

    measured = {e["name"]: e for e in _list(world, "--json", "--size").json()["environments"]}
    assert measured["alien"]["size"] > 1_000_000 and measured["alien"]["size_measured"] is True


def test_list_shows_a_killed_run_of_a_place_whose_lock_is_named_by_a_key(world, made_env):
    """A place whose name is too long for `.NAME.mambaboot-lock` (245 bytes) has a lock named by a
    key of its path: one a killed run left, its intent naming that place, is listed; a lock of that
    form whose intent names another place (that one's too) is not, for no key but that place's own
    proves its lock."""
    place = world.envs / ("o" * 245)
    lock = Path(fsops.place_lock(str(place)))
    assert lock.parent == world.envs and lock.name.startswith(".mambaboot-lock-"), lock
    lock.write_text(json.dumps({"tool": "mambaboot", "pid": 1, "token": "fedcba9876543210" * 2,
                                "operation": "activate-scripts", "stage": "begun", "place1": str(place)}))
    planted = (Path(fsops.place_lock(str(world.envs / ("f" * 245)))), world.envs / f".mambaboot-lock-{'0' * 32}")
    for path, named in zip(planted, (place, world.envs / "victim")):
        path.write_text(json.dumps({"tool": "mambaboot", "pid": 1, "token": "0123456789abcdef" * 2,
                                    "operation": "create", "stage": "set-aside", "place1": str(named)}))
    before = snapshot(world.envs)
    unfinished = _list(world, "--json").json()["unfinished"]
    assert [(u["prefix"], u["operation"]) for u in unfinished] == [(str(place), "activate-scripts")], unfinished
    shown = _list(world)
    assert str(lock) in shown.stdout + shown.stderr and not any(str(p) in shown.stdout + shown.stderr for p in planted)
    assert snapshot(world.envs) == before, "list changes nothing"


def _walked(prefix):
    """files and bytes under prefix, by a plain walk: a symlink as its own lstat (the length of
    what it names), a file with several hard links once, the record left out (it holds the size)."""
    seen, files, size = set(), 0, 0
    for directory, dirnames, filenames in os.walk(prefix):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            if path == os.path.join(prefix, ".mambaboot", "record.json") or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            files += 1
            size += st.st_size
    return files, size


def test_list_shows_a_size_only_measured_now(world, channel, standin):
    """No size is recorded at creation (the environment's own conda and mamba change it), so
    `list` has no SIZE column unless --size measures now. The environment holds links
    (bin/python3 -> python3.11, which its package record declares with the size of the
    interpreter it names) and hard links into the package cache: --size counts a link as itself
    and a file once."""
    assert world.create("sized", "--python", "3.11", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "sized_3_11"
    assert (prefix / "bin" / "python3").is_symlink()
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert "size" not in record
    plain = _list(world, "--json").json()["environments"][0]
    assert (plain["size"], plain["size_measured"], plain["copy"]) == (None, False, None)
    measured = _list(world, "--json", "--size").json()["environments"][0]
    assert measured["size_measured"] is True and measured["copy"] is False, "linked from the package cache"
    assert measured["size"] == _walked(str(prefix))[1]
    header = [line.split() for line in (_list(world).stdout.splitlines()[0], _list(world, "--size").stdout.splitlines()[0])]
    assert "SIZE" not in header[0] and "SIZE" in header[1], header
    # a record an earlier mambaboot wrote holds a size: still read, the size in it never shown
    record["size"] = {"files": 1, "bytes": 5, "shared_files": 0, "shared_bytes": 0}
    (prefix / ".mambaboot" / "record.json").write_text(json.dumps(record, indent=2))
    old = _list(world, "--json").json()["environments"][0]
    assert (old["state"], old["size"], old["packages_at_creation"]) == ("complete", None, len(record["packages"]))


def test_list_counts_what_the_environment_holds_now_and_marks_a_change(world, channel, standin):
    for name in ("kept", "grown"):
        assert world.create(name, "-c", channel, "--micromamba", str(standin)).returncode == 0
    r = world.run("run", str(world.envs / "grown"), "--", "conda", "install", "-y", "uv")  # its own conda, from its .condarc
    assert r.returncode == 0, r.stderr
    envs = {e["name"]: e for e in _list(world, "--json").json()["environments"]}
    n = len(list((world.envs / "kept" / "conda-meta").glob("*.json")))  # what create installed, in any mode
    assert [envs["grown"][k] for k in ("packages", "packages_at_creation", "changed")] == [n + 1, n, True]
    assert [envs["kept"][k] for k in ("packages", "packages_at_creation", "changed")] == [n, n, False]
    rows = {line.split()[0]: line for line in _list(world).stdout.splitlines()[1:]}
    assert f"  {n + 1} ({n} at creation)  " in rows["grown"] and f"  {n}  " in rows["kept"]
    assert "creation" not in rows["kept"]


def test_list_given_paths_and_an_empty_root(world, channel, standin):
    r = _list(world)
    assert "no environments" in r.stdout
    elsewhere = world.root / "elsewhere"
    assert world.create("--prefix", str(elsewhere), "-c", channel, "--micromamba", str(standin)).returncode == 0
    envs = _list(world, str(elsewhere), "--json").json()["environments"]
    assert [(e["prefix"], e["state"]) for e in envs] == [(str(elsewhere), "complete")]
    r = world.run("list", "--envs-dir", str(world.envs), str(world.home))
    assert r.returncode == 2 and "is not an environment" in r.stderr


# ---------------------------------------------------------- the record as `list` reads it
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mambaboot.common import shapes  # noqa: E402
from mambaboot.environment import record  # noqa: E402

# strings with what could fool a line-based reading: newlines, quotes, brackets, indentation
_TEXT = st.text(alphabet=st.sampled_from(['a', 'é', ' ', '"', '\\', '\n', '[', ']', '{', '}', ',', ':', '\u2028']),
                max_size=12)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | _TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packages=st.lists(_JSON, max_size=4), files=st.lists(_TEXT, max_size=3),
       others=st.dictionaries(st.sampled_from(["state", "verification", "size", "zz", "a\": [", "packagesz", "packa"]), _JSON, max_size=4))
def test_the_summary_of_a_record_is_the_record_with_its_packages_counted(tmp_path, packages, files, others):
    data = dict(others, packages=packages, files=files)
    record.write(str(tmp_path), data)
    keys = ("packages", "state", "zz", "size")
    full = record.read(str(tmp_path))
    # The summary checks the record's shape (common/shapes.py) for the members it reads only.
    view = dict({k: data[k] for k in keys if k in data}, tool=record.TOOL, packages=len(packages))
    try:
        expected = shapes.check(view, record.SUMMARY, "record.json")
    except ValueError:
        expected = None
    if full is not None:
        assert expected == dict({k: full[k] for k in (*keys, "tool") if k in full}, packages=len(packages))
    assert record.read(str(tmp_path), keys) == expected


def test_a_record_in_another_layout_is_read_whole(tmp_path):
    (tmp_path / ".mambaboot").mkdir()
    path = tmp_path / ".mambaboot" / "record.json"
    path.write_text('{"tool": "mambaboot", "packages": [{"name": "x"}, {"name": "y"}], "state": "complete"}')
    assert record.read(str(tmp_path), ("packages", "state")) == {"tool": "mambaboot", "packages": 2,
                                                                         "state": "complete"}
    path.write_text('{"tool": "someone"}')
    assert record.read(str(tmp_path), ("state",)) is None
