/*
** shm.c: the reader table in shared memory, so that a read transaction
** takes no lock and makes no system call.
**
** DESIGN NOTE
**
** Without it, a read transaction holds SHARED on the store file, and a
** commit takes EXCLUSIVE, waiting for every reader to leave: so readers
** block commits, and each read transaction costs four fcntl() calls through
** SQLite's unix VFS (about 2 us, a third of a point lookup).  Since commits
** only append (journal entries, value-log frames at offsets no committed
** pointer reaches) and checkpoints write nodes copy-on-write into regions
** two checkpoints old (alloc.c), a reader needs protection from
** checkpoints only, and it needs to know where the committed journal ends.
** The shared memory (VLOG_SHM_SIZE bytes; io.h says where it lives) tells
** both, in the manner of LMDB's reader table and SQLite's WAL index:
**
**      0  header, copy 0     64  header, copy 1    (SHM_HDR bytes each)
**    192  u32: the process id of the last handle to take RESERVED
**    256  reader slots, VLOG_SHM_SLOT_SIZE (32) bytes each, SHM_NSLOT
**         (1016) of them
**
** Header: u32 magic, u32 version (SHM_VERSION), u64 checkpoint sequence,
** u64 journal offset and u64 journal sequence of the next entry (the
** committed journal ends there).  The holder of the writer lock (RESERVED)
** publishes it after each commit and checkpoint, and at the start of each
** write transaction when it does not match the file (after a crash, or
** when the memory was just zeroed): copy 1 first, then copy 0.  A reader
** reads copy 0, then copy 1, and trusts them only when equal (SQLite's
** walIndexTryHdr) and of its own version.
**
** Slot (offsets in the slot; storeInt.h names them):
**      0  u32 tag, always SHM_TAG (1)       4  u32 owner's process id
**      8  u64 pinned checkpoint sequence (0: idle)
**     16  u32 tag, always SHM_TAG           20  u32 unused (0)
**     24  u64 pinned journal sequence: the read transaction sees the
**         journal entries before it (the header's sequence it started at)
** A slot pins a whole snapshot: the checkpoint whose trees it reads and
** how far into the journal after it.  The journal sequence is what value-
** log GC needs (vlogShmOldestPin): a segment emptied by the commit of
** entry N may still be reached by a reader whose snapshot stops at or
** before N.  The offset of that entry is not kept: the sequence names it,
** and a slot of 32 bytes keeps 1016 of them in the memory.
**
** Ownership and liveness.  A handle owns a slot for its lifetime.  Owning
** it is holding its lock byte (io.h, READER-SLOT LOCKS): a write lock
** that the kernel drops when the owner dies, SIGKILL included.  So:
**
**   - to claim slot i, a handle takes i's lock byte (xShmLock CLAIM, which
**     fails if any handle of any process holds it); only then does it
**     write its process id and zero the pins.  The first pass tries the
**     slots whose owner field is 0 (closed cleanly), the second every
**     slot: a slot whose byte nobody holds has a dead owner, whatever its
**     fields say, and is taken over as it is.
**   - only the holder of a slot's byte ever writes to the slot (but for
**     the tags, below).  No one "reaps" a dead owner's fields: a claimer
**     overwrites them, and a dead owner's pins are ignored because its
**     byte is free.  So no write of one process can erase the pin of
**     another, the race of issue 12 (a claimer zeroing the pin of the
**     slot another process had just claimed) included: there is no
**     window between taking the slot and clearing it in which another
**     process may own it.
**   - a slot's owner is alive iff its byte is held (xShmLock TEST).  The
**     process id is for messages only: in a PID namespace it may name no
**     process, or another one, and after the owner died it may have been
**     given to a new process.  kill(pid, 0), used before, took a reused
**     pid for a live reader (checkpoints waited until every process had
**     closed the store) and a reader in another PID namespace for a dead
**     one (its slot was taken, and its pins erased, under it).
**   - the bytes of one process are held through one descriptor of the
**     -shm per process, with the process's own bookkeeping of the bytes
**     it holds (io_posix.c): fcntl() locks belong to processes, so
**     without it two handles of one process could both claim a slot, and
**     one closing a descriptor would drop the other's locks.
**
** To begin reading, a handle reads the header, stores the header's
** journal sequence and then its checkpoint in its slot, fences, and reads
** the header again: if the checkpoint and the journal sequence are still
** the same, nothing can now free what it reads, because (for the
** journal sequence: value-log GC frees a segment through the journal when
** every pinned sequence is past the entry that emptied it, maint.c; a
** reader that read the header before that entry and stored its pin after
** the scan finds the header moved on, and starts over)...
**
** A checkpoint (EXCLUSIVE held, so after every earlier checkpoint was
** published) fences and scans the slots: the regions it may reuse are
** those the previous-but-one checkpoint used, and the journal buckets it
** frees are older still, so it proceeds only if no live reader pins a
** checkpoint older than the current one; otherwise VLOG_BUSY, naming the
** reader's process.  A reader that stored an older sequence after the scan
** sees the newer header on its second read and starts over.  (The
** automatic checkpoint after a commit just waits for a later commit.)
**
** The oldest snapshot pinned (vlogShmOldestPin) is the smallest
** checkpoint of a live slot, with the smallest journal sequence pinned
** with it.  A scan may pair a slot's checkpoint with the journal sequence
** of that reader's next snapshot (pins only move forward), or with 0 just
** as the reader ends: both are lower bounds, so never too new.
**
** A reader replays the journal only up to its pinned end, so a commit
** being written is invisible to it until published; its snapshot lasts
** until its transaction ends, while commits go on.  Upgrading such a read
** transaction to a write one is VLOG_BUSY if a commit came in between (its
** snapshot is out of date), as SQLITE_BUSY_SNAPSHOT in WAL mode.
**
** The writer's process id (offset 192) is only for messages: a handle
** that finds RESERVED busy names the process that holds it.  It is
** written after RESERVED is taken, so for a moment it may name the
** previous writer.  (SQLite's unix VFS can tell no lock holder's pid.)
**
** Layout versions.  The memory is zeroed when the first process maps it,
** so a new layout needs no conversion, only care while processes of an
** older build (layout 1: 16-byte slots of u32 owner, u32 unused, u64
** checkpoint, liveness by kill()) still have it mapped.  Such a process
** trusts only a header of its version, and so does this one: while the
** two alternate as writers, each republishes its own header and the
** other's readers use file locks.  Its slot claims are what could hurt:
** it takes any 16-byte unit whose first u32 is 0, and zeroes the unit's
** second u64 when it claims, reads and leaves.  Hence the tags: every
** process of this layout sets every tag word to SHM_TAG when it maps the
** memory (compare-and-swap from 0), so a layout-1 process finds no free
** slot and reads with file locks (SHARED: safe against every checkpoint).
** It takes a tag for the owner "process 1", which kill() always finds
** alive, so it never frees one; and since a layout-1 checkpoint reads
** every unit's second u64 as a pin, it sees this layout's pinned
** checkpoints where they are (and pinned journal sequences as older
** checkpoints: it waits, the safe way).  One window is left: a layout-1
** process that maps a just-zeroed -shm before any process of this layout
** sets the tags may claim units.  A unit whose tag is neither 0 nor
** SHM_TAG is such a claim: the slot holding it is never claimed here, and
** a pin in it counts as a live reader's, since its owner cannot be judged.
**
** Without shared memory (a read-only handle: it never maps it, see
** vlogShmOpen), or while the header is not yet published, or with no free
** slot, a read transaction falls back to SHARED on the file, as before:
** commits and checkpoints still take EXCLUSIVE, so such readers stay safe.
** An immutable handle (VlogConfig.bImmutable) takes no lock at all.  A
** handle that can write must have the shared memory: it would otherwise
** commit and checkpoint unseen by the readers that trust it; one that
** cannot map it is read-only.
*/
#include "storeInt.h"

#define SHM_MAGIC      0x4d48534c      /* "LSHM" */
#define SHM_VERSION    2
#define SHM_HDR        32
#define SHM_WRITER     192
#define SHM_TAG        1
#define SHM_NSLOT      ((VLOG_SHM_SIZE - VLOG_SHM_SLOT0) / VLOG_SHM_SLOT_SIZE)

typedef struct ShmHdr ShmHdr;
struct ShmHdr {
  u32 magic;
  u32 version;
  u64 iCkpt;
  u64 iJrnlOff;
  u64 iJrnlSeq;
};

static void fence(void){ __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* Field iField (VLOG_SHM_SLOT_*) of slot i. */
static u32 *slot32(VlogStore *p, int i, int iField){
  assert( i>=0 && i<SHM_NSLOT );
  return (u32*)((u8*)p->pShm + VLOG_SHM_SLOT0 + i*VLOG_SHM_SLOT_SIZE + iField);
}
static u64 *slot64(VlogStore *p, int i, int iField){
  return (u64*)slot32(p, i, iField);
}
static u64 load64(u64 *p){ return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store64(u64 *p, u64 v){ __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/* Read the header: 1 if valid, 0 if the two copies differ (being
** written), -1 if not published yet.  (A -shm file that the unix VFS
** reset keeps its first 3 bytes: a copy without the whole magic is not
** published, whatever the other says.) */
static int hdrRead(VlogStore *p, ShmHdr *pHdr){
  ShmHdr h1;
  assert( p->pShm!=0 );
  memcpy(pHdr, (const void*)p->pShm, sizeof(ShmHdr));
  fence();
  memcpy(&h1, (const void*)((volatile u8*)p->pShm + 64), sizeof(ShmHdr));
  if( pHdr->magic!=SHM_MAGIC || h1.magic!=SHM_MAGIC
   || pHdr->version!=SHM_VERSION || pHdr->iCkpt==0 ){
    return -1;
  }
  return memcmp(pHdr, &h1, sizeof(ShmHdr))==0;
}

/*
** Set slot i's tags where they are 0.  Returns 1 if both are SHM_TAG
** afterwards, 0 if a layout-1 process holds a unit of the slot (see the
** design note).
*/
static int slotTag(VlogStore *p, int i){
  static const int aTag[2] = { VLOG_SHM_SLOT_TAG0, VLOG_SHM_SLOT_TAG1 };
  int j, bOk = 1;
  assert( p->pShm!=0 && i>=0 && i<SHM_NSLOT );
  for(j=0; j<2; j++){
    u32 iZero = 0;
    u32 *pTag = slot32(p, i, aTag[j]);
    __atomic_compare_exchange_n(pTag, &iZero, SHM_TAG, 0,
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    if( __atomic_load_n(pTag, __ATOMIC_SEQ_CST)!=SHM_TAG ) bOk = 0;
  }
  return bOk;
}

/*
** The pin of slot i that may not be ignored: 0 if the slot pins nothing
** or its owner is dead, else its checkpoint, with its journal sequence in
** *piJrnlSeq and its owner's process id (for messages) in *piOwner.  A
** layout-1 unit's pin counts, owner and journal sequence unknown (0).
*/
static u64 slotLivePin(VlogStore *p, int i, u64 *piJrnlSeq, u32 *piOwner){
  u64 iCkpt = load64(slot64(p, i, VLOG_SHM_SLOT_CKPT));
  u64 iJrnlSeq = load64(slot64(p, i, VLOG_SHM_SLOT_JSEQ));
  u32 iTag0 = __atomic_load_n(slot32(p, i, VLOG_SHM_SLOT_TAG0), __ATOMIC_SEQ_CST);
  u32 iTag1 = __atomic_load_n(slot32(p, i, VLOG_SHM_SLOT_TAG1), __ATOMIC_SEQ_CST);
  *piJrnlSeq = 0;
  *piOwner = 0;
  if( (iTag0!=SHM_TAG && iTag0!=0) || (iTag1!=SHM_TAG && iTag1!=0) ){
    /* a layout-1 process's unit: its pin is the unit's second u64 */
    u64 iLegacy = (iTag0!=SHM_TAG && iTag0!=0) ? iCkpt : 0;
    if( iTag1!=SHM_TAG && iTag1!=0 && iJrnlSeq && (iLegacy==0 || iJrnlSeq<iLegacy) ){
      iLegacy = iJrnlSeq;
    }
    return iLegacy;
  }
  if( iCkpt==0 ) return 0;
  if( p->pEnv->xShmLock(p->pFile, i, VLOG_SHMLOCK_TEST)==VLOG_OK ) return 0;
  *piJrnlSeq = iJrnlSeq;
  *piOwner = __atomic_load_n(slot32(p, i, VLOG_SHM_SLOT_PID), __ATOMIC_SEQ_CST);
  return iCkpt;
}

/* Claim a slot for this handle (see the design note).  No slot: the
** handle reads with file locks. */
static void slotClaim(VlogStore *p){
  int iPass, i;
  u32 iPid = (u32)p->pEnv->xPid(p->pEnv);
  assert( p->pShm!=0 && p->iSlot<0 );         /* a handle holds one slot */
  /* every tag set (design note); whether a slot may be used is asked
  ** again as it is claimed */
  for(i=0; i<SHM_NSLOT; i++) (void)slotTag(p, i);
  for(iPass=0; iPass<2; iPass++){
    for(i=0; i<SHM_NSLOT; i++){
      if( iPass==0 && *(volatile u32*)slot32(p, i, VLOG_SHM_SLOT_PID)!=0 ) continue;
      /* busy, or an error (io.h: taken as held): try the next slot */
      if( p->pEnv->xShmLock(p->pFile, i, VLOG_SHMLOCK_CLAIM)!=VLOG_OK ) continue;
      if( !slotTag(p, i) ){
        /* should the release fail, the byte stays held by this process
        ** until it closes the -shm: the slot looks taken till then */
        (void)p->pEnv->xShmLock(p->pFile, i, VLOG_SHMLOCK_RELEASE);
        continue;
      }
      /* Ours now, and only now may its fields be written. */
      __atomic_store_n(slot32(p, i, VLOG_SHM_SLOT_PID), iPid, __ATOMIC_SEQ_CST);
      store64(slot64(p, i, VLOG_SHM_SLOT_CKPT), 0);
      store64(slot64(p, i, VLOG_SHM_SLOT_JSEQ), 0);
      p->iSlot = i;
      assert( p->iSlot<VLOG_SHM_NLOCK );
      return;
    }
  }
}

/*
** Map the shared memory and claim a slot.  A read-only handle never maps
** it: it would create the -shm file, or write to it (the first process to
** map it zeroes it; a slot is a write), and read-only means that nothing
** is written; unless it asks to (VlogConfig.bShmReadOnly: the VFS's
** read-only connections, which SQLite's WAL mode needs to share the -shm
** as a read-only connection of the unix VFS does).  A handle that cannot
** open or create it (a read-only directory without a -shm) becomes
** read-only and reads with file locks.
*/
int vlogShmOpen(VlogStore *p){
  void volatile *pMem = 0;
  int rc;
  int iTry = 0;
  assert( p->pShm==0 && p->pFile!=0 );
  p->iSlot = -1;
  if( p->pEnv->xShmMap==0 || p->cfg.bImmutable
   || (p->cfg.bReadOnly && !p->cfg.bShmReadOnly) ){
    return VLOG_OK;
  }
  /* SQLITE_BUSY: another process is resetting the -shm (the first to map
  ** it after every process had closed it).  That takes microseconds: a few
  ** quick retries whatever the busy timeout, then as it allows.  (Seen by
  ** the stress test when every process of a store starts at once.) */
  while( (rc = p->pEnv->xShmMap(p->pFile, &pMem))==VLOG_BUSY ){
    if( iTry<10 ){
      p->pEnv->xSleep(p->pEnv, 1000);
      iTry++;
    }else{
      int iBusy = iTry-10;
      if( !vlogBusyWait(p, &iBusy) ) break;
      iTry = iBusy+10;
    }
  }
  if( rc!=VLOG_OK ){
    if( rc==VLOG_BUSY ){
      return vlogSetError(p, rc, "%s-shm is being reset by another process", p->zPath);
    }
    if( rc==VLOG_NOMEM || rc==VLOG_IOERR_NOMEM ){
      return vlogSetError(p, VLOG_NOMEM, 0);
    }
    if( p->cfg.bReadOnly ) return VLOG_OK;    /* it reads with file locks */
    p->cfg.bReadOnly = 1;
    p->zReadOnly = rc==VLOG_NOTFOUND ? "its VFS has no shared memory" :
        "its shared memory (the -shm file beside it) cannot be opened or "
        "created (a read-only folder?)";
    return VLOG_OK;
  }
  assert( SHM_NSLOT<=VLOG_SHM_NLOCK );
  p->pShm = pMem;
  slotClaim(p);
  return VLOG_OK;
}

void vlogShmClose(VlogStore *p){
  if( p->pShm && p->iSlot>=0 ){
    vlogShmReadEnd(p);
    __atomic_store_n(slot32(p, p->iSlot, VLOG_SHM_SLOT_PID), 0, __ATOMIC_SEQ_CST);
    /* nothing to do about a failure: xShmUnmap below releases it anyway */
    (void)p->pEnv->xShmLock(p->pFile, p->iSlot, VLOG_SHMLOCK_RELEASE);
  }
  p->iSlot = -1;
  if( p->pShm ) p->pEnv->xShmUnmap(p->pFile);
  p->pShm = 0;
}

/*
** Begin a read transaction without locks: pin the published snapshot in
** this handle's slot.  VLOG_OK with *piCkpt, *piJrnlSeq set to the
** snapshot (the checkpoint, and the journal sequence it ends before);
** VLOG_NOTFOUND if the handle must use file locks.
*/
int vlogShmReadBegin(VlogStore *p, u64 *piCkpt, u64 *piJrnlSeq){
  int i;
  assert( p->eTxn==0 && p->eLock==VLOG_LOCK_NONE );   /* a reader, no lock */
  if( p->pShm==0 || p->iSlot<0 ) return VLOG_NOTFOUND;
  assert( p->iSlot<SHM_NSLOT );
  for(i=0; i<1000; i++){
    ShmHdr h, h2;
    int eHdr;
    if( i>=100 ) p->pEnv->xSleep(p->pEnv, 1);
    eHdr = hdrRead(p, &h);
    if( eHdr<0 ) break;
    if( eHdr==0 ) continue;
    /* the journal sequence first: a scan that sees the checkpoint sees
    ** this sequence or a later pin's (design note) */
    store64(slot64(p, p->iSlot, VLOG_SHM_SLOT_JSEQ), h.iJrnlSeq);
    store64(slot64(p, p->iSlot, VLOG_SHM_SLOT_CKPT), h.iCkpt);
    fence();
    if( hdrRead(p, &h2)!=1 || h2.iCkpt!=h.iCkpt || h2.iJrnlSeq!=h.iJrnlSeq ) continue;
    assert( h.iCkpt>0 );         /* hdrRead: a published header has one */
    *piCkpt = h.iCkpt;
    *piJrnlSeq = h.iJrnlSeq;
    return VLOG_OK;
  }
  vlogShmReadEnd(p);
  return VLOG_NOTFOUND;
}

void vlogShmReadEnd(VlogStore *p){
  if( p->pShm && p->iSlot>=0 ){
    store64(slot64(p, p->iSlot, VLOG_SHM_SLOT_CKPT), 0);
    store64(slot64(p, p->iSlot, VLOG_SHM_SLOT_JSEQ), 0);
  }
}

/* Does the header describe the handle's state?  (Writer lock held.) */
int vlogShmIsCurrent(VlogStore *p){
  ShmHdr h;
  assert( p->eLock>=VLOG_LOCK_SHARED );      /* the state is the file's */
  if( p->pShm==0 ) return 1;
  return hdrRead(p, &h)==1 && h.iCkpt==p->sb.iSeq && h.iJrnlOff==p->jrnl.iOff
      && h.iJrnlSeq==p->jrnl.iSeq;
}

/* Publish the handle's state (writer lock held, state current). */
void vlogShmPublish(VlogStore *p){
  ShmHdr h;
  /* only the writer publishes, a state the file holds */
  assert( p->eLock>=VLOG_LOCK_RESERVED && p->bValid && !p->cfg.bReadOnly );
  assert( p->sb.iSeq>0 && p->jrnl.iSeq>=p->sb.iJrnlSeq );
  if( p->pShm==0 ) return;
  h.magic = SHM_MAGIC;
  h.version = SHM_VERSION;
  h.iCkpt = p->sb.iSeq;
  h.iJrnlOff = p->jrnl.iOff;
  h.iJrnlSeq = p->jrnl.iSeq;
  fence();
  memcpy((void*)((volatile u8*)p->pShm + 64), &h, sizeof(h));
  fence();
  memcpy((void*)p->pShm, &h, sizeof(h));
  fence();
}

/*
** Before a checkpoint overwrites what the previous-but-one checkpoint
** used (EXCLUSIVE held): VLOG_BUSY if a live reader still reads a
** checkpoint older than the current one.
*/
int vlogShmCheckReaders(VlogStore *p){
  int i;
  assert( p->eLock==VLOG_LOCK_EXCLUSIVE );   /* before a checkpoint */
  if( p->pShm==0 ) return VLOG_OK;
  fence();
  for(i=0; i<SHM_NSLOT; i++){
    u32 iOwner;
    u64 iJrnlSeq;
    u64 iCkpt = slotLivePin(p, i, &iJrnlSeq, &iOwner);
    if( iCkpt==0 || iCkpt>=p->sb.iSeq ) continue;
    if( iOwner==0 ){
      return vlogSetError(p, VLOG_BUSY,
          "%s is locked: cannot checkpoint while a reader of an older vlog "
          "build (reader table layout 1) still reads checkpoint %llu",
          p->zPath, (unsigned long long)iCkpt);
    }
    return vlogSetError(p, VLOG_BUSY,
        "%s is locked: cannot checkpoint while a reader (process %u) still "
        "reads checkpoint %llu", p->zPath, iOwner, (unsigned long long)iCkpt);
  }
  return VLOG_OK;
}

/*
** The oldest snapshot that a live reader pins: VLOG_OK with its
** checkpoint sequence and the oldest journal sequence pinned with it (the
** reader sees the entries before it; 0: unknown, take every entry as
** pinned), VLOG_NOTFOUND (both 0) when no reader pins one or the handle
** has no reader table.  Every live slot counts, those of this process's
** handles included; a handle that reads with file locks (no slot) holds
** SHARED, which no commit can get past, so it pins nothing a commit frees.
** For value-log GC, which must not free what a pinned snapshot reaches.
*/
int vlogShmOldestPin(VlogStore *p, u64 *piCkpt, u64 *piJrnlSeq){
  int i;
  *piCkpt = 0;
  *piJrnlSeq = 0;
  if( p->pShm==0 ) return VLOG_NOTFOUND;
  fence();
  for(i=0; i<SHM_NSLOT; i++){
    u32 iOwner;
    u64 iJrnlSeq = 0;
    u64 iCkpt = slotLivePin(p, i, &iJrnlSeq, &iOwner);
    if( iCkpt==0 ) continue;
    if( *piCkpt==0 || iCkpt<*piCkpt || (iCkpt==*piCkpt && iJrnlSeq<*piJrnlSeq) ){
      *piCkpt = iCkpt;
      *piJrnlSeq = iJrnlSeq;
    }
  }
  return *piCkpt ? VLOG_OK : VLOG_NOTFOUND;
}

/*
** Slot i as the tests and tools see it: VLOG_OK and *pSlot filled, or
** VLOG_NOTFOUND (no reader table, or no slot i).
*/
int vlogShmSlotInfo(VlogStore *p, int i, VlogShmSlot *pSlot){
  memset(pSlot, 0, sizeof(*pSlot));
  if( p->pShm==0 || i<0 || i>=SHM_NSLOT ) return VLOG_NOTFOUND;
  pSlot->iOwner = __atomic_load_n(slot32(p, i, VLOG_SHM_SLOT_PID), __ATOMIC_SEQ_CST);
  pSlot->iCkpt = load64(slot64(p, i, VLOG_SHM_SLOT_CKPT));
  pSlot->iJrnlSeq = load64(slot64(p, i, VLOG_SHM_SLOT_JSEQ));
  pSlot->bLive = p->pEnv->xShmLock(p->pFile, i, VLOG_SHMLOCK_TEST)!=VLOG_OK;
  pSlot->bMine = i==p->iSlot;
  return VLOG_OK;
}

/* Number of reader slots. */
int vlogShmSlotCount(void){ return SHM_NSLOT; }

/*
** Tests only: write iPid as slot i's owner, as a process in another PID
** namespace or a process that reused a dead owner's id would appear.
*/
void vlogShmTestSetOwner(VlogStore *p, int i, u32 iPid){
  if( p->pShm && i>=0 && i<SHM_NSLOT ){
    __atomic_store_n(slot32(p, i, VLOG_SHM_SLOT_PID), iPid, __ATOMIC_SEQ_CST);
  }
}

/* Record this process as the writer (RESERVED held). */
void vlogShmSetWriter(VlogStore *p){
  assert( p->eLock>=VLOG_LOCK_RESERVED );
  if( p->pShm==0 ) return;
  __atomic_store_n((u32*)((volatile u8*)p->pShm + SHM_WRITER),
                   (u32)p->pEnv->xPid(p->pEnv), __ATOMIC_SEQ_CST);
}

/* The process id of the last writer, or 0 when unknown. */
u32 vlogShmWriter(VlogStore *p){
  if( p->pShm==0 ) return 0;
  return __atomic_load_n((u32*)((volatile u8*)p->pShm + SHM_WRITER), __ATOMIC_SEQ_CST);
}
