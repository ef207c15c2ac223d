__ID__
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

_mambaboot_globs() {
    # A glob lists a directory as conda does (sorted by code point in _mambaboot_hooks): bash's
    # failglob would fail the activation on an empty directory, dotglob and nocaseglob list what
    # conda does not; off while listing ($1 = off), each put back after ($1 = on). zsh: localoptions.
    [ -n "${BASH_VERSION-}" ] || return 0
    if [ "$1" = off ]; then
        _mambaboot_g1=; _mambaboot_g2=; _mambaboot_g3=
        if shopt -q failglob; then _mambaboot_g1=1; shopt -u failglob; fi
        if shopt -q dotglob; then _mambaboot_g2=1; shopt -u dotglob; fi
        if shopt -q nocaseglob; then _mambaboot_g3=1; shopt -u nocaseglob; fi
    else
        if [ -n "$_mambaboot_g1" ]; then shopt -s failglob; fi
        if [ -n "$_mambaboot_g2" ]; then shopt -s dotglob; fi
        if [ -n "$_mambaboot_g3" ]; then shopt -s nocaseglob; fi
        unset _mambaboot_g1 _mambaboot_g2 _mambaboot_g3
    fi
}

_mambaboot_count() {
    # the files in directory $1 (vars.sh compares the count with what envvars.py listed)
    if [ -n "${ZSH_VERSION-}" ]; then setopt localoptions nonomatch nocshnullglob noglobdots caseglob; fi
    _mambaboot_globs off
    _mambaboot_n=0
    for _mambaboot_f in "$1"/*; do
        if [ -f "$_mambaboot_f" ]; then _mambaboot_n=$((_mambaboot_n + 1)); fi
    done
    _mambaboot_globs on
}

_mambaboot_own() { :; }  # vars.sh defines it again

_mambaboot_fail() {
    printf 'mambaboot: %s\n' "$1" >&2
    return 1
}

_mambaboot_save() {
    # remember each named variable's value or absence (each once), for deactivation
    for _mambaboot_f in "$@"; do
        case " $_mambaboot_saved " in *" $_mambaboot_f "*) continue ;; esac
        _mambaboot_saved="$_mambaboot_saved $_mambaboot_f"
        eval "if [ -n \"\${$_mambaboot_f+x}\" ]; then _mambaboot_had_$_mambaboot_f=1; _mambaboot_old_$_mambaboot_f=\$$_mambaboot_f; else _mambaboot_had_$_mambaboot_f=; fi"
    done
}

_mambaboot_hooks() {
    # $1/*$2 as _mambaboot_h1.._mambaboot_h$_mambaboot_hn in code point order, as conda sorts them
    # (`_get_activate_scripts`, conda/activate.py). bash and zsh sort a glob by the locale's collation,
    # so outside the C locales two or more matches are listed again under LC_ALL=C (costly in bash).
    if [ -n "${ZSH_VERSION-}" ]; then setopt localoptions nonomatch nocshnullglob noglobdots caseglob; fi
    _mambaboot_lc=
    while :; do
        _mambaboot_hn=0
        _mambaboot_globs off
        for _mambaboot_f in "$1"/*"$2"; do
            if [ -f "$_mambaboot_f" ]; then _mambaboot_hn=$((_mambaboot_hn + 1)); eval "_mambaboot_h$_mambaboot_hn=\$_mambaboot_f"; fi
        done
        _mambaboot_globs on
        if [ -n "$_mambaboot_lc" ] || [ "$_mambaboot_hn" -lt 2 ]; then break; fi
        case ${LC_ALL:-${LC_COLLATE:-${LANG:-C}}} in C | POSIX | C.*) break ;; esac
        if [ -n "${LC_ALL+x}" ]; then _mambaboot_lc=1; _mambaboot_lcv=$LC_ALL; else _mambaboot_lc=0; fi
        LC_ALL=C
    done
    case $_mambaboot_lc in 1) LC_ALL=$_mambaboot_lcv ;; 0) unset LC_ALL ;; esac
    unset _mambaboot_lc _mambaboot_lcv
}

_mambaboot_activate() {
    if [ -n "${_mambaboot_active-}" ]; then _mambaboot_fail "__STILL_ACTIVE__"; return 1; fi
    __REFUSE__
    _mambaboot_src=
    if [ -n "${BASH_VERSION-}" ]; then
        _mambaboot_src=$BASH_SOURCE
    elif [ -n "${ZSH_VERSION-}" ]; then
        setopt localoptions nonomatch noksharrays  # an unmatched glob stays as it is, as in sh
        # where this function was defined, byte for byte (%x writes non-ASCII bytes as \M-x in the C locale)
        eval '_mambaboot_src=${funcsourcetrace[1]%:*}; [ -n "$_mambaboot_src" ] || _mambaboot_src=${(%):-%x}'
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
    # Every environment's activate.sh is the same text but for its first line, so dash (told the place
    # by MAMBABOOT_ENV) proves the file there is this one by that line, not by comparing it with itself.
    _mambaboot_l=
    { IFS= read -r _mambaboot_l; } < "$_mambaboot_p/.mambaboot/activate.sh"
    if [ "$_mambaboot_l" != "__ID__" ]; then
        _mambaboot_fail "$_mambaboot_p/.mambaboot/activate.sh is not the script being sourced (MAMBABOOT_ENV names another environment); name this script's own environment"
        return 1
    fi
    case $_mambaboot_p in *:*)
        _mambaboot_fail "$_mambaboot_p holds a colon, PATH's separator, so its bin directory cannot go on PATH; move the environment"
        return 1 ;;
    esac
    # this environment's variables (envvars.py); written again by its own python once they changed
    _mambaboot_rc=__STALE_RC__
    if [ -f "$_mambaboot_p/.mambaboot/vars.sh" ]; then . "$_mambaboot_p/.mambaboot/vars.sh"; _mambaboot_rc=$?; fi
    if [ "$_mambaboot_rc" = __STALE_RC__ ] && [ -x "$_mambaboot_p/bin/python" ] && \
        "$_mambaboot_p/bin/python" -I -S "$_mambaboot_p/.mambaboot/envvars.py" "$_mambaboot_p"; then
        . "$_mambaboot_p/.mambaboot/vars.sh"
        _mambaboot_rc=$?
    fi
    if [ "$_mambaboot_rc" != 0 ]; then
        _mambaboot_fail "${_mambaboot_stale:-.mambaboot/vars.sh} __STALE__ $_mambaboot_p"
        return 1
    fi
    _mambaboot_saved=
    eval "_mambaboot_save PATH __CONDA_VARS__ $_mambaboot_names"
    export PATH="__PATH__${PATH:+:$PATH}"
    export CONDA_PREFIX="$_mambaboot_p"
    export CONDA_SHLVL=1
    export MAMBA_ROOT_PREFIX="$_mambaboot_p"
    if [ -f "$_mambaboot_p/bin/conda" ]; then
        # the environment's own conda activates it as its root: "base" (see environ.conda_values)
        export CONDA_DEFAULT_ENV=base
        export CONDA_EXE="$_mambaboot_p/bin/conda" _CONDA_EXE="$_mambaboot_p/bin/conda"
        export CONDA_PYTHON_EXE="$_mambaboot_p/bin/python" _CONDA_ROOT="$_mambaboot_p"
        unset _CE_M _CE_CONDA
    else
        export CONDA_DEFAULT_ENV="$_mambaboot_p"
    fi
    # the environment's directory name, as its conda shows it (environ.prompt_name)
    export CONDA_PROMPT_MODIFIER="(${_mambaboot_p##*/}) "
    _mambaboot_own
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
        # deactivate.d in reverse code point order (`_get_deactivate_scripts`), then every variable back
        _mambaboot_hooks "$_mambaboot_active/etc/conda/deactivate.d" .sh
        while [ "$_mambaboot_hn" -gt 0 ]; do
            eval "_mambaboot_f=\$_mambaboot_h$_mambaboot_hn; unset _mambaboot_h$_mambaboot_hn"
            _mambaboot_hn=$((_mambaboot_hn - 1))
            . "$_mambaboot_f"
        done
        eval "set -- $_mambaboot_saved"
        for _mambaboot_f in "$@"; do
            eval "if [ -n \"\${_mambaboot_had_$_mambaboot_f-}\" ]; then export $_mambaboot_f=\"\$_mambaboot_old_$_mambaboot_f\"; else unset $_mambaboot_f; fi"
            unset _mambaboot_had_$_mambaboot_f _mambaboot_old_$_mambaboot_f
        done
        unset _mambaboot_saved _mambaboot_f _mambaboot_hn
        if [ -n "${_mambaboot_old_PS1+x}" ]; then PS1=$_mambaboot_old_PS1; unset _mambaboot_old_PS1 _mambaboot_prompt; fi
        unset _mambaboot_active
        unset -f _mambaboot_deactivate _mambaboot_hooks _mambaboot_globs
    }
    _mambaboot_hooks "$_mambaboot_active/etc/conda/activate.d" .sh
    _mambaboot_i=1
    while [ "$_mambaboot_i" -le "$_mambaboot_hn" ]; do
        eval "_mambaboot_f=\$_mambaboot_h$_mambaboot_i; unset _mambaboot_h$_mambaboot_i"
        _mambaboot_i=$((_mambaboot_i + 1))
        . "$_mambaboot_f"
    done
    unset _mambaboot_i _mambaboot_hn
else
    _mambaboot_rc=1
    if [ -z "${_mambaboot_active-}" ]; then unset -f _mambaboot_hooks _mambaboot_globs; fi  # else the active one's deactivation needs them
fi
unset -f _mambaboot_activate _mambaboot_read _mambaboot_count _mambaboot_fail _mambaboot_save _mambaboot_own
unset _mambaboot_src _mambaboot_p _mambaboot_c _mambaboot_l _mambaboot_n _mambaboot_f _mambaboot_stale _mambaboot_names
case $_mambaboot_rc in 0) unset _mambaboot_rc ;; *) unset _mambaboot_rc; false ;; esac
