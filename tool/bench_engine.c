/*
** bench_engine.c: vlog's storage engine against LMDB on one workload, in
** one run, reported as ratios (make bench).
**
** USAGE
**   bench_engine ?NKEYS? ?DIR?
**     NKEYS  keys to insert (default 1000000)
**     DIR    scratch folder for both stores (default "."); the files
**            DIR/vlog.store and DIR/lmdb/ are replaced
**
** THE WORKLOAD (the same for both engines, one after the other)
**   1. batched insert: NKEYS keys of 16 bytes with values of 100 bytes, in
**      random order (the keys are random), BATCH (1000) keys per write
**      transaction.
**   2. random lookups: NKEYS point lookups of keys chosen at random among
**      those inserted, all in one read transaction, each value compared
**      with the expected one.  Run twice: the second pass ("cached") finds
**      every node already in memory: vlog's node cache is set large enough
**      to hold the whole tree (1 GiB; only as much as is used is
**      allocated), LMDB's pages are in the OS page cache.
**   3. full scan: a cursor from the first key to the last, in one read
**      transaction; the count must equal NKEYS.
**
** Keys and values come from a fixed-seed PRNG (splitmix64): every run and
** both engines see the same keys in the same order.
**
** DURABILITY
** Both engines sync at every commit: LMDB with its default flags (no
** MDB_NOSYNC/MDB_NOMETASYNC: fdatasync at each commit), vlog with
** VLOG_SYNC_FULL.  With 1000 keys per batch the syncs are a small, equal
** part of the insert time.  vlog's other settings are its defaults
** (vlogConfigDefault(): 64 KiB nodes, 1 MiB buckets, checkpoint every
** 32 MiB of journal), opened through vlogEnvPosix(), the env vlogtool uses.
**
** OUTPUT
** A table: operation, seconds for vlog and for LMDB, the ratio vlog/LMDB
** (below 1.00: vlog is faster), the operations per second of each, then
** the bytes each store occupies on disk (allocated blocks, st_blocks*512)
** and the aims (insert ratio <= 1.00, cached lookup ratio <= 1.50).
** Exit status: 0 when both engines ran the workload correctly (the aims
** are reported, not enforced), 1 on any error or wrong answer, 2 on bad
** usage.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>
#include "engine.h"

#define KEY_SIZE     16
#define VAL_SIZE     100
#define BATCH        1000
#define TREE_ID      VLOG_TREE_FIRST_USER
#define SEED_KEYS    0x766c6f67424e4348ULL     /* "vlogBNCH" */
#define SEED_LOOKUP  0x6c6f6f6b75707321ULL
#define VLOG_CACHE   ((int64_t)1 << 30)

/* The phases, in the order they run and are reported. */
enum { PH_INSERT, PH_LOOKUP, PH_LOOKUP2, PH_SCAN, N_PHASE };
static const char *azPhase[N_PHASE] = {
  "batched insert", "random lookup", "random lookup (cached)", "full scan"
};

typedef struct Result Result;
struct Result {
  double aSec[N_PHASE];        /* seconds per phase */
  int64_t nDisk;               /* bytes allocated on disk */
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

/* Key number i (0 <= i < nKey): 16 random bytes. */
static void makeKey(uint64_t i, unsigned char *aKey){
  uint64_t s = SEED_KEYS ^ (i * 0x100000001b3ULL);
  uint64_t a = splitmix64(&s);
  uint64_t b = splitmix64(&s);
  memcpy(aKey, &a, 8);
  memcpy(aKey+8, &b, 8);
}

/* The value stored under key number i: 100 bytes derived from i. */
static void makeVal(uint64_t i, unsigned char *aVal){
  uint64_t s = ~SEED_KEYS ^ (i * 0x9e3779b97f4a7c15ULL);
  int j;
  for(j=0; j<VAL_SIZE; j+=8){
    uint64_t v = splitmix64(&s);
    memcpy(&aVal[j], &v, (VAL_SIZE-j)<8 ? (size_t)(VAL_SIZE-j) : 8);
  }
}

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec*1e-9;
}

static int64_t diskBytes(const char *zPath){
  struct stat st;
  if( stat(zPath, &st) ) return 0;
  return (int64_t)st.st_blocks * 512;
}

static void fail(const char *zWho, const char *zWhat, const char *zMsg){
  fprintf(stderr, "bench_engine: %s: %s: %s\n", zWho, zWhat, zMsg);
  exit(1);
}

/*************************************************************************
** vlog
*/
static void vlogCheck(VlogStore *p, int rc, const char *zWhat){
  if( rc!=VLOG_OK ){
    char zMsg[600];
    snprintf(zMsg, sizeof(zMsg), "%s %s", vlogErrName(rc),
             p ? vlogStoreErrMsg(p) : "");
    fail("vlog", zWhat, zMsg);
  }
}

static void lookupVlog(VlogStore *p, uint64_t nKey){
  uint64_t s = SEED_LOOKUP;
  uint64_t n;
  unsigned char aKey[KEY_SIZE], aVal[VAL_SIZE];
  vlogCheck(p, vlogBegin(p, 0), "begin read");
  for(n=0; n<nKey; n++){
    uint64_t i = splitmix64(&s) % nKey;
    const void *pVal = 0;
    int nVal = 0;
    makeKey(i, aKey);
    vlogCheck(p, vlogGet(p, TREE_ID, aKey, KEY_SIZE, &pVal, &nVal), "get");
    makeVal(i, aVal);
    if( nVal!=VAL_SIZE || memcmp(pVal, aVal, VAL_SIZE)!=0 ){
      fail("vlog", "get", "wrong value");
    }
  }
  vlogCheck(p, vlogCommit(p), "end read");
}

static void runVlog(const char *zDir, uint64_t nKey, Result *pRes){
  char zPath[4096];
  VlogConfig cfg;
  VlogStore *p = 0;
  VlogCursor *pCsr = 0;
  uint64_t i, n;
  unsigned char aKey[KEY_SIZE], aVal[VAL_SIZE];
  double t0;
  int rc;

  snprintf(zPath, sizeof(zPath), "%s/vlog.store", zDir);
  unlink(zPath);
  vlogConfigDefault(&cfg);
  cfg.bCreate = 1;
  cfg.eSync = VLOG_SYNC_FULL;
  cfg.nCacheSize = VLOG_CACHE;
  rc = vlogStoreOpen(vlogEnvPosix(), zPath, &cfg, &p);
  vlogCheck(p, rc, "open");

  /* 1. batched insert */
  t0 = now();
  for(i=0; i<nKey; i+=BATCH){
    uint64_t iEnd = i+BATCH<nKey ? i+BATCH : nKey;
    vlogCheck(p, vlogBegin(p, 1), "begin");
    for(n=i; n<iEnd; n++){
      makeKey(n, aKey);
      makeVal(n, aVal);
      vlogCheck(p, vlogPut(p, TREE_ID, aKey, KEY_SIZE, aVal, VAL_SIZE), "put");
    }
    vlogCheck(p, vlogCommit(p), "commit");
  }
  pRes->aSec[PH_INSERT] = now() - t0;

  /* 2. random lookups, twice */
  t0 = now();
  lookupVlog(p, nKey);
  pRes->aSec[PH_LOOKUP] = now() - t0;
  t0 = now();
  lookupVlog(p, nKey);
  pRes->aSec[PH_LOOKUP2] = now() - t0;

  /* 3. full scan */
  t0 = now();
  vlogCheck(p, vlogBegin(p, 0), "begin read");
  vlogCheck(p, vlogCursorOpen(p, TREE_ID, &pCsr), "cursor open");
  n = 0;
  rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pK, *pV;
    int nK, nV;
    vlogCheck(p, vlogCursorKey(pCsr, &pK, &nK), "cursor key");
    vlogCheck(p, vlogCursorValue(pCsr, &pV, &nV), "cursor value");
    if( nK!=KEY_SIZE || nV!=VAL_SIZE ) fail("vlog", "scan", "wrong sizes");
    n++;
    rc = vlogCursorNext(pCsr);
  }
  if( rc!=VLOG_NOTFOUND ) vlogCheck(p, rc, "cursor next");
  vlogCursorClose(pCsr);
  vlogCheck(p, vlogCommit(p), "end read");
  pRes->aSec[PH_SCAN] = now() - t0;
  if( n!=nKey ) fail("vlog", "scan", "wrong number of keys");

  vlogCheck(p, vlogStoreClose(p), "close");
  pRes->nDisk = diskBytes(zPath);
}

/*************************************************************************
** LMDB
*/
static void mdbCheck(int rc, const char *zWhat){
  if( rc!=MDB_SUCCESS ) fail("lmdb", zWhat, mdb_strerror(rc));
}

static void lookupLmdb(MDB_env *env, MDB_dbi dbi, uint64_t nKey){
  uint64_t s = SEED_LOOKUP;
  uint64_t n;
  unsigned char aKey[KEY_SIZE], aVal[VAL_SIZE];
  MDB_txn *txn;
  mdbCheck(mdb_txn_begin(env, 0, MDB_RDONLY, &txn), "begin read");
  for(n=0; n<nKey; n++){
    uint64_t i = splitmix64(&s) % nKey;
    MDB_val k, v;
    makeKey(i, aKey);
    k.mv_size = KEY_SIZE;
    k.mv_data = aKey;
    mdbCheck(mdb_get(txn, dbi, &k, &v), "get");
    makeVal(i, aVal);
    if( v.mv_size!=VAL_SIZE || memcmp(v.mv_data, aVal, VAL_SIZE)!=0 ){
      fail("lmdb", "get", "wrong value");
    }
  }
  mdb_txn_abort(txn);
}

static void runLmdb(const char *zDir, uint64_t nKey, Result *pRes){
  char zPath[4096], zFile[4200];
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  MDB_cursor *csr;
  MDB_val k, v;
  uint64_t i, n;
  unsigned char aKey[KEY_SIZE], aVal[VAL_SIZE];
  double t0;
  int rc;

  snprintf(zPath, sizeof(zPath), "%s/lmdb", zDir);
  mkdir(zPath, 0755);
  snprintf(zFile, sizeof(zFile), "%s/data.mdb", zPath);
  unlink(zFile);
  snprintf(zFile, sizeof(zFile), "%s/lock.mdb", zPath);
  unlink(zFile);

  mdbCheck(mdb_env_create(&env), "env create");
  /* Room for the data with a wide margin; the file grows only as used. */
  mdbCheck(mdb_env_set_mapsize(env, (size_t)(256u<<20) + (size_t)nKey*1024),
           "set mapsize");
  mdbCheck(mdb_env_open(env, zPath, 0, 0644), "env open");  /* full sync */
  mdbCheck(mdb_txn_begin(env, 0, 0, &txn), "begin");
  mdbCheck(mdb_dbi_open(txn, 0, 0, &dbi), "dbi open");
  mdbCheck(mdb_txn_commit(txn), "commit");

  /* 1. batched insert */
  t0 = now();
  for(i=0; i<nKey; i+=BATCH){
    uint64_t iEnd = i+BATCH<nKey ? i+BATCH : nKey;
    mdbCheck(mdb_txn_begin(env, 0, 0, &txn), "begin");
    for(n=i; n<iEnd; n++){
      makeKey(n, aKey);
      makeVal(n, aVal);
      k.mv_size = KEY_SIZE; k.mv_data = aKey;
      v.mv_size = VAL_SIZE; v.mv_data = aVal;
      mdbCheck(mdb_put(txn, dbi, &k, &v, 0), "put");
    }
    mdbCheck(mdb_txn_commit(txn), "commit");
  }
  pRes->aSec[PH_INSERT] = now() - t0;

  /* 2. random lookups, twice */
  t0 = now();
  lookupLmdb(env, dbi, nKey);
  pRes->aSec[PH_LOOKUP] = now() - t0;
  t0 = now();
  lookupLmdb(env, dbi, nKey);
  pRes->aSec[PH_LOOKUP2] = now() - t0;

  /* 3. full scan */
  t0 = now();
  mdbCheck(mdb_txn_begin(env, 0, MDB_RDONLY, &txn), "begin read");
  mdbCheck(mdb_cursor_open(txn, dbi, &csr), "cursor open");
  n = 0;
  rc = mdb_cursor_get(csr, &k, &v, MDB_FIRST);
  while( rc==MDB_SUCCESS ){
    if( k.mv_size!=KEY_SIZE || v.mv_size!=VAL_SIZE ){
      fail("lmdb", "scan", "wrong sizes");
    }
    n++;
    rc = mdb_cursor_get(csr, &k, &v, MDB_NEXT);
  }
  if( rc!=MDB_NOTFOUND ) mdbCheck(rc, "cursor next");
  mdb_cursor_close(csr);
  mdb_txn_abort(txn);
  pRes->aSec[PH_SCAN] = now() - t0;
  if( n!=nKey ) fail("lmdb", "scan", "wrong number of keys");

  mdb_env_close(env);
  snprintf(zFile, sizeof(zFile), "%s/data.mdb", zPath);
  pRes->nDisk = diskBytes(zFile);
  snprintf(zFile, sizeof(zFile), "%s/lock.mdb", zPath);
  pRes->nDisk += diskBytes(zFile);
}

/*************************************************************************
** Report
*/
static void report(uint64_t nKey, const Result *pV, const Result *pL){
  int i;
  int major, minor, patch;
  mdb_version(&major, &minor, &patch);
  printf("vlog engine vs LMDB %d.%d.%d: %llu keys of %d bytes, values of %d "
         "bytes\n", major, minor, patch, (unsigned long long)nKey,
         KEY_SIZE, VAL_SIZE);
  printf("inserts in batches of %d keys per transaction, both synced at every "
         "commit\n(vlog VLOG_SYNC_FULL, LMDB default flags)\n\n", BATCH);
  printf("%-24s %10s %10s %10s %13s %13s\n", "operation", "vlog s", "lmdb s",
         "vlog/lmdb", "vlog ops/s", "lmdb ops/s");
  for(i=0; i<N_PHASE; i++){
    double v = pV->aSec[i], l = pL->aSec[i];
    printf("%-24s %10.3f %10.3f %10.2f %13.0f %13.0f\n", azPhase[i], v, l,
           l>0 ? v/l : 0.0, v>0 ? (double)nKey/v : 0.0,
           l>0 ? (double)nKey/l : 0.0);
  }
  printf("%-24s %10.1f %10.1f %10.2f   (MiB allocated)\n", "bytes on disk",
         (double)pV->nDisk/(1<<20), (double)pL->nDisk/(1<<20),
         pL->nDisk>0 ? (double)pV->nDisk/(double)pL->nDisk : 0.0);
  printf("\naims: batched insert ratio <= 1.00: %s (%.2f); "
         "cached lookup ratio <= 1.50: %s (%.2f)\n",
         pV->aSec[PH_INSERT] <= pL->aSec[PH_INSERT] ? "met" : "MISSED",
         pV->aSec[PH_INSERT]/pL->aSec[PH_INSERT],
         pV->aSec[PH_LOOKUP2] <= 1.5*pL->aSec[PH_LOOKUP2] ? "met" : "MISSED",
         pV->aSec[PH_LOOKUP2]/pL->aSec[PH_LOOKUP2]);
}

int main(int argc, char **argv){
  uint64_t nKey = 1000000;
  const char *zDir = ".";
  Result rv, rl;
  if( argc>3 || (argc>1 && (argv[1][0]<'0' || argv[1][0]>'9')) ){
    fprintf(stderr, "usage: %s ?NKEYS? ?DIR?\n", argv[0]);
    return 2;
  }
  if( argc>1 ){
    char *zEnd = 0;
    nKey = strtoull(argv[1], &zEnd, 10);
    if( *zEnd || nKey==0 ){
      fprintf(stderr, "%s: NKEYS must be a positive integer\n", argv[0]);
      return 2;
    }
  }
  if( argc>2 ) zDir = argv[2];
  memset(&rv, 0, sizeof(rv));
  memset(&rl, 0, sizeof(rl));
  runVlog(zDir, nKey, &rv);
  runLmdb(zDir, nKey, &rl);
  report(nKey, &rv, &rl);
  return 0;
}
