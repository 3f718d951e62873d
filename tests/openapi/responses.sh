#!/usr/bin/env bash
# ctest hook (openapi_responses, a cleanup of the e2e fixture "stack", so it
# runs after every e2e test and the Postman run): checks every answer they
# received from a gateway, as the harness and newman recorded them in
# SOUK_TEST_HTTP_RECORD_DIR, against the OpenAPI document the gateway serves
# (tests/openapi/responses.cjs). Zero violations, or it fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
# shellcheck source=scripts/node-tools.sh
source "$root/scripts/node-tools.sh"
require_test_stack
: "${SOUK_TEST_HTTP_RECORD_DIR:?SOUK_TEST_HTTP_RECORD_DIR is not set (run through ./souk test)}"
node_tools_require ajv ajv-formats || skip_test "ajv could not be installed from npm"
doc="$SOUK_TEST_HTTP_RECORD_DIR/../openapi-responses.json"
# the document of the stack's gateway (development configuration)
env -u SOUK_ENV "$SOUK_BUILD_DIR/gateway/souk-gateway" --openapi >"$doc"
NODE_PATH="$(node_tools_dir)/node_modules" node "$root/tests/openapi/responses.cjs" "$doc" \
    "$SOUK_TEST_HTTP_RECORD_DIR"
