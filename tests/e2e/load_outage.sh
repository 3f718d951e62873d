#!/usr/bin/env bash
# souk-load rides out outages (ctest fixture "stack"): open-loop checkouts
# at 5/s for 20 s while PostgreSQL is stopped for 6 s and, once it is back,
# the gateway is SIGKILLed and kept down for 5 s. Both outages outlast a
# few quick retries, so this fails unless souk-load retries each idempotent
# POST /orders until its order's timeout, and unless it reconnects to the
# restarted database for the money and outbox checks instead of reporting
# "query failed". Then the same checks as load_smoke: every checkout
# accepted, every order final as its scenario says, every invariant holds.
# It leaves the stack running: the gateway comes back through
# scripts/e2e-stack.sh start, as the fixture started it.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/support/load_e2e.sh
source "$SOUK_ROOT/tests/support/load_e2e.sh" load_outage

out="$(mktemp)" progress="$(mktemp)" load=
restore() {
    local rc=$?
    set +e
    [[ -n "$load" ]] && kill "$load" 2>/dev/null
    "$SOUK_ROOT/souk" _testctl db-start >/dev/null 2>&1
    "$SOUK_ROOT/scripts/e2e-stack.sh" start >/dev/null
    rm -f "$out" "$progress"
    exit $rc
}
trap restore EXIT
"$load_bin" "${LOAD_ARGS[@]}" \
    --rate 5 --duration 20 --customers 10 --products 5 --order-timeout 60 --json \
    >"$out" 2> >(tee "$progress" >&2) &
load=$!
load_wait_started "$progress" "$load" || load_fail "souk-load did not start its checkouts"
sleep 2
echo "load_outage: stopping PostgreSQL for 6 s"
"$SOUK_ROOT/souk" _testctl db-stop
sleep 6
"$SOUK_ROOT/souk" _testctl db-start
sleep 2
echo "load_outage: SIGKILL of the gateway, down for 5 s"
proc_kill gateway
sleep 5
"$SOUK_ROOT/scripts/e2e-stack.sh" start
rc=0
wait "$load" || rc=$?
cat "$out"
[[ $rc -eq 0 ]] || load_fail "souk-load exited $rc (an invariant failed or setup broke)"
load_assert_json "$out"
echo "load_outage: every checkout accepted and every invariant holds across both outages"
