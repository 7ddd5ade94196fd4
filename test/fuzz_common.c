/*
** fuzz_common.c: the memory env, the seed image and the exercise that the
** fuzz targets share (fuzz_common.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/allocator_interface.h>
#include <sanitizer/asan_interface.h>
#include <zstd.h>
#include "fuzz_common.h"

u8 *fuzzImg = 0;
int64_t fuzzImgSize = 0;
static int64_t nImgAlloc = 0;
u8 fuzzShm[VLOG_SHM_SIZE];

#define FUZZ_PID 4242

/* ASan's quarantine holds freed memory back from reuse, so that a use
** after free finds it poisoned; from 256 MiB (the default) down to 64 MiB
** it still spans tens of inputs of a store-level target, and fewer
** allocations get fresh pages (a page fault each).  With the pool of large
** blocks (memMalloc), fuzz_tree and fuzz_buckets run 1.7 to 1.9 times as
** fast.  ASAN_OPTIONS overrides it. */
const char *__asan_default_options(void){
  return "quarantine_size_mb=64";
}

/* ---------------------------------------------------------------------
** The memory env: one file, the array fuzzImg
*/
static int memOpen(VlogEnv *pEnv, const char *zPath, int flags, VlogFile **ppFile){
  VlogFile *p = (VlogFile*)malloc(sizeof(VlogFile));
  (void)zPath; (void)flags;
  if( p==0 ) return VLOG_NOMEM;
  p->pEnv = pEnv;
  *ppFile = p;
  return VLOG_OK;
}
static int memClose(VlogFile *p){ free(p); return VLOG_OK; }
static int memRead(VlogFile *p, int64_t iOff, void *pBuf, int nBuf){
  int64_t n;
  (void)p;
  if( iOff<0 || nBuf<0 ) return VLOG_IOERR_READ;
  n = iOff>=fuzzImgSize ? 0 : fuzzImgSize-iOff;
  if( n>nBuf ) n = nBuf;
  if( n>0 ) memcpy(pBuf, &fuzzImg[iOff], (size_t)n);
  if( n<nBuf ){
    memset((u8*)pBuf+n, 0, (size_t)(nBuf-n));
    return VLOG_IOERR_SHORT_READ;
  }
  return VLOG_OK;
}
int fuzzImgGrow(int64_t nSize){
  if( nSize>FUZZ_FILE_MAX ) return VLOG_FULL;
  if( nSize>nImgAlloc ){
    int64_t nNew = nImgAlloc ? nImgAlloc : 65536;
    u8 *aNew;
    while( nNew<nSize ) nNew *= 2;
    aNew = (u8*)realloc(fuzzImg, (size_t)nNew);
    if( aNew==0 ) return VLOG_NOMEM;
    fuzzImg = aNew;
    nImgAlloc = nNew;
  }
  if( nSize>fuzzImgSize ){
    memset(&fuzzImg[fuzzImgSize], 0, (size_t)(nSize-fuzzImgSize));
    fuzzImgSize = nSize;
  }
  return VLOG_OK;
}
static int memWrite(VlogFile *p, int64_t iOff, const void *pBuf, int nBuf){
  int rc;
  (void)p;
  if( iOff<0 || nBuf<0 ) return VLOG_IOERR_WRITE;
  rc = fuzzImgGrow(iOff+nBuf);
  if( rc==VLOG_OK ) memcpy(&fuzzImg[iOff], pBuf, (size_t)nBuf);
  return rc;
}
static int memSync(VlogFile *p){ (void)p; return VLOG_OK; }
static int memTruncate(VlogFile *p, int64_t nSize){
  (void)p;
  if( nSize<0 ) return VLOG_IOERR_TRUNCATE;
  if( nSize<fuzzImgSize ) fuzzImgSize = nSize;
  return VLOG_OK;
}
static int memSize(VlogFile *p, int64_t *pnSize){
  (void)p;
  *pnSize = fuzzImgSize;
  return VLOG_OK;
}
static int memLock(VlogFile *p, int eLevel){ (void)p; (void)eLevel; return VLOG_OK; }
static int memDelete(VlogEnv *pEnv, const char *zPath){
  (void)pEnv; (void)zPath;
  return VLOG_OK;
}
static int memFullPath(VlogEnv *pEnv, const char *zPath, char *zOut, int nOut){
  (void)pEnv;
  snprintf(zOut, nOut, "%s", zPath);
  return VLOG_OK;
}
/* Allocations above FUZZ_MALLOC_MAX fail: a hostile length must not make
** the engine ask for gigabytes, and when it does the target stays fast
** and the engine's out-of-memory path runs instead.
**
** Large blocks are kept for reuse.  ASan maps every allocation of 128 KiB
** or more afresh and unmaps it when its quarantine lets it go (a system
** call and a TLB flush on every core each time), and serves smaller ones
** from fresh pages while the quarantine (256 MiB) holds the freed ones (a
** page fault each).  Every open takes large blocks, and its close frees
** them: the write buffer (wbuf.c), the value log's read and decompression
** buffers, cached frames, the value of a chunked value: with the page
** faults, about half of fuzz_vlog's time.  So memFree() keeps the last
** POOL_N blocks of POOL_MIN bytes or more, poisoned (a use after free is
** still reported, as use-after-poison; a second free aborts), and
** memMalloc() hands one out again for an allocation of the same size. */
#define POOL_MIN (16*1024)
#define POOL_N   32
static struct PoolBlock { void *p; size_t n; } aPool[POOL_N];
static int nPool = 0;

int fuzzRefused = 0;

static void *memMalloc(VlogEnv *pEnv, size_t n){
  int i;
  (void)pEnv;
  if( n>FUZZ_MALLOC_MAX ){
    fuzzRefused = 1;
    return 0;
  }
  for(i=nPool-1; n>=POOL_MIN && i>=0; i--){
    if( aPool[i].n==n ){
      void *p = aPool[i].p;
      aPool[i] = aPool[--nPool];
      ASAN_UNPOISON_MEMORY_REGION(p, n);
      return p;
    }
  }
  return malloc(n);
}
static void memFree(VlogEnv *pEnv, void *p){
  size_t n = p ? __sanitizer_get_allocated_size(p) : 0;
  int i;
  (void)pEnv;
  if( n<POOL_MIN ){
    free(p);
    return;
  }
  for(i=0; i<nPool; i++){
    if( aPool[i].p==p ){
      fprintf(stderr, "fuzz: a block of %zu bytes is freed twice\n", n);
      abort();
    }
  }
  if( nPool==POOL_N ){
    ASAN_UNPOISON_MEMORY_REGION(aPool[0].p, aPool[0].n);
    free(aPool[0].p);
    memmove(aPool, &aPool[1], sizeof(aPool[0])*(POOL_N-1));
    nPool--;
  }
  ASAN_POISON_MEMORY_REGION(p, n);
  aPool[nPool].p = p;
  aPool[nPool].n = n;
  nPool++;
}
static void *memRealloc(VlogEnv *pEnv, void *p, size_t n){
  size_t nOld = p ? __sanitizer_get_allocated_size(p) : 0;
  void *pNew;
  if( n>FUZZ_MALLOC_MAX ){
    fuzzRefused = 1;
    return 0;
  }
  if( n<POOL_MIN && nOld<POOL_MIN ) return realloc(p, n);
  pNew = memMalloc(pEnv, n);
  if( pNew && p ){
    memcpy(pNew, p, nOld<n ? nOld : n);
    memFree(pEnv, p);
  }
  return pNew;
}
static int64_t memNow(VlogEnv *pEnv){ (void)pEnv; return (int64_t)1700000000*1000000; }
static void memSleep(VlogEnv *pEnv, int nMicro){ (void)pEnv; (void)nMicro; }
static int memShmMap(VlogFile *p, void volatile **pp){
  (void)p;
  *pp = fuzzShm;
  return VLOG_OK;
}
static void memShmUnmap(VlogFile *p){ (void)p; }
static int memPid(VlogEnv *pEnv){ (void)pEnv; return FUZZ_PID; }
/* Reader-slot lock bytes (io.h, xShmLock): those this process claimed,
** and slots below FUZZ_LIVE_SLOTS, held by live processes of their own;
** every other slot's owner is dead, whatever its pid says. */
#define FUZZ_LIVE_SLOTS 8
static u8 aSlotHeld[VLOG_SHM_NLOCK];
static int memShmLock(VlogFile *p, int iSlot, int eOp){
  int bHeld;
  (void)p;
  if( iSlot<0 || iSlot>=VLOG_SHM_NLOCK ) return VLOG_IOERR_LOCK;
  bHeld = aSlotHeld[iSlot] || iSlot<FUZZ_LIVE_SLOTS;
  switch( eOp ){
    case VLOG_SHMLOCK_CLAIM:
      if( bHeld ) return VLOG_BUSY;
      aSlotHeld[iSlot] = 1;
      return VLOG_OK;
    case VLOG_SHMLOCK_RELEASE:
      aSlotHeld[iSlot] = 0;
      return VLOG_OK;
  }
  return bHeld ? VLOG_BUSY : VLOG_OK;
}

VlogEnv *fuzzEnv(int bShm){
  static VlogEnv aEnv[2];
  VlogEnv *p = &aEnv[bShm ? 1 : 0];
  if( p->xOpen==0 ){
    p->xOpen = memOpen;
    p->xClose = memClose;
    p->xRead = memRead;
    p->xWrite = memWrite;
    p->xSync = memSync;
    p->xTruncate = memTruncate;
    p->xSize = memSize;
    p->xLock = memLock;
    p->xUnlock = memLock;
    p->xDelete = memDelete;
    p->xFullPath = memFullPath;
    p->xMalloc = memMalloc;
    p->xRealloc = memRealloc;
    p->xFree = memFree;
    p->xNow = memNow;
    p->xSleep = memSleep;
    p->xShmMap = bShm ? memShmMap : 0;
    p->xShmUnmap = memShmUnmap;
    p->xPid = memPid;
    p->xShmLock = memShmLock;
  }
  return p;
}

/* ---------------------------------------------------------------------
** The seed image
*/
static u8 *aSeed = 0;
static int64_t nSeed = 0;
static u8 aSeedDict[16*1024];  /* its dictionary (vlog.c: DICT_SIZE at most) */
static int nSeedDict = 0;

static void seedFail(VlogStore *p, int rc, const char *zWhat){
  fprintf(stderr, "fuzz: cannot build the seed store (%s): %s %s\n", zWhat,
          vlogErrName(rc), p ? vlogStoreErrMsg(p) : "");
  abort();
}

/* A deterministic generator (xorshift), and text of its words: records
** that compress, but not all alike, so that zstd trains a dictionary on
** them. */
static u64 iRand = 0x2545f4914f6cdd1dULL;
static u32 seedRand(void){
  iRand ^= iRand<<13;
  iRand ^= iRand>>7;
  iRand ^= iRand<<17;
  return (u32)(iRand>>32);
}
static int seedText(char *z, int n){
  static const char *azWord[] = {
    "value", "log", "frame", "record", "segment", "bucket", "journal", "tree",
    "node", "leaf", "key", "commit", "checkpoint", "dictionary", "zstd", "crc",
    "alpha", "beta", "gamma", "delta", "red", "green", "blue", "orange",
    "north", "south", "east", "west", "one", "two", "three", "four",
  };
  int i = 0;
  while( i<n-12 ){
    const char *zW = azWord[seedRand() % 32];
    int nW = (int)strlen(zW);
    memcpy(&z[i], zW, nW);
    i += nW;
    z[i++] = (seedRand() % 8)==0 ? '\n' : ' ';
  }
  return i;
}

/* A dictionary for the value log: records of tree 19 until DICT_SAMPLE
** bytes of them (vlog.c) have gone through frames that compressed, which
** trains one (TREE_DICTS 1); then all but a few are deleted, so that the
** seed's readers read few of them (their frames stay, stale), and those
** few are the seed's frames compressed without a dictionary. */
static void seedDictionary(VlogStore *p){
  char zKey[32], zVal[400];
  int rc = vlogBegin(p, 1), i;
  for(i=0; rc==VLOG_OK && i<1100; i++){
    int n = snprintf(zKey, sizeof(zKey), "t%05d", i);
    rc = vlogPutEx(p, 19, zKey, n, zVal, seedText(zVal, 120 + (int)(seedRand()%250)), 0, 3);
  }
  if( rc==VLOG_OK ) rc = vlogCommit(p);
  if( rc ) seedFail(p, rc, "training");
  if( p->vl.nDictTrained==0 ) seedFail(p, VLOG_ERROR, "no dictionary trained");
  rc = vlogBegin(p, 1);
  for(i=0; rc==VLOG_OK && i<1100; i++){
    int n = snprintf(zKey, sizeof(zKey), "t%05d", i);
    if( i%250 ) rc = vlogDelete(p, 19, zKey, n);
  }
  if( rc==VLOG_OK ) rc = vlogCommit(p);
  if( rc ) seedFail(p, rc, "training");
}

/* A dictionary (TREE_DICTS), then two checkpoints of trees 16 (inline
** values), 17 (value-log values: frames compressed with the dictionary,
** without, raw by decision; one value alone in its frame and one in
** chunks) and 18 (enough keys for an interior node), then commits that
** only the journal holds, one of them a deletion. */
static void seedBuild(void){
  VlogConfig cfg;
  VlogStore *p = 0;
  char zKey[32], zVal[600];
  static char aBig[70000];
  int rc, i, c;
  fuzzImgSize = 0;
  vlogConfigDefault(&cfg);
  cfg.nBucketSize = FUZZ_BUCKET_SIZE;
  cfg.nNodeSize = FUZZ_NODE_SIZE;
  cfg.nAutoCheckpoint = 0;
  cfg.nMmapSize = 0;
  rc = vlogStoreOpen(fuzzEnv(0), FUZZ_PATH, &cfg, &p);
  if( rc ) seedFail(p, rc, "open");
  seedDictionary(p);
  for(c=0; c<2; c++){
    rc = vlogBegin(p, 1);
    for(i=0; rc==VLOG_OK && i<120; i++){
      int n = snprintf(zKey, sizeof(zKey), "key%04d", i*2+c);
      memset(zVal, 'a'+(i%26), sizeof(zVal));
      rc = vlogPut(p, 18, zKey, n, zVal, 20+(i%40));
      if( rc==VLOG_OK && i<10 ) rc = vlogPut(p, 16, zKey, n, zVal, i);
      if( rc==VLOG_OK && i<6 ){
        rc = vlogPutEx(p, 17, zKey, n, zVal, 100+i*50, 0, (i&1) ? 0 : 3);
      }
      if( rc==VLOG_OK && i>=6 && i<10 ){
        rc = vlogPutEx(p, 17, zKey, n, zVal, seedText(zVal, 200+i*30), 0, 3);
      }
    }
    if( rc==VLOG_OK && c==0 ){
      for(i=0; i<(int)sizeof(aBig); i++) aBig[i] = (char)seedRand();
      rc = vlogPutEx(p, 17, "big", 3, aBig, sizeof(aBig), 0, 3);
      if( rc==VLOG_OK ) rc = vlogPutEx(p, 17, "mid", 3, aBig, seedText(aBig, 6000), 0, 3);
    }
    if( rc==VLOG_OK ) rc = vlogCommit(p);
    if( rc==VLOG_OK ) rc = vlogCheckpoint(p);
    if( rc ) seedFail(p, rc, "checkpoint");
  }
  for(i=0; rc==VLOG_OK && i<4; i++){
    int n = snprintf(zKey, sizeof(zKey), "j%d", i);
    rc = vlogPutEx(p, 17, zKey, n, zVal, 300, 0, i&1 ? 0 : 3);
    if( rc==VLOG_OK ) rc = vlogPut(p, 16, zKey, n, "jv", 2);
  }
  if( rc==VLOG_OK ) rc = vlogDelete(p, 18, "key0003", 7);
  if( rc ) seedFail(p, rc, "commits");
  if( p->vl.iDict!=1 || p->vl.dict.n<=0 || p->vl.dict.n>(int)sizeof(aSeedDict) ){
    seedFail(p, VLOG_ERROR, "no dictionary 1");
  }
  memcpy(aSeedDict, p->vl.dict.a, p->vl.dict.n);
  nSeedDict = p->vl.dict.n;
  vlogStoreClose(p);
  aSeed = (u8*)malloc((size_t)fuzzImgSize);
  if( aSeed==0 ) abort();
  memcpy(aSeed, fuzzImg, (size_t)fuzzImgSize);
  nSeed = fuzzImgSize;
}

const u8 *fuzzSeedImage(int64_t *pnByte){
  if( aSeed==0 ) seedBuild();
  *pnByte = nSeed;
  return aSeed;
}

void fuzzLoadSeed(void){
  int64_t n;
  const u8 *a = fuzzSeedImage(&n);
  fuzzImgSize = 0;
  if( fuzzImgGrow(n) ) abort();
  memcpy(fuzzImg, a, (size_t)n);
  memset(fuzzShm, 0, sizeof(fuzzShm));
  memset(aSlotHeld, 0, sizeof(aSlotHeld));
  fuzzRefused = 0;
}

void fuzzCheck(VlogStore *p, int rc){
  if( (rc & 0xff)==VLOG_NOMEM && !fuzzRefused ){
    fprintf(stderr, "fuzz: VLOG_NOMEM, but no allocation failed: %s\n",
            vlogStoreErrMsg(p));
    abort();
  }
}

int fuzzNewestSb(const u8 *aImg){
  return vlogGet64(&aImg[24])>=vlogGet64(&aImg[SB_SIZE+24]) ? 0 : SB_SIZE;
}

/* ---------------------------------------------------------------------
** The exercise
*/
static void readTree(VlogStore *p, u32 iTree){
  VlogCursor *pCsr = 0;
  int rc = vlogCursorOpen(p, iTree, &pCsr);
  int n = 0;
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) && n++<10000 ){
    const void *pVal;
    int nVal;
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  fuzzCheck(p, rc);
  if( pCsr ) vlogCursorClose(pCsr);
}

void fuzzExerciseStore(VlogStore *p){
  char *z = 0;
  u32 aTree[16];
  int nTree = 0, i, rc;
  Tree *pT;
  for(pT=p->pTrees; pT && nTree<16; pT=pT->pNext) aTree[nTree++] = pT->iTree;
  for(i=0; i<nTree; i++){
    if( aTree[i]>=VLOG_TREE_FIRST_USER ) readTree(p, aTree[i]);
  }
  rc = vlogVerify(p, &z);
  fuzzCheck(p, rc);
  vlogFree(p->pEnv, z);
  rc = vlogPut(p, 16, "fuzz", 4, "value", 5);
  fuzzCheck(p, rc);
  if( rc==VLOG_OK ){
    rc = vlogPutEx(p, 17, "fuzz", 4, "a value for the value log", 25, 0, 3);
    fuzzCheck(p, rc);
    rc = vlogCheckpoint(p);
    fuzzCheck(p, rc);
  }
}

int fuzzOpen(VlogEnv *pEnv, VlogStore **pp){
  VlogConfig cfg;
  vlogConfigDefault(&cfg);
  cfg.bCreate = 0;
  cfg.nAutoCheckpoint = 0;
  cfg.nMmapSize = 0;
  *pp = 0;
  return vlogStoreOpen(pEnv, FUZZ_PATH, &cfg, pp);
}

void fuzzExercise(VlogEnv *pEnv){
  VlogStore *p = 0;
  int rc = fuzzOpen(pEnv, &p);
  fuzzCheck(p, rc);
  if( rc==VLOG_OK ) fuzzExerciseStore(p);
  vlogStoreClose(p);
}

/* ---------------------------------------------------------------------
** Seeds
*/
int fuzzSeedsWanted(void){
  return getenv("FUZZ_WRITE_SEEDS")!=0;
}

void fuzzWriteSeed(int iSeed, const u8 *a, int n){
  char zPath[4096];
  FILE *f;
  snprintf(zPath, sizeof(zPath), "%s/seed-%03d", getenv("FUZZ_WRITE_SEEDS"), iSeed);
  f = fopen(zPath, "wb");
  if( f==0 || (int)fwrite(a, 1, n, f)!=n || fclose(f) ){
    fprintf(stderr, "fuzz: cannot write %s\n", zPath);
    exit(1);
  }
}

/* With FUZZ_WRITE_SEEDS: each node region of the seed image (from its
** first bset to the end of its last), one seed each, then exit. */
void fuzzWriteNodeSeeds(void){
  int64_t nImg, iOff;
  const u8 *a;
  int iSeed = 0;
  if( !fuzzSeedsWanted() ) return;
  a = fuzzSeedImage(&nImg);
  for(iOff=FUZZ_BUCKET_SIZE; iOff+FUZZ_NODE_SIZE<=nImg; iOff+=FUZZ_NODE_SIZE){
    int n = fuzzNodeLength(&a[iOff], FUZZ_NODE_SIZE);
    if( n>0 ) fuzzWriteSeed(iSeed++, &a[iOff], n);
  }
  exit(0);
}

int fuzzNodeLength(const u8 *a, int n){
  int iPos = 0, iEnd = 0, iBset = 0;
  while( n-iPos>=BSET_HDR && vlogGet32(&a[iPos])==BSET_MAGIC && a[iPos+7]==iBset ){
    u32 nPayload = vlogGet32(&a[iPos+32]);
    if( nPayload>(u32)(n-iPos-BSET_HDR) ) break;
    iEnd = iPos + BSET_HDR + (int)nPayload;
    iPos += (iEnd - iPos + VLOG_SECTOR-1) & ~(VLOG_SECTOR-1);
    iBset++;
  }
  return iEnd;
}

/* ---------------------------------------------------------------------
** The value log
*/
#define FS_LEVEL 3              /* zstd level of the frames made */

static ZSTD_CCtx *pFrameZc = 0;
static ZSTD_CDict *pFrameCDict = 0;
static ZSTD_DDict *pFrameDDict = 0;

const u8 *fuzzSeedDict(int *pnDict){
  int64_t n;
  fuzzSeedImage(&n);
  *pnDict = nSeedDict;
  return aSeedDict;
}

/* The zstd objects of the seed's dictionary, made on the first call. */
static void frameZstd(void){
  if( pFrameZc==0 ){
    int nDict;
    const u8 *aDict = fuzzSeedDict(&nDict);
    pFrameZc = ZSTD_createCCtx();
    pFrameCDict = ZSTD_createCDict(aDict, nDict, FS_LEVEL);
    pFrameDDict = ZSTD_createDDict(aDict, nDict);
    if( pFrameZc==0 || pFrameCDict==0 || pFrameDDict==0 ) abort();
  }
}

int fuzzFrameMake(const u8 *aSpec, const u8 *aRec, int nRec, u64 iGen,
                  u8 *aOut, int nOut){
  u8 ctl = aSpec[1];
  u8 *aStored = &aOut[FRAME_HDR];
  int nRoom = nOut - FRAME_HDR, nStored;
  u32 nClaim;
  if( nRoom<0 ) return 0;
  if( ctl & FS_ZSTD ){
    size_t nz;
    int nId = (ctl & FS_DICT) ? 4 : 0;
    frameZstd();
    if( nRoom<nId ) return 0;
    ZSTD_CCtx_reset(pFrameZc, ZSTD_reset_session_and_parameters);
    if( ctl & FS_DICT ){
      /* as vlogLogFlush() writes them */
      vlogPut32(aStored, vlogGet32(&aSpec[12]));
      ZSTD_CCtx_setParameter(pFrameZc, ZSTD_c_contentSizeFlag, 0);
      ZSTD_CCtx_setParameter(pFrameZc, ZSTD_c_dictIDFlag, 0);
      ZSTD_CCtx_refCDict(pFrameZc, pFrameCDict);
    }else{
      ZSTD_CCtx_setParameter(pFrameZc, ZSTD_c_compressionLevel, FS_LEVEL);
    }
    nz = ZSTD_compress2(pFrameZc, &aStored[nId], (size_t)(nRoom-nId), aRec, (size_t)nRec);
    if( ZSTD_isError(nz) ) return 0;
    nStored = nId + (int)nz;
  }else{
    if( nRec>nRoom ) return 0;
    memcpy(aStored, aRec, (size_t)nRec);
    nStored = nRec;
  }
  vlogPut32(&aOut[0], FRAME_MAGIC);
  aOut[4] = aSpec[0];
  aOut[5] = 0;
  memcpy(&aOut[6], &aSpec[2], 2);
  vlogPut32(&aOut[8], (ctl & FS_RAW) ? vlogGet32(&aSpec[4]) : (u32)nRec);
  nClaim = (ctl & FS_STORED) ? vlogGet32(&aSpec[8]) : (u32)nStored;
  vlogPut32(&aOut[12], nClaim);
  vlogPut64(&aOut[16], iGen);
  vlogFixFrame(aOut, aStored, nClaim<(u32)nRoom ? (int)nClaim : nRoom);
  return FRAME_HDR + nStored;
}

int fuzzFrameSpec(const u8 *h, int nAvail, u8 *aSpec, int nSpec){
  u32 nRaw = vlogGet32(&h[8]), nStored = vlogGet32(&h[12]);
  const u8 *aStored = &h[FRAME_HDR];
  if( nAvail<FRAME_HDR || nStored>(u32)(nAvail-FRAME_HDR)
   || nSpec<FS_HDR || nRaw>(u32)(nSpec-FS_HDR) ){
    return 0;
  }
  memset(aSpec, 0, FS_HDR);
  aSpec[0] = h[4];
  memcpy(&aSpec[2], &h[6], 2);
  if( h[4] & FRAME_ZSTD ){
    ZSTD_DCtx *pZd = ZSTD_createDCtx();
    size_t nz;
    frameZstd();
    aSpec[1] = FS_ZSTD;
    if( (h[4] & FRAME_DICT) && nStored>=4 ){
      aSpec[1] |= FS_DICT;
      memcpy(&aSpec[12], aStored, 4);
      nz = ZSTD_decompress_usingDDict(pZd, &aSpec[FS_HDR], nRaw, &aStored[4],
                                      nStored-4, pFrameDDict);
    }else{
      nz = ZSTD_decompressDCtx(pZd, &aSpec[FS_HDR], nRaw, aStored, nStored);
    }
    ZSTD_freeDCtx(pZd);
    if( ZSTD_isError(nz) || nz!=nRaw ) return 0;
  }else{
    if( nRaw!=nStored ) return 0;
    memcpy(&aSpec[FS_HDR], aStored, nRaw);
  }
  return FS_HDR + (int)nRaw;
}

int fuzzSeedFrames(const int64_t **paOff){
  static int64_t *aOff = 0;
  static int nOff = 0;
  if( aOff==0 ){
    int64_t nImg, i;
    const u8 *a = fuzzSeedImage(&nImg);
    aOff = (int64_t*)malloc(sizeof(int64_t)*(size_t)(nImg/16));
    if( aOff==0 ) abort();
    /* A frame is 16-byte aligned, and its magic and checksum hold (the
    ** magic alone may be in a record's bytes). */
    for(i=FUZZ_BUCKET_SIZE; i+FRAME_HDR<=nImg; i+=16){
      const u8 *h = &a[i];
      u32 nStored = vlogGet32(&h[12]);
      if( vlogGet32(h)==FRAME_MAGIC && i%FUZZ_BUCKET_SIZE+FRAME_HDR+nStored<=FUZZ_BUCKET_SIZE
       && i+FRAME_HDR+nStored<=nImg
       && vlogGet64(&h[24])==(vlogChecksum(h, 24, SEED_FRAME)
                              ^ vlogChecksum(&h[FRAME_HDR], nStored, SEED_FRAME)) ){
        aOff[nOff++] = i;
      }
    }
  }
  *paOff = aOff;
  return nOff;
}
