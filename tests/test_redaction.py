"""A URL's password and token are hidden where the URL is written, read as a URL there, and
nowhere else (docs/reliability.md, "What leaves mambaboot"): a password that is also a word
(`linux`, `envs`), a digest's digits or a folder's name changes no other byte of a lock, of
--json output or of a bill of materials, and an advised command names exactly its path."""

import hashlib
import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import copy_env
from tests.support.server import AssetServer

FORMATS = (("explicit", "lock.txt"), ("conda-lock", "team-lock.yml"), ("cyclonedx", "bom.cdx.json"))


def _lock(world, *args, env=None):
    r = world.run("lock", "--cache-dir", str(world.cache), *args, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _first_sha256(text: str) -> str:
    return re.search(r"#([0-9a-f]{64})$", text, re.M).group(1)


def test_proxy_passwords_that_are_also_text_change_no_byte_of_a_lock_json_or_bill_of_materials(world, channel, standin):
    """A proxy's password read by the run (each proxy variable's) that is a platform's word, a
    folder's name on every path shown, and a piece of a package's digest: every format of `lock`
    and `create --dry-run --json` are the bytes a run without those proxies writes."""
    specs = ("--micromamba", str(standin), "--python", "3.11", "-c", channel)
    plain = {fmt: _lock(world, *specs, "--format", fmt) for fmt, _ in FORMATS}
    dry = ("-c", channel, "--micromamba", str(standin), "--dry-run", "--json")
    plain_json = world.create(*dry)
    assert plain_json.returncode == 0, plain_json.stderr
    piece = _first_sha256(plain["explicit"])[20:26]
    proxies = {"HTTP_PROXY": "http://me:linux@127.0.0.1:9", "HTTPS_PROXY": "http://me:world@127.0.0.1:9",
               "ALL_PROXY": f"http://me:{piece}@127.0.0.1:9"}
    assert piece in plain["explicit"] and "linux" in plain["explicit"] and "/world/" in plain_json.stdout
    for fmt, _ in FORMATS:
        assert _lock(world, *specs, "--format", fmt, env=proxies) == plain[fmt], fmt
    with_proxies = world.create(*dry, env=proxies)
    assert with_proxies.returncode == 0, with_proxies.stderr
    assert with_proxies.stdout == plain_json.stdout


def _private(made_env, dest, userinfo: str):
    """A copy of made_env at dest whose packages' URLs name a private channel, with userinfo (and a
    token) when given."""
    prefix = copy_env(made_env, dest)
    for meta in (prefix / "conda-meta").glob("*.json"):
        rec = json.loads(meta.read_text())
        channel = f"https://{userinfo}private.example.invalid" + ("/t/tk-linux9" if userinfo else "")
        rec["url"] = rec["url"].replace("file://", channel, 1)
        meta.write_text(json.dumps(rec))
    return prefix


def test_a_channel_password_that_is_also_text_changes_no_byte_of_a_lock_or_bill_of_materials(world, made_env, standin):
    """An environment installed from a private channel whose password is `linux` and a piece of a
    digest: its lock in each format, on standard output and in a file, is byte for byte the lock of
    the same environment installed without them (conda's `conda list --explicit` drops the
    userinfo and token only: conda/common/url.py remove_auth, split_anaconda_token)."""
    piece = _first_sha256((made_env / ".mambaboot" / "lock.txt").read_text())[8:14]
    prefix, locks = world.root / "linux" / "env", []
    for userinfo in ("", f"alice:linux{piece}@"):  # one place: a conda-lock file names it among its sources
        _private(made_env, prefix, userinfo)
        shown = [_lock(world, "--micromamba", str(standin), str(prefix), "--format", fmt) for fmt, _ in FORMATS]
        for _, name in FORMATS:
            _lock(world, "--micromamba", str(standin), str(prefix), "-o", str(world.root / name))
        locks.append((shown, [(world.root / name).read_text() for _, name in FORMATS]))
        shutil.rmtree(prefix)
    assert locks[0] == locks[1]
    assert "linux-64" in locks[1][0][0] and piece in locks[1][0][0]
    assert not [text for text in locks[1][0] + locks[1][1] if "tk-linux9" in text or "alice" in text]


def test_a_received_locks_password_changes_no_path_of_the_dry_run(world, made_env, standin):
    """A lock whose URLs read `https://u:envs@host/...`: the dry run's text and JSON name every
    path as it is (the prefix's `envs` among them), each URL with `***@` where its userinfo was."""
    text = (made_env / ".mambaboot" / "lock.txt").read_text()
    received = world.root / "received.txt"
    for extra in (["-v"], ["--json"]):
        runs = []
        for userinfo in ("", "u:envs@"):
            received.write_text(text.replace("file://", f"https://{userinfo}mirror.example.invalid"))
            runs.append(world.create("--from-lock", str(received), "--micromamba", str(standin), "--dry-run", *extra))
        assert runs[0].returncode == runs[1].returncode == 0, runs[1].stderr
        assert ":envs@" not in runs[1].stdout + runs[1].stderr
        assert runs[1].stdout.replace("***@", "") == runs[0].stdout
        assert "***@mirror.example.invalid" in runs[1].stdout or extra == ["-v"]
        assert str(world.envs / "py") in runs[1].stdout


def test_micromamba_url_password_is_sent_to_its_host_and_changes_no_byte_of_the_lock(world, fault_standin, channel):
    """`--micromamba-url https://user:PASSWORD@host/...`: the password is sent to that host as
    Basic authentication, as curl sends it, and the lock is the one a mirror with no password gives."""
    body = fault_standin.read_bytes()
    texts = []
    for credentials in (None, ("me", "linux")):
        with AssetServer(credentials=credentials) as server:
            server.add("/mm", body)
            server.add("/mm.sha256", hashlib.sha256(body).hexdigest().encode())
            url = server.url.replace("://", "://me:linux@", 1) if credentials else server.url
            texts.append(_lock(world, "--micromamba-url", url + "/mm", "--python", "3.11", "-c", channel))
            assert server.refused == [] and server.count("GET", "/mm") == 1
    assert texts[0] == texts[1] and "linux-64" in texts[1]


def _words(shell: str, command: str) -> list:
    """The words shell makes of command, its first word (the program) replaced by printf."""
    program, _, rest = command.partition(" ")
    done = subprocess.run([shell, "-c", f"printf '%s\\n' {rest}"], capture_output=True, text=True, check=True)
    return [program, *done.stdout.splitlines()]


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_an_advised_command_names_exactly_its_path_whatever_a_password_holds(world, made_env, channel, standin, shell):
    """A create refused at `.../ws-adv9pw/envs/X`, run with a channel whose password is `adv9pw`:
    the command it advises, typed in the shell, acts on exactly that path (a password's text
    rewritten into `***` would make it a glob, `ws-***`, which matches other folders)."""
    if not shutil.which(shell):
        pytest.fail(f"{shell} is not installed (tools/test.py installs it)")
    prefix = copy_env(made_env, world.root / "ws-adv9pw" / "envs" / "X")
    (world.root / "ws-b" / "envs" / "X").mkdir(parents=True)
    record = prefix / ".mambaboot" / "record.json"
    record.write_text(json.dumps(dict(json.loads(record.read_text()), adopted=True)))
    r = world.create("-p", str(prefix), "--force", "-c", "https://me:adv9pw@mirror.example.invalid/chan",
                     "-c", channel, "--micromamba", str(standin))
    assert r.returncode == 4 and "adopted, not created" in r.stderr, r.stderr
    advised = re.search(r"\(`(mambaboot remove --force .*?)` first, if you mean to\)", r.stderr).group(1)
    assert _words(shell, advised) == ["mambaboot", "remove", "--force", str(prefix)], r.stderr
