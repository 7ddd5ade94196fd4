/*
** check.c: the structure checker of debug builds (VLOG_DEBUG).
**
** DESIGN NOTE
**
** vlogVerify (verify.c) checks a store: it reads every node of every tree
** and the journal from the file.  vlogStoreCheck checks a handle: what the
** handle holds in memory between two calls of the engine, reading nothing,
** so that a test can run it after every operation (engine_model.test does,
** through test_vlog.c's NAME check) and a broken invariant shows at the
** operation that broke it, not at the next verify.  In the manner of
** SQLite's sqlite3BtreeIntegrityCheck of a page cache and pager.c's
** assert_pager_state(), it checks:
**
**   1. the node cache: each node in the hash chain its generation selects,
**      nNode and nCacheBytes (what nodes were charged: btree.c nodeCharge)
**      right; the LRU list doubly linked, holding exactly the clean,
**      unreferenced, live nodes, each charged at its present size; the
**      dirty list exactly the nodes marked bInDirty, and every dirty live
**      node on it; each node's nRef equal to the references that can be
**      counted: cached nodes whose parent it is, the pin of the tree whose
**      root it is, the paths of cursors; every parent a cached node;
**   2. each node: its level, one to three bsets (one in an interior node),
**      keys of 1 to VLOG_MAX_KEY bytes strictly increasing in each bset,
**      with the prefix (Entry.iPrefix) of their bytes, no whiteout in bset
**      0 or in an interior node, interior values that decode as pointers,
**      nLive and nLiveBytes what the bsets give, a merged view (aView) in
**      order and as long as nLive; a node with a region (iOff) has it live
**      in a B-tree bucket; its generation below the superblock's next;
**   3. each tree, from its pinned root down through the cached children:
**      the root at level nLevel-1 without a parent, a clean root where the
**      tree's pointer says; each cached child one level below its parent,
**      of its tree, reached once, its parent the node pointing to it (or
**      none: a node loaded by a walk that pins nothing), a clean child at
**      the offset and length its parent's pointer says, and its keys
**      within the parent's separators (verify.c's rule: a node's first key
**      may lie below its separator); a node with a parent is in it;
**   4. the bucket table: states and kinds that exist, a free bucket of
**      kind none and no region, regions only in B-tree buckets and inside
**      a bucket's slots, no region both live and pending; segments with a
**      generation given out, live bytes at most total, bytes used at most
**      the bucket, no seal sequence while open and one after (sealed or
**      zombie), bTouched exactly for the listed segments;
**      the free list and the B-tree bucket list (alloc.c) what the table
**      says; the journal position's bucket the one open journal bucket;
**   5. the write buffer: entries in the order of arrival, for the alloc
**      and segments trees, values that fit; the last alloc entry of each
**      bucket what the table says, the last accounting entry of each
**      untouched segment what the table says;
**   6. the journal position: sequence at least the superblock's, durable
**      below it, bytes counted iff entries since the checkpoint, offset on
**      a sector boundary;
**   7. the transaction and locks: eTxn 0..2, no transaction holds no lock,
**      a read transaction SHARED or a reader slot, a write transaction
**      RESERVED or more, a prepared commit EXCLUSIVE (and the change
**      counter bumped only under it); the transaction log's records whole,
**      undo offsets increasing, savepoint marks not decreasing, and all
**      of it empty outside a write transaction;
**   8. cursors: a cursor of this handle; one whose trees changed since it
**      was positioned holds a saved key; the path of one that is current
**      pinned, from the tree's root to a leaf a level at a time, through
**      the child indexes it records, its position inside the leaf.
**
** A handle whose state is known to be stale (bValid 0: it reloads at its
** next transaction) gets checks 1 and 7 only; a poisoned write transaction
** (bPoison: a change failed half-way) gets 1, 4 to 8.
**
** A failure appends one line naming the invariant, then the structure as
** print.c draws it (the node with its keys, the bucket, the segment), to
** the caller's buffer, and the check stops there: VLOG_CORRUPT.  The cost
** is linear in the cached nodes and their keys, the buckets, the write
** buffer and the transaction log: a few milliseconds for a cache of
** thousands of nodes.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "storeInt.h"

#ifdef VLOG_DEBUG

typedef struct CheckCtx CheckCtx;
struct CheckCtx {
  VlogStore *p;
  VlogBuf *pOut;
  int rc;                      /* VLOG_CORRUPT after the first failure */
  Node **apNode;               /* every node of the cache, by address */
  int nNode;
  int *aRef;                   /* references counted, per apNode[] */
  u8 *aSeen;                   /* reached by a tree walk, per apNode[] */
};

/* Record a failure: "check: MESSAGE" and a newline. */
static void checkFail(CheckCtx *c, const char *zFmt, ...){
  char zMsg[400];
  va_list ap;
  int rc;
  if( c->rc ) return;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  rc = vlogBufPrintf(c->p->pEnv, c->pOut, "check: %s\n", zMsg);
  c->rc = rc ? rc : VLOG_CORRUPT;
}

/* ... then the node, with its keys. */
static void checkFailNode(CheckCtx *c, const Node *pNode, const char *zWhat){
  if( c->rc ) return;
  checkFail(c, "%s: node of tree %u, generation %llu, level %u", zWhat,
            pNode->iTree, (unsigned long long)pNode->gen, pNode->iLevel);
  if( c->rc==VLOG_CORRUPT && vlogNodeToText(c->p, pNode, 1, c->pOut) ){
    c->rc = VLOG_NOMEM;
  }
}

/* ... then the bucket (or segment). */
static void checkFailBucket(CheckCtx *c, u64 iBucket, const char *zWhat){
  if( c->rc ) return;
  checkFail(c, "%s: bucket %llu", zWhat, (unsigned long long)iBucket);
  if( c->rc==VLOG_CORRUPT && vlogBucketToText(c->p, iBucket, c->pOut) ){
    c->rc = VLOG_NOMEM;
  }
}

static int nodeAddrCmp(const void *a, const void *b){
  const Node *x = *(const Node**)a, *y = *(const Node**)b;
  return x<y ? -1 : x>y;
}

/* Index of pNode in c->apNode, or -1 when it is not in the cache. */
static int nodeIndex(CheckCtx *c, const Node *pNode){
  int lo = 0, hi = c->nNode-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    if( c->apNode[mid]==pNode ) return mid;
    if( (const Node*)c->apNode[mid]<pNode ) lo = mid+1;
    else hi = mid-1;
  }
  return -1;
}

/* The live (not dead) cached node of generation gen, as btree.c finds it. */
static Node *cachedNode(VlogStore *p, u64 gen){
  Node *pNode;
  if( p->nHash==0 ) return 0;
  for(pNode=p->apHash[gen & (p->nHash-1)]; pNode; pNode=pNode->pHashNext){
    if( pNode->gen==gen && !pNode->bDead ) return pNode;
  }
  return 0;
}

/* Count a reference to pNode from zWho; it must be a cached node. */
static void countRef(CheckCtx *c, const Node *pNode, const char *zWho){
  int i = nodeIndex(c, pNode);
  if( i<0 ){
    checkFail(c, "%s refers to a node that is not in the cache", zWho);
  }else{
    c->aRef[i]++;
  }
}

static void countPin(void *pCtx, const Node *pNode){
  countRef((CheckCtx*)pCtx, pNode, "a cursor's path");
}

/* ---------------------------------------------------------------------
** 1. The node cache
*/
static void checkCache(CheckCtx *c){
  VlogStore *p = c->p;
  Node *pNode, *pPrev;
  Tree *pT;
  i64 nCharge = 0;
  int i, n = 0, nLru = 0, nEvictable = 0;

  if( p->nHash & (p->nHash-1) ){
    checkFail(c, "the node hash table has %d slots, not a power of two", p->nHash);
    return;
  }
  for(i=0; i<p->nHash; i++){
    for(pNode=p->apHash[i]; pNode; pNode=pNode->pHashNext){
      if( (int)(pNode->gen & (p->nHash-1))!=i ){
        checkFailNode(c, pNode, "a node in the wrong hash chain");
        return;
      }
      if( n>=p->nNode ){
        checkFail(c, "more nodes in the hash table than nNode (%d)", p->nNode);
        return;
      }
      c->apNode[n++] = pNode;
    }
  }
  if( n!=p->nNode ){
    checkFail(c, "%d nodes in the hash table, nNode says %d", n, p->nNode);
    return;
  }
  c->nNode = n;
  qsort(c->apNode, n, sizeof(Node*), nodeAddrCmp);

  /* References: parents, tree pins, cursor paths. */
  for(i=0; i<n; i++){
    pNode = c->apNode[i];
    nCharge += pNode->nCharge;
    if( pNode->pParent ) countRef(c, pNode->pParent, "a node's parent pointer");
    if( pNode->nRef==0 && !pNode->bDirty && !pNode->bDead ) nEvictable++;
  }
  if( p->rootsTree.pRoot ) countRef(c, p->rootsTree.pRoot, "the roots tree's pin");
  for(pT=p->pTrees; pT; pT=pT->pNext){
    Tree *pH;
    if( pT->pRoot ) countRef(c, pT->pRoot, "a tree's pin");
    for(pH=p->apTreeHash[pT->iTree % VLOG_TREE_HASH]; pH && pH!=pT; pH=pH->pHashNext){
      if( pH->iTree==pT->iTree ) checkFail(c, "tree %u is loaded twice", pT->iTree);
    }
    if( pH==0 ) checkFail(c, "tree %u is not in the trees' hash", pT->iTree);
  }
  for(i=0; i<p->log.nTree; i++){
    /* the root of a tree the transaction cleared or dropped, pinned for
    ** its rollback (txn.c, TreeUndo) */
    Node *pRoot = p->log.aTree[i].pRoot;
    if( pRoot ) countRef(c, pRoot, "a cleared tree's pin (transaction log)");
  }
  (void)vlogCursorsCheck(p, countPin, c);    /* the pins only, here */
  for(i=0; c->rc==VLOG_OK && i<n; i++){
    if( c->apNode[i]->nRef!=c->aRef[i] ){
      char zMsg[80];
      snprintf(zMsg, sizeof(zMsg), "nRef is %d, but %d references are there",
               c->apNode[i]->nRef, c->aRef[i]);
      checkFailNode(c, c->apNode[i], zMsg);
    }
    if( c->apNode[i]->bDead && c->apNode[i]->nRef==0 ){
      checkFailNode(c, c->apNode[i], "a dead node nothing references is not freed");
    }
  }
  if( c->rc ) return;
  if( nCharge!=p->nCacheBytes ){
    checkFail(c, "nCacheBytes is %lld, the nodes were charged %lld",
              (long long)p->nCacheBytes, (long long)nCharge);
    return;
  }

  /* The LRU list: exactly the evictable nodes, each charged as it is. */
  pPrev = 0;
  for(pNode=p->pLruFirst; pNode; pNode=pNode->pLruNext){
    if( nodeIndex(c, pNode)<0 ){
      checkFail(c, "the LRU list holds a node that is not in the cache");
      return;
    }
    if( pNode->pLruPrev!=pPrev ){
      checkFailNode(c, pNode, "the LRU list's back link is wrong");
      return;
    }
    if( pNode->nRef!=0 || pNode->bDirty || pNode->bDead ){
      checkFailNode(c, pNode, "a referenced, dirty or dead node on the LRU list");
      return;
    }
    if( pNode->nCharge!=pNode->nLiveBytes + (int)sizeof(Node) + 64 ){
      checkFailNode(c, pNode, "an evictable node charged for another size");
      return;
    }
    if( ++nLru>n ){
      checkFail(c, "the LRU list loops");
      return;
    }
    pPrev = pNode;
  }
  if( pPrev!=p->pLruLast ){
    checkFail(c, "the LRU list's last node is not pLruLast");
    return;
  }
  if( nLru!=nEvictable ){
    checkFail(c, "%d nodes are evictable, %d on the LRU list", nEvictable, nLru);
    return;
  }

  /* The dirty list. */
  i = 0;
  for(pNode=p->pDirty; pNode; pNode=pNode->pDirtyNext){
    if( !pNode->bInDirty || nodeIndex(c, pNode)<0 ){
      checkFail(c, "the dirty list holds a node not marked as on it, or not cached");
      return;
    }
    if( ++i>n ){
      checkFail(c, "the dirty list loops");
      return;
    }
  }
  for(pNode=0, n=0; n<c->nNode; n++){
    pNode = c->apNode[n];
    if( pNode->bInDirty ) i--;
    if( pNode->bDirty && !pNode->bDead && !pNode->bInDirty ){
      checkFailNode(c, pNode, "a dirty node that is not on the dirty list");
      return;
    }
  }
  if( i!=0 ) checkFail(c, "the dirty list and the nodes' bInDirty disagree");
}

/* ---------------------------------------------------------------------
** 2. Each node
*/

/* Walk pNode's live entries in key order, as btree.c's nodeView merges
** them (the newest bset wins a tie; whiteouts hide), calling xLive(pCtx,
** entry) for each.  Returns the number of live entries. */
static int liveWalk(const Node *pNode, void (*xLive)(void*, const Entry*), void *pCtx){
  int aPos[3] = {0, 0, 0};
  int nLive = 0, i;
  while( 1 ){
    const Entry *pBest = 0;
    for(i=0; i<pNode->nBset; i++){
      const Bset *pSet = &pNode->aBset[i];
      if( aPos[i]<pSet->n ){
        const Entry *e = &pSet->a[aPos[i]];
        if( pBest==0
         || vlogEntryCmp(e, pBest->iPrefix, pBest->pKey, (int)pBest->nKey)<=0 ){
          pBest = e;
        }
      }
    }
    if( pBest==0 ) break;
    for(i=0; i<pNode->nBset; i++){
      const Bset *pSet = &pNode->aBset[i];
      if( aPos[i]<pSet->n
       && vlogEntryCmp(&pSet->a[aPos[i]], pBest->iPrefix, pBest->pKey,
                       (int)pBest->nKey)==0 ){
        aPos[i]++;
      }
    }
    if( pBest->eType==ENTRY_PUT ){
      nLive++;
      if( xLive ) xLive(pCtx, pBest);
    }
  }
  return nLive;
}

static void addBytes(void *pCtx, const Entry *e){
  *(int*)pCtx += vlogEntrySize(e);
}

static void checkNode(CheckCtx *c, Node *pNode){
  VlogStore *p = c->p;
  int i, j, nBytes = 0, nLive;
  if( pNode->bDead ) return;         /* out of its tree: kept for its pins */
  if( pNode->gen==0 || pNode->gen>=p->sb.iNextGen ){
    checkFailNode(c, pNode, "a generation the superblock has not given out");
    return;
  }
  if( pNode->iLevel>=32 || pNode->nBset<1 || pNode->nBset>3
   || (pNode->iLevel>0 && pNode->nBset!=1) ){
    checkFailNode(c, pNode, "impossible level or bset count");
    return;
  }
  for(i=0; i<pNode->nBset; i++){
    const Bset *pSet = &pNode->aBset[i];
    if( pSet->n<0 || pSet->n>pSet->nAlloc || (pSet->n>0 && pSet->a==0) ){
      checkFailNode(c, pNode, "a bset's count is outside its array");
      return;
    }
    if( i<pNode->nBset-1 && !pSet->bDisk ){
      checkFailNode(c, pNode, "a bset that is not the newest is not on disk");
      return;
    }
    for(j=0; j<pSet->n; j++){
      const Entry *e = &pSet->a[j];
      if( e->nKey<1 || e->nKey>VLOG_MAX_KEY
       || e->iPrefix!=vlogKeyPrefix(e->pKey, (int)e->nKey) ){
        checkFailNode(c, pNode, "a key of impossible size, or its prefix wrong");
        return;
      }
      if( j>0 && vlogKeyCmp(pSet->a[j-1].pKey, (int)pSet->a[j-1].nKey,
                            e->pKey, (int)e->nKey)>=0 ){
        char zMsg[80];
        snprintf(zMsg, sizeof(zMsg), "keys out of order in bset %d at entry %d", i, j);
        checkFailNode(c, pNode, zMsg);
        return;
      }
      if( e->eType!=ENTRY_PUT && (e->eType!=ENTRY_WHITEOUT || i==0) ){
        checkFailNode(c, pNode, "a whiteout in bset 0, or an entry of no type");
        return;
      }
      if( pNode->iLevel>0 ){
        NodePtr ptr;
        if( vlogPtrDecode(e->pVal, (int)e->nVal, &ptr) ){
          checkFailNode(c, pNode, "an interior value that is no child pointer");
          return;
        }
      }
    }
  }
  nLive = liveWalk(pNode, addBytes, &nBytes);
  if( nLive!=pNode->nLive || nBytes!=pNode->nLiveBytes ){
    char zMsg[120];
    snprintf(zMsg, sizeof(zMsg), "nLive %d, nLiveBytes %d, but the bsets hold %d "
             "live keys of %d bytes", pNode->nLive, pNode->nLiveBytes, nLive, nBytes);
    checkFailNode(c, pNode, zMsg);
    return;
  }
  if( pNode->aView ){
    if( pNode->nView!=nLive ){
      checkFailNode(c, pNode, "the merged view is not as long as the live keys");
      return;
    }
    for(j=0; j<pNode->nView; j++){
      const Entry *e = &pNode->aView[j];
      if( e->eType!=ENTRY_PUT
       || (j>0 && vlogKeyCmp(pNode->aView[j-1].pKey, (int)pNode->aView[j-1].nKey,
                             e->pKey, (int)e->nKey)>=0) ){
        checkFailNode(c, pNode, "the merged view is out of order or holds a whiteout");
        return;
      }
    }
  }
  if( pNode->iOff ){
    u64 iBucket = pNode->iOff / p->sb.nBucketSize;
    int iSlot = (int)((pNode->iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
    if( (pNode->iOff % p->sb.nNodeSize)!=0 || iBucket==0 || iBucket>=p->sb.nBucket
     || pNode->nDisk==0 || pNode->nDisk>p->sb.nNodeSize ){
      checkFailNode(c, pNode, "a region that cannot be");
      return;
    }
    if( p->aBucket[iBucket].eKind!=KIND_BTREE
     || (p->aBucket[iBucket].mLive & ((u64)1<<iSlot))==0 ){
      checkFailNode(c, pNode, "its region is not live in a B-tree bucket");
      if( c->rc==VLOG_CORRUPT ) (void)vlogBucketToText(p, iBucket, c->pOut);
      return;
    }
  }else if( !pNode->bDirty ){
    checkFailNode(c, pNode, "a clean node with no region");
  }
}

/* ---------------------------------------------------------------------
** 3. Trees
*/

/* Bounds of a walk: keys from lo (not for the first one) to below hi. */
typedef struct KeyBound KeyBound;
struct KeyBound {
  CheckCtx *c;
  const Node *pNode;
  const u8 *pLo; int nLo;
  const u8 *pHi; int nHi;
  int iEntry;                  /* live entries seen so far */
  int bBad;
};

static void boundEntry(void *pCtx, const Entry *e){
  KeyBound *b = (KeyBound*)pCtx;
  if( b->pLo && b->iEntry>0 && vlogKeyCmp(e->pKey, (int)e->nKey, b->pLo, b->nLo)<0 ){
    b->bBad = 1;
  }
  if( b->pHi && vlogKeyCmp(e->pKey, (int)e->nKey, b->pHi, b->nHi)>=0 ) b->bBad = 1;
  b->iEntry++;
}

/* Check the cached subtree under pNode, whose keys lie in [pLo, pHi). */
static void checkSubtree(CheckCtx *c, Node *pNode, const u8 *pLo, int nLo,
                         const u8 *pHi, int nHi, int nDepth){
  VlogStore *p = c->p;
  KeyBound b;
  int i, iIdx = nodeIndex(c, pNode);
  const Bset *pSet;

  if( c->rc ) return;
  if( iIdx<0 || nDepth>32 ){
    checkFail(c, "a tree reaches a node that is not cached, or is deeper than 32");
    return;
  }
  if( c->aSeen[iIdx] ){
    checkFailNode(c, pNode, "a node reached twice");
    return;
  }
  c->aSeen[iIdx] = 1;
  memset(&b, 0, sizeof(b));
  b.c = c;
  b.pNode = pNode;
  b.pLo = pLo; b.nLo = nLo;
  b.pHi = pHi; b.nHi = nHi;
  (void)liveWalk(pNode, boundEntry, &b);
  if( b.bBad ){
    checkFailNode(c, pNode, "a key outside its parent's separators");
    return;
  }
  if( pNode->iLevel==0 ) return;
  pSet = &pNode->aBset[0];
  if( pSet->n==0 ){
    checkFailNode(c, pNode, "an empty interior node");
    return;
  }
  for(i=0; c->rc==VLOG_OK && i<pSet->n; i++){
    NodePtr ptr;
    Node *pChild;
    if( vlogPtrDecode(pSet->a[i].pVal, (int)pSet->a[i].nVal, &ptr) ) continue;  /* 2 */
    pChild = cachedNode(p, ptr.gen);
    if( pChild==0 ) continue;                   /* on disk: verify's part */
    if( pChild->iLevel+1!=pNode->iLevel || pChild->iTree!=pNode->iTree ){
      checkFailNode(c, pChild, "a child at the wrong level, or of another tree");
      return;
    }
    if( pChild->pParent && pChild->pParent!=pNode ){
      checkFailNode(c, pChild, "a child whose parent pointer names another node");
      return;
    }
    if( !pChild->bDirty && (ptr.off!=pChild->iOff || ptr.len!=pChild->nDisk) ){
      checkFailNode(c, pChild, "a clean child not where its parent's pointer says");
      return;
    }
    checkSubtree(c, pChild, i>0 ? pSet->a[i].pKey : pLo, i>0 ? (int)pSet->a[i].nKey : nLo,
                 i+1<pSet->n ? pSet->a[i+1].pKey : pHi,
                 i+1<pSet->n ? (int)pSet->a[i+1].nKey : nHi, nDepth+1);
  }
}

static void checkTree(CheckCtx *c, Tree *pT){
  Node *pRoot = pT->pRoot;
  if( pRoot==0 ) return;
  if( pT->nLevel<1 || pT->nLevel>32 || pRoot->iLevel!=pT->nLevel-1
   || pRoot->iTree!=pT->iTree || pRoot->bDead || pRoot->pParent ){
    char zMsg[80];
    snprintf(zMsg, sizeof(zMsg), "the root of tree %u (%u levels) is not one",
             pT->iTree, pT->nLevel);
    checkFailNode(c, pRoot, zMsg);
    return;
  }
  if( !pRoot->bDirty && (pT->root.gen!=pRoot->gen || pT->root.off!=pRoot->iOff
                         || pT->root.len!=pRoot->nDisk) ){
    checkFailNode(c, pRoot, "a clean root not where the tree's pointer says");
    return;
  }
  checkSubtree(c, pRoot, 0, 0, 0, 0, 0);
}

/* Every live cached node with a parent is in it. */
static void checkParents(CheckCtx *c){
  int i, j;
  for(i=0; c->rc==VLOG_OK && i<c->nNode; i++){
    Node *pNode = c->apNode[i];
    Node *pParent = pNode->pParent;
    const Bset *pSet;
    if( pNode->bDead || pParent==0 ) continue;
    pSet = &pParent->aBset[0];
    for(j=0; j<pSet->n; j++){
      NodePtr ptr;
      if( vlogPtrDecode(pSet->a[j].pVal, (int)pSet->a[j].nVal, &ptr)==VLOG_OK
       && ptr.gen==pNode->gen ){
        break;
      }
    }
    if( pParent->bDead || pParent->iLevel!=pNode->iLevel+1 || j==pSet->n ){
      checkFailNode(c, pNode, "its parent does not point to it");
    }
  }
}

/* ---------------------------------------------------------------------
** 4. The bucket table
*/
static void checkBuckets(CheckCtx *c){
  VlogStore *p = c->p;
  int nSlot = p->nRegionPerBucket;
  u64 mAll = nSlot>=64 ? ~(u64)0 : (((u64)1<<nSlot)-1);
  u64 i, iJrnl = p->jrnl.iOff / p->sb.nBucketSize;
  int k;
  if( p->sb.nBucket>p->nBucketAlloc || p->sb.nBucket<2
   || nSlot!=(int)(p->sb.nBucketSize/p->sb.nNodeSize) ){
    checkFail(c, "the bucket table (%llu of %llu) or the regions per bucket (%d) "
              "do not fit the superblock", (unsigned long long)p->sb.nBucket,
              (unsigned long long)p->nBucketAlloc, nSlot);
    return;
  }
  for(i=1; c->rc==VLOG_OK && i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    u64 mAny = pB->mLive | pB->mPending | pB->mHeld;
    if( pB->eState>BUCKET_NEED_DISCARD || pB->eKind>KIND_VLOG
     || (pB->eState==BUCKET_FREE)!=(pB->eKind==KIND_NONE) ){
      checkFailBucket(c, i, "a state or kind that no bucket has");
    }else if( (mAny & ~mAll) || (mAny && pB->eKind!=KIND_BTREE)
           || (pB->mLive & pB->mPending) ){
      checkFailBucket(c, i, "regions outside a B-tree bucket's slots, or both "
                            "live and pending");
    }else if( pB->eKind==KIND_VLOG
           && (pB->iGen==0 || pB->iGen>=p->sb.iNextSegGen || pB->nLive>pB->nTotal
               || pB->nToCompress>pB->nTotal
               || (pB->iDictLo==0)!=(pB->iDictHi==0) || pB->iDictLo>pB->iDictHi
               || pB->nDisk>p->sb.nBucketSize
               || (pB->eSegKind!=SEG_VALUE && pB->eSegKind!=SEG_REWRITE)
               || (pB->eState==BUCKET_OPEN)!=(pB->iSealSeq==0)
               || (pB->iSealSeq && pB->iSealSeq<pB->iCreateSeq)) ){
      checkFailBucket(c, i, "impossible segment accounting");
    }else if( pB->eKind==KIND_JOURNAL && pB->eState==BUCKET_OPEN && i!=iJrnl ){
      checkFailBucket(c, i, "an open journal bucket that the journal is not in");
    }
  }
  if( c->rc ) return;
  if( iJrnl==0 || iJrnl>=p->sb.nBucket || p->aBucket[iJrnl].eKind!=KIND_JOURNAL
   || p->aBucket[iJrnl].eState!=BUCKET_OPEN ){
    checkFailBucket(c, iJrnl, "the journal's bucket is not an open journal bucket");
    return;
  }
  /* Touched segments: listed iff flagged. */
  for(k=0; k<p->nTouched; k++){
    u64 iSeg = p->aTouched[k];
    if( iSeg==0 || iSeg>=p->sb.nBucket || !p->aBucket[iSeg].bTouched ){
      checkFailBucket(c, iSeg, "a segment listed as touched without bTouched");
      return;
    }
  }
  i = vlogAllocSetsCheck(p);
  if( i ){
    checkFailBucket(c, i, "the free list or the B-tree bucket list is wrong about it");
    return;
  }
  for(i=1, k=0; i<p->sb.nBucket; i++) k += p->aBucket[i].bTouched;
  if( k!=p->nTouched ){
    checkFail(c, "%d buckets flagged bTouched, %d listed", k, p->nTouched);
  }
}

/* ---------------------------------------------------------------------
** 5. The write buffer
*/
static void checkWriteBuffer(CheckCtx *c){
  VlogStore *p = c->p;
  const WriteBuf *pWb = &p->wb;
  u8 *aDone;
  int i;
  if( pWb->n<0 || pWb->n>pWb->nAlloc || (pWb->n>0 && pWb->a==0) ){
    checkFail(c, "the write buffer holds %d entries of %d", pWb->n, pWb->nAlloc);
    return;
  }
  for(i=0; i<pWb->n; i++){
    const WbEntry *e = &pWb->a[i];
    if( (i>0 && e->iSeq<=pWb->a[i-1].iSeq) || e->iSeq>=pWb->iNextSeq ){
      checkFail(c, "write buffer entry %d is out of the order of arrival", i);
      return;
    }
    if( (e->iTree!=TREE_ALLOC && e->iTree!=TREE_SEGS) || e->nVal>WB_MAX_VAL
     || (e->iTree==TREE_ALLOC && !e->bDelete && e->nVal!=2) || e->iKey==0 ){
      checkFail(c, "write buffer entry %d: tree %u, key %llu, %d bytes", i,
                e->iTree, (unsigned long long)e->iKey, e->nVal);
      return;
    }
  }
  /* The newest entry of each bucket, from the end: what the table says. */
  aDone = (u8*)vlogMallocZero(p->pEnv, (size_t)p->sb.nBucket*2);
  if( aDone==0 ){
    c->rc = VLOG_NOMEM;
    return;
  }
  for(i=pWb->n-1; c->rc==VLOG_OK && i>=0; i--){
    const WbEntry *e = &pWb->a[i];
    const Bucket *pB;
    int iT = e->iTree==TREE_ALLOC ? 0 : 1;
    if( e->iKey>=p->sb.nBucket || aDone[e->iKey*2+iT] ) continue;
    aDone[e->iKey*2+iT] = 1;
    pB = &p->aBucket[e->iKey];
    if( iT==0 ){
      int eState = e->bDelete ? BUCKET_FREE : e->aVal[0];
      int eKind = e->bDelete ? KIND_NONE : e->aVal[1];
      if( eState!=pB->eState || eKind!=pB->eKind ){
        char zMsg[80];
        snprintf(zMsg, sizeof(zMsg), "the write buffer says %s/%s",
                 vlogBucketStateName(eState), vlogBucketKindName(eKind));
        checkFailBucket(c, e->iKey, zMsg);
      }
    }else if( pB->eKind==KIND_VLOG && !pB->bTouched
           && (e->bDelete || !vlogSegRecordMatches(p, e->iKey, e->aVal, e->nVal)) ){
      checkFailBucket(c, e->iKey, "the write buffer's accounting of an untouched "
                                  "segment is not the table's");
      if( c->rc==VLOG_CORRUPT && vlogSegToText(p, e->iKey, c->pOut) ) c->rc = VLOG_NOMEM;
    }
  }
  vlogFree(p->pEnv, aDone);
}

/* ---------------------------------------------------------------------
** 6. The journal position; 7. the transaction and its log
*/
static void checkJournal(CheckCtx *c){
  VlogStore *p = c->p;
  const Journal *j = &p->jrnl;
  if( j->iSeq<p->sb.iJrnlSeq || j->iDurable>=j->iSeq
   || (j->iSeq>p->sb.iJrnlSeq)!=(j->nSize>0)
   || (j->iOff % JE_ALIGN)!=0 || j->iOff<p->sb.nBucketSize
   || j->iFirstBucket==0 || j->iFirstBucket>=p->sb.nBucket
   || p->aBucket[j->iFirstBucket].eKind!=KIND_JOURNAL ){
    checkFail(c, "journal position: offset %llu sequence %llu (checkpoint's %llu), "
              "durable %llu, %lld bytes, first bucket %llu",
              (unsigned long long)j->iOff, (unsigned long long)j->iSeq,
              (unsigned long long)p->sb.iJrnlSeq, (unsigned long long)j->iDurable,
              (long long)j->nSize, (unsigned long long)j->iFirstBucket);
  }
}

/* Records a[0..n) must be whole, one after another. */
static int logWhole(const u8 *a, int n){
  int i = 0;
  while( i<n ){
    LogRec r;
    int k = 0;
    if( vlogRecDecode(&a[i], n-i, &r, &k) ) return 0;
    i += k;
  }
  return 1;
}

static void checkTxn(CheckCtx *c){
  VlogStore *p = c->p;
  const TxnLog *pLog = &p->log;
  int i;
  if( p->eTxn<0 || p->eTxn>2 || p->eLock<VLOG_LOCK_NONE
   || p->eLock>VLOG_LOCK_EXCLUSIVE || p->eLock==VLOG_LOCK_PENDING
   || p->eLock<p->eHold || (p->eHold && p->bFastRead)
   || (p->eTxn==0 && ((p->eLock!=p->eHold && p->eHold<VLOG_LOCK_RESERVED)
                      || p->bFastRead || p->bPrepared))
   || (p->eTxn==1 && (p->bPrepared
                      || (!p->bFastRead && p->eLock<VLOG_LOCK_SHARED)))
   || (p->eTxn==2 && (p->bFastRead || p->eLock<VLOG_LOCK_RESERVED))
   || (p->bPrepared && p->eLock!=VLOG_LOCK_EXCLUSIVE)
   || (p->bChangeBumped && p->eLock!=VLOG_LOCK_EXCLUSIVE) ){
    checkFail(c, "transaction %d with lock %d (fast read %d, prepared %d, change "
              "counter bumped %d)", p->eTxn, p->eLock, p->bFastRead, p->bPrepared,
              p->bChangeBumped);
    return;
  }
  if( p->eTxn!=2 && (pLog->redo.n || pLog->nRedoRec || pLog->nUndo || pLog->nSave) ){
    checkFail(c, "a transaction log outside a write transaction");
    return;
  }
  if( pLog->nUndo<0 || pLog->nUndo>pLog->nUndoAlloc || pLog->nSave<0
   || pLog->nSave>MAX_SAVEPOINT || !logWhole(pLog->redo.a, pLog->redo.n) ){
    checkFail(c, "the transaction log: %d undo records, %d savepoints, or redo "
              "records not whole", pLog->nUndo, pLog->nSave);
    return;
  }
  for(i=0; i<pLog->nUndo; i++){
    int iEnd = i+1<pLog->nUndo ? pLog->aUndoOff[i+1] : pLog->undo.n;
    if( pLog->aUndoOff[i]<0 || pLog->aUndoOff[i]>=iEnd
     || (i==0 && pLog->aUndoOff[0]!=0)
     || !logWhole(&pLog->undo.a[pLog->aUndoOff[i]], iEnd-pLog->aUndoOff[i]) ){
      checkFail(c, "undo record %d of the transaction log is not whole", i);
      return;
    }
  }
  for(i=0; i<pLog->nSave; i++){
    if( pLog->aSaveRedo[i]>pLog->redo.n || pLog->aSaveUndo[i]>pLog->nUndo
     || pLog->aSaveRedoRec[i]>pLog->nRedoRec
     || (i>0 && (pLog->aSaveRedo[i]<pLog->aSaveRedo[i-1]
                 || pLog->aSaveUndo[i]<pLog->aSaveUndo[i-1])) ){
      checkFail(c, "savepoint %d's marks are past the log or before the last", i+1);
      return;
    }
  }
}

/* ---------------------------------------------------------------------
** 8. Cursors
*/
static void checkCursors(CheckCtx *c){
  const char *zWhy = vlogCursorsCheck(c->p, 0, 0);
  if( zWhy ) checkFail(c, "a cursor: %s", zWhy);
}

/* ---------------------------------------------------------------------
** The checker
*/
int vlogStoreCheck(VlogStore *p, VlogBuf *pOut){
  CheckCtx c;
  Tree *pT;
  int i;
  memset(&c, 0, sizeof(c));
  c.p = p;
  c.pOut = pOut;
  c.apNode = (Node**)vlogMalloc(p->pEnv, sizeof(Node*)*(p->nNode+1));
  c.aRef = (int*)vlogMallocZero(p->pEnv, sizeof(int)*(p->nNode+1));
  c.aSeen = (u8*)vlogMallocZero(p->pEnv, (size_t)p->nNode+1);
  if( c.apNode==0 || c.aRef==0 || c.aSeen==0 ) c.rc = VLOG_NOMEM;
  if( c.rc==VLOG_OK ) checkCache(&c);
  if( c.rc==VLOG_OK ) checkTxn(&c);
  if( c.rc==VLOG_OK && p->bValid ){
    if( !p->bPoison ){
      for(i=0; c.rc==VLOG_OK && i<c.nNode; i++) checkNode(&c, c.apNode[i]);
      if( c.rc==VLOG_OK ) checkTree(&c, &p->rootsTree);
      for(pT=p->pTrees; c.rc==VLOG_OK && pT; pT=pT->pNext) checkTree(&c, pT);
      if( c.rc==VLOG_OK ) checkParents(&c);
    }
    if( c.rc==VLOG_OK ) checkBuckets(&c);
    if( c.rc==VLOG_OK ) checkWriteBuffer(&c);
    if( c.rc==VLOG_OK ) checkJournal(&c);
    if( c.rc==VLOG_OK ) checkCursors(&c);
  }
  vlogFree(p->pEnv, c.apNode);
  vlogFree(p->pEnv, c.aRef);
  vlogFree(p->pEnv, c.aSeen);
  return c.rc;
}

int vlogStoreCheckOk(VlogStore *p){
  VlogBuf b = {0, 0, 0};
  int rc = vlogStoreCheck(p, &b);
  if( rc==VLOG_CORRUPT ) fprintf(stderr, "%.*s", b.n, (const char*)b.a);
  vlogBufFree(p->pEnv, &b);
  return rc!=VLOG_CORRUPT;            /* out of memory: nothing known */
}

#else
typedef int vlogCheckUnused;          /* ISO C wants something in a file */
#endif /* VLOG_DEBUG */
