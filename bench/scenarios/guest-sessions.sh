# shellcheck shell=bash
# POST /api/v1/chat/guest/session (spec 000): one Release node on a throwaway, durable
# PostgreSQL, driven by wrk over loopback. Every request opens a new guest session (fresh
# random session_id, 201). No auth.
#
#   bench/run.sh guest-sessions [limiter-off|limiter-on|all]      (default: all)
#
#   limiter-off  node with RateLimiting:Enabled=false
#   limiter-on   node with the cluster-wide rate limiter on, its limit raised so that nothing
#                is refused: every request also runs the limiter (wrk is one client IP, so
#                every request asks the same limiter)
#
# Each scenario gets its own node start (same build, same PostgreSQL: deploy/cluster.sh
# restart; the second scenario finds the first one's session records). With both, a line under
# the table gives the limiter's cost. After each scenario the session records written are
# counted against the 201s. With BENCH_BASELINE=<git revision> (e.g. e880b08) every scenario
# runs on that revision's node first, then on the working tree's, each on a fresh PostgreSQL;
# the report gives the ratio and checks issue 9's target (limiter-off ≥ 0.7× the baseline, no
# errors). Exits 1 after the report if any scenario saw non-2xx responses or socket errors.

GUEST_SCRIPT=$BENCH_ROOT/bench/lua/guest-sessions.lua
GUEST_ENDPOINT=/api/v1/chat/guest/session
# High enough that no request of a run is refused, so both scenarios do the same work.
GUEST_LIMITER_ON_PERMITS=100000000
GUEST_SELECTED=()

# Issue 9's target for the Orleans node against the pre-Orleans one (comparison_report).
TARGET_RATIO+=([limiter-off]=0.7)

# guest_smoke_check NAME LIMITED: one request with curl before wrk, so a wrong setup fails
# fast with the response in hand. LIMITED (yes|no) says whether the limiter must have answered
# (its RateLimit-Policy header), which proves the node took the scenario's configuration.
guest_smoke_check() {
    local name=$1 limited=$2 status policy
    # shellcheck disable=SC2153 # BENCH_NODE: bench/lib/nodes.sh
    local headers=$BENCH_OUT/$BENCH_NODE-$name-smoke.headers body=$BENCH_OUT/$BENCH_NODE-$name-smoke.json
    status=$(post_guest_session "$NODE_URL" "$headers" "$body")
    [[ $status == 201 ]] || die "$name: a new guest session answered $status: $(head -c 600 "$body")"
    policy=$(grep -i '^RateLimit-Policy:' "$headers" | tr -d '\r' || true)
    if [[ $limited == yes ]]; then
        [[ $policy == *"q=$GUEST_LIMITER_ON_PERMITS;"* ]] || die "$name: the limiter did not answer as configured (RateLimit-Policy: '${policy:-none}')"
    else
        [[ -z $policy ]] || die "$name: the limiter is on although it was disabled ($policy)"
    fi
}

# guest_scenario NAME LIMITED NODE_SETTING...: a node of its own for this scenario (the first
# one brings the cluster up, the next restart its node on the same PostgreSQL), then wrk.
guest_scenario() {
    local name=$1 limited=$2
    shift 2
    # shellcheck disable=SC2034 # read by nodes_up / nodes_restart
    NODE_ENV=("$@")
    if [[ -n $CLUSTER_STATE ]]; then nodes_restart; else single_node_up; fi
    guest_smoke_check "$name" "$limited"
    local before
    before=$(grain_records guestSession)
    run_scenario "$name" "$GUEST_SCRIPT" "$NODE_URL$GUEST_ENDPOINT" BENCH_SCENARIO="$name"
    guest_check_records "$name" "$before"
}

# guest_check_records NAME BEFORE: the session records this scenario added (BEFORE: the count
# before its warm-up) against its 201s; requests in flight when wrk stopped still write (up to
# one per connection per wrk run, see scenario_answered). Adds a note; a mismatch fails the run.
guest_check_records() {
    local name=$1 before=$2 ok runs records verdict=ok
    read -r ok runs <<<"$(scenario_answered "$name")"
    records=$(($(grain_records guestSession) - before))
    if ((records < ok || records > ok + runs * BENCH_CONNECTIONS)); then verdict=MISMATCH; mark_failed; fi
    BENCH_NOTES+=("- $(node_label), $name: $records guest-session records written for $ok answered requests ($runs wrk runs; up to $((runs * BENCH_CONNECTIONS)) more in flight when wrk stopped): $verdict")
}

guest_limiter_off() {
    guest_scenario limiter-off no RateLimiting__Enabled=false
}

guest_limiter_on() {
    guest_scenario limiter-on yes RateLimiting__Enabled=true "RateLimiting__PermitsPerMinute=$GUEST_LIMITER_ON_PERMITS"
}

# The limiter's cost, from the two measured runs: throughput change, p50 change, and the
# machine time per request implied by the throughputs (1/rps; node, PostgreSQL and wrk share
# the cores, so this is what a request costs the whole machine).
guest_limiter_cost_note() {
    has_result limiter-off && has_result limiter-on || return 0
    awk -v rps_off="$(scenario_field limiter-off rps)" -v rps_on="$(scenario_field limiter-on rps)" \
        -v p50_off="$(scenario_field limiter-off p50_ms)" -v p50_on="$(scenario_field limiter-on p50_ms)" 'BEGIN {
        printf "limiter cost (limiter-on vs limiter-off): requests/s %+.1f %% (%.1f vs %.1f), " \
               "p50 %+.2f ms per request (%.2f vs %.2f ms), machine time per request %+.0f µs (1/rps)\n",
            (rps_on - rps_off) / rps_off * 100, rps_on, rps_off,
            p50_on - p50_off, p50_on, p50_off,
            (1 / rps_on - 1 / rps_off) * 1e6
    }'
}

# Every selected scenario on the node under test (for_each_node), then its limiter cost.
guest_on_node() {
    local scenario note
    for scenario in "${GUEST_SELECTED[@]}"; do
        "guest_${scenario//-/_}"
    done
    note=$(guest_limiter_cost_note)
    if [[ -n $note ]]; then BENCH_NOTES+=("- $(node_label): $note"); fi
}

# guest_sessions_main [limiter-off|limiter-on|all]
guest_sessions_main() {
    case ${1:-all} in
        limiter-off | limiter-on) GUEST_SELECTED=("$1") ;;
        all) GUEST_SELECTED=(limiter-off limiter-on) ;;
        *) die "guest-sessions: unknown selection '$1' (limiter-off, limiter-on, all)" ;;
    esac
    ensure_bench_tools
    bench_init guest-sessions
    build_bench_nodes
    for_each_node guest_on_node
    print_report
    exit_if_failed "some requests failed or records are missing: see the non-2xx / socket error columns and the notes"
}
