#!/usr/bin/env bash
# test.sh: the test command (README, .ci/run).
#
#  1. scripts/install-peers.sh: installs the test peers of scripts/peers.list
#     that are missing (Debian packages, as root): the programs the tests run
#     and the Python modules they import (python3:MODULE lines, checked with
#     /usr/bin/python3, such as python3-aiosmtpd for the aiosmtpd peer);
#  2. dotnet build Jsmail.sln -c Release;
#  3. scripts/publish.sh into artifacts/publish (the programs the tests run);
#  4. dotnet test of every tests/*/*.Tests.csproj, JSMAIL_TEST_JOBS (default 2)
#     at a time, with JSMAIL_PUBLISHED=<repo>/artifacts/publish, results and
#     each project's output in artifacts/test-results.
#
# With --peers-only it does step 1 alone (and its summary line).
#
# Its last line is always the sum over all projects: "N passed, N failed", with
# ", N skipped" when some were skipped. A step that fails without test results
# (the build, the publish, a peer install, a test host that crashed) counts as
# one failure there. The exit code is non-zero whenever anything failed.
set -euo pipefail
trap 'echo "test.sh: fatal: line $LINENO: $BASH_COMMAND failed" >&2' ERR

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if [ "${CI:-}" = true ]; then
  # no build nodes outliving the run
  export MSBUILDDISABLENODEREUSE=1
  trap 'dotnet build-server shutdown >/dev/null 2>&1 || true' EXIT
fi

passed=0 failed=0 skipped=0 broken=0
failures=()
step() { echo "test.sh: $* ($((SECONDS - started)) s)"; }
broke() { echo "test.sh: FAILED: $*" >&2; broken=$((broken + 1)); failures+=("$*"); }
summary() {
  local f
  for f in "${failures[@]}"; do echo "test.sh: failed: $f"; done
  local line="$passed passed, $((failed + broken)) failed"
  [ "$skipped" = 0 ] || line="$line, $skipped skipped"
  echo "$line"
  [ $((failed + broken)) = 0 ]
}
started=$SECONDS

# ------------------------------------------------------------- 1. peers
# each peer still missing afterwards is one failure
peers() {
  local line missing=0 rc=0
  while IFS= read -r line; do
    case $line in
      "install-peers.sh: missing: "*) broke "test peer ${line#install-peers.sh: missing: }"; missing=$((missing + 1)) ;;
      "install-peers.sh: exit "*) rc=${line##* } ;;
      *) echo "$line" ;;
    esac
  done < <(scripts/install-peers.sh && echo "install-peers.sh: exit 0" || echo "install-peers.sh: exit $?")
  [ "$rc" = 0 ] || [ "$missing" -gt 0 ] || broke "scripts/install-peers.sh exited $rc"
}
peers
if [ "${1:-}" = --peers-only ]; then
  summary || exit 1
  exit 0
fi

# ------------------------------------------------------------- 2. build, 3. publish
step "dotnet build"
if ! dotnet build Jsmail.sln -c Release -nologo -v quiet; then
  broke "dotnet build Jsmail.sln"
  summary || exit 1
fi
step "publish"
published=$repo/artifacts/publish
if ! scripts/publish.sh "$published"; then
  broke "scripts/publish.sh"
  summary || exit 1
fi
export JSMAIL_PUBLISHED=$published

# ------------------------------------------------------------- 4. tests
results=$repo/artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
counter() { # NAME COUNTERS-ELEMENT: that attribute's number, 0 when absent
  local n
  n=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2" | head -n 1)
  echo "${n:-0}"
}
projects=()
while IFS= read -r p; do projects+=("$p"); done < <(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | LC_ALL=C sort)
[ ${#projects[@]} -gt 0 ] || broke "no test projects (tests/*/*.Tests.csproj)"

# The projects run JSMAIL_TEST_JOBS at a time (default 2, one per core of the
# CI machine): most of their time is spent waiting on daemons, retries and
# peers, not on the CPU. Longest first (the order of their CI durations), so
# the lanes end together; a project not named here goes last.
longest_first="Faults Remote Queue Send Smtpd E2E DkimSign Tools Local Install Inject Common Fuzz Peers"
queue=()
for n in $longest_first; do
  for proj in "${projects[@]}"; do [ "$(basename "$proj" .csproj)" = "Jsmail.$n.Tests" ] && queue+=("$proj"); done
done
for proj in "${projects[@]}"; do
  case " ${queue[*]} " in *" $proj "*) ;; *) queue+=("$proj") ;; esac
done
lanes=${JSMAIL_TEST_JOBS:-2}
echo 0 >"$results/.next"

# lane: takes the next project from the queue (under a lock) until none is
# left; each project's output is printed whole when it ends, its exit code
# kept beside its results
lane() {
  local i proj name rc began
  while :; do
    i=$(flock "$results/.next" sh -c 'i=$(cat "$1"); echo $((i + 1)) >"$1"; echo "$i"' - "$results/.next")
    [ "$i" -lt ${#queue[@]} ] || return 0
    proj=${queue[$i]}
    name=$(basename "$proj" .csproj)
    began=$SECONDS
    rc=0
    dotnet test "$proj" --no-build -c Release --nologo \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --blame-hang-timeout 10m --blame-hang-dump-type none </dev/null >"$results/$name.log" 2>&1 || rc=$?
    echo "$rc" >"$results/$name.rc"
    flock "$results/.next" sh -c 'echo "test.sh: $1 (from $2 s, $3 s)"; cat "$4"' - \
      "$name" "$((began - started))" "$((SECONDS - began))" "$results/$name.log"
  done
}
step "tests, $lanes at a time"
for ((l = 0; l < lanes; l++)); do lane & done
wait

for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  trx=$results/$name.trx
  rc=$(cat "$results/$name.rc" 2>/dev/null || echo "no exit code")
  f=0
  if [ -f "$trx" ]; then
    c=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
    passed=$((passed + $(counter passed "$c")))
    f=$(($(counter failed "$c") + $(counter error "$c") + $(counter timeout "$c") + $(counter aborted "$c")))
    failed=$((failed + f))
    # xunit's skipped tests are results with outcome NotExecuted (the counter stays 0)
    skipped=$((skipped + $({ grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" || true; } | wc -l)))
    while IFS= read -r t; do
      failures+=("$t")
    done < <({ grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" || true; } |
      sed -n 's/.* testName="\([^"]*\)".*/\1/p' |
      sed 's/&quot;/"/g; s/&apos;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g')
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    broke "$name: dotnet test exited $rc with no failed test in its results"
  fi
done
step "done"
summary || exit 1
