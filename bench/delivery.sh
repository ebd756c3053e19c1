#!/usr/bin/env bash
# Delivery throughput of issue 16, never part of the test run: in one run on
# this machine, jsmail and Postfix 3.7 (the Debian package, a private instance
# on loopback: bench/postfix.sh)
#   1. drain N queued 2 KB messages, one recipient each, to smtp-sink at
#      concurrency 20: messages per second, and the SMTP sessions and
#      transactions smtp-sink saw (smtp-sink -c);
#   2. the same with 10 recipients at one domain a message: deliveries per
#      second and transactions per message;
#   3. SMTP to a Maildir end to end: smtp-source -s 10 sends N messages to one
#      local recipient; messages per second from the first connection to the
#      last delivery.
# jsmail's queues are filled directly (jsmail-bench fill, the queue files
# jsmail-queue writes, without syncs) before jsmail-start starts; Postfix's
# by smtp-source with every message held, then released (postsuper -H) and
# flushed (postqueue -f), the drain timed from the flush.
# Columns: jsmail per-process (jsmail-rspawn starting a jsmail-remote per
# delivery), jsmail pooled (when jsmail-rspawn has its pooled mode: see
# BENCH_POOLED_CONTROL below), and Postfix; for the end to end, jsmail-smtpd
# under tcpserver, in server mode (when the build has it), and Postfix.
#   bench/delivery.sh [N]          (default 2000)
# Run as root (Postfix, and deliveries as nobody). BENCH_NO_PUBLISH=1 installs
# artifacts/publish as it is.
#
# The pooled hook: jsmail-rspawn's pooled mode (issue 16 §3) is switched by
# control/remotepool (on by default): the per-process column writes
# remotepool=0, the pooled one BENCH_POOLED_CONTROL=FILE=VALUE (default
# remotepool=1; empty prints "skipped").
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
pooled_control=${BENCH_POOLED_CONTROL-remotepool=1}
[ "$(id -u)" = 0 ] || { echo "bench/delivery.sh: run as root (Postfix, and deliveries as nobody)" >&2; exit 111; }
for tool in tcpserver /usr/sbin/smtp-source /usr/sbin/smtp-sink /usr/sbin/postfix; do
  command -v "$tool" >/dev/null || { echo "bench/delivery.sh: $tool is missing (ucspi-tcp, postfix)" >&2; exit 111; }
done
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work" # Postfix runs as postfix, deliveries as nobody

. bench/lib.sh
. bench/postfix.sh
bench_on_exit rm -rf "$work"
bench_prepare "$work" "$work/home-pooled" "$work/home-e2e" "$work/home-e2e-server"
bench_counting_sink "$work"
bench_message "$work" b@bench.test
ten=$(printf '%db@bench.test,' $(seq 10))
ten=${ten%,}

per() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
# row LABEL DELIVERIES SECONDS SESSIONS TRANSACTIONS MESSAGES
row() {
  printf '%-26s %8.1f deliveries/s (%d in %.2f s), %d SMTP sessions, %s transactions a message\n' \
    "$1" "$(echo "$2 / $3" | bc -l)" "$2" "$3" "$4" "$(per "$5" "$6")"
  rate=$(echo "$2 / $3" | bc -l)
}

# start_send HOME: jsmail-start of HOME in the background, its log in HOME/log
start_send() {
  (cd / && PATH=$1/bin:$PATH exec "$1/bin/qmail-start" ./Mailbox >"$1/log" 2>&1) &
}

# jsmail_drain LABEL HOME RECIPIENTS: N messages to RECIPIENTS (a comma-
# separated list) queued in HOME, then jsmail-start, timed until the last
# "end msg"; prints the row and leaves the rate in $rate
jsmail_drain() {
  local label=$1 home=$2 rcpts=$3 s0 m0 s1 m1 start end pid ok
  echo 20 >"$home/control/concurrencyremote"
  echo "bench.test:127.0.0.1:$bench_sink_port" >"$home/control/smtproutes"
  echo localhost >"$home/control/locals"
  "$work/driver/jsmail-bench" fill "$home/queue" "$n" a@example.com "$rcpts" 1000 "$work/msg" >/dev/null
  read -r s0 m0 < <(bench_sink_counts)
  start=$(date +%s.%N)
  start_send "$home"
  pid=$!
  bench_wait_lines "$home/log" '^end msg' "$n" 3600
  end=$(date +%s.%N)
  bench_stop_send "$pid"
  bench_sink_settle
  read -r s1 m1 < <(bench_sink_counts)
  ok=$(grep -c 'delivery [0-9]*: success' "$home/log" || true)
  row "$label" "$ok" "$(echo "$end - $start" | bc -l)" "$((s1 - s0))" "$((m1 - m0))" "$n"
  : >"$home/log"
}

# postfix_drain LABEL RECIPIENTS-A-MESSAGE: N messages with that many
# recipients (smtp-source -r) loaded on hold into a relay instance, released,
# and flushed; timed from the flush until the queue is empty. The instance is
# stopped before the sessions are counted: Postfix keeps connections open for
# reuse, and smtp-sink counts a session when it ends.
postfix_drain() {
  local label=$1 r=$2 s0 m0 s1 m1 start end t
  pf_start "$work/postfix" relay "127.0.0.1:$bench_sink_port"
  /usr/sbin/smtp-source -s 20 -m "$n" -r "$r" -l 2048 -f a@example.com -t b@bench.test "127.0.0.1:$pf_port"
  for ((t = 0; t < 600; t++)); do [ "$(pf_queued)" -ge "$n" ] && break; sleep 0.1; done
  pf_release_held
  read -r s0 m0 < <(bench_sink_counts)
  start=$(date +%s.%N)
  pf_flush
  pf_wait_empty 600 || echo "postfix: not drained in 600 s" >&2
  end=$(date +%s.%N)
  pf_stop
  bench_sink_settle
  read -r s1 m1 < <(bench_sink_counts)
  row "$label" "$((n * r))" "$(echo "$end - $start" | bc -l)" "$((s1 - s0))" "$((m1 - m0))" "$n"
}

pooled() { # LABEL RECIPIENTS: the pooled column, or why not
  if [ -z "$pooled_control" ]; then
    printf '%-26s %s\n' "$1" "skipped: no pooled mode of jsmail-rspawn named (BENCH_POOLED_CONTROL)"
    pooled_rate=-
    return
  fi
  echo "${pooled_control#*=}" >"$work/home-pooled/control/${pooled_control%%=*}"
  jsmail_drain "$1" "$work/home-pooled" "$2"
  pooled_rate=$rate
}

ratio() { [ "$1" = - ] && echo - || printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

uptime
for r in 1 10; do
  if [ "$r" = 1 ]; then
    echo "== remote drain: $n queued 2 KB messages, one recipient each, to smtp-sink at concurrency 20"
    rcpts=b@bench.test
  else
    echo "== remote drain: $n queued 2 KB messages, 10 recipients at one domain each, concurrency 20"
    rcpts=$ten
  fi
  echo 0 >"$work/home/control/remotepool" # the per-process column: one jsmail-remote per delivery
  jsmail_drain "jsmail per-process:" "$work/home" "$rcpts"
  process_rate=$rate
  pooled "jsmail pooled:" "$rcpts"
  postfix_drain "Postfix 3.7 (private):" "$r"
  printf 'ratios: pooled/Postfix %s (goal >= 1.2), pooled/per-process %s (goal >= 5), per-process/Postfix %s\n' \
    "$(ratio "$pooled_rate" "$rate")" "$(ratio "$pooled_rate" "$process_rate")" "$(ratio "$process_rate" "$rate")"
done

# ------------------------------------------------ SMTP to Maildir end to end
echo "== SMTP to a Maildir end to end: smtp-source -s 10 -m $n -l 2048, one local recipient"
# e2e LABEL HOME FRONT-END: FRONT-END (tcpserver or server) and jsmail-start
# of HOME; timed from smtp-source's start to the last "end msg"
e2e() {
  local label=$1 home=$2 port start end pid
  bench_local_maildir "$home"
  start_send "$home"
  pid=$!
  port=$(bench_free_port)
  if [ "$3" = tcpserver ]; then bench_tcpserver_smtpd "$home" "$port"; else bench_server_smtpd "$home" "$port"; fi
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -s 10 -m "$n" -l 2048 -f a@example.com -t bench@bench.test "127.0.0.1:$port"
  bench_wait_lines "$home/log" '^end msg' "$n" 3600
  end=$(date +%s.%N)
  if [ "$3" = tcpserver ]; then bench_stop_traced "$bench_tcpserver_pid"; else bench_stop_traced "$bench_server_pid"; fi
  bench_stop_send "$pid"
  printf '%-26s %8.1f msgs/s (%d in the Maildir)\n' "$label" "$(echo "$n / ($end - $start)" | bc -l)" \
    "$(find "$home/mbox/Maildir/new" -type f | wc -l)"
  rate=$(echo "$n / ($end - $start)" | bc -l)
}
e2e "jsmail under tcpserver:" "$work/home-e2e" tcpserver
tcp_rate=$rate
srv_rate=-
if bench_has_server_mode "$work/home-e2e-server"; then
  e2e "jsmail server mode:" "$work/home-e2e-server" server
  srv_rate=$rate
else
  printf '%-26s %s\n' "jsmail server mode:" "skipped: no server mode in this build"
fi
mkdir -m 0755 "$work/pfbox"
chown nobody: "$work/pfbox"
pf_start "$work/postfix" maildir "$work/pfbox/Maildir/"
start=$(date +%s.%N)
/usr/sbin/smtp-source -s 10 -m "$n" -l 2048 -f a@example.com -t bench@bench.test "127.0.0.1:$pf_port"
pf_wait_empty 600 || echo "postfix: not delivered in 600 s" >&2
end=$(date +%s.%N)
pf_rate=$(echo "$n / ($end - $start)" | bc -l)
printf '%-26s %8.1f msgs/s (%d in the Maildir)\n' "Postfix 3.7 (private):" "$pf_rate" \
  "$(find "$work/pfbox/Maildir/new" -type f 2>/dev/null | wc -l)"
pf_stop
printf 'ratios: server/Postfix %s (goal >= 1.5), tcpserver/Postfix %s\n' "$(ratio "$srv_rate" "$pf_rate")" "$(ratio "$tcp_rate" "$pf_rate")"
uptime
