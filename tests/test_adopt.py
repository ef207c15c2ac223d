"""`mambaboot adopt` end to end: environments made by others, by mambaboot, and hand-overs."""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from mambaboot.common import yamlread
from mambaboot.environment import roothook
from tests.support.entries import both_entries
from tests.support.probed import FSYNC_PROBE, run_probed, synced
from tests.support.snapshot import diff, snapshot

# When it ran, and what the environment measured then (the engine's own history file, with
# its command line, differs between two runs): not inputs, so not compared.
TIMESTAMPS = ("created", "completed")


def _record(prefix: Path) -> dict:
    return json.loads((prefix / ".mambaboot" / "record.json").read_text())


def _without(record: dict, keys=TIMESTAMPS) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def _beyond_bytecode(changes: dict) -> dict:
    """Changes other than the bytecode any run of the environment's python writes."""
    return {path: change for path, change in changes.items() if "__pycache__" not in path}


def engine_only(world, standin, channel, prefix: Path, *specs: str) -> None:
    """An environment made the way a user would with micromamba alone (side effects and all)."""
    subprocess.run([str(standin), "create", "-y", "-p", str(prefix), "-c", channel, *(specs or ("python", "conda", "mamba"))],
                   env=world.env, check=True, capture_output=True)


@both_entries
def test_a_foreign_environment_is_adopted_and_nothing_else_changes(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    before = world.outside(prefix)
    inside = snapshot(prefix)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache), "--python", "3.11", "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert (out["prefix"], out["adoption"], out["python_version"]) == (str(prefix), "adopted", "3.11.2")
    assert {"python", "conda", "mamba"} <= {p["name"] for p in out["packages"]}
    record = _record(prefix)
    assert record["adopted"] is True and record["state"] == "complete"
    assert record["inputs"]["python"] == "3.11" and record["inputs"]["cache_dir"] == str(world.cache)
    assert "micromamba" not in record, "adopt does not know what made it and does not pretend to"
    assert (prefix / "pkgs").readlink() == world.cache / "Python" / "pkgs"
    steps = [line.split(":", 1)[0] for line in r.stderr.splitlines()]
    assert steps == ["shell", "prefix", "cache link", "standalone", "scripts", "condarc", "verify", "record"]
    # new: adopt's record, lock, activation scripts, .condarc and link; nothing changed or went away,
    # in the prefix or anywhere else
    changes = _beyond_bytecode(diff(inside, snapshot(prefix)))
    scripts = {f".mambaboot/{a}activate.{ext}" for a in ("", "de") for ext in ("sh", "fish", "ps1")}
    scripts |= {".mambaboot/vars.sh", ".mambaboot/vars.fish", ".mambaboot/vars.ps1", ".mambaboot/envvars.py"}  # the variables, kept live
    hooks = set(roothook.render(False)) | {"etc/conda", roothook.ACTIVATE_DIR, roothook.DEACTIVATE_DIR}
    assert set(changes) == {".mambaboot", ".mambaboot/record.json", ".mambaboot/lock.txt", ".condarc", "pkgs",
                            "conda-meta/state"} | scripts | hooks  # state: PYTHONNOUSERSITE, for every activation
    assert all(old is None for old, _ in changes.values())
    assert diff(before, world.outside(prefix)) == {}


def test_adopting_again_rechecks_and_keeps_the_record(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    assert world.run("adopt", str(prefix), "--cache-dir", str(world.cache), "--python", "3.11").returncode == 0
    first = _record(prefix)
    r = world.run("adopt", str(prefix), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["adoption"] == "managed"
    assert "is managed since" in r.stderr
    second = _record(prefix)
    assert second["created"] == first["created"]
    assert _without(second) == _without(first)


def test_adopting_an_environment_mambaboot_created_changes_nothing_but_the_check_time(world, channel, standin):
    assert world.create("mine", "-c", channel, "--micromamba", str(standin)).returncode == 0
    prefix = world.envs / "mine"
    first = _record(prefix)
    r = world.run("adopt", str(prefix), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["adoption"] == "managed"
    assert _without(_record(prefix), ("completed",)) == _without(first, ("completed",))


def test_a_failed_adoption_leaves_the_environment_exactly_as_it_was(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    (prefix / "pkgs").mkdir()  # an empty pkgs/ (some engines leave one) is replaced by the link
    before = snapshot(world.root)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache), "--python", "3.12")
    assert r.returncode == 7, r.stderr
    assert "expected 3.12, found 3.11.2" in r.stderr
    assert _beyond_bytecode(diff(before, snapshot(world.root))) == {}
    assert (prefix / "pkgs").is_dir() and not (prefix / "pkgs").is_symlink()


MINE = "channels:\n  - mine  # my channel\nregister_envs: true\n"  # a value of the user's: it wins


def test_adopt_appends_the_settings_a_users_condarc_lacks_and_keeps_the_rest(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    rc = prefix / ".condarc"
    rc.write_text(MINE)
    rc.chmod(0o640)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert f"condarc: added env_prompt, number_channel_notices to {rc}" in r.stderr
    text = rc.read_text()
    assert text.startswith(MINE + "# Added by mambaboot:\n") and text.count("register_envs") == 1
    assert yamlread.parse(text) == {"channels": ["mine"], "register_envs": "true", "env_prompt": "({name}) ",
                                      "number_channel_notices": "0"}
    assert stat.S_IMODE(rc.stat().st_mode) == 0o640
    assert world.run("adopt", str(prefix)).returncode == 0
    assert rc.read_text() == text, "nothing left to add"


def test_adopt_adds_the_settings_to_a_condarc_an_older_mambaboot_wrote(world, channel, standin):
    assert world.create("mine", "-c", channel, "--micromamba", str(standin)).returncode == 0
    rc = world.envs / "mine" / ".condarc"
    text = rc.read_text()
    old = text[:text.index("# the prompt")]
    rc.write_text(old)
    r = world.run("adopt", str(world.envs / "mine"))
    assert r.returncode == 0, r.stderr
    assert "condarc: added env_prompt, register_envs, number_channel_notices" in r.stderr
    assert rc.read_text().startswith(old) and yamlread.parse(rc.read_text())["register_envs"] == "false"
    assert ".condarc" in _record(world.envs / "mine")["files"]


def test_a_condarc_the_yaml_reader_cannot_read_is_left_as_it_is_with_a_warning(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    theirs = "custom_channels: &mine {a: b}\nchannel_settings: *mine\n"
    (prefix / ".condarc").write_text(theirs)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    assert (prefix / ".condarc").read_text() == theirs
    warning = next(line for line in r.stderr.splitlines() if "condarc" in line and "left as it is" in line)
    assert f"{prefix / '.condarc'} cannot be read safely (line 2, column 19: an alias (*mine)" in warning
    assert 'env_prompt: "({name}) "; register_envs: false; number_channel_notices: 0' in warning


def test_a_failed_adoption_takes_back_what_it_appended_to_a_users_condarc(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    (prefix / ".condarc").write_text(MINE)
    before = snapshot(world.root)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache), "--python", "3.12")
    assert r.returncode == 7 and "condarc: added env_prompt" in r.stderr, r.stderr
    assert _beyond_bytecode(diff(before, snapshot(world.root))) == {}


def test_create_force_never_replaces_an_adopted_environment(world, channel, standin):
    prefix = world.envs / "py"
    engine_only(world, standin, channel, prefix)
    assert world.run("adopt", str(prefix), "--cache-dir", str(world.cache)).returncode == 0
    before = snapshot(prefix)
    r = world.create("-c", channel, "--micromamba", str(standin), "--force")
    assert r.returncode == 4, r.stderr
    assert "adopted, not created" in r.stderr
    assert diff(before, snapshot(prefix)) == {}


@both_entries
@pytest.mark.parametrize("setup", ["absent", "plain-dir", "file", "link"])
def test_what_is_not_a_conda_environment_is_refused_untouched(world, setup):
    prefix = world.envs / "target"
    if setup == "plain-dir":
        prefix.mkdir()
        (prefix / "bin").mkdir()
        (prefix / "bin" / "python3").write_text("#!/bin/sh\n")
    elif setup == "file":
        prefix.write_text("a file")
    elif setup == "link":
        (world.envs / "real" / "conda-meta").mkdir(parents=True)
        prefix.symlink_to(world.envs / "real")
    before = snapshot(world.root)
    r = world.run("adopt", str(prefix), "--cache-dir", str(world.cache))
    assert r.returncode == (2 if setup == "absent" else 4), r.stderr  # absent: bad input, as for every command
    assert "Traceback" not in r.stderr
    assert diff(before, snapshot(world.root)) == {}
    if setup == "plain-dir":
        assert "no conda-meta" in r.stderr


@both_entries
def test_a_contaminated_shell_is_refused(world, channel, standin):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    before = snapshot(world.root)
    r = world.run("adopt", str(prefix), env={"CONDA_SHLVL": "1"})
    assert r.returncode == 3 and "CONDA_SHLVL=1" in r.stderr
    assert diff(before, snapshot(world.root)) == {}


@pytest.mark.parametrize("args, message", [
    (["--python", "three"], "not a version"),
    # the hand-over from a bootstrap script, which now hands over to `create`: gone, and with it an adopt
    # of a foreign environment with no snapshot to put it back by
    (["--micromamba-version-used", "2.8.1", "--micromamba-sha256-used", "0" * 64], "unrecognized arguments"),
    (["--name", "theirs", "--envs-dir", "."], "unrecognized arguments"),
    (["--package", "uv"], "unrecognized arguments"),
])
def test_bad_adopt_options_are_usage_errors(world, channel, standin, args, message):
    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    before = snapshot(world.root)
    r = world.run("adopt", str(prefix), *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert diff(before, snapshot(world.root)) == {}


def _synced_in(out: Path, prefix: Path) -> list:
    """The files of prefix that were synced, by name."""
    return sorted(name for d, name in synced(out) if d == prefix or prefix in d.parents)


def test_an_adoption_syncs_every_file_it_writes(world, channel, standin, tmp_path):
    """An environment adopt did not see made keeps every file it writes synced: there the rename
    replaces what may have been the only good copy."""
    theirs = world.envs / "theirs"
    engine_only(world, standin, channel, theirs)
    out_theirs = tmp_path / "theirs.txt"
    r = run_probed(world, out_theirs, FSYNC_PROBE, "adopt", str(theirs), "--cache-dir", str(world.cache))
    assert r.returncode == 0, r.stderr
    synced = _synced_in(out_theirs, theirs)
    assert synced.count("record.json") == 2 and {"activate.sh", "lock.txt", ".condarc"} <= set(synced), synced


def test_adopt_asked_not_to_check_the_shell_neither_checks_nor_reports_it(world, channel, standin):
    """adopt leaves the shell to its callers (move, the command), which check it themselves: it neither refuses a
    contaminated shell nor says a word about the shell (no "shell:" step, no "ignoring" warning)."""
    from mambaboot.common import host
    from mambaboot.common.report import Reporter
    from mambaboot.common.files import tempname
    from mambaboot.environment import placelock
    from mambaboot.pipeline import adopt

    class Heard(Reporter):
        def __init__(self):
            self.lines = []

        def step(self, message):
            self.lines.append(message)

        warn = step

    prefix = world.envs / "theirs"
    engine_only(world, standin, channel, prefix)
    machine = host.Host(environ={**world.env, "CONDA_SHLVL": "1"}, windows=False, subdir=host.current().subdir,
                        cwd=str(world.envs))
    heard = Heard()
    with placelock.Intent("adopt", str(prefix), steps={}, token=tempname.run_token()) as intent:  # as the command holds it
        result = adopt.adopt_prefix(str(prefix), machine, heard, cache_dir=str(world.cache), intent=intent)
    assert result.prefix == str(prefix)
    assert heard.lines and not [line for line in heard.lines if line.startswith("shell:") or "ignoring" in line]


@pytest.mark.parametrize("then", ["deleted", "rewritten"])
def test_a_put_back_keeps_and_names_a_condarc_the_user_changed_meanwhile(tmp_path, then):
    """An adopt's put-back (environment/adoptundo.py) of a prefix whose .condarc the user deleted,
    or rewrote where adopt appended nothing, while the adopt ran: the file is the user's, left as
    the user left it and named, as conda-meta/state is."""
    from mambaboot.environment import adoptundo, condarc

    (tmp_path / "conda-meta").mkdir()
    rc = tmp_path / ".condarc"
    rc.write_text("channels:\n  - conda-forge\n" if then == "deleted" else condarc.render(["conda-forge"], []))
    snap = adoptundo.take(str(tmp_path), False)
    condarc.ensure(str(tmp_path), ["conda-forge"], [])
    if then == "deleted":
        rc.unlink()
    else:
        rc.write_text("channels:\n  - mine\n")
    assert adoptundo.restore(str(tmp_path), snap, os.urandom(16).hex()) == [str(rc)]
    assert not rc.exists() if then == "deleted" else rc.read_text() == "channels:\n  - mine\n"
