# shellcheck shell=bash
# Cluster vs single node: the three creation endpoints on a 3-node cluster behind nginx, then
# on a single node, with deploy/cluster.sh (Release build, throwaway durable PostgreSQL,
# nginx), all on this machine over loopback:
#
#   PUT  /v2/chats/{fresh id}            bench/lua/chats-fresh.lua     (admin token)
#   POST /api/v1/chat/guest/session      bench/lua/guest-sessions.lua
#   POST /livechat/session               bench/lua/livechat.lua
#
# Setups, in this order, each endpoint run as in the other benchmarks (warm-up, then the
# measured run):
#   cluster-lb     deploy/cluster.sh up --nodes 3; wrk -> nginx -> 3 nodes (round robin)
#   single-direct  deploy/cluster.sh up --nodes 1; wrk -> the node itself (the fair baseline)
#   single-lb      the same single node through its nginx (what the balancer hop costs)
# Each `up` gets a fresh PostgreSQL. Rate limiting is off on every node
# (RateLimiting__Enabled=false in the environment of `up`; checked on every node before wrk).
#
#   bench/run.sh cluster
#
# Environment: CLUSTER_NODES (3), CLUSTER_ENDPOINTS ("chats guest livechat": a subset to run
# fewer), BENCH_DURATION, BENCH_WARMUP, BENCH_THREADS, BENCH_CONNECTIONS (bench/lib/common.sh);
# DOTNET_* or ASP.NET `Section__Key` variables reach the nodes.
# Prints markdown tables for bench/RESULTS.md: throughput, latency, errors, each node's peak
# RSS and how nginx spread the requests; CPU per request by process; the scaling ratio.
# Exits 1 after the report if any request failed.

apply_defaults CLUSTER_NODES=3 "CLUSTER_ENDPOINTS=chats guest livechat"
SCALING_LUA=$BENCH_ROOT/bench/lua
read -ra SCALING_ENDPOINTS <<<"$CLUSTER_ENDPOINTS"
declare -gA SCALING_LABEL=(
    [chats]='PUT /v2/chats/{fresh id}'
    [guest]='POST /api/v1/chat/guest/session'
    [livechat]='POST /livechat/session'
)
declare -gA SCALING_SPREAD=()   # scenario -> requests per node during it (warm-up + measured), from nginx's log
SCALING_RUNS=()                # scenario names, in run order
SCALING_TOKEN=""

# scaling_run_endpoint SETUP ENDPOINT URL: one scenario, named SETUP-ENDPOINT.
scaling_run_endpoint() {
    local setup=$1 endpoint=$2 url=$3 name=$1-$2 before
    before=$(cluster_access_lines)
    case $endpoint in
        chats) run_scenario "$name" "$SCALING_LUA/chats-fresh.lua" "$url" BENCH_TOKEN="$SCALING_TOKEN" ;;
        guest) run_scenario "$name" "$SCALING_LUA/guest-sessions.lua" "$url/api/v1/chat/guest/session" BENCH_SCENARIO="$name" ;;
        livechat) run_scenario "$name" "$SCALING_LUA/livechat.lua" "$url/livechat/session" BENCH_SCENARIO="$name" ;;
    esac
    if [[ $url == "$LB_URL" ]]; then
        SCALING_SPREAD[$name]=$(cluster_requests_per_node "$before" "$(cluster_access_lines)")
    else
        SCALING_SPREAD[$name]="(direct)"
    fi
    SCALING_RUNS+=("$name")
}

# A table row per scenario: throughput, latency, errors, memory, spread.
scaling_results_table() {
    echo "| setup | endpoint | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MB per node | requests per node (nginx log) |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    local name setup endpoint result sockets rss
    for name in "${SCALING_RUNS[@]}"; do
        setup=${name%-*}
        endpoint=${name##*-}
        result=$(scenario_result "$name")
        sockets=$(socket_errors "$result")
        rss=$(scenario_rss "$name")
        # shellcheck disable=SC2016 # the backquotes are markdown
        printf '| %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$setup" "${SCALING_LABEL[$endpoint]}" \
            "$(result_field "$result" rps)" "$(result_field "$result" p50_ms)" "$(result_field "$result" p99_ms)" \
            "$(result_field "$result" non2xx)" "$sockets" "${rss// / \/ }" "${SCALING_SPREAD[$name]}"
    done
}

# CPU per request during each measured run, by process (see cpu_breakdown in bench/lib/measure.sh).
scaling_cpu_table() {
    echo "| setup | endpoint | nodes µs | PostgreSQL µs | nginx µs | wrk µs | kernel irq/softirq µs | other µs | machine busy µs | busy % |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    local name
    for name in "${SCALING_RUNS[@]}"; do
        awk -v hz="$CLK_TCK" -v requests="$(scenario_field "$name" requests)" \
            -v setup="${name%-*}" -v endpoint="${SCALING_LABEL[${name##*-}]}" \
            -v node="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
            -v nginx="$(cpu_field "$name" nginx)" -v wrk="$(cpu_field "$name" wrk)" \
            -v irq="$(cpu_field "$name" irq)" -v steal="$(cpu_field "$name" steal)" \
            -v busy="$(cpu_field "$name" busy)" -v all="$(cpu_field "$name" all)" 'BEGIN {
            us = 1e6 / hz / requests
            printf "| %s | `%s` | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% |\n", setup, endpoint,
                node * us, pg * us, nginx * us, wrk * us, irq * us,
                (busy - node - pg - nginx - wrk - irq) * us, busy * us, busy / all * 100
        }'
    done
}

# cluster ÷ single node, requests/s, per endpoint.
scaling_ratio_lines() {
    local endpoint cluster direct lb
    for endpoint in "${SCALING_ENDPOINTS[@]}"; do
        cluster=$(scenario_field "cluster-lb-$endpoint" rps)
        direct=$(scenario_field "single-direct-$endpoint" rps)
        lb=$(scenario_field "single-lb-$endpoint" rps)
        awk -v e="${SCALING_LABEL[$endpoint]}" -v c="$cluster" -v d="$direct" -v l="$lb" -v n="$CLUSTER_NODES" 'BEGIN {
            printf "- `%s`: %d nodes via nginx ÷ 1 node direct = %.2f (%.0f / %.0f requests/s); ÷ 1 node via nginx = %.2f (%.0f)\n",
                e, n, c / d, c, d, c / l, l
        }'
    done
}

cluster_scaling_main() {
    [[ $CLUSTER_NODES =~ ^[2-9]$ ]] || die "CLUSTER_NODES must be 2-9"
    [[ -z $BENCH_BASELINE ]] || die "the cluster scenario measures the working tree's nodes only: unset BENCH_BASELINE"
    local e
    for e in "${SCALING_ENDPOINTS[@]}"; do [[ -n ${SCALING_LABEL[$e]:-} ]] || die "unknown endpoint '$e' in CLUSTER_ENDPOINTS"; done
    ensure_bench_tools
    bench_init cluster
    build_bench_nodes

    local endpoint
    nodes_up "$CLUSTER_NODES"
    SCALING_TOKEN=$(node_token admin)
    cluster_smoke_all "$SCALING_TOKEN"
    for endpoint in "${SCALING_ENDPOINTS[@]}"; do scaling_run_endpoint cluster-lb "$endpoint" "$LB_URL"; done
    nodes_down

    nodes_up 1
    SCALING_TOKEN=$(node_token admin)
    cluster_smoke_all "$SCALING_TOKEN"
    for endpoint in "${SCALING_ENDPOINTS[@]}"; do scaling_run_endpoint single-direct "$endpoint" "$NODE_URL"; done
    for endpoint in "${SCALING_ENDPOINTS[@]}"; do scaling_run_endpoint single-lb "$endpoint" "$LB_URL"; done
    nodes_down

    echo
    print_command_line
    echo
    print_machine
    print_wrk_settings
    echo "- deploy/cluster.sh: nginx (1 worker, keepalive to the nodes, access log on) round robin over the nodes; each node a Release build, Npgsql pool of 30; a fresh PostgreSQL per \`up\`; rate limiting off"
    echo
    scaling_results_table
    echo
    echo "CPU per request during each measured run (/proc/<pid>/stat, /proc/stat; \"other\" = busy time no listed process accounts for):"
    echo
    scaling_cpu_table
    echo
    echo "Scaling ratio (requests/s):"
    echo
    scaling_ratio_lines
    echo
    echo "raw wrk outputs and logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"

    local name
    for name in "${SCALING_RUNS[@]}"; do
        if (($(scenario_field "$name" non2xx) > 0)); then mark_failed; fi
    done
    exit_if_failed "some requests failed: see the non-2xx / socket error columns"
}
