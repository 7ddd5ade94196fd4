/*
** fuzz_superblock.c: libFuzzer target for the superblock (store.c,
** sbDecode) and what an open does with its fields: geometry, the roots
** tree's root, the journal position, the bucket count.
**
** Input: the bytes after the magic of superblock A (bytes 16..111), then
** those of superblock B; either may be short or missing (the seed's bytes
** stay).  Both checksums are recomputed, so every field reaches the code
** behind the checksum.  Then the store is opened, read, verified and
** written in memory (fuzz_common.h).
*/
#include "fuzz_common.h"

#define SB_FIELDS (112-16)

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  int i;
  fuzzLoadSeed();
  for(i=0; i<2; i++){
    size_t iAt = (size_t)i*SB_FIELDS;
    u8 *a = &fuzzImg[i*SB_SIZE];
    if( nIn>iAt ){
      size_t n = nIn-iAt<SB_FIELDS ? nIn-iAt : SB_FIELDS;
      memcpy(&a[16], &aIn[iAt], n);
    }
    vlogFixSuperblock(a);
  }
  fuzzExercise(fuzzEnv(0));
  return 0;
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  int64_t n;
  const u8 *a = fuzzSeedImage(&n);
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ){
    u8 aSeed[2*SB_FIELDS];
    memcpy(aSeed, &a[16], SB_FIELDS);
    memcpy(&aSeed[SB_FIELDS], &a[SB_SIZE+16], SB_FIELDS);
    fuzzWriteSeed(0, aSeed, sizeof(aSeed));
    exit(0);
  }
  return 0;
}
