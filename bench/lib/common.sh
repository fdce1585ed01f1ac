# shellcheck shell=bash
# What every benchmark shares before it measures anything: its settings (environment, with
# defaults), the settings the caller gave (for the report's command line), the tools it needs,
# its run folders and the cleanup at exit. Sourced by bench/run.sh, first of bench/lib/.
#
# Settings (environment):
#   BENCH_DURATION     measured seconds per scenario        (default 15)
#   BENCH_WARMUP       warm-up seconds per scenario         (default 15)
#   BENCH_THREADS      wrk threads                          (default 2)
#   BENCH_CONNECTIONS  wrk connections                      (default 32)
#   BENCH_PG_FAST=1    PostgreSQL with synchronous_commit=off (not durable; default: durable)
#   BENCH_PG_STATEMENTS=1  PostgreSQL with pg_stat_statements (track = all); the profile scenario
#   BENCH_BASELINE     a git revision (e.g. e880b08) to measure beside the working tree, on a
#                      single-node scenario (see bench/lib/nodes.sh)
#   BENCH_CONN_EXTRA   Npgsql settings appended to every node's connection string,
#                      e.g. "No Reset On Close=true" (default: none)
#   BENCH_CURRENT_CONN_EXTRA  the same, for the current (working tree's) node only: with
#                      BENCH_BASELINE=HEAD an A/B of a connection setting in one run
#   BENCH_CURRENT_ENV  "VAR=value ..." in the current node's environment only (e.g.
#                      DOTNET_gcServer=0): with BENCH_BASELINE=HEAD an A/B of a runtime setting
#   BENCH_MAX_OTHER_PCT  on a shared machine: measure a scenario again (up to BENCH_ATTEMPTS
#                      times, 3, after BENCH_RETRY_PAUSE s, 30) when processes other than the
#                      node(s), PostgreSQL, nginx and wrk took more than this share (%) of the
#                      machine's busy CPU during the measured run (default 0: never)

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# log, die, new_uuid, apt_install, pg_bin_dir, free_port, pid_alive...: shared with deploy/cluster.sh.
LOG_TAG=bench
# shellcheck source=deploy/lib.sh
source "$BENCH_ROOT/deploy/lib.sh"

# The settings given in the environment, read before any default applies, so the report's
# command line reproduces the run: the benchmarks' own (BENCH_*, HUB_*, SOAK_*, CLUSTER_*,
# PROFILE_*, VS_*, ROUNDS, SWITCH_OFF_SECONDS) and what reaches the nodes through the environment
# (DOTNET_* runtime settings, ASP.NET `Section__Key` settings). Values with spaces are quoted,
# so the line can be pasted back into a shell.
# shellcheck disable=SC2034 # read by bench/lib/report.sh
SETTINGS_GIVEN=$(env | grep -E '^(BENCH|HUB|SOAK|CLUSTER|PROFILE|VS)_[A-Z0-9_]+=|^(ROUNDS|SWITCH_OFF_SECONDS)=|^DOTNET_[A-Za-z0-9_]+=|^[A-Za-z]+__[A-Za-z0-9_]+=' |
    grep -vE '^DOTNET_(CLI_|NOLOGO|GENERATE_ASPNET_CERTIFICATE|ROOT|SKIP_FIRST_TIME)' |
    sed "s/^\([^=]*\)=\(.* .*\)$/\1='\2'/" | sort | tr '\n' ' ' || true)

# apply_defaults NAME=VALUE...: each NAME keeps the value the environment gave it, or gets VALUE.
# It asks the environment, not the shell variable (defaults are not exported), so a scenario
# may give one of the settings below a default of its own (hub: 30 s measured).
apply_defaults() {
    local pair name
    for pair in "$@"; do
        name=${pair%%=*}
        if [[ -z $(printenv "$name") ]]; then printf -v "$name" '%s' "${pair#*=}"; fi
    done
}

apply_defaults BENCH_DURATION=15 BENCH_WARMUP=15 BENCH_THREADS=2 BENCH_CONNECTIONS=32 \
    BENCH_PG_FAST=0 BENCH_PG_STATEMENTS=0 BENCH_BASELINE= BENCH_CONN_EXTRA= \
    BENCH_CURRENT_CONN_EXTRA= BENCH_CURRENT_ENV= BENCH_MAX_OTHER_PCT=0 BENCH_ATTEMPTS=3 \
    BENCH_RETRY_PAUSE=30

BENCH_TMP=""          # mktemp -d: the clusters' state folders, the baseline's worktree; deleted on exit
BENCH_OUT=""          # bench/out/<name>-<timestamp>: raw outputs and logs; kept
PG_BIN=""             # /usr/lib/postgresql/<highest>/bin: psql, and the version in the report
# Functions bench_cleanup calls first, e.g. to stop a load generator a scenario started.
BENCH_CLEANUP_HOOKS=()
BENCH_FAILED=0        # set (mark_failed) when a scenario saw non-2xx responses, socket errors or missing records

# ensure_bench_tools: what the benchmarks run themselves (deploy/cluster.sh installs what it
# needs for PostgreSQL, the nodes and nginx).
ensure_bench_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v curl >/dev/null || missing+=(curl)
    [[ -n $(pg_bin_dir) ]] || missing+=(postgresql)
    if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
    PG_BIN=$(pg_bin_dir)
    [[ -n $PG_BIN ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    command -v dotnet >/dev/null || die "dotnet is not on PATH"
}

# bench_init NAME: makes the temp and output folders and installs the cleanup trap.
bench_init() {
    local name=$1
    BENCH_TMP=$(mktemp -d -t "chatgrains-bench.XXXXXX")
    # mktemp -d is mode 700; the postgres OS user must traverse it to reach its data folder.
    chmod 755 "$BENCH_TMP"
    BENCH_OUT=$BENCH_ROOT/bench/out/$name-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$BENCH_OUT"
    trap bench_cleanup EXIT
    # Turn signals into a normal exit so the EXIT trap cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# bench_cleanup: the EXIT trap. The load generators go first, so that they do not hit nodes
# that are stopping; then the nodes, PostgreSQL and nginx (deploy/cluster.sh down).
bench_cleanup() {
    local rc=$? hook
    set +e
    ((rc == 0)) || log "exiting with status $rc"
    if [[ -n $WRK_PID ]]; then kill "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; fi
    for hook in "${BENCH_CLEANUP_HOOKS[@]}"; do "$hook"; done
    stop_rss_sampler
    nodes_down
    remove_baseline_tree
    if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then rm -rf "$BENCH_TMP"; fi
    exit "$rc"
}

# mark_failed: the run fails (after its report): requests failed or records are missing.
mark_failed() { BENCH_FAILED=1; }

# exit_if_failed WHAT: after the report, exit 1 when BENCH_FAILED is set, saying what to look at.
exit_if_failed() {
    ((BENCH_FAILED)) || return 0
    log "$1 (see the report and $BENCH_OUT)"
    exit 1
}
