"""Files shipped beside our modules (activation templates, envvars.py), read from a
checkout, a wheel or the zipapp alike.

What `pkgutil.get_data` does, without importing `importlib.util` for it: ~9 ms of every
`create`, which reads its templates on each run (issue 16).
"""

import os
import sys


def read(package: str, name: str) -> bytes:
    module = sys.modules[package]  # the caller's own package: imported already
    return module.__loader__.get_data(os.path.join(os.path.dirname(module.__file__), name))
