#!/usr/bin/env bash
# House-style checks run by the test suite: clang-format conformance and the
# functions STYLE.md bans from product code (atoi, sprintf, strcpy, ...).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
command -v clang-format >/dev/null 2>&1 || skip_test "clang-format is not installed (apt-get install clang-format)"
mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')
status=0
if ! clang-format --dry-run -Werror "${sources[@]}" 2>/tmp/souk-format.$$; then
    head -40 /tmp/souk-format.$$ >&2
    echo "lint: files are not clang-formatted (run: clang-format -i \$(git ls-files '*.c' '*.h'))" >&2
    status=1
fi
rm -f /tmp/souk-format.$$
product=()
for f in "${sources[@]}"; do
    [[ "$f" == tests/* ]] || product+=("$f")
done
if grep -nE '\b(atoi|atol|sprintf|vsprintf|strcpy|strcat|gets)\s*\(' "${product[@]}"; then
    echo "lint: banned function in product code (use strtol, snprintf, memcpy with a length)" >&2
    status=1
fi
# One unit of work for every writer (events/tx.h): no transaction is begun,
# committed or rolled back anywhere else. The relay's own marking of rows,
# the operator tools and the benchmarks' raw baselines hold no events.
writers=()
for f in "${product[@]}"; do
    case "$f" in
        events/tx.c | events/outbox.c | tools/* | bench/*) ;;
        *) writers+=("$f") ;;
    esac
done
if grep -nE '"(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|END)[ ;"]' "${writers[@]}"; then
    echo "lint: a transaction outside the unit of work (use souk_tx_begin, souk_tx_commit, souk_tx_free)" >&2
    status=1
fi
# The dispatcher enforces what the route table declares (gateway/routes.h):
# it checks access and reads the body before a handler runs, and handlers
# take req->body. No handler reads a body (or names its schema) itself.
handlers=()
for f in "${product[@]}"; do
    case "$f" in
        gateway/server.c | gateway/http.c | gateway/http.h) ;;
        gateway/*) handlers+=("$f") ;;
    esac
done
if grep -nE '\bsouk_http_read_body[[:space:]]*\(' "${handlers[@]}"; then
    echo "lint: a handler reads its own body (declare the schema in gateway/routes.c; use req->body)" >&2
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "lint: ${#sources[@]} files clean"
fi
exit $status
