#!/usr/bin/env bash
# ctest hook (e2e_openapi_client): a client generated from the /openapi.json
# the stack's gateway serves (openapi-typescript, openapi-fetch), compiled
# with tsc against tests/openapi/checkout.mts, logs in, stocks a product,
# checks out as a new customer and reads the order until it is COMPLETED,
# through the front of `souk test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
# shellcheck source=scripts/node-tools.sh
source "$root/scripts/node-tools.sh"
# shellcheck source=tests/openapi/client.sh
source "$root/tests/openapi/client.sh"
require_test_stack
: "${SOUK_TEST_GATEWAY_URL:?SOUK_TEST_GATEWAY_URL is not set (run through ./souk test)}"
node_tools_require openapi-typescript openapi-fetch typescript ||
    skip_test "the OpenAPI tools could not be installed from npm"
work="$(node_tools_dir)/openapi-client.$$"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
curl -fsS "$SOUK_TEST_GATEWAY_URL/openapi.json" -o "$work/openapi.json"
openapi_client_build "$work/openapi.json" "$work/client"
SOUK_GATEWAY_URL="$SOUK_TEST_GATEWAY_URL" node "$work/client/out/checkout.mjs"
