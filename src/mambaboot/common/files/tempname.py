"""The one name for everything mambaboot writes under another name than its own: each carries `mambaboot-tmp-<TOKEN>`,
TOKEN the run's own (32 lowercase hex digits, drawn once per process). The forms (docs/reliability.md's state inventory
says who deletes each): beside NAME, what is renamed over it, `.NAME.mambaboot-tmp-<TOKEN>`, or with `-<KIND>` what is
written under no lock of the place; a work file or directory, `mambaboot-tmp-<TOKEN>-<KIND>`; a run's second and later
name, `-<N>` after these. A place set aside (SET_ASIDE) and what is saved inside one (SAVED) have for KIND the role of
the mark that proves them (common/files/proof.py) and never a `-<N>`: the run's intent says the name before it is made.
NAME is the name itself, or `~KEY` for one too long to keep whole within 255 bytes (of_name). The name proves nothing:
a collector deletes only what the place proves. Standard library only, and nothing from mambaboot: pack's unpack script
and the environment's envvars.py carry this module with them."""

import itertools
import os

TEMP_TAG = "mambaboot-tmp"
# The kind of a sibling written under no lock of a place (an activation rewriting its fragments, the cache's notes
# and memo): locked by its writer while it exists, its name says so, so that a collector judges it by its own lock.
UNLOCKED = "locked"
SELF_LOCKED = (UNLOCKED, "activation")  # "activation": what the envvars.py older environments carry writes
_TEMP_LIMIT = 255  # bytes in a file name (NAME_MAX; Windows counts UTF-16 units, fewer)
_TEMP_HEX = "0123456789abcdef"
# the bytes of a NAME kept whole beside it: `.NAME.mambaboot-tmp-<TOKEN>` and up to 24 of `-<KIND>-<N>`
_NAME_ROOM = _TEMP_LIMIT - 1 - (1 + len(TEMP_TAG) + 1 + 32) - 24
_temp_run = [None, None]  # [pid, token]: a forked child draws its own
_temp_count = itertools.count(1)
# The kinds of a place set aside, and of what a run saves in one: their marks' roles (common/files/proof.py).
SET_ASIDE = ("new", "old", "removing", "copy", "source")
SAVED = ("undo",)


def run_token():
    """The token of this run (of this process): 32 lowercase hex digits, drawn once."""
    if _temp_run[0] != os.getpid():
        _temp_run[:] = [os.getpid(), os.urandom(16).hex()]
    return _temp_run[1]


def temp_name(name=None, kind=None, token=None):
    """A name of the forms above: beside name, else a work name, `-<KIND>` after it for kind (UNLOCKED beside name: its
    writer's lock judges it). This run's; or, with token, the run of token's for a place set aside (kind one of SET_ASIDE)
    or saved inside one (no name, one of SAVED), the same every time it is asked."""
    if token is None:
        assert kind is None or _is_kind(kind), kind
        token, n = run_token(), next(_temp_count)
    else:
        assert kind in (SAVED if name is None else SET_ASIDE) and is_token(token), (kind, token)
        n = 1
    head = "" if name is None else f".{of_name(name)}."
    return f"{head}{TEMP_TAG}-{token}{'-' + kind if kind else ''}{'-' + str(n) if n > 1 else ''}"


def of_name(name):
    """What a sibling's name says it is for (parse_temp's NAME): name itself, or, where the whole
    could pass 255 bytes, `~KEY` (32 hex digits of name's sha256), never name cut short: a cut
    name is the start of other names too (`A` of `A.tar.gz`), so its temporary would be theirs."""
    if len(os.fsencode(name)) <= _NAME_ROOM:
        return name
    import hashlib  # only for a long name: OpenSSL is not loaded at every start

    return "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:32]


def sibling(path, kind=None):
    """This run's temp_name of path's last component, beside it."""
    return os.path.join(os.path.dirname(path), temp_name(os.path.basename(path), kind))


def set_aside(path, token, kind):
    """The run of token's temp_name of path's last component set aside as kind, beside it."""
    return os.path.join(os.path.dirname(path), temp_name(os.path.basename(path), kind, token))


def is_token(value):
    """Whether value has the shape of a run's token (an intent's field, untrusted)."""
    return isinstance(value, str) and len(value) == 32 and all(c in _TEMP_HEX for c in value)


def _is_kind(word):
    return word.isalpha() and word.islower() and word.isascii()


def parse_temp(name):
    """(NAME or None, TOKEN, KIND or None) when name is one this scheme gives, else None. NAME is
    what a sibling was named after (of_name: a long one's key); None for a work name."""
    cut = name.rfind(TEMP_TAG + "-")
    base = name[1:cut - 1] if cut else None
    if cut < 0 or cut and not (name[0] == "." == name[cut - 1] and base):
        return None
    token, *words = name[cut + len(TEMP_TAG) + 1:].split("-")  # a token holds no "-"
    kind = words.pop(0) if words and _is_kind(words[0]) else None
    if words and words[0].isdigit() and words[0].isascii() and words[0][0] != "0":
        words.pop(0)
    return None if words or not is_token(token) else (base, token, kind)


def kind_of(name, beside=True):
    """parse_temp's KIND of name ("" for none) when it is a temporary name beside a NAME (beside) or
    a work name (not beside), else None."""
    found = parse_temp(name)
    return None if found is None or (found[0] is None) == beside else found[2] or ""


def is_own(token):
    """Whether token is this run's."""
    return token == _temp_run[1] and _temp_run[0] == os.getpid()
