# shellcheck shell=bash
# POST /livechat/session (spec 001, Indonesian): one Release node on a throwaway, durable
# PostgreSQL, driven by wrk over loopback. No auth.
#
#   bench/run.sh livechat
#
#   sessions  every request posts the spec's {"name": "Budi", "city": "Solo", "country":
#             "Indonesia"} and gets 201: a new session with its guest user (before Orleans:
#             a guest user, session and outbox event in one statement; on Orleans: a new
#             session grain, its record and its stream event) and a visitor token signed
#             RS256 with a 2048-bit key
#
# Under the table it prints what bounds the endpoint: the CPU cost of one RS256 signature on
# this machine (`openssl speed rsa2048`, one core), and the CPU the node, PostgreSQL, wrk and
# the rest of the machine used per request during the measured run (/proc), then the records
# written against the 201 responses, and the issue's targets.
#
# With BENCH_BASELINE=<git revision> (e.g. e880b08) the scenario runs on that revision's node
# first, then on the working tree's, each on a fresh PostgreSQL; the report gives the ratio
# and checks issue 9's target (≥ 0.8× the baseline, no errors).
# Exits 1 after the report if any request failed or the rows written do not match.

LIVECHAT_SCRIPT=$BENCH_ROOT/bench/lua/livechat.lua
LIVECHAT_ENDPOINT=/livechat/session
LIVECHAT_BODY='{"name": "Budi", "city": "Solo", "country": "Indonesia"}'

# From the issue: this 2-core machine should sustain LIVECHAT_TARGET_RPS sessions/s with p99 at
# most LIVECHAT_TARGET_P99_MS; the spec's own SLO is LIVECHAT_SLO_RPS requests/s under LIVECHAT_SLO_MS.
LIVECHAT_TARGET_RPS=1200
LIVECHAT_TARGET_P99_MS=50
LIVECHAT_SLO_RPS=100
LIVECHAT_SLO_MS=200

LIVECHAT_SIGN_PER_S=""   # RSA-2048 signatures per second on one core (openssl speed)

# Issue 9's target for the Orleans node against the pre-Orleans one (comparison_report).
TARGET_RATIO+=([sessions]=0.8)

# How fast this machine signs RS256 (RSA-2048, PKCS#1 v1.5, SHA-256) on one core. .NET signs
# through the same OpenSSL library, so this is the signature's CPU cost in the node.
livechat_measure_rsa_sign() {
    log "openssl speed -seconds 5 rsa2048 (one core, ~10 s)"
    openssl speed -seconds 5 rsa2048 >"$BENCH_OUT/openssl-speed.txt" 2>&1 ||
        die "openssl speed failed: $(tail -n 5 "$BENCH_OUT/openssl-speed.txt")"
    # The last line: "rsa 2048 bits 0.000269s 0.000019s   3714.6  52875.5" (sign/s verify/s).
    LIVECHAT_SIGN_PER_S=$(awk '/^rsa +2048 bits/ { print $(NF - 1) }' "$BENCH_OUT/openssl-speed.txt" | tail -n 1)
    [[ $LIVECHAT_SIGN_PER_S =~ ^[0-9.]+$ ]] || die "no sign/s in openssl speed's output ($BENCH_OUT/openssl-speed.txt)"
}

# base64url_json PART: decodes one part of a JWT.
base64url_json() {
    local part=${1//-/+}
    part=${part//_//}
    while ((${#part} % 4)); do part+="="; done
    base64 -d <<<"$part" 2>/dev/null
}

# One request with curl before wrk, so a wrong setup fails fast with the response in hand:
# 201 with an RS256 sessionToken, the cookies, and no rate-limit headers (limiter off).
livechat_smoke_check() {
    # shellcheck disable=SC2153 # BENCH_NODE: bench/lib/nodes.sh
    local status headers=$BENCH_OUT/$BENCH_NODE-smoke.headers body=$BENCH_OUT/$BENCH_NODE-smoke.json
    status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -X POST \
        -H "Content-Type: application/json" --data-binary "$LIVECHAT_BODY" "$NODE_URL$LIVECHAT_ENDPOINT")
    [[ $status == 201 ]] || die "smoke: a new session answered $status: $(head -c 600 "$body")"
    local token header
    token=$(sed -n 's/.*"sessionToken" *: *"\([^"]*\)".*/\1/p' "$body")
    [[ -n $token ]] || die "smoke: no sessionToken in $(head -c 600 "$body")"
    header=$(base64url_json "${token%%.*}")
    [[ $header == *'"alg":"RS256"'* ]] || die "smoke: the token is not RS256: $header"
    grep -qi '^Set-Cookie: livechat_name=Budi' "$headers" || die "smoke: no livechat_name cookie"
    if grep -qi '^RateLimit-Policy:' "$headers"; then die "smoke: the rate limiter is on although it was disabled"; fi
}

# Every 201 must have written one session record: on Orleans the session grain's row in
# orleansstorage (it holds the guest user; the LiveChatSessionStarted event is a stream
# event, not in the database); before Orleans a guest user, a session and an outbox event
# (all three are counted). Requests still in flight when wrk stops are answered to nobody
# but still write, so each wrk run may leave up to BENCH_CONNECTIONS records more than the
# 201s it counted. Adds a note (and sets BENCH_FAILED on a mismatch), so it runs in the
# current shell.
livechat_check_rows() {
    local ok runs sessions counts=() what
    read -r ok runs <<<"$(scenario_answered sessions)"
    ok=$((ok + 1))   # the smoke check's session
    sessions=$(grain_records liveChatSession)
    counts=("$sessions")
    what="$sessions live-chat session records"
    if [[ $(bench_psql "SELECT to_regclass('outbox') IS NOT NULL") == t ]]; then
        local users events
        users=$(bench_psql "SELECT count(*) FROM guest_users")
        events=$(bench_psql "SELECT count(*) FROM outbox WHERE kind = 'LiveChatSessionStarted'")
        counts+=("$users" "$events")
        what="$users guest_users, $sessions livechat_sessions, $events LiveChatSessionStarted outbox events"
    fi
    local slack=$((runs * BENCH_CONNECTIONS)) verdict=ok n
    for n in "${counts[@]}"; do
        if ((n < ok || n > ok + slack || n != sessions)); then verdict="MISMATCH"; mark_failed; fi
    done
    BENCH_NOTES+=("- $(node_label): records written: $what for $ok answered 201s (the smoke check + $runs wrk runs; up to $slack more were in flight when wrk stopped): $verdict")
}

# The signature's share of the cost, from openssl's rate and the measured CPU per request.
livechat_signing_note() {
    awk -v sign_per_s="$LIVECHAT_SIGN_PER_S" -v hz="$CLK_TCK" -v cpus="$(nproc)" \
        -v requests="$(scenario_field sessions requests)" -v rps="$(scenario_field sessions rps)" \
        -v node="$(cpu_field sessions node)" -v busy="$(cpu_field sessions busy)" \
        -v openssl="$(openssl version | awk '{ print $1 " " $2 }')" 'BEGIN {
        sign_us = 1e6 / sign_per_s
        node_us = node / hz * 1e6 / requests
        busy_us = busy / hz * 1e6 / requests
        printf "RS256 signing: `openssl speed -seconds 5 rsa2048` (%s, one core): %.0f sign/s, i.e. %.0f µs of CPU per signature; " \
               "signing alone would cap %d CPUs at %.0f sessions/s. Per request it is %.0f %% of the node'\''s CPU (%.0f µs) " \
               "and %.0f %% of the machine'\''s busy time (%.0f µs); at the measured %.0f sessions/s signing takes %.2f of %d CPUs.\n",
            openssl, sign_per_s, sign_us, cpus, cpus * sign_per_s, sign_us / node_us * 100, node_us,
            sign_us / busy_us * 100, busy_us, rps, rps * sign_us / 1e6, cpus
    }'
}

livechat_targets_note() {
    awk -v rps="$(scenario_field sessions rps)" -v p99="$(scenario_field sessions p99_ms)" \
        -v t_rps="$LIVECHAT_TARGET_RPS" -v t_p99="$LIVECHAT_TARGET_P99_MS" -v slo_rps="$LIVECHAT_SLO_RPS" -v slo_ms="$LIVECHAT_SLO_MS" 'BEGIN {
        printf "targets: >= %d sessions/s with p99 <= %d ms (absolute target of the live-chat issue, this 2-core machine): %s (%.0f sessions/s, p99 %.2f ms); " \
               "spec SLO %d requests/s answered under %d ms: %s (p99 %.2f ms at %.0f requests/s, full load).\n",
            t_rps, t_p99, (rps >= t_rps && p99 <= t_p99) ? "met" : "NOT met", rps, p99,
            slo_rps, slo_ms, (rps >= slo_rps && p99 < slo_ms) ? "met" : "NOT met", p99, rps
    }'
}

livechat_sessions() {
    livechat_smoke_check
    run_scenario sessions "$LIVECHAT_SCRIPT" "$NODE_URL$LIVECHAT_ENDPOINT" BENCH_SCENARIO=sessions
}

# One node (for_each_node): up on a PostgreSQL of its own, run the scenario, check the
# records and add the notes about this node's run.
livechat_on_node() {
    single_node_up
    livechat_sessions
    BENCH_NOTES+=("" "**$(node_label)**:" "")
    livechat_check_rows
    BENCH_NOTES+=("" "$(livechat_targets_note)" "" "$(livechat_signing_note)" "" "$(cpu_breakdown sessions)")
}

livechat_main() {
    ensure_bench_tools
    bench_init livechat
    build_bench_nodes
    # Before the node and PostgreSQL start, so nothing of ours competes for the core.
    livechat_measure_rsa_sign
    for_each_node livechat_on_node
    print_report
    exit_if_failed "some requests failed or rows are missing: see the table and the notes"
}
