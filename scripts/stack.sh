# Functions behind ./souk: packages, build, a project-local PostgreSQL and
# RabbitMQ, the Souk processes. Sourced, never run. Every port and folder is
# a variable so that `souk test` runs beside a `souk up` without touching it.

SOUK_PACKAGES=(build-essential cmake pkg-config git curl jq ca-certificates
    librabbitmq-dev libpq-dev libcivetweb-dev libjson-c-dev libssl-dev libjwt-dev
    libcurl4-openssl-dev libcriterion-dev rabbitmq-server postgresql
    wrk docker-compose iproute2 clang-format nginx-light openssl gettext-base)

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
RABBIT_BIN="${RABBIT_BIN:-/usr/lib/rabbitmq/bin}"

log() { printf 'souk: %s\n' "$*" >&2; }
die() { printf 'souk: error: %s\n' "$*" >&2; exit 1; }

# A test that cannot run here ends with this status, which ctest reports as
# skipped (SOUK_TEST_SKIP_CODE, the SKIP_RETURN_CODE of tests/CMakeLists.txt),
# and `souk test` counts as a failure. Never exit 0 for a test that did not run.
SOUK_TEST_SKIP_CODE=77
skip_test() { printf '%s: skipped: %s\n' "$(basename "$0")" "$*" >&2; exit "$SOUK_TEST_SKIP_CODE"; }

# Counted checks of a scripts/check-*.sh: check_pass; check_fail "what"
# (printed at once); checks_done <name> prints the summary and exits 1 after
# any failure.
souk_checks=0
souk_check_failures=0
check_pass() { souk_checks=$((souk_checks + 1)); }
check_fail() {
    souk_checks=$((souk_checks + 1))
    souk_check_failures=$((souk_check_failures + 1))
    printf '%s: FAIL: %s\n' "$(basename "$0" .sh)" "$*" >&2
}
checks_done() {
    if [[ $souk_check_failures -gt 0 ]]; then
        echo "$1: $souk_check_failures of $souk_checks checks failed" >&2
        exit 1
    fi
    echo "$1: $souk_checks checks passed${2:+ ($2)}"
}

# Skips the calling test unless it runs inside `souk test` (test_export_env).
require_test_stack() {
    [[ -n "${SOUK_TEST_STACK:-}" ]] ||
        skip_test "needs the stack that \`souk test\` starts (SOUK_TEST_STACK is not set)"
}

# ctest counts a test that skipped itself (SKIP_RETURN_CODE) as not failed.
# `souk test` runs every test on the stack it provides, so there a skip means
# a test that should have run did not. Reads ctest's --output-junit report;
# prints the skipped tests and returns 1 when there is one (or no report).
souk_test_skipped() {
    local junit="$1" names
    [[ -s "$junit" ]] || { echo "souk test: ctest wrote no report ($junit)" >&2; return 1; }
    names="$(sed -n 's/.*<testcase name="\([^"]*\)"[^>]*status="notrun".*/\1/p' "$junit")"
    [[ -z "$names" ]] && return 0
    echo "souk test: failed: these tests did not run (skipped, or their fixture failed):" >&2
    sed 's/^/    /' <<<"$names" >&2
    return 1
}

# Ports and folders of a profile. `dev` is what `souk up` runs; `test` is the
# throwaway stack of `souk test`. Each can be overridden from the environment.
# Every default lies below Linux's ephemeral range (32768-60999): a server
# restarted in a test must find its port free, not taken by some outbound
# connection's local port in the meantime.
stack_use_profile() {
    local profile="$1"
    if [[ "$profile" == bench ]]; then
        SOUK_STATE="${SOUK_BENCH_STATE:-$SOUK_ROOT/.souk/bench}"
        SOUK_BUILD_DIR="${SOUK_BENCH_BUILD_DIR:-$SOUK_ROOT/build/release}"
        SOUK_PG_PORT="${SOUK_BENCH_PG_PORT:-27432}"
        SOUK_AMQP_PORT="${SOUK_BENCH_AMQP_PORT:-27720}"
        SOUK_RABBIT_MGMT_PORT="${SOUK_BENCH_RABBIT_MGMT_PORT:-27721}"
        SOUK_RABBIT_DIST_PORT="${SOUK_BENCH_RABBIT_DIST_PORT:-27722}"
        SOUK_EPMD_PORT="${SOUK_BENCH_EPMD_PORT:-27723}"
        SOUK_HTTP_PORT="${SOUK_BENCH_HTTP_PORT:-27780}"
        SOUK_GATEWAY_PORT="${SOUK_BENCH_GATEWAY_PORT:-27781}"
        SOUK_HTTPS_PORT="${SOUK_BENCH_HTTPS_PORT:-27783}"
        SOUK_PSP_PORT="${SOUK_BENCH_PSP_PORT:-27790}"
    elif [[ "$profile" == test ]]; then
        SOUK_STATE="${SOUK_TEST_STATE:-$SOUK_ROOT/.souk/test}"
        SOUK_BUILD_DIR="${SOUK_TEST_BUILD_DIR:-$SOUK_ROOT/build/test}"
        SOUK_PG_PORT="${SOUK_TEST_PG_PORT:-26432}"
        SOUK_AMQP_PORT="${SOUK_TEST_AMQP_PORT:-26720}"
        SOUK_RABBIT_MGMT_PORT="${SOUK_TEST_RABBIT_MGMT_PORT:-26721}"
        SOUK_RABBIT_DIST_PORT="${SOUK_TEST_RABBIT_DIST_PORT:-26722}"
        SOUK_EPMD_PORT="${SOUK_TEST_EPMD_PORT:-26723}"
        SOUK_HTTP_PORT="${SOUK_TEST_HTTP_PORT:-26780}"
        SOUK_GATEWAY_PORT="${SOUK_TEST_GATEWAY_PORT:-26781}"
        SOUK_HTTPS_PORT="${SOUK_TEST_HTTPS_PORT:-26783}"
        SOUK_PSP_PORT="${SOUK_TEST_PSP_PORT:-26790}"
        # The OTLP collector the e2e stack exports its spans to: a receiver
        # that tests/e2e/test_trace.c runs while it checks a trace (nobody
        # listens otherwise: every other test runs with the collector down).
        # Next to the stack's HTTP port, so that stacks on other ports do not meet.
        SOUK_OTLP_TEST_PORT="${SOUK_TEST_OTLP_PORT:-$((SOUK_HTTP_PORT + 4))}"
    else
        SOUK_STATE="${SOUK_STATE:-$SOUK_ROOT/.souk/dev}"
        SOUK_BUILD_DIR="${SOUK_BUILD_DIR:-$SOUK_ROOT/build/release}"
        SOUK_PG_PORT="${SOUK_PG_PORT:-25432}"
        SOUK_AMQP_PORT="${SOUK_AMQP_PORT:-5672}"
        SOUK_RABBIT_MGMT_PORT="${SOUK_RABBIT_MGMT_PORT:-15672}"
        SOUK_RABBIT_DIST_PORT="${SOUK_RABBIT_DIST_PORT:-25672}"
        SOUK_EPMD_PORT="${SOUK_EPMD_PORT:-4369}"
        SOUK_HTTP_PORT="${SOUK_HTTP_PORT:-8080}"
        SOUK_GATEWAY_PORT="${SOUK_GATEWAY_PORT:-8081}"
        SOUK_HTTPS_PORT="${SOUK_HTTPS_PORT:-8443}"
        SOUK_PSP_PORT="${SOUK_PSP_PORT:-8090}"
    fi
    SOUK_RABBIT_ADMIN_USER="${SOUK_RABBIT_ADMIN_USER:-souk-admin}"
    SOUK_RABBIT_ADMIN_PASSWORD="${SOUK_RABBIT_ADMIN_PASSWORD:-souk-admin}"
    SOUK_PROFILE="$profile"
    export SOUK_PG_URL="postgresql://127.0.0.1:$SOUK_PG_PORT/souk"
    export SOUK_AMQP_URL="amqp://127.0.0.1:$SOUK_AMQP_PORT/souk"
    export SOUK_GATEWAY_PORT SOUK_PSP_PORT
    # Clients reach the gateway through its front (nginx): SOUK_URL, and
    # SOUK_TLS_URL with the stack's development certificate.
    export SOUK_URL="http://127.0.0.1:$SOUK_HTTP_PORT" SOUK_TLS_URL="https://localhost:$SOUK_HTTPS_PORT"
    export SOUK_TRUSTED_PROXIES="${SOUK_TRUSTED_PROXIES:-127.0.0.1}"
    export SOUK_PSP_URL="http://127.0.0.1:$SOUK_PSP_PORT"
    MGMT_URL="http://127.0.0.1:$SOUK_RABBIT_MGMT_PORT"
    # the gateway's admin system view reads it (and links to its UI)
    export SOUK_RABBIT_MGMT_URL="$MGMT_URL"
}

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=()
    local p
    for p in "${SOUK_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    # Node.js may come from Debian (nodejs + npm) or from NodeSource (nodejs
    # with npm inside, conflicting with Debian's npm): only ask for npm when
    # there is none.
    if ! command -v npm >/dev/null 2>&1; then
        missing+=(nodejs npm)
    fi
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # The packaged servers must not start system-wide instances: ours run
    # project-local, on their own ports.
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    as_root rm -f /usr/sbin/policy-rc.d
}

build_tree() {
    local dir="$1" sanitize="$2"
    cmake -S "$SOUK_ROOT" -B "$dir" -DSOUK_SANITIZE="$sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
        || die "cmake configure failed"
    cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 \
        || { tail -50 "$dir/build.log" >&2; die "build failed (full log: $dir/build.log)"; }
    ln -sf "$dir/compile_commands.json" "$SOUK_ROOT/compile_commands.json" 2>/dev/null || true
}

# The ThreadSanitizer tree (SOUK_TSAN, no Criterion tests: Criterion cannot
# start under TSan, its boxfort arena wants addresses TSan's shadow memory
# holds): every Souk program for `souk test --tsan`, or only the targets
# named (souk-tsan-scenarios for the tsan_scenarios test of `souk test`).
build_tsan_tree() {
    local dir="$1"
    shift
    local targets=()
    [[ $# -gt 0 ]] && targets=(--target "$@")
    cmake -S "$SOUK_ROOT" -B "$dir" -DSOUK_TSAN=ON -DSOUK_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >/dev/null || die "cmake configure (ThreadSanitizer) failed"
    cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >"$dir/build.log" 2>&1 \
        || { tail -50 "$dir/build.log" >&2; die "ThreadSanitizer build failed (full log: $dir/build.log)"; }
}

# Prints every ThreadSanitizer report the processes of a run left in
# folder (TSAN_OPTIONS log_path) and returns 1 when there is one.
tsan_reports() {
    local folder="$1" reports
    shopt -s nullglob
    reports=("$folder"/tsan.*)
    shopt -u nullglob
    [[ ${#reports[@]} -eq 0 ]] && { echo "souk test --tsan: no ThreadSanitizer report"; return 0; }
    echo "souk test --tsan: failed: ${#reports[@]} process(es) reported races or lock misuse:" >&2
    local f
    for f in "${reports[@]}"; do
        echo "--- $f" >&2
        grep -E '^(WARNING|SUMMARY): ThreadSanitizer' "$f" | sort | uniq -c >&2
    done
    echo "(the full reports, with stacks, are in those files)" >&2
    return 1
}

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fails with a message naming the variable when a port we need is taken by
# something that is not ours.
stack_check_ports() {
    local var
    for var in SOUK_PG_PORT SOUK_AMQP_PORT SOUK_RABBIT_MGMT_PORT SOUK_RABBIT_DIST_PORT \
        SOUK_GATEWAY_PORT SOUK_HTTP_PORT SOUK_HTTPS_PORT SOUK_PSP_PORT; do
        local port="${!var}"
        if port_taken "$port" && ! stack_owns_port "$var"; then
            die "port $port is already in use; set $var to a free port (or run ./souk down)"
        fi
    done
}

# True when the process holding the port is one this stack started.
stack_owns_port() {
    case "$1" in
        SOUK_PG_PORT) pg_running ;;
        SOUK_AMQP_PORT|SOUK_RABBIT_MGMT_PORT|SOUK_RABBIT_DIST_PORT) rabbit_running ;;
        SOUK_GATEWAY_PORT) pid_alive gateway ;;
        SOUK_HTTP_PORT|SOUK_HTTPS_PORT) pid_alive front ;;
        SOUK_PSP_PORT) pid_alive psp ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- PostgreSQL

# The servers run as the unprivileged postgres and rabbitmq users, which
# cannot enter a checkout under a private home folder; their data then lives
# in a folder of /var/tmp named after the checkout and profile.
server_state() {
    if [[ -z "${SOUK_SERVER_STATE:-}" ]]; then
        mkdir -p "$SOUK_STATE"
        chmod 755 "$SOUK_ROOT/.souk" "$SOUK_STATE" 2>/dev/null || true
        if runuser -u postgres -- test -x "$SOUK_STATE" 2>/dev/null &&
            runuser -u rabbitmq -- test -x "$SOUK_STATE" 2>/dev/null; then
            SOUK_SERVER_STATE="$SOUK_STATE"
        else
            SOUK_SERVER_STATE="/var/tmp/souk-$(printf '%s' "$SOUK_STATE" | md5sum | cut -c1-12)"
            mkdir -p "$SOUK_SERVER_STATE" && chmod 755 "$SOUK_SERVER_STATE"
            ln -sfn "$SOUK_SERVER_STATE" "$SOUK_STATE/servers"
        fi
    fi
    echo "$SOUK_SERVER_STATE"
}

pg_data() { echo "$(server_state)/postgres/data"; }
pg_sock() { echo "$(server_state)/postgres/run"; }

pg_running() {
    [[ -f "$(pg_data)/postmaster.pid" ]] &&
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(pg_data)" status >/dev/null 2>&1
}

pg_start() {
    local base
    base="$(server_state)"
    mkdir -p "$base/postgres" "$SOUK_STATE/logs"
    chown postgres:postgres "$base/postgres"
    mkdir -p "$(pg_sock)" && chown postgres:postgres "$(pg_sock)"
    if [[ ! -f "$(pg_data)/PG_VERSION" ]]; then
        log "initialising PostgreSQL in $(pg_data)"
        runuser -u postgres -- "$PG_BIN/initdb" -D "$(pg_data)" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if pg_running; then return 0; fi
    log "starting PostgreSQL on 127.0.0.1:$SOUK_PG_PORT"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(pg_data)" -l "$base/postgres/server.log" -w -t 60 \
        -o "-p $SOUK_PG_PORT -k $(pg_sock) -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB ${SOUK_PG_EXTRA_OPTIONS:-}" \
        start >/dev/null || { tail -20 "$base/postgres/server.log" >&2; die "PostgreSQL did not start"; }
}

# pg_stop [mode]: fast (the default) rolls back and disconnects every
# session; immediate (souk chaos) aborts without a checkpoint, like a crash,
# so the next start replays the WAL.
pg_stop() {
    local mode="${1:-fast}"
    if pg_running; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(pg_data)" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
}

# Creates the database, one role per schema owning only its schema (and a
# souk_<schema>_gateway role that can use only what the schema's migrations
# grant it), and applies each schema's migrations once, in order, as that
# schema's role: souk-migrate (tools/migrate.h), as the superuser over the
# private socket (trusted there).
pg_setup() {
    local bin="$SOUK_BUILD_DIR/tools/souk-migrate"
    [[ -x "$bin" ]] || die "$bin is not built (./souk build)"
    "$bin" --admin "host=$(pg_sock) port=$SOUK_PG_PORT dbname=souk user=postgres" \
        --sql "$SOUK_ROOT/sql" || die "the migrations failed (above)"
}

# ------------------------------------------------------------------ RabbitMQ

rabbit_dir() { echo "$(server_state)/rabbitmq"; }

# The Erlang schedulers spin while idle by default (busy wait), which on a
# small machine shared with PostgreSQL and the services takes CPU from them;
# +sbwt none makes them sleep instead.
rabbit_env() {
    local r
    r="$(rabbit_dir)"
    env HOME="$r/home" RABBITMQ_NODENAME=rabbit@localhost \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none" \
        RABBITMQ_MNESIA_BASE="$r/mnesia" RABBITMQ_LOG_BASE="$r/log" \
        RABBITMQ_PID_FILE="$r/rabbit.pid" RABBITMQ_ENABLED_PLUGINS_FILE="$r/enabled_plugins" \
        RABBITMQ_CONFIG_FILE="$r/rabbitmq" RABBITMQ_NODE_PORT="$SOUK_AMQP_PORT" \
        RABBITMQ_DIST_PORT="$SOUK_RABBIT_DIST_PORT" ERL_EPMD_PORT="$SOUK_EPMD_PORT" \
        ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_ADVANCED_CONFIG_FILE="$r/advanced.config" \
        "$@"
}

rabbitmqctl_() {
    rabbit_env setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$RABBIT_BIN/rabbitmqctl" "$@"
}

rabbit_running() {
    local pidfile
    pidfile="$(rabbit_dir)/rabbit.pid"
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

rabbit_start() {
    local r
    r="$(rabbit_dir)"
    mkdir -p "$r/home" "$r/mnesia" "$r/log"
    echo "[rabbitmq_management]." >"$r/enabled_plugins"
    cat >"$r/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$SOUK_AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $SOUK_RABBIT_MGMT_PORT
loopback_users = none
default_vhost = souk
default_user = $SOUK_RABBIT_ADMIN_USER
default_pass = $SOUK_RABBIT_ADMIN_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
vm_memory_high_watermark.relative = 0.2
log.console = false
log.file.level = warning
collect_statistics_interval = 1000
EOF
    echo "[]." >"$r/advanced.config"
    chown -R rabbitmq:rabbitmq "$r"
    if rabbit_running; then return 0; fi
    log "starting RabbitMQ on 127.0.0.1:$SOUK_AMQP_PORT (management on $SOUK_RABBIT_MGMT_PORT)"
    rm -f "$r/rabbit.pid"
    rabbit_env setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
        "$RABBIT_BIN/rabbitmq-server" >"$r/log/console.log" 2>&1 </dev/null &
    if ! timeout 120 bash -c "until [[ -s '$r/rabbit.pid' ]]; do sleep 0.2; done"; then
        tail -20 "$r/log/console.log" >&2
        die "RabbitMQ did not start"
    fi
    rabbitmqctl_ wait "$r/rabbit.pid" --timeout 120 >/dev/null 2>&1 || {
        tail -20 "$r/log/console.log" >&2
        die "RabbitMQ did not become ready"
    }
    # The management listener comes up just after the node reports ready.
    local i
    for i in $(seq 1 100); do
        curl -fsS -u "$SOUK_RABBIT_ADMIN_USER:$SOUK_RABBIT_ADMIN_PASSWORD" "$MGMT_URL/api/overview" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "RabbitMQ management API did not answer on $MGMT_URL"
}

rabbit_stop() {
    local r
    r="$(rabbit_dir)"
    if rabbit_running; then
        local pid
        pid="$(cat "$r/rabbit.pid")"
        rabbitmqctl_ stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        timeout 30 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.2; done" || kill -9 "$pid" 2>/dev/null || true
    fi
    # Our epmd runs on our own port; it outlives the node unless told.
    ERL_EPMD_PORT="$SOUK_EPMD_PORT" epmd_kill
}

# SIGKILLs the broker's Erlang VM (souk chaos), as a crash would: no
# clean shutdown, queues recovered from disk at the next rabbit_start.
# Our epmd keeps running, as it would on a host whose broker crashed.
rabbit_kill() {
    local r pid
    r="$(rabbit_dir)"
    rabbit_running || return 0
    pid="$(cat "$r/rabbit.pid")"
    kill -KILL "$pid" 2>/dev/null || true
    timeout 30 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done" || true
}

epmd_kill() {
    local epmd
    epmd="$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)"
    [[ -n "$epmd" ]] && "$epmd" -port "$SOUK_EPMD_PORT" -kill >/dev/null 2>&1 || true
}

mgmt() {
    local method="$1" path="$2"
    shift 2
    curl -fsS -u "$SOUK_RABBIT_ADMIN_USER:$SOUK_RABBIT_ADMIN_PASSWORD" -X "$method" \
        -H 'content-type: application/json' "$MGMT_URL/api$path" "$@"
}

# One broker user per service, allowed only its own queues and exchanges
# (regexes printed by souk-worker from the topology table), then the whole
# topology declared once so no early event is unroutable. The gateway's is
# tagged management: its admin system view reads the management API.
rabbit_setup() {
    local svc
    load_worker_services
    for svc in gateway "${SOUK_WORKER_SERVICES[@]}"; do
        local user="souk-$svc" perms tags=""
        [[ "$svc" == gateway ]] && tags=management
        mapfile -t perms < <("$SOUK_BUILD_DIR/workers/souk-worker" --permissions "$svc")
        mgmt PUT "/users/$user" -d "{\"password\":\"$user\",\"tags\":\"$tags\"}" >/dev/null
        jq -n --arg c "${perms[0]}" --arg w "${perms[1]}" --arg r "${perms[2]}" \
            '{configure:$c, write:$w, read:$r}' |
            mgmt PUT "/permissions/souk/$user" -d @- >/dev/null
    done
    SOUK_AMQP_USER="$SOUK_RABBIT_ADMIN_USER" SOUK_AMQP_PASSWORD="$SOUK_RABBIT_ADMIN_PASSWORD" \
        "$SOUK_BUILD_DIR/workers/souk-worker" --declare-topology || die "declaring the topology failed"
}

# ----------------------------------------------------------------- processes

# Sets SOUK_WORKER_SERVICES to the worker services of the build's topology
# table (events/topology.h), so that no copy of the list lives here.
load_worker_services() {
    local list
    list="$("$SOUK_BUILD_DIR/workers/souk-worker" --services)" && [[ -n "$list" ]] ||
        die "souk-worker --services failed (./souk build)"
    mapfile -t SOUK_WORKER_SERVICES <<<"$list"
}

pid_file() { echo "$SOUK_STATE/pids/$1.pid"; }

# True while a process runs. A zombie counts as gone: a killed process of
# ours is reaped by init (our processes are setsid'd orphans), which on
# some hosts takes a second or more, and kill -0 still succeeds meanwhile.
pid_running() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z* ]]
}

pid_alive() {
    local f
    f="$(pid_file "$1")"
    [[ -f "$f" ]] && pid_running "$(cat "$f")"
}

proc_start() {
    local name="$1"
    shift
    mkdir -p "$SOUK_STATE/pids" "$SOUK_STATE/logs"
    if pid_alive "$name"; then return 0; fi
    setsid "$@" >>"$SOUK_STATE/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$(pid_file "$name")"
}

# ------------------------------------------------------------- the front

# A development certificate for localhost and 127.0.0.1, made once per
# state folder (a real deployment mounts its own: docker/docker-compose.yml).
tls_ensure() {
    local dir="$SOUK_STATE/tls"
    [[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] && return 0
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || die "could not make a TLS certificate"
    chmod 600 "$dir/key.pem"
}

# Writes the front's nginx configuration (docker/nginx/souk.conf.template
# inside a main file for a foreground nginx with its files in the state
# folder) and prints its path.
front_config() {
    local dir="$SOUK_STATE/front" tmp
    # nginx's workers run as nobody when we are root: their buffer files go
    # where the unprivileged servers can reach (see server_state)
    tmp="$(server_state)/front-tmp"
    mkdir -p "$dir" "$tmp" "$SOUK_STATE/logs"
    chown nobody:nogroup "$tmp" 2>/dev/null || true
    FRONT_ADDRESS=127.0.0.1 FRONT_HTTP_PORT="$SOUK_HTTP_PORT" \
        FRONT_HTTPS_PORT="$SOUK_HTTPS_PORT" FRONT_UPSTREAM="127.0.0.1:$SOUK_GATEWAY_PORT" \
        FRONT_TLS_CERT="$SOUK_STATE/tls/cert.pem" FRONT_TLS_KEY="$SOUK_STATE/tls/key.pem" \
        envsubst '${FRONT_ADDRESS} ${FRONT_HTTP_PORT} ${FRONT_HTTPS_PORT} ${FRONT_UPSTREAM} ${FRONT_TLS_CERT} ${FRONT_TLS_KEY}' \
        <"$SOUK_ROOT/docker/nginx/souk.conf.template" >"$dir/souk.conf"
    # each proxied request takes two descriptors: the client's and the gateway's
    local files
    files="$(ulimit -Hn)"
    [[ "$files" == unlimited ]] && files=65536
    ((files > 65536)) && files=65536
    cat >"$dir/nginx.conf" <<EOF
# Written by scripts/stack.sh (front_config); edit docker/nginx/souk.conf.template.
daemon off;
$([[ $EUID -eq 0 ]] && echo "user nobody nogroup;")
worker_processes 1;
worker_rlimit_nofile $files;
pid $dir/nginx.pid;
error_log $SOUK_STATE/logs/front-error.log warn;
events { worker_connections $((files / 2 - 32)); }
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $dir/souk.conf;
}
EOF
    echo "$dir/nginx.conf"
}

front_start() {
    tls_ensure
    local conf
    conf="$(front_config)"
    nginx -t -q -c "$conf" -e "$SOUK_STATE/logs/front-error.log" || die "the front's nginx configuration is invalid ($conf)"
    proc_start front nginx -c "$conf" -e "$SOUK_STATE/logs/front-error.log"
}

# SIGKILLs one process started by proc_start and waits until it is gone
# (its pid file stays, naming a dead pid, so proc_start starts it again).
proc_kill() {
    local f pid i
    f="$(pid_file "$1")"
    [[ -f "$f" ]] || return 1
    pid="$(cat "$f")"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        pid_running "$pid" || return 0
        sleep 0.05
    done
    return 1
}

procs_start_all() {
    front_start
    proc_start gateway "$SOUK_BUILD_DIR/gateway/souk-gateway"
    if [[ -x "$SOUK_BUILD_DIR/psp/souk-psp" ]]; then
        # Its ledger outlives a restart of the process, as a real provider's does.
        SOUK_PSP_LEDGER_FILE="$SOUK_STATE/psp-ledger.jsonl" proc_start psp "$SOUK_BUILD_DIR/psp/souk-psp"
    fi
    local svc
    load_worker_services
    for svc in "${SOUK_WORKER_SERVICES[@]}"; do
        proc_start "worker-$svc" "$SOUK_BUILD_DIR/workers/souk-worker" "$svc"
    done
}

procs_stop_all() {
    local f
    shopt -s nullglob
    for f in "$SOUK_STATE"/pids/*.pid; do
        local pid
        pid="$(cat "$f")"
        kill -TERM "$pid" 2>/dev/null || true
    done
    for f in "$SOUK_STATE"/pids/*.pid; do
        local pid
        pid="$(cat "$f")"
        timeout 15 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done" || kill -KILL "$pid" 2>/dev/null || true
        rm -f "$f"
    done
    shopt -u nullglob
}

wait_ready() {
    local i
    for i in $(seq 1 150); do
        if curl -fsS "$SOUK_URL/readyz" >/dev/null 2>&1; then
            return 0
        fi
        if ! pid_alive gateway; then
            tail -20 "$SOUK_STATE/logs/gateway.log" >&2
            return 1
        fi
        sleep 0.2
    done
    return 1
}

stack_status() {
    printf '%-22s %s\n' PROCESS STATE
    printf '%-22s %s\n' postgresql "$(pg_running && echo "running on $SOUK_PG_PORT" || echo stopped)"
    printf '%-22s %s\n' rabbitmq "$(rabbit_running && echo "running on $SOUK_AMQP_PORT" || echo stopped)"
    local f
    shopt -s nullglob
    for f in "$SOUK_STATE"/pids/*.pid; do
        local name
        name="$(basename "$f" .pid)"
        printf '%-22s %s\n' "$name" "$(pid_alive "$name" && echo "running (pid $(cat "$f"))" || echo "dead")"
    done
    shopt -u nullglob
    if rabbit_running; then
        echo
        printf '%-32s %10s %10s\n' QUEUE MESSAGES CONSUMERS
        mgmt GET "/queues/souk?columns=name,messages,consumers" 2>/dev/null |
            jq -r '.[] | [.name, (.messages // 0), (.consumers // 0)] | @tsv' |
            while IFS=$'\t' read -r q m c; do printf '%-32s %10s %10s\n' "$q" "$m" "$c"; done
    fi
}

# LOAD_ARGS: souk-load's options for this profile's stack: the gateway, a
# superuser PostgreSQL connection for the money and outbox checks, the
# management API for the DLQ check and the pid files for peak RSS.
load_stack_args() {
    LOAD_ARGS=(--url "$SOUK_URL"
        --pg "host=$(pg_sock) port=$SOUK_PG_PORT dbname=souk user=postgres"
        --mgmt-url "$MGMT_URL"
        --mgmt-user "$SOUK_RABBIT_ADMIN_USER" --mgmt-password "$SOUK_RABBIT_ADMIN_PASSWORD"
        --rss-from "$SOUK_STATE/pids")
}

# Waits (up to 60 s) for souk-load, running as pid $2 with its stderr going
# to file $1, to print its first progress line, one second into its
# checkouts. False when it ended or never got there (its setup failed).
load_wait_started() {
    local i
    for i in $(seq 1 1200); do
        grep -q '^load: ' "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    grep -q '^load: ' "$1"
}

# Environment for the test binaries: where the throwaway stack is.
test_export_env() {
    export SOUK_BUILD_DIR SOUK_STATE SOUK_PG_PORT SOUK_AMQP_PORT SOUK_RABBIT_MGMT_PORT
    export SOUK_TEST_PG_SOCKET="$(pg_sock)"
    export SOUK_TEST_MGMT_URL="$MGMT_URL"
    export SOUK_TEST_ADMIN_USER="$SOUK_RABBIT_ADMIN_USER" SOUK_TEST_ADMIN_PASSWORD="$SOUK_RABBIT_ADMIN_PASSWORD"
    export SOUK_TEST_STACK=1
    export SOUK_TEST_GATEWAY_URL="$SOUK_URL" SOUK_TEST_TLS_URL="$SOUK_TLS_URL"
    export SOUK_TEST_TLS_CA="$SOUK_STATE/tls/cert.pem"
    export SOUK_TEST_PSP_URL="http://127.0.0.1:$SOUK_PSP_PORT"
    export SOUK_TEST_OTLP_PORT="$SOUK_OTLP_TEST_PORT"
    # every answer the e2e tests and the Postman run get from a gateway, for
    # tests/openapi/responses.sh to check against the OpenAPI document
    export SOUK_TEST_HTTP_RECORD_DIR="$SOUK_STATE/http-record"
    mkdir -p "$SOUK_TEST_HTTP_RECORD_DIR"
    export SOUK_LOG_LEVEL="${SOUK_LOG_LEVEL:-info}"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
}

# souk dlq list|show|replay|purge <service> [count]: souk-dlq (tools/) with
# the stack's broker URL and administrator. It checks the service against
# the topology table, and a replay removes a dead letter only after its copy
# is confirmed and routed (README, "Dead letters").
dlq_command() {
    local bin="$SOUK_BUILD_DIR/tools/souk-dlq"
    [[ -x "$bin" ]] || die "$bin is not built (./souk build)"
    # (without arguments it only prints its usage)
    [[ $# -lt 2 ]] || rabbit_running || die "RabbitMQ is not running (./souk up)"
    SOUK_AMQP_USER="$SOUK_RABBIT_ADMIN_USER" SOUK_AMQP_PASSWORD="$SOUK_RABBIT_ADMIN_PASSWORD" \
        "$bin" "$@"
}

# Deletes the profile's data, including server data kept outside the checkout.
# Servers of the profile left running (an interrupted run) are stopped
# first: deleting the data under a running server would orphan it.
stack_wipe() {
    procs_stop_all >/dev/null 2>&1 || true
    rabbit_stop >/dev/null 2>&1 || true
    pg_stop >/dev/null 2>&1 || true
    local servers
    servers="$(server_state)"
    [[ "$servers" != "$SOUK_STATE" ]] && rm -rf "$servers"
    rm -rf "$SOUK_STATE"
    unset SOUK_SERVER_STATE
}
