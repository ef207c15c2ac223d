"""micromamba 2.x stand-in that runs as a Windows program on the embeddable CPython (the
__main__ of tests/support/winpython.py's micromamba.exe). The command line, rc files, target
rules, cache lock, registration and the transaction table are micromamba_standin.py's (a module
of the same zip); py-rattler, which that stand-in solves and links with, has no Windows wheel
that loads under Wine, so the solve and the link are replaced here, standard library only:

* the solve takes, for each spec and each dependency, the newest package of that name that
  the spec's version constraints (=, ==, >=, <=, >, <, !=, joined by commas) accept, from the
  channels' win-64 then noarch repodata.json, first channel first; virtual packages (__win)
  are taken as present;
* the link is libmamba's (libmamba/src/core/link.cpp, 2.8.1): each package's archive is
  copied into the package cache and extracted there (PKGS\\NAME-VERSION-BUILD\\, with
  info\\repodata_record.json), then every file of its paths.json is hard-linked into the prefix,
  copied when it holds the prefix placeholder (replaced by the prefix: text files only here) or
  when the hard link fails or --always-copy asks; conda-meta\\NAME-VERSION-BUILD.json records
  the files;
* `install -p PREFIX [-c CHANNEL]... [--force-reinstall] SPEC...` into an existing environment
  runs libmamba's transaction there (wintransaction.py): every package it replaces unlinked
  before any is linked, each linked package's post-link script and .pyc compilation run through
  the wrapper that calls CONDA_BAT.
"""

import json
import os
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

import micromamba_standin as ms
import wintransaction
from standin_install import relinked


class _Name:
    def __init__(self, name):
        self.normalized = name


class Record:
    """What micromamba_standin reads of a rattler RepoDataRecord."""

    def __init__(self, doc, fn, channel, subdir, archive):
        self.doc = doc
        self.name = _Name(doc["name"])
        self.version = doc["version"]
        self.build = doc["build"]
        self.build_number = doc.get("build_number", 0)
        self.subdir = subdir
        self.file_name = fn
        self.size = doc.get("size")
        self.channel = channel.rstrip("/") + "/"
        self.url = f"{channel.rstrip('/')}/{subdir}/{fn}"
        self.archive = archive

    def to_json(self):
        return json.dumps(dict(self.doc, fn=self.file_name, url=self.url, channel=self.channel.rstrip("/")))


def _key(version):
    return [int(p) if p.isdigit() else 0 for p in re.split(r"[.\-_]", version)]


def _accepts(constraint, version):
    for part in filter(None, (c.strip() for c in constraint.split(","))):
        m = re.fullmatch(r"(==|>=|<=|!=|>|<|=)?\s*([^\s]+)", part)
        if m is None:
            raise ms.Failure(f"stand-in: unsupported version constraint {part!r}")
        op, want = m.group(1) or "=", m.group(2).rstrip("*").rstrip(".")
        have, need = _key(version), _key(want)
        ok = {"==": have == need, ">=": have >= need, "<=": have <= need, ">": have > need,
              "<": have < need, "!=": have != need, "=": have[:len(need)] == need}[op]
        if not ok:
            return False
    return True


def _split(spec):
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    if m is None:
        raise ms.Failure(f"stand-in: cannot read the spec {spec!r}")
    return m.group(1).lower(), m.group(2).strip()


def _url(channel):
    """A channel as micromamba makes it (make_channel in micromamba_standin.py): a local path is
    its file:// URL, a bare name is channel_alias + name."""
    if re.match(r"^[A-Za-z]:[\\/]|^[\\/.]", channel):
        return Path(channel).resolve().as_uri()
    if "://" not in channel and ms.ENV_READ.get("MAMBA_CHANNEL_ALIAS"):
        return ms.ENV_READ["MAMBA_CHANNEL_ALIAS"].rstrip("/") + "/" + channel
    return channel


def _repodata(channels, platform):
    for channel in map(_url, channels):
        parsed = urllib.parse.urlparse(channel)
        if parsed.scheme != "file":
            raise ms.Failure(f"stand-in: file:// channels only: {channel}")
        base = Path(urllib.request.url2pathname(parsed.path))
        for subdir in (platform, "noarch"):
            path = base / subdir / "repodata.json"
            if path.is_file():
                doc = json.loads(path.read_text(encoding="utf-8"))
                packages = {**doc.get("packages", {}), **doc.get("packages.conda", {})}
                yield channel, subdir, base / subdir, packages


def solve(options, channels, specs, cache, pkgs_dir=None):
    if not channels:
        raise ms.Failure("No channels specified (use -c/--channel)")
    platform = options.platform or ms.HOST_PLATFORM
    index = list(_repodata(channels, platform))
    chosen, queue = {}, list(specs)
    while queue:
        name, constraint = _split(queue.pop(0))
        if name.startswith("__"):
            continue
        if name in chosen:
            if not _accepts(constraint, chosen[name].version):
                raise ms.Failure(f"Could not solve for environment specs: {name} {constraint} conflicts")
            continue
        for channel, subdir, folder, packages in index:
            found = [(fn, doc) for fn, doc in packages.items() if doc["name"] == name and _accepts(constraint, doc["version"])]
            if found:
                fn, doc = max(found, key=lambda item: (_key(item[1]["version"]), item[1].get("build_number", 0)))
                chosen[name] = Record(doc, fn, channel, subdir, folder / fn)
                queue += doc.get("depends", [])
                break
        else:
            raise ms.Failure(f"Could not solve for environment specs\n    └─ {name} {constraint} does not exist "
                             "(perhaps a typo or a missing channel).")
    return list(chosen.values())


def _valid(tarball, record):
    """libmamba 2.8.1 takes a cached tarball only when its size, and its md5 (else its sha256), are
    the repodata's (libmamba/src/core/package_cache.cpp `has_valid_tarball`)."""
    import hashlib

    if not tarball.is_file() or (record.size and tarball.stat().st_size != record.size):
        return False
    algo = next((a for a in ("md5", "sha256") if record.doc.get(a)), None)
    return algo is None or hashlib.new(algo, tarball.read_bytes()).hexdigest() == record.doc[algo]


def _extracted(record, cache):
    stem = re.sub(r"(\.tar\.bz2|\.conda)$", "", record.file_name)
    folder = cache / stem
    if (folder / "info" / "repodata_record.json").is_file():
        return folder
    tarball = cache / record.file_name
    if not _valid(tarball, record):  # one cut short by a kill is fetched again, as libmamba does
        shutil.copyfile(record.archive, tarball)
    scratch = cache / f".{stem}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(scratch, filter="data")
    (scratch / "info" / "repodata_record.json").write_text(record.to_json(), encoding="utf-8")
    os.replace(scratch, folder)
    return folder


def install(options, records, prefix, cache, specs):
    for record in records:
        folder = _extracted(record, cache)
        paths = json.loads((folder / "info" / "paths.json").read_text(encoding="utf-8"))["paths"]
        for entry in paths:
            source, dest = folder / entry["_path"], prefix / entry["_path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            placeholder = entry.get("prefix_placeholder")
            if placeholder and entry.get("file_mode", "text") == "text":
                dest.write_bytes(relinked(source.read_bytes(), placeholder.encode(), "text", str(prefix).encode()))
                continue
            if not options.always_copy:
                try:
                    os.link(source, dest)
                    continue
                except OSError:
                    pass
            shutil.copyfile(source, dest)
        doc = json.loads(record.to_json())
        doc.update(files=[e["_path"] for e in paths], paths_data={"paths": paths, "paths_version": 1},
                   extracted_package_dir=str(folder), package_tarball_full_path=str(cache / record.file_name),
                   requested_spec="")
        name = f"{record.name.normalized}-{record.version}-{record.build}.json"
        (prefix / "conda-meta" / name).write_text(json.dumps(doc, indent=2), encoding="utf-8")



def explicit_records(entries, cache, offline):
    """An @EXPLICIT list (create --from-lock): exactly those archives of the channel's repodata,
    each checked against the URL's #hash before any is linked, no solve."""
    import hashlib

    records = []
    for url, checksum in entries:
        base, fn = url.rsplit("/", 1)
        channel, subdir = base.rsplit("/", 1)
        found = [Record(packages[fn], fn, ch, sd, folder / fn)
                 for ch, sd, folder, packages in _repodata([channel], subdir) if sd == subdir and fn in packages]
        if not found:
            raise ms.Failure(f"stand-in: {url} is in no repodata.json of its channel")
        if checksum:
            algo, expected = checksum.split(":", 1)
            if hashlib.new(algo, found[0].archive.read_bytes()).hexdigest() != expected:
                raise ms.Failure(f"Invalid package cache, file '{fn}' is corrupted ({algo} mismatch)")
        records.append(found[0])
    return records

def _installed(prefix):
    """name -> (record file, record) of the packages in prefix."""
    found = {}
    for meta in (prefix / "conda-meta").glob("*.json"):
        doc = json.loads(meta.read_text(encoding="utf-8"))
        found[doc["name"]] = (meta, doc)
    return found


def _in_link_order(records):
    """Each package after those it depends on among them (libmamba links in the solver's order)."""
    names = {r.name.normalized: r for r in records}
    done, ordered = set(), []

    def visit(record):
        if record.name.normalized in done:
            return
        done.add(record.name.normalized)
        for dep in record.doc.get("depends", []):
            if _split(dep)[0] in names:
                visit(names[_split(dep)[0]])
        ordered.append(record)

    for record in records:
        visit(record)
    return ordered


def cmd_install(args):
    """`micromamba install` into an existing environment (-p, else CONDA_PREFIX): the request solved
    as create solves it; what is not installed as solved, and with --force-reinstall what was asked
    for, goes through libmamba's transaction (wintransaction.Transaction)."""
    force = "--force-reinstall" in args
    options = ms.parse_create([a for a in args if a != "--force-reinstall"])
    root_prefix, _ = ms.resolve_root_prefix(options)
    rc = ms.read_rc(root_prefix, options)
    prefix = Path(os.path.abspath(options.prefix or os.environ.get("CONDA_PREFIX") or "."))
    if not (prefix / "conda-meta").is_dir():
        raise ms.Failure(f"{prefix} is not a conda environment (no conda-meta)")
    channels = options.channels + ([] if options.override_channels else [c for c in rc.channels if c not in options.channels])
    _, cache = ms.lock_caches(options, ms.resolve_pkgs_dirs(root_prefix, rc))
    folder_cache = cache / ms.cache_folder(channels[0]) if ms.version_at_least(2, 6) and channels else cache
    folder_cache.mkdir(parents=True, exist_ok=True)
    installed = _installed(prefix)
    asked = {_split(spec)[0] for spec in options.specs}
    to_link = [r for r in solve(options, channels, options.specs, folder_cache)
               if r.name.normalized not in installed or (force and r.name.normalized in asked)
               or (installed[r.name.normalized][1].get("version"), installed[r.name.normalized][1].get("build"))
               != (r.version, r.build)]
    python = installed.get("python", (None, {}))[1].get("version", "3")
    transaction = wintransaction.Transaction(prefix, root_prefix, os.path.abspath(sys.argv[0]), python)
    if not options.quiet:
        print("\nTransaction starting")
    for record in to_link:  # Transaction::execute: every unlink, then every link
        if record.name.normalized in installed:
            if not options.quiet:
                print(f"Unlinking {record.name.normalized}")
            transaction.unlink(installed[record.name.normalized][0])
    for record in _in_link_order(to_link):
        if not options.quiet:
            print(f"Linking {record.name.normalized}-{record.version}-{record.build}")
        folder = _extracted(record, folder_cache)
        paths = json.loads((folder / "info" / "paths.json").read_text(encoding="utf-8"))["paths"]
        transaction.link(json.loads(record.to_json()), folder, paths)
    transaction.finish()
    if ms.version_at_least(2, 6):
        (folder_cache / ".cache.lock").unlink(missing_ok=True)
    if not options.quiet:
        print("\nTransaction finished")
    return 0


_main = ms.main


def main(argv):
    if argv[:1] == ["install"]:
        ms.read_env_configurables()
        return cmd_install(argv[1:])
    return _main(argv)


# micromamba writes UTF-8 whatever the console's code page (its table's rules are U+2500)
sys.stdout.reconfigure(encoding="utf-8")
sys.stderr.reconfigure(encoding="utf-8")
ms.solve = solve
ms.explicit_records = explicit_records
ms.install = install
ms.relink_as_libmamba = lambda prefix: None
ms.run_post_link = lambda prefix, records: ms.show_messages(prefix)
ms.main = main
ms.run()
