/*
** fuzz_frame.c: libFuzzer target for value-log frames and the pointers to
** their records, in memory (vlog.c: frameHdrCheck, frameSumCheck,
** frameLoad and its cache, the zstd decompression with and without a
** dictionary, recordGet, rawGet, ptrDecode and ptrExtent through
** vlogValueDecode, vlogValueVerify and vlogValueForEach; extentCheck
** through vlogLogVerifyExtent, as replay checks a commit's frames).
**
** Input:
**     FS_HDR bytes   a frame spec (fuzz_common.h)
**     u16 n          then n bytes: the frame's records, raw
**     u16 n          then n bytes: leaf values, each u8 m and m bytes,
**                    read as the value of the first record's key
**     the rest       with FS_NEWDICT, the handle's dictionary (id 1)
** The frame is made from the spec (compressed as the spec says, checksum
** recomputed) at offset 0 of segment 1 of a file of two buckets.  Then,
** through a handle that is no open store (its bucket table, geometry and
** dictionary only, as fuzz_node.c's): replay's check of the frame, and for
** each record the engine's pointers to it (VTAG_RAW, read from the file
** and from the cache; VTAG_PTR; VTAG_CHUNKS of it twice), which the
** records' bytes say; then the input's leaf values.  No store is opened:
** thousands of inputs a second.  fuzz_vlog.c puts frames and pointers in
** a store.
*/
#include "fuzz_common.h"

#define SEG       1            /* the segment of the file */
#define SEG_GEN   7            /* its generation */
#define MAX_REC     32         /* records read through pointers */
#define MAX_REC_ALL 4          /* ... every way */

static VlogStore *pStore = 0;

/* Leaf value {eTag, a[0..n) as varints} (then u32 iSum for VTAG_RAW) into
** aOut: its length. */
static int ptrMake(u8 *aOut, int eTag, const u64 *a, int n, u32 iSum){
  int i, k = 1;
  aOut[0] = (u8)eTag;
  for(i=0; i<n; i++) k += vlogPutVarint(&aOut[k], a[i]);
  if( eTag==VTAG_RAW ){
    vlogPut32(&aOut[k], iSum);
    k += 4;
  }
  return k;
}

/* The record at *pz (before pEnd), read by vlog.c's parser: its tree, key
** and value length; *pz moves past it.  0 at the end or if it does not
** fit. */
static int recordNext(const u8 **pz, const u8 *pEnd, u64 *piTree,
                      const u8 **ppKey, u64 *pnKey, u64 *pnVal){
  const u8 *pVal;
  const u8 *z = vlogRecordParse(*pz, pEnd, piTree, ppKey, pnKey, &pVal, pnVal);
  if( z==0 ) return 0;
  *pz = z;
  return 1;
}

static int forEachCb(VlogStore *p, u64 iSeg, u64 nBytes){
  (void)p; (void)iSeg; (void)nBytes;
  return VLOG_OK;
}

/* Leaf value a[0..n) of key pKey of tree iTree: read as a lookup reads
** it; with bAll, as verify and the accounting read it too. */
static void readValue(u32 iTree, const u8 *pKey, int nKey, const u8 *a, int n,
                      int bAll){
  const u8 *pVal;
  int nVal;
  fuzzCheck(pStore, vlogValueDecode(pStore, iTree, pKey, nKey, a, n, &pVal, &nVal));
  if( bAll ){
    fuzzCheck(pStore, vlogValueVerify(pStore, iTree, pKey, nKey, a, n, &pVal, &nVal));
    fuzzCheck(pStore, vlogValueForEach(pStore, iTree, nKey, a, n, forEachCb));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  static u8 aVal[1 + 10*10 + 4];     /* a leaf value ptrMake() makes */
  VlogLog *pL = &pStore->vl;
  const u8 *aRec, *aPtr, *z, *pEnd;
  const u8 *pKey0 = (const u8*)"k";
  int nRec, nPtr, nFrame, nKey0 = 1, iRec, i;
  u32 iTree0 = 17;
  u8 ctl;
  VlogBuf vext = {0, 0, 0};

  if( nIn<FS_HDR+4 ) return 0;
  fuzzRefused = 0;
  ctl = aIn[1];
  nRec = aIn[FS_HDR] | (aIn[FS_HDR+1]<<8);
  if( (size_t)nRec>nIn-FS_HDR-4 ) nRec = (int)(nIn-FS_HDR-4);
  aRec = &aIn[FS_HDR+2];
  nPtr = aRec[nRec] | (aRec[nRec+1]<<8);
  aPtr = &aRec[nRec+2];
  if( nPtr>(int)(&aIn[nIn]-aPtr) ) nPtr = (int)(&aIn[nIn]-aPtr);

  /* the frame, alone in segment 1 */
  memset(&fuzzImg[SEG*FUZZ_BUCKET_SIZE], 0, FUZZ_BUCKET_SIZE);
  nFrame = fuzzFrameMake(aIn, aRec, nRec, SEG_GEN, &fuzzImg[SEG*FUZZ_BUCKET_SIZE],
                         FUZZ_BUCKET_SIZE);
  if( nFrame==0 ) return 0;
  nFrame = (nFrame + 15) & ~15;
  pStore->aBucket[SEG].nDisk = (u64)nFrame;
  pStore->aBucket[SEG].nTotal = pStore->aBucket[SEG].nLive = (u64)nRec;
  pL->iDict = 1;
  pL->dict.n = 0;
  if( ctl & FS_NEWDICT ){
    const u8 *aDict = &aPtr[nPtr];
    if( vlogBufAppend(pStore->pEnv, &pL->dict, aDict, (int)(&aIn[nIn]-aDict)) ) return 0;
  }else{
    int nDict;
    const u8 *aDict = fuzzSeedDict(&nDict);
    if( vlogBufAppend(pStore->pEnv, &pL->dict, aDict, nDict) ) return 0;
  }

  /* replay's check of the frame (a REC_VEXT record of its commit) */
  {
    const LogRec r = { .eOp = REC_VEXT, .iSeg = SEG, .iGen = SEG_GEN,
                       .iOff = 0, .nLen = (u32)nFrame };
    if( vlogRecEncode(pStore->pEnv, &vext, &r)==VLOG_OK ){
      pStore->bReplay = 1;              /* as replay calls it */
      fuzzCheck(pStore, vlogLogVerifyExtent(pStore, vext.a, vext.n));
      pStore->bReplay = 0;
    }
    vlogBufFree(pStore->pEnv, &vext);
  }

  /* the records as the engine points to them: raw (from the file), by
  ** index (the frame is cached), raw again (from the cache); the first in
  ** chunks too.  The first records are read every way. */
  z = aRec;
  pEnd = &aRec[nRec];
  for(iRec=0; iRec<MAX_REC; iRec++){
    const u8 *zRec = z, *pK;
    u64 iT, nK, nV, v[5];
    u32 iSum;
    int n, bAll = iRec<MAX_REC_ALL;
    if( !recordNext(&z, pEnd, &iT, &pK, &nK, &nV) ) break;
    /* a lookup's key comes from a leaf: 1 to VLOG_MAX_KEY bytes */
    if( iT>0xffffffff || nK<1 || nK>VLOG_MAX_KEY ) continue;
    if( iRec==0 ){
      iTree0 = (u32)iT;
      pKey0 = pK;
      nKey0 = (int)nK;
    }
    iSum = vlogRawRecordSum(zRec, (int)(z-zRec), SEG_GEN);
    v[0] = SEG; v[1] = SEG_GEN; v[2] = 0; v[3] = (u64)(zRec-aRec); v[4] = nV;
    n = ptrMake(aVal, VTAG_RAW, v, 5, iSum);
    readValue((u32)iT, pK, (int)nK, aVal, n, 0);
    v[3] = (u64)iRec;
    n = ptrMake(aVal, VTAG_PTR, v, 5, 0);
    readValue((u32)iT, pK, (int)nK, aVal, n, bAll);
    if( bAll ){
      v[3] = (u64)(zRec-aRec);
      n = ptrMake(aVal, VTAG_RAW, v, 5, iSum);
      readValue((u32)iT, pK, (int)nK, aVal, n, 1);
    }
    if( iRec==0 && nV>0 ){
      u64 c[2+2*4] = { 2*nV, 2, SEG, SEG_GEN, 0, nV, SEG, SEG_GEN, 0, nV };
      n = ptrMake(aVal, VTAG_CHUNKS, c, 10, 0);
      readValue((u32)iT, pK, (int)nK, aVal, n, 1);
    }
  }

  /* the input's leaf values */
  for(i=0; i<nPtr; ){
    int n = aPtr[i];
    if( n>nPtr-i-1 ) n = nPtr-i-1;
    readValue(iTree0, pKey0, nKey0, &aPtr[i+1], n, 1);
    i += 1 + n;
  }

  /* forget the frames; and the digested dictionaries when they were the
  ** input's */
  if( ctl & FS_NEWDICT ){
    vlogLogClose(pStore);
  }else{
    vlogLogReset(pStore);
  }
  vlogFree(pStore->pEnv, pStore->zErr);
  pStore->zErr = 0;
  return 0;
}

/* Append leaf value {eTag, a[0..n), iSum} to the seed at aSeed[*pn], after
** its length byte. */
static void seedPtr(u8 *aSeed, int *pn, int eTag, const u64 *a, int n, u32 iSum){
  int k = ptrMake(&aSeed[*pn+1], eTag, a, n, iSum);
  aSeed[*pn] = (u8)k;
  *pn += 1 + k;
}

/* The seeds: each frame of the seed image, with a leaf value of each kind
** for its first record; the dictionary frames also with the seed's
** dictionary as the input's. */
static void writeSeeds(void){
  static u8 aSpec[FS_HDR + FUZZ_BUCKET_SIZE];
  static u8 aSeed[FS_HDR + 2 + FUZZ_BUCKET_SIZE + 2 + 256 + 16*1024];
  const int64_t *aOff;
  int64_t nImg;
  const u8 *aImg = fuzzSeedImage(&nImg);
  int nFrame = fuzzSeedFrames(&aOff), i, iSeed = 0;
  for(i=0; i<nFrame; i++){
    const u8 *h = &aImg[aOff[i]];
    int nAvail = FUZZ_BUCKET_SIZE - (int)(aOff[i] % FUZZ_BUCKET_SIZE);
    int nSpec = fuzzFrameSpec(h, nAvail, aSpec, sizeof(aSpec));
    int nRec = nSpec - FS_HDR, n, nPtrAt;
    const u8 *z = &aSpec[FS_HDR], *pK;
    u64 iT, nK, nV;
    if( nSpec==0 ) continue;
    memcpy(aSeed, aSpec, FS_HDR);
    aSeed[FS_HDR] = (u8)nRec;
    aSeed[FS_HDR+1] = (u8)(nRec>>8);
    memcpy(&aSeed[FS_HDR+2], &aSpec[FS_HDR], nRec);
    nPtrAt = n = FS_HDR + 2 + nRec + 2;
    if( recordNext(&z, &aSpec[nSpec], &iT, &pK, &nK, &nV) ){
      u64 v[5] = { SEG, SEG_GEN, 0, 0, nV };
      u64 c[6] = { nV, 1, SEG, SEG_GEN, 0, nV };
      u32 iSum = vlogRawRecordSum(&aSpec[FS_HDR], (int)(z-&aSpec[FS_HDR]), SEG_GEN);
      seedPtr(aSeed, &n, VTAG_PTR, v, 5, 0);
      seedPtr(aSeed, &n, VTAG_RAW, v, 5, iSum);
      seedPtr(aSeed, &n, VTAG_CHUNKS, c, 6, 0);
    }
    aSeed[nPtrAt-2] = (u8)(n-nPtrAt);
    aSeed[nPtrAt-1] = (u8)((n-nPtrAt)>>8);
    fuzzWriteSeed(iSeed++, aSeed, n);
    if( aSeed[1] & FS_DICT ){
      int nDict;
      const u8 *aDict = fuzzSeedDict(&nDict);
      aSeed[1] |= FS_NEWDICT;
      memcpy(&aSeed[n], aDict, nDict);
      fuzzWriteSeed(iSeed++, aSeed, n + nDict);
    }
  }
  exit(0);
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  VlogEnv *pEnv = fuzzEnv(0);
  int64_t nImg;
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ) writeSeeds();
  fuzzSeedImage(&nImg);        /* built in the env's file: before ours */
  fuzzImgSize = 0;
  if( fuzzImgGrow(2*FUZZ_BUCKET_SIZE) ) abort();
  /* The handle decoding goes through: its env and file, geometry, bucket
  ** table and value-log state matter. */
  pStore = (VlogStore*)vlogMallocZero(pEnv, sizeof(VlogStore));
  pStore->pEnv = pEnv;
  if( pEnv->xOpen(pEnv, FUZZ_PATH, 0, &pStore->pFile) ) abort();
  pStore->sb.nBucketSize = FUZZ_BUCKET_SIZE;
  pStore->sb.nNodeSize = FUZZ_NODE_SIZE;
  pStore->sb.nBucket = 2;
  pStore->sb.iNextGen = 1000;
  pStore->sb.iNextSegGen = SEG_GEN+1;
  pStore->aBucket = (Bucket*)vlogMallocZero(pEnv, 2*sizeof(Bucket));
  pStore->nBucketAlloc = 2;
  pStore->aBucket[SEG].eState = BUCKET_SEALED;
  pStore->aBucket[SEG].eKind = KIND_VLOG;
  pStore->aBucket[SEG].iGen = SEG_GEN;
  pStore->aBucket[SEG].eSegKind = SEG_VALUE;
  pStore->iSlot = -1;
  /* reads of values run inside a read transaction (the engine asserts it):
  ** this handle is always in one, holding no lock (nothing else runs) */
  pStore->eTxn = 1;
  return 0;
}
