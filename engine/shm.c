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
** two checkpoints old (store.c), a reader needs protection from
** checkpoints only, and it needs to know where the committed journal ends.
** The shared memory (VLOG_SHM_SIZE bytes; io.h says where it lives) tells
** both, in the manner of LMDB's reader table and SQLite's WAL index:
**
**      0  header, copy 0     64  header, copy 1    (SHM_HDR bytes each)
**    192  u32: the process id of the last handle to take RESERVED
**    256  reader slots, SHM_SLOT_SIZE bytes each, SHM_NSLOT of them
**
** Header: u32 magic, u32 version, u64 checkpoint sequence, u64 journal
** offset and u64 journal sequence of the next entry (the committed journal
** ends there).  The holder of the writer lock (RESERVED) publishes it after
** each commit and checkpoint, and at the start of each write transaction
** when it does not match the file (after a crash, or when the memory was
** just zeroed): copy 1 first, then copy 0.  A reader reads copy 0, then
** copy 1, and trusts them only when equal (SQLite's walIndexTryHdr).
**
** Slot: u32 owner process id (0: free), u32 unused, u64 the checkpoint
** sequence its read transaction uses (0: idle).  A handle claims a slot
** for its lifetime (compare-and-swap of the owner).  To begin reading it
** reads the header, stores the header's checkpoint in its slot, fences,
** and reads the header again: if the checkpoint is still the same, no
** checkpoint can now free what it reads, because...
**
** A checkpoint (EXCLUSIVE held, so after every earlier checkpoint was
** published) fences and scans the slots: the regions it may reuse are
** those the previous-but-one checkpoint used, and the journal buckets it
** frees are older still, so it proceeds only if no live reader uses a
** checkpoint older than the current one; otherwise VLOG_BUSY, naming the
** reader's process.  A reader that stored an older sequence after the scan
** sees the newer header on its second read and starts over.  (The
** automatic checkpoint after a commit just waits for a later commit.)
**
** A reader replays the journal only up to the published end, so a commit
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
** Liveness: a slot whose owner process no longer exists (xPidAlive) is
** freed by whoever meets it: its owner field only (compare-and-swap).  A
** slot's checkpoint is written by its owner alone, after the claim; a slot
** without an owner is ignored whatever its checkpoint says.  A slot of a live process is trusted; one
** left by a process whose id was reused keeps checkpoints waiting until
** every process has closed the store (the memory is zeroed then).
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
#define SHM_VERSION    1
#define SHM_HDR        32
#define SHM_WRITER     192
#define SHM_SLOT0      256
#define SHM_SLOT_SIZE  16
#define SHM_NSLOT      ((VLOG_SHM_SIZE - SHM_SLOT0) / SHM_SLOT_SIZE)

typedef struct ShmHdr ShmHdr;
struct ShmHdr {
  u32 magic;
  u32 version;
  u64 iCkpt;
  u64 iJrnlOff;
  u64 iJrnlSeq;
};

static void fence(void){ __atomic_thread_fence(__ATOMIC_SEQ_CST); }

static volatile u32 *slotPid(VlogStore *p, int i){
  return (volatile u32*)((volatile u8*)p->pShm + SHM_SLOT0 + i*SHM_SLOT_SIZE);
}
static volatile u64 *slotCkpt(VlogStore *p, int i){
  return (volatile u64*)((volatile u8*)p->pShm + SHM_SLOT0 + i*SHM_SLOT_SIZE + 8);
}

/* Read the header: 1 if valid, 0 if the two copies differ (being
** written), -1 if not published yet.  (A -shm file that the unix VFS
** reset keeps its first 3 bytes: a copy without the whole magic is not
** published, whatever the other says.) */
static int hdrRead(VlogStore *p, ShmHdr *pHdr){
  ShmHdr h1;
  memcpy(pHdr, (const void*)p->pShm, sizeof(ShmHdr));
  fence();
  memcpy(&h1, (const void*)((volatile u8*)p->pShm + 64), sizeof(ShmHdr));
  if( pHdr->magic!=SHM_MAGIC || h1.magic!=SHM_MAGIC
   || pHdr->version!=SHM_VERSION || pHdr->iCkpt==0 ){
    return -1;
  }
  return memcmp(pHdr, &h1, sizeof(ShmHdr))==0;
}

/* Free slot i if its owner iOwner (not this process) no longer runs.
** Returns the slot's owner afterwards.  Only the owner field changes: the
** checkpoint of a slot without an owner means nothing, and whoever claims
** the slot next clears it (slotClaim). */
static u32 slotReap(VlogStore *p, int i, u32 iOwner){
  if( iOwner && iOwner!=(u32)p->pEnv->xPid(p->pEnv)
   && !p->pEnv->xPidAlive(p->pEnv, (int)iOwner) ){
    __atomic_compare_exchange_n((u32*)slotPid(p, i), &iOwner, 0, 0,
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  }
  return *slotPid(p, i);
}

/* Claim a slot for this handle; free the slots of dead processes on the
** way if none is free.  No slot: the handle reads with file locks. */
static void slotClaim(VlogStore *p){
  int iPass, i;
  u32 iPid = (u32)p->pEnv->xPid(p->pEnv);
  for(iPass=0; iPass<2; iPass++){
    for(i=0; i<SHM_NSLOT; i++){
      u32 iOwner = *slotPid(p, i);
      if( iPass==1 ) iOwner = slotReap(p, i, iOwner);
      if( iOwner==0 ){
        u32 iZero = 0;
        if( __atomic_compare_exchange_n((u32*)slotPid(p, i), &iZero, iPid, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) ){
          /* Ours now: only now may its checkpoint be cleared.  Clearing
          ** it before the claim, as this once did, raced with another
          ** process claiming the same free slot: that process stored its
          ** pin, then this one's late store of 0 erased it (issue 12). */
          __atomic_store_n((u64*)slotCkpt(p, i), 0, __ATOMIC_SEQ_CST);
          p->iSlot = i;
          return;
        }
      }
    }
  }
}

/*
** Map the shared memory and claim a slot.  A read-only handle never maps
** it: it would create the -shm file, or write to it (the first process to
** map it zeroes it; a slot is a write), and read-only means that nothing
** is written.  A handle that cannot open or create it (a read-only
** directory without a -shm) becomes read-only and reads with file locks.
*/
int vlogShmOpen(VlogStore *p){
  void volatile *pMem = 0;
  int rc;
  int iTry = 0;
  p->iSlot = -1;
  if( p->pEnv->xShmMap==0 || p->cfg.bReadOnly ) return VLOG_OK;
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
    p->cfg.bReadOnly = 1;
    p->zReadOnly = rc==VLOG_NOTFOUND ? "its VFS has no shared memory" :
        "its shared memory (the -shm file beside it) cannot be opened or "
        "created (a read-only folder?)";
    return VLOG_OK;
  }
  p->pShm = pMem;
  slotClaim(p);
  return VLOG_OK;
}

void vlogShmClose(VlogStore *p){
  if( p->pShm && p->iSlot>=0 ){
    *slotCkpt(p, p->iSlot) = 0;
    fence();
    *slotPid(p, p->iSlot) = 0;
  }
  p->iSlot = -1;
  if( p->pShm ) p->pEnv->xShmUnmap(p->pFile);
  p->pShm = 0;
}

/*
** Begin a read transaction without locks: register the published
** checkpoint in this handle's slot.  VLOG_OK with *piCkpt, *piJrnlSeq set
** to the snapshot; VLOG_NOTFOUND if the handle must use file locks.
*/
int vlogShmReadBegin(VlogStore *p, u64 *piCkpt, u64 *piJrnlSeq){
  int i;
  if( p->pShm==0 || p->iSlot<0 ) return VLOG_NOTFOUND;
  for(i=0; i<1000; i++){
    ShmHdr h, h2;
    int eHdr;
    if( i>=100 ) p->pEnv->xSleep(p->pEnv, 1);
    eHdr = hdrRead(p, &h);
    if( eHdr<0 ) break;
    if( eHdr==0 ) continue;
    __atomic_store_n((u64*)slotCkpt(p, p->iSlot), h.iCkpt, __ATOMIC_SEQ_CST);
    fence();
    if( hdrRead(p, &h2)!=1 || h2.iCkpt!=h.iCkpt ) continue;
    *piCkpt = h2.iCkpt;
    *piJrnlSeq = h2.iJrnlSeq;
    return VLOG_OK;
  }
  *slotCkpt(p, p->iSlot) = 0;
  return VLOG_NOTFOUND;
}

void vlogShmReadEnd(VlogStore *p){
  if( p->pShm && p->iSlot>=0 ){
    __atomic_store_n((u64*)slotCkpt(p, p->iSlot), 0, __ATOMIC_SEQ_CST);
  }
}

/* Does the header describe the handle's state?  (Writer lock held.) */
int vlogShmIsCurrent(VlogStore *p){
  ShmHdr h;
  if( p->pShm==0 ) return 1;
  return hdrRead(p, &h)==1 && h.iCkpt==p->sb.iSeq && h.iJrnlOff==p->jrnl.iOff
      && h.iJrnlSeq==p->jrnl.iSeq;
}

/* Publish the handle's state (writer lock held, state current). */
void vlogShmPublish(VlogStore *p){
  ShmHdr h;
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
  if( p->pShm==0 ) return VLOG_OK;
  fence();
  for(i=0; i<SHM_NSLOT; i++){
    u64 iCkpt = __atomic_load_n((u64*)slotCkpt(p, i), __ATOMIC_SEQ_CST);
    u32 iOwner;
    if( iCkpt==0 || iCkpt>=p->sb.iSeq ) continue;
    iOwner = slotReap(p, i, *slotPid(p, i));
    if( iOwner==0 ) continue;
    return vlogSetError(p, VLOG_BUSY,
        "%s is locked: cannot checkpoint while a reader (process %u) still "
        "reads checkpoint %llu", p->zPath, iOwner, (unsigned long long)iCkpt);
  }
  return VLOG_OK;
}

/* Record this process as the writer (RESERVED held). */
void vlogShmSetWriter(VlogStore *p){
  if( p->pShm==0 ) return;
  __atomic_store_n((u32*)((volatile u8*)p->pShm + SHM_WRITER),
                   (u32)p->pEnv->xPid(p->pEnv), __ATOMIC_SEQ_CST);
}

/* The process id of the last writer, or 0 when unknown. */
u32 vlogShmWriter(VlogStore *p){
  if( p->pShm==0 ) return 0;
  return __atomic_load_n((u32*)((volatile u8*)p->pShm + SHM_WRITER), __ATOMIC_SEQ_CST);
}
