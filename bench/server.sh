#!/usr/bin/env bash
# The SMTP accept rate of issue 15 (server mode), never part of the test run:
# in one run on this machine, the same `smtp-source -s S -m N -l 2048 -r 1`
# at S = 1, 10 and 50 into
#   (i)   jsmail-smtpd in server mode (jsmail-smtpd-server, with the queue
#         service jsmail-queued), when the build has it;
#   (ii)  jsmail-smtpd under tcpserver, a jsmail-queue per message;
#   (iii) Postfix 3.7 (the Debian package) as a private instance on loopback
#         that accepts into its queue and delivers nowhere (bench/postfix.sh).
# No queue manager runs for jsmail either: what is measured is the SMTP
# accept and the queue write. Prints each rate, the messages queued, and the
# ratios server/Postfix and server/tcpserver. Then, at S = 10, the latency of
# each message from the end of DATA to its 250 (bench/smtp-latency.c: median
# and 99th percentile) and, in a separate pass under strace -f -c at S = 50,
# the filesystem syncs per accepted message (fsync, fdatasync, syncfs,
# sync_file_range).
#   bench/server.sh [N]            (default 2000)
# Run as root (the private Postfix needs it). BENCH_NO_PUBLISH=1 installs
# artifacts/publish as it is; BENCH_SERVER_ARGS adds options to the server;
# BENCH_SYNCS_ONLY=1 runs only the pass that counts syncs; BENCH_COMMIT_WAIT=N
# writes N to the server's control/queuedcommitwait (jsmail-queued's hold, µs).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
[ "$(id -u)" = 0 ] || { echo "bench/server.sh: run as root (the private Postfix instance needs it)" >&2; exit 111; }
for tool in tcpserver /usr/sbin/smtp-source /usr/sbin/postfix strace cc; do
  command -v "$tool" >/dev/null || { echo "bench/server.sh: $tool is missing (ucspi-tcp, postfix, strace, gcc)" >&2; exit 111; }
done
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work" # the private Postfix runs as postfix and must reach its directory

. bench/lib.sh
. bench/postfix.sh
bench_on_exit rm -rf "$work"
bench_prepare "$work" "$work/home-server"
for home in "$work/home" "$work/home-server"; do
  echo mx.example >"$home/control/me"
  echo bench.test >"$home/control/rcpthosts"
done
[ -z "${BENCH_COMMIT_WAIT:-}" ] || echo "$BENCH_COMMIT_WAIT" >"$work/home-server/control/queuedcommitwait"
# jsmail-queued's own count of its syncs (its metrics), read around each
# accept run: the syncs of the run as it ran, with no tracer stopping it
queued_metrics_port=$(bench_free_port)
echo "127.0.0.1:$queued_metrics_port" >"$work/home-server/control/queuedmetrics"
queued_syncs() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$queued_metrics_port" || { echo 0; return; }
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  line=$(grep '^jsmail_queued_syncs_total ' <&3 || true)
  exec 3<&-
  echo "${line##* }"
}
cc -O2 -pthread -o "$work/smtp-latency" bench/smtp-latency.c

has_server=0
bench_has_server_mode "$work/home-server" && has_server=1
skipped="skipped: no server mode in this build"

# start_all: the three servers, each on its own port
start_all() {
  tcp_port=$(bench_free_port)
  bench_tcpserver_smtpd "$work/home" "$tcp_port"
  if [ "$has_server" = 1 ]; then
    srv_port=$(bench_free_port)
    bench_server_smtpd "$work/home-server" "$srv_port"
  fi
  pf_start "$work/postfix" keep
}

queued_jsmail() { find "$1/queue/todo" -type f | wc -l; }

# send S PORT -> msgs/s of smtp-source -s S into 127.0.0.1:PORT
send() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$1" -m "$count" -l 2048 -r 1 -f s@example.com -t a@bench.test "127.0.0.1:$2"
  t1=$(date +%s.%N)
  echo "$count / ($t1 - $t0)" | bc -l
}

# measure LABEL S PORT QUEUED-COMMAND...: one smtp-source run; prints the
# line and leaves the rate in $rate
measure() {
  local label=$1 s=$2 port=$3 before
  shift 3
  before=$("$@")
  rate=$(send "$s" "$port")
  printf '%-28s %8.1f msgs/s (%d queued)\n' "$label" "$rate" "$(($("$@") - before))"
}

ratio() { [ "$1" = - ] && echo - || printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# accept_and_latency: the accept rates at each S, then the latency at s=10
accept_and_latency() {
start_all
echo "== accept rate: smtp-source -m $count -l 2048 -r 1, one run of each per concurrency"
for s in 1 10 50; do
  echo "-- s=$s"
  srv=-
  if [ "$has_server" = 1 ]; then
    synced=$(queued_syncs)
    measure "jsmail server mode:" "$s" "$srv_port" queued_jsmail "$work/home-server"
    srv=$rate
    synced=$(($(queued_syncs) - synced))
    printf '%-28s %d syncs for %d messages: %.2f per message (jsmail-queued'"'"'s own count)\n' "" \
      "$synced" "$count" "$(echo "$synced / $count" | bc -l)"
  else
    printf '%-28s %s\n' "jsmail server mode:" "$skipped"
  fi
  measure "jsmail under tcpserver:" "$s" "$tcp_port" queued_jsmail "$work/home"
  tcp=$rate
  measure "Postfix 3.7 (private):" "$s" "$pf_port" pf_queued
  pf=$rate
  printf 'ratios: server/Postfix %s (goal >= 2, at least 1.5), server/tcpserver %s (goal >= 5), tcpserver/Postfix %s\n' \
    "$(ratio "$srv" "$pf")" "$(ratio "$srv" "$tcp")" "$(ratio "$tcp" "$pf")"
done

echo "== latency at s=10: end of DATA to 250, $count messages of 2 KB over 10 sessions (bench/smtp-latency.c)"
latency() { printf '%-28s ' "$1"; "$work/smtp-latency" 127.0.0.1 "$2" 10 "$count" 2048 s@example.com a@bench.test || true; }
if [ "$has_server" = 1 ]; then latency "jsmail server mode:" "$srv_port"; else printf '%-28s %s\n' "jsmail server mode:" "$skipped"; fi
latency "jsmail under tcpserver:" "$tcp_port"
latency "Postfix 3.7 (private):" "$pf_port"
bench_stop_traced "$bench_tcpserver_pid"
[ "$has_server" = 0 ] || bench_stop_traced "$bench_server_pid"
pf_stop
}

uptime
[ "${BENCH_SYNCS_ONLY:-0}" = 1 ] || accept_and_latency

# Syncs: each system alone, started again under strace -f -c (only the sync
# calls stop the tracees: --seccomp-bpf), smtp-source -s 50, then stopped so
# that strace writes its summary.
syncs=(strace -f -c --seccomp-bpf -e trace=fsync,fdatasync,syncfs,sync_file_range -o)
sync_calls() { awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range)$/ { s += $4 } END { print s + 0 }' "$1"; }
# report LABEL STRACE-FILE QUEUED
report() { printf '%-28s %d syncs for %d messages: %.2f per message (traced: %.1f msgs/s)\n' "$1" "$(sync_calls "$2")" "$3" "$(echo "$(sync_calls "$2") / $3" | bc -l)" "$traced_rate"; }
echo "== filesystem syncs per accepted message at s=50 (strace -f -c, a separate run of $count messages each)"
if [ "$has_server" = 1 ]; then
  srv_port=$(bench_free_port)
  before=$(queued_jsmail "$work/home-server")
  bench_server_smtpd "$work/home-server" "$srv_port" "${syncs[@]}" "$work/server.strace"
  traced_rate=$(send 50 "$srv_port")
  bench_stop_traced "$bench_server_pid"
  report "jsmail server mode:" "$work/server.strace" "$(($(queued_jsmail "$work/home-server") - before))"
  # the queue service's own account of its batches: what the syncs per message come from
  grep 'stopped after' "$work/home-server/queued.log" | tail -n 1 | sed 's/^/  /'
else
  printf '%-28s %s\n' "jsmail server mode:" "$skipped"
fi
tcp_port=$(bench_free_port)
before=$(queued_jsmail "$work/home")
bench_tcpserver_smtpd "$work/home" "$tcp_port" "${syncs[@]}" "$work/tcpserver.strace"
traced_rate=$(send 50 "$tcp_port")
bench_stop_traced "$bench_tcpserver_pid"
report "jsmail under tcpserver:" "$work/tcpserver.strace" "$(($(queued_jsmail "$work/home") - before))"
pf_start_fg "$work/postfix" keep "" "${syncs[@]}" "$work/postfix.strace"
traced_rate=$(send 50 "$pf_port")
accepted=$(pf_queued)
pf_stop
report "Postfix 3.7 (private):" "$work/postfix.strace" "$accepted"
uptime
