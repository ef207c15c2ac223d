#!/bin/sh
# shellcheck disable=SC2030,SC2031  # mb_sandboxed changes its own subshell's environment only
# Only what needs no Python (docs/reference.md, 1.8): refuse a contaminated shell, obtain and verify micromamba (and the
# zipapp), make a private Python in a work directory of its own, hand over to `mambaboot create` on it (the place's lock,
# every input checked again, the rest), delete the work directory (killed, it leaves only that, which `cache clean` and
# `doctor` name). POSIX sh: dash, bash, zsh, busybox. Exit codes are create's (2 usage, 3 shell, 4 target, 5 micromamba
# or zipapp not obtained or verified, 6 micromamba failed, 7 no private Python), then create's own.

mb_pinned=2.8.1-0
mb_releases=https://github.com/mamba-org/micromamba-releases/releases
# The address of this copy's release: empty here; a release's copy names it (tools/build_release.py --release-url).
mb_release=

# Nothing it or create makes is writable by others, whatever the umask (a symbolic one only takes write away: POSIX).
umask go-w

mb_usage() {
    cat <<'EOF'
usage: bootstrap.sh [NAME] [PY_VERSION] [options]

Creates NAME_<PY_VERSION with _ for .> (default NAME: py) in --envs-dir, else $PY_ENVS, else the
current directory, by running `mambaboot.pyz create` on a private Python made with micromamba.

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

environment, as `mambaboot create` reads it: PY_ENVS, CONDA_PKGS_DIRS, MAMBABOOT_CHANNELS,
MAMBABOOT_MICROMAMBA, MAMBABOOT_RELEASES_URL (a mirror of the release tree), MAMBABOOT_HTTP_TIMEOUT,
MAMBABOOT_HTTP_DEADLINE (seconds) and MAMBABOOT_HTTP_MAX_BYTES (whole numbers).
EOF
}

mb_say() { printf '%s\n' "$*" >&2; }
mb_die() { mb_code=$1; shift; printf 'bootstrap: error: %s\n' "$*" >&2; exit "$mb_code"; }
mb_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }  # a word `eval` reads back as $1
# A URL as it may be shown: a user:password before the host masked (common/urlrule.py shows it so).
mb_shown() { printf '%s' "$1" | sed 's#\([A-Za-z][A-Za-z0-9+.-]*://\)[^/?# ]*@#\1***@#g'; }
mb_abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$mb_cwd" "$1" ;; esac; }
mb_hex() { case $1 in *[!0-9a-f]*) return 1 ;; esac; [ ${#1} -eq "$2" ]; }  # VALUE LENGTH

mb_check_value() {  # NAME VALUE: create refuses it too, but micromamba may see it first
    case $2 in
        -*) mb_die 2 "$1 value '$(mb_shown "$2")' starts with '-'" ;;
        *[[:cntrl:]]*) mb_die 2 "$1 value contains a control character" ;;
        *[![:space:]]*) ;;
        *) mb_die 2 "$1 needs a non-empty value" ;;
    esac
}

# The entries of a comma-separated list, one a line, trimmed, empty ones dropped: as conda reads CONDA_PKGS_DIRS and create MAMBABOOT_CHANNELS (common/locations.py).
mb_list() { printf '%s\n' "$1" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d'; }

mb_sha256() {  # of stdin
    if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -c1-64
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 | cut -c1-64
    else mb_die 5 "neither sha256sum nor shasum found: cannot verify a download"; fi
}

# VARIABLE DEFAULT: a whole number >= 1, the bound mambaboot's own downloads take from the same
# variable (engine/download.py); at most 18 digits, as the other two scripts take it.
mb_number() {
    mb_n=$2; eval "mb_n=\${$1-\$mb_n}"
    case $mb_n in '' | *[!0-9]* | 0* | ???????????????????*) mb_die 2 "$1='$mb_n' is not a whole number >= 1" ;; esac
    printf '%s' "$mb_n"
}

mb_check_url() {  # OPTION URL: https or file://, http only to loopback or with --allow-http (common/urlrule.py)
    case $2 in https://* | file://*) return 0 ;; http://*) ;; *) mb_die 2 "$1 '$(mb_shown "$2")' is not an https:// URL" ;; esac
    mb_host=${2#http://} && mb_host=${mb_host%%/*}
    case ${mb_host##*@} in \[::1\]* | localhost | localhost:* | 127.0.0.1 | 127.0.0.1:*) return 0 ;; esac
    [ -n "$mb_allow_http" ] || mb_die 2 "$1 '$(mb_shown "$2")' uses plain http; use https, or pass --allow-http if you trust the network"
}

# What an HTTP status says to do, in create's words (engine/download.py status_hint).
mb_status_hint() {
    case ${1%% *} in
        404 | 410) echo "the server has no such file: check --micromamba-version and the address (--micromamba-url, --zipapp, MAMBABOOT_RELEASES_URL)" ;;
        401 | 403 | 407) echo "the server or a proxy on the way refused it, as a company proxy or web filter does for a host it blocks: ask your network's administrators to allow the host (or for the proxy's user and password, given in HTTPS_PROXY), or get micromamba from a mirror you can reach with --micromamba-url" ;;
        429 | 5??) echo "the server is busy or failing: try again later, or use a mirror (--micromamba-url, MAMBABOOT_RELEASES_URL)" ;;
        *) echo "the server answered with an HTTP error, not the network: check --micromamba-version (a release that has micromamba-$mb_subdir), the mirror's URL, or --zipapp" ;;
    esac
}

# URL FILE: the body, or status 1 with the reason in mb_why. Bounded as mambaboot's downloads: MAMBABOOT_HTTP_TIMEOUT to connect, MAMBABOOT_HTTP_DEADLINE for an
# attempt, after which no retry starts (curl's --max-time, --retry-max-time: exit 28; wget under timeout(1) where there is one), MAMBABOOT_HTTP_MAX_BYTES: curl's
# --max-filesize refuses a longer Content-Length (exit 63), not before curl 8.4.0 a body without one (curl's manual), wget not at all: so head -c stops one byte past
# the bound, and the size decides. A redirect may not leave https (http too with --allow-http, as common/urlrule.py rules every hop; curl cannot tell loopback
# apart); wget only counts hops.
mb_fetch() {
    if command -v curl >/dev/null 2>&1; then
        set -- "$1" "$2" curl -fsSL --retry 3 --connect-timeout "$mb_connect" --max-time "$mb_deadline" \
            --retry-max-time "$mb_deadline" --max-filesize "$mb_max_bytes" --max-redirs 10 --proto-redir "=${mb_allow_http:+http,}https"
    elif command -v wget >/dev/null 2>&1; then
        set -- "$1" "$2" wget -q --timeout="$mb_connect" --tries=4 --max-redirect=10 -O -
        ! command -v timeout >/dev/null 2>&1 || set -- "$1" "$2" timeout "$mb_deadline" "$@"
    else
        mb_die 5 "neither curl nor wget found: cannot download $(mb_shown "$1")"
    fi
    mb_url_now=$1 mb_file=$2
    shift 2
    { "$@" "$mb_url_now" 2>"$mb_work/fetch.err"; echo $? >"$mb_work/fetch.rc"; } |
        head -c "$((mb_max_bytes + 1))" >"$mb_file"
    mb_rc=$(cat "$mb_work/fetch.rc") mb_err=$(tail -n 1 "$mb_work/fetch.err")
    if [ "$(wc -c <"$mb_file" | tr -d ' ')" -gt "$mb_max_bytes" ] || [ "$mb_rc" = 63 ]; then
        mb_why="it is larger than MAMBABOOT_HTTP_MAX_BYTES=$mb_max_bytes bytes; set MAMBABOOT_HTTP_MAX_BYTES to a larger number of bytes if it really is that large"
    elif [ "$mb_rc" = 28 ] || [ "$mb_rc" = 124 ]; then
        mb_why="$1 exit $mb_rc: no whole answer within MAMBABOOT_HTTP_DEADLINE=$mb_deadline seconds (MAMBABOOT_HTTP_TIMEOUT=$mb_connect seconds to connect); on a slow network set MAMBABOOT_HTTP_DEADLINE to more seconds"
    elif [ "$1" = curl ] && [ "$mb_rc" = 22 ]; then  # -f: every status from 400, named in curl's error (curl's manual, --fail)
        mb_why="$1 exit 22 ($(mb_shown "$mb_err")): $(mb_status_hint "${mb_err##*error: }")"
    elif [ "$mb_rc" != 0 ]; then
        mb_why="$1 exit $mb_rc $(mb_shown "$mb_err")"
    else
        return 0
    fi
    rm -f "$mb_file"; return 1
}

# URL DIGEST [SUMS]: DIGEST if given, else the one on the line of the checksum file SUMS naming exactly
# URL's file (sha256sum's "DIGEST  NAME", or "DIGEST *NAME"), else the first word of URL.sha256.
mb_digest() {
    [ -z "$2" ] || { printf '%s' "$2"; return 0; }
    mb_sums=${3:-$1.sha256}
    mb_fetch "$mb_sums" "$mb_work/sums" || mb_die 5 "could not read the published digest $(mb_shown "$mb_sums"): $mb_why
without it $(mb_shown "$1") cannot be verified; pass --micromamba-sha256 or --zipapp-sha256 if you know its digest"
    mb_d=$(tr -d '\r' <"$mb_work/sums" | awk -v name="${3:+${1##*/}}" 'name == "" || $2 == name || $2 == "*" name { print tolower($1); exit }')
    mb_hex "$mb_d" 64 || mb_die 5 "$(mb_shown "$mb_sums") has no sha256 line for ${1##*/}: it cannot be verified"
    printf '%s' "$mb_d"
}

# URL DIR NAME DIGEST: DIR/NAME, unless it is a regular file with that digest (a fifo is never
# opened), downloaded as .NAME.mambaboot-tmp-TOKEN beside it (mambaboot's collectors name it) and
# renamed once verified. No lock: two runs writing one store each rename a whole, verified file.
mb_obtain() {
    if [ -f "$2/$3" ] && [ "$(mb_sha256 <"$2/$3")" = "$4" ]; then return 0; fi
    mkdir -p "$2"; mb_tmp="$2/.$3.mambaboot-tmp-$mb_token"
    mb_fetch "$1" "$mb_tmp" || mb_die 5 "download of $(mb_shown "$1") failed: $mb_why; nothing was kept"
    mb_got=$(mb_sha256 <"$mb_tmp")
    [ "$mb_got" = "$4" ] || mb_die 5 "$(mb_shown "$1") does not match its published digest:
  expected sha256 $4
  downloaded      $mb_got
nothing was kept"
    chmod 755 "$mb_tmp" && mv -f "$mb_tmp" "$2/$3"
    mb_tmp='' mb_how=downloaded
}

mb_clean_path() {  # PATH without the entries of a Python environment (conda's layout, or a virtualenv)
    mb_path='' mb_sep='' mb_rest=$1:
    while [ -n "$mb_rest" ]; do
        mb_entry=${mb_rest%%:*} mb_rest=${mb_rest#*:}
        mb_e=$mb_entry
        while [ "$mb_e" != / ] && [ "${mb_e%/}" != "$mb_e" ]; do mb_e=${mb_e%/}; done
        for mb_sub in "" /bin /Scripts /condabin /Library/bin /Library/usr/bin /Library/mingw-w64/bin; do
            case $mb_e in *?"$mb_sub") mb_root=${mb_e%"$mb_sub"}
                if [ -d "$mb_root/conda-meta" ] || [ -f "$mb_root/pyvenv.cfg" ]; then continue 2; fi ;;
            esac
        done
        mb_path=$mb_path$mb_sep$mb_entry mb_sep=:
    done
    printf '%s' "$mb_path"
}

# Run "$@" as create runs micromamba: every conda/mamba/python variable gone, no other environment on PATH, a private HOME
# (and XDG and temp dirs) in the work directory; the network and machine settings create carries (engine/network.py), from
# the environment only (no rc files), and the user's credentials, which libmamba reads from HOME.
mb_sandboxed() (
    mb_ca=${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE-}}
    # libmamba reads MAMBA_SSL_VERIFY as YAML (Source<T>::deserialize,
    # libmamba/include/mamba/api/configuration_impl.hpp), which cuts a bare path at " #" and
    # stops on a leading @: in single quotes YAML reads every character back, a quote twice.
    if [ -z "${MAMBA_SSL_VERIFY-}${MAMBA_CACERT_PATH-}" ] && [ -n "$mb_ca" ]; then
        MAMBA_SSL_VERIFY=$(printf '%s\n' "$mb_ca" | sed "s/'/''/g; s/^/'/; s/\$/'/"); export MAMBA_SSL_VERIFY
    fi
    [ -n "${NETRC-}" ] || [ ! -f "${HOME-}/.netrc" ] || export NETRC="$HOME/.netrc"
    [ ! -f "${HOME-}/.mamba/auth/authentication.json" ] ||
        { mkdir -p "$mb_home/.mamba/auth" && cp "$HOME/.mamba/auth/authentication.json" "$mb_home/.mamba/auth/"; }
    for mb_name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
        case $mb_name in
            MAMBA_SSL_VERIFY | MAMBA_CACERT_PATH | MAMBA_SSL_NO_REVOKE | MAMBA_CHANNEL_ALIAS | CONDA_OVERRIDE_*) ;;
            CONDA_* | MAMBA_* | PYTHON* | _CE_* | __CONDA* | VIRTUAL_ENV* | _MAMBABOOT_* | CONDARC | MAMBARC) unset "$mb_name" ;;
        esac
    done
    PATH=$(mb_clean_path "${PATH-}")
    export PATH HOME="$mb_home" XDG_CONFIG_HOME="$mb_home/.config" XDG_CACHE_HOME="$mb_home/.cache" \
        XDG_DATA_HOME="$mb_home/.local/share" XDG_STATE_HOME="$mb_home/.local/state" \
        TMPDIR="$mb_home/tmp" TEMP="$mb_home/tmp" TMP="$mb_home/tmp" CONDA_PKGS_DIRS="$mb_pkgs"
    exec "$@" </dev/null
)

# The work directory is this run's alone (made by it, under a random name): deleted whatever the outcome, the hand-over's included.
mb_cleanup() { [ -z "$mb_tmp" ] || rm -f "$mb_tmp"; [ -z "$mb_work" ] || rm -rf "$mb_work"; }
mb_work='' mb_tmp='' mb_name=py mb_python='' mb_npos=0 mb_allow_http='' mb_envs='' mb_cache='' mb_zipapp='' mb_zipapp_sha=''
trap mb_cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
trap 'exit 129' HUP  # the terminal closed (ignored under nohup: a trap cannot undo that in sh)
mb_channels='' mb_packages=''  # -c words the user gave (for micromamba and create), --package words (for create)
mb_mm_path=${MAMBABOOT_MICROMAMBA-} mb_mm_version='' mb_mm_url='' mb_mm_sha=''
while [ $# -gt 0 ]; do
    case $1 in
        --*=*) mb_opt=${1%%=*} mb_val=${1#*=}; shift; set -- "$mb_opt" "$mb_val" "$@"; continue ;;
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
        --zipapp) mb_zipapp=$2 ;;
        --micromamba-sha256 | --zipapp-sha256)
            mb_d=$(printf '%s' "$2" | tr 'A-F' 'a-f' | tr -d ' \t')
            mb_hex "$mb_d" 64 || mb_die 2 "$1 '$2' is not a sha256 hex digest"
            if [ "$1" = --zipapp-sha256 ]; then mb_zipapp_sha=$mb_d; else mb_mm_sha=$mb_d; fi ;;
        *) mb_npos=$((mb_npos + 1))
            case $mb_npos in 1) mb_name=$1 ;; 2) mb_python=$1 ;; *) mb_die 2 "unexpected argument '$1': give at most NAME and PY_VERSION" ;; esac
            shift
            continue ;;
    esac
    shift 2
done

# Checks that write nothing, in create's order: the inputs (2), the shell (3), the target (4); only
# what this script uses itself or must refuse before any download: create checks them all again.
mb_connect=$(mb_number MAMBABOOT_HTTP_TIMEOUT 30) || exit
mb_deadline=$(mb_number MAMBABOOT_HTTP_DEADLINE 1800) || exit
mb_max_bytes=$(mb_number MAMBABOOT_HTTP_MAX_BYTES 268435456) || exit
# MAMBA_SSL_NO_REVOKE as a boolean, whatever its spelling (engine/network.py flag): libmamba reads it as YAML, where 1 and 0
# are no booleans and stop micromamba (Configurable::compute, libmamba/include/mamba/api/configuration.hpp; yaml-cpp's
# convert<bool>::decode), and raw in get_env_remote_params (download/downloader.cpp), where anything but 0, false included,
# turns the check off: so it goes on as true or not at all.
case $(printf '%s' "${MAMBA_SSL_NO_REVOKE-}" | tr '[:upper:]' '[:lower:]') in
    y | yes | true | on | 1) export MAMBA_SSL_NO_REVOKE=true ;;
    '' | n | no | false | off | 0) unset MAMBA_SSL_NO_REVOKE ;;
    *) mb_die 2 "MAMBA_SSL_NO_REVOKE='$MAMBA_SSL_NO_REVOKE' is neither true nor false: set it to true or false" ;;
esac
for mb_var in REQUESTS_CA_BUNDLE SSL_CERT_FILE; do  # what mb_sandboxed hands micromamba
    eval "mb_ca=\${$mb_var-}"
    case $mb_ca in *[[:cntrl:]]*) mb_die 2 "$mb_var holds a control character, which micromamba cannot read back" ;; esac
done
# The private Python: PY_VERSION (micromamba gets python=VERSION: 3, 3.12 or 3.12.4, as create takes it), so that create
# finds its packages in the same cache; or, older than mambaboot runs on (3.9), a pinned 3.12, so that a run is reproducible.
mb_own=$mb_python
case $mb_python in
    *[!0-9.]* | .* | *. | *..* | *.*.*.*) mb_die 2 "--python '$mb_python' is not a version; give one like 3.12 or 3.12.4" ;;
    [012] | [012].* | 3.[0-8] | 3.[0-8].*) mb_own=3.12 ;;
esac
# ... from the channels the environment will come from: -c, else MAMBABOOT_CHANNELS, else
# conda-forge; without -c, create reads MAMBABOOT_CHANNELS itself (it gets this environment).
mb_own_channels=$mb_channels
[ -n "$mb_channels" ] || mb_own_channels=$(mb_list "${MAMBABOOT_CHANNELS-}" | while IFS= read -r mb_c; do
    mb_check_value MAMBABOOT_CHANNELS "$mb_c"; printf ' -c %s' "$(mb_quote "$mb_c")"; done) || exit
[ -n "$mb_own_channels" ] || mb_own_channels="-c conda-forge"

# dash's pwd prints nothing and succeeds when the directory was removed: the prefix would be /NAME.
mb_cwd=$(pwd -P) || mb_cwd=''
[ -n "$mb_cwd" ] || mb_die 2 "cannot read the current directory (removed, or moved out of reach? cd to one that exists)"
if [ -z "$mb_envs" ] && [ -n "${PY_ENVS-}" ]; then  # never the current directory instead: not where the user said
    [ -d "$PY_ENVS" ] || mb_die 2 "PY_ENVS names $(mb_abs "$PY_ENVS"), which is not a directory (it does not exist, or is a file); create it, give --envs-dir, or unset PY_ENVS"
    mb_envs=$PY_ENVS
fi
mb_envs=$(mb_abs "${mb_envs:-$mb_cwd}")
mb_prefix="${mb_envs%/}/$mb_name${mb_python:+_$(printf '%s' "$mb_python" | tr . _)}"
case $mb_prefix in  # create's rule (common/prefixchars.py), said before any download
    *\'*) mb_die 2 "prefix '$mb_prefix' contains the character \"'\": packages quote the prefix as '...' in their sh scripts; choose another path" ;;
    *[\"\$\`\\]*) mb_die 2 "prefix '$mb_prefix' contains one of \" \$ \` \\: entry points run the prefix through sh inside \"...\" (mambaboot's pathrules); choose another path" ;;
    *:*) mb_die 2 "prefix '$mb_prefix' contains ':', PATH's separator; choose another path" ;;
    *[[:cntrl:]]*) mb_die 2 "prefix contains a control character" ;;
esac

case $(uname -s)-$(uname -m) in
    Darwin-arm64 | Darwin-aarch64) mb_subdir=osx-arm64 ;;
    Darwin-*) mb_subdir=osx-64 ;;
    Linux-x86_64 | Linux-amd64) mb_subdir=linux-64 ;;
    Linux-*) mb_subdir=linux-$(uname -m) ;;
    *) mb_die 2 "this script knows Linux and macOS; on Windows use bootstrap.bat or bootstrap.ps1" ;;
esac

if [ -z "$mb_cache" ]; then
    case ${HOME-} in
        /*) mb_cache=$HOME/.cache/mambaboot ;;
        '') mb_die 2 "HOME is not set; pass --cache-dir DIR" ;;
        *) mb_die 2 "HOME is '$HOME', not an absolute path: the cache would land in the current directory; set HOME to your home directory or pass --cache-dir DIR" ;;
    esac
    case ${XDG_CACHE_HOME-} in /*) mb_cache=$XDG_CACHE_HOME/mambaboot ;; esac  # a relative one is ignored (XDG Base Directory Specification)
    [ "${mb_subdir%-*}" != osx ] || mb_cache=$HOME/Library/Caches/mambaboot
fi
mb_cache=$(mb_abs "$mb_cache")
mb_pkgs=$(mb_list "${CONDA_PKGS_DIRS-}" | while IFS= read -r mb_d; do mb_abs "$mb_d"; echo; done | paste -sd, -)
[ -n "$mb_pkgs" ] || mb_pkgs=$mb_cache/Python/pkgs
# libmamba parses CONDA_PKGS_DIRS as the YAML list "[VALUE]" (configuration_impl.hpp): the rule of
# mambaboot's pathrules.check_pkgs_dir (entries are absolute, so no leading indicator is possible).
case "$mb_pkgs" in
    *'['* | *']'* | *'{'* | *'}'* | *'#'* | *': '*)
        mb_die 2 "package cache $mb_pkgs holds [ ] { } # or ': ', which micromamba misreads in CONDA_PKGS_DIRS; choose another --cache-dir or CONDA_PKGS_DIRS" ;;
esac

if [ -n "$mb_mm_path" ]; then
    mb_kind=local
elif [ -n "$mb_mm_url" ]; then
    mb_kind=mirror mb_url=$mb_mm_url
    mb_check_url --micromamba-url "$mb_url"
else
    mb_kind=release mb_version=${mb_mm_version:-$mb_pinned} mb_base=${MAMBABOOT_RELEASES_URL:-$mb_releases}
    while [ "${mb_base%/}" != "$mb_base" ]; do mb_base=${mb_base%/}; done
    mb_check_url MAMBABOOT_RELEASES_URL "$mb_base"
    if [ "$mb_version" = latest ]; then
        mb_url=$mb_base/latest/download/micromamba-$mb_subdir
    else  # the version names a directory of the cache
        printf '%s' "$mb_version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$' ||
            mb_die 2 "--micromamba-version '$mb_version' is not like 2.8.1, 2.8.1-0 or 'latest'"
        case $mb_version in *-*) ;; *) mb_version=$mb_version-0 ;; esac
        mb_url=$mb_base/download/$mb_version/micromamba-$mb_subdir
    fi
fi

# Without --zipapp: the one beside this script, else the one of the release this copy belongs to,
# a --zipapp URL whose digest is its line in the release's SHA256SUMS.
mb_sums=''
if [ -z "$mb_zipapp" ]; then
    mb_zipapp=$(dirname "$0")/mambaboot.pyz
    if [ ! -f "$mb_zipapp" ] && [ -n "$mb_release" ]; then
        mb_check_url "this script's release" "$mb_release"
        mb_sums=$mb_release/SHA256SUMS mb_zipapp=$mb_release/mambaboot.pyz
    fi
fi
case $mb_zipapp in
    *://*) mb_check_url --zipapp "$mb_zipapp" ;;
    *) [ -f "$mb_zipapp" ] || mb_die 2 "mambaboot.pyz not found at $mb_zipapp (or not a regular file); put it beside this script, or pass --zipapp PATH|URL"
       mb_zipapp=$(mb_abs "$mb_zipapp") ;;
esac

mb_found=''
for mb_var in CONDA_PREFIX CONDA_SHLVL CONDA_DEFAULT_ENV PYTHONHOME PYTHONPATH PYTHON_ENVS VIRTUAL_ENV; do
    eval "mb_val=\${$mb_var-}"
    [ -z "$mb_val" ] || mb_found="$mb_found
  $mb_var=$mb_val"
done
[ -z "$mb_found" ] || mb_die 3 "this shell already has a Python environment in it:$mb_found
open a clean shell (or deactivate it)"

# Looked at only, so that nothing is downloaded for a run create surely refuses: anything but a
# directory, or an environment mambaboot manages. Any other directory is create's to judge, under
# the place's lock (a killed create's leftovers are its own to settle).
if [ -L "$mb_prefix" ] || { [ -e "$mb_prefix" ] && [ ! -d "$mb_prefix" ]; }; then
    mb_die 4 "$mb_prefix is not a directory (a symbolic link, a file, a fifo or a device); nothing was changed"
elif [ -f "$mb_prefix/.mambaboot/record.json" ]; then
    mb_die 4 "$mb_prefix holds an environment mambaboot manages; use mambaboot create --force to replace it"
fi

# From here on, writes, under a random name of the form mambaboot's temporaries have (32 lowercase
# hex digits, common/files/tempname.py): the work directory, and a download beside its file.
mb_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mb_hex "$mb_token" 32 || mb_die 4 "cannot read 16 random bytes from /dev/urandom"
mkdir -p "$mb_cache/tmp" || mb_die 4 "cannot create the cache directory $mb_cache"
mkdir -m 700 "$mb_cache/tmp/mambaboot-tmp-$mb_token-bootstrap" || mb_die 4 "cannot write in $mb_cache/tmp"
mb_work=$mb_cache/tmp/mambaboot-tmp-$mb_token-bootstrap
mb_home=$mb_work/home
mkdir -p "$mb_home/tmp"

if [ "${mb_zipapp#*://}" != "$mb_zipapp" ]; then
    mb_zsha=$(mb_digest "$mb_zipapp" "$mb_zipapp_sha" "$mb_sums") || exit
    mb_obtain "$mb_zipapp" "$mb_cache/zipapp/$(printf '%.16s' "$mb_zsha")" mambaboot.pyz "$mb_zsha"
    mb_zipapp=$mb_cache/zipapp/$(printf '%.16s' "$mb_zsha")/mambaboot.pyz
fi

mb_how=cached  # micromamba, in create's cache layout
if [ "$mb_kind" = local ]; then
    mb_bin=$(mb_abs "$mb_mm_path")
    if [ ! -f "$mb_bin" ] || [ ! -x "$mb_bin" ]; then mb_die 5 "micromamba not found at $mb_bin (or not an executable regular file)"; fi
    mb_sha=$(mb_sha256 <"$mb_bin") mb_how=given
    [ -z "$mb_mm_sha" ] || [ "$mb_sha" = "$mb_mm_sha" ] || mb_die 5 "$mb_bin has sha256 $mb_sha, not the expected $mb_mm_sha"
else
    # A pinned release never changes, so its version names its directory and its digest is
    # kept there; 'latest' and mirrors can change under one URL, so the digest names theirs.
    mb_sha=$mb_mm_sha mb_notes=''
    if [ "$mb_kind" = release ] && [ "$mb_version" != latest ]; then
        mb_notes=$mb_cache/micromamba/$mb_version-$mb_subdir
        [ -n "$mb_sha" ] || [ ! -f "$mb_notes/sha256" ] || mb_sha=$(head -c 64 "$mb_notes/sha256")
        mb_hex "$mb_sha" 64 || mb_sha=''
    fi
    mb_sha=$(mb_digest "$mb_url" "$mb_sha") || exit
    [ -n "$mb_notes" ] ||
        mb_notes=$mb_cache/micromamba/$mb_kind-$(printf '%s' "$mb_url" | mb_sha256 | cut -c1-12)-$(printf '%.16s' "$mb_sha")
    mb_bin=$mb_notes/micromamba
    mb_obtain "$mb_url" "$mb_notes" micromamba "$mb_sha"
    [ "$mb_how" != downloaded ] || { printf '%s' "$mb_sha" >"$mb_notes/.sha256.mambaboot-tmp-$mb_token" &&
        mv -f "$mb_notes/.sha256.mambaboot-tmp-$mb_token" "$mb_notes/sha256"; }
fi
mb_say "micromamba: $mb_bin ($mb_how, sha256 $(printf '%.12s' "$mb_sha"))"

[ "$mb_own" = "$mb_python" ] ||
    mb_say "python: mambaboot runs on Python 3.9 or later: its private Python is $mb_own, the environment's $mb_python"
eval "set -- $mb_own_channels"
# The root prefix is private, shortcuts off: as create runs micromamba (engine/micromamba.py).
set -- "$mb_bin" create --yes --no-rc --override-channels "$@" --prefix "$mb_work/python" \
    --root-prefix "$mb_home/root" --no-shortcuts "python${mb_own:+=$mb_own}"
mb_sandboxed "$@" >"$mb_work/engine.log" 2>&1 || {
    mb_rc=$?; tail -n 20 "$mb_work/engine.log" >&2  # micromamba's own words: what it could not solve or reach
    mb_die 6 "micromamba could not make the private Python (exit $mb_rc); nothing outside $mb_cache was changed"
}
[ -x "$mb_work/python/bin/python" ] || mb_die 7 "micromamba finished but $mb_work/python/bin/python is missing"
mb_say "python: private, in $mb_work"

# The hand-over; create's exit code is the script's. -I: the user's PYTHON* variables and site
# directories stay out of mambaboot's own Python, which is not on PATH: create's children never see it.
eval "set -- $mb_channels $mb_packages"
[ -z "$mb_python" ] || set -- --python "$mb_python" "$@"
"$mb_work/python/bin/python" -I "$mb_zipapp" create "$mb_name" --envs-dir "$mb_envs" --cache-dir "$mb_cache" "$@" \
    --micromamba "$mb_bin" --micromamba-sha256 "$mb_sha" || exit
mb_say "to use it: MAMBABOOT_ENV='$mb_prefix'; . \"\$MAMBABOOT_ENV/.mambaboot/activate.sh\""
