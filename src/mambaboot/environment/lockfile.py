"""Lock files: an @EXPLICIT spec of exactly what an environment holds, with each package's hash.

micromamba (`create -f`) and conda (`create --file`) read the format natively and install
the listed archives without solving. One hash fits on a URL line; we write the sha256 as
the bare 64-digit fragment, the one form that micromamba 2.x and conda (>= 24.9) both read
as sha256 (a `sha256:` prefix is not understood by every micromamba 2.x, which would then
silently check nothing). The md5 sums go into comment lines, which every reader skips and
ours checks too.

pip packages (an environment file's `pip:` section) go into comment lines as well, one
`# pip: NAME==VERSION URL#sha256=HASH` each, so the file stays a valid explicit spec:
micromamba skips every line starting with `#` (libmamba/src/core/util.cpp read_lines(),
2.x) and so does conda (conda/gateways/disk/read.py yield_lines(), used by
conda/env/specs/explicit.py; conda/cli/common.py specs_from_url(), 26.x). Only
`mambaboot create --from-lock` installs them. A distribution pip installed from a local
directory, a VCS checkout or as editable has no artefact to pin: it is written as
`# pip-unpinned: NAME==VERSION SOURCE`, and --from-lock refuses such a lock.

conda-lock's rendered explicit files (`conda-lock render --kind explicit`) carry their pip packages
the same way, as `# pip NAME @ URL#sha256=HASH` comment lines (render_lockfile_for_platform,
conda_lock/conda_lock.py, conda-lock 4.0.2; `conda-lock install` hands them to pip, do_conda_install):
--from-lock installs them as it installs ours, and refuses one with no artefact to pin (a VCS
checkout, `# pip NAME @ git+https://...`, written from its `source.url` with no digest).

A line with no hash at all (`conda list --explicit` writes them so) is installed as conda installs
it, unverified (_match_specs_from_explicit, conda/misc.py, 26.x: the `#md5` or `#sha256` fragment
is optional); Lock.unverified names them.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from mambaboot import __version__
from mambaboot.common import patterns, shapes, untrusted, urlrule
from mambaboot.common.errors import UsageError, VerifyError
from mambaboot.common.values import replace, value
from mambaboot.environment.condameta import Package

EXPLICIT = "@EXPLICIT"
_ARCHIVE = patterns.lazy(r"^(?P<url>.+?(?:\.tar\.bz2|\.conda))(?:#(?P<hash>.*))?$")
_PLATFORM = patterns.lazy(r"^#\s*platform:\s*(\S+)\s*$")
_MD5 = patterns.lazy(r"^#\s*md5:\s*(\S+)\s+([0-9a-fA-F]{32})\s*$")
_MICROMAMBA = patterns.lazy(r"^#\s*micromamba:\s*(\S+)\s+sha256\s+([0-9a-f]{64})\s*$")
_PIP_LINE = patterns.lazy(r"^#\s*pip(?:-unpinned)?:")
_PIP = patterns.lazy(r"^#\s*pip:\s*(?P<name>[^=\s]+)==(?P<version>\S+)\s+(?P<url>\S+)#sha256=(?P<sha256>[0-9a-f]{64})\s*$")
_PIP_UNPINNED = patterns.lazy(r"^#\s*pip-unpinned:\s*(?P<name>[^=\s]+)==(?P<version>\S+)\s+(?P<url>\S+)\s*$")
# conda-lock's: `# pip NAME @ URL` (format_pip_requirement(direct=True), conda_lock/conda_lock.py, 4.0.2),
# URL ending in `#sha256=HASH` when the artefact has one
_CONDA_LOCK_PIP = patterns.lazy(r"^#\s*pip\s+(?P<name>[^\s@:]+)\s*@\s*(?P<url>\S+?)(?:#(?P<fragment>\S*))?\s*$")
# A distribution's name as PEP 508 writes it (names: letters, digits, `.`, `_`, `-`, starting and
# ending with a letter or digit), optionally with extras (no line break among them)
_PEP508_NAME = patterns.lazy(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[A-Za-z0-9._, -]*\])?\Z")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
_VERSION_START = patterns.lazy(r"^[0-9]")  # a PEP 440 version starts with a digit (a leading v is no part of it)
PIP_HEADER = "# pip packages, installed after the conda ones by pip with --require-hashes --no-deps:"

# The one check of what both lock formats say of a package (common/shapes.py): where a conda
# package's archive is, where a pip artefact is, and the digests that pin them. An @EXPLICIT line
# is checked field by field with these; conda-lock's file with a shape made of them (condalock.py).
PACKAGE_URL = shapes.required(str, rule=shapes.package_url)
ARTEFACT_URL = shapes.required(str, rule=shapes.url)
HASH = {"md5": shapes.optional(str, None, rule=shapes.digest(32)),
        "sha256": shapes.optional(str, None, rule=shapes.digest(64))}


def _distribution_name(value: str, path: str) -> str | None:
    if _PEP508_NAME.match(value):
        return None
    return (f"{value!r} is not a distribution name (PEP 508: letters, digits, '.', '_', '-', starting and ending "
            "with a letter or digit)")


def _one_word(value: str, path: str) -> str | None:
    """Text that stays one word of one line of pip's requirements file: no whitespace, no control
    character, no leading '-' (which pip would read as an option of that line)."""
    wrong = shapes.usable(value, path)
    if wrong:
        return wrong
    odd = next((c for c in value if c.isspace() or not c.isprintable()), None)
    if odd is not None:
        return f"{value!r} holds {'a line break' if odd in chr(10) + chr(13) else repr(odd)}, which no name, version or URL has"
    if value.startswith("-"):
        return f"{value!r} starts with '-', as an option does"
    expanded = pip_expands(value)
    if expanded:
        return (f"{value!r} holds {expanded}, which pip would replace with that variable of this machine's "
                "environment; a lock names its artefacts as they are")
    return None


# pip/_internal/req/req_file.py, ENV_VAR_RE and expand_env_variables (pip 20.x to 25.x): each line of a
# requirements file has every `${NAME}` (NAME of A-Z, 0-9, _) replaced by os.getenv(NAME) when that is
# set and not empty, before the line is parsed; no other form ($NAME, %NAME%) and no escape exists.
_PIP_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+\}")


def pip_expands(text: str) -> str | None:
    """To pip's requirements file: the first `${NAME}` of text, which pip replaces with the
    variable's value (req_file.py expand_env_variables), None when pip reads text as written."""
    found = _PIP_VARIABLE.search(text)
    return found.group() if found else None


def _pip_url(value: str, path: str) -> str | None:
    """An artefact pip fetches itself: an http, https or file URL (pip's own schemes, less the VCS
    ones, which name no artefact to pin)."""
    wrong = _one_word(value, path) or shapes.url(value, path)
    if wrong or value.partition("://")[0].lower() in _PIP_SCHEMES:
        return wrong
    return f"{value!r} is not an http, https or file URL, the artefacts pip fetches"


_PIP_SCHEMES = ("http", "https", "file")


# What a lock says of a pip package, checked before any of it reaches pip's requirements file
# (provision.locked_requirements writes `NAME @ URL --hash=sha256:HASH`, one line each) or a lock we
# write: the one check of every reader's pip entries (@EXPLICIT's `# pip` lines, conda-lock's
# `manager: pip` entries, pixi.lock's `pypi` entries).
PIP_NAME = shapes.required(str, rule=_distribution_name)
PIP_VERSION = shapes.required(str, rule=lambda value, path: _one_word(value, path) if value else None)
PIP_URL = shapes.required(str, rule=_pip_url)
PIP_WORD = shapes.required(str, rule=_one_word)  # what stays one word of one line of pip's requirements file


@value
class Entry:
    url: str
    sha256: str | None
    md5: str | None

    @property
    def filename(self) -> str:
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def subdir(self) -> str:
        parts = urlsplit(self.url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 else ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(name, version, build) as the file name spells them."""
        stem = re.sub(r"(\.tar\.bz2|\.conda)$", "", self.filename)
        name, version, build = (stem.rsplit("-", 2) + ["", ""])[:3]
        return name, version, build

    def line(self) -> str:
        digest = self.sha256 or self.md5
        return f"{self.url}#{digest}" if digest else self.url


@value
class PipEntry:
    """One distribution pip installed: its exact artefact, or (sha256 None) only where it came from."""

    name: str
    version: str
    url: str
    sha256: str | None
    where: str = ""  # the lock's line or field, said when it cannot be installed

    @property
    def key(self) -> tuple[str, str]:
        return canonical_name(self.name), self.version

    def line(self) -> str:
        if self.sha256:
            return f"# pip: {self.name}=={self.version} {self.url}#sha256={self.sha256}"
        return f"# pip-unpinned: {self.name}=={self.version} {self.url}"

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "version": self.version, "url": self.url, "sha256": self.sha256}


def pip_entry(name: object, version: object, url: object, sha256: str | None, source: str, where: str,
              what: str = "", said: str | None = None) -> PipEntry:
    """A lock's pip package as PipEntry, each field checked (PIP_NAME, PIP_VERSION, PIP_URL: a name
    holding a line break or an option never reaches pip); UntrustedInput naming source and where.
    sha256 None: an entry with no artefact to pin, refused by the one rule of unpinned entries, its
    name checked (it is said), its location only said. said: how a refusal names it (where when None)."""
    name = shapes.check_value(name, PIP_NAME, source, f"{where}: name", what)
    name = _PEP508_NAME.match(name)["name"]
    version = shapes.check_value(version, PIP_VERSION, source, f"{where}: version", what)
    if sha256 is None:
        return PipEntry(name, version, str(url), None, where if said is None else said)
    url = shapes.check_value(url, PIP_URL, source, f"{where}: url", what)
    sha256 = shapes.check_value(sha256, HASH["sha256"], source, f"{where}: sha256", what).lower()
    return PipEntry(name, version, url, sha256, where if said is None else said)


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: how pip compares distribution names."""
    return re.sub(r"[-_.]+", "-", name).lower()


UNKNOWN_SOURCE = "unknown-source"
_VCS = ("git+", "hg+", "svn+", "bzr+")
NO_ARTEFACT = _VCS  # a pip source that is no artefact, only a checkout to build


def unpinned_reason(entry: PipEntry) -> str:
    """`NAME==VERSION: why it has no artefact to pin`, from where pip's report says it came from."""
    url = entry.url
    if url == UNKNOWN_SOURCE:
        why = ("pip's report of the install names no source for it (it was not installed by that pip run; a "
               "distribution outside the environment's site-packages, such as a user site's, looks like this)")
    elif url.startswith(_VCS) and entry.where:  # a lock's entry: nothing was installed yet
        why = "a VCS dependency, which has no artefact with a digest to pin"
    elif url.startswith(_VCS):
        why = f"installed from a VCS checkout, {urlrule.shown(url)}"
    elif url.startswith("file:") and entry.where:
        why = "a local directory or file, which has no artefact with a digest to pin"
    elif url.startswith("file:"):
        why = f"installed from a local directory (as editable or not), {urlrule.shown(url)}"
    elif entry.where:
        why = "no sha256 of its artefact"
    else:
        why = f"its source {urlrule.shown(url)} is not an archive with a sha256"
    return f"{entry.where or f'{entry.name}=={entry.version}'}: {why}"


def pip_entries(recorded: Iterable[Mapping[str, str | None]]) -> tuple[PipEntry, ...]:
    """The record's `pip_packages` as lock entries (older records hold only name and version)."""
    return tuple(PipEntry(p["name"], p["version"], p.get("url") or UNKNOWN_SOURCE, p.get("sha256"))
                 for p in sorted(recorded, key=lambda p: canonical_name(p["name"])))


@value
class Lock:
    platform: str | None
    entries: tuple[Entry, ...]
    micromamba_version: str | None = None
    micromamba_sha256: str | None = None
    pip: tuple[PipEntry, ...] = ()
    # the other platforms of the conda-lock file it was taken from, as written there (platform ->
    # {"content_hash", "package": its entries}): kept in the record with the plan's lock, for `lock`
    # to write back
    carried: Mapping[str, Mapping[str, object]] | None = None
    # what of the file is not installed, as the engine does not install it, each naming the entry
    # (create says them as warnings)
    warnings: tuple[str, ...] = ()

    def channels(self) -> tuple[str, ...]:
        """The channels its URLs name (<channel>/<subdir>/<file>), in the order they come."""
        return tuple(dict.fromkeys(e.url.rsplit("/", 2)[0] for e in self.entries))

    def unverified(self) -> list[Entry]:
        """The entries pinned by no hash: installed as conda installs them, checked by nothing."""
        return [e for e in self.entries if not (e.sha256 or e.md5)]

    def platforms(self) -> list[str]:
        """The platform the lock is for: its `# platform:` line, else what its URLs say."""
        if self.platform:
            return [self.platform]
        return sorted({e.subdir for e in self.entries if e.subdir and e.subdir != "noarch"})

    def python_version(self) -> str | None:
        return next((e.key[1] for e in self.entries if e.key[0] == "python"), None)


def platform_of(packages: Iterable[Package]) -> str | None:
    subdirs = {p.subdir for p in packages if p.subdir and p.subdir != "noarch"}
    return subdirs.pop() if len(subdirs) == 1 else None


def dependency_order(packages: Sequence[Package]) -> list[Package]:
    """Dependencies before dependents (what the format asks for), ties by name; cycles by name."""
    by_name = {p.name: p for p in packages}
    needs = {p.name: {d.split()[0] for d in p.depends if d.split() and d.split()[0] in by_name} - {p.name}
             for p in packages}
    ordered: list[Package] = []
    while needs:
        ready = sorted(n for n, deps in needs.items() if not deps) or [min(needs)]
        for name in ready:
            ordered.append(by_name[name])
            del needs[name]
        for deps in needs.values():
            deps.difference_update(ready)
    return ordered


def render(packages: Sequence[Package], platform: str | None, micromamba: Mapping[str, str] | None = None,
           pip: Sequence[PipEntry] = (), shared: bool = True) -> str:
    """The @EXPLICIT lock of packages. shared: a lock handed to others, each URL without its
    password or token as `conda list --explicit` writes it (urlrule.without_auth); not shared, the
    environment's own lock.txt, each URL as it was installed from (micromamba's conda-meta holds
    them so)."""
    unhashed = [f"{p.name}-{p.version}-{p.build}" for p in packages if not (p.sha256 or p.md5)]
    unsourced = [f"{p.name}-{p.version}-{p.build}" for p in packages if not p.url]
    if unhashed or unsourced:
        raise UsageError(
            "cannot lock packages whose conda-meta record lacks "
            + "; ".join(f"{what}: {', '.join(names)}" for what, names in (("a hash", unhashed), ("a URL", unsourced)) if names)
        )
    ordered = dependency_order(packages)
    lines = [
        "# mambaboot lock: exactly these packages, checked by hash, installed without solving.",
        "# Recreate with: mambaboot create NAME --from-lock THIS_FILE",
        "# (micromamba create -p PREFIX -f THIS_FILE and conda create -p PREFIX --file THIS_FILE read it too)",
    ]
    if platform:
        lines.append(f"# platform: {platform}")
    lines.append(f"# created-by: mambaboot {__version__}")
    if micromamba and micromamba.get("version") and micromamba.get("sha256"):
        lines.append(f"# micromamba: {micromamba['version']} sha256 {micromamba['sha256']}")
    lines += [f"# md5: {os.path.basename(urlsplit(p.url).path)} {p.md5}" for p in ordered if p.md5]
    lines.append(EXPLICIT)
    url = urlrule.without_auth if shared else str
    lines += [Entry(url(p.url), p.sha256, p.md5).line() for p in ordered]
    if pip:
        lines += [PIP_HEADER] + [replace(p, url=url(p.url)).line() for p in pip]
    return "\n".join(lines) + "\n"


def for_environment(packages: Sequence[Package], rec: Mapping[str, object], platform: str | None = None,
                    shared: bool = True) -> str:
    """The lock of an environment we made (or adopted): its conda packages, the micromamba
    that made it and the pip packages its record lists. shared: as render's."""
    text = render(packages, platform or rec.get("platform") or platform_of(packages), rec.get("micromamba"),
                  pip_entries(rec.get("pip_packages") or ()), shared)
    return with_added(text, rec.get("lock_added"), shared=shared)


def with_added(text: str, added: object, before: str = EXPLICIT, shared: bool = True) -> str:
    """The lock of an environment created from a lock that lacked conda and mamba says which of its
    packages were added to that lock and from where (the record's `lock_added`), in comment lines
    above the line `before` (@EXPLICIT's, or a conda-lock file's `version:`); shared: as render's."""
    if not isinstance(added, Mapping) or not isinstance(added.get("packages"), list):
        return text
    def one_line(*parts: object) -> str:  # the record is a file: nothing in it ends a comment line
        return " ".join(" ".join(str(p).split()) for p in parts)

    def url(u: object) -> object:
        return urlrule.without_auth(u) if shared and isinstance(u, str) else u

    names = [one_line(f"{p.get('name')}-{p.get('version')}-{p.get('build')}", url(p.get("url")))
             for p in added["packages"] if isinstance(p, Mapping)]
    lines = [f"# added to the packages of {one_line(added.get('lock'))}, which did not lock them, solved against "
             f"them from {one_line(*(url(c) for c in added.get('from') or ()))}:"]
    lines += [f"#   {n}" for n in names]
    head, marker, rest = text.partition(before + "\n")
    return head + "\n".join(lines) + "\n" + marker + rest


def explicit_text(lock: Lock) -> str:
    """Just what the engine needs: the platform line and the URL lines we parsed and checked."""
    lines = [f"# platform: {lock.platform}"] if lock.platform else []
    return "\n".join(lines + [EXPLICIT] + [e.line() for e in lock.entries]) + "\n"


def _as_url(location: str, cwd: str) -> str:
    if "://" in location:
        return location
    from pathlib import Path  # only for plain paths, which lock files rarely hold

    return Path(os.path.join(cwd, os.path.expanduser(location))).resolve().as_uri()


def wrong_platform(source: str, platforms: Sequence[str], platform: str) -> str:
    """The refusal of a lock for other platforms than this machine's, said before anything else of it."""
    return (f"{source} is a lock for {' and '.join(platforms)}, but this machine is {platform}; lock for "
            f"{platform} from the environment file it was made from (mambaboot lock --file FILE --platform "
            f"{platform} -o LOCK), or from an environment on {platform} (mambaboot lock PREFIX there)")


def parse(text: str, source: str, cwd: str, platform: str | None = None) -> Lock:
    """An @EXPLICIT list. platform: the one it is read for; a lock whose `# platform:` line (or whose
    URLs) say another is refused for that (wrong_platform) before any of its lines' faults."""
    lines = [line.strip() for line in untrusted.lines(text)]
    if EXPLICIT not in lines:
        raise UsageError(f"{source} is not a lock file: it has no {EXPLICIT} line")
    said = mm_version = mm_sha = None
    md5s: dict[str, str] = {}
    entries: list[Entry] = []
    pip: list[PipEntry] = []
    warnings: list[str] = []
    first_fault: UsageError | None = None
    for number, line in enumerate(lines, 1):
        if not line or line == EXPLICIT:
            continue
        try:
            if _CONDA_LOCK_PIP.match(line):
                found = _conda_lock_pip(_CONDA_LOCK_PIP.match(line), line, source, number)
                if isinstance(found, str):
                    warnings.append(found)
                else:
                    pip.append(found)
                continue
            if _PIP_LINE.match(line):
                match = _PIP.match(line) or _PIP_UNPINNED.match(line)
                if not match:
                    raise UsageError(f"{source}: line {number}: not a pip entry (# pip: NAME==VERSION URL#sha256=HASH): {line!r}")
                pip.append(pip_entry(match["name"], match["version"], match["url"], match.groupdict().get("sha256"),
                                     source, f"line {number}", said=""))
                continue
            if line.startswith("#"):
                for pattern in (_PLATFORM, _MD5, _MICROMAMBA):
                    match = pattern.match(line)
                    if match and pattern is _PLATFORM:
                        said = match.group(1)
                    elif match and pattern is _MD5:
                        md5s[match.group(1)] = match.group(2).lower()
                    elif match:
                        mm_version, mm_sha = match.groups()
                continue
            match = _ARCHIVE.match(line)
            url = place(match["url"] if match else line.partition("#")[0], source, f"line {number}: url", cwd)
            entries.append(_entry(url, (match and match["hash"]) or "", source, number))
        except UsageError as exc:
            first_fault = first_fault or exc
    lock = Lock(said, tuple(Entry(e.url, e.sha256, e.md5 or md5s.get(e.filename)) for e in entries),
                mm_version, mm_sha, tuple(pip), warnings=tuple(warnings))
    if first_fault is not None:
        held = lock.platforms()
        if platform and held and held != [platform]:
            raise UsageError(wrong_platform(source, held, platform))
        raise first_fault
    if not entries:
        raise UsageError(f"{source} lists no packages")
    return lock


def _conda_lock_pip(match, line: str, source: str, number: int) -> PipEntry | str:
    """A `# pip NAME @ URL#sha256=HASH` line of conda-lock's as a pip entry: its artefact pinned by
    the digest, or (sha256 None) named by its line when there is no artefact to pin. `#md5=None`
    (conda-lock writes it for an artefact it has no digest of): the warning that it is not installed,
    as neither engine installs it (every line starting with '#' is a comment to micromamba,
    read_lines(), libmamba/src/core/util.cpp, 2.8.1 (0abc611d), and to conda, yield_lines(),
    conda/gateways/disk/read.py, 26.7.1 (0bf82da1)), only `conda-lock install`'s pip."""
    where = f"line {number}, {line!r}"
    url, fragment = match["url"], match["fragment"] or ""
    if url.startswith(NO_ARTEFACT) or not fragment:
        return pip_entry(match["name"], "", url, None, source, f"line {number}", said=where)
    kind, _, digest = fragment.partition("=")
    if kind != "sha256" and digest == "None":
        name = shapes.check_value(match["name"], PIP_NAME, source, f"line {number}: name")
        return (f"{source}: {where}: conda-lock has no digest of {name}'s artefact ({fragment}); micromamba and conda "
                "skip the line, and so does mambaboot: it is not installed (pip can install it once the environment "
                "is created)")
    if kind != "sha256":
        raise UsageError(f"{source}: {where}: the digest {fragment!r} is not a sha256=HASH; pip checks an artefact by its sha256")
    entry = pip_entry(match["name"], "", url, digest, source, f"line {number}", said=where)
    return PipEntry(entry.name, artefact_version(entry.name, unquote(urlsplit(url).path.rsplit("/", 1)[-1])),
                    entry.url, entry.sha256, where)


def artefact_version(name: str, file_name: str) -> str:
    """The version of the distribution `name` an artefact's file name says: a wheel's second field
    (PEP 427: NAME-VERSION-...whl, the name with `_` for `-`), an sdist's rest after the name (PEP 625's
    NAME-VERSION.tar.gz, the name compared as PEP 503 normalises it, so `antlr4-python3-runtime-4.9.3.tar.gz`
    is 4.9.3); "" when the name is not the file's (a tag's archive, `v1.0.tar.gz`): the version is then
    what pip finds in the artefact's metadata, and the digest pins the artefact all the same."""
    if file_name.endswith(".whl"):
        parts = file_name[:-4].split("-")
        if len(parts) in (5, 6) and canonical_name(parts[0]) == canonical_name(name):
            return parts[1]
        return ""
    stem = next((file_name[:-len(s)] for s in _SDIST_SUFFIXES if file_name.endswith(s)), "")
    for i, char in enumerate(stem):
        if char == "-" and canonical_name(stem[:i]) == canonical_name(name):
            version = stem[i + 1:]
            return version if _VERSION_START.match(version) and "-" not in version else ""
    return ""


def place(location: str, source: str, where: str, cwd: str, what: str = "") -> str:
    """A conda package's location in a lock (where: its line or field) as the URL the engine is
    given, when it is a package URL (PACKAGE_URL); UntrustedInput naming the file and where."""
    return _as_url(shapes.check_value(location, PACKAGE_URL, source, where, what), cwd)


def _entry(url: str, fragment: str, source: str, number: int) -> Entry:
    """url pinned by its line's fragment: a sha256 (its 64 digits, `sha256:` before them or not)
    or an md5 (32 digits), each checked as HASH checks conda-lock's."""
    if not fragment:
        return Entry(url, None, None)  # conda installs it unchecked (_match_specs_from_explicit): Lock.unverified
    digest = fragment[len("sha256:"):] if fragment.lower().startswith("sha256:") else fragment
    kind = "sha256" if digest != fragment or len(digest) == 64 else "md5" if len(digest) == 32 else None
    if kind is None:
        raise UsageError(f"{source}: line {number}: the hash {fragment!r} is neither a sha256 nor an md5; "
                         "a lock pins a package by one of them")
    digest = shapes.check_value(digest, HASH[kind], source, f"line {number}: {kind}").lower()
    return Entry(url, digest, None) if kind == "sha256" else Entry(url, None, digest)


def _apart(wanted, found) -> tuple[list[str], list[str]]:
    """name-version-build of the keys only in wanted, and of those only in found, sorted."""
    return (["-".join(k) for k in sorted(set(wanted) - set(found))],
            ["-".join(k) for k in sorted(set(found) - set(wanted))])


def since_recorded(recorded: Iterable[Mapping[str, object]], packages: Sequence[Package]) -> tuple[list[str], list[str]]:
    """(removed, added) name-version-build: the record's packages (what the environment held when
    mambaboot made or adopted it) against conda-meta now. Its own conda and mamba change it
    without mambaboot; a package replaced by another version is in both lists."""
    was = {(str(p.get("name")), str(p.get("version")), str(p.get("build"))) for p in recorded if isinstance(p, Mapping)}
    return _apart(was, {(p.name, p.version, p.build) for p in packages})


def check(lock: Lock, packages: Sequence[Package]) -> None:
    """The environment holds exactly the locked packages, byte for byte (as conda-meta says)."""
    found = {(p.name, p.version, p.build): p for p in packages}
    wanted = {e.key: e for e in lock.entries}
    missing, extra = _apart(wanted, found)
    problems = [f"missing: {k}" for k in missing] + [f"not in the lock: {k}" for k in extra]
    for key in sorted(set(wanted) & set(found)):
        entry, package = wanted[key], found[key]
        if entry.sha256 and package.sha256 != entry.sha256:
            problems.append(f"{'-'.join(key)}: sha256 {package.sha256 or '(none recorded)'} is not the locked {entry.sha256}")
        # An engine installing from its cache may not know the md5 (only the sha256 it checked).
        if entry.md5 and package.md5 and package.md5 != entry.md5:
            problems.append(f"{'-'.join(key)}: md5 {package.md5} is not the locked {entry.md5}")
        if not entry.sha256 and entry.md5 and not package.md5:
            problems.append(f"{'-'.join(key)}: locked by md5 only, and no md5 is recorded to compare")
    if problems:
        raise VerifyError("the environment does not match the lock:\n" + "\n".join(f"  - {p}" for p in problems))
