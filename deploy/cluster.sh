#!/usr/bin/env bash
# A local ChatGrains cluster on loopback: PostgreSQL, N nodes (Release build) and nginx in
# front of them. Everything it starts is recorded by PID in the state folder, and `down`
# stops exactly those processes. The benchmarks (bench/run.sh) start what they measure with it.
#
#   deploy/cluster.sh up [options]    start (refuses while a cluster is up)
#   deploy/cluster.sh restart [--dll PATH]   stop the nodes and start new ones on the same
#                                     PostgreSQL (its data kept), nginx reloaded onto them
#   deploy/cluster.sh status          PIDs alive? /health/ready of each node and through nginx
#   deploy/cluster.sh token [ROLE] [SUB] [--lifetime [d.]hh:mm:ss]   print a token signed with
#                                     the cluster's key (admin, a random SUB, one hour)
#   deploy/cluster.sh down            stop everything it started, remove the state folder
#
# Options of `up`, each also a setting in the environment (an option wins):
#   --nodes N          NODES=3        number of nodes
#   --no-nginx         NO_NGINX=1     no balancer: the nodes only (cluster.env's LB_URL is empty)
#   --dll PATH         NODE_DLL       the node build to run (e.g. another revision's ApiGateway.dll),
#                                     used as it is; without it the Release build of this tree,
#                                     built first
#   --pool N           NODE_POOL=30   each node's connection pool (Npgsql Maximum Pool Size)
#   --pg-setting NAME=VALUE           a line for the throwaway server's postgresql.conf, e.g.
#                      PG_SETTINGS    synchronous_commit=off; repeatable (PG_SETTINGS: "a=1;b=2")
#   --conn-extra 'Key=Value;...'      Npgsql settings appended to the nodes' connection string
#                      CONN_EXTRA
# Other settings (environment):
#   LB_PORT              nginx's loopback port (default: a free one)
#   STATE_DIR            state folder (default deploy/.state): logs, key, PostgreSQL data, cluster.env
#   CHATGRAINS_PG        an existing PostgreSQL (Npgsql connection string): used as is, never
#                        started or stopped by this script
#   SKIP_BUILD=1         use the existing Release build instead of running `dotnet build`
# Any other node setting: put it in the environment of `up` (or `restart`) in ASP.NET's form
# (`:` written `__`); the nodes inherit it, e.g. `RateLimiting__Enabled=false deploy/cluster.sh up`
# for a benchmark from one client IP. The script sets only ConnectionStrings__ChatGrains,
# Jwt__SigningKeyPath, ForwardedHeaders__KnownProxies__0 and the Orleans ports itself (those
# override yours).
#
# `up` writes $STATE_DIR/cluster.env for scripts: LB_URL NGINX_PID NODES NODE_URLS NODE_PIDS
# PG_CONN PG_PID PG_PORT PG_BIN PG_STARTED SIGNING_KEY NODE_DLL NODE_POOL NGINX_CONF LOG_DIR
# (node i logs to $LOG_DIR/nodes/node-i.log, PostgreSQL to $LOG_DIR/postgres/server.log).
set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$DEPLOY_DIR")
LOG_TAG=cluster
# shellcheck source=deploy/lib.sh
source "$DEPLOY_DIR/lib.sh"

NODES=${NODES:-3}
NO_NGINX=${NO_NGINX:-0}
LB_PORT=${LB_PORT:-}
STATE_DIR=${STATE_DIR:-$DEPLOY_DIR/.state}
SKIP_BUILD=${SKIP_BUILD:-0}
# This tree's Release build, unless the caller names another build (which is then not built).
RELEASE_DLL=$ROOT/ApiGateway/bin/Release/net10.0/ApiGateway.dll
NODE_DLL=${NODE_DLL:-}
# Per-node connection pool cap; the throwaway server gets room for all of them.
NODE_POOL=${NODE_POOL:-30}
IFS=';' read -ra PG_SETTINGS <<<"${PG_SETTINGS:-}"
CONN_EXTRA=${CONN_EXTRA:-}
TOKEN_LIFETIME=""
ARGS=()               # what is left of the command line once the options are read
# A node drains in-flight requests for Cluster:ShutdownTimeout (10 s) after SIGTERM.
NODE_STOP_SECONDS=20

# The state folder, absolute (the nodes and nginx run from other folders).
mkdir -p "$(dirname "$STATE_DIR")"
STATE_DIR=$(cd "$(dirname "$STATE_DIR")" && pwd)/$(basename "$STATE_DIR")
ENV_FILE=$STATE_DIR/cluster.env
KEY_FILE=$STATE_DIR/jwt-signing-key.pem
PG_DIR=$STATE_DIR/postgres          # owned by the postgres user when we are root
PG_DATA=$PG_DIR/data
NODES_DIR=$STATE_DIR/nodes          # node-<i>.log, node-<i>.pid, node-<i>.url
NGINX_DIR=$STATE_DIR/nginx          # nginx.conf, nginx.pid, logs, temp folders

NODE_PATTERN='ApiGateway\.dll'
NGINX_PATTERN='^nginx'

# ---------------------------------------------------------------------------------------
# Options

# parse_options ARGS...: the options of the header into their settings, the rest into ARGS.
parse_options() {
    while (($#)); do
        case $1 in
            --nodes | --dll | --pool | --pg-setting | --conn-extra | --lifetime)
                (($# >= 2)) || die "$1 needs a value"
                case $1 in
                    --nodes) NODES=$2 ;;
                    --dll) NODE_DLL=$2 ;;
                    --pool) NODE_POOL=$2 ;;
                    --pg-setting) PG_SETTINGS+=("$2") ;;
                    --conn-extra) CONN_EXTRA=$2 ;;
                    --lifetime) TOKEN_LIFETIME=$2 ;;
                esac
                shift 2
                ;;
            --no-nginx) NO_NGINX=1; shift ;;
            -*) die "unknown option $1 (see $0 without arguments)" ;;
            *) ARGS+=("$1"); shift ;;
        esac
    done
}

# ---------------------------------------------------------------------------------------
# What is running

node_pids() {
    local f
    for f in "$NODES_DIR"/node-*.pid; do
        [[ -f $f ]] && head -n 1 "$f"
    done
    return 0
}

nginx_pid() { head -n 1 "$NGINX_DIR/nginx.pid" 2>/dev/null || true; }

pg_started_here() { [[ -d $PG_DATA ]]; }

# Any process this state folder recorded is still alive.
anything_alive() {
    local pid
    # An `up` still in progress (it records its own PID first).
    pid=$(head -n 1 "$STATE_DIR/up.pid" 2>/dev/null || true)
    [[ -n $pid && $pid != "$$" ]] && pid_is "$pid" 'cluster\.sh' && return 0
    for pid in $(node_pids); do pid_is "$pid" "$NODE_PATTERN" && return 0; done
    pid=$(nginx_pid)
    [[ -n $pid ]] && pid_is "$pid" "$NGINX_PATTERN" && return 0
    pid=$(pg_postmaster_pid "$PG_DATA")
    [[ -n $pid ]] && pid_alive "$pid" && return 0
    return 1
}

# ---------------------------------------------------------------------------------------
# down

stop_nginx() {
    local pid workers _
    pid=$(nginx_pid)
    [[ -n $pid ]] && pid_is "$pid" "$NGINX_PATTERN" || return 0
    workers=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
    # QUIT = `nginx -s quit`: stop listening, finish in-flight requests, exit.
    log "stopping nginx (pid $pid)"
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 40); do
        pid_alive "$pid" || break
        sleep 0.25
    done
    if pid_alive "$pid"; then
        log "nginx did not quit in 10 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Workers of a killed master do not exit by themselves.
    for pid in $workers; do
        if pid_is "$pid" "$NGINX_PATTERN"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    return 0
}

stop_nodes() {
    local pids=() pid _ left
    for pid in $(node_pids); do
        pid_is "$pid" "$NODE_PATTERN" && pids+=("$pid")
    done
    ((${#pids[@]})) || return 0
    # SIGTERM: each node stops accepting, finishes in-flight requests within
    # Cluster:ShutdownTimeout, its silo leaves the Orleans membership, and it exits 0.
    log "stopping nodes (SIGTERM to ${pids[*]})"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq $((NODE_STOP_SECONDS * 4))); do
        left=()
        for pid in "${pids[@]}"; do pid_alive "$pid" && left+=("$pid"); done
        ((${#left[@]})) || return 0
        sleep 0.25
    done
    log "still running after ${NODE_STOP_SECONDS} s: SIGKILL to ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    sleep 0.5
}

stop_pg() {
    pg_started_here || return 0
    local pid bin
    pid=$(pg_postmaster_pid "$PG_DATA")
    [[ -n $pid ]] && pid_alive "$pid" || return 0
    bin=$(cat "$STATE_DIR/pg_bin" 2>/dev/null || pg_bin_dir)
    log "stopping PostgreSQL (pid $pid)"
    pg_stop "$bin" "$PG_DATA" || true
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

cmd_down() {
    if [[ ! -e $STATE_DIR ]]; then
        log "nothing is up ($STATE_DIR does not exist)"
        return 0
    fi
    # The balancer first (no new requests), then the nodes (their silos leave the membership in
    # the database, so it goes last).
    stop_nginx
    stop_nodes
    stop_pg
    if anything_alive; then
        die "some processes are still running; state kept in $STATE_DIR"
    fi
    rm -rf "$STATE_DIR"
    log "down; removed $STATE_DIR"
}

# ---------------------------------------------------------------------------------------
# up

ensure_tools() {
    local missing=()
    command -v curl >/dev/null || missing+=(curl)
    command -v openssl >/dev/null || missing+=(openssl)
    if ((!NO_NGINX)); then command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx); fi
    if [[ -z ${CHATGRAINS_PG:-} && -z $(pg_bin_dir) ]]; then missing+=(postgresql); fi
    if ((EUID == 0)) && ! command -v runuser >/dev/null; then missing+=(util-linux); fi
    if ((${#missing[@]})); then
        # Debian's nginx and postgresql packages start their system services on install:
        # not wanted here (port 80, a second PostgreSQL). policy-rc.d exit 101 forbids it.
        local policy=/usr/sbin/policy-rc.d added=0
        if ((EUID == 0)) && [[ ! -e $policy ]]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
        fi
        apt_install "${missing[@]}" || { ((added)) && rm -f "$policy"; die "could not install ${missing[*]}"; }
        if ((added)); then rm -f "$policy"; fi
    fi
    command -v dotnet >/dev/null || die "dotnet (the .NET 10 SDK) is not on PATH"
    NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
}

# build_node: this tree's Release build, unless a build was named (--dll) or SKIP_BUILD=1.
build_node() {
    if [[ -n $NODE_DLL ]]; then
        [[ -f $NODE_DLL ]] || die "--dll $NODE_DLL does not exist"
        NODE_DLL=$(cd "$(dirname "$NODE_DLL")" && pwd)/$(basename "$NODE_DLL")
        return 0
    fi
    NODE_DLL=$RELEASE_DLL
    if [[ $SKIP_BUILD == 1 ]]; then
        [[ -f $NODE_DLL ]] || die "SKIP_BUILD=1 but $NODE_DLL does not exist"
        return 0
    fi
    dotnet_build_release "$ROOT" ApiGateway "$STATE_DIR/build.log"
}

start_pg() {
    if [[ -n ${CHATGRAINS_PG:-} ]]; then
        if grep -Eiq '(^|;)[[:space:]]*max pool size[[:space:]]*=' <<<"$CHATGRAINS_PG"; then
            die "CHATGRAINS_PG: Npgsql 10 rejects 'Max Pool Size'; write 'Maximum Pool Size'"
        fi
        PG_CONN=$CHATGRAINS_PG${CONN_EXTRA:+;${CONN_EXTRA#;}}
        PG_PID=""
        # shellcheck disable=SC2034 # read by write_env through ${!name}
        PG_PORT="" PG_BIN=""
        log "using the existing PostgreSQL of CHATGRAINS_PG (not started or stopped here)"
        return 0
    fi
    local bin port attempt setting
    bin=$(pg_bin_dir)
    echo "$bin" >"$STATE_DIR/pg_bin"
    mkdir -m 700 "$PG_DIR"
    if ((EUID == 0)); then chown postgres: "$PG_DIR"; fi
    log "initdb ($("$bin/postgres" --version))"
    pg_init "$bin" "$PG_DATA" "$STATE_DIR/initdb.log"
    echo "max_connections = $((NODES * NODE_POOL + 20))" >>"$PG_DATA/postgresql.conf"
    # The caller's lines come last: in postgresql.conf the last one of a name wins.
    for setting in "${PG_SETTINGS[@]}"; do
        [[ $setting =~ ^[A-Za-z_][A-Za-z0-9_.]*[[:space:]]*=.+ ]] || die "--pg-setting '$setting' is not NAME=VALUE"
        echo "$setting" >>"$PG_DATA/postgresql.conf"
    done
    if ((${#PG_SETTINGS[@]})); then log "postgresql.conf: ${PG_SETTINGS[*]}"; fi
    for attempt in 1 2 3; do
        port=$(free_port)
        if pg_start "$bin" "$PG_DATA" "$port" "$PG_DIR/server.log"; then
            "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc 'CREATE DATABASE chatgrains' >/dev/null ||
                die "could not create the chatgrains database"
            # Npgsql 10 spells it "Maximum Pool Size": "Max Pool Size" is rejected.
            PG_CONN="Host=127.0.0.1;Port=$port;Username=postgres;Database=chatgrains;Maximum Pool Size=$NODE_POOL"
            PG_CONN+=${CONN_EXTRA:+;${CONN_EXTRA#;}}
            PG_PID=$(pg_postmaster_pid "$PG_DATA")
            # shellcheck disable=SC2034 # read by write_env through ${!name}
            PG_PORT=$port PG_BIN=$bin
            echo "$port" >"$STATE_DIR/pg_port"
            log "PostgreSQL on 127.0.0.1:$port (pid $PG_PID)"
            return 0
        fi
        log "PostgreSQL did not start on port $port (attempt $attempt)"
        tail -n 5 "$PG_DIR/server.log" >&2 2>/dev/null || true
    done
    die "PostgreSQL did not start (log: $PG_DIR/server.log)"
}

# launch_node I: starts node I on a free loopback port, detached (own session, output to its
# log). The shell writes its own PID and then execs dotnet, so the PID file holds the node's.
USED_PORTS=" "
# unused_port: a free loopback port not yet handed out by this run. Nodes start together:
# never hand two of them the same (not yet bound) port.
unused_port() {
    local port
    port=$(free_port)
    while [[ $USED_PORTS == *" $port "* ]]; do port=$(free_port); done
    USED_PORTS+="$port "
    echo "$port"
}

launch_node() {
    local i=$1 url silo_port gateway_port pidfile=$NODES_DIR/node-$1.pid logfile=$NODES_DIR/node-$1.log _
    url=http://127.0.0.1:$(unused_port)
    # Each node's silo needs ports of its own on a shared host (silo-to-silo, Orleans clients).
    silo_port=$(unused_port)
    gateway_port=$(unused_port)
    echo "$url" >"$NODES_DIR/node-$i.url"
    echo "$silo_port" >"$NODES_DIR/node-$i.silo"
    rm -f "$pidfile"
    # Settings through the environment, so the connection string is not in `ps` output.
    (
        cd "$NODES_DIR"
        export ConnectionStrings__ChatGrains=$PG_CONN
        export Jwt__SigningKeyPath=$KEY_FILE
        # nginx, on loopback, is the trusted proxy: its X-Forwarded-For names the client.
        export ForwardedHeaders__KnownProxies__0=127.0.0.1
        export Orleans__SiloPort=$silo_port Orleans__GatewayPort=$gateway_port
        # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
        exec setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" dotnet "$NODE_DLL" --urls "$url"
    ) </dev/null >>"$logfile" 2>&1 &
    for _ in $(seq 50); do
        [[ -s $pidfile ]] && break
        sleep 0.1
    done
    [[ -s $pidfile ]] || die "node $i did not start (log: $logfile)"
    log "node $i: pid $(cat "$pidfile") on $url (silo port $silo_port)"
}

start_nodes() {
    mkdir -p "$NODES_DIR"
    local i attempt url pid ready
    # All at once (migrations run under an advisory lock), then wait for each.
    for i in $(seq "$NODES"); do launch_node "$i"; done
    for i in $(seq "$NODES"); do
        ready=0
        for attempt in 1 2 3; do
            url=$(cat "$NODES_DIR/node-$i.url")
            pid=$(cat "$NODES_DIR/node-$i.pid")
            if wait_http_ok "$url/health/ready" 120 "$pid"; then ready=1; break; fi
            # Someone took the port between free_port and the bind: another port.
            if ! pid_alive "$pid" && grep -q 'address already in use' "$NODES_DIR/node-$i.log"; then
                log "node $i: port taken (attempt $attempt), trying another"
                launch_node "$i"
                continue
            fi
            break
        done
        if ((!ready)); then
            tail -n 20 "$NODES_DIR/node-$i.log" >&2 || true
            die "node $i did not become ready (log: $NODES_DIR/node-$i.log)"
        fi
        log "node $i ready"
    done
}

# nginx_conf PORT: the balancer's configuration for the nodes in NODES_DIR, from the template
# the fault tests use too (deploy/nginx-local.conf.template).
nginx_conf() {
    local port=$1 url i servers="" user="" conf
    for i in $(seq "$NODES"); do
        url=$(cat "$NODES_DIR/node-$i.url")
        servers+="        server ${url#http://} max_fails=1 fail_timeout=5s;"$'\n'
    done
    # As root, workers drop to an unprivileged user (nginx creates the temp folders for it).
    if ((EUID == 0)); then
        if getent passwd www-data >/dev/null; then user='user www-data;'; else user='user nobody nogroup;'; fi
    fi
    conf=$(<"$DEPLOY_DIR/nginx-local.conf.template")
    conf=${conf//'{{STATE}}'/$NGINX_DIR}
    conf=${conf//'{{USER}}'/$user}
    conf=${conf//'{{ACCESS_LOG}}'/\"$NGINX_DIR/access.log\" upstream}
    conf=${conf//'{{MAX_FAILS}}'/1}
    conf=${conf//'{{SERVERS}}'/${servers%$'\n'}}
    conf=${conf//'{{PORT}}'/$port}
    conf=${conf//'{{NEXT_UPSTREAM}}'/error timeout http_502 http_503}
    printf '%s\n' "$conf"
}

start_nginx() {
    mkdir -p "$NGINX_DIR/tmp"
    chmod 755 "$NGINX_DIR" "$NGINX_DIR/tmp"
    local attempt port pid _
    for attempt in 1 2 3; do
        port=${LB_PORT:-$(free_port)}
        if [[ -n $LB_PORT ]] && port_in_use "$port"; then die "LB_PORT=$port is in use"; fi
        nginx_conf "$port" >"$NGINX_DIR/nginx.conf"
        "$NGINX_BIN" -t -q -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR/" -e "$NGINX_DIR/error.log" </dev/null ||
            die "nginx rejects its configuration ($NGINX_DIR/nginx.conf)"
        # nginx daemonizes: the master writes its PID to nginx.pid.
        if "$NGINX_BIN" -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR/" -e "$NGINX_DIR/error.log" \
            </dev/null >>"$NGINX_DIR/startup.log" 2>&1; then
            for _ in $(seq 50); do
                pid=$(nginx_pid)
                [[ -n $pid ]] && pid_alive "$pid" && break
                sleep 0.1
            done
            pid=$(nginx_pid)
            if [[ -z $pid ]] || ! pid_alive "$pid"; then die "nginx started but wrote no PID (log: $NGINX_DIR/error.log)"; fi
            LB_URL=http://127.0.0.1:$port
            NGINX_PID=$pid
            log "nginx on $LB_URL (pid $pid)"
            wait_http_ok "$LB_URL/health/ready" 30 "$pid" || die "no ready node through nginx at $LB_URL"
            return 0
        fi
        [[ -z $LB_PORT ]] || break
        log "nginx did not start on port $port (attempt $attempt)"
    done
    tail -n 5 "$NGINX_DIR/startup.log" >&2 || true
    die "nginx did not start (logs: $NGINX_DIR/startup.log, error.log)"
}

# reload_nginx: the balancer's configuration rewritten for the nodes now running (their ports
# change on `restart`), and HUP: new workers take it, the old ones finish their requests.
reload_nginx() {
    local pid port
    pid=$(nginx_pid)
    [[ -n $pid ]] && pid_is "$pid" "$NGINX_PATTERN" || return 0
    port=${LB_URL##*:}
    nginx_conf "$port" >"$NGINX_DIR/nginx.conf"
    "$NGINX_BIN" -t -q -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR/" -e "$NGINX_DIR/error.log" </dev/null ||
        die "nginx rejects its new configuration ($NGINX_DIR/nginx.conf)"
    log "nginx (pid $pid): reloading onto the new nodes"
    kill -HUP "$pid"
    # Ready through nginx once a new worker answers from a new node.
    sleep 1
    wait_http_ok "$LB_URL/health/ready" 30 "$pid" || die "no ready node through nginx at $LB_URL"
}

# A value quoted for sh: '...' with each ' written as '\''.
sh_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    local urls=() pids=() i
    for i in $(seq "$NODES"); do
        urls+=("$(cat "$NODES_DIR/node-$i.url")")
        pids+=("$(cat "$NODES_DIR/node-$i.pid")")
    done
    NODE_URLS=${urls[*]}
    NODE_PIDS=${pids[*]}
    (
        umask 077
        {
            echo "# Written by deploy/cluster.sh up. Source it: . $ENV_FILE"
            local name
            for name in STATE_DIR LB_URL NGINX_PID NODES NODE_URLS NODE_PIDS PG_CONN PG_PID PG_PORT \
                PG_BIN PG_STARTED SIGNING_KEY NODE_DLL NODE_POOL NGINX_CONF LOG_DIR; do
                echo "$name=$(sh_quote "${!name}")"
            done
        } >"$ENV_FILE"
    )
}

print_summary() {
    local i urls pids
    read -ra urls <<<"$NODE_URLS"
    read -ra pids <<<"$NODE_PIDS"
    echo
    echo "ChatGrains cluster is up"
    if [[ -n $LB_URL ]]; then
        echo "  balancer (nginx)  $LB_URL   pid $NGINX_PID"
    else
        echo "  balancer (nginx)  none (--no-nginx)"
    fi
    for i in "${!urls[@]}"; do
        echo "  node $((i + 1))            ${urls[$i]}   pid ${pids[$i]}"
    done
    if [[ $PG_STARTED == 1 ]]; then
        echo "  PostgreSQL        pid $PG_PID"
    else
        echo "  PostgreSQL        existing server (CHATGRAINS_PG)"
    fi
    echo "  connection string $PG_CONN"
    echo "  signing key       $SIGNING_KEY"
    echo "  logs              $LOG_DIR/{nodes,postgres${LB_URL:+,nginx}}"
    echo
    echo "A token (admin; or --role commercial|visitor):"
    echo "  dotnet $NODE_DLL token --role admin --sub $(new_uuid) --Jwt:SigningKeyPath=$SIGNING_KEY '--ConnectionStrings:ChatGrains=$PG_CONN'"
    echo "  or: $DEPLOY_DIR/cluster.sh token admin"
    echo
    echo "All of this is in $ENV_FILE (. it from a shell). Stop with: $DEPLOY_DIR/cluster.sh down"
    echo
    print_membership
}

# print_membership: Orleans' membership table, where the cluster's silos list themselves.
print_membership() {
    if [[ ! -f $STATE_DIR/pg_port ]]; then
        echo "Orleans membership: see OrleansMembershipTable in the CHATGRAINS_PG database"
        return 0
    fi
    echo "Orleans membership (OrleansMembershipTable):"
    "$(cat "$STATE_DIR/pg_bin")/psql" -h 127.0.0.1 -p "$(cat "$STATE_DIR/pg_port")" -U postgres -d chatgrains -P footer=off -c \
        "SELECT siloname AS silo, address, port AS silo_port, CASE status WHEN 3 THEN 'Active' WHEN 1 THEN 'Created' WHEN 2 THEN 'Joining' WHEN 4 THEN 'ShuttingDown' WHEN 5 THEN 'Stopping' WHEN 6 THEN 'Dead' ELSE status::text END AS status, iamalivetime FROM orleansmembershiptable ORDER BY status, port" ||
        echo "  (the database did not answer)"
}

UP_DONE=0
up_failed() {
    local rc=$?
    ((UP_DONE)) && exit "$rc"
    trap - EXIT
    set +e
    log "up failed: stopping what was started"
    cmd_down
    ((rc)) || rc=1
    exit "$rc"
}

cmd_up() {
    [[ $NODES =~ ^[1-9][0-9]?$ ]] || die "NODES must be 1-99 (got '$NODES')"
    [[ $NODE_POOL =~ ^[1-9][0-9]*$ ]] || die "NODE_POOL must be a positive number (got '$NODE_POOL')"
    [[ $NO_NGINX =~ ^[01]$ ]] || die "NO_NGINX must be 0 or 1"
    [[ -z $LB_PORT || $LB_PORT =~ ^[0-9]+$ ]] || die "LB_PORT must be a port number"
    if [[ -e $STATE_DIR ]]; then
        if anything_alive; then
            die "a cluster is already up (state: $STATE_DIR); run '$0 status' or '$0 down'"
        fi
        log "removing stale state of a cluster that is no longer running ($STATE_DIR)"
        rm -rf "$STATE_DIR"
    fi
    if [[ -n $LB_PORT ]] && port_in_use "$LB_PORT"; then die "LB_PORT=$LB_PORT is in use"; fi
    # mkdir without -p is the lock: of two concurrent `up`s only one creates the folder.
    mkdir "$STATE_DIR" 2>/dev/null || die "$STATE_DIR appeared meanwhile: another 'up' is running"
    echo $$ >"$STATE_DIR/up.pid"
    trap up_failed EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # The postgres user must traverse the state folder to reach its data folder.
    chmod 755 "$STATE_DIR"

    ensure_tools
    build_node
    gen_signing_key "$KEY_FILE"
    start_pg
    start_nodes
    LB_URL="" NGINX_PID="" NGINX_CONF=""
    if ((!NO_NGINX)); then
        start_nginx
        # shellcheck disable=SC2034 # read by write_env through ${!name}
        NGINX_CONF=$NGINX_DIR/nginx.conf
    fi

    # Read by write_env through ${!name}.
    # shellcheck disable=SC2034
    SIGNING_KEY=$KEY_FILE
    LOG_DIR=$STATE_DIR
    PG_STARTED=$([[ -z ${CHATGRAINS_PG:-} ]] && echo 1 || echo 0)
    write_env
    UP_DONE=1
    print_summary
}

# ---------------------------------------------------------------------------------------
# restart

# cmd_restart: the nodes stopped as by `down`, then started again with the same settings (or
# the build --dll names) and the environment of this call, on the same PostgreSQL and key.
cmd_restart() {
    local dll_given=$NODE_DLL
    [[ -f $ENV_FILE ]] || die "no cluster is up ($ENV_FILE does not exist)"
    # shellcheck source=/dev/null
    source "$ENV_FILE"
    if [[ -n $dll_given ]]; then
        [[ -f $dll_given ]] || die "--dll $dll_given does not exist"
        NODE_DLL=$(cd "$(dirname "$dll_given")" && pwd)/$(basename "$dll_given")
    fi
    NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
    stop_nodes
    rm -f "$NODES_DIR"/node-*.pid "$NODES_DIR"/node-*.url "$NODES_DIR"/node-*.silo
    start_nodes
    reload_nginx
    write_env
    print_summary
}

# ---------------------------------------------------------------------------------------
# status

# http_code URL: the status code of a GET (000 when nothing answers).
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true; }

cmd_status() {
    if [[ ! -e $STATE_DIR ]]; then
        echo "no cluster is up ($STATE_DIR does not exist)"
        return 3
    fi
    local ok=1 i pid url code state
    if [[ -f $ENV_FILE ]]; then
        # shellcheck source=/dev/null
        source "$ENV_FILE"
    else
        echo "(no cluster.env: 'up' is running or failed half-way)"
    fi
    for f in "$NODES_DIR"/node-*.pid; do
        [[ -f $f ]] || continue
        i=${f##*/node-}
        i=${i%.pid}
        pid=$(cat "$f")
        url=$(cat "$NODES_DIR/node-$i.url" 2>/dev/null || true)
        if pid_is "$pid" "$NODE_PATTERN"; then state=alive; else state=dead; ok=0; fi
        code=$(http_code "$url/health/ready")
        [[ $code == 200 ]] || ok=0
        printf '  node %-3s %-28s pid %-8s %-6s /health/ready %s\n' "$i" "$url" "$pid" "$state" "$code"
    done
    if [[ -f $ENV_FILE && -z ${LB_URL:-} ]]; then
        echo "  nginx    none (--no-nginx)"
    else
        pid=$(nginx_pid)
        if [[ -n $pid ]] && pid_is "$pid" "$NGINX_PATTERN"; then state=alive; else state=dead; ok=0; fi
        code=000
        [[ -n ${LB_URL:-} ]] && code=$(http_code "$LB_URL/health/ready")
        [[ $code == 200 ]] || ok=0
        printf '  nginx    %-28s pid %-8s %-6s /health/ready %s\n' "${LB_URL:-?}" "${pid:-?}" "$state" "$code"
    fi
    if pg_started_here; then
        pid=$(pg_postmaster_pid "$PG_DATA")
        if [[ -n $pid ]] && pid_alive "$pid"; then state=alive; else state=dead; ok=0; fi
        printf '  postgres %-28s pid %-8s %s\n' "" "${pid:-?}" "$state"
    else
        echo "  postgres (existing server, CHATGRAINS_PG)"
    fi
    print_membership
    ((ok)) && echo "all up" && return 0
    echo "something is down"
    return 1
}

# ---------------------------------------------------------------------------------------
# token

cmd_token() {
    local role=${1:-admin} sub=${2:-$(new_uuid)} out lifetime=()
    [[ -f $ENV_FILE ]] || die "no cluster is up"
    # shellcheck source=/dev/null
    source "$ENV_FILE"
    if [[ -n $TOKEN_LIFETIME ]]; then lifetime=(--lifetime "$TOKEN_LIFETIME"); fi
    out=$(ConnectionStrings__ChatGrains=$PG_CONN Jwt__SigningKeyPath=$SIGNING_KEY \
        dotnet "$NODE_DLL" token --role "$role" --sub "$sub" "${lifetime[@]}" </dev/null) || die "the token command failed"
    grep -E '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$out" | tail -n 1
}

COMMAND=${1:-}
if (($#)); then shift; fi
parse_options "$@"
case $COMMAND in
    up) cmd_up ;;
    restart) cmd_restart ;;
    down) cmd_down ;;
    status) cmd_status ;;
    token) cmd_token "${ARGS[@]}" ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
