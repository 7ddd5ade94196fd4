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
#   --sqlite-vfs PATS  SQLite's own test files (patterns, or @FILE: a file
#                   of names) run with the vlog VFS as the default VFS
#                   (VLOG_DEFAULT_VFS=1, test/test_vlog.c).  A case that
#                   fails there counts as failed unless test/vfs-known-
#                   failures.txt lists it (FILE CASE-PATTERN REASON), and a
#                   file listed there with the case pattern "-" is not run.
#   --jobs N        parallel test files (default 2)
#
# Every file runs in its own scratch folder under $VLOG_BUILD/testrun.  The
# last line is "N passed, N failed"; the exit status is non-zero on any
# failure.  A file that dies before tester.tcl's summary counts as one
# failed case.
set -u
set -o pipefail

tf=; project=; sqlite=; sqlitevfs=; jobs=2
: "${VLOG_BUILD:?}" "${SQLITE_SRC:?}"
runroot=$VLOG_BUILD/testrun
per_file_timeout=${VLOG_TEST_TIMEOUT:-1800}

known=${VLOG_TOP:-.}/test/vfs-known-failures.txt

# --one FIXTURE FILE USER [vfs]: run one file, print "RESULT name passed
# failed secs log".
if [ "${1:-}" = --one ]; then
  fixture=$2 file=$3 asuser=$4 mode=${5:-}
  name=$(basename "$file" .test)
  case "$file" in "$SQLITE_SRC"/*) kind=sqlite ;; *) kind=vlog ;; esac
  envv=()
  if [ "$mode" = vfs ]; then kind=vfs; envv=(VLOG_DEFAULT_VFS=1); fi
  dir=$runroot/$kind/$name
  rm -rf "$dir"; mkdir -p "$dir"
  run=()
  if [ "$asuser" = nobody ] && [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$dir"
    run=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$dir")
  fi
  t0=$(date +%s)
  # on the VFS, cases known to fail (vfs-known-failures.txt) must not use
  # up tester.tcl's 1000 errors before the rest of the file runs (walfault:
  # walfault-13.* alone fail 1000 times; walcrash2: walcrash2-1.[12]*).  Only where needed: tester.tcl
  # parses its arguments with a global "foreach a $argv", and files that
  # use an array a (wal2) break on the scalar it leaves.
  args=()
  if [ "$mode" = vfs ] && { [ "$name" = walfault ] || [ "$name" = walcrash2 ]; }; then
    args=(--maxerror=100000)
  fi
  (cd "$dir" && "${run[@]}" env "${envv[@]}" timeout "$per_file_timeout" \
     "$fixture" "$file" "${args[@]}") >"$dir/output.log" 2>&1
  rc=$?
  t1=$(date +%s)
  line=$(grep -aE '^[0-9]+ errors out of [0-9]+ tests' "$dir/output.log" | tail -n 1)
  if [ -n "$line" ]; then
    nerr=$(echo "$line" | awk '{print $1}')
    ntest=$(echo "$line" | awk '{print $5}')
    passed=$((ntest - nerr)); failed=$nerr
    if [ "$rc" != 0 ] && [ "$nerr" = 0 ]; then failed=1; fi
  else
    passed=0; failed=1
  fi
  if [ "$kind" = vfs ] && [ -n "$line" ]; then
    # the cases test/vfs-known-failures.txt explains are not failures
    nknown=0
    for c in $(grep -aE '^!Failures on these tests:' "$dir/output.log" | tail -n 1 \
               | sed 's/^!Failures on these tests://'); do
      while read -r kf kpat _; do
        [ "$kf" = "$name" ] || continue
        # shellcheck disable=SC2254
        case "$c" in $kpat) nknown=$((nknown + 1)); echo "known: $c" >> "$dir/known.log"; break ;; esac
      done < <(grep -v '^#' "$known")
    done
    failed=$((failed - nknown))
    [ "$rc" != 0 ] && [ "$failed" = 0 ] && [ "$nknown" = 0 ] && failed=1
    passed=$((passed + nknown))
  fi
  echo "RESULT $kind/$name $passed $failed $((t1 - t0)) $dir/output.log"
  exit 0
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --tf) tf=$2; shift 2 ;;
    --project) project=$2; shift 2 ;;
    --sqlite) sqlite=$2; shift 2 ;;
    --sqlite-vfs) sqlitevfs=$2; shift 2 ;;
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

if [ "${sqlitevfs#@}" != "$sqlitevfs" ]; then
  sqlitevfs=$(grep -v '^#' "${sqlitevfs#@}")
fi
for pat in $sqlitevfs; do
  for f in "$SQLITE_SRC"/test/$pat.test; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .test)
    if grep -qE "^$n +- " "$known"; then continue; fi
    echo "$tf/testfixture-vlog $f nobody vfs" >> "$list"
  done
done

echo "running $(wc -l < "$list") test files, $jobs at a time"
results=$runroot/results
rm -f "$results.tmp" "$runroot/failed.tmp"
xargs -P "$jobs" -L 1 "$0" --one < "$list" | while read -r tag name p f secs log; do
  [ "$tag" = RESULT ] || continue
  printf '%-34s %7d passed %4d failed %5ds\n' "$name" "$p" "$f" "$secs"
  if [ "$f" != 0 ]; then
    echo "---- $log (last 25 lines) ----"
    tail -n 25 "$log"
    echo "----"
    echo "$name $log" >> "$runroot/failed.tmp"
  fi
  echo "$p $f" >> "$results.tmp"
done
mv "$results.tmp" "$results" 2>/dev/null || : > "$results"

# the failures again, last: a CI log shows only its tail
if [ -s "$runroot/failed.tmp" ]; then
  echo "==== failed files ===="
  while read -r name log; do
    echo "-- $name: $log"
    grep -aE '^! |^!Failures on these tests:|^Error|^Time: ' "$log" | cut -c1-300 | head -n 20
    tail -n 3 "$log"
  done < "$runroot/failed.tmp"
  rm -f "$runroot/failed.tmp"
fi

npass=$(awk '{s+=$1} END {print s+0}' "$results")
nfail=$(awk '{s+=$2} END {print s+0}' "$results")
nfiles=$(wc -l < "$results")
[ "$nfiles" -eq "$(wc -l < "$list")" ] || { echo "some test files gave no result"; nfail=$((nfail + 1)); }
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
