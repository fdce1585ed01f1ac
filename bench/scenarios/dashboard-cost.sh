# shellcheck shell=bash
# What the Orleans dashboard costs the service: the PUT /v2/chats creation benchmark (as
# chats-fresh) on one node and one PostgreSQL, in alternating runs:
#
#   never   nobody has opened the dashboard since the node started
#   open    a poller fetches what the dashboard page fetches, every second, with an admin
#           token (/dashboard/DashboardCounters, /dashboard/ClusterStats): the grain-call
#           profiler is on
#   closed  the poller stopped, and the profiler's own idle switch-off (one minute after the
#           last dashboard request) has passed
#
#   bench/run.sh dashboard-cost     (ROUNDS=3, SWITCH_OFF_SECONDS=70; BENCH_WARMUP, BENCH_DURATION)
#
# Order: ROUNDS × (a freshly started node on the same PostgreSQL — deploy/cluster.sh restart
# from the second round on —: an unmeasured warm-up run, never, open, closed). Prints the table
# and the differences against "never" (target: closed within 3 %).

# SWITCH_OFF_SECONDS: GrainProfilerOptions.DeactivationTime (1 min) plus a margin.
apply_defaults ROUNDS=3 SWITCH_OFF_SECONDS=70
DASHBOARD_LUA=$BENCH_ROOT/bench/lua
DASHBOARD_POLLER_PID=""
DASHBOARD_TOKEN=""

dashboard_start_poller() {
    (
        while true; do
            for route in DashboardCounters ClusterStats; do
                curl -s -o /dev/null -H "Authorization: Bearer $DASHBOARD_TOKEN" "$NODE_URL/dashboard/$route"
            done
            sleep 1
        done
    ) &
    DASHBOARD_POLLER_PID=$!
}

dashboard_stop_poller() {
    if [[ -n $DASHBOARD_POLLER_PID ]]; then
        kill "$DASHBOARD_POLLER_PID" 2>/dev/null || true
        wait "$DASHBOARD_POLLER_PID" 2>/dev/null || true
    fi
    DASHBOARD_POLLER_PID=""
}

dashboard_fresh() { run_scenario "$1" "$DASHBOARD_LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$DASHBOARD_TOKEN"; }

# dashboard_mean_rps NAME...: the mean requests/s of the named scenarios.
dashboard_mean_rps() {
    local name sum=0
    for name in "$@"; do
        sum=$(awk -v a="$sum" -v b="$(scenario_field "$name" rps)" 'BEGIN { print a + b }')
    done
    awk -v s="$sum" -v n="$#" 'BEGIN { printf "%.0f", s / n }'
}

dashboard_on_node() {
    local round nevers=() opens=() closeds=()
    for ((round = 1; round <= ROUNDS; round++)); do
        # "never" needs a node nobody has polled, so each round starts one, and warms it with
        # an unmeasured run first: a node's first ~30 s under load cost it twice the CPU per
        # request (JIT, tiered compilation), which a 15 s warm-up does not cover (measured:
        # never 962 req/s right after the start, 1624 after one such run).
        if ((round == 1)); then single_node_up; else nodes_restart; fi
        DASHBOARD_TOKEN=$(node_token admin)
        dashboard_fresh "warm-node-$round"
        dashboard_fresh "never-$round"
        dashboard_start_poller
        dashboard_fresh "open-$round"
        dashboard_stop_poller
        log "waiting ${SWITCH_OFF_SECONDS} s for the profiler to switch itself off"
        sleep "$SWITCH_OFF_SECONDS"
        dashboard_fresh "closed-$round"
        nevers+=("never-$round")
        opens+=("open-$round")
        closeds+=("closed-$round")
    done

    local never open closed
    never=$(dashboard_mean_rps "${nevers[@]}")
    open=$(dashboard_mean_rps "${opens[@]}")
    closed=$(dashboard_mean_rps "${closeds[@]}")
    BENCH_NOTES+=("- dashboard closed (after the profiler switched off) vs never opened: $(awk -v c="$closed" -v n="$never" 'BEGIN { printf "%+.1f %% requests/s (%d vs %d; target within 3 %%)", (c - n) / n * 100, c, n }')")
    BENCH_NOTES+=("- dashboard open (polled every second) vs never opened: $(awk -v o="$open" -v n="$never" 'BEGIN { printf "%+.1f %% requests/s (%d vs %d)", (o - n) / n * 100, o, n }')")
}

dashboard_cost_main() {
    [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
    ensure_bench_tools
    bench_init dashboard-cost
    BENCH_CLEANUP_HOOKS+=(dashboard_stop_poller)
    build_bench_nodes
    for_each_node dashboard_on_node
    print_report
}
