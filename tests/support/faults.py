"""Run mambaboot with an OS error injected where the disk or the system would give it.

    python faults.py -- mambaboot-args...

FAULTS=module:name#N=ERRNO,... (module: dotted, under mambaboot): the N-th call of that
module-level function raises OSError(ERRNO) naming its first argument, as the system call it
stands for would (a full disk, a denied rename, a busy file); every other call goes through.
"""

import errno
import functools
import importlib
import os
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")


def _inject(spec: str) -> None:
    where, code = spec.split("=")
    target, nth = where.split("#")
    module_name, name = target.split(":")
    module = importlib.import_module(module_name)
    real, calls = getattr(module, name), [0]

    @functools.wraps(real)
    def faulty(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(nth):
            number = getattr(errno, code)
            raise OSError(number, os.strerror(number), str(args[0]) if args else None)
        return real(*args, **kwargs)

    setattr(module, name, faulty)


def main() -> int:
    sys.path.insert(0, SRC)
    for spec in filter(None, os.environ.get("FAULTS", "").split(",")):
        _inject(spec)
    from mambaboot.cli import main as mambaboot

    return mambaboot(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
