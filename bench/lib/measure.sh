# shellcheck shell=bash
# Measuring the processes under test while a load runs: each node's peak RSS (a sampler in
# the background), and CPU time, read from /proc, of the node(s), PostgreSQL, nginx, the load
# generator and the whole machine before and after a measured run (cpu_snapshot, cpu_delta),
# with the table of where the CPU went per request (cpu_breakdown). The PIDs come from the
# cluster that is up (bench/lib/nodes.sh).

RSS_SAMPLER_PID=""
CPU_SNAPSHOT=""              # the last cpu_snapshot

# ---------------------------------------------------------------------------------------
# Memory

proc_status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# Samples VmRSS of every PID every 0.5 s (one loop for all of them, no fork per reading) into
# PREFIX.1, PREFIX.2, ... (each one's peak so far, in kB, in the order given) until stopped.
start_rss_samplers() {
    local prefix=$1 i
    shift
    for i in $(seq $#); do echo 0 >"$prefix.$i"; done
    (
        set +e
        pids=("$@")
        peaks=()
        while true; do
            alive=0
            for i in "${!pids[@]}"; do
                [[ -r /proc/${pids[$i]}/status ]] || continue
                alive=1
                while read -r key value _; do
                    if [[ $key == VmRSS: ]]; then
                        if ((value > ${peaks[$i]:-0})); then
                            peaks[i]=$value
                            echo "$value" >"$prefix.$((i + 1))"
                        fi
                        break
                    fi
                done <"/proc/${pids[$i]}/status"
            done
            ((alive)) || break
            sleep 0.5
        done
    ) &
    RSS_SAMPLER_PID=$!
}

# The pids run_scenario watches: every node of the cluster that is up.
bench_node_pids() { echo "${BENCH_NODE_PIDS[*]}"; }

stop_rss_sampler() {
    [[ -n $RSS_SAMPLER_PID ]] || return 0
    kill "$RSS_SAMPLER_PID" 2>/dev/null || true
    wait "$RSS_SAMPLER_PID" 2>/dev/null || true   # it dies of the TERM: not a failure
    RSS_SAMPLER_PID=""
    return 0
}

kb_to_mb() { awk -v kb="${1:-0}" 'BEGIN { printf "%.0f", kb / 1024 }'; }

# ---------------------------------------------------------------------------------------
# The server's own view of its latency

# request_duration_p99 BEFORE AFTER: from two snapshots of a node's /metrics (OpenTelemetry's
# Prometheus exporter), the requests it served in between, ASP.NET Core's own
# http.server.request.duration summed over every route but /metrics and /health, as
# "requests=N p99_le_ms=B over100ms=K": B the bound of the histogram bucket holding the 99th
# percentile (the buckets are coarse: 5, 10, 25, 50, 75, 100, 250, 500 ms ...), K the requests
# slower than 100 ms. Beside the client's p99, it tells a delay inside the node from one outside
# it (the load generator starved of CPU, the kernel's queues).
request_duration_p99() {
    awk '
        /^http_server_request_duration_seconds_(bucket|count)\{/ && !/http_route="\/(metrics|health)/ {
            le = "count"; if (match($0, /le="[^"]*"/)) le = substr($0, RSTART + 4, RLENGTH - 5)
            v[le] += (FILENAME == ARGV[1] ? -$NF : $NF)
        }
        END {
            count = v["count"]; n = 0
            for (le in v) if (le != "count" && le != "+Inf") bounds[++n] = le + 0
            for (i = 2; i <= n; i++) for (j = i; j > 1 && bounds[j - 1] > bounds[j]; j--) { t = bounds[j]; bounds[j] = bounds[j - 1]; bounds[j - 1] = t }
            p99 = "-"
            for (i = 1; i <= n && count > 0; i++) if (v[bounds[i] ""] >= count * 0.99) { p99 = bounds[i] * 1000; break }
            if (count > 0 && p99 == "-") p99 = ">" bounds[n] * 1000
            printf "requests=%d p99_le_ms=%s over100ms=%d\n", count, p99, count - v["0.1"]
        }' "$1" "$2"
}

# pss_kb_of_tree PID: the PSS of PID and its live children, in kB (smaps_rollup): PostgreSQL's
# shared buffers shared out between its processes instead of counted once per process.
pss_kb_of_tree() {
    local root=$1 pid total=0 pss
    for pid in "$root" $(pgrep -P "$root" 2>/dev/null || true); do
        pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${pss:-0}))
    done
    echo "$total"
}

# ---------------------------------------------------------------------------------------
# CPU time
#
# Clock ticks (1/CLK_TCK s) of user + system time, read from /proc. A process's
# /proc/<pid>/stat covers all its threads (those that already exited too), so one read per
# process is enough for a multi-threaded node.

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# proc_stat_ticks PID [with-children]: utime+stime of PID (0 if it is gone); with a second
# argument also cutime+cstime, the time of the children it has waited for.
proc_stat_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    # The command name (field 2) may hold spaces and parentheses: fields are counted after
    # its closing parenthesis, where f[0] is field 3 (state), so field n is f[n-3].
    local f
    read -ra f <<<"${stat##*) }"
    if (($# > 1)); then echo $((f[11] + f[12] + f[13] + f[14])); else echo $((f[11] + f[12])); fi
}

# cpu_ticks_of_pids PID...: the CPU ticks used so far by these processes, summed.
cpu_ticks_of_pids() {
    local pid total=0
    for pid in "$@"; do total=$((total + $(proc_stat_ticks "$pid"))); done
    echo "$total"
}

# cpu_ticks_of_tree PID: PID (with the children it has reaped) plus its live children. For a
# server that forks a process per connection (PostgreSQL) the difference of two readings is
# what the server used in between, including children that exited in between. A child reaped
# between reading PID's reaped-children time and reading the children would be counted in
# neither (a pool closing idle connections made PostgreSQL's CPU of a run read below zero), so
# the reading is taken again, up to 5 times, until that time did not change meanwhile.
cpu_ticks_of_tree() {
    local root=$1 children before after total _
    for _ in 1 2 3 4 5; do
        before=$(proc_stat_ticks "$root" with-children)
        children=$(pgrep -P "$root" 2>/dev/null | tr '\n' ' ' || true)
        # shellcheck disable=SC2086 # one word per pid
        total=$((before + $(cpu_ticks_of_pids $children)))
        after=$(proc_stat_ticks "$root" with-children)
        ((after != before)) || break
    done
    echo "$total"
}

# cpu_ticks_postgres: the throwaway PostgreSQL's postmaster and its processes (backends,
# WAL writer, checkpointer, autovacuum...). Only this server: other PostgreSQL servers of the
# postgres OS user (tests running beside the benchmark) are not counted.
cpu_ticks_postgres() {
    if [[ -z $BENCH_PG_PID ]]; then echo 0; return 0; fi
    cpu_ticks_of_tree "$BENCH_PG_PID"
}

# cpu_ticks_machine: "busy=N irq=N steal=N all=N", from /proc/stat's all-CPU line: the ticks
# spent busy (user, nice, system, irq, softirq, steal), of which in interrupts and softirqs
# (where the kernel's loopback networking runs; with IRQ time accounting this time is not
# charged to any process) and stolen by the hypervisor, and in all (plus idle and iowait).
cpu_ticks_machine() {
    awk '$1 == "cpu" {
        busy = $2 + $3 + $4 + $7 + $8 + $9
        print "busy=" busy " irq=" $7 + $8 " steal=" $9 " all=" busy + $5 + $6
        exit }' /proc/stat
}

# cpu_snapshot: the ticks used so far by the node(s), the PostgreSQL server, the balancer, this shell's
# waited-for children (wrk, once it has exited) and the machine, as
# "cpu node=N postgres=N wrk=N nginx=N busy=N irq=N steal=N all=N" in CPU_SNAPSHOT (node: all of
# bench_node_pids; nginx: BENCH_NGINX_PID's tree, 0 without one). Run it in the
# current shell, not in $(...): `times` in a subshell sees only that subshell's children.
cpu_snapshot() {
    local times_file=$BENCH_TMP/times
    times >"$times_file"
    local children
    # Second line of `times`: children's user and system time, as 0m1.234s 0m0.567s.
    children=$(awk -v hz="$CLK_TCK" 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/)
        printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz + 0.5 }' "$times_file")
    local nginx=0
    # nginx's workers are the master's children: the tree counts them.
    [[ -n $BENCH_NGINX_PID ]] && nginx=$(cpu_ticks_of_tree "$BENCH_NGINX_PID")
    # shellcheck disable=SC2046,SC2034 # one word per pid; read by run_scenario and the hub scenario
    CPU_SNAPSHOT="cpu node=$(cpu_ticks_of_pids $(bench_node_pids)) postgres=$(cpu_ticks_postgres) wrk=$children nginx=$nginx $(cpu_ticks_machine)"
}

# cpu_delta BEFORE AFTER: AFTER - BEFORE for each key of two snapshots.
cpu_delta() {
    awk -v before="$1" -v after="$2" 'BEGIN {
        n = split(before, b, " "); split(after, a, " ")
        line = "cpu"
        for (i = 2; i <= n; i++) {
            split(b[i], kb, "="); split(a[i], ka, "=")
            line = line " " kb[1] "=" (ka[2] - kb[2])
        }
        print line }'
}

# cpu_field NAME KEY: ticks KEY (node, postgres, wrk, nginx, busy, irq, steal, all) used during
# scenario NAME's measured run.
cpu_field() { result_field "${BENCH_CPU[$BENCH_NODE/$1]:-}" "$2"; }

# cpu_breakdown NAME: a markdown table of where the CPU went during scenario NAME's measured
# run, per request. "other processes" is the busy time none of the rows above it account for:
# whatever else ran on the machine (a quiet machine shows a few per cent at most). The window
# runs from just before wrk starts to just after it exits, a little longer than wrk's own
# measured duration (start-up, connecting): the capacity row counts that idle margin too.
# Per-process times are exact, /proc/stat's busy time is sampled at each timer tick (and a
# VM's ticks can be late), so on a quiet machine "other processes" may read a few per cent
# below zero: the machine rows are estimates to that precision.
cpu_breakdown() {
    local name=$1
    has_result "$name" && [[ -n ${BENCH_CPU[$BENCH_NODE/$name]:-} ]] || return 0
    awk -v hz="$CLK_TCK" -v cpus="$(nproc)" -v requests="$(scenario_field "$name" requests)" \
        -v node="$(cpu_field "$name" node)" -v pg="$(cpu_field "$name" postgres)" \
        -v wrk="$(cpu_field "$name" wrk)" -v nginx="$(cpu_field "$name" nginx)" -v busy="$(cpu_field "$name" busy)" \
        -v irq="$(cpu_field "$name" irq)" -v steal="$(cpu_field "$name" steal)" \
        -v all="$(cpu_field "$name" all)" -v rps="$(scenario_field "$name" rps)" -v name="$name" \
        -v nodes="$(wc -w <<<"$(bench_node_pids)")" 'BEGIN {
        seconds = all / cpus / hz
        printf "CPU during the measured run of `%s` (%d requests in %.1f s; %d CPUs, %.0f %% busy), from /proc/<pid>/stat and /proc/stat:\n\n",
            name, requests, seconds, cpus, busy / all * 100
        print "| where | CPU s | CPU µs per request | share of busy |"
        print "|---|---:|---:|---:|"
        row(nodes > 1 ? "nodes (all threads of all " nodes ")" : "node (all threads)", node)
        row("PostgreSQL (postmaster, backends, WAL writer...)", pg)
        if (nginx > 0) row("nginx (master + worker)", nginx)
        row("wrk", wrk)
        row("kernel irq + softirq (loopback networking)", irq)
        if (steal > 0) row("stolen by the hypervisor", steal)
        row("other processes", busy - node - pg - nginx - wrk - irq - steal)
        row("machine busy", busy)
        printf "| machine capacity (%d CPUs × %.1f s) | %.2f | %.0f | |\n", cpus, seconds, all / hz, all / hz * 1e6 / requests
        stack = node + pg + nginx + irq
        printf "\n%s + PostgreSQL%s + kernel networking: %.0f µs of CPU per request, so %d CPUs doing nothing else would serve at most %.0f requests/s (measured %.0f).\n",
            (nodes > 1 ? "nodes" : "node"), (nginx > 0 ? " + nginx" : ""), stack / hz * 1e6 / requests, cpus, cpus * hz * requests / stack, rps
    }
    function row(label, ticks) {
        printf "| %s | %.2f | %.0f | %.0f %% |\n", label, ticks / hz, ticks / hz * 1e6 / requests, ticks / busy * 100
    }'
}

