#!/usr/bin/env bash
# Soak: SOAK_MINUTES (10) at a fixed, moderate rate (SOAK_RATE, 300 requests/s in all)
# through nginx on a 3-node cluster from deploy/cluster.sh, the three creation endpoints in
# rotation (bench/lua/mixed.lua: PUT /v2/chats/{fresh id}, POST /api/v1/chat/guest/session,
# POST /livechat/session). Once a minute, minute 0 (load starting) to SOAK_MINUTES, it records
# each node's VmRSS, the PSS of nginx (master + worker) and of PostgreSQL (all its processes;
# PSS shares the shared buffers out instead of counting them once per process), and the
# requests and non-2xx answers nginx logged in that minute. Then it says whether each node's
# RSS levelled off: grew less than SOAK_LEVEL_PERCENT (5) % over the last 5 minutes.
#
#   bench/soak.sh
#
# Environment: SOAK_MINUTES (10, at least 5), SOAK_RATE (300), SOAK_CONNECTIONS (8: must
# exceed rate × latency), SOAK_THREADS (1), SOAK_LEVEL_PERCENT (5), CLUSTER_NODES (3),
# SOAK_INTERVAL (60: seconds per "minute"; a smaller one only to check the script quickly).
# No warm-up: minute 0 is the nodes just after start. Rate limiting is off (wrk is one IP).
# Prints markdown for bench/RESULTS.md; wrk's output and the logs go to bench/out/.
# Exits 1 after the report if any request failed, a row is missing, or RSS did not level off.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

SOAK_MINUTES=${SOAK_MINUTES:-10}
SOAK_RATE=${SOAK_RATE:-300}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-8}
SOAK_THREADS=${SOAK_THREADS:-1}
SOAK_LEVEL_PERCENT=${SOAK_LEVEL_PERCENT:-5}
SOAK_INTERVAL=${SOAK_INTERVAL:-60}
CLUSTER_NODES=${CLUSTER_NODES:-3}
SOAK_ENV_GIVEN=$(env | grep -E '^(SOAK_[A-Z_]+|CLUSTER_NODES)=' | sort | tr '\n' ' ' || true)
SCRIPT=$BENCH_ROOT/bench/lua/mixed.lua

SAMPLES=()   # per minute: "minute rss_kb_node1 ... nginx_pss_kb pg_pss_kb requests non2xx"

# pss_kb_of_tree PID: the PSS of PID and its live children, in kB (smaps_rollup).
pss_kb_of_tree() {
    local root=$1 pid total=0 pss
    for pid in "$root" $(pgrep -P "$root" 2>/dev/null || true); do
        pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${pss:-0}))
    done
    echo "$total"
}

# The access log's lines FROM+1..TO: "requests non2xx" (the status follows the quoted request).
# One awk, no `tail | head`: the log grows meanwhile, and tail would die of SIGPIPE.
access_counts() {
    awk -F'"' -v from="$1" -v to="$2" 'NR <= from { next } NR > to { exit }
        { split($3, f, " "); n++; if (f[1] < 200 || f[1] > 299) bad++ } END { print n + 0, bad + 0 }' \
        "$CLUSTER_STATE/nginx/access.log"
}

LAST_LINES=0
# sample MINUTE: one row of SAMPLES.
sample() {
    local minute=$1 row pid rss lines
    row="$minute"
    for pid in "${BENCH_NODE_PIDS[@]}"; do
        rss=$(proc_status_kb "$pid" VmRSS)
        row+=" ${rss:-0}"
    done
    lines=$(cluster_access_lines)
    row+=" $(pss_kb_of_tree "$BENCH_NGINX_PID") $(pss_kb_of_tree "$BENCH_PG_PID") $(access_counts "$LAST_LINES" "$lines")"
    LAST_LINES=$lines
    SAMPLES+=("$row")
    log "minute $minute: $row"
}

series_table() {
    local i header="| minute |" rule="|---:|"
    for i in $(seq "$CLUSTER_NODES"); do header+=" node $i RSS MB |"; rule+="---:|"; done
    echo "$header nginx PSS MB | PostgreSQL PSS MB | requests in the minute (nginx) | non-2xx in the minute |"
    echo "$rule---:|---:|---:|---:|"
    printf '%s\n' "${SAMPLES[@]}" | awk -v nodes="$CLUSTER_NODES" '{
        line = "| " $1 " |"
        for (i = 2; i <= nodes + 3; i++) line = line sprintf(" %.1f |", $i / 1024)
        print line " " ($1 == 0 ? "–" : $(nodes + 4)) " | " ($1 == 0 ? "–" : $(nodes + 5)) " |"
    }'
}

# Per node: growth over the last 5 minutes, and the verdict. Sets LEVEL_FAILED.
LEVEL_FAILED=0
level_lines() {
    local first last i col verdict
    first=${SAMPLES[$((SOAK_MINUTES - 5))]}
    last=${SAMPLES[$SOAK_MINUTES]}
    for i in $(seq "$CLUSTER_NODES"); do
        col=$((i + 1))
        verdict=$(awk -v a="$(cut -d' ' -f"$col" <<<"$first")" -v b="$(cut -d' ' -f"$col" <<<"$last")" \
            -v limit="$SOAK_LEVEL_PERCENT" -v m0="$((SOAK_MINUTES - 5))" -v m1="$SOAK_MINUTES" -v node="$i" 'BEGIN {
            g = (b - a) / a * 100
            printf "- node %d: %.1f MB at minute %d, %.1f MB at minute %d: %+.1f %% over the last 5 minutes: %s\n",
                node, a / 1024, m0, b / 1024, m1, g, (g < limit) ? "levelled off" : "STILL GROWING"
        }')
        echo "$verdict"
        [[ $verdict == *"levelled off" ]] || LEVEL_FAILED=1
    done
    local nginx_col=$((CLUSTER_NODES + 2)) pg_col=$((CLUSTER_NODES + 3)) what col
    for what in nginx PostgreSQL; do
        col=$nginx_col
        [[ $what == PostgreSQL ]] && col=$pg_col
        awk -v a="$(cut -d' ' -f"$col" <<<"$first")" -v b="$(cut -d' ' -f"$col" <<<"$last")" -v what="$what" \
            -v m0="$((SOAK_MINUTES - 5))" -v m1="$SOAK_MINUTES" 'BEGIN {
            printf "- %s (PSS): %.1f MB at minute %d, %.1f MB at minute %d (%+.1f %%)\n", what, a / 1024, m0, b / 1024, m1, (b - a) / a * 100
        }'
    done
}

main() {
    (($# == 0)) || { echo "usage: $0   (settings in the environment, see the header)" >&2; exit 2; }
    if ! [[ $SOAK_MINUTES =~ ^[0-9]+$ ]] || ((SOAK_MINUTES < 5)); then die "SOAK_MINUTES must be at least 5"; fi
    [[ $SOAK_INTERVAL =~ ^[1-9][0-9]*$ ]] || die "SOAK_INTERVAL must be a number of seconds"
    ensure_tools
    bench_init soak
    trap 'rc=$?; set +e; ((rc == 0)) || log "exiting with status $rc"; [[ -n $WRK_PID ]] && kill "$WRK_PID" 2>/dev/null; cluster_down; (exit $rc); bench_cleanup' EXIT
    build_node
    cluster_up "$CLUSTER_NODES"
    local token
    token=$(cluster_token admin)
    cluster_smoke_all "$token"
    # The smoke requests' rows, so the check at the end counts only what wrk created.
    local chats0 guests0 live0
    chats0=$(cluster_psql "SELECT count(*) FROM chats")
    guests0=$(cluster_psql "SELECT count(*) FROM chat_sessions")
    live0=$(cluster_psql "SELECT count(*) FROM livechat_sessions")

    # wrk a little longer than the last sample, so every sample is taken under load.
    local seconds=$((SOAK_MINUTES * SOAK_INTERVAL + 3)) out=$BENCH_OUT/soak.txt start minute
    log "soak: ${SOAK_MINUTES} min at ${SOAK_RATE} requests/s (wrk -t$SOAK_THREADS -c$SOAK_CONNECTIONS, paced by delay()) through $LB_URL"
    # Each node log's length so far: errors are counted in what the nodes log from here on.
    local -A log_lines0=()
    local f
    for f in "$CLUSTER_STATE"/nodes/*.log; do log_lines0[$f]=$(wc -l <"$f"); done
    LAST_LINES=$(cluster_access_lines)
    sample 0
    start=$EPOCHREALTIME
    env BENCH_PHASE=soak BENCH_SCENARIO=soak BENCH_TOKEN="$token" BENCH_RATE="$SOAK_RATE" BENCH_THREADS="$SOAK_THREADS" \
        wrk -t"$SOAK_THREADS" -c"$SOAK_CONNECTIONS" -d"${seconds}s" --latency -s "$SCRIPT" "$LB_URL" >"$out" 2>&1 &
    WRK_PID=$!
    for ((minute = 1; minute <= SOAK_MINUTES; minute++)); do
        # sleep in the background + wait: a signal interrupts wait at once (trap cleanup).
        sleep "$(awk -v s="$start" -v m="$minute" -v i="$SOAK_INTERVAL" -v now="$EPOCHREALTIME" \
            'BEGIN { d = s + m * i - now; printf "%.3f", (d > 0 ? d : 0) }')" &
        wait $!
        kill -0 "$WRK_PID" 2>/dev/null || die "wrk exited early: $(tail -n 5 "$out")"
        local pid
        for pid in "${BENCH_NODE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "node $pid died"; done
        sample "$minute"
    done
    local rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    ((rc == 0)) || die "wrk failed ($rc): $(tail -n 5 "$out")"
    cat "$out" >&2

    local result mix
    result=$(grep '^RESULT ' "$out" | tail -n 1) || die "no RESULT line from wrk"
    mix=$(grep '^MIX ' "$out" | tail -n 1) || die "no MIX line from wrk"
    local non2xx sockets ok200 ok201
    non2xx=$(result_field "$result" non2xx)
    sockets=$(($(result_field "$result" connect) + $(result_field "$result" read) +
        $(result_field "$result" write) + $(result_field "$result" timeout)))
    ok200=$(result_field "$mix" status200_chats)
    ok201=$(result_field "$mix" status201_sessions)
    ((non2xx == 0 && sockets == 0)) || BENCH_FAILED=1

    # Rows written against answers: every 200 is a chat, every 201 a guest or live-chat
    # session; requests in flight when wrk stopped were answered to nobody but still wrote.
    local chats guests live rows_verdict=ok
    chats=$(($(cluster_psql "SELECT count(*) FROM chats") - chats0))
    guests=$(($(cluster_psql "SELECT count(*) FROM chat_sessions") - guests0))
    live=$(($(cluster_psql "SELECT count(*) FROM livechat_sessions") - live0))
    if ((chats < ok200 || chats > ok200 + SOAK_CONNECTIONS || guests + live < ok201 ||
        guests + live > ok201 + SOAK_CONNECTIONS)); then
        rows_verdict=MISMATCH
        BENCH_FAILED=1
    fi
    # Errors logged before the load (e.g. a readiness probe answered "schema not migrated
    # yet" during start-up) are reported apart.
    local node_errors=0 startup_errors=0 pattern='"LogLevel":"(Error|Critical)"'
    for f in "$CLUSTER_STATE"/nodes/*.log; do
        startup_errors=$((startup_errors + $(awk -v n="${log_lines0[$f]}" -v p="$pattern" 'NR <= n && $0 ~ p { c++ } END { print c + 0 }' "$f")))
        node_errors=$((node_errors + $(awk -v n="${log_lines0[$f]}" -v p="$pattern" 'NR > n && $0 ~ p { c++ } END { print c + 0 }' "$f")))
    done

    echo
    echo "command: \`${SOAK_ENV_GIVEN}bench/soak.sh\`"
    echo
    print_machine | sed '$d'
    echo "- wrk 4.1: -t$SOAK_THREADS -c$SOAK_CONNECTIONS -d${seconds}s, bench/lua/mixed.lua paced at $SOAK_RATE requests/s (delay() hands out send slots), no warm-up; ${CLUSTER_NODES} nodes behind nginx from deploy/cluster.sh, rate limiting off"
    echo
    series_table
    echo
    awk -v r="$result" -v target="$SOAK_RATE" -v ok200="$ok200" -v ok201="$ok201" -v sockets="$sockets" 'BEGIN {
        n = split(r, kv, " ")
        for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        printf "- achieved: %.1f requests/s (target %d), %d requests: %d chats (200), %d sessions (201); p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n",
            v["rps"], target, v["requests"], ok200, ok201, v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"]
        printf "- errors: %d non-2xx (%s), %d socket errors\n", v["non2xx"], v["statuses"], sockets
    }'
    echo "- rows written by the soak: $chats chats, $guests guest sessions + $live live-chat sessions ($((guests + live)) for $ok201 answered 201s): $rows_verdict"
    echo "- error or critical lines in the nodes' logs during the soak: $node_errors (before it, at start-up: $startup_errors)"
    echo
    echo "RSS over the last 5 minutes (levelled off = grew less than ${SOAK_LEVEL_PERCENT} %):"
    echo
    level_lines
    echo
    echo "wrk output and logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"

    if ((BENCH_FAILED || LEVEL_FAILED)); then
        log "failed: errors, missing rows or RSS still growing (see above and $BENCH_OUT)"
        exit 1
    fi
}

main "$@"
