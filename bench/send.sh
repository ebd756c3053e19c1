#!/usr/bin/env bash
# send.sh [N]: queue -> delivered throughput of jsmail-send/-todo/-clean with a
# trivial test spawner (tests/Jsmail.Send.Tests/testspawn.py answering K), and
# fsyncs per message (strace -c -f, when strace is installed). Needs the
# programs in artifacts/publish (scripts/publish.sh).
set -euo pipefail
n=${1:-500}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
home=$tmp/home
"$repo/scripts/install.sh" --prefix "$home" --single-user --prebuilt "$repo/artifacts/publish" >/dev/null
for s in qmail-lspawn qmail-rspawn; do cp "$repo/tests/Jsmail.Send.Tests/testspawn.py" "$home/bin/$s"; done
echo local.example >"$home/control/locals"
printf 'Fa@x\0Tu@local.example\0\0' >"$tmp/env"
trace=()
if command -v strace >/dev/null; then trace=(strace -f -c -e trace=fsync,fdatasync -o "$tmp/strace"); fi
(cd / && PATH=$home/bin:$PATH exec "${trace[@]}" "$home/bin/qmail-start" ./Mailbox >"$tmp/log" 2>&1) &
pid=$!
sleep 1
start=$(date +%s.%N)
for ((i = 0; i < n; i++)); do
  printf 'Subject: bench\n\nbody\n' | (cd "$home" && bin/qmail-queue 1<"$tmp/env")
done
queued=$(date +%s.%N)
for ((t = 0; t < 600; t++)); do
  [ "$(grep -c '^end msg' "$tmp/log")" -ge "$n" ] && break
  sleep 0.2
done
done_at=$(date +%s.%N)
ends=$(grep -c '^end msg' "$tmp/log")
# TERM goes to qmail-send itself (under strace it is strace's child)
for p in $(pgrep -x qmail-send || true); do
  if [ "$p" = "$pid" ] || [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$pid" ]; then kill -TERM "$p"; fi
done
wait "$pid" 2>/dev/null || true
echo "messages: $ends of $n delivered"
echo "queueing: $(echo "$n / ($queued - $start)" | bc -l | cut -c1-7) msgs/s (jsmail-queue alone, the baseline of this run)"
echo "end to end: $(echo "$ends / ($done_at - $start)" | bc -l | cut -c1-7) msgs/s"
if [ -f "$tmp/strace" ]; then
  calls=$(awk '$NF=="fsync"{print $4}' "$tmp/strace")
  echo "fsyncs in send/todo/clean/spawners: ${calls:-0} ($(echo "${calls:-0} / $n" | bc -l | cut -c1-5) per message; jsmail-queue's own are not traced)"
fi
