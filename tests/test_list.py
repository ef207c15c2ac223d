"""`mambaboot list`: every environment under the envs root, each in its state."""

import os
import signal
import subprocess

from tests.conftest import MAMBABOOT
from tests.support.interrupt import paused


def _list(world, *args):
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), *args)
    assert r.returncode == 0, r.stderr
    return r


def test_list_shows_each_state(world, channel, standin, liar_channel):
    assert world.create("good", "--python", "3.11", "-c", channel, "--micromamba", str(standin)).returncode == 0
    failing = world.root / "fail.sh"
    failing.write_text("exit 1\n")
    assert world.create("prov", "-c", channel, "--micromamba", str(standin),
                        "--post-script", str(failing)).returncode == 8
    assert world.create("kept", "--python", "3.12", "-c", liar_channel, "--micromamba", str(standin),
                        "--keep-failed").returncode == 7
    subprocess.run([str(standin), "create", "-y", "-p", str(world.envs / "alien"), "-c", channel, "python"],
                   env=world.env, check=True, capture_output=True)
    command = [*MAMBABOOT, "create", "killed", "--cache-dir", str(world.cache), "-c", channel,
               "--micromamba", str(standin)]
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
        "killed": "incomplete",
    }
    good = envs["good_3_11"]
    assert good["prefix"] == str(world.envs / "good_3_11")
    assert good["python_version"] == "3.11.2" and good["packages"] == 4  # python, pip, conda, mamba
    assert good["size"] > 1_000_000 and good["size_measured"] is False, "the size recorded at creation"
    assert good["created"].startswith("20")
    assert envs["prov"]["failed"] == str(failing)
    assert envs["alien"]["python_version"] == "3.11.2" and envs["alien"]["packages"] == 2  # and pip
    assert envs["alien"]["size"] is None, "not measured unless --size"
    assert envs["killed"]["python_version"] == "3.11.2", "read from conda-meta: the record was never written"

    text = _list(world).stdout
    assert "provisioning-failed" in text and "foreign" in text and "just-a-folder" not in text

    measured = {e["name"]: e for e in _list(world, "--json", "--size").json()["environments"]}
    assert measured["alien"]["size"] > 1_000_000 and measured["alien"]["size_measured"] is True


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
    expected = dict({k: full[k] for k in (*keys, "tool") if k in full}, packages=len(packages))
    assert record.read_summary(str(tmp_path), keys) == expected


def test_a_record_in_another_layout_is_read_whole(tmp_path):
    (tmp_path / ".mambaboot").mkdir()
    path = tmp_path / ".mambaboot" / "record.json"
    path.write_text('{"tool": "mambaboot", "packages": [{"name": "x"}, {"name": "y"}], "state": "complete"}')
    assert record.read_summary(str(tmp_path), ("packages", "state")) == {"tool": "mambaboot", "packages": 2,
                                                                         "state": "complete"}
    path.write_text('{"tool": "someone"}')
    assert record.read_summary(str(tmp_path), ("state",)) is None
