#!/usr/bin/env bash
# Starts (or stops) the whole Souk process set — gateway, souk-psp and every
# worker — on the throwaway stack of `souk test`, for the end-to-end tests
# (ctest fixture "stack"). Settings here make failure paths quick to test.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$SOUK_ROOT/scripts/stack.sh"
# Outside `souk test` there is no stack to start processes on, and stopping
# would reach into the state folder of another run.
require_test_stack
stack_use_profile test
export SOUK_RETRY_DELAYS_MS="${SOUK_E2E_RETRY_DELAYS_MS:-200,500,1000}"
export SOUK_PASSWORD_ITERATIONS=1000
export SOUK_PSP_TIMEOUT_SLEEP_MS=3000
export SOUK_RATE_LIMIT_RPS=40 SOUK_RATE_LIMIT_BURST=80
# logins refill at one per 2 s, so the Postman burst past the limit is over quickly
export SOUK_LOGIN_LIMIT_PER_MIN=30
export SOUK_SAGA_DEADLINE_S="${SOUK_E2E_SAGA_DEADLINE_S:-60}"
export SOUK_CATALOG_CACHE_TTL_MS=2000
# Every process exports its spans to the port where test_trace runs its
# OTLP receiver (and, the rest of the time, to nobody: the collector is down).
export SOUK_OTLP_URL="http://127.0.0.1:$SOUK_OTLP_TEST_PORT"
case "${1:-}" in
    start)
        procs_start_all
        wait_ready || { echo "e2e: the gateway did not become ready" >&2; exit 1; }
        for i in $(seq 1 50); do
            curl -fsS "$SOUK_PSP_URL/healthz" >/dev/null 2>&1 && break
            sleep 0.1
        done
        echo "e2e: stack up ($SOUK_URL, $SOUK_TLS_URL; gateway :$SOUK_GATEWAY_PORT, psp :$SOUK_PSP_PORT)"
        ;;
    stop)
        procs_stop_all
        # A test that starts a process of its own must stop it: one left
        # behind holds memory and ports for the rest of the run.
        left=""
        for pid in $(pgrep -f "^$SOUK_BUILD_DIR/(gateway|workers|psp)/" || true); do
            [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == Z* ]] && continue
            left+=" $pid:$(ps -o args= -p "$pid" 2>/dev/null | cut -c1-80)"
            kill -9 "$pid" 2>/dev/null || true
        done
        if [[ -n "$left" ]]; then
            echo "e2e: processes left behind by the tests (now killed):$left" >&2
            exit 1
        fi
        echo "e2e: stack stopped"
        ;;
    *) echo "usage: e2e-stack.sh start|stop" >&2; exit 2 ;;
esac
