"""PowerShell activation (Windows PowerShell 5.1 and pwsh): activate.ps1 and deactivate.ps1.

They are run as text, not as scripts: line() reads the file with Get-Content and hands the
text to Invoke-Expression, in a script block whose parameter $MambabootPrefix names the environment.
An execution policy governs script files only, so this runs under the client default
Restricted and under AllSigned, without changing the policy (Microsoft Learn,
about_Execution_Policies: Restricted "permits individual commands, but does not allow
scripts"; Invoke-Expression runs a string). conda's own PowerShell profile line does the same
with its hook's text (conda/core/initialize.py _powershell_profile_content, conda 26.7.1).
The text uses cmdlets, operators and the Env: drive only, no .NET type or method, so that
ConstrainedLanguage mode (AppLocker, App Control) runs it as FullLanguage does
(about_Language_Modes); tests/test_quoting.py walks its syntax tree for that. Dot-sourced as a
file, where the policy allows scripts, the text finds the environment from $PSScriptRoot.
Every value is a single-quoted literal (quote()), and the files carry a UTF-8 byte order
mark, without which Windows PowerShell 5.1 reads them in the ANSI code page.
"""

from __future__ import annotations  # annotations stay text: no typing at start-up


from mambaboot.common import quoting
from mambaboot.shell.activation import environ
from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, fill, still_active

ACTIVATE = "activate.ps1"
DEACTIVATE = "deactivate.ps1"
quote = quoting.powershell


# What `conda activate` (deactivate, reactivate) says in a PowerShell activate.ps1 made ({0}: conda
# or mamba, {1}: the word, {2}: the prefix). The deactivation line shown ends in $env:CONDA_PREFIX,
# expanded when typed, so it is exact for any prefix with no quoting at run time.
TOOL_REFUSAL = ("`{{0}} {{1}}` cannot change this PowerShell session (no conda or mamba shell hook is loaded "
                "here; on Windows it would run {{0}}.bat in a child cmd.exe and change nothing), and this shell "
                "holds {{2}}: one environment per shell. Leave it with "
                "{deactivate}; then, here or in a new PowerShell, run the other environment's activation line")
TOOL_MISSING = "{{0}}: not in {{1}} and not on PATH"
# What activate.ps1 says when the execution policy keeps the packages' own .ps1 hooks from running
# ({0}: the policy, {1}: the hooks left out, {2}: the way out; {0} of a way: PREFIX\.mambaboot).
# about_Execution_Policies: Restricted runs no script file, AllSigned only signed ones, RemoteSigned
# any made on this machine; a policy set by Group Policy overrides Set-ExecutionPolicy's.
HOOKS_SKIPPED = ("the execution policy here is {0} (Restricted runs no script file, AllSigned only signed ones), so "
                 "these activation hooks of the environment's packages were not run: {1}; {2}")
HOOKS_USER_POLICY = ('to run them, activate in cmd.exe instead (call "{0}\\activate.bat"), or let the scripts on '
                     "this machine run for your user: Set-ExecutionPolicy -Scope CurrentUser RemoteSigned")
HOOKS_GROUP_POLICY = ('to run them, activate in cmd.exe instead (call "{0}\\activate.bat"): Group Policy sets the '
                      "execution policy here, and Set-ExecutionPolicy cannot change it")


def line(prefix: str, script: str = ACTIVATE, sep: str = "\\", literal: bool = True) -> str:
    """The one line that runs script (activate.ps1 or deactivate.ps1) of the environment at
    prefix in PowerShell under any execution policy and language mode. literal=False: prefix is
    PowerShell text given as it is (e.g. $env:CONDA_PREFIX)."""
    given = quote(prefix) if literal else prefix
    return (f'& {{ param($MambabootPrefix) Invoke-Expression (Get-Content -Raw -LiteralPath '
            f'"$MambabootPrefix{sep}.mambaboot{sep}{script}") }} {given}')


def _array(values) -> str:
    return "@(" + ", ".join(quote(v) for v in values) + ")"


def _usage() -> list[str]:
    return [line("PREFIX"), "undo: " + line("PREFIX", DEACTIVATE)]


def _activate(model: Model) -> list[str]:
    from mambaboot.environment import roothook

    w = model.windows
    fixed = ("PATH", *environ.CONDA_VARS, *environ.EXE_VARS, *((environ.BAT_VAR,) if w else ()))
    return fill(
        ACTIVATE, HEADER=model.header("#", _usage()), STILL_ACTIVE=still_active("$($global:_MambabootActive.Prefix)"),
        REFUSE=_array(model.refuse_if_set), BUSY=busy("$name=$value"), STALE=STALE,
        SAVED=", ".join(quote(n) for n in fixed), ENTRIES=", ".join("$prefix + " + quote(s) for s in model.path_suffixes),
        VARIANTS=_array(environ.MSYS2_VARIANTS), VARIANT_AT=str(environ.VARIANT_AT), WINDOWS="$true" if w else "$false", SEP="\\" if w else "/",
        PATHSEP=";" if w else ":", ROOT_HOOK=roothook.NAME + ".ps1", NAME_SEPS="\\\\/" if w else "/", BAT_CANDIDATES=_array(environ.BAT_CANDIDATES),
        CONDA_EXE=quote("Scripts\\conda.exe" if w else "bin/conda"), PYTHON_EXE=quote("python.exe" if w else "bin/python"),
        # mamba 2.x's program (the feedstock's build_mamba.bat installs it into Library\\bin)
        MAMBA_EXE=quote("Library\\bin\\mamba.exe" if w else "bin/mamba"),
        # the line's braces doubled: PowerShell's -f fills this text in
        TOOL_REFUSAL=quote(TOOL_REFUSAL.format(deactivate=line("$env:CONDA_PREFIX", DEACTIVATE, "\\" if w else "/", literal=False)
                                               .replace("{", "{{").replace("}", "}}"))),
        TOOL_MISSING=quote(TOOL_MISSING.format()),
        HOOKS_SKIPPED=quote(HOOKS_SKIPPED), HOOKS_USER_POLICY=f"({quote(HOOKS_USER_POLICY)} -f $here)",
        HOOKS_GROUP_POLICY=f"({quote(HOOKS_GROUP_POLICY)} -f $here)",
    )


def render(model: Model) -> dict[str, bytes]:
    deactivate = fill(DEACTIVATE, HEADER=model.header("#", _usage()), NOT_ACTIVE=quote("mambaboot: " + NOT_ACTIVE))
    return encode({ACTIVATE: _activate(model), DEACTIVATE: deactivate}, "\r\n", bom=True)
