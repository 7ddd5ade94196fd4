/*
** btree.c: B-tree nodes in memory, the node cache, insert, delete, split
** and merge (after bcachefs, seed 003).
**
** DESIGN NOTE
**
** Trees.  Each tree (id) has a root; TREE_ROOTS maps tree ids to roots,
** and the superblock holds the root of TREE_ROOTS.  An entry of TREE_ROOTS:
**
**   key    the tree id, 4 bytes big-endian
**   value  varint levels (0 to 32; 0: the tree has no key)
**          the root's pointer (PTR_SIZE bytes), when levels > 0
**          varint flags (TREEF_KEEP: the tree lasts when empty;
**          TREEF_ZINLINE: the policy's bCompressInline; no other)
**          varint inline max (0 to VLOG_INLINE_ALL), varint zstd level (0
**          to VLOG_MAX_ZSTD_LEVEL): the rest of the tree's policy
**          (engine.h)
**
** vlogRootDecode() reads it as untrusted input: a field out of range,
** levels 0 without TREEF_KEEP, or bytes missing or left over are
** VLOG_CORRUPT.  The entries are derived state, written at checkpoint
** (vlogTreeSaveRoot, when a root is written or the tree's flags, policy or
** keys changed as a whole: Tree.bEntryDirty); what happened since is in
** the journal: key changes, and REC_TREE records for tree creation, policy
** changes, clears and drops (txn.c), which replay applies to the Tree in
** memory.  Ids are handed out by vlogTreeNextId (largest existing + 1).
** The Trees a handle has loaded are on a list (VlogStore.pTrees) and in a
** hash by id (apTreeHash, VLOG_TREE_HASH buckets): the VFS keeps a tree
** per snapshot, and with 500 of them a lookup down the list took 78% of
** a read's time (session 19).
**
** Clearing a tree (vlogTreeClear, vlogTreeDrop) takes its root out of the
** Tree at once (vlogTreeTakeKeys): the transaction's undo log keeps the
** root, pinned, instead of a record per key, and a rollback puts it back.
** The commit frees the nodes (vlogTreeFreeNodes): a walk of the tree that
** releases every node's region and tells the value log's accounting which
** records went stale; replay frees them the same way, reading only the
** interior nodes.  Until the commit the nodes stay where they were, in the
** cache and in the file, untouched.
**
** Nodes are large (the store's node size, 64 KiB by default) and
** copy-on-write: a node is never rewritten in place over bytes that the
** last checkpoint references.  A leaf holds up to three bsets (bset.c):
** bset 0 is what was compacted last; changes go to the newest bset, which
** is appended to the node's region at the next checkpoint while the region
** has room and fewer than three bsets; otherwise the node is compacted (its
** bsets merged, whiteouts dropped) and written whole to a new region.
** Interior nodes keep one bset and are rewritten whole.
**
** Live accounting.  nLive/nLiveBytes count the keys that a lookup would
** find and their packed size without prefix sharing: an upper bound of
** the node's compacted size.  A node splits when nLiveBytes passes the node
** size less a margin, and merges with a sibling when it falls under a
** quarter and the two fit in three quarters.  Keys are at most
** VLOG_MAX_KEY bytes and leaf values at most vlogBtreeMaxValue(), so a
** split always leaves two halves that fit.
**
** Interior entries: key = the smallest key of the child when it was made
** (a separator), value = the child's pointer.  A lookup takes the last
** entry whose key is <= the key sought (the first entry for smaller keys).
**
** The cache.  Nodes are found by generation in a hash table.  A cached
** node pins its parent (nRef), cursors pin the nodes on their path, and a
** tree pins its root; dirty nodes are never evicted (they exist only in
** memory until the checkpoint writes them).  Clean nodes with nRef 0 sit
** on an LRU list, evicted down to the configured cache size at the end of
** each engine call (never in the middle of one, so that node pointers held
** inside a call stay valid).
*/
#include "storeInt.h"

#define SPLIT_MARGIN  (BSET_HDR*3 + 64)

/* Largest value a leaf accepts: a node must take two maximal entries. */
int vlogBtreeMaxValue(VlogStore *p){
  int n = (int)(p->sb.nNodeSize - SPLIT_MARGIN)/2 - VLOG_MAX_KEY - 32;
  return n;
}

static int splitLimit(VlogStore *p){
  return (int)p->sb.nNodeSize - SPLIT_MARGIN;
}

/* ---------------------------------------------------------------------
** Cache: hash table, LRU, references
*/
static int nodeBytes(Node *pNode){
  return pNode->nLiveBytes + (int)sizeof(Node) + 64;
}

/* Count pNode, a node of the cache, in nCacheBytes at its present size:
** its live bytes change after it joins the cache, and what it adds to
** the sum is what it takes away when it goes (nodeDestroy). */
static void nodeCharge(VlogStore *p, Node *pNode){
  p->nCacheBytes += nodeBytes(pNode) - pNode->nCharge;
  pNode->nCharge = nodeBytes(pNode);
  assert( p->nCacheBytes>=pNode->nCharge );
}

static void lruRemove(VlogStore *p, Node *pNode){
  assert( pNode->pLruPrev==0 || pNode->pLruPrev->pLruNext==pNode );
  assert( pNode->pLruNext==0 || pNode->pLruNext->pLruPrev==pNode );
  if( pNode->pLruPrev ) pNode->pLruPrev->pLruNext = pNode->pLruNext;
  else if( p->pLruFirst==pNode ) p->pLruFirst = pNode->pLruNext;
  else return;                                /* not on the list */
  if( pNode->pLruNext ) pNode->pLruNext->pLruPrev = pNode->pLruPrev;
  else p->pLruLast = pNode->pLruPrev;
  pNode->pLruPrev = pNode->pLruNext = 0;
}

static void lruAdd(VlogStore *p, Node *pNode){
  assert( pNode->pLruPrev==0 && pNode->pLruNext==0 && p->pLruFirst!=pNode );
  assert( pNode->nRef==0 && !pNode->bDirty && !pNode->bDead );   /* evictable */
  assert( (p->pLruFirst==0)==(p->pLruLast==0) );
  pNode->pLruPrev = p->pLruLast;
  if( p->pLruLast ) p->pLruLast->pLruNext = pNode;
  else p->pLruFirst = pNode;
  p->pLruLast = pNode;
}

static void lruUpdate(VlogStore *p, Node *pNode){
  lruRemove(p, pNode);
  if( pNode->nRef==0 && !pNode->bDirty && !pNode->bDead ){
    nodeCharge(p, pNode);            /* evictable: count what it holds now */
    lruAdd(p, pNode);
  }
}

void vlogNodeRef(VlogStore *p, Node *pNode){
  assert( pNode->nRef>=0 && pNode->nRef<0x7fffffff );
  pNode->nRef++;
  lruRemove(p, pNode);
}

static void hashRemove(VlogStore *p, Node *pNode){
  Node **pp;
  assert( p->nHash==0 || (p->nHash & (p->nHash-1))==0 );
  if( p->nHash==0 ) return;
  for(pp=&p->apHash[pNode->gen & (p->nHash-1)]; *pp; pp=&(*pp)->pHashNext){
    if( *pp==pNode ){
      *pp = pNode->pHashNext;
      assert( p->nNode>0 );
      p->nNode--;
      break;
    }
  }
  pNode->pHashNext = 0;
}

static void nodeDestroy(VlogStore *p, Node *pNode);

void vlogNodeUnref(VlogStore *p, Node *pNode){
  assert( pNode->nRef>0 );
  pNode->nRef--;
  if( pNode->nRef==0 && pNode->bDead ){
    nodeDestroy(p, pNode);
  }else{
    lruUpdate(p, pNode);
  }
}

/* The live node of generation gen in the cache.  Dead nodes (merged away,
** kept until their last reference goes) stay in the table, so that a
** cache drop frees them too, but are never found. */
static Node *hashFind(VlogStore *p, u64 gen){
  Node *pNode;
  assert( gen>0 );
  if( p->nHash==0 ) return 0;
  for(pNode=p->apHash[gen & (p->nHash-1)]; pNode; pNode=pNode->pHashNext){
    if( pNode->gen==gen && !pNode->bDead ) return pNode;
  }
  return 0;
}

static int hashAdd(VlogStore *p, Node *pNode){
  /* one live node per generation; a node joins the table once */
  assert( hashFind(p, pNode->gen)==0 && pNode->pHashNext==0 );
  if( p->nNode+1 > p->nHash ){
    int nNew = p->nHash ? p->nHash*2 : 256;
    Node **apNew = (Node**)vlogMallocZero(p->pEnv, sizeof(Node*)*nNew);
    int i;
    if( apNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    for(i=0; i<p->nHash; i++){
      Node *pN, *pNext;
      for(pN=p->apHash[i]; pN; pN=pNext){
        pNext = pN->pHashNext;
        pN->pHashNext = apNew[pN->gen & (nNew-1)];
        apNew[pN->gen & (nNew-1)] = pN;
      }
    }
    vlogFree(p->pEnv, p->apHash);
    p->apHash = apNew;
    p->nHash = nNew;
  }
  pNode->pHashNext = p->apHash[pNode->gen & (p->nHash-1)];
  p->apHash[pNode->gen & (p->nHash-1)] = pNode;
  p->nNode++;
  assert( p->nNode<=p->nHash );
  return VLOG_OK;
}

static void bsetClear(VlogStore *p, Bset *pSet){
  int i;
  assert( pSet->n>=0 && pSet->n<=pSet->nAlloc );
  for(i=0; i<pSet->n; i++){
    if( pSet->a[i].bOwn ) vlogFree(p->pEnv, pSet->a[i].pKey);
  }
  vlogFree(p->pEnv, pSet->a);
  vlogFree(p->pEnv, pSet->aArena);
  memset(pSet, 0, sizeof(*pSet));
}

static void viewClear(VlogStore *p, Node *pNode){
  vlogFree(p->pEnv, pNode->aView);
  pNode->aView = 0;
  pNode->nView = 0;
}

/* Free a node's memory (it must be out of the hash table and lists). */
void vlogNodeFree(VlogStore *p, Node *pNode){
  int i;
  for(i=0; i<3; i++) bsetClear(p, &pNode->aBset[i]);
  viewClear(p, pNode);
  vlogFree(p->pEnv, pNode);
}

static void nodeDestroy(VlogStore *p, Node *pNode){
  Node *pParent = pNode->pParent;
  /* nothing references it, and no change is lost: dirty nodes are never
  ** evicted (only a dead one, out of its tree, goes dirty or not) */
  assert( pNode->nRef==0 );
  assert( pNode->bDead || !pNode->bDirty );
  assert( pParent==0 || pParent->nRef>0 );
  if( pNode->bInDirty ){
    Node **pp;
    for(pp=&p->pDirty; *pp; pp=&(*pp)->pDirtyNext){
      if( *pp==pNode ){ *pp = pNode->pDirtyNext; break; }
    }
  }
  lruRemove(p, pNode);
  hashRemove(p, pNode);
  assert( p->nCacheBytes>=pNode->nCharge );
  p->nCacheBytes -= pNode->nCharge;
  vlogNodeFree(p, pNode);
  if( pParent ) vlogNodeUnref(p, pParent);
}

Node *vlogNodeNew(VlogStore *p, u32 iTree, int iLevel, u64 gen){
  Node *pNode;
  assert( iLevel>=0 && iLevel<32 && gen>0 );
  pNode = (Node*)vlogMallocZero(p->pEnv, sizeof(Node));
  if( pNode==0 ) return 0;
  pNode->gen = gen;
  pNode->iTree = iTree;
  pNode->iLevel = (u8)iLevel;
  return pNode;
}

/* A brand-new node (generation from the superblock's counter), cached,
** dirty. */
static int nodeCreate(VlogStore *p, u32 iTree, int iLevel, Node **ppNode){
  Node *pNode;
  int rc;
  assert( p->bValid && p->sb.iNextGen>0 );
  pNode = vlogNodeNew(p, iTree, iLevel, p->sb.iNextGen++);
  *ppNode = 0;
  if( pNode==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  pNode->nBset = 1;
  rc = hashAdd(p, pNode);
  if( rc ){
    vlogNodeFree(p, pNode);
    return rc;
  }
  nodeCharge(p, pNode);
  vlogNodeMarkDirty(p, pNode);
  *ppNode = pNode;
  return VLOG_OK;
}

void vlogNodeMarkDirty(VlogStore *p, Node *pNode){
  assert( !pNode->bDead );                  /* a dead node is never written */
  pNode->bDirty = 1;
  lruRemove(p, pNode);
  viewClear(p, pNode);
  if( !pNode->bInDirty ){
    pNode->bInDirty = 1;
    pNode->pDirtyNext = p->pDirty;
    p->pDirty = pNode;
  }
  p->iModCount++;
}

/* Evict clean, unreferenced nodes down to the cache size. */
void vlogCacheShrink(VlogStore *p){
  while( p->nCacheBytes > p->cfg.nCacheSize && p->pLruFirst ){
    nodeDestroy(p, p->pLruFirst);
  }
  assert( p->nCacheBytes<=p->cfg.nCacheSize || p->pLruFirst==0 );
  assert( p->nCacheBytes>=0 && p->nNode>=0 );
}

/* Drop every node and tree (the file changed under us, or close). */
void vlogCacheDropAll(VlogStore *p){
  int i;
  Tree *pT, *pNext;
  for(i=0; i<p->nHash; i++){
    Node *pN, *pNext2;
    for(pN=p->apHash[i]; pN; pN=pNext2){
      pNext2 = pN->pHashNext;
      vlogNodeFree(p, pN);
    }
    p->apHash[i] = 0;
  }
  p->nNode = 0;
  p->nCacheBytes = 0;
  p->pLruFirst = p->pLruLast = 0;
  p->pDirty = 0;
  for(pT=p->pTrees; pT; pT=pNext){
    pNext = pT->pNext;
    vlogFree(p->pEnv, pT);
  }
  p->pTrees = 0;
  memset(p->apTreeHash, 0, sizeof(p->apTreeHash));
  /* roots a clear or drop of the open transaction took are gone too (the
  ** transaction is poisoned or over: txn.c) */
  for(i=0; i<p->log.nTree; i++) p->log.aTree[i].pRoot = 0;
  p->rootsTree.pRoot = 0;
  p->iModCount++;
}

/* Recompute nLive/nLiveBytes of a node from its bsets. */
static int nodeView(VlogStore *p, Node *pNode, int bBuild);

/*
** Load the node that pPtr points to (tree iTree, level iLevel), from the
** cache or the file.  pParent, when not 0, becomes its parent (pinned).
*/
int vlogNodeLoad(VlogStore *p, u32 iTree, int iLevel, const NodePtr *pPtr,
                 Node *pParent, Node **ppNode){
  Node *pNode = hashFind(p, pPtr->gen);
  u8 *aBuf;
  int rc;

  assert( iLevel>=0 && iLevel<32 );
  assert( pParent==0 || (pParent->iLevel==iLevel+1 && pParent->iTree==iTree
                         && !pParent->bDead) );
  *ppNode = 0;
  if( pNode ){
    if( pNode->iTree!=iTree || pNode->iLevel!=iLevel ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT,
          "node generation %llu is referenced from two places",
          (unsigned long long)pPtr->gen);
    }
    p->nCacheHit++;
    if( pParent && pNode->pParent!=pParent ){
      if( pNode->pParent ) vlogNodeUnref(p, pNode->pParent);
      pNode->pParent = pParent;
      vlogNodeRef(p, pParent);
    }
    lruUpdate(p, pNode);
    *ppNode = pNode;
    return VLOG_OK;
  }
  p->nCacheMiss++;
  if( !vlogPtrValid(p, pPtr) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "bad pointer to a node of tree %u (offset %llu, length %u, generation %llu)",
        iTree, (unsigned long long)pPtr->off, pPtr->len,
        (unsigned long long)pPtr->gen);
  }
  aBuf = (u8*)vlogMalloc(p->pEnv, pPtr->len);
  if( aBuf==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  rc = vlogReadAt(p, pPtr->off, aBuf, (int)pPtr->len, "B-tree node");
  if( rc==VLOG_OK ){
    pNode = vlogNodeNew(p, iTree, iLevel, pPtr->gen);
    if( pNode==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
  }
  if( rc==VLOG_OK ){
    pNode->iOff = pPtr->off;
    pNode->nDisk = pPtr->len;
    rc = vlogNodeDecode(p, pNode, aBuf, (int)pPtr->len, iTree, iLevel, pPtr->off);
  }
  vlogFree(p->pEnv, aBuf);
  if( rc==VLOG_OK ) rc = nodeView(p, pNode, 0);
  if( rc==VLOG_OK ) rc = hashAdd(p, pNode);
  if( rc ){
    if( pNode ) vlogNodeFree(p, pNode);
    return rc;
  }
  p->nNodeRead++;
  nodeCharge(p, pNode);
  if( pParent ){
    pNode->pParent = pParent;
    vlogNodeRef(p, pParent);
  }
  lruUpdate(p, pNode);
  assert( pNode->gen==pPtr->gen && pNode->nDisk==pPtr->len && pNode->nLive>=0 );
  *ppNode = pNode;
  return VLOG_OK;
}

/* Load child iEntry of interior node pNode. */
int vlogNodeChild(VlogStore *p, Node *pNode, int iEntry, Node **ppChild){
  NodePtr ptr;
  int rc;
  Entry *e = &pNode->aBset[0].a[iEntry];
  assert( pNode->iLevel>0 && iEntry>=0 && iEntry<pNode->aBset[0].n );
  if( vlogPtrDecode(e->pVal, e->nVal, &ptr) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad child pointer in tree %u",
                        pNode->iTree);
  }
  rc = vlogNodeLoad(p, pNode->iTree, pNode->iLevel-1, &ptr, pNode, ppChild);
  assert( rc || ((*ppChild)->pParent==pNode && (*ppChild)->gen==ptr.gen) );
  return rc;
}

/* ---------------------------------------------------------------------
** The merged view of a node: its live entries in key order.
*/
static int nodeView(VlogStore *p, Node *pNode, int bBuild){
  int nTotal = 0, i, nLive = 0, nBytes = 0;
  int aPos[3] = {0, 0, 0};
  Entry *aOut = 0;

  assert( pNode->nBset>=1 && pNode->nBset<=3 );
  assert( pNode->iLevel==0 || pNode->nBset==1 );
  if( bBuild && pNode->aView ) return VLOG_OK;
  if( pNode->nBset==1 ){
    /* One bset: the view is the bset itself (whiteouts only appear in
    ** newer bsets, so it has none). */
    Bset *pSet = &pNode->aBset[0];
    nLive = 0;
    nBytes = 0;
    for(i=0; i<pSet->n; i++){
      if( pSet->a[i].eType==ENTRY_PUT ){
        nLive++;
        nBytes += vlogEntrySize(&pSet->a[i]);
      }
    }
    pNode->nLive = nLive;
    pNode->nLiveBytes = nBytes;
    return VLOG_OK;
  }
  for(i=0; i<pNode->nBset; i++) nTotal += pNode->aBset[i].n;
  if( bBuild ){
    aOut = (Entry*)vlogMalloc(p->pEnv, sizeof(Entry)*(nTotal ? nTotal : 1));
    if( aOut==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  }
  while( 1 ){
    /* The smallest key among the bsets' heads; the newest bset wins ties. */
    int iBest = -1;
    Entry *pBest = 0;
    for(i=0; i<pNode->nBset; i++){
      Bset *pSet = &pNode->aBset[i];
      if( aPos[i]<pSet->n ){
        Entry *e = &pSet->a[aPos[i]];
        int c = pBest ? vlogEntryCmp(e, pBest->iPrefix, pBest->pKey, (int)pBest->nKey) : -1;
        if( c<=0 ){
          iBest = i;
          pBest = e;
        }
      }
    }
    if( iBest<0 ) break;
    for(i=0; i<pNode->nBset; i++){
      Bset *pSet = &pNode->aBset[i];
      if( aPos[i]<pSet->n
       && vlogEntryCmp(&pSet->a[aPos[i]], pBest->iPrefix, pBest->pKey,
                       (int)pBest->nKey)==0 ){
        aPos[i]++;
      }
    }
    if( pBest->eType==ENTRY_PUT ){
      if( aOut ) aOut[nLive] = *pBest;
      nLive++;
      nBytes += vlogEntrySize(pBest);
    }
  }
  assert( nLive<=nTotal && nBytes>=0 );
  pNode->nLive = nLive;
  pNode->nLiveBytes = nBytes;
  if( bBuild ){
    pNode->aView = aOut;
    pNode->nView = nLive;
  }
  return VLOG_OK;
}

/* Build pNode->aView/nView (for cursors): the live entries in order. */
int vlogNodeView(VlogStore *p, Node *pNode){
  assert( pNode->nBset>=1 && pNode->nBset<=3 );
  if( pNode->nBset==1 ){
    /* one bset without whiteouts: use it directly */
    viewClear(p, pNode);
    return VLOG_OK;
  }
  return nodeView(p, pNode, 1);
}

/*
** Compact pNode: merge its bsets into one new bset that owns its memory in
** one arena, drop whiteouts.  The node must then be written whole.
*/
static int nodeCompact(VlogStore *p, Node *pNode){
  Bset nw;
  i64 nArena = 0;
  u8 *pOut;
  int i, rc;
  Entry *aView;
  int nView;

  if( pNode->nBset==1 && !pNode->aBset[0].bDisk ) return VLOG_OK;
  rc = nodeView(p, pNode, 1);
  if( rc ) return rc;
  aView = pNode->aView ? pNode->aView : pNode->aBset[0].a;
  nView = pNode->aView ? pNode->nView : pNode->aBset[0].n;
  memset(&nw, 0, sizeof(nw));
  for(i=0; i<nView; i++) nArena += aView[i].nKey + aView[i].nVal;
  nw.a = (Entry*)vlogMalloc(p->pEnv, sizeof(Entry)*(nView+16));
  nw.aArena = (u8*)vlogMalloc(p->pEnv, (size_t)(nArena ? nArena : 1));
  if( nw.a==0 || nw.aArena==0 ){
    vlogFree(p->pEnv, nw.a);
    vlogFree(p->pEnv, nw.aArena);
    return vlogSetError(p, VLOG_NOMEM, 0);
  }
  nw.nAlloc = nView+16;
  pOut = nw.aArena;
  for(i=0; i<nView; i++){
    Entry *e = &nw.a[i];
    *e = aView[i];
    e->bOwn = 0;
    memcpy(pOut, aView[i].pKey, aView[i].nKey);
    e->pKey = pOut;
    pOut += e->nKey;
    if( e->nVal ) memcpy(pOut, aView[i].pVal, aView[i].nVal);
    e->pVal = pOut;
    pOut += e->nVal;
  }
  nw.n = nView;
  viewClear(p, pNode);
  for(i=0; i<pNode->nBset; i++) bsetClear(p, &pNode->aBset[i]);
  pNode->aBset[0] = nw;
  pNode->nBset = 1;
  assert( pNode->aBset[0].n==pNode->nLive && pNode->aView==0 );
  return VLOG_OK;
}

/* Make room for one more entry in pSet. */
static int bsetGrow(VlogStore *p, Bset *pSet){
  if( pSet->n>=pSet->nAlloc ){
    int nNew = pSet->nAlloc ? pSet->nAlloc*2 : 16;
    Entry *aNew = (Entry*)vlogRealloc(p->pEnv, pSet->a, sizeof(Entry)*nNew);
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pSet->a = aNew;
    pSet->nAlloc = nNew;
  }
  assert( pSet->n<pSet->nAlloc );
  return VLOG_OK;
}

/* Set e to an owned copy of key and value. */
static int entryMake(VlogStore *p, Entry *e, const u8 *pKey, int nKey,
                     const u8 *pVal, int nVal, int eType){
  u8 *a;
  assert( nKey>=1 && nKey<=VLOG_MAX_KEY && nVal>=0 );
  assert( eType==ENTRY_PUT || eType==ENTRY_WHITEOUT );
  a = (u8*)vlogMalloc(p->pEnv, (size_t)nKey + nVal + 1);
  if( a==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  memcpy(a, pKey, nKey);
  if( nVal ) memcpy(&a[nKey], pVal, nVal);
  e->pKey = a;
  e->nKey = (u32)nKey;
  e->iPrefix = vlogKeyPrefix(a, nKey);
  e->pVal = &a[nKey];
  e->nVal = (u32)nVal;
  e->eType = (u8)eType;
  e->bOwn = 1;
  return VLOG_OK;
}

/* The newest version of pKey in pNode: its bset and position, or -1. */
static int nodeFind(Node *pNode, const u8 *pKey, int nKey, int *piPos){
  int i;
  for(i=pNode->nBset-1; i>=0; i--){
    if( vlogBsetSearch(&pNode->aBset[i], pKey, nKey, piPos) ) return i;
  }
  return -1;
}

/*
** The bset that changes to pNode go to: the newest one when it is not yet
** on disk; a new one when there are fewer than three; else the node is
** compacted first.
*/
static int writableBset(VlogStore *p, Node *pNode, Bset **ppSet){
  int rc;
  Bset *pLast;
  assert( pNode->nBset>=1 && pNode->nBset<=3 );
  pLast = &pNode->aBset[pNode->nBset-1];
  if( !pLast->bDisk ){
    *ppSet = pLast;
    return VLOG_OK;
  }
  if( pNode->nBset<3 && pNode->iLevel==0 ){
    pNode->nBset++;
    *ppSet = &pNode->aBset[pNode->nBset-1];
    return VLOG_OK;
  }
  rc = nodeCompact(p, pNode);
  *ppSet = &pNode->aBset[0];
  assert( rc || (pNode->nBset==1 && !pNode->aBset[0].bDisk) );
  return rc;
}

/*
** Put (eType ENTRY_PUT) or delete (ENTRY_WHITEOUT) pKey in node pNode.
** Keeps nLive/nLiveBytes exact.  *pbChanged is set when the node changed.
*/
static int nodeModify(VlogStore *p, Node *pNode, const u8 *pKey, int nKey,
                      const u8 *pVal, int nVal, int eType, int *pbChanged){
  int iPos = 0, iOld, rc;
  Entry *pOld = 0;
  Bset *pSet;
  Entry eNew;

  assert( !pNode->bDead && nKey>=1 && nKey<=VLOG_MAX_KEY );
  assert( eType==ENTRY_PUT || eType==ENTRY_WHITEOUT );
  assert( eType==ENTRY_PUT || pNode->iLevel==0 || pNode->nBset==1 );
  *pbChanged = 0;
  iOld = nodeFind(pNode, pKey, nKey, &iPos);
  if( iOld>=0 ){
    pOld = &pNode->aBset[iOld].a[iPos];
    if( pOld->eType==ENTRY_WHITEOUT ) pOld = 0;
  }
  if( eType==ENTRY_WHITEOUT && pOld==0 ) return VLOG_OK;   /* absent */

  rc = writableBset(p, pNode, &pSet);
  if( rc ) return rc;
  /* Compaction may have moved the old entry: look again. */
  iOld = nodeFind(pNode, pKey, nKey, &iPos);
  pOld = (iOld>=0 && pNode->aBset[iOld].a[iPos].eType==ENTRY_PUT)
       ? &pNode->aBset[iOld].a[iPos] : 0;
  if( pOld ){
    pNode->nLive--;
    pNode->nLiveBytes -= vlogEntrySize(pOld);
  }

  if( eType==ENTRY_WHITEOUT ){
    /* Whiteout needed only if an older bset than pSet holds the key. */
    int i, bOlder = 0;
    int iSet = (int)(pSet - pNode->aBset);
    for(i=0; i<iSet && !bOlder; i++){
      int j;
      bOlder = vlogBsetSearch(&pNode->aBset[i], pKey, nKey, &j);
    }
    if( !bOlder ){
      /* remove from pSet (it must be there) */
      if( vlogBsetSearch(pSet, pKey, nKey, &iPos) ){
        if( pSet->a[iPos].bOwn ) vlogFree(p->pEnv, pSet->a[iPos].pKey);
        memmove(&pSet->a[iPos], &pSet->a[iPos+1], sizeof(Entry)*(pSet->n-iPos-1));
        pSet->n--;
      }
      vlogNodeMarkDirty(p, pNode);
      *pbChanged = 1;
      return VLOG_OK;
    }
  }

  rc = entryMake(p, &eNew, pKey, nKey, pVal, nVal, eType);
  if( rc ) return rc;
  if( vlogBsetSearch(pSet, pKey, nKey, &iPos) ){
    if( pSet->a[iPos].bOwn ) vlogFree(p->pEnv, pSet->a[iPos].pKey);
    pSet->a[iPos] = eNew;
  }else{
    rc = bsetGrow(p, pSet);
    if( rc ){
      vlogFree(p->pEnv, eNew.pKey);
      return rc;
    }
    memmove(&pSet->a[iPos+1], &pSet->a[iPos], sizeof(Entry)*(pSet->n-iPos));
    pSet->a[iPos] = eNew;
    pSet->n++;
  }
  /* the bset stays sorted around the new entry */
  assert( iPos==0 || vlogKeyCmp(pSet->a[iPos-1].pKey, (int)pSet->a[iPos-1].nKey,
                                pKey, nKey)<0 );
  assert( iPos+1>=pSet->n || vlogKeyCmp(pKey, nKey, pSet->a[iPos+1].pKey,
                                        (int)pSet->a[iPos+1].nKey)<0 );
  if( eType==ENTRY_PUT ){
    pNode->nLive++;
    pNode->nLiveBytes += vlogEntrySize(&eNew);
  }
  assert( pNode->nLive>=0 && pNode->nLiveBytes>=0 );
  vlogNodeMarkDirty(p, pNode);
  *pbChanged = 1;
  return VLOG_OK;
}

/* ---------------------------------------------------------------------
** Trees
*/
static void treeKey(u32 iTree, u8 *a){ BE32(a, iTree); }

void vlogTreePolicyDefault(VlogTreePolicy *pPol){
  pPol->nInlineMax = VLOG_INLINE_ALL;
  pPol->iZstdLevel = 0;
  pPol->bCompressInline = 0;
}

/* VLOG_OK if *pPol is a policy a tree may have, else VLOG_RANGE. */
int vlogTreePolicyCheck(const VlogTreePolicy *pPol){
  if( pPol->nInlineMax<0 || pPol->iZstdLevel<0
   || pPol->iZstdLevel>VLOG_MAX_ZSTD_LEVEL
   || (pPol->bCompressInline!=0 && pPol->bCompressInline!=1) ){
    return VLOG_RANGE;
  }
  return VLOG_OK;
}

/* Whether tree pT exists: it has keys, or was made to last (TREEF_KEEP). */
int vlogTreeExists(const Tree *pT){
  return pT->nLevel>0 || (pT->mFlags & TREEF_KEEP)!=0;
}

/*
** Decode the roots entry a[0..n) (design note).  Read from the file, so
** untrusted: every field is range-checked, and bytes left over are
** VLOG_CORRUPT as much as bytes missing.
*/
int vlogRootDecode(const u8 *a, int n, u32 *pnLevel, NodePtr *pRoot,
                   u32 *pmFlags, VlogTreePolicy *pPol){
  u64 nLevel, mFlags, nInline, iZstd;
  int i, k;
  memset(pRoot, 0, sizeof(*pRoot));
  i = vlogGetVarint(a, a+n, &nLevel);
  if( i==0 || nLevel>32 ) return VLOG_CORRUPT;
  if( nLevel>0 ){
    if( n-i<PTR_SIZE || vlogPtrDecode(&a[i], PTR_SIZE, pRoot) ) return VLOG_CORRUPT;
    i += PTR_SIZE;
  }
  if( (k = vlogGetVarint(&a[i], &a[n], &mFlags))==0 ) return VLOG_CORRUPT;
  i += k;
  if( (k = vlogGetVarint(&a[i], &a[n], &nInline))==0 ) return VLOG_CORRUPT;
  i += k;
  if( (k = vlogGetVarint(&a[i], &a[n], &iZstd))==0 ) return VLOG_CORRUPT;
  i += k;
  if( i!=n || (mFlags & ~(u64)TREEF_ALL)!=0
   || (nLevel==0 && (mFlags & TREEF_KEEP)==0)
   || nInline>VLOG_INLINE_ALL || iZstd>VLOG_MAX_ZSTD_LEVEL ){
    return VLOG_CORRUPT;
  }
  *pnLevel = (u32)nLevel;
  *pmFlags = (u32)(mFlags & ~(u64)TREEF_ZINLINE);
  pPol->nInlineMax = (int)nInline;
  pPol->iZstdLevel = (int)iZstd;
  pPol->bCompressInline = (mFlags & TREEF_ZINLINE)!=0;
  return VLOG_OK;
}

int vlogTreeGet(VlogStore *p, u32 iTree, int bCreate, Tree **ppTree){
  Tree *pT;
  const u8 *pVal;
  int nVal, rc;
  u8 aKey[4];

  *ppTree = 0;
  if( iTree==TREE_ROOTS ){
    *ppTree = &p->rootsTree;
    return VLOG_OK;
  }
  for(pT=p->apTreeHash[iTree % VLOG_TREE_HASH]; pT; pT=pT->pHashNext){
    if( pT->iTree==iTree ){
      *ppTree = pT;
      return VLOG_OK;
    }
  }
  treeKey(iTree, aKey);
  rc = vlogBtreeLookup(p, TREE_ROOTS, aKey, 4, &pVal, &nVal);
  if( rc==VLOG_NOTFOUND && !bCreate ) return VLOG_NOTFOUND;
  if( rc && rc!=VLOG_NOTFOUND ) return rc;
  pT = (Tree*)vlogMallocZero(p->pEnv, sizeof(Tree));
  if( pT==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  pT->iTree = iTree;
  vlogTreePolicyDefault(&pT->pol);
  if( rc==VLOG_OK ){
    if( vlogRootDecode(pVal, nVal, &pT->nLevel, &pT->root, &pT->mFlags, &pT->pol) ){
      vlogFree(p->pEnv, pT);
      return vlogSetError(p, VLOG_CORRUPT_BKPT,
          "the roots tree has a bad entry for tree %u", iTree);
    }
    pT->nSavedLevel = pT->nLevel;
  }
  pT->pNext = p->pTrees;
  p->pTrees = pT;
  pT->pHashNext = p->apTreeHash[iTree % VLOG_TREE_HASH];
  p->apTreeHash[iTree % VLOG_TREE_HASH] = pT;
  *ppTree = pT;
  return VLOG_OK;
}

/* Load every tree the roots tree lists (into p->pTrees). */
int vlogTreesLoadAll(VlogStore *p){
  VlogCursor *pCsr = 0;
  Tree *pTree;
  int rc = vlogCursorOpen(p, TREE_ROOTS, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey;
    int nKey;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    if( nKey!=4 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad key in the roots tree");
      break;
    }
    rc = vlogTreeGet(p, vlogGetBE32((const u8*)pKey), 0, &pTree);
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  return rc;
}

/*
** Record pTree's entry in the roots tree (for TREE_ROOTS, its root in the
** superblock): levels, root pointer, flags and policy; none for a tree
** that no longer exists.
*/
int vlogTreeSaveRoot(VlogStore *p, Tree *pTree){
  u8 aKey[4], aVal[16+PTR_SIZE+3*10];
  int n, nPtr;
  if( pTree->iTree==TREE_ROOTS ){
    p->sb.rootsRoot = pTree->root;
    p->sb.rootsLevel = pTree->nLevel ? pTree->nLevel : 1;
    return VLOG_OK;
  }
  treeKey(pTree->iTree, aKey);
  pTree->bEntryDirty = 0;
  if( !vlogTreeExists(pTree) ){
    pTree->nSavedLevel = 0;
    return vlogBtreeInsert(p, TREE_ROOTS, aKey, 4, 0, 0, ENTRY_WHITEOUT);
  }
  pTree->nSavedLevel = pTree->nLevel;
  n = vlogPutVarint(aVal, pTree->nLevel);
  if( pTree->nLevel>0 ){
    assert( pTree->root.gen!=0 );
    vlogPtrEncode(&pTree->root, &aVal[n], &nPtr);
    n += nPtr;
  }
  n += vlogPutVarint(&aVal[n],
                     pTree->mFlags | (pTree->pol.bCompressInline ? TREEF_ZINLINE : 0));
  n += vlogPutVarint(&aVal[n], (u64)pTree->pol.nInlineMax);
  n += vlogPutVarint(&aVal[n], (u64)pTree->pol.iZstdLevel);
  return vlogBtreeInsert(p, TREE_ROOTS, aKey, 4, aVal, n, ENTRY_PUT);
}

/*
** The id vlogTreeCreate() gives next: one more than the largest of the
** trees that exist below VLOG_TREE_FIRST_HIGH, and at least
** VLOG_TREE_FIRST_AUTO.  Every tree of the
** roots tree is in p->pTrees (loaded with the store, added by replay and
** by this handle's changes), so the list answers alone.
*/
int vlogTreeNextId(VlogStore *p, u32 *piTree){
  u32 iMax = VLOG_TREE_FIRST_AUTO-1;
  Tree *pT;
  for(pT=p->pTrees; pT; pT=pT->pNext){
    if( vlogTreeExists(pT) && pT->iTree>iMax && pT->iTree<VLOG_TREE_FIRST_HIGH ){
      iMax = pT->iTree;
    }
  }
  if( iMax>=VLOG_TREE_FIRST_HIGH-1 ){
    return vlogSetError(p, VLOG_FULL, "no tree id is left: tree %u exists, and "
                        "%u is the largest id", iMax, VLOG_TREE_FIRST_HIGH-1);
  }
  *piTree = iMax+1;
  return VLOG_OK;
}

/*
** Take every key of pTree at once: the tree becomes empty, and its root,
** still pinned, goes to *ppRoot (0 if the tree had no key) with its nodes
** as they were, for vlogTreeGiveKeys() to put back or vlogTreeFreeNodes()
** to free.
*/
int vlogTreeTakeKeys(VlogStore *p, Tree *pTree, Node **ppRoot){
  Node *pRoot = 0;
  int rc;
  *ppRoot = 0;
  vlogCursorsSave(p);
  rc = vlogTreeRoot(p, pTree, &pRoot);
  if( rc ) return rc;
  pTree->pRoot = 0;                  /* its pin moves to *ppRoot */
  pTree->nLevel = 0;
  memset(&pTree->root, 0, sizeof(pTree->root));
  pTree->bEntryDirty = 1;
  p->iModCount++;
  *ppRoot = pRoot;
  return VLOG_OK;
}

/* Put back what vlogTreeTakeKeys() took from pTree (now empty again). */
void vlogTreeGiveKeys(VlogStore *p, Tree *pTree, Node *pRoot, u32 nLevel,
                      const NodePtr *pPtr){
  assert( pTree->pRoot==0 && pTree->nLevel==0 );
  vlogCursorsSave(p);
  pTree->pRoot = pRoot;
  pTree->nLevel = pRoot ? nLevel : 0;
  pTree->root = *pPtr;
  p->iModCount++;
}

static void nodeKill(VlogStore *p, Node *pNode);

/* vlogTreeFreeNodes() below pNode, at depth nDepth. */
static int freeSubtree(VlogStore *p, Node *pNode, int nDepth,
                       int (*xStale)(VlogStore*, u64, u64)){
  int rc = VLOG_OK, i;
  if( nDepth>32 ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad node levels in tree %u",
                        pNode->iTree);
  }
  vlogNodeRef(p, pNode);
  if( pNode->iLevel>0 ){
    for(i=0; rc==VLOG_OK && i<pNode->aBset[0].n; i++){
      Entry *e = &pNode->aBset[0].a[i];
      NodePtr ptr;
      Node *pChild;
      if( e->eType!=ENTRY_PUT ) continue;
      if( vlogPtrDecode(e->pVal, (int)e->nVal, &ptr) ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad child pointer in tree %u",
                          pNode->iTree);
      }else if( pNode->iLevel==1 && xStale==0
             && (pChild = hashFind(p, ptr.gen))==0 ){
        vlogRegionRelease(p, ptr.off);   /* a leaf not in memory: not read */
      }else{
        rc = vlogNodeChild(p, pNode, i, &pChild);
        if( rc==VLOG_OK ) rc = freeSubtree(p, pChild, nDepth+1, xStale);
      }
    }
  }else if( xStale ){
    Entry *aE;
    int n;
    rc = vlogNodeView(p, pNode);
    aE = pNode->aView ? pNode->aView : pNode->aBset[0].a;
    n = pNode->aView ? pNode->nView : pNode->aBset[0].n;
    for(i=0; rc==VLOG_OK && i<n; i++){
      if( aE[i].eType!=ENTRY_PUT ) continue;
      rc = vlogValueForEach(p, pNode->iTree, (int)aE[i].nKey, aE[i].pVal,
                            (int)aE[i].nVal, xStale);
    }
  }
  if( rc==VLOG_OK ) nodeKill(p, pNode);
  vlogNodeUnref(p, pNode);
  return rc;
}

/*
** Free every node of the tree under pRoot (which vlogTreeTakeKeys() gave,
** pinned; the pin goes too): each node's region is released (reused after
** the two-checkpoint rule), and, with xStale (a commit), xStale(p, segment,
** bytes) is called for each value-log record a leaf points to, so that the
** accounting counts them stale.  Without xStale (journal replay, whose
** entry carries the accounting) leaves not in memory are not read: their
** regions are in their parents.  On error the nodes not yet freed are
** left as they are: the caller reloads the handle.
*/
int vlogTreeFreeNodes(VlogStore *p, Node *pRoot,
                      int (*xStale)(VlogStore*, u64, u64)){
  int rc;
  if( pRoot==0 ) return VLOG_OK;
  rc = freeSubtree(p, pRoot, 0, xStale);
  vlogNodeUnref(p, pRoot);
  return rc;
}

/* The root node of pTree, loaded and pinned by the tree; 0 if empty. */
int vlogTreeRoot(VlogStore *p, Tree *pTree, Node **ppRoot){
  int rc;
  *ppRoot = 0;
  if( pTree->pRoot ){
    *ppRoot = pTree->pRoot;
    return VLOG_OK;
  }
  if( pTree->nLevel==0 || pTree->root.gen==0 ) return VLOG_OK;
  rc = vlogNodeLoad(p, pTree->iTree, (int)pTree->nLevel-1, &pTree->root, 0, ppRoot);
  if( rc ) return rc;
  pTree->pRoot = *ppRoot;
  vlogNodeRef(p, *ppRoot);
  return VLOG_OK;
}

/* Index of the child of interior node pNode that may hold pKey. */
static int childIndex(Node *pNode, const u8 *pKey, int nKey){
  int iPos;
  Bset *pSet = &pNode->aBset[0];
  assert( pNode->iLevel>0 && pNode->nBset==1 && pSet->n>0 );
  if( vlogBsetSearch(pSet, pKey, nKey, &iPos) ) return iPos;
  assert( iPos<=pSet->n );
  return iPos>0 ? iPos-1 : 0;
}

/*
** Descend from the root of pTree to the leaf for pKey, filling apPath[]
** (root first) and aiIdx[] (child index taken at each interior node).
** *pnPath is 0 for an empty tree.
*/
static int descend(VlogStore *p, Tree *pTree, const u8 *pKey, int nKey,
                   Node **apPath, int *aiIdx, int *pnPath){
  Node *pNode;
  int rc = vlogTreeRoot(p, pTree, &pNode);
  int n = 0;
  *pnPath = 0;
  if( rc || pNode==0 ) return rc;
  assert( pNode->pParent==0 && !pNode->bDead && pNode->iTree==pTree->iTree );
  while( 1 ){
    apPath[n] = pNode;
    if( pNode->iLevel==0 ) break;
    if( pNode->aBset[0].n==0 ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "empty interior node in tree %u",
                          pTree->iTree);
    }
    aiIdx[n] = childIndex(pNode, pKey, nKey);
    rc = vlogNodeChild(p, pNode, aiIdx[n], &pNode);
    if( rc ) return rc;
    n++;
    if( pNode->iLevel!=apPath[n-1]->iLevel-1 || n>=32 ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad node levels in tree %u",
                          pTree->iTree);
    }
  }
  *pnPath = n+1;
  assert( apPath[n]->iLevel==0 && apPath[0]->iLevel==n );
  return VLOG_OK;
}

int vlogBtreeLookup(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                    const u8 **ppVal, int *pnVal){
  Tree *pTree;
  Node *apPath[33];
  int aiIdx[33];
  int nPath, iPos, iSet, rc;
  Entry *e;

  /* in a transaction, in a replay (a reader catching up begins its
  ** transaction after), or creating the store (EXCLUSIVE) */
  assert( nKey>=1 && nKey<=VLOG_MAX_KEY );
  assert( p->eTxn>0 || p->bReplay || p->eLock==VLOG_LOCK_EXCLUSIVE );
  rc = vlogTreeGet(p, iTree, 0, &pTree);
  if( rc ) return rc;
  rc = descend(p, pTree, pKey, nKey, apPath, aiIdx, &nPath);
  if( rc ) return rc;
  if( nPath==0 ) return VLOG_NOTFOUND;
  iSet = nodeFind(apPath[nPath-1], pKey, nKey, &iPos);
  if( iSet<0 ) return VLOG_NOTFOUND;
  e = &apPath[nPath-1]->aBset[iSet].a[iPos];
  if( e->eType!=ENTRY_PUT ) return VLOG_NOTFOUND;
  *ppVal = e->pVal;
  *pnVal = (int)e->nVal;
  return VLOG_OK;
}

/* The pointer value for child pChild as its parent records it. */
static void childPtr(Node *pChild, u8 *aVal, int *pnVal){
  NodePtr ptr;
  assert( !pChild->bDead && pChild->gen>0 );
  assert( pChild->bDirty || (pChild->iOff && pChild->nDisk) );
  ptr.gen = pChild->gen;
  ptr.off = pChild->bDirty ? 0 : pChild->iOff;
  ptr.len = pChild->bDirty ? 0 : pChild->nDisk;
  vlogPtrEncode(&ptr, aVal, pnVal);
}

/* The smallest live key of pNode (which must have one). */
static void firstKey(Node *pNode, const u8 **ppKey, int *pnKey){
  Entry *e = pNode->aBset[0].a;
  assert( pNode->nBset==1 && pNode->aBset[0].n>0 );
  *ppKey = e->pKey;
  *pnKey = (int)e->nKey;
}

/* Find the index in parent pParent of the entry pointing at pChild. */
static int parentIndex(Node *pParent, Node *pChild){
  Bset *pSet = &pParent->aBset[0];
  int i;
  assert( pParent->iLevel==pChild->iLevel+1 && pParent->nBset==1 );
  for(i=0; i<pSet->n; i++){
    NodePtr ptr;
    /* interior values were checked as pointers when decoded or made */
    if( ALWAYS(vlogPtrDecode(pSet->a[i].pVal, pSet->a[i].nVal, &ptr)==VLOG_OK)
     && ptr.gen==pChild->gen ){
      return i;
    }
  }
  return -1;
}

/*
** Split pNode (apPath[iLevelIdx]) in two: the upper half moves to a new
** right sibling, whose separator goes into the parent (a new root when
** pNode is the root).  Recurses upward when the parent overflows.
*/
static int nodeSplit(VlogStore *p, Tree *pTree, Node **apPath, int iIdx){
  Node *pNode = apPath[iIdx];
  Node *pRight = 0, *pParent;
  Bset *pL, *pR;
  int rc, i, nHalf = 0, iSplit;
  u8 aVal[PTR_SIZE];
  int nVal, bChanged;
  const u8 *pSep;
  int nSep;
#ifndef NDEBUG
  int nBytes0;
#endif

  assert( iIdx>=0 && iIdx<32 && !pNode->bDead );
  assert( iIdx==0 ? pTree->pRoot==pNode
                  : apPath[iIdx-1]->iLevel==pNode->iLevel+1 );
  rc = nodeCompact(p, pNode);
  if( rc ) return rc;
  pL = &pNode->aBset[0];
  if( pL->n<2 ) return VLOG_OK;
#ifndef NDEBUG
  nBytes0 = pNode->nLiveBytes;
#endif
  for(iSplit=0; iSplit<pL->n-1; iSplit++){
    nHalf += vlogEntrySize(&pL->a[iSplit]);
    if( nHalf>=pNode->nLiveBytes/2 ) break;
  }
  iSplit++;                       /* first entry of the right half */
  if( iSplit>=pL->n ) iSplit = pL->n-1;

  rc = nodeCreate(p, pNode->iTree, pNode->iLevel, &pRight);
  if( rc ) return rc;
  pR = &pRight->aBset[0];
  pR->nAlloc = pL->n - iSplit + 16;
  pR->a = (Entry*)vlogMalloc(p->pEnv, sizeof(Entry)*pR->nAlloc);
  if( pR->a==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  /* Right entries become owned copies (the left arena stays with pNode). */
  for(i=iSplit; i<pL->n; i++){
    Entry *e = &pL->a[i];
    if( e->bOwn ){
      pR->a[pR->n++] = *e;
      e->bOwn = 0;
    }else{
      rc = entryMake(p, &pR->a[pR->n], e->pKey, e->nKey, e->pVal, e->nVal, e->eType);
      if( rc ) return rc;
      pR->n++;
    }
  }
  pL->n = iSplit;
  rc = nodeView(p, pNode, 0);
  if( rc==VLOG_OK ) rc = nodeView(p, pRight, 0);
  if( rc ) return rc;
  /* two halves of what there was, in order: left below right */
  assert( pL->n>=1 && pR->n>=1 );
  assert( pNode->nLiveBytes + pRight->nLiveBytes==nBytes0 );
  assert( vlogKeyCmp(pL->a[pL->n-1].pKey, (int)pL->a[pL->n-1].nKey,
                     pR->a[0].pKey, (int)pR->a[0].nKey)<0 );
  vlogNodeMarkDirty(p, pNode);

  /* Children of an interior node that moved right now have pRight as
  ** their parent. */
  if( pNode->iLevel>0 ){
    for(i=0; i<pR->n; i++){
      NodePtr ptr;
      Node *pChild;
      if( NEVER(vlogPtrDecode(pR->a[i].pVal, pR->a[i].nVal, &ptr)) ) continue;
      pChild = hashFind(p, ptr.gen);
      if( pChild && pChild->pParent==pNode ){
        pChild->pParent = pRight;
        vlogNodeRef(p, pRight);
        vlogNodeUnref(p, pNode);
      }
    }
  }

  if( iIdx==0 ){
    /* pNode was the root: grow a new root above it. */
    Node *pRoot;
    const u8 *pK;
    int nK;
    rc = nodeCreate(p, pNode->iTree, pNode->iLevel+1, &pRoot);
    if( rc ) return rc;
    firstKey(pNode, &pK, &nK);
    childPtr(pNode, aVal, &nVal);
    rc = nodeModify(p, pRoot, pK, nK, aVal, nVal, ENTRY_PUT, &bChanged);
    if( rc ) return rc;
    pNode->pParent = pRoot;
    vlogNodeRef(p, pRoot);
    /* the tree's pin moves from pNode to the new root */
    pTree->pRoot = pRoot;
    vlogNodeRef(p, pRoot);
    vlogNodeUnref(p, pNode);
    pTree->nLevel++;
    pParent = pRoot;
  }else{
    pParent = apPath[iIdx-1];
  }
  pRight->pParent = pParent;
  vlogNodeRef(p, pParent);
  firstKey(pRight, &pSep, &nSep);
  if( iIdx>0 ){
    /* The first child of a node may hold keys below its separator (a
    ** lookup for a key below every separator goes to child 0).  If the
    ** right half now starts at or below that separator, re-key the left
    ** child's entry with its own first key, which is smaller. */
    rc = nodeCompact(p, pParent);
    if( rc ) return rc;
    if( parentIndex(pParent, pNode)==0 ){
      Entry *e0 = &pParent->aBset[0].a[0];
      if( vlogKeyCmp(e0->pKey, (int)e0->nKey, pSep, nSep)>=0 ){
        u8 aOld[VLOG_MAX_KEY];
        int nOld = (int)e0->nKey;
        const u8 *pK;
        int nK;
        memcpy(aOld, e0->pKey, nOld);
        rc = nodeModify(p, pParent, aOld, nOld, 0, 0, ENTRY_WHITEOUT, &bChanged);
        if( rc ) return rc;
        firstKey(pNode, &pK, &nK);
        childPtr(pNode, aVal, &nVal);
        rc = nodeModify(p, pParent, pK, nK, aVal, nVal, ENTRY_PUT, &bChanged);
        if( rc ) return rc;
      }
    }
  }
  childPtr(pRight, aVal, &nVal);
  rc = nodeModify(p, pParent, pSep, nSep, aVal, nVal, ENTRY_PUT, &bChanged);
  if( rc ) return rc;
  if( pParent->nLiveBytes > splitLimit(p) ){
    if( iIdx==0 ){
      Node *apRoot[1];
      apRoot[0] = pParent;
      rc = nodeSplit(p, pTree, apRoot, 0);
    }else{
      rc = nodeSplit(p, pTree, apPath, iIdx-1);
    }
  }
  return rc;
}

/* Remove pNode from its tree: its region is released at the next
** checkpoint; its memory when nothing references it. */
static void nodeKill(VlogStore *p, Node *pNode){
  /* the caller holds a reference, whose release frees it */
  assert( !pNode->bDead && pNode->nRef>0 );
  vlogRegionRelease(p, pNode->iOff);
  pNode->iOff = 0;
  pNode->bDead = 1;
  pNode->bDirty = 0;
  lruRemove(p, pNode);
  p->iModCount++;
}

/*
** pNode (apPath[iIdx]) is small: merge it with a sibling when both fit in
** three quarters of a node; collapse a root with a single child.
*/
static int nodeMerge(VlogStore *p, Tree *pTree, Node **apPath, int iIdx){
  Node *pNode = apPath[iIdx];
  Node *pParent, *pLeft, *pRight, *pSib;
  int iMe, iSib, rc, i, bChanged;
#ifndef NDEBUG
  int nLive0;
#endif

  assert( iIdx>=0 && iIdx<32 && !pNode->bDead );
  assert( iIdx==0 ? pTree->pRoot==pNode
                  : apPath[iIdx-1]->iLevel==pNode->iLevel+1 );
  if( iIdx==0 ){
    /* The root: an interior root with one child hands over to it; an
    ** empty leaf root empties the tree. */
    if( pNode->iLevel>0 && pNode->nLive==1 ){
      Node *pChild;
      rc = nodeCompact(p, pNode);
      if( rc==VLOG_OK ) rc = vlogNodeChild(p, pNode, 0, &pChild);
      if( rc ) return rc;
      pTree->pRoot = pChild;
      vlogNodeRef(p, pChild);
      pChild->pParent = 0;
      vlogNodeUnref(p, pNode);           /* pChild's reference to it */
      pTree->nLevel--;
      vlogNodeMarkDirty(p, pChild);
      nodeKill(p, pNode);
      vlogNodeUnref(p, pNode);           /* the tree's pin */
    }else if( pNode->iLevel==0 && pNode->nLive==0 ){
      pTree->pRoot = 0;
      pTree->nLevel = 0;
      pTree->root.gen = 0;
      nodeKill(p, pNode);
      vlogNodeUnref(p, pNode);
      p->iModCount++;
    }
    return VLOG_OK;
  }

  pParent = apPath[iIdx-1];
  rc = nodeCompact(p, pParent);
  if( rc ) return rc;
  iMe = parentIndex(pParent, pNode);
  if( iMe<0 ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "node missing from its parent");
  }
  if( pParent->aBset[0].n<2 ){
    return VLOG_OK;          /* no sibling; the parent will collapse */
  }
  iSib = (iMe+1<pParent->aBset[0].n) ? iMe+1 : iMe-1;
  rc = vlogNodeChild(p, pParent, iSib, &pSib);
  if( rc ) return rc;
  if( pSib->nLiveBytes + pNode->nLiveBytes > splitLimit(p)*3/4 ){
    return VLOG_OK;
  }
  if( iSib>iMe ){ pLeft = pNode; pRight = pSib; }
  else          { pLeft = pSib;  pRight = pNode; }
  assert( pLeft!=pRight && pLeft->iLevel==pRight->iLevel );
#ifndef NDEBUG
  nLive0 = pLeft->nLive + pRight->nLive;
#endif
  vlogNodeRef(p, pLeft);
  vlogNodeRef(p, pRight);
  rc = nodeCompact(p, pLeft);
  if( rc==VLOG_OK ) rc = nodeCompact(p, pRight);
  /* Move every entry of pRight to the end of pLeft (owned copies). */
  for(i=0; rc==VLOG_OK && i<pRight->aBset[0].n; i++){
    Entry *e = &pRight->aBset[0].a[i];
    Bset *pL = &pLeft->aBset[0];
    rc = bsetGrow(p, pL);
    if( rc==VLOG_OK ){
      rc = entryMake(p, &pL->a[pL->n], e->pKey, e->nKey, e->pVal, e->nVal, e->eType);
    }
    if( rc==VLOG_OK ){
      pL->n++;
      if( pRight->iLevel>0 ){
        NodePtr ptr;
        Node *pChild;
        if( vlogPtrDecode(e->pVal, e->nVal, &ptr)==VLOG_OK
         && (pChild = hashFind(p, ptr.gen))!=0 && pChild->pParent==pRight ){
          pChild->pParent = pLeft;
          vlogNodeRef(p, pLeft);
          vlogNodeUnref(p, pRight);
        }
      }
    }
  }
  if( rc==VLOG_OK ) rc = nodeView(p, pLeft, 0);
  assert( rc || pLeft->nLive==nLive0 );       /* every key moved, none lost */
  if( rc==VLOG_OK ){
    Entry *eSep = &pParent->aBset[0].a[iSib>iMe ? iSib : iMe];
    u8 aKey[VLOG_MAX_KEY];
    int nKey = (int)eSep->nKey;
    memcpy(aKey, eSep->pKey, nKey);
    vlogNodeMarkDirty(p, pLeft);
    rc = nodeModify(p, pParent, aKey, nKey, 0, 0, ENTRY_WHITEOUT, &bChanged);
  }
  if( rc==VLOG_OK ) nodeKill(p, pRight);
  vlogNodeUnref(p, pLeft);
  vlogNodeUnref(p, pRight);
  if( rc ) return rc;
  if( pParent->nLiveBytes < (int)p->sb.nNodeSize/4 || pParent->nLive<2 ){
    rc = nodeMerge(p, pTree, apPath, iIdx-1);
  }
  return rc;
}

/*
** Insert (ENTRY_PUT) or delete (ENTRY_WHITEOUT) a key in tree iTree, with
** no logging: the transaction layer (txn.c) logs and calls this.
*/
int vlogBtreeInsert(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                    const u8 *pVal, int nVal, int eType){
  Tree *pTree;
  Node *apPath[33];
  int aiIdx[33];
  int nPath, rc, bChanged = 0;
  Node *pLeaf;

  assert( nKey>=1 && nKey<=VLOG_MAX_KEY && nVal>=0 && (pVal!=0 || nVal==0) );
  assert( eType==ENTRY_PUT || eType==ENTRY_WHITEOUT );
  assert( p->bValid );
  assert( p->eTxn>0 || p->bReplay || p->eLock==VLOG_LOCK_EXCLUSIVE );  /* as Lookup */
  vlogCursorsSave(p);
  rc = vlogTreeGet(p, iTree, eType==ENTRY_PUT, &pTree);
  if( rc==VLOG_NOTFOUND ) return VLOG_OK;       /* delete from no tree */
  if( rc ) return rc;
  rc = descend(p, pTree, pKey, nKey, apPath, aiIdx, &nPath);
  if( rc ) return rc;
  if( nPath==0 ){
    if( eType!=ENTRY_PUT ) return VLOG_OK;
    rc = nodeCreate(p, iTree, 0, &pLeaf);
    if( rc ) return rc;
    pTree->pRoot = pLeaf;
    vlogNodeRef(p, pLeaf);
    pTree->nLevel = 1;
    apPath[0] = pLeaf;
    nPath = 1;
  }
  pLeaf = apPath[nPath-1];
  assert( pLeaf->iLevel==0 && pTree->pRoot==apPath[0] );
  rc = nodeModify(p, pLeaf, pKey, nKey, pVal, nVal, eType, &bChanged);
  if( rc || !bChanged ) return rc;
  if( pLeaf->nLiveBytes > splitLimit(p) ){
    rc = nodeSplit(p, pTree, apPath, nPath-1);
  }else if( eType==ENTRY_WHITEOUT
         && (pLeaf->nLiveBytes < (int)p->sb.nNodeSize/4 || pLeaf->nLive==0) ){
    rc = nodeMerge(p, pTree, apPath, nPath-1);
  }
  return rc;
}

/*
** Write dirty node pNode for a checkpoint: append its newest bset to its
** region when the region has room and holds fewer than three bsets (a
** leaf), else compact it and write it whole to a new region (the old one
** is released: reserved until the checkpoint is durable).  Then record the
** new pointer in the parent, which becomes dirty, or, for a root, in the
** tree's entry of the roots tree (or the superblock).
*/
int vlogNodeWrite(VlogStore *p, Node *pNode){
  VlogBuf b = {0, 0, 0};
  int rc = VLOG_OK;
  int iLast = pNode->nBset-1;
  int bAppend = pNode->iLevel==0 && pNode->iOff!=0 && iLast>0
             && pNode->aBset[iLast-1].bDisk && !pNode->aBset[iLast].bDisk;

  assert( pNode->bDirty && !pNode->bDead );
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && !p->cfg.bReadOnly );  /* a checkpoint */
  assert( pNode->pParent==0 || !pNode->pParent->bDead );
  vlogCursorsSave(p);
  if( bAppend ){
    /* the new bset starts on a fresh sector: a torn write cannot reach the
    ** bsets the durable checkpoint reads */
    u32 iAt = (pNode->nDisk + VLOG_SECTOR-1) & ~(u32)(VLOG_SECTOR-1);
    rc = vlogBsetEncode(p, pNode, pNode->aBset[iLast].a, pNode->aBset[iLast].n,
                        iLast, &b);
    if( rc==VLOG_OK && iAt + (u32)b.n <= p->sb.nNodeSize ){
      rc = vlogWriteAt(p, pNode->iOff + iAt, b.a, b.n);
      if( rc==VLOG_OK ){
        pNode->nDisk = iAt + (u32)b.n;
        pNode->aBset[iLast].bDisk = 1;
      }
    }else{
      bAppend = 0;
    }
  }
  if( rc==VLOG_OK && !bAppend ){
    u64 iOff;
    b.n = 0;
    rc = nodeCompact(p, pNode);
    if( rc==VLOG_OK ){
      rc = vlogBsetEncode(p, pNode, pNode->aBset[0].a, pNode->aBset[0].n, 0, &b);
    }
    if( rc==VLOG_OK && b.n>(int)p->sb.nNodeSize ){
      rc = vlogSetError(p, VLOG_ERROR, "node of tree %u is %d bytes, over the node "
                        "size %u (internal error)", pNode->iTree, b.n, p->sb.nNodeSize);
    }
    if( rc==VLOG_OK ) rc = vlogRegionAlloc(p, &iOff);
    if( rc==VLOG_OK ) rc = vlogWriteAt(p, iOff, b.a, b.n);
    if( rc==VLOG_OK ){
      vlogRegionRelease(p, pNode->iOff);
      pNode->iOff = iOff;
      pNode->nDisk = (u32)b.n;
      pNode->aBset[0].bDisk = 1;
    }
  }
  vlogBufFree(p->pEnv, &b);
  if( rc ) return rc == VLOG_NOMEM ? vlogSetError(p, rc, 0) : rc;
  assert( pNode->iOff && pNode->nDisk>0 && pNode->nDisk<=p->sb.nNodeSize );
  assert( (pNode->iOff % p->sb.nNodeSize)==0 );
  p->nNodeWrite++;
  pNode->bDirty = 0;

  if( pNode->pParent ){
    Node *pParent = pNode->pParent;
    int iIdx, bChanged;
    u8 aKey[VLOG_MAX_KEY], aVal[PTR_SIZE];
    int nKey, nVal;
    rc = nodeCompact(p, pParent);
    if( rc ) return rc;
    iIdx = parentIndex(pParent, pNode);
    if( iIdx<0 ){
      return vlogSetError(p, VLOG_ERROR, "written node not found in its parent "
                          "(internal error)");
    }
    nKey = (int)pParent->aBset[0].a[iIdx].nKey;
    memcpy(aKey, pParent->aBset[0].a[iIdx].pKey, nKey);
    childPtr(pNode, aVal, &nVal);
    rc = nodeModify(p, pParent, aKey, nKey, aVal, nVal, ENTRY_PUT, &bChanged);
  }else{
    Tree *pTree;
    rc = vlogTreeGet(p, pNode->iTree, 0, &pTree);
    if( rc==VLOG_OK && pTree->pRoot!=pNode ){
      rc = vlogSetError(p, VLOG_ERROR, "written node has no parent and is not "
                        "its tree's root (internal error)");
    }
    if( rc==VLOG_OK ){
      pTree->root.gen = pNode->gen;
      pTree->root.off = pNode->iOff;
      pTree->root.len = pNode->nDisk;
      rc = vlogTreeSaveRoot(p, pTree);
    }
  }
  lruUpdate(p, pNode);
  return rc;
}
