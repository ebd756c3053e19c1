#!/usr/bin/env bash
# fault-matrix.sh: the fault matrix of issue 22 at full size (docs/fault-matrix.md).
#
#   fault-matrix.sh [-n MESSAGES] [-f FILTER] [--no-build]
#
# Runs tests/Jsmail.Faults.Tests with JSMAIL_FAULT_MESSAGES=MESSAGES (default
# 5000) against the programs in JSMAIL_PUBLISHED (default artifacts/publish,
# which scripts/publish.sh fills), one fault per test: kill -9 of each
# long-running daemon, the queue filesystem full during accept and during
# delivery, the recipient's Maildir filesystem full, descriptors exhausted, a
# peer that stalls mid-DATA. FILTER is a dotnet test filter (for instance
# "FullyQualifiedName~Kill_9" for the kill -9 faults alone). Run as root (it
# mounts tmpfs filesystems and adds accounts' Maildirs). Prints one line of
# counts per fault (accepted, delivered, bounced, duplicates with their cause)
# and ends with them all; exit code 0 when every fault passed, 1 otherwise,
# 100 on bad arguments.
set -euo pipefail
prog=fault-matrix.sh
refuse() { echo "$prog: fatal: $*" >&2; exit 100; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
messages=5000
filter=
build=1
while [ $# -gt 0 ]; do
  case $1 in
    -n) [ $# -ge 2 ] || refuse "-n needs a number"; messages=$2; shift 2 ;;
    -f) [ $# -ge 2 ] || refuse "-f needs a filter"; filter=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) refuse "unknown argument: $1 (usage: $prog [-n MESSAGES] [-f FILTER] [--no-build])" ;;
  esac
done
case $messages in ''|*[!0-9]*) refuse "-n $messages is not a number" ;; esac
[ "$(id -u)" = 0 ] || refuse "must be run as root (tmpfs mounts, a privileged home)"
cd "$repo"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
export JSMAIL_PUBLISHED=${JSMAIL_PUBLISHED:-$repo/artifacts/publish}
[ -x "$JSMAIL_PUBLISHED/jsmail-send" ] || refuse "$JSMAIL_PUBLISHED has no programs: run scripts/publish.sh first"
project=tests/Jsmail.Faults.Tests/Jsmail.Faults.Tests.csproj
if [ "$build" = 1 ]; then
  dotnet build "$project" -c Release -nologo -v quiet
fi
# JSMAIL_FAULT_REPORT, when set, keeps the counts in that file (appended)
report=${JSMAIL_FAULT_REPORT:-}
if [ -z "$report" ]; then
  report=$(mktemp)
  trap 'rm -f "$report"' EXIT
fi
export JSMAIL_FAULT_MESSAGES=$messages JSMAIL_FAULT_REPORT=$report
rc=0
dotnet test "$project" --no-build -c Release --nologo ${filter:+--filter "$filter"} \
  --logger "console;verbosity=normal" </dev/null || rc=$?
echo "$prog: $messages messages a fault:"
sed 's/^/  /' "$report"
[ "$rc" = 0 ] || { echo "$prog: some faults failed (see above)" >&2; exit 1; }
