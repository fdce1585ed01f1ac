#!/usr/bin/env bash
# What the Orleans dashboard costs the service: the PUT /v2/chats creation benchmark (as
# chats.sh "fresh") on one node and one PostgreSQL, in alternating runs:
#
#   never   nobody has opened the dashboard since the node started
#   open    a poller fetches what the dashboard page fetches, every second, with an admin
#           token (/dashboard/DashboardCounters, /dashboard/ClusterStats): the grain-call
#           profiler is on
#   closed  the poller stopped, and the profiler's own idle switch-off (one minute after the
#           last dashboard request) has passed
#
#   bench/dashboard-cost.sh     (ROUNDS=3; BENCH_WARMUP, BENCH_DURATION as in lib.sh)
#
# Order: ROUNDS × (a freshly started node: an unmeasured warm-up run, never, open, closed). Prints the table and the differences against
# "never" (target: closed within 3 %).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
LUA=$BENCH_ROOT/bench/lua
# GrainProfilerOptions.DeactivationTime (1 min) plus a margin.
SWITCH_OFF_SECONDS=${SWITCH_OFF_SECONDS:-70}
POLLER_PID=""
TOKEN=""

start_dashboard_poller() {
    (
        while true; do
            for route in DashboardCounters ClusterStats; do
                curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$NODE_URL/dashboard/$route"
            done
            sleep 1
        done
    ) &
    POLLER_PID=$!
}

stop_dashboard_poller() {
    if [[ -n $POLLER_PID ]]; then
        kill "$POLLER_PID" 2>/dev/null || true
        wait "$POLLER_PID" 2>/dev/null || true
    fi
    POLLER_PID=""
}

fresh() { run_scenario "$1" "$LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$TOKEN"; }

# mean_rps NAME...: the mean requests/s of the named scenarios.
mean_rps() {
    local name sum=0
    for name in "$@"; do
        sum=$(awk -v a="$sum" -v b="$(scenario_field "$name" rps)" 'BEGIN { print a + b }')
    done
    awk -v s="$sum" -v n="$#" 'BEGIN { printf "%.0f", s / n }'
}

run_on_node() {
    # Rate limiting is off because wrk sends everything from one client IP.
    postgres_node_config "--RateLimiting:Enabled=false"
    local round nevers=() opens=() closeds=()
    for ((round = 1; round <= ROUNDS; round++)); do
        # "never" needs a node nobody has polled, so each round starts one, and warms it with
        # an unmeasured run first: a node's first ~30 s under load cost it twice the CPU per
        # request (JIT, tiered compilation), which a 15 s warm-up does not cover (measured:
        # never 962 req/s right after the start, 1624 after one such run).
        NODE_LOG_NAME=node-$round
        start_node
        TOKEN=$(mint_token admin)
        fresh "warm-node-$round"
        fresh "never-$round"
        start_dashboard_poller
        fresh "open-$round"
        stop_dashboard_poller
        log "waiting ${SWITCH_OFF_SECONDS} s for the profiler to switch itself off"
        sleep "$SWITCH_OFF_SECONDS"
        fresh "closed-$round"
        stop_node
        nevers+=("never-$round")
        opens+=("open-$round")
        closeds+=("closed-$round")
    done

    local never open closed
    never=$(mean_rps "${nevers[@]}")
    open=$(mean_rps "${opens[@]}")
    closed=$(mean_rps "${closeds[@]}")
    BENCH_NOTES+=("- dashboard closed (after the profiler switched off) vs never opened: $(awk -v c="$closed" -v n="$never" 'BEGIN { printf "%+.1f %% requests/s (%d vs %d; target within 3 %%)", (c - n) / n * 100, c, n }')")
    BENCH_NOTES+=("- dashboard open (polled every second) vs never opened: $(awk -v o="$open" -v n="$never" 'BEGIN { printf "%+.1f %% requests/s (%d vs %d)", (o - n) / n * 100, o, n }')")
}

main() {
    ensure_tools
    bench_init dashboard-cost
    trap 'stop_dashboard_poller; bench_cleanup' EXIT
    build_node
    new_signing_key
    for_each_node run_on_node
    print_report "${BENCH_ENV_GIVEN}bench/dashboard-cost.sh"
}

main "$@"
