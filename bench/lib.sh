# Shared by the benchmarks (sourced from the repository root): the published
# programs, the Native AOT hello world every ratio is against, the driver, and
# single-user homes to run in.
#   bench_prepare WORK [EXTRA_HOME...]   -> WORK/hello/aot-hello, WORK/driver/jsmail-bench, WORK/home, EXTRA_HOMEs
# BENCH_NO_PUBLISH=1 uses artifacts/publish as it is (after a publish of your own).
bench_prepare() {
  local work=$1 home
  shift
  [ "${BENCH_NO_PUBLISH:-}" = 1 ] || scripts/publish.sh artifacts/publish >/dev/null
  bench_tools "$work"
  for home in "$work/home" "$@"; do
    scripts/install.sh --single-user --prefix "$home" --prebuilt artifacts/publish >/dev/null
  done
}

# bench_tools WORK -> WORK/hello/aot-hello, WORK/driver/jsmail-bench: the
# measuring tools alone, for a benchmark that brings its own programs.
bench_tools() {
  dotnet publish bench/Hello -c Release -o "$1/hello" >/dev/null
  dotnet build bench/Jsmail.Bench -c Release -o "$1/driver" >/dev/null
}

# bench_smtp_sink: starts smtp-sink on a free loopback port (as nobody when
# run as root, which smtp-sink requires) and returns once it listens; sets
# bench_sink_pid and bench_sink_port. bench_clean_on_exit stops it.
bench_sink_pid=
bench_smtp_sink() {
  local user=() t
  bench_sink_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  /usr/sbin/smtp-sink "${user[@]}" -h sink.test "127.0.0.1:$bench_sink_port" 256 &
  bench_sink_pid=$!
  for ((t = 0; t < 100; t++)); do (exec 3<>"/dev/tcp/127.0.0.1/$bench_sink_port") 2>/dev/null && break; sleep 0.05; done
}

# bench_clean_on_exit WORK: when the script exits, stop the smtp-sink of
# bench_smtp_sink, if any, and remove the scratch directory WORK.
bench_clean_on_exit() {
  bench_work=$1
  trap '[ -n "$bench_sink_pid" ] && kill "$bench_sink_pid" 2>/dev/null; rm -rf "$bench_work"' EXIT
}

# bench_message DIR RECIPIENT -> DIR/msg, a 2 KB message to RECIPIENT from
# a@example.com, and DIR/env, its envelope for jsmail-queue.
bench_message() {
  { printf 'From: a@example.com\nTo: %s\nSubject: bench\n\n' "$2"; head -c 1950 /dev/zero | tr '\0' 'x' | fold -w 70; echo; } > "$1/msg"
  printf 'Fa@example.com\0T%s\0\0' "$2" > "$1/env"
}

# bench_wait_lines FILE REGEX COUNT SECONDS: returns once COUNT lines of FILE
# match REGEX (or after SECONDS). One tail -F (inotify) and one grep for the
# whole wait: polling with grep and sleep every 0.1 s would start 20 processes
# a second, and process starts are the very resource these benchmarks measure.
bench_wait_lines() {
  local file=$1 re=$2 count=$3 secs=$4 fd follower watchdog seen
  exec {fd}< <(exec tail -n +1 -F "$file" 2>/dev/null)
  follower=$!
  (sleep "$secs"; kill "$follower" 2>/dev/null) &
  watchdog=$!
  disown "$watchdog" # no "Terminated" notice when it is killed below
  # grep's count is captured, not sent to /dev/null: with its output on
  # /dev/null GNU grep did not return after COUNT matches here.
  seen=$(grep -c -m "$count" -e "$re" <&"$fd") || true
  pkill -P "$watchdog" sleep 2>/dev/null || true
  kill "$follower" "$watchdog" 2>/dev/null || true
  exec {fd}<&-
}

# bench_hello_run WORK -> "cpu_seconds starts_per_second": 1,000 sequential
# starts of WORK/hello/aot-hello as children of one shell, their CPU (from
# `times`) and their rate. Benchmarks run it before and after what they
# measure and average the two: the rate drifts by as much as 25% between
# minutes on these shared machines.
bench_hello_run() {
  local t0 cpu
  t0=$(date +%s.%N)
  cpu=$(bash -c 'for ((i = 0; i < 1000; i++)); do "$1" >/dev/null; done; times' bash "$1/hello/aot-hello" | sed -n 2p)
  # "0m1.234s 0m0.567s" (children's user and system time) -> seconds
  cpu=$(echo "$cpu" | awk '{ t = 0; for (i = 1; i <= NF; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } print t }')
  echo "$cpu $(echo "1000 / ($(date +%s.%N) - $t0)" | bc -l)"
}
