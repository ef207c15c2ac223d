__HEADER__
& {
    $fail = { param($message) Write-Error -Message ('mambaboot: ' + $message) -Category InvalidOperation }
    # No .NET type or method anywhere: ConstrainedLanguage mode (an AppLocker or App Control
    # policy: Microsoft Learn, about_Language_Modes) allows cmdlets, operators and a few types
    # only, and this text runs in the caller's mode. Variables go through the Env: drive, where
    # an absent one reads as $null and an empty value removes it, as Windows itself does.
    # Through the pipeline: a member of nothing ($null.Value) throws under a profile's Set-StrictMode
    # -Version 2 and later (PropertyNotFoundStrict), as an index past the end does from version 3.
    $getenv = { param($name) Get-Item -LiteralPath ('Env:' + $name) -ErrorAction SilentlyContinue | ForEach-Object { $_.Value } }
    $setenv = {
        param($name, $value)
        if ($null -eq $value -or $value -eq '') { Remove-Item -LiteralPath ('Env:' + $name) -ErrorAction SilentlyContinue }
        else { Set-Item -LiteralPath ('Env:' + $name) -Value $value }
    }
    # read through Get-Variable: Set-StrictMode in a profile makes an unset variable an error here
    if (Get-Variable -Name _MambabootActive -Scope Global -ValueOnly -ErrorAction SilentlyContinue) {
        & $fail "__STILL_ACTIVE__"; return
    }
    foreach ($name in __REFUSE__) {
        $value = & $getenv $name
        if ($value) {
            & $fail "__BUSY__"; return
        }
    }
    # The activation line hands this text to Invoke-Expression with the prefix in $MambabootPrefix:
    # execution policy governs script files only, so the text runs under Restricted and AllSigned
    # too (about_Execution_Policies; conda's profile line does the same with its hook's text). Run
    # as a file (dot-sourced where the policy allows) it finds the prefix from its own place.
    $given = Get-Variable -Name MambabootPrefix -ValueOnly -ErrorAction SilentlyContinue
    if (-not $given) { $given = if ($PSScriptRoot) { Split-Path -Parent $PSScriptRoot } }
    $found = if ($given) { Convert-Path -LiteralPath $given -ErrorAction SilentlyContinue }
    if (@($found).Count -ne 1) {
        & $fail "cannot find the environment '$given': the activation line names its folder last"; return
    }
    # through Join-Path and back: one form, without a trailing separator, however it was typed
    $here = Join-Path $found '.mambaboot'
    $prefix = Split-Path -Parent $here
    if ($prefix -match '__PATHSEP__') {
        & $fail "$prefix holds PATH's separator, so its directories cannot go on PATH; move the environment"; return
    }
    # Windows PowerShell 5.1 reads a path given to . or & as a wildcard pattern, with no literal
    # form (PowerShell issue 4726): with [ or ] in it, . and & below would run another file or none
    if ($PSVersionTable.PSVersion.Major -lt 6 -and $prefix -match '[\[\]]') {
        & $fail "$prefix holds [ or ], which Windows PowerShell 5.1 reads as a wildcard when it runs a file; use PowerShell 7 or activate.bat"; return
    }
    if (-not (Test-Path -LiteralPath (Join-Path $prefix 'conda-meta') -PathType Container)) {
        & $fail "$prefix is not a conda environment (no conda-meta folder)"; return
    }
    # this environment's variables (envvars.py); written again by its own python once they changed.
    # Read as text for Invoke-Expression, not run as a file, for the policies' sake
    $fragment = Join-Path $here 'vars.ps1'
    $stale = 'vars.ps1'
    if (Test-Path -LiteralPath $fragment -PathType Leaf) { Invoke-Expression (Get-Content -Raw -LiteralPath $fragment) }
    $python = Join-Path $prefix __PYTHON_EXE__
    if ($stale -and (Test-Path -LiteralPath $python -PathType Leaf)) {
        & $python -I -S (Join-Path $here 'envvars.py') $prefix
        if ($LASTEXITCODE -eq 0) { $stale = 'vars.ps1'; Invoke-Expression (Get-Content -Raw -LiteralPath $fragment) }
    }
    if ($stale) {
        & $fail "$stale __STALE__ $prefix"; return
    }
    # etc/conda/<phase>.d/*.ps1 as they are now, in code point order as conda sorts them
    # (`_get_activate_scripts`): Sort-Object compares by the culture's collation, so it sorts each
    # name's UTF-16 code units written as five-digit numbers, which every culture orders as numbers.
    # They stay script files, run as conda runs them; mambaboot's own __ROOT_HOOK__ is left out: it
    # is for conda's activation and sets MAMBA_ROOT_PREFIX, which this text sets and puts back itself.
    $hooks = {
        param($root, $phase)
        $dir = Join-Path $root ('etc__SEP__conda__SEP__' + $phase + '.d')
        Get-ChildItem -LiteralPath $dir -Filter '*.ps1' -File -ErrorAction SilentlyContinue |
            Where-Object { $_.Name -like '*.ps1' -and $_.Name -ne '__ROOT_HOOK__' } |
            Sort-Object -Property { -join @(foreach ($c in [char[]]$_.Name) { '{0:D5}' -f [int]$c }) } |
            ForEach-Object { Join-Path $dir $_.Name }
    }
    # The execution policy in force decides on each hook (about_Execution_Policies): Get-ExecutionPolicy
    # gives the first policy set by Group Policy (machine, user), the process, the user, the machine,
    # else Restricted (PowerShell's SecuritySupport.GetExecutionPolicy). Restricted runs no script file
    # and AllSigned only one signed by a publisher (Get-AuthenticodeSignature: Valid): each hook either
    # refuses would be an error of its own, so they are left out and named once, with the ways out.
    $allowed = {
        param($scripts)
        $policy = [string](Get-ExecutionPolicy)
        if (@('Restricted', 'AllSigned') -notcontains $policy) { return $scripts }
        $skipped = @($scripts | Where-Object {
            $policy -eq 'Restricted' -or -not (Get-AuthenticodeSignature -LiteralPath $_ -ErrorAction SilentlyContinue |
                                               Where-Object { [string]$_.Status -eq 'Valid' }) })
        if ($skipped.Count) {
            $set = @('MachinePolicy', 'UserPolicy' | Where-Object { [string](Get-ExecutionPolicy -Scope $_) -ne 'Undefined' })
            $way = if ($set.Count) { __HOOKS_GROUP_POLICY__ } else { __HOOKS_USER_POLICY__ }
            Write-Warning ('mambaboot: ' + (__HOOKS_SKIPPED__ -f $policy, ($skipped -join ', '), $way))
        }
        $scripts | Where-Object { $skipped -notcontains $_ }
    }
    $saved = @{}
    foreach ($name in @(__SAVED__) + $ownNames) { $saved[$name] = & $getenv $name }
    $entries = @(__ENTRIES__)
    # the first MSYS2 tree present goes after the prefix and condabin (`_get_path_dirs` in conda/activate.py, conda >= 24.7)
    $variant = __VARIANTS__ | Where-Object { Test-Path -LiteralPath (Join-Path $prefix ('Library__SEP__' + $_)) -PathType Container } |
        Select-Object -First 1
    if (__WINDOWS__ -and $variant) { $entries = $entries[0..(__VARIANT_AT__ - 1)] + @(Join-Path $prefix ('Library__SEP__' + $variant + '__SEP__bin')) + $entries[__VARIANT_AT__..($entries.Count - 1)] }
    if ($saved['PATH']) { $entries += $saved['PATH'] }
    & $setenv 'PATH' ($entries -join '__PATHSEP__')
    & $setenv 'CONDA_PREFIX' $prefix
    & $setenv 'CONDA_SHLVL' '1'
    $name = $prefix
    $conda = Join-Path $prefix __CONDA_EXE__
    if (Test-Path -LiteralPath $conda -PathType Leaf) {
        # its own conda activates it as its root: "base" and conda's own variables (environ.conda_values)
        $name = 'base'
        foreach ($pair in @(@('CONDA_EXE', $conda), @('_CONDA_EXE', $conda), @('CONDA_PYTHON_EXE', (Join-Path $prefix __PYTHON_EXE__)),
                            @('_CONDA_ROOT', $prefix), @('_CE_M', $null), @('_CE_CONDA', $null))) {
            & $setenv @pair
        }
    }
    if (__WINDOWS__) {
        # what the environment's mamba calls before a post-link script, so that it writes no scripts (environ.BAT_VAR)
        $bat = __BAT_CANDIDATES__ | ForEach-Object { Join-Path $prefix $_ } |
            Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
        & $setenv 'CONDA_BAT' $bat
    }
    & $setenv 'CONDA_DEFAULT_ENV' $name
    # the environment's directory name, as its conda shows it (environ.prompt_name): a string
    # operation, exact for any name, where a cmdlet would go through PowerShell's path rules
    & $setenv 'CONDA_PROMPT_MODIFIER' ('(' + ($prefix -replace '^.*[__NAME_SEPS__]', '') + ') ')
    & $setenv 'MAMBA_ROOT_PREFIX' $prefix
    for ($i = 0; $i -lt $ownNames.Count; $i++) { & $setenv $ownNames[$i] $ownValues[$i] }
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
        $first = $rest | Select-Object -First 1
        if (@('activate', 'deactivate', 'reactivate') -contains $first) {
            Write-Error -Message ('mambaboot: ' + (__TOOL_REFUSAL__ -f $name, $first, $state.Prefix)) -Category InvalidOperation
            return
        }
        $program = Join-Path $state.Prefix $exe
        if (-not (Test-Path -LiteralPath $program -PathType Leaf)) {
            # none in the environment: what PowerShell would start without this function
            $program = Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 |
                ForEach-Object { $_.Path }
        }
        if (-not $program) {
            Write-Error -Message ('mambaboot: ' + (__TOOL_MISSING__ -f $name, $state.Prefix)) -Category ObjectNotFound
            return
        }
        & $program @rest
    }
    $global:_MambabootActive = @{ Prefix = $prefix; Saved = $saved; Prompt = $function:prompt; Hooks = $hooks; Allowed = $allowed
                                  Tool = $tool; SetEnv = $setenv
                                  Tools = @{ conda = $function:conda; mamba = $function:mamba } }
    if ($function:prompt) {
        function global:prompt { $env:CONDA_PROMPT_MODIFIER + (& $global:_MambabootActive.Prompt) }
    }
    function global:conda { & $global:_MambabootActive.Tool 'conda' __CONDA_EXE__ $args }
    function global:mamba { & $global:_MambabootActive.Tool 'mamba' __MAMBA_EXE__ $args }
    function global:_MambabootDeactivate {
        $state = $global:_MambabootActive
        $scripts = @(& $state.Allowed @(& $state.Hooks $state.Prefix 'deactivate'))
        for ($i = $scripts.Count - 1; $i -ge 0; $i--) {  # last first (`_get_deactivate_scripts`)
            if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') { . $scripts[$i] } else { & $scripts[$i] }
        }
        foreach ($name in @($state.Saved.Keys)) { & $state.SetEnv $name $state.Saved[$name] }
        if ($state.Prompt) { Set-Item -Path function:global:prompt -Value $state.Prompt }
        foreach ($name in @($state.Tools.Keys)) {
            if ($state.Tools[$name]) { Set-Item -Path ('function:global:' + $name) -Value $state.Tools[$name] }
            else { Remove-Item -Path ('function:global:' + $name) -ErrorAction SilentlyContinue }
        }
        Remove-Variable -Name _MambabootActive -Scope Global
        Remove-Item -Path function:global:_MambabootDeactivate
    }
    # Dot-sourced, as conda runs them. In another language mode (an App Control policy), a hook the
    # policy trusts runs in FullLanguage, and a file of another mode cannot be dot-sourced into this
    # text ("Cannot dot-source this command because it was defined in a different language mode"):
    # called instead, each runs in its own mode (about_Language_Modes); what it sets in Env: stays.
    foreach ($hook in @(& $allowed @(& $hooks $prefix 'activate'))) {
        if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') { . $hook } else { & $hook }
    }
}
