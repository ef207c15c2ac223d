__HEADER__

if command -v _mambaboot_deactivate >/dev/null 2>&1; then
    _mambaboot_deactivate
else
    printf 'mambaboot: %s\n' __NOT_ACTIVE__ >&2
    false
fi
