# The browser console (web/, README "The browser console"), for the
# scripts: its npm packages, exact versions locked by web/package-lock.json,
# installed with `npm ci` into web/node_modules on first use and again
# whenever the lock changes (the lock's hash is kept beside them); and its
# build into <build tree>/web, where the gateway finds it. The build is
# typed against the OpenAPI document of the gateway of that tree
# (openapi-typescript), type-checked (tsc) and bundled (Vite). Nothing is
# fetched at run time: the gateway serves every file. Sourced by
# scripts/stack.sh (build_tree) and tests/e2e/browser.sh; both need npm.

web_dir() { echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"; }

# Installs web/'s packages when missing or locked differently (one npm ci,
# under a lock). Returns 1 when npm is missing or the install fails.
web_require() {
    local dir want stamp
    dir="$(web_dir)"
    command -v npm >/dev/null 2>&1 || { echo "web: npm is not installed" >&2; return 1; }
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    stamp="$dir/node_modules/.souk-lock-sha256"
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
    (
        flock 9
        [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && exit 0
        echo "web: installing the console's npm packages (npm ci, web/package-lock.json)" >&2
        # web/.npmrc: no install scripts, no audit. Playwright never
        # downloads a browser (the tests drive Debian's chromium), and
        # swagger-ui-dist's install analytics stay off.
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 SCARF_ANALYTICS=false \
            npm ci --no-audit --no-fund --loglevel=error) </dev/null >&2 || exit 1
        echo "$want" >"$stamp"
    ) 9>"$dir/.npm-install.lock"
}

# The sources a build reads (not node_modules, not the generated types),
# with the OpenAPI document, as one hash: the build is skipped when it is
# that of the last one.
web_inputs_hash() {
    local dir="$1" doc="$2"
    {
        (cd "$dir" && find index.html docs src vite.config.ts package.json package-lock.json \
            tsconfig.json -type f ! -path src/api/schema.d.ts -print0 | sort -z | xargs -0 sha256sum)
        sha256sum <"$doc"
    } | sha256sum | cut -d' ' -f1
}

# web_build <build tree>: the console into <tree>/web, typed against what
# <tree>'s souk-gateway --openapi prints. Returns 1 on any failure (shown).
web_build() {
    local tree="$1" dir out doc inputs
    dir="$(web_dir)"
    out="$tree/web"
    doc="$tree/openapi.json"
    web_require || return 1
    # the development document (SOUK_ENV=production only adds /metrics' guard)
    env -u SOUK_ENV "$tree/gateway/souk-gateway" --openapi >"$doc.tmp" || return 1
    mv "$doc.tmp" "$doc"
    inputs="$(web_inputs_hash "$dir" "$doc")"
    [[ -f "$out/.souk-inputs" && "$(cat "$out/.souk-inputs")" == "$inputs" ]] && return 0
    (
        flock 9
        cd "$dir" &&
            SOUK_OPENAPI="$doc" npm run --silent gen:api >/dev/null &&
            npm run --silent typecheck &&
            ./node_modules/.bin/vite build --outDir "$out" --emptyOutDir --logLevel warn
    ) 9>"$dir/.build.lock" >&2 || return 1
    echo "$inputs" >"$out/.souk-inputs"
}
