"""The steps of a move's settling that need the layers above environment/: settle.py's move rows call them, injected
by the runs that may settle a move (move, remove, create pass steps() to the place lock they take); any other run is
refused, naming the move that settles it.

- undo: the environment is back at SRC (renamed back, never renamed, or moved in place): every file naming DST names
  SRC's old place again, the activation scripts are written again (each activate.sh carries a digest of where it
  lives: no text rewrite takes it back), and the record's inputs.prefix and last move are put back last: cut short,
  the record still says there is something to put back, and the next settling does it again.
"""

from mambaboot.common import quoting
from mambaboot.common.errors import MambabootError
from mambaboot.environment import record


def steps(windows: bool) -> dict:
    return {"undo": lambda src, dst, old, renamed: undo(src, dst, old, renamed, windows)}


def undo(prefix: str, dst: str, old: str, renamed: bool, windows: bool) -> list[str]:
    """Put the move of prefix to dst back (see the module); what could not be done, one sentence each."""
    from mambaboot.relocate import rewrite, scan  # only when a move is put back: heavy for create and remove
    from mambaboot.shell.activation import generate

    findings = [f for f in scan.find(prefix, dst, windows) if f.kind != scan.RECORD]
    data = record.read(prefix) or {}  # of its shape (record.RECORD): inputs a dict, moves a list of them
    inputs, moves = data.get("inputs", {}), data.get("moves", [])
    listed = bool(moves) and moves[-1].get("to") == dst
    named = inputs.get("prefix") == dst
    if not (renamed or findings or listed or named):
        return []  # nothing of the move reached the files
    rewrite.relocate(prefix, findings, dst, old, windows)
    said = []
    try:  # an environment without a record (mambaboot did not make or adopt it) had no activation scripts
        if data:
            generate.write(prefix, windows)
    except (OSError, MambabootError) as exc:
        said = [f"the activation scripts of {prefix} could not be written again ({exc}); "
                "run " + quoting.advice(["mambaboot", "activate-scripts", prefix], windows, "mambaboot activate-scripts")]
    if listed or named:
        if named:
            data["inputs"] = dict(inputs, prefix=old)
        if listed and moves[:-1]:
            data["moves"] = moves[:-1]
        elif listed:  # the move began the list: a record that listed none has none again
            del data["moves"]
        record.write(prefix, data)
    return said

