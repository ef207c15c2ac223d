"""Hashing and naming: sha256 of data and files, keys naming a path, stamps of a file's identity
and last change, a place's lock file (deleting and replacing are the Root's: confined.py)."""

import os
import sys

PLACE_LOCK = "mambaboot-lock"  # the tag of a place's lock file (environment/placelock.py)
_NAME_MAX = 255


def place_lock(place: str) -> str:
    """The lock file of place, beside it, the same for every spelling of it: the place's real
    path, a link to it (its last component too) resolved, so a run through the link and one
    through the place itself exclude each other. `.NAME.mambaboot-lock`, or a key of the place
    for a name too long for that. Here, below its taker (placelock) and settle, which names it."""
    real, name = os.path.split(os.path.realpath(os.path.abspath(place)))
    if len(os.fsencode(name)) + len(PLACE_LOCK) + 2 > _NAME_MAX:
        return os.path.join(real, f".{PLACE_LOCK}-{path_key(os.path.join(real, name))}")
    return os.path.join(real, f".{name}.{PLACE_LOCK}")


def stat_stamp(st: os.stat_result) -> str:
    """A file's identity and last change as memos in the cache keep them (device, inode, size,
    mtime, ctime): any write moves ctime, which no unprivileged process can set back."""
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def path_key(path: str) -> str:
    """32 hex digits naming a path in a flat directory of the cache (a cache note, a given
    micromamba's memo): the same path, spelled in any case on Windows, gives the same key."""
    return sha256_hex(os.path.normcase(os.path.abspath(path)).encode("utf-8", "surrogateescape"))[:32]


def sha256_hex(data: bytes) -> str:
    """hashlib.sha256(data).hexdigest() for a few bytes (a path, a URL), without OpenSSL where the
    interpreter has its own sha256, the module hashlib falls back on: hashlib loads libcrypto and
    its configuration (~4 ms), and create needs a path's key before its engine starts."""
    # CPython 3.12 and later name it _sha2, 3.11 and earlier _sha256 (a failed import searches every
    # entry of sys.path: ~0.3 ms); hashlib where the interpreter was built without it
    for module in ("_sha2" if sys.version_info >= (3, 12) else "_sha256", "hashlib"):
        try:
            return __import__(module).sha256(data).hexdigest()
        except ImportError:
            pass


def file_digest(f, algo: str) -> str:
    """The hex digest of what is left to read in an open binary file, by chunks."""
    import hashlib  # loads OpenSSL (several times faster on megabytes): not at every command's start

    digest = hashlib.new(algo)
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()
