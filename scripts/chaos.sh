#!/usr/bin/env bash
# souk chaos [options] [-- souk-load options]: faults under load. Runs an
# open-loop souk-load against the running stack (profile dev, the one of
# `souk up`; SOUK_PROFILE=test: the stack of a running `souk test`) and,
# spaced over the run, SIGKILLs each worker process, the gateway and
# souk-psp and starts them again, SIGKILLs RabbitMQ's Erlang VM and starts
# it again, and stops PostgreSQL in immediate mode (a crash: the restart
# replays the WAL) and starts it again. Then souk-load checks the books
# (bench/load_checks.h): every checkout accepted and final, no oversell,
# money balanced, nothing doubled, outboxes drained, no dead letters.
# Prints each fault as it happens between souk-load's per-second lines, then
# one line per second (completed/s, errors/s, the faults of that second),
# each fault with its recovery time, and souk-load's report. Exits 1 when an
# invariant failed or a fault did not recover, 2 on a usage or setup error.
# Whatever happens, it leaves every server and process running again.
#   --rate R        checkouts per second (default 20)
#   --duration S    seconds of checkouts (default 60); the faults are
#                   planned between 10 % and 75 % of it, each after the
#                   previous one recovered, none starting after 90 %
#   --faults LIST   any of workers,gateway,psp,rabbitmq,postgres (default all)
#   --seed N        order of the faults, and souk-load's choices (default 1)
#   --down S        how long each killed server stays down (default 2)
# Figures and logs of the last run stay in $SOUK_STATE/chaos/.
set -euo pipefail
SOUK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

# Usage and setup errors exit 2 (1 is a failed check or a fault not recovered).
setup_error() {
    printf 'souk chaos: %s\n' "$*" >&2
    exit 2
}

rate=20 duration=60 faults_opt=workers,gateway,psp,rabbitmq,postgres seed=1 down=2
load_extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rate) rate="${2:?}"; shift 2 ;;
        --duration) duration="${2:?}"; shift 2 ;;
        --faults) faults_opt="${2:?}"; shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        --down) down="${2:?}"; shift 2 ;;
        --) shift; load_extra=("$@"); break ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; setup_error "unknown option $1" ;;
    esac
done
[[ "$seed" =~ ^[0-9]+$ ]] || setup_error "--seed wants a whole number"
[[ "$duration" =~ ^[0-9]+$ && "$duration" -ge 10 ]] || setup_error "--duration wants whole seconds, at least 10"
[[ "$down" =~ ^[0-9]+([.][0-9]+)?$ ]] || setup_error "--down wants seconds"

stack_use_profile "${SOUK_PROFILE:-dev}"
bin="$SOUK_BUILD_DIR/bench/souk-load"
[[ -x "$bin" ]] || setup_error "$bin is not built (./souk build)"
state="$SOUK_STATE/chaos"
mkdir -p "$state"
progress="$state/load-progress.log" report="$state/load-report.txt" timeline="$state/timeline.tsv"
: >"$progress"
: >"$timeline"

now_ms() {
    local t="${EPOCHREALTIME/[.,]/}"
    echo $((t / 1000))
}

# The processes start again the way the stack first started them: the e2e
# fixture's script (its settings) for the test stack, procs_start_all for
# the others. Only dead processes start; both wait for the gateway.
restart_procs() {
    if [[ "$SOUK_PROFILE" == test ]]; then
        "$SOUK_ROOT/scripts/e2e-stack.sh" start >/dev/null
    else
        procs_start_all
        wait_ready
    fi
}

gateway_ready() { curl -fsS "$SOUK_URL/readyz" >/dev/null 2>&1; }
psp_ready() { curl -fsS "$SOUK_PSP_URL/healthz" >/dev/null 2>&1; }

# Where each worker's log ends now and how many consumers it runs ("name
# bytes n" per line, in $marks): a worker is attached again once its log
# shows, past that point, each of its consumers consuming. The broker's
# statistics trail by seconds; the worker's own info lines ("worker started
# ... concurrency=N", "consumer K consuming") do not.
marks="$state/log-marks"
: >"$marks"
mark_worker_logs() {
    local p name log n
    : >"$marks"
    for p in "$SOUK_STATE"/pids/worker-*.pid; do
        [[ -f "$p" ]] || continue
        name="$(basename "$p" .pid)" log="$SOUK_STATE/logs/$(basename "$p" .pid).log"
        n="$(tac "$log" 2>/dev/null | grep -m1 -o 'worker started service=[a-z]* concurrency=[0-9]*' || true)"
        echo "$name $(stat -c %s "$log" 2>/dev/null || echo 0) ${n##*=}" >>"$marks"
    done
}

# Every worker of $marks attached again (only $1 when given): as many
# distinct consumers consuming past its mark as it runs.
workers_attached() {
    local name offset n
    while read -r name offset n; do
        [[ -z "${1:-}" || "$name" == "$1" ]] || continue
        [[ -n "$n" ]] || n=1
        [[ "$(tail -c +"$((offset + 1))" "$SOUK_STATE/logs/$name.log" |
            grep -o 'consumer [0-9]* consuming queue=' | sort -u | wc -l)" -ge "$n" ]] || return 1
    done <"$marks"
}

# Polls "$@" every 0.1 s for up to 120 s; true when it held.
wait_for() {
    local deadline=$(($(now_ms) + 120000))
    until "$@"; do
        [[ $(now_ms) -lt $deadline ]] || return 1
        sleep 0.1
    done
}

# Servers and processes running and ready, the workers of the last fault
# attached again.
stack_up() {
    pg_running && rabbit_running && gateway_ready && psp_ready && workers_attached || return 1
    local f
    for f in "$SOUK_STATE"/pids/*.pid; do
        pid_alive "$(basename "$f" .pid)" || return 1
    done
}

# Whatever happened, the servers and processes run again on the way out.
load_pid=
restore() {
    local rc=$?
    set +e
    [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null
    pg_start >/dev/null 2>&1
    rabbit_start >/dev/null 2>&1
    restart_procs >/dev/null 2>&1
    if ! wait_for stack_up; then
        echo "souk chaos: the stack is not fully up again; see $SOUK_STATE/logs" >&2
        [[ $rc -eq 0 ]] && rc=1
    fi
    exit $rc
}

pg_running && rabbit_running && gateway_ready ||
    setup_error "the stack is not running (./souk up; SOUK_PROFILE=test for the stack of souk test)"

# The faults, in the order the seed gives.
faults=()
IFS=, read -r -a wanted <<<"$faults_opt"
for f in "${wanted[@]}"; do
    case "$f" in
        workers)
            for p in "$SOUK_STATE"/pids/worker-*.pid; do
                [[ -f "$p" ]] && faults+=("$(basename "$p" .pid)")
            done
            ;;
        gateway|psp|rabbitmq|postgres) faults+=("$f") ;;
        *) setup_error "unknown fault '$f' (known: workers,gateway,psp,rabbitmq,postgres)" ;;
    esac
done
[[ ${#faults[@]} -gt 0 ]] || setup_error "no fault to inject"
RANDOM=$seed
for ((i = ${#faults[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1)))
    tmp="${faults[i]}" faults[i]="${faults[j]}" faults[j]="$tmp"
done

t0=0
elapsed() { awk -v ms="$(($(now_ms) - t0))" 'BEGIN {printf "%.1f", ms / 1000}'; }
say() { printf 'chaos: %6s s  %s\n' "$(elapsed)" "$*" >&2; }

# Injects one fault and waits for what it broke to work again. Appends
# "start_ms fault down_ms recovered_ms(-1: never) detail" to the timeline.
inject() {
    local fault="$1" start kill_done back pid="" what ok=1
    start=$(($(now_ms) - t0))
    mark_worker_logs
    case "$fault" in
        worker-*|gateway|psp)
            pid="$(cat "$(pid_file "$fault")" 2>/dev/null || true)"
            what="SIGKILL $fault (pid ${pid:-?})"
            say "$what"
            proc_kill "$fault" || ok=0
            ;;
        rabbitmq)
            what="SIGKILL RabbitMQ (beam pid $(cat "$(rabbit_dir)/rabbit.pid"))"
            say "$what"
            rabbit_kill
            ;;
        postgres)
            what="PostgreSQL stopped in immediate mode"
            say "$what"
            pg_stop immediate
            ;;
    esac
    kill_done=$(($(now_ms) - t0))
    sleep "$down"
    case "$fault" in
        worker-*) restart_procs && wait_for workers_attached "$fault" || ok=0 ;;
        gateway) restart_procs && wait_for gateway_ready || ok=0 ;;
        psp) restart_procs && wait_for psp_ready || ok=0 ;;
        rabbitmq) rabbit_start >/dev/null && wait_for workers_attached && wait_for gateway_ready || ok=0 ;;
        postgres) pg_start >/dev/null && wait_for gateway_ready || ok=0 ;;
    esac
    back=$(($(now_ms) - t0))
    if [[ $ok -eq 1 ]]; then
        : >"$marks" # nothing left to wait for
        say "$fault back: $(awk -v ms=$((back - start)) 'BEGIN {printf "%.1f", ms / 1000}') s after the fault"
    else
        say "$fault DID NOT RECOVER"
        back=-1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$start" "$fault" "$((kill_done - start))" \
        "$([[ $back -ge 0 ]] && echo $((back - start)) || echo -1)" "$what" >>"$timeline"
}

trap restore EXIT
trap 'exit 130' INT TERM
load_stack_args
say_plan="${#faults[@]} faults (${faults[*]}) over ${duration} s of load at $rate checkouts/s, seed $seed"
echo "souk chaos: $say_plan" >&2
"$bin" "${LOAD_ARGS[@]}" --rate "$rate" --duration "$duration" --seed "$seed" "${load_extra[@]}" \
    >"$report" 2> >(tee "$progress" >&2) &
load_pid=$!
if ! load_wait_started "$progress" "$load_pid"; then
    wait "$load_pid" || true
    load_pid=
    cat "$report"
    setup_error "souk-load did not start its checkouts"
fi
t0=$(($(now_ms) - 1000)) # the first progress line comes one second in

# Fault i falls at 10 % + i/(n-1) of 65 % of the run, or once the previous
# one recovered, whichever is later; one that could not start before 90 %
# is skipped, so that the load's checks do not run into an outage.
n=${#faults[@]} skipped=0
for ((i = 0; i < n; i++)); do
    at=$((duration * 100 + (n > 1 ? i * duration * 650 / (n - 1) : duration * 300)))
    now=$(($(now_ms) - t0))
    if [[ $now -gt $((duration * 900)) ]]; then
        say "no time left for ${faults[i]} (skipped; try a longer --duration or a shorter --down)"
        skipped=$((skipped + 1))
        continue
    fi
    [[ $now -lt $at ]] && sleep "$(awk -v ms=$((at - now)) 'BEGIN {printf "%.3f", ms / 1000}')"
    kill -0 "$load_pid" 2>/dev/null || break
    inject "${faults[i]}"
done

rc=0
wait "$load_pid" || rc=$?
load_pid=

# The per-second lines of the load with the faults of each second, then
# each fault's recovery, then souk-load's report.
echo
echo "souk chaos: $say_plan"
awk -F'\t' '
    NR == FNR {
        s = int($1 / 1000) + 1
        note[s] = note[s] (note[s] ? "; " : "") $5
        if ($4 >= 0) {
            b = int(($1 + $4) / 1000) + 1
            note[b] = note[b] (note[b] ? "; " : "") sprintf("%s back after %.1f s", $2, $4 / 1000)
        } else {
            note[s] = note[s] " (never back)"
        }
        next
    }
    /^load: / {
        for (i = 1; i <= NF; i++) {
            if ($i == "completed/s") c = $(i + 1)
            if ($i == "errors/s") e = $(i + 1)
        }
        s = $2 + 0
        printf "%6d %12s %9s  %s\n", s, c, e, note[s]
        delete note[s]
    }
    BEGIN { FS = "\t"; printf "%6s %12s %9s  %s\n", "s", "completed/s", "errors/s", "faults" }
    END { for (s in note) printf "%6d %12s %9s  %s\n", s, "", "", note[s] }
' "$timeline" FS=' ' "$progress"
echo
printf '%-8s  %-44s %9s  %s\n' "at" "fault" "kept down" "recovered after"
recovered=0
while IFS=$'\t' read -r start fault downms back what; do
    if [[ $back -ge 0 ]]; then
        recovered=$((recovered + 1))
        back="$(awk -v ms="$back" 'BEGIN {printf "%.1f s", ms / 1000}')"
    else
        back="NEVER"
    fi
    printf '%-8s  %-44s %9s  %s\n' "$(awk -v ms="$start" 'BEGIN {printf "%.1f s", ms / 1000}')" \
        "$what" "$(awk -v ms="$downms" -v d="$down" 'BEGIN {printf "%.1f s", ms / 1000 + d}')" "$back"
done <"$timeline"
injected=$(wc -l <"$timeline")
echo
cat "$report"
echo
echo "souk chaos: $injected of $n faults injected, $recovered recovered, $skipped skipped; figures in $state"
[[ $rc -eq 0 ]] || { echo "souk chaos: souk-load exited $rc (an invariant failed or setup broke)" >&2; exit "$rc"; }
[[ $recovered -eq $injected ]] || { echo "souk chaos: a fault did not recover" >&2; exit 1; }
echo "souk chaos: every fault recovered and every invariant holds"
