"""bootstrap.ps1 without PowerShell (there is none here; the Windows CI job runs it for real):
its text, its quoting discipline, and its agreement with mambaboot and the other two scripts."""

import re

import pytest

from mambaboot.common.errors import UsageError
from mambaboot.common.host import Host
from mambaboot.common.locations import resolve_envs_dir
from mambaboot.engine import network, sandbox
from mambaboot.pipeline.plan import PINNED_MICROMAMBA
from mambaboot.common import isolation
from mambaboot.shell.activation import powershell
from tests.conftest import REPO
from tests.support import pwsh

SCRIPTS = REPO / "bootstrap"
PS1 = SCRIPTS / "bootstrap.ps1"


def _text() -> str:
    return PS1.read_bytes().decode("ascii")  # Windows PowerShell 5.1 reads a BOM-less file as ANSI


def _tree() -> pwsh.Tree:
    return pwsh.parse(_text().encode("ascii"))


def _code() -> str:
    """The script with comments gone and string literals (here-strings too) blanked, as PowerShell's parser sees it."""
    return pwsh.code_only(_tree())


def _array(name: str) -> list:
    body = re.search(rf"\${name} = @\((.*?)\)", _text(), re.S).group(1)
    return re.findall(r"'([^']*)'", body)


def test_it_is_ascii_and_parses_as_powershell():
    _tree()  # no ERROR or MISSING node anywhere
    code = _code()
    assert "Set-StrictMode -Version 3.0" in code and "$ErrorActionPreference = ''" in code


def test_it_agrees_with_mambaboot(tmp_path):
    text = _text()
    assert f"$Pinned = '{PINNED_MICROMAMBA}'" in text
    assert tuple(_array("Contaminating")) == isolation.CONTAMINATING
    assert tuple(_array("Scrubbed")) == isolation.SCRUB_PREFIXES
    assert _array("EnvSubdirs") == ["\\".join(("",) + sub) if sub else "" for sub in isolation._ENV_SUBDIRS]
    assert tuple(_array("Carried")) == network.SCRIPT_CARRIED
    private = re.search(r"\$private = @\{(.*?)\}\n", text, re.S).group(1)
    redirected = set(re.findall(r"\$sandbox\['(\w+)'\] =", text)) - {"PATH"} | set(re.findall(r"'(\w+)' = ", private))
    assert redirected == set(sandbox.child_environ({}, str(tmp_path), [], True)) | {"MAMBA_SSL_NO_REVOKE", "NETRC"}


def test_programs_start_only_through_one_quoting_function():
    code = _code()
    assert not {c.lower() for c in pwsh.commands(_tree())} & {"invoke-expression", "iex", "start-process", "cmd", "cmd.exe"}
    assert not re.search(r"(?i)invoke-expression|\biex\b|start-process|cmd(\.exe)? /c|-command", code)
    assert not re.search(r"^\s*&\s", code, re.M), "no call operator: PowerShell 5.1 mangles native arguments"
    starts = re.findall(r"\[System\.Diagnostics\.Process\]::Start\(\$psi\)", code)
    assert len(starts) == 1 and "$psi.Arguments = (@($Argv | ForEach-Object { Format-Argument $_ }) -join '')" in code


def test_the_binary_is_verified_before_it_runs():
    code = _code()
    first_run = code.index("Invoke-Native $binary")
    assert code.index("if (Save-Verified $url $notes") < first_run
    assert code.index("if ($sha -and $got -ne $sha) {") < first_run, "a given binary is checked against a given digest"
    verified = _function("Save-Verified")
    assert verified.index("if ((Get-Sha256 $final) -eq $Expected) { return $false }") < verified.index("Save-Url $Url $tmp")
    assert verified.index("if (($got = Get-Sha256 $tmp) -ne $Expected) {") < verified.index("Move-Into $tmp $final")
    assert "} finally { Move-Into '' $tmp }" in verified


def test_exit_codes_are_creates():
    codes = {int(c) for c in re.findall(r"\bFail (\d)", _text())}
    assert codes == {2, 3, 4, 5, 6, 7}
    assert re.search(r"Fail 3 \"this shell already has a Python environment in it", _text())


def _options_sh() -> set:
    text = (SCRIPTS / "bootstrap.sh").read_text()
    block = re.search(r"-c \| --channel \| --package.*?\)\n", text, re.S).group(0)
    return set(re.findall(r"--[\w-]+|-c\b", block)) | {"--allow-http"}


def _options_bat() -> set:
    text = (SCRIPTS / "bootstrap.bat").read_text()
    return set(re.search(r"for %%O in \(([^)]*)\)", text).group(1).split()) | {"--allow-http"}


def _usage(script: str) -> str:
    text = (SCRIPTS / script).read_text()
    if script.endswith(".sh"):
        return text[text.index("usage: bootstrap.sh"):text.index("\nEOF\n")]
    if script.endswith(".bat"):
        block = text[text.index("\n:mb_usage\n"):text.index("\n:mb_args_done")]
        return "\n".join(line[5:] for line in block.splitlines() if line.startswith("echo "))
    return text[text.index("usage: bootstrap.ps1"):text.index("\n'@")]


def test_the_three_scripts_take_and_document_the_same_options():
    options = _options_bat()
    assert set(_array("valued")) | {"--allow-http"} == _options_sh() == options
    for script in ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1"):
        usage = _usage(script)
        assert usage.startswith(f"usage: {script} [NAME] [PY_VERSION] [options]")
        assert {o for o in options if re.search(rf"(^|[\s,]){re.escape(o)}\b", usage)} == options, script


def test_powershells_number_parsing_is_refused_not_guessed():
    text = _text()
    assert "if ($arg -isnot [string])" in text and "quote it (e.g. '3.10')" in text


def test_py_envs_naming_no_directory_is_refused_in_mambaboots_words_before_any_download():
    """Set, PY_ENVS is used or refused, never passed over for the next default."""
    text, code = _text(), _code()
    branch = re.search(r"\n    elseif \(\$env:PY_ENVS\) \{\n(.*?)\n    \}[\n ]", text, re.S)
    assert branch, "a set PY_ENVS takes its own branch"
    check = re.fullmatch(r"\s*# [^\n]*\n\s*\$envs = Get-FullPath \$env:PY_ENVS 'PY_ENVS'\n"
                         r'\s*if \(-not \[System\.IO\.Directory\]::Exists\(\$envs\)\) \{ Fail 2 "PY_ENVS names \$envs(, which [^"]*)" \}',
                         branch.group(1))
    assert check, branch.group(1)
    host = Host(environ={"PY_ENVS": "C:\\nope"}, windows=True, subdir="win-64", cwd="C:\\work", isdir=lambda p: False)
    with pytest.raises(UsageError) as refused:
        resolve_envs_dir(host, None)
    assert str(refused.value) == "PY_ENVS names C:\\nope" + check.group(1)
    assert code.index("elseif ($env:PY_ENVS)") < code.index("Save-Verified $url $notes")


def _source(name: str) -> str:
    """A function's text, its strings kept."""
    text = _text()
    start = text.index(f"function {name}")
    return text[start:text.index("\nfunction ", start + 1)] if "\nfunction " in text[start + 1:] else text[start:]


def _function(name: str) -> str:
    code = _code()
    start = code.index(f"function {name}")
    return code[start:code.index("\nfunction ", start + 1)] if "\nfunction " in code[start + 1:] else code[start:]


def test_a_constrained_language_session_is_refused_first_with_exit_2_naming_the_policy_not_bootstrap_bat():
    """Under AppLocker or App Control, ConstrainedLanguage refuses .NET calls: the check comes
    before any, and uses none itself (no type literal, no static call)."""
    code = _code()
    first = code.lstrip()
    assert first.startswith("if ($ExecutionContext.SessionState.LanguageMode -ne '') {"), first[:80]
    block = first[:first.index("\n}\n")]
    assert "exit 2" in block and "[" not in block and "::" not in block, block
    text = _text()
    # AppLocker's script rules cover .bat too, and its default rules block programs under the
    # user's folders: bootstrap.bat is no way around the policy, its administrator is
    assert "bootstrap.bat in cmd.exe instead" not in text
    assert ("the same policy decides whether bootstrap.bat, micromamba.exe and python.exe may run from your folders "
            "(its default rules allow programs only under the Windows and Program Files folders); ask the administrator "
            "of this machine for a place they may run from, and give it as --cache-dir and --envs-dir") in text
    assert text.index("'FullLanguage'") < text.index("Set-StrictMode")


def test_path_entries_are_read_as_strings_never_as_powershell_paths():
    """Join-Path / Test-Path throw on a missing drive or (5.1) a quoted entry; .NET's Exists never throws."""
    body = _function("Test-InEnvironment")
    assert not re.search(r"(?i)join-path|test-path|resolve-path|get-item", body), body
    assert "[System.IO.Directory]::Exists(" in body and "[System.IO.File]::Exists(" in body
    assert ".Replace('', '')" in body, "quotes dropped, as bootstrap.bat drops them"
    assert "Test-InEnvironment $_" in _code()


def test_cleanup_is_retried_and_never_fatal():
    code = _code()
    assert not re.search(r"(?i)remove-item[^\n]*-recurse", code)
    body = _function("Remove-Tree")
    assert "try {" in body and "catch {" in body and "Say " in body and "Fail " not in body and "throw" not in body


def test_children_start_in_the_shells_location_not_the_process_directory():
    body = _function("Invoke-Native")
    assert "WorkingDirectory = $script:Cwd" in body
    assert _code().index("$script:Cwd = (Get-Location).ProviderPath") < _code().index("Invoke-Native $binary")


def test_a_prefix_with_wildcard_brackets_is_refused():
    """Windows PowerShell 5.1 reads a path given to . or & as a wildcard pattern (activate.ps1)."""
    text = _text()
    check = re.search(r"if \(\$prefix -match '([^']*)'", text).group(1)
    assert re.search(check, "C:\\envs[1]\\py") and re.search(check, "C:\\envs]\\py") and not re.search(check, "C:\\envs (1)\\py")


def test_failures_that_a_proxy_explains_name_https_proxy():
    """The same variable, in the same words, as bootstrap.bat's messages name it."""
    text = _text()
    hint = re.search(r'\$ProxyHint = "([^"]*)"', text).group(1)
    assert hint.startswith("behind a proxy, set HTTPS_PROXY=http://HOST:PORT (micromamba does not use Windows' proxy settings")
    assert text.count("$ProxyHint") == 2  # defined, and Get-ProxyHint's answer when nothing names a proxy
    bat = (SCRIPTS / "bootstrap.bat").read_bytes().decode("ascii")
    assert bat.count("behind a proxy, set HTTPS_PROXY=http://HOST:PORT (curl.exe and micromamba do not use Windows' proxy settings)") == 1
    assert bat.count("%MB_PROXY_HINT%") == 2, "said once, given to both failures that a proxy explains"
    for words in ("if it could not reach the channel: ", "set HTTPS_PROXY=http://HOST:PORT ("):
        assert words in text and words in bat, words


def test_downloads_take_the_proxy_variable_curl_and_micromamba_take():
    """Windows PowerShell 5.1's Invoke-WebRequest never reads HTTPS_PROXY: without -Proxy, a
    proxy the user set for curl.exe and micromamba would not serve this script's downloads."""
    text = _text()
    variable = _source("Get-ProxyVariable")
    assert "@('HTTPS_PROXY', 'ALL_PROXY')" in variable and "'http://' + $value" in variable
    body = _function("Receive-Url")
    assert "$proxy = (Get-ProxyVariable)[1]" in body
    assert "$request.Proxy = New-Object System.Net.WebProxy $proxyUri" in body


def test_a_failure_names_the_proxy_windows_settings_give():
    """Found through Windows' settings (WinINET, PAC) when no variable is set: micromamba never reads them."""
    body = _function("Get-SystemProxy")
    assert "[System.Net.WebRequest]::GetSystemWebProxy()" in body and "$system.IsBypassed($uri)" in body
    assert "try {" in body and "} catch { }\n    return $null\n}" in body, "a setting that cannot be read is no failure"
    hint = _function("Get-ProxyHint")
    assert hint.index("$var, $proxy = Get-ProxyVariable") < hint.index("$system = Get-SystemProxy $Url")
    assert ("Windows' proxy settings name $system, which micromamba does not use; set HTTPS_PROXY=$system"
            in _text())


def test_a_solve_failure_gets_no_network_hint_and_micromambas_own_words_are_shown():
    """libmamba 2.8.1 says "Could not solve for environment specs" (libmamba/src/api/utils.cpp):
    the channel answered; a proxy or a certificate hint would point the wrong way."""
    code, text = _code(), _text()
    engine = text[text.index("if ($engine.Code -ne 0)"):text.index("Fail 6 ")]
    assert "if ($said -notmatch 'Could not solve for environment specs') {" in engine
    assert engine.index("-notmatch 'Could not solve") < engine.index("$(Get-ProxyHint $url)") < engine.index("$TlsHint")
    assert '$said = (@($engine.Out -split' in engine
    assert 'Fail 6 "micromamba could not make the private Python (exit $($engine.Code)):`n$said$hint"' in text
    assert "Invoke-Native $binary $command (Get-SandboxEnvironment) -Capture" in code, "its output hidden unless it fails"


def test_an_http_error_gets_the_http_hint_and_a_407_names_the_proxy():
    """A status the server sent (a wrong --micromamba-version, a missing asset) is no proxy's doing;
    a 407 names the proxy that asked, and is never retried."""
    body = _function("Save-Url")
    assert "$e -is [System.Net.WebException] -and $e.Response -is [System.Net.HttpWebResponse]" in body
    assert body.index("if ($status -eq 407) {") < body.index("if ($status) { Fail 5 ") < body.index("if ($attempt -ge 4")
    text = _text()
    assert ('Fail 5 "the proxy $(Get-ShownUrl $proxy) answered 407 (Proxy Authentication Required) to its CONNECT'
            in text)
    assert "an HTTP error, not the network: check --micromamba-version" in text
    # the digest given by hand only where the server said it has no digest file: whatever else
    # stopped the digest's download stops the binary's too
    source = _source("Save-Url")
    assert 'if ($status) { Fail 5 "$What $(Get-ShownUrl $Url) failed: it answered HTTP $status' in source
    assert source.count("$ByHand") == 2 and "$Hint" not in source
    assert 'Save-Url $Url $file "(without it $Name cannot be verified) reading" "; $Hint"' in _source("Get-Digest")


def test_a_proxy_refusing_connect_gets_the_proxys_hint_in_creates_words():
    """A proxy that refuses the tunnel: 407 is a proxy's answer alone (RFC 9110 15.5.8); .NET's
    WebRequest gives the proxy's refusal of CONNECT as the response it got, as it gives the
    server's, so a 403 through a proxy is said as either's, with the proxy's hint. The hints are
    create's (engine/download.py PROXY_HINTS) and bootstrap.bat's, word for word."""
    from mambaboot.engine import download

    body = _source("Save-Url")
    for code, start in ((407, "if ($status -eq 407) {"), (403, "if ($status -eq 403 -and $proxy) {")):
        fails = body[body.index(start):].split("Fail 5 ", 1)[1].split("\n", 1)[0]
        assert download.PROXY_HINTS[code] in fails, code
    used = "$proxy = (Get-ProxyVariable)[1]; if ($proxy -and (Test-NoProxy $uri)) { $proxy = '' } elseif (-not $proxy) { $proxy = [string](Get-SystemProxy $Url) }"
    assert body.index(used) < body.index("if ($status -eq 407) {") < body.index(
        "if ($status -eq 403 -and $proxy) {") < body.index("if ($status) { Fail 5 ")


def test_a_blocked_program_says_what_windows_said():
    """AppLocker, App Control, Smart App Control: Process.Start throws Windows' own message
    ("This program is blocked by group policy", error 1260), shown with its number."""
    body = _source("Invoke-Native")
    start = "try { $process = [System.Diagnostics.Process]::Start($psi) } catch {"
    assert start in body
    assert "$number = if ($failure -is [System.ComponentModel.Win32Exception]) { \" (Windows error $($failure.NativeErrorCode))\" }" in body
    assert 'Fail 5 "$Exe could not start: $($failure.Message)$number' in _text()
    # 4551: App Control's or Smart App Control's, said in create's words (no folder helps the latter)
    from mambaboot.common import winsys

    assert ("$sac = if ($failure -is [System.ComponentModel.Win32Exception] -and $failure.NativeErrorCode -eq 4551) "
            f'{{ ". {winsys.SMART_APP_CONTROL_IS}" }} else {{ \'\' }}') in body


def test_windows_own_proxy_gets_the_users_logon_and_no_other_proxy_does():
    """Windows PowerShell 5.1's WebRequest.DefaultWebProxy carries no credentials unless set: an
    NTLM or Negotiate proxy answered 407. Only that proxy (no variable set) gets them."""
    receive = _function("Receive-Url")
    assert "ProxyUseDefaultCredentials" not in _code() and "UseDefaultCredentials" not in receive
    assert receive.count("DefaultCredentials") == 1
    branch = receive[receive.index("if (-not $proxy) {"):receive.index("} elseif (Test-NoProxy $Uri)")]
    assert "$request.Proxy = [System.Net.WebRequest]::DefaultWebProxy" in branch
    assert "$request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultCredentials" in branch
    assert "WebRequest.DefaultWebProxy" in _text() and "CredentialCache.DefaultCredentials" in _text()


def test_paths_are_literal_and_joined_as_text():
    """Windows PowerShell 5.1 reads -Path, -Destination and -OutFile as wildcard patterns ([ ] in a
    cache directory), and Join-Path throws on a drive the session does not have: every path goes
    to a cmdlet as -LiteralPath, is joined as text, and is written by .NET."""
    code = _code()
    assert not re.search(r"(?i)join-path|-outfile|-destination|\s-path\b|\bmove-item|\bcopy-item|\bnew-item", code)
    assert "function Join-Text([string]$Parent, [string]$Child) { return $Parent.TrimEnd('\\', '/') + '\\' + $Child }" in _text()
    assert "$file = [System.IO.File]::Create($Destination)" in _function("Receive-Url")
    named = {c.lower() for c in pwsh.commands(_tree())}
    for cmdlet in ("test-path", "remove-item", "get-item", "get-childitem", "get-filehash"):
        if cmdlet in named:
            calls = re.findall(rf"(?i){cmdlet} [^\n|;)]*", code)
            assert calls and all("-LiteralPath " in call for call in calls), calls


def _bound_messages(script: str) -> dict:
    """The deadline's and the size bound's refusal in each script, its values written as {NAME}."""
    text = (SCRIPTS / script).read_bytes().decode("ascii")
    for value, name in (("$mb_deadline", "DEADLINE"), ("%MB_DEADLINE%", "DEADLINE"), ("$($script:Deadline)", "DEADLINE"),
                        ("$mb_connect", "CONNECT"), ("%MB_CONNECT%", "CONNECT"), ("$($script:Connect)", "CONNECT"),
                        ("$mb_max_bytes", "MAX"), ("%MB_MAX_BYTES%", "MAX"), ("$($script:MaxBytes)", "MAX")):
        text = text.replace(value, "{" + name + "}")
    return {"deadline": re.search(r"no whole answer within [^\"]*", text).group(0),
            "size": re.search(r"it is larger than [^\"]*", text).group(0)}


def test_the_download_bounds_are_mambaboots_in_the_same_words_in_every_script():
    """The variables mambaboot's own downloads read (engine/download.py), their defaults, and one
    refusal each, word for word the same in the three scripts."""
    from mambaboot.engine.download import Policy

    text = _text()
    for var, default in (("MAMBABOOT_HTTP_TIMEOUT", Policy.timeout), ("MAMBABOOT_HTTP_DEADLINE", Policy.deadline),
                         ("MAMBABOOT_HTTP_MAX_BYTES", Policy.max_bytes)):
        assert f"Get-Bound '{var}' {int(default)}\n" in text, var
        assert f"{var} {int(default)})" in (SCRIPTS / "bootstrap.sh").read_text(), var
    messages = _bound_messages("bootstrap.ps1")
    assert messages == _bound_messages("bootstrap.sh") == _bound_messages("bootstrap.bat")
    assert messages == {
        "deadline": "no whole answer within MAMBABOOT_HTTP_DEADLINE={DEADLINE} seconds (MAMBABOOT_HTTP_TIMEOUT={CONNECT} "
                    "seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds",
        "size": "it is larger than MAMBABOOT_HTTP_MAX_BYTES={MAX} bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number "
                "of bytes if it really is that large"}


def test_a_bound_is_a_whole_number_as_the_other_scripts_take_it():
    pattern = re.search(r"if \(\$raw -notmatch '([^']*)'\) \{ Fail 2 \"\$Name='\$raw' is not a whole number >= 1\" \}",
                        _text()).group(1)
    for value in ("1", "30", "999999999999999999"):
        assert re.search(pattern, value), value
    for value in ("0", "030", "1.5", "ten", "", " 1", "1234567890123456789"):
        assert not re.search(pattern, value), value


def test_every_wait_of_a_download_ends_at_the_deadline_and_the_body_is_counted_as_it_comes():
    """-TimeoutSec never covered the body, and Invoke-WebRequest held all of it in memory."""
    code = _code()
    assert "invoke-webrequest" not in {c.lower() for c in pwsh.commands(_tree())}
    body = _function("Receive-Url")
    # HttpWebRequest.Timeout and ReadWriteTimeout do not apply to asynchronous calls (Microsoft Learn):
    # each wait is bounded here instead, by MAMBABOOT_HTTP_TIMEOUT within what is left of the deadline
    assert "$request.Timeout" not in body and "$request.ReadWriteTimeout" not in body
    assert re.findall(r"Wait-Within \((\$\w+)\.(\w+)\(", body) == [("$request", "GetResponseAsync"), ("$body", "ReadAsync")]
    assert ".Result" not in body and ".GetResponse()" not in body and ".Read(" not in body
    assert body.index("$response.ContentLength -gt $script:MaxBytes") < body.index("GetResponseStream()")
    assert body.index("if ($total -gt $script:MaxBytes) { $request.Abort(); Fail 5 $tooLarge }") < body.index("$file.Write(")
    wait = _function("Wait-Within")
    assert "$Task.Wait($wait)" in wait and "$script:Deadline * 1000.0 - $Clock.ElapsedMilliseconds" in wait and "$Request.Abort()" in wait
    assert "$wait = [int][Math]::Min($left, $script:Connect * 1000.0)" in wait
    stalled = wait.index("if ($wait -lt $left) { throw (New-Object System.Net.WebException ")
    assert wait.index("$Request.Abort()") < stalled < wait.index("Fail 5 "), "a stalled call is tried again, the deadline is final"
    retry = _function("Save-Url")
    assert "if ($attempt -ge 4 -or $clock.Elapsed.TotalSeconds -ge $script:Deadline)" in retry
    assert retry.index("if ($_.Exception.Data.Contains('')) { Fail 5 ") < retry.index("if ($attempt -ge 4"), "a bound passed is never retried"
    assert code.index("$script:Deadline = Get-Bound") < code.index("New-Directory (Join-Text $script:SandboxHome ")


def test_no_proxy_sends_a_host_it_lists_past_the_proxy_by_curls_rules():
    """curl.exe and micromamba's libcurl read NO_PROXY; the script's downloads took HTTPS_PROXY
    for every host, so a mirror inside the company network went through the proxy."""
    body = _function("Test-NoProxy")
    steps = ["[System.Environment]::GetEnvironmentVariable('')",  # NO_PROXY: Windows' variables ignore case
             "if ($list.Trim() -eq '') { return $true }",  # the value '*' alone
             "$hostName = $Uri.Host.Trim('', '').TrimEnd('')",  # [::1] is ::1 in the list
             "foreach ($entry in $list.Split(''))",
             "$name = $entry.Trim()",
             "if ($name.StartsWith('')) { $name = $name.Substring(1) }",  # a leading dot ignored
             "if ($name -and ($hostName -eq $name -or $hostName.EndsWith('' + $name, [System.StringComparison]::OrdinalIgnoreCase))) "
             "{ return $true }"]
    at = [body.index(step) for step in steps]
    assert at == sorted(at), body
    text = _text()
    literals = _source("Test-NoProxy")
    assert "GetEnvironmentVariable('NO_PROXY')" in literals and "$list.Trim() -eq '*'" in literals and "$list.Split(',')" in literals and "StartsWith('.')" in literals
    assert "EndsWith('.' + $name" in literals and "Trim('[', ']').TrimEnd('.')" in literals
    receive = _function("Receive-Url")
    assert "} elseif (Test-NoProxy $Uri) { $request.Proxy = $null }" in receive
    assert receive.index("Test-NoProxy $Uri") < receive.index("New-Object System.Net.WebProxy")


def test_a_held_file_is_said_as_held_with_exit_5_never_unexpected():
    """An antivirus scanning micromamba.exe holds it: File.Delete / File.Move / Remove-Item throw,
    which ended the script "unexpected" (exit 1)."""
    code = _code()
    replace = _function("Move-Into")
    assert replace.startswith("function Move-Into([string]$Tmp, [string]$Final) {\n    try { if ([System.IO.File]::Exists($Final)) "
                              "{ [System.IO.File]::Delete($Final) }; if ($Tmp) { [System.IO.File]::Move($Tmp, $Final) } } catch {")
    assert "Fail 5 " in replace
    assert "could not be replaced: another program holds it open (an antivirus scanning it, or another bootstrap or " \
           "micromamba using it), or access to it is denied ($($_.Exception.Message))`n  wait for the scan to end or " \
           "close that program, then run this again" in _text()
    # every delete, move and removal of a cached file goes through it, the temporary's too
    assert len(re.findall(r"\[System\.IO\.File\]::(?:Delete|Move)\(|(?i:remove-item)", code)) == 2
    assert "} finally { Move-Into '' $tmp }" in _function("Save-Verified")


def test_a_character_no_windows_path_holds_is_refused_with_exit_2_naming_its_source():
    """Under 5.1, Path.GetFullPath throws on a double quote: exit 1, "unexpected". Every path the
    user gives goes through Get-FullPath, which refuses it first, naming where it came from."""
    text, code = _text(), _code()
    check = re.search(r"function Get-FullPath\(\[string\]\$Path, \[string\]\$Source\) \{\n\s*if \(\$Path -match '([^']*)'\) \{\n"
                      r'\s*Fail 2 "\$Source \'\$Path\' holds a character no Windows path holds', text)
    assert check, "Get-FullPath"
    pattern = check.group(1)
    for bad in ('C:\\my "envs"', "C:\\a<b", "C:\\a|b", "C:\\a?b", "C:\\a*", "C:\\a\tb"):
        assert re.search(pattern, bad), bad
    for good in ("C:\\Users\\J\u00f6rg\\envs (1)", "\\\\server\\share\\envs", "D:/envs", ""):
        assert not re.search(pattern, good), good
    assert code.count("[System.IO.Path]::GetFullPath(") == 1 and "test-path" not in code.lower()
    body = text[text.index("function Invoke-Bootstrap"):]
    writes = body.index("$script:Work = Join-Text $cache")
    for source, value in (("--envs-dir", "$opt['--envs-dir']"), ("--cache-dir", "$opt['--cache-dir']"), ("PY_ENVS", "$env:PY_ENVS"),
                          ("CONDA_PKGS_DIRS", "$_"), ("--micromamba (or MAMBABOOT_MICROMAMBA)", "$mmPath"), ("--zipapp", "$zipapp")):
        assert body.index(f"Get-FullPath {value} '{source}'") < writes, source
    assert all(re.fullmatch(r"Get-FullPath \S+ '[^']+'", call) for call in re.findall(r"Get-FullPath \S+(?: '[^']+')?", body))


def test_a_failure_through_a_set_proxy_names_it_never_the_advice_to_set_it():
    """The hint said "set HTTPS_PROXY" when HTTPS_PROXY was set: now which variable's proxy it went
    through, its scheme, host and port (no user:password), in bootstrap.bat's words."""
    text = _text()
    hint = text[text.index("function Get-ProxyHint"):text.index("function Get-SystemProxy")]
    assert "foreach ($var in @('HTTPS_PROXY', 'ALL_PROXY'))" in _source("Get-ProxyVariable")
    assert "$var, $proxy = Get-ProxyVariable" in hint
    assert 'return "$var names the proxy it went through$shown; $ProxyLogon"' in hint
    assert 'try { $uri = [System.Uri]$proxy; $shown = " ($($uri.Scheme)://$($uri.Authority))" } catch { }' in hint
    assert "    return $ProxyHint\n}" in hint
    assert 'Fail 5 "$What $(Get-ShownUrl $Url) failed: $($_.Exception.Message)`n  $(Get-ProxyHint $Url)"' in text
    engine = text[text.index("if ($engine.Code -ne 0)"):text.index("Fail 6 ")]
    assert "if it could not reach the channel: $(Get-ProxyHint $url)" in engine
    logon = re.search(r"\$ProxyLogon = '([^']*)'", text).group(1)
    bat = (SCRIPTS / "bootstrap.bat").read_bytes().decode("ascii")
    assert bat.count(f"%MB_PROXY_VAR% names the proxy it went through; {logon}") == 1
    assert "Proxies that ask for Windows logon" in logon
    assert "## Proxies that ask for Windows logon" in (REPO / "docs" / "windows.md").read_text()


def test_arm64_takes_win_64_under_windows_11s_emulation_and_windows_10_is_refused_up_front():
    """conda-forge builds conda for win-arm64 for Python 3.14 only (conda/conda#15448): a win-arm64
    environment of another python, conda and mamba cannot solve. Windows 11 runs win-64 under
    its x64 emulation, said in one line, and create is told the machine so (common/host.py reads
    these two variables); Windows 10 on ARM runs no x64 program: refused before any download."""
    text, code = _text(), _code()
    assert "$subdir = 'win-64'" not in text
    pick = text[text.index("$arch = [string]$env:PROCESSOR_ARCHITEW6432"):text.index("$url = $opt['--micromamba-url']")]
    assert "if (-not $arch) { $arch = [string]$env:PROCESSOR_ARCHITECTURE }" in pick
    assert "$subdir = @{ 'AMD64' = 'win-64'; 'ARM64' = 'win-64' }[$arch]" in pick
    assert "if ($arch -eq 'ARM64' -and [System.Environment]::OSVersion.Version.Build -lt 22000) { Fail 5 " in pick
    assert pick.index("-lt 22000") < pick.index("Fail 5 ") < pick.index("$script:Emulated = $true") < pick.index("Say ")
    assert "conda-forge builds conda for win-arm64 for Python 3.14 only (conda/conda#15448)" in pick
    assert "has no conda" not in text
    assert code.index("$script:Emulated = $true") < code.index("Save-Verified $url $notes")
    child = _source("Invoke-Bootstrap")
    child = child[child.index("if ($script:Emulated) {"):child.index("Invoke-Native $pythonExe")]
    assert "$childEnvironment['PROCESSOR_ARCHITECTURE'] = 'AMD64'" in child and "PROCESSOR_ARCHITEW6432" in child
    from mambaboot.common.host import conda_subdir

    assert conda_subdir("Windows", "AMD64") == "win-64"


def test_mamba_ssl_no_revoke_is_passed_as_true_or_not_at_all():
    """micromamba reads it as a YAML boolean (1 stops it) and raw (anything but 0, false included, is
    on): the spellings create takes (engine/network.py), then true or nothing in micromamba's
    environment; anything else refused before a download."""
    from mambaboot.engine.network import _OFF, _ON

    body = _source("Get-NoRevoke")
    assert "@(%s) -contains $word) { return $true }" % ", ".join(f"'{w}'" for w in _ON) in body
    assert "@(%s) -contains $word) { return $false }" % ", ".join(f"'{w}'" for w in _OFF) in body
    assert "Fail 2 \"MAMBA_SSL_NO_REVOKE='$raw' is neither true nor false: set it to true or false\"" in body
    sandbox = _source("Get-SandboxEnvironment")
    removed = "$sandbox.Remove('MAMBA_SSL_NO_REVOKE')"  # a PowerShell hashtable ignores the case of a key
    assert sandbox.index(removed) < sandbox.index("if ($script:NoRevoke) { $sandbox['MAMBA_SSL_NO_REVOKE'] = 'true' }")
    code = _code()
    assert code.index("$script:NoRevoke = Get-NoRevoke") < code.index("$engine = Invoke-Native $binary")


def test_an_engine_failure_names_tls_inspection():
    text = _text()
    hint = re.search(r'\$TlsHint = "([^"]*)"', text).group(1)
    assert "MAMBA_SSL_NO_REVOKE=true" in hint and "MAMBA_SSL_VERIFY=PATH" in hint
    engine = text[text.index("if ($engine.Code -ne 0)"):text.index("Fail 6 ")]
    assert "`n  if it failed on a certificate: $TlsHint" in engine


def _messages(script: str, pattern: str) -> set:
    text = (SCRIPTS / script).read_bytes().decode("ascii")
    return set(re.findall(pattern, text))


def test_onedrive_and_a_network_home_drive_are_refused_as_default_parent_in_bootstrap_bats_words():
    text = _text()
    default = text[text.index("        $envs = $script:Cwd"):text.index("    $prefix = Join-Text $envs $envName")]
    assert "@($env:OneDrive, $env:OneDriveCommercial, $env:OneDriveConsumer)" in default
    assert """"$envs\\".StartsWith($_.TrimEnd('\\') + '\\', [System.StringComparison]::OrdinalIgnoreCase)""" in default
    assert "if ($env:HOMESHARE -and $env:HOMEDRIVE -and $envs.StartsWith($env:HOMEDRIVE, " in default
    ps1 = set(re.findall(r'Fail 2 "\$envs (is (?:in OneDrive|on your network home drive)[^"]*)"', default))
    bat = _messages("bootstrap.bat", r'set "MB_MSG=(is (?:in OneDrive|on your network home drive)[^"]*)"')
    assert len(ps1) == 2 and ps1 == bat


def test_a_released_copy_fetches_its_releases_zipapp_checked_against_its_sha256sums_as_the_other_scripts_do():
    """What tests/test_bootstrap_sh.py and test_bootstrap_bat.py run, held here by the text: with
    no --zipapp and none beside the script, the release's mambaboot.pyz is a --zipapp URL whose
    digest is the SHA256SUMS line naming exactly mambaboot.pyz, verified before anything runs."""
    text = _text()
    body = text[text.index("function Invoke-Bootstrap"):]
    default = body.index("$zipapp = Join-Text $PSScriptRoot 'mambaboot.pyz'")
    assert body.index("if ($Release -and -not [System.IO.File]::Exists($zipapp))") > default
    assert body.index('$zipapp = "$Release/mambaboot.pyz"') > body.index('$sums = "$Release/SHA256SUMS"') > default
    listed = body.index("if (-not $expected -and $sums) { $expected = Get-Digest $sums 'mambaboot.pyz' ")
    assert body.index("-Listed }", listed) < body.index("Save-Verified $zipappUrl $dir 'mambaboot.pyz' $expected") < body.index("Invoke-Native")
    lines = _source("Get-Digest")
    assert "($words[1] -ceq $Name -or $words[1] -ceq \"*$Name\")" in lines, "exactly that name, as sha256sum writes it"
    for name in ("bootstrap.sh", "bootstrap.bat", "bootstrap.ps1"):
        script = (SCRIPTS / name).read_text(encoding="ascii")
        assert "has no sha256 line for" in script and "script's release, checked against its SHA256SUMS" in script


def test_it_changes_no_place_and_hands_over_to_create():
    """No lock, intent, token or settle code: a private Python in the script's own work directory,
    then `mambaboot.pyz create` on it, the verified micromamba by path; the work directory goes
    whatever the outcome (the finally of the whole script)."""
    code = _code().lower()
    for gone in ("lock-file", "unlock-file", "write-intent", "read-locked", ".lock(", "mambaboot-lock", "intent",
                 "adopt", "settle"):
        assert gone not in code, gone
    body = _source("Invoke-Bootstrap")
    order = ["$script:Work = Join-Text $cache ", "New-Directory (Join-Text $script:SandboxHome ", "Save-Verified $url $notes",
             "$engine = Invoke-Native $binary $command (Get-SandboxEnvironment) -Capture",
             "$handover = @('-I', $zipapp, 'create', $name, '--envs-dir', $envs, '--cache-dir', $cache)",
             "$handover += @('--micromamba', $binary, '--micromamba-sha256', $sha)",
             "$code = (Invoke-Native $pythonExe $handover $childEnvironment).Code"]
    at = [body.index(step) for step in order]
    assert at == sorted(at), body
    assert "'--prefix', (Join-Text $script:Work 'python')" in body, "the private Python is in the work directory"
    # the line mambaboot gives (powershell.line), its prefix quoted as quoting.powershell quotes
    shown = "Say ('to use it: " + powershell.line("PREFIX").replace(" 'PREFIX'", " ' + $quoted)")
    assert shown in _text(), shown
    assert "$quoted = \"'\" + ($prefix -replace \"['\\u2018\\u2019\\u201A\\u201B]\", '$0$0') + \"'\"" in _text()
    ending = _code()[_code().rindex("} finally {"):]
    assert "if ($script:Work) { Remove-Tree $script:Work }" in ending


def test_its_temporaries_carry_a_random_token_for_cache_clean():
    text = _text()
    assert "$script:Token = [Guid]::NewGuid().ToString('N')" in text  # 32 lowercase hex digits
    assert '$script:Work = Join-Text $cache "tmp\\mambaboot-tmp-$($script:Token)-bootstrap"' in text
    assert '$tmp = Join-Text $Directory ".$Name.mambaboot-tmp-$($script:Token)"' in text
    from mambaboot.common.files import tempname

    found = tempname.parse_temp("mambaboot-tmp-" + "0" * 32 + "-bootstrap")
    assert found is not None and found[1] == "0" * 32


def test_a_url_is_shown_without_its_password():
    """--micromamba-url, MAMBABOOT_RELEASES_URL and --zipapp may carry user:password: every message
    that names a URL names it through Get-ShownUrl."""
    text = _text()
    pattern = re.search(r"return \$Url -replace '([^']*)', '\$1\*\*\*@'", text).group(1)
    assert re.sub(pattern, r"\1***@", "https://me:secret@mirror.example/mm") == "https://***@mirror.example/mm"
    assert re.sub(pattern, r"\1***@", "https://mirror.example/a@b") == "https://mirror.example/a@b"
    for said in re.findall(r'Fail \d "[^"\n]*', text):
        for url in ("$Url", "$url", "$zipappUrl", "$mmUrl"):
            assert f"{url} " not in said and f"{url}." not in said and f"{url}:" not in said, said


def _uncommented() -> str:
    """The script with its comments gone and its strings kept: what it says and does."""
    tree = _tree()
    out, at = [], 0
    for node in pwsh._outermost(tree, ("comment",)):
        out.append(tree.source[at:node.start_byte].decode("ascii"))
        at = node.end_byte
    return "".join(out) + tree.source[at:].decode("ascii")


def test_a_ca_variable_never_replaces_windows_certificate_store_and_the_hint_names_mamba_ssl_verify():
    """micromamba on Windows is libcurl with Schannel: a CA file replaces Windows' certificate store
    (curl#3727), so REQUESTS_CA_BUNDLE and SSL_CERT_FILE are not made MAMBA_SSL_VERIFY, as create
    does not on Windows (engine/network.py read); what the user sets in MAMBA_SSL_VERIFY still goes."""
    said = _uncommented()
    assert "REQUESTS_CA_BUNDLE" not in said and "SSL_CERT_FILE" not in said
    assert "$sandbox['MAMBA_SSL_VERIFY']" not in said
    hint = re.search(r'\$TlsHint = "([^"]*)"', said).group(1)
    assert hint == ("behind a TLS-inspecting proxy, set MAMBA_SSL_NO_REVOKE=true (Windows could not check the "
                    "certificate's revocation); if its certificate is not trusted, have the company's root certificate put "
                    "in Windows' certificate store, which micromamba checks against (MAMBA_SSL_VERIFY=PATH of a CA bundle "
                    "replaces that store, it does not add to it)")
    bat = _messages("bootstrap.bat", r'set "MB_MSG3=if it failed on a certificate: ([^"]*)"')
    assert bat == {hint}, "the same advice in both Windows scripts"
    assert "MAMBA_SSL_VERIFY" in _array("Carried")


def test_the_default_cache_is_creates_on_the_targets_drive_and_never_a_non_ascii_profile():
    """resolve_cache_dir (common/locations.py): the target's drive's CACHE when it exists, else the
    per-user cache when it is on that drive and all ASCII (micromamba fails on a character the ANSI
    code page lacks: mamba-org/mamba#3097, #3228), else the target's drive's CACHE."""
    said = _uncommented()
    block = said[said.index("if ($opt['--cache-dir']) {"):said.index("$script:PkgsDirs = ")]
    assert "$drive = [System.IO.Path]::GetPathRoot($prefix).TrimEnd('\\')" in said
    assert said.index("$prefix = Join-Text $envs") < said.index("$drive = [System.IO.Path]::GetPathRoot($prefix)") \
        < said.index("if ($opt['--cache-dir']) {")
    steps = ['[System.IO.Directory]::Exists("$drive\\CACHE")',
             "$user = Join-Text $base 'mambaboot\\Cache'",
             '$cache = "$drive\\CACHE"\n',
             "$user.StartsWith($drive + '\\', [System.StringComparison]::OrdinalIgnoreCase) -or (",
             " -and $user -cnotmatch '[^\\x20-\\x7e]') { $cache = $user }"]
    at = [block.index(step) for step in steps]
    assert at == sorted(at), block
    ascii_only = re.search(r"-cnotmatch '([^']*)'", block).group(1)
    assert re.search(ascii_only, "C:\\Users\\Jos\u00e9\\AppData\\Local") and re.search(ascii_only, "C:\\Users\\\u5f20\u4e09")
    assert not re.search(ascii_only, "C:\\Users\\J o-e (1)\\AppData\\Local")
    assert "mamba-org/mamba#3097" in _text()


def test_the_private_python_and_the_environment_come_from_the_same_channels():
    """-c given: those, handed over; without -c, MAMBABOOT_CHANNELS (comma-separated, as create
    reads it: common/locations.py default_channels) else conda-forge for the private Python, and no
    -c handed over, so that create reads MAMBABOOT_CHANNELS itself."""
    from mambaboot.common.locations import DEFAULT_CHANNEL

    said = _uncommented()
    pick = said[said.index("$mmChannels = "):said.index("$command = @('create'")]
    assert "([string]$env:MAMBABOOT_CHANNELS) -split ','" in pick and ".Trim()" in pick
    assert f"@('{DEFAULT_CHANNEL}')" in pick
    handover = said[said.index("$handover = @("):said.index("Invoke-Native $pythonExe")]
    assert "foreach ($channel in $channels) { $handover += @('-c', $channel) }" in handover
    assert "$mmChannels" not in handover


def test_the_target_is_refused_before_any_download_only_where_create_surely_refuses_it():
    """Something at the prefix that is not a directory, or an environment mambaboot manages
    (exit 4); anything else (a link, a directory with files in it) is create's to judge under its lock."""
    said = _uncommented()
    assert "is a link" not in said and "ReparsePoint" not in said
    fours = re.findall(r'Fail 4 "([^"]*)"', said[said.index("function Invoke-Bootstrap"):])
    assert fours == ["$prefix is not a directory; nothing was changed",
                     "$prefix holds an environment mambaboot manages; use mambaboot create --force to replace it"]
    assert said.index("Fail 4 ") < said.index("$script:Work = Join-Text $cache")


def test_a_python_older_than_mambaboot_runs_on_gets_a_private_312_said_in_one_line():
    """python 3.12 for the private Python when the environment's is older than 3.9, as in the other two
    scripts; otherwise the requested version, so the package cache serves the environment too."""
    said = _uncommented()
    assert "$OwnPython = '3.12'" in said
    older = re.search(r"if \(\$python -match '([^']*)'\) \{\n\s*\$spec = \"python=\$OwnPython\"\n\s*Say \"python: ", said).group(1)
    for version in ("2", "2.7", "3.8", "3.8.10", "3.0"):
        assert re.search(older, version), version
    for version in ("3.9", "3.10", "3.12.4", "3"):
        assert not re.search(older, version), version
    assert '$spec = if ($python) { "python=$python" } else { \'python\' }' in said


@pytest.mark.parametrize("status", [404, 410, 401, 403, 429, 500, 503, 418])
def test_an_http_error_is_explained_by_its_status_in_creates_words(status):
    """Get-StatusHint, read as PowerShell reads its conditions, gives create's advice for the status
    (407 names the proxy before it: see above); any other status the plain HTTP error."""
    from mambaboot.engine.download import status_hint

    source = _source("Get-StatusHint")
    said = None
    for line in source.splitlines():
        found = re.match(r"\s*if \(@\(([\d, ]+)\) -contains \$Status\) \{ return (['\"])(.*)\2 \}$", line)
        if found and status in [int(n) for n in found.group(1).split(",")]:
            said = found.group(3)
            break
        found = re.match(r"\s*if \(\$Status -eq 429 -or \(\$Status -ge 500 -and \$Status -le 599\)\) \{ return '(.*)' \}$", line)
        if found and (status == 429 or 500 <= status <= 599):
            said = found.group(1)
            break
    if said is None:
        said = re.search(r"\n    return '(.*)'\n", source).group(1)
    hint = status_hint(status)
    if status in (404, 410):  # the script also downloads mambaboot.pyz
        hint = hint.replace("(--micromamba-url, ", "(--micromamba-url, --zipapp, ")
    assert said == (f": {hint}" if hint else ", an HTTP error, not the network: check --micromamba-version, "
                    "--micromamba-url, --zipapp and MAMBABOOT_RELEASES_URL")


def test_a_network_share_is_no_default_parent_and_gets_no_cache_folder_made_as_create_decides():
    """A current directory on a UNC share (a Downloads folder redirected there) or on a drive mapped
    to one is refused as create's default refuses it; a target on a share takes the user's cache unless the share has
    a CACHE already (locations.on_share)."""
    text = _text()
    default = text[text.index("        $envs = $script:Cwd"):text.index("    $prefix = Join-Text $envs $envName")]
    # a UNC path, or a drive mapped to one, as net use and cmd's pushd map them: .NET's DriveType Network (DRIVE_REMOTE)
    assert ("if ($envs.StartsWith('\\\\') -or ($envs -match '^[A-Za-z]:' -and (New-Object System.IO.DriveInfo "
            "$envs.Substring(0, 1)).DriveType -eq [System.IO.DriveType]::Network)) { Fail 2 \"$envs is on a network share "
            "(a folder redirected there, as Downloads may be, or a drive mapped to one, as net use and pushd map them)") in default
    said = _uncommented()
    share = re.search(r"\$share = if \(\$env:HOMESHARE -and \$env:HOMEDRIVE\) \{ '\^\(\\\\\\\\\|' \+ \[regex\]::Escape\(\$env:HOMEDRIVE\) "
                      r"\+ '\)' \} else \{ '(\^\\\\\\\\)' \}", said)
    assert share, said
    unc = share.group(1)
    assert re.match(unc, "\\\\fs\\users$\\CACHE") and not re.match(unc, "C:\\Users")
    assert ('-or ("$drive\\" -match $share -and $user -notmatch $share)) -and $user -cnotmatch' in said)
    host = Host(environ={}, windows=True, subdir="win-64", cwd="\\\\fs\\users$\\me\\Downloads", isdir=lambda p: False)
    with pytest.raises(UsageError, match="is on a network share"):
        resolve_envs_dir(host, None)
