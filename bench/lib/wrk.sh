# shellcheck shell=bash
# Running wrk: a scenario is a warm-up run and a measured run of a bench/lua script against a
# URL, while bench/lib/measure.sh watches the nodes' memory and everyone's CPU time
# (run_scenario); its RESULT line (printed by bench/lua/common.lua) and readings are kept per
# node under test (BENCH_NODE) and scenario name, with a table row for the report.

WRK_PID=""            # the wrk running now (stopped by bench_cleanup)
# Functions run_scenario calls right before and right after each measured run (the profile
# scenario; vs-peers for the node's own latency).
BENCH_BEFORE_MEASURED=""
BENCH_AFTER_MEASURED=""
BENCH_ROWS=()         # markdown table rows, one per scenario and node
BENCH_SCENARIOS=()    # scenario names in the order first run (each once, whatever the node)
# Keyed by "node/scenario" (node: BENCH_NODE when it ran); read them with scenario_field,
# scenario_rss, cpu_field, which take the plain scenario name and BENCH_NODE.
declare -gA BENCH_RESULTS=() # -> its measured RESULT line (see scenario_field)
declare -gA BENCH_RSS=()     # -> each node's peak VmRSS in MB during it, space-separated
declare -gA BENCH_CPU=()     # -> CPU ticks used during its measured run (see cpu_field)
BENCH_NOTES=()        # extra report lines, printed under the table (e.g. a comparison)

# result_field LINE KEY: the value of KEY=value in a RESULT line.
result_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# socket_errors RESULT: wrk's connect, read, write and timeout errors of a RESULT line, summed.
socket_errors() {
    echo $(($(result_field "$1" connect) + $(result_field "$1" read) + $(result_field "$1" write) +
        $(result_field "$1" timeout)))
}

# errors_of RESULT: non-2xx answers plus socket errors.
errors_of() { echo $(($(result_field "$1" non2xx) + $(socket_errors "$1"))); }

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
        if [[ -n $BENCH_AFTER_MEASURED ]]; then "$BENCH_AFTER_MEASURED"; fi
        # shellcheck disable=SC2034 # read by cpu_field
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
    sockets=$(socket_errors "$result")
    if ((non2xx > 0 || sockets > 0)); then
        mark_failed
        log "$name: $non2xx non-2xx responses (statuses $(result_field "$result" statuses)), $sockets socket errors"
        grep '^FIRST_NON2XX ' "$(scenario_file "$name")" >&2 || true
    fi

    BENCH_ROWS+=("| $name | $(node_label) | $(result_field "$result" rps) | $(result_field "$result" p50_ms) | $(result_field "$result" p99_ms) | $non2xx | $sockets | $peak_mb | $hwm_mb |")
}

