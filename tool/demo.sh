#!/bin/sh
# demo.sh MAKEDIR: open the sqlite3 shell on a demo database with vlog loaded,
# after running tool/demo.sql to show what works so far.  In a terminal the
# shell stays open for you to try things; otherwise it exits after the demo.
set -eu
dir=$(cd "${1:-.}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/build"
db=$dir/build/demo.db
rm -f "$db" "$dir/build/demo.vlog" "$dir"/build/demo-app.db* \
      "$dir"/build/demo-base.db "$dir"/build/demo-work.db* \
      "$dir"/build/demo-branch.db*
if [ -t 0 ]; then
  echo "vlog demo: sqlite3 shell on $db with vlog loaded (.quit to leave)"
fi
cd "$dir/build"
exec sqlite3 -cmd ".load $dir/vlog" -cmd ".read $top/tool/demo.sql" "$db"
