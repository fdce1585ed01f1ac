#!/usr/bin/env bash
# Load benchmark of POST /api/v1/chat/guest/session (spec 000): one Release node on a
# throwaway, durable PostgreSQL, driven by wrk over loopback. Every request opens a new guest
# session (fresh random session_id, 201). No auth.
#
#   bench/guest-sessions.sh [limiter-off|limiter-on|all]      (default: all)
#
#   limiter-off  node with --RateLimiting:Enabled=false
#   limiter-on   node with the cluster-wide rate limiter on, its limit raised so that nothing
#                is refused: every request also runs the limiter's statement on PostgreSQL
#                (wrk is one client IP, so every request updates the same rate_limits row)
#
# Each scenario gets its own node start (same build, same PostgreSQL; the second scenario
# finds the first one's session records). With both, a line under the table gives the
# limiter's cost. After each scenario the session records written are counted against the
# 201s. With BENCH_BASELINE=<git revision> (e.g. e880b08) every scenario runs on that
# revision's node first, then on the working tree's, each on a fresh PostgreSQL; the report
# gives the ratio and checks issue 9's target (limiter-off ≥ 0.7× the baseline, no errors).
# Environment: BENCH_DURATION (measured seconds, default 15), BENCH_WARMUP, BENCH_THREADS,
# BENCH_CONNECTIONS, BENCH_PG_FAST=1 (synchronous_commit=off), BENCH_BASELINE,
# BENCH_CONN_EXTRA — see bench/lib.sh.
# Prints a markdown table for bench/RESULTS.md; raw wrk outputs go to bench/out/.
# Exits 1 after the report if any scenario saw non-2xx responses or socket errors.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

SCRIPT=$BENCH_ROOT/bench/lua/guest-sessions.lua
ENDPOINT=/api/v1/chat/guest/session
# High enough that no request of a run is refused, so both scenarios do the same work.
LIMITER_ON_PERMITS=100000000

usage() { echo "usage: $0 [limiter-off|limiter-on|all]" >&2; exit 2; }

# Issue 9's target for the Orleans node against the pre-Orleans one (comparison_report).
TARGET_RATIO[limiter-off]=0.7
SCENARIOS=()

# The configuration every scenario's node shares: same key, same database (a node with a
# PostgreSQL connection string requires an explicit signing key).
# smoke_check NAME LIMITED: one request with curl before wrk, so a wrong setup fails fast
# with the response in hand. LIMITED (yes|no) says whether the limiter must have answered
# (its RateLimit-Policy header), which proves the node took the scenario's configuration.
smoke_check() {
    local name=$1 limited=$2 status
    local headers=$BENCH_OUT/$BENCH_NODE-$name-smoke.headers body=$BENCH_OUT/$BENCH_NODE-$name-smoke.json
    status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -X POST \
        -H "Content-Type: application/json" \
        --data-binary "{\"session_id\": \"$(new_uuid)\", \"guest_name\": \"Guest\", \"guest_email\": \"guest@example.com\"}" \
        "$NODE_URL$ENDPOINT")
    [[ $status == 201 ]] || die "$name: a new guest session answered $status: $(head -c 600 "$body")"
    local policy
    policy=$(grep -i '^RateLimit-Policy:' "$headers" | tr -d '\r' || true)
    if [[ $limited == yes ]]; then
        [[ $policy == *"q=$LIMITER_ON_PERMITS;"* ]] || die "$name: the limiter did not answer as configured (RateLimit-Policy: '${policy:-none}')"
    else
        [[ -z $policy ]] || die "$name: the limiter is on although it was disabled ($policy)"
    fi
}

# run_on_node NAME LIMITED [node config args]: a node of its own for this scenario.
run_on_node() {
    local name=$1 limited=$2
    shift 2
    postgres_node_config "$@"
    NODE_LOG_NAME=node-$name
    start_node
    smoke_check "$name" "$limited"
    local before
    before=$(grain_records guestSession)
    run_scenario "$name" "$SCRIPT" "$NODE_URL$ENDPOINT" BENCH_SCENARIO="$name"
    stop_node
    check_records "$name" "$before"
}

# check_records NAME BEFORE: the session records this scenario added (BEFORE: the count before
# its warm-up) against its 201s; requests in flight when wrk stopped still write (up to one
# per connection per wrk run, see scenario_answered). Adds a note; a mismatch fails the run.
check_records() {
    local name=$1 before=$2 ok runs records verdict=ok
    read -r ok runs <<<"$(scenario_answered "$name")"
    records=$(($(grain_records guestSession) - before))
    if ((records < ok || records > ok + runs * BENCH_CONNECTIONS)); then verdict=MISMATCH; BENCH_FAILED=1; fi
    BENCH_NOTES+=("- $(node_label), $name: $records guest-session records written for $ok answered requests ($runs wrk runs; up to $((runs * BENCH_CONNECTIONS)) more in flight when wrk stopped): $verdict")
}

# Every scenario on the node under test (for_each_node), then its limiter cost.
run_scenarios() {
    local scenario note
    for scenario in "${SCENARIOS[@]}"; do
        "scenario_$scenario"
    done
    note=$(limiter_cost_note)
    if [[ -n $note ]]; then BENCH_NOTES+=("- $(node_label): $note"); fi
}

scenario_limiter-off() {
    run_on_node limiter-off no "--RateLimiting:Enabled=false"
}

scenario_limiter-on() {
    run_on_node limiter-on yes "--RateLimiting:Enabled=true" "--RateLimiting:PermitsPerMinute=$LIMITER_ON_PERMITS"
}

# The limiter's cost, from the two measured runs: throughput change, p50 change, and the
# machine time per request implied by the throughputs (1/rps; node, PostgreSQL and wrk share
# the cores, so this is what a request costs the whole machine).
limiter_cost_note() {
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

main() {
    local selection=${1:-all}
    case $selection in
        limiter-off | limiter-on) SCENARIOS=("$selection") ;;
        all) SCENARIOS=(limiter-off limiter-on) ;;
        *) usage ;;
    esac
    (($# <= 1)) || usage

    ensure_tools
    bench_init guest-sessions
    build_node
    new_signing_key
    for_each_node run_scenarios

    print_report "${BENCH_ENV_GIVEN}bench/guest-sessions.sh $selection"

    if ((BENCH_FAILED)); then
        log "some requests failed: see the non-2xx / socket error columns and $BENCH_OUT"
        exit 1
    fi
}

main "$@"
