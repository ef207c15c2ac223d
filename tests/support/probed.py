"""A mambaboot command (this checkout's code) in an interpreter that runs a probe of the test's first.

    r = create_probed(world, out, "import os\n...", "-c", channel, "--micromamba", str(standin))
    r = run_probed(world, out, "import os\n...", "adopt", str(prefix))

The probe is Python text run before mambaboot is imported, with `out` naming a file it may write
what it saw to (sys.modules at some moment, the files a call reached).
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _probing(world, out: Path, probe: str) -> None:
    code = ("import sys\nsys.path.insert(0, sys.argv.pop(1)); out = sys.argv.pop(1)\n" + probe +
            "\nfrom mambaboot.cli import entry\nentry(sys.argv[1:])\n")
    world.command = [sys.executable, "-c", code, str(SRC), str(out)]


def create_probed(world, out: Path, probe: str, *args: str):
    _probing(world, out, probe)
    return world.create(*args)


def run_probed(world, out: Path, probe: str, *args: str):
    _probing(world, out, probe)
    return world.run(*args)


# A probe that writes to `out` the path of every file os.fsync is called on, one a line.
FSYNC_PROBE = ("import os\nreal = os.fsync\n"
               "def fsync(fd):\n    open(out, 'a').write(os.readlink(f'/proc/self/fd/{fd}') + '\\n')\n    real(fd)\n"
               "os.fsync = fsync\n")


def synced(out: Path) -> list:
    """(directory, name) of each file FSYNC_PROBE saw synced, in order: Root.write_replace syncs
    ".NAME.mambaboot-tmp-<token>" before renaming it to NAME."""
    paths = [Path(p) for p in out.read_text().splitlines()] if out.exists() else []
    return [(p.parent, p.name[1:].rsplit(".mambaboot-tmp-", 1)[0]) for p in paths]
