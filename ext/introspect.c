/*
** introspect.c: the engine's state as SQL tables, and the SQL functions
** that steer its maintenance.
**
** COMPILING
**   Part of vlog.so and libvlog.a (make).  Needs ext/vtab.c, which keeps
**   the stores a connection has open (the VStore registry, ext/registry.c).
**
** LOADING
**   Registered with every connection vlog is loaded into
**   (vlogIntrospectRegister(), called from sqlite3_vlog_init()).
**
** USING
**   Three eponymous, read-only virtual tables.  Each takes one optional
**   argument, STORE, as a table-valued function:
**
**     SELECT * FROM vlog_segments('kv');         -- the store of table kv
**     SELECT * FROM vlog_stats('data/kv.vlog');  -- a store file, by path
**     SELECT * FROM vlog_btree;                  -- every store open here
**
**   STORE is the name of a vlog table of the main schema, else the path
**   (relative to the working directory) of a store file.  A store file
**   that no vlog table of the connection has opened is opened (never
**   created) for the statement.  Without the argument, the table holds the rows of every
**   store the connection has open, and the column `store` (the store's
**   full path) tells whose each row is.  An unknown table or a path that
**   is not a store is an SQL error naming the argument; so is an error of
**   the engine (I/O, corruption), with the engine's message.
**
**   The argument is also the hidden column `arg`, so that the two forms
**   below are the same and a join can feed it row by row:
**
**     SELECT * FROM vlog_stats WHERE arg='kv';
**     SELECT * FROM vlog_stats WHERE arg IN ('kv', 'kv2');   -- one by one
**     SELECT s.name, g.* FROM sqlite_schema AS s, vlog_segments(s.name) AS g
**      WHERE s.sql LIKE '%USING vlog%';
**
**   vlog_stats(store, name, value, scope)
**     One row per figure of the engine (vlogStats()).  scope says whose:
**     'connection' for counters of this connection's handle on the store
**     since it opened it (commits, checkpoints, node_reads,
**     node_cache_hits, frame_reads, value_bytes_written_raw, ...), their
**     ratios (write_amplification, compression_ratio) and its file map
**     (mmap_bytes: bytes of the store file this connection reads through
**     a memory map; 0 when every read is a system call); 'store' for
**     figures of the store itself, the same from every connection
**     (segments, value_bytes_live, value_bytes_stale, journal_bytes,
**     checkpoint_sequence, file_bytes, bucket_size, node_size,
**     dictionary_in_use).  README.md lists every name.  value is an
**     INTEGER when it is a whole number, else a REAL.
**
**   vlog_segments(store, id, state, kind, bytes_total, bytes_live,
**                 bytes_stale, stale_ratio, records, bytes_disk,
**                 created_seq, created_at, sealed_seq, sealed_at,
**                 generation, bytes_to_compress, dictionary_low,
**                 dictionary_high)
**     One row per segment of the value log (vlogSegments()):
**       id           segment id (the number of its bucket)
**       state        'open' (being appended to) or 'sealed'
**       kind         what the segment holds, as its accounting record
**                    says: 'value' (values commits wrote) or 'rewrite'
**                    (live records maintenance moved there; issue 14)
**       bytes_total  bytes of records ever appended
**       bytes_live   bytes of records still referenced by a key
**       bytes_stale  bytes_total - bytes_live: what a rewrite reclaims
**       stale_ratio  bytes_stale / bytes_total (0.0 when empty)
**       records      records appended
**       bytes_disk   bytes of the bucket in use (compressed frames)
**       created_seq, created_at   commit sequence and time (UTC, ISO-8601
**                    'YYYY-MM-DDTHH:MM:SS.ffffffZ', to the microsecond) of
**                    the first append
**       sealed_seq, sealed_at     the same for sealing; NULL while open
**       generation   the bucket's generation as a segment: it goes up each
**                    time a bucket becomes a segment again, and every value
**                    pointer and frame carries it
**       bytes_to_compress  bytes of records a commit wrote raw because the
**                    store's background_compression setting left their
**                    compression to maintenance; a sealed segment with
**                    some is a candidate of an explicit vlog_maintain()
**       dictionary_low, dictionary_high   the lowest and highest id of the
**                    zstd dictionaries its frames were compressed with;
**                    NULL when none was (GC drops a dictionary no
**                    segment's range holds)
**
**   vlog_btree(store, tree, table_name, level, nodes, keys, bsets, bytes,
**              fill)
**     One row per level of each B-tree of the store (vlogTreeLevels()),
**     level 0 the leaves.  Trees below 16 are the engine's own, 16 is the
**     catalog of the store's vlog tables, each table has one above.
**     table_name names the tree's owner: the engine's trees 'roots',
**     'buckets', 'segments', 'dictionaries'; 'catalog'; a vlog table's
**     name as the catalog has it (NULL for a tree it does not list).  nodes,
**     keys and bsets are counts, bytes the live bytes of the level's
**     nodes, fill = bytes / (nodes * node size).  It reads every node:
**     a full scan of the store.
**
**   SQL functions:
**
**     vlog_checkpoint(STORE)
**       Checkpoints the store (vlogCheckpoint()): its trees are written to
**       the file and its journal is trimmed.  Returns the store's
**       checkpoint sequence afterwards (vlog_stats' checkpoint_sequence),
**       which every checkpoint increments.  Not inside a transaction that
**       has written to the store.
**
**     vlog_verify(STORE)
**       Checks the store's consistency (vlogVerify()) and returns the
**       report, which ends with the line "ok".  An inconsistent store is
**       an error with the engine's message and the code SQLITE_CORRUPT.
**       Not inside a transaction that has written to the store: it checks
**       what the file holds.
**
**   For both, STORE is as above and is required: NULL or a value that is
**   not text is an error.
**
**   The tables and functions can open any store file by path and write
**   to it, so they are SQLITE_VTAB_DIRECTONLY / SQLITE_DIRECTONLY, as
**   SQLite's dbstat is: usable in statements, never from a view or a
**   trigger in a database's schema.
**
** DESIGN NOTE
**   The three tables share one implementation: a table is a row of aTable[]
**   (its schema, the engine call that loads its rows, the function that
**   reads a column of a row).  A cursor holds the stores it reads (one for
**   the argument form, the list from vlogVStoreList() otherwise), each with
**   one reference, and the engine's array of rows for the current store
**   only: it loads the next store's rows when the current one's run out.
**   Every engine call copies its figures out under a read transaction (its
**   own unless one is open), so the rows of one store are one committed
**   state; two stores are read at two moments.
**
**   Registration is idempotent (see ext/func.c): replacing a module while
**   one of its eponymous tables runs would disconnect it under the running
**   statement, and replacing a function then fails with SQLITE_BUSY, so
**   sqlite3_vlog_init() registers nothing when vlogIsRegistered() says
**   vlog is registered already.
*/
#include <assert.h>
#include <string.h>
#include <time.h>
#include "vlogInt.h"


/* Column numbers shared by every table: column 0 is the store's path, the
** table's own columns follow, the hidden argument is last. */
#define INTRO_COL_STORE 0

/*
** One introspection table.  xLoad() fills *paRow with an array of nRow rows
** that the caller frees with vlogFree(vlogStoreEnv(pStore), ...); xColumn()
** returns column iCol (1 for the first column after store) of row iRow.
*/
typedef struct IntroTable IntroTable;
struct IntroTable {
  const char *zName;              /* SQL name: "vlog_stats" */
  const char *zSchema;            /* CREATE TABLE for sqlite3_declare_vtab() */
  int nCol;                       /* columns, store and arg included */
  int (*xLoad)(VlogStore*, void **paRow, int *pnRow);
  void (*xColumn)(sqlite3_context*, const void *aRow, int iRow, int iCol);
};

/* A virtual table: one per connection and introspection table (eponymous). */
typedef struct IntroVtab IntroVtab;
struct IntroVtab {
  sqlite3_vtab base;              /* base class: must be first */
  sqlite3 *db;                    /* the connection */
  const IntroTable *pTab;         /* which table */
};

/*
** A cursor.  apVS[] are the stores of the scan, each holding one reference
** until the next xFilter() or xClose().  aRow[] is the engine's array of
** rows for apVS[iVS] (owned by the cursor, freed with that store's env),
** iRow the current one.  The scan is at EOF when iVS==nVS.
*/
typedef struct IntroCsr IntroCsr;
struct IntroCsr {
  sqlite3_vtab_cursor base;       /* base class: must be first */
  VStore **apVS;                  /* stores of the scan: sqlite3_malloc() */
  int nVS;                        /* entries of apVS[] */
  int iVS;                        /* the current store */
  void *aRow;                     /* its rows, from the engine */
  int nRow;                       /* entries of aRow[] */
  int iRow;                       /* the current row */
  char *zArg;                     /* the argument (sqlite3_malloc()), or 0 */
  sqlite3_int64 iRowid;           /* counts rows from 1 */
};

/*
** Methods of the virtual tables, declared up front as cksumvfs.c does.
*/
static int introConnect(sqlite3*, void*, int, const char*const*,
                        sqlite3_vtab**, char**);
static int introBestIndex(sqlite3_vtab*, sqlite3_index_info*);
static int introDisconnect(sqlite3_vtab*);
static int introOpen(sqlite3_vtab*, sqlite3_vtab_cursor**);
static int introClose(sqlite3_vtab_cursor*);
static int introFilter(sqlite3_vtab_cursor*, int idxNum, const char *idxStr,
                       int argc, sqlite3_value **argv);
static int introNext(sqlite3_vtab_cursor*);
static int introEof(sqlite3_vtab_cursor*);
static int introColumn(sqlite3_vtab_cursor*, sqlite3_context*, int);
static int introRowid(sqlite3_vtab_cursor*, sqlite_int64*);

static sqlite3_module introModule = {
  0,                              /* iVersion */
  0,                              /* xCreate: none, eponymous only */
  introConnect,                   /* xConnect */
  introBestIndex,                 /* xBestIndex */
  introDisconnect,                /* xDisconnect */
  0,                              /* xDestroy */
  introOpen,                      /* xOpen: a cursor */
  introClose,                     /* xClose */
  introFilter,                    /* xFilter: acquire the stores, load rows */
  introNext,                      /* xNext */
  introEof,                       /* xEof */
  introColumn,                    /* xColumn */
  introRowid,                     /* xRowid */
  0,                              /* xUpdate: read-only */
  0,                              /* xBegin */
  0,                              /* xSync */
  0,                              /* xCommit */
  0,                              /* xRollback */
  0,                              /* xFindFunction */
  0,                              /* xRename */
  0,                              /* xSavepoint */
  0,                              /* xRelease */
  0,                              /* xRollbackTo */
  0                               /* xShadowName */
};

/*
** Column values.
*/

/* A figure as an INTEGER when it is a whole number, else a REAL. */
static void resultNumber(sqlite3_context *ctx, double r){
  if( r>=-9.0e18 && r<=9.0e18 && r==(double)(sqlite3_int64)r ){
    sqlite3_result_int64(ctx, (sqlite3_int64)r);
  }else{
    sqlite3_result_double(ctx, r);
  }
}

static void resultU64(sqlite3_context *ctx, uint64_t v){
  if( v>(uint64_t)0x7fffffffffffffffLL ){
    sqlite3_result_double(ctx, (double)v);
  }else{
    sqlite3_result_int64(ctx, (sqlite3_int64)v);
  }
}

/* Unix microseconds as 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (UTC, to the
** microsecond, as the engine keeps segment times; SQLite's date functions
** read it); NULL for 0. */
static void resultTime(sqlite3_context *ctx, uint64_t iMicro){
  char zBuf[40];
  struct tm tm;
  time_t t;
  if( iMicro==0 ){
    sqlite3_result_null(ctx);
    return;
  }
  t = (time_t)(iMicro / 1000000);
  if( gmtime_r(&t, &tm)==0 ){
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_snprintf(sizeof(zBuf), zBuf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
      tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min,
      tm.tm_sec, (int)(iMicro % 1000000));
  sqlite3_result_text(ctx, zBuf, -1, SQLITE_TRANSIENT);
}

/*
** vlog_stats: name, value, scope.
*/
static int statsLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogStat *a = 0;
  int rc = vlogStats(pStore, &a, pnRow);
  *paRow = (void*)a;
  return rc;
}
static void statsColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const VlogStat *p = &((const VlogStat*)aRow)[iRow];
  switch( iCol ){
    case 1:  sqlite3_result_text(ctx, p->zName, -1, SQLITE_STATIC); break;
    case 2:  resultNumber(ctx, p->rValue); break;
    default:
      sqlite3_result_text(ctx, p->bStore ? "store" : "connection", -1, SQLITE_STATIC);
      break;
  }
}

/*
** vlog_segments: id, state, kind, bytes_total, bytes_live, bytes_stale,
** stale_ratio, records, bytes_disk, created_seq, created_at, sealed_seq,
** sealed_at, generation, bytes_to_compress, dictionary_low,
** dictionary_high.
*/
typedef struct SegRow SegRow;
struct SegRow {
  VlogSegmentInfo info;
  uint64_t nSnap;                 /* bytes of its records snapshots hold */
  const char *zSnap;              /* ... by snapshot: a JSON object, or 0 */
};

/* A snapshot name as a JSON string into z (when not 0); its length. */
static int jsonName(char *z, const char *zName){
  int n = 0, i;
  for(i=0; zName[i]; i++){
    unsigned char c = (unsigned char)zName[i];
    if( c=='"' || c=='\\' ){
      if( z ){ z[n] = '\\'; z[n+1] = (char)c; }
      n += 2;
    }else if( c<0x20 ){
      if( z ) sqlite3_snprintf(7, &z[n], "\\u%04x", c);
      n += 6;
    }else{
      if( z ) z[n] = (char)c;
      n++;
    }
  }
  return n;
}

/*
** The segments, and for each the bytes that the layers of the VFS's
** snapshots hold in it (vlogVfsSnapshots(), vlogTreeSegmentBytes()), all
** in one read transaction.  The rows and their JSON are one allocation.
*/
static int segmentsLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogEnv *pEnv = vlogStoreEnv(pStore);
  VlogSegmentInfo *a = 0;
  VlogVfsSnapshotInfo *aSnap = 0;
  uint64_t *aB = 0;
  SegRow *aOut = 0;
  int nRow = 0, nSnap = 0, nSeg = 0, i, k, rc, bRead = vlogTxnState(pStore)==0;
  size_t nJson = 0;
  *paRow = 0;
  *pnRow = 0;
  rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;
  if( rc ) return rc;
  rc = vlogSegments(pStore, &a, &nRow);
  if( rc==VLOG_OK ) rc = vlogVfsSnapshots(pStore, &aSnap, &nSnap);
  for(i=0; i<nRow; i++){
    if( a[i].iSeg>=(uint64_t)nSeg ) nSeg = (int)a[i].iSeg + 1;
  }
  if( rc==VLOG_OK && nSnap>0 && nSeg>0 ){
    aB = (uint64_t*)vlogMalloc(pEnv, sizeof(uint64_t)*nSeg*nSnap);
    if( aB==0 ) rc = VLOG_NOMEM;
    else memset(aB, 0, sizeof(uint64_t)*nSeg*nSnap);
  }
  for(k=0; rc==VLOG_OK && aB && k<nSnap; k++){
    rc = vlogTreeSegmentBytes(pStore, aSnap[k].iTree, &aB[(size_t)k*nSeg], nSeg);
  }
  for(i=0; rc==VLOG_OK && aB && i<nRow; i++){
    for(k=0; k<nSnap; k++){
      if( aB[(size_t)k*nSeg + a[i].iSeg] ){
        nJson += 3 + jsonName(0, aSnap[k].zName) + 21 + 1;   /* "n":v, */
      }
    }
    nJson += 3;                                              /* {} NUL */
  }
  if( rc==VLOG_OK && nRow>0 ){
    aOut = (SegRow*)vlogMalloc(pEnv, sizeof(SegRow)*nRow + nJson);
    if( aOut==0 ) rc = VLOG_NOMEM;
  }
  if( rc==VLOG_OK && nRow>0 ){
    char *z = (char*)&aOut[nRow];
    for(i=0; i<nRow; i++){
      memset(&aOut[i], 0, sizeof(aOut[i]));
      aOut[i].info = a[i];
      if( aB==0 ) continue;
      aOut[i].zSnap = z;
      *z++ = '{';
      for(k=0; k<nSnap; k++){
        uint64_t n = aB[(size_t)k*nSeg + a[i].iSeg];
        if( n==0 ) continue;
        aOut[i].nSnap += n;
        if( z[-1]!='{' ) *z++ = ',';
        *z++ = '"';
        z += jsonName(z, aSnap[k].zName);
        *z++ = '"';
        *z++ = ':';
        sqlite3_snprintf(21, z, "%llu", (unsigned long long)n);
        z += strlen(z);
      }
      *z++ = '}';
      *z++ = 0;
      if( aOut[i].nSnap==0 ) aOut[i].zSnap = 0;
    }
  }
  if( bRead && vlogTxnState(pStore) ) (void)vlogCommit(pStore);
  vlogFree(pEnv, a);
  vlogFree(pEnv, aSnap);
  vlogFree(pEnv, aB);
  if( rc ){
    vlogFree(pEnv, aOut);
    return rc;
  }
  *paRow = (void*)aOut;
  *pnRow = aOut ? nRow : 0;
  return VLOG_OK;
}
static void segmentsColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const SegRow *pRow = &((const SegRow*)aRow)[iRow];
  const VlogSegmentInfo *p = &pRow->info;
  uint64_t nStale = p->nTotal>p->nLive ? p->nTotal - p->nLive : 0;
  switch( iCol ){
    case 18: resultU64(ctx, pRow->nSnap); break;
    case 19:
      if( pRow->zSnap ) sqlite3_result_text(ctx, pRow->zSnap, -1, SQLITE_TRANSIENT);
      break;
    case 1:  resultU64(ctx, p->iSeg); break;
    case 2:  sqlite3_result_text(ctx, p->zState, -1, SQLITE_STATIC); break;
    case 3:  sqlite3_result_text(ctx, p->zKind, -1, SQLITE_STATIC); break;
    case 4:  resultU64(ctx, p->nTotal); break;
    case 5:  resultU64(ctx, p->nLive); break;
    case 6:  resultU64(ctx, nStale); break;
    case 7:
      sqlite3_result_double(ctx, p->nTotal ? (double)nStale/(double)p->nTotal : 0.0);
      break;
    case 8:  resultU64(ctx, p->nRec); break;
    case 9:  resultU64(ctx, p->nDisk); break;
    case 10: resultU64(ctx, p->iCreateSeq); break;
    case 11: resultTime(ctx, p->iCreateTime); break;
    case 12:
      if( p->iSealSeq ) resultU64(ctx, p->iSealSeq);
      break;
    case 13: resultTime(ctx, p->iSealTime); break;
    case 15: resultU64(ctx, p->nToCompress); break;
    case 16: if( p->iDictLo ) resultU64(ctx, p->iDictLo); break;
    case 17: if( p->iDictHi ) resultU64(ctx, p->iDictHi); break;
    default: resultU64(ctx, p->iGen); break;
  }
}

/*
** vlog_btree: tree, table_name, level, nodes, keys, bsets, bytes, fill.
**
** A row is the engine's VlogTreeLevel and the name of the tree's owner:
** the engine's name of its own trees, 'catalog' for tree 16, the vlog
** table's name from the catalog for the others (NULL for a tree the
** catalog does not list, as a dropped table's, until it is gone).  The
** names are copied after the rows, in the same allocation.
*/
typedef struct BtreeRow BtreeRow;
struct BtreeRow {
  VlogTreeLevel lvl;
  const char *zTable;
};

/* The owner of tree iTree, per the catalog a[n]; 0 when none is known. */
static const char *treeOwner(unsigned int iTree, const VlogCatalogEntry *a, int n){
  int i;
  if( iTree<VLOG_TREE_FIRST_USER ) return vlogTreeName(iTree);
  if( iTree==VLOG_TREE_FIRST_USER ) return "catalog";
  for(i=0; i<n; i++){
    if( a[i].iTree==iTree ) return a[i].zName;
  }
  return 0;
}

static int btreeLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogEnv *pEnv = vlogStoreEnv(pStore);
  VlogTreeLevel *aLvl = 0;
  VlogCatalogEntry *aCat = 0;
  BtreeRow *aOut = 0;
  int nLvl = 0, nCat = 0, i;
  size_t nByte = 0;
  int rc = vlogTreeLevels(pStore, &aLvl, &nLvl);
  if( rc==VLOG_OK ) rc = vlogCatalogList(pStore, &aCat, &nCat);
  if( rc==VLOG_OK ){
    nByte = sizeof(BtreeRow)*(size_t)(nLvl+1);
    for(i=0; i<nLvl; i++){
      const char *z = treeOwner(aLvl[i].iTree, aCat, nCat);
      if( z ) nByte += strlen(z)+1;
    }
    aOut = (BtreeRow*)vlogMallocZero(pEnv, nByte);
    if( aOut==0 ) rc = VLOG_NOMEM;
  }
  if( rc==VLOG_OK ){
    char *zText = (char*)&aOut[nLvl];
    for(i=0; i<nLvl; i++){
      const char *z = treeOwner(aLvl[i].iTree, aCat, nCat);
      aOut[i].lvl = aLvl[i];
      if( z ){
        size_t n = strlen(z)+1;
        memcpy(zText, z, n);
        aOut[i].zTable = zText;
        zText += n;
      }
    }
  }
  vlogFree(pEnv, aLvl);
  vlogCatalogFree(aCat, nCat);
  *paRow = (void*)aOut;
  *pnRow = rc==VLOG_OK ? nLvl : 0;
  return rc;
}
static void btreeColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const BtreeRow *pRow = &((const BtreeRow*)aRow)[iRow];
  const VlogTreeLevel *p = &pRow->lvl;
  switch( iCol ){
    case 1:  sqlite3_result_int64(ctx, (sqlite3_int64)p->iTree); break;
    case 2:
      if( pRow->zTable ){
        sqlite3_result_text(ctx, pRow->zTable, -1, SQLITE_TRANSIENT);
      }
      break;
    case 3:  sqlite3_result_int(ctx, p->iLevel); break;
    case 4:  resultU64(ctx, p->nNode); break;
    case 5:  resultU64(ctx, p->nKey); break;
    case 6:  resultU64(ctx, p->nBset); break;
    case 7:  resultU64(ctx, p->nBytes); break;
    default: sqlite3_result_double(ctx, p->rFill); break;
  }
}

/*
** vlog_rewrite_queue: position, segment, stale_ratio, stale_bytes,
** live_bytes, queued_at; vlog_rewrite_ledger: segment, stale_ratio,
** stale_bytes, live_bytes, observed_at, stage_pending.  A row is the
** engine's VlogMaintEntry; the ledger's rows carry the stage flag in a
** copy (MaintRow).
*/
typedef struct MaintRow MaintRow;
struct MaintRow {
  VlogMaintEntry e;
  int bPending;
};
static int maintRowsLoad(VlogStore *pStore, int bLedger, void **paRow, int *pnRow){
  VlogEnv *pEnv = vlogStoreEnv(pStore);
  VlogMaintEntry *aE = 0;
  MaintRow *aOut = 0;
  int nE = 0, bPending = 0, i;
  int rc = vlogMaintQueue(pStore, bLedger, &aE, &nE, &bPending);
  if( rc==VLOG_OK ){
    aOut = (MaintRow*)vlogMallocZero(pEnv, sizeof(MaintRow)*(size_t)(nE+1));
    if( aOut==0 ) rc = VLOG_NOMEM;
  }
  for(i=0; rc==VLOG_OK && i<nE; i++){
    aOut[i].e = aE[i];
    aOut[i].bPending = bPending;
  }
  vlogFree(pEnv, aE);
  *paRow = (void*)aOut;
  *pnRow = rc==VLOG_OK ? nE : 0;
  return rc;
}
static int queueLoad(VlogStore *pStore, void **paRow, int *pnRow){
  return maintRowsLoad(pStore, 0, paRow, pnRow);
}
static int ledgerLoad(VlogStore *pStore, void **paRow, int *pnRow){
  return maintRowsLoad(pStore, 1, paRow, pnRow);
}
/* The figures of a queue or ledger row: columns c (segment) to c+3. */
static void maintFigures(sqlite3_context *ctx, const VlogMaintEntry *p, int iCol){
  uint64_t nStale = p->nTotal>p->nLive ? p->nTotal - p->nLive : 0;
  switch( iCol ){
    case 0:  resultU64(ctx, p->iSeg); break;
    case 1:
      sqlite3_result_double(ctx, p->nTotal ? (double)nStale/(double)p->nTotal : 0.0);
      break;
    case 2:  resultU64(ctx, nStale); break;
    case 3:  resultU64(ctx, p->nLive); break;
    default: resultTime(ctx, p->iTime); break;
  }
}
static void queueColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const MaintRow *p = &((const MaintRow*)aRow)[iRow];
  if( iCol==1 ){
    resultU64(ctx, p->e.iPos);
  }else{
    maintFigures(ctx, &p->e, iCol-2);
  }
}
static void ledgerColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const MaintRow *p = &((const MaintRow*)aRow)[iRow];
  if( iCol==6 ){
    sqlite3_result_int(ctx, p->bPending);
  }else{
    maintFigures(ctx, &p->e, iCol-1);
  }
}

/*
** vlog_maintenance_log: pass, started_at, ended_at, trigger, mode,
** segments_planned, segments_rewritten, segments_freed, bytes_copied,
** bytes_reclaimed, ms, result, error.
*/
static int logLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogMaintLogEntry *a = 0;
  int rc = vlogMaintLog(pStore, &a, pnRow);
  *paRow = (void*)a;
  return rc;
}
static void logColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const VlogMaintLogEntry *p = &((const VlogMaintLogEntry*)aRow)[iRow];
  switch( iCol ){
    case 1:  resultU64(ctx, p->iSeq); break;
    case 2:  resultTime(ctx, p->iStart); break;
    case 3:  resultTime(ctx, p->iEnd); break;
    case 4:  sqlite3_result_text(ctx, p->zTrigger, -1, SQLITE_STATIC); break;
    case 5:  sqlite3_result_text(ctx, p->zMode, -1, SQLITE_STATIC); break;
    case 6:  resultU64(ctx, p->nPlanned); break;
    case 7:  resultU64(ctx, p->nRewritten); break;
    case 8:  resultU64(ctx, p->nFreed); break;
    case 9:  resultU64(ctx, p->nCopied); break;
    case 10: resultU64(ctx, p->nReclaimed); break;
    case 11:
      sqlite3_result_double(ctx, p->iEnd>=p->iStart ?
                            (double)(p->iEnd-p->iStart)/1000.0 : 0.0);
      break;
    case 12:
      sqlite3_result_text(ctx, p->rc ? vlogErrName(p->rc) : "ok", -1, SQLITE_STATIC);
      break;
    default:
      if( p->zError ) sqlite3_result_text(ctx, p->zError, -1, SQLITE_TRANSIENT);
      break;
  }
}

/*
** vlog_files: name, pages, page_size, logical_bytes, stored_bytes, ratio:
** the files a store holds for the vlog VFS (vfs/vfs.c).
*/
static int filesLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogVfsFileInfo *a = 0;
  int rc = vlogVfsFiles(pStore, &a, pnRow);
  *paRow = (void*)a;
  return rc;
}
static void filesColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const VlogVfsFileInfo *p = &((const VlogVfsFileInfo*)aRow)[iRow];
  switch( iCol ){
    case 1:  sqlite3_result_text(ctx, p->zName, -1, SQLITE_TRANSIENT); break;
    case 2:  resultU64(ctx, p->nPage); break;
    case 3:  sqlite3_result_int(ctx, p->szPage); break;
    case 4:  sqlite3_result_int64(ctx, p->nLogical); break;
    case 5:  resultU64(ctx, p->nStored); break;
    default:
      if( p->nStored ) sqlite3_result_double(ctx, (double)p->nLogical/(double)p->nStored);
      break;
  }
}

/*
** vlog_overlay: an overlay's base and how much of it still shows (one row
** for a database opened with base=, none for others).  The row and the
** base's path are one allocation, freed with the rows.
*/
typedef struct OverlayRow OverlayRow;
struct OverlayRow {
  VlogVfsOverlayInfo info;
  char zBase[1];                  /* more bytes follow */
};
static int overlayLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogVfsOverlayInfo info;
  OverlayRow *pRow;
  int rc = vlogVfsOverlay(pStore, &info);
  *paRow = 0;
  *pnRow = 0;
  if( rc==VLOG_NOTFOUND ) return VLOG_OK;
  if( rc ) return rc;
  pRow = (OverlayRow*)vlogMalloc(vlogStoreEnv(pStore),
                                 sizeof(*pRow) + strlen(info.zBase));
  if( pRow==0 ){
    sqlite3_free(info.zBase);
    return VLOG_NOMEM;
  }
  pRow->info = info;
  memcpy(pRow->zBase, info.zBase, strlen(info.zBase)+1);
  sqlite3_free(info.zBase);
  pRow->info.zBase = 0;
  *paRow = (void*)pRow;
  *pnRow = 1;
  return VLOG_OK;
}
static void overlayColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const OverlayRow *pRow = &((const OverlayRow*)aRow)[iRow];
  const VlogVfsOverlayInfo *p = &pRow->info;
  switch( iCol ){
    case 1:  sqlite3_result_text(ctx, pRow->zBase, -1, SQLITE_TRANSIENT); break;
    case 2:  sqlite3_result_int64(ctx, p->nBaseSize); break;
    case 3:  sqlite3_result_int(ctx, p->szBasePage); break;
    case 4: {
      char zHex[20];
      sqlite3_snprintf(sizeof(zHex), zHex, "%016llx", (unsigned long long)p->iBaseSum);
      sqlite3_result_text(ctx, zHex, -1, SQLITE_TRANSIENT);
      break;
    }
    case 5:  resultTime(ctx, (uint64_t)p->iMade*1000); break;
    case 6:  sqlite3_result_int64(ctx, p->nBaseBytes); break;
    case 7:  sqlite3_result_int64(ctx, p->nPagesBase); break;
    case 8:  sqlite3_result_int64(ctx, p->nPagesOwn); break;
    case 9:  resultU64(ctx, p->nOwnBytes); break;
    case 10: sqlite3_result_int(ctx, p->nBaseBytes==0); break;
    case 11: sqlite3_result_int(ctx, p->bMatRead); break;
    case 12: resultU64(ctx, p->nReadOverlay); break;
    case 13: resultU64(ctx, p->nReadBase); break;
    case 14: resultU64(ctx, p->nMaterialized); break;
    case 15: resultU64(ctx, p->nOpen); break;
    case 16: resultU64(ctx, p->nReuse); break;
    default:
      if( p->zSnap[0] ) sqlite3_result_text(ctx, p->zSnap, -1, SQLITE_TRANSIENT);
      break;
  }
}

/*
** vlog_snapshots: name, taken_at, size, page_size, layer_pages,
** layer_bytes, pinned_pages, pinned_bytes: the snapshots of the database
** a store holds for the VFS.
*/
static int snapshotsLoad(VlogStore *pStore, void **paRow, int *pnRow){
  VlogVfsSnapshotInfo *a = 0;
  int rc = vlogVfsSnapshots(pStore, &a, pnRow);
  *paRow = (void*)a;
  return rc;
}
static void snapshotsColumn(sqlite3_context *ctx, const void *aRow, int iRow, int iCol){
  const VlogVfsSnapshotInfo *p = &((const VlogVfsSnapshotInfo*)aRow)[iRow];
  switch( iCol ){
    case 1:  sqlite3_result_text(ctx, p->zName, -1, SQLITE_TRANSIENT); break;
    case 2:  resultTime(ctx, (uint64_t)p->iTaken*1000); break;
    case 3:  sqlite3_result_int64(ctx, p->nSize); break;
    case 4:  sqlite3_result_int(ctx, p->szPage); break;
    case 5:  resultU64(ctx, p->nPage); break;
    case 6:  resultU64(ctx, p->nBytes); break;
    case 7:  resultU64(ctx, p->nPinPage); break;
    default: resultU64(ctx, p->nPinBytes); break;
  }
}

static const IntroTable aTable[] = {
  { "vlog_snapshots",
    "CREATE TABLE x(store TEXT, name TEXT, taken_at TEXT, size INTEGER,"
    " page_size INTEGER, layer_pages INTEGER, layer_bytes INTEGER,"
    " pinned_pages INTEGER, pinned_bytes INTEGER, arg HIDDEN)",
    10, snapshotsLoad, snapshotsColumn },
  { "vlog_files",
    "CREATE TABLE x(store TEXT, name TEXT, pages INTEGER, page_size INTEGER,"
    " logical_bytes INTEGER, stored_bytes INTEGER, ratio REAL, arg HIDDEN)",
    8, filesLoad, filesColumn },
  { "vlog_overlay",
    "CREATE TABLE x(store TEXT, base TEXT, base_size INTEGER,"
    " base_page_size INTEGER, base_checksum TEXT, made_at TEXT,"
    " base_bytes INTEGER, pages_from_base INTEGER, pages_own INTEGER,"
    " own_bytes INTEGER, standalone INTEGER, materialize_on_read INTEGER,"
    " reads_overlay INTEGER, reads_base INTEGER, pages_materialized INTEGER,"
    " base_opens INTEGER, base_reuses INTEGER, base_snapshot TEXT, arg HIDDEN)",
    19, overlayLoad, overlayColumn },
  { "vlog_stats",
    "CREATE TABLE x(store TEXT, name TEXT, value, scope TEXT, arg HIDDEN)",
    5, statsLoad, statsColumn },
  { "vlog_segments",
    "CREATE TABLE x(store TEXT, id INTEGER, state TEXT, kind TEXT,"
    " bytes_total INTEGER, bytes_live INTEGER, bytes_stale INTEGER,"
    " stale_ratio REAL, records INTEGER, bytes_disk INTEGER,"
    " created_seq INTEGER, created_at TEXT, sealed_seq INTEGER,"
    " sealed_at TEXT, generation INTEGER, bytes_to_compress INTEGER,"
    " dictionary_low INTEGER, dictionary_high INTEGER, snapshot_bytes INTEGER,"
    " snapshots TEXT, arg HIDDEN)",
    21, segmentsLoad, segmentsColumn },
  { "vlog_btree",
    "CREATE TABLE x(store TEXT, tree INTEGER, table_name TEXT, level INTEGER,"
    " nodes INTEGER, keys INTEGER, bsets INTEGER, bytes INTEGER, fill REAL,"
    " arg HIDDEN)",
    10, btreeLoad, btreeColumn },
  { "vlog_rewrite_queue",
    "CREATE TABLE x(store TEXT, position INTEGER, segment INTEGER,"
    " stale_ratio REAL, stale_bytes INTEGER, live_bytes INTEGER,"
    " queued_at TEXT, arg HIDDEN)",
    8, queueLoad, queueColumn },
  { "vlog_rewrite_ledger",
    "CREATE TABLE x(store TEXT, segment INTEGER, stale_ratio REAL,"
    " stale_bytes INTEGER, live_bytes INTEGER, observed_at TEXT,"
    " stage_pending INTEGER, arg HIDDEN)",
    8, ledgerLoad, ledgerColumn },
  { "vlog_maintenance_log",
    "CREATE TABLE x(store TEXT, pass INTEGER, started_at TEXT, ended_at TEXT,"
    " trigger TEXT, mode TEXT, segments_planned INTEGER,"
    " segments_rewritten INTEGER, segments_freed INTEGER,"
    " bytes_copied INTEGER, bytes_reclaimed INTEGER, ms REAL, result TEXT,"
    " error TEXT, arg HIDDEN)",
    15, logLoad, logColumn },
};

/*
** The virtual table methods.
*/

/* xConnect: the module's pAux is the IntroTable. */
static int introConnect(
  sqlite3 *db,
  void *pAux,
  int argc, const char *const*argv,
  sqlite3_vtab **ppVtab,
  char **pzErr
){
  const IntroTable *pTab = (const IntroTable*)pAux;
  IntroVtab *pNew;
  int rc = sqlite3_declare_vtab(db, pTab->zSchema);
  *ppVtab = 0;
  if( rc!=SQLITE_OK ) return rc;
  pNew = (IntroVtab*)sqlite3_malloc(sizeof(*pNew));
  if( pNew==0 ) return SQLITE_NOMEM;
  memset(pNew, 0, sizeof(*pNew));
  pNew->db = db;
  pNew->pTab = pTab;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &pNew->base;
  return SQLITE_OK;
}

static int introDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/*
** xBestIndex.  idxNum 1: one store, its name or path in argv[0] (a usable
** EQ constraint on arg); idxNum 0: every store the connection has open.
** A constraint on arg that is not usable in this plan (its value comes
** from a table the plan puts later) makes the plan unusable, so that the
** planner puts that table first, as for any table-valued function.
*/
static int introBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  IntroVtab *p = (IntroVtab*)pVtab;
  int iArgCol = p->pTab->nCol - 1;
  int iEq = -1;
  int bUnusable = 0;
  int i;

  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn!=iArgCol ) continue;
    if( !pC->usable ){
      bUnusable = 1;
    }else if( pC->op==SQLITE_INDEX_CONSTRAINT_EQ && iEq<0 ){
      iEq = i;
    }
  }
  if( iEq>=0 ){
    pInfo->aConstraintUsage[iEq].argvIndex = 1;
    pInfo->aConstraintUsage[iEq].omit = 1;
    pInfo->idxNum = 1;
    pInfo->estimatedCost = 10.0;
    pInfo->estimatedRows = 100;
  }else if( bUnusable ){
    return SQLITE_CONSTRAINT;
  }else{
    pInfo->idxNum = 0;
    pInfo->estimatedCost = 1000.0;
    pInfo->estimatedRows = 1000;
  }
  return SQLITE_OK;
}

static int introOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCsr){
  IntroCsr *pCsr = (IntroCsr*)sqlite3_malloc(sizeof(*pCsr));
  if( pCsr==0 ) return SQLITE_NOMEM;
  memset(pCsr, 0, sizeof(*pCsr));
  *ppCsr = &pCsr->base;
  return SQLITE_OK;
}

/* Free the current store's rows. */
static void csrFreeRows(IntroCsr *pCsr){
  if( pCsr->aRow ){
    VlogStore *pStore = pCsr->apVS[pCsr->iVS]->pStore;
    vlogFree(vlogStoreEnv(pStore), pCsr->aRow);
    pCsr->aRow = 0;
  }
  pCsr->nRow = 0;
  pCsr->iRow = 0;
}

/* Release everything the cursor holds: it is at EOF afterwards. */
static void csrReset(IntroCsr *pCsr){
  int i;
  csrFreeRows(pCsr);
  for(i=0; i<pCsr->nVS; i++) vlogVStoreRelease(pCsr->apVS[i]);
  sqlite3_free(pCsr->apVS);
  sqlite3_free(pCsr->zArg);
  pCsr->apVS = 0;
  pCsr->nVS = 0;
  pCsr->iVS = 0;
  pCsr->zArg = 0;
  pCsr->iRowid = 0;
}

static int introClose(sqlite3_vtab_cursor *pCursor){
  IntroCsr *pCsr = (IntroCsr*)pCursor;
  csrReset(pCsr);
  sqlite3_free(pCsr);
  return SQLITE_OK;
}

/* Set the table's error message to zMsg (which the call frees), prefixed
** with the table's name and the argument, or the store's path. */
static void csrError(IntroCsr *pCsr, const char *zWhat, char *zMsg){
  IntroVtab *pVtab = (IntroVtab*)pCsr->base.pVtab;
  sqlite3_free(pVtab->base.zErrMsg);
  pVtab->base.zErrMsg = sqlite3_mprintf("%s(%Q): %s", pVtab->pTab->zName,
      zWhat, zMsg ? zMsg : "out of memory");
  sqlite3_free(zMsg);
}

/*
** Load the rows of apVS[iVS], or of the next store that has rows; iVS==nVS
** (EOF) when none has.  An engine error is the table's error.
*/
static int csrLoad(IntroCsr *pCsr){
  IntroVtab *pVtab = (IntroVtab*)pCsr->base.pVtab;
  int rc = SQLITE_OK;
  assert( pCsr->aRow==0 );
  while( pCsr->iVS<pCsr->nVS ){
    VStore *pVS = pCsr->apVS[pCsr->iVS];
    void *aRow = 0;
    int nRow = 0;
    rc = pVtab->pTab->xLoad(pVS->pStore, &aRow, &nRow);
    pCsr->aRow = aRow;
    pCsr->nRow = rc==SQLITE_OK ? nRow : 0;
    pCsr->iRow = 0;
    if( rc!=SQLITE_OK ){
      csrFreeRows(pCsr);
      csrError(pCsr, pCsr->zArg ? pCsr->zArg : pVS->zPath,
               vlogVStoreErr(pVS, rc));
      pCsr->iVS = pCsr->nVS;
      return rc;
    }
    if( pCsr->nRow>0 ) break;
    csrFreeRows(pCsr);
    pCsr->iVS++;
  }
  return rc;
}

/*
** xFilter: release what an earlier scan held, then acquire the store the
** argument names (idxNum 1) or every store of the connection (idxNum 0),
** and load the first rows.
*/
static int introFilter(
  sqlite3_vtab_cursor *pCursor,
  int idxNum, const char *idxStr,
  int argc, sqlite3_value **argv
){
  IntroCsr *pCsr = (IntroCsr*)pCursor;
  IntroVtab *pVtab = (IntroVtab*)pCursor->pVtab;
  int rc = SQLITE_OK;

  csrReset(pCsr);
  if( idxNum==1 ){
    const char *zArg = 0;
    char *zErr = 0;
    VStore *pVS = 0;
    assert( argc==1 );
    if( sqlite3_value_type(argv[0])==SQLITE_TEXT ){
      zArg = (const char*)sqlite3_value_text(argv[0]);
      if( zArg==0 ) return SQLITE_NOMEM;
    }
    if( zArg==0 ){
      sqlite3_free(pVtab->base.zErrMsg);
      pVtab->base.zErrMsg = sqlite3_mprintf(
          "%s(): the argument must be the name of a vlog table or the path "
          "of a store file", pVtab->pTab->zName);
      return SQLITE_ERROR;
    }
    pCsr->zArg = sqlite3_mprintf("%s", zArg);
    pCsr->apVS = (VStore**)sqlite3_malloc(sizeof(VStore*));
    if( pCsr->zArg==0 || pCsr->apVS==0 ) return SQLITE_NOMEM;
    rc = vlogVStoreResolve(pVtab->db, zArg, &pVS, &zErr);
    if( rc!=SQLITE_OK ){
      csrError(pCsr, zArg, zErr);
      return rc;
    }
    pCsr->apVS[0] = pVS;
    pCsr->nVS = 1;
  }else{
    rc = vlogVStoreList(pVtab->db, &pCsr->apVS, &pCsr->nVS);
    if( rc!=SQLITE_OK ) return rc;
  }
  rc = csrLoad(pCsr);
  if( rc==SQLITE_OK ) pCsr->iRowid = 1;
  return rc;
}

/* xNext: the next row of this store, else the first of the next. */
static int introNext(sqlite3_vtab_cursor *pCursor){
  IntroCsr *pCsr = (IntroCsr*)pCursor;
  int rc = SQLITE_OK;
  assert( pCsr->iVS<pCsr->nVS );
  pCsr->iRowid++;
  pCsr->iRow++;
  if( pCsr->iRow>=pCsr->nRow ){
    csrFreeRows(pCsr);
    pCsr->iVS++;
    rc = csrLoad(pCsr);
  }
  return rc;
}

static int introEof(sqlite3_vtab_cursor *pCursor){
  IntroCsr *pCsr = (IntroCsr*)pCursor;
  return pCsr->iVS>=pCsr->nVS;
}

/* xColumn: store, the table's own columns, arg. */
static int introColumn(
  sqlite3_vtab_cursor *pCursor,
  sqlite3_context *ctx,
  int iCol
){
  IntroCsr *pCsr = (IntroCsr*)pCursor;
  const IntroTable *pTab = ((IntroVtab*)pCursor->pVtab)->pTab;
  assert( pCsr->iVS<pCsr->nVS && pCsr->iRow<pCsr->nRow );
  if( iCol==INTRO_COL_STORE ){
    sqlite3_result_text(ctx, pCsr->apVS[pCsr->iVS]->zPath, -1, SQLITE_TRANSIENT);
  }else if( iCol==pTab->nCol-1 ){
    if( pCsr->zArg ) sqlite3_result_text(ctx, pCsr->zArg, -1, SQLITE_TRANSIENT);
  }else{
    pTab->xColumn(ctx, pCsr->aRow, pCsr->iRow, iCol);
  }
  return SQLITE_OK;
}

static int introRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *piRowid){
  *piRowid = ((IntroCsr*)pCursor)->iRowid;
  return SQLITE_OK;
}

/*
** The SQL functions.
*/

/*
** The store that argv[0] names, with one reference, or 0 after setting the
** function's error.  zFunc names the function in messages.
*/
static VStore *funcStore(
  sqlite3_context *ctx,
  const char *zFunc,
  sqlite3_value *pArg
){
  const char *zArg = 0;
  char *zErr = 0;
  VStore *pVS = 0;
  int rc;
  if( sqlite3_value_type(pArg)==SQLITE_TEXT ){
    zArg = (const char*)sqlite3_value_text(pArg);
    if( zArg==0 ){
      sqlite3_result_error_nomem(ctx);
      return 0;
    }
  }
  if( zArg==0 ){
    char *zMsg = sqlite3_mprintf("%s(): the argument must be the name of a "
                                 "vlog table or the path of a store file", zFunc);
    sqlite3_result_error(ctx, zMsg ? zMsg : "bad argument", -1);
    sqlite3_free(zMsg);
    return 0;
  }
  rc = vlogVStoreResolve(sqlite3_context_db_handle(ctx), zArg, &pVS, &zErr);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
    return 0;
  }
  if( rc!=SQLITE_OK ){
    char *zMsg = sqlite3_mprintf("%s(%Q): %s", zFunc, zArg,
                                 zErr ? zErr : "cannot open the store");
    sqlite3_result_error(ctx, zMsg ? zMsg : "cannot open the store", -1);
    sqlite3_result_error_code(ctx, rc);
    sqlite3_free(zMsg);
    sqlite3_free(zErr);
    return 0;
  }
  return pVS;
}

/* Set the function's error: the engine's error rc on pVS, code rc. */
static void funcEngineError(
  sqlite3_context *ctx,
  const char *zFunc,
  sqlite3_value *pArg,
  VStore *pVS,
  int rc
){
  char *zErr = vlogVStoreErr(pVS, rc);
  char *zMsg = sqlite3_mprintf("%s(%Q): %s", zFunc,
      (const char*)sqlite3_value_text(pArg), zErr ? zErr : "error");
  sqlite3_result_error(ctx, zMsg ? zMsg : "vlog: engine error", -1);
  sqlite3_result_error_code(ctx, rc);
  sqlite3_free(zMsg);
  sqlite3_free(zErr);
}

/* vlog_checkpoint(STORE): checkpoint; the checkpoint sequence after it. */
static void checkpointFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  VStore *pVS = funcStore(ctx, "vlog_checkpoint", argv[0]);
  VlogStat *aStat = 0;
  int nStat = 0;
  int rc, i;
  if( pVS==0 ) return;
  vlogVStoreSetBusyTimeout(pVS);
  rc = vlogCheckpoint(pVS->pStore);
  if( rc==SQLITE_OK ) rc = vlogStats(pVS->pStore, &aStat, &nStat);
  if( rc!=SQLITE_OK ){
    funcEngineError(ctx, "vlog_checkpoint", argv[0], pVS, rc);
  }else{
    for(i=0; i<nStat; i++){
      if( strcmp(aStat[i].zName, "checkpoint_sequence")==0 ){
        resultNumber(ctx, aStat[i].rValue);
        break;
      }
    }
  }
  vlogFree(vlogStoreEnv(pVS->pStore), aStat);
  vlogVStoreRelease(pVS);
}

/* vlog_verify(STORE): the consistency report, or SQLITE_CORRUPT. */
static void verifyFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  VStore *pVS = funcStore(ctx, "vlog_verify", argv[0]);
  char *zReport = 0;
  int rc;
  if( pVS==0 ) return;
  if( vlogTxnState(pVS->pStore)==2 ){
    /* The check reads the file: the transaction's changes are not there
    ** yet, and a failed check would spoil the transaction. */
    char *zMsg = sqlite3_mprintf("vlog_verify(%Q): the store has changes "
        "this transaction has not committed: commit first",
        (const char*)sqlite3_value_text(argv[0]));
    sqlite3_result_error(ctx, zMsg ? zMsg : "vlog_verify(): commit first", -1);
    sqlite3_free(zMsg);
    vlogVStoreRelease(pVS);
    return;
  }
  rc = vlogVerify(pVS->pStore, &zReport);
  if( rc!=SQLITE_OK ){
    funcEngineError(ctx, "vlog_verify", argv[0], pVS, rc);
  }else{
    sqlite3_result_text(ctx, zReport ? zReport : "", -1, SQLITE_TRANSIENT);
  }
  vlogFree(vlogStoreEnv(pVS->pStore), zReport);
  vlogVStoreRelease(pVS);
}

/* An error of a function: zMsg (freed here), code rc. */
static void funcError(sqlite3_context *ctx, int rc, char *zMsg){
  if( zMsg==0 ){
    sqlite3_result_error_nomem(ctx);      /* the message could not be made */
    return;
  }
  sqlite3_result_error(ctx, zMsg, -1);
  if( rc!=SQLITE_ERROR ) sqlite3_result_error_code(ctx, rc);
  sqlite3_free(zMsg);
}

/* Maintenance needs the store's handle outside any transaction. */
static int funcNoTxn(sqlite3_context *ctx, const char *zFunc, sqlite3_value *pArg,
                     VStore *pVS){
  if( vlogTxnState(pVS->pStore)==0 ) return 0;
  funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(%Q): a transaction is open "
      "on the store in this connection: commit first", zFunc,
      (const char*)sqlite3_value_text(pArg)));
  return 1;
}

/*
** vlog_maintain(STORE [, MODE]): one maintenance pass; its JSON report.
** vlog_gc(STORE): the same as vlog_maintain(STORE, 'gc').
*/
static void maintainRun(sqlite3_context *ctx, const char *zFunc,
                        sqlite3_value *pArg, const char *zMode){
  VStore *pVS = funcStore(ctx, zFunc, pArg);
  char *zReport = 0;
  int rc;
  if( pVS==0 ) return;
  if( !funcNoTxn(ctx, zFunc, pArg, pVS) ){
    vlogVStoreSetBusyTimeout(pVS);
    rc = vlogMaintain(pVS->pStore, zMode, 0, &zReport);
    if( rc!=SQLITE_OK ){
      funcEngineError(ctx, zFunc, pArg, pVS, rc);
    }else{
      sqlite3_result_text(ctx, zReport, -1, SQLITE_TRANSIENT);
      sqlite3_result_subtype(ctx, 'J');     /* JSON, as json() gives */
    }
    vlogFree(vlogStoreEnv(pVS->pStore), zReport);
  }
  vlogVStoreRelease(pVS);
}
static void maintainFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zMode = 0;
  if( argc==2 ){
    if( sqlite3_value_type(argv[1])!=SQLITE_TEXT ){
      funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_maintain(): the mode "
          "must be text: 'auto', 'plan', 'stage', 'confirm', 'rewrite-one', "
          "'gc' or 'full'"));
      return;
    }
    zMode = (const char*)sqlite3_value_text(argv[1]);
    if( zMode==0 ){ sqlite3_result_error_nomem(ctx); return; }
  }
  maintainRun(ctx, "vlog_maintain", argv[0], zMode);
}
static void gcFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  maintainRun(ctx, "vlog_gc", argv[0], "gc");
}

/*
** vlog_config(STORE, NAME [, VALUE]): the setting NAME, after setting it
** to VALUE (persisted in the store) when given.
*/
static void configFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zName;
  VStore *pVS;
  double rNew = 0.0, rVal = 0.0;
  int rc;
  if( sqlite3_value_type(argv[1])!=SQLITE_TEXT ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_config(): the setting's "
        "name must be text"));
    return;
  }
  zName = (const char*)sqlite3_value_text(argv[1]);
  if( zName==0 ){ sqlite3_result_error_nomem(ctx); return; }
  if( argc==3 ){
    int eType = sqlite3_value_numeric_type(argv[2]);
    if( eType!=SQLITE_INTEGER && eType!=SQLITE_FLOAT ){
      funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_config(): the value of "
          "%s must be a number", zName));
      return;
    }
    rNew = sqlite3_value_double(argv[2]);
  }
  pVS = funcStore(ctx, "vlog_config", argv[0]);
  if( pVS==0 ) return;
  if( argc==3 && vlogTxnState(pVS->pStore)!=0 && funcNoTxn(ctx, "vlog_config", argv[0], pVS) ){
    vlogVStoreRelease(pVS);
    return;
  }
  vlogVStoreSetBusyTimeout(pVS);
  rc = vlogMaintSetting(pVS->pStore, zName, argc==3 ? &rNew : 0, &rVal);
  if( rc!=SQLITE_OK ){
    funcEngineError(ctx, "vlog_config", argv[0], pVS, rc);
  }else{
    resultNumber(ctx, rVal);
  }
  vlogVStoreRelease(pVS);
}

/*
** vlog_materialize(SCHEMA [, MAX_PAGES]): copy the pages an overlay still
** reads from its base into it (at most MAX_PAGES), in commits of a few
** hundred pages; returns the pages copied.  vlog_overlay shows the
** progress; with none left, the overlay stands alone.
*/
static void materializeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  sqlite3_file *pFile = 0;
  sqlite3_int64 nMax = -1, nCopied = 0, nLeft = 0;
  const char *zDb = (const char*)sqlite3_value_text(argv[0]);
  int rc;
  if( sqlite3_value_type(argv[0])!=SQLITE_TEXT || zDb==0 ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_materialize(): the "
        "argument must be a schema name ('main', or an attached database's)"));
    return;
  }
  if( argc==2 ){
    if( sqlite3_value_type(argv[1])!=SQLITE_INTEGER || sqlite3_value_int64(argv[1])<0 ){
      funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_materialize(%Q): the "
          "most pages to copy must be an integer, 0 or more", zDb));
      return;
    }
    nMax = sqlite3_value_int64(argv[1]);
  }
  if( sqlite3_file_control(db, zDb, SQLITE_FCNTL_FILE_POINTER, &pFile)!=SQLITE_OK
   || pFile==0 ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_materialize(%Q): no such "
        "database", zDb));
    return;
  }
  if( !vlogVfsIsStore(pFile) ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("vlog_materialize(%Q): not a "
        "database of the vlog VFS (open it with vfs=vlog and base=)", zDb));
    return;
  }
  rc = vlogVfsMaterialize(pFile, nMax, &nCopied, &nLeft);
  if( rc==SQLITE_LOCKED ){
    funcError(ctx, rc, sqlite3_mprintf("vlog_materialize(%Q): not inside a "
        "transaction of this connection", zDb));
  }else if( rc==SQLITE_BUSY ){
    funcError(ctx, rc, sqlite3_mprintf("vlog_materialize(%Q): another connection "
        "is writing the database; %lld pages were copied (try again)", zDb, nCopied));
  }else if( rc==SQLITE_READONLY ){
    funcError(ctx, rc, sqlite3_mprintf("vlog_materialize(%Q): the database is "
        "read-only", zDb));
  }else if( rc ){
    funcError(ctx, rc, sqlite3_mprintf("vlog_materialize(%Q): %s", zDb,
        sqlite3_errstr(rc)));
  }else{
    sqlite3_result_int64(ctx, nCopied);
  }
}

/*
** vlog_snapshot(SCHEMA, NAME): take snapshot NAME of the database SCHEMA
** (a database of the vlog VFS) in O(1); returns NAME.
** vlog_snapshot_drop(SCHEMA, NAME): drop it; returns the pages its merge
** copied into the layer above it.
*/
static void snapshotCall(sqlite3_context *ctx, sqlite3_value **argv, int bDrop){
  const char *zFunc = bDrop ? "vlog_snapshot_drop" : "vlog_snapshot";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  sqlite3_file *pFile = 0;
  sqlite3_int64 nCopied = 0;
  const char *zDb = (const char*)sqlite3_value_text(argv[0]);
  const char *zName;
  int rc;
  if( sqlite3_value_type(argv[0])!=SQLITE_TEXT || zDb==0 ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(): the first argument must "
        "be a schema name ('main', or an attached database's)", zFunc));
    return;
  }
  zName = (const char*)sqlite3_value_text(argv[1]);
  if( sqlite3_value_type(argv[1])!=SQLITE_TEXT || zName==0
   || sqlite3_value_bytes(argv[1])<1 || sqlite3_value_bytes(argv[1])>200
   || (int)strlen(zName)!=sqlite3_value_bytes(argv[1]) ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(%Q): the snapshot's name "
        "must be text of 1 to 200 bytes, without NUL", zFunc, zDb));
    return;
  }
  if( sqlite3_file_control(db, zDb, SQLITE_FCNTL_FILE_POINTER, &pFile)!=SQLITE_OK
   || pFile==0 ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(%Q): no such database",
        zFunc, zDb));
    return;
  }
  if( !vlogVfsIsStore(pFile) ){
    funcError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(%Q): not a database of the "
        "vlog VFS (open it with vfs=vlog)", zFunc, zDb));
    return;
  }
  rc = bDrop ? vlogVfsSnapshotDrop(pFile, zName, &nCopied)
             : vlogVfsSnapshot(pFile, zName);
  if( rc==SQLITE_LOCKED ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): not inside a transaction of "
        "this connection", zFunc, zDb, zName));
  }else if( rc==SQLITE_CONSTRAINT ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): a snapshot of that name exists",
        zFunc, zDb, zName));
  }else if( rc==SQLITE_BUSY ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): the database is being written, "
        "or (WAL mode) its WAL holds frames: PRAGMA wal_checkpoint(TRUNCATE), then "
        "try again", zFunc, zDb, zName));
  }else if( rc==SQLITE_READONLY ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): the database is read-only "
        "(or a snapshot)", zFunc, zDb, zName));
  }else if( rc==SQLITE_ERROR && bDrop ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): no such snapshot", zFunc,
        zDb, zName));
  }else if( rc==SQLITE_ERROR ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): the database is empty, or "
        "an overlay whose base still shows (vlog_materialize() it first)",
        zFunc, zDb, zName));
  }else if( rc ){
    funcError(ctx, rc, sqlite3_mprintf("%s(%Q, %Q): %s", zFunc, zDb, zName,
        sqlite3_errstr(rc)));
  }else if( bDrop ){
    sqlite3_result_int64(ctx, nCopied);
  }else{
    sqlite3_result_text(ctx, zName, -1, SQLITE_TRANSIENT);
  }
}
static void snapshotFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  snapshotCall(ctx, argv, 0);
}
static void snapshotDropFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  snapshotCall(ctx, argv, 1);
}

/*
** Registration.
*/


int vlogIntrospectRegister(sqlite3 *db){
  static const struct {
    const char *zName;
    int nArg;
    void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  } aFunc[] = {
    { "vlog_checkpoint", 1, checkpointFunc },
    { "vlog_maintain",   1, maintainFunc },
    { "vlog_maintain",   2, maintainFunc },
    { "vlog_gc",         1, gcFunc },
    { "vlog_config",     2, configFunc },
    { "vlog_materialize", 1, materializeFunc },
    { "vlog_materialize", 2, materializeFunc },
    { "vlog_snapshot",   2, snapshotFunc },
    { "vlog_snapshot_drop", 2, snapshotDropFunc },
    { "vlog_config",     3, configFunc },
    { "vlog_verify",     1, verifyFunc },
  };
  int i;
  int rc = SQLITE_OK;

  for(i=0; rc==SQLITE_OK && i<(int)(sizeof(aTable)/sizeof(aTable[0])); i++){
    rc = sqlite3_create_module_v2(db, aTable[i].zName, &introModule,
                                  (void*)&aTable[i], 0);
  }
  for(i=0; rc==SQLITE_OK && i<(int)(sizeof(aFunc)/sizeof(aFunc[0])); i++){
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
        SQLITE_UTF8|SQLITE_DIRECTONLY, 0, aFunc[i].xFunc, 0, 0, 0);
  }
  return rc;
}
