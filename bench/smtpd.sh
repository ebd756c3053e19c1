#!/usr/bin/env bash
# Benchmarks of jsmail-smtpd under tcpserver (issue 4). Prints figures and
# ratios against baselines measured in this same run; never part of the tests.
#   bench/smtpd.sh [MESSAGES] [RUNS]
# Needs ucspi-tcp and postfix (smtp-source, smtp-sink) installed.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
runs=${2:-300}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

. bench/lib.sh
bench_prepare "$work"
echo mx.example > "$work/home/control/me"
echo example.com > "$work/home/control/rcpthosts"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "no listener on $1" >&2; exit 1; }
now() { date +%s.%N; }

smtpd_port=$(port)
env -u JSMAIL_COMPAT tcpserver -R -H -l mx.example -c 40 127.0.0.1 "$smtpd_port" "$work/home/bin/qmail-smtpd" 2>/dev/null &
pids+=($!)
sink_port=$(port)
smtp-sink -u nobody -c 127.0.0.1:"$sink_port" 100 >/dev/null 2>&1 &
pids+=($!)
wait_port "$smtpd_port"
wait_port "$sink_port"

run() { # sessions port -> msgs/s
  local t0 t1
  t0=$(now)
  smtp-source -s "$1" -m "$count" -l 2048 -f s@example.com -t a@example.com 127.0.0.1:"$2"
  t1=$(now)
  echo "$count / ($t1 - $t0)" | bc -l
}

queued() { find "$work/home/queue/todo" -type f | wc -l; }

# Each figure is divided by the AOT hello world's sequential start rate,
# measured right before and right after it (bench_hello_run): the issue's goals
# are notqmail figures from machines where that hello world starts in 3.5 ms,
# i.e. 0.56 (s=10) and 0.26 (s=1) messages per hello start.
for s in 10 1; do
  read -r _ hello1 < <(bench_hello_run "$work")
  before=$(queued)
  j=$(run "$s" "$smtpd_port")
  got=$(( $(queued) - before ))
  read -r _ hello2 < <(bench_hello_run "$work")
  hello=$(echo "($hello1 + $hello2) / 2" | bc -l)
  b=$(run "$s" "$sink_port")
  printf '== smtp-source -s %s -m %s -l 2048\n' "$s" "$count"
  printf 'jsmail-smtpd (tcpserver, jsmail-queue): %.1f msgs/s (%s queued)\n' "$j" "$got"
  printf 'baseline: AOT hello %.0f starts/s sequential (before %.0f, after %.0f)\n' "$hello" "$hello1" "$hello2"
  printf 'ratio: %.3f messages per sequential hello start\n' "$(echo "$j / $hello" | bc -l)"
  printf 'for scale, smtp-sink (one process, no queue): %.1f msgs/s\n' "$b"
done

printf 'QUIT\r\n' > "$work/quit"; : > "$work/out"
echo "== start-up: jsmail-smtpd answering QUIT vs a Native AOT hello world (median of $runs each, interleaved)"
"$work/driver/jsmail-bench" startup "$work/hello/aot-hello" "$work/home/bin/jsmail-smtpd" "$work/quit" "$work/out" "$runs"
echo "== start-up: jsmail-smtpd-tls (what a STARTTLS session execs; plain sessions never pay it)"
"$work/driver/jsmail-bench" startup "$work/hello/aot-hello" "$work/home/bin/jsmail-smtpd-tls" "$work/quit" "$work/out" "$runs"
