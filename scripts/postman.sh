#!/usr/bin/env bash
# Runs the Postman collection (postman/souk.postman_collection.json) with its
# environment through newman, pinned and installed project-locally into
# .souk/node on first use. `./souk postman` runs it against `souk up`;
# tests/e2e/postman.sh runs it against the stack of `souk test`.
#   SOUK_POSTMAN_BASE_URL   gateway to test (default $SOUK_URL, the front of `souk up`)
#   SOUK_NODE_TOOLS         where newman is installed (default .souk/node)
#   SOUK_POSTMAN_JSON_EXPORT  also write newman's JSON report there
# Extra arguments go to newman (e.g. --verbose).
# Exits non-zero when a request fails or an assertion does not hold.
set -euo pipefail
SOUK_ROOT="${SOUK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# shellcheck source=scripts/node-tools.sh
source "$SOUK_ROOT/scripts/node-tools.sh"
collection="$SOUK_ROOT/postman/souk.postman_collection.json"
environment="$SOUK_ROOT/postman/souk.postman_environment.json"
base_url="${SOUK_POSTMAN_BASE_URL:-${SOUK_URL:-http://127.0.0.1:8080}}"

node_tools_require newman ||
    { echo "postman: newman could not be installed (npm missing? ./souk up installs it)" >&2; exit 1; }
newman="$(node_tools_dir)/node_modules/.bin/newman"
reporters=(--reporters cli)
# SOUK_POSTMAN_JSON_EXPORT: also every request and answer, as newman's JSON
# report (tests/openapi/responses.sh checks the answers against /openapi.json)
if [[ -n "${SOUK_POSTMAN_JSON_EXPORT:-}" ]]; then
    reporters=(--reporters cli,json --reporter-json-export "$SOUK_POSTMAN_JSON_EXPORT")
fi

echo "postman: running the collection against $base_url" >&2
# No --bail: every request runs and every failure is listed; newman exits 1
# when any assertion or request failed.
exec "$newman" run "$collection" \
    --environment "$environment" \
    --env-var "base_url=$base_url" \
    "${reporters[@]}" \
    --timeout-request 30000 \
    "$@" </dev/null
