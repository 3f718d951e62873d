#!/usr/bin/env bash
# souk chaos against the stack of `souk test` (ctest fixture "stack"): 70 s
# of open-loop checkouts at 20/s while every worker process, the gateway and
# souk-psp are SIGKILLed and started again, RabbitMQ's VM is SIGKILLed and
# started again and PostgreSQL is stopped in immediate mode and started
# again, each kept down 0.5 s. Passes when every fault was injected and
# recovered, every invariant of souk-load holds (none skipped), and the
# stack is fully up again afterwards for the tests that follow.
#
# The fixture runs the workers with retry delays of 200, 500 and 1000 ms, so
# that failure-path tests are quick; 1.7 s of retries is shorter than an
# outage here, and a message would be dead-lettered (a `souk up` stack has
# 1, 5 and 30 s). So the processes run with a retry budget of 15.5 s during
# this test, and with the fixture's own settings again when it ends.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"
stack_use_profile test

out="$(mktemp)"
had_delays="${SOUK_E2E_RETRY_DELAYS_MS+set}" delays="${SOUK_E2E_RETRY_DELAYS_MS-}"
restart_stack() {
    "$SOUK_ROOT/scripts/e2e-stack.sh" stop >/dev/null
    "$SOUK_ROOT/scripts/e2e-stack.sh" start >/dev/null
}
restore() {
    local rc=$?
    set +e
    if [[ -n "$had_delays" ]]; then
        export SOUK_E2E_RETRY_DELAYS_MS="$delays"
    else
        unset SOUK_E2E_RETRY_DELAYS_MS
    fi
    restart_stack
    rm -f "$out"
    exit $rc
}
trap restore EXIT
fail() { echo "chaos_smoke: $*" >&2; exit 1; }

export SOUK_E2E_RETRY_DELAYS_MS=500,1000,2000,4000,8000
restart_stack

rc=0
# 70 s: ten faults with their recoveries (RabbitMQ alone 6-18 s on a busy
# machine) must fit before 90 % of the run
SOUK_PROFILE=test "$SOUK_ROOT/scripts/chaos.sh" --rate 20 --duration 70 --down 0.5 >"$out" || rc=$?
cat "$out"
[[ $rc -eq 0 ]] || fail "souk chaos exited $rc"
summary="$(grep '^souk chaos: .* faults injected' "$out")" || fail "no fault summary"
[[ "$summary" =~ ([0-9]+)\ of\ ([0-9]+)\ faults\ injected,\ ([0-9]+)\ recovered,\ ([0-9]+)\ skipped ]] ||
    fail "unreadable summary: $summary"
[[ ${BASH_REMATCH[2]} -eq 10 ]] || fail "expected 10 faults (6 workers, gateway, psp, RabbitMQ, PostgreSQL): $summary"
[[ ${BASH_REMATCH[1]} -eq 10 && ${BASH_REMATCH[3]} -eq 10 && ${BASH_REMATCH[4]} -eq 0 ]] ||
    fail "not every fault was injected and recovered: $summary"
grep -q '^result: every invariant holds' "$out" || fail "an invariant failed"
! grep -q '^  skip ' "$out" || fail "an invariant was skipped"

# Everything runs again: servers, processes, consumers on every worker queue.
pg_running || fail "PostgreSQL is not running"
rabbit_running || fail "RabbitMQ is not running"
curl -fsS "$SOUK_URL/readyz" >/dev/null || fail "the gateway is not ready"
curl -fsS "$SOUK_PSP_URL/healthz" >/dev/null || fail "souk-psp does not answer"
for f in "$SOUK_STATE"/pids/*.pid; do
    pid_alive "$(basename "$f" .pid)" || fail "$(basename "$f" .pid) is not running"
done
load_worker_services
for svc in "${SOUK_WORKER_SERVICES[@]}"; do
    consumers=0
    for _ in $(seq 1 100); do
        consumers="$(mgmt GET "/queues/souk/$svc-service?columns=consumers" | jq '.consumers // 0')"
        [[ $consumers -gt 0 ]] && break
        sleep 0.2
    done
    [[ $consumers -gt 0 ]] || fail "no consumer on $svc-service"
done
echo "chaos_smoke: every fault recovered, every invariant holds, the stack is up"
