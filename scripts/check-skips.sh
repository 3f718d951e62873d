#!/usr/bin/env bash
# A test that cannot run is reported as not run, never as passed (STYLE.md):
#   (a) an integration and an e2e test binary, started without the
#       environment of `souk test`, exit 77 (SKIP_RETURN_CODE) before any
#       test runs;
#   (b) ctest, run in this build without that environment, reports every
#       integration and e2e test (Criterion binaries, shell tests and the
#       stack fixture) as skipped, none as passed or failed;
#   (c) souk_test_skipped, which makes `souk test` fail, names the skipped
#       tests of that ctest report.
# Registered with ctest (tests/CMakeLists.txt runs every scripts/check-*.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
build="${SOUK_BUILD_DIR:-$root/build/test}"
[[ -f "$build/tests/CTestTestfile.cmake" ]] || { echo "check-skips: no test build in $build" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Nothing of `souk test`'s environment. The state and build folders point
# nowhere, so that even a test that ignored the missing stack could not
# reach the stack of a `souk test` running this check.
bare() {
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" SOUK_TEST_STATE="$tmp/state" \
        SOUK_TEST_BUILD_DIR="$tmp/no-build" "$@"
}

# ------------------------------------------------------------- (a) binaries
for t in test_foundation test_saga; do
    rc=0
    bare "$build/tests/$t" --jobs 1 >"$tmp/$t.out" 2>&1 || rc=$?
    if [[ $rc -eq $SOUK_TEST_SKIP_CODE ]] && ! grep -q 'Synthesis' "$tmp/$t.out"; then
        check_pass
    else
        check_fail "$t without the stack exited $rc (want $SOUK_TEST_SKIP_CODE, no test run):"
        sed 's/^/    /' "$tmp/$t.out" >&2
    fi
done

# ---------------------------------------------------------------- (b) ctest
# In the tests folder of the build, so that this ctest's Testing/ files do
# not overwrite those of the ctest running this check.
rc=0
bare ctest --test-dir "$build/tests" -L '^(integration|e2e)$' --timeout 30 \
    --output-junit "$tmp/junit.xml" >"$tmp/ctest.out" 2>&1 || rc=$?
[[ $rc -eq 0 ]] && check_pass || check_fail "ctest without the stack exited $rc (skips are not failures)"
total="$(grep -c '<testcase ' "$tmp/junit.xml" 2>/dev/null || true)"
notrun="$(grep -c '<testcase [^>]*status="notrun"' "$tmp/junit.xml" 2>/dev/null || true)"
if [[ "${total:-0}" -gt 0 && "$total" == "$notrun" ]]; then
    check_pass
else
    check_fail "ctest without the stack: ${notrun:-0} of ${total:-0} integration/e2e tests skipped, the others passed or failed:"
    grep -E 'Test +#' "$tmp/ctest.out" | grep -v 'Skipped' | sed 's/^/    /' >&2 || true
fi

# ------------------------------------------------------ (c) souk test's verdict
rc=0
souk_test_skipped "$tmp/junit.xml" >"$tmp/verdict" 2>&1 || rc=$?
if [[ $rc -ne 0 ]] && grep -q test_foundation "$tmp/verdict" && grep -q e2e_postman "$tmp/verdict"; then
    check_pass
else
    check_fail "souk_test_skipped did not fail naming the skipped tests (rc $rc):"
    sed 's/^/    /' "$tmp/verdict" >&2
fi

checks_done skips "$total integration/e2e tests reported skipped without the stack"
