#!/usr/bin/env bash
# CPU time by process group, for the benchmarks: prints "group milliseconds"
# for every live process on the machine, summed by what it is:
#   worker-<service>, gateway, psp, front  the stack's processes (by pid file
#                                          in $1/pids, a stack's state folder)
#   postgres:<role>                        PostgreSQL backends, by login role
#                                          (their process title names it)
#   postgres:background                    autovacuum, WAL writer, checkpointer, …
#   rabbitmq                               the Erlang VM
#   souk-load                              the load tool
#   other                                  the rest of the machine
# utime + stime from /proc/<pid>/stat; a process that exits takes its time
# with it, so take the difference of two snapshots of long-lived processes.
set -euo pipefail
state="${1:?usage: cpu-groups.sh <stack state folder>}"
hz="$(getconf CLK_TCK)"
declare -A group_of=()
for f in "$state"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    name="$(basename "$f" .pid)"
    name="${name%-[0-9]*}" # worker-order-2 -> worker-order
    group_of["$(cat "$f")"]="$name"
done
for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    stat="$(cat "$dir/stat" 2>/dev/null)" || continue
    rest="${stat##*) }" # after "(comm) "
    read -r -a f <<<"$rest"
    ticks=$((f[11] + f[12])) # utime, stime: fields 14 and 15 of stat
    ((ticks > 0)) || continue
    group="${group_of[$pid]:-}"
    if [[ -z "$group" ]]; then
        cmd="$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null || true)"
        case "$cmd" in
        "postgres: "*) role="$(awk '{print $2}' <<<"$cmd")"
            case "$role" in
            souk_* | postgres) group="postgres:$role" ;;
            *) group="postgres:background" ;;
            esac ;;
        */bin/postgres\ *) group=postgres:background ;;
        *beam.smp*) group=rabbitmq ;;
        *souk-load*) group=souk-load ;;
        *"nginx: "*) group=front ;;
        *) group=other ;;
        esac
    fi
    echo "$group $ticks"
done | awk -v hz="$hz" '{t[$1] += $2} END {for (g in t) printf "%s %d\n", g, t[g] * 1000 / hz}' | sort
