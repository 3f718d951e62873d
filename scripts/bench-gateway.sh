#!/usr/bin/env bash
# souk bench gateway: an authenticated GET /products/{id} (JWT verified,
# product from the gateway's cache) against a bare civetweb handler that
# returns the same bytes, both with wrk at the same connections and
# threads, on a throwaway stack of its own. Prints rates, the ratio, p99
# latency and the gateway's RSS under that load. Then the same request
# through the front (nginx, as clients reach it), alone and while
# souk-attack holds SOUK_BENCH_STALLED stalled connections (default 500)
# and one customer holds SOUK_BENCH_LONG_POLLS long polls (default 200, of
# which its share of SOUK_LONG_POLL_PER_CUSTOMER wait and the rest are
# refused with 429 and come back): the p99 of ordinary requests under that
# attack next to the figure without it.
# Each measured run follows an unmeasured warm-up of the same load
# (SOUK_BENCH_WARMUP seconds, default 3), so first-touch page faults, lazy
# binding and cold caches of a just-started process are not in the figures.
#   SOUK_BENCH_PERF=1          perf-record the gateway for 4 s of the one-token run
#   SOUK_BENCH_PERF_EVENTS     perf's event options (default -F 999; e.g. "-e sched:sched_switch")
#   SOUK_BENCH_PERF_OUT        where the profile goes (default .souk/bench/perf.data, wiped next run)
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$SOUK_ROOT/scripts/stack.sh"
stack_use_profile bench
CONNECTIONS="${SOUK_BENCH_CONNECTIONS:-50}"
DURATION="${SOUK_BENCH_DURATION:-15}"
THREADS="${SOUK_BENCH_WRK_THREADS:-2}"
WARMUP="${SOUK_BENCH_WARMUP:-3}"
ensure_packages
build_tree "$SOUK_BUILD_DIR" OFF
stack_wipe
bare_pid=""
cleanup() {
    set +e
    [[ -n "$bare_pid" ]] && kill "$bare_pid" 2>/dev/null
    [[ -n "${attack_pid:-}" ]] && kill "$attack_pid" 2>/dev/null
    procs_stop_all
    rabbit_stop
    pg_stop
}
trap cleanup EXIT
stack_check_ports
pg_start
pg_setup
rabbit_start
rabbit_setup
front_start
SOUK_RATE_LIMIT_RPS=10000000 SOUK_RATE_LIMIT_BURST=10000000 SOUK_LOG_LEVEL=warn \
    proc_start gateway "$SOUK_BUILD_DIR/gateway/souk-gateway"
wait_ready || { echo "bench: gateway not ready" >&2; exit 1; }
G="http://127.0.0.1:$SOUK_GATEWAY_PORT"
token="$(curl -fsS -X POST "$G/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"admin@souk.local","password":"souk-admin-password"}' | jq -r .access_token)"
product="$(curl -fsS -X POST "$G/products" -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d '{"sku":"BENCH-1","name":"Bench tea","description":"A product for the benchmark","price_minor":450,"currency":"EUR"}' | jq -r .id)"
body_file="$SOUK_STATE/product.json"
curl -fsS "$G/products/$product" -H "Authorization: Bearer $token" >"$body_file"

bare_port="${SOUK_BENCH_BARE_PORT:-27799}"
"$SOUK_BUILD_DIR/bench/souk-bench-bare" "$bare_port" "$body_file" &
bare_pid=$!
sleep 0.5

measure() { # wrk arguments after the duration: warm up, then measure
    if ((WARMUP > 0)); then wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$@" >/dev/null; fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@"
}
run_wrk() { # url [header]
    measure ${2:+-H "$2"} "$1"
}
rate_of() { awk '/Requests\/sec/ {print $2}'; }
p_of() { # percentile label: 50% or 99%
    awk -v p="$1" '$1 == p { v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v }'
}

echo "gateway benchmark: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
bare_out="$(run_wrk "http://127.0.0.1:$bare_port/products/$product")"
gw_pid="$(cat "$(pid_file gateway)")"
if [[ -n "${SOUK_BENCH_PERF:-}" ]]; then (sleep $((WARMUP + 2)); perf record ${SOUK_BENCH_PERF_EVENTS:--F 999} -g -o "${SOUK_BENCH_PERF_OUT:-$SOUK_STATE/perf.data}" -p "$gw_pid" -- sleep 4 >/dev/null 2>&1) & fi
gw_out="$(run_wrk "$G/products/$product" "Authorization: Bearer $token")"
gw_rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$gw_pid/status")"
errors="$(grep -E 'Non-2xx|Socket errors' <<<"$gw_out" || true)"

# The same load from many customers: one token per request, drawn in turn
# from $CONNECTIONS registered customers (wrk's Lua hook), so the rate
# limiter and the token cache see many keys, as they do in production.
tokens_lua="$SOUK_STATE/tokens.lua"
{
    echo "local tokens = {"
    for i in $(seq 1 "$CONNECTIONS"); do
        t="$(curl -fsS -X POST "$G/auth/register" -H 'Content-Type: application/json' \
            -d "{\"email\":\"bench-$i-$RANDOM@bench.souk\",\"password\":\"password1\",\"name\":\"Bench\"}" | jq -r .access_token)"
        echo "  \"$t\","
    done
    echo "}"
    echo "local n = 0"
    echo "request = function()"
    echo "  n = n % #tokens + 1"
    echo "  return wrk.format('GET', nil, {['Authorization'] = 'Bearer ' .. tokens[n]})"
    echo "end"
} >"$tokens_lua"
many_out="$(measure -s "$tokens_lua" "$G/products/$product")"

# Through the front, then under attack: a customer with an order that stays
# PENDING (no workers run here), whose long polls wait their full 30 s.
front_out="$(run_wrk "$SOUK_URL/products/$product" "Authorization: Bearer $token")"
hog="$(curl -fsS -X POST "$G/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"hog-$RANDOM@bench.souk\",\"password\":\"password1\",\"name\":\"Hog\"}" | jq -r .access_token)"
hog_order="$(curl -fsS -X POST "$G/orders" -H 'Content-Type: application/json' -H "Authorization: Bearer $hog" \
    -d "{\"items\":[{\"product_id\":\"$product\",\"quantity\":1}],\"shipping_address\":{\"name\":\"H\",\"line1\":\"1 Road\",\"city\":\"Fes\",\"postal_code\":\"30000\",\"country\":\"MA\"},\"payment_token\":\"tok_approve\"}" |
    jq -r .order_id)"
stalled="${SOUK_BENCH_STALLED:-500}"
long_polls="${SOUK_BENCH_LONG_POLLS:-200}"
"$SOUK_BUILD_DIR/bench/souk-attack" --target "127.0.0.1:$SOUK_HTTP_PORT" --stalled "$stalled" \
    --long-polls "$long_polls" --token "$hog" --path "/orders/$hog_order?wait=30" \
    >"$SOUK_STATE/attack.log" 2>&1 &
attack_pid=$!
sleep 3
attack_out="$(run_wrk "$SOUK_URL/products/$product" "Authorization: Bearer $token")"
attack_state="$(tail -1 "$SOUK_STATE/attack.log")"
kill "$attack_pid" 2>/dev/null
wait "$attack_pid" 2>/dev/null || true
attack_errors="$(grep -E 'Non-2xx|Socket errors' <<<"$attack_out" || true)"
many_rate="$(rate_of <<<"$many_out")"
bare_rate="$(rate_of <<<"$bare_out")"
gw_rate="$(rate_of <<<"$gw_out")"
printf '  %-44s %10s req/s  p50 %7s ms  p99 %7s ms\n' "bare civetweb (same bytes)" "$bare_rate" \
    "$(p_of 50% <<<"$bare_out")" "$(p_of 99% <<<"$bare_out")"
printf '  %-44s %10s req/s  p50 %7s ms  p99 %7s ms\n' "gateway GET /products/{id} (JWT + cache)" "$gw_rate" \
    "$(p_of 50% <<<"$gw_out")" "$(p_of 99% <<<"$gw_out")"
printf '  %-44s %10s req/s  p50 %7s ms  p99 %7s ms\n' "the same, $CONNECTIONS customers' tokens" "$many_rate" \
    "$(p_of 50% <<<"$many_out")" "$(p_of 99% <<<"$many_out")"
printf '  %-44s %10s req/s  p50 %7s ms  p99 %7s ms\n' "the one-token read through the front (nginx)" \
    "$(rate_of <<<"$front_out")" "$(p_of 50% <<<"$front_out")" "$(p_of 99% <<<"$front_out")"
printf '  %-44s %10s req/s  p50 %7s ms  p99 %7s ms\n' "the same under attack" \
    "$(rate_of <<<"$attack_out")" "$(p_of 50% <<<"$attack_out")" "$(p_of 99% <<<"$attack_out")"
printf '    attack: %s stalled connections, %s long polls of one customer (%s)\n' "$stalled" "$long_polls" "$attack_state"
[[ -z "$attack_errors" ]] || echo "    wrk under attack reported: $attack_errors"
printf '  ratio gateway / bare                          %10.2f        (target >= 0.60)\n' \
    "$(awk -v a="$gw_rate" -v b="$bare_rate" 'BEGIN {print a / b}')"
printf '  gateway peak RSS under load                   %10.1f MB     (target < 64 MB)\n' \
    "$(awk -v k="$gw_rss_kb" 'BEGIN {print k / 1024}')"
printf '  target p99 < 5 ms at %d connections\n' "$CONNECTIONS"
[[ -z "$errors" ]] || echo "  wrk reported: $errors"
