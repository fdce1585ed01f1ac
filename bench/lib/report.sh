# shellcheck shell=bash
# The report every scenario prints: markdown for bench/RESULTS.md. The command line that
# reproduces the run, the machine and the builds, wrk's settings, the results table (one row
# per scenario and node), the comparison against a baseline and the CPU per request.

# The command the report names (bench/run.sh sets it to its own command line).
BENCH_COMMAND=${BENCH_COMMAND:-bench/run.sh}
# Targets against the baseline (comparison_report), per scenario; set by the benchmark.
declare -gA TARGET_RATIO=()  # scenario -> minimum requests/s of the current node ÷ the baseline's
declare -gA TARGET_P99=()    # scenario -> maximum p99 ms of the current node
declare -gA TARGET_RSS=()    # scenario -> maximum peak RSS MB of the current node
# How a BENCH_BASELINE node ran beside the current one, for the machine lines (for_each_node's
# way unless a scenario runs it otherwise).
BENCH_BASELINE_SETUP="each node on its own fresh PostgreSQL server (same settings), baseline first"

# print_command_line: "command: `…`", the settings given in the environment and the command.
print_command_line() { echo "command: \`${SETTINGS_GIVEN}${BENCH_COMMAND}\`"; }

print_machine() {
    local cpu mem_mb
    cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
    mem_mb=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), ${mem_mb} MB RAM, Linux $(uname -r)"
    echo "- .NET SDK $(dotnet --version), $("$PG_BIN/postgres" --version)$([[ $BENCH_PG_FAST == 1 ]] && echo ', synchronous_commit=off' || echo ', durable commits (fsync, synchronous_commit on)')"
    local node
    for node in $(bench_nodes); do
        [[ -n ${NODE_REVS[$node]:-} ]] || continue
        echo "- $node node: \`$(git -C "$BENCH_ROOT" log -1 --format='%h %ad %s' --date=short "${NODE_REVS[$node]}" | cut -c1-110)\`${NODE_DIRTY[$node]:+ (+ uncommitted changes outside bench/)}"
    done
    if [[ -n $BENCH_BASELINE ]]; then
        echo "- $BENCH_BASELINE_SETUP"
    fi
    if [[ -n $BENCH_CONN_EXTRA ]]; then echo "- appended to the nodes' connection string: \`$BENCH_CONN_EXTRA\`"; fi
    if [[ -n $BENCH_CURRENT_CONN_EXTRA ]]; then
        echo "- appended to the current node's connection string only: \`$BENCH_CURRENT_CONN_EXTRA\`"
    fi
    if [[ -n $BENCH_CURRENT_ENV ]]; then echo "- in the current node's environment only: \`$BENCH_CURRENT_ENV\`"; fi
    return 0
}

# print_wrk_settings: the load generator's settings line.
print_wrk_settings() {
    echo "- wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'): ${BENCH_THREADS} threads, ${BENCH_CONNECTIONS} connections, ${BENCH_WARMUP} s warm-up + ${BENCH_DURATION} s measured per scenario, node and PostgreSQL on the same machine (loopback)"
}

# cpu_per_request_table: CPU per request of every measured scenario on every node (see cpu_breakdown),
# and the throughput those costs allow on this machine's CPUs.
cpu_per_request_table() {
    echo "| scenario | node | requests | node µs | PostgreSQL µs | wrk µs | kernel irq/softirq µs | other µs | machine busy µs | busy % | ceiling requests/s ¹ |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local name node saved=$BENCH_NODE
    for name in "${BENCH_SCENARIOS[@]}"; do
        for node in $(bench_nodes); do
            BENCH_NODE=$node
            has_result "$name" || continue
            awk -v hz="$CLK_TCK" -v cpus="$(nproc)" -v requests="$(scenario_field "$name" requests)" \
                -v name="$name" -v label="$(node_label)" \
                -v node="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
                -v nginx="$(cpu_field "$name" nginx)" -v wrk="$(cpu_field "$name" wrk)" \
                -v irq="$(cpu_field "$name" irq)" -v busy="$(cpu_field "$name" busy)" \
                -v all="$(cpu_field "$name" all)" 'BEGIN {
                us = 1e6 / hz / requests
                stack = node + pg + nginx + irq
                printf "| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% | %.0f |\n", name, label, requests,
                    node * us, pg * us, wrk * us, irq * us, (busy - node - pg - nginx - wrk - irq) * us, busy * us,
                    busy / all * 100, (stack > 0 ? cpus * hz * requests / stack : 0)
            }'
        done
    done
    BENCH_NODE=$saved
    echo
    echo "¹ $(nproc) CPUs ÷ (node + PostgreSQL + kernel networking CPU per request): what the machine could serve if nothing else (wrk) ran on it. /proc/<pid>/stat and /proc/stat over the measured window; \"other\" = busy time no listed process accounts for (other processes on the machine; a few per cent below zero when the kernel charges loopback softirq time to the running process too)."
}

# comparison_report: per scenario, the baseline's and the current node's figures, the ratio
# of their throughputs and the verdict against TARGET_RATIO / TARGET_P99 / TARGET_RSS.
comparison_report() {
    [[ -n $BENCH_BASELINE ]] || return 0
    echo "| scenario | baseline requests/s | current requests/s | ratio | p50 ms (baseline → current) | p99 ms (baseline → current) | non-2xx + socket errors (baseline / current) | peak RSS MB (baseline / current) | target | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    local name saved=$BENCH_NODE b c b_rss c_rss
    for name in "${BENCH_SCENARIOS[@]}"; do
        BENCH_NODE=baseline
        b=$(scenario_result "$name")
        b_rss=$(scenario_rss "$name")
        BENCH_NODE=current
        c=$(scenario_result "$name")
        c_rss=$(scenario_rss "$name")
        [[ -n $b && -n $c ]] || continue
        awk -v name="$name" -v b="$b" -v c="$c" -v b_rss="${b_rss%% *}" -v c_rss="${c_rss%% *}" \
            -v t_ratio="${TARGET_RATIO[$name]:-}" -v t_p99="${TARGET_P99[$name]:-}" -v t_rss="${TARGET_RSS[$name]:-}" '
            function parse(line, out,    n, kv, i, p) {
                n = split(line, kv, " ")
                for (i = 2; i <= n; i++) { split(kv[i], p, "="); out[p[1]] = p[2] }
                out["errors"] = out["non2xx"] + out["connect"] + out["read"] + out["write"] + out["timeout"]
            }
            BEGIN {
                parse(b, B); parse(c, C)
                ratio = C["rps"] / B["rps"]
                target = ""; missed = ""
                if (t_ratio != "") { target = target "≥ " t_ratio "×"; if (ratio < t_ratio) missed = missed " throughput" }
                if (t_p99 != "") { target = target ", p99 ≤ " t_p99 " ms"; if (C["p99_ms"] > t_p99 + 0) missed = missed " p99" }
                if (t_rss != "") { target = target ", RSS ≤ " t_rss " MB"; if (c_rss > t_rss + 0) missed = missed " RSS" }
                target = target (target == "" ? "" : ", ") "0 non-2xx"
                if (C["errors"] > 0) missed = missed " errors"
                verdict = missed == "" ? "met" : "**missed**:" missed
                printf "| %s | %.0f | %.0f | **%.2f×** | %.2f → %.2f | %.2f → %.2f | %d / %d | %s / %s | %s | %s |\n",
                    name, B["rps"], C["rps"], ratio, B["p50_ms"], C["p50_ms"], B["p99_ms"], C["p99_ms"],
                    B["errors"], C["errors"], b_rss, c_rss, target, verdict
            }'
    done
    BENCH_NODE=$saved
}

# print_report: the results as markdown, ready for bench/RESULTS.md.
print_report() {
    echo
    print_command_line
    echo
    print_machine
    print_wrk_settings
    echo
    echo "| scenario | node | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MB | VmHWM MB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${BENCH_ROWS[@]}"
    if [[ -n $BENCH_BASELINE ]]; then
        echo
        echo "Current node vs baseline (same run):"
        echo
        comparison_report
    fi
    echo
    echo "CPU per request during each measured run:"
    echo
    cpu_per_request_table
    # shellcheck disable=SC2153 # BENCH_NOTES: bench/lib/wrk.sh
    if ((${#BENCH_NOTES[@]})); then
        echo
        printf '%s\n' "${BENCH_NOTES[@]}"
    fi
    echo
    echo "raw wrk outputs and node logs: ${BENCH_OUT#"$BENCH_ROOT"/}/"
}
