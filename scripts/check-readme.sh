#!/usr/bin/env bash
# The README documents every configuration variable the code reads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${SOUK_BUILD_DIR:-$root/build/test}/gateway/souk-gateway"
[[ -x "$bin" ]] || bin="$root/build/release/gateway/souk-gateway"
missing=0
while IFS=$'\t' read -r name _; do
    if ! grep -q "\`$name\`" "$root/README.md"; then
        echo "README lacks $name" >&2
        missing=$((missing + 1))
    fi
done < <("$bin" --config-vars)
echo "readme: $("$bin" --config-vars | wc -l) variables checked, $missing missing"
[[ $missing -eq 0 ]]
