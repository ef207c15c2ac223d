"""The one name for everything mambaboot writes under another name than its own: a file's new
text before its rename, a download before it is verified, a work directory in CACHE/tmp or the
temporary directory. Each carries `mambaboot-tmp-<TOKEN>`, TOKEN the run's own (32 lowercase
hex digits, drawn once per process), so that whoever finds one knows it is mambaboot's and
which run made it, and the run that made it knows its own:

- beside NAME, what is renamed over it: `.NAME.mambaboot-tmp-<TOKEN>` (NAME shortened from its
  end so that the whole stays within a file name's 255 bytes);
- a work file or directory of its own: `mambaboot-tmp-<TOKEN>-<KIND>` (KIND lowercase letters);
- beside NAME, written under no lock of the place (an activation rewriting its fragments):
  `.NAME.mambaboot-tmp-<TOKEN>-<KIND>`;
- a run's second and later name: `-<N>` after either.

The name is no proof of anything: a collector deletes only what the place it finds it in proves
(a regular file of the user's in a place whose lock it holds; a work directory carrying the
mark of its lock file's token: common/files/workdir.py). Standard library only, and nothing from
mambaboot: pack's unpack script and the environment's envvars.py carry this module with them.
"""

import itertools
import os

TEMP_TAG = "mambaboot-tmp"
# The kind of a sibling written under no lock of the place (an activation rewriting its fragments):
# its name says so, so that a run settling the place judges it by its own lock, not the place's.
UNLOCKED = "activation"
_TEMP_LIMIT = 255  # bytes in a file name (NAME_MAX; Windows counts UTF-16 units, fewer)
_TEMP_HEX = "0123456789abcdef"
_temp_run = [None, None]  # [pid, token]: a forked child draws its own
_temp_count = itertools.count(1)


def run_token():
    """The token of this run (of this process): 32 lowercase hex digits, drawn once."""
    if _temp_run[0] != os.getpid():
        _temp_run[:] = [os.getpid(), os.urandom(16).hex()]
    return _temp_run[1]


def _temp_suffix():
    n = next(_temp_count)
    return "" if n == 1 else f"-{n}"


def sibling_name(name, kind=None):
    """The name the new content of name is written under, beside it, by this run. kind: written
    under no lock of the place (an activation's): judged dead by its own lock, which its writer
    holds while it exists (common/files/leftovers.py collect_unlocked), never by the place's."""
    tail = f".{TEMP_TAG}-{run_token()}{'-' + _temp_kind(kind) if kind else ''}{_temp_suffix()}"
    room = _TEMP_LIMIT - 1 - len(tail)
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}{tail}"


def sibling(path, kind=None):
    """sibling_name of path's last component, beside it."""
    directory, name = os.path.split(path)
    return os.path.join(directory, sibling_name(name, kind))


def work_name(kind):
    """The name of a work file or directory of this run: `mambaboot-tmp-<TOKEN>-<KIND>`."""
    return f"{TEMP_TAG}-{run_token()}-{_temp_kind(kind)}{_temp_suffix()}"


def _temp_kind(kind):
    assert kind.isalpha() and kind.islower() and kind.isascii(), kind
    return kind


def parse_temp(name):
    """(NAME or None, TOKEN, KIND or None) when name is one this scheme gives, else None. NAME is
    what a sibling was named after (shortened, for a long one); None for a work name."""
    cut = name.rfind(TEMP_TAG + "-")
    if cut < 0 or (cut > 0 and not (name.startswith(".") and cut >= 2 and name[cut - 1] == ".")):
        return None
    base = name[1:cut - 1] if cut else None
    rest = name[cut + len(TEMP_TAG) + 1:]
    token, rest = rest[:32], rest[32:]
    if len(token) != 32 or any(c not in _TEMP_HEX for c in token):
        return None
    kind = None
    words = rest.split("-")
    if words[0] != "" or len(words) > 3:
        return None
    words = words[1:]
    if words and words[0].isalpha() and words[0].islower() and words[0].isascii():
        kind = words.pop(0)
    if words and words[0].isdigit() and words[0].isascii() and words[0][0] != "0":
        words.pop(0)
    if words or base == "":
        return None
    return base, token, kind


def is_own(token):
    """Whether token is this run's."""
    return token == _temp_run[1] and _temp_run[0] == os.getpid()
