#!/bin/bash
# bench_vfs.sh SPEEDTEST1 BENCH_KV VLOG_SO DIR [SIZE [ROWS [CHURN_ROWS]]]:
# make bench-vfs, the vlog VFS against the unix VFS in one run.  This
# machine is shared: compare the ratios, not the seconds.
#
#  1. SQLite's speedtest1 (--size SIZE, default 400) on a new database on
#     each VFS: total time and file size (the vlog store also after a
#     checkpoint and a full maintenance pass, which speedtest1's workload
#     never runs).  Goals: time at most 1.2x, file at most 0.6x.  Then
#     the same in WAL mode (--journal wal), time and file, for the record.
#  2. bench_kv's random and text loads (ROWS rows, default 100000) on an
#     ordinary rowid table with a unique index, journal_mode=DELETE and
#     synchronous=NORMAL, on each VFS (engines rowid-del and rowid-vfs).
#  3. Update churn: CHURN_ROWS rows (default 50000, about 230 bytes of
#     hex text each), then 10 rounds that rewrite 20% of the rows each, in
#     transactions of 200 rows, with the automatic maintenance vlog does
#     after commits (nothing run by hand).  Goal: the store on disk at the
#     end (allocated blocks: GC punches holes in free buckets) at most 1.3x
#     the live data, as sqlite3_analyzer counts it (dbstat: the pages in
#     use); its apparent size and its ratio to the live pages compressed
#     (vlog_files.stored_bytes) are printed too.
#  4. Live bytes as sqlite3_analyzer counts them (dbstat: the payload of
#     every cell, and the pages in use) against the bytes the store needs
#     for them, compressed, at the end of 3.
set -eu
st=$1 kv=$2 so=$3 dir=$4 size=${5:-400} rows=${6:-100000} crows=${7:-50000}
mkdir -p "$dir"
sq() {    # sq DB-URI SQL...: the sqlite3 shell with vlog loaded
  local db=$1; shift
  sqlite3 -batch -cmd ".load $so" -cmd ".open $db" ":memory:" "$@"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b>0 ? a/b : 0) }'; }

#-------------------------------------------------------------------------
echo "== 1. speedtest1 --size $size =="
ondisk() { echo $(( $(stat -c '%b * %B' "$1") )); }
run() {   # run VFS FILE: prints "SECONDS BYTES ALLOCATED"
  local vfs=$1 db=$2
  rm -f "$db" "$db"-*
  local t
  t=$("$st" --size "$size" --vfs "$vfs" "$db" 2>&1 | awk '/TOTAL/ {print $NF}')
  t=${t%s}
  echo "$t $(stat -c %s "$db") $(ondisk "$db")"
}
read -r tu su du < <(run unix "$dir/unix.db")
read -r tv sv dv < <(run vlog "$dir/vlog.db")
# the store's size once its stale page versions are reclaimed
sq "file:$dir/vlog.db?vfs=vlog" \
  "SELECT vlog_checkpoint('main'); SELECT vlog_maintain('main','full');" >/dev/null
sv2=$(stat -c %s "$dir/vlog.db") dv2=$(ondisk "$dir/vlog.db")
printf '%-28s %10s %14s %14s\n' "speedtest1 --size $size" "seconds" "file bytes" "on disk"
printf '%-28s %10s %14s %14s\n' "unix VFS" "$tu" "$su" "$du"
printf '%-28s %10s %14s %14s\n' "vlog VFS" "$tv" "$sv" "$dv"
printf '%-28s %10s %14s %14s\n' "vlog VFS after maintenance" "" "$sv2" "$dv2"
rt=$(ratio "$tv" "$tu"); rf=$(ratio "$sv" "$su")
echo "ratios vlog/unix: time $rt, file $rf, on disk $(ratio "$dv" "$du")" \
     "(after maintenance: file $(ratio "$sv2" "$su"), on disk $(ratio "$dv2" "$du"))"
awk -v t="$rt" -v f="$rf" 'BEGIN {
  printf "goal: time at most 1.20x: %s; file at most 0.60x: %s\n",
    (t<=1.2 ? "met" : "MISSED"), (f<=0.6 ? "met" : "MISSED") }'
echo "(file: the size ls shows; on disk: allocated blocks, without the free"
echo " buckets inside the store, whose blocks vlog punches out)"
rm -f "$dir/unix.db" "$dir"/unix.db-*

# the same in WAL mode (pages go to the -wal, then to the store at each
# checkpoint: written twice on both VFSes)
runwal() {   # runwal VFS FILE: prints "SECONDS BYTES"
  local vfs=$1 db=$2
  rm -f "$db" "$db"-*
  local t
  t=$("$st" --size "$size" --journal wal --vfs "$vfs" "$db" 2>&1 | awk '/TOTAL/ {print $NF}')
  t=${t%s}
  echo "$t $(stat -c %s "$db")"
}
read -r twu swu < <(runwal unix "$dir/unix.db")
read -r twv swv < <(runwal vlog "$dir/vlog.db")
printf '%-28s %10s %14s\n' "speedtest1 WAL mode" "seconds" "file bytes"
printf '%-28s %10s %14s\n' "unix VFS" "$twu" "$swu"
printf '%-28s %10s %14s\n' "vlog VFS" "$twv" "$swv"
echo "ratios vlog/unix in WAL mode: time $(ratio "$twv" "$twu"), file $(ratio "$swv" "$swu")"
rm -f "$dir/unix.db" "$dir"/unix.db-* "$dir/vlog.db" "$dir"/vlog.db-*

#-------------------------------------------------------------------------
echo
echo "== 2. bench_kv loads on a rowid table, unix VFS vs vlog VFS =="
"$kv" --vlog "$so" --dir "$dir/kv" --engines rowid-del,rowid-vfs \
  --workloads random,text --rows "$rows" | sed -n '/^== /,$p'

#-------------------------------------------------------------------------
echo
echo "== 3. update churn: $crows rows, 10 rounds rewriting 20% of them =="
churn_sql() {
  echo "PRAGMA journal_mode=DELETE; PRAGMA synchronous=NORMAL;"
  echo "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
  echo "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<$crows)"
  echo "INSERT INTO t SELECT i, printf('%08d ', i) || hex(randomblob(110)) FROM c;"
  local r lo
  for r in 0 1 2 3 4 5 6 7 8 9; do
    for ((lo=1; lo<=crows; lo+=1000)); do
      echo "UPDATE t SET v=printf('%08d %d ', id, $r) || hex(randomblob(110))"
      echo "  WHERE id BETWEEN $lo AND $((lo+999)) AND id%5=$((r%5));"
    done
  done
}
churn_sql > "$dir/churn.sql"
churn() {   # churn URI FILE: prints "SECONDS APPARENT ALLOCATED"
  local uri=$1 f=$2 t0 t1
  rm -f "$f" "$f"-*
  t0=$(date +%s.%N)
  sq "$uri" ".read $dir/churn.sql" >/dev/null
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b-a }')" \
       "$(stat -c %s "$f") $(( $(stat -c '%b * %B' "$f") ))"
}
read -r cu fu du < <(churn "file:$dir/cu.db" "$dir/cu.db")
read -r cv fv dv < <(churn "file:$dir/cv.db?vfs=vlog" "$dir/cv.db")
live=$(sq "file:$dir/cv.db?vfs=vlog" "SELECT stored_bytes FROM vlog_files('main')")
read -r payload used pgsz < <(sq "file:$dir/cv.db?vfs=vlog" \
  "SELECT sum(payload), count(*), (SELECT page_size FROM pragma_page_size) FROM dbstat" \
  | tr '|' ' ')
pages=$((used*pgsz))
printf '%-36s %9s %14s %14s\n' "churn" "seconds" "file bytes" "on disk"
printf '%-36s %9s %14s %14s\n' "unix VFS" "$cu" "$fu" "$du"
printf '%-36s %9s %14s %14s\n' "vlog VFS" "$cv" "$fv" "$dv"
printf '%-36s %9s %14s\n' "live data: pages in use (dbstat)" "" "$pages"
printf '%-36s %9s %14s\n' "live pages compressed (vlog_files)" "" "$live"
rl=$(ratio "$dv" "$pages")
echo "ratios vlog/unix: time $(ratio "$cv" "$cu"), on disk $(ratio "$dv" "$du")"
echo "the store on disk / the live data: $rl (goal at most 1.30: $(awk -v r="$rl" 'BEGIN { print (r<=1.3 ? "met" : "MISSED") }'));" \
     "its file size / the live data: $(ratio "$fv" "$pages");" \
     "on disk / the live pages compressed: $(ratio "$dv" "$live")"

#-------------------------------------------------------------------------
echo
echo "== 4. live bytes (sqlite3_analyzer's count, dbstat) against the store =="
echo "payload of every cell (the data itself):  $payload bytes"
echo "pages in use x page size:                 $pages bytes"
echo "vlog store, those pages compressed:       $live bytes ($(ratio "$live" "$payload")x the payload, $(ratio "$live" "$pages")x the pages)"
echo "vlog store on disk at the end:            $dv bytes ($(ratio "$dv" "$payload")x the payload)"
echo "unix VFS file on disk at the end:         $du bytes ($(ratio "$du" "$payload")x the payload)"
rm -f "$dir"/cu.db "$dir"/cu.db-* "$dir"/cv.db "$dir"/cv.db-* "$dir/churn.sql"
