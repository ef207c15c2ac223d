"""What killed runs left for the next run of a place to settle (environment/settle.py), found without changing
anything, and the command that settles each. `list` and `doctor` name them and settle nothing: settling takes the
place's lock, which only a run that changes the place may do. Looking takes no lock either: a lock file is opened, never
made (filelock.held), and one a live run holds is that run's, not a leftover. The advice follows settle.TABLE
(docs/reliability.md, "The settle table").
"""

import os

from mambaboot.common import output, quoting
from mambaboot.common.files import fsops, tempname
from mambaboot.environment import placelock, settle


def field(value) -> str:
    """A word of an intent, or a path read from disk, as a line shows it: every control character,
    a newline too, escaped, so that no field read from a file makes a line of its own."""
    return output.shown(str(value))


def found(envs_dir, paths=(), beside: bool = False) -> list:
    """(place, file holding the intent, intent) for each lock file a killed run left in envs_dir (if any) and at paths
    (beside: and in the directories holding them): one entry per file (a move's intent is in the lock of both places)."""
    left: dict = {}
    given = [(place, fsops.place_lock(place), placelock.killed(place)) for place in map(os.path.abspath, paths)]
    near = [e for place in (paths if beside else ()) for e in placelock.unsettled(os.path.dirname(os.path.abspath(place)))]
    for place, path, body in (placelock.unsettled(envs_dir) if envs_dir else []) + given + near:
        if body is not None:
            left.setdefault(os.path.realpath(path), (place, path, body))
    return list(left.values())


def said(place: str, path: str, body: dict) -> str:
    """What the run was and where it left its intent."""
    if not body:
        return (f"{field(path)} is the lock file of a mambaboot run of {field(place)} killed as it ended (its intent "
                "emptied, the file not yet deleted): nothing of that run is left to settle")
    aside = body.get("aside") if isinstance(body.get("aside"), str) and os.path.isdir(body["aside"]) else None
    kind = tempname.parse_temp(os.path.basename(aside)) if aside else None
    return (f"a mambaboot {field(body.get('operation'))} of {field(place)} was killed at its stage "
            f"{field(body.get('stage'))} ({field(path)})" + (f"; {settle.SET_ASIDE_AS.get(kind[2], 'what it set aside')} "
                                                             f"of {field(place)} is kept at {field(aside)}" if kind else ""))


def advice(windows: bool, place: str, path: str, body: dict) -> str:
    """The command that settles the intent at path (place's), or what to do by hand."""
    given, place, path = place, field(place), field(path)  # given: as a command names it
    row = settle.TABLE.get((body.get("operation"), body.get("stage")))
    again = quoting.advice(["mambaboot", "doctor", "--settle", given], windows, "`mambaboot doctor --settle PREFIX`")
    if not body:
        return f"{again} deletes it (and so does any run that changes it)"
    if settle.unsettled_move(body) and not settle.move_shaped(body):
        return f"it is not one mambaboot writes, and nothing settles it: if no move of yours is under way, delete {path}"
    if row is None:
        return (f"this mambaboot does not know that stage and leaves it as it is (every run that would change "
                f"{place} is refused meanwhile): " + settle.CLEAR.format(lock=path))
    if row[0] is settle.TABLE[("create", "engine")][0] and settle.new_left(body, given) == "stuck":
        return settle.stuck(body, given, windows, field)  # the create rows would leave what is there to the user
    return f"{again} settles it (and so does any run that changes {place}, before its own work)"
