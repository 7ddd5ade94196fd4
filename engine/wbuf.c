/*
** wbuf.c: the write buffer for blind, derived updates (after bcachefs).
**
** DESIGN NOTE
**
** Some updates are derived from others and need not read the tree to be
** made: today, bucket states (TREE_ALLOC); next, per-segment accounting of
** the value log.  They are appended to a flat array instead of being
** inserted into the B-tree one by one, and also written to the journal
** (REC_WB records, in the entry of the commit that made them).  The array
** is flushed into the trees, sorted, later entries winning over earlier
** ones for the same key ("later key wins"), and deletes applied as
** whiteouts:
**   - after a commit, once the array is a quarter full;
**   - at once when an append finds it three quarters full (the writer
**     waits for the flush);
**   - before every checkpoint (a checkpoint captures the trees, so the
**     array must be empty) and before verify (seed 000: a checker must
**     not call an entry stale while the buffer still holds its update).
** Journal replay appends the REC_WB records again, in journal order, so a
** key that a later record deleted is never resurrected.
**
** Which records are journaled: those of the write transaction that
** commits, and only those (p->wbJrnl is emptied as a write transaction
** begins).  Records made outside one (the corrections a load derives, the
** state changes after a checkpoint, a rolled-back transaction's) stay in
** the buffer for this handle's view and its next checkpoint, and every
** other handle derives the same at its own load.  Root cause of issue 12:
** they used to wait in wbJrnl for the handle's next commit, which wrote
** them after other handles' commits, so replay applied them last: a
** bucket another handle had since taken (a journal bucket of a rollover)
** was marked FREE again, taken again, and the published journal chain
** broke.  Debug builds check, at every bucket taken (vlogBucketAlloc),
** that it is on neither superblock's journal chain and holds no region of
** either checkpoint.
*/
#include <stdlib.h>
#include "storeInt.h"

#define WB_CAPACITY 4096

int vlogWbAdd(VlogStore *p, u32 iTree, u64 iKey, const u8 *aVal, int nVal,
              int bDelete){
  WriteBuf *pWb = &p->wb;
  WbEntry *e;
  int rc;
  /* buckets' states and segments' figures, keyed by bucket */
  assert( nVal>=0 && nVal<=WB_MAX_VAL && (aVal!=0 || nVal==0) );
  assert( iTree==TREE_ALLOC || iTree==TREE_SEGS );
  assert( iKey>0 && iKey<MAX_BUCKETS(p->sb.nBucketSize) );
  assert( iTree!=TREE_ALLOC || bDelete || nVal==2 );
  if( pWb->a==0 ){
    pWb->a = (WbEntry*)vlogMalloc(p->pEnv, sizeof(WbEntry)*WB_CAPACITY);
    if( pWb->a==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pWb->nAlloc = WB_CAPACITY;
  }
  if( pWb->n >= pWb->nAlloc*3/4 ){
    rc = vlogWbFlush(p, 1);
    if( rc ) return rc;
  }
  if( !p->bReplay ){
    const LogRec r = { .eOp = REC_WB, .iTree = iTree, .iKey = iKey,
                       .bDelete = bDelete, .pVal = aVal, .nVal = nVal };
    rc = vlogRecEncode(p->pEnv, &p->wbJrnl, &r);
    if( rc ) return vlogSetError(p, rc, 0);
  }
  e = &pWb->a[pWb->n++];
  e->iTree = iTree;
  e->iKey = iKey;
  e->nVal = (u8)nVal;
  if( nVal ) memcpy(e->aVal, aVal, nVal);
  e->bDelete = (u8)(bDelete ? 1 : 0);
  e->iSeq = pWb->iNextSeq++;
  assert( pWb->n<=pWb->nAlloc*3/4+1 );
  assert( pWb->n<2 || pWb->a[pWb->n-2].iSeq<e->iSeq );    /* arrival order */
  return VLOG_OK;
}

static int wbCmp(const void *a, const void *b){
  const WbEntry *x = (const WbEntry*)a, *y = (const WbEntry*)b;
  if( x->iTree!=y->iTree ) return x->iTree<y->iTree ? -1 : 1;
  if( x->iKey!=y->iKey ) return x->iKey<y->iKey ? -1 : 1;
  if( x->iSeq!=y->iSeq ) return x->iSeq<y->iSeq ? -1 : 1;
  return 0;
}

/* Flush the buffer into the trees.  (Every flush is whole: bAll is kept
** for the day the flush runs in chunks behind the writer.) */
int vlogWbFlush(VlogStore *p, int bAll){
  WriteBuf *pWb = &p->wb;
  int i, rc = VLOG_OK;
  int n = pWb->n;
  WbEntry *a;
  (void)bAll;
  if( n==0 ) return VLOG_OK;
  /* Inserting may allocate node space, which appends to the buffer: work
  ** on a copy and let the buffer start afresh. */
  a = (WbEntry*)vlogMalloc(p->pEnv, sizeof(WbEntry)*n);
  if( a==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  memcpy(a, pWb->a, sizeof(WbEntry)*n);
  qsort(a, n, sizeof(WbEntry), wbCmp);
  pWb->n = 0;
  for(i=0; rc==VLOG_OK && i<n; i++){
    WbEntry *e = &a[i];
    u8 aKey[8];
    /* sorted by tree, key, then arrival: the last of a key wins */
    assert( i==0 || wbCmp(&a[i-1], e)<0 );
    if( i+1<n && a[i+1].iTree==e->iTree && a[i+1].iKey==e->iKey ){
      continue;           /* a later entry for the same key wins */
    }
    vlogPutBE64(aKey, e->iKey);
    rc = vlogBtreeInsert(p, e->iTree, aKey, 8, e->aVal, e->nVal,
                         e->bDelete ? ENTRY_WHITEOUT : ENTRY_PUT);
  }
  vlogFree(p->pEnv, a);
  return rc;
}

void vlogWbClear(VlogStore *p){
  p->wb.n = 0;
  p->wbJrnl.n = 0;
}
