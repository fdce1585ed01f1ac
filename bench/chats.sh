#!/usr/bin/env bash
# Load benchmark of PUT /v2/chats/{chatId} (spec 004): one Release node on a throwaway,
# durable PostgreSQL, driven by wrk over loopback.
#
#   bench/chats.sh [fresh|replay|all]      (default: all)
#
#   fresh   every request creates a chat with a new random id (the write path)
#   replay  every request repeats the PUT of one existing chat (the idempotent read-back path)
#
# Environment: BENCH_DURATION (measured seconds, default 15), BENCH_WARMUP, BENCH_THREADS,
# BENCH_CONNECTIONS, BENCH_PG_FAST=1 (synchronous_commit=off) — see bench/lib.sh.
# Prints a markdown table for bench/RESULTS.md; raw wrk outputs go to bench/out/.
# Exits 1 after the report if any scenario saw non-2xx responses or socket errors.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

LUA=$BENCH_ROOT/bench/lua
BODY=$BENCH_ROOT/bench/payloads/chats-put.json

usage() { echo "usage: $0 [fresh|replay|all]" >&2; exit 2; }

scenario_fresh() {
    run_scenario fresh "$LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$TOKEN"
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

main() {
    local selection=${1:-all}
    local scenarios
    case $selection in
        fresh | replay) scenarios=("$selection") ;;
        all) scenarios=(fresh replay) ;;
        *) usage ;;
    esac
    (($# <= 1)) || usage

    ensure_tools
    bench_init chats
    build_node
    start_postgres
    gen_signing_key

    # Rate limiting is off because wrk sends everything from one client IP.
    postgres_node_config "--RateLimiting:Enabled=false"
    start_node
    TOKEN=$(mint_token admin)

    local scenario
    for scenario in "${scenarios[@]}"; do
        "scenario_$scenario"
    done

    print_report "${BENCH_ENV_GIVEN}bench/chats.sh $selection"

    if ((BENCH_FAILED)); then
        log "some requests failed: see the non-2xx / socket error columns and $BENCH_OUT"
        exit 1
    fi
}

main "$@"
