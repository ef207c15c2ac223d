"""Everything after the engine: what turns a conda prefix into a managed, verified environment.

`create` is "engine + finish"; `mambaboot adopt` runs finish() alone on a prefix that
micromamba, conda or mamba made. Order matters: the record says `incomplete` before any
other file of ours is written, and `complete` only after verification passed.
"""

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from mambaboot import cachelink, condameta, isolation, record, verify
from mambaboot.activation import environ as activation
from mambaboot.report import Reporter


@dataclass(frozen=True)
class FinishInputs:
    prefix: str
    windows: bool
    requested_python: Optional[str]
    pkgs_dir: Optional[str]  # link PREFIX/pkgs here; None: no link
    provenance: Mapping[str, Any] = field(default_factory=dict)  # inputs, platform, micromamba
    created: Optional[str] = None  # keep an earlier creation time (re-adoption)


@dataclass(frozen=True)
class Finished:
    packages: List[condameta.Package]
    verification: verify.Verification
    record_path: str
    cache_link: Optional[str]
    files: List[str]

    def summary(self) -> Dict[str, Any]:
        """What create and adopt print about the environment they finished."""
        v = self.verification
        return {
            "python_version": v.python_version,
            "conda_version": v.conda_version,
            "mamba_version": v.mamba_version,
            "packages": [{"name": p.name, "version": p.version, "build": p.build} for p in self.packages],
            "record": self.record_path,
            "cache_link": self.cache_link,
        }


def finish(inputs: FinishInputs, environ: Mapping[str, str], reporter: Reporter) -> Finished:
    prefix = inputs.prefix
    files: List[str] = [os.path.join(record.RECORD_DIR, record.RECORD_FILE)]
    body: Dict[str, Any] = dict(inputs.provenance)
    body.update(state=record.INCOMPLETE, created=inputs.created or record.now(), files=files)
    record.write(prefix, body)

    link = _link(inputs, files, reporter)

    baseline = isolation.baseline(environ, inputs.windows)
    checks = verify.start(activation.activated(baseline, prefix, inputs.windows), prefix, inputs.requested_python)
    try:
        packages = condameta.installed(prefix)  # read while the checks run
    except BaseException:
        checks.cancel()
        raise
    verification = checks.result()
    reporter.step(
        f"verify: python {verification.python_version} ({verification.python}), "
        f"conda {verification.conda_version}, mamba {verification.mamba_version}"
    )
    body.update(
        state=record.COMPLETE, completed=record.now(), verification=verification.to_dict(),
        packages=[p.to_dict() for p in packages],
    )
    path = record.write(prefix, body)
    reporter.step(f"record: {path} ({len(packages)} packages)")
    return Finished(packages, verification, path, link, files)


def _link(inputs: FinishInputs, files: List[str], reporter: Reporter) -> Optional[str]:
    pkgs = os.path.join(inputs.prefix, "pkgs")
    if inputs.pkgs_dir is None:
        reporter.step("cache link: skipped")
        return None
    link = cachelink.link_cache(inputs.prefix, inputs.pkgs_dir, inputs.windows)
    if link:
        files.append("pkgs")
        reporter.step(f"cache link: {pkgs} -> {inputs.pkgs_dir} ({link})")
    else:
        reporter.step(f"cache link: {pkgs} already holds files; left as it is")
    return link
