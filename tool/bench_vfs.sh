#!/bin/bash
# bench_vfs.sh SPEEDTEST1 DIR [SIZE]: make bench-vfs.  SQLite's speedtest1
# (--size SIZE, default 400) once on the unix VFS and once on the vlog VFS,
# in one run, each on a new database in DIR; prints each run's total time
# and file size (the vlog store after a final checkpoint and full
# maintenance pass, which speedtest1's own workload does not run) and the
# ratios vlog/unix.  This machine is shared: compare the ratios, not the
# seconds.
set -eu
st=$1 dir=$2 size=${3:-400}
mkdir -p "$dir"
run() {   # run VFS FILE: prints "SECONDS BYTES"
  local vfs=$1 db=$2
  rm -f "$db" "$db"-*
  local t
  t=$("$st" --size "$size" --vfs "$vfs" "$db" 2>&1 | awk '/TOTAL/ {print $NF}')
  t=${t%s}
  echo "$t $(stat -c %s "$db")"
}
read -r tu su < <(run unix "$dir/unix.db")
read -r tv sv < <(run vlog "$dir/vlog.db")
# the store's size once its stale page versions are reclaimed
sqlite3 -cmd ".load $(dirname "$0")/../vlog" -cmd ".open file:$dir/vlog.db?vfs=vlog" \
  ":memory:" "SELECT vlog_checkpoint('main'); SELECT vlog_maintain('main','full');" >/dev/null
sv2=$(stat -c %s "$dir/vlog.db")
printf '%-28s %10s %14s\n' "speedtest1 --size $size" "seconds" "file bytes"
printf '%-28s %10s %14s\n' "unix VFS" "$tu" "$su"
printf '%-28s %10s %14s\n' "vlog VFS" "$tv" "$sv"
printf '%-28s %10s %14s\n' "vlog VFS after maintenance" "" "$sv2"
awk -v tu="$tu" -v tv="$tv" -v su="$su" -v sv="$sv" -v sv2="$sv2" 'BEGIN {
  printf "ratios vlog/unix: time %.2f, file %.2f (%.2f after maintenance)\n",
    tv/tu, sv/su, sv2/su }'
