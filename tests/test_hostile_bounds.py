"""Hostile input meets a bound: every wait ends, every loop over what a file or a server gives is
linear or capped, every number and host is checked before it is used, no password is printed,
nothing made is writable by every user, and what is read from disk never makes a line of its own.
Each case runs through the command; a run that would hang is ended by the test's own timeout
(BOUND), which fails it."""

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.server import AssetServer, Fault
from tests.support.snapshot import diff, snapshot

HOSTILE = "hostile inputs: no traceback, nothing touched"
# what each run here may take on a loaded machine; the ones that hung before never ended at all
BOUND = 120
SECRET = "hunter2-Zq9"
ENV_FILE_LIMIT = 1 << 20  # as docs/reference.md states them (common/untrusted.py ENV_FILE,
MOST_UNKNOWN_KEYS = 100  # pipeline/envfile.py MAX_UNKNOWN_KEYS)


def _run(world, *args, env=None, umask=None, timeout=BOUND):
    proc = subprocess.run([*world.command, *args], env={**world.env, **(env or {})}, cwd=str(world.envs),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout,
                          preexec_fn=None if umask is None else (lambda: os.umask(umask)))
    return proc


def _held(reliability, ok, detail):
    reliability.record(HOSTILE, ok)
    assert ok, detail


@pytest.fixture
def mirror(fault_standin):
    with AssetServer() as server:
        server.add("/mm", fault_standin.read_bytes())
        server.add("/mm.sha256", hashlib.sha256(fault_standin.read_bytes()).hexdigest().encode())
        yield server


# -- an environment file at its size limit ------------------------------------------------------


def _env_file(path: Path, keys: int, limit: int) -> Path:
    """dependencies, then distinct keys conda does not know, up to limit bytes."""
    lines, size = ["dependencies: [python]\n"], 23
    for n in range(keys):
        line = f"k{n:07d}: 1\n"
        if size + len(line) > limit:
            break
        lines.append(line)
        size += len(line)
    path.write_text("".join(lines))
    return path


def test_an_environment_file_of_keys_at_its_size_limit_ends_in_a_refusal(world, reliability, channel, standin):
    """1 MiB of keys conda does not know (~87,000): refused naming the count, read once (each key
    was held against the known ones with a set rebuilt per key: hours at this size)."""
    path = _env_file(world.root / "environment.yml", 10 ** 7, ENV_FILE_LIMIT)
    before = snapshot(world.root)
    r = _run(world, "create", "-f", str(path), "--dry-run", "-c", channel, "--micromamba", str(standin))
    ok = r.returncode == 2 and "keys conda does not know ('k0000000', 'k0000001', 'k0000002', ...): not an " \
        "environment file" in r.stderr and diff(before, snapshot(world.root)) == {}
    _held(reliability, ok, (r.returncode, r.stderr[-500:]))
    bigger = path.with_name("bigger.yml")
    bigger.write_bytes(path.read_bytes() + b"x" * 64)
    r = _run(world, "create", "-f", str(bigger), "--dry-run", "-c", channel, "--micromamba", str(standin))
    _held(reliability, r.returncode == 2 and "is bigger than 1 MiB" in r.stderr, r.stderr)


def test_the_most_unknown_keys_an_environment_file_may_hold_are_a_warning(world, reliability, channel, standin):
    path = _env_file(world.root / "environment.yml", MOST_UNKNOWN_KEYS, ENV_FILE_LIMIT)
    r = _run(world, "create", "-f", str(path), "--dry-run", "-c", channel, "--micromamba", str(standin))
    ok = r.returncode == 0 and "keys conda does not know: k0000000, " in r.stderr
    _held(reliability, ok, (r.returncode, r.stderr[-500:]))


# -- every wait ends ----------------------------------------------------------------------------


def test_headers_sent_a_byte_at_a_time_end_at_the_download_deadline(world, reliability, channel, mirror):
    """Each read gets a byte long before MAMBABOOT_HTTP_TIMEOUT, and the headers never end: the
    deadline covers the status line and the headers as it covers the body."""
    mirror.faults("/mm", [Fault.slow_headers()])
    r = _run(world, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba-url", mirror.url + "/mm",
             env={"MAMBABOOT_HTTP_DEADLINE": "1", "MAMBABOOT_HTTP_TIMEOUT": "3", "MAMBABOOT_HTTP_ATTEMPTS": "1"})
    ok = r.returncode == 5 and "took longer than 1 seconds (MAMBABOOT_HTTP_DEADLINE); nothing was kept" in r.stderr
    _held(reliability, ok and not (world.envs / "py").exists(), (r.returncode, r.stderr))


@pytest.mark.parametrize("args", [["remove", "/proc/self", "-y"], ["adopt", "/proc/self"],
                                  ["pack", "/proc/self", "-o", "{root}/out.tar.gz"], ["create", "-p", "/proc/self/x"]],
                         ids=["remove", "adopt", "pack", "create"])
def test_a_lock_where_no_file_can_be_made_is_refused_naming_it(world, reliability, channel, standin, args):
    """Under /proc, O_CREAT answers ENOENT, as for a directory taken away meanwhile: tried a bounded
    number of times, then refused naming the lock file (it was tried for ever, at full CPU)."""
    args = [a.replace("{root}", str(world.root)) for a in args]
    if args[0] == "create":
        args += ["--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)]
    r = _run(world, *args)
    ok = r.returncode == 4 and "mambaboot: error: cannot make the lock file /proc/" in r.stderr \
        and "after 100 tries" in r.stderr
    _held(reliability, ok, (r.returncode, r.stderr))


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_file_url_naming_a_fifo_or_a_device_is_refused(world, reliability, channel, kind):
    """urllib's file handler opens what the path names: a fifo blocks it for ever, /dev/zero never
    ends. Refused as `--micromamba PATH` refuses them (exit 5), before anything is opened."""
    if kind == "fifo":
        path = world.root / "mm-fifo"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    r = _run(world, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba-url",
             path.as_uri(), "--micromamba-sha256", "0" * 64)
    ok = r.returncode == 5 and f"names a {kind}, not a regular file; nothing was downloaded" in r.stderr
    _held(reliability, ok and not (world.envs / "py").exists(), (r.returncode, r.stderr))


# -- numbers and hosts --------------------------------------------------------------------------


@pytest.mark.parametrize("name, value", [("MAMBABOOT_HTTP_TIMEOUT", "99999999999"),
                                         ("MAMBABOOT_HTTP_BACKOFF", "99999999999"),
                                         ("MAMBABOOT_HTTP_DEADLINE", "1e300"),
                                         ("MAMBABOOT_HTTP_ATTEMPTS", "99999999999999999999"),
                                         ("MAMBABOOT_HTTP_MAX_BYTES", "99999999999999999999999")])
def test_a_download_setting_past_what_can_be_used_is_a_usage_error(world, reliability, channel, mirror, name, value):
    """A timeout too large for a socket's timeval, a backoff too long for a sleep were exit 1
    (OverflowError); each setting has a ceiling, said with the refusal."""
    mirror.faults("/mm", [Fault.status(503)])  # a retry: the backoff is slept
    r = _run(world, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba-url", mirror.url + "/mm",
             env={"MAMBABOOT_HTTP_ATTEMPTS": "2", name: value})
    ok = r.returncode == 2 and f"mambaboot: error: {name}={value!r} is not " in r.stderr and " to " in r.stderr
    _held(reliability, ok, (r.returncode, r.stderr))


HOSTS = ["mirror..example.com", ".example.com", "x" * 64 + ".example.com"]


@pytest.mark.parametrize("host", HOSTS, ids=["empty part", "leading dot", "64 characters"])
@pytest.mark.parametrize("where", ["--micromamba-url", "MAMBABOOT_RELEASES_URL", "HTTPS_PROXY", "a redirect"])
def test_a_host_idna_cannot_encode_is_refused_before_anything_is_sent(world, reliability, channel, standin,
                                                                      mirror, where, host):
    """A host with an empty part or a part over 63 characters was UnicodeError from the "idna"
    codec as the socket layer resolved it (exit 1): held to the one URL check, exit 2 where the
    user gave it, 5 where a server sent it."""
    url = f"https://{host}/micromamba"
    env, args = {}, ["--cache-dir", str(world.cache), "-c", channel]
    if where == "--micromamba-url":
        args += ["--micromamba-url", url, "--micromamba-sha256", "0" * 64]
    elif where == "MAMBABOOT_RELEASES_URL":
        env = {where: url}
    elif where == "HTTPS_PROXY":
        env, args = {where: f"http://{host}:3128"}, args + ["--micromamba-url", mirror.url + "/mm"]
    else:
        mirror.faults("/mm", [Fault.redirect(url)])
        args += ["--micromamba-url", mirror.url + "/mm"]
    r = _run(world, "create", *args, env=env)
    said = f"its host {host!r} has an empty part between dots, or one longer than 63 characters"
    ok = r.returncode == (5 if where == "a redirect" else 2) and said in r.stderr and "unexpected" not in r.stderr
    _held(reliability, ok and not (world.envs / "py").exists(), (r.returncode, r.stderr))


# -- no password printed ------------------------------------------------------------------------


def _url(where: str, broken: bool) -> str:
    """A URL with SECRET as its password; broken: one urllib cannot read (a bad port)."""
    return f"https://user:{SECRET}@mirror.example.com{':99999' if broken else ''}/conda-forge"


SOURCES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "MAMBA_CHANNEL_ALIAS",
           "MAMBABOOT_RELEASES_URL", "MAMBABOOT_CHANNELS", "--micromamba-url", "--channel", "proxy_servers",
           "channel_alias", "environment file channels"]


@pytest.mark.parametrize("broken", [False, True], ids=["readable", "unreadable"])
@pytest.mark.parametrize("where", SOURCES)
def test_no_password_is_printed_from_any_url_mambaboot_reads(world, reliability, channel, standin, where, broken):
    """A password in each variable, option and file mambaboot reads a URL from: in no line of
    stdout or stderr, as it is used (a dry run, its JSON) or refused (a URL urllib cannot read)."""
    url = _url(where, broken)
    env, args = {}, ["--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin)]
    if where in ("--micromamba-url", "--channel"):
        args = ["--cache-dir", str(world.cache), where, url] + (
            ["-c", channel, "--micromamba-sha256", "0" * 64] if where == "--micromamba-url" else
            ["--micromamba", str(standin)])
    elif where in ("proxy_servers", "channel_alias"):
        (world.home / ".condarc").write_text(f"proxy_servers:\n  https: '{url}'\n" if where == "proxy_servers"
                                             else f"channel_alias: '{url}'\n")
    elif where == "environment file channels":
        (world.root / "environment.yml").write_text(f"channels: ['{url}']\ndependencies: [python]\n")
        args += ["-f", str(world.root / "environment.yml")]
    else:
        env = {where: url}
    outputs = []
    # a dry run, its JSON, and (for a URL urllib reads) the create itself, which the engine's
    # output and its failure go through
    for extra in (["--dry-run", "-v"], ["--dry-run", "--json"], *([] if broken else [["-v"]])):
        r = _run(world, "create", *args, *extra, env=env)
        outputs.append((r.returncode, r.stdout + r.stderr))
    leaked = [(code, text) for code, text in outputs if SECRET in text or "Traceback" in text]
    said = all("***@mirror.example.com" in text or code == 0 for code, text in outputs)
    _held(reliability, not leaked and said, leaked or outputs)


def test_a_channel_token_is_never_shown_by_a_dry_run_or_its_json(world, channel, standin):
    """anaconda.org's `/t/<token>/` where libmamba's CondaURL reads one (the path's first segment:
    conda_url.cpp token_and_prefix_len) is hidden as a password is; a folder named `t` of a local
    channel's path is a folder, shown as it is."""
    import shutil
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    local = world.root / "t" / "tk-dir-Zq9" / "chan"
    shutil.copytree(url2pathname(urlsplit(channel).path), local)
    args = ["create", "dry", "--cache-dir", str(world.cache), "-c", "https://mirror.example.invalid/t/tk-dry-Zq9/chan",
            "-c", local.as_uri(), "--micromamba", str(standin)]
    for extra in (["--dry-run", "-v"], ["--dry-run", "--json"]):
        r = _run(world, *args, *extra)
        assert r.returncode == 0, r.stderr
        assert "tk-dry-Zq9" not in r.stdout + r.stderr and "/t/***/chan" in r.stdout, r.stdout + r.stderr
        assert local.as_uri() in r.stdout, r.stdout


# -- nothing made is writable by everyone -------------------------------------------------------


def _writable_by_all(root: Path, skip=()) -> list:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            if any(path == s or s in path.parents for s in skip):
                continue
            st = path.lstat()
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o002:
                found.append(f"{path}: {stat.filemode(st.st_mode)}")
    return found


def test_nothing_mambaboot_makes_is_writable_by_everyone_under_umask_000(world, reliability, channel, standin, tmp_path):
    """The environment's directory, .mambaboot/ and every file in it, the lock files beside it and
    in the cache, the cache's own directories: none world-writable, whatever the umask. What the
    engine itself writes into the environment (its packages' files) is the engine's."""
    r = _run(world, "create", "--cache-dir", str(world.cache), "-c", channel, "--micromamba", str(standin), umask=0)
    assert r.returncode == 0, r.stderr
    prefix = world.envs / "py"
    engine_made = [p for p in prefix.iterdir() if p.name != ".mambaboot"]
    found = _writable_by_all(world.envs, skip=engine_made) + _writable_by_all(world.cache, skip=[world.cache / "Python" / "pkgs"])
    made = [prefix, prefix / ".mambaboot", world.cache]
    found += [f"{p}: {stat.filemode(p.stat().st_mode)}" for p in made if p.stat().st_mode & 0o002]
    _held(reliability, found == [], found)


# -- doctor PREFIX on what is no environment ----------------------------------------------------


@pytest.mark.parametrize("what", ["a regular file", "the envs root", "a device"])
def test_doctor_on_a_prefix_that_is_no_environment_is_an_error_naming_it(world, reliability, what):
    if what == "a regular file":
        target, said = world.root / "notes.txt", "a regular file"
        target.write_text("not an environment\n")
    elif what == "the envs root":
        (world.envs / "some-env").mkdir()
        target, said = world.envs, "a directory with no conda-meta/ in it"
    else:
        target, said = Path("/dev/null"), "a device"
    r = _run(world, "doctor", str(target), env={"PATH": "/usr/bin:/bin"})
    ok = r.returncode == 11 and f"error: {target} is {said}, not an environment" in r.stdout
    j = _run(world, "doctor", str(target), "--json", env={"PATH": "/usr/bin:/bin"})
    found = [f for f in json.loads(j.stdout)["findings"] if f["check"] == "prefix"]
    ok = ok and j.returncode == 11 and [f["severity"] for f in found] == ["error"]
    _held(reliability, ok, (r.returncode, r.stdout, r.stderr))


# -- what is read from disk makes no line of its own --------------------------------------------


def test_a_newline_inside_an_intent_is_shown_escaped_by_list_and_doctor(world, reliability):
    """A lock file's intent (what a killed run left) is read from disk: its words are shown with
    every control character escaped, so a raw newline in one fakes no line."""
    from mambaboot.common.files import fsops
    from mambaboot.environment import placelock

    fake = "create\nerror: FAKE LINE"
    body = {"tool": placelock.TOOL, "operation": fake, "stage": "staging\r\nwarning: FAKE TOO", "pid": 1}
    Path(fsops.place_lock(str(world.envs / "py"))).write_text(json.dumps(body))
    lines = []
    for args in (["list", "--cache-dir", str(world.cache)], ["doctor"]):
        r = _run(world, *args, env={"PATH": "/usr/bin:/bin"})
        assert r.returncode in (0, 11) and "Traceback" not in r.stderr, r.stderr
        lines += (r.stdout + r.stderr).splitlines()
    faked = [line for line in lines if "FAKE" in line and not line.lstrip().startswith(("unfinished:", "warning:"))]
    escaped = [line for line in lines if "create\\nerror: FAKE LINE" in line]
    _held(reliability, faked == [] and len(escaped) == 2, lines)


# -- lock -o DIR ----------------------------------------------------------------------------------


def test_lock_to_a_directory_is_a_usage_error(world, reliability, channel, standin):
    before = snapshot(world.root)
    r = _run(world, "lock", "-o", str(world.root), "--cache-dir", str(world.cache), "-c", channel,
             "--micromamba", str(standin))
    ok = r.returncode == 2 and f"-o {world.root}: that is a directory; name the file to write" in r.stderr
    _held(reliability, ok and diff(before, snapshot(world.root)) == {}, (r.returncode, r.stderr))
