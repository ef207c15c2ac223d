__HEADER__

function _mambaboot_fail
    printf 'mambaboot: %s\n' $argv[1] >&2
end

function _mambaboot_before --argument-names a b
    # whether a sorts before b by code point, as Python's sorted() in conda does
    set -l y (string split '' -- $b)
    for c in (string split '' -- $a)
        set -q y[1]; or return 1
        if test "$c" != "$y[1]"
            test (printf %d "'$c") -lt (printf %d "'$y[1]")
            return
        end
        set -e y[1]
    end
end

function _mambaboot_hooks --argument-names dir ext
    # $dir/*$ext into _mambaboot_h in conda's order (`_get_activate_scripts`, conda/activate.py);
    # fish sorts a glob "naturally" (a9 before a10, case folded), so the names are sorted again
    set -l names
    for item in $dir/*$ext
        test -f $item; or continue
        set -l name (string replace -- $dir/ '' $item)
        set -l i (math (count $names) + 1)
        while test $i -gt 1; and _mambaboot_before $name $names[(math $i - 1)]
            set i (math $i - 1)
        end
        set -l head
        set -l tail
        test $i -gt 1; and set head $names[1..(math $i - 1)]
        test $i -le (count $names); and set tail $names[$i..-1]
        set names $head $name $tail
    end
    set -g _mambaboot_h
    for name in $names
        set -a _mambaboot_h $dir/$name
    end
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
    # this environment's variables (envvars.py); written again by its own python once they changed
    set -l rc __STALE_RC__
    if test -f $_mambaboot_p/.mambaboot/vars.fish
        source $_mambaboot_p/.mambaboot/vars.fish
        _mambaboot_fresh $_mambaboot_p
        set rc $status
    end
    if test $rc = __STALE_RC__; and test -x $_mambaboot_p/bin/python
        and $_mambaboot_p/bin/python -I -S $_mambaboot_p/.mambaboot/envvars.py $_mambaboot_p
        source $_mambaboot_p/.mambaboot/vars.fish
        _mambaboot_fresh $_mambaboot_p
        set rc $status
    end
    functions -e _mambaboot_fresh
    if test $rc != 0
        set -l what $_mambaboot_stale
        test -n "$what"; or set what .mambaboot/vars.fish
        set -e -g _mambaboot_stale
        _mambaboot_fail "$what __STALE__ $_mambaboot_p"
        return 1
    end
    set -e -g _mambaboot_stale
    set -g _mambaboot_saved
    for name in PATH __CONDA_VARS__ $_mambaboot_names
        contains -- $name $_mambaboot_saved; and continue
        set -g -a _mambaboot_saved $name
        if set -q -g $name; set -g _mambaboot_had_$name 1; set -g _mambaboot_old_$name $$name; end
    end
    set -e -g _mambaboot_names
    set -gx PATH __PATH__ $PATH
    set -gx CONDA_PREFIX $_mambaboot_p
    set -gx CONDA_SHLVL 1
    set -gx MAMBA_ROOT_PREFIX $_mambaboot_p
    if test -f $_mambaboot_p/bin/conda
        # the environment's own conda activates it as its root: "base" (see environ.conda_values)
        set -gx CONDA_DEFAULT_ENV base
        set -gx CONDA_EXE $_mambaboot_p/bin/conda
        set -gx _CONDA_EXE $_mambaboot_p/bin/conda
        set -gx CONDA_PYTHON_EXE $_mambaboot_p/bin/python
        set -gx _CONDA_ROOT $_mambaboot_p
        set -e -g _CE_M
        set -e -g _CE_CONDA
    else
        set -gx CONDA_DEFAULT_ENV $_mambaboot_p
    end
    # the environment's directory name, as its conda shows it (environ.prompt_name)
    set -l leaf (string replace -r -- '.*/' '' $_mambaboot_p)
    set -gx CONDA_PROMPT_MODIFIER "($leaf) "
    _mambaboot_own
    functions -e _mambaboot_own
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
        # deactivate.d in reverse code point order (`_get_deactivate_scripts`), then every variable back
        _mambaboot_hooks $_mambaboot_active/etc/conda/deactivate.d .fish
        set -l hooks $_mambaboot_h
        set -e -g _mambaboot_h
        while set -q hooks[1]
            set -l hook $hooks[-1]
            set -e hooks[-1]
            source $hook
        end
        for name in $_mambaboot_saved
            set -l old _mambaboot_old_$name
            if set -q -g _mambaboot_had_$name
                set -gx $name $$old
            else
                set -e -g $name
            end
            set -e -g _mambaboot_had_$name
            set -e -g $old
        end
        set -e -g _mambaboot_saved
        if functions -q _mambaboot_old_fish_prompt
            functions -e fish_prompt _mambaboot_status
            functions -c _mambaboot_old_fish_prompt fish_prompt
            functions -e _mambaboot_old_fish_prompt
        end
        set -e -g _mambaboot_active
        functions -e _mambaboot_deactivate _mambaboot_hooks _mambaboot_before
    end
    _mambaboot_hooks $_mambaboot_active/etc/conda/activate.d .fish
    for hook in $_mambaboot_h
        source $hook
    end
    set -e -g _mambaboot_h
    set -e hook
    functions -e _mambaboot_activate _mambaboot_fail
else
    functions -e _mambaboot_activate _mambaboot_fail
    set -q _mambaboot_active; or functions -e _mambaboot_hooks _mambaboot_before  # else the active one's deactivation needs them
    functions -q _mambaboot_own; and functions -e _mambaboot_own
    false
end
