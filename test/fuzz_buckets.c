/*
** fuzz_buckets.c: libFuzzer target for the values of the alloc and
** segments trees as a load reads them (open.c: loadBuckets; alloc.c:
** vlogSegLoad, vlogSegFindOpen) and as the rest of the engine then uses
** the bucket table (allocation, the value log, checkpoints, verify).
**
** Input: entries, each
**     u8   tree: 0 the alloc tree, 1 the segments tree, 2 the roots tree;
**          +0x80: a whiteout (a deletion)
**     u8   n, then n key bytes
**     u8   n, then n value bytes
** The seed store is opened in memory and the entries are put straight
** into those trees (no transaction log, no write buffer: the values can be
** anything), a checkpoint writes them into nodes the engine checksums
** itself, and the store is opened again, read, verified and written
** (fuzz_common.h).
*/
#include "fuzz_common.h"

static const u32 aTree[] = { TREE_ALLOC, TREE_SEGS, TREE_ROOTS };

/* Open the store in the env, read-write. */
static VlogStore *openStore(void){
  VlogConfig cfg;
  VlogStore *p = 0;
  vlogConfigDefault(&cfg);
  cfg.bCreate = 0;
  cfg.nAutoCheckpoint = 0;
  cfg.nMmapSize = 0;
  if( vlogStoreOpen(fuzzEnv(0), FUZZ_PATH, &cfg, &p) ){
    vlogStoreClose(p);
    return 0;
  }
  return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  VlogStore *p;
  size_t i = 0;
  int rc;
  fuzzLoadSeed();
  p = openStore();
  if( p==0 ) return 0;
  rc = vlogBegin(p, 1);
  while( rc==VLOG_OK && i+3<=nIn ){
    int eTree = aIn[i] & 0x7f, bDel = aIn[i]>>7;
    int nKey = aIn[i+1], nVal;
    const u8 *aKey = &aIn[i+2], *aVal;
    if( eTree>2 || i+2+nKey+1>nIn ) break;
    nVal = aIn[i+2+nKey];
    aVal = &aIn[i+3+nKey];
    if( nKey==0 || i+3+nKey+nVal>nIn ) break;
    i += 3 + nKey + nVal;
    rc = vlogBtreeInsert(p, aTree[eTree], aKey, nKey, aVal, nVal,
                         bDel ? ENTRY_WHITEOUT : ENTRY_PUT);
  }
  if( rc==VLOG_OK ) rc = vlogStoreLockWrite(p);
  if( rc==VLOG_OK ) rc = vlogCheckpointInternal(p);
  fuzzCheck(p, rc);
  (void)vlogCommit(p);          /* a seed that did not build is not written */
  vlogStoreClose(p);
  if( rc==VLOG_OK ) fuzzExercise(fuzzEnv(0));
  return 0;
}

/* The seed: the alloc and segments trees of the seed image. */
int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ){
    static u8 aSeed[1<<20];
    int nSeed = 0, t;
    VlogStore *p;
    fuzzLoadSeed();
    p = openStore();
    for(t=0; p && t<2; t++){
      VlogCursor *pCsr = 0;
      int rc = vlogCursorOpen(p, aTree[t], &pCsr);
      if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
      while( rc==VLOG_OK && vlogCursorValid(pCsr) && nSeed<(1<<20)-600 ){
        const void *pKey, *pVal;
        int nKey, nVal;
        (void)vlogCursorKey(pCsr, &pKey, &nKey);   /* valid: cannot fail */
        rc = vlogCursorValue(pCsr, &pVal, &nVal);
        if( rc ) break;
        aSeed[nSeed++] = (u8)t;
        aSeed[nSeed++] = (u8)nKey;
        memcpy(&aSeed[nSeed], pKey, nKey);
        nSeed += nKey;
        aSeed[nSeed++] = (u8)nVal;
        memcpy(&aSeed[nSeed], pVal, nVal);
        nSeed += nVal;
        rc = vlogCursorNext(pCsr);
      }
      if( pCsr ) vlogCursorClose(pCsr);
    }
    vlogStoreClose(p);
    fuzzWriteSeed(0, aSeed, nSeed);
    exit(0);
  }
  return 0;
}
