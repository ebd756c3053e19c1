#!/usr/bin/env bash
# Benchmarks of jsmail-local (issue: local delivery). Ratios against a baseline
# measured in this same run; never part of the test run.
#   bench/local.sh [RUNS] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
count=${2:-2000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

. bench/lib.sh
bench_prepare "$work"

# A 2 KB message and a user whose .qmail delivers to a Maildir.
{ printf 'From: a@example.com\nTo: b@example.com\nSubject: bench\n\n'; head -c 1950 /dev/zero | tr '\0' 'x' | fold -w 70; echo; } > "$work/msg"
mkdir -m 0755 "$work/user"
"$work/home/bin/maildirmake" "$work/user/Maildir"
printf './Maildir/\n' > "$work/user/.qmail"
# jsmail-bench runs a program without arguments: a two-line wrapper would time the
# shell too, so the arguments travel in a tiny AOT-free way: an exec'ing script is
# measured separately below as the shell's own cost.
# The user name is written in once, not looked up per run: the wrapper around
# jsmail-local must cost what the hello world's wrapper costs.
cat > "$work/local" <<SH
#!/bin/sh
exec "$work/home/bin/jsmail-local" -- "$(id -un)" "$work/user" u '' '' example.org s@example.org ./Maildir/
SH
cat > "$work/hello-sh" <<SH
#!/bin/sh
exec "$work/hello/aot-hello"
SH
chmod +x "$work/local" "$work/hello-sh"

echo "== start-up: jsmail-local delivering 2 KB to a Maildir vs the AOT hello world, both through the same exec'ing sh (median of $runs each, interleaved)"
"$work/driver/jsmail-bench" startup "$work/hello-sh" "$work/local" "$work/msg" /dev/null "$runs"
echo "== sequential: $count Maildir deliveries by jsmail-local (one fsync each), one process start each"
"$work/driver/jsmail-bench" sequential "$work/local" "$work/msg" /dev/null "$count"
echo "== baseline: $count runs of the AOT hello world through the same sh"
"$work/driver/jsmail-bench" sequential "$work/hello-sh" /dev/null /dev/null "$count"
echo "delivered: $(ls "$work/user/Maildir/new" | wc -l) files"
