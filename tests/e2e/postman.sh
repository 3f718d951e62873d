#!/usr/bin/env bash
# ctest hook (e2e_postman): runs the Postman collection with newman against
# the stack that scripts/e2e-stack.sh started for `souk test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${SOUK_TEST_GATEWAY_URL:?SOUK_TEST_GATEWAY_URL is not set (run through ./souk test)}"
SOUK_POSTMAN_BASE_URL="$SOUK_TEST_GATEWAY_URL" exec "$root/scripts/postman.sh" "$@"
