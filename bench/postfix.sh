# A private Postfix instance for the benchmarks to measure jsmail against,
# sourced from the repository root after bench/lib.sh. It lives in a scratch
# directory of its own (config_directory, queue_directory, data_directory),
# listens on a free port of 127.0.0.1 only, looks nothing up in DNS, and never
# reads or changes the system's /etc/postfix instance (which may be running:
# it is left alone). Needs root (postfix start) and the Debian postfix package
# (the postfix account and the postdrop group come with it).
#
#   pf_start DIR keep                 accept into the queue and deliver nowhere:
#                                     every message is put on hold as it is
#                                     accepted (smtpd's HOLD action: cleanup
#                                     writes and syncs it, then moves it to
#                                     queue/hold), so what is measured is the
#                                     SMTP accept and the queue write, as for
#                                     jsmail's queue without jsmail-send
#   pf_start DIR relay HOST:PORT      as keep while the queue is loaded; then
#                                     pf_release_held and pf_flush release them,
#                                     and each goes by SMTP to HOST:PORT, 20
#                                     deliveries at a time
#   pf_start DIR maildir MAILDIR/     mail for bench@bench.test is delivered by
#                                     local(8) into MAILDIR (an alias to it,
#                                     delivered as nobody)
# Each sets pf_dir and pf_port (its SMTP port); one instance at a time.
# pf_release_held and pf_flush start the relay mode's drain; pf_queued counts
# the messages in the queue; pf_wait_empty SECONDS returns once the queue is
# empty; pf_stop stops the instance, kills what is left of it and removes DIR.
# pf_start registers pf_stop to run on exit and on Ctrl-C (through
# bench_on_exit), so no instance outlives its benchmark.
# BENCH_POSTFIX_LOG=1 keeps Postfix's log in DIR/maillog (postlogd; off by
# default, as there is no syslog here and logging costs CPU).
# Every recipient domain is bench.test (the relay mode relays any domain).

pf_dir=
pf_port=
pf_master=
pf_fg_pid=
pf_stop_registered=

pf_start() {
  local dir=$1 mode=$2 arg=${3:-} conf
  pf_dir=$dir
  conf=$dir/etc
  # DIR's parents must be searchable by the postfix account
  mkdir -p "$conf" "$dir/queue" "$dir/data"
  chown postfix: "$dir/data"
  [ -n "$pf_stop_registered" ] || bench_on_exit pf_stop
  pf_stop_registered=1
  pf_port=$(bench_free_port)
  {
    echo "compatibility_level = 3.6"
    echo "queue_directory = $dir/queue"
    echo "data_directory = $dir/data"
    echo "mail_owner = postfix"
    echo "setgid_group = postdrop"
    echo "inet_interfaces = loopback-only"
    echo "inet_protocols = ipv4"
    echo "myhostname = postfix.bench.test"
    echo "mydomain = bench.test"
    echo "myorigin = bench.test"
    echo "mynetworks = 127.0.0.0/8"
    echo "smtpd_banner = \$myhostname ESMTP"
    echo "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"
    echo "smtp_dns_support_level = disabled"
    echo "smtp_host_lookup = native"
    echo "lmtp_host_lookup = native"
    echo "alias_database ="
    echo "biff = no"
    echo "message_size_limit = 10240000"
    # the benchmarks send from one address at 127.0.0.1 as fast as they can
    echo "smtpd_client_connection_count_limit = 0"
    echo "smtpd_client_connection_rate_limit = 0"
    echo "default_process_limit = 200"
    [ "${BENCH_POSTFIX_LOG:-}" != 1 ] || echo "maillog_file = $dir/maillog"
    if [ "$mode" = keep ]; then
      echo "mydestination = bench.test"
      echo "alias_maps ="
      echo "local_recipient_maps ="
      echo "smtpd_data_restrictions = check_client_access static:HOLD"
    elif [ "$mode" = relay ]; then
      echo "mydestination ="
      echo "alias_maps ="
      echo "smtpd_data_restrictions = check_client_access static:HOLD"
      echo "relayhost = [${arg%:*}]:${arg##*:}"
      echo "default_destination_concurrency_limit = 20"
      echo "smtp_destination_concurrency_limit = 20"
    elif [ "$mode" = maildir ]; then
      echo "mydestination = bench.test"
      echo "alias_maps = inline:{ bench=$arg }"
      echo "local_recipient_maps = \$alias_maps"
      echo "default_privs = nobody"
    else
      echo "pf_start: unknown mode $mode" >&2
      return 100
    fi
  } >"$conf/main.cf"
  pf_master_cf "$mode" >"$conf/master.cf"
  [ "${BENCH_POSTFIX_LOG:-}" != 1 ] || echo "postlog unix-dgram n - n - 1 postlogd" >>"$conf/master.cf"
  /usr/sbin/postfix -c "$conf" start 2>"$dir/start.log" || { cat "$dir/start.log" >&2; return 111; }
  pf_master=$(tr -d ' ' <"$dir/queue/pid/master.pid")
  bench_wait_port "$pf_port"
}

# pf_start_fg DIR MODE ARG COMMAND...: as pf_start (ARG "" where the mode
# takes none), but the master runs in the foreground under COMMAND (a tracer:
# strace -f -c ...), in the background of this shell; pf_stop waits for
# COMMAND to end.
pf_start_fg() {
  local dir=$1 mode=$2 arg=$3 t
  shift 3
  # configure as pf_start does, then hand the master over to COMMAND
  pf_start "$dir" "$mode" "$arg"
  pf_quiet_stop
  rm -f "$dir/queue/pid/master.pid"
  "$@" /usr/sbin/postfix -c "$dir/etc" start-fg >>"$dir/start.log" 2>&1 &
  pf_fg_pid=$!
  for ((t = 0; t < 200; t++)); do [ -s "$dir/queue/pid/master.pid" ] && break; sleep 0.05; done
  pf_master=$(tr -d ' ' <"$dir/queue/pid/master.pid")
  bench_wait_port "$pf_port"
}

# The services the benchmarks use, none chrooted. (Without a queue manager
# cleanup waits about a second per message for its trigger, so it runs even
# where nothing is to be delivered.)
pf_master_cf() {
  echo "127.0.0.1:$pf_port inet n - n - - smtpd"
  # quoted, not a here-document: these are services, not commands
  printf '%s\n' \
    'qmgr      unix  n - n 300 1 qmgr' \
    'pickup    unix  n - n 60  1 pickup' \
    'cleanup   unix  n - n - 0 cleanup' \
    'rewrite   unix  - - n - - trivial-rewrite' \
    'bounce    unix  - - n - 0 bounce' \
    'defer     unix  - - n - 0 bounce' \
    'trace     unix  - - n - 0 bounce' \
    'verify    unix  - - n - 1 verify' \
    'flush     unix  n - n 1000? 0 flush' \
    'proxymap  unix  - - n - - proxymap' \
    'smtp      unix  - - n - - smtp' \
    'relay     unix  - - n - - smtp' \
    'showq     unix  n - n - - showq' \
    'error     unix  - - n - - error' \
    'retry     unix  - - n - - error' \
    'discard   unix  - - n - - discard' \
    'local     unix  - n n - - local' \
    'anvil     unix  - - n - 1 anvil' \
    'scache    unix  - - n - 1 scache'
}

# pf_release_held: moves every held message to the deferred queue (postsuper
# -H); pf_flush then has the queue manager deliver all of them at once
# (postqueue -f). Two steps, so that a drain can be timed from the flush.
pf_release_held() { /usr/sbin/postsuper -c "$pf_dir/etc" -H ALL 2>>"$pf_dir/start.log"; }
pf_flush() { /usr/sbin/postqueue -c "$pf_dir/etc" -f; }

# pf_queued: the number of messages in the instance's queue.
pf_queued() {
  find "$pf_dir/queue/incoming" "$pf_dir/queue/active" "$pf_dir/queue/deferred" "$pf_dir/queue/hold" \
    "$pf_dir/queue/maildrop" -type f 2>/dev/null | wc -l
}

# pf_wait_empty SECONDS: returns once nothing is queued (or after SECONDS);
# twenty looks a second, each one find.
pf_wait_empty() {
  local t
  for ((t = 0; t < $1 * 20; t++)); do [ "$(pf_queued)" = 0 ] && return 0; sleep 0.05; done
  return 1
}

# pf_quiet_stop: stops the master (and so its children), waiting until it has gone.
pf_quiet_stop() {
  local t
  [ -n "$pf_master" ] || return 0
  /usr/sbin/postfix -c "$pf_dir/etc" stop >/dev/null 2>&1 || kill -TERM "$pf_master" 2>/dev/null || true
  for ((t = 0; t < 100; t++)); do kill -0 "$pf_master" 2>/dev/null || break; sleep 0.1; done
  pf_kill_left
  pf_master=
  # the foreground master's wrapper (a tracer writing its summary) ends with it
  [ -z "$pf_fg_pid" ] || wait "$pf_fg_pid" 2>/dev/null || true
  pf_fg_pid=
}

# The instance's processes that outlived their master (none, normally): each
# has one of its queue's files or directories open, or runs in it.
pf_kill_left() {
  local p
  [ -d "$pf_dir/queue" ] || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$pf_dir/queue" ] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  return 0
}

pf_stop() {
  [ -n "$pf_dir" ] || return 0
  pf_quiet_stop
  rm -rf "$pf_dir"
  pf_dir=
}
