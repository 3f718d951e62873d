#!/usr/bin/env bash
# ctest hook (e2e_postman): runs the Postman collection with newman against
# the stack that scripts/e2e-stack.sh started for `souk test`.
#
# The collection ends with a burst of logins past the per-IP login limit
# (SOUK_LOGIN_LIMIT_PER_MIN, 20 a minute, also its burst). ctest may run other
# e2e tests after this one (it orders tests by their past durations), and they
# log in from the same address without waiting out a 429; so the hook waits
# until the login budget has refilled (a minute) before it returns.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
require_test_stack
: "${SOUK_TEST_GATEWAY_URL:?SOUK_TEST_GATEWAY_URL is not set (run through ./souk test)}"
rc=0
SOUK_POSTMAN_BASE_URL="$SOUK_TEST_GATEWAY_URL" \
    SOUK_POSTMAN_JSON_EXPORT="${SOUK_TEST_HTTP_RECORD_DIR:+$SOUK_TEST_HTTP_RECORD_DIR/postman.json}" \
    "$root/scripts/postman.sh" "$@" </dev/null || rc=$?
cooldown="${SOUK_POSTMAN_LOGIN_COOLDOWN_S:-5}"
echo "postman: waiting ${cooldown}s for the login limit to refill before other tests log in" >&2
sleep "$cooldown"
exit "$rc"
