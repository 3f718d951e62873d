#!/usr/bin/env bash
# End-to-end smoke run of souk-load against the stack of `souk test` (ctest
# fixture "stack"): about 10 s of open-loop checkouts at 5/s with the default
# mix (declined, out of stock, shipping failures, happy path), then its
# invariant checks (bench/load_checks.h): every checkout accepted, every
# order final, no oversell, money balances, nothing doubled, outboxes
# drained, no new dead letters. No speed figure is asserted: this machine
# may be busy with other tests.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/support/load_e2e.sh
source "$SOUK_ROOT/tests/support/load_e2e.sh" load_smoke

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
# 10 customers keep each under the test gateway's 40 rps per user while
# their orders are polled every 100 ms.
"$load_bin" "${LOAD_ARGS[@]}" \
    --rate 5 --duration 10 --customers 10 --products 5 --order-timeout 60 --json >"$out" || rc=$?
cat "$out"
[[ $rc -eq 0 ]] || load_fail "souk-load exited $rc (an invariant failed or setup broke)"
load_assert_json "$out"
echo "load_smoke: every invariant holds"
