__HEADER__
& {
    $fail = { param($message) Write-Error -Message ('mambaboot: ' + $message) -Category InvalidOperation }
    # ConstrainedLanguage mode (an AppLocker or App Control policy: about_Language_Modes) refuses
    # the .NET calls below one by one, as errors that do not stop a script: the busy check would
    # pass unread and PATH stay as it was, yet the functions below be defined. Refused first, with
    # nothing that mode refuses, so that nothing changes.
    if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
        & $fail ('this session runs in ' + $ExecutionContext.SessionState.LanguageMode + ' mode (an AppLocker or App Control policy), which refuses what activation needs; nothing was changed'); return
    }
    # read through Get-Variable: Set-StrictMode in a profile makes an unset variable an error here
    if (Get-Variable -Name _MambabootActive -Scope Global -ValueOnly -ErrorAction SilentlyContinue) {
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
    # Windows PowerShell 5.1 reads a path given to . or & as a wildcard pattern, with no literal
    # form (PowerShell issue 4726): with [ or ] in it, . and & below would run another file or none
    if ($PSVersionTable.PSVersion.Major -lt 6 -and ($prefix.Contains('[') -or $prefix.Contains(']'))) {
        & $fail "$prefix holds [ or ], which Windows PowerShell 5.1 reads as a wildcard when it runs a file; use PowerShell 7 or activate.bat"; return
    }
    if (-not (Test-Path -LiteralPath (Join-Path $prefix 'conda-meta') -PathType Container)) {
        & $fail "$PSScriptRoot is not the .mambaboot directory of an environment"; return
    }
    # this environment's variables (envvars.py); written again by its own python once they changed
    $fragment = Join-Path $PSScriptRoot 'vars.ps1'
    $stale = 'vars.ps1'
    if (Test-Path -LiteralPath $fragment -PathType Leaf) { . $fragment }
    $python = Join-Path $prefix __PYTHON_EXE__
    if ($stale -and (Test-Path -LiteralPath $python -PathType Leaf)) {
        & $python -I -S (Join-Path $PSScriptRoot 'envvars.py') $prefix
        if ($LASTEXITCODE -eq 0) { $stale = 'vars.ps1'; . $fragment }
    }
    if ($stale) {
        & $fail "$stale __STALE__ $prefix"; return
    }
    # etc/conda/<phase>.d/*.ps1 as they are now, in code point order as conda sorts them
    # (`_get_activate_scripts`); Sort-Object would sort by the culture's collation
    $hooks = {
        param($root, $phase)
        $dir = Join-Path $root ('etc__SEP__conda__SEP__' + $phase + '.d')
        [string[]]$names = @(Get-ChildItem -LiteralPath $dir -Filter '*.ps1' -File -ErrorAction SilentlyContinue |
            Where-Object { $_.Name.EndsWith('.ps1', [StringComparison]::OrdinalIgnoreCase) } | ForEach-Object { $_.Name })
        [Array]::Sort($names, [StringComparer]::Ordinal)
        foreach ($name in $names) { Join-Path $dir $name }
    }
    $saved = [ordered]@{}
    foreach ($name in @(__SAVED__) + $ownNames) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    $entries = @(__ENTRIES__)
    # the first MSYS2 tree present goes after the prefix and condabin (`_get_path_dirs` in conda/activate.py, conda >= 24.7)
    $variant = @(__VARIANTS__ | Where-Object { Test-Path -LiteralPath (Join-Path $prefix ('Library__SEP__' + $_)) -PathType Container })
    if (__WINDOWS__ -and $variant.Count) { $entries = $entries[0..(__VARIANT_AT__ - 1)] + @(Join-Path $prefix ('Library__SEP__' + $variant[0] + '__SEP__bin')) + $entries[__VARIANT_AT__..($entries.Count - 1)] }
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
    # the environment's directory name, as its conda shows it (environ.prompt_name); .NET's
    # string operation, exact for any name, where a cmdlet would go through PowerShell's path rules
    [Environment]::SetEnvironmentVariable('CONDA_PROMPT_MODIFIER', '(' + [IO.Path]::GetFileName($prefix) + ') ')
    [Environment]::SetEnvironmentVariable('MAMBA_ROOT_PREFIX', $prefix)
    for ($i = 0; $i -lt $ownNames.Count; $i++) { [Environment]::SetEnvironmentVariable($ownNames[$i], $ownValues[$i]) }
    # `conda activate` or `mamba activate` typed here would find condabin\conda.bat or mamba.bat by
    # PATH and PATHEXT: a child cmd.exe, which cannot change this session, so it would do nothing,
    # silently. Upstream loads a module with functions for it (conda 26.7.1 shell/condabin/Conda.psm1
    # `Invoke-Conda`, mamba 2.8.1 libmamba/data/Mamba.psm1 `Invoke-Mamba`); a shell holding one
    # environment needs none. These functions, found before any program, refuse those, saying what
    # to type, and start the environment's own conda and mamba programs for everything else, which
    # get their arguments as typed (a .bat would have cmd.exe read `numpy>=1.26` as a redirection).
    $tool = {
        param($name, $exe, [object[]]$rest)
        $state = $global:_MambabootActive
        if ($rest.Count -and @('activate', 'deactivate', 'reactivate') -contains $rest[0]) {
            Write-Error -Message ('mambaboot: ' + (__TOOL_REFUSAL__ -f $name, $rest[0], $state.Prefix)) -Category InvalidOperation
            return
        }
        $program = Join-Path $state.Prefix $exe
        if (-not (Test-Path -LiteralPath $program -PathType Leaf)) {
            # none in the environment: what PowerShell would start without this function
            $program = @(Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue | ForEach-Object { $_.Path })[0]
        }
        if (-not $program) {
            Write-Error -Message ('mambaboot: ' + (__TOOL_MISSING__ -f $name, $state.Prefix)) -Category ObjectNotFound
            return
        }
        & $program @rest
    }
    $global:_MambabootActive = @{ Prefix = $prefix; Saved = $saved; Prompt = $function:prompt; Hooks = $hooks; Tool = $tool
                                  Tools = @{ conda = $function:conda; mamba = $function:mamba } }
    if ($function:prompt) {
        function global:prompt { $env:CONDA_PROMPT_MODIFIER + (& $global:_MambabootActive.Prompt) }
    }
    function global:conda { & $global:_MambabootActive.Tool 'conda' __CONDA_EXE__ $args }
    function global:mamba { & $global:_MambabootActive.Tool 'mamba' __MAMBA_EXE__ $args }
    function global:_MambabootDeactivate {
        $state = $global:_MambabootActive
        $scripts = @(& $state.Hooks $state.Prefix 'deactivate')
        [Array]::Reverse($scripts)  # last first (`_get_deactivate_scripts`)
        foreach ($hook in $scripts) { . $hook }
        foreach ($name in $state.Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $state.Saved[$name]) }
        if ($state.Prompt) { Set-Item -Path function:global:prompt -Value $state.Prompt }
        foreach ($name in @($state.Tools.Keys)) {
            if ($state.Tools[$name]) { Set-Item -Path ('function:global:' + $name) -Value $state.Tools[$name] }
            else { Remove-Item -Path ('function:global:' + $name) -ErrorAction SilentlyContinue }
        }
        Remove-Variable -Name _MambabootActive -Scope Global
        Remove-Item -Path function:global:_MambabootDeactivate
    }
    foreach ($hook in @(& $hooks $prefix 'activate')) { . $hook }
}
