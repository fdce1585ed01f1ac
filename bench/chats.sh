#!/usr/bin/env bash
# Load benchmark of PUT /v2/chats/{chatId} (spec 004): one Release node on a throwaway,
# durable PostgreSQL, driven by wrk over loopback.
#
#   bench/chats.sh [fresh|replay|all]      (default: all)
#
#   fresh   every request creates a chat with a new random id (the write path)
#   replay  every request repeats the PUT of one existing chat (the idempotent read-back path)
#
# With BENCH_BASELINE=<git revision> (e.g. e880b08, the last node before Orleans) every
# scenario runs on that revision's node first, then on the working tree's, each on a fresh
# PostgreSQL; the report gives the ratio and checks issue 9's targets: fresh ≥ 0.7× the
# baseline with p99 ≤ 80 ms and peak RSS ≤ 400 MB, replay ≥ 5× with p99 ≤ 10 ms, no errors.
# After the run the records written are counted against the 200s (fresh).
#
# Environment: BENCH_DURATION (measured seconds, default 15), BENCH_WARMUP, BENCH_THREADS,
# BENCH_CONNECTIONS, BENCH_PG_FAST=1 (synchronous_commit=off), BENCH_BASELINE,
# BENCH_CONN_EXTRA — see bench/lib.sh.
# Prints a markdown table for bench/RESULTS.md; raw wrk outputs go to bench/out/.
# Exits 1 after the report if any scenario saw non-2xx responses or socket errors.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

LUA=$BENCH_ROOT/bench/lua
BODY=$BENCH_ROOT/bench/payloads/chats-put.json

usage() { echo "usage: $0 [fresh|replay|all]" >&2; exit 2; }

# Issue 9's targets for the Orleans node against the pre-Orleans one (comparison_report).
TARGET_RATIO[fresh]=0.7
TARGET_P99[fresh]=80
TARGET_RSS[fresh]=400
TARGET_RATIO[replay]=5
TARGET_P99[replay]=10

SCENARIOS=()
TOKEN=""

scenario_fresh() {
    run_scenario fresh "$LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$TOKEN"
    # Every 200 created a chat; requests in flight when wrk stopped still write (up to one
    # per connection per wrk run).
    local ok runs records verdict=ok
    read -r ok runs <<<"$(scenario_answered fresh)"
    records=$(grain_records chat)
    if ((records < ok || records > ok + runs * BENCH_CONNECTIONS)); then verdict=MISMATCH; BENCH_FAILED=1; fi
    BENCH_NOTES+=("- $(node_label), fresh: $records chat records in the database for $ok answered requests ($runs wrk runs; up to $((runs * BENCH_CONNECTIONS)) more in flight when wrk stopped): $verdict")
}

scenario_replay() {
    # Create the chat once, so every measured request is a replay of an existing chat.
    local chat_id status
    chat_id=$(new_uuid)
    status=$(curl -sS -o "$BENCH_OUT/replay-create.json" -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        --data-binary "@$BODY" "$NODE_URL/v2/chats/$chat_id")
    [[ $status == 200 ]] || die "replay: creating chat $chat_id answered $status: $(head -c 600 "$BENCH_OUT/replay-create.json")"
    run_scenario replay "$LUA/chats-replay.lua" "$NODE_URL/v2/chats/$chat_id" BENCH_TOKEN="$TOKEN"
}

# One node (for_each_node): start it on this node's PostgreSQL, then every scenario.
run_on_node() {
    # Rate limiting is off because wrk sends everything from one client IP.
    postgres_node_config "--RateLimiting:Enabled=false"
    start_node
    TOKEN=$(mint_token admin)
    local scenario
    for scenario in "${SCENARIOS[@]}"; do
        "scenario_$scenario"
    done
}

main() {
    local selection=${1:-all}
    case $selection in
        fresh | replay) SCENARIOS=("$selection") ;;
        all) SCENARIOS=(fresh replay) ;;
        *) usage ;;
    esac
    (($# <= 1)) || usage

    ensure_tools
    bench_init chats
    build_node
    new_signing_key
    for_each_node run_on_node

    print_report "${BENCH_ENV_GIVEN}bench/chats.sh $selection"

    if ((BENCH_FAILED)); then
        log "some requests failed: see the non-2xx / socket error columns and $BENCH_OUT"
        exit 1
    fi
}

main "$@"
