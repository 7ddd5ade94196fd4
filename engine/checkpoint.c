/*
** checkpoint.c: writing the trees to the file and trimming the journal.
**
** DESIGN NOTE
**
** A checkpoint makes the file's trees hold everything committed, so that
** recovery need not replay the journal written before it:
**
**   1. flush the write buffer into the trees;
**   2. write every dirty node, children before parents (by level, in
**      passes, since writing a node dirties its parent, and writing a root
**      dirties the roots tree, and allocating node space dirties the alloc
**      tree through the write buffer); repeat 1-2 until nothing is dirty;
**   3. sync (new nodes are durable before anything points to them);
**   4. write the superblock to the other slot: sequence + 1, the roots
**      tree's root, the journal position where the next entry goes; sync;
**   5. now durable: regions superseded before the previous checkpoint are
**      free (those superseded since stay held for it), zombies held for
**      the previous checkpoint are free and the others held (alloc.c,
**      "Two checkpoints"), journal buckets before the current one become
**      zombies held for the previous checkpoint only, and FREE buckets at
**      the end of the file are cut off (truncate).
**
** Nodes are written copy-on-write (btree.c), never over bytes the durable
** superblock reaches, so a crash anywhere before step 4 completes leaves
** the previous checkpoint and its journal intact; after it, the new one.
** The work is bounded by the dirty nodes, which the automatic checkpoint
** (journal size threshold, txn.c) keeps bounded.
**
** A checkpoint holds the EXCLUSIVE lock.  First (step 0) it asks the
** reader table (shm.c) whether a reader still uses a checkpoint older than
** the current one, whose regions this one may reuse: then VLOG_BUSY, before
** anything is written.  At the end it publishes the new checkpoint there.
** If it fails later, the handle's caches no longer match the file and are
** reloaded at the next transaction.
*/
#include <stdlib.h>
#include "storeInt.h"

static int levelCmp(const void *a, const void *b){
  const Node *x = *(const Node**)a, *y = *(const Node**)b;
  assert( x->iLevel<32 && y->iLevel<32 );
  return (int)x->iLevel - (int)y->iLevel;
}

/* One pass over the dirty nodes, lowest level first.  *pnDone counts the
** nodes written. */
static int writePass(VlogStore *p, int *pnDone){
  Node *pN;
  Node **apNode;
  int n = 0, i, rc = VLOG_OK;

  assert( p->eLock==VLOG_LOCK_EXCLUSIVE );
  for(pN=p->pDirty; pN; pN=pN->pDirtyNext) n++;
  *pnDone = 0;
  if( n==0 ) return VLOG_OK;
  apNode = (Node**)vlogMalloc(p->pEnv, sizeof(Node*)*n);
  if( apNode==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  n = 0;
  for(pN=p->pDirty; pN; pN=pN->pDirtyNext){
    pN->bInDirty = 0;
    apNode[n++] = pN;
    vlogNodeRef(p, pN);
  }
  p->pDirty = 0;
  qsort(apNode, n, sizeof(Node*), levelCmp);
  for(i=0; i<n; i++){
    /* children before parents: a parent is written after every child it
    ** had dirty, whose new pointer it then holds */
    assert( i==0 || apNode[i-1]->iLevel<=apNode[i]->iLevel );
    if( rc==VLOG_OK && apNode[i]->bDirty && !apNode[i]->bDead ){
      rc = vlogNodeWrite(p, apNode[i]);
      assert( rc || !apNode[i]->bDirty );
      (*pnDone)++;
    }
  }
  for(i=0; i<n; i++) vlogNodeUnref(p, apNode[i]);
  vlogFree(p->pEnv, apNode);
  return rc;
}

/* Record the entries of trees that became empty, were cleared or dropped,
** or whose flags or policy changed; those whose root is dirty are recorded
** when it is written (vlogNodeWrite). */
static int saveEmptyTrees(VlogStore *p){
  Tree *pT;
  int rc = VLOG_OK;
  for(pT=p->pTrees; rc==VLOG_OK && pT; pT=pT->pNext){
    if( (pT->bEntryDirty || (pT->nLevel==0 && pT->nSavedLevel!=0))
     && (pT->pRoot==0 || !pT->pRoot->bDirty) ){
      rc = vlogTreeSaveRoot(p, pT);
    }
  }
  if( rc==VLOG_OK && p->rootsTree.nLevel==0 ){
    p->sb.rootsRoot.gen = 0;
    p->sb.rootsRoot.off = 0;
    p->sb.rootsRoot.len = 0;
    p->sb.rootsLevel = 1;
  }
  return rc;
}

int vlogCheckpointInternal(VlogStore *p){
  int rc, nDone, nPass = 0;
  u64 i, iCur, nKeep;
  i64 nFile = 0;

  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && p->bValid && !p->cfg.bReadOnly );
  assert( !p->bPrepared && !p->bReplay && !p->bPoison );
  /* 0: no reader may still use what this checkpoint frees (shm.c) */
  rc = vlogShmCheckReaders(p);
  if( rc ) return rc;
  /* 1-2 */
  do{
    rc = saveEmptyTrees(p);
    if( rc==VLOG_OK ) rc = vlogWbFlush(p, 1);
    if( rc==VLOG_OK ) rc = writePass(p, &nDone);
    if( rc==VLOG_OK && ++nPass>64 ){
      rc = vlogSetError(p, VLOG_ERROR, "checkpoint does not converge (internal error)");
    }
  }while( rc==VLOG_OK && (nDone>0 || p->wb.n>0 || p->pDirty) );
  if( rc ) goto failed;
  /* every change is in a written node: nothing dirty, nothing buffered */
  assert( p->pDirty==0 && p->wb.n==0 );
  if( p->rootsTree.nLevel>0 && p->rootsTree.pRoot ){
    p->sb.rootsRoot.gen = p->rootsTree.pRoot->gen;
    p->sb.rootsRoot.off = p->rootsTree.pRoot->iOff;
    p->sb.rootsRoot.len = p->rootsTree.pRoot->nDisk;
    p->sb.rootsLevel = p->rootsTree.nLevel;
  }

  /* 3 */
  if( p->cfg.eSync!=VLOG_SYNC_OFF ){
    rc = p->pEnv->xSync(p->pFile);
    if( rc ){
      vlogSetError(p, rc, "cannot sync the checkpoint's nodes (%s)", vlogErrName(rc));
      goto failed;
    }
  }

  /* 4 */
  p->sb.iSeq++;
  p->sb.iJrnlOff = p->jrnl.iOff;
  p->sb.iJrnlSeq = p->jrnl.iSeq;
  p->sb.iCkptTime = (u64)p->pEnv->xNow(p->pEnv);
  rc = vlogSbWrite(p);
  if( rc ){
    p->sb.iSeq--;
    goto failed;
  }
  p->wbJrnl.n = 0;            /* all captured by the checkpoint */
  p->jrnl.nSize = 0;
  p->jrnl.iDurable = p->jrnl.iSeq - 1;
  p->jrnl.iSyncedHdrDurable = p->jrnl.iHdrDurable;   /* synced at 3 and 4 */
  p->nCheckpoint++;
  assert( p->sb.iJrnlSeq==p->jrnl.iSeq && p->sb.iJrnlOff==p->jrnl.iOff );

  /* 5 */
  rc = vlogAllocAfterCheckpoint(p);
  iCur = p->jrnl.iOff / p->sb.nBucketSize;
  p->jrnl.iFirstBucket = iCur;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    if( p->aBucket[i].eKind==KIND_JOURNAL && i!=iCur
     && p->aBucket[i].eState!=BUCKET_FREE ){
      rc = vlogBucketRetire(p, i, KIND_JOURNAL, 1);
    }
  }
  nKeep = p->sb.nBucket;
  while( nKeep>2 && p->aBucket[nKeep-1].eState==BUCKET_FREE ) nKeep--;
  if( rc==VLOG_OK ){
    rc = p->pEnv->xSize(p->pFile, &nFile);
    if( rc ) vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
  }
  if( rc==VLOG_OK && (u64)nFile > nKeep*p->sb.nBucketSize ){
    /* Only FREE buckets go: the durable superblock reaches none of them. */
    rc = p->pEnv->xTruncate(p->pFile, (i64)(nKeep*p->sb.nBucketSize));
    if( rc ){
      vlogSetError(p, rc, "cannot truncate %s (%s)", p->zPath, vlogErrName(rc));
    }else{
      p->sb.nBucket = nKeep;
      if( p->iOpenBtree>=nKeep ) p->iOpenBtree = 0;
    }
  }
  if( rc ) goto failed;
  vlogShmPublish(p);
#ifdef VLOG_DEBUG
  /* a checkpoint inside a write transaction (not the one that creates the
  ** store) leaves every structure sound: check.c */
  assert( p->eTxn!=2 || vlogStoreCheckOk(p) );
#endif
  return VLOG_OK;

 failed:
  p->bValid = 0;
  return rc;
}

int vlogCheckpoint(VlogStore *p){
  int rc;
  int eTxn = p->eTxn;
  if( eTxn==2 ){
    return vlogSetError(p, VLOG_MISUSE,
        "cannot checkpoint inside a write transaction: commit first");
  }
  if( p->cfg.bReadOnly ) return vlogReadOnlyError(p);
  rc = vlogBegin(p, 1);
  if( rc ) return rc;
  rc = vlogStoreLockWrite(p);
  if( rc==VLOG_OK ){
    /* Bring in what others committed before writing our view. */
    rc = vlogStoreRefresh(p);
  }
  if( rc==VLOG_OK ) rc = vlogCheckpointInternal(p);
  /* End the transaction without committing anything new.  A handle that
  ** loads this checkpoint derives the state changes of step 5 again (or
  ** keeps the zombies longer: alloc.c), and those of a
  ** checkpoint that failed half-way describe node space that no
  ** superblock reaches: neither is journaled. */
  p->wbJrnl.n = 0;
  if( rc==VLOG_OK ){
    if( !p->maint.bBusy ) p->maint.bKick = 1;    /* maintenance (maint.c) */
    rc = vlogCommit(p);
  }else{
    (void)vlogRollback(p);          /* no change to undo; rc says what failed */
  }
  if( eTxn==1 ){
    int rc2 = vlogBegin(p, 0);
    if( rc==VLOG_OK ) rc = rc2;
  }
  return rc;
}
