/*
** fuzz_node.c: libFuzzer target for B-tree node regions in memory
** (bset.c: vlogNodeDecode, the packed entries, vlogPtrDecode and
** vlogPtrValid; btree.c: the merged view of a leaf).
**
** Input: a node region (at most a node size).  Every bset's checksum is
** recomputed (fixsum.c), and the node is decoded as the pointer to it
** would promise what its first bset header says (tree, level,
** generation; as far as a pointer can promise it), so that decoding goes
** past the header checks.  No store is opened: about a hundred thousand
** inputs a second.  fuzz_tree.c puts the same input in a store.
*/
#include "fuzz_common.h"

static VlogStore *pStore = 0;

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  static u8 a[FUZZ_NODE_SIZE];
  int n = nIn>FUZZ_NODE_SIZE ? FUZZ_NODE_SIZE : (int)nIn;
  Node *pNode;
  int rc, i, iLevel;
  u64 gen;
  if( n<BSET_HDR ) return 0;
  memcpy(a, aIn, n);
  vlogFixNode(a, n);
  /* A pointer promises only what it can: a level below 32 (its parent's
  ** minus one; a tree's levels are at most 32, vlogRootDecode and the
  ** superblock) and a generation other than 0 (vlogPtrDecode).  A header
  ** that claims more is decoded against the nearest promise, and must be
  ** refused there. */
  iLevel = a[6]<32 ? a[6] : 31;
  gen = vlogGet64(&a[16]) ? vlogGet64(&a[16]) : 1;
  pNode = vlogNodeNew(pStore, vlogGet32(&a[8]), iLevel, gen);
  if( pNode==0 ) return 0;
  rc = vlogNodeDecode(pStore, pNode, a, n, pNode->iTree, pNode->iLevel, FUZZ_BUCKET_SIZE);
  if( rc==VLOG_OK ) rc = vlogNodeView(pStore, pNode);
  for(i=0; rc==VLOG_OK && pNode->iLevel>0 && i<pNode->aBset[0].n; i++){
    NodePtr ptr;
    Entry *e = &pNode->aBset[0].a[i];
    if( vlogPtrDecode(e->pVal, (int)e->nVal, &ptr)==VLOG_OK ){
      vlogPtrValid(pStore, &ptr);
    }
  }
  vlogNodeFree(pStore, pNode);
  return 0;
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  (void)pArgc; (void)pArgv;
  fuzzWriteNodeSeeds();
  /* The handle decoding goes through: only its env, geometry and error
  ** message matter. */
  pStore = (VlogStore*)vlogMallocZero(fuzzEnv(0), sizeof(VlogStore));
  pStore->pEnv = fuzzEnv(0);
  pStore->sb.nBucketSize = FUZZ_BUCKET_SIZE;
  pStore->sb.nNodeSize = FUZZ_NODE_SIZE;
  pStore->sb.nBucket = 64;
  pStore->sb.iNextGen = 1000;
  return 0;
}
