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

# bench_daemon_on_exit WORK: when the script exits, TERM the process whose
# pid is in bench_daemon (a jsmail-start tree, if one was started), wait for
# it, and remove the scratch directory WORK.
bench_daemon=
bench_daemon_on_exit() {
  bench_work=$1
  trap '[ -z "$bench_daemon" ] || { kill -TERM "$bench_daemon" 2>/dev/null; wait "$bench_daemon" 2>/dev/null; } || true; rm -rf "$bench_work"' EXIT
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
  # its stderr to /dev/null: the subshell reports "Terminated" when the pkill
  # below ends its sleep
  (sleep "$secs"; kill "$follower" 2>/dev/null) 2>/dev/null &
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

# bench_on_exit COMMAND...: runs COMMAND when the script exits, Ctrl-C and
# kill included (last registered, first run); for benchmarks that start
# daemons of their own and must leave nothing running.
bench_exit_actions=()
bench_on_exit() {
  bench_exit_actions=("$*" "${bench_exit_actions[@]}")
  trap bench_run_exit_actions EXIT
  trap 'exit 130' INT TERM
}
bench_run_exit_actions() {
  local action
  for action in "${bench_exit_actions[@]}"; do eval "$action" || true; done
  bench_exit_actions=()
}

# bench_free_port -> a free TCP port of 127.0.0.1
bench_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_wait_port PORT: returns once something listens on 127.0.0.1:PORT (at most 10 s)
bench_wait_port() {
  local t
  for ((t = 0; t < 200; t++)); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "no listener on 127.0.0.1:$1" >&2
  return 1
}

# bench_counting_sink WORK: smtp-sink on a free loopback port (as nobody when
# run as root), counting: smtp-sink -c keeps "sess=S quit=Q mesg=M" (SMTP
# sessions ended, QUITs, DATA transactions so far) in WORK/sink.count. Sets
# bench_sink_pid and bench_sink_port; stopped on exit.
bench_counting_sink() {
  local user=()
  bench_sink_port=$(bench_free_port)
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  /usr/sbin/smtp-sink "${user[@]}" -c -h sink.test "127.0.0.1:$bench_sink_port" 256 >"$1/sink.count" 2>/dev/null &
  bench_sink_pid=$!
  bench_sink_file=$1/sink.count
  bench_on_exit 'kill $bench_sink_pid 2>/dev/null'
  bench_wait_port "$bench_sink_port"
}

# bench_sink_counts -> "SESSIONS TRANSACTIONS" the counting sink has seen end
# so far (a session counts once it has ended: a client that keeps its
# connections open for reuse must close them first; then bench_sink_settle)
bench_sink_counts() {
  tail -c 200 "$bench_sink_file" | tr '\r' '\n' | awk '/mesg=/ { s = $1; m = $3 } END { sub("sess=", "", s); sub("mesg=", "", m); print s + 0, m + 0 }'
}

# bench_sink_wait TRANSACTIONS SECONDS: returns once the counting sink has
# seen TRANSACTIONS transactions in all (or after SECONDS); twenty looks a
# second, each one tail.
bench_sink_wait() {
  local t s m
  for ((t = 0; t < $2 * 20; t++)); do
    read -r s m < <(bench_sink_counts)
    [ "$m" -ge "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# bench_sink_settle: returns once the sink's counts have not changed for half a
# second (at most 10 s): the sessions a client closed are counted.
bench_sink_settle() {
  local t last now
  last=$(bench_sink_counts)
  for ((t = 0; t < 20; t++)); do
    sleep 0.5
    now=$(bench_sink_counts)
    [ "$now" = "$last" ] && return 0
    last=$now
  done
}

# bench_tcpserver_smtpd HOME PORT [WRAPPER...]: jsmail-smtpd of HOME under
# tcpserver on 127.0.0.1:PORT (up to 100 sessions, a listen backlog of 128:
# with tcpserver's default of 20, 50 clients connecting at once lose SYNs and
# wait out TCP's retransmission), in the background, under WRAPPER (a tracer)
# if given; sets bench_tcpserver_pid, stopped on exit.
bench_tcpserver_smtpd() {
  local home=$1 port=$2
  shift 2
  env -u JSMAIL_COMPAT "$@" tcpserver -R -H -l mx.example -c 100 -b 128 127.0.0.1 "$port" "$home/bin/qmail-smtpd" 2>/dev/null &
  bench_tcpserver_pid=$!
  bench_on_exit "bench_stop_traced $bench_tcpserver_pid"
  bench_wait_port "$port"
}

# bench_has_server_mode HOME: whether HOME has jsmail-smtpd's server mode.
bench_has_server_mode() { [ -x "$1/bin/jsmail-smtpd-server" ]; }

# bench_server_smtpd HOME PORT [WRAPPER...]: jsmail-smtpd's server mode of
# HOME on 127.0.0.1:PORT, with the queue service jsmail-queued when HOME has
# it, in the background under WRAPPER if given (one wrapper for both, so a
# tracer sees both). Sets bench_server_pid, stopped on exit (SIGTERM, as
# supervise would). BENCH_SERVER_ARGS adds options (docs/jsmail-smtpd.md).
# Everything's stderr goes to HOME/server.log and HOME/queued.log (the
# wrapper's too: its "Terminated" notices when stopped).
bench_server_smtpd() {
  local home=$1 port=$2
  shift 2
  "$@" bash -c '
    cd "$1" || exit 111
    trap "kill -TERM \$(jobs -p) 2>/dev/null; wait" TERM
    if [ -x bin/jsmail-queued ]; then
      bin/jsmail-queued 2>>queued.log &
      for ((t = 0; t < 100; t++)); do [ -S queued/socket ] && break; sleep 0.05; done
    fi
    env -u JSMAIL_COMPAT bin/jsmail-smtpd-server --listen "127.0.0.1:$2" --local-host mx.example \
      --max-connections 200 --max-per-ip 0 --single-user $3 2>>server.log &
    wait' bench-server "$home" "$port" "${BENCH_SERVER_ARGS:-}" 2>>"$home/server.log" &
  bench_server_pid=$!
  bench_on_exit "bench_stop_traced $bench_server_pid"
  bench_wait_port "$port"
}

# bench_stop_traced PID: stops PID, or the processes PID runs when PID is a
# tracer (strace -f -c writes its summary once they have exited), and waits.
bench_stop_traced() {
  local p
  kill -0 "$1" 2>/dev/null || return 0
  if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = strace ]; then
    for p in $(pgrep -P "$1"); do kill -TERM "$p" 2>/dev/null; done
  else
    kill -TERM "$1" 2>/dev/null
  fi
  wait "$1" || true
} 2>/dev/null # bash's "Terminated" notice, wherever in here it reaps the job

# bench_stop_send PID: stops the jsmail-start of PID (qmail-send is PID or
# its child) with SIGTERM, and waits for it.
bench_stop_send() {
  local p
  for p in $(pgrep -x qmail-send || true); do
    if [ "$p" = "$1" ] || [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$1" ]; then kill -TERM "$p"; fi
  done
  wait "$1" || true
} 2>/dev/null # bash's "Terminated" notice, wherever in here it reaps the job

# bench_local_maildir HOME: HOME (installed, not running) delivers
# bench@bench.test into HOME/mbox/Maildir as nobody, through users/assign and
# a .qmail of ./Maildir/; its smtpd takes mail for bench.test. Run as root.
bench_local_maildir() {
  local home=$1
  echo mx.example >"$home/control/me"
  echo bench.test >"$home/control/locals"
  echo bench.test >"$home/control/rcpthosts"
  mkdir -m 0755 "$home/mbox"
  "$home/bin/maildirmake" "$home/mbox/Maildir"
  echo ./Maildir/ >"$home/mbox/.qmail"
  chown -R nobody: "$home/mbox"
  printf '=bench:nobody:%s:%s:%s:::\n.\n' "$(id -u nobody)" "$(id -g nobody)" "$home/mbox" >"$home/users/assign"
  (cd "$home" && bin/qmail-newu)
}
