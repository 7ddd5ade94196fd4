/*
** txn.c: transactions, savepoints, and the key/value calls of engine.h.
**
** DESIGN NOTE
**
** Each handle has its own node cache, so a write transaction changes the
** cached nodes directly: other handles cannot see them, and this handle
** sees its own changes, as a SQLite connection does.  Every change is
** logged twice (TxnLog in storeInt.h):
**   - a redo record, which the commit writes to the journal;
**   - an undo record with the value before, which rollback applies in
**     reverse order.
** A savepoint is a mark in both logs; rolling back to it undoes the undo
** records after the mark and truncates the redo log there.  Trees exempt
** from savepoints (vlogStoreSavepointExempt: the VFS's pages, which
** SQLite's pager rolls back itself) keep their changes: their undo and
** redo records after the mark are moved down to follow it, so that a
** rollback of the whole transaction still undoes them; a tree change's
** TreeUndo slot may then be undone below a kept one (bUndone).
**
** Tree changes (REC_TREE: creation, policy, clear, drop) are logged the
** same way, but their undo record names a slot (TreeUndo) that keeps what
** the change replaced: the tree's flags and policy, and for a clear or a
** drop its root, still pinned, instead of a before-image per key.  Undo
** records are undone newest first, so when a clear is undone every change
** made to the tree after it already is, and the tree is empty again.  The
** commit frees the nodes of what was cleared (vlogTxnTreesFree, called by
** the value log's accounting, which walks their leaves).
**
** Size.  The logs live in memory, in buffers indexed by int.  Neither may
** pass VlogStore.nTxnLogMax bytes (TXN_LOG_MAX, 1 GiB; tests lower it): a
** change that would is VLOG_FULL, "transaction too large", before any
** length can wrap, and it leaves the transaction as it was, open, so the
** caller can undo its statement and commit.  The commit's journal payload
** (the redo log, the extents written and the write-buffer records) then
** stays below 2 GiB too.  Values in the value log cost the logs only
** their pointers; a clear or drop costs a record.
**
** Commit: EXCLUSIVE lock (no reader that uses file locks in the middle
** of a transaction), journal entry (journal.c), publication in the reader
** table (shm.c: readers that use it take it from there on), release.
** vlogCommitPrepare() is the commit without the publication, for SQLite's
** two phases: until vlogCommit() nobody else sees it, and vlogRollback()
** takes it back by zeroing its first entry's header (commitRevoke).  If
** writing the entry fails, its header is zeroed the same way (a write or
** sync that reports an error may have put the bytes in the file all the
** same, and the caller was told the commit failed), the changes are
** undone in memory and the handle reloads from the file at its next
** transaction, so memory never claims more than the file.
** Whether a commit that failed in its sync survives a crash is open, as
** for SQLite.
**
** Locks: none for a read transaction (SHARED when the reader table cannot
** serve), RESERVED for a write transaction, EXCLUSIVE during commit and
** checkpoint.  A read transaction that began without a lock becomes a
** write one only if no commit came in since (upgradeUnlocked).  Calls
** outside a transaction run in one of their own.
**
** Held locks (vlogStoreHold, for the VFS): SQLite's pager decides the lock
** level (eHold) and the engine's transactions run under it.  A read
** transaction then takes no lock and no reader slot (the pager's SHARED
** protects it), a write one takes what it needs above the held level and
** its end gives back only that (txnEnd unlocks to eHold; at RESERVED or
** above nothing, and the next commit under the same EXCLUSIVE bumps the
** change counter again, so no other handle misses it).
*/
#include "storeInt.h"

/* ---------------------------------------------------------------------
** The transaction log
*/
/*
** Append record r to log pBuf (redo or undo).  A log may not pass
** p->nTxnLogMax bytes (TXN_LOG_MAX): the transaction's changes are held in
** memory, and its ints (and the commit's journal payload) must not wrap.
** The error leaves the transaction open and as it was, so that the
** caller (SQLite: the statement) can undo what it did and commit.
*/
static int logAppend(VlogStore *p, VlogBuf *pBuf, const LogRec *r){
  int rc;
  i64 nMax = 1 + 4*10 + (i64)r->nKey + (i64)r->nVal;   /* bytes, at most */
  if( (i64)pBuf->n + nMax > p->nTxnLogMax ){
    return vlogSetError(p, VLOG_FULL, "transaction too large: its changes would "
        "take more than %lld bytes of memory, the most one transaction may log; "
        "commit it in smaller transactions", (long long)p->nTxnLogMax);
  }
  rc = vlogRecEncode(p->pEnv, pBuf, r);
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

static int logRecord(VlogStore *p, VlogBuf *pBuf, int op, u32 iTree,
                     const u8 *pKey, int nKey, const u8 *pVal, int nVal){
  const LogRec r = { .eOp = op, .iTree = iTree, .pKey = pKey, .nKey = nKey,
                     .pVal = pVal, .nVal = nVal };
  return logAppend(p, pBuf, &r);
}

/* Note that the undo record just appended at byte iUndo exists. */
static int undoPush(VlogStore *p, int iUndo){
  TxnLog *pLog = &p->log;
  if( pLog->nUndo>=pLog->nUndoAlloc ){
    int nNew = pLog->nUndoAlloc ? pLog->nUndoAlloc*2 : 64;
    int *aNew = (int*)vlogRealloc(p->pEnv, pLog->aUndoOff, sizeof(int)*(size_t)nNew);
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pLog->aUndoOff = aNew;
    pLog->nUndoAlloc = nNew;
  }
  pLog->aUndoOff[pLog->nUndo++] = iUndo;
  return VLOG_OK;
}

/* Decode the record at a[0..n) of this handle's own log (it cannot be
** malformed: an assert, and VLOG_CORRUPT in release builds). */
static int logDecode(VlogStore *p, const u8 *a, int n, LogRec *pRec, int *pnUsed){
  int rc = vlogRecDecode(a, n, pRec, pnUsed);
  assert( rc==VLOG_OK );
  return rc ? vlogSetError(p, VLOG_CORRUPT_BKPT, "the transaction log is damaged "
                           "(internal error)") : VLOG_OK;
}

/* Forget the REC_TREE undo slots, unpinning the roots they hold. */
static void treeSlotsClear(VlogStore *p){
  TxnLog *pLog = &p->log;
  int i;
  for(i=0; i<pLog->nTree; i++){
    if( pLog->aTree[i].pRoot ) vlogNodeUnref(p, pLog->aTree[i].pRoot);
  }
  vlogFree(p->pEnv, pLog->aTree);
  pLog->aTree = 0;
  pLog->nTree = pLog->nTreeAlloc = 0;
}

void vlogTxnLogClear(VlogStore *p){
  TxnLog *pLog = &p->log;
  treeSlotsClear(p);
  vlogBufFree(p->pEnv, &pLog->redo);
  vlogBufFree(p->pEnv, &pLog->undo);
  vlogFree(p->pEnv, pLog->aUndoOff);
  memset(pLog, 0, sizeof(*pLog));
}

/*
** Apply one change (REC_PUT or REC_DELETE) to the trees; with bLog, log
** it for the journal and for rollback first.
*/
int vlogTxnApply(VlogStore *p, int op, u32 iTree, const u8 *pKey, int nKey,
                 const u8 *pVal, int nVal, int bLog){
  int rc;
  if( bLog ){
    TxnLog *pLog = &p->log;
    const u8 *pOld = 0;
    int nOld = 0;
    int iUndo = pLog->undo.n;
    rc = vlogBtreeLookup(p, iTree, pKey, nKey, &pOld, &nOld);
    if( rc==VLOG_OK && p->bInsertOnly && op==REC_PUT ){
      return VLOG_CONSTRAINT;                 /* vlogInsertEx: the key exists */
    }
    if( rc==VLOG_NOTFOUND ){
      if( op==REC_DELETE ) return VLOG_OK;    /* nothing to delete */
      rc = logRecord(p, &pLog->undo, REC_DELETE, iTree, pKey, nKey, 0, 0);
    }else if( rc==VLOG_OK ){
      rc = logRecord(p, &pLog->undo, REC_PUT, iTree, pKey, nKey, pOld, nOld);
    }
    if( rc==VLOG_OK ) rc = undoPush(p, iUndo);
    if( rc==VLOG_OK ){
      int iRedo = pLog->redo.n;
      rc = logRecord(p, &pLog->redo, op, iTree, pKey, nKey, pVal, nVal);
      if( rc ){
        /* an append that failed may have left part of its record */
        pLog->redo.n = iRedo;
        pLog->nUndo--;
        pLog->undo.n = iUndo;
      }else{
        pLog->nRedoRec++;
      }
    }else{
      pLog->undo.n = iUndo;
    }
    if( rc ) return rc;
  }
  rc = vlogBtreeInsert(p, iTree, pKey, nKey, pVal, nVal,
                       op==REC_PUT ? ENTRY_PUT : ENTRY_WHITEOUT);
  if( rc && bLog ){
    /* A split or merge may have stopped half-way: the trees in memory are
    ** no longer a state of the store.  The change is in the logs; only
    ** a rollback (to a savepoint) can repair this, by reloading. */
    p->bPoison = 1;
  }
  return rc;
}

/* Apply undo record r (decoded from the undo log), logging nothing. */
static int undoApply(VlogStore *p, const LogRec *r){
  if( r->eOp==REC_TREE ) return vlogTxnTreeApply(p, r, 0);
  return vlogTxnApply(p, r->eOp, r->iTree, r->pKey, r->nKey, r->pVal, r->nVal, 0);
}

/* Undo the undo records [iFrom, nUndo), newest first. */
static int undoTo(VlogStore *p, int iFrom){
  TxnLog *pLog = &p->log;
  int rc = VLOG_OK;
  while( pLog->nUndo>iFrom ){
    int iOff = pLog->aUndoOff[--pLog->nUndo];
    LogRec r;
    int nUsed;
    int r2 = logDecode(p, &pLog->undo.a[iOff], pLog->undo.n-iOff, &r, &nUsed);
    if( r2==VLOG_OK ) r2 = undoApply(p, &r);
    if( rc==VLOG_OK ) rc = r2;
    pLog->undo.n = iOff;
  }
  return rc;
}

/*
** Undo the tree change whose TreeUndo is slot iSlot: the tree's flags and
** policy as they were, and for a clear or drop its keys (all changes made
** to the tree after it are undone already, so the tree is empty).  The
** slot is the newest but for those a savepoint rollback kept
** (vlogRollbackTo: changes to exempt trees), which are other trees'.
*/
static int treeUndo(VlogStore *p, u32 iSlot){
  TxnLog *pLog = &p->log;
  TreeUndo u;
  Tree *pT;
  int rc;
  assert( (int)iSlot<pLog->nTree && !pLog->aTree[iSlot].bUndone );
  if( (int)iSlot>=pLog->nTree || pLog->aTree[iSlot].bUndone ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "the transaction log is damaged "
                        "(internal error)");
  }
  u = pLog->aTree[iSlot];
  pLog->aTree[iSlot].bUndone = 1;
  pLog->aTree[iSlot].pRoot = 0;
  while( pLog->nTree>0 && pLog->aTree[pLog->nTree-1].bUndone ) pLog->nTree--;
  rc = vlogTreeGet(p, u.iTree, 1, &pT);
  if( rc==VLOG_OK && u.bKeys && (pT->nLevel!=0 || pT->pRoot!=0
                                 || (u.pRoot==0 && u.nLevel>0)) ){
    rc = vlogSetError(p, VLOG_ERROR, "cannot give tree %u its keys back "
                      "(internal error)", u.iTree);
  }
  if( rc ){
    if( u.pRoot ) vlogNodeUnref(p, u.pRoot);
    return rc;
  }
  pT->mFlags = u.mFlags;
  pT->pol = u.pol;
  pT->bEntryDirty = u.bEntryDirty;
  if( u.bKeys ) vlogTreeGiveKeys(p, pT, u.pRoot, u.nLevel, &u.root);
  return VLOG_OK;
}

/*
** Apply one REC_TREE change r to the trees (TOP_UNDO: from the undo log);
** with bLog, log it for the journal and, in a TreeUndo slot, for rollback
** first.  A clear or drop that is logged keeps the tree's root in its slot
** until commit (vlogTxnTreesFree) or rollback; one replayed (bLog 0) frees
** the nodes at once.
*/
int vlogTxnTreeApply(VlogStore *p, const LogRec *r, int bLog){
  TxnLog *pLog = &p->log;
  TreeUndo *pU = 0;
  Tree *pT;
  int rc;
  assert( r->eOp==REC_TREE );
  if( r->eTreeOp==TOP_UNDO ) return treeUndo(p, r->iSlot);
  rc = vlogTreeGet(p, r->iTree, 1, &pT);
  if( rc ) return rc;
  if( bLog ){
    const LogRec u = { .eOp = REC_TREE, .iTree = r->iTree, .eTreeOp = TOP_UNDO,
                       .iSlot = (u32)pLog->nTree };
    int iUndo = pLog->undo.n;
    if( pLog->nTree>=pLog->nTreeAlloc ){
      int nNew = pLog->nTreeAlloc ? pLog->nTreeAlloc*2 : 8;
      TreeUndo *aNew = (TreeUndo*)vlogRealloc(p->pEnv, pLog->aTree,
                                              sizeof(TreeUndo)*(size_t)nNew);
      if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
      pLog->aTree = aNew;
      pLog->nTreeAlloc = nNew;
    }
    rc = logAppend(p, &pLog->undo, &u);
    if( rc==VLOG_OK ) rc = undoPush(p, iUndo);
    if( rc==VLOG_OK ){
      int iRedo = pLog->redo.n;
      rc = logAppend(p, &pLog->redo, r);
      if( rc ){
        pLog->redo.n = iRedo;              /* no part of the record stays */
        pLog->nUndo--;
      }
    }
    if( rc ){
      pLog->undo.n = iUndo;
      return rc;
    }
    pLog->nRedoRec++;
    pU = &pLog->aTree[pLog->nTree++];
    memset(pU, 0, sizeof(*pU));
    pU->iTree = r->iTree;
    pU->mFlags = pT->mFlags;
    pU->pol = pT->pol;
    pU->bEntryDirty = pT->bEntryDirty;
  }
  if( r->eTreeOp==TOP_POLICY ){
    pT->mFlags = r->mTreeFlags;
    pT->pol = r->pol;
    pT->bEntryDirty = 1;
  }else{
    Node *pRoot = 0;
    u32 nLevel = pT->nLevel;
    NodePtr root = pT->root;
    rc = vlogTreeTakeKeys(p, pT, &pRoot);
    if( rc==VLOG_OK && pU ){
      pU->bKeys = 1;
      pU->nLevel = nLevel;
      pU->root = root;
      pU->pRoot = pRoot;
    }else if( rc==VLOG_OK ){
      rc = vlogTreeFreeNodes(p, pRoot, 0);
    }
    if( r->eTreeOp==TOP_DROP ){
      pT->mFlags = 0;
      vlogTreePolicyDefault(&pT->pol);
    }
  }
  if( rc && bLog ) p->bPoison = 1;   /* logged, not done: see vlogTxnApply */
  return rc;
}

/*
** At commit (vlog.c, vlogLogCommit, after the new pointers were counted
** live): free the nodes of the trees that the transaction cleared or
** dropped, xStale counting their value-log records stale.
*/
int vlogTxnTreesFree(VlogStore *p, int (*xStale)(VlogStore*, u64, u64)){
  TxnLog *pLog = &p->log;
  int rc = VLOG_OK, i;
  for(i=0; i<pLog->nTree; i++){
    TreeUndo *pU = &pLog->aTree[i];
    if( pU->pRoot ){
      int rc2 = vlogTreeFreeNodes(p, pU->pRoot, xStale);
      pU->pRoot = 0;
      if( rc==VLOG_OK ) rc = rc2;
    }
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Transactions
*/
/*
** End the transaction, whatever its kind, and release the file lock.
** Returns the unlock's error (with a message) or VLOG_OK; the transaction
** has ended either way.
*/
static int txnEnd(VlogStore *p){
  int rc;
  assert( p->eTxn>=0 && p->eTxn<=2 );
  assert( !p->bPrepared );
  assert( p->bFastRead==0 || p->eTxn==1 );
  vlogTxnLogClear(p);
  p->nTxnUserBytes = 0;
  vlogLogTxnStart(p);
  if( p->bPoison ){
    p->bValid = 0;
    p->bPoison = 0;
  }
  p->eTxn = 0;
  p->bAutoTxn = 0;
  if( p->bFastRead ){
    vlogShmReadEnd(p);
    p->bFastRead = 0;
  }
  if( p->eHold>=VLOG_LOCK_RESERVED ){
    /* The VFS's lock stays; the next commit under it bumps the change
    ** counter again, so that no other handle can miss it. */
    p->bChangeBumped = 0;
    rc = VLOG_OK;
  }else{
    rc = vlogStoreUnlock(p, p->eHold);
  }
  vlogCacheShrink(p);
  assert( p->eLock>=p->eHold && p->eTxn==0 );
  assert( p->eHold>=VLOG_LOCK_RESERVED || p->eLock==p->eHold );
  if( rc ) rc = vlogSetError(p, rc, "cannot unlock %s (%s)", p->zPath, vlogErrName(rc));
  return rc;
}

int vlogTxnState(VlogStore *p){ return p->eTxn; }

uint64_t vlogTxnCount(VlogStore *p){ return p->nTxnBegun; }

int vlogCommitLock(VlogStore *p){
  if( p->eTxn!=2 ) return VLOG_MISUSE;
  return vlogStoreLockWrite(p);
}

int vlogTxnIsEmpty(VlogStore *p){
  return p->eTxn==2 && !p->bPrepared && p->log.nRedoRec==0 && p->wbJrnl.n==0;
}

/*
** SQLite's lock level, held by a VFS (engine.h).  Raising takes the file
** lock in one attempt; lowering first needs the transactions the lock
** protected to be ended: a write one below RESERVED, any below SHARED.
*/
int vlogStoreHold(VlogStore *p, int eLevel){
  int rc = VLOG_OK;
  assert( eLevel>=VLOG_LOCK_NONE && eLevel<=VLOG_LOCK_EXCLUSIVE );
  assert( eLevel!=VLOG_LOCK_PENDING );
  assert( !p->bPrepared || p->eLock==VLOG_LOCK_EXCLUSIVE );
  if( p->bFastRead && eLevel!=p->eHold ){
    /* a read transaction of the reader table (a virtual table's, while
    ** the VFS holds no level: WAL mode) is open: it must end first */
    return vlogSetError(p, VLOG_BUSY, "%s: a read transaction is open",
                        p->zPath);
  }
  if( eLevel>p->eHold ){
    if( eLevel>VLOG_LOCK_SHARED && p->cfg.bReadOnly ) return vlogReadOnlyError(p);
    if( eLevel>VLOG_LOCK_SHARED && p->eLock<VLOG_LOCK_SHARED ){
      return vlogSetError(p, VLOG_MISUSE, "lock level %d without SHARED", eLevel);
    }
    if( p->eLock<eLevel ) rc = vlogStoreLockNoWait(p, eLevel);
    if( rc==VLOG_OK ) p->eHold = eLevel;
  }else if( eLevel<p->eHold ){
    if( p->eTxn==1 && eLevel==VLOG_LOCK_NONE ){
      return vlogSetError(p, VLOG_MISUSE, "lock lowered to %d inside a "
                          "read transaction", eLevel);
    }
    p->eHold = eLevel;
    /* A write transaction keeps what it holds until txnEnd() */
    if( p->eTxn!=2 && eLevel<=VLOG_LOCK_SHARED && p->eLock>eLevel ){
      rc = vlogStoreUnlock(p, eLevel);
      if( rc ) vlogSetError(p, rc, "cannot unlock %s (%s)", p->zPath, vlogErrName(rc));
    }
  }
  assert( p->eLock>=p->eHold );
  return rc;
}

/*
** Upgrade a read transaction that holds no file lock (shm.c) to a write
** transaction: take the file locks a writer holds, then make sure no
** commit came in since the snapshot was taken.
*/
static int upgradeUnlocked(VlogStore *p){
  int rc;
  assert( p->eTxn==1 && p->bFastRead && p->eLock==VLOG_LOCK_NONE );
  rc = vlogStoreLockWriter(p);
  if( rc==VLOG_OK && !vlogShmIsCurrent(p) ){
    rc = vlogSetError(p, VLOG_BUSY,
        "%s: another handle committed since this read transaction began; "
        "end it and begin again to write", p->zPath);
  }
  /* A commit written but never published (its writer died) is applied. */
  if( rc==VLOG_OK ) rc = vlogStoreRefresh(p);
  if( rc ){
    (void)vlogStoreUnlock(p, VLOG_LOCK_NONE);       /* rc says what failed */
    return rc;
  }
  vlogShmReadEnd(p);            /* SHARED protects it now */
  p->bFastRead = 0;
  assert( p->eLock==VLOG_LOCK_RESERVED );
  return VLOG_OK;
}

int vlogBegin(VlogStore *p, int bWrite){
  int rc;
  int bBegan = 0;                /* this call began the read transaction */
  assert( bWrite==0 || bWrite==1 );
  assert( p->eTxn>=0 && p->eTxn<=2 && (!p->bPrepared || p->eTxn==2) );
  /* no lock outside one, but the VFS's */
  assert( p->eTxn!=0 || p->eLock==p->eHold || p->eHold>=VLOG_LOCK_RESERVED );
  if( p->eTxn==2 || (p->eTxn==1 && !bWrite) ) return VLOG_OK;
  if( bWrite && p->cfg.bReadOnly ) return vlogReadOnlyError(p);
  if( p->eTxn==0 && !bWrite && p->eHold==VLOG_LOCK_NONE ){
    rc = vlogStoreReadUnlocked(p);
    if( rc==VLOG_OK ){
      p->eTxn = 1;
      p->bFastRead = 1;
      p->nReadUnlocked++;
      p->nTxnBegun++;
      return VLOG_OK;
    }
    if( rc!=VLOG_NOTFOUND ) return rc;
  }
  if( p->eTxn==0 ){
    if( p->eHold ){
      rc = VLOG_OK;              /* SQLite's lock, the VFS's, protects it */
    }else{
      /* A writer waits for the writer lock holding no lock (store.c) */
      rc = bWrite ? vlogStoreLockWriter(p) : vlogStoreLock(p, VLOG_LOCK_SHARED);
    }
    if( rc==VLOG_OK ) rc = vlogStoreRefresh(p);
    if( rc ){
      /* rc says what failed */
      if( p->eHold==VLOG_LOCK_NONE ) (void)vlogStoreUnlock(p, VLOG_LOCK_NONE);
      return rc;
    }
    p->eTxn = 1;
    p->nTxnBegun++;
    bBegan = 1;
    if( !bWrite ){
      p->nReadLocked++;
      vlogStoreTryPublish(p);
    }
  }
  if( bWrite ){
    /* A read transaction with SHARED held does not wait for RESERVED:
    ** the writer holding it needs that SHARED gone to commit. */
    rc = p->bFastRead ? upgradeUnlocked(p) : vlogStoreLock(p, VLOG_LOCK_RESERVED);
    if( rc ){
      /* rc says what failed (only a VFS's SHARED fails here, on a
      ** transaction this call began) */
      if( p->eTxn==1 && (p->bAutoTxn || bBegan) ) (void)txnEnd(p);
      return rc;
    }
    /* The writer keeps the reader table true (after a crash, say). */
    vlogStoreTryPublish(p);
    /* The journal gets the write-buffer records of this transaction only.
    ** Records made outside one (corrections derived at load, the state
    ** changes after a checkpoint, those of a transaction rolled back) stay
    ** in the buffer, for this handle's view and its next checkpoint, but
    ** are never journaled: journaled by a later commit, after other
    ** handles' commits, they would undo those (issue 12: a bucket that
    ** another handle's rollover took for the journal, marked FREE again by
    ** a stale record, was taken again and the published chain broke). */
    p->wbJrnl.n = 0;
    p->eTxn = 2;
    vlogLogTxnStart(p);
  }
  /* a write transaction holds RESERVED, a read one SHARED or a reader
  ** slot; both start from a state the file has */
  assert( p->eTxn==1+bWrite && p->bValid );
  assert( bWrite ? p->eLock>=VLOG_LOCK_RESERVED && !p->bFastRead
                 : p->bFastRead || p->eLock>=VLOG_LOCK_SHARED );
  return VLOG_OK;
}

/*
** The autocommit wrapper, for every call of engine.h that may be made
** outside a transaction: it runs in one of its own.  vlogAutoBegin()
** begins what the call needs, a read transaction or a write one (bWrite);
** inside a read transaction a write upgrades it, and the transaction
** stays the caller's.  *pbAuto is set when it began one, which
** vlogAutoEnd() then ends: a write one commits when rc is VLOG_OK and
** rolls back otherwise, a read one ends.  Returns rc, or the commit's
** error.
*/
int vlogAutoBegin(VlogStore *p, int bWrite, int *pbAuto){
  int bAuto = (p->eTxn==0);
  int rc;
  *pbAuto = 0;
  if( bWrite && p->eTxn==2 && p->bPoison ){
    return vlogSetError(p, VLOG_ERROR,
        "a change of this transaction failed: roll back (to a savepoint) first");
  }
  if( bWrite && p->bPrepared ){
    /* SQLite's COMMIT failed after xSync wrote the store's part (another
    ** database was busy): the transaction stays open for COMMIT to be
    ** tried again, or ROLLBACK, but the store's part is written. */
    return vlogSetError(p, VLOG_ERROR, "this transaction's commit is half "
        "done (a COMMIT failed after the store was written): COMMIT again or "
        "ROLLBACK");
  }
  rc = vlogBegin(p, bWrite);
  if( rc ) return rc;
  assert( p->eTxn==(bWrite ? 2 : p->eTxn) && p->eTxn>0 );
  if( bAuto && bWrite ) p->bAutoTxn = 1;
  *pbAuto = bAuto;
  return VLOG_OK;
}

int vlogAutoEnd(VlogStore *p, int bAuto, int rc){
  if( !bAuto ) return rc;
  if( p->eTxn==2 && rc!=VLOG_OK ){
    (void)vlogRollback(p);      /* rc says what went wrong */
  }else{
    /* a read transaction's end is an unlock, which can fail too */
    int rc2 = vlogCommit(p);
    if( rc2 && (rc==VLOG_OK || rc==VLOG_NOTFOUND) ) rc = rc2;
  }
  return rc;
}

static int commitRevoke(VlogStore*);
static int entryRevoke(VlogStore*);

int vlogRollback(VlogStore *p){
  int rc = VLOG_OK, rc2;
  assert( !p->bPrepared || (p->eTxn==2 && p->eLock==VLOG_LOCK_EXCLUSIVE) );
  if( p->bPrepared ){
    rc = commitRevoke(p);
    /* The handle reloads from the file (bValid=0): an undo that fails
    ** half-way leaves nothing behind it. */
    (void)undoTo(p, 0);
    p->bValid = 0;               /* frames and accounting: reload */
  }else if( p->eTxn==2 && !p->bPoison ){
    rc = undoTo(p, 0);
    if( rc || p->wbJrnl.n ){
      /* Cannot undo in memory: reload from the file next time.  Nor can
      ** the transaction's write-buffer records (buckets it allocated: a
      ** value-log segment, a dictionary) be taken back in memory; they are
      ** never journaled (vlogBegin), so the handle reloads its view. */
      p->bValid = 0;
    }
  }
  p->wbJrnl.n = 0;
  rc2 = txnEnd(p);
  return rc ? rc : rc2;
}

/*
** Phase one of a commit: write the transaction's frames and journal entry
** (synced at synchronous=full) under EXCLUSIVE, but do not publish it:
** until vlogCommit(), no other handle can see it (readers with file locks
** wait for EXCLUSIVE; those of the reader table stop at the published end),
** and vlogRollback() can still take it back.  For SQLite's two-phase
** commit of virtual tables (xSync, then xCommit or xRollback).
*/
int vlogCommitPrepare(VlogStore *p){
  int rc = VLOG_OK;
  TxnLog *pLog = &p->log;
  if( p->bPrepared ) return VLOG_OK;
  if( p->bPoison ){
    return vlogSetError(p, VLOG_ERROR,
        "cannot commit: a change of this transaction failed; roll back");
  }
  if( p->eTxn!=2 || (pLog->nRedoRec==0 && p->wbJrnl.n==0) ) return VLOG_OK;
  assert( p->eLock>=VLOG_LOCK_RESERVED && !p->cfg.bReadOnly && p->bValid );
  rc = vlogStoreLockWrite(p);
  if( rc ) return rc;              /* still open: retry or roll back */
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && p->bChangeBumped );
  rc = vlogLogCommit(p);           /* frames written, accounting queued */
  if( rc==VLOG_OK && p->vl.vext.n ){
    rc = vlogBufAppend(p->pEnv, &pLog->redo, p->vl.vext.a, p->vl.vext.n);
    if( rc ) rc = vlogSetError(p, rc, 0);
    p->vl.vext.n = 0;
  }
  if( rc==VLOG_OK && p->wbJrnl.n ){
    rc = vlogBufAppend(p->pEnv, &pLog->redo, p->wbJrnl.a, p->wbJrnl.n);
    if( rc ) rc = vlogSetError(p, rc, 0);
    p->wbJrnl.n = 0;
  }
  if( rc==VLOG_OK ){
    p->iPrepOff = p->jrnl.iOff;
    p->iPrepSeq = p->jrnl.iSeq;
    p->nPrepSize = p->jrnl.nSize;
    rc = vlogJournalAppend(p, JE_COMMIT, pLog->redo.a, pLog->redo.n, pLog->nRedoRec);
    /* the journal moved forward, one entry or more */
    assert( rc || (p->jrnl.iSeq>p->iPrepSeq && p->jrnl.nSize>p->nPrepSize) );
    if( rc ){
      /* A write or sync that failed may still have put the entry in the
      ** file whole (a sync's error says nothing of the bytes; the
      ** reload below would then apply what the caller was told failed):
      ** its header is zeroed, as a prepared commit's is when taken back.
      ** rc and its message say what failed. */
      char *zSave = p->zErr;
      p->zErr = 0;
      (void)entryRevoke(p);
      vlogFree(p->pEnv, p->zErr);
      p->zErr = zSave;
    }
  }
  if( rc ){
    /* the handle reloads (bValid=0): the undo only tidies up; rc says
    ** what failed */
    (void)undoTo(p, 0);
    p->bValid = 0;
    (void)txnEnd(p);
    return rc;
  }
  p->bPrepared = 1;
  return VLOG_OK;
}

/*
** Take back a prepared commit (vlogRollback): zero the header of its
** first journal entry, so that replay ends before it, and make that
** durable where the entry was.  The caller reloads the handle.
*/
static int commitRevoke(VlogStore *p){
  assert( p->bPrepared && p->eLock==VLOG_LOCK_EXCLUSIVE );
  assert( p->iPrepSeq<p->jrnl.iSeq );
  p->bPrepared = 0;
  return entryRevoke(p);
}

/*
** Zero the header of the journal entry a commit wrote (or tried to) at
** iPrepOff, synced at synchronous=full, and put the journal position back
** where it was before the commit.
*/
static int entryRevoke(VlogStore *p){
  u8 aZero[JE_HDR];
  int rc;
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && (p->iPrepOff % JE_ALIGN)==0 );
  memset(aZero, 0, sizeof(aZero));
  rc = vlogWriteAt(p, p->iPrepOff, aZero, sizeof(aZero));
  if( rc==VLOG_OK && p->cfg.eSync==VLOG_SYNC_FULL ){
    rc = p->pEnv->xSync(p->pFile);
    if( rc ) vlogSetError(p, rc, "cannot sync the journal (%s)", vlogErrName(rc));
  }
  p->jrnl.iOff = p->iPrepOff;
  p->jrnl.iSeq = p->iPrepSeq;
  p->jrnl.nSize = p->nPrepSize;
  return rc;
}

int vlogCommit(VlogStore *p){
  u64 nWritten;
  int rc = vlogCommitPrepare(p);
  if( rc ) return rc;
  if( !p->bPrepared ){
    return txnEnd(p);              /* nothing to commit */
  }
  assert( p->eTxn==2 && p->eLock==VLOG_LOCK_EXCLUSIVE );
  p->bPrepared = 0;
  vlogAllocZombiesWritten(p, p->jrnl.iSeq - 1);
  vlogShmPublish(p);               /* readers may see it now */
  vlogLogCommitted(p);
  p->nCommit++;
  p->nUserBytes += p->nTxnUserBytes;
  nWritten = p->nTxnUserBytes;
  if( p->wb.n >= p->wb.nAlloc/4 ) rc = vlogWbFlush(p, 0);
  if( rc==VLOG_OK && p->cfg.nAutoCheckpoint>0 && p->jrnl.nSize>=p->cfg.nAutoCheckpoint ){
    char *zSave = p->zErr;
    int rc2;
    p->zErr = 0;
    p->maint.bCommitCkpt = 1;    /* this commit did its work: no step too */
    rc2 = vlogCheckpointInternal(p);
    if( rc2==VLOG_BUSY ){
      p->nCkptDeferred++;     /* an old reader: a later commit tries again */
    }else if( rc2 ){
      /* The commit is durable; the checkpoint will be retried later. */
      p->bValid = 0;
    }else if( !p->maint.bBusy ){
      p->maint.bKick = 1;     /* maintenance: the checkpoint kick */
    }
    vlogFree(p->pEnv, p->zErr);
    p->zErr = zSave;
  }
  if( rc ) p->bValid = 0;
  /* The commit is durable and published: a failed flush of the write
  ** buffer (above) only makes the handle reload.  What the caller learns
  ** is whether the lock was given back. */
  rc = txnEnd(p);
  /* automatic maintenance: a bounded step, after the commit is done */
  if( rc==VLOG_OK ) vlogMaintAfterCommit(p, nWritten);
  return rc;
}

int vlogSavepoint(VlogStore *p, int iSave){
  TxnLog *pLog = &p->log;
  int rc;
  if( iSave<1 || iSave>MAX_SAVEPOINT ){
    return vlogSetError(p, VLOG_RANGE, "savepoint %d: must be 1 to %d",
                        iSave, MAX_SAVEPOINT);
  }
  rc = vlogBegin(p, 1);
  if( rc ) return rc;
  assert( p->eTxn==2 && pLog->nSave>=0 && pLog->nSave<=MAX_SAVEPOINT );
  while( pLog->nSave<iSave ){
    pLog->aSaveRedo[pLog->nSave] = pLog->redo.n;
    pLog->aSaveRedoRec[pLog->nSave] = pLog->nRedoRec;
    pLog->aSaveUndo[pLog->nSave] = pLog->nUndo;
    assert( pLog->nSave==0 || pLog->aSaveRedo[pLog->nSave-1]<=pLog->redo.n );
    pLog->nSave++;
  }
  return VLOG_OK;
}

int vlogStoreSavepointExempt(VlogStore *p, u32 iFirst, u32 iLast){
  if( iFirst>iLast || (iFirst==0)!=(iLast==0) ){
    return vlogSetError(p, VLOG_RANGE, "exempt trees %u to %u: not a range",
                        iFirst, iLast);
  }
  p->iExemptLo = iFirst;
  p->iExemptHi = iLast;
  return VLOG_OK;
}

int vlogStoreSavepointExemptHigh(VlogStore *p, u32 iFirst){
  if( iFirst!=0 && iFirst<VLOG_TREE_FIRST_HIGH ){
    return vlogSetError(p, VLOG_RANGE, "exempt trees from %u: below the "
                        "callers' high ids (%u)", iFirst, VLOG_TREE_FIRST_HIGH);
  }
  p->iExemptHigh = iFirst;
  return VLOG_OK;
}

/* Are tree iTree's changes left alone by vlogRollbackTo()? */
static int isExempt(VlogStore *p, u32 iTree){
  return (p->iExemptLo!=0 && iTree>=p->iExemptLo && iTree<=p->iExemptHi)
      || (p->iExemptHigh!=0 && iTree>=p->iExemptHigh);
}

/*
** Roll back to the savepoint whose marks are iUndoMark (undo records),
** iRedoMark (redo bytes) and nRedoRecMark (redo records): undo what came
** after, newest first, except the changes to exempt trees, whose undo and
** redo records are moved down to follow the marks, in their order.
*/
static int undoToExempt(VlogStore *p, int iUndoMark, int iRedoMark, int nRedoRecMark){
  TxnLog *pLog = &p->log;
  int rc = VLOG_OK;
  int i, iDst;
  u8 *aKeep;
  if( pLog->nUndo<=iUndoMark ){
    pLog->redo.n = iRedoMark;
    pLog->nRedoRec = nRedoRecMark;
    return VLOG_OK;
  }
  aKeep = (u8*)vlogMalloc(p->pEnv, (size_t)(pLog->nUndo - iUndoMark));
  if( aKeep==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  /* undo, newest first; the buffer stays as it is until all is undone */
  for(i=pLog->nUndo-1; i>=iUndoMark; i--){
    int iOff = pLog->aUndoOff[i];
    int iEnd = i+1<pLog->nUndo ? pLog->aUndoOff[i+1] : pLog->undo.n;
    LogRec r;
    int nUsed, r2;
    r2 = logDecode(p, &pLog->undo.a[iOff], iEnd-iOff, &r, &nUsed);
    aKeep[i-iUndoMark] = (r2==VLOG_OK && isExempt(p, r.iTree));
    if( r2==VLOG_OK && !aKeep[i-iUndoMark] ) r2 = undoApply(p, &r);
    if( rc==VLOG_OK ) rc = r2;
  }
  /* the kept undo records, moved down */
  iDst = pLog->aUndoOff[iUndoMark];        /* nUndo>iUndoMark (above) */
  {
    int nUndo = iUndoMark;
    for(i=iUndoMark; i<pLog->nUndo; i++){
      int iOff = pLog->aUndoOff[i];
      int iEnd = i+1<pLog->nUndo ? pLog->aUndoOff[i+1] : pLog->undo.n;
      if( !aKeep[i-iUndoMark] ) continue;
      memmove(&pLog->undo.a[iDst], &pLog->undo.a[iOff], (size_t)(iEnd-iOff));
      pLog->aUndoOff[nUndo++] = iDst;
      iDst += iEnd-iOff;
    }
    pLog->nUndo = nUndo;
    pLog->undo.n = iDst;
  }
  vlogFree(p->pEnv, aKeep);
  /* the kept redo records, moved down */
  {
    int iOff = iRedoMark, nRec = nRedoRecMark;
    iDst = iRedoMark;
    while( iOff<pLog->redo.n ){
      LogRec r;
      int nUsed = 0;
      int r2 = logDecode(p, &pLog->redo.a[iOff], pLog->redo.n-iOff, &r, &nUsed);
      if( r2 ){
        if( rc==VLOG_OK ) rc = r2;
        break;
      }
      if( isExempt(p, r.iTree) ){
        memmove(&pLog->redo.a[iDst], &pLog->redo.a[iOff], (size_t)nUsed);
        iDst += nUsed;
        nRec++;
      }
      iOff += nUsed;
    }
    pLog->redo.n = iDst;
    pLog->nRedoRec = nRec;
  }
  return rc;
}

/*
** Roll back to savepoint iSave by reloading the store from the file (which
** holds nothing of this transaction) and applying again the redo records
** logged before the savepoint.  Used when the trees in memory cannot be
** trusted (bPoison); the logs come out as they were at the savepoint.
*/
static int reloadTo(VlogStore *p, int iSave){
  TxnLog *pLog = &p->log;
  VlogBuf redo = pLog->redo;
  int nRedo = iSave>0 ? pLog->aSaveRedo[iSave-1] : 0;
  int aSaveRedo[MAX_SAVEPOINT], aSaveRedoRec[MAX_SAVEPOINT], aSaveUndo[MAX_SAVEPOINT];
  int i = 0, rc;

  memcpy(aSaveRedo, pLog->aSaveRedo, sizeof(aSaveRedo));
  memcpy(aSaveRedoRec, pLog->aSaveRedoRec, sizeof(aSaveRedoRec));
  memcpy(aSaveUndo, pLog->aSaveUndo, sizeof(aSaveUndo));
  memset(&pLog->redo, 0, sizeof(VlogBuf));
  treeSlotsClear(p);
  vlogBufFree(p->pEnv, &pLog->undo);
  vlogFree(p->pEnv, pLog->aUndoOff);
  pLog->aUndoOff = 0;
  pLog->nUndo = pLog->nUndoAlloc = 0;
  pLog->nRedoRec = 0;
  p->bPoison = 0;
  p->bValid = 0;
  rc = vlogStoreRefresh(p);
  while( rc==VLOG_OK && i<redo.n ){
    LogRec r;
    int nUsed = 0;
    rc = logDecode(p, &redo.a[i], redo.n-i, &r, &nUsed);
    if( rc==VLOG_OK && i>=nRedo && !isExempt(p, r.iTree) ){
      /* after the savepoint: only the exempt trees' changes stay */
    }else if( rc==VLOG_OK && (r.eOp==REC_PUT || r.eOp==REC_DELETE) ){
      rc = vlogTxnApply(p, r.eOp, r.iTree, r.pKey, r.nKey, r.pVal, r.nVal, 1);
    }else if( rc==VLOG_OK && r.eOp==REC_TREE ){
      rc = vlogTxnTreeApply(p, &r, 1);
    }
    i += nUsed;
  }
  vlogBufFree(p->pEnv, &redo);
  memcpy(pLog->aSaveRedo, aSaveRedo, sizeof(aSaveRedo));
  memcpy(pLog->aSaveRedoRec, aSaveRedoRec, sizeof(aSaveRedoRec));
  memcpy(pLog->aSaveUndo, aSaveUndo, sizeof(aSaveUndo));
  if( rc ) p->bPoison = 1;
  return rc;
}

/*
** Undo the changes made since savepoint iSave was opened and keep it open
** (SQLite's ROLLBACK TO).  iSave 0 names the start of the transaction:
** every change is undone and the write transaction stays open, as SQLite
** asks with xRollbackTo(-1) when the savepoint rolled back to is the one
** that began the transaction.
*/
int vlogRollbackTo(VlogStore *p, int iSave){
  TxnLog *pLog = &p->log;
  int rc;
  if( iSave<0 || iSave>pLog->nSave || p->eTxn!=2 ){
    return vlogSetError(p, VLOG_MISUSE, "no savepoint %d to roll back to", iSave);
  }
  assert( p->eLock>=VLOG_LOCK_RESERVED && pLog->nSave<=MAX_SAVEPOINT );
  if( p->bPrepared ){
    /* After a COMMIT that failed past xSync: changes cannot be written
    ** after the commit was (vlogAutoBegin), so a savepoint opened since
    ** has nothing to undo.  One opened before has: the written commit is
    ** taken back, and the transaction can then only be rolled back
    ** (bPoison: a later commit fails and says so). */
    int nMark = iSave>0 ? pLog->aSaveUndo[iSave-1] : 0;
    if( pLog->nUndo>nMark || (iSave==0 && pLog->redo.n>0) ){
      rc = commitRevoke(p);
      p->bPoison = 1;
      if( rc ) return rc;
    }
    pLog->nSave = iSave;
    return VLOG_OK;
  }
  if( p->bPoison ){
    rc = reloadTo(p, iSave);
  }else if( p->iExemptLo || p->iExemptHigh ){
    rc = undoToExempt(p, iSave>0 ? pLog->aSaveUndo[iSave-1] : 0,
                      iSave>0 ? pLog->aSaveRedo[iSave-1] : 0,
                      iSave>0 ? pLog->aSaveRedoRec[iSave-1] : 0);
    if( rc ) p->bPoison = 1;
  }else if( iSave==0 ){
    rc = undoTo(p, 0);
    pLog->redo.n = 0;
    pLog->nRedoRec = 0;
    if( rc ) p->bPoison = 1;
  }else{
    rc = undoTo(p, pLog->aSaveUndo[iSave-1]);
    pLog->redo.n = pLog->aSaveRedo[iSave-1];
    pLog->nRedoRec = pLog->aSaveRedoRec[iSave-1];
    if( rc ) p->bPoison = 1;
  }
  pLog->nSave = iSave;
  /* the logs are as they were when savepoint iSave was opened (but for
  ** the changes of exempt trees since) */
  assert( rc || p->iExemptLo || p->iExemptHigh || iSave==0
          || (pLog->redo.n==pLog->aSaveRedo[iSave-1]
              && pLog->nUndo==pLog->aSaveUndo[iSave-1]) );
  assert( rc || p->iExemptLo || p->iExemptHigh || iSave>0 || (pLog->redo.n==0 && pLog->nUndo==0) );
  return rc;
}

int vlogRelease(VlogStore *p, int iSave){
  TxnLog *pLog = &p->log;
  if( iSave<0 ) return vlogSetError(p, VLOG_RANGE, "savepoint %d: must be 0 or more", iSave);
  /* releasing 0 (the transaction's start) releases every savepoint; it
  ** left nSave -1 once, and the next vlogSavepoint wrote before aSave*[] */
  if( iSave<=pLog->nSave ) pLog->nSave = iSave>0 ? iSave-1 : 0;
  assert( pLog->nSave>=0 && pLog->nSave<=MAX_SAVEPOINT );
  return VLOG_OK;
}

/* ---------------------------------------------------------------------
** Keys and values
*/
static int checkKey(VlogStore *p, u32 iTree, const void *pKey, int nKey){
  if( iTree<VLOG_TREE_FIRST_USER || iTree>VLOG_MAX_TREE ){
    return vlogSetError(p, VLOG_RANGE, "tree %u: user trees are %d to %d",
                        iTree, VLOG_TREE_FIRST_USER, VLOG_MAX_TREE);
  }
  if( pKey==0 || nKey<1 ){
    return vlogSetError(p, VLOG_MISUSE, "empty key: keys are 1 to %d bytes",
                        VLOG_MAX_KEY);
  }
  if( nKey>VLOG_MAX_KEY ){
    return vlogSetError(p, VLOG_TOOBIG, "key of %d bytes: the limit is %d",
                        nKey, VLOG_MAX_KEY);
  }
  return VLOG_OK;
}

/* nInlineMax of change(): the tree's policy decides */
#define INLINE_TREE  (-1)

/*
** Run a change inside the open write transaction, or one of its own.  A
** value longer than nInlineMax goes to the value log, compressed at
** iLevel; nInlineMax INLINE_TREE: the tree's policy says.
*/
static int change(VlogStore *p, int op, u32 iTree, const void *pKey, int nKey,
                  const void *pVal, int nVal, int nInlineMax, int iLevel){
  int rc = checkKey(p, iTree, pKey, nKey);
  int bAuto = 0, bZInline = 0;
  if( rc ) return rc;
  if( op==REC_PUT && nVal<0 ){
    return vlogSetError(p, VLOG_MISUSE, "negative value length");
  }
  rc = vlogAutoBegin(p, 1, &bAuto);
  if( rc ) return rc;
  if( op==REC_PUT && nInlineMax==INLINE_TREE ){
    Tree *pT;
    rc = vlogTreeGet(p, iTree, 0, &pT);
    if( rc==VLOG_OK ){
      nInlineMax = pT->pol.nInlineMax;
      iLevel = pT->pol.iZstdLevel;
      bZInline = pT->pol.bCompressInline;
    }else if( rc==VLOG_NOTFOUND ){
      rc = VLOG_OK;                           /* a new tree: the default */
      nInlineMax = VLOG_INLINE_ALL;
      iLevel = 0;
    }
  }
  if( rc==VLOG_OK && op==REC_PUT && nInlineMax>vlogStoreMaxValue(p) ){
    /* everything in the leaf */
    if( nVal>vlogStoreMaxValue(p) ){
      rc = vlogSetError(p, VLOG_TOOBIG, "value of %d bytes: the limit is %d",
                        nVal, vlogStoreMaxValue(p));
    }
    nInlineMax = vlogStoreMaxValue(p);
  }
  if( rc==VLOG_OK && op==REC_PUT ){
    p->nTxnUserBytes += (u64)nKey + (u64)nVal;
    /* user trees: tagged leaf values, large ones in the value log */
    rc = vlogValueEncode(p, iTree, (const u8*)pKey, nKey, (const u8*)pVal, nVal,
                         nInlineMax, iLevel, bZInline, &p->encBuf);
    if( rc==VLOG_OK ){
      rc = vlogTxnApply(p, op, iTree, (const u8*)pKey, nKey, p->encBuf.a,
                        p->encBuf.n, 1);
    }
  }else if( rc==VLOG_OK ){
    rc = vlogTxnApply(p, op, iTree, (const u8*)pKey, nKey, 0, 0, 1);
  }
  return vlogAutoEnd(p, bAuto, rc);
}

int vlogPut(VlogStore *p, uint32_t iTree, const void *pKey, int nKey,
            const void *pVal, int nVal){
  if( pVal==0 ) pVal = "";
  return change(p, REC_PUT, iTree, pKey, nKey, pVal, nVal, INLINE_TREE, 0);
}

int vlogInsert(VlogStore *p, uint32_t iTree, const void *pKey, int nKey,
               const void *pVal, int nVal){
  int rc;
  if( pVal==0 ) pVal = "";
  p->bInsertOnly = 1;
  rc = change(p, REC_PUT, iTree, pKey, nKey, pVal, nVal, INLINE_TREE, 0);
  p->bInsertOnly = 0;
  return rc;
}

int vlogPutEx(VlogStore *p, uint32_t iTree, const void *pKey, int nKey,
              const void *pVal, int nVal, int nInlineMax, int iZstdLevel){
  if( pVal==0 ) pVal = "";
  if( nInlineMax<0 ) nInlineMax = 0;
  return change(p, REC_PUT, iTree, pKey, nKey, pVal, nVal, nInlineMax, iZstdLevel);
}

int vlogInsertEx(VlogStore *p, uint32_t iTree, const void *pKey, int nKey,
                 const void *pVal, int nVal, int nInlineMax, int iZstdLevel){
  int rc;
  if( pVal==0 ) pVal = "";
  if( nInlineMax<0 ) nInlineMax = 0;
  p->bInsertOnly = 1;
  rc = change(p, REC_PUT, iTree, pKey, nKey, pVal, nVal, nInlineMax, iZstdLevel);
  p->bInsertOnly = 0;
  return rc;
}

int vlogDelete(VlogStore *p, uint32_t iTree, const void *pKey, int nKey){
  return change(p, REC_DELETE, iTree, pKey, nKey, 0, 0, 0, 0);
}

int vlogGet(VlogStore *p, uint32_t iTree, const void *pKey, int nKey,
            const void **ppVal, int *pnVal){
  int rc = checkKey(p, iTree, pKey, nKey);
  int bAuto = 0;
  const u8 *pVal = 0;
  int nVal = 0;
  *ppVal = 0;
  *pnVal = 0;
  if( rc==VLOG_OK ) rc = vlogAutoBegin(p, 0, &bAuto);
  if( rc ) return rc;
  rc = vlogBtreeLookup(p, iTree, (const u8*)pKey, nKey, &pVal, &nVal);
  if( rc==VLOG_OK ){
    rc = vlogValueDecode(p, iTree, (const u8*)pKey, nKey, pVal, nVal, &pVal, &nVal);
  }
  if( rc==VLOG_OK && bAuto ){
    /* The node may be evicted when the transaction ends: copy. */
    p->getBuf.n = 0;
    rc = vlogBufAppend(p->pEnv, &p->getBuf, pVal, nVal);
    if( rc ) rc = vlogSetError(p, rc, 0);
    pVal = p->getBuf.a ? p->getBuf.a : (const u8*)"";
  }
  rc = vlogAutoEnd(p, bAuto, rc);
  if( rc==VLOG_OK ){
    *ppVal = pVal;
    *pnVal = nVal;
  }
  return rc;
}

/* VLOG_OK when tree iTree has key pKey, VLOG_NOTFOUND when not; the value
** is not read. */
int vlogHas(VlogStore *p, uint32_t iTree, const void *pKey, int nKey){
  const u8 *pVal;
  int nVal;
  int bAuto = 0;
  int rc = checkKey(p, iTree, pKey, nKey);
  if( rc==VLOG_OK ) rc = vlogAutoBegin(p, 0, &bAuto);
  if( rc ) return rc;
  rc = vlogBtreeLookup(p, iTree, (const u8*)pKey, nKey, &pVal, &nVal);
  return vlogAutoEnd(p, bAuto, rc);
}

/* ---------------------------------------------------------------------
** Trees (btree.c's design note): REC_TREE changes
*/
static int checkPolicy(VlogStore *p, const VlogTreePolicy *pPol){
  if( vlogTreePolicyCheck(pPol) ){
    return vlogSetError(p, VLOG_RANGE, "tree policy: inline max %d must be 0 or "
        "more, zstd level %d from 0 to %d, compress inline %d 0 or 1",
        pPol->nInlineMax, pPol->iZstdLevel, VLOG_MAX_ZSTD_LEVEL,
        pPol->bCompressInline);
  }
  return VLOG_OK;
}

/*
** Tree change eTreeOp to tree iTree, in the open write transaction or one
** of its own; with piTree (TOP_POLICY), to a new tree whose id goes to
** *piTree.  Clearing a tree that has no key, or dropping one that does not
** exist, changes nothing and logs nothing.
*/
static int treeChange(VlogStore *p, int eTreeOp, u32 iTree,
                      const VlogTreePolicy *pPol, u32 *piTree){
  LogRec r;
  VlogTreePolicy pol;
  int bAuto, rc;
  assert( piTree==0 || eTreeOp==TOP_POLICY );
  if( piTree==0 && (rc = checkKey(p, iTree, "x", 1))!=VLOG_OK ) return rc;
  if( eTreeOp==TOP_POLICY ){
    if( pPol ) pol = *pPol;
    else vlogTreePolicyDefault(&pol);
    rc = checkPolicy(p, &pol);
    if( rc ) return rc;
  }
  rc = vlogAutoBegin(p, 1, &bAuto);
  if( rc ) return rc;
  memset(&r, 0, sizeof(r));
  r.eOp = REC_TREE;
  r.iTree = iTree;
  r.eTreeOp = eTreeOp;
  if( eTreeOp==TOP_POLICY ){
    r.pol = pol;
    r.mTreeFlags = TREEF_KEEP;
    if( piTree ) rc = vlogTreeNextId(p, &r.iTree);
  }else{
    Tree *pT;
    rc = vlogTreeGet(p, iTree, 0, &pT);
    if( rc==VLOG_NOTFOUND
     || (rc==VLOG_OK && (eTreeOp==TOP_CLEAR ? pT->nLevel==0 : !vlogTreeExists(pT))) ){
      return vlogAutoEnd(p, bAuto, VLOG_OK);  /* nothing to do */
    }
  }
  if( rc==VLOG_OK ) rc = vlogTxnTreeApply(p, &r, 1);
  rc = vlogAutoEnd(p, bAuto, rc);
  if( rc==VLOG_OK && piTree ) *piTree = r.iTree;
  return rc;
}

int vlogTreeCreate(VlogStore *p, const VlogTreePolicy *pPol, uint32_t *piTree){
  *piTree = 0;
  return treeChange(p, TOP_POLICY, 0, pPol, piTree);
}

int vlogTreeSetPolicy(VlogStore *p, uint32_t iTree, const VlogTreePolicy *pPol){
  if( pPol==0 ) return vlogSetError(p, VLOG_MISUSE, "no policy");
  return treeChange(p, TOP_POLICY, iTree, pPol, 0);
}

int vlogTreeClear(VlogStore *p, uint32_t iTree){
  return treeChange(p, TOP_CLEAR, iTree, 0, 0);
}

int vlogTreeDrop(VlogStore *p, uint32_t iTree){
  return treeChange(p, TOP_DROP, iTree, 0, 0);
}

int vlogTreeGetPolicy(VlogStore *p, uint32_t iTree, VlogTreePolicy *pPol){
  Tree *pT;
  int bAuto = 0;
  int rc = checkKey(p, iTree, "x", 1);
  if( rc==VLOG_OK ) rc = vlogAutoBegin(p, 0, &bAuto);
  if( rc ) return rc;
  rc = vlogTreeGet(p, iTree, 0, &pT);
  if( rc==VLOG_OK && !vlogTreeExists(pT) ) rc = VLOG_NOTFOUND;
  if( rc==VLOG_OK ) *pPol = pT->pol;
  return vlogAutoEnd(p, bAuto, rc);
}
