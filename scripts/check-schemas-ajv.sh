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
# shellcheck source=scripts/node-tools.sh
source "$root/scripts/node-tools.sh"
node_tools_require ajv-cli ajv ajv-formats ||
    skip_test "ajv could not be installed from npm (is npm installed? apt-get install npm)"
tools="$(node_tools_dir)"
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
# The HTTP schemas (request bodies, and the answers of schemas/http/responses/,
# which refer to each other) compile under ajv's strict mode: the C validator
# checks the bodies and the OpenAPI document is made of both.
responses=("$root"/schemas/http/responses/*.json)
compiled=0
for schema in "$root"/schemas/http/*.json "${responses[@]}"; do
    refs=()
    for other in "${responses[@]}"; do [[ "$other" == "$schema" ]] || refs+=(-r "$other"); done
    if ! (cd "$tools" && "$ajv" compile --spec=draft2020 --strict=true -c ajv-formats -s "$schema" \
        "${refs[@]}" >/dev/null 2>/tmp/souk-ajv.$$); then
        echo "ajv does not compile ${schema#$root/}: $(cat /tmp/souk-ajv.$$)" >&2
        failed=$((failed + 1))
    fi
    compiled=$((compiled + 1))
done
rm -f /tmp/souk-ajv.$$
echo "ajv: $checked samples checked, $compiled HTTP schemas compiled, $failed disagreements"
[[ $checked -gt 0 && $compiled -gt 0 && $failed -eq 0 ]]
