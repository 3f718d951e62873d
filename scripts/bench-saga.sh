#!/usr/bin/env bash
# souk bench saga: checkout throughput of the whole saga at 1, 2 and 4 worker
# processes per service, in one go, on a throwaway stack of its own (profile
# bench: state in .souk/bench, its own ports), next to this machine's raw
# PostgreSQL transaction rate. Each round starts the gateway (rate limit
# lifted, cheap password hashing), souk-psp and N `souk-worker <service>`
# processes per service, runs souk-load closed loop for 60 s (happy path
# only) and stops them again. Prints one table row per round and the
# targets next to them; the raw figures stay in .souk/bench/bench-saga/.
# Right before the first round, the same round runs with the journal off
# (SOUK_JOURNAL=off), and the two are printed side by side: what the journal
# costs per checkout in throughput, machine CPU and disk. A warm-up round
# (20 s, not counted) runs first and every round starts on freshly analysed
# tables (ANALYZE): the plans PostgreSQL makes on an empty database made the
# first round of a run ~40 % slower whatever it measured.
#   SOUK_BENCH_SAGA_WORKERS       rounds (default "1 2 4")
#   SOUK_BENCH_SAGA_JOURNAL_COST  1 (default) to measure the journal's cost, 0 not to
#   SOUK_BENCH_SAGA_DURATION      seconds per round (default 60)
#   SOUK_BENCH_SAGA_CONCURRENCY   checkouts in flight (default 64)
# Extra arguments go to souk-load (e.g. --poll-ms 50).
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"

read -r -a rounds <<<"${SOUK_BENCH_SAGA_WORKERS:-1 2 4}"
duration="${SOUK_BENCH_SAGA_DURATION:-60}"
concurrency="${SOUK_BENCH_SAGA_CONCURRENCY:-64}"

cleanup() {
    local rc=$?
    set +e
    procs_stop_all >/dev/null 2>&1
    rabbit_stop >/dev/null 2>&1
    pg_stop >/dev/null 2>&1
    exit $rc
}

start_round() {
    local n="$1" journal="${2:-on}" svc i
    # Each checkout in flight holds a long poll, and so a gateway thread:
    # the default thread count and long-poll budget cover 1,000 of them.
    front_start
    SOUK_LOG_LEVEL=warn SOUK_RATE_LIMIT_RPS=100000 SOUK_RATE_LIMIT_BURST=100000 \
        SOUK_PASSWORD_ITERATIONS=1000 proc_start gateway "$SOUK_BUILD_DIR/gateway/souk-gateway"
    SOUK_LOG_LEVEL=warn proc_start psp "$SOUK_BUILD_DIR/psp/souk-psp"
    load_worker_services
    for svc in "${SOUK_WORKER_SERVICES[@]}"; do
        for i in $(seq 1 "$n"); do
            SOUK_LOG_LEVEL=warn SOUK_JOURNAL="$journal" \
                proc_start "worker-$svc-$i" "$SOUK_BUILD_DIR/workers/souk-worker" "$svc"
        done
    done
    wait_ready || die "the gateway did not become ready; see $SOUK_STATE/logs"
    sleep 1 # the workers attach their consumers
}

machine() {
    local model mem
    model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    mem="$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "machine: $(nproc) CPUs, ${model:-unknown CPU}, $mem memory"
}

# One table row from a round's souk-load JSON.
row() {
    local n="$1" file="$2" raw="$3"
    jq -r --arg n "$n" --argjson raw "$raw" '
        ([.rss[] | select(.name | startswith("worker-")) | .peak_rss_kb] | max // 0) as $worker
        | ([.rss[] | select(.name == "gateway") | .peak_rss_kb] | max // 0) as $gateway
        | (.db_work.tx_per_completed_checkout // 0) as $tx
        | [$n, .completed_per_s, .saga_latency_ms.p99, $worker / 1024, $gateway / 1024, $tx,
           (.completed_per_s * $tx / $raw), (if .ok then "hold" else "FAILED" end)]
        | @tsv' "$file" |
        awk -F'\t' '{printf "%-8s %12.1f %12.1f %14.1f %12.1f %10.2f %7.2f  %s\n", $1, $2, $3, $4, $5, $6, $7, $8}'
}

verdicts() {
    local n="$1" file="$2" raw="$3"
    jq -r --arg n "$n" --argjson raw "$raw" --argjson d "$duration" '
        def mark(c): if c then "met" else "MISSED" end;
        ([.rss[] | select(.name | startswith("worker-")) | .peak_rss_kb] | max // 0) as $worker
        | ([.rss[] | select(.name == "gateway") | .peak_rss_kb] | max // 0) as $gateway
        | (.completed_per_s * (.db_work.tx_per_completed_checkout // 0) / $raw) as $ratio
        | "  \($n) per service: throughput \(mark(.completed_per_s >= 250 and .run.window_s >= 60 and .saga_latency_ms.p99 < 500)), ratio \(mark($ratio >= 0.5)), worker RSS \(mark($worker < 16384)), gateway RSS \(mark($gateway < 65536))"' "$file"
}

# Busy CPU time of the whole machine so far, in milliseconds (/proc/stat:
# user, nice, system, irq, softirq, steal).
machine_busy_ms() {
    awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print int(($2 + $3 + $4 + $7 + $8 + $9) * 1000 / hz); exit}' /proc/stat
}

# Rows and bytes of every journal table and outbox, as "rows bytes".
journal_size() {
    psql -h "$(pg_sock)" -p "$SOUK_PG_PORT" -U postgres -d souk -Atc "SELECT sum(n), sum(b) FROM (
        SELECT count(*) AS n, pg_total_relation_size('orders.journal') AS b FROM orders.journal
        UNION ALL SELECT count(*), pg_total_relation_size('inventory.journal') FROM inventory.journal
        UNION ALL SELECT count(*), pg_total_relation_size('payment.journal') FROM payment.journal
        UNION ALL SELECT count(*), pg_total_relation_size('shipping.journal') FROM shipping.journal
        UNION ALL SELECT count(*), pg_total_relation_size('analytics.journal') FROM analytics.journal
        UNION ALL SELECT count(*), pg_total_relation_size('notification.journal') FROM notification.journal) t" | tr '|' ' '
}

# One round: start, load, stop; the load's JSON in $out/round-$name.json and
# the machine's busy CPU and the journal's growth in $out/round-$name.cost.
run_round() {
    local name="$1" n="$2" journal="$3"
    shift 3
    log "round: $n worker process(es) per service, journal $journal, closed loop $concurrency for $duration s"
    psql -h "$(pg_sock)" -p "$SOUK_PG_PORT" -U postgres -d souk -qc ANALYZE
    start_round "$n" "$journal"
    local busy0 busy1 size0 size1
    busy0="$(machine_busy_ms)"
    size0="$(journal_size)"
    "$SOUK_ROOT/scripts/cpu-groups.sh" "$SOUK_STATE" >"$out/round-$name.cpu0"
    "$load" --url "$SOUK_URL" --pg "$pg" \
        --mgmt-url "$MGMT_URL" --mgmt-user "$SOUK_RABBIT_ADMIN_USER" \
        --mgmt-password "$SOUK_RABBIT_ADMIN_PASSWORD" --rss-from "$SOUK_STATE/pids" \
        --concurrency "$concurrency" --duration "$duration" --customers "$concurrency" \
        --decline-share 0 --oos-share 0 --ship-fail-share 0 --json "$@" \
        >"$out/round-$name.json" || log "round $name: souk-load exited $? (see $out/round-$name.json)"
    busy1="$(machine_busy_ms)"
    "$SOUK_ROOT/scripts/cpu-groups.sh" "$SOUK_STATE" >"$out/round-$name.cpu1"
    size1="$(journal_size)"
    echo "$((busy1 - busy0)) $size0 $size1" >"$out/round-$name.cost"
    procs_stop_all
}

# The journal's cost: the first round with the journal on and off.
journal_cost() {
    local n="$1"
    local on="$out/round-$n.json" off="$out/round-$n-nojournal.json"
    [[ -s "$on" && -s "$off" ]] || return 0
    local con coff
    read -r -a con <"$out/round-$n.cost"
    read -r -a coff <"$out/round-$n-nojournal.cost"
    local ron roff
    ron="$(jq .completed_per_s "$on")"
    roff="$(jq .completed_per_s "$off")"
    local don doff
    don="$(jq '.completed_per_s * .run.window_s' "$on")"
    doff="$(jq '.completed_per_s * .run.window_s' "$off")"
    echo
    echo "journal cost ($n worker process(es) per service, the same round with SOUK_JOURNAL on and off)"
    printf '%-8s %12s %12s %16s %14s %14s\n' journal checkouts/s "saga p99 ms" "CPU ms/chkout" "hops/chkout" "bytes/chkout"
    awk -v r="$ron" -v p="$(jq .saga_latency_ms.p99 "$on")" -v cpu="${con[0]}" -v d="$don" \
        -v rows="$((con[3] - con[1]))" -v bytes="$((con[4] - con[2]))" \
        'BEGIN {printf "%-8s %12.1f %12.1f %16.2f %14.1f %14.0f\n", "on", r, p, cpu / d, rows / d, bytes / d}'
    awk -v r="$roff" -v p="$(jq .saga_latency_ms.p99 "$off")" -v cpu="${coff[0]}" -v d="$doff" \
        'BEGIN {printf "%-8s %12.1f %12.1f %16.2f %14s %14s\n", "off", r, p, cpu / d, "0", "0"}'
    awk -v on="$ron" -v off="$roff" -v con="${con[0]}" -v coff="${coff[0]}" -v don="$don" -v doff="$doff" \
        'BEGIN {drop = off > 0 ? (off - on) * 100 / off : 0;
                printf "journal: throughput %+.1f %% (target: a drop of at most 10 %%: %s), CPU %+.2f ms per checkout\n",
                       -drop, drop <= 10 ? "met" : "MISSED", con / don - coff / doff}'
    echo "CPU ms/chkout: busy CPU time of the whole machine during the load / completed checkouts"
    echo
    echo "CPU ms per completed checkout by process group (from /proc/<pid>/stat over the load)"
    printf '%-28s %10s %10s %10s\n' group "journal on" off difference
    join -a1 -a2 -e 0 -o 0,1.2,2.2 <(group_ms "$n" "$don") <(group_ms "$n-nojournal" "$doff") |
        awk '{printf "%-28s %10.3f %10.3f %+10.3f\n", $1, $2, $3, $2 - $3}'
}

# "group ms-per-checkout" of a round, from its CPU snapshots, sorted by group.
group_ms() {
    local name="$1" done="$2"
    join -a2 -e 0 -o 0,1.2,2.2 "$out/round-$name.cpu0" "$out/round-$name.cpu1" |
        awk -v d="$done" '{printf "%s %.3f\n", $1, ($3 - $2) / d}' | sort
}

main() {
    stack_use_profile bench
    ensure_packages
    build_tree "$SOUK_BUILD_DIR" OFF
    stack_wipe
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    stack_check_ports
    pg_start
    pg_setup
    rabbit_start
    rabbit_setup
    local load="$SOUK_BUILD_DIR/bench/souk-load" out="$SOUK_STATE/bench-saga"
    local pg="host=$(pg_sock) port=$SOUK_PG_PORT dbname=souk user=postgres"
    mkdir -p "$out"
    log "measuring the raw PostgreSQL transaction rate (8 connections, 8 s)"
    local raw
    raw="$("$load" --raw-pg-rate "$pg" --raw-pg-connections 8 --raw-pg-seconds 8 --json | jq .raw_pg_tx_per_s)"
    local n first="${rounds[0]}"
    local warmup="$duration"
    duration=20
    run_round warmup "$first" on "$@"
    duration="$warmup"
    for n in "${rounds[@]}"; do
        if [[ "$n" == "$first" && "${SOUK_BENCH_SAGA_JOURNAL_COST:-1}" == 1 ]]; then
            run_round "$n-nojournal" "$n" off "$@"
        fi
        run_round "$n" "$n" on "$@"
    done

    echo
    echo "souk bench saga"
    machine
    echo "load: souk-load closed loop, $concurrency checkouts in flight, ${duration} s per round, happy path"
    echo "      only (POST /orders, then GET /orders/{id}?wait=10, a long poll, unless --wait 0)"
    printf 'raw PostgreSQL: %.0f transactions/s (BEGIN; INSERT inbox; UPDATE; INSERT outbox; COMMIT; 8 connections, 8 s)\n' "$raw"
    echo
    printf '%-8s %12s %12s %14s %12s %10s %7s  %s\n' workers checkouts/s "saga p99 ms" "worker RSS MB" "gateway MB" "tx/chkout" ratio invariants
    for n in "${rounds[@]}"; do
        [[ -s "$out/round-$n.json" ]] && row "$n" "$out/round-$n.json" "$raw"
    done
    cat <<EOF

workers       worker processes per service (order, inventory, payment, shipping, analytics, notification)
checkouts/s   orders seen COMPLETED within the round's window / window
saga p99      checkout request start -> COMPLETED seen by the long poll
worker RSS    peak RSS of the largest worker process (max of VmHWM and VmRSS sampled each second)
tx/chkout     database transactions per completed checkout =
              (gateway checkouts + inbox rows + outbox rows written during the round) / completed;
              each inbox row is one consumer step (inbox insert + effect + outbox insert, the raw
              transaction's shape), each outbox row one relay step. By the topology a happy path is
              1 + 15 consumer steps (CartCheckedOut: order, analytics; OrderCreated: inventory,
              analytics; StockReserved: payment, order, analytics; PaymentSucceeded: shipping, order,
              analytics; ShippingCreated: order, analytics; OrderCompleted: inventory, notification,
              analytics) + 6 relayed events = 22. The relay commits once per batch of rows, so
              counting a commit per row is an upper bound on its commits.
ratio         checkouts/s x tx/chkout / raw PostgreSQL transactions/s
targets       >= 250 checkouts/s for 60 s with saga p99 < 500 ms; ratio >= 0.5;
              each worker < 16 MB RSS; gateway < 64 MB
EOF
    for n in "${rounds[@]}"; do
        [[ -s "$out/round-$n.json" ]] && verdicts "$n" "$out/round-$n.json" "$raw"
    done
    journal_cost "$first"
    echo "figures: $out/round-<workers>.json; logs: $SOUK_STATE/logs"
}

main "$@"
