/*
** alloc.c: buckets: the state machine, the free list, node regions and
** value-log segment accounting (alloc.h).
**
** DESIGN NOTE
**
** One module gives buckets out and takes them back; nothing else changes
** a bucket's state.  Journal rollover, checkpoint node writes and the
** value log ask it for buckets (vlogBucketAlloc, vlogRegionAlloc,
** vlogSegCreate), tell it what they are done with (vlogBucketRetire,
** vlogRegionRelease, vlogSegLive), and replay hands it the allocation
** records of the journal (vlogAllocReplay), so journal.c knows the
** records' format but not what the system trees mean.
**
** The table.  aBucket[] is the truth at run time; two trees persist it
** through the write buffer, so a state change never reads a tree:
** TREE_ALLOC (bucket number -> u8 state, u8 kind; a FREE bucket has no
** entry) and TREE_SEGS (segment -> its accounting, SEG_RECORD bytes).  On
** open the table is loaded from them (vlogAllocLoad), the B-tree regions
** the trees use are marked (open.c), and then reconciled
** (vlogAllocReconcile: a B-tree bucket with no live or held region is
** free).
**
** The free list.  A BucketSet of the FREE buckets, and one of the B-tree
** buckets that are OPEN with a free region, each a bitmap over the table
** with a bitmap of its non-zero words: the lowest member costs a word per
** 4,096 buckets at worst, and a hint (iLow) skips the empty start.  The
** lowest free bucket is taken, so the file's end empties and a checkpoint
** can cut it off.  Every change of a bucket's state or regions goes
** through bucketMark(), which keeps both sets exact; a wholesale load
** rebuilds them (vlogAllocRebuild).
**
** Two checkpoints.  The superblock pair holds the last two checkpoints,
** and readers (shm.c) may pin either: a checkpoint is refused while a
** reader still uses the one before the current one.  So whatever a
** snapshot may reach is kept until two checkpoints have passed since it
** stopped being reachable from the newest state:
**   - a B-tree region superseded by a copy-on-write rewrite is pending
**     (mPending) until the next checkpoint, then held (mHeld) until the one
**     after, then free;
**   - a value-log segment that a commit empties (sealed, no live record
**     left: vlogSegCommit) becomes ZOMBIE; the next checkpoint marks it
**     held (bHeld), the one after frees it.  A reader pinned before the
**     commit that emptied it reads it in peace: its snapshot's checkpoint
**     is the current or the previous one, and the second checkpoint waits
**     for it to end;
**   - journal buckets a checkpoint leaves behind are reachable only from
**     the older superblock's chain: ZOMBIE and held at once, so the next
**     checkpoint frees them.
** A handle that loads the table (open, another handle's checkpoint) cannot
** tell how many checkpoints a ZOMBIE segment has seen, and takes it as
** not held: it waits two checkpoints of its own, never fewer.
**   A ZOMBIE segment may also be freed through the journal, with no
** checkpoint (maint.c, gcJournal): each remembers the journal entry that
** emptied it (Bucket.iZombieSeq: the commit's last entry, known once
** written, vlogAllocZombiesWritten; the entry replayed; for one loaded
** from a checkpoint, the checkpoint's journal start, which is later), and
** is freed in a commit, whose REC_WB records other handles replay, once
** a synced header says that entry was synced and no reader's snapshot is
** older than it.  The frees a
** checkpoint makes (vlogAllocAfterCheckpoint) go to the write buffer but
** not to the journal: every loader derives them, or keeps the zombie
** longer.
**
** Segment accounting, exact and incremental: bytes of records ever
** appended (total), bytes of records still referenced (live), records,
** bytes used in the bucket, created and sealed (journal sequence, time in
** microseconds; sealed is never before created), its generation, its
** kind, and the bytes to compress: record bytes of the frames a commit
** wrote raw because the store's background_compression setting deferred
** their compression to maintenance (vlog.c, "Background compression").
** stale = total - live; to-compress <= total.  A TREE_SEGS value
** (SEG_RECORD bytes):
**     0 u64 generation   8 u64 total   16 u64 live   24 u64 records
**    32 u64 bytes used  40 u64 created sequence   48 u64 created time
**    56 u64 sealed sequence (0: open)   64 u64 sealed time   72 u32 kind
**    76 u64 bytes to compress   84 u32 lowest dictionary id
**    88 u32 highest dictionary id (both 0: no frame names a dictionary)
** Like total, bytes to compress only grow, by the frames appended while
** the segment is open; they are a figure of the segment's frames, not of
** its pointers, so no key walk recounts them (verify checks the record
** against the table, check.c that they do not exceed total).  The range
** of dictionary ids grows the same way, by each frame compressed with a
** dictionary: GC drops a dictionary no segment's range holds (vlog.c,
** vlogDictGc), so maintenance learns which are in use from the bucket
** table alone, as the planner does.  A rewrite
** writes compressed frames, which add nothing, and the rewritten segment
** goes with its record: that is how maintenance brings them to zero.
** A pointer to a bucket that is no segment, or a change that would make
** live exceed total or go below zero, is VLOG_CORRUPT (vlogSegLive): an
** under-count would let maintenance free live records.  The value log
** (vlog.c) says at commit which bytes became live or stale; the changed
** figures go to TREE_SEGS through the write buffer, in the commit's
** journal entry (vlogSegCommit).  A freed segment's entry is deleted.
**
** Untrusted input.  Bucket numbers, states, kinds and figures read from
** the trees or the journal are range-checked before use (MAX_BUCKETS,
** BUCKET_SLACK): a hostile file gets VLOG_CORRUPT, never a write outside
** the table or a table grown without end.
*/
#include <stdio.h>
#include "storeInt.h"

#define BUSY(pB) ((pB)->mLive|(pB)->mPending|(pB)->mHeld)
#define NO_BUCKET (~(u64)0)

/* Buckets a replayed record may name past the end of the file: those a
** commit took whose writes failed (journal.c, "Replay"). */
#define BUCKET_SLACK 64

const char *vlogBucketStateName(int e){
  static const char *az[] = { "free", "open", "sealed", "zombie", "need-discard" };
  return (e>=0 && e<5) ? az[e] : "?";
}
const char *vlogBucketKindName(int e){
  static const char *az[] = { "none", "journal", "btree", "vlog" };
  return (e>=0 && e<4) ? az[e] : "?";
}

u64 vlogBucketOffset(VlogStore *p, u64 iBucket){
  assert( iBucket<MAX_BUCKETS(p->sb.nBucketSize) );
  return iBucket * (u64)p->sb.nBucketSize;
}

/* ---------------------------------------------------------------------
** Bucket sets
*/
static int setGrow(VlogEnv *pEnv, BucketSet *pS, u64 nBucket){
  u64 nWord = (nBucket+63)/64;
  if( nWord>pS->nWord ){
    u64 nNew = ((nWord+63)/64)*64;       /* whole aSum words */
    u64 *aW = (u64*)vlogRealloc(pEnv, pS->aWord, nNew*sizeof(u64));
    u64 *aS;
    if( aW==0 ) return VLOG_NOMEM;
    pS->aWord = aW;
    aS = (u64*)vlogRealloc(pEnv, pS->aSum, (nNew/64)*sizeof(u64));
    if( aS==0 ) return VLOG_NOMEM;
    pS->aSum = aS;
    memset(&aW[pS->nWord], 0, (nNew-pS->nWord)*sizeof(u64));
    memset(&aS[pS->nWord/64], 0, (nNew-pS->nWord)/64*sizeof(u64));
    pS->nWord = nNew;
  }
  return VLOG_OK;
}

static void setPut(BucketSet *pS, u64 i, int bIn){
  u64 w = i/64;
  assert( w<pS->nWord );
  if( bIn ){
    pS->aWord[w] |= (u64)1<<(i%64);
    pS->aSum[w/64] |= (u64)1<<(w%64);
    if( w/64<pS->iLow ) pS->iLow = w/64;
  }else{
    pS->aWord[w] &= ~((u64)1<<(i%64));
    if( pS->aWord[w]==0 ) pS->aSum[w/64] &= ~((u64)1<<(w%64));
  }
}

/* The lowest member of the set, or NO_BUCKET. */
static u64 setFirst(BucketSet *pS){
  u64 k;
  for(k=pS->iLow; k<pS->nWord/64; k++){
    if( pS->aSum[k] ){
      u64 w = k*64 + (u64)__builtin_ctzll(pS->aSum[k]);
      assert( pS->aWord[w]!=0 );
      pS->iLow = k;
      return w*64 + (u64)__builtin_ctzll(pS->aWord[w]);
    }
  }
  pS->iLow = k;
  return NO_BUCKET;
}

static void setClear(BucketSet *pS){
  if( pS->nWord ){
    memset(pS->aWord, 0, pS->nWord*sizeof(u64));
    memset(pS->aSum, 0, pS->nWord/64*sizeof(u64));
  }
  pS->iLow = 0;
}

/* Keep bucket i's membership of the sets true to its state and regions. */
static void bucketMark(VlogStore *p, u64 i){
  Bucket *pB = &p->aBucket[i];
  int nSlot = p->nRegionPerBucket;
  u64 mAll = (nSlot>=64) ? ~(u64)0 : (((u64)1<<nSlot)-1);
  assert( i<p->nBucketAlloc );
  setPut(&p->freeSet, i, i>0 && pB->eState==BUCKET_FREE && !pB->bWithheld);
  setPut(&p->btreeSet, i, i>0 && pB->eKind==KIND_BTREE && pB->eState==BUCKET_OPEN
                          && nSlot>0 && (BUSY(pB)&mAll)!=mAll);
}

/* ---------------------------------------------------------------------
** The table
*/

/* Make room for nBucket buckets (new ones FREE); sb.nBucket grows to it. */
int vlogAllocGrow(VlogStore *p, u64 nBucket){
  if( nBucket>MAX_BUCKETS(p->sb.nBucketSize) ){
    return vlogSetError(p, VLOG_FULL, "%s cannot grow past %llu bytes", p->zPath,
                        (unsigned long long)MAX_STORE_BYTES);
  }
  if( nBucket>p->nBucketAlloc ){
    u64 nNew = p->nBucketAlloc ? p->nBucketAlloc*2 : 64;
    u64 i;
    Bucket *aNew;
    while( nNew<nBucket ) nNew *= 2;
    if( setGrow(p->pEnv, &p->freeSet, nNew) || setGrow(p->pEnv, &p->btreeSet, nNew) ){
      return vlogSetError(p, VLOG_NOMEM, 0);
    }
    aNew = (Bucket*)vlogRealloc(p->pEnv, p->aBucket, nNew*sizeof(Bucket));
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    memset(&aNew[p->nBucketAlloc], 0, (nNew-p->nBucketAlloc)*sizeof(Bucket));
    p->aBucket = aNew;
    i = p->nBucketAlloc;
    p->nBucketAlloc = nNew;
    for(; i<nNew; i++) bucketMark(p, i);
  }
  if( nBucket>p->sb.nBucket ) p->sb.nBucket = nBucket;
  return VLOG_OK;
}

/* Every bucket FREE, nothing touched (before a load). */
void vlogAllocClear(VlogStore *p){
  if( p->aBucket ) memset(p->aBucket, 0, p->nBucketAlloc*sizeof(Bucket));
  p->nTouched = 0;
  p->nZombiePending = 0;
  p->nWithheld = 0;
  p->iOpenBtree = 0;
  vlogAllocRebuild(p);
}

/* The sets, from the table (after regions were marked wholesale). */
void vlogAllocRebuild(VlogStore *p){
  u64 i;
  setClear(&p->freeSet);
  setClear(&p->btreeSet);
  for(i=0; i<p->nBucketAlloc; i++) bucketMark(p, i);
}

/* The structure checker's (check.c): 0 when both sets are exact, or the
** first bucket one of them is wrong about. */
u64 vlogAllocSetsCheck(VlogStore *p){
  u64 i;
  for(i=1; i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    int nSlot = p->nRegionPerBucket;
    u64 mAll = (nSlot>=64) ? ~(u64)0 : (((u64)1<<nSlot)-1);
    int bFree = (p->freeSet.aWord[i/64]>>(i%64)) & 1;
    int bBtree = (p->btreeSet.aWord[i/64]>>(i%64)) & 1;
    if( bFree!=(pB->eState==BUCKET_FREE)
     || bBtree!=(pB->eKind==KIND_BTREE && pB->eState==BUCKET_OPEN
                 && (BUSY(pB)&mAll)!=mAll)
     || ((p->freeSet.aSum[i/4096]>>((i/64)%64)) & 1)!=(p->freeSet.aWord[i/64]!=0)
     || (bFree && i/4096<p->freeSet.iLow) ){
      return i;
    }
  }
  return 0;
}

void vlogAllocFree(VlogStore *p){
  vlogFree(p->pEnv, p->aBucket);
  vlogFree(p->pEnv, p->freeSet.aWord);
  vlogFree(p->pEnv, p->freeSet.aSum);
  vlogFree(p->pEnv, p->btreeSet.aWord);
  vlogFree(p->pEnv, p->btreeSet.aSum);
  vlogFree(p->pEnv, p->aTouched);
  p->aBucket = 0;
  p->aTouched = 0;
  p->nTouched = p->nTouchedAlloc = 0;
  p->nZombiePending = 0;
  p->nWithheld = 0;
  memset(&p->freeSet, 0, sizeof(BucketSet));
  memset(&p->btreeSet, 0, sizeof(BucketSet));
  p->nBucketAlloc = 0;
}

/* Set bucket i's state and kind in the table only (loading). */
static void bucketPut(VlogStore *p, u64 i, int eState, int eKind){
  Bucket *pB = &p->aBucket[i];
  assert( i>0 && i<p->sb.nBucket );
  if( eState==BUCKET_FREE ) eKind = KIND_NONE;
  if( eState!=BUCKET_ZOMBIE ) pB->bHeld = 0;
  if( eState==BUCKET_ZOMBIE && pB->eState!=BUCKET_ZOMBIE ){
    /* the entry that empties it: the one replayed, or the commit's, whose
    ** sequence is known once written (vlogAllocZombiesWritten); loaded
    ** from a checkpoint: the checkpoint's journal start, which is later
    ** (a later sequence only waits longer) */
    pB->iZombieSeq = (p->eTxn==2 && !p->bReplay) ? ZOMBIE_PENDING : p->jrnl.iSeq;
    if( pB->iZombieSeq==ZOMBIE_PENDING ) p->nZombiePending++;
  }
  pB->eState = (u8)eState;
  pB->eKind = (u8)eKind;
  bucketMark(p, i);
}

/*
** Bucket iBucket becomes one of kind eKind: if it was a value-log segment
** and no longer is one (freed, or taken for the journal or nodes), its
** accounting record goes too, whatever path changed it.  A record left
** behind would outlive the bucket: seed 000's bug.  A checkpoint's frees
** are not journaled, but derived again by whoever loads its trees; a
** handle that loads them and then replays another handle's journal, in
** which the freed bucket was already taken again (for a journal bucket,
** say), never frees it as a segment, and its TREE_SEGS record stayed in
** the trees, until a truncation cut the bucket off and the next load
** found a record for a segment outside the store (maint_mproc.test).
** So the delete is tied to the change of kind, in replay as at run time.
*/
static int segForget(VlogStore *p, u64 iBucket, int eKind){
  if( iBucket<p->sb.nBucket && p->aBucket[iBucket].eKind==KIND_VLOG
   && eKind!=KIND_VLOG ){
    return vlogWbAdd(p, TREE_SEGS, iBucket, 0, 0, 1);
  }
  return VLOG_OK;
}

/* Set the state of bucket iBucket, persisting it through the write buffer. */
int vlogBucketSetState(VlogStore *p, u64 iBucket, int eState, int eKind){
  Bucket *pB;
  int rc;
  u8 aVal[2];
  assert( iBucket>0 );
  assert( eState>=BUCKET_FREE && eState<=BUCKET_NEED_DISCARD );
  assert( eKind>=KIND_NONE && eKind<=KIND_VLOG );
  if( iBucket>=p->sb.nBucket ){
    rc = vlogAllocGrow(p, iBucket+1);
    if( rc ) return rc;
  }
  pB = &p->aBucket[iBucket];
  if( eState==BUCKET_FREE ) eKind = KIND_NONE;
  if( pB->eState==eState && pB->eKind==eKind ) return VLOG_OK;
  if( eState!=BUCKET_FREE ) pB->bPunched = 0;     /* written again */
  if( eKind!=pB->eKind ) pB->mPunched = 0;
  rc = segForget(p, iBucket, eKind);
  if( rc ) return rc;
  bucketPut(p, iBucket, eState, eKind);
  aVal[0] = (u8)eState;
  aVal[1] = (u8)eKind;
  return vlogWbAdd(p, TREE_ALLOC, iBucket, aVal, 2, eState==BUCKET_FREE);
}

/* The commit's entries are written, the last with sequence iSeq: the
** zombies it made were emptied by it, and the buckets it freed may be
** taken again. */
void vlogAllocZombiesWritten(VlogStore *p, u64 iSeq){
  u64 i;
  if( p->nZombiePending==0 && p->nWithheld==0 ) return;
  for(i=1; i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->iZombieSeq==ZOMBIE_PENDING ) pB->iZombieSeq = iSeq;
    if( pB->bWithheld ){
      pB->bWithheld = 0;
      bucketMark(p, i);
    }
  }
  p->nZombiePending = 0;
  p->nWithheld = 0;
}

/*
** Free bucket iBucket in the open write transaction, through the journal
** (maint.c, gcJournal), and withhold it until the commit: a bucket the
** same commit took again, for the journal's next bucket at a rollover,
** would be named by the link entry before the commit entry that frees it,
** and a handle replaying both would end with the journal in a FREE bucket.
*/
int vlogBucketFreeTxn(VlogStore *p, u64 iBucket){
  int rc = vlogBucketSetState(p, iBucket, BUCKET_FREE, KIND_NONE);
  if( rc==VLOG_OK ){
    p->aBucket[iBucket].bWithheld = 1;
    p->nWithheld++;
    bucketMark(p, iBucket);
  }
  return rc;
}

/* Bucket iBucket (of kind eKind) holds nothing the newest state reaches:
** ZOMBIE, freed after two checkpoints, or after the next one if bHeld
** (design note). */
int vlogBucketRetire(VlogStore *p, u64 iBucket, int eKind, int bHeld){
  int rc = vlogBucketSetState(p, iBucket, BUCKET_ZOMBIE, eKind);
  if( rc==VLOG_OK && bHeld ) p->aBucket[iBucket].bHeld = 1;
  return rc;
}

#ifndef NDEBUG
/*
** The invariant checker of debug builds (issue 12): a bucket about to be
** taken holds nothing either checkpoint of the superblock pair reaches:
** no live, pending or held B-tree region of the trees, and no entry of the
** journal chain of either superblock as it is in the file.
*/
static int bucketUnreachable(VlogStore *p, u64 iBucket){
  u8 a[SB_SIZE + SB_USED];
  int i;
  if( iBucket<p->sb.nBucket ){
    Bucket *pB = &p->aBucket[iBucket];
    if( BUSY(pB) ) return 0;
  }
  if( p->pEnv->xRead(p->pFile, 0, a, (int)sizeof(a))!=VLOG_OK ) return 1;
  for(i=0; i<2; i++){
    Superblock s;
    if( vlogSbDecode(&a[i*SB_SIZE], SB_USED, &s)==VLOG_OK
     && vlogJournalChainHas(p, s.iJrnlOff, s.iJrnlSeq, iBucket) ){
      return 0;
    }
  }
  return 1;
}
#endif

/* Allocate the lowest free bucket for content of kind eKind (OPEN). */
int vlogBucketAlloc(VlogStore *p, int eKind, u64 *piBucket){
  u64 i = setFirst(&p->freeSet);
  assert( eKind!=KIND_NONE );
  if( i==NO_BUCKET || i>=p->sb.nBucket ){
    int rc;
    i = p->sb.nBucket;
    rc = vlogAllocGrow(p, i+1);
    if( rc ) return rc;
  }
  assert( p->aBucket[i].eState==BUCKET_FREE );
  assert( bucketUnreachable(p, i) );
  memset(&p->aBucket[i], 0, sizeof(Bucket));
  *piBucket = i;
  return vlogBucketSetState(p, i, BUCKET_OPEN, eKind);
}

/* ---------------------------------------------------------------------
** B-tree node regions
*/

/* Allocate one node region; *piOff is its byte offset. */
int vlogRegionAlloc(VlogStore *p, u64 *piOff){
  u64 i = p->iOpenBtree;
  int j;
  if( i==0 || i>=p->sb.nBucket || !(p->btreeSet.aWord[i/64] & ((u64)1<<(i%64))) ){
    i = setFirst(&p->btreeSet);
    if( i==NO_BUCKET || i>=p->sb.nBucket ){
      int rc = vlogBucketAlloc(p, KIND_BTREE, &i);
      if( rc ) return rc;
    }
    p->iOpenBtree = i;
  }
  for(j=0; j<p->nRegionPerBucket; j++){
    if( (BUSY(&p->aBucket[i]) & ((u64)1<<j))==0 ) break;
  }
  assert( j<p->nRegionPerBucket );
  *piOff = vlogBucketOffset(p, i) + (u64)j*p->sb.nNodeSize;
  vlogRegionSetLive(p, *piOff, 1);
  return VLOG_OK;
}

static void regionSlot(VlogStore *p, u64 iOff, u64 *piBucket, int *piSlot){
  *piBucket = iOff / p->sb.nBucketSize;
  *piSlot = (int)((iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
}

void vlogRegionSetLive(VlogStore *p, u64 iOff, int bLive){
  u64 iBucket;
  int iSlot;
  regionSlot(p, iOff, &iBucket, &iSlot);
  if( iBucket>=p->sb.nBucket ) return;
  if( bLive ){
    p->aBucket[iBucket].mLive |= ((u64)1<<iSlot);
    p->aBucket[iBucket].mPunched &= ~((u64)1<<iSlot);     /* written again */
  }else{
    p->aBucket[iBucket].mLive &= ~((u64)1<<iSlot);
  }
  bucketMark(p, iBucket);
}

/* Region iOff is superseded: reserved for two checkpoints. */
void vlogRegionRelease(VlogStore *p, u64 iOff){
  u64 iBucket;
  int iSlot;
  if( iOff==0 ) return;
  regionSlot(p, iOff, &iBucket, &iSlot);
  if( iBucket>=p->sb.nBucket ) return;
  p->aBucket[iBucket].mLive &= ~((u64)1<<iSlot);
  p->aBucket[iBucket].mPending |= ((u64)1<<iSlot);
  bucketMark(p, iBucket);
}

/*
** A checkpoint is durable (checkpoint.c, step 5): regions held for the
** checkpoint before the previous one are free, the pending ones are held;
** B-tree buckets left empty return to FREE; a held ZOMBIE is freed (and a
** segment's accounting with it), the others become held.
*/
int vlogAllocAfterCheckpoint(VlogStore *p){
  u64 i;
  int rc = VLOG_OK;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    pB->mHeld = pB->mPending;
    pB->mPending = 0;
    if( pB->eState==BUCKET_ZOMBIE && !pB->bHeld ){
      pB->bHeld = 1;
    }else if( pB->eState==BUCKET_ZOMBIE
           || (pB->eKind==KIND_BTREE && BUSY(pB)==0 && i!=p->iOpenBtree) ){
      rc = vlogBucketSetState(p, i, BUCKET_FREE, KIND_NONE);   /* and its
                                               ** accounting (segForget) */
    }
    bucketMark(p, i);
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Loading and replay
*/

/* Load the table from the alloc tree and the segments tree. */
int vlogAllocLoad(VlogStore *p){
  VlogCursor *pCsr = 0;
  int rc = vlogAllocGrow(p, p->sb.nBucket);
  if( rc ) return rc;
  vlogAllocClear(p);
  rc = vlogCursorOpen(p, TREE_ALLOC, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    const u8 *a;
    int nKey, nVal;
    u64 iBucket;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc ) break;
    a = (const u8*)pVal;
    if( nKey!=8 || nVal!=2 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad entry in the alloc tree");
      break;
    }
    iBucket = vlogGetBE64((const u8*)pKey);
    if( iBucket==0 || iBucket>=p->sb.nBucket ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "alloc tree names bucket %llu, outside the store (%llu buckets)",
          (unsigned long long)iBucket, (unsigned long long)p->sb.nBucket);
      break;
    }
    if( a[0]>BUCKET_NEED_DISCARD || a[1]>KIND_VLOG ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "the alloc tree gives bucket %llu state %u kind %u, which no bucket has",
          (unsigned long long)iBucket, a[0], a[1]);
      break;
    }
    bucketPut(p, iBucket, a[0], a[1]);
    /* A journal bucket retired before this checkpoint was written is on
    ** neither superblock's chain: the next checkpoint may free it.  A
    ** segment may still be read by a snapshot (design note). */
    if( a[0]==BUCKET_ZOMBIE && a[1]==KIND_JOURNAL ) p->aBucket[iBucket].bHeld = 1;
    rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  if( rc ) return rc;

  rc = vlogCursorOpen(p, TREE_SEGS, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc ) break;
    rc = nKey==8 ? vlogSegLoad(p, vlogGetBE64((const u8*)pKey), (const u8*)pVal, nVal)
                 : vlogSetError(p, VLOG_CORRUPT_BKPT, "bad key in the segments tree");
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  return rc;
}

/*
** After the regions the current trees use (mLive) and those the previous
** checkpoint's use (mHeld) were marked: B-tree buckets with neither are
** FREE, those with some are OPEN B-tree buckets.  Journal buckets are
** reconciled by replay, which walks the chain.
*/
int vlogAllocReconcile(VlogStore *p){
  u64 i;
  int rc = VLOG_OK;
  vlogAllocRebuild(p);
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->mLive && pB->eKind!=KIND_BTREE ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT,
          "bucket %llu holds live B-tree nodes but the alloc tree says %s/%s",
          (unsigned long long)i, vlogBucketStateName(pB->eState),
          vlogBucketKindName(pB->eKind));
    }
    if( pB->eKind==KIND_BTREE && (pB->mLive|pB->mHeld)==0 ){
      rc = vlogBucketSetState(p, i, BUCKET_FREE, KIND_NONE);
    }else if( pB->eKind==KIND_BTREE && pB->eState!=BUCKET_OPEN ){
      rc = vlogBucketSetState(p, i, BUCKET_OPEN, KIND_BTREE);
    }else if( pB->mHeld && pB->eKind!=KIND_BTREE && pB->eState==BUCKET_FREE ){
      /* held for the previous checkpoint only */
      rc = vlogBucketSetState(p, i, BUCKET_OPEN, KIND_BTREE);
    }
  }
  return rc;
}

static void segDecode(const u8 *a, Bucket *pB);
static int segImpossible(VlogStore *p, const Bucket *pB, const u8 *a);

/*
** Replay of a write-buffer record r of a journal payload: a bucket's state
** (TREE_ALLOC) or a segment's figures (TREE_SEGS), made by a commit.  The
** record is untrusted: its tree, bucket, state and kind, and a segment's
** figures (segImpossible), are checked before anything is taken; a
** bucket past the end of the table (taken by a commit after the
** checkpoint) grows it, but only up to BUCKET_SLACK buckets past the end
** of the file (a commit writes what it takes before its entry, so a
** number beyond would grow the table for nothing).  VLOG_CORRUPT with the
** reason in zWhy, which the caller places.
*/
int vlogAllocReplay(VlogStore *p, const LogRec *r, char *zWhy, int nWhy){
  int rc = VLOG_OK;
  zWhy[0] = 0;
  if( r->iTree!=TREE_ALLOC && r->iTree!=TREE_SEGS ){
    snprintf(zWhy, nWhy, "a write-buffer record for tree %u", r->iTree);
    return VLOG_CORRUPT;
  }
  if( r->iKey==0 || r->iKey>=MAX_BUCKETS(p->sb.nBucketSize) ){
    snprintf(zWhy, nWhy, "a record for bucket %llu, outside any store",
             (unsigned long long)r->iKey);
    return VLOG_CORRUPT;
  }
  if( r->iTree==TREE_ALLOC && !r->bDelete
   && (r->nVal!=2 || r->pVal[0]>BUCKET_NEED_DISCARD || r->pVal[1]>KIND_VLOG) ){
    snprintf(zWhy, nWhy, "an alloc record with state %d kind %d",
             r->nVal>0 ? r->pVal[0] : -1, r->nVal>1 ? r->pVal[1] : -1);
    return VLOG_CORRUPT;
  }
  if( r->iTree==TREE_SEGS && !r->bDelete ){
    Bucket b;
    if( r->nVal!=SEG_RECORD ){
      snprintf(zWhy, nWhy, "a segment record of %d bytes", r->nVal);
      return VLOG_CORRUPT;
    }
    segDecode(r->pVal, &b);
    if( segImpossible(p, &b, r->pVal) ){
      snprintf(zWhy, nWhy, "impossible accounting for segment %llu",
               (unsigned long long)r->iKey);
      return VLOG_CORRUPT;
    }
  }
  if( r->iKey>=p->sb.nBucket ){
    i64 nSize = 0;
    rc = p->pEnv->xSize(p->pFile, &nSize);
    if( rc ) return vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
    if( r->iKey>=(u64)nSize/p->sb.nBucketSize + BUCKET_SLACK ){
      snprintf(zWhy, nWhy, "a record for bucket %llu, past the end of the file",
               (unsigned long long)r->iKey);
      return VLOG_CORRUPT;
    }
    rc = vlogAllocGrow(p, r->iKey+1);
  }
  if( rc==VLOG_OK && r->iTree==TREE_ALLOC ){
    rc = segForget(p, r->iKey, r->bDelete ? KIND_NONE : r->pVal[1]);
  }
  if( rc==VLOG_OK && r->iTree==TREE_ALLOC ){
    if( r->bDelete ){
      bucketPut(p, r->iKey, BUCKET_FREE, KIND_NONE);
    }else{
      bucketPut(p, r->iKey, r->pVal[0], r->pVal[1]);
    }
  }
  if( rc==VLOG_OK && r->iTree==TREE_SEGS && !r->bDelete ){
    rc = vlogSegLoad(p, r->iKey, r->pVal, r->nVal);
  }
  if( rc==VLOG_OK ) rc = vlogWbAdd(p, r->iTree, r->iKey, r->pVal, r->nVal, r->bDelete);
  return rc;
}

/* ---------------------------------------------------------------------
** Value-log segments
*/

/* The time now, for a segment's creation or sealing (unix us). */
static u64 segNow(VlogStore *p){
  return (u64)p->pEnv->xNow(p->pEnv);
}

/* Segment iSeg's figures changed: save them at the next commit.  The
** touched segments are listed, so a commit never walks the bucket table. */
int vlogSegTouch(VlogStore *p, u64 iSeg){
  if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].bTouched ) return VLOG_OK;
  if( p->nTouched>=p->nTouchedAlloc ){
    int nNew = p->nTouchedAlloc ? p->nTouchedAlloc*2 : 16;
    u64 *aNew = (u64*)vlogRealloc(p->pEnv, p->aTouched, sizeof(u64)*nNew);
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    p->aTouched = aNew;
    p->nTouchedAlloc = nNew;
  }
  p->aTouched[p->nTouched++] = iSeg;
  p->aBucket[iSeg].bTouched = 1;
  assert( p->nTouched<=p->nTouchedAlloc && (u64)p->nTouched<=p->sb.nBucket );
  return VLOG_OK;
}

/* Persist the accounting of segment iSeg (through the write buffer). */
static int segSave(VlogStore *p, u64 iSeg){
  Bucket *pB = &p->aBucket[iSeg];
  u8 a[SEG_RECORD];
  assert( SEG_RECORD<=WB_MAX_VAL );
  assert( pB->eKind==KIND_VLOG && pB->iGen>0 && pB->nLive<=pB->nTotal );
  assert( pB->nDisk<=p->sb.nBucketSize );
  vlogPut64(&a[0], pB->iGen);
  vlogPut64(&a[8], pB->nTotal);
  vlogPut64(&a[16], pB->nLive);
  vlogPut64(&a[24], pB->nRec);
  vlogPut64(&a[32], pB->nDisk);
  vlogPut64(&a[40], pB->iCreateSeq);
  vlogPut64(&a[48], pB->iCreateTime);
  vlogPut64(&a[56], pB->iSealSeq);
  vlogPut64(&a[64], pB->iSealTime);
  vlogPut32(&a[72], pB->eSegKind);
  vlogPut64(&a[76], pB->nToCompress);
  vlogPut32(&a[84], pB->iDictLo);
  vlogPut32(&a[88], pB->iDictHi);
  return vlogWbAdd(p, TREE_SEGS, iSeg, a, sizeof(a), 0);
}

/* The figures of TREE_SEGS value a[0..SEG_RECORD) into *pB. */
static void segDecode(const u8 *a, Bucket *pB){
  pB->iGen = vlogGet64(&a[0]);
  pB->nTotal = vlogGet64(&a[8]);
  pB->nLive = vlogGet64(&a[16]);
  pB->nRec = vlogGet64(&a[24]);
  pB->nDisk = vlogGet64(&a[32]);
  pB->iCreateSeq = vlogGet64(&a[40]);
  pB->iCreateTime = vlogGet64(&a[48]);
  pB->iSealSeq = vlogGet64(&a[56]);
  pB->iSealTime = vlogGet64(&a[64]);
  pB->eSegKind = (u8)vlogGet32(&a[72]);
  pB->nToCompress = vlogGet64(&a[76]);
  pB->iDictLo = vlogGet32(&a[84]);
  pB->iDictHi = vlogGet32(&a[88]);
}

/* 1 if TREE_SEGS value a[0..n) holds what the table says of segment iSeg
** (vlog_verify). */
int vlogSegRecordMatches(VlogStore *p, u64 iSeg, const u8 *a, int n){
  Bucket b;
  const Bucket *pB;
  assert( iSeg>0 && iSeg<p->sb.nBucket && n>=0 );
  pB = &p->aBucket[iSeg];
  if( n!=SEG_RECORD ) return 0;
  segDecode(a, &b);
  return b.iGen==pB->iGen && b.nTotal==pB->nTotal && b.nLive==pB->nLive
      && b.nToCompress==pB->nToCompress
      && b.iDictLo==pB->iDictLo && b.iDictHi==pB->iDictHi;
}

/*
** 1 if the figures *pB, decoded from TREE_SEGS value a[0..SEG_RECORD),
** cannot be a segment's.  The counters go on from what is loaded
** (vlogLogFlush adds each frame's bytes and records): a total of 2^64-2
** bytes wrapped at the next frame to fewer than the live ones.  A segment
** is sealed after it was created.  Its bytes to compress are some of its
** total.  Its range of dictionary ids is empty (both 0) or in order.
*/
static int segImpossible(VlogStore *p, const Bucket *pB, const u8 *a){
  u32 eSegKind = vlogGet32(&a[72]);
  return pB->nLive>pB->nTotal || pB->nDisk>p->sb.nBucketSize
      || pB->iGen==0 || pB->iGen>=MAX_COUNTER
      || pB->nTotal>=MAX_COUNTER || pB->nRec>=MAX_COUNTER
      || (pB->iSealSeq && pB->iSealSeq<pB->iCreateSeq)
      || pB->nToCompress>pB->nTotal
      || (pB->iDictLo==0)!=(pB->iDictHi==0) || pB->iDictLo>pB->iDictHi
      || (eSegKind!=SEG_VALUE && eSegKind!=SEG_REWRITE);
}

/* Load segment figures from a TREE_SEGS value (open, replay).  The
** store's next segment generation moves past the segment's. */
int vlogSegLoad(VlogStore *p, u64 iSeg, const u8 *a, int n){
  Bucket *pB;
  if( iSeg==0 || iSeg>=p->sb.nBucket ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "accounting record for segment %llu, "
        "outside the store (%llu buckets)", (unsigned long long)iSeg,
        (unsigned long long)p->sb.nBucket);
  }
  if( n!=SEG_RECORD ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "accounting record of %d bytes for "
                        "segment %llu", n, (unsigned long long)iSeg);
  }
  pB = &p->aBucket[iSeg];
  segDecode(a, pB);
  if( segImpossible(p, pB, a) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "impossible accounting for segment %llu "
        "(generation %llu: %llu live of %llu bytes in %llu records, %llu bytes of "
        "the bucket used, created at journal sequence %llu, sealed at %llu)",
        (unsigned long long)iSeg, (unsigned long long)pB->iGen,
        (unsigned long long)pB->nLive, (unsigned long long)pB->nTotal,
        (unsigned long long)pB->nRec, (unsigned long long)pB->nDisk,
        (unsigned long long)pB->iCreateSeq, (unsigned long long)pB->iSealSeq);
  }
  if( pB->iGen>=p->sb.iNextSegGen ) p->sb.iNextSegGen = pB->iGen + 1;
  return VLOG_OK;
}

/* A new, OPEN segment of kind eSegKind, with the next generation. */
int vlogSegCreate(VlogStore *p, int eSegKind, u64 *piSeg){
  u64 iNew;
  Bucket *pB;
  int rc = vlogBucketAlloc(p, KIND_VLOG, &iNew);
  if( rc ) return rc;
  pB = &p->aBucket[iNew];
  pB->iGen = p->sb.iNextSegGen++;
  pB->eSegKind = (u8)eSegKind;
  pB->nTotal = pB->nLive = pB->nRec = pB->nDisk = pB->nToCompress = 0;
  pB->iDictLo = pB->iDictHi = 0;
  pB->iCreateSeq = p->jrnl.iSeq;
  pB->iCreateTime = segNow(p);
  pB->iSealSeq = pB->iSealTime = 0;
  *piSeg = iNew;
  return segSave(p, iNew);
}

/* Seal segment iSeg: nothing more is appended to it. */
int vlogSegSeal(VlogStore *p, u64 iSeg){
  Bucket *pB = &p->aBucket[iSeg];
  int rc;
  assert( pB->eKind==KIND_VLOG && pB->eState==BUCKET_OPEN );
  pB->iSealSeq = p->jrnl.iSeq;
  pB->iSealTime = segNow(p);
  /* never sealed before it was created, whatever the clock did */
  if( pB->iSealTime<pB->iCreateTime ) pB->iSealTime = pB->iCreateTime;
  rc = vlogBucketSetState(p, iSeg, BUCKET_SEALED, KIND_VLOG);
  if( rc==VLOG_OK ) rc = vlogSegTouch(p, iSeg);
  return rc;
}

/* The open segment (after a load), or 0. */
u64 vlogSegFindOpen(VlogStore *p){
  u64 i;
  for(i=1; i<p->sb.nBucket; i++){
    if( p->aBucket[i].eKind==KIND_VLOG && p->aBucket[i].eState==BUCKET_OPEN ) return i;
  }
  return 0;
}

/* nBytes of segment iSeg's records become live (bAdd), or stale.  A
** pointer to what is not a live segment, or more stale bytes than live
** ones, is corruption: an under-count would let maintenance free live
** records. */
int vlogSegLive(VlogStore *p, u64 iSeg, u64 n, int bAdd){
  Bucket *pB;
  int rc;
  if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].eKind!=KIND_VLOG
   || p->aBucket[iSeg].eState==BUCKET_ZOMBIE ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "a value pointer names segment %llu, "
                        "which is not a value-log segment", (unsigned long long)iSeg);
  }
  pB = &p->aBucket[iSeg];
  if( bAdd ? n>pB->nTotal-pB->nLive : n>pB->nLive ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "segment %llu: %s %llu bytes leaves "
        "%s (%llu live of %llu)", (unsigned long long)iSeg,
        bAdd ? "adding" : "removing", (unsigned long long)n,
        bAdd ? "more live than written" : "fewer than none live",
        (unsigned long long)pB->nLive, (unsigned long long)pB->nTotal);
  }
  rc = vlogSegTouch(p, iSeg);
  if( rc ) return rc;
  if( bAdd ) pB->nLive += n;
  else pB->nLive -= n;
  return VLOG_OK;
}

/* At commit, after the accounting: save the figures of every segment the
** transaction touched; a sealed one left with nothing live is retired. */
int vlogSegCommit(VlogStore *p){
  int i, rc = VLOG_OK;
  for(i=0; rc==VLOG_OK && i<p->nTouched; i++){
    u64 iSeg = p->aTouched[i];
    Bucket *pB;
    if( iSeg>=p->sb.nBucket ) continue;
    pB = &p->aBucket[iSeg];
    pB->bTouched = 0;
    if( pB->eKind!=KIND_VLOG ) continue;
    if( pB->eState==BUCKET_SEALED && pB->nLive==0 ){
      rc = vlogBucketRetire(p, iSeg, KIND_VLOG, 0);
    }
    if( rc==VLOG_OK ) rc = segSave(p, iSeg);
  }
  if( rc==VLOG_OK ) p->nTouched = 0;
  return rc;
}
