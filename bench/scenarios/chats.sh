# shellcheck shell=bash
# PUT /v2/chats/{chatId} (spec 004): one Release node on a throwaway, durable PostgreSQL,
# driven by wrk over loopback. Scenarios of bench/run.sh:
#
#   chats-fresh   every request creates a chat with a new random id (the write path)
#   chats-replay  every request repeats the PUT of one existing chat (the idempotent read-back path)
#   chats         both, fresh then replay, on the same node (the old `chats.sh all`)
#
# With BENCH_BASELINE=<git revision> (e.g. e880b08, the last node before Orleans) every
# scenario runs on that revision's node first, then on the working tree's, each on a fresh
# PostgreSQL; the report gives the ratio and checks issue 9's targets: fresh ≥ 0.7× the
# baseline with p99 ≤ 80 ms and peak RSS ≤ 400 MB, replay ≥ 5× with p99 ≤ 10 ms, no errors.
# After the run the records written are counted against the 200s (fresh).
# Exits 1 after the report if any scenario saw non-2xx responses or socket errors.

CHATS_LUA=$BENCH_ROOT/bench/lua
CHATS_SELECTED=()
CHATS_TOKEN=""

# Issue 9's targets for the Orleans node against the pre-Orleans one (comparison_report).
TARGET_RATIO+=([fresh]=0.7 [replay]=5)
TARGET_P99+=([fresh]=80 [replay]=10)
TARGET_RSS+=([fresh]=400)

chats_fresh() {
    run_scenario fresh "$CHATS_LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$CHATS_TOKEN"
    # Every 200 created a chat; requests in flight when wrk stopped still write (up to one
    # per connection per wrk run).
    local ok runs records verdict=ok
    read -r ok runs <<<"$(scenario_answered fresh)"
    records=$(grain_records chat)
    if ((records < ok || records > ok + runs * BENCH_CONNECTIONS)); then verdict=MISMATCH; mark_failed; fi
    BENCH_NOTES+=("- $(node_label), fresh: $records chat records in the database for $ok answered requests ($runs wrk runs; up to $((runs * BENCH_CONNECTIONS)) more in flight when wrk stopped): $verdict")
}

chats_replay() {
    # Create the chat once, so every measured request is a replay of an existing chat.
    local chat_id status
    chat_id=$(new_uuid)
    status=$(put_chat "$NODE_URL" "$CHATS_TOKEN" "$BENCH_OUT/replay-create.json" "$chat_id")
    [[ $status == 200 ]] || die "replay: creating chat $chat_id answered $status: $(head -c 600 "$BENCH_OUT/replay-create.json")"
    run_scenario replay "$CHATS_LUA/chats-replay.lua" "$NODE_URL/v2/chats/$chat_id" BENCH_TOKEN="$CHATS_TOKEN"
}

# One node (for_each_node): up on a PostgreSQL of its own, then every selected scenario.
chats_on_node() {
    single_node_up
    CHATS_TOKEN=$(node_token admin)
    local scenario
    for scenario in "${CHATS_SELECTED[@]}"; do
        "chats_$scenario"
    done
}

# chats_main fresh|replay|all
chats_main() {
    case $1 in
        fresh | replay) CHATS_SELECTED=("$1") ;;
        all) CHATS_SELECTED=(fresh replay) ;;
        *) die "chats_main: unknown selection '$1'" ;;
    esac
    ensure_bench_tools
    bench_init chats
    build_bench_nodes
    for_each_node chats_on_node
    print_report
    exit_if_failed "some requests failed or records are missing: see the non-2xx / socket error columns and the notes"
}
