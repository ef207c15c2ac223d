"""PowerShell activation (Windows PowerShell 5.1 and pwsh): activate.ps1 and deactivate.ps1.

$PSScriptRoot gives the script's own location. Every value is a single-quoted literal
(quote()), variables are read and written through [Environment] so that an absent variable
is told apart and put back as absent, and the files carry a UTF-8 byte order mark, without
which Windows PowerShell 5.1 reads them in the ANSI code page.
"""

from typing import Dict, List, Optional

from mambaboot.shell.activation.model import NOT_ACTIVE, STALE, Model, busy, encode, still_active

ACTIVATE = "activate.ps1"
DEACTIVATE = "deactivate.ps1"
# PowerShell ends a single-quoted string at any of these; inside one, each is written twice.
_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote(value: Optional[str]) -> str:
    """A PowerShell expression with exactly this string value ($null for None)."""
    if value is None:
        return "$null"
    return "'" + "".join(c + c if c in _QUOTES else c for c in value) + "'"


def _array(values) -> str:
    return "@(" + ", ".join(quote(v) for v in values) + ")"


def _usage() -> List[str]:
    return [". PREFIX\\.mambaboot\\activate.ps1", "undo: . PREFIX\\.mambaboot\\deactivate.ps1"]


def _join(rel: str, windows: bool) -> str:
    return rel.replace("/", "\\") if windows else rel


def _activate(model: Model) -> List[str]:
    w = model.windows
    # [IO.File]::ReadAllText drops a byte order mark
    data = "; ".join(f"{quote(_join(rel, w))} = {quote(None if text is None else text[text.startswith(chr(0xFEFF)):])}"
                     for rel, text in model.data_text())
    listings = "; ".join(
        f"{quote(_join(d, w))} = @{{ Pattern = {quote('*' + ext)}; Names = {_array(names)} }}"
        for d, ext, names in model.listings(".ps1")
    )
    sets = "; ".join(f"{quote(k)} = {quote(v)}" for k, v in model.sets)
    hooks = _array(model.hooks("activate", ".ps1"))
    lines = model.header("#", _usage()) + [
        "& {",
        "    $fail = { param($message) Write-Error -Message ('mambaboot: ' + $message) -Category InvalidOperation }",
        "    if ($global:_MambabootActive) {",
        f"        & $fail \"{still_active('$($global:_MambabootActive.Prefix)')}\"; return",
        "    }",
        f"    foreach ($name in {_array(model.refuse_if_set)}) {{",
        "        $value = [Environment]::GetEnvironmentVariable($name)",
        "        if ($value) {",
        f"            & $fail \"{busy('$name=$value')}\"; return",
        "        }",
        "    }",
        "    $prefix = Split-Path -Parent $PSScriptRoot",
        "    if ($prefix.Contains([IO.Path]::PathSeparator)) {",
        "        & $fail \"$prefix holds PATH's separator, so its directories cannot go on PATH; move the environment\"; return",
        "    }",
        "    if (-not (Test-Path -LiteralPath (Join-Path $prefix 'conda-meta') -PathType Container)) {",
        "        & $fail \"$PSScriptRoot is not the .mambaboot directory of an environment\"; return",
        "    }",
        "    $stale = $null",
        f"    $data = [ordered]@{{ {data} }}",
        "    foreach ($rel in $data.Keys) {",
        "        $file = Join-Path $prefix $rel",
        "        $now = if (Test-Path -LiteralPath $file -PathType Leaf) { [IO.File]::ReadAllText($file) } else { $null }",
        "        if ($now -cne $data[$rel]) { $stale = $rel }",
        "    }",
        f"    $listings = [ordered]@{{ {listings} }}",
        "    foreach ($dir in $listings.Keys) {",
        "        $found = @(Get-ChildItem -LiteralPath (Join-Path $prefix $dir) -Filter $listings[$dir].Pattern -File "
        "-ErrorAction SilentlyContinue | ForEach-Object { $_.Name })",
        "        $want = $listings[$dir].Names",
        "        if ($found.Count -ne $want.Count -or @($want | Where-Object { $found -cnotcontains $_ }).Count) { $stale = $dir }",
        "    }",
        "    if ($stale) {",
        f"        & $fail \"$stale {STALE} $prefix\"; return",
        "    }",
        "    $saved = [ordered]@{}",
        f"    foreach ($name in {_array(model.saved())}) {{ $saved[$name] = [Environment]::GetEnvironmentVariable($name) }}",
        f"    $entries = @({', '.join('$prefix + ' + quote(s) for s in model.path_suffixes)})",
        "    if ($saved['PATH']) { $entries += $saved['PATH'] }",
        "    [Environment]::SetEnvironmentVariable('PATH', ($entries -join [IO.Path]::PathSeparator))",
        "    [Environment]::SetEnvironmentVariable('CONDA_PREFIX', $prefix)",
        "    [Environment]::SetEnvironmentVariable('CONDA_SHLVL', '1')",
        "    [Environment]::SetEnvironmentVariable('CONDA_DEFAULT_ENV', $prefix)",
        "    [Environment]::SetEnvironmentVariable('CONDA_PROMPT_MODIFIER', \"($prefix) \")",
        "    [Environment]::SetEnvironmentVariable('MAMBA_ROOT_PREFIX', $prefix)",
        f"    $own = [ordered]@{{ {sets} }}",
        "    foreach ($name in $own.Keys) { [Environment]::SetEnvironmentVariable($name, $own[$name]) }",
        f"    foreach ($name in {_array(model.unsets)}) {{ [Environment]::SetEnvironmentVariable($name, $null) }}",
        "    $global:_MambabootActive = @{ Prefix = $prefix; Saved = $saved; Prompt = $function:prompt }",
        "    if ($function:prompt) {",
        "        function global:prompt { $env:CONDA_PROMPT_MODIFIER + (& $global:_MambabootActive.Prompt) }",
        "    }",
        "    function global:_MambabootDeactivate {",
        "        $state = $global:_MambabootActive",
        f"        foreach ($hook in {_array(model.hooks('deactivate', '.ps1'))}) {{",
        f"            . (Join-Path $state.Prefix ({quote(_join('etc/conda/deactivate.d/', w))} + $hook))",
        "        }",
        "        foreach ($name in $state.Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $state.Saved[$name]) }",
        "        if ($state.Prompt) { Set-Item -Path function:global:prompt -Value $state.Prompt }",
        "        Remove-Variable -Name _MambabootActive -Scope Global",
        "        Remove-Item -Path function:global:_MambabootDeactivate",
        "    }",
        f"    foreach ($hook in {hooks}) {{",
        f"        . (Join-Path $prefix ({quote(_join('etc/conda/activate.d/', w))} + $hook))",
        "    }",
        "}",
    ]
    return lines


def _deactivate(model: Model) -> List[str]:
    lines = model.header("#", _usage()) + [
        "if ((Get-Command _MambabootDeactivate -CommandType Function -ErrorAction SilentlyContinue) -and $global:_MambabootActive) {",
        "    _MambabootDeactivate",
        "} else {",
        f"    Write-Error -Message {quote('mambaboot: ' + NOT_ACTIVE)} -Category InvalidOperation",
        "}",
    ]
    return lines


def render(model: Model) -> Dict[str, bytes]:
    return encode({ACTIVATE: _activate(model), DEACTIVATE: _deactivate(model)}, "\r\n", bom=True)
