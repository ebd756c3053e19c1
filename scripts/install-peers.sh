#!/usr/bin/env bash
# install-peers.sh: installs the test peers of scripts/peers.list that are
# missing (as root, with apt-get: one update, one install), then checks every
# line of the list again. scripts/test.sh runs it first; it runs alone too.
#
# Prints one line "install-peers.sh: missing: ..." on stdout for each peer that
# is still missing at the end (test.sh counts each as a failure) and exits 1
# then; exits 0 when every peer is present.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list=$repo/scripts/peers.list

# present PROVIDES: the command is found (on PATH, or at its absolute path) or
# /usr/bin/python3 imports the module
present() {
  case $1 in
    python3:*) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ${1#python3:}" >/dev/null 2>&1 ;;
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

# the list without comments and blank lines: "package provides origin"
entries() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list"; }

missing=()
while read -r pkg provides origin; do
  [ "$origin" != sdk ] || continue
  present "$provides" && continue
  case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done < <(entries)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-peers.sh: not root: cannot install ${missing[*]} (apt-get install them as root)" >&2
  else
    echo "install-peers.sh: installing ${missing[*]}"
    log=$(mktemp)
    if ! { apt-get update -o DPkg::Lock::Timeout=300 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 "${missing[@]}"; } \
      </dev/null >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "install-peers.sh: apt-get install ${missing[*]} failed" >&2
    fi
    rm -f "$log"
  fi
fi

rc=0
while read -r pkg provides origin; do
  present "$provides" && continue
  if [ "$origin" = sdk ]; then
    echo "install-peers.sh: missing: $provides (the .NET SDK is a prerequisite, not installed here)"
  else
    echo "install-peers.sh: missing: package $pkg gives no $provides"
  fi
  rc=1
done < <(entries)
exit $rc
