"""Shell init left by `conda init` / `micromamba shell init`: finding it, and taking it out.

Two kinds: blocks in rc files and profiles, between
    # >>> conda initialize >>>   ...   # <<< conda initialize <<<      (and mamba's)
    #region conda initialize    ...   #endregion                     (PowerShell form)
and cmd.exe AutoRun values (HKCU/HKLM Software\\Microsoft\\Command Processor) that run a
conda/mamba hook. Bare hook lines outside any block (`eval "$(micromamba shell hook -s bash)"`,
`conda shell.fish hook | source`, ...), as the conda and micromamba docs tell users to write
by hand, are found too but only reported: one such line may be the body of an `if`, so
taking it out could break the file. Removal takes out exactly those lines or AutoRun commands, keeps a backup
of each file (next to it) and each registry value (a .reg file in the home directory), and
leaves everything else byte for byte as it was.
"""

import codecs
import datetime
import os
import re
from typing import List, Mapping, Optional, Tuple

from mambaboot.common import fsops, winsys
from mambaboot.common.values import value

_START = re.compile(r"^\s*(?:#\s*>>>\s*(?P<a>conda|mamba) initialize\s*>>>|#region (?P<b>conda|mamba) initialize)\s*$")
_HOOK = re.compile(r"(?:conda|mamba|micromamba)[-_]hook\.(?:bat|cmd)|condabin\\(?:conda|mamba|micromamba)\.(?:bat|cmd)", re.I)
AUTORUN_SEPARATOR = " & "
# The hook commands, in every spelling upstream writes or documents:
#   conda: `conda shell.bash hook`, `'conda' 'shell.bash' 'hook'`, `python -m conda shell.bash hook`,
#     `(& "conda.exe" "shell.powershell" "hook") | Out-String | ?{$_} | Invoke-Expression`,
#     `eval conda "shell.fish" "hook" $argv | source` (conda/core/initialize.py: _bashrc_content,
#     init_fish_user, _powershell_profile_content, _xonsh_content)
#   micromamba/mamba: `"$MAMBA_EXE" shell hook --shell bash`, `shell hook -s xonsh`,
#     `(& $Env:MAMBA_EXE 'shell' 'hook' -s 'powershell' ...) | Out-String | Invoke-Expression`
#     (libmamba/src/core/shell_init.cpp, 2.8.1: rcfile_content, xonsh_content, fish_content,
#     powershell_contents); micromamba 1.x also wrote `--shell=bash`.
_Q = r"""["'}]*"""
_BARE_HOOK = re.compile(
    rf"(?:conda|mamba|CONDA_EXE|MAMBA_EXE)(?:\.exe)?{_Q}\s+{_Q}shell(?:\.[a-z]+)?{_Q}\s+{_Q}hook\b", re.I)


@value
class Block:
    path: str
    first: int  # 1-based line numbers, inclusive
    last: int
    tool: str  # conda | mamba
    text: str


@value
class HookLine:
    path: str
    line: int  # 1-based
    text: str


@value
class Found:
    blocks: List[Block]
    problems: List[str]  # "path:line: ..." for blocks with no end marker: never touched
    lines: List[HookLine]  # bare hook lines outside blocks: reported, never touched


@value
class AutoRun:
    hive: str  # HKCU | HKLM
    value: str
    kind: int  # registry value type, kept when the value is written back
    hooks: Tuple[str, ...]  # the commands in it that run a conda/mamba hook

    @property
    def remaining(self) -> str:
        return AUTORUN_SEPARATOR.join(c for c in _commands(self.value) if c not in self.hooks)


def rc_files(home: str, environ: Mapping[str, str], windows: bool, documents: Optional[str] = None) -> List[str]:
    """Every file conda/mamba init writes to, for this user (existing or not)."""
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    names = [os.path.join(home, n) for n in (".bashrc", ".bash_profile", ".zshrc", ".tcshrc", ".xonshrc")]
    names.append(os.path.join(config, "fish", "config.fish"))
    if windows:
        docs = documents or os.path.join(home, "Documents")
        dirs = [os.path.join(docs, "WindowsPowerShell"), os.path.join(docs, "PowerShell")]
    else:
        dirs = [os.path.join(config, "powershell")]
    for d in dirs:
        names += [os.path.join(d, "Microsoft.PowerShell_profile.ps1"), os.path.join(d, "profile.ps1")]
    return names


def _decode(raw: bytes) -> Tuple[str, str]:
    """(text, encoding) that round-trips: PowerShell profiles may be UTF-16 with a BOM."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(encoding), encoding
    return raw.decode("utf-8", "surrogateescape"), "utf-8"


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogateescape" if encoding == "utf-8" else "strict")


def _read(path: str) -> Optional[Tuple[List[str], str]]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    text, encoding = _decode(raw)
    return text.splitlines(keepends=True), encoding


def _scan(path: str, lines: List[str]) -> Found:
    blocks, problems, inside = [], [], set()
    i = 0
    while i < len(lines):
        m = _START.match(lines[i])
        if not m:
            i += 1
            continue
        tool = m.group("a") or m.group("b")
        end = re.compile(rf"^\s*#\s*<<<\s*{tool} initialize\s*<<<\s*$" if m.group("a") else r"^\s*#endregion\b")
        j = next((k for k in range(i + 1, len(lines)) if end.match(lines[k])), None)
        if j is None:
            problems.append(f"{path}:{i + 1}: '{lines[i].strip()}' has no end marker; left alone, remove it by hand")
            inside.update(range(i, len(lines)))
            break
        blocks.append(Block(path, i + 1, j + 1, tool, "".join(lines[i:j + 1])))
        inside.update(range(i, j + 1))
        i = j + 1
    bare = [HookLine(path, n + 1, line.strip()) for n, line in enumerate(lines)
            if n not in inside and not line.lstrip().startswith("#") and _BARE_HOOK.search(line)]
    return Found(blocks, problems, bare)


def find_blocks(paths: List[str]) -> Found:
    """The init blocks in these files, unterminated blocks and bare hook lines (both reported, not touched).

    A symlinked file (a dotfile manager's) is read through the link: the block is in the file it points to.
    """
    blocks, problems, bare = [], [], []
    for path in paths:
        read = _read(path)
        if read is not None:
            found = _scan(path, read[0])
            blocks += found.blocks
            problems += found.problems
            bare += found.lines
    return Found(blocks, problems, bare)


def _stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%dT%H%M%S")


def _backup_name(path: str) -> str:
    candidate = f"{path}.mambaboot-backup-{_stamp()}"
    n = 1
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{path}.mambaboot-backup-{_stamp()}-{n}"
    return candidate


def remove_blocks(path: str) -> Optional[str]:
    """Take every init block out of one file; returns the backup's path (None: nothing to do).

    A symlink (dotfile managers link ~/.bashrc into their repository) is followed: the file it
    points to is rewritten and the link stays a link. The backup sits next to the name the
    user knows. A file with an unterminated block is never touched.
    """
    read = _read(path)
    if read is None:
        return None
    lines, encoding = read
    found = _scan(path, lines)
    blocks = found.blocks
    if not blocks or found.problems:
        return None
    real = os.path.realpath(path)
    with open(path, "rb") as f:
        original = f.read()
    backup = _backup_name(path)
    fsops.atomic_write(backup, original, mode=os.stat(path).st_mode & 0o777)
    drop = {n for b in blocks for n in range(b.first - 1, b.last)}
    kept = "".join(line for n, line in enumerate(lines) if n not in drop)
    fsops.atomic_write(real, _encode(kept, encoding), mode=os.stat(real).st_mode & 0o777)
    return backup


def _commands(value: str) -> List[str]:
    # conda and micromamba both append their hook to AutoRun with " & ".
    return [c.strip() for c in value.split(AUTORUN_SEPARATOR) if c.strip()]


def find_autoruns() -> List[AutoRun]:
    """AutoRun values (HKCU, HKLM) that run a conda/mamba hook."""
    found = []
    for hive in winsys.HIVES:
        current = winsys.read_autorun(hive)
        if current is None:
            continue
        value, kind = current
        hooks = tuple(c for c in _commands(value) if _HOOK.search(c))
        if hooks:
            found.append(AutoRun(hive, value, kind, hooks))
    return found


def _reg_string(value: str, kind: int) -> str:
    if kind == winsys.REG_EXPAND_SZ:
        data = (value + "\0").encode("utf-16-le")
        return "hex(2):" + ",".join(f"{b:02x}" for b in data)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def remove_autorun(entry: AutoRun, home: str) -> str:
    """Take the hook commands out of one AutoRun value; returns the .reg backup's path."""
    key = {"HKCU": "HKEY_CURRENT_USER", "HKLM": "HKEY_LOCAL_MACHINE"}[entry.hive]
    backup = _backup_name(os.path.join(home, f"mambaboot-autorun-{entry.hive}.reg"))
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{key}\\{winsys.COMMAND_PROCESSOR}]\r\n"
        f'"AutoRun"={_reg_string(entry.value, entry.kind)}\r\n'
    )
    fsops.atomic_write(backup, ("\ufeff" + text).encode("utf-16-le"))
    try:
        winsys.write_autorun(entry.hive, entry.remaining or None, entry.kind)
    except OSError:
        os.unlink(backup)  # nothing changed: a backup of it would only mislead
        raise
    return backup
