/*
** fuzz_vlog.c: libFuzzer target for the value log in a store: the frames
** of the seed image's segments and the leaf values that point into them,
** as an open, lookups, verify, the accounting and replay's check of a
** commit's frames meet them (vlog.c: frameLoad, recordGet, rawGet,
** ptrDecode, ptrExtent, vlogValueForEach, extentCheck; verify.c).
**
** Input: at most MAX_EDIT edits, each
**     u8    kind: EDIT_FRAME or EDIT_LEAF
**     u16   n, then n bytes:
**       EDIT_FRAME  u8 which frame of the seed image (modulo their number),
**                   then a frame spec and its records (fuzz_common.h).  The
**                   frame is made in place, for its segment's generation,
**                   over the frames after it if it grew (to the end of the
**                   bucket at most), its checksum recomputed.
**       EDIT_LEAF   u8 which entry of tree 17's leaf (modulo their number,
**                   counting those of every bset), then its new value (a
**                   whiteout becomes a put).  The entry's bset is encoded
**                   again (vlogBsetEncode, which computes its checksum) and
**                   put back in its place; when it is the last bset and
**                   its length changed, the length in the pointer to the
**                   leaf (the roots tree's entry) follows, and that node's
**                   checksums are recomputed (fixsum.c).
** The seeds are every frame of the seed image and every value of the leaf
** as they are.  Then the store is opened, read, verified and written in
** memory (fuzz_common.h).  fuzz_frame.c has the same frames and pointers
** without a store, much faster.
*/
#include <stdio.h>
#include "fuzz_common.h"

#define MAX_EDIT    8
#define EDIT_FRAME  0
#define EDIT_LEAF   1
#define MAX_PTR     8          /* copies of the pointer to the leaf */

/* The handle that decodes and encodes the leaf (fuzz_node.c's kind). */
static VlogStore *pScratch = 0;

/* Tree 17's root, a leaf: where it is, its length and generation in the
** seed image; the file offsets of the u32 length of each pointer to it. */
static int64_t iLeafOff;
static u32 nLeafLen;
static u64 iLeafGen;
static int64_t aPtrLen[MAX_PTR];
static int nPtrLen = 0;

/* The frame edit at a[0..n). */
static void frameEdit(const u8 *a, int n){
  const int64_t *aOff;
  int nFrame = fuzzSeedFrames(&aOff);
  int64_t iOff;
  u8 *h;
  if( n<1+FS_HDR || nFrame==0 ) return;
  iOff = aOff[a[0] % nFrame];
  h = &fuzzImg[iOff];
  fuzzFrameMake(&a[1], &a[1+FS_HDR], n-1-FS_HDR, vlogGet64(&h[16]), h,
                FUZZ_BUCKET_SIZE - (int)(iOff % FUZZ_BUCKET_SIZE));
}

/* Offsets in the node region of its bsets (as vlogNodeDecode() walks
** them), for the first nBset. */
static void bsetOffsets(const u8 *aReg, int nBset, int *aPos){
  int i;
  aPos[0] = 0;
  for(i=1; i<nBset; i++){
    int nPrev = BSET_HDR + (int)vlogGet32(&aReg[aPos[i-1]+32]);
    aPos[i] = aPos[i-1] + ((nPrev + VLOG_SECTOR-1) & ~(VLOG_SECTOR-1));
  }
}

/* The leaf edit at a[0..n); *pnLen is the leaf's length in the pointer to
** it, before and after. */
static void leafEdit(const u8 *a, int n, u32 *pnLen){
  u8 *aReg = &fuzzImg[iLeafOff];
  Node *pNode;
  VlogBuf buf = {0, 0, 0};
  int aPos[3], iBset, iEntry, nEntry = 0, nRoom, i;
  Entry *e;
  if( n<1 ) return;
  pNode = vlogNodeNew(pScratch, 17, 0, iLeafGen);
  if( pNode==0 ) return;
  if( vlogNodeDecode(pScratch, pNode, aReg, (int)*pnLen, 17, 0, iLeafOff) ) goto done;
  for(i=0; i<pNode->nBset; i++) nEntry += pNode->aBset[i].n;
  if( nEntry==0 ) goto done;
  iEntry = a[0] % nEntry;
  for(iBset=0; iEntry>=pNode->aBset[iBset].n; iBset++) iEntry -= pNode->aBset[iBset].n;
  e = &pNode->aBset[iBset].a[iEntry];
  e->eType = ENTRY_PUT;
  e->pVal = (u8*)&a[1];
  e->nVal = (u32)(n-1);
  bsetOffsets(aReg, pNode->nBset, aPos);
  nRoom = (iBset+1<pNode->nBset ? aPos[iBset+1] : FUZZ_NODE_SIZE) - aPos[iBset];
  /* the header as it was: checkpoint sequence sb.iSeq+1 */
  pScratch->sb.iSeq = vlogGet64(&aReg[aPos[iBset]+24]) - 1;
  if( vlogBsetEncode(pScratch, pNode, pNode->aBset[iBset].a, pNode->aBset[iBset].n,
                     iBset, &buf)==VLOG_OK && buf.n<=nRoom ){
    memset(&aReg[aPos[iBset]], 0, nRoom);
    memcpy(&aReg[aPos[iBset]], buf.a, buf.n);
    if( iBset==pNode->nBset-1 ){
      *pnLen = (u32)(aPos[iBset] + buf.n);
      for(i=0; i<nPtrLen; i++){
        vlogPut32(&fuzzImg[aPtrLen[i]], *pnLen);
        vlogFixNode(&fuzzImg[aPtrLen[i] & ~(int64_t)(FUZZ_NODE_SIZE-1)], FUZZ_NODE_SIZE);
      }
    }
  }
 done:
  vlogBufFree(pScratch->pEnv, &buf);
  vlogNodeFree(pScratch, pNode);
  vlogFree(pScratch->pEnv, pScratch->zErr);
  pScratch->zErr = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  size_t i = 0;
  int nEdit = 0;
  u32 nLen = nLeafLen;
  fuzzLoadSeed();
  while( nEdit++<MAX_EDIT && i+3<=nIn ){
    int eKind = aIn[i];
    int n = aIn[i+1] | (aIn[i+2]<<8);
    if( (size_t)n>nIn-i-3 ) n = (int)(nIn-i-3);
    if( eKind==EDIT_FRAME ) frameEdit(&aIn[i+3], n);
    if( eKind==EDIT_LEAF ) leafEdit(&aIn[i+3], n, &nLen);
    i += 3 + n;
  }
  fuzzExercise(fuzzEnv(0));
  return 0;
}

/* An edit of kind eKind: u8 iWhich and a[0..n) (spec and records, or a
** value) as seed iSeed. */
static void writeEdit(int iSeed, int eKind, int iWhich, const u8 *a, int n){
  static u8 aSeed[4 + 65536];
  if( n>65535-1 ) return;
  aSeed[0] = (u8)eKind;
  aSeed[1] = (u8)(n+1);
  aSeed[2] = (u8)((n+1)>>8);
  aSeed[3] = (u8)iWhich;
  memcpy(&aSeed[4], a, n);
  fuzzWriteSeed(iSeed, aSeed, 4+n);
}

/* The seeds: every frame of the seed image (its spec and records), every
** value of tree 17's leaf. */
static void writeSeeds(void){
  static u8 aSpec[FS_HDR + FUZZ_BUCKET_SIZE];
  const int64_t *aOff;
  int64_t nImg;
  const u8 *aImg = fuzzSeedImage(&nImg);
  int nFrame = fuzzSeedFrames(&aOff), i, b, iSeed = 0;
  Node *pNode = vlogNodeNew(pScratch, 17, 0, iLeafGen);
  for(i=0; i<nFrame; i++){
    int nAvail = FUZZ_BUCKET_SIZE - (int)(aOff[i] % FUZZ_BUCKET_SIZE);
    int nSpec = fuzzFrameSpec(&aImg[aOff[i]], nAvail, aSpec, sizeof(aSpec));
    if( nSpec>0 ) writeEdit(iSeed++, EDIT_FRAME, i, aSpec, nSpec);
  }
  if( vlogNodeDecode(pScratch, pNode, &aImg[iLeafOff], (int)nLeafLen, 17, 0, iLeafOff) ){
    abort();
  }
  for(b=0, i=0; b<pNode->nBset; b++){
    int j;
    for(j=0; j<pNode->aBset[b].n; j++, i++){
      Entry *e = &pNode->aBset[b].a[j];
      writeEdit(iSeed++, EDIT_LEAF, i, e->pVal, (int)e->nVal);
    }
  }
  vlogNodeFree(pScratch, pNode);
  exit(0);
}

/* Tree 17's root in the seed image, and the pointers to it. */
static void findLeaf(void){
  VlogConfig cfg;
  VlogStore *p = 0;
  Tree *pT = 0;
  int64_t nImg, iOff;
  const u8 *aImg;
  u8 aPat[16];
  fuzzLoadSeed();
  vlogConfigDefault(&cfg);
  cfg.bCreate = 0;
  if( vlogStoreOpen(fuzzEnv(0), FUZZ_PATH, &cfg, &p)
   || vlogTreeGet(p, 17, 0, &pT) || pT->nSavedLevel!=1 ){
    fprintf(stderr, "fuzz_vlog: tree 17 of the seed image is not one leaf\n");
    abort();
  }
  iLeafOff = (int64_t)pT->root.off;
  nLeafLen = pT->root.len;
  iLeafGen = pT->root.gen;
  vlogStoreClose(p);
  /* the pointers: (generation, offset) and the length, in node regions */
  aImg = fuzzSeedImage(&nImg);
  vlogPut64(aPat, iLeafGen);
  vlogPut64(&aPat[8], (u64)iLeafOff);
  for(iOff=FUZZ_BUCKET_SIZE; iOff+20<=nImg && nPtrLen<MAX_PTR; iOff++){
    if( memcmp(&aImg[iOff], aPat, 16)==0 && vlogGet32(&aImg[iOff+16])==nLeafLen ){
      aPtrLen[nPtrLen++] = iOff+16;
    }
  }
  if( nPtrLen==0 ) abort();
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  VlogEnv *pEnv = fuzzEnv(0);
  (void)pArgc; (void)pArgv;
  pScratch = (VlogStore*)vlogMallocZero(pEnv, sizeof(VlogStore));
  pScratch->pEnv = pEnv;
  pScratch->sb.nBucketSize = FUZZ_BUCKET_SIZE;
  pScratch->sb.nNodeSize = FUZZ_NODE_SIZE;
  findLeaf();
  if( fuzzSeedsWanted() ) writeSeeds();
  return 0;
}
