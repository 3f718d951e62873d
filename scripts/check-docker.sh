#!/usr/bin/env bash
# Checks the container files against the code, without a Docker engine:
#   (a) docker/docker-compose.yml is valid (`docker-compose config -q`);
#   (b) its SOUK_ variables are exactly those of `souk-gateway --config-vars`
#       (every one but the "test hook:" ones must appear; no unknown name may);
#   (c) it runs every process of ARCHITECTURE.md (gateway, psp, one service
#       per worker type), workers scale (no container_name, no ports), every
#       service has a healthcheck and waits only on healthy/completed services;
#   (d) docker/rabbitmq/definitions.json gives each broker user the
#       permissions `souk-worker --permissions <service>` prints, the tags
#       scripts/stack.sh gives it, and password = user name;
#   (e) docker/Dockerfile builds with README.md's release commands, copies
#       every source folder the build reads, puts every souk-* program the
#       compose file runs into the image, and the migrations where the
#       migrate job reads them.
# Registered with ctest (tests/CMakeLists.txt runs every scripts/check-*.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
compose="$root/docker/docker-compose.yml"
dockerfile="$root/docker/Dockerfile"
definitions="$root/docker/rabbitmq/definitions.json"
rabbitconf="$root/docker/rabbitmq/rabbitmq.conf"
readme="$root/README.md"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"

# The release build of README.md's "Building by hand"; the Dockerfile must
# run exactly these.
build_commands=(
    "cmake -S . -B build -DSOUK_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo"
    "cmake --build build -j2"
)
# The processes of ARCHITECTURE.md; souk-worker's usage adds any newer one.
architecture_workers=(order inventory payment shipping analytics notification)
souk_image_processes=(gateway psp migrate)
# Where the image keeps sql/ for the migrate job (souk-migrate --sql).
migrations_in_image=/opt/souk/sql

fatal() {
    printf 'check-docker: %s\n' "$*" >&2
    exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for f in "$compose" "$dockerfile" "$definitions" "$rabbitconf" "$readme"; do
    [[ -f "$f" ]] || fatal "missing ${f#"$root"/}"
done
command -v jq >/dev/null 2>&1 || skip_test "jq is not installed (apt-get install jq)"

find_bin() {
    local rel="$1" dir
    for dir in "${SOUK_BUILD_DIR:-}" "$root/build/test" "$root/build/release"; do
        if [[ -n "$dir" && -x "$dir/$rel" ]]; then
            printf '%s\n' "$dir/$rel"
            return 0
        fi
    done
    return 1
}
gateway_bin="$(find_bin gateway/souk-gateway)" ||
    fatal "souk-gateway not found in \$SOUK_BUILD_DIR, build/test or build/release (run ./souk build)"
worker_bin="$(find_bin workers/souk-worker)" ||
    fatal "souk-worker not found in \$SOUK_BUILD_DIR, build/test or build/release (run ./souk build)"

# ------------------------------------------------------------ (a) validity
if ! command -v docker-compose >/dev/null 2>&1; then
    skip_test "docker-compose is not installed; it validates docker/docker-compose.yml (apt-get install docker-compose; ./souk test installs it)"
fi
if docker-compose -f "$compose" config -q 2>"$tmp/compose.err"; then
    check_pass
else
    check_fail "docker-compose rejects docker/docker-compose.yml:"
    sed 's/^/    /' "$tmp/compose.err" >&2
fi
# Compose v2 (`docker compose`), which README.md shows, when it is there.
if docker compose version >/dev/null 2>&1; then
    if docker compose -f "$compose" config -q 2>"$tmp/compose2.err"; then
        check_pass
    else
        check_fail "docker compose (v2) rejects docker/docker-compose.yml:"
        sed 's/^/    /' "$tmp/compose2.err" >&2
    fi
fi

# The resolved file (anchors and merges applied) as lines of
#   svc <service> | key <service> <key> | env <service> <NAME> <value>
#   cmd <service> <command words> | dep <service> <dependency> <condition>
docker-compose -f "$compose" config 2>/dev/null | awk '
    /^[^ ]/ { in_services = ($0 == "services:"); next }
    !in_services { next }
    /^  [^ ].*:$/ { svc = substr($0, 3, length($0) - 3); key = ""; dep = "";
                    print "svc", svc; if (cmd != "") print cmd; cmd = ""; next }
    /^    [^ -][^:]*:/ { key = $1; sub(/:$/, "", key); print "key", svc, key;
                         if (key == "command") cmd = "cmd " svc; next }
    key == "command" && /^    - / { sub(/^    - /, ""); gsub(/^'\''|'\''$/, ""); cmd = cmd " " $0; next }
    key == "environment" && /^      [^ ][^:]*:/ {
        name = $1; sub(/:$/, "", name); value = $0; sub(/^[^:]*: ?/, "", value);
        gsub(/^'\''|'\''$/, "", value); print "env", svc, name, value; next }
    key == "depends_on" && /^      - / { d = $0; sub(/^      - /, "", d); print "dep", svc, d, "none"; next }
    key == "depends_on" && /^      [^ ][^:]*:$/ { dep = $1; sub(/:$/, "", dep); next }
    key == "depends_on" && /^        condition:/ { print "dep", svc, dep, $2; next }
    END { if (cmd != "") print cmd }
' >"$tmp/resolved"
[[ -s "$tmp/resolved" ]] || fatal "could not read the resolved compose file"

services() { awk '$1 == "svc" { print $2 }' "$tmp/resolved"; }
has_key() { grep -qx "key $1 $2" "$tmp/resolved"; }
command_of() { awk -v s="$1" '$1 == "cmd" && $2 == s { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' "$tmp/resolved"; }

# ------------------------------------------------------- (b) variable drift
"$gateway_bin" --config-vars >"$tmp/config-vars" || fatal "souk-gateway --config-vars failed"
cut -f1 "$tmp/config-vars" | sort -u >"$tmp/known"
awk -F'\t' '$3 !~ /^test hook:/ { print $1 }' "$tmp/config-vars" | sort -u >"$tmp/required"
[[ -s "$tmp/known" ]] || fatal "souk-gateway --config-vars printed nothing"
grep -o 'SOUK_[A-Z0-9_]*' "$compose" | sort -u >"$tmp/used" || true

unknown="$(comm -13 "$tmp/known" "$tmp/used")"
if [[ -z "$unknown" ]]; then
    check_pass
else
    check_fail "docker-compose.yml uses SOUK_ names the config module does not read:"
    sed 's/^/    /' <<<"$unknown" >&2
fi
missing="$(comm -23 "$tmp/required" "$tmp/used")"
if [[ -z "$missing" ]]; then
    check_pass
else
    check_fail "docker-compose.yml lacks variables of souk-gateway --config-vars:"
    sed 's/^/    /' <<<"$missing" >&2
fi

# Every Souk process sees the whole configuration (the x-souk-env block),
# and listens on all interfaces of its container.
souk_services=()
mapfile -t souk_services < <(
    for s in $(services); do
        if awk -v s="$s" '$1 == "cmd" && $2 == s' "$tmp/resolved" | grep -qE ' souk-(gateway|psp|worker|migrate)( |$)'; then
            echo "$s"
        fi
    done
)
for s in "${souk_services[@]}"; do
    awk -v s="$s" '$1 == "env" && $2 == s { print $3 }' "$tmp/resolved" | sort -u >"$tmp/env.$s"
    lacking="$(comm -23 "$tmp/required" "$tmp/env.$s")"
    if [[ -z "$lacking" ]]; then
        check_pass
    else
        check_fail "service $s does not get every variable (merge the x-souk-env block): $(tr '\n' ' ' <<<"$lacking")"
    fi
    bind="$(awk -v s="$s" '$1 == "env" && $2 == s && $3 == "SOUK_BIND_ADDRESS" { print $4 }' "$tmp/resolved")"
    if [[ "$bind" == "0.0.0.0" ]]; then
        check_pass
    else
        check_fail "service $s: SOUK_BIND_ADDRESS must be 0.0.0.0 in a container (is '$bind')"
    fi
done

# ------------------------------------------------- (c) processes and scaling
workers=("${architecture_workers[@]}")
for w in $("$worker_bin" --services); do
    [[ " ${workers[*]} " == *" $w "* ]] || workers+=("$w")
done
all_services=" $(services | tr '\n' ' ') "
for s in postgres rabbitmq "${souk_image_processes[@]}" "${workers[@]}"; do
    if [[ "$all_services" == *" $s "* ]]; then
        check_pass
    else
        check_fail "no service '$s' in docker-compose.yml"
    fi
done
expect_command() {
    local svc="$1" want="$2" got
    [[ "$all_services" == *" $svc "* ]] || return 0
    got="$(command_of "$svc")"
    if [[ "$got" == "$want" ]]; then
        check_pass
    else
        check_fail "service $svc: command is '$got', expected '$want'"
    fi
}
expect_command gateway souk-gateway
expect_command psp souk-psp
expect_command migrate "souk-migrate --sql $migrations_in_image --wait 60 --declare-topology"
for w in "${workers[@]}"; do
    expect_command "$w" "souk-worker $w"
    [[ "$all_services" == *" $w "* ]] || continue
    for k in container_name ports; do
        if has_key "$w" "$k"; then
            check_fail "worker service $w has $k: it could not be scaled (--scale $w=3)"
        else
            check_pass
        fi
    done
done
# Clients reach the gateway only through the front, which holds slow ones.
if has_key front ports; then check_pass; else check_fail "service front publishes no port"; fi
if has_key gateway ports; then
    check_fail "service gateway publishes a port: clients must come through the front"
else
    check_pass
fi
if grep -q 'nginx/souk.conf.template:/etc/nginx/templates/souk.conf.template' "$compose"; then
    check_pass
else
    check_fail "service front does not mount docker/nginx/souk.conf.template (the configuration souk up runs)"
fi
for s in $(services); do
    if has_key "$s" healthcheck; then check_pass; else check_fail "service $s has no healthcheck"; fi
done
bad_deps="$(awk '$1 == "dep" && $4 != "service_healthy" && $4 != "service_completed_successfully" {
    print "    " $2 " -> " $3 " (" $4 ")" }' "$tmp/resolved")"
if [[ -z "$bad_deps" ]]; then
    check_pass
else
    check_fail "depends_on must wait for service_healthy or service_completed_successfully:"
    printf '%s\n' "$bad_deps" >&2
fi
if grep -qx 'load_definitions *= */etc/rabbitmq/definitions.json' "$rabbitconf" &&
    grep -q 'rabbitmq/definitions.json:/etc/rabbitmq/definitions.json' "$compose" &&
    grep -q 'rabbitmq/rabbitmq.conf:/etc/rabbitmq/rabbitmq.conf' "$compose"; then
    check_pass
else
    check_fail "rabbitmq must mount docker/rabbitmq/rabbitmq.conf and definitions.json (load_definitions = /etc/rabbitmq/definitions.json)"
fi

# ------------------------------------------------ (d) broker users and rights
if jq -e '.vhosts | any(.name == "souk")' "$definitions" >/dev/null; then
    check_pass
else
    check_fail "definitions.json has no vhost souk"
fi
if jq -e '.users | any(.name == "souk-admin" and (.tags | tostring | test("administrator")))' "$definitions" >/dev/null; then
    check_pass
else
    check_fail "definitions.json has no administrator souk-admin"
fi
# password_hash = base64(salt(4) + sha256(salt + password)), password = user name.
password_ok() {
    local user="$1" hash
    hash="$(jq -r --arg u "$user" '.users[] | select(.name == $u and .hashing_algorithm == "rabbit_password_hashing_sha256") | .password_hash' "$definitions")"
    [[ -n "$hash" ]] || return 1
    base64 -d <<<"$hash" >"$tmp/hash" 2>/dev/null || return 1
    [[ "$(stat -c %s "$tmp/hash")" -eq 36 ]] || return 1
    head -c 4 "$tmp/hash" >"$tmp/salted"
    printf '%s' "$user" >>"$tmp/salted"
    [[ "$(openssl dgst -sha256 -binary "$tmp/salted" | od -An -tx1 | tr -d ' \n')" == \
        "$(tail -c 32 "$tmp/hash" | od -An -tx1 | tr -d ' \n')" ]]
}
for svc in souk-admin gateway "${workers[@]}"; do
    user="souk-${svc#souk-}"
    if password_ok "$user"; then
        check_pass
    else
        check_fail "definitions.json: user $user missing, or its rabbit_password_hashing_sha256 hash is not of password '$user'"
    fi
    [[ "$svc" == souk-admin ]] && continue
    # the gateway's admin system view reads the management API as this user
    want_tags=""
    [[ "$svc" == gateway ]] && want_tags=management
    tags="$(jq -r --arg u "$user" '.users[] | select(.name == $u) | .tags' "$definitions")"
    if [[ "$tags" == "$want_tags" ]]; then
        check_pass
    else
        check_fail "definitions.json: user $user has tags '$tags', not '$want_tags' (as scripts/stack.sh gives it)"
    fi
    "$worker_bin" --permissions "$svc" >"$tmp/want.$svc" || {
        check_fail "souk-worker --permissions $svc failed"
        continue
    }
    jq -r --arg u "$user" '.permissions[] | select(.user == $u and .vhost == "souk") | .configure, .write, .read' \
        "$definitions" >"$tmp/have.$svc"
    if cmp -s "$tmp/want.$svc" "$tmp/have.$svc"; then
        check_pass
    else
        check_fail "definitions.json permissions of $user (configure, write, read) differ from souk-worker --permissions $svc:"
        diff "$tmp/want.$svc" "$tmp/have.$svc" | sed 's/^/    /' >&2 || true
    fi
done

# ------------------------------------------------------------ (e) Dockerfile
for c in "${build_commands[@]}"; do
    if grep -qF -- "$c" "$readme"; then check_pass; else check_fail "README.md lacks the build command: $c"; fi
    if grep -qxF -- "RUN $c" "$dockerfile"; then check_pass; else check_fail "docker/Dockerfile lacks: RUN $c"; fi
done
# Every cmake the Dockerfile runs is one of README.md's.
while IFS= read -r line; do
    c="${line#RUN }"
    if grep -qF -- "$c" "$readme"; then check_pass; else check_fail "docker/Dockerfile runs a build command README.md does not show: $c"; fi
done < <(grep -E '^RUN cmake ' "$dockerfile")
# The folders the build reads: add_subdirectory() of the top CMakeLists.txt
# (but tests, off in the image) and ${CMAKE_SOURCE_DIR}/<folder> they name.
mapfile -t subdirs < <(sed -n 's/^ *add_subdirectory(\([A-Za-z0-9_-]*\)).*/\1/p' "$root/CMakeLists.txt" | grep -vx tests)
needed=("${subdirs[@]}")
for d in "${subdirs[@]}"; do
    [[ -f "$root/$d/CMakeLists.txt" ]] || continue
    for ref in $(grep -o 'CMAKE_SOURCE_DIR}/[A-Za-z0-9_-]*' "$root/$d/CMakeLists.txt" | sed 's|.*}/||' | sort -u); do
        [[ " ${needed[*]} " == *" $ref "* ]] || needed+=("$ref")
    done
done
for d in CMakeLists.txt "${needed[@]}"; do
    if grep -qE "^COPY $d( |/)" "$dockerfile"; then
        check_pass
    else
        check_fail "docker/Dockerfile does not copy $d, which the build reads"
    fi
done
# Every program a compose service runs is built into the image.
for program in $(awk '$1 == "cmd" && $3 ~ /^souk-/ { print $3 }' "$tmp/resolved" | sort -u); do
    if grep -qE "build/[a-z]+/$program( |\$)" "$dockerfile"; then
        check_pass
    else
        check_fail "docker/Dockerfile does not copy build/*/$program into the image (a compose service runs it)"
    fi
done
if grep -qx "COPY sql $migrations_in_image" "$dockerfile"; then
    check_pass
else
    check_fail "docker/Dockerfile lacks 'COPY sql $migrations_in_image' (the migrate job reads the migrations there)"
fi
if grep -qx 'USER souk' "$dockerfile" && [[ "$(grep -c '^FROM debian:bookworm-slim' "$dockerfile")" -ge 2 ]]; then
    check_pass
else
    check_fail "docker/Dockerfile: build and runtime stages on debian:bookworm-slim, running as USER souk"
fi

checks_done docker
