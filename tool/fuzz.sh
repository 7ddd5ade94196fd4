#!/bin/bash
# fuzz.sh: make fuzz's helper (test/fuzz_common.h says how the targets work).
#
#   fuzz.sh --need-clang CC
#       clang must be there: when it is not, install Debian's package as
#       configure installs the others (root, apt-get, VLOG_NO_INSTALL unset),
#       or stop with a message that names the package.
#   fuzz.sh DIR SECONDS TARGET...
#       For each target (DIR/fuzz_TARGET): write its seeds (the target
#       itself writes them from the small store it builds, FUZZ_WRITE_SEEDS),
#       then run it over DIR/corpus/TARGET and the seeds: for SECONDS
#       seconds, or, with SECONDS empty, each input once (a regression run).
#       FUZZ_RUNS=N in the environment stops each target after N executions
#       instead (or at SECONDS, whichever comes first).
#       One target at a time, one process each.  Prints per target the
#       executions and the findings (crash, timeout, out-of-memory and leak
#       files in DIR/crashes/TARGET); exits 1 if there are findings.
set -u

if [ "${1:-}" = --need-clang ]; then
  cc=$2
  command -v "$cc" >/dev/null 2>&1 && exit 0
  if [ "${VLOG_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] &&
     command -v apt-get >/dev/null 2>&1; then
    echo "make fuzz: $cc is missing: installing Debian package 'clang' (apt-get install clang)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang \
      >/dev/null 2>&1 && command -v "$cc" >/dev/null 2>&1 && exit 0
    echo "make fuzz: apt-get install clang failed; install it by hand" >&2
    exit 1
  fi
  echo "make fuzz needs clang with libFuzzer: install the Debian package 'clang'" \
       "(apt-get install clang), or set FUZZ_CC" >&2
  exit 1
fi

dir=$1
seconds=$2
shift 2
status=0
printf '%-12s %14s %10s  %s\n' target executions findings "corpus, crashes"
for t in "$@"; do
  bin=$dir/fuzz_$t
  seeds=$dir/seeds/$t
  corpus=$dir/corpus/$t
  crashes=$dir/crashes/$t
  log=$dir/log/$t.log
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus" "$crashes" "$dir/log"
  if ! FUZZ_WRITE_SEEDS=$seeds "$bin" >"$log" 2>&1; then
    echo "fuzz.sh: $t: cannot write its seeds (see $log)" >&2
    status=1
    continue
  fi
  case $t in
    superblock) maxlen=192 ;;
    node|tree)  maxlen=8192 ;;
    shm)        maxlen=4096 ;;
    dict)       maxlen=20480 ;;
    *)          maxlen=262144 ;;
  esac
  if [ -n "${FUZZ_RUNS:-}" ]; then
    run="-runs=$FUZZ_RUNS"
    [ -n "$seconds" ] && run="$run -max_total_time=$seconds"
  elif [ -n "$seconds" ]; then
    run="-max_total_time=$seconds"
  else
    run="-runs=0"
  fi
  nBefore=$(ls "$crashes" | wc -l)
  "$bin" $run -max_len=$maxlen -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" "$seeds" >>"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  nAfter=$(ls "$crashes" | wc -l)
  [ "$rc" != 0 ] && [ "$nAfter" = "$nBefore" ] && nAfter=$((nAfter+1))   # died without a file
  printf '%-12s %14s %10s  %s\n' "$t" "${execs:-?}" "$((nAfter-nBefore))" \
    "$corpus, $crashes"
  if [ "$rc" != 0 ] || [ "$nAfter" != "$nBefore" ]; then
    status=1
    echo "  $t: see $log" >&2
  fi
done
exit $status
