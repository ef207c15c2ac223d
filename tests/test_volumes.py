"""Cache and environment on two volumes (issue 16, goal 5), on a real second file system.

micromamba hard-links a package's files from the package cache when it can and copies them
when it cannot (2.8.1 libmamba/src/core/link.cpp ``create_or_link``: hard link, falling back
to a copy across devices; the stand-in's rattler does the same). A copied environment costs
the disk twice and is slow to make: `create` warns with the volumes' figures before the
engine runs, and `list --size` and `doctor` say which environments are copies.
"""

import json
import os


def test_an_environment_on_another_volume_is_warned_about_and_shown_as_a_copy(world, channel, standin,
                                                                              second_volume):
    far = second_volume / "envs"
    r = world.create("far", "-q", "--envs-dir", str(far), "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    assert "another volume" in r.stderr and "copy every package file" in r.stderr
    assert f"device {os.stat(world.cache).st_dev:#x}" in r.stderr and str(second_volume) in r.stderr
    near = world.create("near", "-q", "-c", channel, "--micromamba", str(standin))
    assert near.returncode == 0 and "another volume" not in near.stderr, near.stderr

    listed = world.run("list", "--json", "--size", "--cache-dir", str(world.cache), str(far / "far"),
                       "--envs-dir", str(world.envs))
    assert listed.returncode == 0, listed.stderr
    copy = {e["name"]: e["copy"] for e in listed.json()["environments"]}
    assert copy == {"far": True, "near": False}
    unmeasured = world.run("list", "--json", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs)).json()
    assert [e["copy"] for e in unmeasured["environments"]] == [None]
    text = world.run("list", "--size", "--cache-dir", str(world.cache), str(far / "far"),
                     "--envs-dir", str(world.envs)).stdout
    assert [line.split()[0] for line in text.splitlines() if "(copy)" in line] == ["far"]

    for name, prefix, severity in (("far", far / "far", "warning"), ("near", world.envs / "near", "ok")):
        d = world.run("doctor", "--json", env={"CONDA_PREFIX": str(prefix)})
        found = [f for f in json.loads(d.stdout)["findings"] if f["check"] == "copies"]
        assert [f["severity"] for f in found] == [severity], (name, found)
