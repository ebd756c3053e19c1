#!/usr/bin/env bash
# Benchmark of the queue manager end to end (issue 5), never part of the test run:
#   bench/send.sh [N] [PARALLEL]
# N messages (default 1000), one recipient each, are queued by PARALLEL
# (default 4) loops of jsmail-queue while jsmail-start, -send, -todo, -clean,
# jsmail-lspawn and jsmail-local deliver them into a Maildir (a trivial local
# delivery: users/assign maps the recipient to nobody, whose .qmail is
# ./Maildir/). Reports messages per second from the first queueing to the last
# "end msg", fsyncs per message (strace -f -c over the queueing loops and over
# the daemons, when strace is installed), and the AOT hello world's start-up
# rate measured in the same run as the baseline. notqmail does about 125
# msgs/s end to end on this kind of machine, with about five fsyncs a message.
# Run as root (the delivery switches to nobody).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
par=${2:-4}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work"
daemon=
cleanup() {
  if [ -n "$daemon" ]; then
    for p in $(pgrep -x qmail-send || true); do
      if [ "$p" = "$daemon" ] || [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$daemon" ]; then kill -TERM "$p"; fi
    done
    wait "$daemon" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
bench_prepare "$work"
home=$work/home

echo me.example >"$home/control/me"
echo local.example >"$home/control/locals"
mkdir -m 0755 "$work/mbox"
"$home/bin/maildirmake" "$work/mbox/Maildir"
echo ./Maildir/ >"$work/mbox/.qmail"
chown -R nobody: "$work/mbox"
printf '=bench:nobody:%s:%s:%s:::\n.\n' "$(id -u nobody)" "$(id -g nobody)" "$work/mbox" >"$home/users/assign"
(cd "$home" && bin/qmail-newu)
printf 'Fa@x\0Tbench@local.example\0\0' >"$work/env"
printf 'From: a@x\nTo: bench@local.example\nSubject: bench\n\nbody\n' >"$work/msg"

fsyncs() { [ -f "$1" ] && awk '$NF=="fsync"||$NF=="fdatasync"{s+=$4} END{print s+0}' "$1" || echo "?"; }

echo "== baseline: 1000 sequential starts of the AOT hello world"
"$work/driver/jsmail-bench" sequential "$work/hello/aot-hello" /dev/null /dev/null 1000 | tee "$work/hello.out"
hello=$(sed -n 's/.*: \([0-9.]*\) msgs\/s/\1/p' "$work/hello.out")

inject() { for ((i = 0; i < $1; i++)); do (cd "$home" && bin/qmail-queue <"$work/msg" 1<"$work/env"); done; }
export -f inject
export home work

# flow COUNT TRACE [PREFILLED]: one run of the daemons, COUNT messages queued by
# $par loops of jsmail-queue while they run, or with PREFILLED=1 all queued
# before they start (jsmail-bench fill: the delivery side alone); with TRACE=1
# everything runs under strace -f -c (fsync counts; too slow to time)
flow() {
  local count=$1 traced=$2 prefilled=${3:-0} tracer=() qtracer=() per t
  rm -f "$work/log" "$work"/*.strace
  if [ "$traced" = 1 ]; then
    tracer=(strace -f -c -e trace=fsync,fdatasync -o "$work/daemons.strace")
    qtracer=(strace -f -c -e trace=fsync,fdatasync -o "$work/queue.strace")
  fi
  per=$(((count + par - 1) / par))
  total=$((per * par))
  [ "$prefilled" = 0 ] || "$work/driver/jsmail-bench" fill "$home/queue" "$total" a@x bench@local.example >/dev/null
  start=$(date +%s.%N)
  # jsmail-send is this process, or strace's child
  (cd / && PATH=$home/bin:$PATH exec "${tracer[@]}" "$home/bin/qmail-start" ./Mailbox >"$work/log" 2>&1) &
  daemon=$!
  for ((t = 0; t < 100; t++)); do grep -q '^status:' "$work/log" 2>/dev/null && break; sleep 0.1; done
  [ "$prefilled" = 1 ] || start=$(date +%s.%N)
  [ "$prefilled" = 1 ] || "${qtracer[@]}" bash -c "for ((p = 0; p < $par; p++)); do inject $per & done; wait"
  queued=$(date +%s.%N)
  bench_wait_lines "$work/log" '^end msg' "$total" 600
  done_at=$(date +%s.%N)
  ends=$(grep -c '^end msg' "$work/log")
  for p in $(pgrep -x qmail-send || true); do
    if [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$daemon" ] || [ "$p" = "$daemon" ]; then kill -TERM "$p"; fi
  done
  wait "$daemon" 2>/dev/null || true
  daemon=
}

echo "== end to end: $n messages, $par parallel jsmail-queue loops, delivered by jsmail-local into a Maildir"
flow "$n" 0
rate=$(echo "$ends / ($done_at - $start)" | bc -l)
echo "messages: $ends of $total ended, $(ls "$work/mbox/Maildir/new" | wc -l) in the Maildir"
printf 'queueing alone: %.1f msgs/s\n' "$(echo "$total / ($queued - $start)" | bc -l)"
printf 'end to end: %.1f msgs/s (notqmail: about 125 on a quiet machine of this kind; goal >= 100)\n' "$rate"
printf 'ratio: one message end to end costs %.2f AOT hello starts (%.0f starts/s)\n' "$(echo "$hello / $rate" | bc -l)" "$hello"

echo "== the delivery side alone: $n messages queued before jsmail-start (no injection to wait for)"
flow "$n" 0 1
printf 'queue to delivered: %.1f msgs/s = %.2f AOT hello starts a message\n' "$(echo "$ends / ($done_at - $start)" | bc -l)" \
  "$(echo "$hello * ($done_at - $start) / $ends" | bc -l)"

if command -v strace >/dev/null; then
  m=$(((n + 9) / 10))
  echo "== fsyncs: $m more messages, everything under strace -f"
  flow "$m" 1
  q=$(fsyncs "$work/queue.strace")
  d=$(fsyncs "$work/daemons.strace")
  printf 'fsyncs: %s by jsmail-queue + %s by send/todo/clean/lspawn/local = %.2f per message (qmail: about 5)\n' \
    "$q" "$d" "$(echo "($q + $d) / $total" | bc -l)"
fi
