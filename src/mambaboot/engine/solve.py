"""Solving for any platform without creating anything: micromamba's dry run, read as JSON.

`micromamba create --dry-run --json --platform P` solves for P as if this machine were one
(`--platform` is libmamba's `platform` setting, CONDA_SUBDIR; the virtual packages it offers
the solver are P's: `__win`, `__unix`, `__linux`, `__osx` at version 0 for a foreign platform,
detail::dist_packages in libmamba/src/core/virtual_packages.cpp, 2.8.1). With --dry-run
nothing is written to the prefix (libmamba/src/api/create.cpp `create()`, 2.8.1: the checks
and writes of the target are all under `if (!ctx.dry_run)`), and with --json the transaction
is printed as one JSON document (MTransaction::log_json, libmamba/src/core/transaction.cpp):
`actions.LINK` holds every package to install, each as `to_json(PackageInfo)` writes it
(libmamba/src/specs/package_info.cpp): name, version, build, build_number, channel, url,
subdir, fn, license, depends, constrains, md5 and sha256 when the index has them. In JSON
mode Console::print says nothing (libmamba/src/core/output.cpp), so stdout is that document.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


from mambaboot.common import winsys
from mambaboot.common.errors import EngineError
from mambaboot.common.values import value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@value
class Solved:
    """One package a solve picked, with what a lock and a bill of materials need of it."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    url: str
    md5: str | None
    sha256: str | None
    depends: tuple[str, ...] = ()
    license: str | None = None


def command(binary: str, channels: Sequence[str], specs: Sequence[str], platform: str, prefix: str, root: str,
            offline: bool = False) -> list[str]:
    """The dry run for one platform. prefix: a path that does not exist; nothing is written there."""
    cmd = [binary, "create", "--yes", "--no-rc", "--override-channels"]
    for channel in channels:
        cmd += ["-c", channel]
    cmd += ["--prefix", prefix, "--root-prefix", root, "--platform", platform, "--dry-run", "--json"]
    if offline:
        cmd.append("--offline")
    return cmd + list(specs)


def read(stdout: str, platform: str) -> list[Solved]:
    """The packages of a dry run's JSON (what follows anything printed before it)."""
    from mambaboot.common import untrusted

    start, end = stdout.find("{"), stdout.rfind("}") + 1
    try:  # through the bounded reader, as every JSON mambaboot did not write
        doc = untrusted.json(stdout[start:end], f"micromamba's dry run for {platform}") if 0 <= start < end else None
    except ValueError as exc:
        raise EngineError(f"micromamba's dry run for {platform} printed no readable JSON ({exc})") from None
    actions = doc.get("actions") if isinstance(doc, dict) else None
    link = actions.get("LINK") if isinstance(actions, dict) else None
    if not isinstance(link, list) or not link:
        raise EngineError(f"micromamba's dry run for {platform} installs nothing (no actions.LINK in its JSON)")
    return sorted((_solved(entry, platform) for entry in link), key=lambda s: s.name)


def _solved(entry: Mapping[str, object], platform: str) -> Solved:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k)
                                              for k in ("name", "version", "url")):
        raise EngineError(f"micromamba's dry run for {platform} lists a package without name, version or url: "
                          f"{str(entry)[:200]}")

    def text(key: str) -> str | None:
        found = entry.get(key)
        return found.lower() if isinstance(found, str) and found else None

    build = entry.get("build") or entry.get("build_string") or ""
    number = entry.get("build_number")
    depends = entry.get("depends") if isinstance(entry.get("depends"), list) else []
    license_ = entry.get("license")
    return Solved(
        name=str(entry["name"]), version=str(entry["version"]), build=str(build),
        build_number=number if isinstance(number, int) else 0, subdir=str(entry.get("subdir") or platform),
        url=str(entry["url"]), md5=text("md5"), sha256=text("sha256"),
        depends=tuple(str(d) for d in depends), license=license_ if isinstance(license_, str) and license_ else None,
    )


def run(cmd: list[str], env: Mapping[str, str], platform: str) -> list[Solved]:
    """Run one dry run; its stdout alone is the JSON (stderr carries warnings)."""
    import subprocess  # only when locking: create's start-up imports none

    try:
        done = subprocess.run(cmd, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace")
    except OSError as exc:
        raise EngineError(f"could not start {cmd[0]}: {exc}{winsys.blocked(exc, winsys.ENGINE_FOLDER)}") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise EngineError(f"micromamba could not solve for {platform} (exit {done.returncode}):\n{said}")
    return read(done.stdout, platform)
