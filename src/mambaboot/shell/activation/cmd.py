"""cmd.exe activation: activate.bat and deactivate.bat (call them; they change the caller's cmd).

cmd re-parses whatever a %VAR% expands to, so values are handled with care:
- the prefix comes from %~dp0 through a FOR variable (exact for any path Windows allows) and
  the script refuses unless PREFIX\\.mambaboot\\activate.bat and PREFIX\\conda-meta exist
  there, which also catches cmd's misreport of %~dp0 for a quoted name found through PATH;
- values baked in at generation time are written unquoted with every operator escaped
  (quote()), so they are exact whatever they contain;
- values read at run time (PATH, PROMPT, earlier values of the variables it sets) are copied
  with %VAR% when delayed expansion is off (cmd's default); a value holding both a double
  quote and one of & | < > ^ cannot be copied that way and is refused, naming the variable.
  With delayed expansion on they are copied with !VAR!, which is exact for anything; then the
  path, the hook names and the baked values must not contain "!" (refused otherwise).
Hook scripts are started from a called label (see _RUN), which keeps % and ^ in their paths.
Only cmd builtins run (set, if, for, call, goto, echo).
"""

from typing import Dict, List, Tuple

from mambaboot.common import winsys
from mambaboot.common.errors import VerifyError
from mambaboot.shell.activation import environ
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode

ACTIVATE = "activate.bat"
DEACTIVATE = "deactivate.bat"
_S = "_MAMBABOOT_"
_OPERATORS = '^&|<>()"'


def quote(value: str) -> str:
    """Text for `set NAME=<here>` in a batch file (delayed expansion off) that sets exactly value.

    Every cmd operator is escaped with ^ and % is doubled. cmd variables cannot hold a line
    break or NUL, and an empty value deletes the variable (cmd has no empty variables).
    """
    for bad, what in (("\r", "carriage return"), ("\n", "line feed"), ("\0", "NUL")):
        if bad in value:
            raise ValueError(f"a cmd variable cannot hold a {what}")
    out = []
    for ch in value:
        if ch in _OPERATORS:
            out.append("^" + ch)
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _in_quotes(text: str) -> str:
    """Literal text inside "...", as in set "X=...": only % needs doubling (no " can occur
    in the paths and names this is used for)."""
    return text.replace("%", "%%")


def _ref(name: str, delayed: bool) -> str:
    return f"!{name}!" if delayed else f"%{name}%"


def _win(rel: str) -> str:
    return rel.replace("/", "\\")


def _usage() -> List[str]:
    return ['call "PREFIX\\.mambaboot\\activate.bat"', 'undo: call "PREFIX\\.mambaboot\\deactivate.bat"']


def _header(model: Model) -> List[str]:
    return model.header("@REM", _usage()) + ['@if "!!"=="" (set "_MAMBABOOT_ON=1") else (set "_MAMBABOOT_ON=")']


def _locate() -> List[str]:
    return [
        f'@for %%P in ("%~dp0..") do @set "{_S}P=%%~fP"',
        f'@if not exist "%{_S}P%\\.mambaboot\\activate.bat" goto _mambaboot_lost',
        f'@if not exist "%{_S}P%\\conda-meta\\" goto _mambaboot_lost',
        f'@if not "%{_S}P:;=%"=="%{_S}P%" goto _mambaboot_separator',
    ]


def _baked_texts(model: Model) -> List[str]:
    texts = [v for _, v in model.sets]
    for directory, _, names in model.listings(".bat"):
        texts += names
    return texts + list(model.hooks("activate", ".bat")) + list(model.hooks("deactivate", ".bat"))


def _guard(model: Model) -> List[str]:
    lines = [f'@set "{_S}T="']
    for rel, raw in model.src.data:
        path = f"%{_S}P%\\{_in_quotes(_win(rel))}"
        what = _win(rel.rsplit("/", 1)[0] if rel.endswith(".json") else rel)
        if raw is None:
            lines.append(f'@if exist "{path}" set "{_S}T={what}"')
        else:
            lines.append(f'@for %%F in ("{path}") do @if not "%%~zF"=="{len(raw)}" set "{_S}T={what}"')
    for directory, ext, names in model.listings(".bat"):
        d = _win(directory)
        # counted from inside the directory: a quoted path with a wildcard matches nothing in Wine's cmd
        where = f'"%{_S}P%\\{d}"'
        lines.append(f"@set {_S}N=0")
        lines.append(f"@if exist {where[:-1]}\\\" (pushd {where} & (for %%F in (*{ext}) do @set /a {_S}N+=1) & popd)")
        lines.append(f'@if not "%{_S}N%"=="{len(names)}" set "{_S}T={d}"')
        lines += [f'@if not exist "%{_S}P%\\{d}\\{_in_quotes(n)}" set "{_S}T={d}"' for n in names]
    return lines + [f"@if defined {_S}T goto _mambaboot_stale"]


def _copy_checks(names: Tuple[str, ...]) -> List[str]:
    """Delayed expansion off: refuse values that %VAR% cannot copy (a " with an operator)."""
    lines = [f'@set "{_S}Q="', "@if defined _MAMBABOOT_ON goto _mambaboot_checked"]
    for i, name in enumerate(names):
        skip = f"_mambaboot_c{i}"
        t, u, w = f"%{_S}T%", f"%{_S}U%", f"%{_S}W%"
        lines += [
            f"@if not defined {name} goto {skip}",
            f'@set "{_S}T=%{name}:"=%"',
            f'@set "{_S}U=%{name}:"=#%"',
            f'@set "{_S}W=%{_S}T:&=%"',
            f'@set "{_S}W=%{_S}W:|=%"',
            f'@set "{_S}W=%{_S}W:<=%"',
            f'@set "{_S}W=%{_S}W:>=%"',
            f'@set "{_S}W=%{_S}W:^=%"',
            f'@if not "{t}"=="{u}" if not "{t}"=="{w}" set "{_S}Q={name}"',
            f"@if defined {_S}Q goto _mambaboot_quoted",
            f":{skip}",
        ]
    return lines + [":_mambaboot_checked"]


def _sets(model: Model, delayed: bool) -> List[str]:
    p = _ref(f"{_S}P", delayed)
    raw = f"%{_S}P%"  # in `if exist` tests, expanded when the line is read either way
    lines = [f'@set "{_S}OLD_{name}={_ref(name, delayed)}"' for name in model.saved("PROMPT")]
    first, *rest = model.path_suffixes
    entries = p + first + _ref(f"{_S}V", delayed) + "".join(";" + p + s for s in rest)
    exe, python = "\\Scripts\\conda.exe", "\\python.exe"
    lines += [
        # the first MSYS2 tree present (`_get_path_dirs`, conda >= 24.7): tried last to first, the last set wins
        f'@set "{_S}V="',
        *[f'@if exist "{raw}\\Library\\{v}\\" set "{_S}V=;{p}\\Library\\{v}\\bin"' for v in reversed(environ.MSYS2_VARIANTS)],
        f'@set "{_S}T=;{_ref("PATH", delayed)}"',
        f'@if not defined PATH set "{_S}T="',
        f'@set "PATH={entries}{_ref(_S + "T", delayed)}"',
        f'@set "CONDA_PREFIX={p}"',
        "@set CONDA_SHLVL=1",
        f'@set "CONDA_DEFAULT_ENV={p}"',
        # its own conda activates it as its root: "base" and conda's own variables (environ.conda_values)
        f'@if exist "{raw}{exe}" set "CONDA_DEFAULT_ENV=base"',
        f'@if exist "{raw}{exe}" set "CONDA_EXE={p}{exe}"',
        f'@if exist "{raw}{exe}" set "_CONDA_EXE={p}{exe}"',
        f'@if exist "{raw}{exe}" set "CONDA_PYTHON_EXE={p}{python}"',
        f'@if exist "{raw}{exe}" set "_CONDA_ROOT={p}"',
        f'@if exist "{raw}{exe}" set "_CE_M="',
        f'@if exist "{raw}{exe}" set "_CE_CONDA="',
        f'@set "CONDA_PROMPT_MODIFIER=({_ref("CONDA_DEFAULT_ENV", delayed)}) "',
        f'@set "MAMBA_ROOT_PREFIX={p}"',
        '@if not defined PROMPT set "PROMPT=$P$G"',
        f'@set "PROMPT={_ref("CONDA_PROMPT_MODIFIER", delayed)}{_ref("PROMPT", delayed)}"',
        f'@set "{_S}ACTIVE={p}"',
    ]
    return lines


def _calls(model: Model, phase: str, root: str) -> List[str]:
    lines = []
    for name in model.hooks(phase, ".bat"):
        lines += [f'@set "{_S}F=%{root}%\\etc\\conda\\{phase}.d\\{_in_quotes(name)}"', "@call :_mambaboot_run"]
    return lines


# A batch file started without CALL from a called label returns to the label's caller.
# Unlike `call "%F%"`, this does not expand % a second time nor double the ^ in the path.
_RUN = [":_mambaboot_run", f'@"%{_S}F%"']


def _clear(names: List[str]) -> str:
    return "@" + " & ".join(f'set "{n}="' for n in names)


_TEMPS = [f"{_S}{n}" for n in ("ON", "P", "T", "U", "W", "Q", "N", "F", "V")]


def _fail(label: str, message: str) -> List[str]:
    return [f":{label}", f"@>&2 echo mambaboot: {message}", "@goto _mambaboot_fail"]


def _activate(model: Model) -> List[str]:
    lines = _header(model)
    lines.append(f"@if defined {_S}ACTIVE goto _mambaboot_still")
    lines.append(f'@set "{_S}T="')
    lines += [f'@if defined {name} set "{_S}T={name}"' for name in model.refuse_if_set]
    lines.append(f"@if defined {_S}T goto _mambaboot_busy")
    lines += _locate()
    lines += _guard(model)
    if any("!" in text for text in _baked_texts(model)):
        lines.append("@if defined _MAMBABOOT_ON goto _mambaboot_bang")
    lines += _copy_checks(tuple(n for n in model.saved("PROMPT") if n not in model.refuse_if_set))
    lines += ["@if defined _MAMBABOOT_ON goto _mambaboot_delayed"]
    lines += _sets(model, delayed=False)
    lines += ["@goto _mambaboot_own", ":_mambaboot_delayed"]
    lines += _sets(model, delayed=True)
    lines.append(":_mambaboot_own")
    lines += [f"@set {name}={quote(value)}" for name, value in model.sets]
    lines += _calls(model, "activate", f"{_S}ACTIVE")
    lines += [_clear(_TEMPS), "@exit /b 0"]
    lines += _fail("_mambaboot_still", "an environment activated by mambaboot is still active in this cmd; "
                                       "deactivate it or open a new cmd")
    lines += _fail("_mambaboot_busy", busy(f"%{_S}T% is set").replace("shell", "cmd"))
    lines += _fail("_mambaboot_lost", "cannot find the environment this script belongs to; call it by its path "
                                      "(with delayed expansion on, that path must not contain an exclamation mark)")
    lines += _fail("_mambaboot_separator", "the environment's path holds a semicolon, PATH's separator, so its "
                                           "directories cannot go on PATH; move the environment")
    lines += _fail("_mambaboot_stale", f"%{_S}T% {STALE} PREFIX")
    lines += _fail("_mambaboot_bang", "this environment has names or values with an exclamation mark, which cmd "
                                      "corrupts with delayed expansion on; call this script with it off")
    lines += _fail("_mambaboot_quoted", f"%{_S}Q% holds a double quote together with a cmd operator character, which "
                                        "cmd cannot copy with delayed expansion off; call this script with it on")
    lines += [":_mambaboot_fail", _clear(_TEMPS), "@exit /b 1"] + _RUN
    return lines


def _deactivate(model: Model) -> List[str]:
    saved = model.saved("PROMPT")
    lines = _header(model)
    lines.append(f"@if not defined {_S}ACTIVE goto _mambaboot_none")
    lines.append(_locate()[0])
    lines += [
        "@if defined _MAMBABOOT_ON goto _mambaboot_compare",
        f'@if /i not "%{_S}ACTIVE%"=="%{_S}P%" goto _mambaboot_other',
        "@goto _mambaboot_same",
        ":_mambaboot_compare",
        f'@if /i not "!{_S}ACTIVE!"=="!{_S}P!" goto _mambaboot_other',
        ":_mambaboot_same",
    ]
    lines += _calls(model, "deactivate", f"{_S}ACTIVE")
    lines.append("@if defined _MAMBABOOT_ON goto _mambaboot_delayed")
    lines += [f'@set "{name}=%{_S}OLD_{name}%"' for name in saved]
    lines += ["@goto _mambaboot_restored", ":_mambaboot_delayed"]
    lines += [f'@set "{name}=!{_S}OLD_{name}!"' for name in saved]
    lines.append(":_mambaboot_restored")
    lines.append(_clear([f"{_S}OLD_{name}" for name in saved] + [f"{_S}ACTIVE"]))
    lines += [_clear(_TEMPS), "@exit /b 0"]
    lines += _fail("_mambaboot_none", NOT_ACTIVE.replace("this shell", "this cmd").replace("`", ""))
    lines += _fail("_mambaboot_other", "the active environment is not the one this script belongs to; "
                                       "use the deactivate.bat next to the activate.bat you called")
    lines += [":_mambaboot_fail", _clear(_TEMPS), "@exit /b 1"] + _RUN
    return lines


def render(model: Model) -> Dict[str, bytes]:
    encoding = winsys.batch_encoding()
    try:
        return encode({ACTIVATE: _activate(model), DEACTIVATE: _deactivate(model)}, "\r\n", encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise VerifyError(f"{bad!r} in this environment's variables cannot be written in a batch file "
                          f"(console code page {encoding}); cmd could not set it") from None
