#!/usr/bin/env bash
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
#   cluster-lb     NODES=3 deploy/cluster.sh up; wrk -> nginx -> 3 nodes (round robin)
#   single-direct  NODES=1 deploy/cluster.sh up; wrk -> the node itself (the fair baseline)
#   single-lb      the same single node through its nginx (what the balancer hop costs)
# Each `up` gets a fresh PostgreSQL. Rate limiting is off on every node
# (RateLimiting__Enabled=false in the environment of `up`; checked on every node before wrk).
#
#   bench/cluster.sh
#
# Environment: CLUSTER_NODES (3), CLUSTER_ENDPOINTS ("chats guest livechat": a subset to run
# fewer), BENCH_DURATION (measured seconds, default 15),
# BENCH_WARMUP (15), BENCH_THREADS (2), BENCH_CONNECTIONS (32) — see bench/lib.sh.
# Prints markdown tables for bench/RESULTS.md: throughput, latency, errors, each node's peak
# RSS and how nginx spread the requests; CPU per request by process; the scaling ratio.
# Raw wrk outputs and the nodes' logs go to bench/out/. Exits 1 after the report if any
# request failed.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

CLUSTER_NODES=${CLUSTER_NODES:-3}
LUA=$BENCH_ROOT/bench/lua
read -ra ENDPOINTS <<<"${CLUSTER_ENDPOINTS:-chats guest livechat}"
declare -A ENDPOINT_LABEL=(
    [chats]='PUT /v2/chats/{fresh id}'
    [guest]='POST /api/v1/chat/guest/session'
    [livechat]='POST /livechat/session'
)
declare -A SPREAD=()   # scenario -> requests per node during it (warm-up + measured), from nginx's log
SCENARIOS=()           # in run order
TOKEN=""

# run_endpoint SETUP ENDPOINT URL: one scenario, named SETUP-ENDPOINT.
run_endpoint() {
    local setup=$1 endpoint=$2 url=$3 name=$1-$2 before
    before=$(cluster_access_lines)
    case $endpoint in
        chats) run_scenario "$name" "$LUA/chats-fresh.lua" "$url" BENCH_TOKEN="$TOKEN" ;;
        guest) run_scenario "$name" "$LUA/guest-sessions.lua" "$url/api/v1/chat/guest/session" BENCH_SCENARIO="$name" ;;
        livechat) run_scenario "$name" "$LUA/livechat.lua" "$url/livechat/session" BENCH_SCENARIO="$name" ;;
    esac
    if [[ $url == "$LB_URL" ]]; then
        SPREAD[$name]=$(cluster_requests_per_node "$before" "$(cluster_access_lines)")
    else
        SPREAD[$name]="(direct)"
    fi
    SCENARIOS+=("$name")
}

# A table row per scenario: throughput, latency, errors, memory, spread.
results_table() {
    echo "| setup | endpoint | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MB per node | requests per node (nginx log) |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    local name setup endpoint result sockets rss
    for name in "${SCENARIOS[@]}"; do
        setup=${name%-*}
        endpoint=${name##*-}
        result=$(scenario_result "$name")
        sockets=$(($(result_field "$result" connect) + $(result_field "$result" read) +
            $(result_field "$result" write) + $(result_field "$result" timeout)))
        rss=$(scenario_rss "$name")
        # shellcheck disable=SC2016 # the backquotes are markdown
        printf '| %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$setup" "${ENDPOINT_LABEL[$endpoint]}" \
            "$(result_field "$result" rps)" "$(result_field "$result" p50_ms)" "$(result_field "$result" p99_ms)" \
            "$(result_field "$result" non2xx)" "$sockets" "${rss// / \/ }" "${SPREAD[$name]}"
    done
}

# CPU per request during each measured run, by process (see cpu_breakdown in lib.sh).
cpu_table() {
    echo "| setup | endpoint | nodes µs | PostgreSQL µs | nginx µs | wrk µs | kernel irq/softirq µs | other µs | machine busy µs | busy % |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    local name
    for name in "${SCENARIOS[@]}"; do
        awk -v hz="$CLK_TCK" -v requests="$(scenario_field "$name" requests)" \
            -v setup="${name%-*}" -v endpoint="${ENDPOINT_LABEL[${name##*-}]}" \
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
scaling_lines() {
    local endpoint cluster direct lb
    for endpoint in "${ENDPOINTS[@]}"; do
        cluster=$(scenario_field "cluster-lb-$endpoint" rps)
        direct=$(scenario_field "single-direct-$endpoint" rps)
        lb=$(scenario_field "single-lb-$endpoint" rps)
        awk -v e="${ENDPOINT_LABEL[$endpoint]}" -v c="$cluster" -v d="$direct" -v l="$lb" -v n="$CLUSTER_NODES" 'BEGIN {
            printf "- `%s`: %d nodes via nginx ÷ 1 node direct = %.2f (%.0f / %.0f requests/s); ÷ 1 node via nginx = %.2f (%.0f)\n",
                e, n, c / d, c, d, c / l, l
        }'
    done
}

main() {
    (($# == 0)) || { echo "usage: $0   (settings in the environment, see the header)" >&2; exit 2; }
    [[ $CLUSTER_NODES =~ ^[2-9]$ ]] || die "CLUSTER_NODES must be 2-9"
    local e
    for e in "${ENDPOINTS[@]}"; do [[ -n ${ENDPOINT_LABEL[$e]:-} ]] || die "unknown endpoint '$e' in CLUSTER_ENDPOINTS"; done
    ensure_tools
    bench_init cluster
    # cluster_down before lib.sh's cleanup (wrk first, so it does not hit a stopping cluster).
    trap 'rc=$?; set +e; ((rc == 0)) || log "exiting with status $rc"; [[ -n $WRK_PID ]] && kill "$WRK_PID" 2>/dev/null; cluster_down; (exit $rc); bench_cleanup' EXIT
    build_node

    local endpoint
    cluster_up "$CLUSTER_NODES"
    TOKEN=$(cluster_token admin)
    cluster_smoke_all "$TOKEN"
    for endpoint in "${ENDPOINTS[@]}"; do run_endpoint cluster-lb "$endpoint" "$LB_URL"; done
    cluster_down

    cluster_up 1
    TOKEN=$(cluster_token admin)
    cluster_smoke_all "$TOKEN"
    for endpoint in "${ENDPOINTS[@]}"; do run_endpoint single-direct "$endpoint" "${CLUSTER_NODE_URLS[0]}"; done
    for endpoint in "${ENDPOINTS[@]}"; do run_endpoint single-lb "$endpoint" "$LB_URL"; done
    cluster_down

    echo
    local given
    # Also what was passed on to the nodes through the environment (DOTNET_*, ASP.NET keys).
    given=$(env | grep -E '^(CLUSTER_(NODES|ENDPOINTS)|DOTNET_[A-Za-z_]+|[A-Za-z]+__[A-Za-z_]+)=' |
        grep -vE '^DOTNET_(CLI_|NOLOGO|GENERATE_ASPNET_CERTIFICATE)' | sed "s/^\([^=]*\)=\(.* .*\)$/\1='\2'/" |
        sort | tr '\n' ' ' || true)
    echo "command: \`${BENCH_ENV_GIVEN}${given}bench/cluster.sh\`"
    echo
    print_machine
    print_wrk_settings
    echo "- deploy/cluster.sh: nginx (1 worker, keepalive to the nodes, access log on) round robin over the nodes; each node a Release build, Npgsql pool of 30; a fresh PostgreSQL per \`up\`; rate limiting off"
    echo
    results_table
    echo
    echo "CPU per request during each measured run (/proc/<pid>/stat, /proc/stat; \"other\" = busy time no listed process accounts for):"
    echo
    cpu_table
    echo
    echo "Scaling ratio (requests/s):"
    echo
    scaling_lines
    echo
    echo "raw wrk outputs and logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"

    local name
    for name in "${SCENARIOS[@]}"; do
        if (($(scenario_field "$name" non2xx) > 0)); then BENCH_FAILED=1; fi
    done
    if ((BENCH_FAILED)); then
        log "some requests failed: see the non-2xx / socket error columns and $BENCH_OUT"
        exit 1
    fi
}

main "$@"
