"""Provisioning: what runs once an environment has verified, inside it, activated.

First the environment file's `pip:` section (with the environment's own pip), or a lock's
pip packages, then the user's post-scripts, in order: their "build and operational phase". Each child starts from
the clean baseline with the environment activated, so `python`, `conda` and `mamba` are the
environment's own. A failure leaves the environment in place; its record says
`provisioning-failed` and which step failed, and `mambaboot provision` continues from there.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import shutil
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

from mambaboot.common import quoting, untrusted, urlrule, winsys

from mambaboot.common.files import confined, fsops, tempname, workdir
from mambaboot.common.errors import ProvisionError, UsageError
from mambaboot.common.report import Reporter
from mambaboot.common.values import value
from mambaboot.engine import child
from mambaboot.environment import condameta, lockfile, record
from mambaboot.pipeline import verify
from mambaboot.common import isolation
from mambaboot.shell.activation import environ as activation

PIP_REQUIREMENTS = "pip-requirements.txt"
PIP_REPORT = "pip-report.json"
# pip's `install --report` (pip >= 22.2): JSON whose "install" items carry "metadata" (name,
# version) and "download_info", a PEP 610 direct_url: "url" plus "archive_info" (with
# "hashes", or the older "hash" "sha256=..."), "dir_info" (a directory, editable or not)
# or "vcs_info" (pip/_internal/models/installation_report.py, direct_url.py).
WHEELHOUSE = "wheelhouse"  # CACHE/pip/wheelhouse/<sha256>/<file>: local artefacts kept for --from-lock
PIP_DOWNLOAD = "download"  # the kind of pip download's work directory, in CACHE/tmp
# What pip installed into the environment itself: the distributions on sys.path inside the
# environment's own prefix, never the rest of sys.path (a user site, when anything lets it in).
# sys.path, not sysconfig's purelib: a distribution's patched sysconfig may name a directory the
# interpreter does not import from (Debian's python: local/lib/pythonX.Y/dist-packages).
_PIP_PROBE = (
    "import importlib.metadata as m, json, os, sys; "
    "root = os.path.join(os.path.normcase(os.path.realpath(sys.prefix)), ''); "
    "own = [p for p in sys.path if p and os.path.normcase(os.path.realpath(p)).startswith(root)]; "
    "print(json.dumps(sorted(({'name': d.metadata['Name'], 'version': d.version} for d in m.distributions(path=own)"
    " if (d.read_text('INSTALLER') or '').strip() == 'pip'), key=lambda p: p['name'].lower())))"
)


@value
class Steps:
    pip: tuple[str, ...] = ()  # requirement lines still to install
    pip_dir: str | None = None  # where pip runs: relative paths in the lines are relative to it
    scripts: tuple[str, ...] = ()
    locked: tuple[lockfile.PipEntry, ...] = ()  # a lock's pip packages: exactly these artefacts

    def __bool__(self) -> bool:
        return bool(self.pip or self.locked or self.scripts)


def interpreter(script: str, windows: bool, environ: Mapping[str, str]) -> list[str]:
    """The child shell that matches the script, as an argument list ending with the script."""
    ext = os.path.splitext(script)[1].lower()
    if ext in (".bat", ".cmd"):
        return winsys.command_processor(environ, windows) + ["/d", "/c", script]
    if ext == ".ps1":
        return ["powershell" if windows else "pwsh", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", script]
    return ["sh", script]


def _path_of(env: Mapping[str, str]) -> str:
    return next((v for k, v in env.items() if k.upper() == "PATH"), "")


def check_scripts(scripts: Sequence[str], windows: bool, environ: Mapping[str, str]) -> None:
    """Refuse, before anything is created, scripts that are missing or have no shell to run them."""
    search = _path_of(isolation.baseline(environ, windows))
    for script in scripts:
        if not os.path.isfile(script):
            raise UsageError(f"--post-script {script}: no such file")
        shell = interpreter(script, windows, environ)[0]
        if shutil.which(shell, path=search) is None:
            raise UsageError(f"--post-script {script} needs {shell}, which is not on PATH")


def remaining(rec: Mapping[str, object], scripts: Sequence[str]) -> Steps:
    """What `mambaboot provision` runs: an unfinished pip section, then the scripts given, or
    without any, the recorded scripts from the one that failed (or was never reached) on."""
    state = rec.get("provisioning") or {}
    pip = state.get("pip") or {}
    pending = not pip.get("installed", True)
    pip_lines = tuple(pip.get("requirements") or ()) if pending else ()
    locked = lockfile.pip_entries(pip.get("locked") or ()) if pending else ()
    if not scripts:
        done = set(state.get("done") or ())
        scripts = [s for s in state.get("scripts") or () if s not in done]
    return Steps(pip_lines, pip.get("cwd"), tuple(scripts), locked)


def _file_name(entry: lockfile.PipEntry) -> str | None:
    """The artefact's file name, its URL's last segment: None when the URL is not one urllib reads
    (common/urlrule.py), or the segment, %-escapes decoded, is no one plain name (`..`, a `%2F`):
    pip's report and a lock are text from elsewhere, and the name places a file in the cache."""
    parts, _ = urlrule.split(entry.url)
    name = unquote(parts.path.rsplit("/", 1)[-1]) if parts else ""
    if name in ("", ".", "..") or any(c in name for c in "/\\:\0"):
        return None
    return name


def _wheelhouse_file(cache_dir: str, entry: lockfile.PipEntry) -> str | None:
    name = _file_name(entry)
    return os.path.join(cache_dir, "pip", WHEELHOUSE, entry.sha256 or "unpinned", name) if name else None


def locked_requirements(entries: Sequence[lockfile.PipEntry], cache_dir: str) -> list[str]:
    """One direct reference per locked artefact, with its hash: the copy we kept when there is
    one (no network), else the locked URL (pip's HTTP cache in CACHE/pip answers when it can)."""
    from pathlib import Path

    from mambaboot.common import shapes

    lines = []
    for entry in entries:
        # a lock's reader checked it whole (lockfile.pip_entry); a record's entries are checked here, as
        # every entry is again: a name or URL that is not one word of one line never reaches pip
        where = entry.where or f"the pip entry {entry.name!r}"
        shapes.check_value(entry.name, lockfile.PIP_NAME, where, "name")
        shapes.check_value(entry.url, lockfile.PIP_WORD, where, "url")
        kept = _wheelhouse_file(cache_dir, entry)
        url = Path(kept).as_uri() if kept and os.path.isfile(kept) else entry.url
        lines.append(f"{entry.name} @ {url} --hash=sha256:{entry.sha256}")
    return lines


def report_artefacts(report: dict) -> dict[str, tuple[str | None, str | None]]:
    """canonical name -> (URL, sha256 or None when there is no archive to pin) from pip's report."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for item in report.get("install") or ():
        info = item.get("download_info") or {}
        archive = info.get("archive_info")
        digest = None
        if isinstance(archive, dict):
            digest = (archive.get("hashes") or {}).get("sha256")
            legacy = archive.get("hash") or ""
            if not digest and legacy.startswith("sha256="):
                digest = legacy[len("sha256="):]
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest.lower())):
            digest = None
        found[lockfile.canonical_name(item["metadata"]["name"])] = (info.get("url"), digest and digest.lower())
    return found


def _keep(cache_dir: str, entry: lockfile.PipEntry, source: str) -> bool:
    """Copy an artefact into the wheelhouse when it has the locked hash; whether it is there now."""
    kept = _wheelhouse_file(cache_dir, entry)
    if os.path.isfile(kept):
        return True
    rel = os.path.relpath(kept, cache_dir).replace(os.sep, "/")
    directory, name = rel.rsplit("/", 1)  # pip/wheelhouse/<sha256>/<file>
    partial = f"{directory}/{tempname.temp_name(name)}"  # `cache clean` deletes pip/ whole
    with confined.Root.open(cache_dir) as cache:  # below the cache, never through a link
        cache.makedirs(os.path.dirname(rel))
        made = False  # the partial file is deleted only when this run made it (open_new: O_EXCL)
        try:
            with confined.open_named(source) as fin, cache.open_new(partial, 0o644) as fout:
                made = True
                shutil.copyfileobj(fin, fout)
            with cache.open_read(partial) as f:
                if fsops.file_digest(f, "sha256") == entry.sha256:
                    cache.rename(partial, rel)
                    made = False
        except OSError:
            pass  # a missing source only means --from-lock will need the original URL again
        finally:
            if made and cache.exists(partial):
                cache.unlink(partial)
        if cache.exists(rel):
            return True
        try:
            cache.rmdir(os.path.dirname(rel))  # only the directory made above, and only while empty
        except OSError:
            pass
    return False



class _Run:
    """One provisioning run, keeping the record's account of it current after every step."""

    def __init__(self, prefix: str, steps: Steps, environ: Mapping[str, str], windows: bool, cache_dir: str,
                 reporter: Reporter):
        self.prefix, self.steps, self.windows, self.reporter = prefix, steps, windows, reporter
        self.cache_dir = cache_dir
        self.env = activation.activated(isolation.baseline(environ, windows), prefix, windows)
        # The user's post-scripts keep all of the baseline (they may need the user's tokens);
        # pip, which runs whatever the section or the lock names, gets only what it needs.
        self.pip_env = dict(
            activation.activated(isolation.for_pip(environ, windows), prefix, windows), PIP_CACHE_DIR=os.path.join(cache_dir, "pip"), PIP_NO_INPUT="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            # "only in a virtualenv" guards a base Python; this is the environment's own pip.
            PIP_REQUIRE_VIRTUALENV="0",
        )
        self.state: dict[str, object] = {
            "scripts": list(steps.scripts), "done": [], "failed": None,
            "pip": {"requirements": list(steps.pip), "cwd": steps.pip_dir,
                    "locked": [e.to_dict() for e in steps.locked], "installed": not (steps.pip or steps.locked)},
        }

    def save(self, **changes: object) -> dict[str, object]:
        self.state["updated"] = record.utc()
        return record.update(self.prefix, provisioning=self.state, **changes)

    def fail(self, step: str, message: str, **detail: object) -> ProvisionError:
        self.state["failed"] = dict(detail, step=step, at=record.utc())
        self.save(state=record.PROVISIONING_FAILED)
        return ProvisionError(f"{message}\nthe environment stays at {self.prefix} (state: provisioning-failed); "
                              "continue with: " + quoting.advice(["mambaboot", "provision", self.prefix], self.windows))

    def echo(self, line: str) -> None:
        self.reporter.step(f"  | {line}")

    def pip(self) -> None:
        locked = self.steps.locked
        lines = locked_requirements(locked, self.cache_dir) if locked else list(self.steps.pip)
        # A lock pins every distribution, so pip resolves nothing (--no-deps) and refuses any
        # artefact whose hash differs (--require-hashes; a requirements file cannot say --no-deps).
        options = ["--require-hashes", "--no-deps"] if locked else []
        directory = os.path.join(self.prefix, record.RECORD_DIR)
        requirements, report = os.path.join(directory, PIP_REQUIREMENTS), os.path.join(directory, PIP_REPORT)
        confined.write_in(self.prefix, f"{record.RECORD_DIR}/{PIP_REQUIREMENTS}", ("\n".join(lines) + "\n").encode(),
                          mode=confined.user_mode(0o666))
        self.save(add_files=[f"{record.RECORD_DIR}/{PIP_REQUIREMENTS}", f"{record.RECORD_DIR}/{PIP_REPORT}"])
        python, problem = verify.resolve("python", self.env, self.prefix)
        if problem:
            raise self.fail("pip", f"pip section: {problem}")
        what = f"{len(locked)} locked pip package(s)" if locked else f"{len(lines)} requirement line(s)"
        self.reporter.step(f"pip: installing {what} with {python} -m pip")
        cmd = isolation.python(python, "-m", "pip", "install", *options, "--report", report, "-r", requirements)
        try:
            code, tail = child.stream(cmd, self.pip_env, self.echo, cwd=self.steps.pip_dir)
        except OSError as exc:
            raise self.fail("pip", f"pip section: cannot start {python}: {exc}"
                                   f"{winsys.blocked(exc, winsys.ENVIRONMENT_FOLDER)}") from None
        if code != 0:
            raise self.fail("pip", f"pip section failed (exit {code}):\n{child.shown(tail)}", exit_code=code)
        code, tail = child.stream(isolation.python(python, "-c", _PIP_PROBE), self.pip_env, keep=1)
        try:
            installed = untrusted.json(tail[-1], f"{python}'s list of installed distributions") if code == 0 else None
        except (ValueError, IndexError):
            installed = None
        if installed is None:
            raise self.fail("pip", f"pip section: cannot list what pip installed (exit {code}): {tail[-1:]}")
        try:
            artefacts = report_artefacts(untrusted.read_json_in(self.prefix, f"{record.RECORD_DIR}/{PIP_REPORT}",
                                                                limit=untrusted.TEXT))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self.fail("pip", f"pip section: cannot read pip's report {report}: {exc}") from None
        packages = self._check_locked(installed, artefacts) if locked else self._pinned(installed, artefacts)
        self._keep_copies(python, [e for e in lockfile.pip_entries(packages) if e.sha256])
        self.state["pip"]["installed"] = True
        rec = self.save(pip_packages=packages)
        self.reporter.step("pip: " + (", ".join(f"{p['name']} {p['version']}" for p in installed) or "nothing new"))
        unpinned = [lockfile.unpinned_reason(e) for e in lockfile.pip_entries(packages) if not e.sha256]
        if unpinned:
            self.reporter.warn("no artefact to pin, so the lock names them as unpinned and --from-lock refuses it: "
                               + "; ".join(unpinned))
        if rec.get("lock"):  # the lock written at creation did not know these yet
            own = record.lock_entry(self.prefix, rec)
            text = lockfile.for_environment(condameta.installed(self.prefix), rec, shared=False)
            confined.write_in(self.prefix, own, text.encode(), mode=confined.user_mode(0o666))
            self.reporter.step(f"lock: {rec['lock']} lists the {len(packages)} pip package(s)")

    def _keep_copies(self, python: str, entries: list[lockfile.PipEntry]) -> None:
        """Keep each artefact in CACHE/pip/wheelhouse so that --from-lock needs no network: local
        files are copied; the others pip fetches once more (`pip download`, through its HTTP cache)."""
        from urllib.request import url2pathname

        remote, unnamed = [], []
        for entry in entries:
            parts, _ = urlrule.split(entry.url)
            kept = _wheelhouse_file(self.cache_dir, entry)
            if kept is None:  # no URL urllib reads, or no one file name to keep it by
                unnamed.append(f"{entry.name} {entry.version} ({urlrule.shown(entry.url)!r} names no file)")
            elif parts.scheme == "file":
                _keep(self.cache_dir, entry, url2pathname(parts.path))
            elif not os.path.isfile(kept):
                remote.append(entry)
        if unnamed:
            self.reporter.warn(f"could not keep a copy of {', '.join(unnamed)}; --from-lock will fetch them from "
                               "their URLs")
        if not remote:
            return
        with workdir.WorkDir(os.path.join(self.cache_dir, "tmp"), PIP_DOWNLOAD) as scratch:
            wanted = os.path.join(scratch, "requirements.txt")
            with confined.Root.open(scratch) as here:
                here.write_new("requirements.txt",
                               "".join(f"{e.name} @ {e.url} --hash=sha256:{e.sha256}\n" for e in remote).encode("utf-8"))
            cmd = isolation.python(python, "-m", "pip", "download", "--no-deps", "--require-hashes", "-d", scratch,
                                   "-r", wanted)
            try:
                code, tail = child.stream(cmd, self.pip_env, keep=5)
            except OSError as exc:
                code, tail = -1, [str(exc)]
            missing = [f"{e.name} {e.version}" for e in remote
                       if not _keep(self.cache_dir, e, os.path.join(scratch, _file_name(e)))]
        if missing:
            self.reporter.warn(f"could not keep a copy of {', '.join(missing)} (pip download: exit {code}, "
                               f"{child.shown(tail)}); --from-lock will fetch them from their URLs")

    @staticmethod
    def _pinned(installed: list[dict[str, str]], artefacts: Mapping[str, tuple[str | None, str | None]]
                ) -> list[dict[str, str | None]]:
        """What pip installed, each with the artefact it came from (as pip's report says)."""
        packages = []
        for p in installed:
            url, digest = artefacts.get(lockfile.canonical_name(p["name"]), (None, None))
            packages.append({"name": p["name"], "version": p["version"], "url": url, "sha256": digest})
        return packages

    def _check_locked(self, installed: list[dict[str, str]],
                      artefacts: Mapping[str, tuple[str | None, str | None]]) -> list[dict[str, str | None]]:
        """pip checked every hash; this checks that nothing else came along, and records the lock's URLs.
        An entry without a version (an artefact whose file name does not say it: lockfile.artefact_version)
        takes the version pip read from the artefact, which its digest pins."""
        locked = self.steps.locked
        loose = {e.key[0] for e in locked if not e.version}
        found = {(lockfile.canonical_name(p["name"]), p["version"]) for p in installed}
        versions = {n: v for n, v in found if n in loose}
        found = {(n, "" if n in loose else v) for n, v in found}
        wanted = {e.key: e for e in locked}
        problems = [f"missing: {n}{'==' + v if v else ''}" for n, v in sorted(set(wanted) - found)]
        problems += [f"not in the lock: {n}=={v}" for n, v in sorted(found - set(wanted))]
        problems += [f"{e.name}=={e.version}: sha256 {artefacts.get(e.key[0], (None, None))[1]} is not the locked {e.sha256}"
                     for e in locked if e.key in found and artefacts.get(e.key[0], (None, None))[1] != e.sha256]
        if problems:
            raise self.fail("pip", "pip packages do not match the lock:\n" + "\n".join(f"  - {p}" for p in problems))
        return [dict(e.to_dict(), version=e.version or versions[e.key[0]]) for e in locked]

    def script(self, script: str) -> None:
        cmd = interpreter(script, self.windows, self.env)
        shell = shutil.which(cmd[0], path=_path_of(self.env))
        if shell is None:
            raise self.fail("script", f"post-script {script}: {cmd[0]} is not on PATH", script=script)
        self.reporter.step(f"post-script: {script} ({os.path.basename(cmd[0])})")
        try:
            code, tail = child.stream([shell] + cmd[1:], self.env, self.echo, cwd=self.prefix)
        except OSError as exc:
            raise self.fail("script", f"post-script {script}: cannot start {shell}: {exc}", script=script) from None
        if code != 0:
            raise self.fail("script", f"post-script {script} failed (exit {code}):\n{child.shown(tail)}",
                            script=script, exit_code=code)
        self.state["done"].append(script)
        self.save()

    def run(self) -> dict[str, object]:
        self.save(state=record.PROVISIONING)
        current = ("pip", None)
        try:
            if self.steps.pip or self.steps.locked:
                self.pip()
            for script in self.steps.scripts:
                current = ("script", script)
                self.script(script)
        except ProvisionError:
            raise
        except BaseException:  # interrupted: say where, so `provision` can continue
            step, script = current
            self.fail(step, "interrupted", **({"script": script} if script else {}), interrupted=True)
            raise
        rec = self.save(state=record.COMPLETE, provisioned=record.utc())
        return rec["provisioning"]


def shown(provisioning: object) -> object:
    """The record's `provisioning` entry as create --json and provision --json show it: each URL
    (a locked pip package's, one in a requirements line) without its password or token."""
    data = urlrule.shown_fields(provisioning)
    pip = data.get("pip") if isinstance(data, dict) else None
    if isinstance(pip, dict) and isinstance(pip.get("requirements"), list):
        pip["requirements"] = [urlrule.shown_in_words(str(line)) for line in pip["requirements"]]
    return data


def run(prefix: str, steps: Steps, environ: Mapping[str, str], windows: bool, cache_dir: str,
        reporter: Reporter) -> dict[str, object]:
    """Run the steps; the record's `provisioning` entry afterwards. Raises ProvisionError (exit 8)."""
    return _Run(prefix, steps, environ, windows, cache_dir, reporter).run()
