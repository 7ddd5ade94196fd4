/*
** bench_kv.c: the vlog virtual table against plain SQLite tables and LSM1,
** in one run, reported as ratios (make bench-kv; issue 4).
**
** USAGE
**   bench_kv ?OPTIONS?
**     --rows N          rows of the 1,000-byte workloads (default 200000)
**     --lookups N       point lookups in them (default rows/2)
**     --value-size N    bytes per value in them (default 1000)
**     --batch N         rows per write transaction in them (default 1000)
**     --blobs N         values of the large-value workload (default 2000)
**     --blob-size N     bytes per large value (default 262144, 256 KiB)
**     --blob-lookups N  point lookups in it (default blobs)
**     --blob-batch N    large values per write transaction (default 10)
**     --engines LIST    comma-separated subset of
**                       vlog,vlog-bg,norowid,rowid,lsm1
**     --workloads LIST  comma-separated subset of random,text,blob
**     --vlog FILE       the vlog extension (default ./vlog.so)
**     --vlog-options S  more options for the vlog table, appended to its
**                       CREATE VIRTUAL TABLE (for example "zstd_level=0")
**     --lsm FILE        LSM1 built as an extension (default
**                       ./build/bench/lsm1.so)
**     --dir DIR         scratch folder (default ./build/bench/kv); each
**                       engine runs in DIR/WORKLOAD/ENGINE, emptied first
**     --keep            leave the engines' files there (default: each
**                       folder is removed once measured)
**
** THE ENGINES (in this order, one after the other, same data)
**   vlog     CREATE VIRTUAL TABLE kv USING vlog(file='kv.vlog', key='blob'),
**            columns key, value; vlog.so loaded with sqlite3_load_extension
**            (entry point sqlite3_vlog_init).  Defaults for inline_max and
**            zstd_level.
**   vlog-bg  the same table with the store's background_compression setting
**            on (SELECT vlog_config('kv', 'background_compression', 1),
**            before the load): commits write value-log frames raw and
**            maintenance compresses them.  After the load (and its close)
**            a new connection runs SELECT vlog_maintain('kv', 'full') and
**            closes: "maintain full" is that time, reported apart from the
**            load; the bytes on disk are measured after it, the bytes after
**            the load alone too.  The text workload only (random values
**            would be rewritten raw, and 256 KiB ones alone in a frame are
**            no text load).
**   norowid  CREATE TABLE kv(key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID
**   rowid    CREATE TABLE kv(key BLOB, value BLOB) and a UNIQUE index on key
**            (created before the load, so maintained row by row)
**   lsm1     CREATE VIRTUAL TABLE kv USING lsm1('kv.lsm', k, BLOB, v), from
**            ext/lsm1 of the SQLite source tree, loaded as an extension
**            (entry point sqlite3_lsm_init)
** All four run in the SQLite of this process (Debian's libsqlite3), each on
** its own connection to DIR/WORKLOAD/ENGINE/kv.db; the process works in that
** folder, so the relative file names above land there.  SQLite's settings
** are its defaults (4096-byte pages, 2 MB page cache, no mmap); LSM1's are
** its own (1 MiB blocks, mmap, autowork).  An engine whose extension cannot
** be loaded, or whose table cannot be created, is reported as "not
** available" with the error, and the others still run.
**
** DURABILITY (the same level for all)
** Every connection runs PRAGMA journal_mode=WAL and PRAGMA
** synchronous=NORMAL.  For the SQLite tables that means: a commit appends
** to the WAL without syncing; the WAL is synced before each checkpoint and
** the database after it, so a power loss can lose the last commits but
** never corrupts.  vlog follows the connection's synchronous setting.
** LSM1 runs at LSM_SAFETY_NORMAL, LSM's default, the same contract: the
** log is not synced at commit, the database is synced at checkpoint.  The
** lsm1 virtual table has no way to set it (it never calls lsm_config()),
** so NORMAL is also the only level at which it can be compared.
**
** THE WORKLOADS
**   random  ROWS rows: 16-byte random keys, VALUE-SIZE bytes of PRNG output
**           per value (incompressible)
**   text    the same keys, with text-like values: words drawn from a
**           32-word vocabulary with a skew towards the first ones (zstd
**           compresses the stream about 3.6x, one value alone about 2.5x;
**           the run prints the figures)
**   blob    BLOBS rows: 16-byte random keys, BLOB-SIZE bytes of PRNG output
**           per value
** Each one, per engine:
**   1. insert: the rows in key-number order (the keys are random, so the
**      order of the keys is random), BATCH rows per BEGIN...COMMIT, with
**      one prepared INSERT.  The values of a batch are generated before
**      its clock starts, so the time is the engine's alone.
**   2. checkpoint + close: PRAGMA wal_checkpoint(TRUNCATE), then
**      sqlite3_close() (which disconnects the virtual tables; LSM1 flushes
**      and checkpoints there).  "load total" is 1 + 2, and is what the
**      insert goals are judged on, so that no engine gains by leaving work
**      to its close.
**   2b. (vlog-bg only) maintenance: vlog_maintain('kv', 'full') on a new
**      connection, then close; timed apart ("maintain full").
**   3. bytes on disk: every file left in the engine's folder once closed
**      (database, -wal, -shm, kv.lsm and its log, kv.vlog, and for the
**      virtual tables the small SQLite file that holds their schema);
**      allocated blocks (st_blocks*512) and apparent sizes (st_size).
**   4. random lookups, on a new connection: LOOKUPS keys chosen at random
**      among those inserted, in one read transaction,
**      SELECT length(substr(value,2)) FROM kv WHERE key=?
**      (length(value) alone would be answered from SQLite's record header
**      without reading the value).  Every answer must be VALUE-SIZE-1.
**      Untimed afterwards: 100 values are read whole and compared byte for
**      byte, and a key never inserted must find no row.
**   5. full scan (random and text only):
**      SELECT count(*), sum(length(substr(value,2))) FROM kv
**      must give ROWS and ROWS*(VALUE-SIZE-1).
** Each engine runs each workload in a child process of its own, so that
** a crash is reported as a failure of that engine alone.
** Keys, values and the lookup sequence come from fixed-seed PRNGs
** (splitmix64): every engine and every run sees the same data.
**
** OUTPUT
** One table per workload: seconds (or MB) for each engine, then the ratio
** vlog/other for each other engine (below 1.00: vlog is faster or
** smaller).  The machine is shared and noisy: only ratios mean anything.
** Then the goals of issue 4, each "met" or "MISSED" (reported, not
** enforced).  Exit status: 0 when every engine that was available ran its
** workloads correctly, 1 when one failed or gave a wrong answer, 2 on bad
** usage.
**
** READING THE RESULTS
** The WITHOUT ROWID table is at its worst here, and that is SQLite, not
** the harness: its rows are index b-tree cells, whose largest local
** payload at 4096-byte pages is about 1,002 bytes.  A 16-byte key with a
** 1,000-byte value is just over it, so each row keeps 489 bytes in the
** leaf and spills the rest onto an overflow page of its own (about 4.6x
** the raw bytes on disk), and each key comparison of a seek on such a cell
** reads the whole record, overflow included (sqlite3BtreeIndexMoveto()):
** slow inserts, and with 256 KiB values slow lookups too.  The rowid table
** keeps its values in a table b-tree and seeks through the small index.
*/
#include <sqlite3.h>
#include <zstd.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_SIZE      16
#define N_VERIFY      100           /* values compared whole after lookups */
#define SEED_KEYS     0x766c6f674b56424bULL      /* "vlogKVBK" */
#define SEED_VALUES   0x76616c7565733432ULL
#define SEED_LOOKUP   0x6c6f6f6b75707321ULL
#define SEED_VERIFY   0x7665726966792121ULL

/*************************************************************************
** Engines, workloads, phases.
*/
enum { E_VLOG, E_VLOGBG, E_NOROWID, E_ROWID, E_LSM1, E_RDEL, E_RVFS, N_ENGINE };
enum { EXT_NONE, EXT_VLOG, EXT_LSM };

typedef struct Engine Engine;
struct Engine {
  const char *zName;          /* column heading, --engines name */
  int eExt;                   /* extension to load first: EXT_* */
  const char *zCreate;        /* schema, run once on the load connection */
  const char *zInsert;        /* ?1 key, ?2 value */
  const char *zLookup;        /* ?1 key; the timed point lookup */
  const char *zFetch;         /* ?1 key; the whole value, for verification */
  const char *zScan;          /* count(*), sum of lengths */
  const char *zDurability;    /* printed in the header */
  int bBgCompress;            /* background_compression, then a full pass */
  const char *zVfs;           /* the VFS of its database (0: the default) */
  const char *zJournal;       /* its journal_mode (0: WAL) */
  int bVfsOnly;               /* off unless --engines names it (make
                              ** bench-vfs's pair, rowid-del and rowid-vfs) */
};

/* The rowid table's statements (rowid, rowid-del, rowid-vfs) */
#define ROWID_SQL \
    "CREATE TABLE kv(key BLOB, value BLOB);" \
    "CREATE UNIQUE INDEX kv_key ON kv(key)", \
    "INSERT INTO kv(key, value) VALUES(?1, ?2)", \
    "SELECT length(substr(value,2)) FROM kv WHERE key=?1", \
    "SELECT value FROM kv WHERE key=?1", \
    "SELECT count(*), sum(length(substr(value,2))) FROM kv",

static const Engine aEngine[N_ENGINE] = {
  { "vlog", EXT_VLOG,
    "CREATE VIRTUAL TABLE kv USING vlog(file='kv.vlog', key='blob')",
    "INSERT INTO kv(key, value) VALUES(?1, ?2)",
    "SELECT length(substr(value,2)) FROM kv WHERE key=?1",
    "SELECT value FROM kv WHERE key=?1",
    "SELECT count(*), sum(length(substr(value,2))) FROM kv",
    "PRAGMA synchronous=NORMAL on the connection, which the module follows", 0, 0, 0, 0 },
  { "vlog-bg", EXT_VLOG,
    "CREATE VIRTUAL TABLE kv USING vlog(file='kv.vlog', key='blob')",
    "INSERT INTO kv(key, value) VALUES(?1, ?2)",
    "SELECT length(substr(value,2)) FROM kv WHERE key=?1",
    "SELECT value FROM kv WHERE key=?1",
    "SELECT count(*), sum(length(substr(value,2))) FROM kv",
    "as vlog, with background_compression=1 (frames raw at commit) and "
    "vlog_maintain('kv','full') after the load", 1, 0, 0, 0 },
  { "norowid", EXT_NONE,
    "CREATE TABLE kv(key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID",
    "INSERT INTO kv(key, value) VALUES(?1, ?2)",
    "SELECT length(substr(value,2)) FROM kv WHERE key=?1",
    "SELECT value FROM kv WHERE key=?1",
    "SELECT count(*), sum(length(substr(value,2))) FROM kv",
    "journal_mode=WAL, synchronous=NORMAL: commits unsynced, WAL synced "
    "at checkpoint", 0, 0, 0, 0 },
  { "rowid", EXT_NONE,
    ROWID_SQL
    "journal_mode=WAL, synchronous=NORMAL (as norowid)", 0, 0, 0, 0 },
  { "lsm1", EXT_LSM,
    "CREATE VIRTUAL TABLE kv USING lsm1('kv.lsm', k, BLOB, v)",
    "INSERT INTO kv(k, v) VALUES(?1, ?2)",
    "SELECT length(substr(v,2)) FROM kv WHERE k=?1",
    "SELECT v FROM kv WHERE k=?1",
    "SELECT count(*), sum(length(substr(v,2))) FROM kv",
    "LSM_SAFETY_NORMAL, LSM's default (the lsm1 vtab cannot change it): "
    "log unsynced at commit, database synced at checkpoint", 0, 0, 0, 0 },
  { "rowid-del", EXT_NONE,
    ROWID_SQL
    "the rowid table on the unix VFS, journal_mode=DELETE, "
    "synchronous=NORMAL (a sync of the journal and one of the database "
    "per commit)", 0, 0, "DELETE", 1 },
  { "rowid-vfs", EXT_VLOG,
    ROWID_SQL
    "the same on the vlog VFS (the journal in memory; one engine commit, "
    "synced, per transaction)", 0, "vlog", "DELETE", 1 },
};

enum { W_RANDOM, W_TEXT, W_BLOB, N_WORKLOAD };
enum { V_RANDOM, V_TEXT };      /* kinds of value */

typedef struct Workload Workload;
struct Workload {
  const char *zName;          /* --workloads name, folder name */
  char zTitle[128];           /* table heading */
  int eValue;                 /* V_RANDOM or V_TEXT */
  int64_t nRow;               /* rows to insert */
  int nVal;                   /* bytes per value */
  int nBatch;                 /* rows per write transaction */
  int64_t nLookup;            /* point lookups */
  int bScan;                  /* run the full scan */
  uint64_t iSeed;             /* keys and values of this workload */
};

/* Measurements, in the order they are printed. */
enum { PH_INSERT, PH_CLOSE, PH_LOAD, PH_MAINT, PH_LOOKUP, PH_SCAN, N_PHASE };
static const char *azPhase[N_PHASE] = {
  "insert (s)", "checkpoint + close (s)", "load total (s)",
  "maintain full (s)", "random lookups (s)", "full scan (s)"
};

enum { RS_SKIPPED, RS_OK, RS_NA, RS_FAILED };   /* Result.eState */

typedef struct Result Result;
struct Result {
  int eState;                 /* RS_* */
  double aSec[N_PHASE];       /* seconds per phase */
  int64_t nDisk;              /* bytes allocated on disk after close (and
                              ** for vlog-bg, after the full pass) */
  int64_t nDiskLoad;          /* ... after the load alone */
  int64_t nApparent;          /* sum of the files' st_size */
  char zErr[512];             /* RS_NA or RS_FAILED: why */
};

/* Command-line settings. */
typedef struct Config Config;
struct Config {
  int64_t nRow, nLookup, nBlob, nBlobLookup;
  int nVal, nBatch, nBlobSize, nBlobBatch;
  int aEngineOn[N_ENGINE];
  int aWorkloadOn[N_WORKLOAD];
  char zVlog[PATH_MAX];       /* absolute where it could be resolved */
  char zLsm[PATH_MAX];
  char zDir[PATH_MAX];
  const char *zVlogOpts;      /* --vlog-options, or 0 */
  int bKeep;
};

/*************************************************************************
** Deterministic keys and values.
*/
static uint64_t splitmix64(uint64_t *pState){
  uint64_t z = (*pState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z>>30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z>>27)) * 0x94d049bb133111ebULL;
  return z ^ (z>>31);
}

/* Key number i of the workload seeded iSeed: 16 random bytes. */
static void makeKey(uint64_t iSeed, uint64_t i, unsigned char *aKey){
  uint64_t s = SEED_KEYS ^ iSeed ^ (i * 0x100000001b3ULL);
  uint64_t a = splitmix64(&s);
  uint64_t b = splitmix64(&s);
  memcpy(aKey, &a, 8);
  memcpy(aKey+8, &b, 8);
}

/* The vocabulary of the text-like values; earlier words are more likely. */
static const char *azWord[] = {
  "the", "of", "and", "to", "in", "a", "is", "that",
  "for", "it", "as", "was", "with", "be", "by", "on",
  "not", "he", "this", "are", "or", "his", "from", "at",
  "which", "but", "have", "an", "had", "they", "you", "were",
};
#define N_WORD ((int)(sizeof(azWord)/sizeof(azWord[0])))

/*
** Write into aVal the nVal bytes of the value of row i: PRNG output
** (V_RANDOM), or words separated by spaces, a full stop now and then
** (V_TEXT).
*/
static void makeVal(const Workload *pW, uint64_t i, unsigned char *aVal){
  uint64_t s = SEED_VALUES ^ pW->iSeed ^ (i * 0x9e3779b97f4a7c15ULL);
  int n = pW->nVal;
  int j = 0;
  if( pW->eValue==V_RANDOM ){
    while( j<n ){
      uint64_t v = splitmix64(&s);
      int nCopy = n-j<8 ? n-j : 8;
      memcpy(&aVal[j], &v, (size_t)nCopy);
      j += nCopy;
    }
  }else{
    while( j<n ){
      uint64_t r = splitmix64(&s);
      int a = (int)(r % N_WORD);
      int b = (int)((r>>21) % N_WORD);
      int c = (int)((r>>42) % N_WORD);
      int w = a<b ? a : b;
      const char *z;
      w = w<c ? w : c;
      for(z=azWord[w]; *z && j<n; z++) aVal[j++] = (unsigned char)*z;
      if( j<n ) aVal[j++] = ((r>>16) % 12)==0 ? '.' : ' ';
    }
  }
}

/*************************************************************************
** Small utilities.
*/
static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec*1e-9;
}

static void setErr(Result *pRes, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(pRes->zErr, sizeof(pRes->zErr), zFmt, ap);
  va_end(ap);
}

/* Record db's error message for the step zWhat; return SQLITE_ERROR. */
static int dbErr(Result *pRes, sqlite3 *db, const char *zWhat){
  setErr(pRes, "%s: %s", zWhat, db ? sqlite3_errmsg(db) : "out of memory");
  return SQLITE_ERROR;
}

/* mkdir -p */
static int makeDirs(const char *zPath){
  char z[PATH_MAX];
  char *p;
  snprintf(z, sizeof(z), "%s", zPath);
  for(p=z+1; *p; p++){
    if( *p=='/' ){
      *p = 0;
      if( mkdir(z, 0755) && errno!=EEXIST ) return -1;
      *p = '/';
    }
  }
  if( mkdir(z, 0755) && errno!=EEXIST ) return -1;
  return 0;
}

static int removeOne(const char *zPath, const struct stat *pSt, int eType,
                     struct FTW *pFtw){
  (void)pSt; (void)pFtw;
  return eType==FTW_DP ? rmdir(zPath) : unlink(zPath);
}

/* rm -rf of one engine's scratch folder (always below --dir). */
static void removeTree(const char *zPath){
  nftw(zPath, removeOne, 16, FTW_DEPTH|FTW_PHYS);
}

/* Add up the allocated and apparent sizes of the files under zPath. */
static void diskUsage(const char *zPath, int64_t *pnDisk, int64_t *pnSize){
  DIR *pDir = opendir(zPath);
  struct dirent *pEnt;
  if( pDir==0 ) return;
  while( (pEnt = readdir(pDir))!=0 ){
    char zFile[PATH_MAX];
    struct stat st;
    if( strcmp(pEnt->d_name, ".")==0 || strcmp(pEnt->d_name, "..")==0 ){
      continue;
    }
    snprintf(zFile, sizeof(zFile), "%s/%s", zPath, pEnt->d_name);
    if( lstat(zFile, &st) ) continue;
    if( S_ISDIR(st.st_mode) ){
      diskUsage(zFile, pnDisk, pnSize);
    }else if( S_ISREG(st.st_mode) ){
      *pnDisk += (int64_t)st.st_blocks * 512;
      *pnSize += (int64_t)st.st_size;
    }
  }
  closedir(pDir);
}

/*************************************************************************
** One engine on one workload.
*/

/*
** Open zFile (relative to the current folder, the engine's own) with the
** engine's extension loaded, WAL and synchronous=NORMAL.  On failure the
** handle is closed, *ppDb is 0 and pRes->zErr says why.
*/
static int openDb(const Config *pCfg, const Engine *pE, const char *zFile,
                  sqlite3 **ppDb, Result *pRes){
  sqlite3 *db = 0;
  int rc = SQLITE_OK;
  if( pE->zVfs ){
    /* the VFS is registered by vlog's first load, on any connection */
    char *zMsg = 0;
    rc = sqlite3_open(":memory:", &db);
    if( rc==SQLITE_OK ){
      sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, (int*)0);
      rc = sqlite3_load_extension(db, pCfg->zVlog, "sqlite3_vlog_init", &zMsg);
      if( rc ) setErr(pRes, "loading %s: %s", pCfg->zVlog, zMsg ? zMsg : "error");
    }
    sqlite3_free(zMsg);
    sqlite3_close(db);
    db = 0;
    if( rc ) return rc;
  }
  rc = sqlite3_open_v2(zFile, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE,
                       pE->zVfs);
  if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, "open");
  if( rc==SQLITE_OK && pE->eExt!=EXT_NONE ){
    const char *zLib = pE->eExt==EXT_VLOG ? pCfg->zVlog : pCfg->zLsm;
    const char *zEntry = pE->eExt==EXT_VLOG ? "sqlite3_vlog_init"
                                            : "sqlite3_lsm_init";
    char *zMsg = 0;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, (int*)0);
    rc = sqlite3_load_extension(db, zLib, zEntry, &zMsg);
    if( rc!=SQLITE_OK ){
      setErr(pRes, "loading %s: %s", zLib, zMsg ? zMsg : "error");
    }
    sqlite3_free(zMsg);
  }
  if( rc==SQLITE_OK ){
    const char *zMode = pE->zJournal ? pE->zJournal : "WAL";
    char *zSql = sqlite3_mprintf("PRAGMA journal_mode=%s", zMode);
    sqlite3_stmt *pStmt = 0;
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW
     && sqlite3_stricmp((const char*)sqlite3_column_text(pStmt, 0), zMode)
    ){
      setErr(pRes, "journal_mode=%s refused: %s", zMode,
             (const char*)sqlite3_column_text(pStmt, 0));
      rc = SQLITE_ERROR;
    }
    if( sqlite3_finalize(pStmt)!=SQLITE_OK && rc==SQLITE_OK ){
      rc = dbErr(pRes, db, zSql);
    }
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "PRAGMA synchronous=NORMAL", 0, 0, 0);
    if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, "PRAGMA synchronous");
  }
  if( rc!=SQLITE_OK ){
    sqlite3_close_v2(db);
    db = 0;
  }
  *ppDb = db;
  return rc;
}

static int execSql(sqlite3 *db, const char *zSql, Result *pRes){
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, zSql);
  return rc;
}

/* Phase 1: the timed inserts.  Generates each batch before timing it. */
static int loadRows(sqlite3 *db, const Engine *pE, const Workload *pW,
                    Result *pRes){
  sqlite3_stmt *pIns = 0;
  unsigned char *aBuf = malloc((size_t)pW->nBatch * (size_t)pW->nVal);
  unsigned char *aKeys = malloc((size_t)pW->nBatch * KEY_SIZE);
  double tTotal = 0.0;
  int64_t i;
  int rc = SQLITE_OK;

  if( aBuf==0 || aKeys==0 ){
    setErr(pRes, "out of memory");
    rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, pE->zInsert, -1, &pIns, 0);
    if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, pE->zInsert);
  }
  for(i=0; rc==SQLITE_OK && i<pW->nRow; i+=pW->nBatch){
    int64_t nThis = pW->nRow-i < pW->nBatch ? pW->nRow-i : pW->nBatch;
    int64_t j;
    double t0;
    for(j=0; j<nThis; j++){
      makeKey(pW->iSeed, (uint64_t)(i+j), &aKeys[j*KEY_SIZE]);
      makeVal(pW, (uint64_t)(i+j), &aBuf[j*pW->nVal]);
    }
    t0 = now();
    rc = execSql(db, "BEGIN", pRes);
    for(j=0; rc==SQLITE_OK && j<nThis; j++){
      sqlite3_bind_blob(pIns, 1, &aKeys[j*KEY_SIZE], KEY_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob(pIns, 2, &aBuf[j*pW->nVal], pW->nVal, SQLITE_STATIC);
      if( sqlite3_step(pIns)!=SQLITE_DONE ){
        rc = dbErr(pRes, db, "insert");
      }
      sqlite3_reset(pIns);
    }
    if( rc==SQLITE_OK ){
      rc = execSql(db, "COMMIT", pRes);
    }else{
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    }
    tTotal += now() - t0;
  }
  sqlite3_finalize(pIns);
  free(aBuf);
  free(aKeys);
  pRes->aSec[PH_INSERT] = tTotal;
  return rc;
}

/*
** Phase 4: nLookup timed point lookups of random inserted keys in one
** read transaction, each answer checked; then, untimed, N_VERIFY values
** compared whole and one absent key.
*/
static int lookupRows(sqlite3 *db, const Engine *pE, const Workload *pW,
                      Result *pRes){
  sqlite3_stmt *pLook = 0;
  sqlite3_stmt *pFetch = 0;
  unsigned char *aKeys = 0;
  unsigned char *aExpect = 0;
  int64_t nWrong = 0, nMissing = 0;
  uint64_t s = SEED_LOOKUP;
  int64_t n;
  double t0;
  int rc;

  /* The key sequence is drawn up front so that only lookups are timed. */
  aKeys = malloc((size_t)pW->nLookup * KEY_SIZE + 1);
  if( aKeys==0 ){
    setErr(pRes, "out of memory");
    return SQLITE_NOMEM;
  }
  for(n=0; n<pW->nLookup; n++){
    makeKey(pW->iSeed, splitmix64(&s) % (uint64_t)pW->nRow,
            &aKeys[n*KEY_SIZE]);
  }

  rc = sqlite3_prepare_v2(db, pE->zLookup, -1, &pLook, 0);
  if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, pE->zLookup);
  t0 = now();
  if( rc==SQLITE_OK ) rc = execSql(db, "BEGIN", pRes);
  for(n=0; rc==SQLITE_OK && n<pW->nLookup; n++){
    int e;
    sqlite3_bind_blob(pLook, 1, &aKeys[n*KEY_SIZE], KEY_SIZE, SQLITE_STATIC);
    e = sqlite3_step(pLook);
    if( e==SQLITE_ROW ){
      if( sqlite3_column_int64(pLook, 0)!=pW->nVal-1 ) nWrong++;
      e = sqlite3_step(pLook);
      if( e==SQLITE_ROW ){ nWrong++; e = SQLITE_DONE; }
    }else if( e==SQLITE_DONE ){
      nMissing++;
    }
    if( e!=SQLITE_DONE ) rc = dbErr(pRes, db, "lookup");
    sqlite3_reset(pLook);
  }
  if( rc==SQLITE_OK ) rc = execSql(db, "COMMIT", pRes);
  pRes->aSec[PH_LOOKUP] = now() - t0;
  sqlite3_finalize(pLook);
  free(aKeys);
  if( rc==SQLITE_OK && (nWrong || nMissing) ){
    setErr(pRes, "lookups: %lld keys not found, %lld wrong lengths "
           "(expected %d)", (long long)nMissing, (long long)nWrong,
           pW->nVal-1);
    rc = SQLITE_ERROR;
  }

  /* Untimed: whole values, and a key that was never inserted. */
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, pE->zFetch, -1, &pFetch, 0);
    if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, pE->zFetch);
  }
  aExpect = malloc((size_t)pW->nVal);
  if( rc==SQLITE_OK && aExpect==0 ){
    setErr(pRes, "out of memory");
    rc = SQLITE_NOMEM;
  }
  s = SEED_VERIFY;
  for(n=0; rc==SQLITE_OK && n<=N_VERIFY; n++){
    unsigned char aKey[KEY_SIZE];
    uint64_t i = splitmix64(&s) % (uint64_t)pW->nRow;
    int e;
    if( n<N_VERIFY ){
      makeKey(pW->iSeed, i, aKey);
      makeVal(pW, i, aExpect);
    }else{
      makeKey(pW->iSeed, (uint64_t)pW->nRow, aKey);   /* never inserted */
    }
    sqlite3_bind_blob(pFetch, 1, aKey, KEY_SIZE, SQLITE_STATIC);
    e = sqlite3_step(pFetch);
    if( n==N_VERIFY ){
      if( e==SQLITE_ROW ){
        setErr(pRes, "a key never inserted was found");
        rc = SQLITE_ERROR;
      }else if( e!=SQLITE_DONE ){
        rc = dbErr(pRes, db, "lookup of an absent key");
      }
    }else if( e!=SQLITE_ROW ){
      if( e==SQLITE_DONE ){
        setErr(pRes, "row %llu not found", (unsigned long long)i);
        rc = SQLITE_ERROR;
      }else{
        rc = dbErr(pRes, db, "fetch");
      }
    }else if( sqlite3_column_bytes(pFetch, 0)!=pW->nVal
           || memcmp(sqlite3_column_blob(pFetch, 0), aExpect,
                     (size_t)pW->nVal)!=0 ){
      setErr(pRes, "row %llu: wrong value (%d bytes)", (unsigned long long)i,
             sqlite3_column_bytes(pFetch, 0));
      rc = SQLITE_ERROR;
    }
    sqlite3_reset(pFetch);
  }
  sqlite3_finalize(pFetch);
  free(aExpect);
  return rc;
}

/* Phase 5: the timed full scan, its totals checked. */
static int scanRows(sqlite3 *db, const Engine *pE, const Workload *pW,
                    Result *pRes){
  sqlite3_stmt *pScan = 0;
  int64_t nCount = -1, nSum = -1;
  double t0;
  int rc = sqlite3_prepare_v2(db, pE->zScan, -1, &pScan, 0);
  if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, pE->zScan);
  t0 = now();
  if( rc==SQLITE_OK ){
    if( sqlite3_step(pScan)==SQLITE_ROW ){
      nCount = sqlite3_column_int64(pScan, 0);
      nSum = sqlite3_column_int64(pScan, 1);
    }
    if( sqlite3_reset(pScan)!=SQLITE_OK ) rc = dbErr(pRes, db, "scan");
  }
  pRes->aSec[PH_SCAN] = now() - t0;
  sqlite3_finalize(pScan);
  if( rc==SQLITE_OK
   && (nCount!=pW->nRow || nSum!=pW->nRow*(int64_t)(pW->nVal-1)) ){
    setErr(pRes, "scan: %lld rows, %lld bytes (expected %lld, %lld)",
           (long long)nCount, (long long)nSum, (long long)pW->nRow,
           (long long)(pW->nRow*(int64_t)(pW->nVal-1)));
    rc = SQLITE_ERROR;
  }
  return rc;
}

/*
** vlog-bg's maintenance, timed: on a new connection, one full pass (which
** compresses what the load wrote raw), then close.  The pass's report must
** say it succeeded and leave nothing to compress in sealed segments.
*/
static int maintainFull(const Config *pCfg, const Engine *pE, Result *pRes){
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  double t0 = now();
  int rc = openDb(pCfg, pE, "kv.db", &db, pRes);
  if( rc==SQLITE_OK ){
    const char *zSql = "SELECT json_extract(r, '$.result'),"
                       " json_extract(r, '$.plan.compress') FROM"
                       " (SELECT vlog_maintain('kv', 'full') AS r)";
    rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
    if( rc!=SQLITE_OK ) rc = dbErr(pRes, db, zSql);
  }
  if( rc==SQLITE_OK ){
    if( sqlite3_step(pStmt)!=SQLITE_ROW ){
      rc = dbErr(pRes, db, "vlog_maintain('kv', 'full')");
    }else if( sqlite3_column_text(pStmt, 0)==0
           || strcmp((const char*)sqlite3_column_text(pStmt, 0), "ok")!=0
           || sqlite3_column_int(pStmt, 1)<1 ){
      setErr(pRes, "vlog_maintain('kv', 'full'): result %s, %d segments to "
             "compress (expected ok and some)",
             sqlite3_column_text(pStmt, 0) ? (const char*)sqlite3_column_text(pStmt, 0)
                                           : "NULL", sqlite3_column_int(pStmt, 1));
      rc = SQLITE_ERROR;
    }
  }
  sqlite3_finalize(pStmt);
  if( db && sqlite3_close(db)!=SQLITE_OK && rc==SQLITE_OK ){
    rc = dbErr(pRes, db, "close");
    sqlite3_close_v2(db);
  }
  pRes->aSec[PH_MAINT] = now() - t0;
  return rc;
}

/*
** Run workload pW on engine pE in folder zDir (emptied first).  The result
** is RS_NA when the engine cannot be set up (extension or table), RS_FAILED
** on a later error or a wrong answer, RS_OK otherwise.
*/
static void runEngine(const Config *pCfg, const Engine *pE,
                      const Workload *pW, const char *zDir, Result *pRes){
  char zHome[PATH_MAX];
  sqlite3 *db = 0;
  double t0;
  int rc;

  memset(pRes, 0, sizeof(*pRes));
  pRes->eState = RS_NA;
  if( getcwd(zHome, sizeof(zHome))==0 ){
    setErr(pRes, "getcwd: %s", strerror(errno));
    return;
  }
  removeTree(zDir);
  if( makeDirs(zDir) || chdir(zDir) ){
    setErr(pRes, "%s: %s", zDir, strerror(errno));
    return;
  }

  /* Set-up: a failure here means "not available". */
  rc = openDb(pCfg, pE, "kv.db", &db, pRes);
  if( rc==SQLITE_OK && pE->eExt==EXT_VLOG && pCfg->zVlogOpts ){
    char *zSql = sqlite3_mprintf("%.*s, %s)", (int)strlen(pE->zCreate)-1,
                                 pE->zCreate, pCfg->zVlogOpts);
    rc = zSql ? execSql(db, zSql, pRes) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }else if( rc==SQLITE_OK ){
    rc = execSql(db, pE->zCreate, pRes);
  }
  if( rc==SQLITE_OK && pE->bBgCompress ){
    rc = execSql(db, "SELECT vlog_config('kv', 'background_compression', 1)", pRes);
  }
  if( rc==SQLITE_OK ){
    pRes->eState = RS_FAILED;

    /* 1, 2: load, checkpoint, close */
    rc = loadRows(db, pE, pW, pRes);
    t0 = now();
    if( rc==SQLITE_OK ){
      rc = execSql(db, "PRAGMA wal_checkpoint(TRUNCATE)", pRes);
    }
    if( sqlite3_close(db)!=SQLITE_OK && rc==SQLITE_OK ){
      rc = dbErr(pRes, db, "close");
      sqlite3_close_v2(db);
    }
    db = 0;
    pRes->aSec[PH_CLOSE] = now() - t0;
    pRes->aSec[PH_LOAD] = pRes->aSec[PH_INSERT] + pRes->aSec[PH_CLOSE];

    /* 3: bytes on disk (after maintenance, for vlog-bg) */
    diskUsage(".", &pRes->nDiskLoad, &pRes->nApparent);
    if( rc==SQLITE_OK && pE->bBgCompress ) rc = maintainFull(pCfg, pE, pRes);
    pRes->nApparent = 0;
    diskUsage(".", &pRes->nDisk, &pRes->nApparent);

    /* 4, 5: reads on a new connection */
    if( rc==SQLITE_OK ) rc = openDb(pCfg, pE, "kv.db", &db, pRes);
    if( rc==SQLITE_OK ) rc = lookupRows(db, pE, pW, pRes);
    if( rc==SQLITE_OK && pW->bScan ) rc = scanRows(db, pE, pW, pRes);
    if( db && sqlite3_close(db)!=SQLITE_OK && rc==SQLITE_OK ){
      rc = dbErr(pRes, db, "close");
      sqlite3_close_v2(db);
    }
    db = 0;
    if( rc==SQLITE_OK ) pRes->eState = RS_OK;
  }
  if( db ) sqlite3_close_v2(db);
  if( chdir(zHome) ){
    setErr(pRes, "chdir %s: %s", zHome, strerror(errno));
    pRes->eState = RS_FAILED;
  }
  if( !pCfg->bKeep ) removeTree(zDir);
}

/*
** runEngine() in a child process, so that an engine that crashes (vlog
** while it is being written) is reported as FAILED and the others still
** run.  The child sends its Result back through a pipe.
*/
static void runEngineInChild(const Config *pCfg, const Engine *pE,
                             const Workload *pW, const char *zDir,
                             Result *pRes){
  int aFd[2];
  pid_t pid;
  memset(pRes, 0, sizeof(*pRes));
  pRes->eState = RS_FAILED;
  fflush(stdout);
  if( pipe(aFd) ){
    setErr(pRes, "pipe: %s", strerror(errno));
    return;
  }
  pid = fork();
  if( pid<0 ){
    setErr(pRes, "fork: %s", strerror(errno));
    close(aFd[0]);
    close(aFd[1]);
    return;
  }
  if( pid==0 ){
    Result res;
    const char *p = (const char*)&res;
    size_t n = sizeof(res);
    close(aFd[0]);
    runEngine(pCfg, pE, pW, zDir, &res);
    while( n>0 ){
      ssize_t k = write(aFd[1], p, n);
      if( k<=0 ) _exit(1);
      p += k;
      n -= (size_t)k;
    }
    _exit(0);
  }else{
    Result res;
    char *p = (char*)&res;
    size_t n = 0;
    int status = 0;
    close(aFd[1]);
    while( n<sizeof(res) ){
      ssize_t k = read(aFd[0], p+n, sizeof(res)-n);
      if( k<=0 ) break;
      n += (size_t)k;
    }
    close(aFd[0]);
    waitpid(pid, &status, 0);
    if( n==sizeof(res) ){
      *pRes = res;
    }else if( WIFSIGNALED(status) ){
      setErr(pRes, "crashed: %s", strsignal(WTERMSIG(status)));
    }else{
      setErr(pRes, "the child process exited with status %d",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    if( pRes->eState!=RS_OK && !pCfg->bKeep ) removeTree(zDir);
  }
}

/*************************************************************************
** Report.
*/
#define COL 10

static void printCell(double v, int bOk, const char *zFmt){
  if( bOk ){
    printf(" ");
    printf(zFmt, COL, v);
  }else{
    printf(" %*s", COL, "n/a");
  }
}

/*
** One row: the value of each engine, then vlog's ratio to each other
** engine.  aVal[e] is meaningful when aOk[e].
*/
static void printRow(const Config *pCfg, const char *zLabel,
                     const double *aVal, const int *aOk, const char *zFmt){
  int e, v;
  printf("%-24s", zLabel);
  for(e=0; e<N_ENGINE; e++){
    if( pCfg->aEngineOn[e] ) printCell(aVal[e], aOk[e], zFmt);
  }
  for(v=E_VLOG; v<=E_VLOGBG; v++){
    if( !pCfg->aEngineOn[v] ) continue;
    for(e=E_NOROWID; e<=E_LSM1; e++){
      if( !pCfg->aEngineOn[e] ) continue;
      printCell(aVal[e]>0 ? aVal[v]/aVal[e] : 0.0,
                aOk[v] && aOk[e] && aVal[e]>0, "%*.2f");
    }
  }
  if( pCfg->aEngineOn[E_RDEL] && pCfg->aEngineOn[E_RVFS] ){
    printCell(aVal[E_RDEL]>0 ? aVal[E_RVFS]/aVal[E_RDEL] : 0.0,
              aOk[E_RVFS] && aOk[E_RDEL] && aVal[E_RDEL]>0, "%*.2f");
  }
  printf("\n");
}

static void printTable(const Config *pCfg, const Workload *pW,
                       const Result *aRes){
  double aVal[N_ENGINE];
  int aOk[N_ENGINE];
  int64_t nRaw = pW->nRow * (int64_t)(KEY_SIZE + pW->nVal);
  int e, i, v;

  printf("\n== %s ==\n", pW->zTitle);
  printf("%-24s", "operation");
  for(e=0; e<N_ENGINE; e++){
    if( pCfg->aEngineOn[e] ) printf(" %*s", COL, aEngine[e].zName);
  }
  for(v=E_VLOG; v<=E_VLOGBG; v++){
    if( !pCfg->aEngineOn[v] ) continue;
    for(e=E_NOROWID; e<=E_LSM1; e++){
      char zHead[32];
      if( !pCfg->aEngineOn[e] ) continue;
      snprintf(zHead, sizeof(zHead), "%s/%s", v==E_VLOG ? "v" : "bg", aEngine[e].zName);
      printf(" %*s", COL, zHead);
    }
  }
  if( pCfg->aEngineOn[E_RDEL] && pCfg->aEngineOn[E_RVFS] ){
    printf(" %*s", COL, "vfs/unix");
  }
  printf("\n");

  for(i=0; i<N_PHASE; i++){
    if( i==PH_SCAN && !pW->bScan ) continue;
    if( i==PH_MAINT && aRes[E_VLOGBG].eState!=RS_OK ) continue;
    for(e=0; e<N_ENGINE; e++){
      aVal[e] = aRes[e].aSec[i];
      aOk[e] = aRes[e].eState==RS_OK;
    }
    printRow(pCfg, azPhase[i], aVal, aOk, "%*.3f");
  }
  if( aRes[E_VLOGBG].eState==RS_OK ){
    for(e=0; e<N_ENGINE; e++) aVal[e] = (double)aRes[e].nDiskLoad/1e6;
    printRow(pCfg, "on disk after load (MB)", aVal, aOk, "%*.1f");
  }
  for(e=0; e<N_ENGINE; e++) aVal[e] = (double)aRes[e].nDisk/1e6;
  printRow(pCfg, "on disk (MB)", aVal, aOk, "%*.1f");
  for(e=0; e<N_ENGINE; e++) aVal[e] = (double)aRes[e].nApparent/1e6;
  printRow(pCfg, "file sizes (MB)", aVal, aOk, "%*.1f");
  for(e=0; e<N_ENGINE; e++) aVal[e] = (double)aRes[e].nDisk/(double)nRaw;
  printRow(pCfg, "on disk / raw bytes", aVal, aOk, "%*.2f");
  printf("raw bytes (keys + values): %.1f MB\n", (double)nRaw/1e6);
  printf("checked in every column with figures: each lookup answered %d, "
         "%d values read whole were right, an absent key was not found",
         pW->nVal-1, N_VERIFY);
  if( pW->bScan ){
    printf(", the scan counted %lld rows", (long long)pW->nRow);
  }
  printf("\n");
  for(e=0; e<N_ENGINE; e++){
    if( aRes[e].eState==RS_NA ){
      printf("%s: not available (%s)\n", aEngine[e].zName, aRes[e].zErr);
    }else if( aRes[e].eState==RS_FAILED ){
      printf("%s: FAILED (%s)\n", aEngine[e].zName, aRes[e].zErr);
    }
  }
  fflush(stdout);
}

/*
** One goal: vlog's figure over the other engine's must be at most rMax
** (below it, when bStrict).  Prints "met", "MISSED" or why it cannot say.
*/
static void goal(const char *zWhat, const Result *pV, double rV,
                 const Result *pO, double rO, const char *zOther,
                 double rMax, int bStrict){
  printf("  %-58s", zWhat);
  if( pV->eState!=RS_OK ){
    printf(" n/a (vlog %s)\n", pV->eState==RS_FAILED ? "failed"
           : pV->eState==RS_NA ? "not available" : "not run");
  }else if( pO && pO->eState!=RS_OK ){
    printf(" n/a (%s not measured)\n", zOther);
  }else if( rO<=0 ){
    printf(" n/a (%s: zero)\n", zOther);
  }else{
    double r = rV/rO;
    int bMet = bStrict ? r<rMax : r<=rMax;
    char zRatio[32];
    snprintf(zRatio, sizeof(zRatio), "vlog/%s", zOther);
    printf(" %-13s %5.2f %-2s %4.2f  %s\n", zRatio, r, bStrict ? "<" : "<=",
           rMax, bMet ? "met" : "MISSED");
  }
}

static void printGoals(const Config *pCfg, Workload *aW,
                       Result (*aRes)[N_ENGINE]){
  int w;
  printf("\ngoals of issue 4 (inserts judged on \"load total\"):\n");
  for(w=W_RANDOM; w<=W_TEXT; w++){
    Result *a = aRes[w];
    char z[128];
    if( !pCfg->aWorkloadOn[w] ) continue;
    snprintf(z, sizeof(z), "[%s] inserts at least 3x faster than LSM1",
             aW[w].zName);
    goal(z, &a[E_VLOG], a[E_VLOG].aSec[PH_LOAD],
         &a[E_LSM1], a[E_LSM1].aSec[PH_LOAD], "lsm1", 1.0/3.0, 0);
    snprintf(z, sizeof(z), "[%s] inserts at least 5x faster than rowid",
             aW[w].zName);
    goal(z, &a[E_VLOG], a[E_VLOG].aSec[PH_LOAD],
         &a[E_ROWID], a[E_ROWID].aSec[PH_LOAD], "rowid", 0.2, 0);
    snprintf(z, sizeof(z), "[%s] point lookups no slower than rowid",
             aW[w].zName);
    goal(z, &a[E_VLOG], a[E_VLOG].aSec[PH_LOOKUP],
         &a[E_ROWID], a[E_ROWID].aSec[PH_LOOKUP], "rowid", 1.0, 0);
  }
  if( pCfg->aWorkloadOn[W_RANDOM] ){
    Result *a = aRes[W_RANDOM];
    double rRaw = (double)(aW[W_RANDOM].nRow
                           * (int64_t)(KEY_SIZE + aW[W_RANDOM].nVal));
    goal("[random] on disk at most 1.1x the raw bytes", &a[E_VLOG],
         (double)a[E_VLOG].nDisk, 0, rRaw, "raw", 1.1, 0);
  }
  if( pCfg->aWorkloadOn[W_TEXT] ){
    Result *a = aRes[W_TEXT];
    goal("[text] on disk below the WITHOUT ROWID table", &a[E_VLOG],
         (double)a[E_VLOG].nDisk, &a[E_NOROWID], (double)a[E_NOROWID].nDisk,
         "norowid", 1.0, 1);
    goal("[text] on disk below the rowid table", &a[E_VLOG],
         (double)a[E_VLOG].nDisk, &a[E_ROWID], (double)a[E_ROWID].nDisk,
         "rowid", 1.0, 1);
  }
  if( pCfg->aWorkloadOn[W_TEXT] ){
    Result *a = aRes[W_TEXT];
    printf("goals of issue 14 (background compression: vlog-bg, inserts judged "
           "on \"load total\", bytes after vlog_maintain('kv','full')):\n");
    goal("[text, vlog-bg] inserts at least 3x faster than LSM1", &a[E_VLOGBG],
         a[E_VLOGBG].aSec[PH_LOAD], &a[E_LSM1], a[E_LSM1].aSec[PH_LOAD], "lsm1",
         1.0/3.0, 0);
    goal("[text, vlog-bg] inserts at least 5x faster than rowid", &a[E_VLOGBG],
         a[E_VLOGBG].aSec[PH_LOAD], &a[E_ROWID], a[E_ROWID].aSec[PH_LOAD], "rowid",
         0.2, 0);
    goal("[text, vlog-bg] on disk after maintenance at most 0.35x rowid",
         &a[E_VLOGBG], (double)a[E_VLOGBG].nDisk, &a[E_ROWID],
         (double)a[E_ROWID].nDisk, "rowid", 0.35, 0);
  }
  if( pCfg->aWorkloadOn[W_BLOB] ){
    Result *a = aRes[W_BLOB];
    goal("[blob] 256 KiB inserts at least 2x faster than rowid", &a[E_VLOG],
         a[E_VLOG].aSec[PH_LOAD], &a[E_ROWID], a[E_ROWID].aSec[PH_LOAD],
         "rowid", 0.5, 0);
  }
}

/* make bench-vfs: the rowid table on the vlog VFS over the same on unix. */
static void printVfsRatios(const Config *pCfg, Workload *aW,
                           Result (*aRes)[N_ENGINE]){
  int w;
  printf("\nthe rowid table on the vlog VFS / on the unix VFS (DELETE, NORMAL):\n");
  for(w=0; w<N_WORKLOAD; w++){
    const Result *pV = &aRes[w][E_RVFS], *pU = &aRes[w][E_RDEL];
    if( !pCfg->aWorkloadOn[w] ) continue;
    if( pV->eState!=RS_OK || pU->eState!=RS_OK ){
      printf("  [%s] n/a (an engine did not run)\n", aW[w].zName);
      continue;
    }
    printf("  [%s] load total %.2f, lookups %.2f", aW[w].zName,
           pV->aSec[PH_LOAD]/pU->aSec[PH_LOAD],
           pV->aSec[PH_LOOKUP]/pU->aSec[PH_LOOKUP]);
    if( aW[w].bScan ) printf(", scan %.2f", pV->aSec[PH_SCAN]/pU->aSec[PH_SCAN]);
    printf(", on disk %.2f\n", (double)pV->nDisk/(double)pU->nDisk);
  }
}

/* How well zstd (level 3) compresses the text values: whole and one by one. */
static void printTextRatio(const Workload *pW){
  int nSample = pW->nRow<2000 ? (int)pW->nRow : 2000;
  size_t nIn = (size_t)nSample * (size_t)pW->nVal;
  unsigned char *aIn = malloc(nIn);
  size_t nBound = ZSTD_compressBound(nIn);
  unsigned char *aOut = malloc(nBound);
  size_t nEach = 0, nAll;
  int i;
  if( aIn==0 || aOut==0 || nSample==0 ){
    free(aIn);
    free(aOut);
    return;
  }
  for(i=0; i<nSample; i++){
    size_t n;
    makeVal(pW, (uint64_t)i, &aIn[(size_t)i*pW->nVal]);
    n = ZSTD_compress(aOut, nBound, &aIn[(size_t)i*pW->nVal],
                      (size_t)pW->nVal, 3);
    nEach += ZSTD_isError(n) ? (size_t)pW->nVal : n;
  }
  nAll = ZSTD_compress(aOut, nBound, aIn, nIn, 3);
  if( !ZSTD_isError(nAll) && nAll>0 && nEach>0 ){
    printf("text values: zstd -3 compresses %d of them %.1fx as one stream, "
           "%.1fx one by one\n", nSample, (double)nIn/(double)nAll,
           (double)nIn/(double)nEach);
  }
  free(aIn);
  free(aOut);
}

/*************************************************************************
** Command line.
*/
static void usage(const char *zArgv0){
  fprintf(stderr,
    "usage: %s [--rows N] [--lookups N] [--value-size N] [--batch N]\n"
    "       [--blobs N] [--blob-size N] [--blob-lookups N] [--blob-batch N]\n"
    "       [--engines vlog,vlog-bg,norowid,rowid,lsm1]\n"
    "       [--workloads random,text,blob]\n"
    "       [--vlog FILE] [--vlog-options S] [--lsm FILE] [--dir DIR] [--keep]\n",
    zArgv0);
  exit(2);
}

static int64_t argInt(const char *zArgv0, const char *zOpt, const char *z,
                      int64_t iMin, int64_t iMax){
  char *zEnd = 0;
  long long v;
  errno = 0;
  v = z ? strtoll(z, &zEnd, 10) : 0;
  if( z==0 || *zEnd || errno || v<iMin || v>iMax ){
    fprintf(stderr, "%s: %s needs an integer from %lld to %lld\n", zArgv0,
            zOpt, (long long)iMin, (long long)iMax);
    exit(2);
  }
  return v;
}

/* Parse "a,b,c" against azName[0..n-1] into aOn[]. */
static void argList(const char *zArgv0, const char *zOpt, const char *z,
                    const char **azName, int n, int *aOn){
  char zCopy[256];
  char *zTok, *zSave = 0;
  int i;
  if( z==0 ) usage(zArgv0);
  for(i=0; i<n; i++) aOn[i] = 0;
  snprintf(zCopy, sizeof(zCopy), "%s", z);
  for(zTok=strtok_r(zCopy, ",", &zSave); zTok;
      zTok=strtok_r(0, ",", &zSave)){
    for(i=0; i<n && strcmp(zTok, azName[i]); i++){}
    if( i==n ){
      fprintf(stderr, "%s: %s: unknown name \"%s\"\n", zArgv0, zOpt, zTok);
      exit(2);
    }
    aOn[i] = 1;
  }
}

/* Absolute form of zPath when it exists, zPath itself otherwise. */
static void absPath(char *zOut, const char *zPath){
  if( realpath(zPath, zOut)==0 ) snprintf(zOut, PATH_MAX, "%s", zPath);
}

static void parseArgs(int argc, char **argv, Config *pCfg){
  const char *azE[N_ENGINE], *azW[N_WORKLOAD] = {"random", "text", "blob"};
  const char *zVlog = "./vlog.so", *zLsm = "./build/bench/lsm1.so";
  const char *zDir = "./build/bench/kv";
  int bLookups = 0, bBlobLookups = 0;
  int i;
  for(i=0; i<N_ENGINE; i++) azE[i] = aEngine[i].zName;
  memset(pCfg, 0, sizeof(*pCfg));
  pCfg->nRow = 200000;
  pCfg->nVal = 1000;
  pCfg->nBatch = 1000;
  pCfg->nBlob = 2000;
  pCfg->nBlobSize = 256*1024;
  pCfg->nBlobBatch = 10;
  for(i=0; i<N_ENGINE; i++) pCfg->aEngineOn[i] = !aEngine[i].bVfsOnly;
  for(i=0; i<N_WORKLOAD; i++) pCfg->aWorkloadOn[i] = 1;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zArg = i+1<argc ? argv[i+1] : 0;
    if( z[0]=='-' && z[1]=='-' ) z++;
    if( strcmp(z, "-keep")==0 ){ pCfg->bKeep = 1; continue; }
    if( strcmp(z, "-help")==0 || strcmp(z, "-h")==0 ) usage(argv[0]);
    if( zArg==0 ) usage(argv[0]);
    i++;
    if( strcmp(z, "-rows")==0 ){
      pCfg->nRow = argInt(argv[0], argv[i-1], zArg, 1, 1000000000);
    }else if( strcmp(z, "-lookups")==0 ){
      pCfg->nLookup = argInt(argv[0], argv[i-1], zArg, 0, 1000000000);
      bLookups = 1;
    }else if( strcmp(z, "-value-size")==0 ){
      pCfg->nVal = (int)argInt(argv[0], argv[i-1], zArg, 2, 100000000);
    }else if( strcmp(z, "-batch")==0 ){
      pCfg->nBatch = (int)argInt(argv[0], argv[i-1], zArg, 1, 10000000);
    }else if( strcmp(z, "-blobs")==0 ){
      pCfg->nBlob = argInt(argv[0], argv[i-1], zArg, 1, 1000000000);
    }else if( strcmp(z, "-blob-size")==0 ){
      pCfg->nBlobSize = (int)argInt(argv[0], argv[i-1], zArg, 2, 500000000);
    }else if( strcmp(z, "-blob-lookups")==0 ){
      pCfg->nBlobLookup = argInt(argv[0], argv[i-1], zArg, 0, 1000000000);
      bBlobLookups = 1;
    }else if( strcmp(z, "-blob-batch")==0 ){
      pCfg->nBlobBatch = (int)argInt(argv[0], argv[i-1], zArg, 1, 1000000);
    }else if( strcmp(z, "-engines")==0 ){
      argList(argv[0], argv[i-1], zArg, azE, N_ENGINE, pCfg->aEngineOn);
    }else if( strcmp(z, "-workloads")==0 ){
      argList(argv[0], argv[i-1], zArg, azW, N_WORKLOAD, pCfg->aWorkloadOn);
    }else if( strcmp(z, "-vlog")==0 ){
      zVlog = zArg;
    }else if( strcmp(z, "-vlog-options")==0 ){
      pCfg->zVlogOpts = zArg;
    }else if( strcmp(z, "-lsm")==0 ){
      zLsm = zArg;
    }else if( strcmp(z, "-dir")==0 ){
      zDir = zArg;
    }else{
      usage(argv[0]);
    }
  }
  if( !bLookups ) pCfg->nLookup = pCfg->nRow/2;
  if( !bBlobLookups ) pCfg->nBlobLookup = pCfg->nBlob;
  absPath(pCfg->zVlog, zVlog);
  absPath(pCfg->zLsm, zLsm);
  if( makeDirs(zDir) ){
    fprintf(stderr, "%s: %s: %s\n", argv[0], zDir, strerror(errno));
    exit(1);
  }
  absPath(pCfg->zDir, zDir);
}

int main(int argc, char **argv){
  Config cfg;
  Workload aW[N_WORKLOAD];
  static Result aRes[N_WORKLOAD][N_ENGINE];
  int w, e;
  int nFail = 0;
  double t0 = now();

  parseArgs(argc, argv, &cfg);
  setvbuf(stdout, 0, _IOLBF, 0);

  memset(aW, 0, sizeof(aW));
  for(w=0; w<N_WORKLOAD; w++){
    Workload *p = &aW[w];
    p->zName = w==W_RANDOM ? "random" : w==W_TEXT ? "text" : "blob";
    p->eValue = w==W_TEXT ? V_TEXT : V_RANDOM;
    p->nRow = w==W_BLOB ? cfg.nBlob : cfg.nRow;
    p->nVal = w==W_BLOB ? cfg.nBlobSize : cfg.nVal;
    p->nBatch = w==W_BLOB ? cfg.nBlobBatch : cfg.nBatch;
    p->nLookup = w==W_BLOB ? cfg.nBlobLookup : cfg.nLookup;
    p->bScan = w!=W_BLOB;
    p->iSeed = w==W_BLOB ? 0x626c6f62ULL : 0;  /* random, text: same keys */
    snprintf(p->zTitle, sizeof(p->zTitle),
             "%s: %lld rows, %d-byte %s values, %d per transaction, "
             "%lld lookups", p->zName, (long long)p->nRow, p->nVal,
             w==W_TEXT ? "text-like" : "random", p->nBatch,
             (long long)p->nLookup);
  }

  printf("bench_kv: key/value tables in SQLite %s (this process's library)\n",
         sqlite3_libversion());
  printf("keys: 16 random bytes; all engines get the same keys, values and "
         "lookup order\n");
  printf("durability, equal for all (every connection: journal_mode=WAL, "
         "synchronous=NORMAL, but rowid-del and rowid-vfs: DELETE, NORMAL):\n");
  for(e=0; e<N_ENGINE; e++){
    if( cfg.aEngineOn[e] ){
      printf("  %-8s %s\n", aEngine[e].zName, aEngine[e].zDurability);
    }
  }
  printf("extensions: vlog %s, lsm1 %s\n", cfg.zVlog, cfg.zLsm);
  if( cfg.zVlogOpts ) printf("vlog table options added: %s\n", cfg.zVlogOpts);
  printf("on disk: all files in the engine's folder after "
         "PRAGMA wal_checkpoint(TRUNCATE) and close (allocated blocks)\n");
  if( cfg.aWorkloadOn[W_TEXT] ) printTextRatio(&aW[W_TEXT]);

  for(w=0; w<N_WORKLOAD; w++){
    if( !cfg.aWorkloadOn[w] ) continue;
    for(e=0; e<N_ENGINE; e++){
      char zDir[PATH_MAX+64];
      if( !cfg.aEngineOn[e] ) continue;
      if( aEngine[e].bBgCompress && w!=W_TEXT ) continue;   /* text only */
      snprintf(zDir, sizeof(zDir), "%s/%s/%s", cfg.zDir, aW[w].zName,
               aEngine[e].zName);
      runEngineInChild(&cfg, &aEngine[e], &aW[w], zDir, &aRes[w][e]);
      if( aRes[w][e].eState==RS_FAILED ) nFail++;
    }
    printTable(&cfg, &aW[w], aRes[w]);
  }
  if( cfg.aEngineOn[E_VLOG] || cfg.aEngineOn[E_VLOGBG] ){
    printGoals(&cfg, aW, aRes);
  }
  if( cfg.aEngineOn[E_RDEL] && cfg.aEngineOn[E_RVFS] ) printVfsRatios(&cfg, aW, aRes);
  printf("\nbench_kv: %.0f s in all%s\n", now()-t0,
         nFail ? "; some engines FAILED (see above)" : "");
  return nFail ? 1 : 0;
}
