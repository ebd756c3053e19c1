#!/usr/bin/env bash
# install.sh: install jsmail into a qmail home (default /var/qmail).
#
#   install.sh [--prefix DIR] [--single-user] [--binaries-only] [--prebuilt DIR]
#
# See docs/install.md for the tree, the owners and modes, and what a re-run
# changes. Exit codes: 0 done; 100 refused before changing anything (bad
# arguments, not root without --single-user, --binaries-only without a home);
# 111 a step failed (publish, copy, chown, account creation).
set -euo pipefail
umask 022

prog=install.sh
usage() {
  cat <<'USAGE'
usage: install.sh [--prefix DIR] [--single-user] [--binaries-only] [--prebuilt DIR]

  --prefix DIR     the qmail home to install into (default /var/qmail)
  --single-user    everything owned by the invoking user: no accounts, no
                   chown, no setuid bit; needs no root
  --binaries-only  only (re)install the programs in DIR/bin and their qmail-
                   links; DIR/queue and DIR/control must already exist
  --prebuilt DIR   install the jsmail-* executables in DIR instead of
                   publishing them with scripts/publish.sh
USAGE
}
fatal() { echo "$prog: fatal: $*" >&2; exit 111; }
refuse() { echo "$prog: fatal: $*" >&2; exit 100; }
say() { echo "$prog: $*"; }

# qmail's compile-time queue split (conf-split): queue/{mess,info,local,remote,ext,rparam}/0..22.
readonly SPLIT=23

# ---------------------------------------------------------------- arguments
prefix=/var/qmail
single_user=0
binaries_only=0
prebuilt=
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || refuse "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --prebuilt) [ $# -ge 2 ] || refuse "--prebuilt needs a directory"; prebuilt=$2; shift 2 ;;
    --prebuilt=*) prebuilt=${1#--prebuilt=}; shift ;;
    --single-user) single_user=1; shift ;;
    --binaries-only) binaries_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; refuse "unknown argument: $1" ;;
  esac
done

[ -n "$prefix" ] || refuse "--prefix is empty"
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
while [ "${prefix%/}" != "$prefix" ] && [ "$prefix" != / ]; do prefix=${prefix%/}; done
[ "$prefix" != / ] || refuse "refusing to install into /"

if [ -n "$prebuilt" ]; then
  case $prebuilt in /*) ;; *) prebuilt=$PWD/$prebuilt ;; esac
  [ -d "$prebuilt" ] || refuse "--prebuilt $prebuilt is not a directory"
fi

if [ "$single_user" = 0 ] && [ "$(id -u)" != 0 ]; then
  refuse "must be run as root to create the qmail accounts and set owners (or use --single-user for a home owned by $(id -un))"
fi

if [ "$binaries_only" = 1 ]; then
  [ -d "$prefix/queue" ] && [ -d "$prefix/control" ] ||
    refuse "--binaries-only needs an existing qmail home: $prefix/queue or $prefix/control is missing"
fi
if [ -d "$prefix/queue/mess/$SPLIT" ]; then
  refuse "$prefix/queue was made with a split larger than $SPLIT; jsmail uses $SPLIT"
fi

# ------------------------------------------------------------- owners
# own USER GROUP PATH...: chown in the privileged install, nothing in single-user.
own() {
  [ "$single_user" = 1 ] && return 0
  local who=$1:$2
  shift 2
  chown -h "$who" "$@" || fatal "cannot chown $who $*"
}
# mode MODE PATH...: an exact mode; the leading 0 also clears set-id bits that
# GNU chmod would otherwise keep on a directory. Single-user drops setuid.
mode() {
  local m=$1
  shift
  if [ "$single_user" = 1 ]; then m=$(printf '%04o' $((8#$m & ~8#4000))); fi
  chmod "0$m" "$@" || fatal "cannot chmod $m $*"
}
# dir OWNER GROUP MODE PATH...: create what is missing, then set owner and mode.
dir() {
  local o=$1 g=$2 m=$3 p missing=()
  shift 3
  for p in "$@"; do
    [ -d "$p" ] && continue
    [ ! -e "$p" ] && [ ! -L "$p" ] || fatal "$p exists and is not a directory"
    missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then mkdir "${missing[@]}" || fatal "cannot create ${missing[*]}"; fi
  own "$o" "$g" "$@"
  mode "$m" "$@"
}
# splitdirs PATH: PATH and its split subdirectories PATH/0 .. PATH/22.
splitdirs() {
  local i
  echo "$1"
  for ((i = 0; i < SPLIT; i++)); do echo "$1/$i"; done
}
# split OWNER GROUP MODE PATH: the directory and its split subdirectories.
split() {
  local paths
  mapfile -t paths < <(splitdirs "$4")
  dir "$1" "$2" "$3" "${paths[@]}"
}

# ------------------------------------------------------------- accounts
retry() { # a concurrent useradd/groupadd holds /etc/passwd's lock for a moment
  local i
  for i in 1 2 3 4 5; do "$@" && return 0; sleep 1; done
  return 1
}
make_group() {
  getent group "$1" >/dev/null && return 0
  retry groupadd --system "$1" >/dev/null 2>&1 || getent group "$1" >/dev/null ||
    fatal "cannot create group $1"
  say "created group $1"
}
make_user() { # NAME GROUP HOME
  getent passwd "$1" >/dev/null && return 0
  local shell=/usr/sbin/nologin
  [ -x "$shell" ] || shell=/bin/false
  retry useradd --system --no-create-home --no-user-group --gid "$2" --home-dir "$3" \
    --shell "$shell" "$1" >/dev/null 2>&1 || getent passwd "$1" >/dev/null ||
    fatal "cannot create user $1"
  say "created user $1 ($2, home $3)"
}
accounts() {
  local u
  make_group qmail
  make_group nofiles
  make_user alias nofiles "$prefix/alias"
  for u in qmaild qmaill qmailp; do make_user "$u" nofiles "$prefix"; done
  for u in qmailq qmailr qmails; do make_user "$u" qmail "$prefix"; done
}

# ------------------------------------------------------------- binaries
# binmode NAME (the part after jsmail-): the mode of qmail's own binary of
# that name (interfaces §14.2), plus qmail-todo of the ext_todo split.
binmode() {
  case $1 in
    queue) echo 4711 ;;
    lspawn|start|newu|newmrh) echo 0700 ;;
    getpw|local|remote|rspawn|clean|send|todo|pw2u|splogger|popup) echo 0711 ;;
    *) echo 0755 ;;
  esac
}

publish() {
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  [ -x "$repo/scripts/publish.sh" ] || fatal "no scripts/publish.sh beside install.sh: use --prebuilt DIR"
  if ! command -v dotnet >/dev/null 2>&1; then
    fatal "dotnet is not on PATH: run scripts/publish.sh as yourself, then install.sh --prebuilt $repo/artifacts/publish"
  fi
  "$repo/scripts/publish.sh" "$repo/artifacts/publish" >&2 || fatal "publish failed"
  prebuilt=$repo/artifacts/publish
}

# install_bin SRC: copy to a temporary name in bin/, set owner and mode, then
# rename over the old program (a running copy keeps its own inode), and point
# qmail-<name> at it with a relative symlink, also replaced by a rename.
install_bin() {
  local src=$1 base name m owner bin=$prefix/bin
  base=$(basename "$src")
  name=${base#jsmail-}
  m=$(binmode "$name")
  owner=root
  [ "$name" = queue ] && owner=qmailq
  rm -f "$bin/.$base.new"
  cp "$src" "$bin/.$base.new" || fatal "cannot copy $src to $bin"
  own "$owner" qmail "$bin/.$base.new"
  mode "$m" "$bin/.$base.new"
  mv -f "$bin/.$base.new" "$bin/$base" || fatal "cannot rename $bin/.$base.new to $bin/$base"

  local qname
  qname=$(qmailname "$name")
  local link=$bin/$qname
  if [ -e "$link" ] && [ ! -L "$link" ]; then
    # a real qmail program: keep it beside the link rather than lose it
    if [ ! -e "$link.orig" ]; then
      mv "$link" "$link.orig" || fatal "cannot keep $link as $link.orig"
      say "kept the old $qname as bin/$qname.orig"
    fi
  fi
  rm -f "$bin/.$qname.new"
  ln -s "$base" "$bin/.$qname.new" || fatal "cannot link $link"
  own root qmail "$bin/.$qname.new"
  mv -Tf "$bin/.$qname.new" "$link" || fatal "cannot rename the link to $link"
}

# qmailname NAME: the name qmail gives that program: qmail-NAME, except for the
# tools qmail installs without the prefix (interfaces §14.2); jsmail-cli is
# linked as jsmail.
qmailname() {
  case $1 in
    cli) echo jsmail ;; # the operator's command (docs/jsmail.md): qmail has no twin
    sendmail|maildirmake|maildir2mbox|maildirwatch|preline|forward|condredirect|bouncesaying|except|predate|datemail|mailsubj|tcp-env|qreceipt|qbiff|splogger) echo "$1" ;;
    *) echo "qmail-$1" ;;
  esac
}

# ------------------------------------------------------------- control
fqdn() {
  local name=
  if [ -s "$prefix/control/me" ]; then
    IFS= read -r name <"$prefix/control/me" || true
  fi
  [ -n "$name" ] || name=$(timeout 10 hostname -f 2>/dev/null) || name=
  [ -n "$name" ] || name=$(hostname 2>/dev/null) || name=
  [ -n "$name" ] || name=$(uname -n)
  case $name in
    ''|*[[:space:]/]*) fatal "cannot tell this host's name (got '$name'): write $prefix/control/me first" ;;
  esac
  printf '%s\n' "$name"
}
# control FILE VALUE: create control/FILE with one line, only if it is missing.
control() {
  local f=$prefix/control/$1
  if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi
  printf '%s\n' "$2" >"$f.new" || fatal "cannot write $f.new"
  own root qmail "$f.new"
  mode 0644 "$f.new"
  mv -f "$f.new" "$f" || fatal "cannot rename $f.new"
  say "control/$1: $2"
}
controls() {
  local me
  me=$(fqdn)
  control me "$me"
  # derived as qmail's config-fast does: mail.example.com gives
  # defaultdomain example.com and plusdomain example.com
  control defaultdomain "$(printf '%s\n' "$me" | sed 's/^\([^.]*\)\.\([^.]*\)\./\2./')"
  control plusdomain "$(printf '%s\n' "$me" | sed 's/^.*\.\([^.]*\)\.\([^.]*\)$/\1.\2/')"
  control locals "$me"
  control rcpthosts "$me"
}

# ------------------------------------------------------------- the tree
lock_files() {
  local lock=$prefix/queue/lock
  if [ ! -e "$lock/tcpto" ]; then
    head -c 1024 /dev/zero >"$lock/tcpto.new" && mv -f "$lock/tcpto.new" "$lock/tcpto" ||
      fatal "cannot create $lock/tcpto"
  fi
  own qmailr qmail "$lock/tcpto"
  mode 0644 "$lock/tcpto"
  if [ ! -e "$lock/sendmutex" ]; then
    : >"$lock/sendmutex" || fatal "cannot create $lock/sendmutex"
  fi
  own qmails qmail "$lock/sendmutex"
  mode 0600 "$lock/sendmutex"
  if [ ! -e "$lock/trigger" ]; then
    mkfifo "$lock/trigger" || fatal "cannot create the fifo $lock/trigger"
  fi
  [ -p "$lock/trigger" ] || fatal "$lock/trigger exists and is not a named pipe"
  own qmails qmail "$lock/trigger"
  mode 0622 "$lock/trigger"
}

tree() {
  [ -d "$(dirname "$prefix")" ] || mkdir -p "$(dirname "$prefix")" || fatal "cannot create $(dirname "$prefix")"
  dir root qmail 0755 "$prefix"
  dir alias qmail 2755 "$prefix/alias"
  dir root qmail 0755 "$prefix/bin" "$prefix/boot" "$prefix/control" "$prefix/users"
  local q=$prefix/queue
  dir qmailq qmail 0750 "$q"
  dir qmailq qmail 0700 "$q/pid" "$q/intd"
  dir qmailq qmail 0750 "$q/todo"
  dir qmails qmail 0700 "$q/bounce"
  split qmailq qmail 0750 "$q/mess"
  split qmails qmail 0700 "$q/info"
  split qmails qmail 0700 "$q/local"
  split qmails qmail 0700 "$q/remote"
  split qmailq qmail 0750 "$q/ext"
  split qmails qmail 0750 "$q/rparam"
  dir qmailq qmail 0750 "$q/lock"
  # jsmail-remote's cache of MTA-STS policies (docs/jsmail-remote.md): qmailr writes it
  dir qmailr qmail 0750 "$q/mta-sts"
  # the TLS sessions jsmail-remote records and jsmail-tlsrpt reports (docs/tls-reporting.md): qmailr writes it
  dir qmailr qmail 0750 "$q/tlsrpt"
  operator_dirs
  lock_files
  service_dir
}

# service_dir: the directory of jsmail-queued's socket (docs/jsmail-queued.md),
# outside queue/ (which qmaild cannot enter): the queue owner's, group nofiles,
# so that qmaild (and root) can reach the socket and other accounts cannot.
service_dir() {
  dir qmailq nofiles 0750 "$prefix/queued"
}

# operator_dirs: jsmail's hold marks and jsmail-send's command socket
# (docs/jsmail.md): qmails's alone, like queue/bounce.
operator_dirs() {
  dir qmails qmail 0700 "$prefix/queue/hold" "$prefix/queue/command"
}

# --binaries-only: a home made by qmail (or an older jsmail) lacks jsmail's own
# queue directories: queue/ext (envelope extensions, owned like queue/mess) and
# queue/rparam (remote delivery parameters, owned like queue/remote but
# group-readable, so that qmailr's jsmail-rspawn can read them), queue/hold,
# queue/command, queue/mta-sts and queue/tlsrpt. Create what is missing; what exists is left
# as it is.
jsmail_stores() {
  missing_split "$prefix/queue/ext" "$prefix/queue/mess"
  missing_split "$prefix/queue/rparam" "$prefix/queue/remote"
  local d
  for d in hold command; do
    [ -d "$prefix/queue/$d" ] && continue
    mkdir "$prefix/queue/$d" || fatal "cannot create $prefix/queue/$d"
    if [ "$single_user" = 0 ]; then
      chown --reference="$prefix/queue/bounce" "$prefix/queue/$d" || fatal "cannot chown $prefix/queue/$d"
    fi
    chmod 00700 "$prefix/queue/$d" || fatal "cannot chmod $prefix/queue/$d"
  done
  # the MTA-STS cache and the TLS session records: qmailr's, like lock/tcpto, which qmail-remote also writes
  for d in mta-sts tlsrpt; do
    [ -d "$prefix/queue/$d" ] && continue
    mkdir "$prefix/queue/$d" || fatal "cannot create $prefix/queue/$d"
    if [ "$single_user" = 0 ] && [ -e "$prefix/queue/lock/tcpto" ]; then
      chown --reference="$prefix/queue/lock/tcpto" "$prefix/queue/$d" || fatal "cannot chown $prefix/queue/$d"
    fi
    chmod 00750 "$prefix/queue/$d" || fatal "cannot chmod $prefix/queue/$d"
  done
}
# missing_split PATH REFERENCE: PATH's split directories that are missing, owned like REFERENCE, mode 0750.
missing_split() {
  local d paths missing=()
  mapfile -t paths < <(splitdirs "$1")
  for d in "${paths[@]}"; do
    [ -d "$d" ] && continue
    [ ! -e "$d" ] && [ ! -L "$d" ] || fatal "$d exists and is not a directory"
    missing+=("$d")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  mkdir "${missing[@]}" || fatal "cannot create ${missing[*]}"
  if [ "$single_user" = 0 ]; then
    chown --reference="$2" "${missing[@]}" || fatal "cannot chown ${missing[*]}"
  fi
  chmod 00750 "${missing[@]}" || fatal "cannot chmod ${missing[*]}"
}

# ------------------------------------------------------------- main
if [ -z "$prebuilt" ]; then publish; fi
programs=()
for f in "$prebuilt"/jsmail-*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  case $f in *.dbg|*.tmp|*.new) continue ;; esac
  programs+=("$f")
done
[ ${#programs[@]} -gt 0 ] || fatal "no jsmail-* executables in $prebuilt"

if [ "$single_user" = 0 ]; then
  if [ "$binaries_only" = 1 ]; then
    getent group qmail >/dev/null && getent passwd qmailq >/dev/null ||
      refuse "the qmail accounts are missing: run a full install first (or pass --single-user)"
  else
    accounts
  fi
fi

if [ "$binaries_only" = 1 ]; then
  dir root qmail 0755 "$prefix/bin"
  jsmail_stores
  [ -d "$prefix/queued" ] || service_dir
else
  tree
  controls
fi
for f in "${programs[@]}"; do install_bin "$f"; done
say "installed ${#programs[@]} program(s) into $prefix/bin"
