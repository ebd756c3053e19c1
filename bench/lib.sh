# Shared by the benchmarks (sourced from the repository root): the published
# programs, the Native AOT hello world every ratio is against, the driver, and
# single-user homes to run in.
#   bench_prepare WORK [EXTRA_HOME...]   -> WORK/hello/aot-hello, WORK/driver/jsmail-bench, WORK/home, EXTRA_HOMEs
# BENCH_NO_PUBLISH=1 uses artifacts/publish as it is (after a publish of your own).
bench_prepare() {
  local work=$1 home
  shift
  [ "${BENCH_NO_PUBLISH:-}" = 1 ] || scripts/publish.sh artifacts/publish >/dev/null
  dotnet publish bench/Hello -c Release -o "$work/hello" >/dev/null
  dotnet build bench/Jsmail.Bench -c Release -o "$work/driver" >/dev/null
  for home in "$work/home" "$@"; do
    scripts/install.sh --single-user --prefix "$home" --prebuilt artifacts/publish >/dev/null
  done
}
