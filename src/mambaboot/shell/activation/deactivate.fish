__HEADER__

if functions -q _mambaboot_deactivate; and set -q _mambaboot_active
    _mambaboot_deactivate
else
    printf 'mambaboot: %s\n' __NOT_ACTIVE__ >&2
    false
end
