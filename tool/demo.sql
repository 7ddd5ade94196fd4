-- demo.sql: what vlog does so far, run by `make demo` in the sqlite3 shell
-- after `.load ./vlog`, on build/demo.db (its store: build/demo.vlog), with
-- build/demo-app.db on the vlog VFS (with a snapshot, and demo-branch.db a
-- branch of it) and build/demo-work.db an overlay of a
-- plain copy of it.
.headers on
.mode box
.print
.print '-- vlog is loaded: the versions it runs with'
SELECT vlog_version() AS "vlog_version()";
.print
.print '-- A vlog table: values longer than 64 bytes go to the value log,'
.print '-- compressed with zstd.'
CREATE VIRTUAL TABLE docs USING vlog(file='demo.vlog', key='integer',
                                     inline_max=64, zstd_level=3);
.print '-- Loading 300,000 rows of generated text...'
.timer on
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300000),
words(w) AS (SELECT 'the value log keeps large values out of the tree, writes them once in frames compressed together, and counts what is live and what is stale in every segment so that maintenance can reclaim it later without scanning anything ')
INSERT INTO docs
  SELECT i, printf('doc %d: %s%s', i,
                   substr(w, 1 + (i*37)%120, 80 + i%90),
                   substr(w, 1 + (i*11)%100, 60 + i%70))
  FROM n, words;
.timer off
SELECT count(*) AS rows, sum(length(value)) AS value_bytes FROM docs;
SELECT key, value FROM docs WHERE key IN (1, 150000, 300000);
.print
.print '-- Overwriting a third of them makes part of the value log stale:'
.timer on
UPDATE docs SET value = value || ' (revised)' WHERE key % 3 = 0;
.timer off
.print
.print '-- vlog_segments: one row per value-log segment (first ten and a total)'
SELECT id, state, bytes_total, bytes_live, bytes_stale,
       printf('%.2f', stale_ratio) AS stale_ratio, records
  FROM vlog_segments('docs') LIMIT 10;
SELECT count(*) AS segments, sum(bytes_total) AS total, sum(bytes_live) AS live,
       sum(bytes_stale) AS stale FROM vlog_segments('docs');
.print
.print '-- vlog_stats: what the store did'
SELECT name, value FROM vlog_stats('docs')
 WHERE name IN ('commits', 'value_bytes_written_raw', 'value_bytes_written_disk',
                'compression_ratio', 'value_bytes_live', 'value_bytes_stale',
                'write_amplification', 'file_bytes', 'journal_bytes');
.print
.print '-- vlog_verify: a full consistency check (live bytes recounted)'
.mode list
.headers off
SELECT vlog_verify('docs');
.print
.print '-- The vlog VFS: an ordinary SQLite database (demo-app.db) stored in a'
.print '-- store, its pages compressed'
ATTACH 'file:demo-app.db?vfs=vlog' AS app;
CREATE TABLE app.orders(id INTEGER PRIMARY KEY, customer TEXT, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<50000)
INSERT INTO app.orders
  SELECT i, 'customer ' || (i % 500), printf('order %d of the demo, shipped', i) FROM n;
.mode box
.headers on
SELECT name, pages, logical_bytes, stored_bytes, printf('%.2f', ratio) AS ratio
  FROM vlog_files('app');
.print
.print '-- An overlay: demo-work.db, a writable database over a plain copy'
.print '-- (demo-base.db), made in O(1); only the pages it writes are its own'
VACUUM app INTO 'file:demo-base.db?vfs=unix';
ATTACH 'file:demo-work.db?vfs=vlog&base=demo-base.db' AS work;
UPDATE work.orders SET note = 'changed in the overlay' WHERE id <= 10;
SELECT (SELECT count(*) FROM work.orders) AS rows, pages_from_base, pages_own,
       own_bytes FROM vlog_overlay('work');
.print
.print '-- A snapshot of demo-app.db in O(1), then 5% of its orders changed: the'
.print '-- snapshot keeps what they were; a branch of it (demo-branch.db) is writable'
SELECT vlog_snapshot('app', 'nightly') AS snapshot;
UPDATE app.orders SET note = 'after the snapshot' WHERE id % 20 = 0;
ATTACH 'file:demo-app.db?vfs=vlog&snapshot=nightly' AS night;
ATTACH 'file:demo-branch.db?vfs=vlog&base=demo-app.db&base_snapshot=nightly' AS branch;
DELETE FROM branch.orders WHERE id > 100;
SELECT (SELECT count(*) FROM app.orders WHERE note LIKE 'after%') AS changed_now,
       (SELECT count(*) FROM night.orders WHERE note LIKE 'after%') AS changed_in_snapshot,
       (SELECT count(*) FROM branch.orders) AS branch_rows,
       name, pinned_pages, pinned_bytes FROM vlog_snapshots('app');
.print
.print "-- Try: SELECT * FROM vlog_btree('docs');  SELECT vlog_checkpoint('docs');"
.print "--      SELECT vlog_materialize('work');  SELECT * FROM vlog_overlay('work');"
.mode box
.headers on
