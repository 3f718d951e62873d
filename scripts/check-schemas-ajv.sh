#!/usr/bin/env bash
# Validates every sample payload in tests/schemas/<Event>/{valid,invalid}/
# against schemas/events/<Event>.json with ajv (a full JSON Schema 2020-12
# validator from npm, pinned), and fails when a verdict differs from the
# folder the sample sits in. test_jsonschema checks the C validator against
# the same folders, so the two validators agree on every sample.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
tools="${SOUK_NODE_TOOLS:-$root/.souk/node}"
if [[ ! -x "$tools/node_modules/.bin/ajv" ]]; then
    command -v npm >/dev/null 2>&1 || skip_test "npm is not installed; it installs ajv (apt-get install npm)"
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" ajv-cli@5.0.0 ajv-formats@2.1.1 >/dev/null 2>&1 ||
        npm install --no-audit --no-fund --prefix "$tools" ajv-cli@5.0.0 ajv-formats@2.1.1 ||
        skip_test "ajv could not be installed from npm (offline?)"
fi
ajv="$tools/node_modules/.bin/ajv"
checked=0
failed=0
for dir in "$root"/tests/schemas/*/; do
    event="$(basename "$dir")"
    schema="$root/schemas/events/$event.json"
    [[ -f "$schema" ]] || { echo "no schema for samples of $event" >&2; failed=$((failed + 1)); continue; }
    # One ajv run per event (node starts slowly); it prints "<file> valid"
    # or "<file> invalid" for each sample.
    mapfile -t samples < <(ls "$dir"valid/*.json "$dir"invalid/*.json 2>/dev/null)
    [[ ${#samples[@]} -gt 0 ]] || continue
    args=()
    for sample in "${samples[@]}"; do args+=(-d "$sample"); done
    output="$(cd "$tools" && "$ajv" validate --spec=draft2020 --strict=true -c ajv-formats -s "$schema" "${args[@]}" 2>&1 || true)"
    for sample in "${samples[@]}"; do
        checked=$((checked + 1))
        kind="$(basename "$(dirname "$sample")")"
        if grep -qxF "$sample valid" <<<"$output"; then
            verdict=valid
        elif grep -qF "$sample invalid" <<<"$output"; then
            verdict=invalid
        else
            verdict="unreadable"
        fi
        if [[ "$verdict" != "$kind" ]]; then
            echo "ajv says $verdict, folder says $kind: ${sample#$root/}" >&2
            failed=$((failed + 1))
        fi
    done
done
echo "ajv: $checked samples checked, $failed disagreements"
[[ $checked -gt 0 && $failed -eq 0 ]]
