#!/usr/bin/env bash
# The cost of plugins per RCPT in server mode (issue 17), never part of the
# test run: in one run on this machine, three jsmail-smtpd servers (each with
# its own jsmail-queued), alike but for their plugins:
#   none     no control/plugins, no control/smtpplugins;
#   native   control/plugins: examples/plugins/c/example.c built with cc, whose
#            RCPT hook reads the recipient and session facts and says go on;
#   spp      control/smtpplugins: one qmail-spp program in [rcpt], /bin/true
#            (says nothing: accept), a fork and exec per RCPT.
# Each takes smtp-source -s 10 -m N -l 512 -r 10 (ten RCPTs a message), in
# turn, twice (the order reversed the second time); the lines give messages
# and RCPTs per second, and what a plugin adds per RCPT against none:
# (1/rate(plugin) - 1/rate(none)) / 10, in microseconds, from the better run
# of each.
#   bench/plugins.sh [N]     (default 1000 messages, so 10,000 RCPTs a run)
# Run as root from anywhere. BENCH_NO_PUBLISH=1 installs artifacts/publish as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
[ "$(id -u)" = 0 ] || { echo "bench/plugins.sh: run as root" >&2; exit 111; }
for tool in /usr/sbin/smtp-source cc bc; do
  command -v "$tool" >/dev/null || { echo "bench/plugins.sh: $tool is missing (postfix, gcc, bc)" >&2; exit 111; }
done
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
chmod 0755 "$work"
. bench/lib.sh
bench_on_exit rm -rf "$work"
bench_prepare "$work" "$work/home-native" "$work/home-spp"
cc -shared -fPIC -O2 -I include -o "$work/example.so" examples/plugins/c/example.c
homes="home home-native home-spp"
labels="none native spp"
for h in $homes; do
  echo mx.example >"$work/$h/control/me"
  echo bench.test >"$work/$h/control/rcpthosts"
done
echo "$work/example.so" >"$work/home-native/control/plugins"
printf '[rcpt]\n/bin/true\n' >"$work/home-spp/control/smtpplugins"

ports=""
for h in $homes; do
  p=$(bench_free_port)
  bench_server_smtpd "$work/$h" "$p"
  ports="$ports $p"
done
read -r -a ports <<<"$ports"
read -r -a labels <<<"$labels"

# rate PORT -> messages per second of one smtp-source run
rate() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s 10 -m "$n" -l 512 -r 10 -f s@example.com -t a@bench.test "127.0.0.1:$1"
  t1=$(date +%s.%N)
  echo "$n / ($t1 - $t0)" | bc -l
}

uptime
echo "== smtp-source -s 10 -m $n -l 512 -r 10 into jsmail-smtpd server mode; two runs each, the order reversed the second time"
declare -A best
for order in "0 1 2" "2 1 0"; do
  for i in $order; do
    r=$(rate "${ports[$i]}")
    printf '%-8s %8.1f msgs/s %9.1f RCPTs/s\n' "${labels[$i]}" "$r" "$(echo "$r * 10" | bc -l)"
    if [ -z "${best[$i]:-}" ] || [ "$(echo "$r > ${best[$i]}" | bc -l)" = 1 ]; then best[$i]=$r; fi
  done
done
echo "== per RCPT, from the better run of each"
for i in 1 2; do
  printf '%-8s adds %7.1f µs per RCPT to none (%.1f vs %.1f msgs/s: %.2f of none'"'"'s rate)\n' "${labels[$i]}" \
    "$(echo "(1 / ${best[$i]} - 1 / ${best[0]}) / 10 * 1000000" | bc -l)" "${best[$i]}" "${best[0]}" "$(echo "${best[$i]} / ${best[0]}" | bc -l)"
done
uptime
