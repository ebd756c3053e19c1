#!/usr/bin/env bash
# How this machine's process start-up scales with concurrency: N starts of a C
# program that does nothing and of the Native AOT hello world, 1, 2 and 10 at a
# time. Every jsmail flow is bound by process starts (one or more per message),
# so this says what "2 cores" buys on the machine at hand. Never part of the tests.
#   bench/startup-scaling.sh [N]      (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
work=$(mktemp -d /var/tmp/jsmail-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet publish bench/Hello -c Release -o "$work/hello" >/dev/null
printf 'int main(void) { return 0; }\n' >"$work/c.c"
cc -O2 -o "$work/c-hello" "$work/c.c"

rate() { # program parallel -> starts/s (each xargs worker runs its share in a shell loop)
  local start end
  start=$(date +%s.%N)
  seq "$n" | xargs -P "$2" -n 50 sh -c 'for i in "$@"; do "$0" >/dev/null; done' "$1"
  end=$(date +%s.%N)
  echo "$n / ($end - $start)" | bc -l | cut -c1-6
}

for program in "$work/c-hello" "$work/hello/aot-hello"; do
  one=$(rate "$program" 1); two=$(rate "$program" 2); ten=$(rate "$program" 10)
  printf '%s: %s starts/s one at a time, %s two at a time (%.2fx), %s ten at a time (%.2fx)\n' \
    "$(basename "$program")" "$one" "$two" "$(echo "$two / $one" | bc -l)" "$ten" "$(echo "$ten / $one" | bc -l)"
done
