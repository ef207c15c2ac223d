"""Kill mambaboot (and its process group, micromamba included) at its N-th function call.

    python killpoints.py N COUNT_FILE -- mambaboot-args...

N = 0 never kills and writes the total number of calls made inside the mambaboot package
to COUNT_FILE, so a test can spread kill points evenly over a whole run. Counting calls
instead of waiting a delay makes every point reproducible and needs no sleeps.

With KILLPOINT_SIGNAL=INT (or TERM) that signal goes to this process alone instead, and the run
goes on to handle it (with KILLPOINT_GROUP=1 to its whole process group, children included, as a
terminal sends Ctrl-C); with STOP the run is held at that point (a test
waits for it with waitpid(WUNTRACED)) until it is sent SIGCONT, then goes on to its end.

With KILLPOINT_MARKS=module.function,... (module: the file's name without .py) the number of
the call that first entered each is written to COUNT_FILE.marks as JSON, so a test can kill a
run exactly as it enters a step. With KILLPOINT_AT=module.function+K the run is killed K calls
after it first enters that function (N is then ignored): the same step whatever calls came before.
module.function#M+K counts from its M-th entry instead of its first; module.function#M> (or
module.function+done) kills at the first call after that entry returned (a stage just written,
nothing done in it yet). An intent's stage is also a step of its own: `placelock.stage:NAME` is
placelock.Intent.stage(NAME) (so `placelock.stage:verified+done`: killed as the intent says
verified, before anything else is done). A run that never reaches the point is not killed: its
exit code says so.
"""

import json

import os
import signal
import sys

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
PACKAGE = os.path.join(SRC, "mambaboot") + os.sep


def main() -> int:
    target, count_file, args = int(sys.argv[1]), sys.argv[2], sys.argv[4:]
    sys.path.insert(0, SRC)
    calls = 0
    polite = getattr(signal, "SIG" + os.environ["KILLPOINT_SIGNAL"]) if os.environ.get("KILLPOINT_SIGNAL") else 0
    wanted = set(filter(None, os.environ.get("KILLPOINT_MARKS", "").split(",")))
    at, after, nth, on_return = _point(os.environ.get("KILLPOINT_AT", ""))
    if at:
        wanted.add(at)
    marks, entries, armed = {}, {}, []

    def profile(frame, event, arg):
        nonlocal calls, target
        if event == "return" and armed and armed[0] is frame:
            armed[0] = "returned"  # the next call of the package is the point
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            calls += 1
            if wanted:
                key = os.path.basename(frame.f_code.co_filename)[:-3] + "." + frame.f_code.co_name
                keys = (key, f"{key}:{frame.f_locals.get('name')}") if key == "placelock.stage" else (key,)
                for key in keys:
                    if key in wanted and key not in marks:
                        marks[key] = calls
                    if key == at:
                        entries[key] = entries.get(key, 0) + 1
                        if entries[key] == nth and on_return:
                            armed.append(frame)
                        elif entries[key] == nth:
                            target = calls + after
            if on_return and armed == ["returned"]:
                target = calls
            if calls == target:
                if polite:  # once: a run held with STOP goes on when continued
                    armed.clear()
                    target = -2
                    if os.environ.get("KILLPOINT_GROUP"):
                        os.killpg(0, polite)
                    else:
                        os.kill(os.getpid(), polite)
                else:
                    os.killpg(0, signal.SIGKILL)  # as if the terminal died: micromamba goes too

    sys.setprofile(profile)
    from mambaboot.cli import main as mambaboot

    code = mambaboot(args)
    sys.setprofile(None)
    with open(count_file, "w") as f:
        f.write(str(calls))
    if wanted:
        with open(count_file + ".marks", "w") as f:
            json.dump(marks, f)
    return code


def _point(text: str) -> tuple:
    """(module.function, K, M, after its return) of KILLPOINT_AT's text, or ("", 0, 1, False)."""
    where, plus, after = text.partition("+")
    if after == "done":
        where, plus, after = where + ">", "", ""
    on_return = where.endswith(">")
    at, _, nth = where.rstrip(">").partition("#")
    return at, int(after or 0) if plus else 0, int(nth or 1), on_return


if __name__ == "__main__":
    sys.exit(main())
