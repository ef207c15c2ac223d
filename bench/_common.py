"""What every benchmark here shares: this checkout's mambaboot, a clean environment, a timer."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.support builds the channel and the micromamba stand-in

# The checkout's code, whatever is installed (as the tests run it).
MAMBABOOT = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
             "from mambaboot.cli import main; sys.exit(main(sys.argv[1:]))"]


def clean_env(root: Path) -> Dict[str, str]:
    """PATH and locale only, with HOME and TMPDIR inside the benchmark's own directory."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"))
    return env


def timed(argv: List[str], env: Dict[str, str], check: bool = True) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start
