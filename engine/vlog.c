/*
** vlog.c: the value log (after WiscKey and TreeDB, seed 002).
**
** DESIGN NOTE
**
** Values of user trees larger than the caller's threshold (a table's
** inline_max) leave the B-tree: the leaf keeps a pointer and the value goes
** to a value-log segment, a bucket of kind KIND_VLOG written append-only.
** A leaf value of a user tree always starts with a tag:
**
**   VTAG_INLINE  0, then the value
**   VTAG_PTR     1, varint segment (bucket), varint frame offset in it,
**                varint index of the record in the frame, varint length
**   VTAG_RAW     3, varint segment, varint frame offset, varint offset of
**                the record in the frame's bytes, varint length, u32 low
**                half of the record's xxh3 (seed SEED_RECORD)
**   VTAG_CHUNKS  2, varint length, varint number of chunks, then for each
**                chunk: varint segment, varint frame offset, varint length
**                (a value too big for one frame is cut in chunks of half a
**                bucket, each the only record of its own frame)
**
** Frames.  Records (varint key length, key, varint value length, value)
** are grouped in frames of about FRAME_TARGET bytes, compressed together
** with zstd at the table's level, or stored raw when compression saves
** less than an eighth.  Each record keeps its key, so a segment can be
** rewritten from the segment alone.  Frame layout (16-byte aligned):
**     0  u32 magic "VLFR"     4 u8 flags (1: zstd, 2: dictionary)
**     5  u8 0                 6 u16 records
**     8  u32 raw bytes       12 u32 stored bytes
**    16  u64 xxh3(bytes 0..15 and the stored bytes, seed SEED_FRAME)
**    24  stored bytes; with flag 2, u32 dictionary id, then a zstd frame
**        without content size or dictionary id (both known)
** A read of a VTAG_PTR value decompresses only its frame (through a small
** frame cache), checks the checksum, and checks that the record's key is
** the key looked up.  Damage is VLOG_CORRUPT naming the segment and offset.
** The first read of a frame is sized from the record's place in it and
** its segment's ratio of bytes on disk to record bytes; a second read
** fetches the rest when that was short.  These reads, of frames a
** transaction's snapshot pins, are vlogReadPinned(): through vlogEnvVfs()
** on the unix VFS, copies from SQLite's map of the store file (io.h,
** VlogConfig.nMmapSize), so a 1 KiB record costs a memcpy and perhaps a
** page fault instead of a pread (about 1 us less per lookup).  Replay's
** check of frames (extentCheck) reads with xRead.  A map reads only bytes
** that were written (segRead): with a map a frame's header is read first,
** then exactly its bytes, never the hole a rolled-back transaction leaves
** after it, nor anything past the segment's end (nDisk); holes are read
** with xRead, since touching one through a map on a full file system
** (tmpfs) is SIGBUS.
**
** Dictionaries.  Small records compress poorly alone, and a frame of many
** costs a lookup the decompression of all of them (about 7 us for 4 KiB of
** text, more than a whole rowid-table lookup).  So once DICT_SAMPLE bytes of
** records of small frames that compressed have gone by, the handle trains
** a zstd dictionary on them (ZDICT_trainFromBuffer, about 20 ms, once) and
** from then on frames close at DICT_TARGET raw bytes (one record of 1 KiB,
** a few smaller ones) and are compressed with it: text that compressed
** 2.9x in 4 KiB frames compresses about 3x a record at a time, and a
** lookup decompresses about 1 KiB (about 1.2 us).  Dictionaries are the
** store's, not a table's: TREE_DICTS holds each under its id (u32, from 1),
** in chunks of DICT_CHUNK bytes after a header chunk {u32 size, u32 0, u64
** xxh3(dictionary, SEED_DICT)}.  A dictionary is written by the commit of
** the transaction that trained it, in the same journal entry as its first
** frames; a transaction that rolls back (or whose prepared commit is taken
** back) drops it, and its id is used again.  Each write transaction looks
** at the newest id, so handles pick up one another's dictionaries.
** Readers keep DDICT_SLOTS of them digested (ids are never reused once
** committed).  A training that fails (too few or too alike samples) waits
** DICT_RETRY more bytes.  Not yet: retraining when the data changes, and
** dictionaries per table; maintenance will drop dictionaries no frame uses.
**
** Writing.  Frames go to a write-out buffer and reach the file WOUT_MAX
** bytes at a time, at commit, when the log moves to another segment, and
** before a read of a frame still in the buffer; a rolled-back
** transaction's buffered frames are never written (the bytes they took in
** the segment stay a hole that no pointer names).  Each write is named by
** one REC_VEXT record (segment, offset, length) of the commit's journal
** entry, which replay checks frame by frame.
**
** Raw frames by decision.  Whether a frame compresses is known only when
** it is written, after its records' pointers are made.  But a stream of
** incompressible values is common (already compressed, encrypted or random
** data), and for it reading a whole frame to return one record is waste:
** so after RAW_AFTER frames in a row that did not compress, a new frame of
** small records is raw by decision, known before its first record, and
** its records get VTAG_RAW pointers.  A VTAG_RAW read fetches the record
** alone (one read of its bytes, no frame header) and checks it against the
** checksum in the pointer, which the checksummed leaf protects in turn.
** One frame in RAW_PROBE is still tried, so data that starts to compress
** again is noticed; zstd_level=0 makes every frame raw by decision.  A
** record of FRAME_TARGET bytes or more gets a frame of its own, always
** tried (a 1 KiB sample first after incompressible frames).  vlog_verify
** reads the whole frame of every VTAG_RAW value too (vlogValueVerify).
**
** Commit.  A transaction's frames are written before its journal entry,
** the first one on a fresh sector (a torn write never reaches a committed
** frame), and the entry carries REC_VEXT records naming the runs of
** value-log frames the commit wrote.  One sync covers both.  Replay (at open and
** when a reader catches up) checks the frames of the entries written after
** the last sync point: an entry whose frames did not all reach the disk is
** a torn tail, every time it is read, until a commit overwrites it.
**
** Accounting, per segment, exact and incremental: bytes of records ever
** appended (total), bytes of records still referenced (live), records,
** bytes used in the bucket, created and sealed (journal sequence, time in
** whole seconds: the record keeps the seal time as u32 seconds, and
** creation is rounded the same way, so that sealed >= created).
** stale = total - live.  At commit the transaction's logs give the
** changes: a new pointer (redo) adds to live, a replaced or deleted pointer
** (the value before, in the undo log) moves its bytes from live to stale.
** Records a rolled-back transaction appended count in total but never in
** live: stale from the start.  The figures go to TREE_SEGS through the
** write buffer, in the commit's journal entry; nothing scans a tree.
**
**   segment states:  OPEN (appending) --full--> SEALED --(maintenance, a
**                    later issue: rewrite, then GC when live is 0)--> FREE
*/
#include <zstd.h>
#include <zdict.h>
#include "storeInt.h"

#define FRAME_HDR      24
#define FRAME_MAGIC    0x52464c56      /* "VLFR" */
#define FRAME_ZSTD     0x01
#define FRAME_DICT     0x02            /* with FRAME_ZSTD: a dictionary's */
#define FRAME_TARGET   4096            /* raw bytes that close a frame */
#define FRAME_CACHE_BYTES (8*1024*1024)
#define FRAME_FIRST_READ  8192         /* bytes read at once: most frames */
#define SEED_FRAME     0x76465230ULL
#define SEED_RECORD    0x76524330ULL
#define RAW_AFTER      8               /* see frameRoom() */
#define RAW_PROBE      64
#define SEED_DICT      0x76444330ULL
#define DICT_SIZE      (16*1024)       /* most bytes of a trained dictionary */
#define DICT_SAMPLE    (256*1024)      /* bytes of samples to train on */
#define DICT_CHUNK     1024            /* bytes per TREE_DICTS value */
#define DICT_RETRY     (64*1024*1024)  /* after a failed training */
#define DICT_TARGET    1024            /* raw bytes that close a frame, with one */
#define WOUT_MAX       (256*1024)      /* frames written at once */

static int align16(int n){ return (n + 15) & ~15; }

/* Bytes of a record (key and value with their lengths). */
static u64 recordBytes(int nKey, u64 nVal){
  return (u64)vlogVarintLen((u64)nKey) + nKey + vlogVarintLen(nVal) + nVal;
}

/* ---------------------------------------------------------------------
** Segments
*/

/* Segment iSeg's figures changed: save them at the next commit.  The
** touched segments are listed, so a commit never walks the bucket table. */
static int segTouch(VlogStore *p, u64 iSeg){
  VlogLog *pL = &p->vl;
  if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].bTouched ) return VLOG_OK;
  if( pL->nTouched>=pL->nTouchedAlloc ){
    int nNew = pL->nTouchedAlloc ? pL->nTouchedAlloc*2 : 16;
    u64 *aNew = (u64*)vlogRealloc(p->pEnv, pL->aTouched, sizeof(u64)*nNew);
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pL->aTouched = aNew;
    pL->nTouchedAlloc = nNew;
  }
  pL->aTouched[pL->nTouched++] = iSeg;
  p->aBucket[iSeg].bTouched = 1;
  return VLOG_OK;
}

/* Persist the accounting of segment iSeg (through the write buffer). */
static int segSave(VlogStore *p, u64 iSeg){
  Bucket *pB = &p->aBucket[iSeg];
  u8 a[56];
  vlogPut64(&a[0], pB->nTotal);
  vlogPut64(&a[8], pB->nLive);
  vlogPut64(&a[16], pB->nRec);
  vlogPut64(&a[24], pB->nDisk);
  vlogPut64(&a[32], pB->iCreateSeq);
  vlogPut64(&a[40], pB->iCreateTime);
  vlogPut32(&a[48], (u32)pB->iSealSeq);
  vlogPut32(&a[52], (u32)(pB->iSealTime/1000000));
  return vlogWbAdd(p, TREE_SEGS, iSeg, a, sizeof(a), 0);
}

/* Load segment figures from a TREE_SEGS value (open, replay). */
int vlogLogApplySegRecord(VlogStore *p, u64 iSeg, const u8 *a, int n){
  Bucket *pB;
  if( iSeg==0 || iSeg>=p->sb.nBucket || n!=56 ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad accounting record for segment %llu",
                        (unsigned long long)iSeg);
  }
  pB = &p->aBucket[iSeg];
  pB->nTotal = vlogGet64(&a[0]);
  pB->nLive = vlogGet64(&a[8]);
  pB->nRec = vlogGet64(&a[16]);
  pB->nDisk = vlogGet64(&a[24]);
  pB->iCreateSeq = vlogGet64(&a[32]);
  pB->iCreateTime = vlogGet64(&a[40]);
  pB->iSealSeq = vlogGet32(&a[48]);
  pB->iSealTime = (u64)vlogGet32(&a[52])*1000000;
  if( pB->nLive>pB->nTotal || pB->nDisk>p->sb.nBucketSize ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "impossible accounting for segment %llu "
        "(%llu live of %llu bytes, %llu bytes of the bucket used)",
        (unsigned long long)iSeg, (unsigned long long)pB->nLive,
        (unsigned long long)pB->nTotal, (unsigned long long)pB->nDisk);
  }
  return VLOG_OK;
}

/* The time of a segment's creation or sealing, in microseconds but whole
** seconds: the accounting record keeps the seal time in seconds (a u32),
** so both times have that precision, and a segment never reads as sealed
** before it was created. */
static u64 segNow(VlogStore *p){
  u64 t = (u64)p->pEnv->xNow(p->pEnv);
  return t - t%1000000;
}

/* Seal the current segment; open a new one. */
static int segNext(VlogStore *p){
  VlogLog *pL = &p->vl;
  u64 iNew;
  int rc;
  if( pL->iSeg ){
    Bucket *pB = &p->aBucket[pL->iSeg];
    pB->iSealSeq = p->jrnl.iSeq;
    pB->iSealTime = segNow(p);
    rc = vlogBucketSetState(p, pL->iSeg, BUCKET_SEALED, KIND_VLOG);
    if( rc==VLOG_OK ) rc = segSave(p, pL->iSeg);
    if( rc ) return rc;
  }
  rc = vlogBucketAlloc(p, KIND_VLOG, &iNew);
  if( rc ) return rc;
  {
    Bucket *pB = &p->aBucket[iNew];
    pB->nTotal = pB->nLive = pB->nRec = pB->nDisk = 0;
    pB->iCreateSeq = p->jrnl.iSeq;
    pB->iCreateTime = segNow(p);
    pB->iSealSeq = pB->iSealTime = 0;
  }
  pL->iSeg = iNew;
  pL->iFrameOff = 0;
  pL->bFresh = 1;
  return segSave(p, iNew);
}

/* The segment to append to after a (re)load: the open one, if any, at
** its append position. */
static void segFind(VlogStore *p){
  u64 i;
  VlogLog *pL = &p->vl;
  pL->iSeg = 0;
  for(i=1; i<p->sb.nBucket; i++){
    if( p->aBucket[i].eKind==KIND_VLOG && p->aBucket[i].eState==BUCKET_OPEN ){
      pL->iSeg = i;
      pL->iFrameOff = (u32)p->aBucket[i].nDisk;
      break;
    }
  }
}

/* The record at z (before pEnd): its key and value, and the byte after
** it; 0 if it does not fit. */
static const u8 *recordParse(const u8 *z, const u8 *pEnd, const u8 **ppKey,
                             u64 *pnKey, const u8 **ppVal, u64 *pnVal){
  int k = vlogGetVarint(z, pEnd, pnKey);
  if( k==0 || *pnKey>(u64)(pEnd-z-k) ) return 0;
  *ppKey = z + k;
  z += k + *pnKey;
  k = vlogGetVarint(z, pEnd, pnVal);
  if( k==0 || *pnVal>(u64)(pEnd-z-k) ) return 0;
  *ppVal = z + k;
  return z + k + *pnVal;
}

/* ---------------------------------------------------------------------
** Dictionaries
*/

/* TREE_DICTS key of chunk iChunk of dictionary iId. */
static void dictKey(u8 *aKey, u32 iId, u32 iChunk){
  vlogPutBE64(aKey, ((u64)iId<<32) | iChunk);
}

/* The highest dictionary id in TREE_DICTS (0: none) into *piId. */
static int dictLast(VlogStore *p, u32 *piId){
  VlogCursor *pCsr = 0;
  int rc = vlogCursorOpen(p, TREE_DICTS, &pCsr);
  *piId = 0;
  if( rc==VLOG_OK ) rc = vlogCursorLast(pCsr);
  if( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey;
    int nKey;
    vlogCursorKey(pCsr, &pKey, &nKey);
    if( nKey!=8 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad key in the dictionary tree");
    }else{
      *piId = (u32)(vlogGetBE64((const u8*)pKey)>>32);
    }
  }
  vlogCursorClose(pCsr);
  return rc==VLOG_NOTFOUND ? VLOG_OK : rc;
}

/* Read dictionary iId from TREE_DICTS into pOut; check its checksum. */
static int dictLoad(VlogStore *p, u32 iId, VlogBuf *pOut){
  u8 aKey[8];
  const u8 *a;
  int n, rc;
  u32 nDict, iChunk;
  dictKey(aKey, iId, 0);
  rc = vlogBtreeLookup(p, TREE_DICTS, aKey, 8, &a, &n);
  if( rc==VLOG_OK && n!=16 ) rc = VLOG_CORRUPT;
  nDict = rc==VLOG_OK ? vlogGet32(a) : 0;
  pOut->n = 0;
  if( rc==VLOG_OK && (nDict==0 || nDict>DICT_SIZE) ) rc = VLOG_CORRUPT;
  if( rc==VLOG_OK ){
    u64 iSum = vlogGet64(&a[8]);
    rc = vlogBufReserve(p->pEnv, pOut, (int)nDict);
    if( rc ) return vlogSetError(p, rc, 0);
    for(iChunk=1; rc==VLOG_OK && (u32)pOut->n<nDict; iChunk++){
      dictKey(aKey, iId, iChunk);
      rc = vlogBtreeLookup(p, TREE_DICTS, aKey, 8, &a, &n);
      if( rc==VLOG_OK && (n<1 || (u32)(pOut->n+n)>nDict) ) rc = VLOG_CORRUPT;
      if( rc==VLOG_OK ){
        memcpy(&pOut->a[pOut->n], a, n);
        pOut->n += n;
      }
    }
    if( rc==VLOG_OK && vlogChecksum(pOut->a, pOut->n, SEED_DICT)!=iSum ){
      rc = VLOG_CORRUPT;
    }
  }
  if( rc==VLOG_NOTFOUND || rc==VLOG_CORRUPT ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "zstd dictionary %u of the value log "
                        "is %s", iId, rc==VLOG_NOTFOUND ? "missing" : "damaged");
  }
  return rc;
}

/* Forget dictionary iId in the decompression cache (0: all). */
static void ddictForget(VlogLog *pL, u32 iId){
  int i;
  for(i=0; i<DDICT_SLOTS; i++){
    if( iId==0 || pL->aDDict[i].iId==iId ){
      if( pL->aDDict[i].pDDict ) ZSTD_freeDDict((ZSTD_DDict*)pL->aDDict[i].pDDict);
      memset(&pL->aDDict[i], 0, sizeof(pL->aDDict[i]));
    }
  }
}

/* Dictionary iId digested for decompression (the handle's own dictionary
** from memory, others from TREE_DICTS), through a small LRU cache. */
static int ddictGet(VlogStore *p, u32 iId, ZSTD_DDict **ppD){
  VlogLog *pL = &p->vl;
  struct DDictSlot *pOld = &pL->aDDict[0];
  VlogBuf *pBytes = &pL->dict, loaded;
  int i, rc;
  for(i=0; i<DDICT_SLOTS; i++){
    struct DDictSlot *s = &pL->aDDict[i];
    if( s->iId==iId ){
      s->iUsed = ++pL->iCacheClock;
      *ppD = (ZSTD_DDict*)s->pDDict;
      return VLOG_OK;
    }
    if( s->iUsed<pOld->iUsed ) pOld = s;
  }
  memset(&loaded, 0, sizeof(loaded));
  if( iId!=pL->iDict || pL->dict.n==0 ){
    /* not in rbuf: the caller's frame is there */
    pBytes = &loaded;
    rc = dictLoad(p, iId, pBytes);
    if( rc ){
      vlogBufFree(p->pEnv, &loaded);
      return rc;
    }
  }
  if( pOld->pDDict ) ZSTD_freeDDict((ZSTD_DDict*)pOld->pDDict);
  pOld->pDDict = ZSTD_createDDict(pBytes->a, pBytes->n);
  vlogBufFree(p->pEnv, &loaded);
  if( pOld->pDDict==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  pOld->iId = iId;
  pOld->iUsed = ++pL->iCacheClock;
  *ppD = (ZSTD_DDict*)pOld->pDDict;
  return VLOG_OK;
}

/* Drop the dictionary frames are compressed with. */
static void dictDrop(VlogLog *pL){
  if( pL->bDictPending ) ddictForget(pL, pL->iDict);
  if( pL->pCDict ) ZSTD_freeCDict((ZSTD_CDict*)pL->pCDict);
  pL->pCDict = 0;
  pL->iDict = 0;
  pL->dict.n = 0;
  pL->bDictPending = 0;
}

/* Once per write transaction: pick up the newest dictionary of the store,
** which another handle may have made. */
static int dictCheck(VlogStore *p){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  if( !pL->bDictChecked ){
    u32 iLast;
    rc = dictLast(p, &iLast);
    if( rc ) return rc;
    pL->bDictChecked = 1;
    pL->iDictLast = iLast;
    if( iLast>pL->iDict && !pL->bDictPending ){
      dictDrop(pL);
      rc = dictLoad(p, iLast, &pL->dict);
      if( rc==VLOG_OK ) pL->iDict = iLast;
      else pL->dict.n = 0;
    }
  }
  return rc;
}

/* Frame records a[0..n) compressed well without a dictionary: keep them as
** training samples, and train once there are DICT_SAMPLE bytes of them. */
static int dictSample(VlogStore *p, const u8 *a, int n){
  VlogLog *pL = &p->vl;
  const u8 *z = a, *pEnd = &a[n];
  int rc;
  size_t nz;
  if( pL->nSampSkip>0 ){
    pL->nSampSkip = pL->nSampSkip>(u64)n ? pL->nSampSkip-(u64)n : 0;
    return VLOG_OK;
  }
  while( z<pEnd ){
    const u8 *zRec = z, *pK, *pV;
    u64 nK, nV;
    size_t nRec;
    z = recordParse(z, pEnd, &pK, &nK, &pV, &nV);
    if( z==0 ) break;
    nRec = (size_t)(z-zRec);
    rc = vlogBufAppend(p->pEnv, &pL->samp, zRec, (int)nRec);
    if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &pL->sampSize, &nRec, sizeof(nRec));
    if( rc ) return vlogSetError(p, rc, 0);
  }
  if( pL->samp.n<DICT_SAMPLE ) return VLOG_OK;

  /* Train.  A failure (too few or too alike samples) is no error: frames
  ** go on without a dictionary, and sampling starts again later. */
  rc = dictCheck(p);
  if( rc ) return rc;
  dictDrop(pL);
  rc = vlogBufReserve(p->pEnv, &pL->dict, DICT_SIZE);
  if( rc ) return vlogSetError(p, rc, 0);
  nz = ZDICT_trainFromBuffer(pL->dict.a, DICT_SIZE, pL->samp.a,
                             (const size_t*)pL->sampSize.a,
                             (unsigned)(pL->sampSize.n/sizeof(size_t)));
  pL->samp.n = 0;
  pL->sampSize.n = 0;
  if( ZDICT_isError(nz) || pL->iDictLast==0xffffffff ){
    pL->nSampSkip = DICT_RETRY;
    return VLOG_OK;
  }
  pL->dict.n = (int)nz;
  pL->iDict = ++pL->iDictLast;
  pL->bDictPending = 1;
  pL->nDictTrained++;
  return VLOG_OK;
}

/* At commit: a dictionary made by this transaction goes to TREE_DICTS,
** in chunks, with the transaction's other changes. */
static int dictPersist(VlogStore *p){
  VlogLog *pL = &p->vl;
  u8 aKey[8], aHdr[16];
  int rc, i;
  u32 iChunk = 1;
  if( !pL->bDictPending || pL->dict.n==0 ) return VLOG_OK;
  vlogPut32(&aHdr[0], (u32)pL->dict.n);
  vlogPut32(&aHdr[4], 0);
  vlogPut64(&aHdr[8], vlogChecksum(pL->dict.a, pL->dict.n, SEED_DICT));
  dictKey(aKey, pL->iDict, 0);
  rc = vlogTxnApply(p, REC_PUT, TREE_DICTS, aKey, 8, aHdr, 16, 1);
  for(i=0; rc==VLOG_OK && i<pL->dict.n; i+=DICT_CHUNK, iChunk++){
    int n = pL->dict.n-i<DICT_CHUNK ? pL->dict.n-i : DICT_CHUNK;
    dictKey(aKey, pL->iDict, iChunk);
    rc = vlogTxnApply(p, REC_PUT, TREE_DICTS, aKey, 8, &pL->dict.a[i], n, 1);
  }
  return rc;
}

/* The commit is published: the dictionary it made is the store's. */
void vlogLogCommitted(VlogStore *p){
  p->vl.bDictPending = 0;
}

/* ---------------------------------------------------------------------
** Writing frames
*/

/* Write a[0..n), frames at (iSeg, iOff), and name them in the journal
** entry of the commit (REC_VEXT). */
static int extentWrite(VlogStore *p, u64 iSeg, u32 iOff, const u8 *a, int n){
  u8 r[VEXT_SIZE];
  int rc = vlogWriteAt(p, vlogBucketOffset(p, iSeg) + iOff, a, n);
  if( rc ) return rc;
  r[0] = REC_VEXT;
  vlogPut64(&r[1], iSeg);
  vlogPut32(&r[9], iOff);
  vlogPut32(&r[13], (u32)n);
  vlogPut64(&r[17], 0);
  rc = vlogBufAppend(p->pEnv, &p->vl.vext, r, VEXT_SIZE);
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* Write the frames gathered in the write-out buffer. */
static int woutWrite(VlogStore *p){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  if( pL->wout.n>0 ){
    rc = extentWrite(p, pL->iWoutSeg, pL->iWoutOff, pL->wout.a, pL->wout.n);
    pL->wout.n = 0;
  }
  return rc;
}

/* Frame a[0..n) goes at the append position: into the write-out buffer,
** which is written when full, when the log moves on elsewhere, at commit,
** and before a read of a frame in it. */
static int woutAdd(VlogStore *p, const u8 *a, int n){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  if( pL->wout.n>0 && (pL->iWoutSeg!=pL->iSeg
                       || pL->iWoutOff+(u32)pL->wout.n!=pL->iFrameOff) ){
    rc = woutWrite(p);
    if( rc ) return rc;
  }
  if( pL->wout.n==0 ){
    if( n>=WOUT_MAX ) return extentWrite(p, pL->iSeg, pL->iFrameOff, a, n);
    pL->iWoutSeg = pL->iSeg;
    pL->iWoutOff = pL->iFrameOff;
  }
  rc = vlogBufAppend(p->pEnv, &pL->wout, a, n);
  if( rc ) return vlogSetError(p, rc, 0);
  return pL->wout.n>=WOUT_MAX ? woutWrite(p) : VLOG_OK;
}

/* Before a read at (iSeg, iOff): write the buffered frames it may need. */
static int woutBefore(VlogStore *p, u64 iSeg, u32 iOff){
  VlogLog *pL = &p->vl;
  if( pL->wout.n>0 && iSeg==pL->iWoutSeg && iOff>=pL->iWoutOff ){
    return woutWrite(p);
  }
  return VLOG_OK;
}

/* Close the open frame, if it has records: compress it and queue it for
** writing. */
int vlogLogFlush(VlogStore *p){
  VlogLog *pL = &p->vl;
  Bucket *pB;
  u8 *aOut;
  int nStored, bZstd = 0, bDict = 0, rc, n;

  if( pL->nFrameRec==0 ) return VLOG_OK;
  rc = vlogBufReserve(p->pEnv, &pL->zbuf, FRAME_HDR + 4 + (int)ZSTD_compressBound(pL->frame.n) + 16);
  if( rc ) return vlogSetError(p, rc, 0);
  aOut = pL->zbuf.a;
  nStored = pL->frame.n;
  if( pL->iFrameLevel>0 && !pL->bFrameRaw && pL->frame.n>=64 ){
    size_t nz = 0;
    int bTry = 1;
    if( pL->pZc==0 ){
      pL->pZc = ZSTD_createCCtx();
      if( pL->pZc==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    }
    if( pL->nNoGain>=RAW_AFTER && pL->frame.n>2048 ){
      /* The last frames did not compress: try a 1 KiB sample at level 1
      ** first, and the whole frame only if the sample gains. */
      nz = ZSTD_compressCCtx((ZSTD_CCtx*)pL->pZc, &aOut[FRAME_HDR],
                             pL->zbuf.nAlloc-FRAME_HDR, pL->frame.a, 1024, 1);
      bTry = !ZSTD_isError(nz) && nz < 1024 - 1024/8;
    }
    if( bTry && pL->iDict ){
      /* with the dictionary: the id, then a zstd frame without the
      ** content size or dictionary id in its header (both known) */
      ZSTD_CCtx *pZc = (ZSTD_CCtx*)pL->pZc;
      if( pL->pCDict==0 || pL->iCDictLevel!=pL->iFrameLevel ){
        if( pL->pCDict ) ZSTD_freeCDict((ZSTD_CDict*)pL->pCDict);
        pL->pCDict = ZSTD_createCDict(pL->dict.a, pL->dict.n, pL->iFrameLevel);
        if( pL->pCDict==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
        pL->iCDictLevel = pL->iFrameLevel;
      }
      ZSTD_CCtx_reset(pZc, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(pZc, ZSTD_c_contentSizeFlag, 0);
      ZSTD_CCtx_setParameter(pZc, ZSTD_c_dictIDFlag, 0);
      ZSTD_CCtx_refCDict(pZc, (ZSTD_CDict*)pL->pCDict);
      nz = ZSTD_compress2(pZc, &aOut[FRAME_HDR+4], pL->zbuf.nAlloc-FRAME_HDR-4,
                          pL->frame.a, pL->frame.n);
      if( !ZSTD_isError(nz) ){
        vlogPut32(&aOut[FRAME_HDR], pL->iDict);
        nz += 4;
        bDict = 1;
      }
    }else if( bTry ){
      nz = ZSTD_compressCCtx((ZSTD_CCtx*)pL->pZc, &aOut[FRAME_HDR],
                             pL->zbuf.nAlloc-FRAME_HDR, pL->frame.a, pL->frame.n,
                             pL->iFrameLevel);
    }
    if( bTry && !ZSTD_isError(nz) && nz < (size_t)(pL->frame.n - pL->frame.n/8) ){
      nStored = (int)nz;
      bZstd = 1;
      pL->nNoGain = 0;
    }else{
      pL->nNoGain++;
      bDict = 0;
    }
  }
  if( !bZstd ) memcpy(&aOut[FRAME_HDR], pL->frame.a, pL->frame.n);
  vlogPut32(&aOut[0], FRAME_MAGIC);
  aOut[4] = bZstd ? (bDict ? FRAME_ZSTD|FRAME_DICT : FRAME_ZSTD) : 0;
  aOut[5] = 0;
  vlogPut16(&aOut[6], (u16)pL->nFrameRec);
  vlogPut32(&aOut[8], (u32)pL->frame.n);
  vlogPut32(&aOut[12], (u32)nStored);
  vlogPut64(&aOut[16], vlogChecksum(aOut, 16, SEED_FRAME)
                       ^ vlogChecksum(&aOut[FRAME_HDR], nStored, SEED_FRAME));
  n = align16(FRAME_HDR + nStored);
  memset(&aOut[FRAME_HDR+nStored], 0, n - FRAME_HDR - nStored);
  assert( pL->iFrameOff + (u32)n <= p->sb.nBucketSize );
  rc = woutAdd(p, aOut, n);
  if( rc ) return rc;
  pB = &p->aBucket[pL->iSeg];
  pB->nDisk = pL->iFrameOff + n;
  pB->nTotal += (u64)pL->frame.n;     /* the records' bytes */
  pB->nRec += (u64)pL->nFrameRec;
  rc = segTouch(p, pL->iSeg);
  if( rc ) return rc;
  pL->iFrameOff += n;
  pL->nFrameWrite++;
  pL->nRawWritten += pL->frame.n;
  pL->nDiskWritten += n;
  if( bDict ) pL->nDictFrames++;
  if( bZstd && !bDict && pL->frame.n<FRAME_TARGET*2 ){
    /* frames of small records that compress: samples for a dictionary */
    rc = dictSample(p, pL->frame.a, pL->frame.n);
  }
  pL->frame.n = 0;
  pL->nFrameRec = 0;
  return rc;
}

/*
** Make room for a record of nRec bytes in the open frame (or a frame of its
** own when bAlone): flush, move to a new segment, align as needed.
*/
static int frameRoom(VlogStore *p, int nRec, int iLevel, int bAlone){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  int nTarget = pL->iDict && iLevel>0 && !pL->bFrameRaw ? DICT_TARGET : FRAME_TARGET;
  if( nRec>=FRAME_TARGET ) bAlone = 1;
  if( pL->nFrameRec>0 && (bAlone || iLevel!=pL->iFrameLevel
        || pL->frame.n + nRec > nTarget + nTarget/2 || pL->nFrameRec>=65535
        || (u64)pL->iFrameOff + FRAME_HDR + pL->frame.n + nRec + 16 > p->sb.nBucketSize) ){
    rc = vlogLogFlush(p);
    if( rc ) return rc;
  }
  if( pL->nFrameRec==0 ){
    if( !pL->bFresh && pL->iSeg ){
      /* Another handle may have appended to the log, or sealed the
      ** segment, since this one last wrote: the bucket table, which the
      ** replay of its commits updated, says where the log ends. */
      if( pL->iSeg>=p->sb.nBucket || p->aBucket[pL->iSeg].eKind!=KIND_VLOG
       || p->aBucket[pL->iSeg].eState!=BUCKET_OPEN ){
        pL->iSeg = 0;
      }else{
        pL->iFrameOff = (u32)p->aBucket[pL->iSeg].nDisk;
      }
    }
    if( pL->iSeg==0 ) segFind(p);
    if( !pL->bFresh ){
      /* the first frame of a transaction starts on a fresh sector */
      pL->iFrameOff = (pL->iFrameOff + VLOG_SECTOR-1) & ~(u32)(VLOG_SECTOR-1);
      pL->bFresh = 1;
    }
    if( pL->iSeg==0
     || (u64)pL->iFrameOff + FRAME_HDR + nRec + 16 > p->sb.nBucketSize ){
      rc = segNext(p);
    }
    if( iLevel>0 && rc==VLOG_OK ) rc = dictCheck(p);
    pL->iFrameLevel = iLevel;
    /* After RAW_AFTER frames in a row that did not compress, frames of
    ** small records are raw by decision (their records get VTAG_RAW
    ** pointers), except one in RAW_PROBE, which is tried, to notice data
    ** that compresses again.  A record of FRAME_TARGET bytes or more has a
    ** frame of its own, always tried (a sample first, see vlogLogFlush). */
    pL->bFrameRaw = iLevel<=0 || (!bAlone && pL->nNoGain>=RAW_AFTER
                                  && (++pL->nRawFrames % RAW_PROBE)!=0);
  }
  return rc;
}

/* Append one record to the open frame; its index in the frame. */
static int frameAppend(VlogStore *p, const u8 *pKey, int nKey, const u8 *pVal,
                       int nVal, int *piIdx){
  VlogLog *pL = &p->vl;
  int rc = vlogBufAppendVarint(p->pEnv, &pL->frame, (u64)nKey);
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &pL->frame, pKey, nKey);
  if( rc==VLOG_OK ) rc = vlogBufAppendVarint(p->pEnv, &pL->frame, (u64)nVal);
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &pL->frame, pVal, nVal);
  if( rc ) return vlogSetError(p, rc, 0);
  *piIdx = pL->nFrameRec++;
  return VLOG_OK;
}

/*
** The leaf value for (pKey, pVal): inline when nVal <= nInlineMax, else
** the value goes to the value log and the result is a pointer.  Written to
** pOut (reset first).
*/
int vlogValueEncode(VlogStore *p, const u8 *pKey, int nKey, const u8 *pVal,
                    int nVal, int nInlineMax, int iLevel, VlogBuf *pOut){
  VlogEnv *pEnv = p->pEnv;
  int rc, nChunkMax = (int)p->sb.nBucketSize/2;
  u8 tag;
  pOut->n = 0;
  if( nVal<=nInlineMax ){
    tag = VTAG_INLINE;
    rc = vlogBufAppend(pEnv, pOut, &tag, 1);
    if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pOut, pVal, nVal);
    return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
  }
  if( (u64)nVal>VLOG_MAX_VALUE ){
    return vlogSetError(p, VLOG_TOOBIG, "value of %d bytes: the limit is %d bytes",
                        nVal, VLOG_MAX_VALUE);
  }
  if( (i64)recordBytes(nKey, (u64)nVal) + FRAME_HDR + 16 <= nChunkMax ){
    int iIdx;
    rc = frameRoom(p, (int)recordBytes(nKey, (u64)nVal), iLevel, 0);
    if( rc==VLOG_OK ){
      u32 iFrameOff = p->vl.iFrameOff;
      u64 iSeg = p->vl.iSeg;
      u32 iRecOff = (u32)p->vl.frame.n;
      rc = frameAppend(p, pKey, nKey, pVal, nVal, &iIdx);
      tag = p->vl.bFrameRaw ? VTAG_RAW : VTAG_PTR;
      if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pOut, &tag, 1);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, iSeg);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, iFrameOff);
      if( rc==VLOG_OK ){
        rc = vlogBufAppendVarint(pEnv, pOut, tag==VTAG_RAW ? iRecOff : (u64)iIdx);
      }
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, (u64)nVal);
      if( rc==VLOG_OK && tag==VTAG_RAW ){
        u8 aSum[4];
        vlogPut32(aSum, (u32)vlogChecksum(&p->vl.frame.a[iRecOff],
                                          p->vl.frame.n - (int)iRecOff, SEED_RECORD));
        rc = vlogBufAppend(pEnv, pOut, aSum, 4);
      }
      if( rc==VLOG_NOMEM ) vlogSetError(p, rc, 0);
    }
    return rc;
  }else{
    /* Chunks of at most nChunk bytes, each alone in its frame. */
    int nChunk = nChunkMax - FRAME_HDR - 32 - nKey;
    int nChunks = (nVal + nChunk - 1)/nChunk;
    int i;
    tag = VTAG_CHUNKS;
    rc = vlogBufAppend(pEnv, pOut, &tag, 1);
    if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, (u64)nVal);
    if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, (u64)nChunks);
    for(i=0; rc==VLOG_OK && i<nChunks; i++){
      int n = (i==nChunks-1) ? nVal - i*nChunk : nChunk;
      int iIdx;
      rc = frameRoom(p, (int)recordBytes(nKey, (u64)n), iLevel, 1);
      if( rc==VLOG_OK ){
        u32 iFrameOff = p->vl.iFrameOff;
        u64 iSeg = p->vl.iSeg;
        rc = frameAppend(p, pKey, nKey, &pVal[(i64)i*nChunk], n, &iIdx);
        if( rc==VLOG_OK ) rc = vlogLogFlush(p);
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, iSeg);
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, iFrameOff);
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pOut, (u64)n);
      }
    }
    if( rc==VLOG_OK && pOut->n>vlogBtreeMaxValue(p) ){
      rc = vlogSetError(p, VLOG_TOOBIG, "value of %d bytes needs %d chunks, more than "
                        "a leaf of this store can point to", nVal, nChunks);
    }
    if( rc==VLOG_NOMEM ) vlogSetError(p, rc, 0);
    return rc;
  }
}

/* ---------------------------------------------------------------------
** Reading
*/

/* The records of frame (iSeg, iOff) if they are in memory: the frame this
** transaction is filling, or a frame in the cache.  0 if not. */
static int frameFind(VlogStore *p, u64 iSeg, u32 iOff, const u8 **paRaw,
                     int *pnRaw, FrameCacheSlot **ppOld){
  VlogLog *pL = &p->vl;
  FrameCacheSlot *pOld = &pL->aCache[0];
  int i;
  if( pL->nFrameRec>0 && iSeg==pL->iSeg && iOff==pL->iFrameOff ){
    /* the frame this transaction is filling, not written yet */
    *paRaw = pL->frame.a;
    *pnRaw = pL->frame.n;
    return 1;
  }
  for(i=0; i<FRAME_CACHE_SLOTS; i++){
    FrameCacheSlot *s = &pL->aCache[i];
    if( s->iSeg==iSeg && s->iOff==iOff && s->aRaw ){
      s->iUsed = ++pL->iCacheClock;
      pL->nCacheHit++;
      *paRaw = s->aRaw;
      *pnRaw = s->nRaw;
      return 1;
    }
    if( s->iUsed<pOld->iUsed ) pOld = s;
  }
  if( ppOld ) *ppOld = pOld;
  return 0;
}

/* SQLITE_CORRUPT unless (iSeg, iOff + nLen) can be a value-log extent. */
static int checkExtent(VlogStore *p, u64 iSeg, u64 iOff, u64 nLen, int bAnyBucket){
  if( iSeg==0 || (!bAnyBucket && (iSeg>=p->sb.nBucket
                                  || p->aBucket[iSeg].eKind!=KIND_VLOG))
   || iSeg>=MAX_BUCKETS(p->sb.nBucketSize)
   || iOff+nLen>p->sb.nBucketSize ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value pointer to segment %llu offset %llu, which holds no value-log frame",
        (unsigned long long)iSeg, (unsigned long long)iOff);
  }
  return VLOG_OK;
}

/* VLOG_OK if frame header h (at iSeg, iOff) is sound, else VLOG_CORRUPT
** with a message. */
static int frameHdrCheck(VlogStore *p, const u8 *h, u64 iSeg, u32 iOff){
  u32 nRaw = vlogGet32(&h[8]);
  u32 nStored = vlogGet32(&h[12]);
  if( vlogGet32(&h[0])!=FRAME_MAGIC || (h[4] & ~(FRAME_ZSTD|FRAME_DICT))
   || (h[4]==FRAME_DICT) || ((h[4] & FRAME_DICT) && nStored<4)
   || nStored>p->sb.nBucketSize || nRaw>p->sb.nBucketSize
   || (u64)iOff+FRAME_HDR+nStored>p->sb.nBucketSize
   || (!(h[4] & FRAME_ZSTD) && nRaw!=nStored) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value-log frame at segment %llu offset %u: bad header",
        (unsigned long long)iSeg, iOff);
  }
  return VLOG_OK;
}

/* VLOG_OK if the checksum of frame header h and its stored bytes holds. */
static int frameSumCheck(VlogStore *p, const u8 *h, const u8 *aStored,
                         u64 iSeg, u32 iOff){
  u32 nStored = vlogGet32(&h[12]);
  if( vlogGet64(&h[16])!=(vlogChecksum(h, 16, SEED_FRAME)
                          ^ vlogChecksum(aStored, nStored, SEED_FRAME)) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value-log frame at segment %llu offset %u: checksum mismatch",
        (unsigned long long)iSeg, iOff);
  }
  return VLOG_OK;
}

/*
** Read n bytes at byte iOff of segment iSeg, bytes a transaction's snapshot
** pins.  Through the memory map (vlogReadPinned) go only the bytes before
** the end of what the segment holds (Bucket.nDisk); any past it are read
** with xRead.  A page of a map that was never written is a hole of the
** file, and touching it makes the kernel allocate a page: on a full
** tmpfs that is SIGBUS, where pread() returns zeros.
*/
static int segRead(VlogStore *p, u64 iSeg, u64 iOff, u8 *pBuf, int n){
  u64 iFile = vlogBucketOffset(p, iSeg) + iOff;
  u64 nDisk = iSeg<p->sb.nBucket ? p->aBucket[iSeg].nDisk : 0;
  int nMap = iOff>=nDisk ? 0 : (nDisk-iOff<(u64)n ? (int)(nDisk-iOff) : n);
  int rc = VLOG_OK;
  if( nMap>0 ) rc = vlogReadPinned(p, iFile, pBuf, nMap);
  if( rc==VLOG_OK && nMap<n ){
    rc = p->pEnv->xRead(p->pFile, (i64)iFile+nMap, pBuf+nMap, n-nMap);
  }
  return rc;
}

/* The decompressed records of the frame at (iSeg, iOff), of which about
** nHint bytes are expected to be needed (0: unknown).
**
** Without a map, one read of about the frame's size (FRAME_FIRST_READ or
** the hint) usually fetches it whole.  With a map, the header is read
** first and then exactly the frame's bytes: bytes after a frame may never
** have been written (a rolled-back transaction's frames, whose room in
** the segment stays a hole), and a map must not touch them (segRead). */
static int frameLoad(VlogStore *p, u64 iSeg, u32 iOff, int nHint,
                     const u8 **paRaw, int *pnRaw){
  VlogLog *pL = &p->vl;
  FrameCacheSlot *pSlot = 0, *pOld = 0;
  u8 h[FRAME_HDR];
  u8 *aStored = 0, *aRaw = 0;
  u32 nRaw, nStored;
  int i, rc, nFirst;
  u64 iFile;

  if( frameFind(p, iSeg, iOff, paRaw, pnRaw, &pOld) ) return VLOG_OK;
  pL->nCacheMiss++;
  rc = checkExtent(p, iSeg, iOff, FRAME_HDR, 0);
  if( rc==VLOG_OK ) rc = woutBefore(p, iSeg, iOff);
  if( rc ) return rc;
  iFile = vlogBucketOffset(p, iSeg) + iOff;
  /* One read for the header and, usually, the whole frame. */
  nFirst = FRAME_FIRST_READ;
  if( nHint>0 && nHint<FRAME_FIRST_READ ) nFirst = (nHint+255) & ~255;
  if( p->pEnv->xReadMapped && p->cfg.nMmapSize>0 ) nFirst = FRAME_HDR;
  if( (u64)iOff + nFirst > p->sb.nBucketSize ) nFirst = (int)(p->sb.nBucketSize - iOff);
  rc = vlogBufReserve(p->pEnv, &pL->rbuf, nFirst);
  if( rc ) return vlogSetError(p, rc, 0);
  rc = segRead(p, iSeg, iOff, pL->rbuf.a, nFirst);
  if( rc==VLOG_IOERR_SHORT_READ ){
    /* the frame may end before the file does; the checks below tell */
    rc = VLOG_OK;
  }
  if( rc ) return vlogSetError(p, rc, "cannot read the value-log frame at segment "
                               "%llu offset %u", (unsigned long long)iSeg, iOff);
  memcpy(h, pL->rbuf.a, FRAME_HDR);
  if( vlogGet32(&h[0])!=FRAME_MAGIC && vlogGet32(&h[0])==0 ){
    /* zeros: maybe beyond the end of the file */
    i64 nSize = 0;
    if( p->pEnv->xSize(p->pFile, &nSize)==VLOG_OK && (u64)nSize<iFile+FRAME_HDR ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log frame at offset %llu is "
          "past the end of the file (truncated store?)", (unsigned long long)iFile);
    }
  }
  nRaw = vlogGet32(&h[8]);
  nStored = vlogGet32(&h[12]);
  rc = frameHdrCheck(p, h, iSeg, iOff);
  if( rc ) return rc;
  if( FRAME_HDR+(int)nStored>nFirst ){
    /* the rest of the frame */
    rc = vlogBufReserve(p->pEnv, &pL->rbuf, FRAME_HDR+(int)nStored);
    if( rc ) return vlogSetError(p, rc, 0);
    rc = segRead(p, iSeg, (u64)iOff+nFirst, &pL->rbuf.a[nFirst],
                 FRAME_HDR+(int)nStored-nFirst);
    if( rc==VLOG_IOERR_SHORT_READ ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log frame at offset %llu "
          "is past the end of the file (truncated store?)", (unsigned long long)iFile);
    }
    if( rc ) return vlogSetError(p, rc, "cannot read the value-log frame at "
        "segment %llu offset %u", (unsigned long long)iSeg, iOff);
  }
  aStored = &pL->rbuf.a[FRAME_HDR];
  rc = frameSumCheck(p, h, aStored, iSeg, iOff);
  if( rc ) return rc;
  if( h[4] & FRAME_ZSTD ){
    size_t nz;
    ZSTD_DDict *pDict = 0;
    aRaw = (u8*)vlogMalloc(p->pEnv, nRaw ? nRaw : 1);
    if( aRaw==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
    if( rc==VLOG_OK && pL->pZd==0 ){
      pL->pZd = ZSTD_createDCtx();
      if( pL->pZd==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
    }
    if( rc==VLOG_OK && (h[4] & FRAME_DICT) ){
      rc = ddictGet(p, vlogGet32(aStored), &pDict);
    }
    if( rc==VLOG_OK ){
      if( pDict ){
        nz = ZSTD_decompress_usingDDict((ZSTD_DCtx*)pL->pZd, aRaw, nRaw,
                                        &aStored[4], nStored-4, pDict);
      }else{
        nz = ZSTD_decompressDCtx((ZSTD_DCtx*)pL->pZd, aRaw, nRaw, aStored, nStored);
      }
      if( ZSTD_isError(nz) || nz!=nRaw ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
            "value-log frame at segment %llu offset %u: does not decompress",
            (unsigned long long)iSeg, iOff);
      }
    }
  }else{
    aRaw = (u8*)vlogMalloc(p->pEnv, nRaw ? nRaw : 1);
    if( aRaw==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
    else memcpy(aRaw, aStored, nRaw);
  }
  if( rc ){
    vlogFree(p->pEnv, aRaw);
    return rc;
  }
  pL->nFrameRead++;
  pL->nBytesRead += FRAME_HDR + nStored;
  /* cache it, evicting the least recently used slots while over budget */
  pSlot = pOld;
  if( pSlot->aRaw ){
    pL->nCache -= pSlot->nRaw;
    vlogFree(p->pEnv, pSlot->aRaw);
  }
  pSlot->iSeg = iSeg;
  pSlot->iOff = iOff;
  pSlot->aRaw = aRaw;
  pSlot->nRaw = (int)nRaw;
  pSlot->iUsed = ++pL->iCacheClock;
  pL->nCache += nRaw;
  while( pL->nCache>FRAME_CACHE_BYTES ){
    FrameCacheSlot *pV = 0;
    for(i=0; i<FRAME_CACHE_SLOTS; i++){
      FrameCacheSlot *s = &pL->aCache[i];
      if( s->aRaw && s!=pSlot && (pV==0 || s->iUsed<pV->iUsed) ) pV = s;
    }
    if( pV==0 ) break;
    pL->nCache -= pV->nRaw;
    vlogFree(p->pEnv, pV->aRaw);
    memset(pV, 0, sizeof(*pV));
  }
  *paRaw = aRaw;
  *pnRaw = (int)nRaw;
  return VLOG_OK;
}

/* Record iIdx of frame (iSeg, iOff), which must be key pKey: its value. */
static int recordGet(VlogStore *p, u64 iSeg, u32 iOff, int iIdx, u64 nVal,
                     const u8 *pKey, int nKey, const u8 **ppVal, int *pnVal){
  const u8 *a, *z, *pEnd;
  int nRaw, i, rc;
  /* Bytes to read at first: the frame up to this record is most of it,
  ** and the segment says how well its frames compress. */
  u64 nHint = (u64)(iIdx+1)*recordBytes(nKey, nVal);
  if( iSeg<p->sb.nBucket && p->aBucket[iSeg].nTotal>p->aBucket[iSeg].nDisk ){
    nHint = nHint * p->aBucket[iSeg].nDisk / p->aBucket[iSeg].nTotal;
  }
  nHint += FRAME_HDR + 64 + nHint/4;
  rc = frameLoad(p, iSeg, iOff, nHint<FRAME_FIRST_READ ? (int)nHint : 0, &a, &nRaw);
  if( rc ) return rc;
  z = a;
  pEnd = &a[nRaw];
  for(i=0; z && i<=iIdx; i++){
    const u8 *pK, *pV;
    u64 nK, nV;
    z = recordParse(z, pEnd, &pK, &nK, &pV, &nV);
    if( z && i==iIdx ){
      if( nK!=(u64)nKey || memcmp(pK, pKey, nKey)!=0 ){
        return vlogSetError(p, VLOG_CORRUPT_BKPT,
            "value-log frame at segment %llu offset %u: record %d is not the "
            "key's", (unsigned long long)iSeg, iOff, iIdx);
      }
      *ppVal = pV;
      *pnVal = (int)nV;
      return VLOG_OK;
    }
  }
  return vlogSetError(p, VLOG_CORRUPT_BKPT,
      "value-log frame at segment %llu offset %u: no record %d",
      (unsigned long long)iSeg, iOff, iIdx);
}

/*
** The record at byte iRecOff of raw frame (iSeg, iOff), which must be key
** pKey with a value of nVal bytes whose record checksum is iSum (VTAG_RAW).
** From memory when the frame is there; otherwise the record alone is read
** and checked against the checksum its pointer carries.
*/
static int rawGet(VlogStore *p, u64 iSeg, u32 iOff, u64 iRecOff, u64 nVal,
                  u32 iSum, const u8 *pKey, int nKey,
                  const u8 **ppVal, int *pnVal){
  VlogLog *pL = &p->vl;
  u64 nRec = recordBytes(nKey, nVal);
  const u8 *a, *z, *pEnd;
  int nRaw, rc, k;
  u64 nK, nV;
  if( iRecOff>p->sb.nBucketSize ) goto bad;        /* iRecOff+nRec cannot wrap */
  if( frameFind(p, iSeg, iOff, &a, &nRaw, 0) ){
    if( iRecOff+nRec>(u64)nRaw ) goto bad;
    z = &a[iRecOff];
  }else{
    pL->nCacheMiss++;
    rc = checkExtent(p, iSeg, (u64)iOff+FRAME_HDR+iRecOff, nRec, 0);
    if( rc==VLOG_OK ) rc = woutBefore(p, iSeg, iOff);
    if( rc ) return rc;
    rc = vlogBufReserve(p->pEnv, &pL->rbuf, (int)nRec);
    if( rc ) return vlogSetError(p, rc, 0);
    rc = segRead(p, iSeg, (u64)iOff + FRAME_HDR + iRecOff, pL->rbuf.a, (int)nRec);
    if( rc==VLOG_IOERR_SHORT_READ ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log record at segment %llu "
          "offset %u is past the end of the file (truncated store?)",
          (unsigned long long)iSeg, iOff);
    }
    if( rc ) return vlogSetError(p, rc, "cannot read the value-log record at "
                                 "segment %llu offset %u", (unsigned long long)iSeg, iOff);
    pL->nRecordRead++;
    pL->nBytesRead += nRec;
    if( (u32)vlogChecksum(pL->rbuf.a, (int)nRec, SEED_RECORD)!=iSum ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log frame at segment %llu "
          "offset %u: checksum mismatch (the record at byte %llu)",
          (unsigned long long)iSeg, iOff, (unsigned long long)iRecOff);
    }
    z = pL->rbuf.a;
  }
  pEnd = &z[nRec];
  k = vlogGetVarint(z, pEnd, &nK);
  if( k==0 || nK!=(u64)nKey || (u64)(pEnd-z-k)<nK
   || memcmp(&z[k], pKey, nKey)!=0 ) goto bad;
  z += k + nKey;
  k = vlogGetVarint(z, pEnd, &nV);
  if( k==0 || nV!=nVal || (u64)(pEnd-z-k)!=nV ) goto bad;
  *ppVal = &z[k];
  *pnVal = (int)nVal;
  return VLOG_OK;
 bad:
  return vlogSetError(p, VLOG_CORRUPT_BKPT,
      "value-log frame at segment %llu offset %u: the record at %llu is not "
      "the key's", (unsigned long long)iSeg, iOff, (unsigned long long)iRecOff);
}

/*
** The value stored in leaf value a[0..n) of key pKey: inline, or read from
** the value log.  *ppVal is valid until the next call on the handle.
*/
int vlogValueDecode(VlogStore *p, const u8 *pKey, int nKey, const u8 *a, int n,
                    const u8 **ppVal, int *pnVal){
  const u8 *pEnd = &a[n];
  u64 v[4];
  int k, i, rc;
  if( n<1 ) goto corrupt;
  if( a[0]==VTAG_INLINE ){
    *ppVal = &a[1];
    *pnVal = n-1;
    return VLOG_OK;
  }
  if( a[0]==VTAG_PTR ){
    const u8 *z = &a[1];
    const u8 *pV;
    int nV;
    for(i=0; i<4; i++){
      k = vlogGetVarint(z, pEnd, &v[i]);
      if( k==0 ) goto corrupt;
      z += k;
    }
    if( v[1]>0xffffffff || v[2]>65535 ) goto corrupt;
    rc = recordGet(p, v[0], (u32)v[1], (int)v[2], v[3], pKey, nKey, &pV, &nV);
    if( rc ) return rc;
    if( (u64)nV!=v[3] ) goto corrupt;
    *ppVal = pV;
    *pnVal = nV;
    return VLOG_OK;
  }
  if( a[0]==VTAG_RAW ){
    const u8 *z = &a[1];
    for(i=0; i<4; i++){
      k = vlogGetVarint(z, pEnd, &v[i]);
      if( k==0 ) goto corrupt;
      z += k;
    }
    if( pEnd-z!=4 || v[1]>0xffffffff || v[3]>VLOG_MAX_VALUE ) goto corrupt;
    return rawGet(p, v[0], (u32)v[1], v[2], v[3], vlogGet32(z), pKey, nKey,
                  ppVal, pnVal);
  }
  if( a[0]==VTAG_CHUNKS ){
    const u8 *z = &a[1];
    u64 nVal, nChunks, iAt = 0;
    VlogLog *pL = &p->vl;
    k = vlogGetVarint(z, pEnd, &nVal);  if( k==0 ) goto corrupt;  z += k;
    k = vlogGetVarint(z, pEnd, &nChunks);  if( k==0 ) goto corrupt;  z += k;
    if( nVal>VLOG_MAX_VALUE || nChunks>nVal ) goto corrupt;
    pL->val.n = 0;
    rc = vlogBufReserve(p->pEnv, &pL->val, (int)nVal+1);
    if( rc ) return vlogSetError(p, rc, 0);
    for(i=0; i<(int)nChunks; i++){
      const u8 *pV;
      int nV, j;
      for(j=0; j<3; j++){
        k = vlogGetVarint(z, pEnd, &v[j]);
        if( k==0 ) goto corrupt;
        z += k;
      }
      if( v[1]>0xffffffff || iAt+v[2]>nVal ) goto corrupt;
      rc = recordGet(p, v[0], (u32)v[1], 0, v[2], pKey, nKey, &pV, &nV);
      if( rc ) return rc;
      if( (u64)nV!=v[2] ) goto corrupt;
      memcpy(&pL->val.a[iAt], pV, nV);
      iAt += nV;
    }
    if( iAt!=nVal || z!=pEnd ) goto corrupt;
    *ppVal = pL->val.a;
    *pnVal = (int)nVal;
    return VLOG_OK;
  }
 corrupt:
  return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad value pointer in a leaf of a user tree");
}

/*
** vlogValueDecode for the consistency check: a VTAG_RAW value's whole frame
** is read and checked too, not only its record.
*/
int vlogValueVerify(VlogStore *p, const u8 *pKey, int nKey, const u8 *a, int n,
                    const u8 **ppVal, int *pnVal){
  if( n>1 && a[0]==VTAG_RAW ){
    const u8 *z = &a[1], *aRaw;
    u64 iSeg, iOff;
    int k, nRaw, rc;
    k = vlogGetVarint(z, &a[n], &iSeg);
    if( k ){
      k = vlogGetVarint(z+k, &a[n], &iOff);
      if( k && iOff<=0xffffffff ){
        rc = frameLoad(p, iSeg, (u32)iOff, 0, &aRaw, &nRaw);
        if( rc ) return rc;
      }
    }
  }
  return vlogValueDecode(p, pKey, nKey, a, n, ppVal, pnVal);
}

/*
** vlog_verify's check of TREE_DICTS, which reads every dictionary, also
** those no frame uses any more: ids run 1, 2, ... without a gap (a dropped
** one's id is used again); each is a header chunk then chunks 1..N of
** DICT_CHUNK bytes (the last one shorter), nothing missing or extra; its
** checksum holds and zstd takes it as a dictionary.  Adds a line to pRep.
*/
int vlogDictVerify(VlogStore *p, VlogBuf *pRep){
  VlogCursor *pCsr = 0;
  VlogBuf d = {0, 0, 0};
  u32 iId = 0, nDict = 0;
  u64 nBytes = 0;
  int rc = vlogCursorOpen(p, TREE_DICTS, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    u32 iChunk, nChunk;
    u64 k;
    vlogCursorKey(pCsr, &pKey, &nKey);
    k = nKey==8 ? vlogGetBE64((const u8*)pKey) : 0;
    if( nKey!=8 || (u32)(k>>32)!=iId+1 || (u32)k!=0 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: the dictionary tree has "
          "%s after dictionary %u", nKey==8 ? "a chunk out of place" : "a bad key",
          iId);
      break;
    }
    iId++;
    rc = dictLoad(p, iId, &d);
    if( rc==VLOG_OK && ZSTD_getDictID_fromDict(d.a, d.n)==0 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "zstd dictionary %u of the value "
                        "log is not a zstd dictionary", iId);
    }
    nChunk = (u32)((d.n + DICT_CHUNK - 1)/DICT_CHUNK);
    for(iChunk=1; rc==VLOG_OK && iChunk<=nChunk; iChunk++){
      rc = vlogCursorNext(pCsr);
      if( rc ) break;
      vlogCursorKey(pCsr, &pKey, &nKey);
      rc = vlogCursorValue(pCsr, &pVal, &nVal);
      if( rc==VLOG_OK && (!vlogCursorValid(pCsr) || nKey!=8
          || vlogGetBE64((const u8*)pKey)!=(((u64)iId<<32) | iChunk)
          || nVal!=(iChunk<nChunk ? DICT_CHUNK : d.n-(int)(nChunk-1)*DICT_CHUNK)) ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: zstd dictionary %u: "
                          "chunk %u is missing or out of shape", iId, iChunk);
      }
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
    nDict++;
    nBytes += (u64)d.n;
  }
  vlogCursorClose(pCsr);
  vlogBufFree(p->pEnv, &d);
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, pRep, "dictionaries: %u, %llu bytes\n", nDict,
                       (unsigned long long)nBytes);
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  return rc;
}

/* Call xPer(p, iSeg, nRecBytes) for each value-log record the leaf value
** a[0..n) of key nKey bytes points to. */
int vlogValueForEach(VlogStore *p, int nKey, const u8 *a, int n,
                         void (*xPer)(VlogStore*, u64, u64)){
  const u8 *pEnd = &a[n], *z = &a[1];
  u64 v[4];
  int i, k;
  if( n<1 || a[0]==VTAG_INLINE ) return VLOG_OK;
  if( a[0]==VTAG_PTR || a[0]==VTAG_RAW ){
    for(i=0; i<4; i++){
      k = vlogGetVarint(z, pEnd, &v[i]);
      if( k==0 ) return VLOG_CORRUPT_BKPT;
      z += k;
    }
    xPer(p, v[0], recordBytes(nKey, v[3]));
  }else{
    u64 nVal, nChunks, j;
    k = vlogGetVarint(z, pEnd, &nVal);  if( k==0 ) return VLOG_CORRUPT_BKPT;  z += k;
    k = vlogGetVarint(z, pEnd, &nChunks);  if( k==0 ) return VLOG_CORRUPT_BKPT;  z += k;
    for(j=0; j<nChunks; j++){
      for(i=0; i<3; i++){
        k = vlogGetVarint(z, pEnd, &v[i]);
        if( k==0 ) return VLOG_CORRUPT_BKPT;
        z += k;
      }
      xPer(p, v[0], recordBytes(nKey, v[2]));
    }
  }
  return VLOG_OK;
}

static void addLive(VlogStore *p, u64 iSeg, u64 n){
  if( iSeg>0 && iSeg<p->sb.nBucket && segTouch(p, iSeg)==VLOG_OK ){
    p->aBucket[iSeg].nLive += n;
  }
}
static void subLive(VlogStore *p, u64 iSeg, u64 n){
  if( iSeg>0 && iSeg<p->sb.nBucket && segTouch(p, iSeg)==VLOG_OK ){
    Bucket *pB = &p->aBucket[iSeg];
    pB->nLive = pB->nLive>n ? pB->nLive-n : 0;
  }
}

/*
** At commit: write the open frame, account the transaction's pointers,
** and queue the changed figures (and a REC_VEXT record of the bytes
** written) for the journal entry.
*/
int vlogLogCommit(VlogStore *p){
  TxnLog *pLog = &p->log;
  VlogLog *pL = &p->vl;
  int rc = vlogLogFlush(p);
  int i;
  if( rc==VLOG_OK ) rc = woutWrite(p);
  if( rc==VLOG_OK ) rc = dictPersist(p);
  if( rc ) return rc;
  /* new pointers: live */
  for(i=0; rc==VLOG_OK && i<pLog->redo.n; ){
    const u8 *a = &pLog->redo.a[i];
    if( a[0]==REC_PUT && vlogGet32(&a[1])>=VLOG_TREE_FIRST_USER ){
      u32 nKey = vlogGet32(&a[5]);
      u32 nVal = vlogGet32(&a[9+nKey]);
      rc = vlogValueForEach(p, (int)nKey, &a[13+nKey], (int)nVal, addLive);
    }
    i += vlogRecordSize(a, pLog->redo.n-i);
  }
  /* replaced or deleted pointers: stale */
  for(i=0; rc==VLOG_OK && i<pLog->nUndo; i++){
    const u8 *a = &pLog->undo.a[pLog->aUndoOff[i]];
    u32 iTree = vlogGet32(&a[1]);
    u32 nKey = vlogGet32(&a[5]);
    u32 nVal = vlogGet32(&a[9+nKey]);
    if( a[0]==REC_PUT && iTree>=VLOG_TREE_FIRST_USER ){
      rc = vlogValueForEach(p, (int)nKey, &a[13+nKey], (int)nVal, subLive);
    }
  }
  if( rc ) return vlogSetError(p, rc, "bad value pointer in the transaction log");
  if( pL->iSeg ) rc = segTouch(p, pL->iSeg);
  for(i=0; rc==VLOG_OK && i<pL->nTouched; i++){
    u64 iSeg = pL->aTouched[i];
    if( iSeg<p->sb.nBucket ){
      p->aBucket[iSeg].bTouched = 0;
      if( p->aBucket[iSeg].eKind==KIND_VLOG ) rc = segSave(p, iSeg);
    }
  }
  if( rc==VLOG_OK ) pL->nTouched = 0;
  return rc;
}

/* A transaction starts (or ends): its first frame goes on a fresh sector;
** records not yet in a frame are dropped. */
void vlogLogTxnStart(VlogStore *p){
  if( p->vl.bDictPending ) dictDrop(&p->vl);   /* its commit did not happen */
  p->vl.bDictChecked = 0;
  p->vl.bFresh = 0;
  p->vl.frame.n = 0;
  p->vl.nFrameRec = 0;
  p->vl.vext.n = 0;
  p->vl.wout.n = 0;            /* a rollback's frames need not be written */
}

/*
** Check the frames named by the REC_VEXT records in a[0..n) (a journal
** payload): VLOG_OK when each is whole (header and checksum), VLOG_NOTFOUND
** when one is not (the commit did not reach the disk: a torn tail).
*/
static int extentCheck(VlogStore *p, u64 iSeg, u32 iOff, u32 nLen){
  VlogLog *pL = &p->vl;
  u32 i = 0;
  int rc = checkExtent(p, iSeg, iOff, nLen, 1);
  if( rc==VLOG_OK ) rc = vlogBufReserve(p->pEnv, &pL->rbuf, (int)nLen);
  if( rc==VLOG_NOMEM ) return vlogSetError(p, rc, 0);
  if( rc==VLOG_OK ){
    rc = vlogReadAt(p, vlogBucketOffset(p, iSeg)+iOff, pL->rbuf.a, (int)nLen,
                    "value-log frames");
  }
  while( rc==VLOG_OK && i<nLen ){
    const u8 *h = &pL->rbuf.a[i];
    if( nLen-i<FRAME_HDR ) return VLOG_CORRUPT;
    rc = frameHdrCheck(p, h, iSeg, iOff+i);
    if( rc==VLOG_OK && vlogGet32(&h[12])>nLen-i-FRAME_HDR ) rc = VLOG_CORRUPT;
    if( rc==VLOG_OK ) rc = frameSumCheck(p, h, &h[FRAME_HDR], iSeg, iOff+i);
    if( rc==VLOG_OK ) i += (u32)align16(FRAME_HDR + (int)vlogGet32(&h[12]));
  }
  return rc==VLOG_OK && i!=nLen ? VLOG_CORRUPT : rc;
}

int vlogLogVerifyExtent(VlogStore *p, const u8 *a, int n){
  int i = 0;
  while( i<n ){
    int nRec = vlogRecordSize(&a[i], n-i);
    if( nRec==0 ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT,
          "malformed record at byte %d of a journal payload", i);
    }
    if( a[i]==REC_VEXT ){
      u64 iSeg = vlogGet64(&a[i+1]);
      u32 iOff = vlogGet32(&a[i+9]);
      u32 nLen = vlogGet32(&a[i+13]);
      int rc;
      char *zSave = p->zErr;
      p->zErr = 0;
      rc = extentCheck(p, iSeg, iOff, nLen);
      vlogFree(p->pEnv, p->zErr);
      p->zErr = zSave;
      if( rc==VLOG_CORRUPT || rc==VLOG_NOTFOUND || rc==VLOG_IOERR_SHORT_READ ){
        return VLOG_NOTFOUND;
      }
      if( rc ) return rc;
    }
    i += nRec;
  }
  return VLOG_OK;
}

/* Forget positions and cached frames (reload, rollback of a poisoned
** transaction). */
void vlogLogReset(VlogStore *p){
  VlogLog *pL = &p->vl;
  int i;
  for(i=0; i<FRAME_CACHE_SLOTS; i++){
    vlogFree(p->pEnv, pL->aCache[i].aRaw);
    memset(&pL->aCache[i], 0, sizeof(FrameCacheSlot));
  }
  pL->nCache = 0;
  pL->nTouched = 0;            /* the bucket table is reloaded too */
  pL->iSeg = 0;
  pL->frame.n = 0;
  pL->nFrameRec = 0;
  pL->wout.n = 0;
}

void vlogLogClose(VlogStore *p){
  VlogLog *pL = &p->vl;
  vlogLogReset(p);
  vlogBufFree(p->pEnv, &pL->frame);
  vlogBufFree(p->pEnv, &pL->zbuf);
  vlogBufFree(p->pEnv, &pL->val);
  vlogBufFree(p->pEnv, &pL->vext);
  vlogBufFree(p->pEnv, &pL->rbuf);
  vlogBufFree(p->pEnv, &pL->wout);
  vlogFree(p->pEnv, pL->aTouched);
  pL->aTouched = 0;
  dictDrop(pL);
  ddictForget(pL, 0);
  vlogBufFree(p->pEnv, &pL->dict);
  vlogBufFree(p->pEnv, &pL->samp);
  vlogBufFree(p->pEnv, &pL->sampSize);
  if( pL->pZc ) ZSTD_freeCCtx((ZSTD_CCtx*)pL->pZc);
  if( pL->pZd ) ZSTD_freeDCtx((ZSTD_DCtx*)pL->pZd);
  pL->pZc = pL->pZd = 0;
}
