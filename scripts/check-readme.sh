#!/usr/bin/env bash
# The README documents every configuration variable the code reads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${SOUK_BUILD_DIR:-$root/build/test}/gateway/souk-gateway"
[[ -x "$bin" ]] || bin="$root/build/release/gateway/souk-gateway"
[[ -x "$bin" ]] || { echo "readme: souk-gateway is not built ($bin)" >&2; exit 1; }
# A list read from a failing command would check nothing and pass.
vars="$("$bin" --config-vars)" || { echo "readme: $bin --config-vars failed" >&2; exit 1; }
[[ -n "$vars" ]] || { echo "readme: $bin --config-vars printed nothing" >&2; exit 1; }
missing=0
checked=0
while IFS=$'\t' read -r name _; do
    checked=$((checked + 1))
    if ! grep -q "\`$name\`" "$root/README.md"; then
        echo "README lacks $name" >&2
        missing=$((missing + 1))
    fi
done <<<"$vars"
echo "readme: $checked variables checked, $missing missing"
[[ $missing -eq 0 ]]
