/*
** store.c: the store file: superblocks, geometry, locks, opening.
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
** Buckets are alloc.c's: their states, the free list, node regions and
** segment accounting, and the rule that what a snapshot may reach is kept
** for two checkpoints.  Loading (loadBuckets) reads the table from the
** alloc and segments trees, marks the node regions the current trees use
** (walking the interior nodes; leaves are not read) and those the other
** superblock's trees use (held: if the newest superblock is damaged, the
** older one with the journal written since it still recovers every
** commit), and has alloc.c reconcile: a B-tree bucket with no live or
** held region is free.  Journal buckets are reconciled by replay, which
** walks the chain from the superblock's journal start and keeps those on
** the older superblock's chain.
**
** Opening.  Nothing is created, written or mapped beside a file before it
** is known to be a store, or empty to become one (storeCheckFile: the
** superblock magic, before the -shm): a text file, a SQLite database (even
** a live one in WAL mode, whose -shm this process may share), /dev/null or
** a directory is a VLOG_NOTADB or VLOG_CANTOPEN_* error that changes
** nothing.  A handle is read-only when asked (VlogConfig.bReadOnly,
** bImmutable), when the file opens only read-only (permissions, read-only
** media), or when its -shm cannot be opened or created (shm.c): it never
** writes the file nor touches the -shm, reads under SHARED (an immutable
** one takes no lock), and a write is VLOG_READONLY saying why
** (vlogReadOnlyError).
**
** Shrinking.  At checkpoint, FREE buckets at the end of the file are cut
** off: the new superblock records the smaller bucket count and the file is
** truncated once that superblock is durable.
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
#include <errno.h>
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
static void sbEncode(const Superblock *s, u8 *a){
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
                            || s->rootsRoot.len==0)) ){
    snprintf(zWhy, nWhy, "impossible geometry or pointers");
    return VLOG_CORRUPT_BKPT;
  }
  return VLOG_OK;
}

/* sbDecode() for those that need no reason (the invariant checker). */
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
  sbEncode(&p->sb, a);
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
static int formatError(VlogStore *p, const char *zVersion){
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
static int sbRead(VlogStore *p){
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
    if( rcs[i]==VLOG_FORMAT ) return formatError(p, zWhy[i]);
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
  i = (rcs[0]==VLOG_OK && (rcs[1] || s[0].iSeq>=s[1].iSeq)) ? 0 : 1;
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
  if( rcs[1-i]==VLOG_OK && s[1-i].nBucketSize!=s[i].nBucketSize ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "the superblocks of %s disagree on the bucket size", p->zPath);
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

/* ---------------------------------------------------------------------
** Loading and reconciling
*/

/* The bucket holding region iOff, or 0 when it is outside the table, and
** the region's bit in the bucket's masks. */
static Bucket *regionBucket(VlogStore *p, u64 iOff, u64 *pmBit){
  u64 iBucket = iOff / p->sb.nBucketSize;
  *pmBit = (u64)1<<((iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
  return (iOff && iBucket>0 && iBucket<p->sb.nBucket) ? &p->aBucket[iBucket] : 0;
}

/*
** Mark the regions of every node reachable from pNode's interior levels
** as live (leaves are not read: their regions are in their parents).  A
** region met twice is corruption: each node has one parent, and a hostile
** tree whose pointers all lead to the same child would otherwise be
** walked once per path, exponentially in its depth.
*/
static int markRegions(VlogStore *p, u32 iTree, int iLevel, const NodePtr *pPtr){
  Node *pNode = 0;
  int rc, i;
  u64 m;
  Bucket *pB = regionBucket(p, pPtr->off, &m);
  if( pB && (pB->mLive & m) ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT,
        "B-tree node at offset %llu is referenced twice (tree %u)",
        (unsigned long long)pPtr->off, iTree);
  }
  if( pB ) pB->mLive |= m;
  if( iLevel==0 ) return VLOG_OK;
  rc = vlogNodeLoad(p, iTree, iLevel, pPtr, 0, &pNode);
  if( rc ) return rc;
  vlogNodeRef(p, pNode);
  for(i=0; rc==VLOG_OK && i<pNode->aBset[0].n; i++){
    NodePtr child;
    Entry *pE = &pNode->aBset[0].a[i];
    if( vlogPtrDecode(pE->pVal, pE->nVal, &child) ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT,
          "interior node at offset %llu has a bad child pointer",
          (unsigned long long)pPtr->off);
    }else{
      rc = markRegions(p, iTree, iLevel-1, &child);
    }
  }
  vlogNodeUnref(p, pNode);
  return rc;
}

/* Hold the region at iOff for the previous checkpoint.  0 when it was
** held already (its subtree too: see markRegions) or is outside the
** table. */
static int holdRegion(VlogStore *p, u64 iOff){
  u64 m;
  Bucket *pB = regionBucket(p, iOff, &m);
  if( pB==0 || (pB->mHeld & m) ) return 0;
  pB->mHeld |= m;
  return 1;
}

/*
** Hold every region the tree under pPtr used in the previous checkpoint.
** Its nodes are read into temporary nodes, never into the cache (they are
** not the current trees).  A leaf of the roots tree (bRoots) names the
** roots of the other trees, which are walked too.
*/
static int holdTree(VlogStore *p, u32 iTree, int iLevel, const NodePtr *pPtr,
                    int bRoots, int nDepth){
  Node *pNode;
  u8 *aBuf;
  int rc, i, n;
  Entry *aE;

  if( !holdRegion(p, pPtr->off) ) return VLOG_OK;
  if( (iLevel==0 && !bRoots) || pPtr->gen==0 ) return VLOG_OK;
  if( nDepth>64 || !vlogPtrValid(p, pPtr) ) return VLOG_CORRUPT;
  aBuf = (u8*)vlogMalloc(p->pEnv, pPtr->len);
  pNode = vlogNodeNew(p, iTree, iLevel, pPtr->gen);
  rc = (aBuf && pNode) ? VLOG_OK : VLOG_NOMEM;
  if( rc==VLOG_OK ) rc = vlogReadAt(p, pPtr->off, aBuf, (int)pPtr->len, "B-tree node");
  if( rc==VLOG_OK ){
    rc = vlogNodeDecode(p, pNode, aBuf, (int)pPtr->len, iTree, iLevel, pPtr->off);
  }
  vlogFree(p->pEnv, aBuf);
  if( rc==VLOG_OK ) rc = vlogNodeView(p, pNode);
  if( rc==VLOG_OK ){
    aE = pNode->aView ? pNode->aView : pNode->aBset[0].a;
    n = pNode->aView ? pNode->nView : pNode->aBset[0].n;
    for(i=0; rc==VLOG_OK && i<n; i++){
      NodePtr child;
      if( iLevel>0 ){
        if( vlogPtrDecode(aE[i].pVal, aE[i].nVal, &child)==VLOG_OK ){
          rc = holdTree(p, iTree, iLevel-1, &child, bRoots, nDepth+1);
        }
      }else if( aE[i].nKey==4 ){
        u64 nLevel;
        int k = vlogGetVarint(aE[i].pVal, aE[i].pVal+aE[i].nVal, &nLevel);
        if( k && nLevel>=1 && nLevel<=32
         && vlogPtrDecode(aE[i].pVal+k, (int)aE[i].nVal-k, &child)==VLOG_OK ){
          rc = holdTree(p, vlogGetBE32(aE[i].pKey), (int)nLevel-1, &child, 0, nDepth+1);
        }
      }
    }
  }
  if( pNode ) vlogNodeFree(p, pNode);
  return rc;
}

/* Hold what the previous checkpoint (the other superblock) uses.  Should
** it be unreadable, nothing more can be done for it: its error is
** forgotten, the current checkpoint being sound. */
static int holdOlder(VlogStore *p){
  int rc;
  char *zSave;
  if( !p->bOldValid || p->sbOld.rootsRoot.gen==0 ) return VLOG_OK;
  zSave = p->zErr;
  p->zErr = 0;
  rc = holdTree(p, TREE_ROOTS, (int)p->sbOld.rootsLevel-1, &p->sbOld.rootsRoot, 1, 0);
  vlogFree(p->pEnv, p->zErr);
  p->zErr = zSave;
  return rc==VLOG_NOMEM ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* Load aBucket[] (alloc.c), mark the regions the trees of both
** checkpoints use, then reconcile (design note). */
static int loadBuckets(VlogStore *p){
  Tree *pTree;
  int rc = vlogAllocLoad(p);
  if( rc==VLOG_OK ){
    rc = markRegions(p, TREE_ROOTS, (int)p->sb.rootsLevel-1, &p->sb.rootsRoot);
  }
  if( rc==VLOG_OK ) rc = vlogTreesLoadAll(p);
  for(pTree=p->pTrees; rc==VLOG_OK && pTree; pTree=pTree->pNext){
    rc = markRegions(p, pTree->iTree, (int)pTree->nLevel-1, &pTree->root);
  }
  if( rc==VLOG_OK ) rc = holdOlder(p);
  if( rc==VLOG_OK ) rc = vlogAllocReconcile(p);
  return rc;
}

/* Forget every in-memory structure derived from the file. */
void vlogStoreReset(VlogStore *p){
  vlogCursorsInvalidate(p);
  vlogCacheDropAll(p);
  vlogWbClear(p);
  vlogLogReset(p);
  p->bValid = 0;
  assert( p->nNode==0 && p->pTrees==0 && p->pDirty==0 && p->pLruFirst==0 );
  assert( p->wb.n==0 && p->nCacheBytes==0 );
}

/* Load the state of the file: superblock, trees, buckets, journal. */
static int storeLoad(VlogStore *p){
  int rc;
  int eTxn = p->eTxn;
  vlogStoreReset(p);
  rc = sbRead(p);
  if( rc ) return rc;
  p->nRegionPerBucket = (int)(p->sb.nBucketSize / p->sb.nNodeSize);
  p->rootsTree.iTree = TREE_ROOTS;
  p->rootsTree.nLevel = p->sb.rootsLevel;
  p->rootsTree.root = p->sb.rootsRoot;
  p->rootsTree.pRoot = 0;
  p->jrnl.iOff = p->sb.iJrnlOff;
  p->jrnl.iSeq = p->sb.iJrnlSeq;
  p->jrnl.iDurable = p->sb.iJrnlSeq-1;
  p->jrnl.nSize = 0;
  p->jrnl.iFirstBucket = p->sb.iJrnlOff / p->sb.nBucketSize;
  p->bValid = 1;
  /* The cursors used below must run inside this load, not begin read
  ** transactions of their own (which would refresh, recursively). */
  p->eTxn = eTxn ? eTxn : 1;
  rc = loadBuckets(p);
  if( rc==VLOG_OK ) rc = vlogJournalReplay(p, 1);
  p->eTxn = eTxn;
  if( rc ) p->bValid = 0;
  /* the journal goes on from the checkpoint, in an open journal bucket */
  assert( rc || (p->jrnl.iSeq>=p->sb.iJrnlSeq && p->jrnl.iDurable==p->jrnl.iSeq-1) );
  assert( rc || p->aBucket[p->jrnl.iOff/p->sb.nBucketSize].eKind==KIND_JOURNAL );
  return rc;
}

/* Create a new, empty store in the (empty) file. */
static int storeCreate(VlogStore *p){
  u8 a[SB_SIZE];
  int rc;
  u64 iJrnl;
  Superblock *s = &p->sb;

  /* an empty file, under EXCLUSIVE: no other handle can be creating it */
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE && !p->cfg.bReadOnly );
  memset(s, 0, sizeof(*s));
  s->iSeq = 1;
  s->nBucketSize = (u32)p->cfg.nBucketSize;
  s->nNodeSize = (u32)p->cfg.nNodeSize;
  s->nBucket = 2;
  s->rootsLevel = 1;
  s->iNextGen = 1;
  s->iNextSegGen = 1;
  s->iCreated = (u64)p->pEnv->xNow(p->pEnv);
  p->nRegionPerBucket = (int)(s->nBucketSize / s->nNodeSize);
  rc = vlogAllocGrow(p, 2);
  if( rc ) return rc;
  /* Bucket 1: the first journal bucket. */
  rc = vlogBucketAlloc(p, KIND_JOURNAL, &iJrnl);
  if( rc ) return rc;
  assert( iJrnl==1 );
  s->iJrnlOff = vlogBucketOffset(p, iJrnl);
  s->iJrnlSeq = 1;
  p->jrnl.iOff = s->iJrnlOff;
  p->jrnl.iSeq = 1;
  p->jrnl.iDurable = 0;
  p->jrnl.iFirstBucket = iJrnl;
  p->rootsTree.iTree = TREE_ROOTS;
  p->rootsTree.nLevel = 1;
  p->bValid = 1;
  /* Zero the journal's first entry header so no stale bytes look valid. */
  {
    u8 aZero[JE_HDR];
    memset(aZero, 0, sizeof(aZero));
    rc = vlogWriteAt(p, s->iJrnlOff, aZero, sizeof(aZero));
  }
  /* Superblock B gets a copy of the empty superblock so that both are
  ** valid; the checkpoint then writes A with sequence 2. */
  if( rc==VLOG_OK ){
    sbEncode(s, a);
    rc = vlogWriteAt(p, SB_SIZE, a, SB_SIZE);
    p->iSbSlot = 1;             /* so the checkpoint writes A */
  }
  if( rc==VLOG_OK ) rc = vlogCheckpointInternal(p);
  return rc;
}

static int checkConfig(VlogStore *p){
  VlogConfig *c = &p->cfg;
  int n;
  if( c->nBucketSize==0 ) c->nBucketSize = 1024*1024;
  if( c->nNodeSize==0 ) c->nNodeSize = 64*1024;
  n = c->nBucketSize;
  if( n<MIN_BUCKET_SIZE || n>MAX_BUCKET_SIZE || (n & (n-1)) ){
    return vlogSetError(p, VLOG_RANGE,
        "bucket size %d: must be a power of two from %d to %d",
        n, MIN_BUCKET_SIZE, MAX_BUCKET_SIZE);
  }
  n = c->nNodeSize;
  if( n<MIN_NODE_SIZE || n>MAX_NODE_SIZE || (n & (n-1)) || n>c->nBucketSize
   || c->nBucketSize/n>MAX_REGIONS ){
    return vlogSetError(p, VLOG_RANGE,
        "node size %d: must be a power of two from %d to %d, at most the "
        "bucket size and at least 1/%d of it", n, MIN_NODE_SIZE, MAX_NODE_SIZE,
        MAX_REGIONS);
  }
  if( c->eSync<VLOG_SYNC_OFF || c->eSync>VLOG_SYNC_FULL ){
    return vlogSetError(p, VLOG_RANGE, "sync level %d: must be 0, 1 or 2", c->eSync);
  }
  if( c->nCacheSize<0 || c->nAutoCheckpoint<0 || c->nBusyTimeout<0
   || c->nMmapSize<0 ){
    return vlogSetError(p, VLOG_RANGE, "negative cache size, checkpoint "
                        "threshold, busy timeout or mmap size");
  }
  return VLOG_OK;
}

/*
** Open the file: read-write (creating it when bCreate) unless the handle
** is read-only.  A file that exists but cannot be opened for writing (its
** permissions, read-only media) is opened read-only, and so is the
** handle.  A directory, or anything but a regular file, is refused by the
** env before it is opened (io.h).
*/
static int storeOpenFile(VlogStore *p){
  VlogEnv *pEnv = p->pEnv;
  const char *zPath = p->zPath;
  int rc, iErrno;
  errno = 0;
  if( p->cfg.bReadOnly ){
    rc = pEnv->xOpen(pEnv, zPath, VLOG_OPEN_READONLY, &p->pFile);
  }else{
    rc = pEnv->xOpen(pEnv, zPath, p->cfg.bCreate ? VLOG_OPEN_CREATE : 0, &p->pFile);
    if( rc==VLOG_CANTOPEN
     && pEnv->xOpen(pEnv, zPath, VLOG_OPEN_READONLY, &p->pFile)==VLOG_OK ){
      p->cfg.bReadOnly = 1;
      p->zReadOnly = "the file cannot be opened for writing (its permissions, "
                     "or read-only media)";
      rc = VLOG_OK;
    }
  }
  iErrno = errno;             /* env.xOpen keeps it as open() left it */
  switch( rc ){
    case VLOG_OK:
      return VLOG_OK;
    case VLOG_CANTOPEN_ISDIR:
      return vlogSetError(p, rc, "%s is a directory, not a vlog store", zPath);
    case VLOG_CANTOPEN_NOTREG:
      return vlogSetError(p, rc, "%s is not a regular file (a device, FIFO or "
                          "socket), not a vlog store", zPath);
    case VLOG_NOMEM:
      return vlogSetError(p, rc, 0);
  }
  /* the operating system's reason, when it gave one */
  return vlogSetError(p, rc, "cannot open %s: %s%s", zPath,
      iErrno ? strerror(iErrno) : vlogErrName(rc),
      (p->cfg.bCreate || p->cfg.bReadOnly) ? "" : " (and create is off)");
}

/*
** Is the file a store, or empty to become one?  Told from its first bytes
** before anything is written or created beside it (the -shm, whose first
** mapping writes to it), so that pointing a handle at a file of another
** kind changes nothing, not even the -shm of a live SQLite database in WAL
** mode.  A store that another handle is creating has zeros where
** superblock A goes until it is done (storeCreate, under EXCLUSIVE): zeros
** there are looked at again under SHARED.
*/
static int storeCheckFile(VlogStore *p){
  static const u8 aZero[16] = {0};
  u8 a[2][SB_SIZE];
  i64 nSize = 0;
  int bLocked = 0;
  int rc, i;
  while( 1 ){
    rc = p->pEnv->xSize(p->pFile, &nSize);
    if( rc ){
      rc = vlogSetError(p, rc, "cannot stat %s (%s)", p->zPath, vlogErrName(rc));
      break;
    }
    if( nSize==0 ){
      if( p->cfg.bReadOnly || !p->cfg.bCreate ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is empty, not a vlog store", p->zPath);
      }
      break;
    }
    for(i=0; rc==VLOG_OK && i<2; i++){
      rc = p->pEnv->xRead(p->pFile, (i64)i*SB_SIZE, a[i], SB_SIZE);
      if( rc==VLOG_IOERR_SHORT_READ ) rc = VLOG_OK;   /* zero-filled */
    }
    if( rc ){
      rc = vlogSetError(p, rc, "cannot read %s (%s)", p->zPath, vlogErrName(rc));
      break;
    }
    if( memcmp(a[0], SB_MAGIC, 16)==0 || memcmp(a[1], SB_MAGIC, 16)==0 ){
      /* a store of another format is refused before the -shm is made */
      for(i=0; rc==VLOG_OK && i<2; i++){
        Superblock s;
        char zWhy[128];
        if( sbDecode(a[i], SB_SIZE, &s, zWhy, sizeof(zWhy))==VLOG_FORMAT ){
          rc = formatError(p, zWhy);
        }
      }
      break;
    }
    if( bLocked || memcmp(a[0], aZero, 16)!=0 || p->cfg.bImmutable ){
      if( memcmp(a[0], "SQLite format 3", 16)==0 ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is a SQLite database, not a vlog "
                          "store", p->zPath);
      }else if( nSize<2*SB_SIZE ){
        rc = vlogSetError(p, VLOG_NOTADB, "%s is not a vlog store: %lld bytes "
                          "is too small for one", p->zPath, (long long)nSize);
      }else{
        rc = vlogSetError(p, VLOG_NOTADB, "%s is not a vlog store (no vlog "
                          "superblock at offset 0 or 4096)", p->zPath);
      }
      break;
    }
    rc = vlogStoreLock(p, VLOG_LOCK_SHARED);
    if( rc ) break;
    bLocked = 1;
  }
  if( bLocked ){
    int rc2 = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc==VLOG_OK && rc2 ){
      rc = vlogSetError(p, rc2, "cannot unlock %s (%s)", p->zPath, vlogErrName(rc2));
    }
  }
  return rc;
}

int vlogStoreOpen(
  VlogEnv *pEnv,
  const char *zPath,
  const VlogConfig *pConfig,
  VlogStore **ppStore
){
  VlogStore *p;
  int rc;
  i64 nSize = 0;

  *ppStore = 0;
  p = (VlogStore*)vlogMallocZero(pEnv, sizeof(VlogStore));
  if( p==0 ) return VLOG_NOMEM;
  *ppStore = p;
  p->pEnv = pEnv;
  if( pConfig ){
    p->cfg = *pConfig;
  }else{
    vlogConfigDefault(&p->cfg);
  }
  p->zPath = vlogStrdup(pEnv, zPath);
  if( p->zPath==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  rc = checkConfig(p);
  if( rc ) return rc;

  if( p->cfg.bImmutable ) p->cfg.bReadOnly = 1;
  rc = storeOpenFile(p);
  if( rc==VLOG_OK ) rc = storeCheckFile(p);
  if( rc ) return rc;
  if( p->cfg.nMmapSize>0 ){
    rc = vlogStoreSetMmapSize(p, p->cfg.nMmapSize);
    if( rc ) return rc;
  }
  rc = vlogShmOpen(p);
  if( rc ) return rc;
  /* A published store loads without a lock, as a reader does. */
  rc = vlogStoreReadUnlocked(p);
  if( rc!=VLOG_NOTFOUND ){
    vlogShmReadEnd(p);
    return rc;
  }
  rc = vlogStoreLock(p, VLOG_LOCK_SHARED);
  if( rc==VLOG_OK ) rc = pEnv->xSize(p->pFile, &nSize);
  if( rc==VLOG_OK && nSize==0 ){
    if( p->cfg.bReadOnly || !p->cfg.bCreate ){
      rc = vlogSetError(p, VLOG_NOTADB, "%s is empty, not a vlog store", zPath);
    }else{
      /* Create under an EXCLUSIVE lock, and check again: another handle
      ** may have created it meanwhile. */
      rc = vlogStoreLock(p, VLOG_LOCK_EXCLUSIVE);
      if( rc==VLOG_OK ) rc = pEnv->xSize(p->pFile, &nSize);
      if( rc==VLOG_OK && nSize==0 ) rc = storeCreate(p);
      if( rc==VLOG_OK ) p->eTxn = 0;
      if( rc==VLOG_OK ){
        rc = vlogStoreUnlock(p, VLOG_LOCK_SHARED);
        if( rc ) rc = vlogSetError(p, rc, "cannot unlock %s (%s)", zPath, vlogErrName(rc));
      }else{
        (void)vlogStoreUnlock(p, VLOG_LOCK_SHARED);   /* rc says what failed */
      }
      if( rc==VLOG_OK && nSize!=0 ) rc = storeLoad(p);
    }
  }else if( rc==VLOG_OK ){
    rc = storeLoad(p);
  }
  if( rc==VLOG_OK ) vlogStoreTryPublish(p);
  if( rc==VLOG_OK ){
    rc = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc ) rc = vlogSetError(p, rc, "cannot unlock %s (%s)", zPath, vlogErrName(rc));
  }else{
    (void)vlogStoreUnlock(p, VLOG_LOCK_NONE);         /* rc says what failed */
  }
  return rc;
}

/*
** At close, a journal of CLOSE_CHECKPOINT bytes or more is checkpointed, so
** that the next open does not replay it (replay costs about what the
** commits did).  Only when automatic checkpoints are on, never waiting for
** a lock, and failures are ignored: the journal keeps every commit anyway.
*/
#define CLOSE_CHECKPOINT (1024*1024)
static void closeCheckpoint(VlogStore *p){
  int nBusy = p->cfg.nBusyTimeout;
  i64 nLimit = p->cfg.nAutoCheckpoint;
  if( p->eTxn!=0 || p->cfg.bReadOnly || nLimit<=0 || !p->bValid ) return;
  if( nLimit>CLOSE_CHECKPOINT ) nLimit = CLOSE_CHECKPOINT;
  p->cfg.nBusyTimeout = 0;
  if( vlogBegin(p, 0)==VLOG_OK ){
    int bBig = p->jrnl.nSize>=nLimit;
    (void)vlogRollback(p);            /* ends the read transaction */
    if( bBig ) (void)vlogCheckpoint(p);           /* ignored: see above */
  }
  p->cfg.nBusyTimeout = nBusy;
}

/*
** Close the handle: an open write transaction is rolled back (its error,
** or that of the unlock or the file's close, is returned), and every
** resource is freed whatever happens.
*/
int vlogStoreClose(VlogStore *p){
  int rc = VLOG_OK, rc2;
  if( p==0 ) return VLOG_OK;
  if( p->eTxn==2 ) rc = vlogRollback(p);
  if( p->pFile ) closeCheckpoint(p);
  while( p->pCursors ) vlogCursorClose(p->pCursors);
  vlogStoreReset(p);
  vlogTxnLogClear(p);
  if( p->pFile ){
    rc2 = vlogStoreUnlock(p, VLOG_LOCK_NONE);
    if( rc==VLOG_OK ) rc = rc2;
    vlogShmClose(p);
    rc2 = p->pEnv->xClose(p->pFile);
    if( rc==VLOG_OK ) rc = rc2;
  }
  vlogFree(p->pEnv, p->apHash);
  vlogAllocFree(p);
  vlogFree(p->pEnv, p->wb.a);
  vlogBufFree(p->pEnv, &p->wbJrnl);
  vlogJournalClose(p);
  vlogBufFree(p->pEnv, &p->getBuf);
  vlogBufFree(p->pEnv, &p->encBuf);
  vlogLogClose(p);
  vlogFree(p->pEnv, p->zPath);
  vlogFree(p->pEnv, p->zErr);
  vlogFree(p->pEnv, p);
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
  assert( p->eLock>=VLOG_LOCK_SHARED );
  if( !p->bValid ) return storeLoad(p);
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
  if( iSeq!=p->sb.iSeq ) return storeLoad(p);
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
    rc = storeLoad(p);
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
    rc = vlogBufPrintf(pEnv, &b, "tree %u%s%s%s: levels %u\n", pT->iTree,
        zName ? " (" : "", zName ? zName : "", zName ? ")" : "", pT->nLevel);
  }
  if( rc ){
    vlogBufFree(pEnv, &b);
    return vlogSetError(p, rc, 0);
  }
  *pzInfo = (char*)b.a;
  return VLOG_OK;
}
