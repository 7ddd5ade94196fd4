/*
** inspect.c: the engine's state as tables of figures, for the SQL
** introspection tables (ext/introspect.c) and the tools.
**
** DESIGN NOTE
**
** Every function copies figures out under a read transaction (its own,
** unless the caller has one), so what it returns is one committed state,
** current as of the call.  Segments and statistics come from memory (the
** bucket table, the handle's counters): no tree is scanned.  The B-tree
** shape (vlogTreeLevels) walks every node of every tree, leaves included:
** it is for inspection, never on a foreground path.
**
** Counters of operations, cache hits and bytes are the handle's, since it
** was opened; the figures of the store (segments, bytes live and stale,
** journal) are the store's.  Each VlogStat says which (bStore).
*/
#include "storeInt.h"

#define MAX_STATS 64     /* rows of vlogStats (an assert checks the count) */


int vlogSegments(VlogStore *p, VlogSegmentInfo **paSeg, int *pnSeg){
  VlogSegmentInfo *a;
  int bAuto, n = 0;
  u64 i;
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *paSeg = 0;
  *pnSeg = 0;
  if( rc ) return rc;
  a = (VlogSegmentInfo*)vlogMallocZero(p->pEnv, sizeof(*a)*(p->sb.nBucket+1));
  if( a==0 ) return vlogAutoEnd(p, bAuto, vlogSetError(p, VLOG_NOMEM, 0));
  for(i=1; i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->eKind!=KIND_VLOG ) continue;
    a[n].iSeg = i;
    a[n].iGen = pB->iGen;
    a[n].zState = vlogBucketStateName(pB->eState);
    a[n].zKind = pB->eSegKind==SEG_REWRITE ? "rewrite" : "value";
    a[n].nTotal = pB->nTotal;
    a[n].nLive = pB->nLive;
    a[n].nRec = pB->nRec;
    a[n].nDisk = pB->nDisk;
    a[n].nToCompress = pB->nToCompress;
    a[n].iDictLo = pB->iDictLo;
    a[n].iDictHi = pB->iDictHi;
    a[n].iCreateSeq = pB->iCreateSeq;
    a[n].iCreateTime = pB->iCreateTime;
    a[n].iSealSeq = pB->iSealSeq;
    a[n].iSealTime = pB->iSealTime;
    assert( a[n].nLive<=a[n].nTotal );
    n++;
  }
  rc = vlogMaintMarks(p, a, n);
  if( rc ){
    vlogFree(p->pEnv, a);
    return vlogAutoEnd(p, bAuto, rc);
  }
  *paSeg = a;
  *pnSeg = n;
  return vlogAutoEnd(p, bAuto, VLOG_OK);
}

int vlogStats(VlogStore *p, VlogStat **paStat, int *pnStat){
  VlogStat *a;
  int bAuto, n = 0;
  u64 i, nLive = 0, nTotal = 0, nSeg = 0, nToCompress = 0;
  int64_t nMapped = 0;
  u64 iPinCkpt, iPinJrnlSeq, aMaint[5];
  VlogLog *pL = &p->vl;
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *paStat = 0;
  *pnStat = 0;
  if( rc ) return rc;
  rc = vlogMaintCounters(p, aMaint);
  if( rc ) return vlogAutoEnd(p, bAuto, rc);
  /* Figures only: an env that cannot say how much it maps shows 0, and
  ** no pinned snapshot (VLOG_NOTFOUND) shows as 0, 0. */
  if( p->pEnv->xMmap ) (void)p->pEnv->xMmap(p->pFile, -1, &nMapped);
  (void)vlogShmOldestPin(p, &iPinCkpt, &iPinJrnlSeq);
  a = (VlogStat*)vlogMallocZero(p->pEnv, sizeof(*a)*MAX_STATS);
  if( a==0 ) return vlogAutoEnd(p, bAuto, vlogSetError(p, VLOG_NOMEM, 0));
  for(i=1; i<p->sb.nBucket; i++){
    if( p->aBucket[i].eKind==KIND_VLOG ){
      nSeg++;
      nLive += p->aBucket[i].nLive;
      nTotal += p->aBucket[i].nTotal;
      if( p->aBucket[i].eState!=BUCKET_ZOMBIE ) nToCompress += p->aBucket[i].nToCompress;
    }
  }
#define STATX(z, v, b) do{ assert( n<MAX_STATS ); \
                           a[n].zName = (z); a[n].rValue = (double)(v); \
                           a[n].bStore = (b); n++; }while(0)
#define STAT(z, v)  STATX(z, v, 0)     /* the handle's */
#define STORE(z, v) STATX(z, v, 1)     /* the store's */
  STAT("commits", p->nCommit);
  STAT("checkpoints", p->nCheckpoint);
  STAT("checkpoints_deferred", p->nCkptDeferred);
  STAT("read_txns_unlocked", p->nReadUnlocked);
  STAT("read_txns_locked", p->nReadLocked);
  STAT("user_bytes_written", p->nUserBytes);
  STAT("file_bytes_written", p->nFileBytesWritten);
  STAT("write_amplification", p->nUserBytes ?
       (double)p->nFileBytesWritten/(double)p->nUserBytes : 0.0);
  STAT("node_reads", p->nNodeRead);
  STAT("node_writes", p->nNodeWrite);
  STAT("node_cache_hits", p->nCacheHit);
  STAT("node_cache_misses", p->nCacheMiss);
  STAT("node_cache_bytes", p->nCacheBytes);
  STAT("frame_reads", pL->nFrameRead);
  STAT("record_reads", pL->nRecordRead);
  STAT("frame_writes", pL->nFrameWrite);
  STAT("frame_cache_hits", pL->nCacheHit);
  STAT("frame_cache_misses", pL->nCacheMiss);
  STAT("value_bytes_read", pL->nBytesRead);
  STAT("value_bytes_written_raw", pL->nRawWritten);
  STAT("value_bytes_written_disk", pL->nDiskWritten);
  STAT("compression_ratio", pL->nDiskWritten ?
       (double)pL->nRawWritten/(double)pL->nDiskWritten : 1.0);
  STAT("frame_writes_dictionary", pL->nDictFrames);
  STAT("dictionaries_trained", pL->nDictTrained);
  STAT("value_bytes_written_deferred", pL->nDeferWritten);
  STORE("value_bytes_to_compress", nToCompress);
  STORE("dictionary_in_use", pL->iDict);
  STORE("segments", nSeg);
  STORE("value_bytes_total", nTotal);
  STORE("value_bytes_live", nLive);
  STORE("value_bytes_stale", nTotal - nLive);
  STORE("journal_bytes", p->jrnl.nSize);
  STORE("journal_sequence", p->jrnl.iSeq);
  STORE("checkpoint_sequence", p->sb.iSeq);
  STORE("oldest_pinned_checkpoint", iPinCkpt);
  STORE("oldest_pinned_journal_sequence", iPinJrnlSeq);
  STORE("file_bytes", p->sb.nBucket * (u64)p->sb.nBucketSize);
  STAT("mmap_bytes", nMapped);
  STORE("bucket_size", p->sb.nBucketSize);
  STAT("maint_steps", p->maint.nStep);
  STAT("maint_step_errors", p->maint.nStepErr);
  STAT("maint_quiet_passes", p->maint.nQuiet);
  STAT("maint_commits_seen", p->maint.nCommit);
  STORE("maint_passes", aMaint[0]);
  STORE("maint_segments_rewritten", aMaint[1]);
  STORE("maint_bytes_copied", aMaint[2]);
  STORE("maint_segments_freed", aMaint[3]);
  STORE("maint_bytes_reclaimed", aMaint[4]);
  STORE("node_size", p->sb.nNodeSize);
#undef STAT
#undef STORE
#undef STATX
  *paStat = a;
  *pnStat = n;
  return vlogAutoEnd(p, bAuto, VLOG_OK);
}

/* Add pNode and everything below it to the figures in a[] (one entry per
** level of tree iTree, at a[iLevel]). */
static int levelWalk(VlogStore *p, Node *pNode, VlogTreeLevel *a){
  VlogTreeLevel *pL;
  int rc = VLOG_OK, i;
  assert( pNode->iLevel<33 && !pNode->bDead && p->eTxn>0 );
  pL = &a[pNode->iLevel];
  pL->nNode++;
  pL->nKey += (u64)pNode->nLive;
  pL->nBset += pNode->nBset;
  pL->nBytes += (u64)pNode->nLiveBytes;
  if( pNode->iLevel==0 ) return VLOG_OK;
  vlogNodeRef(p, pNode);
  for(i=0; rc==VLOG_OK && i<pNode->aBset[0].n; i++){
    Node *pChild;
    rc = vlogNodeChild(p, pNode, i, &pChild);
    if( rc==VLOG_OK && pChild->iLevel!=pNode->iLevel-1 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad node levels in tree %u", pNode->iTree);
    }
    if( rc==VLOG_OK ) rc = levelWalk(p, pChild, a);
  }
  vlogNodeUnref(p, pNode);
  return rc;
}

const char *vlogTreeName(uint32_t iTree){
  switch( iTree ){
    case TREE_ROOTS: return "roots";
    case TREE_ALLOC: return "buckets";
    case TREE_SEGS:  return "segments";
    case TREE_DICTS: return "dictionaries";
    case TREE_MAINT: return "maintenance";
  }
  return 0;
}

int vlogTreeLevels(VlogStore *p, VlogTreeLevel **paLevel, int *pnLevel){
  VlogTreeLevel *aOut = 0;
  int nOut = 0, nAlloc = 0, bAuto;
  Tree *pTree;
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *paLevel = 0;
  *pnLevel = 0;
  if( rc ) return rc;
  rc = vlogTreesLoadAll(p);
  for(pTree=&p->rootsTree; rc==VLOG_OK && pTree;
      pTree=(pTree==&p->rootsTree ? p->pTrees : pTree->pNext)){
    VlogTreeLevel a[33];
    Node *pRoot;
    int i;
    memset(a, 0, sizeof(a));
    rc = vlogTreeRoot(p, pTree, &pRoot);
    if( rc || pRoot==0 ) continue;
    rc = levelWalk(p, pRoot, a);
    for(i=0; rc==VLOG_OK && i<=pRoot->iLevel; i++){
      if( nOut>=nAlloc ){
        VlogTreeLevel *aNew;
        nAlloc = nAlloc ? nAlloc*2 : 16;
        aNew = (VlogTreeLevel*)vlogRealloc(p->pEnv, aOut, sizeof(*aNew)*nAlloc);
        if( aNew==0 ){
          rc = vlogSetError(p, VLOG_NOMEM, 0);
          break;
        }
        aOut = aNew;
      }
      aOut[nOut] = a[i];
      aOut[nOut].iTree = pTree->iTree;
      aOut[nOut].iLevel = i;
      aOut[nOut].rFill = a[i].nNode ?
          (double)a[i].nBytes / ((double)a[i].nNode * p->sb.nNodeSize) : 0.0;
      nOut++;
    }
  }
  if( rc ){
    vlogFree(p->pEnv, aOut);
    return vlogAutoEnd(p, bAuto, rc);
  }
  *paLevel = aOut;
  *pnLevel = nOut;
  return vlogAutoEnd(p, bAuto, VLOG_OK);
}
