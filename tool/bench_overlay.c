/*
** bench_overlay: writable overlays (URI base=) against the base opened
** directly and against cp (issue 16's benchmark, make bench-overlay).
**
**   bench_overlay --vlog SO [--mb N] [--reads N] [--dir DIR]
**
** The base is a plain SQLite database of at least N MiB (default 1024):
** t(id INTEGER PRIMARY KEY, v TEXT, w INTEGER) with an index on w, rows of
** about 200 bytes; made once in DIR and kept while its size is right.
** Then, each as a ratio or against its goal:
**   1. open a new overlay and run a first query (a point read), against
**      cp of the base to a new file (goal: at most 50 ms; cp for scale),
**      and the same on the overlay's reopen (its base's identity checked);
**   2. random point reads (N, default 200,000) through the untouched
**      overlay, against the same reads on the base opened directly on the
**      unix VFS, both after a warm-up pass (goal: at most 1.2x);
**   3. an update of 1% of the rows (random ids, 1,000 a transaction): the
**      overlay's file against the bytes of the pages it changed (its pages
**      in vlog_overlay times the page size; goal: at most 3x);
**   4. snapshots and branches, on a vlog database of a quarter of the
**      base's rows: vlog_snapshot() (against the database's size: O(1)),
**      a branch's open and first query, random point reads of the
**      database after 1% of its rows were updated over the snapshot
**      against the same reads before the snapshot (the cost of a layer
**      under the top), reads of the snapshot, and vlog_snapshot_drop()
**      (its merge);
**   5. many snapshots: 200 more taken, 50 random rows updated after each,
**      then random point reads against the same reads before the first
**      snapshot (pages read through up to 200 frozen layers: one lookup
**      under the top once the connection's layer map is made).
** The machine is shared: compare the ratios, not the seconds.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "sqlite3.h"

#define VFS_BENCH_SNAPS 200        /* part 5's snapshots */

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec/1e9;
}

static void die(sqlite3 *db, const char *zWhat){
  fprintf(stderr, "bench_overlay: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "error");
  exit(1);
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "bench_overlay: %s: %s\n", zSql, zErr ? zErr : "?");
    exit(1);
  }
}

static sqlite3_int64 one(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  sqlite3_int64 v = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0) ) die(db, zSql);
  if( sqlite3_step(p)==SQLITE_ROW ) v = sqlite3_column_int64(p, 0);
  sqlite3_finalize(p);
  return v;
}

static sqlite3 *openDb(const char *zUri){
  sqlite3 *db = 0;
  if( sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_URI, 0)!=SQLITE_OK ){
    die(db, zUri);
  }
  return db;
}

static sqlite3_int64 fileSize(const char *zPath, int bDisk){
  struct stat st;
  if( stat(zPath, &st) ) return 0;
  return bDisk ? (sqlite3_int64)st.st_blocks*512 : (sqlite3_int64)st.st_size;
}

/* a 32-bit LCG of our own: the same ids every run */
static unsigned int iRng = 12345;
static unsigned int rnd(void){
  iRng = iRng*1103515245u + 12345u;
  return iRng>>1;
}

/* The base: about nMb MiB of rows, made once. */
static sqlite3_int64 makeBase(const char *zBase, int nMb){
  sqlite3_int64 nRow = (sqlite3_int64)nMb*1024*1024/205;
  sqlite3 *db;
  sqlite3_stmt *p = 0;
  char zV[200];
  sqlite3_int64 i;
  sqlite3_int64 sz = fileSize(zBase, 0);
  if( sz>=(sqlite3_int64)nMb*1024*1024 && sz<(sqlite3_int64)nMb*1024*1024*6/5 ){
    db = openDb(zBase);
    nRow = one(db, "SELECT max(id) FROM t");
    sqlite3_close(db);
    if( nRow>0 ) return nRow;
  }
  unlink(zBase);
  printf("making the base: about %d MiB, %lld rows ...\n", nMb, (long long)nRow);
  fflush(stdout);
  db = openDb(zBase);
  exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
           "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w INTEGER);"
           "BEGIN");
  if( sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, ?2, ?3)", -1, &p, 0) ) die(db, "insert");
  for(i=1; i<=nRow; i++){
    int j, n = 150 + (int)(rnd()%50);
    for(j=0; j<n; j++) zV[j] = "abcdefghijklmnopqrstuvwxyz0123456789 "[rnd()%37];
    sqlite3_bind_int64(p, 1, i);
    sqlite3_bind_text(p, 2, zV, n, SQLITE_STATIC);
    sqlite3_bind_int64(p, 3, rnd());
    if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "insert");
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  exec(db, "COMMIT; CREATE INDEX tw ON t(w); PRAGMA journal_mode=DELETE");
  sqlite3_close(db);
  return nRow;
}

/* nRead random point reads on db (ids 1..nRow); seconds */
static double reads(sqlite3 *db, sqlite3_int64 nRow, int nRead, unsigned int iSeed){
  sqlite3_stmt *p = 0;
  double t0 = now();
  int i;
  sqlite3_int64 nLen = 0;
  iRng = iSeed;
  if( sqlite3_prepare_v2(db, "SELECT length(v) FROM t WHERE id=?1", -1, &p, 0) ) die(db, "read");
  exec(db, "BEGIN");
  for(i=0; i<nRead; i++){
    sqlite3_bind_int64(p, 1, 1 + (sqlite3_int64)(rnd() % (unsigned int)nRow));
    if( sqlite3_step(p)==SQLITE_ROW ) nLen += sqlite3_column_int(p, 0);
    sqlite3_reset(p);
  }
  exec(db, "COMMIT");
  sqlite3_finalize(p);
  if( nLen==0 ) die(db, "the reads found nothing");
  return now()-t0;
}

int main(int argc, char **argv){
  const char *zVlog = 0, *zDir = "bench-overlay";
  int nMb = 1024, nRead = 200000, i;
  char zBase[512], zOv[512], zCopy[512], zUri[1200], zCmd[1200];
  sqlite3_int64 nRow;
  sqlite3 *db;
  char *zErr = 0;
  double t0, rCp, rOpen, rReopen, rBase, rOver;
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--vlog")==0 && i+1<argc ) zVlog = argv[++i];
    else if( strcmp(argv[i], "--mb")==0 && i+1<argc ) nMb = atoi(argv[++i]);
    else if( strcmp(argv[i], "--reads")==0 && i+1<argc ) nRead = atoi(argv[++i]);
    else if( strcmp(argv[i], "--dir")==0 && i+1<argc ) zDir = argv[++i];
    else{
      fprintf(stderr, "usage: bench_overlay --vlog SO [--mb N] [--reads N] [--dir DIR]\n");
      return 2;
    }
  }
  if( zVlog==0 || nMb<1 || nRead<1 ){
    fprintf(stderr, "bench_overlay: --vlog SO is needed (and positive numbers)\n");
    return 2;
  }
  mkdir(zDir, 0755);
  snprintf(zBase, sizeof(zBase), "%s/base.db", zDir);
  snprintf(zOv, sizeof(zOv), "%s/overlay.db", zDir);
  snprintf(zCopy, sizeof(zCopy), "%s/copy.db", zDir);

  /* vlog registers its VFS for the process */
  if( sqlite3_open(":memory:", &db) ) die(db, "open");
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zVlog, "sqlite3_vlog_init", &zErr) ){
    fprintf(stderr, "bench_overlay: loading %s: %s\n", zVlog, zErr);
    return 1;
  }
  sqlite3_close(db);

  nRow = makeBase(zBase, nMb);
  printf("base: %.1f MiB, %lld rows, page size 4096\n",
         fileSize(zBase, 0)/1048576.0, (long long)nRow);

  /* 1. open and first query, against cp */
  unlink(zCopy);
  snprintf(zCmd, sizeof(zCmd), "cp '%s' '%s'", zBase, zCopy);
  t0 = now();
  if( system(zCmd)!=0 ){ fprintf(stderr, "bench_overlay: cp failed\n"); return 1; }
  rCp = now()-t0;
  unlink(zCopy);
  unlink(zOv);
  snprintf(zCmd, sizeof(zCmd), "%s-shm", zOv);
  unlink(zCmd);
  snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog&base=%s", zOv, zBase);
  t0 = now();
  db = openDb(zUri);
  if( one(db, "SELECT length(v) FROM t WHERE id=4242")<=0 ) die(db, "first query");
  rOpen = now()-t0;
  sqlite3_close(db);
  snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog", zOv);
  t0 = now();
  db = openDb(zUri);
  if( one(db, "SELECT length(v) FROM t WHERE id=4243")<=0 ) die(db, "first query");
  rReopen = now()-t0;
  sqlite3_close(db);

  /* 2. random point reads: the base directly, then the untouched overlay */
  db = openDb(zBase);
  (void)reads(db, nRow, nRead, 777);            /* warm-up */
  rBase = reads(db, nRow, nRead, 999);
  sqlite3_close(db);
  db = openDb(zUri);
  (void)reads(db, nRow, nRead, 777);
  rOver = reads(db, nRow, nRead, 999);

  printf("\n%-44s %12s %12s %8s\n", "overlay", "overlay", "against", "ratio");
  printf("%-44s %10.1f ms %10.1f ms %8s   goal <= 50 ms: %s\n",
         "1. new overlay: open + first query / cp",
         rOpen*1e3, rCp*1e3, "", rOpen<=0.050 ? "met" : "NOT met");
  printf("%-44s %10.1f ms\n", "   reopen (base identity checked) + query", rReopen*1e3);
  printf("%-44s %11.3f s %11.3f s %8.2f   goal <= 1.2: %s\n",
         "2. random point reads, untouched / base", rOver, rBase, rOver/rBase,
         rOver/rBase<=1.2 ? "met" : "NOT met");

  /* 3. update 1% of the rows */
  {
    sqlite3_stmt *p = 0;
    sqlite3_int64 nUpd = nRow/100, k, nPages, nOwn;
    double rRatio, rRatioDisk, rUpd;
    iRng = 4242;
    if( sqlite3_prepare_v2(db, "UPDATE t SET v=?1, w=?2 WHERE id=?3", -1, &p, 0) ) die(db, "update");
    t0 = now();
    for(k=0; k<nUpd; k++){
      char zV[200];
      int j, n = 150 + (int)(rnd()%50);
      if( k%1000==0 ) exec(db, "BEGIN");
      for(j=0; j<n; j++) zV[j] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rnd()%26];
      sqlite3_bind_text(p, 1, zV, n, SQLITE_STATIC);
      sqlite3_bind_int64(p, 2, rnd());
      sqlite3_bind_int64(p, 3, 1 + (sqlite3_int64)(rnd() % (unsigned int)nRow));
      if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "update");
      sqlite3_reset(p);
      if( k%1000==999 || k==nUpd-1 ) exec(db, "COMMIT");
    }
    sqlite3_finalize(p);
    rUpd = now()-t0;
    nOwn = one(db, "SELECT pages_own FROM vlog_overlay('main')");
    nPages = one(db, "PRAGMA page_count");
    sqlite3_close(db);
    rRatio = (double)fileSize(zOv, 0)/(double)(nOwn*4096);
    rRatioDisk = (double)fileSize(zOv, 1)/(double)(nOwn*4096);
    printf("%-44s %9.1f MiB %9.1f MiB %8.2f   goal <= 3: %s\n",
           "3. 1% of rows updated: overlay file / pages", fileSize(zOv, 0)/1048576.0,
           nOwn*4096/1048576.0, rRatio, rRatio<=3.0 ? "met" : "NOT met");
    printf("%-44s %9.1f MiB %12s %8.2f\n", "   overlay on disk (blocks) / pages",
           fileSize(zOv, 1)/1048576.0, "", rRatioDisk);
    printf("   (%lld rows updated in %.2f s; they changed %lld of the %lld pages)\n",
           (long long)nUpd, rUpd, (long long)nOwn, (long long)nPages);
  }

  /* 4. snapshots and branches */
  {
    char zApp[512], zBr[512];
    sqlite3_int64 nApp = nRow/4, k, nMerged;
    double rSnap, rBrOpen, rPre, rPost, rSnapRead, rDrop;
    double rManyTake, rManyFirst, rMany;
    sqlite3_stmt *p = 0;
    snprintf(zApp, sizeof(zApp), "%s/app.db", zDir);
    snprintf(zBr, sizeof(zBr), "%s/branch.db", zDir);
    unlink(zApp); unlink(zBr);
    snprintf(zCmd, sizeof(zCmd), "%s-shm", zApp); unlink(zCmd);
    snprintf(zCmd, sizeof(zCmd), "%s-shm", zBr); unlink(zCmd);
    snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog", zApp);
    db = openDb(zUri);
    snprintf(zCmd, sizeof(zCmd), "ATTACH '%s' AS b", zBase);
    exec(db, zCmd);
    exec(db, "PRAGMA page_size=4096");
    exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w INTEGER)");
    snprintf(zCmd, sizeof(zCmd), "INSERT INTO t SELECT * FROM b.t WHERE id<=%lld",
             (long long)nApp);
    exec(db, zCmd);
    exec(db, "CREATE INDEX tw ON t(w)");
    exec(db, "DETACH b");
    (void)reads(db, nApp, nRead, 777);
    rPre = reads(db, nApp, nRead, 999);
    t0 = now();
    exec(db, "SELECT vlog_snapshot('main', 'bench')");
    rSnap = now()-t0;
    iRng = 4343;
    if( sqlite3_prepare_v2(db, "UPDATE t SET v=?1 WHERE id=?2", -1, &p, 0) ) die(db, "update");
    for(k=0; k<nApp/100; k++){
      if( k%1000==0 ) exec(db, "BEGIN");
      sqlite3_bind_text(p, 1, "updated over the snapshot", -1, SQLITE_STATIC);
      sqlite3_bind_int64(p, 2, 1 + (sqlite3_int64)(rnd() % (unsigned int)nApp));
      if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "update");
      sqlite3_reset(p);
      if( k%1000==999 || k==nApp/100-1 ) exec(db, "COMMIT");
    }
    sqlite3_finalize(p);
    (void)reads(db, nApp, nRead, 777);
    rPost = reads(db, nApp, nRead, 999);
    sqlite3_close(db);
    snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog&snapshot=bench", zApp);
    db = openDb(zUri);
    (void)reads(db, nApp, nRead, 777);
    rSnapRead = reads(db, nApp, nRead, 999);
    sqlite3_close(db);
    snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog&base=%s&base_snapshot=bench", zBr, zApp);
    t0 = now();
    db = openDb(zUri);
    if( one(db, "SELECT length(v) FROM t WHERE id=4242")<=0 ) die(db, "branch query");
    rBrOpen = now()-t0;
    sqlite3_close(db);
    snprintf(zUri, sizeof(zUri), "file:%s?vfs=vlog", zApp);
    db = openDb(zUri);
    t0 = now();
    nMerged = one(db, "SELECT vlog_snapshot_drop('main', 'bench')");
    rDrop = now()-t0;
    /* 5. many snapshots */
    {
      int j;
      iRng = 9191;
      if( sqlite3_prepare_v2(db, "UPDATE t SET v=?1 WHERE id=?2", -1, &p, 0) ) die(db, "update");
      t0 = now();
      for(j=0; j<VFS_BENCH_SNAPS; j++){
        char zSql[64];
        snprintf(zSql, sizeof(zSql), "SELECT vlog_snapshot('main', 'many%d')", j);
        exec(db, zSql);
        exec(db, "BEGIN");
        for(k=0; k<50; k++){
          sqlite3_bind_text(p, 1, "updated between snapshots", -1, SQLITE_STATIC);
          sqlite3_bind_int64(p, 2, 1 + (sqlite3_int64)(rnd() % (unsigned int)nApp));
          if( sqlite3_step(p)!=SQLITE_DONE ) die(db, "update");
          sqlite3_reset(p);
        }
        exec(db, "COMMIT");
      }
      rManyTake = now()-t0;
      sqlite3_finalize(p);
      sqlite3_close(db);
      db = openDb(zUri);
      t0 = now();
      (void)reads(db, nApp, nRead, 777);
      rManyFirst = now()-t0;
      rMany = reads(db, nApp, nRead, 999);
    }
    sqlite3_close(db);
    printf("\n%-44s %12s %12s %8s\n", "snapshots and branches", "", "against", "ratio");
    printf("%-44s %10.1f ms %9.1f MiB\n", "4. vlog_snapshot() / database size",
           rSnap*1e3, fileSize(zApp, 0)/1048576.0);
    printf("%-44s %10.1f ms\n", "   branch: open + first query", rBrOpen*1e3);
    printf("%-44s %11.3f s %11.3f s %8.2f\n",
           "   point reads, 1% written over it / before", rPost, rPre, rPost/rPre);
    printf("%-44s %11.3f s %11.3f s %8.2f\n",
           "   point reads of the snapshot / before", rSnapRead, rPre, rSnapRead/rPre);
    printf("%-44s %10.1f ms   (%lld pages merged)\n", "   vlog_snapshot_drop()",
           rDrop*1e3, (long long)nMerged);
    printf("%-44s %10.1f ms\n", "5. 200 snapshots, 50 updates after each",
           rManyTake*1e3);
    printf("%-44s %11.3f s %11.3f s %8.2f\n",
           "   point reads over them / before", rMany, rPre, rMany/rPre);
    printf("%-44s %11.3f s %11.3f s %8.2f\n",
           "   first pass (the map made in it) / before", rManyFirst, rPre,
           rManyFirst/rPre);
  }
  return 0;
}
