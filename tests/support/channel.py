"""A local conda channel in the real conda format, built from nothing but the host.

Packages are ``.tar.bz2`` archives (the legacy but still fully supported conda format,
writable with the stdlib alone) carrying ``info/index.json``, ``info/paths.json``,
``info/files`` and ``info/has_prefix`` exactly as conda-build lays them out. The channel is
indexed with py-rattler's ``index_fs`` so ``repodata.json`` is what real tools produce.

The ``python`` package is a real, relocatable interpreter: Debian's ``/usr/bin/python3.11``
is statically linked with libpython and finds its stdlib relative to its own location.
"""

from __future__ import annotations

import asyncio
import bz2
import fcntl
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from tests.support import realmode

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
# conda-build's host prefix, padded to 255 characters, is what packages with binary prefixes
# carry (conda_build/config.py: _h_env_placehold...): room for a long install prefix.
LONG_PLACEHOLDER = ("/home/conda/feedstock_root/build_artifacts/prefixy_1700000000000/_h_env" + "_placehold" * 30)[:255]

# Fixed metadata so the same inputs give byte-identical archives (and repodata hashes).
TIMESTAMP_MS = 1_700_000_000_000
_MTIME = TIMESTAMP_MS // 1000

HOST_PYTHON = Path("/usr/bin/python3.11")
HOST_STDLIB = Path("/usr/lib/python3.11")
PY_XY = "3.11"  # the interpreter we ship, whatever version the package claims

CONDA_VERSION = "24.11.3"
MAMBA_VERSION = "2.8.1"  # the release whose root prefix rule the stand-in follows (standin_install.py)
UV_VERSION = "0.5.0"

# Parts of Debian's stdlib we leave out: large, test-only, GUI, or Debian-specific
# (EXTERNALLY-MANAGED would make pip refuse to work in the environment, sitecustomize is
# an absolute symlink into /etc, config-3.11-* is 25 MB of static libs for embedding).
_STDLIB_SKIP_TOP = {
    "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages",
    "dist-packages", "EXTERNALLY-MANAGED", "sitecustomize.py", "turtle.py",
}
_STDLIB_SKIP_ANY_DIR = {"__pycache__", "test", "tests", "idle_test"}
_STDLIB_SKIP_PREFIX = ("config-3",)
_DYNLOAD_SKIP_PREFIX = ("_test", "_ctypes_test", "xxlimited", "_xxtestfuzz", "_xxsubinterpreters")

# Debian's site.py (frozen into the binary, so it cannot be patched) only puts
# lib/pythonX.Y/site-packages on sys.path inside a venv; conda's CPython always does.
# Debian's sysconfig also sends installs (pip's) to PREFIX/local/lib/pythonX.Y/dist-packages.
# A sitecustomize in the stdlib restores conda's behaviour for both.
_SITECUSTOMIZE = """\
# mambaboot test python: behave like conda's CPython and use PREFIX/lib/pythonX.Y/site-packages.
import os
import site
import sys
import sysconfig

site.addsitedir(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
_debian_schemes = sysconfig._get_preferred_schemes
sysconfig._get_preferred_schemes = lambda: dict(_debian_schemes(), prefix="posix_prefix")
"""


@dataclass(frozen=True)
class PackageSpec:
    """One package to put in a channel. ``files`` maps relative path -> content.

    Text content containing ``PLACEHOLDER`` is declared as a prefix-placeholder text file,
    so the installer rewrites it with the real prefix. Paths under ``bin/`` are executable.
    """

    name: str
    version: str
    build: str = "0"
    build_number: int = 0
    depends: tuple[str, ...] = ()
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    subdir: str = "linux-64"
    noarch: str | None = None  # "generic" or "python"; implied "generic" for subdir noarch
    license: str = "BSD-3-Clause"
    symlinks: Mapping[str, str] = field(default_factory=dict)  # path -> relative target

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.tar.bz2"


def channel_url(path: os.PathLike[str] | str) -> str:
    """The URL a conda client uses for a channel directory."""
    return Path(path).resolve().as_uri()


# --------------------------------------------------------------------------- archives


def _index_json(spec: PackageSpec) -> dict:
    noarch = spec.noarch or ("generic" if spec.subdir == "noarch" else None)
    doc = {
        "build": spec.build,
        "build_number": spec.build_number,
        "depends": list(spec.depends),
        "license": spec.license,
        "name": spec.name,
        "subdir": spec.subdir,
        "timestamp": TIMESTAMP_MS,
        "version": spec.version,
    }
    if noarch:
        doc.update(noarch=noarch, arch=None, platform=None)  # conda-build writes explicit nulls
    else:
        # conda-build writes these for platform packages only.
        os_name, _, bits = spec.subdir.partition("-")
        doc["arch"] = {"64": "x86_64", "aarch64": "aarch64", "arm64": "arm64"}.get(bits, bits)
        doc["platform"] = {"osx": "osx", "win": "win"}.get(os_name, os_name)
    return dict(sorted(doc.items()))


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _path_entry(path: str, data: bytes) -> dict:
    entry = {
        "_path": path,
        "path_type": "hardlink",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_in_bytes": len(data),
    }
    for placeholder in (LONG_PLACEHOLDER, PLACEHOLDER):
        if placeholder.encode() in data:
            entry["file_mode"] = "binary" if b"\0" in data else "text"
            entry["prefix_placeholder"] = placeholder
            break
    return entry


def _softlink_entry(path: str, target_data: bytes) -> dict:
    # conda-build hashes what the link resolves to.
    entry = _path_entry(path, target_data)
    entry["path_type"] = "softlink"
    entry.pop("file_mode", None)
    entry.pop("prefix_placeholder", None)
    return entry


def _add_member(tar: tarfile.TarFile, name: str, data: bytes, *, executable: bool) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = _MTIME
    info.mode = 0o755 if executable else 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mtime = _MTIME
    info.mode = 0o777
    tar.addfile(info)


def _is_executable(path: str, data: bytes) -> bool:
    return path.startswith(("bin/", "condabin/")) or data.startswith(b"#!") or data.startswith(b"\x7fELF")


def _info_members(spec: PackageSpec, files: dict[str, bytes]) -> dict[str, bytes]:
    """The ``info/`` directory: index.json, paths.json, files, has_prefix."""
    entries = []
    for path in sorted(set(files) | set(spec.symlinks)):
        if path in spec.symlinks:
            target = _resolve_link(path, spec.symlinks[path], files, spec.symlinks)
            entries.append(_softlink_entry(path, target))
        else:
            entries.append(_path_entry(path, files[path]))
    has_prefix = [
        f"{e['prefix_placeholder']} {e['file_mode']} {e['_path']}"
        for e in entries if "prefix_placeholder" in e
    ]
    info = {
        "info/index.json": json.dumps(_index_json(spec), indent=2, sort_keys=True),
        "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}, indent=2, sort_keys=True),
        "info/files": "".join(e["_path"] + "\n" for e in entries),
        "info/about.json": json.dumps({"summary": f"{spec.name} (mambaboot test package)"}),
    }
    if has_prefix:
        info["info/has_prefix"] = "".join(line + "\n" for line in has_prefix)
    return {k: _as_bytes(v) for k, v in info.items()}


def _resolve_link(path: str, target: str, files: dict[str, bytes], links: Mapping[str, str]) -> bytes:
    resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
    if resolved in links:
        return _resolve_link(resolved, links[resolved], files, links)
    return files[resolved]


def write_archive(spec: PackageSpec, out: Path) -> Path:
    """Write ``spec`` as a ``.tar.bz2`` conda package at ``out`` (deterministic bytes)."""
    files = {path: _as_bytes(content) for path, content in spec.files.items()}
    members = {**_info_members(spec, files), **files}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    # Build the tar in memory and compress separately: tarfile's "w:bz2" stamps nothing
    # variable, but this keeps the bz2 level explicit and the write atomic.
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(set(members) | set(spec.symlinks)):
            if name in spec.symlinks:
                _add_symlink(tar, name, spec.symlinks[name])
            else:
                _add_member(tar, name, members[name], executable=_is_executable(name, members[name]))
    tmp.write_bytes(bz2.compress(raw.getvalue(), 9))
    os.replace(tmp, out)
    return out


def make_package(spec: PackageSpec, subdir_dir: os.PathLike[str] | str) -> Path:
    """Write ``spec`` into a channel subdir directory; returns the archive path.

    Re-index the channel afterwards (``index_channel``) for solvers to see it.
    """
    return write_archive(spec, Path(subdir_dir) / spec.file_name)


# --------------------------------------------------------------------------- python


def _stdlib_files() -> dict[str, bytes]:
    """Debian's stdlib, trimmed, keyed by path inside the package."""
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(HOST_STDLIB):
        rel_root = Path(root).relative_to(HOST_STDLIB)
        top = rel_root == Path(".")
        dirs[:] = sorted(
            d for d in dirs
            if d not in _STDLIB_SKIP_ANY_DIR
            and not (top and (d in _STDLIB_SKIP_TOP or d.startswith(_STDLIB_SKIP_PREFIX)))
        )
        for name in sorted(names):
            if top and name in _STDLIB_SKIP_TOP:
                continue
            if rel_root == Path("lib-dynload") and name.startswith(_DYNLOAD_SKIP_PREFIX):
                continue
            # Relative symlinks (e.g. _sysconfigdata aliases) become plain copies.
            _add_module(files, rel_root, name, Path(root, name).read_bytes())
    # Compiled like the rest, or every start of the environment's python would compile it.
    _add_module(files, Path("."), "sitecustomize.py", _SITECUSTOMIZE.encode())
    return files


def _add_module(files: dict[str, bytes], rel_root: Path, name: str, data: bytes) -> None:
    """lib/pythonX.Y/REL_ROOT/NAME, and for a module that compiles, its __pycache__ .pyc beside it."""
    rel = (rel_root / name).as_posix()
    files[f"lib/python{PY_XY}/{rel}"] = data
    if name.endswith(".py"):
        pyc = _bytecode(data, rel)
        if pyc is not None:
            cached = (rel_root / "__pycache__" / f"{name[:-3]}.{sys.implementation.cache_tag}.pyc").as_posix()
            files[f"lib/python{PY_XY}/{cached}"] = pyc


def _bytecode(source: bytes, rel: str) -> bytes | None:
    """An unchecked-hash .pyc, as conda-forge's python ships them: valid wherever the file
    lands and whatever its mtime, so the interpreter starts without compiling its stdlib."""
    from importlib._bootstrap_external import _code_to_hash_pyc
    from importlib.util import source_hash

    try:
        code = compile(source, rel, "exec", dont_inherit=True)
    except SyntaxError:
        return None
    return bytes(_code_to_hash_pyc(code, source_hash(source), checked=False))


def python_spec(version: str = "3.11.2", build_number: int = 0) -> PackageSpec:
    """The relocatable interpreter. ``version`` may lie: the content is always 3.11."""
    files = _stdlib_files()
    files[f"bin/python{PY_XY}"] = HOST_PYTHON.read_bytes()
    # An empty site-packages needs a file to exist in an archive; conda-forge ships README.
    files[f"lib/python{PY_XY}/site-packages/README.txt"] = b"This directory exists so that 3rd party packages can be installed here.\n"
    return PackageSpec(
        name="python",
        version=version,
        build=python_build_string(version, build_number),
        build_number=build_number,
        depends=(),
        files=files,
        license="Python-2.0",
        symlinks={"bin/python3": f"python{PY_XY}", "bin/python": f"python{PY_XY}"},
    )


def _cache_dir() -> Path:
    return Path(os.environ.get("MAMBABOOT_TEST_CACHE") or Path(tempfile.gettempdir()) / "mambaboot-test-cache")


def _python_cache_key(version: str, build_number: int) -> str:
    # Invalidate when this module, the host interpreter or its stdlib change.
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in (HOST_PYTHON, HOST_STDLIB):
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(f"{version}:{build_number}".encode())
    return h.hexdigest()[:16]


_python_lock = threading.Lock()


def _python_archive(version: str, build_number: int) -> tuple[str, Path]:
    """Build (or reuse) the python archive; returns (file name, cached path). The cache is shared
    by every process (pytest-xdist's workers, tools/tryout.py): write_archive's rename keeps a
    reader from seeing half an archive, and the file lock held across the check and the build
    makes one process build it while the others wait for it rather than build it too."""
    with _python_lock:
        spec_name = f"python-{version}-{python_build_string(version, build_number)}.tar.bz2"
        cached = _cache_dir() / _python_cache_key(version, build_number) / spec_name
        cached.parent.mkdir(parents=True, exist_ok=True)
        with open(cached.parent / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not cached.exists():
                write_archive(python_spec(version, build_number), cached)
        return spec_name, cached


def python_build_string(version: str, build_number: int) -> str:
    digest = hashlib.sha256(f"python-{version}".encode()).hexdigest()[:7]
    return f"h{digest}_{build_number}_cpython"


# --------------------------------------------------------------------------- conda, mamba, uv

_CONDA_MAIN = '''#!{ph}/bin/python
# conda test stand-in: the entry point layout of the real bin/conda.
import json
import os
import sys

from conda import __version__


def main(argv):
    if argv[:1] in (["--version"], ["-V"]):
        if os.environ.get("STANDIN_INTERRUPTED") == "verify:stall":
            # as a conda still running when the user's Ctrl-C reaches mambaboot alone: it says
            # its pid through the FIFO, then runs until it is stopped
            with open(os.environ["STANDIN_STALL_FIFO"], "w") as fifo:
                fifo.write(str(os.getpid()))
            import select
            select.select([], [], [], 120)  # a bound, not a synchronisation: a bug leaves no process behind
            os._exit(0)
        if os.environ.get("STANDIN_INTERRUPTED", "").startswith("verify:"):
            # as a conda the user's Ctrl-C reached first: no signal sent to anyone else
            if os.environ["STANDIN_INTERRUPTED"] == "verify:signal":
                import signal
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGINT)
            os._exit(130)
        print("conda " + __version__)
        return 0
    if argv[:1] == ["info"]:
        info = {{
            "conda_version": __version__,
            "root_prefix": sys.prefix,
            "conda_prefix": sys.prefix,
            "active_prefix": os.environ.get("CONDA_PREFIX"),
            "platform": "linux-64",
            "python_version": "%d.%d.%d" % sys.version_info[:3],
            "sys.executable": sys.executable,
        }}
        if "--base" in argv:
            print(sys.prefix)
        elif "--json" in argv:
            print(json.dumps(info, indent=2))
        else:
            for key, value in info.items():
                print("%20s : %s" % (key, value))
        return 0
    if argv[:1] in (["install"], ["update"]):
        from conda._standin_install import install

        return install(argv[1:], "conda")
    if argv[:1] == ["remove"]:
        from conda._standin_install import remove

        return remove(argv[1:], "conda")
    if argv[:3] == ["env", "config", "vars"]:
        from conda._standin_install import env_config_vars

        return env_config_vars(argv[3:])
    if argv[:1] and argv[0].startswith("shell."):
        from conda._standin_activate import main as shell

        return shell(argv)
    if argv[:1] == ["list"]:
        meta = os.path.join(sys.prefix, "conda-meta")
        for name in sorted(os.listdir(meta)):
            if name.endswith(".json"):
                print(name[:-5])
        return 0
    sys.stderr.write("conda (test stand-in): unsupported command: %s\\n" % " ".join(argv))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''

# mamba test stand-in. Real mamba 2 is a C++ program that needs no python: conda-forge's
# mamba-feedstock builds it with cmake -D BUILD_MAMBA=ON (recipe/build_mamba.sh) and its only run
# requirement is libmamba (recipe/meta.yaml, "Release 2.0.5"). So `mamba --version` starts no
# interpreter here either: the shell answers it. `install` is modelled in Python, on this
# prefix's interpreter (libmamba's prefix, where mamba finds its root, is this one).
_MAMBA_MAIN = """#!/bin/sh
case "$1" in
  --version|-V) echo "{version}"; exit 0 ;;
  install|update) shift; exec "{ph}/bin/python" -c 'import sys; from conda._standin_install import install; sys.exit(install(sys.argv[1:], "mamba"))' "$@" ;;
  remove) shift; exec "{ph}/bin/python" -c 'import sys; from conda._standin_install import remove; sys.exit(remove(sys.argv[1:], "mamba"))' "$@" ;;
  repoquery) shift; exec "{ph}/bin/python" -c 'import sys; from conda._standin_install import repoquery; sys.exit(repoquery(sys.argv[1:]))' "$@" ;;
  shell) exec "{ph}/bin/python" -c 'import sys; from conda._standin_activate import mamba_main; sys.exit(mamba_main(sys.argv[1:]))' "$@" ;;
esac
echo "mamba (test stand-in): unsupported command: $*" >&2
exit 2
"""

_CONDABIN = '#!/bin/sh\nexec "{ph}/bin/{tool}" "$@"\n'

_CONDA_SH = """export CONDA_EXE='{ph}/bin/conda'
export _CE_M=''
export _CE_CONDA=''
export CONDA_PYTHON_EXE='{ph}/bin/python'

__conda_exe() (
    "$CONDA_EXE" $_CE_M $_CE_CONDA "$@"
)
"""

_CONDA_FISH = """set -gx CONDA_EXE "{ph}/bin/conda"
set _CONDA_ROOT "{ph}"
set _CONDA_EXE "{ph}/bin/conda"
set -gx CONDA_PYTHON_EXE "{ph}/bin/python"
"""

_MAMBA_SH = """export MAMBA_EXE='{ph}/bin/mamba'
export MAMBA_ROOT_PREFIX='{ph}'

__mamba_exe() (
    "$MAMBA_EXE" "$@"
)
"""

_UV = """#!/bin/sh
case "$1" in
  --version|-V) echo "uv {version}" ;;
  *) echo "uv (test stand-in): unsupported command: $*" >&2; exit 2 ;;
esac
"""


def conda_spec() -> PackageSpec:
    site = f"lib/python{PY_XY}/site-packages/conda"
    return PackageSpec(
        name="conda",
        version=CONDA_VERSION,
        build="py311_0",
        depends=("python >=3.9",),
        files={
            "bin/conda": _CONDA_MAIN.format(ph=PLACEHOLDER),
            "condabin/conda": _CONDABIN.format(ph=PLACEHOLDER, tool="conda"),
            f"{site}/__init__.py": f'__version__ = "{CONDA_VERSION}"\n',
            f"{site}/cli/__init__.py": "",
            f"{site}/_standin_install.py": (Path(__file__).parent / "standin_install.py").read_text(),
            f"{site}/_standin_activate.py": (Path(__file__).parent / "standin_activate.py").read_text(),
            "etc/profile.d/conda.sh": _CONDA_SH.format(ph=PLACEHOLDER),
            "etc/profile.d/conda.csh": f"setenv CONDA_EXE \"{PLACEHOLDER}/bin/conda\"\n",
            "etc/fish/conf.d/conda.fish": _CONDA_FISH.format(ph=PLACEHOLDER),
        },
    )


def hooks_spec() -> PackageSpec:
    """A package with activation hooks in every shell and a variable, as gdal or openssl ship them."""
    d = "etc/conda/activate.d/"
    u = "etc/conda/deactivate.d/"
    return PackageSpec(
        name="mb-hooks",
        version="1.0",
        files={
            d + "mb-hooks.sh": 'export MB_PKG_HOOK="on $CONDA_PREFIX"\nexport MB_PKG_ORDER="${MB_PKG_ORDER-}a"\n',
            d + "~mb-hooks-last.sh": 'export MB_PKG_ORDER="${MB_PKG_ORDER-}z"\n',
            d + "mb-hooks.fish": 'set -gx MB_PKG_HOOK "on $CONDA_PREFIX"\nset -gx MB_PKG_ORDER "$MB_PKG_ORDER"a\n',
            d + "~mb-hooks-last.fish": 'set -gx MB_PKG_ORDER "$MB_PKG_ORDER"z\n',
            d + "mb-hooks.bat": "@set \"MB_PKG_HOOK=on %CONDA_PREFIX%\"\r\n",
            d + "mb-hooks.ps1": '$env:MB_PKG_HOOK = "on $env:CONDA_PREFIX"\r\n',
            u + "mb-hooks.sh": 'export MB_PKG_UNDO="${MB_PKG_UNDO-}a"; unset MB_PKG_HOOK MB_PKG_ORDER\n',
            u + "~mb-hooks-last.sh": 'export MB_PKG_UNDO="${MB_PKG_UNDO-}z"\n',
            u + "mb-hooks.fish": 'set -gx MB_PKG_UNDO "$MB_PKG_UNDO"a; set -e MB_PKG_HOOK MB_PKG_ORDER\n',
            u + "~mb-hooks-last.fish": 'set -gx MB_PKG_UNDO "$MB_PKG_UNDO"z\n',
            u + "mb-hooks.bat": '@set "MB_PKG_HOOK="\r\n',
            u + "mb-hooks.ps1": "Remove-Item Env:MB_PKG_HOOK\r\n",
            "etc/conda/env_vars.d/mb-hooks.json": '{\n  "MB_PKG_VAR": "from the package \\u00fc"\n}\n',
        },
    )


def mamba_spec() -> PackageSpec:
    return PackageSpec(
        name="mamba",
        version=MAMBA_VERSION,
        build="py311_0",
        depends=("python >=3.9", "conda >=24"),
        files={
            "bin/mamba": _MAMBA_MAIN.format(ph=PLACEHOLDER, version=MAMBA_VERSION),
            "condabin/mamba": _CONDABIN.format(ph=PLACEHOLDER, tool="mamba"),
            "etc/profile.d/mamba.sh": _MAMBA_SH.format(ph=PLACEHOLDER),
        },
    )


def pip_wheel() -> Path:
    """The pip wheel this machine already has: ensurepip's bundled one, or Debian's python3-pip-whl."""
    import ensurepip

    places = [Path(ensurepip.__file__).parent / "_bundled", Path("/usr/share/python-wheels")]
    for place in places:
        wheels = sorted(place.glob("pip-*-py3-none-any.whl"))
        if wheels:
            return wheels[-1]
    raise RuntimeError(f"no pip wheel in {' or '.join(map(str, places))} (.ci/run installs python3-pip-whl)")


_PIP_MAIN = """#!{ph}/bin/python
import sys

from pip._internal.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
"""


def pip_spec() -> PackageSpec:
    """pip as conda-forge ships it: the wheel's files in site-packages, INSTALLER conda, bin/pip."""
    import zipfile

    wheel = pip_wheel()
    version = wheel.name.split("-")[1]
    site = f"lib/python{PY_XY}/site-packages"
    files: dict[str, str | bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if not member.is_dir():
                files[f"{site}/{member.filename}"] = archive.read(member)
    files[f"{site}/pip-{version}.dist-info/INSTALLER"] = "conda\n"
    files["bin/pip"] = _PIP_MAIN.format(ph=PLACEHOLDER)
    return PackageSpec(name="pip", version=version, build="py_0", depends=("python >=3.7",), files=files)


def uv_spec() -> PackageSpec:
    return PackageSpec(
        name="uv", version=UV_VERSION, build="h0_0",
        files={"bin/uv": _UV.format(version=UV_VERSION)},
    )


def menu_spec() -> PackageSpec:
    """A package with a menuinst shortcut description, as conda-forge's GUI packages ship."""
    menu = {"$schema": "https://json-schema.org/draft-07/schema", "menu_name": "Menu App",
            "menu_items": [{"name": "Menu App", "command": [f"{PLACEHOLDER}/bin/python"]}]}
    return PackageSpec(name="menu-app", version="1.0", files={"Menu/menu-app.json": json.dumps(menu)})


_PREFIXY = """#!{ph}/bin/python
# Reads the paths its library and data file were given at install and checks they name this prefix.
import os, sys

lib = open(os.path.join(sys.prefix, "lib", "libprefixy.so"), "rb").read()
strings = [s.decode() for s in lib.split(b"\\0") if s.startswith(b"/")]
data = open(os.path.join(sys.prefix, "share", "prefixy", "where.txt")).read().strip()
want = [sys.prefix + "/lib/prefixy", sys.prefix + "/share/prefixy:" + sys.prefix + "/etc"]
if strings == want and data == "prefix=" + sys.prefix:
    print("prefixy ok " + sys.prefix)
else:
    sys.exit("prefixy: stale paths %r %r, expected %r" % (strings, data, want))
"""


def prefixy_spec() -> PackageSpec:
    """Prefix-bearing files of each kind: a binary with conda-build's long placeholder (two
    NUL-terminated strings, one naming the prefix twice), a text data file and a Python script
    whose shebang the installer shortens when the prefix is long."""
    ph = LONG_PLACEHOLDER
    lib = (b"\x7fELF\x02\x01\x01\0" + b"\0" * 8 + f"{ph}/lib/prefixy".encode() + b"\0"
           + f"{ph}/share/prefixy:{ph}/etc".encode() + b"\0" + b"\x01\x02tail\0")
    return PackageSpec(
        name="prefixy", version="1.0", build="0",
        depends=("python >=3.9",),
        files={
            "lib/libprefixy.so": lib,
            "share/prefixy/where.txt": f"prefix={PLACEHOLDER}\n",
            "bin/prefixy": _PREFIXY.format(ph=PLACEHOLDER),
        },
    )


# --------------------------------------------------------------------------- channels


def _run_coroutine(coro) -> None:
    """asyncio.run, also from inside a running event loop (e.g. an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def index_channel(dest: os.PathLike[str] | str) -> None:
    """(Re)write repodata.json for every subdir with py-rattler's indexer."""
    from tests.support.newer import newer_only

    index_fs = newer_only("rattler.index").index_fs
    # Plain repodata.json only: zst/shards would be extra moving parts for tests.
    _run_coroutine(index_fs(Path(dest), write_zst=False, write_shards=False, force=True))


def _prepare_dest(dest: Path) -> None:
    for subdir in ("linux-64", "noarch"):
        (dest / subdir).mkdir(parents=True, exist_ok=True)


def _add_python(dest: Path, version: str, build_number: int) -> None:
    name, cached = _python_archive(version, build_number)
    # A copy, not a link: tests may corrupt channel files in place.
    shutil.copyfile(cached, dest / "linux-64" / name)


def build_channel(
    dest: os.PathLike[str] | str,
    *,
    python_version: str = "3.11.2",
    python_build_number: int = 0,
    extra: Iterable[PackageSpec] = (),
    real_packages: bool = True,
) -> Path:
    """Build and index a channel with python, pip, conda, mamba, uv (+ ``extra``) at ``dest``.

    pip is always there: micromamba 2.6+ adds a `pip` spec to every request naming python
    (libmamba/src/api/install.cpp create_install_request), so a channel without it cannot create."""
    dest = Path(dest)
    _prepare_dest(dest)
    _add_python(dest, python_version, python_build_number)
    # A channel whose python lies about its version cannot take real packages built for the
    # python it really is: it keeps the scripts (real_packages=False).
    real = realmode.channel() if real_packages else None
    tools = (uv_spec(),) if real else (conda_spec(), mamba_spec(), uv_spec())
    extra = list(extra)
    if not any(spec.name == "pip" for spec in extra):
        extra.append(pip_spec())
    for spec in (*tools, *extra):
        make_package(spec, dest / spec.subdir)
    if real:
        _add_real_packages(dest, real)
    index_channel(dest)
    return dest


# The platforms a team's lock covers in the suite: this machine's, which it creates, and two it
# only solves for. Their packages are small fakes with the names and dependencies a solve needs.
FOREIGN_PLATFORMS = ("win-64", "osx-arm64")


def foreign_specs(subdir: str, python_version: str = "3.11.2") -> list[PackageSpec]:
    """python, pip, conda and mamba for a platform the suite never installs, each with one file;
    Windows' python needs `ucrt`, which needs the `__win` virtual package (as conda-forge's do), so
    the solve for win-64 succeeds only with that platform's virtual packages."""
    windows = subdir.startswith("win")
    note = {"README.txt": f"a {subdir} test package: solved for, never installed\n"}
    os_only = [PackageSpec(name="ucrt", version="10.0.22621.0", build="h57928b3_1", depends=("__win",),
                           files=note, subdir=subdir, license="LicenseRef-MicrosoftWindowsSDK10")] if windows else []
    python = PackageSpec(name="python", version=python_version,
                         build=f"{'h' + subdir.replace('-', '')}_0_cpython", depends=("ucrt >=10.0.20348.0",) if windows else (),
                         files=note, subdir=subdir, license="Python-2.0")
    return os_only + [
        python,
        PackageSpec(name="pip", version="24.0", build="pyh_0", depends=("python >=3.8",), files=note,
                    subdir=subdir, license="MIT"),
        PackageSpec(name="conda", version=CONDA_VERSION, build="py311_0", depends=("python >=3.9",), files=note,
                    subdir=subdir),
        PackageSpec(name="mamba", version=MAMBA_VERSION, build="py311_0", depends=("python >=3.9", "conda >=24"),
                    files=note, subdir=subdir),
    ]


def build_team_channel(dest: os.PathLike[str] | str) -> Path:
    """The suite's channel (build_channel) with win-64 and osx-arm64 packages beside its own, so a
    lock for three platforms is a real solve on each."""
    dest = Path(dest)
    for subdir in FOREIGN_PLATFORMS:
        (dest / subdir).mkdir(parents=True, exist_ok=True)
    extra = [spec for subdir in FOREIGN_PLATFORMS for spec in foreign_specs(subdir)]
    return build_channel(dest, extra=[*extra, pip_spec()])


def _add_real_packages(dest: Path, real: Path) -> None:
    """The real mode's packages (tests/support/realmode.py) in place of the conda and mamba
    scripts. Copies, not links: tests may corrupt channel files in place."""
    for subdir, archive in realmode.real_archives(real):
        shutil.copyfile(archive, dest / subdir / archive.name)


# --------------------------------------------------------------------------- benchmark


def _filler_spec(index: int, n_files: int) -> PackageSpec:
    """A filler package shaped like a real one: modules in dirs, some prefix-bearing text."""
    name = f"filler-{index:03d}"
    subdir = "noarch" if index % 2 else "linux-64"
    base = f"share/{name}" if subdir == "noarch" else f"lib/python{PY_XY}/site-packages/filler_{index:03d}"
    files: dict[str, str] = {}
    for i in range(n_files):
        path = f"{base}/d{i // 50:02d}/m{i:04d}.py"
        if i % 10 == 0:
            files[path] = f'PREFIX = "{PLACEHOLDER}"\nDATA = "{PLACEHOLDER}/share/{name}"\n'
        else:
            files[path] = f"# {name} module {i}\nVALUE = {i}\n"
    return PackageSpec(name=name, version="1.0.0", build="0", files=files, subdir=subdir)


def _count_files(spec: PackageSpec) -> int:
    return len(spec.files) + len(spec.symlinks)


def build_benchmark_channel(dest: os.PathLike[str] | str, n_packages: int = 70, n_files: int = 10_000) -> Path:
    """A channel where ``python conda mamba bench-meta`` installs ``n_packages`` packages

    holding about ``n_files`` files in total (fillers pad the count python+pip+conda+mamba leave);
    ``n_packages`` <= 3: the plain channel, where ``python conda mamba`` installs them and pip.
    """
    dest = Path(dest)
    if n_packages <= 3:
        return build_channel(dest)
    base_files = sum(_count_files(s) for s in (conda_spec(), mamba_spec(), pip_spec()))
    base_files += len(_stdlib_files()) + 4  # interpreter, README, two symlinks
    n_fillers = max(1, n_packages - 5)  # python, pip, conda, mamba, bench-meta
    per_filler = max(1, (n_files - base_files) // n_fillers)
    fillers = [_filler_spec(i, per_filler) for i in range(n_fillers)]
    meta = PackageSpec(
        name="bench-meta", version="1.0.0", subdir="noarch",
        depends=tuple(f"{f.name} ==1.0.0" for f in fillers),
        files={"share/bench-meta/README": "benchmark meta package\n"},
    )
    return build_channel(dest, extra=[*fillers, meta])


if __name__ == "__main__":  # manual use: python channel.py DEST
    print(channel_url(build_channel(Path(sys.argv[1]))))
