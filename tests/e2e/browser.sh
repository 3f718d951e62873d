#!/usr/bin/env bash
# ctest hook (e2e_browser): the browser console in Chromium. Debian's
# /usr/bin/chromium (the chromium package `souk test` installs), headless,
# driven by playwright-core from web/'s locked npm packages (it never
# downloads a browser), runs web/e2e/*.test.ts with node's test runner
# against the front of `souk test`: the storefront bought through, each
# failure scenario, the saga view, the admin console (sagas, dead letters,
# catalog and stock, analytics, the system view under load), Swagger UI, a
# phone's width, the keyboard, and no page logging an error. Screenshots go to
# <build tree>/screenshots (README "The browser console" shows some).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
require_test_stack
: "${SOUK_TEST_GATEWAY_URL:?SOUK_TEST_GATEWAY_URL is not set (run through ./souk test)}"
chromium="${SOUK_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || skip_test "no $chromium (apt-get install chromium; ./souk test installs it)"
web_require || skip_test "the console's npm packages could not be installed (is npm installed?)"
export SOUK_CHROMIUM="$chromium"
export SOUK_SCREENSHOTS="${SOUK_BUILD_DIR:-$root/build/test}/screenshots"
rm -rf "$SOUK_SCREENSHOTS" && mkdir -p "$SOUK_SCREENSHOTS"
cd "$(web_dir)"
npm run --silent test:unit
# SOUK_BROWSER_TESTS=console (words of file names) runs only those files,
# for working on one page: ./souk test -R browser with it set
# shellcheck disable=SC2086
npm run --silent test:browser -- ${SOUK_BROWSER_TESTS:-}
echo "browser: screenshots in $SOUK_SCREENSHOTS"
