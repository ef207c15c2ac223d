"""No code of the user's folders runs in a Python mambaboot starts: pip (its own Python's for
`lock`, the environment's for `create -f`, `create --from-lock` and `provision`), the check of
what pip installed and the verification run isolated from the folder mambaboot runs in and from
the environment file's, which is pip's working directory and nothing more."""

import hashlib

import pytest

# What a Python that put the folder first on sys.path would import from it: pip for `-m pip`,
# json and importlib for the check of what pip installed, site and sitecustomize at start-up.
PLANTED = ("pip/__init__.py", "pip/__main__.py", "pip.py", "json.py", "importlib/__init__.py", "site.py",
           "sitecustomize.py", "usercustomize.py")


def _plant(folder, ran) -> None:
    for rel in PLANTED:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(ran)!r}, 'a').write({str(path)!r} + '\\n')\n")


@pytest.fixture
def project(world):
    """An environment file whose pip section installs a local wheel, relative to the file; the
    planted modules in the file's folder and in the folder the runs start in."""
    from tests.test_envfile import _wheel

    folder, here, ran = world.root / "project", world.root / "here", world.root / "ran.txt"
    wheel = _wheel(folder / "wheels", "hello-mb", "1.0", "hello_mb", "GREETING = 'hello'\n")
    (folder / "environment.yml").write_text(
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n    - --find-links ./wheels\n"
        "    - hello-mb==1.0\n")
    here.mkdir()
    for where in (folder, here):
        _plant(where, ran)
    # pip's user agent runs `rustc --version`; a rustup proxy on PATH writes ~/.rustup (test_envfile)
    world.env["PATH"] = ":".join(p for p in world.env["PATH"].split(":") if ".cargo" not in p)
    return folder, here, ran, wheel


def _ran(ran) -> list:
    return ran.read_text().splitlines() if ran.exists() else []


def test_lock_of_a_pip_section_runs_nothing_of_the_files_folder_or_the_working_one(world, channel, standin, project):
    folder, here, ran, wheel = project
    r = world.run("lock", "--cache-dir", str(world.cache), "--micromamba", str(standin), "-c", channel,
                  "-f", str(folder / "environment.yml"), cwd=here)
    assert _ran(ran) == [] and r.returncode == 0, (_ran(ran), r.stderr)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in r.stdout, "pip read the section's relative path"


def test_create_from_lock_and_provision_run_nothing_of_the_files_folder_or_the_working_one(
        world, channel, standin, project):
    """create -f (pip, the check of what it installed, the verification), create --from-lock of
    the lock it wrote (the lock in the planted folder), and provision continuing a pip section
    that failed, each started in the planted folder."""
    folder, here, ran, wheel = project
    r = world.create("made", "--envs-dir", str(world.envs), "-f", str(folder / "environment.yml"), "-c", channel, "--micromamba", str(standin),
                     cwd=here)
    assert _ran(ran) == [] and r.returncode == 0, (_ran(ran), r.stderr)
    lock = folder / "made.lock"
    lock.write_text((world.envs / "made" / ".mambaboot" / "lock.txt").read_text())
    assert "# pip: hello-mb==1.0" in lock.read_text()
    r = world.create("again", "--envs-dir", str(world.envs), "--from-lock", str(lock), "--micromamba", str(standin),
                     cwd=here)
    assert _ran(ran) == [] and r.returncode == 0, (_ran(ran), r.stderr)

    wheel.rename(wheel.with_name("away.whl"))  # the section's wheel missing: pip fails, provisioning waits
    r = world.create("later", "--envs-dir", str(world.envs), "-f", str(folder / "environment.yml"), "-c", channel, "--micromamba", str(standin),
                     cwd=here)
    assert _ran(ran) == [] and r.returncode == 8, (_ran(ran), r.stderr)
    wheel.with_name("away.whl").rename(wheel)
    r = world.run("provision", str(world.envs / "later"), "--cache-dir", str(world.cache), cwd=here)
    assert _ran(ran) == [] and r.returncode == 0, (_ran(ran), r.stderr)
    assert (world.envs / "later" / "lib" / "python3.11" / "site-packages" / "hello_mb.py").is_file()
