#!/usr/bin/env bash
# run.sh HARNESS[,HARNESS...]|all SECONDS: fuzzes each harness of fuzz/Jsmail.Fuzz with afl-fuzz
# (Debian's afl++) for SECONDS, one harness at a time, under nice -n 19.
#
# Builds fuzz/Jsmail.Fuzz, instruments Jsmail.Common.dll (DKIM signing included) and jsmail-inject.dll
# with SharpFuzz (the tool pinned in fuzz/dotnet-tools.json), then runs afl-fuzz
# on fuzz/corpus/HARNESS/ (and its crashes-fixed/), plus the queue an earlier
# run of this script left, so that runs add up. Prints per harness: seconds,
# execs/s, paths (afl's corpus count), crashes; copies each crash to
# $JSMAIL_FUZZ_DIR/crashes/HARNESS/ (default /tmp/jsmail-fuzz). Exits 1 when
# any harness crashed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${JSMAIL_FUZZ_DIR:-/tmp/jsmail-fuzz}
[ $# = 2 ] || { echo "usage: fuzz/run.sh HARNESS[,HARNESS...]|all SECONDS" >&2; exit 100; }
which=$1 seconds=$2
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz not found (apt-get install afl++)" >&2; exit 111; }

# --- build and instrument (a fresh copy: SharpFuzz refuses an instrumented dll)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
(cd "$repo/fuzz" && dotnet tool restore >/dev/null)
rm -rf "$work/bin"
mkdir -p "$work"
dotnet build "$repo/fuzz/Jsmail.Fuzz" -c Release -nologo -v quiet -o "$work/bin" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; exit 1; }
for dll in Jsmail.Common.dll jsmail-inject.dll; do
  (cd "$repo/fuzz" && dotnet tool run sharpfuzz "$work/bin/$dll") >/dev/null
done

harnesses=()
if [ "$which" = all ]; then
  for d in "$repo"/fuzz/corpus/*/; do harnesses+=("$(basename "$d")"); done
else
  IFS=, read -r -a harnesses <<<"$which"
  for h in "${harnesses[@]}"; do
    [ -d "$repo/fuzz/corpus/$h" ] || { echo "run.sh: no corpus fuzz/corpus/$h" >&2; exit 100; }
  done
fi

stat() { sed -n "s/^$1 *: *//p" "$2"; }
crashed=0
for h in "${harnesses[@]}"; do
  in=$work/in/$h out=$work/out/$h
  rm -rf "$in"
  mkdir -p "$in" "$work/out" "$work/crashes/$h"
  find "$repo/fuzz/corpus/$h" -type f -size +0 -exec cp {} "$in/" \;
  # what earlier runs found (the latest run's queue) seeds this one
  if [ -d "$out/default/queue" ]; then
    find "$out/default/queue" -maxdepth 1 -type f -name 'id:*' -exec sh -c 'cp "$1" "$2/q-$(basename "$1" | cut -c1-9)"' _ {} "$in" \;
  fi
  rm -rf "$out"
  AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 \
    AFL_NO_UI=1 AFL_AUTORESUME=0 \
    nice -n 19 afl-fuzz -i "$in" -o "$out" -t 5000 -m none -V "$seconds" -- \
    dotnet "$work/bin/Jsmail.Fuzz.dll" "$h" >"$work/$h.log" 2>&1 || {
      echo "run.sh: afl-fuzz failed on $h:" >&2; tail -n 20 "$work/$h.log" >&2; crashed=1; continue; }
  s=$out/default/fuzzer_stats
  n=0
  for c in "$out"/default/crashes/id:*; do
    [ -e "$c" ] || continue
    n=$((n + 1))
    cp "$c" "$work/crashes/$h/$(date +%s)-$n"
  done
  echo "$h: seconds $(stat run_time "$s") execs $(stat execs_done "$s") execs/s $(stat execs_per_sec "$s") paths $(stat corpus_count "$s") crashes $n"
  [ "$n" = 0 ] || crashed=1
done
exit $crashed
