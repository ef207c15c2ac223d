__HEADER__

# Executing this file would activate a child process that exits at once: say so instead.
if { [ -n "${BASH_VERSION-}" ] && [ "${BASH_SOURCE-}" = "$0" ]; } || [ "${ZSH_EVAL_CONTEXT-}" = toplevel ]; then
    printf "mambaboot: source this file, do not run it: . %s\n" "$0" >&2
    exit 2
fi

_mambaboot_read() {
    # the whole file in _mambaboot_c (a last line without newline gets one); 1 if unreadable
    _mambaboot_c=
    [ -f "$1" ] && [ -r "$1" ] || return 1
    while IFS= read -r _mambaboot_l || [ -n "$_mambaboot_l" ]; do
        _mambaboot_c="$_mambaboot_c$_mambaboot_l
"
    done < "$1"
    _mambaboot_l=
}

_mambaboot_count() {
    _mambaboot_n=0
    for _mambaboot_f in "$@"; do
        if [ -f "$_mambaboot_f" ]; then _mambaboot_n=$((_mambaboot_n + 1)); fi
    done
}

_mambaboot_fail() {
    printf 'mambaboot: %s\n' "$1" >&2
    return 1
}

_mambaboot_activate() {
    if [ -n "${_mambaboot_active-}" ]; then _mambaboot_fail "__STILL_ACTIVE__"; return 1; fi
    __REFUSE__
    _mambaboot_src=
    if [ -n "${BASH_VERSION-}" ]; then
        _mambaboot_src=$BASH_SOURCE
    elif [ -n "${ZSH_VERSION-}" ]; then
        eval '_mambaboot_src=${(%):-%x}'
        setopt localoptions nonomatch  # an unmatched glob stays as it is, as in sh
    elif [ -n "${MAMBABOOT_ENV-}" ]; then
        _mambaboot_src=$MAMBABOOT_ENV/.mambaboot/activate.sh
    fi
    unset MAMBABOOT_ENV
    if [ -z "$_mambaboot_src" ]; then
        _mambaboot_fail 'this shell cannot tell which file it is sourcing; name the environment: MAMBABOOT_ENV=/path/to/env; . "$MAMBABOOT_ENV/.mambaboot/activate.sh"'
        return 1
    fi
    case $_mambaboot_src in /*) ;; *) _mambaboot_src=$PWD/$_mambaboot_src ;; esac
    _mambaboot_p=${_mambaboot_src%/*}/../
    while :; do  # logical normalisation, as `cd` would do it: //, /./ and dir/../
        case $_mambaboot_p in
            *//*) _mambaboot_p=${_mambaboot_p%%//*}/${_mambaboot_p#*//} ;;
            */./*) _mambaboot_p=${_mambaboot_p%%/./*}/${_mambaboot_p#*/./} ;;
            /../*) _mambaboot_p=/${_mambaboot_p#/../} ;;
            */../*)
                _mambaboot_f=${_mambaboot_p%%/../*}
                _mambaboot_p=${_mambaboot_f%/*}/${_mambaboot_p#*/../} ;;
            *) break ;;
        esac
    done
    _mambaboot_p=${_mambaboot_p%/}
    if [ -z "$_mambaboot_p" ]; then _mambaboot_p=/; fi
    if [ ! -d "$_mambaboot_p/conda-meta" ] || [ ! "$_mambaboot_p/.mambaboot/activate.sh" -ef "$_mambaboot_src" ]; then
        _mambaboot_fail "$_mambaboot_src is not the activate.sh inside an environment's .mambaboot directory (source the file itself, not a link to it)"
        return 1
    fi
    case $_mambaboot_p in *:*)
        _mambaboot_fail "$_mambaboot_p holds a colon, PATH's separator, so its bin directory cannot go on PATH; move the environment"
        return 1 ;;
    esac
    __GUARD__
    __SAVE__
    __SETS__
    # The prompt shows the path literally: bash, dash and ksh expand $ and `...` in PS1 each time
    # they draw it, but not inside a variable's value, so PS1 names the variable; zsh expands
    # only %, which is doubled (and names the variable too when PROMPT_SUBST is on).
    if [ -n "${PS1+x}" ]; then _mambaboot_old_PS1=$PS1; _mambaboot_prompt=$CONDA_PROMPT_MODIFIER
        if [ -n "${ZSH_VERSION-}" ] && eval '_mambaboot_prompt=${_mambaboot_prompt//\%/%%}; ! [[ -o promptsubst ]]'
        then PS1=$_mambaboot_prompt$PS1; else PS1='${_mambaboot_prompt-}'$PS1; fi
    fi
    _mambaboot_active=$_mambaboot_p
}

if _mambaboot_activate; then
    _mambaboot_rc=0
    _mambaboot_deactivate() {
        __DEACTIVATE_HOOKS__
        __RESTORE__
        if [ -n "${_mambaboot_old_PS1+x}" ]; then PS1=$_mambaboot_old_PS1; unset _mambaboot_old_PS1 _mambaboot_prompt; fi
        unset _mambaboot_active
        unset -f _mambaboot_deactivate
    }
    __ACTIVATE_HOOKS__
else
    _mambaboot_rc=1
fi
unset -f _mambaboot_activate _mambaboot_read _mambaboot_count _mambaboot_fail
unset _mambaboot_src _mambaboot_p _mambaboot_c _mambaboot_l _mambaboot_n _mambaboot_f _mambaboot_stale
case $_mambaboot_rc in 0) unset _mambaboot_rc ;; *) unset _mambaboot_rc; false ;; esac
