/*
** store.c: the store file: superblocks, geometry, locks, revalidation.
**
** DESIGN NOTE
**
** One store is one file (storeInt.h draws the layout).  Bucket 0 holds the
** two superblock copies; every other bucket holds one kind of content.
**
** Superblocks.  A checkpoint writes the copy that does not hold the newest
** valid superblock, with the sequence number one higher, then syncs.  On
** open both copies are read; the valid one (magic, version, checksum,
** sane geometry) with the larger sequence is used.  One damaged copy is
** survivable; two are SQLITE_CORRUPT, and a file whose first bytes are not
** a vlog superblock at all is SQLITE_NOTADB.
**
** Opening, creating, loading (recovery) and closing are open.c's; this
** file reads and writes superblocks, takes locks, and keeps a handle in
** step with the file (vlogStoreRefresh), reloading it through open.c.
**
** Locks (io.h): a write transaction holds RESERVED, a commit or
** checkpoint EXCLUSIVE.  A read transaction takes no lock: it registers
** the published checkpoint in the reader table in shared memory and
** replays the journal up to the published end (shm.c,
** vlogStoreReadUnlocked); opening a published store does the same.  Only
** when the table cannot serve (not published yet, a read-only handle
** without shared memory, no free slot) does a reader hold SHARED, which
** revalidates the handle (vlogStoreRefresh): a changed superblock
** sequence means another handle checkpointed, and every cache is dropped
** and reloaded; otherwise journal entries appended since are replayed into
** the caches.  Write transactions always begin that way, under SHARED and
** RESERVED, so a writer starts from everything committed, published or
** not (a writer that died between its journal write and its publication),
** and publishes it (vlogStoreTryPublish).
**
** The change counter (CHANGE_OFF) makes the locked revalidation one
** 8-byte read when nothing changed, as SQLite's file change counter does for its page
** cache.  A handle bumps it right after taking EXCLUSIVE to commit or
** checkpoint (vlogStoreLockWrite), before its first write that a reader
** could meet: so if a writer dies half-way, the counter has moved already
** and every other handle looks at the file again.  Writes made under
** RESERVED (value-log frames of an open transaction) land where no
** committed pointer leads, and need no bump.  A handle that reads the
** value it saw at its last full refresh, while holding SHARED, knows that
** nobody has taken EXCLUSIVE to write since.  Any doubt (a failed write
** or commit, a reload) clears bChangeOk, and the next refresh is a full
** one.  The counter is per file, not per process, so it serves handles in
** other processes and in this one alike, through any VlogEnv.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "storeInt.h"

void vlogConfigDefault(VlogConfig *p){
  memset(p, 0, sizeof(*p));
  p->bCreate = 1;
  p->nBucketSize = 1024*1024;
  p->nNodeSize = 64*1024;
  p->nCacheSize = 64*1024*1024;
  p->nAutoCheckpoint = 32*1024*1024;
  p->eSync = VLOG_SYNC_FULL;
  p->nMmapSize = VLOG_DEFAULT_MMAP_SIZE;
}

const char *vlogErrName(int rc){
  switch( rc ){
    case VLOG_OK:               return "VLOG_OK";
    case VLOG_ERROR:            return "VLOG_ERROR";
    case VLOG_BUSY:             return "VLOG_BUSY";
    case VLOG_NOMEM:            return "VLOG_NOMEM";
    case VLOG_READONLY:         return "VLOG_READONLY";
    case VLOG_IOERR:            return "VLOG_IOERR";
    case VLOG_CORRUPT:          return "VLOG_CORRUPT";
    case VLOG_NOTFOUND:         return "VLOG_NOTFOUND";
    case VLOG_FULL:             return "VLOG_FULL";
    case VLOG_CANTOPEN:         return "VLOG_CANTOPEN";
    case VLOG_TOOBIG:           return "VLOG_TOOBIG";
    case VLOG_CONSTRAINT:       return "VLOG_CONSTRAINT";
    case VLOG_MISUSE:           return "VLOG_MISUSE";
    case VLOG_RANGE:            return "VLOG_RANGE";
    case VLOG_NOTADB:           return "VLOG_NOTADB";
    case VLOG_IOERR_READ:       return "VLOG_IOERR_READ";
    case VLOG_IOERR_SHORT_READ: return "VLOG_IOERR_SHORT_READ";
    case VLOG_IOERR_WRITE:      return "VLOG_IOERR_WRITE";
    case VLOG_IOERR_FSYNC:      return "VLOG_IOERR_FSYNC";
    case VLOG_IOERR_TRUNCATE:   return "VLOG_IOERR_TRUNCATE";
    case VLOG_IOERR_FSTAT:      return "VLOG_IOERR_FSTAT";
    case VLOG_IOERR_DELETE:     return "VLOG_IOERR_DELETE";
    case VLOG_IOERR_NOMEM:      return "VLOG_IOERR_NOMEM";
    case VLOG_IOERR_LOCK:       return "VLOG_IOERR_LOCK";
    case VLOG_IOERR_SHMOPEN:    return "VLOG_IOERR_SHMOPEN";
    case VLOG_IOERR_SHMMAP:     return "VLOG_IOERR_SHMMAP";
    case VLOG_CANTOPEN_ISDIR:   return "VLOG_CANTOPEN_ISDIR";
    case VLOG_CANTOPEN_NOTREG:  return "VLOG_CANTOPEN_NOTREG";
  }
  if( (rc & 0xff)==VLOG_IOERR ) return "VLOG_IOERR";
  return "VLOG_ERROR";
}

/*
** Record an error message for rc and return rc.  Keeps the first message
** of a chain of errors when zFmt is 0 and a message is already set.
*/
int vlogSetError(VlogStore *p, int rc, const char *zFmt, ...){
  if( rc==VLOG_OK ) return rc;
  if( zFmt ){
    va_list ap;
    char zBuf[512];
    va_start(ap, zFmt);
    vsnprintf(zBuf, sizeof(zBuf), zFmt, ap);
    va_end(ap);
    vlogFree(p->pEnv, p->zErr);
    p->zErr = vlogStrdup(p->pEnv, zBuf);
  }else if( p->zErr==0 ){
    const char *z = "error";
    switch( rc & 0xff ){
      case VLOG_NOMEM:   z = "out of memory"; break;
      case VLOG_IOERR:   z = "disk I/O error"; break;
      case VLOG_FULL:    z = "disk full"; break;
      case VLOG_BUSY:    z = "store is locked by another handle"; break;
      case VLOG_CORRUPT: z = "store is corrupt"; break;
    }
    p->zErr = vlogMprintf(p->pEnv, "%s (%s)", z, vlogErrName(rc));
  }
  return rc;
}

const char *vlogStoreErrMsg(VlogStore *p){
  if( p==0 ) return "out of memory";
  return p->zErr ? p->zErr : "not an error";
}

VlogEnv *vlogStoreEnv(VlogStore *p){ return p->pEnv; }
int vlogStoreIsReadOnly(VlogStore *p){ return p->cfg.bReadOnly; }
int vlogStoreHasShm(VlogStore *p){ return p->pShm!=0; }
VlogFile *vlogStoreFile(VlogStore *p){ return p->pFile; }

/* VLOG_READONLY, with a message that says why the handle cannot write. */
int vlogReadOnlyError(VlogStore *p){
  return vlogSetError(p, VLOG_READONLY, "%s is read-only: %s", p->zPath,
      p->zReadOnly ? p->zReadOnly :
      p->cfg.bImmutable ? "opened as immutable" : "opened read-only");
}

/*
** Read n bytes at iOff that this handle's snapshot pins (value-log frames
** of a read or write transaction): through the env's memory map when it
** has one (io.h).  Everything else is read with xRead.
*/
int vlogReadPinned(VlogStore *p, u64 iOff, void *pBuf, int n){
  /* pinned: the bytes of a transaction's snapshot */
  assert( p->eTxn>0 && n>0 && pBuf!=0 && iOff>=p->sb.nBucketSize );
  if( p->pEnv->xReadMapped ) return p->pEnv->xReadMapped(p->pFile, (i64)iOff, pBuf, n);
  return p->pEnv->xRead(p->pFile, (i64)iOff, pBuf, n);
}

int vlogReadAt(VlogStore *p, u64 iOff, void *pBuf, int n, const char *zWhat){
  int rc;
  assert( n>=0 && (pBuf!=0 || n==0) && iOff<MAX_STORE_BYTES );
  rc = p->pEnv->xRead(p->pFile, (i64)iOff, pBuf, n);
  if( rc==VLOG_IOERR_SHORT_READ ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "%s at offset %llu is past the end of the file (truncated store?)",
        zWhat, (unsigned long long)iOff);
  }
  if( rc ) return vlogSetError(p, rc, "cannot read %s at offset %llu (%s)",
                               zWhat, (unsigned long long)iOff, vlogErrName(rc));
  return VLOG_OK;
}


int vlogWriteAt(VlogStore *p, u64 iOff, const void *pBuf, int n){
  int rc;
  /* a writer: RESERVED for value-log frames no committed pointer reaches,
  ** EXCLUSIVE for everything a reader may meet (store.c, "Locks") */
  assert( p->eLock>=VLOG_LOCK_RESERVED && !p->cfg.bReadOnly );
  assert( n>0 && pBuf!=0 && iOff+(u64)n<=MAX_STORE_BYTES );
  rc = p->pEnv->xWrite(p->pFile, (i64)iOff, pBuf, n);
  p->nFileBytesWritten += (u64)n;
  if( rc ) return vlogSetError(p, rc, "cannot write %d bytes at offset %llu (%s)",
                               n, (unsigned long long)iOff, vlogErrName(rc));
  if( p->pEnv->xWriteback && p->nFileBytesWritten - p->nWritebackMark >= WRITEBACK_BYTES ){
    /* Start the writeback of what is dirty, without waiting, so that the
    ** sync of the next checkpoint does not wait for everything written
    ** since the last (with synchronous=NORMAL, hundreds of megabytes):
    ** that one commit would pay for all of them (RocksDB's
    ** bytes_per_sync). */
    p->pEnv->xWriteback(p->pFile, 0, 0);
    p->nWritebackMark = p->nFileBytesWritten;
  }
  return VLOG_OK;
}

u32 vlogGetBE32(const u8 *a){
  return ((u32)a[0]<<24) | ((u32)a[1]<<16) | ((u32)a[2]<<8) | a[3];
}
u64 vlogGetBE64(const u8 *a){
  u64 v = 0;
  int i;
  for(i=0; i<8; i++) v = (v<<8) | a[i];
  return v;
}
void vlogPutBE64(u8 *a, u64 v){
  int i;
  for(i=7; i>=0; i--){ a[i] = (u8)v; v >>= 8; }
}

/* ---------------------------------------------------------------------
** Superblocks
*/
void vlogSbEncode(const Superblock *s, u8 *a){
  /* what sbDecode takes: a superblock this engine writes is sound */
  assert( s->nBucketSize>=MIN_BUCKET_SIZE && s->nBucketSize<=MAX_BUCKET_SIZE );
  assert( s->nNodeSize>=MIN_NODE_SIZE && s->nNodeSize<=s->nBucketSize );
  assert( s->nBucket>=2 && s->rootsLevel>=1 && s->rootsLevel<=32 );
  assert( (s->iJrnlOff % JE_ALIGN)==0 && s->iJrnlOff>=s->nBucketSize );
  assert( s->iNextGen>=1 && s->iNextSegGen>=1 && s->iSeq>=1 );
  memset(a, 0, SB_SIZE);
  memcpy(a, SB_MAGIC, 16);
  vlogPut32(&a[16], FORMAT_VERSION);
  vlogPut32(&a[20], SB_USED);
  vlogPut64(&a[24], s->iSeq);
  vlogPut32(&a[32], s->nBucketSize);
  vlogPut32(&a[36], s->nNodeSize);
  vlogPut64(&a[40], s->nBucket);
  vlogPut64(&a[48], s->rootsRoot.gen);
  vlogPut64(&a[56], s->rootsRoot.off);
  vlogPut32(&a[64], s->rootsRoot.len);
  vlogPut32(&a[68], s->rootsLevel);
  vlogPut64(&a[72], s->iJrnlOff);
  vlogPut64(&a[80], s->iJrnlSeq);
  vlogPut64(&a[88], s->iNextGen);
  vlogPut64(&a[96], s->iCreated);
  vlogPut64(&a[104], s->iCkptTime);
  vlogPut64(&a[112], s->iNextSegGen);
  vlogPut64(&a[SB_USED-8], vlogChecksum(a, SB_USED-8, SEED_SB));
}

/*
** Decode superblock a[0..nA) (the whole sector, or its first SB_USED
** bytes when only this format's fields are wanted: a superblock that says
** it has more is then not taken).  Returns VLOG_OK, VLOG_NOTADB (not a vlog
** superblock at all), VLOG_CORRUPT (a vlog superblock, damaged) or
** VLOG_FORMAT (a sound superblock of another format version), with the
** reason in zWhy.  Every format keeps the magic, the version and the
** bytes used (offsets 0, 16, 20) and ends its fields with their checksum,
** so that another version is told from damage.
*/
static int sbDecode(const u8 *a, int nA, Superblock *s, char *zWhy, int nWhy){
  u32 nBucket, nNode;
  u32 nUsed = vlogGet32(&a[20]);
  assert( nA>=SB_USED );
  if( memcmp(a, SB_MAGIC, 16)!=0 ){
    snprintf(zWhy, nWhy, "bad magic");
    return VLOG_NOTADB;
  }
  if( nUsed<32 || nUsed>(u32)nA || (nUsed % 8)!=0
   || vlogGet64(&a[nUsed-8])!=vlogChecksum(a, (int)nUsed-8, SEED_SB) ){
    snprintf(zWhy, nWhy, "checksum mismatch");
    return VLOG_CORRUPT_BKPT;
  }
  if( vlogGet32(&a[16])!=FORMAT_VERSION ){
    snprintf(zWhy, nWhy, "%u", vlogGet32(&a[16]));
    return VLOG_FORMAT;
  }
  if( nUsed!=SB_USED ){
    snprintf(zWhy, nWhy, "%u bytes of fields, format %u has %u", nUsed,
             FORMAT_VERSION, SB_USED);
    return VLOG_CORRUPT_BKPT;
  }
  s->iSeq = vlogGet64(&a[24]);
  nBucket = vlogGet32(&a[32]);
  nNode = vlogGet32(&a[36]);
  s->nBucketSize = nBucket;
  s->nNodeSize = nNode;
  s->nBucket = vlogGet64(&a[40]);
  s->rootsRoot.gen = vlogGet64(&a[48]);
  s->rootsRoot.off = vlogGet64(&a[56]);
  s->rootsRoot.len = vlogGet32(&a[64]);
  s->rootsLevel = vlogGet32(&a[68]);
  s->iJrnlOff = vlogGet64(&a[72]);
  s->iJrnlSeq = vlogGet64(&a[80]);
  s->iNextGen = vlogGet64(&a[88]);
  s->iCreated = vlogGet64(&a[96]);
  s->iCkptTime = vlogGet64(&a[104]);
  s->iNextSegGen = vlogGet64(&a[112]);
  if( nBucket<MIN_BUCKET_SIZE || nBucket>MAX_BUCKET_SIZE || (nBucket & (nBucket-1))
   || nNode<MIN_NODE_SIZE || nNode>MAX_NODE_SIZE || (nNode & (nNode-1))
   || nNode>nBucket || nBucket/nNode>MAX_REGIONS
   || s->nBucket<2 || s->nBucket>MAX_BUCKETS(nBucket)
   || s->rootsLevel<1 || s->rootsLevel>32
   || s->iJrnlOff<(u64)nBucket || s->iJrnlOff>=s->nBucket*(u64)nBucket
   || (s->iJrnlOff % JE_ALIGN)
   || (s->rootsRoot.off && (s->rootsRoot.off % nNode))
   || s->rootsRoot.len>nNode
   || (s->rootsRoot.gen && (s->rootsRoot.off<(u64)nBucket
                            || s->rootsRoot.off>=s->nBucket*(u64)nBucket
                            || s->rootsRoot.len==0))
   || (s->rootsRoot.gen==0 && s->rootsLevel!=1) ){
    snprintf(zWhy, nWhy, "impossible geometry or pointers");
    return VLOG_CORRUPT_BKPT;
  }
  /* The counters the engine goes on from: each is one or more (a store is
  ** created with 1 in each) and below MAX_COUNTER, and the roots tree's
  ** root has a generation given out.  A sequence of 0 reached the
  ** publication of the reader table (vlogShmPublish) as a checkpoint that
  ** is not one; a journal sequence of 0 made the durable sequence 2^64-1.
  ** (Above: an empty roots tree, root generation 0, is written with level
  ** 1; at level 5 its missing root was looked up as a node.) */
  if( s->iSeq==0 || s->iSeq>=MAX_COUNTER
   || s->iJrnlSeq==0 || s->iJrnlSeq>=MAX_COUNTER
   || s->iNextGen==0 || s->iNextGen>=MAX_COUNTER
   || s->iNextSegGen==0 || s->iNextSegGen>=MAX_COUNTER
   || s->rootsRoot.gen>=s->iNextGen ){
    snprintf(zWhy, nWhy, "impossible sequence numbers or generations");
    return VLOG_CORRUPT_BKPT;
  }
  return VLOG_OK;
}

/* sbDecode() for open.c, and for those that need no reason (the
** invariant checker). */
int vlogSbDecodeWhy(const u8 *a, int nA, Superblock *s, char *zWhy, int nWhy){
  return sbDecode(a, nA, s, zWhy, nWhy);
}
int vlogSbDecode(const u8 *a, int nA, Superblock *s){
  char zWhy[128];
  return sbDecode(a, nA, s, zWhy, sizeof(zWhy));
}

/* Write the superblock to the slot not holding the current one, then sync. */
int vlogSbWrite(VlogStore *p){
  u8 a[SB_SIZE];
  int iSlot = 1 - p->iSbSlot;
  int rc;
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && (p->iSbSlot==0 || p->iSbSlot==1) );
  vlogSbEncode(&p->sb, a);
  rc = vlogWriteAt(p, (u64)iSlot*SB_SIZE, a, SB_SIZE);
  if( rc==VLOG_OK && p->cfg.eSync!=VLOG_SYNC_OFF ){
    rc = p->pEnv->xSync(p->pFile);
    if( rc ) vlogSetError(p, rc, "cannot sync the superblock (%s)", vlogErrName(rc));
  }
  if( rc==VLOG_OK ) p->iSbSlot = iSlot;
  return rc;
}

/*
** A sound superblock of format version zVersion (a number).  There is no
** upgrade in place: format 3 changed every value pointer and value-log
** frame (records name their tree, pointers and frames carry the segment's
** generation), so an upgrade would rewrite every value, as a copy does,
** and vlog has not yet been released with stores to keep (0.x).  The way
** across is a copy through SQL text, which vlogtool export writes.
*/
int vlogFormatError(VlogStore *p, const char *zVersion){
  int iVersion = atoi(zVersion);
  if( iVersion>FORMAT_VERSION ){
    return vlogSetError(p, VLOG_NOTADB, "%s is a vlog store of format %d, "
        "written by a newer vlog; this one reads format %d only: open it with "
        "a newer vlog", p->zPath, iVersion, FORMAT_VERSION);
  }
  return vlogSetError(p, VLOG_NOTADB, "%s is a vlog store of format %d, written "
      "by vlog 0.%d; this vlog reads format %d only and does not upgrade in "
      "place: with the vlog that wrote it, run 'vlogtool export %s > dump.sql', "
      "then load dump.sql into a new store with this one", p->zPath, iVersion,
      iVersion, FORMAT_VERSION, p->zPath);
}

/* Read both superblocks; load the newest valid one into p->sb. */
int vlogSbRead(VlogStore *p){
  u8 a[2][SB_SIZE];
  Superblock s[2];
  int rcs[2];
  char zWhy[2][128];
  int i, rc;
  i64 nSize = 0;

  rc = p->pEnv->xSize(p->pFile, &nSize);
  if( rc ) return vlogSetError(p, rc, "cannot stat %s", p->zPath);
  if( nSize<2*SB_SIZE ){
    return vlogSetError(p, VLOG_NOTADB,
        "%s is not a vlog store: %lld bytes is too small for one",
        p->zPath, (long long)nSize);
  }
  for(i=0; i<2; i++){
    rc = p->pEnv->xRead(p->pFile, (i64)i*SB_SIZE, a[i], SB_SIZE);
    if( rc ) return vlogSetError(p, rc, "cannot read superblock %c of %s",
                                 'A'+i, p->zPath);
    rcs[i] = sbDecode(a[i], SB_SIZE, &s[i], zWhy[i], sizeof(zWhy[i]));
  }
  for(i=0; i<2; i++){
    if( rcs[i]==VLOG_FORMAT ) return vlogFormatError(p, zWhy[i]);
  }
  if( rcs[0]==VLOG_NOTADB && rcs[1]==VLOG_NOTADB ){
    return vlogSetError(p, VLOG_NOTADB,
        "%s is not a vlog store (no vlog superblock at offset 0 or 4096)", p->zPath);
  }
  if( rcs[0] && rcs[1] ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "both superblocks of %s are damaged: A (offset 0): %s; B (offset 4096): %s",
        p->zPath, zWhy[0], zWhy[1]);
  }
  /* A checkpoint writes the slot that does not hold the current
  ** superblock, with the next sequence, and a new store's first one has no
  ** twin: two sound superblocks of one sequence were never written.  Taking
  ** one of them left the other's journal chain unheld, its buckets free to
  ** be taken again. */
  if( rcs[0]==VLOG_OK && rcs[1]==VLOG_OK && s[0].iSeq==s[1].iSeq ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "both superblocks of %s hold checkpoint %llu", p->zPath,
        (unsigned long long)s[0].iSeq);
  }
  i = (rcs[0]==VLOG_OK && (rcs[1] || s[0].iSeq>s[1].iSeq)) ? 0 : 1;
  if( p->iWantSeq ){
    /* A reader at the checkpoint the reader table names (shm.c); the newer
    ** one may be written already, the older one cannot be gone. */
    for(i=0; i<2 && (rcs[i] || s[i].iSeq!=p->iWantSeq); i++){}
    if( i==2 ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT,
          "%s: neither superblock holds checkpoint %llu, which the reader "
          "table names", p->zPath, (unsigned long long)p->iWantSeq);
    }
  }
  if( rcs[1-i]==VLOG_OK && (s[1-i].nBucketSize!=s[i].nBucketSize
                         || s[1-i].nNodeSize!=s[i].nNodeSize) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "the superblocks of %s disagree on the bucket or node size", p->zPath);
  }
  assert( i==0 || i==1 );
  assert( rcs[i]==VLOG_OK && (p->iWantSeq==0 || s[i].iSeq==p->iWantSeq) );
  p->sb = s[i];
  p->iSbSlot = i;
  p->bOldValid = (rcs[1-i]==VLOG_OK && s[1-i].iSeq<s[i].iSeq);
  if( p->bOldValid ) p->sbOld = s[1-i];
  /* The journal position may be at or past the end of the file: nothing
  ** was written there yet.  A truncated store shows when a node or an
  ** entry that must exist cannot be read. */
  return VLOG_OK;
}

/* ---------------------------------------------------------------------
** Locks
**
** Waiting.  A lock that is busy is polled with short sleeps that grow, as
** SQLite's default busy handler does on unix (1, 2, 5, 10, 15, 20, 25,
** 25, 25, 50, 50, then 100 ms), until cfg.nBusyTimeout ms of sleeping have
** gone by; 0 fails at once.  A handle waits only while it holds no lock
** that the holder it waits for may need: the writer that holds RESERVED
** needs EXCLUSIVE to commit, and EXCLUSIVE waits for every SHARED.  So a
** handle that wants to write waits with no lock at all
** (vlogStoreLockWriter), and a reader holding SHARED that wants to write
** does not wait (SQLite's rule: its busy handler runs only for a
** connection that holds no lock).  Waiting for RESERVED while holding
** SHARED was a deadlock that only the timeout broke: two processes
** writing the same store met in it at nearly every commit, and so did a
** writer and another process calling vlog_checkpoint() (issue 12: the
** writer's COMMIT, waiting for EXCLUSIVE, failed after 2 s because the
** checkpointer held SHARED while it waited for RESERVED).  A checkpoint
** now never fails a commit: it waits for the writer lock holding none, and
** when it cannot run it says why (SQLITE_BUSY naming the writer, or the
** reader of an older checkpoint; an automatic one is deferred and counted
** in checkpoints_deferred).
*/
static const u8 aBusyDelay[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 };

/*
** Sleep before attempt *piTry+1 at a busy lock: 1 after sleeping, 0 when
** the handle's busy timeout is spent (nothing slept).
*/
int vlogBusyWait(VlogStore *p, int *piTry){
  int n = (int)(sizeof(aBusyDelay)/sizeof(aBusyDelay[0]));
  int i = *piTry, nDelay, nPrior = 0, j;
  assert( i>=0 && p->cfg.nBusyTimeout>=0 );
  if( i<n ){
    nDelay = aBusyDelay[i];
    for(j=0; j<i; j++) nPrior += aBusyDelay[j];
  }else{
    nDelay = aBusyDelay[n-1];
    for(j=0; j<n; j++) nPrior += aBusyDelay[j];
    nPrior += (i-n)*nDelay;
  }
  if( nPrior+nDelay > p->cfg.nBusyTimeout ){
    nDelay = p->cfg.nBusyTimeout - nPrior;
    if( nDelay<=0 ) return 0;
  }
  p->pEnv->xSleep(p->pEnv, nDelay*1000);
  *piTry = i+1;
  return 1;
}

/* The message for a lock at eLevel that is busy. */
static int busyError(VlogStore *p, int eLevel){
  u32 iPid = vlogShmWriter(p);
  char zPid[32];
  zPid[0] = 0;
  if( iPid ) snprintf(zPid, sizeof(zPid), " (process %u)", iPid);
  if( eLevel==VLOG_LOCK_SHARED ){
    return vlogSetError(p, VLOG_BUSY, "the store %s is locked: another "
                        "writer%s is committing", p->zPath, zPid);
  }
  if( eLevel==VLOG_LOCK_RESERVED ){
    return vlogSetError(p, VLOG_BUSY, "the store %s is locked by another "
                        "writer%s", p->zPath, zPid);
  }
  return vlogSetError(p, VLOG_BUSY, "the store %s is locked: cannot commit "
      "while another handle holds its SHARED lock (a reader without the "
      "reader table, or a writer starting)", p->zPath);
}

/* One attempt to raise the lock to eLevel, no waiting. */
static int lockOnce(VlogStore *p, int eLevel){
  int rc = VLOG_OK;
  /* SQLite's levels, but never PENDING as a goal (xLock takes it on the
  ** way to EXCLUSIVE) */
  assert( eLevel>=VLOG_LOCK_SHARED && eLevel<=VLOG_LOCK_EXCLUSIVE );
  assert( eLevel!=VLOG_LOCK_PENDING && p->eLock!=VLOG_LOCK_PENDING );
  assert( eLevel<=VLOG_LOCK_SHARED || !p->cfg.bReadOnly || p->cfg.bImmutable );
  if( p->cfg.bImmutable ){
    /* nothing can change the file: no lock, and no writer */
    if( eLevel>VLOG_LOCK_SHARED ) return vlogReadOnlyError(p);
    if( p->eLock<eLevel ) p->eLock = eLevel;
    return VLOG_OK;
  }
  while( rc==VLOG_OK && p->eLock<eLevel ){
    int eNext = p->eLock+1;
    if( eNext==VLOG_LOCK_PENDING ) eNext = VLOG_LOCK_EXCLUSIVE;
    if( eNext>eLevel ) eNext = eLevel;
    rc = p->pEnv->xLock(p->pFile, eNext);
    if( rc==VLOG_OK ){
      p->eLock = eNext;
      if( eNext==VLOG_LOCK_RESERVED ) vlogShmSetWriter(p);
    }
  }
  assert( rc!=VLOG_OK || p->eLock>=eLevel );
  return rc;
}

/*
** Raise the lock to eLevel, waiting as the busy timeout allows.  For
** SHARED (from none) and EXCLUSIVE (from RESERVED): a wait for RESERVED
** goes through vlogStoreLockWriter.
*/
int vlogStoreLock(VlogStore *p, int eLevel){
  int iTry = 0;
  int rc;
  assert( eLevel!=VLOG_LOCK_RESERVED || p->eLock>=VLOG_LOCK_SHARED );
  for(;;){
    int bWait = eLevel==VLOG_LOCK_SHARED || p->eLock>=VLOG_LOCK_RESERVED;
    rc = lockOnce(p, eLevel);
    if( rc!=VLOG_BUSY || !bWait || !vlogBusyWait(p, &iTry) ) break;
  }
  if( rc==VLOG_BUSY ) return busyError(p, eLevel);
  if( rc ) return vlogSetError(p, rc, "cannot lock %s (%s)", p->zPath, vlogErrName(rc));
  assert( p->eLock>=eLevel );
  return VLOG_OK;
}

/*
** Raise the lock to eLevel in one attempt, not waiting: for a VFS, whose
** caller (SQLite's pager) has its own busy handler.
*/
int vlogStoreLockNoWait(VlogStore *p, int eLevel){
  int rc = lockOnce(p, eLevel);
  if( rc==VLOG_BUSY ) return busyError(p, eLevel);
  if( rc ) return vlogSetError(p, rc, "cannot lock %s (%s)", p->zPath, vlogErrName(rc));
  return VLOG_OK;
}

int vlogStoreHasMoved(VlogStore *p, int *pbMoved){
  int rc;
  *pbMoved = 0;
  if( p->pEnv->xHasMoved==0 ) return VLOG_OK;
  rc = p->pEnv->xHasMoved(p->pFile, pbMoved);
  if( rc ) return vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
  return VLOG_OK;
}

int vlogStoreSync(VlogStore *p){
  int rc;
  if( p->cfg.bReadOnly || !p->bValid ) return VLOG_OK;
  if( !p->bPrepared ) return vlogJournalSync(p);
  /* a prepared commit can still be taken back: durable, not counted so */
  rc = p->pEnv->xSync(p->pFile);
  if( rc ) return vlogSetError(p, rc, "cannot sync %s (%s)", p->zPath, vlogErrName(rc));
  return VLOG_OK;
}

int vlogStoreCheckReserved(VlogStore *p, int *pbReserved){
  int rc;
  *pbReserved = 0;
  if( p->cfg.bImmutable || p->pEnv->xCheckReserved==0 ) return VLOG_OK;
  rc = p->pEnv->xCheckReserved(p->pFile, pbReserved);
  if( rc ) return vlogSetError(p, rc, "cannot test the lock of %s (%s)", p->zPath,
                               vlogErrName(rc));
  return VLOG_OK;
}

/*
** Take SHARED and RESERVED, for a handle that holds no lock and wants to
** write.  While another handle holds RESERVED, wait with no lock held, so
** that the holder can take EXCLUSIVE and commit.
*/
int vlogStoreLockWriter(VlogStore *p){
  int iTry = 0;
  int rc, eFail;
  assert( p->eLock==VLOG_LOCK_NONE );
  for(;;){
    eFail = VLOG_LOCK_SHARED;
    rc = lockOnce(p, VLOG_LOCK_SHARED);
    if( rc==VLOG_OK ){
      eFail = VLOG_LOCK_RESERVED;
      rc = lockOnce(p, VLOG_LOCK_RESERVED);
    }
    if( rc==VLOG_OK ) break;
    /* the lock's error is the one to report, and the retry unlocks again */
    (void)vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc!=VLOG_BUSY || !vlogBusyWait(p, &iTry) ) break;
  }
  if( rc==VLOG_OK ){
    assert( p->eLock==VLOG_LOCK_RESERVED );
    return VLOG_OK;
  }
  assert( p->eLock==VLOG_LOCK_NONE );             /* holds nothing on failure */
  if( rc==VLOG_BUSY ) return busyError(p, eFail);
  return vlogSetError(p, rc, "cannot lock %s (%s)", p->zPath, vlogErrName(rc));
}

/* Read the change counter. */
static int readChange(VlogStore *p, u64 *piChange){
  u8 a[8];
  int rc = p->pEnv->xRead(p->pFile, CHANGE_OFF, a, 8);
  if( rc==VLOG_IOERR_SHORT_READ ){
    memset(a, 0, 8);
    rc = VLOG_OK;
  }
  if( rc ) return vlogSetError(p, rc, "cannot read %s (%s)", p->zPath, vlogErrName(rc));
  *piChange = vlogGet64(a);
  return VLOG_OK;
}

/*
** Take EXCLUSIVE to write (commit, checkpoint) and bump the change counter
** once per hold, before anything else is written (see the design note).
*/
int vlogStoreLockWrite(VlogStore *p){
  u64 iOld;
  u8 a[8];
  int rc;
  assert( p->eLock>=VLOG_LOCK_RESERVED );    /* from the writer lock only */
  rc = vlogStoreLock(p, VLOG_LOCK_EXCLUSIVE);
  assert( rc || p->eLock==VLOG_LOCK_EXCLUSIVE );
  if( rc || p->bChangeBumped ) return rc;
  rc = readChange(p, &iOld);
  if( rc ) return rc;
  vlogPut64(a, iOld+1);
  rc = p->pEnv->xWrite(p->pFile, CHANGE_OFF, a, 8);
  if( rc ){
    p->bChangeOk = 0;
    return vlogSetError(p, rc, "cannot write %s (%s)", p->zPath, vlogErrName(rc));
  }
  p->bChangeBumped = 1;
  if( p->bChangeOk && iOld==p->iChange ){
    p->iChange = iOld+1;
  }else{
    p->bChangeOk = 0;
  }
  return VLOG_OK;
}

/*
** Lower the lock to eLevel (NONE or SHARED).  The handle counts it as
** lowered even when xUnlock fails: what it still holds, the file's close
** releases.  The error is returned without a message (an unlock often
** follows another error, whose message must stay): a caller that reports
** it says what failed.
*/
int vlogStoreUnlock(VlogStore *p, int eLevel){
  int rc = VLOG_OK;
  assert( eLevel==VLOG_LOCK_NONE || eLevel==VLOG_LOCK_SHARED );
  assert( p->eLock>=VLOG_LOCK_NONE && p->eLock<=VLOG_LOCK_EXCLUSIVE );
  assert( p->eLock!=VLOG_LOCK_PENDING );
  if( eLevel<VLOG_LOCK_EXCLUSIVE ) p->bChangeBumped = 0;
  if( p->eLock>eLevel ){
    if( !p->cfg.bImmutable ) rc = p->pEnv->xUnlock(p->pFile, eLevel);
    p->eLock = eLevel;
  }
  return rc;
}

/*
** The full refresh, when the change counter moved (or is not trusted): a
** new superblock (another handle checkpointed) reloads everything;
** otherwise new journal entries are replayed.
*/
static int storeRefreshFull(VlogStore *p){
  /* both superblocks' fields in one read: A's sector and B's first bytes */
  u8 a[SB_SIZE + SB_USED];
  int rc, i;
  u64 iSeq = 0;
  if( !p->bValid ) return vlogStoreLoad(p);
  rc = p->pEnv->xRead(p->pFile, 0, a, (int)sizeof(a));
  if( rc && rc!=VLOG_IOERR_SHORT_READ ) return vlogSetError(p, rc, 0);
  for(i=0; i<2; i++){
    Superblock s;
    char zWhy[128];
    u8 aSb[SB_USED];
    memcpy(aSb, &a[i*SB_SIZE], SB_USED);
    if( sbDecode(aSb, SB_USED, &s, zWhy, sizeof(zWhy))==VLOG_OK && s.iSeq>iSeq ){
      iSeq = s.iSeq;
    }
  }
  if( iSeq!=p->sb.iSeq ) return vlogStoreLoad(p);
  return vlogJournalReplay(p, 0);
}

/*
** Called with at least SHARED held: make the in-memory state match the
** file, at the cost of one 8-byte read when nobody wrote since.
*/
/*
** With SHARED held and the state just refreshed (so current: no commit
** can run), publish it in the reader table if the table does not show
** it, provided the writer lock can be had at once.  Readers can then do
** without file locks (shm.c).
*/
void vlogStoreTryPublish(VlogStore *p){
  /* the state is current only under a file lock */
  assert( p->eLock>=VLOG_LOCK_SHARED );
  if( p->pShm==0 || p->cfg.bReadOnly || vlogShmIsCurrent(p) ) return;
  if( p->eLock>=VLOG_LOCK_RESERVED ){
    vlogShmPublish(p);
  }else if( p->pEnv->xLock(p->pFile, VLOG_LOCK_RESERVED)==VLOG_OK ){
    p->eLock = VLOG_LOCK_RESERVED;
    vlogShmPublish(p);
    /* Best effort, as the publication is: should RESERVED stay held, the
    ** unlock at the end of the transaction (to NONE) releases it. */
    (void)vlogStoreUnlock(p, VLOG_LOCK_SHARED);
  }
}

/*
** Begin a read transaction without a file lock (shm.c): register the
** published snapshot and bring the caches to it.  VLOG_NOTFOUND: use the
** file lock instead.
*/
int vlogStoreReadUnlocked(VlogStore *p){
  u64 iCkpt, iJrnlSeq;
  int rc;
  assert( p->eTxn==0 && p->eLock==VLOG_LOCK_NONE && !p->bFastRead );
  rc = vlogShmReadBegin(p, &iCkpt, &iJrnlSeq);
  if( rc ) return rc;
  if( p->bValid && p->sb.iSeq==iCkpt && p->jrnl.iSeq==iJrnlSeq ) return VLOG_OK;
  p->bChangeOk = 0;
  p->iReplayEnd = iJrnlSeq;
  if( p->bValid && p->sb.iSeq==iCkpt && p->jrnl.iSeq<iJrnlSeq ){
    rc = vlogJournalReplay(p, 0);
  }else{
    p->iWantSeq = iCkpt;
    rc = vlogStoreLoad(p);
    p->iWantSeq = 0;
  }
  p->iReplayEnd = 0;
  if( rc==VLOG_OK && p->jrnl.iSeq!=iJrnlSeq ){
    p->bValid = 0;
    rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
        "%s: the journal ends at entry %llu, but entry %llu was committed",
        p->zPath, (unsigned long long)p->jrnl.iSeq, (unsigned long long)iJrnlSeq-1);
  }
  if( rc ) vlogShmReadEnd(p);
  return rc;
}

int vlogStoreRefresh(VlogStore *p){
  u64 iChange;
  int rc;
  assert( p->eLock>=VLOG_LOCK_SHARED );          /* nobody commits meanwhile */
  rc = readChange(p, &iChange);
  if( rc ) return rc;
  if( p->bValid && p->bChangeOk && iChange==p->iChange ) return VLOG_OK;
  p->bChangeOk = 0;
  rc = storeRefreshFull(p);
  if( rc==VLOG_OK ){
    p->iChange = iChange;
    p->bChangeOk = 1;
  }
  return rc;
}

int vlogStoreSetSync(VlogStore *p, int eSync){
  if( eSync<VLOG_SYNC_OFF || eSync>VLOG_SYNC_FULL ){
    return vlogSetError(p, VLOG_RANGE, "sync level %d: must be 0, 1 or 2", eSync);
  }
  p->cfg.eSync = eSync;
  return VLOG_OK;
}

int vlogStoreSetBusyTimeout(VlogStore *p, int nMs){
  if( nMs<0 ) return vlogSetError(p, VLOG_RANGE, "negative busy timeout");
  p->cfg.nBusyTimeout = nMs;
  return VLOG_OK;
}

int vlogStoreSetCacheSize(VlogStore *p, int64_t nByte){
  if( nByte<0 ) return vlogSetError(p, VLOG_RANGE, "negative cache size");
  p->cfg.nCacheSize = nByte;
  vlogCacheShrink(p);
  return VLOG_OK;
}

/* Reads of the file's first nByte bytes through a memory map (io.h). */
int vlogStoreSetMmapSize(VlogStore *p, int64_t nByte){
  int rc = VLOG_OK;
  if( nByte<0 ) return vlogSetError(p, VLOG_RANGE, "negative mmap size");
  p->cfg.nMmapSize = nByte;
  if( p->pFile && p->pEnv->xMmap ){
    int64_t nMapped = 0;
    rc = p->pEnv->xMmap(p->pFile, nByte, &nMapped);
  }
  if( rc ){
    rc = vlogSetError(p, rc, "cannot map %s (%s)", p->zPath, vlogErrName(rc));
  }
  return rc;
}

int vlogStoreSetAutoCheckpoint(VlogStore *p, int64_t nByte){
  if( nByte<0 ) return vlogSetError(p, VLOG_RANGE, "negative checkpoint threshold");
  p->cfg.nAutoCheckpoint = nByte;
  return VLOG_OK;
}

/* The largest value a leaf of a user tree holds (its tag takes a byte). */
int vlogStoreMaxValue(VlogStore *p){
  return vlogBtreeMaxValue(p) - 1;
}

int vlogStoreInfo(VlogStore *p, char **pzInfo){
  VlogBuf b = {0, 0, 0};
  VlogEnv *pEnv = p->pEnv;
  u64 aCount[5][4];
  u64 i;
  int rc, s, k;
  Tree *pT;

  memset(aCount, 0, sizeof(aCount));
  rc = vlogBufPrintf(pEnv, &b,
      "file: %s\nformat: %d\nsuperblock: %c, checkpoint sequence %llu\n"
      "bucket size: %u\nnode size: %u\nbuckets: %llu (%llu bytes)\n",
      p->zPath, FORMAT_VERSION, 'A'+p->iSbSlot, (unsigned long long)p->sb.iSeq,
      p->sb.nBucketSize, p->sb.nNodeSize, (unsigned long long)p->sb.nBucket,
      (unsigned long long)(p->sb.nBucket*p->sb.nBucketSize));
  for(i=1; i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->eState<5 && pB->eKind<4 ) aCount[pB->eState][pB->eKind]++;
  }
  for(s=0; rc==VLOG_OK && s<5; s++){
    for(k=0; rc==VLOG_OK && k<4; k++){
      if( aCount[s][k] ){
        rc = vlogBufPrintf(pEnv, &b, "buckets %s %s: %llu\n",
            vlogBucketStateName(s), vlogBucketKindName(k),
            (unsigned long long)aCount[s][k]);
      }
    }
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(pEnv, &b,
        "journal: next sequence %llu at offset %llu, %lld bytes since checkpoint\n"
        "tree %u (%s): levels %u\n",
        (unsigned long long)p->jrnl.iSeq, (unsigned long long)p->jrnl.iOff,
        (long long)p->jrnl.nSize, TREE_ROOTS, vlogTreeName(TREE_ROOTS),
        p->rootsTree.nLevel);
  }
  for(pT=p->pTrees; rc==VLOG_OK && pT; pT=pT->pNext){
    const char *zName = vlogTreeName(pT->iTree);
    if( !vlogTreeExists(pT) ) continue;        /* emptied, or dropped */
    rc = vlogBufPrintf(pEnv, &b, "tree %u%s%s%s: levels %u", pT->iTree,
        zName ? " (" : "", zName ? zName : "", zName ? ")" : "", pT->nLevel);
    if( rc==VLOG_OK && (pT->mFlags & TREEF_KEEP) ){
      rc = vlogBufPrintf(pEnv, &b, ", created, inline max %d, zstd level %d",
                         pT->pol.nInlineMax, pT->pol.iZstdLevel);
    }
    if( rc==VLOG_OK ) rc = vlogBufPrintf(pEnv, &b, "\n");
  }
  if( rc ){
    vlogBufFree(pEnv, &b);
    return vlogSetError(p, rc, 0);
  }
  *pzInfo = (char*)b.a;
  return VLOG_OK;
}
