"""The environment's own variables (etc/conda/env_vars.d, conda-meta/state), as shell fragments
that stay right after the environment's conda changes them, without mambaboot.

Shells cannot parse JSON without starting a process, so each activation script sources a
fragment (PREFIX/.mambaboot/vars.sh, vars.fish) holding the variables and, first, a check
that the files it was made from still hold what they held (compared in the shell: no
process). Only when they changed does the script run this very file, copied to
PREFIX/.mambaboot/envvars.py, with the environment's own python to write the fragments
again (`python -I -S PREFIX/.mambaboot/envvars.py PREFIX`), then source the new fragment.
It therefore imports nothing but the standard library. An environment without python
cannot be healed that way; its scripts then refuse and name `mambaboot activate-scripts`.

conda's reading (conda/activate.py `_get_environment_env_vars`, conda 26.x): every entry of
env_vars.d sorted by path, then conda-meta/state's "env_vars", later ones winning; PATH is
reserved and dropped (constants.RESERVED_ENV_VARS); a value "***unset***" (what
`conda env config vars unset` writes) is left out of activation: the variable is not set,
and one the shell already has stays as it is (`_build_activate_stack` filters it out).
"""

import json
import os
import sys

UNSET = "***unset***"
STATE = "conda-meta/state"
ENV_VARS_DIR = "etc/conda/env_vars.d"
RESERVED = ("PATH",)
STALE_RC = 3  # what a fragment returns when its files changed since it was written
_NAME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_FIRST | frozenset("0123456789")


class Broken(ValueError):
    """The data cannot be read the way conda reads it (conda could not activate either)."""


def valid_name(name):
    """A name every supported shell can set and unset (POSIX sh is the narrowest)."""
    return bool(name) and name[0] in _NAME_FIRST and all(c in _NAME_REST for c in name)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise Broken(f"cannot read {path}: {exc.strerror}") from None


def data_files(prefix):
    """[(relative path, bytes or None when absent)]: env_vars.d's files in conda's order, then state."""
    directory = os.path.join(prefix, *ENV_VARS_DIR.split("/"))
    try:
        # hidden files aside (conda would read them too, but no shell glob sees them)
        names = sorted(e.name for e in os.scandir(directory) if e.is_file() and not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        names = []
    except OSError as exc:
        raise Broken(f"cannot read {directory}: {exc.strerror}") from None
    found = [(f"{ENV_VARS_DIR}/{n}", _read(os.path.join(directory, n)) or b"") for n in names]
    return found + [(STATE, _read(os.path.join(prefix, *STATE.split("/"))))]


def _variables(where, raw, key):
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Broken(f"{where} is not valid JSON ({exc}); conda could not activate this environment either") from None
    if key is not None:
        doc = doc.get(key, {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        raise Broken(f"{where}: expected a JSON object of variable names to values")
    found = {}
    for name, value in doc.items():
        if not valid_name(name):
            raise Broken(f"{where}: {name!r} is not a valid environment variable name")
        found[name] = value if isinstance(value, str) else json.dumps(value)
    return found


def variables(prefix, data):
    """[(name, value)] activation sets, in conda's order."""
    merged = {}
    for rel, raw in data:
        if rel != STATE:
            merged.update(_variables(os.path.join(prefix, rel), raw, None))
        elif raw is not None and raw.strip():
            merged.update(_variables(os.path.join(prefix, rel), raw, "env_vars"))
    return [(k, v) for k, v in merged.items() if k not in RESERVED and v != UNSET]


def sh_quote(value):
    """A single POSIX shell word that expands to exactly `value` (any text without NUL)."""
    if "\0" in value:
        raise ValueError("a shell variable cannot hold a NUL character")
    return "'" + value.replace("'", "'\\''") + "'"


def fish_quote(value):
    """A single fish word that expands to exactly `value` (any text without NUL)."""
    if "\0" in value:
        raise ValueError("a fish variable cannot hold a NUL character")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _text(raw):
    return raw.decode("utf-8", "surrogateescape")


def render_sh(data, found):
    """vars.sh: `_mambaboot_read` (activate.sh) leaves a file's text with a final newline."""
    lines = ["# mambaboot: this environment's variables for activate.sh, written by envvars.py (do not edit)",
             "_mambaboot_stale="]
    for rel, raw in data:
        path = f'"$_mambaboot_p/{rel}"'
        if raw is None:
            lines.append(f"if [ -e {path} ]; then _mambaboot_stale={sh_quote(rel)}; fi")
            continue
        text = _text(raw)
        text = text if text == "" or text.endswith("\n") else text + "\n"
        lines.append(f'if ! _mambaboot_read {path} || [ "$_mambaboot_c" != {sh_quote(text)} ]; then '
                     f"_mambaboot_stale={sh_quote(rel)}; fi")
    count = len(data) - 1
    lines += [f'_mambaboot_count "$_mambaboot_p/{ENV_VARS_DIR}/"*',
              f'if [ "$_mambaboot_n" != {count} ]; then _mambaboot_stale={sh_quote(ENV_VARS_DIR)}; fi',
              f'if [ -n "$_mambaboot_stale" ]; then return {STALE_RC}; fi',
              "_mambaboot_names=" + sh_quote(" ".join(k for k, _ in found)),
              "_mambaboot_own() {"]
    lines += [f"    export {k}={sh_quote(v)}" for k, v in found]
    return lines + ["    :", "}"]


def render_fish(data, found):
    """vars.fish: `string collect` drops a file's trailing newlines. fish's `return` in a sourced
    file would leave the caller's function, so the check is a function of its own."""
    lines = ["# mambaboot: this environment's variables for activate.fish, written by envvars.py (do not edit)",
             "function _mambaboot_fresh --argument-names _mambaboot_p",
             "    set -l stale"]
    for rel, raw in data:
        path = f"$_mambaboot_p/{rel}"
        if raw is None:
            lines.append(f"    test -e {path}; and set stale {fish_quote(rel)}")
            continue
        lines += [f"    if test -f {path}; and test -r {path}",
                  f"        set -l content (string collect < {path})",
                  f'        test "$content" = {fish_quote(_text(raw).rstrip(chr(10)))}; or set stale {fish_quote(rel)}',
                  "    else",
                  f"        set stale {fish_quote(rel)}",
                  "    end"]
    lines += [f"    set -l found $_mambaboot_p/{ENV_VARS_DIR}/*",
              f"    test (count $found) -ne {len(data) - 1}; and set stale {fish_quote(ENV_VARS_DIR)}",
              "    set -g _mambaboot_stale $stale",
              f"    test -z \"$stale\"; or return {STALE_RC}",
              "end",
              "set -g _mambaboot_names " + " ".join(fish_quote(k) for k, _ in found),
              "function _mambaboot_own"]
    lines += [f"    set -gx {k} {fish_quote(v)}" for k, v in found]
    return lines + ["end"]


# Each shell's fragment: file name in .mambaboot/ -> (renderer, newline, encoding)
RENDERERS = {
    "vars.sh": (render_sh, "\n", "utf-8"),
    "vars.fish": (render_fish, "\n", "utf-8"),
}
# Which fragments an environment has, by its layout
FRAGMENTS = {False: ("vars.sh", "vars.fish"), True: ()}


def fragments(prefix, windows):
    """{file name in .mambaboot/: bytes} for the prefix as it is now."""
    data = data_files(prefix)
    found = variables(prefix, data)
    out = {}
    for name in FRAGMENTS[windows]:
        render, newline, encoding = RENDERERS[name]
        errors = "surrogateescape" if encoding == "utf-8" else "strict"
        out[name] = (newline.join(render(data, found)) + newline).encode(encoding, errors)
    return out


def write(prefix, contents):
    """Each file replaced whole (a shell sourcing it at that moment sees the old or the new one)."""
    directory = os.path.join(prefix, ".mambaboot")
    for name, data in contents.items():
        path = os.path.join(directory, name)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "wb") as f:
            f.write(data)
        os.replace(temp, path)


def main(argv):
    prefix = os.path.abspath(argv[1])
    try:
        write(prefix, fragments(prefix, os.name == "nt"))
    except (Broken, ValueError, OSError) as exc:
        sys.stderr.write(f"mambaboot: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
