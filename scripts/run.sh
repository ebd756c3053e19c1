#!/usr/bin/env bash
# run.sh: build jsmail, install a single-user home under the checkout and run
# the whole MTA in the foreground (README, "Run"). Ctrl-C stops it.
#
#   run.sh [--home DIR] [--ip IP] [--port PORT] [--prebuilt DIR] [--mailboxes "NAME..."] [--tcpserver]
#
# SMTP: jsmail-smtpd in server mode serves every connection on IP:PORT (default
# 127.0.0.1:2525), with the rules in HOME/etc/tcp.smtp (127.* may relay) when
# tcprules is there to compile them; --tcpserver runs it under tcpserver
# (ucspi-tcp) instead, one process per connection. In server mode jsmail-queued
# (the queue service) runs beside it, so no message starts a process to queue.
# Delivery: jsmail-start ./Maildir/; mail for NAME@localhost lands in
# HOME/mail/NAME/Maildir/new/ for each mailbox NAME (default: you postmaster);
# any other local name bounces. The activity log and tcpserver's lines go to
# the terminal. Exit codes: 0 stopped by INT/TERM/HUP; 100 bad arguments;
# 111 a step failed, or a daemon stopped by itself.
set -euo pipefail
umask 022

prog=run.sh
fatal() { echo "$prog: fatal: $*" >&2; exit 111; }
refuse() { echo "$prog: fatal: $*" >&2; exit 100; }
say() { echo "$prog: $*" >&2; }
usage() { sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
home=$repo/home
ip=127.0.0.1
port=2525
prebuilt=
mailboxes="you postmaster"
tcpserver=0
while [ $# -gt 0 ]; do
  case $1 in
    --home) [ $# -ge 2 ] || refuse "--home needs a directory"; home=$2; shift 2 ;;
    --ip) [ $# -ge 2 ] || refuse "--ip needs an address"; ip=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || refuse "--port needs a number"; port=$2; shift 2 ;;
    --prebuilt) [ $# -ge 2 ] || refuse "--prebuilt needs a directory"; prebuilt=$2; shift 2 ;;
    --mailboxes) [ $# -ge 2 ] || refuse "--mailboxes needs names"; mailboxes=$2; shift 2 ;;
    --tcpserver) tcpserver=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; refuse "unknown argument: $1" ;;
  esac
done
case $home in /*) ;; *) home=$PWD/$home ;; esac
case $port in ''|*[!0-9]*) refuse "--port $port is not a number" ;; esac
for name in $mailboxes; do
  case $name in *[!a-z0-9._-]*|.*) refuse "mailbox name '$name': use lowercase letters, digits, '.', '_', '-'" ;; esac
done

# ------------------------------------------------------------- tcpserver
# With --tcpserver, ucspi-tcp is the SMTP listener, as at every qmail site;
# root installs it, anyone else is told how. Server mode needs none of it.
if [ "$tcpserver" = 1 ] && { ! command -v tcpserver >/dev/null 2>&1 || ! command -v tcprules >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ucspi-tcp (tcpserver, tcprules)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 ucspi-tcp >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 ucspi-tcp >&2; } ||
      fatal "cannot install ucspi-tcp"
  else
    fatal "tcpserver is missing: install ucspi-tcp first (sudo apt-get install ucspi-tcp)"
  fi
fi

# ------------------------------------------------------------- build
# Publish only when a program is missing or a source is newer than the oldest
# program: a second start takes seconds, not the minutes of a full publish.
stale() {
  local out=$repo/artifacts/publish projects oldest
  projects=$(find "$repo/src" -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' -not -name 'Jsmail.Common*' | wc -l)
  [ "$(find "$out" -maxdepth 1 -name 'jsmail-*' -type f 2>/dev/null | wc -l)" -ge "$projects" ] || return 0
  oldest=$(ls -tr "$out"/jsmail-* | sed -n 1p)
  [ -n "$(find "$repo/src" "$repo/Directory.Build.props" "$repo/Directory.Packages.props" -newer "$oldest" \
    -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]
}
if [ -z "$prebuilt" ]; then
  if stale; then
    say "building (scripts/publish.sh; a few minutes the first time)"
    "$repo/scripts/publish.sh" >&2 || fatal "the build failed"
  fi
  prebuilt=$repo/artifacts/publish
fi

# ------------------------------------------------------------- the home
# A new home answers as localhost. qmail-inject completes a dotless host
# with defaultdomain (you -> you@localhost.localdomain), so that name is
# local too. install.sh only creates the control files that are missing.
if [ ! -e "$home/control/me" ]; then
  mkdir -p "$home/control" || fatal "cannot create $home/control"
  echo localhost >"$home/control/me"
  echo localdomain >"$home/control/defaultdomain"
  echo localdomain >"$home/control/plusdomain"
  printf 'localhost\nlocalhost.localdomain\n' >"$home/control/locals"
  printf 'localhost\nlocalhost.localdomain\n' >"$home/control/rcpthosts"
fi
"$repo/scripts/install.sh" --single-user --prefix "$home" --prebuilt "$prebuilt" >&2 || fatal "install.sh failed"

# Deliveries run as the invoking user; qmail never delivers as root, so root's
# deliveries run as nobody (the checkout must then be readable by nobody).
if [ "$(id -u)" = 0 ]; then owner=nobody; else owner=$(id -un); fi
uid=$(id -u "$owner") && gid=$(id -g "$owner") || fatal "cannot find the account $owner"
mkdir -p "$home/mail" "$home/etc" || fatal "cannot create $home/mail"
chmod 0755 "$home/mail"
for name in $mailboxes; do
  box=$home/mail/$name
  if [ ! -d "$box/Maildir" ]; then
    mkdir -p "$box" && "$home/bin/maildirmake" "$box/Maildir" || fatal "cannot make $box/Maildir"
    chmod 0755 "$box"
    [ "$(id -u)" != 0 ] || chown -R "$owner" "$box" || fatal "cannot chown $box to $owner"
  fi
done
# users/assign: each mailbox by its exact name, then a catch-all whose home
# (HOME/mail) has no .qmail-default, so that other names bounce (#5.1.1).
if [ ! -e "$home/users/assign" ]; then
  {
    for name in $mailboxes; do echo "=$name:$owner:$uid:$gid:$home/mail/$name:::"; done
    echo "+:$owner:$uid:$gid:$home/mail:-::"
    echo .
  } >"$home/users/assign.new" && mv -f "$home/users/assign.new" "$home/users/assign" ||
    fatal "cannot write $home/users/assign"
fi
"$home/bin/qmail-newu" || fatal "qmail-newu failed"
if [ ! -e "$home/etc/tcp.smtp" ]; then
  printf '127.:allow,RELAYCLIENT=""\n:allow\n' >"$home/etc/tcp.smtp" || fatal "cannot write $home/etc/tcp.smtp"
fi
# Server mode without tcprules: no rules file; on a loopback address every
# client is local, which is what the default rules let relay.
rules=()
relay=0
if command -v tcprules >/dev/null 2>&1; then
  tcprules "$home/etc/tcp.smtp.cdb" "$home/etc/tcp.smtp.tmp" <"$home/etc/tcp.smtp" ||
    fatal "tcprules cannot compile $home/etc/tcp.smtp"
  rules=(--rules "$home/etc/tcp.smtp.cdb")
else
  case $ip in
    127.*|::1) relay=1 ;;
    *) say "tcprules is missing: $home/etc/tcp.smtp is not used and nobody may relay" ;;
  esac
fi
case $ip in *:*) listen="[$ip]:$port" ;; *) listen="$ip:$port" ;; esac
concurrency=20
if [ -s "$home/control/concurrencyincoming" ]; then read -r concurrency <"$home/control/concurrencyincoming"; fi
read -r me <"$home/control/me"

# ------------------------------------------------------------- run
# Each daemon tree gets its own process group (set -m): the terminal's Ctrl-C
# reaches only this script, which stops the trees in order and leaves nothing.
set -m
(cd / && exec env - PATH="$home/bin:/usr/local/bin:/usr/bin:/bin" jsmail-start ./Maildir/ </dev/null 2>&1) &
send=$!
queued=
if [ "$tcpserver" = 0 ]; then
  # The queue service, as the home's owner; smtpd uses it once its socket
  # answers (and jsmail-queue until then), so wait for it, bounded.
  (cd / && exec env - PATH="$home/bin:/usr/local/bin:/usr/bin:/bin" jsmail-queued </dev/null 2>&1) &
  queued=$!
  for ((i = 0; i < 100; i++)); do
    [ -S "$home/queued/socket" ] && break
    kill -0 "$queued" 2>/dev/null || break
    sleep 0.1
  done
fi
if [ "$tcpserver" = 1 ]; then
  tcpserver -v -R -H -l "$me" -x "$home/etc/tcp.smtp.cdb" -c "$concurrency" "$ip" "$port" \
    "$home/bin/jsmail-smtpd" </dev/null 2>&1 &
elif [ ${#rules[@]} -gt 0 ] || [ "$relay" = 0 ]; then
  "$home/bin/jsmail-smtpd" --listen "$listen" "${rules[@]}" --local-host "$me" --max-connections "$concurrency" \
    --stop-timeout 5 --single-user </dev/null 2>&1 &
else
  env RELAYCLIENT= "$home/bin/jsmail-smtpd" --listen "$listen" --local-host "$me" --max-connections "$concurrency" \
    --stop-timeout 5 --single-user </dev/null 2>&1 &
fi
smtp=$!

# gone PGID: no process of that group is left.
gone() { ! kill -0 -- "-$1" 2>/dev/null; }
# settle PGID SECONDS: wait for the group to empty, then KILL what is left.
settle() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do gone "$1" && return 0; sleep 0.1; done
  say "killing what is left of process group $1"
  kill -KILL -- "-$1" 2>/dev/null || true
}
stopped=0
stop() {
  [ "$stopped" = 0 ] || return 0
  stopped=1
  set +m # no job notices for the daemons it stops
  say "stopping"
  # no new connections, and the SMTP sessions end without acknowledging
  kill -TERM -- "-$smtp" 2>/dev/null || true
  # qmail-send finishes its deliveries; the spawners and cleaners follow it on EOF
  kill -TERM "$send" 2>/dev/null || true
  settle "$smtp" 10
  # the queue service answers what smtpd handed it, then exits
  [ -z "$queued" ] || { kill -TERM "$queued" 2>/dev/null || true; settle "$queued" 30; }
  settle "$send" 60
  wait 2>/dev/null || true
}
trap 'stop; say "stopped"; exit 0' INT TERM HUP
trap 'stop' EXIT

# the listener fails at once when it cannot bind: then say nothing of a listener
sleep 0.5
kill -0 "$smtp" 2>/dev/null &&
  say "SMTP on $ip:$port; mail for $(echo "$mailboxes" | sed "s/\([^ ]*\)/\1@$me/g") lands in $home/mail/NAME/Maildir/new/; Ctrl-C stops"
status=0
wait -n "$send" "$smtp" $queued || status=$?
if ! kill -0 "$send" 2>/dev/null; then who=jsmail-start
elif [ -n "$queued" ] && ! kill -0 "$queued" 2>/dev/null; then who=jsmail-queued
elif [ "$tcpserver" = 1 ]; then who=tcpserver
else who=jsmail-smtpd; fi
trap - INT TERM HUP
stop
fatal "$who stopped by itself (exit $status)"
