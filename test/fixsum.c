/*
** fixsum.c: recompute the checksums of on-disk structures (fixsum.h).
** Layouts: storeInt.h.
*/
#include "storeInt.h"
#include "fixsum.h"

void vlogFixSuperblock(u8 *a){
  vlogPut64(&a[SB_USED-8], vlogChecksum(a, SB_USED-8, SEED_SB));
}

void vlogFixJournalEntry(u8 *h, const u8 *aPayload, int nPayload){
  vlogPut64(&h[32], vlogChecksum(aPayload, (size_t)nPayload, SEED_JPAYLOAD));
  vlogPut64(&h[40], vlogChecksum(h, 40, SEED_JHDR));
}

int vlogFixNode(u8 *a, int n){
  int iPos = 0, nFixed = 0;
  while( n-iPos>=BSET_HDR && vlogGet32(&a[iPos])==BSET_MAGIC ){
    u8 *h = &a[iPos];
    u32 nPayload = vlogGet32(&h[32]);
    if( nPayload>(u32)(n-iPos-BSET_HDR) ) nPayload = (u32)(n-iPos-BSET_HDR);
    vlogPut64(&h[40], vlogChecksum(&h[BSET_HDR], nPayload, SEED_BSET)
                      ^ vlogChecksum(h, 40, SEED_BSET));
    nFixed++;
    iPos += (BSET_HDR + (int)nPayload + VLOG_SECTOR-1) & ~(VLOG_SECTOR-1);
  }
  return nFixed;
}

void vlogFixFrame(u8 *h, const u8 *aStored, int nStored){
  vlogPut64(&h[24], vlogChecksum(h, 24, SEED_FRAME)
                    ^ vlogChecksum(aStored, (size_t)nStored, SEED_FRAME));
}

u32 vlogRawRecordSum(const u8 *a, int n, u64 iGen){
  return (u32)vlogChecksum(a, (size_t)n, SEED_RECORD ^ iGen);
}

void vlogFixDictHeader(u8 *aHdr, const u8 *aDict, int nDict){
  vlogPut64(&aHdr[8], vlogChecksum(aDict, (size_t)nDict, SEED_DICT));
}
