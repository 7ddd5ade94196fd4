#!/bin/bash
# runtests.sh --tf DIR [--project "GLOB..."] [--sqlite "PATTERN..."] [--jobs N]
#
# Runs TCL test files through SQLite's tester.tcl and adds up the cases.
#
#   --tf DIR        folder holding testfixture and testfixture-vlog
#   --project GLOB  the project's test files.  They run in testfixture-vlog,
#                   except a file whose header says "# testfixture: plain",
#                   which runs in the plain testfixture (to load vlog.so the
#                   way a user does).
#   --sqlite PATS   file-name patterns of SQLite's own test files (in
#                   $SQLITE_SRC/test) to run in testfixture-vlog, where vlog
#                   is registered, proving that loading vlog breaks nothing.
#                   As root they run as user nobody (65534): as root,
#                   SQLite's delete-8.* fail because root writes read-only
#                   files.
#   --jobs N        parallel test files (default 2)
#
# Every file runs in its own scratch folder under $VLOG_BUILD/testrun.  The
# last line is "N passed, N failed"; the exit status is non-zero on any
# failure.  A file that dies before tester.tcl's summary counts as one
# failed case.
set -u
set -o pipefail

tf=; project=; sqlite=; jobs=2
: "${VLOG_BUILD:?}" "${SQLITE_SRC:?}"
runroot=$VLOG_BUILD/testrun
per_file_timeout=${VLOG_TEST_TIMEOUT:-1800}

# --one FIXTURE FILE: run one file, print "RESULT name passed failed secs".
if [ "${1:-}" = --one ]; then
  fixture=$2 file=$3 asuser=$4
  name=$(basename "$file" .test)
  case "$file" in "$SQLITE_SRC"/*) kind=sqlite ;; *) kind=vlog ;; esac
  dir=$runroot/$kind/$name
  rm -rf "$dir"; mkdir -p "$dir"
  run=()
  if [ "$asuser" = nobody ] && [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$dir"
    run=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$dir")
  fi
  t0=$(date +%s)
  (cd "$dir" && "${run[@]}" timeout "$per_file_timeout" "$fixture" "$file") \
    >"$dir/output.log" 2>&1
  rc=$?
  t1=$(date +%s)
  line=$(grep -E '^[0-9]+ errors out of [0-9]+ tests' "$dir/output.log" | tail -n 1)
  if [ -n "$line" ]; then
    nerr=$(echo "$line" | awk '{print $1}')
    ntest=$(echo "$line" | awk '{print $5}')
    passed=$((ntest - nerr)); failed=$nerr
    if [ "$rc" != 0 ] && [ "$nerr" = 0 ]; then failed=1; fi
  else
    passed=0; failed=1
  fi
  echo "RESULT $kind/$name $passed $failed $((t1 - t0)) $dir/output.log"
  exit 0
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --tf) tf=$2; shift 2 ;;
    --project) project=$2; shift 2 ;;
    --sqlite) sqlite=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) echo "runtests.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
tf=$(cd "$tf" && pwd)
[ -x "$tf/testfixture-vlog" ] || { echo "runtests.sh: no $tf/testfixture-vlog" >&2; exit 2; }
mkdir -p "$runroot"
chmod 755 "$runroot"

list=$runroot/list
: > "$list"
for f in $project; do
  [ -f "$f" ] || continue
  if head -n 20 "$f" | grep -q '^# testfixture: plain'; then
    echo "$tf/testfixture $f root" >> "$list"
  else
    echo "$tf/testfixture-vlog $f root" >> "$list"
  fi
done
for pat in $sqlite; do
  for f in "$SQLITE_SRC"/test/$pat.test; do
    [ -f "$f" ] && echo "$tf/testfixture-vlog $f nobody" >> "$list"
  done
done

echo "running $(wc -l < "$list") test files, $jobs at a time"
results=$runroot/results
rm -f "$results.tmp"
xargs -P "$jobs" -L 1 "$0" --one < "$list" | while read -r tag name p f secs log; do
  [ "$tag" = RESULT ] || continue
  printf '%-34s %7d passed %4d failed %5ds\n' "$name" "$p" "$f" "$secs"
  if [ "$f" != 0 ]; then
    echo "---- $log (last 25 lines) ----"
    tail -n 25 "$log"
    echo "----"
  fi
  echo "$p $f" >> "$results.tmp"
done
mv "$results.tmp" "$results" 2>/dev/null || : > "$results"

npass=$(awk '{s+=$1} END {print s+0}' "$results")
nfail=$(awk '{s+=$2} END {print s+0}' "$results")
nfiles=$(wc -l < "$results")
[ "$nfiles" -eq "$(wc -l < "$list")" ] || { echo "some test files gave no result"; nfail=$((nfail + 1)); }
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
