"""What a command says names what it is about: a mistyped prefix, a name that holds control
characters, a variable the baseline drops, a directory where mambaboot's mark goes."""

import os

from tests.support.terminal import Terminal


def test_doctor_with_a_prefix_that_does_not_exist_is_a_usage_error(world):
    missing = world.envs / "typo"
    r = world.run("doctor", str(missing))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert f"{missing} does not exist" in r.stderr


def test_list_escapes_control_characters_in_names(world, channel, standin):
    name = "red\x1b[31menv"  # create refuses such a prefix; a directory renamed so is listed
    r = world.create("plain", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    os.rename(world.envs / "plain", world.envs / name)
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "red\\x1b[31menv" in r.stdout, r.stdout
    r = world.run("list", "--envs-dir", str(world.envs), "--cache-dir", str(world.cache), "--json")
    assert r.json()["environments"][0]["prefix"] == str(world.envs / name), "JSON keeps the name exact"


def test_condarc_and_mambarc_are_not_in_the_baseline_of_run(world, channel, standin):
    r = world.create("plain", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    rc = world.root / "users.condarc"
    rc.write_text("channels: [the-users-own]\n")
    probe = "import os; print(os.environ.get('CONDARC'), os.environ.get('MAMBARC'))"
    r = world.run("run", str(world.envs / "plain"), "--", "python", "-c", probe,
                  env={"CONDARC": str(rc), "MAMBARC": str(rc)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["None", "None"]


def test_a_directory_where_the_mark_goes_is_named_and_remove_ends(world, channel, standin):
    r = world.create("claimed", "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "claimed"
    (prefix / ".mambaboot-claim").mkdir()
    for _ in range(2):
        r = world.run("remove", "claimed", "--yes", "--cache-dir", str(world.cache), "--envs-dir", str(world.envs))
        assert r.returncode == 4, (r.returncode, r.stderr)
        assert f"{prefix / '.mambaboot-claim'} is a directory" in r.stderr, r.stderr
        assert sorted(os.listdir(world.envs)) == ["claimed"]
