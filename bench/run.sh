#!/usr/bin/env bash
# The benchmarks' one entry point. Each scenario builds the working tree's Release node, starts
# what it measures with deploy/cluster.sh (PostgreSQL, node(s), nginx), drives it over loopback
# and prints a markdown report for bench/RESULTS.md; raw outputs go to bench/out/<name>-<time>/.
# bench/README.md says which command reproduces which result.
#
#   bench/run.sh SCENARIO [ARG]
#
#   chats-fresh     PUT /v2/chats, a new chat per request, one node             bench/scenarios/chats.sh
#   chats-replay    PUT /v2/chats, the same chat again and again, one node
#   chats           both, one after the other on the same node
#   guest-sessions [limiter-off|limiter-on]   POST /api/v1/chat/guest/session, one node (default: both)
#                                                                             bench/scenarios/guest-sessions.sh
#   livechat        POST /livechat/session, one node, with the RS256 signing cost   bench/scenarios/livechat.sh
#   dashboard-cost  chats-fresh with the Orleans dashboard never opened, open, closed
#                                                                             bench/scenarios/dashboard-cost.sh
#   profile [fresh|fresh-webhook|replay|guest|livechat]   perf and pg_stat_statements per request, one node
#                                                                             bench/scenarios/profile.sh
#   cluster         3 nodes behind nginx vs one node, the three creation endpoints   bench/scenarios/cluster.sh
#   mixed           10-minute soak, the three creation endpoints at 300 requests/s through nginx
#                   on 3 nodes                                                bench/scenarios/soak.sh
#   soak            10-minute soak of chat creations at 1,000/s (issue 18) on one node, or at the
#                   highest rate it sustains when it cannot hold that
#   hub             real-time conversations on /hubs/livechat (bench/HubLoad), 1 and 3 nodes
#                                                                             bench/scenarios/hub.sh
#   timeouts        100,000 open chats' pending timeouts: memory, restart, how late they fire
#                                                                             bench/scenarios/timeouts.sh
#   vs-peers        the node against the Express peer and the one-INSERT ceiling of ../shared/peers,
#                   on one PostgreSQL, interleaved (fresh, fresh-1000, replay, guest, livechat)
#                                                                             bench/scenarios/vs-peers.sh
#   webhooks        what one webhook costs fresh creations, its delivery lag at 500/s, and a
#                   receiver down for 10 minutes                            bench/scenarios/webhooks.sh
#
# Settings are environment variables: BENCH_* for all (bench/lib/common.sh: durations, wrk
# threads and connections, BENCH_PG_FAST, BENCH_BASELINE=<git revision> to measure another
# revision's node in the same run, ...), and each scenario's own in its file's header.
# Exits 2 on a wrong command line, 1 after the report when requests failed or records are missing.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BENCH_DIR/.."

run_usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

SCENARIO=${1:-}
if (($#)); then shift; fi
(($# <= 1)) || run_usage
# The report's command line.
# shellcheck disable=SC2034 # read by bench/lib/report.sh
BENCH_COMMAND="bench/run.sh $SCENARIO${1:+ $1}"

# shellcheck source=bench/lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=bench/lib/nodes.sh
source "$BENCH_DIR/lib/nodes.sh"
# shellcheck source=bench/lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
# shellcheck source=bench/lib/wrk.sh
source "$BENCH_DIR/lib/wrk.sh"
# shellcheck source=bench/lib/report.sh
source "$BENCH_DIR/lib/report.sh"

# Each scenario's file is sourced here, at the top level, so that its globals are global.
case $SCENARIO in
    chats-fresh | chats-replay | chats)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/chats.sh
        source "$BENCH_DIR/scenarios/chats.sh"
        case $SCENARIO in
            chats-fresh) chats_main fresh ;;
            chats-replay) chats_main replay ;;
            chats) chats_main all ;;
        esac
        ;;
    guest-sessions)
        # shellcheck source=bench/scenarios/guest-sessions.sh
        source "$BENCH_DIR/scenarios/guest-sessions.sh"
        guest_sessions_main "${1:-all}"
        ;;
    livechat)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/livechat.sh
        source "$BENCH_DIR/scenarios/livechat.sh"
        livechat_main
        ;;
    dashboard-cost)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/dashboard-cost.sh
        source "$BENCH_DIR/scenarios/dashboard-cost.sh"
        dashboard_cost_main
        ;;
    profile)
        # shellcheck source=bench/scenarios/profile.sh
        source "$BENCH_DIR/scenarios/profile.sh"
        # shellcheck source=bench/scenarios/webhooks.sh
        source "$BENCH_DIR/scenarios/webhooks.sh"   # fresh-webhook's receiver
        profile_main "${1:-fresh}"
        ;;
    cluster)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/cluster.sh
        source "$BENCH_DIR/scenarios/cluster.sh"
        cluster_scaling_main
        ;;
    mixed | soak)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/soak.sh
        source "$BENCH_DIR/scenarios/soak.sh"
        if [[ $SCENARIO == mixed ]]; then soak_mixed; else soak_fresh; fi
        ;;
    hub)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/hub.sh
        source "$BENCH_DIR/scenarios/hub.sh"
        hub_main
        ;;
    timeouts)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/timeouts.sh
        source "$BENCH_DIR/scenarios/timeouts.sh"
        timeouts_main
        ;;
    vs-peers)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/vs-peers.sh
        source "$BENCH_DIR/scenarios/vs-peers.sh"
        vs_peers_main
        ;;
    webhooks)
        (($# == 0)) || run_usage
        # shellcheck source=bench/scenarios/webhooks.sh
        source "$BENCH_DIR/scenarios/webhooks.sh"
        webhooks_main
        ;;
    *) run_usage ;;
esac
