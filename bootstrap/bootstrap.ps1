# bootstrap.ps1 [NAME] [PY_VERSION] [options]: a conda environment (Python, conda, mamba) on a
# Windows machine with no Python, in Windows PowerShell 5.1 or PowerShell 7, with bootstrap.bat's
# options. It does only what needs no Python: check the shell, download and verify micromamba
# (and the zipapp), make a private Python in a work directory of its own, and hand over to
# "mambaboot.pyz create" on it, which takes the place's lock and does the rest; the work
# directory goes when create returns (a killed run's is named by "cache clean" and "doctor").
#
#   powershell -ExecutionPolicy Bypass -File bootstrap.ps1 myenv 3.12 --package "numpy>=2"
#
# Exit codes are create's: 2 usage, 3 the shell has an environment active, 4 target refused,
# 5 micromamba (or the zipapp) could not be obtained, verified or started, 6 micromamba failed,
# 7 the private Python is missing; after the hand-over, create's own code. Native programs start
# through ProcessStartInfo, each argument quoted by Windows' argv rules (Format-Argument). A
# policy set by Group Policy overrides -ExecutionPolicy Bypass (about_Execution_Policies): then
# PowerShell refuses this file before it runs; use bootstrap.bat. micromamba reads only the proxy
# variables (libmamba 2.8.1 sets CURLOPT_PROXY only from .condarc, download/curl.cpp set_url, and
# runs with --no-rc), never Windows' proxy settings: the downloads here take HTTPS_PROXY (else
# ALL_PROXY) and NO_PROXY as curl.exe does, else Windows' own proxy (Receive-Url).

# Under an AppLocker or App Control (WDAC) policy a script outside the allowed places runs in
# ConstrainedLanguage mode, which refuses the .NET calls below (about_Language_Modes). Checked
# first, with nothing but what that mode allows, so that the refusal itself runs there. Not
# "use bootstrap.bat": AppLocker's script rules cover .bat and .cmd files too, and its default
# executable rules allow programs only under the Windows and Program Files folders, so
# micromamba.exe and python.exe under the user's folders are blocked either way (Microsoft
# Learn, "Script rules in AppLocker", "Understanding AppLocker default rules").
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    Write-Host ('bootstrap: error: PowerShell runs this script in ' + $ExecutionContext.SessionState.LanguageMode +
                ' mode: an AppLocker or App Control policy governs this machine, and the same policy decides whether bootstrap.bat, micromamba.exe and python.exe may run from your folders (its default rules allow programs only under the Windows and Program Files folders); ask the administrator of this machine for a place they may run from, and give it as --cache-dir and --envs-dir')
    exit 2
}

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'  # a cmdlet crawls while it draws a progress bar

$Pinned = '2.8.1-0'
$Releases = 'https://github.com/mamba-org/micromamba-releases/releases'
# The address of the release this copy belongs to: empty in the repository; a release's copy
# names it (tools/build_release.py --release-url), so that this script alone fetches the zipapp.
$Release = ''
# The private Python when the user asks for one older than mambaboot runs on (it needs >= 3.9).
$OwnPython = '3.12'
$Contaminating = @('CONDA_PREFIX', 'CONDA_SHLVL', 'CONDA_DEFAULT_ENV', 'PYTHONHOME', 'PYTHONPATH', 'PYTHON_ENVS', 'VIRTUAL_ENV')
$Scrubbed = @('CONDA_', 'MAMBA_', 'PYTHON', '_CE_', '__CONDA', 'VIRTUAL_ENV', '_MAMBABOOT_')
$Carried = @('MAMBA_SSL_VERIFY', 'MAMBA_CACERT_PATH', 'MAMBA_SSL_NO_REVOKE', 'MAMBA_CHANNEL_ALIAS')
$EnvSubdirs = @('', '\bin', '\Scripts', '\condabin', '\Library\bin', '\Library\usr\bin', '\Library\mingw-w64\bin')
$ProxyHint = "behind a proxy, set HTTPS_PROXY=http://HOST:PORT (micromamba does not use Windows' proxy settings; this script's downloads use HTTPS_PROXY when it is set)"
$ProxyLogon = 'if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon'
# micromamba checks certificates with Windows' Schannel, revocation included, where this script's
# .NET download did not (mamba-org/mamba#2751, #3346): a TLS-inspecting proxy stops it only. A CA
# file replaces Windows' certificate store (curl#3727): no CA variable is made MAMBA_SSL_VERIFY here,
# as create makes none on Windows (engine/network.py read).
$TlsHint = "behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation) or MAMBA_SSL_VERIFY=PATH of the company's CA bundle"
$Reserved = '^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)(\..*)?$'
$Usage = @'
usage: bootstrap.ps1 [NAME] [PY_VERSION] [options]

Creates NAME_3_12 for PY_VERSION 3.12 (default NAME: py) in --envs-dir, else in $env:PY_ENVS
(which must then be a directory), else in DRIVE:\dev\Anaconda\envs if it exists, else in the
current directory, by running "mambaboot.pyz create" on a private Python this script makes.
In PowerShell, quote the version ('3.10'): unquoted, PowerShell reads it as the number 3.1.

options:
  -c, --channel CHANNEL      channel (repeatable; default $env:MAMBABOOT_CHANNELS, else conda-forge)
  --package SPEC             extra package (repeatable), e.g. --package "numpy>=2"
  --envs-dir DIR             parent of the environment
  --cache-dir DIR            cache root (default: DRIVE:\CACHE on the environment's drive if it exists,
                             else $env:LOCALAPPDATA\mambaboot\Cache if on that drive and all ASCII)
  --micromamba PATH          use this micromamba.exe (default: $env:MAMBABOOT_MICROMAMBA)
  --micromamba-version V     release to download (default: the pinned one; latest allowed)
  --micromamba-url URL       mirror: full URL of the binary; its digest is read from URL.sha256
  --micromamba-sha256 HEX    trust this digest instead of the published .sha256
  --allow-http               allow plain http:// for non-loopback URLs
  --zipapp PATH-OR-URL       mambaboot.pyz (default: beside this script, else the one of this
                             script's release, checked against its SHA256SUMS); a URL is
                             verified against URL.sha256 or --zipapp-sha256
  --zipapp-sha256 HEX        expected digest of --zipapp URL

environment: PY_ENVS, CONDA_PKGS_DIRS, MAMBABOOT_MICROMAMBA, MAMBABOOT_RELEASES_URL (a
mirror of the release tree), MAMBABOOT_HTTP_TIMEOUT, MAMBABOOT_HTTP_DEADLINE (seconds) and
MAMBABOOT_HTTP_MAX_BYTES (whole numbers), as for "mambaboot create".
'@

function Fail([int]$Code, [string]$Message) {
    $e = New-Object System.Exception $Message
    $e.Data['exit_code'] = $Code
    throw $e
}

function Say([string]$Message) { [Console]::Error.WriteLine($Message) }

# The rules Windows programs (the C runtime's argv) parse a command line with.
function Format-Argument([string]$Value) {
    if ($Value.Length -gt 0 -and $Value -notmatch '[\s"]') { return $Value }
    $quoted = $Value -replace '(\\*)"', '$1$1\"'
    $quoted = $quoted -replace '(\\+)$', '$1$1'
    return '"' + $quoted + '"'
}

# Start exe with argv; Environment replaces the child's whole environment when given.
function Invoke-Native([string]$Exe, [string[]]$Argv, [hashtable]$Environment, [switch]$Capture) {
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $Exe
    $psi.Arguments = (@($Argv | ForEach-Object { Format-Argument $_ }) -join ' ')
    $psi.UseShellExecute = $false
    # Set-Location moves PowerShell's location, not the process's working directory, which a
    # child inherits when none is given (ProcessStartInfo.WorkingDirectory): the shell's location.
    if ($script:Cwd) { $psi.WorkingDirectory = $script:Cwd }
    if ($null -ne $Environment) {
        $psi.Environment.Clear()
        foreach ($key in $Environment.Keys) { $psi.Environment[$key] = $Environment[$key] }
    }
    if ($Capture) { $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true }
    # A program a policy blocks (AppLocker, App Control, Smart App Control, Software Restriction
    # Policies) never starts: Process.Start throws a Win32Exception whose message is Windows' own
    # ("This program is blocked by group policy...", ERROR_ACCESS_DISABLED_BY_POLICY, 1260): said.
    try { $process = [System.Diagnostics.Process]::Start($psi) } catch {
        $failure = $_.Exception
        while ($failure.InnerException) { $failure = $failure.InnerException }
        $number = ''
        if ($failure -is [System.ComponentModel.Win32Exception]) { $number = " (Windows error $($failure.NativeErrorCode))" }
        Fail 5 "$Exe could not start: $($failure.Message)$number`n  if a policy blocks programs in this folder (AppLocker, App Control, an antivirus), ask the administrator of this machine for a place programs may run from, and give it as --cache-dir"
    }
    $out = ''
    $err = ''
    if ($Capture) {
        $errTask = $process.StandardError.ReadToEndAsync()
        $out = $process.StandardOutput.ReadToEnd()
        $err = $errTask.Result
    }
    $process.WaitForExit()
    return @{ Code = $process.ExitCode; Out = $out; Err = $err }
}

function Get-FullPath([string]$Path) {
    $full = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($script:Cwd, $Path))
    if ($full.Length -gt 3 -and $full.EndsWith('\')) { $full = $full.TrimEnd('\') }
    return $full
}

# Windows PowerShell 5.1's Test-Path and .NET Framework's Path.GetFullPath throw on a character no
# Windows path holds (" < > | ? * and the control characters: Microsoft Learn, "Naming Files,
# Paths, and Namespaces"), which ended the script as unexpected (exit 1): refused first, as a
# usage error naming where the path came from.
function Test-PathText([string]$Source, [string]$Value) {
    if ($Value -match '["<>|?*\x00-\x1f]') {
        Fail 2 "$Source '$Value' holds a character no Windows path holds (a double quote, an angle bracket, a vertical bar, a question mark, an asterisk or a control character)"
    }
}

# From a root: a drive's, a UNC share or the current drive's, as mambaboot reads it (common/host.py).
function Test-Absolute([string]$Path) {
    return $Path -match '^([A-Za-z]:)?[\\/]'
}

function Test-Digest([string]$Option, [string]$Value) {
    $digest = $Value.Trim().ToLowerInvariant()
    if ($digest -notmatch '^[0-9a-f]{64}$') { Fail 2 "$Option '$Value' is not a sha256 hex digest" }
    return $digest
}

# '' for anything but a regular file: a file is looked at only where one was expected.
function Get-Sha256([string]$Path) {
    if (-not [System.IO.File]::Exists($Path)) { return '' }
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

# A URL as it may be shown: a user:password before the host masked (common/urlrule.py shows it so).
function Get-ShownUrl([string]$Url) { return $Url -replace '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', '$1***@' }

function Get-TextSha256([string]$Text) {
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $bytes = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    return (($bytes | ForEach-Object { $_.ToString('x2') }) -join '')
}

function Test-Url([string]$Option, [string]$Url) {
    if ($Url -match '^(?i)(https|file)://') { return }
    if ($Url -notmatch '^(?i)http://') { Fail 2 "$Option '$(Get-ShownUrl $Url)' is not an https:// URL" }
    $hostName = ([System.Uri]$Url).Host
    if ($script:AllowHttp -or @('localhost', '127.0.0.1', '[::1]') -contains $hostName) { return }
    Fail 2 "$Option '$(Get-ShownUrl $Url)' uses plain http; use https, or pass --allow-http if you trust the network"
}

# The proxy curl.exe and micromamba read from the environment (curl's manual, ENVIRONMENT):
# HTTPS_PROXY, else ALL_PROXY; a value without a scheme is an http:// proxy, as curl reads it.
function Get-ProxyVariable {
    foreach ($var in @('HTTPS_PROXY', 'ALL_PROXY')) {
        $value = [System.Environment]::GetEnvironmentVariable($var)
        if ($value) {
            if ($value -notmatch '://') { $value = 'http://' + $value }
            return $value
        }
    }
    return $null
}

# What a failure that a proxy may explain says: the variable that named the proxy it went through,
# with the proxy's scheme, host and port (never a user:password it holds), and what a proxy that
# wants Windows logon means for micromamba (libmamba 2.8.1 sets CURLOPT_PROXY and never
# CURLOPT_PROXYAUTH, download/curl.cpp, so libcurl offers Basic only); with none, what to set.
function Get-ProxyHint([string]$Url) {
    foreach ($var in @('HTTPS_PROXY', 'ALL_PROXY')) {
        if (-not [System.Environment]::GetEnvironmentVariable($var)) { continue }
        $shown = ''
        try { $uri = [System.Uri](Get-ProxyVariable); $shown = " ($($uri.Scheme)://$($uri.Authority))" } catch { }
        return "$var names the proxy it went through$shown; $ProxyLogon"
    }
    $system = Get-SystemProxy $Url
    if ($system) { return "Windows' proxy settings name $system, which micromamba does not use; set HTTPS_PROXY=$system" }
    return $ProxyHint
}

# Whether NO_PROXY lists Uri's host, by curl's rules (curl's manual, CURLOPT_NOPROXY), which
# curl.exe and micromamba follow: libmamba 2.8.1 never sets CURLOPT_NOPROXY (download/curl.cpp),
# so its libcurl reads NO_PROXY itself. A comma-separated list, each name trimmed and compared
# without case; the value '*' alone matches every host; a name matches that host and every host
# in its domain, a leading dot ignored ('example.com' and '.example.com' both match example.com
# and www.example.com, never notexample.com); an IPv6 address is written without brackets. An
# address range (CIDR, curl 7.86.0) is not followed: an address matches itself only.
function Test-NoProxy([System.Uri]$Uri) {
    $list = [System.Environment]::GetEnvironmentVariable('NO_PROXY')
    if (-not $list) { return $false }
    if ($list.Trim() -eq '*') { return $true }
    $hostName = $Uri.Host.Trim('[', ']').TrimEnd('.')
    foreach ($entry in $list.Split(',')) {
        $name = $entry.Trim()
        if ($name.StartsWith('.')) { $name = $name.Substring(1) }
        if (-not $name) { continue }
        if ($hostName -eq $name -or $hostName.EndsWith('.' + $name, [System.StringComparison]::OrdinalIgnoreCase)) { return $true }
    }
    return $false
}

# The proxy Windows' settings (WinINET, PAC) give for Url, which micromamba does not use; $null
# for none, or when they cannot be read (WebRequest.GetSystemWebProxy).
function Get-SystemProxy([string]$Url) {
    try {
        $uri = [System.Uri]$Url
        if ($uri.IsFile) { return $null }
        $system = [System.Net.WebRequest]::GetSystemWebProxy()
        if ($system.IsBypassed($uri)) { return $null }
        $proxy = $system.GetProxy($uri)
        if ($null -eq $proxy -or $proxy.Authority -eq $uri.Authority) { return $null }
        return $proxy.GetLeftPart([System.UriPartial]::Authority)
    } catch { return $null }
}

# A whole number >= 1 from variable Name, else Default: the bounds mambaboot's own downloads take
# from the same variables (engine/download.py), here in whole seconds and bytes.
function Get-Bound([string]$Name, [long]$Default) {
    $raw = [System.Environment]::GetEnvironmentVariable($Name)
    if ($null -eq $raw) { return $Default }
    if ($raw -notmatch '^[1-9][0-9]{0,17}$') { Fail 2 "$Name='$raw' is not a whole number >= 1" }
    return [long]$raw
}

# MAMBA_SSL_NO_REVOKE as a boolean, from whatever spelling the user gave (engine/network.py flag):
# libmamba reads the variable as YAML, where 1 and 0 are no booleans and stop micromamba
# (Configurable::compute, libmamba/include/mamba/api/configuration.hpp; yaml-cpp's
# convert<bool>::decode), and raw in get_env_remote_params (download/downloader.cpp), where
# anything but 0, false included, turns the check off: so it is passed as true or not at all.
function Get-NoRevoke {
    $raw = [System.Environment]::GetEnvironmentVariable('MAMBA_SSL_NO_REVOKE')
    if (-not $raw) { return $false }
    $word = $raw.Trim().ToLowerInvariant()
    if (@('y', 'yes', 'true', 'on', '1') -contains $word) { return $true }
    if (@('n', 'no', 'false', 'off', '0') -contains $word) { return $false }
    Fail 2 "MAMBA_SSL_NO_REVOKE='$raw' is neither true nor false: set it to true or false"
}

# Url -> Destination, bounded as mambaboot bounds a download: $script:Connect seconds to connect
# and for each read, $script:Deadline seconds for an attempt, after which no retry starts, at most
# $script:MaxBytes bytes. Not Invoke-WebRequest: its -TimeoutSec covers the request and the
# response headers only, never the body (PowerShell 7.4 renamed it -ConnectionTimeoutSeconds and
# added -OperationTimeoutSeconds, per read: Microsoft's WebRequestPSCmdlet reference), 5.1 has
# neither, and it holds the whole body in memory before a byte is written. HttpWebRequest, in
# both: Timeout covers GetResponse, ReadWriteTimeout each Read of the response stream (Microsoft's
# HttpWebRequest reference); every wait is also cut at the deadline, and the body is counted as
# it arrives, so a Content-Length beyond the bound, or a body without one that goes on, stops it.
function Save-Url([string]$Url, [string]$Destination) {
    $uri = [System.Uri]$Url
    if ($uri.IsFile) { [System.IO.File]::Copy($uri.LocalPath, $Destination, $true); return }
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    for ($attempt = 1; ; $attempt++) {
        try { Receive-Url $uri $Destination $clock; return } catch {
            $status = 0
            for ($e = $_.Exception; $e; $e = $e.InnerException) {
                if ($e -is [System.Net.WebException] -and $e.Response -is [System.Net.HttpWebResponse]) { $status = [int]$e.Response.StatusCode; break }
            }
            if ($status -eq 407) {
                $proxy = Get-ProxyVariable
                if (-not $proxy) { $proxy = Get-SystemProxy $Url }
                Fail 5 "the proxy $(Get-ShownUrl ([string]$proxy)) answered 407 (Proxy Authentication Required): it took neither your Windows logon (given to Windows' own proxy only) nor a user:password in HTTPS_PROXY; $ProxyLogon"
            }
            # The server answered: a wrong version, a mirror without the file, a release without this platform's asset.
            if ($status) { Fail 5 "it answered HTTP $status, an HTTP error, not the network: check --micromamba-version (a release that has micromamba-win-64), the mirror's URL, or --zipapp" }
            if ($_.Exception.Data.Contains('exit_code') -or $attempt -ge 4 -or $clock.Elapsed.TotalSeconds -ge $script:Deadline) { throw }
        }
    }
}

# The milliseconds left before the deadline, as a wait takes them.
function Get-Left($Clock) {
    return [int][Math]::Max(0.0, [Math]::Min([int]::MaxValue, $script:Deadline * 1000.0 - $Clock.ElapsedMilliseconds))
}

# Task.Wait within the deadline: its result, or Fail 5 naming the variable to set; a failed task
# throws its own error, not the AggregateException around it.
function Wait-Within($Task, $Request, $Clock) {
    try { $done = $Task.Wait((Get-Left $Clock)) } catch {
        $e = $_.Exception
        while ($e.InnerException) { $e = $e.InnerException }
        throw $e
    }
    if (-not $done) {
        $Request.Abort()
        Fail 5 "no whole answer within MAMBABOOT_HTTP_DEADLINE=$($script:Deadline) seconds (MAMBABOOT_HTTP_TIMEOUT=$($script:Connect) seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
    }
    return $Task.Result
}

function Receive-Url([System.Uri]$Uri, [string]$Destination, $Clock) {
    $tooLarge = "it is larger than MAMBABOOT_HTTP_MAX_BYTES=$($script:MaxBytes) bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
    $request = [System.Net.WebRequest]::Create($Uri)
    # .NET never follows an https -> http redirect; hops are capped as mambaboot caps them.
    $request.AllowAutoRedirect = $true
    $request.MaximumAutomaticRedirections = 10
    $request.Timeout = [int][Math]::Min([int]::MaxValue, $script:Connect * 1000.0)
    $request.ReadWriteTimeout = $request.Timeout
    # Without a variable, Windows' own proxy (WebRequest.DefaultWebProxy: the user's Internet
    # settings), whose Credentials are null unless set (Microsoft Learn, "WebRequest.DefaultWebProxy
    # Property"), so an NTLM or Negotiate proxy answered 407: it gets the logon of the user running
    # this (CredentialCache.DefaultCredentials), as Windows' own programs give it to that proxy. A
    # proxy a variable names gets the user:password written in it (as curl reads it), never the
    # logon: it could relay or crack the NTLM answer. NO_PROXY's hosts are reached directly.
    $proxy = Get-ProxyVariable
    if (-not $proxy) {
        $request.Proxy = [System.Net.WebRequest]::DefaultWebProxy
        if ($null -ne $request.Proxy) { $request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultCredentials }
    } elseif (Test-NoProxy $Uri) { $request.Proxy = $null }
    else {
        $proxyUri = [System.Uri]$proxy
        $request.Proxy = New-Object System.Net.WebProxy $proxyUri
        if ($proxyUri.UserInfo) {
            $user, $password = $proxyUri.UserInfo -split ':', 2
            $request.Proxy.Credentials = New-Object System.Net.NetworkCredential -ArgumentList @(
                [System.Uri]::UnescapeDataString($user), [System.Uri]::UnescapeDataString([string]$password))
        }
    }
    $response = Wait-Within ($request.GetResponseAsync()) $request $Clock
    try {
        if ($response.ContentLength -gt $script:MaxBytes) { Fail 5 $tooLarge }
        $body = $response.GetResponseStream()
        # .NET writes the file: PowerShell 5.1 reads a path given to a cmdlet as a wildcard pattern,
        # where [ ] in the cache directory would match nothing (PowerShell issue 4726).
        $file = [System.IO.File]::Create($Destination)
        try {
            $buffer = New-Object byte[] 65536
            $total = 0
            while ($true) {
                $read = Wait-Within ($body.ReadAsync($buffer, 0, $buffer.Length)) $request $Clock
                if ($read -eq 0) { break }
                $total += $read
                if ($total -gt $script:MaxBytes) { $request.Abort(); Fail 5 $tooLarge }
                $file.Write($buffer, 0, $read)
            }
        } finally { $file.Dispose() }
    } finally { $response.Dispose() }
}

# Why a download failed, in words: a bound it passed names its variable (with nothing kept);
# anything else may be a proxy's doing.
function Get-DownloadFailure($Failure, [string]$Url) {
    if ($Failure.Data.Contains('exit_code')) { return "$($Failure.Message); nothing was kept" }
    return "$($Failure.Message)`n  $(Get-ProxyHint $Url)"
}

function Get-PublishedDigest([string]$Url, [string]$Hint) {
    $file = Join-Text $script:Work 'published.sha256'
    try { Save-Url "$Url.sha256" $file } catch {
        Fail 5 "could not read the published digest $(Get-ShownUrl $Url).sha256: $(Get-DownloadFailure $_.Exception $Url)`n  without it the download cannot be verified; pass $Hint HEX if you know the digest"
    }
    $token = (([System.IO.File]::ReadAllText($file)).Trim() -split '\s+')[0].ToLowerInvariant()
    if ($token -notmatch '^[0-9a-f]{64}$') { Fail 5 "$(Get-ShownUrl $Url).sha256 does not hold a sha256 digest" }
    return $token
}

# The digest on the line of the checksum file at Url that names exactly Name (sha256sum's
# "DIGEST  NAME", or "DIGEST *NAME" in its binary mode).
function Get-ListedDigest([string]$Url, [string]$Name) {
    $file = Join-Text $script:Work 'SHA256SUMS'
    try { Save-Url $Url $file } catch {
        Fail 5 "could not read $(Get-ShownUrl $Url): $(Get-DownloadFailure $_.Exception $Url)`n  without it $Name cannot be verified; put $Name beside this script, or pass --zipapp PATH-OR-URL"
    }
    foreach ($line in [System.IO.File]::ReadAllLines($file)) {
        $words = @($line.Trim() -split '\s+')
        if ($words.Count -eq 2 -and ($words[1] -ceq $Name -or $words[1] -ceq "*$Name") -and $words[0] -match '^[0-9a-fA-F]{64}$') {
            return $words[0].ToLowerInvariant()
        }
    }
    Fail 5 "$(Get-ShownUrl $Url) has no sha256 line for $($Name): it cannot be verified"
}

# Download Url into Directory\Name only if its sha256 is Expected: whole and verified, or not at all.
function Save-Verified([string]$Url, [string]$Directory, [string]$Name, [string]$Expected) {
    $tmp = Join-Text $Directory ".$Name.mambaboot-tmp-$($script:Token)"
    try {
        try { Save-Url $Url $tmp } catch { Fail 5 "download of $(Get-ShownUrl $Url) failed: $(Get-DownloadFailure $_.Exception $Url)" }
        $got = Get-Sha256 $tmp
        if ($got -ne $Expected) {
            Fail 5 "$(Get-ShownUrl $Url) does not match its published digest:`n  expected sha256 $Expected`n  downloaded      $got`nnothing was kept"
        }
        Move-Into $tmp (Join-Text $Directory $Name)
    } finally {
        if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
    }
}

# A program that holds a file open (an antivirus scanning the new micromamba.exe, another run
# using it) makes Windows refuse to delete or replace it: a sharing violation or access denied
# (DeleteFile, MoveFileEx). Said as that, naming the file, as what could not be obtained (5).
function Invoke-Replace([string]$Path, [scriptblock]$Step) {
    try { . $Step } catch {
        Fail 5 "$Path could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or micromamba using it), or access to it is denied ($($_.Exception.Message))`n  wait for the scan to end or close that program, then run this again"
    }
}

# Tmp (a whole file, beside it) renamed over Final: no lock, as two runs each rename a whole file.
function Move-Into([string]$Tmp, [string]$Final) {
    Invoke-Replace $Final { if ([System.IO.File]::Exists($Final)) { [System.IO.File]::Delete($Final) }; [System.IO.File]::Move($Tmp, $Final) }
}

function Save-Text([string]$Path, [string]$Text) {
    $tmp = Join-Text ([System.IO.Path]::GetDirectoryName($Path)) ".$([System.IO.Path]::GetFileName($Path)).mambaboot-tmp-$($script:Token)"
    [System.IO.File]::WriteAllText($tmp, $Text)
    Move-Into $tmp $Path
}

function New-Directory([string]$Path) { [void][System.IO.Directory]::CreateDirectory($Path) }

# Paths are joined as text: Join-Path looks the drive up and throws on one this session does not
# have ("Cannot find drive": a mapped drive off VPN given as --envs-dir; PowerShell issue 4386).
function Join-Text([string]$Parent, [string]$Child) { return $Parent.TrimEnd('\', '/') + '\' + $Child }
# in path"; issue 16465). .NET's Directory.Exists and File.Exists return false on any error.
function Test-InEnvironment([string]$Entry) {
    $entry = $Entry.Replace('"', '').TrimEnd('\')
    foreach ($sub in $EnvSubdirs) {
        if ($sub -and -not $entry.EndsWith($sub, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        $root = $entry.Substring(0, $entry.Length - $sub.Length)
        if (-not $root) { continue }
        if ([System.IO.Directory]::Exists($root + '\conda-meta') -or [System.IO.File]::Exists($root + '\pyvenv.cfg')) { return $true }
    }
    return $false
}

# Remove-Item -Recurse fails now and then with "The directory is not empty" while Windows still
# holds a file just deleted in it (an antivirus or indexer handle): a few tries, and a private
# directory left behind is said, never fatal.
function Remove-Tree([string]$Path) {
    for ($try = 1; $try -le 5; $try++) {
        if (-not [System.IO.Directory]::Exists($Path)) { return }
        try { [System.IO.Directory]::Delete($Path, $true); return } catch { Start-Sleep -Milliseconds (100 * $try) }
    }
    Say "bootstrap: warning: could not remove $Path (Windows still holds a file in it); delete it later"
}

# The environment create gives micromamba: every conda/mamba/python variable gone, no other
# environment on PATH, a private home (and temp) that is deleted afterwards.
function Get-SandboxEnvironment {
    $sandbox = @{}
    foreach ($entry in [System.Environment]::GetEnvironmentVariables().GetEnumerator()) {
        $name = [string]$entry.Key
        $drop = $false
        foreach ($prefix in $Scrubbed) {
            if ($name.StartsWith($prefix, [System.StringComparison]::OrdinalIgnoreCase)) { $drop = $true }
        }
        # conda and mamba read the file these two name (isolation.SCRUB_NAMES)
        if (@('CONDARC', 'MAMBARC') -contains $name.ToUpperInvariant()) { $drop = $true }
        # The network and machine settings create carries too (engine/network.py).
        if ($Carried -contains $name.ToUpperInvariant() -or
            $name.StartsWith('CONDA_OVERRIDE_', [System.StringComparison]::OrdinalIgnoreCase)) { $drop = $false }
        if (-not $drop) { $sandbox[$name] = [string]$entry.Value }
    }
    $pathKey = @($sandbox.Keys | Where-Object { $_ -ieq 'PATH' })
    foreach ($key in $pathKey) {
        $sandbox[$key] = (@($sandbox[$key] -split ';' | Where-Object { -not ($_ -and (Test-InEnvironment $_)) }) -join ';')
    }
    $homeDir = $script:SandboxHome
    foreach ($key in @($sandbox.Keys)) {
        if (@('HOME', 'USERPROFILE', 'HOMEDRIVE', 'HOMEPATH', 'APPDATA', 'LOCALAPPDATA', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME',
              'XDG_DATA_HOME', 'XDG_STATE_HOME', 'TMPDIR', 'TEMP', 'TMP') -contains $key.ToUpperInvariant()) {
            $sandbox.Remove($key)
        }
    }
    foreach ($key in @($sandbox.Keys | Where-Object { $_ -ieq 'MAMBA_SSL_NO_REVOKE' })) { $sandbox.Remove($key) }
    if ($script:NoRevoke) { $sandbox['MAMBA_SSL_NO_REVOKE'] = 'true' }
    # libmamba reads credentials from the user's home, which is about to be the private one.
    $userHome = [System.Environment]::GetEnvironmentVariable('USERPROFILE')
    if ($userHome) {
        foreach ($name in @('.netrc', '_netrc')) {
            if (-not $sandbox.ContainsKey('NETRC') -and (Test-Path -LiteralPath (Join-Text $userHome $name) -PathType Leaf)) {
                $sandbox['NETRC'] = Join-Text $userHome $name
            }
        }
        $auth = Join-Text $userHome '.mamba\auth\authentication.json'
        if (Test-Path -LiteralPath $auth -PathType Leaf) {
            New-Directory (Join-Text $homeDir '.mamba\auth')
            [System.IO.File]::Copy($auth, (Join-Text $homeDir '.mamba\auth\authentication.json'), $true)
        }
    }
    $sandbox['HOME'] = $homeDir
    $sandbox['USERPROFILE'] = $homeDir
    $sandbox['HOMEDRIVE'] = $homeDir.Substring(0, 2)
    $sandbox['HOMEPATH'] = $homeDir.Substring(2)
    $sandbox['APPDATA'] = Join-Text $homeDir 'AppData\Roaming'
    $sandbox['LOCALAPPDATA'] = Join-Text $homeDir 'AppData\Local'
    $sandbox['XDG_CONFIG_HOME'] = Join-Text $homeDir '.config'
    $sandbox['XDG_CACHE_HOME'] = Join-Text $homeDir '.cache'
    $sandbox['XDG_DATA_HOME'] = Join-Text $homeDir '.local\share'
    $sandbox['XDG_STATE_HOME'] = Join-Text $homeDir '.local\state'
    foreach ($key in @('TMPDIR', 'TEMP', 'TMP')) { $sandbox[$key] = Join-Text $homeDir 'tmp' }
    $sandbox['CONDA_PKGS_DIRS'] = $script:PkgsDirs -join ','
    return $sandbox
}

function Invoke-Bootstrap([object[]]$Arguments) {
    # ---------------------------------------------------------------- arguments
    $name = $null
    $python = $null
    $positional = 0
    $channels = @()
    $packages = @()
    $mmPath = $env:MAMBABOOT_MICROMAMBA
    $mmVersion = $null
    $mmUrl = $null
    $mmSha = $null
    $envsDir = $null
    $cacheDir = $null
    $zipapp = $null
    $zipappSha = $null
    $valued = @('-c', '--channel', '--package', '--envs-dir', '--cache-dir', '--micromamba', '--micromamba-version',
                '--micromamba-url', '--micromamba-sha256', '--zipapp', '--zipapp-sha256')
    for ($i = 0; $i -lt $Arguments.Count; $i++) {
        $arg = $Arguments[$i]
        if ($arg -isnot [string]) {
            Fail 2 "PowerShell read the argument '$arg' as a number; quote it (e.g. '3.10')"
        }
        if (@('-h', '--help', '/?') -contains $arg) { [Console]::Out.Write($Usage); return 0 }
        if ($arg -eq '--allow-http') { $script:AllowHttp = $true; continue }
        if ($arg.StartsWith('-')) {
            if ($valued -notcontains $arg) { Fail 2 "unknown option $arg (see --help)" }
            if ($i + 1 -ge $Arguments.Count) { Fail 2 "$arg needs a value" }
            $value = [string]$Arguments[++$i]
            if (-not $value.Trim()) { Fail 2 "$arg needs a non-empty value" }
            if ($value.StartsWith('-')) { Fail 2 "$arg value '$(Get-ShownUrl $value)' starts with '-'" }
            if ($value -match '[\x00-\x1f\x7f]') { Fail 2 "$arg value contains a control character" }
            switch -exact ($arg) {
                '-c' { $channels += $value }
                '--channel' { $channels += $value }
                '--package' { $packages += $value }
                '--envs-dir' { $envsDir = $value }
                '--cache-dir' { $cacheDir = $value }
                '--micromamba' { $mmPath = $value }
                '--micromamba-version' { $mmVersion = $value }
                '--micromamba-url' { $mmUrl = $value }
                '--micromamba-sha256' { $mmSha = Test-Digest $arg $value }
                '--zipapp' { $zipapp = $value }
                '--zipapp-sha256' { $zipappSha = Test-Digest $arg $value }
            }
            continue
        }
        $positional++
        if ($positional -eq 1) { $name = $arg }
        elseif ($positional -eq 2) { $python = $arg }
        else { Fail 2 "unexpected argument '$arg': give at most NAME and PY_VERSION" }
    }

    # ---------------------------------------------------------------- checks that write nothing, in create's order
    $script:Connect = Get-Bound 'MAMBABOOT_HTTP_TIMEOUT' 30
    $script:Deadline = Get-Bound 'MAMBABOOT_HTTP_DEADLINE' 1800
    $script:MaxBytes = Get-Bound 'MAMBABOOT_HTTP_MAX_BYTES' 268435456
    $script:NoRevoke = Get-NoRevoke
    if ($null -eq $name) { $name = 'py' }
    if (-not $name -or $name -eq '.' -or $name -eq '..' -or $name -match '[\\/]') {
        Fail 2 "invalid environment name '$name': one directory name, not a path"
    }
    if ($name -match $Reserved) { Fail 2 "environment name '$name' is a reserved Windows device name" }
    if ($name -match '[. ]$') { Fail 2 "environment name '$name' ends in a dot or a space, which Windows drops" }
    $envName = $name
    if ($null -ne $python) {
        if ($python -notmatch '^[0-9]+(\.[0-9]+){0,2}$') {
            Fail 2 "--python '$python' is not a version; give one like 3.12 or 3.12.4"
        }
        $envName = $name + '_' + $python.Replace('.', '_')
    }

    Test-PathText '--envs-dir' $envsDir
    Test-PathText '--cache-dir' $cacheDir
    Test-PathText 'PY_ENVS' $env:PY_ENVS
    Test-PathText 'CONDA_PKGS_DIRS' $env:CONDA_PKGS_DIRS
    Test-PathText '--micromamba (or MAMBABOOT_MICROMAMBA)' $mmPath
    if ($zipapp -notmatch '://') { Test-PathText '--zipapp' $zipapp }
    $script:Cwd = (Get-Location).ProviderPath
    $drive = [System.IO.Path]::GetPathRoot($script:Cwd).TrimEnd('\')
    if (-not $drive) { $drive = 'C:' }
    if ($envsDir) { $envs = Get-FullPath $envsDir }
    elseif ($env:PY_ENVS) {
        # Never the next default instead: the environment would land where the user did not say.
        if (-not (Test-Path -LiteralPath $env:PY_ENVS -PathType Container)) {
            Fail 2 "PY_ENVS names $(Get-FullPath $env:PY_ENVS), which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS"
        }
        $envs = Get-FullPath $env:PY_ENVS
    }
    elseif (Test-Path -LiteralPath "$drive\dev\Anaconda\envs" -PathType Container) { $envs = "$drive\dev\Anaconda\envs" }
    else {
        $envs = $script:Cwd
        # an elevated PowerShell starts in System32: never the place the user meant
        if ($env:SystemRoot -and @($env:SystemRoot, "$env:SystemRoot\System32") -contains $envs) {
            Fail 2 "the current directory is Windows' own ($envs), where an elevated shell starts; pass --envs-dir DIR or set PY_ENVS"
        }
        # In a folder OneDrive syncs, or on a home drive mapped to a network share, the environment
        # would land there unasked, as bootstrap.bat refuses it (Microsoft Learn, "OneDrive Files
        # On-Demand", "Folder Redirection"); a parent the user names is the user's choice.
        foreach ($var in @('OneDrive', 'OneDriveCommercial', 'OneDriveConsumer')) {
            $root = ([string][System.Environment]::GetEnvironmentVariable($var)).TrimEnd('\')
            if ($root -and ($envs -eq $root -or $envs.StartsWith($root + '\', [System.StringComparison]::OrdinalIgnoreCase))) {
                Fail 2 "$envs is in OneDrive, which would upload every file of the environment and may keep only placeholders of them (Files On-Demand); pass --envs-dir DIR outside it, or set PY_ENVS"
            }
        }
        if ($env:HOMESHARE -and $env:HOMEDRIVE -and $envs.StartsWith($env:HOMEDRIVE, [System.StringComparison]::OrdinalIgnoreCase)) {
            Fail 2 "$envs is on your network home drive (HOMESHARE), where every file of the environment would go over the network; pass --envs-dir DIR on a local disk, or set PY_ENVS"
        }
    }
    $prefix = Join-Text $envs $envName
    # [ and ]: Windows PowerShell 5.1 reads a path given to . or & (activate.ps1, its hooks) as a
    # wildcard pattern, with no literal form (PowerShell issue 4726)
    if ($prefix -match '[%!<>"|?*;\[\]\x00-\x1f]' -or $prefix.Substring(2).Contains(':')) {
        Fail 2 "prefix '$prefix' has a character packages or Windows cannot take (% ! < > `" | ? * ; [ ] or a second :); choose another path"
    }

    # The cache as create resolves it (common/locations.py resolve_cache_dir): micromamba hard-links
    # within one volume only, and fails on a path character the ANSI code page lacks
    # (mamba-org/mamba#3097, #3228), so the per-user cache only on the target's drive and all ASCII.
    $drive = [System.IO.Path]::GetPathRoot($prefix).TrimEnd('\')
    if ($cacheDir) { $cache = Get-FullPath $cacheDir }
    elseif ([System.IO.Directory]::Exists("$drive\CACHE")) { $cache = "$drive\CACHE" }
    else {
        $base = [string]$env:LOCALAPPDATA  # ignored when relative (common/host.py base_dir)
        if (-not (Test-Absolute $base)) { $base = Join-Text ([string]$env:USERPROFILE) 'AppData\Local' }
        $user = Join-Text $base 'mambaboot\Cache'
        $cache = "$drive\CACHE"
        if ($user.StartsWith($drive + '\', [System.StringComparison]::OrdinalIgnoreCase) -and $user -cnotmatch '[^\x20-\x7e]') { $cache = $user }
    }
    # comma-separated on every platform, as conda reads it
    $script:PkgsDirs = @(([string]$env:CONDA_PKGS_DIRS) -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ } |
                         ForEach-Object { Get-FullPath $_ })
    if ($script:PkgsDirs.Count -eq 0) { $script:PkgsDirs = @(Join-Text $cache 'Python\pkgs') }
    # libmamba parses CONDA_PKGS_DIRS as the YAML list "[VALUE]" (configuration_impl.hpp): see pathrules.check_pkgs_dir.
    foreach ($dir in $script:PkgsDirs) {
        if ($dir -match '[\[\]{}#]|: ') {
            Fail 2 "package cache $dir holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS"
        }
    }

    # The machine's processor: a 32-bit PowerShell on 64-bit Windows sees x86 in PROCESSOR_ARCHITECTURE
    # and the machine's own in PROCESSOR_ARCHITEW6432 (Microsoft Learn, "WOW64 Implementation
    # Details"). ARM64: micromamba 2.8.1 has a win-arm64 build, but conda-forge's win-arm64 channel
    # has no conda package (conda-forge/conda-forge.github.io#1940, mamba-org/mamba#4393), so an
    # environment of python, conda and mamba cannot be solved there: win-64 instead, which Windows
    # 11 runs under its x64 emulation (build 22000 on); Windows 10 on ARM runs no x64 program.
    $arch = [string]$env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = [string]$env:PROCESSOR_ARCHITECTURE }
    $subdir = @{ 'AMD64' = 'win-64'; 'ARM64' = 'win-64' }[$arch]
    if ($arch -eq 'ARM64') {
        if ([System.Environment]::OSVersion.Version.Build -lt 22000) {
            Fail 5 "this ARM64 Windows runs no x64 program (Windows 11 does, under its x64 emulation), and conda-forge's win-arm64 channel has no conda package (conda-forge/conda-forge.github.io#1940): use Windows 11 or an x64 machine"
        }
        $script:Emulated = $true
        Say "machine: ARM64: win-64 (x64) under Windows 11's x64 emulation, since conda-forge's win-arm64 channel has no conda package (conda-forge/conda-forge.github.io#1940)"
    }
    $url = $null
    if ($mmPath) { $kind = 'local' }
    elseif (-not $subdir) {
        Fail 5 "'$arch' is a processor micromamba has no Windows build for (win-64 is for AMD64 and, under emulation, ARM64); pass --micromamba PATH to a micromamba.exe that runs here"
    }
    elseif ($mmUrl) { $kind = 'mirror'; Test-Url '--micromamba-url' $mmUrl; $url = $mmUrl }
    else {
        $kind = 'release'
        $version = $Pinned
        if ($mmVersion) { $version = $mmVersion }
        $base = $Releases
        if ($env:MAMBABOOT_RELEASES_URL) { $base = $env:MAMBABOOT_RELEASES_URL }
        $base = $base.TrimEnd('/')
        Test-Url 'MAMBABOOT_RELEASES_URL' $base
        if ($version -eq 'latest') { $url = "$base/latest/download/micromamba-$subdir" }
        else {
            if ($version -notmatch '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$') {
                Fail 2 "--micromamba-version '$version' is not like 2.8.1, 2.8.1-0 or 'latest'"
            }
            if (-not $version.Contains('-')) { $version += '-0' }
            $url = "$base/download/$version/micromamba-$subdir"
        }
    }

    # Without --zipapp: the one beside this script, else the one of the release this copy belongs
    # to, a --zipapp URL whose digest is its line in the release's SHA256SUMS.
    $sums = $null
    if (-not $zipapp) {
        $zipapp = Join-Text $PSScriptRoot 'mambaboot.pyz'
        if ($Release -and -not (Test-Path -LiteralPath $zipapp -PathType Leaf)) {
            Test-Url 'the release this script names' $Release
            $sums = "$Release/SHA256SUMS"
            $zipapp = "$Release/mambaboot.pyz"
        }
    }
    $zipappUrl = $null
    if ($zipapp -match '://') { $zipappUrl = $zipapp; Test-Url '--zipapp' $zipappUrl }
    elseif (Test-Path -LiteralPath $zipapp -PathType Leaf) { $zipapp = Get-FullPath $zipapp }
    else { Fail 2 "mambaboot.pyz not found at $zipapp (or not a regular file); put it beside this script, or pass --zipapp PATH-OR-URL" }

    # ---------------------------------------------------------------- the shell (3), the target (4)
    $found = @($Contaminating | Where-Object { [System.Environment]::GetEnvironmentVariable($_) })
    if ($found.Count -gt 0) {
        $lines = ($found | ForEach-Object { "  $_=" + [System.Environment]::GetEnvironmentVariable($_) }) -join "`n"
        Fail 3 "this shell already has a Python environment in it:`n$lines`nopen a clean shell (or deactivate it)"
    }
    # By looking only, what create surely refuses; the rest is create's to judge under the place's lock.
    if ([System.IO.File]::Exists($prefix)) { Fail 4 "$prefix is not a directory; nothing was changed" }
    if ([System.IO.File]::Exists("$prefix\.mambaboot\record.json")) { Fail 4 "$prefix holds an environment mambaboot manages; use mambaboot create --force to replace it" }
    # ---------------------------------------------------------------- from here on, writes: the work directory only
    # A random name of the form mambaboot's own temporaries have (common/files/tempname.py: 32
    # lowercase hex digits; a GUID's "N" format is 32 of them): CACHE\tmp\mambaboot-tmp-TOKEN-bootstrap,
    # and .NAME.mambaboot-tmp-TOKEN beside a download in the stores. No lock, no mark: the work
    # directory is this run's alone, deleted when create returns; a killed run's is named by
    # `mambaboot cache clean` and `doctor`.
    $script:Token = [Guid]::NewGuid().ToString('N')
    New-Directory (Join-Text $cache 'tmp')
    $script:Work = Join-Text $cache "tmp\mambaboot-tmp-$($script:Token)-bootstrap"
    New-Directory (Join-Text $script:Work 'home\tmp')
    $script:SandboxHome = Join-Text $script:Work 'home'

    if ($zipappUrl) {
        $expected = $zipappSha
        if (-not $expected -and $sums) { $expected = Get-ListedDigest $sums 'mambaboot.pyz' }
        if (-not $expected) { $expected = Get-PublishedDigest $zipappUrl '--zipapp-sha256' }
        $dir = Join-Text $cache ('zipapp\' + $expected.Substring(0, 16))
        New-Directory $dir
        $zipapp = Join-Text $dir 'mambaboot.pyz'
        if ((Get-Sha256 $zipapp) -ne $expected) { Save-Verified $zipappUrl $dir 'mambaboot.pyz' $expected }
    }

    # ---------------------------------------------------------------- micromamba: the cache layout is create's
    $how = 'cached'
    if ($kind -eq 'local') {
        $binary = Get-FullPath $mmPath
        if (-not (Test-Path -LiteralPath $binary -PathType Leaf)) { Fail 5 "micromamba not found at $binary" }
        $sha = Get-Sha256 $binary
        if ($mmSha -and $sha -ne $mmSha) { Fail 5 "$binary has sha256 $sha, not the expected $mmSha" }
        $how = 'given'
    } else {
        # A pinned release never changes, so its version names its directory and its digest
        # is kept there; latest and mirrors can change under one URL, so the digest names theirs.
        $store = Join-Text $cache 'micromamba'
        $sha = $mmSha
        $notes = $null
        if ($kind -eq 'release' -and $version -ne 'latest') {
            $notes = Join-Text $store "$version-$subdir"
            $kept = Join-Text $notes 'sha256'
            if (-not $sha -and [System.IO.File]::Exists($kept)) { $sha = ([System.IO.File]::ReadAllText($kept)).Trim() }
            if ($sha -notmatch '^[0-9a-f]{64}$') { $sha = $null }
        }
        if (-not $sha) { $sha = Get-PublishedDigest $url '--micromamba-sha256' }
        if (-not $notes) {
            $notes = Join-Text $store ("$kind-" + (Get-TextSha256 $url).Substring(0, 12) + '-' + $sha.Substring(0, 16))
        }
        $binary = Join-Text $notes 'micromamba.exe'
        if ((Get-Sha256 $binary) -ne $sha) {
            New-Directory $notes
            Save-Verified $url $notes 'micromamba.exe' $sha
            Save-Text (Join-Text $notes 'sha256') $sha
            $how = 'downloaded'
        }
    }
    Say "micromamba: $binary ($how, sha256 $($sha.Substring(0, 12)))"

    # ---------------------------------------------------------------- the private Python, once, sandboxed
    # The user's version, so that create finds its packages in the same cache; one mambaboot runs on.
    $own = $python
    if ($python -match '^([012]|3\.[0-8])(\.|$)') {
        $own = $OwnPython
        Say "python: mambaboot runs on Python 3.9 or later: its private Python is $OwnPython, the environment's $python"
    }
    # From the channels create takes: -c, else MAMBABOOT_CHANNELS, else conda-forge (locations.py default_channels).
    $mmChannels = $channels
    if ($mmChannels.Count -eq 0) { $mmChannels = @(([string]$env:MAMBABOOT_CHANNELS) -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }) }
    if ($mmChannels.Count -eq 0) { $mmChannels = @('conda-forge') }
    $command = @('create', '--yes', '--no-rc', '--override-channels')
    foreach ($channel in $mmChannels) { $command += @('-c', $channel) }
    # The root prefix is private, shortcuts off: as create runs micromamba (engine/micromamba.py).
    $spec = 'python'
    if ($own) { $spec = "python=$own" }
    $command += @('--prefix', (Join-Text $script:Work 'python'), '--root-prefix', (Join-Text $script:SandboxHome 'root'), '--no-shortcuts', '--lock-timeout', '600', $spec)
    $engine = Invoke-Native $binary $command (Get-SandboxEnvironment) -Capture
    if ($engine.Code -ne 0) {
        $said = (@(($engine.Out + $engine.Err) -split "`r?`n" | Where-Object { $_.Trim() }) | Select-Object -Last 20) -join "`n"
        # A solve failure is the channel's answer (libmamba 2.8.1 says "Could not solve for
        # environment specs": libmamba/src/api/utils.cpp): no network hint fits it.
        $hint = ''
        if ($said -notmatch 'Could not solve for environment specs') {
            $hint = "`n  if it could not reach the channel: $(Get-ProxyHint $url)`n  if it failed on a certificate: $TlsHint"
        }
        Fail 6 "micromamba could not make the private Python (exit $($engine.Code)):`n$said$hint"
    }
    $pythonExe = Join-Text $script:Work 'python\python.exe'
    if (-not [System.IO.File]::Exists($pythonExe)) { Fail 7 "micromamba finished but $pythonExe is missing" }
    Say "python: private, in $($script:Work)"

    # ---------------------------------------------------------------- hand-over: the rest is create's
    # -I: the user's PYTHON* variables and site directories stay out of mambaboot's own Python; the
    # private Python is not put on PATH, so create's children never see it.
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
        foreach ($key in @($childEnvironment.Keys | Where-Object { $_ -ieq 'PROCESSOR_ARCHITEW6432' -or $_ -ieq 'PROCESSOR_ARCHITECTURE' })) { $childEnvironment.Remove($key) }
        $childEnvironment['PROCESSOR_ARCHITECTURE'] = 'AMD64'
    }
    $code = (Invoke-Native $pythonExe $handover $childEnvironment).Code
    if ($code -eq 0) { Say "to use it: . `"$prefix\.mambaboot\activate.ps1`"" }
    return $code
}

$script:AllowHttp = $false
$script:Connect = 30
$script:Deadline = 1800
$script:MaxBytes = 268435456
$script:NoRevoke = $false
$script:Work = $null
$script:SandboxHome = $null
$script:Token = $null
$script:Emulated = $false
$script:Cwd = $null
$script:PkgsDirs = @()
$exitCode = 1
try {
    $exitCode = Invoke-Bootstrap $args
} catch {
    $failure = $_.Exception
    if ($failure.Data.Contains('exit_code')) {
        $exitCode = $failure.Data['exit_code']
        Say "bootstrap: error: $($failure.Message)"
    } else {
        Say "bootstrap: error: unexpected: $($failure.Message)"
    }
} finally {
    # The work directory is this run's alone (made by it, under a random name): deleted whatever the outcome.
    if ($script:Work) { Remove-Tree $script:Work }
}
exit $exitCode
