# Helpers sourced by the project's scripts: bring up what the system needs on a bare machine,
# and stop what they started when the calling script exits.
#
#   ensure_postgres  -> exports DATABASE_URL (admin database of a reachable server)
#   ensure_sqs       -> exports AWS_ENDPOINT_URL_SQS (and AWS_ENDPOINT_URL_SESV2) and dummy credentials for moto's server
#   ensure_pgbouncer -> exports PGBOUNCER_URL: Debian's PgBouncer in session mode in front of DATABASE_URL

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${GEMZ_STATE_DIR:-$ROOT/.local}"
mkdir -p "$STATE_DIR"
_CLEANUPS=()

_cleanup() {
    local i
    for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_CLEANUPS[$i]}" || true; done
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Every server started here is recorded in $STATE_DIR/children (moto-PID, or postgres-PID holding
# the cluster's folder, then the starter's pid) until it is stopped, in the format `local serve`
# uses (local/src/procs.rs): a run that was killed outright cannot clean up, so the next start
# stops what it left, unless its starter still runs.
_record() { # kind pid note
    mkdir -p "$STATE_DIR/children"
    printf '%s\n%s\n' "$3" "$$" >"$STATE_DIR/children/$1-$2"
}
_runs() { # pid marker
    [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' </proc/"$1"/cmdline | grep -q -- "$2"
}
_reap_leftovers() {
    local f name kind pid note
    for f in "$STATE_DIR"/children/*; do
        [[ -e "$f" ]] || continue
        name=$(basename "$f") kind=${name%-*} pid=${name##*-}
        note=$(sed -n 1p "$f") owner=$(sed -n 2p "$f")
        # Still owned by a running script (this one's caller, say): not a leftover.
        [[ -n "$owner" && "$owner" != "$$" ]] && kill -0 "$owner" 2>/dev/null && continue
        case "$kind" in
        moto) _runs "$pid" moto.server && { log "stopping moto (pid $pid) left by an earlier run"; kill "$pid" 2>/dev/null || true; } ;;
        pgbouncer) _runs "$pid" pgbouncer && { log "stopping PgBouncer (pid $pid) left by an earlier run"; kill "$pid" 2>/dev/null || true; } ;;
        postgres) _runs "$pid" postgres && { log "stopping PostgreSQL (pid $pid) left by an earlier run"; kill -QUIT "$pid" 2>/dev/null || true; } ;;
        esac
        for _ in $(seq 1 100); do _runs "$pid" "" || break; sleep 0.1; done
        _runs "$pid" "" && kill -KILL "$pid" 2>/dev/null || true
        [[ ( "$kind" == postgres || "$kind" == pgbouncer ) && "$note" == *gemz-pg* ]] && rm -rf "$note"
        rm -f "$f"
    done
}

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

_pg_accepts() { # url
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=3 psql "$1" -qtAc 'SELECT 1' >/dev/null 2>&1
    else
        return 1
    fi
}

_pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        log "installing PostgreSQL server binaries (Debian packages)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq postgresql >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$bin"
}

# Uses DATABASE_URL when set, else a server on 127.0.0.1:5432, else starts a private throwaway
# cluster (stopped on exit). GEMZ_PRIVATE_PG=1 skips the shared server.
ensure_postgres() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        log "PostgreSQL: using DATABASE_URL"
        return
    fi
    local local_url="postgres://postgres@127.0.0.1:5432/postgres"
    if [[ -z "${GEMZ_PRIVATE_PG:-}" ]] && _pg_accepts "$local_url"; then
        log "PostgreSQL: using the server on 127.0.0.1:5432"
        export DATABASE_URL="$local_url"
        return
    fi
    local bin dir port base="${TMPDIR:-/tmp}" runas=()
    port=$(_free_port)
    bin=$(_pg_bin)
    # As root the server runs as `postgres`, which must reach its folder: never the checkout (it
    # may sit in a private folder), and $TMPDIR only when that user can write there.
    if [[ $(id -u) -eq 0 ]]; then
        runas=(runuser -u postgres --)
        runuser -u postgres -- test -w "$base" || base=/tmp
    fi
    dir=$(mktemp -d "$base/gemz-pg.XXXXXX")
    [[ ${#runas[@]} -gt 0 ]] && chown postgres:postgres "$dir"
    log "PostgreSQL: starting a private cluster on 127.0.0.1:$port ($dir)"
    "${runas[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
    "${runas[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
    local pid
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    _record postgres "$pid" "$dir"
    _CLEANUPS+=("${runas[*]} $bin/pg_ctl -D $dir/data -m fast stop >/dev/null; rm -rf $dir; rm -f $STATE_DIR/children/postgres-$pid")
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export GEMZ_PG_CTL="${runas[*]} $bin/pg_ctl -D $dir/data -l $dir/server.log"
}

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Uses AWS_ENDPOINT_URL_SQS when set, else starts moto's server on a free port (stopped on exit).
ensure_sqs() {
    export AWS_REGION="${AWS_REGION:-us-east-1}"
    if [[ -n "${AWS_ENDPOINT_URL_SQS:-}" ]]; then
        log "SQS: using $AWS_ENDPOINT_URL_SQS"
        export AWS_ENDPOINT_URL_SESV2="${AWS_ENDPOINT_URL_SESV2:-$AWS_ENDPOINT_URL_SQS}"
        export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-$AWS_ENDPOINT_URL_SQS}"
        return
    fi
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
    if ! python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1; then
        log "installing moto[server] (PyPI)"
        python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
    fi
    local port
    port=$(_free_port)
    log "SQS: starting moto's server on 127.0.0.1:$port"
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$STATE_DIR/moto.log" 2>&1 &
    local pid=$!
    _record moto "$pid" ""
    _CLEANUPS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f $STATE_DIR/children/moto-$pid")
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" >/dev/null 2>&1; then
            export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$port"
            # The same server speaks SES v2 (the emails) and S3 (large exports).
            export AWS_ENDPOINT_URL_SESV2="${AWS_ENDPOINT_URL_SESV2:-$AWS_ENDPOINT_URL_SQS}"
            export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-$AWS_ENDPOINT_URL_SQS}"
            return
        fi
        sleep 0.1
    done
    cat "$STATE_DIR/moto.log" >&2
    echo "moto's server did not start" >&2
    return 1
}

# Starts Debian's PgBouncer (installed when missing) on a free port in front of DATABASE_URL's
# server, in session mode, trusting local clients; stopped on exit. Exports PGBOUNCER_URL (the
# same database through the pooler).
ensure_pgbouncer() {
    local bin=/usr/sbin/pgbouncer
    if [[ ! -x "$bin" ]]; then
        log "installing PgBouncer (Debian package)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq pgbouncer >/dev/null
    fi
    local host port user db listen dir base="${TMPDIR:-/tmp}" runas=()
    read -r host port user db < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", (u.path or "/postgres").lstrip("/") or "postgres")
' "$DATABASE_URL")
    listen=$(_free_port)
    if [[ $(id -u) -eq 0 ]]; then
        runas=(runuser -u postgres --)
        runuser -u postgres -- test -w "$base" || base=/tmp
    fi
    dir=$(mktemp -d "$base/gemz-pgbouncer.XXXXXX")
    printf '"%s" ""\n' "$user" >"$dir/users.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = session
admin_users = $user
max_client_conn = 1000
default_pool_size = 100
logfile = $dir/pgbouncer.log
INI
    [[ ${#runas[@]} -gt 0 ]] && chown -R postgres "$dir"
    log "PgBouncer: starting $("$bin" --version | head -n 1) in session mode on 127.0.0.1:$listen"
    "${runas[@]}" "$bin" "$dir/pgbouncer.ini" >/dev/null 2>&1 &
    local pid=$!
    _record pgbouncer "$pid" "$dir"
    _CLEANUPS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $dir; rm -f $STATE_DIR/children/pgbouncer-$pid")
    local url="postgres://$user@127.0.0.1:$listen/$db"
    for _ in $(seq 1 100); do
        if _pg_accepts "$url"; then
            export PGBOUNCER_URL="$url"
            return
        fi
        sleep 0.1
    done
    cat "$dir/pgbouncer.log" >&2 || true
    echo "PgBouncer did not start" >&2
    return 1
}

_reap_leftovers
