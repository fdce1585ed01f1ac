#!/usr/bin/env bash
# What the dashboard costs the service: the PUT /v2/chats creation benchmark (as chats.sh
# "fresh") with nobody watching, then with a dashboard open — a poller fetching the four
# /dashboard/api/* documents every 2 s, as the page does — alternating, ROUNDS times each,
# on one node and one PostgreSQL. Per-request stats collection is always on (it cannot be
# switched off), so "closed" already includes it; bench/RESULTS.md compares with chats.sh.
#
#   bench/dashboard-cost.sh            (BENCH_WARMUP, BENCH_DURATION as in lib.sh; ROUNDS=2)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

ROUNDS=${ROUNDS:-2}
LUA=$BENCH_ROOT/bench/lua
POLLER_PID=""

start_dashboard_poller() {
    (
        while true; do
            for doc in overview endpoints grains errors; do
                curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$NODE_URL/dashboard/api/$doc"
            done
            sleep 2
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

main() {
    ensure_tools
    bench_init dashboard-cost
    trap 'stop_dashboard_poller; bench_cleanup' EXIT
    build_node
    start_postgres
    new_signing_key
    # Rate limiting is off because wrk sends everything from one client IP.
    postgres_node_config "--RateLimiting:Enabled=false"
    start_node
    TOKEN=$(mint_token admin)

    local round
    for ((round = 1; round <= ROUNDS; round++)); do
        run_scenario "closed-$round" "$LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$TOKEN"
        start_dashboard_poller
        run_scenario "open-$round" "$LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$TOKEN"
        stop_dashboard_poller
    done

    local closed=0 open=0
    for ((round = 1; round <= ROUNDS; round++)); do
        closed=$(awk -v a="$closed" -v b="$(scenario_field "closed-$round" rps)" 'BEGIN { print a + b }')
        open=$(awk -v a="$open" -v b="$(scenario_field "open-$round" rps)" 'BEGIN { print a + b }')
    done
    BENCH_NOTES+=("dashboard open vs closed, mean of $ROUNDS rounds: $(awk -v o="$open" -v c="$closed" 'BEGIN { printf "%+.1f %% requests/s (%.0f vs %.0f)", (o - c) / c * 100, o / '"$ROUNDS"', c / '"$ROUNDS"' }')")
    print_report "${BENCH_ENV_GIVEN}bench/dashboard-cost.sh"
}

main "$@"
