"""No other Python's packages reach into an environment: a user site holding packages (what
`pip install --user pipx uv` leaves in ~/.local) is seen by no way into it: create's verification
and provisioning, its record and lock, `run`, `shell`, mambaboot's activation scripts, conda's and
mamba's own activation; deactivation gives back what the shell had. Environments made before get
it from `activate-scripts` and `adopt`. The test channel's python is 3.11: its user site is
HOME/.local/lib/python3.11/site-packages.
"""

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MAMBABOOT, _clean_environ, copy_env

SEEN = "import importlib.util as u; print('seen' if u.find_spec('usersitepkg') else 'unseen')"


def _user_site(home: Path) -> Path:
    """A user site as `pip install --user` leaves it: a module, a distribution pip installed, and a
    usercustomize that notes every interpreter that runs it (site.py imports it with the user site)."""
    site = home / ".local" / "lib" / "python3.11" / "site-packages"
    dist = site / "uvlike-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "usersitepkg.py").write_text("")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: uvlike\nVersion: 1.0\n")
    (dist / "INSTALLER").write_text("pip\n")
    (dist / "RECORD").write_text("")
    (site / "usercustomize.py").write_text(
        "import os, sys\n"
        "with open(os.path.join(os.path.expanduser('~'), 'user-site-ran'), 'a') as f:\n"
        "    f.write(repr(sys.argv) + '\\n')\n")
    return site


def _state(prefix: Path) -> dict:
    return json.loads((prefix / "conda-meta" / "state").read_text())


def _project(world, variables: str = "") -> Path:
    from tests.test_envfile import _wheel

    project = world.root / "project"
    _wheel(project / "wheels", "hello-mb", "1.0", "hello_mb", "")
    (project / "environment.yml").write_text(
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n    - --find-links ./wheels\n"
        "    - hello-mb==1.0\n" + variables)
    (project / "check.sh").write_text(f'python -c "{SEEN}" > "$HOME/post-script-saw"\n')
    return project


def _create(world, channel, standin, name, project):
    world.env["PATH"] = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)  # see test_envfile
    return world.create(name, "--file", str(project / "environment.yml"), "--post-script", str(project / "check.sh"),
                        "-c", channel, "--micromamba", str(standin))


def test_create_verifies_provisions_records_and_locks_without_the_user_site(world, channel, standin):
    _user_site(world.home)
    r = _create(world, channel, standin, "proj", _project(world))
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "proj"
    assert not (world.home / "user-site-ran").exists(), "verification or provisioning ran with the user site"
    assert (world.home / "post-script-saw").read_text() == "unseen\n"
    assert _state(prefix)["env_vars"] == {"PYTHONNOUSERSITE": "1"}
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert [p["name"] for p in record["pip_packages"]] == ["hello-mb"]
    lock = (prefix / ".mambaboot" / "lock.txt").read_text()
    assert "uvlike" not in lock and "pip-unpinned" not in lock
    site = world.home / ".local" / "lib" / "python3.11" / "site-packages"
    assert (f"user site: {site} (the user site) holds 3 entries (usercustomize.py, usersitepkg.py, "
            "uvlike-1.0.dist-info); this environment does not see it") in r.stderr, r.stderr
    assert "standalone: PYTHONNOUSERSITE=1 in conda-meta/state" in r.stderr


def test_the_records_hold_only_the_prefix_even_when_the_environment_lets_the_user_site_in(world, channel, standin):
    """An environment file may turn the user site back on (PYTHONNOUSERSITE empty): then the
    environment sees it, create says so, and still nothing of it reaches the record or the lock."""
    _user_site(world.home)
    project = _project(world, 'variables:\n  PYTHONNOUSERSITE: ""\n')
    r = _create(world, channel, standin, "open", project)
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "open"
    assert (world.home / "post-script-saw").read_text() == "seen\n", "the user's own choice holds"
    assert "this environment imports them ahead of its own packages" in r.stderr
    record = json.loads((prefix / ".mambaboot" / "record.json").read_text())
    assert [p["name"] for p in record["pip_packages"]] == ["hello-mb"]
    assert "uvlike" not in (prefix / ".mambaboot" / "lock.txt").read_text()


def _home_with_user_site(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    _user_site(home)
    return home


def test_run_and_shell_see_no_user_site(made_env, tmp_path):
    home = _home_with_user_site(tmp_path)
    env = _clean_environ(HOME=str(home), SHELL="/bin/bash")
    ran = subprocess.run([*MAMBABOOT, "run", str(made_env), "--", "python", "-c", SEEN], env=env,
                         capture_output=True, text=True, timeout=60)
    assert (ran.returncode, ran.stdout) == (0, "unseen\n"), ran.stderr
    shell = subprocess.run([*MAMBABOOT, "shell", str(made_env)], input=f'python -c "{SEEN}"\n', env=env,
                           capture_output=True, text=True, timeout=60)
    assert (shell.returncode, shell.stdout) == (0, "unseen\n"), shell.stderr


def _ways(prefix: Path, shell: str) -> dict:
    """{way: (activate, deactivate)} in a POSIX shell or fish."""
    q = shlex.quote
    conda, mamba, p = q(str(prefix / "bin" / "conda")), q(str(prefix / "bin" / "mamba")), q(str(prefix))
    if shell == "fish":
        return {"mambaboot": (f"source {q(str(prefix / '.mambaboot' / 'activate.fish'))}",
                              f"source {q(str(prefix / '.mambaboot' / 'deactivate.fish'))}"),
                "conda": (f"{conda} shell.fish activate {p} | source", f"{conda} shell.fish deactivate | source"),
                "mamba": (f"{mamba} shell activate -s fish {p} | source", f"{mamba} shell deactivate -s fish | source")}
    return {"mambaboot": (f"MAMBABOOT_ENV={p}; . \"$MAMBABOOT_ENV/.mambaboot/activate.sh\"; unset MAMBABOOT_ENV",
                          f". {q(str(prefix / '.mambaboot' / 'deactivate.sh'))}"),
            "conda": (f'eval "$({conda} shell.{shell} activate {p})"', f'eval "$({conda} shell.{shell} deactivate)"'),
            "mamba": (f'eval "$({mamba} shell activate -s {shell} {p})"',
                      f'eval "$({mamba} shell deactivate -s {shell})"')}


@pytest.fixture(scope="module")
def plain_env(tmp_path_factory, channel, standin) -> Path:
    """An environment whose path has no space: the test channel's conda and mamba scripts then start
    by their #! line from a shell with nothing activated (in made_env's they need its python on PATH)."""
    root = tmp_path_factory.mktemp("plain")
    prefix = root / "envs" / "plain"
    proc = subprocess.run([*MAMBABOOT, "create", "-q", "--prefix", str(prefix), "--cache-dir", str(root / "cache"),
                           "-c", channel, "--micromamba", str(standin)],
                          env=_clean_environ(HOME=str(root), TMPDIR=str(root)), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return prefix


SHELLS = {"bash": ["bash", "--noprofile", "--norc"], "dash": ["dash"], "zsh": ["zsh", "-f"],
          "fish": ["fish", "--no-config", "--private"]}


@pytest.mark.parametrize("caller", [None, "keep"], ids=["unset", "set"])
@pytest.mark.parametrize("shell", list(SHELLS))
def test_every_activation_turns_the_user_site_off_and_deactivation_gives_back_what_was_there(
        plain_env, tmp_path, shell, caller):
    home = _home_with_user_site(tmp_path)
    fish = shell == "fish"
    show = ("if set -q PYTHONNOUSERSITE; echo $PYTHONNOUSERSITE; else; echo unset; end" if fish
            else 'echo "${PYTHONNOUSERSITE-unset}"')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **({"PYTHONNOUSERSITE": caller} if caller else {})}
    found, expected = {}, {}
    for way, (activate, deactivate) in _ways(plain_env, shell).items():  # each in a shell of its own
        lines = [activate, f'python -c "{SEEN}"', show, deactivate, show]
        proc = subprocess.run([*SHELLS[shell], "-c", "\n".join(lines)], env=env, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        found[way] = (proc.returncode, proc.stdout.splitlines(), proc.stderr)
        # conda's POSIX "unset" is `export NAME=''` (PosixActivator.unset_var_tmpl, conda/activate.py
        # 26.7.1), which Python reads as not set.
        gone = "" if way == "conda" and not fish else "unset"
        # a value the shell had is overwritten, and conda and mamba say so (conda/activate.py
        # _build_activate_stack; libmamba activation.cpp, LOG_WARNING); mambaboot's scripts do not
        said = {"conda": "WARNING: overwriting environment variables set in the machine\n"
                         "overwriting variable ['PYTHONNOUSERSITE']\n",
                "mamba": "warning  libmamba WARNING: overwriting environment variables set in the machine\n"
                         "warning  libmamba Overwriting variables: PYTHONNOUSERSITE\n"}.get(way, "") if caller else ""
        expected[way] = (0, ["unseen", "1", caller or gone], said)
    assert found == expected


@pytest.mark.parametrize("command", ["activate-scripts", "adopt"])
def test_an_environment_made_earlier_gets_it_from_activate_scripts_and_adopt(made_env, tmp_path, command):
    home = _home_with_user_site(tmp_path)
    prefix = copy_env(made_env, tmp_path / "earlier")
    (prefix / "conda-meta" / "state").unlink()  # as every environment made before this was kept
    env = _clean_environ(HOME=str(home), TMPDIR=str(tmp_path))

    def seen() -> str:
        proc = subprocess.run([*MAMBABOOT, "run", str(prefix), "--", "python", "-c", SEEN], env=env,
                              capture_output=True, text=True, timeout=60)
        return proc.stdout.strip()

    assert seen() == "seen"
    proc = subprocess.run([*MAMBABOOT, command, str(prefix)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _state(prefix)["env_vars"] == {"PYTHONNOUSERSITE": "1"}
    assert seen() == "unseen"
    activated = subprocess.run(["bash", "--noprofile", "--norc", "-c",
                                f". {shlex.quote(str(prefix / '.mambaboot' / 'activate.sh'))}\npython -c \"{SEEN}\""],
                               env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, capture_output=True, text=True,
                               timeout=60)
    assert activated.stdout == "unseen\n", activated.stderr


def test_doctor_says_which_environments_see_the_user_site(made_env, tmp_path):
    home = _home_with_user_site(tmp_path)
    earlier = copy_env(made_env, tmp_path / "earlier")
    (earlier / "conda-meta" / "state").unlink()
    proc = subprocess.run([*MAMBABOOT, "doctor", str(made_env), str(earlier)], env=_clean_environ(HOME=str(home)),
                          capture_output=True, text=True, timeout=60)
    assert f"ok: {made_env}: sees no user site (PYTHONNOUSERSITE=1 in its conda-meta/state" in proc.stdout
    assert f"warning: {earlier}: sees the user site's packages when activated" in proc.stdout
    assert f"mambaboot activate-scripts {earlier}" in proc.stdout
