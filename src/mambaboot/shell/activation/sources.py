"""What an environment's activation reads from disk, the way conda reads it.

- variables: as conda reads them (envvars.py: env_vars.d's files sorted, then conda-meta/state's
  "env_vars", later ones winning; PATH and "***unset***" values left out);
- hook scripts: etc/conda/activate.d/*.<ext> and deactivate.d/*.<ext>, sorted by code point
  as conda sorts them (shell globs sort by locale, which breaks the `~name` run-last idiom);
- the data files themselves, so generated scripts can notice they are out of date.
"""

import os

from mambaboot.shell.activation import envvars

STATE = envvars.STATE
ENV_VARS_DIR = envvars.ENV_VARS_DIR
HOOK_DIRS = ("etc/conda/activate.d", "etc/conda/deactivate.d")
HOOK_EXTS = (".sh", ".fish", ".bat", ".ps1")


class Sources:
    """What activation reads. A plain class: `run` reads it, and its start-up pays for every
    import (typing and dataclasses included) on each call."""

    __slots__ = ("env_vars", "data", "hooks")

    def __init__(self, env_vars: tuple, data: tuple, hooks: dict):
        self.env_vars = env_vars  # ((name, value), ...): what activation sets, in conda's order (envvars.variables)
        self.data = data  # ((relative path, bytes or None when absent), ...)
        self.hooks = hooks  # {(dir, ext): (name, ...)}

    def hook_names(self, directory: str, ext: str) -> tuple:
        return self.hooks.get((directory, ext), ())


def require_environment(prefix: str, command: str) -> str:
    """The absolute prefix, when it is a conda environment at all (it has conda-meta/); command: the
    one the user ran, which the refusal names."""
    prefix = os.path.abspath(prefix)
    if os.path.isdir(os.path.join(prefix, "conda-meta")):
        return prefix
    # common.errors where an error is raised: a run that reaches its exec pays for none of it (cli.py)
    from mambaboot.common.errors import UsageError, no_such_path

    if not os.path.lexists(prefix):
        raise no_such_path(prefix, command)
    raise UsageError(f"{prefix} is not a conda environment (it has no conda-meta directory)")


def valid_name(name: str) -> bool:
    return envvars.valid_name(name)


def check_data(prefix: str, data: list) -> None:
    """The variables' files read as untrusted text first (nesting, NUL, lone surrogates), so
    that what envvars.py parses, as conda does, cannot take it past Python's recursion limit or
    hand a shell a value it cannot hold. VerifyError (exit 7, as for data conda cannot read)."""
    for rel, raw in data:
        if raw is not None and raw.strip():
            # no re, json or errors imported for a state file that passes: `run` reads every one
            from mambaboot.common import untrusted

            try:
                untrusted.json(raw, os.path.join(prefix, *rel.split("/")))
            except ValueError as exc:
                from mambaboot.common.errors import UntrustedInput, VerifyError

                if not isinstance(exc, UntrustedInput):
                    raise
                raise VerifyError(str(exc)) from None


def read(prefix: str) -> Sources:
    try:
        data = envvars.data_files(prefix)
        check_data(prefix, data)
        env_vars = envvars.variables(prefix, data)
        listings = {directory: envvars.listing(prefix, directory) for directory in HOOK_DIRS}
    except envvars.Broken as exc:
        from mambaboot.common.errors import VerifyError

        raise VerifyError(str(exc)) from None
    hooks = {(directory, ext): tuple(n for n in names if envvars.matches(n, ext))
             for directory, names in listings.items() for ext in HOOK_EXTS}
    return Sources(env_vars=tuple(env_vars), data=tuple(data), hooks=hooks)
