# Sourced by the e2e scripts that run souk-load against the stack of `souk
# test` (ctest fixture "stack"), with the script's name as argument and
# SOUK_ROOT set. Leaves: the test profile's variables (scripts/stack.sh),
# $load_bin (souk-load of the build under test), LOAD_ARGS (its options for
# this stack), and load_assert_json FILE, which fails (exit 1, naming what
# broke) unless the JSON figures of the run in FILE say: every checkout
# accepted, every order final and ended as its scenario says, no invariant
# failed or skipped.
load_e2e_name="$1"
load_build="${SOUK_BUILD_DIR:-}"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"
require_test_stack
stack_use_profile test
load_bin="${load_build:-$SOUK_BUILD_DIR}/bench/souk-load"
[[ -x "$load_bin" ]] || { echo "$load_e2e_name: $load_bin is not built" >&2; exit 1; }
load_stack_args

load_fail() { echo "$load_e2e_name: $*" >&2; exit 1; }

load_assert_json() {
    local out="$1"
    jq -e '.ok == true' "$out" >/dev/null || load_fail "souk-load reports a failed invariant"
    jq -e '.checkouts.started > 0 and .checkouts.accepted == .checkouts.started' "$out" >/dev/null ||
        load_fail "not every checkout was accepted"
    jq -e '.checkouts.stuck == 0 and
           .checkouts.completed + ([.checkouts.cancelled[]] | add) == .checkouts.accepted' "$out" >/dev/null ||
        load_fail "not every order reached a final state"
    jq -e '.checkouts.unexpected_outcome == 0' "$out" >/dev/null ||
        load_fail "an order ended other than its scenario says (e.g. a tok_approve order cancelled)"
    jq -e '[.invariants[] | select(.state == "failed")] | length == 0' "$out" >/dev/null ||
        load_fail "an invariant failed"
    jq -e '[.invariants[] | select(.state == "skipped")] | length == 0' "$out" >/dev/null ||
        load_fail "an invariant was skipped (database or management API not reachable?)"
}
