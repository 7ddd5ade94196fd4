/*
** verify.c: the full consistency check (vlogVerify) and its report.
**
** DESIGN NOTE
**
** Verify runs in a read transaction (or the caller's) and changes nothing
** on disk.  It first flushes the write buffer into the cached trees (seed
** 000: nothing may be called stale while an update for it waits in the
** buffer), then checks:
**   - every tree, from the roots tree down: node levels, keys in order
**     within each node and within the separators of the parent, no node
**     reached twice, counts of keys; every clean node is read again from
**     the file and its checksums checked (a dirty node exists only in
**     memory, since the last checkpoint);
**   - regions: each node region lies in a bucket of kind btree, and the
**     regions found are exactly the ones the bucket table calls live;
**   - the alloc tree says for every bucket what the bucket table says;
**   - the journal from the checkpoint's start: every entry up to the
**     handle's position is valid (checksums, sequence), on the chain of
**     journal buckets; and what follows it: an entry there that is not
**     whole (a damaged last commit, or a torn write: the two look alike)
**     gets a line of the report naming its sequence and offset, since
**     replay took it as the torn tail and dropped its commit
**     (checkJournalTail).  That is not an error: it is how recovery
**     treats a torn write.
** The report lists trees, buckets by state and what was checked; an
** inconsistency is VLOG_CORRUPT with a message naming it.
*/
#include "storeInt.h"

typedef struct VerifyCtx VerifyCtx;
struct VerifyCtx {
  VlogStore *p;
  VlogBuf *pRep;
  u64 *aLive;                  /* per bucket: regions found */
  u64 nNode, nKey;
  u64 nValueBytes;             /* bytes of user values read */
};

static int recount(VlogStore *p, u64 iSeg, u64 nBytes){
  assert( p->aRecount!=0 && nBytes>0 );
  if( p->aRecount && iSeg<p->sb.nBucket ) p->aRecount[iSeg] += nBytes;
  return VLOG_OK;
}

static int corrupt(VlogStore *p, const char *zMsg, u32 iTree, u64 iOff){
  return vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: tree %u, node at offset %llu: %s",
                      iTree, (unsigned long long)iOff, zMsg);
}

/* Re-read a clean node's region and decode it (checksums). */
static int checkOnDisk(VlogStore *p, Node *pNode){
  u8 *a;
  Node *pCopy;
  int rc;
  if( pNode->bDirty || pNode->iOff==0 ) return VLOG_OK;
  assert( !pNode->bDead && pNode->nDisk>0 && pNode->nDisk<=p->sb.nNodeSize );
  a = (u8*)vlogMalloc(p->pEnv, pNode->nDisk);
  pCopy = vlogNodeNew(p, pNode->iTree, pNode->iLevel, pNode->gen);
  if( a==0 || pCopy==0 ){
    vlogFree(p->pEnv, a);
    if( pCopy ) vlogNodeFree(p, pCopy);
    return vlogSetError(p, VLOG_NOMEM, 0);
  }
  rc = vlogReadAt(p, pNode->iOff, a, (int)pNode->nDisk, "B-tree node");
  if( rc==VLOG_OK ){
    rc = vlogNodeDecode(p, pCopy, a, (int)pNode->nDisk, pNode->iTree,
                        pNode->iLevel, pNode->iOff);
  }
  vlogNodeFree(p, pCopy);
  vlogFree(p->pEnv, a);
  return rc;
}

/*
** Check the subtree under pNode; its keys must be >= pLo (when not 0) and
** < pHi (when not 0).
*/
static int checkNode(VerifyCtx *v, Node *pNode, const u8 *pLo, int nLo,
                     const u8 *pHi, int nHi){
  VlogStore *p = v->p;
  int rc, i;
  Entry *aE;
  int n;

  assert( !pNode->bDead && pNode->nRef>0 && pNode->iLevel<32 );
  assert( (pLo==0 || nLo>0) && (pHi==0 || nHi>0) );
  v->nNode++;
  if( pNode->iOff ){
    u64 iBucket = pNode->iOff / p->sb.nBucketSize;
    int iSlot = (int)((pNode->iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
    if( iBucket==0 || iBucket>=p->sb.nBucket ){
      return corrupt(p, "region outside the store", pNode->iTree, pNode->iOff);
    }
    if( p->aBucket[iBucket].eKind!=KIND_BTREE ){
      return corrupt(p, "region in a bucket that is not a B-tree bucket",
                     pNode->iTree, pNode->iOff);
    }
    if( v->aLive[iBucket] & ((u64)1<<iSlot) ){
      return corrupt(p, "region used by two nodes", pNode->iTree, pNode->iOff);
    }
    v->aLive[iBucket] |= ((u64)1<<iSlot);
  }
  rc = checkOnDisk(p, pNode);
  if( rc ) return rc;
  rc = vlogNodeView(p, pNode);
  if( rc ) return rc;
  aE = pNode->aView ? pNode->aView : pNode->aBset[0].a;
  n = pNode->aView ? pNode->nView : pNode->aBset[0].n;
  if( n!=pNode->nLive ){
    return corrupt(p, "live key count is wrong", pNode->iTree, pNode->iOff);
  }
  for(i=0; i<n; i++){
    if( i>0 && vlogKeyCmp(aE[i-1].pKey, aE[i-1].nKey, aE[i].pKey, aE[i].nKey)>=0 ){
      return corrupt(p, "keys out of order", pNode->iTree, pNode->iOff);
    }
    if( pLo && i>0 && vlogKeyCmp(aE[i].pKey, aE[i].nKey, pLo, nLo)<0 ){
      return corrupt(p, "key below its parent's separator", pNode->iTree, pNode->iOff);
    }
    if( pHi && vlogKeyCmp(aE[i].pKey, aE[i].nKey, pHi, nHi)>=0 ){
      return corrupt(p, "key at or above the next separator", pNode->iTree, pNode->iOff);
    }
  }
  if( pNode->iLevel==0 ){
    v->nKey += (u64)n;
    if( pNode->iTree>=VLOG_TREE_FIRST_USER ){
      /* every value readable (frames, checksums, keys); pointers counted */
      for(i=0; rc==VLOG_OK && i<n; i++){
        const u8 *pV;
        int nV;
        rc = vlogValueForEach(p, pNode->iTree, (int)aE[i].nKey, aE[i].pVal,
                              (int)aE[i].nVal, recount);
        if( rc ) rc = corrupt(p, "bad value pointer", pNode->iTree, pNode->iOff);
        if( rc==VLOG_OK ){
          rc = vlogValueVerify(p, pNode->iTree, aE[i].pKey, (int)aE[i].nKey, aE[i].pVal,
                               (int)aE[i].nVal, &pV, &nV);
        }
        if( rc==VLOG_OK ) v->nValueBytes += (u64)nV;
      }
    }
    return rc;
  }
  if( n==0 ) return corrupt(p, "empty interior node", pNode->iTree, pNode->iOff);
  vlogNodeRef(p, pNode);
  for(i=0; rc==VLOG_OK && i<n; i++){
    Node *pChild;
    /* entries may move if the child load evicts nothing: re-read them */
    Entry *aE2 = pNode->aBset[0].a;
    rc = vlogNodeChild(p, pNode, i, &pChild);
    if( rc==VLOG_OK && pChild->iLevel!=pNode->iLevel-1 ){
      rc = corrupt(p, "child at the wrong level", pNode->iTree, pNode->iOff);
    }
    if( rc==VLOG_OK ){
      vlogNodeRef(p, pChild);
      rc = checkNode(v, pChild, i>0 ? aE2[i].pKey : pLo, i>0 ? (int)aE2[i].nKey : nLo,
                     i+1<n ? aE2[i+1].pKey : pHi, i+1<n ? (int)aE2[i+1].nKey : nHi);
      vlogNodeUnref(p, pChild);
    }
  }
  vlogNodeUnref(p, pNode);
  return rc;
}

static int checkTree(VerifyCtx *v, Tree *pTree){
  VlogStore *p = v->p;
  Node *pRoot = pTree->pRoot;
  u64 nNode0 = v->nNode, nKey0 = v->nKey;
  int rc = VLOG_OK;
  rc = vlogTreeRoot(p, pTree, &pRoot);
  if( rc ) return rc;
  if( pRoot ){
    if( pRoot->iLevel!=pTree->nLevel-1 ){
      return corrupt(p, "root level disagrees with the tree's level count",
                     pTree->iTree, pRoot->iOff);
    }
    rc = checkNode(v, pRoot, 0, 0, 0, 0);
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, v->pRep, "tree %u: levels %u, nodes %llu, keys %llu\n",
        pTree->iTree, pTree->nLevel, (unsigned long long)(v->nNode-nNode0),
        (unsigned long long)(v->nKey-nKey0));
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  return rc;
}

/* Check the journal entries from the checkpoint to the handle's position. */
static int checkJournal(VlogStore *p, VlogBuf *pRep){
  u64 iOff = p->sb.iJrnlOff, iSeq = p->sb.iJrnlSeq;
  u64 nEntry = 0;
  u8 h[JE_HDR];
  VlogBuf body = {0, 0, 0};
  int rc = VLOG_OK;
  while( rc==VLOG_OK && iSeq<p->jrnl.iSeq ){
    u32 nPayload;
    u64 iBucket = iOff / p->sb.nBucketSize;
    if( iBucket>=p->sb.nBucket || p->aBucket[iBucket].eKind!=KIND_JOURNAL ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: journal entry %llu is in bucket %llu, not a journal bucket",
          (unsigned long long)iSeq, (unsigned long long)iBucket);
      break;
    }
    rc = vlogReadAt(p, iOff, h, JE_HDR, "journal entry");
    if( rc ) break;
    nPayload = vlogGet32(&h[24]);
    if( vlogGet32(&h[0])!=JE_MAGIC || vlogGet64(&h[40])!=vlogChecksum(h, 40, SEED_JHDR)
     || vlogGet64(&h[8])!=iSeq || nPayload>p->sb.nBucketSize ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: journal entry %llu at offset %llu: bad header",
          (unsigned long long)iSeq, (unsigned long long)iOff);
      break;
    }
    body.n = 0;
    rc = vlogBufReserve(p->pEnv, &body, (int)nPayload);
    if( rc==VLOG_OK ) rc = vlogReadAt(p, iOff+JE_HDR, body.a, (int)nPayload, "journal entry");
    if( rc ) break;
    if( vlogGet64(&h[32])!=vlogChecksum(body.a, nPayload, SEED_JPAYLOAD) ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: journal entry %llu at offset %llu: payload checksum mismatch",
          (unsigned long long)iSeq, (unsigned long long)iOff);
      break;
    }
    nEntry++;
    if( vlogGet32(&h[4])==JE_LINK ){
      u64 iNew;
      rc = vlogJournalLinkTarget(p, body.a, (int)nPayload, iSeq, iOff, &iNew);
      if( rc ) break;
      iOff = iNew * (u64)p->sb.nBucketSize;
    }else{
      iOff += (JE_HDR + nPayload + JE_ALIGN-1) & ~(u64)(JE_ALIGN-1);
    }
    iSeq++;
  }
  vlogBufFree(p->pEnv, &body);
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, pRep,
        "journal: %llu entries since the checkpoint, all valid\n",
        (unsigned long long)nEntry);
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  return rc;
}

/*
** What follows the last entry replayed, at the handle's journal position.
** Replay stops at the first entry that is not whole, and cannot tell a
** damaged last entry from a torn write (journal.c): the commit in it is
** not replayed, as SQLite's WAL drops a damaged last frame.  Verify cannot
** tell either, but it says so when the bytes there are an entry of this
** journal that is not whole: the journal's magic with a bad header, or the
** expected sequence with a bad payload or value-log frames that are not
** whole.  Zeros, other bytes and whole entries of an earlier use of the
** bucket (an older sequence) are a clean end; whole entries (parts of a
** commit, links, or a commit another handle made after this snapshot) are
** followed.  Adds a line to pRep when the end is not clean.
*/
static int checkJournalTail(VlogStore *p, VlogBuf *pRep){
  u64 iOff = p->jrnl.iOff, iSeq = p->jrnl.iSeq;
  VlogBuf body = {0, 0, 0};
  VlogBuf parts = {0, 0, 0};
  const char *zWhy = 0;
  u8 h[JE_HDR];
  int rc = VLOG_OK;
  int nStep;
  for(nStep=0; rc==VLOG_OK && zWhy==0 && nStep<1000; nStep++){
    u64 iBucketEnd = (iOff / p->sb.nBucketSize + 1) * p->sb.nBucketSize;
    u32 eType, nPayload;
    if( iOff + JE_HDR > iBucketEnd ) break;
    rc = p->pEnv->xRead(p->pFile, (i64)iOff, h, JE_HDR);
    if( rc==VLOG_IOERR_SHORT_READ ) rc = VLOG_OK;   /* zeros: the end */
    if( rc || vlogGet32(&h[0])!=JE_MAGIC ) break;
    if( vlogGet64(&h[40])!=vlogChecksum(h, 40, SEED_JHDR) ){
      zWhy = "header checksum mismatch";
      break;
    }
    if( vlogGet64(&h[8])!=iSeq ) break;
    eType = vlogGet32(&h[4]);
    nPayload = vlogGet32(&h[24]);
    if( eType<JE_COMMIT || eType>JE_PART || iOff + JE_HDR + nPayload > iBucketEnd
     || (eType==JE_LINK && nPayload<8) ){
      zWhy = "bad header";
      break;
    }
    body.n = 0;
    rc = vlogBufReserve(p->pEnv, &body, (int)nPayload);
    if( rc==VLOG_OK ) rc = p->pEnv->xRead(p->pFile, (i64)iOff+JE_HDR, body.a, (int)nPayload);
    if( rc==VLOG_IOERR_SHORT_READ ){
      rc = VLOG_OK;
      zWhy = "payload past the end of the file";
    }else if( rc==VLOG_OK
           && vlogGet64(&h[32])!=vlogChecksum(body.a, nPayload, SEED_JPAYLOAD) ){
      zWhy = "payload checksum mismatch";
    }else if( rc==VLOG_OK && eType==JE_LINK ){
      u64 iNew = vlogGet64(body.a);
      if( iNew==0 || iNew>=MAX_BUCKETS(p->sb.nBucketSize) ){
        zWhy = "a link to a bucket outside any store";
      }
      iOff = iNew * (u64)p->sb.nBucketSize;
      iSeq++;
    }else if( rc==VLOG_OK ){
      rc = vlogBufAppend(p->pEnv, &parts, body.a, (int)nPayload);
      if( rc==VLOG_OK && eType==JE_COMMIT ){
        rc = vlogLogVerifyExtent(p, parts.a, parts.n);
        if( rc==VLOG_NOTFOUND ){
          rc = VLOG_OK;
          zWhy = "its value-log frames are not whole";
        }
        break;                  /* else a whole commit, after this snapshot */
      }
      iOff += (JE_HDR + nPayload + JE_ALIGN-1) & ~(u64)(JE_ALIGN-1);
      iSeq++;
    }
  }
  vlogBufFree(p->pEnv, &body);
  vlogBufFree(p->pEnv, &parts);
  if( rc==VLOG_OK && zWhy ){
    rc = vlogBufPrintf(p->pEnv, pRep,
        "journal: entry %llu at offset %llu, after the last commit replayed, is "
        "damaged (%s): taken as a torn write, its commit is not replayed\n",
        (unsigned long long)iSeq, (unsigned long long)iOff, zWhy);
  }
  if( rc ) rc = vlogSetError(p, rc, "verify: cannot read the end of the journal (%s)",
                             vlogErrName(rc));
  return rc;
}

/* The alloc tree and the bucket table must agree. */
static int checkAlloc(VlogStore *p){
  u64 i;
  int rc = VLOG_OK;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    u8 aKey[8];
    const u8 *pVal;
    int nVal, r;
    Bucket *pB = &p->aBucket[i];
    vlogPutBE64(aKey, i);
    r = vlogBtreeLookup(p, TREE_ALLOC, aKey, 8, &pVal, &nVal);
    if( r==VLOG_NOTFOUND ){
      if( pB->eState!=BUCKET_FREE ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
            "verify: bucket %llu is %s/%s but the alloc tree has no entry",
            (unsigned long long)i, vlogBucketStateName(pB->eState),
            vlogBucketKindName(pB->eKind));
      }
    }else if( r ){
      rc = r;
    }else if( nVal!=2 || pVal[0]!=pB->eState || pVal[1]!=pB->eKind ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: bucket %llu is %s/%s but the alloc tree says %s/%s",
          (unsigned long long)i, vlogBucketStateName(pB->eState),
          vlogBucketKindName(pB->eKind),
          nVal==2 ? vlogBucketStateName(pVal[0]) : "?",
          nVal==2 ? vlogBucketKindName(pVal[1]) : "?");
    }
  }
  return rc;
}

/* Every segment's live bytes equal the recount of the pointers to it, and
** its record in TREE_SEGS says what the table says. */
static int checkSegments(VlogStore *p, VlogBuf *pRep){
  u64 i, nSeg = 0, nLive = 0, nTotal = 0;
  int rc = VLOG_OK;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    u8 aKey[8];
    const u8 *pVal;
    int nVal, r;
    if( pB->eKind!=KIND_VLOG ){
      if( p->aRecount[i] ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
            "verify: values point into bucket %llu, which is not a segment",
            (unsigned long long)i);
      }
      continue;
    }
    nSeg++;
    nLive += pB->nLive;
    nTotal += pB->nTotal;
    if( p->aRecount[i]!=pB->nLive ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: segment %llu: %llu live bytes recorded, %llu counted",
          (unsigned long long)i, (unsigned long long)pB->nLive,
          (unsigned long long)p->aRecount[i]);
      break;
    }
    vlogPutBE64(aKey, i);
    r = vlogBtreeLookup(p, TREE_SEGS, aKey, 8, &pVal, &nVal);
    if( r==VLOG_OK && !vlogSegRecordMatches(p, i, pVal, nVal) ){
      r = VLOG_CORRUPT;
    }
    if( r ){
      rc = vlogSetError(p, r==VLOG_NOMEM ? r : VLOG_CORRUPT_BKPT,
          "verify: segment %llu: the segments tree disagrees with the table",
          (unsigned long long)i);
    }
  }
  if( rc==VLOG_OK ){
    /* and the segments tree has no record of a bucket that is no segment
    ** (one left behind when its bucket was freed or taken for something
    ** else: alloc.c, segForget) */
    VlogCursor *pCsr = 0;
    rc = vlogCursorOpen(p, TREE_SEGS, &pCsr);
    if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
    while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
      const void *pKey;
      int nKey;
      u64 iSeg;
      rc = vlogCursorKey(pCsr, &pKey, &nKey);
      if( rc ) break;
      iSeg = nKey==8 ? vlogGetBE64((const u8*)pKey) : 0;
      if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].eKind!=KIND_VLOG ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: the segments tree has a "
            "record for bucket %llu, which is no segment (%s)", (unsigned long long)iSeg,
            iSeg && iSeg<p->sb.nBucket ? vlogBucketKindName(p->aBucket[iSeg].eKind)
                                       : "outside the store");
        break;
      }
      rc = vlogCursorNext(pCsr);
    }
    if( pCsr ){
      int rc2 = vlogCursorClose(pCsr);
      if( rc==VLOG_OK ) rc = rc2;
    }
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, pRep,
        "value log: %llu segments, %llu bytes of records, %llu live (recounted)\n",
        (unsigned long long)nSeg, (unsigned long long)nTotal,
        (unsigned long long)nLive);
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  return rc;
}

int vlogVerify(VlogStore *p, char **pzReport){
  VlogBuf rep = {0, 0, 0};
  VerifyCtx v;
  int rc, bAuto = 0;
  u64 i, aCount[5];
  Tree *pTree;

  *pzReport = 0;
  assert( p->aRecount==0 );
  memset(&v, 0, sizeof(v));
  v.p = p;
  v.pRep = &rep;
  rc = vlogAutoBegin(p, 0, &bAuto);
  if( rc ) return rc;
  rc = vlogWbFlush(p, 1);
  assert( rc || p->wb.n==0 );                 /* nothing waits in the buffer */
  if( rc==VLOG_OK ){
    v.aLive = (u64*)vlogMallocZero(p->pEnv, sizeof(u64)*(p->sb.nBucket+1));
    p->aRecount = (u64*)vlogMallocZero(p->pEnv, sizeof(u64)*(p->sb.nBucket+1));
    if( v.aLive==0 || p->aRecount==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, &rep, "store %s: checkpoint %llu, %llu buckets of %u bytes, "
        "nodes of %u bytes\n", p->zPath, (unsigned long long)p->sb.iSeq,
        (unsigned long long)p->sb.nBucket, p->sb.nBucketSize, p->sb.nNodeSize);
  }
  if( rc==VLOG_OK ) rc = checkTree(&v, &p->rootsTree);
  /* Load every tree the roots tree lists, then check every tree in memory
  ** (which includes trees created since the checkpoint). */
  if( rc==VLOG_OK ) rc = vlogTreesLoadAll(p);
  for(pTree=p->pTrees; rc==VLOG_OK && pTree; pTree=pTree->pNext){
    if( !vlogTreeExists(pTree) ){
      /* emptied or dropped (and still listed in memory): no node */
      if( pTree->pRoot ) rc = corrupt(p, "a tree that does not exist has a root",
                                      pTree->iTree, pTree->pRoot->iOff);
      continue;
    }
    rc = checkTree(&v, pTree);
  }
  /* trees emptied since the checkpoint are still listed in memory */
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    if( (p->aBucket[i].mLive & ~v.aLive[i]) || (v.aLive[i] & ~p->aBucket[i].mLive) ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "verify: bucket %llu: live regions %llx in the table, %llx found",
          (unsigned long long)i, (unsigned long long)p->aBucket[i].mLive,
          (unsigned long long)v.aLive[i]);
    }
  }
  if( rc==VLOG_OK ) rc = checkAlloc(p);
  if( rc==VLOG_OK ) rc = checkSegments(p, &rep);
  if( rc==VLOG_OK ) rc = vlogDictVerify(p, &rep);
  if( rc==VLOG_OK ) rc = checkJournal(p, &rep);
  if( rc==VLOG_OK ) rc = checkJournalTail(p, &rep);
  if( rc==VLOG_OK ){
    memset(aCount, 0, sizeof(aCount));
    for(i=1; i<p->sb.nBucket; i++){
      if( p->aBucket[i].eState<5 ) aCount[p->aBucket[i].eState]++;
    }
    rc = vlogBufPrintf(p->pEnv, &rep,
        "buckets: %llu free, %llu open, %llu sealed, %llu zombie, %llu need-discard\n"
        "nodes: %llu, keys: %llu\nok\n",
        (unsigned long long)aCount[0], (unsigned long long)aCount[1],
        (unsigned long long)aCount[2], (unsigned long long)aCount[3],
        (unsigned long long)aCount[4], (unsigned long long)v.nNode,
        (unsigned long long)v.nKey);
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  vlogFree(p->pEnv, v.aLive);
  vlogFree(p->pEnv, p->aRecount);
  p->aRecount = 0;
  rc = vlogAutoEnd(p, bAuto, rc);
  if( rc ){
    vlogBufFree(p->pEnv, &rep);
    return rc;
  }
  *pzReport = (char*)rep.a;
  return VLOG_OK;
}
