# shellcheck shell=bash
# The node against the yardsticks of ../shared/peers/ (issue 18): the working tree's Release
# node, the Express peer (the specifications' own stack: Express, zod, pg, jsonwebtoken) and the
# ASP.NET one-INSERT ceiling, side by side on ONE PostgreSQL server (a database each), measured
# interleaved with the same wrk scripts, so that the ratios hold on a shared machine where the
# absolute figures move from run to run.
#
#   bench/run.sh vs-peers
#
# Set-up: deploy/cluster.sh up --nodes 1 --no-nginx --pool 64 (as chats-fresh; BENCH_PG_FAST and
# BENCH_PG_STATEMENTS apply to that server, hence to all three alike), max_connections raised so
# the three pools fit. On the same server the databases `peer` and `ceiling`; the peer copied from
# ../shared/peers/express into BENCH_TMP, `npm ci`, run as `node src/server.js` with WORKERS=2,
# RATE_LIMIT=off and the node's signing key pair (the public PEM derived with openssl), and the
# issuer and audience the node's tokens carry (JWT_ISSUER / JWT_AUDIENCE: the node checks both,
# so the peer does the same work); the ceiling copied from ../shared/peers/aspnet-insert,
# `dotnet publish -c Release`, run with `Db=...;Maximum Pool Size=50`. The peers are not
# changed. Before any wrk run, curl checks that each server answers the bodies and the token
# the wrk scripts send (200 / 201).
#
# Scenarios (VS_SCENARIOS, default all five, in this order in each round):
#   fresh       PUT /v2/chats/{new id}, the two fixed commercials of bench/payloads/chats-put.json
#               (bench/lua/chats-fresh.lua): node, peer, ceiling
#   fresh-1000  PUT /v2/chats/{new id}, each chat naming two random commercials of a fixed set of
#               VS_COMMERCIALS (1000) (bench/lua/chats-fresh-spread.lua): node, peer, ceiling
#   replay      PUT of one existing chat, created first on each (bench/lua/chats-replay.lua): node, peer
#   guest       POST /api/v1/chat/guest/session (bench/lua/guest-sessions.lua): node, peer
#   livechat    POST /livechat/session (bench/lua/livechat.lua): node, peer
# For round 1..VS_ROUNDS (2), for each scenario, node then peer then ceiling (then the baseline),
# in that order in odd rounds and the reverse in even ones (vs_run_order): each a warm-up
# (BENCH_WARMUP in round 1, VS_REWARMUP (5) s in later rounds: the processes are warm by then)
# and BENCH_DURATION measured with wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS --latency. Each run
# records requests/s, p50, p99, non-2xx, socket errors (timeouts apart), the CPU time per request
# of the server under test (all its processes) and of PostgreSQL (postmaster and backends), and
# the server's peak RSS (bench/lib/wrk.sh run_scenario, bench/lib/measure.sh).
#
# The report: a table per scenario (each round, then the medians), the median ratios node/peer
# and node/ceiling (the median of each round's ratio), and a verdict per scenario computed
# against issue 18's targets (VS_TARGET_*: fresh and fresh-1000 ≥ 1.5× the peer and ≥ 0.5× the
# ceiling with p99 ≤ 50 ms; replay ≥ 6× the peer, p99 ≤ 10 ms; guest and livechat ≥ 1.5× the
# peer, p99 ≤ 50 ms; and no error in any of the node's measured runs; p99 is the median over the
# rounds). After the runs each server's chat records are counted against its 200s (the records
# are the acknowledged creations, plus at most one per connection per wrk run in flight when wrk
# stopped, as chats.sh allows).
#
# With BENCH_BASELINE=<git revision> (e.g. e880b08) that revision's node is built too and started
# next to the others, on its own database `baseline` of the same PostgreSQL server (its migrations
# create their tables in whatever database they are given; deploy/cluster.sh with CHATGRAINS_PG),
# and `fresh` is measured on it in every round after the ceiling: the report gives node +
# PostgreSQL CPU per fresh creation, current vs baseline (issue 18's contention-proof figure).
#
# Settings (environment), besides bench/lib/common.sh's:
#   VS_ROUNDS        rounds (default 2)
#   VS_SCENARIOS     the scenarios to measure, space-separated (default: all five)
#   VS_REWARMUP      warm-up seconds of rounds 2.. (default 5; at most BENCH_WARMUP)
#   VS_COMMERCIALS   the fixed set of commercials of fresh-1000 (default 1000)
#   VS_PEERS_DIR     the yardsticks' folder (default: ../shared/peers beside the repository,
#                    else beside the main checkout of this git worktree)
#   VS_PEER_WORKERS  the Express peer's WORKERS (default 2: one per core)
#   VS_CHECKPOINT    1 (default): a PostgreSQL CHECKPOINT before each server's warm-up, so no
#                    server's measured run pays for the WAL the servers before it wrote (an
#                    automatic checkpoint, and the full-page writes after it, landed in one run and
#                    not the others: a 196 ms p99 where the other round had 31 ms); 0: none
#   VS_VACUUM        1 (default): before that CHECKPOINT, VACUUM (ANALYZE) the other servers'
#                    databases, so no autovacuum of the rows one server wrote runs in the next
#                    server's window (PostgreSQL logs every autovacuum here:
#                    log_autovacuum_min_duration=0); 0: none
#   VS_SETTLE_SECONDS, VS_SETTLE_PCT  before each server's warm-up, wait (at most 20 s) until the
#                    machine was less than 10 % busy for a second: the server measured before
#                    may still be working off its load (GC, deferred writes) and would take the
#                    CPU from the next one. Each run's table row gives the share of the busy CPU
#                    that went to other processes (the idle servers among them); with
#                    BENCH_MAX_OTHER_PCT a run whose share is higher is measured again.
# Beside the runs (VS_STALL_PROBE=1, the default; 0: none), bench/lib/stall-probe.py (python3)
# logs every time a process that only sleeps 10 ms at a time woke up more than 50 ms late
# (BENCH_OUT/stalls.log); the report counts them: a latency spike that coincides with one was a
# stall of the machine, not of the server. For the node the report also gives its own p99 per
# run (ASP.NET Core's request-duration histogram, read from /metrics before and after the
# measured run): a tail wrk saw and the node did not was spent outside it.
# Exits 1 after the report when a request failed (any server) or records are missing; a missed
# target alone does not fail the run: its verdict says MISSED.

apply_defaults VS_ROUNDS=2 VS_SCENARIOS="fresh fresh-1000 replay guest livechat" VS_REWARMUP=5 \
    VS_COMMERCIALS=1000 VS_PEERS_DIR= VS_PEER_WORKERS=2 VS_SETTLE_SECONDS=20 VS_SETTLE_PCT=10 VS_CHECKPOINT=1 \
    VS_VACUUM=1 VS_STALL_PROBE=1

VS_ALL_SCENARIOS=(fresh fresh-1000 replay guest livechat)
VS_LUA=$BENCH_ROOT/bench/lua
# The peer's pg pool per worker (its own default, PG_POOL_MAX, not changed) and the ceiling's
# pool (its README's): what PostgreSQL's max_connections must leave room for.
VS_PEER_POOL=10
VS_CEILING_POOL=50

# Issue 18's targets per scenario: the node's requests/s ÷ the peer's and ÷ the ceiling's
# (medians of the rounds' ratios), and the node's p99 in ms (median of the rounds).
declare -gA VS_TARGET_PEER=([fresh]=1.5 [fresh-1000]=1.5 [replay]=6 [guest]=1.5 [livechat]=1.5)
declare -gA VS_TARGET_CEILING=([fresh]=0.5 [fresh-1000]=0.5)
declare -gA VS_TARGET_P99=([fresh]=50 [fresh-1000]=50 [replay]=10 [guest]=50 [livechat]=50)
# shellcheck disable=SC2016 # backquotes for markdown
declare -gA VS_TITLE=(
    [fresh]='fresh `PUT /v2/chats/{new id}`, two fixed commercials named'
    [fresh-1000]='fresh `PUT /v2/chats/{new id}`, each chat naming two of VS_COMMERCIALS commercials'
    [replay]='`PUT /v2/chats/{id}` of one existing chat, again and again'
    [guest]='`POST /api/v1/chat/guest/session`'
    [livechat]='`POST /livechat/session`'
)

# The servers under test, as BENCH_NODE names them (results are kept per BENCH_NODE and scenario
# name): current (the working tree's node), peer, ceiling, baseline (BENCH_BASELINE's node).
declare -gA VS_URL=() VS_PIDS=() VS_TOKEN=() VS_DB=() VS_REPLAY_ID=() VS_RECORDS0=()
# "target/run name" -> the chat records the server held when the measured run of a fresh
# scenario started: a creation's cost may grow with what is stored (the node's offers).
declare -gA VS_STORED=()
# run name -> the node's own latency over that measured run (request_duration_p99's fields).
declare -gA VS_NODE_LATENCY=()
VS_RUN_NAME=""        # the run vs_measure is measuring (for vs_before_measured)
VS_SELECTED=()
VS_PEER_DIR=""        # the peer's copy (BENCH_TMP/peers/express)
VS_CEILING_DIR=""     # the ceiling's copy, published into its bin/
VS_PEER_PID=""        # the peer's primary process (its workers are its children)
VS_CEILING_PID=""
VS_BASELINE_STATE=""  # the baseline node's deploy/cluster.sh state folder, while it is up
VS_KEYS=""            # the node's key pair for the peer: private.pem, public.pem
VS_PEER_JWT=""        # the issuer and audience the peer checks, for the report
VS_MAX_CONNECTIONS="" # PostgreSQL's max_connections, for the report

# Labels for the tables.
vs_label() {
    case $1 in
        current) echo "node (${NODE_REVS[current]:-?})" ;;
        baseline) echo "baseline node (${NODE_REVS[baseline]:-?})" ;;
        peer) echo "peer (Express, $VS_PEER_WORKERS workers)" ;;
        ceiling) echo "ceiling (ASP.NET, one INSERT)" ;;
    esac
}

# vs_run_order SCENARIO ROUND: the servers in the order they run in ROUND: vs_targets' order in
# odd rounds, reversed in even ones, so that no server always takes the same place (an A/A run,
# one build in two places, measured the first place of each round 4–17 % slower). Use an even
# VS_ROUNDS for comparisons that must be fair to within that.
vs_run_order() {
    local targets i
    read -ra targets <<<"$(vs_targets "$1")"
    if (($2 % 2 == 0)); then
        for ((i = ${#targets[@]} - 1; i >= 0; i--)); do printf '%s ' "${targets[i]}"; done
    else
        printf '%s ' "${targets[@]}"
    fi
}

# vs_targets SCENARIO: the servers SCENARIO runs on, in the order of the odd rounds.
vs_targets() {
    case $1 in
        fresh) echo "current peer ceiling${BENCH_BASELINE:+ baseline}" ;;
        fresh-1000) echo "current peer ceiling" ;;
        *) echo "current peer" ;;
    esac
}

# ---------------------------------------------------------------------------------------
# Set-up

# vs_find_peers: VS_PEERS_DIR, or ../shared/peers beside the repository, or beside the main
# checkout when this tree is a git worktree (its ../shared is then not the project's).
vs_find_peers() {
    local candidates=() common
    if [[ -n $VS_PEERS_DIR ]]; then candidates=("$VS_PEERS_DIR"); else
        candidates=("$BENCH_ROOT/../shared/peers")
        common=$(git -C "$BENCH_ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
        [[ -z $common ]] || candidates+=("$(dirname "$common")/../shared/peers")
    fi
    local dir
    for dir in "${candidates[@]}"; do
        if [[ -f $dir/express/package.json && -f $dir/aspnet-insert/Program.cs ]]; then
            VS_PEERS_DIR=$(cd "$dir" && pwd)
            return 0
        fi
    done
    die "no peers (express/, aspnet-insert/) in ${candidates[*]}: set VS_PEERS_DIR"
}

# vs_build_peers: both yardsticks copied out of VS_PEERS_DIR (it may be read-only, and builds
# write beside the sources) and built: `npm ci` for the peer, `dotnet publish` for the ceiling.
# Before anything runs, so the builds compete with nothing measured.
vs_build_peers() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= 20)) || die "the peer needs Node.js ≥ 20 (package.json engines); this is $(node --version)"
    mkdir -p "$BENCH_TMP/peers"
    cp -r "$VS_PEERS_DIR/express" "$VS_PEERS_DIR/aspnet-insert" "$BENCH_TMP/peers/"
    # The copies keep the source's read-only modes.
    chmod -R u+w "$BENCH_TMP/peers"
    VS_PEER_DIR=$BENCH_TMP/peers/express
    VS_CEILING_DIR=$BENCH_TMP/peers/aspnet-insert
    log "npm ci (the Express peer, node $(node --version))"
    (cd "$VS_PEER_DIR" && npm ci --no-audit --no-fund) >"$BENCH_OUT/peer-npm-ci.log" 2>&1 ||
        { tail -n 20 "$BENCH_OUT/peer-npm-ci.log" >&2; die "npm ci failed (log: $BENCH_OUT/peer-npm-ci.log)"; }
    log "dotnet publish -c Release (the one-INSERT ceiling)"
    (cd "$VS_CEILING_DIR" && dotnet publish -c Release -o bin -nologo) >"$BENCH_OUT/ceiling-publish.log" 2>&1 ||
        { tail -n 20 "$BENCH_OUT/ceiling-publish.log" >&2; die "dotnet publish failed (log: $BENCH_OUT/ceiling-publish.log)"; }
    [[ -f $VS_CEILING_DIR/bin/aspnet-insert.dll ]] || die "dotnet publish made no aspnet-insert.dll"
}

# vs_psql DB SQL: one value from database DB of the shared server.
vs_psql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -Atc "$2"; }

# vs_node_up: the working tree's node as chats-fresh starts it, with room in max_connections for
# every pool that will use the server: the node's, the peer's workers', the ceiling's and the
# baseline node's (deploy/cluster.sh gives a single node 64 + 20; the last line of a name wins).
vs_node_up() {
    local max=$((SINGLE_NODE_POOL + VS_PEER_WORKERS * VS_PEER_POOL + VS_CEILING_POOL + 20))
    if [[ -n $BENCH_BASELINE ]]; then max=$((max + SINGLE_NODE_POOL)); fi
    VS_MAX_CONNECTIONS=$max
    BENCH_NODE=current
    nodes_up 1 --no-nginx --pool "$SINGLE_NODE_POOL" --pg-setting "max_connections=$max" \
        --pg-setting "log_autovacuum_min_duration=0"
    VS_URL[current]=$NODE_URL
    VS_PIDS[current]=${BENCH_NODE_PIDS[*]}
    VS_DB[current]=chatgrains
    VS_TOKEN[current]=$(node_token admin)
    local db
    for db in peer ceiling ${BENCH_BASELINE:+baseline}; do
        vs_psql postgres "CREATE DATABASE $db" >/dev/null || die "could not create the database $db"
    done
}

# vs_jwt_claim TOKEN NAME: a string claim of a JWT's payload (empty when absent or not a string).
vs_jwt_claim() {
    local part=${1#*.}
    part=${part%%.*}
    part=${part//-/+}
    part=${part//_//}
    while ((${#part} % 4)); do part+="="; done
    base64 -d <<<"$part" 2>/dev/null | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"
}

# vs_keys: the node's signing key (deploy/cluster.sh's SIGNING_KEY, a PKCS#8 PEM) and its public
# half, for the peer: it verifies the node's tokens and signs its session tokens with them.
vs_keys() {
    VS_KEYS=$BENCH_TMP/peer-keys
    mkdir -m 700 "$VS_KEYS"
    cp "$SIGNING_KEY" "$VS_KEYS/private.pem"
    openssl pkey -in "$VS_KEYS/private.pem" -pubout -out "$VS_KEYS/public.pem" 2>"$BENCH_OUT/openssl-pubout.log" ||
        die "openssl could not derive the public key of $SIGNING_KEY"
}

# vs_launch NAME DIR LOG COMMAND...: COMMAND started from DIR in the background, its output
# appended to LOG; prints its PID (the subshell execs it, so $! is the server's own PID).
vs_launch() {
    local dir=$2 logfile=$3
    shift 3
    (cd "$dir" && exec "$@") </dev/null >>"$logfile" 2>&1 &
    echo $!
}

# vs_peer_up: the Express peer on a free port (3 attempts: another process may take the port
# between free_port and the bind), then its workers' PIDs.
vs_peer_up() {
    local token=${VS_TOKEN[current]} issuer audience port attempt pid="" logfile=$BENCH_OUT/peer.log
    issuer=$(vs_jwt_claim "$token" iss)
    audience=$(vs_jwt_claim "$token" aud)
    [[ -n $issuer && -n $audience ]] || die "the node's token has no string iss/aud claim: cannot configure the peer alike"
    VS_PEER_JWT="iss=$issuer aud=$audience"
    for attempt in 1 2 3; do
        port=$(free_port)
        log "Express peer: node src/server.js on 127.0.0.1:$port (WORKERS=$VS_PEER_WORKERS, RATE_LIMIT=off, database peer, JWT_ISSUER=$issuer JWT_AUDIENCE=$audience)"
        pid=$(vs_launch peer "$VS_PEER_DIR" "$logfile" env PORT="$port" HOST=127.0.0.1 WORKERS="$VS_PEER_WORKERS" \
            RATE_LIMIT=off DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/peer" \
            JWT_PUBLIC_KEY_FILE="$VS_KEYS/public.pem" JWT_PRIVATE_KEY_FILE="$VS_KEYS/private.pem" \
            JWT_ISSUER="$issuer" JWT_AUDIENCE="$audience" node src/server.js)
        VS_PEER_PID=$pid
        if vs_answering "Express peer" "$pid" "$port" "$logfile" EADDRINUSE; then break; fi
        log "Express peer: port $port taken (attempt $attempt), trying another"
        pid=""
    done
    [[ -n $pid ]] || die "the Express peer did not start (log: $logfile)"
    # /healthz answers once one worker listens: wait for all of them.
    local workers=() _
    for _ in $(seq 40); do
        read -ra workers <<<"$(pgrep -P "$pid" | tr '\n' ' ')"
        ((${#workers[@]} >= VS_PEER_WORKERS)) && break
        sleep 0.25
    done
    ((${#workers[@]} == VS_PEER_WORKERS)) || die "the Express peer has ${#workers[@]} workers, not $VS_PEER_WORKERS"
    VS_URL[peer]=http://127.0.0.1:$port
    VS_PIDS[peer]="$pid ${workers[*]}"
    VS_DB[peer]=peer
    VS_TOKEN[peer]=$token
    log "Express peer up: ${VS_URL[peer]} (primary $pid, workers ${workers[*]})"
}

# vs_answering LABEL PID PORT LOGFILE IN_USE: whether the server just launched answers /healthz
# on PORT (waits up to 60 s); false when it exited because PORT was taken (its log has IN_USE,
# case-insensitive), so the caller tries another port; any other failure ends the run.
vs_answering() {
    local label=$1 pid=$2 port=$3 logfile=$4 in_use=$5
    wait_http_ok "http://127.0.0.1:$port/healthz" 60 "$pid" && return 0
    if pid_alive "$pid" || ! grep -qi "$in_use" "$logfile"; then
        tail -n 20 "$logfile" >&2
        die "the $label did not answer /healthz (log: $logfile)"
    fi
    return 1
}

# vs_ceiling_up: the one-INSERT ceiling on a free port (3 attempts, as the peer).
vs_ceiling_up() {
    local port attempt pid="" logfile=$BENCH_OUT/ceiling.log
    for attempt in 1 2 3; do
        port=$(free_port)
        log "ceiling: dotnet aspnet-insert.dll --urls http://127.0.0.1:$port (database ceiling, Maximum Pool Size=$VS_CEILING_POOL)"
        pid=$(vs_launch ceiling "$VS_CEILING_DIR" "$logfile" \
            env Db="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=ceiling;Maximum Pool Size=$VS_CEILING_POOL" \
            dotnet bin/aspnet-insert.dll --urls "http://127.0.0.1:$port")
        VS_CEILING_PID=$pid
        if vs_answering ceiling "$pid" "$port" "$logfile" 'address already in use'; then break; fi
        log "ceiling: port $port taken (attempt $attempt), trying another"
        pid=""
    done
    [[ -n $pid ]] || die "the ceiling did not start (log: $logfile)"
    VS_URL[ceiling]=http://127.0.0.1:$port
    VS_PIDS[ceiling]=$pid
    VS_DB[ceiling]=ceiling
    # It checks no token; the wrk scripts send the node's all the same.
    VS_TOKEN[ceiling]=${VS_TOKEN[current]}
    log "ceiling up: ${VS_URL[ceiling]} (pid $pid)"
}

# vs_baseline_sh COMMAND [ARGS...]: deploy/cluster.sh on the baseline node's state folder, on the
# shared server (CHATGRAINS_PG: never started or stopped by it), with NODE_ENV as the nodes get it.
vs_baseline_sh() {
    env -u NODES -u NO_NGINX -u NODE_DLL -u NODE_POOL -u PG_SETTINGS -u CONN_EXTRA -u SKIP_BUILD \
        STATE_DIR="$VS_BASELINE_STATE" LB_PORT="" \
        CHATGRAINS_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=baseline;Maximum Pool Size=$SINGLE_NODE_POOL" \
        "${NODE_ENV[@]}" "$CLUSTER_SH" "$@" </dev/null
}

# vs_baseline_value NAME: a value of the baseline node's cluster.env (read in a subshell).
vs_baseline_value() {
    # shellcheck source=/dev/null
    (source "$VS_BASELINE_STATE/cluster.env" && printf '%s' "${!1}")
}

# vs_baseline_up: BENCH_BASELINE's node on the database `baseline` of the shared server.
vs_baseline_up() {
    VS_BASELINE_STATE=$BENCH_TMP/baseline-node
    local opts=(--nodes 1 --no-nginx --dll "${NODE_DLLS[baseline]}")
    if [[ -n $BENCH_CONN_EXTRA ]]; then opts+=(--conn-extra "$BENCH_CONN_EXTRA"); fi
    log "deploy/cluster.sh up ${opts[*]} on the database baseline of the same server"
    vs_baseline_sh up "${opts[@]}" >"$BENCH_OUT/baseline-up.log" 2>&1 ||
        { tail -n 30 "$BENCH_OUT/baseline-up.log" >&2; die "the baseline node did not start on the shared server (log: $BENCH_OUT/baseline-up.log)"; }
    VS_URL[baseline]=$(vs_baseline_value NODE_URLS)
    VS_PIDS[baseline]=$(vs_baseline_value NODE_PIDS)
    VS_DB[baseline]=baseline
    VS_TOKEN[baseline]=$(vs_baseline_sh token admin --lifetime 02:00:00) || die "the baseline's token command failed"
    [[ -n ${VS_TOKEN[baseline]} ]] || die "the baseline's token command printed nothing"
    log "baseline node up: ${VS_URL[baseline]} (pid ${VS_PIDS[baseline]})"
}

# vs_stop_servers: the cleanup hook (before deploy/cluster.sh down stops PostgreSQL): the ceiling,
# the peer (its workers too, should its primary have to be killed) and the baseline node.
vs_stop_servers() {
    local pid
    if [[ -n $VS_CEILING_PID ]] && pid_is "$VS_CEILING_PID" 'aspnet-insert\.dll'; then
        stop_pid "$VS_CEILING_PID" 10 || log "the ceiling had to be killed"
    fi
    VS_CEILING_PID=""
    if [[ -n $VS_PEER_PID ]]; then
        local workers
        workers=$(pgrep -P "$VS_PEER_PID" 2>/dev/null | tr '\n' ' ' || true)
        if pid_is "$VS_PEER_PID" 'server\.js'; then stop_pid "$VS_PEER_PID" 10 || log "the Express peer had to be killed"; fi
        for pid in $workers; do
            if pid_is "$pid" 'server\.js'; then stop_pid "$pid" 5 || true; fi
        done
    fi
    VS_PEER_PID=""
    if [[ -n $VS_BASELINE_STATE && -d $VS_BASELINE_STATE ]]; then
        mkdir -p "$BENCH_OUT/baseline-node"
        cp "$VS_BASELINE_STATE"/nodes/*.log "$BENCH_OUT/baseline-node/" 2>/dev/null || true
        vs_baseline_sh down >>"$BENCH_OUT/baseline-down.log" 2>&1 || log "the baseline node's down failed (log: $BENCH_OUT/baseline-down.log)"
    fi
    VS_BASELINE_STATE=""
    return 0
}

# ---------------------------------------------------------------------------------------
# Smoke checks: the bodies and tokens of the wrk scripts, with curl, on every server

# vs_spread_body FILE: the fresh-1000 body for commercials 1 and 2 of the set, as
# bench/lua/chats-fresh-spread.lua builds it.
vs_spread_body() {
    sed 's/550e8400-e29b-4b5b-9cb4-123456789001/550e8400-e29b-4b5b-9cb4-200000000001/; s/550e8400-e29b-4b5b-9cb4-123456789002/550e8400-e29b-4b5b-9cb4-200000000002/' \
        "$BENCH_ROOT/bench/payloads/chats-put.json" >"$1"
    grep -q 200000000002 "$1" || die "could not build the fresh-1000 body from bench/payloads/chats-put.json"
}

# vs_expect TARGET WHAT WANT GOT BODY: dies unless the status is the one expected.
vs_expect() {
    [[ $4 == "$3" ]] || die "smoke, $(vs_label "$1"): $2 answered $4, not $3: $(head -c 600 "$5")"
}

# vs_smoke TARGET: what the selected scenarios send, once each; the replay's chat is created here.
vs_smoke() {
    local t=$1 url=${VS_URL[$1]} token=${VS_TOKEN[$1]} status body=$BENCH_OUT/smoke-$1.json
    local headers=$BENCH_OUT/smoke-$1.headers spread=$BENCH_TMP/spread-body.json chats=0
    status=$(put_chat "$url" "$token" "$body")
    vs_expect "$t" "PUT /v2/chats (bench/payloads/chats-put.json, the node's admin token)" 200 "$status" "$body"
    chats=$((chats + 1))
    if [[ $t != ceiling ]]; then
        # The same token with one character of its signature changed: refused, so the server
        # really verifies what it is sent (the ceiling checks nothing, by design).
        local forged=$token i=$((${#token} - 10))
        if [[ ${token:i:1} == A ]]; then forged=${token:0:i}B${token:i+1}; else forged=${token:0:i}A${token:i+1}; fi
        status=$(put_chat "$url" "$forged" "$body")
        vs_expect "$t" "PUT /v2/chats with a forged signature" 401 "$status" "$body"
    fi
    if [[ " $(vs_targets fresh-1000) " == *" $t "* && " ${VS_SELECTED[*]} " == *" fresh-1000 "* ]]; then
        vs_spread_body "$spread"
        status=$(curl -sS -o "$body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
            -H "Content-Type: application/json" --data-binary "@$spread" "$url/v2/chats/$(new_uuid)")
        vs_expect "$t" "PUT /v2/chats (the fresh-1000 body)" 200 "$status" "$body"
        chats=$((chats + 1))
    fi
    if [[ " $(vs_targets replay) " == *" $t "* && " ${VS_SELECTED[*]} " == *" replay "* ]]; then
        VS_REPLAY_ID[$t]=$(new_uuid)
        status=$(put_chat "$url" "$token" "$body" "${VS_REPLAY_ID[$t]}")
        vs_expect "$t" "PUT /v2/chats (creating the replay's chat)" 200 "$status" "$body"
        status=$(put_chat "$url" "$token" "$body" "${VS_REPLAY_ID[$t]}")
        vs_expect "$t" "PUT /v2/chats (the replay)" 200 "$status" "$body"
        chats=$((chats + 1))
    fi
    if [[ " $(vs_targets guest) " == *" $t "* && " ${VS_SELECTED[*]} " == *" guest "* ]]; then
        status=$(post_guest_session "$url" "$headers" "$body")
        vs_expect "$t" "POST /api/v1/chat/guest/session" 201 "$status" "$body"
        if grep -qi '^RateLimit-Policy:' "$headers"; then die "smoke, $(vs_label "$t"): the rate limiter is on"; fi
    fi
    if [[ " $(vs_targets livechat) " == *" $t "* && " ${VS_SELECTED[*]} " == *" livechat "* ]]; then
        status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
            --data-binary '{"name": "Budi", "city": "Solo", "country": "Indonesia"}' "$url/livechat/session")
        vs_expect "$t" "POST /livechat/session" 201 "$status" "$body"
        grep -q '"sessionToken"' "$body" || die "smoke, $(vs_label "$t"): no sessionToken in $(head -c 600 "$body")"
        if grep -qi '^RateLimit-Policy:' "$headers"; then die "smoke, $(vs_label "$t"): the rate limiter is on"; fi
    fi
    VS_RECORDS0[$t]=$(vs_chat_records "$t")
    log "smoke checks passed on $(vs_label "$t") ($chats chats created, ${VS_RECORDS0[$t]} chat records)"
}

# ---------------------------------------------------------------------------------------
# Measuring

# vs_chat_records TARGET: the chat records TARGET's database holds: the grains' rows on an
# Orleans node, the ceiling's base_chats, the chats table of the peer and of a pre-Orleans node.
vs_chat_records() {
    local db=${VS_DB[$1]}
    if [[ $(vs_psql "$db" "SELECT to_regclass('orleansstorage') IS NOT NULL") == t ]]; then
        vs_psql "$db" "SELECT count(*) FROM orleansstorage WHERE graintypestring = 'chat'"
    elif [[ $(vs_psql "$db" "SELECT to_regclass('base_chats') IS NOT NULL") == t ]]; then
        vs_psql "$db" "SELECT count(*) FROM base_chats"
    else
        vs_psql "$db" "SELECT count(*) FROM chats"
    fi
}

# vs_settle: waits (at most VS_SETTLE_SECONDS) until the machine was less than VS_SETTLE_PCT %
# busy over one second; logs how long it took when it had to wait.
vs_settle() {
    local start=$SECONDS before after pct
    while ((SECONDS - start < VS_SETTLE_SECONDS)); do
        before=$(cpu_ticks_machine)
        sleep 1
        after=$(cpu_ticks_machine)
        pct=$(awk -v b="$before" -v a="$after" 'BEGIN {
            split(b, x, /[ =]/); split(a, y, /[ =]/)
            # busy is the 2nd value, all the 8th ("busy=N irq=N steal=N all=N").
            printf "%.0f", (y[8] - x[8] > 0 ? (y[2] - x[2]) / (y[8] - x[8]) * 100 : 0) }')
        if ((pct < VS_SETTLE_PCT)); then
            if ((SECONDS - start > 1)); then log "settled after $((SECONDS - start)) s (machine $pct % busy)"; fi
            return 0
        fi
    done
    log "the machine was still ${pct:-?} % busy after ${VS_SETTLE_SECONDS} s: measuring anyway"
}

# vs_before_measured: run_scenario's hook between the warm-up and the measured run: how many
# chats the server under test holds then (fresh scenarios), and the node's /metrics.
vs_before_measured() {
    # shellcheck disable=SC2153 # BENCH_NODE: bench/lib/nodes.sh
    if [[ $VS_RUN_NAME == fresh* ]]; then VS_STORED[$BENCH_NODE/$VS_RUN_NAME]=$(vs_chat_records "$BENCH_NODE"); fi
    if [[ $BENCH_NODE == current ]]; then vs_node_metrics "$BENCH_TMP/vs-metrics-before"; fi
}

# vs_after_measured: run_scenario's hook right after the measured run: the node's own latency
# over it (request_duration_p99), to tell a delay inside the node from one outside it.
vs_after_measured() {
    [[ $BENCH_NODE == current ]] || return 0
    vs_node_metrics "$BENCH_TMP/vs-metrics-after"
    VS_NODE_LATENCY[$VS_RUN_NAME]=$(request_duration_p99 "$BENCH_TMP/vs-metrics-before" "$BENCH_TMP/vs-metrics-after")
}

vs_node_metrics() {
    curl -fsS --max-time 5 -H "Authorization: Bearer ${VS_TOKEN[current]}" "${VS_URL[current]}/metrics" >"$1" ||
        log "warning: no /metrics from the node"
}

# vs_measure TARGET SCENARIO ROUND: one run (warm-up + measured) of SCENARIO on TARGET, kept by
# run_scenario as scenario "SCENARIO-rROUND" of BENCH_NODE=TARGET, its CPU and RSS readings taken
# on TARGET's processes.
vs_measure() {
    local t=$1 scenario=$2 round=$3 name=$2-r$3 url=${VS_URL[$1]} token=${VS_TOKEN[$1]}
    # Read by run_scenario (dynamic scope): a shorter warm-up once the processes are warm.
    # shellcheck disable=SC2034
    local BENCH_WARMUP=$BENCH_WARMUP
    if ((round > 1 && VS_REWARMUP < BENCH_WARMUP)); then BENCH_WARMUP=$VS_REWARMUP; fi
    # shellcheck disable=SC2034 # read by run_scenario (dynamic scope)
    local BENCH_BEFORE_MEASURED=vs_before_measured BENCH_AFTER_MEASURED=vs_after_measured
    VS_RUN_NAME=$name
    BENCH_NODE=$t
    read -ra BENCH_NODE_PIDS <<<"${VS_PIDS[$t]}"
    local pid
    for pid in "${BENCH_NODE_PIDS[@]}"; do pid_alive "$pid" || die "$(vs_label "$t") (pid $pid) is no longer running"; done
    local other
    if [[ $VS_VACUUM == 1 ]]; then
        # Not the server's own database: statistics taken while its tables are nearly empty (round
        # 1) made the node's prepared statements plan sequential scans of orleansstorage until the
        # next ANALYZE (measured: 11,515 seq scans reading 205 M rows in one run, 810 creations/s
        # instead of ~2,500). Its own autovacuum stays as in production.
        for other in "${!VS_DB[@]}"; do
            if [[ $other != "$t" ]]; then vs_psql "${VS_DB[$other]}" "VACUUM (ANALYZE)" >/dev/null; fi
        done
    fi
    if [[ $VS_CHECKPOINT == 1 ]]; then bench_psql "CHECKPOINT" >/dev/null; fi
    vs_settle
    case $scenario in
        fresh) run_scenario "$name" "$VS_LUA/chats-fresh.lua" "$url" BENCH_TOKEN="$token" BENCH_SCENARIO="$name" ;;
        fresh-1000)
            run_scenario "$name" "$VS_LUA/chats-fresh-spread.lua" "$url" BENCH_TOKEN="$token" \
                BENCH_COMMERCIALS="$VS_COMMERCIALS" BENCH_SCENARIO="$name"
            ;;
        replay) run_scenario "$name" "$VS_LUA/chats-replay.lua" "$url/v2/chats/${VS_REPLAY_ID[$t]}" BENCH_TOKEN="$token" ;;
        guest) run_scenario "$name" "$VS_LUA/guest-sessions.lua" "$url/api/v1/chat/guest/session" BENCH_SCENARIO="$name" ;;
        livechat) run_scenario "$name" "$VS_LUA/livechat.lua" "$url/livechat/session" BENCH_SCENARIO="$name" ;;
    esac
}

# vs_run_fields TARGET SCENARIO ROUND: "rps p50 p99 non2xx sockets timeouts requests
# server_ticks pg_ticks rss_mb other_pct stored" of that run (rss: the sum of its processes' peaks;
# other: the share of the machine's busy CPU that went to none of the server, PostgreSQL, wrk
# and the kernel's interrupts; stored: the chats it held when the measured run started, "-" but
# for fresh scenarios), or nothing.
vs_run_fields() {
    local name=$2-r$3 result rss=0 mb
    BENCH_NODE=$1
    result=$(scenario_result "$name")
    [[ -n $result ]] || return 0
    for mb in $(scenario_rss "$name"); do rss=$((rss + mb)); done
    echo "$(result_field "$result" rps) $(result_field "$result" p50_ms) $(result_field "$result" p99_ms)" \
        "$(result_field "$result" non2xx) $(socket_errors "$result") $(result_field "$result" timeout)" \
        "$(result_field "$result" requests) $(cpu_field "$name" node) $(cpu_field "$name" postgres) $rss" \
        "$(awk -v busy="$(cpu_field "$name" busy)" -v server="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
            -v wrk="$(cpu_field "$name" wrk)" -v irq="$(cpu_field "$name" irq)" \
            'BEGIN { printf "%.0f", (busy > 0 ? (busy - server - pg - wrk - irq) / busy * 100 : 0) }')" \
        "${VS_STORED[$1/$name]:--}"
}

# vs_check_records TARGET: TARGET's chat records written since its smoke checks against the 200s
# of its fresh runs (warm-ups included); a note, and BENCH_FAILED on a mismatch.
vs_check_records() {
    local t=$1 scenario round ok=0 runs=0 a r records verdict=ok
    # shellcheck disable=SC2034 # read by scenario_answered
    BENCH_NODE=$t
    for round in $(seq "$VS_ROUNDS"); do
        for scenario in fresh fresh-1000; do
            [[ " ${VS_SELECTED[*]} " == *" $scenario "* && " $(vs_targets "$scenario") " == *" $t "* ]] || continue
            read -r a r <<<"$(scenario_answered "$scenario-r$round")"
            ok=$((ok + a))
            runs=$((runs + r))
        done
    done
    ((runs > 0)) || return 0
    records=$(($(vs_chat_records "$t") - ${VS_RECORDS0[$t]}))
    if ((records < ok || records > ok + runs * BENCH_CONNECTIONS)); then verdict=MISMATCH; mark_failed; fi
    VS_NOTES+=("- $(vs_label "$t"): $records chat records written by the fresh runs for $ok answered 200s ($runs wrk runs; up to $((runs * BENCH_CONNECTIONS)) more in flight when wrk stopped): $verdict")
}

# ---------------------------------------------------------------------------------------
# Report

VS_NOTES=()
VS_SUMMARY=()        # one summary-table row per scenario

# vs_scenario_report SCENARIO: its table (each round, then the medians), ratios, CPU and the verdict.
vs_scenario_report() {
    local scenario=$1 t round fields lines="" summary_file=$BENCH_TMP/summary-$1
    for round in $(seq "$VS_ROUNDS"); do
        for t in $(vs_targets "$scenario"); do
            fields=$(vs_run_fields "$t" "$scenario" "$round")
            [[ -n $fields ]] && lines+="$round $t $fields"$'\n'
        done
    done
    local title=${VS_TITLE[$scenario]}
    title=${title//VS_COMMERCIALS/$VS_COMMERCIALS}
    echo "### $scenario: $title"
    echo
    awk -v hz="$CLK_TCK" -v scenario="$scenario" -v summary="$summary_file" \
        -v l_current="$(vs_label current)" -v l_peer="$(vs_label peer)" -v l_ceiling="$(vs_label ceiling)" \
        -v l_baseline="$(vs_label baseline)" -v order="$(vs_targets "$scenario")" \
        -v t_peer="${VS_TARGET_PEER[$scenario]:-}" -v t_ceiling="${VS_TARGET_CEILING[$scenario]:-}" \
        -v t_p99="${VS_TARGET_P99[$scenario]:-}" -v fresh="$([[ $scenario == fresh* ]] && echo 1 || echo 0)" '
        function median(list,    n, v, i, j, x) {
            n = split(list, v, " ")
            if (n == 0) return ""
            for (i = 2; i <= n; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            return n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        function add(key, value) { list[key] = list[key] " " value }
        NF {
            round = $1; t = $2
            rps = $3; p50 = $4; p99 = $5; non2xx = $6; sockets = $7; timeouts = $8; requests = $9
            server_us = $10 / hz * 1e6 / requests; pg_us = $11 / hz * 1e6 / requests; rss = $12; other = $13
            rows[++n] = sprintf("| %d | %s | %.0f | %.2f | %.2f | %d | %d (%d) | %.0f | %.0f | %.0f | %d | %d %% |%s",
                round, label[t], rps, p50, p99, non2xx, sockets, timeouts, server_us, pg_us, server_us + pg_us, rss, other,
                (fresh ? " " $14 " |" : ""))
            add(t "/rps", rps); add(t "/p99", p99); add(t "/p50", p50); add(t "/server", server_us); add(t "/pg", pg_us)
            add(t "/rss", rss)
            errors[t] += non2xx + sockets; non2xx_of[t] += non2xx; sockets_of[t] += sockets; timeouts_of[t] += timeouts
            rps_of[round "/" t] = rps
            if (!(round in seen)) { seen[round] = 1; rounds[++nr] = round }
        }
        BEGIN { label["current"] = l_current; label["peer"] = l_peer; label["ceiling"] = l_ceiling; label["baseline"] = l_baseline }
        END {
            print "| round | server | requests/s | p50 ms | p99 ms | non-2xx | socket errors (timeouts) | server CPU µs/request | PostgreSQL CPU µs/request | server + PostgreSQL µs/request | peak RSS MB | other processes ² |" (fresh ? " chats stored at the start ³ |" : "")
            print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" (fresh ? "---:|" : "")
            for (i = 1; i <= n; i++) print rows[i]
            nt = split(order, ts, " ")
            for (i = 1; i <= nt && nr > 1; i++) {
                t = ts[i]
                if (list[t "/rps"] == "") continue
                printf "| median | **%s** | **%.0f** | %.2f | %.2f | %d ¹ | %d (%d) ¹ | %.0f | %.0f | %.0f | %.0f | |%s\n", label[t], median(list[t "/rps"]),
                    median(list[t "/p50"]), median(list[t "/p99"]), non2xx_of[t], sockets_of[t], timeouts_of[t], median(list[t "/server"]),
                    median(list[t "/pg"]), median(list[t "/server"]) + median(list[t "/pg"]), median(list[t "/rss"]), (fresh ? " |" : "")
            }
            print ""
            if (nr > 1) print "¹ in the median rows: the errors of all rounds, summed."
            print "² share of the machine'\''s busy CPU during the measured run that went to none of the server under test, PostgreSQL, wrk and the kernel'\''s interrupts: the idle servers (one still working off its own run) and anything else on the machine."
            if (fresh) print "³ the chat records the server held when its measured run started (every fresh run and warm-up before it adds to them): on the node a creation also records an offer for each commercial it names."
            print ""
            # Each rounds ratio (same round: the same conditions), then their median.
            for (r = 1; r <= nr; r++) {
                k = rounds[r]
                if ((k "/current") in rps_of && (k "/peer") in rps_of && rps_of[k "/peer"] > 0) rp = rp " " rps_of[k "/current"] / rps_of[k "/peer"]
                if ((k "/current") in rps_of && (k "/ceiling") in rps_of && rps_of[k "/ceiling"] > 0) rc = rc " " rps_of[k "/current"] / rps_of[k "/ceiling"]
            }
            missed = ""; verdict_parts = ""
            node_p99 = median(list["current/p99"])
            line = "median of the rounds: node/peer "
            if (rp != "") {
                ratio_peer = median(rp)
                line = line sprintf("**%.2f×** (rounds:%s)", ratio_peer, fmt(rp))
                if (t_peer != "") { ok = ratio_peer >= t_peer; line = line sprintf(", target ≥ %s×: %s", t_peer, ok ? "met" : "MISSED"); if (!ok) missed = missed ", node/peer" }
            } else line = line "–"
            if (rc != "") {
                ratio_ceiling = median(rc)
                line = line sprintf("; node/ceiling **%.2f×** (rounds:%s)", ratio_ceiling, fmt(rc))
                if (t_ceiling != "") { ok = ratio_ceiling >= t_ceiling; line = line sprintf(", target ≥ %s×: %s", t_ceiling, ok ? "met" : "MISSED"); if (!ok) missed = missed ", node/ceiling" }
            }
            line = line sprintf("; node p99 %.2f ms", node_p99)
            if (t_p99 != "") { ok = node_p99 <= t_p99; line = line sprintf(" (target ≤ %s ms: %s)", t_p99, ok ? "met" : "MISSED"); if (!ok) missed = missed ", p99" }
            line = line sprintf("; node errors %d (target none: %s)", errors["current"], errors["current"] == 0 ? "met" : "MISSED")
            if (errors["current"] > 0) missed = missed ", errors"
            print line "."
            print ""
            others = ""
            for (i = 1; i <= nt; i++) if (ts[i] != "current" && errors[ts[i]] > 0) others = others sprintf(" %s: %d;", label[ts[i]], errors[ts[i]])
            if (others != "") { print "Errors on the yardsticks (their figures are not comparable):" others; print "" }
            verdict = missed == "" ? "**met**" : "**MISSED** (" substr(missed, 3) ")"
            print "verdict " scenario ": " verdict
            print ""
            printf "| %s | %s | %s | %s | %d | %s |\n", scenario,
                (rp != "" ? sprintf("%.2f× (≥ %s×)", ratio_peer, t_peer) : "–"),
                (rc != "" ? sprintf("%.2f× (≥ %s×)", ratio_ceiling, t_ceiling) : "–"),
                sprintf("%.2f (≤ %s)", node_p99, t_p99), errors["current"], verdict > summary
        }
        function fmt(list,    n, v, i, s) { n = split(list, v, " "); s = ""; for (i = 1; i <= n; i++) s = s sprintf(" %.2f×", v[i]); return s }
    ' <<<"$lines"
    vs_node_latency_note "$scenario"
    if [[ -s $summary_file ]]; then VS_SUMMARY+=("$(cat "$summary_file")"); fi
    # Errors of the yardsticks fail the run too (after the report): the comparison is unsound.
    for round in $(seq "$VS_ROUNDS"); do
        for t in $(vs_targets "$scenario"); do
            fields=$(vs_run_fields "$t" "$scenario" "$round")
            [[ -n $fields ]] || continue
            read -ra f <<<"$fields"
            if ((f[3] + f[4] > 0)); then mark_failed; fi
        done
    done
}

# vs_node_latency_note SCENARIO: the node's own latency in each round (vs_after_measured), beside
# wrk's p99 of the table: where wrk saw a tail the node did not, the delay was outside the node.
vs_node_latency_note() {
    local round fields parts=()
    for round in $(seq "$VS_ROUNDS"); do
        fields=${VS_NODE_LATENCY[$1-r$round]:-}
        [[ -n $fields ]] || continue
        parts+=("round $round: p99 ≤ $(result_field " $fields" p99_le_ms) ms, $(result_field " $fields" over100ms) of $(result_field " $fields" requests) over 100 ms")
    done
    ((${#parts[@]} > 0)) || return 0
    local IFS=';'
    echo "The node's own latency (ASP.NET Core's http.server.request.duration over the measured run, the bucket holding the 99th percentile):${parts[*]/#/ }."
    echo
}

# vs_baseline_report: node + PostgreSQL CPU per fresh creation, current vs baseline, per round and
# their medians (issue 18's contention-proof figure).
vs_baseline_report() {
    [[ -n $BENCH_BASELINE && " ${VS_SELECTED[*]} " == *" fresh "* ]] || return 0
    local round lines="" c b
    for round in $(seq "$VS_ROUNDS"); do
        c=$(vs_run_fields current fresh "$round")
        b=$(vs_run_fields baseline fresh "$round")
        [[ -n $c && -n $b ]] && lines+="$round|$c|$b"$'\n'
    done
    echo "### Contention-proof figure: node + PostgreSQL CPU per fresh creation, current vs baseline"
    echo
    echo "Both nodes on the same PostgreSQL server (the baseline on its own database \`baseline\`), \`fresh\` measured on each in every round (bench/lua/chats-fresh.lua)."
    echo
    awk -F'|' -v hz="$CLK_TCK" -v l_current="$(vs_label current)" -v l_baseline="$(vs_label baseline)" '
        function median(list,    n, v, i, j, x) {
            n = split(list, v, " ")
            for (i = 2; i <= n; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            return n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        BEGIN {
            print "| round | node | requests/s | node CPU µs/creation | PostgreSQL CPU µs/creation | node + PostgreSQL µs/creation |"
            print "|---:|---|---:|---:|---:|---:|"
        }
        NF {
            # round|the current node'\''s fields|the baseline'\''s (vs_run_fields: rps first, requests 7th,
            # server and PostgreSQL ticks 8th and 9th).
            split($2, cf, " "); split($3, bf, " ")
            cn = cf[8] / hz * 1e6 / cf[7]; cp = cf[9] / hz * 1e6 / cf[7]
            bn = bf[8] / hz * 1e6 / bf[7]; bp = bf[9] / hz * 1e6 / bf[7]
            printf "| %d | %s | %.0f | %.0f | %.0f | %.0f |\n", $1, l_baseline, bf[1], bn, bp, bn + bp
            printf "| %d | %s | %.0f | %.0f | %.0f | %.0f |\n", $1, l_current, cf[1], cn, cp, cn + cp
            cs = cs " " cn + cp; bs = bs " " bn + bp
            ratio = (cn + cp) / (bn + bp); rs = rs " " ratio; rl = rl sprintf("%s%.2f", rl == "" ? "" : " / ", ratio)
        }
        END {
            if (cs == "") { print ""; print "(no round measured both)"; exit }
            # Judged, like the other ratios, by the median of the rounds'\'' ratios: a round pairs
            # two runs made minutes apart, so the machine'\''s drift between rounds cancels out.
            c = median(cs); b = median(bs); r = median(rs)
            printf "\nnode + PostgreSQL CPU per fresh creation, current ÷ baseline: **%.2f** (rounds: %s; medians %.0f vs %.0f µs); target ≤ 1: **%s**\n",
                r, rl, c, b, r <= 1 ? "met" : "MISSED"
        }' <<<"$lines"
    echo
}

vs_print_report() {
    echo
    print_command_line
    echo
    print_machine
    print_wrk_settings
    echo "- rounds: $VS_ROUNDS, interleaved (in each round, each scenario on the node, then the peer, then the ceiling${BENCH_BASELINE:+, then the baseline node}); warm-up ${BENCH_WARMUP} s in round 1$( ((VS_ROUNDS > 1)) && echo ", $((VS_REWARMUP < BENCH_WARMUP ? VS_REWARMUP : BENCH_WARMUP)) s in later rounds (the processes are warm by then)")$([[ $VS_VACUUM == 1 ]] && echo "; \`VACUUM (ANALYZE)\` of the other servers' databases")$([[ $VS_CHECKPOINT == 1 ]] && echo "; a PostgreSQL \`CHECKPOINT\` before each server's warm-up")"
    echo "- one PostgreSQL server for all (deploy/cluster.sh's, max_connections=$VS_MAX_CONNECTIONS for the pools of all servers): databases chatgrains (node), peer, ceiling${BENCH_BASELINE:+, baseline (baseline node)}; the servers not under test idle meanwhile"
    echo "- node: deploy/cluster.sh up --nodes 1 --no-nginx --pool $SINGLE_NODE_POOL, ${NODE_ENV[*]}"
    echo "- peer: ${VS_PEERS_DIR}/express, \`npm ci\`, \`node src/server.js\` ($(node --version)), WORKERS=$VS_PEER_WORKERS, PG_POOL_MAX its default ($VS_PEER_POOL per worker), RATE_LIMIT=off, the node's key pair, JWT_ISSUER/JWT_AUDIENCE as the node's tokens carry them ($VS_PEER_JWT)"
    echo "- ceiling: ${VS_PEERS_DIR}/aspnet-insert, \`dotnet publish -c Release\`, Maximum Pool Size=$VS_CEILING_POOL (no auth, no validation)"
    echo "- every request authenticated with the node's admin token (\`deploy/cluster.sh token admin\`; the ceiling ignores it); fresh-1000 names two of $VS_COMMERCIALS fixed commercials per chat"
    echo "- CPU per request: /proc/<pid>/stat of every process of the server under test (the peer: its primary and workers), and PostgreSQL's postmaster with all its backends, over the measured run"
    echo
    echo "| scenario | node/peer (target) | node/ceiling (target) | node p99 ms (target) | node errors | verdict |"
    echo "|---|---:|---:|---:|---:|---|"
    # The rows come from the per-scenario reports, printed below: run them first, in this shell
    # (they set VS_SUMMARY and BENCH_FAILED), into a file.
    local body=$BENCH_TMP/scenario-reports.md scenario
    : >"$body"
    for scenario in "${VS_SELECTED[@]}"; do vs_scenario_report "$scenario" >>"$body"; done
    printf '%s\n' "${VS_SUMMARY[@]}"
    echo
    echo "Medians over the rounds; ratios are the median of each round's ratio; p99 the median of the node's rounds."
    echo
    cat "$body"
    vs_baseline_report
    if ((${#VS_NOTES[@]})); then
        echo "Records:"
        echo
        printf '%s\n' "${VS_NOTES[@]}"
        echo
    fi
    # shellcheck disable=SC2153 # BENCH_NOTES: bench/lib/wrk.sh
    if ((${#BENCH_NOTES[@]})); then
        printf '%s\n' "${BENCH_NOTES[@]}"
        echo
    fi
    vs_stalls_note
    echo
    echo "node peak RSS (VmHWM since start): $(kb_to_mb "$(proc_status_kb "${VS_PIDS[current]%% *}" VmHWM)") MB"
    echo
    echo "raw wrk outputs, the servers' logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"
}

# ---------------------------------------------------------------------------------------

VS_PROBE_PID=""        # the running stall probe
VS_STALL_LIMIT_MS=50   # a wake-up later than this is a stall of the machine

vs_start_stall_probe() {
    if [[ $VS_STALL_PROBE != 1 ]]; then return 0; fi
    if ! command -v python3 >/dev/null; then
        log "no python3: no stall probe"
        return 0
    fi
    : >"$BENCH_OUT/stalls.log"
    python3 "$BENCH_ROOT/bench/lib/stall-probe.py" "$BENCH_OUT/stalls.log" "$VS_STALL_LIMIT_MS" &
    VS_PROBE_PID=$!
    BENCH_CLEANUP_HOOKS+=(vs_stop_stall_probe)
}

vs_stop_stall_probe() {
    if [[ -n $VS_PROBE_PID ]]; then kill "$VS_PROBE_PID" 2>/dev/null || true; fi
    VS_PROBE_PID=""
}

# vs_stalls_note: the stall probe's count, for the report.
vs_stalls_note() {
    [[ -f $BENCH_OUT/stalls.log ]] || return 0
    awk -v limit="$VS_STALL_LIMIT_MS" '{ sub(/late_ms=/, "", $2); late = $2 + 0; n++; if (late > worst) { worst = late; at = $1 } }
        END {
            if (n == 0) printf "Stall probe (bench/lib/stall-probe.py): no wake-up more than %d ms late during the whole run.\n", limit
            else printf "Stall probe (bench/lib/stall-probe.py): %d wake-ups more than %d ms late during the whole run, the worst %d ms at %s UTC (all in stalls.log): the machine stalled then, whatever server was measured.\n", n, limit, worst, at
        }' "$BENCH_OUT/stalls.log"
}

vs_peers_main() {
    [[ $VS_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "VS_ROUNDS must be a positive number"
    [[ $VS_REWARMUP =~ ^[0-9]+$ ]] || die "VS_REWARMUP must be a number of seconds"
    if ! [[ $VS_COMMERCIALS =~ ^[0-9]+$ ]] || ((VS_COMMERCIALS < 2 || VS_COMMERCIALS > 99999)); then
        die "VS_COMMERCIALS must be 2..99999"
    fi
    [[ $VS_PEER_WORKERS =~ ^[1-9][0-9]*$ ]] || die "VS_PEER_WORKERS must be a positive number"
    [[ $VS_SETTLE_SECONDS =~ ^[0-9]+$ ]] || die "VS_SETTLE_SECONDS must be a number of seconds"
    [[ $VS_SETTLE_PCT =~ ^[0-9]+$ ]] || die "VS_SETTLE_PCT must be a percentage"
    local scenario
    read -ra VS_SELECTED <<<"$VS_SCENARIOS"
    ((${#VS_SELECTED[@]})) || die "VS_SCENARIOS is empty"
    for scenario in "${VS_SELECTED[@]}"; do
        [[ " ${VS_ALL_SCENARIOS[*]} " == *" $scenario "* ]] || die "VS_SCENARIOS: unknown scenario '$scenario' (${VS_ALL_SCENARIOS[*]})"
    done
    if [[ -n $BENCH_BASELINE && " ${VS_SELECTED[*]} " != *" fresh "* ]]; then
        die "BENCH_BASELINE is measured on fresh: add fresh to VS_SCENARIOS"
    fi
    vs_find_peers
    ensure_bench_tools
    bench_init vs-peers
    # Before deploy/cluster.sh down stops PostgreSQL under them.
    BENCH_CLEANUP_HOOKS+=(vs_stop_servers)
    # shellcheck disable=SC2034 # read by print_machine
    BENCH_BASELINE_SETUP="the baseline node on the same PostgreSQL server as the others (its own database), started after the current node"
    build_bench_nodes
    vs_build_peers
    vs_start_stall_probe

    vs_node_up
    vs_keys
    if [[ -n $BENCH_BASELINE ]]; then vs_baseline_up; fi
    vs_peer_up
    vs_ceiling_up
    local t
    for t in current peer ceiling ${BENCH_BASELINE:+baseline}; do vs_smoke "$t"; done

    local round
    for round in $(seq "$VS_ROUNDS"); do
        log "=== round $round of $VS_ROUNDS ==="
        for scenario in "${VS_SELECTED[@]}"; do
            for t in $(vs_run_order "$scenario" "$round"); do vs_measure "$t" "$scenario" "$round"; done
        done
    done
    for t in current peer ceiling ${BENCH_BASELINE:+baseline}; do vs_check_records "$t"; done

    vs_print_report
    exit_if_failed "some requests failed or records are missing: see the tables and the records"
}
