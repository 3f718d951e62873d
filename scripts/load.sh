#!/usr/bin/env bash
# souk load [options]: scripted checkout load against the stack of `souk up`
# (profile dev), then the invariant checks. Runs
# $SOUK_BUILD_DIR/bench/souk-load (build/release; built first when missing)
# with the dev stack's gateway URL, a superuser PostgreSQL connection for the
# money and outbox checks, the RabbitMQ management API for the DLQ check and
# the pid files of the Souk processes for peak RSS. The user's options come
# last and win. Examples:
#   ./souk load --concurrency 32 --duration 20   closed loop
#   ./souk load --rate 50 --duration 60 --json   open loop, figures as JSON
#   ./souk load --help                           every option
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"
stack_use_profile dev

bin="$SOUK_BUILD_DIR/bench/souk-load"
if [[ ! -x "$bin" ]]; then
    log "building $bin"
    build_tree "$SOUK_BUILD_DIR" OFF
fi
for arg in "$@"; do
    [[ "$arg" == --help || "$arg" == --raw-pg-rate* ]] && exec "$bin" "$@"
done
curl -fsS "$SOUK_URL/readyz" >/dev/null 2>&1 ||
    die "the gateway at $SOUK_URL is not ready; start the stack with ./souk up"

load_stack_args
exec "$bin" "${LOAD_ARGS[@]}" "$@"
