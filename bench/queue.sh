#!/usr/bin/env bash
# Benchmarks of jsmail-queue (issue: foundation). Prints ratios against
# baselines measured in this same run; never part of the test run.
#   bench/queue.sh [RUNS] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
count=${2:-2000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
# A second home in memory (tmpfs): fsync costs nothing there, so it shows the
# process's own cost apart from the disk's.
shm=$(mktemp -d /dev/shm/jsmail-bench.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT

. bench/lib.sh
bench_prepare "$work" "$shm/home"

# A 2 KB message and a one-recipient envelope.
{ printf 'From: a@example.com\nTo: b@example.com\nSubject: bench\n\n'; head -c 1950 /dev/zero | tr '\0' 'x' | fold -w 70; echo; } > "$work/msg"
printf 'Fa@example.com\0Tb@example.com\0\0' > "$work/env"

echo "== start-up: jsmail-queue queueing a 2 KB message vs a Native AOT hello world (median of $runs each, interleaved)"
"$work/driver/jsmail-bench" startup "$work/hello/aot-hello" "$work/home/bin/jsmail-queue" "$work/msg" "$work/env" "$runs"

echo "== start-up into a tmpfs home (no disk cost): jsmail-queue vs the AOT hello world"
"$work/driver/jsmail-bench" startup "$work/hello/aot-hello" "$shm/home/bin/jsmail-queue" "$work/msg" "$work/env" "$runs"

echo "== sequential: $count messages through jsmail-queue (two fsyncs each), one process start each"
"$work/driver/jsmail-bench" sequential "$work/home/bin/jsmail-queue" "$work/msg" "$work/env" "$count"
echo "== baseline for the same disk: $count runs of the AOT hello world"
"$work/driver/jsmail-bench" sequential "$work/hello/aot-hello" /dev/null /dev/null "$count"
