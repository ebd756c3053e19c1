#!/usr/bin/env bash
# Start-up of every per-message program, before and after a change, side by
# side in one run (issue 14): jsmail-queue, -smtpd, -local, -remote and -inject
# from two directories of published programs, and the Native AOT hello world,
# each started RUNS times, interleaved round by round (jsmail-bench compare).
# Never part of the test run.
#   bench/startup-compare.sh BEFORE_DIR AFTER_DIR [RUNS]   (default 300)
# Prints per program the median start-to-exit time before and after (ms), the
# ratio after/before, each against the hello world's median, and the quartiles
# as a measure of the noise; then the same for the CPU time the child used,
# which a machine busy with other work disturbs far less than the wall clock.
# BEFORE_DIR = AFTER_DIR shows the noise floor. STARTUP_PROGRAMS="queue"
# (a list of queue smtpd local remote inject) times only those.
# The homes live in /dev/shm (BENCH_TMP overrides): fsync costs nothing there,
# so the figures are the programs' own, not the disk's.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: bench/startup-compare.sh BEFORE_DIR AFTER_DIR [RUNS]" >&2; exit 100; }
before_dir=$(cd "$1" && pwd)
after_dir=$(cd "$2" && pwd)
runs=${3:-300}
programs=${STARTUP_PROGRAMS:-queue smtpd local remote inject}
work=$(mktemp -d "${BENCH_TMP:-/dev/shm}/jsmail-startup.XXXXXX")
. bench/lib.sh
bench_clean_on_exit "$work"
bench_tools "$work"

# smtp-sink, the peer of both jsmail-remotes.
bench_smtp_sink
port=$bench_sink_port

# A 2 KB message, its envelope, an SMTP session that only quits.
bench_message "$work" b@bench.test
printf 'QUIT\r\n' > "$work/quit"

# jsmail-inject's queue: reads the message and accepts it (bench/accepting-queue.c).
cc -O2 -o "$work/accepting-queue" bench/accepting-queue.c

# One home per side, so each side's programs read their own control files and queue.
specs=$work/specs
printf 'hello\t/dev/null\t/dev/null\t%s\n' "$work/hello/aot-hello" > "$specs"
for side in before after; do
  dir=${side}_dir
  home=$work/$side
  scripts/install.sh --single-user --prefix "$home" --prebuilt "${!dir}" >/dev/null
  echo mx.example > "$home/control/me"
  echo example.com > "$home/control/rcpthosts"
  echo "bench.test:127.0.0.1:$port" > "$home/control/smtproutes"
  mkdir -m 0755 "$work/$side-user"
  "$home/bin/maildirmake" "$work/$side-user/Maildir"
  printf './Maildir/\n' > "$work/$side-user/.qmail"
  b=$home/bin
  for p in $programs; do
    case $p in
      queue) printf 'queue-%s\t%s\t%s\t%s\n' "$side" "$work/msg" "$work/env" "$b/jsmail-queue" ;;
      smtpd) printf 'smtpd-%s\t%s\t/dev/null\t%s\n' "$side" "$work/quit" "$b/jsmail-smtpd" ;;
      local) printf 'local-%s\t%s\t/dev/null\t%s\t--\t%s\t%s\tu\t\t\texample.org\ts@example.org\t./Maildir/\n' \
        "$side" "$work/msg" "$b/jsmail-local" "$(id -un)" "$work/$side-user" ;;
      remote) printf 'remote-%s\t%s\t/dev/null\t%s\tbench.test\ta@example.com\tb@bench.test\n' "$side" "$work/msg" "$b/jsmail-remote" ;;
      inject) printf 'inject-%s\t%s\t/dev/null\t%s\n' "$side" "$work/msg" "$b/jsmail-inject" ;;
      *) echo "startup-compare: unknown program $p in STARTUP_PROGRAMS" >&2; exit 100 ;;
    esac
  done >> "$specs"
done
export QMAILQUEUE=$work/accepting-queue USER=bench
unset QMAILINJECT JSMAIL_COMPAT

# Each invocation once, checked, before any is timed: a program that fails
# fast would otherwise look fast (jsmail-remote and jsmail-smtpd exit 0 either way).
for side in before after; do
  b=$work/$side/bin
  "$b/jsmail-smtpd" <"$work/quit" | grep -q '^221 ' || { echo "startup-compare: $side jsmail-smtpd did not answer QUIT" >&2; exit 111; }
  "$b/jsmail-remote" bench.test a@example.com b@bench.test <"$work/msg" | tr '\0' '\n' | grep -q '^r' ||
    { echo "startup-compare: $side jsmail-remote did not deliver to smtp-sink" >&2; exit 111; }
done

echo "== start-up, median of $runs interleaved runs each (ms; q1-q3 in brackets)"
echo "   before: $before_dir"
echo "   after:  $after_dir"
"$work/driver/jsmail-bench" compare "$runs" "$specs" > "$work/medians"
table() { # title, first column of the figures in $work/medians
  echo "-- $1"
  awk -v c="$2" -v programs="$programs" '
    { median[$1] = $c; q[$1] = sprintf("[%.3f-%.3f]", $(c + 1), $(c + 2)) }
    END {
      h = median["hello"]
      printf "aot-hello %.3f %s\n", h, q["hello"]
      printf "%-7s %9s %19s %9s %19s %12s %12s %12s\n", "program", "before", "", "after", "", "after/before", "before/hello", "after/hello"
      n = split(programs, p, " ")
      for (i = 1; i <= n; i++) {
        b = median[p[i] "-before"]; a = median[p[i] "-after"]
        printf "%-7s %9.3f %19s %9.3f %19s %12.3f %12.2f %12.2f\n", p[i], b, q[p[i] "-before"], a, q[p[i] "-after"], a / b, b / h, a / h
      }
    }' "$work/medians"
}
table "wall clock, spawn to reaped" 2
table "CPU time of the child (user + system, its own children included)" 5
case " $programs " in
  *" local "*) echo "delivered by jsmail-local: $(ls "$work/before-user/Maildir/new" | wc -l) before, $(ls "$work/after-user/Maildir/new" | wc -l) after" ;;
esac
