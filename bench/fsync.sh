#!/usr/bin/env bash
# Filesystem syncs per delivered local message (issue 16 §5, goal <= 3), never
# part of the test run. The whole flow: smtp-source -s 10 sends N messages of
# 2 KB to one local recipient through jsmail-smtpd's server mode and the queue
# service jsmail-queued (when the build has it), jsmail-todo, jsmail-send and
# jsmail-lspawn (in-process where it can, else jsmail-local) into a Maildir.
# The front end and the queue manager each run under
#   strace -f --seccomp-bpf -e trace=fsync,fdatasync,syncfs,sync_file_range,...
# (only the traced calls stop the tracees); each call is counted for the
# program that made it: a process is named by its last execve, and a thread
# or child by its parent until it execs. Prints syncs per delivered message,
# in all and by program.
#   bench/fsync.sh [N]      (default 500)
# Run as root (deliveries as nobody). BENCH_NO_PUBLISH=1 installs
# artifacts/publish as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
[ "$(id -u)" = 0 ] || { echo "bench/fsync.sh: run as root (deliveries as nobody)" >&2; exit 111; }
for tool in strace /usr/sbin/smtp-source; do
  command -v "$tool" >/dev/null || { echo "bench/fsync.sh: $tool is missing (strace, postfix)" >&2; exit 111; }
done
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work" # deliveries run as nobody

. bench/lib.sh
bench_on_exit rm -rf "$work"
[ "${BENCH_NO_PUBLISH:-}" = 1 ] || scripts/publish.sh artifacts/publish >/dev/null
home=$work/home
scripts/install.sh --single-user --prefix "$home" --prebuilt artifacts/publish >/dev/null
bench_has_server_mode "$home" || { echo "bench/fsync.sh: this build has no jsmail-smtpd server mode" >&2; exit 111; }

bench_local_maildir "$home"

syncs='fsync|fdatasync|syncfs|sync_file_range'
tracer() { echo strace -f --seccomp-bpf -e "trace=${syncs//|/,},execve,clone,clone3,fork,vfork" -o "$1"; }

# the queue manager, as jsmail-start runs it (its log in $home/log)
(cd / && PATH=$home/bin:$PATH exec $(tracer "$work/send.strace") "$home/bin/qmail-start" ./Mailbox >"$home/log" 2>&1) &
send_pid=$!
bench_on_exit "bench_stop_send $send_pid"
port=$(bench_free_port)
# shellcheck disable=SC2046 # the tracer's words
bench_server_smtpd "$home" "$port" $(tracer "$work/server.strace")

echo "== filesystem syncs per delivered local message: $n messages of 2 KB, smtp-source -s 10, server-mode jsmail-smtpd$([ -x "$home/bin/jsmail-queued" ] && echo ' and jsmail-queued') to a Maildir"
uptime
/usr/sbin/smtp-source -s 10 -m "$n" -l 2048 -f a@example.com -t bench@bench.test "127.0.0.1:$port"
bench_wait_lines "$home/log" '^end msg' "$n" 1800
bench_stop_traced "$bench_server_pid"
bench_stop_send "$send_pid"
delivered=$(find "$home/mbox/Maildir/new" -type f | wc -l)
[ "$delivered" -gt 0 ] || { echo "bench/fsync.sh: nothing was delivered (log: $home/log)" >&2; exit 1; }

# by_program STRACE-FILE...: "PROGRAM CALLS" for each program that made a sync call
by_program() {
  awk -v syncs="^($syncs)\\\\(" '
    function name(path) { sub(/.*\//, "", path); sub(/^qmail-/, "jsmail-", path); return path }
    function unattributed() { for (p in early) count["unknown"] += early[p]; delete early }
    FNR == 1 { unattributed(); delete prog; delete pending }  # each file is its own process tree
    {
      pid = $1; call = $0; sub(/^[0-9]+ +/, "", call)
      if (call ~ /^execve\("/) { path = call; sub(/^execve\("/, "", path); sub(/".*/, "", path); pending[pid] = name(path) }
      if (call ~ /^(execve\(|<\.\.\. execve resumed>)/ && call ~ / = 0$/ && (pid in pending)) prog[pid] = pending[pid]
      if (call ~ /^(clone3?|v?fork)\(|^<\.\.\. (clone3?|v?fork) resumed>/ && match(call, /= [0-9]+$/)) {
        child = substr(call, RSTART + 2)
        if (!(child in prog)) prog[child] = (pid in prog) ? prog[pid] : "unknown"
        # a new thread may sync before strace writes the line of the clone that made it
        if (child in early) { count[prog[child]] += early[child]; delete early[child] }
      }
      if (call ~ syncs) { if (pid in prog) count[prog[pid]]++; else early[pid]++ }
    }
    END { unattributed(); for (p in count) print p, count[p] }' "$@" | sort
}

printf 'delivered: %d of %d messages (syncs counted: %s)\n' "$delivered" "$n" "${syncs//|/, }"
total=0
while read -r program calls; do
  printf '  %-22s %6d syncs  %5.2f a message\n' "$program" "$calls" "$(echo "$calls / $delivered" | bc -l)"
  total=$((total + calls))
done < <(by_program "$work/server.strace" "$work/send.strace")
printf '  %-22s %6d syncs  %5.2f a message (goal <= 3)\n' "in all" "$total" "$(echo "$total / $delivered" | bc -l)"
uptime
