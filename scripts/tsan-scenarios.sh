#!/usr/bin/env bash
# The tsan_scenarios test: souk-tsan-scenarios (tests/tsan/), the threaded
# modules' scenarios of tests/support/concurrency.c in one ThreadSanitizer
# process, on the stack of `souk test`, which builds it into
# $SOUK_TSAN_BUILD_DIR. Fails on a failed scenario and on any report:
# TSan stops the process at the first one (exit 66), with the report and
# its stacks on stderr. Under `souk test --tsan` the reports go to the log
# files of its TSAN_OPTIONS instead, which it checks at the end.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$SOUK_ROOT/scripts/stack.sh"
require_test_stack
bin="${SOUK_TSAN_BUILD_DIR:-$SOUK_ROOT/build/tsan}/tests/tsan/souk-tsan-scenarios"
[[ -x "$bin" ]] || skip_test "$bin is not built (souk test builds it: cmake -DSOUK_TSAN=ON -DSOUK_TESTS=OFF)"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 second_deadlock_stack=1}"
exec "$bin"
