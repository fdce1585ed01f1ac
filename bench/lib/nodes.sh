# shellcheck shell=bash
# The nodes under test: their builds (the working tree's and, with BENCH_BASELINE, another
# revision's), and the clusters they run in. Every benchmark starts PostgreSQL, its node(s) and
# nginx with deploy/cluster.sh (a single node is `--nodes 1 --no-nginx`), each time in a state
# folder of its own under BENCH_TMP, and reads back what it measures from its cluster.env:
# URLs, PIDs, the connection string, the signing key. Also: tokens, the database, nginx's
# access log, and smoke requests before wrk runs.
#
# A baseline in the same run: with BENCH_BASELINE=<git revision> a single-node scenario builds
# that revision too (in a temporary `git worktree` under BENCH_TMP, removed at the end), runs
# on it and then on the working tree's node — each on a fresh PostgreSQL server with the same
# settings — and prints both rows and their ratio (for_each_node, comparison_report).

CLUSTER_SH=$BENCH_ROOT/deploy/cluster.sh

# The working tree's Release build; NODE_DLLS[baseline] once build_baseline made it.
CURRENT_DLL=$BENCH_ROOT/ApiGateway/bin/Release/net10.0/ApiGateway.dll
# The node under test: "current" (the working tree) or "baseline" (BENCH_BASELINE's build).
# Scenario results, output files and table rows are kept per node.
BENCH_NODE=current
declare -gA NODE_DLLS=([current]=$CURRENT_DLL)
declare -gA NODE_REVS=()     # node -> the revision it was built from, for the report
declare -gA NODE_DIRTY=()    # node -> 1 when built with uncommitted changes (outside bench/)
BASELINE_TREE=""             # the baseline's git worktree (under BENCH_TMP) while it exists

# The single-node results of bench/RESULTS.md were measured with this connection pool (a
# cluster's nodes keep deploy/cluster.sh's 30 each).
SINGLE_NODE_POOL=64
# Node settings in the environment of the next nodes_up / nodes_restart (ASP.NET's `__` form).
# Rate limiting is off, and the cap on one client address's pending visitor chats lifted,
# because wrk and HubLoad send everything from one client IP. Unanswered chats close after a
# day, not 10 minutes: a run longer than that would otherwise measure the node closing the
# first rounds' chats while it creates (a cost the peers, which never close, do not have; a
# 20-minute vs-peers run at 17:14 showed it). `bench/run.sh timeouts` measures the closing.
NODE_ENV=(RateLimiting__Enabled=false Chats__MaxPendingPerClientAddress=1000000 Chats__UnansweredTimeout=1.00:00:00)

# The cluster that is up (empty: none), from its cluster.env.
CLUSTER_STATE=""      # its state folder
CLUSTER_UPS=0         # clusters started so far: each gets a state folder and log folder of its own
NODE_URL=""           # the first node (the only one of a single-node scenario)
NODE_PID=""
CLUSTER_NODE_URLS=()  # each node's own URL, in node order (BENCH_NODE_PIDS holds their pids)
BENCH_NODE_PIDS=()    # what bench/lib/measure.sh samples: RSS and CPU time of every node
BENCH_NGINX_PID=""    # the balancer (empty with --no-nginx): its CPU time is counted
BENCH_PG_PID=""       # the postmaster: its CPU time (with its backends') is counted
LB_URL=""             # nginx in front of the nodes (empty with --no-nginx)
PG_PORT=""
SIGNING_KEY=""        # the nodes' key (PEM): HubLoad signs the commercials' tokens with it

# ---------------------------------------------------------------------------------------
# Builds

# build_bench_nodes: the working tree's Release build (CURRENT_DLL); with BENCH_BASELINE, the
# baseline's too (build_baseline).
build_bench_nodes() {
    dotnet_build_release "$BENCH_ROOT" ApiGateway "$BENCH_OUT/build.log"
    NODE_REVS[current]=$(git -C "$BENCH_ROOT" rev-parse --short HEAD)
    # shellcheck disable=SC2034 # read by print_machine
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
    dotnet_build_release "$BASELINE_TREE" ApiGateway "$BENCH_OUT/build-baseline.log" "baseline $rev"
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

# for_each_node FUNCTION: FUNCTION (which brings its node up with nodes_up and runs the
# scenarios) for every node under test (bench_nodes), each time followed by nodes_down, so
# each node gets a PostgreSQL server of its own.
for_each_node() {
    local fn=$1 node
    for node in $(bench_nodes); do
        [[ -n ${NODE_DLLS[$node]:-} ]] || die "no build for the $node node"
        BENCH_NODE=$node
        log "=== $node node (${NODE_REVS[$node]:-?}) ==="
        "$fn"
        nodes_down
    done
}

# ---------------------------------------------------------------------------------------
# Clusters (deploy/cluster.sh)

# cluster_sh COMMAND [ARGS...]: deploy/cluster.sh on this run's cluster (CLUSTER_STATE), with
# NODE_ENV (and, for the current node, BENCH_CURRENT_ENV) in its environment, which the nodes
# inherit. Settings of cluster.sh that the caller's environment may hold, and that would
# change what is measured, are removed: the options nodes_up passes say everything.
cluster_sh() {
    local current_env=()
    # shellcheck disable=SC2206 # one VAR=value per word
    if [[ -n $BENCH_CURRENT_ENV && $BENCH_NODE == current ]]; then current_env=($BENCH_CURRENT_ENV); fi
    env -u CHATGRAINS_PG -u NODES -u NO_NGINX -u NODE_DLL -u NODE_POOL -u PG_SETTINGS -u CONN_EXTRA \
        -u SKIP_BUILD STATE_DIR="$CLUSTER_STATE" LB_PORT="" "${NODE_ENV[@]}" "${current_env[@]}" \
        "$CLUSTER_SH" "$@" </dev/null
}

# cluster_value NAME: a value from the cluster's cluster.env, read in a subshell so its other
# names do not overwrite this shell's.
cluster_value() {
    # shellcheck source=/dev/null
    (source "$CLUSTER_STATE/cluster.env" && printf '%s' "${!1}")
}

# read_cluster_env: this shell's view of the cluster that is up (see the globals above).
read_cluster_env() {
    LB_URL=$(cluster_value LB_URL)
    read -ra CLUSTER_NODE_URLS <<<"$(cluster_value NODE_URLS)"
    read -ra BENCH_NODE_PIDS <<<"$(cluster_value NODE_PIDS)"
    NODE_URL=${CLUSTER_NODE_URLS[0]}
    NODE_PID=${BENCH_NODE_PIDS[0]}
    BENCH_NGINX_PID=$(cluster_value NGINX_PID)
    BENCH_PG_PID=$(cluster_value PG_PID)
    PG_PORT=$(cluster_value PG_PORT)
    # shellcheck disable=SC2034 # read by the hub scenario
    SIGNING_KEY=$(cluster_value SIGNING_KEY)
}

# nodes_up N [deploy/cluster.sh options, e.g. --no-nginx, --pool 64]: PostgreSQL, N nodes of
# the node under test's build (BENCH_NODE) and, unless --no-nginx, nginx, from deploy/cluster.sh
# in a new state folder, with the BENCH_PG_* and BENCH_*CONN_EXTRA settings. Logs to
# BENCH_OUT/<node>-<k>-up.log; the cluster's own logs are kept by nodes_down.
nodes_up() {
    local n=$1 tag opts extra=$BENCH_CONN_EXTRA
    shift
    [[ -z $CLUSTER_STATE ]] || die "nodes_up: a cluster is already up ($CLUSTER_STATE)"
    CLUSTER_UPS=$((CLUSTER_UPS + 1))
    tag=$BENCH_NODE-$CLUSTER_UPS
    CLUSTER_STATE=$BENCH_TMP/$tag
    opts=(--nodes "$n" --dll "${NODE_DLLS[$BENCH_NODE]}" "$@")
    # Durable commits unless BENCH_PG_FAST=1 says otherwise: results must reflect them.
    if [[ $BENCH_PG_FAST == 1 ]]; then opts+=(--pg-setting synchronous_commit=off); fi
    if [[ $BENCH_PG_STATEMENTS == 1 ]]; then
        opts+=(--pg-setting "shared_preload_libraries = 'pg_stat_statements'" --pg-setting "pg_stat_statements.track = all")
    fi
    if [[ -n $BENCH_CURRENT_CONN_EXTRA && $BENCH_NODE == current ]]; then extra+=";${BENCH_CURRENT_CONN_EXTRA#;}"; fi
    if [[ -n $extra ]]; then opts+=(--conn-extra "${extra#;}"); fi
    log "deploy/cluster.sh up ${opts[*]} (${NODE_ENV[*]}; state: $CLUSTER_STATE)"
    cluster_sh up "${opts[@]}" >"$BENCH_OUT/$tag-up.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/$tag-up.log" >&2; die "deploy/cluster.sh up failed (log: $BENCH_OUT/$tag-up.log)"; }
    read_cluster_env
    ((${#BENCH_NODE_PIDS[@]} == n)) || die "cluster.env lists ${#BENCH_NODE_PIDS[@]} node pids, not $n"
    if [[ $BENCH_PG_STATEMENTS == 1 ]]; then bench_psql "CREATE EXTENSION pg_stat_statements" >/dev/null; fi
    # Read back from the server what makes commits durable, so the log proves it.
    log "up: $n node(s) ${CLUSTER_NODE_URLS[*]} (pids ${BENCH_NODE_PIDS[*]}), nginx ${LB_URL:-none}${BENCH_NGINX_PID:+ (pid $BENCH_NGINX_PID)}, PostgreSQL pid $BENCH_PG_PID: $(bench_psql \
        "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')")"
}

# single_node_up: one node without a balancer, as the single-node results were measured.
single_node_up() { nodes_up 1 --no-nginx --pool "$SINGLE_NODE_POOL"; }

# nodes_restart: new node processes on the same PostgreSQL (deploy/cluster.sh restart), with
# NODE_ENV as it is now: a fresh node, or the same build with other settings.
nodes_restart() {
    local tag
    tag=$(basename "$CLUSTER_STATE")
    log "deploy/cluster.sh restart (${NODE_ENV[*]})"
    cluster_sh restart >>"$BENCH_OUT/$tag-up.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/$tag-up.log" >&2; die "deploy/cluster.sh restart failed (log: $BENCH_OUT/$tag-up.log)"; }
    read_cluster_env
    log "restarted: node(s) ${CLUSTER_NODE_URLS[*]} (pids ${BENCH_NODE_PIDS[*]})"
}

# nodes_down: `deploy/cluster.sh down` for the cluster that is up, keeping the nodes' logs,
# PostgreSQL's and nginx's error log (not its access log: one line per request) in
# BENCH_OUT/<node>-<k>/.
nodes_down() {
    [[ -n $CLUSTER_STATE ]] || return 0
    if [[ -d $CLUSTER_STATE ]]; then
        local tag
        tag=$(basename "$CLUSTER_STATE")
        mkdir -p "$BENCH_OUT/$tag"
        # (No nginx with --no-nginx, so not every file is there.)
        cp "$CLUSTER_STATE"/nodes/*.log "$CLUSTER_STATE/postgres/server.log" "$CLUSTER_STATE/nginx/error.log" \
            "$BENCH_OUT/$tag/" 2>/dev/null || true
        cluster_sh down >>"$BENCH_OUT/$tag-down.log" 2>&1 ||
            log "deploy/cluster.sh down failed (log: $BENCH_OUT/$tag-down.log)"
    fi
    CLUSTER_STATE=""
    # shellcheck disable=SC2034 # read by the scenarios
    NODE_URL="" NODE_PID="" LB_URL="" PG_PORT=""
    CLUSTER_NODE_URLS=()
    BENCH_NODE_PIDS=()
    BENCH_NGINX_PID=""
    BENCH_PG_PID=""
    return 0
}

# node_token ROLE: a token signed with the cluster's key (deploy/cluster.sh token), valid for
# two hours: longer than any benchmark.
node_token() {
    local token
    token=$(cluster_sh token "$1" --lifetime 02:00:00) || die "deploy/cluster.sh token failed"
    [[ -n $token ]] || die "deploy/cluster.sh token printed nothing"
    echo "$token"
}

# ---------------------------------------------------------------------------------------
# The database

# bench_psql SQL: one value from the nodes' database.
bench_psql() {
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d chatgrains -Atc "$1"
}

# grain_records KIND: how many records of KIND (chat, guestSession, liveChatSession) the
# database holds. On Orleans a record is the grain's row in orleansstorage (graintypestring =
# KIND); on the pre-Orleans schema (e.g. a BENCH_BASELINE node) it is a row of the kind's own table.
grain_records() {
    local kind=$1 table
    if [[ $(bench_psql "SELECT to_regclass('orleansstorage') IS NOT NULL") == t ]]; then
        bench_psql "SELECT count(*) FROM orleansstorage WHERE graintypestring = '$kind'"
        return 0
    fi
    case $kind in
        chat) table=chats ;;
        guestSession) table=chat_sessions ;;
        liveChatSession) table=livechat_sessions ;;
        *) die "grain_records: unknown kind '$kind'" ;;
    esac
    bench_psql "SELECT count(*) FROM $table"
}

# ---------------------------------------------------------------------------------------
# nginx's access log

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

# ---------------------------------------------------------------------------------------
# Smoke requests

# post_guest_session URL HEADERS BODY: a new guest session with curl (headers and body to the
# files named); prints the status.
post_guest_session() {
    curl -sS -o "$3" -D "$2" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
        --data-binary "{\"session_id\": \"$(new_uuid)\", \"guest_name\": \"Guest\", \"guest_email\": \"guest@example.com\"}" \
        "$1/api/v1/chat/guest/session"
}

# put_chat URL TOKEN BODY_OUT [CHAT_ID]: the benchmark's chat (bench/payloads/chats-put.json)
# PUT with curl, a new id unless given; prints the status.
put_chat() {
    curl -sS -o "$3" -w '%{http_code}' -X PUT -H "Authorization: Bearer $2" \
        -H "Content-Type: application/json" --data-binary "@$BENCH_ROOT/bench/payloads/chats-put.json" \
        "$1/v2/chats/${4:-$(new_uuid)}"
}

# cluster_smoke URL TOKEN: one request of each endpoint benchmarked here, with curl, so a
# wrong setup fails before wrk runs: the chat creation (200), a guest session (201, and no
# RateLimit-Policy header: the limiter is off on whichever node answered) and a live-chat
# session (201).
cluster_smoke() {
    local url=$1 token=$2 status headers=$BENCH_TMP/smoke.headers body=$BENCH_TMP/smoke.json
    status=$(put_chat "$url" "$token" "$body")
    [[ $status == 200 ]] || die "smoke $url: PUT /v2/chats answered $status: $(head -c 600 "$body")"
    status=$(post_guest_session "$url" "$headers" "$body")
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
    for url in "${CLUSTER_NODE_URLS[@]}" ${LB_URL:+"$LB_URL"}; do cluster_smoke "$url" "$1"; done
    log "smoke checks passed on ${#CLUSTER_NODE_URLS[@]} node(s)${LB_URL:+ and through nginx} (rate limiting off everywhere)"
}
