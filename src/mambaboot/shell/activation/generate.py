"""Write an environment's activation scripts into PREFIX/.mambaboot/ (no conda package owns a
file there, so conda's own Scripts/activate.bat and bin/activate stay untouched).

A Windows environment gets cmd.exe and PowerShell scripts; a Unix one POSIX sh, fish and
PowerShell (pwsh) scripts. Each family's module renders {file name: bytes} from one Model.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up

import os

from mambaboot.common import confined, fsops, packagedata
from mambaboot.environment import record
from mambaboot.common.errors import VerifyError
from mambaboot.shell.activation import cmd, envvars, fish, posix, powershell, sources
from mambaboot.shell.activation.model import Model


def shells(prefix: str, windows: bool) -> dict[str, bytes]:
    """Relative path (with '/') -> content of each shell's activate and deactivate script: what
    depends on the prefix's path alone, not on anything in it (create makes it while its engine
    runs)."""
    model = Model(windows=windows, prefix=prefix)
    families = (cmd, powershell) if windows else (posix, fish, powershell)
    scripts: dict[str, bytes] = {}
    for family in families:
        for name, data in family.render(model).items():
            scripts[f"{record.RECORD_DIR}/{name}"] = data
    return scripts


def render(prefix: str, windows: bool, made: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Relative path (with '/') -> content of every script for this environment.
    made: shells(prefix, windows), made already."""
    scripts = dict(made) if made is not None else shells(prefix, windows)
    # the variables' fragments, and the script that writes them again from the environment's python
    sources.check_data(prefix, envvars.data_files(prefix))
    try:
        fragments = envvars.fragments(prefix, envvars.FRAGMENTS[windows])
    except ValueError as exc:  # data conda could not read either (envvars.Broken), a value no shell can hold (NUL)
        raise VerifyError(str(exc)) from None
    for name, data in fragments.items():
        scripts[f"{record.RECORD_DIR}/{name}"] = data
    scripts[f"{record.RECORD_DIR}/envvars.py"] = packagedata.read(__package__, "envvars.py")
    return scripts


def write(prefix: str, windows: bool, dry_run: bool = False, sync: bool = True,
          made: dict[str, bytes] | None = None) -> list[str]:
    """Write (or with dry_run only compute) the scripts; returns their relative paths.
    sync: see fsops.atomic_write_many; made: see render."""
    scripts = render(prefix, windows, made)
    if not dry_run:
        confined.write_many_in(prefix, scripts.items(), mode=fsops.user_mode(0o666), sync=sync)
    return sorted(scripts)
