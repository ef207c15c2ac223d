# bootstrap.ps1 [NAME] [PY_VERSION] [options]
#
# Makes a conda environment (Python, conda, mamba) on a Windows machine that has no Python,
# then hands over to the new environment's own python running "mambaboot.pyz adopt", which
# does the rest exactly as "mambaboot create" would. This script does only what must happen
# before a Python exists: check, download and verify micromamba, run it once, sandboxed. It
# never deletes anything but its own temporary directories. Windows PowerShell 5.1 and
# PowerShell 7; the options are bootstrap.bat's (--channel C, --package SPEC, ...).
#
#   powershell -ExecutionPolicy Bypass -File bootstrap.ps1 myenv 3.12 --package "numpy>=2"
#
# Exit codes are create's: 2 usage, 3 the shell has an environment active, 4 target refused,
# 5 micromamba (or the zipapp) could not be obtained or verified, 6 micromamba failed,
# 7 the environment has no python; after the hand-over, adopt's own code.
#
# Native programs are started through ProcessStartInfo with each argument quoted by the
# rules Windows programs parse their command line with (Format-Argument), never through a
# string that a shell reads again.
#
# Execution policy: Windows clients default to Restricted, which runs no script, hence
# -ExecutionPolicy Bypass above; a policy set by Group Policy overrides that parameter
# (about_Execution_Policies), and then PowerShell refuses this file before a line of it runs:
# use bootstrap.bat. Proxies: micromamba reads only HTTPS_PROXY, HTTP_PROXY and ALL_PROXY
# (libcurl's variables: libmamba 2.8.1 sets CURLOPT_PROXY only from .condarc's proxy_servers,
# download/curl.cpp set_url, and the engine runs with --no-rc), never Windows' proxy settings;
# Windows PowerShell 5.1's web requests use Windows' settings and never those variables
# (.NET Framework's WebRequest.DefaultWebProxy). So this script's downloads take HTTPS_PROXY
# (else ALL_PROXY) when it is set, and NO_PROXY's exceptions to it, as bootstrap.bat's curl.exe
# does: one variable serves both scripts and micromamba; without it, a failure names the proxy
# Windows' settings give.

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
$Contaminating = @('CONDA_PREFIX', 'CONDA_SHLVL', 'CONDA_DEFAULT_ENV', 'PYTHONHOME', 'PYTHONPATH', 'PYTHON_ENVS', 'VIRTUAL_ENV')
$Scrubbed = @('CONDA_', 'MAMBA_', 'PYTHON', '_CE_', '__CONDA', 'VIRTUAL_ENV', '_MAMBABOOT_')
$Carried = @('MAMBA_SSL_VERIFY', 'MAMBA_CACERT_PATH', 'MAMBA_SSL_NO_REVOKE', 'MAMBA_CHANNEL_ALIAS')
$EnvSubdirs = @('', '\bin', '\Scripts', '\condabin', '\Library\bin', '\Library\usr\bin', '\Library\mingw-w64\bin')
$ProxyHint = "behind a proxy, set HTTPS_PROXY=http://HOST:PORT (micromamba does not use Windows' proxy settings; this script's downloads use HTTPS_PROXY when it is set)"
$ProxyLogon = 'if that proxy asks for your Windows logon (NTLM or Negotiate), micromamba cannot answer it: see docs/windows.md, section Proxies that ask for Windows logon'
# micromamba checks certificates with Windows' Schannel, revocation included, where this script's
# .NET download did not (mamba-org/mamba#2751, #3346): a TLS-inspecting proxy stops it only.
$TlsHint = "behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the certificate's revocation) or REQUESTS_CA_BUNDLE=PATH of the company's CA bundle"
$Reserved = '^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)(\..*)?$'
$Usage = @'
usage: bootstrap.ps1 [NAME] [PY_VERSION] [options]

Creates NAME_3_12 for PY_VERSION 3.12 (default NAME: py) in --envs-dir, else in $env:PY_ENVS
(which must then be a directory), else in DRIVE:\dev\Anaconda\envs if it exists, else in the
current directory; then runs "mambaboot.pyz adopt" with the new environment's python.
In PowerShell, quote the version ('3.10'): unquoted, PowerShell reads it as the number 3.1.

options:
  -c, --channel CHANNEL      channel (repeatable; default conda-forge)
  --package SPEC             extra package (repeatable), e.g. --package "numpy>=2"
  --envs-dir DIR             parent of the environment
  --cache-dir DIR            cache root (default: DRIVE:\CACHE if it exists, else
                             $env:LOCALAPPDATA\mambaboot\Cache)
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
    $process = [System.Diagnostics.Process]::Start($psi)
    $out = ''
    if ($Capture) {
        $errTask = $process.StandardError.ReadToEndAsync()
        $out = $process.StandardOutput.ReadToEnd()
        [void]$errTask.Result
    }
    $process.WaitForExit()
    return @{ Code = $process.ExitCode; Out = $out }
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

function Get-Sha256([string]$Path) {
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Get-TextSha256([string]$Text) {
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $bytes = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    return (($bytes | ForEach-Object { $_.ToString('x2') }) -join '')
}

function Test-Url([string]$Option, [string]$Url) {
    if ($Url -match '^(?i)(https|file)://') { return }
    if ($Url -notmatch '^(?i)http://') { Fail 2 "$Option '$Url' is not an https:// URL" }
    $hostName = ([System.Uri]$Url).Host
    if ($script:AllowHttp -or @('localhost', '127.0.0.1', '[::1]') -contains $hostName) { return }
    Fail 2 "$Option '$Url' uses plain http; use https, or pass --allow-http if you trust the network"
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
function Get-ProxyHint {
    foreach ($var in @('HTTPS_PROXY', 'ALL_PROXY')) {
        if (-not [System.Environment]::GetEnvironmentVariable($var)) { continue }
        $shown = ''
        try { $uri = [System.Uri](Get-ProxyVariable); $shown = " ($($uri.Scheme)://$($uri.Authority))" } catch { }
        return "$var names the proxy it went through$shown; $ProxyLogon"
    }
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

# Whether Proxy is the one Windows' settings give for Url. Called only when a proxy variable is
# set, where PowerShell 7's GetSystemWebProxy answers from HTTP_PROXY, HTTPS_PROXY and ALL_PROXY
# themselves and never from Windows' settings (.NET's SystemProxyInfo.Windows.cs,
# ConstructSystemProxy: HttpEnvironmentProxy.TryCreate first): every variable's proxy would look
# like Windows' own. Only Windows PowerShell 5.1 (.NET Framework, WinINET's settings alone) can tell.
function Test-SystemProxy([System.Uri]$Proxy, [string]$Url) {
    if ($PSVersionTable.PSEdition -ne 'Desktop') { return $false }
    $system = Get-SystemProxy $Url
    if (-not $system) { return $false }
    $other = [System.Uri]$system
    return $Proxy.Scheme -eq $other.Scheme -and $Proxy.Authority -eq $other.Authority
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
    # Without a proxy of its own, Windows PowerShell 5.1 goes through Windows' proxy settings only;
    # with one, the variable's proxy, except for a host NO_PROXY lists, reached directly as curl.exe
    # and micromamba reach it. A user:password in the variable is its credentials, as curl reads it.
    # This user's Windows credentials go only to the proxy Windows' own settings name for the URL,
    # which Windows sends them to already: any other proxy a variable names would have its NTLM or
    # Negotiate challenge answered with this user's logon, a response it can relay or crack.
    $proxy = Get-ProxyVariable
    if ($proxy -and (Test-NoProxy $Uri)) { $request.Proxy = $null }
    elseif ($proxy) {
        $proxyUri = [System.Uri]$proxy
        $request.Proxy = New-Object System.Net.WebProxy $proxyUri
        if ($proxyUri.UserInfo) {
            $user, $password = $proxyUri.UserInfo -split ':', 2
            $request.Proxy.Credentials = New-Object System.Net.NetworkCredential -ArgumentList @(
                [System.Uri]::UnescapeDataString($user), [System.Uri]::UnescapeDataString([string]$password))
        } elseif (Test-SystemProxy $proxyUri $Uri.AbsoluteUri) {
            $request.Proxy.UseDefaultCredentials = $true
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
function Get-DownloadFailure($Failure) {
    if ($Failure.Data.Contains('exit_code')) { return "$($Failure.Message); nothing was kept" }
    return "$($Failure.Message)`n  $(Get-ProxyHint)"
}

function Get-PublishedDigest([string]$Url, [string]$Hint) {
    $file = Join-Text $script:TmpDir 'published.sha256'
    try { Save-Url "$Url.sha256" $file } catch {
        Fail 5 "could not read the published digest $Url.sha256: $(Get-DownloadFailure $_.Exception)`n  without it the download cannot be verified; pass $Hint HEX if you know the digest"
    }
    $token = (([System.IO.File]::ReadAllText($file)).Trim() -split '\s+')[0].ToLowerInvariant()
    if ($token -notmatch '^[0-9a-f]{64}$') { Fail 5 "$Url.sha256 does not hold a sha256 digest" }
    return $token
}

# The digest on the line of the checksum file at Url that names exactly Name (sha256sum's
# "DIGEST  NAME", or "DIGEST *NAME" in its binary mode).
function Get-ListedDigest([string]$Url, [string]$Name) {
    $file = Join-Text $script:TmpDir 'SHA256SUMS'
    try { Save-Url $Url $file } catch {
        Fail 5 "could not read $($Url): $(Get-DownloadFailure $_.Exception)`n  without it $Name cannot be verified; put $Name beside this script, or pass --zipapp PATH-OR-URL"
    }
    foreach ($line in [System.IO.File]::ReadAllLines($file)) {
        $words = @($line.Trim() -split '\s+')
        if ($words.Count -eq 2 -and ($words[1] -ceq $Name -or $words[1] -ceq "*$Name") -and $words[0] -match '^[0-9a-fA-F]{64}$') {
            return $words[0].ToLowerInvariant()
        }
    }
    Fail 5 "$Url has no sha256 line for $($Name): it cannot be verified"
}

# Download Url into Directory\Name only if its sha256 is Expected: whole and verified, or not at all.
function Save-Verified([string]$Url, [string]$Directory, [string]$Name, [string]$Expected) {
    $tmp = Join-Text $Directory ".$Name.mambaboot-tmp-$($script:Token)"
    try {
        try { Save-Url $Url $tmp } catch { Fail 5 "download of $Url failed: $(Get-DownloadFailure $_.Exception)" }
        $got = Get-Sha256 $tmp
        if ($got -ne $Expected) {
            Fail 5 "$Url does not match its published digest:`n  expected sha256 $Expected`n  downloaded      $got`nnothing was kept"
        }
        $final = Join-Text $Directory $Name
        Invoke-Replace $final { if ([System.IO.File]::Exists($final)) { [System.IO.File]::Delete($final) }; [System.IO.File]::Move($tmp, $final) }
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

function New-Directory([string]$Path) { [void][System.IO.Directory]::CreateDirectory($Path) }

# Paths are joined as text: Join-Path looks the drive up and throws on one this session does not
# have ("Cannot find drive": a mapped drive off VPN given as --envs-dir; PowerShell issue 4386).
function Join-Text([string]$Parent, [string]$Child) { return $Parent.TrimEnd('\', '/') + '\' + $Child }

# CACHE\tmp\mambaboot-tmp-TOKEN-WHAT, a work directory of this run, made as mambaboot makes its own
# (common/files/workdir.py): its lock file beside it (NAME.lock, holding the token) taken first and
# held until it is gone, the marker in it. Without the mark mambaboot also writes (the directory's
# volume serial number and file index, which .NET Framework does not give), `mambaboot cache clean`
# leaves one a killed run left, as it leaves any it cannot prove its own.
function New-PrivateDirectory([string]$Parent, [string]$What) {
    $path = Join-Text $Parent "mambaboot-tmp-$($script:Token)-$What"
    $lock = Lock-File "$path.lock"
    if ($null -eq $lock) { Fail 4 "cannot lock the new file $path.lock" }
    $script:WorkLocks[$path] = $lock
    $bytes = [System.Text.Encoding]::ASCII.GetBytes($script:Token)
    $lock.Write($bytes, 0, $bytes.Length)
    $lock.Flush()
    New-Directory $path
    [System.IO.File]::WriteAllText((Join-Text $path '.mambaboot-home'), "a work directory mambaboot made for one run; deleted after it`n")
    return $path
}

# A work directory, then its lock.
function Remove-WorkDirectory([string]$Path) {
    Remove-Tree $Path
    if ($script:WorkLocks.ContainsKey($Path)) {
        Unlock-File $script:WorkLocks[$Path] "$Path.lock"
        $script:WorkLocks.Remove($Path)
    }
}

# The lock mambaboot's own runs take on Windows (common/files/filelock.py): msvcrt.locking of byte
# 0, which the C runtime does with LockFile (its locking.c); FileStream.Lock is LockFile too, a
# byte range no other process can lock or read while it is held (Microsoft Learn,
# "FileStream.Lock(Int64, Int64)", "LockFile function"), so each excludes the other. Opened sharing
# read and write, as mambaboot opens its lock file (os.open, the C runtime's _wopen: FILE_SHARE_READ
# | FILE_SHARE_WRITE), and never delete: a run ending deletes its lock file once closed, which a
# handle open here makes fail, so the file this run locks stays the one at the path. Not
# inherited by micromamba (.NET opens it so): a killed PowerShell releases it, as a killed
# mambaboot on Windows does. $null: another process holds it.
function Lock-File([string]$Path) {
    if (Test-Path -LiteralPath $Path) {
        if ((Get-Item -LiteralPath $Path -Force).Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
            Fail 4 "$Path is a link; a lock file is never opened through one: remove the link"
        }
    }
    # A sharing violation (ERROR_SHARING_VIOLATION, 32, in the HRESULT's low word): bootstrap.bat's
    # cmd holds it open for writing, sharing only reading, the one way a batch file holds a file.
    try {
        $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::ReadWrite)
    } catch {
        $failure = $_.Exception
        if ($failure.InnerException) { $failure = $failure.InnerException }
        if (($failure.HResult -band 0xFFFF) -eq 32) { return $null }
        Fail 4 "cannot make the lock file $Path ($($_.Exception.Message)); nothing was changed"
    }
    try { $stream.Lock(0, 1) } catch [System.IO.IOException] { $stream.Dispose(); return $null }
    return $stream
}

# The file emptied while still held (a handle another run holds on it can make the deletion fail:
# what is left then says nothing), released, then deleted, as mambaboot's own on Windows.
function Unlock-File($Stream, [string]$Path) {
    if ($null -eq $Stream) { return }
    try { $Stream.SetLength(0); $Stream.Unlock(0, 1) } finally { $Stream.Dispose() }
    try { [System.IO.File]::Delete($Path) } catch { }
}

# What the locked file holds, read through the stream that holds it (a killed run's intent, or '').
function Read-Locked($Stream) {
    $bytes = New-Object byte[] ([Math]::Min($Stream.Length, 65536))
    $Stream.Position = 0
    $count = $Stream.Read($bytes, 0, $bytes.Length)
    return [System.Text.Encoding]::UTF8.GetString($bytes, 0, $count)
}

# The run's intent, as placelock writes it (its INTENT shape), in one write over the whole file.
function Write-Intent([string]$Stage) {
    $place = $script:Prefix.Replace('\', '\\').Replace('"', '\"')
    $text = '{"tool": "mambaboot", "pid": ' + $PID + ', "operation": "bootstrap", "token": "' + $script:Token + '", "stage": "' + $Stage + '", "place1": "' + $place + '"}'
    $bytes = (New-Object System.Text.UTF8Encoding $false).GetBytes($text)
    $stream = $script:PlaceLock
    $stream.Position = 0
    $stream.Write($bytes, 0, $bytes.Length)
    $stream.SetLength($bytes.Length)
    $stream.Flush($true)  # what a power loss leaves must say where the run was
}

# The place's lock (environment/placelock.py, common/files/fsops.py place_lock): .NAME.mambaboot-lock
# in the prefix's parent (a link among the parents reaches the same file), or, for a name too long
# for that, .mambaboot-lock-KEY (32 hex digits of the sha256 of the path in lower case).
function Get-PlaceLock([string]$Prefix) {
    $parent = [System.IO.Path]::GetDirectoryName($Prefix)
    $name = [System.IO.Path]::GetFileName($Prefix)
    if ([System.Text.Encoding]::UTF8.GetByteCount($name) -gt 255 - 16) {
        return Join-Text $parent ('.mambaboot-lock-' + (Get-TextSha256 $Prefix.ToLowerInvariant()).Substring(0, 32))
    }
    return Join-Text $parent ".$name.mambaboot-lock"
}

# A PATH entry is a string, never a PowerShell path: Join-Path and Test-Path throw on a drive
# this session does not have ("Cannot find drive": a mapped drive off VPN, a removed stick;
# PowerShell issue 4386) and, in 5.1, on a quoted entry, which PATH allows ("Illegal characters
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
    if (-not $sandbox.ContainsKey('MAMBA_SSL_VERIFY') -and -not $sandbox.ContainsKey('MAMBA_CACERT_PATH')) {
        foreach ($var in @('REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE')) {
            $ca = [System.Environment]::GetEnvironmentVariable($var)
            # libmamba reads MAMBA_SSL_VERIFY as YAML (Source<T>::deserialize,
            # libmamba/include/mamba/api/configuration_impl.hpp), which cuts a bare path at ' #'
            # and stops on a leading @: in single quotes YAML reads every character back but ''.
            if ($ca) { $sandbox['MAMBA_SSL_VERIFY'] = "'" + $ca.Replace("'", "''") + "'"; break }
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

# Checked before anything is written, and again once the place's lock is held: another run may
# have made it meanwhile (micromamba, given a prefix that holds an environment, replaces it).
function Test-Target([string]$prefix) {
    if (Test-Path -LiteralPath $prefix -PathType Container) {
        $item = Get-Item -LiteralPath $prefix -Force
        if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
            Fail 4 "$prefix is a link; give the real path of the environment instead"
        }
        if (Test-Path -LiteralPath (Join-Text $prefix '.mambaboot\record.json')) {
            Fail 4 "$prefix holds an environment mambaboot manages; use mambaboot create --force to replace it"
        }
        if ((Test-Path -LiteralPath (Join-Text $prefix 'python.exe')) -or @(Get-ChildItem -LiteralPath (Join-Text $prefix 'bin') -Filter 'python*' -Force -ErrorAction SilentlyContinue).Count) {
            Fail 4 "$prefix already holds a Python; it was left untouched"
        }
        if (@(Get-ChildItem -LiteralPath $prefix -Force).Count) { Fail 4 "$prefix is a non-empty directory; it was left untouched" }
        return "$prefix is an empty directory"
    } elseif (Test-Path -LiteralPath $prefix) {
        Fail 4 "$prefix is a file, not a directory; nothing was changed"
    } else {
        return "$prefix does not exist yet"
    }

}

function Invoke-Bootstrap([object[]]$Arguments) {
    # ---------------------------------------------------------------- arguments
    $name = $null
    $python = $null
    $positional = 0
    $channels = @()
    $packages = @()
    $given = @()
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
        if ($arg -eq '--allow-http') { $script:AllowHttp = $true; $given += $arg; continue }
        if ($arg.StartsWith('-')) {
            if ($valued -notcontains $arg) { Fail 2 "unknown option $arg (see --help)" }
            if ($i + 1 -ge $Arguments.Count) { Fail 2 "$arg needs a value" }
            $value = [string]$Arguments[++$i]
            if (-not $value.Trim()) { Fail 2 "$arg needs a non-empty value" }
            if ($value.StartsWith('-')) { Fail 2 "$arg value '$value' starts with '-'" }
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
            if ($arg.StartsWith('--micromamba')) { $given += @($arg, $value) }
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

    if ($cacheDir) { $cache = Get-FullPath $cacheDir }
    elseif (Test-Path -LiteralPath "$drive\CACHE" -PathType Container) { $cache = "$drive\CACHE" }
    # A relative LOCALAPPDATA is ignored and a relative USERPROFILE refused, as mambaboot does:
    # either would put the cache under the current directory.
    elseif (Test-Absolute $env:LOCALAPPDATA) { $cache = Join-Text $env:LOCALAPPDATA 'mambaboot\Cache' }
    elseif (-not $env:USERPROFILE) { Fail 2 'neither LOCALAPPDATA nor USERPROFILE is set; pass --cache-dir DIR' }
    elseif (Test-Absolute $env:USERPROFILE) { $cache = Join-Text $env:USERPROFILE 'AppData\Local\mambaboot\Cache' }
    else { Fail 2 'USERPROFILE is not an absolute path: the cache would land in the current directory; set USERPROFILE to your home directory or pass --cache-dir DIR' }
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
    # Details"). micromamba ships win-64 and win-arm64 builds; Windows 10 on ARM runs no x64 program.
    $arch = [string]$env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = [string]$env:PROCESSOR_ARCHITECTURE }
    $subdir = @{ 'AMD64' = 'win-64'; 'ARM64' = 'win-arm64' }[$arch]
    $url = $null
    if ($mmPath) { $kind = 'local' }
    elseif (-not $subdir) {
        Fail 5 "'$arch' is a processor micromamba has no Windows build for (win-64 is for AMD64, win-arm64 for ARM64); pass --micromamba PATH to a micromamba.exe that runs here"
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
    else { Fail 2 "mambaboot.pyz not found at $zipapp; put it beside this script, or pass --zipapp PATH-OR-URL" }

    # ---------------------------------------------------------------- the shell (3), the target (4)
    $found = @($Contaminating | Where-Object { [System.Environment]::GetEnvironmentVariable($_) })
    if ($found.Count -gt 0) {
        $lines = ($found | ForEach-Object { "  $_=" + [System.Environment]::GetEnvironmentVariable($_) }) -join "`n"
        Fail 3 "this shell already has a Python environment in it:`n$lines`nopen a clean shell (or deactivate it)"
    }
    Say 'shell: clean'

    $script:Prefix = $prefix
    Say "target: $(Test-Target $prefix)"

    # ---------------------------------------------------------------- from here on, writes
    # The run's token, of the form mambaboot's own runs have (common/files/proof.py new_token: 32
    # lowercase hex digits; a GUID's "N" format is 32 of them): every temporary of this run carries
    # it (CACHE\tmp\mambaboot-tmp-TOKEN-KIND: New-PrivateDirectory; .NAME.mambaboot-tmp-TOKEN beside
    # a download).
    $script:Token = [Guid]::NewGuid().ToString('N')
    New-Directory (Join-Text $cache 'tmp')
    $script:TmpDir = New-PrivateDirectory (Join-Text $cache 'tmp') 'bootstrap'

    # The place's lock, held until just before the hand-over: adopt takes it then; between the two,
    # another run may take it as it could between any two mambaboot commands, and adopt checks the
    # place again under its own lock. Its text is the run's intent, which the next mambaboot run of
    # the place settles when this run is killed (environment/settle.py, bootstrap rows).
    New-Directory $envs
    $lockPath = Get-PlaceLock $prefix
    $held = Lock-File $lockPath
    if ($null -eq $held) {
        Fail 4 "another mambaboot run is changing $prefix right now (it holds $lockPath); nothing was changed"
    }
    # A killed run's intent is in it: a bootstrap script's is settled by the target's check (its
    # micromamba's prefix missing or empty; else refused, the intent kept for mambaboot to name); any
    # other is mambaboot's to settle, never overwritten here.
    $left = Read-Locked $held
    if ($left.Trim() -and $left -notmatch '"operation": *"bootstrap"') {
        $held.Dispose()
        Fail 4 "a mambaboot run that did not finish left its intent in $lockPath; any mambaboot command on $prefix settles it (or names what to do); nothing was changed"
    }
    $stale = [bool]$left.Trim()
    if (-not $stale) { $script:PlaceLock = $held; $script:PlaceLockPath = $lockPath }  # refused: the file goes
    try { [void](Test-Target $prefix) } catch { if ($stale) { $held.Dispose() }; throw }  # refused: the intent stays
    $script:PlaceLock = $held
    $script:PlaceLockPath = $lockPath
    Write-Intent 'begun'

    $script:SandboxHome = New-PrivateDirectory (Join-Text $cache 'tmp') 'home'
    # Another run's private home: one killed before its end leaves it, with the copy of
    # authentication.json it may hold; its run cannot be proven gone (it may be running now), so it
    # is named, never deleted, as bootstrap.bat names it.
    # bootstrap.bat's is home in its work directory (mambaboot-tmp-TOKEN-bootstrap\home).
    foreach ($other in @(Get-ChildItem -LiteralPath (Join-Text $cache 'tmp') -Directory -Force -ErrorAction SilentlyContinue | Where-Object { $_.Name -like 'mambaboot-tmp-*-home' -or $_.Name -like 'home-*' -or $_.Name -like 'mambaboot-tmp-*-bootstrap' })) {
        $found = $other.FullName
        if ($other.Name -like '*-bootstrap') { $found = Join-Text $found 'home' }
        if ($found -ne $script:SandboxHome -and [System.IO.Directory]::Exists($found)) {
            Say "bootstrap: warning: $found is the private home of another run, left by one that did not finish or in use by one running now; it may hold a copy of your authentication.json: delete it when no bootstrap runs"
        }
    }
    New-Directory (Join-Text $script:SandboxHome 'tmp')

    if ($zipappUrl) {
        $expected = $zipappSha
        if (-not $expected -and $sums) { $expected = Get-ListedDigest $sums 'mambaboot.pyz' }
        if (-not $expected) { $expected = Get-PublishedDigest $zipappUrl '--zipapp-sha256' }
        $dir = Join-Text $cache ('zipapp\' + $expected.Substring(0, 16))
        New-Directory $dir
        $zipapp = Join-Text $dir 'mambaboot.pyz'
        if (-not ((Test-Path -LiteralPath $zipapp) -and (Get-Sha256 $zipapp) -eq $expected)) {
            Save-Verified $zipappUrl $dir 'mambaboot.pyz' $expected
        }
    }

    # ---------------------------------------------------------------- micromamba: the cache layout is create's
    $store = Join-Text $cache 'micromamba'
    New-Directory $store
    $how = 'cached'
    if ($kind -eq 'local') {
        $binary = Get-FullPath $mmPath
        if (-not (Test-Path -LiteralPath $binary -PathType Leaf)) { Fail 5 "micromamba not found at $binary" }
        $sha = Get-Sha256 $binary
        if ($mmSha -and $sha -ne $mmSha) { Fail 5 "$binary has sha256 $sha, not the expected $mmSha" }
        $notes = Join-Text $store ('versions\' + $sha.Substring(0, 32))
        $how = 'given'
    } else {
        # A pinned release never changes, so its version names its directory and its digest
        # is kept there; latest and mirrors can change under one URL, so the digest names theirs.
        $sha = $mmSha
        $notes = $null
        if ($kind -eq 'release' -and $version -ne 'latest') {
            $notes = Join-Text $store "$version-$subdir"
            $kept = Join-Text $notes 'sha256'
            if (-not $sha -and (Test-Path -LiteralPath $kept)) { $sha = ([System.IO.File]::ReadAllText($kept)).Trim() }
        }
        if (-not $sha) { $sha = Get-PublishedDigest $url '--micromamba-sha256' }
        if (-not $notes) {
            $notes = Join-Text $store ("$kind-" + (Get-TextSha256 $url).Substring(0, 12) + '-' + $sha.Substring(0, 16))
        }
        $binary = Join-Text $notes 'micromamba.exe'
        if (-not ((Test-Path -LiteralPath $binary) -and (Get-Sha256 $binary) -eq $sha)) {
            New-Directory $notes
            foreach ($stale in @($binary, (Join-Text $notes 'sha256'), (Join-Text $notes 'version'))) {
                Invoke-Replace $stale { if (Test-Path -LiteralPath $stale) { Remove-Item -LiteralPath $stale -Force } }
            }
            Save-Verified $url $notes 'micromamba.exe' $sha
            [System.IO.File]::WriteAllText((Join-Text $notes 'sha256'), $sha)
            $how = 'downloaded'
        }
    }
    New-Directory $notes
    $versionNote = Join-Text $notes 'version'
    $used = $null
    if (Test-Path -LiteralPath $versionNote) { $used = ([System.IO.File]::ReadAllText($versionNote)).Trim() }
    if (-not $used) {
        $run = Invoke-Native $binary @('--version') (Get-SandboxEnvironment) -Capture
        $lines = @($run.Out -split "`r?`n" | Where-Object { $_.Trim() })
        if ($run.Code -ne 0 -or $lines.Count -eq 0) { Fail 5 "$binary --version failed (exit $($run.Code))" }
        $used = $lines[-1].Trim()
        [System.IO.File]::WriteAllText($versionNote, $used)
    }
    Say "micromamba: $used ($how, sha256 $($sha.Substring(0, 12)))"

    # ---------------------------------------------------------------- the engine, once, sandboxed
    $specPython = 'python'
    if ($python) { $specPython = "python=$python" }
    $mmChannels = $channels
    if ($mmChannels.Count -eq 0) { $mmChannels = @('conda-forge') }
    $command = @('create', '--yes', '--no-rc', '--override-channels')
    foreach ($channel in $mmChannels) { $command += @('-c', $channel) }
    # The root prefix is private (never the target: libmamba refuses an existing target that is the
    # root prefix, create.cpp); shortcuts off (menuinst ignores the private APPDATA). See engine/micromamba.py.
    $command += @('--prefix', $prefix, '--root-prefix', (Join-Text $script:SandboxHome 'root'), '--no-shortcuts', '--lock-timeout', '600', $specPython, 'conda', 'mamba')
    $command += $packages
    $existed = Test-Path -LiteralPath $prefix
    $probe = $url
    if (-not $probe) { $probe = $Releases }
    Write-Intent 'engine'
    $engine = Invoke-Native $binary $command (Get-SandboxEnvironment)
    Remove-WorkDirectory $script:SandboxHome
    $script:SandboxHome = $null
    if ($engine.Code -ne 0) {
        $left = 'nothing was deleted'
        if (-not $existed -and (Test-Path -LiteralPath $prefix)) {
            $left = "micromamba left $prefix behind; nothing was deleted: remove it before trying again"
        }
        $hint = "`n  if it failed on a certificate: $TlsHint"
        if (-not (Get-ProxyVariable)) {
            $reach = "`n  if it could not reach the channel: $ProxyHint"
            $system = Get-SystemProxy $probe
            if ($system) {
                $reach = "`n  if it could not reach the channel: Windows' proxy settings name $system, which micromamba does not use; set HTTPS_PROXY=$system"
            }
            $hint = $reach + $hint
        } else { $hint = "`n  if it could not reach the channel: $(Get-ProxyHint)" + $hint }
        Fail 6 "micromamba create failed (exit $($engine.Code)); $left$hint"
    }
    Say "engine: created $prefix"

    # ---------------------------------------------------------------- hand-over: the rest is mambaboot's
    $pythonExe = Join-Text $prefix 'python.exe'
    if (-not (Test-Path -LiteralPath $pythonExe -PathType Leaf)) { Fail 7 "micromamba finished but $pythonExe is missing" }
    $handover = @('-I', $zipapp, 'adopt', $prefix, '--name', $name, '--envs-dir', $envs, '--cache-dir', $cache)
    if ($python) { $handover += @('--python', $python) }
    foreach ($channel in $mmChannels) { $handover += @('-c', $channel) }  # what micromamba used
    foreach ($package in $packages) { $handover += @('--package', $package) }
    $handover += $given
    $handover += @('--micromamba-version-used', $used, '--micromamba-sha256-used', $sha)
    Remove-WorkDirectory $script:TmpDir
    $script:TmpDir = $null
    Unlock-File $script:PlaceLock $script:PlaceLockPath
    $script:PlaceLock = $null
    return (Invoke-Native $pythonExe $handover $null).Code
}

$script:AllowHttp = $false
$script:Connect = 30
$script:Deadline = 1800
$script:MaxBytes = 268435456
$script:NoRevoke = $false
$script:TmpDir = $null
$script:SandboxHome = $null
$script:Token = $null
$script:Prefix = $null
$script:WorkLocks = @{}
$script:PlaceLock = $null
$script:PlaceLockPath = $null
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
    foreach ($dir in @($script:SandboxHome, $script:TmpDir)) {
        if ($dir) { Remove-WorkDirectory $dir }
    }
    Unlock-File $script:PlaceLock $script:PlaceLockPath
}
exit $exitCode
