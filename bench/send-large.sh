#!/usr/bin/env bash
# Benchmark of a large queue (issue 5), never part of the test run:
#   bench/send-large.sh [N]
# N messages (default 100000) are queued while delivery runs, from one process
# by the commit protocol (jsmail-bench fill, no fsyncs, the trigger pulled every
# 1000), into a home whose spawners answer at once (the test spawner,
# tests/Jsmail.Send.Tests/testspawn.py): what is measured is jsmail-send and
# jsmail-todo. Every 2 s it prints the todo/ backlog, the deliveries so far and
# the RSS of jsmail-send and jsmail-todo; then the todo drain rate, the
# delivery rate while a backlog remained, and the peak RSS of both against the
# AOT hello world's, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
daemon=
cleanup() {
  [ -z "$daemon" ] || kill -TERM "$daemon" 2>/dev/null || true
  [ -z "$daemon" ] || wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
bench_prepare "$work"
home=$work/home
for s in qmail-lspawn qmail-rspawn; do cp tests/Jsmail.Send.Tests/testspawn.py "$home/bin/$s"; done
echo me.example >"$home/control/me"
echo local.example >"$home/control/locals"
: >"$home/delivered"

kb() { awk -v f="$2:" '$1==f{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now() { date +%s.%N; }

hello_kb=$( { /usr/bin/time -f %M "$work/hello/aot-hello" >/dev/null; } 2>&1 )
echo "baseline: the AOT hello world peaks at $hello_kb kB RSS"

(cd / && PATH=$home/bin:$PATH exec "$home/bin/qmail-start" ./Mailbox >"$work/log" 2>&1) &
daemon=$!
for ((t = 0; t < 100; t++)); do grep -q '^status:' "$work/log" 2>/dev/null && break; sleep 0.1; done
todo=$(pgrep -x -P "$daemon" qmail-todo)

start=$(now)
"$work/driver/jsmail-bench" fill "$home/queue" "$n" s@x u@local.example 1000 >"$work/fill.out" &
filler=$!
printf '%8s %9s %10s %10s %12s %12s\n' seconds backlog preprocessed delivered send-RSS-kB todo-RSS-kB
drained_at= delivered_at_half=0
while :; do
  sleep 2
  t=$(echo "$(now) - $start" | bc -l)
  backlog=$(find "$home/queue/todo" -type f | wc -l)
  pre=$(grep -c '^new msg' "$work/log" || true)
  del=$(wc -l <"$home/delivered")
  printf '%8.0f %9d %10d %10d %12s %12s\n' "$t" "$backlog" "$pre" "$del" "$(kb "$daemon" VmRSS)" "$(kb "$todo" VmRSS)"
  [ "$backlog" -gt $((n / 2)) ] && delivered_at_half=$del
  if [ -z "$drained_at" ] && ! kill -0 "$filler" 2>/dev/null && [ "$pre" -ge "$n" ]; then drained_at=$t; fi
  [ "$del" -ge "$n" ] && break
  if (($(echo "$t > 3600" | bc))); then echo "gave up after an hour"; break; fi
done
wait "$filler" || true
cat "$work/fill.out"
echo "todo drain: $n messages preprocessed in ${drained_at:-?} s: $(echo "$n / ${drained_at:-0} " | bc -l 2>/dev/null | cut -c1-7) msgs/s"
echo "delivered while more than half of the messages still waited in todo/: $delivered_at_half"
echo "deliveries: $(wc -l <"$home/delivered") in $(echo "$(now) - $start" | bc -l | cut -c1-7) s"
send_peak=$(kb "$daemon" VmHWM) todo_peak=$(kb "$todo" VmHWM)
echo "peak RSS: jsmail-send $send_peak kB ($(echo "$send_peak / $hello_kb" | bc -l | cut -c1-4)x the hello world), jsmail-todo $todo_peak kB ($(echo "$todo_peak / $hello_kb" | bc -l | cut -c1-4)x)"
