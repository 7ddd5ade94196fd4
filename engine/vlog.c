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
**   VTAG_ZINLINE 4, varint length, then the value as one zstd frame: a
**                value kept in the leaf, compressed because its tree's
**                policy says so (bCompressInline) and that saved an eighth
**                (valueInline); read by decompressing it into the handle's
**                value buffer, its length no more than a leaf holds
**   VTAG_PTR     1, varint segment (bucket), varint generation, varint
**                frame offset in it, varint index of the record in the
**                frame, varint length
**   VTAG_RAW     3, varint segment, varint generation, varint frame
**                offset, varint offset of the record in the frame's bytes,
**                varint length, u32 low half of the record's xxh3 (seed
**                SEED_RECORD ^ generation)
**   VTAG_CHUNKS  2, varint length, varint number of chunks, then for each
**                chunk: varint segment, varint generation, varint frame
**                offset, varint length (see "Large values")
** One decoder reads them all (ptrDecode, ptrExtent): lookups, verify and
** the accounting see the same fields, range-checked once.
**
** Segment generations (format 3).  Each time a bucket becomes a segment it
** takes the store's next segment generation (Superblock.iNextSegGen, kept
** in the superblock, moved past every generation that loading TREE_SEGS
** or replaying the journal meets, so none is given twice).  Every frame
** header, every pointer and every REC_VEXT record carries it, and the
** frame cache is keyed by (segment, generation, offset).  A pointer, a
** cached frame or a replayed extent that names a bucket since reused can
** then never yield the bucket's new contents: the generations differ and
** the read is VLOG_CORRUPT, not another value.  (VTAG_RAW reads skip the
** frame header: the generation seeds the record's checksum instead.)
**
** Frames.  Records (varint tree, varint key length, key, varint value
** length, value) are grouped in frames of about FRAME_TARGET bytes,
** compressed together with zstd at the table's level, or stored raw when
** compression saves less than an eighth.  Each record keeps its tree and
** key, so a segment can be rewritten from the segment alone even when
** several tables share the store.  Frame layout (16-byte aligned):
**     0  u32 magic "VLFR"     4 u8 flags (1: zstd, 2: dictionary)
**     5  u8 0                 6 u16 records
**     8  u32 raw bytes       12 u32 stored bytes
**    16  u64 the segment's generation
**    24  u64 xxh3(bytes 0..23, seed SEED_FRAME) ^ xxh3(stored bytes,
**        seed SEED_FRAME)
**    32  stored bytes; with flag 2, u32 dictionary id, then a zstd frame
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
** DICT_RETRY more bytes.  Each segment's accounting keeps the range of
** dictionary ids its frames name (alloc.c), and maintenance's GC deletes
** a dictionary no segment's range holds (vlogDictGc): after the data
** that used it was deleted or rewritten with a newer one.  The newest id
** stays as a tombstone, so no id is used twice.  Not yet: retraining when
** the data changes, and dictionaries per table.
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
** Since such a frame is read a record at a time, its size costs a lookup
** nothing: it closes at RAW_TARGET bytes, not FRAME_TARGET, which spreads
** its header over more records (1 KiB values: 4 bytes each, not 10).
**
** Background compression (after bcachefs's background_compression).  zstd
** costs about 4 us per KiB of text here, more than the rest of an insert:
** a text load with compression at commit cannot be fast.  When the store's
** background_compression setting is 1 (maint.c's settings, in TREE_MAINT;
** read once per write transaction, at its first frame of a tree that
** compresses: one B-tree lookup), the frames of trees whose zstd level is
** above 0 are written raw at commit, their compression deferred
** (bFrameDefer): laid out as frames raw by decision (VTAG_RAW pointers, so
** a lookup before maintenance reads its record alone; RAW_TARGET bytes),
** but never tried, so they say nothing of whether the data compresses and
** leave the raw-by-decision counters (nNoGain) alone.  Their record bytes
** are the segment's bytes to compress (alloc.c, Bucket.nToCompress),
** which make a sealed segment a candidate of maintenance even when nothing
** in it is stale (maint.c, "Background compression").  Maintenance's
** rewrite marks its transactions (vlogLogCompressNow): their frames go
** through the ordinary path at the tree's level, dictionary training and
** use included, and data that turns out incompressible becomes raw by
** decision, which adds nothing to compress: so a rewritten segment never
** qualifies again for compression, and no segment is rewritten over and
** over.  Values kept in the leaf (VTAG_ZINLINE) are compressed at commit
** as before: maintenance rewrites segments, not leaves.
**
** Large values.  A record of FRAME_TARGET bytes or more is alone in its
** frame.  If it does not fit in the rest of the segment it is cut in
** chunks: the first fills the rest of the segment, the next ones the
** following segments (valueAlone), so no bucket's end is left empty.  In
** format 2 a value went whole to a new segment, or in chunks of half a
** bucket: three 256 KiB values filled a 1 MiB bucket, and the file took
** 1.34x the values' bytes; now 1.01x.  A rest smaller than MIN_CHUNK
** stays empty rather than cost a lookup a second read.  A chunk's size is
** its raw bytes, so a value that compresses takes several chunks in one
** segment.  A frame of FRAME_NOCACHE raw bytes or more is read with one
** pread (no map: faulting its pages in costs more than the copy) and not
** cached (it would evict everything): a 256 KiB lookup is a read, a
** checksum and the caller's copy, 0.58x the time of a rowid table's.
**
** Commit.  A transaction's frames are written before its journal entry,
** the first one on a fresh sector (a torn write never reaches a committed
** frame), and the entry carries REC_VEXT records naming the runs of
** value-log frames the commit wrote.  One sync covers both.  Replay (at open and
** when a reader catches up) checks the frames of the entries written after
** the last sync point: an entry whose frames did not all reach the disk is
** a torn tail, every time it is read, until a commit overwrites it.
**
** Accounting, per segment, exact and incremental, is alloc.c's (the
** figures, TREE_SEGS, the state machine); this file says what changed.  At
** commit the transaction's logs give the changes: a new pointer (redo)
** adds to live, a replaced or deleted pointer (the value before, in the
** undo log) moves its bytes from live to stale, and so does every pointer
** of a tree the transaction cleared or dropped (found by walking its
** leaves, which the commit frees: btree.c).  Records a rolled-back
** transaction appended count in total but never in live: stale from the
** start.
**
**   segment states:  OPEN (appending) --full--> SEALED --nothing live-->
**                    ZOMBIE --two checkpoints--> FREE (alloc.c); maintenance
**                    (a later issue) empties segments by rewriting them.
*/
#include <zstd.h>
#include <zdict.h>
#include <zstd_errors.h>
#include "storeInt.h"

/* The frame header's layout and the checksum seeds are in storeInt.h, for
** test/fixsum.c, which recomputes these checksums for crafted stores. */
#define FRAME_TARGET   4096            /* raw bytes that close a frame */
#define RAW_TARGET     10240           /* ... a frame raw by decision (see
                                       ** frameRoom) */
#define FRAME_CACHE_BYTES (8*1024*1024)
#define FRAME_FIRST_READ  8192         /* bytes read at once: most frames */
#define RAW_AFTER      8               /* see frameRoom() */
#define RAW_PROBE      64
#define DICT_SIZE      (16*1024)       /* most bytes of a trained dictionary */
#define DICT_SAMPLE    (256*1024)      /* bytes of samples to train on */
#define DICT_RETRY     (64*1024*1024)  /* after a failed training */
#define DICT_TARGET    1024            /* raw bytes that close a frame, with one */
#define WOUT_MAX       (256*1024)      /* frames written at once */
#define FRAME_NOCACHE  (64*1024)       /* larger frames bypass the cache */
#define FRAME_MAX_RAW  (16*1024*1024)  /* a compressed frame's raw bytes, at
                                       ** most (or a bucket's, if more) */
#define ZINLINE_MIN    64              /* shorter leaf values are never
                                       ** compressed (VTAG_ZINLINE) */
#define MIN_CHUNK      1024            /* smallest piece of a value at a
                                       ** segment's end (see valueAlone) */
#define VLOG_NOROOM    102             /* vlogLogFlush: the frame is larger
                                       ** than the rest of the segment */

static int align16(int n){ return (n + 15) & ~15; }

/* Bytes of a record (its tree, key and value with their lengths). */
static u64 recordBytes(u32 iTree, int nKey, u64 nVal){
  assert( nKey>=1 && nKey<=VLOG_MAX_KEY );
  return (u64)vlogVarintLen(iTree) + vlogVarintLen((u64)nKey) + nKey
       + vlogVarintLen(nVal) + nVal;
}

/* ---------------------------------------------------------------------
** Segments (their buckets and accounting are alloc.c's)
*/

/* Seal the current segment; open a new one. */
static int segNext(VlogStore *p){
  VlogLog *pL = &p->vl;
  u64 iNew;
  int rc = pL->iSeg ? vlogSegSeal(p, pL->iSeg) : VLOG_OK;
  if( rc==VLOG_OK ) rc = vlogSegCreate(p, SEG_VALUE, &iNew);
  if( rc ) return rc;
  pL->iSeg = iNew;
  pL->iFrameOff = 0;
  pL->bFresh = 1;
  return VLOG_OK;
}

/* The segment to append to after a (re)load: the open one, if any, at
** its append position. */
static void segFind(VlogStore *p){
  VlogLog *pL = &p->vl;
  assert( p->eTxn==2 );
  pL->iSeg = vlogSegFindOpen(p);
  if( pL->iSeg ) pL->iFrameOff = (u32)p->aBucket[pL->iSeg].nDisk;
  assert( pL->iFrameOff<=p->sb.nBucketSize );
}

/* The record at z (before pEnd): its tree, key and value, and the byte
** after it; 0 if it does not fit. */
const u8 *vlogRecordParse(const u8 *z, const u8 *pEnd, u64 *piTree,
                          const u8 **ppKey, u64 *pnKey,
                          const u8 **ppVal, u64 *pnVal){
  int k = vlogGetVarint(z, pEnd, piTree);
  if( k==0 ) return 0;
  z += k;
  k = vlogGetVarint(z, pEnd, pnKey);
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

/* The highest dictionary id in TREE_DICTS (0: none) into *piId, and
** whether it is the tombstone of a dropped one into *pbGone: a header
** chunk alone (vlogDictGc), since every dictionary has chunks after it. */
static int dictLast(VlogStore *p, u32 *piId, int *pbGone){
  VlogCursor *pCsr = 0;
  int rc = vlogCursorOpen(p, TREE_DICTS, &pCsr);
  *piId = 0;
  *pbGone = 0;
  if( rc==VLOG_OK ) rc = vlogCursorLast(pCsr);
  if( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey;
    int nKey;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    if( nKey!=8 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad key in the dictionary tree");
    }else{
      *piId = (u32)(vlogGetBE64((const u8*)pKey)>>32);
      *pbGone = (u32)vlogGetBE64((const u8*)pKey)==0;
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
  if( rc==VLOG_OK && nDict==0 ) rc = VLOG_NOTFOUND;   /* dropped (tombstone) */
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

/*
** The error zstd finds in the entropy tables of dictionary a[0..n), which
** follow its magic number, as a zstd error code; 0 if it finds none (or
** the dictionary has no magic number: its bytes are all content).  zstd
** reads the tables as it digests a dictionary (ZSTD_createCDict,
** ZSTD_createDDict), which returns no object both when memory runs out
** and when they are damaged, and a damaged dictionary's checksum holds
** when someone wrote it so (anyone can compute xxh3).  Compression and
** decompression read the tables each their own way, so both are asked:
** ZDICT_getDictHeaderSize() reads them as compression does, and
** decompressing an empty zstd frame with the dictionary as decompression
** does.
*/
static size_t dictTablesError(const u8 *a, int n){
  static const u8 aEmpty[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00 };
  size_t e;
  if( n<4 || vlogGet32(a)!=ZSTD_MAGIC_DICTIONARY ) return 0;
  e = ZDICT_getDictHeaderSize(a, (size_t)n);
  if( !ZSTD_isError(e) ){
    ZSTD_DCtx *pZd = ZSTD_createDCtx();
    u8 x;
    e = pZd ? ZSTD_decompress_usingDict(pZd, &x, 0, aEmpty, sizeof(aEmpty), a, (size_t)n) : 0;
    ZSTD_freeDCtx(pZd);
  }
  return ZSTD_isError(e) ? e : 0;
}

/* zstd digested no object of dictionary iId, a[0..n): VLOG_CORRUPT if its
** tables are damaged (dictTablesError), else VLOG_NOMEM. */
static int dictRefused(VlogStore *p, u32 iId, const u8 *a, int n){
  size_t e = dictTablesError(a, n);
  if( e && ZSTD_getErrorCode(e)!=ZSTD_error_memory_allocation ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "zstd dictionary %u of the value log "
                        "is damaged (%s)", iId, ZSTD_getErrorName(e));
  }
  return vlogSetError(p, VLOG_NOMEM, 0);
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
  if( pOld->pDDict==0 ){
    /* Out of memory, or damaged tables: fuzz_dict found them reported as
    ** VLOG_NOMEM (engine_hostile 7.1).  The slot is emptied: it still
    ** named the dictionary freed above. */
    memset(pOld, 0, sizeof(*pOld));
    rc = dictRefused(p, iId, pBytes->a, pBytes->n);
    vlogBufFree(p->pEnv, &loaded);
    return rc;
  }
  vlogBufFree(p->pEnv, &loaded);
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
  assert( p->eTxn==2 );                    /* once per write transaction */
  if( !pL->bDictChecked ){
    u32 iLast;
    int bGone;
    rc = dictLast(p, &iLast, &bGone);
    if( rc ) return rc;
    pL->bDictChecked = 1;
    pL->iDictLast = iLast;
    if( pL->bDictPending ) return VLOG_OK;
    if( iLast>pL->iDict || (bGone && pL->iDict==iLast) ){
      /* a newer one, or GC dropped the newest, which this handle holds:
      ** frames must never name a dictionary the store no longer has */
      dictDrop(pL);
      if( !bGone ){
        rc = dictLoad(p, iLast, &pL->dict);
        if( rc==VLOG_OK ) pL->iDict = iLast;
        else pL->dict.n = 0;
      }
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
    u64 iT, nK, nV;
    size_t nRec;
    z = vlogRecordParse(z, pEnd, &iT, &pK, &nK, &pV, &nV);
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
  assert( pL->iDict>0 && pL->dict.n>0 && pL->dict.n<=DICT_SIZE );
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
  assert( p->eTxn==2 && pL->iDict>0 && pL->dict.n<=DICT_SIZE );
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

/* 1 if dictionary iId is among the u32 ids in pIds. */
static int dictIn(const VlogBuf *pIds, u32 iId){
  int i;
  for(i=0; i+(int)sizeof(u32)<=pIds->n; i+=(int)sizeof(u32)){
    u32 x;
    memcpy(&x, &pIds->a[i], sizeof(x));
    if( x==iId ) return 1;
  }
  return 0;
}

/* 1 if a frame may name dictionary iId: a segment's range holds it (open,
** sealed, or a zombie that a reader may still read), or this handle's
** transaction made it. */
static int dictUsed(VlogStore *p, u32 iId){
  u64 i;
  if( p->vl.bDictPending && p->vl.iDict==iId ) return 1;
  for(i=1; i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    if( pB->eKind==KIND_VLOG && pB->iDictLo<=iId && iId<=pB->iDictHi ) return 1;
  }
  return 0;
}

/*
** GC of dictionaries (maintenance, in its write transaction): delete the
** chunks of every dictionary no frame names any more (dictUsed: the bucket
** table's ranges, no frame read), into *pnDrop how many.  The newest id is
** left as a tombstone, a header of size 0: ids are never used again once
** committed (readers cache digested dictionaries by id, and a training
** takes the id after the newest in the tree), and a handle that holds the
** dropped one in memory forgets it at its next write transaction
** (dictCheck).  An older tombstone is deleted.  A reader whose snapshot
** is older still sees the dictionary in its snapshot's tree.
*/
int vlogDictGc(VlogStore *p, int *pnDrop){
  VlogCursor *pCsr = 0;
  VlogBuf hdr = {0, 0, 0};        /* u32 pairs: id, chunks after the header */
  u32 iLast = 0;
  int rc, i;
  assert( p->eTxn==2 );
  *pnDrop = 0;
  rc = vlogCursorOpen(p, TREE_DICTS, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    u64 k;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc ) break;
    k = nKey==8 ? vlogGetBE64((const u8*)pKey) : 0;
    if( nKey==8 && (u32)k==0 ){
      u32 a[2];
      u32 nDict = nVal==16 ? vlogGet32((const u8*)pVal) : DICT_SIZE+1;
      if( nDict>DICT_SIZE ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "zstd dictionary %u of the value "
                          "log is damaged", (u32)(k>>32));
        break;
      }
      a[0] = iLast = (u32)(k>>32);
      a[1] = (nDict + DICT_CHUNK - 1)/DICT_CHUNK;
      if( vlogBufAppend(p->pEnv, &hdr, a, sizeof(a)) ){
        rc = vlogSetError(p, VLOG_NOMEM, 0);
        break;
      }
    }else if( nKey!=8 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "bad key in the dictionary tree");
      break;
    }
    rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  for(i=0; rc==VLOG_OK && i+8<=hdr.n; i+=8){
    u32 a[2], iChunk;
    u8 aKey[8];
    memcpy(a, &hdr.a[i], sizeof(a));
    if( a[1]>0 && dictUsed(p, a[0]) ) continue;
    if( a[1]==0 && a[0]==iLast ) continue;       /* the tombstone to keep */
    for(iChunk=0; rc==VLOG_OK && iChunk<=a[1]; iChunk++){
      dictKey(aKey, a[0], iChunk);
      rc = vlogTxnApply(p, REC_DELETE, TREE_DICTS, aKey, 8, 0, 0, 1);
    }
    if( rc==VLOG_OK && a[0]==iLast ){
      static const u8 aTomb[16] = {0};
      dictKey(aKey, a[0], 0);
      rc = vlogTxnApply(p, REC_PUT, TREE_DICTS, aKey, 8, aTomb, 16, 1);
    }
    if( rc==VLOG_OK && a[1]>0 ){
      ddictForget(&p->vl, a[0]);
      (*pnDrop)++;
    }
  }
  vlogBufFree(p->pEnv, &hdr);
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
  const LogRec r = { .eOp = REC_VEXT, .iSeg = iSeg, .iGen = p->aBucket[iSeg].iGen,
                     .iOff = iOff, .nLen = (u32)n };
  int rc;
  /* whole frames (16-byte aligned) inside a segment, by its writer */
  assert( iSeg>0 && iSeg<p->sb.nBucket && p->aBucket[iSeg].eKind==KIND_VLOG );
  assert( n>0 && (n % 16)==0 && (iOff % 16)==0 );
  assert( (u64)iOff + (u64)n<=p->sb.nBucketSize && p->eTxn==2 );
  rc = vlogWriteAt(p, vlogBucketOffset(p, iSeg) + iOff, a, n);
  if( rc ) return rc;
  rc = vlogRecEncode(p->pEnv, &p->vl.vext, &r);
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
  assert( pL->wout.n==0 );
  return rc;
}

/* Frame a[0..n) goes at the append position: into the write-out buffer,
** which is written when full, when the log moves on elsewhere, at commit,
** and before a read of a frame in it. */
static int woutAdd(VlogStore *p, const u8 *a, int n){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  assert( n>0 && (n % 16)==0 && pL->iSeg>0 );
  if( pL->wout.n>0 && (pL->iWoutSeg!=pL->iSeg
                       || pL->iWoutOff+(u32)pL->wout.n!=pL->iFrameOff
                       || pL->wout.n+n>WOUT_MAX) ){
    /* elsewhere, or past WOUT_MAX bytes: the buffer never grows past it */
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
  /* the buffer is one run of frames that ends at the append position */
  assert( pL->iWoutSeg==pL->iSeg && pL->iWoutOff+(u32)pL->wout.n==pL->iFrameOff+(u32)n );
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
  /* a frame is open only in the open segment, of the writer */
  assert( p->eTxn==2 && p->eLock>=VLOG_LOCK_RESERVED );
  assert( pL->iSeg>0 && pL->iSeg<p->sb.nBucket );
  assert( p->aBucket[pL->iSeg].eKind==KIND_VLOG
       && p->aBucket[pL->iSeg].eState==BUCKET_OPEN );
  assert( (pL->iFrameOff % 16)==0 && pL->frame.n>0 );
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
        if( pL->pCDict==0 ){
          /* out of memory, or damaged tables (engine_hostile 7.2) */
          return dictRefused(p, pL->iDict, pL->dict.a, pL->dict.n);
        }
        pL->iCDictLevel = pL->iFrameLevel;
      }
      /* A frame made without these settings would not decompress as a
      ** dictionary frame: if one fails, the frame is stored raw. */
      nz = ZSTD_CCtx_reset(pZc, ZSTD_reset_session_and_parameters);
      if( !ZSTD_isError(nz) ) nz = ZSTD_CCtx_setParameter(pZc, ZSTD_c_contentSizeFlag, 0);
      if( !ZSTD_isError(nz) ) nz = ZSTD_CCtx_setParameter(pZc, ZSTD_c_dictIDFlag, 0);
      if( !ZSTD_isError(nz) ) nz = ZSTD_CCtx_refCDict(pZc, (ZSTD_CDict*)pL->pCDict);
      if( !ZSTD_isError(nz) ){
        nz = ZSTD_compress2(pZc, &aOut[FRAME_HDR+4], pL->zbuf.nAlloc-FRAME_HDR-4,
                            pL->frame.a, pL->frame.n);
      }
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
  pB = &p->aBucket[pL->iSeg];
  vlogPut32(&aOut[0], FRAME_MAGIC);
  aOut[4] = bZstd ? (bDict ? FRAME_ZSTD|FRAME_DICT : FRAME_ZSTD) : 0;
  aOut[5] = 0;
  vlogPut16(&aOut[6], (u16)pL->nFrameRec);
  vlogPut32(&aOut[8], (u32)pL->frame.n);
  vlogPut32(&aOut[12], (u32)nStored);
  vlogPut64(&aOut[16], pB->iGen);
  vlogPut64(&aOut[24], vlogChecksum(aOut, 24, SEED_FRAME)
                       ^ vlogChecksum(&aOut[FRAME_HDR], nStored, SEED_FRAME));
  n = align16(FRAME_HDR + nStored);
  memset(&aOut[FRAME_HDR+nStored], 0, n - FRAME_HDR - nStored);
  if( (u64)pL->iFrameOff + (u32)n > p->sb.nBucketSize ){
    /* only a chunk sized for its compression can miss (valueAlone) */
    assert( pL->nFrameRec==1 );
    return VLOG_NOROOM;
  }
  rc = woutAdd(p, aOut, n);
  if( rc ) return rc;
  pB->nDisk = pL->iFrameOff + n;
  pB->nTotal += (u64)pL->frame.n;     /* the records' bytes */
  pB->nRec += (u64)pL->nFrameRec;
  if( pL->bFrameDefer ){
    /* raw for now: the segment's bytes to compress (a rewrite's work) */
    assert( !bZstd && pL->iFrameLevel>0 );
    pB->nToCompress += (u64)pL->frame.n;
    pL->nDeferWritten += (u64)pL->frame.n;
  }
  assert( pB->nDisk<=p->sb.nBucketSize && pB->nLive<=pB->nTotal );
  assert( pB->nToCompress<=pB->nTotal );
  rc = vlogSegTouch(p, pL->iSeg);
  if( rc ) return rc;
  pL->iFrameOff += n;
  pL->nFrameWrite++;
  pL->nRawWritten += pL->frame.n;
  pL->nDiskWritten += n;
  if( bDict ){
    pL->nDictFrames++;
    /* the segment's range of dictionary ids (GC keeps what it holds) */
    if( pB->iDictLo==0 || pL->iDict<pB->iDictLo ) pB->iDictLo = pL->iDict;
    if( pL->iDict>pB->iDictHi ) pB->iDictHi = pL->iDict;
  }
  if( bZstd && !bDict && pL->frame.n<FRAME_TARGET*2 ){
    /* frames of small records that compress: samples for a dictionary */
    rc = dictSample(p, pL->frame.a, pL->frame.n);
  }
  pL->frame.n = 0;
  pL->nFrameRec = 0;
  return rc;
}

/*
** The append position, with no frame open: the open segment and the offset
** of the next frame in it (a transaction's first frame starts on a fresh
** sector); a new segment when fewer than nNeed bytes are left.
*/
static int segPosition(VlogStore *p, u64 nNeed){
  VlogLog *pL = &p->vl;
  assert( pL->nFrameRec==0 );
  if( !pL->bFresh && pL->iSeg ){
    /* Another handle may have appended to the log, or sealed the segment,
    ** since this one last wrote: the bucket table, which the replay of its
    ** commits updated, says where the log ends. */
    if( pL->iSeg>=p->sb.nBucket || p->aBucket[pL->iSeg].eKind!=KIND_VLOG
     || p->aBucket[pL->iSeg].eState!=BUCKET_OPEN ){
      pL->iSeg = 0;
    }else{
      pL->iFrameOff = (u32)p->aBucket[pL->iSeg].nDisk;
    }
  }
  if( pL->iSeg==0 ) segFind(p);
  if( !pL->bFresh ){
    pL->iFrameOff = (pL->iFrameOff + VLOG_SECTOR-1) & ~(u32)(VLOG_SECTOR-1);
    pL->bFresh = 1;
  }
  if( pL->iSeg==0 || (u64)pL->iFrameOff + nNeed > p->sb.nBucketSize ){
    int rc = segNext(p);
    assert( rc || (pL->iFrameOff==0 && pL->bFresh) );
    return rc;
  }
  /* room for nNeed bytes, on a sector boundary the first time */
  assert( pL->iSeg<p->sb.nBucket && p->aBucket[pL->iSeg].eState==BUCKET_OPEN );
  assert( pL->bFresh && (u64)pL->iFrameOff + nNeed<=p->sb.nBucketSize );
  return VLOG_OK;
}

/* A new frame at the append position, for records of zstd level iLevel,
** of which the first is alone in it when bAlone. */
static int frameStart(VlogStore *p, int iLevel, int bAlone){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  assert( p->eTxn==2 && pL->nFrameRec==0 );
  if( iLevel>0 && !pL->bCompressNow && !pL->bBgChecked ){
    /* once per write transaction: the store's background_compression */
    int bOn = 0;
    rc = vlogMaintBgCompression(p, &bOn);
    if( rc ) return rc;
    pL->bBgChecked = 1;
    pL->bBgDefer = (u8)bOn;
  }
  pL->bFrameDefer = iLevel>0 && pL->bBgDefer && !pL->bCompressNow;
  if( iLevel>0 && !pL->bFrameDefer ) rc = dictCheck(p);
  pL->iFrameLevel = iLevel;
  /* A frame whose compression is deferred (background compression) is
  ** raw like one raw by decision: VTAG_RAW pointers, RAW_TARGET bytes.
  ** After RAW_AFTER frames in a row that did not compress, frames of small
  ** records are raw by decision (their records get VTAG_RAW pointers),
  ** except one in RAW_PROBE, which is tried, to notice data that
  ** compresses again.  A record of FRAME_TARGET bytes or more has a frame
  ** of its own, always tried (a sample first, see vlogLogFlush). */
  pL->bFrameRaw = iLevel<=0 || pL->bFrameDefer
               || (!bAlone && pL->nNoGain>=RAW_AFTER
                   && (++pL->nRawFrames % RAW_PROBE)!=0);
  return rc;
}

/*
** Make room for a record of nRec bytes (less than FRAME_TARGET) in the open
** frame: flush it when full, or open one, in a new segment if need be.
*/
static int frameRoom(VlogStore *p, int nRec, int iLevel){
  VlogLog *pL = &p->vl;
  int rc = VLOG_OK;
  int nTarget = pL->iDict && iLevel>0 && !pL->bFrameRaw ? DICT_TARGET : FRAME_TARGET;
  assert( nRec<FRAME_TARGET );
  /* A frame raw by decision is read a record at a time, so its size costs
  ** a lookup nothing: larger frames spread its header over more records,
  ** up to where a record offset (VTAG_RAW) still fits a 2-byte varint. */
  if( pL->bFrameRaw && pL->nFrameRec>0 ) nTarget = RAW_TARGET;
  if( pL->nFrameRec>0 && (iLevel!=pL->iFrameLevel
        || pL->frame.n + nRec > nTarget + nTarget/2 || pL->nFrameRec>=65535
        || (u64)pL->iFrameOff + FRAME_HDR + pL->frame.n + nRec + 16 > p->sb.nBucketSize) ){
    rc = vlogLogFlush(p);
    if( rc ) return rc;
  }
  if( pL->nFrameRec==0 ){
    rc = segPosition(p, FRAME_HDR + nRec + 16);
    if( rc==VLOG_OK ) rc = frameStart(p, iLevel, 0);
  }
  return rc;
}

/* Append one record to the open frame; its index in the frame. */
static int frameAppend(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                       const u8 *pVal, int nVal, int *piIdx){
  VlogLog *pL = &p->vl;
  int rc;
#ifndef NDEBUG
  int n0 = pL->frame.n;
#endif
  assert( iTree>=VLOG_TREE_FIRST_USER && nKey>=1 && nVal>=0 );
  assert( pL->nFrameRec<65535 );
  rc = vlogBufAppendVarint(p->pEnv, &pL->frame, iTree);
  if( rc==VLOG_OK ) rc = vlogBufAppendVarint(p->pEnv, &pL->frame, (u64)nKey);
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &pL->frame, pKey, nKey);
  if( rc==VLOG_OK ) rc = vlogBufAppendVarint(p->pEnv, &pL->frame, (u64)nVal);
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, &pL->frame, pVal, nVal);
  if( rc ) return vlogSetError(p, rc, 0);
  assert( (u64)(pL->frame.n - n0)==recordBytes(iTree, nKey, (u64)nVal) );
  *piIdx = pL->nFrameRec++;
  return VLOG_OK;
}

/* Append the n numbers of a[] to pointer pOut, as varints. */
static int ptrPut(VlogEnv *pEnv, VlogBuf *pOut, int n, const u64 *a){
  int i, rc = VLOG_OK;
  for(i=0; rc==VLOG_OK && i<n; i++) rc = vlogBufAppendVarint(pEnv, pOut, a[i]);
  return rc;
}

/*
** A record of FRAME_TARGET bytes or more: alone in a frame of its own if it
** fits in the rest of the segment, else cut in chunks, the first filling
** the rest of the segment and the others the next segments, each chunk the
** only record of its frame.  So a large value never leaves the end of a
** bucket empty (issue 13: three 256 KiB values in a 1 MiB bucket took
** 1.34x their bytes); a piece smaller than MIN_CHUNK is not worth a second
** read, and such a rest of a segment stays empty.  The pointer is VTAG_PTR
** for one frame, VTAG_CHUNKS for more.
*/
static int valueAlone(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                      const u8 *pVal, int nVal, int iLevel, VlogBuf *pOut){
  VlogLog *pL = &p->vl;
  VlogEnv *pEnv = p->pEnv;
  VlogBuf ext = {0, 0, 0};        /* segment, generation, offset, length... */
  u64 iAt = 0, nChunk = 0, aFirst[4];
  /* a frame's header and alignment, and the record's header */
  u64 nOver = FRAME_HDR + 15 + recordBytes(iTree, nKey, 0) + 8;
  double rRatio = 1.0;             /* stored / raw of the last chunk */
  int rc = pL->nFrameRec>0 ? vlogLogFlush(p) : VLOG_OK;
  u8 tag;

  assert( nVal>=0 && (u64)nVal<=VLOG_MAX_VALUE && pOut->n==0 );
  while( rc==VLOG_OK && (iAt<(u64)nVal || nChunk==0) ){
    u64 nRest = (u64)nVal - iAt, nRoom, n, a[4], nDisk0;
    int iIdx;
    rc = segPosition(p, nOver + (nRest<MIN_CHUNK ? nRest : MIN_CHUNK));
    if( rc ) break;
    /* Raw bytes that fit in the rest of the segment; more if the value
    ** compresses (as much as its last chunk did, with a margin), so that
    ** it does not take ever smaller chunks in one segment.  A chunk that
    ** then does not fit is made again at the size that always does. */
    nRoom = p->sb.nBucketSize - pL->iFrameOff - nOver;
    n = nRoom;
    if( rRatio<0.9 ){
      u64 nMax = nRoom>FRAME_MAX_RAW-nOver ? nRoom : FRAME_MAX_RAW-nOver;
      n = (u64)((double)nRoom / (rRatio + 0.05));
      if( n>nMax ) n = nMax;
    }
    if( n>nRest ) n = nRest;
    a[0] = pL->iSeg;
    a[1] = p->aBucket[pL->iSeg].iGen;
    a[2] = pL->iFrameOff;
    nDisk0 = pL->nDiskWritten;
    rc = frameStart(p, iLevel, 1);
    if( rc==VLOG_OK ) rc = frameAppend(p, iTree, pKey, nKey, &pVal[iAt], (int)n, &iIdx);
    if( rc==VLOG_OK ) rc = vlogLogFlush(p);
    if( rc==VLOG_NOROOM ){
      pL->frame.n = 0;
      pL->nFrameRec = 0;
      rRatio = 1.0;
      rc = VLOG_OK;
      continue;
    }
    a[3] = n;
    assert( rc || (n<=nRest && pL->nFrameRec==0) );   /* each chunk alone */
    if( nChunk==0 ) memcpy(aFirst, a, sizeof(a));
    if( rc==VLOG_OK && ptrPut(pEnv, &ext, 4, a) ) rc = vlogSetError(p, VLOG_NOMEM, 0);
    rRatio = (double)(pL->nDiskWritten - nDisk0) / (double)(n + 1);
    iAt += n;
    nChunk++;
  }
  if( rc==VLOG_OK ){
    u64 aHdr[2];
    assert( iAt==(u64)nVal && nChunk>=1 );      /* every byte in a chunk */
    if( nChunk==1 ){
      /* segment, generation, offset, record 0, length */
      u64 v[5];
      v[0] = aFirst[0]; v[1] = aFirst[1]; v[2] = aFirst[2]; v[3] = 0; v[4] = aFirst[3];
      tag = VTAG_PTR;
      rc = vlogBufAppend(pEnv, pOut, &tag, 1);
      if( rc==VLOG_OK ) rc = ptrPut(pEnv, pOut, 5, v);
    }else{
      tag = VTAG_CHUNKS;
      aHdr[0] = (u64)nVal; aHdr[1] = nChunk;
      rc = vlogBufAppend(pEnv, pOut, &tag, 1);
      if( rc==VLOG_OK ) rc = ptrPut(pEnv, pOut, 2, aHdr);
      if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pOut, ext.a, ext.n);
    }
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  vlogBufFree(pEnv, &ext);
  if( rc==VLOG_OK && pOut->n>vlogBtreeMaxValue(p) ){
    rc = vlogSetError(p, VLOG_TOOBIG, "value of %d bytes needs %llu chunks, more "
                      "than a leaf of this store can point to", nVal,
                      (unsigned long long)nChunk);
  }
  return rc;
}

/*
** A value that stays in the leaf, compressed (VTAG_ZINLINE) when bZInline,
** iLevel is not 0 and that saves an eighth, else as it is (VTAG_INLINE).
*/
static int valueInline(VlogStore *p, const u8 *pVal, int nVal, int iLevel,
                       int bZInline, VlogBuf *pOut){
  VlogLog *pL = &p->vl;
  u8 aHdr[11];
  int rc;
  if( bZInline && iLevel>0 && nVal>=ZINLINE_MIN ){
    size_t nz;
    rc = vlogBufReserve(p->pEnv, &pL->zbuf, (int)ZSTD_compressBound((size_t)nVal));
    if( rc ) return vlogSetError(p, rc, 0);
    if( pL->pZc==0 ){
      pL->pZc = ZSTD_createCCtx();
      if( pL->pZc==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    }
    nz = ZSTD_compressCCtx((ZSTD_CCtx*)pL->pZc, pL->zbuf.a, (size_t)pL->zbuf.nAlloc,
                           pVal, (size_t)nVal, iLevel);
    if( !ZSTD_isError(nz) && nz + 6 < (size_t)(nVal - nVal/8) ){
      aHdr[0] = VTAG_ZINLINE;
      rc = vlogBufAppend(p->pEnv, pOut, aHdr, 1 + vlogPutVarint(&aHdr[1], (u64)nVal));
      if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, pOut, pL->zbuf.a, (int)nz);
      return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
    }
  }
  aHdr[0] = VTAG_INLINE;
  rc = vlogBufAppend(p->pEnv, pOut, aHdr, 1);
  if( rc==VLOG_OK ) rc = vlogBufAppend(p->pEnv, pOut, pVal, nVal);
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* The value of VTAG_ZINLINE leaf value a[0..n), decompressed into the
** handle's value buffer.  The raw length it states must be one a leaf
** could have held, and the frame must give exactly that many bytes. */
static int badPointer(VlogStore*);
static int zinlineGet(VlogStore *p, u32 iTree, const u8 *a, int n,
                      const u8 **ppVal, int *pnVal){
  VlogLog *pL = &p->vl;
  u64 nRaw;
  int k = vlogGetVarint(&a[1], &a[n], &nRaw);
  size_t nz = 0;
  int rc;
  if( k==0 || nRaw>(u64)vlogBtreeMaxValue(p) ) return badPointer(p);
  rc = vlogBufReserve(p->pEnv, &pL->val, (int)nRaw+1);
  if( rc ) return vlogSetError(p, rc, 0);
  if( pL->pZd==0 ){
    pL->pZd = ZSTD_createDCtx();
    if( pL->pZd==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  }
  nz = ZSTD_decompressDCtx((ZSTD_DCtx*)pL->pZd, pL->val.a, (size_t)nRaw,
                           &a[1+k], (size_t)(n-1-k));
  if( ZSTD_isError(nz) || nz!=(size_t)nRaw ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "a compressed value in a leaf of "
                        "tree %u does not decompress to its %llu bytes", iTree,
                        (unsigned long long)nRaw);
  }
  *ppVal = pL->val.a;
  *pnVal = (int)nRaw;
  return VLOG_OK;
}

/*
** The leaf value for (pKey, pVal) of tree iTree: inline when nVal <=
** nInlineMax (compressed when bZInline says so and it pays), else the
** value goes to the value log and the result is a pointer.  Written to
** pOut (reset first).
*/
int vlogValueEncode(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                    const u8 *pVal, int nVal, int nInlineMax, int iLevel,
                    int bZInline, VlogBuf *pOut){
  VlogEnv *pEnv = p->pEnv;
  VlogLog *pL = &p->vl;
  u64 nRec = recordBytes(iTree, nKey, (u64)nVal);
  u64 a[5];
  int rc, iIdx;
  u32 iRecOff;
  u8 tag;
  assert( iTree>=VLOG_TREE_FIRST_USER && nKey>=1 && nVal>=0 );
  assert( p->eTxn==2 && pOut!=0 );
  pOut->n = 0;
  if( nVal<=nInlineMax ){
    return valueInline(p, pVal, nVal, iLevel, bZInline, pOut);
  }
  if( (u64)nVal>VLOG_MAX_VALUE ){
    return vlogSetError(p, VLOG_TOOBIG, "value of %d bytes: the limit is %d bytes",
                        nVal, VLOG_MAX_VALUE);
  }
  if( nRec>=FRAME_TARGET ){
    return valueAlone(p, iTree, pKey, nKey, pVal, nVal, iLevel, pOut);
  }
  rc = frameRoom(p, (int)nRec, iLevel);
  if( rc ) return rc;
  a[0] = pL->iSeg;
  a[1] = p->aBucket[pL->iSeg].iGen;
  a[2] = pL->iFrameOff;
  iRecOff = (u32)pL->frame.n;
  rc = frameAppend(p, iTree, pKey, nKey, pVal, nVal, &iIdx);
  if( rc ) return rc;
  assert( a[0]==pL->iSeg && a[2]==pL->iFrameOff );  /* the frame did not move */
  tag = pL->bFrameRaw ? VTAG_RAW : VTAG_PTR;
  a[3] = tag==VTAG_RAW ? iRecOff : (u64)iIdx;
  a[4] = (u64)nVal;
  rc = vlogBufAppend(pEnv, pOut, &tag, 1);
  if( rc==VLOG_OK ) rc = ptrPut(pEnv, pOut, 5, a);
  if( rc==VLOG_OK && tag==VTAG_RAW ){
    u8 aSum[4];
    vlogPut32(aSum, (u32)vlogChecksum(&pL->frame.a[iRecOff], pL->frame.n - (int)iRecOff,
                                      SEED_RECORD ^ a[1]));
    rc = vlogBufAppend(pEnv, pOut, aSum, 4);
  }
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* ---------------------------------------------------------------------
** Reading
*/

/* The records of frame (iSeg, iGen, iOff) if they are in memory: the
** frame this transaction is filling, or a frame in the cache.  0 if not. */
static int frameFind(VlogStore *p, u64 iSeg, u64 iGen, u32 iOff,
                     const u8 **paRaw, int *pnRaw, FrameCacheSlot **ppOld){
  VlogLog *pL = &p->vl;
  FrameCacheSlot *pOld = &pL->aCache[0];
  int i;
  if( pL->nFrameRec>0 && iSeg==pL->iSeg && iOff==pL->iFrameOff
   && iGen==p->aBucket[iSeg].iGen ){
    /* the frame this transaction is filling, not written yet */
    *paRaw = pL->frame.a;
    *pnRaw = pL->frame.n;
    return 1;
  }
  for(i=0; i<FRAME_CACHE_SLOTS; i++){
    FrameCacheSlot *s = &pL->aCache[i];
    if( s->iSeg==iSeg && s->iOff==iOff && s->iGen==iGen && s->aRaw ){
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
   || iOff>p->sb.nBucketSize || nLen>p->sb.nBucketSize-iOff ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value pointer to segment %llu offset %llu, which holds no value-log frame",
        (unsigned long long)iSeg, (unsigned long long)iOff);
  }
  return VLOG_OK;
}

/* VLOG_OK if frame header h (at iSeg, iOff) is sound and of generation
** iGen of the segment, else VLOG_CORRUPT with a message. */
static int frameHdrCheck(VlogStore *p, const u8 *h, u64 iSeg, u64 iGen, u32 iOff){
  u32 nRaw = vlogGet32(&h[8]);
  u32 nStored = vlogGet32(&h[12]);
  if( vlogGet32(&h[0])!=FRAME_MAGIC || (h[4] & ~(FRAME_ZSTD|FRAME_DICT))
   || (h[4]==FRAME_DICT) || ((h[4] & FRAME_DICT) && nStored<4)
   || nStored>p->sb.nBucketSize
   || (nRaw>p->sb.nBucketSize && nRaw>FRAME_MAX_RAW)
   || (u64)iOff+FRAME_HDR+nStored>p->sb.nBucketSize
   || (!(h[4] & FRAME_ZSTD) && nRaw!=nStored) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value-log frame at segment %llu offset %u: bad header",
        (unsigned long long)iSeg, iOff);
  }
  if( vlogGet64(&h[16])!=iGen ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "value-log frame at segment %llu offset %u is of generation %llu of the "
        "segment, but the pointer is to generation %llu (the bucket was reused)",
        (unsigned long long)iSeg, iOff, (unsigned long long)vlogGet64(&h[16]),
        (unsigned long long)iGen);
  }
  return VLOG_OK;
}

/* VLOG_OK if the checksum of frame header h and its stored bytes holds. */
static int frameSumCheck(VlogStore *p, const u8 *h, const u8 *aStored,
                         u64 iSeg, u32 iOff){
  u32 nStored = vlogGet32(&h[12]);
  if( vlogGet64(&h[24])!=(vlogChecksum(h, 24, SEED_FRAME)
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
** tmpfs that is SIGBUS, where pread() returns zeros.  A large read
** (FRAME_NOCACHE bytes or more) is one xRead too: a copy from the page
** cache costs less than faulting that many pages of the map in.
*/
static int segRead(VlogStore *p, u64 iSeg, u64 iOff, u8 *pBuf, int n){
  u64 iFile;
  assert( n>0 && iSeg>0 && iOff+(u64)n<=p->sb.nBucketSize );
  iFile = vlogBucketOffset(p, iSeg) + iOff;
  u64 nDisk = iSeg<p->sb.nBucket ? p->aBucket[iSeg].nDisk : 0;
  int nMap = iOff>=nDisk ? 0 : (nDisk-iOff<(u64)n ? (int)(nDisk-iOff) : n);
  int rc = VLOG_OK;
  if( n>=FRAME_NOCACHE ) nMap = 0;
  if( nMap>0 ) rc = vlogReadPinned(p, iFile, pBuf, nMap);
  if( rc==VLOG_OK && nMap<n ){
    rc = p->pEnv->xRead(p->pFile, (i64)iFile+nMap, pBuf+nMap, n-nMap);
  }
  return rc;
}

/* Cache the records aRaw[0..nRaw) of frame (iSeg, iGen, iOff) in slot
** pSlot, evicting the least recently used slots while over budget. */
static void frameCache(VlogStore *p, FrameCacheSlot *pSlot, u64 iSeg, u64 iGen,
                       u32 iOff, u8 *aRaw, int nRaw){
  VlogLog *pL = &p->vl;
  int i;
  assert( pSlot>=pL->aCache && pSlot<&pL->aCache[FRAME_CACHE_SLOTS] );
  assert( nRaw>=0 && nRaw<FRAME_NOCACHE && aRaw!=0 );
  if( pSlot->aRaw ){
    pL->nCache -= pSlot->nRaw;
    vlogFree(p->pEnv, pSlot->aRaw);
  }
  pSlot->iSeg = iSeg;
  pSlot->iGen = iGen;
  pSlot->iOff = iOff;
  pSlot->aRaw = aRaw;
  pSlot->nRaw = nRaw;
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
  assert( pL->nCache>=pSlot->nRaw );
}

/* The decompressed records of the frame at (iSeg, iGen, iOff), of which
** about nHint bytes are expected to be needed (0: unknown).
**
** Without a map, one read of about the frame's size (FRAME_FIRST_READ or
** the hint) usually fetches it whole.  With a map, the header is read
** first and then exactly the frame's bytes: bytes after a frame may never
** have been written (a rolled-back transaction's frames, whose room in
** the segment stays a hole), and a map must not touch them (segRead).
** A frame of FRAME_NOCACHE raw bytes or more (a large value, alone in it)
** is not cached: its records are returned from the read buffer (raw) or
** the decompression buffer, valid until the next read. */
static int frameLoad(VlogStore *p, u64 iSeg, u64 iGen, u32 iOff, int nHint,
                     const u8 **paRaw, int *pnRaw){
  VlogLog *pL = &p->vl;
  FrameCacheSlot *pOld = 0;
  u8 h[FRAME_HDR];
  u8 *aStored = 0, *aRaw = 0;
  u32 nRaw, nStored;
  int rc, nFirst, bCache;
  u64 iFile;

  assert( p->eTxn>0 && nHint>=0 );
  if( frameFind(p, iSeg, iGen, iOff, paRaw, pnRaw, &pOld) ) return VLOG_OK;
  assert( pOld!=0 );
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
    rc = p->pEnv->xSize(p->pFile, &nSize);
    if( rc ) return vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
    if( (u64)nSize<iFile+FRAME_HDR ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log frame at offset %llu is "
          "past the end of the file (truncated store?)", (unsigned long long)iFile);
    }
  }
  rc = frameHdrCheck(p, h, iSeg, iGen, iOff);
  if( rc ) return rc;
  nRaw = vlogGet32(&h[8]);
  nStored = vlogGet32(&h[12]);
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
  pL->nFrameRead++;
  pL->nBytesRead += FRAME_HDR + nStored;
  bCache = nRaw<FRAME_NOCACHE;
  if( !bCache && !(h[4] & FRAME_ZSTD) ){
    *paRaw = aStored;
    *pnRaw = (int)nRaw;
    return VLOG_OK;
  }
  if( !bCache ){
    rc = vlogBufReserve(p->pEnv, &pL->dbuf, (int)nRaw);
    if( rc ) return vlogSetError(p, rc, 0);
    aRaw = pL->dbuf.a;
  }else{
    aRaw = (u8*)vlogMalloc(p->pEnv, nRaw ? nRaw : 1);
    if( aRaw==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  }
  if( h[4] & FRAME_ZSTD ){
    size_t nz;
    ZSTD_DDict *pDict = 0;
    if( pL->pZd==0 ){
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
    memcpy(aRaw, aStored, nRaw);
  }
  if( bCache ){
    if( rc ){
      vlogFree(p->pEnv, aRaw);
      return rc;
    }
    frameCache(p, pOld, iSeg, iGen, iOff, aRaw, (int)nRaw);
  }
  *paRaw = aRaw;
  *pnRaw = (int)nRaw;
  return rc;
}

/* VLOG_CORRUPT: the record at iRec of frame (iSeg, iOff) is not key pKey of
** tree iTree. */
static int recordNotKeys(VlogStore *p, u64 iSeg, u32 iOff, u64 iRec, int bOffset){
  return vlogSetError(p, VLOG_CORRUPT_BKPT,
      "value-log frame at segment %llu offset %u: the record %s %llu is not the "
      "key's", (unsigned long long)iSeg, iOff, bOffset ? "at byte" : "number",
      (unsigned long long)iRec);
}

/* Record iIdx of frame (iSeg, iGen, iOff), which must be key pKey of tree
** iTree: its value. */
static int recordGet(VlogStore *p, u32 iTree, u64 iSeg, u64 iGen, u32 iOff,
                     int iIdx, u64 nVal, const u8 *pKey, int nKey,
                     const u8 **ppVal, int *pnVal){
  const u8 *a, *z, *pEnd;
  int nRaw, i, rc;
  assert( iIdx>=0 && iIdx<=65535 && nKey>=1 );
  /* Bytes to read at first: the frame up to this record is most of it,
  ** and the segment says how well its frames compress. */
  u64 nHint = (u64)(iIdx+1)*recordBytes(iTree, nKey, nVal);
  if( iSeg<p->sb.nBucket && p->aBucket[iSeg].nTotal>p->aBucket[iSeg].nDisk ){
    nHint = nHint * p->aBucket[iSeg].nDisk / p->aBucket[iSeg].nTotal;
  }
  nHint += FRAME_HDR + 64 + nHint/4;
  rc = frameLoad(p, iSeg, iGen, iOff, nHint<FRAME_FIRST_READ ? (int)nHint : 0,
                 &a, &nRaw);
  if( rc ) return rc;
  z = a;
  pEnd = &a[nRaw];
  for(i=0; z && i<=iIdx; i++){
    const u8 *pK, *pV;
    u64 iT, nK, nV;
    z = vlogRecordParse(z, pEnd, &iT, &pK, &nK, &pV, &nV);
    if( z && i==iIdx ){
      if( iT!=iTree || nK!=(u64)nKey || memcmp(pK, pKey, nKey)!=0 || nV!=nVal ){
        return recordNotKeys(p, iSeg, iOff, (u64)iIdx, 0);
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
** The record at byte iRecOff of raw frame (iSeg, iGen, iOff), which must be
** key pKey of tree iTree with a value of nVal bytes whose record checksum
** is iSum (VTAG_RAW).  From memory when the frame is there; otherwise the
** record alone is read and checked against the checksum its pointer
** carries, seeded with the generation, so that a reused bucket's bytes
** fail it.
*/
static int rawGet(VlogStore *p, u32 iTree, u64 iSeg, u64 iGen, u32 iOff,
                  u64 iRecOff, u64 nVal, u32 iSum, const u8 *pKey, int nKey,
                  const u8 **ppVal, int *pnVal){
  VlogLog *pL = &p->vl;
  u64 nRec = recordBytes(iTree, nKey, nVal);
  const u8 *a, *z, *pEnd, *pK, *pV;
  u64 iT, nK, nV;
  int nRaw, rc;
  if( frameFind(p, iSeg, iGen, iOff, &a, &nRaw, 0) ){
    if( iRecOff>(u64)nRaw || nRec>(u64)nRaw-iRecOff ){
      return recordNotKeys(p, iSeg, iOff, iRecOff, 1);
    }
    z = &a[iRecOff];
  }else{
    pL->nCacheMiss++;
    rc = checkExtent(p, iSeg, (u64)iOff+FRAME_HDR, iRecOff, 0);
    if( rc==VLOG_OK ) rc = checkExtent(p, iSeg, (u64)iOff+FRAME_HDR+iRecOff, nRec, 0);
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
    if( (u32)vlogChecksum(pL->rbuf.a, (int)nRec, SEED_RECORD ^ iGen)!=iSum ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "value-log frame at segment %llu "
          "offset %u: checksum mismatch (the record at byte %llu, generation %llu)",
          (unsigned long long)iSeg, iOff, (unsigned long long)iRecOff,
          (unsigned long long)iGen);
    }
    z = pL->rbuf.a;
  }
  pEnd = &z[nRec];
  if( vlogRecordParse(z, pEnd, &iT, &pK, &nK, &pV, &nV)!=pEnd || iT!=iTree
   || nK!=(u64)nKey || memcmp(pK, pKey, nKey)!=0 || nV!=nVal ){
    return recordNotKeys(p, iSeg, iOff, iRecOff, 1);
  }
  *ppVal = pV;
  *pnVal = (int)nVal;
  return VLOG_OK;
}

/*
** Value pointers.  ptrDecode() reads the fields every kind has and checks
** their ranges; ptrExtent() then yields the extents one by one: the one
** record of VTAG_PTR and VTAG_RAW, each chunk of VTAG_CHUNKS.  Every
** reader of a pointer (lookup, verify, accounting) goes through them.
*/
typedef struct ValPtr ValPtr;
struct ValPtr {
  u8 eTag;                     /* VTAG_PTR, VTAG_RAW or VTAG_CHUNKS */
  u64 nVal;                    /* bytes of the value */
  u64 nChunk;                  /* extents (1 unless VTAG_CHUNKS) */
  u64 iChunk;                  /* extents yielded so far */
  u64 nSeen;                   /* their bytes */
  const u8 *z, *pEnd;          /* fields not read yet */
  /* the current extent */
  u64 iSeg, iGen;
  u32 iOff;                    /* frame offset in the segment */
  u64 iAt;                     /* VTAG_PTR: record index; VTAG_RAW: offset */
  u64 nLen;                    /* value bytes in it */
  u32 iSum;                    /* VTAG_RAW: record checksum */
};

/* Read n varints at *pz (before pEnd) into a[]; 0 if they are not there. */
static int ptrGet(const u8 **pz, const u8 *pEnd, int n, u64 *a){
  int i, k;
  for(i=0; i<n; i++){
    k = vlogGetVarint(*pz, pEnd, &a[i]);
    if( k==0 ) return 0;
    *pz += k;
  }
  return 1;
}

/* Decode the leaf value a[0..n), which is not VTAG_INLINE.  VLOG_CORRUPT
** (no message) if it is not a sound pointer. */
static int ptrDecode(const u8 *a, int n, ValPtr *pP){
  u64 v[2];
  memset(pP, 0, sizeof(*pP));
  if( n<1 ) return VLOG_CORRUPT;
  pP->eTag = a[0];
  pP->z = &a[1];
  pP->pEnd = &a[n];
  if( pP->eTag==VTAG_PTR || pP->eTag==VTAG_RAW ){
    pP->nChunk = 1;
    return VLOG_OK;
  }
  if( pP->eTag!=VTAG_CHUNKS || !ptrGet(&pP->z, pP->pEnd, 2, v)
   || v[0]>VLOG_MAX_VALUE || v[1]==0 || v[1]>v[0] ){
    return VLOG_CORRUPT;
  }
  pP->nVal = v[0];
  pP->nChunk = v[1];
  return VLOG_OK;
}

/* The next extent of pointer pP into its fields; VLOG_DONE after the last
** one (when the pointer must be at its end), VLOG_CORRUPT if malformed. */

static int ptrExtent(ValPtr *pP){
  u64 v[5];
  assert( pP->iChunk<=pP->nChunk && pP->z<=pP->pEnd );
  assert( pP->eTag!=VTAG_CHUNKS || pP->nSeen<=pP->nVal );
  if( pP->iChunk==pP->nChunk ){
    return pP->z==pP->pEnd && pP->nSeen==pP->nVal ? VLOG_DONE : VLOG_CORRUPT;
  }
  if( pP->eTag==VTAG_CHUNKS ){
    if( !ptrGet(&pP->z, pP->pEnd, 4, v) ) return VLOG_CORRUPT;
    pP->iAt = 0;
    pP->nLen = v[3];
  }else{
    if( !ptrGet(&pP->z, pP->pEnd, 5, v) ) return VLOG_CORRUPT;
    pP->iAt = v[3];
    pP->nLen = pP->nVal = v[4];
    if( pP->eTag==VTAG_RAW ){
      if( pP->pEnd-pP->z!=4 ) return VLOG_CORRUPT;
      pP->iSum = vlogGet32(pP->z);
      pP->z += 4;
    }else if( v[3]>65535 ){
      return VLOG_CORRUPT;
    }
  }
  if( v[0]==0 || v[1]==0 || v[2]>0xffffffff || pP->nLen>VLOG_MAX_VALUE
   || pP->nLen>pP->nVal-pP->nSeen ){
    return VLOG_CORRUPT;
  }
  pP->iSeg = v[0];
  pP->iGen = v[1];
  pP->iOff = (u32)v[2];
  pP->iChunk++;
  pP->nSeen += pP->nLen;
  return VLOG_OK;
}

static int badPointer(VlogStore *p){
  return vlogSetError(p, VLOG_CORRUPT_BKPT, "bad value pointer in a leaf of a user tree");
}

/* The value of extent pP (key pKey of tree iTree). */
static int extentGet(VlogStore *p, u32 iTree, const ValPtr *pP, const u8 *pKey,
                     int nKey, const u8 **ppVal, int *pnVal){
  if( pP->eTag==VTAG_RAW ){
    return rawGet(p, iTree, pP->iSeg, pP->iGen, pP->iOff, pP->iAt, pP->nLen,
                  pP->iSum, pKey, nKey, ppVal, pnVal);
  }
  return recordGet(p, iTree, pP->iSeg, pP->iGen, pP->iOff, (int)pP->iAt,
                   pP->nLen, pKey, nKey, ppVal, pnVal);
}

/*
** The value stored in leaf value a[0..n) of key pKey of tree iTree: inline,
** or read from the value log.  *ppVal is valid until the next call on the
** handle.
*/
int vlogValueDecode(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                    const u8 *a, int n, const u8 **ppVal, int *pnVal){
  ValPtr ptr;
  VlogLog *pL = &p->vl;
  int rc;
  if( n>=1 && a[0]==VTAG_INLINE ){
    *ppVal = &a[1];
    *pnVal = n-1;
    return VLOG_OK;
  }
  if( n>=1 && a[0]==VTAG_ZINLINE ) return zinlineGet(p, iTree, a, n, ppVal, pnVal);
  if( ptrDecode(a, n, &ptr) ) return badPointer(p);
  if( ptr.eTag!=VTAG_CHUNKS ){
    if( ptrExtent(&ptr) || ptrExtent(&ptr)!=VLOG_DONE ) return badPointer(p);
    return extentGet(p, iTree, &ptr, pKey, nKey, ppVal, pnVal);
  }
  pL->val.n = 0;
  rc = vlogBufReserve(p->pEnv, &pL->val, (int)ptr.nVal+1);
  if( rc ) return vlogSetError(p, rc, 0);
  while( (rc = ptrExtent(&ptr))==VLOG_OK ){
    const u8 *pV;
    int nV;
    rc = extentGet(p, iTree, &ptr, pKey, nKey, &pV, &nV);
    if( rc ) return rc;
    memcpy(&pL->val.a[ptr.nSeen - ptr.nLen], pV, nV);
  }
  if( rc!=VLOG_DONE ) return badPointer(p);
  assert( ptr.nSeen==ptr.nVal && ptr.iChunk==ptr.nChunk );   /* all of it */
  *ppVal = pL->val.a;
  *pnVal = (int)ptr.nVal;
  return VLOG_OK;
}

/*
** vlogValueDecode for the consistency check: a VTAG_RAW value's whole frame
** is read and checked too, not only its record.
*/
int vlogValueVerify(VlogStore *p, u32 iTree, const u8 *pKey, int nKey,
                    const u8 *a, int n, const u8 **ppVal, int *pnVal){
  ValPtr ptr;
  if( n>1 && a[0]==VTAG_RAW && ptrDecode(a, n, &ptr)==VLOG_OK
   && ptrExtent(&ptr)==VLOG_OK ){
    const u8 *aRaw;
    int nRaw;
    int rc = frameLoad(p, ptr.iSeg, ptr.iGen, ptr.iOff, 0, &aRaw, &nRaw);
    if( rc ) return rc;
  }
  return vlogValueDecode(p, iTree, pKey, nKey, a, n, ppVal, pnVal);
}

/*
** vlog_verify's check of TREE_DICTS, which reads every dictionary: ids
** rise from 1 (GC leaves gaps: vlogDictGc); each is a header chunk then
** chunks 1..N of DICT_CHUNK bytes (the last one shorter), nothing missing
** or extra; its checksum holds and zstd takes it as a dictionary, or it
** is a tombstone (a header of size 0 alone).  Every dictionary id an open
** or sealed segment's range starts or ends with is there: GC dropped none
** that a frame a key reaches names.  A zombie's may be gone: the handle
** that freed it dropped them, and this one, which learns of frees only by
** its own checkpoints (alloc.c, "Two checkpoints"), still lists it; no
** key reaches its frames.  Adds a line to pRep.
*/
int vlogDictVerify(VlogStore *p, VlogBuf *pRep){
  VlogCursor *pCsr = 0;
  VlogBuf d = {0, 0, 0}, ids = {0, 0, 0};
  u32 iId = 0, nDict = 0;
  u64 nBytes = 0, i;
  int rc = vlogCursorOpen(p, TREE_DICTS, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    u32 iChunk, nChunk;
    u64 k;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    k = nKey==8 ? vlogGetBE64((const u8*)pKey) : 0;
    if( nKey!=8 || (u32)(k>>32)<=iId || (u32)k!=0 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: the dictionary tree has "
          "%s after dictionary %u", nKey==8 ? "a chunk out of place" : "a bad key",
          iId);
      break;
    }
    iId = (u32)(k>>32);
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK && nVal==16 && vlogGet32((const u8*)pVal)==0 ){
      /* a tombstone: a dropped id that was the newest (GC deletes it
      ** once a newer one is there) */
      rc = vlogCursorNext(pCsr);
      continue;
    }
    if( rc==VLOG_OK ) rc = dictLoad(p, iId, &d);
    if( rc==VLOG_OK && ZSTD_getDictID_fromDict(d.a, d.n)==0 ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "zstd dictionary %u of the value "
                        "log is not a zstd dictionary", iId);
    }
    if( rc==VLOG_OK && dictTablesError(d.a, d.n) ){
      rc = dictRefused(p, iId, d.a, d.n);
    }
    nChunk = (u32)((d.n + DICT_CHUNK - 1)/DICT_CHUNK);
    for(iChunk=1; rc==VLOG_OK && iChunk<=nChunk; iChunk++){
      rc = vlogCursorNext(pCsr);
      if( rc ) break;
      /* past the last entry: a missing chunk, not a misuse of the cursor */
      nKey = nVal = 0;
      if( vlogCursorValid(pCsr) ){
        (void)vlogCursorKey(pCsr, &pKey, &nKey); /* valid: cannot fail */
        rc = vlogCursorValue(pCsr, &pVal, &nVal);
      }
      if( rc==VLOG_OK && (!vlogCursorValid(pCsr) || nKey!=8
          || vlogGetBE64((const u8*)pKey)!=(((u64)iId<<32) | iChunk)
          || nVal!=(iChunk<nChunk ? DICT_CHUNK : d.n-(int)(nChunk-1)*DICT_CHUNK)) ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: zstd dictionary %u: "
                          "chunk %u is missing or out of shape", iId, iChunk);
      }
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
    if( rc==VLOG_OK && vlogBufAppend(p->pEnv, &ids, &iId, sizeof(iId)) ){
      rc = vlogSetError(p, VLOG_NOMEM, 0);
    }
    nDict++;
    nBytes += (u64)d.n;
  }
  vlogCursorClose(pCsr);
  vlogBufFree(p->pEnv, &d);
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    if( pB->eKind==KIND_VLOG && pB->eState!=BUCKET_ZOMBIE && pB->iDictLo
     && (!dictIn(&ids, pB->iDictLo) || !dictIn(&ids, pB->iDictHi)) ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "verify: segment %llu names zstd "
          "dictionaries %u to %u, and the store has not both",
          (unsigned long long)i, pB->iDictLo, pB->iDictHi);
    }
  }
  vlogBufFree(p->pEnv, &ids);
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(p->pEnv, pRep, "dictionaries: %u, %llu bytes\n", nDict,
                       (unsigned long long)nBytes);
    if( rc ) rc = vlogSetError(p, rc, 0);
  }
  return rc;
}

/* Add the bytes of the value that leaf value a[0..n) (key nKey bytes, tree
** iTree) stands for to *pnVal, and the bytes it takes on disk to *pnStored:
** the leaf's bytes for a value kept there; for one in the value log, each
** record's bytes at its segment's ratio of bytes on disk to record bytes
** (frames compress records together: a record alone has no size on disk). */
int vlogValueSize(VlogStore *p, u32 iTree, const u8 *pKey, int nKey, const u8 *a, int n,
                  u64 *pnVal, u64 *pnStored){
  ValPtr ptr;
  int rc;
  if( n<1 || a[0]==VTAG_INLINE || a[0]==VTAG_ZINLINE ){
    const u8 *pVal;
    int nVal;
    if( n<1 || a[0]==VTAG_INLINE ){
      *pnVal += n>0 ? (u64)(n-1) : 0;
    }else{
      rc = vlogValueDecode(p, iTree, pKey, nKey, a, n, &pVal, &nVal);
      if( rc ) return rc;
      *pnVal += (u64)nVal;
    }
    *pnStored += (u64)n;
    return VLOG_OK;
  }
  if( ptrDecode(a, n, &ptr) ) return badPointer(p);
  *pnVal += ptr.nVal;
  while( (rc = ptrExtent(&ptr))==VLOG_OK ){
    u64 nRec = recordBytes(iTree, nKey, ptr.nLen);
    const Bucket *pB = ptr.iSeg<p->sb.nBucket ? &p->aBucket[ptr.iSeg] : 0;
    if( pB && pB->nTotal>0 ){
      *pnStored += (u64)((double)nRec * (double)pB->nDisk / (double)pB->nTotal);
    }else{
      *pnStored += nRec;
    }
  }
  return rc==VLOG_DONE ? VLOG_OK : badPointer(p);
}

/* Call xPer(p, iSeg, nRecBytes) for each value-log record the leaf value
** a[0..n) of key nKey bytes of tree iTree points to; stop at its error. */
int vlogValueForEach(VlogStore *p, u32 iTree, int nKey, const u8 *a, int n,
                     int (*xPer)(VlogStore*, u64, u64)){
  ValPtr ptr;
  int rc;
  if( n<1 || a[0]==VTAG_INLINE || a[0]==VTAG_ZINLINE ) return VLOG_OK;
  if( ptrDecode(a, n, &ptr) ) return badPointer(p);
  while( (rc = ptrExtent(&ptr))==VLOG_OK ){
    rc = xPer(p, ptr.iSeg, recordBytes(iTree, nKey, ptr.nLen));
    if( rc ) return rc;
  }
  return rc==VLOG_DONE ? VLOG_OK : badPointer(p);
}

/* Add to aBytes[iSeg] (iSeg < nSeg) the record bytes the leaf value
** a[0..n) of key nKey bytes of tree iTree has in segment iSeg. */
int vlogValueSegBytes(VlogStore *p, u32 iTree, int nKey, const u8 *a, int n,
                      u64 *aBytes, u64 nSeg){
  ValPtr ptr;
  int rc;
  if( n<1 || a[0]==VTAG_INLINE || a[0]==VTAG_ZINLINE ) return VLOG_OK;
  if( ptrDecode(a, n, &ptr) ) return badPointer(p);
  while( (rc = ptrExtent(&ptr))==VLOG_OK ){
    if( ptr.iSeg<nSeg ) aBytes[ptr.iSeg] += recordBytes(iTree, nKey, ptr.nLen);
  }
  return rc==VLOG_DONE ? VLOG_OK : badPointer(p);
}

/* ---------------------------------------------------------------------
** Rewrite (maint.c): reading a segment alone, and the compare of a key's
** pointer with the record being moved
*/

/*
** The first frame of segment iSeg (generation iGen) at or after byte *piOff
** and before the end of what the segment holds (Bucket.nDisk): *piOff is
** set to its offset, *piNext to the byte after it, and *paRaw, *pnRaw to
** its records (valid until the next read on the handle).  VLOG_DONE when
** no frame is left.  Bytes between frames are holes (a rolled-back
** transaction's room, a commit's first frame on a fresh sector, the torn
** end of a crashed one): where a header is not one of this generation's,
** or its frame fails its checksum, the walk goes on at the next sector and
** *pnSkip counts the frames of this generation it could not read.  The
** accounting is the judge: records in such a frame stay live and keep the
** segment from being freed.
*/
int vlogSegFrameNext(VlogStore *p, u64 iSeg, u64 iGen, u32 *piOff, u32 *piNext,
                     const u8 **paRaw, int *pnRaw, int *pnSkip){
  u32 iOff = *piOff;
  u64 nDisk;
  assert( p->eTxn>0 && (iOff % 16)==0 );
  if( iSeg==0 || iSeg>=p->sb.nBucket || p->aBucket[iSeg].eKind!=KIND_VLOG
   || p->aBucket[iSeg].iGen!=iGen ){
    return VLOG_DONE;
  }
  nDisk = p->aBucket[iSeg].nDisk;
  while( (u64)iOff + FRAME_HDR <= nDisk ){
    u8 h[FRAME_HDR];
    int rc = segRead(p, iSeg, iOff, h, FRAME_HDR);
    if( rc && rc!=VLOG_IOERR_SHORT_READ ){
      return vlogSetError(p, rc, "cannot read the value-log frame at segment "
                          "%llu offset %u", (unsigned long long)iSeg, iOff);
    }
    if( rc==VLOG_OK && vlogGet32(&h[0])==FRAME_MAGIC && vlogGet64(&h[16])==iGen ){
      char *zSave = p->zErr;
      p->zErr = 0;
      rc = frameLoad(p, iSeg, iGen, iOff, 0, paRaw, pnRaw);
      if( rc==VLOG_OK ){
        vlogFree(p->pEnv, zSave);
        *piOff = iOff;
        *piNext = iOff + (u32)align16(FRAME_HDR + (int)vlogGet32(&h[12]));
        return VLOG_OK;
      }
      if( rc!=VLOG_CORRUPT ){
        vlogFree(p->pEnv, zSave);
        return rc;
      }
      vlogFree(p->pEnv, p->zErr);        /* a damaged frame: skipped */
      p->zErr = zSave;
      (*pnSkip)++;
    }
    iOff = (iOff + VLOG_SECTOR) & ~(u32)(VLOG_SECTOR-1);
  }
  return VLOG_DONE;
}

/*
** Whether leaf value a[0..n) points at the record of frame (iSeg, iGen,
** iOff) that is number iIdx in it and starts at byte iRecOff of its
** records: 1 if so, else 0 (an inline value, another copy, a malformed
** pointer).  A value in chunks matches when one of its chunks is that
** frame's (each chunk is alone in its frame): *pbChunks is then set, and
** the whole value moves.
*/
int vlogValuePointsAt(const u8 *a, int n, u64 iSeg, u64 iGen, u32 iOff,
                      int iIdx, u32 iRecOff, int *pbChunks){
  ValPtr ptr;
  *pbChunks = 0;
  if( n<1 || a[0]==VTAG_INLINE || a[0]==VTAG_ZINLINE ) return 0;
  if( ptrDecode(a, n, &ptr) ) return 0;
  while( ptrExtent(&ptr)==VLOG_OK ){
    if( ptr.iSeg!=iSeg || ptr.iGen!=iGen || ptr.iOff!=iOff ) continue;
    if( ptr.eTag==VTAG_CHUNKS ){
      *pbChunks = 1;
      return 1;
    }
    return ptr.eTag==VTAG_RAW ? ptr.iAt==(u64)iRecOff : ptr.iAt==(u64)iIdx;
  }
  return 0;
}

/* Seal the open segment, if any, at the start of a write transaction: the
** next append opens a new one, in the lowest free bucket (maintenance
** moves the log's end down the file, so its end can be cut off). */
int vlogLogSealOpen(VlogStore *p){
  VlogLog *pL = &p->vl;
  u64 iSeg = vlogSegFindOpen(p);
  int rc;
  assert( p->eTxn==2 && pL->nFrameRec==0 && pL->wout.n==0 );
  pL->iSeg = 0;
  if( iSeg==0 ) return VLOG_OK;
  rc = vlogSegSeal(p, iSeg);
  return rc;
}

/* Bytes of a record as the accounting counts them. */
u64 vlogRecordBytes(u32 iTree, int nKey, u64 nVal){
  return recordBytes(iTree, nKey, nVal);
}

/* Accounting (alloc.c): nBytes of segment iSeg's records become live, or
** stale. */
static int addLive(VlogStore *p, u64 iSeg, u64 n){ return vlogSegLive(p, iSeg, n, 1); }
static int subLive(VlogStore *p, u64 iSeg, u64 n){ return vlogSegLive(p, iSeg, n, 0); }

/* The record at a[0..n) of the transaction log (its size into *pnUsed):
** if it puts a value-log pointer in a user tree, xPer for its extents. */
static int logAccount(VlogStore *p, const u8 *a, int n,
                      int (*xPer)(VlogStore*, u64, u64), int *pnUsed){
  LogRec r;
  if( vlogRecDecode(a, n, &r, pnUsed) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "the transaction log is damaged "
                        "(internal error)");
  }
  if( r.eOp!=REC_PUT || r.iTree<VLOG_TREE_FIRST_USER ) return VLOG_OK;
  return vlogValueForEach(p, r.iTree, r.nKey, r.pVal, r.nVal, xPer);
}

/*
** At commit: write the open frame, account the transaction's pointers,
** and queue the changed figures (and a REC_VEXT record of the bytes
** written) for the journal entry.
*/
int vlogLogCommit(VlogStore *p){
  TxnLog *pLog = &p->log;
  VlogLog *pL = &p->vl;
  int rc, i, n;
  assert( p->eTxn==2 && p->eLock==VLOG_LOCK_EXCLUSIVE && !p->bPrepared );
  rc = vlogLogFlush(p);
  if( rc==VLOG_OK ) rc = woutWrite(p);
  if( rc==VLOG_OK ) rc = dictPersist(p);
  if( rc ) return rc;
  assert( pL->nFrameRec==0 && pL->wout.n==0 );      /* every frame written */
  /* new pointers: live; replaced or deleted pointers: stale */
  for(i=0; rc==VLOG_OK && i<pLog->redo.n; ){
    rc = logAccount(p, &pLog->redo.a[i], pLog->redo.n-i, addLive, &n);
    i += n;
  }
  for(i=0; rc==VLOG_OK && i<pLog->nUndo; i++){
    int iOff = pLog->aUndoOff[i];
    rc = logAccount(p, &pLog->undo.a[iOff], pLog->undo.n-iOff, subLive, &n);
  }
  /* trees cleared or dropped: every pointer of theirs, stale */
  if( rc==VLOG_OK ) rc = vlogTxnTreesFree(p, subLive);
  if( rc ) return rc;
  if( pL->iSeg ) rc = vlogSegTouch(p, pL->iSeg);
  if( rc==VLOG_OK ) rc = vlogSegCommit(p);
  return rc;
}

/* A transaction starts (or ends): its first frame goes on a fresh sector;
** records not yet in a frame are dropped. */
void vlogLogTxnStart(VlogStore *p){
  if( p->vl.bDictPending ) dictDrop(&p->vl);   /* its commit did not happen */
  p->vl.bDictChecked = 0;
  p->vl.bBgChecked = 0;
  p->vl.bCompressNow = 0;
  p->vl.bFrameDefer = 0;
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
static int extentCheck(VlogStore *p, u64 iSeg, u64 iGen, u32 iOff, u32 nLen){
  VlogLog *pL = &p->vl;
  u32 i = 0;
  assert( p->bReplay || p->eTxn>0 );
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
    rc = frameHdrCheck(p, h, iSeg, iGen, iOff+i);
    if( rc==VLOG_OK && vlogGet32(&h[12])>nLen-i-FRAME_HDR ) rc = VLOG_CORRUPT;
    if( rc==VLOG_OK ) rc = frameSumCheck(p, h, &h[FRAME_HDR], iSeg, iOff+i);
    if( rc==VLOG_OK ) i += (u32)align16(FRAME_HDR + (int)vlogGet32(&h[12]));
  }
  return rc==VLOG_OK && i!=nLen ? VLOG_CORRUPT : rc;
}

int vlogLogVerifyExtent(VlogStore *p, const u8 *a, int n){
  int i = 0;
  while( i<n ){
    LogRec r;
    int nUsed = 0;
    if( vlogRecDecode(&a[i], n-i, &r, &nUsed) ){
      /* malformed: vlogJournalApplyPayload() says where */
      return VLOG_OK;
    }
    if( r.eOp==REC_VEXT ){
      int rc;
      char *zSave = p->zErr;
      p->zErr = 0;
      rc = extentCheck(p, r.iSeg, r.iGen, r.iOff, r.nLen);
      vlogFree(p->pEnv, p->zErr);
      p->zErr = zSave;
      if( rc==VLOG_CORRUPT || rc==VLOG_NOTFOUND || rc==VLOG_IOERR_SHORT_READ ){
        return VLOG_NOTFOUND;
      }
      if( rc ) return rc;
    }
    i += nUsed;
  }
  return VLOG_OK;
}

/* The frames of the open write transaction are compressed at the tree's
** level whatever background_compression says: maintenance's rewrite, the
** one that compresses what commits left raw.  Until the transaction ends. */
void vlogLogCompressNow(VlogStore *p){
  assert( p->eTxn==2 && p->vl.nFrameRec==0 );
  p->vl.bCompressNow = 1;
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
  p->nTouched = 0;             /* the bucket table is reloaded too */
  pL->iSeg = 0;
  pL->frame.n = 0;
  pL->nFrameRec = 0;
  pL->wout.n = 0;
  assert( pL->nCache==0 );
}

void vlogLogClose(VlogStore *p){
  VlogLog *pL = &p->vl;
  vlogLogReset(p);
  vlogBufFree(p->pEnv, &pL->frame);
  vlogBufFree(p->pEnv, &pL->zbuf);
  vlogBufFree(p->pEnv, &pL->val);
  vlogBufFree(p->pEnv, &pL->vext);
  vlogBufFree(p->pEnv, &pL->rbuf);
  vlogBufFree(p->pEnv, &pL->dbuf);
  vlogBufFree(p->pEnv, &pL->wout);
  dictDrop(pL);
  ddictForget(pL, 0);
  vlogBufFree(p->pEnv, &pL->dict);
  vlogBufFree(p->pEnv, &pL->samp);
  vlogBufFree(p->pEnv, &pL->sampSize);
  if( pL->pZc ) ZSTD_freeCCtx((ZSTD_CCtx*)pL->pZc);
  if( pL->pZd ) ZSTD_freeDCtx((ZSTD_DCtx*)pL->pZd);
  pL->pZc = pL->pZd = 0;
}
