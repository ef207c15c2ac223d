"""Test-extra packages that install on Python >= 3.10 only (pyproject.toml marks them
`python_version >= "3.10"`: none of them ships a build for 3.9). The tests that need one fail,
never skip, on an older harness, and say how to test mambaboot on that Python instead.

    rattler_index = newer_only("rattler.index")
"""

import importlib
import sys

OLDEST = (3, 10)
# distribution in pyproject's test extra -> the module the tests import from it
PACKAGES = {"py-rattler": "rattler", "tree-sitter": "tree_sitter", "tree-sitter-powershell": "tree_sitter_powershell"}


def newer_only(module: str, version=None):
    """Import module (of one of PACKAGES); on a harness older than OLDEST, an ImportError that
    names the cause and the remedy."""
    assert module.split(".")[0] in PACKAGES.values(), f"{module} is not one of {sorted(PACKAGES.values())}"
    version = sys.version_info if version is None else version
    if tuple(version[:2]) < OLDEST:
        raise ImportError(
            f"{module} (pyproject.toml's test extra) installs on Python >= 3.10 only and the tests run on "
            f"{version[0]}.{version[1]}: run them on 3.10 or later, with MAMBABOOT_TEST_PYTHON naming this "
            "Python to run mambaboot itself on it")
    return importlib.import_module(module)
