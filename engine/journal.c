/*
** journal.c: the journal: one checksummed entry per commit, recovery.
**
** DESIGN NOTE
**
** The journal is a chain of journal buckets.  Entries (format in
** storeInt.h) follow one another.  The
** superblock of the last checkpoint says where the first entry after it
** is, and its sequence number; each entry's sequence is the previous
** one's plus one.
**
** Each entry starts on a sector boundary (VLOG_SECTOR): the next commit
** never writes into a sector that holds a synced entry.
**
** Entry types:
**   JE_COMMIT  the redo records of one transaction (REC_PUT, REC_DELETE,
**              REC_TREE) and the write-buffer records it produced (REC_WB)
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
** The journal on disk ends where the handle's does: each entry's write
** zeroes the header position after it (after a link, rollover zeroes the
** new bucket's first), so entries that follow a tail, of a lost history
** or a hostile file's, never become the continuation of the next commit.
** Until that commit, the buckets that links past the tail name are kept,
** as the older superblock's chain is.
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
** every payload as untrusted input.  vlogRecDecode() (record.c) checks
** each record against the end of the payload before any length in it is
** used, and each record must name what can be: allocation records (the
** write buffer's) are checked by alloc.c (vlogAllocReplay); changes only to user trees and the
** dictionaries, with a key and a leaf value of sizes a leaf takes
** (applyChange); tree changes only to user trees, with an operation a
** commit journals, known flags and a policy in range (applyTree); a link
** only to a bucket below MAX_BUCKETS
** (vlogJournalLinkTarget).  Anything else is VLOG_CORRUPT naming the
** entry, its offset and the record's byte.
**
** A checkpoint does not free the journal buckets before its journal start
** at once: they become ZOMBIE until the next checkpoint, so that recovery
** from the older superblock of the pair still finds its journal.
**
** Compressed payloads (format 3).  A payload of JE_ZSTD_MIN bytes or more
** is written zstd-compressed (level 1, about 100 us for 40 KB) when that
** saves an eighth: the type word has JE_ZSTD set, the header's length and
** checksum are those of the compressed bytes, and the zstd frame says the
** raw size, which replay checks against maxPayload() before it
** decompresses (entryPayload).  Keys and pointers of a commit repeat much
** (record types, trees, lengths, segment numbers): 1,000 rows of 1 KiB
** values take about a quarter less journal.  Every byte of journal counts
** twice in the file until the next checkpoint but one frees its bucket (a
** zombie), so for a store loaded once and closed this is the journal's
** whole footprint.
*/
#include <stdarg.h>
#include <stdio.h>
#include <zstd.h>
#include "storeInt.h"

#define JE_ZSTD_MIN  1024

/* Largest payload of one entry. */
static int maxPayload(VlogStore *p){
  assert( p->sb.nBucketSize>=MIN_BUCKET_SIZE );
  return (int)p->sb.nBucketSize - JE_HDR - JE_LINK_RESERVE - JE_ALIGN*2;
}

static int alignUp(int n){ return (n + JE_ALIGN-1) & ~(JE_ALIGN-1); }

static void headerEncode(u8 *a, int eType, u64 iSeq, u64 iDurable,
                         const u8 *aPayload, int nPayload, int nRec){
  assert( (eType & ~JE_ZSTD)>=JE_COMMIT && (eType & ~JE_ZSTD)<=JE_PART );
  assert( iDurable<iSeq && nPayload>=0 && nRec>=0 );
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
** An entry of type eType for aPayload[nPayload], in pB: the payload at
** JE_HDR, compressed when that saves an eighth (JE_ZSTD is then set in
** *peType), zero padding to JE_ALIGN.  *pnStored is the payload's bytes
** as stored; the header is entryWrite()'s, once the entry's place and
** sequence are known.  The entry takes alignUp(JE_HDR + *pnStored) bytes.
*/
static int entryBuild(VlogStore *p, int *peType, const u8 *aPayload, int nPayload,
                      VlogBuf *pB, int *pnStored){
  int rc;
  assert( *peType>=JE_COMMIT && *peType<=JE_PART );
  assert( nPayload>=0 && nPayload<=maxPayload(p) && (aPayload!=0 || nPayload==0) );
  rc = vlogBufReserve(p->pEnv, pB,
                      JE_HDR + (int)ZSTD_compressBound(nPayload) + JE_ALIGN + JE_HDR);
  if( rc ) return vlogSetError(p, rc, 0);
  *pnStored = nPayload;
  if( *peType!=JE_LINK && nPayload>=JE_ZSTD_MIN ){
    size_t nz;
    if( p->pJrnlZc==0 ) p->pJrnlZc = ZSTD_createCCtx();
    nz = p->pJrnlZc ? ZSTD_compressCCtx((ZSTD_CCtx*)p->pJrnlZc, &pB->a[JE_HDR],
                                        pB->nAlloc-JE_HDR, aPayload, nPayload, 1) : 0;
    if( p->pJrnlZc && !ZSTD_isError(nz) && nz < (size_t)(nPayload - nPayload/8) ){
      *peType |= JE_ZSTD;
      *pnStored = (int)nz;
    }
  }
  if( !(*peType & JE_ZSTD) && nPayload ) memcpy(&pB->a[JE_HDR], aPayload, nPayload);
  memset(&pB->a[JE_HDR + *pnStored], 0, alignUp(JE_HDR + *pnStored) - JE_HDR - *pnStored);
  return VLOG_OK;
}

/* Write the entry entryBuild() made at the journal position, as the next
** sequence, and advance.  The header position after it (but a link's,
** which rollover() zeroes in the new bucket) is zeroed in the same write:
** the journal on disk ends where the handle's does.  After a torn tail,
** entries of the lost history, or a hostile file's, may follow the tail
** with the very sequences that come next; without this the first commit
** over the tail made them the journal's continuation, and buckets their
** links name, free to this handle, reachable from the superblock. */
static int entryWrite(VlogStore *p, int eType, VlogBuf *pB, int nStored, int nRec){
  int n = alignUp(JE_HDR + nStored);
  int nZero = (eType & ~JE_ZSTD)==JE_LINK ? 0 : JE_HDR;
  int rc;
  /* written under EXCLUSIVE, on a sector boundary, never over the room
  ** kept for a link at the bucket's end (but by the link itself) */
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && !p->bReplay );
  assert( (p->jrnl.iOff % JE_ALIGN)==0 && nStored>=0 && nStored<=maxPayload(p) );
  assert( p->jrnl.iOff/p->sb.nBucketSize<p->sb.nBucket
       && p->aBucket[p->jrnl.iOff/p->sb.nBucketSize].eKind==KIND_JOURNAL );
  assert( p->jrnl.iOff + n + ((eType & ~JE_ZSTD)==JE_LINK ? 0 : JE_LINK_RESERVE)
          <= (p->jrnl.iOff/p->sb.nBucketSize + 1)*p->sb.nBucketSize );
  assert( n+nZero<=pB->nAlloc );
  headerEncode(pB->a, eType, p->jrnl.iSeq, p->jrnl.iDurable, &pB->a[JE_HDR], nStored, nRec);
  if( p->jrnl.iDurable>p->jrnl.iHdrDurable ) p->jrnl.iHdrDurable = p->jrnl.iDurable;
  memset(&pB->a[n], 0, nZero);
  rc = vlogWriteAt(p, p->jrnl.iOff, pB->a, n+nZero);
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
  assert( iCur>0 && iCur<p->sb.nBucket && p->aBucket[iCur].eKind==KIND_JOURNAL
       && p->aBucket[iCur].eState==BUCKET_OPEN );
  rc = vlogBucketAlloc(p, KIND_JOURNAL, &iNew);
  if( rc==VLOG_OK ) rc = vlogBucketSetState(p, iCur, BUCKET_SEALED, KIND_JOURNAL);
  if( rc==VLOG_OK ){
    vlogPut64(aLink, iNew);
    rc = vlogBufAppend(p->pEnv, &link, aLink, 8);
  }
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &link, p->wbJrnl.a, p->wbJrnl.n);
  if( rc==VLOG_OK ){
    int eType = JE_LINK, nStored = 0;
    VlogBuf b = {0, 0, 0};
    rc = entryBuild(p, &eType, link.a, link.n, &b, &nStored);
    if( rc==VLOG_OK ) rc = entryWrite(p, eType, &b, nStored, 0);
    vlogBufFree(p->pEnv, &b);
  }
  if( rc==VLOG_OK ){
    u8 aZero[JE_HDR];
    p->jrnl.iOff = vlogBucketOffset(p, iNew);
    /* A stale entry header from an earlier use of the bucket must not look
    ** like the next entry: its sequence is older, but zero it anyway. */
    memset(aZero, 0, sizeof(aZero));
    rc = vlogWriteAt(p, p->jrnl.iOff, aZero, sizeof(aZero));
  }
  /* the journal goes on at the start of an open journal bucket */
  assert( rc || (p->jrnl.iOff==vlogBucketOffset(p, iNew) && iNew!=iCur
                 && p->aBucket[iNew].eState==BUCKET_OPEN
                 && p->aBucket[iNew].eKind==KIND_JOURNAL
                 && p->aBucket[iCur].eState==BUCKET_SEALED) );
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
  VlogBuf b = {0, 0, 0};
#ifndef NDEBUG
  u64 iSeq0 = p->jrnl.iSeq;
#endif

  assert( eType==JE_COMMIT && nPayload>=0 && nRec>=0 );
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && !p->bReplay && p->eTxn==2 );
  while( rc==VLOG_OK ){
    int nPart = nPayload - iStart;
    int eThis = eType;
    int nStored = 0;
    u64 iBucketEnd;
    if( nPart>nMax ){
      /* Find the last record boundary within nMax bytes. */
      int i = iStart, iLast = iStart;
      while( i<nPayload ){
        LogRec r;
        int nRecBytes = 0;
        if( vlogRecDecode(&aPayload[i], nPayload-i, &r, &nRecBytes) ){
          assert( 0 );                  /* this handle's own records */
          break;
        }
        if( i + nRecBytes - iStart > nMax ) break;
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
    rc = entryBuild(p, &eThis, &aPayload[iStart], nPart, &b, &nStored);
    if( rc ) break;
    /* the room needed is the entry's as stored (compressed or not) */
    iBucketEnd = (p->jrnl.iOff / p->sb.nBucketSize + 1) * p->sb.nBucketSize;
    if( p->jrnl.iOff + alignUp(JE_HDR + nStored) + JE_LINK_RESERVE > iBucketEnd ){
      rc = rollover(p);
      if( rc ) break;
    }
    rc = entryWrite(p, eThis, &b, nStored, (eThis & ~JE_ZSTD)==eType ? nRec : 0);
    iStart += nPart;
    if( (eThis & ~JE_ZSTD)==eType ) break;
  }
  vlogBufFree(p->pEnv, &b);
  if( rc==VLOG_OK && p->cfg.eSync==VLOG_SYNC_FULL ){
    rc = p->pEnv->xSync(p->pFile);
    if( rc ) vlogSetError(p, rc, "cannot sync the journal (%s)", vlogErrName(rc));
    else{
      p->jrnl.iDurable = p->jrnl.iSeq - 1;
      p->jrnl.iSyncedHdrDurable = p->jrnl.iHdrDurable;
    }
  }
  /* sequence numbers only grow; the durable one stays behind them */
  assert( rc || p->jrnl.iSeq>iSeq0 );
  assert( p->jrnl.iDurable<p->jrnl.iSeq );
  return rc;
}

/*
** Sync the file (maintenance's GC; a VFS's sync, vlogStoreSync(), in any
** transaction state): the entries this handle knows of are durable, and so is the largest durable
** sequence it wrote in a header.  A zombie segment emptied by entry N
** may be freed through the journal once a header that a sync made durable
** says N is (maint.c, "GC"): then every replay, whichever superblock it
** starts from, finds that header (scanDurable) and no longer checks the
** frames of the entries up to N, which name the segment's old contents.
*/
int vlogJournalSync(VlogStore *p){
  int rc;
  assert( p->bValid );
  rc = p->pEnv->xSync(p->pFile);
  if( rc ) return vlogSetError(p, rc, "cannot sync %s (%s)", p->zPath, vlogErrName(rc));
  if( p->jrnl.iSeq>0 ) p->jrnl.iDurable = p->jrnl.iSeq - 1;
  p->jrnl.iSyncedHdrDurable = p->jrnl.iHdrDurable;
  return VLOG_OK;
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
    LogRec r;
    int k = 0;
    if( vlogRecDecode(&a[i], n-i, &r, &k) ) return recordError(p, i, "malformed record");
    i += k;
  }
  return VLOG_OK;
}

/* Replay the write-buffer record r, at byte iByte of its payload: an
** allocation record, which alloc.c checks and applies. */
static int applyWb(VlogStore *p, const LogRec *r, int iByte){
  char zWhy[100];
  int rc = vlogAllocReplay(p, r, zWhy, sizeof(zWhy));
  return (rc==VLOG_CORRUPT && zWhy[0]) ? recordError(p, iByte, "%s", zWhy) : rc;
}

/*
** Replay the change r (REC_PUT or REC_DELETE), at byte iByte: to a user
** tree, the dictionaries or the maintenance state, with a key and a leaf value of sizes that a
** leaf takes.
*/
static int applyChange(VlogStore *p, const LogRec *r, int iByte){
  if( r->iTree!=TREE_DICTS && r->iTree!=TREE_MAINT
   && (r->iTree<VLOG_TREE_FIRST_USER || r->iTree>VLOG_MAX_TREE) ){
    return recordError(p, iByte, "a change to tree %u", r->iTree);
  }
  if( r->nKey<1 || r->nKey>VLOG_MAX_KEY ){
    return recordError(p, iByte, "a key of %d bytes", r->nKey);
  }
  if( r->eOp==REC_PUT && r->nVal>vlogBtreeMaxValue(p) ){
    return recordError(p, iByte, "a value of %d bytes, more than a leaf takes", r->nVal);
  }
  return vlogTxnApply(p, r->eOp, r->iTree, r->pKey, r->nKey, r->pVal, r->nVal, 0);
}

/*
** Replay the tree change r (REC_TREE), at byte iByte: a user tree, an
** operation a commit journals (never TOP_UNDO, which only the undo log
** has), flags that exist and a policy in range.
*/
static int applyTree(VlogStore *p, const LogRec *r, int iByte){
  if( r->iTree<VLOG_TREE_FIRST_USER || r->iTree>VLOG_MAX_TREE ){
    return recordError(p, iByte, "a change to tree %u", r->iTree);
  }
  if( r->eTreeOp!=TOP_POLICY && r->eTreeOp!=TOP_CLEAR && r->eTreeOp!=TOP_DROP ){
    return recordError(p, iByte, "tree operation %d", r->eTreeOp);
  }
  if( r->eTreeOp==TOP_POLICY
   && ((r->mTreeFlags & ~(u32)TREEF_ALL)!=0 || vlogTreePolicyCheck(&r->pol)) ){
    return recordError(p, iByte, "tree %u given flags %u, inline max %d, zstd level "
                       "%d", r->iTree, r->mTreeFlags, r->pol.nInlineMax,
                       r->pol.iZstdLevel);
  }
  return vlogTxnTreeApply(p, r, 0);
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
    LogRec r;
    int nUsed = 0;
    if( NEVER(vlogRecDecode(&a[i], n-i, &r, &nUsed)) ){  /* payloadCheck: whole */
      rc = recordError(p, i, "malformed record");
      break;
    }
    if( r.eOp==REC_WB ){
      rc = applyWb(p, &r, i);
    }else if( r.eOp==REC_PUT || r.eOp==REC_DELETE ){
      rc = applyChange(p, &r, i);
    }else if( r.eOp==REC_TREE ){
      rc = applyTree(p, &r, i);
    }                               /* REC_VEXT: vlogLogVerifyExtent's */
    i += nUsed;
  }
  return rc;
}

/*
** The payload body[0..*pn) of a JE_ZSTD entry whose checksum holds,
** decompressed in its place (pTmp: a buffer to swap with).  The raw size,
** which the zstd frame states, must be one a payload can have: damage
** behind a valid checksum is VLOG_CORRUPT, never a large allocation.
*/
static int entryInflate(VlogStore *p, u64 iSeq, VlogBuf *pBody, int *pn, VlogBuf *pTmp){
  unsigned long long nRaw = ZSTD_getFrameContentSize(pBody->a, (size_t)*pn);
  VlogBuf t;
  size_t nz = 0;
  int rc = VLOG_OK;
  if( nRaw==ZSTD_CONTENTSIZE_UNKNOWN || nRaw==ZSTD_CONTENTSIZE_ERROR
   || nRaw>(unsigned long long)maxPayload(p) ){
    rc = VLOG_CORRUPT;
  }
  if( rc==VLOG_OK ){
    rc = vlogBufReserve(p->pEnv, pTmp, (int)nRaw+1);
    if( rc ) return vlogSetError(p, rc, 0);
    if( p->pJrnlZd==0 ) p->pJrnlZd = ZSTD_createDCtx();
    if( p->pJrnlZd==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    nz = ZSTD_decompressDCtx((ZSTD_DCtx*)p->pJrnlZd, pTmp->a, (size_t)nRaw,
                             pBody->a, (size_t)*pn);
    if( ZSTD_isError(nz) || nz!=nRaw ) rc = VLOG_CORRUPT;
  }
  if( rc ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "journal entry %llu is damaged "
        "(its compressed payload does not decompress)", (unsigned long long)iSeq);
  }
  t = *pBody;
  *pBody = *pTmp;
  *pTmp = t;
  *pn = (int)nRaw;
  return VLOG_OK;
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
  assert( iSeq>0 && (iOff % JE_ALIGN)==0 );
  if( iOff + JE_HDR > iBucketEnd ) return VLOG_NOTFOUND;
  rc = p->pEnv->xRead(p->pFile, (i64)iOff, a, JE_HDR);
  if( rc==VLOG_IOERR_SHORT_READ ) return VLOG_NOTFOUND;
  if( rc ) return vlogSetError(p, rc, "cannot read the journal at offset %llu",
                               (unsigned long long)iOff);
  if( vlogGet32(&a[0])!=JE_MAGIC
   || vlogGet64(&a[40])!=vlogChecksum(a, 40, SEED_JHDR)
   || vlogGet64(&a[8])!=iSeq
   || (vlogGet32(&a[4]) & ~(u32)JE_ZSTD)<JE_COMMIT
   || (vlogGet32(&a[4]) & ~(u32)JE_ZSTD)>JE_PART
   || vlogGet32(&a[4])==(JE_LINK|JE_ZSTD)
   || iOff + JE_HDR + vlogGet32(&a[24]) > iBucketEnd ){
    return VLOG_NOTFOUND;
  }
  /* An entry other than a link leaves the room kept for the link at the
  ** bucket's end, as every write does (entryWrite).  One that does not is
  ** no entry of this engine (fuzz_journal: it ended at the bucket's end,
  ** and the journal went on in the next bucket, a B-tree's). */
  if( vlogGet32(&a[4])!=JE_LINK
   && iOff + (u64)alignUp(JE_HDR + (int)vlogGet32(&a[24])) + JE_LINK_RESERVE > iBucketEnd ){
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
  assert( vlogGet32(&h[0])==JE_MAGIC );        /* a header readHeader took */
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
  assert( (*piOff % JE_ALIGN)==0 );
  return VLOG_OK;
}

static int scanDurable(VlogStore *p, u64 *piDurable){
  u64 iOff = p->jrnl.iOff, iSeq = p->jrnl.iSeq, iMax = 0;
  u8 h[JE_HDR];
  int rc;
  while( (rc = readHeader(p, iOff, iSeq, h))==VLOG_OK ){
    u64 d = vlogGet64(&h[16]);
    if( d>iMax ) iMax = d;
    rc = entryNext(p, h, &iOff);
    if( rc==VLOG_CORRUPT ) break;   /* a bad link: replay reports it */
    if( rc ) return vlogSetError(p, rc, "cannot read the journal link at "
                                 "offset %llu", (unsigned long long)iOff);
    iSeq++;
  }
  if( rc==VLOG_NOTFOUND || rc==VLOG_CORRUPT ) rc = VLOG_OK;     /* the tail */
  *piDurable = iMax;
  return rc;
}

/*
** Walk the journal chain that starts at (iOff, iSeq) in the file, on disk
** (entry headers and links), to its tail, calling xPer(p, iBucket, iArg)
** for each bucket it is in until xPer returns non-zero, which is returned.
** The walk ends where the chain leaves the file: nothing is there to keep
** (a store this engine wrote always has its chain's next entry position
** in the file: a new bucket's first header is zeroed as it joins), or at
** a link to no possible bucket.  An I/O error reading the chain is
** returned (xPer's values must differ from the error codes).
*/
static int chainWalk(VlogStore *p, u64 iOff, u64 iSeq,
                     int (*xPer)(VlogStore*, u64, u64), u64 iArg){
  u8 h[JE_HDR];
  int nStep = 0;
  i64 nSize = 0;
  int rc = p->pEnv->xSize(p->pFile, &nSize);
  if( rc ) return vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
  while( nStep++<(1<<22) && iOff<(u64)nSize ){
    int r = xPer(p, iOff/p->sb.nBucketSize, iArg);
    if( r ) return r;
    rc = readHeader(p, iOff, iSeq, h);
    if( rc==VLOG_NOTFOUND ) break;                /* the tail */
    if( rc ) return rc;
    rc = entryNext(p, h, &iOff);
    if( rc==VLOG_CORRUPT ) break;                 /* no bucket: the end */
    if( rc ) return vlogSetError(p, rc, "cannot read the journal link at "
                                 "offset %llu", (unsigned long long)iOff);
    iSeq++;
  }
  return VLOG_OK;
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
  return vlogBucketRetire(p, iBucket, KIND_JOURNAL, 1);
}

#ifndef NDEBUG
#define CHAIN_HAS 0x7fff          /* chainHas' "found": no result code */
static int chainHas(VlogStore *p, u64 iBucket, u64 iWanted){
  (void)p;
  return iBucket==iWanted ? CHAIN_HAS : 0;
}
/*
** Debug builds: is bucket iBucket on the journal chain that starts at
** (iOff, iSeq) in the file?  For the invariant checker (vlogBucketAlloc):
** no bucket taken for anything may be on the chain of either superblock.
** A chain that cannot be read (an I/O error, injected by a test) holds
** nothing as far as the checker can tell.
*/
int vlogJournalChainHas(VlogStore *p, u64 iOff, u64 iSeq, u64 iBucket){
  return chainWalk(p, iOff, iSeq, chainHas, iBucket)==CHAIN_HAS;
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
  VlogBuf tmp = {0, 0, 0};
  u64 iPartOff = 0, iPartSeq = 0;       /* where pending parts began */
  u64 iDurable = 0;
#ifndef NDEBUG
  u64 iSeqLast = p->jrnl.iSeq - 1;
#endif
  int rc = VLOG_OK;
  u64 i;

  assert( p->bValid && !p->bReplay && (bRecover==0 || bRecover==1) );
  assert( p->jrnl.iSeq>=p->sb.iJrnlSeq && (p->jrnl.iOff % JE_ALIGN)==0 );
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
  rc = scanDurable(p, &iDurable);
  if( rc ) return rc;
  p->bReplay = 1;
  while( rc==VLOG_OK ){
    u64 iOff = p->jrnl.iOff;
    int eType, nPayload, nStored;
    /* one entry after the other: each sequence the last one's plus one */
#ifndef NDEBUG
    assert( p->jrnl.iSeq==iSeqLast+1 );
    iSeqLast = p->jrnl.iSeq;
#endif
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
    nPayload = nStored = (int)vlogGet32(&aHdr[24]);
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
    if( eType & JE_ZSTD ){
      rc = entryInflate(p, p->jrnl.iSeq, &body, &nPayload, &tmp);
      if( rc ) break;
      eType &= ~JE_ZSTD;
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
    p->jrnl.iOff = iOff + alignUp(JE_HDR + nStored);
    p->jrnl.nSize += alignUp(JE_HDR + nStored);
  }
  p->bReplay = 0;
  assert( p->iReplayEnd==0 || p->jrnl.iSeq<=p->iReplayEnd );
  if( rc==VLOG_OK && parts.n ){
    /* A transaction whose final entry never made it: discard its parts and
    ** let the next commit write where it began. */
    p->jrnl.iOff = iPartOff;
    p->jrnl.iSeq = iPartSeq;
  }
  vlogBufFree(p->pEnv, &parts);
  vlogBufFree(p->pEnv, &body);
  vlogBufFree(p->pEnv, &tmp);
  /* Entries replayed are not known synced: another handle's commits at
  ** synchronous=normal, or what a crash left in the file at open (after
  ** SIGKILL, the page cache's).  Only the headers say what was synced
  ** (scanDurable), and the checkpoint.  Claiming more in the next entry's
  ** header would let a recovery after a power loss skip the frame check of
  ** a commit whose frames never reached the disk (engine_hostile 9.1). */
  if( iDurable>p->jrnl.iDurable ) p->jrnl.iDurable = iDurable;
  if( p->jrnl.iDurable>=p->jrnl.iSeq ) p->jrnl.iDurable = p->jrnl.iSeq - 1;

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
        rc = vlogBucketRetire(p, i, KIND_JOURNAL, 1);
      }
    }
    if( rc==VLOG_OK && p->bOldValid ){
      rc = chainWalk(p, p->sbOld.iJrnlOff, p->sbOld.iJrnlSeq, holdChainBucket, 0);
    }
    /* Past the tail, entries with sound headers that replay refused (a
    ** payload that fails its checksum, frames that never made it, parts
    ** without their commit) and what follows them are on the chain as the
    ** file has it until the next commit cuts it (entryWrite): the buckets
    ** their links name are kept as the older chain's are. */
    if( rc==VLOG_OK ){
      rc = chainWalk(p, p->jrnl.iOff, p->jrnl.iSeq, holdChainBucket, 0);
    }
  }
  return rc;
}

/*
** vlogtool dump: each entry of the journal from the checkpoint's position
** to the tail, as vlogJournalEntryToText() prints it (header and records
** by type); a payload whose checksum fails is said so, not parsed.
*/
int vlogJournalDump(VlogStore *p, VlogBuf *pOut){
  u64 iOff = p->sb.iJrnlOff, iSeq = p->sb.iJrnlSeq;
  u8 h[JE_HDR];
  VlogBuf body = {0, 0, 0}, tmp = {0, 0, 0};
  int rc = VLOG_OK, nStep = 0;
  while( rc==VLOG_OK && nStep++<(1<<22) ){
    int nPayload;
    int bOk = 0;
    rc = readHeader(p, iOff, iSeq, h);
    if( rc==VLOG_NOTFOUND ){ rc = VLOG_OK; break; }     /* the tail */
    if( rc ) break;
    nPayload = (int)vlogGet32(&h[24]);
    rc = vlogBufReserve(p->pEnv, &body, nPayload+1);
    if( rc==VLOG_OK ){
      /* a payload cut short by the end of the file is damage, to print;
      ** another read error stops the dump */
      rc = p->pEnv->xRead(p->pFile, (i64)(iOff+JE_HDR), body.a, nPayload);
      bOk = rc==VLOG_OK
         && vlogGet64(&h[32])==vlogChecksum(body.a, nPayload, SEED_JPAYLOAD);
      if( rc==VLOG_IOERR_SHORT_READ ) rc = VLOG_OK;
    }
    if( rc==VLOG_OK ){
      if( bOk && (vlogGet32(&h[4]) & JE_ZSTD) ){
        rc = entryInflate(p, iSeq, &body, &nPayload, &tmp);
        bOk = (rc==VLOG_OK);
        if( (rc & 0xff)==VLOG_CORRUPT ) rc = VLOG_OK;    /* said below */
      }
      if( rc==VLOG_OK ) rc = vlogJournalEntryToText(p->pEnv, iOff, h, bOk ? body.a : 0, nPayload, pOut);
    }
    if( rc==VLOG_OK && !bOk ){
      rc = vlogBufPrintf(p->pEnv, pOut, "  (payload damaged or cut short)\n");
      break;
    }
    if( rc==VLOG_OK ){
      rc = entryNext(p, h, &iOff);
      if( rc==VLOG_CORRUPT ){ rc = VLOG_OK; break; }  /* a link to nowhere */
    }
    iSeq++;
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, pOut, "journal ends before sequence %llu at %llu\n",
                       (unsigned long long)iSeq, (unsigned long long)iOff);
  }
  vlogBufFree(p->pEnv, &body);
  vlogBufFree(p->pEnv, &tmp);
  return rc;
}

/* Free the journal's zstd contexts (the handle closes). */
void vlogJournalClose(VlogStore *p){
  if( p->pJrnlZc ) ZSTD_freeCCtx((ZSTD_CCtx*)p->pJrnlZc);
  if( p->pJrnlZd ) ZSTD_freeDCtx((ZSTD_DCtx*)p->pJrnlZd);
  p->pJrnlZc = p->pJrnlZd = 0;
}
