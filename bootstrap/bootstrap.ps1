# bootstrap.ps1 [NAME] [PY_VERSION] [options] (Windows PowerShell 5.1 or 7): what needs no Python, then
# "mambaboot.pyz create" on a private Python (docs/reference.md 1.8). Group Policy overrides -ExecutionPolicy Bypass.
#   powershell -ExecutionPolicy Bypass -File bootstrap.ps1 myenv 3.12 --package "numpy>=2"

# AppLocker and App Control (WDAC) run a script outside the allowed places in ConstrainedLanguage mode, which refuses .NET calls (about_Language_Modes): checked first, with nothing it refuses. Their
# rules cover .bat too, and allow programs only under Windows and Program Files (Microsoft Learn, "Script rules in AppLocker").
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    Write-Host ('bootstrap: error: PowerShell runs this script in ' + $ExecutionContext.SessionState.LanguageMode +
                ' mode: an AppLocker or App Control policy governs this machine, and the same policy decides whether bootstrap.bat, micromamba.exe and python.exe may run from your folders (its default rules allow programs only under the Windows and Program Files folders); ask the administrator of this machine for a place they may run from, and give it as --cache-dir and --envs-dir')
    exit 2
}

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'  # a cmdlet crawls while it draws a progress bar

$Pinned = '2.8.1-0'; $Releases = 'https://github.com/mamba-org/micromamba-releases/releases'
# Empty here; a release's copy names its release (tools/build_release.py --release-url).
$Release = ''
$OwnPython = '3.12'  # the private Python for a requested one older than mambaboot runs on (3.9)
$Contaminating = @('CONDA_PREFIX', 'CONDA_SHLVL', 'CONDA_DEFAULT_ENV', 'PYTHONHOME', 'PYTHONPATH', 'PYTHON_ENVS', 'VIRTUAL_ENV')
$Scrubbed = @('CONDA_', 'MAMBA_', 'PYTHON', '_CE_', '__CONDA', 'VIRTUAL_ENV', '_MAMBABOOT_')
$Carried = @('MAMBA_SSL_VERIFY', 'MAMBA_CACERT_PATH', 'MAMBA_SSL_NO_REVOKE', 'MAMBA_CHANNEL_ALIAS')
$EnvSubdirs = @('', '\bin', '\Scripts', '\condabin', '\Library\bin', '\Library\usr\bin', '\Library\mingw-w64\bin')
$ProxyHint = "behind a proxy, set HTTPS_PROXY=http://HOST:PORT (micromamba does not use Windows' proxy settings; this script's downloads use HTTPS_PROXY when it is set)"
$ProxyLogon = 'if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon'
# micromamba checks certificates with Schannel, revocation included (mamba-org/mamba#2751, #3346), against Windows' store,
# which a CA file replaces (curl#3727): the store comes first in the advice, and no CA variable is made MAMBA_SSL_VERIFY here.
$TlsHint = "behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation); if its certificate is not trusted, have the company's root certificate put in Windows' certificate store, which micromamba checks against (MAMBA_SSL_VERIFY=PATH of a CA bundle replaces that store, it does not add to it)"
$Usage = @'
usage: bootstrap.ps1 [NAME] [PY_VERSION] [options]    (in PowerShell, quote the version: '3.10')
Makes NAME_3_12 for PY_VERSION 3.12 (default NAME: py) with "mambaboot.pyz create" on a private Python;
docs/reference.md, "The bootstrap scripts", says the rest. Options, as for create:
  -c, --channel CHANNEL, --package SPEC (repeatable; channels: default MAMBABOOT_CHANNELS, else conda-forge)
  --envs-dir DIR, --cache-dir DIR, --micromamba PATH, --micromamba-version V, --micromamba-url URL,
  --micromamba-sha256 HEX, --allow-http, --zipapp PATH-OR-URL, --zipapp-sha256 HEX (mambaboot.pyz: default
  beside this script, else the one of this script's release, checked against its SHA256SUMS)
'@

function Fail([int]$Code, [string]$Message) { $e = New-Object System.Exception $Message; $e.Data['exit_code'] = $Code; throw $e }

function Say([string]$Message) { [Console]::Error.WriteLine($Message) }

# The rules Windows programs (the C runtime's argv) parse a command line with.
function Format-Argument([string]$Value) {
    if ($Value.Length -gt 0 -and $Value -notmatch '[\s"]') { return $Value }
    return '"' + (($Value -replace '(\\*)"', '$1$1\"') -replace '(\\+)$', '$1$1') + '"'
}

# Exe with argv from the shell's location (Set-Location moves no process: ProcessStartInfo.WorkingDirectory).
function Invoke-Native([string]$Exe, [string[]]$Argv, [hashtable]$Environment, [switch]$Capture) {
    $psi = New-Object System.Diagnostics.ProcessStartInfo -Property @{ FileName = $Exe; UseShellExecute = $false; WorkingDirectory = $script:Cwd
                                                                      RedirectStandardOutput = [bool]$Capture; RedirectStandardError = [bool]$Capture }
    $psi.Arguments = (@($Argv | ForEach-Object { Format-Argument $_ }) -join ' ')
    if ($null -ne $Environment) { $psi.Environment.Clear(); foreach ($key in $Environment.Keys) { $psi.Environment[$key] = $Environment[$key] } }
    # A program a policy blocks (AppLocker, App Control, Software Restriction Policies) never starts: Process.Start throws Windows' own words ("This program is blocked by group policy", 1260).
    try { $process = [System.Diagnostics.Process]::Start($psi) } catch {
        $failure = $_.Exception.GetBaseException()
        $number = if ($failure -is [System.ComponentModel.Win32Exception]) { " (Windows error $($failure.NativeErrorCode))" } else { '' }
        $sac = if ($failure -is [System.ComponentModel.Win32Exception] -and $failure.NativeErrorCode -eq 4551) { ". Smart App Control (Windows 11's, in Windows Security: App & browser control) refuses a program that is unsigned and unknown to Microsoft's reputation service in every folder, so no folder helps; whether it is on is your choice there" } else { '' }  # 4551: App Control's, or Smart App Control's, which refuses an unsigned program unknown to Microsoft in every folder, so no folder helps (Microsoft Support, "Smart App Control"; winsys.py's words).
        Fail 5 "$Exe could not start: $($failure.Message)$number`n  if a policy blocks programs in this folder (AppLocker, App Control, an antivirus), ask the administrator of this machine for a place programs may run from, and give it as --cache-dir$sac"
    }
    $out = if ($Capture) { $errTask = $process.StandardError.ReadToEndAsync(); $process.StandardOutput.ReadToEnd() + $errTask.Result } else { '' }
    $process.WaitForExit()
    return @{ Code = $process.ExitCode; Out = $out }
}

# .NET Framework's GetFullPath throws on a character no Windows path holds (Microsoft Learn, "Naming Files").
function Get-FullPath([string]$Path, [string]$Source) {
    if ($Path -match '["<>|?*\x00-\x1f]') {
        Fail 2 "$Source '$Path' holds a character no Windows path holds (a double quote, an angle bracket, a vertical bar, a question mark, an asterisk or a control character)"
    }
    $full = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($script:Cwd, $Path))
    if ($full.Length -gt 3) { $full = $full.TrimEnd('\') }
    return $full
}

function Get-Sha256([string]$Path) {  # '' for anything but a regular file
    if ([System.IO.File]::Exists($Path)) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() } else { '' }
}

# A URL as it may be shown: a user:password before the host masked (common/urlrule.py shows it so).
function Get-ShownUrl([string]$Url) { return $Url -replace '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', '$1***@' }

function Test-Url([string]$Option, [string]$Url) {
    if ($Url -match '^(?i)(https|file)://') { return }
    if ($Url -notmatch '^(?i)http://') { Fail 2 "$Option '$(Get-ShownUrl $Url)' is not an https:// URL" }
    if ($script:AllowHttp -or @('localhost', '127.0.0.1', '[::1]') -contains ([System.Uri]$Url).Host) { return }
    Fail 2 "$Option '$(Get-ShownUrl $Url)' uses plain http; use https, or pass --allow-http if you trust the network"
}

# The proxy curl.exe and micromamba take (curl's manual, ENVIRONMENT): the variable and its URL.
function Get-ProxyVariable {
    foreach ($var in @('HTTPS_PROXY', 'ALL_PROXY')) {
        $value = [System.Environment]::GetEnvironmentVariable($var)
        if ($value) { return @($var, $(if ($value -match '://') { $value } else { 'http://' + $value })) }
    }
    return @('', '')
}

# For a failure a proxy may explain: the variable that named it (scheme, host, port), and what a proxy wanting Windows logon means (libmamba 2.8.1 never sets CURLOPT_PROXYAUTH, download/curl.cpp);
# else the proxy Windows' settings give (WebRequest.GetSystemWebProxy: WinINET, PAC), which micromamba does not use; else what to set.
function Get-ProxyHint([string]$Url) {
    $var, $proxy = Get-ProxyVariable
    $shown = ''
    if ($var) {
        try { $uri = [System.Uri]$proxy; $shown = " ($($uri.Scheme)://$($uri.Authority))" } catch { }
        return "$var names the proxy it went through$shown; $ProxyLogon"
    }
    $system = Get-SystemProxy $Url
    if ($system) { return "Windows' proxy settings name $system, which micromamba does not use; set HTTPS_PROXY=$system" }
    return $ProxyHint
}

function Get-SystemProxy([string]$Url) {
    try {
        $uri = [System.Uri]$Url
        $system = [System.Net.WebRequest]::GetSystemWebProxy()
        if ($uri.IsFile -or $system.IsBypassed($uri)) { return $null }
        $proxy = $system.GetProxy($uri)
        if ($proxy.Authority -ne $uri.Authority) { return $proxy.GetLeftPart([System.UriPartial]::Authority) }
    } catch { }
    return $null
}

# Whether NO_PROXY lists Uri's host by curl's rules (CURLOPT_NOPROXY; libmamba 2.8.1 leaves it to curl): names
# without case, '*' alone for all, a name for its host and domain (a leading dot ignored), no CIDR (curl 7.86.0).
function Test-NoProxy([System.Uri]$Uri) {
    $list = [System.Environment]::GetEnvironmentVariable('NO_PROXY')
    if (-not $list) { return $false }
    if ($list.Trim() -eq '*') { return $true }
    $hostName = $Uri.Host.Trim('[', ']').TrimEnd('.')
    foreach ($entry in $list.Split(',')) {
        $name = $entry.Trim()
        if ($name.StartsWith('.')) { $name = $name.Substring(1) }
        if ($name -and ($hostName -eq $name -or $hostName.EndsWith('.' + $name, [System.StringComparison]::OrdinalIgnoreCase))) { return $true }
    }
    return $false
}

# The bounds mambaboot's own downloads take from the same variables (engine/download.py).
function Get-Bound([string]$Name, [long]$Default) {
    $raw = [System.Environment]::GetEnvironmentVariable($Name)
    if ($null -eq $raw) { return $Default }
    if ($raw -notmatch '^[1-9][0-9]{0,17}$') { Fail 2 "$Name='$raw' is not a whole number >= 1" }
    return [long]$raw
}

# MAMBA_SSL_NO_REVOKE as create reads it (network.py flag), passed as true or not at all: libmamba reads it as YAML
# (1 and 0 stop it: yaml-cpp's convert<bool>) and raw (download/downloader.cpp: anything but 0 is on).
function Get-NoRevoke {
    $raw = [string][System.Environment]::GetEnvironmentVariable('MAMBA_SSL_NO_REVOKE')
    $word = $raw.Trim().ToLowerInvariant()
    if (@('y', 'yes', 'true', 'on', '1') -contains $word) { return $true }
    if (-not $raw -or @('n', 'no', 'false', 'off', '0') -contains $word) { return $false }
    Fail 2 "MAMBA_SSL_NO_REVOKE='$raw' is neither true nor false: set it to true or false"
}

# Url -> File, bounded as mambaboot bounds a download (MAMBABOOT_HTTP_*), or Fail 5. Not Invoke-WebRequest: its
# -TimeoutSec never covers the body (WebRequestPSCmdlet reference; 5.1 has no other) and it keeps it all in memory.
function Save-Url([string]$Url, [string]$File, [string]$What, [string]$ByHand = '') {
    $uri = [System.Uri]$Url
    if ($uri.IsFile) { [System.IO.File]::Copy($uri.LocalPath, $File, $true); return }
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    for ($attempt = 1; ; $attempt++) {
        try { Receive-Url $uri $File $clock; return } catch {
            for ($e = $_.Exception; $e -and -not ($e -is [System.Net.WebException] -and $e.Response -is [System.Net.HttpWebResponse]); $e = $e.InnerException) { }
            $status = if ($e) { [int]$e.Response.StatusCode } else { 0 }
            $proxy = (Get-ProxyVariable)[1]; if ($proxy -and (Test-NoProxy $uri)) { $proxy = '' } elseif (-not $proxy) { $proxy = [string](Get-SystemProxy $Url) }  # The proxy it went through (the variable's unless NO_PROXY lists the host, else Windows' own): 407 is a proxy's answer alone (RFC 9110 15.5.8), and WebRequest gives a proxy's refusal of CONNECT as the response, as it gives the server's; said in create's words (download.py PROXY_HINTS).
            if ($status -eq 407) {
                Fail 5 "the proxy $(Get-ShownUrl $proxy) answered 407 (Proxy Authentication Required) to its CONNECT: it took neither your Windows logon (given to Windows' own proxy only) nor a user:password in HTTPS_PROXY; the proxy asks to be logged on to: give its user and password in HTTPS_PROXY, before its host (USER:PASSWORD@HOST:PORT); if it takes only your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon"
            }
            if ($status -eq 403 -and $proxy) { Fail 5 "$What $(Get-ShownUrl $Url) failed: it answered HTTP 403, the server or the proxy $(Get-ShownUrl $proxy) on the way (WebRequest says both alike); if the proxy: the proxy refused to reach that host, as a company web filter does for a host or a category it blocks: no password changes that; ask your network's administrators to allow the host, or get micromamba from a mirror you can reach with --micromamba-url" }
            if ($status) { Fail 5 "$What $(Get-ShownUrl $Url) failed: it answered HTTP $status$(Get-StatusHint $status)$ByHand" }
            if ($_.Exception.Data.Contains('exit_code')) { Fail 5 "$What $(Get-ShownUrl $Url) failed: $($_.Exception.Message); nothing was kept" }
            if ($attempt -ge 4 -or $clock.Elapsed.TotalSeconds -ge $script:Deadline) { Fail 5 "$What $(Get-ShownUrl $Url) failed: $($_.Exception.Message)`n  $(Get-ProxyHint $Url)" }
        }
    }
}

# What a status says to do, in create's words (engine/download.py status_hint; RFC 9110 15.5, 15.6; RFC 6585 4).
function Get-StatusHint([int]$Status) {
    if (@(404, 410) -contains $Status) { return ': the server has no such file: check --micromamba-version and the address (--micromamba-url, --zipapp, MAMBABOOT_RELEASES_URL)' }
    if (@(401, 403) -contains $Status) { return ": the server or a proxy on the way refused it, as a company proxy or web filter does for a host it blocks: ask your network's administrators to allow the host (or for the proxy's user and password, given in HTTPS_PROXY), or get micromamba from a mirror you can reach with --micromamba-url" }
    if ($Status -eq 429 -or ($Status -ge 500 -and $Status -le 599)) { return ': the server is busy or failing: try again later, or use a mirror (--micromamba-url, MAMBABOOT_RELEASES_URL)' }
    return ', an HTTP error, not the network: check --micromamba-version, --micromamba-url, --zipapp and MAMBABOOT_RELEASES_URL'
}

# HttpWebRequest's Timeout and ReadWriteTimeout have no effect on the asynchronous calls made here (Microsoft Learn, HttpWebRequest.Timeout, ReadWriteTimeout): each call waits at most
# MAMBABOOT_HTTP_TIMEOUT (a connection or a read that stalls, then tried again as create tries again), and all of them end at the deadline.
function Wait-Within($Task, $Request, $Clock) {
    $left = [Math]::Max(0.0, [Math]::Min([int]::MaxValue, $script:Deadline * 1000.0 - $Clock.ElapsedMilliseconds))
    $wait = [int][Math]::Min($left, $script:Connect * 1000.0)
    try { $done = $Task.Wait($wait) } catch { throw $_.Exception.GetBaseException() }
    if ($done) { return $Task.Result }
    $Request.Abort()
    if ($wait -lt $left) { throw (New-Object System.Net.WebException "no answer within MAMBABOOT_HTTP_TIMEOUT=$($script:Connect) seconds") }
    Fail 5 "no whole answer within MAMBABOOT_HTTP_DEADLINE=$($script:Deadline) seconds (MAMBABOOT_HTTP_TIMEOUT=$($script:Connect) seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
}

function Receive-Url([System.Uri]$Uri, [string]$Destination, $Clock) {
    $tooLarge = "it is larger than MAMBABOOT_HTTP_MAX_BYTES=$($script:MaxBytes) bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
    $request = [System.Net.WebRequest]::Create($Uri)
    $request.MaximumAutomaticRedirections = 10  # never https -> http in .NET; capped as mambaboot caps them
    # Without a variable, Windows' own proxy (WebRequest.DefaultWebProxy, Credentials null unless set: Microsoft Learn) gets the user's logon (CredentialCache.DefaultCredentials) as Windows' programs
    # give it; a proxy a variable names gets only the user:password written in it, never the logon. NO_PROXY's hosts go direct.
    $proxy = (Get-ProxyVariable)[1]
    if (-not $proxy) {
        $request.Proxy = [System.Net.WebRequest]::DefaultWebProxy
        if ($null -ne $request.Proxy) { $request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultCredentials }
    } elseif (Test-NoProxy $Uri) { $request.Proxy = $null } else {
        $proxyUri = [System.Uri]$proxy
        $request.Proxy = New-Object System.Net.WebProxy $proxyUri
        if ($proxyUri.UserInfo) {
            $login = @($proxyUri.UserInfo -split ':', 2 | ForEach-Object { [System.Uri]::UnescapeDataString($_) }) + @('')
            $request.Proxy.Credentials = New-Object System.Net.NetworkCredential -ArgumentList @($login[0], $login[1])
        }
    }
    $response = Wait-Within ($request.GetResponseAsync()) $request $Clock
    try {
        if ($response.ContentLength -gt $script:MaxBytes) { Fail 5 $tooLarge }
        $body = $response.GetResponseStream()
        $file = [System.IO.File]::Create($Destination)  # not a cmdlet: 5.1 reads its path as a wildcard (PowerShell issue 4726)
        try {
            $buffer = New-Object byte[] 65536; $total = 0
            while (($read = Wait-Within ($body.ReadAsync($buffer, 0, $buffer.Length)) $request $Clock) -gt 0) {
                $total += $read
                if ($total -gt $script:MaxBytes) { $request.Abort(); Fail 5 $tooLarge }
                $file.Write($buffer, 0, $read)
            }
        } finally { $file.Dispose() }
    } finally { $response.Dispose() }
}

# The sha256 the checksum file at Url gives for Name: with -Listed, on the line naming exactly Name (sha256sum's "DIGEST  NAME", or "DIGEST *NAME" in binary mode); else its first word.
function Get-Digest([string]$Url, [string]$Name, [string]$Hint, [switch]$Listed) {
    $file = Join-Text $script:Work 'digest'
    Save-Url $Url $file "(without it $Name cannot be verified) reading" "; $Hint"
    foreach ($line in [System.IO.File]::ReadAllLines($file)) {
        $words = @($line.Trim() -split '\s+')
        if (-not $words[0]) { continue }
        if ($words[0] -match '^[0-9a-fA-F]{64}$' -and (-not $Listed -or ($words.Count -eq 2 -and ($words[1] -ceq $Name -or $words[1] -ceq "*$Name")))) { return $words[0].ToLowerInvariant() }
        if (-not $Listed) { break }
    }
    Fail 5 "$(Get-ShownUrl $Url) has no sha256 line for $($Name): it cannot be verified"
}

# Directory\Name from Url unless there with sha256 Expected: verified under a temporary name, then renamed.
function Save-Verified([string]$Url, [string]$Directory, [string]$Name, [string]$Expected) {
    $final = Join-Text $Directory $Name
    if ((Get-Sha256 $final) -eq $Expected) { return $false }
    New-Directory $Directory
    $tmp = Join-Text $Directory ".$Name.mambaboot-tmp-$($script:Token)"
    try {
        Save-Url $Url $tmp 'download of'
        if (($got = Get-Sha256 $tmp) -ne $Expected) { Fail 5 "$(Get-ShownUrl $Url) does not match its published digest:`n  expected sha256 $Expected`n  downloaded      $got`nnothing was kept" }
        Move-Into $tmp $final
    } finally { Move-Into '' $tmp }
    return $true
}

# Final deleted, then Tmp renamed to it when given (no lock: each run renames a whole file). A program
# holding the file (an antivirus scanning it) makes Windows refuse (DeleteFile, MoveFileEx): said so.
function Move-Into([string]$Tmp, [string]$Final) {
    try { if ([System.IO.File]::Exists($Final)) { [System.IO.File]::Delete($Final) }; if ($Tmp) { [System.IO.File]::Move($Tmp, $Final) } } catch {
        Fail 5 "$Final could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied ($($_.Exception.Message))`n  wait for the scan to end or close that program, then run this again"
    }
}

function New-Directory([string]$Path) { [void][System.IO.Directory]::CreateDirectory($Path) }

# Join-Path throws on a drive this session does not have (a mapped drive off VPN; PowerShell issue 4386).
function Join-Text([string]$Parent, [string]$Child) { return $Parent.TrimEnd('\', '/') + '\' + $Child }

# Whether a PATH entry is in an environment (isolation.py), read as a string: Test-Path throws on a quoted entry in 5.1 (PowerShell issue 16465); .NET's Exists returns false on any error.
function Test-InEnvironment([string]$Entry) {
    $entry = $Entry.Replace('"', '').TrimEnd('\')
    foreach ($sub in $EnvSubdirs) {
        if ($sub -and -not $entry.EndsWith($sub, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        $root = $entry.Substring(0, $entry.Length - $sub.Length)
        if ($root -and ([System.IO.Directory]::Exists($root + '\conda-meta') -or [System.IO.File]::Exists($root + '\pyvenv.cfg'))) { return $true }
    }
    return $false
}

# Deleting a tree fails now and then while Windows still holds a file just deleted (Remove-Item): retried, never fatal.
function Remove-Tree([string]$Path) {
    for ($try = 1; $try -le 5 -and [System.IO.Directory]::Exists($Path); $try++) {
        try { [System.IO.Directory]::Delete($Path, $true) } catch { Start-Sleep -Milliseconds (100 * $try) }
    }
    if ([System.IO.Directory]::Exists($Path)) { Say "bootstrap: warning: could not remove $Path (Windows still holds a file in it); delete it later" }
}

# create's environment for micromamba (engine/sandbox.py, network.py); a hashtable ignores case as Windows does.
function Get-SandboxEnvironment {
    $sandbox = @{}
    foreach ($entry in [System.Environment]::GetEnvironmentVariables().GetEnumerator()) {
        $name = ([string]$entry.Key).ToUpperInvariant()
        $drop = @('CONDARC', 'MAMBARC') -contains $name  # isolation.SCRUB_NAMES
        foreach ($prefix in $Scrubbed) { if ($name.StartsWith($prefix, [System.StringComparison]::Ordinal)) { $drop = $true } }
        if ($Carried -contains $name -or $name.StartsWith('CONDA_OVERRIDE_', [System.StringComparison]::Ordinal)) { $drop = $false }
        if (-not $drop) { $sandbox[[string]$entry.Key] = [string]$entry.Value }
    }
    if ($sandbox.ContainsKey('PATH')) { $sandbox['PATH'] = (@($sandbox['PATH'] -split ';' | Where-Object { -not ($_ -and (Test-InEnvironment $_)) }) -join ';') }
    $sandbox.Remove('MAMBA_SSL_NO_REVOKE')
    if ($script:NoRevoke) { $sandbox['MAMBA_SSL_NO_REVOKE'] = 'true' }
    # libmamba reads credentials from the user's home, which is about to be the private one.
    $homeDir = $script:SandboxHome
    $userHome = [string]$env:USERPROFILE
    $netrc = @(@('.netrc', '_netrc') | ForEach-Object { "$userHome\$_" } | Where-Object { [System.IO.File]::Exists($_) })
    if ($userHome -and $netrc -and -not $sandbox.ContainsKey('NETRC')) { $sandbox['NETRC'] = $netrc[0] }
    $auth = '.mamba\auth\authentication.json'
    if ($userHome -and [System.IO.File]::Exists("$userHome\$auth")) { New-Directory "$homeDir\.mamba\auth"; [System.IO.File]::Copy("$userHome\$auth", "$homeDir\$auth", $true) }
    $private = @{ 'HOME' = $homeDir; 'USERPROFILE' = $homeDir; 'HOMEDRIVE' = $homeDir.Substring(0, 2); 'HOMEPATH' = $homeDir.Substring(2)
                  'APPDATA' = "$homeDir\AppData\Roaming"; 'LOCALAPPDATA' = "$homeDir\AppData\Local"; 'XDG_CONFIG_HOME' = "$homeDir\.config"
                  'XDG_CACHE_HOME' = "$homeDir\.cache"; 'XDG_DATA_HOME' = "$homeDir\.local\share"; 'XDG_STATE_HOME' = "$homeDir\.local\state"
                  'TMPDIR' = "$homeDir\tmp"; 'TEMP' = "$homeDir\tmp"; 'TMP' = "$homeDir\tmp"; 'CONDA_PKGS_DIRS' = $script:PkgsDirs -join ',' }
    foreach ($key in $private.Keys) { $sandbox[$key] = $private[$key] }
    return $sandbox
}

function Invoke-Bootstrap([object[]]$Arguments) {
    $name = 'py'; $python = $null; $positional = 0; $channels = @(); $packages = @(); $opt = @{}
    $valued = @('-c', '--channel', '--package', '--envs-dir', '--cache-dir', '--micromamba', '--micromamba-version',
                '--micromamba-url', '--micromamba-sha256', '--zipapp', '--zipapp-sha256')
    for ($i = 0; $i -lt $Arguments.Count; $i++) {
        $arg = $Arguments[$i]
        if ($arg -isnot [string]) { Fail 2 "PowerShell read the argument '$arg' as a number; quote it (e.g. '3.10')" }
        if (@('-h', '--help', '/?') -contains $arg) { [Console]::Out.Write($Usage); return 0 }
        if ($arg -eq '--allow-http') { $script:AllowHttp = $true; continue }
        if ($arg.StartsWith('-')) {
            if ($valued -notcontains $arg) { Fail 2 "unknown option $arg (see --help)" }
            if ($i + 1 -ge $Arguments.Count) { Fail 2 "$arg needs a value" }
            $value = [string]$Arguments[++$i]
            if (-not $value.Trim()) { Fail 2 "$arg needs a non-empty value" }
            if ($value.StartsWith('-')) { Fail 2 "$arg value '$(Get-ShownUrl $value)' starts with '-'" }
            if ($value -match '[\x00-\x1f\x7f]') { Fail 2 "$arg value contains a control character" }
            if ($arg -like '*-sha256' -and ($value = $value.Trim().ToLowerInvariant()) -notmatch '^[0-9a-f]{64}$') { Fail 2 "$arg '$value' is not a sha256 hex digest" }
            if (@('-c', '--channel') -contains $arg) { $channels += $value }
            elseif ($arg -eq '--package') { $packages += $value }
            else { $opt[$arg] = $value }
            continue
        }
        $positional++
        if ($positional -eq 1) { $name = $arg }
        elseif ($positional -eq 2) { $python = $arg }
        else { Fail 2 "unexpected argument '$arg': give at most NAME and PY_VERSION" }
    }
    $mmPath = if ($opt['--micromamba']) { $opt['--micromamba'] } else { $env:MAMBABOOT_MICROMAMBA }
    $zipapp = $opt['--zipapp']

    # Only what this script uses before the hand-over: the name, packages and prefix characters are create's.
    $script:NoRevoke = Get-NoRevoke; $script:Connect = Get-Bound 'MAMBABOOT_HTTP_TIMEOUT' 30
    $script:Deadline = Get-Bound 'MAMBABOOT_HTTP_DEADLINE' 1800
    $script:MaxBytes = Get-Bound 'MAMBABOOT_HTTP_MAX_BYTES' 268435456
    $envName = $name
    if ($null -ne $python) {
        if ($python -notmatch '^[0-9]+(\.[0-9]+){0,2}$') { Fail 2 "--python '$python' is not a version; give one like 3.12 or 3.12.4" }
        $envName = $name + '_' + $python.Replace('.', '_')
    }
    $script:Cwd = (Get-Location).ProviderPath
    $here = [System.IO.Path]::GetPathRoot($script:Cwd).TrimEnd('\')
    if ($opt['--envs-dir']) { $envs = Get-FullPath $opt['--envs-dir'] '--envs-dir' }
    elseif ($env:PY_ENVS) {
        # Never the next default instead: the environment would land where the user did not say.
        $envs = Get-FullPath $env:PY_ENVS 'PY_ENVS'
        if (-not [System.IO.Directory]::Exists($envs)) { Fail 2 "PY_ENVS names $envs, which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS" }
    } elseif ([System.IO.Directory]::Exists("$here\dev\Anaconda\envs")) { $envs = "$here\dev\Anaconda\envs" }
    else {
        $envs = $script:Cwd
        # Never by default, as in bootstrap.bat: System32, where an elevated shell starts; a folder OneDrive syncs or
        # a home drive on a share (Microsoft Learn, "OneDrive Files On-Demand", "Folder Redirection").
        if ($env:SystemRoot -and @($env:SystemRoot, "$env:SystemRoot\System32") -contains $envs) { Fail 2 "the current directory is Windows' own ($envs), where an elevated shell starts; pass --envs-dir DIR or set PY_ENVS" }
        $synced = @(@($env:OneDrive, $env:OneDriveCommercial, $env:OneDriveConsumer) | Where-Object { $_ -and "$envs\".StartsWith($_.TrimEnd('\') + '\', [System.StringComparison]::OrdinalIgnoreCase) })
        if ($synced) { Fail 2 "$envs is in OneDrive, which would upload every file of the environment and may keep only placeholders of them (Files On-Demand); pass --envs-dir DIR outside it, or set PY_ENVS" }
        if ($env:HOMESHARE -and $env:HOMEDRIVE -and $envs.StartsWith($env:HOMEDRIVE, [System.StringComparison]::OrdinalIgnoreCase)) { Fail 2 "$envs is on your network home drive (HOMESHARE), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS" }
        if ($envs.StartsWith('\\') -or ($envs -match '^[A-Za-z]:' -and (New-Object System.IO.DriveInfo $envs.Substring(0, 1)).DriveType -eq [System.IO.DriveType]::Network)) { Fail 2 "$envs is on a network share (a folder redirected there, as Downloads may be, or a drive mapped to one, as net use and pushd map them), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS" }  # A share: UNC, or a drive mapped to one (net use; cmd's pushd \\server\share maps one: ss64, PUSHD), GetDriveType's DRIVE_REMOTE, DriveInfo's Network.
    }
    $prefix = Join-Text $envs $envName
    # 5.1 reads a path given to . or & (activate.ps1) as a wildcard pattern, with no literal form (PowerShell issue 4726): create takes [ and ], activate.ps1 would refuse them.
    if ($prefix -match '[\[\]]') { Fail 2 "prefix '$prefix' has [ or ], which Windows PowerShell 5.1 reads as a wildcard pattern in activate.ps1; choose another path" }

    # The cache as create resolves it (common/locations.py resolve_cache_dir): micromamba hard-links within one volume only, and fails on a path character the ANSI code page lacks
    # (mamba-org/mamba#3097, #3228), so the per-user cache only on the target's drive and all ASCII.
    $drive = [System.IO.Path]::GetPathRoot($prefix).TrimEnd('\')
    if ($opt['--cache-dir']) { $cache = Get-FullPath $opt['--cache-dir'] '--cache-dir' }
    elseif ([System.IO.Directory]::Exists("$drive\CACHE")) { $cache = "$drive\CACHE" }
    else {
        $base = [string]$env:LOCALAPPDATA  # ignored when relative (common/host.py base_dir)
        if ($base -notmatch '^([A-Za-z]:)?[\\/]') { $base = Join-Text ([string]$env:USERPROFILE) 'AppData\Local' }
        $user = Join-Text $base 'mambaboot\Cache'
        $cache = "$drive\CACHE"
        # On a share (UNC, or the network home drive) only a CACHE there already (locations.on_share).
        $share = if ($env:HOMESHARE -and $env:HOMEDRIVE) { '^(\\\\|' + [regex]::Escape($env:HOMEDRIVE) + ')' } else { '^\\\\' }
        if (($user.StartsWith($drive + '\', [System.StringComparison]::OrdinalIgnoreCase) -or ("$drive\" -match $share -and $user -notmatch $share)) -and $user -cnotmatch '[^\x20-\x7e]') { $cache = $user }
    }
    $script:PkgsDirs = @(([string]$env:CONDA_PKGS_DIRS) -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ } | ForEach-Object { Get-FullPath $_ 'CONDA_PKGS_DIRS' })
    if ($script:PkgsDirs.Count -eq 0) { $script:PkgsDirs = @(Join-Text $cache 'Python\pkgs') }  # comma-separated, as conda reads it
    # libmamba parses it as the YAML list "[VALUE]" (configuration_impl.hpp) when it makes the private Python.
    foreach ($dir in $script:PkgsDirs) { if ($dir -match '[\[\]{}#]|: ') { Fail 2 "package cache $dir holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS" } }

    # A 32-bit PowerShell sees x86 in PROCESSOR_ARCHITECTURE (Microsoft Learn, "WOW64 Implementation Details"). conda-forge builds conda for win-arm64
    # for Python 3.14 only (conda/conda#15448): win-64 under Windows 11's x64 emulation (build 22000 on) instead.
    $arch = [string]$env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = [string]$env:PROCESSOR_ARCHITECTURE }
    $subdir = @{ 'AMD64' = 'win-64'; 'ARM64' = 'win-64' }[$arch]
    if ($arch -eq 'ARM64' -and [System.Environment]::OSVersion.Version.Build -lt 22000) { Fail 5 "this ARM64 Windows runs no x64 program (Windows 11 does, under its x64 emulation), and mambaboot makes no win-arm64 environment (conda-forge builds conda there for Python 3.14 only: conda/conda#15448): use Windows 11 or an x64 machine" }
    if ($arch -eq 'ARM64') { $script:Emulated = $true; Say "machine: ARM64: win-64 (x64) under Windows 11's x64 emulation, since conda-forge builds conda for win-arm64 for Python 3.14 only (conda/conda#15448)" }
    $url = $opt['--micromamba-url']; $version = $null
    if ($mmPath) { $kind = 'local'; $binary = Get-FullPath $mmPath '--micromamba (or MAMBABOOT_MICROMAMBA)' }
    elseif (-not $subdir) { Fail 5 "'$arch' is a processor micromamba has no Windows build for (win-64 is for AMD64 and, under emulation, ARM64); pass --micromamba PATH to a micromamba.exe that runs here" }
    elseif ($url) { $kind = 'mirror'; Test-Url '--micromamba-url' $url }
    else {
        $kind = 'release'
        $version = if ($opt['--micromamba-version']) { $opt['--micromamba-version'] } else { $Pinned }
        $base = if ($env:MAMBABOOT_RELEASES_URL) { $env:MAMBABOOT_RELEASES_URL } else { $Releases }
        Test-Url 'MAMBABOOT_RELEASES_URL' $base
        $url = "$($base.TrimEnd('/'))/latest/download/micromamba-$subdir"
        if ($version -ne 'latest') {
            if ($version -notmatch '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$') { Fail 2 "--micromamba-version '$version' is not like 2.8.1, 2.8.1-0 or 'latest'" }
            if (-not $version.Contains('-')) { $version += '-0' }
            $url = "$($base.TrimEnd('/'))/download/$version/micromamba-$subdir"
        }
    }

    # Without --zipapp: the one beside this script, else the one of this script's release, checked against its SHA256SUMS.
    $sums = $zipappUrl = $null
    if (-not $zipapp) {
        $zipapp = Join-Text $PSScriptRoot 'mambaboot.pyz'
        if ($Release -and -not [System.IO.File]::Exists($zipapp)) {
            Test-Url 'the release this script names' $Release
            $sums = "$Release/SHA256SUMS"; $zipapp = "$Release/mambaboot.pyz"
        }
    }
    if ($zipapp -match '://') { $zipappUrl = $zipapp; Test-Url '--zipapp' $zipappUrl }
    elseif ([System.IO.File]::Exists((Get-FullPath $zipapp '--zipapp'))) { $zipapp = Get-FullPath $zipapp '--zipapp' }
    else { Fail 2 "mambaboot.pyz not found at $zipapp (or not a regular file); put it beside this script, or pass --zipapp PATH-OR-URL" }

    $found = @($Contaminating | Where-Object { [System.Environment]::GetEnvironmentVariable($_) } | ForEach-Object { "  $_=" + [System.Environment]::GetEnvironmentVariable($_) })
    if ($found) { Fail 3 "this shell already has a Python environment in it:`n$($found -join "`n")`nopen a clean shell (or deactivate it)" }
    # By looking only, what create surely refuses; the rest is create's to judge under the place's lock.
    if ([System.IO.File]::Exists($prefix)) { Fail 4 "$prefix is not a directory; nothing was changed" }
    if ([System.IO.File]::Exists("$prefix\.mambaboot\record.json")) { Fail 4 "$prefix holds an environment mambaboot manages; use mambaboot create --force to replace it" }

    # Named as mambaboot's temporaries (common/files/tempname.py: 32 hex digits, a GUID's "N"); no lock, no mark: deleted when create returns; a killed run's is named by `cache clean` and `doctor`.
    $script:Token = [Guid]::NewGuid().ToString('N')
    $script:Work = Join-Text $cache "tmp\mambaboot-tmp-$($script:Token)-bootstrap"
    $script:SandboxHome = Join-Text $script:Work 'home'
    New-Directory (Join-Text $script:SandboxHome 'tmp')

    if ($zipappUrl) {
        $expected = $opt['--zipapp-sha256']
        if (-not $expected -and $sums) { $expected = Get-Digest $sums 'mambaboot.pyz' 'put mambaboot.pyz beside this script, or pass --zipapp PATH-OR-URL' -Listed }
        if (-not $expected) { $expected = Get-Digest "$zipappUrl.sha256" 'mambaboot.pyz' 'pass --zipapp-sha256 HEX if you know the digest' }
        $dir = Join-Text $cache ('zipapp\' + $expected.Substring(0, 16))
        [void](Save-Verified $zipappUrl $dir 'mambaboot.pyz' $expected)
        $zipapp = Join-Text $dir 'mambaboot.pyz'
    }

    $sha = $opt['--micromamba-sha256']
    if ($kind -eq 'local') {
        if (-not ($got = Get-Sha256 $binary)) { Fail 5 "micromamba not found at $binary" }
        if ($sha -and $got -ne $sha) { Fail 5 "$binary has sha256 $got, not the expected $sha" }
        $sha = $got; $how = 'given'
    } else {
        # A pinned release's version names its directory, which keeps its digest; others, URL and digest (engine/source.py).
        $notes = $null
        if ($version -and $version -ne 'latest') {
            $notes = Join-Text $cache "micromamba\$version-$subdir"
            if (-not $sha -and [System.IO.File]::Exists("$notes\sha256")) { $sha = ([System.IO.File]::ReadAllText("$notes\sha256")).Trim() }
            if ($sha -notmatch '^[0-9a-f]{64}$') { $sha = $null }
        }
        if (-not $sha) { $sha = Get-Digest "$url.sha256" "micromamba-$subdir" 'pass --micromamba-sha256 HEX if you know the digest' }
        if (-not $notes) {
            $hash = -join ([System.Security.Cryptography.SHA256]::Create().ComputeHash([System.Text.Encoding]::UTF8.GetBytes($url)) | ForEach-Object { $_.ToString('x2') })
            $notes = Join-Text $cache "micromamba\$kind-$($hash.Substring(0, 12))-$($sha.Substring(0, 16))"
        }
        $binary = Join-Text $notes 'micromamba.exe'; $how = 'cached'
        if (Save-Verified $url $notes 'micromamba.exe' $sha) {
            [System.IO.File]::WriteAllText("$notes\.sha256.mambaboot-tmp-$($script:Token)", $sha)
            Move-Into "$notes\.sha256.mambaboot-tmp-$($script:Token)" "$notes\sha256"
            $how = 'downloaded'
        }
    }
    Say "micromamba: $binary ($how, sha256 $($sha.Substring(0, 12)))"

    # The user's version (the cache then serves create too), or one mambaboot runs on; from the channels
    # create takes: -c, else MAMBABOOT_CHANNELS, else conda-forge (common/locations.py default_channels).
    $spec = if ($python) { "python=$python" } else { 'python' }
    if ($python -match '^([012]|3\.[0-8])(\.|$)') {
        $spec = "python=$OwnPython"
        Say "python: mambaboot runs on Python 3.9 or later: its private Python is $OwnPython, the environment's $python"
    }
    $mmChannels = $channels
    if ($mmChannels.Count -eq 0) { $mmChannels = @(([string]$env:MAMBABOOT_CHANNELS) -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }) }
    if ($mmChannels.Count -eq 0) { $mmChannels = @('conda-forge') }
    $command = @('create', '--yes', '--no-rc', '--override-channels')
    foreach ($channel in $mmChannels) { $command += @('-c', $channel) }
    # The root prefix is private, shortcuts off: as create runs micromamba (engine/micromamba.py).
    $command += @('--prefix', (Join-Text $script:Work 'python'), '--root-prefix', (Join-Text $script:SandboxHome 'root'), '--no-shortcuts', '--lock-timeout', '600', $spec)
    $engine = Invoke-Native $binary $command (Get-SandboxEnvironment) -Capture
    if ($engine.Code -ne 0) {
        $said = (@($engine.Out -split "`r?`n" | Where-Object { $_.Trim() }) | Select-Object -Last 20) -join "`n"
        # libmamba 2.8.1 says "Could not solve for environment specs" (api/utils.cpp): no network hint fits.
        $hint = if ($said -notmatch 'Could not solve for environment specs') { "`n  if it could not reach the channel: $(Get-ProxyHint $url)`n  if it failed on a certificate: $TlsHint" } else { '' }
        Fail 6 "micromamba could not make the private Python (exit $($engine.Code)):`n$said$hint"
    }
    $pythonExe = Join-Text $script:Work 'python\python.exe'
    if (-not [System.IO.File]::Exists($pythonExe)) { Fail 7 "micromamba finished but $pythonExe is missing" }
    Say "python: private, in $($script:Work)"

    # -I keeps PYTHON* variables and site directories out; the private Python is not put on PATH. Only the channels the user gave: without, create reads MAMBABOOT_CHANNELS itself.
    $handover = @('-I', $zipapp, 'create', $name, '--envs-dir', $envs, '--cache-dir', $cache)
    if ($python) { $handover += @('--python', $python) }
    foreach ($channel in $channels) { $handover += @('-c', $channel) }
    foreach ($package in $packages) { $handover += @('--package', $package) }
    $handover += @('--micromamba', $binary, '--micromamba-sha256', $sha)
    $childEnvironment = $null
    if ($script:Emulated) {
        # mambaboot reads the machine from these two (common/host.py): win-64, as this script chose.
        $childEnvironment = @{}
        foreach ($entry in [System.Environment]::GetEnvironmentVariables().GetEnumerator()) { $childEnvironment[[string]$entry.Key] = [string]$entry.Value }
        $childEnvironment.Remove('PROCESSOR_ARCHITEW6432'); $childEnvironment['PROCESSOR_ARCHITECTURE'] = 'AMD64'
    }
    $code = (Invoke-Native $pythonExe $handover $childEnvironment).Code
    $quoted = "'" + ($prefix -replace "['\u2018\u2019\u201A\u201B]", '$0$0') + "'"  # quotes doubled; the line reads activate.ps1 as text, which no policy refuses
    if ($code -eq 0) { Say ('to use it: & { param($MambabootPrefix) Invoke-Expression (Get-Content -Raw -LiteralPath "$MambabootPrefix\.mambaboot\activate.ps1") } ' + $quoted) }
    return $code
}

$script:AllowHttp = $false; $script:Emulated = $false; $script:Work = $null; $exitCode = 1
try { $exitCode = Invoke-Bootstrap $args } catch {
    $failure = $_.Exception
    if ($failure.Data.Contains('exit_code')) { $exitCode = $failure.Data['exit_code']; Say "bootstrap: error: $($failure.Message)" }
    else { Say "bootstrap: error: unexpected: $($failure.Message)" }
} finally {
    if ($script:Work) { Remove-Tree $script:Work }  # this run's alone (made by it, under a random name)
}
exit $exitCode
