# shellcheck shell=bash
# What webhooks cost the write path (issue 20, item 6): `bench/run.sh webhooks`. One Release node
# on a durable PostgreSQL (deploy/cluster.sh, as chats-fresh) with Webhooks:AllowHttp and
# Webhooks:AllowPrivateNetworks on (the receiver is on loopback), and a receiver on the same
# machine, which takes CPU the node would otherwise have (a subscriber's endpoint runs elsewhere):
#   WEBHOOK_RECEIVER=nginx (default)  nginx answering 204 and logging each delivery's webhook-id
#                                     and when it came: as little CPU as a receiver can take, so
#                                     what the runs measure is the node's cost
#   WEBHOOK_RECEIVER=node             bench/webhooks/receiver.js (Node.js), which also checks every
#                                     delivery's signature (a bad one is counted and answered 401)
# Each measure gets a webhook of its own, subscribed to every type, created just before (so it is
# sent what follows) and deleted after. The event log says what each delivery was (chat,
# chatSeq, occurredAt), by its id.
#
# WEBHOOK_PHASES (default "throughput lag outage") picks the measures, in that order.
#
# 1. Throughput. WEBHOOK_ROUNDS (5) rounds of fresh PUT /v2/chats (bench/lua/chats-fresh.lua,
#    wrk as every scenario: BENCH_WARMUP + BENCH_DURATION) without a webhook and with one, in
#    that order in odd rounds and the other in even ones; after a run with one, the receiver
#    catches up before anything else runs. Target: the median of the rounds' ratios (with ÷
#    without) ≥ WEBHOOK_TARGET_RATIO (0.9).
# 2. Lag. WEBHOOK_LAG_SECONDS (60) of creations paced at WEBHOOK_LAG_RATE (500)/s (common.pace).
#    A delivery's lag is when the receiver got it minus the event's occurredAt (the grain's
#    clock, taken just before the change is stored: a little more than stored → received). p50,
#    p99 and max over each event's first delivery. Target: p99 ≤ WEBHOOK_TARGET_LAG_P99_MS (1000).
# 3. Outage. The receiver is stopped (connection refused) for WEBHOOK_OUTAGE_MINUTES (10) while
#    creations go on paced at WEBHOOK_OUTAGE_RATE (200)/s, interrupted by WEBHOOK_OUTAGE_RUNS (3)
#    measured unpaced runs (as in 1) spread over the outage, and WEBHOOK_ORDERED_CHATS (300)
#    chats created and closed (two events each, so order within a chat is checked). Then the
#    receiver returns: the time to its first delivery (the webhook backs off while nothing gets
#    through, by Webhooks:FirstRetryAfter doubling, as configured by default) and until every
#    event was delivered (at most WEBHOOK_CATCH_UP_SECONDS, 1800). Target: every event delivered,
#    each chat's in chatSeq order, and the runs during the outage ≥ WEBHOOK_TARGET_RATIO × the
#    runs without a webhook just before and just after it (their mean): not phase 1's, because
#    the outage's ~300,000 events and chats make a creation cost PostgreSQL more by its end.
#
# Every webhook's deliveries are checked against the event log (events after the position the
# log had when the webhook was created): none missing, none from before the webhook, none with a
# bad signature, each chat's first deliveries in chatSeq order; duplicates (at least once) are
# counted. Exits 1 after the
# report when a target is missed or a request failed.

apply_defaults WEBHOOK_RECEIVER=nginx WEBHOOK_PHASES="throughput lag outage" WEBHOOK_ROUNDS=5 WEBHOOK_LAG_RATE=500 WEBHOOK_LAG_SECONDS=60 WEBHOOK_OUTAGE_MINUTES=10 \
    WEBHOOK_OUTAGE_RATE=200 WEBHOOK_OUTAGE_RUNS=3 WEBHOOK_ORDERED_CHATS=300 WEBHOOK_CATCH_UP_SECONDS=1800 \
    WEBHOOK_TARGET_RATIO=0.9 WEBHOOK_TARGET_LAG_P99_MS=1000

WEBHOOK_FRESH_SCRIPT=$BENCH_ROOT/bench/lua/chats-fresh.lua
WEBHOOK_TOKEN=""
WEBHOOK_PORT=""
WEBHOOK_PID=""        # the receiver, while it runs
WEBHOOK_ID=""         # the webhook that exists now
WEBHOOK_SECRET=""
WEBHOOK_LOG=""        # its receiver's lines: "<webhook-id> <Unix seconds.millis> [BAD_SIGNATURE]"
WEBHOOK_FROM=0        # the event log's last position when it was created
WEBHOOK_CHECKS=()     # report lines: each webhook's deliveries against the log
WEBHOOK_FAILED=()     # the targets missed

WEBHOOK_STARTS=0
webhook_receiver_start() {
    WEBHOOK_STARTS=$((WEBHOOK_STARTS + 1))
    local out=$BENCH_OUT/receiver-$WEBHOOK_STARTS.out
    case $WEBHOOK_RECEIVER in
        nginx)
            webhook_nginx_conf
            "$(command -v nginx || echo /usr/sbin/nginx)" -c "$BENCH_TMP/receiver/nginx.conf" -g 'daemon off;' >"$out" 2>&1 &
            ;;
        node)
            WEBHOOK_SECRET=$WEBHOOK_SECRET node "$BENCH_ROOT/bench/webhooks/receiver.js" "$WEBHOOK_PORT" "$WEBHOOK_LOG" >"$out" 2>&1 &
            ;;
        *) die "WEBHOOK_RECEIVER must be nginx or node" ;;
    esac
    WEBHOOK_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        # A connection without a request: neither receiver logs it.
        if (exec 3<>"/dev/tcp/127.0.0.1/$WEBHOOK_PORT") 2>/dev/null; then return 0; fi
        kill -0 "$WEBHOOK_PID" 2>/dev/null || die "the webhook receiver exited: $(cat "$out")"
        sleep 0.1
    done
    die "the webhook receiver did not start: $(cat "$out")"
}

# webhook_nginx_conf: nginx answering every request 204 and logging it to WEBHOOK_LOG.
webhook_nginx_conf() {
    local dir=$BENCH_TMP/receiver
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    log_format delivery '\$http_webhook_id \$msec';
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$WEBHOOK_PORT;
        access_log $WEBHOOK_LOG delivery;
        location / { return 204; }
    }
}
EOF
}

webhook_receiver_stop() {
    [[ -n $WEBHOOK_PID ]] || return 0
    # nginx stops gracefully on QUIT; Node.js flushes its file on TERM.
    if [[ $WEBHOOK_RECEIVER == nginx ]]; then kill -QUIT "$WEBHOOK_PID" 2>/dev/null; else kill -TERM "$WEBHOOK_PID" 2>/dev/null; fi
    wait "$WEBHOOK_PID" 2>/dev/null
    WEBHOOK_PID=""
}

# webhook_create NAME: a webhook for every type to the receiver, whose lines go to NAME.log.
webhook_create() {
    WEBHOOK_LOG=$BENCH_OUT/webhook-$1.log
    : >"$WEBHOOK_LOG"
    WEBHOOK_FROM=$(bench_psql "SELECT coalesce(max(position), 0) FROM events")
    local body=$BENCH_TMP/webhook.json status
    status=$(curl -sS -o "$body" -w '%{http_code}' -X POST -H "Authorization: Bearer $WEBHOOK_TOKEN" \
        -H "Content-Type: application/json" \
        --data-binary "{\"url\": \"http://127.0.0.1:$WEBHOOK_PORT/hooks/chatgrains\", \"description\": \"bench $1\"}" \
        "$NODE_URL/v2/webhooks")
    [[ $status == 201 ]] || die "POST /v2/webhooks answered $status: $(head -c 600 "$body")"
    WEBHOOK_ID=$(jq -r .webhook.id "$body")
    WEBHOOK_SECRET=$(jq -r .secret "$body")
    log "webhook $1: $WEBHOOK_ID, after event position $WEBHOOK_FROM"
}

webhook_delete() {
    local status
    status=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $WEBHOOK_TOKEN" \
        "$NODE_URL/v2/webhooks/$WEBHOOK_ID")
    [[ $status == 204 ]] || die "DELETE /v2/webhooks/$WEBHOOK_ID answered $status"
    WEBHOOK_ID=""
}

# webhook_expected: the events the webhook must deliver: id|chat|chatSeq|occurredAt (Unix ms).
webhook_expected() {
    bench_psql "SELECT id, coalesce(chat_id::text, '-'), coalesce(chat_seq, 0), (extract(epoch FROM occurred_at) * 1000)::bigint
        FROM events WHERE position > $WEBHOOK_FROM"
}

# webhook_delivered: the distinct events the receiver got (with a good signature).
webhook_delivered() { awk '$1 != "-" && $3 != "BAD_SIGNATURE" && !seen[$1]++ { n++ } END { print n + 0 }' "$WEBHOOK_LOG"; }

# seconds_since START: seconds from EPOCHREALTIME START to now, to a tenth.
seconds_since() { awk -v s="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - s }'; }

# webhook_wait_for WHAT CONDITION...: runs CONDITION every 0.5 s until it holds, for at most
# WEBHOOK_CATCH_UP_SECONDS; WEBHOOK_WAITED is the seconds it took.
WEBHOOK_WAITED=0
webhook_wait_for() {
    local what=$1 start=$EPOCHREALTIME
    shift
    until "$@"; do
        awk -v s="$start" -v now="$EPOCHREALTIME" -v limit="$WEBHOOK_CATCH_UP_SECONDS" 'BEGIN { exit !(now - s > limit) }' &&
            die "$what: not within ${WEBHOOK_CATCH_UP_SECONDS} s"
        sleep 0.5
    done
    WEBHOOK_WAITED=$(seconds_since "$start")
}

# webhook_all_delivered EXPECTED: the receiver got EXPECTED distinct events (its line count
# first: reading every line each time would take the CPU the deliveries need).
webhook_all_delivered() {
    (($(wc -l <"$WEBHOOK_LOG") >= $1)) && (($(webhook_delivered) >= $1))
}

# webhook_catch_up WHAT: waits until the receiver got every event of the log after WEBHOOK_FROM.
webhook_catch_up() {
    webhook_wait_for "$1: the receiver getting every event" webhook_all_delivered \
        "$(bench_psql "SELECT count(*) FROM events WHERE position > $WEBHOOK_FROM")"
    log "$1: every event delivered $WEBHOOK_WAITED s later"
}

# webhook_check NAME: the receiver's lines against the log (see the header); a report line.
# The events the log holds for it stay in $BENCH_TMP/expected-NAME.
webhook_check() {
    local expected=$BENCH_TMP/expected-$1 result
    webhook_expected >"$expected"
    result=$(awk -F'|' 'FNR == NR { want[$1] = $2 "|" $3; n++; next }
        { split($0, f, " ") }
        f[1] == "-" || f[1] == "" { next }
        f[3] == "BAD_SIGNATURE" { bad++; next }
        seen[f[1]]++ { dup++; next }
        !(f[1] in want) { foreign++; next }
        {
            got++
            split(want[f[1]], w, "|")
            if (w[1] != "-") { if ((w[1] in last) && w[2] + 0 <= last[w[1]]) disorder++; last[w[1]] = w[2] + 0 }
        }
        END { printf "%d %d %d %d %d %d", n, got, dup, disorder, bad, foreign }' "$expected" "$WEBHOOK_LOG")
    local n got dup disorder bad foreign
    read -r n got dup disorder bad foreign <<<"$result"
    local verdict=ok signatures="$bad with a bad signature"
    [[ $WEBHOOK_RECEIVER == node ]] || signatures="signatures not checked (nginx)"
    if ((got < n || foreign > 0 || disorder > 0 || bad > 0)); then
        verdict=FAILED
        WEBHOOK_FAILED+=("$1: deliveries")
    fi
    WEBHOOK_CHECKS+=("- $1: $n events in the log, $got delivered ($((n - got)) missing), $foreign from before the webhook, $dup delivered again, $disorder out of chatSeq order, $signatures: $verdict")
}

# webhook_fresh_run NAME: an unpaced fresh run (run_scenario) named NAME.
webhook_fresh_run() { run_scenario "$1" "$WEBHOOK_FRESH_SCRIPT" "$NODE_URL" BENCH_TOKEN="$WEBHOOK_TOKEN"; }

# webhook_paced SECONDS RATE NAME: creations paced at RATE/s for SECONDS.
webhook_paced() {
    ((${1%.*} > 0)) || return 0
    log "$3: ${1} s of creations paced at $2/s"
    run_wrk paced "$1" "$BENCH_OUT/$3.txt" "$WEBHOOK_FRESH_SCRIPT" "$NODE_URL" BENCH_TOKEN="$WEBHOOK_TOKEN" \
        BENCH_RATE="$2" BENCH_THREADS="$BENCH_THREADS" -- --latency >/dev/null || die "$3: wrk failed"
    local result
    result=$(grep '^RESULT ' "$BENCH_OUT/$3.txt" | tail -n 1)
    (($(errors_of "$result") == 0)) || { mark_failed; log "$3: errors: $result"; }
}

webhook_with_run() {
    webhook_create "throughput-r$1"
    webhook_receiver_start
    webhook_fresh_run "with-webhook-r$1"
    webhook_catch_up "with-webhook-r$1"
    webhook_check "throughput round $1"
    webhook_receiver_stop
    webhook_delete
}

webhook_throughput() {
    local r
    for ((r = 1; r <= WEBHOOK_ROUNDS; r++)); do
        if ((r % 2)); then
            webhook_fresh_run "no-webhook-r$r"
            webhook_with_run "$r"
        else
            webhook_with_run "$r"
            webhook_fresh_run "no-webhook-r$r"
        fi
    done
}

WEBHOOK_LAG_LINE=""
webhook_lag() {
    webhook_create lag
    webhook_receiver_start
    webhook_paced "$WEBHOOK_LAG_SECONDS" "$WEBHOOK_LAG_RATE" lag
    webhook_catch_up lag
    webhook_check "lag"
    local lags=$BENCH_TMP/lags p50 p99 max n
    awk -F'|' 'FNR == NR { at[$1] = $4; next }
        { split($0, f, " ") }
        (f[1] in at) && f[3] == "" && !seen[f[1]]++ { printf "%d\n", f[2] * 1000 - at[f[1]] }' "$BENCH_TMP/expected-lag" "$WEBHOOK_LOG" |
        sort -n >"$lags"
    n=$(wc -l <"$lags")
    p50=$(sed -n "$(((n * 50 + 99) / 100))p" "$lags")
    p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$lags")
    max=$(tail -n 1 "$lags")
    local rate
    rate=$(result_field "$(grep '^RESULT ' "$BENCH_OUT/lag.txt" | tail -n 1)" rps)
    local verdict=met
    if ((p99 > WEBHOOK_TARGET_LAG_P99_MS)); then verdict="**missed**"; WEBHOOK_FAILED+=("lag p99"); fi
    WEBHOOK_LAG_LINE="- lag at $rate creations/s for ${WEBHOOK_LAG_SECONDS} s ($n events, each event's first delivery): p50 **$p50 ms**, p99 **$p99 ms**, max $max ms (target p99 ≤ $WEBHOOK_TARGET_LAG_P99_MS ms: $verdict)"
    webhook_receiver_stop
    webhook_delete
}

# Chats created then closed (chat.created, chat.closed): order within a chat to check.
webhook_ordered_chats() {
    local i id status body=$BENCH_TMP/ordered.json
    log "outage: $WEBHOOK_ORDERED_CHATS chats created and closed"
    for ((i = 0; i < WEBHOOK_ORDERED_CHATS; i++)); do
        id=$(new_uuid)
        status=$(put_chat "$NODE_URL" "$WEBHOOK_TOKEN" "$body" "$id")
        [[ $status == 200 ]] || die "PUT /v2/chats/$id answered $status"
        status=$(curl -sS -o "$body" -w '%{http_code}' -X POST -H "Authorization: Bearer $WEBHOOK_TOKEN" "$NODE_URL/v2/chats/$id/close")
        [[ $status == 200 ]] || die "POST /v2/chats/$id/close answered $status: $(head -c 300 "$body")"
    done
}

WEBHOOK_OUTAGE_LINES=()
webhook_outage() {
    webhook_fresh_run "no-webhook-before"
    webhook_create outage
    local total=$((WEBHOOK_OUTAGE_MINUTES * 60)) start=$EPOCHREALTIME gap k
    gap=$(((total - WEBHOOK_OUTAGE_RUNS * (BENCH_WARMUP + BENCH_DURATION) - 60) / (WEBHOOK_OUTAGE_RUNS + 1)))
    ((gap > 0)) || die "WEBHOOK_OUTAGE_MINUTES is too short for $WEBHOOK_OUTAGE_RUNS runs"
    log "outage: the receiver is down for $WEBHOOK_OUTAGE_MINUTES min"
    for ((k = 1; k <= WEBHOOK_OUTAGE_RUNS; k++)); do
        webhook_paced "$gap" "$WEBHOOK_OUTAGE_RATE" "outage-paced-$k"
        webhook_fresh_run "receiver-down-$k"
        ((k == 1)) && webhook_ordered_chats
    done
    local left
    left=$(awk -v s="$start" -v now="$EPOCHREALTIME" -v total="$total" 'BEGIN { printf "%d", total - (now - s) }')
    webhook_paced "$left" "$WEBHOOK_OUTAGE_RATE" "outage-paced-last"
    local down events attempts
    down=$(seconds_since "$start")
    events=$(bench_psql "SELECT count(*) FROM events WHERE position > $WEBHOOK_FROM")
    attempts=$(curl -sS -H "Authorization: Bearer $WEBHOOK_TOKEN" "$NODE_URL/v2/webhooks/$WEBHOOK_ID/deliveries?status=failed" |
        jq '[.deliveries[] | .attempt] | max // 0')
    log "outage: receiver back after $down s, $events events waiting"
    local back=$EPOCHREALTIME first
    webhook_receiver_start
    webhook_wait_for "outage: a first delivery" test -s "$WEBHOOK_LOG"
    first=$WEBHOOK_WAITED
    webhook_catch_up outage
    webhook_check "outage"
    WEBHOOK_OUTAGE_LINES+=("- the receiver was down $down s while $events events were stored (the webhook had tried $attempts times, backing off); after it returned, the first delivery came in $first s and the last of the $events in $(seconds_since "$back") s")
    webhook_receiver_stop
    webhook_delete
    webhook_fresh_run "no-webhook-after"
}

# webhook_median NAME...: the median requests/s of the named runs.
webhook_median() {
    local name
    for name in "$@"; do scenario_field "$name" rps; done | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

webhook_throughput_report() {
    local r without with ratios=() ratio
    echo "| round | no webhook req/s | one webhook req/s | ratio | p99 ms (no webhook → webhook) | node + PostgreSQL CPU µs per creation (no webhook → webhook) |"
    echo "|---:|---:|---:|---:|---:|---:|"
    for ((r = 1; r <= WEBHOOK_ROUNDS; r++)); do
        without=no-webhook-r$r
        with=with-webhook-r$r
        ratio=$(awk -v a="$(scenario_field "$with" rps)" -v b="$(scenario_field "$without" rps)" 'BEGIN { printf "%.2f", a / b }')
        ratios+=("$ratio")
        awk -v hz="$CLK_TCK" -v r="$r" -v a="$(scenario_field "$without" rps)" -v b="$(scenario_field "$with" rps)" -v ratio="$ratio" \
            -v pa="$(scenario_field "$without" p99_ms)" -v pb="$(scenario_field "$with" p99_ms)" \
            -v ca="$(($(cpu_field "$without" node) + $(cpu_field "$without" postgres)))" -v na="$(scenario_field "$without" requests)" \
            -v cb="$(($(cpu_field "$with" node) + $(cpu_field "$with" postgres)))" -v nb="$(scenario_field "$with" requests)" \
            'BEGIN { printf "| %d | %.0f | %.0f | %.2f | %.1f → %.1f | %.0f → %.0f |\n", r, a, b, ratio, pa, pb, ca * 1e6 / hz / na, cb * 1e6 / hz / nb }'
    done
    local median verdict=met
    median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    if awk -v m="$median" -v t="$WEBHOOK_TARGET_RATIO" 'BEGIN { exit !(m < t) }'; then verdict="**missed**"; WEBHOOK_FAILED+=("throughput"); fi
    echo
    echo "- throughput with one webhook answering 204: median ratio **${median}×** the node without one (target ≥ ${WEBHOOK_TARGET_RATIO}×: $verdict)"
}

webhook_outage_report() {
    local names=() k down_median plain_median down_ratio verdict=met
    for ((k = 1; k <= WEBHOOK_OUTAGE_RUNS; k++)); do names+=("receiver-down-$k"); done
    down_median=$(webhook_median "${names[@]}")
    # The runs just before and just after the outage: the tables grow by every event and chat
    # the outage stores, and a creation's PostgreSQL cost with them.
    names=(no-webhook-before no-webhook-after)
    plain_median=$(webhook_median "${names[@]}")
    down_ratio=$(awk -v a="$down_median" -v b="$plain_median" 'BEGIN { printf "%.2f", a / b }')
    if awk -v m="$down_ratio" -v t="$WEBHOOK_TARGET_RATIO" 'BEGIN { exit !(m < t) }'; then verdict="**missed**"; WEBHOOK_FAILED+=("throughput during the outage"); fi
    echo "- throughput while the receiver is down: median $down_median requests/s over $WEBHOOK_OUTAGE_RUNS runs, **${down_ratio}×** the median without a webhook ($plain_median over ${#names[@]} runs; target ≥ ${WEBHOOK_TARGET_RATIO}×: $verdict)"
    printf '%s\n' "${WEBHOOK_OUTAGE_LINES[@]}"
}

webhook_report() {
    echo
    echo "Receiver: $WEBHOOK_RECEIVER on loopback (see bench/scenarios/webhooks.sh), one webhook subscribed to every type."
    echo
    if has_result no-webhook-r1; then webhook_throughput_report; fi
    if [[ -n $WEBHOOK_LAG_LINE ]]; then echo "$WEBHOOK_LAG_LINE"; fi
    if has_result no-webhook-after; then webhook_outage_report; fi
    echo
    echo "Deliveries against the event log:"
    echo
    printf '%s\n' "${WEBHOOK_CHECKS[@]}"
    if ((${#WEBHOOK_FAILED[@]})); then
        echo
        echo "Missed: ${WEBHOOK_FAILED[*]}"
        mark_failed
    fi
}

webhooks_main() {
    ensure_bench_tools
    if [[ $WEBHOOK_RECEIVER == node ]]; then command -v node >/dev/null || apt_install nodejs; fi
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx
    command -v jq >/dev/null || apt_install jq
    [[ -z $BENCH_BASELINE ]] || die "the webhooks bench measures the working tree's node only: unset BENCH_BASELINE"
    bench_init webhooks
    BENCH_CLEANUP_HOOKS+=(webhook_receiver_stop)
    build_bench_nodes
    NODE_ENV+=(Webhooks__AllowHttp=true Webhooks__AllowPrivateNetworks=true)
    single_node_up
    WEBHOOK_TOKEN=$(node_token admin)
    WEBHOOK_PORT=$(free_port)
    local phase
    for phase in $WEBHOOK_PHASES; do
        case $phase in
            throughput | lag | outage) "webhook_$phase" ;;
            *) die "WEBHOOK_PHASES: unknown phase '$phase'" ;;
        esac
    done
    print_report
    webhook_report
    exit_if_failed "a webhook target was missed or requests failed: see above"
}
