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

import os
import stat
import sys

from mambaboot.common import jsontext  # PREFIX/.mambaboot/envvars.py: the same file (packagedata.standalone)
from mambaboot.common import quoting

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


LIMIT = 16 << 20


def _read(path):
    # Followed if a link, as conda does; but a regular file only, and never waited on (a fifo).
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise Broken(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Broken(f"cannot read {path}: not a regular file")
        data = f.read(LIMIT + 1)
    if len(data) > LIMIT:  # the bounded reader's limit for such a file (common/untrusted.py TEXT)
        raise Broken(f"cannot read {path}: bigger than {LIMIT >> 20} MiB, more than such a file ever holds")
    return data


def listing(prefix, rel):
    """The files in PREFIX/rel, sorted by code point as conda sorts them; hidden files aside
    (conda would read them too, but no shell glob sees them)."""
    directory = os.path.join(prefix, *rel.split("/"))
    try:
        return sorted(e.name for e in os.scandir(directory) if not e.name.startswith(".") and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise Broken(f"cannot read {directory}: {exc.strerror}") from None


def matches(name, ext):
    """Whether a hook script's name has this extension: cmd and PowerShell match *.bat/*.ps1
    regardless of case, sh and fish globs do not."""
    return (name.lower() if ext in (".bat", ".ps1") else name).endswith(ext)


def data_files(prefix):
    """[(relative path, bytes or None when absent)]: env_vars.d's files in conda's order, then state."""
    directory = os.path.join(prefix, *ENV_VARS_DIR.split("/"))
    found = [(f"{ENV_VARS_DIR}/{n}", _read(os.path.join(directory, n)) or b"") for n in listing(prefix, ENV_VARS_DIR)]
    return found + [(STATE, _read(os.path.join(prefix, *STATE.split("/"))))]


def _holdable(value):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return "\0" not in value


def _variables(where, raw, key):
    try:  # json's own C scanner, without the json package (with re and enum): `run` reads every state file
        doc = jsontext.loads((raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw).decode("utf-8"))  # utf-8-sig
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError) as exc:  # json's scanner recurses
        raise Broken(f"{where} is not valid JSON ({exc}); conda could not activate this environment either") from None
    if key is not None:
        doc = doc.get(key, {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        raise Broken(f"{where}: expected a JSON object of variable names to values")
    found = {}
    for name, value in doc.items():
        if not valid_name(name):
            raise Broken(f"{where}: {name!r} is not a valid environment variable name")
        found[name] = value if isinstance(value, str) else _dumps(value)
        if not _holdable(found[name]):
            raise Broken(f"{where}: {name} holds a NUL or a lone surrogate, which no shell variable can hold")
    return found


def _dumps(value):
    import json  # a value that is not a string: rare, and conda writes it back as json.dumps does

    return json.dumps(value)


def variables(prefix, data):
    """[(name, value)] activation sets, in conda's order."""
    merged = {}
    for rel, raw in data:
        if rel != STATE:
            merged.update(_variables(os.path.join(prefix, rel), raw, None))
        elif raw is not None and raw.strip():
            merged.update(_variables(os.path.join(prefix, rel), raw, "env_vars"))
    return [(k, v) for k, v in merged.items() if k not in RESERVED and v != UNSET]


def _text(raw):
    return raw.decode("utf-8", "surrogateescape")


def render_sh(prefix, data, found, encoding):
    """vars.sh: `_mambaboot_read` (activate.sh) leaves a file's text with a final newline."""
    lines = ["# mambaboot: this environment's variables for activate.sh, written by envvars.py (do not edit)",
             "_mambaboot_stale="]
    for rel, raw in data:
        path = f'"$_mambaboot_p/"{quoting.sh(rel)}'
        if raw is None:
            lines.append(f"if [ -e {path} ]; then _mambaboot_stale={quoting.sh(rel)}; fi")
            continue
        text = _text(raw)
        text = text if text == "" or text.endswith("\n") else text + "\n"
        lines.append(f'if ! _mambaboot_read {path} || [ "$_mambaboot_c" != {quoting.sh(text)} ]; then '
                     f"_mambaboot_stale={quoting.sh(rel)}; fi")
    count = len(data) - 1
    lines += [f'_mambaboot_count "$_mambaboot_p/"{quoting.sh(ENV_VARS_DIR)}',
              f'if [ "$_mambaboot_n" != {count} ]; then _mambaboot_stale={quoting.sh(ENV_VARS_DIR)}; fi',
              f'if [ -n "$_mambaboot_stale" ]; then return {STALE_RC}; fi',
              "_mambaboot_names=" + quoting.sh(" ".join(k for k, _ in found)),
              "_mambaboot_own() {"]
    lines += [f"    export {k}={quoting.sh(v)}" for k, v in found]
    return lines + ["    :", "}"]


def render_fish(prefix, data, found, encoding):
    """vars.fish: `string collect` drops a file's trailing newlines. fish's `return` in a sourced
    file would leave the caller's function, so the check is a function of its own."""
    lines = ["# mambaboot: this environment's variables for activate.fish, written by envvars.py (do not edit)",
             "function _mambaboot_fresh --argument-names _mambaboot_p",
             "    set -l stale"]
    for rel, raw in data:
        path = f'"$_mambaboot_p/"{quoting.fish(rel)}'
        if raw is None:
            lines.append(f"    test -e {path}; and set stale {quoting.fish(rel)}")
            continue
        lines += [f"    if test -f {path}; and test -r {path}",
                  f"        set -l content (string collect < {path})",
                  f'        test "$content" = {quoting.fish(_text(raw).rstrip(chr(10)))}; or set stale {quoting.fish(rel)}',
                  "    else",
                  f"        set stale {quoting.fish(rel)}",
                  "    end"]
    lines += [f'    set -l found "$_mambaboot_p/"{quoting.fish(ENV_VARS_DIR)}/*',
              f"    test (count $found) -ne {len(data) - 1}; and set stale {quoting.fish(ENV_VARS_DIR)}",
              "    set -g _mambaboot_stale $stale",
              f"    test -z \"$stale\"; or return {STALE_RC}",
              "end",
              "set -g _mambaboot_names " + " ".join(quoting.fish(k) for k, _ in found),
              "function _mambaboot_own"]
    lines += [f"    set -gx {k} {quoting.fish(v)}" for k, v in found]
    return lines + ["end"]


# ---------------------------------------------------------------- cmd.exe (vars.bat)

BANG_RC = 4  # vars.bat: names or values hold "!", which cmd eats with delayed expansion on
QUOTED_RC = 5  # vars.bat: a variable it saves holds what %VAR% cannot copy (named in _MAMBABOOT_Q)
# What activate.bat saves and deactivate.bat restores itself (environ.CONDA_VARS, EXE_VARS, BAT_VAR and
# PROMPT; tests/test_activation_cmd.py keeps the two in step); vars.bat saves only the others.
BAT_FIXED = ("PATH", "CONDA_PREFIX", "CONDA_SHLVL", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER", "MAMBA_ROOT_PREFIX",
             "CONDA_EXE", "_CONDA_EXE", "_CE_M", "_CE_CONDA", "CONDA_PYTHON_EXE", "_CONDA_ROOT", "CONDA_BAT",
             "PROMPT")
# cmd reads a line of at most 8191 characters; longer data lines are checked by size only
_BAT_LINE_MAX = 4000
_BAT_EOL = "\x01"  # for /f skips lines starting with its eol character (";" by default)


def bat_copy_checks(names, skip_label):
    """Delayed expansion off: set _MAMBABOOT_Q to the first of names whose value %VAR% cannot
    copy (a " together with an operator); skip_label ends the lines. No line expands a value
    more than twice: cmd reads no line longer than 8,191 characters once %VAR% is expanded
    (Microsoft's "Command prompt line string limitation"), and PATH runs to thousands."""
    s = "_MAMBABOOT_"
    lines = [f'@set "{s}Q="', f"@if defined {s}ON goto {skip_label}"]
    t, u, w = f"%{s}T%", f"%{s}U%", f"%{s}W%"
    for i, name in enumerate(names):
        nxt = f"{skip_label}_{i}"
        lines += [f"@if not defined {name} goto {nxt}",
                  f'@set "{s}T=%{name}:"=%"',
                  f'@set "{s}U=%{name}:"=#%"',
                  f'@set "{s}W=%{s}T:&=%"',
                  f'@set "{s}W=%{s}W:|=%"',
                  f'@set "{s}W=%{s}W:<=%"',
                  f'@set "{s}W=%{s}W:>=%"',
                  f'@set "{s}W=%{s}W:^=%"',
                  f'@set "{s}U=" & if not "{t}"=="{u}" set "{s}U=1"',
                  f'@if defined {s}U if not "{t}"=="{w}" set "{s}Q={name}"',
                  f"@if defined {s}Q goto {skip_label}",
                  f":{nxt}"]
    return lines + [f":{skip_label}"]


def _bat_lines(raw, encoding):
    """The lines `for /f` gives for these bytes, as cmd reads them (in its code page): split at
    LF, a CR before it dropped, empty lines skipped."""
    text = raw.decode(encoding, "surrogateescape")
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n") if line not in ("", "\r")]


def _bat_fresh(data, hooks, encoding):
    """The check: exit /b 3 unless every data file and hook listing is what it was. Contents
    are compared line by line without their double quotes (what cmd can compare exactly)."""
    s, p = "_MAMBABOOT_", "%_MAMBABOOT_P%"
    lines = [":_mambaboot_fresh", "@setlocal DisableDelayedExpansion"]
    for rel, raw in data:
        path = f'"{p}\\{quoting.cmd_in_quotes(rel.replace("/", chr(92)))}"'
        if raw is None:
            lines.append(f"@if exist {path} exit /b {STALE_RC}")
            continue
        lines += [f"@if not exist {path} exit /b {STALE_RC}",
                  f'@for %%F in ({path}) do @if not "%%~zF"=="{len(raw)}" exit /b {STALE_RC}']
        found = _bat_lines(raw, encoding)
        for k, line in enumerate(found):
            skip = f"skip={k} " if k else ""
            lines += [f'@set "{s}L="',
                      f'@for /f "usebackq {skip}eol={_BAT_EOL} delims=" %%L in ({path}) do @if not defined {s}L set "{s}L=%%L"',
                      f"@if not defined {s}L exit /b {STALE_RC}"]
            if len(line) <= _BAT_LINE_MAX:
                lines += [f'@set "{s}L=%{s}L:"=%"',
                          f'@set "{s}E={quoting.cmd_in_quotes(line.replace(chr(34), ""))}"',
                          f'@if not "%{s}L%"=="%{s}E%" exit /b {STALE_RC}']
        lines += [f'@set "{s}L="',
                  f'@for /f "usebackq skip={len(found)} eol={_BAT_EOL} delims=" %%L in ({path}) do @set "{s}L=1"',
                  f"@if defined {s}L exit /b {STALE_RC}"]
    listings = [(ENV_VARS_DIR, "", [rel.rsplit("/", 1)[1] for rel, _ in data if rel != STATE])]
    listings += [(f"etc/conda/{phase}.d", ".bat", names) for phase, names in hooks.items()]
    for directory, ext, names in listings:
        where = f"{p}\\{directory.replace('/', chr(92))}"
        # counted from inside the directory: a quoted path with a wildcard matches nothing in Wine's cmd;
        # a long name matched through its 8.3 short name (x.batch as X~1.BAT) is not counted
        match = f'@if /i "%%~xF"=="{ext}" ' if ext else "@"
        lines += [f"@set {s}N=0",
                  f'@if exist "{where}\\" (pushd "{where}" & (for %%F in (*{ext}) do {match}set /a {s}N+=1) & popd)',
                  f'@if not "%{s}N%"=="{len(names)}" exit /b {STALE_RC}']
        lines += [f'@if not exist "{where}\\{quoting.cmd_in_quotes(n)}" exit /b {STALE_RC}' for n in names]
    return lines + ["@exit /b 0"]


# A batch file started without CALL from a called label returns to the label's caller. Unlike
# `call "%F%"`, this does not expand % a second time nor double the ^ in the path. activate.bat
# and deactivate.bat start vars.bat this way with its phase as %1; vars.bat starts hooks with none.
BAT_RUN = (":_mambaboot_run", '@"%_MAMBABOOT_F%" %1')


def _bat_run(phase, names):
    return [line for n in names for line in
            (f'@set "_MAMBABOOT_F=%_MAMBABOOT_P%\\etc\\conda\\{phase}.d\\{quoting.cmd_in_quotes(n)}"', "@call :_mambaboot_run")]


def render_bat(prefix, data, found, encoding):
    """vars.bat, called by activate.bat and deactivate.bat (which set _MAMBABOOT_P and
    _MAMBABOOT_ON, cmd's delayed expansion): with no argument the check (exit /b 3 when stale,
    4 or 5 when this cmd cannot take the values); `apply` saves and sets the variables, records
    their names in _MAMBABOOT_NAMES and runs activate.d; `deactivate` runs deactivate.d, last first."""
    hooks = {phase: [n for n in listing(prefix, f"etc/conda/{phase}.d") if matches(n, ".bat")]
             for phase in ("activate", "deactivate")}
    fixed = {n.upper() for n in BAT_FIXED}
    own = [(k, v) for k, v in found if k.upper() not in fixed]
    s = "_MAMBABOOT_"
    texts = [v for _, v in found] + [n for names in hooks.values() for n in names]
    lines = ["@REM mambaboot: this environment's variables and hooks for activate.bat, written by envvars.py (do not edit)",
             '@if "%~1"=="apply" goto _mambaboot_apply',
             '@if "%~1"=="deactivate" goto _mambaboot_deactivate',
             "@call :_mambaboot_fresh",
             f"@if errorlevel {STALE_RC} exit /b {STALE_RC}"]
    if not all(quoting.cmd_safe_delayed(t) for t in texts):
        lines.append(f"@if defined {s}ON exit /b {BANG_RC}")
    lines += bat_copy_checks([k for k, _ in own], "_mambaboot_copyable")
    lines += [f"@if defined {s}Q exit /b {QUOTED_RC}", "@exit /b 0"]
    lines += _bat_fresh(data, hooks, encoding)
    lines += [":_mambaboot_apply", f"@if defined {s}ON goto _mambaboot_delayed"]
    lines += [f'@set "{s}OLD_{k}=%{k}%"' for k, _ in own]
    lines += ["@goto _mambaboot_saved", ":_mambaboot_delayed"]
    lines += [f'@set "{s}OLD_{k}=!{k}!"' for k, _ in own]
    lines += [":_mambaboot_saved", f'@set "{s}NAMES={" ".join(k for k, _ in own)}"']
    lines += [f"@set {k}={quoting.cmd(v)}" for k, v in found]
    lines += _bat_run("activate", hooks["activate"]) + ["@exit /b 0"]
    lines += [":_mambaboot_deactivate"] + _bat_run("deactivate", hooks["deactivate"][::-1]) + ["@exit /b 0"]
    return lines + list(BAT_RUN)


# ---------------------------------------------------------------- PowerShell (vars.ps1)

def render_ps1(prefix, data, found, encoding):
    """vars.ps1, which activate.ps1 reads and hands to Invoke-Expression inside its script block:
    sets $stale (the last file that changed, $null when none did), $ownNames and $ownValues (the
    variables, in conda's order). Contents are compared as Get-Content -Raw -Encoding UTF8 reads
    them (a byte order mark dropped; an empty file read as ''). Like activate.ps1 it uses no .NET
    type or method, for ConstrainedLanguage mode."""
    def text(raw):
        t = raw.decode("utf-8", "replace")
        return t[1:] if t.startswith("\ufeff") else t

    def array(values):
        return "@(" + ", ".join(quoting.powershell(v) for v in values) + ")"

    names = [rel.rsplit("/", 1)[1] for rel, _ in data if rel != STATE]
    return ["# mambaboot: this environment's variables for activate.ps1, written by envvars.py (do not edit)",
            "$stale = $null",
            f"$files = {array(rel for rel, _ in data)}",
            f"$texts = {array(None if raw is None else text(raw) for _, raw in data)}",
            "for ($i = 0; $i -lt $files.Count; $i++) {",
            "    $file = Join-Path $prefix $files[$i]",
            "    $now = if (Test-Path -LiteralPath $file -PathType Leaf) { [string](Get-Content -Raw -Encoding UTF8 -LiteralPath $file) } else { $null }",
            "    if ($now -cne $texts[$i]) { $stale = $files[$i] }",
            "}",
            f"$want = {array(names)}",
            f"$found = @(Get-ChildItem -LiteralPath (Join-Path $prefix {quoting.powershell(ENV_VARS_DIR)}) -File -ErrorAction SilentlyContinue"
            " | ForEach-Object { $_.Name })",
            f"if ($found.Count -ne $want.Count -or @($want | Where-Object {{ $found -cnotcontains $_ }}).Count) {{ $stale = {quoting.powershell(ENV_VARS_DIR)} }}",
            # two lists, not a hash table: its keys ignore case, and pwsh on Unix has A and a apart
            f"$ownNames = {array(k for k, _ in found)}",
            f"$ownValues = {array(v for _, v in found)}"]


# Each shell's fragment: file name in .mambaboot/ -> (renderer, newline, byte order mark, the
# script that sources it). Windows PowerShell 5.1 reads a file without a byte order mark in the
# ANSI code page.
RENDERERS = {
    "vars.sh": (render_sh, "\n", "", "activate.sh"),
    "vars.fish": (render_fish, "\n", "", "activate.fish"),
    "vars.bat": (render_bat, "\r\n", "", "activate.bat"),
    "vars.ps1": (render_ps1, "\r\n", "\ufeff", "activate.ps1"),
}
# Which fragments an environment has, by its layout
FRAGMENTS = {False: ("vars.sh", "vars.fish", "vars.ps1"), True: ("vars.bat", "vars.ps1")}


def bat_encoding():
    """The encoding cmd.exe reads batch files in: its console's code page as it is now (what
    chcp shows and sets, GetConsoleOutputCP; 65001 after `chcp 65001`), the OEM code page when
    there is no console. A console switched to another code page after vars.bat was written
    reads its non-ASCII bytes wrongly: `mambaboot activate-scripts` in that console writes it
    for that code page (docs/windows.md). Only tests render Windows scripts elsewhere; UTF-8
    serves there."""
    if os.name == "nt":  # pragma: no cover - Windows only
        import ctypes

        kernel32 = ctypes.windll.kernel32
        return f"cp{kernel32.GetConsoleOutputCP() or kernel32.GetOEMCP()}"
    return "utf-8"


def fragments(prefix, names):
    """{file name in .mambaboot/: bytes} for the prefix as it is now, for these fragments."""
    data = data_files(prefix)
    found = variables(prefix, data)
    out = {}
    for name in names:
        render, newline, bom, _ = RENDERERS[name]
        encoding = bat_encoding() if render is render_bat else "utf-8"
        lines = render(prefix, data, found, encoding)
        out[name] = (bom + newline.join(lines) + newline).encode(encoding, "surrogateescape")
    return out


def write(prefix, contents):
    """Each file replaced whole (a shell sourcing it at that moment sees the old or the new one)."""
    directory = os.path.join(prefix, ".mambaboot")
    for name, data in contents.items():
        for _ in range(3):
            if _replaced(os.path.join(directory, name), data):
                break
        else:
            raise OSError(f"{os.path.join(directory, name)}: its new text was taken away three times before its rename")


def _replaced(path, data):
    """path replaced by a new file holding data; False: the new file was taken away before its rename.

    Written under no lock of the place (an activation runs beside any command), the new file is locked itself while it
    exists, as common/files/filelock.py locks (flock; on Windows, byte 0 by msvcrt.locking): the next run holding the
    place's lock deletes only a killed writer's, whose lock it can take (common/files/leftovers.py). Taken between its
    creation and this lock, or on Windows between the unlock and the rename (a locked file cannot be renamed there),
    the new text is written again under a new name."""
    from mambaboot.common.files import tempname  # the same file too; not on `run`'s way to its exec

    temp = tempname.sibling(path, tempname.UNLOCKED)  # an activation takes no lock of the place
    # a new file (never one a link planted at that name leads to), renamed over the old one
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_BINARY", 0), 0o664)  # never writable by every user, whatever the umask
    with os.fdopen(fd, "r+b") as f:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.write(data)  # taken meanwhile: the rename finds nothing to rename
        f.flush()
        if sys.platform == "win32":  # a file open there is not renamed: unlocked and closed first
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
            f.close()
        try:
            os.replace(temp, path)  # elsewhere still locked: the lock is the file's, whatever its name
        except FileNotFoundError:
            return False
        return True


def main(argv):
    prefix = os.path.abspath(argv[1])
    # the fragments of the scripts this environment has (whichever python runs this)
    names = [n for n, (*_, script) in RENDERERS.items() if os.path.isfile(os.path.join(prefix, ".mambaboot", script))]
    try:
        write(prefix, fragments(prefix, names))
    except (Broken, ValueError, OSError) as exc:
        sys.stderr.write(f"mambaboot: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
