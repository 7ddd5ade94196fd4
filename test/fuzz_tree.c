/*
** fuzz_tree.c: libFuzzer target for B-tree nodes in a store: child
** pointers and their regions, the roots tree's entries, the alloc and
** segments trees' values as loadBuckets() reads them, user trees' leaves
** (store.c, btree.c, cursor.c, verify.c).
**
** Input: a node region, as for fuzz_node.c.  It replaces the region of
** the seed image whose node has the generation its first bset names (the
** seeds are those regions, so a mutation of one lands where its parent
** points); every bset's checksum is recomputed.  Then the store is
** opened, read, verified and written in memory (fuzz_common.h).
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  int n = nIn>FUZZ_NODE_SIZE ? FUZZ_NODE_SIZE : (int)nIn;
  int64_t iOff;
  if( n<BSET_HDR ) return 0;
  fuzzLoadSeed();
  for(iOff=FUZZ_BUCKET_SIZE; iOff+FUZZ_NODE_SIZE<=fuzzImgSize; iOff+=FUZZ_NODE_SIZE){
    u8 *a = &fuzzImg[iOff];
    if( fuzzNodeLength(a, FUZZ_NODE_SIZE)>0 && memcmp(&a[16], &aIn[16], 8)==0 ){
      memset(a, 0, FUZZ_NODE_SIZE);
      memcpy(a, aIn, n);
      vlogFixNode(a, FUZZ_NODE_SIZE);
      fuzzExercise(fuzzEnv(0));
      break;
    }
  }
  return 0;
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  (void)pArgc; (void)pArgv;
  fuzzWriteNodeSeeds();
  return 0;
}
