# shellcheck shell=bash
# Real-time conversations under load (issue 12, item 8): HUB_CONVERSATIONS (1,000)
# conversations on /hubs/livechat, each a visitor and a commercial with a WebSocket connection
# of their own (2,000 connections), the chat created (PUT /v2/chats with the visitor's
# live-chat session token) and accepted (AcceptChat); then messages at a fixed total rate,
# open loop (each is due at its time, whatever the earlier ones are doing), the senders of a
# conversation alternating. The load generator is bench/HubLoad (a .NET console program, the
# SignalR client): it measures each message from the moment it was due to its receipt at the
# other participant's connection, and checks every connection of both participants got it
# exactly once, in seq order. Everything on this machine, over loopback.
#
#   bench/run.sh hub
#
# Scenarios (HUB_SCENARIOS, default "one three ramp"):
#   one    one node (its own fresh durable PostgreSQL), HUB_RATE (500) msg/s
#   three  three nodes (deploy/cluster.sh up: one fresh PostgreSQL; HubLoad talks to the nodes
#          directly, not through nginx), HUB_RATE msg/s; a conversation's visitor and
#          commercial are connected to different nodes
#   ramp   one node (fresh again), HUB_RAMP rates in turn on the same conversations until a
#          rate's p99 passes HUB_LIMIT_P99 (250 ms) or it loses, doubles or fails a message:
#          the highest rate before that is the highest sustainable one
# Every rate: BENCH_WARMUP (15) s unmeasured, then BENCH_DURATION (30) s measured, then up
# to 10 s for the last answers and deliveries. Before each measured run the script waits
# (at most HUB_QUIET_WAIT s, 900) until no `dotnet test` / testhost process runs on the
# machine and its CPU is at most HUB_QUIET_BUSY % (25) busy over 5 s, and records the 1-minute
# load average. During the measured run it samples every
# node's RSS (peak) and reads the CPU time of the node(s), PostgreSQL, HubLoad and the
# machine, and PostgreSQL's commits and WAL syncs, for "what bounds it".
#
# Environment: HUB_SCENARIOS, HUB_CONVERSATIONS, HUB_RATE, HUB_RAMP ("500 750 1000 1250
# 1500 2000 2500 3000"), HUB_LIMIT_P99, HUB_QUIET_WAIT, HUB_QUIET_BUSY, BENCH_WARMUP, BENCH_DURATION,
# BENCH_PG_FAST (see bench/lib/common.sh).
# Prints markdown for bench/RESULTS.md; HubLoad's outputs and the nodes' logs go to
# bench/out/hub-<time>/. Exits 1 after the report if a measured run lost, doubled or
# reordered a message.

# Longer than the other scenarios' default: a delivery's p99 over 30 s of sends.
apply_defaults BENCH_DURATION=30 "HUB_SCENARIOS=one three ramp" HUB_CONVERSATIONS=1000 HUB_RATE=500 \
    "HUB_RAMP=500 750 1000 1250 1500 2000 2500 3000" HUB_LIMIT_P99=250 HUB_QUIET_WAIT=900 HUB_QUIET_BUSY=25
read -ra HUB_SELECTED <<<"$HUB_SCENARIOS"
read -ra HUB_RAMP_RATES <<<"$HUB_RAMP"
# Issue 18's targets: p99 at HUB_RATE on one node; the ramp's highest rate at that p99, and its CPU.
HUB_TARGET_P99_MS=100
HUB_TARGET_RATE=1500
HUB_TARGET_US=700

HUBLOAD_DLL=$BENCH_ROOT/bench/HubLoad/bin/Release/net10.0/HubLoad.dll
HUB_PID=""            # the running HubLoad
HUB_URLS=()           # the nodes HubLoad uses
HUB_KEY=""            # the nodes' signing key (PEM): HubLoad mints the commercials' tokens with it
HUB_ADMIN_TOKEN=""    # for the nodes' /metrics

# Per measured run, keyed "scenario/phase" (phase: rate-<msg/s>), in run order.
RUNS=()
declare -gA RUN_NODES=()   # -> number of nodes
declare -gA RUN_RESULT=()  # -> HubLoad's RESULT line
declare -gA RUN_CPU=()     # -> cpu_delta line (bench/lib/measure.sh) + hubload=N ticks
declare -gA RUN_RSS=()     # -> each node's peak RSS MB "a / b / c", then HubLoad's
declare -gA RUN_HWM=()     # -> each node's VmHWM MB at the end of the run
declare -gA RUN_QUIET=()   # -> "load=<1-min load average> waited=<s>[ not-quiet]"
declare -gA RUN_PG=()      # -> "commits=N wal_syncs=N" during the run
declare -gA RUN_METRICS=() # -> the nodes' own figures during the run (metrics_summary)
declare -gA SCENARIO_SETUP=() # scenario -> HubLoad's SETUP line
declare -gA SCENARIO_FINAL=() # scenario -> HubLoad's FINAL line
declare -gA SCENARIO_STORED=() # scenario -> rows of chat_messages once HubLoad is done

# ---------------------------------------------------------------------------------------
# A quiet machine

test_processes() { pgrep -af 'testhost|dotnet test' 2>/dev/null || true; }

# busy_pct SECONDS: the share (%) of the machine's CPU time that was busy over the next SECONDS.
busy_pct() {
    local before after
    before=$(cpu_ticks_machine)
    sleep "$1"
    after=$(cpu_ticks_machine)
    awk -v b=" $before" -v a=" $after" 'BEGIN {
        split(b, x, /[ =]+/); split(a, y, /[ =]+/)
        # fields: "" busy N irq N steal N all N
        printf "%.0f", (y[3] - x[3]) / ((y[9] - x[9]) > 0 ? (y[9] - x[9]) : 1) * 100 }'
}

# wait_for_quiet KEY: waits (at most HUB_QUIET_WAIT s) until no test run is on the machine and
# its CPU is at most HUB_QUIET_BUSY % busy over 5 s (the nodes under test are idle then:
# between runs, or between a warm-up and its measured run), then records the 1-minute load
# average and that busy share under KEY.
wait_for_quiet() {
    local key=$1 start=$SECONDS found busy
    while true; do
        found=$(test_processes)
        busy=$(busy_pct 5)
        if [[ -z $found ]] && ((busy <= HUB_QUIET_BUSY)); then
            RUN_QUIET[$key]="load=$(cut -d' ' -f1 /proc/loadavg) busy=$busy waited=$((SECONDS - start))"
            return 0
        fi
        if ((SECONDS - start >= HUB_QUIET_WAIT)); then
            log "still not quiet after ${HUB_QUIET_WAIT} s (CPU $busy % busy${found:+, tests running}): measuring anyway (noted in the report)"
            RUN_QUIET[$key]="load=$(cut -d' ' -f1 /proc/loadavg) busy=$busy waited=$((SECONDS - start)) not-quiet"
            return 0
        fi
        if (((SECONDS - start) % 60 < 6)); then
            log "waiting for a quiet machine before $key: CPU $busy % busy${found:+; tests: $(head -n 2 <<<"$found" | cut -c1-100 | tr '\n' ';')}"
        fi
    done
}

# ---------------------------------------------------------------------------------------
# One HubLoad run, with measurements around each measured phase

pg_counters() {
    bench_psql "SELECT 'commits=' || (SELECT sum(xact_commit) FROM pg_stat_database) || ' wal_syncs=' || (SELECT wal_sync FROM pg_stat_wal)"
}

# metrics_snapshot FILE: every node's /metrics (OpenTelemetry's Prometheus exporter), one after the other.
metrics_snapshot() {
    local url
    : >"$1"
    for url in "${HUB_URLS[@]}"; do
        curl -fsS --max-time 5 -H "Authorization: Bearer $HUB_ADMIN_TOKEN" "$url/metrics" >>"$1" ||
            log "warning: no /metrics from $url"
    done
}

# metrics_summary BEFORE AFTER: what the nodes (summed) did between two snapshots, as key=value:
# GC pauses and collections by generation; the chat grains' storage writes (count, mean,
# and the histogram bucket holding the 50th and 99th percentiles: "le" bounds in ms, as
# Orleans records them); all grain calls the same way; PostgreSQL commands (Npgsql); lock contentions.
metrics_summary() {
    awk '
        /^#/ { next }
        {
            name = $1; sub(/\{.*/, "", name)
            le = ""; if (match($0, /le="[^"]*"/)) le = substr($0, RSTART + 4, RLENGTH - 5)
            state = ""; if (match($0, /state_name="[^"]*"/)) state = substr($0, RSTART + 12, RLENGTH - 13)
            gen = ""; if (match($0, /gc_heap_generation="[^"]*"/)) gen = substr($0, RSTART + 20, RLENGTH - 21)
            k = name "|" le "|" state "|" gen
            if (FILENAME == ARGV[1]) v[k] -= $NF; else v[k] += $NF
            keys[k] = 1
        }
        # pct(metric, state, p): the smallest bucket bound with at least p % of the count.
        function pct(metric, st, p,    count, k, n, i, j, t, bounds, f) {
            count = v[metric "_count||" st "|"]
            if (count <= 0) return "-"
            n = 0
            for (k in keys) {
                split(k, f, "|")
                if (f[1] == metric "_bucket" && f[3] == st && f[2] != "+Inf") bounds[++n] = f[2] + 0
            }
            for (i = 2; i <= n; i++) for (j = i; j > 1 && bounds[j - 1] > bounds[j]; j--) { t = bounds[j]; bounds[j] = bounds[j - 1]; bounds[j - 1] = t }
            for (i = 1; i <= n; i++) if (v[metric "_bucket|" bounds[i] "|" st "|"] >= count * p / 100) return "<=" bounds[i]
            return ">" bounds[n]
        }
        function mean(metric, st, scale,    count) {
            count = v[metric "_count||" st "|"]
            return count > 0 ? sprintf("%.1f", v[metric "_sum||" st "|"] / count * scale) : "-"
        }
        END {
            w = "orleans_storage_write_latency_milliseconds"; c = "orleans_app_requests_latency_milliseconds"; d = "db_client_operation_duration_seconds"
            printf "gc_pause_ms=%.0f gc0=%d gc1=%d gc2=%d", v["dotnet_gc_pause_time_seconds_total|||"] * 1000,
                v["dotnet_gc_collections_total|||gen0"], v["dotnet_gc_collections_total|||gen1"], v["dotnet_gc_collections_total|||gen2"]
            printf " chat_writes=%d chat_write_mean_ms=%s chat_write_p50_ms=%s chat_write_p99_ms=%s", v[w "_count||chat|"], mean(w, "chat", 1), pct(w, "chat", 50), pct(w, "chat", 99)
            printf " grain_calls=%d grain_call_mean_ms=%s grain_call_p99_ms=%s", v[c "_count|||"], mean(c, "", 1), pct(c, "", 99)
            printf " db_commands=%d db_command_mean_ms=%s lock_contentions=%d\n", v[d "_count|||"], mean(d, "", 1000), v["dotnet_monitor_lock_contentions_total|||"]
        }' "$1" "$2"
}

MEASURE_KEY=""
MEASURE_CPU=""
MEASURE_HUB_TICKS=0
MEASURE_PG=""
MEASURE_PIDS=()

measured_start() {
    MEASURE_KEY=$1
    # A ramp may come back to a rate (HUB_RAMP="1000 1500 2000 1500"): each step keeps its own row.
    while [[ " ${RUNS[*]} " == *" $MEASURE_KEY "* ]]; do MEASURE_KEY+="'"; done
    wait_for_quiet "$MEASURE_KEY"
    read -ra MEASURE_PIDS <<<"$(bench_node_pids)"
    start_rss_samplers "$BENCH_TMP/rss" "${MEASURE_PIDS[@]}" "$HUB_PID"
    MEASURE_PG=$(pg_counters)
    metrics_snapshot "$BENCH_TMP/metrics-before"
    cpu_snapshot
    MEASURE_CPU=$CPU_SNAPSHOT
    MEASURE_HUB_TICKS=$(proc_stat_ticks "$HUB_PID")
    log "$MEASURE_KEY: measuring (${RUN_QUIET[$MEASURE_KEY]})"
}

measured_end() {
    local key=$MEASURE_KEY hub_ticks i peaks=() hwms=() pg_after
    hub_ticks=$(proc_stat_ticks "$HUB_PID")
    cpu_snapshot
    RUN_CPU[$key]="$(cpu_delta "$MEASURE_CPU" "$CPU_SNAPSHOT") hubload=$((hub_ticks - MEASURE_HUB_TICKS))"
    pg_after=$(pg_counters)
    metrics_snapshot "$BENCH_TMP/metrics-after"
    RUN_METRICS[$key]=$(metrics_summary "$BENCH_TMP/metrics-before" "$BENCH_TMP/metrics-after")
    RUN_PG[$key]="commits=$(($(result_field " $pg_after" commits) - $(result_field " $MEASURE_PG" commits))) wal_syncs=$(($(result_field " $pg_after" wal_syncs) - $(result_field " $MEASURE_PG" wal_syncs)))"
    stop_rss_sampler
    for i in "${!MEASURE_PIDS[@]}"; do
        kill -0 "${MEASURE_PIDS[$i]}" 2>/dev/null || die "$key: node ${MEASURE_PIDS[$i]} died during the run"
        peaks+=("$(kb_to_mb "$(cat "$BENCH_TMP/rss.$((i + 1))")")")
        hwms+=("$(kb_to_mb "$(proc_status_kb "${MEASURE_PIDS[$i]}" VmHWM)")")
    done
    RUN_RSS[$key]="$(printf '%s / ' "${peaks[@]}" | sed 's| / $||')|$(kb_to_mb "$(cat "$BENCH_TMP/rss.$((${#MEASURE_PIDS[@]} + 1))")")"
    RUN_HWM[$key]=$(printf '%s / ' "${hwms[@]}" | sed 's| / $||')
    RUN_NODES[$key]=${#MEASURE_PIDS[@]}
    RUNS+=("$key")
}

# run_hubload SCENARIO RATES [HubLoad options...]: HubLoad on HUB_URLS with RATES
# (comma-separated), its SYNC lines answered after measured_start / measured_end.
run_hubload() {
    local scenario=$1 rates=$2 out err line urls from to rc=0
    shift 2
    out=$BENCH_OUT/$scenario.txt
    err=$BENCH_OUT/$scenario-hubload.log
    urls=$(IFS=,; echo "${HUB_URLS[*]}")
    # Setup and warm-up on a quiet machine too (measured_start checks again).
    wait_for_quiet "$scenario/setup"
    log "$scenario: HubLoad, $HUB_CONVERSATIONS conversations on ${#HUB_URLS[@]} node(s), rates $rates msg/s"
    coproc HUBLOAD {
        exec dotnet "$HUBLOAD_DLL" --urls "$urls" --key "$HUB_KEY" --conversations "$HUB_CONVERSATIONS" \
            --rates "$rates" --warmup "$BENCH_WARMUP" --duration "$BENCH_DURATION" --grace 10 --sync "$@" 2>"$err"
    }
    HUB_PID=$HUBLOAD_PID
    # Copies of the pipes: bash closes the coproc's own ones as soon as it exits.
    exec {from}<&"${HUBLOAD[0]}" {to}>&"${HUBLOAD[1]}"
    while IFS= read -r line <&"$from"; do
        printf '%s\n' "$line" >>"$out"
        case $line in
            "SYNC start "*)
                measured_start "$scenario/${line#SYNC start }"
                echo go >&"$to"
                ;;
            "SYNC end "*)
                measured_end
                echo go >&"$to"
                ;;
            RESULT\ *)
                RUN_RESULT[$MEASURE_KEY]=$line
                log "$MEASURE_KEY: ${line#RESULT }"
                ;;
            SETUP\ *)
                SCENARIO_SETUP[$scenario]=$line
                log "$scenario: ${line#SETUP }"
                ;;
            FINAL\ *) SCENARIO_FINAL[$scenario]=$line ;;
        esac
    done
    exec {from}<&- {to}>&-
    wait "$HUB_PID" || rc=$?
    HUB_PID=""
    # 1: a measured phase lost, doubled or failed a message (the tables say which; at the top of
    # a ramp failed sends are expected); anything else: HubLoad itself failed.
    if ((rc > 1)); then tail -n 20 "$err" >&2; die "$scenario: HubLoad exited with status $rc (log: $err)"; fi
    [[ -n ${SCENARIO_FINAL[$scenario]:-} ]] || die "$scenario: HubLoad printed no FINAL line (log: $err)"
    # Every scenario starts on a fresh database: each acknowledged message must be one row.
    SCENARIO_STORED[$scenario]=$(bench_psql "SELECT count(*) FROM chat_messages")
}

stop_hubload() {
    [[ -n $HUB_PID ]] || return 0
    kill "$HUB_PID" 2>/dev/null || true
    wait "$HUB_PID" 2>/dev/null || true
    HUB_PID=""
}

# ---------------------------------------------------------------------------------------
# Scenarios

# hub_nodes_up N: N nodes on a fresh PostgreSQL, rate limiting off (every visitor comes from
# one client IP; one chat per visitor stays under Chats:MaxOpenPerVisitor; NODE_ENV's
# default also lifts Chats:MaxPendingPerClientAddress), and what HubLoad needs of them. One node runs without nginx, as measured before;
# three with it (HubLoad talks to the nodes directly).
hub_nodes_up() {
    if (($1 == 1)); then single_node_up; else nodes_up "$1"; fi
    HUB_URLS=("${CLUSTER_NODE_URLS[@]}")
    HUB_KEY=$SIGNING_KEY
    HUB_ADMIN_TOKEN=$(node_token admin)
}

hub_one() {
    hub_nodes_up 1
    run_hubload one "$HUB_RATE"
    nodes_down
}

hub_three() {
    hub_nodes_up 3
    run_hubload three "$HUB_RATE"
    nodes_down
}

hub_ramp() {
    hub_nodes_up 1
    run_hubload ramp "$(IFS=,; echo "${HUB_RAMP_RATES[*]}")" --stop-p99 "$HUB_LIMIT_P99"
    nodes_down
}

# ---------------------------------------------------------------------------------------
# Report

field() { result_field "$1" "$2"; }

# stored_matches SCENARIO: the scenario's database holds every message HubLoad saw acknowledged,
# and beyond those at most the ones whose answer never came or was an error (those may have been stored).
stored_matches() {
    local final=${SCENARIO_FINAL[$1]:-} stored=${SCENARIO_STORED[$1]:-}
    [[ $stored =~ ^[0-9]+$ ]] || return 1
    local acked unsure
    acked=$(field "$final" acked)
    unsure=$(($(field "$final" unacked) + $(field "$final" errors)))
    ((stored >= acked && stored <= acked + unsure))
}

hub_results_table() {
    echo "| run | nodes | rate msg/s | sent (per s) | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | due → taken p50 / p99 ms | taken → received p50 / p99 ms | ack p99 ms | errors | unanswered | lost | doubled | out of order | resyncs / closed |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local key r
    for key in "${RUNS[@]}"; do
        r=${RUN_RESULT[$key]:-}
        printf '| %s | %s | %s | %s (%s) | %s | %s | **%s** | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' \
            "$key" "${RUN_NODES[$key]}" "$(field "$r" rate)" "$(field "$r" sent)" "$(field "$r" sent_per_s)" \
            "$(field "$r" p50_ms)" "$(field "$r" p90_ms)" "$(field "$r" p99_ms)" "$(field "$r" p999_ms)" "$(field "$r" max_ms)" \
            "$(field "$r" in_p50_ms)" "$(field "$r" in_p99_ms)" "$(field "$r" out_p50_ms)" "$(field "$r" out_p99_ms)" \
            "$(field "$r" ack_p99_ms)" "$(field "$r" errors)" "$(field "$r" unacked)" \
            "$(field "$r" lost)+$(field "$r" lost_own)" "$(field "$r" doubled)" "$(field "$r" order_violations)" \
            "$(field "$r" resyncs)" "$(field "$r" closed)"
    done
}

# Memory, the load generator's own health, and how quiet the machine was.
hub_resources_table() {
    echo "| run | peak RSS MB per node | VmHWM MB per node | HubLoad peak RSS MB | HubLoad send lag p99 / max ms | HubLoad GC pauses ms (collections ≥gen0 / ≥gen1 / gen2) | before the run: load avg (1 min), CPU busy | CPU of other processes during the run |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    local key r rss quiet c
    for key in "${RUNS[@]}"; do
        r=${RUN_RESULT[$key]:-}
        rss=${RUN_RSS[$key]}
        quiet=${RUN_QUIET[$key]}
        c=" ${RUN_CPU[$key]}"
        printf '| %s | %s | %s | %s | %s / %s | %s | %s%s | %s |\n' "$key" "${rss%|*}" "${RUN_HWM[$key]}" "${rss#*|}" \
            "$(field "$r" lag_p99_ms)" "$(field "$r" lag_max_ms)" "$(field "$r" client_gc_pause_ms) ($(field "$r" client_gcs))" \
            "$(field " $quiet" load), $(field " $quiet" busy) %" "$([[ $quiet == *not-quiet* ]] && echo ' (not quiet)')" \
            "$(awk -v busy="$(field "$c" busy)" -v all="$(field "$c" all)" -v node="$(field "$c" node)" -v pg="$(field "$c" postgres)" \
                -v nginx="$(field "$c" nginx)" -v hub="$(field "$c" hubload)" -v irq="$(field "$c" irq)" \
                'BEGIN { printf "%.0f %% of the machine", (busy - node - pg - nginx - hub - irq) / all * 100 }')"
    done
}

hub_cpu_table() {
    echo "| run | messages | node(s) µs/msg | PostgreSQL µs/msg | HubLoad µs/msg | kernel irq+softirq µs/msg | other µs/msg | machine busy | PostgreSQL commits / msg | WAL syncs / msg | ceiling msg/s ¹ |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local key r c
    for key in "${RUNS[@]}"; do
        r=${RUN_RESULT[$key]:-}
        c=" ${RUN_CPU[$key]} ${RUN_PG[$key]}"
        awk -v hz="$CLK_TCK" -v cpus="$(nproc)" -v key="$key" -v n="$(field "$r" sent)" \
            -v node="$(field "$c" node)" -v pg="$(field "$c" postgres)" -v hub="$(field "$c" hubload)" \
            -v nginx="$(field "$c" nginx)" -v irq="$(field "$c" irq)" -v busy="$(field "$c" busy)" -v all="$(field "$c" all)" \
            -v commits="$(field "$c" commits)" -v syncs="$(field "$c" wal_syncs)" 'BEGIN {
            us = 1e6 / hz / n
            stack = node + pg + irq
            printf "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% | %.2f | %.2f | %.0f |\n", key, n,
                node * us, pg * us, hub * us, irq * us, (busy - node - pg - nginx - hub - irq) * us, busy / all * 100,
                commits / n, syncs / n, cpus * hz * n / stack
        }'
    done
    echo
    echo "¹ $(nproc) CPUs ÷ (node(s) + PostgreSQL + kernel networking CPU per message): the rate these costs would allow if nothing else (HubLoad) ran on the machine. CPU from /proc/<pid>/stat and /proc/stat over the measured window (a little longer than the $BENCH_DURATION s of sends: it includes waiting for the last deliveries); commits and WAL syncs from pg_stat_database and pg_stat_wal over the same window; \"other\" = busy time none of the listed processes accounts for."
}

# What the nodes themselves measured (their /metrics, summed over the nodes) during each run.
hub_node_metrics_table() {
    echo "| run | GC pause ms (gen0 / gen1 / gen2 collections) | chat record writes | write mean ms | write p50 ms | write p99 ms | grain calls | grain call mean ms | grain call p99 ms | PostgreSQL commands (mean ms) | lock contentions |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local key m
    for key in "${RUNS[@]}"; do
        m=" ${RUN_METRICS[$key]:-}"
        printf '| %s | %s (%s / %s / %s) | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s |\n' "$key" \
            "$(field "$m" gc_pause_ms)" "$(field "$m" gc0)" "$(field "$m" gc1)" "$(field "$m" gc2)" \
            "$(field "$m" chat_writes)" "$(field "$m" chat_write_mean_ms)" "$(field "$m" chat_write_p50_ms)" "$(field "$m" chat_write_p99_ms)" \
            "$(field "$m" grain_calls)" "$(field "$m" grain_call_mean_ms)" "$(field "$m" grain_call_p99_ms)" \
            "$(field "$m" db_commands)" "$(field "$m" db_command_mean_ms)" "$(field "$m" lock_contentions)"
    done
    echo
    echo "From the nodes' /metrics before and after the run: .NET GC pause time and collections; Orleans' storage write latency of the chat grains' records (a message is a row of chat_messages, not a record write, since 1ca5127: these are the accepts) and the latency of every grain call, as histogram buckets (\"≤25\": the bucket bound holding that percentile); Npgsql's command durations."
}

# hub_run_passes KEY LIMIT_MS: run KEY's p99 is at most LIMIT_MS and no message was lost,
# doubled, refused or left unanswered.
hub_run_passes() {
    local r=${RUN_RESULT[$1]:-}
    [[ -n $r ]] || return 1
    awk -v p99="$(field "$r" p99_ms)" -v limit="$2" -v bad="$(($(field "$r" lost) + $(field "$r" lost_own) + $(field "$r" doubled) + $(field "$r" errors) + $(field "$r" unacked)))" \
        'BEGIN { exit !(p99 <= limit && bad == 0) }'
}

hub_verdicts() {
    local r key best="" best_p99="" stop_key="" rate
    r=${RUN_RESULT[one/rate-$HUB_RATE]:-}
    if [[ -n $r ]]; then
        awk -v p99="$(field "$r" p99_ms)" -v lost="$(field "$r" lost)" -v own="$(field "$r" lost_own)" -v doubled="$(field "$r" doubled)" \
            -v errors="$(field "$r" errors)" -v rate="$HUB_RATE" -v target="$HUB_TARGET_P99_MS" 'BEGIN {
            ok = p99 <= target && lost + own + doubled + errors == 0
            printf "- target at %d msg/s on one node (p99 ≤ %d ms, no message lost or doubled): **%s** (p99 %.1f ms, lost %d, doubled %d, errors %d)\n",
                rate, target, ok ? "met" : "missed", p99, lost + own, doubled, errors
        }'
    fi
    for key in "${RUNS[@]}"; do
        [[ $key == ramp/* ]] || continue
        r=${RUN_RESULT[$key]:-}
        rate=$(field "$r" rate)
        if hub_run_passes "$key" "$HUB_LIMIT_P99"; then
            best=$rate
            best_p99=$(field "$r" p99_ms)
        else
            stop_key=$key
            break
        fi
    done
    hub_issue18_verdict
    if [[ -n $best ]]; then
        echo "- highest sustainable rate on one node (p99 ≤ $HUB_LIMIT_P99 ms, nothing lost, doubled or failed): **$best msg/s** (p99 $best_p99 ms)$([[ -n $stop_key ]] && echo "; the next step, $(field "${RUN_RESULT[$stop_key]}" rate) msg/s, had p99 $(field "${RUN_RESULT[$stop_key]}" p99_ms) ms, sent $(field "${RUN_RESULT[$stop_key]}" sent_per_s)/s" || echo "; the ramp's last step (${HUB_RAMP_RATES[-1]} msg/s) still passed: raise HUB_RAMP")"
    elif [[ " ${HUB_SELECTED[*]} " == *" ramp "* ]]; then
        echo "- highest sustainable rate on one node: below the ramp's first step (${HUB_RAMP_RATES[0]} msg/s)"
    fi
}

# Issue 18's hub row: the highest ramp rate with p99 ≤ HUB_TARGET_P99_MS and nothing lost,
# doubled or failed is ≥ HUB_TARGET_RATE msg/s, and at that rate the node and PostgreSQL take
# ≤ HUB_TARGET_US µs of CPU per message.
hub_issue18_verdict() {
    [[ " ${HUB_SELECTED[*]} " == *" ramp "* ]] || return 0
    local key r c best="" best_p99="" best_us=""
    for key in "${RUNS[@]}"; do
        [[ $key == ramp/* ]] || continue
        hub_run_passes "$key" "$HUB_TARGET_P99_MS" || break
        r=${RUN_RESULT[$key]}
        c=" ${RUN_CPU[$key]}"
        best=$(field "$r" rate)
        best_p99=$(field "$r" p99_ms)
        best_us=$(awk -v hz="$CLK_TCK" -v n="$(field "$r" sent)" -v node="$(field "$c" node)" -v pg="$(field "$c" postgres)" \
            'BEGIN { printf "%.0f", (node + pg) * 1e6 / hz / n }')
    done
    if [[ -z $best ]]; then
        echo "- issue 18 (≥ $HUB_TARGET_RATE msg/s at p99 ≤ $HUB_TARGET_P99_MS ms, ≤ $HUB_TARGET_US µs of node + PostgreSQL CPU per message): **missed** (the ramp's first step already failed it)"
        return 0
    fi
    local verdict=missed
    ((best >= HUB_TARGET_RATE && best_us <= HUB_TARGET_US)) && verdict=met
    echo "- issue 18 (≥ $HUB_TARGET_RATE msg/s at p99 ≤ $HUB_TARGET_P99_MS ms, ≤ $HUB_TARGET_US µs of node + PostgreSQL CPU per message): **$verdict** — highest such rate $best msg/s (p99 $best_p99 ms), node + PostgreSQL $best_us µs per message there"
}

print_hub_report() {
    echo
    print_command_line
    echo
    print_machine
    echo "- HubLoad (bench/HubLoad, Microsoft.AspNetCore.SignalR.Client, WebSockets, JSON protocol) on the same machine: $HUB_CONVERSATIONS conversations = $((HUB_CONVERSATIONS * 2)) connections, open-loop sends, senders alternating; per rate ${BENCH_WARMUP} s warm-up + ${BENCH_DURATION} s measured; messages of 64 characters; latency = receipt at the other participant's connection − the moment the message was due"
    local scenario setup final
    for scenario in "${HUB_SELECTED[@]}"; do
        setup=${SCENARIO_SETUP[$scenario]:-}
        final=${SCENARIO_FINAL[$scenario]:-}
        echo "- $scenario: ${setup#SETUP }; over all its phases (warm-ups too): ${final#FINAL }; messages stored (rows of chat_messages): ${SCENARIO_STORED[$scenario]:-}$(stored_matches "$scenario" || echo ' — **not the acknowledged messages**')"
    done
    echo
    hub_results_table
    echo
    echo "Latency = receipt at the other participant's connection − the moment the message was due (open loop). \"taken\": the message's \`sentAt\`, the chat grain's clock when it took the message, before storing it (same machine, millisecond resolution): due → taken is the way in (HubLoad's send, the hub, the grain call's queue), taken → received the store and the delivery."
    echo
    echo "lost = acknowledged but never received within 10 s, at the other participant + at the sender's own connection; doubled = received twice by one connection; out of order = a connection received a seq other than its last + 1."
    echo
    hub_resources_table
    echo
    echo "CPU per message during each measured run:"
    echo
    hub_cpu_table
    echo
    echo "The nodes' own measurements during each run:"
    echo
    hub_node_metrics_table
    echo
    hub_verdicts
    echo
    echo "raw outputs and node logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"
}

hub_main() {
    local s
    for s in "${HUB_SELECTED[@]}"; do
        [[ $s =~ ^(one|three|ramp)$ ]] || die "unknown scenario '$s' in HUB_SCENARIOS (one, three, ramp)"
    done
    [[ -z $BENCH_BASELINE ]] || die "the hub scenario measures the working tree's node only: unset BENCH_BASELINE"
    ensure_bench_tools
    bench_init hub
    BENCH_CLEANUP_HOOKS+=(stop_hubload)
    build_bench_nodes
    dotnet_build_release "$BENCH_ROOT" bench/HubLoad "$BENCH_OUT/build-hubload.log"

    for s in "${HUB_SELECTED[@]}"; do "hub_$s"; done

    print_hub_report
    local key r
    for key in "${RUNS[@]}"; do
        r=${RUN_RESULT[$key]:-}
        if (($(field "$r" lost) + $(field "$r" lost_own) + $(field "$r" doubled) + $(field "$r" order_violations) > 0)); then mark_failed; fi
    done
    for s in "${HUB_SELECTED[@]}"; do stored_matches "$s" || mark_failed; done
    exit_if_failed "a measured run lost, doubled or reordered messages, or the database holds other than the acknowledged ones: see the report"
}
