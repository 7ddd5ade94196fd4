/*
** journal.c: the journal: one checksummed entry per commit, recovery.
**
** DESIGN NOTE
**
** The journal is a chain of journal buckets.  Entries (format in
** storeInt.h) follow one another, each on a sector boundary (below).  The
** superblock of the last checkpoint says where the first entry after it
** is, and its sequence number; each entry's sequence is the previous
** one's plus one.
**
** Each entry starts on a sector boundary (VLOG_SECTOR): the next commit
** never writes into a sector that holds a synced entry.
**
** Entry types:
**   JE_COMMIT  the redo records of one transaction (REC_PUT, REC_DELETE)
**              and the write-buffer records it produced (REC_WB)
**   JE_PART    a leading part of a transaction too big for one entry; the
**              parts count only once their JE_COMMIT follows
**   JE_LINK    the rest of this bucket is unused; the journal continues at
**              the start of the bucket named in the payload (u64), whose
**              allocation is in the entry's REC_WB records
**
** Durability.  A commit writes its entries with one write each and, at
** synchronous=full, syncs once: then it is durable.  Each header carries
** the "durable sequence": the last entry known synced when it was written.
**
** Recovery (replay).  From the checkpoint's journal position, entries are
** read and applied in order.  The first entry that is not valid (wrong
** magic, sequence or checksum, or cut off by the end of the file) is the
** tail: replay stops there, cleanly, and the next commit overwrites it.  A
** torn tail is normal after a crash; so is an entry the end of the file
** cuts short, which a power loss leaves rarely but a process killed in the
** middle of a large write() leaves often (Linux ends a write at a page
** boundary when a fatal signal comes): its header, written first, is
** whole, its payload is not.
** But a damaged entry (bad header or bad payload) followed in its bucket
** by a valid entry with the next sequence, whose durable sequence covers
** it, was once complete and synced: that is corruption (VLOG_CORRUPT, with
** the entry's sequence and offset), not a tail, and the store does not
** open.  A damaged last entry cannot be told from a torn write: it is
** taken as the tail, and its commit is dropped (as SQLite's WAL drops a
** damaged last frame); vlogVerify's report names it (verify.c).
**
** Readers in other handles use the same replay to catch up with commits
** made since their last transaction (vlogStoreRefresh()); a reader of the
** reader table stops at the journal end it published (iReplayEnd), so a
** commit being written, or prepared and not yet published, is invisible
** to it.  A prepared commit taken back has its first header zeroed: a
** tail, which the next commit overwrites.
**
** Hostile payloads.  A valid checksum shows that an entry is whole, not
** that this engine wrote it: anyone can compute xxh3.  So replay reads
** every payload as untrusted input.  vlogRecordSize() checks each record
** against the end of the payload before any length in it is used, and
** each record must name what can be: write-buffer records only for the
** alloc and segments trees, for a bucket below MAX_BUCKETS, with a state
** and a kind that exist (applyWb); changes only to user trees and the
** dictionaries, with a key and a leaf value of sizes a leaf takes
** (applyChange); a link only to a bucket below MAX_BUCKETS
** (vlogJournalLinkTarget).  Anything else is VLOG_CORRUPT naming the
** entry, its offset and the record's byte.
**
** A checkpoint does not free the journal buckets before its journal start
** at once: they become ZOMBIE until the next checkpoint, so that recovery
** from the older superblock of the pair still finds its journal.
*/
#include <stdarg.h>
#include <stdio.h>
#include "storeInt.h"

/* Largest payload of one entry. */
static int maxPayload(VlogStore *p){
  return (int)p->sb.nBucketSize - JE_HDR - JE_LINK_RESERVE - JE_ALIGN*2;
}

static int alignUp(int n){ return (n + JE_ALIGN-1) & ~(JE_ALIGN-1); }

static void headerEncode(u8 *a, int eType, u64 iSeq, u64 iDurable,
                         const u8 *aPayload, int nPayload, int nRec){
  vlogPut32(&a[0], JE_MAGIC);
  vlogPut32(&a[4], (u32)eType);
  vlogPut64(&a[8], iSeq);
  vlogPut64(&a[16], iDurable);
  vlogPut32(&a[24], (u32)nPayload);
  vlogPut32(&a[28], (u32)nRec);
  vlogPut64(&a[32], vlogChecksum(aPayload, nPayload, SEED_JPAYLOAD));
  vlogPut64(&a[40], vlogChecksum(a, 40, SEED_JHDR));
}

/*
** The size of the transaction-log record at a[0..n), or 0 when a[] does not
** start with a whole record of a known type.  Journal payloads come from
** disk: every length in them is checked here before anything uses it.
*/
int vlogRecordSize(const u8 *a, int n){
  u64 nKey, nVal;
  if( n<1 ) return 0;
  switch( a[0] ){
    case REC_WB:
      return (n>=15 && 15+a[14]<=n) ? 15+a[14] : 0;
    case REC_VEXT:
      return n>=VEXT_SIZE ? VEXT_SIZE : 0;
    case REC_PUT:
    case REC_DELETE:
      if( n<13 ) return 0;
      nKey = vlogGet32(&a[5]);
      if( nKey>(u64)(n-13) ) return 0;
      nVal = vlogGet32(&a[9+nKey]);
      if( nVal>(u64)(n-13)-nKey ) return 0;
      return (int)(13+nKey+nVal);
  }
  return 0;
}

/* Write one entry at the journal position and advance it. */
static int writeEntry(VlogStore *p, int eType, const u8 *aPayload, int nPayload,
                      int nRec){
  VlogBuf b = {0, 0, 0};
  int n = alignUp(JE_HDR + nPayload);
  int rc = vlogBufReserve(p->pEnv, &b, n);
  if( rc ) return vlogSetError(p, rc, 0);
  memset(b.a, 0, n);
  headerEncode(b.a, eType, p->jrnl.iSeq, p->jrnl.iDurable, aPayload, nPayload, nRec);
  if( nPayload ) memcpy(&b.a[JE_HDR], aPayload, nPayload);
  rc = vlogWriteAt(p, p->jrnl.iOff, b.a, n);
  vlogBufFree(p->pEnv, &b);
  if( rc==VLOG_OK ){
    p->jrnl.iOff += n;
    p->jrnl.iSeq++;
    p->jrnl.nSize += n;
  }
  return rc;
}

/* Continue the journal in a new bucket: seal this one, link to the next. */
static int rollover(VlogStore *p){
  u64 iCur = p->jrnl.iOff / p->sb.nBucketSize;
  u64 iNew;
  u8 aLink[8];
  VlogBuf link = {0, 0, 0};
  int rc;

  /* The caller took the records produced before into its own entry; the
  ** link entry carries the allocation it makes. */
  assert( p->wbJrnl.n==0 );
  rc = vlogBucketAlloc(p, KIND_JOURNAL, &iNew);
  if( rc==VLOG_OK ) rc = vlogBucketSetState(p, iCur, BUCKET_SEALED, KIND_JOURNAL);
  if( rc==VLOG_OK ){
    vlogPut64(aLink, iNew);
    rc = vlogBufAppend(p->pEnv, &link, aLink, 8);
  }
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &link, p->wbJrnl.a, p->wbJrnl.n);
  if( rc==VLOG_OK ) rc = writeEntry(p, JE_LINK, link.a, link.n, 0);
  if( rc==VLOG_OK ){
    u8 aZero[JE_HDR];
    p->jrnl.iOff = vlogBucketOffset(p, iNew);
    /* A stale entry header from an earlier use of the bucket must not look
    ** like the next entry: its sequence is older, but zero it anyway. */
    memset(aZero, 0, sizeof(aZero));
    rc = vlogWriteAt(p, p->jrnl.iOff, aZero, sizeof(aZero));
  }
  vlogBufFree(p->pEnv, &link);
  p->wbJrnl.n = 0;
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/*
** Append the commit whose payload (records) is aPayload[nPayload] to the
** journal, in one JE_COMMIT entry or, when too big, JE_PART entries and a
** final JE_COMMIT.  Records are never split: a part ends on a record
** boundary (parts are cut where the caller's records end, found by
** walking them).  Then sync, when the store is at synchronous=full.
*/
int vlogJournalAppend(VlogStore *p, int eType, const u8 *aPayload, int nPayload,
                      int nRec){
  int rc = VLOG_OK;
  int iStart = 0;
  int nMax = maxPayload(p);

  while( rc==VLOG_OK ){
    int nPart = nPayload - iStart;
    int eThis = eType;
    u64 iBucketEnd;
    if( nPart>nMax ){
      /* Find the last record boundary within nMax bytes. */
      int i = iStart, iLast = iStart;
      while( i<nPayload ){
        int nRecBytes = vlogRecordSize(&aPayload[i], nPayload-i);
        assert( nRecBytes>0 );        /* the transaction's own records */
        if( nRecBytes==0 || i + nRecBytes - iStart > nMax ) break;
        i += nRecBytes;
        iLast = i;
      }
      if( iLast==iStart ){
        return vlogSetError(p, VLOG_TOOBIG,
            "a record of the transaction is larger than a journal bucket");
      }
      nPart = iLast - iStart;
      eThis = JE_PART;
    }
    iBucketEnd = (p->jrnl.iOff / p->sb.nBucketSize + 1) * p->sb.nBucketSize;
    if( p->jrnl.iOff + alignUp(JE_HDR + nPart) + JE_LINK_RESERVE > iBucketEnd ){
      rc = rollover(p);
      if( rc ) break;
    }
    rc = writeEntry(p, eThis, &aPayload[iStart], nPart, eThis==eType ? nRec : 0);
    iStart += nPart;
    if( eThis==eType ) break;
  }
  if( rc==VLOG_OK && p->cfg.eSync==VLOG_SYNC_FULL ){
    rc = p->pEnv->xSync(p->pFile);
    if( rc ) vlogSetError(p, rc, "cannot sync the journal (%s)", vlogErrName(rc));
    else p->jrnl.iDurable = p->jrnl.iSeq - 1;
  }
  return rc;
}

/*
** VLOG_CORRUPT for the record at byte iByte of the payload of the entry
** being replayed (p->jrnl: its sequence and offset), saying why.
*/
static int recordError(VlogStore *p, int iByte, const char *zFmt, ...){
  char zMsg[128];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMsg, sizeof(zMsg), zFmt, ap);
  va_end(ap);
  return vlogSetError(p, VLOG_CORRUPT_BKPT,
      "journal entry %llu at offset %llu: %s at byte %d",
      (unsigned long long)p->jrnl.iSeq, (unsigned long long)p->jrnl.iOff,
      zMsg, iByte);
}

/* VLOG_OK when a[0..n) is whole records, one after another. */
static int payloadCheck(VlogStore *p, const u8 *a, int n){
  int i = 0;
  while( i<n ){
    int k = vlogRecordSize(&a[i], n-i);
    if( k==0 ) return recordError(p, i, "malformed record");
    i += k;
  }
  return VLOG_OK;
}

/*
** Replay the write-buffer record r (whole: vlogRecordSize), at byte iByte
** of its payload.  Only the alloc and segments trees have them, keyed by a
** bucket number that the store can have; an alloc record holds a state and
** a kind that exist.  A bucket past the end of the table (taken by a commit
** after the checkpoint) grows it.
*/
static int applyWb(VlogStore *p, const u8 *r, int iByte){
  u32 iTree = vlogGet32(&r[1]);
  u64 iKey = vlogGet64(&r[5]);
  int bDel = r[13], nVal = r[14];
  const u8 *aVal = &r[15];
  int rc = VLOG_OK;
  if( iTree!=TREE_ALLOC && iTree!=TREE_SEGS ){
    return recordError(p, iByte, "a write-buffer record for tree %u", iTree);
  }
  if( bDel>1 || nVal>WB_MAX_VAL ){
    return recordError(p, iByte, "malformed record");
  }
  if( iKey==0 || iKey>=MAX_BUCKETS(p->sb.nBucketSize) ){
    return recordError(p, iByte, "a record for bucket %llu, outside any store",
                       (unsigned long long)iKey);
  }
  if( iTree==TREE_ALLOC && !bDel
   && (nVal!=2 || aVal[0]>BUCKET_NEED_DISCARD || aVal[1]>KIND_VLOG) ){
    return recordError(p, iByte, "an alloc record with state %d kind %d",
                       nVal>0 ? aVal[0] : -1, nVal>1 ? aVal[1] : -1);
  }
  if( iKey>=p->sb.nBucket ) rc = vlogBucketSetState(p, iKey, BUCKET_FREE, KIND_NONE);
  if( rc==VLOG_OK && iTree==TREE_ALLOC ){
    /* Keep the bucket table in step with the alloc tree. */
    p->aBucket[iKey].eState = bDel ? BUCKET_FREE : aVal[0];
    p->aBucket[iKey].eKind = bDel ? KIND_NONE : aVal[1];
  }
  if( rc==VLOG_OK && iTree==TREE_SEGS && !bDel ){
    rc = vlogLogApplySegRecord(p, iKey, aVal, nVal);
  }
  if( rc==VLOG_OK ) rc = vlogWbAdd(p, iTree, iKey, aVal, nVal, bDel);
  return rc;
}

/*
** Replay the change r (REC_PUT or REC_DELETE, whole), at byte iByte: to
** a user tree or the dictionaries, with a key and a leaf value of sizes
** that a leaf takes.
*/
static int applyChange(VlogStore *p, const u8 *r, int iByte){
  u32 iTree = vlogGet32(&r[1]);
  u32 nKey = vlogGet32(&r[5]);
  u32 nVal = vlogGet32(&r[9+nKey]);
  if( iTree!=TREE_DICTS && (iTree<VLOG_TREE_FIRST_USER || iTree>VLOG_MAX_TREE) ){
    return recordError(p, iByte, "a change to tree %u", iTree);
  }
  if( nKey<1 || nKey>VLOG_MAX_KEY ){
    return recordError(p, iByte, "a key of %u bytes", nKey);
  }
  if( r[0]==REC_PUT && nVal>(u32)vlogBtreeMaxValue(p) ){
    return recordError(p, iByte, "a value of %u bytes, more than a leaf takes", nVal);
  }
  return vlogTxnApply(p, r[0], iTree, &r[9], (int)nKey, &r[13+nKey], (int)nVal, 0);
}

/*
** Apply the records of a journal payload to the in-memory trees (replay).
** The payload's checksum held, but it is checked as untrusted input: a
** record that is not whole, or names what cannot be, is VLOG_CORRUPT.
*/
int vlogJournalApplyPayload(VlogStore *p, const u8 *a, int n){
  int i = 0;
  int rc = payloadCheck(p, a, n);
  while( rc==VLOG_OK && i<n ){
    const u8 *r = &a[i];
    if( r[0]==REC_WB ){
      rc = applyWb(p, r, i);
    }else if( r[0]==REC_PUT || r[0]==REC_DELETE ){
      rc = applyChange(p, r, i);
    }                               /* REC_VEXT: vlogLogVerifyExtent's */
    i += vlogRecordSize(r, n-i);
  }
  return rc;
}

/*
** The bucket that the JE_LINK entry iSeq at iOff, whose payload is
** a[0..n), continues the journal in: VLOG_CORRUPT unless it is one that a
** store can have.
*/
int vlogJournalLinkTarget(VlogStore *p, const u8 *a, int n, u64 iSeq, u64 iOff,
                          u64 *piBucket){
  u64 iNew = n>=8 ? vlogGet64(a) : 0;
  if( n<8 || iNew==0 || iNew>=MAX_BUCKETS(p->sb.nBucketSize) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "journal link entry %llu at offset %llu is too short or names bucket %llu, "
        "outside any store", (unsigned long long)iSeq, (unsigned long long)iOff,
        (unsigned long long)iNew);
  }
  *piBucket = iNew;
  return VLOG_OK;
}

/* Read and check the entry header at iOff.  VLOG_OK if valid for sequence
** iSeq; VLOG_NOTFOUND if not (a tail). */
static int readHeader(VlogStore *p, u64 iOff, u64 iSeq, u8 *a){
  u64 iBucketEnd = (iOff / p->sb.nBucketSize + 1) * p->sb.nBucketSize;
  int rc;
  if( iOff + JE_HDR > iBucketEnd ) return VLOG_NOTFOUND;
  rc = p->pEnv->xRead(p->pFile, (i64)iOff, a, JE_HDR);
  if( rc==VLOG_IOERR_SHORT_READ ) return VLOG_NOTFOUND;
  if( rc ) return vlogSetError(p, rc, "cannot read the journal at offset %llu",
                               (unsigned long long)iOff);
  if( vlogGet32(&a[0])!=JE_MAGIC
   || vlogGet64(&a[40])!=vlogChecksum(a, 40, SEED_JHDR)
   || vlogGet64(&a[8])!=iSeq
   || vlogGet32(&a[4])<JE_COMMIT || vlogGet32(&a[4])>JE_PART
   || iOff + JE_HDR + vlogGet32(&a[24]) > iBucketEnd ){
    return VLOG_NOTFOUND;
  }
  return VLOG_OK;
}

/*
** The entry expected at iOff is not there.  A torn tail, normally; but if
** a valid entry with the next sequence number follows in the same bucket
** (entries start on sector boundaries), and it was written after the
** missing one was synced, the missing entry was damaged: corruption.
*/
static int laterEntry(VlogStore *p, u64 iOff){
  u64 iBucketEnd = (iOff / p->sb.nBucketSize + 1) * p->sb.nBucketSize;
  u64 iNext;
  u8 aNext[JE_HDR];
  for(iNext=iOff+JE_ALIGN; iNext+JE_HDR<=iBucketEnd; iNext+=JE_ALIGN){
    int rc = readHeader(p, iNext, p->jrnl.iSeq+1, aNext);
    if( rc==VLOG_OK ){
      if( vlogGet64(&aNext[16])>=p->jrnl.iSeq ){
        return vlogSetError(p, VLOG_CORRUPT_BKPT,
            "journal entry %llu at offset %llu is damaged (bad header) although "
            "later entries were written after it was synced",
            (unsigned long long)p->jrnl.iSeq, (unsigned long long)iOff);
      }
      break;
    }
    if( rc!=VLOG_NOTFOUND ) return rc;
  }
  return VLOG_OK;
}

/*
** The largest "durable sequence" among the valid entries from the journal
** position on: entries up to it were synced, with the value-log frames
** they name.  Headers only (and links), no payload checksums.
*/
/* The offset of the entry after the valid one at *piOff whose header is
** h: after it, or at the bucket a link names.  VLOG_OK, an I/O error
** reading the link, or VLOG_CORRUPT for a link to no possible bucket. */
static int entryNext(VlogStore *p, const u8 *h, u64 *piOff){
  if( vlogGet32(&h[4])==JE_LINK ){
    u8 a[8];
    u64 iNew;
    int rc = p->pEnv->xRead(p->pFile, (i64)(*piOff+JE_HDR), a, 8);
    if( rc ) return rc;
    /* as vlogJournalLinkTarget, without a message: only replay reports */
    iNew = vlogGet64(a);
    if( vlogGet32(&h[24])<8 || iNew==0 || iNew>=MAX_BUCKETS(p->sb.nBucketSize) ){
      return VLOG_CORRUPT;
    }
    *piOff = iNew * (u64)p->sb.nBucketSize;
  }else{
    *piOff += alignUp(JE_HDR + (int)vlogGet32(&h[24]));
  }
  return VLOG_OK;
}

static u64 scanDurable(VlogStore *p){
  u64 iOff = p->jrnl.iOff, iSeq = p->jrnl.iSeq, iMax = 0;
  u8 h[JE_HDR];
  while( readHeader(p, iOff, iSeq, h)==VLOG_OK ){
    u64 d = vlogGet64(&h[16]);
    if( d>iMax ) iMax = d;
    if( entryNext(p, h, &iOff) ) break;
    iSeq++;
  }
  return iMax;
}

/*
** Walk the journal chain that starts at (iOff, iSeq) in the file, on disk
** (entry headers and links), to its tail, calling xPer(p, iBucket, iArg)
** for each bucket it is in until xPer returns non-zero, which is returned.
** The walk ends where the chain leaves the file: nothing is there to keep
** (a store this engine wrote always has its chain's next entry position
** in the file: a new bucket's first header is zeroed as it joins).
*/
static int chainWalk(VlogStore *p, u64 iOff, u64 iSeq,
                     int (*xPer)(VlogStore*, u64, u64), u64 iArg){
  u8 h[JE_HDR];
  int nStep = 0;
  i64 nSize = 0;
  if( p->pEnv->xSize(p->pFile, &nSize) ) return 0;
  while( nStep++<(1<<22) && iOff<(u64)nSize ){
    int r = xPer(p, iOff/p->sb.nBucketSize, iArg);
    if( r ) return r;
    if( readHeader(p, iOff, iSeq, h)!=VLOG_OK ) break;
    if( entryNext(p, h, &iOff) ) break;
    iSeq++;
  }
  return 0;
}

/* chainWalk: the previous checkpoint's chain must survive until the next
** checkpoint, like the buckets off the current chain (ZOMBIE).  In a store
** this engine wrote its buckets are journal buckets already; a free one
** is kept too, so that nothing is written over what that superblock
** names (the invariant vlogBucketAlloc checks in debug builds). */
static int holdChainBucket(VlogStore *p, u64 iBucket, u64 iUnused){
  (void)iUnused;
  if( iBucket<p->sb.nBucket && p->aBucket[iBucket].eState!=BUCKET_FREE ){
    return VLOG_OK;
  }
  return vlogBucketSetState(p, iBucket, BUCKET_ZOMBIE, KIND_JOURNAL);
}

#ifndef NDEBUG
static int chainHas(VlogStore *p, u64 iBucket, u64 iWanted){
  (void)p;
  return iBucket==iWanted;
}
/*
** Debug builds: is bucket iBucket on the journal chain that starts at
** (iOff, iSeq) in the file?  For the invariant checker (vlogBucketAlloc):
** no bucket taken for anything may be on the chain of either superblock.
*/
int vlogJournalChainHas(VlogStore *p, u64 iOff, u64 iSeq, u64 iBucket){
  return chainWalk(p, iOff, iSeq, chainHas, iBucket);
}
#endif

/*
** Replay the journal from the handle's journal position to its tail.
** bRecover: this is the replay at open, from the checkpoint; journal
** buckets off the chain are then freed.
*/
int vlogJournalReplay(VlogStore *p, int bRecover){
  u8 aHdr[JE_HDR];
  VlogBuf parts = {0, 0, 0};
  VlogBuf body = {0, 0, 0};
  u64 iPartOff = 0, iPartSeq = 0;       /* where pending parts began */
  u64 iDurable;
  int rc = VLOG_OK;
  u64 i;

  if( p->iReplayEnd && p->jrnl.iSeq>=p->iReplayEnd ) return VLOG_OK;
  if( !bRecover ){
    /* a reader catching up: usually nothing new, told by one header */
    rc = readHeader(p, p->jrnl.iOff, p->jrnl.iSeq, aHdr);
    if( rc==VLOG_NOTFOUND ) return VLOG_OK;
    if( rc ) return rc;
  }
  if( bRecover ){
    for(i=1; i<p->sb.nBucket; i++) p->aBucket[i].bChain = 0;
    i = p->jrnl.iOff / p->sb.nBucketSize;
    if( i>=p->sb.nBucket ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "journal starts outside the store");
    }
    p->aBucket[i].bChain = 1;
  }
  /* Entries after the last one known synced must also find their value-log
  ** frames whole, or they are a torn tail.  Every replay checks, not only
  ** the one at open: a tail rejected once stays on disk until a commit
  ** overwrites it, and must be rejected again by whoever reads it. */
  iDurable = scanDurable(p);
  p->bReplay = 1;
  while( rc==VLOG_OK ){
    u64 iOff = p->jrnl.iOff;
    int eType, nPayload;
    /* a reader stops where the published journal ends (shm.c) */
    if( p->iReplayEnd && p->jrnl.iSeq>=p->iReplayEnd ) break;
    rc = readHeader(p, iOff, p->jrnl.iSeq, aHdr);
    if( rc==VLOG_NOTFOUND ){
      /* the tail; at open, make sure it is not damage (a reader catching
      ** up only meets tails that commits left) */
      rc = bRecover ? laterEntry(p, iOff) : VLOG_OK;
      break;
    }
    if( rc ) break;
    eType = (int)vlogGet32(&aHdr[4]);
    nPayload = (int)vlogGet32(&aHdr[24]);
    body.n = 0;
    rc = vlogBufReserve(p->pEnv, &body, nPayload);
    if( rc ){ vlogSetError(p, rc, 0); break; }
    rc = p->pEnv->xRead(p->pFile, (i64)(iOff+JE_HDR), body.a, nPayload);
    if( rc==VLOG_IOERR_SHORT_READ ){
      /* The file ends inside the entry: its write was cut short (a
      ** process killed in a large pwrite(): Linux stops such a write at a
      ** page boundary; nothing after it can have been written).  A torn
      ** tail, as after a power loss, never corruption (issue 12). */
      rc = VLOG_OK;
      break;
    }
    if( rc ){
      vlogSetError(p, rc, "cannot read journal entry %llu at offset %llu (%s)",
                   (unsigned long long)p->jrnl.iSeq, (unsigned long long)iOff,
                   vlogErrName(rc));
      break;
    }
    if( vlogGet64(&aHdr[32])!=vlogChecksum(body.a, nPayload, SEED_JPAYLOAD) ){
      /* Torn tail, or damage to a once-complete entry?  See the note. */
      u8 aNext[JE_HDR];
      u64 iNext = iOff + alignUp(JE_HDR + nPayload);
      if( readHeader(p, iNext, p->jrnl.iSeq+1, aNext)==VLOG_OK
       && vlogGet64(&aNext[16])>=p->jrnl.iSeq ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
            "journal entry %llu at offset %llu is damaged (payload checksum "
            "mismatch) although later entries were written after it was synced",
            (unsigned long long)p->jrnl.iSeq, (unsigned long long)iOff);
      }
      break;
    }
    if( eType==JE_PART ){
      if( parts.n==0 ){ iPartOff = iOff; iPartSeq = p->jrnl.iSeq; }
      rc = vlogBufAppend(p->pEnv, &parts, body.a, nPayload);
    }else if( eType==JE_COMMIT ){
      const u8 *aRec = body.a;
      int nRec = nPayload;
      if( parts.n ){
        rc = vlogBufAppend(p->pEnv, &parts, body.a, nPayload);
        aRec = parts.a;
        nRec = parts.n;
      }
      if( rc==VLOG_OK && p->jrnl.iSeq>iDurable ){
        rc = payloadCheck(p, aRec, nRec);
        if( rc==VLOG_OK ) rc = vlogLogVerifyExtent(p, aRec, nRec);
        if( rc==VLOG_NOTFOUND ){
          rc = VLOG_OK;        /* its frames did not all make it: the tail */
          if( parts.n==0 ){ iPartOff = iOff; iPartSeq = p->jrnl.iSeq; }
          parts.n = 1;         /* rewind to where the commit began */
          break;
        }
      }
      if( rc==VLOG_OK ) rc = vlogJournalApplyPayload(p, aRec, nRec);
      parts.n = 0;
    }else{
      u64 iNew;
      rc = vlogJournalLinkTarget(p, body.a, nPayload, p->jrnl.iSeq, iOff, &iNew);
      if( rc ) break;
      rc = vlogJournalApplyPayload(p, body.a+8, nPayload-8);
      if( rc ) break;
      p->jrnl.iSeq++;
      p->jrnl.nSize += alignUp(JE_HDR + nPayload);
      p->jrnl.iOff = vlogBucketOffset(p, iNew);
      if( iNew>=p->sb.nBucket ){
        rc = vlogBucketSetState(p, iNew, BUCKET_OPEN, KIND_JOURNAL);
      }
      if( bRecover && iNew<p->sb.nBucket ) p->aBucket[iNew].bChain = 1;
      continue;
    }
    if( rc ) break;
    p->jrnl.iSeq++;
    p->jrnl.iOff = iOff + alignUp(JE_HDR + nPayload);
    p->jrnl.nSize += alignUp(JE_HDR + nPayload);
  }
  p->bReplay = 0;
  if( rc==VLOG_OK && parts.n ){
    /* A transaction whose final entry never made it: discard its parts and
    ** let the next commit write where it began. */
    p->jrnl.iOff = iPartOff;
    p->jrnl.iSeq = iPartSeq;
  }
  vlogBufFree(p->pEnv, &parts);
  vlogBufFree(p->pEnv, &body);
  p->jrnl.iDurable = p->jrnl.iSeq - 1;

  if( rc==VLOG_OK && bRecover ){
    u64 iCur = p->jrnl.iOff / p->sb.nBucketSize;
    for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
      Bucket *pB = &p->aBucket[i];
      if( pB->bChain ){
        rc = vlogBucketSetState(p, i, i==iCur ? BUCKET_OPEN : BUCKET_SEALED,
                                KIND_JOURNAL);
      }else if( pB->eKind==KIND_JOURNAL && pB->eState!=BUCKET_ZOMBIE ){
        /* Off the chain: the previous checkpoint's journal may still be
        ** there.  Kept until the next checkpoint. */
        rc = vlogBucketSetState(p, i, BUCKET_ZOMBIE, KIND_JOURNAL);
      }
    }
    if( rc==VLOG_OK && p->bOldValid ){
      rc = chainWalk(p, p->sbOld.iJrnlOff, p->sbOld.iJrnlSeq, holdChainBucket, 0);
    }
  }
  return rc;
}
