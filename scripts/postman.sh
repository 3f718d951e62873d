#!/usr/bin/env bash
# Runs the Postman collection (postman/souk.postman_collection.json) with its
# environment through newman, pinned and installed project-locally into
# .souk/node on first use. `./souk postman` runs it against `souk up`;
# tests/e2e/postman.sh runs it against the stack of `souk test`.
#   SOUK_POSTMAN_BASE_URL   gateway to test (default $SOUK_URL, the front of `souk up`)
#   SOUK_NODE_TOOLS         where newman is installed (default .souk/node)
# Extra arguments go to newman (e.g. --verbose).
# Exits non-zero when a request fails or an assertion does not hold.
set -euo pipefail
SOUK_ROOT="${SOUK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NEWMAN_VERSION=6.2.2
tools="${SOUK_NODE_TOOLS:-$SOUK_ROOT/.souk/node}"
newman="$tools/node_modules/.bin/newman"
collection="$SOUK_ROOT/postman/souk.postman_collection.json"
environment="$SOUK_ROOT/postman/souk.postman_environment.json"
base_url="${SOUK_POSTMAN_BASE_URL:-${SOUK_URL:-http://127.0.0.1:8080}}"

command -v npm >/dev/null 2>&1 || { echo "postman: npm is missing (./souk up installs it)" >&2; exit 1; }

installed_version() {
    [[ -x "$newman" ]] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' \
        "$tools/node_modules/newman/package.json" 2>/dev/null || true
}

if [[ "$(installed_version)" != "$NEWMAN_VERSION" ]]; then
    echo "postman: installing newman@$NEWMAN_VERSION into $tools" >&2
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" "newman@$NEWMAN_VERSION" \
        </dev/null >/dev/null 2>&1 ||
        npm install --no-audit --no-fund --prefix "$tools" "newman@$NEWMAN_VERSION" </dev/null
    [[ "$(installed_version)" == "$NEWMAN_VERSION" ]] ||
        { echo "postman: newman@$NEWMAN_VERSION did not install into $tools" >&2; exit 1; }
fi

echo "postman: running the collection against $base_url" >&2
# No --bail: every request runs and every failure is listed; newman exits 1
# when any assertion or request failed.
exec "$newman" run "$collection" \
    --environment "$environment" \
    --env-var "base_url=$base_url" \
    --reporters cli \
    --timeout-request 30000 \
    "$@" </dev/null
