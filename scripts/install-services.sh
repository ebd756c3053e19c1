#!/usr/bin/env bash
# install-services.sh: daemontools service directories for an installed
# jsmail home, as qmail administrators set them up (docs/install.md, "Services").
#
#   install-services.sh [--prefix DIR] [--service-dir DIR] [--log-dir DIR]
#                       [--rules FILE] [--ip IP] [--port PORT] [--single-user]
#                       [--queue-service] [--server-mode]
#
# Writes DIR/supervise/jsmail-send (jsmail-start) and DIR/supervise/jsmail-smtpd
# (jsmail-smtpd under tcpserver; with --server-mode, jsmail-smtpd's own server
# mode, which needs no ucspi-tcp at run time), each with a log/ service running multilog,
# the tcprules source FILE (when missing) and its FILE.cdb, and links both
# services into the scanned directory when --service-dir is given (svscan
# starts them within five seconds). --queue-service adds
# DIR/supervise/jsmail-queued, the queue service (docs/jsmail-queued.md),
# with its log/ service, linked likewise. Exit codes: 0 done; 100 refused before
# changing anything; 111 a step failed.
set -euo pipefail
umask 022

prog=install-services.sh
fatal() { echo "$prog: fatal: $*" >&2; exit 111; }
refuse() { echo "$prog: fatal: $*" >&2; exit 100; }
say() { echo "$prog: $*"; }
usage() { { echo usage:; sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^#//'; } >&2; }

prefix=/var/qmail
service_dir=
log_dir=
rules=
ip=0
port=smtp
single_user=0
server_mode=0
queue_service=0
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || refuse "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --service-dir) [ $# -ge 2 ] || refuse "--service-dir needs a directory"; service_dir=$2; shift 2 ;;
    --log-dir) [ $# -ge 2 ] || refuse "--log-dir needs a directory"; log_dir=$2; shift 2 ;;
    --rules) [ $# -ge 2 ] || refuse "--rules needs a file"; rules=$2; shift 2 ;;
    --ip) [ $# -ge 2 ] || refuse "--ip needs an address"; ip=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || refuse "--port needs a port"; port=$2; shift 2 ;;
    --single-user) single_user=1; shift ;;
    --server-mode) server_mode=1; shift ;;
    --queue-service) queue_service=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; refuse "unknown argument: $1" ;;
  esac
done
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
prefix=$(absolute "$prefix")
[ -x "$prefix/bin/jsmail-start" ] && [ -x "$prefix/bin/jsmail-smtpd" ] ||
  refuse "$prefix is not a jsmail home (no bin/jsmail-start, bin/jsmail-smtpd): run install.sh first"
if [ "$single_user" = 1 ]; then
  log_dir=$(absolute "${log_dir:-$prefix/log}")
  rules=$(absolute "${rules:-$prefix/etc/tcp.smtp}")
else
  [ "$(id -u)" = 0 ] || refuse "must be run as root (or use --single-user for services that run as $(id -un))"
  getent passwd qmaild >/dev/null && getent passwd qmaill >/dev/null ||
    refuse "the qmail accounts are missing: run install.sh (without --single-user) first"
  log_dir=$(absolute "${log_dir:-/var/log/qmail}")
  rules=$(absolute "${rules:-/etc/tcp.smtp}")
fi
[ -z "$service_dir" ] || service_dir=$(absolute "$service_dir")
if [ "$server_mode" = 1 ]; then
  # jsmail-smtpd --listen takes numbers: tcpserver's 0 and smtp are its defaults here
  case $ip in 0) listen_ip=0.0.0.0 ;; *:*) listen_ip="[$ip]" ;; *) listen_ip=$ip ;; esac
  case $port in smtp) port=25 ;; ''|*[!0-9]*) refuse "--port $port: server mode needs a port number" ;; esac
fi
tools="tcpserver tcprules supervise multilog"
[ "$server_mode" = 0 ] || tools="tcprules supervise multilog" # tcprules still compiles the rules
for tool in $tools; do
  command -v "$tool" >/dev/null 2>&1 ||
    fatal "$tool is missing: install ucspi-tcp and daemontools (apt-get install ucspi-tcp daemontools)"
done
path=$prefix/bin:/usr/local/bin:/usr/bin:/bin

# put FILE MODE: stdin into FILE through a rename.
put() {
  cat >"$1.new" && chmod "$2" "$1.new" && mv -f "$1.new" "$1" || fatal "cannot write $1"
}
# control NAME VALUE: created only when missing, as install.sh does.
control() {
  [ -e "$prefix/control/$1" ] && return 0
  printf '%s\n' "$2" | put "$prefix/control/$1" 0644
  say "control/$1: $2"
}
# logdir DIR: multilog's directory, owned by the account that runs it.
logdir() {
  mkdir -p "$1" || fatal "cannot create $1"
  [ "$single_user" = 1 ] || chown qmaill "$1" || fatal "cannot chown qmaill $1"
  chmod 0750 "$1"
}
# logrun SERVICE DIR: SERVICE/log/run, multilog with TAI64N stamps into DIR.
logrun() {
  local as=
  [ "$single_user" = 1 ] || as='setuidgid qmaill '
  mkdir -p "$1/log" || fatal "cannot create $1/log"
  chmod 1755 "$1/log"
  put "$1/log/run" 0755 <<RUN
#!/bin/sh
# written by jsmail's install-services.sh
PATH="$path"
exec ${as}multilog t '$2'
RUN
}

control defaultdelivery ./Maildir/
control concurrencyincoming 20

# ------------------------------------------------------------- jsmail-send
send=$prefix/supervise/jsmail-send
mkdir -p "$send" || fatal "cannot create $send"
chmod 1755 "$prefix/supervise" "$send"
# qmail's rc: an empty environment but PATH, so that deliveries inherit nothing
# from whoever started svscan; qmail-start's log is its stdout, the log pipe.
put "$send/run" 0755 <<RUN
#!/bin/sh
# written by jsmail's install-services.sh
exec env - PATH="$path" jsmail-start "\`cat '$prefix/control/defaultdelivery'\`" 2>&1
RUN
logdir "$log_dir"
logrun "$send" "$log_dir"

# ------------------------------------------------------------- jsmail-smtpd
smtpd=$prefix/supervise/jsmail-smtpd
mkdir -p "$smtpd" || fatal "cannot create $smtpd"
chmod 1755 "$smtpd"
single=
[ "$single_user" = 0 ] || single=' --single-user'
if [ "$single_user" = 1 ] || [ "$server_mode" = 1 ]; then
  # server mode changes to qmaild itself, after binding the port
  ids=
  accounts=
  check='[ -n "$MAXSMTPD" ] && [ -n "$LOCAL" ]'
  names='MAXSMTPD or LOCAL'
else
  ids='-u "$QMAILDUID" -g "$NOFILESGID" '
  accounts='QMAILDUID=`id -u qmaild`
NOFILESGID=`id -g qmaild`'
  check='[ -n "$QMAILDUID" ] && [ -n "$NOFILESGID" ] && [ -n "$MAXSMTPD" ] && [ -n "$LOCAL" ]'
  names='QMAILDUID, NOFILESGID, MAXSMTPD or LOCAL'
fi
# -R -H: no ident and no reverse DNS per connection (they stall without a resolver)
{
  printf '#!/bin/sh\n# written by jsmail'"'"'s install-services.sh\nPATH="%s"\n' "$path"
  [ -z "$accounts" ] || printf '%s\n' "$accounts"
  cat <<RUN
MAXSMTPD=\`cat '$prefix/control/concurrencyincoming'\`
LOCAL=\`head -n 1 '$prefix/control/me'\`
if ! { $check; }; then
  echo "$names is unset in $smtpd/run"
  exit 1
fi
RUN
  if [ "$server_mode" = 1 ]; then
    cat <<RUN
exec jsmail-smtpd --listen '$listen_ip:$port' --rules '$rules.cdb' --local-host "\$LOCAL" \\
  --max-connections "\$MAXSMTPD"${single} 2>&1
RUN
  else
    cat <<RUN
exec tcpserver -v -R -H -l "\$LOCAL" -x '$rules.cdb' -c "\$MAXSMTPD" \\
  ${ids}'$ip' '$port' '$prefix/bin/jsmail-smtpd' 2>&1
RUN
  fi
} | put "$smtpd/run" 0755
logdir "$log_dir/smtpd"
logrun "$smtpd" "$log_dir/smtpd"

# ------------------------------------------------------------- tcprules
if [ ! -e "$rules" ]; then
  mkdir -p "$(dirname "$rules")" || fatal "cannot create $(dirname "$rules")"
  printf '127.:allow,RELAYCLIENT=""\n:allow\n' | put "$rules" 0644
  say "$rules: 127.* may relay"
fi
tcprules "$rules.cdb" "$rules.tmp" <"$rules" || fatal "tcprules cannot compile $rules"
chmod 0644 "$rules.cdb"

# ------------------------------------------------------------- jsmail-queued
queued=
if [ "$queue_service" = 1 ]; then
  [ -x "$prefix/bin/jsmail-queued" ] || fatal "$prefix/bin/jsmail-queued is missing: run install.sh again"
  queued=$prefix/supervise/jsmail-queued
  mkdir -p "$queued" || fatal "cannot create $queued"
  chmod 1755 "$queued"
  # started as root it becomes the queue's owner (qmailq) itself
  put "$queued/run" 0755 <<RUN
#!/bin/sh
# written by jsmail's install-services.sh
exec env - PATH="$path" jsmail-queued 2>&1
RUN
  logdir "$log_dir/queued"
  logrun "$queued" "$log_dir/queued"
fi

# ------------------------------------------------------------- svscan
if [ -n "$service_dir" ]; then
  mkdir -p "$service_dir" || fatal "cannot create $service_dir"
  for s in "$send" "$smtpd" ${queued:+"$queued"}; do
    link=$service_dir/$(basename "$s")
    if [ -L "$link" ] || [ ! -e "$link" ]; then
      ln -sfn "$s" "$link" || fatal "cannot link $link"
    else
      fatal "$link exists and is not a link"
    fi
  done
  say "linked into $service_dir"
else
  say "to start them: ln -s $send $smtpd ${queued:+$queued }/etc/service/ (the directory svscan watches)"
fi
