#!/usr/bin/env bash
# The whole MTA (issue: the whole MTA): scripts/run.sh serving SMTP on
# loopback, postfix's smtp-source sending N messages (half to a local Maildir,
# half to a remote domain routed to smtp-sink), until every one is delivered.
# Reports messages per second and CPU seconds per 1,000 messages of every
# process of the MTA (tcpserver, jsmail-smtpd, -queue, -send, -todo, -clean,
# -lspawn, -local, -rspawn, -remote), against the AOT hello world of
# bench/lib.sh measured in the same run. Never part of the test run.
#   bench/mta.sh [N] [CONCURRENCY] [MIX]
# MIX "both" (the default) sends the two halves as two streams of CONCURRENCY
# sessions each; "local" sends all N to the local Maildir in one stream: the
# queue manager's end-to-end figure (smtp-source -s 10, one recipient, into a
# Maildir).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
conc=${2:-10}
mix=${3:-both}
case $mix in both | local) ;; *) echo "usage: bench/mta.sh [N] [CONCURRENCY] [both|local]" >&2; exit 100 ;; esac
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work" # run by root, run.sh delivers as nobody
run=
sink=
cleanup() {
  # TERM: a background job of a script has SIGINT ignored, which bash cannot trap
  [ -z "$run" ] || { kill -TERM "$run" 2>/dev/null; wait "$run" 2>/dev/null || true; }
  [ -z "$sink" ] || { kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. bench/lib.sh
bench_prepare "$work"
for tool in tcpserver /usr/sbin/smtp-source /usr/sbin/smtp-sink; do
  command -v "$tool" >/dev/null || { echo "bench/mta.sh: $tool is missing (ucspi-tcp, postfix)" >&2; exit 111; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
sinkport=$(free_port)
tick=$(getconf CLK_TCK)

# ------------------------------------------------------------- baseline
# CPU of 1,000 starts of the AOT hello world, as the shell's children, and
# their rate; measured before and after the MTA run and averaged, since the
# rate drifts by as much as 25% between minutes on these shared machines.
read -r hello_cpu1 hello_rate1 < <(bench_hello_run "$work")
# ------------------------------------------------------------- the MTA
mkdir -p "$work/mta/control" "$work/sink"
echo localhost >"$work/mta/control/me"
echo "remote.test:127.0.0.1:$sinkport" >"$work/mta/control/smtproutes"
as=()
[ "$(id -u)" != 0 ] || { as=(-u nobody); chmod 1777 "$work/sink"; }
/usr/sbin/smtp-sink "${as[@]}" 127.0.0.1:"$sinkport" 1000 >/dev/null 2>&1 &
sink=$!
scripts/run.sh --home "$work/mta" --port "$port" --prebuilt artifacts/publish >"$work/run.log" 2>&1 &
run=$!
for ((t = 0; t < 600; t++)); do grep -qs 'Ctrl-C stops' "$work/run.log" && break; sleep 0.1; done
grep -q 'Ctrl-C stops' "$work/run.log" || { cat "$work/run.log" >&2; exit 111; }

# cpu: clock ticks of the MTA's processes, their reaped children included
# (every short-lived program is reaped by a daemon of the MTA).
cpu() {
  local groups
  groups=$(ps -o pid= --ppid "$run" | tr -s ' \n' ' ')
  for g in $groups; do
    for p in $(ps -e -o pid=,pgid= | awk -v g="$g" '$2 == g { print $1 }'); do
      cut -d ')' -f 2- "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
    done
  done | awk '{ t += $1 } END { print t + 0 }'
}
ends() { grep -c '^end msg' "$work/run.log" || true; }

before=$(cpu)
start=$(date +%s.%N)
half=$((n / 2))
[ "$mix" = both ] || half=$n
/usr/sbin/smtp-source -s "$conc" -m "$half" -l 2048 -f bench@example.org -t you@localhost 127.0.0.1:"$port" &
sources=($!)
if [ "$half" -lt "$n" ]; then
  /usr/sbin/smtp-source -s "$conc" -m "$((n - half))" -l 2048 -f bench@example.org -t sink@remote.test 127.0.0.1:"$port" &
  sources+=($!)
fi
wait "${sources[@]}"
accepted=$(date +%s.%N)
bench_wait_lines "$work/run.log" '^end msg' "$n" 600
done_at=$(date +%s.%N)
after=$(cpu)

read -r hello_cpu2 hello_rate2 < <(bench_hello_run "$work")
hello_cpu=$(echo "($hello_cpu1 + $hello_cpu2) / 2" | bc -l)
hello_rate=$(echo "($hello_rate1 + $hello_rate2) / 2" | bc -l)
delivered=$(ends)
local_files=$(find "$work/mta/mail/you/Maildir/new" -type f | wc -l)
mta_cpu=$(echo "($after - $before) / $tick" | bc -l)
rate=$(echo "$delivered / ($done_at - $start)" | bc -l)
per1000=$(echo "$mta_cpu * 1000 / $delivered" | bc -l)
printf 'messages: %d sent (%s), %d delivered (%d in the local Maildir), concurrency %d per stream\n' "$n" "$mix" "$delivered" "$local_files" "$conc"
printf 'SMTP in: %.1f msgs/s; in and delivered: %.1f msgs/s\n' "$(echo "$n / ($accepted - $start)" | bc -l)" "$rate"
printf 'MTA CPU: %.2f s per 1,000 messages\n' "$per1000"
printf 'baseline: AOT hello %.2f s CPU per 1,000 starts, %.0f starts/s sequential (before %.0f, after %.0f)\n' "$hello_cpu" "$hello_rate" "$hello_rate1" "$hello_rate2"
printf 'ratios: CPU per message = %.1f hello starts; throughput = %.3f of sequential hello starts\n' \
  "$(echo "$per1000 / $hello_cpu" | bc -l)" "$(echo "$rate / $hello_rate" | bc -l)"
