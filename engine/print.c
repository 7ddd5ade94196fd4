/*
** print.c: printers of the engine's structures, one line (or a few) each.
**
** DESIGN NOTE
**
** Each *ToText function appends a description of one structure to a
** VlogBuf, in the words the design notes use, numbers in decimal: the
** superblock, a bucket (with a segment's accounting when it is one), a
** value-log segment (its accounting: vlog.c's figures), a node (its
** header, and its keys when asked), a journal entry (its header and a
** count of its records by type).  They read memory only and trust
** nothing in it beyond what the structure's decoder already checked, so
** they are safe on what a damaged store loaded.  They serve:
**   - vlogtool dump (vlogStoreDump): the whole store, or one part;
**   - tests, which compare a dump of a crafted store with what it must
**     say (format.test);
**   - messages of asserts and of a debugger: call vlogBucketToText() from
**     gdb to see a bucket as the engine sees it.
** Keys are printed as hex, at most DUMP_KEY_BYTES of them, then "..".
*/
#include <stdio.h>
#include "storeInt.h"

#define DUMP_KEY_BYTES 24

#define U(x) ((unsigned long long)(x))

int vlogSbToText(VlogEnv *pEnv, const Superblock *s, VlogBuf *pOut){
  return vlogBufPrintf(pEnv, pOut,
      "superblock: checkpoint %llu, format %d, bucket size %u, node size %u, "
      "%llu buckets, roots tree at %llu (gen %llu, %u bytes, %u levels), "
      "journal from offset %llu sequence %llu, next node gen %llu, next segment "
      "gen %llu, created %llu us, checkpointed %llu us\n",
      U(s->iSeq), FORMAT_VERSION, s->nBucketSize, s->nNodeSize, U(s->nBucket),
      U(s->rootsRoot.off), U(s->rootsRoot.gen), s->rootsRoot.len, s->rootsLevel,
      U(s->iJrnlOff), U(s->iJrnlSeq), U(s->iNextGen), U(s->iNextSegGen),
      U(s->iCreated), U(s->iCkptTime));
}

/* The accounting of segment pB, on one line without its end. */
static int segFigures(VlogStore *p, const Bucket *pB, VlogBuf *pOut){
  char zStale[32];
  if( pB->nLive<=pB->nTotal ){
    snprintf(zStale, sizeof(zStale), "%llu", U(pB->nTotal - pB->nLive));
  }else{
    snprintf(zStale, sizeof(zStale), "negative");
  }
  return vlogBufPrintf(p->pEnv, pOut, "segment gen %llu (%s): %llu bytes of "
      "records, %llu live, %llu records, %llu bytes used, %s bytes stale, "
      "%llu to compress, dictionaries %u-%u, created seq %llu at %llu us, "
      "sealed seq %llu at %llu us%s", U(pB->iGen),
      pB->eSegKind==SEG_REWRITE ? "rewrite" : "value", U(pB->nTotal),
      U(pB->nLive), U(pB->nRec), U(pB->nDisk), zStale, U(pB->nToCompress),
      pB->iDictLo, pB->iDictHi, U(pB->iCreateSeq),
      U(pB->iCreateTime), U(pB->iSealSeq), U(pB->iSealTime),
      pB->bTouched ? ", changed since the last commit" : "");
}

int vlogBucketToText(VlogStore *p, u64 iBucket, VlogBuf *pOut){
  const Bucket *pB;
  int rc;
  if( iBucket==0 || iBucket>=p->sb.nBucket ){
    return vlogBufPrintf(p->pEnv, pOut, "bucket %llu: none (the store has %llu)\n",
                         U(iBucket), U(p->sb.nBucket));
  }
  pB = &p->aBucket[iBucket];
  rc = vlogBufPrintf(p->pEnv, pOut, "bucket %llu at %llu: %s %s", U(iBucket),
                     U(vlogBucketOffset(p, iBucket)), vlogBucketStateName(pB->eState),
                     vlogBucketKindName(pB->eKind));
  if( rc==VLOG_OK && pB->eKind==KIND_BTREE ){
    rc = vlogBufPrintf(p->pEnv, pOut, ", regions live %llx pending %llx held %llx",
                       U(pB->mLive), U(pB->mPending), U(pB->mHeld));
  }
  if( rc==VLOG_OK && pB->eKind==KIND_VLOG ){
    rc = vlogBufPrintf(p->pEnv, pOut, ", ");
    if( rc==VLOG_OK ) rc = segFigures(p, pB, pOut);
  }
  if( rc==VLOG_OK ) rc = vlogBufPrintf(p->pEnv, pOut, "\n");
  return rc;
}

/*
** Segment iSeg's accounting (vlog.c): "segment N: " and the figures, or
** that bucket N is no segment.  Stale bytes are printed as the design
** note defines them (total - live), or as "negative" when live exceeds
** total: the printer is for the messages of checks that catch that.
*/
int vlogSegToText(VlogStore *p, u64 iSeg, VlogBuf *pOut){
  int rc;
  if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].eKind!=KIND_VLOG ){
    return vlogBufPrintf(p->pEnv, pOut, "segment %llu: none (bucket %s)\n", U(iSeg),
        iSeg && iSeg<p->sb.nBucket ? vlogBucketKindName(p->aBucket[iSeg].eKind)
                                   : "outside the store");
  }
  rc = vlogBufPrintf(p->pEnv, pOut, "segment %llu (%s): ", U(iSeg),
                     vlogBucketStateName(p->aBucket[iSeg].eState));
  if( rc==VLOG_OK ) rc = segFigures(p, &p->aBucket[iSeg], pOut);
  if( rc==VLOG_OK ) rc = vlogBufPrintf(p->pEnv, pOut, "\n");
  return rc;
}

/* Key a[0..n) as hex, shortened. */
static int keyToText(VlogEnv *pEnv, const u8 *a, int n, VlogBuf *pOut){
  int i, rc = VLOG_OK;
  for(i=0; rc==VLOG_OK && i<n && i<DUMP_KEY_BYTES; i++){
    rc = vlogBufPrintf(pEnv, pOut, "%02x", a[i]);
  }
  if( rc==VLOG_OK && n>DUMP_KEY_BYTES ) rc = vlogBufPrintf(pEnv, pOut, "..");
  return rc;
}

int vlogNodeToText(VlogStore *p, const Node *pNode, int bKeys, VlogBuf *pOut){
  int rc, i, j;
  assert( pNode->nBset<=3 );
  rc = vlogBufPrintf(p->pEnv, pOut, "node tree %u level %u gen %llu at %llu: "
      "%d bsets, %u bytes written, %d live keys%s\n", pNode->iTree, pNode->iLevel,
      U(pNode->gen), U(pNode->iOff), pNode->nBset, pNode->nDisk, pNode->nLive,
      pNode->bDirty ? ", dirty" : "");
  for(i=0; bKeys && rc==VLOG_OK && i<pNode->nBset; i++){
    const Bset *pSet = &pNode->aBset[i];
    for(j=0; rc==VLOG_OK && j<pSet->n; j++){
      const Entry *e = &pSet->a[j];
      rc = vlogBufPrintf(p->pEnv, pOut, "  bset %d: %s ", i,
                         e->eType==ENTRY_WHITEOUT ? "whiteout" : "put");
      if( rc==VLOG_OK ) rc = keyToText(p->pEnv, e->pKey, (int)e->nKey, pOut);
      if( rc==VLOG_OK ){
        rc = vlogBufPrintf(p->pEnv, pOut, " (%u bytes of value)\n", e->nVal);
      }
    }
  }
  return rc;
}

int vlogJournalEntryToText(VlogEnv *pEnv, u64 iOff, const u8 *h,
                           const u8 *aPayload, int nRaw, VlogBuf *pOut){
  static const char *azType[] = { "?", "commit", "link", "part" };
  u32 eType = vlogGet32(&h[4]) & ~(u32)JE_ZSTD;
  u32 nPayload = (u32)nRaw;
  int rc = vlogBufPrintf(pEnv, pOut, "journal entry %llu at %llu: %s, %u bytes",
      U(vlogGet64(&h[8])), U(iOff), azType[eType<=JE_PART ? eType : 0],
      vlogGet32(&h[24]));
  if( rc==VLOG_OK && (vlogGet32(&h[4]) & JE_ZSTD) ){
    rc = vlogBufPrintf(pEnv, pOut, " (zstd, %u raw)", nPayload);
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(pEnv, pOut, ", %u records, durable up to %llu",
                       vlogGet32(&h[28]), U(vlogGet64(&h[16])));
  }
  if( rc==VLOG_OK && aPayload && eType==JE_LINK && nPayload>=8 ){
    rc = vlogBufPrintf(pEnv, pOut, ", continues in bucket %llu",
                       U(vlogGet64(aPayload)));
  }else if( rc==VLOG_OK && aPayload ){
    /* count the records by type, as far as they parse */
    u32 aN[6] = {0, 0, 0, 0, 0, 0};
    int i = 0, n;
    LogRec r;
    while( i<(int)nPayload && vlogRecDecode(&aPayload[i], (int)nPayload-i, &r, &n)==0 ){
      aN[r.eOp]++;
      i += n;
    }
    rc = vlogBufPrintf(pEnv, pOut, ": %u puts, %u deletes, %u write-buffer, "
        "%u value-log extents, %u tree changes%s", aN[REC_PUT], aN[REC_DELETE],
        aN[REC_WB], aN[REC_VEXT], aN[REC_TREE],
        i==(int)nPayload ? "" : ", then bytes that do not parse");
  }
  if( rc==VLOG_OK ) rc = vlogBufPrintf(pEnv, pOut, "\n");
  return rc;
}

/*
** vlogStoreDump (vlogtool dump): the superblocks, every bucket, the root
** node of every tree and the journal since the checkpoint.  Read-only:
** runs in a read transaction of its own unless one is open.
*/
int vlogStoreDump(VlogStore *p, char **pzOut){
  VlogBuf b = {0, 0, 0};
  VlogEnv *pEnv = p->pEnv;
  Tree *pT;
  u64 i;
  int bAuto = 0;
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *pzOut = 0;
  if( rc ) return rc;
  rc = vlogSbToText(pEnv, &p->sb, &b);
  if( rc==VLOG_OK && p->bOldValid ){
    rc = vlogBufPrintf(pEnv, &b, "older ");
    if( rc==VLOG_OK ) rc = vlogSbToText(pEnv, &p->sbOld, &b);
  }
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++) rc = vlogBucketToText(p, i, &b);
  if( rc==VLOG_OK && p->rootsTree.pRoot ){
    rc = vlogNodeToText(p, p->rootsTree.pRoot, 0, &b);
  }
  for(pT=p->pTrees; rc==VLOG_OK && pT; pT=pT->pNext){
    Node *pRoot = 0;
    if( pT->nLevel==0 ) continue;
    rc = vlogTreeRoot(p, pT, &pRoot);
    if( rc==VLOG_OK && pRoot ) rc = vlogNodeToText(p, pRoot, 0, &b);
  }
  if( rc==VLOG_OK ) rc = vlogJournalDump(p, &b);
  if( rc==VLOG_NOMEM ) rc = vlogSetError(p, rc, 0);
  rc = vlogAutoEnd(p, bAuto, rc);
  if( rc ){
    vlogBufFree(pEnv, &b);
    return rc;
  }
  *pzOut = (char*)b.a;
  return VLOG_OK;
}
