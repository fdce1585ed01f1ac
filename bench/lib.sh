# shellcheck shell=bash
# Shared by the bench/*.sh load benchmarks; sourced, not run. It provides the pieces every
# endpoint benchmark needs: tools, a throwaway PostgreSQL, a Release node on a loopback port,
# a token, and "run a wrk scenario while watching the node's memory and everyone's CPU time"
# with a results table. Instead of its own PostgreSQL and node, a benchmark may bring up a
# cluster with deploy/cluster.sh (cluster_up, cluster_down): the scenarios then watch every
# node, and count nginx's CPU time too.
#
# Settings (environment):
#   BENCH_DURATION     measured seconds per scenario        (default 15)
#   BENCH_WARMUP       warm-up seconds per scenario         (default 15)
#   BENCH_THREADS      wrk threads                          (default 2)
#   BENCH_CONNECTIONS  wrk connections                      (default 32)
#   BENCH_PG_FAST=1    PostgreSQL with synchronous_commit=off (not durable; default: durable)
#
# A caller sets `set -euo pipefail`, sources this file, calls bench_init, and then the rest.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The settings given in the environment, to reproduce the run in the report's command line.
BENCH_ENV_GIVEN=$(env | grep -E '^BENCH_(DURATION|WARMUP|THREADS|CONNECTIONS|PG_FAST)=' | sort | tr '\n' ' ' || true)
BENCH_DURATION=${BENCH_DURATION:-15}
BENCH_WARMUP=${BENCH_WARMUP:-15}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_PG_FAST=${BENCH_PG_FAST:-0}

NODE_DLL=$BENCH_ROOT/ApiGateway/bin/Release/net10.0/ApiGateway.dll

BENCH_TMP=""          # mktemp -d: PostgreSQL data, signing key; deleted on exit
BENCH_OUT=""          # bench/out/<name>-<timestamp>: raw wrk outputs and logs; kept
PG_BIN=""             # /usr/lib/postgresql/<highest>/bin
PG_DATA=""
PG_PORT=""
PG_CONN=""            # Npgsql connection string for the node
SIGNING_KEY=""
NODE_PID=""
NODE_URL=""
# Several nodes (a cluster, bench/cluster.sh): run_scenario samples the RSS and CPU time of
# every pid listed here; empty means just NODE_PID.
BENCH_NODE_PIDS=()
BENCH_NGINX_PID=""    # a load balancer in the path: its CPU time (master + workers) is counted
BENCH_PG_PID=""       # a PostgreSQL started elsewhere (deploy/cluster.sh): its postmaster pid
NODE_CONFIG=()        # configuration args shared by the node and its `token` command
NODE_LOG_NAME=node    # the node logs to BENCH_OUT/<this>.log: name each start to keep every log
RSS_SAMPLER_PID=""
WRK_PID=""
BENCH_ROWS=()         # markdown table rows, one per scenario
declare -gA BENCH_RESULTS=() # scenario name -> its measured RESULT line (see scenario_field)
declare -gA BENCH_RSS=()     # scenario name -> each node's peak VmRSS in MB during it, space-separated
declare -gA BENCH_CPU=()     # scenario name -> CPU ticks used during its measured run (see cpu_field)
CPU_SNAPSHOT=""              # the last cpu_snapshot
BENCH_NOTES=()        # extra report lines, printed under the table (e.g. a comparison)
BENCH_FAILED=0        # set when a scenario saw non-2xx responses or socket errors

# log, die, new_uuid, as_root, apt_install, pg_bin_dir, free_port: shared with deploy/cluster.sh.
LOG_TAG=bench
# shellcheck source=deploy/lib.sh
source "$BENCH_ROOT/deploy/lib.sh"

# ---------------------------------------------------------------------------------------
# Tools

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v curl >/dev/null || missing+=(curl)
    [[ -n $(pg_bin_dir) ]] || missing+=(postgresql)
    if ((${#missing[@]})); then apt_install "${missing[@]}"; fi

    PG_BIN=$(pg_bin_dir)
    [[ -n $PG_BIN ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    command -v dotnet >/dev/null || die "dotnet is not on PATH"
}

# ---------------------------------------------------------------------------------------
# Run folders and cleanup

# bench_init NAME: makes the temp and output folders and installs the cleanup trap.
bench_init() {
    local name=$1
    BENCH_TMP=$(mktemp -d -t "chatgrains-bench.XXXXXX")
    # mktemp -d is mode 700; the postgres OS user must traverse it to reach its data folder.
    chmod 755 "$BENCH_TMP"
    BENCH_OUT=$BENCH_ROOT/bench/out/$name-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$BENCH_OUT"
    trap bench_cleanup EXIT
    # Turn signals into a normal exit so the EXIT trap cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() {
    local rc=$?
    set +e
    if [[ -n $WRK_PID ]]; then kill "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; fi
    stop_rss_sampler
    stop_node
    stop_postgres
    if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then rm -rf "$BENCH_TMP"; fi
    exit "$rc"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL

# Runs a command as the postgres OS user when we are root: initdb and the server refuse root.
# (deploy/lib.sh's as_postgres takes the folder as an argument; here it is always BENCH_TMP.)
as_postgres() {
    if ((EUID == 0)); then
        # From a folder postgres can read, so nothing complains about the caller's cwd.
        (cd "$BENCH_TMP" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

start_postgres() {
    PG_DATA=$BENCH_TMP/pgdata
    mkdir -m 700 "$PG_DATA"
    if ((EUID == 0)); then chown postgres: "$PG_DATA"; fi

    log "initdb ($("$PG_BIN/postgres" --version))"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$BENCH_OUT/initdb.log" 2>&1 || { cat "$BENCH_OUT/initdb.log" >&2; die "initdb failed"; }

    # Loopback TCP only, no unix socket (nothing else on the machine should reach it), and
    # room for the node's pool. fsync and synchronous_commit stay on: results must reflect
    # durable commits unless BENCH_PG_FAST=1 says otherwise.
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- bench/lib.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
EOF
    local server_opts=""
    if [[ $BENCH_PG_FAST == 1 ]]; then server_opts="-c synchronous_commit=off"; fi

    local attempt
    for attempt in 1 2 3; do
        PG_PORT=$(free_port)
        if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
            -o "-p $PG_PORT $server_opts" start >/dev/null; then
            # Npgsql spells it "Maximum Pool Size" (or MaxPoolSize): "Max Pool Size" is rejected.
            PG_CONN="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Maximum Pool Size=64"
            # Read back from the server what makes commits durable, so the log proves it.
            log "PostgreSQL up on 127.0.0.1:$PG_PORT: $("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atc \
                "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')")"
            return 0
        fi
        log "PostgreSQL did not start on port $PG_PORT (attempt $attempt)"
        tail -n 20 "$PG_DATA/server.log" >&2 || true
    done
    die "PostgreSQL did not start"
}

stop_postgres() {
    [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]] || return 0
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
    # Keep the server log with the run's other outputs.
    cp "$PG_DATA/server.log" "$BENCH_OUT/postgres.log" 2>/dev/null
    PG_DATA=""
    return 0
}

# ---------------------------------------------------------------------------------------
# The node

# A fresh RSA-2048 signing key: the node and the token command must share it.
gen_signing_key() {
    SIGNING_KEY=$BENCH_TMP/jwt-signing-key.pem
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SIGNING_KEY" 2>/dev/null
    chmod 600 "$SIGNING_KEY"
}

build_node() {
    log "dotnet build -c Release ApiGateway"
    (cd "$BENCH_ROOT" && dotnet build -c Release ApiGateway -nologo) >"$BENCH_OUT/build.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/build.log" >&2; die "build failed (see $BENCH_OUT/build.log)"; }
}

# Runs the built ApiGateway with the given args, from its output folder: the content root is
# the working directory, and appsettings.json (log levels!) is found only from there.
run_gateway() {
    cd "$(dirname "$NODE_DLL")" && exec dotnet "$NODE_DLL" "$@"
}

# postgres_node_config [extra config args]: NODE_CONFIG for a node on this run's PostgreSQL.
# The node and its token command share it: same database, same key (a node with a PostgreSQL
# connection string requires an explicit signing key).
postgres_node_config() {
    NODE_CONFIG=(
        "--ConnectionStrings:ChatGrains=$PG_CONN"
        "--Jwt:SigningKeyPath=$SIGNING_KEY"
        "$@"
    )
}

# start_node [extra config args]: starts the node on a free loopback port and waits until
# it is ready (migrations applied). Uses NODE_CONFIG, set by the caller, and logs to
# BENCH_OUT/$NODE_LOG_NAME.log (a caller starting several nodes in turn names each one).
start_node() {
    local attempt log=$BENCH_OUT/$NODE_LOG_NAME.log
    for attempt in 1 2 3; do
        NODE_URL=http://127.0.0.1:$(free_port)
        (run_gateway --urls "$NODE_URL" "${NODE_CONFIG[@]}" "$@") >"$log" 2>&1 &
        NODE_PID=$!   # the subshell execs dotnet, so this is the node's own pid
        log "node pid $NODE_PID on $NODE_URL"
        if wait_ready; then return 0; fi
        stop_node
        # Someone took the port between free_port and the bind: try another one.
        grep -q 'address already in use' "$log" || break
        log "port taken (attempt $attempt)"
    done
    tail -n 30 "$log" >&2
    die "node did not become ready (log: $log)"
}

# Returns 0 once /health/ready answers 200, 1 if the node exits or is not ready in 120 s.
wait_ready() {
    local _
    for _ in $(seq 240); do
        if curl -fsS -o /dev/null --max-time 2 "$NODE_URL/health/ready" 2>/dev/null; then
            log "node ready"
            return 0
        fi
        kill -0 "$NODE_PID" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

stop_node() {
    [[ -n $NODE_PID ]] || return 0
    if kill -0 "$NODE_PID" 2>/dev/null; then
        kill -TERM "$NODE_PID" 2>/dev/null || true
        local _
        for _ in $(seq 40); do
            kill -0 "$NODE_PID" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "$NODE_PID" 2>/dev/null || true
    fi
    wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=""
    return 0
}

# mint_token ROLE: prints a JWT from the node's `token` command, signed with the node's key.
mint_token() {
    local role=$1 out
    out=$(run_gateway token --role "$role" --sub "$(new_uuid)" --lifetime 02:00:00 "${NODE_CONFIG[@]}") ||
        die "token command failed"
    # Only the token line: anything else on stdout (a log line) is not part of it.
    out=$(grep -E '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$out" | tail -n 1) ||
        die "token command printed no JWT"
    echo "$out"
}

# ---------------------------------------------------------------------------------------
# Memory

proc_status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# Samples VmRSS of every PID every 0.5 s (one loop for all of them, no fork per reading) into
# PREFIX.1, PREFIX.2, ... (each one's peak so far, in kB, in the order given) until stopped.
start_rss_samplers() {
    local prefix=$1 i
    shift
    for i in $(seq $#); do echo 0 >"$prefix.$i"; done
    (
        set +e
        pids=("$@")
        peaks=()
        while true; do
            alive=0
            for i in "${!pids[@]}"; do
                [[ -r /proc/${pids[$i]}/status ]] || continue
                alive=1
                while read -r key value _; do
                    if [[ $key == VmRSS: ]]; then
                        if ((value > ${peaks[$i]:-0})); then
                            peaks[i]=$value
                            echo "$value" >"$prefix.$((i + 1))"
                        fi
                        break
                    fi
                done <"/proc/${pids[$i]}/status"
            done
            ((alive)) || break
            sleep 0.5
        done
    ) &
    RSS_SAMPLER_PID=$!
}

# The pids run_scenario watches: BENCH_NODE_PIDS, or NODE_PID.
bench_node_pids() {
    if ((${#BENCH_NODE_PIDS[@]})); then echo "${BENCH_NODE_PIDS[*]}"; else echo "$NODE_PID"; fi
}

stop_rss_sampler() {
    [[ -n $RSS_SAMPLER_PID ]] || return 0
    kill "$RSS_SAMPLER_PID" 2>/dev/null || true
    wait "$RSS_SAMPLER_PID" 2>/dev/null || true   # it dies of the TERM: not a failure
    RSS_SAMPLER_PID=""
    return 0
}

kb_to_mb() { awk -v kb="${1:-0}" 'BEGIN { printf "%.0f", kb / 1024 }'; }

# ---------------------------------------------------------------------------------------
# CPU time
#
# Clock ticks (1/CLK_TCK s) of user + system time, read from /proc. A process's
# /proc/<pid>/stat covers all its threads (those that already exited too), so one read per
# process is enough for a multi-threaded node.

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# proc_stat_ticks PID [with-children]: utime+stime of PID (0 if it is gone); with a second
# argument also cutime+cstime, the time of the children it has waited for.
proc_stat_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    # The command name (field 2) may hold spaces and parentheses: fields are counted after
    # its closing parenthesis, where f[0] is field 3 (state), so field n is f[n-3].
    local f
    read -ra f <<<"${stat##*) }"
    if (($# > 1)); then echo $((f[11] + f[12] + f[13] + f[14])); else echo $((f[11] + f[12])); fi
}

# cpu_ticks_of_pids PID...: the CPU ticks used so far by these processes, summed.
cpu_ticks_of_pids() {
    local pid total=0
    for pid in "$@"; do total=$((total + $(proc_stat_ticks "$pid"))); done
    echo "$total"
}

# cpu_ticks_of_tree PID: PID (with the children it has reaped) plus its live children. For a
# server that forks a process per connection (PostgreSQL) the difference of two readings is
# what the server used in between, including children that exited in between.
cpu_ticks_of_tree() {
    local root=$1 children
    children=$(pgrep -P "$root" 2>/dev/null | tr '\n' ' ' || true)
    # shellcheck disable=SC2086 # one word per pid
    echo $(($(proc_stat_ticks "$root" with-children) + $(cpu_ticks_of_pids $children)))
}

# cpu_ticks_postgres: the throwaway PostgreSQL's postmaster and its processes (backends,
# WAL writer, checkpointer, autovacuum...). Only this server: other PostgreSQL servers of the
# postgres OS user (tests running beside the benchmark) are not counted.
cpu_ticks_postgres() {
    local pid
    if [[ -n $BENCH_PG_PID ]]; then cpu_ticks_of_tree "$BENCH_PG_PID"; return 0; fi
    # Readable by us: as root, or as the non-root user who then also runs the server.
    [[ -n $PG_DATA ]] && pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) && [[ -n $pid ]] ||
        { echo 0; return 0; }
    cpu_ticks_of_tree "$pid"
}

# cpu_ticks_machine: "busy=N irq=N steal=N all=N", from /proc/stat's all-CPU line: the ticks
# spent busy (user, nice, system, irq, softirq, steal), of which in interrupts and softirqs
# (where the kernel's loopback networking runs; with IRQ time accounting this time is not
# charged to any process) and stolen by the hypervisor, and in all (plus idle and iowait).
cpu_ticks_machine() {
    awk '$1 == "cpu" {
        busy = $2 + $3 + $4 + $7 + $8 + $9
        print "busy=" busy " irq=" $7 + $8 " steal=" $9 " all=" busy + $5 + $6
        exit }' /proc/stat
}

# cpu_snapshot: the ticks used so far by the node(s), the PostgreSQL server, the balancer, this shell's
# waited-for children (wrk, once it has exited) and the machine, as
# "cpu node=N postgres=N wrk=N nginx=N busy=N irq=N steal=N all=N" in CPU_SNAPSHOT (node: all of
# bench_node_pids; nginx: BENCH_NGINX_PID's tree, 0 without one). Run it in the
# current shell, not in $(...): `times` in a subshell sees only that subshell's children.
cpu_snapshot() {
    local times_file=$BENCH_TMP/times
    times >"$times_file"
    local children
    # Second line of `times`: children's user and system time, as 0m1.234s 0m0.567s.
    children=$(awk -v hz="$CLK_TCK" 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz + 0.5 }' "$times_file")
    local nginx=0
    # nginx's workers are the master's children: the tree counts them.
    [[ -n $BENCH_NGINX_PID ]] && nginx=$(cpu_ticks_of_tree "$BENCH_NGINX_PID")
    # shellcheck disable=SC2046 # one word per pid
    CPU_SNAPSHOT="cpu node=$(cpu_ticks_of_pids $(bench_node_pids)) postgres=$(cpu_ticks_postgres) wrk=$children nginx=$nginx $(cpu_ticks_machine)"
}

# cpu_delta BEFORE AFTER: AFTER - BEFORE for each key of two snapshots.
cpu_delta() {
    awk -v before="$1" -v after="$2" 'BEGIN {
        n = split(before, b, " "); split(after, a, " ")
        line = "cpu"
        for (i = 2; i <= n; i++) {
            split(b[i], kb, "="); split(a[i], ka, "=")
            line = line " " kb[1] "=" (ka[2] - kb[2])
        }
        print line }'
}

# cpu_field NAME KEY: ticks KEY (node, postgres, wrk, nginx, busy, irq, steal, all) used during
# scenario NAME's measured run.
cpu_field() { result_field "${BENCH_CPU[$1]:-}" "$2"; }

# cpu_breakdown NAME: a markdown table of where the CPU went during scenario NAME's measured
# run, per request. "other processes" is the busy time none of the rows above it account for:
# whatever else ran on the machine (a quiet machine shows a few per cent at most). The window
# runs from just before wrk starts to just after it exits, a little longer than wrk's own
# measured duration (start-up, connecting): the capacity row counts that idle margin too.
# Per-process times are exact, /proc/stat's busy time is sampled at each timer tick (and a
# VM's ticks can be late), so on a quiet machine "other processes" may read a few per cent
# below zero: the machine rows are estimates to that precision.
cpu_breakdown() {
    local name=$1
    has_result "$name" && [[ -n ${BENCH_CPU[$name]:-} ]] || return 0
    awk -v hz="$CLK_TCK" -v cpus="$(nproc)" -v requests="$(scenario_field "$name" requests)" \
        -v node="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
        -v wrk="$(cpu_field "$name" wrk)" -v nginx="$(cpu_field "$name" nginx)" -v busy="$(cpu_field "$name" busy)" \
        -v irq="$(cpu_field "$name" irq)" -v steal="$(cpu_field "$name" steal)" \
        -v all="$(cpu_field "$name" all)" -v rps="$(scenario_field "$name" rps)" -v name="$name" \
        -v nodes="$(wc -w <<<"$(bench_node_pids)")" 'BEGIN {
        seconds = all / cpus / hz
        printf "CPU during the measured run of `%s` (%d requests in %.1f s; %d CPUs, %.0f %% busy), from /proc/<pid>/stat and /proc/stat:\n\n",
            name, requests, seconds, cpus, busy / all * 100
        print "| where | CPU s | CPU µs per request | share of busy |"
        print "|---|---:|---:|---:|"
        row(nodes > 1 ? "nodes (all threads of all " nodes ")" : "node (all threads)", node)
        row("PostgreSQL (postmaster, backends, WAL writer...)", pg)
        if (nginx > 0) row("nginx (master + worker)", nginx)
        row("wrk", wrk)
        row("kernel irq + softirq (loopback networking)", irq)
        if (steal > 0) row("stolen by the hypervisor", steal)
        row("other processes", busy - node - pg - nginx - wrk - irq - steal)
        row("machine busy", busy)
        printf "| machine capacity (%d CPUs × %.1f s) | %.2f | %.0f | |\n", cpus, seconds, all / hz, all / hz * 1e6 / requests
        stack = node + pg + nginx + irq
        printf "\n%s + PostgreSQL%s + kernel networking: %.0f µs of CPU per request, so %d CPUs doing nothing else would serve at most %.0f requests/s (measured %.0f).\n",
            (nodes > 1 ? "nodes" : "node"), (nginx > 0 ? " + nginx" : ""), stack / hz * 1e6 / requests, cpus, cpus * hz * requests / stack, rps
    }
    function row(label, ticks) {
        printf "| %s | %.2f | %.0f | %.0f %% |\n", label, ticks / hz, ticks / hz * 1e6 / requests, ticks / busy * 100
    }'
}

# ---------------------------------------------------------------------------------------
# wrk

# result_field LINE KEY: the value of KEY=value in a RESULT line.
result_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# scenario_field NAME KEY: KEY (rps, p50_ms, p99_ms, ...) of scenario NAME's measured run.
scenario_field() { result_field "${BENCH_RESULTS[$1]:-}" "$2"; }

# has_result NAME: true once scenario NAME has been measured.
has_result() { [[ -n ${BENCH_RESULTS[$1]:-} ]]; }

# run_wrk PHASE SECONDS OUTFILE SCRIPT URL [VAR=value ...] [-- wrk options]
run_wrk() {
    local phase=$1 seconds=$2 outfile=$3 script=$4 url=$5
    shift 5
    local vars=() opts=()
    while (($#)) && [[ $1 != -- ]]; do vars+=("$1"); shift; done
    if (($#)); then shift; opts=("$@"); fi
    # In the background plus `wait`: bash runs a trap only once a foreground command ends,
    # whereas `wait` returns as soon as a signal arrives, so a TERM cleans up at once.
    env BENCH_PHASE="$phase" "${vars[@]}" \
        wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${seconds}s" "${opts[@]}" -s "$script" "$url" \
        >"$outfile" 2>&1 &
    WRK_PID=$!
    local rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    cat "$outfile"
    return "$rc"
}

# run_scenario NAME SCRIPT URL [VAR=value ...]
# A warm-up run (JIT, connection pools, PostgreSQL caches), then the measured run while
# sampling the RSS of the node (of each node of BENCH_NODE_PIDS) and reading CPU time before and after it (BENCH_CPU, see
# cpu_breakdown). Raw outputs go to BENCH_OUT; a table row goes to BENCH_ROWS.
run_scenario() {
    local name=$1 script=$2 url=$3
    shift 3

    log "$name: warm-up ${BENCH_WARMUP}s"
    run_wrk warmup "$BENCH_WARMUP" "$BENCH_OUT/$name-warmup.txt" "$script" "$url" "$@" >/dev/null ||
        die "$name: wrk warm-up failed"

    log "$name: measured ${BENCH_DURATION}s"
    local rss_file=$BENCH_TMP/rss-$name cpu_before pids pid i
    read -ra pids <<<"$(bench_node_pids)"
    start_rss_samplers "$rss_file" "${pids[@]}"
    cpu_snapshot
    cpu_before=$CPU_SNAPSHOT
    run_wrk measured "$BENCH_DURATION" "$BENCH_OUT/$name.txt" "$script" "$url" "$@" -- --latency ||
        die "$name: wrk failed"
    cpu_snapshot
    BENCH_CPU[$name]=$(cpu_delta "$cpu_before" "$CPU_SNAPSHOT")
    stop_rss_sampler
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "$name: node $pid died during the run"
    done

    local result
    result=$(grep '^RESULT ' "$BENCH_OUT/$name.txt" | tail -n 1) || die "$name: no RESULT line from wrk"
    BENCH_RESULTS[$name]=$result
    # One figure per node, "a / b / c" with several. VmHWM is a node's peak since it started
    # (so it includes earlier scenarios).
    local peaks=() hwms=() peak_mb hwm_mb
    for i in "${!pids[@]}"; do
        peaks+=("$(kb_to_mb "$(cat "$rss_file.$((i + 1))")")")
        hwms+=("$(kb_to_mb "$(proc_status_kb "${pids[$i]}" VmHWM)")")
    done
    BENCH_RSS[$name]=${peaks[*]}
    peak_mb=$(printf '%s / ' "${peaks[@]}")
    peak_mb=${peak_mb% / }
    hwm_mb=$(printf '%s / ' "${hwms[@]}")
    hwm_mb=${hwm_mb% / }

    local non2xx sockets
    non2xx=$(result_field "$result" non2xx)
    sockets=$(($(result_field "$result" connect) + $(result_field "$result" read) +
        $(result_field "$result" write) + $(result_field "$result" timeout)))
    if ((non2xx > 0 || sockets > 0)); then
        BENCH_FAILED=1
        log "$name: $non2xx non-2xx responses (statuses $(result_field "$result" statuses)), $sockets socket errors"
        grep '^FIRST_NON2XX ' "$BENCH_OUT/$name.txt" >&2 || true
    fi

    BENCH_ROWS+=("| $name | $(result_field "$result" rps) | $(result_field "$result" p50_ms) | $(result_field "$result" p99_ms) | $non2xx | $sockets | $peak_mb | $hwm_mb |")
}

# ---------------------------------------------------------------------------------------
# A cluster from deploy/cluster.sh (bench/cluster.sh, bench/soak.sh)

CLUSTER_SH=$BENCH_ROOT/deploy/cluster.sh
CLUSTER_STATE=""      # the state folder of the cluster that is up (empty: none)
LB_URL=""             # nginx in front of the nodes
CLUSTER_NODE_URLS=()  # each node's own URL, in node order (BENCH_NODE_PIDS holds their pids)
CLUSTER_PG_PORT=""

# cluster_value NAME: a value from the cluster's cluster.env, read in a subshell so its other
# names (PG_CONN, SIGNING_KEY...) do not overwrite this shell's.
cluster_value() {
    # shellcheck source=/dev/null
    (source "$CLUSTER_STATE/cluster.env" && printf '%s' "${!1}")
}

# cluster_up N: `NODES=N deploy/cluster.sh up` on the Release build that build_node made, in a
# private state folder under BENCH_TMP (deploy/.state may hold someone else's cluster), with
# rate limiting off on every node: wrk is one client IP, and the nodes inherit the environment
# of `up` (deploy/README.md), so RateLimiting__Enabled=false reaches them. Sets LB_URL,
# CLUSTER_NODE_URLS, CLUSTER_PG_PORT and, for run_scenario's RSS and CPU readings,
# BENCH_NODE_PIDS, BENCH_NGINX_PID, BENCH_PG_PID.
cluster_up() {
    local n=$1
    CLUSTER_STATE=$BENCH_TMP/cluster-$n
    log "deploy/cluster.sh up: $n node(s) + nginx + PostgreSQL, rate limiting off (state: $CLUSTER_STATE)"
    RateLimiting__Enabled=false NODES=$n STATE_DIR=$CLUSTER_STATE SKIP_BUILD=1 LB_PORT='' \
        "$CLUSTER_SH" up </dev/null >"$BENCH_OUT/cluster-$n-up.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/cluster-$n-up.log" >&2; die "deploy/cluster.sh up failed (log: $BENCH_OUT/cluster-$n-up.log)"; }
    LB_URL=$(cluster_value LB_URL)
    read -ra CLUSTER_NODE_URLS <<<"$(cluster_value NODE_URLS)"
    read -ra BENCH_NODE_PIDS <<<"$(cluster_value NODE_PIDS)"
    BENCH_NGINX_PID=$(cluster_value NGINX_PID)
    BENCH_PG_PID=$(cluster_value PG_PID)
    CLUSTER_PG_PORT=$(cluster_value PG_CONN | sed -n 's/.*Port=\([0-9]*\).*/\1/p')
    ((${#BENCH_NODE_PIDS[@]} == n)) || die "cluster.env lists ${#BENCH_NODE_PIDS[@]} node pids, not $n"
    log "cluster up: nginx $LB_URL (pid $BENCH_NGINX_PID), nodes ${CLUSTER_NODE_URLS[*]} (pids ${BENCH_NODE_PIDS[*]}), PostgreSQL pid $BENCH_PG_PID"
}

# cluster_down: `deploy/cluster.sh down` for the cluster that is up, keeping the nodes' logs
# and nginx's error log (not its access log: one line per request) in BENCH_OUT.
cluster_down() {
    [[ -n $CLUSTER_STATE ]] || return 0
    if [[ -d $CLUSTER_STATE ]]; then
        local tag
        tag=$(basename "$CLUSTER_STATE")
        mkdir -p "$BENCH_OUT/$tag"
        cp "$CLUSTER_STATE"/nodes/*.log "$CLUSTER_STATE/nginx/error.log" "$BENCH_OUT/$tag/" 2>/dev/null
        STATE_DIR=$CLUSTER_STATE "$CLUSTER_SH" down </dev/null >>"$BENCH_OUT/$tag-down.log" 2>&1 ||
            log "deploy/cluster.sh down failed (log: $BENCH_OUT/$tag-down.log)"
    fi
    CLUSTER_STATE=""
    BENCH_NODE_PIDS=()
    BENCH_NGINX_PID=""
    BENCH_PG_PID=""
    return 0
}

# cluster_token ROLE: a token signed with the cluster's key (deploy/cluster.sh token).
cluster_token() {
    local token
    token=$(STATE_DIR=$CLUSTER_STATE "$CLUSTER_SH" token "$1" </dev/null) || die "deploy/cluster.sh token failed"
    [[ -n $token ]] || die "deploy/cluster.sh token printed nothing"
    echo "$token"
}

# cluster_psql SQL: one value from the cluster's database.
cluster_psql() {
    "$PG_BIN/psql" -h 127.0.0.1 -p "$CLUSTER_PG_PORT" -U postgres -d chatgrains -Atc "$1"
}

# cluster_access_lines: the number of lines in nginx's access log so far (one per request).
cluster_access_lines() { wc -l <"$CLUSTER_STATE/nginx/access.log" 2>/dev/null || echo 0; }

# cluster_requests_per_node FROM TO: "a / b / c", how many of the access log's lines FROM+1..TO
# nginx sent to each node (its upstream=host:port field; a retried request names several).
cluster_requests_per_node() {
    local from=$1 to=$2 urls
    urls=${CLUSTER_NODE_URLS[*]}
    # One awk reading the file (no `tail | head`: on a log still growing, tail would die of
    # SIGPIPE when head is done, and pipefail would make that a failure).
    awk -v urls="$urls" -v from="$from" -v to="$to" '
        BEGIN { n = split(urls, u, " "); for (i = 1; i <= n; i++) { sub("^http://", "", u[i]); index_of[u[i]] = i } }
        NR <= from { next }
        NR > to { exit }
        {
            # "upstream=a:1" or, after a retry, "upstream=a:1, b:2": every host:port counts.
            for (f = 1; f <= NF; f++) {
                hop = $f
                sub(/^upstream=/, "", hop); sub(/,$/, "", hop)
                if (hop in index_of) count[index_of[hop]]++
            }
        }
        END { line = ""; for (i = 1; i <= n; i++) line = line (i > 1 ? " / " : "") (count[i] + 0); print line }' \
        "$CLUSTER_STATE/nginx/access.log"
}

# cluster_smoke URL TOKEN: one request of each endpoint benchmarked here, with curl, so a
# wrong setup fails before wrk runs: the chat creation (200), a guest session (201, and no
# RateLimit-Policy header: the limiter is off on whichever node answered) and a live-chat
# session (201).
cluster_smoke() {
    local url=$1 token=$2 status headers=$BENCH_TMP/smoke.headers body=$BENCH_TMP/smoke.json
    status=$(curl -sS -o "$body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" --data-binary "@$BENCH_ROOT/bench/payloads/chats-put.json" \
        "$url/v2/chats/$(new_uuid)")
    [[ $status == 200 ]] || die "smoke $url: PUT /v2/chats answered $status: $(head -c 600 "$body")"
    status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
        --data-binary "{\"session_id\": \"$(new_uuid)\", \"guest_name\": \"Guest\", \"guest_email\": \"guest@example.com\"}" \
        "$url/api/v1/chat/guest/session")
    [[ $status == 201 ]] || die "smoke $url: POST /api/v1/chat/guest/session answered $status: $(head -c 600 "$body")"
    if grep -qi '^RateLimit-Policy:' "$headers"; then
        die "smoke $url: the rate limiter is on ($(grep -i '^RateLimit-Policy:' "$headers" | tr -d '\r'))"
    fi
    status=$(curl -sS -o "$body" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
        --data-binary '{"name": "Budi", "city": "Solo", "country": "Indonesia"}' "$url/livechat/session")
    [[ $status == 201 ]] || die "smoke $url: POST /livechat/session answered $status: $(head -c 600 "$body")"
}

# cluster_smoke_all TOKEN: cluster_smoke on every node directly and through nginx.
cluster_smoke_all() {
    local url
    for url in "${CLUSTER_NODE_URLS[@]}" "$LB_URL"; do cluster_smoke "$url" "$1"; done
    log "smoke checks passed on ${#CLUSTER_NODE_URLS[@]} node(s) and through nginx (rate limiting off everywhere)"
}

# ---------------------------------------------------------------------------------------
# Report

print_machine() {
    local cpu mem_gb
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
    mem_gb=$(free -g | awk '/^Mem:/ { print $2 }')
    echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), ${mem_gb} GB RAM, Linux $(uname -r)"
    echo "- .NET SDK $(dotnet --version), $("$PG_BIN/postgres" --version)$([[ $BENCH_PG_FAST == 1 ]] && echo ', synchronous_commit=off' || echo ', durable commits (fsync, synchronous_commit on)')"
    echo "- wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'): ${BENCH_THREADS} threads, ${BENCH_CONNECTIONS} connections, ${BENCH_WARMUP} s warm-up + ${BENCH_DURATION} s measured per scenario, node and PostgreSQL on the same machine (loopback)"
}

# print_report COMMAND: the results as markdown, ready for bench/RESULTS.md.
print_report() {
    echo
    echo "command: \`$1\`"
    echo
    print_machine
    echo
    echo "| scenario | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MB | VmHWM MB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${BENCH_ROWS[@]}"
    if ((${#BENCH_NOTES[@]})); then
        echo
        printf '%s\n' "${BENCH_NOTES[@]}"
    fi
    echo
    echo "raw wrk outputs: ${BENCH_OUT#"$BENCH_ROOT"/}/"
}
