/*
** fuzz_journal.c: libFuzzer target for journal entries and their replay
** (journal.c: entry headers, links, parts, payload records; vlog.c:
** vlogLogVerifyExtent, vlogAllocReplay, vlogSegLoad; txn.c through replay).
**
** Input: entries, each
**     28 bytes   header bytes 4..31: type, sequence, durable sequence,
**                payload length (which may lie), records
**     u16        n, then n payload bytes
** written one after another from the newest superblock's journal position:
** the next entry goes where replay will look for it (after this one, as
** its header's length says, or at the start of the bucket a link names).
** The magic is set and both checksums are recomputed over the bytes the
** header claims, so replay gets past them.  Then the store is opened (the
** replay), read, verified and written in memory (fuzz_common.h).
*/
#include "fuzz_common.h"

#define ENTRY_IN  30           /* input bytes of an entry before its payload */
#define MAX_ENTRY 64

static u64 alignUp(u64 n){ return (n + JE_ALIGN-1) & ~(u64)(JE_ALIGN-1); }

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  size_t iIn = 0;
  u64 iOff;
  int nEntry = 0;
  fuzzLoadSeed();
  iOff = vlogGet64(&fuzzImg[fuzzNewestSb(fuzzImg)+72]);
  while( nEntry++<MAX_ENTRY && nIn-iIn>=ENTRY_IN ){
    const u8 *x = &aIn[iIn];
    int n = x[28] | (x[29]<<8);
    u32 nClaim;
    u8 h[JE_HDR];
    if( (size_t)n>nIn-iIn-ENTRY_IN ) n = (int)(nIn-iIn-ENTRY_IN);
    iIn += ENTRY_IN + n;
    if( iOff+JE_HDR+n>FUZZ_FILE_MAX ) break;
    memset(h, 0, sizeof(h));
    vlogPut32(h, JE_MAGIC);
    memcpy(&h[4], x, 28);
    nClaim = vlogGet32(&h[24]);
    if( fuzzImgGrow((i64)(iOff+JE_HDR+n)) ) break;
    memcpy(&fuzzImg[iOff+JE_HDR], &x[ENTRY_IN], n);
    {
      u64 nAvail = (u64)fuzzImgSize - (iOff+JE_HDR);
      vlogFixJournalEntry(h, &fuzzImg[iOff+JE_HDR], (int)(nClaim<nAvail ? nClaim : nAvail));
    }
    memcpy(&fuzzImg[iOff], h, JE_HDR);
    if( vlogGet32(&h[4])==JE_LINK ){
      u64 iNew = n>=8 ? vlogGet64(&x[ENTRY_IN]) : 0;
      if( iNew==0 || iNew>=FUZZ_FILE_MAX/FUZZ_BUCKET_SIZE ) break;
      iOff = iNew*FUZZ_BUCKET_SIZE;
    }else{
      iOff += alignUp(JE_HDR+(u64)nClaim);
      if( iOff>=FUZZ_FILE_MAX ) break;
    }
  }
  fuzzExercise(fuzzEnv(0));
  return 0;
}

/* The seed: the seed image's journal from the newest superblock on. */
int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  int64_t nImg;
  const u8 *a = fuzzSeedImage(&nImg);
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ){
    int iSb = fuzzNewestSb(a);
    u64 iOff = vlogGet64(&a[iSb+72]), iSeq = vlogGet64(&a[iSb+80]);
    static u8 aSeed[MAX_ENTRY*(ENTRY_IN+FUZZ_BUCKET_SIZE)];
    int nSeed = 0, nEntry = 0;
    while( nEntry++<MAX_ENTRY && (i64)(iOff+JE_HDR)<=nImg
        && vlogGet32(&a[iOff])==JE_MAGIC && vlogGet64(&a[iOff+8])==iSeq ){
      u32 nPayload = vlogGet32(&a[iOff+24]);
      if( nPayload>0xffff || (i64)(iOff+JE_HDR+nPayload)>nImg ) break;
      memcpy(&aSeed[nSeed], &a[iOff+4], 28);
      aSeed[nSeed+28] = (u8)nPayload;
      aSeed[nSeed+29] = (u8)(nPayload>>8);
      memcpy(&aSeed[nSeed+ENTRY_IN], &a[iOff+JE_HDR], nPayload);
      nSeed += ENTRY_IN + (int)nPayload;
      if( vlogGet32(&a[iOff+4])==JE_LINK ){
        iOff = vlogGet64(&a[iOff+JE_HDR])*FUZZ_BUCKET_SIZE;
      }else{
        iOff += alignUp(JE_HDR+(u64)nPayload);
      }
      iSeq++;
    }
    fuzzWriteSeed(0, aSeed, nSeed);
    exit(0);
  }
  return 0;
}
