__HEADER__
if ((Get-Command _MambabootDeactivate -CommandType Function -ErrorAction SilentlyContinue) -and (Get-Variable -Name _MambabootActive -Scope Global -ValueOnly -ErrorAction SilentlyContinue)) {
    _MambabootDeactivate
} else {
    Write-Error -Message __NOT_ACTIVE__ -Category InvalidOperation
}
