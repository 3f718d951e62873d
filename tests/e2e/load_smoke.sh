#!/usr/bin/env bash
# End-to-end smoke run of souk-load against the stack of `souk test` (ctest
# fixture "stack"): about 10 s of open-loop checkouts at 5/s with the default
# mix (declined, out of stock, shipping failures, happy path), then its
# invariant checks: every checkout accepted, every order final, no oversell,
# money balances, outboxes drained, no new dead letters. No speed figure is
# asserted: this machine may be busy with other tests.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
build="${SOUK_BUILD_DIR:-}"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"
require_test_stack
stack_use_profile test
build="${build:-$SOUK_BUILD_DIR}"
bin="$build/bench/souk-load"
[[ -x "$bin" ]] || { echo "load_smoke: $bin is not built" >&2; exit 1; }

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
# 10 customers keep each under the test gateway's 40 rps per user while
# their orders are polled every 100 ms.
"$bin" \
    --url "${SOUK_TEST_GATEWAY_URL:?run through ./souk test}" \
    --pg "host=${SOUK_TEST_PG_SOCKET:-$(pg_sock)} port=$SOUK_PG_PORT dbname=souk user=postgres" \
    --mgmt-url "${SOUK_TEST_MGMT_URL:-$MGMT_URL}" \
    --mgmt-user "${SOUK_TEST_ADMIN_USER:-$SOUK_RABBIT_ADMIN_USER}" \
    --mgmt-password "${SOUK_TEST_ADMIN_PASSWORD:-$SOUK_RABBIT_ADMIN_PASSWORD}" \
    --rss-from "$SOUK_STATE/pids" \
    --rate 5 --duration 10 --customers 10 --products 5 --order-timeout 60 --json >"$out" || rc=$?
cat "$out"
[[ $rc -eq 0 ]] || { echo "load_smoke: souk-load exited $rc (an invariant failed or setup broke)" >&2; exit 1; }

fail() { echo "load_smoke: $*" >&2; exit 1; }
jq -e '.ok == true' "$out" >/dev/null || fail "souk-load reports a failed invariant"
jq -e '.checkouts.started > 0 and .checkouts.accepted == .checkouts.started' "$out" >/dev/null ||
    fail "not every checkout was accepted"
jq -e '.checkouts.stuck == 0 and
       .checkouts.completed + ([.checkouts.cancelled[]] | add) == .checkouts.accepted' "$out" >/dev/null ||
    fail "not every order reached a final state"
jq -e '.checkouts.unexpected_outcome == 0' "$out" >/dev/null ||
    fail "an order ended other than its scenario says (e.g. a tok_approve order cancelled)"
jq -e '[.invariants[] | select(.state == "failed")] | length == 0' "$out" >/dev/null ||
    fail "an invariant failed"
jq -e '[.invariants[] | select(.state == "skipped")] | length == 0' "$out" >/dev/null ||
    fail "an invariant was skipped (database or management API not reachable?)"
echo "load_smoke: every invariant holds"
