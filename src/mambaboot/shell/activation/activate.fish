__HEADER__

function _mambaboot_fail
    printf 'mambaboot: %s\n' $argv[1] >&2
end

function _mambaboot_activate
    if set -q _mambaboot_active
        _mambaboot_fail "__STILL_ACTIVE__"
        return 1
    end
    __REFUSE__
    set -l src $argv[1]
    if not string match -q -- '/*' $src
        set src $PWD/$src
    end
    # logical normalisation, as `cd` would do it: //, /./ and dir/../
    set -l _mambaboot_p (string replace -ra -- '/+' '/' $src/../../)
    set _mambaboot_p (string replace -ra -- '/\.(?=/)' '' $_mambaboot_p)
    while string match -qr -- '/[^/]+/\.\./' $_mambaboot_p
        set _mambaboot_p (string replace -r -- '/[^/]+/\.\./' '/' $_mambaboot_p)
    end
    set _mambaboot_p (string replace -r -- '^(/\.\.)+/' '/' $_mambaboot_p)
    set _mambaboot_p (string replace -r -- '(.)/$' '$1' $_mambaboot_p)
    if not test -d $_mambaboot_p/conda-meta; or not test -f $_mambaboot_p/.mambaboot/activate.fish
        _mambaboot_fail "$src is not the activate.fish inside an environment's .mambaboot directory (source the file itself, not a link to it)"
        return 1
    end
    if string match -q -- '*:*' $_mambaboot_p
        _mambaboot_fail "$_mambaboot_p holds a colon, PATH's separator, so its bin directory cannot go on PATH; move the environment"
        return 1
    end
    __GUARD__
    __SAVE__
    __SETS__
    if functions -q fish_prompt
        functions -c fish_prompt _mambaboot_old_fish_prompt
        function fish_prompt
            set -l last $status
            printf '%s' $CONDA_PROMPT_MODIFIER
            _mambaboot_status $last
            _mambaboot_old_fish_prompt
        end
        function _mambaboot_status
            return $argv[1]
        end
    end
    set -g _mambaboot_active $_mambaboot_p
end

if _mambaboot_activate (status current-filename)
    function _mambaboot_deactivate
        __DEACTIVATE_HOOKS__
        __RESTORE__
        if functions -q _mambaboot_old_fish_prompt
            functions -e fish_prompt _mambaboot_status
            functions -c _mambaboot_old_fish_prompt fish_prompt
            functions -e _mambaboot_old_fish_prompt
        end
        set -e -g _mambaboot_active
        functions -e _mambaboot_deactivate
    end
    __ACTIVATE_HOOKS__
    functions -e _mambaboot_activate _mambaboot_fail
else
    functions -e _mambaboot_activate _mambaboot_fail
    false
end
