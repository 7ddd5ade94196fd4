-- demo.sql: what vlog does so far, run by `make demo` in the sqlite3 shell
-- after `.load ./vlog`.
.headers on
.mode box
.print
.print '-- vlog is loaded: the versions it runs with'
SELECT vlog_version() AS "vlog_version()";
SELECT vlog_version('vlog') AS vlog, vlog_version('zstd') AS zstd,
       vlog_version('xxhash') AS xxhash, vlog_version('sqlite') AS sqlite;
.print
.print '-- bad arguments are errors with a message, never a crash:'
.print "--   SELECT vlog_version('zlib');"
.bail off
SELECT vlog_version('zlib');
.print
.print '-- Coming next: the vlog storage engine, the vlog virtual table and'
.print '-- the vlog VFS (see README.md, "Status").'
.mode list
.headers off
