#!/usr/bin/env bash
# Renders docs/grafana/prometheus-run.png, the picture in docs/dashboard.md:
# a real run of jsmail (server-mode jsmail-smtpd, jsmail-queued, jsmail-send
# delivering into a Maildir), scraped by a real Prometheus (Debian's) every 2
# seconds while smtp-source sends rounds of mail at rising concurrency, then
# the dashboard's queries drawn by Prometheus's own graph page in headless
# Chromium (Debian's chromium). Grafana itself is not packaged for Debian 12,
# so the page shows the dashboard's queries, not Grafana's frame around them.
#   docs/grafana/screenshot.sh [MESSAGES-PER-ROUND]   (default 300; 6 rounds)
# Run as root from anywhere (deliveries as nobody); uses artifacts/publish
# (scripts/publish.sh artifacts/publish first). Never part of the test run.
set -euo pipefail
cd "$(dirname "$0")/../.."
per_round=${1:-300}
[ "$(id -u)" = 0 ] || { echo "screenshot.sh: run as root (deliveries as nobody)" >&2; exit 111; }
for tool in /usr/bin/prometheus /usr/bin/chromium /usr/sbin/smtp-source; do
  [ -x "$tool" ] || { echo "screenshot.sh: $tool is missing (apt-get install prometheus chromium postfix)" >&2; exit 111; }
done
[ -x artifacts/publish/jsmail-smtpd ] || { echo "screenshot.sh: no artifacts/publish: run scripts/publish.sh artifacts/publish" >&2; exit 111; }

. bench/lib.sh
work=$(mktemp -d /var/tmp/jsmail-dashboard.XXXXXX)
chmod 0755 "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { local t; for ((t = 0; t < 200; t++)); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "screenshot.sh: $1 never answered" >&2; exit 111; }

home=$work/home
scripts/install.sh --single-user --prefix "$home" --prebuilt artifacts/publish >/dev/null
bench_local_maildir "$home"
smtp=$(free_port) send_metrics=$(free_port) server_metrics=$(free_port) queued_metrics=$(free_port) prom=$(free_port)
echo "127.0.0.1:$send_metrics" >"$home/control/metrics"
echo "127.0.0.1:$queued_metrics" >"$home/control/queuedmetrics"
(cd / && PATH=$home/bin:$PATH exec "$home/bin/qmail-start" ./Maildir/ >"$home/send.log" 2>&1) &
pids+=($!)
BENCH_SERVER_ARGS="--metrics 127.0.0.1:$server_metrics" bench_server_smtpd "$home" "$smtp"
pids+=("$bench_server_pid")

cat >"$work/prometheus.yml" <<YML
global: { scrape_interval: 2s }
scrape_configs:
  - { job_name: jsmail-smtpd, static_configs: [ { targets: ['127.0.0.1:$server_metrics'] } ] }
  - { job_name: jsmail-queued, static_configs: [ { targets: ['127.0.0.1:$queued_metrics'] } ] }
  - { job_name: jsmail-send, static_configs: [ { targets: ['127.0.0.1:$send_metrics'] } ] }
YML
/usr/bin/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$prom/-/ready"

sleep 10 # a quiet start, so the graphs show the rounds rise from zero
for s in 1 2 5 10 20 50; do
  echo "round: $per_round messages at concurrency $s"
  /usr/sbin/smtp-source -s "$s" -m "$per_round" -l 2048 -f s@example.com -t bench@bench.test "127.0.0.1:$smtp"
  sleep 10
done
delivered=$(find "$home/mbox/Maildir/new" -type f | wc -l)
echo "delivered: $delivered of $((6 * per_round))"

# the dashboard's panels, as Prometheus's graph page takes them (g0, g1, ...)
queries=(
  'sum by (class) (rate(jsmail_smtpd_messages_total[30s]))'
  'sum by (channel, result) (rate(jsmail_send_deliveries_total[30s]))'
  'histogram_quantile(0.99, sum by (le, channel) (rate(jsmail_send_delivery_duration_seconds_bucket[30s])))'
  'sum by (state) (jsmail_send_queue_messages)'
  'histogram_quantile(0.99, sum by (le) (rate(jsmail_send_queue_residence_seconds_bucket[30s])))'
  'sum(rate(jsmail_queued_syncs_total[30s])) / sum(rate(jsmail_queued_messages_total{result="queued"}[30s]))'
)
url="http://127.0.0.1:$prom/graph?"
for i in "${!queries[@]}"; do
  q=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${queries[$i]}")
  url+="g$i.expr=$q&g$i.tab=0&g$i.range_input=2m&g$i.stacked=0&"
done
/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$work/chromium" --hide-scrollbars \
  --window-size=1280,4700 --virtual-time-budget=15000 --screenshot="$work/shot.png" "$url" 2>"$work/chromium.log" ||
  { cat "$work/chromium.log" >&2; exit 111; }
cp "$work/shot.png" docs/grafana/prometheus-run.png
echo "wrote docs/grafana/prometheus-run.png"
