# shellcheck shell=bash
# What one request costs, and where: the CPU profile of the node and the statements it runs on
# PostgreSQL, for one of the single-node scenarios, on one node (the working tree's) or, with
# BENCH_BASELINE=<git revision>, on that revision's node too (see bench/lib/nodes.sh).
#
#   bench/run.sh profile [fresh|fresh-webhook|replay|guest|livechat]      (default: fresh)
#
#   fresh     PUT /v2/chats/{fresh id}             (bench/lua/chats-fresh.lua)
#   fresh-webhook  the same, with one webhook subscribed to every type and an nginx receiver on
#             loopback (bench/scenarios/webhooks.sh's): what delivering each creation costs
#   replay    PUT /v2/chats/{one existing id}      (bench/lua/chats-replay.lua)
#   guest     POST /api/v1/chat/guest/session      (bench/lua/guest-sessions.lua)
#   livechat  POST /livechat/session               (bench/lua/livechat.lua)
#
# Per node: PostgreSQL with pg_stat_statements (track = all, so the statements inside PL/pgSQL
# functions are counted too), the node with DOTNET_PerfMapEnabled=1 and
# DOTNET_EnableWriteXorExecute=0 (so that perf can name JIT-compiled methods). A warm-up
# (BENCH_WARMUP), then the measured run (BENCH_DURATION; as in the other benchmarks, with its
# CPU per request by process) with pg_stat_statements reset before it: the statements per
# request, with their mean time; and the transactions per request. Then a second run of
# PROFILE_SECONDS (10) under `perf record -e cpu-clock -F 999 -g` on the node's process: its
# CPU by component (kernel, runtime, JIT, OpenSSL, managed code by namespace) and the top
# PROFILE_TOP (25) symbols by self time.
#
# Environment: PROFILE_SECONDS, PROFILE_TOP, and BENCH_* (bench/lib/common.sh). Needs perf
# (linux-perf). Raw outputs (perf.data, reports) go to bench/out/profile-*/.

apply_defaults PROFILE_SECONDS=10 PROFILE_TOP=25
PROFILE_LUA=$BENCH_ROOT/bench/lua
PROFILE_SCENARIO=""
PROFILE_TOKEN=""
PROFILE_WRK_ARGS=()
# PostgreSQL with pg_stat_statements (bench/lib/nodes.sh's nodes_up).
# shellcheck disable=SC2034 # read by nodes_up
BENCH_PG_STATEMENTS=1

# The scenario's script, URL and wrk variables (PROFILE_WRK_ARGS) on the node that is up.
profile_prepare() {
    case $PROFILE_SCENARIO in
        fresh) PROFILE_WRK_ARGS=("$PROFILE_LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$PROFILE_TOKEN") ;;
        fresh-webhook)
            # shellcheck disable=SC2034 # read by webhook_create and webhook_receiver_start
            WEBHOOK_TOKEN=$PROFILE_TOKEN
            # shellcheck disable=SC2034
            WEBHOOK_PORT=$(free_port)
            webhook_create "profile-$BENCH_NODE"   # first: the receiver logs to the webhook's file
            webhook_receiver_start
            PROFILE_WRK_ARGS=("$PROFILE_LUA/chats-fresh.lua" "$NODE_URL" BENCH_TOKEN="$PROFILE_TOKEN")
            ;;
        replay)
            local chat_id status
            chat_id=$(new_uuid)
            status=$(put_chat "$NODE_URL" "$PROFILE_TOKEN" /dev/null "$chat_id")
            [[ $status == 200 ]] || die "replay: creating chat $chat_id answered $status"
            PROFILE_WRK_ARGS=("$PROFILE_LUA/chats-replay.lua" "$NODE_URL/v2/chats/$chat_id" BENCH_TOKEN="$PROFILE_TOKEN")
            ;;
        guest) PROFILE_WRK_ARGS=("$PROFILE_LUA/guest-sessions.lua" "$NODE_URL/api/v1/chat/guest/session" BENCH_SCENARIO=guest) ;;
        livechat) PROFILE_WRK_ARGS=("$PROFILE_LUA/livechat.lua" "$NODE_URL/livechat/session" BENCH_SCENARIO=livechat) ;;
    esac
}

PROFILE_XACT0=0
# profile_pg_transactions: transactions committed or rolled back in the node's database so far.
profile_pg_transactions() {
    bench_psql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}

# profile_reset_statements: run_scenario's BENCH_BEFORE_MEASURED hook.
profile_reset_statements() {
    bench_psql "SELECT pg_stat_statements_reset()" >/dev/null
    PROFILE_XACT0=$(profile_pg_transactions)
}

# profile_statements_table REQUESTS: pg_stat_statements since the reset, per request of the run.
profile_statements_table() {
    local requests=$1
    echo "| statement (first 110 characters) | calls per request | mean ms | share of PostgreSQL execution time |"
    echo "|---|---:|---:|---:|"
    bench_psql "
        SELECT replace(left(regexp_replace(query, '\s+', ' ', 'g'), 110), '|', '\|') || ' | ' ||
               round(calls::numeric / $requests, 3) || ' | ' || round(mean_exec_time::numeric, 3) || ' | ' ||
               round(100 * total_exec_time::numeric / nullif(sum(total_exec_time::numeric) OVER (), 0), 1) || ' %'
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat_statements%' AND calls >= $requests / 100
        ORDER BY calls DESC, total_exec_time DESC LIMIT 15" | sed 's/^/| /; s/$/ |/'
}

# profile_perf_components REPORT: self time by component, from the sorted `perf report --sort dso,sym`
# lines (share, dso, symbol). JIT-compiled code is named through the perf map (its dso is the
# map or "[JIT]"), ReadyToRun framework code by its assembly (the dso).
profile_perf_components() {
    awk -F'\t' '
        function managed(name) {
            if (name ~ /Orleans/) return "managed: Orleans"
            if (name ~ /Npgsql/) return "managed: Npgsql"
            if (name ~ /ChatGrains/) return "managed: ChatGrains"
            if (name ~ /IdentityModel|Jwt/) return "managed: JWT (Microsoft.IdentityModel)"
            if (name ~ /System\.Text\.Json/) return "managed: System.Text.Json"
            if (name ~ /Microsoft\.AspNetCore|Microsoft\.Extensions|Kestrel/) return "managed: ASP.NET Core + Extensions"
            if (name ~ /System\.Net\./) return "managed: System.Net (sockets, HTTP)"
            return "managed: BCL and other"
        }
        {
            pct = $1; sub(/%.*/, "", pct); dso = $2; sym = $3
            gsub(/^ +| +$/, "", dso)
            if (dso ~ /kernel/) c = "kernel (syscalls, scheduler, loopback TCP, page faults)"
            else if (dso ~ /libcoreclr/) c = "runtime (libcoreclr: GC, type system, stubs)"
            else if (dso ~ /libclrjit/) c = "JIT compiler (libclrjit)"
            else if (dso ~ /libcrypto|libssl|Cryptography\.Native/) c = "OpenSSL (RS256)"
            else if (dso ~ /^libc\.|ld-linux|vdso|libSystem\.Native/) c = "libc, vdso, System.Native"
            else if (dso ~ /\.dll$/) c = managed(dso)
            else if (dso ~ /JIT|perf-[0-9]+\.map|memfd|anon/) c = managed(sym)
            else c = "other: " dso
            share[c] += pct
        }
        END { for (c in share) printf "| %s | %.1f %% |\n", c, share[c] }' "$1" | sort -t'|' -k3 -gr
}

profile_on_node() {
    # Perf map for JIT-compiled code; W^X off so that code sits in anonymous memory, where perf
    # looks names up in the map (with W^X it is a memfd mapping perf cannot name).
    # shellcheck disable=SC2034 # read by nodes_up
    NODE_ENV=(RateLimiting__Enabled=false DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
        Webhooks__AllowHttp=true Webhooks__AllowPrivateNetworks=true)
    single_node_up
    PROFILE_TOKEN=$(node_token admin)
    profile_prepare

    local requests name=$PROFILE_SCENARIO xacts
    # Counted over the measured run only: run_scenario calls this between warm-up and run.
    BENCH_BEFORE_MEASURED=profile_reset_statements
    run_scenario "$name" "${PROFILE_WRK_ARGS[@]}"
    # shellcheck disable=SC2034 # read by run_scenario
    BENCH_BEFORE_MEASURED=""
    requests=$(scenario_field "$name" requests)
    sleep 1   # backends report their statistics within a second of going idle
    xacts=$(($(profile_pg_transactions) - PROFILE_XACT0))
    {
        echo
        echo "**$(node_label)**, \`$name\`: $requests requests measured, $(awk -v x="$xacts" -v r="$requests" 'BEGIN { printf "%.2f", x / r }') PostgreSQL transactions per request; statements (pg_stat_statements, track = all: a function's inner statements are listed too, beside its call):"
        echo
        profile_statements_table "$requests"
    } >"$BENCH_OUT/$BENCH_NODE-statements.md"

    log "$name ($BENCH_NODE node): ${PROFILE_SECONDS}s under perf record"
    local perf_data=$BENCH_OUT/$BENCH_NODE-perf.data
    run_wrk profiled "$((PROFILE_SECONDS + 2))" "$BENCH_OUT/$BENCH_NODE-$name-profiled.txt" "${PROFILE_WRK_ARGS[@]}" >/dev/null &
    local wrk_job=$!
    sleep 1
    perf record -e cpu-clock -F 999 -g -p "$NODE_PID" -o "$perf_data" -- sleep "$PROFILE_SECONDS" \
        >"$BENCH_OUT/$BENCH_NODE-perf-record.log" 2>&1 || die "perf record failed: $(tail -n 5 "$BENCH_OUT/$BENCH_NODE-perf-record.log")"
    wait "$wrk_job" || true
    perf report -i "$perf_data" --no-children -g none --sort dso,sym --stdio -F overhead,dso,sym \
        --field-separator=$'\t' >"$BENCH_OUT/$BENCH_NODE-perf-report.raw" 2>/dev/null || die "perf report failed"
    grep -v '^#' "$BENCH_OUT/$BENCH_NODE-perf-report.raw" | awk -F'\t' 'NF >= 3' | sort -t$'\t' -k1,1 -gr \
        >"$BENCH_OUT/$BENCH_NODE-perf-report.tsv" || true
    {
        echo
        echo "**$(node_label)**, \`$name\`: the node's CPU by component (perf, ${PROFILE_SECONDS} s, self time):"
        echo
        echo "| component | share of the node's CPU samples |"
        echo "|---|---:|"
        profile_perf_components "$BENCH_OUT/$BENCH_NODE-perf-report.tsv"
        echo
        echo "Top $PROFILE_TOP symbols by self time:"
        echo
        echo "| self | where | symbol |"
        echo "|---:|---|---|"
        # (No `| head`: with pipefail its early exit would fail the script by SIGPIPE.)
        awk -F'\t' -v top="$PROFILE_TOP" '{
            sym = substr($3, 1, 140); gsub(/\|/, "\\|", sym); n = split($2, d, "/")
            printf "| %s | %s | %s |\n", $1, d[n], sym
            if (++shown >= top) exit }' "$BENCH_OUT/$BENCH_NODE-perf-report.tsv"
    } >"$BENCH_OUT/$BENCH_NODE-perf.md"
    webhook_receiver_stop
}

# profile_main [fresh|replay|guest|livechat]
profile_main() {
    PROFILE_SCENARIO=${1:-fresh}
    case $PROFILE_SCENARIO in fresh | fresh-webhook | replay | guest | livechat) ;; *) die "profile: unknown scenario '$PROFILE_SCENARIO' (fresh, fresh-webhook, replay, guest, livechat)" ;; esac
    command -v perf >/dev/null || apt_install linux-perf
    if [[ $PROFILE_SCENARIO == fresh-webhook ]]; then command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx; fi
    ensure_bench_tools
    bench_init "profile-$PROFILE_SCENARIO"
    BENCH_CLEANUP_HOOKS+=(webhook_receiver_stop)
    build_bench_nodes
    for_each_node profile_on_node

    print_report
    local node
    for node in $(bench_nodes); do
        cat "$BENCH_OUT/$node-statements.md" "$BENCH_OUT/$node-perf.md" 2>/dev/null || true
    done
}
