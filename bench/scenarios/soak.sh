# shellcheck shell=bash
# Soaks: a long run at a fixed rate, sampling memory, to see whether it levels off. Two
# scenarios of bench/run.sh:
#
# mixed (bench/run.sh mixed): SOAK_MINUTES (10) at a fixed, moderate rate (SOAK_RATE, 300
# requests/s in all) through nginx on a 3-node cluster from deploy/cluster.sh, the three creation
# endpoints in rotation (bench/lua/mixed.lua: PUT /v2/chats/{fresh id}, POST
# /api/v1/chat/guest/session, POST /livechat/session). Once a minute, minute 0 (load starting)
# to SOAK_MINUTES, it records each node's VmRSS, the PSS of nginx (master + worker) and of
# PostgreSQL (all its processes; PSS shares the shared buffers out instead of counting them once
# per process), and the requests and non-2xx answers nginx logged in that minute. Then it says
# whether each node's RSS levelled off: grew less than SOAK_LEVEL_PERCENT (5) % over the last 5
# minutes. Environment: SOAK_MINUTES (10, at least 5), SOAK_RATE (300), SOAK_CONNECTIONS (8: must
# exceed rate × latency), SOAK_THREADS (1), SOAK_LEVEL_PERCENT (5), CLUSTER_NODES (3),
# SOAK_INTERVAL (60: seconds per "minute"; a smaller one only to check the script quickly).
# No warm-up: minute 0 is the nodes just after start. Rate limiting is off (wrk is one IP).
#
# soak (bench/run.sh soak): one node (the working tree's Release build) on its own durable
# PostgreSQL, chat creations only (bench/lua/chats-fresh.lua, PUT /v2/chats/{fresh id}) for
# SOAK_MINUTES (10) at issue 18's rate, 1,000 requests/s, or the highest rate the node sustains
# when it cannot hold that. Unless SOAK_RATE is given, after a warm-up (BENCH_WARMUP) a paced
# check of SOAK_CHECK_SECONDS (20) at SOAK_TARGET_RATE (1000) decides: when it holds its rate
# (≥ SOAK_HOLD_PERCENT, 95 % of it) with no error (and, with SOAK_P99_MS > 0, p99 ≤ SOAK_P99_MS
# ms; default 0: latency is reported, not required) the soak runs at it; otherwise the report
# says so (with the check's figures: why) and the rate is searched below it: an unpaced probe
# (SOAK_PROBE_SECONDS, 15) with wrk -t2 -c32 gives the node's maximum, then paced checks at 90,
# 80, 70 ... % of it (those below SOAK_TARGET_RATE), and the first that holds is the soak's
# rate. SOAK_RATE=<n> soaks at n without any check (the rate verdict then says whether n was
# issue 18's rate and was held). The soak itself is paced (common.pace) with BENCH_THREADS ×
# BENCH_CONNECTIONS (2 × 32). Every SOAK_SAMPLE_SECONDS (30) it records the node's VmRSS, its
# CPU, the chat records inserted (pg_stat_user_tables), PostgreSQL's PSS and, when
# dotnet-counters is installed (dotnet tool install -g dotnet-counters), the node's chat
# activations and GC heap; at the end, with dotnet-gcdump installed, the node's heap by type
# (SOAK_GCDUMP_LINES, 30). RSS has levelled off when it grew less than SOAK_LEVEL_PERCENT (5) %
# over the second half. Then a verdict per line of issue 18's soak row, each computed: the rate
# (SOAK_TARGET_RATE held), RSS levelled off at ≤ SOAK_TARGET_RSS_MB (400; the peak sampled every
# 0.5 s during the soak), p99 ≤ SOAK_TARGET_P99_MS (100), no timeout, no other error, chat
# records = acknowledged creations.
#
# Both print markdown for bench/RESULTS.md; wrk's output and the logs go to bench/out/.
# Both exit 1 after the report if any request failed, a record is missing, or RSS did not level off.

# Read before its default applies: the fresh soak searches for its rate unless one is given.
SOAK_RATE_GIVEN=$(printenv SOAK_RATE || true)
apply_defaults SOAK_MINUTES=10 SOAK_RATE=300 SOAK_CONNECTIONS=8 SOAK_THREADS=1 SOAK_LEVEL_PERCENT=5 \
    SOAK_INTERVAL=60 CLUSTER_NODES=3 SOAK_SAMPLE_SECONDS=30 SOAK_PROBE_SECONDS=15 \
    SOAK_CHECK_SECONDS=20 SOAK_P99_MS=0 SOAK_HOLD_PERCENT=95 SOAK_GCDUMP_LINES=30 \
    SOAK_TARGET_RATE=1000 SOAK_TARGET_RSS_MB=400 SOAK_TARGET_P99_MS=100
SOAK_MIXED_SCRIPT=$BENCH_ROOT/bench/lua/mixed.lua
SOAK_FRESH_SCRIPT=$BENCH_ROOT/bench/lua/chats-fresh.lua

SOAK_SAMPLES=()   # per minute: "minute rss_kb_node1 ... nginx_pss_kb pg_pss_kb requests non2xx"

# The access log's lines FROM+1..TO: "requests non2xx" (the status follows the quoted request).
# One awk, no `tail | head`: the log grows meanwhile, and tail would die of SIGPIPE.
soak_access_counts() {
    awk -F'"' -v from="$1" -v to="$2" 'NR <= from { next } NR > to { exit }
        { split($3, f, " "); n++; if (f[1] < 200 || f[1] > 299) bad++ } END { print n + 0, bad + 0 }' \
        "$CLUSTER_STATE/nginx/access.log"
}

SOAK_LAST_LINES=0
# soak_sample_minute MINUTE: one row of SOAK_SAMPLES.
soak_sample_minute() {
    local minute=$1 row pid rss lines
    row="$minute"
    for pid in "${BENCH_NODE_PIDS[@]}"; do
        rss=$(proc_status_kb "$pid" VmRSS)
        row+=" ${rss:-0}"
    done
    lines=$(cluster_access_lines)
    row+=" $(pss_kb_of_tree "$BENCH_NGINX_PID") $(pss_kb_of_tree "$BENCH_PG_PID") $(soak_access_counts "$SOAK_LAST_LINES" "$lines")"
    SOAK_LAST_LINES=$lines
    SOAK_SAMPLES+=("$row")
    log "minute $minute: $row"
}

soak_series_table() {
    local i header="| minute |" rule="|---:|"
    for i in $(seq "$CLUSTER_NODES"); do header+=" node $i RSS MB |"; rule+="---:|"; done
    echo "$header nginx PSS MB | PostgreSQL PSS MB | requests in the minute (nginx) | non-2xx in the minute |"
    echo "$rule---:|---:|---:|---:|"
    printf '%s\n' "${SOAK_SAMPLES[@]}" | awk -v nodes="$CLUSTER_NODES" '{
        line = "| " $1 " |"
        for (i = 2; i <= nodes + 3; i++) line = line sprintf(" %.1f |", $i / 1024)
        print line " " ($1 == 0 ? "–" : $(nodes + 4)) " | " ($1 == 0 ? "–" : $(nodes + 5)) " |"
    }'
}

# Per node: growth over the last 5 minutes, and the verdict. Sets SOAK_LEVEL_FAILED.
SOAK_LEVEL_FAILED=0
soak_level_lines() {
    local first last i col verdict
    first=${SOAK_SAMPLES[$((SOAK_MINUTES - 5))]}
    last=${SOAK_SAMPLES[$SOAK_MINUTES]}
    for i in $(seq "$CLUSTER_NODES"); do
        col=$((i + 1))
        verdict=$(awk -v a="$(cut -d' ' -f"$col" <<<"$first")" -v b="$(cut -d' ' -f"$col" <<<"$last")" \
            -v limit="$SOAK_LEVEL_PERCENT" -v m0="$((SOAK_MINUTES - 5))" -v m1="$SOAK_MINUTES" -v node="$i" 'BEGIN {
            g = (b - a) / a * 100
            printf "- node %d: %.1f MB at minute %d, %.1f MB at minute %d: %+.1f %% over the last 5 minutes: %s\n",
                node, a / 1024, m0, b / 1024, m1, g, (g < limit) ? "levelled off" : "STILL GROWING"
        }')
        echo "$verdict"
        [[ $verdict == *"levelled off" ]] || SOAK_LEVEL_FAILED=1
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

# soak_paced_wrk OUT INTERVAL SAMPLES STEP SAMPLE_FN SCRIPT URL TOKEN THREADS CONNECTIONS: wrk
# with SCRIPT on URL, paced at SOAK_RATE requests/s in all (common.pace), for SAMPLES × INTERVAL
# seconds and a little longer, so that every sample is taken under load: SAMPLE_FN 0 just
# before it starts, then SAMPLE_FN i×STEP every INTERVAL s. wrk exiting early or a node dying
# stops the run. wrk's output goes to OUT.
soak_paced_wrk() {
    local out=$1 interval=$2 samples=$3 step=$4 sample_fn=$5 script=$6 url=$7 token=$8 threads=$9 connections=${10}
    local start n pid rc=0
    "$sample_fn" 0
    start=$EPOCHREALTIME
    env BENCH_PHASE=soak BENCH_SCENARIO=soak BENCH_TOKEN="$token" BENCH_RATE="$SOAK_RATE" BENCH_THREADS="$threads" \
        wrk -t"$threads" -c"$connections" -d"$((samples * interval + 3))s" --latency -s "$script" "$url" >"$out" 2>&1 &
    WRK_PID=$!
    for ((n = 1; n <= samples; n++)); do
        # sleep in the background + wait: a signal interrupts wait at once (trap cleanup).
        sleep "$(awk -v s="$start" -v t="$((n * interval))" -v now="$EPOCHREALTIME" \
            'BEGIN { d = s + t - now; printf "%.3f", (d > 0 ? d : 0) }')" &
        wait $!
        kill -0 "$WRK_PID" 2>/dev/null || die "wrk exited early: $(tail -n 5 "$out")"
        for pid in "${BENCH_NODE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "node $pid died"; done
        "$sample_fn" $((n * step))
    done
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    ((rc == 0)) || die "wrk failed ($rc): $(tail -n 5 "$out")"
}

soak_mixed() {
    if ! [[ $SOAK_MINUTES =~ ^[0-9]+$ ]] || ((SOAK_MINUTES < 5)); then die "SOAK_MINUTES must be at least 5"; fi
    [[ $SOAK_INTERVAL =~ ^[1-9][0-9]*$ ]] || die "SOAK_INTERVAL must be a number of seconds"
    [[ -z $BENCH_BASELINE ]] || die "the mixed soak measures the working tree's nodes only: unset BENCH_BASELINE"
    ensure_bench_tools
    bench_init soak
    build_bench_nodes
    nodes_up "$CLUSTER_NODES"
    local token
    token=$(node_token admin)
    cluster_smoke_all "$token"
    # The smoke requests' rows, so the check at the end counts only what wrk created.
    local chats0 guests0 live0
    chats0=$(grain_records chat)
    guests0=$(grain_records guestSession)
    live0=$(grain_records liveChatSession)

    # wrk a little longer than the last sample, so every sample is taken under load.
    local seconds=$((SOAK_MINUTES * SOAK_INTERVAL + 3)) out=$BENCH_OUT/soak.txt
    log "soak: ${SOAK_MINUTES} min at ${SOAK_RATE} requests/s (wrk -t$SOAK_THREADS -c$SOAK_CONNECTIONS, paced by delay()) through $LB_URL"
    # Each node log's length so far: errors are counted in what the nodes log from here on.
    local -A log_lines0=()
    local f
    for f in "$CLUSTER_STATE"/nodes/*.log; do log_lines0[$f]=$(wc -l <"$f"); done
    SOAK_LAST_LINES=$(cluster_access_lines)
    soak_paced_wrk "$out" "$SOAK_INTERVAL" "$SOAK_MINUTES" 1 soak_sample_minute \
        "$SOAK_MIXED_SCRIPT" "$LB_URL" "$token" "$SOAK_THREADS" "$SOAK_CONNECTIONS"
    cat "$out" >&2

    local result mix
    result=$(grep '^RESULT ' "$out" | tail -n 1) || die "no RESULT line from wrk"
    mix=$(grep '^MIX ' "$out" | tail -n 1) || die "no MIX line from wrk"
    local non2xx sockets ok200 ok201
    non2xx=$(result_field "$result" non2xx)
    sockets=$(socket_errors "$result")
    ok200=$(result_field "$mix" status200_chats)
    ok201=$(result_field "$mix" status201_sessions)
    ((non2xx == 0 && sockets == 0)) || mark_failed

    # Rows written against answers: every 200 is a chat, every 201 a guest or live-chat
    # session; requests in flight when wrk stopped were answered to nobody but still wrote.
    local chats guests live rows_verdict=ok
    chats=$(($(grain_records chat) - chats0))
    guests=$(($(grain_records guestSession) - guests0))
    live=$(($(grain_records liveChatSession) - live0))
    if ((chats < ok200 || chats > ok200 + SOAK_CONNECTIONS || guests + live < ok201 ||
        guests + live > ok201 + SOAK_CONNECTIONS)); then
        rows_verdict=MISMATCH
        mark_failed
    fi
    # Errors logged before the load (e.g. a readiness probe answered "schema not migrated
    # yet" during start-up) are reported apart.
    local node_errors=0 startup_errors=0 pattern='"LogLevel":"(Error|Critical)"'
    for f in "$CLUSTER_STATE"/nodes/*.log; do
        startup_errors=$((startup_errors + $(awk -v n="${log_lines0[$f]}" -v p="$pattern" 'NR <= n && $0 ~ p { c++ } END { print c + 0 }' "$f")))
        node_errors=$((node_errors + $(awk -v n="${log_lines0[$f]}" -v p="$pattern" 'NR > n && $0 ~ p { c++ } END { print c + 0 }' "$f")))
    done

    echo
    print_command_line
    echo
    print_machine
    echo "- wrk 4.1: -t$SOAK_THREADS -c$SOAK_CONNECTIONS -d${seconds}s, bench/lua/mixed.lua paced at $SOAK_RATE requests/s (delay() hands out send slots), no warm-up; ${CLUSTER_NODES} nodes behind nginx from deploy/cluster.sh, rate limiting off"
    echo
    soak_series_table
    echo
    awk -v r="$result" -v target="$SOAK_RATE" -v ok200="$ok200" -v ok201="$ok201" -v sockets="$sockets" 'BEGIN {
        n = split(r, kv, " ")
        for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        printf "- achieved: %.1f requests/s (target %d), %d requests: %d chats (200), %d sessions (201); p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n",
            v["rps"], target, v["requests"], ok200, ok201, v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"]
        printf "- errors: %d non-2xx (%s), %d socket errors\n", v["non2xx"], v["statuses"], sockets
    }'
    echo "- records written by the soak: $chats chats, $guests guest sessions + $live live-chat sessions ($((guests + live)) for $ok201 answered 201s): $rows_verdict"
    echo "- error or critical lines in the nodes' logs during the soak: $node_errors (before it, at start-up: $startup_errors)"
    echo
    echo "RSS over the last 5 minutes (levelled off = grew less than ${SOAK_LEVEL_PERCENT} %):"
    echo
    soak_level_lines
    echo
    echo "wrk output and logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"

    if ((BENCH_FAILED || SOAK_LEVEL_FAILED)); then
        log "failed: errors, missing rows or RSS still growing (see above and $BENCH_OUT)"
        exit 1
    fi
}

# ---------------------------------------------------------------------------------------
# fresh: one node, chat creations at the highest rate it sustains

SOAK_TOKEN=""
SOAK_LAST_RESULT=""     # the RESULT line of the last soak_fresh_wrk
SOAK_RATE_LINES=()      # the rate search, one markdown table row per wrk run
SOAK_FRESH_SAMPLES=()   # per sample: "seconds rss_kb records node_ticks pg_pss_kb"
SOAK_COUNTERS_PID=""

# soak_fresh_wrk PHASE SECONDS RATE OUTFILE: chats-fresh.lua on the node, paced at RATE requests/s
# in all (0: as fast as it goes), with BENCH_THREADS × BENCH_CONNECTIONS. Sets SOAK_LAST_RESULT.
soak_fresh_wrk() {
    local phase=$1 seconds=$2 rate=$3 out=$4
    run_wrk "$phase" "$seconds" "$out" "$SOAK_FRESH_SCRIPT" "$NODE_URL" BENCH_TOKEN="$SOAK_TOKEN" \
        BENCH_SCENARIO="$phase" BENCH_RATE="$rate" BENCH_THREADS="$BENCH_THREADS" -- --latency >/dev/null ||
        die "$phase: wrk failed: $(tail -n 5 "$out")"
    SOAK_LAST_RESULT=$(grep '^RESULT ' "$out" | tail -n 1) || die "$phase: no RESULT line from wrk"
}

# soak_rate_line LABEL TARGET: a row of the rate search's table from SOAK_LAST_RESULT.
soak_rate_line() {
    SOAK_RATE_LINES+=("| $1 | $2 | $(result_field "$SOAK_LAST_RESULT" rps) | $(result_field "$SOAK_LAST_RESULT" p50_ms) | $(result_field "$SOAK_LAST_RESULT" p99_ms) | $(errors_of "$SOAK_LAST_RESULT") | ${3:-} |")
}

# soak_check_verdict RATE: "sustained" when SOAK_LAST_RESULT (a paced check at RATE) held it
# (≥ SOAK_HOLD_PERCENT % of it, no error, p99 ≤ SOAK_P99_MS when set), else "not sustained".
soak_check_verdict() {
    awk -v rate="$1" -v got="$(result_field "$SOAK_LAST_RESULT" rps)" -v p99="$(result_field "$SOAK_LAST_RESULT" p99_ms)" \
        -v limit="$SOAK_P99_MS" -v hold="$SOAK_HOLD_PERCENT" -v errors="$(errors_of "$SOAK_LAST_RESULT")" \
        'BEGIN { ok = got >= hold / 100 * rate && errors == 0 && (limit <= 0 || p99 <= limit); print (ok ? "sustained" : "not sustained") }'
}

SOAK_TARGET_CHECK=""    # why the target rate was not held: the paced check's figures (empty: held, or not checked)

# soak_find_rate: sets SOAK_RATE to SOAK_TARGET_RATE when the node holds it, else to the highest
# rate below it that the node holds (see the header).
soak_find_rate() {
    local max pct rate verdict
    log "warm-up ${BENCH_WARMUP}s, then a paced check at the target, $SOAK_TARGET_RATE requests/s, for ${SOAK_CHECK_SECONDS}s"
    soak_fresh_wrk warmup "$BENCH_WARMUP" 0 "$BENCH_OUT/rate-warmup.txt"
    soak_rate_line "warm-up, unpaced (${BENCH_WARMUP} s)" "–"
    soak_fresh_wrk check-target "$SOAK_CHECK_SECONDS" "$SOAK_TARGET_RATE" "$BENCH_OUT/rate-check-target.txt"
    verdict=$(soak_check_verdict "$SOAK_TARGET_RATE")
    soak_rate_line "paced check at the target (${SOAK_CHECK_SECONDS} s)" "$SOAK_TARGET_RATE" "$verdict"
    if [[ $verdict == sustained ]]; then
        SOAK_RATE=$SOAK_TARGET_RATE
        return 0
    fi
    SOAK_TARGET_CHECK="$(result_field "$SOAK_LAST_RESULT" rps) requests/s achieved of $SOAK_TARGET_RATE, p99 $(result_field "$SOAK_LAST_RESULT" p99_ms) ms, $(errors_of "$SOAK_LAST_RESULT") errors (statuses $(result_field "$SOAK_LAST_RESULT" statuses), $(result_field "$SOAK_LAST_RESULT" timeout) timeouts)"
    log "the node did not hold $SOAK_TARGET_RATE requests/s ($SOAK_TARGET_CHECK): rate search, unpaced probe ${SOAK_PROBE_SECONDS}s"
    soak_fresh_wrk probe "$SOAK_PROBE_SECONDS" 0 "$BENCH_OUT/rate-probe.txt"
    max=$(result_field "$SOAK_LAST_RESULT" rps)
    soak_rate_line "probe, unpaced (${SOAK_PROBE_SECONDS} s): the maximum" "–"
    for pct in 90 80 70 60 50 40; do
        rate=$(awk -v m="$max" -v p="$pct" 'BEGIN { r = int(m * p / 100 / 10) * 10; print (r < 10 ? 10 : r) }')
        # The target itself did not hold: only rates below it.
        ((rate < SOAK_TARGET_RATE)) || continue
        log "rate search: paced check at $rate requests/s ($pct % of $max) for ${SOAK_CHECK_SECONDS}s"
        soak_fresh_wrk "check-$pct" "$SOAK_CHECK_SECONDS" "$rate" "$BENCH_OUT/rate-check-$pct.txt"
        verdict=$(soak_check_verdict "$rate")
        soak_rate_line "paced check, $pct % of the maximum (${SOAK_CHECK_SECONDS} s)" "$rate" "$verdict"
        if [[ $verdict == sustained ]]; then
            SOAK_RATE=$rate
            return 0
        fi
    done
    die "no paced check down to 40 % of the maximum ($max requests/s) held its rate (see $BENCH_OUT/rate-*.txt)"
}

# soak_sample_fresh SECONDS: one row of SOAK_FRESH_SAMPLES.
soak_sample_fresh() {
    local rss records pg_pid
    rss=$(proc_status_kb "$NODE_PID" VmRSS)
    # Inserts as PostgreSQL's statistics count them (reported by each backend within ~1 s):
    # a cheap reading, unlike count(*) over a table of a million rows.
    records=$(bench_psql "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname IN ('orleansstorage', 'chats')")
    pg_pid=$BENCH_PG_PID
    SOAK_FRESH_SAMPLES+=("$1 ${rss:-0} $records $(proc_stat_ticks "$NODE_PID") $(pss_kb_of_tree "$pg_pid")")
    log "t=$1 s: RSS $(kb_to_mb "${rss:-0}") MB, $records records inserted"
}

# soak_counters_series: "index activations heap_mb" per report of dotnet-counters' CSV (its
# reports come every SOAK_SAMPLE_SECONDS from just before the soak's start).
soak_counters_series() {
    [[ -s $BENCH_OUT/counters.csv ]] || return 0
    awk -F, '
        NR == 1 { next }
        $1 != last { if (n) print n, act[n] + 0, heap[n] / 1048576; n++; last = $1 }
        index($3, "orleans-catalog-activations[grain_type=chat]") == 1 { act[n] = $5 }
        index($3, "dotnet.gc.last_collection.heap.size (By)") == 1 { heap[n] += $5 }
        END { if (n) print n, act[n] + 0, heap[n] / 1048576 }' "$BENCH_OUT/counters.csv"
}

soak_fresh_series_table() {
    local -A act=() heap=()
    local i a h
    while read -r i a h; do act[$i]=$a; heap[$i]=$h; done < <(soak_counters_series)
    echo "| t (s) | node RSS MB | chat records inserted | creations/s in the interval | node CPU (cores) in the interval | PostgreSQL PSS MB | chat activations ¹ | GC heap MB ¹ |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    local n=0 row prev=""
    for row in "${SOAK_FRESH_SAMPLES[@]}"; do
        awk -v row="$row" -v prev="$prev" -v hz="$CLK_TCK" -v act="${act[$n]:-–}" -v heap="${heap[$n]:-}" 'BEGIN {
            split(row, r, " ")
            if (prev == "") { rate = "–"; cpu = "–" }
            else {
                split(prev, p, " "); dt = r[1] - p[1]
                rate = sprintf("%.0f", (r[3] - p[3]) / dt); cpu = sprintf("%.2f", (r[4] - p[4]) / hz / dt)
            }
            printf "| %d | %.1f | %d | %s | %s | %.1f | %s | %s |\n", r[1], r[2] / 1024, r[3], rate, cpu, r[5] / 1024,
                act, (heap == "" ? "–" : sprintf("%.0f", heap))
        }'
        prev=$row
        n=$((n + 1))
    done
}

soak_stop_counters() {
    [[ -n $SOAK_COUNTERS_PID ]] || return 0
    # TERM: a background job of a script ignores INT. Its CSV is written as it goes.
    kill -TERM "$SOAK_COUNTERS_PID" 2>/dev/null || true
    wait "$SOAK_COUNTERS_PID" 2>/dev/null || true
    SOAK_COUNTERS_PID=""
    return 0
}

# soak_fresh_verdicts RESULT RECORDS ANSWERED RECORDS_VERDICT HALF_SAMPLE LAST_SAMPLE PEAK_KB: one
# line per target of issue 18's soak row, and the soak's verdict.
soak_fresh_verdicts() {
    local result=$1 records=$2 ok=$3 records_verdict=$4 half=$5 last=$6 peak_kb=$7
    awk -v r="$result" -v rate="$SOAK_RATE" -v target_rate="$SOAK_TARGET_RATE" -v given="$SOAK_RATE_GIVEN" \
        -v check="$SOAK_TARGET_CHECK" -v hold="$SOAK_HOLD_PERCENT" -v minutes="$SOAK_MINUTES" \
        -v rss_half="$(cut -d' ' -f2 <<<"$half")" -v rss_last="$(cut -d' ' -f2 <<<"$last")" -v peak="$peak_kb" \
        -v level_pct="$SOAK_LEVEL_PERCENT" -v rss_limit="$SOAK_TARGET_RSS_MB" -v p99_limit="$SOAK_TARGET_P99_MS" \
        -v records="$records" -v ok="$ok" -v records_verdict="$records_verdict" '
        function verdict(pass, what) { if (!pass) missed = missed ", " what; return pass ? "**met**" : "**MISSED**" }
        BEGIN {
            n = split(r, kv, " ")
            for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
            held = v["rps"] >= hold / 100 * rate
            if (given != "")
                printf "- rate %d requests/s for %d min: SOAK_RATE=%s given (no check), %.1f requests/s achieved: %s\n",
                    target_rate, minutes, given, v["rps"], verdict(rate >= target_rate && held, "rate")
            else if (check != "")
                printf "- rate %d requests/s for %d min: the node did not hold it (paced check: %s), so the soak ran at %d requests/s, the highest rate the search found it to sustain (%.1f achieved): %s\n",
                    target_rate, minutes, check, rate, v["rps"], verdict(0, "rate")
            else
                printf "- rate %d requests/s for %d min: %.1f requests/s achieved (≥ %d %% of it%s): %s\n", target_rate, minutes,
                    v["rps"], hold, (held ? "" : ": not held over the soak although the check held it"), verdict(held, "rate")
            growth = (rss_last - rss_half) / rss_half * 100
            levelled = growth < level_pct
            printf "- RSS levels off ≤ %d MB: peak %.0f MB during the soak, %.0f MB at the end, %+.1f %% over the second half (%s; levelled off = less than %s %%): %s\n",
                rss_limit, peak / 1024, rss_last / 1024, growth, (levelled ? "levelled off" : "still growing"), level_pct,
                verdict(levelled && peak / 1024 <= rss_limit, "RSS")
            printf "- p99 ≤ %d ms: %s ms: %s\n", p99_limit, v["p99_ms"], verdict(v["p99_ms"] + 0 <= p99_limit, "p99")
            printf "- no timeout: %d timeouts: %s\n", v["timeout"], verdict(v["timeout"] == 0, "timeouts")
            other = v["non2xx"] + v["connect"] + v["read"] + v["write"]
            printf "- no error: %d non-2xx (statuses %s), %d connect/read/write errors: %s\n", v["non2xx"], v["statuses"],
                v["connect"] + v["read"] + v["write"], verdict(other == 0, "errors")
            printf "- records = acknowledged: %d chat records for %d answered requests (%s): %s\n", records, ok, records_verdict,
                verdict(records_verdict == "ok", "records")
            printf "\nsoak verdict: %s\n", missed == "" ? "**met**" : "**MISSED** (" substr(missed, 3) ")"
        }'
}

soak_fresh() {
    [[ -z $BENCH_BASELINE ]] || die "the soak measures the working tree's node only: unset BENCH_BASELINE"
    if ! [[ $SOAK_MINUTES =~ ^[0-9]+$ ]] || ((SOAK_MINUTES < 2)); then die "SOAK_MINUTES must be at least 2"; fi
    [[ $SOAK_SAMPLE_SECONDS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SAMPLE_SECONDS must be a number of seconds"
    ensure_bench_tools
    bench_init soak-fresh
    BENCH_CLEANUP_HOOKS+=(soak_stop_counters)
    build_bench_nodes
    single_node_up
    SOAK_TOKEN=$(node_token admin)

    if [[ -n $SOAK_RATE_GIVEN ]]; then
        SOAK_RATE=$SOAK_RATE_GIVEN
        log "rate given: $SOAK_RATE requests/s; warm-up ${BENCH_WARMUP}s"
        soak_fresh_wrk warmup "$BENCH_WARMUP" 0 "$BENCH_OUT/rate-warmup.txt"
        soak_rate_line "warm-up, unpaced (${BENCH_WARMUP} s)" "–"
    else
        soak_find_rate
    fi

    local records0
    records0=$(grain_records chat)
    local counters
    counters=$(command -v dotnet-counters || true)
    [[ -n $counters || ! -x $HOME/.dotnet/tools/dotnet-counters ]] || counters=$HOME/.dotnet/tools/dotnet-counters
    if [[ -n $counters ]]; then
        "$counters" collect -p "$NODE_PID" --format csv --refresh-interval "$SOAK_SAMPLE_SECONDS" \
            --counters System.Runtime,Microsoft.Orleans -o "$BENCH_OUT/counters.csv" >"$BENCH_OUT/counters.log" 2>&1 &
        SOAK_COUNTERS_PID=$!
    else
        log "dotnet-counters not installed: no activation and GC heap columns"
    fi

    local out=$BENCH_OUT/soak.txt samples=$((SOAK_MINUTES * 60 / SOAK_SAMPLE_SECONDS))
    log "soak: ${SOAK_MINUTES} min of chat creations paced at $SOAK_RATE requests/s (wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS), a sample every ${SOAK_SAMPLE_SECONDS}s"
    # The soak's own peak RSS (every 0.5 s): VmHWM would include the rate search's unpaced runs.
    start_rss_samplers "$BENCH_TMP/rss-soak" "$NODE_PID"
    soak_paced_wrk "$out" "$SOAK_SAMPLE_SECONDS" "$samples" "$SOAK_SAMPLE_SECONDS" soak_sample_fresh \
        "$SOAK_FRESH_SCRIPT" "$NODE_URL" "$SOAK_TOKEN" "$BENCH_THREADS" "$BENCH_CONNECTIONS"
    stop_rss_sampler
    local soak_peak_kb
    soak_peak_kb=$(cat "$BENCH_TMP/rss-soak.1")
    soak_stop_counters
    cat "$out" >&2

    # What the heap holds at the end, by type (a full GC first: the dump walks live objects).
    local gcdump=""
    gcdump=$(command -v dotnet-gcdump || true)
    [[ -n $gcdump || ! -x $HOME/.dotnet/tools/dotnet-gcdump ]] || gcdump=$HOME/.dotnet/tools/dotnet-gcdump
    if [[ -n $gcdump ]]; then
        log "dotnet-gcdump of the node (heap by type)"
        if "$gcdump" collect -p "$NODE_PID" -o "$BENCH_OUT/node.gcdump" >"$BENCH_OUT/gcdump.log" 2>&1; then
            "$gcdump" report "$BENCH_OUT/node.gcdump" >"$BENCH_OUT/gcdump-report.txt" 2>&1 || true
        else
            log "dotnet-gcdump failed (see $BENCH_OUT/gcdump.log)"
        fi
    fi

    local result errors ok records verdict=ok hwm
    result=$(grep '^RESULT ' "$out" | tail -n 1) || die "no RESULT line from wrk"
    errors=$(errors_of "$result")
    ((errors == 0)) || mark_failed
    ok=$(($(result_field "$result" requests) - $(result_field "$result" non2xx)))
    records=$(($(grain_records chat) - records0))
    if ((records < ok || records > ok + BENCH_CONNECTIONS)); then verdict=MISMATCH; mark_failed; fi
    hwm=$(proc_status_kb "$NODE_PID" VmHWM)

    local half=${SOAK_FRESH_SAMPLES[$((samples / 2))]} last=${SOAK_FRESH_SAMPLES[$samples]} level
    level=$(awk -v a="$(cut -d' ' -f2 <<<"$half")" -v b="$(cut -d' ' -f2 <<<"$last")" -v ta="$(cut -d' ' -f1 <<<"$half")" \
        -v tb="$(cut -d' ' -f1 <<<"$last")" -v limit="$SOAK_LEVEL_PERCENT" 'BEGIN {
        g = (b - a) / a * 100
        printf "%.1f MB at t=%d s, %.1f MB at t=%d s: %+.1f %% over the second half: %s", a / 1024, ta, b / 1024, tb, g,
            (g < limit) ? "levelled off" : "STILL GROWING"
    }')
    local level_failed=0
    [[ $level == *"levelled off" ]] || level_failed=1

    echo
    print_command_line
    echo
    print_machine
    echo "- one node on its own durable PostgreSQL, rate limiting off; wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS, bench/lua/chats-fresh.lua (every request creates a chat)"
    echo
    echo "Rate search (wrk, one run after the other on the same node):"
    echo
    echo "| run | target requests/s | requests/s | p50 ms | p99 ms | non-2xx + socket errors | verdict (≥ $SOAK_HOLD_PERCENT % of the target, no errors$( ((SOAK_P99_MS > 0)) && echo ", p99 ≤ $SOAK_P99_MS ms")) |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${SOAK_RATE_LINES[@]}"
    echo
    echo "Soak: ${SOAK_MINUTES} min paced at **$SOAK_RATE requests/s**, a sample every ${SOAK_SAMPLE_SECONDS} s (t=0: just before the soak, after the rate search):"
    echo
    soak_fresh_series_table
    echo
    echo "¹ from \`dotnet-counters collect --refresh-interval $SOAK_SAMPLE_SECONDS\` (orleans-catalog-activations for grain_type=chat; dotnet.gc.last_collection.heap.size summed over the generations), its n-th report beside the n-th sample: the same time to within a second or two."
    echo
    awk -v r="$result" -v target="$SOAK_RATE" 'BEGIN {
        n = split(r, kv, " ")
        for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        printf "- achieved: %.1f requests/s (target %d), %d requests; p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n",
            v["rps"], target, v["requests"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"]
        printf "- errors: %d non-2xx (%s), %d socket errors\n", v["non2xx"], v["statuses"], v["connect"] + v["read"] + v["write"] + v["timeout"]
    }'
    echo "- chat records written during the soak: $records for $ok answered requests (up to $BENCH_CONNECTIONS more in flight when wrk stopped): $verdict"
    echo "- node RSS: $level; peak during the soak $(kb_to_mb "$soak_peak_kb") MB (sampled every 0.5 s), VmHWM since start (rate search included) $(kb_to_mb "$hwm") MB"
    echo
    echo "Issue 18's soak row (10 min of fresh creations at $SOAK_TARGET_RATE requests/s, or the highest rate the node sustains), each line computed:"
    echo
    soak_fresh_verdicts "$result" "$records" "$ok" "$verdict" "$half" "$last" "$soak_peak_kb"
    echo
    if [[ -s $BENCH_OUT/gcdump-report.txt ]]; then
        echo
        echo "The node's heap at the end of the soak, by type (\`dotnet-gcdump report\`, the first ${SOAK_GCDUMP_LINES} lines):"
        echo
        echo '```'
        head -n "$SOAK_GCDUMP_LINES" "$BENCH_OUT/gcdump-report.txt"
        echo '```'
    fi
    echo
    echo "wrk output, counters and logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"

    if ((BENCH_FAILED || level_failed)); then
        log "failed: errors, missing records or RSS still growing (see above and $BENCH_OUT)"
        exit 1
    fi
}

