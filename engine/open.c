/*
** open.c: opening, creating, loading (recovery) and closing a store.
**
** DESIGN NOTE
**
** Buckets are alloc.c's: their states, the free list, node regions and
** segment accounting, and the rule that what a snapshot may reach is kept
** for two checkpoints.  Loading (loadBuckets) reads the table from the
** alloc and segments trees, marks the node regions the current trees use
** (walking the interior nodes; leaves are not read) and those the other
** superblock's trees use (held: if the newest superblock is damaged, the
** older one with the journal written since it still recovers every
** commit), and has alloc.c reconcile: a B-tree bucket with no live or
** held region is free.  Journal buckets are reconciled by replay, which
** walks the chain from the superblock's journal start and keeps those on
** the older superblock's chain.
**
** Opening.  Nothing is created, written or mapped beside a file before it
** is known to be a store, or empty to become one (storeCheckFile: the
** superblock magic, before the -shm): a text file, a SQLite database (even
** a live one in WAL mode, whose -shm this process may share), /dev/null or
** a directory is a VLOG_NOTADB or VLOG_CANTOPEN_* error that changes
** nothing.  A handle is read-only when asked (VlogConfig.bReadOnly,
** bImmutable), when the file opens only read-only (permissions, read-only
** media), or when its -shm cannot be opened or created (shm.c): it never
** writes the file nor touches the -shm, reads under SHARED (an immutable
** one takes no lock), and a write is VLOG_READONLY saying why
** (vlogReadOnlyError).
**
** Loading (vlogStoreLoad) is recovery: the newer valid superblock
** (store.c, vlogSbRead), the bucket table (loadBuckets), then the journal
** replayed from the superblock's position to its tail (journal.c).  The
** same load serves a handle that finds another handle's checkpoint
** (store.c, vlogStoreRefresh).
**
** Shrinking.  At checkpoint, FREE buckets at the end of the file are cut
** off: the new superblock records the smaller bucket count and the file is
** truncated once that superblock is durable (checkpoint.c).
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "storeInt.h"

/* ---------------------------------------------------------------------
** Loading (recovery) and reconciling
*/

/* The bucket holding region iOff, or 0 when it is outside the table, and
** the region's bit in the bucket's masks. */
static Bucket *regionBucket(VlogStore *p, u64 iOff, u64 *pmBit){
  u64 iBucket = iOff / p->sb.nBucketSize;
  *pmBit = (u64)1<<((iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
  return (iOff && iBucket>0 && iBucket<p->sb.nBucket) ? &p->aBucket[iBucket] : 0;
}

/*
** Mark the regions of every node reachable from pNode's interior levels
** as live (leaves are not read: their regions are in their parents).  A
** region met twice is corruption: each node has one parent, and a hostile
** tree whose pointers all lead to the same child would otherwise be
** walked once per path, exponentially in its depth.
*/
static int markRegions(VlogStore *p, u32 iTree, int iLevel, const NodePtr *pPtr){
  Node *pNode = 0;
  int rc, i;
  u64 m;
  Bucket *pB = regionBucket(p, pPtr->off, &m);
  if( pB && (pB->mLive & m) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "B-tree node at offset %llu is referenced twice (tree %u)",
        (unsigned long long)pPtr->off, iTree);
  }
  if( pB ) pB->mLive |= m;
  if( iLevel==0 ) return VLOG_OK;
  rc = vlogNodeLoad(p, iTree, iLevel, pPtr, 0, &pNode);
  if( rc ) return rc;
  vlogNodeRef(p, pNode);
  for(i=0; rc==VLOG_OK && i<pNode->aBset[0].n; i++){
    NodePtr child;
    Entry *pE = &pNode->aBset[0].a[i];
    if( vlogPtrDecode(pE->pVal, pE->nVal, &child) ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "interior node at offset %llu has a bad child pointer",
          (unsigned long long)pPtr->off);
    }else{
      rc = markRegions(p, iTree, iLevel-1, &child);
    }
  }
  vlogNodeUnref(p, pNode);
  return rc;
}

/* Hold the region at iOff for the previous checkpoint.  0 when it was
** held already (its subtree too: see markRegions) or is outside the
** table. */
static int holdRegion(VlogStore *p, u64 iOff){
  u64 m;
  Bucket *pB = regionBucket(p, iOff, &m);
  if( pB==0 || (pB->mHeld & m) ) return 0;
  pB->mHeld |= m;
  return 1;
}

/*
** Hold every region the tree under pPtr used in the previous checkpoint.
** Its nodes are read into temporary nodes, never into the cache (they are
** not the current trees).  A leaf of the roots tree (bRoots) names the
** roots of the other trees, which are walked too.
*/
static int holdTree(VlogStore *p, u32 iTree, int iLevel, const NodePtr *pPtr,
                    int bRoots, int nDepth){
  Node *pNode;
  u8 *aBuf;
  int rc, i, n;
  Entry *aE;

  if( !holdRegion(p, pPtr->off) ) return VLOG_OK;
  if( (iLevel==0 && !bRoots) || pPtr->gen==0 ) return VLOG_OK;
  if( nDepth>64 || !vlogPtrValid(p, pPtr) ) return VLOG_CORRUPT;
  aBuf = (u8*)vlogMalloc(p->pEnv, pPtr->len);
  pNode = vlogNodeNew(p, iTree, iLevel, pPtr->gen);
  rc = (aBuf && pNode) ? VLOG_OK : VLOG_NOMEM;
  if( rc==VLOG_OK ) rc = vlogReadAt(p, pPtr->off, aBuf, (int)pPtr->len, "B-tree node");
  if( rc==VLOG_OK ){
    rc = vlogNodeDecode(p, pNode, aBuf, (int)pPtr->len, iTree, iLevel, pPtr->off);
  }
  vlogFree(p->pEnv, aBuf);
  if( rc==VLOG_OK ) rc = vlogNodeView(p, pNode);
  if( rc==VLOG_OK ){
    aE = pNode->aView ? pNode->aView : pNode->aBset[0].a;
    n = pNode->aView ? pNode->nView : pNode->aBset[0].n;
    for(i=0; rc==VLOG_OK && i<n; i++){
      NodePtr child;
      if( iLevel>0 ){
        if( vlogPtrDecode(aE[i].pVal, aE[i].nVal, &child)==VLOG_OK ){
          rc = holdTree(p, iTree, iLevel-1, &child, bRoots, nDepth+1);
        }
      }else if( aE[i].nKey==4 ){
        u32 nLevel, mFlags;
        VlogTreePolicy pol;
        if( vlogRootDecode(aE[i].pVal, (int)aE[i].nVal, &nLevel, &child, &mFlags,
                           &pol)==VLOG_OK && nLevel>0 ){
          rc = holdTree(p, vlogGetBE32(aE[i].pKey), (int)nLevel-1, &child, 0, nDepth+1);
        }
      }
    }
  }
  if( pNode ) vlogNodeFree(p, pNode);
  return rc;
}

/* Hold what the previous checkpoint (the other superblock) uses.  Should
** it be unreadable, nothing more can be done for it: its error is
** forgotten, the current checkpoint being sound. */
static int holdOlder(VlogStore *p){
  int rc;
  char *zSave;
  if( !p->bOldValid || p->sbOld.rootsRoot.gen==0 ) return VLOG_OK;
  zSave = p->zErr;
  p->zErr = 0;
  rc = holdTree(p, TREE_ROOTS, (int)p->sbOld.rootsLevel-1, &p->sbOld.rootsRoot, 1, 0);
  vlogFree(p->pEnv, p->zErr);
  p->zErr = zSave;
  return rc==VLOG_NOMEM ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* Load aBucket[] (alloc.c), mark the regions the trees of both
** checkpoints use, then reconcile (design note). */
static int loadBuckets(VlogStore *p){
  Tree *pTree;
  int rc = vlogAllocLoad(p);
  if( rc==VLOG_OK ){
    rc = markRegions(p, TREE_ROOTS, (int)p->sb.rootsLevel-1, &p->sb.rootsRoot);
  }
  if( rc==VLOG_OK ) rc = vlogTreesLoadAll(p);
  for(pTree=p->pTrees; rc==VLOG_OK && pTree; pTree=pTree->pNext){
    if( pTree->nLevel==0 ) continue;           /* a created tree, empty */
    rc = markRegions(p, pTree->iTree, (int)pTree->nLevel-1, &pTree->root);
  }
  if( rc==VLOG_OK ) rc = holdOlder(p);
  if( rc==VLOG_OK ) rc = vlogAllocReconcile(p);
  return rc;
}

/* Forget every in-memory structure derived from the file. */
void vlogStoreReset(VlogStore *p){
  vlogCursorsInvalidate(p);
  vlogCacheDropAll(p);
  vlogWbClear(p);
  vlogLogReset(p);
  assert( p->nNode==0 && p->pTrees==0 && p->pDirty==0 && p->pLruFirst==0 );
  assert( p->wb.n==0 && p->nCacheBytes==0 );
  p->bValid = 0;
}

/* Load the state of the file: superblock, trees, buckets, journal. */
int vlogStoreLoad(VlogStore *p){
  int rc;
  int eTxn = p->eTxn;
  vlogStoreReset(p);
  rc = vlogSbRead(p);
  if( rc ) return rc;
  p->nRegionPerBucket = (int)(p->sb.nBucketSize / p->sb.nNodeSize);
  p->rootsTree.iTree = TREE_ROOTS;
  p->rootsTree.nLevel = p->sb.rootsLevel;
  p->rootsTree.root = p->sb.rootsRoot;
  p->rootsTree.pRoot = 0;
  p->jrnl.iOff = p->sb.iJrnlOff;
  p->jrnl.iSeq = p->sb.iJrnlSeq;
  p->jrnl.iDurable = p->sb.iJrnlSeq-1;
  p->jrnl.nSize = 0;
  p->jrnl.iFirstBucket = p->sb.iJrnlOff / p->sb.nBucketSize;
  p->bValid = 1;
  /* The cursors used below must run inside this load, not begin read
  ** transactions of their own (which would refresh, recursively). */
  p->eTxn = eTxn ? eTxn : 1;
  rc = loadBuckets(p);
  if( rc==VLOG_OK ) rc = vlogJournalReplay(p, 1);
  p->eTxn = eTxn;
  if( rc ) p->bValid = 0;
  /* the journal goes on from the checkpoint, in an open journal bucket */
  assert( rc || (p->jrnl.iSeq>=p->sb.iJrnlSeq && p->jrnl.iDurable<p->jrnl.iSeq) );
  assert( rc || p->aBucket[p->jrnl.iOff/p->sb.nBucketSize].eKind==KIND_JOURNAL );
  return rc;
}

/* Create a new, empty store in the (empty) file. */
static int storeCreate(VlogStore *p){
  u8 a[SB_SIZE];
  int rc;
  u64 iJrnl;
  Superblock *s = &p->sb;

  /* an empty file, under EXCLUSIVE: no other handle can be creating it */
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && !p->cfg.bReadOnly );
  memset(s, 0, sizeof(*s));
  s->iSeq = 1;
  s->nBucketSize = (u32)p->cfg.nBucketSize;
  s->nNodeSize = (u32)p->cfg.nNodeSize;
  s->nBucket = 2;
  s->rootsLevel = 1;
  s->iNextGen = 1;
  s->iNextSegGen = 1;
  s->iCreated = (u64)p->pEnv->xNow(p->pEnv);
  p->nRegionPerBucket = (int)(s->nBucketSize / s->nNodeSize);
  rc = vlogAllocGrow(p, 2);
  if( rc ) return rc;
  /* Bucket 1: the first journal bucket. */
  rc = vlogBucketAlloc(p, KIND_JOURNAL, &iJrnl);
  if( rc ) return rc;
  assert( iJrnl==1 );
  s->iJrnlOff = vlogBucketOffset(p, iJrnl);
  s->iJrnlSeq = 1;
  p->jrnl.iOff = s->iJrnlOff;
  p->jrnl.iSeq = 1;
  p->jrnl.iDurable = 0;
  p->jrnl.iFirstBucket = iJrnl;
  p->rootsTree.iTree = TREE_ROOTS;
  p->rootsTree.nLevel = 1;
  p->bValid = 1;
  /* Zero the journal's first entry header so no stale bytes look valid. */
  {
    u8 aZero[JE_HDR];
    memset(aZero, 0, sizeof(aZero));
    rc = vlogWriteAt(p, s->iJrnlOff, aZero, sizeof(aZero));
  }
  /* Superblock B gets a copy of the empty superblock so that both are
  ** valid; the checkpoint then writes A with sequence 2. */
  if( rc==VLOG_OK ){
    vlogSbEncode(s, a);
    rc = vlogWriteAt(p, SB_SIZE, a, SB_SIZE);
    p->iSbSlot = 1;             /* so the checkpoint writes A */
  }
  if( rc==VLOG_OK ) rc = vlogCheckpointInternal(p);
  return rc;
}

static int checkConfig(VlogStore *p){
  VlogConfig *c = &p->cfg;
  int n;
  if( c->nBucketSize==0 ) c->nBucketSize = 1024*1024;
  if( c->nNodeSize==0 ) c->nNodeSize = 64*1024;
  n = c->nBucketSize;
  if( n<MIN_BUCKET_SIZE || n>MAX_BUCKET_SIZE || (n & (n-1)) ){
    return vlogSetError(p, VLOG_RANGE,
        "bucket size %d: must be a power of two from %d to %d",
        n, MIN_BUCKET_SIZE, MAX_BUCKET_SIZE);
  }
  n = c->nNodeSize;
  if( n<MIN_NODE_SIZE || n>MAX_NODE_SIZE || (n & (n-1)) || n>c->nBucketSize
   || c->nBucketSize/n>MAX_REGIONS ){
    return vlogSetError(p, VLOG_RANGE,
        "node size %d: must be a power of two from %d to %d, at most the "
        "bucket size and at least 1/%d of it", n, MIN_NODE_SIZE, MAX_NODE_SIZE,
        MAX_REGIONS);
  }
  if( c->eSync<VLOG_SYNC_OFF || c->eSync>VLOG_SYNC_FULL ){
    return vlogSetError(p, VLOG_RANGE, "sync level %d: must be 0, 1 or 2", c->eSync);
  }
  if( c->nCacheSize<0 || c->nAutoCheckpoint<0 || c->nBusyTimeout<0
   || c->nMmapSize<0 ){
    return vlogSetError(p, VLOG_RANGE, "negative cache size, checkpoint "
                        "threshold, busy timeout or mmap size");
  }
  return VLOG_OK;
}

/*
** Open the file: read-write (creating it when bCreate) unless the handle
** is read-only.  A file that exists but cannot be opened for writing (its
** permissions, read-only media) is opened read-only, and so is the
** handle.  A directory, or anything but a regular file, is refused by the
** env before it is opened (io.h).
*/
static int storeOpenFile(VlogStore *p){
  VlogEnv *pEnv = p->pEnv;
  const char *zPath = p->zPath;
  int rc, iErrno;
  errno = 0;
  if( p->cfg.bReadOnly ){
    rc = pEnv->xOpen(pEnv, zPath, VLOG_OPEN_READONLY, &p->pFile);
  }else{
    rc = pEnv->xOpen(pEnv, zPath, p->cfg.bCreate ? VLOG_OPEN_CREATE : 0, &p->pFile);
    if( rc==VLOG_CANTOPEN
     && pEnv->xOpen(pEnv, zPath, VLOG_OPEN_READONLY, &p->pFile)==VLOG_OK ){
      p->cfg.bReadOnly = 1;
      p->zReadOnly = "the file cannot be opened for writing (its permissions, "
                     "or read-only media)";
      rc = VLOG_OK;
    }
  }
  iErrno = errno;             /* env.xOpen keeps it as open() left it */
  switch( rc ){
    case VLOG_OK:
      return VLOG_OK;
    case VLOG_CANTOPEN_ISDIR:
      return vlogSetError(p, rc, "%s is a directory, not a vlog store", zPath);
    case VLOG_CANTOPEN_NOTREG:
      return vlogSetError(p, rc, "%s is not a regular file (a device, FIFO or "
                          "socket), not a vlog store", zPath);
    case VLOG_NOMEM:
      return vlogSetError(p, rc, 0);
  }
  /* the operating system's reason, when it gave one */
  return vlogSetError(p, rc, "cannot open %s: %s%s", zPath,
      iErrno ? strerror(iErrno) : vlogErrName(rc),
      (p->cfg.bCreate || p->cfg.bReadOnly) ? "" : " (and create is off)");
}

/*
** Is the file a store, or empty to become one?  Told from its first bytes
** before anything is written or created beside it (the -shm, whose first
** mapping writes to it), so that pointing a handle at a file of another
** kind changes nothing, not even the -shm of a live SQLite database in WAL
** mode.  A store that another handle is creating has zeros where
** superblock A goes until it is done (storeCreate, under EXCLUSIVE): zeros
** there are looked at again under SHARED.
*/
static int storeCheckFile(VlogStore *p){
  static const u8 aZero[16] = {0};
  u8 a[2][SB_SIZE];
  i64 nSize = 0;
  int bLocked = 0;
  int rc, i;
  while( 1 ){
    rc = p->pEnv->xSize(p->pFile, &nSize);
    if( rc ){
      rc = vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
      break;
    }
    if( nSize==0 ){
      if( p->cfg.bReadOnly || !p->cfg.bCreate ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is empty, not a vlog store", p->zPath);
      }
      break;
    }
    for(i=0; rc==VLOG_OK && i<2; i++){
      rc = p->pEnv->xRead(p->pFile, (i64)i*SB_SIZE, a[i], SB_SIZE);
      if( rc==VLOG_IOERR_SHORT_READ ) rc = VLOG_OK;   /* zero-filled */
    }
    if( rc ){
      rc = vlogSetError(p, rc, "cannot read %s (%s)", p->zPath, vlogErrName(rc));
      break;
    }
    if( memcmp(a[0], SB_MAGIC, 16)==0 || memcmp(a[1], SB_MAGIC, 16)==0 ){
      /* a store of another format is refused before the -shm is made */
      for(i=0; rc==VLOG_OK && i<2; i++){
        Superblock s;
        char zWhy[128];
        if( vlogSbDecodeWhy(a[i], SB_SIZE, &s, zWhy, sizeof(zWhy))==VLOG_FORMAT ){
          rc = vlogFormatError(p, zWhy);
        }
      }
      break;
    }
    if( bLocked || memcmp(a[0], aZero, 16)!=0 || p->cfg.bImmutable ){
      if( memcmp(a[0], "SQLite format 3", 16)==0 ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is a SQLite database, not a vlog "
                          "store", p->zPath);
      }else if( nSize<2*SB_SIZE ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is not a vlog store: %lld bytes "
                          "is too small for one", p->zPath, (long long)nSize);
      }else{
        rc = vlogSetError(p, VLOG_NOTADB, "%s is not a vlog store (no vlog "
                          "superblock at offset 0 or 4096)", p->zPath);
      }
      break;
    }
    rc = vlogStoreLock(p, VLOG_LOCK_SHARED);
    if( rc ) break;
    bLocked = 1;
  }
  if( bLocked ){
    int rc2 = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc==VLOG_OK && rc2 ){
      rc = vlogSetError(p, rc2, "cannot unlock %s (%s)", p->zPath, vlogErrName(rc2));
    }
  }
  return rc;
}

int vlogStoreOpen(
  VlogEnv *pEnv,
  const char *zPath,
  const VlogConfig *pConfig,
  VlogStore **ppStore
){
  VlogStore *p;
  int rc;
  i64 nSize = 0;

  *ppStore = 0;
  p = (VlogStore*)vlogMallocZero(pEnv, sizeof(VlogStore));
  if( p==0 ) return VLOG_NOMEM;
  *ppStore = p;
  p->pEnv = pEnv;
  p->nTxnLogMax = TXN_LOG_MAX;
  if( pConfig ){
    p->cfg = *pConfig;
  }else{
    vlogConfigDefault(&p->cfg);
  }
  p->zPath = vlogStrdup(pEnv, zPath);
  if( p->zPath==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  rc = checkConfig(p);
  if( rc ) return rc;

  if( p->cfg.bImmutable ) p->cfg.bReadOnly = 1;
  rc = storeOpenFile(p);
  if( rc==VLOG_OK ) rc = storeCheckFile(p);
  if( rc ) return rc;
  if( p->cfg.nMmapSize>0 ){
    rc = vlogStoreSetMmapSize(p, p->cfg.nMmapSize);
    if( rc ) return rc;
  }
  rc = vlogShmOpen(p);
  if( rc ) return rc;
  /* A published store loads without a lock, as a reader does. */
  rc = vlogStoreReadUnlocked(p);
  if( rc!=VLOG_NOTFOUND ){
    vlogShmReadEnd(p);
    return rc;
  }
  rc = vlogStoreLock(p, VLOG_LOCK_SHARED);
  if( rc==VLOG_OK ) rc = pEnv->xSize(p->pFile, &nSize);
  if( rc==VLOG_OK && nSize==0 ){
    if( p->cfg.bReadOnly || !p->cfg.bCreate ){
      rc = vlogSetError(p, VLOG_NOTADB, "%s is empty, not a vlog store", zPath);
    }else{
      /* Create under an EXCLUSIVE lock, and check again: another handle
      ** may have created it meanwhile. */
      rc = vlogStoreLock(p, VLOG_LOCK_EXCLUSIVE);
      if( rc==VLOG_OK ) rc = pEnv->xSize(p->pFile, &nSize);
      if( rc==VLOG_OK && nSize==0 ) rc = storeCreate(p);
      if( rc==VLOG_OK ) p->eTxn = 0;
      if( rc==VLOG_OK ){
        rc = vlogStoreUnlock(p, VLOG_LOCK_SHARED);
        if( rc ) rc = vlogSetError(p, rc, "cannot unlock %s (%s)", zPath, vlogErrName(rc));
      }else{
        (void)vlogStoreUnlock(p, VLOG_LOCK_SHARED);   /* rc says what failed */
      }
      if( rc==VLOG_OK && nSize!=0 ) rc = vlogStoreLoad(p);
    }
  }else if( rc==VLOG_OK ){
    rc = vlogStoreLoad(p);
  }
  if( rc==VLOG_OK ) vlogStoreTryPublish(p);
  if( rc==VLOG_OK ){
    rc = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc ) rc = vlogSetError(p, rc, "cannot unlock %s (%s)", zPath, vlogErrName(rc));
  }else{
    (void)vlogStoreUnlock(p, VLOG_LOCK_NONE);         /* rc says what failed */
  }
  return rc;
}

/*
** At close, a journal of CLOSE_CHECKPOINT bytes or more is checkpointed, so
** that the next open does not replay it (replay costs about what the
** commits did).  Only when automatic checkpoints are on, never waiting for
** a lock, and failures are ignored: the journal keeps every commit anyway.
*/
#define CLOSE_CHECKPOINT (1024*1024)
static void closeCheckpoint(VlogStore *p){
  int nBusy = p->cfg.nBusyTimeout;
  i64 nLimit = p->cfg.nAutoCheckpoint;
  if( p->eTxn!=0 || p->cfg.bReadOnly || nLimit<=0 || !p->bValid ) return;
  if( nLimit>CLOSE_CHECKPOINT ) nLimit = CLOSE_CHECKPOINT;
  p->cfg.nBusyTimeout = 0;
  if( vlogBegin(p, 0)==VLOG_OK ){
    int bBig = p->jrnl.nSize>=nLimit;
    (void)vlogRollback(p);            /* ends the read transaction */
    if( bBig ) (void)vlogCheckpoint(p);           /* ignored: see above */
  }
  p->cfg.nBusyTimeout = nBusy;
}

/*
** Close the handle: an open write transaction is rolled back (its error,
** or that of the unlock or the file's close, is returned), and every
** resource is freed whatever happens.
*/
int vlogStoreClose(VlogStore *p){
  int rc = VLOG_OK, rc2;
  if( p==0 ) return VLOG_OK;
  if( p->eTxn==2 ) rc = vlogRollback(p);
  if( p->pFile ) closeCheckpoint(p);
  while( p->pCursors ) vlogCursorClose(p->pCursors);
  vlogStoreReset(p);
  vlogTxnLogClear(p);
  p->eHold = VLOG_LOCK_NONE;
  if( p->pFile ){
    rc2 = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc==VLOG_OK ) rc = rc2;
    vlogShmClose(p);
    rc2 = p->pEnv->xClose(p->pFile);
    if( rc==VLOG_OK ) rc = rc2;
  }
  vlogFree(p->pEnv, p->apHash);
  vlogAllocFree(p);
  vlogFree(p->pEnv, p->wb.a);
  vlogBufFree(p->pEnv, &p->wbJrnl);
  vlogJournalClose(p);
  vlogBufFree(p->pEnv, &p->getBuf);
  vlogBufFree(p->pEnv, &p->encBuf);
  vlogLogClose(p);
  vlogFree(p->pEnv, p->zPath);
  vlogFree(p->pEnv, p->zErr);
  vlogFree(p->pEnv, p);
  return rc;
}

