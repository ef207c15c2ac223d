__HEADER__
& {
    $fail = { param($message) Write-Error -Message ('mambaboot: ' + $message) -Category InvalidOperation }
    if ($global:_MambabootActive) {
        & $fail "__STILL_ACTIVE__"; return
    }
    foreach ($name in __REFUSE__) {
        $value = [Environment]::GetEnvironmentVariable($name)
        if ($value) {
            & $fail "__BUSY__"; return
        }
    }
    $prefix = Split-Path -Parent $PSScriptRoot
    if ($prefix.Contains([IO.Path]::PathSeparator)) {
        & $fail "$prefix holds PATH's separator, so its directories cannot go on PATH; move the environment"; return
    }
    if (-not (Test-Path -LiteralPath (Join-Path $prefix 'conda-meta') -PathType Container)) {
        & $fail "$PSScriptRoot is not the .mambaboot directory of an environment"; return
    }
    $stale = $null
    $data = [ordered]@{ __DATA__ }
    foreach ($rel in $data.Keys) {
        $file = Join-Path $prefix $rel
        $now = if (Test-Path -LiteralPath $file -PathType Leaf) { [IO.File]::ReadAllText($file) } else { $null }
        if ($now -cne $data[$rel]) { $stale = $rel }
    }
    $listings = [ordered]@{ __LISTINGS__ }
    foreach ($dir in $listings.Keys) {
        $found = @(Get-ChildItem -LiteralPath (Join-Path $prefix $dir) -Filter $listings[$dir].Pattern -File -ErrorAction SilentlyContinue | ForEach-Object { $_.Name })
        $want = $listings[$dir].Names
        if ($found.Count -ne $want.Count -or @($want | Where-Object { $found -cnotcontains $_ }).Count) { $stale = $dir }
    }
    if ($stale) {
        & $fail "$stale __STALE__ $prefix"; return
    }
    $saved = [ordered]@{}
    foreach ($name in __SAVED__) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    $entries = @(__ENTRIES__)
    # the first MSYS2 tree present goes second (`_get_path_dirs` in conda/activate.py, conda >= 24.7)
    $variant = @(__VARIANTS__ | Where-Object { Test-Path -LiteralPath (Join-Path $prefix ('Library__SEP__' + $_)) -PathType Container })
    if (__WINDOWS__ -and $variant.Count) { $entries = @($entries[0], (Join-Path $prefix ('Library__SEP__' + $variant[0] + '__SEP__bin'))) + $entries[1..($entries.Count - 1)] }
    if ($saved['PATH']) { $entries += $saved['PATH'] }
    [Environment]::SetEnvironmentVariable('PATH', ($entries -join [IO.Path]::PathSeparator))
    [Environment]::SetEnvironmentVariable('CONDA_PREFIX', $prefix)
    [Environment]::SetEnvironmentVariable('CONDA_SHLVL', '1')
    $name = $prefix
    $conda = Join-Path $prefix __CONDA_EXE__
    if (Test-Path -LiteralPath $conda -PathType Leaf) {
        # its own conda activates it as its root: "base" and conda's own variables (environ.conda_values)
        $name = 'base'
        foreach ($pair in @(@('CONDA_EXE', $conda), @('_CONDA_EXE', $conda), @('CONDA_PYTHON_EXE', (Join-Path $prefix __PYTHON_EXE__)),
                            @('_CONDA_ROOT', $prefix), @('_CE_M', $null), @('_CE_CONDA', $null))) {
            [Environment]::SetEnvironmentVariable($pair[0], $pair[1])
        }
    }
    [Environment]::SetEnvironmentVariable('CONDA_DEFAULT_ENV', $name)
    [Environment]::SetEnvironmentVariable('CONDA_PROMPT_MODIFIER', "($name) ")
    [Environment]::SetEnvironmentVariable('MAMBA_ROOT_PREFIX', $prefix)
    $own = [ordered]@{ __SETS__ }
    foreach ($name in $own.Keys) { [Environment]::SetEnvironmentVariable($name, $own[$name]) }
    $global:_MambabootActive = @{ Prefix = $prefix; Saved = $saved; Prompt = $function:prompt }
    if ($function:prompt) {
        function global:prompt { $env:CONDA_PROMPT_MODIFIER + (& $global:_MambabootActive.Prompt) }
    }
    function global:_MambabootDeactivate {
        $state = $global:_MambabootActive
        foreach ($hook in __DEACTIVATE_HOOKS__) {
            . (Join-Path $state.Prefix (__DEACTIVATE_DIR__ + $hook))
        }
        foreach ($name in $state.Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $state.Saved[$name]) }
        if ($state.Prompt) { Set-Item -Path function:global:prompt -Value $state.Prompt }
        Remove-Variable -Name _MambabootActive -Scope Global
        Remove-Item -Path function:global:_MambabootDeactivate
    }
    foreach ($hook in __ACTIVATE_HOOKS__) {
        . (Join-Path $prefix (__ACTIVATE_DIR__ + $hook))
    }
}
