# shellcheck shell=bash
# Timeouts (issue 19): what TIMEOUTS_CHATS (100,000) open chats with pending timeouts cost one
# node, and how late their timeouts fire. One node (the working tree's Release build) on its own
# durable PostgreSQL, the default sweep (Chats:TimeoutSweepInterval 10 s):
#
#   1. restarts the node once with nothing pending (deploy/cluster.sh restart), for the time a
#      restart takes anyway;
#   2. creates TIMEOUTS_CHATS chats (a few more) at TIMEOUTS_RATE (400) a second
#      (bench/lua/chats-fresh.lua, paced), nobody accepting them, with Chats:UnansweredTimeout
#      set just past the end of the creations (their seconds + TIMEOUTS_MARGIN, 45 s; when the
#      node fell short of the pace, the rest are created in that margin): when the
#      first comes due, all of them are open, and from then on they come due at the rate they
#      were created;
#   3. records the node's RSS with all of them open, the PostgreSQL size of their deadlines
#      (table and indexes) and the time of one sweep's claim;
#   4. restarts the node and records how long it takes to be ready and its RSS with every
#      timeout pending and nothing in memory;
#   5. waits until every chat is closed (at most TIMEOUTS_WAIT_AFTER, 600 s, past the last due
#      time), sampling the node's RSS, then reads from the chat records how late each close was
#      (closedAt - (createdAt + UnansweredTimeout)): percentiles and maximum, against issue 19's
#      bound (fired within 60 s of due).
#
# Prints markdown for bench/RESULTS.md; exits 1 when a chat is left open or a close was later
# than 60 s.

apply_defaults TIMEOUTS_CHATS=100000 TIMEOUTS_RATE=400 TIMEOUTS_MARGIN=45 TIMEOUTS_WAIT_AFTER=600
TIMEOUTS_LUA=$BENCH_ROOT/bench/lua/chats-fresh.lua
TIMEOUTS_RESTART_MS=0

# The chats' close lateness in seconds, from their records: "count p50 p90 p99 max closed_by_reason".
timeouts_lateness() {
    bench_psql "WITH chats AS (
            SELECT convert_from(payloadbinary, 'UTF8')::jsonb -> 'Value' AS chat
            FROM orleansstorage WHERE graintypestring = 'chat')
        SELECT count(*),
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY late)::numeric, 2),
               round(percentile_cont(0.9) WITHIN GROUP (ORDER BY late)::numeric, 2),
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY late)::numeric, 2),
               round(max(late)::numeric, 2),
               count(*) FILTER (WHERE late < 0)
        FROM (SELECT extract(epoch FROM (chat ->> 'ClosedAt')::timestamptz - (chat ->> 'CreatedAt')::timestamptz) - $1 AS late
              FROM chats WHERE chat ->> 'CloseReason' = 'UNANSWERED') closes" | tr '|' ' '
}

timeouts_open() { bench_psql "SELECT count(*) FROM chat_deadlines"; }

timeouts_rss_mb() { kb_to_mb "$(proc_status_kb "$NODE_PID" VmRSS)"; }

# timeouts_restart: restarts the node (nodes_restart, which waits until it is ready; in this
# shell, so that the node's new pid and URL are read) and sets TIMEOUTS_RESTART_MS to how long
# that took.
timeouts_restart() {
    local started
    started=$(date +%s%N)
    nodes_restart
    TIMEOUTS_RESTART_MS=$((($(date +%s%N) - started) / 1000000))
}

timeouts_main() {
    ensure_bench_tools
    bench_init timeouts
    # One node, no baseline: what is measured is this build's timeouts.
    # shellcheck disable=SC2034 # read by build_bench_nodes and the node functions
    BENCH_BASELINE="" BENCH_NODE=current
    build_bench_nodes
    # wrk's paced start costs a second or two of requests: a little longer, so at least
    # TIMEOUTS_CHATS are open when the first comes due.
    local create_seconds=$(((TIMEOUTS_CHATS + TIMEOUTS_RATE - 1) / TIMEOUTS_RATE + 5))
    local timeout_seconds=$((create_seconds + TIMEOUTS_MARGIN))
    NODE_ENV+=("Chats__UnansweredTimeout=$(printf '%02d:%02d:%02d' $((timeout_seconds / 3600)) $((timeout_seconds % 3600 / 60)) $((timeout_seconds % 60)))"
        Chats__MaxOpenPerVisitor=100000000)
    single_node_up
    local token rss_idle restart_empty_ms
    timeouts_restart
    restart_empty_ms=$TIMEOUTS_RESTART_MS
    token=$(node_token admin)
    rss_idle=$(timeouts_rss_mb)

    log "creating $TIMEOUTS_CHATS chats at $TIMEOUTS_RATE/s (${create_seconds} s; unanswered timeout ${timeout_seconds} s)"
    local started result created missing extra=0
    started=$(date +%s)
    run_wrk create "$create_seconds" "$BENCH_OUT/create.txt" "$TIMEOUTS_LUA" "$NODE_URL" \
        BENCH_TOKEN="$token" BENCH_RATE="$TIMEOUTS_RATE" BENCH_THREADS="$BENCH_THREADS" -- --latency >/dev/null
    result=$(grep '^RESULT' "$BENCH_OUT/create.txt" || true)
    created=$(grain_records chat)
    # A node slower than the pace falls short: the rest, as long as the first due time is ahead.
    while ((created < TIMEOUTS_CHATS && $(date +%s) + 10 < started + timeout_seconds)); do
        missing=$((TIMEOUTS_CHATS - created))
        extra=$((extra + missing))
        log "topping up: $missing chats short"
        run_wrk create "$((missing / TIMEOUTS_RATE + 2))" "$BENCH_OUT/create-more.txt" "$TIMEOUTS_LUA" "$NODE_URL" \
            BENCH_TOKEN="$token" BENCH_RATE="$TIMEOUTS_RATE" BENCH_THREADS="$BENCH_THREADS" -- --latency >/dev/null
        created=$(grain_records chat)
    done
    local rss_open open deadlines_size claim_ms
    rss_open=$(timeouts_rss_mb)
    open=$(timeouts_open)
    deadlines_size=$(bench_psql "SELECT pg_size_pretty(pg_total_relation_size('chat_deadlines'))")
    # One sweep's claim with every deadline pending and none due yet: the index finds nothing to do.
    claim_ms=$(bench_psql "EXPLAIN (ANALYZE, FORMAT JSON) UPDATE chat_deadlines SET due_at = now() + interval '30 seconds'
        WHERE chat_id IN (SELECT chat_id FROM chat_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT 256 FOR UPDATE SKIP LOCKED)
        RETURNING chat_id" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p' | head -1)

    log "restarting the node with $open timeouts pending"
    local restart_ms rss_restarted
    timeouts_restart
    restart_ms=$TIMEOUTS_RESTART_MS
    rss_restarted=$(timeouts_rss_mb)

    local last_due=$((started + create_seconds + timeout_seconds)) rss_peak=$rss_restarted rss now
    log "waiting for the timeouts (the last is due at $(date -d "@$last_due" +%T))"
    while (($(timeouts_open) > 0)); do
        now=$(date +%s)
        ((now < last_due + TIMEOUTS_WAIT_AFTER)) || break
        rss=$(timeouts_rss_mb)
        ((rss > rss_peak)) && rss_peak=$rss
        sleep 5
    done
    local left lateness count p50 p90 p99 max early
    left=$(timeouts_open)
    lateness=$(timeouts_lateness "$timeout_seconds")
    read -r count p50 p90 p99 max early <<<"$lateness"
    local verdict=met
    if ((left > 0 || early > 0)) || awk -v m="$max" 'BEGIN { exit !(m > 60) }'; then verdict=MISSED; mark_failed; fi

    {
        echo "## Timeouts: $TIMEOUTS_CHATS open chats on one node"
        echo
        print_command_line
        print_machine
        echo
        echo "| measure | value |"
        echo "|---|---:|"
        echo "| chats created (paced at $TIMEOUTS_RATE/s for ${create_seconds} s$( ((extra == 0)) || echo ", then ~$extra more")) | $created ($(result_field "$result" rps) requests/s, p99 $(result_field "$result" p99_ms) ms, non-2xx $(result_field "$result" non2xx)) |"
        echo "| node RSS before, MB | $rss_idle |"
        echo "| node RSS with all open and just created, MB | $rss_open |"
        echo "| deadlines pending | $open |"
        echo "| their rows in PostgreSQL (table + indexes) | $deadlines_size |"
        echo "| one sweep's claim with none due, ms | ${claim_ms:-?} |"
        echo "| node restart to ready with nothing pending, ms | $restart_empty_ms |"
        echo "| node restart to ready with them pending, ms | $restart_ms |"
        echo "| node RSS after the restart (nothing in memory), MB | $rss_restarted |"
        echo "| node RSS peak while they fired, MB | $rss_peak |"
        echo "| closed as UNANSWERED | $count (left open: $left, closed early: $early) |"
        echo "| lateness after due, s: p50 / p90 / p99 / max | $p50 / $p90 / $p99 / **$max** (bound: 60) |"
        echo "| verdict | $verdict |"
    } | tee "$BENCH_OUT/report.md"
    nodes_down
    exit_if_failed "timeouts left open or fired later than 60 s after due"
}
