"""conda-lock's own lock file models (conda-lock 4.0.3, installed without its dependencies:
tools/test.py NO_DEPS says why), loaded without the package's __init__, which imports its whole
command line (click, poetry, ...). Only pydantic and pyyaml are needed for what is used here."""

import importlib.util
import sys
import types
from pathlib import Path


def _load():
    found = importlib.util.find_spec("conda_lock")
    assert found is not None and found.origin, "conda-lock is not installed (tools/test.py installs it)"
    root = Path(found.origin).parent
    # Empty parent packages: importing conda_lock.lockfile.v1.models must not run conda_lock/__init__.py
    # nor conda_lock/lockfile/__init__.py.
    for name, where in (("conda_lock", root), ("conda_lock.lockfile", root / "lockfile")):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(where)]
            sys.modules[name] = module
    from conda_lock.lockfile.v1 import models as v1
    from conda_lock.lockfile.v2prelim import models as v2

    return v1, v2


v1, v2 = _load()


def parse(text: str):
    """What conda_lock.lockfile.parse_conda_lock_file does with a version 1 file (less its
    topological sort): yaml.safe_load, the v1 model's validation, the conversion to v2."""
    import yaml

    content = yaml.safe_load(text)
    version = content.pop("version", None)
    assert version == 1, f"not a version 1 lock file: {version!r}"
    return v2.lockfile_v1_to_v2(v1.Lockfile.model_validate(content))


def write(lockfile) -> str:
    """What conda_lock.lockfile.write_conda_lock_file writes (less its help text): the v1 output
    dumped by PyYAML with its keys in the model's order."""
    import yaml

    lockfile.alphasort_inplace()
    return yaml.dump(lockfile.to_v1().dict_for_output(), sort_keys=False)
