# Node tools the scripts and tests use, pinned, installed on first use into
# one project-local folder (npm from the registry, nothing global):
#   SOUK_NODE_TOOLS   the folder (default .souk/node), its node_modules/.bin
# Sourced by scripts/postman.sh, scripts/check-*.sh and tests/e2e/*.sh.

# Every pin in one place, so that two scripts never install two versions
# of one package into the one folder.
SOUK_NODE_PINS=(
    newman@6.2.2
    ajv-cli@5.0.0
    ajv@8.17.1
    ajv-formats@2.1.1
    @redocly/cli@2.77.0
    openapi-typescript@7.13.0
    openapi-fetch@0.17.0
    typescript@5.9.3
)

node_tools_dir() {
    echo "${SOUK_NODE_TOOLS:-${SOUK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/.souk/node}"
}

# The pinned "name@version" of a package name.
node_tools_pin() {
    local pin
    for pin in "${SOUK_NODE_PINS[@]}"; do
        [[ "${pin%@*}" == "$1" ]] && { echo "$pin"; return 0; }
    done
    echo "node-tools: $1 has no pin in scripts/node-tools.sh" >&2
    return 1
}

node_tools_installed() { # name version
    node -e 'process.stdout.write(require(process.argv[1]).version)' \
        "$(node_tools_dir)/node_modules/$1/package.json" 2>/dev/null || true
}

# Installs the named packages at their pins when they are missing or at
# another version (one npm run, under a lock). Returns 1 when npm is missing
# or the install fails; the caller decides whether that fails or skips.
node_tools_require() {
    local tools missing=() name pin
    tools="$(node_tools_dir)"
    command -v npm >/dev/null 2>&1 || { echo "node-tools: npm is not installed" >&2; return 1; }
    for name in "$@"; do
        pin="$(node_tools_pin "$name")" || return 1
        [[ "$(node_tools_installed "$name")" == "${pin##*@}" ]] || missing+=("$pin")
    done
    [[ ${#missing[@]} -gt 0 ]] || return 0
    mkdir -p "$tools"
    (
        flock 9
        echo "node-tools: installing ${missing[*]} into $tools" >&2
        npm install --silent --no-audit --no-fund --prefix "$tools" "${missing[@]}" \
            </dev/null >/dev/null 2>&1 ||
            npm install --no-audit --no-fund --prefix "$tools" "${missing[@]}" </dev/null >&2
    ) 9>"$tools/.install.lock" || return 1
    for name in "$@"; do
        pin="$(node_tools_pin "$name")"
        [[ "$(node_tools_installed "$name")" == "${pin##*@}" ]] ||
            { echo "node-tools: $pin did not install into $tools" >&2; return 1; }
    done
}
