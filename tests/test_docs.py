"""Every command example marked runnable in the README and docs/ is executed here.

A fenced ```sh block preceded by `<!-- runnable -->` (or `<!-- runnable: exit=N -->` for an
example that shows a refusal) runs in bash with `set -eu`, in a fresh world, in document
order, so later examples can use what earlier ones made. Offline, the default channel and
micromamba come from MAMBABOOT_CHANNELS / MAMBABOOT_MICROMAMBA (documented variables), and
the current directory holds `channel/` and `micromamba` for examples that name them.
"""

import os
import re
import shlex
import stat
import subprocess
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from tests.conftest import MAMBABOOT, REPO

MARKER = re.compile(r"^<!-- runnable(?:: exit=(\d+))? -->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")


def runnable_blocks(text: str):
    """(expected exit code, code, line number) for each marked block, in order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            fence = FENCE.match(lines[j]) if j < len(lines) else None
            assert fence and fence.group(1) in ("sh", "bash", "console"), f"line {i + 1}: marker without a sh block"
            k = j + 1
            while not lines[k].startswith("```"):
                k += 1
            blocks.append((int(m.group(1) or 0), "\n".join(lines[j + 1:k]), j + 1))
            i = k
        i += 1
    return blocks


DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_marker_parser():
    text = "x\n<!-- runnable -->\n```sh\necho a\n```\n<!-- runnable: exit=4 -->\n\n```sh\nfalse\n```\n```sh\nnot marked\n```\n"
    assert runnable_blocks(text) == [(0, "echo a", 3), (4, "false", 8)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_documented_examples_run(doc, world, channel, standin):
    blocks = runnable_blocks(doc.read_text())
    bindir = world.root / "bin"
    bindir.mkdir()
    shim = bindir / "mambaboot"
    launcher = " ".join(shlex.quote(a) for a in MAMBABOOT)
    shim.write_text(f'#!/bin/sh\nexec {launcher} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    work = world.envs
    (work / "channel").symlink_to(url2pathname(urlsplit(channel).path))
    (work / "micromamba").symlink_to(standin)
    env = {**world.env, "PATH": f"{bindir}{os.pathsep}{world.env['PATH']}",
           "MAMBABOOT_CHANNELS": channel, "MAMBABOOT_MICROMAMBA": str(standin)}
    for expected, code, line in blocks:
        proc = subprocess.run(["bash", "-c", "set -eu\n" + code], env=env, cwd=str(work),
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        assert proc.returncode == expected, f"{doc.name}:{line}: exit {proc.returncode}\n{code}\n{proc.stderr}"
