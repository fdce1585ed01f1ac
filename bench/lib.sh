# shellcheck shell=bash
# Shared by the bench/*.sh load benchmarks; sourced, not run. It provides the pieces every
# endpoint benchmark needs: tools, a throwaway PostgreSQL, a Release node on a loopback port,
# a token, and "run a wrk scenario while watching the node's memory and everyone's CPU time"
# with a results table. Instead of its own PostgreSQL and node, a benchmark may bring up a
# cluster with deploy/cluster.sh (cluster_up, cluster_down): the scenarios then watch every
# node, and count nginx's CPU time too.
#
# A baseline in the same run: with BENCH_BASELINE=<git revision> a single-node benchmark
# builds that revision too (in a temporary `git worktree` under the run's temp folder, removed
# at the end), runs every scenario on it and then on the working tree's node — each node on a
# fresh PostgreSQL server with the same settings — and prints both rows and their ratio
# (for_each_node, comparison_report).
#
# Settings (environment):
#   BENCH_DURATION     measured seconds per scenario        (default 15)
#   BENCH_WARMUP       warm-up seconds per scenario         (default 15)
#   BENCH_THREADS      wrk threads                          (default 2)
#   BENCH_CONNECTIONS  wrk connections                      (default 32)
#   BENCH_PG_FAST=1    PostgreSQL with synchronous_commit=off (not durable; default: durable)
#   BENCH_BASELINE     a git revision (e.g. e880b08) to measure beside the working tree
#   BENCH_CONN_EXTRA   Npgsql settings appended to every node's connection string,
#                      e.g. "No Reset On Close=true" (default: none)
#   BENCH_CURRENT_CONN_EXTRA  the same, for the current (working tree's) node only: with
#                      BENCH_BASELINE=HEAD an A/B of a connection setting in one run
#   BENCH_CURRENT_ENV  "VAR=value ..." in the current node's environment only (e.g.
#                      DOTNET_gcServer=0): with BENCH_BASELINE=HEAD an A/B of a runtime setting
#   BENCH_PG_STATEMENTS=1  PostgreSQL with pg_stat_statements (track = all); bench/profile.sh
#   BENCH_MAX_OTHER_PCT  on a shared machine: measure a scenario again (up to BENCH_ATTEMPTS
#                      times, 3, after BENCH_RETRY_PAUSE s, 30) when processes other than the
#                      node(s), PostgreSQL, nginx and wrk took more than this share (%) of the
#                      machine's busy CPU during the measured run (default 0: never)
#
# A caller sets `set -euo pipefail`, sources this file, calls bench_init, and then the rest.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The settings given in the environment, to reproduce the run in the report's command line.
# (Values with spaces are quoted, so the line can be pasted back into a shell.) Read by the
# benchmarks for their report's command line.
# shellcheck disable=SC2034
BENCH_ENV_GIVEN=$(env | grep -E '^BENCH_(DURATION|WARMUP|THREADS|CONNECTIONS|PG_FAST|BASELINE|CONN_EXTRA|CURRENT_CONN_EXTRA|CURRENT_ENV|MAX_OTHER_PCT|ATTEMPTS)=' |
    sed "s/^\([^=]*\)=\(.* .*\)$/\1='\2'/" | sort | tr '\n' ' ' || true)
BENCH_DURATION=${BENCH_DURATION:-15}
BENCH_WARMUP=${BENCH_WARMUP:-15}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_PG_FAST=${BENCH_PG_FAST:-0}
BENCH_BASELINE=${BENCH_BASELINE:-}
BENCH_CONN_EXTRA=${BENCH_CONN_EXTRA:-}
BENCH_CURRENT_CONN_EXTRA=${BENCH_CURRENT_CONN_EXTRA:-}
BENCH_CURRENT_ENV=${BENCH_CURRENT_ENV:-}
BENCH_PG_STATEMENTS=${BENCH_PG_STATEMENTS:-0}
BENCH_MAX_OTHER_PCT=${BENCH_MAX_OTHER_PCT:-0}
BENCH_ATTEMPTS=${BENCH_ATTEMPTS:-3}
BENCH_RETRY_PAUSE=${BENCH_RETRY_PAUSE:-30}
# A function run_scenario calls between the warm-up and the measured run (bench/profile.sh).
BENCH_BEFORE_MEASURED=""

# The working tree's Release build, and the node the next start_node runs (use_node switches).
CURRENT_DLL=$BENCH_ROOT/ApiGateway/bin/Release/net10.0/ApiGateway.dll
NODE_DLL=$CURRENT_DLL
# The node under test: "current" (the working tree) or "baseline" (BENCH_BASELINE's build).
# Scenario results, output files and table rows are kept per node.
BENCH_NODE=current
declare -gA NODE_DLLS=([current]=$CURRENT_DLL)
declare -gA NODE_REVS=()     # node -> the revision it was built from, for the report
declare -gA NODE_DIRTY=()    # node -> 1 when built with uncommitted changes (outside bench/)
BASELINE_TREE=""             # the baseline's git worktree (under BENCH_TMP) while it exists

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
BENCH_ROWS=()         # markdown table rows, one per scenario and node
BENCH_SCENARIOS=()    # scenario names in the order first run (each once, whatever the node)
# Keyed by "node/scenario" (node: BENCH_NODE when it ran); read them with scenario_field,
# scenario_rss, cpu_field, which take the plain scenario name and BENCH_NODE.
declare -gA BENCH_RESULTS=() # -> its measured RESULT line (see scenario_field)
declare -gA BENCH_RSS=()     # -> each node's peak VmRSS in MB during it, space-separated
declare -gA BENCH_CPU=()     # -> CPU ticks used during its measured run (see cpu_field)
# Targets against the baseline (comparison_report), per scenario; set by the benchmark.
declare -gA TARGET_RATIO=()  # scenario -> minimum requests/s of the current node ÷ the baseline's
declare -gA TARGET_P99=()    # scenario -> maximum p99 ms of the current node
declare -gA TARGET_RSS=()    # scenario -> maximum peak RSS MB of the current node
CPU_SNAPSHOT=""              # the last cpu_snapshot
BENCH_NOTES=()        # extra report lines, printed under the table (e.g. a comparison)
# shellcheck disable=SC2034 # read by the benchmarks
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
    remove_baseline_tree
    if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then rm -rf "$BENCH_TMP"; fi
    exit "$rc"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL

# bench_psql SQL: one value from the node's database on this run's PostgreSQL.
bench_psql() {
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atc "$1"
}

# start_postgres: a fresh throwaway server for the node under test (BENCH_NODE), in
# BENCH_TMP/pgdata-<node>, so a baseline and the current node each get an empty one with the
# same settings. Sets PG_DATA, PG_PORT and PG_CONN (with BENCH_CONN_EXTRA appended).
start_postgres() {
    PG_DATA=$BENCH_TMP/pgdata-$BENCH_NODE
    log "initdb ($("$PG_BIN/postgres" --version)) for the $BENCH_NODE node"
    pg_init "$PG_BIN" "$PG_DATA" "$BENCH_OUT/initdb-$BENCH_NODE.log"

    # Room for the node's pool. fsync and synchronous_commit stay on: results must reflect
    # durable commits unless BENCH_PG_FAST=1 says otherwise. (pg_init: loopback TCP only.)
    cat >>"$PG_DATA/postgresql.conf" <<CONF

# --- bench/lib.sh ---
max_connections = 200
CONF
    if [[ $BENCH_PG_STATEMENTS == 1 ]]; then
        printf '%s\n' "shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all" \
            >>"$PG_DATA/postgresql.conf"
    fi
    local server_opts=()
    if [[ $BENCH_PG_FAST == 1 ]]; then server_opts=(-c synchronous_commit=off); fi

    local attempt
    for attempt in 1 2 3; do
        PG_PORT=$(free_port)
        if pg_start "$PG_BIN" "$PG_DATA" "$PG_PORT" "$PG_DATA/server.log" "${server_opts[@]}"; then
            # Npgsql spells it "Maximum Pool Size" (or MaxPoolSize): "Max Pool Size" is rejected.
            PG_CONN="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres;Maximum Pool Size=64"
            if [[ -n $BENCH_CONN_EXTRA ]]; then PG_CONN+=";${BENCH_CONN_EXTRA#;}"; fi
            if [[ -n $BENCH_CURRENT_CONN_EXTRA && $BENCH_NODE == current ]]; then
                PG_CONN+=";${BENCH_CURRENT_CONN_EXTRA#;}"
            fi
            # Read back from the server what makes commits durable, so the log proves it.
            log "PostgreSQL up on 127.0.0.1:$PG_PORT: $(bench_psql \
                "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')")"
            if [[ $BENCH_PG_STATEMENTS == 1 ]]; then bench_psql "CREATE EXTENSION pg_stat_statements" >/dev/null; fi
            return 0
        fi
        log "PostgreSQL did not start on port $PG_PORT (attempt $attempt)"
        tail -n 20 "$PG_DATA/server.log" >&2 || true
    done
    die "PostgreSQL did not start"
}

# stop_postgres: stops this run's server, keeps its log in BENCH_OUT, deletes its data.
stop_postgres() {
    [[ -n $PG_DATA ]] || return 0
    pg_stop "$PG_BIN" "$PG_DATA"
    cp "$PG_DATA/server.log" "$BENCH_OUT/postgres-$(basename "$PG_DATA" | sed 's/^pgdata-//').log" 2>/dev/null
    rm -rf "$PG_DATA"
    PG_DATA=""
    return 0
}

# grain_records KIND [PSQL]: how many records of KIND (chat, guestSession, liveChatSession)
# the database holds, through PSQL (a function taking the SQL; default bench_psql). On
# Orleans a record is the grain's row in orleansstorage (graintypestring = KIND); on the
# pre-Orleans schema (e.g. a BENCH_BASELINE node) it is a row of the kind's own table.
grain_records() {
    local kind=$1 psql=${2:-bench_psql} table
    if [[ $("$psql" "SELECT to_regclass('orleansstorage') IS NOT NULL") == t ]]; then
        "$psql" "SELECT count(*) FROM orleansstorage WHERE graintypestring = '$kind'"
        return 0
    fi
    case $kind in
        chat) table=chats ;;
        guestSession) table=chat_sessions ;;
        liveChatSession) table=livechat_sessions ;;
        *) die "grain_records: unknown kind '$kind'" ;;
    esac
    "$psql" "SELECT count(*) FROM $table"
}

# ---------------------------------------------------------------------------------------
# The node

# new_signing_key: a fresh RSA-2048 key in SIGNING_KEY; the node and the token command must
# share it (every node of the run uses the same one).
new_signing_key() {
    SIGNING_KEY=$BENCH_TMP/jwt-signing-key.pem
    gen_signing_key "$SIGNING_KEY"
}

# build_node: the working tree's Release build (CURRENT_DLL); with BENCH_BASELINE, the
# baseline's too (build_baseline).
build_node() {
    log "dotnet build -c Release ApiGateway"
    (cd "$BENCH_ROOT" && dotnet build -c Release ApiGateway -nologo) >"$BENCH_OUT/build.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/build.log" >&2; die "build failed (see $BENCH_OUT/build.log)"; }
    NODE_REVS[current]=$(git -C "$BENCH_ROOT" rev-parse --short HEAD)
    git -C "$BENCH_ROOT" diff --quiet HEAD -- . ':!bench' 2>/dev/null || NODE_DIRTY[current]=1
    if [[ -n $BENCH_BASELINE ]]; then build_baseline "$BENCH_BASELINE"; fi
}

# build_baseline REV: REV checked out in a temporary git worktree under BENCH_TMP (outside
# the repository's own folder; removed by bench_cleanup), built the same way as the current
# node, as the "baseline" node (NODE_DLLS[baseline]).
build_baseline() {
    local rev=$1 sha
    sha=$(git -C "$BENCH_ROOT" rev-parse --verify --quiet "$rev^{commit}") || die "BENCH_BASELINE: no commit '$rev'"
    BASELINE_TREE=$BENCH_TMP/baseline-src
    log "git worktree add $BASELINE_TREE $rev ($(git -C "$BENCH_ROOT" log -1 --format='%h %s' "$sha" | cut -c1-80))"
    git -C "$BENCH_ROOT" worktree add --detach "$BASELINE_TREE" "$sha" >"$BENCH_OUT/baseline-worktree.log" 2>&1 ||
        { cat "$BENCH_OUT/baseline-worktree.log" >&2; BASELINE_TREE=""; die "git worktree add failed"; }
    log "dotnet build -c Release ApiGateway (baseline $rev)"
    (cd "$BASELINE_TREE" && dotnet build -c Release ApiGateway -nologo) >"$BENCH_OUT/build-baseline.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/build-baseline.log" >&2; die "baseline build failed (see $BENCH_OUT/build-baseline.log)"; }
    NODE_DLLS[baseline]=$BASELINE_TREE/ApiGateway/bin/Release/net10.0/ApiGateway.dll
    [[ -f ${NODE_DLLS[baseline]} ]] || die "the baseline build made no ${NODE_DLLS[baseline]}"
    NODE_REVS[baseline]=$(git -C "$BENCH_ROOT" rev-parse --short "$sha")
}

# remove_baseline_tree: `git worktree remove` for the baseline's worktree, if any.
remove_baseline_tree() {
    [[ -n $BASELINE_TREE ]] || return 0
    git -C "$BENCH_ROOT" worktree remove --force "$BASELINE_TREE" >/dev/null 2>&1 ||
        { rm -rf "$BASELINE_TREE"; git -C "$BENCH_ROOT" worktree prune >/dev/null 2>&1; }
    BASELINE_TREE=""
    return 0
}

# bench_nodes: the nodes under test, in run order: "baseline current" with BENCH_BASELINE,
# else "current".
bench_nodes() {
    if [[ -n $BENCH_BASELINE ]]; then echo "baseline current"; else echo current; fi
}

# use_node NODE: the next start_node runs NODE's build; results are recorded under NODE.
use_node() {
    [[ -n ${NODE_DLLS[$1]:-} ]] || die "no build for the $1 node"
    BENCH_NODE=$1
    NODE_DLL=${NODE_DLLS[$1]}
}

# for_each_node FUNCTION: for every node under test (bench_nodes), a fresh PostgreSQL server,
# then FUNCTION (which starts the node and runs the scenarios), then the node and server
# stopped. Each node's log is BENCH_OUT/<node>-<NODE_LOG_NAME>.log.
for_each_node() {
    local fn=$1 node
    for node in $(bench_nodes); do
        use_node "$node"
        log "=== $node node (${NODE_REVS[$node]:-?}) ==="
        start_postgres
        "$fn"
        stop_node
        stop_postgres
    done
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
# BENCH_OUT/<node>-$NODE_LOG_NAME.log (a caller starting several nodes in turn names each
# one). The co-hosted Orleans silo gets a free port too and no gateway (a node from before
# Orleans ignores both settings), so a silo elsewhere on the machine (tests) cannot clash.
# shellcheck disable=SC2120 # the args are optional
start_node() {
    local attempt log=$BENCH_OUT/$BENCH_NODE-$NODE_LOG_NAME.log
    for attempt in 1 2 3; do
        NODE_URL=http://127.0.0.1:$(free_port)
        (
            if [[ -n $BENCH_CURRENT_ENV && $BENCH_NODE == current ]]; then
                # shellcheck disable=SC2086,SC2163 # one VAR=value per word
                export $BENCH_CURRENT_ENV
            fi
            run_gateway --urls "$NODE_URL" "--Orleans:SiloPort=$(free_port)" "--Orleans:GatewayPort=0" \
                "${NODE_CONFIG[@]}" "$@"
        ) >"$log" 2>&1 &
        NODE_PID=$!   # the subshell execs dotnet, so this is the node's own pid
        log "$BENCH_NODE node pid $NODE_PID on $NODE_URL"
        if wait_ready; then return 0; fi
        stop_node
        # Someone took a port between free_port and the bind: try other ones.
        grep -qi 'address already in use' "$log" || break
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
    pid=""
    if [[ -n $PG_DATA ]]; then pid=$(pg_postmaster_pid "$PG_DATA"); fi
    if [[ -z $pid ]]; then echo 0; return 0; fi
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
cpu_field() { result_field "${BENCH_CPU[$BENCH_NODE/$1]:-}" "$2"; }

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
    has_result "$name" && [[ -n ${BENCH_CPU[$BENCH_NODE/$name]:-} ]] || return 0
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

# scenario_field NAME KEY: KEY (rps, p50_ms, p99_ms, ...) of scenario NAME's measured run on
# the node under test (BENCH_NODE).
scenario_field() { result_field "${BENCH_RESULTS[$BENCH_NODE/$1]:-}" "$2"; }

# scenario_result NAME: that RESULT line; scenario_rss NAME: each watched node's peak RSS in
# MB during it, space-separated.
scenario_result() { echo "${BENCH_RESULTS[$BENCH_NODE/$1]:-}"; }
scenario_rss() { echo "${BENCH_RSS[$BENCH_NODE/$1]:-}"; }

# has_result NAME: true once scenario NAME has been measured on the node under test.
has_result() { [[ -n ${BENCH_RESULTS[$BENCH_NODE/$1]:-} ]]; }

# scenario_file NAME [warmup]: wrk's output of scenario NAME (or its warm-up) on BENCH_NODE.
scenario_file() { echo "$BENCH_OUT/$BENCH_NODE-$1${2:+-$2}.txt"; }

# scenario_answered NAME: "ANSWERED RUNS": the 2xx answers over every wrk run of scenario
# NAME on BENCH_NODE (its warm-up, any measured run discarded and its re-warm-up, the counted
# run), and how many runs that is. Each run may leave up to BENCH_CONNECTIONS requests in
# flight when wrk stops: answered to nobody, but done by the node all the same.
scenario_answered() {
    local f result answered=0 runs=0
    for f in "$(scenario_file "$1")" "$BENCH_OUT/$BENCH_NODE-$1"-*.txt; do
        [[ -f $f ]] || continue
        result=$(grep '^RESULT ' "$f" | tail -n 1) || continue
        answered=$((answered + $(result_field "$result" requests) - $(result_field "$result" non2xx)))
        runs=$((runs + 1))
    done
    echo "$answered $runs"
}

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

# node_label: the node under test and the revision it was built from, for tables.
node_label() { echo "$BENCH_NODE${NODE_REVS[$BENCH_NODE]:+ (${NODE_REVS[$BENCH_NODE]})}"; }

# run_scenario NAME SCRIPT URL [VAR=value ...]
# A warm-up run (JIT, connection pools, PostgreSQL caches), then the measured run while
# sampling the RSS of the node (of each node of BENCH_NODE_PIDS) and reading CPU time before
# and after it (BENCH_CPU, see cpu_breakdown). Raw outputs go to BENCH_OUT (scenario_file);
# a table row goes to BENCH_ROWS. Results are kept under the node under test (BENCH_NODE).
run_scenario() {
    local name=$1 script=$2 url=$3
    shift 3

    log "$name ($BENCH_NODE node): warm-up ${BENCH_WARMUP}s"
    run_wrk warmup "$BENCH_WARMUP" "$(scenario_file "$name" warmup)" "$script" "$url" "$@" >/dev/null ||
        die "$name: wrk warm-up failed"

    local rss_file=$BENCH_TMP/rss-$BENCH_NODE-$name cpu_before pids pid i attempt other
    read -ra pids <<<"$(bench_node_pids)"
    for ((attempt = 1; ; attempt++)); do
        log "$name ($BENCH_NODE node): measured ${BENCH_DURATION}s (attempt $attempt)"
        if [[ -n $BENCH_BEFORE_MEASURED ]]; then "$BENCH_BEFORE_MEASURED"; fi
        start_rss_samplers "$rss_file" "${pids[@]}"
        cpu_snapshot
        cpu_before=$CPU_SNAPSHOT
        run_wrk measured "$BENCH_DURATION" "$(scenario_file "$name")" "$script" "$url" "$@" -- --latency ||
            die "$name: wrk failed"
        cpu_snapshot
        BENCH_CPU[$BENCH_NODE/$name]=$(cpu_delta "$cpu_before" "$CPU_SNAPSHOT")
        stop_rss_sampler
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || die "$name: node $pid died during the run"
        done
        # On a shared machine: measure again when something else took the CPU meanwhile.
        other=$(awk -v busy="$(cpu_field "$name" busy)" -v node="$(cpu_field "$name" node)" \
            -v pg="$(cpu_field "$name" postgres)" -v nginx="$(cpu_field "$name" nginx)" -v wrk="$(cpu_field "$name" wrk)" \
            -v irq="$(cpu_field "$name" irq)" 'BEGIN { printf "%.0f", (busy > 0 ? (busy - node - pg - nginx - wrk - irq) / busy * 100 : 0) }')
        if ((BENCH_MAX_OTHER_PCT > 0 && other > BENCH_MAX_OTHER_PCT && attempt < BENCH_ATTEMPTS)); then
            log "$name ($BENCH_NODE node): other processes took $other % of the busy CPU: again after ${BENCH_RETRY_PAUSE}s and a 5 s warm-up"
            cp "$(scenario_file "$name")" "$(scenario_file "$name" "discarded-$attempt")"
            sleep "$BENCH_RETRY_PAUSE" &
            wait $!
            run_wrk warmup 5 "$(scenario_file "$name" "rewarm-$attempt")" "$script" "$url" "$@" >/dev/null ||
                die "$name: wrk warm-up failed"
            continue
        fi
        if ((attempt > 1)); then
            BENCH_NOTES+=("- $(node_label), $name: measured $attempt times (other processes took more than $BENCH_MAX_OTHER_PCT % of the busy CPU in the runs before; the last run counts, with $other %)")
        fi
        break
    done

    local result
    result=$(grep '^RESULT ' "$(scenario_file "$name")" | tail -n 1) || die "$name: no RESULT line from wrk"
    BENCH_RESULTS[$BENCH_NODE/$name]=$result
    [[ " ${BENCH_SCENARIOS[*]} " == *" $name "* ]] || BENCH_SCENARIOS+=("$name")
    # One figure per node, "a / b / c" with several. VmHWM is a node's peak since it started
    # (so it includes earlier scenarios).
    local peaks=() hwms=() peak_mb hwm_mb
    for i in "${!pids[@]}"; do
        peaks+=("$(kb_to_mb "$(cat "$rss_file.$((i + 1))")")")
        hwms+=("$(kb_to_mb "$(proc_status_kb "${pids[$i]}" VmHWM)")")
    done
    BENCH_RSS[$BENCH_NODE/$name]=${peaks[*]}
    peak_mb=$(printf '%s / ' "${peaks[@]}")
    peak_mb=${peak_mb% / }
    hwm_mb=$(printf '%s / ' "${hwms[@]}")
    hwm_mb=${hwm_mb% / }

    local non2xx sockets
    non2xx=$(result_field "$result" non2xx)
    sockets=$(($(result_field "$result" connect) + $(result_field "$result" read) +
        $(result_field "$result" write) + $(result_field "$result" timeout)))
    if ((non2xx > 0 || sockets > 0)); then
        # shellcheck disable=SC2034 # read by the benchmarks
        BENCH_FAILED=1
        log "$name: $non2xx non-2xx responses (statuses $(result_field "$result" statuses)), $sockets socket errors"
        grep '^FIRST_NON2XX ' "$(scenario_file "$name")" >&2 || true
    fi

    BENCH_ROWS+=("| $name | $(node_label) | $(result_field "$result" rps) | $(result_field "$result" p50_ms) | $(result_field "$result" p99_ms) | $non2xx | $sockets | $peak_mb | $hwm_mb |")
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
    local cpu mem_mb
    cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
    mem_mb=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), ${mem_mb} MB RAM, Linux $(uname -r)"
    echo "- .NET SDK $(dotnet --version), $("$PG_BIN/postgres" --version)$([[ $BENCH_PG_FAST == 1 ]] && echo ', synchronous_commit=off' || echo ', durable commits (fsync, synchronous_commit on)')"
    local node
    for node in $(bench_nodes); do
        [[ -n ${NODE_REVS[$node]:-} ]] || continue
        echo "- $node node: \`$(git -C "$BENCH_ROOT" log -1 --format='%h %ad %s' --date=short "${NODE_REVS[$node]}" | cut -c1-110)\`${NODE_DIRTY[$node]:+ (+ uncommitted changes outside bench/)}"
    done
    if [[ -n $BENCH_BASELINE ]]; then
        echo "- each node on its own fresh PostgreSQL server (same settings), baseline first"
    fi
    if [[ -n $BENCH_CONN_EXTRA ]]; then echo "- appended to the nodes' connection string: \`$BENCH_CONN_EXTRA\`"; fi
    if [[ -n $BENCH_CURRENT_CONN_EXTRA ]]; then
        echo "- appended to the current node's connection string only: \`$BENCH_CURRENT_CONN_EXTRA\`"
    fi
    if [[ -n $BENCH_CURRENT_ENV ]]; then echo "- in the current node's environment only: \`$BENCH_CURRENT_ENV\`"; fi
    return 0
}

# print_wrk_settings: the load generator's settings line.
print_wrk_settings() {
    echo "- wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'): ${BENCH_THREADS} threads, ${BENCH_CONNECTIONS} connections, ${BENCH_WARMUP} s warm-up + ${BENCH_DURATION} s measured per scenario, node and PostgreSQL on the same machine (loopback)"
}

# cpu_per_request_table: CPU per request of every measured scenario on every node (see cpu_breakdown),
# and the throughput those costs allow on this machine's CPUs.
cpu_per_request_table() {
    echo "| scenario | node | requests | node µs | PostgreSQL µs | wrk µs | kernel irq/softirq µs | other µs | machine busy µs | busy % | ceiling requests/s ¹ |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local name node saved=$BENCH_NODE
    for name in "${BENCH_SCENARIOS[@]}"; do
        for node in $(bench_nodes); do
            BENCH_NODE=$node
            has_result "$name" || continue
            awk -v hz="$CLK_TCK" -v cpus="$(nproc)" -v requests="$(scenario_field "$name" requests)" \
                -v name="$name" -v label="$(node_label)" \
                -v node="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
                -v nginx="$(cpu_field "$name" nginx)" -v wrk="$(cpu_field "$name" wrk)" \
                -v irq="$(cpu_field "$name" irq)" -v busy="$(cpu_field "$name" busy)" \
                -v all="$(cpu_field "$name" all)" 'BEGIN {
                us = 1e6 / hz / requests
                stack = node + pg + nginx + irq
                printf "| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% | %.0f |\n", name, label, requests,
                    node * us, pg * us, wrk * us, irq * us, (busy - node - pg - nginx - wrk - irq) * us, busy * us,
                    busy / all * 100, (stack > 0 ? cpus * hz * requests / stack : 0)
            }'
        done
    done
    BENCH_NODE=$saved
    echo
    echo "¹ $(nproc) CPUs ÷ (node + PostgreSQL + kernel networking CPU per request): what the machine could serve if nothing else (wrk) ran on it. /proc/<pid>/stat and /proc/stat over the measured window; \"other\" = busy time no listed process accounts for (other processes on the machine; a few per cent below zero when the kernel charges loopback softirq time to the running process too)."
}

# comparison_report: per scenario, the baseline's and the current node's figures, the ratio
# of their throughputs and the verdict against TARGET_RATIO / TARGET_P99 / TARGET_RSS.
comparison_report() {
    [[ -n $BENCH_BASELINE ]] || return 0
    echo "| scenario | baseline requests/s | current requests/s | ratio | p50 ms (baseline → current) | p99 ms (baseline → current) | non-2xx + socket errors (baseline / current) | peak RSS MB (baseline / current) | target | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    local name saved=$BENCH_NODE b c b_rss c_rss
    for name in "${BENCH_SCENARIOS[@]}"; do
        BENCH_NODE=baseline
        b=$(scenario_result "$name")
        b_rss=$(scenario_rss "$name")
        BENCH_NODE=current
        c=$(scenario_result "$name")
        c_rss=$(scenario_rss "$name")
        [[ -n $b && -n $c ]] || continue
        awk -v name="$name" -v b="$b" -v c="$c" -v b_rss="${b_rss%% *}" -v c_rss="${c_rss%% *}" \
            -v t_ratio="${TARGET_RATIO[$name]:-}" -v t_p99="${TARGET_P99[$name]:-}" -v t_rss="${TARGET_RSS[$name]:-}" '
            function parse(line, out,    n, kv, i, p) {
                n = split(line, kv, " ")
                for (i = 2; i <= n; i++) { split(kv[i], p, "="); out[p[1]] = p[2] }
                out["errors"] = out["non2xx"] + out["connect"] + out["read"] + out["write"] + out["timeout"]
            }
            BEGIN {
                parse(b, B); parse(c, C)
                ratio = C["rps"] / B["rps"]
                target = ""; missed = ""
                if (t_ratio != "") { target = target "≥ " t_ratio "×"; if (ratio < t_ratio) missed = missed " throughput" }
                if (t_p99 != "") { target = target ", p99 ≤ " t_p99 " ms"; if (C["p99_ms"] > t_p99 + 0) missed = missed " p99" }
                if (t_rss != "") { target = target ", RSS ≤ " t_rss " MB"; if (c_rss > t_rss + 0) missed = missed " RSS" }
                target = target (target == "" ? "" : ", ") "0 non-2xx"
                if (C["errors"] > 0) missed = missed " errors"
                verdict = missed == "" ? "met" : "**missed**:" missed
                printf "| %s | %.0f | %.0f | **%.2f×** | %.2f → %.2f | %.2f → %.2f | %d / %d | %s / %s | %s | %s |\n",
                    name, B["rps"], C["rps"], ratio, B["p50_ms"], C["p50_ms"], B["p99_ms"], C["p99_ms"],
                    B["errors"], C["errors"], b_rss, c_rss, target, verdict
            }'
    done
    BENCH_NODE=$saved
}

# print_report COMMAND: the results as markdown, ready for bench/RESULTS.md.
print_report() {
    echo
    echo "command: \`$1\`"
    echo
    print_machine
    print_wrk_settings
    echo
    echo "| scenario | node | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MB | VmHWM MB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${BENCH_ROWS[@]}"
    if [[ -n $BENCH_BASELINE ]]; then
        echo
        echo "Current node vs baseline (same run):"
        echo
        comparison_report
    fi
    echo
    echo "CPU per request during each measured run:"
    echo
    cpu_per_request_table
    if ((${#BENCH_NOTES[@]})); then
        echo
        printf '%s\n' "${BENCH_NOTES[@]}"
    fi
    echo
    echo "raw wrk outputs and node logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"
}
