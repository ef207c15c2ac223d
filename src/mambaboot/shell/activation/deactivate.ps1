__HEADER__
if ((Get-Command _MambabootDeactivate -CommandType Function -ErrorAction SilentlyContinue) -and $global:_MambabootActive) {
    _MambabootDeactivate
} else {
    Write-Error -Message __NOT_ACTIVE__ -Category InvalidOperation
}
