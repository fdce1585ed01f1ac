# shellcheck shell=bash
# Small helpers for scripts that run ChatGrains pieces on this machine: OS packages, a Release
# build, free loopback ports, a throwaway PostgreSQL (as the postgres OS user when root), an RSA
# signing key, waiting for a URL, stopping a process by PID. Sourced, not run; no global state:
# each function takes what it needs as arguments, so deploy/cluster.sh and bench/lib/*.sh can
# share it.
#
# LOG_TAG (default "deploy") prefixes log lines, which go to stderr.

LOG_TAG=${LOG_TAG:-deploy}

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$LOG_TAG" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

new_uuid() { cat /proc/sys/kernel/random/uuid; }

# ---------------------------------------------------------------------------------------
# OS packages

as_root() {
    if ((EUID == 0)); then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "root is needed to run: $*"
    fi
}

# apt_install PKG...: `apt-get update` is slow and usually unnecessary, so it only runs when
# the plain install fails (stale or empty package index).
apt_install() {
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 && return 0
    as_root apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

# The newest installed PostgreSQL server binaries (Debian keeps one folder per major version).
pg_bin_dir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then echo "$dir"; fi
    done | sort -V | tail -n 1
}

# ---------------------------------------------------------------------------------------
# Builds

# dotnet_build_release SOURCE_DIR PROJECT LOG [LABEL]: `dotnet build -c Release PROJECT` in
# SOURCE_DIR (the repository, or a worktree of another revision: LABEL says which in the log
# line), its output in LOG; on failure the log's tail goes to stderr and the script stops.
dotnet_build_release() {
    local dir=$1 project=$2 logfile=$3
    log "dotnet build -c Release $project${4:+ ($4)}"
    (cd "$dir" && dotnet build -c Release "$project" -nologo) >"$logfile" 2>&1 ||
        { tail -n 30 "$logfile" >&2; die "build failed (log: $logfile)"; }
}

# ---------------------------------------------------------------------------------------
# Ports and processes

# free_port: a loopback TCP port no socket uses. Ports are drawn below the kernel's ephemeral
# range, which busy machines fill with client connections (a port with only an outgoing
# connection on it looks free to a connect probe, yet bind fails). Another process may still
# take it before we bind it: callers retry with another port when a start fails.
free_port() {
    local low port _
    low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    ((low > 12000)) || low=32768
    for _ in $(seq 100); do
        port=$((10000 + RANDOM % (low - 10000)))
        if command -v ss >/dev/null; then
            # Any state (listening, connected, TIME_WAIT) on that local port makes it busy.
            [[ -z $(ss -Htan "sport = :$port" 2>/dev/null) ]] || continue
        elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        echo "$port"
        return 0
    done
    die "no free loopback port found"
}

# port_in_use PORT: true when something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null; }

# pid_is PID PATTERN: true when PID is alive and its command line matches PATTERN (an
# extended regex), so a recorded PID that the kernel has since given to another program is
# never signalled.
pid_is() {
    pid_alive "$1" || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -Eq -- "$2"
}

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS for the process to exit, then SIGKILL.
# Returns 0 when it exited on the TERM, 1 when it had to be killed.
stop_pid() {
    local pid=$1 seconds=$2 _
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq $((seconds * 4))); do
        pid_alive "$pid" || return 0
        sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 20); do
        pid_alive "$pid" || break
        sleep 0.1
    done
    return 1
}

# wait_http_ok URL SECONDS [PID]: 0 once URL answers 2xx; 1 after SECONDS, or as soon as PID
# (the server behind URL) has exited.
wait_http_ok() {
    local url=$1 seconds=$2 pid=${3:-} _
    for _ in $(seq $((seconds * 2))); do
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        if [[ -n $pid ]] && ! pid_alive "$pid"; then return 1; fi
        sleep 0.5
    done
    return 1
}

# ---------------------------------------------------------------------------------------
# PostgreSQL (a throwaway server from the local binaries)

# as_postgres DIR CMD...: runs CMD as the postgres OS user when we are root (initdb and the
# server refuse root), from DIR, a folder that user can read, so nothing complains about
# the caller's working directory.
as_postgres() {
    local dir=$1
    shift
    if ((EUID == 0)); then
        (cd "$dir" && runuser -u postgres -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

# pg_init PG_BIN DATA LOG: initdb into DATA (created here, mode 700, owned by the user that
# runs the server), trust auth, loopback TCP only and no unix socket. DATA's parent must be
# traversable by the postgres user: a folder from `mktemp -d` is mode 700, chmod it 755.
pg_init() {
    local bin=$1 data=$2 logfile=$3 parent
    parent=$(dirname "$data")
    mkdir -m 700 "$data"
    if ((EUID == 0)); then
        chown postgres: "$data"
        runuser -u postgres -- test -x "$data" ||
            die "the postgres user cannot reach $data: make every folder above it traversable (chmod o+x)"
    fi
    as_postgres "$parent" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$logfile" 2>&1 || { cat "$logfile" >&2; die "initdb failed (log: $logfile)"; }
    cat >>"$data/postgresql.conf" <<EOF

# --- deploy/lib.sh: loopback TCP only, no unix socket ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
EOF
}

# pg_start PG_BIN DATA PORT LOG [server options]: starts the server and waits until it
# accepts connections. LOG must be writable by the postgres user.
pg_start() {
    local bin=$1 data=$2 port=$3 logfile=$4
    shift 4
    as_postgres "$(dirname "$data")" "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
        -o "-p $port $*" start >/dev/null
}

# pg_stop PG_BIN DATA: fast shutdown (disconnects clients), immediate if that fails.
pg_stop() {
    local bin=$1 data=$2
    [[ -f $data/postmaster.pid ]] || return 0
    as_postgres "$(dirname "$data")" "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_postgres "$(dirname "$data")" "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1
}

# pg_postmaster_pid DATA: the server's PID from its pid file (empty when not running).
pg_postmaster_pid() { head -n 1 "$1/postmaster.pid" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------
# Keys

# gen_signing_key FILE: a fresh RSA-2048 private key (PEM, PKCS#8), mode 0600.
gen_signing_key() {
    (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null) ||
        die "openssl could not generate $1"
    chmod 600 "$1"
}
