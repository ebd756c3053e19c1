#!/usr/bin/env bash
# Benchmarks of jsmail-inject (issue 3). Prints ratios against baselines
# measured in this same run; never part of the test run.
#   bench/inject.sh [RUNS] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
count=${2:-2000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

. bench/lib.sh
bench_prepare "$work"

# A 2 KB message with the usual header fields, so that every field kind is rewritten.
{
  printf 'From: Ann Example <ann@example.com>\nTo: Bob <bob@example.com>, carol@example.com\nCc: dave\n'
  printf 'Subject: bench\nDate: 5 Jan 2024 09:07:03 -0000\nMessage-ID: <bench@example.com>\n\n'
  head -c 1700 /dev/zero | tr '\0' 'x' | fold -w 70
  echo
} > "$work/msg"
export USER=bench
unset QMAILQUEUE QMAILINJECT

echo "== start-up: jsmail-inject -n on a 2 KB message vs a Native AOT hello world (median of $runs each, interleaved)"
"$work/driver/jsmail-bench" startup "$work/hello/aot-hello" "$work/home/bin/jsmail-inject" "$work/msg" /dev/null "$runs" -- -n

echo "== sequential: $count messages through jsmail-inject into the installed home (jsmail-inject + jsmail-queue each)"
"$work/driver/jsmail-bench" sequential "$work/home/bin/jsmail-inject" "$work/msg" /dev/null "$count"
echo "queued: $(find "$work/home/queue/todo" -type f | wc -l) messages"
echo "== baseline for the same machine: $count runs of the AOT hello world"
"$work/driver/jsmail-bench" sequential "$work/hello/aot-hello" /dev/null /dev/null "$count"
