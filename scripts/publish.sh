#!/usr/bin/env bash
# publish.sh [OUTDIR]: publish every jsmail program as a Native AOT executable.
#
# A program is any project under src/ whose name does not start with
# Jsmail.Common (src/Directory.Build.props makes those Native AOT executables
# named by their AssemblyName, always jsmail-<name>). Adding a program means
# adding a project: there is no list here to edit.
#
# The executables (not their .dbg symbol files) land in OUTDIR, default
# <repo>/artifacts/publish. The jsmail-* files already in OUTDIR are replaced
# by this build's, so a program that no longer exists does not linger there.
# OUTDIR/jsmail is a link to jsmail-cli, the operator's command (docs/jsmail.md).
# Any failure stops the script with a non-zero exit and a message on stderr.
set -euo pipefail

fatal() { echo "publish.sh: fatal: $*" >&2; exit 111; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -le 1 ] || { echo "usage: publish.sh [OUTDIR]" >&2; exit 100; }
out=${1:-$repo/artifacts/publish}
case $out in /*) ;; *) out=$PWD/$out ;; esac

command -v dotnet >/dev/null 2>&1 || fatal "dotnet is not on PATH"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

projects=()
while IFS= read -r p; do
  case $(basename "$p" .csproj) in Jsmail.Common*) continue ;; esac
  projects+=("$p")
done < <(find "$repo/src" -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | LC_ALL=C sort)
[ ${#projects[@]} -gt 0 ] || fatal "no program projects under $repo/src"

stage=$(mktemp -d "${TMPDIR:-/tmp}/jsmail-publish.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/all"

for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  asm=$(dotnet msbuild "$proj" -nologo -getProperty:AssemblyName) ||
    fatal "cannot read the AssemblyName of $proj"
  asm=${asm//[$'\r\n']/}
  case $asm in
    jsmail-?*) ;;
    *) fatal "$proj: AssemblyName '$asm' does not start with jsmail- (every program is installed as jsmail-<name>)" ;;
  esac
  [ ! -e "$stage/all/$asm" ] || fatal "two projects publish $asm"
  echo "publish.sh: $name -> $asm"
  dotnet publish "$proj" -c Release -nologo -v quiet -o "$stage/$name" ||
    fatal "dotnet publish $proj failed"
  exe=$stage/$name/$asm
  [ -f "$exe" ] && [ -x "$exe" ] || fatal "$proj: published no executable $asm"
  cp "$exe" "$stage/all/$asm"
done

mkdir -p "$out" || fatal "cannot create $out"
rm -f "$out"/jsmail-* || fatal "cannot clear the old programs from $out"
for exe in "$stage"/all/*; do
  base=$(basename "$exe")
  cp "$exe" "$out/.$base.tmp" && mv -f "$out/.$base.tmp" "$out/$base" ||
    fatal "cannot copy $base into $out"
done
# the operator's command is called jsmail: a link beside its executable
if [ -e "$out/jsmail-cli" ]; then
  ln -sfn jsmail-cli "$out/.jsmail.tmp" && mv -Tf "$out/.jsmail.tmp" "$out/jsmail" ||
    fatal "cannot link $out/jsmail to jsmail-cli"
fi
echo "publish.sh: ${#projects[@]} program(s) in $out"
