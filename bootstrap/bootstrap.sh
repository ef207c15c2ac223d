#!/bin/sh
# shellcheck disable=SC2030,SC2031  # mb_sandboxed changes its own subshell's environment only
# bootstrap.sh [NAME] [PY_VERSION] [options]
#
# Makes a conda environment (Python, conda, mamba) on a machine that has no Python. This script
# does only what needs no Python: check the shell, download and verify micromamba (and the
# zipapp), and make a private Python with it in a work directory of its own; then it hands over to
# `mambaboot create` on that Python, which takes the place's lock and does everything else, and
# deletes the work directory when create returns. It changes no place itself: killed, it leaves
# only its work directory (CACHE/tmp/mambaboot-tmp-TOKEN-bootstrap), which `mambaboot cache clean`
# and `doctor` name. POSIX sh (dash, bash, zsh, busybox sh).
#
# Exit codes are create's: 2 usage, 3 the shell has an environment active, 4 target refused,
# 5 micromamba (or the zipapp) could not be obtained or verified, 6 micromamba failed,
# 7 the private Python is missing; after the hand-over, create's own code.

mb_pinned=2.8.1-0
mb_releases=https://github.com/mamba-org/micromamba-releases/releases
# The address of the release this copy belongs to: empty in the repository; a release's copy
# names it (tools/build_release.py --release-url), so that this script alone fetches the zipapp.
mb_release=
# The private Python when the user asks for one older than mambaboot runs on (it needs >= 3.9).
mb_own_python=3.12

# Nothing this script or create makes is writable by group or others, whatever umask it was
# started with (a symbolic umask takes write away and keeps the rest: POSIX umask).
umask go-w

mb_usage() {
    cat <<'EOF'
usage: bootstrap.sh [NAME] [PY_VERSION] [options]

Creates NAME_<PY_VERSION with _ for .> (default NAME: py) in --envs-dir, else $PY_ENVS (which
must then be a directory), else the current directory, by running `mambaboot.pyz create` on a
private Python this script makes with micromamba.

options:
  -c, --channel CHANNEL      channel (repeatable; default: $MAMBABOOT_CHANNELS, else conda-forge)
  --package SPEC             extra package (repeatable)
  --envs-dir DIR             parent of the environment
  --cache-dir DIR            cache root (default: the user cache dir + /mambaboot)
  --micromamba PATH          use this micromamba binary (default: $MAMBABOOT_MICROMAMBA, else download)
  --micromamba-version V     release to download (default: the pinned one; 'latest' allowed)
  --micromamba-url URL       mirror: full URL of the binary; its digest is read from URL.sha256
  --micromamba-sha256 HEX    trust this digest instead of the published .sha256
  --allow-http               allow plain http:// for non-loopback URLs
  --zipapp PATH|URL          mambaboot.pyz (default: beside this script, else the one of this
                             script's release, checked against its SHA256SUMS); a URL is
                             verified against URL.sha256 or --zipapp-sha256
  --zipapp-sha256 HEX        expected digest of --zipapp URL

environment: PY_ENVS, CONDA_PKGS_DIRS, MAMBABOOT_CHANNELS, MAMBABOOT_MICROMAMBA,
MAMBABOOT_RELEASES_URL (a mirror of the release tree), MAMBABOOT_HTTP_TIMEOUT,
MAMBABOOT_HTTP_DEADLINE (seconds) and MAMBABOOT_HTTP_MAX_BYTES (whole numbers), as for
`mambaboot create`.
EOF
}

mb_say() { printf '%s\n' "$*" >&2; }

mb_die() {
    mb_code=$1
    shift
    printf 'bootstrap: error: %s\n' "$*" >&2
    exit "$mb_code"
}

# A word the shell reads back as exactly $1 (for `eval set --`).
mb_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# A URL as it may be shown: a user:password before the host masked (common/urlrule.py shows it so).
mb_shown() { printf '%s' "$1" | sed 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/?#]*@#\1***@#'; }

mb_check_value() {  # option value: what `create` refuses, so micromamba never sees it
    case $2 in
        *[![:space:]]*) ;;
        *) mb_die 2 "$1 needs a non-empty value" ;;
    esac
    case $2 in
        -*) mb_die 2 "$1 value '$(mb_shown "$2")' starts with '-'" ;;
        *[[:cntrl:]]*) mb_die 2 "$1 value contains a control character" ;;
    esac
}

mb_check_version() {
    case $1 in
        '' | *[!0-9.]* | .* | *. | *..*) mb_bad=1 ;;
        *) mb_rest=${1#*.}; mb_rest=${mb_rest#*.}
           case $mb_rest in *.*) mb_bad=1 ;; *) mb_bad= ;; esac ;;
    esac
    [ -z "$mb_bad" ] || mb_die 2 "--python '$1' is not a version; give one like 3.12 or 3.12.4"
}

mb_abs() {
    case $1 in
        /*) printf '%s' "$1" ;;
        *) printf '%s/%s' "$mb_cwd" "$1" ;;
    esac
}

# TEXT FUNCTION: FUNCTION on each entry of the comma-separated TEXT, trimmed, empty ones skipped,
# as conda reads CONDA_PKGS_DIRS and create MAMBABOOT_CHANNELS (common/locations.py).
mb_each() {
    mb_rest=$1,
    while [ -n "$mb_rest" ]; do
        mb_entry=$(printf '%s' "${mb_rest%%,*}" | sed 's/^[[:space:]]*//;s/[[:space:]]*$//')
        mb_rest=${mb_rest#*,}
        [ -z "$mb_entry" ] || "$2" "$mb_entry"
    done
}

mb_sha256() {  # of stdin
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -c1-64
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 | cut -c1-64
    else
        mb_die 5 "neither sha256sum nor shasum found: cannot verify a download"
    fi
}

mb_file_sha256() {  # FILE: its digest, or nothing when it is no regular file (a fifo is never opened)
    [ -f "$1" ] && mb_sha256 <"$1"
}

# A whole number >= 1 from variable $1, else $2: the bounds mambaboot's own downloads take from
# the same variables (engine/download.py), here in whole seconds and bytes.
mb_number() {  # VARIABLE DEFAULT
    mb_n=$2
    eval "mb_n=\${$1-\$mb_n}"
    case $mb_n in
        # at most 18 digits, as the other two scripts take it: shell arithmetic adds 1 to it
        '' | *[!0-9]* | 0* | ???????????????????*) mb_die 2 "$1='$mb_n' is not a whole number >= 1" ;;
    esac
    printf '%s' "$mb_n"
}

# URL FILE: the body, or status 1 with the reason in mb_why. Bounded as mambaboot bounds a
# download: MAMBABOOT_HTTP_TIMEOUT seconds to connect, MAMBABOOT_HTTP_DEADLINE seconds for an
# attempt, after which no retry starts (curl's --max-time, --retry-max-time: exit 28), at most
# MAMBABOOT_HTTP_MAX_BYTES bytes. curl's --max-filesize refuses a longer Content-Length before
# the body comes (exit 63); before curl 8.4.0 it cannot stop a body sent without one (curl's
# manual), and wget has no such bound: so every body passes through head -c, which stops
# reading one byte past the bound (curl then ends with exit 23, wget on SIGPIPE), and the size
# decides. wget has no overall deadline: timeout(1) gives it one where there is one.
mb_fetch() {
    # A redirect may not leave https (or, with --allow-http, http/https): the rule mambaboot
    # applies to every hop (common/urlrule.py); curl cannot tell loopback http apart, so
    # without --allow-http every hop must be https. wget has no such switch: hops are only counted.
    mb_redir='=https'
    [ -z "$mb_allow_http" ] || mb_redir='=http,https'
    if command -v curl >/dev/null 2>&1; then
        set -- "$1" "$2" curl -fsSL --retry 3 --connect-timeout "$mb_connect" --max-time "$mb_deadline" \
            --retry-max-time "$mb_deadline" --max-filesize "$mb_max_bytes" --max-redirs 10 --proto-redir "$mb_redir"
    elif command -v wget >/dev/null 2>&1; then
        set -- "$1" "$2" wget -q --timeout="$mb_connect" --tries=4 --max-redirect=10 -O -
        ! command -v timeout >/dev/null 2>&1 || set -- "$1" "$2" timeout "$mb_deadline" "$@"
    else
        mb_die 5 "neither curl nor wget found: cannot download $(mb_shown "$1")"
    fi
    mb_url_now=$1 mb_out=$2
    shift 2
    { "$@" "$mb_url_now" 2>"$mb_work/fetch.err"; echo $? >"$mb_work/fetch.rc"; } |
        head -c "$((mb_max_bytes + 1))" >"$mb_out"
    mb_rc=$(cat "$mb_work/fetch.rc")
    mb_size=$(wc -c <"$mb_out" | tr -d ' ')
    if [ "$mb_size" -gt "$mb_max_bytes" ] || [ "$mb_rc" = 63 ]; then
        mb_why="it is larger than MAMBABOOT_HTTP_MAX_BYTES=$mb_max_bytes bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
    elif [ "$mb_rc" = 28 ] || [ "$mb_rc" = 124 ]; then
        mb_why="$1 exit $mb_rc: no whole answer within MAMBABOOT_HTTP_DEADLINE=$mb_deadline seconds (MAMBABOOT_HTTP_TIMEOUT=$mb_connect seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
    elif [ "$1" = curl ] && [ "$mb_rc" = 22 ]; then
        # -f: the server answered with an HTTP error (curl's manual, EXIT CODES): no proxy's doing
        mb_why="$1 exit 22 ($(mb_errline)): the server answered with an HTTP error, not the network: check --micromamba-version (a release that has micromamba-$mb_subdir), the mirror's URL, or --zipapp"
    elif [ "$mb_rc" != 0 ]; then
        mb_why="$1 exit $mb_rc $(mb_errline)"
    else
        return 0
    fi
    rm -f "$mb_out"
    return 1
}

mb_errline() { tail -n 1 "$mb_work/fetch.err" | sed 's#\([A-Za-z][A-Za-z0-9+.-]*://\)[^/?# ]*@#\1***@#g'; }

mb_check_url() {  # OPTION URL
    case $2 in
        https://* | file://*) return 0 ;;
        http://*) ;;
        *) mb_die 2 "$1 '$(mb_shown "$2")' is not an https:// URL" ;;
    esac
    mb_host=${2#http://}
    mb_host=${mb_host%%/*}
    mb_host=${mb_host##*@}
    case $mb_host in
        \[::1\]* | localhost | localhost:* | 127.0.0.1 | 127.0.0.1:*) return 0 ;;
    esac
    [ -n "$mb_allow_http" ] ||
        mb_die 2 "$1 '$(mb_shown "$2")' uses plain http; use https, or pass --allow-http if you trust the network"
}

# Download URL into DIR/NAME only if its sha256 is EXPECTED: under a temporary name beside it
# (.NAME.mambaboot-tmp-RANDOM, which mambaboot's collectors name), renamed into place verified.
# No lock: two runs writing the same store each rename a whole, verified file.
mb_fetch_verified() {  # URL DIR NAME EXPECTED
    mb_tmp="$2/.$3.mambaboot-tmp-$mb_token"
    mb_fetch "$1" "$mb_tmp" || mb_die 5 "download of $(mb_shown "$1") failed: $mb_why; nothing was kept"
    mb_got=$(mb_sha256 <"$mb_tmp")
    if [ "$mb_got" != "$4" ]; then
        rm -f "$mb_tmp"
        mb_die 5 "$(mb_shown "$1") does not match its published digest:
  expected sha256 $4
  downloaded      $mb_got
nothing was kept"
    fi
    chmod 755 "$mb_tmp"
    mv -f "$mb_tmp" "$2/$3"
    mb_tmp=
}

mb_published_digest() {  # URL -> the digest in URL.sha256
    mb_tmp="$mb_work/published.sha256"
    mb_fetch "$1.sha256" "$mb_tmp" || mb_die 5 "could not read the published digest $(mb_shown "$1").sha256: $mb_why
without it the binary cannot be verified; pass --micromamba-sha256 HEX if you know the digest"
    mb_digest_in "" || mb_die 5 "$(mb_shown "$1").sha256 does not hold a sha256 digest"
    printf '%s' "$mb_digest"
}

# NAME: mb_digest from the checksum file mb_tmp (then deleted), its line that names exactly NAME
# (sha256sum's "DIGEST  NAME", or "DIGEST *NAME" in its binary mode), or with NAME empty its
# first line; status 1 when that holds no sha256 digest.
mb_digest_in() {
    mb_digest=$(tr -d '\r' <"$mb_tmp" | awk -v name="$1" 'name == "" || $2 == name || $2 == "*" name { print tolower($1); exit }')
    rm -f "$mb_tmp"
    mb_tmp=
    case $mb_digest in
        *[!0-9a-f]*) mb_digest= ;;
    esac
    [ ${#mb_digest} -eq 64 ]
}

# SUMS NAME -> the digest on the line of the checksum file at URL SUMS that names exactly NAME.
mb_listed_digest() {
    mb_tmp="$mb_work/SHA256SUMS"
    mb_fetch "$1" "$mb_tmp" || mb_die 5 "could not read $(mb_shown "$1"): $mb_why
without it $2 cannot be verified; put $2 beside this script, or pass --zipapp PATH|URL"
    mb_digest_in "$2" || mb_die 5 "$(mb_shown "$1") has no sha256 line for $2: it cannot be verified"
    printf '%s' "$mb_digest"
}

mb_valid_digest() {  # OPTION VALUE -> lowercase digest
    mb_d=$(printf '%s' "$2" | tr 'A-F' 'a-f' | tr -d ' \t')
    case $mb_d in *[!0-9a-f]*) mb_d= ;; esac
    [ ${#mb_d} -eq 64 ] || mb_die 2 "$1 '$2' is not a sha256 hex digest"
    printf '%s' "$mb_d"
}

# The Python environment a PATH entry belongs to (conda's layout, or a virtualenv).
mb_in_environment() {
    mb_e=$1
    while [ "$mb_e" != / ] && [ "${mb_e%/}" != "$mb_e" ]; do mb_e=${mb_e%/}; done
    for mb_sub in "" /bin /Scripts /condabin /Library/bin /Library/usr/bin /Library/mingw-w64/bin; do
        case $mb_e in
            *?"$mb_sub")
                mb_root=${mb_e%"$mb_sub"}
                if [ -d "$mb_root/conda-meta" ] || [ -f "$mb_root/pyvenv.cfg" ]; then return 0; fi ;;
        esac
    done
    return 1
}

mb_clean_path() {
    mb_out=
    mb_first=1
    mb_rest=$1:
    while [ -n "$mb_rest" ]; do
        mb_entry=${mb_rest%%:*}
        mb_rest=${mb_rest#*:}
        if [ -n "$mb_entry" ] && mb_in_environment "$mb_entry"; then continue; fi
        if [ -n "$mb_first" ]; then mb_out=$mb_entry; mb_first=; else mb_out=$mb_out:$mb_entry; fi
    done
    printf '%s' "$mb_out"
}

# Run "$@" the way create runs micromamba: every conda/mamba/python variable gone, no other
# environment on PATH, a private HOME (and XDG and temp dirs) in the work directory.
mb_sandboxed() (
    # The network and machine settings create carries too (engine/network.py), from the
    # environment only: the scripts read no rc files. The user's credentials: libmamba reads
    # them from HOME, which is about to be the private one.
    if [ -z "${MAMBA_SSL_VERIFY-}" ] && [ -z "${MAMBA_CACERT_PATH-}" ]; then
        mb_ca=${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE-}}
        # libmamba reads MAMBA_SSL_VERIFY as YAML (Source<T>::deserialize,
        # libmamba/include/mamba/api/configuration_impl.hpp), which cuts a bare path at " #" and
        # stops on a leading @: in single quotes YAML reads every character back, a quote twice.
        if [ -n "$mb_ca" ]; then
            MAMBA_SSL_VERIFY=$(printf '%s\n' "$mb_ca" | sed "s/'/''/g; s/^/'/; s/\$/'/")
            export MAMBA_SSL_VERIFY
        fi
    fi
    [ -n "${NETRC-}" ] || [ ! -f "${HOME-}/.netrc" ] || export NETRC="$HOME/.netrc"
    if [ -f "${HOME-}/.mamba/auth/authentication.json" ]; then
        mkdir -p "$mb_home/.mamba/auth" && cp "$HOME/.mamba/auth/authentication.json" "$mb_home/.mamba/auth/"
    fi
    for mb_name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
        case $mb_name in
            MAMBA_SSL_VERIFY | MAMBA_CACERT_PATH | MAMBA_SSL_NO_REVOKE | MAMBA_CHANNEL_ALIAS | CONDA_OVERRIDE_*) ;;
            CONDA_* | MAMBA_* | PYTHON* | _CE_* | __CONDA* | VIRTUAL_ENV* | _MAMBABOOT_* | CONDARC | MAMBARC) unset "$mb_name" ;;
        esac
    done
    PATH=$(mb_clean_path "${PATH-}")
    export PATH
    export HOME="$mb_home" XDG_CONFIG_HOME="$mb_home/.config" XDG_CACHE_HOME="$mb_home/.cache" \
        XDG_DATA_HOME="$mb_home/.local/share" XDG_STATE_HOME="$mb_home/.local/state" \
        TMPDIR="$mb_home/tmp" TEMP="$mb_home/tmp" TMP="$mb_home/tmp" CONDA_PKGS_DIRS="$mb_pkgs"
    exec "$@" </dev/null
)

# The work directory is this run's alone (made by it, under a random name): deleted whatever the outcome.
mb_cleanup() {
    [ -z "${mb_tmp-}" ] || rm -f "$mb_tmp"
    [ -z "${mb_work-}" ] || rm -rf "$mb_work"
}
trap mb_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP  # the terminal closed (ignored under nohup: a trap cannot undo that in sh)

# ------------------------------------------------------------------ arguments

mb_name=
mb_name_set=
mb_python=
mb_npos=0
mb_channels=      # -c words for micromamba and create
mb_packages=      # --package words for create
mb_mm_path=${MAMBABOOT_MICROMAMBA-}
mb_mm_version=
mb_mm_url=
mb_mm_sha=
mb_allow_http=
mb_envs=
mb_cache=
mb_zipapp=
mb_zipapp_sha=
mb_work=
while [ $# -gt 0 ]; do
    case $1 in
        --*=*) mb_opt=${1%%=*}; mb_val=${1#*=}; shift; set -- "$mb_opt" "$mb_val" "$@"; continue ;;
    esac
    case $1 in
        -h | --help) mb_usage; exit 0 ;;
        --allow-http) mb_allow_http=1; shift; continue ;;
        -c | --channel | --package | --envs-dir | --cache-dir | --micromamba | --micromamba-version | \
            --micromamba-url | --micromamba-sha256 | --zipapp | --zipapp-sha256)
            [ $# -ge 2 ] || mb_die 2 "$1 needs a value"
            mb_check_value "$1" "$2" ;;
        -*) mb_die 2 "unknown option $1 (see --help)" ;;
    esac
    case $1 in
        -c | --channel) mb_channels="$mb_channels -c $(mb_quote "$2")" ;;
        --package) mb_packages="$mb_packages --package $(mb_quote "$2")" ;;
        --envs-dir) mb_envs=$2 ;;
        --cache-dir) mb_cache=$2 ;;
        --micromamba) mb_mm_path=$2 ;;
        --micromamba-version) mb_mm_version=$2 ;;
        --micromamba-url) mb_mm_url=$2 ;;
        --micromamba-sha256) mb_mm_sha=$(mb_valid_digest "$1" "$2") || exit ;;
        --zipapp) mb_zipapp=$2 ;;
        --zipapp-sha256) mb_zipapp_sha=$(mb_valid_digest "$1" "$2") || exit ;;
        *)
            mb_npos=$((mb_npos + 1))
            case $mb_npos in
                1) mb_name=$1; mb_name_set=1 ;;
                2) mb_python=$1 ;;
                *) mb_die 2 "unexpected argument '$1': give at most NAME and PY_VERSION" ;;
            esac
            shift
            continue ;;
    esac
    shift 2
done

mb_connect=$(mb_number MAMBABOOT_HTTP_TIMEOUT 30) || exit
mb_deadline=$(mb_number MAMBABOOT_HTTP_DEADLINE 1800) || exit
mb_max_bytes=$(mb_number MAMBABOOT_HTTP_MAX_BYTES 268435456) || exit
# MAMBA_SSL_NO_REVOKE as a boolean, from whatever spelling was given (engine/network.py flag):
# libmamba reads the variable as YAML, where 1 and 0 are no booleans and stop micromamba
# (Configurable::compute, libmamba/include/mamba/api/configuration.hpp; yaml-cpp's
# convert<bool>::decode), and raw in get_env_remote_params (download/downloader.cpp), where
# anything but 0, false included, turns the check off: so it goes on as true or not at all.
case $(printf '%s' "${MAMBA_SSL_NO_REVOKE-}" | tr '[:upper:]' '[:lower:]') in
    y | yes | true | on | 1) export MAMBA_SSL_NO_REVOKE=true ;;
    '' | n | no | false | off | 0) unset MAMBA_SSL_NO_REVOKE ;;
    *) mb_die 2 "MAMBA_SSL_NO_REVOKE='$MAMBA_SSL_NO_REVOKE' is neither true nor false: set it to true or false" ;;
esac
for mb_var in REQUESTS_CA_BUNDLE SSL_CERT_FILE; do
    eval "mb_ca=\${$mb_var-}"
    case $mb_ca in *[[:cntrl:]]*) mb_die 2 "$mb_var holds a control character, which micromamba cannot read back" ;; esac
done

# ------------------------------------------------------------------ checks that write nothing, in create's order:
# the inputs (2), the shell (3), the target (4)

[ -n "$mb_name_set" ] || mb_name=py
case $mb_name in
    '' | . | .. | */* | *\\*) mb_die 2 "invalid environment name '$mb_name': one directory name, not a path" ;;
    *[[:cntrl:]]*) mb_die 2 "environment name contains a control character" ;;
esac
mb_envname=$mb_name
if [ -n "$mb_python" ]; then
    mb_check_version "$mb_python"
    mb_envname=${mb_name}_$(printf '%s' "$mb_python" | tr . _)
fi

# The private Python comes from the channels the environment will: -c, else MAMBABOOT_CHANNELS,
# else conda-forge; without -c, create reads MAMBABOOT_CHANNELS itself (it gets this environment).
mb_add_channel() { mb_check_value MAMBABOOT_CHANNELS "$1"; mb_own_channels="$mb_own_channels -c $(mb_quote "$1")"; }
mb_own_channels=$mb_channels
[ -n "$mb_channels" ] || mb_each "${MAMBABOOT_CHANNELS-}" mb_add_channel
[ -n "$mb_own_channels" ] || mb_own_channels="-c conda-forge"

# dash's pwd prints nothing and succeeds when the directory was removed: the prefix would be /NAME.
mb_cwd=$(pwd -P) || mb_cwd=
[ -n "$mb_cwd" ] || mb_die 2 "cannot read the current directory (removed, or moved out of reach? cd to one that exists)"
if [ -n "$mb_envs" ]; then
    mb_envs=$(mb_abs "$mb_envs")
elif [ -n "${PY_ENVS-}" ]; then
    # Never the current directory instead: the environment would land where the user did not say.
    [ -d "$PY_ENVS" ] || mb_die 2 "PY_ENVS names $(mb_abs "$PY_ENVS"), which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS"
    mb_envs=$(mb_abs "$PY_ENVS")
else
    mb_envs=$mb_cwd
fi
mb_prefix="${mb_envs%/}/$mb_envname"
case $mb_prefix in
    *\'*) mb_die 2 "prefix '$mb_prefix' contains the character \"'\": packages quote the prefix as '...' in their sh scripts; choose another path" ;;
    *[\"\$\`\\]*) mb_die 2 "prefix '$mb_prefix' contains one of \" \$ \` \\: entry points run the prefix through sh inside \"...\" (mambaboot's pathrules); choose another path" ;;
    *:*) mb_die 2 "prefix '$mb_prefix' contains ':', PATH's separator; choose another path" ;;
    *[[:cntrl:]]*) mb_die 2 "prefix contains a control character" ;;
esac

case $(uname -s) in
    Darwin) mb_os=osx ;;
    Linux) mb_os=linux ;;
    *) mb_die 2 "this script knows Linux and macOS; on Windows use bootstrap.bat or bootstrap.ps1" ;;
esac
mb_machine=$(uname -m | tr '[:upper:]' '[:lower:]')
case $mb_os-$mb_machine in
    osx-arm64 | osx-aarch64) mb_subdir=osx-arm64 ;;
    osx-*) mb_subdir=osx-64 ;;
    linux-x86_64 | linux-amd64) mb_subdir=linux-64 ;;
    *) mb_subdir=linux-$mb_machine ;;
esac

if [ -n "$mb_cache" ]; then
    mb_cache=$(mb_abs "$mb_cache")
else
    [ -n "${HOME-}" ] || mb_die 2 "HOME is not set; pass --cache-dir DIR"
    case $HOME in
        /*) ;;
        *) mb_die 2 "HOME is '$HOME', not an absolute path: the cache would land in the current directory; set HOME to your home directory or pass --cache-dir DIR" ;;
    esac
    if [ "$mb_os" = osx ]; then
        mb_cache=$HOME/Library/Caches/mambaboot
    else
        case ${XDG_CACHE_HOME-} in
            /*) mb_cache=$XDG_CACHE_HOME/mambaboot ;;
            *) mb_cache=$HOME/.cache/mambaboot ;;  # a relative one is ignored: the XDG Base Directory Specification
        esac
    fi
fi
mb_add_pkgs() { mb_pkgs=${mb_pkgs:+$mb_pkgs,}$(mb_abs "$1"); }
mb_pkgs=
mb_each "${CONDA_PKGS_DIRS-}" mb_add_pkgs
[ -n "$mb_pkgs" ] || mb_pkgs=$mb_cache/Python/pkgs
# libmamba parses CONDA_PKGS_DIRS as the YAML list "[VALUE]" (configuration_impl.hpp): the rule of
# mambaboot's pathrules.check_pkgs_dir (entries are absolute, so no leading indicator is possible).
case "$mb_pkgs" in
    *'['* | *']'* | *'{'* | *'}'* | *'#'* | *': '*)
        mb_die 2 "package cache $mb_pkgs holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS" ;;
esac

# ------------------------------------------------------------------ what runs, and the zipapp

if [ -n "$mb_mm_path" ]; then
    mb_kind=local
elif [ -n "$mb_mm_url" ]; then
    mb_kind=mirror
    mb_check_url --micromamba-url "$mb_mm_url"
    mb_url=$mb_mm_url
else
    mb_kind=release
    mb_version=${mb_mm_version:-$mb_pinned}
    mb_base=${MAMBABOOT_RELEASES_URL:-$mb_releases}
    while [ "${mb_base%/}" != "$mb_base" ]; do mb_base=${mb_base%/}; done
    mb_check_url MAMBABOOT_RELEASES_URL "$mb_base"
    if [ "$mb_version" = latest ]; then
        mb_url=$mb_base/latest/download/micromamba-$mb_subdir
    else
        printf '%s' "$mb_version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$' ||
            mb_die 2 "--micromamba-version '$mb_version' is not like 2.8.1, 2.8.1-0 or 'latest'"
        case $mb_version in *-*) ;; *) mb_version=$mb_version-0 ;; esac
        mb_url=$mb_base/download/$mb_version/micromamba-$mb_subdir
    fi
fi

# Without --zipapp: the one beside this script, else the one of the release this copy belongs to,
# a --zipapp URL whose digest is its line in the release's SHA256SUMS.
mb_sums=
if [ -z "$mb_zipapp" ]; then
    mb_zipapp=$(dirname "$0")/mambaboot.pyz
    if [ ! -f "$mb_zipapp" ] && [ -n "$mb_release" ]; then
        mb_check_url "this script's release" "$mb_release"
        mb_sums=$mb_release/SHA256SUMS
        mb_zipapp=$mb_release/mambaboot.pyz
    fi
fi
case $mb_zipapp in
    *://*) mb_check_url --zipapp "$mb_zipapp" ;;
    *) [ -f "$mb_zipapp" ] || mb_die 2 "mambaboot.pyz not found at $mb_zipapp (or not a regular file); put it beside this script, or pass --zipapp PATH|URL"
       mb_zipapp=$(mb_abs "$mb_zipapp") ;;
esac

mb_found=
for mb_var in CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV; do
    eval "mb_val=\${$mb_var-}"
    [ -z "$mb_val" ] || mb_found="$mb_found
  $mb_var=$mb_val"
done
[ -z "$mb_found" ] || mb_die 3 "this shell already has a Python environment in it:$mb_found
open a clean shell (or deactivate it)"

# Looked at only, so that nothing is downloaded for a run create surely refuses. A directory
# that is not empty is create's to judge, under the place's lock: a killed create's leftovers are
# its own to settle.
if [ -L "$mb_prefix" ]; then
    mb_die 4 "$mb_prefix is a symbolic link; give the real path of the environment instead"
elif [ -e "$mb_prefix" ] && [ ! -d "$mb_prefix" ]; then
    mb_die 4 "$mb_prefix is not a directory (a file, a fifo or a device); nothing was changed"
elif [ -f "$mb_prefix/.mambaboot/record.json" ]; then
    mb_die 4 "$mb_prefix holds an environment mambaboot manages; use mambaboot create --force to replace it"
fi

# ------------------------------------------------------------------ from here on, writes: the work directory only

# A random name of the form mambaboot's own temporaries have (common/files/tempname.py: 32
# lowercase hex digits): CACHE/tmp/mambaboot-tmp-TOKEN-bootstrap, and .NAME.mambaboot-tmp-TOKEN
# beside a download in the stores.
mb_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
case $mb_token in
    *[!0-9a-f]*) mb_token= ;;
esac
[ ${#mb_token} -eq 32 ] || mb_die 4 "cannot read 16 random bytes from /dev/urandom"
mkdir -p "$mb_cache/tmp" || mb_die 4 "cannot create the cache directory $mb_cache"
mkdir -m 700 "$mb_cache/tmp/mambaboot-tmp-$mb_token-bootstrap" || mb_die 4 "cannot write in $mb_cache/tmp"
mb_work=$mb_cache/tmp/mambaboot-tmp-$mb_token-bootstrap
mb_home=$mb_work/home
mkdir -p "$mb_home/tmp"

case $mb_zipapp in
    *://*)
        if [ -n "$mb_zipapp_sha" ]; then
            mb_zsha=$mb_zipapp_sha
        elif [ -n "$mb_sums" ]; then
            mb_zsha=$(mb_listed_digest "$mb_sums" mambaboot.pyz) || exit
        else
            mb_zsha=$(mb_published_digest "$mb_zipapp") || exit
        fi
        mb_zdir=$mb_cache/zipapp/$(printf '%.16s' "$mb_zsha")
        mkdir -p "$mb_zdir"
        if [ "$(mb_file_sha256 "$mb_zdir/mambaboot.pyz")" != "$mb_zsha" ]; then
            mb_fetch_verified "$mb_zipapp" "$mb_zdir" mambaboot.pyz "$mb_zsha"
        fi
        mb_zipapp=$mb_zdir/mambaboot.pyz ;;
esac

# ------------------------------------------------------------------ micromamba: the cache layout is create's

mb_how=cached
if [ "$mb_kind" = local ]; then
    mb_bin=$(mb_abs "$mb_mm_path")
    [ -f "$mb_bin" ] || mb_die 5 "micromamba not found at $mb_bin (or not a regular file)"
    [ -x "$mb_bin" ] || mb_die 5 "$mb_bin is not executable"
    mb_sha=$(mb_sha256 <"$mb_bin")
    [ -z "$mb_mm_sha" ] || [ "$mb_sha" = "$mb_mm_sha" ] ||
        mb_die 5 "$mb_bin has sha256 $mb_sha, not the expected $mb_mm_sha"
    mb_how=given
else
    # A pinned release never changes, so its version names its directory and its digest is
    # kept there; 'latest' and mirrors can change under one URL, so the digest names theirs.
    mb_sha=$mb_mm_sha
    mb_notes=
    if [ "$mb_kind" = release ] && [ "$mb_version" != latest ]; then
        mb_notes=$mb_cache/micromamba/$mb_version-$mb_subdir
        [ -n "$mb_sha" ] || [ ! -f "$mb_notes/sha256" ] || mb_sha=$(head -c 64 "$mb_notes/sha256")
        case $mb_sha in *[!0-9a-f]*) mb_sha= ;; esac
    fi
    [ -n "$mb_sha" ] || mb_sha=$(mb_published_digest "$mb_url") || exit
    [ -n "$mb_notes" ] ||
        mb_notes=$mb_cache/micromamba/$mb_kind-$(printf '%s' "$mb_url" | mb_sha256 | cut -c1-12)-$(printf '%.16s' "$mb_sha")
    mb_bin=$mb_notes/micromamba
    if [ "$(mb_file_sha256 "$mb_bin")" != "$mb_sha" ]; then
        mkdir -p "$mb_notes"
        mb_fetch_verified "$mb_url" "$mb_notes" micromamba "$mb_sha"
        printf '%s' "$mb_sha" >"$mb_notes/.sha256.mambaboot-tmp-$mb_token" &&
            mv -f "$mb_notes/.sha256.mambaboot-tmp-$mb_token" "$mb_notes/sha256"
        mb_how=downloaded
    fi
fi
mb_say "micromamba: $mb_bin ($mb_how, sha256 $(printf '%.12s' "$mb_sha"))"

# ------------------------------------------------------------------ the private Python, once, sandboxed

# The user's version, so that create finds its packages in the same cache; one mambaboot runs on.
mb_own=$mb_python
case $mb_python in
    [012] | [012].* | 3.[0-8] | 3.[0-8].*)
        mb_own=$mb_own_python
        mb_say "python: mambaboot runs on Python 3.9 or later: its private Python is $mb_own_python, the environment's $mb_python" ;;
esac
eval "set -- $mb_own_channels"
# The root prefix is private, shortcuts off: as create runs micromamba (engine/micromamba.py).
set -- "$mb_bin" create --yes --no-rc --override-channels "$@" --prefix "$mb_work/python" \
    --root-prefix "$mb_home/root" --no-shortcuts "python${mb_own:+=$mb_own}"
mb_sandboxed "$@" >"$mb_work/engine.log" 2>&1 || {
    mb_rc=$?
    tail -n 20 "$mb_work/engine.log" >&2  # micromamba's own words: what it could not solve or reach
    mb_die 6 "micromamba could not make the private Python (exit $mb_rc); nothing outside $mb_cache was changed"
}
[ -x "$mb_work/python/bin/python" ] || mb_die 7 "micromamba finished but $mb_work/python/bin/python is missing"
mb_say "python: private, in $mb_work"

# ------------------------------------------------------------------ hand-over: the rest is create's

eval "set -- $mb_channels $mb_packages"
[ -z "$mb_python" ] || set -- --python "$mb_python" "$@"
# -I: the user's PYTHON* variables and site directories stay out of mambaboot's own Python; the
# private Python is not put on PATH, so create's children never see it.
"$mb_work/python/bin/python" -I "$mb_zipapp" create "$mb_name" --envs-dir "$mb_envs" --cache-dir "$mb_cache" "$@" \
    --micromamba "$mb_bin" --micromamba-sha256 "$mb_sha"
mb_rc=$?
rm -rf "$mb_work"
mb_work=
[ "$mb_rc" -eq 0 ] || exit "$mb_rc"
mb_say "to use it: MAMBABOOT_ENV='$mb_prefix'; . \"\$MAMBABOOT_ENV/.mambaboot/activate.sh\""
