#!/usr/bin/env bash
# Memory of the queue manager with a large queue (issue 16), never part of the
# test run:
#   bench/send-rss.sh [N]
# N messages (default 100000), each to one remote recipient, are written into
# the queue as jsmail-todo leaves them (mess/, info/, remote/; jsmail-bench
# fill-preprocessed, from one process, no fsyncs) while nothing runs. Then
# jsmail-start runs with concurrencylocal and concurrencyremote 0, so that no
# delivery starts and every message stays scheduled, and once jsmail-send has
# scanned the queue (its first status line) its VmRSS and VmHWM are printed,
# beside the AOT hello world's peak measured in the same run. Goal: <= 30 MB.
# BENCH_NO_PUBLISH=1 measures artifacts/publish as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
. bench/lib.sh
bench_daemon_on_exit "$work"
bench_prepare "$work"
home=$work/home
echo me.example >"$home/control/me"
echo local.example >"$home/control/locals"
echo 0 >"$home/control/concurrencylocal"
echo 0 >"$home/control/concurrencyremote"

kb() { awk -v f="$2:" '$1==f{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

hello_kb=$( { /usr/bin/time -f %M "$work/hello/aot-hello" >/dev/null; } 2>&1 )
echo "baseline: the AOT hello world peaks at $hello_kb kB RSS"

"$work/driver/jsmail-bench" fill-preprocessed "$home/queue" "$n" s@example.com u@remote.example
echo "queue: $(find "$home/queue/info" -type f | wc -l) messages in info/, $(find "$home/queue/remote" -type f | wc -l) in remote/"

(cd / && PATH=$home/bin:$PATH exec "$home/bin/qmail-start" ./Mailbox >"$work/log" 2>&1) &
bench_daemon=$!
for ((t = 0; t < 6000; t++)); do grep -q '^status:' "$work/log" 2>/dev/null && break; sleep 0.1; done
grep -q '^status:' "$work/log" || { echo "jsmail-send did not start:"; cat "$work/log"; exit 1; }
sleep 2 # let the loop settle after the scan
echo "jsmail-send with $n messages scheduled: VmRSS $(kb "$bench_daemon" VmRSS) kB, peak (VmHWM) $(kb "$bench_daemon" VmHWM) kB (goal: <= 30720 kB)"
