"""Run mambaboot, held where one of its functions first returns, until the test lets it go on.

    python pausepoints.py FILE:FUNCTION FIFO -- mambaboot-args...

FILE is a path under src/mambaboot/ (pipeline/move.py). When FUNCTION defined there first
returns, this process opens FIFO for reading: that returns once the test has opened it for
writing, so when the test's open returns the run is known to be there. It then reads FIFO to
its end: closing it lets the run go on. No sleeps and no timing, as killpoints.py.
"""

import os
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")


def main() -> int:
    where, fifo, args = sys.argv[1], sys.argv[2], sys.argv[4:]
    rel, function = where.split(":")
    filename = os.path.join(SRC, "mambaboot", *rel.split("/"))
    sys.path.insert(0, SRC)
    held = []

    def profile(frame, event, arg):
        if event == "return" and not held and frame.f_code.co_name == function and frame.f_code.co_filename == filename:
            held.append(True)
            with open(fifo, "rb") as f:
                f.read()

    sys.setprofile(profile)
    from mambaboot.cli import main as mambaboot

    code = mambaboot(args)
    sys.setprofile(None)
    return code


if __name__ == "__main__":
    sys.exit(main())
