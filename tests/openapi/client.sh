# Generates a typed client from an OpenAPI document and type-checks
# tests/openapi/checkout.mts against it (sourced by scripts/check-openapi.sh
# and tests/e2e/openapi_client.sh):
#   openapi_client_build DOC DIR   souk.d.ts from DOC (openapi-typescript),
#                                  compiled with tsc into DIR/out/checkout.mjs
# DIR must be below the node tools folder, so that node and tsc find
# openapi-fetch in its node_modules.
openapi_client_build() {
    local doc="$1" dir="$2" tools here
    tools="$(node_tools_dir)"
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$here/checkout.mts" "$here/tsconfig.json" "$dir/"
    "$tools/node_modules/.bin/openapi-typescript" "$doc" --output "$dir/souk.d.ts" >&2 || return 1
    "$tools/node_modules/.bin/tsc" -p "$dir/tsconfig.json" >&2 || return 1
}
